// The baseline-relative and missingness schema options (docs/features.md,
// "Baseline-relative features"): what they compute on hand-made episodes
// (causal: only samples before the window and inside the baseline period),
// that they change the schema hash while the default schema stays as it
// was, and that the native featurizer and the TypeScript twin agree on
// them for fixtures, generated and hostile episodes.

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNELS, featureIndices, statsFor, STATS } from "../src/features/channels.js";
import { currentSchema } from "../src/features/run.js";
import { DEFAULT_FEATURE_OPTIONS, schemaOptions, type EpisodeWindows, type FeatureOptions, type Featurizer } from "../src/features/types.js";
import { DEFAULT_INSPECT_OPTIONS } from "../src/episode/report.js";
import { featurizeBytes, referenceFeaturizer } from "../src/reference/features.js";
import { synthStore } from "../src/synth/store.js";
import { buildEpisode, hostileCases, rng, variedEpisode } from "./helpers/hostile.js";
import { row, tinyEpisode } from "./helpers/feature-episodes.js";
import { describeWith } from "./helpers/prerequisites.js";

const RELATIVE: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, tensors: true, ...schemaOptions("relative", undefined, true) };
const APPEND: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, tensors: true, ...schemaOptions("append", 7.5, true) };
const MISSING_ONLY: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, tensors: true, ...schemaOptions("none", undefined, true) };
const ODD: FeatureOptions = { window_s: 4, stride_s: 2.5, hz: 7, tensors: true, ...schemaOptions("relative", 3.3, false) };

const LOAD = CHANNELS.findIndex((c) => c.name === "guest.load_1m");
const SYN = CHANNELS.findIndex((c) => c.name === "netflow.syn_count");

/** Value of `<channel>.<stat>` in window k. */
function feature(w: EpisodeWindows, stats: readonly string[], k: number, channel: number, stat: string): number {
  return w.summary[k * CHANNELS.length * stats.length + channel * stats.length + stats.indexOf(stat)];
}

describe("baseline-relative features (reference twin, by hand)", () => {
  // load_1m: 1.0 for t < 6 s, 2.0 at 6..10 s, then 5.0 (the "infection"); syn_count 0 throughout the baseline.
  const guest = Array.from({ length: 40 }, (_, i) => row(i, { load_1m_5m_15m: [i < 6 ? 1 : i < 10 ? 2 : 5, 0, 0] }));
  const netflow = Array.from({ length: 40 }, (_, i) => row(i + 0.5, { syn_count: i < 12 ? 0 : 4 }));
  const ep = tinyEpisode({ duration: 40, labels: [[0, "clean"], [10, "infecting"]], guest, netflow });
  const stats = statsFor("relative", true);
  const w = featurizeBytes(ep, { ...DEFAULT_FEATURE_OPTIONS, tensors: true, stats, baseline_s: 10, tensor_baseline: true });

  it("window 0 has no baseline: deltas and ratios NaN, base_missing 1, tensors masked", () => {
    expect(w.n_windows).toBe(7);
    expect(feature(w, stats, 0, LOAD, "mean_d")).toBeNaN();
    expect(feature(w, stats, 0, LOAD, "mean_r")).toBeNaN();
    expect(feature(w, stats, 0, LOAD, "base_missing")).toBe(1);
    expect(feature(w, stats, 0, LOAD, "missing")).toBe(0);
    expect(feature(w, stats, 0, LOAD, "std")).toBeGreaterThan(0); // the plain spread stays
    const T = 100;
    expect(Array.from(w.mask!.subarray(LOAD * T, (LOAD + 1) * T)).every((m) => m === 0)).toBe(true);
  });

  it("window 1 (start 5 s) uses only the samples before 5 s; later windows stop at the 10 s baseline period", () => {
    // Window 1: samples 5..14 s; baseline = t < 5 -> all 1.0 -> median 1.
    expect(feature(w, stats, 1, LOAD, "base_missing")).toBe(0);
    const mean1 = (1 + 2 * 4 + 5 * 5) / 10;
    expect(feature(w, stats, 1, LOAD, "mean_d")).toBeCloseTo(mean1 - 1, 12);
    expect(feature(w, stats, 1, LOAD, "mean_r")).toBeCloseTo(mean1 / 1, 12);
    // Window 4 (20..30 s): baseline t < 10 -> six 1.0 and four 2.0 -> median 1; all later data never enters it.
    expect(feature(w, stats, 4, LOAD, "mean_d")).toBeCloseTo(5 - 1, 12);
    expect(feature(w, stats, 4, LOAD, "p95_d")).toBeCloseTo(5 - 1, 12);
    // Tensors minus the baseline median, mask unchanged.
    const T = 100;
    const at = (4 * CHANNELS.length + LOAD) * T + 50;
    expect(w.mask![at]).toBe(1);
    expect(w.x![at]).toBeCloseTo(4, 6);
  });

  it("a zero baseline median gives a NaN ratio but a finite difference", () => {
    expect(feature(w, stats, 4, SYN, "mean_d")).toBeCloseTo(4, 12);
    expect(feature(w, stats, 4, SYN, "mean_r")).toBeNaN();
    expect(feature(w, stats, 4, SYN, "base_missing")).toBe(0);
  });

  it("a channel with no sample at all: missing 1 and base_missing 1", () => {
    const cpu = CHANNELS.findIndex((c) => c.name === "proc.cpu_user_jiffies");
    expect(feature(w, stats, 3, cpu, "missing")).toBe(1);
    expect(feature(w, stats, 3, cpu, "base_missing")).toBe(1);
    expect(feature(w, stats, 3, cpu, "mean_d")).toBeNaN();
  });

  it("append keeps the plain statistics bit for bit and adds the baseline ones", () => {
    const plain = featurizeBytes(ep, DEFAULT_FEATURE_OPTIONS);
    const app = featurizeBytes(ep, APPEND);
    const st = APPEND.stats!;
    for (let k = 0; k < plain.n_windows; k++)
      for (let c = 0; c < CHANNELS.length; c++)
        STATS.forEach((s, j) => expect(Object.is(feature(app, st, k, c, s), plain.summary[k * 230 + c * 5 + j])).toBe(true));
    expect(app.summary.length).toBe(plain.n_windows * CHANNELS.length * st.length);
    // append leaves the tensors raw.
    expect(Array.from(app.x!)).toEqual(Array.from(featurizeBytes(ep, { ...DEFAULT_FEATURE_OPTIONS, tensors: true }).x!));
  });

  it("bad option combinations are refused", async () => {
    const p = join(mkdtempSync(join(tmpdir(), "cis490-bl-")), "x.tar.zst");
    writeFileSync(p, ep);
    const bad: FeatureOptions[] = [
      { ...DEFAULT_FEATURE_OPTIONS, stats: ["mean_d"] },
      { ...DEFAULT_FEATURE_OPTIONS, stats: ["mean", "mean"] },
      { ...DEFAULT_FEATURE_OPTIONS, stats: ["median"] },
      { ...DEFAULT_FEATURE_OPTIONS, stats: [] },
      { ...DEFAULT_FEATURE_OPTIONS, tensor_baseline: true },
      { ...DEFAULT_FEATURE_OPTIONS, baseline_s: -1 },
    ];
    for (const o of bad) await expect(referenceFeaturizer.featurizeFiles([p], o, DEFAULT_INSPECT_OPTIONS, 1)).rejects.toThrow(/invalid feature options/);
  });
});

describe("schema", () => {
  it("the default schema and its hash are unchanged by the option machinery", () => {
    const def = currentSchema(DEFAULT_FEATURE_OPTIONS);
    expect(currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("none", undefined, false) }).hash).toBe(def.hash);
    expect(def.baseline).toBeUndefined();
    expect(def.features.length).toBe(230);
  });

  it("each option gives its own hash, pinned with the baseline period", () => {
    const hashes = [
      currentSchema(DEFAULT_FEATURE_OPTIONS),
      currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("relative", undefined, false) }),
      currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("relative", 8, false) }),
      currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("append", undefined, false) }),
      currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("relative", undefined, true) }),
      currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("none", undefined, true) }),
    ].map((s) => s.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    const rel = currentSchema({ ...DEFAULT_FEATURE_OPTIONS, ...schemaOptions("relative", undefined, true) });
    expect(rel.baseline).toEqual({ seconds: 10, tensors: true });
    expect(rel.features.slice(0, 9)).toEqual(["mean_d", "std", "p50_d", "p95_d", "slope", "mean_r", "p95_r", "missing", "base_missing"].map((s) => `proc.cpu_user_jiffies.${s}`));
    // Realistic columns follow the schema's statistics: 29 channels x 9.
    expect(featureIndices("realistic", rel.stats).map((i) => rel.features[i]).every((n) => n.startsWith("guest.") || n.startsWith("netflow."))).toBe(true);
    expect(featureIndices("realistic", rel.stats).length).toBe(29 * 9);
  });
});

/** Differences between two results (first few), empty when they agree: exact masks and counts, values to 1e-6 relative. */
function differences(n: EpisodeWindows, r: EpisodeWindows): string[] {
  const out: string[] = [];
  for (const k of ["error", "n_windows", "t0_wall_ns", "duration_s"] as const) if (!Object.is(n[k], r[k])) out.push(`${k}: native=${n[k]} reference=${r[k]}`);
  const close = (a: number, b: number) =>
    Object.is(a, b) || a === b || (Number.isNaN(a) || Number.isNaN(b) ? Number.isNaN(a) && Number.isNaN(b) : Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)));
  const cmp = (k: "summary" | "x" | "mask", eq: (a: number, b: number) => boolean) => {
    const a = n[k];
    const b = r[k];
    if (a === null || b === null) return void (a !== b && out.push(`${k}: one side is null`));
    if (a.length !== b.length) return void out.push(`${k}: length native=${a.length} reference=${b.length}`);
    for (let i = 0; i < a.length && out.length < 12; i++) if (!eq(a[i], b[i])) out.push(`${k}[${i}]: native=${a[i]} reference=${b[i]}`);
  };
  cmp("mask", Object.is);
  cmp("summary", close);
  cmp("x", close);
  return out;
}

describeWith("native", "baseline options: native vs reference", () => {
  let dir: string;
  let native: Featurizer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cis490-baseline-"));
    native = (await import("../src/native/features.js")).nativeFeaturizer;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let counter = 0;
  const write = (buf: Uint8Array): string => {
    const p = join(dir, `case-${counter++}.tar.zst`);
    writeFileSync(p, buf);
    return p;
  };

  async function expectSame(label: string, paths: string[], options: FeatureOptions): Promise<number> {
    const n = await native.featurizeFiles(paths, options, DEFAULT_INSPECT_OPTIONS, 2);
    const r = await referenceFeaturizer.featurizeFiles(paths, options, DEFAULT_INSPECT_OPTIONS, 1);
    let windows = 0;
    for (let i = 0; i < paths.length; i++) {
      const diff = differences(n[i], r[i]);
      expect(diff, `${label}: ${paths[i]} ${JSON.stringify(options)}:\n  ${diff.join("\n  ")}`).toEqual([]);
      windows += n[i].n_windows;
    }
    return windows;
  }

  it("the native side refuses the same bad options", async () => {
    const p = write(buildEpisode());
    for (const o of [{ stats: ["mean_d"] }, { stats: ["p99"] }, { tensor_baseline: true }, { stats: ["std", "std"] }]) {
      await expect(native.featurizeFiles([p], { ...DEFAULT_FEATURE_OPTIONS, ...o }, DEFAULT_INSPECT_OPTIONS, 1)).rejects.toThrow(/invalid feature options/);
    }
  });

  it("hostile, degraded and varied episodes under every option set", async () => {
    const r = rng(77);
    const hostile = hostileCases().map((c) => write(c.build()));
    await expectSame("hostile", hostile, RELATIVE);
    const bufs = [
      buildEpisode({ drop: ["netflow"] }),
      buildEpisode({ drop: ["guest"] }),
      buildEpisode({ drop: ["guest", "netflow"] }),
      buildEpisode({ phases: [["clean", 0], ["armed", 3], ["infecting", 4]] }),
      ...Array.from({ length: 25 }, () => variedEpisode(1 + Math.floor(r() * 1000))),
    ];
    const paths = bufs.map(write);
    for (const o of [RELATIVE, APPEND, MISSING_ONLY, ODD]) expect(await expectSame("mixed", paths, o)).toBeGreaterThan(100);
  });

  it("a synthetic store: 60 episodes, standard faults", async () => {
    const store = join(dir, "store");
    await synthStore({ out: store, episodes: 60, seed: "4902", faults: "standard", hosts: 3, jobs: 1 });
    const paths: string[] = [];
    for (const host of readdirSync(store).sort()) {
      const d = join(store, host);
      if (!statSync(d).isDirectory()) continue;
      for (const f of readdirSync(d).sort()) if (f.endsWith(".tar.zst")) paths.push(join(d, f));
    }
    expect(await expectSame("synth", paths, RELATIVE)).toBeGreaterThan(300);
    await expectSame("synth", paths.slice(0, 20), ODD);
  });
});
