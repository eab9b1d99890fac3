// The native bootstraps: crates/cis490-stats through cis490.node (parallel,
// off the event loop). Results are identical to the twin's.

import { loadCis490Addon } from "./addon.js";
import type { AucResult, BootstrapF1Result, PairedBootstrapResult, ResolvedOptions, StatsBackend } from "../stats/types.js";

function nativeOptions(o: ResolvedOptions): string {
  return JSON.stringify({ resamples: o.resamples, seed: o.seed, threads: o.threads, ci: o.ci, unit: o.unit, keepResamples: o.keepResamples, labels: o.labels });
}

export const nativeStats: StatsBackend = {
  async bootstrapF1(t, p, g, o) {
    return JSON.parse(await loadCis490Addon().bootstrapF1(t, p, g, nativeOptions(o))) as BootstrapF1Result;
  },
  async pairedBootstrap(t, a, b, g, o) {
    return JSON.parse(await loadCis490Addon().pairedBootstrap(t, a, b, g, nativeOptions(o))) as PairedBootstrapResult;
  },
  async aucBootstrap(y, s, g, o) {
    return JSON.parse(await loadCis490Addon().aucBootstrap(y, s, g, JSON.stringify(o))) as AucResult;
  },
};
