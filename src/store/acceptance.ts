// The acceptance index: one compact row per episode (the sweep keeps only
// this, never whole reports) and its Arrow/Parquet table form. Later stages
// (features, prune, split) read these columns instead of re-inspecting.

import { Bool, Field, Float64, Int32, Int64, List, Schema, Table, Utf8, vectorFromArray, type DataType, type Vector } from "apache-arrow";
import { JSONL_MEMBERS, type EpisodeReport, type JsonlMember, type Verdict } from "../episode/report.js";
import type { Classification, EpisodeClass } from "./classify.js";
import type { IndexRecord } from "./index-file.js";
import { qualityFacts, qualityReasons, SIGNAL_SOURCES, type QualityFacts, type SignalSource } from "./quality.js";

export interface AcceptanceRow {
  episode_id: string;
  host_id: string;
  /** Relative to the store: `<host_id>/<episode_id>.tar.zst`. */
  path: string;
  in_index: boolean;
  class: EpisodeClass;
  reasons: string[];
  profile: string | null;
  sample_name: string | null;
  sample_kind: string | null;
  module_name: string | null;
  /** meta.started_at, as shipped (the time split orders episodes by t0 instead when it is null). */
  started_at: string | null;
  rows: Record<JsonlMember, number>;
  skipped: Record<JsonlMember, number>;
  duration_s: number | null;
  proc_span_s: number | null;
  /** Actual digest and size of the file (null when it could not be read). */
  sha256: string | null;
  size_bytes: number | null;
  expected_sha256: string | null;
  expected_size_bytes: number | null;
  received_at: string | null;
  /** Quality facts: null when the episode did not decode (errored). */
  quality: QualityFacts | null;
  spreads: Record<SignalSource, number | null>;
  /** Prune reasons that apply (empty when errored). */
  quality_reasons: string[];
  /** Findings that did not change the class (e.g. limit:line-bytes), as `code@member`. */
  findings: string[];
}

const zeroCounts = (): Record<JsonlMember, number> =>
  Object.fromEntries(JSONL_MEMBERS.map((m) => [m, 0])) as Record<JsonlMember, number>;

export function acceptanceRow(
  identity: { episode_id: string; host_id: string; rel: string },
  record: IndexRecord | null,
  report: EpisodeReport | "file-missing",
  classification: Classification,
): AcceptanceRow {
  const base: AcceptanceRow = {
    episode_id: identity.episode_id,
    host_id: identity.host_id,
    path: identity.rel,
    in_index: record !== null,
    class: classification.class,
    reasons: classification.reasons,
    profile: null,
    sample_name: null,
    sample_kind: null,
    module_name: null,
    started_at: null,
    rows: zeroCounts(),
    skipped: zeroCounts(),
    duration_s: null,
    proc_span_s: null,
    sha256: null,
    size_bytes: null,
    expected_sha256: record?.sha256 ?? null,
    expected_size_bytes: record?.size_bytes ?? null,
    received_at: record?.received_at ?? null,
    quality: null,
    spreads: { proc: null, netflow: null, qmp: null, guest: null },
    quality_reasons: [],
    findings: [],
  };
  if (report === "file-missing" || report.io_error !== null) return base;
  base.sha256 = report.sha256;
  base.size_bytes = report.size_bytes;
  base.profile = report.meta?.profile ?? null;
  base.sample_name = report.meta?.sample_name ?? null;
  base.sample_kind = report.meta?.sample_kind ?? null;
  base.module_name = report.meta?.module_name ?? null;
  base.started_at = report.meta?.started_at ?? null;
  for (const m of JSONL_MEMBERS) {
    base.rows[m] = report.members[m].rows;
    base.skipped[m] = report.members[m].skipped;
  }
  base.duration_s = report.duration_s;
  base.proc_span_s = report.proc_span_s;
  base.findings = report.findings.map((f) => `${f.code}@${f.member}`);
  if (classification.class !== "errored") {
    base.quality = qualityFacts(report);
    base.quality_reasons = qualityReasons(base.quality);
    for (const s of SIGNAL_SOURCES) base.spreads[s] = report.signals[s].spread;
  }
  return base;
}

type Column = { name: string; type: DataType; get: (r: AcceptanceRow) => unknown };

const str = new Utf8();
const strList = (): List<Utf8> => new List(new Field("item", new Utf8(), true));
const nullableBig = (v: number | null): bigint | null => (v === null ? null : BigInt(v));
const verdict = (s: SignalSource) => (r: AcceptanceRow): Verdict | null => r.quality?.verdicts[s] ?? null;

/** Column order of the acceptance index Parquet file. */
export const ACCEPTANCE_COLUMNS: Column[] = [
  { name: "episode_id", type: str, get: (r) => r.episode_id },
  { name: "host_id", type: str, get: (r) => r.host_id },
  { name: "profile", type: str, get: (r) => r.profile },
  { name: "sample_name", type: str, get: (r) => r.sample_name },
  { name: "sample_kind", type: str, get: (r) => r.sample_kind },
  { name: "module_name", type: str, get: (r) => r.module_name },
  { name: "started_at", type: str, get: (r) => r.started_at },
  { name: "class", type: str, get: (r) => r.class },
  { name: "reasons", type: strList(), get: (r) => r.reasons },
  ...JSONL_MEMBERS.map((m): Column => ({ name: `rows_${m}`, type: new Int32(), get: (r) => r.rows[m] })),
  ...JSONL_MEMBERS.map((m): Column => ({ name: `skipped_${m}`, type: new Int32(), get: (r) => r.skipped[m] })),
  { name: "duration_s", type: new Float64(), get: (r) => r.duration_s },
  { name: "proc_span_s", type: new Float64(), get: (r) => r.proc_span_s },
  { name: "sha256", type: str, get: (r) => r.sha256 },
  { name: "expected_sha256", type: str, get: (r) => r.expected_sha256 },
  { name: "size_bytes", type: new Int64(), get: (r) => nullableBig(r.size_bytes) },
  { name: "expected_size_bytes", type: new Int64(), get: (r) => nullableBig(r.expected_size_bytes) },
  { name: "received_at", type: str, get: (r) => r.received_at },
  { name: "path", type: str, get: (r) => r.path },
  { name: "in_index", type: new Bool(), get: (r) => r.in_index },
  { name: "sample_present", type: new Bool(), get: (r) => r.quality?.sample_present ?? null },
  { name: "labels_count", type: new Int32(), get: (r) => r.quality?.labels_count ?? null },
  { name: "workload_events", type: new Int32(), get: (r) => r.quality?.workload_events ?? null },
  { name: "workload_failed", type: new Bool(), get: (r) => r.quality?.workload_failed ?? null },
  { name: "killed_dormant_probe_zero", type: new Bool(), get: (r) => r.quality?.killed_dormant_probe_zero ?? null },
  ...SIGNAL_SOURCES.map((s): Column => ({ name: `signal_${s}`, type: str, get: verdict(s) })),
  ...SIGNAL_SOURCES.map((s): Column => ({ name: `spread_${s}`, type: new Float64(), get: (r) => r.spreads[s] })),
  { name: "quality_reasons", type: strList(), get: (r) => r.quality_reasons },
  { name: "findings", type: strList(), get: (r) => r.findings },
];

export function acceptanceSchema(): Schema {
  return new Schema(ACCEPTANCE_COLUMNS.map((col) => new Field(col.name, col.type as DataType, true)));
}

export function acceptanceTable(rows: AcceptanceRow[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const col of ACCEPTANCE_COLUMNS) {
    vectors[col.name] = vectorFromArray(rows.map(col.get) as never[], col.type as never) as Vector;
  }
  return new Table(vectors);
}
