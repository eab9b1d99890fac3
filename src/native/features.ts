// The native featurizer: crates/cis490-core/src/features/ through the addon's
// featurizeFiles (decode + features on a rayon pool, off the event loop).

import { loadCis490Addon } from "./addon.js";
import type { InspectOptions } from "../episode/report.js";
import type { SchemaChannel } from "../features/schema.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "../features/types.js";


/** The native channel registry (tests check it equals src/features/channels.ts). */
export function nativeFeatureSchema(): { channels: SchemaChannel[]; stats: string[]; features: string[] } {
  return JSON.parse(loadCis490Addon().featureSchema()) as { channels: SchemaChannel[]; stats: string[]; features: string[] };
}

export const nativeFeaturizer: Featurizer = {
  name: "native",
  // async: a missing addon or bad options reject the promise instead of throwing synchronously.
  async featurizeFiles(paths: string[], options: FeatureOptions, inspect: InspectOptions, jobs: number): Promise<EpisodeWindows[]> {
    const { window_s, stride_s, hz, tensors, stats, baseline_s, tensor_baseline } = options;
    // Only the known fields: the addon rejects unknown ones (undefined ones are left out by JSON.stringify).
    const json = JSON.stringify({ window_s, stride_s, hz, tensors, stats, baseline_s, tensor_baseline, inspect: { ...inspect, with_columns: false } });
    return loadCis490Addon().featurizeFiles(paths, json, jobs);
  },
};
