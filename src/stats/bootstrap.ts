// Percentile bootstrap intervals for macro / per-class F1 and for the paired
// difference of two models. They run natively by default (crates/cis490-stats
// via the addon, parallel); `engine: "reference"` runs the single-threaded
// TypeScript twin, which gives identical numbers; src/native/backend.ts
// picks. Algorithm and conventions: docs/statistics.md.

import { loadStatsBackend } from "../native/backend.js";
import { checkInputs, resolveOptions } from "./metrics.js";
import type { BootstrapF1Result, BootstrapOptions, Groups, Labels, PairedBootstrapResult } from "./types.js";

/**
 * Macro and per-class F1 with percentile bootstrap intervals. `groups` is
 * the episode of each window (any integer ids); with groups the default
 * unit is the episode (cluster bootstrap).
 */
export async function bootstrapF1(yTrue: Labels, yPred: Labels, groups?: Groups | null, options: BootstrapOptions = {}): Promise<BootstrapF1Result> {
  const { t, p, g } = checkInputs(yTrue, [["yPred", yPred]], groups);
  const o = resolveOptions(options, g !== null);
  return (await loadStatsBackend(options.engine)).bootstrapF1(t, p[0], g, o);
}

/** Paired bootstrap of macro F1(a) - macro F1(b) on the same windows and the same resamples. */
export async function pairedBootstrap(yTrue: Labels, predA: Labels, predB: Labels, groups?: Groups | null, options: BootstrapOptions = {}): Promise<PairedBootstrapResult> {
  const { t, p, g } = checkInputs(yTrue, [["predA", predA], ["predB", predB]], groups);
  const o = resolveOptions(options, g !== null);
  return (await loadStatsBackend(options.engine)).pairedBootstrap(t, p[0], p[1], g, o);
}
