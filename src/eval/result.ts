// What `cis490 eval` writes per model (`<model>_<mode>_eval.json`) and for
// the comparison; the report renderers read only these shapes.

import type { Interval } from "../stats/types.js";

export interface BreakdownRow {
  key: string;
  /** "untested": the split has no test window for it; its numbers are null, never averaged in. */
  status: "tested" | "untested";
  n_windows: number;
  n_episodes: number;
  macro_f1: Interval | null;
}

export interface ClassRow {
  label: number;
  name: string;
  f1: Interval;
  precision: number;
  recall: number;
  support: number;
}

export interface PhaseRow {
  phase: string;
  precision: number;
  recall: number;
  support: number;
}

export interface DetectionSummary {
  /** Test episodes that reach `infecting` or `infected_running`. */
  infected_episodes: number;
  /** Of those, episodes with at least one window predicted infecting/infected_running before `dormant`. */
  detected: number;
  rate: number | null;
  /** Median seconds from the start of `infecting` to the first flagged window's centre. */
  median_delay_s: number | null;
}

export interface ModelEval {
  /** `<model>_<mode>`, e.g. `gru_realistic`. */
  name: string;
  model: string;
  mode: "realistic" | "oracle";
  checkpoint: string;
  schema_hash: string;
  split: { path: string; recipe: string | null; untested_profiles: string[] };
  unit: "episode" | "window";
  resamples: number;
  seed: number;
  n_windows: number;
  n_episodes: number;
  /** Phases this model was trained on, and where that came from (older checkpoints: a fallback). */
  trained_labels: { phases: string[]; source: "trained_labels" | "class_counts_train" | "classes" };
  macro_f1: Interval;
  per_class: ClassRow[];
  confusion: { labels: string[]; matrix: number[][] };
  per_profile: BreakdownRow[];
  per_host: BreakdownRow[];
  per_phase: PhaseRow[];
  detection: DetectionSummary;
  warnings: string[];
}

export interface PairwiseRow {
  a: string;
  b: string;
  /** Macro F1 of a minus macro F1 of b, on the same resamples. */
  diff: Interval;
  excludes_zero: boolean;
}

export interface EvalFailure {
  checkpoint: string;
  error: string;
}

/** The classes macro F1 averages over, the same for every model in one eval. */
export interface LabelSet {
  /** "trained": the union of the evaluated models' trained phases; "union": scikit-learn's default, the phases present in truth or each model's predictions. */
  mode: "trained" | "union";
  /** The fixed phase list ("trained"), or null ("union": it varies by model and resample). */
  phases: string[] | null;
}

export interface Comparison {
  split: { path: string; recipe: string | null; untested_profiles: string[] };
  unit: "episode" | "window";
  resamples: number;
  labels: LabelSet;
  models: ModelEval[];
  significance: PairwiseRow[];
  failures: EvalFailure[];
}
