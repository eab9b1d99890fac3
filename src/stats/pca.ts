// Principal components of a sample of embeddings, for the dashboard's 2-D
// scatter (docs/embedding.md). Deterministic: a fixed-seed start vector,
// power iteration with deflation (each component iterated orthogonal to the
// ones before it), and a fixed sign (each component's largest-magnitude
// entry, the first on ties, is positive), so the same sample gives the same
// projection on every run and machine.
//
// Embeddings can be wide (MiniRocket's ~10k PPV features), so a d x d
// covariance is formed only while n * d * d stays small; otherwise each
// iteration multiplies by the centred data directly (X^T (X v) with the mean
// subtracted on the fly), never copying or centring X. Both paths agree to
// rounding (tests/pca.test.ts).

import { Mulberry32 } from "../reference/minirocket.js";

/** A fitted projection: `components` are k unit rows of length d, in decreasing explained variance. */
export interface Pca {
  mean: number[];
  components: number[][];
  /** Variance along each component (the covariance's eigenvalue, n - 1 denominator as numpy/scikit-learn). */
  explained_variance: number[];
}

export type PcaMethod = "covariance" | "iterative";

/** n * d * d beyond which the covariance is not formed. */
const COVARIANCE_WORK_LIMIT = 2e8;
const MAX_ITERATIONS = { covariance: 2000, iterative: 300 } as const;
const TOLERANCE = 1e-12;
const START_SEED = 0x5ca1ab1e;
/** A component explaining less than this share of the total variance is rounding noise (rank < k). */
const RANK_TOLERANCE = 1e-10;

/** Fits the top k principal components of n rows of width d (row-major x). */
export function fitPca(x: Float32Array, n: number, d: number, k = 2): Pca {
  return fitPcaWith(x, n, d, k, n * d * d <= COVARIANCE_WORK_LIMIT ? "covariance" : "iterative");
}

/** fitPca with the method chosen by the caller (tests compare the two). */
export function fitPcaWith(x: Float32Array, n: number, d: number, k: number, method: PcaMethod): Pca {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`fitPca: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`fitPca: d must be a positive integer, got ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > d) throw new RangeError(`fitPca: k must be an integer in [1, d = ${d}], got ${k}`);
  if (x.length !== n * d) throw new RangeError(`fitPca: x has ${x.length} values, expected n * d = ${n * d}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`fitPca: x[${i}] (row ${Math.floor(i / d)}) is not finite (${x[i]})`);
  }
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += x[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const denom = Math.max(1, n - 1);
  // Total variance, to tell a real component from rounding noise once the rank is exhausted.
  let total = 0;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) total += (x[r * d + j] - mean[j]) ** 2;
  total /= denom;
  const multiply = method === "covariance" ? covarianceOperator(x, n, d, mean, denom) : dataOperator(x, n, d, mean, denom);

  const components: Float64Array[] = [];
  const explained: number[] = [];
  const rand = new Mulberry32(START_SEED);
  for (let c = 0; c < k; c++) {
    let v: Float64Array = Float64Array.from({ length: d }, () => rand.uniform() - 0.5);
    orthogonalise(v, components);
    let norm = normalise(v);
    let variance = 0;
    if (norm > 0) {
      for (let it = 0; it < MAX_ITERATIONS[method]; it++) {
        const w = multiply(v);
        orthogonalise(w, components); // deflation: no drift back into earlier components
        const len = normalise(w);
        if (len === 0) {
          norm = 0;
          break;
        }
        let change = 0;
        for (let j = 0; j < d; j++) change += (w[j] - v[j]) ** 2;
        v = w;
        if (change < TOLERANCE) break;
      }
    }
    if (norm > 0) variance = dot(v, multiply(v));
    if (!(norm > 0) || !(variance > RANK_TOLERANCE * total)) {
      // No variance left (rank below k): any unit vector orthogonal to the others, taken from the standard basis in order.
      v = basisComplement(d, components);
      variance = 0;
    }
    fixSign(v);
    components.push(v);
    explained.push(Math.max(0, variance));
  }
  return { mean: [...mean], components: components.map((v) => [...v]), explained_variance: explained };
}

/** n rows of width d projected on the components: row-major [n, k]. */
export function projectPca(p: Pca, x: Float32Array, n: number, d: number): Float32Array {
  if (p.mean.length !== d) throw new RangeError(`projectPca: the PCA was fitted on width ${p.mean.length}, got rows of width ${d}`);
  if (x.length !== n * d) throw new RangeError(`projectPca: x has ${x.length} values, expected n * d = ${n * d}`);
  const k = p.components.length;
  for (const c of p.components) if (c.length !== d) throw new RangeError(`projectPca: a component has ${c.length} entries, expected ${d}`);
  const out = new Float32Array(n * k);
  const centred = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) centred[j] = x[r * d + j] - p.mean[j];
    for (let c = 0; c < k; c++) {
      const comp = p.components[c];
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[j] * comp[j];
      out[r * k + c] = s;
    }
  }
  return out;
}

type Operator = (v: Float64Array) => Float64Array;

/** v -> C v with the d x d sample covariance C formed once. */
function covarianceOperator(x: Float32Array, n: number, d: number, mean: Float64Array, denom: number): Operator {
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) row[j] = x[r * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) cov[o + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= denom;
      cov[b * d + a] = cov[a * d + b];
    }
  }
  return (v) => {
    const out = new Float64Array(d);
    for (let a = 0; a < d; a++) {
      let s = 0;
      const o = a * d;
      for (let b = 0; b < d; b++) s += cov[o + b] * v[b];
      out[a] = s;
    }
    return out;
  };
}

/** v -> Xc^T (Xc v) / (n - 1) with Xc = X - 1 mean^T, without forming Xc. */
function dataOperator(x: Float32Array, n: number, d: number, mean: Float64Array, denom: number): Operator {
  return (v) => {
    const mv = dot(mean, v);
    const out = new Float64Array(d);
    let uSum = 0;
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let u = -mv;
      for (let j = 0; j < d; j++) u += x[o + j] * v[j];
      uSum += u;
      for (let j = 0; j < d; j++) out[j] += x[o + j] * u;
    }
    for (let j = 0; j < d; j++) out[j] = (out[j] - mean[j] * uSum) / denom;
    return out;
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

/** Scales v to unit length in place; returns its former length (0 leaves it unchanged). */
function normalise(v: Float64Array): number {
  const len = Math.sqrt(dot(v, v));
  if (len > 0 && Number.isFinite(len)) for (let j = 0; j < v.length; j++) v[j] /= len;
  return Number.isFinite(len) ? len : 0;
}

/** Removes from v its parts along the (orthonormal) vectors in `basis`, twice for stability. */
function orthogonalise(v: Float64Array, basis: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const b of basis) {
      const s = dot(v, b);
      for (let j = 0; j < v.length; j++) v[j] -= s * b[j];
    }
  }
}

function basisComplement(d: number, basis: Float64Array[]): Float64Array {
  for (let j = 0; j < d; j++) {
    const e = new Float64Array(d);
    e[j] = 1;
    orthogonalise(e, basis);
    if (normalise(e) > 1e-6) return e;
  }
  throw new Error("fitPca: no direction left (k > d)");
}

/** The largest-magnitude entry (the first on ties) is made positive. */
function fixSign(v: Float64Array): void {
  let at = 0;
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j]) > Math.abs(v[at]) + 1e-12) at = j;
  if (v[at] < 0) for (let j = 0; j < v.length; j++) v[j] = -v[j];
}
