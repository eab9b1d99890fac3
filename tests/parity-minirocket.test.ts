// Parity: the native MiniRocket (crates/cis490-core/src/minirocket.rs via
// minirocketFit / minirocketTransform) and the TypeScript twin
// (src/reference/minirocket.ts) must give the identical model (every bias,
// channel set and statistic) and identical features for a seed, including
// masked steps, NaN under the mask, constant and unobserved channels.

import { describe, expect, it } from "vitest";
import { loadCis490Addon } from "../src/native/addon.js";
import { fitDilations, fitMiniRocket, kernelIndices, Mulberry32, transformMiniRocket, type MiniRocketModel } from "../src/reference/minirocket.js";
import { runNativeSuites } from "./helpers/native.js";

function data(n: number, c: number, l: number, seed: number, missing: number): { x: Float32Array; mask: Uint8Array } {
  const r = new Mulberry32(seed);
  const x = new Float32Array(n * c * l);
  const mask = new Uint8Array(n * c * l);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / l) % c;
    // Mixed scales and shapes per channel: a trend, a spike train, a big offset.
    x[i] = ch % 3 === 0 ? (i % l) * 0.37 + r.uniform() : ch % 3 === 1 ? (r.uniform() < 0.1 ? 50 : 0) : 1e4 + r.uniform() * 3;
    mask[i] = r.uniform() >= missing ? 1 : 0;
    if (!mask[i] && r.uniform() < 0.5) x[i] = Number.NaN;
  }
  return { x, mask };
}

describe("minirocket twin (no addon needed)", () => {
  it("has the paper's 84 kernels and the reference dilations for 100 steps", () => {
    expect(kernelIndices()).toHaveLength(84);
    const { dilations, featuresPerDilation } = fitDilations(100, 10_000, 32);
    expect(dilations).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(featuresPerDilation.reduce((a, b) => a + b, 0)).toBe(119);
  });

  it("ignores values under the mask and never yields NaN", () => {
    const { x, mask } = data(12, 4, 30, 5, 0.3);
    const m = fitMiniRocket(x, mask, 12, 4, 30, { num_features: 336, max_dilations_per_kernel: 32, seed: 1 });
    const f = transformMiniRocket(m, x, mask, 12);
    expect(f.every((v) => v >= 0 && v <= 1)).toBe(true);
    const y = x.map((v, i) => (mask[i] ? v : 1e30));
    expect(transformMiniRocket(m, y, mask, 12)).toEqual(f);
    // The transform is informative: not every feature is constant over windows.
    const nf = m.biases.length;
    let varying = 0;
    for (let j = 0; j < nf; j++) if (f[j] !== f[nf + j] || f[j] !== f[2 * nf + j]) varying++;
    expect(varying).toBeGreaterThan(nf / 4);
  });
});

describe.runIf(runNativeSuites)("minirocket native vs twin", () => {
  const addon = loadCis490Addon();
  const cases: Array<{ n: number; c: number; l: number; missing: number; features: number; seed: number }> = [
    { n: 10, c: 1, l: 9, missing: 0, features: 84, seed: 0 },
    { n: 15, c: 3, l: 25, missing: 0.2, features: 500, seed: 7 },
    { n: 20, c: 12, l: 100, missing: 0.35, features: 1000, seed: 490 },
    { n: 6, c: 5, l: 64, missing: 0.95, features: 168, seed: 4294967295 },
  ];
  for (const k of cases) {
    it(`n=${k.n} C=${k.c} L=${k.l} missing=${k.missing} features=${k.features} seed=${k.seed}`, async () => {
      const { x, mask } = data(k.n, k.c, k.l, k.seed ^ 0x5a5a, k.missing);
      // A channel never observed in any window, when there is room for one.
      if (k.c > 2) for (let w = 0; w < k.n; w++) mask.fill(0, (w * k.c + 1) * k.l, (w * k.c + 2) * k.l);
      const opts = { num_features: k.features, max_dilations_per_kernel: 32, seed: k.seed };
      const twin = fitMiniRocket(x, mask, k.n, k.c, k.l, opts);
      const json = await addon.minirocketFit(x, mask, k.n, k.c, k.l, JSON.stringify(opts));
      const native = JSON.parse(json) as MiniRocketModel;
      expect(native).toEqual(twin);
      const fTwin = transformMiniRocket(twin, x, mask, k.n);
      for (const jobs of [1, 3]) expect(await addon.minirocketTransform(json, x, mask, k.n, jobs)).toEqual(fTwin);
    });
  }

  it("refuses bad arguments with a clear message", async () => {
    const { x, mask } = data(2, 2, 20, 1, 0);
    const ok = JSON.stringify({ num_features: 84, max_dilations_per_kernel: 32, seed: 0 });
    expect(() => addon.minirocketFit(x, mask, 3, 2, 20, ok)).toThrow(/n\*channels\*length/);
    expect(() => addon.minirocketFit(x, mask, 2, 2, 20, "{}")).toThrow(/num_features/);
    await expect(addon.minirocketFit(x, mask, 2, 2, 20, JSON.stringify({ num_features: 10, max_dilations_per_kernel: 32, seed: 0 }))).rejects.toThrow(/at least 84/);
    const json = await addon.minirocketFit(x, mask, 2, 2, 20, JSON.stringify({ num_features: 84, max_dilations_per_kernel: 32, seed: 0 }));
    expect(() => addon.minirocketTransform(json, x.subarray(1), mask, 2, 1)).toThrow(/\[n, 2, 20\]/);
    expect(() => addon.minirocketTransform("{}", x, mask, 2, 1)).toThrow(/minirocket model/);
    expect(() => addon.minirocketTransform(json, new Float64Array(80) as unknown as Float32Array, mask, 2, 1)).toThrow(/Float32Array/);
  });
});
