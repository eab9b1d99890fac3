// The prune journal: the complete plan, written atomically before anything
// is touched, removed only after the index rewrite is durable. Its presence
// on startup means a previous prune was interrupted and must be completed.

import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { unlinkDurable, writeFileAtomic, removeStaleTemps } from "../io/atomic.js";
import type { RowKey } from "./index-rewrite.js";

export const JOURNAL_FILE = ".cis490-prune-journal.json";
export const LOCK_FILE = ".cis490-prune.lock";

export type PruneMode = "archive" | "delete";

export interface PruneAction {
  episode_id: string;
  host_id: string;
  /** Relative to the store: `<host_id>/<episode_id>.tar.zst`. */
  src: string;
  /** Absolute archive destination (archive mode), else null. */
  dst: string | null;
}

export interface PruneJournal {
  version: 1;
  created_at: string;
  mode: PruneMode;
  archive_root: string | null;
  actions: PruneAction[];
  /** Index rows to drop: every valid row with one of these (host_id, episode_id). */
  drop_rows: RowKey[];
}

export const journalPath = (store: string): string => join(store, JOURNAL_FILE);

export async function writeJournal(store: string, journal: PruneJournal): Promise<void> {
  await writeFileAtomic(journalPath(store), JSON.stringify(journal, null, 1) + "\n");
}

/** The pending journal, or null. A journal we cannot parse is an error: we never guess at a half-done plan. */
export async function readJournal(store: string): Promise<PruneJournal | null> {
  let text: string;
  try {
    text = await fsp.readFile(journalPath(store), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const journal = JSON.parse(text) as PruneJournal;
  if (journal.version !== 1 || !Array.isArray(journal.actions) || !Array.isArray(journal.drop_rows)) {
    throw new Error(`unrecognised prune journal ${journalPath(store)}`);
  }
  return journal;
}

export async function removeJournal(store: string): Promise<void> {
  await unlinkDurable(journalPath(store));
  await removeStaleTemps(journalPath(store));
}

/**
 * A lock file holding our pid, so two prunes never interleave. A lock whose
 * pid is gone (a prune killed with SIGKILL) is taken over.
 */
export async function acquireLock(store: string): Promise<() => Promise<void>> {
  const path = join(store, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fsp.open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await fsp.rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number((await fsp.readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new Error(`another prune (pid ${holder}) holds ${path}`);
    }
    await fsp.rm(path, { force: true });
  }
  throw new Error(`cannot take ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
