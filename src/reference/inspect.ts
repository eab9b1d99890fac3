// The plain TypeScript reference of the episode decoder (docs/inspection.md).
// Used by parity tests and benchmarks only, never in production paths: it is
// written to be obviously correct, sequential, and reasonably fast (JSON.parse
// per line, typed arrays for columns), so that benchmarks compare the native
// path against a fair baseline.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import binding from "zstd-napi/binding.js";
import type { Inspector } from "../episode/inspector.js";
import {
  DEFAULT_INSPECT_OPTIONS,
  JSONL_MEMBERS,
  MEMBER_FILES,
  PHASES,
  type EpisodeMeta,
  type EpisodeReport,
  type Finding,
  type InspectOptions,
  type JsonlMember,
  type MemberStats,
  type SourceSignal,
} from "../episode/report.js";
import { PaxError, TarError, TarLimitError, TarReader, type ByteSource } from "./tar-read.js";

// ---------------------------------------------------------------------------
// Errors that stop the episode. Each carries the report's `fatal` code.

class FatalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// zstd: a pull source over the whole compressed file, decoding one output
// buffer at a time so that memory stays bounded whatever the ratio.

const OUT_CHUNK = binding.dStreamOutSize();

/** libzstd's message for ZSTD_error_frameParameter_windowTooLarge. */
const WINDOW_TOO_LARGE = "Frame requires too much memory for decoding";

/** max_window_bytes as a window log, or an Error (bad options, as the native side throws). */
export function windowLogOf(maxWindowBytes: number): number {
  const log = Math.log2(maxWindowBytes);
  if (!Number.isInteger(log) || log < 10 || log > 31) {
    throw new Error(`invalid inspect options: max_window_bytes must be a power of two from 2^10 to 2^31, got ${maxWindowBytes}`);
  }
  return log;
}

class ZstdSource implements ByteSource {
  private readonly dctx = new binding.DCtx();
  private readonly out = new Uint8Array(OUT_CHUNK);
  private inPos = 0;
  private sawFrame = false;
  private frameOpen = false;
  private outputFull = false;
  /** Decoded bytes not yet handed out (a view into `out`). */
  private pending: Uint8Array = new Uint8Array(0);
  /** Decoded bytes handed out so far. */
  delivered = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly maxTotal: number,
    private readonly maxWindow: number,
  ) {
    // The window is the decoder's one large allocation: a frame declaring
    // more than max_window_bytes is refused before it is allocated.
    this.dctx.setParameter(binding.DParameter.windowLogMax, windowLogOf(maxWindow));
  }

  /** Decodes into `out`; returns the number of bytes produced, 0 at the clean end of the stream. */
  private decode(): number {
    for (;;) {
      const noInput = this.inPos >= this.input.length;
      if (noInput && !this.outputFull) {
        // Nothing left to feed and nothing buffered inside zstd: the stream must end on a frame boundary.
        if (!this.sawFrame) throw new FatalError("zstd-error", "empty input: no zstd frame");
        if (this.frameOpen) throw new FatalError("zstd-error", "zstd frame cut short");
        return 0;
      }
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = this.dctx.decompressStream(this.out, this.input.subarray(this.inPos));
      } catch (error) {
        const message = (error as Error).message;
        if (message === WINDOW_TOO_LARGE) throw new FatalError("limit:window-bytes", `a zstd frame declares a window larger than max_window_bytes (${this.maxWindow} bytes)`);
        throw new FatalError("zstd-error", `zstd: ${message}`);
      }
      this.inPos += consumed;
      if (consumed > 0) this.sawFrame = true;
      // zstd answers a hint (non-zero) to a call that had nothing to do; only a call that made progress tells
      // whether a frame is still open.
      if (consumed > 0 || produced > 0) this.frameOpen = ret !== 0;
      // A full output buffer may mean zstd still holds decoded bytes: call again even without input.
      this.outputFull = produced === this.out.length;
      if (produced > 0) return produced;
    }
  }

  next(): Uint8Array | null {
    if (this.pending.length === 0) {
      const produced = this.decode();
      if (produced === 0) return null;
      this.pending = this.out.subarray(0, produced);
    }
    // The limit trips when the reader needs byte max_total_bytes + 1, wherever zstd's chunks happen to end.
    const allowed = this.maxTotal - this.delivered;
    if (allowed <= 0) {
      throw new FatalError("limit:total-bytes", `more than ${this.maxTotal} decompressed bytes`);
    }
    const piece = this.pending.subarray(0, Math.min(allowed, this.pending.length));
    this.pending = this.pending.subarray(piece.length);
    this.delivered += piece.length;
    return piece;
  }
}

// ---------------------------------------------------------------------------
// Growable typed columns.

class F64Col {
  data = new Float64Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

class I64Col {
  data = new BigInt64Array(256);
  length = 0;
  push(v: bigint): void {
    if (this.length === this.data.length) {
      const bigger = new BigInt64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  values(): BigInt64Array {
    return this.data.subarray(0, this.length);
  }
}

// ---------------------------------------------------------------------------
// Per-member schemas: how one parsed JSON object becomes typed values.

/** Thrown by extractors for a row of the wrong shape; caught per row. */
class RowSkip extends Error {}
const ROW_SKIP = new RowSkip("row skipped");

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(v: Json): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Numeric field: number -> itself, null/missing -> NaN, anything else skips the row. */
function num(v: Json): number {
  if (typeof v === "number") return v;
  if (v === undefined || v === null) return NaN;
  throw ROW_SKIP;
}

/** Nested object: object -> itself, null/missing -> null, anything else skips the row. */
function optObject(v: Json): JsonObject | null {
  if (isObject(v)) return v;
  if (v === undefined || v === null) return null;
  throw ROW_SKIP;
}

/** Optional string: string -> itself, null/missing -> null, anything else skips the row. */
function optString(v: Json): string | null {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return null;
  throw ROW_SKIP;
}

/** Array length as a level: array -> length, null/missing -> NaN, anything else skips the row. */
function arrayLength(v: Json): number {
  if (Array.isArray(v)) return v.length;
  if (v === undefined || v === null) return NaN;
  throw ROW_SKIP;
}

interface Schema {
  numFields: readonly string[];
  strFields: readonly string[];
  /** Fills `nums` / `strs` (in field order) or throws ROW_SKIP. */
  extract(row: JsonObject, nums: number[], strs: (string | null)[]): void;
}

const PROC_FIELDS = [
  "cpu_user_jiffies",
  "cpu_sys_jiffies",
  "rss_bytes",
  "vsize_bytes",
  "io_read_bytes",
  "io_write_bytes",
  "voluntary_ctxsw",
  "involuntary_ctxsw",
  "minor_faults",
  "major_faults",
] as const;

const NETFLOW_FIELDS = [
  "pkts_in",
  "pkts_out",
  "bytes_in",
  "bytes_out",
  "syn_count",
  "fin_count",
  "rst_count",
  "udp_count",
  "tcp_count",
  "dns_query_count",
  "unique_dst_ips",
  "unique_dst_ports",
  "tcp_new_flows",
] as const;

const GUEST_FIELDS = [
  "cpu_user",
  "cpu_sys",
  "cpu_idle",
  "cpu_iowait",
  "cpu_softirq",
  "load_1m",
  "mem_available",
  "mem_buffers",
  "mem_cached",
  "swap_used",
  "eth0_rx_bytes",
  "eth0_tx_bytes",
  "eth0_rx_pkts",
  "eth0_tx_pkts",
  "n_listen_ports",
  "n_top_procs",
] as const;

const QMP_FIELDS = [
  "virtio0_rd_ops",
  "virtio0_wr_ops",
  "virtio0_rd_bytes",
  "virtio0_wr_bytes",
  "kvm_tlb_flush",
  "kvm_pages_4k",
  "kvm_pages_2m",
  "blk_total_bytes",
] as const;

function flatNumbers(fields: readonly string[]): Schema["extract"] {
  return (row, nums) => {
    for (const f of fields) nums.push(num(row[f]));
  };
}

const SCHEMAS: Record<JsonlMember, Schema> = {
  labels: {
    numFields: [],
    strFields: ["phase"],
    extract(row, _nums, strs) {
      const phase = row.phase;
      if (typeof phase !== "string") throw ROW_SKIP;
      strs.push(phase);
    },
  },
  events: {
    numFields: [],
    strFields: ["event", "phase", "probe_yes"],
    extract(row, _nums, strs) {
      const event = row.event;
      if (typeof event !== "string") throw ROW_SKIP;
      const phase = optString(row.phase);
      const probe = optObject(row.pre_kill_probe);
      const yes = probe ? optString(probe.yes) : null;
      strs.push(event, phase, yes);
    },
  },
  proc: { numFields: PROC_FIELDS, strFields: [], extract: flatNumbers(PROC_FIELDS) },
  netflow: { numFields: NETFLOW_FIELDS, strFields: [], extract: flatNumbers(NETFLOW_FIELDS) },
  guest: {
    numFields: GUEST_FIELDS,
    strFields: [],
    extract(row, nums) {
      const cpu = optObject(row.cpu_total_jiffies);
      const load = row.load_1m_5m_15m;
      let load1 = NaN;
      if (Array.isArray(load)) {
        // "array of numbers": every element must be a number.
        for (const x of load) if (typeof x !== "number") throw ROW_SKIP;
        if (load.length > 0) load1 = load[0] as number;
      } else if (load !== undefined && load !== null) throw ROW_SKIP;
      const net = optObject(row.net);
      const eth0 = net ? optObject(net.eth0) : null;
      nums.push(
        num(cpu?.user),
        num(cpu?.system),
        num(cpu?.idle),
        num(cpu?.iowait),
        num(cpu?.softirq),
        load1,
        num(row.mem_available_bytes),
        num(row.mem_buffers_bytes),
        num(row.mem_cached_bytes),
        num(row.swap_used_bytes),
        num(eth0?.rx_bytes),
        num(eth0?.tx_bytes),
        num(eth0?.rx_pkts),
        num(eth0?.tx_pkts),
        arrayLength(row.listen_ports),
        arrayLength(row.top_procs),
      );
    },
  },
  qmp: {
    numFields: QMP_FIELDS,
    strFields: [],
    extract(row, nums) {
      const blockstats = optObject(row.blockstats);
      let virtio0: JsonObject | null = null;
      let total = 0;
      let devices = 0;
      if (blockstats) {
        // Object.entries: JavaScript's key order (array-index keys first), the order of the sum.
        for (const [device, stats] of Object.entries(blockstats)) {
          // Every device entry must be an object (null included: "not an object skips the row"),
          // with the same typed counters as virtio0.
          if (!isObject(stats)) throw ROW_SKIP;
          const [, , rd, wr] = [num(stats.rd_ops), num(stats.wr_ops), num(stats.rd_bytes), num(stats.wr_bytes)];
          if (device === "virtio0") virtio0 = stats;
          devices++;
          if (Number.isFinite(rd)) total += rd;
          if (Number.isFinite(wr)) total += wr;
        }
      }
      const kvm = optObject(row.kvm_stats);
      const v = virtio0 as JsonObject | null;
      nums.push(
        num(v?.rd_ops),
        num(v?.wr_ops),
        num(v?.rd_bytes),
        num(v?.wr_bytes),
        num(kvm?.remote_tlb_flush),
        num(kvm?.pages_4k),
        num(kvm?.pages_2m),
        devices > 0 ? total : NaN,
      );
    },
  },
};

// ---------------------------------------------------------------------------
// Line scanning: nesting depth and the raw text of the top-level clock values.

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

interface LineScan {
  tooDeep: boolean;
  /** [raw key text with quotes, raw value text] for top-level keys that may be a clock key. */
  clockKeys: Array<[string, string]>;
}

/**
 * One pass over the line, before JSON.parse: counts bracket nesting outside
 * strings (stopping as soon as it passes maxDepth, so absurdly deep lines cost
 * little) and records the raw value text of top-level keys that may spell
 * `t_wall_ns` / `t_mono_ns`, because JSON.parse would round them to doubles.
 * The line may be invalid JSON; the results are only used after JSON.parse accepts it.
 */
function scanLine(s: string, maxDepth: number): LineScan {
  const clockKeys: Array<[string, string]> = [];
  let depth = 0;
  let keyText: string | null = null; // the top-level key whose value we are in
  let valueStart = -1;
  let expectKey = false;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < n; i++) {
        const d = s.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (depth === 1 && expectKey) {
        const raw = s.slice(start, i + 1);
        // Only keys that can spell a clock name are worth keeping (escapes are decoded later).
        keyText = raw === '"t_wall_ns"' || raw === '"t_mono_ns"' || raw.includes("\\") ? raw : null;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) return { tooDeep: true, clockKeys };
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */ || c === 0x2c /* , */) {
      if (depth === 1 && keyText !== null && valueStart >= 0) {
        clockKeys.push([keyText, s.slice(valueStart, i)]);
        keyText = null;
      }
      if (depth === 1) valueStart = -1;
      if (c === 0x2c) {
        if (depth === 1) expectKey = true;
      } else depth--;
    } else if (c === 0x3a /* : */ && depth === 1) {
      valueStart = i + 1;
    }
  }
  return { tooDeep: false, clockKeys };
}

/** The exact i64 of a top-level clock key, "missing" (absent or null) or "bad". */
function clockValue(parsed: Json, name: string, scan: LineScan): bigint | "missing" | "bad" {
  if (parsed === undefined || parsed === null) return "missing";
  if (typeof parsed !== "number") return "bad";
  let text: string | null = null;
  for (const [rawKey, rawValue] of scan.clockKeys) {
    const key = rawKey.includes("\\") ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
    if (key === name) text = rawValue; // the last occurrence wins, as in JSON.parse
  }
  if (text === null) return "bad";
  text = text.trim();
  if (!/^-?[0-9]+$/.test(text)) return "bad"; // a fraction or an exponent is not an integer
  const value = BigInt(text);
  return value < I64_MIN || value > I64_MAX ? "bad" : value;
}

// ---------------------------------------------------------------------------
// One JSONL member being read: splits lines, parses rows into typed columns.

const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isAsciiWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
}

function allWhitespace(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (!isAsciiWhitespace(bytes[i])) return false;
  return true;
}

interface MemberTable {
  name: JsonlMember;
  rows: number;
  skipped: number;
  wall: I64Col;
  mono: I64Col;
  /** 1 where the row had a t_mono_ns, 0 where it was missing/null (then `mono` holds 0). */
  monoFlags: number[];
  nums: F64Col[];
  strs: (string | null)[][];
}

class JsonlMemberReader {
  readonly table: MemberTable;
  /** This member's findings, published only once the member has been read in full. */
  readonly findings: Finding[] = [];
  private readonly schema: Schema;
  private parts: Uint8Array[] = [];
  private lineLen = 0;
  /** Inside an over-long line: its bytes are dropped up to the next "\n". */
  private discarding = false;
  private lineFindingDone = false;
  private depthFindingDone = false;
  private lineCount = 0;
  private readonly numScratch: number[] = [];
  private readonly strScratch: (string | null)[] = [];

  constructor(
    member: JsonlMember,
    private readonly rawName: string,
    private readonly opts: InspectOptions,
  ) {
    this.schema = SCHEMAS[member];
    this.table = {
      name: member,
      rows: 0,
      skipped: 0,
      wall: new I64Col(),
      mono: new I64Col(),
      monoFlags: [],
      nums: this.schema.numFields.map(() => new F64Col()),
      strs: this.schema.strFields.map(() => []),
    };
  }

  /** Feeds a piece of member data (a view that is only valid during the call). */
  feed(piece: Uint8Array): void {
    let pos = 0;
    while (pos < piece.length) {
      const nl = piece.indexOf(0x0a, pos);
      const end = nl < 0 ? piece.length : nl;
      this.append(piece.subarray(pos, end));
      pos = end;
      if (nl < 0) return;
      pos = nl + 1;
      if (this.discarding) this.discarding = false; // the over-long line ends here
      else this.endLine();
    }
  }

  /** End of the member's data: a last line without "\n" is still a line. */
  finish(): void {
    if (!this.discarding && this.lineLen > 0) this.endLine();
    this.discarding = false;
  }

  private append(segment: Uint8Array): void {
    if (this.discarding || segment.length === 0) return;
    this.lineLen += segment.length;
    if (this.lineLen > this.opts.max_line_bytes) {
      // Over-long: counted as a skipped row the moment it is noticed, then dropped up to its "\n",
      // so it is never held in memory (even a line of only whitespace: its length is all we know).
      this.parts = [];
      this.lineLen = 0;
      this.discarding = true;
      this.countRow();
      if (!this.lineFindingDone) {
        this.findings.push({ code: "limit:line-bytes", member: this.rawName });
        this.lineFindingDone = true;
      }
      this.table.skipped++;
      return;
    }
    this.parts.push(new Uint8Array(segment)); // a copy: the view dies with the decoder's buffer
  }

  private endLine(): void {
    let line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.lineLen);
    this.parts = [];
    this.lineLen = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (allWhitespace(line)) return; // blank lines are not rows
    this.countRow();
    if (this.parseRow(line)) this.table.rows++;
    else this.table.skipped++;
  }

  /** Every non-blank line is a row; one past max_rows stops the episode. */
  private countRow(): void {
    this.lineCount++;
    if (this.lineCount > this.opts.max_rows) {
      throw new FatalError("limit:rows", `${this.rawName}: more than ${this.opts.max_rows} rows`);
    }
  }

  /** Parses one row into the columns; false when the row is skipped. */
  private parseRow(bytes: Uint8Array): boolean {
    let text: string;
    try {
      text = utf8Strict.decode(bytes);
    } catch {
      return false;
    }
    const scan = scanLine(text, this.opts.max_depth);
    let row: Json;
    try {
      // Also for a too-deep line: invalid JSON is reported before depth (V8's JSON.parse is not recursive).
      row = JSON.parse(text);
    } catch {
      return false;
    }
    if (scan.tooDeep) {
      if (!this.depthFindingDone) {
        this.findings.push({ code: "limit:depth", member: this.rawName });
        this.depthFindingDone = true;
      }
      return false;
    }
    if (!isObject(row)) return false;
    const wall = clockValue(row.t_wall_ns, "t_wall_ns", scan);
    if (typeof wall !== "bigint") return false;
    const mono = clockValue(row.t_mono_ns, "t_mono_ns", scan);
    if (mono === "bad") return false;
    const nums = this.numScratch;
    const strs = this.strScratch;
    nums.length = 0;
    strs.length = 0;
    try {
      this.schema.extract(row, nums, strs);
    } catch (error) {
      if (error === ROW_SKIP) return false;
      throw error;
    }
    const t = this.table;
    t.wall.push(wall);
    t.mono.push(mono === "missing" ? 0n : mono);
    t.monoFlags.push(mono === "missing" ? 0 : 1);
    for (let i = 0; i < nums.length; i++) t.nums[i].push(nums[i]);
    for (let i = 0; i < strs.length; i++) t.strs[i].push(strs[i]);
    return true;
  }
}

// ---------------------------------------------------------------------------
// meta.json

function metaField(v: Json, type: "string"): string | null;
function metaField(v: Json, type: "number"): number | null;
function metaField(v: Json, type: "string" | "number"): string | number | null {
  return typeof v === type ? (v as string | number) : null;
}

/** meta.json: the summary, "invalid" (not UTF-8 / JSON / an object) or "too-deep" (valid JSON, too deep). */
function parseMeta(bytes: Uint8Array, maxDepth: number): EpisodeMeta | "invalid" | "too-deep" {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return "invalid";
  }
  const tooDeep = scanLine(text, maxDepth).tooDeep;
  let doc: Json;
  try {
    doc = JSON.parse(text); // invalid JSON is reported before depth, as for rows
  } catch {
    return "invalid";
  }
  if (tooDeep) return "too-deep";
  if (!isObject(doc)) return "invalid";
  const sample = isObject(doc.sample) ? doc.sample : null;
  const exploit = isObject(doc.exploit) ? doc.exploit : null;
  const result = isObject(doc.result) ? doc.result : null;
  return {
    schema_version: metaField(doc.schema_version, "number"),
    episode_id: metaField(doc.episode_id, "string"),
    host_id: metaField(doc.host_id, "string"),
    started_at: metaField(doc.started_at, "string"),
    sample_present: sample !== null,
    sample_name: metaField(sample?.name, "string"),
    sample_kind: metaField(sample?.kind, "string"),
    profile: metaField(sample?.profile, "string"),
    module_name: metaField(exploit?.module_name, "string"),
    duration_observed_s: metaField(result?.duration_observed_s, "number"),
    outcome: metaField(result?.outcome, "string"),
  };
}

// ---------------------------------------------------------------------------
// Reading the archive.

const MEMBER_BY_FILE = new Map<string, JsonlMember | "meta">(
  (Object.entries(MEMBER_FILES) as Array<[JsonlMember | "meta", string]>).map(([k, v]) => [v, k]),
);

function isUnsafeName(name: string): boolean {
  return name.startsWith("/") || name.split("/").includes("..");
}

function baseName(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  const slash = n.lastIndexOf("/");
  return slash < 0 ? n : n.slice(slash + 1);
}

interface ArchiveContents {
  fatal: string | null;
  fatalDetail: string | null;
  findings: Finding[];
  metaPresent: boolean;
  meta: EpisodeMeta | null;
  metaError: string | null;
  tables: Partial<Record<JsonlMember, MemberTable>>;
  bytes: Partial<Record<JsonlMember, number>>;
}

function readArchive(file: Uint8Array, opts: InspectOptions): ArchiveContents {
  const out: ArchiveContents = {
    fatal: null,
    fatalDetail: null,
    findings: [],
    metaPresent: false,
    meta: null,
    metaError: null,
    tables: {},
    bytes: {},
  };
  const seen = new Set<string>();
  const reader = new TarReader(new ZstdSource(file, opts.max_total_bytes, opts.max_window_bytes));
  try {
    for (;;) {
      const entry = reader.nextEntry(opts.max_member_bytes);
      if (entry === null) break;
      const finding = (code: string) => out.findings.push({ code, member: entry.name });
      if (isUnsafeName(entry.name)) {
        finding("unsafe-path");
        continue;
      }
      if (entry.kind === "dir") continue;
      if (entry.kind === "symlink") finding("symlink");
      else if (entry.kind === "hardlink") finding("hardlink");
      else if (entry.kind !== "file") finding("special-file");
      if (entry.kind !== "file") continue;

      const member = MEMBER_BY_FILE.get(baseName(entry.name));
      if (member === undefined) continue;
      if (seen.has(member)) {
        finding("duplicate-member");
        continue;
      }
      seen.add(member);
      if (entry.size > opts.max_member_bytes) {
        finding("limit:member-bytes");
        throw new FatalError("limit:member-bytes", `${entry.name}: ${entry.size} bytes declared`);
      }

      // A member only enters the report once all of its data, and the padding after it, has been read.
      if (member === "meta") {
        const data = new Uint8Array(entry.size);
        let at = 0;
        reader.readData((piece) => {
          data.set(piece, at);
          at += piece.length;
        });
        reader.finishData();
        out.metaPresent = true;
        const meta = parseMeta(data, opts.max_depth);
        if (typeof meta === "string") {
          out.metaError = "invalid-json";
          if (meta === "too-deep") finding("limit:depth");
        } else out.meta = meta;
      } else {
        const jsonl = new JsonlMemberReader(member, entry.name, opts);
        try {
          reader.readData((piece) => jsonl.feed(piece));
          jsonl.finish();
          reader.finishData();
        } catch (error) {
          // An interrupted member is absent from the report, its findings too; only the
          // finding that names the fatal itself (limit:rows) survives.
          if (error instanceof FatalError && error.code === "limit:rows") finding("limit:rows");
          throw error;
        }
        out.tables[member] = jsonl.table;
        out.bytes[member] = entry.size;
        out.findings.push(...jsonl.findings);
      }
    }
    // After the end-of-archive block, the rest of the zstd stream is still decoded (and counted).
    reader.drain();
  } catch (error) {
    if (error instanceof FatalError) {
      out.fatal = error.code;
      out.fatalDetail = error.message;
    } else if (error instanceof TarLimitError) {
      // A GNU long name bigger than max_member_bytes: no entry exists yet to name in a finding.
      out.fatal = "limit:member-bytes";
      out.fatalDetail = error.message;
    } else if (error instanceof TarError) {
      // A malformed pax header also names itself in a finding: tar-error alone would not say why.
      if (error instanceof PaxError) out.findings.push({ code: "malformed-pax", member: error.headerName });
      out.fatal = "tar-error";
      out.fatalDetail = error.message;
    } else throw error;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Derived values.

const PHASE_CODE = new Map<string, number>(PHASES.map((p, i) => [p, i]));
const DORMANT = PHASE_CODE.get("dormant")!;

function phaseCode(phase: string): number {
  return PHASE_CODE.get(phase) ?? -1;
}

/** ns difference to seconds: exact i64 difference, then one rounding to f64, then / 1e9. */
function nsToSeconds(later: bigint, earlier: bigint): number {
  return Number(later - earlier) / 1e9;
}

/** "The phase of an instant": the last label in file order whose t_wall_ns <= t; clean before any. */
class PhaseLookup {
  private readonly sorted: boolean;
  constructor(
    private readonly walls: BigInt64Array,
    private readonly codes: number[],
  ) {
    let sorted = true;
    for (let i = 1; i < walls.length; i++) if (walls[i] < walls[i - 1]) sorted = false;
    this.sorted = sorted;
  }
  at(t: bigint): number {
    const w = this.walls;
    if (this.sorted) {
      // Binary search for the last index with w[i] <= t.
      let lo = 0;
      let hi = w.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (w[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 0 : this.codes[lo - 1];
    }
    for (let i = w.length - 1; i >= 0; i--) if (w[i] <= t) return this.codes[i];
    return 0;
  }
}

function median(values: number[]): number {
  const v = Float64Array.from(values).sort();
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function verdict(perPhase: Map<number, number>, threshold: number): SourceSignal {
  if (perPhase.size < 2) return { verdict: "unknown", spread: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of perPhase.values()) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const spread = hi - lo;
  return { verdict: spread >= threshold ? "signal" : "flat", spread };
}

/** Row indices sorted by t_wall_ns, stable (Array.prototype.sort is stable). */
function sortedByWall(walls: BigInt64Array): number[] {
  const idx = Array.from({ length: walls.length }, (_, i) => i);
  return idx.sort((a, b) => (walls[a] < walls[b] ? -1 : walls[a] > walls[b] ? 1 : 0));
}

function col(table: MemberTable, field: string): Float64Array {
  return table.nums[SCHEMAS[table.name].numFields.indexOf(field)].values();
}

function procSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const user = col(t, "cpu_user_jiffies");
  const sys = col(t, "cpu_sys_jiffies");
  const order = sortedByWall(walls);
  const groups = new Map<number, number[]>();
  for (let k = 1; k < order.length; k++) {
    const prev = order[k - 1];
    const cur = order[k];
    const jPrev = user[prev] + sys[prev];
    const jCur = user[cur] + sys[cur];
    if (!Number.isFinite(jPrev) || !Number.isFinite(jCur)) continue;
    if (walls[cur] <= walls[prev]) continue;
    const dtS = nsToSeconds(walls[cur], walls[prev]);
    const cpuPct = ((jCur - jPrev) / 100 / dtS) * 100;
    const phase = phaseAt.at(walls[cur]);
    let g = groups.get(phase);
    if (!g) groups.set(phase, (g = []));
    g.push(cpuPct);
  }
  const medians = new Map<number, number>();
  for (const [phase, values] of groups) medians.set(phase, median(values));
  return verdict(medians, 5.0);
}

function netflowSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const bin = col(t, "bytes_in");
  const bout = col(t, "bytes_out");
  const sums = new Map<number, number>();
  for (let i = 0; i < walls.length; i++) {
    const phase = phaseAt.at(walls[i]);
    let acc = sums.get(phase) ?? 0;
    if (Number.isFinite(bin[i])) acc += bin[i];
    if (Number.isFinite(bout[i])) acc += bout[i];
    sums.set(phase, acc);
  }
  return verdict(sums, 51200);
}

function qmpSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const blk = col(t, "blk_total_bytes");
  const firstLast = new Map<number, [number, number]>();
  for (const i of sortedByWall(walls)) {
    if (!Number.isFinite(blk[i])) continue;
    const phase = phaseAt.at(walls[i]);
    const fl = firstLast.get(phase);
    if (fl) fl[1] = blk[i];
    else firstLast.set(phase, [blk[i], blk[i]]);
  }
  const deltas = new Map<number, number>();
  for (const [phase, [first, last]] of firstLast) deltas.set(phase, last - first);
  return verdict(deltas, 102400);
}

function guestSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const load = col(t, "load_1m");
  const groups = new Map<number, number[]>();
  for (let i = 0; i < walls.length; i++) {
    if (!Number.isFinite(load[i])) continue;
    const phase = phaseAt.at(walls[i]);
    let g = groups.get(phase);
    if (!g) groups.set(phase, (g = []));
    g.push(load[i]);
  }
  const medians = new Map<number, number>();
  for (const [phase, values] of groups) medians.set(phase, median(values));
  return verdict(medians, 0.1);
}

function columnsOf(t: MemberTable | undefined, member: JsonlMember): Record<string, Array<string | number | null>> {
  const schema = SCHEMAS[member];
  const out: Record<string, Array<string | number | null>> = {};
  const walls = t ? t.wall.values() : new BigInt64Array(0);
  const monos = t ? t.mono.values() : new BigInt64Array(0);
  out.t_wall_ns = Array.from(walls, (v) => v.toString());
  out.t_mono_ns = Array.from(monos, (v, i) => (t!.monoFlags[i] ? v.toString() : null));
  schema.numFields.forEach((f, k) => {
    out[f] = t ? Array.from(t.nums[k].values(), (v) => (Number.isFinite(v) ? v : null)) : [];
  });
  schema.strFields.forEach((f, k) => {
    out[f] = t ? t.strs[k].slice() : [];
  });
  return out;
}

function emptyReport(): EpisodeReport {
  const members = {} as Record<JsonlMember, MemberStats>;
  for (const m of JSONL_MEMBERS) members[m] = { present: false, rows: 0, skipped: 0, bytes: 0 };
  const unknown: SourceSignal = { verdict: "unknown", spread: null };
  return {
    size_bytes: 0,
    sha256: "",
    io_error: null,
    fatal: null,
    fatal_detail: null,
    findings: [],
    meta_present: false,
    meta_error: null,
    meta: null,
    members,
    labels: { count: 0, monotonic: true, unknown_phases: [], phases: [], t0_wall_ns: null },
    duration_s: null,
    proc_span_s: 0,
    events: { workload_events: 0, workload_failed: false, killed_dormant_probe_zero: false },
    signals: { proc: { ...unknown }, netflow: { ...unknown }, qmp: { ...unknown }, guest: { ...unknown } },
    columns: null,
  };
}

// ---------------------------------------------------------------------------
// Public API.

export function inspectBytes(fileBytes: Uint8Array, options: Partial<InspectOptions> = {}): EpisodeReport {
  const opts: InspectOptions = { ...DEFAULT_INSPECT_OPTIONS, ...options };
  const report = emptyReport();
  report.size_bytes = fileBytes.length;
  report.sha256 = createHash("sha256").update(fileBytes).digest("hex");

  const archive = readArchive(fileBytes, opts);
  report.fatal = archive.fatal;
  report.fatal_detail = archive.fatalDetail;
  report.findings = archive.findings;
  report.meta_present = archive.metaPresent;
  report.meta = archive.meta;
  report.meta_error = archive.metaError;
  const tables = archive.tables;
  for (const m of JSONL_MEMBERS) {
    const t = tables[m];
    if (t) report.members[m] = { present: true, rows: t.rows, skipped: t.skipped, bytes: archive.bytes[m]! };
  }

  // Labels.
  const labels = tables.labels;
  const labelWalls = labels ? labels.wall.values() : new BigInt64Array(0);
  const labelPhases = labels ? (labels.strs[0] as string[]) : [];
  const labelCodes = labelPhases.map(phaseCode);
  let monotonic = true;
  if (labels) {
    const monos = labels.mono.values();
    const hasMono = labels.monoFlags;
    for (let i = 1; i < labelWalls.length; i++) {
      if (labelWalls[i] < labelWalls[i - 1]) monotonic = false;
      // Row to row: a pair where either t_mono_ns is missing is not compared.
      if (hasMono[i] && hasMono[i - 1] && monos[i] < monos[i - 1]) monotonic = false;
    }
  }
  const t0 = labelWalls.length > 0 ? labelWalls[0] : null;
  report.labels = {
    count: labelWalls.length,
    monotonic,
    // Default sort: UTF-16 code unit order, as the contract's JavaScript readers see strings.
    unknown_phases: [...new Set(labelPhases.filter((p) => phaseCode(p) < 0))].sort(),
    phases: labelCodes.filter((c) => c >= 0),
    t0_wall_ns: t0 === null ? null : t0.toString(),
  };
  const phaseAt = new PhaseLookup(labelWalls, labelCodes);

  // Duration (null without labels): the observed duration from meta, else the last telemetry sample
  // relative to t0.
  const observed = report.meta?.duration_observed_s;
  if (t0 === null) {
    report.duration_s = null;
  } else if (typeof observed === "number" && Number.isFinite(observed) && observed > 0) {
    report.duration_s = observed;
  } else {
    let last: bigint | null = null;
    for (const m of ["proc", "guest", "qmp", "netflow"] as const) {
      for (const w of tables[m]?.wall.values() ?? []) if (last === null || w > last) last = w;
    }
    report.duration_s = last === null ? null : nsToSeconds(last, t0);
  }

  // Proc span.
  const proc = tables.proc;
  if (proc && proc.wall.length >= 2) {
    const walls = proc.wall.values();
    let lo = walls[0];
    let hi = walls[0];
    for (const w of walls) {
      if (w < lo) lo = w;
      if (w > hi) hi = w;
    }
    report.proc_span_s = nsToSeconds(hi, lo);
  }

  // Events.
  const events = tables.events;
  if (events) {
    const [names, phases, probeYes] = events.strs;
    const walls = events.wall.values();
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (name.startsWith("workload_")) report.events.workload_events++;
      if (name === "workload_failed") report.events.workload_failed = true;
      if (name === "workload_killed" && probeYes[i] === "0") {
        const phase = phases[i];
        const dormant = phase !== null ? phase === "dormant" : phaseAt.at(walls[i]) === DORMANT;
        if (dormant) report.events.killed_dormant_probe_zero = true;
      }
    }
  }

  // Quality signals: unknown without labels or without rows.
  const signalOf = (m: "proc" | "netflow" | "qmp" | "guest", fn: (t: MemberTable, p: PhaseLookup) => SourceSignal) => {
    const t = tables[m];
    if (!t || t.rows === 0 || labelWalls.length === 0) return { verdict: "unknown" as const, spread: null };
    return fn(t, phaseAt);
  };
  report.signals = {
    proc: signalOf("proc", procSignal),
    netflow: signalOf("netflow", netflowSignal),
    qmp: signalOf("qmp", qmpSignal),
    guest: signalOf("guest", guestSignal),
  };

  if (opts.with_columns) {
    report.columns = {};
    for (const m of JSONL_MEMBERS) report.columns[m] = columnsOf(tables[m], m);
  }
  return report;
}

export async function inspectFile(path: string, options: Partial<InspectOptions> = {}): Promise<EpisodeReport> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    // The errno name only ("ENOENT", "EISDIR"): the native reader reports the same names.
    const report = emptyReport();
    report.io_error = (error as NodeJS.ErrnoException).code ?? "EIO";
    return report;
  }
  return inspectBytes(bytes, options);
}

export const referenceInspector: Inspector = {
  name: "reference",
  async inspectFiles(paths: string[], options: InspectOptions): Promise<EpisodeReport[]> {
    const reports: EpisodeReport[] = [];
    for (const path of paths) reports.push(await inspectFile(path, options));
    return reports;
  },
};
