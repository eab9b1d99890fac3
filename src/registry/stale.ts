// `train --if-stale`: is the current version of a model too old, or do new
// features drift against it? The answer (and why) goes to the decision log.

import { runDrift, type DriftRunResult } from "../drift/run.js";
import type { DriftSettings } from "../drift/report.js";
import { logDecision } from "./decisions.js";
import { readAliases, readManifest } from "./store.js";
import { DEFAULT_ALIAS } from "./types.js";

export const DEFAULT_MAX_AGE_MS = 24 * 3600 * 1000;

/** "90s", "30m", "24h", "7d" (a bare number is hours) -> milliseconds; null when unreadable. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[(m[2] ?? "h") as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

export interface StaleOptions {
  maxAgeMs: number;
  /** New windows to test for drift against the current version. */
  driftFeatures?: string;
  /** Retrain when the drifted share reaches this; default: the drift decision itself. */
  driftThreshold?: number;
  driftSettings?: Partial<DriftSettings>;
}

export interface Staleness {
  model: string;
  current: string | null;
  stale: boolean;
  reasons: string[];
  age_s: number | null;
  drift: { drifted: boolean; drifted_share: number; reasons: string[] } | null;
}

export async function checkStaleness(registry: string, name: string, o: StaleOptions): Promise<Staleness> {
  const current = (await readAliases(registry, name).catch(() => new Map())).get(DEFAULT_ALIAS);
  if (!current) return { model: name, current: null, stale: true, reasons: ["no current version yet"], age_s: null, drift: null };
  const m = await readManifest(registry, name, current.version);
  const ageMs = Date.now() - Date.parse(m.created_at);
  const reasons: string[] = [];
  if (ageMs > o.maxAgeMs) reasons.push(`current ${m.id} is ${(ageMs / 3600e3).toFixed(1)} h old (limit ${(o.maxAgeMs / 3600e3).toFixed(1)} h)`);
  let drift: Staleness["drift"] = null;
  if (o.driftFeatures) {
    const r: DriftRunResult = await runDrift({ model: `${name}@${m.id}`, registry, features: o.driftFeatures, by: "none", settings: o.driftSettings });
    const g = r.groups[0];
    const drifted = o.driftThreshold !== undefined ? g.drifted_share >= o.driftThreshold : g.drifted;
    drift = { drifted, drifted_share: g.drifted_share, reasons: g.reasons };
    if (drifted) reasons.push(o.driftThreshold !== undefined ? `drifted share ${g.drifted_share.toFixed(3)} >= ${o.driftThreshold} on ${o.driftFeatures}` : `${o.driftFeatures} drifts: ${g.reasons.join("; ")}`);
  }
  const stale = reasons.length > 0;
  const numbers = { age_s: ageMs / 1000, max_age_s: o.maxAgeMs / 1000, drift };
  if (!stale) {
    const why = `current ${m.id} is ${(ageMs / 3600e3).toFixed(1)} h old (limit ${(o.maxAgeMs / 3600e3).toFixed(1)} h)${drift ? ` and ${o.driftFeatures} does not drift (drifted share ${drift.drifted_share.toFixed(3)})` : ""}`;
    await logDecision(registry, { event: "retrain-skipped", model: name, version: m.id, reason: why, details: numbers });
    return { model: name, current: m.id, stale, reasons: [why], age_s: ageMs / 1000, drift };
  }
  await logDecision(registry, { event: "retrain-started", model: name, version: m.id, reason: reasons.join("; "), details: numbers });
  return { model: name, current: m.id, stale, reasons, age_s: ageMs / 1000, drift };
}
