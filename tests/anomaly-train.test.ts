// `cis490 train --model eif` end to end on the toy set: clean training
// windows only, near-zero-variance inputs dropped and recorded, threshold
// at the target FPR on calibration windows, the gate, the test side never
// read, reuse of an identical request, and the infected-vs-clean evaluation.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EifDetector, thresholdAtFpr, DEFAULT_EIF } from "../src/anomaly/estimator.js";
import { runEval } from "../src/eval/run.js";
import { trainEif } from "../src/anomaly/train.js";
import { CHANNELS } from "../src/features/channels.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-eif-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const nanChannel = CHANNELS.findIndex((c) => c.deployed);
let toy: Toy;
let poisoned: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"), { nanChannel, gap: 4, perClass: 10 });
  poisoned = await makeToy(join(root, "poisoned"), { nanChannel, gap: 4, perClass: 10, poisonTest: true });
});

const small = { n_trees: 60, subsample: 64 };

describe("EIF estimator", () => {
  it("threshold at the target FPR", () => {
    const s = Array.from({ length: 200 }, (_, i) => i / 200);
    const t = thresholdAtFpr(s, 0.01);
    expect(s.filter((v) => v > t).length).toBe(2);
    expect(thresholdAtFpr([0.5, 0.5, 0.5], 0.01)).toBe(0.5);
  });

  it("drops constant and empty inputs, flags a shifted baseline as not promotable", async () => {
    const n = 400;
    const d = 4;
    const g = (i: number, f: number) => Math.sin(i * 12.9898 + f * 78.233) * 43758.5453 % 1;
    const x = new Float32Array(n * d).map((_, k) => (k % d === 1 ? 5 : k % d === 2 ? Number.NaN : g(Math.floor(k / d), k % d)));
    const rows = { x, n, width: d };
    const det = new EifDetector({ ...DEFAULT_EIF, ...small, threads: 1 }, 3);
    const st = await det.fit(rows, rows, rows, ["a", "b", "c", "d"]);
    expect(st.kept).toEqual([0, 3]);
    expect(st.dropped.map((f) => [f.name, f.reason])).toEqual([["b", "constant"], ["c", "no finite value"]]);
    expect(st.calibration.flagged_rate).toBeLessThanOrEqual(0.01);
    expect(st.gate.promotable).toBe(true);
    // The same "clean" rows moved beyond a corner of the training box: they raise alarms, the gate refuses.
    const shifted = { ...rows, x: x.map((v, k) => (k % d === 0 || k % d === 3 ? v + 10 : v)) };
    const det2 = new EifDetector({ ...DEFAULT_EIF, ...small, threads: 1 }, 3);
    const st2 = await det2.fit(rows, rows, shifted, ["a", "b", "c", "d"]);
    expect(st2.gate.promotable).toBe(false);
    expect(st2.gate.clean_anomaly_rate).toBeGreaterThan(0.2);
    expect(st2.gate.reason).toMatch(/held-out clean windows/);
    // Native and reference engines agree end to end.
    const ref = new EifDetector({ ...DEFAULT_EIF, ...small, threads: 1 }, 3, "reference");
    expect(await ref.fit(rows, rows, rows, ["a", "b", "c", "d"])).toEqual(st);
  });
});

describe("trainEif on the toy set", () => {
  it("trains on clean windows, records drops, threshold and gate; never reads the test side", async () => {
    const o = { mode: "realistic" as const, features: toy.features, split: toy.split, seed: 1, eif: small, threads: 2 };
    const a = await trainEif({ ...o, out: join(root, "a") });
    const b = await trainEif({ ...o, features: poisoned.features, split: poisoned.split, out: join(root, "b") });
    const sc = a.sidecar;
    expect(sc.training.inputs.length + sc.training.dropped.length).toBe(145);
    expect(sc.training.dropped.some((f) => f.name.startsWith(CHANNELS[nanChannel].name) && f.reason === "no finite value")).toBe(true);
    expect(sc.training.inputs.some((f) => f.startsWith("proc") || f.startsWith("qmp"))).toBe(false);
    expect(sc.threshold).toBeGreaterThan(0);
    expect(sc.training.calibration_flagged_rate).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(typeof sc.gate.promotable).toBe("boolean");
    // Test rows are poisoned in `b`: the learned state is the same.
    expect(readFileSync(b.weightsPath, "utf8")).toBe(readFileSync(a.weightsPath, "utf8"));
    const again = await trainEif({ ...o, out: join(root, "a"), threads: 1 });
    expect(again.reused).toBe(true);

    const { comparison } = await runEval({ artifacts: join(root, "a"), checkpoints: [a.sidecarPath], features: toy.features, tensors: null, split: toy.split, out: join(root, "eval"), resamples: 50, seed: 0, unit: "episode" });
    const m = comparison.anomaly_models[0];
    const ev = m.anomaly!;
    // The toy's signal lives in 6 of 29 channels among noise, a hard case for
    // isolation (about 0.64 here): the interval must still exclude chance.
    expect(ev.roc_auc.lo!).toBeGreaterThan(0.5);
    expect(ev.positives + ev.negatives).toBe(ev.n_windows);
    expect(ev.by_host.map((h) => h.key)).toEqual(["h5"]);
    expect(m.alarm_rate!.infected!).toBeGreaterThan(m.alarm_rate!.clean!);
  });

  it("cis490 train --model eif --json", async () => {
    const r = await runCli(["train", "--model", "eif", "--mode", "realistic,oracle", "--features", toy.features, "--split", toy.split, "--out", join(root, "cli"), "--trees", "40", "--ndim", "2", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { results: unknown[]; anomaly: Array<{ mode: string; gate: { promotable: boolean }; inputs: number }> };
    expect(doc.results).toEqual([]);
    expect(doc.anomaly.map((a) => a.mode)).toEqual(["realistic", "oracle"]);
    expect(doc.anomaly[1].inputs).toBeGreaterThan(doc.anomaly[0].inputs);
    const sc = JSON.parse(readFileSync(join(root, "cli", "eif_realistic.anomaly-ckpt.json"), "utf8")) as { hyper_parameters: { n_trees: number; ndim: number } };
    expect(sc.hyper_parameters).toMatchObject({ n_trees: 40, ndim: 2 });
    const bad = await runCli(["train", "--model", "eif", "--ndim", "0", "--features", toy.features, "--split", toy.split, "--out", join(root, "cli")]);
    expect(bad.code).toBe(2);
  });
});
