// eval's detector views on constructed cases with known answers: the
// infected-vs-clean block (perfect and inverted scores, untested slices, the
// stored ROC curve), the alert policy's episode verdicts, and then end to end
// on the tiny trained set: the `anomaly` block in every eval JSON, an EIF
// sidecar evaluated in the same run, plain vs --drop-noisy paired.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { trainEif } from "../src/anomaly/train.js";
import { trainAe } from "../src/anomaly/train-ae.js";
import { PHASES } from "../src/episode/report.js";
import { classifierVerdicts } from "../src/eval/episodes.js";
import { evaluateModel, type TestWindows } from "../src/eval/evaluate.js";
import { infectedVsClean, rocCurve } from "../src/eval/infected.js";
import { runEval } from "../src/eval/run.js";
import { sha256OfFile } from "../src/io/hash.js";
import { trainModel } from "../src/train/run.js";
import { loadWindowSet } from "../src/train/windows.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

const settings = { resamples: 100, seed: 0, unit: "episode" as const };
const P = (name: string) => PHASES.indexOf(name as (typeof PHASES)[number]);

/**
 * Episodes of 6 windows (clean, armed, infecting, infected_running x2, dormant)
 * on host "h" in profile "cpu-saturate" or "io-walk"; plus two episodes of
 * "bursty-c2" whose every window is infected (no clean window).
 */
function windows(): TestWindows {
  const w: TestWindows = { episode_id: [], host_id: [], profile: [], label: new Int32Array(0), t_center_s: new Float64Array(0), infecting_start_s: new Float64Array(0) };
  const labels: number[] = [];
  const t: number[] = [];
  const add = (ep: string, profile: string, phases: string[]) =>
    phases.forEach((ph, k) => {
      w.episode_id.push(ep);
      w.host_id.push("h");
      w.profile.push(profile);
      labels.push(P(ph));
      t.push(5 + 5 * k);
    });
  for (let e = 0; e < 8; e++) add(`ep-${e}`, e % 2 ? "io-walk" : "cpu-saturate", ["clean", "armed", "infecting", "infected_running", "infected_running", "dormant"]);
  for (let e = 0; e < 2; e++) add(`ep-b${e}`, "bursty-c2", ["infecting", "infected_running"]);
  w.label = Int32Array.from(labels);
  w.t_center_s = Float64Array.from(t);
  w.infecting_start_s = new Float64Array(labels.length).fill(10);
  return w;
}

describe("infected vs clean", () => {
  it("a perfect score gives ROC AUC, PR AUC and TPR at 1% FPR of 1; the inverted score gives 0; slices without both classes are untested", async () => {
    const w = windows();
    const perfect = Float64Array.from(w.label, (l) => (l === P("clean") ? 0.1 : 0.9));
    const a = (await infectedVsClean(w, perfect, "test", settings))!;
    expect(a.positives + a.negatives).toBe(w.label.length);
    expect(a.negatives).toBe(8);
    for (const k of ["roc_auc", "pr_auc", "tpr_at_1pct_fpr"] as const) {
      expect(a[k].point).toBe(1);
      expect(Object.keys(a[k]).sort()).toEqual(["hi", "lo", "point"]);
    }
    const inv = (await infectedVsClean(w, Float64Array.from(perfect, (v) => 1 - v), "test", settings))!;
    expect(inv.roc_auc.point).toBe(0);
    expect(inv.tpr_at_1pct_fpr.point).toBe(0);
    expect(inv.pr_auc.point).toBeLessThan(0.9);

    const byProfile = Object.fromEntries(a.by_profile.map((s) => [s.key, s]));
    expect(byProfile["cpu-saturate"]).toMatchObject({ status: "tested", n_episodes: 4 });
    expect(byProfile["cpu-saturate"].roc_auc!.point).toBe(1);
    expect(byProfile["bursty-c2"]).toMatchObject({ status: "untested", reason: "no clean test windows", roc_auc: null, tpr_at_1pct_fpr: null });
    expect(byProfile["scan-and-dial"]).toMatchObject({ status: "untested", reason: "no test windows", n_windows: 0 });
    expect(a.by_host.map((s) => s.key)).toEqual(["h"]);

    // Only infected windows: no curve at all.
    const onlyInfected = { ...w, label: Int32Array.from(w.label, () => P("infecting")) };
    expect(await infectedVsClean(onlyInfected, perfect, "test", settings)).toBeNull();
  });

  it("the stored ROC curve is a step function whose value at 1% FPR is the table's TPR", async () => {
    // 100 clean windows scored 0.00..0.99; 25 infected above all of them, 25 between the 2nd and 3rd highest clean.
    const y: number[] = [];
    const s: number[] = [];
    for (let i = 0; i < 100; i++) (y.push(0), s.push(i / 100));
    for (let i = 0; i < 25; i++) (y.push(1), s.push(2), y.push(1), s.push(0.975));
    const c = rocCurve(y, s);
    const at = (x: number) => c.tpr[c.fpr.indexOf(x)];
    expect([at(0), at(0.001), at(0.01), at(0.02), at(1)]).toEqual([0.5, 0.5, 0.5, 1, 1]);
    for (let i = 1; i < c.tpr.length; i++) expect(c.tpr[i]).toBeGreaterThanOrEqual(c.tpr[i - 1]);
    const w: TestWindows = {
      episode_id: y.map((_, i) => `ep-${i % 30}`),
      host_id: y.map(() => "h"),
      profile: y.map(() => "io-walk"),
      label: Int32Array.from(y, (v) => (v ? P("infecting") : P("clean"))),
      t_center_s: Float64Array.from(y, (_, i) => i),
      infecting_start_s: new Float64Array(y.length),
    };
    const a = (await infectedVsClean(w, Float64Array.from(s), "test", settings))!;
    expect(a.tpr_at_1pct_fpr.point).toBe(at(0.01));
    expect(a.roc_curve).toEqual(c);
  });
});

describe("episode verdicts", () => {
  it("detected only when the alert holds at an infecting/infected_running window; negatives and pre-infection alarms counted", () => {
    const five = ["clean", "armed", "infecting", "infected_running", "dormant"];
    const episodes: Array<[string, string[], number[]]> = [
      ["A", five, [0.1, 0.1, 0.9, 0.9, 0.1]], // detected
      ["B", five, [0.1, 0.1, 0.1, 0.9, 0.9]], // the run completes in dormant: too late
      ["C", five, [0.9, 0.9, 0.1, 0.1, 0.1]], // alarm before infection, then missed
      ["D", ["clean", "armed", "armed"], [0.8, 0.8, 0.8]], // negative, alerting: a false positive
      ["E", ["clean", "armed"], [0.1, 0.1]], // negative, quiet
    ];
    const rows = episodes.flatMap(([id, phases, p]) => phases.map((ph, k) => ({ id, ph, k, p: p[k] }))).reverse(); // rows out of time order
    const w: TestWindows = {
      episode_id: rows.map((r) => r.id),
      host_id: rows.map(() => "h"),
      profile: rows.map(() => "io-walk"),
      label: Int32Array.from(rows, (r) => P(r.ph)),
      t_center_s: Float64Array.from(rows, (r) => 5 + 5 * r.k),
      infecting_start_s: new Float64Array(rows.length),
    };
    const proba = new Float32Array(rows.length * PHASES.length);
    rows.forEach((r, i) => {
      proba[i * 6 + P("infecting")] = r.p / 2;
      proba[i * 6 + P("infected_running")] = r.p / 2;
      proba[i * 6 + P("clean")] = 1 - r.p;
    });
    const v = classifierVerdicts(w, proba, { ...settings, resamples: 200 });
    expect(v).toMatchObject({ episodes: 5, positives: 3, detected: 1, negatives: 2, false_positives: 1, pre_infection: { episodes: 5, alarmed: 2 } });
    expect(v.tpr.point).toBeCloseTo(1 / 3, 12);
    expect(v.fpr.point).toBe(0.5);
    expect(v.pre_infection.rate.point).toBe(0.4);
    expect(v.tpr.lo!).toBeLessThanOrEqual(1 / 3);
    expect(v.tpr.hi!).toBeGreaterThanOrEqual(1 / 3);
    expect(v.policy).toMatchObject({ threshold: 0.5, consecutive: 2, signal: "P(infecting) + P(infected_running)" });
  });
});

let toy: Toy;
let artifacts: string;
let dropDir: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cis490-eval-infected-"));
  toy = await makeToy(dir, { gap: 4, perClass: 4 });
  artifacts = join(dir, "artifacts");
  await trainModel(quick(toy, "gbt", artifacts));
  await trainEif({ mode: "realistic", features: toy.features, split: toy.split, out: artifacts, seed: 1, eif: { n_trees: 40, subsample: 32 }, threads: 1 });
  await trainAe({ mode: "realistic", features: toy.features, split: toy.split, out: artifacts, seed: 1, ae: { epochs: 4, batch_size: 32, patience: 0, threads: 1, device: "cpu" }, threads: 1 });
  // A label-noise report naming a few training windows, and a gbt trained without them.
  const train = await loadWindowSet(toy.features, toy.split, "train");
  const flagged = [0, 5, 9, 14].map((i) => ({ episode_id: train.episode_id[i], window: train.window[i], given_phase: PHASES[train.label[i]], likely_phase: "clean", self_confidence: 0.1 }));
  const report = join(dir, "noise.json");
  writeFileSync(report, JSON.stringify({ format: "cis490.label-noise/1", features: toy.features, features_sha256: await sha256OfFile(toy.features), flagged }));
  dropDir = join(dir, "artifacts-drop");
  await trainModel(quick(toy, "gbt", dropDir, { dropNoisy: report }));
}, 120_000);

describe("eval with detector views", () => {
  it("every eval JSON holds the anomaly block; the EIF sidecar is evaluated in the same run, without a macro F1; the report draws the ROC curves", async () => {
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-infected-out-"));
    const { comparison } = await runEval({ artifacts, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(comparison.failures).toEqual([]);
    expect(comparison.models.map((m) => m.name)).toEqual(["gbt_realistic"]);
    expect(comparison.anomaly_models.map((m) => m.name).sort()).toEqual(["ae_realistic", "eif_realistic"]);
    const gbt = JSON.parse(readFileSync(join(out, "gbt_realistic_eval.json"), "utf8"));
    for (const k of ["roc_auc", "pr_auc", "tpr_at_1pct_fpr"]) {
      expect(Object.keys(gbt.anomaly[k]).sort()).toEqual(["hi", "lo", "point"]);
      expect(gbt.anomaly[k].lo).toBeLessThanOrEqual(gbt.anomaly[k].point);
    }
    // Separable classes: 1 - P(clean) ranks infected windows far above clean ones.
    expect(gbt.anomaly.roc_auc.point).toBeGreaterThan(0.9);
    expect(gbt.anomaly.score).toBe("1 - P(clean)");
    expect(gbt.anomaly.by_host.map((s: { key: string }) => s.key)).toEqual(["h5"]);
    expect(gbt.anomaly.by_profile.find((s: { key: string }) => s.key === "scan-and-dial")).toBeDefined();
    expect(gbt.episodes.positives).toBeGreaterThan(0);
    expect(gbt.episodes.tpr.point).toBeGreaterThan(0.5);

    const eif = JSON.parse(readFileSync(join(out, "eif_realistic_eval.json"), "utf8"));
    expect(eif.kind).toBe("anomaly");
    expect(eif.macro_f1).toBeNull();
    expect(eif.macro_f1_note).toMatch(/no macro F1/);
    expect(eif.anomaly.roc_auc.point).toBeGreaterThan(0.5);
    expect(eif.anomaly.negatives).toBe(gbt.anomaly.negatives);
    expect(eif.episodes.episodes).toBe(gbt.episodes.episodes);
    const ae = JSON.parse(readFileSync(join(out, "ae_realistic_eval.json"), "utf8"));
    expect(ae.macro_f1).toBeNull();
    expect(ae.anomaly.negatives).toBe(gbt.anomaly.negatives);
    expect(ae.anomaly.roc_auc.point).toBeGreaterThan(0.5);

    const md = readFileSync(join(out, "comparison.md"), "utf8");
    expect(md).toContain("## Infected vs clean");
    expect(md).toMatch(/\| eif \| realistic \| none \(anomaly detector\) \| \d\.\d{3} \[/);
    expect(md).toContain("## Episode verdicts (alert policy)");
    const html = readFileSync(join(out, "comparison.html"), "utf8");
    expect(html).toContain('data-chart="roc"');
    expect(html).toContain("1% FPR");

    const cli = await runCli(["eval", "--artifacts", artifacts, "--features", toy.features, "--split", toy.split, "--out", out, "--resamples", "50", "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const doc = JSON.parse(cli.stdout);
    expect(doc.models[0].anomaly.roc_auc.point).toBeGreaterThan(0.9);
    expect(doc.anomaly_models.find((m: { name: string }) => m.name === "eif_realistic")).toMatchObject({ macro_f1: null });
  });

  it("pairs a --drop-noisy checkpoint with its plain twin: both shown, paired difference on the same test windows", async () => {
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-drop-out-"));
    const plain = join(artifacts, "gbt_realistic.ckpt.json");
    const dropped = join(dropDir, "gbt_realistic.ckpt.json");
    const { comparison } = await runEval({ artifacts, checkpoints: [plain, dropped], features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(comparison.models.map((m) => m.name)).toEqual(["gbt_realistic", "gbt_realistic_drop-noisy"]);
    expect(comparison.models[1].drop_noisy!.dropped).toBe(4);
    expect(comparison.drop_noisy_pairs).toHaveLength(1);
    const pair = comparison.drop_noisy_pairs[0];
    expect(pair).toMatchObject({ plain: "gbt_realistic", drop_noisy: "gbt_realistic_drop-noisy", dropped: 4 });
    // drop-noisy minus plain, from the same paired resamples as the significance matrix.
    const row = comparison.significance.find((r) => r.a === "gbt_realistic" && r.b === "gbt_realistic_drop-noisy")!;
    expect(pair.macro_f1_diff.point).toBeCloseTo(-row.diff.point, 12);
    expect(pair.macro_f1_diff.point).toBeCloseTo(comparison.models[1].macro_f1.point - comparison.models[0].macro_f1.point, 12);
    expect(existsSync(join(out, "gbt_realistic_drop-noisy_eval.json"))).toBe(true);
    expect(readFileSync(join(out, "comparison.md"), "utf8")).toContain("## Plain vs --drop-noisy");

    // Two plain checkpoints of the same kind and mode keep separate names instead of overwriting each other.
    const twice = await runEval({ artifacts, checkpoints: [plain, plain], features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(twice.comparison.models.map((m) => m.name)).toEqual(["gbt_realistic", "gbt_realistic-2"]);
    expect(twice.comparison.drop_noisy_pairs).toEqual([]);
  });

  it("an anomaly checkpoint of another split or schema is listed as not evaluated; alone it is enough for a report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-eval-eif-bad-"));
    for (const f of ["eif_realistic.anomaly-ckpt.json", "eif_realistic.eif.json"]) copyFileSync(join(artifacts, f), join(dir, f));
    const sc = JSON.parse(readFileSync(join(artifacts, "eif_realistic.anomaly-ckpt.json"), "utf8"));
    writeFileSync(join(dir, "eif_oracle.anomaly-ckpt.json"), JSON.stringify({ ...sc, data: { ...sc.data, split_sha256: "f".repeat(64) } }));
    writeFileSync(join(dir, "eif_x.anomaly-ckpt.json"), JSON.stringify({ ...sc, feature_schema_hash: "0".repeat(64) }));
    const out = mkdtempSync(join(tmpdir(), "cis490-eval-eif-out-"));
    const { comparison } = await runEval({ artifacts: dir, features: toy.features, tensors: toy.tensors, split: toy.split, out, ...settings });
    expect(comparison.models).toEqual([]);
    expect(comparison.anomaly_models.map((m) => m.name)).toEqual(["eif_realistic"]);
    const errors = Object.fromEntries(comparison.failures.map((f) => [f.checkpoint.replace(/.*\//, ""), f.error]));
    expect(errors["eif_oracle.anomaly-ckpt.json"]).toMatch(/trained on split/);
    expect(errors["eif_x.anomaly-ckpt.json"]).toMatch(/schema hash mismatch/);
    expect(readFileSync(join(out, "comparison.md"), "utf8")).toContain("none (anomaly detector)");
  });

  it("evaluateModel without probabilities leaves the detector views null", async () => {
    const w = windows();
    const e = await evaluateModel({ model: "x", mode: "realistic", checkpoint: "x", schema_hash: "h", split: { path: "s", recipe: null, untested_profiles: [] }, trained_labels: { phases: [...PHASES], source: "trained_labels" } }, w, w.label, settings);
    expect(e.anomaly).toBeNull();
    expect(e.episodes).toBeNull();
  });
});
