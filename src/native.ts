// Loads the Rust addon (native/cis490.node, built by scripts/build-native.sh)
// and exposes it as the production InspectEngine.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InspectEngine } from "./episode/engine.js";
import type { EpisodeReport, InspectOptions } from "./episode/report.js";

interface NativeAddon {
  version(): string;
  inspectBuffer(data: Uint8Array, optionsJson: string): string;
  inspectFiles(paths: string[], optionsJson: string, jobs: number): Promise<string[]>;
}

/** The package root: the nearest ancestor with a package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cis490: cannot find the package root (no package.json above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}

let addon: NativeAddon | undefined;

function load(): NativeAddon {
  if (addon) return addon;
  const path = join(packageRoot(), "native", "cis490.node");
  if (!existsSync(path)) {
    throw new Error(`cis490: native addon not found at ${path}; run \`make build\` (or scripts/build-native.sh)`);
  }
  addon = createRequire(import.meta.url)(path) as NativeAddon;
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
