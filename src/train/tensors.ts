// Tensor rows for sequence models, read from the host-partitioned .npz
// shards (src/features/tensor-reader.ts streams them, one shard in memory at
// a time) and aligned with WindowSets by (episode_id, window). Only the
// model's channels are copied: a realistic model's arrays physically hold
// its 29 channels, never the oracle ones.

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { streamTensorShards, type RawTensorShard, type TensorShard } from "../features/tensor-reader.js";
import { TENSOR_INDEX_FILE, TENSORS_DIR } from "../features/tensor-shards.js";
import { TrainError } from "./types.js";
import { windowKey, type WindowSet } from "./windows.js";

/**
 * The directory holding `tensors/` (what streamTensorShards wants), from
 * either that directory or the `tensors/` directory itself.
 */
export function tensorsRoot(path: string): string {
  if (basename(path) === TENSORS_DIR && existsSync(join(path, TENSOR_INDEX_FILE))) return dirname(path);
  if (existsSync(join(path, TENSORS_DIR, TENSOR_INDEX_FILE))) return path;
  throw new TrainError(
    `no tensor shards at ${path} (expected ${join(path, TENSOR_INDEX_FILE)}): sequence models need them; run \`cis490 features ... --tensors\``,
  );
}

export type TensorTarget = Pick<WindowSet, "episode_id" | "window" | "host_id" | "label">;

/** Which target (and row in it) each (episode_id, window) is, and which rows were already seen. */
export class TensorRowPicker {
  private readonly index = new Map<string, [number, number]>();
  readonly hosts = new Set<string>();
  readonly found: Uint8Array[];
  private readonly per: number;

  constructor(
    readonly targets: TensorTarget[],
    readonly channels: readonly number[],
    readonly tensorLen: number,
    readonly nChannelsInFile: number,
  ) {
    targets.forEach((t, ti) => {
      for (let i = 0; i < t.episode_id.length; i++) {
        this.index.set(windowKey(t.episode_id[i], t.window[i]), [ti, i]);
        this.hosts.add(t.host_id[i]);
      }
    });
    this.found = targets.map((t) => new Uint8Array(t.episode_id.length));
    this.per = channels.length * tensorLen;
  }

  /**
   * The target rows in `shard`, per target, with their [rows, channels.length, T]
   * values and mask (fresh arrays). `once`: a window already seen in an
   * earlier shard is skipped (the first pass); otherwise every hit counts.
   */
  pick(
    shard: TensorShard | RawTensorShard,
    once = true,
    alloc: (rows: number, target: number) => { x: Float32Array; mask: Uint8Array } = (rows) => ({ x: new Float32Array(rows * this.per), mask: new Uint8Array(rows * this.per) }),
  ): Array<{ rows: Int32Array; x: Float32Array; mask: Uint8Array } | null> {
    if (shard.channels !== this.nChannelsInFile || shard.tensorLen !== this.tensorLen) {
      throw new TrainError(`${shard.entry.path}: tensors are [n, ${shard.channels}, ${shard.tensorLen}], the feature schema says [n, ${this.nChannelsInFile}, ${this.tensorLen}]`);
    }
    const { targets, channels, tensorLen, nChannelsInFile, per } = this;
    const C = channels.length;
    const picked: Array<Array<[number, number]>> = targets.map(() => []);
    for (let i = 0; i < shard.n; i++) {
      const hit = this.index.get(windowKey(shard.episode_id[i], shard.window[i]));
      if (!hit) continue;
      const [ti, row] = hit;
      if (shard.y[i] !== targets[ti].label[row]) {
        throw new TrainError(
          `${shard.entry.path}: ${shard.episode_id[i]} window ${shard.window[i]} has label ${shard.y[i]} in the tensors but ${targets[ti].label[row]} in the features file: were they written by the same \`cis490 features\` run?`,
        );
      }
      if (once) {
        if (this.found[ti][row]) continue;
        this.found[ti][row] = 1;
      }
      picked[ti].push([i, row]);
    }
    // Byte copies: a raw shard's arrays may sit unaligned in its file buffer.
    const srcX = "xBytes" in shard ? shard.xBytes : new Uint8Array(shard.x.buffer, shard.x.byteOffset, shard.x.byteLength);
    const srcM = "maskBytes" in shard ? shard.maskBytes : shard.mask;
    return picked.map((list, ti) => {
      if (list.length === 0) return null;
      const { x, mask } = alloc(list.length, ti);
      const dstX = new Uint8Array(x.buffer, x.byteOffset, list.length * per * 4);
      const rows = new Int32Array(list.length);
      list.forEach(([i, row], k) => {
        rows[k] = row;
        for (let c = 0; c < C; c++) {
          const from = (i * nChannelsInFile + channels[c]) * tensorLen;
          const to = (k * C + c) * tensorLen;
          dstX.set(srcX.subarray(from * 4, (from + tensorLen) * 4), to * 4);
          mask.set(srcM.subarray(from, from + tensorLen), to);
        }
      });
      return { rows, x: x.subarray(0, list.length * per), mask: mask.subarray(0, list.length * per) };
    });
  }

  /** Throws a TrainError naming the first window of any target that no shard held. */
  checkComplete(root: string): void {
    this.targets.forEach((t, ti) => {
      const missing = this.found[ti].indexOf(0);
      if (missing >= 0) {
        let count = 0;
        for (const f of this.found[ti]) if (!f) count++;
        throw new TrainError(
          `${count} window(s) are missing from the tensor shards under ${join(root, TENSORS_DIR)} (e.g. ${t.episode_id[missing]} window ${t.window[missing]}, host ${t.host_id[missing]}): were the shards written by the same \`cis490 features --tensors\` run as the features file?`,
        );
      }
    });
  }
}

/** Wraps an I/O failure while reading shards as a TrainError naming the directory. */
export function shardReadError(root: string, error: unknown): TrainError {
  if (error instanceof TrainError) return error;
  return new TrainError(`reading tensor shards under ${join(root, TENSORS_DIR)}: ${(error as Error).message}`);
}

/**
 * Calls `onRows` once per shard and target with the target rows found in
 * that shard and their [rows, channels.length, T] values and mask (fresh
 * arrays the callback may keep or modify). Throws a TrainError naming the
 * first window of any target that no shard holds.
 */
export async function streamTensorRows(
  path: string,
  expectSchemaHash: string,
  targets: TensorTarget[],
  channels: readonly number[],
  tensorLen: number,
  nChannelsInFile: number,
  onRows: (target: number, rows: Int32Array, x: Float32Array, mask: Uint8Array) => Promise<void> | void,
): Promise<void> {
  const root = tensorsRoot(path);
  const picker = new TensorRowPicker(targets, channels, tensorLen, nChannelsInFile);
  try {
    for await (const shard of streamTensorShards(root, { hosts: picker.hosts, expectSchemaHash })) {
      const picked = picker.pick(shard);
      for (let ti = 0; ti < targets.length; ti++) {
        const p = picked[ti];
        if (p) await onRows(ti, p.rows, p.x, p.mask);
      }
    }
  } catch (error) {
    throw shardReadError(root, error);
  }
  picker.checkComplete(root);
}

/**
 * Train+val tensors held whole in memory (MiniRocket's fit reads them as
 * arrays), refused with a clear message beyond `budgetBytes`.
 */
export async function loadTensorRows(
  path: string,
  expectSchemaHash: string,
  targets: TensorTarget[],
  channels: readonly number[],
  tensorLen: number,
  nChannelsInFile: number,
  budgetBytes: number,
): Promise<Array<{ x: Float32Array; mask: Uint8Array }>> {
  const per = channels.length * tensorLen;
  const total = targets.reduce((s, t) => s + t.episode_id.length, 0);
  const bytes = total * per * 5;
  if (bytes > budgetBytes) {
    throw new TrainError(
      `the tensors of ${total} train+val windows x ${channels.length} channels x ${tensorLen} steps need ${(bytes / 2 ** 20).toFixed(0)} MiB, over the in-memory budget of ${(budgetBytes / 2 ** 20).toFixed(0)} MiB: raise --tensor-budget-mb (if the machine has the memory) or train on fewer windows`,
    );
  }
  const out = targets.map((t) => ({ x: new Float32Array(t.episode_id.length * per), mask: new Uint8Array(t.episode_id.length * per) }));
  await streamTensorRows(path, expectSchemaHash, targets, channels, tensorLen, nChannelsInFile, (ti, rows, x, mask) => {
    for (let k = 0; k < rows.length; k++) {
      out[ti].x.set(x.subarray(k * per, (k + 1) * per), rows[k] * per);
      out[ti].mask.set(mask.subarray(k * per, (k + 1) * per), rows[k] * per);
    }
  });
  return out;
}
