// `cis490 train --drop-noisy REPORT.json`: the training windows a
// label-noise report flagged are removed before fitting. The report must
// come from the same features file (its sha256 is checked), so its
// (episode_id, window) pairs name the windows they were computed on.

import { readFile } from "node:fs/promises";
import { sha256OfFile } from "../io/hash.js";
import { takeRows } from "../train/oof.js";
import { TrainError } from "../train/types.js";
import type { WindowSet } from "../train/windows.js";
import type { LabelNoiseReport } from "./report.js";

export interface NoiseDrop {
  report: string;
  report_sha256: string;
  /** "episode_id\0window" of each flagged window. */
  keys: Set<string>;
}

const keyOf = (episode: string, window: number) => `${episode}\u0000${window}`;

export async function readNoiseDrop(path: string, featuresSha: string): Promise<NoiseDrop> {
  let doc: LabelNoiseReport;
  try {
    doc = JSON.parse(await readFile(path, "utf8")) as LabelNoiseReport;
  } catch (error) {
    throw new TrainError(`--drop-noisy ${path}: ${(error as Error).message}`);
  }
  if (doc.format !== "cis490.label-noise/1" || !Array.isArray(doc.flagged)) throw new TrainError(`--drop-noisy ${path}: not a cis490 label-noise report`);
  if (doc.features_sha256 !== featuresSha) throw new TrainError(`--drop-noisy ${path} was made from another features file (sha256 ${doc.features_sha256}, this one ${featuresSha}): rerun \`cis490 label-noise\``);
  const keys = new Set<string>();
  for (const f of doc.flagged) {
    if (typeof f.episode_id !== "string" || !Number.isInteger(f.window)) throw new TrainError(`--drop-noisy ${path}: a flagged entry lacks episode_id/window`);
    keys.add(keyOf(f.episode_id, f.window));
  }
  return { report: path, report_sha256: await sha256OfFile(path), keys };
}

/** Whether a window survives the drop (for rows streamed past dropWindows). */
export function keptByDrop(drop: NoiseDrop): (episode: string, window: number) => boolean {
  return (episode, window) => !drop.keys.has(keyOf(episode, window));
}

/** The windows (and rows of the optional row-major matrix x) not named by the drop. */
export function dropWindows(set: WindowSet, x: Float32Array | undefined, width: number, drop: NoiseDrop): { set: WindowSet; x: Float32Array | undefined; dropped: number } {
  const rows: number[] = [];
  for (let i = 0; i < set.label.length; i++) if (!drop.keys.has(keyOf(set.episode_id[i], set.window[i]))) rows.push(i);
  const pick = <T>(a: ArrayLike<T>) => rows.map((i) => a[i]);
  const out: WindowSet = {
    episode_id: pick(set.episode_id),
    window: Int32Array.from(pick(set.window)),
    host_id: pick(set.host_id),
    profile: pick(set.profile),
    label: Int32Array.from(pick(set.label)),
    t_center_s: Float64Array.from(pick(set.t_center_s)),
    infecting_start_s: Float64Array.from(pick(set.infecting_start_s)),
  };
  const kept = x !== undefined && width > 0 ? takeRows(x, width, rows) : x;
  return { set: out, x: kept, dropped: set.label.length - rows.length };
}
