// The seeded generator the Rust crates and their TypeScript twins share
// (xoshiro128** with a splitmix32-style seeding per stream), written once so
// that native and reference draw the same numbers in the same order.

const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finaliser (a bijection on u32). */
export function fmix32(z: number): number {
  z ^= z >>> 16;
  z = Math.imul(z, 0x85ebca6b);
  z ^= z >>> 13;
  z = Math.imul(z, 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** (Blackman & Vigna); state words kept as int32, output as u32. */
export class Xoshiro128ss {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** The stream of resample r: splitmix32 over the key fmix32(seed ^ fmix32(r + GOLDEN)). */
  static forResample(seed: number, r: number): Xoshiro128ss {
    let x = fmix32((seed ^ fmix32((r + GOLDEN) >>> 0)) >>> 0);
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + GOLDEN) >>> 0;
      s.push(fmix32(x));
    }
    return new Xoshiro128ss(s[0], s[1], s[2], s[3]);
  }

  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** floor(u * n / 2^32), exact: u * n < 2^53 when n < 2^21; otherwise split u into 16-bit halves. */
  index(n: number): number {
    const u = this.nextU32();
    if (n < 0x200000) return Math.floor((u * n) / 4294967296);
    const a = (u >>> 16) * n; // < 2^48
    const b = (u & 0xffff) * n; // < 2^48
    return Math.floor(a / 65536) + Math.floor(((a % 65536) * 65536 + b) / 4294967296);
  }
}
