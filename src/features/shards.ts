// Sharded runs (`--shard i/n`, e.g. a Slurm array or a Kubernetes indexed
// Job): each shard writes its own part file and tensor files, then a
// completion marker, last. Whoever finds all n markers present (same
// parameters) merges: the parts are streamed, in shard order, into
// features_window.parquet, tensors/index.json lists every tensor file, and
// shards/complete.json records that the output is whole. A lock file keeps
// two finishing shards from merging at once; a rerun skips shards whose
// marker matches its parameters.

import { mkdir, readFile, readdir, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { moveFileDurable, removeStaleTemps, TEMP_MARK, writeFileAtomic } from "../io/atomic.js";
import { canonicalHash } from "../io/canonical-json.js";
import { describeOwner, tryLock } from "../io/lock.js";
import { ParquetStreamWriter, readParquetWasmBatches } from "../io/parquet.js";
import type { ShardSpec } from "./plan.js";
import { FEATURE_SCHEMA_FILE, writeFeatureSchema, type FeatureSchema } from "./schema.js";
import { mergeCounts, type FeaturesCounts } from "./summary.js";
import { TENSOR_INDEX_FILE, TENSORS_DIR, tensorFileName, type TensorFileEntry, type TensorIndex } from "./tensor-shards.js";
import { DICTIONARY_COLUMNS, windowSchema } from "./window-table.js";

export const FEATURES_FILE = "features_window.parquet";
export const SHARDS_DIR = "shards";
export const COMPLETE_FILE = "complete.json";
const LOCK_FILE = "merge.lock";
/** Parquet footer key holding the feature schema hash (consumers check it against feature_schema.json). */
export const SCHEMA_HASH_KEY = "cis490.feature_schema_hash";
const FORMAT = 1;

/** Everything that changes the output: reruns reuse a shard only when this is equal. */
export interface RunParams {
  format: number;
  feature_schema_hash: string;
  /** sha256 of the acceptance index file's bytes. */
  acceptance_sha256: string;
  store: string;
  tensors: boolean;
  shard_count: number;
}

export function paramsHash(params: RunParams): string {
  return canonicalHash(params);
}

export function partFileName(shard: ShardSpec): string {
  return `features_window.part-${shard.index}-of-${shard.count}.parquet`;
}

export function markerPath(out: string, shard: ShardSpec): string {
  return join(out, SHARDS_DIR, `part-${shard.index}-of-${shard.count}.json`);
}

export interface ShardMarker {
  format: number;
  shard: ShardSpec;
  params_hash: string;
  params: RunParams;
  schema: FeatureSchema;
  part: string;
  rows: number;
  counts: FeaturesCounts;
  tensor_files: TensorFileEntry[];
  seconds: number;
  finished_at: string;
}

export interface CompleteRecord {
  format: number;
  params_hash: string;
  shard_count: number;
  rows: number;
  feature_schema_hash: string;
  counts: FeaturesCounts;
  finished_at: string;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null; // missing or torn: treated as absent
  }
}

const exists = async (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

export async function readMarker(out: string, shard: ShardSpec): Promise<ShardMarker | null> {
  return readJson<ShardMarker>(markerPath(out, shard));
}

export async function readComplete(out: string): Promise<CompleteRecord | null> {
  return readJson<CompleteRecord>(join(out, SHARDS_DIR, COMPLETE_FILE));
}

/** The shard's finished marker when it is valid for `hash` (its part file still there, or already merged). */
export async function finishedShard(out: string, shard: ShardSpec, hash: string): Promise<ShardMarker | null> {
  const marker = await readMarker(out, shard);
  if (!marker || marker.params_hash !== hash) return null;
  if (await exists(join(out, marker.part))) return marker;
  const complete = await readComplete(out);
  if (complete && complete.params_hash === hash && (await exists(join(out, FEATURES_FILE)))) return marker;
  return null;
}

export async function writeMarker(out: string, marker: ShardMarker): Promise<void> {
  await mkdir(join(out, SHARDS_DIR), { recursive: true });
  await writeFileAtomic(markerPath(out, marker.shard), JSON.stringify(marker, null, 2) + "\n");
}

/**
 * Before a shard (re)computes: the published index and completion record no
 * longer describe what is about to be written, so they go first; leftover
 * temporary files of an interrupted run go too.
 */
export async function prepareShardRun(out: string, hash: string, shard: ShardSpec): Promise<void> {
  const complete = await readComplete(out);
  if (complete && complete.params_hash !== hash) {
    await rm(join(out, SHARDS_DIR, COMPLETE_FILE), { force: true });
    await rm(join(out, TENSORS_DIR, TENSOR_INDEX_FILE), { force: true });
  }
  await rm(markerPath(out, shard), { force: true });
  await removeStaleTemps(join(out, partFileName(shard)));
  await removeTensorTemps(out, shard);
}

/** Temporary tensor files this shard left behind when it was interrupted. */
async function removeTensorTemps(out: string, shard: ShardSpec): Promise<void> {
  const root = join(out, TENSORS_DIR);
  let dirs: string[];
  try {
    dirs = await readdir(root);
  } catch {
    return;
  }
  const prefix = `.${tensorFileName(shard.index, 0).slice(0, "part-00000-".length)}`;
  for (const dir of dirs) {
    if (!dir.startsWith("host=")) continue;
    const names = await readdir(join(root, dir)).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(prefix) && name.includes(TEMP_MARK)) await rm(join(root, dir, name), { force: true });
  }
}

export type MergeOutcome =
  | { status: "merged"; record: CompleteRecord; parts: number }
  | { status: "already-merged"; record: CompleteRecord }
  | { status: "waiting"; have: number; need: number }
  | { status: "locked"; holder: string };

/** Markers in `out/shards` grouped by (params hash, n); the newest complete group. */
async function completeGroup(out: string, wantHash?: string): Promise<{ markers: ShardMarker[]; have: number; need: number } | null> {
  let names: string[];
  try {
    names = await readdir(join(out, SHARDS_DIR));
  } catch {
    return null;
  }
  const groups = new Map<string, ShardMarker[]>();
  for (const name of names) {
    if (!/^part-\d+-of-\d+\.json$/.test(name)) continue;
    const m = await readJson<ShardMarker>(join(out, SHARDS_DIR, name));
    if (!m || m.format !== FORMAT || (wantHash !== undefined && m.params_hash !== wantHash)) continue;
    const key = `${m.params_hash}/${m.shard.count}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  let best: { markers: ShardMarker[]; have: number; need: number } | null = null;
  for (const markers of groups.values()) {
    const need = markers[0].shard.count;
    const distinct = new Map(markers.map((m) => [m.shard.index, m]));
    const sorted = [...distinct.values()].sort((a, b) => a.shard.index - b.shard.index);
    const cand = { markers: sorted, have: sorted.length, need };
    const newest = (g: typeof cand): string => g.markers.map((m) => m.finished_at).sort().at(-1) ?? "";
    const complete = (g: typeof cand): boolean => g.have === g.need;
    if (
      best === null ||
      (complete(cand) && !complete(best)) ||
      (complete(cand) === complete(best) && newest(cand) > newest(best))
    ) {
      best = cand;
    }
  }
  return best;
}

/**
 * Merges when every shard of the run is finished. `hash` restricts to one
 * run's parameters (a finishing shard); without it (`--merge`), the newest
 * complete run in `out` is merged.
 */
export async function mergeShards(out: string, options: { hash?: string; force?: boolean; rowGroupRows?: number } = {}): Promise<MergeOutcome> {
  const group = await completeGroup(out, options.hash);
  if (!group) return { status: "waiting", have: 0, need: 0 };
  const complete = await readComplete(out);
  const hash = group.markers[0].params_hash;
  if (complete && complete.params_hash === hash && complete.shard_count === group.need && (await exists(join(out, FEATURES_FILE)))) {
    return { status: "already-merged", record: complete };
  }
  if (group.have < group.need) return { status: "waiting", have: group.have, need: group.need };

  // A lock left by a dead process on this host is taken over; --force breaks any.
  const taken = await tryLock(join(out, SHARDS_DIR, LOCK_FILE), { purpose: "features merge", force: options.force ?? false });
  if (!taken.ok) return { status: "locked", holder: taken.holder ? describeOwner(taken.holder) : taken.message };
  try {
    // Only the lock holder writes the merged file, so its leftovers are safe to remove here.
    await removeStaleTemps(join(out, FEATURES_FILE));
    // Checked again under the lock: another process may have merged meanwhile.
    const now = await readComplete(out);
    if (now && now.params_hash === hash && now.shard_count === group.need && (await exists(join(out, FEATURES_FILE)))) {
      return { status: "already-merged", record: now };
    }
    for (const m of group.markers) {
      if (!(await exists(join(out, m.part)))) return { status: "waiting", have: group.have - 1, need: group.need };
    }
    const schema = group.markers[0].schema;
    await writeFeatureSchema(join(out, FEATURE_SCHEMA_FILE), schema);

    let rows: number;
    if (group.markers.length === 1) {
      // One part (an unsharded run): it already is the whole file.
      await moveFileDurable(join(out, group.markers[0].part), join(out, FEATURES_FILE));
      rows = group.markers[0].rows;
    } else {
      rows = await concatenateParts(out, group.markers, schema, options.rowGroupRows);
    }

    const files = group.markers.flatMap((m) => m.tensor_files);
    const counts = mergeCounts(group.markers.map((m) => m.counts));
    if (group.markers[0].params.tensors) {
      const index: TensorIndex = {
        version: 1,
        feature_schema_hash: schema.hash,
        channels: schema.channels.length,
        tensor_len: schema.tensor_len,
        n_windows: files.reduce((a, f) => a + f.n_windows, 0),
        episodes: files.reduce((a, f) => a + f.episodes, 0),
        files,
      };
      await mkdir(join(out, TENSORS_DIR), { recursive: true });
      await writeFileAtomic(join(out, TENSORS_DIR, TENSOR_INDEX_FILE), JSON.stringify(index, null, 1) + "\n");
    }
    const record: CompleteRecord = {
      format: FORMAT,
      params_hash: hash,
      shard_count: group.need,
      rows,
      feature_schema_hash: schema.hash,
      counts,
      finished_at: new Date().toISOString(),
    };
    await writeFileAtomic(join(out, SHARDS_DIR, COMPLETE_FILE), JSON.stringify(record, null, 2) + "\n");

    // The parts are now duplicates of the merged file; tensor files that the
    // index does not list belong to older runs.
    for (const m of group.markers) await rm(join(out, m.part), { force: true });
    await removeUnlistedTensorFiles(out, new Set(group.markers[0].params.tensors ? files.map((f) => f.path) : []));
    return { status: "merged", record, parts: group.markers.length };
  } finally {
    await taken.lock.release();
  }
}

/**
 * Streams the parts, in shard order, into features_window.parquet. The parts
 * are contiguous blocks of the sorted episode list, so their concatenation is
 * the sorted whole.
 */
async function concatenateParts(out: string, markers: ShardMarker[], schema: FeatureSchema, rowGroupRows?: number): Promise<number> {
  const writer = await ParquetStreamWriter.open(join(out, FEATURES_FILE), windowSchema(schema.features), {
    rowGroupRows,
    metadata: { [SCHEMA_HASH_KEY]: schema.hash },
    dictionaryColumns: DICTIONARY_COLUMNS,
  });
  try {
    for (const m of markers) {
      for await (const batch of readParquetWasmBatches(join(out, m.part), { batchSize: rowGroupRows })) {
        const n = batch.numRows;
        await writer.writeWasmBatch(batch);
        writer.countRows(n);
      }
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return writer.rowsWritten;
}

async function removeUnlistedTensorFiles(out: string, keep: Set<string>): Promise<void> {
  const root = join(out, TENSORS_DIR);
  let hosts: string[];
  try {
    hosts = await readdir(root);
  } catch {
    return;
  }
  for (const dir of hosts) {
    if (!dir.startsWith("host=")) continue;
    let names: string[];
    try {
      names = await readdir(join(root, dir));
    } catch {
      continue;
    }
    let left = names.length;
    for (const name of names) {
      if (!/^part-\d+-\d+\.npz$/.test(name) || keep.has(`${dir}/${name}`)) continue;
      await rm(join(root, dir, name), { force: true });
      left--;
    }
    if (left === 0) await rmdir(join(root, dir)).catch(() => undefined);
  }
}
