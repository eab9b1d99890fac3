// The anomaly ensemble: a weighted mean of its members' rank-normalised
// scores. A member's rank of a score is its ECDF over that member's scores
// of the calibration clean windows, (#reference <= score) / #reference, so
// one window is scored on its own (deployable per window) and members with
// incomparable score scales (EIF path lengths, reconstruction MSE) combine.
// Above the reference's maximum the ECDF would saturate at 1 and tie every
// far-out window (with ~100 calibration windows, most infected ones); there
// the rank goes on as 1 + ln(1 + (score - max) / scale), scale = the
// reference's interquartile range, so it stays monotone in the score.
// docs/anomaly.md.

import { alarmRate, cleanGate, thresholdAtFpr, type Gate } from "./estimator.js";

export interface EnsembleHyperParameters {
  /** Member sidecars as given on the command line. */
  members: string[];
  /** One weight per member (>= 0, not all 0); normalised to sum 1. */
  weights: number[];
  target_fpr: number;
  max_clean_anomaly_rate: number;
}

export const DEFAULT_ENSEMBLE = { target_fpr: 0.01, max_clean_anomaly_rate: 0.2 };

export interface EnsembleMemberRef {
  kind: string;
  /** Absolute path of the member's sidecar when the ensemble was trained. */
  sidecar: string;
  sidecar_sha256: string;
  weight: number;
}

/** The ensemble's weights file. */
export interface EnsembleState {
  format: "cis490-anomaly-ensemble/1";
  members: EnsembleMember[];
  threshold: number;
  calibration: { n_windows: number; flagged_rate: number; target_fpr: number };
  gate: Gate;
}

export interface EnsembleMember extends EnsembleMemberRef {
  /** Sorted scores of the calibration clean windows (the ECDF). */
  reference: number[];
  /** Above the reference's maximum: rank = 1 + ln(1 + (score - max) / tail_scale). */
  tail_scale: number;
}

/** (#reference <= s) / #reference, for a sorted reference; by binary search. With tailScale, continued above the maximum. */
export function ecdfRank(sorted: ArrayLike<number>, s: number, tailScale?: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  const top = sorted[sorted.length - 1];
  if (tailScale !== undefined && s > top) return 1 + Math.log1p((s - top) / tailScale);
  return lo / sorted.length;
}

/** The reference's interquartile range (order statistics at floor(p n)), else its range, else 1. */
export function tailScale(sorted: ArrayLike<number>): number {
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const iqr = q(0.75) - q(0.25);
  if (iqr > 0) return iqr;
  const range = sorted[sorted.length - 1] - sorted[0];
  return range > 0 ? range : 1;
}

/** Ensemble scores (>= 0; above 1 only beyond the members' calibration ranges) from per-member raw scores. */
export function combine(members: ReadonlyArray<{ weight: number; reference: ArrayLike<number>; tail_scale: number }>, scores: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const n = scores[0]?.length ?? 0;
  const total = members.reduce((a, m) => a + m.weight, 0);
  const out = new Float64Array(n);
  members.forEach((m, k) => {
    const s = scores[k];
    if (s.length !== n) throw new Error(`ensemble member ${k} scored ${s.length} rows, member 0 ${n}`);
    for (let i = 0; i < n; i++) out[i] += (m.weight / total) * ecdfRank(m.reference, s[i], m.tail_scale);
  });
  return out;
}

export function normaliseWeights(weights: number[], n: number): number[] {
  if (weights.length !== n) throw new Error(`${weights.length} weight(s) for ${n} member(s)`);
  if (weights.some((w) => !(w >= 0 && Number.isFinite(w)))) throw new Error(`weights must be finite and >= 0 (got ${weights.join(",")})`);
  const total = weights.reduce((a, w) => a + w, 0);
  if (!(total > 0)) throw new Error("at least one ensemble weight must be > 0");
  return weights.map((w) => w / total);
}

/**
 * Fits the ensemble from its members' scores on the calibration and gate
 * clean windows: the ECDF references, the threshold at the target FPR on
 * the calibration windows' ensemble scores, and the gate.
 */
export function fitEnsemble(
  refs: Array<Omit<EnsembleMemberRef, "weight">>,
  weights: number[],
  calibration: Float64Array[],
  gate: Float64Array[] | null,
  o: { target_fpr: number; max_clean_anomaly_rate: number },
): EnsembleState {
  const w = normaliseWeights(weights, refs.length);
  if (calibration.some((c) => c.length === 0)) throw new Error("the ensemble needs calibration clean windows");
  const members = refs.map((r, k) => {
    const reference = Array.from(calibration[k]).sort((a, b) => a - b);
    return { ...r, weight: w[k], reference, tail_scale: tailScale(reference) };
  });
  const cal = combine(members, calibration);
  const threshold = thresholdAtFpr(cal, o.target_fpr);
  const g = gate ? combine(members, gate) : cal;
  return {
    format: "cis490-anomaly-ensemble/1",
    members,
    threshold,
    calibration: { n_windows: cal.length, flagged_rate: alarmRate(cal, threshold), target_fpr: o.target_fpr },
    gate: cleanGate(g, threshold, o.max_clean_anomaly_rate),
  };
}
