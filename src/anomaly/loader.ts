// One loader for every anomaly checkpoint (eif, ae, ensemble): the sidecar,
// the summary-feature columns a scorer reads (the mode's features, in
// schema order) and scoreSamples over rows of those columns. Weights are
// checked against the sidecar's sha256; an ensemble also checks each
// member's sidecar against the sha256 it was trained with.

import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { sha256OfFile } from "../io/hash.js";
import { TrainError } from "../train/types.js";
import { AeDetector, type AeHyperParameters } from "./autoencoder.js";
import { combine, type EnsembleState } from "./ensemble.js";
import type { Rows } from "./estimator.js";
import { ANOMALY_CHECKPOINT_FORMAT, ANOMALY_KINDS, loadEifCheckpoint, type AnomalySidecar } from "./train.js";

export interface AnomalyDetector {
  sidecar: AnomalySidecar;
  /** The feature names of the rows scoreSamples reads (the mode's summary features). */
  columns: string[];
  /** Higher = more anomalous; compare with sidecar.threshold. */
  scoreSamples(rows: Rows): Promise<Float64Array>;
  /** ae only: the 16-d bottleneck [n, 16]. */
  latent?(rows: Rows): Promise<Float32Array>;
  /** Frees engine memory (ae, ensemble with an ae member); safe to skip in a short-lived process. */
  dispose(): Promise<void>;
}

export async function readAnomalySidecar(path: string): Promise<AnomalySidecar> {
  let sc: AnomalySidecar;
  try {
    sc = JSON.parse(await readFile(path, "utf8")) as AnomalySidecar;
  } catch (error) {
    throw new TrainError(`cannot read anomaly checkpoint ${path}: ${(error as Error).message}`);
  }
  if (sc?.format !== ANOMALY_CHECKPOINT_FORMAT || !(ANOMALY_KINDS as readonly string[]).includes(sc.kind)) {
    throw new TrainError(`${path} is not an anomaly checkpoint (format ${ANOMALY_CHECKPOINT_FORMAT}, kind ${ANOMALY_KINDS.join("/")})`);
  }
  return sc;
}

async function checkedWeights(sidecarPath: string, sc: AnomalySidecar): Promise<string> {
  const weights = join(dirname(sidecarPath), sc.weights_file);
  const sha = await sha256OfFile(weights).catch((error: NodeJS.ErrnoException) => {
    throw new TrainError(`checkpoint ${sidecarPath}: weights file ${weights} is missing or unreadable (${error.code ?? error.message})`);
  });
  if (sha !== sc.weights_sha256) throw new TrainError(`checkpoint ${sidecarPath}: ${weights} does not match the sidecar's sha256`);
  return weights;
}

export function modeColumns(sc: AnomalySidecar): string[] {
  return sc.feature_schema.features.filter((_, i) => sc.feature_mask[i] === 1);
}

export async function loadAnomalyDetector(sidecarPath: string): Promise<AnomalyDetector> {
  const sc = await readAnomalySidecar(sidecarPath);
  if (sc.kind === "eif") {
    const { detector, columns } = await loadEifCheckpoint(sidecarPath);
    return { sidecar: sc, columns, scoreSamples: (r) => detector.scoreSamples(r), dispose: async () => undefined };
  }
  const columns = modeColumns(sc);
  const weights = await checkedWeights(sidecarPath, sc);
  if (sc.kind === "ae") {
    if (!sc.ae) throw new TrainError(`checkpoint ${sidecarPath}: an ae sidecar needs its scaling (\"ae\")`);
    const det = await AeDetector.restore(sc.hyper_parameters as AeHyperParameters, sc.seed, sc.ae, weights, columns.length);
    return { sidecar: sc, columns, scoreSamples: (r) => det.scoreSamples(r), latent: (r) => det.latent(r), dispose: () => det.dispose() };
  }
  const state = JSON.parse(await readFile(weights, "utf8")) as EnsembleState;
  if (state.format !== "cis490-anomaly-ensemble/1") throw new TrainError(`checkpoint ${sidecarPath}: ${weights} is not an ensemble state`);
  const members: AnomalyDetector[] = [];
  try {
    for (const m of state.members) {
      const sha = await sha256OfFile(m.sidecar).catch(() => null);
      if (sha !== m.sidecar_sha256) throw new TrainError(`ensemble ${sidecarPath}: member ${m.sidecar} is ${sha === null ? "missing" : "not the checkpoint the ensemble was trained with (sha256 differs)"}`);
      const d = await loadAnomalyDetector(m.sidecar);
      if (d.columns.join("\n") !== columns.join("\n")) throw new TrainError(`ensemble ${sidecarPath}: member ${m.sidecar} reads other columns`);
      members.push(d);
    }
  } catch (error) {
    await Promise.all(members.map((d) => d.dispose()));
    throw error;
  }
  return {
    sidecar: sc,
    columns,
    scoreSamples: async (r) => combine(state.members, await Promise.all(members.map((d) => d.scoreSamples(r)))),
    dispose: async () => {
      await Promise.all(members.map((d) => d.dispose()));
    },
  };
}
