// `cis490 train`: one model x mode (or several, or all 12) -> schema-pinned
// checkpoints in --out. The work lives in src/train/run.ts; this file parses
// options, draws per-epoch progress on a terminal, prints the summary table
// and picks the exit code.

import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, writeLine } from "../../io/command-support.js";
import { formatTable } from "../text-table.js";
import { CliError } from "../../util/errors.js";
import type { TorchDevice } from "../../engines/index.js";
import type { GbtHyperParameters } from "../../train/gbt.js";
import { DEFAULT_MINIROCKET, type MiniRocketHyperParameters } from "../../train/minirocket.js";
import type { NeuralHyperParameters } from "../../train/neural.js";
import { DEFAULT_TENSOR_BUDGET_BYTES, trainModel, type TrainResult } from "../../train/run.js";
import { registerCheckpoint, type RegisterResult } from "../../registry/api.js";
import { checkStaleness, DEFAULT_MAX_AGE_MS, parseDuration, type Staleness } from "../../registry/stale.js";
import { MODEL_KINDS, MODES, TrainError, isSequenceKind, type EpochRecord, type Mode, type ModelKind } from "../../train/types.js";
import { trainEif, type EifTrainResult } from "../../anomaly/train.js";
import type { EifHyperParameters } from "../../anomaly/estimator.js";

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] {
  if (value === undefined) return [];
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new OptionError(`${flag} must be one of ${allowed.join(", ")} (comma-separated), got ${JSON.stringify(item)}`);
  if (items.length === 0) throw new OptionError(`${flag} names nothing`);
  return [...new Set(items)] as T[];
}

function num(flag: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || !check(n)) throw new OptionError(`${flag} must be ${what} (got ${JSON.stringify(value)})`);
  return n;
}
const int = (flag: string, v: string | undefined, min: number) => num(flag, v, (n) => Number.isInteger(n) && n >= min, `an integer >= ${min}`);
const pos = (flag: string, v: string | undefined) => num(flag, v, (n) => n > 0, "a positive number");
const nonneg = (flag: string, v: string | undefined) => num(flag, v, (n) => n >= 0, "a non-negative number");

interface TTYish {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

/** One line per epoch on a terminal: steps, running loss, then validation macro F1. */
class EpochProgress {
  private last = 0;
  constructor(
    private readonly stream: TTYish,
    private readonly label: string,
    private readonly epochs: number,
  ) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY);
  }

  step(epoch: number, step: number, steps: number, loss: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && step < steps) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((step / steps) * width);
    this.stream.write(`\r${this.label} epoch ${epoch}/${this.epochs} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${step}/${steps} loss ${loss.toFixed(4)}\x1b[K`);
  }

  // Epoch lines and status messages also go to logs and pipes, as plain
  // lines: a long training run must show it is alive without a terminal.
  epoch(r: EpochRecord, best: { epoch: number; val_macro_f1: number }, unit = "epoch"): void {
    const loss = Number.isFinite(r.train_loss) ? r.train_loss.toFixed(4) : "n/a";
    const line = `${this.label} ${unit} ${r.epoch}/${this.epochs} loss ${loss} val macro F1 ${r.val_macro_f1.toFixed(4)} (best ${best.val_macro_f1.toFixed(4)} @ ${best.epoch}) ${r.seconds.toFixed(1)} s`;
    this.stream.write(this.enabled ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  status(message: string): void {
    if (this.enabled) this.stream.write(`\r${this.label}: ${message}\x1b[K`);
    else this.stream.write(`${this.label}: ${message}\n`);
  }

  /** One line per model when the per-step bar is not drawn. */
  done(result: TrainResult): void {
    if (this.enabled) return;
    const sc = result.sidecar;
    const what = result.reused ? "reused the existing checkpoint" : `trained in ${sc.training.total_seconds.toFixed(1)} s`;
    this.stream.write(`${this.label}: ${what}, best val macro F1 ${sc.best.val_macro_f1.toFixed(4)} @ ${sc.best.epoch}\n`);
  }
}

export class TrainCommand extends Command {
  static paths = [["train"]];

  static usage = Command.Usage({
    description: "Train models (gbt, mlp, cnn, gru, lstm, transformer, minirocket) in realistic or oracle mode into schema-pinned checkpoints.",
    details: `
      Reads the train and val sides of \`--split\` (the test side is never read), the summary features (\`gbt\`, \`mlp\`) or the tensor shards (\`cnn\`, \`gru\`, \`lstm\`, \`transformer\`, \`minirocket\`), and writes \`<model>_<mode>.ckpt.json\` plus the engine's weights (\`.xgb.json\` or \`.pt\`) into \`--out\`, atomically.

      Modes: \`realistic\` uses only the channels a deployed detector sees (guest + netflow: 29 channels, 145 summary features; the others are dropped from the inputs, not zeroed); \`oracle\` uses all 46. The mask is stored in the checkpoint and enforced at inference.

      \`--model\` and \`--mode\` take one value or a comma-separated list; \`--all\` trains the 14 combinations one after the other. A summary table (validation macro F1 of the best epoch, epochs, time) is printed at the end.

      Neural models share one loop: standardisation (after a signed log1p) fitted on the training slice, class-weighted cross-entropy (inverse-frequency weights, clipped to [0.1, 10]), AdamW, warm-up over 5% of the steps then cosine to 0, gradient-norm clipping, early stopping on validation macro F1 (\`--patience\`), best epoch kept. \`gbt\` is XGBoost (hist, NaN native, class weights as sample weights, early stopping on the validation mlogloss). Same \`--seed\`, same machine and threads: same weights.

      \`eif\` (not part of \`--all\`) is an unsupervised extended isolation forest fitted on the clean training windows only; its threshold (1% FPR) and promotion gate (at most 20% alarms on held-out clean windows) come from the val side's clean windows. It writes \`eif_<mode>.anomaly-ckpt.json\` + \`eif_<mode>.eif.json\` (docs/anomaly.md).

      Sequence models keep the train+val tensors in memory when they fit \`--tensor-budget-mb\` (default 256); beyond it every epoch streams them from the shard files (the same weights for a seed either way), through a shuffle buffer of \`--shuffle-buffer\` windows (default 8192, recorded in the checkpoint).

      Each trained checkpoint is registered as a version of \`<model>_<mode>\` in \`--registry\` (default: \`--out\`): it becomes \`current\` only if the promotion gate passes (validation macro F1 not significantly below the current version's), else \`candidate\`; see \`cis490 registry\` and docs/registry.md. \`--if-stale\` trains a model only when its current version is older than \`--max-age\` (default 24h) or \`--drift-features\` drift against it, and otherwise says why it did nothing (exit 0); both decisions are logged.

      Progress (one line per epoch, with loss and validation macro F1) is drawn on stderr when it is a terminal. \`--json\` prints one JSON document.

      Progress goes to stderr: on a terminal, a bar per epoch and one line per epoch (loss, validation macro F1); elsewhere (logs, pipes), plain lines only: one per epoch and one per model. \`--json\` prints one JSON document.

      Exit codes: 0 when every requested model trained; 1 when an input is missing or inconsistent (no tensor shards, a split made from another features file, a class absent from training without \`--allow-missing-class\`...) or training failed; 2 on usage errors.
    `,
    examples: [
      ["GBT, realistic mode", "$0 train --model gbt --mode realistic"],
      ["A GRU on tensors, both modes, 15 epochs at most", "$0 train --model gru --mode realistic,oracle --epochs 15"],
      ["All 14 combinations", "$0 train --all --out artifacts"],
    ],
  });

  model = Option.String("--model", { description: "gbt, mlp, cnn, gru, lstm, transformer, minirocket, or eif (unsupervised, clean windows only; docs/anomaly.md); comma-separated list allowed" });
  mode = Option.String("--mode", { description: "realistic or oracle (comma-separated list allowed; default realistic)" });
  all = Option.Boolean("--all", false, { description: "Train every model in both modes (14 runs)" });
  features = Option.String("--features", { description: "features_window.parquet (default data/processed/features_window.parquet)" });
  tensors = Option.String("--tensors", { description: "Tensor shards directory (default: tensors/ beside the features)" });
  split = Option.String("--split", { description: "Split assignment Parquet (default: split_host.parquet beside the features)" });
  out = Option.String("--out", { description: "Checkpoint directory (default artifacts)" });
  epochs = Option.String("--epochs", { description: "Neural: maximum epochs (default 60)" });
  batchSize = Option.String("--batch-size", { description: "Neural: batch size (default 256)" });
  lr = Option.String("--lr", { description: "Neural: peak learning rate (default 1e-3)" });
  seed = Option.String("--seed", { description: "Seed for initialisation, dropout, shuffling and XGBoost (default 0)" });
  patience = Option.String("--patience", { description: "Neural: early-stopping patience in epochs, 0 = off (default 8)" });
  maxMinutes = Option.String("--max-minutes", { description: "Neural: stop after the epoch that passes this many minutes (default: no limit)" });
  hidden = Option.String("--hidden", { description: "Neural: hidden width / d_model (default 64)" });
  layers = Option.String("--layers", { description: "Neural: layers (default 2)" });
  dropout = Option.String("--dropout", { description: "Neural: dropout (default 0.1)" });
  weightDecay = Option.String("--weight-decay", { description: "Neural: AdamW weight decay (default 0.01)" });
  clipNorm = Option.String("--clip-norm", { description: "Neural: gradient-norm clip, 0 = off (default 1)" });
  rocketFeatures = Option.String("--minirocket-features", { description: "MiniRocket: transform features (default 10000, rounded down to a multiple of 84); --epochs/--patience/--batch-size/--lr set its logistic head" });
  rounds = Option.String("--rounds", { description: "GBT: maximum boosting rounds (default 400)" });
  maxDepth = Option.String("--max-depth", { description: "GBT: tree depth (default 6)" });
  eta = Option.String("--eta", { description: "GBT: learning rate (default 0.1)" });
  earlyStopping = Option.String("--early-stopping-rounds", { description: "GBT: rounds without a better val mlogloss before stopping (default 20)" });
  trees = Option.String("--trees", { description: "EIF: trees (default 300)" });
  ndim = Option.String("--ndim", { description: "EIF: features per hyperplane, 1 = classic isolation forest (default 1)" });
  targetFpr = Option.String("--target-fpr", { description: "EIF: alarm threshold's false-positive rate on calibration clean windows (default 0.01)" });
  gateLimit = Option.String("--gate-limit", { description: "EIF: most alarms on held-out clean windows for a promotable model (default 0.2)" });
  threads = Option.String("--threads", { description: "Engine threads (default: available cores)" });
  device = Option.String("--device", { description: "Neural: auto (default; CUDA when this libtorch has it), cpu or cuda" });
  tensorBudget = Option.String("--tensor-budget-mb", { description: "Sequence models: cache train+val tensors in memory when they fit this many MiB, else stream them; 0 = always stream (default 256)" });
  shuffleBuffer = Option.String("--shuffle-buffer", { description: "Sequence models: windows in the training shuffle buffer (default 8192)" });
  allowMissingClass = Option.Boolean("--allow-missing-class", false, { description: "Train even if a val/test class never occurs in training" });
  force = Option.Boolean("--force", false, { description: "Retrain even if the checkpoint already answers this exact request (same data, hyper-parameters and seed)" });
  registry = Option.String("--registry", { description: "Model registry that gets each trained version, behind the promotion gate (default: the --out directory; docs/registry.md)" });
  ifStale = Option.Boolean("--if-stale", false, { description: "Train only when the registry's current version is older than --max-age or --drift-features drift against it (else say why not; logged)" });
  maxAge = Option.String("--max-age", { description: "With --if-stale: age limit of the current version, e.g. 24h (default), 30m, 7d" });
  driftFeatures = Option.String("--drift-features", { description: "With --if-stale: new features_window.parquet tested for drift against the current version" });
  driftThreshold = Option.String("--drift-threshold", { description: "With --if-stale: retrain when this share of features drifts (default: the drift command's decision)" });
  dropNoisy = Option.String("--drop-noisy", { description: "A `cis490 label-noise` report (same features file): its flagged training windows are left out (supervised models; docs/label-noise.md)" });
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const fail = (code: number, message: string): number => {
      writeLine(stderr, `cis490 train: ${message}`);
      return code;
    };
    let kinds: ModelKind[];
    let eif = false;
    let modes: Mode[];
    let neural: Partial<NeuralHyperParameters>;
    let gbt: Partial<GbtHyperParameters>;
    let eifHp: Partial<EifHyperParameters>;
    let minirocket: Partial<MiniRocketHyperParameters>;
    let seed: number;
    let threads: number | undefined;
    let device: TorchDevice | undefined;
    let budget: number;
    try {
      if (this.all) {
        if (this.model !== undefined || this.mode !== undefined) throw new OptionError("--all trains every model and mode; leave out --model/--mode");
        kinds = [...MODEL_KINDS];
        modes = [...MODES];
      } else {
        if (this.model === undefined) throw new OptionError("--model is required (or --all)");
        const asked = list("--model", this.model, [...MODEL_KINDS, "eif"] as const);
        eif = asked.includes("eif");
        kinds = asked.filter((k): k is ModelKind => k !== "eif");
        modes = this.mode === undefined ? ["realistic"] : list("--mode", this.mode, MODES);
      }
      neural = {
        epochs: int("--epochs", this.epochs, 1),
        batch_size: int("--batch-size", this.batchSize, 2),
        lr: pos("--lr", this.lr),
        patience: int("--patience", this.patience, 0),
        max_minutes: nonneg("--max-minutes", this.maxMinutes),
        hidden: int("--hidden", this.hidden, 1),
        layers: int("--layers", this.layers, 1),
        dropout: num("--dropout", this.dropout, (n) => n >= 0 && n < 1, "in [0, 1)"),
        weight_decay: nonneg("--weight-decay", this.weightDecay),
        clip_norm: nonneg("--clip-norm", this.clipNorm),
        shuffle_buffer: int("--shuffle-buffer", this.shuffleBuffer, 1),
      };
      gbt = {
        rounds: int("--rounds", this.rounds, 1),
        max_depth: int("--max-depth", this.maxDepth, 1),
        eta: num("--eta", this.eta, (n) => n > 0 && n <= 1, "in (0, 1]"),
        early_stopping_rounds: int("--early-stopping-rounds", this.earlyStopping, 1),
      };
      eifHp = {
        n_trees: int("--trees", this.trees, 1),
        ndim: int("--ndim", this.ndim, 1),
        target_fpr: num("--target-fpr", this.targetFpr, (n) => n >= 0 && n < 1, "in [0, 1)"),
        max_clean_anomaly_rate: num("--gate-limit", this.gateLimit, (n) => n >= 0 && n <= 1, "in [0, 1]"),
      };
      minirocket = { num_features: int("--minirocket-features", this.rocketFeatures, 84), epochs: neural.epochs, patience: neural.patience, batch_size: neural.batch_size, lr: neural.lr };
      seed = int("--seed", this.seed, 0) ?? 0;
      if (seed > 0xffffffff) throw new OptionError("--seed must be below 2^32");
      threads = int("--threads", this.threads, 1);
      if (this.device !== undefined && !["auto", "cpu", "cuda"].includes(this.device)) throw new OptionError(`--device must be auto, cpu or cuda (got ${JSON.stringify(this.device)})`);
      device = this.device as TorchDevice | undefined;
      budget = (nonneg("--tensor-budget-mb", this.tensorBudget) ?? DEFAULT_TENSOR_BUDGET_BYTES / 2 ** 20) * 2 ** 20;
      if (!this.ifStale && (this.maxAge !== undefined || this.driftFeatures !== undefined || this.driftThreshold !== undefined)) throw new OptionError("--max-age, --drift-features and --drift-threshold go with --if-stale");
      if (this.maxAge !== undefined && parseDuration(this.maxAge) === null) throw new OptionError(`--max-age must be a duration like 24h, 30m, 7d (got ${JSON.stringify(this.maxAge)})`);
      num("--drift-threshold", this.driftThreshold, (n) => n >= 0 && n <= 1, "in [0, 1]");
      if (this.dropNoisy !== undefined && eif) throw new OptionError("--drop-noisy applies to the supervised models (gbt, mlp, cnn, gru, lstm, transformer), not eif");
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      return fail(EXIT_USAGE, error.message);
    }

    const features = resolve(this.features ?? "data/processed/features_window.parquet");
    const split = resolve(this.split ?? join(dirname(features), "split_host.parquet"));
    const tensorsDefault = join(dirname(features), "tensors");
    const tensors = this.tensors !== undefined ? resolve(this.tensors) : existsSync(tensorsDefault) ? tensorsDefault : null;
    const out = resolve(this.out ?? "artifacts");
    const show = (p: string): string => {
      const r = relative(process.cwd(), p);
      return r && !r.startsWith("..") ? r : p;
    };

    const runs: Array<{ kind: ModelKind; mode: Mode }> = kinds.flatMap((kind) => modes.map((mode) => ({ kind, mode })));
    const results: Array<{ kind: ModelKind; mode: Mode; result: TrainResult; registered: RegisterResult }> = [];
    const registry = resolve(this.registry ?? out);
    const skipped: Staleness[] = [];
    const failures: Array<{ kind: ModelKind | "eif"; mode: Mode; error: string }> = [];
    for (const { kind, mode } of runs) {
      const label = `${kind} ${mode}`;
      if (this.ifStale) {
        try {
          const st = await checkStaleness(registry, `${kind}_${mode}`, {
            maxAgeMs: this.maxAge !== undefined ? parseDuration(this.maxAge)! : DEFAULT_MAX_AGE_MS,
            driftFeatures: this.driftFeatures !== undefined ? resolve(this.driftFeatures) : undefined,
            driftThreshold: this.driftThreshold !== undefined ? Number(this.driftThreshold) : undefined,
          });
          if (!st.stale) {
            skipped.push(st);
            if (!this.json) stdout.write(`${label}: not retrained: ${st.reasons.join("; ")}\n`);
            continue;
          }
          if (!this.json) stdout.write(`${label}: retraining: ${st.reasons.join("; ")}\n`);
        } catch (error) {
          const message = (error as Error).message;
          failures.push({ kind, mode, error: message });
          writeLine(stderr, `cis490 train: ${label}: --if-stale: ${message}`);
          continue;
        }
      }
      const progress = new EpochProgress(stderr as unknown as TTYish, label, kind === "gbt" ? (gbt.rounds ?? 400) : (neural.epochs ?? (kind === "minirocket" ? DEFAULT_MINIROCKET.epochs : 60)));
      try {
        const result = await trainModel({
          kind,
          mode,
          features: show(features),
          tensors: isSequenceKind(kind) ? (tensors ? show(tensors) : null) : null,
          split: show(split),
          out,
          seed,
          neural,
          gbt,
          minirocket,
          threads,
          device,
          allowMissingClass: this.allowMissingClass,
          force: this.force,
          tensorBudgetBytes: budget,
          dropNoisy: this.dropNoisy !== undefined ? resolve(this.dropNoisy) : undefined,
          onStatus: (m) => progress.status(m),
          onStep: (e, s, n, l) => progress.step(e, s, n, l),
          onEpoch: (r, b) => progress.epoch(r, b, kind === "gbt" ? "round" : "epoch"),
        });
        progress.status("registering the version");
        const registered = await registerCheckpoint(registry, result.sidecarPath, { commandLine: process.argv.slice(1) });
        results.push({ kind, mode, result, registered });
        if (progress.enabled) stderr.write(`\r\x1b[K`);
        progress.done(result);
      } catch (error) {
        if (progress.enabled) stderr.write(`\r\x1b[K`);
        const message = error instanceof TrainError || error instanceof CliError ? error.message : `${(error as Error).message ?? String(error)}`;
        failures.push({ kind, mode, error: message });
        writeLine(stderr, `cis490 train: ${label}: ${message}`);
      }
    }

    // The unsupervised detector: its own checkpoint kind and summary (docs/anomaly.md).
    const anomaly: Array<{ mode: Mode; result: EifTrainResult }> = [];
    for (const mode of eif ? modes : []) {
      try {
        anomaly.push({ mode, result: await trainEif({ mode, features: show(features), split: show(split), out, seed, threads, eif: eifHp, force: this.force }) });
      } catch (error) {
        const message = error instanceof TrainError ? error.message : `${(error as Error).message ?? String(error)}`;
        failures.push({ kind: "eif", mode, error: message });
        writeLine(stderr, `cis490 train: eif ${mode}: ${message}`);
      }
    }
    const nRuns = runs.length + (eif ? modes.length : 0);

    if (this.json) {
      stdout.write(
        JSON.stringify({
          out,
          registry,
          skipped,
          results: results.map(({ kind, mode, result, registered }) => ({
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
            warnings: result.sidecar.training.warnings,
            registered,
          })),
          anomaly: anomaly.map(({ mode, result: { sidecar: sc, sidecarPath, weightsPath, reused } }) => ({
            model: "eif",
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
          })),
          failures,
        }) + "\n",
      );
    } else {
      const rows = results.map(({ kind, mode, result }) => {
        const t = result.sidecar.training;
        const run = kind === "gbt" ? `${t.gbt?.rounds_trained ?? "?"} rounds` : `${result.sidecar.history.length} epochs`;
        return [
          kind,
          mode,
          result.sidecar.best.val_macro_f1.toFixed(4),
          kind === "gbt" ? `round ${result.sidecar.best.epoch}` : `epoch ${result.sidecar.best.epoch}`,
          run,
          result.reused ? `${t.stopped} (kept: same request)` : t.stopped,
          t.total_seconds.toFixed(1),
          t.input_shape.join("x"),
          show(result.sidecarPath),
        ];
      });
      if (rows.length) {
        stdout.write(formatTable(["model", "mode", "val macro F1", "best", "trained", "stopped", "seconds", "inputs", "checkpoint"], rows, ["left", "left", "right", "left", "right", "left", "right", "left", "left"]));
      }
      for (const { kind, mode, registered: r } of results) {
        const what = !r.created ? "already registered" : r.alias === "candidate" ? `registered as candidate, REFUSED by the promotion gate: ${r.gate?.reason}` : r.gate ? `registered as current: ${r.gate.reason}` : "registered as current (first version)";
        stdout.write(`registry (${kind} ${mode}): ${r.name}@${r.version} ${what}\n`);
      }
      for (const { kind, mode, result } of results) {
        for (const w of result.sidecar.training.warnings) stdout.write(`note (${kind} ${mode}): ${w}\n`);
      }
      if (anomaly.length) {
        const arows = anomaly.map(({ mode, result: { sidecar: sc, sidecarPath, reused } }) => [
          "eif",
          mode,
          String(sc.training.n_train_clean),
          `${sc.training.inputs.length} (${sc.training.dropped.length} dropped)`,
          sc.threshold.toFixed(4),
          `${(100 * sc.gate.clean_anomaly_rate).toFixed(1)}%`,
          sc.gate.promotable ? "yes" : "NO",
          reused ? `${sc.training.total_seconds.toFixed(1)} (kept)` : sc.training.total_seconds.toFixed(1),
          show(sidecarPath),
        ]);
        stdout.write(formatTable(["model", "mode", "clean train", "inputs", "threshold", "held-out clean alarms", "promotable", "seconds", "checkpoint"], arows, ["left", "left", "right", "left", "right", "right", "left", "right", "left"]));
        for (const { mode, result } of anomaly) for (const w of result.sidecar.training.warnings) stdout.write(`note (eif ${mode}): ${w}\n`);
      }
      if (failures.length) stdout.write(`\n${failures.length} of ${nRuns} run(s) failed (see above).\n`);
    }
    return failures.length === 0 ? EXIT_OK : EXIT_FAILURE;
  }
}
