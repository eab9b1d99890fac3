// Typed wrapper of the native TorchModel. The training loop (warm-up,
// cosine schedule, epochs, early stopping) lives in TypeScript and drives
// this one batch at a time.

import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { loadEngines } from "./load.js";
import type { Labels, NamedTensor, NativeTorchModel, ResolvedTorchConfig, TorchConfig, TrainStepResult } from "./types.js";
import { rm } from "node:fs/promises";
import { commitTempFile, tempPathFor } from "../io/atomic.js";
import type { ProcessGroup } from "./distributed.js";

/** Fills defaults, so a checkpoint sidecar can store the config verbatim. */
export function resolveTorchConfig(config: TorchConfig): ResolvedTorchConfig {
  const seq = config.kind !== "mlp";
  return {
    kind: config.kind,
    n_features: seq ? 0 : (config.n_features ?? 0),
    n_channels: seq ? (config.n_channels ?? 0) : 0,
    seq_len: seq ? (config.seq_len ?? 0) : 0,
    n_classes: config.n_classes,
    hidden: config.hidden ?? 64,
    layers: config.layers ?? 2,
    dropout: config.dropout ?? 0.1,
    heads: config.heads ?? 4,
    weight_decay: config.weight_decay ?? 0.01,
    seed: config.seed ?? 0,
    threads: config.threads ?? availableParallelism(),
    device: config.device ?? "auto",
  };
}

export class TorchModel {
  readonly config: ResolvedTorchConfig;
  private readonly native: NativeTorchModel;
  // Calls run strictly in call order (libuv's pool would not guarantee it),
  // which keeps training deterministic even if a caller forgets an await.
  private tail: Promise<unknown> = Promise.resolve();

  /** Builds and initialises the network (seeded); throws on an invalid config. */
  constructor(config: TorchConfig) {
    this.config = resolveTorchConfig(config);
    this.native = new (loadEngines().TorchModel)(this.config);
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * One AdamW step on a batch: class-weighted cross-entropy, gradient norm
   * clipped to clipNorm (0 = no clipping), learning rate `lr` for this step.
   * x (and mask) are copied, so the caller may refill them at once.
   */
  trainStep(x: Float32Array, mask: Uint8Array | null, y: Labels, classWeights: Float32Array, lr: number, clipNorm: number): Promise<TrainStepResult> {
    return this.enqueue(() => this.native.trainStep(x, mask, y, classWeights, lr, clipNorm));
  }

  /**
   * Class probabilities [B, n_classes] row-major, in eval mode. x and mask are
   * read in place: do not modify them until the Promise settles.
   */
  predictProba(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array> {
    return this.enqueue(() => this.native.predictProba(x, mask));
  }

  /**
   * The penultimate layer's activations [B, embeddingWidth] row-major (the
   * input of the net's final Linear head), in eval mode; same inputs and
   * in-place reading as predictProba.
   */
  embed(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array> {
    return this.enqueue(() => this.native.embed(x, mask));
  }

  /** Width of embed()'s rows: every architecture's head reads `hidden` values. */
  get embeddingWidth(): number {
    return this.config.hidden;
  }

  /** Weights, optimizer state and step count; written to a temp name and renamed. */
  save(path: string): Promise<void> {
    // The engine writes a temporary sibling; src/io/atomic.ts makes it durable and renames it.
    return this.enqueue(async () => {
      const tmp = tempPathFor(path);
      try {
        await this.native.save(tmp);
        await commitTempFile(tmp, path);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    });
  }

  /** Restores a save() of a model with the same architecture (refuses others). */
  load(path: string): Promise<void> {
    return this.enqueue(() => this.native.load(path));
  }

  /** sha256 (hex) of every parameter and buffer: equal hashes = equal weights. */
  parameterHash(): Promise<string> {
    return this.enqueue(() => createHash("sha256").update(this.native.parameterBytes()).digest("hex"));
  }

  /** Every parameter and buffer by libtorch name (copies), for the ONNX exporter. */
  namedTensors(): Promise<NamedTensor[]> {
    return this.enqueue(() => this.native.namedTensors());
  }

  /**
   * Data-parallel training: take rank 0's weights (a broadcast) and from now
   * on all-reduce every step's gradients over `group` (docs/scale.md).
   */
  joinProcessGroup(group: ProcessGroup): Promise<void> {
    return this.enqueue(() => this.native.joinProcessGroup(group.native));
  }

  get numParameters(): number {
    return this.native.numParameters;
  }

  get device(): "cpu" | "cuda" {
    return this.native.device;
  }

  /** Training steps taken (restored by load). */
  get steps(): number {
    return this.native.steps;
  }

  /** Frees the weights now (after pending calls finish); the model is unusable afterwards. */
  dispose(): Promise<void> {
    return this.enqueue(() => this.native.dispose());
  }
}
