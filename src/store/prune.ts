// Prune: choose flagged episodes from a sweep, then archive or delete their
// tarballs and drop their index rows, crash-safely.
//
// Invariant (holds after a SIGKILL at any instant, for a prune started on a
// store S with index rows R):
//   1. every tarball present in S before the prune is at its store path or,
//      in archive mode, at its archive path `<archive>/<host_id>/<episode_id>.tar.zst`
//      (possibly both for a moment across filesystems; never neither). In
//      delete mode only planned tarballs may be gone.
//   2. every row of R whose (host_id, episode_id) is not planned for
//      removal is still in index.jsonl, and so is every line we could not
//      parse; rows appended by the receiver while the prune ran are kept:
//      the index is never renamed while another process holds it open for
//      writing, and the old inode keeps a name (journaled) until everything
//      written to it is forwarded (index-rewrite.ts).
//   3. if the prune did not finish, its journal is in the store, and the
//      next non-dry-run prune completes it first (idempotently) before
//      planning anything new.
//   4. a journal only ever moves or deletes `<host>/<episode>.tar.zst` inside
//      the store and writes inside the archive root (checkJournalPaths).
// Order of work: journal (atomic) -> moves/deletes -> index rewrite (journal
// updated with the old index's second name before the rename) -> remove journal.

import { existsSync, promises as fsp } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { moveFileDurable, removeStaleTemps, unlinkDurable } from "../io/atomic.js";
import type { AcceptanceRow } from "./acceptance.js";
import { recoverSwap, rewriteIndexDropping, type RewriteOptions, type RewriteResult } from "./index-rewrite.js";
import { INDEX_FILE } from "./layout.js";
import { checkJournalPaths, readJournal, removeJournal, writeJournal, type PruneAction, type PruneJournal, type PruneMode } from "./prune-journal.js";
import type { QualityReason } from "./quality.js";

export interface FlaggedEpisode {
  episode_id: string;
  host_id: string;
  path: string;
  size_bytes: number | null;
  reasons: QualityReason[];
  sample_name: string | null;
  module_name: string | null;
  class: string;
}

/** Default archive root: a sibling of the store (`<store>-archive`), outside the store so sweeps never see it. */
export function defaultArchiveRoot(store: string): string {
  const abs = resolve(store);
  return join(dirname(abs), `${basename(abs)}-archive`);
}

/**
 * Candidates are episodes that decoded (not errored) and have an index row;
 * an episode is flagged when any of its quality reasons is selected.
 */
export function selectFlagged(row: AcceptanceRow, selected: ReadonlySet<QualityReason>): FlaggedEpisode | null {
  if (!row.in_index || row.class === "errored" || row.quality === null) return null;
  const reasons = row.quality_reasons.filter((r): r is QualityReason => selected.has(r as QualityReason));
  if (reasons.length === 0) return null;
  return {
    episode_id: row.episode_id,
    host_id: row.host_id,
    path: row.path,
    size_bytes: row.size_bytes,
    reasons,
    sample_name: row.sample_name,
    module_name: row.module_name,
    class: row.class,
  };
}

export function isCandidate(row: AcceptanceRow): boolean {
  return row.in_index && row.class !== "errored" && row.quality !== null;
}

export interface PlanResult {
  journal: PruneJournal;
  /** Flagged episodes left alone because their archive destination already exists. */
  conflicts: FlaggedEpisode[];
}

export function buildJournal(flagged: FlaggedEpisode[], mode: PruneMode, archiveRoot: string | null): PlanResult {
  const actions: PruneAction[] = [];
  const conflicts: FlaggedEpisode[] = [];
  for (const f of flagged) {
    const dst = mode === "archive" ? join(archiveRoot as string, f.host_id, `${f.episode_id}.tar.zst`) : null;
    // Never overwrite an earlier archive of the same episode id: keep it here instead.
    if (dst !== null && existsSync(dst)) {
      conflicts.push(f);
      continue;
    }
    actions.push({ episode_id: f.episode_id, host_id: f.host_id, src: f.path, dst });
  }
  return {
    journal: {
      version: 1,
      created_at: new Date().toISOString(),
      mode,
      archive_root: archiveRoot,
      actions,
      drop_rows: actions.map((a) => ({ episode_id: a.episode_id, host_id: a.host_id })),
    },
    conflicts,
  };
}

export interface ExecuteResult {
  moved: number;
  deleted: number;
  /** Actions already done by an interrupted run (source gone, destination present). */
  already_done: number;
  /** Planned tarballs found neither at the source nor at the destination. */
  missing: string[];
  index: RewriteResult | null;
  /** False when the index rewrite is not finished (held / late-held): the journal stays and a rerun completes it. */
  complete: boolean;
}

export interface ExecuteOptions {
  rewrite?: RewriteOptions;
  /** Archive roots this run may move into (its own and the default); a journal naming another is refused. */
  archiveRoots?: string[];
}

const exists = async (p: string): Promise<boolean> =>
  fsp.stat(p).then(
    () => true,
    () => false,
  );

/** Performs a journal. Every step is idempotent, so an interrupted run is completed by calling this again. */
export async function executeJournal(store: string, journal: PruneJournal, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  await checkJournalPaths(store, journal, options.archiveRoots ?? [defaultArchiveRoot(store)]);
  const result: ExecuteResult = { moved: 0, deleted: 0, already_done: 0, missing: [], index: null, complete: true };
  for (const action of journal.actions) {
    const src = join(store, action.src);
    if (journal.mode === "archive") {
      const dst = action.dst as string;
      await removeStaleTemps(dst); // a cross-filesystem copy cut short
      if (await exists(src)) {
        // If dst also exists (copied, then killed before unlinking src), this redoes the move.
        await moveFileDurable(src, dst);
        result.moved++;
      } else if (await exists(dst)) result.already_done++;
      else result.missing.push(action.src);
    } else if (await unlinkDurable(src)) result.deleted++;
    else result.already_done++;
  }
  const indexPath = join(store, INDEX_FILE);
  await removeStaleTemps(indexPath);
  if (journal.drop_rows.length > 0 && (await exists(indexPath))) {
    // A rewrite that got as far as renaming finishes by draining the old index; otherwise it starts over.
    const swap = journal.index_swap ? await recoverSwap(indexPath, journal.index_swap, options.rewrite) : null;
    result.index =
      swap ??
      (await rewriteIndexDropping(indexPath, journal.drop_rows, {
        ...options.rewrite,
        onSwap: (index_swap) => writeJournal(store, { ...journal, index_swap }),
      }));
    result.complete = result.index.status === "done";
  }
  if (result.complete) await removeJournal(store);
  return result;
}

/** Completes an interrupted prune, if one left its journal. */
export async function recoverJournal(store: string, options: ExecuteOptions = {}): Promise<{ journal: PruneJournal; result: ExecuteResult } | null> {
  const journal = await readJournal(store);
  if (journal === null) return null;
  return { journal, result: await executeJournal(store, journal, options) };
}

export async function runPrune(store: string, journal: PruneJournal, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  // Checked before it is written too: an index row naming a path outside the store must not become a pending journal.
  await checkJournalPaths(store, journal, options.archiveRoots ?? [defaultArchiveRoot(store)]);
  await writeJournal(store, journal);
  return executeJournal(store, journal, options);
}
