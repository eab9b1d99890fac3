// What a features sweep reports: episodes used and skipped (with reasons),
// windows per phase and per host. Accumulated per episode, mergeable across
// shards (the merge step adds the shards' summaries up).

import { PHASES } from "../episode/report.js";
import { phaseName } from "./window-table.js";
import type { EpisodeWindows } from "./types.js";

export interface SkippedEpisode {
  episode_id: string;
  host_id: string;
  reason: string;
  detail?: string;
}

export interface HostCounts {
  episodes: number;
  windows: number;
}

export interface FeaturesCounts {
  episodes_planned: number;
  episodes_used: number;
  /** Used episodes whose acceptance class is degraded (a source missing: NaN features). */
  episodes_degraded: number;
  windows: number;
  phases: Record<string, number>;
  hosts: Record<string, HostCounts>;
  skipped_reasons: Record<string, number>;
  /** Every skipped episode (they are few; the list is what a user acts on). */
  skipped: SkippedEpisode[];
}

export function emptyCounts(): FeaturesCounts {
  return {
    episodes_planned: 0,
    episodes_used: 0,
    episodes_degraded: 0,
    windows: 0,
    phases: Object.fromEntries([...PHASES, "unknown"].map((p) => [p, 0])),
    hosts: {},
    skipped_reasons: {},
    skipped: [],
  };
}

/** Why an episode gave no windows, or null when it gave some. */
export function skipReason(r: EpisodeWindows): { reason: string; detail?: string } | null {
  if (r.error !== null) return { reason: "featurize-error", detail: r.error };
  if (r.n_windows > 0) return null;
  if (r.t0_wall_ns === null) return { reason: "no-labels" };
  if (r.duration_s === null) return { reason: "no-duration" };
  return { reason: "shorter-than-window", detail: `duration ${r.duration_s} s` };
}

export function addSkip(c: FeaturesCounts, s: SkippedEpisode): void {
  c.skipped.push(s);
  c.skipped_reasons[s.reason] = (c.skipped_reasons[s.reason] ?? 0) + 1;
}

export function addEpisode(c: FeaturesCounts, host: string, degraded: boolean, r: EpisodeWindows): void {
  c.episodes_used++;
  if (degraded) c.episodes_degraded++;
  c.windows += r.n_windows;
  for (let w = 0; w < r.n_windows; w++) {
    const name = phaseName(r.phase[w]) ?? "unknown";
    c.phases[name] = (c.phases[name] ?? 0) + 1;
  }
  const h = (c.hosts[host] ??= { episodes: 0, windows: 0 });
  h.episodes++;
  h.windows += r.n_windows;
}

export function mergeCounts(parts: FeaturesCounts[]): FeaturesCounts {
  const out = emptyCounts();
  for (const p of parts) {
    out.episodes_planned += p.episodes_planned;
    out.episodes_used += p.episodes_used;
    out.episodes_degraded += p.episodes_degraded;
    out.windows += p.windows;
    for (const [k, v] of Object.entries(p.phases)) out.phases[k] = (out.phases[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.hosts)) {
      const h = (out.hosts[k] ??= { episodes: 0, windows: 0 });
      h.episodes += v.episodes;
      h.windows += v.windows;
    }
    for (const s of p.skipped) addSkip(out, s);
  }
  out.hosts = Object.fromEntries(Object.entries(out.hosts).sort(([a], [b]) => (a < b ? -1 : 1)));
  return out;
}
