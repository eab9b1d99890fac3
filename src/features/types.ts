// What a featurizer returns for one episode (docs/features.md). The native
// addon and the TypeScript twin both implement `Featurizer`.

import type { InspectOptions } from "../episode/report.js";
import type { BackendName } from "../native/backend-name.js";
import { statsFor, type BaselineMode } from "./channels.js";

export interface FeatureOptions {
  window_s: number;
  stride_s: number;
  hz: number;
  /** Also produce the 10 Hz channel x time tensors and masks. */
  tensors: boolean;
  /** Summary statistics per channel, in vector order (default: STATS, the plain five). */
  stats?: readonly string[];
  /** Seconds of episode time that form the causal baseline; 0 or absent = none. */
  baseline_s?: number;
  /** Tensors minus each channel's baseline median (mask 0 where there is none). */
  tensor_baseline?: boolean;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { window_s: 10, stride_s: 5, hz: 10, tensors: false };

/** Default baseline period: the first window's length (every episode starts `clean`; docs/features.md). */
export const DEFAULT_BASELINE_S = 10;

/** The schema-changing options of `cis490 features --baseline M [--baseline-s S] [--missing-indicators]`; {} for the default schema. */
export function schemaOptions(baseline: BaselineMode, baselineS: number | undefined, missingIndicators: boolean): Pick<FeatureOptions, "stats" | "baseline_s" | "tensor_baseline"> {
  if (baseline === "none" && !missingIndicators) return {};
  return {
    stats: statsFor(baseline, missingIndicators),
    ...(baseline === "none" ? {} : { baseline_s: baselineS ?? DEFAULT_BASELINE_S, tensor_baseline: baseline === "relative" }),
  };
}

export interface EpisodeWindows {
  /** Set when the episode could not be decoded or featurised; then n_windows is 0. */
  error: string | null;
  n_windows: number;
  /** First label's t_wall_ns as a decimal string; null without labels. */
  t0_wall_ns: string | null;
  duration_s: number | null;
  /** Phase code per window (docs/features.md). */
  phase: Int8Array;
  t_start_s: Float64Array;
  /** Per phase code, the episode-relative second of its first label row; NaN when the phase never occurs. */
  phase_start_s: Float64Array;
  /** Row-major [n_windows, 46 x stats] (230 by default); NaN where missing. */
  summary: Float64Array;
  /** Row-major [n_windows, 46, tensor_len]; null unless options.tensors. */
  x: Float32Array | null;
  /** Same layout as x; 1 where the value came from real data. */
  mask: Uint8Array | null;
}

export interface Featurizer {
  readonly name: BackendName;
  /** One result per path, in order. Never rejects for a bad episode. */
  featurizeFiles(paths: string[], options: FeatureOptions, inspect: InspectOptions, jobs: number): Promise<EpisodeWindows[]>;
}
