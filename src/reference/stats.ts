// The plain TypeScript twin of crates/cis490-stats' bootstraps
// (docs/statistics.md): the same RNG (xoshiro128** seeded per resample),
// the same units, the same arithmetic in the same order, one thread. Used by
// parity tests and benchmarks only; src/native/stats.ts runs the native crate.

import { aucBootstrapReference } from "./auc.js";
import type { BootstrapF1Result, ClassInterval, Interval, PairedBootstrapResult, ResolvedOptions, StatsBackend } from "../stats/types.js";

import { Xoshiro128ss } from "../util/rng.js";
import { percentileCi } from "../stats/quantiles.js";

/** Per-unit confusion contributions (CSR): unit u adds counts[j] to cell cells[j] for j in offsets[u]..offsets[u+1]. */
interface Units {
  offsets: Uint32Array;
  cells: Uint32Array;
  counts: Uint32Array;
}

/**
 * Units are the windows in input order, or the episodes in ascending group
 * id; `cellsOf(i)` lists the accumulator cells window i contributes to.
 */
function buildUnits(n: number, groups: Uint32Array | null, unit: "episode" | "window", cellsOf: (i: number) => number[], cellSpace: number): Units {
  if (unit === "window") {
    const offsets = new Uint32Array(n + 1);
    const cells: number[] = [];
    for (let i = 0; i < n; i++) {
      cells.push(...cellsOf(i));
      offsets[i + 1] = cells.length;
    }
    return { offsets, cells: Uint32Array.from(cells), counts: new Uint32Array(cells.length).fill(1) };
  }
  // Rank the group ids (ascending), sort (rank, cell) keys, then
  // run-length encode per rank. rank * cellSpace + cell stays far below 2^53.
  const ids = Array.from(new Set(groups!)).sort((x, y) => x - y);
  const rank = new Map(ids.map((id, i) => [id, i]));
  const keys: number[] = [];
  for (let i = 0; i < n; i++) for (const c of cellsOf(i)) keys.push(rank.get(groups![i])! * cellSpace + c);
  const sorted = Float64Array.from(keys).sort();
  const offsets: number[] = [0];
  const cells: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    const group = Math.floor(sorted[i] / cellSpace);
    cells.push(sorted[i] - group * cellSpace);
    counts.push(j - i);
    if (j === sorted.length || Math.floor(sorted[j] / cellSpace) !== group) offsets.push(cells.length);
    i = j;
  }
  return { offsets: Uint32Array.from(offsets), cells: Uint32Array.from(cells), counts: Uint32Array.from(counts) };
}

/** Resample r: draw units with the (seed, r) stream and sum their contributions into acc. */
function drawResample(units: Units, acc: Float64Array, seed: number, r: number): void {
  acc.fill(0);
  const n = units.offsets.length - 1;
  const { offsets, cells, counts } = units;
  const rng = Xoshiro128ss.forResample(seed, r);
  for (let d = 0; d < n; d++) {
    const u = rng.index(n);
    for (let j = offsets[u]; j < offsets[u + 1]; j++) acc[cells[j]] += counts[j];
  }
}

/** Per-class F1 of the k x k matrix starting at `base` (row = truth); NaN = class absent. */
function classF1s(m: Float64Array, base: number, k: number, out: Float64Array): void {
  for (let c = 0; c < k; c++) {
    let nTrue = 0;
    let nPred = 0;
    for (let j = 0; j < k; j++) {
      nTrue += m[base + c * k + j];
      nPred += m[base + j * k + c];
    }
    const denom = nTrue + nPred;
    out[c] = denom === 0 ? NaN : (2 * m[base + c * k + c]) / denom;
  }
}

/**
 * The classes of one bootstrap: `labels` index the confusion matrix (the
 * fixed list plus any label in truth or predictions), `scored` are the
 * indices macro F1 averages over and per-class results report.
 */
interface Classes {
  labels: number[];
  scored: number[];
  fixed: boolean;
}

function classesOf(fixed: number[] | null | undefined, ...arrays: Int32Array[]): Classes {
  const set = new Set<number>(fixed ?? []);
  for (const a of arrays) for (let i = 0; i < a.length; i++) set.add(a[i]);
  const labels = [...set].sort((x, y) => x - y);
  const scored = fixed ? fixed.map((l) => labels.indexOf(l)) : labels.map((_, i) => i);
  return { labels, scored, fixed: fixed != null };
}

/**
 * Union: mean over the classes present (NaN = absent), summed in label
 * order. Fixed: mean over the listed classes, an absent one counting 0.
 */
function macroOf(cls: Classes, f: Float64Array): number {
  let sum = 0;
  let n = 0;
  if (cls.fixed) {
    for (const c of cls.scored) {
      sum += Number.isNaN(f[c]) ? 0 : f[c];
      n++;
    }
  } else {
    for (let c = 0; c < f.length; c++) {
      if (!Number.isNaN(f[c])) {
        sum += f[c];
        n++;
      }
    }
  }
  return n === 0 ? NaN : sum / n;
}

function denseOf(labels: number[], a: Int32Array): Uint32Array {
  const at = new Map(labels.map((l, i) => [l, i]));
  return Uint32Array.from(a, (l) => at.get(l)!);
}

const interval = (point: number, [lo, hi]: [number | null, number | null]): Interval => ({ point, lo, hi });

/** Inputs already checked and options resolved by src/eval/stats.ts. */
export function bootstrapF1Reference(yTrue: Int32Array, yPred: Int32Array, groups: Uint32Array | null, o: ResolvedOptions): BootstrapF1Result {
  const cls = classesOf(o.labels, yTrue, yPred);
  const { labels, scored } = cls;
  const k = labels.length;
  const t = denseOf(labels, yTrue);
  const p = denseOf(labels, yPred);
  const units = buildUnits(t.length, groups, o.unit, (i) => [t[i] * k + p[i]], k * k);

  const full = new Float64Array(k * k);
  for (let i = 0; i < t.length; i++) full[t[i] * k + p[i]]++;
  const point = new Float64Array(k);
  classF1s(full, 0, k, point);

  const acc = new Float64Array(k * k);
  const f = new Float64Array(k);
  const macro = new Float64Array(o.resamples);
  const perClass = scored.map(() => new Float64Array(o.resamples));
  for (let r = 0; r < o.resamples; r++) {
    drawResample(units, acc, o.seed, r);
    classF1s(acc, 0, k, f);
    macro[r] = macroOf(cls, f);
    scored.forEach((c, j) => (perClass[j][r] = f[c]));
  }

  const result: BootstrapF1Result = {
    unit: o.unit,
    units: units.offsets.length - 1,
    windows: t.length,
    resamples: o.resamples,
    seed: o.seed,
    ci: o.ci,
    labels: scored.map((c) => labels[c]),
    macroF1: interval(macroOf(cls, point), percentileCi(macro, o.ci)),
    perClass: scored.map((c, j): ClassInterval => {
      const [lo, hi] = percentileCi(perClass[j], o.ci);
      return { label: labels[c], point: Number.isNaN(point[c]) ? 0 : point[c], lo, hi, resamplesPresent: perClass[j].filter((v) => !Number.isNaN(v)).length };
    }),
  };
  if (o.keepResamples) result.resampleMacroF1 = Array.from(macro);
  return result;
}

export function pairedBootstrapReference(yTrue: Int32Array, predA: Int32Array, predB: Int32Array, groups: Uint32Array | null, o: ResolvedOptions): PairedBootstrapResult {
  const cls = classesOf(o.labels, yTrue, predA, predB);
  const labels = cls.labels;
  const k = labels.length;
  const kk = k * k;
  const t = denseOf(labels, yTrue);
  const a = denseOf(labels, predA);
  const b = denseOf(labels, predB);
  // Model a's matrix in cells [0, kk), model b's in [kk, 2kk).
  const cellsOf = (i: number) => [t[i] * k + a[i], kk + t[i] * k + b[i]];
  const units = buildUnits(t.length, groups, o.unit, cellsOf, 2 * kk);

  const f = new Float64Array(k);
  const macros = (m: Float64Array): [number, number] => {
    classF1s(m, 0, k, f);
    const ma = macroOf(cls, f);
    classF1s(m, kk, k, f);
    return [ma, macroOf(cls, f)];
  };
  const full = new Float64Array(2 * kk);
  for (let i = 0; i < t.length; i++) for (const c of cellsOf(i)) full[c]++;
  const [pa, pb] = macros(full);

  const acc = new Float64Array(2 * kk);
  const va = new Float64Array(o.resamples);
  const vb = new Float64Array(o.resamples);
  const diff = new Float64Array(o.resamples);
  for (let r = 0; r < o.resamples; r++) {
    drawResample(units, acc, o.seed, r);
    [va[r], vb[r]] = macros(acc);
    diff[r] = va[r] - vb[r];
  }
  const [dlo, dhi] = percentileCi(diff, o.ci);
  const result: PairedBootstrapResult = {
    unit: o.unit,
    units: units.offsets.length - 1,
    windows: t.length,
    resamples: o.resamples,
    seed: o.seed,
    ci: o.ci,
    macroF1A: interval(pa, percentileCi(va, o.ci)),
    macroF1B: interval(pb, percentileCi(vb, o.ci)),
    diff: { point: pa - pb, lo: dlo, hi: dhi },
    excludesZero: dlo !== null && dhi !== null && (dlo > 0 || dhi < 0),
    fracDiffLeZero: diff.filter((d) => d <= 0).length / diff.length,
  };
  if (o.keepResamples) result.resampleDiff = Array.from(diff);
  return result;
}

export const referenceStats: StatsBackend = {
  bootstrapF1: async (t, p, g, o) => bootstrapF1Reference(t, p, g, o),
  pairedBootstrap: async (t, a, b, g, o) => pairedBootstrapReference(t, a, b, g, o),
  aucBootstrap: async (y, s, g, o) => aucBootstrapReference(y, s, g, o),
};
