// Parity of an exported ONNX model with the training engine on the same
// inputs: the full feature-core layout (summary vectors as wide as the
// checkpoint's schema, 230 by default, or
// [n, 46, T] tensors + mask) goes to onnxruntime, and the engine gets the
// same values sliced by the checkpoint's masks, as loadCheckpoint does.
// Inputs are roughened first (NaN, +-inf, dropped mask bits) so the
// missing-value paths of both sides are exercised.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { FEATURE_NAMES, N_CHANNELS } from "../../src/features/channels.js";
import { GbtEstimator, type GbtHyperParameters } from "../../src/train/gbt.js";
import { MiniRocketEstimator, type MiniRocketHyperParameters, type MiniRocketState } from "../../src/train/minirocket.js";
import { NeuralEstimator, type NeuralHyperParameters } from "../../src/train/neural.js";
import { inputChannels } from "../../src/train/checkpoint.js";
import { infinitiesToNaN } from "../../src/train/standardise.js";
import { streamTensorRows } from "../../src/train/tensors.js";
import { isSequenceKind, type CheckpointSidecar } from "../../src/train/types.js";
import { readFeatureRows, type WindowSet } from "../../src/train/windows.js";
import { expect } from "vitest";
import type { OnnxModel, WindowBatch } from "../../src/deploy/session.js";
import { rng } from "./hostile.js";

export interface Inputs {
  n: number;
  features?: Float32Array;
  x?: Float32Array;
  mask?: Uint8Array;
}


/** The summary vector's column names of the checkpoint's schema (FEATURE_NAMES for the default one). */
function schemaFeatures(sc: CheckpointSidecar): readonly string[] {
  return (sc.feature_schema as { features?: string[] }).features ?? FEATURE_NAMES;
}

/** Full-layout inputs for `windows`, read from the toy's files, then roughened. */
export async function readInputs(sc: CheckpointSidecar, features: string, tensors: string, windows: WindowSet, seed = 7): Promise<Inputs> {
  const n = windows.episode_id.length;
  const r = rng(seed);
  if (!isSequenceKind(sc.kind)) {
    const f = await readFeatureRows(features, windows, schemaFeatures(sc));
    for (let i = 0; i < f.length; i++) {
      const u = r();
      if (u < 0.08) f[i] = Number.NaN;
      else if (u < 0.09) f[i] = Infinity;
      else if (u < 0.1) f[i] = -Infinity;
    }
    return { n, features: f };
  }
  const T = Number((sc.feature_schema as { tensor_len: number }).tensor_len);
  const x = new Float32Array(n * N_CHANNELS * T);
  const mask = new Uint8Array(n * N_CHANNELS * T);
  const all = Array.from({ length: N_CHANNELS }, (_, c) => c);
  await streamTensorRows(tensors, sc.feature_schema_hash, [windows], all, T, N_CHANNELS, (_t, rows, xs, ms) => {
    const per = N_CHANNELS * T;
    for (let k = 0; k < rows.length; k++) {
      x.set(xs.subarray(k * per, (k + 1) * per), rows[k] * per);
      mask.set(ms.subarray(k * per, (k + 1) * per), rows[k] * per);
    }
  });
  for (let i = 0; i < x.length; i++) {
    const u = r();
    if (u < 0.05) mask[i] = 0;
    else if (u < 0.06) x[i] = Number.NaN; // observed but not finite: the standardiser drops it
    else if (u < 0.065) x[i] = Infinity;
  }
  // A window with nothing observed at all (the transformer's fallback path).
  if (n > 3) mask.fill(0, 3 * N_CHANNELS * T, 4 * N_CHANNELS * T);
  return { n, x, mask };
}

export function slice(inp: Inputs, from: number, to: number): WindowBatch {
  const n = to - from;
  if (inp.features) {
    const w = inp.features.length / inp.n;
    return { n, features: inp.features.slice(from * w, to * w) };
  }
  const per = inp.x!.length / inp.n;
  return { n, x: inp.x!.slice(from * per, to * per), mask: inp.mask!.slice(from * per, to * per) };
}

/** The training engine's probabilities for the same inputs. */
export async function engineProba(sidecarPath: string, inp: Inputs): Promise<Float32Array> {
  const sc = JSON.parse(readFileSync(sidecarPath, "utf8")) as CheckpointSidecar;
  const weights = join(dirname(sidecarPath), sc.weights_file);
  const nClasses = sc.classes.length;
  if (sc.kind === "gbt" || sc.kind === "mlp") {
    const cols = sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
    const width = sc.feature_mask.length;
    const x = new Float32Array(inp.n * cols.length);
    for (let i = 0; i < inp.n; i++) for (let k = 0; k < cols.length; k++) x[i * cols.length + k] = inp.features![i * width + cols[k]];
    if (sc.kind === "gbt") {
      infinitiesToNaN(x);
      const est = GbtEstimator.fromModel(sc.hyper_parameters as unknown as GbtHyperParameters, sc.seed, nClasses, readFileSync(weights, "utf8"), cols.length);
      return est.predictProba({ x, n: inp.n });
    }
    const est = await NeuralEstimator.restore("mlp", sc.hyper_parameters as unknown as NeuralHyperParameters, { features: cols.length }, nClasses, sc.seed, sc.standardisation!, weights, { threads: 1, device: "cpu" });
    try {
      return await est.predictProba({ x, n: inp.n });
    } finally {
      await est.dispose();
    }
  }
  const ch = inputChannels(sc);
  const T = inp.x!.length / (inp.n * N_CHANNELS);
  const x = new Float32Array(inp.n * ch.length * T);
  const mask = new Uint8Array(inp.n * ch.length * T);
  for (let i = 0; i < inp.n; i++) {
    ch.forEach((c, k) => {
      const from = (i * N_CHANNELS + c) * T;
      x.set(inp.x!.subarray(from, from + T), (i * ch.length + k) * T);
      mask.set(inp.mask!.subarray(from, from + T), (i * ch.length + k) * T);
    });
  }
  if (sc.kind === "minirocket") {
    const state = JSON.parse(readFileSync(weights, "utf8")) as MiniRocketState;
    const est = MiniRocketEstimator.fromState({ ...(sc.hyper_parameters as unknown as MiniRocketHyperParameters), threads: 1 }, { channels: ch.length, steps: T }, nClasses, sc.seed, state);
    return est.predictProba({ x, mask, n: inp.n });
  }
  const est = await NeuralEstimator.restore(sc.kind as "cnn", sc.hyper_parameters as unknown as NeuralHyperParameters, { channels: ch.length, steps: T }, nClasses, sc.seed, sc.standardisation!, weights, { threads: 1, device: "cpu" });
  try {
    return await est.predictProba({ x, mask, n: inp.n });
  } finally {
    await est.dispose();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

export function argmax(p: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.length / k; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
    out.push(best);
  }
  return out;
}

/** The ONNX model's probabilities, fed in batches of each size, equal the engine's (max |Δp| ≤ 1e-5, same argmax). */
export async function expectOnnxMatchesEngine(model: OnnxModel, inputs: Inputs, expected: Float32Array, batches: number[]): Promise<void> {
  for (const batch of batches) {
    const got = new Float32Array(inputs.n * 6);
    for (let from = 0; from < inputs.n; from += batch) {
      const to = Math.min(inputs.n, from + batch);
      got.set(await model.predict(slice(inputs, from, to)), from * 6);
    }
    const d = maxAbsDiff(got, expected);
    expect(d, `batch ${batch}: max |dp| = ${d}`).toBeLessThanOrEqual(1e-5);
    expect(argmax(got, 6)).toEqual(argmax(expected, 6));
  }
}
