/**
 * The coordinator's observation queue: record batches drained from the rings wait here for the one
 * consumer, either decoded one record at a time (`observations()`: an Observation object with a
 * hex hash each, made when the consumer asks) or as whole raw batches (`records()`: no per-record
 * object). Bounded in records; the drain checks `room` and counts what does not fit.
 * Main thread; `push` runs on every drain, the iterators at the consumer's pace.
 */
import { RecordBatch } from '../../observe/batch.js';
import { kindName, type ObservationKind } from '../../observe/kinds.js';
import { PoolError, PoolErrorCode } from './errors.js';

export type { ObservationKind };

/** A decoded ring record. */
export interface Observation {
  /** Receive time, epoch ms (taken when the socket read arrived, before parsing). */
  time: number;
  peer: number;
  address: string;
  kind: ObservationKind;
  invType: number;
  /** Entry index within its message. */
  entry: number;
  /** Display-order hex (as RPC and explorers show it). */
  hash: string;
  shard: number;
}

/** Decodes record i of a batch into an Observation. */
export function observationAt(b: RecordBatch, i: number): Observation {
  return {
    time: b.time(i),
    peer: b.peer(i),
    address: b.address(i),
    kind: kindName(b.kind(i)) ?? 'inv',
    invType: b.invType(i),
    entry: b.entry(i),
    hash: b.hashHex(i),
    shard: b.shard,
  };
}

type Mode = 'observations' | 'records';

export class ObservationQueue {
  private readonly max: number;
  private batches: (RecordBatch | undefined)[] = [];
  private head = 0;
  /** Next record of the head batch (observations() consumes batches record by record). */
  private pos = 0;
  private count = 0;
  private mode: Mode | null = null;
  private ended = false;
  private waiter: ((r: IteratorResult<any>) => void) | null = null;

  constructor(maxRecords: number) {
    this.max = maxRecords;
  }

  /** True while a consumer iterates (before the first call, and after it returns, records are not kept). */
  get active(): boolean {
    return this.mode !== null;
  }

  /** Records waiting. */
  get queued(): number {
    return this.count;
  }

  /** Records that still fit. */
  get room(): number {
    return Math.max(0, this.max - this.count);
  }

  push(batch: RecordBatch): void {
    if (this.mode === null || batch.length === 0) return;
    this.batches.push(batch);
    this.count += batch.length;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: this.mode === 'observations' ? this.nextObservation()! : this.nextBatch()!, done: false });
    }
  }

  /** No more batches will come (the pool stopped): the iterator ends once the queue is consumed. */
  end(): void {
    this.ended = true;
    if (this.waiter !== null && this.count === 0) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
  }

  observations(): AsyncIterableIterator<Observation> {
    return this.iterate('observations', () => this.nextObservation());
  }

  records(): AsyncIterableIterator<RecordBatch> {
    return this.iterate('records', () => this.nextBatch());
  }

  private iterate<T>(mode: Mode, take: () => T | null): AsyncIterableIterator<T> {
    if (this.mode !== null && this.mode !== mode) {
      throw new PoolError(PoolErrorCode.STATE, `Coordinator: ${mode}() while ${this.mode}() is being consumed (one consumer: use one of them, or return() the other first)`);
    }
    this.mode = mode;
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        const v = take();
        if (v !== null) return Promise.resolve({ value: v, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: (): Promise<IteratorResult<T>> => {
        this.mode = null;
        this.batches = [];
        this.head = 0;
        this.pos = 0;
        this.count = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  private nextObservation(): Observation | null {
    while (this.head < this.batches.length) {
      const b = this.batches[this.head]!;
      if (this.pos < b.length) {
        const o = observationAt(b, this.pos++);
        this.count--;
        if (this.pos === b.length) this.advance();
        return o;
      }
      this.advance();
    }
    return null;
  }

  private nextBatch(): RecordBatch | null {
    if (this.head >= this.batches.length) return null;
    const b = this.batches[this.head]!;
    this.count -= b.length;
    this.advance();
    return b;
  }

  private advance(): void {
    this.batches[this.head++] = undefined;
    this.pos = 0;
    // An array with a moving head: compacted once the consumed part dominates (amortised O(1)).
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
  }
}
