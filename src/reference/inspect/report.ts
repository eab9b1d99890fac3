// The TypeScript twin of crates/cis490-core/src/report.rs: the empty
// inspection report and the typed columns in their JSON form (the report's
// type itself is src/episode/report.ts).

import { JSONL_MEMBERS, type EpisodeReport, type JsonlMember, type MemberStats, type SourceSignal } from "../../episode/report.js";
import { SCHEMAS, type MemberTable } from "./parse.js";

export function columnsOf(t: MemberTable | undefined, member: JsonlMember): Record<string, Array<string | number | null>> {
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

export function emptyReport(): EpisodeReport {
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
