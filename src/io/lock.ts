// One lock-file implementation for every command that must not run twice
// at once on the same directory (prune on a store, the features merge).
//
// - Creation is atomic and never leaves an empty lock: the owner record is
//   written and fsynced to a temporary file, then link(2)ed to the lock path;
//   link fails with EEXIST when a lock is already there.
// - A lock is stale only when its owner is verifiably dead: same host, same
//   PID namespace, and that pid is gone or now belongs to a process started
//   at another time. A lock whose file is younger than a grace period counts
//   as live whatever the pid says.
// - A stale lock is taken over by renaming it aside and checking that what
//   was moved is the lock judged stale (else it is put back).
// - Release removes the lock only while it still carries our random token.

import { randomBytes } from "node:crypto";
import { promises as fsp, readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { fsyncDir, isTempFor, TEMP_MARK, tempPathFor } from "./atomic.js";

export interface LockOwner {
  pid: number;
  host: string;
  /** /proc/self/ns/pid of the owner ("pid:[4026531836]"), null off Linux. */
  pid_ns: string | null;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), null off Linux. */
  start_ticks: string | null;
  token: string;
  started_at: string;
  /** What holds it (e.g. "prune"). */
  purpose: string;
}

export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** True while the lock file still carries our token. */
  stillOurs(): Promise<boolean>;
  /** Removes the lock if it is still ours; never removes another's. */
  release(): Promise<void>;
}

export type LockAttempt = { ok: true; lock: HeldLock } | { ok: false; holder: LockOwner | null; message: string };

export interface LockOptions {
  purpose: string;
  /** A lock file younger than this is live even if its pid looks dead (ms). */
  graceMs?: number;
  /** Break the lock whoever holds it (an explicit user decision, e.g. `--force`). */
  force?: boolean;
}

export const DEFAULT_LOCK_GRACE_MS = 1000;

function procStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function ownPidNamespace(): string | null {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return null;
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== "number" || typeof v.host !== "string") return null;
    return {
      pid: v.pid,
      host: v.host,
      pid_ns: v.pid_ns ?? null,
      start_ticks: v.start_ticks ?? null,
      token: typeof v.token === "string" ? v.token : "",
      started_at: typeof v.started_at === "string" ? v.started_at : "?",
      purpose: typeof v.purpose === "string" ? v.purpose : "?",
    };
  } catch {
    return null;
  }
}

export function describeOwner(o: LockOwner): string {
  return `${o.purpose} pid ${o.pid} on ${o.host} since ${o.started_at}`;
}

async function readOwner(path: string): Promise<{ owner: LockOwner | null; mtimeMs: number } | null> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(path, "utf8"), fsp.stat(path)]);
    return { owner: parseOwner(text), mtimeMs: st.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Dead for sure: anything we cannot verify (another host or namespace, EPERM, unreadable /proc) is alive. */
export function ownerVerifiablyDead(o: LockOwner): boolean {
  if (o.host !== hostname()) return false;
  if (o.pid_ns !== ownPidNamespace()) return false;
  if (!Number.isInteger(o.pid) || o.pid <= 0) return false;
  try {
    process.kill(o.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  // The pid exists: dead only if it was reused by a process started at another time.
  if (o.start_ticks === null) return false;
  const now = procStartTicks(o.pid);
  return now !== null && now !== o.start_ticks;
}

async function linkInto(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = tempPathFor(path);
  const handle = await fsp.open(tmp, "wx", 0o644);
  try {
    await handle.writeFile(JSON.stringify(owner) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await fsp.rm(tmp, { force: true });
    await fsyncDir(dirname(path));
  }
}

/** Moves the lock at `path` aside if it still is `judged` (same token); puts back anything else it moved. */
async function breakLock(path: string, judged: LockOwner | null, judgedMtime: number): Promise<void> {
  const aside = `${path}.broken-${randomBytes(6).toString("hex")}`;
  try {
    await fsp.rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // someone else broke it
    throw error;
  }
  const moved = await readOwner(aside);
  const same = moved !== null && (judged === null ? moved.owner === null && moved.mtimeMs === judgedMtime : moved.owner?.token === judged.token);
  if (!same) {
    // We moved a lock taken meanwhile: put it back (if a third process already
    // took the path, its lock stands and the moved one's owner loses it; it
    // notices through stillOurs()).
    await fsp.link(aside, path).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
  await fsyncDir(dirname(path));
}

const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
};

/**
 * Removes what killed lockers left beside the lock: owner records not yet
 * linked (temp names carry the writer's pid; only dead writers' go) and
 * locks moved aside by a breaker that died (after a minute).
 */
async function sweepLeftovers(path: string): Promise<void> {
  const dir = dirname(path);
  const name = basename(path);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    let stale = false;
    if (isTempFor(n, name)) {
      const pid = Number(n.slice(`.${name}${TEMP_MARK}`.length).split("-")[0]);
      stale = Number.isInteger(pid) && pid > 0 && pidGone(pid);
    } else if (n.startsWith(`${name}.broken-`)) {
      const st = await fsp.stat(join(dir, n)).catch(() => null);
      stale = st !== null && Date.now() - st.mtimeMs > 60_000;
    }
    if (stale) await fsp.rm(join(dir, n), { force: true });
  }
}

/** One attempt to take the lock at `path`. */
export async function tryLock(path: string, options: LockOptions): Promise<LockAttempt> {
  const graceMs = options.graceMs ?? DEFAULT_LOCK_GRACE_MS;
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    pid_ns: ownPidNamespace(),
    start_ticks: procStartTicks(process.pid),
    token: randomBytes(16).toString("hex"),
    started_at: new Date().toISOString(),
    purpose: options.purpose,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await linkInto(path, owner)) {
      await sweepLeftovers(path);
      return { ok: true, lock: heldLock(path, owner) };
    }
    const seen = await readOwner(path);
    if (seen === null) continue; // released meanwhile
    const young = Date.now() - seen.mtimeMs < graceMs;
    const stale = seen.owner !== null && !young && ownerVerifiablyDead(seen.owner);
    if (!options.force && !stale) {
      const who = seen.owner ? describeOwner(seen.owner) : "an unreadable lock (remove it by hand if no process uses it)";
      const hint = seen.owner && young && ownerVerifiablyDead(seen.owner) ? " (its owner has just died; retry in a moment)" : "";
      return { ok: false, holder: seen.owner, message: `${path} is held by ${who}${hint}` };
    }
    await breakLock(path, seen.owner, seen.mtimeMs);
  }
  return { ok: false, holder: null, message: `${path} is contended; retry` };
}

/**
 * Takes the lock, waiting up to `waitMs` for a live holder to release it or
 * for the grace period of a dead one to pass.
 */
export async function acquireLock(path: string, options: LockOptions & { waitMs?: number }): Promise<LockAttempt> {
  const deadline = Date.now() + (options.waitMs ?? 0) + (options.graceMs ?? DEFAULT_LOCK_GRACE_MS);
  for (;;) {
    const attempt = await tryLock(path, options);
    if (attempt.ok) return attempt;
    const deadOwner = attempt.holder !== null && ownerVerifiablyDead(attempt.holder);
    const mayWait = Date.now() < deadline && (deadOwner || (options.waitMs ?? 0) > 0);
    if (!mayWait) return attempt;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function heldLock(path: string, owner: LockOwner): HeldLock {
  const stillOurs = async (): Promise<boolean> => (await readOwner(path).catch(() => null))?.owner?.token === owner.token;
  return {
    path,
    owner,
    stillOurs,
    async release(): Promise<void> {
      // Only a breaker acts on a lock it judged dead, and we are alive: between
      // this check and the unlink nobody else can put a lock here.
      if (await stillOurs()) {
        await fsp.rm(path, { force: true });
        await fsyncDir(dirname(path));
      }
    },
  };
}
