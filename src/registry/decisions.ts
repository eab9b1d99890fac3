// The decision log: one JSONL line per lifecycle decision (registered,
// loaded, drift detected, retrain skipped, promoted, refused, rolled back,
// purged), each with the time, model, version and the numbers behind it.
// Append-only; shared by every model of a registry.

import { join } from "node:path";
import { appendJsonLine, readJsonLines } from "./jsonl.js";

export const DECISIONS_FILE = "decisions.jsonl";

export const DECISION_EVENTS = ["registered", "loaded", "drift-detected", "drift-checked", "retrain-skipped", "retrain-started", "promoted", "refused", "rolled-back", "purged", "eval-attached"] as const;
export type DecisionEvent = (typeof DECISION_EVENTS)[number];

export interface Decision {
  time: string;
  event: DecisionEvent;
  model: string;
  version: string | null;
  /** Why, in words. */
  reason?: string;
  /** The numbers behind the decision. */
  details?: Record<string, unknown>;
}

export function decisionsPath(registry: string): string {
  return join(registry, DECISIONS_FILE);
}

export async function logDecision(registry: string, d: Omit<Decision, "time"> & { time?: string }): Promise<Decision> {
  const record: Decision = { time: d.time ?? new Date().toISOString(), event: d.event, model: d.model, version: d.version, ...(d.reason ? { reason: d.reason } : {}), ...(d.details ? { details: d.details } : {}) };
  await appendJsonLine(decisionsPath(registry), record);
  return record;
}

export interface DecisionQuery {
  sinceMs?: number;
  model?: string;
}

export async function readDecisions(registry: string, q: DecisionQuery = {}): Promise<{ decisions: Decision[]; skipped_lines: number[] }> {
  const { records, skipped } = await readJsonLines<Decision>(decisionsPath(registry));
  const decisions = records.filter((d) => (q.sinceMs === undefined || Date.parse(d.time) >= q.sinceMs) && (q.model === undefined || d.model === q.model));
  return { decisions, skipped_lines: skipped };
}
