/**
 * The contract between the simulated network's model (model.ts: topology, gossip, trickling,
 * ground truth; pure, no sockets) and its server (server.ts: one loopback listener per node,
 * the real protocol to observers). Times are epoch milliseconds from `now()` (src/observe/clock.ts),
 * the same clock as the observer's receive timestamps. Runs in the simulator process.
 */

/** How a misbehaving node misbehaves towards observers (labelled in the ground truth). */
export type Misbehaviour =
  | 'bad-checksum'
  | 'bad-magic'
  | 'oversize'
  | 'garbage'
  | 'truncated'
  | 'slow-drip'
  | 'inv-flood'
  | 'tiny-flood'
  | 'no-handshake'
  | 'no-verack'
  | 'checksum-flood'
  | 'inv-storm'
  | 'addr-flood'
  | 'ping-flood'
  | 'command-flood'
  | 'never-reads';

/** The default mix (what `misbehaving` spreads round robin unless `misbehaviours` says otherwise). */
export const MISBEHAVIOURS: readonly Misbehaviour[] = [
  'bad-checksum',
  'bad-magic',
  'oversize',
  'garbage',
  'truncated',
  'slow-drip',
  'inv-flood',
  'tiny-flood',
  'no-handshake',
];

/**
 * Every mode: the default mix plus the hostile ones (test/hostile, bench/soak.ts):
 * a version but never a verack, bad checksums at a high rate, legal 50,000-entry invs back to
 * back, addr floods, ping floods, thousands of distinct unknown commands, a peer that never reads.
 */
export const ALL_MISBEHAVIOURS: readonly Misbehaviour[] = [
  ...MISBEHAVIOURS,
  'no-verack',
  'checksum-flood',
  'inv-storm',
  'addr-flood',
  'ping-flood',
  'command-flood',
  'never-reads',
];

/** One simulated node's identity, as its `version` shows it. */
export interface SimNodeInfo {
  index: number;
  /** Loopback address and port it listens on. */
  host: string;
  port: number;
  userAgent: string;
  services: bigint;
  startHeight: number;
  /** Protocol version it speaks (70016 for Core 22+, older for a few). */
  protocolVersion: number;
  misbehaviour: Misbehaviour | null;
}

export type ItemKind = 'tx' | 'block';

/** A transaction or block that originates somewhere in the network. */
export interface SimItem {
  /** Dense id, 0.. in order of origination. */
  id: number;
  kind: ItemKind;
  /** txid or block hash, 32 bytes, wire order. */
  hash: Uint8Array;
  /** wtxid for transactions (equal to the txid for legacy ones), 32 bytes wire order. */
  wtxid: Uint8Array;
  /** The serialized transaction or block (answers getdata). */
  raw: Uint8Array;
  /** For blocks: the 80-byte header. */
  header?: Uint8Array;
  origin: number;
  /** When it originated (epoch ms). */
  createdAt: number;
  /** For blocks: the height (the chain starts above BASE_HEIGHT in identity.ts). Added by model.ts. */
  height?: number;
}

/** The model's view of the world, as the server needs it. */
export interface SimModelEvents {
  /** Node `node` learned (validated) `item` at `t`: from here on it may announce it. */
  learn(node: number, item: SimItem, t: number): void;
  /** Node `node` left (online=false) or rejoined (online=true) the network at `t`. */
  churn(node: number, online: boolean, t: number): void;
}
