// Reading tensor shards back (for the trainer): tensors/index.json says which
// files exist, with their host and sizes, so a consumer streams them one at a
// time without listing directories and never holds more than one shard.

import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeNpy, decodeNpz, npyView, npzMembers } from "../io/npz.js";
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

/**
 * A shard whose big arrays (x, mask) stay as raw little-endian bytes inside
 * the file buffer (views, possibly unaligned): a consumer copies the rows it
 * wants straight out of them, with no decoded copy of the whole shard.
 */
export type RawTensorShard = Omit<TensorShard, "x" | "mask"> & { xBytes: Uint8Array; maskBytes: Uint8Array };

/** One growable buffer that shard files are read into, again and again (no garbage per file). */
export class ShardReadBuffer {
  private buf = new Uint8Array(0);

  async read(path: string): Promise<Uint8Array> {
    const fh = await open(path, "r");
    try {
      const size = (await fh.stat()).size;
      if (this.buf.length < size) this.buf = new Uint8Array(Math.ceil(size * 1.25));
      let at = 0;
      while (at < size) {
        const { bytesRead } = await fh.read(this.buf, at, size - at, at);
        if (bytesRead === 0) throw new Error(`${path}: file shrank while reading`);
        at += bytesRead;
      }
      return this.buf.subarray(0, size);
    } finally {
      await fh.close();
    }
  }
}

/** Reads a shard into `buffer` (valid until its next read), decoding only the small arrays. */
export async function readTensorShardRaw(path: string, entry: TensorFileEntry, buffer: ShardReadBuffer): Promise<RawTensorShard> {
  const members = npzMembers(await buffer.read(path));
  for (const name of ["x", "mask", "y", "window", "t_center_s", "episode_id"]) {
    if (!members[name]) throw new Error(`${path}: no ${name}.npy`);
  }
  const x = npyView(members.x);
  const mask = npyView(members.mask);
  const y = decodeNpy(members.y);
  const [n, channels, tensorLen] = x.shape;
  if (x.dtype !== "<f4" || (mask.dtype !== "|b1" && mask.dtype !== "|u1")) throw new Error(`${path}: x must be <f4 and mask bool (got ${x.dtype}, ${mask.dtype})`);
  if (x.shape.length !== 3 || mask.shape.join() !== x.shape.join() || y.shape[0] !== n) throw new Error(`${path}: inconsistent shapes`);
  return {
    entry,
    n,
    channels,
    tensorLen,
    xBytes: x.body,
    maskBytes: mask.body,
    y: y.data as Int8Array,
    window: decodeNpy(members.window).data as Int32Array,
    t_center_s: decodeNpy(members.t_center_s).data as Float64Array,
    episode_id: decodeNpy(members.episode_id).data as string[],
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
