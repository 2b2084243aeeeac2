/**
 * Close reasons and fault codes with their policy, as data: what a peer's bad input does (count
 * only, or disconnect) and what a close does to its address (retry, back off as a misbehaving
 * node, retry at once). One dialect: close reasons are kebab-case, fault codes UPPER_SNAKE (the
 * wire statuses' codes from src/protocol/errors.ts, the peer's and the pool's own beside them).
 * src/transport/README.md's disconnect-or-count table is checked against FAULTS by a test.
 * Any thread, imports nothing with side effects; read on cold paths (closes), never per frame.
 */

/** Why a peer was closed: stable strings (they land in run.json and the peers table's close_reason). */
export const CloseReason = {
  BAD_MAGIC: 'bad-magic',
  BAD_COMMAND: 'bad-command',
  OVERSIZE: 'oversize',
  /** BIP324: no garbage terminator in time (also a wrong key, or a peer that is not v2). */
  V2_NO_TERMINATOR: 'v2-no-terminator',
  /** BIP324: a packet failed authentication. */
  V2_AUTH: 'v2-auth',
  /** BIP324: a packet's contents over the limit. */
  V2_OVERSIZE: 'v2-oversize',
  /** BIP324 responder: a v1 version under another network's magic. */
  V2_WRONG_NETWORK: 'v2-wrong-network',
  HANDSHAKE_TIMEOUT: 'handshake-timeout',
  NO_VERSION: 'no-version',
  HANDSHAKE_OUT_OF_ORDER: 'handshake-out-of-order',
  MALFORMED_HANDSHAKE: 'malformed-handshake',
  OBSOLETE_VERSION: 'obsolete-version',
  SELF_CONNECTION: 'self-connection',
  PING_TIMEOUT: 'ping-timeout',
  IDLE_TIMEOUT: 'idle-timeout',
  SEND_STALLED: 'send-stalled',
  REMOTE_CLOSED: 'remote-closed',
  SOCKET_ERROR: 'socket-error',
  /** Closed by this side: the user, the coordinator, or a stopping shard (the detail says which). */
  LOCAL: 'local-close',
  /** The pool's record budget: a peer over it (src/pool/shard/guard.ts). */
  INV_FLOOD: 'inv-flood',
  /** A user handler module closed the peer (src/pool/shard/handlers.ts). */
  HANDLER: 'handler',
  /** The peer's shard thread died. */
  SHARD_DIED: 'shard-died',
  /** The connect failed (the connect error's code is the detail). */
  CONNECT_FAILED: 'connect-failed',
  /** The pool stopped before the peer's shard reported it closed. */
  STOP: 'stop',
} as const;

/** The detail of a `local-close` made by the pool (the reason stays `local-close`). */
export const LocalClose = {
  /** The coordinator asked (closePeer, or a connect it no longer wants). */
  COORDINATOR: 'coordinator',
  /** The shard is stopping. */
  STOP: 'stop',
} as const;

export type CloseReasonName = (typeof CloseReason)[keyof typeof CloseReason];

/**
 * What a close does to the address it was dialled at (the pool's address book):
 * - `retry`: a peer that completed its handshake waits retryAfterDropMs; one that did not backs
 *   off as a failed connect;
 * - `back-off`: before or after the handshake, the address backs off exponentially on its own
 *   count (`misbehaved`, not reset by a handshake), so a node that misbehaves (or speaks another
 *   network: bad magic) is not redialled every second;
 * - `retry-now`: not the peer's doing (its shard died, the pool stopped): eligible at once.
 */
export type ClosePolicy = 'retry' | 'back-off' | 'retry-now';

export const CLOSE_POLICY: Readonly<Record<CloseReasonName, ClosePolicy>> = {
  'bad-magic': 'back-off',
  'bad-command': 'back-off',
  oversize: 'back-off',
  'v2-no-terminator': 'retry',
  // A BIP324 failure is usually before the handshake (a failed connect either way); after it, as a drop.
  'v2-auth': 'retry',
  'v2-oversize': 'retry',
  'v2-wrong-network': 'retry',
  'handshake-timeout': 'retry',
  'no-version': 'retry',
  'handshake-out-of-order': 'back-off',
  'malformed-handshake': 'back-off',
  'obsolete-version': 'retry',
  'self-connection': 'retry',
  'ping-timeout': 'retry',
  'idle-timeout': 'retry',
  'send-stalled': 'back-off',
  'remote-closed': 'retry',
  'socket-error': 'retry',
  'local-close': 'retry',
  'inv-flood': 'back-off',
  handler: 'retry',
  'shard-died': 'retry-now',
  'connect-failed': 'retry',
  stop: 'retry-now',
};

/** The policy of a close reason; a reason outside the table (a user's own string) is `retry`. */
export function closePolicy(reason: string): ClosePolicy {
  return (CLOSE_POLICY as Record<string, ClosePolicy | undefined>)[reason] ?? 'retry';
}

/**
 * What a fault does to the peer:
 * - `disconnect`: counted and the peer closed (with the row's close reason);
 * - `count`: counted, the frame (or entries) dropped, the peer kept;
 * - `count, disconnect in handshake`: counted and dropped; a handshake message with it closes the
 *   peer as `malformed-handshake`.
 */
export type FaultPolicy = 'disconnect' | 'count' | 'count, disconnect in handshake';

export interface FaultRow {
  policy: FaultPolicy;
  /** The close reason when the fault disconnects. */
  close?: CloseReasonName;
}

/** Every fault code a peer's stats can count (PeerStats.faults), with its policy. */
export const FAULTS = {
  // Framing (src/transport/README.md, "Disconnect or count"; Bitcoin Core net.cpp).
  ERR_WIRE_BAD_MAGIC: { policy: 'disconnect', close: CloseReason.BAD_MAGIC },
  ERR_WIRE_BAD_COMMAND: { policy: 'disconnect', close: CloseReason.BAD_COMMAND },
  ERR_WIRE_OVERSIZE: { policy: 'disconnect', close: CloseReason.OVERSIZE },
  ERR_WIRE_CHECKSUM: { policy: 'count' },
  ERR_WIRE_UNKNOWN_COMMAND: { policy: 'count' },
  // Payloads (src/protocol decoders).
  ERR_WIRE_TRUNCATED: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_NON_CANONICAL_COMPACTSIZE: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_SIZE_TOO_LARGE: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_TRAILING_BYTES: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_TOO_MANY_ITEMS: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_TOO_LONG: { policy: 'count, disconnect in handshake' },
  ERR_WIRE_BAD_VALUE: { policy: 'count, disconnect in handshake' },
  // BIP324 (src/transport/README.md, the v2 rows; Bitcoin Core V2Transport).
  ERR_V2_NO_TERMINATOR: { policy: 'disconnect', close: CloseReason.V2_NO_TERMINATOR },
  ERR_V2_AUTH: { policy: 'disconnect', close: CloseReason.V2_AUTH },
  ERR_V2_OVERSIZE: { policy: 'disconnect', close: CloseReason.V2_OVERSIZE },
  ERR_V2_WRONG_NETWORK: { policy: 'disconnect', close: CloseReason.V2_WRONG_NETWORK },
  ERR_V2_BAD_MESSAGE_TYPE: { policy: 'count' },
  // The peer's state machine (Bitcoin Core net_processing.cpp).
  HANDSHAKE_OUT_OF_ORDER: { policy: 'disconnect', close: CloseReason.HANDSHAKE_OUT_OF_ORDER },
  DUPLICATE_VERSION: { policy: 'disconnect', close: CloseReason.HANDSHAKE_OUT_OF_ORDER },
  /** A message other than the handshake's before verack: Core ignores it; counted. */
  EARLY_MESSAGE: { policy: 'count' },
  UNEXPECTED_PONG: { policy: 'count' },
  // The pool's shard (src/pool/shard/guard.ts).
  INV_FLOOD: { policy: 'disconnect', close: CloseReason.INV_FLOOD },
  /** Core's addr rate limit: the addresses over it are dropped, the peer kept. */
  ADDR_RATE_LIMITED: { policy: 'count' },
} as const satisfies Record<string, FaultRow>;

export type FaultCode = keyof typeof FAULTS;

/** The fault codes by name, for call sites (`Fault.INV_FLOOD`), so no code is a literal string. */
export const Fault = Object.fromEntries(Object.keys(FAULTS).map((k) => [k, k])) as { readonly [K in FaultCode]: K };

/** The close reason of a fatal fault code, or the code itself when the table has none. */
export function faultClose(code: string): string {
  const row = (FAULTS as Record<string, FaultRow | undefined>)[code];
  return row?.close ?? code;
}
