// `publish perf`: model_perf events measured, not estimated. Real windows
// (from accepted episodes, extracted on demand by the native featurizer) go
// through each checkpoint's engine: latency is the time of one single-window
// prediction (p50/p99 over `calls`, after warm-up), throughput the windows
// per second of batched prediction over every window. Featurisation is not
// in either number.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_INSPECT_OPTIONS } from "../../episode/report.js";
import { N_CHANNELS, N_FEATURES } from "../../features/channels.js";
import { loadFeaturizer } from "../../native/backend.js";
import { planFeatures } from "../../features/plan.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "../../features/types.js";
import type { WindowArrays } from "../../train/checkpoint.js";
import type { ModelPerfEvent } from "../events.js";
import { loadInferenceModel, type InferenceModel } from "./inference.js";

export interface PerfOptions {
  artifacts: string;
  store: string;
  acceptance: string;
  /** Accepted episodes whose windows are the inputs (default 8). */
  episodes?: number;
  /** Single-window calls timed per model (default 200). */
  calls?: number;
  batch?: number;
  threads?: number;
  featurizer?: Featurizer;
}

export interface PerfResult {
  events: ModelPerfEvent[];
  windows: number;
  failures: string[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function concat(list: EpisodeWindows[], tensorLen: number, withTensors: boolean): WindowArrays {
  const n = list.reduce((a, w) => a + w.n_windows, 0);
  const summary = new Float64Array(n * N_FEATURES);
  const per = N_CHANNELS * tensorLen;
  const x = withTensors ? new Float32Array(n * per) : null;
  const mask = withTensors ? new Uint8Array(n * per) : null;
  let at = 0;
  for (const w of list) {
    summary.set(w.summary, at * N_FEATURES);
    if (x && mask) {
      x.set(w.x!, at * per);
      mask.set(w.mask!, at * per);
    }
    at += w.n_windows;
  }
  return { n, summary, x, mask };
}

function slice(a: WindowArrays, from: number, to: number, tensorLen: number): WindowArrays {
  const per = N_CHANNELS * tensorLen;
  return {
    n: to - from,
    summary: (a.summary as Float64Array).subarray(from * N_FEATURES, to * N_FEATURES),
    x: a.x ? a.x.subarray(from * per, to * per) : null,
    mask: a.mask ? a.mask.subarray(from * per, to * per) : null,
  };
}

export async function measureModel(m: InferenceModel, input: WindowArrays, calls: number, batch: number): Promise<ModelPerfEvent> {
  const tensorLen = Math.round(m.options.window_s * m.options.hz);
  for (let i = 0; i < Math.min(10, input.n); i++) await m.model.predictArrays(slice(input, i, i + 1, tensorLen));
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const k = i % input.n;
    const t = performance.now();
    await m.model.predictArrays(slice(input, k, k + 1, tensorLen));
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const t0 = performance.now();
  for (let from = 0; from < input.n; from += batch) await m.model.predictArrays(slice(input, from, Math.min(input.n, from + batch), tensorLen));
  const seconds = (performance.now() - t0) / 1000;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    type: "model_perf",
    model: m.model.sidecar.kind,
    mode: m.model.sidecar.mode,
    latency_ms: { p50: round(quantile(times, 0.5)), p99: round(quantile(times, 0.99)) },
    windows_per_s: Math.round(input.n / Math.max(seconds, 1e-9)),
    params: m.params,
  };
}

export async function measurePerf(o: PerfOptions): Promise<PerfResult> {
  let names: string[];
  try {
    names = (await readdir(o.artifacts)).filter((n) => n.endsWith(".ckpt.json")).sort();
  } catch (error) {
    throw new Error(`cannot read artifacts directory ${o.artifacts}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (names.length === 0) throw new Error(`no *.ckpt.json in ${o.artifacts}`);
  const plan = await planFeatures(o.store, o.acceptance);
  const paths = plan.episodes.filter((e) => e.acceptance_class === "accepted").slice(0, o.episodes ?? 8).map((e) => e.abs);
  if (paths.length === 0) throw new Error(`no accepted episode in ${o.acceptance}`);
  const featurizer = o.featurizer ?? (await loadFeaturizer("native"));
  // Inputs are cached per window geometry: checkpoints normally share one.
  const inputs = new Map<string, WindowArrays>();
  const inputFor = async (opts: FeatureOptions): Promise<WindowArrays> => {
    const key = `${opts.window_s}/${opts.stride_s}/${opts.hz}`;
    let a = inputs.get(key);
    if (!a) {
      const list = (await featurizer.featurizeFiles(paths, { ...opts, tensors: true }, DEFAULT_INSPECT_OPTIONS, 1)).filter((w) => !w.error && w.n_windows > 0);
      a = concat(list, Math.round(opts.window_s * opts.hz), true);
      inputs.set(key, a);
    }
    return a;
  };
  const events: ModelPerfEvent[] = [];
  const failures: string[] = [];
  let windows = 0;
  for (const name of names) {
    try {
      const m = await loadInferenceModel(join(o.artifacts, name), o.threads);
      const input = await inputFor(m.options);
      if (input.n === 0) throw new Error("the chosen episodes have no complete window");
      windows = input.n;
      events.push(await measureModel(m, input, o.calls ?? 200, o.batch ?? 256));
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  return { events, windows, failures };
}
