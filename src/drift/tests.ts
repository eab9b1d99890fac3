// Per-feature drift statistics against a quantile digest (docs/drift.md):
// the KS distance between the new values' empirical CDF and the reference
// CDF known at the 1% grid, PSI over bins cut at the reference deciles, a
// two-proportion test of the missing fraction; and the ROC AUC used by the
// domain classifier.

import { GRID } from "./digest.js";

/** Half a grid step: how far the reference CDF read off the 1% grid can be from the true one. */
export const GRID_RANK_ERROR = 0.5 / (GRID + 1);

function countBelow(sorted: Float64Array, v: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (inclusive ? sorted[mid] <= v : sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * KS distance between sorted finite new values and the reference given by
 * its quantiles q[i] at level (i+1)/100. At each distinct quantile value v
 * spanning grid levels i..j, the reference CDF just below v is taken as
 * (i+0.5)/100 and at v as (j+1.5)/100 (mid-points of the intervals the grid
 * pins them to); the result is lowered by that rank error (0.005), so it
 * never overstates the distance at the grid points.
 */
export function ksAgainstQuantiles(sorted: Float64Array, q: Float32Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const step = 1 / (GRID + 1);
  let d = 0;
  let i = 0;
  while (i < q.length) {
    let j = i;
    while (j + 1 < q.length && q[j + 1] === q[i]) j++;
    const v = q[i];
    const below = countBelow(sorted, v, false) / n;
    const atOrBelow = countBelow(sorted, v, true) / n;
    d = Math.max(d, Math.abs(below - (i + 0.5) * step), Math.abs(atOrBelow - (j + 1.5) * step));
    i = j + 1;
  }
  return Math.max(0, d - GRID_RANK_ERROR);
}

/** Kolmogorov's asymptotic tail probability Q(lambda) = 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2). */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** Two-sample KS p-value for distance d with effective sizes n and m (Stephens' small-sample correction). */
export function ksPValue(d: number, n: number, m: number): number {
  if (n <= 0 || m <= 0) return 1;
  const ne = Math.sqrt((n * m) / (n + m));
  return kolmogorovQ((ne + 0.12 + 0.11 / ne) * d);
}

/** Standard normal upper tail. */
function normalSf(z: number): number {
  // Abramowitz-Stegun 7.1.26 on erfc, |error| < 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Two-sided two-proportion z-test p-value (p1 of n1 vs p2 of n2). */
export function proportionPValue(p1: number, n1: number, p2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 1;
  const p = (p1 * n1 + p2 * n2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return p1 === p2 ? 1 : 0;
  return 2 * normalSf(Math.abs(p1 - p2) / se);
}

export const PSI_FLOOR = 1e-4;

/**
 * PSI over bins cut at the reference deciles (distinct values of q at
 * p10..p90, so ties merge bins) plus one bin for missing values:
 * sum (new - ref) ln(new / ref), shares floored at 1e-4. The reference's
 * finite mass below an edge e is read off the grid: (levels with q <= e)/100 + 0.005.
 */
export function psiAgainstQuantiles(sorted: Float64Array, nMissingNew: number, q: Float32Array, refMissing: number): number {
  const nNew = sorted.length + nMissingNew;
  if (nNew === 0) return 0;
  const edges: number[] = [];
  if (!Number.isNaN(q[0])) {
    for (let k = 1; k <= 9; k++) {
      const e = q[k * 10 - 1];
      if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
    }
  }
  const refCdf = (e: number): number => {
    let c = 0;
    for (let i = 0; i < q.length; i++) if (q[i] <= e) c = i + 1;
    return Math.min(1, (c + 0.5) / (GRID + 1));
  };
  const refFinite = 1 - refMissing;
  const term = (pNew: number, pRef: number): number => {
    const a = Math.max(PSI_FLOOR, pNew);
    const b = Math.max(PSI_FLOOR, pRef);
    return (a - b) * Math.log(a / b);
  };
  let psi = term(nMissingNew / nNew, refMissing);
  if (edges.length === 0) return psi + term(sorted.length / nNew, refFinite);
  let prevRef = 0;
  let prevNew = 0;
  for (const e of edges) {
    const r = refCdf(e);
    const c = countBelow(sorted, e, true);
    psi += term((c - prevNew) / nNew, (r - prevRef) * refFinite);
    prevRef = r;
    prevNew = c;
  }
  psi += term((sorted.length - prevNew) / nNew, (1 - prevRef) * refFinite);
  return psi;
}

export function psiReading(psi: number): "stable" | "moderate" | "major" {
  return psi < 0.1 ? "stable" : psi <= 0.25 ? "moderate" : "major";
}

/** ROC AUC of scores for positives (label 1) vs negatives (0), ties counted half (Mann-Whitney). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, rows?: ArrayLike<number>): number {
  const idx = rows ? Array.from(rows) : Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) {
      rankSumPos += rank;
      nPos++;
    }
    i = j + 1;
  }
  const nNeg = idx.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
