// The autoencoder, the anomaly ensemble and their gate (issue 13 §2-3): the
// estimator is deterministic for a seed and refuses a shifted baseline;
// checkpoints of all three kinds load through one loader and evaluate;
// the ensemble's ECDF ranks; the registry keeps the previous current
// version when a new one fails its gate, and logs the refusal with numbers.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AeDetector, DEFAULT_AE } from "../src/anomaly/autoencoder.js";
import { combine, ecdfRank, fitEnsemble, tailScale } from "../src/anomaly/ensemble.js";
import { runEval } from "../src/eval/run.js";
import { loadAnomalyDetector } from "../src/anomaly/loader.js";
import { trainAe } from "../src/anomaly/train-ae.js";
import { trainEnsemble } from "../src/anomaly/train-ensemble.js";
import { trainEif } from "../src/anomaly/train.js";
import { promote, registerCheckpoint, showModel } from "../src/registry/api.js";
import { readDecisions } from "../src/registry/decisions.js";
import { NotFittedError } from "../src/train/estimator.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-ae-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let toy: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"), { gap: 4, perClass: 10 });
});

const fast = { epochs: 6, batch_size: 32, patience: 3, threads: 1, device: "cpu" as const };

function rows(n: number, d: number, shift = 0): { x: Float32Array; n: number; width: number } {
  const g = (i: number, f: number) => Math.abs((Math.sin(i * 12.9898 + f * 78.233) * 43758.5453) % 1);
  // Two latent factors drive six columns; column 6 is constant, column 7 empty.
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = g(i, 0);
    const b = g(i, 1);
    for (let f = 0; f < d; f++) x[i * d + f] = f === 6 ? 5 : f === 7 ? Number.NaN : (f % 2 ? a : b) * (1 + f) + 0.05 * g(i, f + 2) + shift;
  }
  return { x, n, width: d };
}

describe("AeDetector", () => {
  it("is deterministic for a seed, drops constant inputs, refuses a shifted baseline", async () => {
    const names = ["a", "b", "c", "d", "e", "f", "const", "empty"];
    const train = rows(300, 8);
    const cal = rows(80, 8);
    const fit = async (gate: ReturnType<typeof rows>) => {
      const det = new AeDetector({ ...DEFAULT_AE, ...fast }, 7);
      await expect(det.scoreSamples(cal)).rejects.toBeInstanceOf(NotFittedError);
      const r = await det.fit(train, cal, gate, names, { bestPath: join(root, `best-${Math.random()}.pt`) });
      return { det, r, hash: await det.model!.parameterHash(), scores: await det.scoreSamples(cal) };
    };
    const a = await fit(cal);
    const b = await fit(cal);
    expect(b.hash).toBe(a.hash);
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(a.r.scaling.kept).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.r.scaling.dropped.map((f) => f.reason)).toEqual(["constant", "no finite value"]);
    expect(a.r.loop.history[0].val_loss).toBeGreaterThan(a.r.loop.best.val_loss! - 1e-12);
    expect(a.r.scaling.calibration.flagged_rate).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(a.r.scaling.gate.promotable).toBe(true);
    const z = await a.det.latent(cal);
    expect(z.length).toBe(cal.n * 16);
    // Missing values are imputed, not propagated.
    const holes = { ...cal, x: cal.x.map((v, k) => (k % 13 === 0 ? Number.NaN : v)) };
    expect((await a.det.scoreSamples(holes)).every(Number.isFinite)).toBe(true);
    // "Clean" gate windows shifted out of the training range: alarms, refused.
    const c = await fit(rows(80, 8, 3));
    expect(c.r.scaling.gate.promotable).toBe(false);
    expect(c.r.scaling.gate.clean_anomaly_rate).toBeGreaterThan(0.2);
    expect(c.r.scaling.gate.reason).toMatch(/held-out clean windows/);
    await Promise.all([a, b, c].map((t) => t.det.dispose()));
  });
});

describe("ensemble ranks", () => {
  it("ECDF ranks and weighted combination", () => {
    const ref = [1, 2, 2, 3];
    expect([0, 1, 2, 2.5, 3, 9].map((s) => ecdfRank(ref, s))).toEqual([0, 0.25, 0.75, 0.75, 1, 1]);
    // Above the reference: 1 + ln(1 + excess / scale), monotone; inside: unchanged.
    expect([2.5, 3, 4, 9].map((s) => ecdfRank(ref, s, 2))).toEqual([0.75, 1, 1 + Math.log1p(0.5), 1 + Math.log1p(3)]);
    expect(tailScale([1, 2, 2, 3])).toBe(1);
    expect(tailScale([5, 5, 5, 5])).toBe(1);
    const m = [{ weight: 3, reference: [0, 10], tail_scale: 10 }, { weight: 1, reference: [100, 200, 300, 400], tail_scale: 100 }];
    expect(Array.from(combine(m, [[10, -1], [250, 500]]))).toEqual([0.75 * 1 + 0.25 * 0.5, 0.25 * (1 + Math.log1p(1))]);
    // Opposite members with equal weight: every calibration window scores 0.5-ish, threshold in [0, 1].
    const s = fitEnsemble([{ kind: "eif", sidecar: "a", sidecar_sha256: "x" }, { kind: "ae", sidecar: "b", sidecar_sha256: "y" }], [1, 1], [Float64Array.from([1, 2, 3, 4]), Float64Array.from([4, 3, 2, 1])], null, { target_fpr: 0, max_clean_anomaly_rate: 0.2 });
    expect(s.members.map((x) => x.reference)).toEqual([[1, 2, 3, 4], [1, 2, 3, 4]]);
    expect(s.threshold).toBeCloseTo(0.625, 12);
    expect(s.calibration.flagged_rate).toBe(0);
    expect(() => fitEnsemble([{ kind: "eif", sidecar: "a", sidecar_sha256: "x" }], [0], [Float64Array.from([1])], null, { target_fpr: 0.01, max_clean_anomaly_rate: 0.2 })).toThrow(/weight/);
  });
});

describe("ae and ensemble checkpoints on the toy set", () => {
  it("train, load through one loader, evaluate, register behind the gate", async () => {
    const out = join(root, "ck");
    const o = { mode: "realistic" as const, features: toy.features, split: toy.split, out, seed: 1, threads: 1 };
    const ae = await trainAe({ ...o, ae: fast });
    const eif = await trainEif({ ...o, eif: { n_trees: 60, subsample: 64 } });
    expect(ae.sidecar.kind).toBe("ae");
    expect(ae.sidecar.training.inputs.length + ae.sidecar.training.dropped.length).toBe(145);
    expect(ae.sidecar.training.history!.length).toBeGreaterThan(0);
    expect(ae.sidecar.ae!.median.length).toBe(ae.sidecar.training.inputs.length);
    expect((await trainAe({ ...o, ae: fast })).reused).toBe(true);
    const ens = await trainEnsemble({ mode: "realistic", out, weights: [1, 2] });
    expect(ens.sidecar.members!.map((m) => [m.kind, m.weight])).toEqual([["eif", 1 / 3], ["ae", 2 / 3]]);

    for (const r of [eif, ae, ens]) {
      const d = await loadAnomalyDetector(r.sidecarPath);
      expect(d.columns.length).toBe(145);
      const { comparison } = await runEval({ artifacts: out, checkpoints: [r.sidecarPath], features: toy.features, tensors: null, split: toy.split, out: join(root, "eval"), resamples: 50, seed: 0, unit: "episode" });
      const ev = comparison.anomaly_models[0].anomaly!;
      expect(ev.positives + ev.negatives).toBe(ev.n_windows);
      expect(ev.roc_auc.point!).toBeGreaterThan(0.5);
      await d.dispose();
    }
    const lat = await loadAnomalyDetector(ae.sidecarPath);
    expect((await lat.latent!({ x: new Float32Array(145 * 2), n: 2, width: 145 })).length).toBe(32);
    await lat.dispose();

    // Registry: the promotable ae becomes current; a version whose gate fails
    // (threshold at the calibration median: about half the held-out clean
    // windows alarm) is a candidate, current stays, refusal logged.
    const reg = join(root, "reg");
    const first = await registerCheckpoint(reg, ae.sidecarPath);
    expect(ae.sidecar.gate.promotable).toBe(true);
    expect(first.alias).toBe("current");
    const bad = await trainAe({ ...o, out: join(root, "bad"), ae: { ...fast, target_fpr: 0.5 } });
    expect(bad.sidecar.gate.promotable).toBe(false);
    const second = await registerCheckpoint(reg, bad.sidecarPath);
    expect(second.alias).toBe("candidate");
    expect(second.gate!.method).toBe("clean-anomaly-rate");
    expect((await showModel(reg, "ae_realistic")).current).toBe(first.version);
    const p = await promote(reg, `ae_realistic@${second.version}`);
    expect(p.promoted).toBe(false);
    expect((await showModel(reg, "ae_realistic")).current).toBe(first.version);
    const { decisions } = await readDecisions(reg, { model: "ae_realistic" });
    const refused = decisions.filter((d) => d.event === "refused");
    expect(refused.length).toBe(2);
    expect(refused[0].details).toMatchObject({ gate: "clean-anomaly-rate", passed: false, limit: 0.2, against: first.version });
    expect((refused[0].details as { clean_anomaly_rate: number }).clean_anomaly_rate).toBeGreaterThan(0.2);
    const forced = await promote(reg, `ae_realistic@${second.version}`, { force: true });
    expect(forced.forced).toBe(true);
  });

  it("cis490 train --model ae,ensemble --json", async () => {
    const out = join(root, "cli");
    const eif = await runCli(["train", "--model", "eif", "--features", toy.features, "--split", toy.split, "--out", out, "--trees", "40", "--json"]);
    expect(eif.code, eif.stderr).toBe(0);
    const r = await runCli(["train", "--model", "ensemble,ae", "--features", toy.features, "--split", toy.split, "--out", out, "--epochs", "3", "--batch-size", "32", "--threads", "1", "--device", "cpu", "--weights", "0.5,0.5", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { anomaly: Array<{ model: string; gate: { promotable: boolean }; registered: { alias: string } }> };
    expect(doc.anomaly.map((a) => a.model)).toEqual(["ae", "ensemble"]);
    for (const a of doc.anomaly) expect(a.registered.alias).toBe(a.gate.promotable ? "current" : "candidate");
    const sc = JSON.parse(readFileSync(join(out, "ensemble_realistic.anomaly-ckpt.json"), "utf8")) as { members: Array<{ kind: string }> };
    expect(sc.members.map((m) => m.kind)).toEqual(["eif", "ae"]);
    const bad = await runCli(["train", "--model", "ae", "--weights", "1,1", "--features", toy.features, "--split", toy.split, "--out", out]);
    expect(bad.code).toBe(2);
  });
});
