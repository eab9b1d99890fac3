// What `cis490 eval` writes per model (`<model>_<mode>_eval.json`) and for
// the comparison; the report renderers read only these shapes.

import type { EpisodeVerdictStats } from "../deploy/evaluate.js";
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

/** One row of the infected-vs-clean view per host or profile ("untested": no test window, or only one of the two classes). */
export interface AnomalySlice {
  key: string;
  status: "tested" | "untested";
  /** Why it is untested. */
  reason: string | null;
  n_windows: number;
  n_episodes: number;
  positives: number;
  negatives: number;
  roc_auc: Interval | null;
  pr_auc: Interval | null;
  tpr_at_1pct_fpr: Interval | null;
}

/**
 * Infected (any non-clean phase) vs clean test windows, ranked by a score
 * (supervised models: 1 - P(clean); anomaly detectors: their anomaly score),
 * with bootstrap intervals in the eval's resampling unit.
 */
export interface AnomalyEval {
  score: string;
  n_windows: number;
  n_episodes: number;
  /** Non-clean windows. */
  positives: number;
  /** Clean windows. */
  negatives: number;
  roc_auc: Interval;
  pr_auc: Interval;
  tpr_at_1pct_fpr: Interval;
  by_host: AnomalySlice[];
  by_profile: AnomalySlice[];
  /** The ROC curve sampled on a fixed FPR grid (step: the best TPR at FPR <= x), for the report's chart. */
  roc_curve: { fpr: number[]; tpr: number[] };
}

/**
 * Episode-level verdicts of an alert policy (src/deploy/evaluate.ts
 * episodeVerdicts): an infected episode (one with infecting /
 * infected_running test windows) is detected when the alert holds at one of
 * those windows, i.e. before `dormant` (or `failed`); episodes without such
 * windows are the negatives; every episode's clean and armed windows give the
 * pre-infection false-alarm rate.
 */
export type EpisodeVerdicts = EpisodeVerdictStats & {
  /** The policy in words, and its parameters. */
  policy: { description: string; threshold: number; consecutive: number; signal: string };
};

/** `train --drop-noisy`: the label-noise report and how many training windows it removed (from the checkpoint). */
export interface DropNoisyInfo {
  report: string;
  report_sha256: string;
  dropped: number;
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
  /** Infected-vs-clean view of 1 - P(clean); null when the test side lacks one of the two classes. */
  anomaly: AnomalyEval | null;
  /** The default alert policy's episode verdicts. */
  episodes: EpisodeVerdicts | null;
  /** Set when the model was trained with `--drop-noisy`. */
  drop_noisy: DropNoisyInfo | null;
  warnings: string[];
}

/** An anomaly detector's evaluation (`*.anomaly-ckpt.json`): a score, not phases, so no macro F1. */
export interface AnomalyModelEval {
  name: string;
  model: string;
  mode: "realistic" | "oracle";
  kind: "anomaly";
  checkpoint: string;
  schema_hash: string;
  split: { path: string; recipe: string | null; untested_profiles: string[] };
  unit: "episode" | "window";
  resamples: number;
  seed: number;
  n_windows: number;
  n_episodes: number;
  /** Always null: an anomaly detector does not predict phases. */
  macro_f1: null;
  macro_f1_note: string;
  /** The checkpoint's alarm threshold and gate verdict. */
  threshold: number | null;
  promotable: boolean | null;
  /** At the threshold: fraction of clean test windows flagged, and of non-clean ones. */
  alarm_rate: { clean: number | null; infected: number | null } | null;
  anomaly: AnomalyEval | null;
  episodes: EpisodeVerdicts | null;
  warnings: string[];
}

/** A model trained with --drop-noisy and its plain twin (same kind and mode), on the same test windows. */
export interface DropNoisyPair {
  plain: string;
  drop_noisy: string;
  dropped: number;
  report: string;
  /** Macro F1 of drop-noisy minus plain, paired episode bootstrap. */
  macro_f1_diff: Interval;
  excludes_zero: boolean;
  /** Infected-vs-clean ROC AUC and TPR at 1% FPR of both (unpaired intervals). */
  roc_auc: { plain: Interval | null; drop_noisy: Interval | null };
  tpr_at_1pct_fpr: { plain: Interval | null; drop_noisy: Interval | null };
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
  /** Anomaly detectors evaluated in the same run (infected vs clean only). */
  anomaly_models: AnomalyModelEval[];
  significance: PairwiseRow[];
  /** Plain vs --drop-noisy pairs among `models`. */
  drop_noisy_pairs: DropNoisyPair[];
  failures: EvalFailure[];
}
