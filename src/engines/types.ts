// Types of the model engines (native/engines.node, built from engines/ by
// scripts/build-engines.sh). Arrays in, arrays out: engines never read data files.

export type TorchKind = "mlp" | "cnn" | "gru" | "lstm" | "transformer";
export type TorchDevice = "auto" | "cpu" | "cuda";

/**
 * Hyper-parameters of a TorchModel. Input layout:
 * - mlp: x is [B, n_features] (summary features); no mask.
 * - cnn/gru/lstm/transformer: x and mask are [B, n_channels, seq_len] row-major
 *   (the tensor shards' layout); mask 1 = observed. cnn/gru/lstm get the mask
 *   as n_channels extra input channels; the transformer gets them too, and in
 *   addition never attends to (nor pools over) a timestep with no observed channel.
 */
export interface TorchConfig {
  kind: TorchKind;
  /** mlp only. */
  n_features?: number;
  /** Sequence models only. */
  n_channels?: number;
  seq_len?: number;
  n_classes: number;
  /** Hidden width (d_model for the transformer). Default 64. */
  hidden?: number;
  /** Hidden layers / conv layers / recurrent layers / encoder layers. Default 2. */
  layers?: number;
  /** Default 0.1. */
  dropout?: number;
  /** Transformer attention heads; must divide hidden. Default 4. */
  heads?: number;
  /** AdamW weight decay on weight matrices (not biases/norms/positions). Default 0.01. */
  weight_decay?: number;
  /** Seeds weight init and, per step, dropout. Default 0. */
  seed?: number;
  /** Intra-op threads. Default: the cores this process may use. */
  threads?: number;
  /** "auto" picks CUDA when this libtorch has a usable GPU. Default "auto". */
  device?: TorchDevice;
}

export type ResolvedTorchConfig = Required<TorchConfig>;

export interface TrainStepResult {
  /** Class-weighted mean cross-entropy of the batch (before the update). */
  loss: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** True when loss or gradient was non-finite: the update was not applied. */
  skipped: boolean;
}

export type Labels = Int32Array | Int8Array;

/** XGBoost parameters passed through verbatim (objective, num_class, eval_metric are the engine's). */
export type GbtParams = Record<string, number | string | boolean>;

/** Training rows in a batch of a GbtBatchSource: x row-major [y.length, nCols], NaN = missing. */
export interface GbtBatch {
  x: Float32Array;
  y: Labels;
  /** Per-row sample weights; default 1. */
  w?: Float32Array;
}

/**
 * The training rows as batches, from the start on every call: XGBoost reads
 * its training data more than once (sketch, then index), so each of its
 * passes calls this again and must get the same rows in the same order.
 */
export type GbtBatchSource = () => AsyncIterable<GbtBatch>;

export interface GbtTrainOptions {
  /** Row-major [nRows, nCols]; NaN = missing. Not with `batches`. */
  x?: Float32Array;
  /** Rows of x (with `batches`: unused). */
  nRows?: number;
  nCols: number;
  /** Labels of x's rows (with `batches`: unused, each batch has its own). */
  y?: Labels;
  /**
   * Instead of x / nRows / y / weights: the training rows, pulled batch by
   * batch as XGBoost's iterator asks for them (quantile matrix only), so
   * they never exist whole in memory; at most `queueBatches` (default 2)
   * wait in a native queue.
   */
  batches?: GbtBatchSource;
  queueBatches?: number;
  numClass: number;
  /** Per-row sample weights (e.g. class balancing); default all 1. */
  weights?: Float32Array;
  xVal?: Float32Array;
  nValRows?: number;
  yVal?: Labels;
  wVal?: Float32Array;
  /** e.g. { max_depth: 6, eta: 0.1, nthread: 1, subsample: 0.8, seed: 0 }; tree_method defaults to hist. */
  params?: GbtParams;
  rounds: number;
  /** Stop after this many rounds without a lower validation mlogloss (needs xVal). 0 = never. */
  earlyStoppingRounds?: number;
  /** Cut the returned model to rounds 0..bestIteration (default true); false keeps every round boosted. */
  sliceToBest?: boolean;
  /**
   * How XGBoost holds the training rows: "quantile" (default) streams x to
   * XGBoost's callback iterator in `batchRows` batches, read in place (do not
   * modify x until the Promise settles), and keeps only the quantised index;
   * "dense" copies x and builds a regular DMatrix (hist needs its sketch too).
   */
  matrix?: "quantile" | "dense";
  /** Quantile matrix: rows per batch handed to XGBoost (default 65536). */
  batchRows?: number;
}

export interface GbtHistoryRow {
  round: number;
  train_mlogloss: number;
  /** null without a validation set. */
  val_mlogloss: number | null;
}

export interface GbtTrainResult {
  /** XGBoost JSON model, cut to rounds 0..bestIteration (unless sliceToBest is false). */
  modelJson: string;
  /** Round with the lowest validation mlogloss (early stopping), else the last round. */
  bestIteration: number;
  bestScore: number;
  /** Rounds actually boosted, including the ones after the best that early stopping discarded. */
  roundsTrained: number;
  history: GbtHistoryRow[];
}

export interface GbtPredictOptions {
  nthread?: number;
  /** Use rounds [0, iterationEnd) only; 0 or absent = the whole model. */
  iterationEnd?: number;
  /** The per-class margins (raw scores before the softmax, XGBoost's output_margin) instead of probabilities. */
  outputMargin?: boolean;
}

export interface GbtModelInfo {
  numFeatures: number;
  rounds: number;
  bestIteration: number | null;
}

export interface EnginesInfo {
  torch: {
    torchVersion: string;
    cudaAvailable: boolean;
    /** OpenBLAS pool size after the addon limited it (should be 1; -1 = no OpenBLAS). */
    openblasThreads: number;
    /** BLIS threads (-1 = no BLIS loaded). */
    blisThreads: number;
    cudaDeviceCount: number;
    /** libtorch's intra-op / inter-op threads on the calling (JS) thread; training jobs set their own. */
    intraOpThreads: number;
    interOpThreads: number;
    mkl: boolean;
    mkldnn: boolean;
    availableCores: number;
    parallelInfo: string;
  };
  xgboost: { version: string; buildInfo?: string };
  /** How the addon itself was compiled. */
  build: { compiler: string; compiled: string; profile: "release" | "debug"; assertions: boolean; napiVersion: number };
}

/** The raw addon, as src/engines/load.ts returns it. */
export interface NativeTorchModel {
  trainStep(x: Float32Array, mask: Uint8Array | null, y: Labels, classWeights: Float32Array, lr: number, clipNorm: number): Promise<TrainStepResult>;
  predictProba(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array>;
  /** The penultimate layer (the input of the final Linear head), [B, hidden] row-major, eval mode. */
  embed(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
  parameterBytes(): Buffer;
  namedTensors(): NamedTensor[];
  dispose(): void;
  /** Broadcasts rank 0's parameters into this model; from then on trainStep all-reduces gradients (src/engines/distributed.ts). */
  joinProcessGroup(group: NativeProcessGroup): Promise<void>;
  readonly numParameters: number;
  readonly device: "cpu" | "cuda";
  readonly steps: number;
}

/** The reconstruction autoencoder (engines/src/torch_model.cc AutoencoderModel): n -> 64 -> 32 -> 16 -> 32 -> 64 -> n. */
export interface AutoencoderConfig {
  n_features: number;
  /** AdamW weight decay on weight matrices. Default 0. */
  weight_decay?: number;
  seed?: number;
  threads?: number;
  device?: TorchDevice;
}

export type ResolvedAutoencoderConfig = Required<AutoencoderConfig>;

export interface NativeAutoencoderModel {
  /** One AdamW step on the batch's mean squared reconstruction error (2+ rows). */
  trainStep(x: Float32Array, lr: number, clipNorm: number): Promise<TrainStepResult>;
  /** Per-row reconstruction MSE [B]. */
  score(x: Float32Array): Promise<Float32Array>;
  reconstruct(x: Float32Array): Promise<Float32Array>;
  /** The 16-d bottleneck [B, 16]. */
  latent(x: Float32Array): Promise<Float32Array>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
  parameterBytes(): Buffer;
  namedTensors(): NamedTensor[];
  dispose(): void;
  /** Broadcasts rank 0's parameters into this model; from then on trainStep all-reduces gradients (src/engines/distributed.ts). */
  joinProcessGroup(group: NativeProcessGroup): Promise<void>;
  readonly numParameters: number;
  readonly device: "cpu" | "cuda";
  readonly steps: number;
}

/** How a rank finds the others: rank 0 hosts c10d's TCPStore at host:port. */
export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  host: string;
  port: number;
  /** Bound of every collective (a step's gradients, the validation counts, the stop decision). */
  timeoutMs: number;
  /** Bound of the rendezvous and of the barrier before training (ranks start and finish reading their data apart). */
  rendezvousTimeoutMs: number;
}

/** A c10d process group (TCPStore + ProcessGroupGloo), engines/src/distributed.cc. */
export interface NativeProcessGroup {
  connect(): Promise<void>;
  /** SUM over the ranks; resolves to a new array. `what` names the collective in errors. */
  allReduce<T extends Float32Array | Float64Array>(data: T, what: string): Promise<T>;
  broadcast<T extends Float32Array | Float64Array>(data: T, root: number, what: string): Promise<T>;
  close(): void;
  readonly rank: number;
  readonly worldSize: number;
  readonly connected: boolean;
}

/** engines.node's queue of training batches (engines/src/gbt.cc; driven by src/engines/xgboost.ts). */
export interface NativeGbtFeed {
  /** 1 queued, 0 queue full (retry later), -1 refused: not the current pass, or training is over. */
  push(pass: number, x: Float32Array, y: Labels, w?: Float32Array): number;
  end(pass: number): void;
  fail(message: string): void;
  close(): void;
  state(): { pass: number; closed: boolean };
}

/** What the addon's trainGbt takes: the options with a GbtFeed in place of `batches`. */
export type NativeGbtTrainOptions = Omit<GbtTrainOptions, "batches" | "queueBatches"> & { feed?: NativeGbtFeed };

export interface NativeEngines {
  TorchModel: new (config: ResolvedTorchConfig) => NativeTorchModel;
  AutoencoderModel: new (config: ResolvedAutoencoderConfig) => NativeAutoencoderModel;
  ProcessGroup: new (options: ProcessGroupOptions) => NativeProcessGroup;
  GbtFeed: new (nCols: number, queueBatches?: number) => NativeGbtFeed;
  trainGbt(options: NativeGbtTrainOptions): Promise<GbtTrainResult>;
  predictGbt(modelJson: string, x: Float32Array, nRows: number, nCols: number, options?: GbtPredictOptions): Promise<Float32Array>;
  gbtModelInfo(modelJson: string): GbtModelInfo;
  info(): EnginesInfo;
}

/** One parameter or buffer of a TorchModel, under its libtorch name; data row-major float32. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}
