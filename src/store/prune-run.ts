// One `cis490 prune` run, start to finish, as a result object: lock,
// completion of an interrupted prune, the sweep, the writer check, the
// journaled execution. The command only parses options and prints.

import { promises as fsp } from "node:fs";
import { join } from "node:path";
import type { Inspector } from "../episode/inspector.js";
import { describeScan, waitForNoWriters, type ProcAccess, type WriterScan } from "../io/file-writers.js";
import { acquireLock, type HeldLock } from "../io/lock.js";
import { ownerPreservable } from "./index-rewrite.js";
import { INDEX_FILE } from "./layout.js";
import { LOCK_FILE, readJournal, type PruneJournal } from "./prune-journal.js";
import { buildJournal, defaultArchiveRoot, isCandidate, recoverJournal, runPrune, selectFlagged, type ExecuteResult, type FlaggedEpisode } from "./prune.js";
import type { QualityReason } from "./quality.js";
import { planStore, sweepTargets } from "./sweep.js";

export type PruneMode = "dry-run" | "archive" | "delete";

export interface PruneRunOptions {
  store: string;
  mode: PruneMode;
  /** Archive mode only. */
  archiveRoot: string | null;
  host?: string;
  selected: ReadonlySet<QualityReason>;
  engine: Inspector;
  jobs: number;
  /** How long to wait for other writers to close index.jsonl, before starting and again before the rename (ms). */
  waitForWritersMs: number;
  /** Go ahead when some processes cannot be inspected (the user's explicit decision). */
  assumeNoHiddenWriters: boolean;
  /** After the rename, how long to wait for a writer that opened the old index in the last instant (ms). */
  lateWaitMs?: number;
  proc?: ProcAccess;
  onPlanned?: (targets: number) => void;
  onProgress?: (n: number) => void;
}

export type PruneStatus =
  /** Completed (a dry run, or every planned change is durable). */
  | "ok"
  /** Nothing was changed (another prune runs, a writer holds the index, the index owner cannot be kept, an unsafe journal). */
  | "refused"
  /** Tarballs were moved but the index rewrite is not finished; the journal stays and a rerun completes it. */
  | "incomplete";

export interface PruneRunResult {
  status: PruneStatus;
  /** Why the status is not "ok". */
  reason: string | null;
  /** The writer scan behind a refusal or an unfinished rewrite. */
  writers: WriterScan | null;
  mode: PruneMode;
  store: string;
  archiveRoot: string | null;
  scanned: number;
  candidates: number;
  flagged: FlaggedEpisode[];
  conflicts: FlaggedEpisode[];
  byReason: Record<string, number>;
  executed: ExecuteResult | null;
  recovered: { journal: PruneJournal; result: ExecuteResult } | null;
  warnings: string[];
}

function unfinished(executed: ExecuteResult, writersOnly: boolean): string {
  const index = executed.index;
  const who = index?.scan ? describeScan(index.scan, writersOnly) : "unknown";
  if (index?.status === "late-held") {
    return `index.jsonl was rewritten, but the old index is still in use (${who}); its rows are kept in ${index.prevPath} and the next prune forwards them (rerun once that process has closed it)`;
  }
  return `cannot rule out other writers of index.jsonl (${who}); the planned tarballs were handled but their index rows are still there (rerun when no other process writes to index.jsonl to finish)`;
}

export async function runPruneCommand(o: PruneRunOptions): Promise<PruneRunResult> {
  const result: PruneRunResult = {
    status: "ok",
    reason: null,
    writers: null,
    mode: o.mode,
    store: o.store,
    archiveRoot: o.archiveRoot,
    scanned: 0,
    candidates: 0,
    flagged: [],
    conflicts: [],
    byReason: {},
    executed: null,
    recovered: null,
    warnings: [],
  };
  const refuse = (reason: string, writers: WriterScan | null = null): PruneRunResult => Object.assign(result, { status: "refused" as const, reason, writers });
  const indexPath = join(o.store, INDEX_FILE);
  const rewrite = { waitMs: o.waitForWritersMs, lateWaitMs: o.lateWaitMs, allowUnverified: o.assumeNoHiddenWriters, proc: o.proc };
  const archiveRoots = [defaultArchiveRoot(o.store), ...(o.archiveRoot ? [o.archiveRoot] : [])];

  let lock: HeldLock | null = null;
  try {
    if (o.mode === "dry-run") {
      const pending = await readJournal(o.store);
      if (pending) result.warnings.push(`an interrupted ${pending.mode} prune is pending; run with --archive or --delete to complete it`);
    } else {
      const taken = await acquireLock(join(o.store, LOCK_FILE), { purpose: "prune" });
      if (!taken.ok) return refuse(`another prune is running: ${taken.message}`);
      lock = taken.lock;
      result.recovered = await recoverJournal(o.store, { rewrite, archiveRoots });
      if (result.recovered) {
        const r = result.recovered.result;
        result.warnings.push(`completed an interrupted ${result.recovered.journal.mode} prune (${result.recovered.journal.actions.length} episodes)`);
        if (!r.complete) {
          result.writers = r.index?.scan ?? null;
          return Object.assign(result, { status: "incomplete" as const, reason: `an interrupted prune could not finish: ${unfinished(r, o.assumeNoHiddenWriters)}` });
        }
      }
    }

    const plan = await planStore(o.store, o.host);
    o.onPlanned?.(plan.targets.length);
    for await (const { row } of sweepTargets(plan.targets, { engine: o.engine, jobs: o.jobs, onProgress: o.onProgress })) {
      result.scanned++;
      if (!isCandidate(row)) continue;
      result.candidates++;
      const f = selectFlagged(row, o.selected);
      if (f) result.flagged.push(f);
    }
    result.byReason = Object.fromEntries([...o.selected].map((r) => [r, result.flagged.filter((f) => f.reasons.includes(r)).length]));
    if (o.mode === "dry-run" || result.flagged.length === 0) return result;

    const ownerProblem = ownerPreservable(await fsp.stat(indexPath));
    if (ownerProblem) return refuse(`${ownerProblem}; nothing changed`);
    const built = buildJournal(result.flagged, o.mode, o.archiveRoot);
    result.conflicts = built.conflicts;
    for (const c of built.conflicts) result.warnings.push(`${c.host_id}/${c.episode_id} already in the archive; left in the store`);
    if (built.journal.actions.length === 0) return result;

    // Before anything changes: nobody else may hold the index open for writing.
    const writers = await waitForNoWriters(indexPath, { waitMs: o.waitForWritersMs, allowUnverified: o.assumeNoHiddenWriters, proc: o.proc });
    if (!writers.clear) {
      const hint = writers.scan.writers.length === 0 ? " (pass --assume-no-hidden-writers if none of them can write to it)" : "";
      return refuse(`cannot rule out other writers of index.jsonl: ${describeScan(writers.scan, o.assumeNoHiddenWriters)}${hint}; waited ${(writers.waitedMs / 1000).toFixed(1)} s; nothing changed`, writers.scan);
    }
    if (!(await lock!.stillOurs())) return refuse("the prune lock was taken over by another process; nothing changed");

    result.executed = await runPrune(o.store, built.journal, { rewrite, archiveRoots });
    if (!result.executed.complete) {
      result.writers = result.executed.index?.scan ?? null;
      return Object.assign(result, { status: "incomplete" as const, reason: unfinished(result.executed, o.assumeNoHiddenWriters) });
    }
    return result;
  } finally {
    await lock?.release();
  }
}

/** The --json document of a prune run (snake_case, flagged episodes listed). */
export function pruneRunJson(r: PruneRunResult): unknown {
  const executed = r.executed;
  return {
    mode: r.mode,
    status: r.status,
    reason: r.reason,
    writers: r.writers,
    store: r.store,
    archive_root: r.archiveRoot,
    scanned: r.scanned,
    candidates: r.candidates,
    flagged: r.flagged.length,
    kept: r.scanned - r.flagged.length + r.conflicts.length,
    by_reason: r.byReason,
    flagged_episodes: r.flagged.map((f) => ({
      host: f.host_id,
      episode: f.episode_id,
      size_bytes: f.size_bytes,
      reasons: f.reasons,
      sample: f.sample_name,
      module: f.module_name,
      class: f.class,
    })),
    conflicts: r.conflicts.map((c) => `${c.host_id}/${c.episode_id}`),
    result: executed && {
      moved: executed.moved,
      deleted: executed.deleted,
      already_done: executed.already_done,
      missing: executed.missing,
      index_rows_dropped: executed.index?.dropped ?? 0,
      index_status: executed.index?.status ?? null,
      appended_bytes_carried: executed.index?.carriedBytes ?? 0,
    },
    recovered_journal: r.recovered ? { mode: r.recovered.journal.mode, episodes: r.recovered.journal.actions.length } : null,
  };
}
