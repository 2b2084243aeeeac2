/**
 * Wire error statuses and the coded error class.
 * Hot-path decoders never throw: they return or record a numeric status from `Status`.
 * Cold wrappers (tests, CLI, fixtures) turn a status into a `WireError` with a stable `code`.
 * Pure module: runs on any thread, imports nothing.
 */

/** Numeric statuses. 0 is success; every other value has a stable string code in `statusCode`. */
export const Status = {
  OK: 0,
  /** The input ended before the structure did. Inside a frame this is malformed payload. */
  TRUNCATED: 1,
  /** A CompactSize was not in its shortest form (Bitcoin Core: "non-canonical ReadCompactSize()"). */
  NON_CANONICAL: 2,
  /** A CompactSize count/length above MAX_SIZE (0x02000000), Bitcoin Core serialize.h. */
  SIZE_TOO_LARGE: 3,
  /** Bytes left over after the message was fully decoded. */
  TRAILING_BYTES: 4,
  /** More items than Bitcoin Core accepts for this message (inv 50,000, addr 1,000, headers 2,000 ...). */
  TOO_MANY_ITEMS: 5,
  /** A string or byte field longer than its limit (user agent 256, addrv2 address 512 ...). */
  TOO_LONG: 6,
  /** A field whose value is not allowed (a bool other than 0/1, a wrong BIP155 address length ...). */
  BAD_VALUE: 7,

  // Framing (src/transport): see the disconnect-or-count table in src/transport/README.md.
  BAD_MAGIC: 16,
  BAD_COMMAND: 17,
  OVERSIZE: 18,
  BAD_CHECKSUM: 19,
  UNKNOWN_COMMAND: 20,

  // BIP324 v2 transport (src/transport/v2): see the v2 rows of src/transport/README.md.
  /** No garbage terminator within 4,095 garbage bytes + 16 (wrong key, not BIP324, or hostile). */
  V2_NO_TERMINATOR: 21,
  /** A packet failed Poly1305 authentication (tampering, desync, wrong key): fatal. */
  V2_AUTH: 22,
  /** A packet's contents length over 1 + 12 + 4,000,000 (Core V2Transport MAX_CONTENTS_LEN): fatal. */
  V2_OVERSIZE: 23,
  /** A v1 `version` header under another network's magic reached a v2 responder: fatal. */
  V2_WRONG_NETWORK: 24,
  /** Empty contents, an unassigned short id or malformed long command: dropped and counted. */
  V2_BAD_MESSAGE_TYPE: 25,
} as const;

export type StatusValue = (typeof Status)[keyof typeof Status];

const CODES: Record<number, string> = {
  [Status.OK]: 'OK',
  [Status.TRUNCATED]: 'ERR_WIRE_TRUNCATED',
  [Status.NON_CANONICAL]: 'ERR_WIRE_NON_CANONICAL_COMPACTSIZE',
  [Status.SIZE_TOO_LARGE]: 'ERR_WIRE_SIZE_TOO_LARGE',
  [Status.TRAILING_BYTES]: 'ERR_WIRE_TRAILING_BYTES',
  [Status.TOO_MANY_ITEMS]: 'ERR_WIRE_TOO_MANY_ITEMS',
  [Status.TOO_LONG]: 'ERR_WIRE_TOO_LONG',
  [Status.BAD_VALUE]: 'ERR_WIRE_BAD_VALUE',
  [Status.BAD_MAGIC]: 'ERR_WIRE_BAD_MAGIC',
  [Status.BAD_COMMAND]: 'ERR_WIRE_BAD_COMMAND',
  [Status.OVERSIZE]: 'ERR_WIRE_OVERSIZE',
  [Status.BAD_CHECKSUM]: 'ERR_WIRE_CHECKSUM',
  [Status.UNKNOWN_COMMAND]: 'ERR_WIRE_UNKNOWN_COMMAND',
  [Status.V2_NO_TERMINATOR]: 'ERR_V2_NO_TERMINATOR',
  [Status.V2_AUTH]: 'ERR_V2_AUTH',
  [Status.V2_OVERSIZE]: 'ERR_V2_OVERSIZE',
  [Status.V2_WRONG_NETWORK]: 'ERR_V2_WRONG_NETWORK',
  [Status.V2_BAD_MESSAGE_TYPE]: 'ERR_V2_BAD_MESSAGE_TYPE',
};

/** The stable string code of a status, e.g. `ERR_WIRE_TRUNCATED`. */
export function statusCode(status: number): string {
  return CODES[status] ?? `ERR_WIRE_STATUS_${status}`;
}

/** A coded wire error: `code` is stable, `where` names the decoder, `offset` the byte it failed at. */
export class WireError extends Error {
  readonly code: string;
  readonly status: number;
  readonly offset: number;
  readonly where: string;

  constructor(status: number, where: string, offset = -1, detail?: string) {
    const code = statusCode(status);
    super(`${where}: ${code}${offset >= 0 ? ` at offset ${offset}` : ''}${detail ? ` (${detail})` : ''}`);
    this.name = 'WireError';
    this.code = code;
    this.status = status;
    this.offset = offset;
    this.where = where;
  }
}
