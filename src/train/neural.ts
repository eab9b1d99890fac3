// Neural estimators (libtorch through src/engines): the mlp on summary
// features, cnn/gru/lstm/transformer on the 10 Hz tensors with their
// missingness mask. One estimator = scaler + network, scikit-learn style:
// hyper-parameters stored verbatim, learned state (scaling statistics and
// weights) set only by fit (or restored from a checkpoint).

import { availableParallelism } from "node:os";
import { TorchModel, type ProcessGroup, type ResolvedTorchConfig, type TorchConfig, type TorchDevice, type TorchKind } from "../engines/index.js";
import { DEFAULT_SHUFFLE_BUFFER, runTrainingLoop, predictRows, type LoopData, type LoopDistribution, type LoopResult, type StepModel } from "./loop.js";
import type { PreparedSequenceData } from "./sequence-data.js";
import { Standardiser, type InputTransform, type StandardisationStats } from "./standardise.js";
import type { EpochRecord } from "./types.js";
import { NotFittedError, type Embedder, type Estimator, type WindowBatch } from "./estimator.js";

export interface NeuralHyperParameters {
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  /** Share of the planned steps spent warming the learning rate up. */
  warmup_fraction: number;
  /** Global gradient-norm clip; 0 = none. */
  clip_norm: number;
  /** Early stopping on validation macro F1; 0 = off. */
  patience: number;
  /** Wall-clock limit in minutes (checked after each epoch); 0 = none. */
  max_minutes: number;
  hidden: number;
  layers: number;
  dropout: number;
  heads: number;
  input_transform: InputTransform;
  /** Sequence models: rows in the training shuffle buffer (src/train/loop.ts). */
  shuffle_buffer: number;
}

export const DEFAULT_NEURAL: NeuralHyperParameters = {
  epochs: 60,
  batch_size: 256,
  lr: 1e-3,
  weight_decay: 0.01,
  warmup_fraction: 0.05,
  clip_norm: 1.0,
  patience: 8,
  max_minutes: 0,
  hidden: 64,
  layers: 2,
  dropout: 0.1,
  heads: 4,
  input_transform: "symlog",
  shuffle_buffer: DEFAULT_SHUFFLE_BUFFER,
};

/** Input layout: [features] for the mlp, [channels, steps] (+ mask) for the sequence models. */
export type InputShape = { features: number } | { channels: number; steps: number };

export interface NeuralData {
  n: number;
  /** Raw values (NaN/inf allowed), row-major in the input shape. */
  x: Float32Array;
  /** Sequence models: 1 = observed; null for the mlp. */
  mask: Uint8Array | null;
  y: Int32Array;
}

export interface RuntimeOptions {
  threads?: number;
  device?: TorchDevice;
  /** Wraps the engine model (tests use it to look at what reaches the engine). */
  wrap?: (model: StepModel) => StepModel;
  /**
   * Data-parallel training over this connected c10d group: the model takes
   * rank 0's initial weights and all-reduces gradients every step; only
   * rank 0 saves weights (the others leave `bestPath` alone).
   */
  group?: ProcessGroup;
}

export function torchConfig(kind: TorchKind, shape: InputShape, nClasses: number, hp: NeuralHyperParameters, seed: number, rt: RuntimeOptions): TorchConfig {
  const common = {
    kind,
    n_classes: nClasses,
    hidden: hp.hidden,
    layers: hp.layers,
    dropout: hp.dropout,
    heads: hp.heads,
    weight_decay: hp.weight_decay,
    seed,
    threads: rt.threads ?? availableParallelism(),
    device: rt.device ?? "auto",
  };
  return "features" in shape ? { ...common, n_features: shape.features } : { ...common, n_channels: shape.channels, seq_len: shape.steps };
}

export interface NeuralFitOptions extends Pick<Parameters<typeof runTrainingLoop>[3], "onStep" | "onEpoch"> {
  classWeights: Float32Array;
  /** Where the best epoch's weights are kept (a temporary name the caller commits). */
  bestPath: string;
}

const EMBED_CHUNK = 1024;

export type NeuralFitResult = LoopResult & { all_missing_inputs: number[] };

export class NeuralEstimator implements Estimator<NeuralData, NeuralFitOptions, NeuralFitResult>, Embedder {
  readonly embeddingLayer = "penultimate" as const;

  model: TorchModel | null = null;
  scaler: Standardiser | null = null;
  private stepModel: StepModel | null = null;

  constructor(
    readonly kind: TorchKind,
    readonly hp: NeuralHyperParameters,
    readonly shape: InputShape,
    readonly nClasses: number,
    readonly seed: number,
    readonly runtime: RuntimeOptions = {},
  ) {}

  get steps(): number {
    return "features" in this.shape ? 1 : this.shape.steps;
  }

  get width(): number {
    return "features" in this.shape ? this.shape.features : this.shape.channels;
  }

  get rowLen(): number {
    return this.width * this.steps;
  }

  get config(): ResolvedTorchConfig {
    if (!this.model) throw new Error("NeuralEstimator: fit() first");
    return this.model.config;
  }

  private build(): void {
    this.model = new TorchModel(torchConfig(this.kind, this.shape, this.nClasses, this.hp, this.seed, this.runtime));
    this.stepModel = this.runtime.wrap ? this.runtime.wrap(this.model) : this.model;
  }

  private check(d: NeuralData, what: string): void {
    if (d.x.length !== d.n * this.rowLen) throw new Error(`${what}: ${d.x.length} values for ${d.n} rows of ${this.rowLen}`);
    if ((d.mask === null) !== (this.kind === "mlp")) throw new Error(`${what}: the ${this.kind} ${this.kind === "mlp" ? "takes no" : "needs a"} mask`);
  }

  /**
   * Fits the scaler on `train`, scales train and val IN PLACE, and runs the
   * training loop; the best-on-validation weights end up in `bestPath` and
   * in the model.
   */
  async fit(train: NeuralData, val: NeuralData, { classWeights, bestPath, ...hooks }: NeuralFitOptions): Promise<NeuralFitResult> {
    this.check(train, "train");
    this.check(val, "val");
    this.scaler = new Standardiser(this.hp.input_transform).fit(train.x, train.mask, this.width, this.steps);
    this.scaler.apply(train.x, train.mask, this.steps);
    this.scaler.apply(val.x, val.mask, this.steps);
    const loopTrain: LoopData = { n: train.n, rowLen: this.rowLen, x: train.x, mask: train.mask, y: train.y };
    const loopVal: LoopData = { n: val.n, rowLen: this.rowLen, x: val.x, mask: val.mask, y: val.y };
    return this.runLoop(loopTrain, loopVal, classWeights, bestPath, hooks);
  }

  /**
   * Sequence models over chunked (streamed or cached) tensors: the scaler
   * comes from the data's streaming statistics pass, chunks arrive scaled.
   */
  async fitChunked(
    data: PreparedSequenceData,
    classWeights: Float32Array,
    bestPath: string,
    hooks: Pick<Parameters<typeof runTrainingLoop>[3], "onStep" | "onEpoch"> = {},
  ): Promise<LoopResult & { all_missing_inputs: number[] }> {
    if (this.kind === "mlp") throw new Error("the mlp reads summary features, not tensor chunks");
    if (data.train.rowLen !== this.rowLen || data.val.rowLen !== this.rowLen) throw new Error(`chunked rows of ${data.train.rowLen} values, the model reads ${this.rowLen}`);
    this.scaler = data.scaler;
    return this.runLoop(data.train, data.val, classWeights, bestPath, hooks);
  }

  private async runLoop(
    loopTrain: Parameters<typeof runTrainingLoop>[1],
    loopVal: Parameters<typeof runTrainingLoop>[2],
    classWeights: Float32Array,
    bestPath: string,
    hooks: Pick<Parameters<typeof runTrainingLoop>[3], "onStep" | "onEpoch">,
  ): Promise<LoopResult & { all_missing_inputs: number[] }> {
    this.build();
    const group = this.runtime.group;
    let dist: LoopDistribution | undefined;
    if (group) {
      await this.model!.joinProcessGroup(group);
      dist = { rank: group.rank, worldSize: group.worldSize, allReduceSum: (d, what) => group.allReduceSum(d, what), broadcast: (d, root, what) => group.broadcast(d, root, what) };
    }
    const result = await runTrainingLoop(this.stepModel!, loopTrain, loopVal, {
      epochs: this.hp.epochs,
      batchSize: this.hp.batch_size,
      lr: this.hp.lr,
      warmupFraction: this.hp.warmup_fraction,
      clipNorm: this.hp.clip_norm,
      patience: this.hp.patience,
      maxMinutes: this.hp.max_minutes,
      seed: this.seed,
      nClasses: this.nClasses,
      classWeights,
      bestPath,
      shuffleBuffer: this.hp.shuffle_buffer,
      dist,
      ...hooks,
    });
    // Back to the best epoch's weights (the loop ends on the last epoch's); only rank 0 saved them.
    if (!dist || dist.rank === 0) await this.model!.load(bestPath);
    return { ...result, all_missing_inputs: this.scaler!.allMissing };
  }

  /** Restores learned state from a checkpoint. */
  static async restore(
    kind: TorchKind,
    hp: NeuralHyperParameters,
    shape: InputShape,
    nClasses: number,
    seed: number,
    stats: StandardisationStats,
    weightsPath: string,
    runtime: RuntimeOptions = {},
  ): Promise<NeuralEstimator> {
    const e = new NeuralEstimator(kind, hp, shape, nClasses, seed, runtime);
    if (stats.mean.length !== e.width || stats.std.length !== e.width) {
      throw new Error(`standardisation statistics cover ${stats.mean.length} inputs, the model reads ${e.width}`);
    }
    e.scaler = Standardiser.fromStats(stats, hp.input_transform);
    e.build();
    await e.model!.load(weightsPath);
    return e;
  }

  /** Class probabilities for raw (unscaled) rows; x and mask are not modified. */
  get fitted(): boolean {
    return Boolean(this.model && this.scaler && this.stepModel);
  }

  async predictProba({ x, mask = null, n }: WindowBatch): Promise<Float32Array> {
    if (!this.model || !this.scaler || !this.stepModel) throw new NotFittedError(`NeuralEstimator (${this.kind})`);
    if (x.length !== n * this.rowLen) throw new Error(`${x.length} values for ${n} rows of ${this.rowLen}`);
    const xs = x.slice();
    const ms = mask ? mask.slice() : null;
    this.scaler.apply(xs, ms, this.steps);
    return predictRows(this.stepModel, { n, rowLen: this.rowLen, x: xs, mask: ms }, this.nClasses);
  }

  /** The net's last hidden layer (its head's input): hp.hidden values per window. */
  get embeddingWidth(): number {
    return this.hp.hidden;
  }

  /** Penultimate-layer activations [n, hidden] for raw (unscaled) rows; x and mask are not modified. */
  async embed({ x, mask = null, n }: WindowBatch): Promise<Float32Array> {
    const model = this.model;
    if (!model || !this.scaler) throw new NotFittedError(`NeuralEstimator (${this.kind})`);
    if (x.length !== n * this.rowLen) throw new Error(`${x.length} values for ${n} rows of ${this.rowLen}`);
    const xs = x.slice();
    const ms = mask ? mask.slice() : null;
    this.scaler.apply(xs, ms, this.steps);
    const d = this.embeddingWidth;
    const out = new Float32Array(n * d);
    const len = this.rowLen;
    for (let s = 0; s < n; s += EMBED_CHUNK) {
      const e = Math.min(n, s + EMBED_CHUNK);
      out.set(await model.embed(xs.subarray(s * len, e * len), ms ? ms.subarray(s * len, e * len) : null), s * d);
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.model?.dispose();
  }
}

export type { EpochRecord };
