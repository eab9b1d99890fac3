// Typed wrapper of the native AutoencoderModel (engines/src/torch_model.cc).
// Like TorchModel: calls run strictly in call order, save() is atomic.

import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { commitTempFile, tempPathFor } from "../io/atomic.js";
import { loadEngines } from "./load.js";
import type { AutoencoderConfig, NamedTensor, NativeAutoencoderModel, ResolvedAutoencoderConfig, TrainStepResult } from "./types.js";

/** Width of the bottleneck (fixed by the architecture). */
export const AE_LATENT = 16;

export class AutoencoderModel {
  readonly config: ResolvedAutoencoderConfig;
  private readonly native: NativeAutoencoderModel;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(config: AutoencoderConfig) {
    this.config = {
      n_features: config.n_features,
      weight_decay: config.weight_decay ?? 0,
      seed: config.seed ?? 0,
      threads: config.threads ?? availableParallelism(),
      device: config.device ?? "auto",
    };
    this.native = new (loadEngines().AutoencoderModel)(this.config);
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** x is copied. */
  trainStep(x: Float32Array, lr: number, clipNorm: number): Promise<TrainStepResult> {
    return this.enqueue(() => this.native.trainStep(x, lr, clipNorm));
  }

  /** x is read in place until the Promise settles. */
  score(x: Float32Array): Promise<Float32Array> {
    return this.enqueue(() => this.native.score(x));
  }

  reconstruct(x: Float32Array): Promise<Float32Array> {
    return this.enqueue(() => this.native.reconstruct(x));
  }

  latent(x: Float32Array): Promise<Float32Array> {
    return this.enqueue(() => this.native.latent(x));
  }

  save(path: string): Promise<void> {
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

  load(path: string): Promise<void> {
    return this.enqueue(() => this.native.load(path));
  }

  parameterHash(): Promise<string> {
    return this.enqueue(() => createHash("sha256").update(this.native.parameterBytes()).digest("hex"));
  }

  namedTensors(): Promise<NamedTensor[]> {
    return this.enqueue(() => this.native.namedTensors());
  }

  get steps(): number {
    return this.native.steps;
  }

  get numParameters(): number {
    return this.native.numParameters;
  }

  dispose(): Promise<void> {
    return this.enqueue(() => this.native.dispose());
  }
}
