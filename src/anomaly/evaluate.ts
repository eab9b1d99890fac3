// Infected-vs-clean evaluation of an anomaly checkpoint (eif, ae, ensemble;
// src/anomaly/loader.ts) on the test side: every
// labelled test window is scored, clean windows are the negatives and every
// other phase the positives; ROC AUC, PR AUC and TPR at 1% FPR with
// episode-bootstrap intervals, overall, per host and per profile, plus the
// alarm rates at the checkpoint's threshold.

import { aucBootstrap, type AucResult } from "../stats/auc.js";
import { readSplitSides, scanWindows } from "../train/windows.js";
import { loadAnomalyDetector } from "./loader.js";
import { CLEAN } from "./train.js";

export interface AnomalyEvaluation {
  checkpoint: string;
  n_windows: number;
  overall: AucResult;
  by_host: Record<string, AucResult | null>;
  by_profile: Record<string, AucResult | null>;
  /** At the stored threshold: fraction of clean test windows flagged, and of infected ones. */
  alarm_rate: { clean: number; infected: number };
  promotable: boolean;
}

export async function evaluateAnomalyCheckpoint(sidecarPath: string, features: string, split: string, o: { resamples?: number; seed?: number; threads?: number } = {}): Promise<AnomalyEvaluation> {
  const detector = await loadAnomalyDetector(sidecarPath);
  const { sidecar, columns } = detector;
  const sides = await readSplitSides(split);
  const scan = await scanWindows(features, sides, ["test"], columns);
  const w = scan.windows.get("test")!;
  const n = w.label.length;
  if (n === 0) throw new Error(`the test side of ${split} has no labelled windows`);
  let scores: Float64Array;
  try {
    scores = await detector.scoreSamples({ x: scan.x.get("test")!, n, width: columns.length });
  } finally {
    await detector.dispose();
  }
  const y = Int32Array.from(w.label, (l) => (l === CLEAN ? 0 : 1));
  const ids = [...new Set(w.episode_id)].sort();
  const rank = new Map(ids.map((e, i) => [e, i]));
  const groups = Uint32Array.from(w.episode_id, (e) => rank.get(e)!);
  const opts = { resamples: o.resamples ?? 1000, seed: o.seed ?? 0, threads: o.threads ?? 0 };
  const slice = async (keep: (i: number) => boolean): Promise<AucResult | null> => {
    const idx = [...Array(n).keys()].filter(keep);
    const yy = idx.map((i) => y[i]);
    if (!yy.includes(0) || !yy.includes(1)) return null; // one class only: no curve
    return aucBootstrap(yy, idx.map((i) => scores[i]), idx.map((i) => groups[i]), opts);
  };
  const by = async (key: string[]): Promise<Record<string, AucResult | null>> => {
    const out: Record<string, AucResult | null> = {};
    for (const k of [...new Set(key)].sort()) out[k] = await slice((i) => key[i] === k);
    return out;
  };
  const t = sidecar.threshold;
  let cleanN = 0, cleanHit = 0, infN = 0, infHit = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] === 0) (cleanN++, (cleanHit += scores[i] > t ? 1 : 0));
    else (infN++, (infHit += scores[i] > t ? 1 : 0));
  }
  // Episodes of a profile hold clean windows too (before infection), so per-profile slices have both classes.
  return {
    checkpoint: sidecarPath,
    n_windows: n,
    overall: (await slice(() => true)) ?? (() => { throw new Error("the test side has only one class (clean or infected): no ROC curve"); })(),
    by_host: await by(w.host_id),
    by_profile: await by(w.profile),
    alarm_rate: { clean: cleanN ? cleanHit / cleanN : Number.NaN, infected: infN ? infHit / infN : Number.NaN },
    promotable: sidecar.gate.promotable,
  };
}

/** The EIF's name for it (kept for existing callers). */
export const evaluateEifCheckpoint = evaluateAnomalyCheckpoint;
