// A tiny, separable training set on disk, written with the project's own
// writers (windowTable + ParquetStreamWriter, TensorShardWriter, the split's
// assignmentTable): features_window.parquet, feature_schema.json, tensor
// shards + index.json, split_host.parquet. Window 2 s at 5 Hz, so tensors
// are [n, 46, 10]. Six hosts: h0-h3 train, h4 val, h5 test.
//
// Class k (the window's phase) raises its own signal channel by `gap`
// noise units: by default six deployed channels (guest + netflow);
// `oracleOnly` puts the signal in six proc/qmp channels only, so a model
// that never sees oracle channels cannot do better than chance.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHANNELS, FEATURE_NAMES, N_CHANNELS, STATS } from "../../src/features/channels.js";
import { ParquetStreamWriter, writeParquet } from "../../src/io/parquet.js";
import { buildFeatureSchema, FEATURE_SCHEMA_FILE, writeFeatureSchema, type FeatureSchema } from "../../src/features/schema.js";
import { SCHEMA_HASH_KEY } from "../../src/features/shards.js";
import { TensorShardWriter, TENSOR_INDEX_FILE, TENSORS_DIR } from "../../src/features/tensor-shards.js";
import type { EpisodeWindows } from "../../src/features/types.js";
import { windowSchema, windowTable, type FeaturizedEpisode } from "../../src/features/window-table.js";
import type { Assignment } from "../../src/split/assign.js";
import { assignmentTable } from "../../src/split/run.js";
import type { TrainOptions } from "../../src/train/run.js";
import { isSequenceKind, type ModelKind } from "../../src/train/types.js";

export const WINDOW_S = 2;
export const HZ = 5;
export const T = 10;
const K = 6;

export interface ToyOptions {
  seed?: number;
  episodesPerHost?: number;
  /** Windows per class per episode. */
  perClass?: number;
  oracleOnly?: boolean;
  /** Channel (index) with no finite value anywhere. */
  nanChannel?: number;
  /** Train hosts never show this class. */
  dropClassFromTrain?: number;
  /** Test-host rows get garbage values (1e30 / NaN); a trainer that read them would change. */
  poisonTest?: boolean;
  /** Separation between classes in noise units. */
  gap?: number;
  /** The label written for a window (default: its true class `classes[window]`); the signal stays with the true class. */
  relabel?: (episodeId: string, window: number, classes: readonly number[]) => number;
}

export interface Toy {
  dir: string;
  features: string;
  tensors: string;
  split: string;
  schema: FeatureSchema;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HOSTS = ["h0", "h1", "h2", "h3", "h4", "h5"];
export const SIDE_OF_HOST: Record<string, "train" | "val" | "test"> = { h0: "train", h1: "train", h2: "train", h3: "train", h4: "val", h5: "test" };

/** Per class, the channel its signal is on. */
export function signalChannels(oracleOnly: boolean): number[] {
  const name = (n: string) => CHANNELS.findIndex((c) => c.name === n);
  return (
    oracleOnly
      ? ["proc.cpu_user_jiffies", "proc.rss_bytes", "proc.io_write_bytes", "qmp.virtio0_wr_bytes", "qmp.kvm_tlb_flush", "proc.minor_faults"]
      : ["guest.cpu_user", "guest.load_1m", "guest.mem_available", "netflow.pkts_in", "netflow.syn_count", "netflow.bytes_out"]
  ).map(name);
}

export async function makeToy(dir: string, o: ToyOptions = {}): Promise<Toy> {
  const r = rng(o.seed ?? 1);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const perClass = o.perClass ?? 3;
  const nEp = o.episodesPerHost ?? 4;
  const gap = o.gap ?? 2;
  const signal = signalChannels(o.oracleOnly ?? false);
  mkdirSync(dir, { recursive: true });
  const schema = buildFeatureSchema({ channels: [...CHANNELS], stats: STATS, window_s: WINDOW_S, stride_s: WINDOW_S, hz: HZ });
  await writeFeatureSchema(join(dir, FEATURE_SCHEMA_FILE), schema);

  const episodes: FeaturizedEpisode[] = [];
  const assignments: Assignment[] = [];
  const shardWriter = new TensorShardWriter(join(dir, TENSORS_DIR), 0, N_CHANNELS, T, WINDOW_S, 2);
  for (const host of HOSTS) {
    const side = SIDE_OF_HOST[host];
    for (let e = 0; e < nEp; e++) {
      const id = `ep-${host}-${e}`;
      const classes: number[] = [];
      for (let k = 0; k < K; k++) {
        if (side === "train" && k === o.dropClassFromTrain) continue;
        for (let j = 0; j < perClass; j++) classes.push(k);
      }
      const n = classes.length;
      const x = new Float32Array(n * N_CHANNELS * T);
      const mask = new Uint8Array(n * N_CHANNELS * T);
      const summary = new Float64Array(n * FEATURE_NAMES.length);
      const poison = o.poisonTest && side === "test";
      for (let w = 0; w < n; w++) {
        const k = classes[w];
        for (let c = 0; c < N_CHANNELS; c++) {
          const vals: number[] = [];
          for (let t = 0; t < T; t++) {
            const at = (w * N_CHANNELS + c) * T + t;
            const seen = c !== o.nanChannel && r() > 0.1;
            let v = gauss() + (signal[k] === c ? gap : 0);
            if (poison) v = r() < 0.5 ? 1e30 : -1e30;
            if (seen) {
              x[at] = v;
              mask[at] = 1;
              vals.push(v);
            }
          }
          const base = w * FEATURE_NAMES.length + c * STATS.length;
          if (vals.length === 0 || (poison && r() < 0.3)) {
            for (let s = 0; s < STATS.length; s++) summary[base + s] = Number.NaN;
            continue;
          }
          const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
          const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) * (b - mean), 0) / vals.length);
          const sorted = [...vals].sort((a, b) => a - b);
          const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
          summary[base] = mean;
          summary[base + 1] = std;
          summary[base + 2] = q(0.5);
          summary[base + 3] = q(0.95);
          summary[base + 4] = 0;
        }
      }
      const phase = Int8Array.from(classes, (k, w) => (o.relabel ? o.relabel(id, w, classes) : k));
      const t_start_s = Float64Array.from({ length: n }, (_, w) => w * WINDOW_S);
      const phase_start_s = new Float64Array(K).fill(Number.NaN);
      classes.forEach((k, w) => {
        if (Number.isNaN(phase_start_s[k])) phase_start_s[k] = w * WINDOW_S;
      });
      const result: EpisodeWindows = { error: null, n_windows: n, t0_wall_ns: "1775124672000000000", duration_s: n * WINDOW_S, phase, t_start_s, phase_start_s, summary, x, mask };
      episodes.push({
        identity: { episode_id: id, host_id: host, profile: "cpu-saturate", sample_name: "toy", sample_kind: "miner", acceptance_class: "accepted", started_at: null },
        result,
      });
      await shardWriter.add({ episode_id: id, host_id: host, n_windows: n, phase, t_start_s, x, mask });
      assignments.push({
        episode: { episode_id: id, host_id: host, profile: "cpu-saturate", sample_name: "toy", started_at: null, t0_wall_ns: 0n, windows: n, phase_windows: [] },
        split: side,
      });
    }
  }
  const features = join(dir, "features_window.parquet");
  const writer = await ParquetStreamWriter.open(features, windowSchema(FEATURE_NAMES), { metadata: { [SCHEMA_HASH_KEY]: schema.hash } });
  await writer.write(windowTable(episodes, FEATURE_NAMES, WINDOW_S));
  await writer.close();
  const files = await shardWriter.finish();
  const nWindows = episodes.reduce((s, e) => s + e.result.n_windows, 0);
  writeFileSync(
    join(dir, TENSORS_DIR, TENSOR_INDEX_FILE),
    JSON.stringify({ version: 1, feature_schema_hash: schema.hash, channels: N_CHANNELS, tensor_len: T, n_windows: nWindows, episodes: episodes.length, files }),
  );
  const split = join(dir, "split_host.parquet");
  await writeParquet(split, assignmentTable(assignments));
  return { dir, features, tensors: join(dir, TENSORS_DIR), split, schema };
}

/** Small and quick training options: 1 thread (the suites share 2 cores), few epochs. */
export function quick(toy: Toy, kind: ModelKind, out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    kind,
    mode: "realistic",
    features: toy.features,
    tensors: isSequenceKind(kind) ? toy.tensors : null,
    split: toy.split,
    out,
    seed: 3,
    threads: 1,
    device: "cpu",
    neural: { epochs: 15, batch_size: 32, lr: 3e-3, hidden: 32, layers: 1, heads: 4, patience: 0 },
    gbt: { rounds: 60, max_depth: 3, eta: 0.3, early_stopping_rounds: 10 },
    minirocket: { num_features: 840, epochs: 15, patience: 0, lr: 3e-3, batch_size: 32 },
    ...extra,
  };
}
