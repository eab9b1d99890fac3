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
import { AlertState, checkPolicy, type AlertPolicy } from "./alert.js";

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

/**
 * Each resample draws as many episodes as there are, with replacement, on
 * the project's xoshiro128** resample streams; returns, per statistic, its
 * value in every resample (NaN where `stat` gives null).
 */
function resampleEpisodes<T>(items: T[], resamples: number, seed: number, stat: (sample: T[]) => Array<number | null>): number[][] {
  const n = items.length;
  const columns: number[][] = [];
  for (let r = 0; r < resamples && n > 0; r++) {
    const rng = Xoshiro128ss.forResample(seed, r);
    const sample: T[] = [];
    for (let i = 0; i < n; i++) sample.push(items[rng.index(n)]);
    stat(sample).forEach((v, j) => (columns[j] ??= []).push(v ?? Number.NaN));
  }
  return columns.length > 0 ? columns : Array.from({ length: stat([]).length }, () => []);
}

function interval(point: number | null, values: number[], ci: number): Interval {
  if (point === null) return { point, lo: null, hi: null };
  const [lo, hi] = percentileCi(values, ci);
  return { point, lo, hi };
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
  const n = outcomes.length;
  const [rate, med, p95, fa] = resampleEpisodes(outcomes, o.resamples, o.seed, (sample) => {
    const s = aggregate(sample, strideS);
    return [s.detection_rate, s.median_delay_s, s.p95_delay_s, s.false_alarms_per_clean_hour];
  });
  const iv = (point: number | null, values: number[]): Interval => interval(point, values, o.ci ?? 0.95);
  const thresholds = o.thresholds ?? Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);
  const sweep = thresholds.map((threshold) => ({ threshold, ...aggregate(traces.map((t) => outcome(t, { ...policy, threshold }, classes)), strideS) }));
  return {
    policy,
    episodes: n,
    resamples: o.resamples,
    point,
    detection_rate: iv(point.detection_rate, rate),
    median_delay_s: iv(point.median_delay_s, med),
    p95_delay_s: iv(point.p95_delay_s, p95),
    false_alarms_per_clean_hour: iv(point.false_alarms_per_clean_hour, fa),
    sweep,
  };
}

// Episode-level verdicts (eval, issue 15): the truth is the episode's own
// labels, the verdict the alert policy run over its windows in time order.
// An infected episode (with infecting / infected_running windows) is detected
// when the alert holds at one of those windows, so before `dormant` (or
// `failed`); an episode without them is a negative, and any alert in it a
// false positive. Every episode's pre-infection windows (clean, armed) give
// a second false-alarm rate that exists even when no episode is a negative.

const INFECTED_TRUTH = new Set(["infecting", "infected_running"]);
const PRE_INFECTION_TRUTH = new Set(["clean", "armed"]);

export interface VerdictTrace {
  episode_id: string;
  /** Class probabilities per window in time order, row-major [windows, classes]. */
  probs: Float32Array;
  /** True phase name per window (null: unknown). */
  phase: Array<string | null>;
}

export interface EpisodeVerdict {
  positive: boolean;
  detected: boolean;
  alarmed: boolean;
  hasPreInfection: boolean;
  preInfectionAlarm: boolean;
}

export function episodeVerdict(e: VerdictTrace, policy: AlertPolicy, classes: readonly string[]): EpisodeVerdict {
  const K = classes.length;
  const state = new AlertState(policy, classes);
  const v: EpisodeVerdict = { positive: false, detected: false, alarmed: false, hasPreInfection: false, preInfectionAlarm: false };
  e.phase.forEach((phase, w) => {
    const alert = state.push(w, e.probs.subarray(w * K, (w + 1) * K));
    const infected = phase !== null && INFECTED_TRUTH.has(phase);
    const before = phase !== null && PRE_INFECTION_TRUTH.has(phase);
    v.positive ||= infected;
    v.hasPreInfection ||= before;
    v.alarmed ||= alert;
    v.detected ||= alert && infected;
    v.preInfectionAlarm ||= alert && before;
  });
  return v;
}

export interface EpisodeVerdictStats {
  episodes: number;
  positives: number;
  detected: number;
  /** Detected / positives, with its episode-bootstrap interval (point null: no positive episode). */
  tpr: Interval;
  negatives: number;
  false_positives: number;
  fpr: Interval;
  pre_infection: { episodes: number; alarmed: number; rate: Interval };
  resamples: number;
}

function verdictCounts(vs: EpisodeVerdict[]) {
  let positives = 0, detected = 0, negatives = 0, falsePositives = 0, pre = 0, preAlarmed = 0;
  for (const v of vs) {
    if (v.positive) (positives++, (detected += v.detected ? 1 : 0));
    else (negatives++, (falsePositives += v.alarmed ? 1 : 0));
    if (v.hasPreInfection) (pre++, (preAlarmed += v.preInfectionAlarm ? 1 : 0));
  }
  const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
  return { positives, detected, negatives, falsePositives, pre, preAlarmed, tpr: ratio(detected, positives), fpr: ratio(falsePositives, negatives), preRate: ratio(preAlarmed, pre) };
}

/** Episode TPR, FPR and pre-infection alarm rate of the policy, with percentile episode-bootstrap intervals. */
export function episodeVerdicts(traces: VerdictTrace[], classes: readonly string[], policy: AlertPolicy, o: { resamples: number; seed: number; ci?: number }): EpisodeVerdictStats {
  checkPolicy(policy, classes);
  const verdicts = traces.map((t) => episodeVerdict(t, policy, classes));
  const c = verdictCounts(verdicts);
  const [tpr, fpr, pre] = resampleEpisodes(verdicts, o.resamples, o.seed, (sample) => {
    const s = verdictCounts(sample);
    return [s.tpr, s.fpr, s.preRate];
  });
  const ci = o.ci ?? 0.95;
  return {
    episodes: verdicts.length,
    positives: c.positives,
    detected: c.detected,
    tpr: interval(c.tpr, tpr, ci),
    negatives: c.negatives,
    false_positives: c.falsePositives,
    fpr: interval(c.fpr, fpr, ci),
    pre_infection: { episodes: c.pre, alarmed: c.preAlarmed, rate: interval(c.preRate, pre, ci) },
    resamples: o.resamples,
  };
}
