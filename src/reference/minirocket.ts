// Plainly written twin of crates/cis490-core/src/minirocket.rs (MiniRocket,
// multivariate; docs/minirocket.md). Same f64 operations in the same order,
// the same 32-bit generator, so fit and transform agree with the native
// code bit for bit (tests/parity-minirocket.test.ts).

export const KERNEL_LENGTH = 9;
export const NUM_KERNELS = 84;
export const MINIROCKET_FORMAT = "cis490-minirocket/1";

export interface MiniRocketFitOptions {
  num_features: number;
  max_dilations_per_kernel: number;
  seed: number;
}

/** The fitted transform, as the native side writes it in JSON. */
export interface MiniRocketModel {
  format: string;
  n_channels: number;
  length: number;
  mean: number[];
  std: number[];
  dilations: number[];
  features_per_dilation: number[];
  channels: number[][];
  biases: number[];
}

export function kernelIndices(): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let a = 0; a < KERNEL_LENGTH; a++) for (let b = a + 1; b < KERNEL_LENGTH; b++) for (let c = b + 1; c < KERNEL_LENGTH; c++) out.push([a, b, c]);
  return out;
}

export class Mulberry32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  uniform(): number {
    return this.nextU32() / 4294967296;
  }
  below(n: number): number {
    return Math.min(Math.floor(this.uniform() * n), Math.max(0, n - 1));
  }
}

export function fitDilations(length: number, numFeatures: number, maxDilationsPerKernel: number): { dilations: number[]; featuresPerDilation: number[] } {
  const perKernel = Math.floor(numFeatures / NUM_KERNELS);
  const trueMax = Math.max(1, Math.min(perKernel, maxDilationsPerKernel));
  const multiplier = perKernel / trueMax;
  const maxDilation = Math.floor((length - 1) / (KERNEL_LENGTH - 1));
  const maxExponent = Math.log2((length - 1) / (KERNEL_LENGTH - 1));
  const dilations: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < trueMax; i++) {
    const e = i + 1 === trueMax ? maxExponent : maxExponent * (i / Math.max(1, trueMax - 1));
    const d = Math.min(maxDilation, Math.max(1, Math.floor(Math.pow(2, e) + 1e-9)));
    if (dilations.length > 0 && dilations[dilations.length - 1] === d) counts[counts.length - 1]++;
    else {
      dilations.push(d);
      counts.push(1);
    }
  }
  const featuresPerDilation = counts.map((c) => Math.floor(c * multiplier));
  let remainder = perKernel - featuresPerDilation.reduce((a, b) => a + b, 0);
  let i = 0;
  while (remainder > 0) {
    featuresPerDilation[i]++;
    remainder--;
    i = (i + 1) % featuresPerDilation.length;
  }
  return { dilations, featuresPerDilation };
}

export function quantiles(n: number): number[] {
  const phi = (Math.sqrt(5) + 1) / 2;
  const out: number[] = [];
  for (let j = 0; j < n; j++) out.push(((j + 1) * phi) % 1);
  return out;
}

function observed(x: Float32Array, mask: Uint8Array, i: number): boolean {
  return mask[i] !== 0 && Number.isFinite(x[i]);
}

/** Standardises one window (offset `at` in x/mask) into z, masked steps = the window's observed mean of the channel (0 if none). */
export function prepareWindow(x: Float32Array, mask: Uint8Array, at: number, mean: number[], std: number[], length: number, z: Float64Array): void {
  for (let c = 0; c < mean.length; c++) {
    const row = c * length;
    let sum = 0;
    let count = 0;
    for (let t = 0; t < length; t++) {
      if (observed(x, mask, at + row + t)) {
        const s = (x[at + row + t] - mean[c]) / std[c];
        z[row + t] = s;
        sum += s;
        count++;
      }
    }
    const fill = count > 0 ? sum / count : 0;
    for (let t = 0; t < length; t++) if (!observed(x, mask, at + row + t)) z[row + t] = fill;
  }
}

export function channelStats(x: Float32Array, mask: Uint8Array, n: number, channels: number, length: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(channels).fill(0);
  const std = new Array<number>(channels).fill(1);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let count = 0;
    for (let w = 0; w < n; w++) {
      const row = (w * channels + c) * length;
      for (let t = 0; t < length; t++) if (observed(x, mask, row + t)) {
        sum += x[row + t];
        count++;
      }
    }
    if (count === 0) continue;
    const m = sum / count;
    let ss = 0;
    for (let w = 0; w < n; w++) {
      const row = (w * channels + c) * length;
      for (let t = 0; t < length; t++) if (observed(x, mask, row + t)) ss += (x[row + t] - m) * (x[row + t] - m);
    }
    const s = Math.sqrt(ss / count);
    mean[c] = m;
    std[c] = s > 0 && Number.isFinite(s) ? s : 1;
  }
  return { mean, std };
}

function tapAt(z: Float64Array, row: number, length: number, t: number, j: number, d: number): number {
  const p = t + (j - 4) * d;
  return p >= 0 && p < length ? z[row + p] : 0;
}

function tapSums(z: Float64Array, channels: number, length: number, d: number, a: Float64Array): void {
  for (let c = 0; c < channels; c++) {
    const row = c * length;
    for (let t = 0; t < length; t++) {
      let s = 0;
      for (let j = 0; j < KERNEL_LENGTH; j++) {
        const p = t + (j - 4) * d;
        if (p >= 0 && p < length) s += z[row + p];
      }
      a[row + t] = s;
    }
  }
}

function convolve(z: Float64Array, a: Float64Array, chans: number[], idx: [number, number, number], length: number, d: number, out: Float64Array): void {
  for (let t = 0; t < length; t++) {
    let acc = 0;
    for (const c of chans) {
      const row = c * length;
      const s = tapAt(z, row, length, t, idx[0], d) + tapAt(z, row, length, t, idx[1], d) + tapAt(z, row, length, t, idx[2], d);
      acc += 3 * s - a[row + t];
    }
    out[t] = acc;
  }
}

function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function fitMiniRocket(x: Float32Array, mask: Uint8Array, n: number, channels: number, length: number, o: MiniRocketFitOptions): MiniRocketModel {
  if (length < KERNEL_LENGTH) throw new Error(`minirocket: windows of ${length} steps are shorter than the kernel (${KERNEL_LENGTH})`);
  if (channels === 0 || n === 0) throw new Error("minirocket: fit needs at least one window and one channel");
  if (x.length !== n * channels * length || mask.length !== x.length) throw new Error(`minirocket: x and mask must hold n*C*L = ${n * channels * length} values`);
  if (o.num_features < NUM_KERNELS) throw new Error(`minirocket: num_features must be at least ${NUM_KERNELS}`);
  const { mean, std } = channelStats(x, mask, n, channels, length);
  const { dilations, featuresPerDilation } = fitDilations(length, o.num_features, o.max_dilations_per_kernel);
  const rng = new Mulberry32(o.seed);
  const combos = dilations.length * NUM_KERNELS;
  const maxCh = Math.min(channels, KERNEL_LENGTH);
  const exponent = Math.log2(maxCh + 1);
  const chans: number[][] = [];
  for (let i = 0; i < combos; i++) {
    const k = Math.min(maxCh, Math.max(1, Math.floor(Math.pow(2, rng.uniform() * exponent) + 1e-9)));
    const pool = Array.from({ length: channels }, (_, c) => c);
    for (let j = 0; j < k; j++) {
      const r = j + rng.below(channels - j);
      [pool[j], pool[r]] = [pool[r], pool[j]];
    }
    chans.push(pool.slice(0, k));
  }
  const examples = Array.from({ length: combos }, () => rng.below(n));
  const total = NUM_KERNELS * featuresPerDilation.reduce((a, b) => a + b, 0);
  const qs = quantiles(total);
  const kernels = kernelIndices();
  const per = channels * length;
  const z = new Float64Array(per);
  const a = new Float64Array(per);
  const out = new Float64Array(length);
  const biases: number[] = [];
  dilations.forEach((d, di) => {
    kernels.forEach((idx, k) => {
      const combo = di * NUM_KERNELS + k;
      prepareWindow(x, mask, examples[combo] * per, mean, std, length, z);
      tapSums(z, channels, length, d, a);
      convolve(z, a, chans[combo], idx, length, d, out);
      out.sort();
      for (let f = 0; f < featuresPerDilation[di]; f++) biases.push(quantileSorted(out, qs[biases.length]));
    });
  });
  return { format: MINIROCKET_FORMAT, n_channels: channels, length, mean, std, dilations, features_per_dilation: featuresPerDilation, channels: chans, biases };
}

export function numFeatures(m: MiniRocketModel): number {
  return m.biases.length;
}

/** PPV features [n, numFeatures] of windows x/mask [n, C, L]. */
export function transformMiniRocket(m: MiniRocketModel, x: Float32Array, mask: Uint8Array, n: number): Float32Array {
  const length = m.length;
  const per = m.n_channels * length;
  if (x.length !== n * per || mask.length !== x.length) throw new Error(`minirocket: the model reads [n, ${m.n_channels}, ${length}] windows`);
  const nf = numFeatures(m);
  const features = new Float32Array(n * nf);
  const kernels = kernelIndices();
  const z = new Float64Array(per);
  const a = new Float64Array(per);
  const out = new Float64Array(length);
  for (let w = 0; w < n; w++) {
    prepareWindow(x, mask, w * per, m.mean, m.std, length, z);
    let f = 0;
    m.dilations.forEach((d, di) => {
      tapSums(z, m.n_channels, length, d, a);
      const padding = ((KERNEL_LENGTH - 1) * d) >> 1;
      kernels.forEach((idx, k) => {
        convolve(z, a, m.channels[di * NUM_KERNELS + k], idx, length, d, out);
        const [from, to] = (di + k) % 2 === 0 ? [0, length] : [padding, length - padding];
        for (let j = 0; j < m.features_per_dilation[di]; j++) {
          const b = m.biases[f];
          let above = 0;
          for (let t = from; t < to; t++) if (out[t] > b) above++;
          features[w * nf + f] = above / (to - from);
          f++;
        }
      });
    });
  }
  return features;
}
