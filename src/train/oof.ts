// Out-of-fold class probabilities from k-fold XGBoost with folds made of
// whole episodes (windows of one episode never sit on both sides of a
// fold), fixed rounds. Shared by the drift domain classifier and the
// label-noise filter: every window is scored by a model that never saw it.

import { createHash } from "node:crypto";
import { DEFAULT_GBT, GbtEstimator } from "./gbt.js";

export interface OofOptions {
  folds: number;
  rounds: number;
  maxDepth: number;
  seed: number;
  threads: number;
}

export interface OofResult {
  /** Row-major [n, classes] probabilities, each row from the fold model that did not see it. */
  proba: Float64Array;
  /** Folds actually used (at most the number of episodes, at least 2). */
  folds: number;
}

/** The fold of an episode: a seeded hash, so the same episode always lands in the same fold. */
export function foldOf(episode: string, folds: number, seed: number): number {
  return createHash("sha256").update(`${seed}\u0000${episode}`).digest().readUInt32BE(0) % folds;
}

/** Rows of `x` (row-major, width columns) for the given indices. */
export function takeRows(x: Float32Array, width: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, k) => out.set(x.subarray(r * width, (r + 1) * width), k * width));
  return out;
}

/**
 * `x` must hold NaN for missing values (no infinities). A training fold with
 * a single class gives its test rows the uniform distribution.
 */
export async function outOfFoldProba(
  x: Float32Array,
  width: number,
  y: Int32Array,
  episodes: readonly string[],
  classes: number,
  classWeights: Float32Array,
  o: OofOptions,
): Promise<OofResult> {
  const n = y.length;
  const folds = Math.max(2, Math.min(o.folds, new Set(episodes).size));
  const fold = episodes.map((e) => foldOf(e, folds, o.seed));
  const proba = new Float64Array(n * classes);
  const params = { ...DEFAULT_GBT, rounds: o.rounds, max_depth: o.maxDepth, eta: 0.3, early_stopping_rounds: o.rounds + 1, history_every: o.rounds + 1, nthread: o.threads };
  for (let k = 0; k < folds; k++) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    fold.forEach((f, i) => (f === k ? testRows : trainRows).push(i));
    if (testRows.length === 0) continue;
    const yTrain = Int32Array.from(trainRows, (i) => y[i]);
    if (yTrain.every((v) => v === yTrain[0])) {
      for (const i of testRows) proba.fill(1 / classes, i * classes, (i + 1) * classes);
      continue;
    }
    const est = new GbtEstimator(params, o.seed, classes);
    const xTrain = takeRows(x, width, trainRows);
    // Fixed rounds: the training fold doubles as the (unused) early-stopping set, so the held-out fold never steers the fit.
    await est.fit({ x: xTrain, n: trainRows.length, width, y: yTrain }, { x: xTrain, n: trainRows.length, width, y: yTrain }, { classWeights });
    const p = await est.predictProba({ x: takeRows(x, width, testRows), n: testRows.length });
    testRows.forEach((r, j) => {
      for (let c = 0; c < classes; c++) proba[r * classes + c] = p[j * classes + c];
    });
  }
  return { proba, folds };
}
