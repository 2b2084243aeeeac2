/**
 * User handler modules inside the shards (pycoin's `handlers['inv'].append(...)`, but on the thread
 * where the bytes are): every shard imports the module named by `CoordinatorOptions.handlers` and
 * calls its `setup(ctx)`; handlers registered there see each ready peer's messages (decoded, or the
 * raw payload view) with the read's receive time, can answer the peer and post low-volume results
 * to the coordinator. User code never kills a shard: what it throws is caught and counted.
 * Worker thread (the shard); `dispatch` is on the hot path when a handler is registered for the
 * command, free otherwise. Must not import the coordinator or piscina.
 */
import { Command, COMMAND_COUNT, COMMAND_NAMES, type CommandName } from '../../protocol/constants.js';
import { decodePayload } from '../../protocol/registry.js';
import { Reader } from '../../protocol/reader.js';
import type { MessageMap } from '../../protocol/registry.js';
import type { Peer } from '../../peer/peer.js';
import { CloseReason } from '../../peer/faults.js';
import type { FromShard, RemoteVersion } from '../messages.js';

/** A decoded-message handler: the peer's coordinator-wide index, the message (the handler may keep it), the receive time (epoch ms). */
export type MessageHandler<K extends CommandName = CommandName> = (peer: number, msg: MessageMap[K], rxTime: number) => void;
/** A raw handler: the payload bytes as a view valid only during the call (copy what you keep). */
export type RawHandler = (peer: number, payload: Uint8Array, rxTime: number) => void;

/** What a handler module's `setup` receives, one per shard. */
export interface HandlerContext {
  /** This shard's index (0 .. shards - 1). */
  readonly shard: number;
  /** `CoordinatorOptions.handlerOptions`, structured-cloned into the shard (undefined if none). */
  readonly options: unknown;
  /**
   * Registers a handler for a command's messages from ready peers, several per command, called in
   * order. `{ raw: true }` passes the payload bytes instead of the decoded message. inv, headers and
   * cmpctblock still go to the ring as well. Throws a TypeError for an unknown command name.
   */
  on<K extends CommandName>(command: K, fn: MessageHandler<K>): void;
  on(command: CommandName, fn: RawHandler, options: { raw: true }): void;
  /** A peer completed its handshake: what it told us in its version. */
  on(event: 'ready', fn: (peer: number, remote: RemoteVersion, time: number) => void): void;
  /** A peer is gone (reason as in the coordinator's 'gone' event); called for every peer that was ready. */
  on(event: 'close', fn: (peer: number, reason: string, time: number) => void): void;
  /** The shard is stopping, after its peers closed: the last chance to post. */
  on(event: 'stop', fn: () => unknown): void;
  /**
   * Posts a structured-clone value to the coordinator, emitted there as a 'handler' event
   * `{ shard, value }`. For low-volume results (summaries, rare findings): every post is a port
   * message. Returns false (and counts an error) when the value cannot be cloned.
   */
  post(value: unknown): boolean;
  /** Sends a message to a ready peer of this shard; false if it is not (or no longer) ready, or refused for backpressure. */
  send<K extends CommandName>(peer: number, command: K, msg: MessageMap[K]): boolean;
  /** Sends a raw payload under any command string. */
  sendRaw(peer: number, command: string, payload: Uint8Array): boolean;
  /** Closes a peer of this shard (reason 'handler', with `detail`); false if it is not here. */
  close(peer: number, detail?: string): boolean;
  /** The peer's remote host:port (IPv6 in brackets), or undefined if it is not on this shard. */
  address(peer: number): string | undefined;
}

/** The module's export: `export function setup(ctx) {...}` (or a default export), may be async. */
export type HandlerSetup = (ctx: HandlerContext) => void | Promise<void>;

/** What the host needs of its shard. */
export interface HandlerShard {
  readonly shard: number;
  peer(index: number): Peer | null;
  post(m: FromShard): void;
}

/** Handler error messages posted per shard task; beyond, errors are only counted. */
export const MAX_REPORTED_HANDLER_ERRORS = 16;
const RING_COMMANDS: readonly number[] = [Command.inv, Command.headers, Command.cmpctblock];
const EVENTS = new Set(['ready', 'close', 'stop']);
/** Decodes for handlers of ring commands (the peer never decodes those). */
const reader = new Reader();

type Fn = (...args: any[]) => unknown;

export class HandlerHost {
  private readonly s: HandlerShard;
  readonly context: HandlerContext;
  private readonly raw: (RawHandler[] | undefined)[] = new Array(COMMAND_COUNT);
  private readonly decoded: (Fn[] | undefined)[] = new Array(COMMAND_COUNT);
  /**
   * Per command id: 1 when the raw tap must call `frame` (raw handlers, or decoded ones of a ring
   * command, which the peer never decodes). The shard checks it before anything else.
   */
  readonly tapped = new Uint8Array(COMMAND_COUNT);
  private readonly ready: Fn[] = [];
  private readonly closed: Fn[] = [];
  private readonly stopped: Fn[] = [];
  calls = 0;
  errors = 0;
  posts = 0;
  private reported = 0;

  constructor(shard: HandlerShard, options: unknown) {
    this.s = shard;
    const self = this;
    this.context = {
      shard: shard.shard,
      options,
      on(name: string, fn: Fn, o?: { raw?: boolean }) {
        self.register(name, fn, o?.raw === true);
      },
      post: (value) => this.post(value),
      send: (peer, command, msg) => this.send(peer, () => this.s.peer(peer)!.send(command, msg), command),
      sendRaw: (peer, command, payload) => this.send(peer, () => this.s.peer(peer)!.sendRaw(command, payload), command),
      close: (peer, detail = '') => {
        const p = this.s.peer(peer);
        if (!p || !p.isOpen) return false;
        p.close(CloseReason.HANDLER, detail);
        return true;
      },
      address: (peer) => {
        const p = this.s.peer(peer);
        if (!p) return undefined;
        return p.remoteHost.includes(':') ? `[${p.remoteHost}]:${p.remotePort}` : `${p.remoteHost}:${p.remotePort}`;
      },
    } as HandlerContext;
  }

  /** Imports the module and runs its setup; rejects with a message naming the module. */
  static async load(shard: HandlerShard, href: string, options: unknown): Promise<HandlerHost> {
    const host = new HandlerHost(shard, options);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(href)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`handlers module ${href} could not be imported: ${(e as Error)?.message ?? e}`);
    }
    const setup = (typeof mod['setup'] === 'function' ? mod['setup'] : mod['default']) as HandlerSetup | undefined;
    if (typeof setup !== 'function') throw new Error(`handlers module ${href} exports no setup function (export function setup(ctx) or a default export)`);
    try {
      await setup(host.context);
    } catch (e) {
      throw new Error(`handlers module ${href}: setup threw: ${(e as Error)?.message ?? e}`);
    }
    return host;
  }

  private register(name: string, fn: Fn, raw: boolean): void {
    if (typeof fn !== 'function') throw new TypeError(`handlers: the handler for ${JSON.stringify(name)} is not a function`);
    if (EVENTS.has(name)) {
      if (raw) throw new TypeError(`handlers: { raw: true } is for commands, not the ${name} event`);
      (name === 'ready' ? this.ready : name === 'close' ? this.closed : this.stopped).push(fn);
      return;
    }
    if (!Object.hasOwn(Command, name) || name === 'unknown') throw new TypeError(`handlers: no such command or event ${JSON.stringify(name)}`);
    const id = Command[name as CommandName];
    if (raw) {
      (this.raw[id] ??= []).push(fn as RawHandler);
      this.tapped[id] = 1;
    } else {
      (this.decoded[id] ??= []).push(fn);
      if (RING_COMMANDS.includes(id)) this.tapped[id] = 1;
    }
  }

  /** True when decoded handlers want this command from the peer's own decode (not a ring command). */
  wantsDecoded(command: string): boolean {
    const id = (Command as Record<string, number>)[command];
    return id !== undefined && this.decoded[id] !== undefined && !RING_COMMANDS.includes(id);
  }

  /**
   * From the shard's raw tap, for a command with `tapped[cmd]`: raw handlers get the payload view;
   * decoded handlers of a ring command get a decode of a copy (malformed payloads reach none).
   */
  frame(peer: number, cmd: number, buf: Uint8Array, off: number, len: number, rxTime: number): void {
    const raw = this.raw[cmd];
    if (raw !== undefined) {
      const view = buf.subarray(off, off + len);
      for (const fn of raw) this.call(fn, peer, view, rxTime, cmd);
    }
    const dec = this.decoded[cmd];
    if (dec !== undefined && RING_COMMANDS.includes(cmd)) {
      const msg = decodePayload(cmd, buf.slice(off, off + len), 0, len, reader);
      if (msg === undefined) return;
      for (const fn of dec) this.call(fn, peer, msg, rxTime, cmd);
    }
  }

  /** From the peer's 'message' event (already a decode of a copy), for non-ring commands. */
  message(peer: number, command: string, msg: unknown, rxTime: number): void {
    const id = (Command as Record<string, number>)[command]!;
    const dec = this.decoded[id];
    if (dec !== undefined) for (const fn of dec) this.call(fn, peer, msg, rxTime, id);
  }

  peerReady(peer: number, remote: RemoteVersion, time: number): void {
    for (const fn of this.ready) this.call(fn, peer, remote, time, 'ready');
  }

  peerClosed(peer: number, reason: string, time: number): void {
    for (const fn of this.closed) this.call(fn, peer, reason, time, 'close');
  }

  /** Runs the 'stop' handlers (awaiting async ones, each bounded by the caller). */
  async stop(): Promise<void> {
    for (const fn of this.stopped) {
      try {
        this.calls++;
        await fn();
      } catch (e) {
        this.fail(-1, 'stop', e);
      }
    }
  }

  private call(fn: Fn, peer: number, a: unknown, t: number, what: number | string): void {
    this.calls++;
    try {
      const r = fn(peer, a, t) as { then?: unknown } | undefined;
      // An async handler's rejection is an error like a throw (it would otherwise be unhandled).
      if (r !== undefined && r !== null && typeof r.then === 'function') {
        (r as Promise<unknown>).then(undefined, (e) => this.fail(peer, what, e));
      }
    } catch (e) {
      this.fail(peer, what, e);
    }
  }

  private send(peer: number, doSend: () => boolean, command: string): boolean {
    const p = this.s.peer(peer);
    if (!p || !p.isReady) return false;
    try {
      return doSend();
    } catch (e) {
      // A message that does not encode (a bad field from user code): an error, not a crash.
      this.fail(peer, `send ${command}`, e);
      return false;
    }
  }

  private post(value: unknown): boolean {
    try {
      this.s.post({ type: 'handler', value });
      this.posts++;
      return true;
    } catch (e) {
      this.fail(-1, 'post', e);
      return false;
    }
  }

  /** Counts an error; the first few per shard task go to the coordinator as 'handlerError'. */
  private fail(peer: number, what: number | string, e: unknown): void {
    this.errors++;
    if (this.reported >= MAX_REPORTED_HANDLER_ERRORS) return;
    this.reported++;
    const name = typeof what === 'number' ? (COMMAND_NAMES[what] ?? '<unknown>') : what;
    const message = e instanceof Error ? e.message : String(e);
    try {
      this.s.post({ type: 'handlerError', peer, command: name, message, errors: this.errors });
    } catch {
      /* the port is closed (the shard is stopping): counted above */
    }
  }
}
