// Seeded randomness for the synthetic store. Everything random in synth comes
// from here, so that a store is a pure function of (seed, episode index):
// episodes can be generated in any order, on any number of workers, and still
// come out byte-identical.

const MASK64 = (1n << 64n) - 1n;

/** One splitmix64 step; used only to derive stream seeds (BigInt is slow, but this runs a few times per episode). */
function splitmix64(x: bigint): [bigint, bigint] {
  const next = (x + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/** Parses a CLI seed: a non-negative decimal integer (any size; reduced mod 2^64). */
export function parseSeed(text: string): bigint | null {
  if (!/^[0-9]+$/.test(text.trim())) return null;
  return BigInt(text.trim()) & MASK64;
}

/**
 * Mixes the store seed with integer tags (episode index, stream name hash...)
 * into the 128-bit state of a fast 32-bit generator.
 */
export function deriveRng(seed: bigint, ...tags: number[]): Rng {
  let state = seed & MASK64;
  let out = 0n;
  for (const tag of tags) {
    [state, out] = splitmix64(state ^ BigInt.asUintN(64, BigInt(tag)));
    state = out;
  }
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    [state, out] = splitmix64(state);
    words.push(Number(out & 0xffffffffn));
  }
  return new Rng(words[0], words[1], words[2], words[3] | 1);
}

/** Stable 32-bit hash of a short string (FNV-1a), for naming sub-streams. */
export function tagOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xoshiro128** — 32-bit arithmetic only, so it is fast in V8 and identical everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  gauss(mean: number, sd: number): number {
    return mean + sd * this.normal();
  }

  /** Log-normal multiplier with median 1 and the given log-sd. */
  spread(logSd: number): number {
    return Math.exp(logSd * this.normal());
  }

  /** Poisson count (Knuth for small means, normal approximation above 40). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Index drawn with probability proportional to weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
