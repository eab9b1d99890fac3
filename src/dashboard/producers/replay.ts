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
// embedding events, and the plan says why.

import { PHASES } from "../../episode/report.js";
import { DEFAULT_INSPECT_OPTIONS } from "../../episode/report.js";
import { loadFeaturizer } from "../../native/backend.js";
import type { Featurizer } from "../../features/types.js";
import { projectEmbedding } from "../../train/embedding.js";
import type { EmbeddingEvent, PhaseEvent, PredictionEvent } from "../events.js";
import { episodeIdOf, type InferenceModel } from "./inference.js";

export interface ScheduledEvent {
  /** Seconds on the episode clock at which the event is due. */
  due_s: number;
  event: PhaseEvent | PredictionEvent | EmbeddingEvent;
}

export interface ReplayPlan {
  episode_id: string;
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
  const f = featurizer ?? (await loadFeaturizer("native"));
  const [w] = await f.featurizeFiles([episodePath], m.options, DEFAULT_INSPECT_OPTIONS, 1);
  if (w.error) throw new Error(`${episodePath}: ${w.error}`);
  if (w.n_windows === 0) throw new Error(`${episodePath}: the episode has no complete window (too short?)`);
  const episode_id = episodeIdOf(episodePath);
  const classes = m.model.sidecar.classes;
  const input = { n: w.n_windows, summary: w.summary, x: w.x, mask: w.mask };
  const proba = await m.model.predictArrays(input);
  const block = m.model.embedding;
  const xy = block ? projectEmbedding(block, await m.model.embedArrays(input), w.n_windows) : null;
  const schedule: ScheduledEvent[] = [];
  PHASES.forEach((phase, code) => {
    const t = w.phase_start_s[code];
    if (Number.isFinite(t)) schedule.push({ due_s: t, event: { type: "phase", episode_id, t_s: t, phase } });
  });
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
    if (xy) {
      schedule.push({
        due_s: start + m.options.window_s,
        event: { type: "embedding", episode_id, t_s: start + m.options.window_s / 2, model: m.name, xy: [round6(xy[2 * i]), round6(xy[2 * i + 1])] },
      });
    }
  }
  schedule.sort((a, b) => a.due_s - b.due_s || TYPE_ORDER[a.event.type] - TYPE_ORDER[b.event.type]);
  const embedding_note = block ? null : `no embedding events for ${m.name}: ${m.model.embeddingProblem}`;
  return { episode_id, duration_s: w.duration_s ?? 0, windows: w.n_windows, schedule, embeddings: xy ? w.n_windows : 0, embedding_note };
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
