/**
 * The simulator's seeded PRNG: xoshiro128** (Blackman and Vigna) seeded through splitmix32, the
 * same generator as bench/corpus.ts. Math.random is never used in the simulator: one seed gives
 * one run. Independent streams per concern (topology, identities, timing, content) come from
 * `Rng.stream(seed, salt)`. Simulator process; hot path (exp() per trickle draw), no allocation.
 */

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The second Box-Muller variate, kept for the next normal() call (NaN when none). */
  private spare = NaN;

  constructor(seed: number) {
    let s = seed >>> 0;
    const sm = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    // xoshiro's state must not be all zero; splitmix32 of any seed never gives four zeros, but
    // be explicit about the invariant.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /**
   * An independent stream for one concern of a run: the seed mixed with a salt, so that e.g.
   * injecting an extra transaction (content stream) does not shift the trickle timings (timing
   * stream) of everything after it.
   */
  static stream(seed: number, salt: number): Rng {
    return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0);
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits (two draws: the tails of exp() need more than 32). */
  float(): number {
    return (this.u32() * 2097152 + (this.u32() >>> 11)) * (1 / 9007199254740992);
  }

  /** Uniform integer in [0, n) for n <= 2^32 (float-based; the bias is below 2^-21 for n < 2^32). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponential with the given mean (inverse CDF; 1 - u is in (0, 1], so the log is finite). */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box-Muller, both variates used). */
  normal(): number {
    const s = this.spare;
    if (s === s) {
      this.spare = NaN;
      return s;
    }
    const u = 1 - this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Lognormal with the given median and shape sigma (median * e^(sigma Z)). */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Picks from (weight, value) pairs. Cold path. */
  weighted<T>(pairs: readonly (readonly [number, T])[]): T {
    let tot = 0;
    for (const [w] of pairs) tot += w;
    let x = this.float() * tot;
    for (const [w, v] of pairs) if ((x -= w) < 0) return v;
    return pairs[pairs.length - 1]![1];
  }

  /** Fills buf[off, off + n) with random bytes. */
  fill(buf: Uint8Array, off: number, n: number): void {
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const r = this.u32();
      buf[off + i] = r & 0xff;
      buf[off + i + 1] = (r >>> 8) & 0xff;
      buf[off + i + 2] = (r >>> 16) & 0xff;
      buf[off + i + 3] = r >>> 24;
    }
    if (i < n) {
      const r = this.u32();
      for (let k = 0; i < n; i++, k++) buf[off + i] = (r >>> (8 * k)) & 0xff;
    }
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    this.fill(b, 0, n);
    return b;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(arr: T[] | Int32Array): void {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
  }
}
