// `publish replay`: one episode as the model would have seen it live. The
// episode's windows are extracted on demand by the native featurizer (no
// tensor shards), the checkpoint predicts each window, and the events go out
// on the episode's own clock (t_wall_ns, seconds since the first label),
// divided by `speed`: a phase event when the ground-truth phase starts, a
// prediction event once a window's data is complete (its end), stamped with
// the window's centre, where its label is taken. With each prediction goes
// an embedding event: the window's embedding (the checkpoint's embed layer,
// docs/embedding.md) projected by the PCA stored with the checkpoint. A
// checkpoint without that block (trained before it existed) gets no
// embedding events, and the plan says why. An autoencoder checkpoint has no
// predictions: its replay is the ground truth and its latent space.

import { PHASES } from "../../episode/report.js";
import { DEFAULT_INSPECT_OPTIONS } from "../../episode/report.js";
import { loadFeaturizer } from "../../native/backend.js";
import { loadAnomalyDetector } from "../../anomaly/loader.js";
import { CHANNELS, STATS } from "../../features/channels.js";
import { buildFeatureSchema } from "../../features/schema.js";
import { DEFAULT_FEATURE_OPTIONS, type EpisodeWindows, type FeatureOptions, type Featurizer } from "../../features/types.js";
import { embeddingBlockProblem, projectEmbedding } from "../../train/embedding.js";
import type { EmbeddingEvent, PhaseEvent, PredictionEvent } from "../events.js";
import { episodeIdOf, type InferenceModel } from "./inference.js";

export interface ScheduledEvent {
  /** Seconds on the episode clock at which the event is due. */
  due_s: number;
  event: PhaseEvent | PredictionEvent | EmbeddingEvent;
}

export interface ReplayPlan {
  episode_id: string;
  /** The name the events carry (`<kind>_<mode>`). */
  model: string;
  duration_s: number;
  windows: number;
  schedule: ScheduledEvent[];
  /** Embedding events planned (0 when the checkpoint has no usable embedding block). */
  embeddings: number;
  /** Why no embedding events are planned, or null. */
  embedding_note: string | null;
}

/** Same-time events go out truth first, then the prediction, then its embedding. */
const TYPE_ORDER = { phase: 0, prediction: 1, embedding: 2 } as const;
const round6 = (v: number): number => Number(v.toPrecision(6));

export async function planReplay(episodePath: string, m: InferenceModel, featurizer?: Featurizer): Promise<ReplayPlan> {
  const w = await windowsOf(episodePath, m.options, featurizer);
  const episode_id = episodeIdOf(episodePath);
  const classes = m.model.sidecar.classes;
  const input = { n: w.n_windows, summary: w.summary, x: w.x, mask: w.mask };
  const proba = await m.model.predictArrays(input);
  const block = m.model.embedding;
  const xy = block ? projectEmbedding(block, await m.model.embedArrays(input), w.n_windows) : null;
  const schedule = phaseEvents(w, episode_id);
  for (let i = 0; i < w.n_windows; i++) {
    const row = proba.subarray(i * classes.length, (i + 1) * classes.length);
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    const probs = Object.fromEntries(classes.map((c, k) => [c, Math.min(1, Math.max(0, Math.round(row[k] * 1e6) / 1e6))]));
    const start = w.t_start_s[i];
    schedule.push({
      due_s: start + m.options.window_s,
      event: { type: "prediction", episode_id, t_s: start + m.options.window_s / 2, model: m.name, probs, predicted: classes[best] },
    });
  }
  if (xy) schedule.push(...embeddingEvents(w, episode_id, m.name, m.options.window_s, xy));
  const embedding_note = block ? null : `no embedding events for ${m.name}: ${m.model.embeddingProblem}`;
  return finish(w, episode_id, m.name, schedule, xy ? w.n_windows : 0, embedding_note);
}

/**
 * The same for an autoencoder checkpoint (`ae_<mode>.anomaly-ckpt.json`): it
 * has no phase probabilities, so the plan holds the ground truth and one
 * embedding event per window, its latent vector projected by the PCA stored
 * at training.
 */
export async function planAnomalyReplay(episodePath: string, sidecarPath: string, featurizer?: Featurizer): Promise<ReplayPlan> {
  const det = await loadAnomalyDetector(sidecarPath);
  try {
    const sc = det.sidecar;
    const name = `${sc.kind}_${sc.mode}`;
    if (!det.latent) throw new Error(`${sidecarPath}: a ${sc.kind} checkpoint has no latent space to replay (replay takes a supervised checkpoint or an ae one)`);
    const problem = embeddingBlockProblem(sc.embedding);
    if (problem !== null) throw new Error(`${sidecarPath}: ${problem}`);
    const g = sc.feature_schema as unknown as FeatureOptions;
    const options: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, window_s: g.window_s, stride_s: g.stride_s, hz: g.hz, tensors: false };
    // Replay extracts the plain schema of that geometry; a checkpoint of another schema (e.g. --baseline) would read other columns.
    const plain = buildFeatureSchema({ channels: [...CHANNELS], stats: STATS, window_s: g.window_s, stride_s: g.stride_s, hz: g.hz });
    if (plain.hash !== sc.feature_schema_hash) throw new Error(`${sidecarPath}: its feature schema (${sc.feature_schema_hash.slice(0, 12)}) is not the plain schema replay extracts (${plain.hash.slice(0, 12)}); replay takes checkpoints trained without schema options`);
    const w = await windowsOf(episodePath, options, featurizer);
    const all = sc.feature_schema.features;
    const cols = det.columns.map((c) => all.indexOf(c));
    const x = new Float32Array(w.n_windows * cols.length);
    for (let i = 0; i < w.n_windows; i++) cols.forEach((c, k) => (x[i * cols.length + k] = w.summary[i * all.length + c]));
    const latent = await det.latent({ x, n: w.n_windows, width: cols.length });
    const xy = projectEmbedding(sc.embedding!, latent, w.n_windows);
    const episode_id = episodeIdOf(episodePath);
    const schedule = [...phaseEvents(w, episode_id), ...embeddingEvents(w, episode_id, name, options.window_s, xy)];
    return finish(w, episode_id, name, schedule, w.n_windows, null);
  } finally {
    await det.dispose();
  }
}

async function windowsOf(episodePath: string, options: FeatureOptions, featurizer?: Featurizer): Promise<EpisodeWindows> {
  const f = featurizer ?? (await loadFeaturizer("native"));
  const [w] = await f.featurizeFiles([episodePath], options, DEFAULT_INSPECT_OPTIONS, 1);
  if (w.error) throw new Error(`${episodePath}: ${w.error}`);
  if (w.n_windows === 0) throw new Error(`${episodePath}: the episode has no complete window (too short?)`);
  return w;
}

function phaseEvents(w: EpisodeWindows, episode_id: string): ScheduledEvent[] {
  const out: ScheduledEvent[] = [];
  PHASES.forEach((phase, code) => {
    const t = w.phase_start_s[code];
    if (Number.isFinite(t)) out.push({ due_s: t, event: { type: "phase", episode_id, t_s: t, phase } });
  });
  return out;
}

/** One embedding event per window, due with the window's prediction (its end), stamped with its centre. */
function embeddingEvents(w: EpisodeWindows, episode_id: string, model: string, window_s: number, xy: Float32Array): ScheduledEvent[] {
  return Array.from({ length: w.n_windows }, (_, i) => ({
    due_s: w.t_start_s[i] + window_s,
    event: { type: "embedding" as const, episode_id, t_s: w.t_start_s[i] + window_s / 2, model, xy: [round6(xy[2 * i]), round6(xy[2 * i + 1])] },
  }));
}

function finish(w: EpisodeWindows, episode_id: string, model: string, schedule: ScheduledEvent[], embeddings: number, embedding_note: string | null): ReplayPlan {
  schedule.sort((a, b) => a.due_s - b.due_s || TYPE_ORDER[a.event.type] - TYPE_ORDER[b.event.type]);
  return { episode_id, model, duration_s: w.duration_s ?? 0, windows: w.n_windows, schedule, embeddings, embedding_note };
}

/**
 * Calls `send` for each event when it is due at `speed`x (0 = no waiting).
 * Stops early when `send` returns false or `signal` aborts.
 */
export async function runSchedule(schedule: ScheduledEvent[], speed: number, send: (e: ScheduledEvent) => Promise<boolean>, signal?: AbortSignal): Promise<number> {
  const t0 = performance.now();
  const first = schedule.length ? Math.min(0, schedule[0].due_s) : 0;
  let sent = 0;
  for (const item of schedule) {
    if (signal?.aborted) break;
    if (speed > 0) {
      const wait = t0 + ((item.due_s - first) * 1000) / speed - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (signal?.aborted) break;
    if (!(await send(item))) break;
    sent++;
  }
  return sent;
}
