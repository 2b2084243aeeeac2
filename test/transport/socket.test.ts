import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { CoarseTimer, connectPeer, listenPeers, type Peer } from '../../src/peer/index.js';
import { connectShardPeer } from '../../src/pool/shard/socket.js';
import { MAX_CHUNKS_PER_TURN } from '../../src/transport/socket.js';
import { V1Transport } from '../../src/transport/seam.js';
import { Command, InvType } from '../../src/protocol/constants.js';
import { until } from '../helpers.js';
import { encodeFrame, encodeRawFrame } from '../../src/transport/v1.js';
import { NET, MAGIC, version, verack, pings, turn } from './remote-frames.js';

// The socket glue over loopback, on each of its entries: a dialled socket (onread, shared
// receive buffer: connectPeer and connectShardPeer) and an accepted one ('data' events).

const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

const pingsIn = (p: Peer): number => p.stats.msgsInByCommand[Command.ping]!;

/** A scripted remote node: sends version+verack, then `onPeerSpoke` when our side first writes. */
async function remoteNode(onPeerSpoke: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s: Socket) => {
    sockets.push(s);
    s.on('error', () => {});
    s.write(Buffer.concat([version, verack]));
    s.once('data', () => onPeerSpoke(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function closeAll(server: Server, sockets: Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
}

/** Counts the pings a peer handles per event-loop turn until all `total` arrived. */
async function maxPingsPerTurn(peer: Peer, total: number): Promise<{ maxPerTurn: number; turns: number }> {
  let last = pingsIn(peer);
  let maxPerTurn = 0;
  let turns = 0;
  while (pingsIn(peer) < total && turns < 100_000) {
    await turn();
    turns++;
    const n = pingsIn(peer);
    if (n - last > maxPerTurn) maxPerTurn = n - last;
    last = n;
  }
  assert.is(pingsIn(peer), total);
  return { maxPerTurn, turns };
}

// A read is at most 64 KB (2,048 pings); one turn may also finish the frame the last one split.
function assertBudget(r: { maxPerTurn: number; turns: number }, total: number): void {
  assert.ok(r.maxPerTurn <= MAX_CHUNKS_PER_TURN * 2048 + 1, `${r.maxPerTurn} pings in one turn`);
  assert.ok(r.turns >= total / 2048 / MAX_CHUNKS_PER_TURN, `${r.turns} turns`);
}

test(`a shard's dialled socket delivers at most ${MAX_CHUNKS_PER_TURN} chunk(s) per event-loop turn`, async () => {
  const total = 65_536; // 2 MB: libuv would read it in one go
  const flood = pings(total);
  const { server, port, sockets } = await remoteNode((s) => s.write(flood));
  const peer = await connectShardPeer({ network: NET, host: '127.0.0.1', port, localNonces: new Set(), timer: new CoarseTimer(10) });
  await peer.ready;
  assertBudget(await maxPingsPerTurn(peer, total), total);
  peer.close();
  await closeAll(server, sockets);
});

test(`an accepted socket ('data' events) delivers at most ${MAX_CHUNKS_PER_TURN} chunk(s) per event-loop turn`, async () => {
  const total = 65_536;
  let peer = null as Peer | null;
  const server = await listenPeers({ network: NET, host: '127.0.0.1', port: 0, localNonces: new Set(), timer: new CoarseTimer(10) }, (p) => {
    peer = p;
  });
  const port = (server.address() as { port: number }).port;
  const client = netConnect({ host: '127.0.0.1', port });
  client.on('error', () => {});
  // Our version first (the accepted peer is the responder), its verack, then the flood at once.
  client.write(Buffer.concat([version, verack]));
  await until(() => peer !== null && peer.isReady, 'inbound handshake');
  client.write(pings(total));
  assertBudget(await maxPingsPerTurn(peer!, total), total);
  peer!.close();
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

test('stops reading a dialled socket whose answers pile up over the send bound, reads it again once they flush', async () => {
  const bound = 100_000;
  let remote = null as Socket | null;
  const { server, port, sockets } = await remoteNode((s) => {
    remote = s;
    s.pause(); // the remote reads none of our pongs
  });
  const peer = await connectShardPeer({ network: NET, host: '127.0.0.1', port, localNonces: new Set(), maxSendBuffer: bound, sendStallMs: 60_000 });
  await peer.ready;
  await until(() => remote !== null, 'the remote paused');
  // The kernel buffers take some megabytes of pongs first; flood in 2 MB steps until reading stops.
  let sent = 0;
  let stalled = false;
  while (!stalled && sent < 64 * 65_536) {
    remote!.write(pings(65_536, sent + 1));
    sent += 65_536;
    let last = -1;
    // Read all that was sent, or stop moving for 200 ms (the glue stopped reading).
    for (let still = 0; pingsIn(peer) < sent && still < 20; ) {
      await new Promise((r) => setTimeout(r, 10));
      if (pingsIn(peer) === last) still++;
      else still = 0;
      last = pingsIn(peer);
    }
    stalled = pingsIn(peer) < sent;
  }
  assert.ok(stalled, `reading stopped before ${sent} pings`);
  // What the peer queued stays at the bound plus one chunk's answers (2,048 pongs).
  assert.ok(peer.stats.sendBufferedMax <= bound + 2048 * 32, `${peer.stats.sendBufferedMax} queued`);
  remote!.resume();
  await until(() => pingsIn(peer) === sent, 'the rest read once the pongs flushed', 30_000);
  assert.ok(peer.isOpen);
  peer.close();
  await closeAll(server, sockets);
});

test('two dialled sockets reading large frames at once each read in place into their own frame buffer', async () => {
  const big = new Uint8Array(1_500_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
  const frame = encodeRawFrame(MAGIC, 'bigframe', big);
  // Both remotes send at once, so both sockets have reads pending in the same poll.
  const { server, port, sockets } = await remoteNode((s) => {
    for (let k = 0; k < 3; k++) s.write(frame);
  });
  const a = await connectPeer({ network: NET, host: '127.0.0.1', port, localNonces: new Set() });
  const b = await connectShardPeer({ network: NET, host: '127.0.0.1', port, localNonces: new Set() });
  for (const p of [a, b]) await until(() => (p.stats.unknownIn.get('bigframe') ?? 0) === 3, 'three large frames counted', 10_000);
  for (const p of [a, b]) {
    assert.ok((p.transport as V1Transport).decoder.inPlaceBytes > big.length, `bytes read in place: ${(p.transport as V1Transport).decoder.inPlaceBytes}`);
    // Counted as unknown only once the checksum verified: a byte from the other socket would
    // have shown as a checksum fault.
    assert.equal([...p.stats.faults.keys()], ['ERR_WIRE_UNKNOWN_COMMAND']);
  }
  a.close();
  b.close();
  await closeAll(server, sockets);
});

test('a handler keeps what it got: a message read through the shared receive buffer is not changed by the next read', async () => {
  const hashA = new Uint8Array(32).fill(0xaa);
  const hashB = new Uint8Array(32).fill(0xbb);
  const inv = (hash: Uint8Array): Uint8Array => encodeFrame(MAGIC, 'inv', { inventory: [{ type: InvType.MSG_TX, hash }] });
  const { server, port, sockets } = await remoteNode((s) => {
    s.write(inv(hashA));
    // A later read of the same socket lands at the start of the same receive buffer.
    setTimeout(() => s.write(inv(hashB)), 50);
  });
  const kept: Uint8Array[] = [];
  const peer = await connectPeer({
    network: NET,
    host: '127.0.0.1',
    port,
    localNonces: new Set(),
    setup: (p) => p.on('message', (command, msg) => {
      if (command === 'inv') kept.push((msg as { inventory: { hash: Uint8Array }[] }).inventory[0]!.hash);
    }),
  });
  await until(() => kept.length === 2, 'two invs');
  assert.equal([...kept[0]!], [...hashA]);
  assert.equal([...kept[1]!], [...hashB]);
  peer.close();
  await closeAll(server, sockets);
});

test.run();
