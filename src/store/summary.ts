// Running totals over a sweep (counts per class, reasons, hosts, skipped
// rows) and the index's own problems: what validate prints and emits as JSON.

import { JSONL_MEMBERS, type JsonlMember } from "../episode/report.js";
import type { AcceptanceRow } from "./acceptance.js";
import { CLASSES, type EpisodeClass } from "./classify.js";
import type { IndexReadResult } from "./index-file.js";

export type ClassCounts = Record<EpisodeClass, number>;

const zeroClasses = (): ClassCounts => ({ accepted: 0, degraded: 0, rejected: 0, errored: 0 });

export class SweepSummary {
  readonly counts = zeroClasses();
  readonly reasons = new Map<string, number>();
  readonly hosts = new Map<string, ClassCounts>();
  readonly skipped = Object.fromEntries(JSONL_MEMBERS.map((m) => [m, 0])) as Record<JsonlMember, number>;
  /** Episodes with at least one skipped row, per member. */
  readonly episodesWithSkips = Object.fromEntries(JSONL_MEMBERS.map((m) => [m, 0])) as Record<JsonlMember, number>;
  total = 0;

  add(row: AcceptanceRow): void {
    this.total++;
    this.counts[row.class]++;
    for (const r of row.reasons) this.reasons.set(r, (this.reasons.get(r) ?? 0) + 1);
    let host = this.hosts.get(row.host_id);
    if (!host) this.hosts.set(row.host_id, (host = zeroClasses()));
    host[row.class]++;
    for (const m of JSONL_MEMBERS) {
      this.skipped[m] += row.skipped[m];
      if (row.skipped[m] > 0) this.episodesWithSkips[m]++;
    }
  }

  /** Reasons by descending count, ties by name. */
  topReasons(limit = Infinity): Array<[string, number]> {
    return [...this.reasons.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  }

  hostsSorted(): Array<[string, ClassCounts]> {
    return [...this.hosts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }
}

/** The index's problems as a JSON-friendly object. */
export function indexProblemsJson(index: IndexReadResult, ignoredEntries: string[] = []): Record<string, unknown> {
  return {
    path: index.path,
    exists: index.exists,
    lines: index.lines,
    records: index.entries.length + index.duplicates.length,
    torn_lines_recovered: index.tornLinesRecovered,
    unrecoverable: index.problems.map((p) => ({
      line: p.lineNo,
      byte_offset: p.byteOffset,
      reason: p.reason,
      ...(p.detail ? { detail: p.detail } : {}),
      snippet: p.snippet,
    })),
    duplicates: index.duplicates.map((d) => ({
      episode_id: d.episode_id,
      host_id: d.host_id,
      line: d.lineNo,
      first_line: d.firstLineNo,
    })),
    ignored_store_entries: ignoredEntries,
  };
}

export { CLASSES };
