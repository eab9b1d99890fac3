// From a test selection to per-episode assignments, the leakage checks that
// make a wrong split impossible to write, and the summary that travels with
// it: counts per split, per-profile coverage, untested profiles and class
// presence (reported, never averaged away).

import { PHASES } from "../episode/report.js";
import type { SplitEpisode } from "./episodes.js";
import { assignHostFolds, carveValidation, carveValidationHosts, SplitError, type Recipe, type TestSelection, type ValMode, type ValStrata } from "./recipes.js";
import { CliError } from "../util/errors.js";

export const SPLITS = ["train", "val", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

export interface Assignment {
  episode: SplitEpisode;
  split: SplitName;
  /** --val host-folds: the training episode's fold (its host's); absent otherwise and on the test side. */
  fold?: number;
}

export interface ValCarve {
  mode: ValMode;
  /** hosts: the named validation hosts. */
  hosts?: string[];
  /** host-folds: how many folds (default one per training host). */
  folds?: number;
  /** episodes: the carve's strata (default profile). */
  strata?: ValStrata;
  /** Filled in: hosts chosen (hosts) or the hosts of each fold (host-folds). */
  chosen?: string[];
  chosenFolds?: string[][];
}

/**
 * `valBy`: "episodes" (a seeded fraction, profile-stratified unless told
 * otherwise), "hosts" (whole training-side hosts) or "host-folds" (no val
 * side: every training episode carries its host's fold, and training
 * validates each fold on a model fit on the others).
 */
export function assignSplits(episodes: SplitEpisode[], selection: TestSelection, valFraction: number, seed: bigint, valBy: ValCarve = { mode: "episodes" }): Assignment[] {
  const trainSide = episodes.filter((e) => !selection.test.has(e.episode_id));
  let val = new Set<string>();
  let fold: Map<string, number> | null = null;
  if (valBy.mode === "hosts") {
    const r = carveValidationHosts(trainSide, valBy.hosts);
    val = r.val;
    valBy.chosen = r.hosts;
  } else if (valBy.mode === "host-folds") {
    const r = assignHostFolds(trainSide, valBy.folds);
    fold = r.fold;
    valBy.chosenFolds = r.folds;
  } else {
    val = carveValidation(trainSide, valFraction, seed, valBy.strata);
  }
  return episodes.map((episode): Assignment => {
    if (selection.test.has(episode.episode_id)) return { episode, split: "test" };
    if (val.has(episode.episode_id)) return { episode, split: "val" };
    return fold ? { episode, split: "train", fold: fold.get(episode.episode_id)! } : { episode, split: "train" };
  });
}

/** Thrown when the split would let a model see its test data: a bug, never a data condition. */
export class LeakageError extends CliError {
  constructor(message: string) {
    super(`refusing to write a leaking split (a bug): ${message}`);
  }
}

/** A model must never see its test host (or held-out sample, or the future). */
export function assertNoLeakage(assignments: Assignment[], selection: TestSelection): void {
  const testHosts = new Set(selection.test_hosts ?? []);
  const held = new Set((selection.held_out_samples ?? []).map((h) => `${h.profile}\u0000${h.sample_name}`));
  const cutoff = selection.cutoff ? BigInt(selection.cutoff.t0_wall_ns) : null;
  for (const { episode: e, split } of assignments) {
    const seen = split !== "test";
    if (selection.recipe === "host") {
      if (seen && testHosts.has(e.host_id)) throw new LeakageError(`test host ${e.host_id} appears in ${split} (${e.episode_id})`);
      if (!seen && !testHosts.has(e.host_id)) throw new LeakageError(`test episode ${e.episode_id} is from training host ${e.host_id}`);
    } else if (selection.recipe === "sample") {
      const isHeld = e.profile !== null && e.sample_name !== null && held.has(`${e.profile}\u0000${e.sample_name}`);
      if (seen && isHeld) throw new LeakageError(`held-out sample ${e.sample_name} (${e.profile}) appears in ${split} (${e.episode_id})`);
      if (!seen && !isHeld) throw new LeakageError(`test episode ${e.episode_id} is not of a held-out sample`);
    } else if (cutoff !== null) {
      if (seen && e.t0_wall_ns >= cutoff) throw new LeakageError(`${split} episode ${e.episode_id} starts after the cut-off`);
      if (!seen && e.t0_wall_ns < cutoff) throw new LeakageError(`test episode ${e.episode_id} starts before the cut-off`);
    }
  }
}

export interface SplitCounts {
  episodes: number;
  windows: number;
}

export interface ProfileCoverage {
  profile: string;
  train: number;
  val: number;
  test: number;
}

export interface SplitSummary {
  recipe: Recipe;
  seed: string;
  val_fraction: number;
  /** How validation was carved: "episodes" (val_fraction), "hosts" (whole training-side hosts, val_hosts) or "host-folds" (val_folds). Absent in older summaries = episodes. */
  val_by?: ValMode;
  val_hosts?: string[] | null;
  /** episodes: "profile" (stratified) or "none". */
  val_strata?: ValStrata | null;
  /** host-folds: the training-side hosts of each fold. */
  val_folds?: string[][] | null;
  features: string;
  features_sha256: string;
  out: string;
  test_hosts: string[] | null;
  held_out_samples: TestSelection["held_out_samples"];
  profiles_without_test_sample: TestSelection["profiles_without_test_sample"];
  cutoff: TestSelection["cutoff"];
  counts: Record<SplitName, SplitCounts>;
  hosts: Record<string, Record<SplitName, number>>;
  per_profile: ProfileCoverage[];
  /** Profiles present in the data with no test episode: their detection is not measured by this split. */
  untested_profiles: string[];
  /** Windows per phase per split. */
  classes: Record<string, Record<SplitName, number>>;
  /** Phases that occur in val or test but never in train. */
  missing_in_train: string[];
  /** Phases that occur nowhere in the features. */
  absent_classes: string[];
  allow_missing_class: boolean;
}

const NO_PROFILE = "(none)";

export function summarise(
  assignments: Assignment[],
  selection: TestSelection,
  ctx: { seed: bigint; valFraction: number; valBy?: ValMode; valHosts?: string[] | null; valStrata?: ValStrata | null; valFolds?: string[][] | null; features: string; featuresSha256: string; out: string; allowMissingClass: boolean },
): SplitSummary {
  const zero = (): Record<SplitName, number> => ({ train: 0, val: 0, test: 0 });
  const counts: Record<SplitName, SplitCounts> = { train: { episodes: 0, windows: 0 }, val: { episodes: 0, windows: 0 }, test: { episodes: 0, windows: 0 } };
  const hosts: Record<string, Record<SplitName, number>> = {};
  const profiles = new Map<string, Record<SplitName, number>>();
  const classes: Record<string, Record<SplitName, number>> = Object.fromEntries(PHASES.map((p) => [p, zero()]));
  for (const { episode: e, split } of assignments) {
    counts[split].episodes++;
    counts[split].windows += e.windows;
    (hosts[e.host_id] ??= zero())[split]++;
    const p = e.profile ?? NO_PROFILE;
    if (!profiles.has(p)) profiles.set(p, zero());
    profiles.get(p)![split]++;
    e.phase_windows.forEach((n, code) => {
      classes[PHASES[code]][split] += n;
    });
  }
  const per_profile = [...profiles.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([profile, c]) => ({ profile, ...c }));
  const untested_profiles = per_profile.filter((p) => p.profile !== NO_PROFILE && p.test === 0).map((p) => p.profile);
  const missing_in_train = PHASES.filter((p) => classes[p].train === 0 && classes[p].val + classes[p].test > 0);
  const absent_classes = PHASES.filter((p) => classes[p].train + classes[p].val + classes[p].test === 0);
  return {
    recipe: selection.recipe,
    seed: ctx.seed.toString(),
    val_fraction: ctx.valBy === "hosts" || ctx.valBy === "host-folds" ? 0 : ctx.valFraction,
    val_by: ctx.valBy ?? "episodes",
    val_hosts: ctx.valHosts ?? null,
    val_strata: (ctx.valBy ?? "episodes") === "episodes" ? (ctx.valStrata ?? "profile") : null,
    val_folds: ctx.valFolds ?? null,
    features: ctx.features,
    features_sha256: ctx.featuresSha256,
    out: ctx.out,
    test_hosts: selection.test_hosts,
    held_out_samples: selection.held_out_samples,
    profiles_without_test_sample: selection.profiles_without_test_sample,
    cutoff: selection.cutoff,
    counts,
    hosts: Object.fromEntries(Object.entries(hosts).sort(([a], [b]) => (a < b ? -1 : 1))),
    per_profile,
    untested_profiles,
    classes,
    missing_in_train,
    absent_classes,
    allow_missing_class: ctx.allowMissingClass,
  };
}

/** The class check: a model cannot learn a phase it never sees in training. */
export function missingClassError(summary: SplitSummary): SplitError | null {
  if (summary.missing_in_train.length === 0 || summary.allow_missing_class) return null;
  const detail = summary.missing_in_train
    .map((p) => `${p} (val ${summary.classes[p].val} windows, test ${summary.classes[p].test} windows)`)
    .join(", ");
  return new SplitError(`class(es) missing from train: ${detail}; a model cannot learn a class it never sees (choose other test hosts/samples/cut-off, or pass --allow-missing-class)`);
}
