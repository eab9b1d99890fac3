// `cis490 train --model eif`: the extended isolation forest on the summary
// features (realistic or oracle mask) of clean-phase windows only, so no
// malware label is used. Training windows fit the forest; the val side's
// clean windows, split by episode into two halves, set the alarm threshold
// (calibration) and check it (gate). The test side is never read. Writes
// `eif_<mode>.eif.json` (detector state: kept inputs, dropped ones, the
// forest, threshold, gate) and, last and atomically, the sidecar
// `eif_<mode>.anomaly-ckpt.json` (not `.ckpt.json`: `cis490 eval` reads
// those as supervised classifiers).
//
// Also the pieces every anomaly detector shares: the sidecar format (kinds
// eif, ae, ensemble; train-ae.ts, train-ensemble.ts) and the clean
// train / calibration / gate windows (readCleanSets).

import type { EmbeddingBlock } from "../train/embedding.js";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { featureIndices, featureMask } from "../features/channels.js";
import type { FeatureSchema } from "../features/schema.js";
import { commitTempFile, tempPathFor, writeFileAtomic } from "../io/atomic.js";
import { sha256OfFile } from "../io/hash.js";
import { checkpointBaseName } from "../train/checkpoint.js";
import { readSchemaFor } from "../train/run.js";
import { TrainError, type Mode } from "../train/types.js";
import { readSplitSides, requireFile, scanWindows, type WindowSet } from "../train/windows.js";
import type { EpochRecord } from "../train/types.js";
import type { AeHyperParameters, AeScaling } from "./autoencoder.js";
import type { EnsembleHyperParameters, EnsembleMemberRef } from "./ensemble.js";
import { DEFAULT_EIF, EifDetector, type DroppedFeature, type EifDetectorState, type EifHyperParameters, type Gate, type Rows } from "./estimator.js";

export const ANOMALY_CHECKPOINT_FORMAT = "cis490-anomaly-checkpoint/1";
export const ANOMALY_CHECKPOINT_SUFFIX = ".anomaly-ckpt.json";
/** Class id of the `clean` phase (PHASES[0]). */
export const CLEAN = 0;

/** The unsupervised detectors (docs/anomaly.md). */
export const ANOMALY_KINDS = ["eif", "ae", "ensemble"] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalySidecar {
  format: typeof ANOMALY_CHECKPOINT_FORMAT;
  kind: AnomalyKind;
  mode: Mode;
  created_at: string;
  seed: number;
  /** EifHyperParameters, AeHyperParameters or EnsembleHyperParameters, by kind. */
  hyper_parameters: EifHyperParameters | AeHyperParameters | EnsembleHyperParameters;
  /** 230 entries 0/1: the summary features selected by the mode (before near-zero-variance dropping). */
  feature_mask: number[];
  feature_schema_hash: string;
  feature_schema: FeatureSchema;
  data: { features: string; features_sha256: string; split: string; split_sha256: string };
  weights_file: string;
  weights_sha256: string;
  request_sha256: string;
  threshold: number;
  gate: Gate;
  training: {
    n_train_clean: number;
    n_calibration: number;
    n_gate: number;
    /** The forest's inputs, in order (after dropping). */
    inputs: string[];
    dropped: DroppedFeature[];
    calibration_flagged_rate: number;
    total_seconds: number;
    warnings: string[];
    /** ae: the shared loop's epochs (val_loss = reconstruction MSE of the calibration clean windows). */
    history?: EpochRecord[];
    best?: { epoch: number; val_loss: number };
    stopped?: string;
  };
  /** ae: imputation and scaling (the weights file holds the net). */
  ae?: AeScaling;
  /** ae only: a 2-D PCA of the latent space of sampled training windows, for the dashboard's embedding events (docs/embedding.md). */
  embedding?: EmbeddingBlock;
  /** ensemble: the members, as loaded (each checked by sha256 when the ensemble loads). */
  members?: EnsembleMemberRef[];
}

export interface EifTrainOptions {
  mode: Mode;
  features: string;
  split: string;
  out: string;
  seed: number;
  eif?: Partial<EifHyperParameters>;
  threads?: number;
  force?: boolean;
  onStatus?: (message: string) => void;
}

/** What training any anomaly detector returns. */
export interface AnomalyTrainResult {
  sidecarPath: string;
  weightsPath: string;
  sidecar: AnomalySidecar;
  reused?: boolean;
}

export type EifTrainResult = AnomalyTrainResult;

export function resolveEif(p: Partial<EifHyperParameters> = {}, threads: number): EifHyperParameters {
  const hp = { ...DEFAULT_EIF, threads, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as EifHyperParameters;
  const posInt = (k: keyof EifHyperParameters, min: number) => {
    if (!Number.isInteger(hp[k]) || hp[k] < min) throw new TrainError(`${k} must be an integer >= ${min} (got ${hp[k]})`);
  };
  posInt("n_trees", 1);
  posInt("subsample", 2);
  posInt("ndim", 1);
  if (!(hp.target_fpr >= 0 && hp.target_fpr < 1)) throw new TrainError(`target_fpr must be in [0, 1) (got ${hp.target_fpr})`);
  if (!(hp.max_clean_anomaly_rate >= 0 && hp.max_clean_anomaly_rate <= 1)) throw new TrainError(`max_clean_anomaly_rate must be in [0, 1] (got ${hp.max_clean_anomaly_rate})`);
  if (!(hp.near_zero_std >= 0)) throw new TrainError(`near_zero_std must be >= 0 (got ${hp.near_zero_std})`);
  return hp;
}

/** Rows of `x` (row-major, `width` wide) whose window is clean and passes `pick`. */
export function cleanRows(w: WindowSet, x: Float32Array, width: number, pick: (episode: string) => boolean = () => true): Rows {
  const idx: number[] = [];
  for (let i = 0; i < w.label.length; i++) if (w.label[i] === CLEAN && pick(w.episode_id[i])) idx.push(i);
  const out = new Float32Array(idx.length * width);
  idx.forEach((i, r) => out.set(x.subarray(i * width, (i + 1) * width), r * width));
  return { x: out, n: idx.length, width };
}

export interface CleanSets {
  cols: string[];
  /** Clean training windows (the detector fits on these). */
  train: Rows;
  /** Clean val windows of every other val episode (threshold; the autoencoder's early stopping). */
  calibration: Rows;
  /** Clean windows of the remaining val episodes (the gate). */
  gateRows: Rows;
  warnings: string[];
}

/** The clean windows every anomaly detector trains, calibrates and gates on. */
export async function readCleanSets(features: string, split: string, mode: Mode, schema: FeatureSchema, who: string): Promise<CleanSets> {
  const sides = await readSplitSides(split);
  const cols = featureIndices(mode, schema.stats).map((i) => schema.features[i]);
  const scan = await scanWindows(features, sides, ["train", "val"], cols);
  const width = cols.length;
  const train = cleanRows(scan.windows.get("train")!, scan.x.get("train")!, width);
  const val = scan.windows.get("val")!;
  const warnings: string[] = [];
  if (train.n < 2) throw new TrainError(`the train side of ${split} has ${train.n} clean window(s); ${who} needs at least 2`);
  // Val episodes with clean windows, alternately to calibration and gate.
  const valEpisodes = [...new Set(val.episode_id.filter((_, i) => val.label[i] === CLEAN))].sort();
  if (valEpisodes.length === 0) throw new TrainError(`the val side of ${split} has no clean windows: the threshold and the gate need them (cis490 split --val-fraction > 0)`);
  const calSet = new Set(valEpisodes.filter((_, k) => k % 2 === 0));
  const xVal = scan.x.get("val")!;
  const calibration = cleanRows(val, xVal, width, (e) => calSet.has(e));
  let gateRows = cleanRows(val, xVal, width, (e) => !calSet.has(e));
  if (gateRows.n === 0) {
    gateRows = calibration;
    warnings.push("only one val episode has clean windows: the gate checks the calibration windows themselves");
  }
  return { cols, train, calibration, gateRows, warnings };
}

export async function trainEif(o: EifTrainOptions): Promise<EifTrainResult> {
  const started = Date.now();
  const status = o.onStatus ?? (() => undefined);
  const threads = o.threads ?? availableParallelism();
  const hp = resolveEif(o.eif, threads);
  status("hashing the input files");
  const { schema, featuresSha, splitSha, sidecarPath, weightsPath, requestSha } = await anomalyRequest("eif", o, { eif: hp }, ".eif.json");
  if (!o.force) {
    const kept = await reusableCheckpoint(sidecarPath, weightsPath, requestSha);
    if (kept) return kept;
  }

  status("reading the clean train/val windows");
  const { cols, train, calibration, gateRows, warnings } = await readCleanSets(o.features, o.split, o.mode, schema, "the EIF");

  status(`fitting the EIF (${hp.n_trees} trees, ndim ${hp.ndim}) on ${train.n} clean windows x ${cols.length} features`);
  const det = new EifDetector(hp, o.seed);
  const state: EifDetectorState = await det.fit(train, calibration, gateRows, cols);
  if (state.dropped.length > 0) warnings.push(`${state.dropped.length} near-zero-variance feature(s) dropped (listed in training.dropped)`);
  if (!state.gate.promotable) warnings.push(`not promotable: ${state.gate.reason}`);

  await mkdir(o.out, { recursive: true });
  const tmp = tempPathFor(weightsPath);
  try {
    await writeFileAtomic(tmp, JSON.stringify(state));
    const sidecar: AnomalySidecar = {
      format: ANOMALY_CHECKPOINT_FORMAT,
      kind: "eif",
      mode: o.mode,
      created_at: new Date().toISOString(),
      seed: o.seed,
      hyper_parameters: hp,
      feature_mask: featureMask(o.mode, schema.stats).map(Number),
      feature_schema_hash: schema.hash,
      feature_schema: schema,
      data: { features: o.features, features_sha256: featuresSha, split: o.split, split_sha256: splitSha },
      weights_file: basename(weightsPath),
      weights_sha256: await sha256OfFile(tmp),
      request_sha256: requestSha,
      threshold: state.threshold,
      gate: state.gate,
      training: {
        n_train_clean: train.n,
        n_calibration: calibration.n,
        n_gate: gateRows.n,
        inputs: state.kept.map((k) => cols[k]),
        dropped: state.dropped,
        calibration_flagged_rate: state.calibration.flagged_rate,
        total_seconds: (Date.now() - started) / 1000,
        warnings,
      },
    };
    await commitTempFile(tmp, weightsPath);
    await writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + "\n");
    return { sidecarPath, weightsPath, sidecar };
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * What an eif or ae run is asked to do, from its inputs: the schema, the
 * inputs' digests, where the checkpoint goes and the request digest that
 * lets an identical rerun keep it. Threads do not change the result, so
 * they are not part of the request.
 */
export async function anomalyRequest(
  kind: "eif" | "ae",
  o: { features: string; split: string; out: string; mode: Mode; seed: number },
  hp: Record<string, { threads?: number }>,
  weightsSuffix: string,
): Promise<{ schema: FeatureSchema; featuresSha: string; splitSha: string; sidecarPath: string; weightsPath: string; requestSha: string }> {
  await requireFile(o.features, "features file", "run `cis490 features` first");
  await requireFile(o.split, "split file", "run `cis490 split` first");
  const schema = await readSchemaFor(o.features);
  const [featuresSha, splitSha] = await Promise.all([sha256OfFile(o.features), sha256OfFile(o.split)]);
  const base = checkpointBaseName(kind, o.mode);
  const settings = Object.fromEntries(Object.entries(hp).map(([k, v]) => [k, { ...v, threads: undefined }]));
  const requestSha = createHash("sha256")
    .update(JSON.stringify({ kind, mode: o.mode, seed: o.seed, ...settings, featuresSha, splitSha }))
    .digest("hex");
  return { schema, featuresSha, splitSha, sidecarPath: join(o.out, base + ANOMALY_CHECKPOINT_SUFFIX), weightsPath: join(o.out, base + weightsSuffix), requestSha };
}

/** The checkpoint already written for the same request (same inputs, kind and settings) with intact weights, or null. */
export async function reusableCheckpoint(sidecarPath: string, weightsPath: string, requestSha: string): Promise<AnomalyTrainResult | null> {
  try {
    const sc = JSON.parse(await readFile(sidecarPath, "utf8")) as AnomalySidecar;
    if (sc.request_sha256 === requestSha && (await sha256OfFile(join(dirname(sidecarPath), sc.weights_file))) === sc.weights_sha256) return { sidecarPath, weightsPath, sidecar: sc, reused: true };
  } catch {
    // absent or unreadable: train
  }
  return null;
}

/** The detector of a written checkpoint (weights checked against the sidecar's sha256). */
export async function loadEifCheckpoint(sidecarPath: string): Promise<{ sidecar: AnomalySidecar; detector: EifDetector; columns: string[] }> {
  const sc = JSON.parse(await readFile(sidecarPath, "utf8")) as AnomalySidecar;
  if (sc.format !== ANOMALY_CHECKPOINT_FORMAT || sc.kind !== "eif") throw new TrainError(`${sidecarPath} is not an EIF checkpoint`);
  const weights = join(dirname(sidecarPath), sc.weights_file);
  if ((await sha256OfFile(weights)) !== sc.weights_sha256) throw new TrainError(`checkpoint ${sidecarPath}: ${weights} does not match the sidecar's sha256`);
  const state = JSON.parse(await readFile(weights, "utf8")) as EifDetectorState;
  const names = sc.feature_schema.features.filter((_, i) => sc.feature_mask[i] === 1);
  return { sidecar: sc, detector: EifDetector.fromState(sc.hyper_parameters as EifHyperParameters, sc.seed, state, names.length), columns: names };
}
