// cis490 synth: determinism, layout, the contract's members and fields, the
// clock quirks, the host and profile facts, and the fault manifest, which is
// checked against the reference inspector and the store classifier so that
// "what synth injected" and "what validate/prune find" cannot drift apart.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decompress } from "zstd-napi";
import { runCli } from "./helpers/cli.js";
import { MEMBER_FILES, PHASES } from "../src/episode/report.js";
import { inspectBytes } from "../src/reference/inspect/inspect.js";
import { listTarEntries } from "../src/reference/inspect/archive.js";
import { classifyEpisode } from "../src/store/classify.js";
import { qualityFacts, qualityReasons } from "../src/store/quality.js";
import { FAULTS } from "../src/synth/faults.js";
import { synthStore, type Manifest, type SynthOptions } from "../src/synth/store.js";


const REPO = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "cis490-synth-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- helpers -----------------------------------------------------------------

function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(root);
  return out;
}

/** Regular members of one .tar.zst, by base name, with the raw tar names. */
function readEpisode(path: string): { names: string[]; members: Record<string, string> } {
  const tar = decompress(readFileSync(path));
  const names: string[] = [];
  const members: Record<string, string> = {};
  for (const e of listTarEntries(tar)) {
    names.push(e.name);
    if (e.kind !== "file") continue;
    members[e.name.split("/").pop()!] = Buffer.from(tar.subarray(e.dataOffset, e.dataOffset + e.size)).toString("utf8");
  }
  return { names, members };
}

function parseRows(text: string | undefined): Array<Record<string, any>> {
  const rows: Array<Record<string, any>> = [];
  for (const line of (text ?? "").split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && typeof v.t_wall_ns === "number") rows.push(v);
    } catch {
      // malformed rows are a fault of their own, counted elsewhere
    }
  }
  return rows;
}

function manifestOf(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, ".synth.json"), "utf8")) as Manifest;
}

/** Whole index records, recovering `{...}{...}` lines and ignoring half records. */
function indexRecords(dir: string): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const line of readFileSync(join(dir, "index.jsonl"), "utf8").split("\n")) {
    for (const piece of line.split(/(?<=\})(?=\{)/)) {
      try {
        out.push(JSON.parse(piece));
      } catch {
        // half record
      }
    }
  }
  return out;
}

/**
 * The worker path needs plain JS (a worker thread cannot load .ts): transpile
 * synth and its two dependencies to a scratch directory and run the store
 * writer there in a child process, with real worker threads.
 */
function synthWithWorkers(opts: SynthOptions): void {
  const out = join(tmp, "js");
  if (!existsSync(out)) {
    const files = [
      ...readdirSync(join(REPO, "src/synth")).map((f) => `synth/${f}`),
      "archive/tar-write.ts",
      "episode/report.ts",
      "util/errors.ts",
      "io/atomic.ts",
    ].filter((f) => f.endsWith(".ts"));
    for (const f of files) {
      const js = ts.transpileModule(readFileSync(join(REPO, "src", f), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      mkdirSync(dirname(join(out, f)), { recursive: true });
      writeFileSync(join(out, f.replace(/\.ts$/, ".js")), js);
    }
    writeFileSync(join(out, "package.json"), '{"type":"module"}\n');
    symlinkSync(join(REPO, "node_modules"), join(out, "node_modules"));
    writeFileSync(
      join(out, "run.mjs"),
      'import { synthStore } from "./synth/store.js";\nconst s = await synthStore(JSON.parse(process.argv[2]));\nprocess.stdout.write(JSON.stringify(s));\n',
    );
  }
  const summary = JSON.parse(execFileSync(process.execPath, [join(out, "run.mjs"), JSON.stringify(opts)], { encoding: "utf8" }));
  expect(summary.jobs).toBe(opts.jobs);
}

// ---- stores ----------------------------------------------------------------------

const clean = join(tmp, "clean");
const faulty = join(tmp, "faulty");

beforeAll(async () => {
  await synthStore({ out: clean, episodes: 30, seed: "11", faults: "none", hosts: 3, jobs: 1 });
  await synthStore({ out: faulty, episodes: 300, seed: "490", faults: "standard", hosts: 3, jobs: 1 });
});

describe("determinism", () => {
  it("gives byte-identical stores for the same arguments, in-process or on 2 worker threads", () => {
    const again = join(tmp, "clean-workers");
    synthWithWorkers({ out: again, episodes: 30, seed: "11", faults: "none", hosts: 3, jobs: 2 });
    const a = hashTree(clean);
    const b = hashTree(again);
    expect(Object.keys(a).length).toBe(30 + 2); // tarballs + index + manifest
    expect(b).toEqual(a);
  });

  it("is also identical with faults injected, and differs for another seed", async () => {
    const again = join(tmp, "faulty-workers");
    synthWithWorkers({ out: again, episodes: 300, seed: "490", faults: "standard", hosts: 3, jobs: 2 });
    expect(hashTree(again)).toEqual(hashTree(faulty));
    const other = join(tmp, "other-seed");
    await synthStore({ out: other, episodes: 30, seed: "12", faults: "none", hosts: 3, jobs: 1 });
    expect(readFileSync(join(other, "index.jsonl"), "utf8")).not.toEqual(readFileSync(join(clean, "index.jsonl"), "utf8"));
  });
});

describe("layout", () => {
  it("writes index.jsonl rows that name every tarball with its digest, size and receipt time", () => {
    const lines = readFileSync(join(clean, "index.jsonl"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(30);
    let previous = "";
    for (const line of lines) {
      const row = JSON.parse(line);
      expect(Object.keys(row)).toEqual(["episode_id", "host_id", "sha256", "size_bytes", "received_at"]);
      const file = join(clean, row.host_id, `${row.episode_id}.tar.zst`);
      const bytes = readFileSync(file);
      expect(row.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.size_bytes).toBe(bytes.length);
      expect(new Date(row.received_at).toISOString()).toBe(row.received_at);
      expect(row.received_at.startsWith("2026-")).toBe(true);
      expect(row.received_at >= previous).toBe(true); // appended in the order received
      previous = row.received_at;
    }
    const dirs = readdirSync(clean).filter((d) => !d.includes("."));
    expect(dirs.sort()).toEqual(["elliott-thinkpad", "k-gamingcom", "lab-r740"]);
    expect(readdirSync(join(clean, "lab-r740")).every((f) => /^ep-\d{6}\.tar\.zst$/.test(f))).toBe(true);
  });

  it("is idempotent: a complete store with the same parameters is left alone, --force rewrites it", async () => {
    const first = await runCli(["synth", "--out", join(tmp, "cli"), "--episodes", "20", "--seed", "3", "--json"]);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ out: join(tmp, "cli"), episodes: 20, reused: false });
    expect(Object.values(summary.hosts as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(20);
    expect(typeof summary.seconds).toBe("number");
    const before = hashTree(join(tmp, "cli"));
    const second = await runCli(["synth", "--out", join(tmp, "cli"), "--episodes", "20", "--seed", "3"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already holds this store/);
    const forced = await runCli(["synth", "--out", join(tmp, "cli"), "--episodes", "20", "--seed", "3", "--force", "--json"]);
    expect(JSON.parse(forced.stdout).reused).toBe(false);
    expect(hashTree(join(tmp, "cli"))).toEqual(before);
    // Other parameters: the old store is replaced, not mixed with the new one.
    await runCli(["synth", "--out", join(tmp, "cli"), "--episodes", "5", "--seed", "3"]);
    expect(readFileSync(join(tmp, "cli", "index.jsonl"), "utf8").trimEnd().split("\n")).toHaveLength(5);
    const files = Object.keys(hashTree(join(tmp, "cli"))).filter((f) => f.endsWith(".tar.zst"));
    expect(files).toHaveLength(5);
  });

  it("answers usage errors with exit 2 and refuses a foreign non-empty directory", async () => {
    expect((await runCli(["synth", "--out", join(tmp, "x"), "--episodes", "5", "--seed", "1", "--faults", "some"])).code).toBe(2);
    expect((await runCli(["synth", "--out", join(tmp, "x"), "--episodes", "zero", "--seed", "1"])).code).toBe(2);
    expect((await runCli(["synth", "--out", join(tmp, "x"), "--episodes", "5", "--seed", "-1"])).code).toBe(2);
    expect((await runCli(["synth", "--episodes", "5", "--seed", "1"])).code).toBe(2);
    mkdirSync(join(tmp, "foreign"));
    writeFileSync(join(tmp, "foreign", "notes.txt"), "mine\n");
    const refused = await runCli(["synth", "--out", join(tmp, "foreign"), "--episodes", "5", "--seed", "1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--force/);
    expect(readFileSync(join(tmp, "foreign", "notes.txt"), "utf8")).toBe("mine\n");
  });
});

// Contract field lists (docs/data-contract.md); extra fields are allowed (readers ignore them).
const PROC_FIELDS = ["cpu_user_jiffies", "cpu_sys_jiffies", "rss_bytes", "vsize_bytes", "io_read_bytes", "io_write_bytes", "voluntary_ctxsw", "involuntary_ctxsw", "minor_faults", "major_faults"];
const NETFLOW_FIELDS = ["pkts_in", "pkts_out", "bytes_in", "bytes_out", "syn_count", "fin_count", "rst_count", "udp_count", "tcp_count", "dns_query_count", "unique_dst_ips", "unique_dst_ports", "tcp_new_flows"];
const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const WALL_2026 = /"t_wall_ns":17[6-9]\d{16}[,}]/;

describe("episode contents", () => {
  const episodes = () => indexRecords(clean).map((r) => ({ row: r, ...readEpisode(join(clean, r.host_id, `${r.episode_id}.tar.zst`)) }));

  it("decodes every episode into the contract's members, named <episode_id>/ or ./", () => {
    let dotSlash = 0;
    for (const { row, names, members } of episodes()) {
      for (const n of names) expect(n === "./" || n === `${row.episode_id}/` || n.startsWith("./") || n.startsWith(`${row.episode_id}/`)).toBe(true);
      if (names.some((n) => n.startsWith("./"))) dotSlash++;
      const expected = Object.values(MEMBER_FILES).filter((f) => f !== "netflow.jsonl" || row.host_id !== "k-gamingcom");
      for (const f of expected) expect(members[f], `${row.episode_id} ${f}`).toBeDefined();
      if (row.host_id === "k-gamingcom") expect(members["netflow.jsonl"]).toBeUndefined();
    }
    expect(dotSlash).toBeGreaterThan(0);
  });

  it("writes meta.json, labels and events as the contract describes", () => {
    for (const { row, members } of episodes()) {
      const meta = JSON.parse(members["meta.json"]);
      expect(meta).toMatchObject({ schema_version: 1, episode_id: row.episode_id, host_id: row.host_id });
      expect(meta.started_at).toMatch(/^2026-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(meta.sample)).toEqual(["name", "kind", "profile"]);
      expect(typeof meta.exploit.module_name).toBe("string");
      expect(isInt(meta.fleet.slot) && isInt(meta.fleet.parallel_slots) && meta.fleet.slot < meta.fleet.parallel_slots).toBe(true);
      expect(meta.result.duration_observed_s).toBeGreaterThan(30);
      expect(meta.result.duration_observed_s).toBeLessThan(75);
      expect(["completed", "failed"]).toContain(meta.result.outcome);

      const labels = parseRows(members["labels.jsonl"]);
      const phases = labels.map((l) => l.phase);
      expect(phases.slice(0, 3)).toEqual(["clean", "armed", "infecting"]);
      expect([
        "clean,armed,infecting,infected_running,dormant",
        "clean,armed,infecting,failed",
        "clean,armed,infecting,infected_running,failed",
      ]).toContain(phases.join(","));
      expect(meta.result.outcome === "failed").toBe(phases.includes("failed"));
      expect(labels[0].t_mono_ns).toBe(0);
      const raw = members["labels.jsonl"].trimEnd().split("\n");
      for (const line of raw) expect(line).toMatch(WALL_2026);
      for (let i = 1; i < labels.length; i++) {
        expect(labels[i].t_mono_ns).toBeGreaterThan(labels[i - 1].t_mono_ns + 3e9); // several seconds per phase
      }

      const events = parseRows(members["events.jsonl"]);
      const names = events.map((e) => e.event);
      if (phases.includes("dormant")) {
        expect(names).toContain("workload_started");
        const killed = events.find((e) => e.event === "workload_killed")!;
        expect(killed.phase).toBe("dormant");
        expect(["0", "1"]).toContain(killed.pre_kill_probe.yes);
      } else {
        const failed = events.find((e) => e.event === "workload_failed")!;
        expect(typeof failed.error).toBe("string");
      }
      for (const e of events) expect(PHASES as readonly string[]).toContain(e.phase);
    }
  });

  it("writes telemetry rows with every contract field, at the contract's rates", () => {
    for (const { row, members } of episodes()) {
      const duration = JSON.parse(members["meta.json"]).result.duration_observed_s;
      for (const m of ["telemetry-proc.jsonl", "telemetry-guest.jsonl", "telemetry-qmp.jsonl", "netflow.jsonl", "events.jsonl"]) {
        if (!members[m]) continue;
        for (const line of members[m].trimEnd().split("\n")) expect(line, `${row.episode_id} ${m}`).toMatch(WALL_2026);
      }
      const proc = parseRows(members["telemetry-proc.jsonl"]);
      expect(proc.length / duration).toBeGreaterThan(8.5);
      expect(proc.length / duration).toBeLessThan(11);
      for (const r of proc) {
        for (const f of PROC_FIELDS) expect(isInt(r[f]), f).toBe(true);
        expect(isInt(r.t_mono_ns)).toBe(true);
      }
      for (let i = 1; i < proc.length; i++) {
        for (const f of PROC_FIELDS) if (f !== "rss_bytes" && f !== "vsize_bytes") expect(proc[i][f]).toBeGreaterThanOrEqual(proc[i - 1][f]);
      }

      const guest = parseRows(members["telemetry-guest.jsonl"]);
      expect(guest.length / duration).toBeGreaterThan(0.85);
      expect(guest.length / duration).toBeLessThan(1.1);
      for (const r of guest) {
        expect(Object.keys(r.cpu_total_jiffies)).toEqual(["user", "system", "idle", "iowait", "softirq"]);
        for (const v of Object.values(r.cpu_total_jiffies)) expect(isInt(v)).toBe(true);
        expect(r.load_1m_5m_15m).toHaveLength(3);
        for (const v of r.load_1m_5m_15m) expect(isNum(v)).toBe(true);
        for (const f of ["mem_available_bytes", "mem_buffers_bytes", "mem_cached_bytes", "swap_used_bytes"]) expect(isInt(r[f]), f).toBe(true);
        for (const f of ["rx_bytes", "tx_bytes", "rx_pkts", "tx_pkts"]) expect(isInt(r.net.eth0[f]), f).toBe(true);
        expect(r.listen_ports.every(isInt)).toBe(true);
        for (const p of r.top_procs) expect(isInt(p.pid) && typeof p.comm === "string" && isNum(p.cpu_pct)).toBe(true);
      }

      const qmp = parseRows(members["telemetry-qmp.jsonl"]);
      expect(qmp.length / duration).toBeGreaterThan(1.7);
      expect(qmp.length / duration).toBeLessThan(2.2);
      for (const r of qmp) {
        for (const f of ["rd_ops", "wr_ops", "rd_bytes", "wr_bytes"]) expect(isInt(r.blockstats.virtio0[f]), f).toBe(true);
        for (const f of ["remote_tlb_flush", "pages_4k", "pages_2m"]) expect(isInt(r.kvm_stats[f]), f).toBe(true);
      }

      if (row.host_id !== "k-gamingcom") {
        const flows = parseRows(members["netflow.jsonl"]);
        expect(flows.length / duration).toBeGreaterThan(0.85);
        expect(flows.length / duration).toBeLessThan(1.1);
        for (const r of flows) for (const f of NETFLOW_FIELDS) expect(isInt(r[f]) && r[f] >= 0, f).toBe(true);
      }
    }
  });

  it("reproduces the clock quirks: mono clocks per source, netflow's whole seconds, repeats and reordering", () => {
    let repeats = 0;
    let reordered = 0;
    for (const { row, members } of episodes()) {
      const labels = parseRows(members["labels.jsonl"]);
      const proc = parseRows(members["telemetry-proc.jsonl"]);
      const guest = parseRows(members["telemetry-guest.jsonl"]);
      const qmp = parseRows(members["telemetry-qmp.jsonl"]);
      const end = labels[labels.length - 1].t_mono_ns + 30e9;
      // Episode-relative clocks stay within the episode; the orchestrator's is far ahead.
      for (const r of [...guest, ...qmp, ...parseRows(members["events.jsonl"])]) {
        expect(r.t_mono_ns).toBeGreaterThanOrEqual(-1e8);
        expect(r.t_mono_ns).toBeLessThan(end);
      }
      expect(proc[0].t_mono_ns).toBeGreaterThan(1e12);
      // Sampling jitter: the proc period is not exactly 100 ms.
      const steps = new Set(proc.slice(1, 30).map((r, i) => r.t_mono_ns - proc[i].t_mono_ns));
      expect(steps.size).toBeGreaterThan(10);
      if (row.host_id === "k-gamingcom") continue;
      const raw = members["netflow.jsonl"].trimEnd().split("\n");
      const walls = raw.map((l) => /"t_wall_ns":(\d+)/.exec(l)![1]);
      for (const w of walls) expect(w.endsWith("000000000")).toBe(true);
      const flows = parseRows(members["netflow.jsonl"]);
      for (const r of flows) expect(r.t_mono_ns).toBeGreaterThan(1e12); // boot-relative uptime
      if (new Set(walls).size < walls.length) repeats++;
      if (walls.some((w, i) => i > 0 && w < walls[i - 1])) reordered++;
    }
    expect(repeats).toBeGreaterThan(0);
    expect(reordered).toBeGreaterThan(0);
  });
});

describe("fleet facts", () => {
  it("keeps the no-netflow host off scan-and-dial and its episodes without netflow.jsonl", () => {
    const m = manifestOf(faulty);
    const gaming = m.episodes!.filter((e) => e.host_id === "k-gamingcom");
    expect(gaming.length).toBeGreaterThan(30);
    expect(gaming.some((e) => e.profile === "scan-and-dial")).toBe(false);
    expect(m.episodes!.filter((e) => e.profile === "scan-and-dial").length).toBeGreaterThan(10);
    for (const e of gaming) {
      if (!e.file || e.expect.class === "errored") continue;
      expect(readEpisode(join(faulty, e.host_id, `${e.episode_id}.tar.zst`)).members["netflow.jsonl"]).toBeUndefined();
    }
  });

  it("mixes hosts unevenly, with 12 samples over the 6 profiles", () => {
    const m = manifestOf(faulty);
    const hosts = m.summary!.hosts;
    expect(hosts["lab-r740"]).toBeGreaterThan(hosts["elliott-thinkpad"]);
    expect(hosts["elliott-thinkpad"]).toBeGreaterThan(hosts["k-gamingcom"]);
    const samples = new Set(m.episodes!.map((e) => e.sample));
    expect(samples.size).toBe(12);
    const profiles = new Set(m.episodes!.map((e) => e.profile));
    expect(profiles.size).toBe(6);
  });

  it("puts each profile's signal where the contract says, in infected_running against clean", () => {
    const m = manifestOf(faulty);
    const hits: Record<string, [number, number]> = {};
    for (const e of m.episodes!) {
      if (e.faults.length > 0 || e.failure !== "none" || e.expect.class !== "accepted" && e.expect.class !== "degraded") continue;
      const { members } = readEpisode(join(faulty, e.host_id, `${e.episode_id}.tar.zst`));
      const labels = parseRows(members["labels.jsonl"]);
      const t0 = labels[0].t_wall_ns;
      const at = (p: string) => labels.find((l) => l.phase === p)!.t_wall_ns;
      const within = (rows: Array<Record<string, any>>, p0: string, p1: string) => rows.filter((r) => r.t_wall_ns >= at(p0) && r.t_wall_ns < at(p1));
      const clean = (rows: Array<Record<string, any>>) => rows.filter((r) => r.t_wall_ns >= t0 && r.t_wall_ns < at("armed"));
      const running = (rows: Array<Record<string, any>>) => within(rows, "infected_running", "dormant");
      const rate = (rows: Array<Record<string, any>>, get: (r: any) => number) =>
        rows.length < 2 ? 0 : (get(rows[rows.length - 1]) - get(rows[0])) / ((rows[rows.length - 1].t_wall_ns - rows[0].t_wall_ns) / 1e9);
      const mean = (rows: Array<Record<string, any>>, get: (r: any) => number) => rows.reduce((a, r) => a + get(r), 0) / Math.max(1, rows.length);
      const guest = parseRows(members["telemetry-guest.jsonl"]);
      const qmp = parseRows(members["telemetry-qmp.jsonl"]);
      const flows = parseRows(members["netflow.jsonl"]);
      let ok: boolean;
      switch (e.profile) {
        case "cpu-saturate":
          ok = rate(running(guest), (r) => r.cpu_total_jiffies.user) > rate(clean(guest), (r) => r.cpu_total_jiffies.user) + 30;
          break;
        case "scan-and-dial":
          ok = mean(running(flows), (r) => r.syn_count) > 10 && mean(running(flows), (r) => r.unique_dst_ips) > 5 * (mean(clean(flows), (r) => r.unique_dst_ips) + 1);
          break;
        case "io-walk":
          ok = rate(running(qmp), (r) => r.blockstats.virtio0.wr_bytes) > rate(clean(qmp), (r) => r.blockstats.virtio0.wr_bytes) + 200 * 1024;
          break;
        case "bursty-c2":
          ok = Math.max(...running(flows).map((r) => r.bytes_out)) > 50 * 1024;
          break;
        case "low-and-slow": {
          const avail = running(guest).map((r) => r.mem_available_bytes);
          ok = Math.max(...avail) - Math.min(...avail) > 25 * 1024 * 1024;
          break;
        }
        case "shell-resident":
          ok = mean(running(guest), (r) => r.listen_ports.length) > mean(clean(guest), (r) => r.listen_ports.length);
          break;
        default:
          ok = false;
      }
      if (e.profile === "bursty-c2" && e.host_id === "k-gamingcom") continue; // no netflow there
      hits[e.profile] ??= [0, 0];
      hits[e.profile][0] += ok ? 1 : 0;
      hits[e.profile][1] += 1;
    }
    for (const [profile, [ok, n]] of Object.entries(hits)) {
      expect(n, profile).toBeGreaterThan(5);
      // Weak episodes exist on purpose; the signal is still there in most.
      expect(ok / n, profile).toBeGreaterThan(0.75);
    }
  });
});

describe("fault manifest", () => {
  it("covers every fault, class and prune reason in a 300-episode store", () => {
    const m = manifestOf(faulty);
    expect(m.complete).toBe(true);
    for (const f of FAULTS) expect(m.summary!.faults[f.name] ?? 0, f.name).toBeGreaterThan(0);
    for (const c of ["accepted", "degraded", "rejected", "errored"]) expect(m.summary!.classes[c], c).toBeGreaterThan(0);
    const reasons = new Set(m.episodes!.flatMap((e) => e.expect.prune ?? []));
    for (const r of ["no-sample", "no-workload-events", "workload-failed", "flat-cpu", "workload-silent"]) expect(reasons.has(r), r).toBe(true);
    const sf = m.store_faults!;
    expect(sf.index_torn_concat.length).toBeGreaterThan(0);
    expect(sf.index_torn_half.length).toBeGreaterThan(0);
    expect(sf.missing_tarball.length).toBeGreaterThan(0);
    expect(sf.orphan_tarball.length).toBeGreaterThan(0);
    expect(m.summary!.classes.accepted / 300).toBeGreaterThan(0.5);
  });

  it("puts the store-level faults on disk as recorded", () => {
    const m = manifestOf(faulty);
    const text = readFileSync(join(faulty, "index.jsonl"), "utf8");
    const lines = text.trimEnd().split("\n");
    const records = indexRecords(faulty);
    const named = new Set(records.map((r) => r.episode_id));
    for (const [a, b] of m.store_faults!.index_torn_concat) {
      expect(lines.some((l) => l.includes(`"${a}"`) && l.includes(`}{"episode_id":"${b}"`))).toBe(true);
    }
    for (const id of m.store_faults!.index_torn_half) {
      const half = lines.findIndex((l) => l.includes(`"${id}"`) && !l.endsWith("}"));
      const full = lines.findIndex((l) => l.startsWith(`{"episode_id":"${id}"`) && l.endsWith("}"));
      expect(half).toBeGreaterThanOrEqual(0);
      expect(full).toBeGreaterThan(half);
    }
    for (const id of m.store_faults!.missing_tarball) {
      const e = m.episodes!.find((x) => x.episode_id === id)!;
      expect(named.has(id)).toBe(true);
      expect(existsSync(join(faulty, e.host_id, `${id}.tar.zst`))).toBe(false);
    }
    for (const id of m.store_faults!.orphan_tarball) {
      const e = m.episodes!.find((x) => x.episode_id === id)!;
      expect(named.has(id)).toBe(false);
      expect(existsSync(join(faulty, e.host_id, `${id}.tar.zst`))).toBe(true);
    }
    // Every other episode has exactly one whole record.
    expect(records.length).toBe(300 - m.store_faults!.orphan_tarball.length);
  });

  it("says exactly what the reference inspector, the classifier and the quality rules find", () => {
    const m = manifestOf(faulty);
    const index = new Map(indexRecords(faulty).map((r) => [r.episode_id, r]));
    for (const e of m.episodes!) {
      const path = join(faulty, e.host_id, `${e.episode_id}.tar.zst`);
      const record = (index.get(e.episode_id) as any) ?? null;
      const report = existsSync(path) ? inspectBytes(readFileSync(path)) : "file-missing";
      const verdict = classifyEpisode(record, report, { episode_id: e.episode_id, host_id: e.host_id });
      expect(verdict.class, `${e.episode_id} ${e.faults} ${verdict.reasons}`).toBe(e.expect.class);
      if (report === "file-missing" || verdict.class === "errored") continue;
      expect(qualityReasons(qualityFacts(report)), `${e.episode_id} ${e.faults}`).toEqual(e.expect.prune);
      const skipped = Object.fromEntries(Object.entries(report.members).filter(([, s]) => s.skipped > 0).map(([k, s]) => [k, s.skipped]));
      expect(skipped, e.episode_id).toEqual(e.expect.skipped);
      const verdicts = Object.fromEntries(Object.entries(report.signals).map(([k, v]) => [k, v.verdict]));
      expect(verdicts, e.episode_id).toEqual(e.expect.verdicts);
    }
  });

  it("injects nothing with --faults none", () => {
    const m = manifestOf(clean);
    expect(m.episodes!.every((e) => e.faults.length === 0)).toBe(true);
    expect(m.summary!.classes.rejected + m.summary!.classes.errored).toBe(0);
    expect(Object.values(m.store_faults!).every((list) => list.length === 0)).toBe(true);
  });
});
