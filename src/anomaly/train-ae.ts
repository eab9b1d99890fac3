// `cis490 train --model ae`: the reconstruction autoencoder on the same clean
// windows as the EIF (src/anomaly/train.ts readCleanSets): clean training
// windows fit the scaling and the net, the calibration clean windows drive
// early stopping and set the threshold, the gate windows check it. The test
// side is never read. Writes `ae_<mode>.pt` (the net) and, last and
// atomically, the sidecar `ae_<mode>.anomaly-ckpt.json` (scaling, threshold,
// gate, history).

import { mkdir, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { featureMask } from "../features/channels.js";
import { commitTempFile, tempPathFor, writeFileAtomic } from "../io/atomic.js";
import { sha256OfFile } from "../io/hash.js";
import { TrainError, type EpochRecord, type Mode } from "../train/types.js";
import { embeddingBlockOf, EMBEDDING_SAMPLE, sampleRows, type EmbeddingBlock } from "../train/embedding.js";
import { AE_LATENT } from "../engines/index.js";
import { AeDetector, DEFAULT_AE, type AeHyperParameters } from "./autoencoder.js";
import type { Rows } from "./estimator.js";
import { ANOMALY_CHECKPOINT_FORMAT, anomalyRequest, reusableCheckpoint, readCleanSets, type AnomalySidecar, type AnomalyTrainResult } from "./train.js";

export interface AeTrainOptions {
  mode: Mode;
  features: string;
  split: string;
  out: string;
  seed: number;
  ae?: Partial<AeHyperParameters>;
  threads?: number;
  force?: boolean;
  onStatus?: (message: string) => void;
  onEpoch?: (record: EpochRecord) => void;
}

export function resolveAe(p: Partial<AeHyperParameters> = {}, threads: number): AeHyperParameters {
  const hp = { ...DEFAULT_AE, threads, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as AeHyperParameters;
  const int = (k: "epochs" | "batch_size" | "patience", min: number) => {
    if (!Number.isInteger(hp[k]) || hp[k] < min) throw new TrainError(`${k} must be an integer >= ${min} (got ${hp[k]})`);
  };
  int("epochs", 1);
  int("batch_size", 2);
  int("patience", 0);
  if (!(hp.lr > 0)) throw new TrainError(`lr must be > 0 (got ${hp.lr})`);
  if (!(hp.target_fpr >= 0 && hp.target_fpr < 1)) throw new TrainError(`target_fpr must be in [0, 1) (got ${hp.target_fpr})`);
  if (!(hp.max_clean_anomaly_rate >= 0 && hp.max_clean_anomaly_rate <= 1)) throw new TrainError(`max_clean_anomaly_rate must be in [0, 1] (got ${hp.max_clean_anomaly_rate})`);
  return hp;
}

export async function trainAe(o: AeTrainOptions): Promise<AnomalyTrainResult> {
  const started = Date.now();
  const status = o.onStatus ?? (() => undefined);
  const hp = resolveAe(o.ae, o.threads ?? availableParallelism());
  const { schema, featuresSha, splitSha, sidecarPath, weightsPath, requestSha } = await anomalyRequest("ae", o, { ae: hp }, ".pt");
  if (!o.force) {
    const kept = await reusableCheckpoint(sidecarPath, weightsPath, requestSha);
    if (kept) return kept;
  }

  status("reading the clean train/val windows");
  const { cols, train, calibration, gateRows, warnings } = await readCleanSets(o.features, o.split, o.mode, schema, "the autoencoder");
  await mkdir(o.out, { recursive: true });
  const tmp = tempPathFor(weightsPath);
  const det = new AeDetector(hp, o.seed);
  try {
    status(`training the autoencoder on ${train.n} clean windows x ${cols.length} features`);
    const { scaling, loop } = await det.fit(train, calibration, gateRows, cols, { bestPath: tmp, onEpoch: o.onEpoch });
    if (scaling.dropped.length > 0) warnings.push(`${scaling.dropped.length} near-zero-variance feature(s) dropped (listed in training.dropped)`);
    if (!scaling.gate.promotable) warnings.push(`not promotable: ${scaling.gate.reason}`);
    if (loop.skipped_steps > 0) warnings.push(`${loop.skipped_steps} training step(s) skipped (non-finite loss or gradient)`);
    const best = loop.best;
    const embedding = await latentBlock(det, train, o.seed, warnings);
    const sidecar: AnomalySidecar = {
      format: ANOMALY_CHECKPOINT_FORMAT,
      kind: "ae",
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
      threshold: scaling.threshold,
      gate: scaling.gate,
      training: {
        n_train_clean: train.n,
        n_calibration: calibration.n,
        n_gate: gateRows.n,
        inputs: scaling.kept.map((k) => cols[k]),
        dropped: scaling.dropped,
        calibration_flagged_rate: scaling.calibration.flagged_rate,
        total_seconds: (Date.now() - started) / 1000,
        warnings,
        history: loop.history,
        best: { epoch: best.epoch, val_loss: best.val_loss ?? Number.NaN },
        stopped: loop.stopped,
      },
      ae: scaling,
      ...(embedding ? { embedding } : {}),
    };
    await commitTempFile(tmp, weightsPath);
    await writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + "\n");
    return { sidecarPath, weightsPath, sidecar };
  } finally {
    await det.dispose();
    await rm(tmp, { force: true });
  }
}

/** The latent space's PCA on a seeded sample of the clean training windows; a model that trained is kept if this fails. */
async function latentBlock(det: AeDetector, train: Rows, seed: number, warnings: string[]): Promise<EmbeddingBlock | undefined> {
  try {
    const rows = sampleRows(train.n, EMBEDDING_SAMPLE, seed);
    const x = new Float32Array(rows.length * train.width);
    rows.forEach((r, k) => x.set(train.x.subarray(r * train.width, (r + 1) * train.width), k * train.width));
    const e = await det.latent({ x, n: rows.length, width: train.width });
    return embeddingBlockOf("latent", e, rows.length, AE_LATENT, train.n, seed);
  } catch (error) {
    warnings.push(`no embedding block stored: ${(error as Error).message}`);
    return undefined;
  }
}
