// Reading tensor shards back (for the trainer): tensors/index.json says which
// files exist, with their host and sizes, so a consumer streams them one at a
// time without listing directories and never holds more than one shard.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeNpz } from "../io/npz.js";
import { TENSOR_INDEX_FILE, TENSORS_DIR, type TensorFileEntry, type TensorIndex } from "./tensor-shards.js";

export interface TensorShard {
  entry: TensorFileEntry;
  n: number;
  channels: number;
  tensorLen: number;
  /** [n, channels, tensorLen] row-major. */
  x: Float32Array;
  /** Same layout as x; 1 where the value came from real data. */
  mask: Uint8Array;
  /** Phase code per window. */
  y: Int8Array;
  window: Int32Array;
  t_center_s: Float64Array;
  episode_id: string[];
}

/** `dir` is the features output directory (the one holding tensors/). */
export async function readTensorIndex(dir: string): Promise<TensorIndex> {
  const doc = JSON.parse(await readFile(join(dir, TENSORS_DIR, TENSOR_INDEX_FILE), "utf8")) as TensorIndex;
  if (doc.version !== 1 || !Array.isArray(doc.files)) throw new Error(`unsupported tensor index in ${dir}`);
  return doc;
}

export async function readTensorShard(path: string, entry?: TensorFileEntry): Promise<TensorShard> {
  const arrays = decodeNpz(new Uint8Array(await readFile(path)));
  for (const name of ["x", "mask", "y", "window", "t_center_s", "episode_id"]) {
    if (!arrays[name]) throw new Error(`${path}: no ${name}.npy`);
  }
  const [n, channels, tensorLen] = arrays.x.shape;
  if (arrays.x.shape.length !== 3 || arrays.mask.shape.join() !== arrays.x.shape.join() || arrays.y.shape[0] !== n) {
    throw new Error(`${path}: inconsistent shapes`);
  }
  return {
    entry: entry ?? { path, host: "", n_windows: n, episodes: new Set(arrays.episode_id.data as string[]).size, shape: [n, channels, tensorLen], bytes: 0 },
    n,
    channels,
    tensorLen,
    x: arrays.x.data as Float32Array,
    mask: arrays.mask.data as Uint8Array,
    y: arrays.y.data as Int8Array,
    window: arrays.window.data as Int32Array,
    t_center_s: arrays.t_center_s.data as Float64Array,
    episode_id: arrays.episode_id.data as string[],
  };
}

export interface StreamShardsOptions {
  /** Only these hosts (e.g. the train side of a host split). */
  hosts?: Iterable<string>;
  /** Refuse shards made under another feature schema. */
  expectSchemaHash?: string;
}

/** Yields shards in index order (shard, then host, then chunk), one in memory at a time. */
export async function* streamTensorShards(dir: string, options: StreamShardsOptions = {}): AsyncGenerator<TensorShard> {
  const index = await readTensorIndex(dir);
  if (options.expectSchemaHash !== undefined && index.feature_schema_hash !== options.expectSchemaHash) {
    throw new Error(`tensor shards in ${dir} were made under feature schema ${index.feature_schema_hash}, expected ${options.expectSchemaHash}`);
  }
  const hosts = options.hosts === undefined ? null : new Set(options.hosts);
  for (const entry of index.files) {
    if (hosts && !hosts.has(entry.host)) continue;
    yield await readTensorShard(join(dir, TENSORS_DIR, entry.path), entry);
  }
}
