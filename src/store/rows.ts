/**
 * The rows the store writes, as its callers build them: a peer session, a finalized item, a
 * second of the timeline, and what the store counted (the Parquet contract is schema.ts and
 * README.md here). Types only; imported by the writer, the aggregations and the tests.
 */
import type { IdType } from './schema.js';
import type { ClockSample } from './clock.js';

/** One peer session (the peers table). */
export interface PeerRow {
  peer: number;
  address: string;
  network: string;
  port: number;
  inbound: boolean;
  transport: string;
  user_agent: string | null;
  version: number | null;
  services: string | null;
  start_height: number | null;
  connected_at: number | null;
  ready_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
  close_detail: string | null;
  ping_rtt_ms_min: number | null;
  ping_rtt_ms_median: number | null;
  ping_rtt_ms_max: number | null;
  bytes_in: number;
  bytes_out: number;
  msgs_in: number;
  msgs_out: number;
  by_command: string;
  misbehaviour: string;
}

/** One finalized item (the items table). */
export interface ItemRow {
  hash: string;
  item_kind: 'tx' | 'block';
  id_type: IdType;
  first_seen: number;
  first_peer: number;
  announcing_peers: number;
  peers_at_first_seen: number;
  t50: number | null;
  t90: number | null;
  t99: number | null;
}

/** One second of the run (the timeline table). */
export interface TimelineRow {
  time: number;
  peers_connected: number;
  peers_ready: number;
  inv_entries: number;
  drops: number;
  /** The host clock's latest sync state (clock.ts); omitted: unknown. */
  clock?: ClockSample | null;
}

/** What the store counted. */
export interface StoreCounters {
  observations: number;
  peers: number;
  items: number;
  timeline: number;
  /** Rows refused after a write failure, or staged when it happened (nothing is retried). */
  lost: number;
  /** Rows refused because maxStagedRows were staged (the disk fell behind): the store never blocks. */
  shed: number;
  /** Commits of staged rows into the open part's file. */
  commits: number;
  /** Parts exported to Parquet. */
  parts: number;
}

