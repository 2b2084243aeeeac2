import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, type Socket } from 'node:net';
import { SimServer, isLoopback, INVENTORY_BROADCAST_TARGET, type SimModelView } from '../../src/sim/server.js';
import {
  MISBEHAVE,
  badChecksumFrame,
  badMagicFrame,
  garbageBytes,
  invFloodFrame,
  oversizeHeader,
  tinyFlood,
  truncatedFrame,
  wrongMagic,
} from '../../src/sim/misbehave.js';
import type { Misbehaviour, SimItem, SimNodeInfo } from '../../src/sim/types.js';
import { connectPeer, CoarseTimer, type Peer } from '../../src/peer/index.js';
import { NETWORKS, InvType, Command, COMMAND_NAMES, MAX_PROTOCOL_MESSAGE_LENGTH } from '../../src/protocol/constants.js';
import { encodeFrame, FRAME_HEADER_SIZE } from '../../src/transport/v1.js';
import { decodePayload } from '../../src/protocol/registry.js';
import { commandString } from '../../src/protocol/commands.js';
import { Reader } from '../../src/protocol/reader.js';
import { serializeTx, txidOf, wtxidOf, type TxMessage } from '../../src/protocol/messages/tx.js';
import { makeBlock, serializeHeader, decodeBlock } from '../../src/protocol/messages/block.js';
import { shortIdKey, shortIds } from '../../src/protocol/messages/compact.js';
import { NetworkId } from '../../src/protocol/messages/address.js';
import { bytesEqual, sha256d } from '../../src/protocol/hash.js';
import { until, sleep } from '../helpers.js';
import { now } from '../../src/observe/clock.js';

const NET = NETWORKS.regtest;
const MAGIC = NET.magic;

// ---------------------------------------------------------------------------------------------
// A stand-in for src/sim/model.ts: nodes, items and learning driven by the test.

class StandInModel implements SimModelView {
  readonly options = { seed: 7, timeScale: 1, inboundTrickleMs: 5000 };
  readonly nodes: SimNodeInfo[] = [];
  private readonly items: SimItem[] = [];
  private readonly known = new Set<string>();
  private readonly offline = new Set<number>();
  private learnFns: ((node: number, item: SimItem, t: number) => void)[] = [];
  private churnFns: ((node: number, online: boolean, t: number) => void)[] = [];
  learned = 0;

  constructor(n: number, port: number, modes: Record<number, Misbehaviour> = {}, protocols: Record<number, number> = {}) {
    for (let i = 0; i < n; i++) {
      this.nodes.push({
        index: i,
        host: `127.1.${(i + 1) >> 8}.${(i + 1) & 255}`,
        port,
        userAgent: `/Satoshi:28.${i % 3}.0/`,
        services: 1n | (1n << 3n) | (1n << 10n),
        startHeight: 800_000 + i,
        protocolVersion: protocols[i] ?? 70016,
        misbehaviour: modes[i] ?? null,
      });
    }
  }
  on(event: 'learn' | 'churn', fn: any): void {
    if (event === 'learn') this.learnFns.push(fn);
    else this.churnFns.push(fn);
  }
  item(id: number): SimItem | undefined {
    return this.items[id];
  }
  itemByHash(hash: Uint8Array): SimItem | undefined {
    return this.items.find((i) => bytesEqual(i.hash, hash) || bytesEqual(i.wtxid, hash));
  }
  knows(node: number, id: number): boolean {
    return this.known.has(`${node}/${id}`);
  }
  neighbors(node: number): readonly number[] {
    return [(node + 1) % this.nodes.length, (node + 2) % this.nodes.length];
  }
  online(node: number): boolean {
    return !this.offline.has(node);
  }
  add(item: Omit<SimItem, 'id'>): SimItem {
    const it = { ...item, id: this.items.length } as SimItem;
    this.items.push(it);
    return it;
  }
  learn(node: number, item: SimItem): void {
    if (this.known.has(`${node}/${item.id}`)) return;
    this.known.add(`${node}/${item.id}`);
    this.learned++;
    const t = now();
    for (const fn of this.learnFns) fn(node, item, t);
  }
  churn(node: number, online: boolean): void {
    if (online) this.offline.delete(node);
    else this.offline.add(node);
    for (const fn of this.churnFns) fn(node, online, now());
  }
}

class RecordingTruth {
  readonly announces: { node: number; id: number; observer: string; t: number; how: string }[] = [];
  readonly misbehaves: { node: number; what: string; t: number }[] = [];
  announce(node: number, id: number, observer: string, t: number, how: string): void {
    this.announces.push({ node, id, observer, t, how });
  }
  misbehave(node: number, what: string, t: number): void {
    this.misbehaves.push({ node, what, t });
  }
}

let txSeq = 0;
function makeTx(): { tx: TxMessage; raw: Uint8Array; txid: Uint8Array; wtxid: Uint8Array } {
  const prev = new Uint8Array(32).fill(++txSeq);
  const tx: TxMessage = {
    version: 2,
    inputs: [{ prevTxid: prev, prevIndex: 0, script: new Uint8Array(0), sequence: 0xfffffffd, witness: [new Uint8Array(71).fill(txSeq), new Uint8Array(33).fill(2)] }],
    outputs: [{ value: 50_000n, script: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(txSeq)) }],
    locktime: 0,
    segwit: true,
  };
  return { tx, raw: serializeTx(tx), txid: txidOf(tx), wtxid: wtxidOf(tx) };
}

function txItem(model: StandInModel, origin = 0): SimItem {
  const t = makeTx();
  return model.add({ kind: 'tx', hash: t.txid, wtxid: t.wtxid, raw: t.raw, origin, createdAt: Date.now() });
}

function blockItem(model: StandInModel, txs: TxMessage[]): SimItem {
  const coinbase: TxMessage = {
    version: 1,
    inputs: [{ prevTxid: new Uint8Array(32), prevIndex: 0xffffffff, script: Uint8Array.of(3, 1, 2, 3), sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: 312_500_000n, script: Uint8Array.of(0x51) }],
    locktime: 0,
    segwit: false,
  };
  const header = { version: 0x20000000, prevBlock: new Uint8Array(32).fill(9), merkleRoot: new Uint8Array(32), time: 1_700_000_000, bits: 0x207fffff, nonce: 1 };
  const b0 = makeBlock(header, [coinbase, ...txs]);
  const block = makeBlock({ ...header, merkleRoot: b0.computeMerkleRoot() }, [coinbase, ...txs]);
  const raw = block.buf.slice(block.start, block.end);
  const hash = sha256d(raw.subarray(0, 80));
  return model.add({ kind: 'block', hash, wtxid: hash, raw, header: raw.slice(0, 80), origin: 0, createdAt: Date.now() });
}

interface Env {
  server: SimServer;
  model: StandInModel;
  truth: RecordingTruth;
  port: number;
  peers: Peer[];
  raws: Socket[];
}

async function setup(n = 4, modes: Record<number, Misbehaviour> = {}, extra: { trickleMeanMs?: number; protocols?: Record<number, number> } = {}): Promise<Env> {
  const server = new SimServer({
    network: NET,
    port: 0, // a free high port: never the network's default
    trickleMeanMs: extra.trickleMeanMs ?? 50,
    misbehaveAfterMs: 20,
    badChecksumIntervalMs: 50,
    dripIntervalMs: 20,
    timer: new CoarseTimer(50),
  });
  const port = await server.listen();
  const model = new StandInModel(n, port, modes, extra.protocols);
  const truth = new RecordingTruth();
  server.attach(model, truth);
  return { server, model, truth, port, peers: [], raws: [] };
}

async function teardown(env: Env): Promise<void> {
  for (const p of env.peers) p.close();
  for (const s of env.raws) s.destroy();
  await env.server.close();
}

async function observe(env: Env, node: number, opts: { announce?: 'inv' | 'headers' | 'cmpct'; wait?: boolean; handshakeTimeoutMs?: number } = {}): Promise<{ peer: Peer; got: { command: string; msg: any }[] }> {
  const got: { command: string; msg: any }[] = [];
  const peer = await connectPeer({
    host: env.model.nodes[node]!.host,
    port: env.port,
    network: NET,
    localNonces: new Set(),
    timer: new CoarseTimer(20),
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 3000,
    blockAnnounce: opts.announce ?? 'inv',
    setup: (p) => p.on('message', (command, msg) => got.push({ command, msg })),
  });
  env.peers.push(peer);
  if (opts.wait !== false) await peer.ready;
  return { peer, got };
}

/** A raw observer: sends a version and verack by hand and records every byte the node sends. */
function rawObserver(env: Env, node: number): { socket: Socket; bytes: () => Uint8Array; closed: Promise<void> } {
  const chunks: Buffer[] = [];
  const socket = netConnect({ host: env.model.nodes[node]!.host, port: env.port });
  env.raws.push(socket);
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('connect', () => {
    socket.write(
      encodeFrame(MAGIC, 'version', {
        version: 70016,
        services: 0n,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        addrRecv: { services: 0n, ip: new Uint8Array(16), port: 0 },
        addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
        nonce: 99n,
        userAgent: '/raw:1/',
        startHeight: 0,
        relay: true,
      }),
    );
    socket.write(encodeFrame(MAGIC, 'wtxidrelay', {}));
    socket.write(encodeFrame(MAGIC, 'sendaddrv2', {}));
    socket.write(encodeFrame(MAGIC, 'verack', {}));
  });
  return { socket, bytes: () => new Uint8Array(Buffer.concat(chunks)), closed };
}

/** Splits the bytes into well-formed frames until the first one that is not; returns both. */
function splitFrames(b: Uint8Array): { frames: { command: string; payload: Uint8Array }[]; rest: Uint8Array } {
  const frames: { command: string; payload: Uint8Array }[] = [];
  let pos = 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (b.length - pos >= FRAME_HEADER_SIZE) {
    if (dv.getUint32(pos, true) !== MAGIC) break;
    const len = dv.getUint32(pos + 16, true);
    if (len > MAX_PROTOCOL_MESSAGE_LENGTH || b.length - pos - FRAME_HEADER_SIZE < len) break;
    const payload = b.subarray(pos + FRAME_HEADER_SIZE, pos + FRAME_HEADER_SIZE + len);
    // A frame with a bad checksum is the misbehaviour: stop before it.
    if (!bytesEqual(sha256d(payload).subarray(0, 4), b.subarray(pos + 20, pos + 24))) break;
    frames.push({ command: commandString(b, pos + 4), payload });
    pos += FRAME_HEADER_SIZE + len;
  }
  return { frames, rest: b.subarray(pos) };
}

// ---------------------------------------------------------------------------------------------

test('a simulated node completes the handshake with the real peer and answers as Core v28 does', async () => {
  const env = await setup();
  try {
    const { peer, got } = await observe(env, 2);
    assert.is(peer.remote!.userAgent, '/Satoshi:28.2.0/');
    assert.is(peer.remote!.startHeight, 800_002);
    assert.is(peer.remote!.version, 70016);
    assert.is(peer.remote!.services, 1n | (1n << 3n) | (1n << 10n));
    assert.ok(peer.remote!.relay);
    await until(() => ['sendcmpct', 'feefilter', 'ping'].every((c) => got.some((g) => g.command === c)), 'sendcmpct, ping, feefilter');
    const cmds = got.map((g) => g.command);
    assert.equal(cmds.slice(0, 4), ['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
    const sc = got.find((g) => g.command === 'sendcmpct')!.msg;
    assert.equal(sc, { announce: false, version: 2n });
    assert.is(got.find((g) => g.command === 'feefilter')!.msg.feerate, 1000n);
    await until(() => peer.stats.pongsReceived > 0 || peer.ping() === false, 'our ping');
    assert.is(env.server.stats.ready, 1);
    assert.is(env.server.connections(2).length, 1);
  } finally {
    await teardown(env);
  }
});

test('getaddr gets one addrv2 of simulated nodes with Tor v3 and I2P entries, and a 70015 node answers addr', async () => {
  const env = await setup(40, {}, { protocols: { 5: 70015 } });
  try {
    const { peer, got } = await observe(env, 1);
    peer.send('getaddr', {});
    await until(() => got.some((g) => g.command === 'addrv2'), 'addrv2');
    const addrs = got.find((g) => g.command === 'addrv2')!.msg.addrs as any[];
    const v4 = addrs.filter((a) => a.networkId === NetworkId.IPV4);
    assert.ok(v4.length >= Math.ceil(40 * 0.23), `${v4.length} IPv4 entries`);
    const hosts = new Set(v4.map((a) => Array.from(a.addr).join('.')));
    assert.ok(hosts.has('127.1.0.3') && hosts.has('127.1.0.4'), 'the neighbours are in it');
    assert.not.ok(hosts.has('127.1.0.2'), 'not the node itself');
    for (const a of v4) assert.is(a.port, env.port);
    const tor = addrs.filter((a) => a.networkId === NetworkId.TORV3);
    const i2p = addrs.filter((a) => a.networkId === NetworkId.I2P);
    assert.ok(tor.length >= 1 && i2p.length >= 1);
    assert.is(tor[0].addr.length, 32);
    assert.is(i2p[0].addr.length, 32);
    assert.is(i2p[0].port, 0);
    // Core answers one getaddr per connection.
    peer.send('getaddr', {});
    await sleep(100);
    assert.is(got.filter((g) => g.command === 'addrv2').length, 1);

    const old = await observe(env, 5);
    assert.not.ok(old.peer.remote!.sendAddrV2);
    old.peer.send('getaddr', {});
    await until(() => old.got.some((g) => g.command === 'addr'), 'addr');
    const v1 = old.got.find((g) => g.command === 'addr')!.msg.addrs as any[];
    assert.ok(v1.length >= 9);
    assert.is(v1[0].ip[10], 0xff, 'IPv4-mapped');
    assert.is(v1[0].ip[12], 127);
  } finally {
    await teardown(env);
  }
});

test('a learned tx arrives as inv MSG_WTX after the trickle, once, and getdata returns the raw tx', async () => {
  const env = await setup(4, {}, { trickleMeanMs: 200 });
  try {
    const { peer, got } = await observe(env, 0);
    const item = txItem(env.model);
    // The truth's clock (timeOrigin + performance.now()), not Date.now(): in a long test process the
    // two drift apart by milliseconds, and a short trickle announces within one.
    const t0 = now();
    env.model.learn(0, item);
    await until(() => got.some((g) => g.command === 'inv'), 'tx inv', 5000);
    const inv = got.find((g) => g.command === 'inv')!.msg.inventory;
    assert.is(inv.length, 1);
    assert.is(inv[0].type, InvType.MSG_WTX);
    assert.ok(bytesEqual(inv[0].hash, item.wtxid));
    assert.not.ok(bytesEqual(item.hash, item.wtxid), 'a segwit tx: the wtxid differs from the txid');
    const a = env.truth.announces.filter((x) => x.id === item.id);
    assert.is(a.length, 1);
    assert.is(a[0]!.how, 'inv');
    assert.match(a[0]!.observer, /^127\.0\.0\.1:\d+$/, 'the observer as the node sees it');
    assert.ok(a[0]!.t >= t0);
    // Learning again, or another trickle, announces nothing new.
    env.model.learn(0, item);
    await sleep(600);
    assert.is(got.filter((g) => g.command === 'inv').length, 1);

    peer.send('getdata', { inventory: [{ type: InvType.MSG_WTX, hash: item.wtxid }] });
    await until(() => got.some((g) => g.command === 'tx'), 'tx');
    const tx = got.find((g) => g.command === 'tx')!.msg as TxMessage;
    assert.ok(bytesEqual(wtxidOf(tx), item.wtxid));
    assert.ok(bytesEqual(serializeTx(tx), item.raw));
    // By txid too; an unknown hash, or a wtxid under MSG_TX, is notfound.
    const unknown = new Uint8Array(32).fill(0xee);
    peer.send('getdata', {
      inventory: [
        { type: InvType.MSG_WITNESS_TX, hash: item.hash },
        { type: InvType.MSG_TX, hash: unknown },
        { type: InvType.MSG_TX, hash: item.wtxid },
      ],
    });
    await until(() => got.some((g) => g.command === 'notfound'), 'notfound');
    assert.is(got.filter((g) => g.command === 'tx').length, 2);
    const nf = got.find((g) => g.command === 'notfound')!.msg.inventory;
    assert.is(nf.length, 2);
    assert.ok(bytesEqual(nf[0].hash, unknown));
    // A tx the node has not learned is not served.
    const other = txItem(env.model);
    env.model.learn(1, other);
    peer.send('getdata', { inventory: [{ type: InvType.MSG_WTX, hash: other.wtxid }] });
    await until(() => got.filter((g) => g.command === 'notfound').length === 2, 'second notfound');
  } finally {
    await teardown(env);
  }
});

test('an observer without wtxidrelay gets MSG_TX with the txid; at most 35 entries per trickle, the rest next time', async () => {
  const env = await setup(4, {}, { trickleMeanMs: 100, protocols: { 3: 70015 } });
  try {
    const { got } = await observe(env, 3);
    const items = Array.from({ length: 50 }, () => txItem(env.model));
    for (const it of items) env.model.learn(3, it);
    await until(() => got.filter((g) => g.command === 'inv').flatMap((g) => g.msg.inventory).length === 50, 'all 50', 5000);
    const invs = got.filter((g) => g.command === 'inv').map((g) => g.msg.inventory);
    assert.is(invs[0].length, INVENTORY_BROADCAST_TARGET);
    const all = invs.flat();
    assert.ok(all.every((e: any) => e.type === InvType.MSG_TX));
    assert.equal(
      all.map((e: any) => Buffer.from(e.hash).toString('hex')),
      items.map((i) => Buffer.from(i.hash).toString('hex')),
    );
  } finally {
    await teardown(env);
  }
});

test('trickle intervals of one node are exponential with the configured mean', async () => {
  const env = await setup(2, {}, { trickleMeanMs: 20 });
  try {
    const { got } = await observe(env, 0);
    const times: number[] = [];
    // One tx per 2 ms keeps the queue non-empty, so each trickle shows up as one inv.
    let stop = false;
    const feed = setInterval(() => {
      if (!stop) env.model.learn(0, txItem(env.model));
    }, 2);
    const seen = new Set<number>();
    await until(
      () => {
        for (let i = 0; i < got.length; i++) if (got[i]!.command === 'inv' && !seen.has(i)) seen.add(i);
        return seen.size >= 120;
      },
      '120 trickles',
      15_000,
    );
    stop = true;
    clearInterval(feed);
    for (const a of env.truth.announces) if (!times.includes(a.t)) times.push(a.t);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    // Exponential: mean ~ 20 ms (timer granularity adds ~1 ms), and the coefficient of variation ~ 1.
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(mean > 14 && mean < 32, `mean ${mean}`);
    assert.ok(sd / mean > 0.6 && sd / mean < 1.4, `cv ${sd / mean}`);
  } finally {
    await teardown(env);
  }
});

test('a block is announced at once as inv, as headers after sendheaders, as a BIP152 cmpctblock after sendcmpct(1, 2)', async () => {
  // Trickles of ten minutes: an announcement that arrives at all within the wait was not trickled.
  const env = await setup(4, {}, { trickleMeanMs: 600_000 });
  try {
    const o1 = await observe(env, 1);
    const o2 = await observe(env, 1, { announce: 'headers' });
    const o3 = await observe(env, 1, { announce: 'cmpct' });
    await until(() => o2.peer.stats.msgsOutByCommand[Command.sendheaders]! > 0 && o3.peer.stats.msgsOutByCommand[Command.sendcmpct]! > 0, 'prefs sent');
    await sleep(50);
    const txs = [makeTx(), makeTx(), makeTx()];
    const block = blockItem(env.model, txs.map((t) => t.tx));
    env.model.learn(1, block);
    await until(() => [o1, o2, o3].every((o) => o.got.some((g) => ['inv', 'headers', 'cmpctblock'].includes(g.command))), 'announcements');
    const inv = o1.got.find((g) => g.command === 'inv')!.msg.inventory;
    assert.equal(inv.map((e: any) => e.type), [InvType.MSG_BLOCK]);
    assert.ok(bytesEqual(inv[0].hash, block.hash));
    const hdr = o2.got.find((g) => g.command === 'headers')!.msg.headers;
    assert.is(hdr.length, 1);
    assert.ok(bytesEqual(serializeHeader(hdr[0]), block.header!));
    const cb = o3.got.find((g) => g.command === 'cmpctblock')!.msg;
    assert.ok(bytesEqual(serializeHeader(cb.header), block.header!));
    assert.is(cb.prefilled.length, 1);
    assert.is(cb.prefilled[0].index, 0);
    const full = decodeBlock(new Reader(block.raw, 0, block.raw.length));
    const expected = shortIds(shortIdKey(cb.header, cb.nonce), full.wtxids().subarray(32), 3);
    assert.ok(bytesEqual(cb.shortIds, expected), 'short ids of the wtxids (version 2)');
    assert.equal(env.truth.announces.map((a) => a.how).sort(), ['cmpctblock', 'headers', 'inv']);

    // getdata for the block returns the raw block; getheaders returns what the node knows.
    o1.peer.send('getdata', { inventory: [{ type: InvType.MSG_WITNESS_BLOCK, hash: block.hash }] });
    await until(() => o1.got.some((g) => g.command === 'block'), 'block');
    const b = o1.got.find((g) => g.command === 'block')!.msg;
    assert.ok(bytesEqual(b.buf.subarray(b.start, b.end), block.raw));
    o1.peer.send('getheaders', { version: 70016, locator: [new Uint8Array(32).fill(9)], hashStop: new Uint8Array(32) });
    await until(() => o1.got.some((g) => g.command === 'headers'), 'headers');
    assert.is(o1.got.find((g) => g.command === 'headers')!.msg.headers.length, 1);
    o1.peer.send('getheaders', { version: 70016, locator: [block.hash], hashStop: new Uint8Array(32) });
    await until(() => o1.got.filter((g) => g.command === 'headers').length === 2, 'empty headers');
    assert.is(o1.got.filter((g) => g.command === 'headers')[1]!.msg.headers.length, 0);
    // Never twice.
    env.model.learn(1, block);
    await sleep(50);
    assert.is(env.truth.announces.length, 3);
  } finally {
    await teardown(env);
  }
});

test('drops a socket dialed at an address that is no node, and resets one to a node that is offline', async () => {
  const env = await setup(4);
  try {
    const s = netConnect({ host: '127.1.200.200', port: env.port });
    s.on('error', () => {});
    await new Promise<void>((r) => s.on('close', () => r()));
    assert.is(env.server.stats.refused, 1);
    const { peer } = await observe(env, 2);
    env.model.churn(2, false);
    assert.ok(['remote-closed', 'socket-error'].includes(await peer.closed));
    let refused = false;
    try {
      await observe(env, 2);
    } catch {
      refused = true;
    }
    assert.ok(refused, 'an offline node takes no observer');
    assert.is(env.server.stats.offline, 1);
    env.model.churn(2, true);
    await observe(env, 2);
    assert.ok(isLoopback('::ffff:127.9.9.9') && isLoopback('127.0.0.1') && !isLoopback('10.0.0.1') && !isLoopback(undefined));
  } finally {
    await teardown(env);
  }
});

// ---------------------------------------------------------------------------------------------
// Misbehaviour: the bytes, then what the real peer does with them.

test('the misbehaviour builders make exactly their bad bytes', () => {
  const bc = badChecksumFrame(MAGIC, 5);
  assert.is(bc.length, 32);
  assert.is(commandString(bc, 4), 'ping');
  const good = sha256d(bc.subarray(24));
  assert.equal(Array.from(bc.subarray(20, 24)), Array.from(good.subarray(0, 4)).map((x) => ~x & 0xff));
  const bm = badMagicFrame(MAGIC);
  assert.is(new DataView(bm.buffer).getUint32(0, true), wrongMagic(MAGIC));
  assert.is.not(wrongMagic(MAGIC), MAGIC);
  assert.ok(Object.values(NETWORKS).every((n) => n.magic !== wrongMagic(MAGIC)));
  const ov = oversizeHeader(MAGIC);
  assert.is(ov.length, 24);
  assert.is(new DataView(ov.buffer).getUint32(16, true), 4_000_001);
  assert.is(commandString(ov, 4), 'block');
  const g = garbageBytes(MAGIC, 256, () => 0.5);
  assert.is(g.length, 256);
  assert.is.not(new DataView(g.buffer).getUint32(0, true), MAGIC);
  const tr = truncatedFrame(MAGIC);
  assert.is(tr.length, 27);
  assert.is(new DataView(tr.buffer, tr.byteOffset).getUint32(16, true), 8);
  const fl = invFloodFrame(MAGIC);
  assert.is(fl.length, 24 + 3 + 50_001 * 36);
  assert.is(new DataView(fl.buffer).getUint32(16, true), 3 + 50_001 * 36);
  assert.equal(Array.from(fl.subarray(24, 27)), [0xfd, 0x51, 0xc3]);
  assert.ok(bytesEqual(sha256d(fl.subarray(24)).subarray(0, 4), fl.subarray(20, 24)), 'the flood frame itself is well formed');
  assert.is(decodePayload(Command.inv, fl, 24, fl.length - 24), undefined, 'but too many entries to decode');
  const tf = tinyFlood(MAGIC, 3);
  assert.is(tf.length, 72);
  assert.is(commandString(tf, 28), MISBEHAVE.TINY_FLOOD_COMMAND);
  assert.is(COMMAND_NAMES.indexOf(MISBEHAVE.TINY_FLOOD_COMMAND as any), -1);
});

const AFTER: [Misbehaviour, (rest: Uint8Array) => void][] = [
  ['bad-checksum', (r) => assert.ok(bytesEqual(r.subarray(0, 32), badChecksumFrame(MAGIC, 1)))],
  ['bad-magic', (r) => assert.ok(bytesEqual(r, badMagicFrame(MAGIC)))],
  ['oversize', (r) => assert.ok(bytesEqual(r, oversizeHeader(MAGIC)))],
  ['garbage', (r) => assert.is(r.length, MISBEHAVE.GARBAGE_BYTES)],
  ['truncated', (r) => assert.ok(bytesEqual(r, truncatedFrame(MAGIC)))],
];

for (const [mode, check] of AFTER) {
  test(`a ${mode} node completes the handshake, then sends exactly its bad bytes`, async () => {
    const env = await setup(2, { 1: mode });
    try {
      const raw = rawObserver(env, 1);
      await until(() => env.truth.misbehaves.length > 0, 'the misbehaviour', 3000);
      await sleep(60);
      const { frames, rest } = splitFrames(raw.bytes());
      assert.equal(frames.slice(0, 4).map((f) => f.command), ['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
      // After the handshake's own frames (sendcmpct, ping, feefilter) come the bad bytes, nothing else.
      assert.ok(frames.slice(4).every((f) => ['sendcmpct', 'ping', 'feefilter'].includes(f.command)));
      check(rest);
      assert.is(env.truth.misbehaves[0]!.what, mode);
      assert.is(env.truth.misbehaves[0]!.node, 1);
      if (mode === 'truncated') await raw.closed;
    } finally {
      await teardown(env);
    }
  });
}

test('the real peer counts bad checksums and keeps the node; it disconnects on bad magic, oversize and garbage', async () => {
  const env = await setup(5, { 1: 'bad-checksum', 2: 'bad-magic', 3: 'oversize', 4: 'garbage' });
  try {
    const bc = await observe(env, 1);
    await until(() => (bc.peer.stats.faults.get('ERR_WIRE_CHECKSUM') ?? 0) >= 2, 'two bad checksums');
    assert.ok(bc.peer.isOpen);
    const outcomes: Record<number, string> = {};
    for (const n of [2, 3, 4]) {
      const o = await observe(env, n);
      outcomes[n] = await o.peer.closed;
    }
    assert.is(outcomes[2], 'bad-magic');
    assert.is(outcomes[3], 'oversize');
    assert.is(outcomes[4], 'bad-magic', 'random bytes fail at the magic first');
  } finally {
    await teardown(env);
  }
});

test('a truncated frame then a close: the peer sees the remote close with the partial frame held', async () => {
  const env = await setup(2, { 1: 'truncated' });
  try {
    const o = await observe(env, 1);
    let held = -1;
    o.peer.on('close', (_r, p) => (held = p.transport.bufferedBytes));
    assert.is(await o.peer.closed, 'remote-closed');
    assert.is(held, 27);
  } finally {
    await teardown(env);
  }
});

test('an inv flood of 50,001 entries is counted as too many items, three back to back, and the peer stays', async () => {
  const env = await setup(2, { 1: 'inv-flood' });
  try {
    const o = await observe(env, 1);
    await until(() => (o.peer.stats.faults.get('ERR_WIRE_TOO_MANY_ITEMS') ?? 0) === MISBEHAVE.INV_FLOOD_FRAMES, 'three floods', 5000);
    assert.is(o.peer.stats.msgsInByCommand[Command.inv], MISBEHAVE.INV_FLOOD_FRAMES);
    assert.ok(o.peer.isOpen);
  } finally {
    await teardown(env);
  }
});

test('a tiny flood is thousands of unknown-command frames, each counted, and the peer stays', async () => {
  const env = await setup(2, { 1: 'tiny-flood' });
  try {
    const o = await observe(env, 1);
    await until(() => o.peer.stats.unknownIn.get(MISBEHAVE.TINY_FLOOD_COMMAND) === MISBEHAVE.TINY_FLOOD_FRAMES, 'the flood', 5000);
    assert.is(o.peer.stats.faults.get('ERR_WIRE_UNKNOWN_COMMAND'), MISBEHAVE.TINY_FLOOD_FRAMES);
    assert.ok(o.peer.isOpen);
  } finally {
    await teardown(env);
  }
});

test('a slow-drip node sends its version one byte at a time and the peer times out waiting for it', async () => {
  const env = await setup(2, { 1: 'slow-drip' });
  try {
    const raw = rawObserver(env, 1);
    await until(() => raw.bytes().length >= 30, '30 dripped bytes', 3000);
    const b = raw.bytes();
    assert.is(new DataView(b.buffer, b.byteOffset).getUint32(0, true), MAGIC);
    assert.is(commandString(b, 4), 'version');
    // One byte per tick: far fewer bytes than ticks elapsed could ever batch.
    const o = await observe(env, 1, { wait: false, handshakeTimeoutMs: 500 });
    assert.is(await o.peer.closed, 'no-version');
    assert.ok(o.peer.stats.bytesIn > 0 && o.peer.stats.bytesIn < 1000);
    assert.is(env.truth.misbehaves.filter((m) => m.what === 'slow-drip').length, 2);
  } finally {
    await teardown(env);
  }
});

test('a no-handshake node accepts and never sends anything; the peer closes for no version', async () => {
  const env = await setup(2, { 1: 'no-handshake' });
  try {
    const raw = rawObserver(env, 1);
    const o = await observe(env, 1, { wait: false, handshakeTimeoutMs: 500 });
    assert.is(await o.peer.closed, 'no-version');
    assert.is(o.peer.stats.bytesIn, 0);
    assert.is(raw.bytes().length, 0);
    assert.equal(env.truth.misbehaves.map((m) => m.what), ['no-handshake', 'no-handshake']);
  } finally {
    await teardown(env);
  }
});

test.run();
