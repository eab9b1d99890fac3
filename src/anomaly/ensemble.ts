// The anomaly ensemble: a weighted mean of its members' rank-normalised
// scores. A member's rank of a score is its ECDF over that member's scores
// of the calibration clean windows, (#reference <= score) / #reference, so
// one window is scored on its own (deployable per window) and members with
// incomparable score scales (EIF path lengths, reconstruction MSE) combine.
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
  members: Array<EnsembleMemberRef & { /** Sorted scores of the calibration clean windows (the ECDF). */ reference: number[] }>;
  threshold: number;
  calibration: { n_windows: number; flagged_rate: number; target_fpr: number };
  gate: Gate;
}

/** (#reference <= s) / #reference, for a sorted reference; by binary search. */
export function ecdfRank(sorted: ArrayLike<number>, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/** Ensemble scores in [0, 1] from per-member raw scores. */
export function combine(members: ReadonlyArray<{ weight: number; reference: ArrayLike<number> }>, scores: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const n = scores[0]?.length ?? 0;
  const total = members.reduce((a, m) => a + m.weight, 0);
  const out = new Float64Array(n);
  members.forEach((m, k) => {
    const s = scores[k];
    if (s.length !== n) throw new Error(`ensemble member ${k} scored ${s.length} rows, member 0 ${n}`);
    for (let i = 0; i < n; i++) out[i] += (m.weight / total) * ecdfRank(m.reference, s[i]);
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
  const members = refs.map((r, k) => ({ ...r, weight: w[k], reference: Array.from(calibration[k]).sort((a, b) => a - b) }));
  if (members.some((m) => m.reference.length === 0)) throw new Error("the ensemble needs calibration clean windows");
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
