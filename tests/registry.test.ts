// The model registry end to end on the toy training set: registration with
// provenance, the promotion gate (paired and interval forms), aliases,
// rollback, purge (files really gone), the journals, and the resolver.

import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promotionGate } from "../src/registry/gate.js";
import { registerCheckpoint, listModels, promote, rollback, purge, history } from "../src/registry/api.js";
import { readDecisions } from "../src/registry/decisions.js";
import type { ValidationPredictions } from "../src/registry/derive.js";
import { readJsonLines, appendJsonLine } from "../src/registry/jsonl.js";
import { resolveModelRef } from "../src/registry/refs.js";
import { journalPath } from "../src/registry/store.js";
import { trainModel } from "../src/train/run.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-registry-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let toy: Toy;
let noise: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"), { episodesPerHost: 6 });
  // Signal only on oracle channels: a realistic model trained here is at chance.
  noise = await makeToy(join(root, "noise"), { episodesPerHost: 6, oracleOnly: true });
});

function preds(labels: number[], pred: number[], episodes: number, featuresSha = "f", splitSha = "s"): ValidationPredictions {
  const per = labels.length / episodes;
  return {
    format: "cis490-validation/1",
    features_sha256: featuresSha,
    split_sha256: splitSha,
    macro_f1: 0,
    episodes: Array.from({ length: episodes }, (_, e) => `ep${e}`),
    episode: labels.map((_, i) => Math.floor(i / per)),
    window: labels.map((_, i) => i),
    label: labels,
    pred,
  };
}

describe("promotion gate", () => {
  const n = 600;
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const perfect = labels.slice();
  const worse = labels.map((l, i) => (i % 4 === 0 ? (l + 1) % 3 : l));
  it("paired bootstrap on the same windows refuses a significantly worse model and passes an equal one", async () => {
    const bad = await promotionGate(preds(labels, worse, 60), preds(labels, perfect, 60));
    expect(bad.method).toBe("paired-bootstrap");
    expect(bad.passed).toBe(false);
    expect(bad.diff!.hi!).toBeLessThan(0);
    const same = await promotionGate(preds(labels, perfect, 60), preds(labels, perfect, 60));
    expect(same.passed).toBe(true);
    const better = await promotionGate(preds(labels, perfect, 60), preds(labels, worse, 60));
    expect(better.passed).toBe(true);
  });
  it("different validation windows: compares the intervals", async () => {
    const r = await promotionGate(preds(labels, worse, 60, "other"), preds(labels, perfect, 60));
    expect(r.method).toBe("intervals");
    expect(r.passed).toBe(false);
    expect(r.candidate_ci!.hi!).toBeLessThan(r.current_ci!.lo!);
    // Close models with wide intervals: not significantly below.
    const few = labels.slice(0, 30);
    const fewWorse = few.map((l, i) => (i === 0 ? (l + 1) % 3 : l));
    expect((await promotionGate(preds(few, fewWorse, 3, "other"), preds(few, few.slice(), 3))).passed).toBe(true);
  });
  it("without predictions on either side it passes and says why", async () => {
    const r = await promotionGate(null, preds(labels, perfect, 60));
    expect(r.method).toBe("untestable");
    expect(r.passed).toBe(true);
  });
});

describe("registry lifecycle", () => {
  const reg = () => join(root, "registry");
  let good1: string;
  let good2: string;
  let chance: string;

  it("registers a trained checkpoint with provenance, validation predictions and a drift baseline; current is set", { timeout: 120_000 }, async () => {
    const t = await trainModel(quick(toy, "gbt", join(root, "out1")));
    const r = await registerCheckpoint(reg(), t.sidecarPath, { commandLine: ["cis490", "train", "--model", "gbt"] });
    good1 = r.version;
    expect(r.created).toBe(true);
    expect(r.alias).toBe("current");
    expect(r.name).toBe("gbt_realistic");
    expect(r.version).toMatch(/^[0-9a-f]{12}$/);
    const dir = join(reg(), "models", "gbt_realistic", "versions", r.version);
    expect(readdirSync(dir).sort()).toEqual(["drift_digest.bin", "drift_digest.json", "drift_reference.parquet", "gbt_realistic.ckpt.json", "gbt_realistic.xgb.json", "validation.json", "version.json"]);
    const m = JSON.parse(readFileSync(join(dir, "version.json"), "utf8"));
    expect(m.provenance.features_sha256).toBe(t.sidecar.data.features_sha256);
    expect(m.provenance.split_sha256).toBe(t.sidecar.data.split_sha256);
    expect(m.provenance.feature_schema_hash).toBe(toy.schema.hash);
    expect(m.provenance.command_line).toEqual(["cis490", "train", "--model", "gbt"]);
    expect(m.provenance.cis490_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.provenance.git_commit === null || /^[0-9a-f]{40}$/.test(m.provenance.git_commit)).toBe(true);
    expect(readFileSync(join(dir, "gbt_realistic.xgb.json"))).toEqual(readFileSync(t.weightsPath));
    const val = JSON.parse(readFileSync(join(dir, "validation.json"), "utf8"));
    expect(val.label.length).toBe(t.sidecar.training.n_val);
    // Registering the same bytes again changes nothing.
    const again = await registerCheckpoint(reg(), t.sidecarPath);
    expect(again.created).toBe(false);
    expect(again.version).toBe(good1);
  });

  it("a retrain on the same data passes the paired gate; a chance-level model becomes candidate and the refusal is logged", { timeout: 120_000 }, async () => {
    const t2 = await trainModel(quick(toy, "gbt", join(root, "out2"), { seed: 9 }));
    const r2 = await registerCheckpoint(reg(), t2.sidecarPath);
    good2 = r2.version;
    expect(r2.gate!.method).toBe("paired-bootstrap");
    expect(r2.alias).toBe("current");
    const t3 = await trainModel(quick(noise, "gbt", join(root, "out3")));
    const r3 = await registerCheckpoint(reg(), t3.sidecarPath);
    chance = r3.version;
    expect(r3.gate!.method).toBe("intervals");
    expect(r3.gate!.passed).toBe(false);
    expect(r3.alias).toBe("candidate");
    const { decisions } = await readDecisions(reg());
    expect(decisions.filter((d) => d.event === "registered").map((d) => d.version)).toEqual([good1, good2, chance]);
    const refused = decisions.find((d) => d.event === "refused")!;
    expect(refused.version).toBe(chance);
    expect(refused.details!.current_ci).toBeTruthy();
  });

  it("list / show --json shapes", async () => {
    const list = await runCli(["registry", "list", "--registry", reg(), "--json"]);
    expect(list.code).toBe(0);
    const doc = JSON.parse(list.stdout);
    expect(doc.models).toHaveLength(1);
    const m = doc.models[0];
    expect(m.name).toBe("gbt_realistic");
    expect(m.current).toBe(good2);
    expect(m.aliases).toEqual({ candidate: chance, current: good2 });
    expect(m.versions.map((v: { id: string }) => v.id).sort()).toEqual([good1, good2, chance].sort());
    for (const v of m.versions) {
      expect(typeof v.created_at).toBe("string");
      expect(existsSync(v.path)).toBe(true);
    }
    const show = JSON.parse((await runCli(["registry", "show", "gbt_realistic", "--registry", reg(), "--json"])).stdout);
    expect(show.name).toBe("gbt_realistic");
    expect(show.current).toBe(good2);
  });

  it("promote refuses the candidate, --force overrides (logged), rollback walks back, history records every move", async () => {
    const refused = await runCli(["registry", "promote", `gbt_realistic@${chance}`, "--registry", reg()]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("REFUSED");
    const forced = await promote(reg(), "gbt_realistic@candidate", { force: true });
    expect(forced.promoted).toBe(true);
    expect(forced.forced).toBe(true);
    expect((await resolveModelRef("gbt_realistic", { registry: reg() })).version).toBe(chance);
    const back = await rollback(reg(), "gbt_realistic");
    expect([back.from, back.to]).toEqual([chance, good2]);
    const back2 = await rollback(reg(), "gbt_realistic");
    expect(back2.to).toBe(good1);
    const cli = await runCli(["registry", "rollback", "gbt_realistic", "--registry", reg()]);
    expect(cli.code).toBe(1); // good1 was the first current: nothing before it
    const h = await history(reg(), "gbt_realistic");
    const current = h.moves.filter((m) => m.alias === "current");
    expect(current.map((m) => [m.from, m.to])).toEqual([
      [null, good1],
      [good1, good2],
      [good2, chance],
      [chance, good2],
      [good2, good1],
    ]);
    expect(current.every((m) => typeof m.time === "string" && m.reason.length > 0)).toBe(true);
    const events = (await readDecisions(reg())).decisions.map((d) => d.event);
    expect(events).toContain("rolled-back");
    expect((await readDecisions(reg())).decisions.some((d) => d.event === "promoted" && (d.details as { forced?: boolean }).forced === true)).toBe(true);
  });

  it("resolves NAME@alias, NAME@version, a version prefix and a plain path", async () => {
    const a = await resolveModelRef("gbt_realistic@candidate", { registry: reg() });
    expect(a.version).toBe(chance);
    expect(a.alias).toBe("candidate");
    const v = await resolveModelRef(`gbt_realistic@${good2.slice(0, 6)}`, { registry: reg() });
    expect(v.version).toBe(good2);
    expect(existsSync(v.checkpoint)).toBe(true);
    const p = await resolveModelRef(v.checkpoint, { registry: reg() });
    expect(p.checkpoint).toBe(v.checkpoint);
    await expect(resolveModelRef("gbt_realistic@nope", { registry: reg() })).rejects.toThrow(/no version or alias/);
  });

  it("purge is a dry run without --yes; with it, unaliased old versions are really deleted", async () => {
    // current -> good1, candidate -> chance; good2 is the only unaliased one.
    const dry = await runCli(["registry", "purge", "--keep", "0", "--registry", reg(), "--json"]);
    const plan = JSON.parse(dry.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.models[0].remove.map((r: { id: string }) => r.id)).toEqual([good2]);
    const dir = plan.models[0].remove[0].dir;
    expect(existsSync(dir)).toBe(true);
    const r = await purge(reg(), { keep: 0, apply: true });
    expect(r.removed).toBe(1);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(reg(), "models", "gbt_realistic", "versions")).sort()).toEqual([good1, chance].sort());
    expect((await listModels(reg()))[0].aliases).toEqual({ candidate: chance, current: good1 });
    expect((await readDecisions(reg())).decisions.some((d) => d.event === "purged" && (d.details as { removed: string[] }).removed[0] === good2)).toBe(true);
    const since = new Date(Date.now() + 60_000).toISOString();
    expect(JSON.parse((await runCli(["registry", "log", "--registry", reg(), "--since", since, "--json"])).stdout).decisions).toEqual([]);
  });

  it("eval --model NAME@alias evaluates that version and stores the result with it", { timeout: 120_000 }, async () => {
    const out = join(root, "eval");
    const r = await runCli(["eval", "--model", "gbt_realistic@current", "--registry", reg(), "--features", toy.features, "--split", toy.split, "--out", out, "--resamples", "50", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).models).toHaveLength(1);
    const stored = join(reg(), "models", "gbt_realistic", "versions", good1, "eval.json");
    expect(JSON.parse(readFileSync(stored, "utf8")).model).toBe("gbt");
    expect((await listModels(reg()))[0].versions.find((v) => v.id === good1)!.has_eval).toBe(true);
    const events = (await readDecisions(reg())).decisions.map((d) => d.event);
    expect(events.slice(-2)).toEqual(["loaded", "eval-attached"]);
    expect((await runCli(["eval", "--model", "gbt_realistic@nope", "--registry", reg(), "--features", toy.features, "--split", toy.split, "--out", out])).code).toBe(1);
  });

  it("export --checkpoint NAME@alias exports the registered version (logged as loaded)", { timeout: 120_000 }, async () => {
    const onnx = join(root, "export", "gbt.onnx");
    const r = await runCli(["export", "--checkpoint", "gbt_realistic@current", "--registry", reg(), "--out", onnx, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kind).toBe("gbt");
    expect(existsSync(onnx)).toBe(true);
    expect((await readDecisions(reg())).decisions.at(-1)!.reason).toMatch(/^export loaded gbt_realistic@current/);
    expect((await runCli(["export", "--checkpoint", "gbt_realistic@nope", "--registry", reg(), "--out", onnx])).code).toBe(1);
  });

  it("a torn last journal line is skipped and the next append starts a new line", async () => {
    const j = journalPath(reg(), "gbt_realistic");
    const before = (await readJsonLines(j)).records.length;
    appendFileSync(j, '{"seq": 99, "alias": "curr');
    expect((await readJsonLines(j)).records.length).toBe(before);
    await appendJsonLine(j, { seq: 100, alias: "x", to: "y", kind: "set", from: null, time: "t", reason: "test" });
    const after = await readJsonLines(j);
    expect(after.records.length).toBe(before + 1);
    expect(after.skipped).toHaveLength(1);
  });
});

describe("train --if-stale", () => {
  it("trains when there is no version, skips a fresh one (logged), retrains past --max-age", { timeout: 180_000 }, async () => {
    const out = join(root, "stale");
    const base = ["train", "--model", "gbt", "--features", toy.features, "--split", toy.split, "--out", out, "--rounds", "10", "--max-depth", "2", "--threads", "1", "--if-stale"];
    const first = await runCli([...base, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).results).toHaveLength(1);
    const second = await runCli(base);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("not retrained");
    const drift = await runCli([...base, "--drift-features", noise.features, "--json"]);
    expect(drift.code, drift.stderr).toBe(0);
    expect(JSON.parse(drift.stdout).results).toHaveLength(1); // other features: drifted, so it trained
    const old = await runCli([...base, "--max-age", "0s"]);
    expect(old.stdout).toContain("retraining: current");
    const events = (await readDecisions(out)).decisions.map((d) => d.event);
    expect(events).toContain("retrain-skipped");
    expect(events.filter((e) => e === "retrain-started").length).toBe(2);
    expect((await runCli([...base.slice(0, -1), "--max-age", "1h"])).code).toBe(2); // --max-age without --if-stale
  });
});
