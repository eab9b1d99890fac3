// The model engines (native/engines.node): every torch architecture learns
// a toy problem, honours the mask, is deterministic and round-trips through
// save/load; XGBoost trains with NaNs and early stopping; bad inputs become
// JS errors. Sizes are tiny so the suite stays well under a minute on 2 cores.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  TorchModel,
  gbtModelInfo,
  loadEngines,
  loadGbtModel,
  predictGbt,
  saveGbtModel,
  trainGbt,
  type TorchConfig,
  type TorchKind,
} from "../src/engines/index.js";

const dir = mkdtempSync(join(tmpdir(), "cis490-engines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

const C = 6;
const T = 24;
const K = 3;
const F = 12;

interface Toy {
  n: number;
  x: Float32Array;
  mask: Uint8Array | null;
  y: Int32Array;
}

/**
 * Sequence toy, layout [n, C, T]: class k has a sine wave on channel k, all
 * channels carry noise, 15% of values are missing (x = 0, mask = 0).
 * `maskOnly`: x is pure noise everywhere (garbage under the mask too) and
 * class k is told only by channel k being missing for 10 consecutive steps.
 */
function seqToy(n: number, seed: number, maskOnly = false): Toy {
  const r = rng(seed);
  const x = new Float32Array(n * C * T);
  const mask = new Uint8Array(n * C * T);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    const phase = r() * 2 * Math.PI;
    const gapStart = Math.floor(r() * (T - 10));
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < T; t++) {
        const j = (i * C + c) * T + t;
        let v = gauss(r) * 0.7;
        if (maskOnly) {
          x[j] = v;
          mask[j] = c === k && t >= gapStart && t < gapStart + 10 ? 0 : 1;
          continue;
        }
        if (c === k) v += Math.sin(phase + t / 2);
        const seen = r() > 0.15;
        x[j] = seen ? v : 0;
        mask[j] = seen ? 1 : 0;
      }
    }
  }
  return { n, x, mask, y };
}

/** Summary toy [n, F]: class k shifts features k and k + 3. */
function flatToy(n: number, seed: number): Toy {
  const r = rng(seed);
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    for (let f = 0; f < F; f++) x[i * F + f] = gauss(r) + (f === k || f === k + 3 ? 1.5 : 0);
  }
  return { n, x, mask: null, y };
}

function slice(d: Toy, from: number, to: number): Toy {
  const per = d.x.length / d.n;
  return {
    n: to - from,
    x: d.x.subarray(from * per, to * per),
    mask: d.mask ? d.mask.subarray(from * per, to * per) : null,
    y: d.y.subarray(from, to),
  };
}

const ONES = new Float32Array(K).fill(1);

async function fit(m: TorchModel, d: Toy, epochs: number, lr: number, batch = 32): Promise<number[]> {
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    let steps = 0;
    for (let s = 0; s + batch <= d.n; s += batch) {
      const b = slice(d, s, s + batch);
      const r = await m.trainStep(b.x, b.mask, b.y, ONES, lr, 1.0);
      expect(r.skipped).toBe(false);
      sum += r.loss;
      steps++;
    }
    losses.push(sum / steps);
  }
  return losses;
}

function accuracy(p: Float32Array, y: Int32Array | Int8Array, k = K): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
    if (best === y[i]) ok++;
  }
  return ok / y.length;
}

function config(kind: TorchKind, seed = 7): TorchConfig {
  return kind === "mlp"
    ? { kind, n_features: F, n_classes: K, hidden: 32, seed, threads: 2 }
    : { kind, n_channels: C, seq_len: T, n_classes: K, hidden: 32, heads: 4, seed, threads: 2 };
}

const KINDS: TorchKind[] = ["mlp", "cnn", "gru", "lstm", "transformer"];

describe("engines addon", () => {
  it("loads, reports versions, and has limited OpenBLAS to one thread", () => {
    const info = loadEngines().info();
    expect(info.torch.torchVersion).toMatch(/^\d+\.\d+/);
    expect(info.xgboost.version).toMatch(/^\d+\.\d+/);
    // -1 would mean no OpenBLAS in this libtorch (nothing to limit).
    expect([1, -1]).toContain(info.torch.openblasThreads);
  });
});

describe("TorchModel", () => {
  for (const kind of KINDS) {
    it(`${kind}: learns the toy problem, beats chance on held-out data, round-trips save/load`, async () => {
      const data = kind === "mlp" ? flatToy(900, 1) : seqToy(900, 1);
      const train = slice(data, 0, 600);
      const test = slice(data, 600, 900);
      const m = new TorchModel(config(kind));
      expect(m.device).toBe("cpu");
      expect(m.numParameters).toBeGreaterThan(100);
      const losses = await fit(m, train, 8, kind === "transformer" ? 2e-3 : 3e-3);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
      const p = await m.predictProba(test.x, test.mask);
      expect(p.length).toBe(test.n * K);
      for (let i = 0; i < test.n; i++) expect(p[i * K] + p[i * K + 1] + p[i * K + 2]).toBeCloseTo(1, 5);
      expect(accuracy(p, test.y)).toBeGreaterThan(0.7); // chance is 1/3

      if (kind !== "mlp") {
        // The mask is an input: telling the model everything was observed changes its output.
        const q = await m.predictProba(test.x, null);
        expect(p.some((v, i) => Math.abs(v - q[i]) > 1e-4)).toBe(true);
      }

      const path = join(dir, `${kind}.pt`);
      await m.save(path);
      const back = new TorchModel(config(kind, 999)); // other seed: other weights until load
      expect(await back.parameterHash()).not.toBe(await m.parameterHash());
      await back.load(path);
      expect(await back.parameterHash()).toBe(await m.parameterHash());
      expect(back.steps).toBe(m.steps);
      expect(Array.from(await back.predictProba(test.x, test.mask))).toEqual(Array.from(p));
      // Training continues from the restored optimizer state identically.
      const b = slice(train, 0, 32);
      await m.trainStep(b.x, b.mask, b.y, ONES, 1e-3, 1);
      await back.trainStep(b.x, b.mask, b.y, ONES, 1e-3, 1);
      expect(await back.parameterHash()).toBe(await m.parameterHash());
    });
  }

  for (const kind of ["cnn", "gru"] as const) {
    it(`${kind}: uses the mask (class only in the missingness, garbage under it)`, async () => {
      const data = seqToy(900, 2, true);
      const m = new TorchModel(config(kind));
      await fit(m, slice(data, 0, 600), 6, 3e-3);
      const test = slice(data, 600, 900);
      expect(accuracy(await m.predictProba(test.x, test.mask), test.y)).toBeGreaterThan(0.7);
    });
  }

  it("transformer: values at fully masked timesteps are ignored", async () => {
    const m = new TorchModel(config("transformer"));
    const d = seqToy(64, 3);
    await fit(m, d, 1, 1e-3);
    const x = d.x.slice();
    const mask = d.mask!.slice();
    const garbage = x.slice();
    const r = rng(4);
    for (let i = 0; i < d.n; i++) {
      for (const t of [0, 5, 6, 7, T - 1]) {
        for (let c = 0; c < C; c++) {
          const j = (i * C + c) * T + t;
          mask[j] = 0;
          x[j] = 0;
          garbage[j] = 1000 * gauss(r);
        }
      }
    }
    const a = await m.predictProba(x, mask);
    const b = await m.predictProba(garbage, mask);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    // A sample with nothing observed still gets finite probabilities.
    const none = await m.predictProba(x.subarray(0, C * T), new Uint8Array(C * T));
    expect(Array.from(none).every(Number.isFinite)).toBe(true);
  });

  it("is deterministic: same seed and batches give the same weights, another seed does not", async () => {
    for (const kind of KINDS) {
      const d = kind === "mlp" ? flatToy(96, 5) : seqToy(96, 5);
      const run = async (seed: number) => {
        const m = new TorchModel({ ...config(kind, seed), dropout: 0.3 });
        await fit(m, d, 1, 1e-3);
        return m.parameterHash();
      };
      const a = await run(11);
      expect(await run(11)).toBe(a);
      expect(await run(12)).not.toBe(a);
    }
  });

  it("turns bad inputs into JS errors, and keeps working afterwards", async () => {
    const m = new TorchModel(config("gru"));
    const d = seqToy(8, 6);
    const w = ONES;
    await expect(m.trainStep(d.x.subarray(1), d.mask, d.y, w, 1e-3, 1)).rejects.toThrow(/x has \d+ values/);
    await expect(m.trainStep(d.x, d.mask!.subarray(1), d.y, w, 1e-3, 1)).rejects.toThrow(/mask has/);
    await expect(m.trainStep(d.x, d.mask, d.y.subarray(1), w, 1e-3, 1)).rejects.toThrow(/labels for 8 samples/);
    await expect(m.trainStep(d.x, d.mask, Int32Array.from([0, 1, 2, 3, 0, 1, 2, 0]), w, 1e-3, 1)).rejects.toThrow(/y\[3\] = 3/);
    await expect(m.trainStep(d.x, d.mask, d.y, new Float32Array(2), 1e-3, 1)).rejects.toThrow(/classWeights/);
    await expect(m.trainStep(new Float64Array(d.x) as unknown as Float32Array, d.mask, d.y, w, 1e-3, 1)).rejects.toThrow(/Float32Array/);
    await expect(m.trainStep(d.x, d.mask, d.y, w, Number.NaN, 1)).rejects.toThrow(/lr/);
    const bad = d.x.slice();
    bad[C * T + 3] = Number.NaN;
    await expect(m.trainStep(bad, d.mask, d.y, w, 1e-3, 1)).rejects.toThrow(/non-finite value \(nan\) at index \d+ \(sample 1\)/);
    await expect(m.predictProba(bad, d.mask)).rejects.toThrow(/non-finite/);
    await expect(m.load(join(dir, "does-not-exist.pt"))).rejects.toThrow(/torch/);
    const mlp = new TorchModel(config("mlp"));
    const path = join(dir, "mlp-for-gru.pt");
    await mlp.save(path);
    await expect(m.load(path)).rejects.toThrow(/different architecture/);
    await expect(mlp.predictProba(new Float32Array(F), new Uint8Array(F))).rejects.toThrow(/mlp takes no mask/);
    // Still usable.
    expect((await m.trainStep(d.x, d.mask, d.y, w, 1e-3, 1)).skipped).toBe(false);
    expect(m.steps).toBe(1);

    expect(() => new TorchModel({ ...config("gru"), kind: "rnn" as TorchKind })).toThrow(/config.kind/);
    expect(() => new TorchModel({ ...config("transformer"), hidden: 30, heads: 4 })).toThrow(/divisible/);
    expect(() => new TorchModel({ kind: "cnn", n_classes: 3 } as TorchConfig)).toThrow(/n_channels/);
    expect(() => new TorchModel({ ...config("mlp"), device: "tpu" as "cpu" })).toThrow(/device/);
    if (!loadEngines().info().torch.cudaAvailable) {
      expect(() => new TorchModel({ ...config("mlp"), device: "cuda" })).toThrow(/no usable CUDA/);
    }

    await m.dispose();
    await expect(m.predictProba(d.x, d.mask)).rejects.toThrow(/disposed/);
  });
});

describe("GBT (XGBoost)", () => {
  const COLS = 10;
  /** Class k raises columns k and k + 3; 20% of values are NaN (missing). */
  function gbtToy(n: number, seed: number) {
    const r = rng(seed);
    const x = new Float32Array(n * COLS);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % K;
      y[i] = k;
      for (let c = 0; c < COLS; c++) {
        x[i * COLS + c] = r() < 0.2 ? Number.NaN : gauss(r) + (c === k || c === k + 3 ? 1.5 : 0);
      }
    }
    return { x, y, n };
  }
  const tr = gbtToy(600, 1);
  const va = gbtToy(300, 2);
  const te = gbtToy(300, 3);
  const base = {
    x: tr.x, nRows: tr.n, nCols: COLS, y: tr.y, numClass: K,
    xVal: va.x, nValRows: va.n, yVal: va.y,
    params: { max_depth: 4, eta: 0.3, nthread: 1, seed: 0 },
  };

  it("trains with NaNs, stops early at the best validation round, and round-trips JSON", async () => {
    const r = await trainGbt({ ...base, rounds: 300, earlyStoppingRounds: 10 });
    expect(r.roundsTrained).toBeLessThan(300);
    expect(r.roundsTrained).toBe(r.bestIteration + 1 + 10);
    expect(r.history.length).toBe(r.roundsTrained);
    const best = Math.min(...r.history.map((h) => h.val_mlogloss!));
    expect(r.history[r.bestIteration].val_mlogloss).toBe(best);
    expect(r.bestScore).toBeCloseTo(best, 6);
    expect(r.history[r.history.length - 1].train_mlogloss).toBeLessThan(r.history[0].train_mlogloss);
    // The model is cut to the best round.
    const info = gbtModelInfo(r.modelJson);
    expect(info).toEqual({ numFeatures: COLS, rounds: r.bestIteration + 1, bestIteration: r.bestIteration });

    const p = await predictGbt(r.modelJson, te.x, te.n, COLS, { nthread: 1 });
    expect(p.length).toBe(te.n * K);
    for (let i = 0; i < te.n; i++) expect(p[i * K] + p[i * K + 1] + p[i * K + 2]).toBeCloseTo(1, 5);
    expect(accuracy(p, te.y)).toBeGreaterThan(0.6); // chance is 1/3
    const fewer = await predictGbt(r.modelJson, te.x, te.n, COLS, { iterationEnd: 1 });
    expect(Array.from(fewer)).not.toEqual(Array.from(p));

    const path = join(dir, "gbt.json");
    await saveGbtModel(path, r.modelJson);
    const back = await loadGbtModel(path);
    expect(JSON.parse(back).learner).toBeDefined();
    expect(Array.from(await predictGbt(back, te.x, te.n, COLS))).toEqual(Array.from(p));
  });

  it("uses sample weights and trains without a validation set", async () => {
    // Weight only class-0 rows: the model then predicts class 0 far more often.
    const weights = Float32Array.from(tr.y, (k) => (k === 0 ? 1 : 0.01));
    const r = await trainGbt({ x: tr.x, nRows: tr.n, nCols: COLS, y: tr.y, numClass: K, weights, params: { max_depth: 3, nthread: 1 }, rounds: 20 });
    expect(r.roundsTrained).toBe(20);
    expect(r.bestIteration).toBe(19);
    expect(r.history[0].val_mlogloss).toBeNull();
    const p = await predictGbt(r.modelJson, te.x, te.n, COLS);
    let zeros = 0;
    for (let i = 0; i < te.n; i++) if (p[i * K] > p[i * K + 1] && p[i * K] > p[i * K + 2]) zeros++;
    expect(zeros / te.n).toBeGreaterThan(0.6);
  });

  it("turns bad inputs into JS errors with XGBoost's message", async () => {
    await expect(trainGbt({ ...base, nRows: 599, rounds: 2 })).rejects.toThrow(/x has 6000 values/);
    await expect(trainGbt({ ...base, yVal: new Int32Array(300).fill(5), rounds: 2 })).rejects.toThrow(/yVal\[0\] = 5/);
    await expect(trainGbt({ ...base, params: { objective: "binary:logistic" }, rounds: 2 })).rejects.toThrow(/set by the engine/);
    await expect(trainGbt({ ...base, xVal: undefined, rounds: 2, earlyStoppingRounds: 3 })).rejects.toThrow(/validation set/);
    await expect(trainGbt({ ...base, params: { max_depth: "deep" }, rounds: 2 })).rejects.toThrow(/xgboost: .*max_depth|xgboost:/);
    await expect(predictGbt("{\"not\": \"a model\"}", te.x, te.n, COLS)).rejects.toThrow(/xgboost: loading model JSON/);
    await expect(predictGbt("nonsense", te.x, te.n, COLS)).rejects.toThrow(/not an XGBoost JSON model/);
    const r = await trainGbt({ ...base, rounds: 2 });
    await expect(predictGbt(r.modelJson, te.x, te.n * 2, COLS / 2)).rejects.toThrow(/expects 10 columns/);
    const path = join(dir, "broken.json");
    writeFileSync(path, "{\"learner\": 1}");
    await expect(loadGbtModel(path)).rejects.toThrow(/xgboost/);
  });
});
