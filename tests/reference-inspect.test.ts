// The TypeScript reference decoder against docs/inspection.md, case by case.
// Expected values are stated by hand from how tests/helpers/hostile.ts builds
// each archive (see the comments there for the standard episode's numbers).

import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTar, tarHeader } from "../src/archive/tar-write.js";
import { DEFAULT_INSPECT_OPTIONS, type EpisodeReport, type InspectOptions } from "../src/episode/report.js";
import { inspectBytes, inspectFile, referenceInspector } from "../src/reference/inspect/inspect.js";
import { listTarEntries, MAX_PAX_BYTES, PaxError, TarError } from "../src/reference/inspect/archive.js";
import {
  buildEpisode,
  cut,
  episodeTar,
  episodeTexts,
  flipBytes,
  hostileCases,
  padBlock,
  paxHeader,
  rawHeader,
  T0,
  zeroMemberBomb,
  zst,
  zstdZeros,
} from "./helpers/hostile.js";

const GiB = 1024 ** 3;

function inspect(buf: Uint8Array, options: Partial<InspectOptions> = {}): EpisodeReport {
  return inspectBytes(buf, { ...DEFAULT_INSPECT_OPTIONS, ...options });
}

function hostile(name: string): { buf: Buffer; options: Partial<InspectOptions> } {
  const c = hostileCases().find((x) => x.name === name);
  if (!c) throw new Error(`no hostile case ${name}`);
  return { buf: c.build(), options: c.options ?? {} };
}

function inspectCase(name: string): EpisodeReport {
  const { buf, options } = hostile(name);
  return inspect(buf, options);
}

const rowsOf = (r: EpisodeReport) =>
  Object.fromEntries(Object.entries(r.members).map(([k, m]) => [k, m.present ? [m.rows, m.skipped] : null]));

const STANDARD_ROWS = {
  labels: [5, 0],
  events: [2, 0],
  proc: [500, 0],
  guest: [50, 0],
  qmp: [100, 0],
  netflow: [51, 0],
};

const NOTHING_READ = { labels: null, events: null, proc: null, guest: null, qmp: null, netflow: null };

describe("the standard valid episode", () => {
  const buf = buildEpisode();
  const texts = episodeTexts();
  const r = inspect(buf);

  it("reads every member", () => {
    expect(r.fatal).toBeNull();
    expect(r.fatal_detail).toBeNull();
    expect(r.io_error).toBeNull();
    expect(r.findings).toEqual([]);
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
    expect(r.members.proc.bytes).toBe(Buffer.byteLength(texts.proc));
    expect(r.members.netflow.bytes).toBe(Buffer.byteLength(texts.netflow));
    expect(r.size_bytes).toBe(buf.length);
    expect(r.sha256).toBe(createHash("sha256").update(buf).digest("hex"));
    expect(r.columns).toBeNull();
  });

  it("reports meta", () => {
    expect(r.meta_present).toBe(true);
    expect(r.meta_error).toBeNull();
    expect(r.meta).toEqual({
      schema_version: 1,
      episode_id: "ep-000123",
      host_id: "elliott-thinkpad",
      started_at: "2026-04-02T10:11:12Z",
      sample_present: true,
      sample_name: "xmrig-6.21",
      sample_kind: "miner",
      profile: "cpu-saturate",
      module_name: "ssh-weak-cred",
      duration_observed_s: 50,
      outcome: "completed",
    });
  });

  it("derives labels, duration, span and events", () => {
    expect(r.labels).toEqual({
      count: 5,
      monotonic: true,
      unknown_phases: [],
      phases: [0, 1, 2, 3, 4],
      t0_wall_ns: "1775124672000000000",
    });
    expect(r.duration_s).toBe(50);
    expect(r.proc_span_s).toBe(49.9);
    expect(r.events).toEqual({ workload_events: 2, workload_failed: false, killed_dormant_probe_zero: false });
  });

  it("finds a signal in every source", () => {
    // proc: medians 10 % outside, 90 % while running; netflow: 25 s x 100 kB vs 5 s x 150 B (clean);
    // qmp: 49 x 200 KiB while running, 0 elsewhere; guest: load 1.5 vs 0.2.
    expect(r.signals.proc.verdict).toBe("signal");
    expect(r.signals.proc.spread).toBeCloseTo(80, 9);
    expect(r.signals.netflow).toEqual({ verdict: "signal", spread: 2_500_000 - 750 });
    expect(r.signals.qmp).toEqual({ verdict: "signal", spread: 49 * 204800 });
    expect(r.signals.guest.verdict).toBe("signal");
    expect(r.signals.guest.spread).toBeCloseTo(1.3, 12);
  });

  it("returns typed columns on request", () => {
    const c = inspect(buf, { with_columns: true }).columns!;
    expect(Object.keys(c).sort()).toEqual(["events", "guest", "labels", "netflow", "proc", "qmp"]);
    expect(c.labels.phase).toEqual(["clean", "armed", "infecting", "infected_running", "dormant"]);
    expect(c.labels.t_wall_ns[1]).toBe((T0 + 5_000_000_000n).toString());
    expect(c.labels.t_mono_ns[1]).toBe("5000000000");
    expect(c.events.event).toEqual(["workload_started", "workload_killed"]);
    expect(c.events.probe_yes).toEqual([null, "1"]);
    expect(c.events.phase).toEqual(["infected_running", "dormant"]);
    expect(c.proc.t_wall_ns).toHaveLength(500);
    expect(c.proc.cpu_user_jiffies[0]).toBe(1000);
    expect(c.proc.cpu_sys_jiffies[499]).toBe(400);
    // Boot-relative netflow t_mono_ns is above 2^53: exact as a decimal string.
    expect(c.netflow.t_mono_ns[0]).toBe("9876543000123456");
    expect(c.netflow.t_wall_ns[8]).toBe(c.netflow.t_wall_ns[7]); // the repeated second
    expect(c.guest.load_1m[0]).toBe(0.2);
    expect(c.guest.n_listen_ports[0]).toBe(1);
    expect(c.guest.n_top_procs[0]).toBe(2);
    expect(c.guest.eth0_rx_bytes[3]).toBe(3000);
    expect(c.guest.cpu_softirq[3]).toBe(0);
    expect(c.qmp.blk_total_bytes[0]).toBe(40960);
    expect(c.qmp.kvm_pages_2m[0]).toBe(100);
    expect(Object.keys(c.qmp).sort()).toEqual(
      [
        "t_wall_ns",
        "t_mono_ns",
        "virtio0_rd_ops",
        "virtio0_wr_ops",
        "virtio0_rd_bytes",
        "virtio0_wr_bytes",
        "kvm_tlb_flush",
        "kvm_pages_4k",
        "kvm_pages_2m",
        "blk_total_bytes",
      ].sort(),
    );
  });
});

describe("quality signals on constructed episodes", () => {
  it("a flat episode is flat everywhere, and the dormant kill with probe 0 is seen", () => {
    const r = inspectCase("valid flat episode, probe zero");
    expect(r.signals).toEqual({
      proc: { verdict: "flat", spread: 0 },
      netflow: { verdict: "flat", spread: 3750 - 750 },
      qmp: { verdict: "flat", spread: 0 },
      guest: { verdict: "flat", spread: 0 },
    });
    expect(r.events.killed_dormant_probe_zero).toBe(true);
  });

  it("mixes flat and signal per source", () => {
    const r = inspect(buildEpisode({ flat: { proc: true, guest: true } }));
    expect(r.signals.proc.verdict).toBe("flat");
    expect(r.signals.guest.verdict).toBe("flat");
    expect(r.signals.qmp.verdict).toBe("signal");
    expect(r.signals.netflow.verdict).toBe("signal");
  });

  it("a probe of 0 outside dormant does not count; the phase field wins over time", () => {
    const events =
      '{"t_wall_ns":1775124690000000000,"event":"workload_killed","phase":"infected_running","pre_kill_probe":{"yes":"0"}}\n';
    expect(inspect(buildEpisode({ replace: { events } })).events.killed_dormant_probe_zero).toBe(false);
    // No phase field: the phase at t = 45 s is dormant.
    const byTime = '{"t_wall_ns":1775124717000000000,"event":"workload_killed","pre_kill_probe":{"yes":"0"}}\n';
    expect(inspect(buildEpisode({ replace: { events: byTime } })).events.killed_dormant_probe_zero).toBe(true);
    const failed = '{"t_wall_ns":1,"event":"workload_failed","error":{"any":["thing"]}}\n{"t_wall_ns":2,"event":"other"}\n';
    expect(inspect(buildEpisode({ replace: { events: failed } })).events).toEqual({
      workload_events: 1,
      workload_failed: true,
      killed_dormant_probe_zero: false,
    });
  });

  it("needs two phases with values; one label gives unknown", () => {
    const r = inspect(buildEpisode({ phases: [["clean", 0]] }));
    for (const s of ["proc", "netflow", "qmp", "guest"] as const) expect(r.signals[s]).toEqual({ verdict: "unknown", spread: null });
  });

  it("computes proc cpu% from sorted rows with dt > 0 only", () => {
    // Two phases; rows given out of order, one duplicate timestamp (dt = 0, skipped).
    const labels =
      '{"t_wall_ns":1000000000,"phase":"clean"}\n{"t_wall_ns":3000000000,"phase":"infected_running"}\n';
    const proc = [
      '{"t_wall_ns":2000000000,"cpu_user_jiffies":110,"cpu_sys_jiffies":0}', // 10 jiffies/s -> 10 %
      '{"t_wall_ns":1000000000,"cpu_user_jiffies":100,"cpu_sys_jiffies":0}',
      '{"t_wall_ns":4000000000,"cpu_user_jiffies":210,"cpu_sys_jiffies":0}', // 90 % (phase running)
      '{"t_wall_ns":4000000000,"cpu_user_jiffies":500,"cpu_sys_jiffies":0}', // dt = 0: skipped
      '{"t_wall_ns":3000000000,"cpu_user_jiffies":120,"cpu_sys_jiffies":null}', // NaN: pairs with it skipped
    ].join("\n");
    const r = inspect(buildEpisode({ replace: { labels, proc }, drop: ["guest", "qmp", "netflow"], meta: { result: null } }));
    expect(r.members.proc.rows).toBe(5);
    // Sorted: 1 s (100), 2 s (110), 3 s (NaN), 4 s (210), 4 s (500): pairs (1,2) -> 10 % clean; (3,4) and (2,3) NaN;
    // (4,4) dt 0. Only one phase has a value -> unknown.
    expect(r.signals.proc).toEqual({ verdict: "unknown", spread: null });
    expect(r.proc_span_s).toBe(3);
    expect(r.duration_s).toBe(3); // last telemetry sample (4 s) - t0 (1 s)
  });

  it("median of an even count is the mean of the middle two", () => {
    const labels = '{"t_wall_ns":0,"phase":"clean"}\n{"t_wall_ns":100,"phase":"armed"}\n';
    const guest = [0.1, 0.3, 0.2, 0.4].map((l, i) => `{"t_wall_ns":${i},"load_1m_5m_15m":[${l}]}`).join("\n");
    const guest2 = [1.0, 2.0].map((l, i) => `{"t_wall_ns":${200 + i},"load_1m_5m_15m":[${l},1,1]}`).join("\n");
    const r = inspect(buildEpisode({ replace: { labels, guest: guest + "\n" + guest2 } }));
    expect(r.signals.guest).toEqual({ verdict: "signal", spread: 1.5 - (0.2 + 0.3) / 2 });
  });

  it("qmp sums every block device and takes last - first per phase", () => {
    const labels = '{"t_wall_ns":0,"phase":"clean"}\n{"t_wall_ns":100,"phase":"armed"}\n';
    const qmp = [
      '{"t_wall_ns":150,"blockstats":{"virtio0":{"rd_bytes":0,"wr_bytes":500000},"sda":{"rd_bytes":1,"wr_bytes":null}}}',
      '{"t_wall_ns":10,"blockstats":{"virtio0":{"rd_bytes":0,"wr_bytes":100}}}',
      '{"t_wall_ns":20,"blockstats":{"virtio0":{"rd_bytes":0,"wr_bytes":300}}}',
      '{"t_wall_ns":120,"blockstats":{"sda":{"rd_bytes":1000,"wr_bytes":0}}}',
      '{"t_wall_ns":130,"blockstats":{}}',
      '{"t_wall_ns":140,"blockstats":{"virtio0":null}}', // not an object: skipped
      '{"t_wall_ns":140,"blockstats":{"sda":{"wr_bytes":"1"}}}', // every device is typed: skipped
    ].join("\n");
    const r = inspect(buildEpisode({ replace: { labels, qmp } }), { with_columns: true });
    expect(r.members.qmp).toMatchObject({ rows: 5, skipped: 2 });
    expect(r.columns!.qmp.blk_total_bytes).toEqual([500001, 100, 300, 1000, null]);
    // clean: 300 - 100 = 200; armed (sorted: 120 -> 1000, 150 -> 500001): 499001.
    expect(r.signals.qmp).toEqual({ verdict: "signal", spread: 499001 - 200 });
  });
});

describe("hostile archives", () => {
  it("path traversal and absolute names are findings, never read", () => {
    const r = inspectCase("path traversal");
    expect(r.findings).toEqual([
      { code: "unsafe-path", member: "../../etc/passwd" },
      { code: "unsafe-path", member: "ep/../../x" },
      { code: "unsafe-path", member: "ep/../meta.json" },
    ]);
    expect(r.meta?.episode_id).toBe("ep-000123");
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
    const a = inspectCase("absolute names");
    expect(a.findings).toEqual([
      { code: "unsafe-path", member: "/etc/passwd" },
      { code: "unsafe-path", member: "/ep-000123/labels.jsonl" },
    ]);
    expect(a.members.labels.rows).toBe(5);
  });

  it("symlinks and hard links are findings and do not claim a member", () => {
    const r = inspectCase("symlink and hardlink named like members");
    expect(r.findings).toEqual([
      { code: "symlink", member: "ep-000123/meta.json" },
      { code: "hardlink", member: "ep-000123/labels.jsonl" },
      { code: "symlink", member: "ep-000123/escape" },
    ]);
    expect(r.meta_present).toBe(true);
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
    const only = inspectCase("symlink instead of meta.json");
    expect(only.findings).toEqual([{ code: "symlink", member: "ep-000123/meta.json" }]);
    expect(only.meta_present).toBe(false);
    expect(only.meta).toBeNull();
    expect(only.meta_error).toBeNull();
    expect(only.duration_s).toBe(49.9); // no meta: last telemetry row (proc at 49.9 s) - t0
  });

  it("devices and FIFOs are special files", () => {
    const r = inspectCase("devices and fifo");
    expect(r.findings.map((f) => f.code)).toEqual(["special-file", "special-file", "special-file"]);
    expect(r.findings[2].member).toBe("ep-000123/telemetry-proc.jsonl");
    expect(r.members.proc.rows).toBe(500);
  });

  it("duplicate members: the first copy wins", () => {
    const r = inspectCase("duplicate members");
    expect(r.findings).toEqual([
      { code: "duplicate-member", member: "./labels.jsonl" },
      { code: "duplicate-member", member: "other/meta.json" },
    ]);
    expect(r.labels.phases).toEqual([0, 1, 2, 3, 4]);
    expect(r.meta?.episode_id).toBe("ep-000123");
  });

  it("non-UTF-8 bytes: invalid meta, skipped row", () => {
    const r = inspectCase("non-UTF-8 row and meta");
    expect(r.meta_present).toBe(true);
    expect(r.meta_error).toBe("invalid-json");
    expect(r.meta).toBeNull();
    expect(r.members.proc).toMatchObject({ rows: 500, skipped: 1 });
    expect(r.findings).toEqual([]);
    expect(r.duration_s).toBe(49.9);
  });

  it("100k-deep nesting: too deep (finding once) when valid, plain skip when invalid", () => {
    const t = Date.now();
    const r = inspectCase("100k-deep nesting in a row and in meta");
    expect(Date.now() - t).toBeLessThan(5000);
    expect(r.meta_error).toBe("invalid-json");
    expect(r.members.proc).toMatchObject({ rows: 500, skipped: 1 });
    expect(r.members.guest).toMatchObject({ rows: 50, skipped: 1 });
    expect(r.findings).toEqual([
      { code: "limit:depth", member: "ep-000123/meta.json" },
      { code: "limit:depth", member: "ep-000123/telemetry-proc.jsonl" },
    ]);
  });

  it("depth counts containers: max_depth itself is allowed", () => {
    const row = (d: number) => `{"t_wall_ns":1,"x":${"[".repeat(d - 1)}${"]".repeat(d - 1)}}`;
    const r = inspect(buildEpisode({ replace: { netflow: `${row(4)}\n${row(5)}\n` } }), { max_depth: 4 });
    expect(r.members.netflow).toMatchObject({ rows: 1, skipped: 1 });
    expect(r.findings.filter((f) => f.code === "limit:depth").map((f) => f.member)).toContain("ep-000123/netflow.jsonl");
  });

  it("t_wall_ns must be a top-level i64 integer literal, taken exactly", () => {
    const r = inspect(hostile("rows without or with bad t_wall_ns").buf, { with_columns: true });
    expect(r.members.proc).toMatchObject({ rows: 500, skipped: 12 });
    expect(r.members.netflow).toMatchObject({ rows: 55, skipped: 0 });
    const c = r.columns!.netflow;
    expect(c.t_wall_ns.slice(51)).toEqual([
      "9223372036854775807",
      "1775124690000000003",
      "1775124691000000007",
      "1775124692000000009",
    ]);
    expect(c.t_mono_ns[51]).toBe("-9223372036854775808");
    expect(c.t_mono_ns[52]).toBeNull();
    expect(c.bytes_in[53]).toBe(1);
  });

  it("wrong-typed fields skip the row", () => {
    const r = inspectCase("wrong-typed fields");
    expect(rowsOf(r)).toEqual({
      labels: [5, 2],
      events: [2, 4],
      proc: [500, 2],
      guest: [50, 5],
      qmp: [100, 3],
      netflow: [51, 2],
    });
  });

  it("numbers, nulls and missing fields", () => {
    const proc = [
      '{"t_wall_ns":1775124672000000000,"t_mono_ns":null,"cpu_user_jiffies":1.5e3,"rss_bytes":null,"unknown":{"deep":[1,{"a":null}]}}',
      '{"t_wall_ns":-5,"cpu_user_jiffies":-0.25,"major_faults":1e400}',
    ].join("\n");
    const r = inspect(buildEpisode({ replace: { proc } }), { with_columns: true });
    const c = r.columns!.proc;
    expect(r.members.proc).toMatchObject({ rows: 2, skipped: 0 });
    expect(c.t_wall_ns).toEqual(["1775124672000000000", "-5"]);
    expect(c.t_mono_ns).toEqual([null, null]);
    expect(c.cpu_user_jiffies).toEqual([1500, -0.25]);
    expect(c.rss_bytes).toEqual([null, null]);
    expect(c.major_faults).toEqual([null, null]); // 1e400 is +inf, written as null
  });

  it("blank lines, CRLF and a last line without newline", () => {
    const r = inspectCase("CRLF and blank lines");
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
    const n = inspect(buildEpisode({ replace: { netflow: '\n \n{"t_wall_ns":5}\r\n\x0c\n{"t_wall_ns":6}' } }));
    expect(n.members.netflow).toMatchObject({ rows: 2, skipped: 0 });
    const vt = inspect(buildEpisode({ replace: { netflow: "\x0b\n" } })); // VT is not ASCII whitespace
    expect(vt.members.netflow).toMatchObject({ rows: 0, skipped: 1 });
  });
});

describe("edge cases of JSON and tar", () => {
  it("numbers as JSON.parse reads them, escapes decoded, last duplicate key wins, BOM and junk skipped", () => {
    const r = inspect(hostile("JSON edge cases: numbers, escapes, duplicate keys, BOM").buf, { with_columns: true });
    expect(r.members.netflow).toMatchObject({ rows: 51 + 7, skipped: 4 }); // 01, +1, BOM, trailing junk
    const n = r.columns!.netflow;
    expect(n.bytes_in.slice(51)).toEqual([0.1, 0, -0, 2.2250738585072011e-308, 77, null, null]); // JSON writes -0 as 0
    expect(n.bytes_out.slice(51, 55)).toEqual([5e-324, 1.2345678901234568e29, 9007199254740992, 0.30000000000000004]);
    expect(n.t_wall_ns[55]).toBe("0"); // -0 is the integer 0
    expect(r.labels.unknown_phases).toEqual(["café", "\ud800", "😀", "\uffff"]); // UTF-16 order
    expect(r.labels.phases).toEqual([0, 1, 2, 3, 4, 4]);
    expect(r.events).toEqual({ workload_events: 5, workload_failed: false, killed_dormant_probe_zero: true });
    expect(r.columns!.qmp.blk_total_bytes.slice(100)).toEqual([1e16 + 0.2 + 0.3 + 0.1 + 1, 7, null]);
    expect(r.members.guest).toMatchObject({ rows: 51, skipped: 4 });
  });

  it("GNU long names and pax path records name members; type 7 is a regular file", () => {
    const r = inspectCase("tar format edge cases: GNU long name, pax header, contiguous file");
    expect(r.fatal).toBeNull();
    expect(r.findings).toEqual([]);
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
  });

  it("pax headers as GNU tar and Python write them change nothing", () => {
    for (const name of ["pax: GNU posix layout, mtime/atime/ctime before every entry", "pax: every name in a path record"]) {
      const r = inspectCase(name);
      const plain = inspect(buildEpisode());
      expect({ ...r, sha256: "", size_bytes: 0 }, name).toEqual({ ...plain, sha256: "", size_bytes: 0 });
    }
  });

  it("pax path records go through the same name checks as header names", () => {
    expect(inspectCase("pax: path traversal in path records").findings).toEqual([
      { code: "unsafe-path", member: "../../etc/passwd" },
      { code: "unsafe-path", member: "ep-000123/../../meta.json" },
      { code: "unsafe-path", member: "ep-000123/../labels.jsonl" },
    ]);
    // A global absolute path names both following entries; the header names under it do not count.
    const abs = inspectCase("pax: absolute path records");
    expect(abs.findings).toEqual([
      { code: "unsafe-path", member: "/etc/passwd" },
      { code: "unsafe-path", member: "/ep-000123/telemetry-proc.jsonl" },
      { code: "unsafe-path", member: "/ep-000123/telemetry-proc.jsonl" },
    ]);
    expect(rowsOf(abs)).toEqual(STANDARD_ROWS);
    expect(inspectCase("pax: a safe path record over an unsafe header name").findings).toEqual([]);
    // The pax header's own name (an absolute /tmp/GlobalHead...) is not an entry.
    expect(inspectCase("pax: global headers apply to every following entry until cleared").findings).toEqual([
      { code: "duplicate-member", member: "ep-000123/labels.jsonl" },
    ]);
    const odd = inspectCase("pax: non-UTF-8 path record");
    expect(odd.findings).toEqual([{ code: "duplicate-member", member: "ep-000123/meta.json" }]);
    expect(odd.meta?.episode_id).toBe("ep-000123");
  });

  it("links and devices named by pax records are still findings", () => {
    const r = inspectCase("pax: linkpath records on links, path records on links and devices");
    expect(r.findings).toEqual([
      { code: "symlink", member: "ep-000123/meta.json" },
      { code: "hardlink", member: "ep-000123/labels.jsonl" },
      { code: "special-file", member: "ep-000123/telemetry-proc.jsonl" },
    ]);
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
  });

  it("pax size records are honoured and bounded like header sizes", () => {
    expect(rowsOf(inspectCase("pax: size records honoured (header sizes lie)"))).toEqual(STANDARD_ROWS);
    const long = inspectCase("pax: 600 KiB records (an unknown key, a size with 300k leading zeros, a long mtime)");
    expect(long).toMatchObject({ fatal: null, findings: [] });
    expect(rowsOf(long)).toEqual(STANDARD_ROWS);
    expect(rowsOf(inspectCase("pax: path record beats a GNU long name; consecutive headers, later records win"))).toEqual(STANDARD_ROWS);
    for (const name of ["pax: size record over max_member_bytes", "pax: size record one byte over a tight max_member_bytes"]) {
      const r = inspectCase(name);
      expect(r.fatal, name).toBe("limit:member-bytes");
      expect(r.findings, name).toEqual([{ code: "limit:member-bytes", member: "ep-000123/telemetry-proc.jsonl" }]);
    }
    expect(inspectCase("pax: huge size record on an unknown entry")).toMatchObject({ fatal: "tar-error", meta_present: true });
    expect(inspectCase("pax: stream ends inside pax header data")).toMatchObject({ fatal: "tar-error", findings: [] });
    expect(inspectCase("pax: dangling header at the end of the archive")).toMatchObject({ fatal: null, findings: [] });
  });

  it("a malformed pax header is a tar-error with a malformed-pax finding naming it", () => {
    const cases = hostileCases().filter((c) => c.name.startsWith("pax malformed: "));
    expect(cases.length).toBeGreaterThanOrEqual(12);
    for (const c of cases) {
      const r = inspect(c.build(), c.options);
      const header = c.name.includes("global") ? "/tmp/GlobalHead.4242.1" : "./PaxHeaders/entry";
      expect(r.fatal, c.name).toBe("tar-error");
      expect(r.findings, c.name).toEqual([{ code: "malformed-pax", member: header }]);
      expect(r.meta_present, c.name).toBe(true); // what came before stays
      expect(r.members.labels.present, c.name).toBe(false);
    }
  });

  it("a single zero block followed by more headers is a tar error", () => {
    expect(inspectCase("single zero block inside the archive")).toMatchObject({ fatal: "tar-error", meta_present: true });
  });

  it("a member of exactly max_member_bytes is read", () => {
    const r = inspectCase("member exactly at max_member_bytes");
    expect(r.fatal).toBeNull();
    expect(r.members.netflow).toEqual({ present: true, rows: 0, skipped: 1, bytes: 1000 });
    expect(r.findings).toEqual([{ code: "limit:line-bytes", member: "ep-000123/netflow.jsonl" }]);
  });

  it("a valid too-deep row of any type is a depth finding; an invalid deep row is not", () => {
    const r = inspectCase("too-deep top-level array and deep-but-invalid rows");
    expect(r.members.netflow).toMatchObject({ rows: 51, skipped: 2 });
    expect(r.findings).toEqual([{ code: "limit:depth", member: "ep-000123/netflow.jsonl" }]);
  });
});

describe("bombs and limits", () => {
  it("a 4 GiB member named like telemetry stops at its declared size", () => {
    const r = inspect(zeroMemberBomb("ep/telemetry-proc.jsonl"));
    expect(r.fatal).toBe("limit:member-bytes");
    expect(r.findings).toEqual([{ code: "limit:member-bytes", member: "ep/telemetry-proc.jsonl" }]);
    expect(rowsOf(r)).toEqual(NOTHING_READ);
  });

  it("a 4 GiB unknown member and 6 GiB of bare zeros stop at max_total_bytes, in bounded memory", () => {
    for (const [buf, minSize] of [
      [zeroMemberBomb("ep/padding.bin"), 4 * GiB],
      [zstdZeros(new Uint8Array(0), 6 * GiB), 6 * GiB],
    ] as const) {
      expect(buf.length).toBeLessThan(minSize / 1000);
      global.gc?.();
      const before = process.memoryUsage().rss;
      const t = Date.now();
      const r = inspect(buf);
      const grew = process.memoryUsage().rss - before;
      expect(r.fatal).toBe("limit:total-bytes");
      expect(r.findings).toEqual([]);
      expect(grew).toBeLessThan(400 * 1024 * 1024);
      expect(Date.now() - t).toBeLessThan(10_000);
    }
  });

  it("max_total_bytes: exactly the stream size passes, one byte less fails", () => {
    const tar = episodeTar();
    const buf = zst(tar);
    expect(inspect(buf, { max_total_bytes: tar.length }).fatal).toBeNull();
    const r = inspect(buf, { max_total_bytes: tar.length - 1 });
    expect(r.fatal).toBe("limit:total-bytes");
    expect(r.members.netflow.present).toBe(true); // the last member ends before the end-of-archive blocks
  });

  it("zstd window: a frame declaring more than max_window_bytes is refused before allocating, with its own reason", () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    for (const name of ["frame declaring a 2 GiB window", "frame declaring a 2^41-byte window", "frame declaring a window just over the limit", "window over a lowered max_window_bytes"]) {
      const r = inspectCase(name);
      expect(r.fatal, name).toBe("limit:window-bytes");
      expect(r.fatal_detail, name).toMatch(/window larger than max_window_bytes/);
      expect(r.members.labels.present, name).toBe(false); // nothing decoded
      expect(r.size_bytes, name).toBeGreaterThan(0); // still hashed whole
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    for (const name of ["frame declaring a window exactly at the limit", "window allowed by a raised max_window_bytes", "ordinary episode under a 1 MiB window limit"]) {
      expect(inspectCase(name).fatal, name).toBeNull();
    }
    // A huge window in a later frame: the episode's members were read, then the stream is refused.
    const late = inspectCase("second frame declaring a huge window");
    expect(late.fatal).toBe("limit:window-bytes");
    expect(late.members.proc.present).toBe(true);
    expect(() => inspect(buildEpisode(), { max_window_bytes: 3 << 20 })).toThrow(/power of two/);
    expect(() => inspect(buildEpisode(), { max_window_bytes: 2 ** 32 })).toThrow(/power of two/);
  });

  it("a 64 MiB single line is skipped without holding it", () => {
    const { buf } = hostile("64 MiB single line in telemetry-proc");
    global.gc?.();
    const before = process.memoryUsage().rss;
    const r = inspect(buf);
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
    expect(r.fatal).toBeNull();
    expect(r.findings).toEqual([{ code: "limit:line-bytes", member: "ep-000123/telemetry-proc.jsonl" }]);
    expect(r.members.proc).toMatchObject({ rows: 500, skipped: 1 });
  });

  it("max_line_bytes counts the line without its newline", () => {
    const line = '{"t_wall_ns":1}'; // 15 bytes
    const r = inspect(buildEpisode({ replace: { netflow: `${line}\n${line} \n${line}\r\n` } }), { max_line_bytes: 15 });
    expect(r.members.netflow).toMatchObject({ rows: 1, skipped: 2 });
    expect(r.findings.filter((f) => f.member.endsWith("netflow.jsonl"))).toEqual([
      { code: "limit:line-bytes", member: "ep-000123/netflow.jsonl" },
    ]);
  });

  it("max_rows: one row too many stops the episode; the member is not kept", () => {
    const r = inspectCase("rows limit");
    expect(r.fatal).toBe("limit:rows");
    expect(r.findings).toEqual([{ code: "limit:rows", member: "ep-000123/telemetry-proc.jsonl" }]);
    expect(rowsOf(r)).toEqual({ ...NOTHING_READ, labels: [5, 0], events: [2, 0] });
    expect(r.proc_span_s).toBe(0);
    // Blank lines are not rows; skipped rows are.
    const onlyNetflow = buildEpisode({
      drop: ["meta", "labels", "events", "proc", "guest", "qmp"],
      replace: { netflow: '{"t_wall_ns":1}\n\n  \n{"bad"\n' },
    });
    const ok = inspect(onlyNetflow, { max_rows: 2 });
    expect(ok.fatal).toBeNull();
    expect(ok.members.netflow).toMatchObject({ rows: 1, skipped: 1 });
  });

  it("max_member_bytes and the other limits", () => {
    const m = inspectCase("member bytes limit");
    expect(m.fatal).toBe("limit:member-bytes");
    expect(m.findings).toEqual([{ code: "limit:member-bytes", member: "ep-000123/telemetry-proc.jsonl" }]);
    expect(rowsOf(m)).toEqual({ ...NOTHING_READ, labels: [5, 0], events: [2, 0] });
    const t = inspectCase("total bytes limit");
    expect(t.fatal).toBe("limit:total-bytes");
    expect(t.meta_present).toBe(true);
    expect(t.members.proc.present).toBe(false);
    const l = inspectCase("line bytes limit");
    expect(l.fatal).toBeNull();
    expect(rowsOf(l)).toEqual({ labels: [5, 0], events: [2, 0], proc: [0, 500], guest: [0, 50], qmp: [0, 100], netflow: [0, 51] });
    const d = inspectCase("depth limit 1");
    expect(d.meta_error).toBe("invalid-json");
    expect(rowsOf(d)).toEqual({ labels: [5, 0], events: [1, 1], proc: [500, 0], guest: [0, 50], qmp: [0, 100], netflow: [51, 0] });
  });
});

describe("broken streams", () => {
  const EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  it("empty file and garbage are zstd errors; sha256 and size cover the whole file", () => {
    const e = inspectCase("empty file");
    expect(e).toMatchObject({ fatal: "zstd-error", size_bytes: 0, sha256: EMPTY_SHA, meta_present: false });
    expect(rowsOf(e)).toEqual(NOTHING_READ);
    for (const name of ["not zstd: text", "not zstd: random bytes"]) {
      const { buf } = hostile(name);
      const r = inspect(buf);
      expect(r.fatal).toBe("zstd-error");
      expect(r.size_bytes).toBe(buf.length);
      expect(r.sha256).toBe(createHash("sha256").update(buf).digest("hex"));
    }
  });

  it("zstd of something that is not a tar is a tar error", () => {
    expect(inspectCase("zstd of garbage (not a tar)").fatal).toBe("tar-error");
  });

  it("a truncated zstd stream is a zstd error; members read before it stay", () => {
    const good = buildEpisode();
    for (const c of hostileCases().filter((x) => x.name.startsWith("truncated zstd"))) {
      const r = inspect(c.build());
      expect(r.fatal, c.name).toBe("zstd-error");
    }
    // Cut inside the second zstd block: the first block (meta, labels, events) was decoded in full.
    const r = inspect(cut(good, good.length - 1));
    expect(r.meta_present).toBe(true);
    expect(r.members.labels.rows).toBe(5);
    expect(r.members.proc.present).toBe(false);
    expect(r.size_bytes).toBe(good.length - 1);
  });

  it("a truncated tar inside a whole zstd stream is a tar error", () => {
    expect(inspectCase("truncated tar mid-header").fatal).toBe("tar-error");
    const mid = inspectCase("truncated tar mid-data");
    expect(mid.fatal).toBe("tar-error");
    expect(mid.meta_present).toBe(true);
    expect(mid.members.labels.present).toBe(false);
    const padding = inspectCase("truncated tar mid-padding"); // cut in the padding after meta.json's data
    expect(padding.fatal).toBe("tar-error");
    expect(padding.meta_present).toBe(false); // the padding belongs to the member
    const boundary = inspectCase("tar cut at a header boundary");
    expect(boundary.fatal).toBeNull();
    expect(boundary.meta_present).toBe(true);
    expect(rowsOf(boundary)).toEqual(NOTHING_READ);
    const noEnd = inspectCase("tar without end blocks");
    expect(noEnd.fatal).toBeNull();
    expect(rowsOf(noEnd)).toEqual(STANDARD_ROWS);
  });

  it("a bad header checksum is a tar error", () => {
    const r = inspectCase("bad tar header checksum");
    expect(r.fatal).toBe("tar-error");
    expect(r.meta_present).toBe(true);
    expect(r.members.labels.present).toBe(false);
  });

  it("trailing garbage after the frame is a zstd error, after every member was read", () => {
    const r = inspectCase("trailing garbage after the zstd frame");
    expect(r.fatal).toBe("zstd-error");
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
  });

  it("several zstd frames make one stream", () => {
    const r = inspectCase("two zstd frames");
    expect(r.fatal).toBeNull();
    expect(rowsOf(r)).toEqual(STANDARD_ROWS);
  });

  it("bit flips never throw and give the same report twice", () => {
    const fatals = new Set<string | null>();
    for (const c of hostileCases().filter((x) => x.name.startsWith("bit flip"))) {
      const buf = c.build();
      const a = inspect(buf, { with_columns: true });
      const b = inspect(buf, { with_columns: true });
      expect(a, c.name).toEqual(b);
      expect([null, "zstd-error", "tar-error"]).toContain(a.fatal);
      fatals.add(a.fatal);
    }
    expect(fatals.has("zstd-error")).toBe(true);
    expect(inspect(flipBytes(buildEpisode(), [0])).fatal).toBe("zstd-error"); // the frame magic
  });
});

describe("labels", () => {
  it("non-monotonic labels are reported; lookup still uses the last label in file order", () => {
    const r = inspectCase("labels non-monotonic");
    expect(r.labels.monotonic).toBe(false);
    expect(r.labels.phases).toEqual([0, 1, 2, 3, 4]);
    const m = inspectCase("labels non-monotonic in t_mono_ns only");
    expect(m.labels).toMatchObject({ count: 4, monotonic: false, phases: [0, 1, 2, 3] });
  });

  it("a pair of rows where t_mono_ns is missing is not compared", () => {
    const labels = (m: number) =>
      `{"t_mono_ns":5,"t_wall_ns":1,"phase":"clean"}\n{"t_wall_ns":2,"phase":"armed"}\n{"t_mono_ns":${m},"t_wall_ns":2,"phase":"infecting"}\n`;
    expect(inspect(buildEpisode({ replace: { labels: labels(6) } })).labels.monotonic).toBe(true);
    expect(inspect(buildEpisode({ replace: { labels: labels(3) } })).labels.monotonic).toBe(true);
  });

  it("unknown phases are listed sorted and distinct; known ones keep file order", () => {
    const r = inspectCase("unknown phase");
    expect(r.labels).toMatchObject({ count: 5, unknown_phases: ["Dormant", "exfiltrating"], phases: [0, 1, 3] });
    const labels = ['"z"', '"clean"', '"a"', '"z"', '"failed"']
      .map((p, i) => `{"t_wall_ns":${i},"phase":${p}}`)
      .join("\n");
    expect(inspect(buildEpisode({ replace: { labels } })).labels).toMatchObject({
      unknown_phases: ["a", "z"],
      phases: [0, 5],
    });
  });

  it("missing labels: no t0, no duration, every signal unknown", () => {
    const r = inspectCase("missing labels.jsonl");
    expect(r.members.labels.present).toBe(false);
    expect(r.labels).toEqual({ count: 0, monotonic: true, unknown_phases: [], phases: [], t0_wall_ns: null });
    expect(r.duration_s).toBeNull();
    for (const s of Object.values(r.signals)) expect(s).toEqual({ verdict: "unknown", spread: null });
  });
});

describe("missing and empty members", () => {
  it("missing telemetry-proc", () => {
    const r = inspectCase("missing telemetry-proc");
    expect(r.members.proc).toEqual({ present: false, rows: 0, skipped: 0, bytes: 0 });
    expect(r.signals.proc).toEqual({ verdict: "unknown", spread: null });
    expect(r.proc_span_s).toBe(0);
  });

  it("empty netflow is present with no rows, and unknown", () => {
    const r = inspectCase("empty netflow");
    expect(r.members.netflow).toEqual({ present: true, rows: 0, skipped: 0, bytes: 0 });
    expect(r.signals.netflow).toEqual({ verdict: "unknown", spread: null });
  });

  it("sample null and meta of the wrong shape", () => {
    const r = inspectCase("sample null");
    expect(r.meta).toMatchObject({ sample_present: false, sample_name: null, profile: null, module_name: null });
    expect(inspectCase("meta not an object").meta_error).toBe("invalid-json");
    const odd = inspect(buildEpisode({ meta: { schema_version: "1", host_id: 5, result: { duration_observed_s: "52" } } }));
    expect(odd.meta).toMatchObject({ schema_version: null, host_id: null, duration_observed_s: null, outcome: null });
    expect(odd.duration_s).toBe(49.9);
  });

  it("member names: by base name, with any prefix", () => {
    expect(rowsOf(inspectCase("no prefix, dot-slash prefix"))).toEqual(STANDARD_ROWS);
    expect(rowsOf(inspectCase("long ustar prefix names"))).toEqual(STANDARD_ROWS);
    expect(rowsOf(inspect(buildEpisode({ prefix: "" })))).toEqual(STANDARD_ROWS);
  });
});

describe("tar reader", () => {
  const pad = padBlock;

  it("lists entries with kinds, sizes, link names, times and data offsets", () => {
    const tar = buildTar([
      { name: "d/", type: "dir", mtime: 1775124672 },
      { name: "d/a.txt", data: "hello" },
      { name: "d/l", type: "symlink", linkname: "/x" },
      { name: "d/f", type: "fifo" },
    ]);
    expect(listTarEntries(tar)).toEqual([
      { name: "d/", kind: "dir", typeflag: "5", size: 0, linkname: "", mtime: 1775124672, dataOffset: 512 },
      { name: "d/a.txt", kind: "file", typeflag: "0", size: 5, linkname: "", mtime: 0, dataOffset: 1024 },
      { name: "d/l", kind: "symlink", typeflag: "2", size: 0, linkname: "/x", mtime: 0, dataOffset: 2048 },
      { name: "d/f", kind: "fifo", typeflag: "6", size: 0, linkname: "", mtime: 0, dataOffset: 2560 },
    ]);
  });

  it("applies GNU long names and links, and pax x/g records; pax headers are not entries", () => {
    const long = "x/".repeat(150) + "meta.json";
    const tar = Buffer.concat([
      rawHeader("././@LongLink", long.length + 1, "L"),
      pad(Buffer.from(long + "\0")),
      rawHeader("././@LongLink", 301, "K"),
      pad(Buffer.from("t".repeat(300) + "\0")),
      tarHeader({ name: "short", type: "symlink" }, 0),
      rawHeader("././@LongLink", long.length + 1, "L"),
      pad(Buffer.from(long + "\0")),
      tarHeader({ name: "short" }, 2),
      pad(Buffer.from("{}")),
      paxHeader([["comment", "ignored"], ["mtime", "1775124672.5"], ["linkpath", "/g"]], { typeflag: "g" }),
      paxHeader([["path", "p/é.txt"], ["size", "3"], ["mtime", "-1.25"], ["atime", "x"]]),
      tarHeader({ name: "header-name" }, 0),
      pad(Buffer.from("abc")),
      paxHeader([["linkpath", ""], ["mtime", ""]]),
      tarHeader({ name: "second", linkname: "own", mtime: 8 }, 0),
      paxHeader([["path", "x"]]), // dangling: nothing follows
      Buffer.alloc(1024),
    ]);
    expect(listTarEntries(tar).map(({ name, kind, size, linkname, mtime }) => ({ name, kind, size, linkname, mtime }))).toEqual([
      { name: long, kind: "symlink", size: 0, linkname: "t".repeat(300), mtime: 0 },
      { name: long, kind: "file", size: 2, linkname: "", mtime: 0 },
      { name: "p/é.txt", kind: "file", size: 3, linkname: "/g", mtime: -1.25 },
      { name: "second", kind: "file", size: 0, linkname: "own", mtime: 8 },
    ]);
    const r = inspect(zst(Buffer.concat([tar.subarray(512 * 5, 512 * 9), episodeTar({ drop: ["meta"] })])));
    expect(r.meta_present).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it("malformed pax data throws PaxError naming the pax header", () => {
    const bad = Buffer.concat([paxHeader(Buffer.from("9 pathab\n"), { name: "./PaxHeaders/evil" }), tarHeader({ name: "a" }, 0), Buffer.alloc(1024)]);
    expect(() => listTarEntries(bad)).toThrow(PaxError);
    try {
      listTarEntries(bad);
    } catch (error) {
      expect((error as PaxError).headerName).toBe("./PaxHeaders/evil");
      expect(error).toBeInstanceOf(TarError);
    }
    // Bounded before anything is allocated: an 8 GiB pax header in a tiny stream.
    expect(() => listTarEntries(Buffer.concat([paxHeader([], { declared: 2 ** 33 - 1 }), Buffer.alloc(1024)]))).toThrow(PaxError);
    expect(() => listTarEntries(Buffer.concat([paxHeader([], { declared: MAX_PAX_BYTES })]))).toThrow(TarError); // allowed size, data missing
  });

  it("rejects bad checksums, truncation and a lone zero block before more data", () => {
    const tar = buildTar([{ name: "a", data: "x".repeat(700) }]);
    const bad = Buffer.from(tar);
    bad[0] ^= 1;
    expect(() => listTarEntries(bad)).toThrow(TarError);
    expect(() => listTarEntries(tar.subarray(0, 300))).toThrow(TarError);
    expect(() => listTarEntries(tar.subarray(0, 1000))).toThrow(TarError);
    expect(() => listTarEntries(tar.subarray(0, 1100))).toThrow(TarError); // inside the padding
    expect(listTarEntries(tar.subarray(0, 1536))).toHaveLength(1);
    expect(listTarEntries(tar.subarray(0, 2048))).toHaveLength(1); // one zero block, then the end
    const lone = Buffer.concat([tar.subarray(0, 1536), Buffer.alloc(512), tar.subarray(0, 1536)]);
    expect(() => listTarEntries(lone)).toThrow(TarError);
    expect(listTarEntries(new Uint8Array(0))).toEqual([]);
  });

  it("reads GNU base-256 sizes", () => {
    const h = tarHeader({ name: "big" }, 0);
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h[135] = 3;
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(Buffer.from(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    const tar = Buffer.concat([h, pad(Buffer.from("abc")), Buffer.alloc(1024)]);
    expect(listTarEntries(tar)[0].size).toBe(3);
  });
});

describe("files, engine, and no disk writes", () => {
  let dir: string;
  const cwd = process.cwd();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cis490-ref-"));
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it("inspectFile reads a file, and reports io_error for what cannot be read", async () => {
    const file = join(dir, "ep.tar.zst");
    const buf = buildEpisode();
    writeFileSync(file, buf);
    expect(await inspectFile(file, DEFAULT_INSPECT_OPTIONS)).toEqual(inspect(buf));
    const missing = await inspectFile(join(dir, "nope.tar.zst"), DEFAULT_INSPECT_OPTIONS);
    expect(missing.io_error).toBe("ENOENT");
    expect(missing).toMatchObject({ size_bytes: 0, fatal: null, meta_present: false, findings: [] });
    expect((await inspectFile(dir, DEFAULT_INSPECT_OPTIONS)).io_error).toBe("EISDIR");
    const reports = await referenceInspector.inspectFiles([file, join(dir, "nope")], DEFAULT_INSPECT_OPTIONS, 2);
    expect(reports).toHaveLength(2);
    expect(reports[0].members.proc.rows).toBe(500);
    expect(reports[1].io_error).toBe("ENOENT");
    rmSync(file);
  });

  it("runs every hostile case without writing anything", () => {
    const empty = mkdtempSync(join(dir, "cwd-"));
    process.chdir(empty);
    try {
      for (const c of hostileCases()) {
        const r = inspect(c.build(), { ...c.options, with_columns: true });
        expect(r.io_error, c.name).toBeNull();
        expect(JSON.parse(JSON.stringify(r)).findings).toEqual(r.findings);
      }
      expect(readdirSync(empty)).toEqual([]);
      expect(readdirSync(dir)).toEqual([empty.slice(dir.length + 1)]);
    } finally {
      process.chdir(cwd);
    }
  });
});
