// `cis490 train --model ensemble`: combines trained anomaly checkpoints
// (by default eif_<mode> and ae_<mode> in --out) into one detector. The
// members must come from the same features, split and mode; their scores on
// the calibration clean windows become the ECDF references, the threshold is
// set on the calibration windows at --target-fpr, the gate checks the other
// held-out clean windows. Writes `ensemble_<mode>.ensemble.json` and then the
// sidecar `ensemble_<mode>.anomaly-ckpt.json`. The members are referenced by
// absolute path and sha256: move or retrain one and the ensemble refuses to load.

import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { commitTempFile, tempPathFor, writeFileAtomic } from "../io/atomic.js";
import { sha256OfFile } from "../io/hash.js";
import { checkpointBaseName } from "../train/checkpoint.js";
import { TrainError, type Mode } from "../train/types.js";
import { DEFAULT_ENSEMBLE, fitEnsemble, normaliseWeights, type EnsembleHyperParameters } from "./ensemble.js";
import { loadAnomalyDetector, readAnomalySidecar, type AnomalyDetector } from "./loader.js";
import { ANOMALY_CHECKPOINT_FORMAT, ANOMALY_CHECKPOINT_SUFFIX, reusableCheckpoint, readCleanSets, type AnomalySidecar, type AnomalyTrainResult } from "./train.js";

export interface EnsembleTrainOptions {
  mode: Mode;
  out: string;
  /** Member sidecars; default eif_<mode> and ae_<mode> in `out`. */
  members?: string[];
  /** Default: equal. */
  weights?: number[];
  target_fpr?: number;
  max_clean_anomaly_rate?: number;
  force?: boolean;
  onStatus?: (message: string) => void;
}

export function defaultMembers(out: string, mode: Mode): string[] {
  return ["eif", "ae"].map((k) => join(out, checkpointBaseName(k, mode) + ANOMALY_CHECKPOINT_SUFFIX));
}

export async function trainEnsemble(o: EnsembleTrainOptions): Promise<AnomalyTrainResult> {
  const started = Date.now();
  const status = o.onStatus ?? (() => undefined);
  const paths = (o.members ?? defaultMembers(o.out, o.mode)).map((p) => resolve(p));
  if (paths.length < 2) throw new TrainError(`an ensemble needs at least 2 members (got ${paths.length})`);
  const weights = o.weights ?? paths.map(() => 1);
  try {
    normaliseWeights(weights, paths.length);
  } catch (error) {
    throw new TrainError(`--weights: ${(error as Error).message}`);
  }
  const hp: EnsembleHyperParameters = {
    members: paths,
    weights,
    target_fpr: o.target_fpr ?? DEFAULT_ENSEMBLE.target_fpr,
    max_clean_anomaly_rate: o.max_clean_anomaly_rate ?? DEFAULT_ENSEMBLE.max_clean_anomaly_rate,
  };
  if (!(hp.target_fpr >= 0 && hp.target_fpr < 1)) throw new TrainError(`target_fpr must be in [0, 1) (got ${hp.target_fpr})`);
  if (!(hp.max_clean_anomaly_rate >= 0 && hp.max_clean_anomaly_rate <= 1)) throw new TrainError(`max_clean_anomaly_rate must be in [0, 1] (got ${hp.max_clean_anomaly_rate})`);

  const sidecars: AnomalySidecar[] = [];
  for (const p of paths) {
    const sc = await readAnomalySidecar(p).catch((error: Error) => {
      throw new TrainError(`ensemble member: ${error.message}${o.members ? "" : " (train eif and ae first, or pass --members)"}`);
    });
    if (sc.kind === "ensemble") throw new TrainError(`ensemble member ${p} is itself an ensemble`);
    sidecars.push(sc);
  }
  const first = sidecars[0];
  for (const [k, sc] of sidecars.entries()) {
    if (sc.mode !== o.mode) throw new TrainError(`ensemble member ${paths[k]} is a ${sc.mode} model, the ensemble is ${o.mode}`);
    if (sc.data.features_sha256 !== first.data.features_sha256 || sc.data.split_sha256 !== first.data.split_sha256 || sc.feature_schema_hash !== first.feature_schema_hash) {
      throw new TrainError(`ensemble members ${paths[0]} and ${paths[k]} were trained on different features or splits`);
    }
  }
  const memberShas = await Promise.all(paths.map((p) => sha256OfFile(p)));
  const base = checkpointBaseName("ensemble", o.mode);
  const sidecarPath = join(o.out, base + ANOMALY_CHECKPOINT_SUFFIX);
  const weightsPath = join(o.out, base + ".ensemble.json");
  const requestSha = createHash("sha256").update(JSON.stringify({ kind: "ensemble", mode: o.mode, hp, memberShas })).digest("hex");
  if (!o.force) {
    const kept = await reusableCheckpoint(sidecarPath, weightsPath, requestSha);
    if (kept) return kept;
  }

  status("reading the clean val windows");
  const { train, calibration, gateRows, warnings } = await readCleanSets(first.data.features, first.data.split, o.mode, first.feature_schema, "the ensemble");
  const detectors: AnomalyDetector[] = [];
  try {
    for (const p of paths) detectors.push(await loadAnomalyDetector(p));
    status(`scoring ${calibration.n} calibration and ${gateRows.n} gate windows with ${detectors.length} members`);
    const cal: Float64Array[] = [];
    const gate: Float64Array[] = [];
    for (const d of detectors) {
      cal.push(await d.scoreSamples(calibration));
      gate.push(gateRows === calibration ? cal[cal.length - 1] : await d.scoreSamples(gateRows));
    }
    const refs = sidecars.map((sc, k) => ({ kind: sc.kind, sidecar: paths[k], sidecar_sha256: memberShas[k] }));
    const state = fitEnsemble(refs, weights, cal, gateRows === calibration ? null : gate, hp);
    if (!state.gate.promotable) warnings.push(`not promotable: ${state.gate.reason}`);
    await mkdir(o.out, { recursive: true });
    const tmp = tempPathFor(weightsPath);
    try {
      await writeFileAtomic(tmp, JSON.stringify(state));
      const sidecar: AnomalySidecar = {
        format: ANOMALY_CHECKPOINT_FORMAT,
        kind: "ensemble",
        mode: o.mode,
        created_at: new Date().toISOString(),
        seed: first.seed,
        hyper_parameters: hp,
        feature_mask: first.feature_mask,
        feature_schema_hash: first.feature_schema_hash,
        feature_schema: first.feature_schema,
        data: first.data,
        weights_file: basename(weightsPath),
        weights_sha256: await sha256OfFile(tmp),
        request_sha256: requestSha,
        threshold: state.threshold,
        gate: state.gate,
        training: {
          n_train_clean: train.n,
          n_calibration: calibration.n,
          n_gate: gateRows.n,
          inputs: [...new Set(sidecars.flatMap((sc) => sc.training.inputs))],
          dropped: [],
          calibration_flagged_rate: state.calibration.flagged_rate,
          total_seconds: (Date.now() - started) / 1000,
          warnings,
        },
        members: state.members.map(({ reference: _r, tail_scale: _t, ...m }) => m),
      };
      await commitTempFile(tmp, weightsPath);
      await writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + "\n");
      return { sidecarPath, weightsPath, sidecar };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    await Promise.all(detectors.map((d) => d.dispose()));
  }
}
