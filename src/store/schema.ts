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
/** A string as an SQL literal (DuckDB: single quotes, doubled inside). */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export const TABLES = ['observations', 'peers', 'items', 'timeline'] as const;
export type TableName = (typeof TABLES)[number];

/** The file contract's version, in every Parquet file's key-value metadata and run.json. */
export const SCHEMA_VERSION = 2;

/** The hive partition columns, in folder order (DIR/<table>/vantage=/date=/hour=/). */
export const PARTITION_COLUMNS = ['vantage', 'date', 'hour'] as const;

/** What the units are, as written into every file's key-value metadata. */
export const UNITS = 'TIMESTAMP: UTC, microseconds; *_ms: milliseconds';

/**
 * The file contract: every table's Parquet columns and their DuckDB types, as the export writes
 * them inside each file (the partition columns are the folders; README.md lists every column with
 * its unit, and a test checks that list against this). The report reads its columns from here,
 * and a store test checks the exported files against it.
 */
export const PARQUET_SCHEMA = {
  observations: {
    time: 'TIMESTAMPTZ',
    run_id: 'VARCHAR',
    peer: 'UINTEGER',
    node_id: 'UBIGINT',
    address: 'VARCHAR',
    kind: 'VARCHAR',
    inv_type: 'VARCHAR',
    item_kind: 'VARCHAR',
    id_type: 'VARCHAR',
    hash: 'VARCHAR',
    shard: 'UTINYINT',
  },
  peers: {
    run_id: 'VARCHAR',
    peer: 'UINTEGER',
    node_id: 'UBIGINT',
    address: 'VARCHAR',
    network: 'VARCHAR',
    port: 'UINTEGER',
    inbound: 'BOOLEAN',
    transport: 'VARCHAR',
    user_agent: 'VARCHAR',
    version: 'INTEGER',
    services: 'VARCHAR',
    start_height: 'INTEGER',
    connected_at: 'TIMESTAMPTZ',
    ready_at: 'TIMESTAMPTZ',
    closed_at: 'TIMESTAMPTZ',
    close_reason: 'VARCHAR',
    close_detail: 'VARCHAR',
    attempts: 'UINTEGER',
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
    run_id: 'VARCHAR',
    hash: 'VARCHAR',
    item_kind: 'VARCHAR',
    id_type: 'VARCHAR',
    first_seen: 'TIMESTAMPTZ',
    first_peer: 'UINTEGER',
    announcing_peers: 'UINTEGER',
    peers_at_first_seen: 'UINTEGER',
    t50_ms: 'DOUBLE',
    t90_ms: 'DOUBLE',
    t99_ms: 'DOUBLE',
  },
  timeline: {
    time: 'TIMESTAMPTZ',
    run_id: 'VARCHAR',
    peers_connected: 'UINTEGER',
    peers_ready: 'UINTEGER',
    inv_entries: 'UBIGINT',
    drops: 'UBIGINT',
    clock_source: 'VARCHAR',
    clock_state: 'VARCHAR',
    clock_offset_ms: 'DOUBLE',
    clock_error_ms: 'DOUBLE',
  },
} as const satisfies Record<TableName, Record<string, string>>;

/** Per table: the column whose UTC date and hour partition its rows (the event time). */
export const EVENT_TIME: Record<TableName, string> = {
  observations: 'time',
  peers: 'coalesce(connected_at, closed_at)',
  items: 'first_seen',
  timeline: 'time',
};

/** Staging DDL per table (the open part's DuckDB file): times as epoch ms DOUBLE, named and typed at export. */
export const STAGING_DDL: Record<TableName, string> = {
  observations: 'time DOUBLE, peer UINTEGER, address VARCHAR, kind UTINYINT, inv_type UINTEGER, hash VARCHAR, shard UTINYINT',
  peers:
    'peer UINTEGER, address VARCHAR, network VARCHAR, port UINTEGER, inbound BOOLEAN, transport VARCHAR, user_agent VARCHAR, version INTEGER, ' +
    'services VARCHAR, start_height INTEGER, connected_at DOUBLE, ready_at DOUBLE, closed_at DOUBLE, close_reason VARCHAR, close_detail VARCHAR, ' +
    'ping_rtt_ms_min DOUBLE, ping_rtt_ms_median DOUBLE, ping_rtt_ms_max DOUBLE, bytes_in UBIGINT, bytes_out UBIGINT, msgs_in UBIGINT, msgs_out UBIGINT, ' +
    'by_command VARCHAR, misbehaviour VARCHAR',
  items:
    'hash VARCHAR, item_kind VARCHAR, id_type VARCHAR, first_seen DOUBLE, first_peer UINTEGER, announcing_peers UINTEGER, peers_at_first_seen UINTEGER, ' +
    't50 DOUBLE, t90 DOUBLE, t99 DOUBLE',
  timeline:
    'time DOUBLE, peers_connected UINTEGER, peers_ready UINTEGER, inv_entries UBIGINT, drops UBIGINT, ' +
    'clock_source VARCHAR, clock_state VARCHAR, clock_offset_ms DOUBLE, clock_error_ms DOUBLE',
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

export type IdType = 'txid' | 'wtxid' | 'block';

/** What an announced hash is: MSG_WTX announces a wtxid, MSG_TX and MSG_WITNESS_TX a txid, the rest a block hash. */
export function idTypeOf(kind: string, invType: number): IdType {
  if (kind === 'headers' || kind === 'cmpctblock' || !TX_TYPES.has(invType)) return 'block';
  return invType === InvType.MSG_WTX ? 'wtxid' : 'txid';
}

/** 'tx' or 'block' for an observation's kind and inventory type. */
export function itemKindOf(kind: string, invType: number): 'tx' | 'block' {
  return idTypeOf(kind, invType) === 'block' ? 'block' : 'tx';
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

/** What every exported row carries besides its own columns. */
export interface ExportContext {
  vantage: string;
  runId: string;
  /** The chain (main, testnet...), part of node_id. */
  network: string;
  /** Added to every stored time (test-only clock shift, README "Test-only: a clock shift"). @default 0 */
  shiftMs?: number;
}

const sqlLit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The node_id key (README "Types and units"): recomputable from network and address in any SQL with SHA-256. */
export const NODE_ID_KEY = 'invscope-node-v1';

/** SQL for the node_id of an address column on a network. */
export function nodeIdSql(network: string, address: string): string {
  return `('0x' || left(sha256(${sqlLit(NODE_ID_KEY)} || chr(0) || ${sqlLit(network)} || chr(0) || ${address}), 16))::UBIGINT`;
}

/** SQL for a stored epoch-ms DOUBLE as TIMESTAMPTZ (microseconds kept). */
const ts = (col: string, shiftMs: number): string => `make_timestamptz(CAST(round((${col}${shiftMs ? ` + ${shiftMs}` : ''}) * 1000) AS BIGINT))`;

/** The partition columns of a staged row, from its event time (epoch ms). */
const partitionSql = (event: string, c: ExportContext): string => {
  const t = ts(event, c.shiftMs ?? 0);
  return `${sqlLit(c.vantage)} AS vantage, strftime(${t} AT TIME ZONE 'UTC', '%Y-%m-%d') AS date, strftime(${t} AT TIME ZONE 'UTC', '%H') AS hour`;
};

/**
 * The SELECT that turns a staged table into its Parquet columns (PARQUET_SCHEMA order) plus the
 * partition columns. Failed dials are aggregated here: one row per address and hour of the part.
 */
export function exportSelect(table: TableName, source: string, c: ExportContext): string {
  const sh = c.shiftMs ?? 0;
  const run = `${sqlLit(c.runId)} AS run_id`;
  const part = partitionSql(EVENT_TIME[table], c);
  switch (table) {
    case 'observations':
      return (
        `SELECT ${ts('time', sh)} AS time, ${run}, peer, ${nodeIdSql(c.network, 'address')} AS node_id, address, ${kindCase} AS kind, ${invCase} AS inv_type, ` +
        `CASE WHEN kind = ${Kind.INV} AND inv_type IN (${txList}) THEN 'tx' ELSE 'block' END AS item_kind, ` +
        `CASE WHEN kind <> ${Kind.INV} OR inv_type NOT IN (${txList}) THEN 'block' WHEN inv_type = ${InvType.MSG_WTX} THEN 'wtxid' ELSE 'txid' END AS id_type, ` +
        `hash, shard, ${part} FROM ${source}`
      );
    case 'peers': {
      const cols = (attempts: string, from: string): string =>
        `SELECT ${run}, peer, ${nodeIdSql(c.network, 'address')} AS node_id, address, network, port, inbound, transport, user_agent, version, services, start_height, ` +
        `${ts('connected_at', sh)} AS connected_at, ${ts('ready_at', sh)} AS ready_at, ${ts('closed_at', sh)} AS closed_at, close_reason, close_detail, ` +
        `${attempts} AS attempts, ping_rtt_ms_min, ping_rtt_ms_median, ping_rtt_ms_max, bytes_in, bytes_out, msgs_in, msgs_out, by_command, misbehaviour, ${part} FROM ${from}`;
      // Failed dials (never connected) to one address in one hour of the part: one row, counted.
      const failed =
        `(SELECT min(peer) AS peer, address, any_value(network) AS network, any_value(port) AS port, bool_or(inbound) AS inbound, any_value(transport) AS transport, ` +
        `NULL::VARCHAR AS user_agent, NULL::INTEGER AS version, NULL::VARCHAR AS services, NULL::INTEGER AS start_height, NULL::DOUBLE AS connected_at, NULL::DOUBLE AS ready_at, ` +
        `max(closed_at) AS closed_at, 'connect-failed' AS close_reason, arg_max(close_detail, closed_at) AS close_detail, count(*)::UINTEGER AS n, ` +
        `NULL::DOUBLE AS ping_rtt_ms_min, NULL::DOUBLE AS ping_rtt_ms_median, NULL::DOUBLE AS ping_rtt_ms_max, sum(bytes_in)::UBIGINT AS bytes_in, sum(bytes_out)::UBIGINT AS bytes_out, ` +
        `sum(msgs_in)::UBIGINT AS msgs_in, sum(msgs_out)::UBIGINT AS msgs_out, '{}' AS by_command, '{}' AS misbehaviour ` +
        `FROM ${source} WHERE connected_at IS NULL AND close_reason = 'connect-failed' GROUP BY address, floor((closed_at${sh ? ` + ${sh}` : ''}) / 3600000))`;
      return `${cols('1::UINTEGER', `${source} WHERE NOT (connected_at IS NULL AND close_reason = 'connect-failed')`)} UNION ALL ${cols('n', failed)}`;
    }
    case 'items':
      return (
        `SELECT ${run}, hash, item_kind, id_type, ${ts('first_seen', sh)} AS first_seen, first_peer, announcing_peers, peers_at_first_seen, ` +
        `t50 AS t50_ms, t90 AS t90_ms, t99 AS t99_ms, ${part} FROM ${source}`
      );
    case 'timeline':
      return (
        `SELECT ${ts('time', sh)} AS time, ${run}, peers_connected, peers_ready, inv_entries, drops, clock_source, clock_state, clock_offset_ms, clock_error_ms, ` +
        `${part} FROM ${source}`
      );
  }
}

/** The key-value metadata of every file of a table (DuckDB COPY's KV_METADATA struct). */
export function kvMetadataSql(table: TableName, c: ExportContext, version: string): string {
  const kv: Record<string, string> = { schema_version: String(SCHEMA_VERSION), table, vantage: c.vantage, run_id: c.runId, units: UNITS, invscope: version };
  return `{${Object.entries(kv).map(([k, v]) => `"${k}": ${sqlLit(v)}`).join(', ')}}`;
}
