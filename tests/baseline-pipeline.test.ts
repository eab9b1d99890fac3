// The baseline schema options through the pipeline on a tiny synth store:
// `features --baseline relative --missing-indicators` writes a schema with
// its own hash and 414 feature columns, GBT trains and loads on it, a
// checkpoint trained on it refuses the default features (naming the
// baseline change), export writes a model whose metadata carries the schema
// options (parity: tests/export-baseline.test.ts), and bad flag combinations
// are usage errors.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readFeatureSchema } from "../src/features/schema.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { runCli } from "./helpers/cli.js";
import { describeWith } from "./helpers/prerequisites.js";

describeWith("native", "baseline options in the pipeline", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cis490-blpipe-"));
    const run = async (argv: string[]) => {
      const r = await runCli(argv);
      expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
    };
    await run(["synth", "--out", join(dir, "store"), "--episodes", "40", "--seed", "11", "--faults", "none"]);
    await run(["validate", "--store", join(dir, "store"), "--out", join(dir, "acc.parquet")]);
    await run(["features", "--store", join(dir, "store"), "--acceptance", join(dir, "acc.parquet"), "--out", join(dir, "plain")]);
    await run(["features", "--store", join(dir, "store"), "--acceptance", join(dir, "acc.parquet"), "--out", join(dir, "rel"), "--baseline", "relative", "--missing-indicators"]);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the schema records the options and GBT trains and loads on it; default features are refused", async () => {
    const plain = await readFeatureSchema(join(dir, "plain", "feature_schema.json"));
    const rel = await readFeatureSchema(join(dir, "rel", "feature_schema.json"));
    expect(plain.features.length).toBe(230);
    expect(plain.baseline).toBeUndefined();
    expect(rel.features.length).toBe(46 * 9);
    expect(rel.baseline).toEqual({ seconds: 10, tensors: true });
    expect(rel.hash).not.toBe(plain.hash);

    const features = join(dir, "rel", "features_window.parquet");
    const split = join(dir, "split.parquet");
    let r = await runCli(["split", "--features", features, "--recipe", "host", "--out", split, "--allow-missing-class"]);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(["train", "--model", "gbt", "--mode", "realistic", "--features", features, "--split", split, "--out", join(dir, "art"), "--allow-missing-class", "--rounds", "20"]);
    expect(r.code, r.stderr).toBe(0);
    const ckpt = join(dir, "art", "gbt_realistic.ckpt.json");
    const sc = JSON.parse(readFileSync(ckpt, "utf8"));
    expect(sc.feature_mask.length).toBe(414);
    expect(sc.feature_mask.filter((m: number) => m === 1).length).toBe(29 * 9);
    await expect(loadCheckpoint(ckpt, rel)).resolves.toBeDefined();
    await expect(loadCheckpoint(ckpt, plain)).rejects.toThrow(/baseline/);

    r = await runCli(["export", "--checkpoint", ckpt, "--out", join(dir, "m.onnx"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(r.stdout).metadata;
    expect(meta.feature_schema_hash).toBe(rel.hash);
    expect(meta.feature_options).toEqual({ stats: rel.stats, baseline_s: 10, tensor_baseline: true });
  }, 300_000);

  it("--baseline-s without a baseline is a usage error", async () => {
    const r = await runCli(["features", "--store", join(dir, "store"), "--acceptance", join(dir, "acc.parquet"), "--out", join(dir, "x"), "--baseline-s", "5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--baseline-s needs --baseline/);
  });
});
