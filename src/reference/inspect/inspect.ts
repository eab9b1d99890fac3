// The TypeScript twin of crates/cis490-core/src/inspect.rs: one episode, end
// to end. The plain TypeScript reference of the episode decoder
// (docs/inspection.md). Used by parity tests and benchmarks only, never in
// production paths: it is written to be obviously correct, sequential, and
// reasonably fast (JSON.parse per line, typed arrays for columns), so that
// benchmarks compare the native path against a fair baseline.
//
// The modules beside this one mirror crates/cis490-core/src one to one:
// archive, limits, json, jsonl, parse, meta, signals, report.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Inspector } from "../../episode/inspector.js";
import {
  DEFAULT_INSPECT_OPTIONS,
  JSONL_MEMBERS,
  type EpisodeMeta,
  type EpisodeReport,
  type Finding,
  type InspectOptions,
  type JsonlMember,
  type SourceSignal,
} from "../../episode/report.js";
import { baseName, FatalError, isUnsafeName, PaxError, TarError, TarLimitError, TarReader, ZstdSource } from "./archive.js";
import { parseMeta } from "./meta.js";
import { JsonlMemberReader, MEMBER_BY_FILE, type MemberTable } from "./parse.js";
import { columnsOf, emptyReport } from "./report.js";
import { DORMANT, guestSignal, netflowSignal, nsToSeconds, PhaseLookup, phaseCode, procSignal, qmpSignal } from "./signals.js";

// ---------------------------------------------------------------------------
// Reading the archive.

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
