// The one estimator interface, after scikit-learn: hyper-parameters are
// given to the constructor and stored verbatim; learned state is set only by
// fit (or restored from a checkpoint); predictProba refuses an unfitted
// model. GBT, the neural models and MiniRocket implement it; their fit takes
// (train, val, options) with the data layout each one reads.

import { CliError } from "../util/errors.js";

/** Windows to score, in the estimator's input layout. */
export interface WindowBatch {
  n: number;
  /** Summary rows [n, width] or tensors [n, channels, steps], row-major; NaN = missing. */
  x: Float32Array;
  /** Tensors only: 1 = observed. */
  mask?: Uint8Array | null;
}

export interface Estimator<Data, FitOptions, FitResult> {
  /** True once fit (or a restore) has set the learned state. */
  readonly fitted: boolean;
  fit(train: Data, val: Data, options: FitOptions): Promise<FitResult>;
  /** Row-major [n, classes] class probabilities. */
  predictProba(batch: WindowBatch): Promise<Float32Array>;
}

/**
 * What an estimator's embed() returns: the representation its classifier
 * head reads (docs/embedding.md). "penultimate": a neural net's last hidden
 * layer (the input of its final Linear); "margin": GBT's per-class margins
 * (XGBoost's output_margin, before the softmax); "ppv": MiniRocket's
 * standardised PPV features (the input of its logistic head).
 */
export type EmbeddingLayer = "penultimate" | "margin" | "ppv" | "latent";

/** An estimator that can show the representation it classifies from; uses fitted state only. */
export interface Embedder {
  readonly embeddingLayer: EmbeddingLayer;
  /** Width of each embed() row. */
  readonly embeddingWidth: number;
  /** Row-major [n, embeddingWidth]. */
  embed(batch: WindowBatch): Promise<Float32Array>;
}

export class NotFittedError extends CliError {
  constructor(what: string) {
    super(`${what} is not fitted: call fit() (or restore a checkpoint) first`);
  }
}
