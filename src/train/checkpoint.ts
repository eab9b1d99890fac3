// Checkpoints: `<model>_<mode>.ckpt.json` (the sidecar: everything needed to
// rebuild and trust the model) plus the engine's weights file beside it.
// Loading pins the feature schema: a checkpoint refuses features made under
// another schema, naming both hashes and what changed. The channel mask in
// the sidecar decides which inputs are read at inference, so a realistic
// model is never handed an oracle channel.

import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CHANNELS, channelMask, featureMask, N_CHANNELS, STATS } from "../features/channels.js";
import { parquetRowGroups } from "../io/parquet.js";
import { SCHEMA_HASH_KEY } from "../features/shards.js";
import { sha256OfFile } from "../io/hash.js";
import { embeddingBlockProblem, type EmbeddingBlock } from "./embedding.js";
import type { WindowBatch } from "./estimator.js";
import { GbtEstimator, type GbtHyperParameters } from "./gbt.js";
import { MiniRocketEstimator, type MiniRocketHyperParameters, type MiniRocketState } from "./minirocket.js";
import { NeuralEstimator, type InputShape, type NeuralHyperParameters, type RuntimeOptions } from "./neural.js";
import { infinitiesToNaN } from "./standardise.js";
import { streamTensorRows } from "./tensors.js";
import { CHECKPOINT_FORMAT, isSequenceKind, MODEL_KINDS, MODES, TrainError, type CheckpointSidecar } from "./types.js";
import { readFeatureRows, type WindowSet } from "./windows.js";

export class SchemaMismatchError extends Error {}

interface SchemaLike {
  version?: unknown;
  channels?: Array<{ name?: unknown; source?: unknown; kind?: unknown; deployed?: unknown }>;
  stats?: unknown[];
  features?: unknown[];
  window_s?: unknown;
  stride_s?: unknown;
  hz?: unknown;
  tensor_len?: unknown;
  phases?: unknown[];
}

/** Human-readable differences between two feature schema documents ("window_s 10 -> 5", "channel list differs at index 3 ..."). */
export function describeSchemaChange(trained: unknown, current: unknown): string[] {
  const a = (trained ?? {}) as SchemaLike;
  const b = (current ?? {}) as SchemaLike;
  const out: string[] = [];
  for (const key of ["version", "window_s", "stride_s", "hz", "tensor_len"] as const) {
    if (a[key] !== b[key]) out.push(`${key} ${JSON.stringify(a[key])} -> ${JSON.stringify(b[key])}`);
  }
  const baseline = (s: SchemaLike): string => JSON.stringify((s as { baseline?: unknown }).baseline ?? "none");
  if (baseline(a) !== baseline(b)) out.push(`baseline ${baseline(a)} -> ${baseline(b)}`);
  const list = (name: string, x: unknown[] | undefined, y: unknown[] | undefined, show: (v: unknown) => string): void => {
    const xs = x ?? [];
    const ys = y ?? [];
    const n = Math.max(xs.length, ys.length);
    for (let i = 0; i < n; i++) {
      if (JSON.stringify(xs[i]) !== JSON.stringify(ys[i])) {
        const lengths = xs.length !== ys.length ? ` (${xs.length} -> ${ys.length} entries)` : "";
        out.push(`${name} differs at index ${i}: ${i < xs.length ? show(xs[i]) : "(none)"} -> ${i < ys.length ? show(ys[i]) : "(none)"}${lengths}`);
        return;
      }
    }
  };
  const showChannel = (v: unknown): string => {
    const c = v as { name?: unknown; kind?: unknown; deployed?: unknown };
    return `${String(c.name)} (${String(c.kind)}${c.deployed ? ", deployed" : ""})`;
  };
  list("channel list", a.channels, b.channels, showChannel);
  list("stats", a.stats, b.stats, (v) => String(v));
  if (out.every((s) => !s.startsWith("channel list") && !s.startsWith("stats"))) list("feature names", a.features, b.features, (v) => String(v));
  list("phases", a.phases, b.phases, (v) => String(v));
  if (out.length === 0) out.push("no compared field differs (the schema document or its hash was edited by hand?)");
  return out;
}

export interface TrainedModel {
  sidecar: CheckpointSidecar;
  /** Class probabilities for `windows` (row-major n x classes.length), inputs read from the features file / tensor shards and masked by the checkpoint's channel mask. */
  predictProba(featuresPath: string, tensorsDir: string | null, windows: WindowSet): Promise<Float32Array>;
  /** The same from windows already in memory, in the featurizer's layout (all features / all channels; the checkpoint's masks are applied here). */
  predictArrays(input: WindowArrays): Promise<Float32Array>;
  /** Learned parameters: weights and buffers of a neural net, tree nodes of a GBT. */
  readonly parameters: number;
  /** The sidecar's embedding block when usable, else null and `embeddingProblem` says why. */
  readonly embedding: EmbeddingBlock | null;
  readonly embeddingProblem: string | null;
  /** What the estimator's embed() returns for windows in memory (layout as predictArrays): [n, width] row-major. */
  embedArrays(input: WindowArrays): Promise<Float32Array>;
}

/** Tree nodes of an XGBoost JSON model (its size as a count of learned parameters). */
function gbtNodes(json: string): number {
  let n = 0;
  for (const m of json.matchAll(/"num_nodes"\s*:\s*"?(\d+)/g)) n += Number(m[1]);
  return n;
}

/** Windows as `Featurizer.featurizeFiles` returns them (src/features/types.ts). */
export interface WindowArrays {
  n: number;
  /** Row-major [n, features of the schema]. */
  summary: ArrayLike<number>;
  /** Row-major [n, N_CHANNELS, tensor_len]; sequence models only. */
  x: Float32Array | null;
  mask: Uint8Array | null;
}

function pickFeatures(summary: ArrayLike<number>, n: number, featureMask: readonly number[]): Float32Array {
  const cols = featureMask.flatMap((m, i) => (m === 1 ? [i] : []));
  const out = new Float32Array(n * cols.length);
  for (let r = 0; r < n; r++) cols.forEach((c, k) => (out[r * cols.length + k] = summary[r * featureMask.length + c]));
  return out;
}

function pickChannels(a: Float32Array | Uint8Array, n: number, channels: readonly number[], nChannels: number, len: number): Float32Array | Uint8Array {
  const out = new (a.constructor as { new (n: number): Float32Array | Uint8Array })(n * channels.length * len);
  for (let r = 0; r < n; r++) channels.forEach((c, k) => out.set(a.subarray((r * nChannels + c) * len, (r * nChannels + c + 1) * len), (r * channels.length + k) * len));
  return out;
}

export function checkpointBaseName(kind: string, mode: string): string {
  return `${kind}_${mode}`;
}

function fail(path: string, message: string): never {
  throw new TrainError(`checkpoint ${path}: ${message}`);
}

/** Structural checks of a sidecar, including that a realistic checkpoint's masks hold no oracle channel. */
export function validateSidecar(doc: unknown, path: string): CheckpointSidecar {
  const sc = doc as CheckpointSidecar;
  if (!sc || typeof sc !== "object") fail(path, "not a JSON object");
  if (sc.format !== CHECKPOINT_FORMAT) fail(path, `format ${JSON.stringify(sc.format)} is not ${CHECKPOINT_FORMAT}`);
  if (!(MODEL_KINDS as readonly string[]).includes(sc.kind)) fail(path, `unknown model kind ${JSON.stringify(sc.kind)}`);
  if (!(MODES as readonly string[]).includes(sc.mode)) fail(path, `unknown mode ${JSON.stringify(sc.mode)}`);
  if (!Array.isArray(sc.channel_mask) || sc.channel_mask.length !== N_CHANNELS) fail(path, `channel_mask must have ${N_CHANNELS} entries`);
  // The statistics per channel come from the trained schema (the plain five unless it says otherwise).
  const stats = (sc.feature_schema as { stats?: string[] } | undefined)?.stats ?? STATS;
  const nFeatures = N_CHANNELS * stats.length;
  if (!Array.isArray(sc.feature_mask) || sc.feature_mask.length !== nFeatures) fail(path, `feature_mask must have ${nFeatures} entries`);
  const expectC = channelMask(sc.mode).map(Number);
  const expectF = featureMask(sc.mode, stats).map(Number);
  if (sc.channel_mask.some((v, i) => v !== expectC[i]) || sc.feature_mask.some((v, i) => v !== expectF[i])) {
    const k = sc.channel_mask.findIndex((v, i) => v !== expectC[i]);
    fail(path, `its masks are not the ${sc.mode} mode's${k >= 0 ? ` (channel ${CHANNELS[k].name} is ${sc.channel_mask[k] ? "on" : "off"})` : ""}; refusing to use it`);
  }
  if (typeof sc.weights_file !== "string" || sc.weights_file === "") fail(path, "no weights_file");
  if (!Array.isArray(sc.classes) || sc.classes.length < 2) fail(path, "no classes");
  if (sc.trained_labels !== undefined) {
    const l = sc.trained_labels;
    const ok = Array.isArray(l) && l.length > 0 && l.every((v, i) => Number.isInteger(v) && v >= 0 && v < sc.classes.length && (i === 0 || l[i - 1] < v));
    if (!ok) fail(path, `trained_labels must be ascending distinct class ids in 0..${sc.classes.length - 1}, got ${JSON.stringify(l)}`);
  }
  return sc;
}

/** Where a checkpoint's trained label set came from. */
export type LabelSource = "trained_labels" | "class_counts_train" | "classes";

/**
 * The class ids a checkpoint was trained on. Checkpoints written before
 * `trained_labels` existed fall back to the classes with training windows
 * in `training.class_counts_train`, and, without that, to every class id of
 * `classes` (the model's output width); the source says which.
 */
export function trainedLabels(sc: CheckpointSidecar): { labels: number[]; source: LabelSource } {
  if (sc.trained_labels !== undefined) return { labels: [...sc.trained_labels], source: "trained_labels" };
  const counts = sc.training?.class_counts_train;
  if (Array.isArray(counts) && counts.length === sc.classes.length && counts.some((c) => c > 0)) {
    return { labels: counts.flatMap((c, k) => (c > 0 ? [k] : [])), source: "class_counts_train" };
  }
  return { labels: sc.classes.map((_, k) => k), source: "classes" };
}

async function readSidecar(path: string): Promise<CheckpointSidecar> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TrainError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TrainError(`checkpoint ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validateSidecar(doc, path);
}

/** Names of the model's input columns (summary features) in the features file's order, from the trained schema. */
export function inputFeatureNames(sc: CheckpointSidecar): string[] {
  const names = (sc.feature_schema as { features?: string[] }).features ?? [];
  if (names.length !== sc.feature_mask.length) throw new TrainError(`checkpoint: the stored feature schema has ${names.length} features, the feature mask ${sc.feature_mask.length}`);
  return names.filter((_, i) => sc.feature_mask[i] === 1);
}

export function inputChannels(sc: CheckpointSidecar): number[] {
  return sc.channel_mask.flatMap((m, i) => (m === 1 ? [i] : []));
}

export async function loadCheckpoint(
  sidecarPath: string,
  featuresSchema: { hash: string } & Record<string, unknown>,
  runtime: RuntimeOptions = {},
): Promise<TrainedModel> {
  const sc = await readSidecar(sidecarPath);
  if (sc.feature_schema_hash !== featuresSchema.hash) {
    const changes = describeSchemaChange(sc.feature_schema, featuresSchema);
    throw new SchemaMismatchError(
      `checkpoint ${sidecarPath} was trained on feature schema ${sc.feature_schema_hash}, but the features have schema ${featuresSchema.hash}: ${changes.join("; ")}. Retrain on these features (cis490 train) or evaluate on features made with the old settings`,
    );
  }
  const weightsPath = join(dirname(sidecarPath), sc.weights_file);
  let weightsSha: string;
  try {
    weightsSha = await sha256OfFile(weightsPath);
  } catch (error) {
    throw new TrainError(`checkpoint ${sidecarPath}: weights file ${weightsPath} is missing or unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (sc.weights_sha256 && weightsSha !== sc.weights_sha256) {
    throw new TrainError(`checkpoint ${sidecarPath}: weights file ${weightsPath} has sha256 ${weightsSha}, the sidecar expects ${sc.weights_sha256} (overwritten by another run?)`);
  }
  const nClasses = sc.classes.length;
  const hp = sc.hyper_parameters;
  const features = inputFeatureNames(sc);
  const channels = inputChannels(sc);
  const tensorLen = Number((sc.feature_schema as { tensor_len?: number }).tensor_len);
  const nChannelsInFile = sc.channel_mask.length;
  const embeddingProblem = embeddingBlockProblem(sc.embedding);
  const embeddingInfo = { embedding: embeddingProblem === null ? sc.embedding! : null, embeddingProblem };
  // Windows in the featurizer's layout -> this model's inputs (its features, or its channels), masks applied.
  const batchOf = (input: WindowArrays): WindowBatch => {
    if (!isSequenceKind(sc.kind)) {
      const x = pickFeatures(input.summary, input.n, sc.feature_mask);
      if (sc.kind === "gbt") infinitiesToNaN(x);
      return { x, n: input.n };
    }
    if (!input.x || !input.mask) throw new TrainError(`the ${sc.kind} model reads window tensors: featurise with tensors on`);
    const x = pickChannels(input.x, input.n, channels, nChannelsInFile, tensorLen) as Float32Array;
    const mask = pickChannels(input.mask, input.n, channels, nChannelsInFile, tensorLen) as Uint8Array;
    return { x, mask, n: input.n };
  };

  const checkHash = async (featuresPath: string): Promise<void> => {
    let meta: Record<string, string>;
    try {
      meta = (await parquetRowGroups(featuresPath)).metadata;
    } catch (error) {
      throw new TrainError(`cannot read features file ${featuresPath}: ${(error as Error).message}`);
    }
    const fileHash = meta[SCHEMA_HASH_KEY];
    if (fileHash !== undefined && fileHash !== sc.feature_schema_hash) {
      throw new SchemaMismatchError(`checkpoint ${sidecarPath} was trained on feature schema ${sc.feature_schema_hash}, but ${featuresPath} was written under schema ${fileHash}`);
    }
  };

  if (sc.kind === "gbt") {
    let json: string;
    try {
      json = await readFile(weightsPath, "utf8");
    } catch (error) {
      throw new TrainError(`checkpoint ${sidecarPath}: cannot read ${weightsPath}: ${(error as Error).message}`);
    }
    const est = GbtEstimator.fromModel(hp as unknown as GbtHyperParameters, sc.seed, nClasses, json, features.length);
    return {
      sidecar: sc,
      ...embeddingInfo,
      embedArrays: (input) => (input.n === 0 ? Promise.resolve(new Float32Array(0)) : est.embed(batchOf(input))),
      parameters: gbtNodes(json),
      async predictProba(featuresPath, _tensorsDir, windows) {
        await checkHash(featuresPath);
        const n = windows.episode_id.length;
        if (n === 0) return new Float32Array(0);
        const x = await readFeatureRows(featuresPath, windows, features);
        infinitiesToNaN(x);
        return est.predictProba({ x, n });
      },
      predictArrays: (input) => (input.n === 0 ? Promise.resolve(new Float32Array(0)) : est.predictProba(batchOf(input))),
    };
  }

  if (sc.kind === "minirocket") {
    let est: MiniRocketEstimator;
    try {
      const state = JSON.parse(await readFile(weightsPath, "utf8")) as MiniRocketState;
      est = MiniRocketEstimator.fromState({ ...(hp as unknown as MiniRocketHyperParameters), threads: runtime.threads ?? 0 }, { channels: channels.length, steps: tensorLen }, nClasses, sc.seed, state);
    } catch (error) {
      throw new TrainError(`checkpoint ${sidecarPath}: cannot restore the MiniRocket model from ${weightsPath}: ${(error as Error).message}`);
    }
    const head = est.state!.head;
    return {
      sidecar: sc,
      ...embeddingInfo,
      embedArrays: async (input) => (input.n === 0 ? new Float32Array(0) : est.embed(batchOf(input))),
      // The head's weights and biases (the transform's kernels are fixed, its biases fitted).
      parameters: head.weights.length + head.bias.length,
      predictArrays: async (input) => (input.n === 0 ? new Float32Array(0) : est.predictProba(batchOf(input))),
      async predictProba(featuresPath, tensorsDir, windows) {
        await checkHash(featuresPath);
        const n = windows.episode_id.length;
        if (n === 0) return new Float32Array(0);
        if (!tensorsDir) throw new TrainError(`the minirocket model reads tensor shards: pass the tensors directory (cis490 features --tensors)`);
        const out = new Float32Array(n * nClasses);
        await streamTensorRows(tensorsDir, sc.feature_schema_hash, [windows], channels, tensorLen, nChannelsInFile, async (_t, rows, x, mask) => {
          const p = await est.predictProba({ x, mask, n: rows.length });
          for (let k = 0; k < rows.length; k++) out.set(p.subarray(k * nClasses, (k + 1) * nClasses), rows[k] * nClasses);
        });
        return out;
      },
    };
  }

  const torchKind = sc.kind;
  const shape: InputShape = isSequenceKind(sc.kind) ? { channels: channels.length, steps: tensorLen } : { features: features.length };
  if (!sc.standardisation) fail(sidecarPath, "a neural checkpoint needs its standardisation statistics");
  const threads = runtime.threads ?? availableParallelism();
  let est: NeuralEstimator;
  try {
    est = await NeuralEstimator.restore(torchKind, hp as unknown as NeuralHyperParameters, shape, nClasses, sc.seed, sc.standardisation, weightsPath, { ...runtime, threads });
  } catch (error) {
    throw new TrainError(`checkpoint ${sidecarPath}: cannot restore the ${sc.kind} model from ${weightsPath}: ${(error as Error).message}`);
  }
  return {
    sidecar: sc,
    parameters: est.model?.numParameters ?? 0,
    ...embeddingInfo,
    embedArrays: async (input) => (input.n === 0 ? new Float32Array(0) : est.embed(batchOf(input))),
    async predictProba(featuresPath, tensorsDir, windows) {
      await checkHash(featuresPath);
      const n = windows.episode_id.length;
      if (n === 0) return new Float32Array(0);
      if (!isSequenceKind(sc.kind)) {
        const x = await readFeatureRows(featuresPath, windows, features);
        return est.predictProba({ x, n });
      }
      if (!tensorsDir) throw new TrainError(`the ${sc.kind} model reads tensor shards: pass the tensors directory (cis490 features --tensors)`);
      const out = new Float32Array(n * nClasses);
      await streamTensorRows(tensorsDir, sc.feature_schema_hash, [windows], channels, tensorLen, nChannelsInFile, async (_t, rows, x, mask) => {
        const p = await est.predictProba({ x, mask, n: rows.length });
        for (let k = 0; k < rows.length; k++) out.set(p.subarray(k * nClasses, (k + 1) * nClasses), rows[k] * nClasses);
      });
      return out;
    },
    predictArrays: async (input) => (input.n === 0 ? new Float32Array(0) : est.predictProba(batchOf(input))),
  };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
