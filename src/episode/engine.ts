// Chooses who inspects episodes: the native addon (production) or the plain
// TypeScript reference (parity tests and benchmarks only).

import type { EpisodeReport, InspectOptions } from "./report.js";

export type EngineName = "native" | "reference";

export interface InspectEngine {
  readonly name: EngineName;
  /** Inspects each file; the result has one report per path, in order. Never rejects for a bad episode. */
  inspectFiles(paths: string[], options: InspectOptions, jobs: number): Promise<EpisodeReport[]>;
}

export async function loadEngine(name: EngineName = "native"): Promise<InspectEngine> {
  if (name === "reference") {
    const { referenceEngine } = await import("../reference/inspect.js");
    return referenceEngine;
  }
  const { nativeEngine } = await import("../native/inspect.js");
  return nativeEngine;
}
