// Extended isolation forest: the native crate against its TypeScript twin
// (identical trees for a seed, scores to 1e-12), on small generated
// inputs with missing values, infinities, constant features, ties and
// both classic (ndim=1) and extended (ndim>1) splits; 1 vs 2 threads.

import { describe, expect, it } from "vitest";
import { eifFit, eifScore } from "../src/anomaly/eif.js";
import { cFactor, detLn, fitReference, medianFinite, normal, sampleRows, scoreReference, type EifModel } from "../src/reference/eif.js";
import { Xoshiro128ss } from "../src/util/rng.js";

/** Seeded test data: mostly N(0,1)-ish, with a few planted oddities. */
function matrix(n: number, d: number, seed: number, kinds: { nan?: number; constant?: number[]; ties?: boolean; inf?: boolean } = {}): Float64Array {
  const g = Xoshiro128ss.forResample(seed, 1000);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) {
      let v = normal(g) * (f + 1);
      if (kinds.ties) v = Math.round(v); // rounds small negatives to -0: -0 and 0 both occur
      if (kinds.constant?.includes(f)) v = 3.25;
      if (kinds.nan && g.index(1000) < kinds.nan * 1000) v = Number.NaN;
      x[i * d + f] = v;
    }
  }
  if (kinds.inf) {
    x[0] = Infinity;
    x[d + 1] = -Infinity;
  }
  return x;
}

const CASES = [
  { name: "classic, clean", n: 120, d: 4, opts: { n_trees: 12, subsample: 64, ndim: 1, seed: 1 }, kinds: {} },
  { name: "extended ndim=3, NaNs", n: 150, d: 5, opts: { n_trees: 10, subsample: 50, ndim: 3, seed: 7 }, kinds: { nan: 0.15 } },
  { name: "ndim > d, constant columns", n: 90, d: 4, opts: { n_trees: 8, subsample: 256, ndim: 9, seed: 42 }, kinds: { constant: [0, 2] } },
  { name: "ties and infinities, ndim=2", n: 200, d: 3, opts: { n_trees: 15, subsample: 100, ndim: 2, seed: 4294967295 }, kinds: { ties: true, inf: true } },
  { name: "all-NaN column, tiny", n: 5, d: 3, opts: { n_trees: 6, subsample: 256, ndim: 2, seed: 3 }, kinds: { nan: 0.4 } },
  // The native medians of >= 32768 rows take the sampled-bracket path (crates/cis490-anomaly column_medians).
  { name: "bracketed medians, ties and NaNs", n: 33000, d: 3, opts: { n_trees: 4, subsample: 128, ndim: 2, seed: 11 }, kinds: { nan: 0.1, ties: true } },
  // Over 2^18 sampled rows in all: the native fit copies the matrix and runs off the event loop.
  { name: "large forest, fitted off the event loop", n: 300, d: 3, opts: { n_trees: 1100, subsample: 256, ndim: 1, seed: 8 }, kinds: {} },
];

describe("EIF reference pieces", () => {
  it("ln by arithmetic agrees with Math.log", () => {
    for (const x of [1e-300, 1e-9, 0.25, 0.5, 0.999, 1, 1.0001, 2, 3, 255, 99999, 1e200]) {
      expect(Math.abs(detLn(x) - Math.log(x))).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(Math.log(x))));
    }
    expect(cFactor(1)).toBe(0);
    expect(cFactor(2)).toBe(1);
    expect(Math.abs(cFactor(256) - (2 * (Math.log(255) + 0.5772156649015329) - (2 * 255) / 256))).toBeLessThan(1e-13);
  });

  it("samples without replacement and takes medians of finite values", () => {
    const s = sampleRows(Xoshiro128ss.forResample(1, 1), 40, 40).sort((a, b) => a - b);
    expect(s).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(medianFinite([3, Number.NaN, 1, 2])).toBe(2);
    expect(medianFinite([4, 1, 3, 2, Infinity])).toBe(2.5);
    expect(medianFinite([Number.NaN])).toBe(0);
    expect(Object.is(medianFinite([-0, -0, 1]), 0)).toBe(true);
  });

  it("scores a planted outlier highest", () => {
    const n = 300;
    const x = matrix(n, 3, 9);
    x.fill(12, 0, 3);
    const m = fitReference(x, n, 3, { n_trees: 50, ndim: 2 });
    const s = scoreReference(m, x, n);
    expect(Math.max(...s)).toBe(s[0]);
  });
});

describe("EIF native vs reference", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = matrix(c.n, c.d, c.opts.seed, c.kinds);
      const want = fitReference(x, c.n, c.d, c.opts);
      const json1 = await eifFit(x, c.n, c.d, c.opts, { threads: 1 });
      const json2 = await eifFit(x, c.n, c.d, c.opts, { threads: 2 });
      expect(json2).toBe(json1);
      expect(JSON.parse(json1) as EifModel).toEqual(want);
      // Constant columns are never split on.
      for (const f of c.kinds.constant ?? []) for (const t of want.trees) expect(t.feat).not.toContain(f);

      // Scores on the training rows and on fresh rows with missing values.
      const probe = matrix(40, c.d, c.opts.seed + 1, { nan: 0.2 });
      for (const [rows, n] of [[x, c.n], [probe, 40]] as const) {
        const ref = scoreReference(want, rows, n);
        const s1 = await eifScore(json1, rows, n, { threads: 1 });
        const s2 = await eifScore(json1, rows, n, { threads: 2 });
        expect(Array.from(s2)).toEqual(Array.from(s1));
        for (let i = 0; i < n; i++) {
          expect(Math.abs(s1[i] - ref[i])).toBeLessThanOrEqual(1e-12);
          expect(s1[i] > 0 && s1[i] <= 1).toBe(true);
        }
      }
      // Float32 input is the same data as its float64 widening.
      const x32 = Float32Array.from(x);
      expect(JSON.parse(await eifFit(x32, c.n, c.d, c.opts, { threads: 2 }))).toEqual(fitReference(Float64Array.from(x32), c.n, c.d, c.opts));
    });
  }

  it("different seeds give different forests", async () => {
    const x = matrix(80, 3, 5);
    const a = await eifFit(x, 80, 3, { n_trees: 3, seed: 1 });
    const b = await eifFit(x, 80, 3, { n_trees: 3, seed: 2 });
    expect(a).not.toBe(b);
  });

  it("rejects bad input clearly", async () => {
    const x = matrix(10, 2, 1);
    await expect(eifFit(x, 10, 3)).rejects.toThrow(/not n x d/);
    await expect(eifFit(x, 10, 2, { n_trees: 0 })).rejects.toThrow(/n_trees/);
    await expect(eifFit(x.subarray(0, 2), 1, 2)).rejects.toThrow(/at least 2/);
    const m = await eifFit(x, 10, 2, { n_trees: 2 });
    await expect(eifScore(m, x, 5)).rejects.toThrow(/not 5 x 2/);
    const bad = JSON.parse(m) as EifModel;
    bad.trees[0].feat[0] = 5;
    await expect(eifScore(JSON.stringify(bad), x, 10)).rejects.toThrow(/out of range/);
    await expect(eifScore("{", x, 10)).rejects.toThrow(/bad EIF model/);
  });
});
