// Extended isolation forest: fit and score through the backend (the native
// crate by default; `engine: "reference"` runs the TypeScript twin, for tests
// and benchmarks). Algorithm: docs/anomaly.md.

import { loadBackend, type BackendName } from "../native/backend.js";
import { DEFAULT_EIF_OPTIONS, type EifOptions } from "./eif-model.js";

export type { EifModel, EifOptions } from "./eif-model.js";
export { DEFAULT_EIF_OPTIONS } from "./eif-model.js";

export interface RunOptions {
  /** Threads (0 = all cores). */
  threads?: number;
  engine?: BackendName;
}

/** Fits a forest on row-major [n, d] (NaN / infinities = missing); resolves to the model JSON text. */
export async function eifFit(x: Float64Array | Float32Array, n: number, d: number, options: Partial<EifOptions> = {}, run: RunOptions = {}): Promise<string> {
  return (await loadBackend(run.engine)).anomaly.eifFit(x, n, d, { ...DEFAULT_EIF_OPTIONS, ...options }, run.threads ?? 0);
}

/** Anomaly scores in (0, 1] (higher = more anomalous) of row-major [n, model.n_features]. */
export async function eifScore(modelJson: string, x: Float64Array | Float32Array, n: number, run: RunOptions = {}): Promise<Float64Array> {
  return (await loadBackend(run.engine)).anomaly.eifScore(modelJson, x, n, run.threads ?? 0);
}
