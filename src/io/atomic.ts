// Durable file replacement and moves. Every output of the toolkit goes
// through here so an interrupted run never leaves a half file that looks
// whole: write a temporary name in the destination directory, fsync it,
// rename it into place, fsync the directory (the rename itself is only
// durable once the directory entry is on disk).

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, promises as fsp, constants as fsc, renameSync, rmSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Marker in every temporary name we create, so recovery can find leftovers. */
export const TEMP_MARK = ".cis490-tmp-";

/** A temporary sibling of `path` (same directory, hence same filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** True when `name` (a base name) is a temporary file we made for `target` (a base name). */
export function isTempFor(name: string, target: string): boolean {
  return name.startsWith(`.${target}${TEMP_MARK}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fsp.open(dir, fsc.O_RDONLY);
  } catch {
    return; // some filesystems refuse to open directories; nothing more we can do
  }
  try {
    await handle.sync();
  } catch (error) {
    // EINVAL/EBADF: the filesystem does not support fsync on directories.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EBADF" && code !== "ENOTSUP") throw error;
  } finally {
    await handle.close();
  }
}

export interface AtomicWriteOptions {
  /** Applied to the temp file before the rename (fchmod). */
  mode?: number;
  /** Applied to the temp file before the rename (fchown). */
  uid?: number;
  gid?: number;
}

/** Replaces `path` with `data` atomically and durably. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  const handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
  try {
    try {
      await handle.writeFile(data);
      if (options.uid !== undefined && options.gid !== undefined) await handle.chown(options.uid, options.gid);
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

/**
 * A file written under a temporary sibling name: nothing exists at `path`
 * until commit() (fsync, rename, directory fsync); abort() leaves `path` as
 * it was. For outputs written piece by piece (streams, shards).
 */
export class AtomicFile {
  private done = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    readonly handle: FileHandle,
  ) {}

  static async create(path: string, mode = 0o644): Promise<AtomicFile> {
    const tmp = tempPathFor(path);
    return new AtomicFile(path, tmp, await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode));
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error(`${this.path}: already committed or aborted`);
    this.done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await fsp.rename(this.tempPath, this.path);
    } catch (error) {
      await this.handle.close().catch(() => undefined);
      await fsp.rm(this.tempPath, { force: true });
      throw error;
    }
    await fsyncDir(dirname(this.path));
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.tempPath, { force: true });
  }
}

/** Writes byte pieces to `path` atomically and durably; returns the byte count. */
export async function writePiecesAtomic(path: string, pieces: Iterable<Uint8Array>): Promise<number> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const file = await AtomicFile.create(path);
  let bytes = 0;
  try {
    for (const p of pieces) {
      await file.handle.write(p);
      bytes += p.length;
    }
    await file.commit();
  } catch (error) {
    await file.abort();
    throw error;
  }
  return bytes;
}

/**
 * Makes a finished file that other code wrote under a temporary name (a
 * native engine's weights, say) durable and renames it into place.
 */
export async function commitTempFile(tempPath: string, path: string): Promise<void> {
  const handle = await fsp.open(tempPath, fsc.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tempPath, path);
  await fsyncDir(dirname(path));
}

/** Copies `src` to `dst` through a fsynced temp file in dst's directory. */
async function copyDurable(src: string, dst: string): Promise<void> {
  const tmp = tempPathFor(dst);
  try {
    await fsp.copyFile(src, tmp, fsc.COPYFILE_EXCL);
    const st = await fsp.stat(src);
    const handle = await fsp.open(tmp, fsc.O_RDWR);
    try {
      await handle.chmod(st.mode & 0o7777);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, dst);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(dst));
}

/**
 * Moves a file so that at every instant it exists at `src`, at `dst`, or at
 * both (never at neither): rename when both sides share a filesystem; across
 * filesystems (EXDEV) copy to a temp name beside `dst`, fsync, rename, fsync
 * the directory, and only then unlink `src`.
 */
export async function moveFileDurable(src: string, dst: string): Promise<"renamed" | "copied"> {
  await fsp.mkdir(dirname(dst), { recursive: true });
  try {
    await fsp.rename(src, dst);
    await fsyncDir(dirname(dst));
    if (dirname(dst) !== dirname(src)) await fsyncDir(dirname(src));
    return "renamed";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
  }
  await copyDurable(src, dst);
  await fsp.unlink(src);
  await fsyncDir(dirname(src));
  return "copied";
}

/** Unlinks `path` (missing is fine) and makes the removal durable. */
export async function unlinkDurable(path: string): Promise<boolean> {
  try {
    await fsp.unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await fsyncDir(dirname(path));
  return true;
}

/** Removes our leftover temp files for `target` in its directory (after a crash). */
export async function removeStaleTemps(target: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dirname(target));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!isTempFor(name, basename(target))) continue;
    await fsp.rm(join(dirname(target), name), { force: true });
    removed++;
  }
  return removed;
}

/**
 * The synchronous writeFileAtomic, for worker threads that write many small
 * files (synth): temp sibling, fsync, rename. The directory is not fsynced
 * per file (thousands of files per directory); a crash may lose the newest
 * names, never leave a half file under a final name.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
  try {
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * A directory that appears whole or not at all: `fill` writes into a
 * temporary sibling (`tempName`), every file in it is fsynced, then the
 * directory, then it is renamed into place and the parent fsynced.
 */
export async function writeDirAtomic(path: string, tempName: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const parent = dirname(path);
  const tmp = join(parent, tempName);
  await fsp.mkdir(tmp);
  try {
    await fill(tmp);
    for (const name of await fsp.readdir(tmp)) {
      const h = await fsp.open(join(tmp, name), fsc.O_RDONLY);
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
    await fsyncDir(tmp);
    await fsp.rename(tmp, path);
  } catch (error) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await fsyncDir(parent);
}

/** Removes a directory so that it is whole or gone at every instant: renamed to `trashName` first (durably), then deleted. */
export async function removeDirDurable(path: string, trashName: string): Promise<void> {
  const trash = join(dirname(path), trashName);
  await fsp.rename(path, trash);
  await fsyncDir(dirname(path));
  await fsp.rm(trash, { recursive: true, force: true });
}
