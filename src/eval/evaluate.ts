// Turns one model's test-window predictions into a ModelEval: macro and
// per-class F1 with bootstrap intervals, breakdowns per profile and per host
// (profiles without test windows are "untested", never averaged in),
// per-phase precision/recall, and episode-level detection.

import { PHASES, PROFILES } from "../episode/report.js";
import type { BreakdownRow, DetectionSummary, ModelEval, PairwiseRow } from "./result.js";
import { bootstrapF1, pairedBootstrap } from "../stats/bootstrap.js";
import { confusionMatrix, f1Scores } from "../stats/metrics.js";
import type { BootstrapOptions, Interval } from "../stats/types.js";
import { classifierVerdicts } from "./episodes.js";
import { infectedScore, infectedVsClean } from "./infected.js";

/** The test side of a split, one entry per window, in a fixed order shared by every model. */
export interface TestWindows {
  episode_id: string[];
  host_id: string[];
  profile: string[];
  /** True phase code per window. */
  label: Int32Array;
  t_center_s: Float64Array;
  /** Episode-relative start of `infecting` for the window's episode (NaN when the episode never reaches it). */
  infecting_start_s: Float64Array;
}

export interface EvalSettings {
  resamples: number;
  seed: number;
  unit: "episode" | "window";
  threads?: number;
  /**
   * The class ids macro F1 averages over, the same for every model compared
   * (eval passes the union of their trained label sets). Null or absent:
   * scikit-learn's default, the labels present in truth or prediction.
   */
  labels?: number[] | null;
}

const INFECTED = new Set([PHASES.indexOf("infecting"), PHASES.indexOf("infected_running")]);

/** Dense episode index per window (the bootstrap's resampling groups). */
export function episodeGroups(episodeIds: string[]): Uint32Array {
  const index = new Map<string, number>();
  const groups = new Uint32Array(episodeIds.length);
  episodeIds.forEach((id, i) => {
    let g = index.get(id);
    if (g === undefined) index.set(id, (g = index.size));
    groups[i] = g;
  });
  return groups;
}

function bootstrapOptions(s: EvalSettings): BootstrapOptions {
  return { resamples: s.resamples, seed: s.seed, unit: s.unit, threads: s.threads ?? 0, labels: s.labels ?? null };
}

function pick<T extends Int32Array | Uint32Array>(values: T, rows: number[]): T {
  const out = new (values.constructor as { new (n: number): T })(rows.length);
  rows.forEach((r, i) => (out[i] = values[r]));
  return out;
}

async function breakdown(keys: string[], all: readonly string[], w: TestWindows, pred: Int32Array, groups: Uint32Array, s: EvalSettings): Promise<BreakdownRow[]> {
  const rowsByKey = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const list = rowsByKey.get(k) ?? [];
    list.push(i);
    rowsByKey.set(k, list);
  });
  const out: BreakdownRow[] = [];
  for (const key of all) {
    const rows = rowsByKey.get(key);
    if (!rows) {
      out.push({ key, status: "untested", n_windows: 0, n_episodes: 0, macro_f1: null });
      continue;
    }
    const sub = await bootstrapF1(pick(w.label, rows), pick(pred, rows), pick(groups, rows), bootstrapOptions(s));
    out.push({ key, status: "tested", n_windows: rows.length, n_episodes: new Set(rows.map((r) => groups[r])).size, macro_f1: sub.macroF1 });
  }
  return out;
}

/** Episodes that reach infecting/infected_running; detected when such a window is predicted as either. */
export function detection(w: TestWindows, pred: Int32Array): DetectionSummary {
  const firstHit = new Map<string, number>();
  const infected = new Set<string>();
  for (let i = 0; i < pred.length; i++) {
    if (!INFECTED.has(w.label[i])) continue;
    const ep = w.episode_id[i];
    infected.add(ep);
    if (INFECTED.has(pred[i])) {
      const delay = w.t_center_s[i] - w.infecting_start_s[i];
      const prev = firstHit.get(ep);
      if (prev === undefined || delay < prev) firstHit.set(ep, delay);
    }
  }
  const delays = [...firstHit.values()].filter(Number.isFinite).sort((a, b) => a - b);
  const mid = delays.length >> 1;
  const median = delays.length === 0 ? null : delays.length % 2 ? delays[mid] : (delays[mid - 1] + delays[mid]) / 2;
  return {
    infected_episodes: infected.size,
    detected: firstHit.size,
    rate: infected.size === 0 ? null : firstHit.size / infected.size,
    median_delay_s: median,
  };
}

async function detectorViews(w: TestWindows, proba: Float32Array | undefined, s: EvalSettings, warnings: string[]): Promise<Pick<ModelEval, "anomaly" | "episodes">> {
  if (!proba) return { anomaly: null, episodes: null };
  if (proba.length !== w.label.length * PHASES.length) throw new Error(`${proba.length} probabilities for ${w.label.length} windows x ${PHASES.length} classes`);
  const anomaly = await infectedVsClean(w, infectedScore(proba, w.label.length), "1 - P(clean)", s);
  if (!anomaly) warnings.push("the test side lacks clean or non-clean windows: no infected-vs-clean view");
  return { anomaly, episodes: classifierVerdicts(w, proba, s) };
}

export interface ModelIdentity {
  model: string;
  mode: "realistic" | "oracle";
  checkpoint: string;
  schema_hash: string;
  split: ModelEval["split"];
  trained_labels: ModelEval["trained_labels"];
}

/**
 * With `proba` (row-major [n, PHASES.length]) the result also holds the
 * infected-vs-clean view of 1 - P(clean) and the default alert policy's
 * episode verdicts; without, both are null.
 */
export async function evaluateModel(id: ModelIdentity, w: TestWindows, pred: Int32Array, s: EvalSettings, proba?: Float32Array): Promise<ModelEval> {
  if (pred.length !== w.label.length) throw new Error(`${id.model}_${id.mode}: ${pred.length} predictions for ${w.label.length} test windows`);
  if (pred.length === 0) throw new Error("the test split has no windows");
  const groups = episodeGroups(w.episode_id);
  const boot = await bootstrapF1(w.label, pred, groups, bootstrapOptions(s));
  const fixed = s.labels ?? null;
  const points = f1Scores(w.label, pred, fixed);
  const cm = confusionMatrix(w.label, pred, fixed);
  const name = (label: number) => PHASES[label] ?? `class-${label}`;
  const warnings: string[] = [];
  if (fixed) {
    const listed = new Set(fixed);
    const outside = new Map<number, number>();
    for (const l of w.label) if (!listed.has(l)) outside.set(l, (outside.get(l) ?? 0) + 1);
    if (outside.size > 0) {
      const detail = [...outside].sort((a, b) => a[0] - b[0]).map(([l, n]) => `${name(l)} (${n})`).join(", ");
      warnings.push(`test windows whose true phase is outside the label set, not scored as a class (they count as false positives of what they are predicted as): ${detail}`);
    }
  }
  const predicted = new Set(pred);
  if (predicted.size === 1) warnings.push(`predicts a single class (${name(pred[0])}) for every test window`);
  const missing = points.labels.filter((l) => !predicted.has(l));
  if (missing.length > 0 && predicted.size > 1) warnings.push(`never predicts: ${missing.map(name).join(", ")}`);
  return {
    name: `${id.model}_${id.mode}`,
    ...id,
    unit: s.unit,
    resamples: s.resamples,
    seed: s.seed,
    n_windows: pred.length,
    n_episodes: new Set(w.episode_id).size,
    macro_f1: boot.macroF1,
    per_class: points.perClass.map((c, i) => ({
      label: c.label,
      name: name(c.label),
      f1: boot.perClass[i] as Interval,
      precision: c.precision,
      recall: c.recall,
      support: c.support,
    })),
    confusion: { labels: cm.labels.map(name), matrix: cm.counts },
    per_profile: await breakdown(w.profile, PROFILES, w, pred, groups, s),
    per_host: await breakdown(w.host_id, [...new Set(w.host_id)].sort(), w, pred, groups, s),
    per_phase: points.perClass.map((c) => ({ phase: name(c.label), precision: c.precision, recall: c.recall, support: c.support })),
    detection: detection(w, pred),
    ...(await detectorViews(w, proba, s, warnings)),
    drop_noisy: null,
    warnings,
  };
}

/** Paired bootstrap for every pair of models, on the same resamples. */
export async function compareModels(w: TestWindows, preds: Map<string, Int32Array>, s: EvalSettings): Promise<PairwiseRow[]> {
  const groups = episodeGroups(w.episode_id);
  const names = [...preds.keys()];
  const rows: PairwiseRow[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const r = await pairedBootstrap(w.label, preds.get(names[i])!, preds.get(names[j])!, groups, bootstrapOptions(s));
      rows.push({ a: names[i], b: names[j], diff: r.diff, excludes_zero: r.excludesZero });
    }
  }
  return rows;
}
