// Classification and quality rules on hand-made reports: every reason, its
// class, and the precedence between classes. (Built stores run through the
// real engines in store-sweep.test.ts.)

import { describe, expect, it } from "vitest";
import type { EpisodeReport, MemberStats } from "../src/episode/report.js";
import { classifyEpisode, classOf } from "../src/store/classify.js";
import type { IndexRecord } from "../src/store/index-file.js";
import { isFlat, qualityFacts, qualityReasons } from "../src/store/quality.js";

const member = (rows: number, present = true): MemberStats => ({ present, rows, skipped: 0, bytes: rows * 100 });

function goodReport(): EpisodeReport {
  return {
    size_bytes: 1000,
    sha256: "ab".repeat(32),
    io_error: null,
    fatal: null,
    fatal_detail: null,
    findings: [],
    meta_present: true,
    meta_error: null,
    meta: {
      schema_version: 1,
      episode_id: "ep-1",
      host_id: "h1",
      started_at: "2026-04-02T10:11:12Z",
      sample_present: true,
      sample_name: "xmrig-6.21",
      sample_kind: "miner",
      profile: "cpu-saturate",
      module_name: "ssh-weak-cred",
      duration_observed_s: 60,
      outcome: "completed",
    },
    members: { labels: member(5), events: member(2), proc: member(600), guest: member(60), qmp: member(120), netflow: member(60) },
    labels: { count: 5, monotonic: true, unknown_phases: [], phases: [0, 1, 2, 3, 4], t0_wall_ns: "1775124672000000000" },
    duration_s: 60,
    proc_span_s: 59.9,
    events: { workload_events: 2, workload_failed: false, killed_dormant_probe_zero: false },
    signals: {
      proc: { verdict: "signal", spread: 70 },
      netflow: { verdict: "signal", spread: 1e6 },
      qmp: { verdict: "signal", spread: 1e7 },
      guest: { verdict: "signal", spread: 1.4 },
    },
    columns: null,
  };
}

const record: IndexRecord = { episode_id: "ep-1", host_id: "h1", sha256: "ab".repeat(32), size_bytes: 1000, received_at: "x" };
const id = { episode_id: "ep-1", host_id: "h1" };

function classify(mutate: (r: EpisodeReport) => void, rec: IndexRecord | null = record) {
  const r = goodReport();
  mutate(r);
  return classifyEpisode(rec, r, id, { min_proc_rows: 50 });
}

describe("classifyEpisode", () => {
  it("accepts a good episode", () => {
    expect(classify(() => {})).toEqual({ class: "accepted", reasons: [] });
  });

  const cases: Array<[string, (r: EpisodeReport) => void, string, string[]]> = [
    ["io error", (r) => void (r.io_error = "EACCES"), "errored", ["io-error"]],
    ["zstd error", (r) => void (r.fatal = "zstd-error"), "errored", ["zstd-error"]],
    ["tar error", (r) => void (r.fatal = "tar-error"), "errored", ["tar-error"]],
    ["limit", (r) => void (r.fatal = "limit:total-bytes"), "errored", ["limit:total-bytes"]],
    ["sha mismatch", (r) => void (r.sha256 = "cd".repeat(32)), "rejected", ["sha256-mismatch"]],
    ["size mismatch", (r) => void (r.size_bytes = 999), "rejected", ["size-mismatch"]],
    ["symlink", (r) => void r.findings.push({ code: "symlink", member: "ep/x" }), "rejected", ["suspicious-entry:symlink"]],
    ["unsafe path", (r) => void r.findings.push({ code: "unsafe-path", member: "../x" }), "rejected", ["suspicious-entry:unsafe-path"]],
    ["hardlink", (r) => void r.findings.push({ code: "hardlink", member: "x" }), "rejected", ["suspicious-entry:hardlink"]],
    ["special file", (r) => void r.findings.push({ code: "special-file", member: "x" }), "rejected", ["suspicious-entry:special-file"]],
    ["duplicate member", (r) => void r.findings.push({ code: "duplicate-member", member: "x" }), "rejected", ["suspicious-entry:duplicate-member"]],
    ["line limit only", (r) => void r.findings.push({ code: "limit:line-bytes", member: "x" }), "accepted", []],
    ["depth limit only", (r) => void r.findings.push({ code: "limit:depth", member: "x" }), "accepted", []],
    ["skipped rows only", (r) => void (r.members.proc.skipped = 17), "accepted", []],
    ["no meta", (r) => { r.meta_present = false; r.meta = null; }, "rejected", ["missing-member:meta.json"]],
    ["no labels member", (r) => { r.members.labels = member(0, false); r.labels.count = 0; }, "rejected", ["missing-member:labels.jsonl"]],
    ["no proc member", (r) => void (r.members.proc = member(0, false)), "rejected", ["missing-member:telemetry-proc.jsonl"]],
    ["meta invalid", (r) => { r.meta_error = "invalid-json"; r.meta = null; }, "rejected", ["meta-invalid"]],
    ["meta episode mismatch", (r) => void (r.meta!.episode_id = "ep-9"), "rejected", ["meta-mismatch"]],
    ["meta host mismatch", (r) => void (r.meta!.host_id = "h9"), "rejected", ["meta-mismatch"]],
    ["no labels", (r) => { r.members.labels = member(0); r.labels.count = 0; }, "rejected", ["no-labels"]],
    ["unknown phase", (r) => void (r.labels.unknown_phases = ["bogus"]), "rejected", ["unknown-phase"]],
    ["non-monotonic", (r) => void (r.labels.monotonic = false), "rejected", ["labels-non-monotonic"]],
    ["too few proc rows", (r) => void (r.members.proc = member(49)), "rejected", ["too-few-proc-rows"]],
    ["missing netflow", (r) => void (r.members.netflow = member(0, false)), "degraded", ["missing-netflow"]],
    ["empty netflow", (r) => void (r.members.netflow = member(0)), "degraded", ["empty-netflow"]],
    ["missing guest", (r) => void (r.members.guest = member(0, false)), "degraded", ["missing-guest"]],
    ["empty guest", (r) => void (r.members.guest = member(0)), "degraded", ["empty-guest"]],
  ];
  for (const [name, mutate, cls, reasons] of cases) {
    it(`${name} -> ${cls}`, () => {
      expect(classify(mutate)).toEqual({ class: cls, reasons });
    });
  }

  it("50 proc rows are enough", () => {
    expect(classify((r) => void (r.members.proc = member(50))).class).toBe("accepted");
  });

  it("orphans are rejected as not-in-index", () => {
    expect(classify(() => {}, null)).toEqual({ class: "rejected", reasons: ["not-in-index"] });
  });

  it("a missing tarball is errored", () => {
    expect(classifyEpisode(record, "file-missing", id)).toEqual({ class: "errored", reasons: ["tarball-missing"] });
  });

  it("precedence: errored > rejected > degraded, listing every reason", () => {
    const all = classify((r) => {
      r.members.netflow = member(0, false);
      r.sha256 = "cd".repeat(32);
      r.fatal = "tar-error";
    });
    expect(all).toEqual({ class: "errored", reasons: ["tar-error", "sha256-mismatch"] });
    const rej = classify((r) => {
      r.members.netflow = member(0, false);
      r.members.guest = member(0);
      r.labels.monotonic = false;
      r.findings.push({ code: "symlink", member: "a" }, { code: "symlink", member: "b" });
    });
    expect(rej).toEqual({
      class: "rejected",
      reasons: ["suspicious-entry:symlink", "labels-non-monotonic", "missing-netflow", "empty-guest"],
    });
    expect(classOf(["missing-guest", "empty-netflow"])).toBe("degraded");
    expect(classOf(["missing-guest", "no-labels"])).toBe("rejected");
    expect(classOf(["no-labels", "tarball-missing"])).toBe("errored");
  });
});

describe("quality reasons", () => {
  const reasonsOf = (mutate: (r: EpisodeReport) => void): string[] => {
    const r = goodReport();
    mutate(r);
    return qualityReasons(qualityFacts(r));
  };
  const flat = (r: EpisodeReport): void => {
    for (const s of ["proc", "netflow", "qmp", "guest"] as const) r.signals[s] = { verdict: "flat", spread: 0 };
  };

  it("a good episode has none", () => expect(reasonsOf(() => {})).toEqual([]));
  it("no-sample", () => expect(reasonsOf((r) => void (r.meta!.sample_present = false))).toEqual(["no-sample"]));
  it("no-sample needs meta", () => expect(reasonsOf((r) => void (r.meta = null))).toEqual([]));
  it("no-workload-events", () => expect(reasonsOf((r) => void (r.events.workload_events = 0))).toEqual(["no-workload-events"]));
  it("workload-failed", () => expect(reasonsOf((r) => void (r.events.workload_failed = true))).toEqual(["workload-failed"]));
  it("flat-cpu", () => expect(reasonsOf(flat)).toEqual(["flat-cpu"]));
  it("unknown sources do not count as flat or signal", () => {
    expect(
      reasonsOf((r) => {
        flat(r);
        r.signals.netflow = { verdict: "unknown", spread: null };
        r.signals.guest = { verdict: "unknown", spread: null };
      }),
    ).toEqual(["flat-cpu"]);
    expect(reasonsOf((r) => { flat(r); r.signals.qmp = { verdict: "signal", spread: 1e6 }; })).toEqual([]);
  });
  it("all unknown is not flat", () => {
    const r = goodReport();
    for (const s of ["proc", "netflow", "qmp", "guest"] as const) r.signals[s] = { verdict: "unknown", spread: null };
    expect(isFlat(qualityFacts(r))).toBe(false);
  });
  it("no labels means no verdict", () => {
    expect(reasonsOf((r) => { flat(r); r.labels.count = 0; r.members.labels = member(0); })).toEqual([]);
  });
  it("workload-silent needs the probe and flat-cpu", () => {
    expect(reasonsOf((r) => void (r.events.killed_dormant_probe_zero = true))).toEqual([]);
    expect(reasonsOf((r) => { flat(r); r.events.killed_dormant_probe_zero = true; })).toEqual(["flat-cpu", "workload-silent"]);
  });
});
