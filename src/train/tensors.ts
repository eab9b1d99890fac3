// Tensor rows for sequence models, read from the host-partitioned .npz
// shards (src/features/tensor-reader.ts streams them, one shard in memory at
// a time) and aligned with WindowSets by (episode_id, window). Only the
// model's channels are copied: a realistic model's arrays physically hold
// its 29 channels, never the oracle ones.

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { streamTensorShards } from "../features/tensor-reader.js";
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
  const index = new Map<string, [number, number]>();
  const hosts = new Set<string>();
  targets.forEach((t, ti) => {
    for (let i = 0; i < t.episode_id.length; i++) {
      index.set(windowKey(t.episode_id[i], t.window[i]), [ti, i]);
      hosts.add(t.host_id[i]);
    }
  });
  const found = targets.map((t) => new Uint8Array(t.episode_id.length));
  const C = channels.length;
  const per = C * tensorLen;
  let shards;
  try {
    shards = streamTensorShards(root, { hosts, expectSchemaHash });
    for await (const shard of shards) {
      if (shard.channels !== nChannelsInFile || shard.tensorLen !== tensorLen) {
        throw new TrainError(`${shard.entry.path}: tensors are [n, ${shard.channels}, ${shard.tensorLen}], the feature schema says [n, ${nChannelsInFile}, ${tensorLen}]`);
      }
      const picked: Array<Array<[number, number]>> = targets.map(() => []);
      for (let i = 0; i < shard.n; i++) {
        const hit = index.get(windowKey(shard.episode_id[i], shard.window[i]));
        if (!hit) continue;
        const [ti, row] = hit;
        if (shard.y[i] !== targets[ti].label[row]) {
          throw new TrainError(
            `${shard.entry.path}: ${shard.episode_id[i]} window ${shard.window[i]} has label ${shard.y[i]} in the tensors but ${targets[ti].label[row]} in the features file: were they written by the same \`cis490 features\` run?`,
          );
        }
        if (found[ti][row]) continue;
        found[ti][row] = 1;
        picked[ti].push([i, row]);
      }
      for (let ti = 0; ti < targets.length; ti++) {
        const list = picked[ti];
        if (list.length === 0) continue;
        const x = new Float32Array(list.length * per);
        const mask = new Uint8Array(list.length * per);
        const rows = new Int32Array(list.length);
        list.forEach(([i, row], k) => {
          rows[k] = row;
          for (let c = 0; c < C; c++) {
            const from = (i * nChannelsInFile + channels[c]) * tensorLen;
            const to = (k * C + c) * tensorLen;
            x.set(shard.x.subarray(from, from + tensorLen), to);
            mask.set(shard.mask.subarray(from, from + tensorLen), to);
          }
        });
        await onRows(ti, rows, x, mask);
      }
    }
  } catch (error) {
    if (error instanceof TrainError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new TrainError(`reading tensor shards under ${join(root, TENSORS_DIR)}: ${e.message}`);
  }
  targets.forEach((t, ti) => {
    const missing = found[ti].indexOf(0);
    if (missing >= 0) {
      let count = 0;
      for (const f of found[ti]) if (!f) count++;
      throw new TrainError(
        `${count} window(s) are missing from the tensor shards under ${join(root, TENSORS_DIR)} (e.g. ${t.episode_id[missing]} window ${t.window[missing]}, host ${t.host_id[missing]}): were the shards written by the same \`cis490 features --tensors\` run as the features file?`,
      );
    }
  });
}

/** Loads every target's rows into memory, failing early when they would exceed `budgetBytes`. */
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
