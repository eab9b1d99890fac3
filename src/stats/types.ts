// Types of the evaluation statistics, shared by the facade (bootstrap.ts),
// the native binding (src/native/stats.ts) and the TypeScript twin
// (src/reference/stats.ts). Conventions: docs/statistics.md.

import type { BackendName } from "../native/backend-name.js";

export type Unit = "episode" | "window";

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** RNG seed, an integer in [0, 2^32) (default 0). */
  seed?: number;
  /** Worker threads for the native engine; 0 = all cores (default). Results do not depend on it. */
  threads?: number;
  /** Central coverage of the percentile interval (default 0.95). */
  ci?: number;
  /** Resampling unit; default "episode" when groups are given, else "window". */
  unit?: Unit;
  /** Also return every resample's value (macro F1, or the paired difference). */
  keepResamples?: boolean;
  /** Who computes it (default "native"). */
  engine?: BackendName;
  /**
   * The classes macro F1 averages over (sorted, distinct). Absent or null:
   * scikit-learn's default, the labels present in truth or prediction (in
   * each resample). Given: exactly these, like `f1_score(labels=...)`: a
   * listed class absent from truth and prediction scores 0; a label outside
   * the list is not averaged, but its windows still count as false
   * positives / negatives of the listed classes.
   */
  labels?: readonly number[] | null;
}

/** A point estimate and its percentile interval (null: no resample gave a finite value). */
export interface Interval {
  point: number;
  lo: number | null;
  hi: number | null;
}

export interface ClassInterval extends Interval {
  label: number;
  /** Resamples in which the class occurs (in truth or prediction); only those enter its interval. */
  resamplesPresent: number;
}

export interface BootstrapF1Result {
  unit: Unit;
  /** Number of resampling units (episodes or windows); each resample draws this many. */
  units: number;
  windows: number;
  resamples: number;
  seed: number;
  ci: number;
  /** The classes averaged over: `options.labels`, or the sorted union of the labels in truth and prediction. */
  labels: number[];
  macroF1: Interval;
  perClass: ClassInterval[];
  resampleMacroF1?: number[];
}

export interface PairedBootstrapResult {
  unit: Unit;
  units: number;
  windows: number;
  resamples: number;
  seed: number;
  ci: number;
  macroF1A: Interval;
  macroF1B: Interval;
  /** Macro F1 of a minus macro F1 of b. */
  diff: Interval;
  /** The difference's interval lies strictly above or strictly below 0. */
  excludesZero: boolean;
  /** Fraction of resamples with diff <= 0 (one-sided bootstrap "p-value" for a > b; not a calibrated test). */
  fracDiffLeZero: number;
  resampleDiff?: number[];
}

export type Labels = Int32Array | ArrayLike<number>;
export type Groups = Uint32Array | ArrayLike<number>;

/** Options with defaults applied and ranges checked (the native side checks them again). */
export interface ResolvedOptions {
  resamples: number;
  seed: number;
  threads: number;
  ci: number;
  unit: Unit;
  keepResamples: boolean;
  /** Fixed class list, or null for the union of the labels present. */
  labels: number[] | null;
}

// Infected-vs-clean detection metrics of a score (src/stats/auc.ts).

export interface AucOptions {
  resamples?: number;
  seed?: number;
  threads?: number;
  ci?: number;
  unit?: Unit;
  /** FPR budget of tpr_at_fpr (default 0.01). */
  maxFpr?: number;
  engine?: BackendName;
}

export interface ResolvedAucOptions {
  resamples: number;
  seed: number;
  threads: number;
  ci: number;
  unit: Unit;
  maxFpr: number;
}

export interface AucResult {
  unit: Unit;
  units: number;
  windows: number;
  positives: number;
  negatives: number;
  resamples: number;
  seed: number;
  ci: number;
  max_fpr: number;
  roc_auc: Interval;
  pr_auc: Interval;
  tpr_at_fpr: Interval;
}

/** What computes the bootstraps: the native core or its twin, chosen by src/native/backend.ts. */
export interface StatsBackend {
  bootstrapF1(yTrue: Int32Array, yPred: Int32Array, groups: Uint32Array | null, o: ResolvedOptions): Promise<BootstrapF1Result>;
  pairedBootstrap(yTrue: Int32Array, predA: Int32Array, predB: Int32Array, groups: Uint32Array | null, o: ResolvedOptions): Promise<PairedBootstrapResult>;
  aucBootstrap(y: Int32Array, score: Float64Array, groups: Uint32Array | null, o: ResolvedAucOptions): Promise<AucResult>;
}
