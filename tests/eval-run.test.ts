// `cis490 eval` end to end on a tiny trained set: every checkpoint evaluated,
// files written, a schema-mismatched or other-split checkpoint listed as not
// evaluated while the rest still run, an empty test side refused.

import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PHASES } from "../src/episode/report.js";
import { EvalError, runEval } from "../src/eval/run.js";
import { readParquet, writeParquet } from "../src/io/parquet.js";
import { trainModel } from "../src/train/run.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, quick, SIDE_OF_HOST, type Toy } from "./helpers/train-toy.js";

let toy: Toy;
let artifacts: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cis490-eval-"));
  toy = await makeToy(dir);
  artifacts = join(dir, "artifacts");
  await trainModel(quick(toy, "gbt", artifacts));
  await trainModel(quick(toy, "gru", artifacts, { neural: { epochs: 6, batch_size: 32, lr: 3e-3, hidden: 16, layers: 1, patience: 0 } }));
});

const settings = { resamples: 200, seed: 0, unit: "episode" as const };

describe("eval", () => {
  it("evaluates every checkpoint and writes the per-model JSON, predictions and report", async () => {
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-out-"));
    const { comparison, files } = await runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(comparison.failures).toEqual([]);
    expect(comparison.models.map((m) => m.name).sort()).toEqual(["gbt_realistic", "gru_realistic"]);
    for (const m of comparison.models) {
      // Six separable classes: far above chance (1/6), with an interval around the point.
      expect(m.macro_f1.point).toBeGreaterThan(0.5);
      expect(m.macro_f1.lo!).toBeLessThanOrEqual(m.macro_f1.point);
      expect(m.macro_f1.hi!).toBeGreaterThanOrEqual(m.macro_f1.point);
      expect(m.per_host.map((h) => h.key)).toEqual(["h5"]); // only the test host
      expect(existsSync(join(out, `${m.name}_eval.json`))).toBe(true);
    }
    expect(comparison.significance).toHaveLength(1);
    const predictions = await readParquet(join(out, "predictions.parquet"));
    expect(predictions.numRows).toBe(2 * comparison.models[0].n_windows);
    expect(predictions.schema.fields.map((f) => f.name)).toContain("p_infected_running");
    for (const f of ["comparison.md", "comparison.html", "comparison.json"]) expect(files).toContain(join(out, f));
  });

  it("lists a schema-mismatched checkpoint and one trained on another split as not evaluated; the rest still run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-eval-bad-"));
    for (const f of readdirSync(artifacts)) copyFileSync(join(artifacts, f), join(dir, f));
    const sidecar = JSON.parse(readFileSync(join(artifacts, "gbt_realistic.ckpt.json"), "utf8"));
    writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify({ ...sidecar, feature_schema_hash: "0".repeat(64) }));
    writeFileSync(join(dir, "gbt_realistic_copy.ckpt.json"), JSON.stringify({ ...sidecar, data: { ...sidecar.data, split_sha256: "f".repeat(64) } }));
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-out-"));
    const { comparison } = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(comparison.models.map((m) => m.name)).toEqual(["gru_realistic"]);
    const errors = Object.fromEntries(comparison.failures.map((f) => [f.checkpoint.replace(/.*\//, ""), f.error]));
    expect(errors["gbt_realistic.ckpt.json"]).toContain("0".repeat(64)); // the checkpoint's hash
    expect(errors["gbt_realistic.ckpt.json"]).toContain(toy.schema.hash); // and the features'
    expect(errors["gbt_realistic_copy.ckpt.json"]).toMatch(/trained on split/);
    expect(readFileSync(join(out, "comparison.md"), "utf8")).toContain("gbt_realistic_copy.ckpt.json");
  });

  it("scores every model over the union of their trained phases, with a fallback for old checkpoints; --labels union is sklearn's default", async () => {
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-out-"));
    const { comparison } = await runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    const gbt = JSON.parse(readFileSync(join(artifacts, "gbt_realistic.ckpt.json"), "utf8"));
    expect(gbt.trained_labels).toEqual(gbt.training.class_counts_train.flatMap((c: number, k: number) => (c > 0 ? [k] : [])));
    expect(comparison.labels).toEqual({ mode: "trained", phases: gbt.trained_labels.map((l: number) => PHASES[l]) });
    for (const m of comparison.models) expect(m.trained_labels.source).toBe("trained_labels");

    // Two edited sidecars: one trained on three phases only, one written before trained_labels existed.
    const dir = mkdtempSync(join(tmpdir(), "cis490-eval-labels-"));
    for (const f of readdirSync(artifacts)) if (f.startsWith("gbt_")) copyFileSync(join(artifacts, f), join(dir, f));
    writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify({ ...gbt, trained_labels: [0, 2, 3] }));
    const narrow = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(narrow.comparison.labels.phases).toEqual(["clean", "infecting", "infected_running"]);
    expect(narrow.comparison.models[0].per_class.map((c) => c.name)).toEqual(["clean", "infecting", "infected_running"]);
    expect(narrow.comparison.models[0].warnings.join("\n")).toMatch(/outside the label set/);
    expect(readFileSync(join(out, "comparison.md"), "utf8")).toContain("Classes: clean, infecting, infected_running (the phases");

    const { trained_labels: _, training: __, ...old } = gbt;
    writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify({ ...old, training: gbt.training }));
    const counted = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(counted.comparison.models[0].trained_labels).toEqual({ phases: gbt.trained_labels.map((l: number) => PHASES[l]), source: "class_counts_train" });
    writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify(old));
    const legacy = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(legacy.comparison.models[0].trained_labels).toEqual({ phases: [...PHASES], source: "classes" });
    expect(legacy.comparison.models[0].warnings.join("\n")).toMatch(/predates trained_labels.*full class list/);
    writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify({ ...gbt, trained_labels: [3, 1] }));
    const bad = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings }).catch((e: Error) => e);
    expect(String(bad)).toMatch(/trained_labels must be ascending/);

    const union = await runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings, labelMode: "union" });
    expect(union.comparison.labels).toEqual({ mode: "union", phases: null });
    expect(readFileSync(join(out, "comparison.md"), "utf8")).toContain("--labels union");
  });

  it("exits 1 when no checkpoint could be evaluated, naming each, and writes no report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-eval-none-"));
    for (const f of readdirSync(artifacts)) copyFileSync(join(artifacts, f), join(dir, f));
    for (const name of ["gbt_realistic", "gru_realistic"]) {
      const sidecar = JSON.parse(readFileSync(join(artifacts, `${name}.ckpt.json`), "utf8"));
      writeFileSync(join(dir, `${name}.ckpt.json`), JSON.stringify({ ...sidecar, feature_schema_hash: "0".repeat(64) }));
    }
    const out = join(mkdtempSync(join(tmpdir(), "cis490-eval-out-")), "report");
    await expect(runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings })).rejects.toThrow(EvalError);
    const cli = await runCli(["eval", "--artifacts", dir, "--features", toy.features, "--tensors", toy.tensors, "--split", toy.split, "--out", out, "--resamples", "50", "--json"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/no checkpoint could be evaluated \(2 found\)/);
    expect(cli.stderr).toContain("gbt_realistic.ckpt.json");
    expect(cli.stderr).toContain("gru_realistic.ckpt.json");
    expect(existsSync(join(out, "comparison.md"))).toBe(false);
    const badLabels = await runCli(["eval", "--labels", "all"]);
    expect(badLabels.code).toBe(2);
  });

  it("refuses an empty test side and an empty artifacts directory", async () => {
    const split = await readParquet(toy.split);
    const noTest = join(mkdtempSync(join(tmpdir(), "cis490-eval-split-")), "split_host.parquet");
    const sides = split.getChild("split")!.toArray() as string[];
    const { Table, vectorFromArray, Utf8 } = await import("apache-arrow");
    const columns = Object.fromEntries(split.schema.fields.map((f) => [f.name, split.getChild(f.name)!]));
    columns.split = vectorFromArray(sides.map((s) => (s === "test" ? "train" : s)), new Utf8()) as never;
    await writeParquet(noTest, new Table(columns));
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-out-"));
    // Evaluated against a different split file, both checkpoints would be refused; the empty test side is reported first.
    await expect(runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: noTest, out, ...settings })).rejects.toThrow(EvalError);
    await expect(runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: noTest, out, ...settings })).rejects.toThrow(/no windows/);
    const empty = mkdtempSync(join(tmpdir(), "cis490-eval-empty-"));
    await expect(runEval({ artifacts: empty, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings })).rejects.toThrow(/no checkpoints/);
    expect(Object.values(SIDE_OF_HOST)).toContain("test");
  });

  it("CLI: --json summary, exit 1 without checkpoints, exit 2 on a bad option", async () => {
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-out-"));
    const ok = await runCli(["eval", "--artifacts", artifacts, "--features", toy.features, "--tensors", toy.tensors, "--split", toy.split, "--out", out, "--resamples", "100", "--json"]);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.models).toHaveLength(2);
    expect(doc.models[0].macro_f1.point).toBeGreaterThan(0.5);
    const none = await runCli(["eval", "--artifacts", mkdtempSync(join(tmpdir(), "x-")), "--features", toy.features, "--split", toy.split, "--out", out]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no checkpoints/);
    const bad = await runCli(["eval", "--unit", "fortnight"]);
    expect(bad.code).toBe(2);
  });
});
