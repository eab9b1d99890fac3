// Infected-vs-clean detection metrics of a score (higher = more likely
// infected): ROC AUC, PR AUC (average precision) and TPR at a false-positive
// budget (default 1%), each with a percentile bootstrap interval (episode
// units when groups are given). Runs crates/cis490-stats/src/auc.rs; the
// twin is src/reference/auc.ts. Conventions: docs/statistics.md.

import { loadAddon } from "../native.js";
import type { Interval, Unit } from "./stats.js";

export interface AucOptions {
  resamples?: number;
  seed?: number;
  threads?: number;
  ci?: number;
  unit?: Unit;
  /** FPR budget of tpr_at_fpr (default 0.01). */
  maxFpr?: number;
  engine?: "native" | "reference";
}

export interface ResolvedAucOptions {
  resamples: number;
  seed: number;
  threads: number;
  ci: number;
  unit: Unit;
  maxFpr: number;
}

export interface AucResult {
  unit: Unit;
  units: number;
  windows: number;
  positives: number;
  negatives: number;
  resamples: number;
  seed: number;
  ci: number;
  max_fpr: number;
  roc_auc: Interval;
  pr_auc: Interval;
  tpr_at_fpr: Interval;
}

interface AucAddon {
  aucBootstrap(y: Int32Array, score: Float64Array, groups: Uint32Array | null, optionsJson: string): Promise<string>;
}

export async function aucBootstrap(y: ArrayLike<number>, score: ArrayLike<number>, groups: ArrayLike<number> | null = null, options: AucOptions = {}): Promise<AucResult> {
  const { resamples = 1000, seed = 0, threads = 0, ci = 0.95, maxFpr = 0.01 } = options;
  const unit: Unit = options.unit ?? (groups ? "episode" : "window");
  if (unit === "episode" && !groups) throw new Error('unit "episode" needs groups (the episode of each window)');
  const o: ResolvedAucOptions = { resamples, seed, threads, ci, unit, maxFpr };
  const yy = Int32Array.from(y);
  const ss = Float64Array.from(score);
  const gg = groups ? Uint32Array.from(groups) : null;
  if (options.engine === "reference") {
    const { aucBootstrapReference } = await import("../reference/auc.js");
    return aucBootstrapReference(yy, ss, gg, o);
  }
  return JSON.parse(await (loadAddon() as AucAddon).aucBootstrap(yy, ss, gg, JSON.stringify(o))) as AucResult;
}
