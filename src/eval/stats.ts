// Evaluation statistics: confusion matrix and F1 point estimates (plain
// TypeScript, scikit-learn's conventions), and percentile bootstrap
// intervals for macro / per-class F1 and for the paired difference of two
// models. The bootstraps run natively by default (crates/cis490-stats via
// the addon, parallel); `engine: "reference"` runs the single-threaded
// TypeScript twin (src/reference/stats.ts), which gives identical numbers.
// Algorithm and conventions: docs/statistics.md.

import { loadCis490Addon } from "../native/addon.js";

export type Unit = "episode" | "window";
export type StatsEngine = "native" | "reference";

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** RNG seed, an integer in [0, 2^32) (default 0). */
  seed?: number;
  /** Worker threads for the native engine; 0 = all cores (default). Results do not depend on it. */
  threads?: number;
  /** Central coverage of the percentile interval (default 0.95). */
  ci?: number;
  /** Resampling unit; default "episode" when groups are given, else "window". */
  unit?: Unit;
  /** Also return every resample's value (macro F1, or the paired difference). */
  keepResamples?: boolean;
  /** Who computes it (default "native"). */
  engine?: StatsEngine;
  /**
   * The classes macro F1 averages over (sorted, distinct). Absent or null:
   * scikit-learn's default, the labels present in truth or prediction (in
   * each resample). Given: exactly these, like `f1_score(labels=...)`: a
   * listed class absent from truth and prediction scores 0; a label outside
   * the list is not averaged, but its windows still count as false
   * positives / negatives of the listed classes.
   */
  labels?: readonly number[] | null;
}

/** A point estimate and its percentile interval (null: no resample gave a finite value). */
export interface Interval {
  point: number;
  lo: number | null;
  hi: number | null;
}

export interface ClassInterval extends Interval {
  label: number;
  /** Resamples in which the class occurs (in truth or prediction); only those enter its interval. */
  resamplesPresent: number;
}

export interface BootstrapF1Result {
  unit: Unit;
  /** Number of resampling units (episodes or windows); each resample draws this many. */
  units: number;
  windows: number;
  resamples: number;
  seed: number;
  ci: number;
  /** The classes averaged over: `options.labels`, or the sorted union of the labels in truth and prediction. */
  labels: number[];
  macroF1: Interval;
  perClass: ClassInterval[];
  resampleMacroF1?: number[];
}

export interface PairedBootstrapResult {
  unit: Unit;
  units: number;
  windows: number;
  resamples: number;
  seed: number;
  ci: number;
  macroF1A: Interval;
  macroF1B: Interval;
  /** Macro F1 of a minus macro F1 of b. */
  diff: Interval;
  /** The difference's interval lies strictly above or strictly below 0. */
  excludesZero: boolean;
  /** Fraction of resamples with diff <= 0 (one-sided bootstrap "p-value" for a > b; not a calibrated test). */
  fracDiffLeZero: number;
  resampleDiff?: number[];
}

export type Labels = Int32Array | ArrayLike<number>;
export type Groups = Uint32Array | ArrayLike<number>;

/** Options with defaults applied and ranges checked (the native side checks them again). */
export interface ResolvedOptions {
  resamples: number;
  seed: number;
  threads: number;
  ci: number;
  unit: Unit;
  keepResamples: boolean;
  /** Fixed class list, or null for the union of the labels present. */
  labels: number[] | null;
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;

export function resolveOptions(options: BootstrapOptions, hasGroups: boolean): ResolvedOptions {
  const { resamples = 1000, seed = 0, threads = 0, ci = 0.95, unit, keepResamples = false } = options;
  const labels = options.labels == null ? null : checkLabelList(options.labels);
  if (!isInt(resamples, 1, 10_000_000)) throw new Error(`resamples must be an integer in 1..10000000, got ${resamples}`);
  if (!isInt(seed, 0, 0xffffffff)) throw new Error(`seed must be an integer in [0, 2^32), got ${seed}`);
  if (!isInt(threads, 0, 256)) throw new Error(`threads must be an integer in 0..256, got ${threads}`);
  if (!(typeof ci === "number" && ci > 0 && ci < 1)) throw new Error(`ci must be in (0, 1), got ${ci}`);
  if (unit !== undefined && unit !== "episode" && unit !== "window") throw new Error(`unit must be "episode" or "window", got ${String(unit)}`);
  if (unit === "episode" && !hasGroups) throw new Error('unit "episode" needs groups (the episode of each window)');
  return { resamples, seed, threads, ci, unit: unit ?? (hasGroups ? "episode" : "window"), keepResamples, labels };
}

/** A fixed class list: non-empty, non-negative integers, sorted and distinct. */
export function checkLabelList(labels: readonly number[]): number[] {
  if (labels.length === 0) throw new Error("labels must list at least one class");
  labels.forEach((l, i) => {
    if (!isInt(l, 0, 0x7fffffff)) throw new Error(`labels must be non-negative integers: labels[${i}] = ${l}`);
    if (i > 0 && labels[i - 1] >= l) throw new Error(`labels must be sorted and distinct: labels[${i - 1}] = ${labels[i - 1]}, labels[${i}] = ${l}`);
  });
  return [...labels];
}

/** Labels as an Int32Array; every value must be an integer in [0, 2^31). */
export function toLabels(v: Labels, what: string): Int32Array {
  if (v instanceof Int32Array) {
    const i = v.findIndex((x) => x < 0);
    if (i >= 0) throw new Error(`labels must be non-negative: ${what}[${i}] = ${v[i]}`);
    return v;
  }
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!isInt(v[i], 0, 0x7fffffff)) throw new Error(`labels must be non-negative integers: ${what}[${i}] = ${v[i]}`);
    out[i] = v[i];
  }
  return out;
}

export function toGroups(v: Groups, what: string): Uint32Array {
  if (v instanceof Uint32Array) return v;
  const out = new Uint32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!isInt(v[i], 0, 0xffffffff)) throw new Error(`groups must be integers in [0, 2^32): ${what}[${i}] = ${v[i]}`);
    out[i] = v[i];
  }
  return out;
}

/** Checks lengths and emptiness; returns the arrays in typed form. */
export function checkInputs(yTrue: Labels, preds: [string, Labels][], groups: Groups | null | undefined): { t: Int32Array; p: Int32Array[]; g: Uint32Array | null } {
  const t = toLabels(yTrue, "yTrue");
  if (t.length === 0) throw new Error("no windows: yTrue is empty");
  const p = preds.map(([name, v]) => {
    if (v.length !== t.length) throw new Error(`length mismatch: yTrue has ${t.length} windows, ${name} has ${v.length}`);
    return toLabels(v, name);
  });
  let g: Uint32Array | null = null;
  if (groups !== null && groups !== undefined) {
    if (groups.length !== t.length) throw new Error(`length mismatch: yTrue has ${t.length} windows, groups has ${groups.length}`);
    g = toGroups(groups, "groups");
  }
  return { t, p, g };
}

// ---------------------------------------------------------------------------
// Point estimates (what sklearn's confusion_matrix / f1_score return).

export interface ConfusionMatrix {
  /** Sorted union of the fixed class list (if any) and the labels in truth and prediction: every window is counted. */
  labels: number[];
  /** counts[i][j]: windows of true labels[i] predicted as labels[j]. */
  counts: number[][];
}

export interface ClassScore {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  /** True instances of the class. */
  support: number;
}

export interface F1Scores {
  /** The classes scored: the fixed list, or the union of truth and prediction. */
  labels: number[];
  perClass: ClassScore[];
  /** Unweighted mean of the per-class F1 (NaN for no windows, like sklearn). */
  macroF1: number;
}

export function labelUnion(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number[] {
  const set = new Set<number>();
  for (let i = 0; i < yTrue.length; i++) set.add(yTrue[i]);
  for (let i = 0; i < yPred.length; i++) set.add(yPred[i]);
  return [...set].sort((a, b) => a - b);
}

export function confusionMatrix(yTrue: Labels, yPred: Labels, fixed: readonly number[] | null = null): ConfusionMatrix {
  if (yTrue.length !== yPred.length) throw new Error(`length mismatch: yTrue has ${yTrue.length} windows, yPred has ${yPred.length}`);
  const t = toLabels(yTrue, "yTrue");
  const p = toLabels(yPred, "yPred");
  const labels = fixed === null ? labelUnion(t, p) : labelUnion(t, p).concat(checkLabelList(fixed)).filter((l, i, a) => a.indexOf(l) === i).sort((x, y) => x - y);
  const at = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < t.length; i++) counts[at.get(t[i])!][at.get(p[i])!]++;
  return { labels, counts };
}

/**
 * F1 from a class's true positives and its truth / prediction totals:
 * 2tp / (2tp + fp + fn), where 2tp + fp + fn = nTrue + nPred. NaN when the
 * class occurs in neither. The same expression as the Rust crate and the
 * twin, so all three agree bit for bit.
 */
export function f1FromCounts(tp: number, nTrue: number, nPred: number): number {
  const denom = nTrue + nPred;
  return denom === 0 ? NaN : (2 * tp) / denom;
}

/**
 * Per-class precision / recall / F1 (zero division -> 0) and macro F1 over
 * the label union, or over the fixed list `fixed` (sklearn's
 * `f1_score(labels=fixed)`: an absent listed class scores 0).
 */
export function f1Scores(yTrue: Labels, yPred: Labels, fixed: readonly number[] | null = null): F1Scores {
  const { labels: all, counts } = confusionMatrix(yTrue, yPred, fixed);
  const k = all.length;
  const labels = fixed === null ? all : [...fixed];
  const perClass = labels.map((label) => {
    const c = all.indexOf(label);
    const tp = counts[c][c];
    let nTrue = 0;
    let nPred = 0;
    for (let j = 0; j < k; j++) {
      nTrue += counts[c][j];
      nPred += counts[j][c];
    }
    return {
      label,
      precision: nPred === 0 ? 0 : tp / nPred,
      recall: nTrue === 0 ? 0 : tp / nTrue,
      f1: f1FromCounts(tp, nTrue, nPred) || 0, // NaN only for a listed class absent from both: sklearn scores it 0
      support: nTrue,
    };
  });
  let sum = 0;
  for (const s of perClass) sum += s.f1;
  return { labels, perClass, macroF1: labels.length === 0 ? NaN : sum / labels.length };
}

// ---------------------------------------------------------------------------
// Bootstraps.


function nativeOptions(o: ResolvedOptions): string {
  return JSON.stringify({ resamples: o.resamples, seed: o.seed, threads: o.threads, ci: o.ci, unit: o.unit, keepResamples: o.keepResamples, labels: o.labels });
}

/**
 * Macro and per-class F1 with percentile bootstrap intervals. `groups` is
 * the episode of each window (any integer ids); with groups the default
 * unit is the episode (cluster bootstrap).
 */
export async function bootstrapF1(yTrue: Labels, yPred: Labels, groups?: Groups | null, options: BootstrapOptions = {}): Promise<BootstrapF1Result> {
  const { t, p, g } = checkInputs(yTrue, [["yPred", yPred]], groups);
  const o = resolveOptions(options, g !== null);
  if ((options.engine ?? "native") === "reference") {
    const ref = await import("../reference/stats.js");
    return ref.bootstrapF1Reference(t, p[0], g, o);
  }
  return JSON.parse(await loadCis490Addon().bootstrapF1(t, p[0], g, nativeOptions(o))) as BootstrapF1Result;
}

/** Paired bootstrap of macro F1(a) - macro F1(b) on the same windows and the same resamples. */
export async function pairedBootstrap(yTrue: Labels, predA: Labels, predB: Labels, groups?: Groups | null, options: BootstrapOptions = {}): Promise<PairedBootstrapResult> {
  const { t, p, g } = checkInputs(yTrue, [["predA", predA], ["predB", predB]], groups);
  const o = resolveOptions(options, g !== null);
  if ((options.engine ?? "native") === "reference") {
    const ref = await import("../reference/stats.js");
    return ref.pairedBootstrapReference(t, p[0], p[1], g, o);
  }
  return JSON.parse(await loadCis490Addon().pairedBootstrap(t, p[0], p[1], g, nativeOptions(o))) as PairedBootstrapResult;
}
