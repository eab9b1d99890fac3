// Quality reasons for pruning (docs/data-contract.md, "Quality rules"). They are
// derived from the compact per-episode facts the sweep keeps, so prune, the
// acceptance index and feature building all agree on them.

import type { EpisodeReport, Verdict } from "../episode/report.js";

export const QUALITY_REASONS = ["no-sample", "no-workload-events", "workload-failed", "flat-cpu", "workload-silent"] as const;
export type QualityReason = (typeof QUALITY_REASONS)[number];

export const SIGNAL_SOURCES = ["proc", "netflow", "qmp", "guest"] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

/** The facts the quality rules look at; also stored in the acceptance index. */
export interface QualityFacts {
  meta_present: boolean;
  sample_present: boolean;
  labels_count: number;
  workload_events: number;
  workload_failed: boolean;
  killed_dormant_probe_zero: boolean;
  verdicts: Record<SignalSource, Verdict>;
}

export function qualityFacts(report: EpisodeReport): QualityFacts {
  return {
    meta_present: report.meta !== null,
    sample_present: report.meta?.sample_present ?? false,
    labels_count: report.members.labels.present ? report.labels.count : 0,
    workload_events: report.events.workload_events,
    workload_failed: report.events.workload_failed,
    killed_dormant_probe_zero: report.events.killed_dormant_probe_zero,
    verdicts: {
      proc: report.signals.proc.verdict,
      netflow: report.signals.netflow.verdict,
      qmp: report.signals.qmp.verdict,
      guest: report.signals.guest.verdict,
    },
  };
}

/**
 * flat-cpu: labels exist, at least one source has a verdict, and every
 * source with a verdict is flat. A missing source is unknown, not flat.
 */
export function isFlat(facts: QualityFacts): boolean {
  if (facts.labels_count < 1) return false;
  const known = SIGNAL_SOURCES.map((s) => facts.verdicts[s]).filter((v) => v !== "unknown");
  return known.length > 0 && known.every((v) => v === "flat");
}

/** All quality reasons that apply, in QUALITY_REASONS order. */
export function qualityReasons(facts: QualityFacts): QualityReason[] {
  const reasons: QualityReason[] = [];
  if (facts.meta_present && !facts.sample_present) reasons.push("no-sample");
  if (facts.workload_events === 0) reasons.push("no-workload-events");
  if (facts.workload_failed) reasons.push("workload-failed");
  const flat = isFlat(facts);
  if (flat) reasons.push("flat-cpu");
  if (flat && facts.killed_dormant_probe_zero) reasons.push("workload-silent");
  return reasons;
}

export function isQualityReason(value: string): value is QualityReason {
  return (QUALITY_REASONS as readonly string[]).includes(value);
}
