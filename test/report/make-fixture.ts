/**
 * Test fixtures for `invscope report`: writes run directories in the store's file format
 * (run.json, observations/, peers/, items/, timeline/ as Parquet parts written by DuckDB with the
 * contract's column types; src/report/README.md) from rows given in code, and a simulated run:
 * the real simulator model (src/sim) on a manual clock with its ground truth (truth.jsonl),
 * observed by a stand-in observer whose receive delays are known. Test-only; never reads outside
 * the repository. `node dist/test/report/make-fixture.js DIR [--nodes N] [--seconds S]` writes a
 * simulated run to DIR (for looking at a report by hand).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SimModel } from '../../src/sim/model.js';
import { TruthWriter } from '../../src/sim/truth.js';
import { prng } from '../helpers.js';
import type { ItemRow, TimelineRow } from '../../src/store/rows.js';
import { PARQUET_SCHEMA } from '../../src/store/schema.js';

/** The contract's columns and types, per table: the store's one definition. */
export const SCHEMA = PARQUET_SCHEMA;
export type Table = keyof typeof SCHEMA;

export interface Obs {
  time: number;
  peer: number;
  address: string;
  kind: 'inv' | 'headers' | 'cmpctblock' | 'notfound';
  inv_type: string;
  item_kind: 'tx' | 'block';
  hash: string;
  shard: number;
}
export interface PeerRow {
  peer: number;
  address: string;
  user_agent: string;
  connected_at: number;
  ready_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
  misbehaviour: string | null;
  [k: string]: unknown;
}
// The items and timeline rows are the store's own (the file contract): one definition.
export type { ItemRow, TimelineRow };
export interface RunFixture {
  run?: Record<string, unknown> | null;
  observations: Obs[];
  peers: PeerRow[];
  items: ItemRow[];
  timeline: TimelineRow[];
}

/** A full peers row from the few fields the tests care about (the rest plausible constants). */
export function peerRow(p: Partial<PeerRow> & { peer: number; address: string }): PeerRow {
  const port = Number(p.address.slice(p.address.lastIndexOf(':') + 1));
  return {
    network: 'ipv4',
    port,
    inbound: false,
    transport: 'v1',
    user_agent: '/Satoshi:27.0.0/',
    version: 70016,
    services: '1033',
    start_height: 900000,
    connected_at: 0,
    ready_at: 0,
    closed_at: null,
    close_reason: null,
    close_detail: null,
    ping_rtt_ms_min: 0.2,
    ping_rtt_ms_median: 0.3,
    ping_rtt_ms_max: 0.5,
    bytes_in: 1000,
    bytes_out: 500,
    msgs_in: 10,
    msgs_out: 5,
    by_command: '{}',
    misbehaviour: '{}',
    ...p,
  } as PeerRow;
}

/** Writes one table's rows as Parquet parts (split into `parts` files) with the contract's types. */
export async function writeParts(dir: string, table: Table, data: readonly object[], parts = 1): Promise<void> {
  const sub = join(dir, table);
  mkdirSync(sub, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const cols = SCHEMA[table] as Record<string, string>;
    // Rows carry times as epoch ms and durations as t50/t90/t99 (the store's row types): stored
    // as TIMESTAMPTZ and t50_ms... like the store's export.
    const readType = (t: string): string => (t === 'TIMESTAMPTZ' ? 'DOUBLE' : t);
    const stored = Object.entries(cols)
      .map(([c, t]) => (t === 'TIMESTAMPTZ' ? `make_timestamptz(CAST(round(${c} * 1000) AS BIGINT)) AS ${c}` : c))
      .join(', ');
    const rowOf = (r: object): object => {
      const o = r as Record<string, unknown>;
      return table === 'items' ? { ...o, t50_ms: o.t50, t90_ms: o.t90, t99_ms: o.t99 } : o;
    };
    const per = Math.max(1, Math.ceil(data.length / parts));
    for (let i = 0; i < parts; i++) {
      const chunk = data.slice(i * per, (i + 1) * per);
      const file = join(sub, `part-${String(i).padStart(3, '0')}.parquet`);
      let select: string;
      if (chunk.length === 0) {
        select = `SELECT ${Object.entries(cols).map(([c, t]) => `NULL::${t} AS ${c}`).join(', ')} WHERE false`;
      } else {
        const tmp = `${file}.jsonl`;
        writeFileSync(tmp, chunk.map((r) => JSON.stringify(rowOf(r))).join('\n') + '\n');
        const spec = Object.entries(cols).map(([c, t]) => `${c}: '${readType(t)}'`).join(', ');
        select = `SELECT ${stored} FROM read_json('${tmp}', format = 'newline_delimited', columns = {${spec}})`;
      }
      await conn.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
      rmSync(`${file}.jsonl`, { force: true });
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Per table: the event-time column that partitions it and the columns that are times (epoch ms in the flat layout). */
const HIVE_TIMES: Record<Table, { event: string; times: string[]; renames: Record<string, string> }> = {
  observations: { event: 'time', times: ['time'], renames: {} },
  peers: { event: 'connected_at', times: ['connected_at', 'ready_at', 'closed_at'], renames: {} },
  items: { event: 'first_seen', times: ['first_seen'], renames: { t50: 't50_ms', t90: 't90_ms', t99: 't99_ms' } },
  timeline: { event: 'time', times: ['time'], renames: {} },
};

/**
 * Rewrites a flat run directory (writeRunDir) in the partitioned layout of the run-directory
 * contract: OUT/table/vantage=NAME/date=YYYY-MM-DD/hour=HH/*.parquet, times as TIMESTAMPTZ,
 * durations named _ms, a run_id column, observations with node_id (a hash of the address)
 * instead of the address. `keep(t)` selects the rows by event time (to split one run in two).
 */
export async function toHiveLayout(flat: string, out: string, vantage: string, runId: string, keep: (eventTime: string) => string = () => 'true'): Promise<void> {
  mkdirSync(out, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const [table, spec] of Object.entries(HIVE_TIMES) as [Table, (typeof HIVE_TIMES)[Table]][]) {
      const ts = (c: string): string => `make_timestamptz(CAST(round(${c} * 1000) AS BIGINT))`;
      const exclude = [...(table === 'observations' ? ['address'] : []), ...Object.keys(spec.renames)];
      const added = [
        ...Object.entries(spec.renames).map(([a, b]) => `${a} AS ${b}`),
        ...(table === 'observations' ? ['hash(address) AS node_id'] : []),
        `${sqlLit(runId)} AS run_id`,
        `${sqlLit(vantage)} AS vantage`,
        `strftime(${ts(spec.event)} AT TIME ZONE 'UTC', '%Y-%m-%d') AS date`,
        `CAST(strftime(${ts(spec.event)} AT TIME ZONE 'UTC', '%H') AS INTEGER) AS hour`,
      ];
      const star = `*${exclude.length > 0 ? ` EXCLUDE (${exclude.join(', ')})` : ''} REPLACE (${spec.times.map((c) => `${ts(c)} AS ${c}`).join(', ')})`;
      // The flat fixture holds the contract's types (writeParts): back to the rows' epoch ms and t50... first.
      const flatCols = Object.entries(SCHEMA[table] as Record<string, string>)
        .filter(([c]) => c !== 'run_id' && c !== 'node_id')
        .map(([c, t]) => (t === 'TIMESTAMPTZ' ? `epoch_us(${c}) / 1000.0 AS ${c}` : /^t\d\d_ms$/.test(c) ? `${c} AS ${c.slice(0, 3)}` : c));
      const src = `(SELECT ${flatCols.join(', ')} FROM read_parquet('${join(flat, table)}/*.parquet'))`;
      const sel = `SELECT ${star}, ${added.join(', ')} FROM ${src} WHERE ${keep(spec.event)}`;
      await conn.run(`COPY (${sel}) TO '${join(out, table)}' (FORMAT parquet, PARTITION_BY (vantage, date, hour), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-${runId}-{i}')`);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const sqlLit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** Writes a whole run directory: run.json (unless run is null) and all four tables. */
export async function writeRunDir(dir: string, f: RunFixture, parts = 1): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (f.run !== null) writeFileSync(join(dir, 'run.json'), JSON.stringify(f.run ?? { vantage: undefined }, null, 1) + '\n');
  await writeParts(dir, 'observations', f.observations, parts);
  await writeParts(dir, 'peers', f.peers, parts);
  await writeParts(dir, 'items', f.items, parts);
  await writeParts(dir, 'timeline', f.timeline, parts);
}

/**
 * The items table as the store defines it, from observations: per hash the first-seen, the
 * distinct announcing peers, and the time until ceil(x * N) of them announced, N being the peers
 * connected at first-seen (`peersAt(t)`); null when never reached.
 */
export function itemsFrom(obs: readonly Obs[], peersAt: (t: number) => number): ItemRow[] {
  const byHash = new Map<string, Map<number, number>>();
  const kind = new Map<string, 'tx' | 'block'>();
  for (const o of obs) {
    if (o.kind === 'notfound') continue;
    const m = byHash.get(o.hash) ?? byHash.set(o.hash, new Map()).get(o.hash)!;
    if (!m.has(o.peer) || m.get(o.peer)! > o.time) m.set(o.peer, o.time);
    kind.set(o.hash, o.item_kind);
  }
  const out: ItemRow[] = [];
  for (const [hash, m] of byHash) {
    const firsts = [...m.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const t0 = firsts[0]![1];
    const n = peersAt(t0);
    const to = (x: number): number | null => {
      const need = Math.ceil(x * n);
      return need >= 1 && need <= firsts.length ? firsts[need - 1]![1] - t0 : null;
    };
    out.push({
      hash,
      item_kind: kind.get(hash)!,
      id_type: kind.get(hash) === 'block' ? 'block' : 'wtxid',
      first_seen: t0,
      first_peer: firsts[0]![0],
      announcing_peers: firsts.length,
      peers_at_first_seen: n,
      t50: to(0.5),
      t90: to(0.9),
      t99: to(0.99),
    });
  }
  return out;
}

/** One row per second from `start` to `end`: connected/ready peers and observations per second. */
export function timelineFrom(obs: readonly Obs[], peers: readonly PeerRow[], start: number, end: number): TimelineRow[] {
  const out: TimelineRow[] = [];
  for (let t = start; t < end; t += 1000) {
    const alive = (p: PeerRow, at: number | null): boolean => at !== null && at <= t + 1000 && (p.closed_at === null || p.closed_at > t);
    out.push({
      time: t,
      peers_connected: peers.filter((p) => alive(p, p.connected_at)).length,
      peers_ready: peers.filter((p) => alive(p, p.ready_at)).length,
      inv_entries: obs.filter((o) => o.time >= t && o.time < t + 1000).length,
      drops: 0,
    });
  }
  return out;
}

export interface SimFixtureOptions {
  nodes?: number;
  /** Model run length, real (scaled) seconds. */
  seconds?: number;
  seed?: number;
  timeScale?: number;
  misbehaving?: number;
  txRate?: number;
  blockIntervalMs?: number;
  /** The vantage name in run.json. */
  vantage?: string;
  /** The observer's receive delay after the node's send: uniform in [min, max) ms. */
  rxDelayMs?: [number, number];
}

export interface SimFixture {
  dir: string;
  start: number;
  end: number;
  /** Every (true send time, measured receive time) pair the fixture produced. */
  pairs: { node: number; item: number; sent: number; received: number }[];
  honest: number;
}

/**
 * A simulated run: the real SimModel (seeded, manual clock) writes truth.jsonl; a stand-in
 * observer connected to every honest node hears each item from each node that learned it after
 * the node's inbound trickle (Poisson, Core's 5 s mean divided by the time scale; blocks at once),
 * written to the truth as `announce` records as the simulator's server would, and receives it
 * `rxDelayMs` later. Misbehaving nodes are connected, counted as faulty and closed after 1 s.
 */
export async function simFixture(dir: string, o: SimFixtureOptions = {}): Promise<SimFixture> {
  const nodes = o.nodes ?? 40;
  const seconds = o.seconds ?? 20;
  const timeScale = o.timeScale ?? 10;
  const [rxMin, rxMax] = o.rxDelayMs ?? [0.1, 0.6];
  const start = 1.75e12;
  const end = start + seconds * 1000;
  mkdirSync(dir, { recursive: true });
  const truth = new TruthWriter(join(dir, 'truth.jsonl'));
  const clock = { t: start };
  const model = new SimModel(
    {
      nodes,
      seed: o.seed ?? 1,
      timeScale,
      txRate: o.txRate ?? 3,
      blockIntervalMs: o.blockIntervalMs ?? 20_000,
      misbehaving: o.misbehaving ?? 0.1,
      port: 18444,
      clock: () => clock.t,
    },
    truth,
  );
  const rand = prng(o.seed ?? 1);
  const observer = '127.0.0.1:50000';
  const nextTrickle = new Float64Array(nodes).fill(start);
  const mean = 5000 / timeScale;
  const pending: { node: number; item: number; t: number }[] = [];
  const hashOf = new Map<number, { kind: 'tx' | 'block'; hash: string }>();
  model.on('item', (it) => {
    // What the observer hears: wtxid for transactions (it sent wtxidrelay), the block hash.
    const id = it.kind === 'tx' ? it.wtxid : it.hash;
    hashOf.set(it.id, { kind: it.kind, hash: Buffer.from(id).reverse().toString('hex') });
  });
  model.on('learn', (node, item, t) => {
    if (model.nodes[node]!.misbehaviour !== null) return;
    const itemId = item.id;
    let at = t;
    if (item.kind === 'tx') {
      while (nextTrickle[node]! < t) nextTrickle[node]! += -Math.log(1 - rand()) * mean;
      at = nextTrickle[node]!;
    }
    pending.push({ node, item: itemId, t: at });
  });
  const obs: Obs[] = [];
  const pairs: SimFixture['pairs'] = [];
  for (let t = start; t <= end; t += 5) {
    clock.t = t;
    model.runUntil(t);
    // Announcements due by now, in time order, as the server writes them.
    pending.sort((a, b) => a.t - b.t);
    while (pending.length > 0 && pending[0]!.t <= t) {
      const a = pending.shift()!;
      const it = hashOf.get(a.item)!;
      truth.announce(a.node, a.item, observer, a.t, 'inv');
      const received = a.t + rxMin + rand() * (rxMax - rxMin);
      const n = model.nodes[a.node]!;
      obs.push({
        time: received,
        peer: a.node + 1,
        address: `${n.host}:${n.port}`,
        kind: 'inv',
        inv_type: it.kind === 'tx' ? 'wtx' : 'block',
        item_kind: it.kind,
        hash: it.hash,
        shard: a.node % 2,
      });
      pairs.push({ node: a.node, item: a.item, sent: a.t, received });
    }
  }
  model.stop();
  await truth.close();
  const peers = model.nodes.map((n) => {
    const bad = n.misbehaviour !== null;
    return peerRow({
      peer: n.index + 1,
      address: `${n.host}:${n.port}`,
      user_agent: n.userAgent,
      version: n.protocolVersion,
      connected_at: start - 50 + n.index * 0.1,
      ready_at: n.misbehaviour === 'slow-drip' || n.misbehaviour === 'no-handshake' ? null : start - 40 + n.index * 0.1,
      closed_at: bad ? start + 1000 : end,
      close_reason: bad ? n.misbehaviour : 'stopped',
      misbehaviour: bad ? JSON.stringify({ [n.misbehaviour!]: 1 }) : '{}',
    });
  });
  const honest = model.nodes.filter((n) => n.misbehaviour === null).length;
  obs.sort((a, b) => a.time - b.time);
  await writeRunDir(dir, {
    run: {
      invscope: '0.1.0',
      command: ['observe', '--fixture'],
      network: 'regtest',
      started: start - 60,
      stopped: end,
      vantage: o.vantage ?? 'sim',
      counters: { observations: obs.length, drops: 0, consumerDrops: 0, peers: nodes },
    },
    observations: obs,
    peers,
    items: itemsFrom(obs, () => honest),
    timeline: timelineFrom(obs, peers, start - 1000, end),
  });
  writeFileSync(join(dir, 'nodes.txt'), model.nodes.map((n) => `${n.host}:${n.port}`).join('\n') + '\n');
  return { dir, start, end, pairs, honest };
}

// As a script: write a simulated run for a look at the report by hand.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node dist/test/report/make-fixture.js DIR [--nodes N] [--seconds S] [--vantage NAME]\n');
    process.exit(2);
  }
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const f = await simFixture(dir, {
    nodes: Number(arg('nodes') ?? 60),
    seconds: Number(arg('seconds') ?? 30),
    vantage: arg('vantage') ?? 'sim',
  });
  process.stdout.write(`wrote ${f.dir}: ${f.pairs.length} announcements from ${f.honest} honest nodes\n`);
}
