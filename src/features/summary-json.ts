// The --json documents of `cis490 features` (a run or a merge), built from
// the stage's result objects; the command prints them as they are.

import { join } from "node:path";
import type { MergeOutcome } from "./shards.js";
import { FEATURES_FILE } from "./shards.js";
import type { FeaturesRunResult } from "./run.js";
import { FEATURE_SCHEMA_FILE } from "./schema.js";
import type { FeaturesCounts } from "./summary.js";
import type { FeatureOptions } from "./types.js";

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export function mergeJson(m: MergeOutcome): Record<string, unknown> {
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

export interface RunContext {
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

export function summaryJson(r: FeaturesRunResult, ctx: RunContext): Record<string, unknown> {
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

