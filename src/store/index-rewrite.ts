// Dropping rows from index.jsonl while the receiver may still be appending
// to it (open O_APPEND, write one line, close). The file is replaced by an
// atomic rename, so the danger is bytes written to the *old* inode after we
// read it. We hold the old inode open throughout and copy over whatever it
// grows by: before the rename (until its size is stable) and after it, until
// no other process holds the old inode open (a writer that opened the old
// path just before the rename may still write to it).

import { promises as fsp, constants as fsc, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDir, tempPathFor } from "../io/atomic.js";
import { splitLinePieces, toIndexRecord } from "./index-file.js";
import { readRawLines, lineText } from "./lines.js";

export interface RowKey {
  episode_id: string;
  host_id: string;
}

export const rowKey = (k: RowKey): string => JSON.stringify([k.host_id, k.episode_id]);

export interface RewriteResult {
  /** Records removed (whole, valid rows matching a key). */
  dropped: number;
  /** Bytes appended to the old file after our first read (carried over verbatim). */
  carriedBytes: number;
  /** Of those, bytes that arrived after the rename (the race window). */
  lateBytes: number;
  /** Pids that still held the old index open when we stopped waiting (rows they write later go to the old, unlinked file). */
  stillOpenBy?: number[];
}

export interface RewriteOptions {
  /** Without /proc: how long the old inode must stay quiet after the rename (ms). */
  settleMs?: number;
  /** Longest wait for other processes to close the old inode (ms). */
  maxWaitMs?: number;
  /** Test hook: called after the filtered copy, before catching up (lets tests widen the window). */
  beforeCatchUp?: () => Promise<void>;
}

/** Non-root processes cannot give a file away; check before changing anything. */
export function ownerPreservable(st: Stats): string | null {
  if (typeof process.getuid !== "function") return null;
  const uid = process.getuid();
  if (uid === 0) return null;
  if (st.uid !== uid) return `index.jsonl is owned by uid ${st.uid}; only root can keep that owner when rewriting it`;
  const groups = new Set([process.getgid?.(), process.getegid?.(), ...(process.getgroups?.() ?? [])]);
  if (!groups.has(st.gid)) return `index.jsonl has gid ${st.gid}, which this user cannot assign`;
  return null;
}

async function copyRange(from: FileHandle, to: FileHandle, start: number, end: number): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, end - start)));
  let pos = start;
  while (pos < end) {
    const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, end - pos), pos);
    if (bytesRead === 0) break;
    await to.write(buf, 0, bytesRead);
    pos += bytesRead;
  }
}

/** Appends bytes [start, end) of `from` to the file at `path` (O_APPEND, like the receiver) and fsyncs. */
async function appendRange(from: FileHandle, path: string, start: number, end: number): Promise<void> {
  const h = await fsp.open(path, fsc.O_WRONLY | fsc.O_APPEND);
  try {
    await copyRange(from, h, start, end);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Batches small writes (one per index line) into large ones. */
class BufferedOut {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly handle: FileHandle) {}
  async write(data: Buffer | string): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    this.parts.push(buf);
    this.size += buf.length;
    if (this.size >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const all = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    await this.handle.write(all, 0, all.length);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Pids other than ours with a descriptor on inode (dev, ino), from
 * /proc/<pid>/fd; null where /proc cannot tell (not Linux). Processes and
 * descriptors that vanish mid-scan are skipped.
 */
export async function otherProcessesHolding(dev: number, ino: number): Promise<number[] | null> {
  let pids: string[];
  try {
    pids = (await fsp.readdir("/proc")).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return null;
  }
  const holders: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await fsp.readdir(`/proc/${pid}/fd`);
      } catch {
        return; // gone, or not ours to look at
      }
      for (const fd of fds) {
        try {
          const s = await fsp.stat(`/proc/${pid}/fd/${fd}`);
          if (s.ino === ino && s.dev === dev) {
            holders.push(Number(pid));
            return;
          }
        } catch {
          // closed meanwhile
        }
      }
    }),
  );
  return holders;
}

const EPISODE_ID = /"episode_id"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/** Cheap pre-check: does the line mention one of the episode ids being dropped? */
function mentionsDropped(text: string, dropIds: Set<string>): boolean {
  for (const m of text.matchAll(EPISODE_ID)) {
    let id: unknown;
    try {
      id = JSON.parse(`"${m[1]}"`);
    } catch {
      continue;
    }
    if (dropIds.has(id as string)) return true;
  }
  return false;
}

/** One line's replacement: null keeps it verbatim. */
function filterLine(text: string, drop: Set<string>, dropIds: Set<string>): { out: string | null; dropped: number } {
  if (drop.size === 0 || !mentionsDropped(text, dropIds)) return { out: null, dropped: 0 };
  const pieces = splitLinePieces(text);
  let dropped = 0;
  const kept: string[] = [];
  for (const piece of pieces) {
    if (piece.kind === "object") {
      const record = toIndexRecord(piece.value);
      if (typeof record !== "string" && drop.has(rowKey(record))) {
        dropped++;
        continue;
      }
    }
    // Everything else, including fragments we cannot read, is kept.
    kept.push(piece.text);
  }
  if (dropped === 0) return { out: null, dropped: 0 };
  // A torn line loses its dropped record; what remains goes one piece per line.
  return { out: kept.map((t) => t + "\n").join(""), dropped };
}

/**
 * Rewrites `indexPath` without the rows whose (host_id, episode_id) is in
 * `drop`. Idempotent: rows already gone are simply not found. Keeps the
 * file's owner and mode; keeps every line it does not drop, byte for byte
 * where the line is untouched; keeps rows appended concurrently.
 */
export async function rewriteIndexDropping(indexPath: string, dropKeys: RowKey[], options: RewriteOptions = {}): Promise<RewriteResult> {
  const drop = new Set(dropKeys.map(rowKey));
  const dropIds = new Set(dropKeys.map((k) => k.episode_id));
  const result: RewriteResult = { dropped: 0, carriedBytes: 0, lateBytes: 0 };
  const old = await fsp.open(indexPath, "r");
  try {
    const st = await old.stat();
    const tmp = tempPathFor(indexPath);
    const out = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    let copied = st.size;
    try {
      try {
        const buffered = new BufferedOut(out);
        for await (const line of readRawLines(old, 0, st.size)) {
          const { out: replacement, dropped } = filterLine(lineText(line), drop, dropIds);
          result.dropped += dropped;
          if (replacement === null) await buffered.write(line.bytes);
          else if (replacement.length > 0) await buffered.write(replacement);
        }
        await buffered.flush();
        await options.beforeCatchUp?.();
        // Carry over appends until the size holds still across two looks.
        // Bounded: under a writer that never pauses we go ahead anyway; what
        // it writes meanwhile is forwarded after the rename (below).
        for (let stable = 0, round = 0; stable < 2 && round < 50; round++) {
          const size = (await old.stat()).size;
          if (size > copied) {
            await copyRange(old, out, copied, size);
            result.carriedBytes += size - copied;
            copied = size;
            stable = 0;
          } else {
            stable++;
            await sleep(2);
          }
        }
        await out.chown(st.uid, st.gid);
        await out.chmod(st.mode & 0o7777);
        await out.sync();
      } finally {
        await out.close();
      }
      // Last catch-up right before the rename keeps the race window tiny.
      const size = (await old.stat()).size;
      if (size > copied) {
        await appendRange(old, tmp, copied, size);
        result.carriedBytes += size - copied;
        copied = size;
      }
      await fsp.rename(tmp, indexPath);
    } catch (error) {
      await fsp.rm(tmp, { force: true });
      throw error;
    }
    await fsyncDir(dirname(indexPath));

    // A writer that resolved the old path before the rename may still write
    // to the old inode. Once no other process holds it open, nobody can: it
    // is unlinked, so it cannot be opened again. Forward what it grows by
    // until then (bounded); without /proc, until it has been quiet a while.
    const settle = options.settleMs ?? 120;
    const hardStop = Date.now() + (options.maxWaitMs ?? 10_000);
    let quietSince = Date.now();
    for (;;) {
      const size = (await old.stat()).size;
      if (size > copied) {
        await appendRange(old, indexPath, copied, size);
        result.carriedBytes += size - copied;
        result.lateBytes += size - copied;
        copied = size;
        quietSince = Date.now();
      }
      const holders = await otherProcessesHolding(st.dev, st.ino);
      if (holders !== null && holders.length === 0) break;
      if (holders === null && Date.now() - quietSince >= settle) break;
      if (Date.now() >= hardStop) {
        result.stillOpenBy = holders ?? [];
        break;
      }
      await sleep(10);
    }
    const finalSize = (await old.stat()).size;
    if (finalSize > copied) {
      await appendRange(old, indexPath, copied, finalSize);
      result.carriedBytes += finalSize - copied;
      result.lateBytes += finalSize - copied;
    }
  } finally {
    await old.close();
  }
  return result;
}
