// The plain TypeScript twin of crates/cis490-stats/src/auc.rs: ROC AUC,
// average precision (PR AUC) and TPR at an FPR budget, and their bootstrap
// (same RNG streams, same unit numbering, same arithmetic). Parity tests and
// benchmarks only; src/eval/auc.ts runs the native crate.

import type { AucResult, ResolvedAucOptions } from "../stats/types.js";
import { percentileCi } from "../stats/quantiles.js";
import { Xoshiro128ss } from "../util/rng.js";

/** [ROC AUC, average precision, TPR at FPR <= maxFpr] with window i counted w[i] times (NaN if a class has no weight). */
export function rankMetrics(y: ArrayLike<number>, score: ArrayLike<number>, w: ArrayLike<number> | null, maxFpr: number): [number, number, number] {
  const n = y.length;
  const weight = (i: number) => (w === null ? 1 : w[i]);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a] || 0);
  let p = 0;
  let neg = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] === 1) p += weight(i);
    else neg += weight(i);
  }
  if (p === 0 || neg === 0) return [NaN, NaN, NaN];
  let tp = 0;
  let fp = 0;
  let area = 0;
  let ap = 0;
  let best = 0;
  for (let k = 0; k < n; ) {
    const tp0 = tp;
    const fp0 = fp;
    let j = k;
    while (j < n && score[order[j]] === score[order[k]]) {
      if (y[order[j]] === 1) tp += weight(order[j]);
      else fp += weight(order[j]);
      j++;
    }
    k = j;
    area += ((fp - fp0) * (tp + tp0)) / 2;
    if (tp > tp0) ap += ((tp - tp0) / p) * (tp / (tp + fp));
    if (fp / neg <= maxFpr) best = tp / p;
  }
  return [area / (p * neg), ap, best];
}

export function aucBootstrapReference(y: Int32Array, score: Float64Array, groups: Uint32Array | null, o: ResolvedAucOptions): AucResult {
  const n = y.length;
  let unitOf: number[];
  if (o.unit === "window") unitOf = Array.from({ length: n }, (_, i) => i);
  else {
    const ids = Array.from(new Set(groups!)).sort((a, b) => a - b);
    const rank = new Map(ids.map((id, i) => [id, i]));
    unitOf = Array.from(groups!, (g) => rank.get(g)!);
  }
  const units = unitOf.reduce((m, u) => Math.max(m, u + 1), 0);
  const point = rankMetrics(y, score, null, o.maxFpr);
  const columns: number[][] = [[], [], []];
  const mult = new Float64Array(units);
  const w = new Float64Array(n);
  for (let r = 0; r < o.resamples; r++) {
    const rng = Xoshiro128ss.forResample(o.seed, r);
    mult.fill(0);
    for (let d = 0; d < units; d++) mult[rng.index(units)] += 1;
    for (let i = 0; i < n; i++) w[i] = mult[unitOf[i]];
    rankMetrics(y, score, w, o.maxFpr).forEach((v, j) => columns[j].push(v));
  }
  const interval = (j: number) => {
    const [lo, hi] = percentileCi(columns[j], o.ci);
    return { point: point[j], lo, hi };
  };
  let positives = 0;
  for (const l of y) positives += l === 1 ? 1 : 0;
  return {
    unit: o.unit,
    units,
    windows: n,
    positives,
    negatives: n - positives,
    resamples: o.resamples,
    seed: o.seed,
    ci: o.ci,
    max_fpr: o.maxFpr,
    roc_auc: interval(0),
    pr_auc: interval(1),
    tpr_at_fpr: interval(2),
  };
}
