// The small pieces of the training loop: learning-rate schedule, class
// weights, scaling (missing values, masks, dead inputs), batching, schema diffs.

import { describe, expect, it } from "vitest";
import { describeSchemaChange } from "../src/train/checkpoint.js";
import { stepsPerEpoch } from "../src/train/loop.js";
import { classWeights } from "../src/train/run.js";
import { warmupCosine } from "../src/train/schedule.js";
import { Standardiser, infinitiesToNaN, symlog } from "../src/train/standardise.js";

describe("warmupCosine", () => {
  it("warms up linearly over 5% of the steps, peaks at lr, decays to ~0 by cosine", () => {
    const s = warmupCosine(1e-3, 1000, 0.05);
    expect(s.warmupSteps).toBe(50);
    expect(s.at(0)).toBeCloseTo(1e-3 / 50, 12);
    expect(s.at(49)).toBeCloseTo(1e-3, 12);
    expect(s.at(50)).toBeCloseTo(1e-3, 12);
    expect(s.at(525)).toBeCloseTo(5e-4, 6);
    expect(s.at(999)).toBeGreaterThan(0);
    expect(s.at(999)).toBeLessThan(1e-8);
    for (let i = 51; i < 1000; i++) expect(s.at(i)).toBeLessThanOrEqual(s.at(i - 1));
    expect(() => warmupCosine(0, 10)).toThrow(/positive/);
  });
});

describe("classWeights", () => {
  it("is n / (k n_c) over present classes (mean 1 over windows), clipped to [0.1, 10]", () => {
    const counts = [100, 300, 600, 0, 0, 0];
    const w = classWeights(counts);
    const n = 1000;
    expect(w[0]).toBeCloseTo(n / (3 * 100), 12);
    expect(w[2]).toBeCloseTo(n / (3 * 600), 12);
    expect(counts.reduce((s, c, k) => s + c * w[k], 0) / n).toBeCloseTo(1, 12);
    expect(w[3]).toBe(1);
    const skewed = classWeights([10000, 1, 10000, 10000, 10000, 10000]);
    expect(skewed[1]).toBe(10);
    expect(classWeights([1, 1e6]).every((v) => v >= 0.1 && v <= 10)).toBe(true);
  });
});

describe("Standardiser", () => {
  it("fits on finite observed values, maps missing to 0 / mask 0, drops inputs with no training value", () => {
    // 3 rows x 2 inputs x 2 steps; input 1 is never observed.
    const x = Float32Array.from([1, 3, NaN, 9, 5, Infinity, 7, 7, 3, 1, 0, 0]);
    const mask = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    // input 1's values: NaN, 9 (rows 0), 7, 7 (row 1), masked (row 2) -> finite observed: 9, 7, 7
    const s = new Standardiser("none").fit(x, mask, 2, 2);
    const st = s.stats();
    expect(st.mean[0]).toBeCloseTo((1 + 3 + 5 + 3 + 1) / 5, 12);
    expect(st.mean[1]).toBeCloseTo(23 / 3, 12);
    const dead = Float32Array.from([NaN, NaN, NaN, NaN]);
    const sd = new Standardiser("symlog").fit(dead, null, 2, 2);
    expect(sd.stats().std).toEqual([0, 0]);
    expect(sd.allMissing).toEqual([0, 1]);
    const y = Float32Array.from([5, 5, 5, 5]);
    const ym = Uint8Array.from([1, 1, 1, 1]);
    sd.apply(y, ym, 2);
    expect(Array.from(y)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ym)).toEqual([0, 0, 0, 0]);

    const xs = x.slice();
    const ms = mask.slice();
    s.apply(xs, ms, 2);
    expect(Array.from(xs).every(Number.isFinite)).toBe(true);
    expect(xs[2]).toBe(0); // NaN
    expect(ms[2]).toBe(0);
    expect(xs[5]).toBe(0); // +inf
    expect(ms[5]).toBe(0);
    expect(ms[10]).toBe(0);
    // Round trip through the stored statistics.
    const back = Standardiser.fromStats(st, "none");
    const xb = x.slice();
    const mb = mask.slice();
    back.apply(xb, mb, 2);
    expect(Array.from(xb)).toEqual(Array.from(xs));
  });

  it("symlog is odd and log1p-shaped; infinities become NaN for XGBoost", () => {
    expect(symlog(0)).toBe(0);
    expect(symlog(-Math.E + 1)).toBeCloseTo(-1, 12);
    const x = Float32Array.from([1, Infinity, -Infinity, NaN]);
    expect(infinitiesToNaN(x)).toBe(2);
    expect(Number.isNaN(x[1]) && Number.isNaN(x[2]) && x[0] === 1).toBe(true);
  });
});

describe("stepsPerEpoch", () => {
  it("keeps a partial last batch unless it has a single window", () => {
    expect(stepsPerEpoch(512, 256)).toBe(2);
    expect(stepsPerEpoch(513, 256)).toBe(2);
    expect(stepsPerEpoch(514, 256)).toBe(3);
    expect(stepsPerEpoch(1, 256)).toBe(0);
  });
});

describe("describeSchemaChange", () => {
  it("names changed parameters and the first differing channel", () => {
    const a = { version: 1, window_s: 10, stride_s: 5, hz: 10, tensor_len: 100, channels: [{ name: "a", kind: "level", deployed: true }, { name: "b", kind: "level", deployed: false }], stats: ["mean"], features: ["a.mean", "b.mean"], phases: ["clean"] };
    const b = { ...a, window_s: 5, tensor_len: 50, channels: [a.channels[0], { name: "c", kind: "counter", deployed: false }] };
    const d = describeSchemaChange(a, b);
    expect(d).toContain("window_s 10 -> 5");
    expect(d).toContain("tensor_len 100 -> 50");
    expect(d.join("; ")).toMatch(/channel list differs at index 1: b \(level\) -> c \(counter\)/);
    expect(describeSchemaChange(a, a)[0]).toMatch(/no compared field differs/);
  });
});
