// Shared types of `cis490 train` and its checkpoints (read by `cis490 eval`).
// A checkpoint is a JSON sidecar `<model>_<mode>.ckpt.json` plus the
// engine's own weights file beside it (XGBoost JSON, or a libtorch archive).

import type { EmbeddingBlock } from "./embedding.js";
import type { HostFoldSelection } from "./host-folds.js";

export const MODEL_KINDS = ["gbt", "mlp", "cnn", "gru", "lstm", "transformer", "minirocket"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const MODES = ["realistic", "oracle"] as const;
export type Mode = (typeof MODES)[number];

/** Models fed the 10 Hz tensors (with their missingness mask); the others read the summary features. */
export const SEQUENCE_KINDS: readonly ModelKind[] = ["cnn", "gru", "lstm", "transformer", "minirocket"];
export function isSequenceKind(kind: ModelKind): boolean {
  return SEQUENCE_KINDS.includes(kind);
}

export const CHECKPOINT_FORMAT = "cis490-checkpoint/1";
export const CHECKPOINT_SUFFIX = ".ckpt.json";

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  val_macro_f1: number;
  /** Loops driven by a validation loss (the autoencoder): that loss; val_macro_f1 is then NaN. */
  val_loss?: number;
  lr: number;
  seconds: number;
}

export interface CheckpointSidecar {
  format: "cis490-checkpoint/1";
  kind: ModelKind;
  mode: Mode;
  created_at: string;
  seed: number;
  hyper_parameters: Record<string, unknown>;
  /** Phase names, index = class id (6). */
  classes: string[];
  /**
   * Class ids present in the training windows, ascending: what eval scores
   * macro F1 over. Written by train; older checkpoints lack it (see
   * trainedLabels in checkpoint.ts for the fallback).
   */
  trained_labels?: number[];
  /** 46 entries 0/1: the channels the model reads (realistic: the 29 deployed ones). */
  channel_mask: number[];
  /** 230 entries 0/1: the summary features the model reads (realistic: 145). */
  feature_mask: number[];
  /** Over the model's inputs (per summary feature, or per tensor channel); null for GBT. */
  standardisation: { mean: number[]; std: number[] } | null;
  feature_schema_hash: string;
  /** The feature_schema.json document it was trained on (to explain mismatches). */
  feature_schema: unknown;
  data: {
    features: string;
    features_sha256: string;
    split: string;
    split_sha256: string;
    tensors: string | null;
    /** `train --drop-noisy`: the label-noise report and how many training windows it removed. */
    drop_noisy?: { report: string; report_sha256: string; dropped: number };
  };
  history: EpochRecord[];
  best: { epoch: number; val_macro_f1: number };
  engine: { name: string; version: string; device: string };
  /** Relative to the sidecar's directory. */
  weights_file: string;
  /** sha256 of the weights file: a sidecar never pairs with another run's weights (written by train; checked when present). */
  weights_sha256?: string;
  /** sha256 of what was asked for (kind, mode, seed, resolved hyper-parameters, input digests): a rerun of the same request reuses the checkpoint. */
  request_sha256?: string;
  /** What training saw and did (counts, class weights, input shape, why it stopped, warnings); written by train. */
  training?: TrainingInfo;
  /** The layer embed() returns and a 2-D PCA fitted on training windows (src/train/embedding.ts); absent in older checkpoints. */
  embedding?: EmbeddingBlock;
}

/** What `trainModel` writes: every field present. */
export type WrittenSidecar = CheckpointSidecar & { weights_sha256: string; training: TrainingInfo; trained_labels: number[] };

export interface TrainingInfo {
  n_train: number;
  n_val: number;
  /** Windows per class id in the training / validation slice. */
  class_counts_train: number[];
  class_counts_val: number[];
  /** Per class id, as used in the loss / as XGBoost sample weights. */
  class_weights: number[];
  /** Shape of one input row as it reaches the engine: [features] or [channels, steps]. */
  input_shape: number[];
  /** Names of the model's input columns (summary features) or channels, in input order. */
  inputs: string[];
  /** "host-folds": a fixed number of rounds chosen by k-fold by host (training.host_folds). */
  stopped: "early-stopping" | "max-epochs" | "max-minutes" | "host-folds";
  total_seconds: number;
  /** Data conditions that were handled (e.g. an input with no finite value in training). */
  warnings: string[];
  /** MiniRocket only: transform size and time (fit + transform of train and val), and the head's fit time. */
  minirocket?: { num_features: number; dilations: number[]; transform_seconds: number; head_seconds?: number };
  /** GBT only: XGBoost's own early stopping result. */
  gbt?: { best_iteration: number; rounds_trained: number; best_val_mlogloss: number };
  /** GBT on a `split --val host-folds` file: the rounds chosen across hosts and each fold's result (src/train/host-folds.ts). */
  host_folds?: Omit<HostFoldSelection, "history">;
  /** "balanced" (clipped inverse frequency, the default) or "none" (every window weighs 1). */
  class_weighting?: ClassWeighting;
  /**
   * Sequence models: where epochs read the tensors (memory cache or the shard
   * files), the shuffle buffer, and the time spent waiting for chunks (I/O
   * not hidden behind engine steps) against the time inside engine steps.
   */
  /**
   * Data-parallel runs (train --world-size N): how many ranks trained it
   * over c10d, the global batch (split over the ranks) and the master.
   * Written by rank 0 only.
   */
  distributed?: { world_size: number; global_batch: number; master: string; timeout_seconds: number };
  tensor_io?: {
    source: "memory" | "stream";
    shuffle_buffer: number;
    first_pass_seconds: number;
    wait_seconds: number;
    step_seconds: number;
    chunks_read: number;
    bytes_read: number;
    read_seconds: number;
  };
}

export const CLASS_WEIGHTINGS = ["balanced", "none"] as const;
export type ClassWeighting = (typeof CLASS_WEIGHTINGS)[number];

/** Bad input the user can fix (missing/mismatched files, classes absent from training...): exit 1, never a crash. */
export class TrainError extends Error {}
