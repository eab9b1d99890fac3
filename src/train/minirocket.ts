// MiniRocket estimator: the native MiniRocket transform (crates/cis490-core,
// twin src/reference/minirocket.ts) into PPV features, read by a
// multinomial logistic-regression head (standardised features, class-
// weighted softmax loss, Adam on seeded mini-batches, L2, early stopping on
// validation macro F1; the paper's large-data head), also fitted natively
// (twin src/reference/minirocket-head.ts). scikit-learn style:
// hyper-parameters verbatim, learned state only set by fit. The saved state
// is one JSON document (transform + head).

import { loadCis490Addon } from "../native/addon.js";
import type { MiniRocketModel } from "../reference/minirocket.js";
import type { EpochRecord } from "./types.js";
import { NotFittedError, type Embedder, type Estimator, type WindowBatch } from "./estimator.js";

export interface MiniRocketHyperParameters {
  /** Transform features wanted (rounded down to a multiple of 84); the paper's 10,000. */
  num_features: number;
  max_dilations_per_kernel: number;
  /** Head: passes over the training windows at most. */
  epochs: number;
  batch_size: number;
  lr: number;
  /** L2 penalty on the head's weights (per batch, scaled by batch / n). */
  l2: number;
  /** Stop after this many epochs without a better validation macro F1. */
  patience: number;
  /** Transform threads (0 = all cores). */
  threads: number;
}

export const DEFAULT_MINIROCKET: Omit<MiniRocketHyperParameters, "threads"> = {
  num_features: 10_000,
  max_dilations_per_kernel: 32,
  epochs: 30,
  batch_size: 256,
  lr: 1e-3,
  l2: 1e-3,
  patience: 4,
};

export interface SequenceData {
  n: number;
  /** [n, channels, steps] values and mask. */
  x: Float32Array;
  mask: Uint8Array;
  y: Int32Array;
}

export interface MiniRocketState {
  format: "cis490-minirocket-classifier/1";
  transform: MiniRocketModel;
  head: { n_features: number; n_classes: number; mean: number[]; std: number[]; weights: number[]; bias: number[] };
}

export interface MiniRocketFitOptions {
  classWeights: Float32Array;
  onEpoch?: (r: EpochRecord, best: { epoch: number; val_macro_f1: number }) => void;
}

export interface MiniRocketFitResult {
  history: EpochRecord[];
  best: { epoch: number; val_macro_f1: number };
  stopped: "early-stopping" | "max-epochs";
  transform_seconds: number;
  /** The head's fit (standardisation, epochs, validation), native. */
  head_seconds: number;
  seconds: number;
}

const TRANSFORM_CHUNK = 2048;

export class MiniRocketEstimator implements Estimator<SequenceData, MiniRocketFitOptions, MiniRocketFitResult>, Embedder {
  readonly embeddingLayer = "ppv" as const;

  state: MiniRocketState | null = null;
  private transformJson: string | null = null;

  constructor(
    readonly params: MiniRocketHyperParameters,
    readonly shape: { channels: number; steps: number },
    readonly nClasses: number,
    readonly seed: number,
  ) {}

  /** PPV features of windows x/mask (chunked so the copies across the boundary stay small). */
  static async transform(transformJson: string, nf: number, per: number, x: Float32Array, mask: Uint8Array, n: number, threads: number): Promise<Float32Array> {
    const addon = loadCis490Addon();
    const out = new Float32Array(n * nf);
    for (let at = 0; at < n; at += TRANSFORM_CHUNK) {
      const m = Math.min(TRANSFORM_CHUNK, n - at);
      const f = await addon.minirocketTransform(transformJson, x.subarray(at * per, (at + m) * per), mask.subarray(at * per, (at + m) * per), m, threads);
      out.set(f, at * nf);
    }
    return out;
  }

  async fit(train: SequenceData, val: SequenceData, { classWeights, onEpoch }: MiniRocketFitOptions): Promise<MiniRocketFitResult> {
    const started = Date.now();
    const p = this.params;
    const { channels, steps } = this.shape;
    const per = channels * steps;
    const addon = loadCis490Addon();
    const tJson = await addon.minirocketFit(train.x, train.mask, train.n, channels, steps, JSON.stringify({ num_features: p.num_features, max_dilations_per_kernel: p.max_dilations_per_kernel, seed: this.seed >>> 0 }));
    const transform = JSON.parse(tJson) as MiniRocketModel;
    const F = transform.biases.length;
    const fTrain = await MiniRocketEstimator.transform(tJson, F, per, train.x, train.mask, train.n, p.threads);
    const fVal = await MiniRocketEstimator.transform(tJson, F, per, val.x, val.mask, val.n, p.threads);
    const transformSeconds = (Date.now() - started) / 1000;

    // The head trains natively (crates/cis490-core/src/minirocket_head.rs; twin src/reference/minirocket-head.ts).
    const K = this.nClasses;
    if (classWeights.length !== K) throw new Error(`MiniRocketEstimator: ${classWeights.length} class weights for ${K} classes`);
    const headStarted = Date.now();
    const h = await addon.minirocketHeadFit(fTrain, train.y, fVal, val.y, F, classWeights, JSON.stringify({ epochs: p.epochs, patience: p.patience, batch_size: p.batch_size, lr: p.lr, l2: p.l2, seed: this.seed >>> 0 }), p.threads);
    const headSeconds = (Date.now() - headStarted) / 1000;
    const history: EpochRecord[] = [];
    let running = { epoch: 0, val_macro_f1: -1 };
    for (let e = 0; e < h.train_loss.length; e++) {
      const record: EpochRecord = { epoch: e + 1, train_loss: h.train_loss[e], val_macro_f1: h.val_macro_f1[e], lr: p.lr, seconds: h.seconds[e] };
      history.push(record);
      if (record.val_macro_f1 > running.val_macro_f1) running = { epoch: record.epoch, val_macro_f1: record.val_macro_f1 };
      onEpoch?.(record, running);
    }
    const best = { epoch: h.best_epoch, val_macro_f1: h.best_val_macro_f1 };
    this.state = {
      format: "cis490-minirocket-classifier/1",
      transform,
      head: { n_features: F, n_classes: K, mean: [...h.mean], std: [...h.std], weights: [...h.weights], bias: [...h.bias] },
    };
    this.transformJson = tJson;
    return { history, best, stopped: h.stopped, transform_seconds: transformSeconds, head_seconds: headSeconds, seconds: (Date.now() - started) / 1000 };
  }

  static fromState(params: MiniRocketHyperParameters, shape: { channels: number; steps: number }, nClasses: number, seed: number, state: MiniRocketState): MiniRocketEstimator {
    if (state.format !== "cis490-minirocket-classifier/1") throw new Error(`not a MiniRocket classifier (format ${JSON.stringify(state.format)})`);
    const t = state.transform;
    if (t.n_channels !== shape.channels || t.length !== shape.steps) throw new Error(`the MiniRocket transform reads [${t.n_channels}, ${t.length}] windows, the checkpoint's masks select [${shape.channels}, ${shape.steps}]`);
    const h = state.head;
    if (h.n_classes !== nClasses || h.n_features !== t.biases.length || h.weights.length !== h.n_features * nClasses || h.bias.length !== nClasses || h.mean.length !== h.n_features || h.std.length !== h.n_features) {
      throw new Error("the MiniRocket head's sizes do not match its transform and classes");
    }
    const e = new MiniRocketEstimator(params, shape, nClasses, seed);
    e.state = state;
    e.transformJson = JSON.stringify(t);
    return e;
  }

  get fitted(): boolean {
    return Boolean(this.state && this.transformJson);
  }

  async predictProba({ x, mask, n }: WindowBatch): Promise<Float32Array> {
    if (!this.state || !this.transformJson) throw new NotFittedError("MiniRocketEstimator");
    if (!mask) throw new Error("MiniRocketEstimator: tensors need their mask");
    const h = this.state.head;
    const f = await MiniRocketEstimator.transform(this.transformJson, h.n_features, this.shape.channels * this.shape.steps, x, mask, n, this.params.threads);
    standardiseInPlace(f, n, h.n_features, h.mean, h.std);
    return headProba(f, n, h.n_features, h.n_classes, h.weights, h.bias);
  }

  get embeddingWidth(): number {
    if (!this.state) throw new NotFittedError("MiniRocketEstimator");
    return this.state.head.n_features;
  }

  /** The head's input: PPV features standardised with the head's statistics, [n, n_features]. */
  async embed({ x, mask, n }: WindowBatch): Promise<Float32Array> {
    if (!this.state || !this.transformJson) throw new NotFittedError("MiniRocketEstimator");
    if (!mask) throw new Error("MiniRocketEstimator: tensors need their mask");
    const h = this.state.head;
    const f = await MiniRocketEstimator.transform(this.transformJson, h.n_features, this.shape.channels * this.shape.steps, x, mask, n, this.params.threads);
    standardiseInPlace(f, n, h.n_features, h.mean, h.std);
    return f;
  }
}

function standardiseInPlace(f: Float32Array, n: number, F: number, mean: ArrayLike<number>, std: ArrayLike<number>): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) f[i * F + j] = (f[i * F + j] - mean[j]) / std[j];
}

/** Softmax of row `at`'s logits into z; returns -log p(label) (0 for label -1). The native head's training computes the same (its twin, src/reference/minirocket-head.ts, calls this one). */
export function softmaxRow(f: Float32Array, at: number, F: number, K: number, W: ArrayLike<number>, b: ArrayLike<number>, z: Float64Array, label = -1): number {
  for (let k = 0; k < K; k++) z[k] = b[k];
  for (let j = 0; j < F; j++) {
    const xj = f[at + j];
    if (xj === 0) continue;
    const o = j * K;
    for (let k = 0; k < K; k++) z[k] += xj * W[o + k];
  }
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, z[k]);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < K; k++) z[k] /= sum;
  return label >= 0 ? -Math.log(Math.max(z[label], 1e-300)) : 0;
}

/** Class probabilities [n, K] (f32). */
export function headProba(f: Float32Array, n: number, F: number, K: number, W: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * K);
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    softmaxRow(f, i * F, F, K, W, b, z);
    for (let k = 0; k < K; k++) out[i * K + k] = z[k];
  }
  return out;
}
