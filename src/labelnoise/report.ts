// The label-noise report: what `cis490 label-noise` writes and
// `train --drop-noisy` reads (docs/label-noise.md).

import type { Mode } from "../train/types.js";

export interface FlaggedWindow {
  episode_id: string;
  window: number;
  given_phase: string;
  likely_phase: string;
  self_confidence: number;
}

export interface GroupCount {
  flagged: number;
  total: number;
}

export interface LabelNoiseReport {
  format: "cis490.label-noise/1";
  features: string;
  features_sha256: string;
  split: string;
  split_sha256: string;
  mode: Mode;
  folds: number;
  rounds: number;
  max_depth: number;
  seed: number;
  side: "train";
  windows: number;
  episodes: number;
  classes: string[];
  thresholds: Record<string, number | null>;
  /** Rows: given phase; columns: confident phase. */
  confident_joint: number[][];
  /** Estimated share of training windows whose label is wrong (off-diagonal mass of the calibrated joint). */
  estimated_noise_rate: number;
  by_phase: Record<string, GroupCount>;
  by_profile: Record<string, GroupCount>;
  by_host: Record<string, GroupCount>;
  flagged: FlaggedWindow[];
}
