// The native inspector: crates/cis490-core's decoder through cis490.node
// (inspectFiles runs on a rayon pool, off the event loop).

import { loadCis490Addon } from "./addon.js";
import type { Inspector } from "../episode/inspector.js";
import type { EpisodeReport, InspectOptions } from "../episode/report.js";

export function nativeVersion(): string {
  return loadCis490Addon().version();
}

export function inspectBufferNative(buf: Uint8Array, options: InspectOptions): EpisodeReport {
  return JSON.parse(loadCis490Addon().inspectBuffer(buf, JSON.stringify(options))) as EpisodeReport;
}

export const nativeInspector: Inspector = {
  name: "native",
  async inspectFiles(paths: string[], options: InspectOptions, jobs: number): Promise<EpisodeReport[]> {
    const reports = await loadCis490Addon().inspectFiles(paths, JSON.stringify(options), jobs);
    return reports.map((r) => JSON.parse(r) as EpisodeReport);
  },
};
