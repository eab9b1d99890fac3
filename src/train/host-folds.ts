// k-fold by host for the GBT (`split --val host-folds`). Validation windows
// carved from the training hosts are in-distribution: early stopping on them
// rewards what a model learns about those hosts' idle baselines. Here each
// fold of training hosts in turn validates a model boosted on the other
// folds, so the number of rounds is chosen for hosts the model did not see,
// and the final model is then boosted on every training host (no host's
// data is given up to validation, unlike `--val hosts`).
//
// The rounds are those with the lowest mean over folds of the validation
// mlogloss (as xgboost.cv does), over the rounds every fold boosted; the
// history reports the folds' mean cross-host macro F1 along the way.

import { predictGbt } from "../engines/index.js";
import { argmaxRows, macroF1 } from "./loop.js";
import { GbtEstimator, type GbtHyperParameters, type Matrix } from "./gbt.js";
import type { EpochRecord } from "./types.js";
import { TrainError } from "./types.js";

export interface HostFoldRecord {
  fold: number;
  hosts: string[];
  n_train: number;
  n_val: number;
  /** The fold's own early-stopping choice (0-based round), for comparison with the shared one. */
  best_iteration: number;
  rounds_trained: number;
  /** At the selected rounds. */
  val_mlogloss: number;
  val_macro_f1: number;
  seconds: number;
}

export interface HostFoldSelection {
  /** Rounds for the final model. */
  rounds: number;
  folds: HostFoldRecord[];
  /** Mean over folds at `rounds`. */
  val_mlogloss: number;
  val_macro_f1: number;
  /** Rounds 1, every `history_every`, and `rounds`: the folds' mean training mlogloss and cross-host macro F1 (seconds: the fold fits' total, spread evenly). */
  history: EpochRecord[];
}

export interface HostFoldInput {
  matrix: Matrix;
  /** Per row: its fold (from the split file) and host. */
  fold: Int32Array;
  host: readonly string[];
  /** Class weights for a fold's training rows, from their class counts. */
  weightsFor: (y: Int32Array) => Float32Array;
  onFold?: (done: number, total: number, record: HostFoldRecord) => void;
}

function rowsWhere(m: Matrix, keep: (i: number) => boolean): Matrix {
  const idx: number[] = [];
  for (let i = 0; i < m.n; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * m.width);
  const y = new Int32Array(idx.length);
  idx.forEach((r, j) => {
    x.set(m.x.subarray(r * m.width, (r + 1) * m.width), j * m.width);
    y[j] = m.y[r];
  });
  return { x, n: idx.length, width: m.width, y };
}

export async function selectGbtRoundsByHostFolds(params: GbtHyperParameters, seed: number, nClasses: number, input: HostFoldInput): Promise<HostFoldSelection> {
  const { matrix, fold, host } = input;
  const ids = [...new Set(fold)].sort((a, b) => a - b);
  if (ids.length < 2) throw new TrainError(`k-fold by host needs at least two folds on the training side (found ${ids.length}); make the split with \`cis490 split --val host-folds\` over two or more training hosts`);
  const fits: { model: string; val: Matrix; curve: number[]; trainCurve: number[]; record: Omit<HostFoldRecord, "val_mlogloss" | "val_macro_f1"> }[] = [];
  for (const f of ids) {
    const started = Date.now();
    const train = rowsWhere(matrix, (i) => fold[i] !== f);
    const val = rowsWhere(matrix, (i) => fold[i] === f);
    const hosts = [...new Set(host.filter((_, i) => fold[i] === f))].sort();
    if (train.n === 0 || val.n === 0) throw new TrainError(`fold ${f} (${hosts.join(", ")}) leaves no training or no validation windows`);
    const est = new GbtEstimator(params, seed, nClasses);
    const r = await est.fit(train, val, { classWeights: input.weightsFor(train.y), keepAllRounds: true });
    fits.push({
      model: est.modelJson!,
      val,
      curve: r.val_mlogloss,
      trainCurve: r.train_mlogloss,
      record: { fold: f, hosts, n_train: train.n, n_val: val.n, best_iteration: r.best_iteration, rounds_trained: r.rounds_trained, seconds: (Date.now() - started) / 1000 },
    });
    input.onFold?.(fits.length, ids.length, { ...fits[fits.length - 1].record, val_mlogloss: r.best_val_mlogloss, val_macro_f1: r.best.val_macro_f1 });
  }
  // Every fold boosted at least `common` rounds (early stopping ends them at different points).
  const common = Math.min(...fits.map((g) => g.curve.length));
  let rounds = 1;
  let bestMean = Number.POSITIVE_INFINITY;
  for (let r = 0; r < common; r++) {
    const mean = fits.reduce((a, g) => a + g.curve[r], 0) / fits.length;
    if (mean < bestMean) {
      bestMean = mean;
      rounds = r + 1;
    }
  }
  const f1At = async (g: (typeof fits)[number], k: number) =>
    macroF1(g.val.y, argmaxRows(await predictGbt(g.model, g.val.x, g.val.n, g.val.width, { nthread: params.nthread, iterationEnd: k }), g.val.n, nClasses));
  const marks = new Set<number>([1, rounds]);
  for (let k = params.history_every; k < rounds; k += params.history_every) marks.add(k);
  const history: EpochRecord[] = [];
  const atSelected: number[] = [];
  const foldSeconds = fits.reduce((a, g) => a + g.record.seconds, 0);
  let previous = 0;
  for (const k of [...marks].sort((a, b) => a - b)) {
    const f1s = await Promise.all(fits.map((g) => f1At(g, k)));
    if (k === rounds) atSelected.push(...f1s);
    history.push({ epoch: k, train_loss: fits.reduce((a, g) => a + g.trainCurve[k - 1], 0) / fits.length, val_macro_f1: f1s.reduce((a, b) => a + b, 0) / f1s.length, lr: params.eta, seconds: (foldSeconds * (k - previous)) / rounds });
    previous = k;
  }
  const folds = fits.map((g, i) => ({ ...g.record, val_mlogloss: g.curve[rounds - 1], val_macro_f1: atSelected[i] }));
  return { rounds, folds, val_mlogloss: bestMean, val_macro_f1: atSelected.reduce((a, b) => a + b, 0) / atSelected.length, history };
}
