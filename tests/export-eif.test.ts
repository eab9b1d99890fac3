// `cis490 export` of an extended isolation forest: trained on the toy set's
// clean windows (ndim 1 and ndim 3, so both the one-feature and the padded
// hyperplane paths run), exported as standard opset-17 ops, run by
// onnxruntime-node at batch sizes 1, 7 and 64 on real windows roughened
// with NaN / +-inf and on far-out rows, and compared with the native
// scorer: max |d score| <= 1e-12 (both in float64) and the same alerts.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainEif, loadEifCheckpoint } from "../src/anomaly/train.js";
import { exportCheckpoint } from "../src/deploy/export.js";
import { OnnxModel } from "../src/deploy/session.js";
import { FEATURE_NAMES } from "../src/features/channels.js";
import { loadWindowSet, readFeatureRows } from "../src/train/windows.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-export-eif-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const W = FEATURE_NAMES.length;
let toy: Toy;
let rows: Float32Array;
let n: number;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"), { perClass: 6 });
  const windows = await loadWindowSet(toy.features, toy.split, "test");
  const real = await readFeatureRows(toy.features, windows, FEATURE_NAMES);
  const m = windows.episode_id.length;
  // The real windows roughened (8% NaN, 1% +inf, 1% -inf), then 16 of them far outside the training box.
  n = m + 16;
  rows = new Float32Array(n * W);
  rows.set(real);
  let a = 12345;
  const u = () => ((a = (a * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < m * W; i++) {
    const v = u();
    if (v < 0.08) rows[i] = Number.NaN;
    else if (v < 0.09) rows[i] = Infinity;
    else if (v < 0.1) rows[i] = -Infinity;
  }
  for (let k = 0; k < 16; k++) for (let f = 0; f < W; f++) rows[(m + k) * W + f] = real[(k % m) * W + f] * (k % 2 === 0 ? 50 : -20) + 1e3;
});

const pythonOnnx = spawnSync("/usr/bin/python3", ["-c", "import onnx"]).status === 0;

describe("EIF export parity: onnxruntime vs the native scorer", () => {
  for (const ndim of [1, 3]) {
    it(`ndim ${ndim}`, async () => {
      const out = join(root, `ndim${ndim}`);
      const r = await trainEif({ mode: "realistic", features: toy.features, split: toy.split, out, seed: 5, threads: 1, eif: { n_trees: 40, subsample: 64, ndim } });
      const onnxPath = join(out, "eif.onnx");
      const ex = await exportCheckpoint(r.sidecarPath, onnxPath);
      expect(ex.kind).toBe("eif");
      expect(ex.metadata.feature_schema_hash).toBe(toy.schema.hash);
      expect(ex.metadata.anomaly?.threshold).toBe(r.sidecar.threshold);
      expect(ex.metadata.anomaly?.inputs).toEqual(r.sidecar.training.inputs);
      expect(ex.metadata.classes).toEqual([]);

      // The native scorer on the mode's columns.
      const { detector, columns } = await loadEifCheckpoint(r.sidecarPath);
      const modeIdx = columns.map((c) => FEATURE_NAMES.indexOf(c));
      const modeRows = new Float32Array(n * columns.length);
      for (let i = 0; i < n; i++) modeIdx.forEach((f, j) => (modeRows[i * columns.length + j] = rows[i * W + f]));
      const expected = await detector.scoreSamples({ x: modeRows, n, width: columns.length });
      const t = r.sidecar.threshold;
      const alerts = Array.from(expected, (s) => (s > t ? 1 : 0));
      expect(alerts.some((v) => v === 1) && alerts.some((v) => v === 0)).toBe(true);

      const model = await OnnxModel.load(onnxPath);
      try {
        await expect(model.predict({ n: 1, features: rows.subarray(0, W) })).rejects.toThrow(/anomaly detector/);
        for (const batch of [1, 7, 64]) {
          const score = new Float64Array(n);
          const alert: number[] = [];
          for (let from = 0; from < n; from += batch) {
            const to = Math.min(n, from + batch);
            const got = await model.scoreAnomaly(rows.slice(from * W, to * W), to - from);
            score.set(got.score, from);
            alert.push(...got.alert);
          }
          const d = Math.max(...score.map((s, i) => Math.abs(s - expected[i])));
          expect(d, `batch ${batch}: max |d score| = ${d}`).toBeLessThanOrEqual(1e-12);
          // Alerts identical except within the tolerance of the threshold.
          alert.forEach((v, i) => {
            if (Math.abs(expected[i] - t) > 1e-12) expect(v, `row ${i}`).toBe(alerts[i]);
          });
        }
      } finally {
        await model.close();
      }

      if (pythonOnnx) {
        const check = spawnSync("/usr/bin/python3", ["-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import)", onnxPath], { encoding: "utf8" });
        expect(check.status, check.stderr).toBe(0);
      }
    });
  }

  it("cis490 export dispatches on the anomaly checkpoint and refuses a changed forest", async () => {
    const out = join(root, "cli");
    const r = await trainEif({ mode: "oracle", features: toy.features, split: toy.split, out, seed: 2, threads: 1, eif: { n_trees: 8, subsample: 32 } });
    const ok = await runCli(["export", "--checkpoint", r.sidecarPath, "--out", join(out, "m.onnx"), "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout) as { kind: string; mode: string; metadata: { anomaly: { n_trees: number } } };
    expect([doc.kind, doc.mode, doc.metadata.anomaly.n_trees]).toEqual(["eif", "oracle", 8]);
    const detect = await runCli(["detect", "--model", join(out, "m.onnx"), "--store", toy.dir, "--out", join(out, "det.jsonl")]);
    expect(detect.code).toBe(1);
    expect(detect.stderr).toMatch(/anomaly detector/);
    const { writeFileSync, readFileSync } = await import("node:fs");
    writeFileSync(r.weightsPath, readFileSync(r.weightsPath, "utf8").replace(/"threshold":/, '"threshold": '));
    const bad = await runCli(["export", "--checkpoint", r.sidecarPath, "--out", join(out, "bad.onnx")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sha256/);
  });
});
