// The one training loop every neural model shares. The engine does one
// AdamW step per call (off the event loop); everything about *how* to train
// lives here: seeded shuffling, batches, warm-up + cosine learning rate,
// gradient-norm clipping, class-weighted loss, validation macro F1 after
// every epoch (src/eval/stats.ts), the best-on-validation weights kept on
// disk, early stopping on validation macro F1, and an optional time limit.

import { f1Scores } from "../stats/metrics.js";
import { deriveRng, tagOf } from "../synth/rng.js";
import { warmupCosine } from "./schedule.js";
import type { EpochRecord } from "./types.js";

/** What the loop needs from a model (TorchModel has it; tests may wrap it). */
export interface StepModel {
  trainStep(x: Float32Array, mask: Uint8Array | null, y: Int32Array, classWeights: Float32Array, lr: number, clipNorm: number): Promise<{ loss: number; skipped: boolean }>;
  predictProba(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array>;
  save(path: string): Promise<void>;
}

/** Inputs already scaled: row-major [n, rowLen] values (+ mask of the same layout, or null). */
export interface LoopData {
  n: number;
  rowLen: number;
  x: Float32Array;
  mask: Uint8Array | null;
  y: Int32Array;
}

export interface LoopOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupFraction: number;
  clipNorm: number;
  /** Stop after this many epochs without a better validation macro F1; 0 = never. */
  patience: number;
  /** Stop after the epoch that passes this many minutes; 0 = no limit. */
  maxMinutes: number;
  seed: number;
  nClasses: number;
  classWeights: Float32Array;
  /** Where the best epoch's weights are saved (the caller moves them into place). */
  bestPath: string;
  onStep?: (epoch: number, step: number, steps: number, meanLoss: number) => void;
  onEpoch?: (record: EpochRecord, best: { epoch: number; val_macro_f1: number }) => void;
}

export interface LoopResult {
  history: EpochRecord[];
  best: { epoch: number; val_macro_f1: number };
  stopped: "early-stopping" | "max-epochs" | "max-minutes";
  /** Steps the engine skipped (non-finite loss or gradient). */
  skipped_steps: number;
  seconds: number;
}

const PREDICT_CHUNK = 1024;

export function argmaxRows(proba: Float32Array, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (proba[i * classes + c] > proba[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Class probabilities for all rows, predicted in chunks. */
export async function predictRows(model: Pick<StepModel, "predictProba">, d: Omit<LoopData, "y">, classes: number, chunk = PREDICT_CHUNK): Promise<Float32Array> {
  const out = new Float32Array(d.n * classes);
  for (let s = 0; s < d.n; s += chunk) {
    const e = Math.min(d.n, s + chunk);
    const p = await model.predictProba(d.x.subarray(s * d.rowLen, e * d.rowLen), d.mask ? d.mask.subarray(s * d.rowLen, e * d.rowLen) : null);
    out.set(p, s * classes);
  }
  return out;
}

export function macroF1(yTrue: Int32Array, yPred: Int32Array): number {
  return yTrue.length === 0 ? Number.NaN : f1Scores(yTrue, yPred).macroF1;
}

/** Batches per epoch: a last batch of a single window is dropped (one sample gives no useful gradient). */
export function stepsPerEpoch(n: number, batchSize: number): number {
  const full = Math.floor(n / batchSize);
  const rest = n - full * batchSize;
  return full + (rest >= 2 ? 1 : 0);
}

export async function runTrainingLoop(model: StepModel, train: LoopData, val: LoopData, o: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const steps = stepsPerEpoch(train.n, o.batchSize);
  if (steps === 0) throw new Error(`too few training windows (${train.n}) for one batch`);
  const schedule = warmupCosine(o.lr, steps * o.epochs, o.warmupFraction);
  const order = new Int32Array(train.n);
  const bx = new Float32Array(o.batchSize * train.rowLen);
  const bm = train.mask ? new Uint8Array(o.batchSize * train.rowLen) : null;
  const history: EpochRecord[] = [];
  let best = { epoch: 0, val_macro_f1: Number.NEGATIVE_INFINITY };
  let stopped: LoopResult["stopped"] = "max-epochs";
  let skipped = 0;
  let globalStep = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const epochStart = Date.now();
    for (let i = 0; i < train.n; i++) order[i] = i;
    const rng = deriveRng(BigInt(o.seed >>> 0), tagOf("train-shuffle"), epoch);
    for (let i = train.n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let lossSum = 0;
    let lossSteps = 0;
    let lr = 0;
    for (let s = 0; s < steps; s++) {
      const from = s * o.batchSize;
      const size = Math.min(o.batchSize, train.n - from);
      const y = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const row = order[from + k];
        y[k] = train.y[row];
        bx.set(train.x.subarray(row * train.rowLen, (row + 1) * train.rowLen), k * train.rowLen);
        if (bm && train.mask) bm.set(train.mask.subarray(row * train.rowLen, (row + 1) * train.rowLen), k * train.rowLen);
      }
      lr = schedule.at(globalStep++);
      const r = await model.trainStep(bx.subarray(0, size * train.rowLen), bm ? bm.subarray(0, size * train.rowLen) : null, y, o.classWeights, lr, o.clipNorm);
      if (r.skipped) {
        skipped++;
      } else {
        lossSum += r.loss;
        lossSteps++;
      }
      o.onStep?.(epoch, s + 1, steps, lossSteps > 0 ? lossSum / lossSteps : Number.NaN);
    }
    const proba = await predictRows(model, val, o.nClasses);
    const f1 = macroF1(val.y, argmaxRows(proba, val.n, o.nClasses));
    const record: EpochRecord = {
      epoch,
      train_loss: lossSteps > 0 ? lossSum / lossSteps : Number.NaN,
      val_macro_f1: f1,
      lr,
      seconds: (Date.now() - epochStart) / 1000,
    };
    history.push(record);
    if (f1 > best.val_macro_f1 || best.epoch === 0) {
      best = { epoch, val_macro_f1: f1 };
      await model.save(o.bestPath);
    }
    o.onEpoch?.(record, best);
    if (o.patience > 0 && epoch - best.epoch >= o.patience) {
      stopped = "early-stopping";
      break;
    }
    if (o.maxMinutes > 0 && (Date.now() - started) / 60000 >= o.maxMinutes && epoch < o.epochs) {
      stopped = "max-minutes";
      break;
    }
  }
  return { history, best, stopped, skipped_steps: skipped, seconds: (Date.now() - started) / 1000 };
}
