// Parity: the native featurizer (crates/cis490-core/src/features via the
// addon's featurizeFiles) and the TypeScript twin (src/reference/features.ts)
// must agree on every episode (docs/features.md): summaries to 1e-6
// relative with identical NaN positions, tensor values to 1e-6 relative,
// masks, window counts, starts and phases exactly. Inputs: hostile/edge
// archives, degraded and randomised tiny episodes, and a synthetic store.

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CHANNELS, FEATURE_NAMES, STATS } from "../src/features/channels.js";
import { DEFAULT_FEATURE_OPTIONS, type EpisodeWindows, type FeatureOptions, type Featurizer } from "../src/features/types.js";
import { DEFAULT_INSPECT_OPTIONS, type InspectOptions } from "../src/episode/report.js";
import { referenceFeaturizer } from "../src/reference/features.js";
import { synthStore } from "../src/synth/store.js";
import { buildEpisode, hostileCases, jsonLine, rng, variedEpisode } from "./helpers/hostile.js";
import { row, tinyEpisode, type Rows, type TinyEpisode } from "./helpers/feature-episodes.js";
import { describeWith } from "./helpers/prerequisites.js";


const TENSORS: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, tensors: true };
const ODD_GRID: FeatureOptions = { window_s: 4, stride_s: 2.5, hz: 7, tensors: true };

/** Equal, or |a - b| <= 1e-6 * max(|a|, |b|); NaN only against NaN. */
function close(a: number, b: number): boolean {
  if (Object.is(a, b) || a === b) return true; // includes matching infinities
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

/** Differences between two results (first few), empty when they agree. */
function differences(n: EpisodeWindows, r: EpisodeWindows): string[] {
  const out: string[] = [];
  for (const k of ["error", "n_windows", "t0_wall_ns", "duration_s"] as const) {
    if (!Object.is(n[k], r[k])) out.push(`${k}: native=${n[k]} reference=${r[k]}`);
  }
  const exact = (k: "phase" | "t_start_s" | "phase_start_s" | "mask") => {
    const a = n[k];
    const b = r[k];
    if (a === null || b === null) {
      if (a !== b) out.push(`${k}: native=${a === null ? "null" : "array"} reference=${b === null ? "null" : "array"}`);
      return;
    }
    if (a.length !== b.length) return void out.push(`${k}: length native=${a.length} reference=${b.length}`);
    for (let i = 0; i < a.length && out.length < 12; i++) if (!Object.is(a[i], b[i])) out.push(`${k}[${i}]: native=${a[i]} reference=${b[i]}`);
  };
  exact("phase");
  exact("t_start_s");
  exact("phase_start_s");
  exact("mask");
  const approx = (k: "summary" | "x", name: (i: number) => string) => {
    const a = n[k];
    const b = r[k];
    if (a === null || b === null) {
      if (a !== b) out.push(`${k}: one side is null`);
      return;
    }
    if (a.length !== b.length) return void out.push(`${k}: length native=${a.length} reference=${b.length}`);
    for (let i = 0; i < a.length && out.length < 12; i++) if (!close(a[i], b[i])) out.push(`${k}[${name(i)}]: native=${a[i]} reference=${b[i]}`);
  };
  approx("summary", (i) => `w${Math.floor(i / 230)} ${FEATURE_NAMES[i % 230]}`);
  approx("x", (i) => `${i}`);
  return out;
}

/** Random tiny episodes: irregular, repeated and out-of-order times, nulls, resets, huge values, sparse windows. */
function randomTiny(seed: number): Buffer {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const duration = pick([null, 12, 20.5, 33, 7, -1, 41.3]);
  const span = typeof duration === "number" && duration > 0 ? duration : 30;
  const times = (n: number) => {
    const ts: number[] = [];
    for (let i = 0; i < n; i++) ts.push(Math.round((r() < 0.5 ? i * (span / n) : r() * span + r() * 2 - 1) * 1000) / 1000);
    if (r() < 0.3 && ts.length > 2) ts.splice(1, 0, ts[1]); // repeat
    if (r() < 0.5) ts.sort((a, b) => a - b); // else file order scrambled
    return ts;
  };
  let acc = 0;
  const value = (counter: boolean) => {
    const x = r();
    if (x < 0.05) return null;
    if (x < 0.07) return -0;
    if (x < 0.1) return 1e300;
    if (counter) {
      acc = r() < 0.1 ? acc * r() : acc + Math.floor(r() * 1000) / 8; // sometimes a reset
      return acc;
    }
    return Math.round((r() - 0.3) * 1e6) / 100;
  };
  const spec: TinyEpisode = { duration, labels: [[0, "clean"]] };
  if (r() < 0.3) spec.labels!.push([r() * span, pick(["armed", "infecting", "infected_running", "dormant", "failed"])]);
  if (r() < 0.3) spec.labels!.push([r() * span - 5, "dormant"]);
  if (r() < 0.7)
    spec.proc = times(Math.floor(r() * 60)).map((t) => row(t, { cpu_user_jiffies: value(true), rss_bytes: value(false), io_write_bytes: value(true), major_faults: value(true) }));
  if (r() < 0.7)
    spec.guest = times(Math.floor(r() * 20)).map((t) =>
      row(t, { cpu_total_jiffies: { user: value(true), idle: value(true) }, load_1m_5m_15m: [value(false) ?? 0], net: { eth0: { rx_bytes: value(true) } }, listen_ports: [1, 2] }),
    );
  if (r() < 0.5) spec.qmp = times(Math.floor(r() * 30)).map((t) => row(t, { blockstats: { virtio0: { wr_bytes: value(true) } }, kvm_stats: { pages_4k: value(false) } }));
  if (r() < 0.7) spec.netflow = times(Math.floor(r() * 25)).map((t) => row(t, { bytes_in: value(false), syn_count: value(false), tcp_new_flows: value(false) }));
  return tinyEpisode(spec);
}

/** Counter resets in an otherwise standard episode: proc restarts from zero at 20 s. */
function resetEpisode(): Buffer {
  const rows: Rows = [];
  for (let k = 0; k < 400; k++) rows.push(row(k / 10, { cpu_user_jiffies: k < 200 ? k * 3 : (k - 200) * 3, io_write_bytes: k % 97 === 0 ? 0 : k * 4096, rss_bytes: 1e8 + k }));
  return buildEpisode({ replace: { proc: rows.map((x) => jsonLine(x) + "\n").join("") } });
}

describeWith("native", "features parity: native vs reference", () => {
  let dir: string;
  let native: Featurizer;
  let nativeSchema: () => { channels: unknown[]; stats: string[]; features: string[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cis490-features-"));
    const mod = await import("../src/native/features.js");
    native = mod.nativeFeaturizer;
    nativeSchema = mod.nativeFeatureSchema;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function expectSameFiles(label: string, paths: string[], options: FeatureOptions, inspect: InspectOptions = DEFAULT_INSPECT_OPTIONS): Promise<number> {
    const n = await native.featurizeFiles(paths, options, inspect, 2);
    const r = await referenceFeaturizer.featurizeFiles(paths, options, inspect, 1);
    expect(n.length).toBe(paths.length);
    let windows = 0;
    for (let i = 0; i < paths.length; i++) {
      const diff = differences(n[i], r[i]);
      expect(diff, `${label}: ${paths[i]} ${JSON.stringify(options)}:\n  ${diff.join("\n  ")}`).toEqual([]);
      windows += n[i].n_windows;
    }
    if (process.env.FEATURES_PARITY_STATS) {
      let notBitExact = 0, values = 0, nan = 0, single = 0;
      const errors: Record<string, number> = {};
      for (let i = 0; i < paths.length; i++) {
        if (n[i].error) errors[n[i].error!] = (errors[n[i].error!] ?? 0) + 1;
        for (let j = 0; j < n[i].summary.length; j++) {
          values++;
          if (Number.isNaN(n[i].summary[j])) nan++;
          else if (!Object.is(n[i].summary[j], r[i].summary[j])) notBitExact++;
          if (j % 5 === 1 && n[i].summary[j] === 0 && n[i].summary[j + 3] === 0) single++;
        }
        for (let j = 0; j < (n[i].x?.length ?? 0); j++) if (!Object.is(n[i].x![j], r[i].x![j])) notBitExact++;
      }
      console.log(label, JSON.stringify({ files: paths.length, windows, values, nan, notBitExact, zeroStdAndSlope: single, errors }));
    }
    return windows;
  }

  let counter = 0;
  function write(buf: Uint8Array): string {
    const p = join(dir, `case-${counter++}.tar.zst`);
    writeFileSync(p, buf);
    return p;
  }

  it("the registry: native featureSchema() equals src/features/channels.ts", () => {
    const s = nativeSchema();
    expect(s.channels).toEqual(CHANNELS.map(({ name, source, kind, deployed }) => ({ name, source, kind, deployed })));
    expect(s.stats).toEqual([...STATS]);
    expect(s.features).toEqual(FEATURE_NAMES);
  });

  it("hostile and edge archives (errors agree, survivors featurise alike)", async () => {
    const cases = hostileCases();
    const paths = cases.map((c) => write(c.build()));
    paths.push(join(dir, "missing.tar.zst"));
    for (const o of [TENSORS, ODD_GRID]) await expectSameFiles("hostile", paths, o);
  });

  it("degraded episodes: missing netflow, dead guest agent, empty members, counter resets", async () => {
    const bufs = [
      buildEpisode(),
      buildEpisode({ drop: ["netflow"] }),
      buildEpisode({ drop: ["guest"] }),
      buildEpisode({ drop: ["guest", "netflow"] }),
      buildEpisode({ drop: ["proc", "qmp"] }),
      buildEpisode({ replace: { netflow: "", guest: "\n\n" } }),
      buildEpisode({ drop: ["meta"] }), // duration from the last row
      buildEpisode({ meta: { result: { duration_observed_s: null } }, durationS: 33 }),
      buildEpisode({ drop: ["labels"] }),
      buildEpisode({ phases: [["clean", 0], ["armed", 3], ["exfiltrating", 9]] }),
      resetEpisode(),
    ];
    const paths = bufs.map(write);
    for (const o of [TENSORS, ODD_GRID, DEFAULT_FEATURE_OPTIONS]) await expectSameFiles("degraded", paths, o);
  });

  it("200 random tiny episodes (repeats, out of order, nulls, resets, single-sample windows)", async () => {
    const paths = Array.from({ length: 200 }, (_, s) => write(randomTiny(s + 1)));
    const w = await expectSameFiles("random", paths, TENSORS);
    expect(w).toBeGreaterThan(100);
    await expectSameFiles("random", paths, ODD_GRID);
  });

  it("50 varied episodes, also under tight decoder limits", async () => {
    const paths = Array.from({ length: 50 }, (_, s) => write(variedEpisode(s + 1)));
    await expectSameFiles("varied", paths, TENSORS);
    await expectSameFiles("varied tight", paths.slice(0, 10), TENSORS, { ...DEFAULT_INSPECT_OPTIONS, max_rows: 37 });
    await expectSameFiles("varied tight", paths.slice(0, 10), TENSORS, { ...DEFAULT_INSPECT_OPTIONS, max_total_bytes: 30_000 });
  });

  it("a synthetic store: 150 episodes, standard faults", async () => {
    const store = join(dir, "store");
    await synthStore({ out: store, episodes: 150, seed: "4901", faults: "standard", hosts: 3, jobs: 1 });
    const paths: string[] = [];
    for (const host of readdirSync(store).sort()) {
      const d = join(store, host);
      if (!statSync(d).isDirectory()) continue;
      for (const f of readdirSync(d).sort()) if (f.endsWith(".tar.zst")) paths.push(join(d, f));
    }
    expect(paths.length).toBeGreaterThan(140);
    const windows = await expectSameFiles("synth", paths, TENSORS);
    expect(windows).toBeGreaterThan(1000);
    await expectSameFiles("synth", paths.slice(0, 30), ODD_GRID);
  });
});
