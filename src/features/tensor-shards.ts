// Tensor shards (docs/features.md): `tensors/host=<host_id>/part-<shard>-<chunk>.npz`,
// each holding whole episodes of one host (at most `chunkEpisodes` of them),
// with x float32 [n, 46, T], mask bool, y int8, window int32, t_center_s
// float64 and episode_id <U..>. Episodes are buffered per host and flushed
// when a host's chunk is full, or — so memory stays bounded however many
// hosts there are — when all buffers together pass a byte budget (the
// largest buffer goes first).

import { join } from "node:path";
import { writePiecesAtomic } from "../io/atomic.js";
import { encodeNpz, unicodeDtypeFor, type NpyArray, type NpyPieces } from "../io/npz.js";

export const TENSORS_DIR = "tensors";
export const TENSOR_INDEX_FILE = "index.json";
export const DEFAULT_CHUNK_EPISODES = 256;
export const DEFAULT_BUFFER_BYTES = 192 * 1024 * 1024;

/** One shard file, as listed in tensors/index.json (path relative to tensors/). */
export interface TensorFileEntry {
  path: string;
  host: string;
  n_windows: number;
  episodes: number;
  /** Shape of x: [n_windows, channels, tensor_len]. */
  shape: [number, number, number];
  bytes: number;
}

export interface TensorIndex {
  version: 1;
  feature_schema_hash: string;
  channels: number;
  tensor_len: number;
  n_windows: number;
  episodes: number;
  files: TensorFileEntry[];
}

/** Host ids become directory names: anything outside a conservative set is percent-encoded. */
export function hostDirName(host: string): string {
  const safe = host.replace(/[^A-Za-z0-9._-]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `host=${safe === "." || safe === ".." ? encodeURIComponent(safe).replace(/\./g, "%2e") : safe}`;
}

export function tensorFileName(shard: number, chunk: number): string {
  return `part-${String(shard).padStart(5, "0")}-${String(chunk).padStart(5, "0")}.npz`;
}

export interface TensorEpisode {
  episode_id: string;
  host_id: string;
  n_windows: number;
  phase: Int8Array;
  t_start_s: Float64Array;
  x: Float32Array;
  mask: Uint8Array;
}

interface HostBuffer {
  episodes: TensorEpisode[];
  windows: number;
  bytes: number;
  chunk: number;
}

export class TensorShardWriter {
  private readonly buffers = new Map<string, HostBuffer>();
  private buffered = 0;
  readonly files: TensorFileEntry[] = [];

  constructor(
    private readonly tensorsDir: string,
    private readonly shard: number,
    private readonly channels: number,
    private readonly tensorLen: number,
    private readonly window_s: number,
    private readonly chunkEpisodes = DEFAULT_CHUNK_EPISODES,
    private readonly bufferBytes = DEFAULT_BUFFER_BYTES,
  ) {}

  async add(ep: TensorEpisode): Promise<void> {
    if (ep.n_windows === 0) return;
    const per = this.channels * this.tensorLen;
    if (ep.x.length !== ep.n_windows * per || ep.mask.length !== ep.n_windows * per) {
      throw new Error(`${ep.episode_id}: tensor of ${ep.x.length} values for ${ep.n_windows} windows x ${this.channels} x ${this.tensorLen}`);
    }
    let buf = this.buffers.get(ep.host_id);
    if (!buf) {
      buf = { episodes: [], windows: 0, bytes: 0, chunk: 0 };
      this.buffers.set(ep.host_id, buf);
    }
    const bytes = ep.x.byteLength + ep.mask.byteLength;
    buf.episodes.push(ep);
    buf.windows += ep.n_windows;
    buf.bytes += bytes;
    this.buffered += bytes;
    if (buf.episodes.length >= this.chunkEpisodes) await this.flushHost(ep.host_id);
    while (this.buffered > this.bufferBytes) {
      let largest: string | null = null;
      for (const [host, b] of this.buffers) if (b.episodes.length > 0 && (largest === null || b.bytes > this.buffers.get(largest)!.bytes)) largest = host;
      if (largest === null) break;
      await this.flushHost(largest);
    }
  }

  /** Writes every non-empty buffer (end of the sweep). */
  async finish(): Promise<TensorFileEntry[]> {
    for (const host of [...this.buffers.keys()].sort()) await this.flushHost(host);
    return this.files;
  }

  private async flushHost(host: string): Promise<void> {
    const buf = this.buffers.get(host);
    if (!buf || buf.episodes.length === 0) return;
    const { episodes, windows } = buf;
    const y = new Int8Array(windows);
    const window = new Int32Array(windows);
    const tCenter = new Float64Array(windows);
    const ids: string[] = new Array(windows);
    let at = 0;
    for (const ep of episodes) {
      for (let w = 0; w < ep.n_windows; w++) {
        y[at + w] = ep.phase[w];
        window[at + w] = w;
        tCenter[at + w] = ep.t_start_s[w] + this.window_s / 2;
        ids[at + w] = ep.episode_id;
      }
      at += ep.n_windows;
    }
    const shape: [number, number, number] = [windows, this.channels, this.tensorLen];
    // x and mask go out as the episodes' own arrays: no shard-sized copy.
    const arrays: Record<string, NpyArray | NpyPieces> = {
      x: { dtype: "<f4", shape, pieces: episodes.map((e) => e.x) },
      mask: { dtype: "|b1", shape, pieces: episodes.map((e) => e.mask) },
      y: { dtype: "|i1", shape: [windows], data: y },
      window: { dtype: "<i4", shape: [windows], data: window },
      t_center_s: { dtype: "<f8", shape: [windows], data: tCenter },
      episode_id: { dtype: unicodeDtypeFor(ids), shape: [windows], data: ids },
    };
    const rel = `${hostDirName(host)}/${tensorFileName(this.shard, buf.chunk)}`;
    const bytes = await writePiecesAtomic(join(this.tensorsDir, rel), encodeNpz(arrays));
    this.files.push({ path: rel, host, n_windows: windows, episodes: episodes.length, shape, bytes });
    this.buffered -= buf.bytes;
    buf.chunk++;
    buf.episodes = [];
    buf.windows = 0;
    buf.bytes = 0;
  }
}
