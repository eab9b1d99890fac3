// TorchModel.embed (the penultimate layer) and predictGbt's margins. The
// strong check: the net's own final Linear head (read back with
// namedTensors), applied to embed()'s rows in plain TypeScript, gives the
// probabilities predictProba returns. A layer one step too early or too late
// could not pass that.

import { describe, expect, it } from "vitest";
import { TorchModel, predictGbt, trainGbt, type TorchConfig, type TorchKind } from "../src/engines/index.js";
import { rng } from "./helpers/hostile.js";

const C = 4;
const T = 16;
const K = 3;
const F = 10;
const HIDDEN = 16;

function config(kind: TorchKind, seed = 3): TorchConfig {
  return kind === "mlp"
    ? { kind, n_features: F, n_classes: K, hidden: HIDDEN, layers: 2, seed, threads: 1 }
    : { kind, n_channels: C, seq_len: T, n_classes: K, hidden: HIDDEN, layers: 2, heads: 4, seed, threads: 1 };
}

function inputs(kind: TorchKind, n: number, seed: number): { x: Float32Array; mask: Uint8Array | null; y: Int32Array } {
  const r = rng(seed);
  const per = kind === "mlp" ? F : C * T;
  const x = Float32Array.from({ length: n * per }, () => r() * 2 - 1);
  // A few gaps (and one fully unobserved timestep for the transformer's padding path).
  const mask = kind === "mlp" ? null : Uint8Array.from({ length: n * per }, (_, j) => (j % T === 5 || r() < 0.1 ? 0 : 1));
  if (mask) for (let j = 0; j < mask.length; j++) if (mask[j] === 0) x[j] = 0;
  return { x, mask, y: Int32Array.from({ length: n }, (_, i) => i % K) };
}

/** The final Linear of each architecture, by libtorch name. */
function headOf(kind: TorchKind, layers: number): string {
  return kind === "mlp" ? `body.${4 * layers}` : "head";
}

async function headProba(m: TorchModel, kind: TorchKind, e: Float32Array, n: number): Promise<Float32Array> {
  const tensors = await m.namedTensors();
  const name = headOf(kind, 2);
  const W = tensors.find((t) => t.name === `${name}.weight`)!;
  const b = tensors.find((t) => t.name === `${name}.bias`)!;
  expect(W.shape).toEqual([K, HIDDEN]);
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: K }, (_, k) => {
      let s = b.data[k];
      for (let j = 0; j < HIDDEN; j++) s += W.data[k * HIDDEN + j] * e[i * HIDDEN + j];
      return s;
    });
    const max = Math.max(...z);
    const ex = z.map((v) => Math.exp(v - max));
    const sum = ex.reduce((a, v) => a + v, 0);
    ex.forEach((v, k) => (out[i * K + k] = v / sum));
  }
  return out;
}

describe("TorchModel.embed", () => {
  for (const kind of ["mlp", "cnn", "gru", "lstm", "transformer"] as TorchKind[]) {
    it(`${kind}: [B, hidden], deterministic, and the head applied to it reproduces predictProba`, async () => {
      const m = new TorchModel(config(kind));
      try {
        const n = 9;
        const d = inputs(kind, n, 11);
        // A few steps so the head is not at its initial values (and dropout has run in train mode).
        for (let s = 0; s < 3; s++) await m.trainStep(d.x, d.mask, d.y, new Float32Array(K).fill(1), 1e-2, 1);
        expect(m.embeddingWidth).toBe(HIDDEN);
        const e = await m.embed(d.x, d.mask);
        expect(e.length).toBe(n * HIDDEN);
        expect(e.every(Number.isFinite)).toBe(true);
        expect(await m.embed(d.x, d.mask)).toEqual(e);
        // Rows are independent of their batch (eval mode, no batch statistics).
        const one = await m.embed(d.x.subarray(0, d.x.length / n), d.mask ? d.mask.subarray(0, d.mask.length / n) : null);
        for (let j = 0; j < HIDDEN; j++) expect(one[j]).toBeCloseTo(e[j], 5);
        const p = await m.predictProba(d.x, d.mask);
        const viaHead = await headProba(m, kind, e, n);
        for (let i = 0; i < p.length; i++) expect(Math.abs(viaHead[i] - p[i])).toBeLessThan(1e-5);
        // Not a trivial layer: windows differ in it.
        expect(e.subarray(0, HIDDEN)).not.toEqual(e.subarray(HIDDEN, 2 * HIDDEN));
      } finally {
        await m.dispose();
      }
    });
  }

  it("checks its inputs like predictProba", async () => {
    const m = new TorchModel(config("gru"));
    await expect(async () => m.embed(new Float32Array(5), null)).rejects.toThrow(/multiple of/);
    await expect(async () => m.embed(new Float32Array(C * T).fill(Number.NaN), null)).rejects.toThrow(/non-finite/);
    await m.dispose();
    await expect(async () => m.embed(new Float32Array(C * T), null)).rejects.toThrow(/disposed/);
  });
});

describe("predictGbt outputMargin", () => {
  it("returns per-class margins whose softmax is the probability output", async () => {
    const r = rng(5);
    const n = 120;
    const x = Float32Array.from({ length: n * 4 }, () => r());
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * 4] > 0.5 ? 1 : 0) + (x[i * 4 + 1] > 0.5 ? 1 : 0));
    const { modelJson } = await trainGbt({ x, nRows: n, nCols: 4, y, numClass: 3, params: { nthread: 1, max_depth: 3, seed: 0 }, rounds: 8 });
    const p = await predictGbt(modelJson, x, n, 4, { nthread: 1 });
    const margin = await predictGbt(modelJson, x, n, 4, { nthread: 1, outputMargin: true });
    expect(margin.length).toBe(n * 3);
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2].map((k) => margin[i * 3 + k]);
      const max = Math.max(...z);
      const s = z.reduce((a, v) => a + Math.exp(v - max), 0);
      for (let k = 0; k < 3; k++) expect(Math.exp(z[k] - max) / s).toBeCloseTo(p[i * 3 + k], 5);
    }
    await expect(predictGbt(modelJson, x, n, 4, { outputMargin: "yes" as unknown as boolean })).rejects.toThrow(/outputMargin/);
  });
});
