// Loads the Rust addon (native/cis490.node, built by scripts/build-native.sh)
// and exposes it as the production InspectEngine.

import { requireAddon } from "./io/addon.js";
import type { InspectEngine } from "./episode/engine.js";
import type { EpisodeReport, InspectOptions } from "./episode/report.js";

interface NativeAddon {
  version(): string;
  inspectBuffer(data: Uint8Array, optionsJson: string): string;
  inspectFiles(paths: string[], optionsJson: string, jobs: number): Promise<string[]>;
}

let addon: NativeAddon | undefined;

function load(): NativeAddon {
  addon ??= requireAddon<NativeAddon>("cis490", "native addon", "scripts/build-native.sh");
  return addon;
}

/** The loaded addon, for modules that declare their own slice of its interface (src/features/native.ts). */
export function loadAddon(): unknown {
  return load();
}

export function nativeVersion(): string {
  return load().version();
}

export function inspectBufferNative(buf: Uint8Array, options: InspectOptions): EpisodeReport {
  return JSON.parse(load().inspectBuffer(buf, JSON.stringify(options))) as EpisodeReport;
}

export const nativeEngine: InspectEngine = {
  name: "native",
  async inspectFiles(paths: string[], options: InspectOptions, jobs: number): Promise<EpisodeReport[]> {
    const reports = await load().inspectFiles(paths, JSON.stringify(options), jobs);
    return reports.map((r) => JSON.parse(r) as EpisodeReport);
  },
};
