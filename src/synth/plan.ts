// The store plan: for every episode, who ran it, what ran, how it ended and
// which faults it carries. Computed up front in the main thread (it is cheap)
// so that the coverage guarantee can look at the whole store, and so that
// workers only ever need (params, plan[i]) to produce episode i.

import type { Profile } from "../episode/report.js";
import { PROFILES } from "../episode/report.js";
import { FAULTS, FAULT_BY_NAME, type FaultGroup } from "./faults.js";
import { fleetHosts, type HostSpec } from "./hosts.js";
import { EXPLOIT_WEIGHTS, SAMPLES, samplesOf } from "./profiles.js";
import { deriveRng, tagOf } from "./rng.js";

export const FAULT_MODES = ["none", "standard"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface SynthParams {
  episodes: number;
  /** Decimal string, so that seeds above 2^53 survive JSON. */
  seed: string;
  faults: FaultMode;
  hosts: number;
}

export type Failure = "none" | "early" | "late";

export interface EpisodePlan {
  index: number;
  episodeId: string;
  host: number;
  profile: Profile;
  sample: number;
  exploit: number;
  /** Natural workload failure: early = payload never ran, late = it crashed while running. */
  failure: Failure;
  /** The pre-kill probe's known unreliability: says "0" although the workload ran. */
  probeZero: boolean;
  faults: string[];
}

/** Profile mix per host: mild skews (campaigns differ per host), zero where a host never ran a profile. */
function profileWeights(host: HostSpec, hostIndex: number): number[] {
  return PROFILES.map((p, i) => {
    if (host.excludedProfiles.includes(p)) return 0;
    // A small deterministic tilt per host, so host and profile are not independent.
    return 10 + ((i * 7 + hostIndex * 3) % 5);
  });
}

/** Below this many episodes the coverage guarantee is not attempted (not enough distinct episodes). */
export const MIN_EPISODES_FOR_COVERAGE = 60;

export function episodeId(index: number): string {
  return `ep-${String(index).padStart(6, "0")}`;
}

export function buildPlan(params: SynthParams, seed: bigint): EpisodePlan[] {
  const hosts = fleetHosts(params.hosts);
  const hostWeights = hosts.map((h) => h.weight);
  const plans: EpisodePlan[] = [];
  for (let i = 0; i < params.episodes; i++) {
    const rng = deriveRng(seed, tagOf("plan"), i);
    const host = rng.weighted(hostWeights);
    const profile = PROFILES[rng.weighted(profileWeights(hosts[host], host))];
    const candidates = samplesOf(profile);
    const sample = candidates[rng.weighted(candidates.map((s) => SAMPLES[s].weight))];
    const exploit = rng.weighted(EXPLOIT_WEIGHTS[profile]);
    const failRoll = rng.next();
    const failure: Failure = failRoll < 0.022 ? "early" : failRoll < 0.055 ? "late" : "none";
    const probeZero = rng.chance(0.05);
    const faults = params.faults === "standard" ? drawFaults(rng.next(), rng.next(), rng, hosts[host]) : [];
    plans.push({ index: i, episodeId: episodeId(i), host, profile, sample, exploit, failure, probeZero, faults });
  }
  if (params.faults === "standard" && params.episodes >= MIN_EPISODES_FOR_COVERAGE) {
    ensureCoverage(plans, hosts, seed);
  }
  for (const plan of plans) settleConflicts(plan);
  return plans;
}

function eligible(name: string, host: HostSpec): boolean {
  return name !== "netflow-missing" || host.netflow;
}

/** One primary fault at most, one degraded at most, independent malformed-row faults. */
function drawFaults(primaryRoll: number, degradedRoll: number, rng: { chance(p: number): boolean }, host: HostSpec): string[] {
  const out: string[] = [];
  const pickFrom = (groups: FaultGroup[], roll: number) => {
    let x = roll;
    for (const f of FAULTS) {
      if (!groups.includes(f.group) || !eligible(f.name, host)) continue;
      x -= f.rate;
      if (x < 0) return f.name;
    }
    return null;
  };
  const primary = pickFrom(["rejected", "errored", "store", "prune"], primaryRoll);
  if (primary) out.push(primary);
  const degraded = pickFrom(["degraded"], degradedRoll);
  if (degraded) out.push(degraded);
  for (const f of FAULTS) if (f.group === "rows" && rng.chance(f.rate)) out.push(f.name);
  return out;
}

function groupOf(name: string): FaultGroup {
  return FAULT_BY_NAME.get(name)!.group;
}

/** Every fault at least once, and at least one natural workload failure. */
function ensureCoverage(plans: EpisodePlan[], hosts: HostSpec[], seed: bigint): void {
  const rng = deriveRng(seed, tagOf("coverage"));
  const counts = new Map<string, number>();
  for (const p of plans) for (const f of p.faults) counts.set(f, (counts.get(f) ?? 0) + 1);
  for (const spec of FAULTS) {
    if ((counts.get(spec.name) ?? 0) > 0) continue;
    const free = plans.filter((p) => {
      if (!eligible(spec.name, hosts[p.host])) return false;
      if (spec.group === "rows") return !p.faults.includes(spec.name);
      const sameKind = spec.group === "degraded" ? ["degraded"] : ["rejected", "errored", "store", "prune"];
      return !p.faults.some((f) => sameKind.includes(groupOf(f)));
    });
    if (free.length === 0) continue;
    const chosen = free[Math.floor(rng.next() * free.length)];
    chosen.faults.push(spec.name);
    counts.set(spec.name, 1);
  }
  if (!plans.some((p) => p.failure !== "none" && !p.faults.some((f) => groupOf(f) !== "rows"))) {
    const free = plans.filter((p) => p.faults.length === 0);
    if (free.length > 0) free[Math.floor(rng.next() * free.length)].failure = "late";
  }
}

/** Combinations that would make the expected outcome ambiguous are resolved here, once. */
function settleConflicts(plan: EpisodePlan): void {
  const groups = plan.faults.map(groupOf);
  // Duds never ran, so they cannot fail either; and nothing is worth
  // malforming rows of in an archive that cannot be read.
  if (plan.faults.includes("flat") || plan.faults.includes("silent")) {
    plan.failure = "none";
    plan.probeZero = false;
  }
  if (groups.includes("errored")) plan.faults = plan.faults.filter((f) => groupOf(f) !== "rows");
  plan.faults.sort((a, b) => FAULTS.indexOf(FAULT_BY_NAME.get(a)!) - FAULTS.indexOf(FAULT_BY_NAME.get(b)!));
}
