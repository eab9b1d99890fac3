// Append-only JSONL files (the alias journal, the decision log). A record is
// one line written by a single write(2) on an O_APPEND descriptor, then
// fsynced: concurrent appenders never interleave inside a line, and a line
// on disk survives a crash once append returns. A process killed mid-write
// can leave a torn last line (no newline): readers skip it, and the next
// append first ends it with a newline so it never glues onto a good record.

import { promises as fsp, constants as fsc } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../io/atomic.js";

export async function appendJsonLine(path: string, record: unknown): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const created = !(await fsp.stat(path).then(() => true, () => false));
  const handle = await fsp.open(path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o644);
  try {
    const st = await handle.stat();
    let prefix = "";
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      const fd = await fsp.open(path, fsc.O_RDONLY);
      try {
        await fd.read(last, 0, 1, st.size - 1);
      } finally {
        await fd.close();
      }
      if (last[0] !== 0x0a) prefix = "\n";
    }
    await handle.write(prefix + JSON.stringify(record) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await fsyncDir(dirname(path));
}

export interface JsonLines<T> {
  records: T[];
  /** Lines that are not JSON objects (a torn last line, or damage), with their 1-based numbers. */
  skipped: number[];
}

export async function readJsonLines<T>(path: string): Promise<JsonLines<T>> {
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: [], skipped: [] };
    throw error;
  }
  const records: T[] = [];
  const skipped: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const doc = JSON.parse(line) as unknown;
      if (doc && typeof doc === "object" && !Array.isArray(doc)) records.push(doc as T);
      else skipped.push(i + 1);
    } catch {
      skipped.push(i + 1);
    }
  });
  return { records, skipped };
}
