// The one place where an inspection report (from either engine) plus its
// index row becomes a validation class and the reasons for it. Keeping this
// in TypeScript, once, is what lets the native and reference engines be
// compared on reports alone.

import type { EpisodeReport } from "../episode/report.js";
import type { IndexRecord } from "./index-file.js";

export const CLASSES = ["accepted", "degraded", "rejected", "errored"] as const;
export type EpisodeClass = (typeof CLASSES)[number];

export interface ClassifyOptions {
  /** Fewer proc rows than this is `too-few-proc-rows` (50 = 5 s at 10 Hz). */
  min_proc_rows: number;
}

export const DEFAULT_CLASSIFY_OPTIONS: ClassifyOptions = { min_proc_rows: 50 };

export interface Classification {
  class: EpisodeClass;
  reasons: string[];
}

/** Who the episode should be: from its index row, or for an orphan from its path. */
export interface EpisodeIdentity {
  episode_id: string;
  host_id: string;
}

/** Findings that make an episode `rejected` (the archive tries to escape or confuse). */
export const SUSPICIOUS_FINDINGS = ["unsafe-path", "symlink", "hardlink", "special-file", "duplicate-member"] as const;

/** Reason code -> the class it implies. Anything not listed is `rejected`. */
function classOfReason(reason: string): EpisodeClass {
  if (reason === "tarball-missing" || reason === "io-error" || reason === "zstd-error" || reason === "tar-error") return "errored";
  if (reason.startsWith("limit:")) return "errored";
  if (reason.startsWith("missing-") && !reason.startsWith("missing-member:")) return "degraded";
  if (reason.startsWith("empty-")) return "degraded";
  return "rejected";
}

const RANK: Record<EpisodeClass, number> = { accepted: 0, degraded: 1, rejected: 2, errored: 3 };

/** Worst class implied by any reason; no reasons means accepted. */
export function classOf(reasons: readonly string[]): EpisodeClass {
  let worst: EpisodeClass = "accepted";
  for (const reason of reasons) {
    const c = classOfReason(reason);
    if (RANK[c] > RANK[worst]) worst = c;
  }
  return worst;
}

/**
 * Classifies one episode. `record` is null for an orphan tarball; `report`
 * is "file-missing" when the index names a tarball that is not there.
 * Reasons come in a fixed order: errors, integrity, findings, members,
 * contents, then degradations.
 */
export function classifyEpisode(
  record: IndexRecord | null,
  report: EpisodeReport | "file-missing",
  identity: EpisodeIdentity,
  options: ClassifyOptions = DEFAULT_CLASSIFY_OPTIONS,
): Classification {
  if (report === "file-missing") return { class: "errored", reasons: ["tarball-missing"] };
  const reasons: string[] = [];
  if (report.io_error !== null) return { class: "errored", reasons: ["io-error"] };
  if (report.fatal !== null) reasons.push(report.fatal);

  // Integrity: the whole file is always hashed, even after a decode failure.
  if (record === null) reasons.push("not-in-index");
  else {
    if (report.sha256.toLowerCase() !== record.sha256.toLowerCase()) reasons.push("sha256-mismatch");
    if (report.size_bytes !== record.size_bytes) reasons.push("size-mismatch");
  }

  const seen = new Set<string>();
  for (const finding of report.findings) {
    if (!(SUSPICIOUS_FINDINGS as readonly string[]).includes(finding.code)) continue;
    const reason = `suspicious-entry:${finding.code}`;
    if (!seen.has(reason)) reasons.push(reason);
    seen.add(reason);
  }

  // After a fatal error the member picture is incomplete; judging it would
  // only add noise (every member read after the break would look missing).
  if (report.fatal === null) {
    if (!report.meta_present) reasons.push("missing-member:meta.json");
    if (!report.members.labels.present) reasons.push("missing-member:labels.jsonl");
    if (!report.members.proc.present) reasons.push("missing-member:telemetry-proc.jsonl");

    if (report.meta_present && (report.meta_error !== null || report.meta === null)) reasons.push("meta-invalid");
    else if (report.meta !== null) {
      if (report.meta.episode_id !== identity.episode_id || report.meta.host_id !== identity.host_id) reasons.push("meta-mismatch");
    }

    if (report.members.labels.present) {
      if (report.labels.count === 0) reasons.push("no-labels");
      else {
        if (report.labels.unknown_phases.length > 0) reasons.push("unknown-phase");
        if (!report.labels.monotonic) reasons.push("labels-non-monotonic");
      }
    }
    if (report.members.proc.present && report.members.proc.rows < options.min_proc_rows) reasons.push("too-few-proc-rows");

    for (const member of ["netflow", "guest"] as const) {
      const stats = report.members[member];
      if (!stats.present) reasons.push(`missing-${member}`);
      else if (stats.rows === 0) reasons.push(`empty-${member}`);
    }
  }
  return { class: classOf(reasons), reasons };
}
