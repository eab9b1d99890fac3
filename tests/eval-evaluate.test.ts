// evaluateModel: breakdowns, untested profiles, detection and warnings on a
// small hand-made test side where every number can be checked by hand.

import { describe, expect, it } from "vitest";
import { compareModels, detection, episodeGroups, evaluateModel, type TestWindows } from "../src/eval/evaluate.js";
import { f1Scores } from "../src/stats/metrics.js";

// Two episodes, 4 windows each: clean, infecting, infected_running, dormant.
function windows(): TestWindows {
  const ep = ["a", "a", "a", "a", "b", "b", "b", "b"];
  return {
    episode_id: ep,
    host_id: ep.map(() => "k-gamingcom"),
    profile: ["cpu-saturate", "cpu-saturate", "cpu-saturate", "cpu-saturate", "io-walk", "io-walk", "io-walk", "io-walk"],
    label: Int32Array.from([0, 2, 3, 4, 0, 2, 3, 4]),
    t_center_s: Float64Array.from([5, 10, 15, 20, 5, 10, 15, 20]),
    infecting_start_s: Float64Array.from([8, 8, 8, 8, 7, 7, 7, 7]),
  };
}
const identity = { model: "gbt", mode: "realistic" as const, checkpoint: "x", schema_hash: "h", split: { path: "s", recipe: "host", untested_profiles: ["scan-and-dial"] }, trained_labels: { phases: [], source: "trained_labels" as const } };
const settings = { resamples: 200, seed: 1, unit: "episode" as const };

describe("evaluateModel", () => {
  it("reports sklearn's point estimates, untested profiles and detection", async () => {
    const w = windows();
    // Episode a: detected at its infected_running window (delay 15-8 = 7 s); episode b: missed.
    const pred = Int32Array.from([0, 0, 3, 4, 0, 0, 0, 4]);
    const e = await evaluateModel(identity, w, pred, settings);
    expect(e.macro_f1.point).toBeCloseTo(f1Scores(w.label, pred).macroF1, 12);
    expect(e.n_episodes).toBe(2);
    const untested = e.per_profile.filter((r) => r.status === "untested").map((r) => r.key);
    expect(untested.sort()).toEqual(["bursty-c2", "low-and-slow", "scan-and-dial", "shell-resident"]);
    expect(e.per_profile.find((r) => r.key === "scan-and-dial")?.macro_f1).toBeNull();
    expect(e.detection).toEqual({ infected_episodes: 2, detected: 1, rate: 0.5, median_delay_s: 7 });
    expect(e.confusion.labels).toEqual(["clean", "infecting", "infected_running", "dormant"]);
    expect(e.warnings).toEqual(["never predicts: infecting"]);
    expect(e.macro_f1.lo).not.toBeNull();
  });

  it("warns about a model that predicts a single class, and refuses an empty test side", async () => {
    const w = windows();
    const e = await evaluateModel(identity, w, new Int32Array(8), settings);
    expect(e.warnings[0]).toMatch(/single class \(clean\)/);
    expect(e.detection.detected).toBe(0);
    const empty: TestWindows = { episode_id: [], host_id: [], profile: [], label: new Int32Array(0), t_center_s: new Float64Array(0), infecting_start_s: new Float64Array(0) };
    await expect(evaluateModel(identity, empty, new Int32Array(0), settings)).rejects.toThrow(/no windows/);
  });

  it("compares every pair on the same resamples", async () => {
    const w = windows();
    const perfect = Int32Array.from(w.label);
    const poor = new Int32Array(8);
    const rows = await compareModels(w, new Map([["good", perfect], ["bad", poor]]), settings);
    expect(rows).toHaveLength(1);
    expect(rows[0].a).toBe("good");
    expect(rows[0].diff.point).toBeGreaterThan(0.5);
  });

  it("scores over a fixed label list: absent listed phases count 0, outside truth is flagged", async () => {
    const w = windows();
    const pred = Int32Array.from([0, 0, 3, 4, 0, 0, 0, 4]);
    // Phases 0..4 (armed = 1 never occurs) vs the union {0, 2, 3, 4}.
    const e = await evaluateModel(identity, w, pred, { ...settings, labels: [0, 1, 2, 3, 4] });
    expect(e.macro_f1.point).toBeCloseTo(f1Scores(w.label, pred, [0, 1, 2, 3, 4]).macroF1, 12);
    expect(e.macro_f1.point).toBeCloseTo((f1Scores(w.label, pred).macroF1 * 4) / 5, 12);
    expect(e.per_class.map((c) => c.name)).toEqual(["clean", "armed", "infecting", "infected_running", "dormant"]);
    expect(e.per_class[1].f1.point).toBe(0);
    expect(e.confusion.labels).toEqual(["clean", "armed", "infecting", "infected_running", "dormant"]);
    // Dormant is not listed: flagged, and not a class.
    const narrow = await evaluateModel(identity, w, pred, { ...settings, labels: [0, 2, 3] });
    expect(narrow.per_class.map((c) => c.name)).toEqual(["clean", "infecting", "infected_running"]);
    expect(narrow.warnings.join("\n")).toMatch(/outside the label set.*dormant \(2\)/);
    // A paired comparison scores both models over the list.
    const rows = await compareModels(w, new Map([["a", pred], ["b", new Int32Array(8)]]), { ...settings, labels: [0, 1, 2, 3, 4] });
    expect(rows[0].diff.point).toBeCloseTo(f1Scores(w.label, pred, [0, 1, 2, 3, 4]).macroF1 - f1Scores(w.label, new Int32Array(8), [0, 1, 2, 3, 4]).macroF1, 12);
  });

  it("numbers episodes densely in first-seen order", () => {
    expect([...episodeGroups(["x", "y", "x", "z"])]).toEqual([0, 1, 0, 2]);
    const w = windows();
    expect(detection(w, Int32Array.from(w.label)).median_delay_s).toBe(2.5);
  });
});
