// Infected-vs-clean detection metrics of a score (higher = more likely
// infected): ROC AUC, PR AUC (average precision) and TPR at a false-positive
// budget (default 1%), each with a percentile bootstrap interval (episode
// units when groups are given). Runs crates/cis490-stats/src/auc.rs; the
// twin is src/reference/auc.ts. Conventions: docs/statistics.md.

import { loadStatsBackend } from "../native/backend.js";
import type { AucOptions, AucResult, ResolvedAucOptions, Unit } from "./types.js";

export type { AucOptions, AucResult, ResolvedAucOptions } from "./types.js";

export async function aucBootstrap(y: ArrayLike<number>, score: ArrayLike<number>, groups: ArrayLike<number> | null = null, options: AucOptions = {}): Promise<AucResult> {
  const { resamples = 1000, seed = 0, threads = 0, ci = 0.95, maxFpr = 0.01 } = options;
  const unit: Unit = options.unit ?? (groups ? "episode" : "window");
  if (unit === "episode" && !groups) throw new Error('unit "episode" needs groups (the episode of each window)');
  const o: ResolvedAucOptions = { resamples, seed, threads, ci, unit, maxFpr };
  const yy = Int32Array.from(y);
  const ss = Float64Array.from(score);
  const gg = groups ? Uint32Array.from(groups) : null;
  return (await loadStatsBackend(options.engine)).aucBootstrap(yy, ss, gg, o);
}
