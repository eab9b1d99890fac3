// The infected-vs-clean view of eval (issue 13, section 4): every test
// window is a positive when its true phase is anything but `clean`, and a
// model is judged by how well a score ranks the positives above the clean
// windows. Supervised models score 1 - P(clean); anomaly detectors their
// anomaly score. ROC AUC, PR AUC and TPR at 1% FPR come from aucBootstrap
// (native core, TS twin) with intervals in the eval's resampling unit,
// overall, per host and per profile; a slice without both classes is
// "untested", never averaged in.

import { PHASES, PROFILES } from "../episode/report.js";
import { aucBootstrap } from "../stats/auc.js";
import { anomalyVerdicts } from "./episodes.js";
import type { AnomalyEval, AnomalyModelEval, AnomalySlice } from "./result.js";
import { episodeGroups, type EvalSettings, type TestWindows } from "./evaluate.js";

export const CLEAN = PHASES.indexOf("clean");
/** The false-positive budget of `tpr_at_1pct_fpr`. */
export const MAX_FPR = 0.01;

/** 1 - P(clean) per window of row-major [n, PHASES.length] probabilities. */
export function infectedScore(proba: Float32Array, n: number): Float64Array {
  const k = PHASES.length;
  return Float64Array.from({ length: n }, (_, i) => 1 - proba[i * k + CLEAN]);
}

/** FPR values the stored ROC curve is sampled at: log-spaced from 1e-3 (the chart's log axis) plus a linear grid. */
function fprGrid(): number[] {
  const grid = new Set<number>([0, MAX_FPR, 1]);
  for (let i = 0; i <= 60; i++) grid.add(Number((10 ** (-3 + (3 * i) / 60)).toPrecision(4)));
  for (let i = 1; i < 50; i++) grid.add(i / 50);
  return [...grid].sort((a, b) => a - b);
}

/**
 * The ROC curve as a step function on a fixed FPR grid: at each x, the best
 * TPR over thresholds whose FPR is <= x (the convention of tpr_at_fpr, so
 * the curve at 0.01 equals the table's TPR at 1% FPR). Ties in the score
 * move together.
 */
export function rocCurve(y: ArrayLike<number>, score: ArrayLike<number>): { fpr: number[]; tpr: number[] } {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  let p = 0;
  for (let i = 0; i < n; i++) p += y[i] === 1 ? 1 : 0;
  const neg = n - p;
  const grid = fprGrid();
  if (p === 0 || neg === 0) return { fpr: grid, tpr: grid.map(() => Number.NaN) };
  const vertices: Array<[number, number]> = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; ) {
    let j = k;
    while (j < n && score[order[j]] === score[order[k]]) {
      if (y[order[j]] === 1) tp++;
      else fp++;
      j++;
    }
    k = j;
    vertices.push([fp / neg, tp / p]);
  }
  const tpr: number[] = [];
  let v = 0;
  let best = 0;
  for (const x of grid) {
    while (v < vertices.length && vertices[v][0] <= x + 1e-12) best = Math.max(best, vertices[v++][1]);
    tpr.push(Number(best.toFixed(5)));
  }
  return { fpr: grid, tpr };
}

interface Slicing {
  y: Int32Array;
  score: Float64Array;
  groups: Uint32Array;
  s: EvalSettings;
}

async function slice(key: string, rows: number[], c: Slicing): Promise<AnomalySlice> {
  const y = rows.map((r) => c.y[r]);
  const positives = y.reduce((a, v) => a + v, 0);
  const negatives = y.length - positives;
  const base = { key, n_windows: rows.length, n_episodes: new Set(rows.map((r) => c.groups[r])).size, positives, negatives };
  const reason = rows.length === 0 ? "no test windows" : negatives === 0 ? "no clean test windows" : positives === 0 ? "no infected test windows" : null;
  if (reason) return { ...base, status: "untested", reason, roc_auc: null, pr_auc: null, tpr_at_1pct_fpr: null };
  const r = await aucBootstrap(y, rows.map((i) => c.score[i]), rows.map((i) => c.groups[i]), {
    resamples: c.s.resamples,
    seed: c.s.seed,
    threads: c.s.threads ?? 0,
    unit: c.s.unit,
    maxFpr: MAX_FPR,
  });
  return { ...base, status: "tested", reason: null, roc_auc: r.roc_auc, pr_auc: r.pr_auc, tpr_at_1pct_fpr: r.tpr_at_fpr };
}

async function breakdown(keys: string[], all: readonly string[], c: Slicing): Promise<AnomalySlice[]> {
  const rowsByKey = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const rows = rowsByKey.get(k);
    if (rows) rows.push(i);
    else rowsByKey.set(k, [i]);
  });
  const out: AnomalySlice[] = [];
  for (const key of all) out.push(await slice(key, rowsByKey.get(key) ?? [], c));
  return out;
}

/**
 * The infected-vs-clean block of one model. Null when the test side lacks
 * clean or non-clean windows altogether (no ROC curve exists).
 */
export async function infectedVsClean(w: TestWindows, score: Float64Array, scoreName: string, s: EvalSettings): Promise<AnomalyEval | null> {
  if (score.length !== w.label.length) throw new Error(`${score.length} scores for ${w.label.length} test windows`);
  const c: Slicing = { y: Int32Array.from(w.label, (l) => (l === CLEAN ? 0 : 1)), score, groups: episodeGroups(w.episode_id), s };
  const overall = await slice("all", [...w.label.keys()], c);
  if (overall.status === "untested") return null;
  return {
    score: scoreName,
    n_windows: overall.n_windows,
    n_episodes: overall.n_episodes,
    positives: overall.positives,
    negatives: overall.negatives,
    roc_auc: overall.roc_auc!,
    pr_auc: overall.pr_auc!,
    tpr_at_1pct_fpr: overall.tpr_at_1pct_fpr!,
    by_host: await breakdown(w.host_id, [...new Set(w.host_id)].sort(), c),
    by_profile: await breakdown(w.profile, PROFILES, c),
    roc_curve: rocCurve(c.y, score),
  };
}

export interface AnomalyIdentity {
  model: string;
  mode: "realistic" | "oracle";
  checkpoint: string;
  schema_hash: string;
  split: AnomalyModelEval["split"];
  threshold: number | null;
  promotable: boolean | null;
}

export const NO_MACRO_F1 = "an anomaly detector gives a score, not phases: it has no macro F1 (not 0); it is judged infected vs clean only";

/** An anomaly detector on the test side: the infected-vs-clean view of its score, alarm rates and episode verdicts at its threshold. */
export async function evaluateAnomalyModel(id: AnomalyIdentity, w: TestWindows, score: Float64Array, s: EvalSettings): Promise<AnomalyModelEval> {
  if (score.length !== w.label.length) throw new Error(`${id.model}_${id.mode}: ${score.length} scores for ${w.label.length} test windows`);
  const warnings: string[] = [];
  const anomaly = await infectedVsClean(w, score, `${id.model} anomaly score`, s);
  if (!anomaly) warnings.push("the test side lacks clean or non-clean windows: no infected-vs-clean view");
  let alarm: AnomalyModelEval["alarm_rate"] = null;
  if (id.threshold !== null) {
    const t = id.threshold;
    let clean = 0, cleanHit = 0, inf = 0, infHit = 0;
    w.label.forEach((l, i) => {
      if (l === CLEAN) (clean++, (cleanHit += score[i] > t ? 1 : 0));
      else (inf++, (infHit += score[i] > t ? 1 : 0));
    });
    alarm = { clean: clean ? cleanHit / clean : null, infected: inf ? infHit / inf : null };
  } else warnings.push("the checkpoint records no alarm threshold: no alarm rates or episode verdicts");
  if (id.promotable === false) warnings.push("the checkpoint failed its gate (not promotable)");
  return {
    name: `${id.model}_${id.mode}`,
    model: id.model,
    mode: id.mode,
    kind: "anomaly",
    checkpoint: id.checkpoint,
    schema_hash: id.schema_hash,
    split: id.split,
    unit: s.unit,
    resamples: s.resamples,
    seed: s.seed,
    n_windows: w.label.length,
    n_episodes: new Set(w.episode_id).size,
    macro_f1: null,
    macro_f1_note: NO_MACRO_F1,
    threshold: id.threshold,
    promotable: id.promotable,
    alarm_rate: alarm,
    anomaly,
    episodes: id.threshold === null ? null : anomalyVerdicts(w, score, id.threshold, s),
    warnings,
  };
}
