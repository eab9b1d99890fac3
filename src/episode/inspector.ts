// What inspects episodes: the native decoder (production) or its plain
// TypeScript twin (parity tests and benchmarks). src/native/backend.ts
// picks one; domain code receives it.

import type { BackendName } from "../native/backend-name.js";
import type { EpisodeReport, InspectOptions } from "./report.js";

export interface Inspector {
  readonly name: BackendName;
  /** Inspects each file; the result has one report per path, in order. Never rejects for a bad episode. */
  inspectFiles(paths: string[], options: InspectOptions, jobs: number): Promise<EpisodeReport[]>;
}
