// `publish replay`: one episode as the model would have seen it live. The
// episode's windows are extracted on demand by the native featurizer (no
// tensor shards), the checkpoint predicts each window, and the events go out
// on the episode's own clock (t_wall_ns, seconds since the first label),
// divided by `speed`: a phase event when the ground-truth phase starts, a
// prediction event once a window's data is complete (its end), stamped with
// the window's centre, where its label is taken.
//
// No embedding events: the engines expose class probabilities only, not the
// penultimate layer, and no PCA is stored with checkpoints.

import { PHASES } from "../../episode/report.js";
import { DEFAULT_INSPECT_OPTIONS } from "../../episode/report.js";
import { loadFeaturizer } from "../../native/backend.js";
import type { Featurizer } from "../../features/types.js";
import type { PhaseEvent, PredictionEvent } from "../events.js";
import { episodeIdOf, type InferenceModel } from "./inference.js";

export interface ScheduledEvent {
  /** Seconds on the episode clock at which the event is due. */
  due_s: number;
  event: PhaseEvent | PredictionEvent;
}

export interface ReplayPlan {
  episode_id: string;
  duration_s: number;
  windows: number;
  schedule: ScheduledEvent[];
}

export async function planReplay(episodePath: string, m: InferenceModel, featurizer?: Featurizer): Promise<ReplayPlan> {
  const f = featurizer ?? (await loadFeaturizer("native"));
  const [w] = await f.featurizeFiles([episodePath], m.options, DEFAULT_INSPECT_OPTIONS, 1);
  if (w.error) throw new Error(`${episodePath}: ${w.error}`);
  if (w.n_windows === 0) throw new Error(`${episodePath}: the episode has no complete window (too short?)`);
  const episode_id = episodeIdOf(episodePath);
  const classes = m.model.sidecar.classes;
  const proba = await m.model.predictArrays({ n: w.n_windows, summary: w.summary, x: w.x, mask: w.mask });
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
  }
  schedule.sort((a, b) => a.due_s - b.due_s || (a.event.type === "phase" ? -1 : 1));
  return { episode_id, duration_s: w.duration_s ?? 0, windows: w.n_windows, schedule };
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
