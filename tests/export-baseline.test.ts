// Export and detect for models trained on the host-invariant feature schemas
// (`features --baseline relative|append [--missing-indicators]`): the graph
// reads the schema's own summary vector / baseline-relative tensors, the
// metadata carries the schema options, and detect featurizes raw episodes
// with them (the baseline computed causally by the feature core), so it
// reproduces eval's probabilities. A model whose options this build cannot
// reproduce is refused, at export or at detect.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAnomalyDetector } from "../src/anomaly/loader.js";
import { trainAe } from "../src/anomaly/train-ae.js";
import { trainEnsemble } from "../src/anomaly/train-ensemble.js";
import { trainEif } from "../src/anomaly/train.js";
import { featureOptionsFor } from "../src/deploy/detect.js";
import { exportCheckpoint } from "../src/deploy/export.js";
import { summaryWidth, type ModelMetadata } from "../src/deploy/metadata.js";
import { OnnxModel } from "../src/deploy/session.js";
import { CHANNELS } from "../src/features/channels.js";
import type { CheckpointSidecar } from "../src/train/types.js";
import { loadWindowSet, readFeatureRows, type WindowSet } from "../src/train/windows.js";
import { runCli } from "./helpers/cli.js";
import { expectDetectMatchesEval, readDetectRows } from "./helpers/detect-parity.js";
import { engineProba, expectOnnxMatchesEngine, readInputs } from "./helpers/export-parity.js";

const root = mkdtempSync(join(tmpdir(), "cis490-export-baseline-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const p = (...s: string[]) => join(root, ...s);

async function ok(argv: string[]): Promise<string> {
  const r = await runCli(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} -> ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Schema variants: features dir, `features` flags, and the models trained on it. */
const VARIANTS = {
  relmiss: { flags: ["--baseline", "relative", "--missing-indicators", "--tensors"], models: ["gbt", "mlp", "cnn", "minirocket"] },
  append: { flags: ["--baseline", "append", "--baseline-s", "15"], models: ["gbt"] },
} as const;
type Variant = keyof typeof VARIANTS;
const features = (v: Variant) => p(v, "features_window.parquet");
const split = (v: Variant) => p(v, "split_host.parquet");

beforeAll(async () => {
  await ok(["synth", "--out", p("corpus"), "--episodes", "30", "--seed", "5"]);
  await ok(["validate", "--store", p("corpus"), "--out", p("acc.parquet")]);
  for (const [v, { flags, models }] of Object.entries(VARIANTS) as Array<[Variant, (typeof VARIANTS)[Variant]]>) {
    await ok(["features", "--store", p("corpus"), "--acceptance", p("acc.parquet"), "--out", p(v), "--jobs", "1", ...flags]);
    await ok(["split", "--features", features(v), "--recipe", "host", "--out", split(v)]);
    const train = ["train", "--features", features(v), "--split", split(v), "--out", p(`art-${v}`), "--threads", "1", "--allow-missing-class"];
    for (const m of models) {
      const extra = m === "gbt" ? ["--rounds", "15", "--max-depth", "3"] : m === "minirocket" ? ["--epochs", "3", "--minirocket-features", "336"] : ["--epochs", "3", "--hidden", "16", "--layers", "1"];
      await ok([...train, "--model", m, ...extra]);
      await ok(["export", "--checkpoint", p(`art-${v}`, `${m}_realistic.ckpt.json`), "--out", p("models", `${v}-${m}.onnx`)]);
    }
    await ok(["eval", "--artifacts", p(`art-${v}`), "--features", features(v), "--split", split(v), "--out", p(`reports-${v}`), "--resamples", "20"]);
  }
}, 600_000);

const cases = (Object.entries(VARIANTS) as Array<[Variant, (typeof VARIANTS)[Variant]]>).flatMap(([v, { models }]) => models.map((m) => [v, m] as const));

describe("export: baseline schemas", () => {
  for (const [v, kind] of cases) {
    it(`${v} ${kind}: metadata carries the schema options; onnxruntime = the training engine`, async () => {
      const ckpt = p(`art-${v}`, `${kind}_realistic.ckpt.json`);
      const sc = JSON.parse(readFileSync(ckpt, "utf8")) as CheckpointSidecar;
      const schema = sc.feature_schema as { stats: string[]; features: string[]; baseline: { seconds: number; tensors: boolean } };
      const model = await OnnxModel.load(p("models", `${v}-${kind}.onnx`));
      try {
        const meta = model.meta;
        expect(meta.feature_schema_hash).toBe(sc.feature_schema_hash);
        expect(meta.feature_options).toEqual({ stats: schema.stats, baseline_s: schema.baseline.seconds, tensor_baseline: schema.baseline.tensors });
        expect(meta.feature_options!.tensor_baseline).toBe(v === "relmiss");
        expect(meta.feature_options!.baseline_s).toBe(v === "append" ? 15 : 10);
        expect(summaryWidth(meta)).toBe(schema.features.length);
        expect(schema.features.length).not.toBe(230);
        // What detect will featurize with reproduces the trained schema.
        const o = featureOptionsFor(meta);
        expect(o.stats).toEqual(schema.stats);

        const val = await loadWindowSet(features(v), split(v), "val");
        const test = await loadWindowSet(features(v), split(v), "test");
        const windows: WindowSet = {
          episode_id: [...val.episode_id, ...test.episode_id],
          window: Int32Array.from([...val.window, ...test.window]),
          host_id: [...val.host_id, ...test.host_id],
          profile: [...val.profile, ...test.profile],
          label: Int32Array.from([...val.label, ...test.label]),
          t_center_s: Float64Array.from([...val.t_center_s, ...test.t_center_s]),
          infecting_start_s: Float64Array.from([...val.infecting_start_s, ...test.infecting_start_s]),
        };
        const inputs = await readInputs(sc, features(v), p(v, "tensors"), windows);
        const expected = await engineProba(ckpt, inputs);
        await expectOnnxMatchesEngine(model, inputs, expected, [1, 64]);
      } finally {
        await model.close();
      }
    });
  }
});


describe("detect: baseline schemas", () => {
  for (const [v, kind] of cases) {
    it(`${v} ${kind}: featurizing the raw store reproduces eval's probabilities on the test windows`, async () => {
      const out = p(`det-${v}-${kind}.jsonl`);
      await ok(["detect", "--model", p("models", `${v}-${kind}.onnx`), "--store", p("corpus"), "--out", out, "--jobs", "1"]);
      const rows = readDetectRows(out);
      expect(rows.filter((r) => r.window === null && r.verdict !== "unscored").length).toBeGreaterThan(20);

      await expectDetectMatchesEval(rows, p(`reports-${v}`, "predictions.parquet"), kind);
    });
  }

  it("--evaluate scores the policy of a baseline model against the store's labels", async () => {
    const doc = JSON.parse(await ok(["detect", "--model", p("models", "append-gbt.onnx"), "--store", p("corpus"), "--out", p("det-eval.jsonl"), "--jobs", "1", "--evaluate", "--resamples", "20", "--json"]));
    expect(doc.evaluation.point.infected_episodes).toBeGreaterThan(10);
    expect(doc.evaluation.sweep).toHaveLength(19);
  });

  it("--follow (relmiss cnn: baseline-relative tensors) scores the store's windows as the one-shot run does", async () => {
    const out = p("follow.jsonl");
    await ok(["detect", "--model", p("models", "relmiss-cnn.onnx"), "--store", p("corpus"), "--out", out, "--jobs", "1", "--follow", "--poll-ms", "20", "--idle-exit-s", "1"]);
    const windows = (path: string) => new Map(readDetectRows(path).filter((r) => r.window !== null).map((r) => [`${r.episode_id}/${r.window}`, r.probs]));
    const followed = windows(out);
    const once = windows(p("det-relmiss-cnn.jsonl"));
    expect(followed.size).toBe(once.size);
    for (const [k, probs] of once) expect(followed.get(k), k).toEqual(probs);
  });
});

describe("anomaly detectors on a baseline schema", () => {
  it("eif, ae and their ensemble read the schema's summary vector: onnxruntime = the native scorers", async () => {
    const out = p("anomaly");
    const base = { mode: "realistic" as const, features: features("relmiss"), split: split("relmiss"), out, seed: 3, threads: 1 };
    const eif = await trainEif({ ...base, eif: { n_trees: 20, subsample: 32 } });
    const ae = await trainAe({ ...base, ae: { epochs: 3, batch_size: 32, threads: 1, device: "cpu" } });
    const ens = await trainEnsemble({ mode: "realistic", out, weights: [1, 1] });
    const names = eif.sidecar.feature_schema.features;
    const windows = await loadWindowSet(features("relmiss"), split("relmiss"), "test");
    const rows = await readFeatureRows(features("relmiss"), windows, names);
    const n = windows.episode_id.length;
    const W = names.length;
    for (const [kind, sidecarPath, tol] of [["eif", eif.sidecarPath, 1e-12], ["ae", ae.sidecarPath, 1e-5], ["ensemble", ens.sidecarPath, 0.75 / ens.sidecar.training.n_calibration + 1e-6]] as const) {
      const onnxPath = p("models", `relmiss-${kind}.onnx`);
      const ex = await exportCheckpoint(sidecarPath, onnxPath);
      expect(ex.metadata.feature_options?.stats).toEqual(eif.sidecar.feature_schema.stats);
      const det = await loadAnomalyDetector(sidecarPath);
      const idx = det.columns.map((c) => names.indexOf(c));
      const modeRows = new Float32Array(n * idx.length);
      for (let i = 0; i < n; i++) idx.forEach((f, j) => (modeRows[i * idx.length + j] = rows[i * W + f]));
      const want = await det.scoreSamples({ x: modeRows, n, width: idx.length });
      await det.dispose();
      const model = await OnnxModel.load(onnxPath);
      const got = await model.scoreAnomaly(rows, n);
      await model.close();
      const d = Math.max(...Array.from(got.score, (v, i) => Math.abs(v - want[i]) / Math.max(1, Math.abs(want[i]))));
      expect(d, `${kind}: max |d score| = ${d}`).toBeLessThanOrEqual(tol);
    }
  });
});

describe("refusals", () => {
  const sidecar = () => JSON.parse(readFileSync(p("art-relmiss", "gbt_realistic.ckpt.json"), "utf8")) as CheckpointSidecar & { feature_schema: Record<string, unknown> };
  const forge = (name: string, sc: unknown): string => {
    const path = p("art-relmiss", `${name}.ckpt.json`);
    writeFileSync(path, JSON.stringify(sc));
    return path;
  };

  it("export refuses a schema whose options the feature core does not accept, or whose layout it does not produce", async () => {
    const sc = sidecar();
    const { baseline: _dropped, ...noBaseline } = sc.feature_schema;
    await expect(exportCheckpoint(forge("nobase", { ...sc, feature_schema: noBaseline }), p("models", "nobase.onnx"))).rejects.toThrow(/feature options this build's feature core does not accept .*needs baseline_s > 0/);
    const features = [...(sc.feature_schema.features as string[])];
    features[3] = "guest.cpu_user.mean_q";
    await expect(exportCheckpoint(forge("renamed", { ...sc, feature_schema: { ...sc.feature_schema, features } }), p("models", "renamed.onnx"))).rejects.toThrow(/feature layout this build's feature core does not produce \(feature names differs at index 3/);
  });

  it("detect refuses a model whose schema options do not give its schema hash (both hashes named)", async () => {
    // Baseline period edited in the sidecar: a consistent layout, so export writes it, but the hash pins 10 s.
    const sc = sidecar();
    const forged = forge("base7", { ...sc, feature_schema: { ...sc.feature_schema, baseline: { seconds: 7, tensors: true } } });
    await ok(["export", "--checkpoint", forged, "--out", p("models", "base7.onnx")]);
    const r = await runCli(["detect", "--model", p("models", "base7.onnx"), "--store", p("corpus")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(sc.feature_schema_hash);
    expect(r.stderr).toMatch(/baseline 7 s \(tensors relative\): re-export/);

    const model = await OnnxModel.load(p("models", "relmiss-cnn.onnx"));
    const meta = model.meta;
    await model.close();
    const fo = meta.feature_options!;
    const tampered = (feature_options: ModelMetadata["feature_options"]): ModelMetadata => ({ ...meta, feature_options });
    expect(() => featureOptionsFor(tampered({ ...fo, stats: fo.stats.filter((s) => s !== "missing") }))).toThrow(new RegExp(`trained on feature schema ${meta.feature_schema_hash}, but this build's feature core produces schema [0-9a-f]{64}`));
    expect(() => featureOptionsFor(tampered({ ...fo, tensor_baseline: false }))).toThrow(/produces schema/);
    expect(() => featureOptionsFor(tampered(undefined))).toThrow(/produces schema/);
    expect(() => featureOptionsFor(tampered({ ...fo, stats: [...fo.stats, "kurtosis"] }))).toThrow(/not ones this build's feature core accepts: invalid feature options: unknown stat "kurtosis"/);
    expect(meta.channels).toEqual(CHANNELS.map((c) => c.name));
  });
});
