/**
 * The coordinator's link to one shard: its piscina task and port, its ring and the ring's drain
 * loop (drained when the shard publishes: Atomics.waitAsync on the write sequence, a timer as the
 * backstop), its peers and last counters. Main thread; the drain loop is warm, the rest cold.
 * Gets what it needs at construction (LinkHost callbacks, the RecordSink); never imports the Coordinator.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { createRing, RingReader } from '../../observe/ring.js';
import type { FromShard, ShardCounters, ShardOptions, ToShard } from '../messages.js';
import type { RecordSink } from './drain.js';

/** The 'started' message of a shard. */
export type StartedMessage = Extract<FromShard, { type: 'started' }>;

/** What a link tells its owner. */
export interface LinkHost {
  /** The shard's task said 'started' (listening, listen error, handler module failure). */
  started(link: ShardLink, m: StartedMessage): void;
  /** Any later message of the shard. */
  message(link: ShardLink, m: FromShard): void;
  /** The shard's task rejected: its thread threw or exited. */
  died(link: ShardLink, why: string): void;
  /** Whether drain loops should go on (the pool is running and not stopped). */
  draining(): boolean;
}

/** How a ring is drained (CoordinatorOptions drainIntervalMs, drainOnPublish, drainMinIntervalMs). */
export interface DrainTiming {
  drainIntervalMs: number;
  drainOnPublish: boolean;
  drainMinIntervalMs: number;
}

export class ShardLink {
  readonly ring: SharedArrayBuffer;
  readonly reader: RingReader;
  port: MessagePort | null = null;
  task: Promise<unknown> | null = null;
  alive = false;
  restarts = 0;
  /** Peers (coordinator-wide indices) assigned to this shard. */
  readonly peers = new Set<number>();
  last: ShardCounters | null = null;
  /** Called once the shard answers 'stop' with 'stopped' (or dies while stopping). */
  onStopped: (() => void) | null = null;
  /** handlerErrors of the shard's earlier (dead) tasks, and of the current one as last heard. */
  private handlerErrorsBefore = 0;
  private handlerErrors = 0;
  /** The drain loop's continuations (bound once) and its pending timer. */
  private readonly loop = (): void => this.drainLoop();
  private readonly sleep = (): void => this.sleepOn();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly index: number,
    ringCapacity: number,
    private readonly host: LinkHost,
    private readonly sink: RecordSink,
    private readonly timing: DrainTiming,
  ) {
    this.ring = createRing(ringCapacity);
    this.reader = new RingReader(this.ring);
  }

  /** Posts a message to the shard; false when it has no port (dead or stopped). */
  post(m: ToShard): boolean {
    if (!this.port) return false;
    this.port.postMessage(m);
    return true;
  }

  /** Starts (or restarts) the shard's task on this ring; resolves when the shard says 'started'. */
  run(pool: Piscina, options: ShardOptions): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    let onStarted!: () => void;
    const started = new Promise<void>((r) => (onStarted = r));
    port1.on('message', (m: FromShard) => {
      if (m.type !== 'started') return this.host.message(this, m);
      this.alive = true;
      this.host.started(this, m);
      onStarted();
    });
    const task = pool.run({ port: port2, ring: this.ring, shard: this.index, options }, { transferList: [port2] as any });
    this.task = task;
    task.then(
      () => {},
      (e: unknown) => {
        onStarted(); // never leave start() hanging on a shard that died booting
        if (this.task === task) this.host.died(this, (e as { message?: string })?.message ?? String(e));
      },
    );
    return started;
  }

  /** Asks the shard to close its peers; resolves on 'stopped' or after timeoutMs. */
  stop(timeoutMs: number): Promise<void> {
    if (!this.alive || !this.port) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.onStopped = () => {
        clearTimeout(t);
        resolve();
      };
      this.post({ type: 'stop' });
    });
  }

  /** Forgets the port (the thread is gone or done). */
  detach(): void {
    this.port?.close();
    this.port = null;
    this.alive = false;
  }

  /** The shard died and is run again: its handler errors so far are kept over the restart. */
  restarted(): void {
    this.restarts++;
    this.handlerErrorsBefore += this.handlerErrors;
    this.handlerErrors = 0;
  }

  /** The shard's counters (a 'stats' or 'stopped' message). */
  counters(c: ShardCounters): void {
    this.last = c;
    this.noteHandlerErrors(c.handlerErrors);
  }

  noteHandlerErrors(n: number): void {
    this.handlerErrors = Math.max(this.handlerErrors, n);
  }

  /** Handler errors over every task of this shard. */
  get totalHandlerErrors(): number {
    return this.handlerErrorsBefore + this.handlerErrors;
  }

  /** Takes every published record now. */
  drain(): boolean {
    return this.sink.drain(this.index, this.reader);
  }

  /**
   * The drain loop, event-driven: drain, then sleep in Atomics.waitAsync until the shard's next
   * publish wakes it (at most drainIntervalMs). After a drain that took records it first waits
   * drainMinIntervalMs, so a busy ring is drained in batches rather than once per publish;
   * records already waiting when it would sleep are drained on the next turn of the event loop.
   */
  drainLoop(): void {
    if (!this.host.draining()) return;
    const took = this.drain();
    const o = this.timing;
    if (!o.drainOnPublish || !RingReader.canWait) this.timer = setTimeout(this.loop, o.drainIntervalMs);
    else if (took && o.drainMinIntervalMs > 0) this.timer = setTimeout(this.sleep, o.drainMinIntervalMs);
    else this.sleepOn();
  }

  /** Sleeps until the ring's next publish (or drainIntervalMs), then drains. */
  private sleepOn(): void {
    if (!this.host.draining()) return;
    const p = this.reader.wait(this.timing.drainIntervalMs);
    if (p !== null) void p.then(this.loop);
    else setImmediate(this.loop); // records are waiting: drain on the next turn of the event loop
  }

  /** Ends a pending wait or timer (the loop sees draining() false and stops). */
  endDrain(): void {
    this.reader.wake();
    clearTimeout(this.timer);
  }
}
