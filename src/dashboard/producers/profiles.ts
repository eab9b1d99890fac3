// `publish profiles`: one attack_profile event per behaviour profile, from a
// representative accepted episode: its signature channel (the contract's
// "where its signal lives"), rebuilt at 10 Hz from the native featurizer's
// window tensors, which are aligned on t_wall_ns (never t_mono_ns, which
// misplaces netflow), resampled to 80 points and min-max normalised. The
// representative is the medoid of up to `candidates` accepted episodes of
// the profile that observe the channel at all.

import { CHANNELS } from "../../features/channels.js";
import { loadFeaturizer } from "../../native/backend.js";
import { planFeatures, type PlannedEpisode } from "../../features/plan.js";
import { DEFAULT_FEATURE_OPTIONS, type EpisodeWindows, type Featurizer } from "../../features/types.js";
import { DEFAULT_INSPECT_OPTIONS, PROFILES } from "../../episode/report.js";
import { PROFILE_CURVE_POINTS, type AttackProfileEvent } from "../events.js";

/** Signature channel and the shape its curve is expected to take, per profile (docs/data-contract.md, behaviour profiles). */
export const SIGNATURES: Record<string, { channel: string; shape: string }> = {
  "cpu-saturate": { channel: "guest.cpu_user", shape: "sustained plateau" },
  "scan-and-dial": { channel: "netflow.syn_count", shape: "probe burst, then dial-home" },
  "io-walk": { channel: "qmp.virtio0_wr_bytes", shape: "write ramp" },
  "bursty-c2": { channel: "netflow.bytes_out", shape: "idle with short egress bursts" },
  "low-and-slow": { channel: "guest.mem_available", shape: "slow periodic churn" },
  "shell-resident": { channel: "netflow.tcp_count", shape: "persistent low plateau" },
};

export interface ProfilesOptions {
  store: string;
  acceptance: string;
  /** Accepted episodes considered per profile (default 12). */
  candidates?: number;
  jobs?: number;
  featurizer?: Featurizer;
}

export interface ProfileOutcome {
  profile: string;
  channel: string;
  /** null when no accepted episode of the profile observes its channel. */
  episode_id: string | null;
  candidates: number;
  reason: string | null;
}

export interface ProfilesResult {
  events: AttackProfileEvent[];
  outcomes: ProfileOutcome[];
}

/**
 * The channel at 10 Hz over the episode, from overlapping windows: sample k of
 * window w sits at t_start_s[w] + k/hz on the t_wall_ns clock. Unobserved
 * samples are NaN.
 */
export function channelSeries(w: EpisodeWindows, channel: number, nChannels: number, tensorLen: number, hz: number): Float64Array {
  const duration = w.duration_s ?? 0;
  const n = Math.max(1, Math.ceil(duration * hz) + tensorLen);
  const sum = new Float64Array(n);
  const count = new Uint32Array(n);
  for (let win = 0; win < w.n_windows; win++) {
    const base = (win * nChannels + channel) * tensorLen;
    const start = Math.round(w.t_start_s[win] * hz);
    for (let k = 0; k < tensorLen; k++) {
      const at = start + k;
      if (at < 0 || at >= n || !w.mask![base + k]) continue;
      sum[at] += w.x![base + k];
      count[at]++;
    }
  }
  let last = -1;
  for (let i = 0; i < n; i++) if (count[i]) last = i;
  const out = new Float64Array(last + 1);
  for (let i = 0; i <= last; i++) out[i] = count[i] ? sum[i] / count[i] : Number.NaN;
  return out;
}

/** `points` evenly spaced samples of the series (linear interpolation between observed samples), min-max normalised to [0, 1]. */
export function resampleCurve(series: Float64Array, points = PROFILE_CURVE_POINTS): number[] | null {
  const idx: number[] = [];
  for (let i = 0; i < series.length; i++) if (Number.isFinite(series[i])) idx.push(i);
  if (idx.length === 0) return null;
  const out: number[] = [];
  let j = 0;
  for (let p = 0; p < points; p++) {
    const t = points === 1 ? 0 : (p * (series.length - 1)) / (points - 1);
    while (j + 1 < idx.length && idx[j + 1] <= t) j++;
    const a = idx[j];
    const b = idx[Math.min(j + 1, idx.length - 1)];
    const v = t <= a || a === b ? series[a] : series[a] + ((series[b] - series[a]) * (t - a)) / (b - a);
    out.push(v);
  }
  const lo = Math.min(...out);
  const hi = Math.max(...out);
  // A flat channel is a flat line at 0, not a division by zero.
  return out.map((v) => (hi > lo ? Math.round(((v - lo) / (hi - lo)) * 1e4) / 1e4 : 0));
}

function medoid(curves: number[][]): number {
  let best = 0;
  let bestCost = Infinity;
  curves.forEach((a, i) => {
    let cost = 0;
    for (const b of curves) for (let k = 0; k < a.length; k++) cost += (a[k] - b[k]) ** 2;
    if (cost < bestCost) [best, bestCost] = [i, cost];
  });
  return best;
}

export async function profilesFromStore(o: ProfilesOptions): Promise<ProfilesResult> {
  const plan = await planFeatures(o.store, o.acceptance);
  const featurizer = o.featurizer ?? (await loadFeaturizer("native"));
  const options = { ...DEFAULT_FEATURE_OPTIONS, tensors: true };
  const tensorLen = Math.round(options.window_s * options.hz);
  const perProfile = new Map<string, PlannedEpisode[]>();
  for (const e of plan.episodes) {
    if (e.acceptance_class !== "accepted" || !e.profile) continue;
    const list = perProfile.get(e.profile) ?? [];
    if (list.length < (o.candidates ?? 12)) list.push(e);
    perProfile.set(e.profile, list);
  }
  const events: AttackProfileEvent[] = [];
  const outcomes: ProfileOutcome[] = [];
  for (const profile of PROFILES) {
    const sig = SIGNATURES[profile];
    const channel = CHANNELS.findIndex((c) => c.name === sig.channel);
    const episodes = perProfile.get(profile) ?? [];
    const outcome: ProfileOutcome = { profile, channel: sig.channel, episode_id: null, candidates: episodes.length, reason: null };
    outcomes.push(outcome);
    if (episodes.length === 0) {
      outcome.reason = "no accepted episode of this profile";
      continue;
    }
    const windows = await featurizer.featurizeFiles(episodes.map((e) => e.abs), options, DEFAULT_INSPECT_OPTIONS, o.jobs ?? 1);
    const curves: number[][] = [];
    const ids: string[] = [];
    windows.forEach((w, i) => {
      if (w.error || !w.x || !w.mask || w.n_windows === 0) return;
      const curve = resampleCurve(channelSeries(w, channel, CHANNELS.length, tensorLen, options.hz));
      if (curve) {
        curves.push(curve);
        ids.push(episodes[i].episode_id);
      }
    });
    if (curves.length === 0) {
      outcome.reason = `no accepted episode observes ${sig.channel}`;
      continue;
    }
    const m = medoid(curves);
    outcome.episode_id = ids[m];
    events.push({ type: "attack_profile", name: profile, shape: sig.shape, channel: sig.channel, curve: curves[m], episode_id: ids[m] });
  }
  return { events, outcomes };
}
