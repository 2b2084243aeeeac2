/**
 * The observation kinds, defined once: their numbers in the ring's records, their names in the
 * JavaScript API (`Observation.kind`), in Parquet and in SQL. The ring, the shard's tap, the
 * consumer queue, the store's schema and the report import them from here.
 * Any thread, no I/O.
 */

/** Ring record codes (src/observe/README.md: the R_KIND byte). 0 is never written. */
export const Kind = {
  /** An entry of an `inv` message (a tx by txid or wtxid, or a block). */
  INV: 1,
  /** A block announced by a `headers` message (after sendheaders). */
  HEADERS: 2,
  /** A block announced by a BIP152 `cmpctblock` (after sendcmpct with announce = 1). */
  CMPCTBLOCK: 3,
} as const;

export type KindCode = (typeof Kind)[keyof typeof Kind];

/** Each code's name: what `Observation.kind` says and what the observations table stores. */
export const KIND_NAMES = { [Kind.INV]: 'inv', [Kind.HEADERS]: 'headers', [Kind.CMPCTBLOCK]: 'cmpctblock' } as const satisfies Record<KindCode, string>;

export type ObservationKind = (typeof KIND_NAMES)[KindCode];

/** Every kind, as named; each one announces an item (so all of them count in the report). */
export const OBSERVATION_KINDS: readonly ObservationKind[] = Object.values(KIND_NAMES);

/** A ring code's name, or undefined for a byte that is not a kind. */
export function kindName(code: number): ObservationKind | undefined {
  return (KIND_NAMES as Record<number, ObservationKind>)[code];
}

/** Each name's code: what the store stages for an Observation's kind. */
export const KIND_CODES: Readonly<Record<ObservationKind, KindCode>> = { inv: Kind.INV, headers: Kind.HEADERS, cmpctblock: Kind.CMPCTBLOCK };
