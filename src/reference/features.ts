// The plain TypeScript twin of the native featurizer
// (crates/cis490-core/src/features/): docs/features.md taken literally, on
// the typed columns of the reference decoder (`inspectBytes(..., with_columns)`).
// Used by parity tests and benchmarks only. Simple loops over plain arrays;
// float operations in the order the doc prescribes so both sides get the
// same doubles.

import { readFile } from "node:fs/promises";
import { DEFAULT_INSPECT_OPTIONS, PHASES, type InspectOptions } from "../episode/report.js";
import { ALL_STATS, BASELINE_STATS, CHANNELS, columnOf, N_CHANNELS, STATS, type Source, type StatName } from "../features/channels.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "../features/types.js";
import { inspectBytes } from "./inspect/inspect.js";

/** More windows than this: error `limit:windows` (docs/features.md). */
export const MAX_WINDOWS = 100_000;
/** More tensor values (windows x 46 x T) than this: error `limit:tensor-values`. */
export const MAX_TENSOR_VALUES = 2 ** 26;

type Columns = Record<string, Record<string, Array<string | number | null>>>;

/** Exact ns difference, converted to a double once, then to seconds. */
function seconds(a: bigint, b: bigint): number {
  return Number(a - b) / 1e9;
}

export function tensorLength(options: FeatureOptions): number {
  return Math.round(options.window_s * options.hz);
}

function emptyWindows(options: FeatureOptions, error: string | null = null): EpisodeWindows {
  return {
    error,
    n_windows: 0,
    t0_wall_ns: null,
    duration_s: null,
    phase: new Int8Array(0),
    t_start_s: new Float64Array(0),
    phase_start_s: new Float64Array(PHASES.length).fill(NaN),
    summary: new Float64Array(0),
    x: options.tensors ? new Float32Array(0) : null,
    mask: options.tensors ? new Uint8Array(0) : null,
  };
}

/** Throws on options the native side would reject (thrown Error, not a per-episode error). */
export function checkFeatureOptions(options: FeatureOptions): void {
  for (const key of ["window_s", "stride_s", "hz"] as const) {
    const v = options[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new Error(`invalid feature options: ${key} must be a finite number > 0, got ${v}`);
  }
  const t = Math.round(options.window_s * options.hz);
  if (t < 1 || t > 1e6) throw new Error(`invalid feature options: round(window_s * hz) must be in 1..=1000000, got ${t}`);
  const base = options.baseline_s ?? 0;
  if (typeof base !== "number" || !Number.isFinite(base) || base < 0) throw new Error(`invalid feature options: baseline_s must be a finite number >= 0, got ${base}`);
  const stats = options.stats ?? STATS;
  if (stats.length === 0) throw new Error("invalid feature options: stats must not be empty");
  stats.forEach((s, i) => {
    if (!(ALL_STATS as readonly string[]).includes(s)) throw new Error(`invalid feature options: unknown stat ${JSON.stringify(s)}`);
    if (stats.indexOf(s) !== i) throw new Error(`invalid feature options: stat \`${s}\` appears twice`);
    if (BASELINE_STATS.includes(s as StatName) && base === 0) throw new Error(`invalid feature options: stat \`${s}\` needs baseline_s > 0`);
  });
  if (options.tensor_baseline && base === 0) throw new Error("invalid feature options: tensor_baseline needs baseline_s > 0");
}

interface Series {
  t: number[];
  v: number[];
}

const num = (x: string | number | null): number => (typeof x === "number" ? x : NaN);

/** Finite samples of every channel, time-sorted (docs/features.md, "Per-channel samples"). */
function channelSeries(columns: Columns, t0: bigint): Series[] {
  const bySource = new Map<Source, { walls: bigint[]; order: number[] }>();
  const out: Series[] = [];
  for (const ch of CHANNELS) {
    const cols = columns[ch.source];
    let src = bySource.get(ch.source);
    if (!src) {
      const walls = (cols.t_wall_ns as string[]).map((s) => BigInt(s));
      const order = walls.map((_, i) => i);
      // Array.prototype.sort is stable: ties keep file order.
      order.sort((i, j) => (walls[i] < walls[j] ? -1 : walls[i] > walls[j] ? 1 : 0));
      src = { walls, order };
      bySource.set(ch.source, src);
    }
    const { walls, order } = src;
    const values = cols[columnOf(ch)];
    const s: Series = { t: [], v: [] };
    if (ch.kind === "level") {
      for (const i of order) {
        const v = num(values[i]);
        if (Number.isFinite(v)) {
          s.t.push(seconds(walls[i], t0));
          s.v.push(v);
        }
      }
    } else {
      for (let k = 1; k < order.length; k++) {
        const i = order[k];
        const p = order[k - 1];
        const dt = Number(walls[i] - walls[p]) / 1e9;
        const a = num(values[p]);
        const b = num(values[i]);
        let rate = NaN;
        // dt == 0, a non-finite value, or a counter reset (negative difference): NaN.
        if (dt !== 0 && Number.isFinite(a) && Number.isFinite(b) && b - a >= 0) rate = (b - a) / dt;
        if (Number.isFinite(rate)) {
          s.t.push(seconds(walls[i], t0));
          s.v.push(rate);
        }
      }
    }
    out.push(s);
  }
  return out;
}

/** numpy's linear quantile of an ascending array. */
export function quantile(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return s[lo] + (s[hi] - s[lo]) * frac;
}

/** mean, std, p50, p95, slope of samples in time order (NaN x 5 when empty). */
export function windowStats(t: number[], v: number[]): number[] {
  const n = v.length;
  if (n === 0) return [NaN, NaN, NaN, NaN, NaN];
  let sum = 0;
  for (const x of v) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of v) ss += (x - mean) * (x - mean);
  const std = Math.sqrt(ss / n);
  const sorted = Float64Array.from(v).sort(); // typed-array sort is numeric
  let tsum = 0;
  for (const x of t) tsum += x;
  const tm = tsum / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i] - tm) * (v[i] - mean);
    den += (t[i] - tm) * (t[i] - tm);
  }
  return [mean, std, quantile(sorted, 0.5), quantile(sorted, 0.95), den > 0 ? num / den : 0];
}

/**
 * The channel's causal baseline for a window starting at `a`: the median of
 * its finite samples with t < min(a, baseline_s); NaN when there is none.
 */
export function baselineMedian(t: number[], v: number[], a: number, baseline_s: number): number {
  const n = lowerBound(t, Math.min(a, baseline_s));
  if (n === 0) return NaN;
  return quantile(Float64Array.from(v.slice(0, n)).sort(), 0.5);
}

/** One statistic from the window's plain five, its sample count and the baseline median m. */
export function statValue(stat: string, raw: number[], n: number, m: number): number {
  const ratio = (x: number): number => (m !== 0 && !Number.isNaN(m) ? x / m : NaN);
  switch (stat) {
    case "mean":
      return raw[0];
    case "std":
      return raw[1];
    case "p50":
      return raw[2];
    case "p95":
      return raw[3];
    case "slope":
      return raw[4];
    case "mean_d":
      return raw[0] - m;
    case "p50_d":
      return raw[2] - m;
    case "p95_d":
      return raw[3] - m;
    case "mean_r":
      return ratio(raw[0]);
    case "p95_r":
      return ratio(raw[3]);
    case "missing":
      return n === 0 ? 1 : 0;
    case "base_missing":
      return Number.isNaN(m) ? 1 : 0;
    default:
      throw new Error(`unknown stat ${stat}`);
  }
}

/** First index with t[i] >= x (t ascending). */
function lowerBound(t: number[], x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Features of one episode from the reference decoder's columns. */
export function featurizeColumns(columns: Columns, observedDuration: number | null, options: FeatureOptions): EpisodeWindows {
  const out = emptyWindows(options);
  const labelWalls = (columns.labels.t_wall_ns as string[]).map((s) => BigInt(s));
  if (labelWalls.length === 0) return out; // no labels: no windows, not an error
  const t0 = labelWalls[0];
  out.t0_wall_ns = t0.toString();

  // Duration: meta's observed duration, else the last proc/guest/qmp/netflow row.
  if (typeof observedDuration === "number" && Number.isFinite(observedDuration) && observedDuration > 0) {
    out.duration_s = observedDuration;
  } else {
    let last: bigint | null = null;
    for (const m of ["proc", "guest", "qmp", "netflow"]) {
      for (const s of columns[m].t_wall_ns as string[]) {
        const w = BigInt(s);
        if (last === null || w > last) last = w;
      }
    }
    out.duration_s = last === null ? null : seconds(last, t0);
  }
  if (out.duration_s === null) return out;

  const W = options.window_s;
  const S = options.stride_s;
  const D = out.duration_s;
  const starts: number[] = [];
  for (let k = 0; ; k++) {
    const a = k * S;
    if (a + W > D) break; // D, W, S are never NaN
    if (k === MAX_WINDOWS) return { ...emptyWindows(options, "limit:windows"), t0_wall_ns: out.t0_wall_ns, duration_s: D };
    starts.push(a);
  }
  const nw = starts.length;
  const T = tensorLength(options);
  if (options.tensors && nw * N_CHANNELS * T > MAX_TENSOR_VALUES) {
    return { ...emptyWindows(options, "limit:tensor-values"), t0_wall_ns: out.t0_wall_ns, duration_s: D };
  }
  out.n_windows = nw;
  out.t_start_s = Float64Array.from(starts);

  // Label: the last label row (file order) whose relative time is <= the window centre.
  const rel = labelWalls.map((w) => seconds(w, t0));
  const codes = (columns.labels.phase as string[]).map((p) => (PHASES as readonly string[]).indexOf(p));
  codes.forEach((code, j) => {
    if (code >= 0 && Number.isNaN(out.phase_start_s[code])) out.phase_start_s[code] = rel[j];
  });
  out.phase = new Int8Array(nw);
  for (let k = 0; k < nw; k++) {
    const centre = starts[k] + W / 2;
    let phase = 0;
    for (let j = 0; j < rel.length; j++) if (rel[j] <= centre) phase = codes[j];
    out.phase[k] = phase;
  }

  const series = channelSeries(columns, t0);
  const statList = options.stats ?? STATS;
  const baselineS = options.baseline_s ?? 0;
  // base[k][c]: the channel's baseline median for window k (NaN without a baseline).
  const base = starts.map((a) => series.map(({ t, v }) => (baselineS > 0 ? baselineMedian(t, v, a, baselineS) : NaN)));
  const nf = N_CHANNELS * statList.length;
  out.summary = new Float64Array(nw * nf);
  for (let k = 0; k < nw; k++) {
    const a = starts[k];
    for (let c = 0; c < N_CHANNELS; c++) {
      const { t, v } = series[c];
      const lo = lowerBound(t, a);
      const hi = lowerBound(t, a + W);
      const raw = windowStats(t.slice(lo, hi), v.slice(lo, hi));
      statList.forEach((s, j) => (out.summary[k * nf + c * statList.length + j] = statValue(s, raw, hi - lo, base[k][c])));
    }
  }

  if (options.tensors) {
    const x = new Float32Array(nw * N_CHANNELS * T);
    const mask = new Uint8Array(nw * N_CHANNELS * T);
    for (let k = 0; k < nw; k++) {
      for (let c = 0; c < N_CHANNELS; c++) {
        const { t, v } = series[c];
        const n = t.length;
        const offset = options.tensor_baseline ? base[k][c] : 0;
        if (Number.isNaN(offset)) continue; // no baseline yet: 0, mask false
        for (let j = 0; j < T; j++) {
          const g = starts[k] + j / options.hz;
          if (n === 0 || g < t[0] || g > t[n - 1]) continue; // 0, mask false
          // i = the last index with t[i] <= g.
          let i = lowerBound(t, g);
          if (i === n || t[i] > g) i--;
          else while (i + 1 < n && t[i + 1] === g) i++;
          const value = t[i] === g ? v[i] : v[i] + (v[i + 1] - v[i]) * ((g - t[i]) / (t[i + 1] - t[i]));
          const at = (k * N_CHANNELS + c) * T + j;
          x[at] = Math.fround(options.tensor_baseline ? value - offset : value);
          mask[at] = 1;
        }
      }
    }
    out.x = x;
    out.mask = mask;
  }
  return out;
}

/** Decodes (reference decoder) and featurises one `.tar.zst`. */
export function featurizeBytes(bytes: Uint8Array, options: FeatureOptions, inspect: Partial<InspectOptions> = {}): EpisodeWindows {
  const report = inspectBytes(bytes, { ...DEFAULT_INSPECT_OPTIONS, ...inspect, with_columns: true });
  if (report.io_error) return emptyWindows(options, report.io_error);
  if (report.fatal) return emptyWindows(options, report.fatal);
  return featurizeColumns(report.columns!, report.meta?.duration_observed_s ?? null, options);
}

export const referenceFeaturizer: Featurizer = {
  name: "reference",
  async featurizeFiles(paths: string[], options: FeatureOptions, inspect: InspectOptions): Promise<EpisodeWindows[]> {
    checkFeatureOptions(options);
    const out: EpisodeWindows[] = [];
    for (const path of paths) {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        // The errno name only, as the native side reports it.
        out.push(emptyWindows(options, (error as NodeJS.ErrnoException).code ?? "EIO"));
        continue;
      }
      out.push(featurizeBytes(bytes, options, inspect));
    }
    return out;
  },
};
