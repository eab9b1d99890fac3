// The reconstruction autoencoder as an anomaly estimator (scikit-learn
// style: hyper-parameters stored verbatim, learned state set only by fit or
// a restore). Inputs: near-zero-variance features dropped (as for the EIF),
// missing values imputed with the training median, min-max scaled on the
// clean training windows; the net (engines/src/torch_model.cc
// AutoencoderModel) is trained by the shared loop (src/train/loop.ts) on
// the reconstruction MSE, early-stopping on the calibration clean windows'
// MSE. Score = per-row reconstruction MSE; threshold at the target FPR on
// the calibration windows; gate on the other held-out clean windows.
// docs/anomaly.md.

import { AE_LATENT, AutoencoderModel, type TorchDevice } from "../engines/index.js";
import { NotFittedError } from "../train/estimator.js";
import { runTrainingLoop, type LoopResult, type StepModel } from "../train/loop.js";
import { alarmRate, cleanGate, dropNearZeroVariance, thresholdAtFpr, type DroppedFeature, type Gate, type Rows } from "./estimator.js";

export interface AeHyperParameters {
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  warmup_fraction: number;
  clip_norm: number;
  /** Early stopping on the calibration windows' reconstruction MSE; 0 = off. */
  patience: number;
  max_minutes: number;
  near_zero_std: number;
  target_fpr: number;
  max_clean_anomaly_rate: number;
  threads: number;
  device: TorchDevice;
}

// More epochs than the classifiers: the clean training set is small (one
// clean phase per episode: 1,276 windows, 5 batches an epoch, on the
// default corpus), and at 60 epochs the validation loss was still falling.
export const DEFAULT_AE: Omit<AeHyperParameters, "threads"> = {
  epochs: 200,
  batch_size: 256,
  lr: 1e-3,
  weight_decay: 0,
  warmup_fraction: 0.05,
  clip_norm: 1,
  patience: 15,
  max_minutes: 0,
  near_zero_std: 1e-6,
  target_fpr: 0.01,
  max_clean_anomaly_rate: 0.2,
  device: "auto",
};

/**
 * Scaled values are clipped to [-SCALE_CLIP, 1 + SCALE_CLIP]: a value far
 * outside the training range still reconstructs badly (a large score) but
 * stays finite in float32 arithmetic.
 */
export const SCALE_CLIP = 10;

/** Learned preprocessing and calibration (stored in the sidecar; the net is the weights file). */
export interface AeScaling {
  format: "cis490-ae-scaling/1";
  /** Input column indices the net reads (after dropping). */
  kept: number[];
  dropped: DroppedFeature[];
  /** Per kept input: training median (imputation), min and max (scaling), of the finite training values. */
  median: number[];
  min: number[];
  max: number[];
  clip: number;
  latent: number;
  threshold: number;
  calibration: { n_windows: number; flagged_rate: number; target_fpr: number };
  gate: Gate;
}

export interface AeFitResult {
  scaling: AeScaling;
  loop: LoopResult;
}

function medianOf(v: number[]): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min, max of each kept column's finite values. */
function fitScaling(r: Rows, kept: number[]): { median: number[]; min: number[]; max: number[] } {
  const median: number[] = [];
  const min: number[] = [];
  const max: number[] = [];
  for (const f of kept) {
    const v: number[] = [];
    for (let i = 0; i < r.n; i++) {
      const x = r.x[i * r.width + f];
      if (Number.isFinite(x)) v.push(x);
    }
    median.push(medianOf(v));
    min.push(Math.min(...v));
    max.push(Math.max(...v));
  }
  return { median, min, max };
}

/** Rows -> the net's inputs: kept columns, non-finite -> median, (x - min) / (max - min) clipped, in float64 then float32. */
export function scaleRows(r: Rows, s: Pick<AeScaling, "kept" | "median" | "min" | "max" | "clip">): Float32Array {
  const k = s.kept.length;
  const out = new Float32Array(r.n * k);
  for (let i = 0; i < r.n; i++) {
    for (let j = 0; j < k; j++) {
      let v = r.x[i * r.width + s.kept[j]];
      if (!Number.isFinite(v)) v = s.median[j];
      const z = (v - s.min[j]) / (s.max[j] - s.min[j]);
      out[i * k + j] = Math.min(1 + s.clip, Math.max(-s.clip, z));
    }
  }
  return out;
}

export interface AeRuntime {
  /** Where the best epoch's weights are kept (the caller commits or removes it). */
  bestPath: string;
  onEpoch?: Parameters<typeof runTrainingLoop>[3]["onEpoch"];
}

export class AeDetector {
  scaling: AeScaling | null = null;
  model: AutoencoderModel | null = null;

  constructor(
    readonly params: AeHyperParameters,
    readonly seed: number,
  ) {}

  get fitted(): boolean {
    return Boolean(this.scaling && this.model);
  }

  private build(width: number): AutoencoderModel {
    return new AutoencoderModel({ n_features: width, weight_decay: this.params.weight_decay, seed: this.seed, threads: this.params.threads, device: this.params.device });
  }

  /** As EifDetector.fit; the net ends on the best epoch's weights (also in rt.bestPath). */
  async fit(train: Rows, calibration: Rows, gate: Rows, names: readonly string[], rt: AeRuntime): Promise<AeFitResult> {
    const p = this.params;
    if (train.n < 2) throw new Error(`the autoencoder needs at least 2 clean training windows, got ${train.n}`);
    if (calibration.n < 1 || gate.n < 1) throw new Error("the autoencoder needs clean validation windows for its early stopping, threshold and gate");
    const { kept, dropped } = dropNearZeroVariance(train, names, p.near_zero_std);
    const stats = fitScaling(train, kept);
    const pre = { kept, ...stats, clip: SCALE_CLIP };
    const xTrain = scaleRows(train, pre);
    const xCal = scaleRows(calibration, pre);
    const model = this.build(kept.length);
    // The shared loop drives classifiers; the autoencoder ignores labels and
    // class weights, and is validated by its loss instead of macro F1.
    const step: StepModel = {
      trainStep: (x, _mask, _y, _cw, lr, clip) => model.trainStep(x, lr, clip),
      predictProba: () => Promise.reject(new Error("the autoencoder has no class probabilities")),
      save: (path) => model.save(path),
    };
    const mean = (s: Float32Array) => s.reduce((a, v) => a + v, 0) / s.length;
    const loop = await runTrainingLoop(
      step,
      { n: train.n, rowLen: kept.length, x: xTrain, mask: null, y: new Int32Array(train.n) },
      { n: calibration.n, rowLen: kept.length, x: xCal, mask: null, y: new Int32Array(calibration.n) },
      {
        epochs: p.epochs,
        batchSize: p.batch_size,
        lr: p.lr,
        warmupFraction: p.warmup_fraction,
        clipNorm: p.clip_norm,
        patience: p.patience,
        maxMinutes: p.max_minutes,
        seed: this.seed,
        nClasses: 1,
        classWeights: new Float32Array([1]),
        bestPath: rt.bestPath,
        onEpoch: rt.onEpoch,
        validationLoss: async () => mean(await model.score(xCal)),
      },
    );
    await model.load(rt.bestPath);
    const cal = await model.score(xCal);
    const threshold = thresholdAtFpr(cal, p.target_fpr);
    const gateScores = gate === calibration ? cal : await model.score(scaleRows(gate, pre));
    this.model = model;
    this.scaling = {
      format: "cis490-ae-scaling/1",
      ...pre,
      dropped,
      latent: AE_LATENT,
      threshold,
      calibration: { n_windows: calibration.n, flagged_rate: alarmRate(cal, threshold), target_fpr: p.target_fpr },
      gate: cleanGate(gateScores, threshold, p.max_clean_anomaly_rate),
    };
    return { scaling: this.scaling, loop };
  }

  /** Restores a fitted detector: scaling from the sidecar, net from its weights file. */
  static async restore(params: AeHyperParameters, seed: number, scaling: AeScaling, weightsPath: string, width: number): Promise<AeDetector> {
    if (scaling.format !== "cis490-ae-scaling/1") throw new Error(`not autoencoder scaling state (format ${String(scaling.format)})`);
    const k = scaling.kept.length;
    if (scaling.kept.some((f) => !(f >= 0 && f < width)) || scaling.median.length !== k || scaling.min.length !== k || scaling.max.length !== k) {
      throw new Error(`the autoencoder's scaling covers its ${k} inputs of ${width} inconsistently`);
    }
    const d = new AeDetector(params, seed);
    const model = d.build(k);
    await model.load(weightsPath);
    d.model = model;
    d.scaling = scaling;
    return d;
  }

  private ready(): { model: AutoencoderModel; scaling: AeScaling } {
    if (!this.model || !this.scaling) throw new NotFittedError("AeDetector");
    return { model: this.model, scaling: this.scaling };
  }

  /** Reconstruction MSE per row (higher = more anomalous). */
  async scoreSamples(r: Rows): Promise<Float64Array> {
    const { model, scaling } = this.ready();
    if (r.n === 0) return new Float64Array(0);
    return Float64Array.from(await model.score(scaleRows(r, scaling)));
  }

  /** The 16-d bottleneck, row-major [n, 16] (for the dashboard's embedding events). */
  async latent(r: Rows): Promise<Float32Array> {
    const { model, scaling } = this.ready();
    if (r.n === 0) return new Float32Array(0);
    return model.latent(scaleRows(r, scaling));
  }

  /** Reconstructions in the scaled space, row-major [n, kept inputs]. */
  async reconstruct(r: Rows): Promise<Float32Array> {
    const { model, scaling } = this.ready();
    if (r.n === 0) return new Float32Array(0);
    return model.reconstruct(scaleRows(r, scaling));
  }

  async predict(r: Rows): Promise<Int32Array> {
    const s = await this.scoreSamples(r);
    const t = this.ready().scaling.threshold;
    return Int32Array.from(s, (v) => (v > t ? 1 : 0));
  }

  async dispose(): Promise<void> {
    await this.model?.dispose();
  }
}
