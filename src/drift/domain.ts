// The multivariate drift test: can a classifier tell the reference windows
// from the new ones? XGBoost (the project's GBT estimator, few shallow
// trees) on reference (0) vs new (1), k-fold with folds made of whole
// episodes so that windows of one episode never sit on both sides of a fold;
// the out-of-fold scores give a ROC AUC, and its percentile interval comes
// from resampling episodes. AUC near 0.5: indistinguishable.

import { createHash } from "node:crypto";
import { deriveRng } from "../synth/rng.js";
import { DEFAULT_GBT, GbtEstimator } from "../train/gbt.js";
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

function foldOf(episode: string, folds: number, seed: number): number {
  return createHash("sha256").update(`${seed}\u0000${episode}`).digest().readUInt32BE(0) % folds;
}

/** Rows of `x` (row-major, width columns) for the given indices. */
function take(x: Float32Array, width: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, k) => out.set(x.subarray(r * width, (r + 1) * width), k * width));
  return out;
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
  const folds = Math.max(2, Math.min(o.folds, new Set(episodes).size));
  const fold = episodes.map((e) => foldOf(e, folds, o.seed));
  const scores = new Float64Array(n);
  // Class weights balance the two sides.
  const cw = Float32Array.from([n / (2 * Math.max(1, nRef)), n / (2 * Math.max(1, nNew))]);
  const params = { ...DEFAULT_GBT, rounds: o.rounds, max_depth: o.maxDepth, eta: 0.3, early_stopping_rounds: o.rounds + 1, history_every: o.rounds + 1, nthread: o.threads };
  for (let k = 0; k < folds; k++) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    fold.forEach((f, i) => (f === k ? testRows : trainRows).push(i));
    if (testRows.length === 0) continue;
    const yTrain = Int32Array.from(trainRows, (i) => y[i]);
    if (yTrain.every((v) => v === yTrain[0])) {
      for (const i of testRows) scores[i] = 0.5;
      continue;
    }
    const est = new GbtEstimator(params, o.seed, 2);
    const xTrain = take(x, width, trainRows);
    // Fixed rounds: the training fold doubles as the (unused) early-stopping set, so the test fold never steers the fit.
    await est.fit({ x: xTrain, n: trainRows.length, width, y: yTrain }, { x: xTrain, n: trainRows.length, width, y: yTrain }, cw);
    const p = await est.predictProba(take(x, width, testRows), testRows.length, width);
    testRows.forEach((r, j) => (scores[r] = p[j * 2 + 1]));
  }
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
