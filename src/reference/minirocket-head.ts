// Twin of crates/cis490-core/src/minirocket_head.rs: the MiniRocket
// classifier's head, written plainly on one thread. Multinomial logistic
// regression on the standardised PPV features; class-weighted softmax loss,
// Adam on mini-batches shuffled by mulberry32 (seed XOR 0x9e3779b9), L2 on
// the weights, early stopping on validation macro F1, the best epoch kept.
// Every sum runs in the order the native code runs it (rows in batch
// order, features in index order), so the two agree up to the last bit of
// exp/log (V8's and libm's may differ by an ulp): tests/parity-minirocket-head.test.ts.

import { argmaxRows, macroF1 } from "../train/loop.js";
import { headProba, softmaxRow } from "../train/minirocket.js";
import { Mulberry32 } from "./minirocket.js";

export interface MiniRocketHeadOptions {
  epochs: number;
  /** Stop after this many epochs without a better validation macro F1 (0 = never). */
  patience: number;
  batch_size: number;
  lr: number;
  /** L2 penalty added to each weight's gradient (not the bias's). */
  l2: number;
  seed: number;
}

export interface MiniRocketHeadRows {
  /** [n, nFeatures] row-major PPV features; standardised in place by the fit. */
  x: Float32Array;
  /** [n] class indices. */
  y: Int32Array;
}

export interface MiniRocketHeadEpoch {
  epoch: number;
  train_loss: number;
  val_macro_f1: number;
  seconds: number;
}

export interface MiniRocketHeadFit {
  mean: Float64Array;
  std: Float64Array;
  /** [nFeatures, nClasses] and [nClasses]: the best epoch's. */
  weights: Float64Array;
  bias: Float64Array;
  history: MiniRocketHeadEpoch[];
  best: { epoch: number; val_macro_f1: number };
  stopped: "early-stopping" | "max-epochs";
}

const BETA1 = 0.9;
const BETA2 = 0.999;

/** Per-feature training mean and population std (1 where it is 0). */
function featureStats(x: Float32Array, n: number, F: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j] += x[i * F + j];
  for (let j = 0; j < F; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) {
      const d = x[i * F + j] - mean[j];
      std[j] += d * d;
    }
  }
  for (let j = 0; j < F; j++) std[j] = Math.sqrt(std[j] / n) || 1;
  return { mean, std };
}

function standardise(x: Float32Array, n: number, F: number, mean: ArrayLike<number>, std: ArrayLike<number>): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) x[i * F + j] = (x[i * F + j] - mean[j]) / std[j];
}

/** The head's fit; the class count is classWeights.length. */
export function fitMiniRocketHead(train: MiniRocketHeadRows, val: MiniRocketHeadRows, F: number, classWeights: Float32Array, o: MiniRocketHeadOptions): MiniRocketHeadFit {
  const K = classWeights.length;
  const n = train.y.length;
  const nVal = val.y.length;
  if (n === 0 || F === 0 || K === 0) throw new Error("the head needs at least one training row, feature and class");
  if (train.x.length !== n * F || val.x.length !== nVal * F) throw new Error("features do not hold rows x features values");
  for (const y of [train.y, val.y]) for (const c of y) if (!(c >= 0 && c < K)) throw new Error(`label ${c} is not a class index in [0, ${K})`);
  const { mean, std } = featureStats(train.x, n, F);
  standardise(train.x, n, F, mean, std);
  standardise(val.x, nVal, F, mean, std);

  const W = new Float64Array(F * K);
  const b = new Float64Array(K);
  const mW = new Float64Array(F * K);
  const vW = new Float64Array(F * K);
  const mB = new Float64Array(K);
  const vB = new Float64Array(K);
  const gW = new Float64Array(F * K);
  const gB = new Float64Array(K);
  const z = new Float64Array(K);
  const rng = new Mulberry32((o.seed ^ 0x9e3779b9) >>> 0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const history: MiniRocketHeadEpoch[] = [];
  let best = { epoch: 0, val_macro_f1: -1 };
  let bestW = W.slice();
  let bestB = b.slice();
  let stopped: MiniRocketHeadFit["stopped"] = "max-epochs";
  // beta^t as running products (the native code does the same), not **: V8 and libm may round pow differently.
  let beta1t = 1;
  let beta2t = 1;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    for (let i = n - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    let weightSum = 0;
    for (let at = 0; at < n; at += o.batch_size) {
      const end = Math.min(n, at + o.batch_size);
      gW.fill(0);
      gB.fill(0);
      let bw = 0;
      for (let r = at; r < end; r++) {
        const i = order[r];
        const c = train.y[i];
        const w = classWeights[c];
        lossSum += w * softmaxRow(train.x, i * F, F, K, W, b, z, c);
        bw += w;
        for (let k = 0; k < K; k++) z[k] = w * (z[k] - (k === c ? 1 : 0));
        for (let k = 0; k < K; k++) gB[k] += z[k];
        for (let j = 0; j < F; j++) {
          const xj = train.x[i * F + j];
          if (xj === 0) continue;
          for (let k = 0; k < K; k++) gW[j * K + k] += xj * z[k];
        }
      }
      weightSum += bw;
      beta1t *= BETA1;
      beta2t *= BETA2;
      const c1 = 1 - beta1t;
      const c2 = 1 - beta2t;
      for (let q = 0; q < F * K; q++) {
        const g = gW[q] / bw + o.l2 * W[q];
        mW[q] = BETA1 * mW[q] + (1 - BETA1) * g;
        vW[q] = BETA2 * vW[q] + (1 - BETA2) * g * g;
        W[q] -= (o.lr * (mW[q] / c1)) / (Math.sqrt(vW[q] / c2) + 1e-8);
      }
      for (let k = 0; k < K; k++) {
        const g = gB[k] / bw;
        mB[k] = BETA1 * mB[k] + (1 - BETA1) * g;
        vB[k] = BETA2 * vB[k] + (1 - BETA2) * g * g;
        b[k] -= (o.lr * (mB[k] / c1)) / (Math.sqrt(vB[k] / c2) + 1e-8);
      }
    }
    const f1 = macroF1(val.y, argmaxRows(headProba(val.x, nVal, F, K, W, b), nVal, K));
    history.push({ epoch, train_loss: lossSum / weightSum, val_macro_f1: f1, seconds: (performance.now() - t0) / 1000 });
    if (f1 > best.val_macro_f1) {
      best = { epoch, val_macro_f1: f1 };
      bestW = W.slice();
      bestB = b.slice();
    }
    if (o.patience > 0 && epoch - best.epoch >= o.patience) {
      stopped = "early-stopping";
      break;
    }
  }
  return { mean, std, weights: bestW, bias: bestB, history, best, stopped };
}
