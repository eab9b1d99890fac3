// Point estimates with scikit-learn's conventions (confusion matrix,
// per-class and macro F1, optionally over a fixed label list), and the input
// checks every statistic applies first. Plain TypeScript: cheap, and used by
// training (validation F1) as well as evaluation.

import type { BootstrapOptions, Groups, Labels, ResolvedOptions } from "./types.js";

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
