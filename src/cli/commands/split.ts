// `cis490 split`: per-episode train/val/test assignment from the features
// file by one of the held-out recipes (src/split/). This file parses
// options, reports, and picks the exit code.

import { access } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, writeLine } from "../../io/command-support.js";
import { formatTable } from "../../io/table.js";
import { LeakageError, type SplitSummary } from "../../split/assign.js";
import { RECIPES, SplitError, type Recipe } from "../../split/recipes.js";
import { runSplit, summaryPathFor } from "../../split/run.js";
import { parseSeed } from "../../synth/rng.js";

export class SplitCommand extends Command {
  static paths = [["split"]];

  static usage = Command.Usage({
    description: "Held-out train/val/test split by episode: host (primary), sample or time.",
    details: `
      Reads \`features_window.parquet\` (from \`cis490 features\`), reduces it to episodes, and assigns each episode to train, val or test. Windows of one episode always share a split.

      Recipes: \`host\` tests on whole hosts (\`--test-hosts\`, default: the host with the fewest episodes); \`sample\` holds out one sample per profile that has at least two distinct samples (seeded choice; other profiles stay on the training side and are reported); \`time\` tests on episodes starting (first label) at or after \`--cutoff\` (default: the 80th percentile of start times).

      Validation (\`--val-fraction\`, default 0.15) is carved from the training side by episode, stratified by profile, seeded by \`--seed\`. The same inputs and seed always give the same split.

      Writes \`--out\` (default \`split_<recipe>.parquet\` beside the features file: episode_id, host_id, profile, sample_name, split) and a JSON summary beside it (\`split_<recipe>.json\`: recipe, seed, test hosts/samples/cut-off, counts per split, per-profile coverage, untested profiles, windows per class per split, sha256 of the features file). \`--json\` prints the summary.

      A phase label that occurs in val or test but never in train is an error (a model cannot learn a class it never sees) unless \`--allow-missing-class\`. Profiles with no test episode are listed as untested, never averaged away.

      Exit codes: 0 when the split was written; 1 when the features file is unusable or the split is impossible (unknown test host, empty side, class missing from train); 2 on usage errors.
    `,
    examples: [
      ["Host split (default test host)", "$0 split --features data/processed/features_window.parquet --recipe host"],
      ["Test on two named hosts", "$0 split --features data/processed/features_window.parquet --recipe host --test-hosts lab-r740,k-gamingcom"],
      ["Time split at a cut-off", "$0 split --features data/processed/features_window.parquet --recipe time --cutoff 2026-04-20T00:00:00Z"],
    ],
  });

  features = Option.String("--features", { description: "features_window.parquet (default: data/processed/features_window.parquet)" });
  recipe = Option.String("--recipe", { required: true, description: "host, sample or time" });
  testHosts = Option.String("--test-hosts", { description: "host recipe: comma-separated test hosts" });
  valFraction = Option.String("--val-fraction", { description: "Share of training-side episodes for validation (default 0.15)" });
  seed = Option.String("--seed", { description: "Seed (default 0)" });
  cutoff = Option.String("--cutoff", { description: "time recipe: ISO-8601 instant (default: 80th percentile of start times)" });
  out = Option.String("--out", { description: "Assignment Parquet path (default: split_<recipe>.parquet beside the features)" });
  allowMissingClass = Option.Boolean("--allow-missing-class", false, { description: "Write the split even if a class is missing from train" });
  json = Option.Boolean("--json", false, { description: "Print the summary as one JSON document" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const fail = (code: number, message: string): number => {
      writeLine(stderr, `cis490 split: ${message}`);
      return code;
    };
    let recipe: Recipe;
    let seed: bigint;
    let valFraction: number;
    let cutoffMs: number | undefined;
    let testHosts: string[] | undefined;
    try {
      if (!(RECIPES as readonly string[]).includes(this.recipe)) throw new OptionError(`--recipe must be one of ${RECIPES.join(", ")} (got ${JSON.stringify(this.recipe)})`);
      recipe = this.recipe as Recipe;
      const s = parseSeed(this.seed ?? "0");
      if (s === null) throw new OptionError(`--seed must be a non-negative integer (got ${JSON.stringify(this.seed)})`);
      seed = s;
      valFraction = this.valFraction === undefined ? 0.15 : Number(this.valFraction);
      if (this.valFraction?.trim() === "" || !Number.isFinite(valFraction) || valFraction < 0 || valFraction >= 1) {
        throw new OptionError(`--val-fraction must be in [0, 1) (got ${JSON.stringify(this.valFraction)})`);
      }
      if (this.cutoff !== undefined) {
        if (recipe !== "time") throw new OptionError("--cutoff applies to --recipe time only");
        cutoffMs = Date.parse(this.cutoff);
        if (!Number.isFinite(cutoffMs)) throw new OptionError(`--cutoff must be an ISO-8601 instant (got ${JSON.stringify(this.cutoff)})`);
      }
      if (this.testHosts !== undefined) {
        if (recipe !== "host") throw new OptionError("--test-hosts applies to --recipe host only");
        testHosts = this.testHosts.split(",").map((h) => h.trim()).filter((h) => h !== "");
        if (testHosts.length === 0) throw new OptionError("--test-hosts names no host");
      }
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      return fail(EXIT_USAGE, error.message);
    }
    const features = resolve(this.features ?? "data/processed/features_window.parquet");
    const out = resolve(this.out ?? join(dirname(features), `split_${recipe}.parquet`));
    try {
      await access(features);
    } catch {
      return fail(EXIT_FAILURE, `features file not found: ${features} (run \`cis490 features\` first)`);
    }

    let summary: SplitSummary;
    try {
      ({ summary } = await runSplit({ features, recipe, out, seed, valFraction, testHosts, cutoffMs, allowMissingClass: this.allowMissingClass }));
    } catch (error) {
      if (error instanceof SplitError) return fail(EXIT_FAILURE, error.message);
      if (error instanceof LeakageError) return fail(EXIT_FAILURE, `refusing to write a leaking split (a bug): ${error.message}`);
      return fail(EXIT_FAILURE, (error as Error).message);
    }
    if (this.json) stdout.write(JSON.stringify(summary) + "\n");
    else stdout.write(render(summary));
    return EXIT_OK;
  }
}

function render(s: SplitSummary): string {
  const out: string[] = [];
  out.push(`Split "${s.recipe}" (seed ${s.seed}, val fraction ${s.val_fraction})\n`);
  if (s.test_hosts) out.push(`  test hosts: ${s.test_hosts.join(", ")}\n`);
  if (s.held_out_samples) out.push(`  held-out samples: ${s.held_out_samples.map((h) => `${h.sample_name} (${h.profile})`).join(", ")}\n`);
  if (s.profiles_without_test_sample?.length) {
    out.push(`  profiles with < 2 samples (no test sample): ${s.profiles_without_test_sample.map((p) => p.profile).join(", ")}\n`);
  }
  if (s.cutoff) out.push(`  cut-off: ${s.cutoff.iso} (${s.cutoff.source === "p80" ? "80th percentile of start times" : "--cutoff"})\n`);
  out.push("\n");
  out.push(formatTable(["split", "episodes", "windows"], (["train", "val", "test"] as const).map((k) => [k, s.counts[k].episodes, s.counts[k].windows]), ["left", "right", "right"]));
  out.push("\nPer profile (episodes):\n");
  out.push(formatTable(["profile", "train", "val", "test"], s.per_profile.map((p) => [p.profile, p.train, p.val, p.test]), ["left", "right", "right", "right"]));
  out.push("\nWindows per class:\n");
  out.push(formatTable(["phase", "train", "val", "test"], Object.entries(s.classes).map(([p, c]) => [p, c.train, c.val, c.test]), ["left", "right", "right", "right"]));
  if (s.untested_profiles.length) out.push(`\nUNTESTED profiles (no test episode; not measured by this split): ${s.untested_profiles.join(", ")}\n`);
  if (s.missing_in_train.length) out.push(`\nWARNING: classes missing from train (allowed by --allow-missing-class): ${s.missing_in_train.join(", ")}\n`);
  if (s.absent_classes.length) out.push(`\nClasses absent from the features: ${s.absent_classes.join(", ")}\n`);
  out.push(`\nAssignments: ${s.out}\nSummary: ${summaryPathFor(s.out)}\n`);
  return out.join("");
}
