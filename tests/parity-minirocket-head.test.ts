// Parity: the native MiniRocket head (crates/cis490-core/src/minirocket_head.rs
// via minirocketHeadFit) and its TypeScript twin (src/reference/minirocket-head.ts)
// on generated PPV-like features: all-zero columns, a class absent from
// training, a batch size that does not divide n (down to a last batch of
// one row), early stopping. Every sum runs in the same order in both, so
// the standardisation, the history's shape and the best epoch are
// identical; weights, bias and losses only go through exp/log, where V8
// and libm may differ by an ulp, hence the 1e-9 relative tolerance.
// Native results at 1 and 3 threads are identical.

import { describe, expect, it } from "vitest";
import { loadCis490Addon } from "../src/native/addon.js";
import { Mulberry32 } from "../src/reference/minirocket.js";
import { fitMiniRocketHead, type MiniRocketHeadOptions } from "../src/reference/minirocket-head.js";
import { runNativeSuites } from "./helpers/native.js";

/** PPV-like rows (multiples of 1/91 in [0, 1]): every 9th column all zero, every 11th constant; labels from `classes`. */
function rows(n: number, F: number, classes: number[], K: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = new Mulberry32(seed);
  const y = Int32Array.from({ length: n }, () => classes[r.below(classes.length)]);
  const x = new Float32Array(n * F);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) {
      if (j % 9 === 4) continue;
      const signal = j % K === y[i] ? 0.3 : 0;
      x[i * F + j] = j % 11 === 6 ? 0.5 : Math.min(1, Math.floor((r.uniform() * 0.7 + signal) * 91) / 91);
    }
  }
  return { x, y };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(a[i]), Math.abs(b[i])));
  expect(worst).toBeLessThanOrEqual(rel);
}

describe.runIf(runNativeSuites)("minirocket head native vs twin", () => {
  const addon = loadCis490Addon();
  const cases: Array<{ name: string; n: number; nVal: number; F: number; K: number; trainClasses: number[]; cw: number[]; o: MiniRocketHeadOptions; stopped: string }> = [
    {
      name: "class 3 absent from training, batch 64 of 300 rows, patience 2",
      n: 300, nVal: 90, F: 250, K: 4, trainClasses: [0, 1, 2], cw: [1, 1.7, 0.6, 1],
      o: { epochs: 25, patience: 2, batch_size: 64, lr: 2e-2, l2: 1e-3, seed: 490 },
      stopped: "early-stopping",
    },
    {
      name: "last batch of one row, no early stopping, no L2",
      n: 257, nVal: 40, F: 168, K: 3, trainClasses: [0, 1, 2], cw: [0.5, 2, 1],
      o: { epochs: 5, patience: 0, batch_size: 128, lr: 1e-3, l2: 0, seed: 4294967295 },
      stopped: "max-epochs",
    },
    {
      name: "no validation rows: macro F1 NaN, no best epoch, zero weights",
      n: 50, nVal: 0, F: 30, K: 2, trainClasses: [0, 1], cw: [1, 1],
      o: { epochs: 5, patience: 2, batch_size: 16, lr: 1e-2, l2: 1e-3, seed: 0 },
      stopped: "early-stopping",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const train = rows(c.n, c.F, c.trainClasses, c.K, c.o.seed ^ 1);
      const val = rows(c.nVal, c.F, [...Array(c.K).keys()], c.K, c.o.seed ^ 2);
      const cw = Float32Array.from(c.cw);
      const native = [];
      for (const jobs of [1, 3]) native.push(await addon.minirocketHeadFit(train.x, train.y, val.x, val.y, c.F, cw, JSON.stringify(c.o), jobs));
      // The twin standardises in place: give it copies (the native call copied its own).
      const twin = fitMiniRocketHead({ x: train.x.slice(), y: train.y }, { x: val.x.slice(), y: val.y }, c.F, cw, c.o);
      const [a, b] = native;
      expect(b).toEqual(Object.assign({}, a, { seconds: b.seconds }));
      expect(a.stopped).toBe(c.stopped);
      expect(twin.stopped).toBe(c.stopped);
      expect(a.best_epoch).toBe(twin.best.epoch);
      expect(a.best_val_macro_f1).toBe(twin.best.val_macro_f1);
      expect(a.train_loss.length).toBe(twin.history.length);
      expect([...a.val_macro_f1]).toEqual(twin.history.map((h) => h.val_macro_f1));
      expectClose(a.train_loss, twin.history.map((h) => h.train_loss), 1e-9);
      expect(a.mean).toEqual(twin.mean);
      expect(a.std).toEqual(twin.std);
      expect(a.std[4]).toBe(1); // an all-zero column
      expect(a.std[6]).toBe(1); // a constant one
      expectClose(a.weights, twin.weights, 1e-9);
      expectClose(a.bias, twin.bias, 1e-9);
      // The head learnt something, and the best epoch is the history's best.
      expect(twin.history.at(-1)!.train_loss).toBeLessThan(twin.history[0].train_loss);
      if (c.nVal > 0) expect(twin.best.val_macro_f1).toBe(Math.max(...twin.history.map((h) => h.val_macro_f1)));
      else expect([a.best_epoch, a.best_val_macro_f1, a.weights.every((v) => v === 0), Number.isNaN(a.val_macro_f1[0])]).toEqual([0, -1, true, true]);
      // Early stopping after `patience` epochs without improvement.
      if (c.o.patience > 0) expect(twin.history.length).toBe(twin.best.epoch + c.o.patience);
    });
  }

  it("refuses bad arguments with a clear message", async () => {
    const t = rows(10, 5, [0, 1], 2, 1);
    const ok = JSON.stringify({ epochs: 1, patience: 0, batch_size: 4, lr: 1e-3, l2: 0, seed: 0 });
    const cw = Float32Array.of(1, 1);
    expect(() => addon.minirocketHeadFit(t.x.subarray(1), t.y, t.x, t.y, 5, cw, ok, 1)).toThrow(/rows x features/);
    expect(() => addon.minirocketHeadFit(t.x, t.y, t.x, t.y, 5, Float32Array.of(1), ok, 1)).toThrow(/label 1 is not a class index/);
    expect(() => addon.minirocketHeadFit(t.x, t.y, t.x, t.y, 5, cw, "{}", 1)).toThrow(/missing field/);
    expect(() => addon.minirocketHeadFit(t.x, t.y, t.x, t.y, 5, cw, JSON.stringify({ ...JSON.parse(ok), batch_size: 0 }), 1)).toThrow(/batch_size/);
    expect(() => addon.minirocketHeadFit(t.x, Float64Array.from(t.y) as unknown as Int32Array, t.x, t.y, 5, cw, ok, 1)).toThrow(/Int32Array/);
    // Inputs are copied: the caller's features are not standardised behind its back.
    const before = t.x.slice();
    await addon.minirocketHeadFit(t.x, t.y, t.x, t.y, 5, cw, ok, 1);
    expect(t.x).toEqual(before);
  });
});
