// A full pass over a store: every first index row and every orphan tarball
// is inspected (in bounded batches, so memory stays flat in corpus size) and
// reduced to one compact AcceptanceRow. validate and prune both sit on this.

import { join } from "node:path";
import type { Inspector } from "../episode/inspector.js";
import { DEFAULT_INSPECT_OPTIONS, type EpisodeReport, type InspectOptions } from "../episode/report.js";
import { acceptanceRow, type AcceptanceRow } from "./acceptance.js";
import { classifyEpisode, DEFAULT_CLASSIFY_OPTIONS, type ClassifyOptions } from "./classify.js";
import { readIndex, type IndexReadResult, type IndexRecord } from "./index-file.js";
import { INDEX_FILE, listStore, relPathOf, type StoreListing } from "./layout.js";

export interface SweepTarget {
  episode_id: string;
  host_id: string;
  rel: string;
  /** Absolute path when the tarball exists on disk, else null. */
  abs: string | null;
  record: IndexRecord | null;
}

export interface StorePlan {
  store: string;
  index: IndexReadResult;
  listing: StoreListing;
  /** Index rows (first occurrence, file order), then orphans (path order). */
  targets: SweepTarget[];
}

/** Reads the index and walks the store; pairs rows with files. */
export async function planStore(store: string, hostFilter?: string): Promise<StorePlan> {
  const listing = await listStore(store);
  const index = await readIndex(join(store, INDEX_FILE));
  const byRel = new Map(listing.tarballs.map((t) => [t.rel, t]));
  const claimed = new Set<string>();
  const targets: SweepTarget[] = [];
  for (const entry of index.entries) {
    const { record } = entry;
    const rel = relPathOf(record.host_id, record.episode_id);
    const file = byRel.get(rel);
    if (file) claimed.add(rel);
    targets.push({ episode_id: record.episode_id, host_id: record.host_id, rel, abs: file?.abs ?? null, record });
  }
  for (const t of listing.tarballs) {
    if (claimed.has(t.rel)) continue;
    targets.push({ episode_id: t.episode_id, host_id: t.host_id, rel: t.rel, abs: t.abs, record: null });
  }
  const filtered = hostFilter === undefined ? targets : targets.filter((t) => t.host_id === hostFilter);
  return { store, index, listing, targets: filtered };
}

export interface SweepOptions {
  engine: Inspector;
  jobs: number;
  inspect?: InspectOptions;
  classify?: ClassifyOptions;
  /** Paths per inspectFiles call; two batches are in flight at most. */
  batchSize?: number;
  /** Called after each batch with the number of episodes it finished. */
  onProgress?: (done: number) => void;
}

export interface SweepItem {
  target: SweepTarget;
  row: AcceptanceRow;
}

/** Yields one item per target, in target order. */
export async function* sweepTargets(targets: SweepTarget[], options: SweepOptions): AsyncGenerator<SweepItem> {
  const batchSize = options.batchSize ?? 256;
  const inspectOptions = options.inspect ?? DEFAULT_INSPECT_OPTIONS;
  const classifyOptions = options.classify ?? DEFAULT_CLASSIFY_OPTIONS;
  const batches: SweepTarget[][] = [];
  for (let i = 0; i < targets.length; i += batchSize) batches.push(targets.slice(i, i + batchSize));

  const inspect = (batch: SweepTarget[]): Promise<EpisodeReport[]> => {
    const paths = batch.filter((t) => t.abs !== null).map((t) => t.abs as string);
    if (paths.length === 0) return Promise.resolve([]);
    const pending = options.engine.inspectFiles(paths, inspectOptions, options.jobs);
    // Awaited later; keep an early rejection from counting as unhandled meanwhile.
    pending.catch(() => undefined);
    return pending;
  };

  let next = batches.length > 0 ? inspect(batches[0]) : null;
  for (let b = 0; b < batches.length; b++) {
    const current = next as Promise<EpisodeReport[]>;
    next = b + 1 < batches.length ? inspect(batches[b + 1]) : null;
    const reports = await current;
    let k = 0;
    for (const target of batches[b]) {
      const report: EpisodeReport | "file-missing" = target.abs === null ? "file-missing" : reports[k++];
      if (report === undefined) throw new Error(`engine returned too few reports for batch ${b}`);
      const classification = classifyEpisode(target.record, report, target, classifyOptions);
      yield { target, row: acceptanceRow(target, target.record, report, classification) };
    }
    options.onProgress?.(batches[b].length);
  }
}
