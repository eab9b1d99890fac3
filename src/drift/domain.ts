// The multivariate drift test: can a classifier tell the reference windows
// from the new ones? XGBoost (the project's GBT estimator, few shallow
// trees) on reference (0) vs new (1), k-fold with folds made of whole
// episodes so that windows of one episode never sit on both sides of a fold;
// the out-of-fold scores give a ROC AUC, and its percentile interval comes
// from resampling episodes. AUC near 0.5: indistinguishable.

import { deriveRng } from "../synth/rng.js";
import { outOfFoldProba } from "../train/oof.js";
import { rocAuc } from "./tests.js";

export interface DomainOptions {
  folds: number;
  rounds: number;
  maxDepth: number;
  resamples: number;
  seed: number;
  threads: number;
  ci: number;
}

export const DEFAULT_DOMAIN: DomainOptions = { folds: 5, rounds: 40, maxDepth: 3, resamples: 200, seed: 0, threads: 1, ci: 0.95 };

export interface DomainResult {
  auc: number;
  lo: number | null;
  hi: number | null;
  folds: number;
  n_reference: number;
  n_new: number;
  episodes: number;
}

export async function domainClassifier(
  ref: { x: Float32Array; episodes: string[] },
  cur: { x: Float32Array; episodes: string[] },
  width: number,
  o: DomainOptions = DEFAULT_DOMAIN,
): Promise<DomainResult> {
  const nRef = ref.episodes.length;
  const nNew = cur.episodes.length;
  const n = nRef + nNew;
  const x = new Float32Array(n * width);
  x.set(ref.x.subarray(0, nRef * width), 0);
  x.set(cur.x.subarray(0, nNew * width), nRef * width);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) x[i] = Number.NaN;
  const y = new Int32Array(n);
  y.fill(1, nRef);
  // An episode present on both sides (features of the training file itself) keeps one group.
  const episodes = [...ref.episodes, ...cur.episodes];
  // Class weights balance the two sides.
  const cw = Float32Array.from([n / (2 * Math.max(1, nRef)), n / (2 * Math.max(1, nNew))]);
  const oof = await outOfFoldProba(x, width, y, episodes, 2, cw, o);
  const folds = oof.folds;
  const scores = Float64Array.from({ length: n }, (_, i) => oof.proba[i * 2 + 1]);
  const auc = rocAuc(scores, y);
  // Episode bootstrap of the out-of-fold AUC.
  const groups = new Map<string, number[]>();
  episodes.forEach((e, i) => groups.set(e, [...(groups.get(e) ?? []), i]));
  const members = [...groups.values()];
  const rng = deriveRng(BigInt(o.seed), 0x5bd1e995);
  const values: number[] = [];
  for (let b = 0; b < o.resamples; b++) {
    const rows: number[] = [];
    for (let g = 0; g < members.length; g++) rows.push(...members[rng.int(0, members.length - 1)]);
    const v = rocAuc(scores, y, rows);
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const pick = (p: number): number | null => (values.length ? values[Math.min(values.length - 1, Math.max(0, Math.floor(p * values.length)))] : null);
  const tail = (1 - o.ci) / 2;
  return { auc, lo: pick(tail), hi: pick(1 - tail), folds, n_reference: nRef, n_new: nNew, episodes: members.length };
}
