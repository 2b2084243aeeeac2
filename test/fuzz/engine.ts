/**
 * A small coverage-guided mutation fuzzer (libFuzzer's loop, in-process): V8 precise block
 * coverage of dist/src/** taken through node:inspector is the feedback, inputs that reach a new
 * block (or a new hit-count bucket of one) join the corpus. Used because @jazzer.js/core's
 * prebuilt addon needs glibc 2.38 (see test/fuzz/README.md). Deterministic for a given seed.
 */
import { Session } from 'node:inspector';
import { prng } from '../helpers.js';

export interface EngineOptions {
  /** Wall-clock budget. */
  seconds: number;
  /** PRNG seed of the mutations. */
  seed?: number;
  /** Largest input the mutator makes. @default 16384 */
  maxLen?: number;
  /** Inputs run between two coverage snapshots while nothing new turns up. @default 512 */
  batch?: number;
  /** Script URLs whose coverage counts. @default '/dist/src/' */
  include?: string;
  /** Called with each input that added coverage (the caller saves it into the corpus directory). */
  onNew?: (input: Uint8Array) => void;
  /** Stop after this many executions (a budget that does not depend on the machine's speed). */
  execs?: number;
  /**
   * Coverage guidance: inputs that reach new code join the corpus. Off, the engine only mutates
   * the seeds (plain random mutation), for comparison. @default true
   */
  coverage?: boolean;
}

export interface EngineResult {
  execs: number;
  seconds: number;
  corpus: number;
  features: number;
  finding?: { input: Uint8Array; error: unknown };
}

type Target = (data: Uint8Array) => void;

interface Coverage {
  result: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[];
}

let session: Session | null = null;

function take(): Coverage {
  let out: Coverage | undefined;
  session!.post('Profiler.takePreciseCoverage', (err, res) => {
    if (err) throw err;
    out = res as unknown as Coverage;
  });
  return out!; // the in-thread inspector answers synchronously
}

function start(): void {
  if (session) return;
  session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
}

/** Stops coverage collection (the replay suite calls it so c8's own collection is undisturbed). */
export function stopCoverage(): void {
  if (!session) return;
  session.post('Profiler.stopPreciseCoverage');
  session.disconnect();
  session = null;
}

const scriptIds = new Map<string, number>();

function bucket(c: number): number {
  return c === 1 ? 1 : c === 2 ? 2 : c === 3 ? 3 : c < 8 ? 4 : c < 16 ? 5 : c < 32 ? 6 : c < 128 ? 7 : 8;
}

/** Every block range ever reported, per function ("script:start"), as [start, end] pairs. */
const blocks = new Map<string, Map<number, number>>();

/**
 * Features of the coverage since the last snapshot: hit blocks, plus count buckets when `counts`.
 * V8 leaves out a nested range whose count equals its parent's, so which ranges appear depends on
 * the counts; every block ever reported is therefore remembered and its count taken from the
 * innermost range reported this time that contains it (a block inside a zero range is not hit).
 */
function features(cov: Coverage, include: string, counts: boolean, out: string[]): void {
  for (const s of cov.result) {
    if (!s.url.includes(include)) continue;
    let id = scriptIds.get(s.url);
    if (id === undefined) scriptIds.set(s.url, (id = scriptIds.size));
    for (const f of s.functions) {
      const rs = f.ranges;
      if (rs.length === 0 || rs[0]!.count === 0) continue;
      const key = `${id}:${rs[0]!.startOffset}`;
      let known = blocks.get(key);
      if (!known) blocks.set(key, (known = new Map()));
      for (const r of rs) known.set(r.startOffset, r.endOffset);
      for (const [start, end] of known) {
        let count = -1;
        let width = Infinity;
        for (const r of rs) {
          if (r.startOffset <= start && r.endOffset >= end && r.endOffset - r.startOffset < width) {
            width = r.endOffset - r.startOffset;
            count = r.count;
          }
        }
        if (count <= 0) continue;
        out.push(`${id}:${start}`);
        if (counts) out.push(`${id}:${start}#${bucket(count)}`);
      }
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Mutations

const INTERESTING_8 = [0, 1, 2, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff];
const INTERESTING_32 = [
  0, 1, 8, 32, 0xfc, 0xfd, 0xffff, 0x10000, 1000, 1001, 2000, 2001, 50_000, 50_001, 4_000_000, 4_000_001,
  0x02000000, 0x02000001, 0x7fffffff, 0xffffffff,
];
/** CompactSize forms: boundaries, MAX_SIZE, non-canonical and huge ones. */
const COMPACT_SIZES = [
  [0xfc],
  [0xfd, 0xfd, 0x00],
  [0xfd, 0xfc, 0x00],
  [0xfd, 0xe9, 0x03],
  [0xfd, 0xd1, 0x07],
  [0xfd, 0xff, 0xff],
  [0xfe, 0x00, 0x00, 0x01, 0x00],
  [0xfe, 0xff, 0xff, 0x00, 0x00],
  [0xfe, 0x51, 0xc3, 0x00, 0x00],
  [0xfe, 0x00, 0x00, 0x00, 0x02],
  [0xfe, 0x01, 0x00, 0x00, 0x02],
  [0xfe, 0xff, 0xff, 0xff, 0xff],
  [0xff, 0, 0, 0, 0, 1, 0, 0, 0],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
].map((a) => Uint8Array.from(a));

export class Mutator {
  private readonly rand: () => number;
  constructor(seed: number, private readonly maxLen: number) {
    this.rand = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  /** One to five stacked mutations of `src` (optionally splicing with `other`). */
  mutate(src: Uint8Array, other: Uint8Array): Uint8Array {
    let b = src;
    const rounds = 1 + this.int(5);
    for (let i = 0; i < rounds; i++) b = this.once(b, other);
    return b.length > this.maxLen ? b.subarray(0, this.maxLen) : b;
  }

  private insert(b: Uint8Array, at: number, ins: Uint8Array): Uint8Array {
    const out = new Uint8Array(b.length + ins.length);
    out.set(b.subarray(0, at));
    out.set(ins, at);
    out.set(b.subarray(at), at + ins.length);
    return out;
  }

  private once(b: Uint8Array, other: Uint8Array): Uint8Array {
    const n = b.length;
    const op = this.int(n === 0 ? 2 : 13);
    switch (op) {
      case 0: // insert random bytes
        return this.insert(b, this.int(n + 1), Uint8Array.from({ length: 1 + this.int(8) }, () => this.int(256)));
      case 1: // insert a CompactSize
        return this.insert(b, this.int(n + 1), COMPACT_SIZES[this.int(COMPACT_SIZES.length)]!);
      case 2: {
        const c = b.slice();
        c[this.int(n)]! ^= 1 << this.int(8);
        return c;
      }
      case 3: {
        const c = b.slice();
        c[this.int(n)] = this.int(256);
        return c;
      }
      case 4: {
        const c = b.slice();
        c[this.int(n)] = INTERESTING_8[this.int(INTERESTING_8.length)]!;
        return c;
      }
      case 5: {
        // overwrite a little-endian u32 (lengths, counts, versions)
        const c = b.slice();
        const at = this.int(n);
        const v = INTERESTING_32[this.int(INTERESTING_32.length)]!;
        for (let k = 0; k < 4 && at + k < n; k++) c[at + k] = (v >>> (8 * k)) & 0xff;
        return c;
      }
      case 6: {
        // overwrite with a CompactSize
        const c = b.slice();
        const cs = COMPACT_SIZES[this.int(COMPACT_SIZES.length)]!;
        const at = this.int(n);
        for (let k = 0; k < cs.length && at + k < n; k++) c[at + k] = cs[k]!;
        return c;
      }
      case 7: {
        // delete a range
        const at = this.int(n);
        const len = 1 + this.int(Math.min(n - at, this.int(2) ? 4 : 64));
        const c = new Uint8Array(n - len);
        c.set(b.subarray(0, at));
        c.set(b.subarray(at + len), at);
        return c;
      }
      case 8: {
        // duplicate a range
        const at = this.int(n);
        const len = 1 + this.int(Math.min(n - at, 64));
        return this.insert(b, this.int(n + 1), b.slice(at, at + len));
      }
      case 9: // truncate
        return b.subarray(0, this.int(n));
      case 10: {
        // splice: our head, the other input's tail
        if (other.length === 0) return b;
        const head = this.int(n + 1);
        const tail = this.int(other.length);
        const out = new Uint8Array(head + other.length - tail);
        out.set(b.subarray(0, head));
        out.set(other.subarray(tail), head);
        return out;
      }
      case 11: {
        // insert a piece of the other input
        if (other.length === 0) return b;
        const at = this.int(other.length);
        return this.insert(b, this.int(n + 1), other.slice(at, at + 1 + this.int(Math.min(other.length - at, 40))));
      }
      default: {
        // add or subtract a small amount from a byte (counts, lengths)
        const c = b.slice();
        const at = this.int(n);
        c[at] = (c[at]! + (this.int(2) ? 1 : 255) * (1 + this.int(4))) & 0xff;
        return c;
      }
    }
  }
}

// -----------------------------------------------------------------------------------------------
// The loop

/** Parts a group with new blocks is cut into by `locate`. */
const SPLIT = 8;
/** Smallest batch between two snapshots while new coverage keeps turning up. */
const MIN_BATCH = 16;

/** A target's throw, carried out of the loop with the input that caused it. */
class Crash {
  constructor(
    readonly input: Uint8Array,
    readonly error: unknown,
  ) {}
}

/** The corpus, the features seen so far and the ways of running inputs under a snapshot. */
class Loop {
  execs = 0;
  readonly seen = new Set<string>();
  readonly corpus: Uint8Array[] = [];

  constructor(
    private readonly target: Target,
    private readonly include: string,
    private readonly onNew?: (input: Uint8Array) => void,
  ) {}

  /** Runs inputs without looking at coverage; a throw leaves as a Crash. */
  run(inputs: Uint8Array[]): void {
    for (const input of inputs) {
      this.execs++;
      try {
        this.target(input);
      } catch (error) {
        throw new Crash(input, error);
      }
    }
  }

  /** Runs one input alone under its own snapshot (buckets too); returns whether it added features. */
  runOne(input: Uint8Array): boolean {
    this.run([input]);
    const fs: string[] = [];
    features(take(), this.include, true, fs);
    let fresh = false;
    for (const f of fs) if (!this.seen.has(f)) this.seen.add(f), (fresh = true);
    return fresh;
  }

  /** Runs a group under one snapshot; returns whether the group reached a block not seen yet. */
  runGroup(group: Uint8Array[]): boolean {
    this.run(group);
    const fs: string[] = [];
    features(take(), this.include, false, fs);
    return fs.some((f) => !this.seen.has(f));
  }

  keep(input: Uint8Array): void {
    this.corpus.push(input);
    this.onNew?.(input);
  }

  /**
   * Finds which inputs of a group with new blocks reached them: the group is cut into up to SPLIT
   * parts, each re-run under one snapshot, and only the parts with new blocks are cut again, down
   * to single inputs (whose snapshot also gives hit-count buckets). A snapshot costs about ten
   * executions of a target, so a find takes a few dozen snapshots instead of one per input of its
   * batch. Returns the number of inputs added to the corpus.
   */
  locate(group: Uint8Array[]): number {
    if (group.length === 1) {
      if (!this.runOne(group[0]!)) return 0;
      this.keep(group[0]!);
      return 1;
    }
    const size = Math.ceil(group.length / SPLIT);
    let found = 0;
    for (let at = 0; at < group.length; at += size) {
      const part = group.slice(at, at + size);
      if (part.length === 1 || this.runGroup(part)) found += this.locate(part);
    }
    return found;
  }

  /**
   * One guided round: the whole batch under one snapshot, looking only for new blocks, narrowed
   * down by `locate` when there are some. A quiet round with `sample` re-runs four of its inputs
   * alone (bucket novelty is invisible in a batch's summed counts). Returns the inputs kept.
   */
  round(inputs: Uint8Array[], sample: boolean): number {
    if (this.runGroup(inputs)) return this.locate(inputs);
    let found = 0;
    if (sample) for (const input of inputs.slice(0, 4)) if (this.runOne(input)) found++, this.keep(input);
    return found;
  }
}

/** Runs `target` until `seconds` pass, `execs` are spent or it throws; a seed that throws is a finding. */
export function fuzz(target: Target, seeds: Uint8Array[], opts: EngineOptions): EngineResult {
  const batchMax = opts.batch ?? 512;
  const mut = new Mutator(opts.seed ?? 1, opts.maxLen ?? 16384);
  const loop = new Loop(target, opts.include ?? '/dist/src/', opts.onNew);
  const { corpus } = loop;
  const t0 = performance.now();
  const deadline = t0 + opts.seconds * 1000;
  const budget = opts.execs ?? Infinity;
  const guided = opts.coverage ?? true;
  start();
  take(); // reset counters

  const result = (finding?: EngineResult['finding']): EngineResult => ({
    execs: loop.execs,
    seconds: (performance.now() - t0) / 1000,
    corpus: corpus.length,
    features: loop.seen.size,
    ...(finding ? { finding } : {}),
  });

  try {
    for (const s of seeds) if (loop.runOne(s) || corpus.length === 0) corpus.push(s);
    if (corpus.length === 0) corpus.push(new Uint8Array(0));
    let round = 0;
    let batch = batchMax;
    const inputs: Uint8Array[] = [];
    while (performance.now() < deadline && loop.execs < budget) {
      round++;
      inputs.length = 0;
      for (let i = 0; i < batch; i++) {
        const src = corpus[mut.int(corpus.length)]!;
        const other = corpus[mut.int(corpus.length)]!;
        inputs.push(mut.mutate(src, other));
      }
      if (!guided) {
        loop.run(inputs);
        continue;
      }
      const found = loop.round(inputs, round % 8 === 0);
      batch = found > 0 ? Math.max(MIN_BATCH, batch >> 1) : Math.min(batchMax, batch * 2);
    }
  } catch (e) {
    if (e instanceof Crash) return result({ input: e.input, error: e.error });
    throw e;
  }
  return result();
}

/** Greedy shrinking of a failing input: drops ranges while the target still throws (bounded time). */
export function minimize(target: Target, input: Uint8Array, seconds = 5): Uint8Array {
  const deadline = performance.now() + seconds * 1000;
  const kind = (b: Uint8Array): string | null => {
    try {
      target(b);
      return null;
    } catch (e) {
      return String((e as Error)?.message ?? e).split(':')[0]!;
    }
  };
  const want = kind(input);
  const fails = (b: Uint8Array): boolean => want !== null && kind(b) === want;
  let best = input;
  for (let chunk = best.length >> 1; chunk >= 1 && performance.now() < deadline; chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && performance.now() < deadline; ) {
      const c = new Uint8Array(best.length - chunk);
      c.set(best.subarray(0, at));
      c.set(best.subarray(at + chunk), at);
      if (fails(c)) best = c;
      else at += chunk;
    }
  }
  return best;
}
