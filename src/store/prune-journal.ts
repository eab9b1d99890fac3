// The prune journal: the complete plan, written atomically before anything
// is touched, removed only after the index rewrite is durable. Its presence
// on startup means a previous prune was interrupted and must be completed.

import { promises as fsp } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";
import { unlinkDurable, writeFileAtomic, removeStaleTemps } from "../io/atomic.js";
import { PREV_NAME, type IndexSwap, type RowKey } from "./index-rewrite.js";

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
  /** Set once the index rewrite has given the old index a second name (see index-rewrite.ts). */
  index_swap?: IndexSwap | null;
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
 * Refuses a journal that would move or delete anything outside the store
 * or the archive root (a planted or corrupted journal): every source must be
 * `<host>/<episode>.tar.zst` inside the store, every destination exactly
 * `<archive_root>/<host>/<episode>.tar.zst`, no component may be `..` or
 * empty, and the real path of every existing parent directory must stay
 * inside its root (no symlinked host directories). `allowedArchiveRoots`
 * are the roots this run may use (its own, and the default one).
 */
export async function checkJournalPaths(store: string, journal: PruneJournal, allowedArchiveRoots: string[]): Promise<void> {
  const storeReal = await fsp.realpath(store);
  const bad = (what: string, why: string): Error => new Error(`prune journal ${journalPath(store)} is unsafe: ${what} ${why}; nothing was changed`);
  const safeName = (s: unknown): s is string => typeof s === "string" && s.length > 0 && s !== "." && s !== ".." && !s.includes("/") && !s.includes("\0");
  let archiveReal: string | null = null;
  if (journal.mode === "archive") {
    const root = journal.archive_root;
    if (typeof root !== "string" || !isAbsolute(root) || normalize(root) !== root) throw bad(`archive root ${JSON.stringify(root)}`, "is not a plain absolute path");
    if (!allowedArchiveRoots.map((r) => resolve(r)).includes(root)) {
      throw bad(`archive root ${root}`, "is not this run's archive root (rerun with --archive --archive-root pointing at it to complete that prune)");
    }
    archiveReal = await realpathOrParent(root);
    if (archiveReal === storeReal || archiveReal.startsWith(storeReal + sep)) throw bad(`archive root ${root}`, "is inside the store");
  } else if (journal.mode !== "delete") throw bad("mode", JSON.stringify(journal.mode));
  for (const a of journal.actions) {
    if (!safeName(a.host_id) || !safeName(a.episode_id)) throw bad(`action ${JSON.stringify(a)}`, "has an unusable host or episode id");
    const rel = `${a.host_id}/${a.episode_id}.tar.zst`;
    if (a.src !== rel) throw bad(`source ${JSON.stringify(a.src)}`, `is not ${rel}`);
    await checkInside(join(store, rel), storeReal, (why) => bad(`source ${a.src}`, why));
    if (journal.mode === "archive") {
      const want = join(journal.archive_root as string, a.host_id, `${a.episode_id}.tar.zst`);
      if (a.dst !== want) throw bad(`destination ${JSON.stringify(a.dst)}`, `is not ${want}`);
      await checkInside(want, archiveReal as string, (why) => bad(`destination ${a.dst}`, why));
    } else if (a.dst !== null) throw bad(`destination ${JSON.stringify(a.dst)}`, "in a delete prune");
  }
  if (journal.index_swap !== undefined && journal.index_swap !== null && !PREV_NAME.test(journal.index_swap.prev)) {
    throw bad(`old-index name ${JSON.stringify(journal.index_swap.prev)}`, "is not one prune makes");
  }
}

/** The real path of `p`, or of its deepest existing ancestor joined with the rest. */
async function realpathOrParent(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return join(await fsp.realpath(cur), ...rest.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(cur) === cur) throw error;
      rest.push(basename(cur));
      cur = dirname(cur);
    }
  }
}

/** `file` (which may not exist) is a regular file or absent, and its parent really lies inside `rootReal`. */
async function checkInside(file: string, rootReal: string, bad: (why: string) => Error): Promise<void> {
  const parent = await realpathOrParent(dirname(file));
  if (parent !== rootReal && !parent.startsWith(rootReal + sep)) throw bad(`resolves to ${parent}, outside ${rootReal}`);
  try {
    const st = await fsp.lstat(file);
    if (!st.isFile()) throw bad("is not a regular file");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
