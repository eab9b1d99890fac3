// The plain TypeScript twin of crates/cis490-anomaly (docs/anomaly.md): the
// same RNG streams (xoshiro128** per tree), the same ln by plain
// arithmetic, the same draws in the same order, one thread. Used by parity
// tests and benchmarks; src/anomaly/eif.ts runs the native crate.

import { DEFAULT_EIF_OPTIONS, EIF_MODEL_FORMAT, type EifModel, type EifOptions, type EifTree } from "../anomaly/eif-model.js";
import type { AnomalyBackend } from "../anomaly/eif-model.js";
import { Xoshiro128ss } from "../util/rng.js";

const LN2 = 0.6931471805599453;
export const EULER_GAMMA = 0.5772156649015329;

/** ln of a positive number by exact halving/doubling to m in [sqrt(1/2), sqrt(2)) and a 13-term atanh series. */
export function detLn(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let m = x;
  let e = 0;
  while (m >= 2) {
    m *= 0.5;
    e += 1;
  }
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 25;
  for (let k = 11; k >= 0; k--) p = p * s2 + 1 / (2 * k + 1);
  return 2 * s * p + e * LN2;
}

/** Uniform in [0, 1) from 27 + 26 bits of two draws. */
export function uniform(rng: Xoshiro128ss): number {
  const a = rng.nextU32() >>> 5;
  const b = rng.nextU32() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

/** Marsaglia's polar method, one value per accepted pair. */
export function normal(rng: Xoshiro128ss): number {
  for (;;) {
    const u = 2 * uniform(rng) - 1;
    const v = 2 * uniform(rng) - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * detLn(s)) / s);
  }
}

/** c(n) = 2 H(n-1) - 2 (n-1)/n, H(i) ~ ln i + gamma; c(2) = 1, c(n <= 1) = 0. */
export function cFactor(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  const m = n - 1;
  return 2 * (detLn(m) + EULER_GAMMA) - (2 * m) / n;
}

/** Median of the finite values (mean of the middle two for an even count; -0 reads as 0); 0 if none. */
export function medianFinite(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return 0;
  // + 0 turns a -0 median into 0 (the native side compares -0 and 0 as one value).
  return (n % 2 === 1 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) + 0;
}

export function maxDepthFor(psi: number): number {
  let d = 0;
  while (2 ** d < psi) d++;
  return d;
}

function checkMatrix(x: ArrayLike<number>, n: number, d: number): void {
  if (d === 0) throw new Error("the matrix has no columns");
  if (n * d !== x.length) throw new Error(`matrix of ${x.length} values is not ${n} x ${d}`);
}

/** The first psi entries of a Fisher-Yates shuffle of 0..n-1 (displaced entries kept in a map). */
export function sampleRows(rng: Xoshiro128ss, n: number, psi: number): number[] {
  const moved = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < psi; i++) {
    const j = i + rng.index(n - i);
    const atJ = moved.get(j) ?? j;
    const atI = moved.get(i) ?? i;
    moved.set(j, atI);
    out.push(atJ);
  }
  return out;
}

const imputed = (v: number, median: number): number => (Number.isFinite(v) ? v : median);

function buildTree(x: ArrayLike<number>, n: number, d: number, medians: number[], o: EifOptions, t: number, psi: number, maxDepth: number): EifTree {
  const rng = Xoshiro128ss.forResample(o.seed, t);
  const sample = sampleRows(rng, n, psi);
  // The tree's sample, imputed: rows[i] is row sample[i].
  const local = sample.map((r) => Array.from({ length: d }, (_, f) => imputed(x[r * d + f], medians[f])));
  const tree: EifTree = { right: [], value: [], nfeat: [], feat: [], coef: [] };

  const leaf = (depth: number, size: number) => {
    tree.right.push(-1);
    tree.value.push(depth + cFactor(size));
    tree.nfeat.push(0);
  };

  const build = (rows: number[][], depth: number): void => {
    const size = rows.length;
    if (depth >= maxDepth || size <= 1) return leaf(depth, size);
    // Features in a lazily drawn Fisher-Yates order, skipping those constant on these rows, until ndim are found.
    const perm = Array.from({ length: d }, (_, f) => f);
    const cand: number[] = [];
    const lo: number[] = [];
    const hi: number[] = [];
    for (let i = 0; cand.length < o.ndim && i < d; i++) {
      const j = i + rng.index(d - i);
      [perm[i], perm[j]] = [perm[j], perm[i]];
      const f = perm[i];
      let mn = Infinity;
      let mx = -Infinity;
      for (const row of rows) {
        if (row[f] < mn) mn = row[f];
        if (row[f] > mx) mx = row[f];
      }
      if (mx > mn) {
        cand.push(f);
        lo.push(mn);
        hi.push(mx);
      }
    }
    const k = cand.length;
    if (k === 0) return leaf(depth, size);
    const feats: number[] = [];
    const coefs: number[] = [];
    let threshold = 0;
    for (let i = 0; i < k; i++) {
      const f = cand[i];
      const c = normal(rng);
      const p = lo[i] + uniform(rng) * (hi[i] - lo[i]);
      threshold += c * p;
      feats.push(f);
      coefs.push(c);
    }
    const node = tree.right.length;
    tree.right.push(0);
    tree.value.push(threshold);
    tree.nfeat.push(k);
    tree.feat.push(...feats);
    tree.coef.push(...coefs);
    const left: number[][] = [];
    const right: number[][] = [];
    for (const row of rows) {
      let dot = 0;
      for (let q = 0; q < k; q++) dot += coefs[q] * row[feats[q]];
      (dot <= threshold ? left : right).push(row);
    }
    build(left, depth + 1);
    tree.right[node] = tree.right.length;
    build(right, depth + 1);
  };

  build(local, 0);
  return tree;
}

export function fitReference(x: ArrayLike<number>, n: number, d: number, options: Partial<EifOptions> = {}): EifModel {
  const o = { ...DEFAULT_EIF_OPTIONS, ...options };
  checkMatrix(x, n, d);
  if (n < 2) throw new Error(`need at least 2 training rows, got ${n}`);
  const medians: number[] = [];
  for (let f = 0; f < d; f++) {
    const col: number[] = [];
    for (let i = 0; i < n; i++) col.push(x[i * d + f]);
    medians.push(medianFinite(col));
  }
  const psi = Math.min(o.subsample, n);
  const maxDepth = maxDepthFor(psi);
  const trees: EifTree[] = [];
  for (let t = 0; t < o.n_trees; t++) trees.push(buildTree(x, n, d, medians, o, t, psi, maxDepth));
  return { format: EIF_MODEL_FORMAT, n_features: d, n_trees: o.n_trees, ndim: o.ndim, seed: o.seed, subsample: psi, max_depth: maxDepth, medians, trees };
}

/** Offsets of each node's hyperplane in feat/coef: prefix sums of nfeat. */
function hyperplaneStarts(tree: EifTree): number[] {
  let off = 0;
  return tree.nfeat.map((k) => {
    const s = off;
    off += k;
    return s;
  });
}

function pathLength(tree: EifTree, starts: number[], row: number[]): number {
  let i = 0;
  for (;;) {
    const r = tree.right[i];
    if (r < 0) return tree.value[i];
    let dot = 0;
    for (let q = starts[i]; q < starts[i] + tree.nfeat[i]; q++) dot += tree.coef[q] * row[tree.feat[q]];
    i = dot <= tree.value[i] ? i + 1 : r;
  }
}

/** s = 2^(-mean path length / c(subsample)) per row; path lengths summed in tree order. */
export function scoreReference(model: EifModel, x: ArrayLike<number>, n: number): Float64Array {
  const d = model.n_features;
  checkMatrix(x, n, d);
  const c = cFactor(model.subsample);
  const out = new Float64Array(n);
  const starts = model.trees.map(hyperplaneStarts);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: d }, (_, f) => imputed(x[i * d + f], model.medians[f]));
    let acc = 0;
    model.trees.forEach((tree, t) => (acc += pathLength(tree, starts[t], row)));
    out[i] = 2 ** (-(acc / model.n_trees) / c);
  }
  return out;
}

export const referenceAnomaly: AnomalyBackend = {
  eifFit: async (x, n, d, o) => JSON.stringify(fitReference(x, n, d, o)),
  eifScore: async (modelJson, x, n) => scoreReference(JSON.parse(modelJson) as EifModel, x, n),
};
