// `cis490 label-noise`: confident learning on the training side of a split.
// Only train-side windows are read (scanWindows skips other sides' rows
// before any value is copied); val and test stay untouched, so a later
// evaluation is not steered by what was dropped here.

import { PHASES } from "../episode/report.js";
import { featureIndices } from "../features/channels.js";
import { sha256OfFile } from "../io/hash.js";
import { outOfFoldProba } from "../train/oof.js";
import { readSchemaFor } from "../train/run.js";
import { infinitiesToNaN } from "../train/standardise.js";
import { TrainError, type Mode } from "../train/types.js";
import { readSplitSides, scanWindows } from "../train/windows.js";
import { confidentLearning } from "./confident.js";
import type { GroupCount, LabelNoiseReport } from "./report.js";

export type { FlaggedWindow, GroupCount, LabelNoiseReport } from "./report.js";

export interface LabelNoiseOptions {
  features: string;
  split: string;
  mode: Mode;
  folds: number;
  rounds: number;
  maxDepth: number;
  seed: number;
  threads: number;
}

export const DEFAULT_LABEL_NOISE = { mode: "realistic" as Mode, folds: 5, rounds: 30, maxDepth: 4, seed: 0, threads: 1 };


function tally(keys: readonly string[], flagged: Set<number>): Record<string, GroupCount> {
  const out: Record<string, GroupCount> = {};
  keys.forEach((k, i) => {
    const g = (out[k] ??= { flagged: 0, total: 0 });
    g.total++;
    if (flagged.has(i)) g.flagged++;
  });
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function findLabelNoise(o: LabelNoiseOptions): Promise<LabelNoiseReport> {
  if (!(Number.isInteger(o.folds) && o.folds >= 2)) throw new TrainError(`--folds must be an integer >= 2 (got ${o.folds})`);
  const schema = await readSchemaFor(o.features);
  const featureCols = featureIndices(o.mode, schema.stats).map((i) => schema.features[i]);
  const sides = await readSplitSides(o.split);
  // Only "train" is wanted: rows of val/test episodes are skipped before their values are read.
  const scan = await scanWindows(o.features, sides, ["train"], featureCols);
  if (scan.windows.has("val") || scan.windows.has("test")) throw new Error("label-noise: read a side other than train");
  const w = scan.windows.get("train")!;
  const x = scan.x.get("train")!;
  const n = w.label.length;
  if (n === 0) throw new TrainError(`the train side of ${o.split} has no labelled windows`);
  infinitiesToNaN(x);
  const K = PHASES.length;
  // Unweighted fit: the per-class thresholds already adjust for class imbalance.
  const oof = await outOfFoldProba(x, featureCols.length, w.label, w.episode_id, K, new Float32Array(K).fill(1), o);
  const cl = confidentLearning(oof.proba, w.label, K);
  const flaggedSet = new Set(cl.flagged);
  const phaseOf = Array.from(w.label, (k) => PHASES[k]);
  const offDiagonal = cl.joint.reduce((a, row, i) => a + row.reduce((b, q, j) => (i === j ? b : b + q), 0), 0);
  return {
    format: "cis490.label-noise/1",
    features: o.features,
    features_sha256: await sha256OfFile(o.features),
    split: o.split,
    split_sha256: await sha256OfFile(o.split),
    mode: o.mode,
    folds: oof.folds,
    rounds: o.rounds,
    max_depth: o.maxDepth,
    seed: o.seed,
    side: "train",
    windows: n,
    episodes: new Set(w.episode_id).size,
    classes: [...PHASES],
    thresholds: Object.fromEntries(PHASES.map((p, j) => [p, Number.isFinite(cl.thresholds[j]) ? cl.thresholds[j] : null])),
    confident_joint: cl.confident_joint,
    estimated_noise_rate: offDiagonal,
    by_phase: tally(phaseOf, flaggedSet),
    by_profile: tally(w.profile, flaggedSet),
    by_host: tally(w.host_id, flaggedSet),
    flagged: cl.flagged.map((i) => ({
      episode_id: w.episode_id[i],
      window: w.window[i],
      given_phase: PHASES[w.label[i]],
      likely_phase: PHASES[cl.confident_class[i]],
      self_confidence: oof.proba[i * K + w.label[i]],
    })),
  };
}
