/**
 * The shapes the Coordinator emits and returns: peer events and handler events.
 * Types only. Main thread (what the embedding code sees), not a hot path.
 */
import type { RemoteVersion } from '../messages.js';

/** A handler module's post, as the coordinator emits it ('handler' event). */
export interface HandlerEvent {
  shard: number;
  value: unknown;
}

/** A user handler threw ('handlerError' event; the first few per shard, all counted in stats). */
export interface HandlerErrorEvent {
  shard: number;
  /** The peer the handler was called for, -1 for post/stop. */
  peer: number;
  /** The command, event ('ready', 'close', 'stop') or action ('post', 'send inv') that failed. */
  command: string;
  message: string;
  /** Errors in this shard's task so far. */
  errors: number;
}

export type PeerEvent =
  | { type: 'connected'; peer: number; address: string; shard: number; inbound?: boolean }
  /** `transport`: always set by the coordinator (optional in the type for events built elsewhere). */
  | { type: 'ready'; peer: number; address: string; shard: number; remote: RemoteVersion; transport?: 'v1' | 'v2' }
  /** `transport`: what the connection used (absent for a connect that failed or a dead shard's peer). */
  | { type: 'gone'; peer: number; address: string; shard: number; reason: string; detail: string; wasReady: boolean; stats?: Record<string, unknown>; transport?: 'v1' | 'v2' };
