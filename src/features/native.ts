// The native featurizer: crates/cis490-core/src/features/ through the addon's
// featurizeFiles (decode + features on a rayon pool, off the event loop).

import { loadAddon } from "../native.js";
import type { InspectOptions } from "../episode/report.js";
import type { SchemaChannel } from "./schema.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "./types.js";

interface FeatureAddon {
  featurizeFiles(paths: string[], optionsJson: string, jobs: number): Promise<EpisodeWindows[]>;
  featureSchema(): string;
}

function addon(): FeatureAddon {
  return loadAddon() as FeatureAddon;
}

/** The native channel registry (tests check it equals src/features/channels.ts). */
export function nativeFeatureSchema(): { channels: SchemaChannel[]; stats: string[]; features: string[] } {
  return JSON.parse(addon().featureSchema()) as { channels: SchemaChannel[]; stats: string[]; features: string[] };
}

export const nativeFeaturizer: Featurizer = {
  name: "native",
  // async: a missing addon or bad options reject the promise instead of throwing synchronously.
  async featurizeFiles(paths: string[], options: FeatureOptions, inspect: InspectOptions, jobs: number): Promise<EpisodeWindows[]> {
    const { window_s, stride_s, hz, tensors } = options;
    // Only the known fields: the addon rejects unknown ones.
    const json = JSON.stringify({ window_s, stride_s, hz, tensors, inspect: { ...inspect, with_columns: false } });
    return addon().featurizeFiles(paths, json, jobs);
  },
};
