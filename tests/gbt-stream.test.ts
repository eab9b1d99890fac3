// GBT training rows fed to XGBoost batch by batch (trainGbt `batches`, the
// native GbtFeed queue) give exactly the model of the same rows passed whole
// (issue 10: 700k x 230 must train without a dense copy of the training
// side); the quantile matrix reads the source more than once; a failing
// source fails the training with its message instead of hanging; and
// `cis490 train --model gbt` streams its training side from the features
// file to the same model as the in-memory rows.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { embeddingSampleSize, fitEmbeddingBlock, pickRows, sampleRows } from "../src/train/embedding.js";
import { trainGbt } from "../src/engines/index.js";
import type { GbtBatch, GbtTrainOptions } from "../src/engines/types.js";
import { featureIndices } from "../src/features/channels.js";
import { DEFAULT_GBT, GbtEstimator } from "../src/train/gbt.js";
import { classWeights, trainModel } from "../src/train/run.js";
import { readSplitSides, scanWindows, sideFeatureBatches } from "../src/train/windows.js";
import { makeToy, quick } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-gbt-stream-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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

/** The rows of (x, y, w) in batches of the given sizes, cycling; counts the passes. */
function source(d: { x: Float32Array; y: Int32Array; w: Float32Array }, cols: number, sizes: number[], passes: { n: number }) {
  return async function* (): AsyncGenerator<GbtBatch> {
    passes.n++;
    for (let at = 0, k = 0; at < d.y.length; k++) {
      const n = Math.min(sizes[k % sizes.length], d.y.length - at);
      await new Promise((r) => setImmediate(r)); // a reader that awaits, as the Parquet one does
      yield { x: d.x.slice(at * cols, (at + n) * cols), y: d.y.slice(at, at + n), w: d.w.slice(at, at + n) };
      at += n;
    }
  };
}

describe("trainGbt from batches", () => {
  const cols = 5;
  const tr = data(700, cols, 1);
  const va = data(150, cols, 2);
  const base: GbtTrainOptions = {
    nCols: cols, numClass: 3, xVal: va.x, nValRows: 150, yVal: va.y, wVal: va.w,
    params: { max_depth: 3, eta: 0.3, nthread: 1, subsample: 0.8, colsample_bytree: 0.8, max_bin: 64, seed: 5 },
    rounds: 25, earlyStoppingRounds: 5,
  };

  it("equals the whole matrix, whatever sizes the source yields and whatever batchRows", async () => {
    const whole = await trainGbt({ ...base, x: tr.x, nRows: 700, y: tr.y, weights: tr.w });
    const passes = { n: 0 };
    const fed = await trainGbt({ ...base, batches: source(tr, cols, [37, 200, 1, 64], passes), queueBatches: 1, batchRows: 128 });
    expect(fed.modelJson).toBe(whole.modelJson);
    const wholeSmall = await trainGbt({ ...base, x: tr.x, nRows: 700, y: tr.y, weights: tr.w, batchRows: 100 });
    expect(wholeSmall.modelJson).toBe(whole.modelJson);
    expect(fed.bestIteration).toBe(whole.bestIteration);
    expect(passes.n).toBeGreaterThanOrEqual(2); // sketch, then index: the rows are read again, never kept
  });

  it("fails with the source's error, and refuses x together with batches", async () => {
    const broken = async function* (): AsyncGenerator<GbtBatch> {
      yield { x: tr.x.slice(0, 10 * cols), y: tr.y.slice(0, 10) };
      throw new Error("parquet went away");
    };
    await expect(trainGbt({ ...base, batches: broken })).rejects.toThrow(/parquet went away/);
    const empty = async function* (): AsyncGenerator<GbtBatch> {};
    await expect(trainGbt({ ...base, batches: empty })).rejects.toThrow(/no rows|empty|batch/i);
    await expect(trainGbt({ ...base, x: tr.x, batches: source(tr, cols, [100], { n: 0 }) })).rejects.toThrow(/not both/);
    await expect(trainGbt({ ...base, matrix: "dense", batches: source(tr, cols, [100], { n: 0 }) })).rejects.toThrow(/quantile/);
  });
});

describe("train --model gbt streams its training side", () => {
  it("same model as the in-memory training rows", async () => {
    const toy = await makeToy(join(root, "toy"));
    const opts = quick(toy, "gbt", join(root, "out"));
    const r = await trainModel(opts);

    // The same fit from the rows held whole.
    const sides = await readSplitSides(toy.split);
    const cols = featureIndices("realistic").map((i) => toy.schema.features[i]);
    const scan = await scanWindows(toy.features, sides, ["train", "val"], cols);
    const train = scan.windows.get("train")!;
    const val = scan.windows.get("val")!;
    const counts = Array.from({ length: 6 }, (_, k) => train.label.filter((l) => l === k).length);
    const cw = Float32Array.from(classWeights(counts));
    const hp = { ...DEFAULT_GBT, ...opts.gbt, nthread: 1 };
    const inMemory = new GbtEstimator(hp, opts.seed, 6);
    await inMemory.fit({ x: scan.x.get("train")!, n: train.label.length, width: cols.length, y: train.label }, { x: scan.x.get("val")!, n: val.label.length, width: cols.length, y: val.label }, { classWeights: cw });
    const streamed = new GbtEstimator(hp, opts.seed, 6);
    await streamed.fit({ width: cols.length, batches: () => sideFeatureBatches(toy.features, sides, "train", cols) }, { x: scan.x.get("val")!, n: val.label.length, width: cols.length, y: val.label }, { classWeights: cw });
    expect(streamed.modelJson).toBe(inMemory.modelJson);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(r.weightsPath, "utf8")).toBe(inMemory.modelJson);
    // The embedding PCA's sample, gathered on the streamed first pass, is the in-memory rows' sample.
    const rows = sampleRows(train.label.length, embeddingSampleSize(6), opts.seed);
    const block = await fitEmbeddingBlock(inMemory, { n: rows.length, x: pickRows(scan.x.get("train")!, rows, cols.length) }, train.label.length, opts.seed);
    expect((r.sidecar as { embedding?: unknown }).embedding).toEqual(block);
  });
});
