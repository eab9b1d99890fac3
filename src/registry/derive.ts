// What a version gets at registration besides the checkpoint itself, read
// from the training data the sidecar records: its predictions on the
// validation windows (for the paired promotion gate), the drift baseline
// (quantile digest of every input feature over the training windows) and a
// seeded reference sample of training windows (for the domain classifier),
// plus the provenance of the inputs. Each part that cannot be made (inputs
// moved away) is left out with a note; the version is still registered.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDigest, type Digest } from "../drift/digest.js";
import { readWindowMatrix, type WindowMatrix } from "../drift/read.js";
import { SHARDS_DIR } from "../features/shards.js";
import { deriveRng } from "../synth/rng.js";
import { inputFeatureNames, loadCheckpoint } from "../train/checkpoint.js";
import { argmaxRows, macroF1 } from "../train/loop.js";
import type { CheckpointSidecar } from "../train/types.js";
import { loadWindowSet, readSplitSides } from "../train/windows.js";
import type { Provenance } from "./types.js";

/** Training windows kept as the drift reference sample, at most. */
export const REFERENCE_SAMPLE_WINDOWS = 2000;

export interface ValidationPredictions {
  format: "cis490-validation/1";
  features_sha256: string;
  split_sha256: string;
  macro_f1: number;
  /** Distinct episodes; `episode` indexes into it. */
  episodes: string[];
  episode: number[];
  window: number[];
  label: number[];
  pred: number[];
}

export interface Derived {
  validation: ValidationPredictions | null;
  digest: Digest | null;
  reference: { names: string[]; sample: WindowMatrix } | null;
  notes: string[];
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return dirname(fileURLToPath(import.meta.url));
}

export function cis490Version(): string | null {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** HEAD of the checkout cis490 runs from, or null (not a checkout, no git). */
export function gitCommit(): string | null {
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], { cwd: packageRoot(), stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().trim();
    return /^[0-9a-f]{40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

/** The acceptance index's sha256 recorded by `cis490 features` in its shard markers, when there. */
async function acceptanceSha(features: string): Promise<string | null> {
  const dir = join(dirname(features), SHARDS_DIR);
  try {
    for (const name of (await readdir(dir)).sort()) {
      if (!name.startsWith("part-") || !name.endsWith(".json")) continue;
      const doc = JSON.parse(await readFile(join(dir, name), "utf8")) as { params?: { acceptance_sha256?: string } };
      if (doc.params?.acceptance_sha256) return doc.params.acceptance_sha256;
    }
  } catch {
    // no markers: features written another way
  }
  return null;
}

export async function provenanceOf(sc: CheckpointSidecar, sourceCheckpoint: string, commandLine: string[] | null): Promise<Provenance> {
  return {
    source_checkpoint: sourceCheckpoint,
    trained_at: sc.created_at,
    acceptance_sha256: await acceptanceSha(sc.data.features),
    features: sc.data.features,
    features_sha256: sc.data.features_sha256,
    split: sc.data.split,
    split_sha256: sc.data.split_sha256,
    tensors: sc.data.tensors,
    feature_schema_hash: sc.feature_schema_hash,
    command_line: commandLine,
    cis490_version: cis490Version(),
    git_commit: gitCommit(),
  };
}

export async function deriveVersionData(sidecarPath: string, sc: CheckpointSidecar): Promise<Derived> {
  const notes: string[] = [];
  const out: Derived = { validation: null, digest: null, reference: null, notes };
  const { features, split, tensors } = sc.data;
  if (!existsSync(features) || !existsSync(split)) {
    notes.push(`training inputs ${features} / ${split} not found from ${process.cwd()}: no validation predictions and no drift baseline`);
    return out;
  }
  try {
    const val = await loadWindowSet(features, split, "val");
    const schema = { ...(sc.feature_schema as Record<string, unknown>), hash: sc.feature_schema_hash };
    const model = await loadCheckpoint(sidecarPath, schema, { threads: 1 });
    const proba = await model.predictProba(features, tensors, val);
    const pred = argmaxRows(proba, val.label.length, sc.classes.length);
    const episodes = [...new Set(val.episode_id)];
    const at = new Map(episodes.map((e, i) => [e, i]));
    out.validation = {
      format: "cis490-validation/1",
      features_sha256: sc.data.features_sha256,
      split_sha256: sc.data.split_sha256,
      macro_f1: macroF1(val.label, pred),
      episodes,
      episode: val.episode_id.map((e) => at.get(e)!),
      window: Array.from(val.window),
      label: Array.from(val.label),
      pred: Array.from(pred),
    };
  } catch (error) {
    notes.push(`no validation predictions: ${(error as Error).message}`);
  }
  try {
    const sides = await readSplitSides(split);
    const train = new Set([...sides.entries()].filter(([, s]) => s === "train").map(([e]) => e));
    const names = inputFeatureNames(sc);
    const m = await readWindowMatrix(features, names, train, true);
    const n = m.episodes.length;
    out.digest = buildDigest(m.x, n, names, m.episodes);
    // Seeded sample of training windows for the domain classifier.
    const rng = deriveRng(BigInt(sc.seed), 0x2545f491);
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const keep = idx.slice(0, REFERENCE_SAMPLE_WINDOWS).sort((a, b) => a - b);
    const x = new Float32Array(keep.length * names.length);
    keep.forEach((r, k) => x.set(m.x.subarray(r * names.length, (r + 1) * names.length), k * names.length));
    out.reference = { names, sample: { x, width: names.length, episodes: keep.map((r) => m.episodes[r]), hosts: keep.map((r) => m.hosts[r]), profiles: keep.map((r) => m.profiles[r]) } };
  } catch (error) {
    notes.push(`no drift baseline: ${(error as Error).message}`);
  }
  return out;
}
