// The extended isolation forest's model format and options, shared by the
// native binding, its TypeScript twin and the detector. Algorithm:
// docs/anomaly.md.

export const EIF_MODEL_FORMAT = "cis490-eif/1";

export interface EifOptions {
  n_trees: number;
  subsample: number;
  ndim: number;
  seed: number;
}

export const DEFAULT_EIF_OPTIONS: EifOptions = { n_trees: 100, subsample: 256, ndim: 1, seed: 0 };

export interface EifTree {
  right: number[];
  value: number[];
  nfeat: number[];
  feat: number[];
  coef: number[];
}

export interface EifModel {
  format: string;
  n_features: number;
  n_trees: number;
  ndim: number;
  seed: number;
  subsample: number;
  max_depth: number;
  medians: number[];
  trees: EifTree[];
}

/** What fits and scores forests: the native crate or its twin, chosen by src/native/backend.ts. */
export interface AnomalyBackend {
  eifFit(x: Float64Array | Float32Array, n: number, d: number, options: EifOptions, threads: number): Promise<string>;
  eifScore(modelJson: string, x: Float64Array | Float32Array, n: number, threads: number): Promise<Float64Array>;
}
