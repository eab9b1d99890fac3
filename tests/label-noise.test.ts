// Confident learning recovers injected label flips: 8% of the training
// windows of a toy set get a wrong label (uniformly random flips, or flips
// to the neighbouring phase at phase boundaries); the flagged set is scored
// against the injected one. A random flagger has precision ~ the 8% base rate.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { confidentLearning } from "../src/labelnoise/confident.js";
import { DEFAULT_LABEL_NOISE, findLabelNoise, type LabelNoiseReport } from "../src/labelnoise/run.js";
import { sha256OfFile } from "../src/io/hash.js";
import { trainModel } from "../src/train/run.js";
import { runCli } from "./helpers/cli.js";
import { makeToy, quick, SIDE_OF_HOST, type ToyOptions } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-noise-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const K = 6;
const PER_CLASS = 6;
const EPISODES = 5;
const RATE = 0.08;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let t = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
    return ((t ^ (t >>> 16)) >>> 0) / 4294967296;
  };
}

/** The train-side windows as "episode:window" with their true class (the toy's layout: K blocks of PER_CLASS windows). */
function trainWindows(): Array<{ key: string; k: number; boundary: boolean }> {
  const out: Array<{ key: string; k: number; boundary: boolean }> = [];
  for (const host of Object.keys(SIDE_OF_HOST).filter((h) => SIDE_OF_HOST[h] === "train")) {
    for (let e = 0; e < EPISODES; e++) {
      for (let w = 0; w < K * PER_CLASS; w++) {
        const k = Math.floor(w / PER_CLASS);
        const pos = w % PER_CLASS;
        out.push({ key: `ep-${host}-${e}:${w}`, k, boundary: (pos === 0 && k > 0) || (pos === PER_CLASS - 1 && k < K - 1) });
      }
    }
  }
  return out;
}

/** Injected flips: key -> the wrong label written. */
function injectFlips(kind: "random" | "boundary", seed: number): Map<string, number> {
  const r = rng(seed);
  const all = trainWindows();
  const target = Math.round(RATE * all.length);
  const pool = kind === "random" ? all : all.filter((w) => w.boundary);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const flips = new Map<string, number>();
  for (const w of pool.slice(0, target)) {
    let to: number;
    if (kind === "random") to = (w.k + 1 + Math.floor(r() * (K - 1))) % K;
    else to = w.key.endsWith(`:${w.k * PER_CLASS}`) ? w.k - 1 : w.k + 1; // first window of a block takes the previous phase, last the next
    flips.set(w.key, to);
  }
  return flips;
}

function toyOptions(flips: Map<string, number>, extra: ToyOptions = {}): ToyOptions {
  return { seed: 11, episodesPerHost: EPISODES, perClass: PER_CLASS, gap: 1, relabel: (id, w, classes) => flips.get(`${id}:${w}`) ?? classes[w], ...extra };
}

function score(report: LabelNoiseReport, flips: Map<string, number>): { precision: number; recall: number; flagged: number } {
  const flagged = new Set(report.flagged.map((f) => `${f.episode_id}:${f.window}`));
  let hit = 0;
  for (const k of flagged) if (flips.has(k)) hit++;
  return { precision: flagged.size ? hit / flagged.size : 0, recall: hit / flips.size, flagged: flagged.size };
}

const options = (dir: { features: string; split: string }) => ({ ...DEFAULT_LABEL_NOISE, features: dir.features, split: dir.split });

describe("confidentLearning", () => {
  it("thresholds, confident joint, calibration and prune counts on a hand-made matrix", () => {
    // Windows 0-2 labelled 0, 3-5 labelled 1; window 2 looks like class 1, window 5 passes no threshold.
    const p = Float64Array.from([0.9, 0.1, 0.8, 0.2, 0.2, 0.8, 0.1, 0.9, 0.15, 0.85, 0.4, 0.6]);
    const y = Int32Array.from([0, 0, 0, 1, 1, 1]);
    const cl = confidentLearning(p, y, 2);
    expect(cl.thresholds[0]).toBeCloseTo((0.9 + 0.8 + 0.2) / 3, 12);
    expect(cl.thresholds[1]).toBeCloseTo((0.9 + 0.85 + 0.6) / 3, 12);
    expect(Array.from(cl.confident_class)).toEqual([0, 0, 1, 1, 1, -1]);
    expect(cl.confident_joint).toEqual([[2, 1], [0, 2]]);
    // Calibrated rows [2, 1] and [0, 3] over 6 windows.
    expect(cl.joint[0][0]).toBeCloseTo(1 / 3, 12);
    expect(cl.joint[0][1]).toBeCloseTo(1 / 6, 12);
    expect(cl.joint[1][1]).toBeCloseTo(1 / 2, 12);
    expect(cl.prune_counts).toEqual([1, 0]);
    expect(cl.flagged).toEqual([2]);
  });

  it("an off-diagonal window outside its class's prune count is not flagged", () => {
    // Class 0 (windows 0-5): windows 4 and 5 confidently look like class 1, window 3 passes no threshold
    // but has the lowest self-confidence. The calibrated joint asks to prune 2 of class 0: windows 3 and 4.
    const rows = [
      [0.95, 0.05, 0], [0.95, 0.05, 0], [0.9, 0.1, 0], [0.3, 0.35, 0.35], [0.33, 0.67, 0], [0.36, 0.64, 0],
      [0.1, 0.9, 0], [0.2, 0.8, 0], [0.5, 0.4, 0.1], [0.5, 0.4, 0.1],
      [0, 0.1, 0.9], [0, 0.1, 0.9],
    ];
    const cl = confidentLearning(Float64Array.from(rows.flat()), Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2]), 3);
    expect(Array.from(cl.confident_class)).toEqual([0, 0, 0, -1, 1, 1, 1, 1, -1, -1, 2, 2]);
    expect(cl.confident_joint).toEqual([[3, 2, 0], [0, 2, 0], [0, 0, 2]]);
    expect(cl.prune_counts).toEqual([2, 0, 0]);
    expect(cl.flagged).toEqual([4]);
  });
});

describe("label-noise on a toy set with 8% injected flips", () => {
  const results: Record<string, { precision: number; recall: number; flagged: number }> = {};
  afterAll(() => console.log(`label-noise recovery: ${JSON.stringify(results)}`));

  for (const kind of ["random", "boundary"] as const) {
    it(`${kind} flips are recovered well above a random flagger`, async () => {
      const flips = injectFlips(kind, kind === "random" ? 5 : 6);
      const toy = await makeToy(join(root, kind), toyOptions(flips));
      const report = await findLabelNoise(options(toy));
      expect(report.windows).toBe(trainWindows().length);
      const s = score(report, flips);
      results[kind] = s;
      // A random flagger of the same size: precision ~ base rate.
      const r = rng(99);
      const keys = trainWindows().map((w) => w.key);
      let hit = 0;
      for (let i = 0; i < s.flagged; i++) if (flips.has(keys[Math.floor(r() * keys.length)])) hit++;
      const randomPrecision = s.flagged ? hit / s.flagged : 0;
      expect(randomPrecision).toBeLessThan(0.25);
      expect(s.precision).toBeGreaterThan(kind === "random" ? 0.6 : 0.4);
      expect(s.recall).toBeGreaterThan(kind === "random" ? 0.6 : 0.4);
      // Flagged windows carry the wrong label: the likely phase differs from the given one, ranked by self-confidence.
      for (const f of report.flagged) expect(f.likely_phase).not.toBe(f.given_phase);
      const sc = report.flagged.map((f) => f.self_confidence);
      expect(sc).toEqual([...sc].sort((a, b) => a - b));
      const byPhase = Object.values(report.by_phase).reduce((a, g) => a + g.flagged, 0);
      expect(byPhase).toBe(report.flagged.length);
    });
  }

  it("never reads val or test: poisoned test rows leave the report unchanged", async () => {
    const flips = injectFlips("random", 7);
    const clean = await makeToy(join(root, "clean"), toyOptions(flips, { episodesPerHost: 3 }));
    const poisoned = await makeToy(join(root, "poisoned"), toyOptions(flips, { episodesPerHost: 3, poisonTest: true }));
    const a = await findLabelNoise(options(clean));
    const b = await findLabelNoise(options(poisoned));
    expect(a.features_sha256).not.toBe(b.features_sha256);
    const strip = (r: LabelNoiseReport) => ({ ...r, features: "", features_sha256: "", split: "", split_sha256: "" });
    expect(strip(b)).toEqual(strip(a));
    expect(a.by_host).not.toHaveProperty("h4");
    expect(a.by_host).not.toHaveProperty("h5");
  });

  // The last two tests reuse the "clean" toy of the poisoning test and the report the command writes: run the file whole.
  it("the command writes the JSON report and rejects bad options", async () => {
    const dir = join(root, "clean");
    const out = join(root, "report.json");
    const r = await runCli(["label-noise", "--features", join(dir, "features_window.parquet"), "--split", join(dir, "split_host.parquet"), "--folds", "3", "--out", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as LabelNoiseReport;
    expect(doc.folds).toBe(3);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(doc);
    for (const f of doc.flagged) expect(Object.keys(f).sort()).toEqual(["episode_id", "given_phase", "likely_phase", "self_confidence", "window"]);
    const text = await runCli(["label-noise", "--features", join(dir, "features_window.parquet"), "--split", join(dir, "split_host.parquet"), "--folds", "3"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/training windows flagged/);
    expect((await runCli(["label-noise", "--features", join(dir, "features_window.parquet"), "--split", join(dir, "split_host.parquet"), "--folds", "1"])).code).toBe(2);
    expect((await runCli(["label-noise", "--features", join(root, "nope.parquet"), "--split", join(dir, "split_host.parquet")])).code).toBe(1);
  });

  it("train --drop-noisy leaves the flagged windows out and records the report in the sidecar", async () => {
    const dir = join(root, "clean");
    const toy = { features: join(dir, "features_window.parquet"), split: join(dir, "split_host.parquet"), tensors: join(dir, "tensors"), dir, schema: undefined as never };
    const report = join(root, "report.json");
    const doc = JSON.parse(readFileSync(report, "utf8")) as LabelNoiseReport;
    expect(doc.flagged.length).toBeGreaterThan(0);
    const plain = await trainModel(quick(toy, "gbt", join(root, "ckpt-plain"), { gbt: { rounds: 10, max_depth: 3, eta: 0.3, early_stopping_rounds: 5 } }));
    const dropped = await trainModel(quick(toy, "gbt", join(root, "ckpt-drop"), { gbt: { rounds: 10, max_depth: 3, eta: 0.3, early_stopping_rounds: 5 }, dropNoisy: report }));
    expect(plain.sidecar.data.drop_noisy).toBeUndefined();
    expect(dropped.sidecar.data.drop_noisy).toEqual({ report, report_sha256: await sha256OfFile(report), dropped: doc.flagged.length });
    expect(dropped.sidecar.training.n_train).toBe(plain.sidecar.training.n_train - doc.flagged.length);
    expect(dropped.sidecar.training.n_val).toBe(plain.sidecar.training.n_val);
    // A report of another features file is refused.
    const other = join(root, "poisoned");
    await expect(trainModel(quick({ ...toy, features: join(other, "features_window.parquet"), split: join(other, "split_host.parquet") }, "gbt", join(root, "ckpt-x"), { dropNoisy: report }))).rejects.toThrow(/another features file/);
    const cli = await runCli(["train", "--model", "eif", "--features", toy.features, "--split", toy.split, "--drop-noisy", report, "--out", join(root, "ckpt-e")]);
    expect(cli.code).toBe(2);
  });
});
