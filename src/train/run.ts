// `cis490 train` for one model x mode, end to end: check the inputs, read the
// train and val sides (never the test side's values), build the model's
// inputs (realistic mode physically drops the oracle channels), fit, and
// write the checkpoint: weights first, then the sidecar (atomically, last:
// its presence means the pair is whole; it records the weights' sha256).

import { createHash } from "node:crypto";
import { readFile, mkdir, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { PHASES } from "../episode/report.js";
import { CHANNELS, channelIndices, channelMask, featureIndices, featureMask } from "../features/channels.js";
import { parquetRowGroups } from "../io/parquet.js";
import { FEATURE_SCHEMA_FILE, readFeatureSchema, type FeatureSchema } from "../features/schema.js";
import { SCHEMA_HASH_KEY } from "../features/shards.js";
import { TENSOR_INDEX_FILE } from "../features/tensor-shards.js";
import { loadEngines, type ProcessGroup, type TorchDevice, type TorchKind } from "../engines/index.js";
import { loadCis490Addon } from "../native/addon.js";
import { commitTempFile, tempPathFor, writeFileAtomic } from "../io/atomic.js";
import { sha256OfFile } from "../io/hash.js";
import { summaryPathFor } from "../split/run.js";
import { dropWindows, keptByDrop, readNoiseDrop } from "../labelnoise/drop.js";
import { checkpointBaseName } from "./checkpoint.js";
import { embeddingSampleSize, pickRows, sampleRows, tryFitEmbeddingBlock, type EmbeddingBlock } from "./embedding.js";
import { DEFAULT_GBT, GbtEstimator, type GbtHyperParameters, type Matrix, type StreamedMatrix } from "./gbt.js";
import { selectGbtRoundsByHostFolds, type HostFoldSelection } from "./host-folds.js";
import type { LoopOptions } from "./loop.js";
import { DEFAULT_MINIROCKET, MiniRocketEstimator, type MiniRocketHyperParameters } from "./minirocket.js";
import { DEFAULT_NEURAL, NeuralEstimator, type NeuralHyperParameters, type RuntimeOptions } from "./neural.js";
import { infinitiesToNaN } from "./standardise.js";
import { prepareSequenceData } from "./sequence-data.js";
import { loadTensorRows, tensorsRoot } from "./tensors.js";
import { CHECKPOINT_FORMAT, CHECKPOINT_SUFFIX, isSequenceKind, TrainError, type CheckpointSidecar, type WrittenSidecar, type EpochRecord, type ClassWeighting, type Mode, type ModelKind, type TrainingInfo } from "./types.js";
import { readSplitFolds, readSplitSides, requireFile, scanWindows, sideFeatureBatches, type WindowSet } from "./windows.js";

/** Class weights: scikit-learn's "balanced" n / (k * n_c) over the classes present in training (mean 1 over training windows), clipped to this range. */
export const CLASS_WEIGHT_CLIP: [number, number] = [0.1, 10];
/**
 * Train + val tensors kept in memory when they fit (default); see
 * --tensor-budget-mb. Beyond it epochs stream from the shard files, so this
 * is a speed/memory trade, never a refusal.
 */
/** MiniRocket holds its train+val tensors whole (docs/minirocket.md). */
export const MINIROCKET_TENSOR_BUDGET_BYTES = 2 * 2 ** 30;

export const DEFAULT_TENSOR_BUDGET_BYTES = 256 * 1024 ** 2;

export interface TrainOptions {
  kind: ModelKind;
  mode: Mode;
  features: string;
  /** The tensors/ directory (or the features directory holding it); sequence models only. */
  tensors: string | null;
  split: string;
  out: string;
  seed: number;
  neural?: Partial<NeuralHyperParameters>;
  gbt?: Partial<GbtHyperParameters>;
  minirocket?: Partial<MiniRocketHyperParameters>;
  /** Engine threads (default: the cores this process may use). */
  threads?: number;
  device?: TorchDevice;
  allowMissingClass?: boolean;
  /** Retrain even when a checkpoint for exactly this request exists. */
  force?: boolean;
  tensorBudgetBytes?: number;
  onStep?: LoopOptions["onStep"];
  onEpoch?: LoopOptions["onEpoch"];
  /** A line about what is happening now (loading, fitting...). */
  onStatus?: (message: string) => void;
  /** A `cis490 label-noise` report: its flagged training windows are left out of the fit. */
  dropNoisy?: string;
  /** Class weights in the training loss: "balanced" (default) or "none". */
  classWeighting?: ClassWeighting;
  /** Tests: wrap the engine model to look at its inputs. */
  wrapModel?: RuntimeOptions["wrap"];
  /**
   * Data-parallel neural training over a connected c10d group (docs/scale.md):
   * rank 0 writes the checkpoint, the other ranks write nothing.
   */
  distributed?: { group: ProcessGroup; master: string; timeoutSeconds: number };
}

export interface TrainResult {
  sidecarPath: string;
  weightsPath: string;
  sidecar: WrittenSidecar;
  /** The checkpoint already answered this exact request and was kept. */
  reused?: boolean;
  /** A rank > 0 of a data-parallel run: it trained with the others, rank 0 wrote the checkpoint (sidecar: what rank 0 recorded, less the weights' digest). */
  worker?: { rank: number; world_size: number };
}

/** The existing checkpoint, if it was made for this exact request and its weights are intact. */
async function reusableCheckpoint(sidecarPath: string, requestSha: string): Promise<TrainResult | null> {
  try {
    const sidecar = JSON.parse(await readFile(sidecarPath, "utf8")) as WrittenSidecar;
    if (sidecar.request_sha256 !== requestSha || !sidecar.weights_sha256 || !sidecar.training) return null;
    const weightsPath = join(dirname(sidecarPath), sidecar.weights_file);
    if ((await sha256OfFile(weightsPath)) !== sidecar.weights_sha256) return null;
    return { sidecarPath, weightsPath, sidecar, reused: true };
  } catch {
    return null; // absent or unreadable: train
  }
}

export function classWeights(counts: number[], clip: [number, number] = CLASS_WEIGHT_CLIP, weighting: ClassWeighting = "balanced"): number[] {
  if (weighting === "none") return counts.map(() => 1);
  const n = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? Math.min(clip[1], Math.max(clip[0], n / (present * c))) : 1));
}

function countClasses(labels: Int32Array, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (const l of labels) if (l >= 0 && l < k) out[l]++;
  return out;
}

export async function readSchemaFor(features: string): Promise<FeatureSchema> {
  const path = join(dirname(features), FEATURE_SCHEMA_FILE);
  await requireFile(path, "feature schema", "it is written beside the features file by `cis490 features`");
  let schema: FeatureSchema;
  try {
    schema = await readFeatureSchema(path);
  } catch (error) {
    throw new TrainError(`${path}: ${(error as Error).message}`);
  }
  const names = schema.channels?.map((c) => c.name) ?? [];
  const registry = CHANNELS.map((c) => c.name);
  if (names.join("\n") !== registry.join("\n")) {
    const k = registry.findIndex((n, i) => names[i] !== n);
    throw new TrainError(`${path}: channel list differs from this version's registry at index ${k} (${names[k] ?? "(none)"} vs ${registry[k] ?? "(none)"}); the realistic/oracle masks are defined on the registry`);
  }
  return schema;
}

async function splitSummaryMissing(split: string): Promise<string[]> {
  try {
    const doc = JSON.parse(await readFile(summaryPathFor(split), "utf8")) as { missing_in_train?: string[] };
    return Array.isArray(doc.missing_in_train) ? doc.missing_in_train : [];
  } catch {
    return [];
  }
}

function engineInfo(kind: ModelKind, device: string): CheckpointSidecar["engine"] {
  if (kind === "minirocket") return { name: "cis490-minirocket", version: loadCis490Addon().version(), device: "cpu" };
  const info = loadEngines().info();
  return kind === "gbt" ? { name: "xgboost", version: info.xgboost.version, device: "cpu" } : { name: "libtorch", version: info.torch.torchVersion, device };
}

export function resolveNeural(p: Partial<NeuralHyperParameters> = {}): NeuralHyperParameters {
  const hp = { ...DEFAULT_NEURAL, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as NeuralHyperParameters;
  const posInt = (k: keyof NeuralHyperParameters, min = 1) => {
    const v = hp[k] as number;
    if (!Number.isInteger(v) || v < min) throw new TrainError(`${k} must be an integer >= ${min} (got ${v})`);
  };
  posInt("epochs");
  posInt("batch_size", 2);
  posInt("hidden");
  posInt("layers");
  posInt("heads");
  posInt("patience", 0);
  posInt("shuffle_buffer");
  if (!(hp.lr > 0 && Number.isFinite(hp.lr))) throw new TrainError(`lr must be a positive number (got ${hp.lr})`);
  if (!(hp.dropout >= 0 && hp.dropout < 1)) throw new TrainError(`dropout must be in [0, 1) (got ${hp.dropout})`);
  if (!(hp.max_minutes >= 0)) throw new TrainError(`max_minutes must be >= 0 (got ${hp.max_minutes})`);
  if (hp.input_transform !== "symlog" && hp.input_transform !== "none") throw new TrainError(`input_transform must be symlog or none`);
  return hp;
}

export function resolveGbt(p: Partial<GbtHyperParameters> = {}, threads: number): GbtHyperParameters {
  const hp = { ...DEFAULT_GBT, nthread: threads, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as GbtHyperParameters;
  if (!Number.isInteger(hp.rounds) || hp.rounds < 1) throw new TrainError(`rounds must be a positive integer (got ${hp.rounds})`);
  if (!Number.isInteger(hp.max_depth) || hp.max_depth < 1) throw new TrainError(`max_depth must be a positive integer (got ${hp.max_depth})`);
  if (!(hp.eta > 0 && hp.eta <= 1)) throw new TrainError(`eta must be in (0, 1] (got ${hp.eta})`);
  return hp;
}

export function resolveMiniRocket(p: Partial<MiniRocketHyperParameters> = {}, threads: number): MiniRocketHyperParameters {
  const hp = { ...DEFAULT_MINIROCKET, threads, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as MiniRocketHyperParameters;
  for (const k of ["num_features", "max_dilations_per_kernel", "epochs", "batch_size"] as const) {
    if (!Number.isInteger(hp[k]) || hp[k] < 1) throw new TrainError(`${k} must be a positive integer (got ${hp[k]})`);
  }
  if (hp.num_features < 84) throw new TrainError(`num_features must be at least 84 (one per kernel; got ${hp.num_features})`);
  if (!(hp.lr > 0 && Number.isFinite(hp.lr))) throw new TrainError(`lr must be a positive number (got ${hp.lr})`);
  if (!(hp.l2 >= 0)) throw new TrainError(`l2 must be >= 0 (got ${hp.l2})`);
  return hp;
}

function windowCount(w: WindowSet): number {
  return w.episode_id.length;
}

export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const status = o.onStatus ?? (() => undefined);
  const { kind, mode } = o;
  const sequence = isSequenceKind(kind);
  const threads = o.threads ?? availableParallelism();

  await requireFile(o.features, "features file", "run `cis490 features` first");
  await requireFile(o.split, "split file", "run `cis490 split` first");
  const schema = await readSchemaFor(o.features);
  const footer = (await parquetRowGroups(o.features).catch((error: Error) => {
    throw new TrainError(`cannot read features file ${o.features}: ${error.message}`);
  })).metadata[SCHEMA_HASH_KEY];
  if (footer !== undefined && footer !== schema.hash) {
    throw new TrainError(`${o.features} was written under feature schema ${footer}, but ${join(dirname(o.features), FEATURE_SCHEMA_FILE)} has ${schema.hash}: the two files are from different runs`);
  }
  if (sequence) {
    if (!o.tensors) throw new TrainError(`the ${kind} model reads tensor shards: pass --tensors (written by \`cis490 features --tensors\`)`);
    tensorsRoot(o.tensors);
  }
  const rank = o.distributed?.group.rank ?? 0;
  if (o.distributed && (kind === "gbt" || kind === "minirocket")) throw new TrainError(`${kind} does not train data-parallel (--world-size is for mlp, cnn, gru, lstm, transformer)`);
  const neuralHp = kind === "gbt" || kind === "minirocket" ? null : resolveNeural(o.neural);
  const rocketHp = kind === "minirocket" ? resolveMiniRocket(o.minirocket, threads) : null;
  const gbtHp = kind === "gbt" ? resolveGbt(o.gbt, threads) : null;

  // Hash the inputs first: a rerun of exactly this request keeps the checkpoint it already made.
  status("hashing the input files");
  const [featuresSha, splitSha] = await Promise.all([sha256OfFile(o.features), sha256OfFile(o.split)]);
  const noise = o.dropNoisy ? await readNoiseDrop(o.dropNoisy, featuresSha) : null;
  const folds = await readSplitFolds(o.split);
  if (folds && kind !== "gbt") {
    throw new TrainError(`${o.split} is a k-fold-by-host split (split --val host-folds), which selects the GBT's boosting rounds; ${kind} needs a val side for its early stopping and best epoch (make the split with --val episodes or --val hosts)`);
  }
  const weighting = o.classWeighting ?? "balanced";
  const base = checkpointBaseName(kind, mode);
  const sidecarPath = join(o.out, base + CHECKPOINT_SUFFIX);
  // A missing index is reported properly further on; here it only means "not reusable".
  const tensorsIndexSha = sequence ? await sha256OfFile(join(tensorsRoot(o.tensors!), TENSOR_INDEX_FILE)).catch(() => null) : null;
  const requestSha = createHash("sha256")
    .update(JSON.stringify({ kind, mode, seed: o.seed, neural: neuralHp, gbt: gbtHp, ...(rocketHp ? { minirocket: { ...rocketHp, threads: undefined } } : {}), featuresSha, splitSha, tensorsIndexSha, allow: o.allowMissingClass ?? false, ...(weighting !== "balanced" ? { weighting } : {}), ...(noise ? { dropNoisy: noise.report_sha256 } : {}), ...(o.distributed ? { worldSize: o.distributed.group.worldSize } : {}) }))
    .digest("hex");
  // Ranks never reuse: one rank returning early would leave the others waiting at a collective.
  if (!o.force && !o.distributed) {
    const existing = await reusableCheckpoint(sidecarPath, requestSha);
    if (existing) return existing;
  }

  status("reading the split and the train/val windows");
  const sides = await readSplitSides(o.split);
  const channels = channelIndices(mode);
  const featureIdx = featureIndices(mode, schema.stats);
  const featureCols = sequence ? [] : featureIdx.map((i) => schema.features[i]);
  // Quantile GBT streams its training rows from the features file (sideFeatureBatches) instead of holding them.
  // k-fold by host cuts the training side into folds: it is held in memory.
  const streamTrain = kind === "gbt" && (gbtHp!.matrix ?? "quantile") === "quantile" && !folds;
  const scan = await scanWindows(o.features, sides, ["train", "val"], featureCols, streamTrain ? ["val"] : ["train", "val"]);
  let train = scan.windows.get("train")!;
  let dropped = 0;
  if (noise) {
    const d = dropWindows(train, scan.x.get("train"), featureCols.length, noise);
    train = d.set;
    if (d.x) scan.x.set("train", d.x);
    dropped = d.dropped;
  }
  const val = scan.windows.get("val")!;
  const K = PHASES.length;
  if (windowCount(train) === 0) throw new TrainError(`the train side of ${o.split} has no labelled windows`);
  if (folds && windowCount(val) > 0) throw new TrainError(`${o.split} has fold numbers and val episodes: a k-fold-by-host split has no val side (make it with \`cis490 split --val host-folds\`)`);
  if (windowCount(val) === 0 && !folds) throw new TrainError(`the val side of ${o.split} has no labelled windows: model selection and early stopping need it (cis490 split --val-fraction > 0)`);
  const countsTrain = countClasses(train.label, K);
  const countsVal = countClasses(val.label, K);
  const missing = new Set<string>(await splitSummaryMissing(o.split));
  countsVal.forEach((c, k) => {
    if (c > 0 && countsTrain[k] === 0) missing.add(PHASES[k]);
  });
  const warnings: string[] = [];
  if (missing.size > 0) {
    const detail = [...missing].map((p) => `${p} (val ${countsVal[PHASES.indexOf(p as (typeof PHASES)[number])]} windows)`).join(", ");
    if (!o.allowMissingClass) {
      throw new TrainError(`class(es) missing from the training side of ${o.split}: ${detail}; a model cannot learn a class it never sees (make another split, or pass --allow-missing-class)`);
    }
    warnings.push(`class(es) absent from training (allowed by --allow-missing-class): ${[...missing].join(", ")}`);
  }
  if (scan.unknown_label > 0) warnings.push(`${scan.unknown_label} train/val window(s) with label -1 (unknown phase) excluded`);
  const weights = classWeights(countsTrain, CLASS_WEIGHT_CLIP, weighting);
  const cw = Float32Array.from(weights);

  if (rank === 0) await mkdir(o.out, { recursive: true });
  const weightsPath = join(o.out, base + (kind === "gbt" ? ".xgb.json" : kind === "minirocket" ? ".minirocket.json" : ".pt"));
  const tmpWeights = tempPathFor(weightsPath);

  let hyper: Record<string, unknown>;
  let standardisation: CheckpointSidecar["standardisation"] = null;
  let history: EpochRecord[];
  let best: { epoch: number; val_macro_f1: number };
  let stopped: TrainingInfo["stopped"];
  let inputShape: number[];
  let inputs: string[];
  let device = "cpu";
  let gbtInfo: TrainingInfo["gbt"];
  let hostFolds: TrainingInfo["host_folds"];
  let tensorIo: TrainingInfo["tensor_io"];
  let rocketInfo: TrainingInfo["minirocket"];
  // A seeded sample of training windows, embedded by the fitted model, gives the dashboard's PCA (docs/embedding.md).
  let embedding: EmbeddingBlock | undefined;
  const nTrain = train.label.length;
  const embedStatus = (rows: number) => status(`embedding ${rows} of ${nTrain} training windows for the checkpoint's PCA`);
  try {
    if (kind === "minirocket") {
      status(`loading tensors of ${train.label.length + val.label.length} train/val windows (${channels.length} channels)`);
      // MiniRocket fits on arrays: train+val stay in memory, up to the larger of --tensor-budget-mb and 2 GiB.
      const budget = Math.max(o.tensorBudgetBytes ?? 0, MINIROCKET_TENSOR_BUDGET_BYTES);
      const [t, v] = await loadTensorRows(o.tensors!, schema.hash, [train, val], channels, schema.tensor_len, schema.channels.length, budget);
      inputShape = [channels.length, schema.tensor_len];
      inputs = channels.map((c) => schema.channels[c].name);
      status(`fitting MiniRocket (${rocketHp!.num_features} features) on ${train.label.length} windows (val ${val.label.length})`);
      const est = new MiniRocketEstimator(rocketHp!, { channels: channels.length, steps: schema.tensor_len }, K, o.seed);
      const r = await est.fit({ n: train.label.length, x: t.x, mask: t.mask, y: train.label }, { n: val.label.length, x: v.x, mask: v.mask, y: val.label }, { classWeights: cw, onEpoch: o.onEpoch });
      await writeFileAtomic(tmpWeights, JSON.stringify(est.state));
      const rows = sampleRows(nTrain, embeddingSampleSize(est.embeddingWidth), o.seed);
      const per = channels.length * schema.tensor_len;
      embedStatus(rows.length);
      embedding = await tryFitEmbeddingBlock(est, { n: rows.length, x: pickRows(t.x, rows, per), mask: pickRows(t.mask, rows, per) }, nTrain, o.seed, warnings);
      hyper = { ...rocketHp!, threads: undefined };
      history = r.history;
      best = r.best;
      stopped = r.stopped;
      rocketInfo = { num_features: est.state!.head.n_features, dilations: est.state!.transform.dilations, transform_seconds: r.transform_seconds, head_seconds: r.head_seconds };
    } else if (kind === "gbt") {
      const xVal = scan.x.get("val")!;
      const width = featureCols.length;
      // Per training pass: infinities (read as missing) and the columns with a finite value.
      let infTrain = 0;
      const finite = new Uint8Array(width);
      const note = (x: Float32Array) => {
        for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) finite[i % width] = 1;
      };
      // The training windows the embedding PCA sees (GBT's embedding is its K margins), gathered on the first pass when streamed.
      const sample = sampleRows(nTrain, embeddingSampleSize(K), o.seed);
      let sampleX: Float32Array;
      let firstPassRows = nTrain;
      let trainInput: Matrix | StreamedMatrix;
      if (streamTrain) {
        const keep = noise ? keptByDrop(noise) : undefined;
        sampleX = new Float32Array(sample.length * width);
        let passes = 0;
        firstPassRows = 0;
        trainInput = {
          width,
          batches: async function* () {
            infTrain = 0;
            finite.fill(0);
            const first = passes++ === 0;
            let row = 0;
            let next = 0;
            for await (const b of sideFeatureBatches(o.features, sides, "train", featureCols, keep)) {
              infTrain += b.infinities;
              note(b.x);
              const n = b.y.length;
              for (; first && next < sample.length && sample[next] < row + n; next++) {
                sampleX.set(b.x.subarray((sample[next] - row) * width, (sample[next] - row + 1) * width), next * width);
              }
              row += n;
              if (first) firstPassRows = row;
              yield b;
            }
          },
        };
      } else {
        const xTrain = scan.x.get("train")!;
        infTrain = infinitiesToNaN(xTrain);
        note(xTrain);
        sampleX = pickRows(xTrain, sample, width);
        trainInput = { x: xTrain, n: train.label.length, width, y: train.label };
      }
      const infVal = infinitiesToNaN(xVal);
      status(`fitting XGBoost on ${train.label.length} x ${width} (val ${val.label.length})${streamTrain ? ", training rows streamed from the features file" : ""}`);
      let selection: HostFoldSelection | undefined;
      if (folds) {
        status(`k-fold by host: ${new Set(folds.values()).size} folds of the ${train.label.length} training windows`);
        selection = await selectGbtRoundsByHostFolds(gbtHp!, o.seed, K, {
          matrix: trainInput as Matrix,
          fold: Int32Array.from(train.episode_id, (e) => folds.get(e)!),
          host: train.host_id,
          weightsFor: (y) => Float32Array.from(classWeights(countClasses(y, K), CLASS_WEIGHT_CLIP, weighting)),
          onFold: (done, total, f) => status(`fold ${done}/${total} (validates ${f.hosts.join(", ")}): its own best round ${f.best_iteration + 1}, val macro F1 ${f.val_macro_f1.toFixed(3)}`),
        });
        status(`k-fold by host chose ${selection.rounds} rounds (mean cross-host val macro F1 ${selection.val_macro_f1.toFixed(3)}); boosting them on every training host`);
      }
      const est = new GbtEstimator(selection ? { ...gbtHp!, rounds: selection.rounds } : gbtHp!, o.seed, K);
      const r = await est.fit(trainInput, selection ? null : { x: xVal, n: val.label.length, width, y: val.label }, { classWeights: cw });
      if (infTrain + infVal > 0) warnings.push(`${infTrain + infVal} infinite feature value(s) treated as missing`);
      for (let f = 0; f < width; f++) {
        if (!finite[f]) warnings.push(`feature ${featureCols[f]} has no finite value in the training windows (XGBoost treats it as always missing)`);
      }
      await writeFileAtomic(tmpWeights, est.modelJson!);
      embedStatus(sample.length);
      if (firstPassRows === nTrain) embedding = await tryFitEmbeddingBlock(est, { n: sample.length, x: sampleX }, nTrain, o.seed, warnings);
      else warnings.push(`no embedding block stored: the streamed training side held ${firstPassRows} windows, the index ${nTrain}`);
      hyper = { ...gbtHp! };
      inputShape = [width];
      inputs = featureCols;
      if (selection) {
        const { history: foldHistory, ...rest } = selection;
        history = foldHistory;
        best = { epoch: selection.rounds, val_macro_f1: selection.val_macro_f1 };
        stopped = "host-folds";
        hostFolds = rest;
        gbtInfo = { best_iteration: selection.rounds - 1, rounds_trained: r.rounds_trained, best_val_mlogloss: selection.val_mlogloss };
      } else {
        history = r.history;
        best = r.best;
        stopped = r.rounds_trained < gbtHp!.rounds ? "early-stopping" : "max-epochs";
        gbtInfo = { best_iteration: r.best_iteration, rounds_trained: r.rounds_trained, best_val_mlogloss: r.best_val_mlogloss };
      }
      // Boosting ran inside XGBoost: one progress line for the kept model.
      o.onEpoch?.(history[history.length - 1], best);
    } else {
      const est = new NeuralEstimator(kind as TorchKind, neuralHp!, sequence ? { channels: channels.length, steps: schema.tensor_len } : { features: featureCols.length }, K, o.seed, {
        threads,
        device: o.device,
        wrap: o.wrapModel,
        group: o.distributed?.group,
      });
      try {
        let r;
        if (sequence) {
          status(`checking the tensors of ${train.label.length + val.label.length} train/val windows (${channels.length} channels) and their statistics`);
          const data = await prepareSequenceData({
            path: o.tensors!,
            schemaHash: schema.hash,
            train,
            val,
            channels,
            tensorLen: schema.tensor_len,
            nChannelsInFile: schema.channels.length,
            transform: neuralHp!.input_transform,
            cacheBudgetBytes: o.tensorBudgetBytes ?? DEFAULT_TENSOR_BUDGET_BYTES,
          });
          inputShape = [channels.length, schema.tensor_len];
          inputs = channels.map((c) => schema.channels[c].name);
          status(`training ${kind} on ${train.label.length} windows (val ${val.label.length}; tensors ${data.cached ? "cached in memory" : "streamed from the shards"})`);
          r = await est.fitChunked(data, cw, tmpWeights, { onStep: o.onStep, onEpoch: o.onEpoch });
          tensorIo = { source: data.cached ? "memory" : "stream", shuffle_buffer: neuralHp!.shuffle_buffer, first_pass_seconds: data.first_pass_seconds, ...r.io! };
          // Epochs streamed the tensors: read the sampled windows' rows again (raw; embed() scales them).
          const rows = sampleRows(nTrain, embeddingSampleSize(est.embeddingWidth), o.seed);
          const pick = <T>(a: ArrayLike<T>): T[] => Array.from(rows, (i) => a[i]);
          const target = { episode_id: pick(train.episode_id), window: Int32Array.from(pick(train.window)), host_id: pick(train.host_id), label: Int32Array.from(pick(train.label)) };
          embedStatus(rows.length);
          embedding = await tryFitEmbeddingBlock(
            est,
            async () => {
              const [sample] = await loadTensorRows(o.tensors!, schema.hash, [target], channels, schema.tensor_len, schema.channels.length, Number.POSITIVE_INFINITY);
              return { n: rows.length, x: sample.x, mask: sample.mask };
            },
            nTrain,
            o.seed,
            warnings,
          );
        } else {
          inputShape = [featureCols.length];
          inputs = featureCols;
          status(`training ${kind} on ${train.label.length} windows (val ${val.label.length})`);
          // fit() scales its inputs in place: keep the sampled rows raw for embed().
          const rows = sampleRows(nTrain, embeddingSampleSize(est.embeddingWidth), o.seed);
          const sampleX = pickRows(scan.x.get("train")!, rows, featureCols.length);
          r = await est.fit(
            { n: train.label.length, x: scan.x.get("train")!, mask: null, y: train.label },
            { n: val.label.length, x: scan.x.get("val")!, mask: null, y: val.label },
            { classWeights: cw, bestPath: tmpWeights, onStep: o.onStep, onEpoch: o.onEpoch },
          );
          embedStatus(rows.length);
          embedding = await tryFitEmbeddingBlock(est, { n: rows.length, x: sampleX, mask: null }, nTrain, o.seed, warnings);
        }
        for (const i of r.all_missing_inputs) warnings.push(`${sequence ? "channel" : "feature"} ${inputs[i]} has no finite observed value in the training windows: it is fed as missing (0, mask 0) everywhere`);
        if (r.skipped_steps > 0) warnings.push(`${r.skipped_steps} training step(s) skipped by the engine (non-finite loss or gradient)`);
        hyper = { ...neuralHp!, torch_config: { ...est.config, threads: undefined, device: undefined } };
        standardisation = est.scaler!.stats();
        history = r.history;
        best = r.best;
        stopped = r.stopped;
        device = est.model!.device;
      } finally {
        await est.dispose();
      }
    }

    const sidecar: WrittenSidecar = {
      format: CHECKPOINT_FORMAT,
      kind,
      mode,
      created_at: new Date().toISOString(),
      seed: o.seed,
      hyper_parameters: hyper,
      classes: [...PHASES],
      trained_labels: countsTrain.flatMap((c, k) => (c > 0 ? [k] : [])),
      channel_mask: channelMask(mode).map(Number),
      feature_mask: featureMask(mode, schema.stats).map(Number),
      standardisation,
      feature_schema_hash: schema.hash,
      feature_schema: schema,
      data: { features: o.features, features_sha256: featuresSha, split: o.split, split_sha256: splitSha, tensors: sequence ? o.tensors : null, ...(noise ? { drop_noisy: { report: noise.report, report_sha256: noise.report_sha256, dropped } } : {}) },
      history,
      best,
      engine: engineInfo(kind, device),
      weights_file: basename(weightsPath),
      weights_sha256: rank === 0 ? await sha256OfFile(tmpWeights) : "",
      request_sha256: requestSha,
      training: {
        n_train: train.label.length,
        n_val: val.label.length,
        class_counts_train: countsTrain,
        class_counts_val: countsVal,
        class_weights: weights,
        input_shape: inputShape,
        inputs,
        stopped,
        total_seconds: (Date.now() - started) / 1000,
        warnings,
        ...(gbtInfo ? { gbt: gbtInfo } : {}),
        ...(hostFolds ? { host_folds: hostFolds } : {}),
        ...(weighting !== "balanced" ? { class_weighting: weighting } : {}),
        ...(tensorIo ? { tensor_io: tensorIo } : {}),
        ...(rocketInfo ? { minirocket: rocketInfo } : {}),
        ...(o.distributed ? { distributed: { world_size: o.distributed.group.worldSize, global_batch: neuralHp!.batch_size, master: o.distributed.master, timeout_seconds: o.distributed.timeoutSeconds } } : {}),
      },
      ...(embedding ? { embedding } : {}),
    };
    if (rank > 0) return { sidecarPath, weightsPath, sidecar, worker: { rank, world_size: o.distributed!.group.worldSize } };
    await commitTempFile(tmpWeights, weightsPath);
    await writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + "\n");
    return { sidecarPath, weightsPath, sidecar };
  } finally {
    await rm(tmpWeights, { force: true });
  }
}
