/**
 * Interop with bcoin 1.0.2 (a Bitcoin implementation nobody here wrote), run in-process as a
 * regtest full node on 127.0.0.1 (see bcoin-node.ts for how it is fenced to loopback).
 *
 * Part 1 talks to it over a raw node:net socket with invscope's own codec (encodeFrame,
 * V1Decoder, decodePayload). Part 2 does the same through the peer API (connectPeer, Peer).
 * Every wait has a timeout; every socket is closed in a finally; the node is stopped in `after`.
 *
 * What bcoin 1.0.2 really does (and what the assertions pin down):
 * - its version: protocol 70015, user agent '/bcoin:1.0.2/', services NETWORK|WITNESS (9),
 *   relay 1; it sends its version as soon as the TCP connection is accepted, then a verack
 *   once ours arrives.
 * - wtxidrelay and sendaddrv2 (BIP339/BIP155, newer than bcoin) are unknown packets to it: it logs
 *   them and ignores them, the session goes on (no reject, no disconnect).
 * - after the handshake it sends sendcmpct(announce=0, version=1) and getaddr.
 * - a block mined after the handshake is announced at once as inv [MSG_BLOCK, hash] (we sent
 *   neither sendheaders nor sendcmpct).
 * - ping -> pong with the same nonce.
 * - getaddr -> nothing: its address table is empty (no seeds, no nodes, and 127.0.0.1 is not
 *   routable so it has no local address to advertise), and pool.handleGetAddr returns without
 *   sending when it has no address to give. A ping sent after the getaddr fences the answer:
 *   bcoin handles one peer's packets in order under a lock.
 * - getheaders with the genesis as locator -> headers for heights 1..tip, in order (only once
 *   its chain counts as synced, i.e. the tip is recent: the harness's node has mined).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startBcoinNode, type BcoinNode } from './bcoin-node.js';
import { V1Decoder, encodeFrame } from '../../src/transport/v1.js';
import { decodePayload, type MessageMap } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { statusCode } from '../../src/protocol/errors.js';
import { commandString } from '../../src/protocol/commands.js';
import { COMMAND_NAMES, InvType, NETWORKS, PROTOCOL_VERSION, Services, type CommandName } from '../../src/protocol/constants.js';
import { hashToHex, hexToHash } from '../../src/protocol/hex.js';
import { headerHash } from '../../src/protocol/messages/block.js';
import { ipV1FromString } from '../../src/protocol/messages/address.js';
import type { VersionMessage } from '../../src/protocol/messages/control.js';
import { connectPeer, type Peer } from '../../src/peer/index.js';

const NET = NETWORKS.regtest;
const USER_AGENT = '/invscope-test:0.1/';
/** Longest wait for any one answer from bcoin (it answers on loopback within milliseconds). */
const WAIT_MS = 5_000;
/** How long "bcoin sends nothing" is watched beyond the ping fence. */
const QUIET_MS = 300;

let bc: BcoinNode | undefined;
let startMs = 0;
/** What bcoin's pool saw from us, by our local port: packet command names in order. */
const seenByBcoin = new Map<number, string[]>();
/** Findings, printed at the end when INTEROP_LOG=1. */
const findings: Record<string, unknown> = {};

function node(): BcoinNode {
  if (!bc) throw new Error('bcoin node did not start');
  return bc;
}

test.before(async () => {
  const t0 = performance.now();
  bc = await startBcoinNode();
  startMs = performance.now() - t0;
  bc.node.pool.on('packet', (packet: any, peer: any) => {
    const port = peer.address?.port as number;
    const list = seenByBcoin.get(port) ?? [];
    // bcoin keeps the command string of packets it does not know, with type UNKNOWN.
    list.push(packet.type === bc!.lib.packets.types.UNKNOWN ? `unknown:${packet.cmd}` : (packet.cmd as string));
    seenByBcoin.set(port, list);
  });
  // A recent tip: bcoin answers getheaders and announces blocks only once its chain is "synced".
  await bc.mine(1);
});

test.after(async () => {
  const t0 = performance.now();
  await bc?.stop();
  findings.startMs = Math.round(startMs);
  findings.stopMs = Math.round(performance.now() - t0);
  if (process.env.INTEROP_LOG === '1') console.log('\n' + JSON.stringify(findings, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 1));
});

// -----------------------------------------------------------------------------------------------
// A raw session: node:net socket + invscope's v1 decoder and codec, nothing from src/peer.

interface Received {
  command: string;
  msg: any;
}

class RawSession {
  readonly received: Received[] = [];
  /** Checksum failures, decode failures and a fatal decoder status, as codes. */
  readonly faults: string[] = [];
  closed = false;
  private readonly decoder: V1Decoder;
  private readonly reader = new Reader();
  private wake: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    this.decoder = new V1Decoder(NET.magic, {
      onFrame: (cmd, buf, off, len, ok) => {
        const command = cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!;
        if (!ok) {
          this.faults.push(`checksum:${command}`);
          return;
        }
        if (cmd === 0) {
          this.received.push({ command, msg: { payload: buf.slice(off, off + len) } });
          return;
        }
        // Copy: the decoder reuses its buffer and decoded byte fields are views into it.
        const payload = buf.slice(off, off + len);
        const msg = decodePayload(cmd, payload, 0, len, this.reader);
        if (msg === undefined) this.faults.push(`decode:${command}:${statusCode(this.reader.err)}`);
        else this.received.push({ command, msg });
      },
    });
    socket.on('data', (chunk: Buffer) => {
      const status = this.decoder.push(chunk);
      if (status !== 0) {
        this.faults.push(`fatal:${statusCode(status)}`);
        socket.destroy();
      }
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect ${host}:${port} timed out`));
      }, WAIT_MS);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawSession(socket));
      });
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  send<K extends CommandName>(command: K, msg: MessageMap[K]): void {
    this.socket.write(encodeFrame(NET.magic, command, msg));
  }

  commands(from = 0, to = this.received.length): string[] {
    return this.received.slice(from, to).map((r) => r.command);
  }

  /** The first message at index >= `from` matching `pred`, waiting at most `ms`. */
  async waitFor(what: string, pred: (r: Received) => boolean, from = 0, ms = WAIT_MS): Promise<{ r: Received; index: number }> {
    const deadline = performance.now() + ms;
    for (;;) {
      for (let i = from; i < this.received.length; i++) if (pred(this.received[i]!)) return { r: this.received[i]!, index: i };
      const left = deadline - performance.now();
      if (this.closed) throw new Error(`waiting for ${what}: bcoin closed the connection; got [${this.commands(from)}]`);
      if (left <= 0) throw new Error(`waiting for ${what}: nothing after ${ms} ms; got [${this.commands(from)}]`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a ping and waits for its pong: everything bcoin sent for earlier messages precedes it. */
  async fence(): Promise<number> {
    const nonce = randomBytes(8).readBigUInt64LE(0) | 1n;
    const from = this.received.length;
    this.send('ping', { nonce });
    return (await this.waitFor('pong (fence)', (r) => r.command === 'pong' && r.msg.nonce === nonce, from)).index;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, WAIT_MS);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.socket.destroy();
    });
  }
}

function ourVersion(): VersionMessage {
  const bcoin = node();
  return {
    version: PROTOCOL_VERSION,
    services: 0n,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    addrRecv: { services: 0n, ip: ipV1FromString(bcoin.host)!, port: bcoin.port },
    addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
    nonce: randomBytes(8).readBigUInt64LE(0),
    userAgent: USER_AGENT,
    startHeight: 0,
    relay: true,
  };
}

/** Connects and performs the measurement handshake: version, wtxidrelay, sendaddrv2, verack. */
async function handshake(): Promise<{ s: RawSession; version: VersionMessage; after: number }> {
  const s = await RawSession.open(node().port, node().host);
  try {
    s.send('version', ourVersion());
    s.send('wtxidrelay', {});
    s.send('sendaddrv2', {});
    s.send('verack', {});
    const v = await s.waitFor('version', (r) => r.command === 'version');
    const ack = await s.waitFor('verack', (r) => r.command === 'verack');
    return { s, version: v.r.msg as VersionMessage, after: Math.max(v.index, ack.index) + 1 };
  } catch (e) {
    await s.close();
    throw e;
  }
}

async function withSession(fn: (s: RawSession, version: VersionMessage, after: number) => Promise<void>): Promise<void> {
  const { s, version, after } = await handshake();
  try {
    await fn(s, version, after);
    assert.equal(s.faults, [], 'every frame from bcoin has a good checksum and decodes');
  } finally {
    await s.close();
  }
}

// -----------------------------------------------------------------------------------------------
// Part 1: raw socket

test('bcoin answers our version with its own version and a verack', async () => {
  await withSession(async (s, version) => {
    assert.is(version.userAgent, `/bcoin:${node().version}/`);
    assert.is(version.version, 70015, 'bcoin 1.0.2 speaks protocol 70015 (no wtxidrelay, no addrv2)');
    assert.is(version.services, Services.NODE_NETWORK | Services.NODE_WITNESS);
    assert.is(version.relay, true);
    assert.is(version.startHeight, node().height());
    // bcoin's addrRecv is how it sees us: 127.0.0.1 and our local port.
    assert.equal(Array.from(version.addrRecv.ip), Array.from(ipV1FromString('127.0.0.1')!));
    assert.is(version.addrRecv.port, s.localPort);
    // It sent version first (on accept), then verack for our version.
    assert.equal(s.commands().slice(0, 2), ['version', 'verack']);
    findings.bcoinVersion = { version: version.version, userAgent: version.userAgent, services: version.services, relay: version.relay };
  });
});

test('bcoin ignores wtxidrelay and sendaddrv2 as unknown packets and keeps the session', async () => {
  await withSession(async (s) => {
    const fenceAt = await s.fence();
    assert.not.ok(s.closed);
    // What bcoin's pool handled from us, in order: the two BIP339/BIP155 messages are 'unknown'
    // to bcoin 1.0.2 (pool.handleUnknown only logs them).
    const seen = seenByBcoin.get(s.localPort) ?? [];
    assert.equal(seen.slice(0, 4), ['version', 'unknown:wtxidrelay', 'unknown:sendaddrv2', 'verack']);
    // Nothing came back for them: no reject, no disconnect.
    const sentBack = s.commands(2, fenceAt);
    assert.not.ok(sentBack.includes('reject'));
    findings.bcoinSawOurHandshakeAs = seen.slice(0, 4);
  });
});

test('bcoin sends sendcmpct and getaddr after the handshake', async () => {
  await withSession(async (s, _v, after) => {
    await s.waitFor('getaddr', (r) => r.command === 'getaddr', after);
    const cmpct = await s.waitFor('sendcmpct', (r) => r.command === 'sendcmpct', after);
    assert.equal(cmpct.r.msg, { announce: false, version: 1n }, 'low-bandwidth compact blocks, version 1');
    const fenceAt = await s.fence();
    findings.bcoinAfterHandshake = s.commands(after, fenceAt);
    assert.not.ok(s.commands(after, fenceAt).includes('sendheaders'));
  });
});

test('bcoin announces a block mined after the handshake as an inv of type MSG_BLOCK', async () => {
  await withSession(async (s, _v, after) => {
    await s.fence();
    const from = s.received.length;
    const [hash] = await node().mine(1);
    const got = await s.waitFor('block announcement', (r) => ['inv', 'headers', 'cmpctblock'].includes(r.command), from);
    assert.is(got.r.command, 'inv', 'without sendheaders/sendcmpct from us, bcoin announces with inv');
    const inv = got.r.msg as MessageMap['inv'];
    assert.is(inv.inventory.length, 1);
    assert.is(inv.inventory[0]!.type, InvType.MSG_BLOCK);
    assert.is(hashToHex(inv.inventory[0]!.hash), hash);
    assert.is(hash, node().tipHash());
    findings.blockAnnouncement = { command: got.r.command, type: inv.inventory[0]!.type, afterHandshakeMessages: s.commands(after) };
  });
});

test('bcoin answers a ping with a pong carrying the same nonce', async () => {
  await withSession(async (s) => {
    const nonce = 0x0123456789abcdefn;
    const from = s.received.length;
    const t0 = performance.now();
    s.send('ping', { nonce });
    const pong = await s.waitFor('pong', (r) => r.command === 'pong', from);
    const rtt = performance.now() - t0;
    assert.is(pong.r.msg.nonce, nonce);
    assert.ok(rtt < WAIT_MS);
    findings.rawPingRttMs = Math.round(rtt * 1000) / 1000;
  });
});

test('bcoin answers getaddr with nothing while its address table is empty', async () => {
  await withSession(async (s, _v, after) => {
    assert.is(node().node.pool.hosts.size(), 0, 'bcoin knows no addresses (no seeds, no nodes, loopback only)');
    s.send('getaddr', {});
    const fenceAt = await s.fence();
    // Past the fence, watch a little longer in case bcoin answered out of order.
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const answers = s.commands(after).filter((c) => c === 'addr' || c === 'addrv2');
    assert.equal(answers, [], `no addr from bcoin; got [${s.commands(after)}]`);
    assert.ok(fenceAt >= after);
    assert.not.ok(s.closed);
    findings.getaddr = 'no answer (empty address table)';
  });
});

test('bcoin answers getheaders from the genesis with every header in chain order', async () => {
  const mined = await node().mine(3);
  await withSession(async (s) => {
    const tip = node().height();
    const from = s.received.length;
    s.send('getheaders', { version: PROTOCOL_VERSION, locator: [hexToHash(NET.genesisHash)], hashStop: new Uint8Array(32) });
    const got = await s.waitFor('headers', (r) => r.command === 'headers', from);
    const headers = (got.r.msg as MessageMap['headers']).headers;
    assert.is(headers.length, tip, 'heights 1..tip');
    const hashes = headers.map((h) => hashToHex(headerHash(h)));
    const expected: string[] = [];
    for (let h = 1; h <= tip; h++) expected.push(await node().hashAt(h));
    assert.equal(hashes, expected);
    assert.equal(hashes.slice(-3), mined, 'the last three are the blocks just mined');
    // Each header links to the one before it, the first to the genesis.
    assert.is(hashToHex(headers[0]!.prevBlock), NET.genesisHash);
    for (let i = 1; i < headers.length; i++) assert.is(hashToHex(headers[i]!.prevBlock), hashes[i - 1]);
    findings.getheaders = { count: headers.length };
  });
});

// -----------------------------------------------------------------------------------------------
// Part 2: the peer API (src/peer)

async function withPeer(fn: (peer: Peer) => Promise<void>): Promise<void> {
  const peer = await connectPeer({
    host: node().host,
    port: node().port,
    network: NET,
    version: { userAgent: USER_AGENT },
    connectTimeoutMs: WAIT_MS,
    handshakeTimeoutMs: WAIT_MS,
  });
  try {
    await within(peer.ready, 'peer handshake');
    await fn(peer);
    assert.equal(Object.fromEntries(peer.stats.faults), {}, 'no fault counted on bcoin traffic');
  } finally {
    peer.close();
    await within(peer.closed, 'peer close');
  }
}

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

/** Resolves with the first `command` message accepted by `pred`; the handler is removed after. */
function nextMessage<K extends CommandName>(peer: Peer, command: K, pred: (m: MessageMap[K]) => boolean = () => true): Promise<MessageMap[K]> {
  let fn!: (m: MessageMap[K]) => void;
  const p = new Promise<MessageMap[K]>((resolve) => {
    fn = (m) => {
      if (pred(m)) resolve(m);
    };
    peer.on(command, fn);
  });
  return within(p, `${command} from bcoin`).finally(() => peer.off(command, fn));
}

test('the peer API completes the handshake with bcoin and records its version', async () => {
  await withPeer(async (peer) => {
    assert.ok(peer.isReady);
    const remote = peer.remote!;
    assert.is(remote.userAgent, `/bcoin:${node().version}/`);
    assert.is(remote.version, 70015);
    assert.is(remote.relay, true);
    // bcoin is below 70016, so neither side negotiates wtxidrelay or sendaddrv2.
    assert.is(remote.wtxidRelay, false);
    assert.is(remote.sendAddrV2, false);
    assert.is(peer.stats.msgsOutByCommand[COMMAND_NAMES.indexOf('wtxidrelay')], 0);
    assert.ok(peer.stats.handshakeAt >= peer.stats.connectedAt);
    // bcoin sees our user agent.
    const ours = node().node.pool.peers.head();
    let found = false;
    for (let p = ours; p; p = p.next) if (p.agent === USER_AGENT) found = true;
    assert.ok(found, 'bcoin lists a peer with our user agent');
  });
});

test('the peer API records bcoin sendcmpct and answers its getaddr without error', async () => {
  await withPeer(async (peer) => {
    // sendcmpct and getaddr follow bcoin's verack; a ping round trip orders us after them.
    await waitUntil(() => peer.remote!.cmpct !== null, 'sendcmpct');
    assert.equal(peer.remote!.cmpct, { announce: false, version: 1n });
    await waitUntil(() => peer.stats.msgsInByCommand[COMMAND_NAMES.indexOf('getaddr')]! === 1, 'getaddr');
    assert.ok(peer.isOpen);
  });
});

async function waitUntil(cond: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the peer API delivers bcoin block inv to peer.on(inv)', async () => {
  await withPeer(async (peer) => {
    const invP = nextMessage(peer, 'inv', (m) => m.inventory.some((e) => e.type === InvType.MSG_BLOCK));
    const [hash] = await node().mine(1);
    const inv = await invP;
    assert.equal(
      inv.inventory.map((e) => [e.type, hashToHex(e.hash)]),
      [[InvType.MSG_BLOCK, hash]],
    );
    assert.ok(peer.rxTime > 0, 'receive time stamped');
  });
});

test('the peer API measures a ping round trip to bcoin', async () => {
  await withPeer(async (peer) => {
    // The peer may have pinged on its own already (its first ping is due 2 s after the handshake).
    await waitUntil(() => peer.ping() || peer.stats.pingsSent > peer.stats.pongsReceived, 'ping sent');
    const sent = peer.stats.pingsSent;
    await waitUntil(() => peer.stats.pongsReceived >= sent, 'pong');
    assert.ok(peer.stats.lastRttMs >= 0 && peer.stats.lastRttMs < WAIT_MS, `rtt ${peer.stats.lastRttMs}`);
    assert.ok(peer.stats.minRttMs >= 0);
    assert.is(peer.stats.rttsMs.length, peer.stats.pongsReceived);
    assert.is(peer.stats.faults.get('UNEXPECTED_PONG'), undefined);
    findings.peerPingRttMs = Math.round(peer.stats.lastRttMs * 1000) / 1000;
  });
});

test('the peer API sends getheaders and getaddr and gets what bcoin answers', async () => {
  await withPeer(async (peer) => {
    const addrs: unknown[] = [];
    peer.on('addr', (m) => addrs.push(m));
    peer.on('addrv2', (m) => addrs.push(m));
    const headersP = nextMessage(peer, 'headers');
    assert.ok(peer.send('getaddr', {}));
    assert.ok(peer.send('getheaders', { version: PROTOCOL_VERSION, locator: [hexToHash(NET.genesisHash)], hashStop: new Uint8Array(32) }));
    const headers = (await headersP).headers;
    const tip = node().height();
    assert.is(headers.length, tip);
    assert.is(hashToHex(headerHash(headers[tip - 1]!)), node().tipHash());
    // The headers answer came after bcoin handled our getaddr (one lock per peer): no addr.
    assert.equal(addrs, []);
  });
});

test('closing a peer ends the connection on bcoin side too', async () => {
  const peers = node().node.pool.peers;
  // Earlier tests' connections are closed; bcoin drops them as their sockets end.
  await waitUntil(() => peers.size() === 0, 'bcoin has dropped earlier peers');
  await withPeer(async () => {
    await waitUntil(() => peers.size() === 1, 'bcoin counts the peer');
    assert.is(peers.head().agent, USER_AGENT);
  });
  await waitUntil(() => peers.size() === 0, 'bcoin drops the peer');
});

// -----------------------------------------------------------------------------------------------
// The harness itself

test('a bcoin node starts, stops and frees its port', async () => {
  const t0 = performance.now();
  const other = await startBcoinNode();
  const started = performance.now() - t0;
  const port = other.port;
  assert.is.not(port, node().port);
  await other.stop();
  const refused = await new Promise<string>((resolve) => {
    const sock = netConnect({ port, host: '127.0.0.1' });
    const t = setTimeout(() => {
      sock.destroy();
      resolve('timeout');
    }, WAIT_MS);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? 'error');
    });
  });
  assert.is(refused, 'ECONNREFUSED');
  assert.equal(other.guard.outbound, []);
  findings.secondNode = { startMs: Math.round(started), startStopMs: Math.round(performance.now() - t0) };
});

test('bcoin never tried to reach another address', async () => {
  const g = node().guard;
  assert.equal(g.outbound, [], 'no outbound connection off loopback');
  assert.equal(g.loopbackOutbound, [], 'no outbound connection at all');
  assert.equal(g.lookups, [], 'no name lookup');
  // It did call its discovery steps once on connect; the harness turned them into no-ops.
  assert.equal(g.discovery, ['discoverGateway', 'discoverExternal', 'discoverSeeds']);
  findings.discoveryCallsBlocked = g.discovery;
});

test.run();
