// The MiniRocket graph (src/deploy/export-minirocket.ts) against the native
// transform, feature by feature: windows of 100 steps (several dilations,
// unlike the toy's 10), with what makes a PPV count flip if the arithmetic
// differs: constant and integer-valued channels (outputs exactly on a bias),
// masked steps, NaN/inf, a channel never observed, a window with nothing
// observed. The PPV vectors must be equal, not close; the probabilities
// then differ only by the head's float64 summation order.

import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { encodeGraph } from "../src/deploy/export.js";
import { buildMiniRocketGraph } from "../src/deploy/export-minirocket.js";
import { DataType, encodeModel } from "../src/deploy/onnx-proto.js";
import { OPSET } from "../src/deploy/graph.js";
import { loadCis490Addon } from "../src/native/addon.js";
import { Mulberry32, type MiniRocketModel } from "../src/reference/minirocket.js";
import { MiniRocketEstimator, type MiniRocketState } from "../src/train/minirocket.js";
import { maxAbsDiff } from "./helpers/export-parity.js";

const C = 5;
const L = 100;
const WIDTH = 8; // graph input channels; the model reads `INPUTS` of them
const INPUTS = [6, 1, 3, 0, 4];

function windows(n: number, seed: number): { x: Float32Array; mask: Uint8Array } {
  const r = new Mulberry32(seed);
  const x = new Float32Array(n * C * L);
  const mask = new Uint8Array(n * C * L);
  for (let w = 0; w < n; w++) {
    for (let c = 0; c < C; c++) {
      const level = Math.floor(r.uniform() * 5);
      for (let t = 0; t < L; t++) {
        const at = (w * C + c) * L + t;
        if (c === 0) x[at] = level; // constant per window
        else if (c === 1) x[at] = Math.floor(r.uniform() * 3); // few distinct values
        else if (c === 2) x[at] = Math.sin(t / 7 + w) * 3 + r.uniform();
        else if (c === 3) x[at] = r.uniform() < 0.2 ? 1e6 : r.uniform(); // spikes
        else x[at] = 0; // never observed below
        const u = r.uniform();
        mask[at] = c === 4 || u < 0.1 ? 0 : 1;
        if (u > 0.97) x[at] = u > 0.985 ? Number.NaN : Infinity;
      }
    }
  }
  mask.fill(0, 2 * C * L, 3 * C * L); // window 2: nothing observed
  return { x, mask };
}

/** [n, C, L] model channels placed into the [n, WIDTH, L] graph input at INPUTS; the others are noise. */
function widen(x: Float32Array, mask: Uint8Array, n: number): { x: Float32Array; mask: Uint8Array } {
  const wx = new Float32Array(n * WIDTH * L).fill(123);
  const wm = new Uint8Array(n * WIDTH * L).fill(1);
  for (let w = 0; w < n; w++)
    INPUTS.forEach((g, c) => {
      wx.set(x.subarray((w * C + c) * L, (w * C + c + 1) * L), (w * WIDTH + g) * L);
      wm.set(mask.subarray((w * C + c) * L, (w * C + c + 1) * L), (w * WIDTH + g) * L);
    });
  return { x: wx, mask: wm };
}

describe("minirocket graph vs the native transform", () => {
  it("identical PPV features and probabilities within 1e-6 at batch 1, 7 and 64", async () => {
    const addon = loadCis490Addon();
    const fit = windows(60, 11);
    const tJson = await addon.minirocketFit(fit.x, fit.mask, 60, C, L, JSON.stringify({ num_features: 840, max_dilations_per_kernel: 32, seed: 5 }));
    const transform = JSON.parse(tJson) as MiniRocketModel;
    expect(transform.dilations.length).toBeGreaterThan(2);
    const F = transform.biases.length;
    const K = 3;
    const r = new Mulberry32(9);
    const state: MiniRocketState = {
      format: "cis490-minirocket-classifier/1",
      transform,
      head: {
        n_features: F,
        n_classes: K,
        mean: Array.from({ length: F }, () => r.uniform()),
        std: Array.from({ length: F }, () => 0.1 + r.uniform()),
        weights: Array.from({ length: F * K }, () => (r.uniform() - 0.5) * 0.3),
        bias: [0.1, -0.2, 0.05],
      },
    };
    const built = buildMiniRocketGraph({ inputs: INPUTS, inputWidth: WIDTH }, state);
    const bytes = encodeModel({
      graphName: "minirocket_test",
      nodes: built.g.nodes,
      initializers: built.g.initializers,
      inputs: [
        { name: "x", dataType: DataType.FLOAT, shape: ["batch", WIDTH, L] },
        { name: "mask", dataType: DataType.UINT8, shape: ["batch", WIDTH, L] },
      ],
      outputs: [
        { name: "probabilities", dataType: DataType.FLOAT, shape: ["batch", K] },
        { name: built.ppv, dataType: DataType.FLOAT, shape: ["batch", F] },
      ],
      opsets: [{ domain: "", version: OPSET }],
      producerName: "cis490-test",
      producerVersion: "0",
      metadata: {},
    });
    // The production encoder takes the same graph (probabilities only).
    expect(encodeGraph(built, { name: "m", nClasses: K, withLabel: false, metadata: {} }).length).toBeGreaterThan(0);

    const n = 70;
    const test = windows(n, 12);
    const nativePpv = await addon.minirocketTransform(tJson, test.x, test.mask, n, 1);
    const est = MiniRocketEstimator.fromState({ num_features: 840, max_dilations_per_kernel: 32, epochs: 1, batch_size: 1, lr: 0, l2: 0, patience: 0, threads: 1 }, { channels: C, steps: L }, K, 0, state);
    const nativeP = await est.predictProba({ x: test.x, mask: test.mask, n });
    const wide = widen(test.x, test.mask, n);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    try {
      for (const batch of [1, 7, 64]) {
        const ppv = new Float32Array(n * F);
        const p = new Float32Array(n * K);
        for (let from = 0; from < n; from += batch) {
          const to = Math.min(n, from + batch);
          const per = WIDTH * L;
          const res = await session.run({
            x: new ort.Tensor("float32", wide.x.slice(from * per, to * per), [to - from, WIDTH, L]),
            mask: new ort.Tensor("uint8", wide.mask.slice(from * per, to * per), [to - from, WIDTH, L]),
          });
          ppv.set(res[built.ppv].data as Float32Array, from * F);
          p.set(res.probabilities.data as Float32Array, from * K);
        }
        let flips = 0;
        for (let i = 0; i < ppv.length; i++) if (ppv[i] !== nativePpv[i]) flips++;
        expect(flips, `batch ${batch}: ${flips} of ${ppv.length} PPV features differ`).toBe(0);
        const d = maxAbsDiff(p, nativeP);
        expect(d, `batch ${batch}: max |dp| = ${d}`).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await session.release();
    }
  });

  it("refuses a state whose head does not match its transform", () => {
    const transform: MiniRocketModel = { format: "cis490-minirocket/1", n_channels: 1, length: 9, mean: [0], std: [1], dilations: [1], features_per_dilation: [1], channels: Array.from({ length: 84 }, () => [0]), biases: new Array(84).fill(0) };
    const head = { n_features: 83, n_classes: 2, mean: new Array(83).fill(0), std: new Array(83).fill(1), weights: new Array(166).fill(0), bias: [0, 0] };
    expect(() => buildMiniRocketGraph({ inputs: [0], inputWidth: 1 }, { format: "cis490-minirocket-classifier/1", transform, head })).toThrow(/head's sizes/);
  });
});
