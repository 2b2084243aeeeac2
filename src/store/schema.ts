/**
 * The tables of a run directory (the file contract in README.md here): the staging tables of the
 * open part (a DuckDB file) and the SELECT that turns each into its Parquet part. Observations are
 * staged compactly (kind and inventory type as numbers) and named in SQL at export, inside
 * DuckDB's own threads, so the main thread appends as little as possible per row.
 * Any thread, cold path; no I/O here.
 */
import { InvType } from '../protocol/constants.js';
import { Kind, KIND_NAMES } from '../observe/kinds.js';

/** The four tables of every part, in export order. */
export const TABLES = ['observations', 'peers', 'items', 'timeline'] as const;
export type TableName = (typeof TABLES)[number];

/**
 * The file contract: every table's Parquet columns and their DuckDB types, as the export writes
 * them (README.md lists them with their units). The report reads its columns from here, the
 * report's test fixtures write exactly this, and a store test checks the exported files against it.
 */
export const PARQUET_SCHEMA = {
  observations: { time: 'DOUBLE', peer: 'UINTEGER', address: 'VARCHAR', kind: 'VARCHAR', inv_type: 'VARCHAR', item_kind: 'VARCHAR', hash: 'VARCHAR', shard: 'UTINYINT' },
  peers: {
    peer: 'UINTEGER',
    address: 'VARCHAR',
    network: 'VARCHAR',
    port: 'UINTEGER',
    inbound: 'BOOLEAN',
    transport: 'VARCHAR',
    user_agent: 'VARCHAR',
    version: 'INTEGER',
    services: 'VARCHAR',
    start_height: 'INTEGER',
    connected_at: 'DOUBLE',
    ready_at: 'DOUBLE',
    closed_at: 'DOUBLE',
    close_reason: 'VARCHAR',
    close_detail: 'VARCHAR',
    ping_rtt_ms_min: 'DOUBLE',
    ping_rtt_ms_median: 'DOUBLE',
    ping_rtt_ms_max: 'DOUBLE',
    bytes_in: 'UBIGINT',
    bytes_out: 'UBIGINT',
    msgs_in: 'UBIGINT',
    msgs_out: 'UBIGINT',
    by_command: 'VARCHAR',
    misbehaviour: 'VARCHAR',
  },
  items: {
    hash: 'VARCHAR',
    item_kind: 'VARCHAR',
    first_seen: 'DOUBLE',
    first_peer: 'UINTEGER',
    announcing_peers: 'UINTEGER',
    peers_at_first_seen: 'UINTEGER',
    t50: 'DOUBLE',
    t90: 'DOUBLE',
    t99: 'DOUBLE',
  },
  timeline: { time: 'DOUBLE', peers_connected: 'UINTEGER', peers_ready: 'UINTEGER', inv_entries: 'UBIGINT', drops: 'UBIGINT' },
} as const satisfies Record<TableName, Record<string, string>>;

/** Staging DDL per table (the open part's DuckDB file). */
export const STAGING_DDL: Record<TableName, string> = {
  observations: 'time DOUBLE, peer UINTEGER, address VARCHAR, kind UTINYINT, inv_type UINTEGER, hash VARCHAR, shard UTINYINT',
  peers:
    'peer UINTEGER, address VARCHAR, network VARCHAR, port UINTEGER, inbound BOOLEAN, transport VARCHAR, user_agent VARCHAR, version INTEGER, ' +
    'services VARCHAR, start_height INTEGER, connected_at DOUBLE, ready_at DOUBLE, closed_at DOUBLE, close_reason VARCHAR, close_detail VARCHAR, ' +
    'ping_rtt_ms_min DOUBLE, ping_rtt_ms_median DOUBLE, ping_rtt_ms_max DOUBLE, bytes_in UBIGINT, bytes_out UBIGINT, msgs_in UBIGINT, msgs_out UBIGINT, ' +
    'by_command VARCHAR, misbehaviour VARCHAR',
  items:
    'hash VARCHAR, item_kind VARCHAR, first_seen DOUBLE, first_peer UINTEGER, announcing_peers UINTEGER, peers_at_first_seen UINTEGER, ' +
    't50 DOUBLE, t90 DOUBLE, t99 DOUBLE',
  timeline: 'time DOUBLE, peers_connected UINTEGER, peers_ready UINTEGER, inv_entries UBIGINT, drops UBIGINT',
};

/** The wire names of the inventory types (BIP37, BIP144, BIP152, BIP339), as stored in inv_type. */
export const INV_TYPE_SHORT_NAMES: Record<number, string> = {
  [InvType.MSG_TX]: 'tx',
  [InvType.MSG_BLOCK]: 'block',
  [InvType.MSG_FILTERED_BLOCK]: 'filtered_block',
  [InvType.MSG_CMPCT_BLOCK]: 'cmpct_block',
  [InvType.MSG_WTX]: 'wtx',
  [InvType.MSG_WITNESS_TX]: 'witness_tx',
  [InvType.MSG_WITNESS_BLOCK]: 'witness_block',
  [InvType.MSG_FILTERED_WITNESS_BLOCK]: 'filtered_witness_block',
};

/** Inventory types that announce a transaction; every other type (and headers/cmpctblock) is a block. */
const TX_TYPES = new Set<number>([InvType.MSG_TX, InvType.MSG_WTX, InvType.MSG_WITNESS_TX]);

/** 'tx' or 'block' for an observation's kind and inventory type. */
export function itemKindOf(kind: string, invType: number): 'tx' | 'block' {
  return kind !== 'headers' && kind !== 'cmpctblock' && TX_TYPES.has(invType) ? 'tx' : 'block';
}

/** The inventory type's short name as stored in Parquet (tx, wtx...; the protocol's invTypeName gives Core's MSG_TX...), or the number as text. */
export function invTypeShortName(t: number): string {
  return INV_TYPE_SHORT_NAMES[t] ?? String(t);
}

// Observations are staged with the ring's kind codes and named here (src/observe/kinds.ts).
const kindCase = `CASE kind ${Object.entries(KIND_NAMES)
  .map(([c, n]) => `WHEN ${c} THEN '${n}'`)
  .join(' ')} ELSE kind::VARCHAR END`;
const invCase = `CASE inv_type ${Object.entries(INV_TYPE_SHORT_NAMES)
  .map(([c, n]) => `WHEN ${c} THEN '${n}'`)
  .join(' ')} ELSE inv_type::VARCHAR END`;
const txList = [...TX_TYPES].join(', ');

/**
 * The SELECT that turns a staged table into its Parquet columns. A projection only (no join, no
 * sort), so rows keep their append order and DuckDB streams the export.
 */
export function exportSelect(table: TableName, source: string): string {
  if (table !== 'observations') return `SELECT * FROM ${source}`;
  return (
    `SELECT time, peer, address, ${kindCase} AS kind, ${invCase} AS inv_type, ` +
    `CASE WHEN kind = ${Kind.INV} AND inv_type IN (${txList}) THEN 'tx' ELSE 'block' END AS item_kind, ` +
    `hash, shard FROM ${source}`
  );
}
