// Gradient-boosted trees (XGBoost through src/engines): multi:softprob, hist,
// NaN = missing (handled natively), class weights as sample weights, early
// stopping on the (unweighted) validation mlogloss (XGBoost's own), or a fixed number of
// rounds without a validation side (the refit after cross-host selection,
// src/train/host-folds.ts). scikit-learn style:
// hyper-parameters are stored verbatim, the learned model is set only by fit.

import { gbtModelInfo, predictGbt, trainGbt } from "../engines/index.js";
import { argmaxRows, macroF1 } from "./loop.js";
import type { EpochRecord } from "./types.js";
import { NotFittedError, type Embedder, type Estimator, type WindowBatch } from "./estimator.js";

export interface GbtHyperParameters {
  /** Boosting rounds at most (each adds one tree per class). */
  rounds: number;
  /** Stop after this many rounds without a lower validation mlogloss. */
  early_stopping_rounds: number;
  max_depth: number;
  eta: number;
  subsample: number;
  colsample_bytree: number;
  min_child_weight: number;
  lambda: number;
  max_bin: number;
  /** XGBoost threads. */
  nthread: number;
  /**
   * The validation mlogloss that early stopping reads: plain ("none", every
   * window alike; the default) or weighted by the training class weights
   * ("class"). Weighted, the clipped weight of 10 on the rarest phase
   * (`failed`) makes the stopping loss follow that phase's, which rises
   * first: on the default corpus held out host by host it stopped at 45-69
   * rounds instead of 133-197 and cost 0.03-0.06 macro F1 on the unseen
   * host (docs/host-invariance.md, "Model selection").
   */
  val_weighting: "class" | "none";
  /** Validation macro F1 is recorded every this many rounds (history rows). */
  history_every: number;
  /**
   * How XGBoost holds the training rows: "quantile" streams them through its
   * callback iterator (no copy; only the quantised index is kept), "dense"
   * copies them into a regular DMatrix. Same model on the same data
   * (tests/gbt-quantile.test.ts); quantile needs far less memory.
   */
  matrix: "quantile" | "dense";
}

export const DEFAULT_GBT: Omit<GbtHyperParameters, "nthread"> = {
  rounds: 400,
  early_stopping_rounds: 20,
  max_depth: 6,
  eta: 0.1,
  subsample: 0.8,
  colsample_bytree: 0.8,
  min_child_weight: 1,
  lambda: 1,
  max_bin: 256,
  val_weighting: "none",
  history_every: 10,
  matrix: "quantile",
};

export interface Matrix {
  /** Row-major [n, width]; NaN = missing, no infinities. */
  x: Float32Array;
  n: number;
  width: number;
  y: Int32Array;
}

/**
 * Training rows read batch by batch (src/train/windows.ts sideFeatureBatches)
 * as XGBoost asks for them, so the side never exists whole in memory; each
 * call reads from the start. Same model as the Matrix of the same rows.
 */
export interface StreamedMatrix {
  batches: () => AsyncIterable<{ x: Float32Array; y: Int32Array }>;
  width: number;
}

export interface GbtFitOptions {
  /** Per class id, applied as sample weights. */
  classWeights: Float32Array;
  /** Keep every boosted round instead of cutting the model at the best one (cross-host selection reads later rounds). */
  keepAllRounds?: boolean;
}

export interface GbtFitResult {
  history: EpochRecord[];
  best: { epoch: number; val_macro_f1: number };
  best_iteration: number;
  rounds_trained: number;
  best_val_mlogloss: number;
  /** Training and validation mlogloss after each round boosted (validation: empty without a validation side). */
  train_mlogloss: number[];
  val_mlogloss: number[];
  seconds: number;
}

export class GbtEstimator implements Estimator<Matrix, GbtFitOptions, GbtFitResult>, Embedder {
  readonly embeddingLayer = "margin" as const;

  /** XGBoost JSON, cut to the best round; null until fit. */
  modelJson: string | null = null;

  constructor(
    readonly params: GbtHyperParameters,
    readonly seed: number,
    readonly nClasses: number,
  ) {}

  private engineParams(): Record<string, number | string> {
    const p = this.params;
    return {
      max_depth: p.max_depth,
      eta: p.eta,
      subsample: p.subsample,
      colsample_bytree: p.colsample_bytree,
      min_child_weight: p.min_child_weight,
      lambda: p.lambda,
      max_bin: p.max_bin,
      nthread: p.nthread,
      tree_method: "hist",
      seed: this.seed,
    };
  }

  /** With `val` null: exactly `rounds` rounds, no early stopping; history then has training loss only. */
  async fit(train: Matrix | StreamedMatrix, val: Matrix | null, { classWeights, keepAllRounds }: GbtFitOptions): Promise<GbtFitResult> {
    const started = Date.now();
    const weightsOf = (y: ArrayLike<number>) => Float32Array.from(y, (k) => classWeights[k]);
    const rows =
      "batches" in train
        ? {
            batches: async function* () {
              for await (const b of train.batches()) yield { x: b.x, y: b.y, w: weightsOf(b.y) };
            },
          }
        : { x: train.x, nRows: train.n, y: train.y, weights: weightsOf(train.y) };
    const r = await trainGbt({
      ...rows,
      nCols: train.width,
      numClass: this.nClasses,
      ...(val
        ? { xVal: val.x, nValRows: val.n, yVal: val.y, wVal: (this.params.val_weighting ?? "class") === "class" ? weightsOf(val.y) : new Float32Array(val.n).fill(1) }
        : {}),
      params: this.engineParams(),
      rounds: this.params.rounds,
      earlyStoppingRounds: val ? this.params.early_stopping_rounds : 0,
      sliceToBest: !keepAllRounds,
      matrix: this.params.matrix ?? "quantile",
    });
    const boostSeconds = (Date.now() - started) / 1000;
    this.modelJson = r.modelJson;
    // History rows every `history_every` rounds up to the kept model's last round
    // (rounds after the best were cut away by the engine), plus the best round.
    const kept = r.bestIteration + 1;
    const marks = new Set<number>([1, kept]);
    for (let k = this.params.history_every; k < kept; k += this.params.history_every) marks.add(k);
    const history: EpochRecord[] = [];
    let previous = 0;
    for (const k of [...marks].sort((a, b) => a - b)) {
      const f1 = val ? macroF1(val.y, argmaxRows(await predictGbt(r.modelJson, val.x, val.n, val.width, { nthread: this.params.nthread, iterationEnd: k }), val.n, this.nClasses)) : Number.NaN;
      history.push({
        epoch: k,
        train_loss: r.history[k - 1]?.train_mlogloss ?? Number.NaN,
        val_macro_f1: f1,
        lr: this.params.eta,
        // Boosting time is only known in total: an even share per round.
        seconds: (boostSeconds * (k - previous)) / Math.max(1, r.roundsTrained),
      });
      previous = k;
    }
    const last = history[history.length - 1];
    return {
      history,
      best: { epoch: kept, val_macro_f1: last.val_macro_f1 },
      best_iteration: r.bestIteration,
      rounds_trained: r.roundsTrained,
      best_val_mlogloss: r.bestScore,
      train_mlogloss: r.history.map((h) => h.train_mlogloss),
      val_mlogloss: val ? r.history.map((h) => h.val_mlogloss ?? Number.NaN) : [],
      seconds: (Date.now() - started) / 1000,
    };
  }

  /** Loads a saved model (learned state), checking XGBoost accepts it and its input width. */
  static fromModel(params: GbtHyperParameters, seed: number, nClasses: number, modelJson: string, width: number): GbtEstimator {
    const info = gbtModelInfo(modelJson);
    if (info.numFeatures !== width) throw new Error(`the XGBoost model reads ${info.numFeatures} features, the checkpoint's feature mask selects ${width}`);
    const e = new GbtEstimator(params, seed, nClasses);
    e.modelJson = modelJson;
    return e;
  }

  get fitted(): boolean {
    return this.modelJson !== null;
  }

  async predictProba(batch: WindowBatch): Promise<Float32Array> {
    if (this.modelJson === null) throw new NotFittedError("GbtEstimator");
    return predictGbt(this.modelJson, batch.x, batch.n, batch.n === 0 ? 0 : batch.x.length / batch.n, { nthread: this.params.nthread });
  }

  get embeddingWidth(): number {
    return this.nClasses;
  }

  /** Per-class margins [n, classes] (the trees' summed scores before the softmax). */
  async embed(batch: WindowBatch): Promise<Float32Array> {
    if (this.modelJson === null) throw new NotFittedError("GbtEstimator");
    if (batch.n === 0) return new Float32Array(0);
    return predictGbt(this.modelJson, batch.x, batch.n, batch.x.length / batch.n, { nthread: this.params.nthread, outputMargin: true });
  }
}
