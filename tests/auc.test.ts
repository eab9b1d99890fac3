// ROC AUC / PR AUC / TPR at 1% FPR: the reference against scikit-learn
// (committed fixture), the native bootstrap against its twin (exact), and
// thread-count independence.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { aucBootstrap } from "../src/stats/auc.js";
import { rankMetrics } from "../src/reference/auc.js";
import { Xoshiro128ss } from "../src/util/rng.js";

interface SkCase {
  name: string;
  y: number[];
  score: number[];
  roc_auc: number;
  pr_auc: number;
  tpr_at_1pct_fpr: number;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/sklearn-auc.json", import.meta.url), "utf8")) as { cases: SkCase[] };

describe("rank metrics vs scikit-learn", () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const [roc, pr, tpr] = rankMetrics(c.y, c.score, null, 0.01);
      expect(Math.abs(roc - c.roc_auc)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(pr - c.pr_auc)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(tpr - c.tpr_at_1pct_fpr)).toBeLessThanOrEqual(1e-12);
      const native = await aucBootstrap(c.y, c.score, null, { resamples: 1 });
      expect(native.roc_auc.point).toBe(roc);
      expect(native.pr_auc.point).toBe(pr);
      expect(native.tpr_at_fpr.point).toBe(tpr);
    });
  }
});

function data(n: number, seed: number) {
  const g = Xoshiro128ss.forResample(seed, 77);
  const y: number[] = [];
  const s: number[] = [];
  const groups: number[] = [];
  let ep = 1000;
  for (let i = 0; i < n; i++) {
    if (g.index(6) === 0) ep += 1 + g.index(3); // sparse, non-contiguous ids
    const label = ep % 3 === 0 ? 1 : 0;
    y.push(label);
    s.push(Math.round((label * 0.8 + g.index(1000) / 1000) * 50) / 50); // ties
    groups.push(ep);
  }
  return { y, s, groups };
}

describe("AUC bootstrap native vs reference", () => {
  it("episode and window units, exact", async () => {
    const { y, s, groups } = data(700, 3);
    for (const unit of ["episode", "window"] as const) {
      const o = { resamples: 60, seed: 11, unit, maxFpr: 0.05 };
      const ref = await aucBootstrap(y, s, groups, { ...o, engine: "reference" });
      const one = await aucBootstrap(y, s, groups, { ...o, threads: 1 });
      const two = await aucBootstrap(y, s, groups, { ...o, threads: 2 });
      expect(one).toEqual(ref);
      expect(two).toEqual(one);
      expect(ref.roc_auc.lo!).toBeLessThanOrEqual(ref.roc_auc.hi!);
      expect(ref.roc_auc.point).toBeGreaterThan(0.6);
    }
  });

  it("rejects bad input", async () => {
    await expect(aucBootstrap([0, 2], [1, 2])).rejects.toThrow(/0 or 1/);
    await expect(aucBootstrap([0, 1], [1, NaN])).rejects.toThrow(/NaN/);
    await expect(aucBootstrap([0, 1], [1])).rejects.toThrow(/length mismatch/);
    await expect(aucBootstrap([0, 1], [1, 2], null, { unit: "episode" })).rejects.toThrow(/needs groups/);
  });
});
