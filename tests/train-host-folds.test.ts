// k-fold by host for the GBT (split --val host-folds), and the model-selection
// knobs issue 15 measures: class weights on/off, the validation weighting of
// the early-stopping mlogloss.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { gbtModelInfo } from "../src/engines/index.js";
import { readParquet, writeParquet } from "../src/io/parquet.js";
import type { Assignment } from "../src/split/assign.js";
import { assignmentTable } from "../src/split/run.js";
import { DEFAULT_GBT, GbtEstimator, type Matrix } from "../src/train/gbt.js";
import { trainModel } from "../src/train/run.js";
import { readFeatureRows, loadWindowSet } from "../src/train/windows.js";
import { featureIndices } from "../src/features/channels.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

let toy: Toy;
let foldSplit: string;
const FOLD_OF: Record<string, number> = { h0: 0, h1: 0, h2: 1, h3: 1, h4: 2 };

beforeAll(async () => {
  toy = await makeToy(mkdtempSync(join(tmpdir(), "cis490-hostfolds-")), { seed: 11, gap: 1.2 });
  // The toy's split with its val host moved to the training side and every training host given a fold.
  const rows = (await readParquet(toy.split)).toArray().map((r) => r.toJSON() as { episode_id: string; host_id: string; profile: string | null; sample_name: string | null; split: string });
  const assignments: Assignment[] = rows.map((r) => ({
    episode: { episode_id: r.episode_id, host_id: r.host_id, profile: r.profile, sample_name: r.sample_name } as Assignment["episode"],
    split: r.split === "test" ? "test" : "train",
    ...(r.split === "test" ? {} : { fold: FOLD_OF[r.host_id] }),
  }));
  foldSplit = join(toy.dir, "split_folds.parquet");
  await writeParquet(foldSplit, assignmentTable(assignments));
}, 120_000);

const hp = { ...DEFAULT_GBT, rounds: 60, max_depth: 3, eta: 0.3, early_stopping_rounds: 10, nthread: 1 };

async function matrixOf(split: string, side: "train" | "test"): Promise<{ m: Matrix; hosts: string[] }> {
  const w = await loadWindowSet(toy.features, split, side);
  const cols = featureIndices("realistic", toy.schema.stats).map((i) => toy.schema.features[i]);
  const x = await readFeatureRows(toy.features, w, cols);
  return { m: { x, n: w.label.length, width: cols.length, y: w.label }, hosts: w.host_id };
}

describe("k-fold by host (GBT)", () => {
  it("chooses the rounds with the lowest mean fold mlogloss, then boosts exactly that many on every training host", async () => {
    const out = join(toy.dir, "art-folds");
    const r = await trainModel(quick(toy, "gbt", out, { split: foldSplit }));
    const t = r.sidecar.training;
    expect(t.stopped).toBe("host-folds");
    const sel = t.host_folds!;
    expect(sel.folds.map((f) => f.hosts)).toEqual([["h0", "h1"], ["h2", "h3"], ["h4"]]);
    const { m, hosts } = await matrixOf(foldSplit, "train");
    expect(t.n_train).toBe(m.n);
    expect(sel.folds.reduce((a, f) => a + f.n_val, 0)).toBe(m.n);
    for (const f of sel.folds) expect(f.n_train + f.n_val).toBe(m.n);

    // Independently: each fold boosted without early stopping; the mean curve's argmin over the rounds every fold reached.
    const curves: number[][] = [];
    for (const f of sel.folds) {
      const inFold = hosts.map((h) => f.hosts.includes(h));
      const pick = (want: boolean): Matrix => {
        const idx = inFold.flatMap((v, i) => (v === want ? [i] : []));
        const x = new Float32Array(idx.length * m.width);
        idx.forEach((row, j) => x.set(m.x.subarray(row * m.width, (row + 1) * m.width), j * m.width));
        return { x, n: idx.length, width: m.width, y: Int32Array.from(idx, (i) => m.y[i]) };
      };
      const tr = pick(false);
      const counts = new Array(6).fill(0);
      for (const y of tr.y) counts[y]++;
      const { classWeights } = await import("../src/train/run.js");
      const est = new GbtEstimator({ ...hp, early_stopping_rounds: 0 }, 3, 6);
      const fit = await est.fit(tr, pick(true), { classWeights: Float32Array.from(classWeights(counts)), keepAllRounds: true });
      curves.push(fit.val_mlogloss);
    }
    const common = Math.min(...sel.folds.map((f) => f.rounds_trained));
    const mean = Array.from({ length: common }, (_, k) => curves.reduce((a, c) => a + c[k], 0) / curves.length);
    expect(sel.rounds).toBe(mean.indexOf(Math.min(...mean)) + 1);
    sel.folds.forEach((f, i) => expect(f.val_mlogloss).toBeCloseTo(curves[i][sel.rounds - 1], 9));
    expect(sel.val_mlogloss).toBeCloseTo(Math.min(...mean), 9);

    const model = readFileSync(r.weightsPath, "utf8");
    expect(gbtModelInfo(model).rounds).toBe(sel.rounds);
    expect(r.sidecar.best).toEqual({ epoch: sel.rounds, val_macro_f1: sel.val_macro_f1 });
    expect(r.sidecar.history[r.sidecar.history.length - 1].epoch).toBe(sel.rounds);
  }, 180_000);

  it("a neural model refuses a host-folds split, and a host-folds split with val rows is refused", async () => {
    await expect(trainModel(quick(toy, "mlp", join(toy.dir, "art-mlp"), { split: foldSplit }))).rejects.toThrow(/k-fold-by-host split .* mlp needs a val side/);
    // The toy's own split (val host h4) with folds on its training hosts.
    const rows = (await readParquet(toy.split)).toArray().map((r) => r.toJSON() as { episode_id: string; host_id: string; profile: string | null; sample_name: string | null; split: "train" | "val" | "test" });
    const mixed = join(toy.dir, "split_mixed.parquet");
    await writeParquet(mixed, assignmentTable(rows.map((r) => ({ episode: r as unknown as Assignment["episode"], split: r.split, ...(r.split === "train" ? { fold: FOLD_OF[r.host_id] } : {}) }))));
    await expect(trainModel(quick(toy, "gbt", join(toy.dir, "art-mixed"), { split: mixed }))).rejects.toThrow(/has fold numbers and val episodes/);
  }, 60_000);
});

describe("selection knobs", () => {
  it("--class-weights none trains with unit weights and is another request", async () => {
    // Every other window of class 5 labelled clean: the classes are no longer balanced.
    const skewed = await makeToy(mkdtempSync(join(tmpdir(), "cis490-skew-")), { seed: 12, relabel: (_e, w, classes) => (classes[w] === 5 && w % 2 === 0 ? 0 : classes[w]) });
    const balanced = await trainModel(quick(skewed, "gbt", join(skewed.dir, "art-cw")));
    const modelBalanced = readFileSync(balanced.weightsPath, "utf8");
    // Same --out: a rerun with the other weighting must not reuse the balanced checkpoint.
    const none = await trainModel(quick(skewed, "gbt", join(skewed.dir, "art-cw"), { classWeighting: "none" }));
    expect(none.reused).toBeUndefined();
    expect(none.sidecar.training.class_weights).toEqual([1, 1, 1, 1, 1, 1]);
    expect(none.sidecar.training.class_weighting).toBe("none");
    expect(balanced.sidecar.training.class_weights.some((w) => w !== 1)).toBe(true);
    expect(none.sidecar.request_sha256).not.toBe(balanced.sidecar.request_sha256);
    expect(readFileSync(none.weightsPath, "utf8")).not.toBe(modelBalanced);
  }, 60_000);

  it("val_weighting decides whether the early-stopping mlogloss weighs val windows by class", async () => {
    // Imbalanced classes, so the two losses differ.
    const make = (n: number, seed: number): Matrix => {
      let s = seed;
      const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const y = Int32Array.from({ length: n }, () => { const u = rnd(); return u < 0.6 ? 0 : u < 0.8 ? 1 : u < 0.9 ? 2 : u < 0.95 ? 3 : u < 0.98 ? 4 : 5; });
      const x = Float32Array.from({ length: n * 4 }, (_, i) => (i % 4 === 0 ? y[Math.floor(i / 4)] * 0.3 : 0) + rnd());
      return { x, n, width: 4, y };
    };
    const train = make(600, 1);
    const val = make(300, 2);
    const w = Float32Array.of(0.3, 1, 2, 4, 6, 8);
    const mlogloss = (p: Float32Array, weights: (k: number) => number) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < val.n; i++) {
        const wi = weights(val.y[i]);
        num -= wi * Math.log(Math.max(1e-15, p[i * 6 + val.y[i]]));
        den += wi;
      }
      return num / den;
    };
    for (const mode of ["class", "none"] as const) {
      const est = new GbtEstimator({ ...hp, val_weighting: mode }, 0, 6);
      const r = await est.fit(train, val, { classWeights: w });
      const p = await est.predictProba({ x: val.x, n: val.n, mask: null } as never);
      const expected = mlogloss(p, mode === "class" ? (k) => w[k] : () => 1);
      expect(r.best_val_mlogloss, mode).toBeCloseTo(expected, 4);
      expect(Math.abs(r.best_val_mlogloss - mlogloss(p, mode === "class" ? () => 1 : (k) => w[k])), mode).toBeGreaterThan(1e-3);
    }
  }, 60_000);
});
