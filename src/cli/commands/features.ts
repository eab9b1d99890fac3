// `cis490 features`: acceptance index -> features_window.parquet,
// feature_schema.json and (with --tensors) tensor shards. The sweep lives in
// src/features/run.ts; this file parses options and renders the result.

import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BACKENDS, loadFeaturizerChecked } from "../../native/backend.js";
import { parseShard, WHOLE, type ShardSpec } from "../../features/plan.js";
import { runFeatures, type FeaturesRunResult } from "../../features/run.js";
import { mergeShards, type MergeOutcome } from "../../features/shards.js";
import { mergeJson, summaryJson } from "../../features/summary-json.js";
import { DEFAULT_FEATURE_OPTIONS, schemaOptions, type FeatureOptions } from "../../features/types.js";
import { BASELINE_MODES } from "../../features/channels.js";
import { assertStoreDir } from "../../store/layout.js";
import { CliError, UsageError } from "../../util/errors.js";
import { BaseCommand, EXIT_FAILURE, EXIT_OK, type Reporter } from "../command.js";
import { isJobCount, isNumberAbove, isOneOf, jobsOrDefault } from "../options.js";
import type { Progress } from "../progress.js";
import { renderMerge, renderSummary } from "../render/features.js";

type FeaturesOutcome =
  | { kind: "merge"; out: string; outcome: MergeOutcome; doc: Record<string, unknown> }
  | { kind: "run"; result: FeaturesRunResult; doc: Record<string, unknown> };

export class FeaturesCommand extends BaseCommand<FeaturesOutcome> {
  static paths = [["features"]];

  static usage = Command.Usage({
    description: "Summary-window features (Parquet) and tensor shards from the accepted and degraded episodes.",
    details: `
      Reads the acceptance index written by \`cis490 validate\` and featurises every \`accepted\` and \`degraded\` episode (a degraded episode's missing sources come out as NaN features and mask 0, never zeros), in episode_id order, following docs/features.md.

      Writes into \`--out\` (default \`data/processed\`): \`features_window.parquet\` (one row per window, streamed into one file whatever the corpus size), \`feature_schema.json\` (channels, statistics, window parameters and the sha256 that checkpoints pin), and with \`--tensors\` \`tensors/host=<host>/part-<shard>-<chunk>.npz\` (numpy-loadable: x, mask, y, window, t_center_s, episode_id; at most ~256 whole episodes of one host per file) plus \`tensors/index.json\` listing them. Every file appears atomically.

      Schema options (each gives its own schema hash; the default schema is unchanged): \`--baseline relative\` makes the location statistics (and the tensors) relative to the median of each channel over the episode's first \`--baseline-s\` seconds (default 10) *before* the window, so a live detector can compute it; \`append\` keeps the plain statistics and adds the relative ones; \`--missing-indicators\` adds a 0/1 \`missing\` statistic per channel. Models trained on these schemas export and run in detect like default ones (the options travel in the ONNX metadata). Details: docs/features.md.

      Sharding: \`--shard i/n\` featurises the i-th of n contiguous blocks of the sorted episode list into \`features_window.part-<i>-of-<n>.parquet\` and writes \`shards/part-<i>-of-<n>.json\` when done. The shard that finds all n markers present merges the parts into \`features_window.parquet\` (streaming) and removes them; \`--merge --out DIR\` does the same by hand. A rerun skips a shard whose marker matches its parameters (schema, acceptance file, store, --tensors, n); \`--force\` recomputes. Without \`--shard\` the run is shard 0/1.

      Slurm job array: \`sbatch --array=0-15 --wrap 'cis490 features --store S --acceptance A --out O --shard $SLURM_ARRAY_TASK_ID/16'\`.
      Kubernetes indexed Job (completionMode: Indexed, completions: 16): \`cis490 features ... --shard $JOB_COMPLETION_INDEX/16\`.
      Rerunning the array after failures only recomputes the missing shards.

      A progress bar (episodes/s, ETA) is drawn on stderr when stderr is a terminal. A summary is printed at the end; \`--json\` prints it as one JSON document.

      Exit codes: 0 when the shard finished (or was already finished), whatever it skipped; 1 when the store, the acceptance index or the featurizer is unusable or an output cannot be written; 2 on usage errors.
    `,
    examples: [
      ["Features for the demo corpus", "$0 features --store data/corpus --acceptance data/acceptance.parquet --out data/processed"],
      ["With tensor shards", "$0 features --store data/corpus --acceptance data/acceptance.parquet --tensors"],
      ["Shard 3 of 16", "$0 features --store S --acceptance A --out O --shard 3/16"],
      ["Merge finished shards by hand", "$0 features --merge --out O"],
    ],
  });

  store = Option.String("--store", { description: "Episode store directory" });
  acceptance = Option.String("--acceptance", { description: "Acceptance index Parquet (from cis490 validate)" });
  out = Option.String("--out", { description: "Output directory (default: data/processed)" });
  tensors = Option.Boolean("--tensors", false, { description: "Also write 10 Hz tensor shards (.npz)" });
  window = Option.String("--window", { validator: isNumberAbove(0), description: "Window length in seconds (default 10)" });
  stride = Option.String("--stride", { validator: isNumberAbove(0), description: "Window stride in seconds (default 5)" });
  hz = Option.String("--hz", { validator: isNumberAbove(0), description: "Tensor grid rate (default 10)" });
  jobs = Option.String("--jobs", { validator: isJobCount, description: "Featurizer threads (default: available CPUs)" });
  shard = Option.String("--shard", { description: "i/n: featurise the i-th of n blocks (default 0/1)" });
  baseline = Option.String("--baseline", { validator: isOneOf(BASELINE_MODES), description: "Per-episode causal baseline: none (default), append (extra *_d/*_r statistics), relative (location statistics and tensors relative to the baseline)" });
  baselineS = Option.String("--baseline-s", { validator: isNumberAbove(0), description: "Seconds at the start of each episode that form its baseline (default 10)" });
  missingIndicators = Option.Boolean("--missing-indicators", false, { description: "Add a 0/1 `missing` statistic per channel (and `base_missing` with a baseline)" });
  engine = Option.String("--engine", { validator: isOneOf(BACKENDS), description: "native (default) or reference" });
  merge = Option.Boolean("--merge", false, { description: "Only merge finished shards in --out" });
  force = Option.Boolean("--force", false, { description: "Recompute a finished shard; with --merge, break a merge lock" });

  protected async run(reporter: Reporter): Promise<FeaturesOutcome> {
    const out = resolve(this.out ?? "data/processed");
    if (this.merge) {
      let outcome: MergeOutcome;
      try {
        outcome = await mergeShards(out, { force: this.force });
      } catch (error) {
        throw new CliError(`merge failed: ${(error as Error).message}`, { cause: error });
      }
      return { kind: "merge", out, outcome, doc: { out, merge: mergeJson(outcome) } };
    }

    if (this.store === undefined) throw new UsageError("--store is required (or --merge)");
    if (this.acceptance === undefined) throw new UsageError("--acceptance is required (or --merge)");
    const options: FeatureOptions = {
      window_s: this.window ?? DEFAULT_FEATURE_OPTIONS.window_s,
      stride_s: this.stride ?? DEFAULT_FEATURE_OPTIONS.stride_s,
      hz: this.hz ?? DEFAULT_FEATURE_OPTIONS.hz,
      tensors: this.tensors,
      ...schemaOptions(this.baseline ?? "none", this.baselineS, this.missingIndicators),
    };
    if (this.baselineS !== undefined && (this.baseline ?? "none") === "none") throw new UsageError("--baseline-s needs --baseline append|relative");
    if (Math.round(options.window_s * options.hz) < 1) throw new UsageError("--window x --hz must give at least one tensor grid point");
    const jobs = jobsOrDefault(this.jobs);
    let shard: ShardSpec;
    try {
      shard = this.shard === undefined ? WHOLE : parseShard(this.shard);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const engine = this.engine ?? "native";

    const store = resolve(this.store);
    const acceptance = resolve(this.acceptance);
    await assertStoreDir(store);
    await access(acceptance).catch(() => {
      throw new CliError(`acceptance index not found: ${acceptance} (run \`cis490 validate\` first)`);
    });
    const featurizer = await loadFeaturizerChecked(engine);

    let progress: Progress | null = null;
    let result: FeaturesRunResult;
    try {
      result = await runFeatures({
        store,
        acceptance,
        out,
        featurizer,
        options,
        jobs,
        shard,
        force: this.force,
        onStart: (total) => (progress = reporter.progress(`features ${shard.index}/${shard.count}`, total)),
        onProgress: (n) => progress?.tick(n),
      });
    } catch (error) {
      throw error instanceof CliError ? error : new CliError((error as Error).message, { cause: error });
    } finally {
      (progress as Progress | null)?.finish();
    }
    return { kind: "run", result, doc: summaryJson(result, { store, acceptance, out, engine, jobs, options }) };
  }

  protected toJson(r: FeaturesOutcome): unknown {
    return r.doc;
  }

  protected exitCodeOf(r: FeaturesOutcome): number {
    if (r.kind === "run") return EXIT_OK;
    return r.outcome.status === "merged" || r.outcome.status === "already-merged" ? EXIT_OK : EXIT_FAILURE;
  }

  protected render(r: FeaturesOutcome): string {
    return r.kind === "merge" ? renderMerge(r.outcome, r.out) + "\n" : renderSummary(r.result, r.doc);
  }
}
