// `cis490 split`: per-episode train/val/test assignment from the features
// file by one of the held-out recipes (src/split/).

import { dirname, join, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { isIntegerAtLeast, isNameList, isNumberInRange, isOneOf } from "../options.js";
import { formatTable } from "../text-table.js";
import { RECIPES, VAL_MODES, VAL_STRATA } from "../../split/recipes.js";
import type { SplitSummary } from "../../split/assign.js";
import { runSplit, summaryPathFor } from "../../split/run.js";
import { parseSeed } from "../../synth/rng.js";
import { UsageError } from "../../util/errors.js";

const USAGE = Command.Usage({
  description: "Held-out train/val/test split by episode: host (primary), sample or time.",
  details: `
    Reads \`features_window.parquet\` (from \`cis490 features\`), reduces it to episodes, and assigns each episode to train, val or test. Windows of one episode always share a split.

    Recipes: \`host\` tests on whole hosts (\`--test-hosts\`, default: the host with the fewest episodes); \`sample\` holds out one sample per profile that has at least two distinct samples (seeded choice; other profiles stay on the training side and are reported); \`time\` tests on episodes starting (first label) at or after \`--cutoff\` (default: the 80th percentile of start times).

    Validation (\`--val-fraction\`, default 0.15) is carved from the training side by episode, stratified by profile, seeded by \`--seed\`. With \`--val hosts\` it is instead one whole training-side host (\`--val-hosts\`, default: the training host with the fewest episodes), so early stopping and model selection are judged across hosts. With \`--val host-folds\` there is no val side: every training episode carries its host's fold (\`--folds\`, default one per training host), and \`cis490 train --model gbt\` validates each fold on a model fit on the other folds, picks the boosting rounds by the folds' mean, and refits on every training host (k-fold by host: no host is lost to validation; docs/host-invariance.md). \`--val-strata none\` carves the episodes without stratifying by profile. The same inputs and seed always give the same split.

    Writes \`--out\` (default \`split_<recipe>.parquet\` beside the features file: episode_id, host_id, profile, sample_name, split, and fold for host-folds) and a JSON summary beside it (\`split_<recipe>.json\`: recipe, seed, test hosts/samples/cut-off, counts per split, per-profile coverage, untested profiles, windows per class per split, sha256 of the features file). \`--json\` prints the summary.

    A phase label that occurs in val or test but never in train is an error (a model cannot learn a class it never sees) unless \`--allow-missing-class\`. Profiles with no test episode are listed as untested, never averaged away.

    Exit codes: 0 when the split was written; 1 when the features file is unusable or the split is impossible (unknown test host, empty side, class missing from train); 2 on usage errors.
  `,
  examples: [
    ["Host split (default test host)", "$0 split --features data/processed/features_window.parquet --recipe host"],
    ["Test on two named hosts", "$0 split --features data/processed/features_window.parquet --recipe host --test-hosts lab-r740,k-gamingcom"],
    ["Time split at a cut-off", "$0 split --features data/processed/features_window.parquet --recipe time --cutoff 2026-04-20T00:00:00Z"],
  ],
});

export class SplitCommand extends BaseCommand<SplitSummary> {
  static paths = [["split"]];

  static usage = USAGE;

  features = Option.String("--features", { description: "features_window.parquet (default: data/processed/features_window.parquet)" });
  recipe = Option.String("--recipe", { required: true, validator: isOneOf(RECIPES), description: "host, sample or time" });
  testHosts = Option.String("--test-hosts", { validator: isNameList, description: "host recipe: comma-separated test hosts" });
  valFraction = Option.String("--val-fraction", { validator: isNumberInRange(0, 1), description: "Share of training-side episodes for validation (default 0.15)" });
  val = Option.String("--val", { validator: isOneOf(VAL_MODES), description: "Validation: episodes (default; --val-fraction of the training side), hosts (one whole training-side host) or host-folds (k-fold by training host, no val side; gbt)" });
  valHosts = Option.String("--val-hosts", { validator: isNameList, description: "--val hosts: the training-side host(s) to validate on (default: the one with the fewest episodes)" });
  folds = Option.String("--folds", { validator: isIntegerAtLeast(2), description: "--val host-folds: number of folds (default: one per training-side host)" });
  valStrata = Option.String("--val-strata", { validator: isOneOf(VAL_STRATA), description: "--val episodes: stratify the carve by profile (default) or none" });
  seed = Option.String("--seed", { description: "Seed (default 0)" });
  cutoff = Option.String("--cutoff", { description: "time recipe: ISO-8601 instant (default: 80th percentile of start times)" });
  out = Option.String("--out", { description: "Assignment Parquet path (default: split_<recipe>.parquet beside the features)" });
  allowMissingClass = Option.Boolean("--allow-missing-class", false, { description: "Write the split even if a class is missing from train" });

  protected async run(): Promise<SplitSummary> {
    const seed = parseSeed(this.seed ?? "0");
    if (seed === null) throw new UsageError(`--seed must be a non-negative integer (got ${JSON.stringify(this.seed)})`);
    let cutoffMs: number | undefined;
    if (this.cutoff !== undefined) {
      if (this.recipe !== "time") throw new UsageError("--cutoff applies to --recipe time only");
      cutoffMs = Date.parse(this.cutoff);
      if (!Number.isFinite(cutoffMs)) throw new UsageError(`--cutoff must be an ISO-8601 instant (got ${JSON.stringify(this.cutoff)})`);
    }
    if (this.testHosts !== undefined && this.recipe !== "host") throw new UsageError("--test-hosts applies to --recipe host only");
    if (this.valHosts !== undefined && this.val !== "hosts") throw new UsageError("--val-hosts applies to --val hosts only");
    if ((this.val === "hosts" || this.val === "host-folds") && this.valFraction !== undefined) throw new UsageError("--val-fraction applies to --val episodes only");
    if (this.folds !== undefined && this.val !== "host-folds") throw new UsageError("--folds applies to --val host-folds only");
    if (this.valStrata !== undefined && (this.val ?? "episodes") !== "episodes") throw new UsageError("--val-strata applies to --val episodes only");

    const features = resolve(this.features ?? "data/processed/features_window.parquet");
    const out = resolve(this.out ?? join(dirname(features), `split_${this.recipe}.parquet`));
    const { summary } = await runSplit({
      features,
      recipe: this.recipe,
      out,
      seed,
      valFraction: this.valFraction ?? 0.15,
      testHosts: this.testHosts,
      valBy: this.val,
      valHosts: this.valHosts,
      valFolds: this.folds,
      valStrata: this.valStrata,
      cutoffMs,
      allowMissingClass: this.allowMissingClass,
    });
    return summary;
  }

  protected render(s: SplitSummary): string {
    return render(s);
  }
}

function render(s: SplitSummary): string {
  const out: string[] = [];
  const val =
    s.val_by === "hosts"
      ? `validation on host(s) ${(s.val_hosts ?? []).join(", ")}`
      : s.val_by === "host-folds"
        ? `k-fold by host: ${(s.val_folds ?? []).map((f) => f.join("+")).join(" | ")}`
        : `val fraction ${s.val_fraction}${s.val_strata === "none" ? ", not stratified" : ""}`;
  out.push(`Split "${s.recipe}" (seed ${s.seed}, ${val})\n`);
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
