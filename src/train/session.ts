// One `cis490 train` invocation: every requested model x mode in turn
// (each skipped when --if-stale finds its current version fresh), each
// trained checkpoint registered behind the promotion gate, then the
// unsupervised detector. A failed run is recorded and the others go on.
// Returns what happened; the command renders it.

import { resolve } from "node:path";
import { trainEif, type AnomalyKind, type AnomalyTrainResult } from "../anomaly/train.js";
import type { EifHyperParameters } from "../anomaly/estimator.js";
import type { AeHyperParameters } from "../anomaly/autoencoder.js";
import { trainAe } from "../anomaly/train-ae.js";
import { trainEnsemble } from "../anomaly/train-ensemble.js";
import { ProcessGroup, type TorchDevice } from "../engines/index.js";
import { registerCheckpoint, type RegisterResult } from "../registry/api.js";
import { checkStaleness, DEFAULT_MAX_AGE_MS, type Staleness } from "../registry/stale.js";
import type { GbtHyperParameters } from "./gbt.js";
import type { MiniRocketHyperParameters } from "./minirocket.js";
import type { NeuralHyperParameters } from "./neural.js";
import { trainModel, type TrainResult } from "./run.js";
import { isSequenceKind, type ClassWeighting, type EpochRecord, type Mode, type ModelKind } from "./types.js";

/** Progress callbacks for one run (the command draws them). */
export interface RunProgress {
  status(message: string): void;
  step(epoch: number, step: number, steps: number, loss: number): void;
  epoch(r: EpochRecord, best: { epoch: number; val_macro_f1: number }): void;
  done(result: TrainResult): void;
  clear(): void;
}

export interface TrainSessionOptions {
  kinds: ModelKind[];
  modes: Mode[];
  /** Unsupervised detectors to train after the supervised runs, in this order (docs/anomaly.md). */
  anomalyKinds: AnomalyKind[];
  features: string;
  tensors: string | null;
  split: string;
  out: string;
  registry: string;
  seed: number;
  neural: Partial<NeuralHyperParameters>;
  gbt: Partial<GbtHyperParameters>;
  minirocket: Partial<MiniRocketHyperParameters>;
  eifHp: Partial<EifHyperParameters>;
  aeHp?: Partial<AeHyperParameters>;
  /** ensemble: member sidecars (default eif_<mode> and ae_<mode> in out), weights, target FPR, gate limit. */
  ensemble?: { members?: string[]; weights?: number[]; target_fpr?: number; max_clean_anomaly_rate?: number };
  threads?: number;
  device?: TorchDevice;
  tensorBudgetBytes: number;
  allowMissingClass: boolean;
  force: boolean;
  dropNoisy?: string;
  classWeighting?: ClassWeighting;
  /** --if-stale: train only what is stale. */
  ifStale?: { maxAgeMs?: number; driftFeatures?: string; driftThreshold?: number };
  commandLine: string[];
  /** Data-parallel neural training: this process is `rank` of `worldSize`, rank 0 hosts the rendezvous at master (HOST:PORT). */
  distributed?: { rank: number; worldSize: number; host: string; port: number; timeoutMs: number; rendezvousTimeoutMs: number };
  progressFor(label: string, kind: ModelKind): RunProgress;
  onError(label: string, message: string): void;
}

export interface TrainedRun {
  kind: ModelKind;
  mode: Mode;
  result: TrainResult;
  /** null on a rank > 0 of a data-parallel run: rank 0 writes and registers. */
  registered: RegisterResult | null;
  /** Why --if-stale retrained it. */
  stale?: Staleness;
}

export interface TrainSessionResult {
  out: string;
  registry: string;
  runs: number;
  results: TrainedRun[];
  skipped: Staleness[];
  anomaly: Array<{ kind: AnomalyKind; mode: Mode; result: AnomalyTrainResult; registered: RegisterResult }>;
  failures: Array<{ kind: ModelKind | AnomalyKind; mode: Mode; error: string }>;
}

export async function runTrainSession(o: TrainSessionOptions): Promise<TrainSessionResult> {
  const runs = o.kinds.flatMap((kind) => o.modes.map((mode) => ({ kind, mode })));
  const r: TrainSessionResult = { out: o.out, registry: o.registry, runs: runs.length + o.anomalyKinds.length * o.modes.length, results: [], skipped: [], anomaly: [], failures: [] };
  let group: ProcessGroup | null = null;
  if (o.distributed) {
    const d = o.distributed;
    try {
      group = await ProcessGroup.connect(d);
    } catch (error) {
      for (const { kind, mode } of runs) r.failures.push({ kind, mode, error: (error as Error).message });
      o.onError("train", (error as Error).message);
      return r;
    }
  }
  try {
    await trainRuns(o, runs, r, group);
  } finally {
    group?.close();
  }
  return r;
}

async function trainRuns(o: TrainSessionOptions, runs: Array<{ kind: ModelKind; mode: Mode }>, r: TrainSessionResult, group: ProcessGroup | null): Promise<void> {
  for (const { kind, mode } of runs) {
    const label = `${kind} ${mode}`;
    let stale: Staleness | undefined;
    if (o.ifStale) {
      try {
        stale = await checkStaleness(o.registry, `${kind}_${mode}`, {
          maxAgeMs: o.ifStale.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
          driftFeatures: o.ifStale.driftFeatures !== undefined ? resolve(o.ifStale.driftFeatures) : undefined,
          driftThreshold: o.ifStale.driftThreshold,
        });
      } catch (error) {
        r.failures.push({ kind, mode, error: (error as Error).message });
        o.onError(`${label}: --if-stale`, (error as Error).message);
        continue;
      }
      if (!stale.stale) {
        r.skipped.push(stale);
        continue;
      }
    }
    const progress = o.progressFor(label, kind);
    try {
      const result = await trainModel({
        kind,
        mode,
        features: o.features,
        tensors: isSequenceKind(kind) ? o.tensors : null,
        split: o.split,
        out: o.out,
        seed: o.seed,
        neural: o.neural,
        gbt: o.gbt,
        minirocket: o.minirocket,
        threads: o.threads,
        device: o.device,
        allowMissingClass: o.allowMissingClass,
        force: o.force,
        tensorBudgetBytes: o.tensorBudgetBytes,
        dropNoisy: o.dropNoisy,
        classWeighting: o.classWeighting,
        distributed: group && o.distributed ? { group, master: `${o.distributed.host}:${o.distributed.port}`, timeoutSeconds: o.distributed.timeoutMs / 1000 } : undefined,
        onStatus: (m) => progress.status(m),
        onStep: (e, s, n, l) => progress.step(e, s, n, l),
        onEpoch: (rec, best) => progress.epoch(rec, best),
      });
      let registered: RegisterResult | null = null;
      if (!result.worker) {
        progress.status("registering the version");
        registered = await registerCheckpoint(o.registry, result.sidecarPath, { commandLine: o.commandLine });
      }
      r.results.push({ kind, mode, result, registered, stale });
      progress.clear();
      progress.done(result);
    } catch (error) {
      progress.clear();
      const message = (error as Error).message ?? String(error);
      r.failures.push({ kind, mode, error: message });
      o.onError(label, message);
    }
  }

  // The unsupervised detectors: their own checkpoint kind, summary and gate
  // (docs/anomaly.md); registered like the others, current only if their gate passes.
  for (const kind of o.anomalyKinds) {
    for (const mode of o.modes) {
      try {
        const common = { mode, features: o.features, split: o.split, out: o.out, seed: o.seed, threads: o.threads, force: o.force };
        const result =
          kind === "eif"
            ? await trainEif({ ...common, eif: o.eifHp })
            : kind === "ae"
              ? await trainAe({ ...common, ae: { device: o.device, ...o.aeHp } })
              : await trainEnsemble({ mode, out: o.out, force: o.force, ...o.ensemble });
        const registered = await registerCheckpoint(o.registry, result.sidecarPath, { commandLine: o.commandLine });
        r.anomaly.push({ kind, mode, result, registered });
      } catch (error) {
        const message = (error as Error).message ?? String(error);
        r.failures.push({ kind, mode, error: message });
        o.onError(`${kind} ${mode}`, message);
      }
    }
  }
}

/** The --json document of a session. */
export function trainSessionJson(s: TrainSessionResult): unknown {
  return {
    out: s.out,
    registry: s.registry,
    skipped: s.skipped,
    results: s.results.map(({ kind, mode, result, registered }) => ({
      model: kind,
      mode,
      checkpoint: result.sidecarPath,
      weights: result.weightsPath,
      best: result.sidecar.best,
      epochs_run: result.sidecar.history.length,
      stopped: result.sidecar.training.stopped,
      reused: result.reused ?? false,
      seconds: result.sidecar.training.total_seconds,
      n_train: result.sidecar.training.n_train,
      n_val: result.sidecar.training.n_val,
      drop_noisy: result.sidecar.data.drop_noisy ?? null,
      input_shape: result.sidecar.training.input_shape,
      engine: result.sidecar.engine,
      distributed: result.sidecar.training.distributed ?? null,
      worker: result.worker ?? null,
      warnings: result.sidecar.training.warnings,
      registered,
    })),
    anomaly: s.anomaly.map(({ kind, mode, registered, result: { sidecar: sc, sidecarPath, weightsPath, reused } }) => ({
      model: kind,
      mode,
      checkpoint: sidecarPath,
      weights: weightsPath,
      reused: reused ?? false,
      threshold: sc.threshold,
      gate: sc.gate,
      n_train_clean: sc.training.n_train_clean,
      inputs: sc.training.inputs.length,
      dropped: sc.training.dropped.length,
      seconds: sc.training.total_seconds,
      warnings: sc.training.warnings,
      ...(sc.training.best ? { best: sc.training.best, epochs_run: sc.training.history?.length ?? 0, stopped: sc.training.stopped } : {}),
      registered,
    })),
    failures: s.failures,
  };
}
