// The TypeScript twin of crates/cis490-core/src/parse.rs: typed parsing of
// JSONL rows into columns (docs/inspection.md, "JSONL rows"), one schema per
// member, and the reader of one member, which also keeps the per-member row
// accounting that the Rust side holds in inspect.rs (MemberRead).

import {
  MEMBER_FILES,
  type Finding,
  type InspectOptions,
  type JsonlMember,
} from "../../episode/report.js";
import { FatalError } from "./archive.js";
import { clockValue, isObject, scanLine, utf8Strict, type Json, type JsonObject } from "./json.js";
import { LineSplitter, rowText } from "./jsonl.js";

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

export const SCHEMAS: Record<JsonlMember, Schema> = {
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
// One JSONL member being read: splits lines, parses rows into typed columns.

export interface MemberTable {
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

export class JsonlMemberReader {
  readonly table: MemberTable;
  /** This member's findings, published only once the member has been read in full. */
  readonly findings: Finding[] = [];
  private readonly schema: Schema;
  private readonly splitter: LineSplitter;
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
    this.splitter = new LineSplitter(opts.max_line_bytes, (line) => this.endLine(line), () => this.tooLong());
  }

  /** Feeds a piece of member data (a view that is only valid during the call). */
  feed(piece: Uint8Array): void {
    this.splitter.feed(piece);
  }

  /** End of the member's data: a last line without "\n" is still a line. */
  finish(): void {
    this.splitter.finish();
  }

  /** Over-long: counted as a skipped row the moment it is noticed (the splitter then drops it). */
  private tooLong(): void {
    this.countRow();
    if (!this.lineFindingDone) {
      this.findings.push({ code: "limit:line-bytes", member: this.rawName });
      this.lineFindingDone = true;
    }
    this.table.skipped++;
  }

  private endLine(raw: Uint8Array): void {
    const line = rowText(raw);
    if (line === null) return; // blank lines are not rows
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

/** Base name of a tar entry -> the member it is (Member::from_base_name). */
export const MEMBER_BY_FILE = new Map<string, JsonlMember | "meta">(
  (Object.entries(MEMBER_FILES) as Array<[JsonlMember | "meta", string]>).map(([k, v]) => [v, k]),
);
