// `cis490 export` of the autoencoder: trained on the toy set's clean windows,
// exported as standard opset-17 ops (imputation, min-max scaling, Linear as
// MatMul+Add, BatchNormalization with running statistics, Relu, Sigmoid,
// ReduceMean), run by onnxruntime-node at batch sizes 1, 7 and 64 on real
// windows roughened with NaN / +-inf and on far-out rows, and compared with
// the engine: max |d score| <= 1e-5 * max(1, |score|) (both float32 nets), the same
// alerts away from the threshold, latent and reconstruction within 1e-4.
// The ensemble exports as both members' graphs plus the ECDF ranks: equal
// to 1e-6 but for a member score that rounds across a reference value.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAnomalyDetector } from "../src/anomaly/loader.js";
import { trainAe } from "../src/anomaly/train-ae.js";
import { trainEnsemble } from "../src/anomaly/train-ensemble.js";
import { trainEif } from "../src/anomaly/train.js";
import { exportCheckpoint } from "../src/deploy/export.js";
import { OnnxModel } from "../src/deploy/session.js";
import { FEATURE_NAMES } from "../src/features/channels.js";
import { loadWindowSet, readFeatureRows } from "../src/train/windows.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-export-ae-"));
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
  n = m + 16;
  rows = new Float32Array(n * W);
  rows.set(real);
  let a = 4321;
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
const fast = { epochs: 4, batch_size: 32, threads: 1, device: "cpu" as const };

describe("autoencoder export parity: onnxruntime vs the engine", () => {
  it("score, alert, latent and reconstruction", async () => {
    const out = join(root, "ae");
    const r = await trainAe({ mode: "realistic", features: toy.features, split: toy.split, out, seed: 3, threads: 1, ae: fast });
    const onnxPath = join(out, "ae.onnx");
    const ex = await exportCheckpoint(r.sidecarPath, onnxPath);
    expect(ex.kind).toBe("ae");
    expect(ex.metadata.anomaly?.threshold).toBe(r.sidecar.threshold);
    expect(ex.metadata.anomaly?.inputs).toEqual(r.sidecar.training.inputs);

    const det = await loadAnomalyDetector(r.sidecarPath);
    const idx = det.columns.map((c) => FEATURE_NAMES.indexOf(c));
    const modeRows = new Float32Array(n * idx.length);
    for (let i = 0; i < n; i++) idx.forEach((f, j) => (modeRows[i * idx.length + j] = rows[i * W + f]));
    const mode = { x: modeRows, n, width: idx.length };
    const expected = await det.scoreSamples(mode);
    const latent = await det.latent!(mode);
    await det.dispose();
    const t = r.sidecar.threshold;
    const alerts = Array.from(expected, (s) => (s > t ? 1 : 0));
    expect(alerts.some((v) => v === 1) && alerts.some((v) => v === 0)).toBe(true);

    const model = await OnnxModel.load(onnxPath);
    let worst = 0;
    try {
      for (const batch of [1, 7, 64]) {
        const score = new Float64Array(n);
        const alert: number[] = [];
        for (let from = 0; from < n; from += batch) {
          const to = Math.min(n, from + batch);
          const got = await model.scoreAnomaly(rows.slice(from * W, to * W), to - from);
          score.set(got.score, from);
          alert.push(...got.alert);
        }
        score.forEach((s, i) => {
          const d = Math.abs(s - expected[i]);
          worst = Math.max(worst, d / Math.max(1, Math.abs(expected[i])));
          expect(d, `batch ${batch} row ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i])));
        });
        alert.forEach((v, i) => {
          if (Math.abs(expected[i] - t) > 1e-5 * Math.max(1, t)) expect(v, `row ${i}`).toBe(alerts[i]);
        });
      }
    } finally {
      await model.close();
    }
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(onnxPath);
    const got = await session.run({ features: new ort.Tensor("float32", rows, [n, W]) }, ["latent", "reconstruction"]);
    const z = got.latent.data as Float32Array;
    expect(z.length).toBe(n * 16);
    expect(Math.max(...z.map((v, i) => Math.abs(v - latent[i])))).toBeLessThanOrEqual(1e-4 * Math.max(1, ...latent.map(Math.abs)));
    expect((got.reconstruction.data as Float32Array).length).toBe(n * r.sidecar.ae!.kept.length);
    await session.release();
    console.log(`ae export parity: max relative |d score| = ${worst.toExponential(2)} over ${n} rows`);

    if (pythonOnnx) {
      const check = spawnSync("/usr/bin/python3", ["-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)", onnxPath], { encoding: "utf8" });
      expect(check.status, check.stderr).toBe(0);
    }

    // The ensemble: both members' graphs, ECDF ranks with the log tail, weights.
    await trainEif({ mode: "realistic", features: toy.features, split: toy.split, out, seed: 3, threads: 1, eif: { n_trees: 20, subsample: 32 } });
    const ens = await trainEnsemble({ mode: "realistic", out, weights: [1, 3] });
    const cli = await runCli(["export", "--checkpoint", ens.sidecarPath, "--out", join(out, "ens.onnx"), "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const ensDet = await loadAnomalyDetector(ens.sidecarPath);
    const want = await ensDet.scoreSamples(mode);
    await ensDet.dispose();
    const em = await OnnxModel.load(join(out, "ens.onnx"));
    const eg = await em.scoreAnomaly(rows, n);
    await em.close();
    // A member score within float32 rounding of a reference value may land one ECDF step away: at most weight / R.
    const R = ens.sidecar.training.n_calibration;
    const d = Array.from(eg.score, (v, i) => Math.abs(v - want[i]));
    const off = d.filter((v) => v > 1e-6);
    expect(off.length, `rows off by more than 1e-6: ${off.length}`).toBeLessThanOrEqual(Math.ceil(0.02 * n));
    expect(Math.max(...d)).toBeLessThanOrEqual(0.75 / R + 1e-6);
    expect(want.some((v) => v > 1)).toBe(true); // far-out rows reach the log tail
    console.log(`ensemble export parity: ${n - off.length} of ${n} rows within 1e-6, max |d score| = ${Math.max(...d).toExponential(2)}`);
  });
});
