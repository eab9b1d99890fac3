// MiniRocket estimator: the native MiniRocket transform (crates/cis490-core,
// twin src/reference/minirocket.ts) into PPV features, read by a
// multinomial logistic-regression head (standardised features, class-
// weighted softmax loss, Adam on seeded mini-batches, L2, early stopping on
// validation macro F1; the paper's large-data head). scikit-learn style:
// hyper-parameters verbatim, learned state only set by fit. The saved state
// is one JSON document (transform + head).

import { loadCis490Addon } from "../native/addon.js";
import { Mulberry32, type MiniRocketModel } from "../reference/minirocket.js";
import { argmaxRows, macroF1 } from "./loop.js";
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

    const K = this.nClasses;
    const mean = new Float64Array(F);
    const std = new Float64Array(F);
    for (let i = 0; i < train.n; i++) for (let j = 0; j < F; j++) mean[j] += fTrain[i * F + j];
    for (let j = 0; j < F; j++) mean[j] /= train.n;
    for (let i = 0; i < train.n; i++) for (let j = 0; j < F; j++) std[j] += (fTrain[i * F + j] - mean[j]) ** 2;
    for (let j = 0; j < F; j++) std[j] = Math.sqrt(std[j] / train.n) || 1;
    standardiseInPlace(fTrain, train.n, F, mean, std);
    standardiseInPlace(fVal, val.n, F, mean, std);

    const W = new Float64Array(F * K);
    const b = new Float64Array(K);
    const mW = new Float64Array(F * K);
    const vW = new Float64Array(F * K);
    const mB = new Float64Array(K);
    const vB = new Float64Array(K);
    const gW = new Float64Array(F * K);
    const gB = new Float64Array(K);
    const rng = new Mulberry32((this.seed ^ 0x9e3779b9) >>> 0);
    const order = Int32Array.from({ length: train.n }, (_, i) => i);
    const z = new Float64Array(K);
    const history: EpochRecord[] = [];
    let best = { epoch: 0, val_macro_f1: -1 };
    let bestW = W.slice();
    let bestB = b.slice();
    let step = 0;
    let stopped: MiniRocketFitResult["stopped"] = "max-epochs";
    const b1 = 0.9;
    const b2 = 0.999;
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const t0 = Date.now();
      for (let i = train.n - 1; i > 0; i--) {
        const j = rng.below(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      let lossSum = 0;
      let weightSum = 0;
      for (let at = 0; at < train.n; at += p.batch_size) {
        const end = Math.min(train.n, at + p.batch_size);
        gW.fill(0);
        gB.fill(0);
        let bw = 0;
        for (let r = at; r < end; r++) {
          const i = order[r];
          const w = classWeights[train.y[i]];
          lossSum += w * logits(fTrain, i * F, F, K, W, b, z, train.y[i]);
          bw += w;
          for (let k = 0; k < K; k++) z[k] = w * (z[k] - (k === train.y[i] ? 1 : 0));
          gB.forEach((_, k) => (gB[k] += z[k]));
          const row = i * F;
          for (let j = 0; j < F; j++) {
            const xj = fTrain[row + j];
            if (xj === 0) continue;
            const o = j * K;
            for (let k = 0; k < K; k++) gW[o + k] += xj * z[k];
          }
        }
        weightSum += bw;
        step++;
        const c1 = 1 - b1 ** step;
        const c2 = 1 - b2 ** step;
        for (let q = 0; q < F * K; q++) {
          const g = gW[q] / bw + p.l2 * W[q];
          mW[q] = b1 * mW[q] + (1 - b1) * g;
          vW[q] = b2 * vW[q] + (1 - b2) * g * g;
          W[q] -= (p.lr * (mW[q] / c1)) / (Math.sqrt(vW[q] / c2) + 1e-8);
        }
        for (let k = 0; k < K; k++) {
          const g = gB[k] / bw;
          mB[k] = b1 * mB[k] + (1 - b1) * g;
          vB[k] = b2 * vB[k] + (1 - b2) * g * g;
          b[k] -= (p.lr * (mB[k] / c1)) / (Math.sqrt(vB[k] / c2) + 1e-8);
        }
      }
      const proba = headProba(fVal, val.n, F, K, W, b);
      const f1 = macroF1(val.y, argmaxRows(proba, val.n, K));
      const record: EpochRecord = { epoch, train_loss: lossSum / weightSum, val_macro_f1: f1, lr: p.lr, seconds: (Date.now() - t0) / 1000 };
      history.push(record);
      if (f1 > best.val_macro_f1) {
        best = { epoch, val_macro_f1: f1 };
        bestW = W.slice();
        bestB = b.slice();
      }
      onEpoch?.(record, best);
      await new Promise((r) => setImmediate(r));
      if (p.patience > 0 && epoch - best.epoch >= p.patience) {
        stopped = "early-stopping";
        break;
      }
    }
    this.state = {
      format: "cis490-minirocket-classifier/1",
      transform,
      head: { n_features: F, n_classes: K, mean: [...mean], std: [...std], weights: [...bestW], bias: [...bestB] },
    };
    this.transformJson = tJson;
    return { history, best, stopped, transform_seconds: transformSeconds, seconds: (Date.now() - started) / 1000 };
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

/** Softmax of row `at` into z; returns the row's -log p(label). */
function logits(f: Float32Array, at: number, F: number, K: number, W: ArrayLike<number>, b: ArrayLike<number>, z: Float64Array, label: number): number {
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

function headProba(f: Float32Array, n: number, F: number, K: number, W: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * K);
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    logits(f, i * F, F, K, W, b, z, -1);
    for (let k = 0; k < K; k++) out[i * K + k] = z[k];
  }
  return out;
}
