// Which windows a model sees: the split file says which side each episode is
// on, the features file lists the windows. Both are streamed (only the
// needed columns), and rows of an unwanted side are skipped before any of
// their values are copied, so `train` never materialises the test side.
//
// Windows with label -1 (a phase the featurizer did not know) are excluded
// from every side: they have no class to learn or to score.

import { access } from "node:fs/promises";
import type { Table } from "apache-arrow";
import { readParquetBatches } from "../io/parquet.js";
import { TrainError } from "./types.js";

export const SIDES = ["train", "val", "test"] as const;
export type Side = (typeof SIDES)[number];

/** Windows of one split side, in features-parquet order (episode_id, window). */
export interface WindowSet {
  episode_id: string[];
  window: Int32Array;
  host_id: string[];
  profile: string[];
  label: Int32Array;
  t_center_s: Float64Array;
  infecting_start_s: Float64Array;
}

/** Identity columns read for every window (the features file has them all). */
const ID_COLUMNS = ["episode_id", "window", "host_id", "profile", "label", "t_center_s", "infecting_start_s"];

export async function requireFile(path: string, what: string, hint = ""): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new TrainError(`${what} not found: ${path}${hint ? ` (${hint})` : ""}`);
  }
}

function column(batch: Table, name: string, path: string): { get(i: number): unknown; toArray(): ArrayLike<unknown>; nullCount: number } {
  const c = batch.getChild(name);
  if (!c) throw new TrainError(`${path} has no column ${JSON.stringify(name)}`);
  return c as unknown as { get(i: number): unknown; toArray(): ArrayLike<unknown>; nullCount: number };
}

/** Episode -> side, from split_<recipe>.parquet (episode_id, split). */
export async function readSplitSides(splitPath: string): Promise<Map<string, Side>> {
  await requireFile(splitPath, "split file", "run `cis490 split` first");
  const sides = new Map<string, Side>();
  for await (const batch of readParquetBatches(splitPath, { columns: ["episode_id", "split"] })) {
    const ids = column(batch, "episode_id", splitPath);
    const split = column(batch, "split", splitPath);
    for (let i = 0; i < batch.numRows; i++) {
      const side = split.get(i) as string;
      if (!(SIDES as readonly string[]).includes(side)) throw new TrainError(`${splitPath}: episode ${String(ids.get(i))} has split ${JSON.stringify(side)} (expected train, val or test)`);
      sides.set(ids.get(i) as string, side as Side);
    }
  }
  if (sides.size === 0) throw new TrainError(`${splitPath} assigns no episodes`);
  return sides;
}

/**
 * Episode -> fold of a `split --val host-folds` file (its optional `fold`
 * column; training episodes only), or null for a split without folds.
 */
export async function readSplitFolds(splitPath: string): Promise<Map<string, number> | null> {
  const folds = new Map<string, number>();
  let hasColumn = false;
  // The split file holds one small row per episode: read it whole.
  for await (const batch of readParquetBatches(splitPath)) {
    const fold = batch.getChild("fold");
    if (!fold) continue;
    hasColumn = true;
    const ids = column(batch, "episode_id", splitPath);
    const split = column(batch, "split", splitPath);
    for (let i = 0; i < batch.numRows; i++) {
      const f = fold.get(i) as number | null;
      if (split.get(i) === "train") {
        if (f === null || !Number.isInteger(f) || f < 0) throw new TrainError(`${splitPath}: training episode ${String(ids.get(i))} has no fold (fold column ${JSON.stringify(f)})`);
        folds.set(ids.get(i) as string, f);
      }
    }
  }
  return hasColumn ? folds : null;
}

class WindowSetBuilder {
  episode_id: string[] = [];
  window: number[] = [];
  host_id: string[] = [];
  profile: string[] = [];
  label: number[] = [];
  t_center_s: number[] = [];
  infecting_start_s: number[] = [];
  chunks: Float32Array[] = [];

  build(): WindowSet {
    return {
      episode_id: this.episode_id,
      window: Int32Array.from(this.window),
      host_id: this.host_id,
      profile: this.profile,
      label: Int32Array.from(this.label),
      t_center_s: Float64Array.from(this.t_center_s),
      infecting_start_s: Float64Array.from(this.infecting_start_s),
    };
  }

  matrix(width: number): Float32Array {
    const out = new Float32Array(this.episode_id.length * width);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export interface ScanResult {
  windows: Map<Side, WindowSet>;
  /** Row-major [n, columns.length] float32 per wanted side (NaN = missing), when feature columns were asked for. */
  x: Map<Side, Float32Array>;
  /** Windows skipped because their label is -1 (unknown phase), per wanted side. */
  unknown_label: number;
}

/**
 * One streaming pass over the features file: the identity columns of the
 * wanted sides' windows and, optionally, some feature columns as float32.
 * Every features episode must be in the split and vice versa (else the
 * split was made from another features file).
 */
export async function scanWindows(
  featuresPath: string,
  sides: Map<string, Side>,
  want: readonly Side[],
  featureColumns: readonly string[] = [],
  /** The sides whose feature matrix is built (default: all wanted); a side left out can be streamed later by sideFeatureBatches. */
  matrixSides: readonly Side[] = want,
): Promise<ScanResult> {
  await requireFile(featuresPath, "features file", "run `cis490 features` first");
  const builders = new Map<Side, WindowSetBuilder>(want.map((s) => [s, new WindowSetBuilder()]));
  const matrixBuilders = new Set(matrixSides.map((s) => builders.get(s)).filter((b) => b !== undefined));
  const seen = new Set<string>();
  const notInSplit = new Set<string>();
  let unknown = 0;
  const width = featureColumns.length;
  for await (const batch of readParquetBatches(featuresPath, { columns: [...ID_COLUMNS, ...featureColumns] })) {
    const ids = column(batch, "episode_id", featuresPath);
    const label = column(batch, "label", featuresPath).toArray() as ArrayLike<number>;
    // Which rows of this batch are kept, and for which side: decided before any other value is read.
    const keep: Array<[number, WindowSetBuilder]> = [];
    for (let i = 0; i < batch.numRows; i++) {
      const id = ids.get(i) as string;
      seen.add(id);
      const side = sides.get(id);
      if (side === undefined) {
        notInSplit.add(id);
        continue;
      }
      const b = builders.get(side);
      if (!b) continue;
      if (!(label[i] >= 0)) {
        unknown++;
        continue;
      }
      keep.push([i, b]);
    }
    if (keep.length === 0) continue;
    const windowCol = column(batch, "window", featuresPath).toArray() as ArrayLike<number>;
    const hosts = column(batch, "host_id", featuresPath);
    const profiles = column(batch, "profile", featuresPath);
    const tc = column(batch, "t_center_s", featuresPath).toArray() as ArrayLike<number>;
    const inf = column(batch, "infecting_start_s", featuresPath);
    const infVals = inf.toArray() as ArrayLike<number>;
    for (const [i, b] of keep) {
      b.episode_id.push(ids.get(i) as string);
      b.window.push(windowCol[i]);
      b.host_id.push(hosts.get(i) as string);
      b.profile.push((profiles.get(i) as string | null) ?? "(none)");
      b.label.push(label[i]);
      b.t_center_s.push(tc[i]);
      b.infecting_start_s.push(inf.nullCount > 0 && inf.get(i) === null ? Number.NaN : infVals[i]);
    }
    if (width > 0) {
      const perBuilder = new Map<WindowSetBuilder, { chunk: Float32Array; rows: number[] }>();
      for (const [i, b] of keep) {
        if (!matrixBuilders.has(b)) continue;
        let e = perBuilder.get(b);
        if (!e) perBuilder.set(b, (e = { chunk: new Float32Array(0), rows: [] }));
        e.rows.push(i);
      }
      for (const [b, e] of perBuilder) {
        e.chunk = new Float32Array(e.rows.length * width);
        b.chunks.push(e.chunk);
      }
      featureColumns.forEach((name, f) => {
        const col = column(batch, name, featuresPath);
        const values = col.toArray() as ArrayLike<number>;
        const hasNulls = col.nullCount > 0;
        for (const e of perBuilder.values()) {
          const { chunk, rows } = e;
          for (let r = 0; r < rows.length; r++) {
            const i = rows[r];
            chunk[r * width + f] = hasNulls && col.get(i) === null ? Number.NaN : values[i];
          }
        }
      });
    }
  }
  if (notInSplit.size > 0) {
    const first = [...notInSplit].slice(0, 3).join(", ");
    throw new TrainError(`the split does not cover ${notInSplit.size} episode(s) of ${featuresPath} (e.g. ${first}): was it made from this features file? Rerun \`cis490 split\``);
  }
  const missing = [...sides.keys()].filter((id) => !seen.has(id));
  if (missing.length > 0) {
    throw new TrainError(`the split assigns ${missing.length} episode(s) that ${featuresPath} does not have (e.g. ${missing.slice(0, 3).join(", ")}): was it made from another features file? Rerun \`cis490 split\``);
  }
  const windows = new Map<Side, WindowSet>();
  const x = new Map<Side, Float32Array>();
  for (const [side, b] of builders) {
    windows.set(side, b.build());
    if (width > 0 && matrixBuilders.has(b)) x.set(side, b.matrix(width));
  }
  return { windows, x, unknown_label: unknown };
}

/**
 * The feature rows of one side, batch by batch in file order: exactly the
 * rows (and order) of scanWindows' matrix for that side (label -1 skipped,
 * and those `keep` refuses), as float32 with NaN for missing values and
 * infinities (counted), with their labels; one Parquet batch at a time, never the
 * whole side. Every call reads the file again from its start. Run
 * scanWindows first: it checks that the split covers the file.
 */
export async function* sideFeatureBatches(
  featuresPath: string,
  sides: Map<string, Side>,
  side: Side,
  featureColumns: readonly string[],
  keep: (episode: string, window: number) => boolean = () => true,
): AsyncGenerator<{ x: Float32Array; y: Int32Array; infinities: number }> {
  const width = featureColumns.length;
  for await (const batch of readParquetBatches(featuresPath, { columns: ["episode_id", "window", "label", ...featureColumns] })) {
    const ids = column(batch, "episode_id", featuresPath);
    const label = column(batch, "label", featuresPath).toArray() as ArrayLike<number>;
    const windowCol = column(batch, "window", featuresPath).toArray() as ArrayLike<number>;
    const rows: number[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const id = ids.get(i) as string;
      if (sides.get(id) === side && label[i] >= 0 && keep(id, windowCol[i])) rows.push(i);
    }
    if (rows.length === 0) continue;
    const x = new Float32Array(rows.length * width);
    let infinities = 0;
    featureColumns.forEach((name, f) => {
      const col = column(batch, name, featuresPath);
      const values = col.toArray() as ArrayLike<number>;
      const hasNulls = col.nullCount > 0;
      for (let r = 0; r < rows.length; r++) {
        const v = hasNulls && col.get(rows[r]) === null ? Number.NaN : values[rows[r]];
        if (v === Infinity || v === -Infinity) {
          infinities++;
          x[r * width + f] = Number.NaN;
        } else x[r * width + f] = v;
      }
    });
    yield { x, y: Int32Array.from(rows, (i) => label[i]), infinities };
  }
}

/** Windows of one split side (label -1 excluded), streamed from the features file. */
export async function loadWindowSet(featuresPath: string, splitPath: string, side: "train" | "val" | "test"): Promise<WindowSet> {
  const sides = await readSplitSides(splitPath);
  const { windows } = await scanWindows(featuresPath, sides, [side]);
  return windows.get(side)!;
}

export function windowKey(episodeId: string, window: number): string {
  return `${episodeId}\u0000${window}`;
}

/** Row of each (episode_id, window) in `w`. */
export function windowIndex(w: Pick<WindowSet, "episode_id" | "window">): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < w.episode_id.length; i++) index.set(windowKey(w.episode_id[i], w.window[i]), i);
  return index;
}

/**
 * Summary-feature columns for arbitrary windows (e.g. a WindowSet handed to
 * predictProba), aligned with `w`'s order. Throws when a window is not in the file.
 */
export async function readFeatureRows(featuresPath: string, w: Pick<WindowSet, "episode_id" | "window">, featureColumns: readonly string[]): Promise<Float32Array> {
  await requireFile(featuresPath, "features file");
  const index = windowIndex(w);
  const width = featureColumns.length;
  const n = w.episode_id.length;
  const out = new Float32Array(n * width);
  const filled = new Uint8Array(n);
  let count = 0;
  for await (const batch of readParquetBatches(featuresPath, { columns: ["episode_id", "window", ...featureColumns] })) {
    const ids = column(batch, "episode_id", featuresPath);
    const win = column(batch, "window", featuresPath).toArray() as ArrayLike<number>;
    const rows: Array<[number, number]> = [];
    for (let i = 0; i < batch.numRows; i++) {
      const at = index.get(windowKey(ids.get(i) as string, win[i]));
      if (at !== undefined && !filled[at]) {
        filled[at] = 1;
        count++;
        rows.push([i, at]);
      }
    }
    if (rows.length === 0) continue;
    featureColumns.forEach((name, f) => {
      const col = column(batch, name, featuresPath);
      const values = col.toArray() as ArrayLike<number>;
      const hasNulls = col.nullCount > 0;
      for (const [i, at] of rows) out[at * width + f] = hasNulls && col.get(i) === null ? Number.NaN : values[i];
    });
  }
  if (count < n) {
    const k = filled.indexOf(0);
    throw new TrainError(`${n - count} window(s) are not in ${featuresPath} (e.g. ${w.episode_id[k]} window ${w.window[k]})`);
  }
  return out;
}
