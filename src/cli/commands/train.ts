// `cis490 train`: one model x mode (or several, or all 12) -> schema-pinned
// checkpoints in --out. The work lives in src/train/run.ts; this file parses
// options, draws per-epoch progress on a terminal, prints the summary table
// and picks the exit code.

import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, writeLine } from "../../io/command-support.js";
import { formatTable } from "../../io/table.js";
import type { TorchDevice } from "../../engines/index.js";
import type { GbtHyperParameters } from "../../train/gbt.js";
import { DEFAULT_MINIROCKET, type MiniRocketHyperParameters } from "../../train/minirocket.js";
import type { NeuralHyperParameters } from "../../train/neural.js";
import { DEFAULT_TENSOR_BUDGET_BYTES, trainModel, type TrainResult } from "../../train/run.js";
import { MODEL_KINDS, MODES, TrainError, isSequenceKind, type EpochRecord, type Mode, type ModelKind } from "../../train/types.js";

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

  epoch(r: EpochRecord, best: { epoch: number; val_macro_f1: number }, unit = "epoch"): void {
    if (!this.enabled) return;
    const loss = Number.isFinite(r.train_loss) ? r.train_loss.toFixed(4) : "n/a";
    this.stream.write(
      `\r${this.label} ${unit} ${r.epoch}/${this.epochs} loss ${loss} val macro F1 ${r.val_macro_f1.toFixed(4)} (best ${best.val_macro_f1.toFixed(4)} @ ${best.epoch}) ${r.seconds.toFixed(1)} s\x1b[K\n`,
    );
  }

  status(message: string): void {
    if (this.enabled) this.stream.write(`\r${this.label}: ${message}\x1b[K`);
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

      Sequence models hold the train+val tensors in memory, up to \`--tensor-budget-mb\` (default 2048); beyond it they stop with a message rather than swap.

      Progress (one line per epoch, with loss and validation macro F1) is drawn on stderr when it is a terminal. \`--json\` prints one JSON document.

      Exit codes: 0 when every requested model trained; 1 when an input is missing or inconsistent (no tensor shards, a split made from another features file, a class absent from training without \`--allow-missing-class\`...) or training failed; 2 on usage errors.
    `,
    examples: [
      ["GBT, realistic mode", "$0 train --model gbt --mode realistic"],
      ["A GRU on tensors, both modes, 15 epochs at most", "$0 train --model gru --mode realistic,oracle --epochs 15"],
      ["All 14 combinations", "$0 train --all --out artifacts"],
    ],
  });

  model = Option.String("--model", { description: "gbt, mlp, cnn, gru, lstm, transformer or minirocket (comma-separated list allowed)" });
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
  threads = Option.String("--threads", { description: "Engine threads (default: available cores)" });
  device = Option.String("--device", { description: "Neural: auto (default; CUDA when this libtorch has it), cpu or cuda" });
  tensorBudget = Option.String("--tensor-budget-mb", { description: "Most MiB of train+val tensors held in memory (default 2048)" });
  allowMissingClass = Option.Boolean("--allow-missing-class", false, { description: "Train even if a val/test class never occurs in training" });
  force = Option.Boolean("--force", false, { description: "Retrain even if the checkpoint already answers this exact request (same data, hyper-parameters and seed)" });
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const fail = (code: number, message: string): number => {
      writeLine(stderr, `cis490 train: ${message}`);
      return code;
    };
    let kinds: ModelKind[];
    let modes: Mode[];
    let neural: Partial<NeuralHyperParameters>;
    let gbt: Partial<GbtHyperParameters>;
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
        kinds = list("--model", this.model, MODEL_KINDS);
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
      };
      gbt = {
        rounds: int("--rounds", this.rounds, 1),
        max_depth: int("--max-depth", this.maxDepth, 1),
        eta: num("--eta", this.eta, (n) => n > 0 && n <= 1, "in (0, 1]"),
        early_stopping_rounds: int("--early-stopping-rounds", this.earlyStopping, 1),
      };
      minirocket = { num_features: int("--minirocket-features", this.rocketFeatures, 84), epochs: neural.epochs, patience: neural.patience, batch_size: neural.batch_size, lr: neural.lr };
      seed = int("--seed", this.seed, 0) ?? 0;
      if (seed > 0xffffffff) throw new OptionError("--seed must be below 2^32");
      threads = int("--threads", this.threads, 1);
      if (this.device !== undefined && !["auto", "cpu", "cuda"].includes(this.device)) throw new OptionError(`--device must be auto, cpu or cuda (got ${JSON.stringify(this.device)})`);
      device = this.device as TorchDevice | undefined;
      budget = (pos("--tensor-budget-mb", this.tensorBudget) ?? DEFAULT_TENSOR_BUDGET_BYTES / 2 ** 20) * 2 ** 20;
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
    const results: Array<{ kind: ModelKind; mode: Mode; result: TrainResult }> = [];
    const failures: Array<{ kind: ModelKind; mode: Mode; error: string }> = [];
    for (const { kind, mode } of runs) {
      const label = `${kind} ${mode}`;
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
          onStatus: (m) => progress.status(m),
          onStep: (e, s, n, l) => progress.step(e, s, n, l),
          onEpoch: (r, b) => progress.epoch(r, b, kind === "gbt" ? "round" : "epoch"),
        });
        results.push({ kind, mode, result });
        if (progress.enabled) stderr.write(`\r\x1b[K`);
      } catch (error) {
        if (progress.enabled) stderr.write(`\r\x1b[K`);
        const message = error instanceof TrainError ? error.message : `${(error as Error).message ?? String(error)}`;
        failures.push({ kind, mode, error: message });
        writeLine(stderr, `cis490 train: ${label}: ${message}`);
      }
    }

    if (this.json) {
      stdout.write(
        JSON.stringify({
          out,
          results: results.map(({ kind, mode, result }) => ({
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
            input_shape: result.sidecar.training.input_shape,
            engine: result.sidecar.engine,
            warnings: result.sidecar.training.warnings,
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
      for (const { kind, mode, result } of results) {
        for (const w of result.sidecar.training.warnings) stdout.write(`note (${kind} ${mode}): ${w}\n`);
      }
      if (failures.length) stdout.write(`\n${failures.length} of ${runs.length} run(s) failed (see above).\n`);
    }
    return failures.length === 0 ? EXIT_OK : EXIT_FAILURE;
  }
}
