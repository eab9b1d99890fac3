// `cis490 split` end to end: episodes from the features file, the recipe's
// test side, validation carved by episode, the leakage assertion, the class
// check, then the assignment Parquet and its JSON summary (both atomic;
// the JSON is written last, so its presence means the pair is whole).

import { access, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Int32, Table, Utf8, vectorFromArray } from "apache-arrow";
import { writeFileAtomic } from "../io/atomic.js";
import { writeParquet } from "../io/parquet.js";
import { assertNoLeakage, assignSplits, missingClassError, summarise, type Assignment, type SplitSummary, type ValCarve } from "./assign.js";
import { sha256OfFile } from "../io/hash.js";
import { readSplitEpisodes } from "./episodes.js";
import { selectTest, SplitError, type Recipe, type ValMode, type ValStrata } from "./recipes.js";

export interface SplitRunOptions {
  features: string;
  recipe: Recipe;
  out: string;
  seed: bigint;
  valFraction: number;
  testHosts?: string[];
  /** Validation by episodes (default), by whole training-side hosts, or k-fold by host. */
  valBy?: ValMode;
  valHosts?: string[];
  /** host-folds: number of folds (default: one per training-side host). */
  valFolds?: number;
  /** episodes: stratify the carve by profile (default) or not. */
  valStrata?: ValStrata;
  cutoffMs?: number;
  allowMissingClass?: boolean;
}

/** `split_host.parquet` -> `split_host.json`. */
export function summaryPathFor(out: string): string {
  return out.endsWith(".parquet") ? out.slice(0, -".parquet".length) + ".json" : out + ".json";
}

/** The assignment columns; `fold` (null on the test side) only for a host-folds split, so other splits keep their bytes. */
export function assignmentTable(assignments: Assignment[]): Table {
  const utf8 = new Utf8();
  const folds = assignments.some((a) => a.fold !== undefined);
  return new Table({
    episode_id: vectorFromArray(assignments.map((a) => a.episode.episode_id), utf8),
    host_id: vectorFromArray(assignments.map((a) => a.episode.host_id), utf8),
    profile: vectorFromArray(assignments.map((a) => a.episode.profile), utf8),
    sample_name: vectorFromArray(assignments.map((a) => a.episode.sample_name), utf8),
    split: vectorFromArray(assignments.map((a) => a.split), utf8),
    ...(folds ? { fold: vectorFromArray(assignments.map((a) => a.fold ?? null), new Int32()) } : {}),
  });
}

export async function runSplit(o: SplitRunOptions): Promise<{ summary: SplitSummary; assignments: Assignment[] }> {
  try {
    await access(o.features);
  } catch {
    throw new SplitError(`features file not found: ${o.features} (run \`cis490 features\` first)`);
  }
  const featuresSha256 = await sha256OfFile(o.features);
  const episodes = await readSplitEpisodes(o.features);
  if (episodes.length === 0) throw new SplitError(`${o.features} has no windows`);
  const selection = selectTest(episodes, { recipe: o.recipe, seed: o.seed, testHosts: o.testHosts, cutoffMs: o.cutoffMs });
  if (o.valBy !== "hosts" && o.valHosts?.length) throw new SplitError("--val-hosts applies to --val hosts only");
  const valBy: ValCarve = { mode: o.valBy ?? "episodes", hosts: o.valHosts, folds: o.valFolds, strata: o.valStrata };
  const assignments = assignSplits(episodes, selection, o.valFraction, o.seed, valBy);
  assertNoLeakage(assignments, selection);
  const summary = summarise(assignments, selection, {
    seed: o.seed,
    valFraction: o.valFraction,
    valBy: valBy.mode,
    valHosts: valBy.chosen ?? null,
    valStrata: o.valStrata ?? "profile",
    valFolds: valBy.chosenFolds ?? null,
    features: o.features,
    featuresSha256,
    out: o.out,
    allowMissingClass: o.allowMissingClass ?? false,
  });
  if (summary.counts.train.episodes === 0) throw new SplitError("the training side is empty");
  const classError = missingClassError(summary);
  if (classError) throw classError;

  await mkdir(dirname(o.out), { recursive: true });
  await writeParquet(o.out, assignmentTable(assignments));
  await writeFileAtomic(summaryPathFor(o.out), JSON.stringify(summary, null, 2) + "\n");
  return { summary, assignments };
}
