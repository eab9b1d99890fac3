// The checkpoint's embedding block (src/train/embedding.ts): train stores
// which layer embed() returns and a PCA fitted on the embeddings of a seeded
// sample of training windows; a reloaded checkpoint's embedArrays on those
// same windows refits to the stored PCA (so it was fitted on this layer of
// this model, not on something else); older sidecars without the block load
// and say why they have no embedding.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_NAMES, N_CHANNELS } from "../src/features/channels.js";
import { fitPca } from "../src/stats/pca.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { EMBEDDING_SAMPLE, EMBEDDING_SAMPLE_WIDE, embeddingSampleSize, projectEmbedding, sampleRows } from "../src/train/embedding.js";
import { trainModel } from "../src/train/run.js";
import { loadTensorRows } from "../src/train/tensors.js";
import { isSequenceKind, type ModelKind } from "../src/train/types.js";
import { loadWindowSet, readFeatureRows } from "../src/train/windows.js";
import { makeToy, quick, T, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-embedding-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let toy: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"));
});

const schemaOf = (t: Toy) => t.schema as unknown as { hash: string } & Record<string, unknown>;

describe("sampleRows", () => {
  it("draws min(max, n) distinct ascending rows, the same for the same seed", () => {
    const a = sampleRows(10_000, 4000, 7);
    expect(a.length).toBe(4000);
    expect(new Set(a).size).toBe(4000);
    expect([...a].every((v, i) => i === 0 || a[i - 1] < v)).toBe(true);
    expect(sampleRows(10_000, 4000, 7)).toEqual(a);
    expect(sampleRows(10_000, 4000, 8)).not.toEqual(a);
    expect([...sampleRows(5, 4000, 7)]).toEqual([0, 1, 2, 3, 4]);
    expect(embeddingSampleSize(64)).toBe(EMBEDDING_SAMPLE);
    expect(embeddingSampleSize(9996)).toBe(EMBEDDING_SAMPLE_WIDE);
  });
});

const EXPECT: Record<string, { layer: string; width: (hidden: number) => number }> = {
  gbt: { layer: "margin", width: () => 6 },
  mlp: { layer: "penultimate", width: (h) => h },
  gru: { layer: "penultimate", width: (h) => h },
  minirocket: { layer: "ppv", width: () => 840 },
};

describe("train stores an embedding block", () => {
  for (const kind of Object.keys(EXPECT) as ModelKind[]) {
    it(`${kind}: ${EXPECT[kind].layer}, PCA of the training windows' embeddings`, async () => {
      const out = join(root, `models-${kind}`);
      const r = await trainModel(quick(toy, kind, out, { neural: { epochs: 3, batch_size: 32, lr: 3e-3, hidden: 16, layers: 1, patience: 0 }, minirocket: { num_features: 840, epochs: 3, patience: 0, batch_size: 32 } }));
      const block = r.sidecar.embedding!;
      expect(block.layer).toBe(EXPECT[kind].layer);
      expect(block.width).toBe(EXPECT[kind].width(16));
      const nTrain = r.sidecar.training.n_train;
      expect(block.sample).toEqual({ windows: nTrain, of: nTrain, seed: 3 }); // the toy has fewer than 4000 training windows
      expect(block.pca.components).toHaveLength(2);
      expect(block.pca.components.every((c) => c.length === block.width)).toBe(true);
      expect(block.pca.explained_variance[0]).toBeGreaterThan(0);

      // The same training windows through the reloaded checkpoint refit to the stored PCA.
      const model = await loadCheckpoint(r.sidecarPath, schemaOf(toy));
      expect(model.embeddingProblem).toBeNull();
      const train = await loadWindowSet(toy.features, toy.split, "train");
      expect(train.label.length).toBe(nTrain);
      const summary = await readFeatureRows(toy.features, train, FEATURE_NAMES);
      const tensors = isSequenceKind(kind) ? (await loadTensorRows(toy.tensors, toy.schema.hash, [train], [...Array(N_CHANNELS).keys()], T, N_CHANNELS, Infinity))[0] : null;
      const e = await model.embedArrays({ n: nTrain, summary, x: tensors?.x ?? null, mask: tensors?.mask ?? null });
      expect(e.length).toBe(nTrain * block.width);
      const refit = fitPca(e, nTrain, block.width);
      const scale = Math.sqrt(block.pca.explained_variance[0]);
      block.pca.components.forEach((c, i) => c.forEach((v, j) => expect(Math.abs(v - refit.components[i][j])).toBeLessThan(1e-4)));
      refit.explained_variance.forEach((v, i) => expect(Math.abs(v - block.pca.explained_variance[i])).toBeLessThan(1e-4 * scale * scale));
      const xy = projectEmbedding(block, e, nTrain);
      expect(xy.length).toBe(2 * nTrain);
      expect(xy.every(Number.isFinite)).toBe(true);
      // Centred on the training sample: the projections average to ~0.
      expect(Math.abs(xy.filter((_, i) => i % 2 === 0).reduce((a, v) => a + v, 0) / nTrain)).toBeLessThan(1e-3 * scale);
    });
  }

  it("an older sidecar without the block still loads, and says why it has no embedding", async () => {
    const src = join(root, "models-gbt", "gbt_realistic.ckpt.json");
    const doc = JSON.parse(readFileSync(src, "utf8"));
    delete doc.embedding;
    const old = join(root, "models-gbt", "old.ckpt.json");
    writeFileSync(old, JSON.stringify(doc));
    const model = await loadCheckpoint(old, schemaOf(toy));
    expect(model.embedding).toBeNull();
    expect(model.embeddingProblem).toMatch(/no embedding block/);
    doc.embedding = { ...JSON.parse(readFileSync(src, "utf8")).embedding, width: 7 };
    writeFileSync(old, JSON.stringify(doc));
    expect((await loadCheckpoint(old, schemaOf(toy))).embeddingProblem).toMatch(/damaged/);
  });
});
