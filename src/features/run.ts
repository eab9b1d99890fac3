// The features sweep for one shard (the whole corpus is shard 0/1): plan from
// the acceptance index, featurise in batches (two in flight, like the
// validation sweep), stream the windows into the shard's Parquet part, flush
// tensor chunks per host, write the completion marker last, then merge if
// every shard is done. Memory is bounded by the batch size and the tensor
// buffer budget, never by the corpus size.

import { sha256OfFile } from "../io/hash.js";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DEFAULT_INSPECT_OPTIONS, type InspectOptions } from "../episode/report.js";
import { CHANNELS, FEATURE_NAMES, STATS } from "./channels.js";
import { ParquetStreamWriter } from "../io/parquet.js";
import { planFeatures, shardSlice, type PlannedEpisode, type ShardSpec } from "./plan.js";
import { buildFeatureSchema, type FeatureSchema } from "./schema.js";
import {
  finishedShard,
  mergeShards,
  paramsHash,
  partFileName,
  prepareShardRun,
  SCHEMA_HASH_KEY,
  writeMarker,
  type MergeOutcome,
  type RunParams,
  type ShardMarker,
} from "./shards.js";
import { addEpisode, addSkip, emptyCounts, skipReason, type FeaturesCounts } from "./summary.js";
import { TENSORS_DIR, TensorShardWriter } from "./tensor-shards.js";
import type { EpisodeWindows, FeatureOptions, Featurizer } from "./types.js";
import { DICTIONARY_COLUMNS, windowSchema, windowTable } from "./window-table.js";

export interface FeaturesRunOptions {
  store: string;
  acceptance: string;
  out: string;
  featurizer: Featurizer;
  options: FeatureOptions;
  jobs: number;
  shard: ShardSpec;
  /** Recompute even when the shard's marker says it is done. */
  force?: boolean;
  inspect?: InspectOptions;
  /** Episodes per featurizeFiles call (default 128). */
  batchSize?: number;
  rowGroupRows?: number;
  tensorChunkEpisodes?: number;
  tensorBufferBytes?: number;
  /** Called once with the shard's episode count, then after each batch. */
  onStart?: (total: number) => void;
  onProgress?: (done: number) => void;
}

export interface FeaturesRunResult {
  shard: ShardSpec;
  /** True when a valid marker was found and nothing was recomputed. */
  reused: boolean;
  params_hash: string;
  schema: FeatureSchema;
  /** This shard's counts (from its marker when reused). */
  counts: FeaturesCounts;
  /** Usable rows dropped before featurising, over the whole index (not only this shard). */
  plan_skipped: number;
  acceptance_classes: Record<string, number>;
  rows: number;
  tensor_files: number;
  seconds: number;
  merge: MergeOutcome;
}

export function currentSchema(options: FeatureOptions): FeatureSchema {
  const stats = options.stats ?? STATS;
  const schema = buildFeatureSchema({
    channels: [...CHANNELS],
    stats,
    window_s: options.window_s,
    stride_s: options.stride_s,
    hz: options.hz,
    baseline_s: options.baseline_s,
    tensor_baseline: options.tensor_baseline,
  });
  if (stats === STATS && schema.features.join("\n") !== FEATURE_NAMES.join("\n")) throw new Error("feature names differ from the channel registry's");
  return schema;
}

export async function runFeatures(o: FeaturesRunOptions): Promise<FeaturesRunResult> {
  const started = Date.now();
  const out = resolve(o.out);
  const store = resolve(o.store);
  const schema = currentSchema(o.options);
  const params: RunParams = {
    format: 1,
    feature_schema_hash: schema.hash,
    acceptance_sha256: await sha256OfFile(o.acceptance),
    store,
    tensors: o.options.tensors,
    shard_count: o.shard.count,
  };
  const hash = paramsHash(params);
  const plan = await planFeatures(store, o.acceptance);
  const mine = shardSlice(plan.episodes, o.shard);
  await mkdir(out, { recursive: true });

  const done = o.force ? null : await finishedShard(out, o.shard, hash);
  if (done) {
    const merge = await mergeShards(out, { hash, rowGroupRows: o.rowGroupRows });
    return {
      shard: o.shard,
      reused: true,
      params_hash: hash,
      schema,
      counts: done.counts,
      plan_skipped: plan.skipped.length,
      acceptance_classes: plan.classes,
      rows: done.rows,
      tensor_files: done.tensor_files.length,
      seconds: (Date.now() - started) / 1000,
      merge,
    };
  }

  await prepareShardRun(out, hash, o.shard);
  o.onStart?.(mine.length);
  const counts = emptyCounts();
  counts.episodes_planned = mine.length;
  // Plan-level skips (duplicates, unsafe paths) are reported by shard 0 only, so merged counts hold them once.
  if (o.shard.index === 0) for (const s of plan.skipped) addSkip(counts, s);

  const part = partFileName(o.shard);
  const writer = await ParquetStreamWriter.open(join(out, part), windowSchema(schema.features), {
    rowGroupRows: o.rowGroupRows,
    metadata: { [SCHEMA_HASH_KEY]: schema.hash },
    dictionaryColumns: DICTIONARY_COLUMNS,
  });
  const tensors = o.options.tensors
    ? new TensorShardWriter(join(out, TENSORS_DIR), o.shard.index, schema.channels.length, schema.tensor_len, o.options.window_s, o.tensorChunkEpisodes, o.tensorBufferBytes)
    : null;
  try {
    for await (const batch of featurizeBatches(mine, o)) {
      const used = [];
      for (const { episode, result } of batch) {
        const skip = result.n_windows === 0 ? skipReason(result) : null;
        if (skip) {
          addSkip(counts, { episode_id: episode.episode_id, host_id: episode.host_id, ...skip });
          continue;
        }
        addEpisode(counts, episode.host_id, episode.acceptance_class === "degraded", result);
        used.push({ identity: episode, result });
        if (tensors) {
          if (!result.x || !result.mask) throw new Error(`${episode.episode_id}: the featurizer returned no tensors`);
          await tensors.add({ episode_id: episode.episode_id, host_id: episode.host_id, n_windows: result.n_windows, phase: result.phase, t_start_s: result.t_start_s, x: result.x, mask: result.mask });
        }
      }
      await writer.write(windowTable(used, schema.features, o.options.window_s));
      o.onProgress?.(batch.length);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const files = tensors ? await tensors.finish() : [];
  const seconds = (Date.now() - started) / 1000;
  const marker: ShardMarker = {
    format: 1,
    shard: o.shard,
    params_hash: hash,
    params,
    schema,
    part,
    rows: writer.rowsWritten,
    counts,
    tensor_files: files,
    seconds,
    finished_at: new Date().toISOString(),
  };
  await writeMarker(out, marker);
  const merge = await mergeShards(out, { hash, rowGroupRows: o.rowGroupRows });
  return {
    shard: o.shard,
    reused: false,
    params_hash: hash,
    schema,
    counts,
    plan_skipped: plan.skipped.length,
    acceptance_classes: plan.classes,
    rows: writer.rowsWritten,
    tensor_files: files.length,
    seconds: (Date.now() - started) / 1000,
    merge,
  };
}

interface BatchItem {
  episode: PlannedEpisode;
  result: EpisodeWindows;
}

/** Yields featurised batches in order, keeping at most two featurizeFiles calls in flight. */
async function* featurizeBatches(episodes: PlannedEpisode[], o: FeaturesRunOptions): AsyncGenerator<BatchItem[]> {
  const size = o.batchSize ?? 128;
  const inspect = o.inspect ?? DEFAULT_INSPECT_OPTIONS;
  const start = (from: number): Promise<EpisodeWindows[]> | null => {
    if (from >= episodes.length) return null;
    const paths = episodes.slice(from, from + size).map((e) => e.abs);
    const pending = o.featurizer.featurizeFiles(paths, o.options, inspect, o.jobs);
    pending.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    return pending;
  };
  let next = start(0);
  for (let from = 0; from < episodes.length; from += size) {
    const current = next as Promise<EpisodeWindows[]>;
    next = start(from + size);
    const results = await current;
    const batch = episodes.slice(from, from + size);
    if (results.length !== batch.length) throw new Error(`featurizer returned ${results.length} results for ${batch.length} episodes`);
    yield batch.map((episode, k) => ({ episode, result: results[k] }));
  }
}
