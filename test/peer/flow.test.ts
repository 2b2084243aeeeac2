import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Duplex } from 'node:stream';
import { createServer, type Socket } from 'node:net';
import { Peer, CloseReason, CoarseTimer, attachStream, connectPeer, type PeerOptions } from '../../src/peer/index.js';
import { MAX_CHUNKS_PER_TURN } from '../../src/transport/socket.js';
import { Command } from '../../src/protocol/constants.js';
import { until } from '../helpers.js';
import { NET, version, verack, pings, turn } from '../transport/remote-frames.js';
import { encodeFrame } from '../../src/transport/v1.js';
import type { MessageMap } from '../../src/protocol/registry.js';

// Flow control of a peer's socket: what a flooding or never-reading peer can make us
// do per turn of the event loop and per byte it sends.

const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

/** A stream under test's control: records each write; `stuck` holds write callbacks (a remote that never reads). */
class Pipe extends Duplex {
  writes: number[] = [];
  stuck = false;
  private held: (() => void)[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.writes.push(chunk.length);
    if (this.stuck) this.held.push(cb);
    else cb();
  }
  /** The remote reads again: every held write completes. */
  release(): void {
    this.stuck = false;
    const h = this.held;
    this.held = [];
    for (const cb of h) cb();
  }
}

async function handshaken(extra: Partial<PeerOptions> = {}): Promise<{ peer: Peer; pipe: Pipe }> {
  const pipe = new Pipe();
  const peer = new Peer({ network: NET, direction: 'outbound', localNonces: new Set(), timer: new CoarseTimer(10), ...extra });
  attachStream(peer, pipe);
  pipe.push(Buffer.concat([version, verack]));
  await peer.ready;
  await turn();
  pipe.writes = [];
  return { peer, pipe };
}

test('answers every frame of one received chunk in one write: 1,000 pings, one write of 1,000 pongs', async () => {
  const { peer, pipe } = await handshaken();
  pipe.push(pings(1000));
  await until(() => peer.stats.msgsOutByCommand[Command.pong] === 1000, '1,000 pongs');
  assert.equal(pipe.writes, [1000 * 32]);
  peer.close();
});

test(`delivers at most ${MAX_CHUNKS_PER_TURN} chunk(s) of one socket per event-loop turn`, async () => {
  // A real socket: libuv reads up to 32 x 64 KB in a row from a readable one. 4 MB of pings.
  const flood = pings(131_072);
  const server = createServer((s: Socket) => {
    s.write(Buffer.concat([version, verack]));
    s.on('error', () => {});
    s.once('data', () => s.write(flood));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const peer = await connectPeer({ network: NET, host: '127.0.0.1', port, localNonces: new Set(), timer: new CoarseTimer(10) });
  await peer.ready;
  let last = 0;
  let maxPerTurn = 0;
  let turns = 0;
  while (peer.stats.msgsInByCommand[Command.ping]! < 131_072 && turns < 100_000) {
    await turn();
    turns++;
    const n = peer.stats.msgsInByCommand[Command.ping]!;
    if (n - last > maxPerTurn) maxPerTurn = n - last;
    last = n;
  }
  assert.is(peer.stats.msgsInByCommand[Command.ping], 131_072);
  // A read is at most 64 KB (2,048 pings); one turn may also finish the frame the last one split.
  assert.ok(maxPerTurn <= MAX_CHUNKS_PER_TURN * 2048 + 1, `${maxPerTurn} pings in one turn`);
  assert.ok(turns >= 131_072 / 2048 / MAX_CHUNKS_PER_TURN, `${turns} turns`);
  peer.close();
  await new Promise<void>((r) => server.close(() => r()));
});

test('stops reading a peer whose answers pile up over the send bound, resumes when they drain', async () => {
  const bound = 10_000;
  const { peer, pipe } = await handshaken({ maxSendBuffer: bound, sendStallMs: 60_000 });
  pipe.stuck = true;
  // 2,048 pings a chunk (64 KB, one socket read), one chunk a turn: 64 KB of pongs each.
  for (let i = 0; i < 8; i++) {
    pipe.push(pings(2048, i * 2048 + 1));
    await turn();
  }
  await turn();
  // The first chunk's pongs went over the bound (those past it refused); then reading stopped.
  assert.is(peer.stats.msgsInByCommand[Command.ping], 2048);
  assert.ok(peer.stats.sendRefused > 0);
  assert.ok(peer.stats.sendBufferedMax <= bound + 32, `${peer.stats.sendBufferedMax} queued`);
  assert.ok(pipe.isPaused());
  pipe.release();
  await until(() => peer.stats.msgsInByCommand[Command.ping] === 8 * 2048, 'the rest read after the drain');
  assert.ok(peer.isOpen);
  peer.close();
});

test('a never-reading peer is closed send-stalled with its queue at the bound', async () => {
  const { peer, pipe } = await handshaken({ maxSendBuffer: 10_000, sendStallMs: 50 });
  pipe.stuck = true;
  pipe.push(pings(2048));
  assert.is(await peer.closed, CloseReason.SEND_STALLED);
  assert.ok(peer.stats.sendBufferedMax <= 10_000 + 32);
});

test('a message reassembled across reads stays intact in a handler after the next frames arrive', async () => {
  const { peer, pipe } = await handshaken();
  const kept: MessageMap['inv'][] = [];
  peer.on('inv', (m) => kept.push(m));
  const inv = (fill: number): Uint8Array => encodeFrame(NET.magic, 'inv', { inventory: Array.from({ length: 500 }, () => ({ type: 1, hash: new Uint8Array(32).fill(fill) })) });
  for (let i = 1; i <= 3; i++) {
    // Each frame arrives in two reads, so the decoder reassembles it in its own (reused) buffer.
    const f = inv(i);
    pipe.push(Buffer.from(f.subarray(0, 1000)));
    await turn();
    pipe.push(Buffer.from(f.subarray(1000)));
    await until(() => kept.length === i, `inv ${i}`);
  }
  assert.equal(
    kept.map((m) => [m.inventory[0]!.hash[0], m.inventory[499]!.hash[31]]),
    [[1, 1], [2, 2], [3, 3]],
  );
  peer.close();
});

test.run();
