// `cis490 detect`: score a store's usable episodes with an exported model.
// Episodes go through the same path as training data (the validation
// sweep's classification, then the native featurizer with the model's
// window geometry), so a window here is bit-for-bit the window `features`
// would have written, and the model sees what it was trained on.

import { DEFAULT_INSPECT_OPTIONS } from "../episode/report.js";
import { currentSchema } from "../features/run.js";
import { checkFeatureOptions } from "../reference/features.js";
import { loadFeaturizer } from "../native/backend.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "../features/types.js";
import { USABLE_CLASSES } from "../features/plan.js";
import { AlertState, checkPolicy, type AlertPolicy } from "./alert.js";
import type { EpisodeTrace } from "./evaluate.js";
import type { ModelMetadata } from "./metadata.js";
import type { WindowBatch } from "./session.js";
import { CliError } from "../util/errors.js";

export class DetectError extends CliError {}

/** What scores windows: an OnnxModel in this thread, or the inference worker. */
export interface Scorer {
  readonly meta: ModelMetadata;
  predict(b: WindowBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface StoreEpisode {
  episode_id: string;
  host_id: string;
  /** Absolute path of the tarball. */
  abs: string;
  acceptance_class: string;
}

export interface WindowRow {
  episode_id: string;
  host_id: string;
  window: number;
  /** Episode-relative second at which the window ends (when its score can exist). */
  t_s: number;
  probs: Record<string, number>;
  predicted: string;
  /** The alert policy holds at this window. */
  alert: boolean;
}

export interface EpisodeRow {
  episode_id: string;
  host_id: string;
  window: null;
  acceptance_class: string;
  windows: number;
  verdict: "alert" | "no-alert" | "unscored";
  first_alert_t_s: number | null;
  first_alert_window: number | null;
  /** Episode-relative start of `infecting` per the episode's labels (NaN/absent when it never gets there). */
  infecting_start_s: number | null;
  /** Why an episode could not be scored (its windows could not be extracted). */
  error?: string;
}

export type DetectionRow = WindowRow | EpisodeRow;

export interface ScoredEpisode {
  episode: StoreEpisode;
  windows: WindowRow[];
  summary: EpisodeRow;
  /** Probabilities and the episode's own labels per window (for --evaluate); null when unscored. */
  trace: EpisodeTrace | null;
}

/** Feature options that reproduce the model's windows (geometry and, for a non-default schema, its statistics and baseline); refuses a model made under another feature schema. */
export function featureOptionsFor(meta: ModelMetadata): FeatureOptions {
  const fo = meta.feature_options;
  const options: FeatureOptions = {
    window_s: meta.window.window_s,
    stride_s: meta.window.stride_s,
    hz: meta.window.hz,
    tensors: meta.input === "tensor",
    ...(fo ? { stats: fo.stats, ...(fo.baseline_s ? { baseline_s: fo.baseline_s, tensor_baseline: fo.tensor_baseline ?? false } : {}) } : {}),
  };
  const made = `window ${options.window_s} s / stride ${options.stride_s} s / ${options.hz} Hz${fo ? `, stats ${fo.stats.join(",")}${fo.baseline_s ? `, baseline ${fo.baseline_s} s${fo.tensor_baseline ? " (tensors relative)" : ""}` : ""}` : ""}`;
  let core;
  try {
    checkFeatureOptions(options);
    core = currentSchema(options);
  } catch (error) {
    throw new DetectError(`the model's feature options (${made}) are not ones this build's feature core accepts: ${(error as Error).message}`);
  }
  if (core.hash !== meta.feature_schema_hash) {
    throw new DetectError(
      `the model was trained on feature schema ${meta.feature_schema_hash}, but this build's feature core produces schema ${core.hash} for ${made}: re-export a model trained with this cis490 version`,
    );
  }
  return options;
}

export interface ScoreOptions {
  policy: AlertPolicy;
  jobs: number;
  /** Windows per model call (default 256). */
  batch?: number;
  featurizer?: Featurizer;
}

function r6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Featurises `episodes` (one featurizer call) and scores every window. */
export async function scoreEpisodes(scorer: Scorer, episodes: StoreEpisode[], o: ScoreOptions): Promise<ScoredEpisode[]> {
  if (episodes.length === 0) return [];
  const meta = scorer.meta;
  if (meta.anomaly) throw new DetectError(`the model is an anomaly detector (${meta.kind}); detect runs phase classifiers`);
  checkPolicy(o.policy, meta.classes);
  const options = featureOptionsFor(meta);
  const featurizer = o.featurizer ?? (await loadFeaturizer("native"));
  const results = await featurizer.featurizeFiles(episodes.map((e) => e.abs), options, DEFAULT_INSPECT_OPTIONS, o.jobs);
  const out: ScoredEpisode[] = [];
  for (const [k, episode] of episodes.entries()) out.push(await scoreOne(scorer, episode, results[k], o));
  return out;
}

async function scoreOne(scorer: Scorer, episode: StoreEpisode, r: EpisodeWindows, o: ScoreOptions): Promise<ScoredEpisode> {
  const meta = scorer.meta;
  const K = meta.classes.length;
  const infIdx = meta.classes.indexOf("infecting");
  const summary: EpisodeRow = {
    episode_id: episode.episode_id,
    host_id: episode.host_id,
    window: null,
    acceptance_class: episode.acceptance_class,
    windows: r.n_windows,
    verdict: "unscored",
    first_alert_t_s: null,
    first_alert_window: null,
    infecting_start_s: infIdx >= 0 && r.phase_start_s && Number.isFinite(r.phase_start_s[infIdx]) ? r.phase_start_s[infIdx] : null,
  };
  if (r.error !== null || r.n_windows === 0) {
    summary.error = r.error ?? "no windows (episode shorter than one window)";
    return { episode, windows: [], summary, trace: null };
  }
  const n = r.n_windows;
  const probs = new Float32Array(n * K);
  const step = o.batch ?? 256;
  const per = meta.input === "tensor" ? meta.channels.length * meta.window.tensor_len : 0;
  const width = meta.input === "summary" ? r.summary.length / n : 0;
  for (let from = 0; from < n; from += step) {
    const to = Math.min(n, from + step);
    const b: WindowBatch =
      meta.input === "summary"
        ? { n: to - from, features: Float32Array.from(r.summary.subarray(from * width, to * width)) }
        : { n: to - from, x: r.x!.slice(from * per, to * per), mask: r.mask!.slice(from * per, to * per) };
    probs.set(await scorer.predict(b), from * K);
  }
  const state = new AlertState(o.policy, meta.classes);
  const windows: WindowRow[] = [];
  for (let w = 0; w < n; w++) {
    const p = probs.subarray(w * K, (w + 1) * K);
    let best = 0;
    for (let c = 1; c < K; c++) if (p[c] > p[best]) best = c;
    const row: WindowRow = {
      episode_id: episode.episode_id,
      host_id: episode.host_id,
      window: w,
      t_s: r6(r.t_start_s[w] + meta.window.window_s),
      probs: Object.fromEntries(meta.classes.map((c, i) => [c, p[i]])),
      predicted: meta.classes[best],
      alert: state.push(w, p),
    };
    windows.push(row);
  }
  summary.verdict = state.firstAlertWindow === null ? "no-alert" : "alert";
  summary.first_alert_window = state.firstAlertWindow;
  summary.first_alert_t_s = state.firstAlertWindow === null ? null : windows[state.firstAlertWindow].t_s;
  const trace: EpisodeTrace = {
    episode_id: episode.episode_id,
    infecting_start_s: summary.infecting_start_s,
    t_s: Float64Array.from(windows, (w) => w.t_s),
    probs,
    phase: r.phase,
  };
  return { episode, windows, summary, trace };
}

/** Episodes of the acceptance classes detect scores. */
export function isUsable(cls: string): boolean {
  return (USABLE_CLASSES as readonly string[]).includes(cls);
}
