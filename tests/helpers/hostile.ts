// Builders of episode archives for the decoder tests: one small valid,
// realistic episode (with knobs to drop members or inject faults), seeded
// random variations of it, and a catalogue of hostile or edge-case archives.
// Everything is built in memory as Buffers; nothing touches the disk.

import binding from "zstd-napi/binding.js";
import { compress } from "zstd-napi";
import { buildTar, tarHeader, type TarEntry } from "../../src/archive/tar-write.js";
import type { InspectOptions } from "../../src/episode/report.js";

export type MemberKey = "meta" | "labels" | "events" | "proc" | "guest" | "qmp" | "netflow";

export const FILE_OF: Record<MemberKey, string> = {
  meta: "meta.json",
  labels: "labels.jsonl",
  events: "events.jsonl",
  proc: "telemetry-proc.jsonl",
  guest: "telemetry-guest.jsonl",
  qmp: "telemetry-qmp.jsonl",
  netflow: "netflow.jsonl",
};

export const T0 = 1775124672000000000n;
const NS = 1_000_000_000n;

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function zst(data: Uint8Array): Buffer {
  return compress(Buffer.from(data));
}

/** The phase schedule of the standard episode: [phase, start second]. */
export const STANDARD_PHASES: Array<[string, number]> = [
  ["clean", 0],
  ["armed", 5],
  ["infecting", 10],
  ["infected_running", 15],
  ["dormant", 40],
];

export interface EpisodeSpec {
  episodeId?: string;
  hostId?: string;
  /** Member name prefix; default `<episodeId>/`. */
  prefix?: string;
  t0?: bigint;
  durationS?: number;
  phases?: Array<[string, number]>;
  /** Sources that show no inter-phase signal (all of them when true). */
  flat?: boolean | Partial<Record<"proc" | "guest" | "qmp" | "netflow", boolean>>;
  /** Members left out of the archive. */
  drop?: MemberKey[];
  /** Member contents replaced wholesale (text or bytes). */
  replace?: Partial<Record<MemberKey, string | Uint8Array>>;
  /** Raw text appended to a member (e.g. broken rows). */
  append?: Partial<Record<MemberKey, string | Uint8Array>>;
  /** Shallow overrides of meta.json's top-level fields. */
  meta?: Record<string, unknown>;
  /** pre_kill_probe.yes of the workload_killed event (default "1"). */
  probeYes?: string;
  /** Entries placed before / after the episode's members. */
  before?: TarEntry[];
  after?: TarEntry[];
  /** Line ending ("\n" default, "\r\n" for CRLF). */
  eol?: string;
}

type Row = Record<string, unknown>;

/** JSON with bigint support (written as bare integers). */
export function jsonLine(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, "$1");
}

function phaseAtSeconds(phases: Array<[string, number]>, s: number): string {
  let phase = "clean";
  for (const [p, start] of phases) if (start <= s) phase = p;
  return phase;
}

/** The text of every member of a standard episode, before faults are applied. */
export function episodeTexts(spec: EpisodeSpec = {}): Record<MemberKey, string> {
  const id = spec.episodeId ?? "ep-000123";
  const t0 = spec.t0 ?? T0;
  const dur = spec.durationS ?? 50;
  const phases = spec.phases ?? STANDARD_PHASES;
  const eol = spec.eol ?? "\n";
  const flat = (src: "proc" | "guest" | "qmp" | "netflow") =>
    spec.flat === true || (typeof spec.flat === "object" && spec.flat[src] === true);
  const wall = (ms: number) => t0 + (BigInt(ms) * NS) / 1000n;
  const lines = (rows: Row[]) => rows.map((r) => jsonLine(r) + eol).join("");
  const running = (s: number) => phaseAtSeconds(phases, s) === "infected_running";

  const meta = {
    schema_version: 1,
    episode_id: id,
    host_id: spec.hostId ?? "elliott-thinkpad",
    started_at: "2026-04-02T10:11:12Z",
    sample: { name: "xmrig-6.21", kind: "miner", profile: "cpu-saturate" },
    exploit: { module_name: "ssh-weak-cred" },
    fleet: { slot: 3, parallel_slots: 14 },
    result: { duration_observed_s: dur, outcome: "completed" },
    ...spec.meta,
  };

  const labels = phases.map(([phase, s]) => ({ t_mono_ns: BigInt(s) * NS, t_wall_ns: wall(s * 1000), phase }));

  const runStart = phases.find(([p]) => p === "infected_running")?.[1] ?? 15;
  const dormStart = phases.find(([p]) => p === "dormant")?.[1] ?? 40;
  const events: Row[] = [
    { t_mono_ns: BigInt(runStart) * NS + 1000n, t_wall_ns: wall(runStart * 1000) + 1000n, event: "workload_started", phase: "infected_running" },
    {
      t_mono_ns: BigInt(dormStart + 5) * NS,
      t_wall_ns: wall((dormStart + 5) * 1000),
      event: "workload_killed",
      phase: "dormant",
      pre_kill_probe: { yes: spec.probeYes ?? "1" },
    },
  ];

  // proc: 10 Hz; orchestrator-relative t_mono_ns. CPU% 10 outside the running phase, 90 inside
  // (20 while infecting), one jiffy = 1% of one 0.1 s step.
  const proc: Row[] = [];
  let user = 1000;
  const sys = 400;
  let ioWrite = 0;
  for (let k = 0; k < dur * 10; k++) {
    const s = k / 10;
    const phase = phaseAtSeconds(phases, s);
    const pct = flat("proc") ? 10 : phase === "infected_running" ? 90 : phase === "infecting" ? 20 : 10;
    if (k > 0) user += pct / 10;
    ioWrite += 4096;
    proc.push({
      t_mono_ns: 777_000_000_000n + BigInt(k) * 100_000_000n,
      t_wall_ns: wall(k * 100),
      cpu_user_jiffies: user,
      cpu_sys_jiffies: sys,
      rss_bytes: 512 * 1024 * 1024 + (k % 7) * 4096,
      vsize_bytes: 2 * 1024 * 1024 * 1024,
      io_read_bytes: 1_000_000,
      io_write_bytes: ioWrite,
      voluntary_ctxsw: 10 * k,
      involuntary_ctxsw: 3 * k,
      minor_faults: 100 + k,
      major_faults: 2,
    });
  }

  // guest: 1 Hz; load_1m 0.2 (1.5 while running).
  const guest: Row[] = [];
  for (let s = 0; s < dur; s++) {
    const load = flat("guest") ? 0.2 : running(s) ? 1.5 : 0.2;
    guest.push({
      t_mono_ns: BigInt(s) * NS + 5_000_000n,
      t_wall_ns: wall(s * 1000) + 5_000_000n,
      cpu_total_jiffies: { user: 100 * s, system: 20 * s, idle: 80 * s, iowait: s, softirq: 0 },
      load_1m_5m_15m: [load, 0.1, 0.05],
      mem_available_bytes: 1_500_000_000 - s * 1000,
      mem_buffers_bytes: 20_000_000,
      mem_cached_bytes: 300_000_000,
      swap_used_bytes: 0,
      net: { eth0: { rx_bytes: 1000 * s, tx_bytes: 800 * s, rx_pkts: 10 * s, tx_pkts: 8 * s } },
      listen_ports: [22],
      top_procs: [
        { pid: 1, comm: "init", cpu_pct: 0.1 },
        { pid: 4242, comm: "xmrig", cpu_pct: running(s) ? 99.5 : 0 },
      ],
    });
  }

  // qmp: 2 Hz; 200 KiB written per sample while running.
  const qmp: Row[] = [];
  let wr = 0;
  for (let k = 0; k < dur * 2; k++) {
    const s = k / 2;
    if (k > 0 && !flat("qmp") && running(s)) wr += 200 * 1024;
    qmp.push({
      t_mono_ns: BigInt(k) * 500_000_000n + 20_000_000n,
      t_wall_ns: wall(k * 500) + 20_000_000n,
      blockstats: { virtio0: { rd_ops: 10, wr_ops: k, rd_bytes: 40960, wr_bytes: wr } },
      kvm_stats: { remote_tlb_flush: 5 * k, pages_4k: 250000, pages_2m: 100 },
    });
  }

  // netflow: 1 Hz, whole-second t_wall_ns, boot-relative t_mono_ns; one repeated second and one swapped pair.
  const netflow: Row[] = [];
  for (let s = 0; s < dur; s++) {
    const big = !flat("netflow") && running(s);
    netflow.push({
      t_mono_ns: 9_876_543_000_000_000n + BigInt(s) * NS + 123_456n, // ~114 days of uptime: above 2^53
      t_wall_ns: wall(s * 1000),
      pkts_in: big ? 90 : 2,
      pkts_out: big ? 120 : 2,
      bytes_in: big ? 40_000 : 100,
      bytes_out: big ? 60_000 : 50,
      syn_count: big ? 30 : 0,
      fin_count: 0,
      rst_count: 0,
      udp_count: 1,
      tcp_count: big ? 40 : 1,
      dns_query_count: 1,
      unique_dst_ips: big ? 25 : 1,
      unique_dst_ports: big ? 3 : 1,
      tcp_new_flows: big ? 30 : 0,
    });
  }
  if (netflow.length > 21) {
    netflow.splice(8, 0, { ...netflow[7] }); // a repeated timestamp
    [netflow[20], netflow[21]] = [netflow[21], netflow[20]]; // out of order
  }

  return {
    meta: JSON.stringify(meta, null, 2),
    labels: lines(labels),
    events: lines(events),
    proc: lines(proc),
    guest: lines(guest),
    qmp: lines(qmp),
    netflow: lines(netflow),
  };
}

const MEMBER_ORDER: MemberKey[] = ["meta", "labels", "events", "proc", "guest", "qmp", "netflow"];

/** The tar entries of an episode with the spec's faults applied. */
export function episodeEntries(spec: EpisodeSpec = {}): TarEntry[] {
  const id = spec.episodeId ?? "ep-000123";
  const prefix = spec.prefix ?? `${id}/`;
  const texts = episodeTexts(spec);
  const entries: TarEntry[] = [...(spec.before ?? [])];
  if (prefix.endsWith("/") && prefix !== "./") entries.push({ name: prefix, type: "dir" });
  for (const key of MEMBER_ORDER) {
    if (spec.drop?.includes(key)) continue;
    let data: Uint8Array = Buffer.from(texts[key]);
    const replaced = spec.replace?.[key];
    if (replaced !== undefined) data = Buffer.from(replaced);
    const extra = spec.append?.[key];
    if (extra !== undefined) data = Buffer.concat([data, Buffer.from(extra)]);
    entries.push({ name: prefix + FILE_OF[key], data });
  }
  entries.push(...(spec.after ?? []));
  return entries;
}

export function episodeTar(spec: EpisodeSpec = {}): Buffer {
  return buildTar(episodeEntries(spec));
}

/** A valid, realistic episode as a .tar.zst Buffer. */
export function buildEpisode(spec: EpisodeSpec = {}): Buffer {
  return zst(episodeTar(spec));
}

// ---------------------------------------------------------------------------
// Streaming compression of huge, mostly-zero streams (bombs).

/** Compresses `head` followed by `zeroBytes` zeros, streaming a reused zero chunk: small output, bounded memory. */
export function zstdZeros(head: Uint8Array, zeroBytes: number, tail: Uint8Array = new Uint8Array(0)): Buffer {
  const cctx = new binding.CCtx();
  cctx.setParameter(binding.CParameter.compressionLevel, 1);
  const out = Buffer.allocUnsafe(1 << 20);
  const parts: Buffer[] = [];
  const feed = (src: Uint8Array, end: boolean) => {
    let rest = src;
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(
        out,
        rest,
        end ? binding.EndDirective.end : binding.EndDirective.continue,
      );
      if (produced > 0) parts.push(Buffer.from(out.subarray(0, produced)));
      rest = rest.subarray(consumed);
      if (end ? remaining === 0 : rest.length === 0) return;
    }
  };
  feed(head, false);
  const zero = new Uint8Array(1 << 20);
  let left = zeroBytes;
  while (left > 0) {
    const n = Math.min(left, zero.length);
    feed(zero.subarray(0, n), false);
    left -= n;
  }
  feed(tail, true);
  return Buffer.concat(parts);
}

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

/**
 * A zstd frame written by hand (RFC 8878): magic 28 B5 2F FD, a frame header
 * descriptor with no content size, not single-segment, no checksum, no
 * dictionary (0x00), then a window descriptor declaring 2^windowLog bytes
 * (exponent windowLog - 10, mantissa 0), then `data` as raw blocks of at
 * most 128 KiB. Any window from 2^10 to 2^41 can be declared this way, over
 * a few bytes of content.
 */
export function rawZstdFrame(data: Uint8Array, windowLog: number): Buffer {
  if (windowLog < 10 || windowLog > 41) throw new Error(`window log ${windowLog} out of range`);
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (windowLog - 10) << 3])];
  const block = 128 * 1024;
  for (let off = 0; off === 0 || off < data.length; off += block) {
    const chunk = data.subarray(off, off + block);
    const last = off + block >= data.length ? 1 : 0;
    const header = last | (0 << 1) | (chunk.length << 3); // type 0 = raw block
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** A tar whose member declares `declared` bytes, followed by that many zeros, zstd-compressed. */
export function zeroMemberBomb(name: string, declared = 4 * GiB): Buffer {
  return zstdZeros(tarHeader({ name }, declared), declared);
}

// ---------------------------------------------------------------------------
// Byte-level faults.

/** Deterministic byte flips (XOR 0xff) at fractions of the buffer. */
export function flipBytes(buf: Uint8Array, fractions: number[]): Buffer {
  const out = Buffer.from(buf);
  for (const f of fractions) {
    const i = Math.min(out.length - 1, Math.max(0, Math.floor(f * out.length)));
    out[i] ^= 0xff;
  }
  return out;
}

export function cut(buf: Uint8Array, length: number): Buffer {
  return Buffer.from(buf.subarray(0, Math.max(0, Math.min(buf.length, length))));
}

/** Recomputes nothing: corrupts the checksum field of the tar header at `headerOffset`. */
export function corruptHeaderChecksum(tar: Uint8Array, headerOffset: number): Buffer {
  const out = Buffer.from(tar);
  out[headerOffset + 148] = out[headerOffset + 148] === 0x31 ? 0x32 : 0x31;
  return out;
}

// ---------------------------------------------------------------------------
// Raw headers and pax extended headers (the ustar writer only knows the standard types).

/** A ustar header with any type flag, its checksum recomputed. */
export function rawHeader(name: string, size: number, typeflag: string, linkname?: string): Uint8Array {
  const h = tarHeader({ name, linkname }, size);
  h[156] = typeflag.charCodeAt(0);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(Buffer.from(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return h;
}

/** Data padded with zeros to a whole number of 512-byte blocks. */
export function padBlock(b: Uint8Array): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/** One well-formed pax record, `"<len> <key>=<value>\n"`, len counting the whole record. */
export function paxRecord(key: string, value: string | Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from("\n")]);
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n++;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

/**
 * A pax extended header ('x': for the next entry, 'g': global) with its data.
 * `records` are [key, value] pairs, or raw bytes for malformed data; `declared` lies about the size.
 */
export function paxHeader(
  records: Array<[string, string | Uint8Array]> | Uint8Array,
  opts: { typeflag?: "x" | "g"; name?: string; declared?: number } = {},
): Buffer {
  const data = records instanceof Uint8Array ? records : Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  const name = opts.name ?? (opts.typeflag === "g" ? "/tmp/GlobalHead.4242.1" : "./PaxHeaders/entry");
  return Buffer.concat([rawHeader(name, opts.declared ?? data.length, opts.typeflag ?? "x"), padBlock(data)]);
}

/** One entry: a ustar header and its padded data. */
function entryBytes(name: string, data: Uint8Array | string, typeflag = "0", declared?: number, linkname?: string): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([rawHeader(name, declared ?? bytes.length, typeflag, linkname), padBlock(bytes)]);
}

/**
 * The standard episode as GNU `tar --format=posix` lays it out: a pax 'x'
 * header before every entry (mtime, atime, ctime; `path` when `pathRecords`),
 * the ustar header then carrying a placeholder name when the path is in the record.
 * `tweak(i, name, size)` may return extra records for entry i.
 */
export function paxEpisodeTar(
  spec: EpisodeSpec = {},
  opts: { pathRecords?: boolean; tweak?: (i: number, name: string, size: number) => Array<[string, string]> } = {},
): Buffer {
  const parts: Buffer[] = [];
  episodeEntries(spec).forEach((e, i) => {
    const records: Array<[string, string]> = [
      ["mtime", "1775124672.25"],
      ["atime", "1796114684.303643974"],
      ["ctime", "1796114684.299643974"],
    ];
    if (opts.pathRecords) records.push(["path", e.name]);
    const data = e.type === "dir" ? "" : (e.data ?? "");
    records.push(...(opts.tweak?.(i, e.name, Buffer.byteLength(data)) ?? []));
    parts.push(paxHeader(records, { name: `./PaxHeaders/${i}` }));
    const headerName = opts.pathRecords ? `placeholder-${i}` : e.name;
    parts.push(entryBytes(headerName, data, e.type === "dir" ? "5" : "0"));
  });
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------
// Seeded random variations of a valid episode (parity tests).

function maybe(r: () => number, p: number): boolean {
  return r() < p;
}

/** A valid-but-varied episode: different rates, nulls, CRLF, blank lines, missing optional members, quirks. */
export function variedEpisode(seed: number): Buffer {
  const r = rng(seed);
  const durationS = 20 + Math.floor(r() * 50);
  const phases: Array<[string, number]> = [["clean", 0]];
  let s = 0;
  for (const p of ["armed", "infecting", "infected_running", "dormant"]) {
    s += 1 + Math.floor(r() * (durationS / 5));
    if (s < durationS) phases.push([p, s]);
  }
  if (maybe(r, 0.1)) phases.push(["failed", durationS - 1]);
  if (maybe(r, 0.08)) phases.push(["exfiltrating", durationS - 2]); // unknown phase (non-monotonic too)
  const flatAll = maybe(r, 0.3);
  const spec: EpisodeSpec = {
    episodeId: `ep-${String(seed).padStart(6, "0")}`,
    hostId: ["elliott-thinkpad", "k-gamingcom", "lab-03"][seed % 3],
    prefix: [`ep-${seed}/`, "./", "", `store/deep/ep-${seed}/`][Math.floor(r() * 4)],
    t0: T0 + BigInt(Math.floor(r() * 1e6)) * NS,
    durationS,
    phases,
    flat: flatAll ? true : { proc: maybe(r, 0.5), guest: maybe(r, 0.5), qmp: maybe(r, 0.5), netflow: maybe(r, 0.5) },
    eol: maybe(r, 0.2) ? "\r\n" : "\n",
    probeYes: maybe(r, 0.3) ? "0" : "1",
    drop: (["events", "guest", "qmp", "netflow"] as MemberKey[]).filter(() => maybe(r, 0.15)),
    meta: {},
  };
  if (maybe(r, 0.15)) spec.meta!.sample = null;
  if (maybe(r, 0.15)) spec.meta!.exploit = null;
  if (maybe(r, 0.15)) spec.meta!.result = { duration_observed_s: null, outcome: "timeout" };
  if (maybe(r, 0.05)) spec.meta!.schema_version = "1"; // wrong type -> null
  if (maybe(r, 0.05)) spec.meta!.result = { duration_observed_s: -1, outcome: 7 };

  const texts = episodeTexts(spec);
  // Row-level quirks: blank lines, nulls, floats, unknown fields, huge integers, wrong types.
  const quirk = (key: MemberKey, text: string): string => {
    const eol = spec.eol!;
    const rows = text.split(eol).filter((l) => l.length > 0);
    const out: string[] = [];
    for (const line of rows) {
      let l = line;
      const x = r();
      if (x < 0.02) out.push("   ");
      else if (x < 0.03) out.push("");
      if (key !== "labels" && r() < 0.05) l = l.replace(/"(bytes_in|rss_bytes|mem_cached_bytes|wr_ops)":\d+/, '"$1":null');
      if (r() < 0.03) l = l.replace(/"t_mono_ns":\d+,?/, "");
      if (r() < 0.03) l = l.replace(/^\{/, '{"extra":{"nested":[1,2,{"t_wall_ns":1.5}]},"note":"t_wall_ns",');
      if (r() < 0.02) l = l.replace(/"t_wall_ns":(\d+)/, '"t_wall_ns":$1.0'); // not an integer -> skipped
      if (r() < 0.02) l = l.replace(/"t_wall_ns":\d+/, '"t_wall_ns":"1"'); // wrong type -> skipped
      if (r() < 0.02) l = l.replace(/"t_mono_ns":\d+/, '"t_mono_ns":9007199254740993'); // > 2^53, exact as i64
      if (key !== "labels" && key !== "events" && r() < 0.03) l = l.replace(/:(\d+)([,}])/, ":$1.25$2"); // floats
      if (key === "proc" && r() < 0.01) l = l.replace(/"major_faults":\d+/, '"major_faults":"2"'); // wrong type
      if (key === "guest" && r() < 0.02) l = l.replace(/"load_1m_5m_15m":\[[^\]]*\]/, '"load_1m_5m_15m":[]');
      if (key === "qmp" && r() < 0.03)
        l = l.replace(/"blockstats":\{/, '"blockstats":{"ide0":{"rd_bytes":4096,"wr_bytes":null},');
      if (r() < 0.01) l = "{not json";
      if (r() < 0.01) l = "[1,2,3]";
      out.push(l);
    }
    return out.join(eol) + (r() < 0.8 ? eol : "");
  };
  spec.replace = {};
  for (const key of ["labels", "events", "proc", "guest", "qmp", "netflow"] as MemberKey[]) {
    spec.replace[key] = quirk(key, texts[key]);
  }
  if (maybe(r, 0.1)) spec.replace.netflow = ""; // empty netflow
  return buildEpisode(spec);
}

// ---------------------------------------------------------------------------
// The hostile catalogue. `build` is lazy: some cases take a moment.

export interface HostileCase {
  name: string;
  build: () => Buffer;
  options?: Partial<InspectOptions>;
}

const deepJson = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

function standardCuts(): HostileCase[] {
  const good = () => buildEpisode();
  const fractions = [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999];
  const cases: HostileCase[] = fractions.map((f) => ({
    name: `truncated zstd at ${f}`,
    build: () => {
      const b = good();
      return cut(b, Math.floor(b.length * f));
    },
  }));
  cases.push({ name: "truncated zstd: last byte missing", build: () => cut(good(), good().length - 1) });
  // The zstd stream is whole, the tar inside is cut: mid-header, mid-data, at a block boundary.
  const tar = () => episodeTar();
  cases.push({ name: "truncated tar mid-header", build: () => zst(cut(tar(), 512 + 100)) });
  cases.push({ name: "truncated tar mid-data", build: () => zst(cut(tar(), 512 * 3 + 700)) });
  cases.push({ name: "truncated tar mid-padding", build: () => zst(cut(tar(), tarPaddingCut(tar()))) });
  cases.push({ name: "tar without end blocks", build: () => zst(cut(tar(), tar().length - 1024)) });
  // dir header, meta header, meta data (one block): 1536 is the start of the labels header.
  cases.push({ name: "tar cut at a header boundary", build: () => zst(cut(tar(), 512 * 3)) });
  return cases;
}

/** An offset inside the zero padding after the first member with padding. */
function tarPaddingCut(tar: Buffer): number {
  let off = 0;
  while (off + 512 <= tar.length) {
    const size = parseInt(tar.subarray(off + 124, off + 135).toString("latin1"), 8) || 0;
    const end = off + 512 + size;
    if (size % 512 !== 0) return end + 10;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return tar.length - 1;
}

/** pax extended headers: the layouts GNU tar and Python write, and what an attacker could write. */
function paxCases(): HostileCase[] {
  const texts = episodeTexts();
  const meta = () => entryBytes("ep-000123/meta.json", texts.meta);
  const tarOf = (...parts: Uint8Array[]) => zst(Buffer.concat(parts));
  const malformed: Array<[string, Uint8Array | (() => Buffer)]> = [
    ["record length is not a number", Buffer.from("x9 path=a\n")],
    ["record length past the header data", Buffer.from("99 path=a\n")],
    ["record length overflows", Buffer.from("99999999999999999999999999 path=a\n")],
    ["record without '='", Buffer.from("9 pathab\n")],
    ["record not ending in a newline", Buffer.from("10 path=ab\n")],
    ["record with an empty key", Buffer.from("6 =ab\n")],
    ["size record not a number", paxRecord("size", "12k")],
    ["negative size record", paxRecord("size", "-1")],
    ["mtime record not a time", paxRecord("mtime", "yesterday")],
    ["size record of 30 digits", paxRecord("size", "1".repeat(30))],
    ["size record of 400 KiB of digits", paxRecord("size", "9".repeat(400 * 1024))],
    ["NUL between records", Buffer.concat([paxRecord("path", "a"), Buffer.from([0]), paxRecord("path", "b")])],
    ["oversized header data (2 MiB declared)", () => paxHeader([], { declared: 2 * MiB })],
    ["malformed global header", () => paxHeader(Buffer.from("5 x\n\n"), { typeflag: "g" })],
  ];
  return [
    { name: "pax: GNU posix layout, mtime/atime/ctime before every entry", build: () => zst(paxEpisodeTar()) },
    { name: "pax: every name in a path record", build: () => zst(paxEpisodeTar({}, { pathRecords: true })) },
    {
      name: "pax: path traversal in path records",
      build: () =>
        tarOf(
          paxHeader([["path", "../../etc/passwd"]]),
          entryBytes("passwd", "root:x:0:0\n"),
          paxHeader([["path", "ep-000123/../../meta.json"]]),
          entryBytes("ep-000123/innocent.json", "{}"),
          paxHeader([["path", "ep-000123/../labels.jsonl"]]),
          entryBytes("labels.jsonl", '{"t_wall_ns":1,"phase":"failed"}\n'),
          episodeTar(),
        ),
    },
    {
      name: "pax: absolute path records",
      build: () =>
        tarOf(
          paxHeader([["path", "/etc/passwd"]]),
          entryBytes("etc-passwd", "root:x:0:0\n"),
          paxHeader([["path", "/ep-000123/telemetry-proc.jsonl"]], { typeflag: "g" }),
          entryBytes("ep-000123/telemetry-proc.jsonl", ""),
          entryBytes("ep-000123/telemetry-guest.jsonl", ""),
          paxHeader([["path", ""]], { typeflag: "g" }),
          episodeTar(),
        ),
    },
    {
      name: "pax: a safe path record over an unsafe header name",
      build: () => tarOf(paxHeader([["path", "ep-000123/notes.txt"]]), entryBytes("../../notes.txt", "hi"), episodeTar()),
    },
    {
      name: "pax: size records honoured (header sizes lie)",
      build: () => {
        const proc = Buffer.from(texts.proc);
        return tarOf(
          paxHeader([["size", String(proc.length)]]),
          entryBytes("ep-000123/telemetry-proc.jsonl", proc, "0", 0),
          paxHeader([["size", "2000"]]),
          entryBytes("ep-000123/padding.bin", Buffer.alloc(2000, 0x41), "0", 7),
          episodeTar({ drop: ["proc"] }),
        );
      },
    },
    {
      name: "pax: size record over max_member_bytes",
      build: () => tarOf(meta(), paxHeader([["size", "100000000"]]), entryBytes("ep-000123/telemetry-proc.jsonl", "", "0", 0), episodeTar({ drop: ["meta"] })),
    },
    {
      name: "pax: size record one byte over a tight max_member_bytes",
      build: () => tarOf(paxHeader([["size", "20000"]]), entryBytes("ep-000123/telemetry-proc.jsonl", Buffer.from(texts.proc).subarray(0, 20000), "0", 10), episodeTar({ drop: ["proc"] })),
      options: { max_member_bytes: 19_999 },
    },
    {
      name: "pax: huge size record on an unknown entry",
      build: () => tarOf(meta(), paxHeader([["size", "18446744073709551615"]]), entryBytes("ep-000123/padding.bin", "", "0", 0), episodeTar({ drop: ["meta"] })),
    },
    {
      name: "pax: global headers apply to every following entry until cleared",
      build: () =>
        tarOf(
          paxHeader([["comment", "fleet packer 2.1"], ["mtime", "1775124672"]], { typeflag: "g" }),
          meta(),
          paxHeader([["path", "ep-000123/labels.jsonl"]], { typeflag: "g" }),
          entryBytes("a", texts.labels),
          entryBytes("ep-000123/telemetry-proc.jsonl", texts.proc),
          paxHeader([["path", ""]]),
          entryBytes("ep-000123/telemetry-proc.jsonl", texts.proc),
          paxHeader([["path", ""]], { typeflag: "g" }),
          episodeTar({ drop: ["meta", "labels", "proc"] }),
        ),
    },
    {
      name: "pax: linkpath records on links, path records on links and devices",
      build: () =>
        tarOf(
          paxHeader([["path", "ep-000123/meta.json"], ["linkpath", "/etc/passwd"]]),
          entryBytes("l1", "", "2"),
          paxHeader([["linkpath", "../../../etc/shadow"]]),
          entryBytes("ep-000123/labels.jsonl", "", "1", 0, "ignored"),
          paxHeader([["path", "ep-000123/telemetry-proc.jsonl"]]),
          entryBytes("dev", "", "3"),
          episodeTar(),
        ),
    },
    {
      name: "pax: path record beats a GNU long name; consecutive headers, later records win",
      build: () => {
        const long = `${"deep/".repeat(30)}ignored.txt`;
        const proc = Buffer.from(texts.proc);
        return tarOf(
          entryBytes("././@LongLink", `${long}\0`, "L"),
          paxHeader([["path", "ep-000123/wrong.txt"]]),
          paxHeader([["path", "ep-000123/telemetry-proc.jsonl"], ["size", String(proc.length)]]),
          entryBytes("short", proc, "0", 3),
          episodeTar({ drop: ["proc"] }),
        );
      },
    },
    {
      name: "pax: non-UTF-8 path record",
      build: () => tarOf(paxHeader([["path", Buffer.from([0x65, 0x70, 0xff, 0x2f, 0x6d, 0x65, 0x74, 0x61, 0x2e, 0x6a, 0x73, 0x6f, 0x6e])]]), entryBytes("x", texts.meta), episodeTar()),
    },
    {
      name: "pax: 600 KiB records (an unknown key, a size with 300k leading zeros, a long mtime)",
      build: () => {
        const proc = Buffer.from(texts.proc);
        return tarOf(
          paxHeader([
            ["k".repeat(600 * 1024), "v"],
            ["size", "0".repeat(300_000) + String(proc.length)],
            ["mtime", "0".repeat(1000) + "1775124672." + "5".repeat(1000)],
            ["path", "ep-000123/telemetry-proc.jsonl"],
          ]),
          entryBytes("p", proc, "0", 0),
          episodeTar({ drop: ["proc"] }),
        );
      },
    },
    {
      name: "pax: dangling header at the end of the archive",
      build: () => {
        const tar = episodeTar();
        return tarOf(tar.subarray(0, tar.length - 1024), paxHeader([["path", "ep-000123/meta.json"]]), Buffer.alloc(1024));
      },
    },
    {
      name: "pax: stream ends inside pax header data",
      build: () => tarOf(meta(), paxHeader([["path", "x".repeat(600)]]).subarray(0, 800)),
    },
    ...malformed.map(([what, data]) => ({
      name: `pax malformed: ${what}`,
      build: () => tarOf(meta(), typeof data === "function" ? data() : paxHeader(data), episodeTar({ drop: ["meta"] })),
    })),
  ];
}

export function hostileCases(): HostileCase[] {
  const cases: HostileCase[] = [
    { name: "valid episode", build: () => buildEpisode() },
    { name: "valid flat episode, probe zero", build: () => buildEpisode({ flat: true, probeYes: "0" }) },
    {
      name: "path traversal",
      build: () =>
        buildEpisode({
          before: [
            { name: "../../etc/passwd", data: "root:x:0:0\n" },
            { name: "ep/../../x", data: "x" },
            { name: "ep/../meta.json", data: "{}" },
          ],
        }),
    },
    {
      name: "absolute names",
      build: () =>
        buildEpisode({
          before: [
            { name: "/etc/passwd", data: "root:x:0:0\n" },
            { name: "/ep-000123/labels.jsonl", data: "" },
          ],
        }),
    },
    {
      name: "symlink and hardlink named like members",
      build: () =>
        buildEpisode({
          before: [
            { name: "ep-000123/meta.json", type: "symlink", linkname: "/etc/passwd" },
            { name: "ep-000123/labels.jsonl", type: "hardlink", linkname: "/etc/shadow" },
            { name: "ep-000123/escape", type: "symlink", linkname: "../../../../root" },
          ],
        }),
    },
    {
      name: "symlink instead of meta.json",
      build: () =>
        buildEpisode({
          drop: ["meta"],
          before: [{ name: "ep-000123/meta.json", type: "symlink", linkname: "/etc/passwd" }],
        }),
    },
    {
      name: "devices and fifo",
      build: () =>
        buildEpisode({
          after: [
            { name: "ep-000123/null", type: "chardev" },
            { name: "ep-000123/sda", type: "blockdev" },
            { name: "ep-000123/telemetry-proc.jsonl", type: "fifo" },
          ],
        }),
    },
    { name: "bomb: 4 GiB member named like telemetry", build: () => zeroMemberBomb("ep/telemetry-proc.jsonl") },
    { name: "bomb: 4 GiB unknown member", build: () => zeroMemberBomb("ep/padding.bin") },
    { name: "bomb: 6 GiB of bare zeros", build: () => zstdZeros(new Uint8Array(0), 6 * GiB) },
    {
      name: "64 MiB single line in telemetry-proc",
      build: () => {
        const texts = episodeTexts();
        // The whole member stays within the default 64 MiB member limit; the line alone is far over 1 MiB.
        const filler = 64 * MiB - Buffer.byteLength(texts.proc) - 1024;
        const head = Buffer.from('{"t_wall_ns":1775124672000000000,"pad":"');
        const line = Buffer.alloc(filler - head.length - 3, 0x61);
        const big = Buffer.concat([head, line, Buffer.from('"}\n')]);
        return buildEpisode({ replace: { proc: Buffer.concat([big, Buffer.from(texts.proc)]) } });
      },
    },
    {
      name: "duplicate members",
      build: () =>
        buildEpisode({
          after: [
            { name: "./labels.jsonl", data: '{"t_wall_ns":1,"phase":"failed"}\n' },
            { name: "other/meta.json", data: "{}" },
          ],
        }),
    },
    {
      name: "non-UTF-8 row and meta",
      build: () =>
        buildEpisode({
          replace: { meta: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
          append: { proc: Buffer.from([...Buffer.from('{"t_wall_ns":1775124672000000000,"x":"'), 0xc3, 0x28, 0x22, 0x7d, 0x0a]) },
        }),
    },
    {
      name: "100k-deep nesting in a row and in meta",
      build: () =>
        buildEpisode({
          replace: { meta: `{"a":${deepJson(100_000)}}` },
          append: {
            proc: `{"t_wall_ns":1775124672000000000,"x":${deepJson(100_000)}}\n`,
            guest: `${"{".repeat(100_000)}\n`,
          },
        }),
    },
    {
      name: "rows without or with bad t_wall_ns",
      build: () =>
        buildEpisode({
          append: {
            proc: [
              '{"t_mono_ns":1,"cpu_user_jiffies":1}',
              '{"t_wall_ns":null}',
              '{"t_wall_ns":1775124672000000000.0}',
              '{"t_wall_ns":1.775124672e18}',
              '{"t_wall_ns":"1775124672000000000"}',
              '{"t_wall_ns":9223372036854775808}',
              '{"t_wall_ns":-9223372036854775809}',
              '{"t_wall_ns":1775124672000000000,"t_mono_ns":1.5}',
              '{"t_wall_ns":1775124672000000000,"t_mono_ns":"1"}',
              '{"nested":{"t_wall_ns":1775124672000000000}}',
              '{"s":"\\"t_wall_ns\\":1775124672000000000"}',
              '{"t_wall_ns":1775124672000000001,"t_wall_ns":"x"}',
              "",
            ].join("\n"),
            netflow: [
              '{"t_wall_ns":9223372036854775807,"t_mono_ns":-9223372036854775808}',
              '{"t_wall_ns":1775124672000000001,"t_wall_ns":1775124690000000003}',
              '{"t\\u005fwall_ns":1775124691000000007,"bytes_in":1}',
              '{"t_wall_ns":"x","t_wall_ns":1775124692000000009}',
              "",
            ].join("\n"),
          },
        }),
    },
    {
      name: "wrong-typed fields",
      build: () =>
        buildEpisode({
          append: {
            labels: '{"t_wall_ns":1775124720000000000,"phase":4}\n{"t_wall_ns":1775124720000000000}\n',
            events: '{"t_wall_ns":1,"event":5}\n{"t_wall_ns":1,"event":"x","pre_kill_probe":[1]}\n{"t_wall_ns":1,"event":"x","pre_kill_probe":{"yes":0}}\n{"t_wall_ns":1,"event":"x","phase":3}\n',
            proc: '{"t_wall_ns":1775124672000000000,"cpu_user_jiffies":"12"}\n{"t_wall_ns":1775124672000000000,"rss_bytes":true}\n',
            guest:
              '{"t_wall_ns":1775124672000000000,"net":5}\n{"t_wall_ns":1775124672000000000,"net":{"eth0":[]}}\n{"t_wall_ns":1775124672000000000,"load_1m_5m_15m":[1,"x"]}\n{"t_wall_ns":1775124672000000000,"listen_ports":{}}\n{"t_wall_ns":1775124672000000000,"cpu_total_jiffies":{"user":"1"}}\n',
            qmp: '{"t_wall_ns":1775124672000000000,"blockstats":{"sda":3}}\n{"t_wall_ns":1775124672000000000,"blockstats":[]}\n{"t_wall_ns":1775124672000000000,"kvm_stats":{"pages_4k":"1"}}\n',
            netflow: '{"t_wall_ns":1775124672000000000,"bytes_in":[1]}\n{"t_wall_ns":1775124672000000000,"bytes_out":{}}\n',
          },
        }),
    },
    ...standardCuts(),
    {
      name: "bit flips",
      build: () => flipBytes(buildEpisode(), [0.0005]),
    },
    ...[0.02, 0.2, 0.4, 0.6, 0.8, 0.98].map((f) => ({
      name: `bit flip at ${f}`,
      build: () => flipBytes(buildEpisode(), [f]),
    })),
    { name: "bit flips at several points", build: () => flipBytes(buildEpisode(), [0.1, 0.3, 0.7]) },
    { name: "empty file", build: () => Buffer.alloc(0) },
    { name: "not zstd: text", build: () => Buffer.from("this is not a zstd stream\n") },
    {
      name: "not zstd: random bytes",
      build: () => {
        const r = rng(7);
        return Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
      },
    },
    { name: "zstd of garbage (not a tar)", build: () => zst(Buffer.from("hello, this is not a tarball at all".repeat(40))) },
    { name: "trailing garbage after the zstd frame", build: () => Buffer.concat([buildEpisode(), Buffer.from("junk")]) },
    {
      name: "two zstd frames",
      build: () => {
        const tar = episodeTar();
        return Buffer.concat([zst(tar.subarray(0, 5120)), zst(tar.subarray(5120))]);
      },
    },
    { name: "bad tar header checksum", build: () => zst(corruptHeaderChecksum(episodeTar(), 512 * 3)) },
    {
      name: "labels non-monotonic",
      build: () =>
        buildEpisode({
          phases: [
            ["clean", 0],
            ["armed", 10],
            ["infecting", 5],
            ["infected_running", 15],
            ["dormant", 40],
          ],
        }),
    },
    {
      name: "labels non-monotonic in t_mono_ns only",
      build: () =>
        buildEpisode({
          replace: {
            labels:
              '{"t_mono_ns":0,"t_wall_ns":1775124672000000000,"phase":"clean"}\n{"t_mono_ns":9000000000,"t_wall_ns":1775124677000000000,"phase":"armed"}\n{"t_mono_ns":8000000000,"t_wall_ns":1775124682000000000,"phase":"infecting"}\n{"t_wall_ns":1775124687000000000,"phase":"infected_running"}\n',
          },
        }),
    },
    {
      name: "unknown phase",
      build: () =>
        buildEpisode({
          phases: [
            ["clean", 0],
            ["armed", 5],
            ["exfiltrating", 10],
            ["infected_running", 15],
            ["Dormant", 40],
          ],
        }),
    },
    { name: "missing labels.jsonl", build: () => buildEpisode({ drop: ["labels"] }) },
    { name: "missing telemetry-proc", build: () => buildEpisode({ drop: ["proc"] }) },
    { name: "missing meta.json", build: () => buildEpisode({ drop: ["meta"] }) },
    { name: "empty netflow", build: () => buildEpisode({ replace: { netflow: "" } }) },
    { name: "only optional members missing", build: () => buildEpisode({ drop: ["events", "guest", "qmp", "netflow"] }) },
    { name: "CRLF and blank lines", build: () => buildEpisode({ eol: "\r\n", append: { proc: "\r\n   \n\t\r\n\n" } }) },
    { name: "sample null", build: () => buildEpisode({ meta: { sample: null, exploit: null } }) },
    { name: "meta not an object", build: () => buildEpisode({ replace: { meta: "[1,2]" } }) },
    { name: "no prefix, dot-slash prefix", build: () => buildEpisode({ prefix: "./" }) },
    {
      name: "long ustar prefix names",
      build: () => buildEpisode({ prefix: `${"d".repeat(120)}/${"e".repeat(20)}/` }),
    },
    {
      name: "JSON edge cases: numbers, escapes, duplicate keys, BOM",
      build: () =>
        buildEpisode({
          append: {
            netflow: [
              '{"t_wall_ns":1775124700000000000,"bytes_in":0.1000000000000000055511151231257827,"bytes_out":5e-324}',
              '{"t_wall_ns":1775124700000000000,"bytes_in":1e-400,"bytes_out":123456789012345678901234567890}',
              '{"t_wall_ns":1775124700000000000,"bytes_in":-0,"bytes_out":9007199254740993,"pkts_in":1.7976931348623157e308}',
              '{"t_wall_ns":1775124700000000000,"bytes_in":2.2250738585072011e-308,"bytes_out":0.30000000000000004}',
              '{"t_wall_ns":-0,"bytes\\u005fin":77}',
              '{"t_wall_ns":01}',
              '{"t_wall_ns":+1}',
              '\ufeff{"t_wall_ns":1}',
              '{"t_wall_ns":1775124700000000000,"bytes_in":1,"bytes_in":null}',
              '{"t_wall_ns":1775124700000000000}  ',
              '{"t_wall_ns":1775124700000000000} x',
              "",
            ].join("\n"),
            labels: [
              '{"t_wall_ns":1775124720000000000,"phase":"\\ud83d\\ude00"}',
              '{"t_wall_ns":1775124720000000001,"phase":"\\uffff"}',
              '{"t_wall_ns":1775124720000000002,"phase":"\\ud800"}',
              '{"t_wall_ns":1775124720000000003,"phase":"caf\\u00e9"}',
              '{"t_wall_ns":1775124720000000004,"phase":"dorm\\u0061nt"}',
              "",
            ].join("\n"),
            events: [
              '{"t_wall_ns":1775124717000000000,"event":"workload_killed","pre_kill_probe":{"yes":null}}',
              '{"t_wall_ns":1775124717000000000,"event":"workload_\\u006billed","phase":"dormant","pre_kill_probe":{"yes":"0","no":[1]}}',
              '{"t_wall_ns":1775124717000000000,"event":"workload_x","error":null,"pre_kill_probe":null}',
              "",
            ].join("\n"),
            qmp: [
              '{"t_wall_ns":1775124700000000000,"blockstats":{"b":{"rd_bytes":0.1},"10":{"rd_bytes":0.2},"2":{"wr_bytes":0.3},"virtio0":{"rd_bytes":1e16},"a":{"rd_bytes":1}}}',
              '{"t_wall_ns":1775124700000000000,"blockstats":{"virtio0":{"rd_bytes":5},"virtio0":{"wr_bytes":7}}}',
              '{"t_wall_ns":1775124700000000000,"blockstats":{"virtio0":{"rd_bytes":5}},"blockstats":null}',
              "",
            ].join("\n"),
            guest: [
              '{"t_wall_ns":1775124700000000000,"net":{"eth0":{"rx_bytes":1}},"net":{"eth1":{}}}',
              '{"t_wall_ns":1775124700000000000,"load_1m_5m_15m":[2.5,null]}',
              '{"t_wall_ns":1775124700000000000,"load_1m_5m_15m":[[1]]}',
              '{"t_wall_ns":1775124700000000000,"listen_ports":[{"a":[[[]]]}],"top_procs":"x"}',
              '{"t_wall_ns":1775124700000000000,"cpu_total_jiffies":{"user":1,"user":"x"}}',
              "",
            ].join("\n"),
          },
        }),
    },
    {
      name: "tar format edge cases: GNU long name, pax header, contiguous file",
      build: () => {
        const texts = episodeTexts();
        const longName = `${"deep/".repeat(40)}telemetry-proc.jsonl`;
        const fix = (h: Uint8Array, flag: string) => {
          h[156] = flag.charCodeAt(0);
          h.fill(0x20, 148, 156);
          const sum = h.reduce((a, b) => a + b, 0);
          h.set(Buffer.from(sum.toString(8).padStart(6, "0") + "\0 "), 148);
          return h;
        };
        const padded = (b: Uint8Array) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
        const proc = Buffer.from(texts.proc);
        const netflow = Buffer.from(texts.netflow);
        const head = Buffer.concat([
          fix(tarHeader({ name: "././@LongLink" }, longName.length + 1), "L"),
          padded(Buffer.from(longName + "\0")),
          tarHeader({ name: "ignored-short-name" }, proc.length),
          padded(proc),
          paxHeader([["path", "ep/netflow.jsonl"]], { name: "PaxHeaders/netflow.jsonl" }),
          fix(tarHeader({ name: "placeholder" }, netflow.length), "7"),
          padded(netflow),
        ]);
        const rest = episodeTar({ drop: ["proc", "netflow"] });
        return zst(Buffer.concat([head, rest]));
      },
    },
    ...paxCases(),
    {
      name: "single zero block inside the archive",
      build: () => {
        const tar = episodeTar();
        return zst(Buffer.concat([tar.subarray(0, 1536), Buffer.alloc(512), tar.subarray(1536)]));
      },
    },
    {
      // netflow is exactly max_member_bytes (allowed); its one line is one byte over max_line_bytes.
      name: "member exactly at max_member_bytes",
      build: () => buildEpisode({ drop: ["proc", "guest", "qmp"], replace: { netflow: "x".repeat(1000) } }),
      options: { max_member_bytes: 1000, max_line_bytes: 999 },
    },
    {
      name: "too-deep top-level array and deep-but-invalid rows",
      build: () =>
        buildEpisode({
          append: { netflow: `${deepJson(70)}\n{"t_wall_ns":1,"x":${"[".repeat(70)}\n` },
        }),
    },
    { name: "rows limit", build: () => buildEpisode(), options: { max_rows: 100 } },
    { name: "member bytes limit", build: () => buildEpisode(), options: { max_member_bytes: 10_000 } },
    { name: "total bytes limit", build: () => buildEpisode(), options: { max_total_bytes: 50_000 } },
    { name: "line bytes limit", build: () => buildEpisode(), options: { max_line_bytes: 200 } },
    { name: "depth limit 1", build: () => buildEpisode(), options: { max_depth: 1 } },
    // zstd windows (max_window_bytes, default 2^27): refused before allocation, whatever the content.
    { name: "frame declaring a 2 GiB window", build: () => rawZstdFrame(episodeTar(), 31) },
    { name: "frame declaring a 2^41-byte window", build: () => rawZstdFrame(episodeTar(), 41) },
    { name: "frame declaring a window just over the limit", build: () => rawZstdFrame(episodeTar(), 28) },
    { name: "frame declaring a window exactly at the limit", build: () => rawZstdFrame(episodeTar(), 27) },
    { name: "window allowed by a raised max_window_bytes", build: () => rawZstdFrame(episodeTar(), 22), options: { max_window_bytes: 2 ** 22 } },
    { name: "window over a lowered max_window_bytes", build: () => rawZstdFrame(episodeTar(), 22), options: { max_window_bytes: 2 ** 21 } },
    { name: "ordinary episode under a 1 MiB window limit", build: () => buildEpisode(), options: { max_window_bytes: 2 ** 20 } },
    { name: "second frame declaring a huge window", build: () => Buffer.concat([buildEpisode(), rawZstdFrame(new Uint8Array(1024), 31)]) },
  ];
  return cases;
}
