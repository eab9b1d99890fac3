// Which episodes `cis490 features` featurises: the acceptance index's
// accepted and degraded rows, sorted by episode_id (the output order), and
// for `--shard i/n` one contiguous block of that list. Contiguous blocks
// (rather than i mod n) make the merged file a plain concatenation of the
// parts in shard order, already sorted, with no k-way merge.

import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Table } from "apache-arrow";
import { readParquet } from "../io/parquet.js";
import type { EpisodeIdentity } from "./window-table.js";

/** Classes whose episodes are usable for training (degraded ones with their gaps). */
export const USABLE_CLASSES = ["accepted", "degraded"] as const;

export interface PlannedEpisode extends EpisodeIdentity {
  /** Absolute path of the tarball. */
  abs: string;
}

export interface PlanSkip {
  episode_id: string;
  host_id: string;
  reason: string;
}

export interface FeaturesPlan {
  /** Rows in the acceptance index. */
  indexRows: number;
  /** Rows per class in the acceptance index. */
  classes: Record<string, number>;
  /** All usable episodes, sorted by episode_id. */
  episodes: PlannedEpisode[];
  /** Usable rows dropped before featurising (duplicate id, path outside the store). */
  skipped: PlanSkip[];
}

export interface ShardSpec {
  index: number;
  count: number;
}

export const WHOLE: ShardSpec = { index: 0, count: 1 };

/** Parses `i/n` (0 <= i < n). */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--shard must look like i/n, e.g. 0/8 (got ${JSON.stringify(text)})`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new Error(`--shard ${text}: need 0 <= i < n and n >= 1`);
  return { index, count };
}

/** Shard `index` of `count`: the contiguous block [floor(i*N/n), floor((i+1)*N/n)). */
export function shardSlice<T>(items: T[], shard: ShardSpec): T[] {
  const n = items.length;
  const from = Math.floor((shard.index * n) / shard.count);
  const to = Math.floor(((shard.index + 1) * n) / shard.count);
  return items.slice(from, to);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function column(table: Table, name: string): Array<unknown> {
  const col = table.getChild(name);
  if (!col) throw new Error(`acceptance index has no ${name} column (is it the output of \`cis490 validate\`?)`);
  return col.toArray() as unknown[];
}

/** Reads the acceptance index (small: one compact row per episode) and plans the sweep. */
export async function planFeatures(store: string, acceptancePath: string): Promise<FeaturesPlan> {
  const table = await readParquet(acceptancePath);
  return planFromAcceptance(store, table);
}

export function planFromAcceptance(store: string, table: Table): FeaturesPlan {
  const root = resolve(store);
  const ids = column(table, "episode_id") as Array<string | null>;
  const hosts = column(table, "host_id") as Array<string | null>;
  const classes = column(table, "class") as Array<string | null>;
  const paths = column(table, "path") as Array<string | null>;
  const profiles = column(table, "profile") as Array<string | null>;
  const samples = column(table, "sample_name") as Array<string | null>;
  const kinds = column(table, "sample_kind") as Array<string | null>;
  // Acceptance indexes written before started_at was recorded lack the column.
  const started = table.getChild("started_at") ? (column(table, "started_at") as Array<string | null>) : [];

  const counts: Record<string, number> = {};
  const usable: PlannedEpisode[] = [];
  const skipped: PlanSkip[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const cls = classes[i] ?? "unknown";
    counts[cls] = (counts[cls] ?? 0) + 1;
    if (!(USABLE_CLASSES as readonly string[]).includes(cls)) continue;
    const episode_id = ids[i] ?? "";
    const host_id = hosts[i] ?? "";
    const rel = paths[i];
    // The path comes from a file; it must stay inside the store.
    const abs = rel ? resolve(root, rel) : "";
    const inside = rel !== null && !isAbsolute(rel) && abs.startsWith(root + sep) && !relative(root, abs).startsWith("..");
    if (!inside) {
      skipped.push({ episode_id, host_id, reason: "path-outside-store" });
      continue;
    }
    usable.push({ episode_id, host_id, profile: profiles[i], sample_name: samples[i], sample_kind: kinds[i], acceptance_class: cls, started_at: started[i] ?? null, abs });
  }
  usable.sort((a, b) => cmp(a.episode_id, b.episode_id) || cmp(a.host_id, b.host_id));
  const episodes: PlannedEpisode[] = [];
  for (const e of usable) {
    if (episodes.length > 0 && episodes[episodes.length - 1].episode_id === e.episode_id) {
      skipped.push({ episode_id: e.episode_id, host_id: e.host_id, reason: "duplicate-episode-id" });
      continue;
    }
    episodes.push(e);
  }
  return { indexRows: table.numRows, classes: counts, episodes, skipped };
}
