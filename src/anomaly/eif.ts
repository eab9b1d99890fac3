// Extended isolation forest through the native crate (crates/cis490-anomaly,
// bound in crates/cis490-node/src/anomaly.rs): fit and score run off the
// event loop on the addon's rayon pool; the result does not depend on the
// thread count. `engine: "reference"` runs the TypeScript twin instead
// (src/reference/eif.ts; tests and benchmarks). Algorithm: docs/anomaly.md.

import { loadAddon } from "../native.js";
import { DEFAULT_EIF_OPTIONS, type EifModel, type EifOptions } from "../reference/eif.js";

export type { EifModel, EifOptions } from "../reference/eif.js";
export { DEFAULT_EIF_OPTIONS } from "../reference/eif.js";

interface EifAddon {
  eifFit(x: Float64Array | Float32Array, n: number, d: number, optionsJson: string, jobs: number): Promise<string>;
  eifScore(modelJson: string, x: Float64Array | Float32Array, n: number, jobs: number): Promise<Float64Array>;
}

const addon = (): EifAddon => loadAddon() as EifAddon;

export interface RunOptions {
  /** Threads (0 = all cores). */
  threads?: number;
  engine?: "native" | "reference";
}

/** Fits a forest on row-major [n, d] (NaN / infinities = missing); resolves to the model JSON text. */
export async function eifFit(x: Float64Array | Float32Array, n: number, d: number, options: Partial<EifOptions> = {}, run: RunOptions = {}): Promise<string> {
  const o: EifOptions = { ...DEFAULT_EIF_OPTIONS, ...options };
  if (run.engine === "reference") {
    const ref = await import("../reference/eif.js");
    return JSON.stringify(ref.fitReference(x, n, d, o));
  }
  return addon().eifFit(x, n, d, JSON.stringify(o), run.threads ?? 0);
}

/** Anomaly scores in (0, 1] (higher = more anomalous) of row-major [n, model.n_features]. */
export async function eifScore(modelJson: string, x: Float64Array | Float32Array, n: number, run: RunOptions = {}): Promise<Float64Array> {
  if (run.engine === "reference") {
    const ref = await import("../reference/eif.js");
    return ref.scoreReference(JSON.parse(modelJson) as EifModel, x, n);
  }
  return addon().eifScore(modelJson, x, n, run.threads ?? 0);
}
