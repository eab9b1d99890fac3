// `cis490 detect` end to end on a small synthetic store: the pipeline
// (synth, validate, features, split, train, eval), then export + detect; the
// ONNX model scoring the raw store reproduces eval's test-window
// probabilities. Bad models (non-ONNX, truncated, foreign schema) are refused.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { expectDetectMatchesEval, readDetectRows } from "./helpers/detect-parity.js";

const root = mkdtempSync(join(tmpdir(), "cis490-detect-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const p = (...s: string[]) => join(root, ...s);

async function ok(argv: string[]): Promise<string> {
  const r = await runCli(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} -> ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

beforeAll(async () => {
  await ok(["synth", "--out", p("corpus"), "--episodes", "30", "--seed", "5"]);
  await ok(["validate", "--store", p("corpus"), "--out", p("acc.parquet")]);
  await ok(["features", "--store", p("corpus"), "--acceptance", p("acc.parquet"), "--out", p("proc"), "--tensors", "--jobs", "1"]);
  await ok(["split", "--features", p("proc", "features_window.parquet"), "--recipe", "host", "--out", p("proc", "split_host.parquet")]);
  const train = ["train", "--features", p("proc", "features_window.parquet"), "--split", p("proc", "split_host.parquet"), "--out", p("artifacts"), "--threads", "1", "--allow-missing-class"];
  await ok([...train, "--model", "gbt", "--rounds", "15", "--max-depth", "3"]);
  await ok([...train, "--model", "gru", "--epochs", "2", "--hidden", "16", "--layers", "1"]);
  await ok(["eval", "--artifacts", p("artifacts"), "--features", p("proc", "features_window.parquet"), "--split", p("proc", "split_host.parquet"), "--out", p("reports"), "--resamples", "20"]);
  for (const k of ["gbt", "gru"]) await ok(["export", "--checkpoint", p("artifacts", `${k}_realistic.ckpt.json`), "--out", p("models", `${k}.onnx`)]);
});


describe("detect", () => {
  for (const kind of ["gbt", "gru"]) {
    it(`${kind}: reproduces eval's probabilities on the test windows`, async () => {
      const out = p(`det_${kind}.jsonl`);
      await ok(["detect", "--model", p("models", `${kind}.onnx`), "--store", p("corpus"), "--out", out, "--jobs", "1"]);
      const rows = readDetectRows(out);
      const episodes = rows.filter((r) => r.window === null);
      expect(episodes.length).toBeGreaterThan(20);
      expect(episodes.every((e) => e.verdict === "alert" || e.verdict === "no-alert")).toBe(true);

      await expectDetectMatchesEval(rows, p("reports", "predictions.parquet"), kind);
    });
  }

  it("--evaluate reports the policy with intervals and a threshold sweep (table + chart)", async () => {
    const stdout = await ok(["detect", "--model", p("models", "gbt.onnx"), "--store", p("corpus"), "--out", p("det_eval.jsonl"), "--jobs", "1", "--evaluate", "--resamples", "50", "--report", p("rep"), "--json"]);
    const doc = JSON.parse(stdout);
    const e = doc.evaluation;
    expect(e.point.infected_episodes).toBeGreaterThan(10);
    expect(e.detection_rate.point).toBe(e.point.detection_rate);
    expect(e.sweep).toHaveLength(19);
    // Raising the threshold never detects more episodes.
    for (let i = 1; i < e.sweep.length; i++) expect(e.sweep[i].detected).toBeLessThanOrEqual(e.sweep[i - 1].detected);
    const html = readFileSync(p("rep", "detect_eval.html"), "utf8");
    expect(html).toMatch(/<figure data-chart="threshold-sweep"><svg/);
    expect(readFileSync(p("rep", "detect_eval.md"), "utf8")).toContain("| 0.50 |");
  });

  it("refuses a non-ONNX file, a truncated model and a foreign feature schema (exit 1, both hashes named)", async () => {
    writeFileSync(p("junk.onnx"), "this is not a model\n");
    let r = await runCli(["detect", "--model", p("junk.onnx"), "--store", p("corpus")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a usable ONNX model/);

    const bytes = readFileSync(p("models", "gru.onnx"));
    writeFileSync(p("half.onnx"), bytes.subarray(0, Math.floor(bytes.length / 2)));
    r = await runCli(["detect", "--model", p("half.onnx"), "--store", p("corpus")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/truncated/);

    const sidecar = JSON.parse(readFileSync(p("artifacts", "gbt_realistic.ckpt.json"), "utf8"));
    const trained = sidecar.feature_schema_hash as string;
    writeFileSync(p("artifacts", "foreign.ckpt.json"), JSON.stringify({ ...sidecar, feature_schema_hash: "ab".repeat(32) }));
    await ok(["export", "--checkpoint", p("artifacts", "foreign.ckpt.json"), "--out", p("models", "foreign.onnx")]);
    r = await runCli(["detect", "--model", p("models", "foreign.onnx"), "--store", p("corpus")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ab".repeat(32));
    expect(r.stderr).toContain(trained);
    rmSync(p("artifacts", "foreign.ckpt.json"));
  });
});
