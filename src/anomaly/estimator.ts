// The EIF detector as an estimator (scikit-learn style: hyper-parameters
// stored verbatim, learned state set only by fit): near-zero-variance
// inputs dropped and recorded, the forest fitted on clean windows, the
// alarm threshold set on a calibration set of clean windows at a target
// false-positive rate, and the gate (anomaly rate on other held-out clean
// windows) that says whether the model may be promoted. docs/anomaly.md.

import { eifFit, eifScore, type RunOptions } from "./eif.js";
import type { EifModel } from "./eif-model.js";
import { NotFittedError } from "../train/estimator.js";

export interface EifHyperParameters {
  n_trees: number;
  subsample: number;
  ndim: number;
  /** A feature is dropped when the std of its finite training values is <= this * max(1, |mean|), or it has fewer than 2 distinct finite values. */
  near_zero_std: number;
  /** Alarm threshold: at most this fraction of calibration clean windows score above it. */
  target_fpr: number;
  /** Gate: the model is not promotable when more than this fraction of the gate's clean windows raise an alarm. */
  max_clean_anomaly_rate: number;
  threads: number;
}

export const DEFAULT_EIF: Omit<EifHyperParameters, "threads"> = {
  n_trees: 300,
  subsample: 256,
  ndim: 1,
  near_zero_std: 1e-6,
  target_fpr: 0.01,
  max_clean_anomaly_rate: 0.2,
};

export interface Rows {
  /** Row-major [n, width]; NaN / infinities = missing. */
  x: Float32Array | Float64Array;
  n: number;
  width: number;
}

export interface DroppedFeature {
  index: number;
  name: string;
  reason: "no finite value" | "constant" | "near-zero variance";
  std: number | null;
}

export interface Gate {
  promotable: boolean;
  clean_anomaly_rate: number;
  limit: number;
  n_windows: number;
  reason: string | null;
}

/** Learned state, as stored in the checkpoint's weights file. */
export interface EifDetectorState {
  format: "cis490-eif-detector/1";
  /** Input column indices the forest reads (after dropping). */
  kept: number[];
  dropped: DroppedFeature[];
  threshold: number;
  calibration: { n_windows: number; flagged_rate: number; target_fpr: number };
  gate: Gate;
  model: EifModel;
}

function columnStats(x: ArrayLike<number>, n: number, width: number, f: number): { finite: number; distinct: boolean; mean: number; std: number } {
  let finite = 0;
  let sum = 0;
  let first = Number.NaN;
  let distinct = false;
  for (let i = 0; i < n; i++) {
    const v = x[i * width + f];
    if (!Number.isFinite(v)) continue;
    if (finite === 0) first = v;
    else if (v !== first) distinct = true;
    finite++;
    sum += v;
  }
  const mean = finite > 0 ? sum / finite : Number.NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i * width + f];
    if (Number.isFinite(v)) ss += (v - mean) * (v - mean);
  }
  return { finite, distinct, mean, std: finite > 0 ? Math.sqrt(ss / finite) : Number.NaN };
}

/**
 * Inputs kept and dropped by the near-zero-variance rule (shared by the EIF
 * and the autoencoder): no finite value, a single value, or a std <=
 * nearZeroStd * max(1, |mean|) over the finite training values.
 */
export function dropNearZeroVariance(train: Rows, names: readonly string[], nearZeroStd: number): { kept: number[]; dropped: DroppedFeature[] } {
  const kept: number[] = [];
  const dropped: DroppedFeature[] = [];
  for (let f = 0; f < train.width; f++) {
    const s = columnStats(train.x, train.n, train.width, f);
    const name = names[f] ?? `#${f}`;
    if (s.finite === 0) dropped.push({ index: f, name, reason: "no finite value", std: null });
    else if (!s.distinct) dropped.push({ index: f, name, reason: "constant", std: 0 });
    else if (s.std <= nearZeroStd * Math.max(1, Math.abs(s.mean))) dropped.push({ index: f, name, reason: "near-zero variance", std: s.std });
    else kept.push(f);
  }
  if (kept.length === 0) throw new Error("every input feature has (near-)zero variance on the clean training windows");
  return { kept, dropped };
}

/** Share of `scores` strictly above `threshold`. */
export function alarmRate(scores: ArrayLike<number>, threshold: number): number {
  let k = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > threshold) k++;
  return scores.length > 0 ? k / scores.length : Number.NaN;
}

/** The promotion gate on held-out clean windows' scores (every anomaly detector). */
export function cleanGate(gateScores: ArrayLike<number>, threshold: number, limit: number): Gate {
  const rate = alarmRate(gateScores, threshold);
  const n = gateScores.length;
  const promotable = rate <= limit;
  return {
    promotable,
    clean_anomaly_rate: rate,
    limit,
    n_windows: n,
    reason: promotable ? null : `${(100 * rate).toFixed(1)}% of ${n} held-out clean windows raise an alarm (limit ${(100 * limit).toFixed(1)}%): the clean baseline looks contaminated or shifted`,
  };
}

export function selectColumns(r: Rows, kept: number[]): Float64Array {
  const out = new Float64Array(r.n * kept.length);
  for (let i = 0; i < r.n; i++) for (let j = 0; j < kept.length; j++) out[i * kept.length + j] = r.x[i * r.width + kept[j]];
  return out;
}

/** The smallest threshold with at most floor(fpr * n) of the scores strictly above it. */
export function thresholdAtFpr(scores: ArrayLike<number>, fpr: number): number {
  const s = Float64Array.from(scores).sort();
  const allowed = Math.floor(fpr * s.length + 1e-9);
  return s[Math.max(0, s.length - 1 - allowed)];
}

export class EifDetector {
  state: EifDetectorState | null = null;

  constructor(
    readonly params: EifHyperParameters,
    readonly seed: number,
    readonly engine: RunOptions["engine"] = "native",
  ) {}

  /**
   * `train`: clean training windows; `calibration`: clean windows the
   * threshold is set on; `gate`: other clean windows the gate checks (may
   * be the calibration set when there is nothing else; then the gate only
   * sees the calibration rate).
   */
  async fit(train: Rows, calibration: Rows, gate: Rows, names: readonly string[]): Promise<EifDetectorState> {
    const p = this.params;
    if (train.n < 2) throw new Error(`the EIF needs at least 2 clean training windows, got ${train.n}`);
    if (calibration.n < 1 || gate.n < 1) throw new Error("the EIF needs clean validation windows for its threshold and gate");
    const { kept, dropped } = dropNearZeroVariance(train, names, p.near_zero_std);
    const run = { threads: p.threads, engine: this.engine };
    const modelJson = await eifFit(selectColumns(train, kept), train.n, kept.length, { n_trees: p.n_trees, subsample: p.subsample, ndim: p.ndim, seed: this.seed }, run);
    const cal = await eifScore(modelJson, selectColumns(calibration, kept), calibration.n, run);
    const threshold = thresholdAtFpr(cal, p.target_fpr);
    const gateScores = gate === calibration ? cal : await eifScore(modelJson, selectColumns(gate, kept), gate.n, run);
    this.state = {
      format: "cis490-eif-detector/1",
      kept,
      dropped,
      threshold,
      calibration: { n_windows: calibration.n, flagged_rate: alarmRate(cal, threshold), target_fpr: p.target_fpr },
      gate: cleanGate(gateScores, threshold, p.max_clean_anomaly_rate),
      model: JSON.parse(modelJson) as EifModel,
    };
    return this.state;
  }

  static fromState(params: EifHyperParameters, seed: number, state: EifDetectorState, width: number): EifDetector {
    if (state.format !== "cis490-eif-detector/1") throw new Error(`not an EIF detector state (format ${String(state.format)})`);
    if (state.kept.some((f) => !(f >= 0 && f < width)) || state.kept.length !== state.model.n_features) throw new Error(`the EIF detector reads ${state.model.n_features} of ${width} inputs inconsistently`);
    const d = new EifDetector(params, seed);
    d.state = state;
    return d;
  }

  /** Anomaly scores in (0, 1], higher = more anomalous (not a calibrated probability). */
  async scoreSamples(r: Rows): Promise<Float64Array> {
    if (!this.state) throw new NotFittedError("EifDetector");
    if (r.n === 0) return new Float64Array(0);
    return eifScore(JSON.stringify(this.state.model), selectColumns(r, this.state.kept), r.n, { threads: this.params.threads, engine: this.engine });
  }

  /** 1 = alarm (score above the calibrated threshold), 0 = normal. */
  async predict(r: Rows): Promise<Int32Array> {
    const s = await this.scoreSamples(r);
    const t = this.state!.threshold;
    return Int32Array.from(s, (v) => (v > t ? 1 : 0));
  }
}
