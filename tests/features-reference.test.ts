// The TypeScript twin of the featurizer (src/reference/features.ts) against
// hand-computed expectations on tiny constructed episodes (docs/features.md).

import { describe, expect, it } from "vitest";
import { CHANNELS, FEATURE_NAMES, featureIndices, channelIndices, N_FEATURES } from "../src/features/channels.js";
import { DEFAULT_FEATURE_OPTIONS, type EpisodeWindows, type FeatureOptions } from "../src/features/types.js";
import { DEFAULT_INSPECT_OPTIONS } from "../src/episode/report.js";
import { featurizeBytes, quantile, referenceFeaturizer } from "../src/reference/features.js";
import { buildEpisode, T0 } from "./helpers/hostile.js";
import { row, tinyEpisode, type TinyEpisode } from "./helpers/feature-episodes.js";

const TENSORS: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, tensors: true };

const ch = (name: string) => {
  const i = CHANNELS.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`no channel ${name}`);
  return i;
};

function feat(spec: TinyEpisode, options: FeatureOptions = TENSORS): EpisodeWindows {
  return featurizeBytes(tinyEpisode(spec), options);
}

function stats(w: EpisodeWindows, k: number, channel: string): number[] {
  const at = k * N_FEATURES + ch(channel) * 5;
  return Array.from(w.summary.subarray(at, at + 5));
}

function expectStats(got: number[], want: number[]): void {
  expect(got.length).toBe(5);
  got.forEach((g, i) => (Number.isNaN(want[i]) ? expect(g).toBeNaN() : expect(g).toBeCloseTo(want[i], 10)));
}

/** x and mask of channel `name` in window k at grid point j (T = 100). */
function point(w: EpisodeWindows, k: number, name: string, j: number): [number, number] {
  const at = (k * 46 + ch(name)) * 100 + j;
  return [w.x![at], w.mask![at]];
}

describe("channel registry", () => {
  it("has 46 channels, 29 deployed, 230 features, 145 realistic", () => {
    expect(CHANNELS.length).toBe(46);
    expect(CHANNELS.filter((c) => c.deployed).map((c) => c.source)).toEqual([...Array(16).fill("guest"), ...Array(13).fill("netflow")]);
    expect(FEATURE_NAMES.length).toBe(230);
    expect(FEATURE_NAMES.slice(0, 5)).toEqual(["proc.cpu_user_jiffies.mean", "proc.cpu_user_jiffies.std", "proc.cpu_user_jiffies.p50", "proc.cpu_user_jiffies.p95", "proc.cpu_user_jiffies.slope"]);
    expect(featureIndices("realistic").length).toBe(145);
    expect(featureIndices("realistic")[0]).toBe(50); // guest.cpu_user.mean
    expect(featureIndices("oracle").length).toBe(230);
    expect(channelIndices("realistic")).toEqual([...[...Array(16).keys()].map((i) => i + 10), ...[...Array(13).keys()].map((i) => i + 33)]);
    expect(CHANNELS.filter((c) => c.kind === "counter").map((c) => c.name)).toContain("guest.eth0_tx_pkts");
    expect(CHANNELS.filter((c) => c.source === "netflow").every((c) => c.kind === "level")).toBe(true);
  });
});

describe("per-channel samples", () => {
  it("turns a counter into per-second rates, dropping the first row", () => {
    const w = feat({ proc: [row(0, { cpu_user_jiffies: 0 }), row(1, { cpu_user_jiffies: 10 }), row(2, { cpu_user_jiffies: 30 }), row(3, { cpu_user_jiffies: 30 })] });
    expect(w.n_windows).toBe(1);
    // rates 10 @1, 20 @2, 0 @3: mean 10, std sqrt(200/3), p95 = 10 + 10 * 0.9, slope -10 / 2
    expectStats(stats(w, 0, "proc.cpu_user_jiffies"), [10, Math.sqrt(200 / 3), 10, 19, -5]);
    expect(point(w, 0, "proc.cpu_user_jiffies", 9)).toEqual([0, 0]); // before the first rate (t = 1)
    expect(point(w, 0, "proc.cpu_user_jiffies", 15)).toEqual([15, 1]);
  });

  it("counter reset -> NaN (skipped by stats and interpolation)", () => {
    const w = feat({ proc: [row(0, { io_write_bytes: 0 }), row(1, { io_write_bytes: 10 }), row(2, { io_write_bytes: 5 }), row(3, { io_write_bytes: 15 })] });
    expectStats(stats(w, 0, "proc.io_write_bytes"), [10, 0, 10, 10, 0]);
    expect(point(w, 0, "proc.io_write_bytes", 20)).toEqual([10, 1]); // between the two finite rates
  });

  it("dt 0 -> NaN; null values -> NaN", () => {
    const w = feat({
      proc: [row(1, { minor_faults: 0 }), row(1, { minor_faults: 5 }), row(2, { minor_faults: 7 }), row(3, { minor_faults: null }), row(4, { minor_faults: 20 })],
    });
    expectStats(stats(w, 0, "proc.minor_faults"), [2, 0, 2, 2, 0]);
    const lvl = feat({ proc: [row(1, { rss_bytes: 1e400 }), row(2, { rss_bytes: 4 }), row(3, { rss_bytes: null })] });
    expectStats(stats(lvl, 0, "proc.rss_bytes"), [4, 0, 4, 4, 0]);
  });

  it("sorts repeated and out-of-order netflow rows stably", () => {
    const w = feat({
      netflow: [row(2, { bytes_out: 100 }), row(1, { bytes_out: 10 }), row(1, { bytes_out: 20 }), row(3, { bytes_out: 300 })],
      guest: [row(2, { net: { eth0: { tx_bytes: 30 } } }), row(0, { net: { eth0: { tx_bytes: 0 } } }), row(1, { net: { eth0: { tx_bytes: 10 } } })],
    });
    const s = stats(w, 0, "netflow.bytes_out");
    expect(s[0]).toBeCloseTo(107.5, 12);
    expect(s[2]).toBe(60); // sorted 10 20 100 300
    expect(point(w, 0, "netflow.bytes_out", 10)).toEqual([20, 1]); // tie at t = 1: the later row in file order
    expect(point(w, 0, "netflow.bytes_out", 15)).toEqual([60, 1]);
    expectStats(stats(w, 0, "guest.eth0_tx_bytes"), [15, 5, 15, 19.5, 10]); // rates 10 @1, 20 @2
  });

  it("reads guest cpu_* from cpu_total_jiffies and load from load_1m_5m_15m", () => {
    const w = feat({
      guest: [row(0, { cpu_total_jiffies: { user: 0, system: 1 }, load_1m_5m_15m: [0.5, 0, 0] }), row(2, { cpu_total_jiffies: { user: 50, system: 1 }, load_1m_5m_15m: [1.5, 0, 0] })],
    });
    expectStats(stats(w, 0, "guest.cpu_user"), [25, 0, 25, 25, 0]);
    expectStats(stats(w, 0, "guest.cpu_sys"), [0, 0, 0, 0, 0]);
    expectStats(stats(w, 0, "guest.load_1m"), [1, 0.5, 1, 1.45, 0.5]);
    expectStats(stats(w, 0, "guest.cpu_idle"), [NaN, NaN, NaN, NaN, NaN]);
  });
});

describe("windows", () => {
  const count = (duration: number | null) =>
    feat({ duration, netflow: [row(0, { pkts_in: 1 }), row(37, { pkts_in: 1 })] }, DEFAULT_FEATURE_OPTIONS);

  it("counts windows from the duration (a_k + W <= D)", () => {
    expect(count(50).n_windows).toBe(9);
    expect(count(49.99).n_windows).toBe(8);
    expect(count(10).n_windows).toBe(1);
    expect(count(9.99).n_windows).toBe(0);
    // No meta duration: the last proc/guest/qmp/netflow row (37 s) -> starts 0..25.
    expect([count(null).n_windows, count(null).duration_s]).toEqual([6, 37]);
    expect(count(-1).n_windows).toBe(6);
    const w = feat({ duration: 20, netflow: [row(0, { pkts_in: 1 })] }, { window_s: 4, stride_s: 2.5, hz: 10, tensors: false });
    expect(Array.from(w.t_start_s)).toEqual([0, 2.5, 5, 7.5, 10, 12.5, 15]);
    expect(w.t0_wall_ns).toBe(T0.toString());
  });

  it("membership is half-open [a, a + W); single samples have std 0 and slope 0", () => {
    const w = feat({ duration: 15, netflow: [row(5, { pkts_in: 1 }), row(10, { pkts_in: 2 })] });
    expectStats(stats(w, 0, "netflow.pkts_in"), [1, 0, 1, 1, 0]);
    expectStats(stats(w, 1, "netflow.pkts_in"), [1.5, 0.5, 1.5, 1.95, 0.2]);
  });

  it("labels each window with the phase at its centre", () => {
    const w = feat({ duration: 25, labels: [[0, "clean"], [10, "armed"], [15, "infecting"], [19, "infected_running"], [21, "dormant"]] });
    expect(Array.from(w.phase)).toEqual([0, 1, 2, 3]);
    // t0 = the first label in file order; before it: clean; unknown phase: -1.
    const odd = feat({ duration: 36, labels: [[6, "armed"], [0, "failed"], [20, "exfiltrating"]] });
    expect(Array.from(odd.phase)).toEqual([5, 5, -1, -1, -1, -1]);
    expect(odd.t0_wall_ns).toBe((T0 + 6_000_000_000n).toString());
    // First label row of each phase, relative to t0 (the first row: armed at 6 s).
    expect(Array.from(w.phase_start_s)).toEqual([0, 10, 15, 19, 21, NaN]);
    expect(Array.from(odd.phase_start_s)).toEqual([NaN, 0, NaN, NaN, NaN, -6]);
  });

  it("the standard episode: 9 windows, phases at the centres", () => {
    const w = featurizeBytes(buildEpisode(), TENSORS);
    expect(w.error).toBeNull();
    expect(Array.from(w.phase)).toEqual([1, 2, 3, 3, 3, 3, 3, 4, 4]);
    // proc CPU at 90 % while running: 9 jiffies per 0.1 s = 90 / s.
    const s = stats(w, 3, "proc.cpu_user_jiffies");
    expect(s[0]).toBeCloseTo(90, 6);
    expect(s[1]).toBeCloseTo(0, 6);
    expect(w.x!.length).toBe(9 * 46 * 100);
  });
});

describe("statistics", () => {
  it("p50 / p95 are numpy's linear percentiles", () => {
    // np.percentile([0.1, 7, -3, 2.5, 100], [50, 95]) == [2.5, 81.4]
    const s = Float64Array.from([0.1, 7, -3, 2.5, 100]).sort();
    expect(quantile(s, 0.5)).toBe(2.5);
    expect(quantile(s, 0.95)).toBeCloseTo(81.4, 12);
    // np.percentile([1, 2, 3, 4], [50, 95]) == [2.5, 3.85]
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantile([5], 0.95)).toBe(5);
  });

  it("missing sources -> NaN features and an all-false mask", () => {
    const w = feat({ proc: [row(0, { rss_bytes: 1 }), row(1, { rss_bytes: 2 })] });
    CHANNELS.forEach((c, i) => {
      if (c.name === "proc.rss_bytes") return;
      expect(Array.from(w.summary.subarray(i * 5, i * 5 + 5)).every(Number.isNaN), c.name).toBe(true);
      expect(w.mask!.subarray(i * 100, (i + 1) * 100).every((m) => m === 0)).toBe(true);
      expect(w.x!.subarray(i * 100, (i + 1) * 100).every((m) => m === 0)).toBe(true);
    });
  });
});

describe("tensors", () => {
  it("interpolates linearly using samples outside the window; exact hits take the sample", () => {
    const w = feat({
      duration: 15,
      guest: [row(0.05, { mem_cached_bytes: 1 }), row(0.25, { mem_cached_bytes: 3 }), row(7, { mem_cached_bytes: 10 }), row(12, { mem_cached_bytes: 0 })],
    });
    expect(w.n_windows).toBe(2);
    const c = "guest.mem_cached";
    expect(point(w, 0, c, 0)).toEqual([0, 0]); // before the first sample
    expect(point(w, 0, c, 1)[0]).toBeCloseTo(1.5, 6);
    expect(point(w, 0, c, 2)[0]).toBeCloseTo(2.5, 6);
    expect(point(w, 0, c, 70)).toEqual([10, 1]);
    expect(point(w, 1, c, 0)[0]).toBeCloseTo(Math.fround(3 + 7 * ((5 - 0.25) / (7 - 0.25))), 6);
    expect(point(w, 1, c, 70)).toEqual([0, 1]); // exact hit on a zero value: mask true
    expect(point(w, 1, c, 71)).toEqual([0, 0]); // after the last sample
  });

  it("without tensors x and mask are null", () => {
    const w = feat({}, DEFAULT_FEATURE_OPTIONS);
    expect(w.x).toBeNull();
    expect(w.mask).toBeNull();
    expect(w.summary.length).toBe(230);
  });
});

describe("errors", () => {
  it("fatal decode, missing file, no labels, limits", async () => {
    expect(featurizeBytes(Buffer.from("not zstd"), TENSORS)).toMatchObject({ error: "zstd-error", n_windows: 0, t0_wall_ns: null });
    const [missing] = await referenceFeaturizer.featurizeFiles(["/nonexistent/x.tar.zst"], TENSORS, DEFAULT_INSPECT_OPTIONS, 1);
    expect(missing.error).toBe("ENOENT");
    expect(missing.x!.length).toBe(0);
    const noLabels = featurizeBytes(buildEpisode({ drop: ["labels"] }), TENSORS);
    expect(noLabels).toMatchObject({ error: null, n_windows: 0, t0_wall_ns: null, duration_s: null });
    expect(feat({ duration: 1e9 }).error).toBe("limit:windows");
    expect(feat({ duration: 1e5 }).error).toBe("limit:tensor-values");
    expect(feat({ duration: 1e5 }, DEFAULT_FEATURE_OPTIONS).error).toBeNull();
    await expect(referenceFeaturizer.featurizeFiles([], { ...TENSORS, hz: 0 }, DEFAULT_INSPECT_OPTIONS, 1)).rejects.toThrow(/hz/);
  });
});
