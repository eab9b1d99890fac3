// `cis490 train`: one model x mode (or several, or all of them) -> schema-pinned
// checkpoints in --out, each registered behind the promotion gate. The work
// lives in src/train/session.ts; this file parses options, draws progress
// and renders the summary.

import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BaseCommand, EXIT_FAILURE, EXIT_OK, type Reporter } from "../command.js";
import { EpochProgress } from "../epoch-progress.js";
import { isIntegerAtLeast, isIntegerInRange, isNumberAbove, isNumberAtLeast, isNumberInRange, isOneOf } from "../options.js";
import type { ProgressStream } from "../progress.js";
import { renderTrainSession } from "../render/train.js";
import { parseDuration } from "../../registry/stale.js";
import { DEFAULT_MINIROCKET } from "../../train/minirocket.js";
import { DEFAULT_TENSOR_BUDGET_BYTES } from "../../train/run.js";
import { runTrainSession, trainSessionJson, type TrainSessionResult } from "../../train/session.js";
import { ANOMALY_KINDS, type AnomalyKind } from "../../anomaly/train.js";
import { CLASS_WEIGHTINGS, MODEL_KINDS, MODES, type Mode, type ModelKind } from "../../train/types.js";
import { UsageError } from "../../util/errors.js";
import { parseMasterAddr } from "../../engines/distributed.js";
import * as t from "typanion";

const isProbability = t.cascade(t.isNumber(), [t.isInInclusiveRange(Number.MIN_VALUE, 1)]);
const isUnitInterval = t.cascade(t.isNumber(), [t.isInInclusiveRange(0, 1)]);

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = [...new Set(value.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
  if (items.length === 0) throw new UsageError(`${flag} names nothing`);
  for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`${flag} must be one of ${allowed.join(", ")} (comma-separated), got ${JSON.stringify(item)}`);
  return items as T[];
}

/** A path relative to the working directory when it lies below it (checkpoints record what the user typed). */
function show(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

export class TrainCommand extends BaseCommand<TrainSessionResult> {
  static paths = [["train"]];

  static usage = Command.Usage({
    description: "Train models (gbt, mlp, cnn, gru, lstm, transformer, minirocket) in realistic or oracle mode into schema-pinned checkpoints.",
    details: `
      Reads the train and val sides of \`--split\` (the test side is never read), the summary features (\`gbt\`, \`mlp\`) or the tensor shards (\`cnn\`, \`gru\`, \`lstm\`, \`transformer\`, \`minirocket\`), and writes \`<model>_<mode>.ckpt.json\` plus the engine's weights (\`.xgb.json\` or \`.pt\`) into \`--out\`, atomically.

      Modes: \`realistic\` uses only the channels a deployed detector sees (guest + netflow: 29 channels, 145 summary features; the others are dropped from the inputs, not zeroed); \`oracle\` uses all 46. The mask is stored in the checkpoint and enforced at inference.

      \`--model\` and \`--mode\` take one value or a comma-separated list; \`--all\` trains the 14 combinations one after the other. A summary table (validation macro F1 of the best epoch, epochs, time) is printed at the end.

      Neural models share one loop: standardisation (after a signed log1p) fitted on the training slice, class-weighted cross-entropy (inverse-frequency weights, clipped to [0.1, 10]), AdamW, warm-up over 5% of the steps then cosine to 0, gradient-norm clipping, early stopping on validation macro F1 (\`--patience\`), best epoch kept. \`gbt\` is XGBoost (hist, NaN native, class weights as sample weights, early stopping on the validation mlogloss, every val window alike unless \`--val-weighting class\`); on a \`split --val host-folds\` file its rounds are chosen by k-fold by host instead (each fold of training hosts validates a model boosted on the others; the rounds with the lowest mean fold mlogloss are boosted on every training host; docs/host-invariance.md). \`--class-weights none\` trains every model without class weights. Same \`--seed\`, same machine and threads: same weights.

      \`eif\`, \`ae\` and \`ensemble\` (not part of \`--all\`) are unsupervised detectors fitted on the clean training windows only: an extended isolation forest, a reconstruction autoencoder (n-64-32-16-32-64-n, libtorch, the shared loop with early stopping on the clean val windows' reconstruction MSE), and the weighted mean of their rank-normalised scores (\`--members\`, default eif_<mode> and ae_<mode> in \`--out\`; \`--weights\`, default equal). Each one's threshold (\`--target-fpr\`, default 1%) and promotion gate (at most \`--gate-limit\`, default 20%, alarms on held-out clean windows) come from the val side's clean windows; a version that fails the gate is registered as candidate and the current one stays (logged). They write \`<kind>_<mode>.anomaly-ckpt.json\` + weights (docs/anomaly.md).

      Sequence models keep the train+val tensors in memory when they fit \`--tensor-budget-mb\` (default 256); beyond it every epoch streams them from the shard files (the same weights for a seed either way), through a shuffle buffer of \`--shuffle-buffer\` windows (default 8192, recorded in the checkpoint).

      Each trained checkpoint is registered as a version of \`<model>_<mode>\` in \`--registry\` (default: \`--out\`): it becomes \`current\` only if the promotion gate passes (validation macro F1 not significantly below the current version's), else \`candidate\`; see \`cis490 registry\` and docs/registry.md. \`--if-stale\` trains a model only when its current version is older than \`--max-age\` (default 24h) or \`--drift-features\` drift against it, and otherwise says why it did nothing (exit 0); both decisions are logged.

      Data-parallel training of one neural model (\`mlp\`, \`cnn\`, \`gru\`, \`lstm\`, \`transformer\`) over libtorch's c10d process group (Gloo): start the same command once per rank with \`--world-size N --rank R --master-addr HOST:PORT\` (rank 0 hosts the rendezvous there). Each rank reads its own share of the training data, gradients are all-reduced every step, rank 0 validates with the others, decides when to stop, and alone writes and registers the checkpoint. A peer that dies or stalls makes the others fail after at most \`--dist-timeout\` seconds (default 60; \`--rendezvous-timeout\`, default 300, bounds the start and the end of each rank's data reading). See docs/scale.md.

      Progress goes to stderr: on a terminal, a bar per epoch and one line per epoch (loss, validation macro F1); elsewhere (logs, pipes), plain lines only: one per epoch and one per model. \`--json\` prints one JSON document.

      Exit codes: 0 when every requested model trained; 1 when an input is missing or inconsistent (no tensor shards, a split made from another features file, a class absent from training without \`--allow-missing-class\`...) or training failed; 2 on usage errors.
    `,
    examples: [
      ["GBT, realistic mode", "$0 train --model gbt --mode realistic"],
      ["A GRU on tensors, both modes, 15 epochs at most", "$0 train --model gru --mode realistic,oracle --epochs 15"],
      ["All 14 combinations", "$0 train --all --out artifacts"],
      ["A GRU over 2 ranks (run once with --rank 0, once with --rank 1)", "$0 train --model gru --world-size 2 --rank 0 --master-addr 10.0.0.5:29500"],
    ],
  });

  model = Option.String("--model", { description: "gbt, mlp, cnn, gru, lstm, transformer, minirocket, or the unsupervised eif, ae, ensemble (clean windows only; docs/anomaly.md); comma-separated list allowed" });
  mode = Option.String("--mode", { description: "realistic or oracle (comma-separated list allowed; default realistic)" });
  all = Option.Boolean("--all", false, { description: "Train every model in both modes (14 runs)" });
  features = Option.String("--features", { description: "features_window.parquet (default data/processed/features_window.parquet)" });
  tensors = Option.String("--tensors", { description: "Tensor shards directory (default: tensors/ beside the features)" });
  split = Option.String("--split", { description: "Split assignment Parquet (default: split_host.parquet beside the features)" });
  out = Option.String("--out", { description: "Checkpoint directory (default artifacts)" });
  epochs = Option.String("--epochs", { validator: isIntegerAtLeast(1), description: "Neural: maximum epochs (default 60)" });
  batchSize = Option.String("--batch-size", { validator: isIntegerAtLeast(2), description: "Neural: batch size (default 256)" });
  lr = Option.String("--lr", { validator: isNumberAbove(0), description: "Neural: peak learning rate (default 1e-3)" });
  seed = Option.String("--seed", { validator: isIntegerInRange(0, 0xffffffff), description: "Seed for initialisation, dropout, shuffling and XGBoost (default 0)" });
  patience = Option.String("--patience", { validator: isIntegerAtLeast(0), description: "Neural: early-stopping patience in epochs, 0 = off (default 8)" });
  maxMinutes = Option.String("--max-minutes", { validator: isNumberAtLeast(0), description: "Neural: stop after the epoch that passes this many minutes (default: no limit)" });
  hidden = Option.String("--hidden", { validator: isIntegerAtLeast(1), description: "Neural: hidden width / d_model (default 64)" });
  layers = Option.String("--layers", { validator: isIntegerAtLeast(1), description: "Neural: layers (default 2)" });
  dropout = Option.String("--dropout", { validator: isNumberInRange(0, 1), description: "Neural: dropout (default 0.1)" });
  weightDecay = Option.String("--weight-decay", { validator: isNumberAtLeast(0), description: "Neural: AdamW weight decay (default 0.01)" });
  clipNorm = Option.String("--clip-norm", { validator: isNumberAtLeast(0), description: "Neural: gradient-norm clip, 0 = off (default 1)" });
  rocketFeatures = Option.String("--minirocket-features", { validator: isIntegerAtLeast(84), description: "MiniRocket: transform features (default 10000, rounded down to a multiple of 84); --epochs/--patience/--batch-size/--lr set its logistic head" });
  rounds = Option.String("--rounds", { validator: isIntegerAtLeast(1), description: "GBT: maximum boosting rounds (default 400)" });
  maxDepth = Option.String("--max-depth", { validator: isIntegerAtLeast(1), description: "GBT: tree depth (default 6)" });
  eta = Option.String("--eta", { validator: isProbability, description: "GBT: learning rate (default 0.1)" });
  subsample = Option.String("--subsample", { validator: isProbability, description: "GBT: share of training rows each tree samples (default 0.8; 1 = no row sampling)" });
  colsample = Option.String("--colsample", { validator: isProbability, description: "GBT: share of features each tree samples (default 0.8; 1 = every feature)" });
  valWeighting = Option.String("--val-weighting", { validator: isOneOf(["class", "none"] as const), description: "GBT: the early-stopping mlogloss weighs val windows alike (none, default) or by the training class weights (class)" });
  classWeighting = Option.String("--class-weights", { validator: isOneOf(CLASS_WEIGHTINGS), description: "Supervised models: balanced (default; inverse frequency clipped to [0.1, 10]) or none" });
  earlyStopping = Option.String("--early-stopping-rounds", { validator: isIntegerAtLeast(1), description: "GBT: rounds without a better val mlogloss before stopping (default 20)" });
  trees = Option.String("--trees", { validator: isIntegerAtLeast(1), description: "EIF: trees (default 300)" });
  ndim = Option.String("--ndim", { validator: isIntegerAtLeast(1), description: "EIF: features per hyperplane, 1 = classic isolation forest (default 1)" });
  targetFpr = Option.String("--target-fpr", { validator: isNumberInRange(0, 1), description: "eif/ae/ensemble: alarm threshold's false-positive rate on calibration clean windows (default 0.01)" });
  gateLimit = Option.String("--gate-limit", { validator: isUnitInterval, description: "eif/ae/ensemble: most alarms on held-out clean windows for a promotable model (default 0.2)" });
  members = Option.String("--members", { description: "ensemble: comma-separated anomaly sidecars to combine (default: eif_<mode> and ae_<mode> in --out)" });
  weights = Option.String("--weights", { description: "ensemble: comma-separated weights of the members' rank-normalised scores (default equal)" });
  threads = Option.String("--threads", { validator: isIntegerAtLeast(1), description: "Engine threads (default: available cores)" });
  device = Option.String("--device", { validator: isOneOf(["auto", "cpu", "cuda"] as const), description: "Neural: auto (default; CUDA when this libtorch has it), cpu or cuda" });
  tensorBudget = Option.String("--tensor-budget-mb", { validator: isNumberAtLeast(0), description: "Sequence models: cache train+val tensors in memory when they fit this many MiB, else stream them; 0 = always stream (default 256)" });
  shuffleBuffer = Option.String("--shuffle-buffer", { validator: isIntegerAtLeast(1), description: "Sequence models: windows in the training shuffle buffer (default 8192)" });
  allowMissingClass = Option.Boolean("--allow-missing-class", false, { description: "Train even if a val/test class never occurs in training" });
  force = Option.Boolean("--force", false, { description: "Retrain even if the checkpoint already answers this exact request (same data, hyper-parameters and seed)" });
  registry = Option.String("--registry", { description: "Model registry that gets each trained version, behind the promotion gate (default: the --out directory; docs/registry.md)" });
  ifStale = Option.Boolean("--if-stale", false, { description: "Train only when the registry's current version is older than --max-age or --drift-features drift against it (else say why not; logged)" });
  maxAge = Option.String("--max-age", { description: "With --if-stale: age limit of the current version, e.g. 24h (default), 30m, 7d" });
  driftFeatures = Option.String("--drift-features", { description: "With --if-stale: new features_window.parquet tested for drift against the current version" });
  driftThreshold = Option.String("--drift-threshold", { validator: isUnitInterval, description: "With --if-stale: retrain when this share of features drifts (default: the drift command's decision)" });
  worldSize = Option.String("--world-size", { validator: isIntegerInRange(1, 65536), description: "Data-parallel training: number of ranks (processes, usually one per machine); neural models only" });
  rank = Option.String("--rank", { validator: isIntegerAtLeast(0), description: "Data-parallel training: this process's rank, 0..world-size-1 (rank 0 writes the checkpoint)" });
  masterAddr = Option.String("--master-addr", { description: "Data-parallel training: HOST:PORT where rank 0 hosts c10d's TCPStore rendezvous (no authentication: a trusted network only; docs/scale.md)" });
  distTimeout = Option.String("--dist-timeout", { validator: isNumberAbove(0), description: "Data-parallel training: seconds each collective (a step's gradients, validation counts, the stop decision) may wait for the other ranks (default 60)" });
  rendezvousTimeout = Option.String("--rendezvous-timeout", { validator: isNumberAbove(0), description: "Data-parallel training: seconds to wait for every rank to start, and to finish reading its data before the first step (default 300)" });
  dropNoisy = Option.String("--drop-noisy", { description: "A `cis490 label-noise` report (same features file): its flagged training windows are left out (supervised models; docs/label-noise.md)" });

  protected async run(reporter: Reporter): Promise<TrainSessionResult> {
    let kinds: ModelKind[];
    let modes: Mode[];
    let anomalyKinds: AnomalyKind[] = [];
    if (this.all) {
      if (this.model !== undefined || this.mode !== undefined) throw new UsageError("--all trains every model and mode; leave out --model/--mode");
      kinds = [...MODEL_KINDS];
      modes = [...MODES];
    } else {
      if (this.model === undefined) throw new UsageError("--model is required (or --all)");
      const asked = list("--model", this.model, [...MODEL_KINDS, ...ANOMALY_KINDS] as const);
      // eif and ae before the ensemble that combines them.
      anomalyKinds = ANOMALY_KINDS.filter((k) => (asked as string[]).includes(k));
      kinds = asked.filter((k): k is ModelKind => !(ANOMALY_KINDS as readonly string[]).includes(k));
      modes = this.mode === undefined ? ["realistic"] : list("--mode", this.mode, MODES);
    }
    if (!this.ifStale && (this.maxAge !== undefined || this.driftFeatures !== undefined || this.driftThreshold !== undefined)) throw new UsageError("--max-age, --drift-features and --drift-threshold go with --if-stale");
    const maxAgeMs = this.maxAge === undefined ? undefined : parseDuration(this.maxAge);
    if (maxAgeMs === null) throw new UsageError(`--max-age must be a duration like 24h, 30m, 7d (got ${JSON.stringify(this.maxAge)})`);
    if (this.dropNoisy !== undefined && anomalyKinds.length > 0) throw new UsageError("--drop-noisy applies to the supervised models, not the anomaly detectors");
    const distributed = this.distributedOptions(kinds, modes, anomalyKinds.length > 0);
    if ((this.members !== undefined || this.weights !== undefined) && !anomalyKinds.includes("ensemble")) throw new UsageError("--members and --weights go with --model ensemble");
    const members = this.members === undefined ? undefined : this.members.split(",").map((m) => resolve(m.trim()));
    const weights = this.weights === undefined ? undefined : this.weights.split(",").map((w) => Number(w.trim()));
    if (weights && weights.some((w) => !(Number.isFinite(w) && w >= 0))) throw new UsageError(`--weights must be comma-separated numbers >= 0 (got ${JSON.stringify(this.weights)})`);
    if (weights && weights.length !== (members?.length ?? 2)) throw new UsageError(`--weights gives ${weights.length} weight(s) for ${members?.length ?? 2} member(s)`);

    const neural = {
      epochs: this.epochs,
      batch_size: this.batchSize,
      lr: this.lr,
      patience: this.patience,
      max_minutes: this.maxMinutes,
      hidden: this.hidden,
      layers: this.layers,
      dropout: this.dropout,
      weight_decay: this.weightDecay,
      clip_norm: this.clipNorm,
      shuffle_buffer: this.shuffleBuffer,
    };
    const gbt = { rounds: this.rounds, max_depth: this.maxDepth, eta: this.eta, early_stopping_rounds: this.earlyStopping, subsample: this.subsample, colsample_bytree: this.colsample, val_weighting: this.valWeighting };
    if (this.classWeighting !== undefined && anomalyKinds.length > 0) throw new UsageError("--class-weights applies to the supervised models, not the anomaly detectors");
    const features = resolve(this.features ?? "data/processed/features_window.parquet");
    const tensorsDefault = join(dirname(features), "tensors");
    const tensors = this.tensors !== undefined ? resolve(this.tensors) : existsSync(tensorsDefault) ? tensorsDefault : null;
    const out = resolve(this.out ?? "artifacts");
    const stderr = this.context.stderr as unknown as ProgressStream;
    return runTrainSession({
      kinds,
      modes,
      anomalyKinds,
      features: show(features),
      tensors: tensors ? show(tensors) : null,
      split: show(resolve(this.split ?? join(dirname(features), "split_host.parquet"))),
      out,
      registry: resolve(this.registry ?? out),
      seed: this.seed ?? 0,
      neural,
      gbt,
      minirocket: { num_features: this.rocketFeatures, epochs: this.epochs, patience: this.patience, batch_size: this.batchSize, lr: this.lr },
      eifHp: { n_trees: this.trees, ndim: this.ndim, target_fpr: this.targetFpr, max_clean_anomaly_rate: this.gateLimit },
      aeHp: {
        epochs: this.epochs,
        batch_size: this.batchSize,
        lr: this.lr,
        patience: this.patience,
        max_minutes: this.maxMinutes,
        weight_decay: this.weightDecay,
        clip_norm: this.clipNorm,
        target_fpr: this.targetFpr,
        max_clean_anomaly_rate: this.gateLimit,
      },
      ensemble: { members, weights, target_fpr: this.targetFpr, max_clean_anomaly_rate: this.gateLimit },
      threads: this.threads,
      device: this.device,
      tensorBudgetBytes: (this.tensorBudget ?? DEFAULT_TENSOR_BUDGET_BYTES / 2 ** 20) * 2 ** 20,
      allowMissingClass: this.allowMissingClass,
      force: this.force,
      dropNoisy: this.dropNoisy !== undefined ? resolve(this.dropNoisy) : undefined,
      classWeighting: this.classWeighting,
      ifStale: this.ifStale ? { maxAgeMs, driftFeatures: this.driftFeatures, driftThreshold: this.driftThreshold } : undefined,
      commandLine: process.argv.slice(1),
      distributed,
      progressFor: (label, kind) =>
        new EpochProgress(stderr, label, kind === "gbt" ? (this.rounds ?? 400) : (this.epochs ?? (kind === "minirocket" ? DEFAULT_MINIROCKET.epochs : 60)), kind === "gbt" ? "round" : "epoch"),
      onError: (label, message) => reporter.warn(`${label}: ${message}`),
    });
  }

  private distributedOptions(kinds: ModelKind[], modes: Mode[], anomaly: boolean) {
    if (this.worldSize === undefined) {
      if (this.rank !== undefined || this.masterAddr !== undefined || this.distTimeout !== undefined || this.rendezvousTimeout !== undefined) throw new UsageError("--rank, --master-addr, --dist-timeout and --rendezvous-timeout go with --world-size");
      return undefined;
    }
    if (this.rank === undefined || this.masterAddr === undefined) throw new UsageError("--world-size needs --rank and --master-addr HOST:PORT");
    if (this.rank >= this.worldSize) throw new UsageError(`--rank must be in 0..${this.worldSize - 1} for --world-size ${this.worldSize} (got ${this.rank})`);
    const master = parseMasterAddr(this.masterAddr);
    if (!master) throw new UsageError(`--master-addr must be HOST:PORT (port 1-65535), got ${JSON.stringify(this.masterAddr)}`);
    if (this.all) throw new UsageError("--world-size trains one model in one mode per run (every rank must run the same one), not --all");
    const refused = kinds.filter((k) => k === "gbt" || k === "minirocket");
    if (refused.length > 0 || anomaly) throw new UsageError(`--world-size trains the neural classifiers (mlp, cnn, gru, lstm, transformer) data-parallel; ${[...refused, ...(anomaly ? ["the anomaly detectors"] : [])].join(", ")} train in one process (drop --world-size)`);
    if (this.all || kinds.length !== 1 || modes.length !== 1) throw new UsageError("--world-size trains one model in one mode per run (every rank must run the same one)");
    if (this.ifStale) throw new UsageError("--if-stale cannot be combined with --world-size (ranks could decide differently)");
    return { rank: this.rank, worldSize: this.worldSize, host: master.host, port: master.port, timeoutMs: Math.round((this.distTimeout ?? 60) * 1000), rendezvousTimeoutMs: Math.round((this.rendezvousTimeout ?? 300) * 1000) };
  }

  protected exitCodeOf(r: TrainSessionResult): number {
    return r.failures.length === 0 ? EXIT_OK : EXIT_FAILURE;
  }

  protected toJson(r: TrainSessionResult): unknown {
    return trainSessionJson(r);
  }

  protected render(s: TrainSessionResult): string {
    return renderTrainSession(s, show);
  }
}
