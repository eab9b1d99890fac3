// Dropping rows from index.jsonl while the receiver may still be appending
// to it. The file is replaced by an atomic rename (temp + fsync + rename +
// dir fsync), so the danger is bytes written to the *old* inode after we
// read it: a writer that keeps the old inode open keeps appending to it
// after the rename, and nothing can forward those rows for sure while it
// holds it. Hence (docs/prune.md, "prune and concurrent writers"):
//
// 1. Before the rename, no other process may hold the index open for
//    writing (scanWriters, /proc). We copy what it grows by, scan, and
//    rename only right after a scan that proves no writer; a writer that
//    stays past `waitMs` makes us give up with the index untouched. A scan
//    that cannot see every process counts as a writer unless the user
//    overrides (`allowUnverified`).
// 2. The old inode gets a second name (`.index.jsonl.cis490-prev-*`, recorded
//    through `onSwap` in the prune journal) before the rename, so it can
//    never become unreachable: a writer that opened the index in the instant
//    between our last scan and the rename, or a prune killed right after the
//    rename, leaves its rows in a file that recovery drains.
// 3. After the rename we forward whole lines from the old inode until no
//    process holds it, then drop the second name. A writer still there
//    after `lateWaitMs` leaves the old inode named and the journal in place
//    (status "late-held"); the next prune drains it.

import { promises as fsp, constants as fsc, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { commitTempFile, fsyncDir, tempPathFor } from "../io/atomic.js";
import { realProc, scanProvesNoWriter, scanWriters, type ProcAccess, type WriterScan } from "../io/file-writers.js";
import { splitLinePieces, toIndexRecord } from "./index-file.js";
import { readRawLines, lineText } from "./lines.js";

export interface RowKey {
  episode_id: string;
  host_id: string;
}

export const rowKey = (k: RowKey): string => JSON.stringify([k.host_id, k.episode_id]);

/** The old index's second name while a rewrite is in flight (journaled, so recovery can drain it). */
export interface IndexSwap {
  /** Base name, in the index's directory. */
  prev: string;
  /** Bytes of the old index accounted for in the new one when this was recorded. */
  copied: number;
  /** Size of the new index at that moment; bytes after it are copies of the old index from `copied` on, or later appends. */
  new_size: number;
}

export const PREV_NAME = /^\.index\.jsonl\.cis490-prev-[0-9a-f]{12}$/;

export type RewriteStatus =
  /** Rewritten, and nobody holds the old inode any more. */
  | "done"
  /** Not rewritten: another process held the index open for writing (or could not be ruled out) for the whole wait. */
  | "held"
  /** Rewritten, but a process still holds the old inode open: it stays linked as `prevPath` and the caller's journal stays. */
  | "late-held";

export interface RewriteResult {
  status: RewriteStatus;
  /** Records removed (whole, valid rows matching a key). */
  dropped: number;
  /** Bytes appended to the old file after our first read (carried over verbatim). */
  carriedBytes: number;
  /** Of those, bytes that arrived after the rename. */
  lateBytes: number;
  /** The last scan when the status is not "done": who held the index, or why that could not be ruled out. */
  scan?: WriterScan;
  /** "late-held": where the old inode is kept. */
  prevPath?: string;
}

export interface RewriteOptions {
  /** Longest wait for other writers to leave the index before the rename (ms, default 0: one look). */
  waitMs?: number;
  /** After the rename: longest wait for writers that opened the old index in the last instant to close it (ms). */
  lateWaitMs?: number;
  /** Proceed when a scan finds no writer but cannot see every process (explicit user override). */
  allowUnverified?: boolean;
  /** With allowUnverified and a blind scan: how long the old inode must stay quiet after the rename (ms). */
  settleMs?: number;
  proc?: ProcAccess;
  /** Called before the old index gets its second name; the prune journals it. */
  onSwap?: (swap: IndexSwap) => Promise<void>;
  /** Test hook: called after the filtered copy, before catching up (lets tests widen the window). */
  beforeCatchUp?: () => Promise<void>;
  /** Test hook: called between the last writer scan and the rename. */
  beforeRename?: () => Promise<void>;
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
  /** Bytes handed to write() so far. */
  written = 0;
  constructor(private readonly handle: FileHandle) {}
  async write(data: Buffer | string): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    this.written += buf.length;
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


/** Appends `data` to `path` with O_APPEND (one write per call where the kernel allows), then fsyncs. */
async function appendBytes(path: string, data: Buffer): Promise<void> {
  const h = await fsp.open(path, fsc.O_WRONLY | fsc.O_APPEND);
  try {
    for (let off = 0; off < data.length; ) off += (await h.write(data, off, data.length - off)).bytesWritten;
    await h.sync();
  } finally {
    await h.close();
  }
}

const FORWARD_CHUNK = 8 << 20;

/**
 * Forwards what the old inode grows by into the index until no process can
 * write to it any more, or until `deadline`. While a writer may still be
 * there only whole lines go across (a half line forwarded now would be
 * interleaved with the receiver's own appends to the new file); once none
 * can be, the rest goes too, a final fragment closed with a newline.
 */
async function drainOld(
  old: FileHandle,
  inode: { dev: number; ino: number },
  indexPath: string,
  from: number,
  options: RewriteOptions,
  deadline: number,
  result: RewriteResult,
): Promise<{ done: boolean; scan: WriterScan }> {
  const proc = options.proc ?? realProc;
  const settle = options.settleMs ?? 200;
  let copied = from;
  let quietSince = Date.now();
  for (;;) {
    // Scan first, size second: when the scan proves that nobody can write, the size read after it is final.
    const scan = await scanWriters(inode.dev, inode.ino, proc);
    const size = (await old.stat()).size;
    const blindButQuiet = options.allowUnverified === true && scan.writers.length === 0 && size === copied && Date.now() - quietSince >= settle;
    const end = Math.min(size, copied + FORWARD_CHUNK);
    const final = (scanProvesNoWriter(scan) || blindButQuiet) && end === size;
    if (end > copied) {
      const buf = Buffer.allocUnsafe(end - copied);
      const { bytesRead } = await old.read(buf, 0, buf.length, copied);
      const n = final ? bytesRead : buf.lastIndexOf(0x0a, bytesRead - 1) + 1;
      if (n > 0) {
        let out = buf.subarray(0, n);
        if (final && out[n - 1] !== 0x0a) out = Buffer.concat([out, Buffer.from("\n")]);
        await appendBytes(indexPath, out);
        result.carriedBytes += n;
        result.lateBytes += n;
        copied += n;
        quietSince = Date.now();
      }
    }
    if (final) return { done: true, scan };
    if (Date.now() >= deadline) return { done: false, scan };
    await sleep(10);
  }
}

/**
 * Rewrites `indexPath` without the rows whose (host_id, episode_id) is in
 * `drop`. Idempotent: rows already gone are simply not found. Keeps the
 * file's owner and mode; keeps every line it does not drop, byte for byte
 * where the line is untouched; keeps rows appended concurrently. Never
 * renames while another process holds the index open for writing (status
 * "held", index untouched).
 */
export async function rewriteIndexDropping(indexPath: string, dropKeys: RowKey[], options: RewriteOptions = {}): Promise<RewriteResult> {
  const proc = options.proc ?? realProc;
  const drop = new Set(dropKeys.map(rowKey));
  const dropIds = new Set(dropKeys.map((k) => k.episode_id));
  const result: RewriteResult = { status: "done", dropped: 0, carriedBytes: 0, lateBytes: 0 };
  const dir = dirname(indexPath);
  const prevPath = join(dir, `.${basename(indexPath)}.cis490-prev-${randomBytes(6).toString("hex")}`);
  const old = await fsp.open(indexPath, "r");
  try {
    const st = await old.stat();
    const tmp = tempPathFor(indexPath);
    const out = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    let copied = st.size;
    let newSize = 0;
    let linked = false;
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
        newSize = buffered.written;
        await options.beforeCatchUp?.();
        // Carry over appends until the size holds still across two looks (bounded).
        for (let stable = 0, round = 0; stable < 2 && round < 50; round++) {
          const size = (await old.stat()).size;
          if (size > copied) {
            await copyRange(old, out, copied, size);
            result.carriedBytes += size - copied;
            newSize += size - copied;
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
      await options.onSwap?.({ prev: basename(prevPath), copied, new_size: newSize });
      await fsp.link(indexPath, prevPath);
      linked = true;
      const linkedSt = await fsp.stat(prevPath);
      if (linkedSt.ino !== st.ino || linkedSt.dev !== st.dev) throw new Error(`${indexPath} was replaced by another process during the rewrite`);
      await fsyncDir(dir);

      // Rename only right after a scan that shows nobody holding the index for writing.
      const deadline = Date.now() + (options.waitMs ?? 0);
      for (;;) {
        const scan = await scanWriters(st.dev, st.ino, proc);
        const size = (await old.stat()).size;
        if (size > copied) {
          await appendRange(old, tmp, copied, size);
          result.carriedBytes += size - copied;
          copied = size;
        }
        if (scan.writers.length === 0 && (scanProvesNoWriter(scan) || options.allowUnverified)) break;
        if (Date.now() >= deadline) {
          result.status = "held";
          result.scan = scan;
          break;
        }
        await sleep(25);
      }
      if (result.status === "held") {
        await fsp.rm(tmp, { force: true });
        await fsp.unlink(prevPath); // still the index's own inode: only the extra name goes
        await fsyncDir(dir);
        return result;
      }
      await options.beforeRename?.();
      const size = (await old.stat()).size;
      if (size > copied) {
        await appendRange(old, tmp, copied, size);
        result.carriedBytes += size - copied;
        copied = size;
      }
      await commitTempFile(tmp, indexPath);
    } catch (error) {
      await fsp.rm(tmp, { force: true });
      if (linked && (await sameInode(indexPath, prevPath))) await fsp.rm(prevPath, { force: true });
      throw error;
    }
    await finishSwap(old, st, indexPath, prevPath, copied, options, result);
  } finally {
    await old.close();
  }
  return result;
}

async function sameInode(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([fsp.stat(a), fsp.stat(b)]);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

async function finishSwap(
  old: FileHandle,
  inode: { dev: number; ino: number },
  indexPath: string,
  prevPath: string,
  copied: number,
  options: RewriteOptions,
  result: RewriteResult,
): Promise<void> {
  const drained = await drainOld(old, inode, indexPath, copied, options, Date.now() + (options.lateWaitMs ?? 10_000), result);
  if (drained.done) {
    await fsp.unlink(prevPath);
    await fsyncDir(dirname(prevPath));
  } else {
    result.status = "late-held";
    result.scan = drained.scan;
    result.prevPath = prevPath;
  }
}

/**
 * How far the old inode's lines from `copied` on already appear, in order,
 * in the new index after `newSize` (forwarded by a run that was cut short).
 * Rows are distinct (episode ids are unique), so an in-order match is a copy.
 */
async function alreadyForwarded(old: FileHandle, copied: number, indexPath: string, newSize: number): Promise<number> {
  const strip = (b: Buffer): Buffer => (b.length > 0 && b[b.length - 1] === 0x0a ? b.subarray(0, b.length - 1) : b);
  const oldLines = readRawLines(old, copied)[Symbol.asyncIterator]();
  let next = await oldLines.next();
  let pos = copied;
  for await (const line of readRawLines(indexPath, newSize)) {
    if (next.done) break;
    if (strip(line.bytes).equals(strip(next.value.bytes))) {
      pos = next.value.end;
      next = await oldLines.next();
    }
  }
  await oldLines.return?.(undefined);
  return pos;
}

/**
 * Completes a swap recorded in a journal. Null when there is nothing to
 * drain (the rename never happened, or the old inode was already released):
 * the caller reruns the rewrite, which is idempotent. Otherwise the rewrite
 * is done once the old inode is drained.
 */
export async function recoverSwap(indexPath: string, swap: IndexSwap, options: RewriteOptions = {}): Promise<RewriteResult | null> {
  if (!PREV_NAME.test(swap.prev)) throw new Error(`prune journal names an unexpected old-index file ${JSON.stringify(swap.prev)}`);
  const prevPath = join(dirname(indexPath), swap.prev);
  let prevSt: Stats;
  try {
    prevSt = await fsp.lstat(prevPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  if (!prevSt.isFile()) throw new Error(`${prevPath} is not a regular file; refusing to touch it`);
  if (await sameInode(indexPath, prevPath)) {
    await fsp.unlink(prevPath);
    await fsyncDir(dirname(prevPath));
    return null;
  }
  const result: RewriteResult = { status: "done", dropped: 0, carriedBytes: 0, lateBytes: 0 };
  const old = await fsp.open(prevPath, "r");
  try {
    const from = await alreadyForwarded(old, swap.copied, indexPath, swap.new_size);
    await finishSwap(old, prevSt, indexPath, prevPath, from, options, result);
  } finally {
    await old.close();
  }
  return result;
}
