/**
 * `invscope connect HOST:PORT`: one peer driven by hand (the way Bitpy sends what its user picks).
 * Prints lifecycle events and every message in both directions as one JSON line (the JSON of
 * `invscope decode` plus `t`, the receive or send time in epoch ms, and `dir`), and sends the
 * commands typed on stdin, one per line. Main thread, cold path.
 */
import { createInterface } from 'node:readline';
import type { Server } from 'node:net';
import { connectPeer, listenPeers, transportFactory, type Peer } from '../peer/index.js';
import { InvType, NETWORKS, type NetworkParams } from '../protocol/constants.js';
import { fromHex, hexToHash } from '../protocol/hex.js';
import { now } from '../observe/clock.js';
import { UsageError } from './decode.js';
import { parseHostPort as parseHostPortResult, isHostPort, type HostPort, type HostPortOptions } from '../pool/coordinator/hostport.js';
import { OrderedOut, printPeer, handshakeTimeoutLine } from './connect-out.js';
import { NetworkEvidence } from './network-hint.js';

export const CONNECT_HELP = `commands (one per line):
  ping                          send a ping (the pong's round trip is recorded)
  getaddr                       ask for addresses
  mempool                       ask for the mempool's inventory (BIP35; most nodes ignore it)
  getdata tx|wtx|block HASH     ask for a transaction (by txid or wtxid) or a block (display-order hash)
  getheaders HASH               ask for headers after HASH
  raw COMMAND [HEX]             send any command with a hex payload (none: empty)
  stats                         print this peer's counters
  help                          this text
  quit                          close the connection (as do Ctrl-C and end of input)
`;

/** HOST:PORT for the command line (IPv6 in brackets; the port defaults to `defaultPort`): a UsageError when bad. */
export function parseHostPort(s: string, defaultPort?: number, o: HostPortOptions = {}): HostPort {
  const r = parseHostPortResult(s, defaultPort, o);
  if (!isHostPort(r)) throw new UsageError(r.error);
  return r;
}

/** The network whose default port this is, else mainnet. */
export function networkForPort(port: number): NetworkParams {
  for (const net of Object.values(NETWORKS)) if (net.defaultPort === port) return net;
  return NETWORKS.mainnet;
}

/** Executes one typed line against the peer; returns an error message for a bad line. */
export function runLine(peer: Peer, line: string, print: (o: Record<string, unknown>) => void): string | null {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const [cmd, ...args] = words as [string, ...string[]];
  const want = (n: number, usage: string): void => {
    if (args.length !== n) throw new UsageError(`usage: ${usage}`);
  };
  try {
    switch (cmd) {
      case 'help':
        process.stderr.write(CONNECT_HELP);
        return null;
      case 'ping':
        want(0, 'ping');
        if (!peer.isReady) throw new UsageError('the handshake is not done yet');
        if (!peer.ping()) peer.send('ping', { nonce: BigInt(Math.floor(Math.random() * 2 ** 52)) + 1n });
        return null;
      case 'getaddr':
      case 'mempool':
        want(0, cmd);
        peer.send(cmd, {});
        return null;
      case 'getdata': {
        want(2, 'getdata tx|wtx|block HASH');
        const kinds: Record<string, number> = { tx: InvType.MSG_WITNESS_TX, wtx: InvType.MSG_WTX, block: InvType.MSG_WITNESS_BLOCK };
        const type = kinds[args[0]!];
        if (type === undefined) throw new UsageError(`getdata takes tx, wtx or block, not ${JSON.stringify(args[0])}`);
        peer.send('getdata', { inventory: [{ type, hash: parseHash(args[1]!) }] });
        return null;
      }
      case 'getheaders':
        want(1, 'getheaders HASH');
        peer.send('getheaders', { version: peer.localVersion.version, locator: [parseHash(args[0]!)], hashStop: new Uint8Array(32) });
        return null;
      case 'raw': {
        if (args.length !== 1 && args.length !== 2) throw new UsageError('usage: raw COMMAND [HEX]  (no HEX, or -, for an empty payload)');
        if (args[0]!.length > 12 || !/^[\x20-\x7e]+$/.test(args[0]!)) throw new UsageError(`a command is 1 to 12 printable ASCII characters: ${JSON.stringify(args[0])}`);
        let payload: Uint8Array;
        try {
          payload = args[1] === undefined || args[1] === '-' ? new Uint8Array(0) : fromHex(args[1].replace(/^0x/i, ''));
        } catch (e) {
          throw new UsageError(`payload is not hex: ${(e as Error).message}`);
        }
        peer.sendRaw(args[0]!, payload);
        return null;
      }
      case 'stats':
        print({ t: now(), event: 'stats', peer: peer.id, stats: peer.stats.toJSON() });
        return null;
      case 'quit':
      case 'exit':
        peer.close('local-close');
        return null;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)} (type help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}

function parseHash(s: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new UsageError(`a hash is 64 hex digits (display order): ${JSON.stringify(s)}`);
  return hexToHash(s);
}

export interface ConnectCommandOptions {
  target?: string;
  listen?: string;
  network?: NetworkParams;
  userAgent?: string;
  connectTimeoutMs: number;
  /** The handshake must finish this long after the connection. @default 60_000 */
  handshakeTimeoutMs?: number;
  blockAnnounce: 'inv' | 'headers' | 'cmpct';
  /**
   * 'v1', 'v2' (BIP324), or 'auto': v2 first, then v1 if the v2 attempt is dropped before the
   * peer answers at all (Core's rule). Listening: v2 serves v1 peers too. @default 'auto'
   */
  transport?: 'v1' | 'v2' | 'auto';
}

/** Runs a session; resolves with the exit status (0 closed by the user, 1 closed by the peer or failed). */
export async function connectCommand(o: ConnectCommandOptions): Promise<number> {
  const out = new OrderedOut();
  const peer = o.listen ? await acceptOne(o, out) : await dialOne(o, out);
  if (peer === null) {
    out.flush();
    return 1;
  }
  let byUser = false;
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (!peer.isOpen) return;
    if (/^\s*(quit|exit)\s*$/.test(line)) byUser = true;
    const err = runLine(peer, line, (x) => out.line(x as Record<string, unknown> & { t: number }));
    if (err) process.stderr.write(`error: ${err}\n`);
  });
  rl.on('close', () => {
    byUser = true;
    peer.close('local-close', 'end of input');
  });
  const onSignal = (): void => {
    byUser = true;
    peer.close('local-close', 'interrupted');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const reason = await peer.closed;
  const timeout = handshakeTimeoutLine(reason, peer, peer.options.handshakeTimeoutMs);
  if (timeout) out.line(timeout);
  if (peer.remote === null || peer.remote === undefined) {
    const evidence = new NetworkEvidence();
    evidence.gone(reason, peer.stats.closeDetail, false);
    const hint = evidence.hint(peer.network, true);
    if (hint) out.line({ t: now(), event: 'wrong-network', message: hint });
  }
  out.line({ t: now(), event: 'closed', reason, detail: peer.stats.closeDetail, stats: peer.stats.toJSON() });
  out.flush();
  rl.removeAllListeners('close');
  rl.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stdin.destroy();
  return byUser ? 0 : 1;
}

function common(o: ConnectCommandOptions) {
  return {
    version: o.userAgent ? { userAgent: o.userAgent } : {},
    blockAnnounce: o.blockAnnounce,
    ...(o.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: o.handshakeTimeoutMs } : {}),
  };
}

/** --listen: waits for one inbound peer. */
async function acceptOne(o: ConnectCommandOptions, out: OrderedOut): Promise<Peer> {
  let server: Server | null = null;
  // Port 0: any free port (printed in the listening line).
  const { host, port } = parseHostPort(o.listen!, (o.network ?? NETWORKS.mainnet).defaultPort, { allowPortZero: true });
  const network = o.network ?? networkForPort(port);
  const peer = await new Promise<Peer>((resolve, reject) => {
    const transport = transportFactory(o.transport === 'v1' ? 'v1' : 'v2', 'inbound', network.magic);
    listenPeers({ host, port, network, ...common(o), transport, maxPeers: 1 }, (p) => {
      printPeer(p, out);
      resolve(p);
    }).then((s) => {
      server = s;
      const addr = s.address() as { address: string; port: number };
      out.line({ t: now(), event: 'listening', host: addr.address, port: addr.port, network: network.name });
    }, reject);
  });
  (server as Server | null)?.close();
  out.line({ t: now(), event: 'accepted', peer: peer.id });
  return peer;
}

/** Dials the target: v2 first under auto, then v1 if the node drops the v2 key (Core's rule). */
async function dialOne(o: ConnectCommandOptions, out: OrderedOut): Promise<Peer | null> {
  // Without a port, the network's default port (mainnet's when no --network is given).
  const { host, port } = parseHostPort(o.target!, (o.network ?? NETWORKS.mainnet).defaultPort);
  const network = o.network ?? networkForPort(port);
  out.line({ t: now(), event: 'connecting', host, port, network: network.name });
  let printer: ReturnType<typeof printPeer> | undefined;
  const setup = (p: Peer): void => void (printer = printPeer(p, out));
  const dial = (kind: 'v1' | 'v2'): Promise<Peer> =>
    connectPeer({ host, port, network, connectTimeoutMs: o.connectTimeoutMs, ...common(o), transport: transportFactory(kind, 'outbound', network.magic), setup });
  try {
    const mode = o.transport ?? 'auto';
    let peer = await dial(mode === 'v1' ? 'v1' : 'v2');
    if (mode === 'auto') {
      const first = peer;
      const up = await Promise.race([first.ready.then(() => true, () => false), first.closed.then(() => false)]);
      if (!up && first.transport.shouldReconnectV1) {
        printer?.dropQueued(); // what the v2 attempt held back was never sent
        out.line({ t: now(), event: 'retry-v1', reason: first.stats.closeReason });
        peer = await dial('v1');
      }
    }
    return peer;
  } catch (e) {
    out.line({ t: now(), event: 'failed', host, port, code: (e as { code?: string }).code, message: (e as Error).message });
    return null;
  }
}
