// An exported model loaded into onnxruntime-node: checks the file and its
// cis490 metadata first (a non-ONNX, truncated or foreign file is refused
// with a clear message), then runs batches of windows.

import { readFile } from "node:fs/promises";
import { parseMetadata, summaryWidth, type ModelMetadata } from "./metadata.js";
import { OnnxFormatError, readModelMetadata } from "./onnx-proto.js";
import { CliError } from "../util/errors.js";

export class ModelLoadError extends CliError {}

export interface SessionOptions {
  /** onnxruntime intra-op threads (default 1: the Pi proxy, and it leaves cores to the featurizer). */
  threads?: number;
}

/** One batch of windows as the feature core produces them. */
export interface WindowBatch {
  n: number;
  /** [n, 46 x stats] summary vectors (summary models; 230 wide for the default schema). */
  features?: Float32Array;
  /** [n, 46, T] tensor and its 0/1 mask (tensor models). */
  x?: Float32Array;
  mask?: Uint8Array;
}

type Ort = typeof import("onnxruntime-node");
let ort: Ort | undefined;
async function loadOrt(): Promise<Ort> {
  ort ??= await import("onnxruntime-node");
  return ort;
}

export class OnnxModel {
  private constructor(
    readonly path: string,
    readonly meta: ModelMetadata,
    private readonly session: import("onnxruntime-node").InferenceSession,
    private readonly rt: Ort,
  ) {}

  static async load(path: string, options: SessionOptions = {}): Promise<OnnxModel> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new ModelLoadError(`cannot read model ${path}: ${(error as Error).message}`);
    }
    let meta: ModelMetadata;
    try {
      meta = parseMetadata(readModelMetadata(bytes), path);
    } catch (error) {
      if (error instanceof OnnxFormatError) throw new ModelLoadError(`${path} is not a usable ONNX model: ${error.message}`);
      throw new ModelLoadError((error as Error).message);
    }
    const rt = await loadOrt();
    let session;
    try {
      session = await rt.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
    } catch (error) {
      throw new ModelLoadError(`onnxruntime cannot load ${path}: ${(error as Error).message}`);
    }
    return new OnnxModel(path, meta, session, rt);
  }

  get nClasses(): number {
    return this.meta.classes.length;
  }

  /** Class probabilities, row-major [n, classes]. */
  async predict(b: WindowBatch): Promise<Float32Array> {
    if (this.meta.anomaly) throw new Error(`${this.path} is an anomaly detector (${this.meta.kind}): it gives a score and an alert, not class probabilities`);
    if (b.n === 0) return new Float32Array(0);
    const T = this.rt.Tensor;
    const feeds: Record<string, InstanceType<typeof T>> = {};
    if (this.meta.input === "summary") {
      const width = summaryWidth(this.meta);
      if (!b.features || b.features.length !== b.n * width) throw new Error(`${this.path}: needs features [${b.n}, ${width}]`);
      feeds.features = new T("float32", b.features, [b.n, width]);
    } else {
      const C = this.meta.channels.length;
      const L = this.meta.window.tensor_len;
      if (!b.x || !b.mask || b.x.length !== b.n * C * L || b.mask.length !== b.x.length) throw new Error(`${this.path}: needs x and mask [${b.n}, ${C}, ${L}]`);
      feeds.x = new T("float32", b.x, [b.n, C, L]);
      feeds.mask = new T("uint8", b.mask, [b.n, C, L]);
    }
    const out = await this.session.run(feeds, ["probabilities"]);
    return out.probabilities.data as Float32Array;
  }

  /** An anomaly detector's scores and alerts (score > the calibrated threshold) of [n, 46 x stats] summary vectors. */
  async scoreAnomaly(features: Float32Array, n: number): Promise<{ score: Float64Array; alert: Uint8Array }> {
    if (!this.meta.anomaly) throw new Error(`${this.path} is a ${this.meta.kind} classifier, not an anomaly detector`);
    const width = summaryWidth(this.meta);
    if (features.length !== n * width) throw new Error(`${this.path}: needs features [${n}, ${width}]`);
    if (n === 0) return { score: new Float64Array(0), alert: new Uint8Array(0) };
    const out = await this.session.run({ features: new this.rt.Tensor("float32", features, [n, width]) }, ["score", "alert"]);
    return { score: out.score.data as Float64Array, alert: Uint8Array.from(out.alert.data as ArrayLike<number | boolean>, Number) };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
