// The drift baseline stored with a model version: per input feature, the
// quantiles p1..p99 (inverse empirical CDF, 1% grid) of its finite training
// values (kept to 15 mantissa bits) plus mean, std, min, max and the missing fraction. Names and counts
// go to drift_digest.json; the numbers to drift_digest.bin, as float32 bit
// patterns with the (sorted) quantiles delta-coded, byte-shuffled and
// deflated: about 27 KB for the 145 realistic features, under 64 KB for the
// 230 oracle ones (a test checks it).

import { deflateRawSync, inflateRawSync } from "node:zlib";

export const DIGEST_FORMAT = "cis490-drift-digest/1";
/** Quantile levels: 1/100 .. 99/100. */
export const GRID = 99;

/** Per feature in the binary part: n, then float32 mean, std, min, max, then the GRID quantiles. */
const HEAD = 5;
export const ROW = HEAD + GRID;

export interface FeatureDigest {
  name: string;
  /** Finite values seen. */
  n: number;
  missing_fraction: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

/** drift_digest.json; the numbers live in drift_digest.bin (see encode()). */
export interface DriftDigest {
  format: typeof DIGEST_FORMAT;
  /** Training windows and their episodes. */
  n_windows: number;
  n_episodes: number;
  grid: number;
  names: string[];
  /** How drift_digest.bin is laid out. */
  encoding: string;
}

export interface Digest {
  doc: DriftDigest;
  features: FeatureDigest[];
  /** Quantiles p1..p99, row per feature (NaN for a feature with no finite value). */
  quantiles: Float32Array[];
}

export const ENCODING = "deflate-raw of a byte-shuffled uint32 array: per feature n, then the float32 bit patterns of mean, std, min, max and p1..p99, each quantile stored as the difference (mod 2^32) from the previous one";

/** The inverse empirical CDF at level p of sorted finite values: the smallest x with F(x) >= p. */
export function quantileSorted(sorted: Float64Array | Float32Array, p: number): number {
  const k = Math.max(0, Math.ceil(p * sorted.length - 1e-9) - 1);
  return sorted[Math.min(sorted.length - 1, k)];
}

/** Finite values of column f of a row-major matrix, sorted ascending. */
export function finiteColumn(x: Float32Array, n: number, width: number, f: number): Float64Array {
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i * width + f];
    if (Number.isFinite(v)) out[k++] = v;
  }
  return out.subarray(0, k).sort();
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * A quantile kept to 15 mantissa bits (relative error below 2^-16, far inside
 * the 1% grid): the low byte of every stored word is then zero, which keeps
 * the digest under 64 KB for 230 features whatever their values. Rounding is
 * monotone, so the quantiles stay sorted.
 */
export function roundQuantile(v: number): number {
  if (!Number.isFinite(v)) return v;
  f32[0] = v;
  const b = u32[0];
  const exponent = (b >>> 23) & 0xff;
  if (exponent >= 0xfe) return f32[0]; // rounding could overflow to infinity
  u32[0] = ((b + 0x80) & 0xffffff00) >>> 0;
  return f32[0];
}

export function buildDigest(x: Float32Array, n: number, names: readonly string[], episodes: readonly string[]): Digest {
  const features: FeatureDigest[] = [];
  const quantiles: Float32Array[] = [];
  const width = names.length;
  for (let f = 0; f < width; f++) {
    const v = finiteColumn(x, n, width, f);
    const q = new Float32Array(GRID).fill(Number.NaN);
    let mean: number | null = null;
    let std: number | null = null;
    if (v.length > 0) {
      for (let i = 0; i < GRID; i++) q[i] = roundQuantile(quantileSorted(v, (i + 1) / 100));
      let s = 0;
      for (const a of v) s += a;
      mean = s / v.length;
      let ss = 0;
      for (const a of v) ss += (a - mean) ** 2;
      std = Math.sqrt(ss / Math.max(1, v.length - 1));
    }
    // Stored as float32: round here so that a digest read back equals the one built.
    const r = (a: number | null) => (a === null ? null : Math.fround(a));
    features.push({ name: names[f], n: v.length, missing_fraction: n === 0 ? 1 : 1 - v.length / n, mean: r(mean), std: r(std), min: v.length ? r(v[0]) : null, max: v.length ? r(v[v.length - 1]) : null });
    quantiles.push(q);
  }
  return { doc: { format: DIGEST_FORMAT, n_windows: n, n_episodes: new Set(episodes).size, grid: GRID, names: [...names], encoding: ENCODING }, features, quantiles };
}

export function encodeDigestBinary(d: Digest): Uint8Array {
  const width = d.features.length;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const bits = (v: number | null): number => {
    f32[0] = v === null ? Number.NaN : v;
    return u32[0];
  };
  const words = new Uint32Array(width * ROW);
  d.features.forEach((ft, f) => {
    const at = f * ROW;
    words[at] = ft.n;
    words[at + 1] = bits(ft.mean);
    words[at + 2] = bits(ft.std);
    words[at + 3] = bits(ft.min);
    words[at + 4] = bits(ft.max);
    let prev = 0;
    for (let i = 0; i < GRID; i++) {
      const b = bits(d.quantiles[f][i]);
      words[at + HEAD + i] = (b - prev) >>> 0;
      prev = b;
    }
  });
  const bytes = new Uint8Array(words.buffer);
  const m = words.length;
  const shuffled = new Uint8Array(bytes.length);
  for (let i = 0; i < m; i++) for (let k = 0; k < 4; k++) shuffled[k * m + i] = bytes[i * 4 + k];
  return deflateRawSync(shuffled, { level: 9 });
}

export function decodeDigest(doc: DriftDigest, bin: Uint8Array): Digest {
  if (doc.format !== DIGEST_FORMAT) throw new Error(`drift digest format ${JSON.stringify(doc.format)} is not ${DIGEST_FORMAT}`);
  const shuffled = inflateRawSync(bin);
  const width = doc.names.length;
  const m = width * ROW;
  if (shuffled.length !== m * 4) throw new Error(`drift digest binary holds ${shuffled.length} bytes, expected ${m * 4} for ${width} features`);
  const bytes = new Uint8Array(m * 4);
  for (let i = 0; i < m; i++) for (let k = 0; k < 4; k++) bytes[i * 4 + k] = shuffled[k * m + i];
  const words = new Uint32Array(bytes.buffer);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const num = (w: number): number | null => {
    u32[0] = w;
    return Number.isNaN(f32[0]) ? null : f32[0];
  };
  const features: FeatureDigest[] = [];
  const quantiles: Float32Array[] = [];
  for (let f = 0; f < width; f++) {
    const at = f * ROW;
    const n = words[at];
    features.push({ name: doc.names[f], n, missing_fraction: doc.n_windows === 0 ? 1 : 1 - n / doc.n_windows, mean: num(words[at + 1]), std: num(words[at + 2]), min: num(words[at + 3]), max: num(words[at + 4]) });
    const q = new Float32Array(GRID);
    let prev = 0;
    for (let i = 0; i < GRID; i++) {
      prev = (prev + words[at + HEAD + i]) >>> 0;
      u32[0] = prev;
      q[i] = f32[0];
    }
    quantiles.push(q);
  }
  return { doc, features, quantiles };
}
