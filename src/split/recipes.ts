// The held-out recipes: which episodes form the test side.
//  host   (primary) test on whole hosts: the detector must generalise to a
//         machine it never saw; default: the host with the fewest episodes.
//  sample test on unseen malware samples: per profile with >= 2 distinct
//         samples, one sample (seeded choice) is held out.
//  time   test on the future: episodes starting at or after a cut-off
//         (default: the 80th percentile of start times).

import { deriveRng, tagOf } from "../synth/rng.js";
import { CliError } from "../util/errors.js";
import type { SplitEpisode } from "./episodes.js";

export const RECIPES = ["host", "sample", "time"] as const;
export type Recipe = (typeof RECIPES)[number];

/** A problem with the data or the requested split (exit 1), as opposed to a usage error. */
export class SplitError extends CliError {}

export interface RecipeOptions {
  recipe: Recipe;
  seed: bigint;
  testHosts?: string[];
  /** Cut-off instant (ms since the epoch) for the time recipe. */
  cutoffMs?: number;
}

export interface HeldOutSample {
  profile: string;
  sample_name: string;
}

export interface TestSelection {
  recipe: Recipe;
  /** Episode ids on the test side. */
  test: Set<string>;
  test_hosts: string[] | null;
  held_out_samples: HeldOutSample[] | null;
  /** Sample recipe: profiles with fewer than 2 distinct samples (none can be held out). */
  profiles_without_test_sample: Array<{ profile: string; samples: string[] }> | null;
  /** Time recipe: train is t0 < cutoff, test is t0 >= cutoff. */
  cutoff: { iso: string; t0_wall_ns: string; source: "option" | "p80" } | null;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function selectTest(episodes: SplitEpisode[], o: RecipeOptions): TestSelection {
  const base = { recipe: o.recipe, test_hosts: null, held_out_samples: null, profiles_without_test_sample: null, cutoff: null };
  switch (o.recipe) {
    case "host":
      return { ...base, ...hostTest(episodes, o.testHosts) };
    case "sample":
      return { ...base, ...sampleTest(episodes, o.seed) };
    case "time":
      return { ...base, ...timeTest(episodes, o.cutoffMs) };
  }
}

function hostTest(episodes: SplitEpisode[], named: string[] | undefined): Pick<TestSelection, "test" | "test_hosts"> {
  const counts = new Map<string, number>();
  for (const e of episodes) counts.set(e.host_id, (counts.get(e.host_id) ?? 0) + 1);
  let hosts: string[];
  if (named && named.length > 0) {
    const unknown = named.filter((h) => !counts.has(h));
    if (unknown.length) throw new SplitError(`no episodes of test host(s) ${unknown.join(", ")}; hosts in the features: ${[...counts.keys()].sort().join(", ")}`);
    hosts = [...new Set(named)].sort(cmp);
  } else {
    // Fewest episodes; ties go to the first name, so the default is stable.
    const sorted = [...counts.entries()].sort(([ha, a], [hb, b]) => a - b || cmp(ha, hb));
    if (sorted.length === 0) throw new SplitError("the features file has no episodes");
    hosts = [sorted[0][0]];
  }
  if (hosts.length >= counts.size) throw new SplitError(`every host (${hosts.join(", ")}) is a test host: nothing left to train on`);
  const set = new Set(hosts);
  return { test: new Set(episodes.filter((e) => set.has(e.host_id)).map((e) => e.episode_id)), test_hosts: hosts };
}

function sampleTest(episodes: SplitEpisode[], seed: bigint): Pick<TestSelection, "test" | "held_out_samples" | "profiles_without_test_sample"> {
  const samplesByProfile = new Map<string, Set<string>>();
  for (const e of episodes) {
    if (e.profile === null || e.sample_name === null) continue;
    const s = samplesByProfile.get(e.profile) ?? new Set<string>();
    s.add(e.sample_name);
    samplesByProfile.set(e.profile, s);
  }
  const heldOut: HeldOutSample[] = [];
  const without: Array<{ profile: string; samples: string[] }> = [];
  for (const profile of [...samplesByProfile.keys()].sort(cmp)) {
    const samples = [...samplesByProfile.get(profile)!].sort(cmp);
    if (samples.length < 2) {
      without.push({ profile, samples });
      continue;
    }
    const rng = deriveRng(seed, tagOf("split:sample"), tagOf(profile));
    heldOut.push({ profile, sample_name: samples[rng.int(0, samples.length - 1)] });
  }
  if (heldOut.length === 0) throw new SplitError("no profile has two distinct samples: the sample recipe has nothing to hold out");
  const key = (p: string, s: string): string => `${p}\u0000${s}`;
  const held = new Set(heldOut.map((h) => key(h.profile, h.sample_name)));
  const test = episodes.filter((e) => e.profile !== null && e.sample_name !== null && held.has(key(e.profile, e.sample_name)));
  return { test: new Set(test.map((e) => e.episode_id)), held_out_samples: heldOut, profiles_without_test_sample: without };
}

const NS_PER_MS = 1_000_000n;

function timeTest(episodes: SplitEpisode[], cutoffMs: number | undefined): Pick<TestSelection, "test" | "cutoff"> {
  if (episodes.length === 0) throw new SplitError("the features file has no episodes");
  let cutoff: bigint;
  let source: "option" | "p80";
  if (cutoffMs !== undefined) {
    cutoff = BigInt(Math.round(cutoffMs)) * NS_PER_MS;
    source = "option";
  } else {
    // The start time below which ~80% of episodes fall (train), the rest is test.
    const t0s = episodes.map((e) => e.t0_wall_ns).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    cutoff = t0s[Math.min(t0s.length - 1, Math.floor(0.8 * t0s.length))];
    source = "p80";
  }
  const test = episodes.filter((e) => e.t0_wall_ns >= cutoff);
  const iso = new Date(Number(cutoff / NS_PER_MS)).toISOString();
  if (test.length === 0) throw new SplitError(`no episode starts at or after the cut-off ${iso}: the test side would be empty`);
  if (test.length === episodes.length) throw new SplitError(`every episode starts at or after the cut-off ${iso}: nothing left to train on`);
  return { test: new Set(test.map((e) => e.episode_id)), cutoff: { iso, t0_wall_ns: cutoff.toString(), source } };
}

export const VAL_MODES = ["episodes", "hosts", "host-folds"] as const;
export type ValMode = (typeof VAL_MODES)[number];

/** How the episode carve is stratified: by profile (default) or not at all (one seeded shuffle of the training side). */
export const VAL_STRATA = ["profile", "none"] as const;
export type ValStrata = (typeof VAL_STRATA)[number];

/**
 * k-fold by host: the training-side hosts dealt into `k` folds (default:
 * one per host), so that each fold in turn validates a model trained on
 * the others and no host's data is lost to validation. Hosts go, largest
 * first, to the fold with the fewest episodes so far (ties: the lower
 * fold), which keeps the folds' sizes close; the order is by name within
 * equal counts, so the same hosts always give the same folds.
 */
export function assignHostFolds(train: SplitEpisode[], k: number | undefined): { fold: Map<string, number>; folds: string[][] } {
  const counts = new Map<string, number>();
  for (const e of train) counts.set(e.host_id, (counts.get(e.host_id) ?? 0) + 1);
  const hosts = [...counts.keys()].sort(cmp);
  if (hosts.length < 2) {
    throw new SplitError(`--val host-folds needs at least two hosts on the training side (found ${hosts.length}: ${hosts.join(", ") || "none"}): each fold validates on hosts the others trained without`);
  }
  const n = k ?? hosts.length;
  if (!Number.isInteger(n) || n < 2 || n > hosts.length) throw new SplitError(`--folds must be between 2 and the ${hosts.length} training-side hosts (got ${n})`);
  const folds: string[][] = Array.from({ length: n }, () => []);
  const size = new Array<number>(n).fill(0);
  for (const h of hosts.slice().sort((a, b) => counts.get(b)! - counts.get(a)! || cmp(a, b))) {
    const f = size.indexOf(Math.min(...size));
    folds[f].push(h);
    size[f] += counts.get(h)!;
  }
  for (const f of folds) f.sort(cmp);
  const byHost = new Map(folds.flatMap((hs, f) => hs.map((h) => [h, f] as const)));
  return { fold: new Map(train.map((e) => [e.episode_id, byHost.get(e.host_id)!])), folds };
}

/**
 * Cross-host validation: every episode of one whole training-side host (or
 * the named ones), so early stopping and model selection reward what
 * transfers to a machine the model did not train on. Default: the
 * training-side host with the fewest episodes (ties: the first by name).
 */
export function carveValidationHosts(train: SplitEpisode[], named: string[] | undefined): { val: Set<string>; hosts: string[] } {
  const counts = new Map<string, number>();
  for (const e of train) counts.set(e.host_id, (counts.get(e.host_id) ?? 0) + 1);
  const available = [...counts.keys()].sort(cmp);
  if (available.length < 2) {
    throw new SplitError(`--val hosts needs at least two hosts on the training side (found ${available.length}: ${available.join(", ") || "none"}); one must stay for training`);
  }
  let hosts: string[];
  if (named && named.length > 0) {
    const unknown = named.filter((h) => !counts.has(h));
    if (unknown.length) throw new SplitError(`--val-hosts ${unknown.join(", ")}: not a training-side host (training-side hosts: ${available.join(", ")})`);
    hosts = [...new Set(named)].sort(cmp);
    if (hosts.length === available.length) throw new SplitError("--val-hosts names every training-side host: nothing left to train on");
  } else {
    hosts = [available.reduce((a, b) => (counts.get(b)! < counts.get(a)! ? b : a))];
  }
  const chosen = new Set(hosts);
  return { val: new Set(train.filter((e) => chosen.has(e.host_id)).map((e) => e.episode_id)), hosts };
}

/**
 * Validation episodes carved from the training side: per profile (episodes
 * without one form their own stratum; `by` "none": one stratum), a seeded shuffle of the stratum
 * sorted by episode_id, of which round(fraction * size) go to validation.
 */
export function carveValidation(train: SplitEpisode[], fraction: number, seed: bigint, by: ValStrata = "profile"): Set<string> {
  const strata = new Map<string, SplitEpisode[]>();
  for (const e of train) {
    const key = by === "profile" ? (e.profile ?? "") : "";
    strata.set(key, [...(strata.get(key) ?? []), e]);
  }
  const val = new Set<string>();
  for (const key of [...strata.keys()].sort(cmp)) {
    const items = strata.get(key)!.slice().sort((a, b) => cmp(a.episode_id, b.episode_id));
    const rng = deriveRng(seed, tagOf("split:val"), tagOf(key));
    for (let i = items.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    const k = Math.round(fraction * items.length);
    for (const e of items.slice(0, k)) val.add(e.episode_id);
  }
  return val;
}
