// Inference off the event loop: one worker_thread owns the one
// onnxruntime session and runs batches in arrival order. onnxruntime-node's
// session.run does its work on the calling thread, so running it on the
// main thread stalls timers, the file watcher and HTTP publishing for the
// whole batch; one long-lived session in one worker (rather than a pool)
// is also the configuration that avoids the multi-session worker crashes
// reported by its users. Inputs are transferred, not copied.

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Scorer } from "./detect.js";
import type { ModelMetadata } from "./metadata.js";
import { ModelLoadError, OnnxModel, type SessionOptions, type WindowBatch } from "./session.js";

// Plain CommonJS, run with { eval: true }: no build step or loader needed,
// the same under vitest (TypeScript sources) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const ort = require(workerData.ort);
(async () => {
  let session;
  try {
    session = await ort.InferenceSession.create(workerData.path, {
      intraOpNumThreads: workerData.threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all",
    });
  } catch (e) {
    parentPort.postMessage({ type: "error", message: String(e && e.message || e) });
    return;
  }
  parentPort.postMessage({ type: "ready" });
  parentPort.on("message", async (m) => {
    if (m.type === "close") { await session.release(); parentPort.close(); return; }
    try {
      const feeds = {};
      if (m.features) feeds.features = new ort.Tensor("float32", m.features, [m.n, m.features.length / m.n]);
      else {
        feeds.x = new ort.Tensor("float32", m.x, m.dims);
        feeds.mask = new ort.Tensor("uint8", m.mask, m.dims);
      }
      const out = await session.run(feeds, ["probabilities"]);
      const p = new Float32Array(out.probabilities.data);
      parentPort.postMessage({ type: "result", id: m.id, probs: p }, [p.buffer]);
    } catch (e) {
      parentPort.postMessage({ type: "result", id: m.id, error: String(e && e.message || e) });
    }
  });
})();
`;

export class WorkerScorer implements Scorer {
  private nextId = 0;
  private pending = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    readonly meta: ModelMetadata,
    private readonly worker: Worker,
  ) {
    worker.on("message", (m: { type: string; id: number; probs?: Float32Array; error?: string }) => {
      if (m.type !== "result") return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`onnxruntime: ${m.error}`));
      else p.resolve(m.probs!);
    });
    const fail = (e: Error): void => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the inference worker exited (code ${code})`)));
  }

  /** Checks the file like OnnxModel.load, then starts the worker and waits for its session. */
  static async start(path: string, options: SessionOptions = {}): Promise<WorkerScorer> {
    const probe = await OnnxModel.load(path, options); // validates format, metadata and that onnxruntime accepts it
    const meta = probe.meta;
    await probe.close();
    if (meta.anomaly) throw new ModelLoadError(`${path} is an anomaly detector (${meta.kind}: outputs score and alert); detect runs phase classifiers`);
    const ortPath = createRequire(import.meta.url).resolve("onnxruntime-node");
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, threads: options.threads ?? 1, ort: ortPath } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { type: string; message?: string }): void => {
        worker.off("message", onMessage);
        if (m.type === "ready") resolve();
        else reject(new ModelLoadError(`onnxruntime cannot load ${path}: ${m.message}`));
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
    return new WorkerScorer(meta, worker);
  }

  /** Probabilities [n, classes]. The batch's arrays are transferred to the worker: the caller must not reuse them. */
  predict(b: WindowBatch): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    if (b.n === 0) return Promise.resolve(new Float32Array(0));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (b.features) {
        this.worker.postMessage({ type: "run", id, n: b.n, features: b.features }, [b.features.buffer as ArrayBuffer]);
      } else {
        const dims = [b.n, this.meta.channels.length, this.meta.window.tensor_len];
        this.worker.postMessage({ type: "run", id, n: b.n, x: b.x, mask: b.mask, dims }, [b.x!.buffer as ArrayBuffer, b.mask!.buffer as ArrayBuffer]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((r) => this.worker.once("exit", () => r()));
    this.worker.postMessage({ type: "close" });
    await exited;
  }
}
