// Episode-level verdicts in eval (issue 15, section 4): the project's
// default alert policy (src/deploy/alert.ts) run over each test episode's
// windows in time order, scored by src/deploy/evaluate.ts episodeVerdicts.
// Supervised models alert on their infected probability; an anomaly
// detector on its calibrated alarm (score above the checkpoint's threshold),
// with the same run length.

import { DEFAULT_POLICY, type AlertPolicy } from "../deploy/alert.js";
import { episodeVerdicts, type VerdictTrace } from "../deploy/evaluate.js";
import { PHASES } from "../episode/report.js";
import type { EvalSettings, TestWindows } from "./evaluate.js";
import type { EpisodeVerdicts } from "./result.js";

/** Each episode's window rows, in time order. */
function episodesInOrder(w: TestWindows): number[][] {
  const byEpisode = new Map<string, number[]>();
  w.episode_id.forEach((id, i) => {
    const rows = byEpisode.get(id);
    if (rows) rows.push(i);
    else byEpisode.set(id, [i]);
  });
  return [...byEpisode.values()].map((rows) => rows.sort((a, b) => w.t_center_s[a] - w.t_center_s[b]));
}

function traces(w: TestWindows, probs: Float32Array, k: number): VerdictTrace[] {
  return episodesInOrder(w).map((rows) => {
    const p = new Float32Array(rows.length * k);
    rows.forEach((r, j) => p.set(probs.subarray(r * k, (r + 1) * k), j * k));
    return { episode_id: w.episode_id[rows[0]], probs: p, phase: rows.map((r) => PHASES[w.label[r]] ?? null) };
  });
}

/** The default policy on a phase classifier's probabilities (row-major [n, PHASES.length]). */
export function classifierVerdicts(w: TestWindows, proba: Float32Array, s: EvalSettings, policy: AlertPolicy = DEFAULT_POLICY): EpisodeVerdicts {
  const stats = episodeVerdicts(traces(w, proba, PHASES.length), PHASES, policy, { resamples: s.resamples, seed: s.seed });
  const signal = policy.infectedPhases.map((p) => `P(${p})`).join(" + ");
  return {
    policy: { description: `alert when ${signal} >= ${policy.threshold} in ${policy.consecutive} consecutive windows`, threshold: policy.threshold, consecutive: policy.consecutive, signal },
    ...stats,
  };
}

const ALARM_CLASSES = ["normal", "alarm"];

/** The same run length on an anomaly detector's alarms (score > threshold). */
export function anomalyVerdicts(w: TestWindows, score: Float64Array, threshold: number, s: EvalSettings, consecutive = DEFAULT_POLICY.consecutive): EpisodeVerdicts {
  const alarms = new Float32Array(score.length * 2);
  score.forEach((v, i) => (alarms[i * 2 + (v > threshold ? 1 : 0)] = 1));
  const policy: AlertPolicy = { threshold: 0.5, consecutive, infectedPhases: ["alarm"] };
  const stats = episodeVerdicts(traces(w, alarms, 2), ALARM_CLASSES, policy, { resamples: s.resamples, seed: s.seed });
  return {
    policy: { description: `alert when the anomaly score > ${threshold.toPrecision(6)} (the checkpoint's threshold) in ${consecutive} consecutive windows`, threshold, consecutive, signal: "anomaly score" },
    ...stats,
  };
}
