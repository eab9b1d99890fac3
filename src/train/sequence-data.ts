// Sequence-model inputs as chunks (one per tensor shard file), so training
// memory stays flat in corpus size: one streaming pass over the shards
// checks that every train/val window is there (with the features file's
// label), gathers the standardisation statistics chunk by chunk
// (StreamingStats) and notes which rows each file holds; epochs then read
// the files again, one (plus the one being prefetched) at a time. When the
// train + val tensors fit `cacheBudgetBytes`, the first pass keeps the
// chunks instead and epochs read them from memory: the same chunks, the
// same statistics, the same order, hence the same weights for a seed.

import { join } from "node:path";
import { readTensorIndex, readTensorShardRaw, ShardReadBuffer } from "../features/tensor-reader.js";
import { TENSORS_DIR, type TensorFileEntry } from "../features/tensor-shards.js";
import { Standardiser, StreamingStats, type InputTransform } from "./standardise.js";
import { shardReadError, TensorRowPicker, tensorsRoot, type TensorTarget } from "./tensors.js";
import { TrainError } from "./types.js";

/** Scaled rows of one chunk: [n, channels, steps] values and mask, and labels. */
export interface SequenceChunk {
  n: number;
  x: Float32Array;
  mask: Uint8Array;
  y: Int32Array;
}

/** Rows readable chunk by chunk (src/train/loop.ts consumes it). */
export interface ChunkedData {
  n: number;
  rowLen: number;
  chunkCount: number;
  /** Rows per chunk (known from the first pass). */
  chunkRows: number[];
  load(chunk: number): Promise<SequenceChunk>;
  /** Time spent reading, decoding and scaling chunks, and the file bytes read. */
  io: { seconds: number; bytes: number; chunks: number };
}

export interface SequenceDataOptions {
  /** The tensors/ directory or the features directory holding it. */
  path: string;
  schemaHash: string;
  train: TensorTarget;
  val: TensorTarget;
  channels: readonly number[];
  tensorLen: number;
  nChannelsInFile: number;
  transform: InputTransform;
  /** Keep the chunks in memory when train + val need at most this many bytes (values + mask). */
  cacheBudgetBytes: number;
}

export interface PreparedSequenceData {
  train: ChunkedData;
  val: ChunkedData;
  scaler: Standardiser;
  /** Whether epochs read from memory (true) or from the shard files. */
  cached: boolean;
  /** Seconds of the first (checking + statistics) pass. */
  first_pass_seconds: number;
}

interface ChunkPlan {
  entry: TensorFileEntry;
  /** Target rows this file holds, in file order (duplicates of earlier files left out). */
  rows: Int32Array;
  cache: SequenceChunk | null;
}

export function tensorBytesPerRow(channels: number, steps: number): number {
  return channels * steps * 5; // float32 value + uint8 mask
}

export async function prepareSequenceData(o: SequenceDataOptions): Promise<PreparedSequenceData> {
  const started = Date.now();
  const root = tensorsRoot(o.path);
  const C = o.channels.length;
  const rowLen = C * o.tensorLen;
  const total = o.train.episode_id.length + o.val.episode_id.length;
  const cached = total * tensorBytesPerRow(C, o.tensorLen) <= o.cacheBudgetBytes;
  const targets = [o.train, o.val];
  const picker = new TensorRowPicker(targets, o.channels, o.tensorLen, o.nChannelsInFile);
  const stats = new StreamingStats(o.transform, C, o.tensorLen);
  const plans: ChunkPlan[][] = [[], []];

  const labels = (t: TensorTarget, rows: Int32Array): Int32Array => {
    const y = new Int32Array(rows.length);
    for (let k = 0; k < rows.length; k++) y[k] = t.label[rows[k]];
    return y;
  };

  try {
    const index = await readTensorIndex(root);
    if (index.feature_schema_hash !== o.schemaHash) {
      throw new TrainError(`tensor shards in ${root} were made under feature schema ${index.feature_schema_hash}, expected ${o.schemaHash}`);
    }
    const buffer = new ShardReadBuffer();
    for (const entry of index.files) {
      if (!picker.hosts.has(entry.host)) continue;
      const shard = await readTensorShardRaw(join(root, TENSORS_DIR, entry.path), entry, buffer);
      const picked = picker.pick(shard, true);
      for (let ti = 0; ti < 2; ti++) {
        const p = picked[ti];
        if (!p) continue;
        if (ti === 0) stats.add(p.x, p.mask);
        plans[ti].push({ entry, rows: p.rows, cache: cached ? { n: p.rows.length, x: p.x, mask: p.mask, y: labels(targets[ti], p.rows) } : null });
      }
    }
  } catch (error) {
    throw shardReadError(root, error);
  }
  picker.checkComplete(root);
  const scaler = new Standardiser(o.transform).fitStreaming(stats);
  if (cached) for (const side of plans) for (const p of side) scaler.apply(p.cache!.x, p.cache!.mask, o.tensorLen);

  const chunked = (ti: number): ChunkedData => {
    const side = plans[ti];
    const target = targets[ti];
    // Reading one file again for this target alone: every hit, then only the rows the first pass kept.
    const one = new TensorRowPicker([target], o.channels, o.tensorLen, o.nChannelsInFile);
    const io = { seconds: 0, bytes: 0, chunks: 0 };
    // Streaming: one file buffer, and two chunk slots used in turn: the
    // consumer holds chunk k while chunk k + 1 is read (src/train/loop.ts
    // asks for k + 2 only once it is done with k).
    const buffer = new ShardReadBuffer();
    const maxRows = side.reduce((m, p) => Math.max(m, p.rows.length), 0);
    const slots: Array<{ x: Float32Array; mask: Uint8Array } | null> = [null, null];
    let loads = 0;
    const alloc = (rows: number): { x: Float32Array; mask: Uint8Array } => {
      const k = loads++ % 2;
      const want = Math.max(rows, maxRows) * rowLen;
      if (!slots[k] || slots[k]!.x.length < want) slots[k] = { x: new Float32Array(want), mask: new Uint8Array(want) };
      return slots[k]!;
    };
    return {
      n: target.episode_id.length,
      rowLen,
      chunkCount: side.length,
      chunkRows: side.map((p) => p.rows.length),
      io,
      async load(c: number): Promise<SequenceChunk> {
        const plan = side[c];
        if (plan.cache) return plan.cache;
        const t0 = performance.now();
        let p;
        try {
          const shard = await readTensorShardRaw(join(root, TENSORS_DIR, plan.entry.path), plan.entry, buffer);
          io.bytes += shard.xBytes.byteLength + shard.maskBytes.byteLength;
          p = one.pick(shard, false, alloc)[0];
        } catch (error) {
          throw shardReadError(root, error);
        }
        if (!p) throw new TrainError(`${plan.entry.path}: the tensor shard changed while training (its windows are gone)`);
        let { rows, x, mask } = p;
        if (rows.length !== plan.rows.length) {
          // A window listed twice across files: keep only this file's first-pass rows.
          const keep = new Set(plan.rows);
          const idx: number[] = [];
          rows.forEach((r, k) => {
            if (keep.has(r)) {
              keep.delete(r);
              idx.push(k);
            }
          });
          const nx = new Float32Array(idx.length * rowLen);
          const nm = new Uint8Array(idx.length * rowLen);
          idx.forEach((k, j) => {
            nx.set(x.subarray(k * rowLen, (k + 1) * rowLen), j * rowLen);
            nm.set(mask.subarray(k * rowLen, (k + 1) * rowLen), j * rowLen);
          });
          rows = Int32Array.from(idx, (k) => rows[k]);
          x = nx;
          mask = nm;
        }
        if (rows.length !== plan.rows.length) throw new TrainError(`${plan.entry.path}: the tensor shard changed while training (${rows.length} of ${plan.rows.length} windows)`);
        scaler.apply(x, mask, o.tensorLen);
        io.seconds += (performance.now() - t0) / 1000;
        io.chunks++;
        return { n: rows.length, x, mask, y: labels(target, rows) };
      },
    };
  };
  return { train: chunked(0), val: chunked(1), scaler, cached, first_pass_seconds: (Date.now() - started) / 1000 };
}
