// `cis490 train` end to end on a tiny separable toy set (tests/helpers/train-toy.ts):
// every model learns it (validation macro F1 well above chance), its
// checkpoint loads back and predicts the unseen test host, and training is
// deterministic for a given seed.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TorchModel } from "../src/engines/index.js";
import { f1Scores } from "../src/stats/metrics.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { argmaxRows } from "../src/train/loop.js";
import { trainModel } from "../src/train/run.js";
import { MODEL_KINDS, isSequenceKind } from "../src/train/types.js";
import { loadWindowSet } from "../src/train/windows.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-train-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let toy: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"));
});

const CHANCE = 1 / 6;

describe("every model learns a separable toy problem", () => {
  for (const kind of MODEL_KINDS) {
    it(`${kind}: beats chance on val, reloads, predicts the test host`, async () => {
      const out = join(root, `models-${kind}`);
      const r = await trainModel(quick(toy, kind, out));
      const sc = r.sidecar;
      // The toy's signal is a level shift; MiniRocket's kernels sum to zero, so it
      // sees a level only through the zero padding at the window's edges.
      const floor = kind === "minirocket" ? 2 * CHANCE : Math.max(0.6, 3 * CHANCE);
      expect(sc.best.val_macro_f1).toBeGreaterThan(floor);
      expect(sc.kind).toBe(kind);
      expect(sc.classes).toHaveLength(6);
      expect(sc.feature_schema_hash).toBe(toy.schema.hash);
      expect(sc.history.length).toBeGreaterThan(0);
      expect(sc.history.every((h) => h.val_macro_f1 >= 0 && h.val_macro_f1 <= 1)).toBe(true);
      expect(sc.training.n_train).toBe(4 * 4 * 18);
      expect(sc.training.n_val).toBe(4 * 18);
      expect(sc.standardisation === null).toBe(kind === "gbt" || kind === "minirocket");
      expect(sc.engine.name).toBe(kind === "gbt" ? "xgboost" : kind === "minirocket" ? "cis490-minirocket" : "libtorch");

      const model = await loadCheckpoint(r.sidecarPath, toy.schema as unknown as { hash: string } & Record<string, unknown>);
      const test = await loadWindowSet(toy.features, toy.split, "test");
      expect(test.label.length).toBe(4 * 18);
      const proba = await model.predictProba(toy.features, isSequenceKind(kind) ? toy.tensors : null, test);
      expect(proba.length).toBe(test.label.length * 6);
      for (let i = 0; i < test.label.length; i++) {
        let s = 0;
        for (let c = 0; c < 6; c++) s += proba[i * 6 + c];
        expect(s).toBeCloseTo(1, 4);
      }
      const f1 = f1Scores(test.label, argmaxRows(proba, test.label.length, 6)).macroF1;
      expect(f1).toBeGreaterThan(kind === "minirocket" ? 2 * CHANCE : 0.5);

      // Val predictions through the checkpoint reproduce the best epoch's score.
      const val = await loadWindowSet(toy.features, toy.split, "val");
      const pv = await model.predictProba(toy.features, isSequenceKind(kind) ? toy.tensors : null, val);
      expect(f1Scores(val.label, argmaxRows(pv, val.label.length, 6)).macroF1).toBeCloseTo(sc.best.val_macro_f1, 6);
    });
  }
});

describe("determinism", () => {
  it("minirocket: same seed -> same state; another seed -> another transform", async () => {
    const opts = (seed: number, out: string) => quick(toy, "minirocket", join(root, out), { seed, minirocket: { num_features: 168, epochs: 2, patience: 0 } });
    const a = await trainModel(opts(5, "mr-a"));
    const b = await trainModel(opts(5, "mr-b"));
    const c = await trainModel(opts(6, "mr-c"));
    expect(readFileSync(a.weightsPath, "utf8")).toBe(readFileSync(b.weightsPath, "utf8"));
    const t = (p: string) => JSON.stringify(JSON.parse(readFileSync(p, "utf8")).transform.channels);
    expect(t(c.weightsPath)).not.toBe(t(a.weightsPath));
  });

  async function weightsHash(sidecarPath: string): Promise<string> {
    const sc = JSON.parse(readFileSync(sidecarPath, "utf8"));
    const cfg = { ...sc.hyper_parameters.torch_config, threads: 1, device: "cpu" };
    const m = new TorchModel(cfg);
    await m.load(join(sidecarPath, "..", sc.weights_file));
    const h = await m.parameterHash();
    await m.dispose();
    return h;
  }

  it("same seed -> same weights (gru, mlp); another seed -> other weights", async () => {
    for (const kind of ["gru", "mlp"] as const) {
      const opts = (seed: number, out: string) => quick(toy, kind, join(root, out), { seed, neural: { epochs: 3, batch_size: 32, lr: 3e-3, hidden: 16, layers: 1, patience: 0, dropout: 0.3 } });
      const a = await trainModel(opts(5, `det-${kind}-a`));
      const b = await trainModel(opts(5, `det-${kind}-b`));
      const c = await trainModel(opts(6, `det-${kind}-c`));
      const ha = await weightsHash(a.sidecarPath);
      expect(await weightsHash(b.sidecarPath)).toBe(ha);
      expect(await weightsHash(c.sidecarPath)).not.toBe(ha);
      expect(b.sidecar.history.map((h) => h.train_loss)).toEqual(a.sidecar.history.map((h) => h.train_loss));
      expect(b.sidecar.standardisation).toEqual(a.sidecar.standardisation);
    }
  });

  it("same seed -> same GBT model JSON", async () => {
    const a = await trainModel(quick(toy, "gbt", join(root, "det-gbt-a"), { gbt: { rounds: 15, max_depth: 3, eta: 0.3, subsample: 0.7, colsample_bytree: 0.7 } }));
    const b = await trainModel(quick(toy, "gbt", join(root, "det-gbt-b"), { gbt: { rounds: 15, max_depth: 3, eta: 0.3, subsample: 0.7, colsample_bytree: 0.7 } }));
    expect(readFileSync(b.weightsPath, "utf8")).toBe(readFileSync(a.weightsPath, "utf8"));
    expect(b.sidecar.weights_sha256).toBe(a.sidecar.weights_sha256);
  });
});
