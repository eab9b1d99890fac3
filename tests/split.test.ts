// `cis490 split`: determinism, no test-host (or held-out sample, or future)
// leakage, validation by episode, untested profiles and missing classes
// reported, on hand-made features files and on a real synthetic store.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParquetStreamWriter, readParquet } from "../src/io/parquet.js";
import { runFeatures } from "../src/features/run.js";
import type { EpisodeWindows } from "../src/features/types.js";
import { windowSchema, windowTable, type FeaturizedEpisode } from "../src/features/window-table.js";
import { assertNoLeakage, assignSplits, LeakageError } from "../src/split/assign.js";
import { readSplitEpisodes } from "../src/split/episodes.js";
import { selectTest } from "../src/split/recipes.js";
import { runCli } from "./helpers/cli.js";
import { testFeaturizer, validatedStore } from "./helpers/features-fixture.js";

interface FakeEpisode {
  id: string;
  host: string;
  profile: string | null;
  sample: string | null;
  /** Start, seconds after 2026-04-01T00:00:00Z. */
  start: number;
  phases: number[];
}

const T0 = 1775001600n * 1_000_000_000n;
const FEATURES = ["x.mean"];

function fakeWindows(e: FakeEpisode): EpisodeWindows {
  const n = e.phases.length;
  return {
    error: null,
    n_windows: n,
    t0_wall_ns: String(T0 + BigInt(e.start) * 1_000_000_000n),
    duration_s: 5 * n + 5,
    phase: Int8Array.from(e.phases),
    t_start_s: Float64Array.from({ length: n }, (_, i) => 5 * i),
    phase_start_s: Float64Array.from([0, 5, 10, 15, 25, NaN]),
    summary: Float64Array.from({ length: n }, (_, i) => i),
    x: null,
    mask: null,
  };
}

async function writeFakeFeatures(episodes: FakeEpisode[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "cis490-split-"));
  const path = join(dir, "features_window.parquet");
  const sorted = [...episodes].sort((a, b) => (a.id < b.id ? -1 : 1));
  const items: FeaturizedEpisode[] = sorted.map((e) => ({
    identity: { episode_id: e.id, host_id: e.host, profile: e.profile, sample_name: e.sample, sample_kind: null, acceptance_class: "accepted", started_at: null },
    result: fakeWindows(e),
  }));
  const w = await ParquetStreamWriter.open(path, windowSchema(FEATURES), { rowGroupRows: 50 });
  for (let i = 0; i < items.length; i += 7) await w.write(windowTable(items.slice(i, i + 7), FEATURES, 10));
  await w.close();
  return path;
}

const PROFILES: Array<[string, string[]]> = [
  ["cpu-saturate", ["xmrig", "cpuminer"]],
  ["scan-and-dial", ["mirai", "kaiten"]],
  ["io-walk", ["lockbit"]],
];
const ALL_PHASES = [0, 1, 2, 3, 3, 4];

/** 3 hosts x 3 profiles; host "c" never runs scan-and-dial and is the smallest. */
function fakeCorpus(): FakeEpisode[] {
  const out: FakeEpisode[] = [];
  let n = 0;
  for (const host of ["a", "b", "c"]) {
    const reps = host === "c" ? 4 : 8;
    for (const [profile, samples] of PROFILES) {
      if (host === "c" && profile === "scan-and-dial") continue;
      for (let r = 0; r < reps; r++) {
        const sample = samples[r % samples.length];
        out.push({ id: `ep-${String(n).padStart(4, "0")}`, host, profile, sample, start: n * 3600, phases: ALL_PHASES });
        n++;
      }
    }
  }
  return out;
}

async function split(args: string[]): Promise<{ code: number; stdout: string; stderr: string; doc: any }> {
  const res = await runCli(["split", ...args, "--json"]);
  return { ...res, doc: res.code === 0 ? JSON.parse(res.stdout) : null };
}

async function assignments(path: string): Promise<Array<{ episode_id: string; host_id: string; profile: string; sample_name: string; split: string }>> {
  const t = await readParquet(path);
  return t.toArray().map((r) => r.toJSON() as never);
}

describe("split episodes", () => {
  it("reduces windows to episodes with their labels", async () => {
    const path = await writeFakeFeatures(fakeCorpus());
    const eps = await readSplitEpisodes(path);
    expect(eps).toHaveLength(fakeCorpus().length);
    expect(eps[0]).toMatchObject({ episode_id: "ep-0000", host_id: "a", windows: 6, phase_windows: [1, 1, 1, 2, 1, 0] });
  });
});

describe("split recipes", () => {
  it("host: tests on the smallest host by default, never trains on it, reports untested profiles", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const res = await split(["--features", features, "--recipe", "host"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.doc.test_hosts).toEqual(["c"]);
    expect(res.doc.untested_profiles).toEqual(["scan-and-dial"]);
    expect(res.doc.per_profile.find((p: { profile: string }) => p.profile === "scan-and-dial").test).toBe(0);
    const rows = await assignments(join(features, "..", "split_host.parquet"));
    for (const r of rows) expect(r.split === "test", r.episode_id).toBe(r.host_id === "c");
    // Validation is carved by episode from the training side (~15% per profile).
    const val = rows.filter((r) => r.split === "val");
    const trainSide = rows.filter((r) => r.split !== "test");
    expect(val.length).toBe(Math.round(0.15 * 8 * 2) * 3); // 16 per profile on hosts a+b -> 2 each
    expect(val.every((r) => r.host_id !== "c")).toBe(true);
    expect(new Set(val.map((r) => r.profile))).toEqual(new Set(["cpu-saturate", "scan-and-dial", "io-walk"]));
    expect(trainSide.length).toBe(48);
    const summary = JSON.parse(readFileSync(join(features, "..", "split_host.json"), "utf8"));
    expect(summary).toEqual(res.doc);
    expect(summary.features_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.counts.test).toEqual({ episodes: 8, windows: 48 });
  });

  it("host --val hosts: validation is one whole training-side host, never the test host", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const dir = join(features, "..");
    const res = await split(["--features", features, "--recipe", "host", "--val", "hosts", "--out", join(dir, "vh.parquet")]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    // a and b tie on episodes: the first by name validates.
    expect(res.doc).toMatchObject({ test_hosts: ["c"], val_by: "hosts", val_hosts: ["a"], val_fraction: 0 });
    const rows = await assignments(join(dir, "vh.parquet"));
    for (const r of rows) expect(r.split, r.episode_id).toBe({ a: "val", b: "train", c: "test" }[r.host_id]);
    const named = await split(["--features", features, "--recipe", "host", "--val", "hosts", "--val-hosts", "b", "--out", join(dir, "vb.parquet")]);
    expect(named.doc.val_hosts).toEqual(["b"]);
    expect((await assignments(join(dir, "vb.parquet"))).filter((r) => r.split === "val").every((r) => r.host_id === "b")).toBe(true);
    const bad = async (args: string[]) => (await split(["--features", features, "--recipe", "host", "--out", join(dir, "x.parquet"), ...args])).code;
    expect(await bad(["--val", "hosts", "--val-hosts", "c"])).toBe(1); // the test host
    expect(await bad(["--val", "hosts", "--val-hosts", "a,b"])).toBe(1); // nothing left to train on
    expect(await bad(["--val", "hosts", "--test-hosts", "a,b"])).toBe(1); // one training host only
    expect(await bad(["--val-hosts", "a"])).toBe(2);
    expect(await bad(["--val", "hosts", "--val-fraction", "0.2"])).toBe(2);
    expect(await bad(["--val", "folds"])).toBe(2);
  });

  it("host --val host-folds: no val side, every training episode carries its host's fold", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const dir = join(features, "..");
    const res = await split(["--features", features, "--recipe", "host", "--test-hosts", "a", "--val", "host-folds", "--out", join(dir, "hf.parquet")]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.doc).toMatchObject({ test_hosts: ["a"], val_by: "host-folds", val_folds: [["b"], ["c"]], val_fraction: 0, val_strata: null });
    expect(res.doc.counts.val).toEqual({ episodes: 0, windows: 0 });
    const rows = (await readParquet(join(dir, "hf.parquet"))).toArray().map((r) => r.toJSON() as { host_id: string; split: string; fold: number | null });
    for (const r of rows) expect([r.split, r.fold]).toEqual(r.host_id === "a" ? ["test", null] : ["train", r.host_id === "b" ? 0 : 1]);
    // Fewer folds than hosts: hosts are dealt, largest first, to the fold with the fewest episodes.
    const four = [...fakeCorpus(), ...fakeCorpus().map((e) => ({ ...e, id: e.id + "-d", host: "d" })).slice(0, 3)];
    const f2 = await writeFakeFeatures(four);
    const two = await split(["--features", f2, "--recipe", "host", "--test-hosts", "a", "--val", "host-folds", "--folds", "2", "--out", join(f2, "..", "f2.parquet")]);
    expect(two.code).toBe(0);
    expect(two.doc.val_folds).toEqual([["b"], ["c", "d"]]);
    // Other splits keep their columns (and so their bytes).
    const plain = await split(["--features", features, "--recipe", "host", "--out", join(dir, "p.parquet")]);
    expect((await readParquet(join(dir, "p.parquet"))).schema.fields.map((f) => f.name)).not.toContain("fold");
    expect(plain.doc.val_strata).toBe("profile");
    const bad = async (args: string[]) => (await split(["--features", features, "--recipe", "host", "--out", join(dir, "x.parquet"), ...args])).code;
    expect(await bad(["--val", "host-folds", "--test-hosts", "a,b"])).toBe(1); // one training host: no second fold
    expect(await bad(["--val", "host-folds", "--test-hosts", "a", "--folds", "3"])).toBe(1); // more folds than hosts
    expect(await bad(["--folds", "2"])).toBe(2);
    expect(await bad(["--val", "host-folds", "--val-fraction", "0.2"])).toBe(2);
    expect(await bad(["--val", "hosts", "--val-strata", "none"])).toBe(2);
  });

  it("--val-strata none carves one seeded shuffle of the training side instead of one per profile", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const dir = join(features, "..");
    const strat = await split(["--features", features, "--recipe", "host", "--val-fraction", "0.3", "--out", join(dir, "s.parquet")]);
    const flat = await split(["--features", features, "--recipe", "host", "--val-fraction", "0.3", "--val-strata", "none", "--out", join(dir, "n.parquet")]);
    expect(flat.code).toBe(0);
    expect(flat.doc.val_strata).toBe("none");
    // Stratified: round(0.3 x 16) = 5 of each profile's 16 training episodes (hosts a, b); unstratified: round(0.3 x 48) = 14 in all.
    for (const p of strat.doc.per_profile) expect(p.val, p.profile).toBe(5);
    expect(flat.doc.counts.val.episodes).toBe(14);
    const ids = async (f: string) => (await assignments(join(dir, f))).filter((r) => r.split === "val").map((r) => r.episode_id).join();
    expect(await ids("n.parquet")).not.toBe(await ids("s.parquet"));
  });

  it("is deterministic for a seed, and the seed matters", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const dir = join(features, "..");
    const a = await split(["--features", features, "--recipe", "host", "--seed", "7", "--out", join(dir, "a.parquet")]);
    const b = await split(["--features", features, "--recipe", "host", "--seed", "7", "--out", join(dir, "b.parquet")]);
    const c = await split(["--features", features, "--recipe", "host", "--seed", "8", "--out", join(dir, "c.parquet")]);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    const [ra, rb, rc] = await Promise.all(["a", "b", "c"].map((n) => assignments(join(dir, `${n}.parquet`))));
    expect(rb).toEqual(ra);
    expect(rc).not.toEqual(ra);
    expect({ ...a.doc, out: null }).toEqual({ ...b.doc, out: null });
  });

  it("host: named test hosts; unknown or all hosts are refused", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const res = await split(["--features", features, "--recipe", "host", "--test-hosts", "b,a"]);
    expect(res.code).toBe(0);
    expect(res.doc.test_hosts).toEqual(["a", "b"]);
    expect(res.doc.untested_profiles).toEqual([]);
    const unknown = await split(["--features", features, "--recipe", "host", "--test-hosts", "zz"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/zz/);
    expect((await split(["--features", features, "--recipe", "host", "--test-hosts", "a,b,c"])).code).toBe(1);
  });

  it("sample: holds out one sample per profile with >= 2 samples, never seen in train/val", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const res = await split(["--features", features, "--recipe", "sample", "--seed", "3"]);
    expect(res.code).toBe(0);
    expect(res.doc.held_out_samples.map((h: { profile: string }) => h.profile)).toEqual(["cpu-saturate", "scan-and-dial"]);
    expect(res.doc.profiles_without_test_sample).toEqual([{ profile: "io-walk", samples: ["lockbit"] }]);
    expect(res.doc.untested_profiles).toEqual(["io-walk"]);
    const held = new Set(res.doc.held_out_samples.map((h: { sample_name: string }) => h.sample_name));
    const rows = await assignments(join(features, "..", "split_sample.parquet"));
    for (const r of rows) expect(r.split === "test", r.episode_id).toBe(held.has(r.sample_name));
  });

  it("time: train before the cut-off, test at or after it (default: 80th percentile)", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    const res = await split(["--features", features, "--recipe", "time"]);
    expect(res.code).toBe(0);
    const n = fakeCorpus().length;
    expect(res.doc.counts.test.episodes).toBe(n - Math.floor(0.8 * n));
    const cut = await split(["--features", features, "--recipe", "time", "--cutoff", "2026-04-01T10:00:00Z", "--out", join(features, "..", "t.parquet")]);
    expect(cut.code).toBe(0);
    expect(cut.doc.counts.train.episodes + cut.doc.counts.val.episodes).toBe(10); // starts at 0h..9h
    const bad = await split(["--features", features, "--recipe", "time", "--cutoff", "2030-01-01T00:00:00Z"]);
    expect(bad.code).toBe(1);
  });

  it("refuses a split whose train side misses a class, unless allowed", async () => {
    // Only host c ever reaches `failed` (5): testing on c leaves train without it.
    const corpus = fakeCorpus().map((e) => (e.host === "c" ? { ...e, phases: [0, 1, 2, 3, 5] } : e));
    const features = await writeFakeFeatures(corpus);
    const res = await split(["--features", features, "--recipe", "host", "--test-hosts", "c"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/missing from train: failed/);
    const allowed = await split(["--features", features, "--recipe", "host", "--test-hosts", "c", "--allow-missing-class"]);
    expect(allowed.code).toBe(0);
    expect(allowed.doc.missing_in_train).toEqual(["failed"]);
    expect(allowed.doc.classes.failed).toEqual({ train: 0, val: 0, test: 8 });
    // A class absent everywhere is reported, not an error.
    const ok = await split(["--features", await writeFakeFeatures(fakeCorpus()), "--recipe", "host"]);
    expect(ok.doc.absent_classes).toEqual(["failed"]);
  });

  it("the leakage assertion catches a test host in train", async () => {
    const path = await writeFakeFeatures(fakeCorpus());
    const eps = await readSplitEpisodes(path);
    const sel = selectTest(eps, { recipe: "host", seed: 0n, testHosts: ["c"] });
    const asg = assignSplits(eps, sel, 0.15, 0n);
    expect(() => assertNoLeakage(asg, sel)).not.toThrow();
    const leaked = asg.map((a) => (a.episode.host_id === "c" && a.episode.episode_id === asg.find((x) => x.episode.host_id === "c")!.episode.episode_id ? { ...a, split: "train" as const } : a));
    expect(() => assertNoLeakage(leaked, sel)).toThrow(LeakageError);
    const sampleSel = selectTest(eps, { recipe: "sample", seed: 0n });
    const sampleAsg = assignSplits(eps, sampleSel, 0.15, 0n);
    expect(() => assertNoLeakage(sampleAsg, sampleSel)).not.toThrow();
    expect(() => assertNoLeakage(sampleAsg.map((a) => (a.split === "test" ? { ...a, split: "val" as const } : a)), sampleSel)).toThrow(LeakageError);
  });

  it("exits 2 on usage errors", async () => {
    const features = await writeFakeFeatures(fakeCorpus());
    expect((await split(["--features", features, "--recipe", "random"])).code).toBe(2);
    expect((await split(["--features", features, "--recipe", "host", "--val-fraction", "1.5"])).code).toBe(2);
    expect((await split(["--features", features, "--recipe", "time", "--cutoff", "yesterday"])).code).toBe(2);
    expect((await split(["--features", features, "--recipe", "sample", "--test-hosts", "a"])).code).toBe(2);
    expect((await split(["--features", join(features, "..", "none.parquet"), "--recipe", "host"])).code).toBe(1);
  });
});

describe("split on the synthetic corpus", () => {
  it("a host split testing on k-gamingcom (no netflow) reports scan-and-dial untested", async () => {
    const fx = await validatedStore();
    const out = mkdtempSync(join(tmpdir(), "cis490-split-synth-"));
    await runFeatures({ store: fx.store, acceptance: fx.acceptance, out, featurizer: await testFeaturizer(), options: { window_s: 10, stride_s: 5, hz: 10, tensors: false }, jobs: 2, shard: { index: 0, count: 1 } });
    const features = join(out, "features_window.parquet");
    const res = await split(["--features", features, "--recipe", "host", "--test-hosts", "k-gamingcom", "--allow-missing-class"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.doc.untested_profiles).toContain("scan-and-dial");
    expect(res.doc.per_profile.find((p: { profile: string }) => p.profile === "scan-and-dial")).toMatchObject({ test: 0 });
    const rows = await assignments(join(out, "split_host.parquet"));
    expect(rows.filter((r) => r.host_id === "k-gamingcom").every((r) => r.split === "test")).toBe(true);
    expect(rows.filter((r) => r.split !== "test").every((r) => r.host_id !== "k-gamingcom")).toBe(true);
  });
});
