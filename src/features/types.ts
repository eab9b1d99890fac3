// What a featurizer returns for one episode (docs/features.md). The native
// addon and the TypeScript twin both implement `Featurizer`.

import type { InspectOptions } from "../episode/report.js";
import type { BackendName } from "../native/backend-name.js";

export interface FeatureOptions {
  window_s: number;
  stride_s: number;
  hz: number;
  /** Also produce the 10 Hz channel x time tensors and masks. */
  tensors: boolean;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { window_s: 10, stride_s: 5, hz: 10, tensors: false };

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
  /** Row-major [n_windows, 230]; NaN where missing. */
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
