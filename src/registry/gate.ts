// The promotion gate: a new version may replace `current` only if its
// validation macro F1 is not significantly below the current version's.
// When both were scored on the same validation windows (same features and
// split files), a paired episode bootstrap of the difference decides: the
// gate refuses when the whole 95% interval of F1(new) - F1(current) lies
// below 0. Otherwise each version's own episode-bootstrap interval is used:
// it refuses when new's upper bound is below current's lower bound. Without
// validation predictions on either side nothing can be shown, and it passes
// (saying so).

import { bootstrapF1, pairedBootstrap } from "../stats/bootstrap.js";
import type { Interval } from "../stats/types.js";
import type { ValidationPredictions } from "./derive.js";

export interface GateOptions {
  resamples: number;
  seed: number;
}

export const DEFAULT_GATE: GateOptions = { resamples: 1000, seed: 0 };

export interface GateResult {
  passed: boolean;
  /** clean-anomaly-rate: an anomaly checkpoint's own gate (src/registry/anomaly.ts). */
  method: "paired-bootstrap" | "intervals" | "untestable" | "clean-anomaly-rate";
  candidate_f1: number | null;
  current_f1: number | null;
  /** Paired: F1(candidate) - F1(current) with its interval. */
  diff: Interval | null;
  candidate_ci: Interval | null;
  current_ci: Interval | null;
  /** clean-anomaly-rate: the numbers behind it. */
  anomaly?: { clean_anomaly_rate: number; limit: number; n_windows: number; threshold: number };
  reason: string;
}

const key = (v: ValidationPredictions, i: number): string => `${v.episodes[v.episode[i]]}\u0000${v.window[i]}`;

function sameWindows(a: ValidationPredictions, b: ValidationPredictions): boolean {
  if (a.features_sha256 !== b.features_sha256 || a.split_sha256 !== b.split_sha256 || a.label.length !== b.label.length) return false;
  const index = new Map<string, number>();
  for (let i = 0; i < b.label.length; i++) index.set(key(b, i), i);
  for (let i = 0; i < a.label.length; i++) {
    const j = index.get(key(a, i));
    if (j === undefined || b.label[j] !== a.label[i]) return false;
  }
  return true;
}

const f = (v: number | null | undefined): string => (v === null || v === undefined ? "n/a" : v.toFixed(4));

export async function promotionGate(candidate: ValidationPredictions | null, current: ValidationPredictions | null, o: GateOptions = DEFAULT_GATE): Promise<GateResult> {
  if (!candidate || !current || candidate.label.length === 0 || current.label.length === 0) {
    return {
      passed: true,
      method: "untestable",
      candidate_f1: candidate?.macro_f1 ?? null,
      current_f1: current?.macro_f1 ?? null,
      diff: null,
      candidate_ci: null,
      current_ci: null,
      reason: `no validation predictions for the ${candidate ? "current" : "new"} version: nothing shows it is worse, promoted`,
    };
  }
  if (sameWindows(candidate, current)) {
    const index = new Map<string, number>();
    for (let i = 0; i < current.label.length; i++) index.set(key(current, i), i);
    const predCur = Int32Array.from(candidate.label, (_, i) => current.pred[index.get(key(candidate, i))!]);
    const r = await pairedBootstrap(Int32Array.from(candidate.label), Int32Array.from(candidate.pred), predCur, Uint32Array.from(candidate.episode), { resamples: o.resamples, seed: o.seed });
    const below = r.diff.hi !== null && r.diff.hi < 0;
    return {
      passed: !below,
      method: "paired-bootstrap",
      candidate_f1: r.macroF1A.point,
      current_f1: r.macroF1B.point,
      diff: r.diff,
      candidate_ci: r.macroF1A,
      current_ci: r.macroF1B,
      reason: below
        ? `validation macro F1 ${f(r.macroF1A.point)} is significantly below current's ${f(r.macroF1B.point)}: paired difference ${f(r.diff.point)} [${f(r.diff.lo)}, ${f(r.diff.hi)}] lies below 0`
        : `validation macro F1 ${f(r.macroF1A.point)} vs current ${f(r.macroF1B.point)}: paired difference ${f(r.diff.point)} [${f(r.diff.lo)}, ${f(r.diff.hi)}] not below 0`,
    };
  }
  const [a, b] = await Promise.all([
    bootstrapF1(Int32Array.from(candidate.label), Int32Array.from(candidate.pred), Uint32Array.from(candidate.episode), { resamples: o.resamples, seed: o.seed }),
    bootstrapF1(Int32Array.from(current.label), Int32Array.from(current.pred), Uint32Array.from(current.episode), { resamples: o.resamples, seed: o.seed }),
  ]);
  const below = a.macroF1.hi !== null && b.macroF1.lo !== null && a.macroF1.hi < b.macroF1.lo;
  return {
    passed: !below,
    method: "intervals",
    candidate_f1: a.macroF1.point,
    current_f1: b.macroF1.point,
    diff: null,
    candidate_ci: a.macroF1,
    current_ci: b.macroF1,
    reason: `different validation windows; intervals: new ${f(a.macroF1.point)} [${f(a.macroF1.lo)}, ${f(a.macroF1.hi)}], current ${f(b.macroF1.point)} [${f(b.macroF1.lo)}, ${f(b.macroF1.hi)}]${below ? ": new lies entirely below" : ": not entirely below"}`,
  };
}
