// Streamed sequence-model training (issue 10): the chunked loop sees every
// window once per epoch through a bounded shuffle buffer, streaming
// statistics equal the whole-data ones, and training from memory (cache)
// and from the shard files (stream) gives the same weights for a seed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { loadWindowSet } from "../src/train/windows.js";
import { runTrainingLoop, type StepModel } from "../src/train/loop.js";
import { trainModel } from "../src/train/run.js";
import type { ChunkedData, SequenceChunk } from "../src/train/sequence-data.js";
import { Standardiser, StreamingStats } from "../src/train/standardise.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-train-stream-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("StreamingStats", () => {
  it("equals the two-pass statistics over the whole data, chunk boundaries anywhere", () => {
    const r = lcg(7);
    const width = 3;
    const steps = 5;
    const n = 37;
    const x = new Float32Array(n * width * steps).map(() => (r() - 0.3) * 1e4);
    const mask = new Uint8Array(x.length).map(() => (r() < 0.8 ? 1 : 0));
    x[4] = Number.NaN;
    // Input 2 never observed: dropped (std 0) by both.
    for (let i = 0; i < n; i++) for (let k = 0; k < steps; k++) mask[(i * width + 2) * steps + k] = 0;
    const whole = new Standardiser("symlog").fit(x, mask, width, steps).stats();
    const acc = new StreamingStats("symlog", width, steps);
    for (const [a, b] of [[0, 1], [1, 10], [10, 11], [11, 37]]) acc.add(x.subarray(a * width * steps, b * width * steps), mask.subarray(a * width * steps, b * width * steps));
    const streamed = new Standardiser("symlog").fitStreaming(acc);
    const s = streamed.stats();
    for (let f = 0; f < width; f++) {
      expect(s.mean[f]).toBeCloseTo(whole.mean[f], 10);
      expect(s.std[f]).toBeCloseTo(whole.std[f], 10);
    }
    expect(s.std[2]).toBe(0);
    expect(streamed.allMissing).toEqual([2]);
  });
});

describe("the chunked loop", () => {
  it("feeds every training window exactly once per epoch through a small shuffle buffer, in a seed-determined order", async () => {
    const rowLen = 2;
    const sizes = [5, 0, 9, 3, 12];
    let id = 0;
    const chunks: SequenceChunk[] = sizes.map((n) => {
      const x = new Float32Array(n * rowLen);
      for (let i = 0; i < n; i++) x[i * rowLen] = id++;
      return { n, x, mask: new Uint8Array(n * rowLen).fill(1), y: new Int32Array(n) };
    });
    const total = id;
    const data = (): ChunkedData => ({
      n: total,
      rowLen,
      chunkCount: chunks.length,
      chunkRows: sizes,
      io: { seconds: 0, bytes: 0, chunks: 0 },
      load: async (c) => chunks[c],
    });
    const run = async (seed: number) => {
      const seen: number[][] = [];
      const model: StepModel = {
        async trainStep(x) {
          seen.push(Array.from({ length: x.length / rowLen }, (_, k) => x[k * rowLen]));
          return { loss: 1, skipped: false };
        },
        async predictProba(x) {
          return new Float32Array((x.length / rowLen) * 2).fill(0.5);
        },
        async save() {},
      };
      const opts = { epochs: 2, batchSize: 4, lr: 1e-3, warmupFraction: 0, clipNorm: 0, patience: 0, maxMinutes: 0, seed, nClasses: 2, classWeights: new Float32Array([1, 1]), bestPath: "/dev/null", shuffleBuffer: 6 };
      const r = await runTrainingLoop(model, data(), data(), opts);
      return { seen, r };
    };
    const a = await run(11);
    // 29 rows in batches of 4: 7 full batches and a last one of 1, dropped.
    const perEpoch = 8 - 1;
    expect(a.seen.length).toBe(2 * perEpoch);
    for (const epoch of [a.seen.slice(0, perEpoch), a.seen.slice(perEpoch)]) {
      const rows = epoch.flat();
      expect(rows.length).toBe(28);
      expect(new Set(rows).size).toBe(28);
    }
    expect(a.seen.slice(0, perEpoch).flat()).not.toEqual(a.seen.slice(perEpoch).flat());
    expect((await run(11)).seen).toEqual(a.seen);
    expect((await run(12)).seen).not.toEqual(a.seen);
    expect(a.r.io?.chunks_read).toBe(0);
  });
});

describe("cache vs stream", () => {
  let toy: Toy;
  beforeAll(async () => {
    toy = await makeToy(join(root, "toy"));
  });

  it("a gru trained from the memory cache and from the shard files has the same weights and history", async () => {
    const neural = { epochs: 3, batch_size: 16, lr: 3e-3, hidden: 16, layers: 1, heads: 4, patience: 0, shuffle_buffer: 20 };
    const cached = await trainModel(quick(toy, "gru", join(root, "cached"), { neural, tensorBudgetBytes: 1024 ** 3 }));
    const streamed = await trainModel(quick(toy, "gru", join(root, "streamed"), { neural, tensorBudgetBytes: 0 }));
    expect(cached.sidecar.training.tensor_io?.source).toBe("memory");
    expect(streamed.sidecar.training.tensor_io?.source).toBe("stream");
    expect(streamed.sidecar.training.tensor_io?.chunks_read).toBeGreaterThan(0);
    expect(streamed.sidecar.hyper_parameters.shuffle_buffer).toBe(20);
    expect(streamed.sidecar.standardisation).toEqual(cached.sidecar.standardisation);
    const strip = (h: typeof cached.sidecar.history) => h.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(streamed.sidecar.history)).toEqual(strip(cached.sidecar.history));
    // The .pt archive names its temp file inside, so compare what the weights do.
    const test = await loadWindowSet(toy.features, toy.split, "test");
    const predict = async (sidecar: string) => (await loadCheckpoint(sidecar, toy.schema)).predictProba(toy.features, toy.tensors, test);
    const [pc, ps] = await Promise.all([predict(cached.sidecarPath), predict(streamed.sidecarPath)]);
    expect(pc.length).toBeGreaterThan(0);
    expect(Array.from(ps)).toEqual(Array.from(pc));
  }, 120_000);
});
