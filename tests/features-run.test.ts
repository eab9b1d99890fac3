// `cis490 features` end to end on a small synthetic store: window counts,
// row order, degraded episodes (NaN, never zeros), tensors per host, shards
// that concatenate to the unsharded output, reruns that skip finished
// shards, and interrupted runs that leave nothing that looks whole.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Table } from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { CHANNELS, FEATURE_NAMES } from "../src/features/channels.js";
import { parquetRowGroups, readParquet, writeParquet } from "../src/io/parquet.js";
import { parseShard, shardSlice } from "../src/features/plan.js";
import { runFeatures, type FeaturesRunOptions } from "../src/features/run.js";
import { readFeatureSchema } from "../src/features/schema.js";
import { SCHEMA_HASH_KEY } from "../src/features/shards.js";
import { readTensorIndex, streamTensorShards } from "../src/features/tensor-reader.js";
import type { EpisodeWindows, Featurizer } from "../src/features/types.js";
import { loadInspector } from "../src/native/backend.js";
import { acceptanceTable, type AcceptanceRow } from "../src/store/acceptance.js";
import { planStore, sweepTargets } from "../src/store/sweep.js";
import { runCli } from "./helpers/cli.js";
import { writeStore } from "./helpers/store-fixture.js";
import { nativeBuilt, testFeaturizer, validatedStore, type ValidatedStore } from "./helpers/features-fixture.js";
import { PYTHON, requirePrerequisite, skipWithout } from "./helpers/prerequisites.js";

let fx: ValidatedStore;
let featurizer: Featurizer;
let whole: string;
let wholeTable: Table;

const OPTIONS = { window_s: 10, stride_s: 5, hz: 10, tensors: true };

function baseRun(out: string, extra: Partial<FeaturesRunOptions> = {}): FeaturesRunOptions {
  return {
    store: fx.store,
    acceptance: fx.acceptance,
    out,
    featurizer,
    options: OPTIONS,
    jobs: 2,
    shard: { index: 0, count: 1 },
    batchSize: 16,
    rowGroupRows: 100,
    tensorChunkEpisodes: 8,
    ...extra,
  };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), "cis490-featrun-"));

function columnValues(t: Table, name: string): unknown[] {
  return Array.from(t.getChild(name)!.toArray() as ArrayLike<unknown>);
}

function expectSameTable(a: Table, b: Table): void {
  expect(b.numRows).toBe(a.numRows);
  expect(b.schema.fields.map((f) => f.name)).toEqual(a.schema.fields.map((f) => f.name));
  for (const f of a.schema.fields) {
    const x = columnValues(a, f.name);
    const y = columnValues(b, f.name);
    // toEqual treats NaN as equal to NaN, which is what "same rows" means here.
    expect(y, f.name).toEqual(x);
  }
}

beforeAll(async () => {
  fx = await validatedStore();
  featurizer = await testFeaturizer();
  whole = tmp();
  const res = await runFeatures(baseRun(whole));
  expect(res.merge.status).toBe("merged");
  wholeTable = await readParquet(join(whole, "features_window.parquet"));
});

describe("features (whole corpus)", () => {
  it("featurises accepted and degraded episodes only, one row per window, ordered by episode then window", () => {
    const usable = fx.rows.filter((r) => r.class === "accepted" || r.class === "degraded");
    expect(usable.length).toBeGreaterThan(40);
    const ids = columnValues(wholeTable, "episode_id") as string[];
    const windows = columnValues(wholeTable, "window") as number[];
    expect(new Set(ids)).toEqual(new Set(usable.map((r) => r.episode_id)));
    for (let i = 1; i < ids.length; i++) {
      const ordered = ids[i - 1] < ids[i] || (ids[i - 1] === ids[i] && windows[i] === windows[i - 1] + 1);
      expect(ordered, `row ${i}`).toBe(true);
      if (ids[i - 1] !== ids[i]) expect(windows[i]).toBe(0);
    }
    const names = wholeTable.schema.fields.map((f) => f.name);
    expect(names.slice(0, 14)).toEqual(["episode_id", "host_id", "profile", "sample_name", "sample_kind", "acceptance_class", "started_at", "t0_wall_ns", "window", "t_start_s", "t_center_s", "phase", "label", "infecting_start_s"]);
    expect(names.slice(14)).toEqual([...FEATURE_NAMES]);
    // started_at travels from meta through the acceptance index; synth always sets it.
    expect(columnValues(wholeTable, "started_at").every((v) => typeof v === "string")).toBe(true);
    // Windows labelled infecting lie after their episode's infecting start.
    const labels = columnValues(wholeTable, "label");
    const centres = columnValues(wholeTable, "t_center_s");
    const infecting = columnValues(wholeTable, "infecting_start_s");
    for (let i = 0; i < labels.length; i++) if (labels[i] === 2) expect(centres[i]).toBeGreaterThanOrEqual(infecting[i] as number);
    const classes = new Set(columnValues(wholeTable, "acceptance_class"));
    expect(classes).toEqual(new Set(["accepted", "degraded"]));
  });

  it("gives each episode about duration / stride windows", () => {
    const ids = columnValues(wholeTable, "episode_id") as string[];
    const perEpisode = new Map<string, number>();
    for (const id of ids) perEpisode.set(id, (perEpisode.get(id) ?? 0) + 1);
    let checked = 0;
    for (const r of fx.rows) {
      if (!perEpisode.has(r.episode_id) || r.duration_s === null) continue;
      const expected = Math.floor((r.duration_s - 10) / 5) + 1;
      expect(Math.abs(perEpisode.get(r.episode_id)! - expected), r.episode_id).toBeLessThanOrEqual(1);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    const tStart = columnValues(wholeTable, "t_start_s") as number[];
    const tCenter = columnValues(wholeTable, "t_center_s") as number[];
    const w = columnValues(wholeTable, "window") as number[];
    for (let i = 0; i < tStart.length; i++) {
      expect(tStart[i]).toBe(w[i] * 5);
      expect(tCenter[i]).toBe(w[i] * 5 + 5);
    }
  });

  it("leaves a degraded episode's missing source NaN (never zero), in features and tensors", async () => {
    const noNetflow = fx.rows.filter((r) => r.class === "degraded" && r.reasons.includes("missing-netflow")).map((r) => r.episode_id);
    expect(noNetflow.length).toBeGreaterThan(0);
    const ids = columnValues(wholeTable, "episode_id") as string[];
    const rows = ids.flatMap((id, i) => (noNetflow.includes(id) ? [i] : []));
    expect(rows.length).toBeGreaterThan(0);
    const netflow = FEATURE_NAMES.filter((n) => n.startsWith("netflow."));
    const guestMean = columnValues(wholeTable, "guest.load_1m.mean") as number[];
    for (const name of netflow) {
      const v = columnValues(wholeTable, name) as number[];
      for (const i of rows) expect(Number.isNaN(v[i]), `${name} row ${i}`).toBe(true);
    }
    // The sources that are there still give numbers.
    expect(rows.some((i) => Number.isFinite(guestMean[i]))).toBe(true);

    const netflowChannels = CHANNELS.flatMap((c, i) => (c.source === "netflow" ? [i] : []));
    let seen = 0;
    for await (const shard of streamTensorShards(whole)) {
      const per = shard.channels * shard.tensorLen;
      for (let w = 0; w < shard.n; w++) {
        if (!noNetflow.includes(shard.episode_id[w])) continue;
        seen++;
        for (const c of netflowChannels) {
          for (let k = 0; k < shard.tensorLen; k++) {
            expect(shard.mask[w * per + c * shard.tensorLen + k]).toBe(0);
          }
        }
      }
    }
    expect(seen).toBe(rows.length);
  });

  it("gives NaN (never zero) for a missing or empty guest or netflow member, and zeros only where data says zero", async () => {
    const root = tmp();
    const store = join(root, "store");
    writeStore(store, [
      { spec: { episode_id: "ep-full", host_id: "lab-a" } },
      { spec: { episode_id: "ep-noguest", host_id: "lab-a", omit: ["guest"] } },
      { spec: { episode_id: "ep-emptynet", host_id: "lab-b", empty: ["netflow"] } },
    ]);
    const engine = await loadInspector(nativeBuilt() ? "native" : "reference");
    const rows: AcceptanceRow[] = [];
    for await (const { row } of sweepTargets((await planStore(store)).targets, { engine, jobs: 1 })) rows.push(row);
    expect(rows.map((r) => [r.episode_id, r.class])).toEqual([["ep-full", "accepted"], ["ep-noguest", "degraded"], ["ep-emptynet", "degraded"]]);
    const acceptance = join(root, "acc.parquet");
    await writeParquet(acceptance, acceptanceTable(rows));
    const out = join(root, "out");
    await runFeatures({ ...baseRun(out), store, acceptance });
    const t = await readParquet(join(out, "features_window.parquet"));
    const ids = columnValues(t, "episode_id") as string[];
    const check = (episode: string, source: string, nan: boolean): void => {
      const idx = ids.flatMap((id, i) => (id === episode ? [i] : []));
      expect(idx.length).toBeGreaterThan(5);
      for (const name of FEATURE_NAMES.filter((n) => n.startsWith(`${source}.`))) {
        const v = columnValues(t, name) as number[];
        for (const i of idx) expect(Number.isNaN(v[i]), `${episode} ${name}`).toBe(nan);
      }
    };
    check("ep-noguest", "guest", true);
    check("ep-noguest", "netflow", false);
    check("ep-emptynet", "netflow", true);
    check("ep-emptynet", "guest", false);
    check("ep-full", "guest", false);
    check("ep-full", "netflow", false);
    expect(new Set(columnValues(t, "acceptance_class"))).toEqual(new Set(["accepted", "degraded"]));
  });

  it("writes tensor shards per host (whole episodes, bounded chunks) listed in tensors/index.json", async () => {
    const index = await readTensorIndex(whole);
    const schema = await readFeatureSchema(join(whole, "feature_schema.json"));
    expect(index.feature_schema_hash).toBe(schema.hash);
    expect(index.n_windows).toBe(wholeTable.numRows);
    const hosts = columnValues(wholeTable, "host_id") as string[];
    expect(new Set(index.files.map((f) => f.host))).toEqual(new Set(hosts));
    const onDisk = readdirSync(join(whole, "tensors")).filter((d) => d.startsWith("host=")).flatMap((d) => readdirSync(join(whole, "tensors", d)).map((f) => `${d}/${f}`));
    expect(onDisk.sort()).toEqual(index.files.map((f) => f.path).sort());
    const episodeHost = new Map<string, string>();
    const ids = columnValues(wholeTable, "episode_id") as string[];
    ids.forEach((id, i) => episodeHost.set(id, hosts[i]));
    const seenIn = new Map<string, string>();
    let windows = 0;
    for await (const shard of streamTensorShards(whole)) {
      expect(shard.entry.path.startsWith(`host=${shard.entry.host}/`)).toBe(true);
      expect([shard.n, shard.channels, shard.tensorLen]).toEqual(shard.entry.shape);
      expect(shard.entry.episodes).toBeLessThanOrEqual(8);
      for (let w = 0; w < shard.n; w++) {
        const id = shard.episode_id[w];
        expect(episodeHost.get(id)).toBe(shard.entry.host);
        // An episode lives in exactly one file.
        const prev = seenIn.get(id);
        expect(prev === undefined || prev === shard.entry.path).toBe(true);
        seenIn.set(id, shard.entry.path);
      }
      windows += shard.n;
    }
    expect(windows).toBe(wholeTable.numRows);
  });

  it("stores the schema hash in the Parquet footer and uses several row groups", async () => {
    const meta = await parquetRowGroups(join(whole, "features_window.parquet"));
    const schema = await readFeatureSchema(join(whole, "feature_schema.json"));
    expect(meta.metadata[SCHEMA_HASH_KEY]).toBe(schema.hash);
    expect(meta.rowGroups).toBeGreaterThan(1);
  });

  it.skipIf(skipWithout("numpy"))("tensor shards load with numpy", async () => {
    requirePrerequisite("numpy");
    const index = await readTensorIndex(whole);
    const path = join(whole, "tensors", index.files[0].path);
    const res = spawnSync(PYTHON, ["-c", "import sys, numpy as np; z = np.load(sys.argv[1]); print(z['x'].shape, z['mask'].dtype, z['y'].dtype, z['episode_id'].dtype.kind)", path], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe(`(${index.files[0].n_windows}, 46, 100) bool int8 U`);
  });
});

describe("features shards", () => {
  it("slices contiguous blocks covering everything once", () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const parts = [0, 1, 2].map((i) => shardSlice(items, { index: i, count: 3 }));
    expect(parts.flat()).toEqual(items);
    expect(parts.map((p) => p.length)).toEqual([3, 3, 4]);
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow();
    expect(() => parseShard("x")).toThrow();
  });

  it("concatenate to the unsharded output, merge when the last finishes, and reruns skip finished shards", async () => {
    const out = tmp();
    const first = await runFeatures(baseRun(out, { shard: { index: 2, count: 3 } }));
    expect(first.merge).toEqual({ status: "waiting", have: 1, need: 3 });
    expect(existsSync(join(out, "features_window.parquet"))).toBe(false);
    expect(existsSync(join(out, "features_window.part-2-of-3.parquet"))).toBe(true);
    const second = await runFeatures(baseRun(out, { shard: { index: 0, count: 3 } }));
    expect(second.merge.status).toBe("waiting");
    // A rerun of a finished shard recomputes nothing.
    const again = await runFeatures(baseRun(out, { shard: { index: 0, count: 3 } }));
    expect(again.reused).toBe(true);
    expect(again.counts).toEqual(second.counts);
    const last = await runFeatures(baseRun(out, { shard: { index: 1, count: 3 } }));
    expect(last.merge.status).toBe("merged");

    const merged = await readParquet(join(out, "features_window.parquet"));
    expectSameTable(wholeTable, merged);
    expect(readdirSync(out).filter((f) => f.includes(".part-"))).toEqual([]);
    const total = first.counts.episodes_planned + second.counts.episodes_planned + last.counts.episodes_planned;
    expect(total).toBe(new Set(columnValues(wholeTable, "episode_id")).size);
    // The same tensors, split differently into files.
    const a = await readTensorIndex(whole);
    const b = await readTensorIndex(out);
    expect(b.n_windows).toBe(a.n_windows);
    expect(b.episodes).toBe(a.episodes);
    expect(readFileSync(join(out, "feature_schema.json"), "utf8")).toBe(readFileSync(join(whole, "feature_schema.json"), "utf8"));

    // After the merge every shard is finished: reruns skip, the output stays.
    const rerun = await runFeatures(baseRun(out, { shard: { index: 1, count: 3 } }));
    expect(rerun.reused).toBe(true);
    expect(rerun.merge.status).toBe("already-merged");
  });

  it("recomputes a shard whose parameters changed", async () => {
    const out = tmp();
    await runFeatures(baseRun(out, { shard: { index: 0, count: 2 } }));
    const changed = await runFeatures(baseRun(out, { shard: { index: 0, count: 2 }, options: { ...OPTIONS, window_s: 20 } }));
    expect(changed.reused).toBe(false);
  });

  it("an interrupted shard leaves no part, marker, output or temp file", async () => {
    const out = tmp();
    let calls = 0;
    const failing: Featurizer = {
      name: featurizer.name,
      async featurizeFiles(paths, options, inspect, jobs) {
        if (++calls === 3) throw new Error("killed");
        return featurizer.featurizeFiles(paths, options, inspect, jobs);
      },
    };
    await expect(runFeatures(baseRun(out, { featurizer: failing }))).rejects.toThrow(/killed/);
    const left = readdirSync(out, { recursive: true }) as string[];
    expect(left.filter((f) => f.endsWith(".parquet") || f.includes("cis490-tmp") || f.startsWith("shards/"))).toEqual([]);
    expect(existsSync(join(out, "shards", "part-0-of-1.json"))).toBe(false);
    // The tensor index (the list a trainer reads) is not there either.
    expect(existsSync(join(out, "tensors", "index.json"))).toBe(false);

    // A rerun clears what a killed process (no chance to clean up) would leave, and finishes.
    const hostDir = readdirSync(join(out, "tensors")).find((d) => d.startsWith("host="))!;
    const staleTensor = join(out, "tensors", hostDir, ".part-00000-00042.npz.cis490-tmp-1-dead");
    const stalePart = join(out, ".features_window.part-0-of-1.parquet.cis490-tmp-1-dead");
    writeFileSync(staleTensor, "half");
    writeFileSync(stalePart, "half");
    const res = await runFeatures(baseRun(out));
    expect(res.merge.status).toBe("merged");
    expect(existsSync(staleTensor)).toBe(false);
    expect(existsSync(stalePart)).toBe(false);
    expectSameTable(wholeTable, await readParquet(join(out, "features_window.parquet")));
    const index = await readTensorIndex(out);
    const onDisk = readdirSync(join(out, "tensors")).filter((d) => d.startsWith("host=")).flatMap((d) => readdirSync(join(out, "tensors", d)).map((f) => `${d}/${f}`));
    expect(onDisk.sort()).toEqual(index.files.map((f) => f.path).sort());
  });

  it("reports episodes that gave no windows, with the reason", async () => {
    const out = tmp();
    const victim = (columnValues(wholeTable, "episode_id") as string[])[0];
    const noLabels: Featurizer = {
      name: featurizer.name,
      async featurizeFiles(paths, options, inspect, jobs) {
        const results = await featurizer.featurizeFiles(paths, options, inspect, jobs);
        return results.map((r, i): EpisodeWindows =>
          paths[i].endsWith(`/${victim}.tar.zst`)
            ? { ...r, n_windows: 0, t0_wall_ns: null, phase: new Int8Array(0), t_start_s: new Float64Array(0), summary: new Float64Array(0), x: new Float32Array(0), mask: new Uint8Array(0) }
            : r,
        );
      },
    };
    const res = await runFeatures(baseRun(out, { featurizer: noLabels, options: { ...OPTIONS, tensors: false } }));
    expect(res.counts.skipped).toEqual([{ episode_id: victim, host_id: expect.any(String), reason: "no-labels" }]);
    expect(res.counts.skipped_reasons).toEqual({ "no-labels": 1 });
    const t = await readParquet(join(out, "features_window.parquet"));
    expect((columnValues(t, "episode_id") as string[]).includes(victim)).toBe(false);
    expect(existsSync(join(out, "tensors"))).toBe(false);
  });
});

describe("features CLI", () => {
  it("prints one JSON summary and exits 0", async () => {
    const out = tmp();
    const res = await runCli(["features", "--store", fx.store, "--acceptance", fx.acceptance, "--out", out, "--json", "--jobs", "2", "--engine", featurizer.name]);
    // Without a terminal, stderr carries plain progress lines (docs/machine.md) and nothing else.
    expect(res.stderr.replace(/^[^\n]*: \d+% \(\d+\/\d+\)[^\n]*\n/gm, "")).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split("\n")).toHaveLength(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.windows).toBe(wholeTable.numRows);
    expect(doc.episodes_used).toBe(new Set(columnValues(wholeTable, "episode_id")).size);
    expect(Object.values(doc.phases as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(doc.windows);
    expect(Object.keys(doc.hosts).length).toBe(3);
    expect(doc.peak_rss_bytes).toBeGreaterThan(0);
    expect(doc.merge.status).toBe("merged");
    expect(doc.episodes_per_s).toBeGreaterThan(0);
    // Rerun: nothing recomputed.
    const again = await runCli(["features", "--store", fx.store, "--acceptance", fx.acceptance, "--out", out, "--json", "--engine", featurizer.name]);
    expect(JSON.parse(again.stdout).reused).toBe(true);
  });

  it("exits 2 on usage errors and 1 on a missing acceptance index", async () => {
    const out = tmp();
    expect((await runCli(["features", "--store", fx.store, "--acceptance", fx.acceptance, "--out", out, "--shard", "3/3"])).code).toBe(2);
    expect((await runCli(["features", "--store", fx.store, "--acceptance", fx.acceptance, "--out", out, "--window", "0"])).code).toBe(2);
    expect((await runCli(["features", "--store", fx.store, "--out", out])).code).toBe(2);
    const missing = await runCli(["features", "--store", fx.store, "--acceptance", join(out, "nope.parquet"), "--out", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/acceptance index not found/);
    expect((await runCli(["features", "--store", join(out, "nostore"), "--acceptance", fx.acceptance, "--out", out])).code).toBe(1);
  });

  it("--merge merges finished shards by hand (after a merge lock held elsewhere)", async () => {
    const out = tmp();
    const opts = { ...OPTIONS, tensors: false };
    await runFeatures(baseRun(out, { shard: { index: 0, count: 2 }, options: opts }));
    // Another machine holds the merge lock: the finishing shard leaves the merge to it.
    writeFileSync(join(out, "shards", "merge.lock"), JSON.stringify({ pid: 1, host: "elsewhere", started_at: "2026-01-01T00:00:00Z" }));
    const last = await runFeatures(baseRun(out, { shard: { index: 1, count: 2 }, options: opts }));
    expect(last.merge).toEqual({ status: "locked", holder: expect.stringContaining("elsewhere") });
    expect(existsSync(join(out, "features_window.parquet"))).toBe(false);
    const blocked = await runCli(["features", "--merge", "--out", out]);
    expect(blocked.code).toBe(1);
    const res = await runCli(["features", "--merge", "--force", "--out", out, "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).merge).toMatchObject({ status: "merged", parts: 2, rows: wholeTable.numRows });
    const merged = await readParquet(join(out, "features_window.parquet"));
    expectSameTable(wholeTable, merged);
    expect(existsSync(join(out, "shards", "merge.lock"))).toBe(false);
    const again = await runCli(["features", "--merge", "--out", out, "--json"]);
    expect(JSON.parse(again.stdout).merge.status).toBe("already-merged");
    const empty = await runCli(["features", "--merge", "--out", tmp()]);
    expect(empty.code).toBe(1);
  });
});
