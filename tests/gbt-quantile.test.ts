// The GBT training matrix built through XGBoost's callback iterator
// (QuantileDMatrix, batches read in place) gives the same model as the dense
// DMatrix path on the same data and seed (issue 10).

import { describe, expect, it } from "vitest";
import { predictGbt, trainGbt } from "../src/engines/index.js";
import type { GbtTrainOptions } from "../src/engines/types.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function data(n: number, cols: number, seed: number) {
  const r = lcg(seed);
  const x = new Float32Array(n * cols);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(r() * 3);
    for (let c = 0; c < cols; c++) x[i * cols + c] = r() < 0.1 ? Number.NaN : Math.round((r() + (c === y[i] ? 0.7 : 0)) * 50) / 50;
  }
  return { x, y, w: Float32Array.from(y, (k) => [1, 2, 0.5][k]) };
}

describe("trainGbt matrix", () => {
  it("quantile (batched, in place) equals dense: same rounds, same predictions within 1e-6", async () => {
    const cols = 6;
    const tr = data(400, cols, 1);
    const va = data(120, cols, 2);
    const base: GbtTrainOptions = {
      x: tr.x, nRows: 400, nCols: cols, y: tr.y, weights: tr.w, numClass: 3,
      xVal: va.x, nValRows: 120, yVal: va.y, wVal: va.w,
      params: { max_depth: 3, eta: 0.3, nthread: 1, subsample: 0.8, colsample_bytree: 0.8, max_bin: 256, seed: 5 },
      rounds: 30, earlyStoppingRounds: 5,
    };
    const before = tr.x.slice();
    const dense = await trainGbt({ ...base, matrix: "dense" });
    const quantile = await trainGbt({ ...base, matrix: "quantile", batchRows: 64 });
    expect(Array.from(tr.x)).toEqual(Array.from(before)); // read in place, never written
    expect(quantile.roundsTrained).toBe(dense.roundsTrained);
    expect(quantile.bestIteration).toBe(dense.bestIteration);
    const [pd, pq] = await Promise.all([predictGbt(dense.modelJson, va.x, 120, cols), predictGbt(quantile.modelJson, va.x, 120, cols)]);
    let worst = 0;
    for (let i = 0; i < pd.length; i++) worst = Math.max(worst, Math.abs(pd[i] - pq[i]));
    expect(worst).toBeLessThan(1e-6);
  });

  it("rejects an unknown matrix kind", async () => {
    const tr = data(10, 2, 3);
    await expect(trainGbt({ x: tr.x, nRows: 10, nCols: 2, y: tr.y, numClass: 3, rounds: 1, matrix: "sparse" as never })).rejects.toThrow(/matrix must be/);
  });
});
