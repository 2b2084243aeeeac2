/**
 * What `invscope connect` prints: one JSON line per event, in time order. Lines are gathered for
 * one turn of the event loop and written sorted by `t` (stable), since one socket read yields the
 * peer's messages (timed when the bytes arrived) after our replies to them were sent. Messages a
 * v2 transport queued before its handshake are printed once the transport is up, and dropped if
 * the attempt is abandoned (they were never sent). Main thread, cold path.
 */
import type { Peer } from '../peer/index.js';
import { messageToJSON, decodePayload } from '../protocol/registry.js';
import { isKnownCommand, commandId } from '../protocol/commands.js';
import { toHex } from '../protocol/hex.js';
import { now } from '../observe/clock.js';
import { jsonLine } from './decode.js';

type Line = Record<string, unknown> & { t: number };

export class OrderedOut {
  private pending: Line[] = [];
  private scheduled = false;

  constructor(private readonly write: (s: string) => void = (s) => void process.stdout.write(s)) {}

  line(o: Line): void {
    this.pending.push(o);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is gathered, sorted by time; also called before the process ends. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending.sort((a, b) => a.t - b.t);
    this.pending = [];
    this.write(lines.map((l) => jsonLine(l)).join('\n') + '\n');
  }
}

/** The JSON of a message we sent through `sendRaw` (`{ command, payload }`): decoded when it decodes. */
export function rawToJSON(command: string, payload: Uint8Array): Record<string, unknown> {
  if (!isKnownCommand(command)) return { command, unknown: true, payloadHex: toHex(payload) };
  const msg = decodePayload(commandId(command), payload, 0, payload.length);
  if (msg === undefined) return { command, malformed: true, payloadHex: toHex(payload) };
  return messageToJSON(command, msg);
}

function isRaw(msg: unknown): msg is { command: string; payload: Uint8Array } {
  return typeof msg === 'object' && msg !== null && (msg as { payload?: unknown }).payload instanceof Uint8Array && 'command' in msg;
}

/**
 * Wires a peer's events to the printer: in and out messages, faults, ready (after a
 * `connected` line timed when the socket connected), pongs with their round trip.
 */
export function printPeer(p0: Peer, out: OrderedOut): { connectedPrinted: () => boolean; dropQueued: () => void } {
  let connected = false;
  let queued: Line[] = [];
  let pongs = 0;
  const printConnected = (p: Peer): void => {
    if (connected || p.stats.connectedAt === 0) return;
    connected = true;
    out.line({ t: p.stats.connectedAt, event: 'connected', peer: p.id, transport: p.transport.kind });
  };
  const transportUp = (): void => {
    for (const l of queued) out.line(l);
    queued = [];
  };
  p0.on('sent', (command, bytes, p, msg) => {
    printConnected(p);
    const line = { t: now(), dir: 'out', bytes, ...(isRaw(msg) ? rawToJSON(command, msg.payload) : messageToJSON(command, msg)) };
    // 0 bytes: a v2 transport holds the message until its handshake is done.
    if (bytes === 0) queued.push({ ...line, bytes: null, queuedUntilHandshake: true });
    else out.line(line);
  });
  p0.on('message', (command, msg, p) => {
    printConnected(p);
    transportUp();
    const line: Line = { t: p.rxTime, dir: 'in', ...messageToJSON(command, msg) };
    if (command === 'pong') {
      // The peer matches the pong to its ping after its listeners ran: read the result just after.
      queueMicrotask(() => {
        if (p.stats.pongsReceived === pongs) return;
        pongs = p.stats.pongsReceived;
        line.rttMs = Math.round(p.stats.lastRttMs * 1000) / 1000;
      });
    }
    out.line(line);
  });
  p0.on('fault', (code, command, p) => out.line({ t: p.rxTime, event: 'fault', code, command }));
  p0.on('ready', (p) => {
    printConnected(p);
    transportUp();
    const r = p.remote!;
    out.line({
      t: now(),
      event: 'ready',
      peer: p.id,
      transport: p.transport.kind,
      remote: { version: r.version, services: r.services.toString(), userAgent: r.userAgent, startHeight: r.startHeight, relay: r.relay, wtxidRelay: r.wtxidRelay, sendAddrV2: r.sendAddrV2 },
    });
  });
  return { connectedPrinted: () => connected, dropQueued: () => void (queued = []) };
}

/** The closing explanation for a handshake that never finished, or null for other closes. */
export function handshakeTimeoutLine(reason: string, p: Peer, timeoutMs: number): Line | null {
  if (reason !== 'no-version' && reason !== 'handshake-timeout') return null;
  const heard = p.stats.bytesIn > 0;
  return {
    t: now(),
    event: 'handshake-timeout',
    reason,
    afterMs: timeoutMs,
    message: heard
      ? `the peer answered but did not finish the handshake within ${timeoutMs / 1000} s`
      : `the peer accepted the connection but sent nothing within ${timeoutMs / 1000} s: is it a Bitcoin node of this network (--network)?`,
  };
}
