// Evaluation statistics: point estimates against scikit-learn (committed
// fixture), the native bootstrap against its TypeScript twin (exact, same
// RNG), determinism, thread-count independence, and statistical sanity.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bootstrapF1, pairedBootstrap } from "../src/stats/bootstrap.js";
import { confusionMatrix, f1Scores } from "../src/stats/metrics.js";
import type { BootstrapOptions } from "../src/stats/types.js";
import { loadCis490Addon as loadAddon } from "../src/native/addon.js";
import { percentileCi } from "../src/stats/quantiles.js";
import { Xoshiro128ss } from "../src/util/rng.js";

interface SkCase {
  name: string;
  y_true: number[];
  y_pred: number[];
  labels: number[];
  macro_f1: number | null;
  per_class_f1: number[];
  precision: number[];
  recall: number[];
  support: number[];
  confusion: number[][];
  /** The same case scored over a fixed label list (sklearn's f1_score(labels=...)). */
  fixed: { labels: number[]; macro_f1: number; per_class_f1: number[]; precision: number[]; recall: number[]; support: number[] } | null;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/sklearn-f1.json", import.meta.url), "utf8")) as {
  cases: SkCase[];
  percentiles: { values: number[]; p2_5: number; p97_5: number }[];
};

const close = (got: number, want: number, what: string) => expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-12);

/** Small seeded generator for test data (not the bootstrap RNG). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 4294967296) * n);
  };
}

/**
 * Episodes of 1..2*len windows with a constant truth; a prediction is right
 * with probability acc. Group ids are sparse and windows are shuffled, so
 * the unit order must come from sorting ids, not from window order.
 */
function episodes(seed: number, n: number, len: number, k: number, acc: number) {
  const rnd = lcg(seed);
  const rows: [number, number, number][] = [];
  for (let e = 0; e < n; e++) {
    const truth = rnd(k);
    const m = 1 + rnd(2 * len);
    for (let w = 0; w < m; w++) rows.push([truth, rnd(1000) < acc * 1000 ? truth : rnd(k), e * 13 + 5]);
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = rnd(i + 1);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return {
    t: Int32Array.from(rows, (r) => r[0]),
    p: Int32Array.from(rows, (r) => r[1]),
    g: Uint32Array.from(rows, (r) => r[2]),
  };
}

function repredict(t: Int32Array, seed: number, k: number, acc: number): Int32Array {
  const rnd = lcg(seed);
  return Int32Array.from(t, (x) => (rnd(1000) < acc * 1000 ? x : rnd(k)));
}

describe("point estimates equal scikit-learn", () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const cm = confusionMatrix(c.y_true, c.y_pred);
      expect(cm.labels).toEqual(c.labels);
      expect(cm.counts).toEqual(c.confusion);
      const s = f1Scores(c.y_true, c.y_pred);
      if (c.macro_f1 === null) {
        expect(s.macroF1).toBeNaN();
        return;
      }
      close(s.macroF1, c.macro_f1, "macro");
      s.perClass.forEach((x, i) => {
        expect(x.label).toBe(c.labels[i]);
        close(x.f1, c.per_class_f1[i], `f1[${x.label}]`);
        close(x.precision, c.precision[i], `precision[${x.label}]`);
        close(x.recall, c.recall[i], `recall[${x.label}]`);
        expect(x.support).toBe(c.support[i]);
      });
      // The bootstraps' point estimates too, both engines.
      for (const engine of ["native", "reference"] as const) {
        const b = await bootstrapF1(c.y_true, c.y_pred, null, { resamples: 20, engine });
        close(b.macroF1.point, c.macro_f1, `${engine} macro`);
        expect(b.labels).toEqual(c.labels);
        b.perClass.forEach((x, i) => close(x.point, c.per_class_f1[i], `${engine} f1[${x.label}]`));
      }
    });
  }

  for (const c of fixture.cases.filter((x) => x.fixed !== null)) {
    it(`${c.name}, fixed labels ${JSON.stringify(c.fixed!.labels)}`, async () => {
      const f = c.fixed!;
      const s = f1Scores(c.y_true, c.y_pred, f.labels);
      expect(s.labels).toEqual(f.labels);
      close(s.macroF1, f.macro_f1, "macro");
      s.perClass.forEach((x, i) => {
        close(x.f1, f.per_class_f1[i], `f1[${x.label}]`);
        close(x.precision, f.precision[i], `precision[${x.label}]`);
        close(x.recall, f.recall[i], `recall[${x.label}]`);
        expect(x.support).toBe(f.support[i]);
      });
      for (const engine of ["native", "reference"] as const) {
        const b = await bootstrapF1(c.y_true, c.y_pred, null, { resamples: 20, engine, labels: f.labels });
        close(b.macroF1.point, f.macro_f1, `${engine} macro`);
        expect(b.labels).toEqual(f.labels);
        b.perClass.forEach((x, i) => close(x.point, f.per_class_f1[i], `${engine} f1[${x.label}]`));
        const pb = await pairedBootstrap(c.y_true, c.y_pred, c.y_true, null, { resamples: 20, engine, labels: f.labels });
        close(pb.macroF1A.point, f.macro_f1, `${engine} paired a`);
      }
    });
  }

  it("the fixture has a case where the fixed list changes macro F1", () => {
    const c = fixture.cases.find((x) => x.fixed && x.labels.length < x.fixed.labels.length && Math.abs(x.fixed.macro_f1 - (x.macro_f1 ?? 0)) > 0.01);
    expect(c?.name).toBe("three classes");
  });

  it("percentiles follow numpy's linear rule", () => {
    for (const p of fixture.percentiles) {
      const [lo, hi] = percentileCi([...p.values, NaN], 0.95);
      close(lo!, p.p2_5, "p2.5");
      close(hi!, p.p97_5, "p97.5");
    }
  });
});

describe("RNG", () => {
  it("is xoshiro128** with the documented seeding", () => {
    const g = new Xoshiro128ss(1, 2, 3, 4); // reference vector of the C original
    expect([g.nextU32(), g.nextU32(), g.nextU32()]).toEqual([11520, 0, 5927040]);
    const h = Xoshiro128ss.forResample(42, 7); // pinned in crates/cis490-stats/src/rng.rs too
    expect([h.nextU32(), h.nextU32(), h.nextU32(), h.nextU32()]).toEqual([204625076, 3974573861, 4215490440, 4112458713]);
  });

  it("draws indices exactly as floor(u * n / 2^32), also for n >= 2^21", () => {
    for (const n of [1, 7, 2 ** 21 - 1, 2 ** 21, 3_000_001, 2 ** 32 - 1]) {
      const a = Xoshiro128ss.forResample(9, n % 1000);
      const b = Xoshiro128ss.forResample(9, n % 1000);
      for (let i = 0; i < 2000; i++) {
        const want = Number((BigInt(b.nextU32()) * BigInt(n)) >> 32n);
        expect(a.index(n)).toBe(want);
      }
    }
  });
});

describe("bootstrap: native equals the TypeScript twin exactly", () => {
  const d = episodes(1, 120, 6, 6, 0.6);
  const cases: [string, Uint32Array | null, BootstrapOptions][] = [
    ["episode unit", d.g, {}],
    ["window unit with groups", d.g, { unit: "window" }],
    ["window unit, no groups", null, {}],
    ["ci 0.9, other seed", d.g, { ci: 0.9, seed: 4294967295 }],
  ];
  for (const [name, groups, extra] of cases) {
    it(name, async () => {
      const o: BootstrapOptions = { resamples: 300, seed: 17, keepResamples: true, ...extra };
      const nat = await bootstrapF1(d.t, d.p, groups, o);
      const ref = await bootstrapF1(d.t, d.p, groups, { ...o, engine: "reference" });
      expect(nat).toEqual(ref);
      expect(nat.unit).toBe(extra.unit ?? (groups ? "episode" : "window"));
      expect(nat.units).toBe(nat.unit === "episode" ? 120 : d.t.length);
      const q = repredict(d.t, 5, 6, 0.4);
      const pn = await pairedBootstrap(d.t, d.p, q, groups, o);
      expect(pn).toEqual(await pairedBootstrap(d.t, d.p, q, groups, { ...o, engine: "reference" }));
    });
  }

  it("fixed label list: native equals the twin, bootstrap and paired", async () => {
    // Labels 0..5 in the data, a stray 8 in one model's predictions, and a
    // listed 6 that never occurs.
    const labels = [0, 1, 2, 3, 4, 5, 6];
    const q = repredict(d.t, 11, 6, 0.5);
    q[0] = 8;
    for (const groups of [d.g, null]) {
      const o: BootstrapOptions = { resamples: 300, seed: 23, keepResamples: true, labels };
      const nat = await bootstrapF1(d.t, q, groups, o);
      expect(nat).toEqual(await bootstrapF1(d.t, q, groups, { ...o, engine: "reference" }));
      expect(nat.labels).toEqual(labels);
      expect(nat.perClass.map((c) => c.label)).toEqual(labels);
      expect(nat.perClass[6]).toMatchObject({ point: 0, resamplesPresent: 0, lo: null, hi: null });
      close(nat.macroF1.point, f1Scores(d.t, q, labels).macroF1, "point");
      const union = await bootstrapF1(d.t, q, groups, { ...o, labels: null });
      expect(union.labels).toEqual([0, 1, 2, 3, 4, 5, 8]);
      const pn = await pairedBootstrap(d.t, d.p, q, groups, o);
      expect(pn).toEqual(await pairedBootstrap(d.t, d.p, q, groups, { ...o, engine: "reference" }));
      // Both models over the same list: the paired point difference is the difference of the fixed-label scores.
      close(pn.diff.point, f1Scores(d.t, d.p, labels).macroF1 - f1Scores(d.t, q, labels).macroF1, "paired diff");
      const pu = await pairedBootstrap(d.t, d.p, q, groups, { ...o, labels: null });
      expect(pu.diff.point).not.toBe(pn.diff.point);
    }
  });

  it("classes missing from some resamples", async () => {
    // Label 9 occurs in one window only: NaN in resamples that miss it, left out of its interval.
    const t = Int32Array.from([0, 0, 1, 1, 2, 9, 0, 1]);
    const p = Int32Array.from([0, 1, 1, 1, 2, 9, 0, 7]);
    const o: BootstrapOptions = { resamples: 500, seed: 3, keepResamples: true };
    const nat = await bootstrapF1(t, p, null, o);
    expect(nat).toEqual(await bootstrapF1(t, p, null, { ...o, engine: "reference" }));
    const c9 = nat.perClass.find((c) => c.label === 9)!;
    expect(c9.resamplesPresent).toBeGreaterThan(0);
    expect(c9.resamplesPresent).toBeLessThan(500);
  });
});

describe("bootstrap behaviour", () => {
  const d = episodes(2, 400, 8, 6, 0.6);

  it("is deterministic given the seed", async () => {
    const a = await bootstrapF1(d.t, d.p, d.g, { resamples: 500, seed: 1 });
    expect(await bootstrapF1(d.t, d.p, d.g, { resamples: 500, seed: 1 })).toEqual(a);
    expect(await bootstrapF1(d.t, d.p, d.g, { resamples: 500, seed: 2 })).not.toEqual(a);
  });

  it("does not depend on the thread count", async () => {
    const o: BootstrapOptions = { resamples: 700, seed: 8, keepResamples: true };
    const one = await bootstrapF1(d.t, d.p, d.g, { ...o, threads: 1 });
    expect(await bootstrapF1(d.t, d.p, d.g, { ...o, threads: 2 })).toEqual(one);
    expect(await bootstrapF1(d.t, d.p, d.g, { ...o, threads: 5 })).toEqual(one);
    const q = repredict(d.t, 9, 6, 0.5);
    expect(await pairedBootstrap(d.t, d.p, q, d.g, { ...o, threads: 2 })).toEqual(await pairedBootstrap(d.t, d.p, q, d.g, { ...o, threads: 1 }));
  });

  it("paired: a clearly better model has a difference CI above 0", async () => {
    const good = repredict(d.t, 10, 6, 0.9);
    const bad = repredict(d.t, 11, 6, 0.3);
    const r = await pairedBootstrap(d.t, good, bad, d.g, { resamples: 1000, seed: 4 });
    expect(r.excludesZero).toBe(true);
    expect(r.diff.lo!).toBeGreaterThan(0);
    expect(r.diff.point).toBeCloseTo(f1Scores(d.t, good).macroF1 - f1Scores(d.t, bad).macroF1, 12);
    expect(r.fracDiffLeZero).toBe(0);
    const rev = await pairedBootstrap(d.t, bad, good, d.g, { resamples: 1000, seed: 4 });
    expect(rev.diff.hi!).toBeLessThan(0);
    expect(rev.fracDiffLeZero).toBe(1);
    const same = await pairedBootstrap(d.t, good, good, d.g, { resamples: 200 });
    expect([same.diff.lo, same.diff.hi, same.excludesZero]).toEqual([0, 0, false]);
  });

  it("episode-unit CIs are wider than window-unit CIs on clustered data", async () => {
    // Whole episodes are right or wrong: 20 windows of an episode carry
    // about one window's worth of information.
    const rnd = lcg(77);
    const t: number[] = [];
    const p: number[] = [];
    const g: number[] = [];
    for (let e = 0; e < 200; e++) {
      const truth = rnd(4);
      const pred = rnd(100) < 70 ? truth : (truth + 1) % 4;
      for (let w = 0; w < 20; w++) t.push(truth), p.push(pred), g.push(e);
    }
    const width = (r: { macroF1: { lo: number | null; hi: number | null } }) => r.macroF1.hi! - r.macroF1.lo!;
    const ep = await bootstrapF1(t, p, g, { resamples: 2000, seed: 5 });
    const win = await bootstrapF1(t, p, g, { resamples: 2000, seed: 5, unit: "window" });
    expect(ep.unit).toBe("episode");
    expect(width(ep)).toBeGreaterThan(2.5 * width(win));
    expect(ep.macroF1.point).toBe(win.macroF1.point);
  });
});

describe("bad inputs", () => {
  const t = Int32Array.from([0, 1, 1, 0]);
  const p = Int32Array.from([0, 1, 0, 0]);

  it("the addon throws JS errors", () => {
    const addon = loadAddon() as {
      bootstrapF1(a: unknown, b: unknown, g: unknown, o: unknown): Promise<string>;
      pairedBootstrap(a: unknown, b: unknown, c: unknown, g: unknown, o: unknown): Promise<string>;
    };
    expect(() => addon.bootstrapF1(t, p.subarray(1), null, "{}")).toThrow(/length mismatch/);
    expect(() => addon.bootstrapF1(t, Int32Array.from([0, 1, -2, 0]), null, "{}")).toThrow(/non-negative/);
    expect(() => addon.bootstrapF1(t, Float64Array.from(p), null, "{}")).toThrow(/Int32Array/);
    expect(() => addon.bootstrapF1(t, p, Int32Array.from([0, 0, 1, 1]), "{}")).toThrow(/Uint32Array/);
    expect(() => addon.bootstrapF1(t, p, Uint32Array.from([0, 0, 1]), "{}")).toThrow(/groups/);
    expect(() => addon.bootstrapF1(new Int32Array(0), new Int32Array(0), null, "{}")).toThrow(/empty/);
    expect(() => addon.bootstrapF1(t, p, null, '{"ci": 2}')).toThrow(/ci/);
    expect(() => addon.bootstrapF1(t, p, null, '{"unit": "episode"}')).toThrow(/needs groups/);
    expect(() => addon.bootstrapF1(t, p, null, "{not json")).toThrow(/options/);
    expect(() => addon.bootstrapF1(t, p, null, 5)).toThrow(/string/);
    expect(() => addon.pairedBootstrap(t, p, p.subarray(2), null, "{}")).toThrow(/predB/);
    expect(() => addon.bootstrapF1(t, p, null, '{"labels": [1, 0]}')).toThrow(/sorted and distinct/);
    expect(() => addon.bootstrapF1(t, p, null, '{"labels": []}')).toThrow(/at least one/);
  });

  it("the API rejects them", async () => {
    await expect(bootstrapF1(t, [0, 1, 1], null)).rejects.toThrow(/length mismatch/);
    await expect(bootstrapF1(t, [0, 1, 1.5, 0], null)).rejects.toThrow(/integers/);
    await expect(bootstrapF1(t, p, null, { resamples: 0 })).rejects.toThrow(/resamples/);
    await expect(bootstrapF1(t, p, null, { seed: -1 })).rejects.toThrow(/seed/);
    await expect(bootstrapF1(t, p, null, { unit: "episode" })).rejects.toThrow(/needs groups/);
    await expect(bootstrapF1([], [], null)).rejects.toThrow(/empty/);
    await expect(pairedBootstrap(t, p, [0], [1, 1, 2, 2])).rejects.toThrow(/predB/);
    await expect(bootstrapF1(t, p, null, { labels: [0, 0, 1] })).rejects.toThrow(/sorted and distinct/);
    await expect(bootstrapF1(t, p, null, { labels: [0, 1.5] })).rejects.toThrow(/non-negative integers/);
    expect(() => f1Scores(t, p, [])).toThrow(/at least one/);
    expect(() => confusionMatrix([0, 1], [0])).toThrow(/length mismatch/);
    expect(() => f1Scores([0, -1], [0, 1])).toThrow(/non-negative/);
  });
});
