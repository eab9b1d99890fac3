// `detect --evaluate`: how the alert policy performs on a labelled store.
//
// Per episode that reaches `infecting` (its labels say when): detected when
// an alert holds at a window ending at or after the infection start; the
// delay is that window's end minus the infection start. A false alarm is an
// alert onset (the policy going from quiet to alerting) at a window whose
// true phase is clean; clean hours are the clean windows times the stride.
// Intervals: percentile bootstrap over episodes (the unit: windows of one
// episode are correlated), with the project's xoshiro128** resample streams.

import { percentileCi, quantileSorted } from "../stats/quantiles.js";
import { Xoshiro128ss } from "../util/rng.js";
import { AlertState, type AlertPolicy } from "./alert.js";

export interface EpisodeTrace {
  episode_id: string;
  /** Episode-relative infection start; null when the episode never gets there. */
  infecting_start_s: number | null;
  /** Window end times. */
  t_s: Float64Array;
  /** Class probabilities per window, row-major [windows, classes]. */
  probs: Float32Array;
  /** True phase (class index) per window; -1 unknown. */
  phase: Int8Array;
}

export interface PolicyStats {
  infected_episodes: number;
  detected: number;
  detection_rate: number | null;
  median_delay_s: number | null;
  p95_delay_s: number | null;
  false_alarms: number;
  clean_hours: number;
  false_alarms_per_clean_hour: number | null;
}

export interface Interval {
  point: number | null;
  lo: number | null;
  hi: number | null;
}

export interface DetectEvaluation {
  policy: AlertPolicy;
  episodes: number;
  resamples: number;
  point: PolicyStats;
  detection_rate: Interval;
  median_delay_s: Interval;
  p95_delay_s: Interval;
  false_alarms_per_clean_hour: Interval;
  sweep: Array<{ threshold: number } & PolicyStats>;
}

interface EpisodeOutcome {
  infected: boolean;
  delay: number | null;
  falseAlarms: number;
  cleanWindows: number;
}

function outcome(e: EpisodeTrace, policy: AlertPolicy, classes: readonly string[]): EpisodeOutcome {
  const K = classes.length;
  const clean = classes.indexOf("clean");
  const state = new AlertState(policy, classes);
  let prev = false;
  let delay: number | null = null;
  let falseAlarms = 0;
  let cleanWindows = 0;
  for (let w = 0; w < e.t_s.length; w++) {
    const alert = state.push(w, e.probs.subarray(w * K, (w + 1) * K));
    const isClean = e.phase[w] === clean;
    if (isClean) cleanWindows++;
    if (alert && !prev && isClean) falseAlarms++;
    if (alert && delay === null && e.infecting_start_s !== null && e.t_s[w] >= e.infecting_start_s) delay = e.t_s[w] - e.infecting_start_s;
    prev = alert;
  }
  return { infected: e.infecting_start_s !== null, delay, falseAlarms, cleanWindows };
}

function aggregate(outcomes: EpisodeOutcome[], strideS: number): PolicyStats {
  let infected = 0;
  let fa = 0;
  let cleanW = 0;
  const delays: number[] = [];
  for (const o of outcomes) {
    if (o.infected) infected++;
    if (o.infected && o.delay !== null) delays.push(o.delay);
    fa += o.falseAlarms;
    cleanW += o.cleanWindows;
  }
  delays.sort((a, b) => a - b);
  const cleanHours = (cleanW * strideS) / 3600;
  return {
    infected_episodes: infected,
    detected: delays.length,
    detection_rate: infected === 0 ? null : delays.length / infected,
    median_delay_s: delays.length === 0 ? null : quantileSorted(delays, 0.5),
    p95_delay_s: delays.length === 0 ? null : quantileSorted(delays, 0.95),
    false_alarms: fa,
    clean_hours: cleanHours,
    false_alarms_per_clean_hour: cleanHours === 0 ? null : fa / cleanHours,
  };
}

export function evaluatePolicy(
  traces: EpisodeTrace[],
  classes: readonly string[],
  policy: AlertPolicy,
  strideS: number,
  o: { resamples: number; seed: number; ci?: number; thresholds?: number[] },
): DetectEvaluation {
  const outcomes = traces.map((t) => outcome(t, policy, classes));
  const point = aggregate(outcomes, strideS);
  const draws = { rate: [] as number[], med: [] as number[], p95: [] as number[], fa: [] as number[] };
  const n = outcomes.length;
  for (let r = 0; r < o.resamples && n > 0; r++) {
    const rng = Xoshiro128ss.forResample(o.seed, r);
    const sample: EpisodeOutcome[] = [];
    for (let i = 0; i < n; i++) sample.push(outcomes[rng.index(n)]);
    const s = aggregate(sample, strideS);
    draws.rate.push(s.detection_rate ?? Number.NaN);
    draws.med.push(s.median_delay_s ?? Number.NaN);
    draws.p95.push(s.p95_delay_s ?? Number.NaN);
    draws.fa.push(s.false_alarms_per_clean_hour ?? Number.NaN);
  }
  const ci = o.ci ?? 0.95;
  const iv = (point: number | null, values: number[]): Interval => {
    const [lo, hi] = percentileCi(values, ci);
    return { point, lo, hi };
  };
  const thresholds = o.thresholds ?? Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);
  const sweep = thresholds.map((threshold) => ({ threshold, ...aggregate(traces.map((t) => outcome(t, { ...policy, threshold }, classes)), strideS) }));
  return {
    policy,
    episodes: n,
    resamples: o.resamples,
    point,
    detection_rate: iv(point.detection_rate, draws.rate),
    median_delay_s: iv(point.median_delay_s, draws.med),
    p95_delay_s: iv(point.p95_delay_s, draws.p95),
    false_alarms_per_clean_hour: iv(point.false_alarms_per_clean_hour, draws.fa),
    sweep,
  };
}
