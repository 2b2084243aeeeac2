import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Duplex } from 'node:stream';
import { Peer, CloseReason, CoarseTimer, attachStream, connectPeer, listenPeers, ConnectError, type PeerOptions } from '../../src/peer/index.js';
import { V1Decoder, encodeFrame, encodeRawFrame } from '../../src/transport/v1.js';
import { NETWORKS, Command, COMMAND_NAMES, type CommandName } from '../../src/protocol/constants.js';
import { decodePayload, type MessageMap } from '../../src/protocol/registry.js';
import { commandString } from '../../src/protocol/commands.js';
import { duplexPair, until, sleep } from '../helpers.js';

const NET = NETWORKS.regtest;
// In-memory streams do not hold the event loop open the way sockets do, and the peers' shared
// timer is unref'd: hold the loop for the suite's duration.
const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));
const MAGIC = NET.magic;

function peerOpts(direction: 'outbound' | 'inbound', extra: Partial<PeerOptions> = {}): PeerOptions {
  return { network: NET, direction, localNonces: new Set(), timer: new CoarseTimer(20), ...extra };
}

/** Two invscope peers over an in-memory pair: outbound `a`, inbound `b`, separate nodes. */
function pair(aExtra: Partial<PeerOptions> = {}, bExtra: Partial<PeerOptions> = {}): { a: Peer; b: Peer } {
  const [sa, sb] = duplexPair();
  const a = new Peer(peerOpts('outbound', { remoteHost: '127.0.0.2', remotePort: 18444, ...aExtra }));
  const b = new Peer(peerOpts('inbound', { remoteHost: '127.0.0.1', remotePort: 50000, ...bExtra }));
  attachStream(b, sb);
  attachStream(a, sa);
  return { a, b };
}

/** A scripted remote: records what the peer sends (decoded) and writes raw bytes to it. */
class Remote {
  readonly got: { command: string; msg: any }[] = [];
  readonly dec: V1Decoder;
  constructor(readonly stream: Duplex) {
    this.dec = new V1Decoder(MAGIC, {
      onFrame: (cmd, buf, off, len) => {
        const command = cmd === 0 ? commandString(buf, off - 20) : COMMAND_NAMES[cmd]!;
        this.got.push({ command, msg: cmd === 0 ? null : decodePayload(cmd, buf.slice(off, off + len), 0, len) });
      },
    });
    stream.on('data', (c: Buffer) => this.dec.push(c));
  }
  send<K extends CommandName>(command: K, msg: MessageMap[K]): void {
    this.stream.write(encodeFrame(MAGIC, command, msg));
  }
  raw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }
  commands(): string[] {
    return this.got.map((g) => g.command);
  }
}

const remoteVersion = (over: Partial<MessageMap['version']> = {}): MessageMap['version'] => ({
  version: 70016,
  services: 1n | (1n << 3n),
  timestamp: 1_700_000_000n,
  addrRecv: { services: 0n, ip: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]), port: 50000 },
  addrFrom: { services: 0n, ip: new Uint8Array(16), port: 0 },
  nonce: 0x1234n,
  userAgent: '/Satoshi:28.0.0/',
  startHeight: 850_000,
  relay: true,
  ...over,
});

/** An outbound peer attached to a scripted remote. */
function scripted(extra: Partial<PeerOptions> = {}): { peer: Peer; remote: Remote } {
  const [sa, sb] = duplexPair();
  const remote = new Remote(sb);
  const peer = new Peer(peerOpts('outbound', { remoteHost: '127.0.0.2', remotePort: 18444, ...extra }));
  attachStream(peer, sa);
  return { peer, remote };
}

async function handshaken(extra: Partial<PeerOptions> = {}): Promise<{ peer: Peer; remote: Remote }> {
  const s = scripted(extra);
  await until(() => s.remote.got.length >= 1, 'our version');
  s.remote.send('version', remoteVersion());
  s.remote.send('verack', {});
  await s.peer.ready;
  return s;
}

test('completes the handshake between two invscope peers and records each side', async () => {
  const { a, b } = pair({ version: { userAgent: '/a:1/', startHeight: 7 } }, { version: { userAgent: '/b:2/', startHeight: 9, relay: false } });
  await Promise.all([a.ready, b.ready]);
  assert.is(a.remote!.userAgent, '/b:2/');
  assert.is(a.remote!.startHeight, 9);
  assert.is(a.remote!.relay, false);
  assert.is(b.remote!.userAgent, '/a:1/');
  assert.is(b.remote!.relay, true);
  assert.ok(a.remote!.wtxidRelay && a.remote!.sendAddrV2 && b.remote!.wtxidRelay && b.remote!.sendAddrV2);
  assert.ok(a.stats.handshakeAt >= a.stats.connectedAt);
  a.close();
  assert.is(await b.closed, CloseReason.REMOTE_CLOSED);
  assert.is(a.stats.closeReason, CloseReason.LOCAL);
});

test('sends exactly version, wtxidrelay, sendaddrv2, verack in that order and nothing else before the handshake ends', async () => {
  const { peer, remote } = scripted();
  await until(() => remote.got.length >= 1, 'version');
  const v = remote.got[0]!.msg as MessageMap['version'];
  assert.is(v.version, 70016);
  assert.is(v.relay, true, 'measurement needs relay=1');
  assert.is(v.services, 0n);
  remote.send('version', remoteVersion());
  await until(() => remote.got.length >= 4, 'verack');
  await sleep(20);
  assert.equal(remote.commands(), ['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
  assert.is(peer.isReady, false);
  remote.send('verack', {});
  await peer.ready;
  assert.is(peer.remote!.userAgent, '/Satoshi:28.0.0/');
  assert.equal([...peer.remote!.addrRecv.ip.subarray(12)], [127, 0, 0, 1], 'records how the peer sees us');
  peer.close();
});

test('sends neither wtxidrelay nor sendaddrv2 to a peer below 70016', async () => {
  const { peer, remote } = scripted();
  await until(() => remote.got.length >= 1, 'version');
  remote.send('version', remoteVersion({ version: 70015 }));
  await until(() => remote.got.length >= 2, 'verack');
  assert.equal(remote.commands(), ['version', 'verack']);
  peer.close();
});

test('asks for headers or compact blocks only when told to', async () => {
  const { peer, remote } = await handshaken({ blockAnnounce: 'cmpct' });
  await until(() => remote.commands().includes('sendcmpct'), 'sendcmpct');
  const m = remote.got.find((g) => g.command === 'sendcmpct')!.msg;
  assert.equal(m, { announce: true, version: 2n });
  assert.not.ok(remote.commands().includes('sendheaders'));
  peer.close();
});

test('drops a peer below protocol 31800 with the reason', async () => {
  const { peer, remote } = scripted();
  await until(() => remote.got.length >= 1, 'version');
  remote.send('version', remoteVersion({ version: 31799 }));
  assert.is(await peer.closed, CloseReason.OBSOLETE_VERSION);
  await peer.ready.then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /obsolete-version/),
  );
});

test('detects a connection to itself by the version nonce', async () => {
  const shared = new Set<bigint>();
  const { a, b } = pair({ localNonces: shared }, { localNonces: shared });
  assert.is(await b.closed, CloseReason.SELF_CONNECTION);
  await a.closed;
});

test('drops a peer that sends no version in time', async () => {
  const timer = new CoarseTimer(10);
  const { peer } = scripted({ handshakeTimeoutMs: 50, timer });
  assert.is(await peer.closed, CloseReason.NO_VERSION);
  assert.is(timer.size, 0, 'the closed peer left the shared timer');
});

test('drops a peer whose verack never comes', async () => {
  const { peer, remote } = scripted({ handshakeTimeoutMs: 80, timer: new CoarseTimer(10) });
  await until(() => remote.got.length >= 1, 'version');
  remote.send('version', remoteVersion());
  assert.is(await peer.closed, CloseReason.HANDSHAKE_TIMEOUT);
});

test('drops a peer that sends anything before its version', async () => {
  const { peer, remote } = scripted();
  remote.send('ping', { nonce: 1n });
  assert.is(await peer.closed, CloseReason.HANDSHAKE_OUT_OF_ORDER);
  assert.is(peer.stats.faults.get('HANDSHAKE_OUT_OF_ORDER'), 1);
});

test('drops a peer that sends a second version or a verack after the handshake', async () => {
  const a = await handshaken();
  a.remote.send('version', remoteVersion());
  assert.is(await a.peer.closed, CloseReason.HANDSHAKE_OUT_OF_ORDER);
  const b = await handshaken();
  b.remote.send('wtxidrelay', {});
  assert.is(await b.peer.closed, CloseReason.HANDSHAKE_OUT_OF_ORDER);
});

test('drops a peer whose version is malformed', async () => {
  const { peer, remote } = scripted();
  remote.raw(encodeRawFrame(MAGIC, 'version', new Uint8Array(30)));
  assert.is(await peer.closed, CloseReason.MALFORMED_HANDSHAKE);
  assert.is(peer.stats.faults.get('ERR_WIRE_TRUNCATED'), 1);
});

test('answers ping with pong and getheaders with an empty headers', async () => {
  const { peer, remote } = await handshaken({ pingIntervalMs: 1e9 });
  remote.send('ping', { nonce: 777n });
  remote.send('getheaders', { version: 70016, locator: [new Uint8Array(32)], hashStop: new Uint8Array(32) });
  await until(() => remote.commands().includes('headers'), 'headers');
  const pong = remote.got.find((g) => g.command === 'pong')!;
  assert.is(pong.msg.nonce, 777n);
  assert.equal(remote.got.find((g) => g.command === 'headers')!.msg, { headers: [] });
  peer.close();
});

test('pings on its interval and records the round-trip time', async () => {
  const { peer, remote } = await handshaken({ pingIntervalMs: 10, timer: new CoarseTimer(5) });
  remote.stream.on('data', () => {
    for (const g of remote.got.splice(0)) if (g.command === 'ping') remote.send('pong', { nonce: g.msg.nonce });
  });
  await until(() => peer.stats.pongsReceived >= 2, 'two pongs');
  assert.ok(peer.stats.lastRttMs >= 0 && peer.stats.minRttMs >= 0);
  assert.ok(peer.stats.rttsMs.length >= 2);
  peer.close();
});

test('drops a peer that does not answer a ping in time', async () => {
  const { peer } = await handshaken({ pingIntervalMs: 10, pingTimeoutMs: 60, timer: new CoarseTimer(5) });
  assert.is(await peer.closed, CloseReason.PING_TIMEOUT);
  assert.is(peer.stats.pingsSent, 1);
});

test('drops an idle peer', async () => {
  const { peer } = await handshaken({ idleTimeoutMs: 60, pingIntervalMs: 1e9, timer: new CoarseTimer(5) });
  assert.is(await peer.closed, CloseReason.IDLE_TIMEOUT);
});

test('calls several handlers per command in order, and a throwing handler neither kills the peer nor stops the next', async () => {
  const { peer, remote } = await handshaken();
  const calls: string[] = [];
  const errors: string[] = [];
  peer.on('inv', (m) => calls.push(`first:${m.inventory.length}`));
  peer.on('inv', () => {
    throw new Error('boom');
  });
  peer.on('inv', () => calls.push('third'));
  peer.on('handlerError', (e, cmd) => errors.push(`${cmd}:${(e as Error).message}`));
  const inv = { inventory: [{ type: 5, hash: new Uint8Array(32).fill(7) }] };
  remote.send('inv', inv);
  remote.send('inv', inv);
  await until(() => calls.length === 4, 'handlers');
  assert.equal(calls, ['first:1', 'third', 'first:1', 'third']);
  assert.equal(errors, ['inv:boom', 'inv:boom']);
  assert.is(peer.stats.handlerErrors, 2);
  assert.ok(peer.isOpen);
  peer.close();
});

test('hands handlers decoded messages they may keep after the read', async () => {
  const { peer, remote } = await handshaken();
  const kept: MessageMap['inv'][] = [];
  peer.on('inv', (m) => kept.push(m));
  for (let i = 0; i < 3; i++) remote.send('inv', { inventory: [{ type: 1, hash: new Uint8Array(32).fill(i) }] });
  await until(() => kept.length === 3, 'three inv');
  assert.equal(
    kept.map((m) => m.inventory[0]!.hash[0]),
    [0, 1, 2],
  );
  peer.close();
});

test('hands frames to the raw tap before decoding, after the handshake, and skips decoding what it consumes', async () => {
  const tapped: string[] = [];
  const { peer, remote } = await handshaken({
    rawTap: (cmd, buf, off, len) => {
      tapped.push(`${COMMAND_NAMES[cmd]}:${len}:${buf[off]}`);
      return cmd === Command.inv;
    },
  });
  const decoded: string[] = [];
  peer.on('inv', () => decoded.push('inv'));
  peer.on('ping', () => decoded.push('ping'));
  remote.send('inv', { inventory: [{ type: 5, hash: new Uint8Array(32) }] });
  remote.send('ping', { nonce: 3n });
  await until(() => decoded.length === 1, 'ping decoded');
  assert.equal(tapped, ['inv:37:1', 'ping:8:3']);
  assert.equal(decoded, ['ping']);
  assert.is(peer.stats.msgsInByCommand[Command.inv], 1);
  peer.close();
});

test('rejects handler registration for something that is neither a command nor an event', () => {
  const p = new Peer(peerOpts('outbound'));
  assert.throws(() => p.on('nosuch' as any, () => {}), /nosuch/);
});

test('counts a bad checksum and an unknown command and keeps the peer', async () => {
  const { peer, remote } = await handshaken();
  const raws: string[] = [];
  peer.on('unknown', (m) => raws.push(`${m.command}:${m.payload.length}`));
  const bad = encodeRawFrame(MAGIC, 'ping', new Uint8Array(8));
  bad[20]! ^= 1;
  remote.raw(bad);
  remote.raw(encodeRawFrame(MAGIC, 'fancynew', new Uint8Array(3)));
  remote.send('ping', { nonce: 5n });
  await until(() => remote.commands().includes('pong'), 'pong after the bad frames');
  assert.is(peer.stats.faults.get('ERR_WIRE_CHECKSUM'), 1);
  assert.is(peer.stats.faults.get('ERR_WIRE_UNKNOWN_COMMAND'), 1);
  assert.is(peer.stats.unknownIn.get('fancynew'), 1);
  assert.equal(raws, ['fancynew:3']);
  assert.ok(peer.isOpen);
  peer.close();
});

test('counts and drops a malformed payload and an inv of 50,001 entries, and keeps the peer', async () => {
  const { peer, remote } = await handshaken();
  remote.raw(encodeRawFrame(MAGIC, 'inv', new Uint8Array([2, 1, 0, 0, 0])));
  const big = new Uint8Array(3 + 36 * 50_001);
  big.set([0xfd, 0x51, 0xc3]); // CompactSize 50,001
  remote.raw(encodeRawFrame(MAGIC, 'inv', big));
  remote.send('ping', { nonce: 6n });
  await until(() => remote.commands().includes('pong'), 'pong');
  assert.is(peer.stats.faults.get('ERR_WIRE_TRUNCATED'), 1);
  assert.is(peer.stats.faults.get('ERR_WIRE_TOO_MANY_ITEMS'), 1);
  assert.ok(peer.isOpen);
  peer.close();
});

test('disconnects on a wrong magic, malformed command bytes and an oversize length', async () => {
  const cases: [Uint8Array, string][] = [
    [encodeRawFrame(NETWORKS.mainnet.magic, 'ping', new Uint8Array(8)), CloseReason.BAD_MAGIC],
    [(() => { const f = encodeRawFrame(MAGIC, 'ping', new Uint8Array(8)); f[5] = 0x01; return f; })(), CloseReason.BAD_COMMAND],
    [(() => { const f = encodeRawFrame(MAGIC, 'block', new Uint8Array(0)); new DataView(f.buffer).setUint32(16, 4_000_001, true); return f; })(), CloseReason.OVERSIZE],
  ];
  for (const [bytes, reason] of cases) {
    const { peer, remote } = await handshaken();
    remote.raw(bytes);
    assert.is(await peer.closed, reason);
    assert.is(peer.stats.faults.size, 1);
  }
});

test('counts messages that arrive before the handshake ends but are not part of it', async () => {
  const { peer, remote } = scripted();
  await until(() => remote.got.length >= 1, 'version');
  remote.send('version', remoteVersion());
  remote.send('inv', { inventory: [] });
  remote.send('verack', {});
  await peer.ready;
  assert.is(peer.stats.faults.get('EARLY_MESSAGE'), 1);
  peer.close();
});

test('refuses sends while the send buffer is over its bound, and drops a peer that stays stalled', async () => {
  let buffered = 0;
  const timer = new CoarseTimer(5);
  const peer = new Peer(peerOpts('outbound', { maxSendBuffer: 100, sendStallMs: 40, timer }));
  const written: number[] = [];
  peer.attach({ write: (b) => written.push(b.length), bufferedBytes: () => buffered, close: () => {} });
  assert.is(written.length, 1, 'the version went out');
  buffered = 1000;
  assert.is(peer.sendRaw('ping', new Uint8Array(8)), false);
  assert.is(peer.stats.sendRefused, 1);
  assert.is(peer.sendBufferedBytes, 1000);
  assert.is(await peer.closed, CloseReason.SEND_STALLED);
});

test('counts bytes and messages per command in each direction', async () => {
  const { peer, remote } = await handshaken({ pingIntervalMs: 1e9 });
  remote.send('ping', { nonce: 1n });
  await until(() => remote.commands().includes('pong'), 'pong');
  const s = peer.stats;
  assert.is(s.msgsInByCommand[Command.version], 1);
  assert.is(s.msgsInByCommand[Command.ping], 1);
  assert.is(s.bytesInByCommand[Command.ping], 32);
  assert.is(s.msgsOutByCommand[Command.pong], 1);
  assert.is(s.bytesOutByCommand[Command.verack], 24);
  const json = s.toJSON() as any;
  assert.is(json.msgsOut.version, 1);
  assert.is(json.bytesOut, s.bytesOut);
  assert.ok(s.bytesIn >= 24 * 3);
  peer.close();
});

test('connects over loopback sockets, in both directions, and closes cleanly', async () => {
  const inbound: Peer[] = [];
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET, localNonces: new Set() }, (p) => inbound.push(p));
  const port = (server.address() as { port: number }).port;
  const out = await connectPeer({ host: '127.0.0.1', port, network: NET, localNonces: new Set(), version: { userAgent: '/loop:1/' } });
  await out.ready;
  await until(() => inbound.length === 1 && inbound[0]!.isReady, 'inbound ready');
  assert.is(inbound[0]!.remote!.userAgent, '/loop:1/');
  assert.is(inbound[0]!.direction, 'inbound');
  const got: bigint[] = [];
  inbound[0]!.on('ping', (m) => got.push(m.nonce));
  out.send('ping', { nonce: 99n });
  await until(() => got.length === 1, 'ping over the socket');
  out.close();
  assert.is(await inbound[0]!.closed, CloseReason.REMOTE_CLOSED);
  await new Promise((r) => server.close(r));
});

test('reports a refused connection as a ConnectError with the socket code', async () => {
  const server = await listenPeers({ host: '127.0.0.1', port: 0, network: NET }, () => {});
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  try {
    await connectPeer({ host: '127.0.0.1', port, network: NET });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ConnectError);
    assert.is((e as ConnectError).code, 'ECONNREFUSED');
  }
});

test.run();
