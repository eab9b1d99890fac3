// `cis490 features`: acceptance index -> features_window.parquet,
// feature_schema.json and (with --tensors) tensor shards. The sweep lives in
// src/features/run.ts; this file parses options, reports, and picks the exit code.

import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, parseJobs, storeDirProblem, writeLine } from "../../io/command-support.js";
import { ProgressBar, type ProgressStream } from "../progress.js";
import { formatTable } from "../text-table.js";
import { loadFeaturizer, type BackendName } from "../../native/backend.js";
import { parseShard, WHOLE, type ShardSpec } from "../../features/plan.js";
import { runFeatures, type FeaturesRunResult } from "../../features/run.js";
import { FEATURE_SCHEMA_FILE } from "../../features/schema.js";
import { FEATURES_FILE, mergeShards, type MergeOutcome } from "../../features/shards.js";
import type { FeaturesCounts } from "../../features/summary.js";
import { DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from "../../features/types.js";

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new OptionError(`${flag} must be a positive number (got ${JSON.stringify(value)})`);
  return n;
}

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export class FeaturesCommand extends Command {
  static paths = [["features"]];

  static usage = Command.Usage({
    description: "Summary-window features (Parquet) and tensor shards from the accepted and degraded episodes.",
    details: `
      Reads the acceptance index written by \`cis490 validate\` and featurises every \`accepted\` and \`degraded\` episode (a degraded episode's missing sources come out as NaN features and mask 0, never zeros), in episode_id order, following docs/features.md.

      Writes into \`--out\` (default \`data/processed\`): \`features_window.parquet\` (one row per window, streamed into one file whatever the corpus size), \`feature_schema.json\` (channels, statistics, window parameters and the sha256 that checkpoints pin), and with \`--tensors\` \`tensors/host=<host>/part-<shard>-<chunk>.npz\` (numpy-loadable: x, mask, y, window, t_center_s, episode_id; at most ~256 whole episodes of one host per file) plus \`tensors/index.json\` listing them. Every file appears atomically.

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
  window = Option.String("--window", { description: "Window length in seconds (default 10)" });
  stride = Option.String("--stride", { description: "Window stride in seconds (default 5)" });
  hz = Option.String("--hz", { description: "Tensor grid rate (default 10)" });
  jobs = Option.String("--jobs", { description: "Featurizer threads (default: available CPUs)" });
  shard = Option.String("--shard", { description: "i/n: featurise the i-th of n blocks (default 0/1)" });
  engine = Option.String("--engine", { description: "native (default) or reference" });
  merge = Option.Boolean("--merge", false, { description: "Only merge finished shards in --out" });
  force = Option.Boolean("--force", false, { description: "Recompute a finished shard; with --merge, break a merge lock" });
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const fail = (code: number, message: string): number => {
      writeLine(stderr, `cis490 features: ${message}`);
      return code;
    };
    const out = resolve(this.out ?? "data/processed");

    if (this.merge) {
      let outcome: MergeOutcome;
      try {
        outcome = await mergeShards(out, { force: this.force });
      } catch (error) {
        return fail(EXIT_FAILURE, `merge failed: ${(error as Error).message}`);
      }
      if (this.json) stdout.write(JSON.stringify({ out, merge: mergeJson(outcome) }) + "\n");
      else stdout.write(renderMerge(outcome, out) + "\n");
      return outcome.status === "merged" || outcome.status === "already-merged" ? EXIT_OK : EXIT_FAILURE;
    }

    let options: FeatureOptions;
    let jobs: number;
    let shard: ShardSpec;
    let engineName: BackendName;
    try {
      if (this.store === undefined) throw new OptionError("--store is required (or --merge)");
      if (this.acceptance === undefined) throw new OptionError("--acceptance is required (or --merge)");
      options = {
        window_s: positive("--window", this.window, DEFAULT_FEATURE_OPTIONS.window_s),
        stride_s: positive("--stride", this.stride, DEFAULT_FEATURE_OPTIONS.stride_s),
        hz: positive("--hz", this.hz, DEFAULT_FEATURE_OPTIONS.hz),
        tensors: this.tensors,
      };
      if (Math.round(options.window_s * options.hz) < 1) throw new OptionError("--window x --hz must give at least one tensor grid point");
      jobs = parseJobs(this.jobs);
      try {
        shard = this.shard === undefined ? WHOLE : parseShard(this.shard);
      } catch (error) {
        throw new OptionError((error as Error).message);
      }
      const name = this.engine ?? "native";
      if (name !== "native" && name !== "reference") throw new OptionError(`--engine must be "native" or "reference" (got ${JSON.stringify(name)})`);
      engineName = name;
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      return fail(EXIT_USAGE, error.message);
    }

    const store = resolve(this.store);
    const acceptance = resolve(this.acceptance);
    const problem = await storeDirProblem(store);
    if (problem) return fail(EXIT_FAILURE, problem);
    try {
      await access(acceptance);
    } catch {
      return fail(EXIT_FAILURE, `acceptance index not found: ${acceptance} (run \`cis490 validate\` first)`);
    }
    let featurizer;
    try {
      featurizer = await loadFeaturizer(engineName);
    } catch (error) {
      const hint = engineName === "native" ? " (build the addon with `make build`, or pass --engine reference)" : "";
      return fail(EXIT_FAILURE, `cannot load the ${engineName} featurizer${hint}: ${(error as Error).message}`);
    }

    let progress: ProgressBar | null = null;
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
        onStart: (total) => {
          progress = new ProgressBar(stderr as unknown as ProgressStream, total, `features ${shard.index}/${shard.count}`);
        },
        onProgress: (n) => progress?.tick(n),
      });
    } catch (error) {
      return fail(EXIT_FAILURE, (error as Error).message);
    } finally {
      (progress as ProgressBar | null)?.finish();
    }

    const doc = summaryJson(result, { store, acceptance, out, engine: engineName, jobs, options });
    if (this.json) stdout.write(JSON.stringify(doc) + "\n");
    else stdout.write(renderSummary(result, doc));
    return EXIT_OK;
  }
}

function mergeJson(m: MergeOutcome): Record<string, unknown> {
  switch (m.status) {
    case "merged":
      return { status: m.status, parts: m.parts, rows: m.record.rows, feature_schema_hash: m.record.feature_schema_hash };
    case "already-merged":
      return { status: m.status, rows: m.record.rows, feature_schema_hash: m.record.feature_schema_hash };
    case "waiting":
      return { status: m.status, shards_finished: m.have, shards: m.need };
    case "locked":
      return { status: m.status, holder: m.holder };
  }
}

function renderMerge(m: MergeOutcome, out: string): string {
  switch (m.status) {
    case "merged":
      return m.parts === 1
        ? `Wrote ${join(out, FEATURES_FILE)} (${m.record.rows} windows).`
        : `Merged ${m.parts} shard parts into ${join(out, FEATURES_FILE)} (${m.record.rows} windows).`;
    case "already-merged":
      return `${join(out, FEATURES_FILE)} is up to date (${m.record.rows} windows).`;
    case "waiting":
      return m.need === 0 ? `No finished shards in ${out}.` : `Waiting for shards: ${m.have} of ${m.need} finished; nothing merged.`;
    case "locked":
      return `Another process is merging (${m.holder}); pass --force to break the lock if it died.`;
  }
}

interface RunContext {
  store: string;
  acceptance: string;
  out: string;
  engine: string;
  jobs: number;
  options: FeatureOptions;
}

function countsJson(c: FeaturesCounts): Record<string, unknown> {
  return {
    episodes_planned: c.episodes_planned,
    episodes_used: c.episodes_used,
    episodes_degraded: c.episodes_degraded,
    episodes_skipped: c.skipped.length,
    windows: c.windows,
    phases: c.phases,
    hosts: c.hosts,
    skipped_reasons: c.skipped_reasons,
    skipped: c.skipped,
  };
}

function summaryJson(r: FeaturesRunResult, ctx: RunContext): Record<string, unknown> {
  const merged = r.merge.status === "merged" || r.merge.status === "already-merged" ? r.merge.record : null;
  return {
    store: ctx.store,
    acceptance: ctx.acceptance,
    out: ctx.out,
    engine: ctx.engine,
    jobs: ctx.jobs,
    options: ctx.options,
    shard: r.shard,
    reused: r.reused,
    params_hash: r.params_hash,
    feature_schema_hash: r.schema.hash,
    features: r.schema.features.length,
    acceptance_classes: r.acceptance_classes,
    ...countsJson(r.counts),
    rows: r.rows,
    tensor_files: r.tensor_files,
    seconds: r.seconds,
    episodes_per_s: r.reused || r.seconds <= 0 ? null : r.counts.episodes_planned / r.seconds,
    peak_rss_bytes: peakRssBytes(),
    merge: mergeJson(r.merge),
    files: merged
      ? {
          features: join(ctx.out, FEATURES_FILE),
          schema: join(ctx.out, FEATURE_SCHEMA_FILE),
          tensors_index: ctx.options.tensors ? join(ctx.out, "tensors", "index.json") : null,
        }
      : null,
    total: merged ? countsJson(merged.counts) : null,
  };
}

function renderSummary(r: FeaturesRunResult, doc: Record<string, unknown>): string {
  const out: string[] = [];
  const c = r.counts;
  const shard = r.shard.count > 1 ? ` (shard ${r.shard.index}/${r.shard.count})` : "";
  if (r.reused) {
    out.push(`Shard ${r.shard.index}/${r.shard.count} already finished with these parameters; nothing recomputed (--force to redo).\n`);
  } else {
    const rate = doc.episodes_per_s as number | null;
    out.push(
      `Featurised ${c.episodes_planned} episodes${shard} in ${r.seconds.toFixed(1)} s` +
        `${rate === null ? "" : ` (${rate.toFixed(1)} episodes/s)`}, peak RSS ${((doc.peak_rss_bytes as number) / 2 ** 20).toFixed(0)} MiB\n`,
    );
  }
  out.push(`  used ${c.episodes_used} (${c.episodes_degraded} degraded), skipped ${c.skipped.length}, windows ${c.windows}\n`);
  out.push("\nWindows per phase:\n");
  out.push(formatTable(["phase", "windows"], Object.entries(c.phases).filter(([p, n]) => p !== "unknown" || n > 0), ["left", "right"]));
  const hosts = Object.entries(c.hosts).sort(([a], [b]) => (a < b ? -1 : 1));
  if (hosts.length) {
    out.push("\nPer host:\n");
    out.push(formatTable(["host", "episodes", "windows"], hosts.map(([h, v]) => [h, v.episodes, v.windows]), ["left", "right", "right"]));
  }
  if (c.skipped.length) {
    out.push("\nSkipped episodes:\n");
    out.push(formatTable(["reason", "episodes"], Object.entries(c.skipped_reasons), ["left", "right"]));
    for (const s of c.skipped.slice(0, 10)) out.push(`  ${s.episode_id} (${s.host_id}): ${s.reason}${s.detail ? ` (${s.detail})` : ""}\n`);
    if (c.skipped.length > 10) out.push(`  ... and ${c.skipped.length - 10} more (see --json)\n`);
  }
  out.push(`\nFeature schema ${r.schema.hash.slice(0, 16)}… (${r.schema.features.length} features)\n`);
  out.push(renderMerge(r.merge, doc.out as string) + "\n");
  return out.join("");
}
