// Byte-exact line streaming for index.jsonl. readline would hide byte
// offsets and normalise line endings; prune's rewrite needs both (it copies
// lines it does not understand verbatim and tracks how far it has read).

import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";

export interface RawLine {
  /** 1-based line number within the file. */
  lineNo: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's `\n` (or past its last byte when unterminated). */
  end: number;
  /** The line's bytes including the `\n` when present. */
  bytes: Buffer;
  /** False for a final line without `\n` (possibly a write still in progress). */
  terminated: boolean;
}

const CHUNK = 1 << 20;

/**
 * Streams lines of `path` from byte `from` up to byte `to` (exclusive;
 * default: the size at open time). Memory stays bounded by the longest line.
 */
export async function* readRawLines(
  source: string | FileHandle,
  from = 0,
  to?: number,
  firstLineNo = 1,
): AsyncGenerator<RawLine> {
  // A handle lets prune keep reading the inode it started with.
  const handle = typeof source === "string" ? await fsp.open(source, "r") : source;
  try {
    const limit = to ?? (await handle.stat()).size;
    let pos = from;
    let lineNo = firstLineNo;
    let pending: Buffer[] = [];
    let pendingStart = from;
    let pendingLen = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    while (pos < limit) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(CHUNK, limit - pos), pos);
      if (bytesRead === 0) break;
      let off = 0;
      while (off < bytesRead) {
        const nl = buf.indexOf(0x0a, off);
        if (nl === -1 || nl >= bytesRead) {
          pending.push(Buffer.from(buf.subarray(off, bytesRead)));
          pendingLen += bytesRead - off;
          break;
        }
        const piece = Buffer.from(buf.subarray(off, nl + 1));
        const bytes = pending.length ? Buffer.concat([...pending, piece]) : piece;
        yield { lineNo, start: pendingStart, end: pendingStart + bytes.length, bytes, terminated: true };
        lineNo++;
        pendingStart += bytes.length;
        pending = [];
        pendingLen = 0;
        off = nl + 1;
      }
      pos += bytesRead;
    }
    if (pendingLen > 0) {
      const bytes = Buffer.concat(pending);
      yield { lineNo, start: pendingStart, end: pendingStart + bytes.length, bytes, terminated: false };
    }
  } finally {
    if (typeof source === "string") await handle.close();
  }
}

/** The line's text without `\n` / `\r\n`. */
export function lineText(line: RawLine): string {
  let end = line.bytes.length;
  if (end > 0 && line.bytes[end - 1] === 0x0a) end--;
  if (end > 0 && line.bytes[end - 1] === 0x0d) end--;
  return line.bytes.toString("utf8", 0, end);
}
