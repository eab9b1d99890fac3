// Reading index.jsonl, which the receiver appends to non-atomically: a torn
// write leaves `{...}{...}` on one line or a half record. We recover every
// whole record and report everything else; reading never aborts on content.

import { promises as fsp } from "node:fs";
import { readRawLines, lineText } from "./lines.js";

export interface IndexRecord {
  episode_id: string;
  host_id: string;
  sha256: string;
  size_bytes: number;
  received_at: string;
}

/** One piece of a line: a parseable JSON object or text we could not parse. */
export type LinePiece =
  | { kind: "object"; text: string; value: unknown }
  | { kind: "fragment"; text: string; reason: "half-record" | "invalid-json" | "garbage" };

export interface IndexEntry {
  record: IndexRecord;
  lineNo: number;
  /** Byte range of the line holding this record (several records may share a line). */
  lineStart: number;
  lineEnd: number;
}

export interface IndexProblem {
  lineNo: number;
  byteOffset: number;
  /** half-record | invalid-json | garbage | unusable-record */
  reason: string;
  detail?: string;
  snippet: string;
}

export interface DuplicateRow {
  episode_id: string;
  host_id: string;
  lineNo: number;
  firstLineNo: number;
}

export interface IndexReadResult {
  path: string;
  exists: boolean;
  /** First occurrence of each episode_id, in file order. */
  entries: IndexEntry[];
  duplicates: DuplicateRow[];
  /** Unparseable pieces and parsed objects that are not usable records. */
  problems: IndexProblem[];
  /** Lines that yielded at least one record and held more than one piece. */
  tornLinesRecovered: number;
  /** Non-blank lines. */
  lines: number;
  /** Bytes of the file that were read (its size when reading began). */
  bytesRead: number;
}

const SNIPPET = 80;

export function snippet(text: string): string {
  return text.length > SNIPPET ? text.slice(0, SNIPPET) + "…" : text;
}

/**
 * Index just past the `}` closing the object that opens at `start`, or -1
 * when the text ends first. String-aware so braces inside strings don't count.
 */
function scanObject(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Splits one line into JSON objects and unparseable fragments. When an
 * object does not parse (a half record followed by a whole one), we resync
 * at the next `{`, so the whole record behind a torn prefix is still found.
 */
export function splitLinePieces(text: string): LinePiece[] {
  const pieces: LinePiece[] = [];
  let junkStart = -1;
  let junkHalf = false;
  const flushJunk = (end: number): void => {
    if (junkStart < 0) return;
    const junk = text.slice(junkStart, end).trim();
    if (junk.length > 0) {
      const reason = junkHalf ? (junk.startsWith("{") ? "half-record" : "invalid-json") : "garbage";
      pieces.push({ kind: "fragment", text: junk, reason });
    }
    junkStart = -1;
    junkHalf = false;
  };
  let pos = 0;
  // Each failed attempt rescans to the end of the line; cap them so a long
  // line of garbage braces stays linear-ish. The rest becomes one fragment.
  let attempts = 0;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (isBlank(c) && junkStart < 0) {
      pos++;
      continue;
    }
    if (c === 0x7b && attempts < MAX_ATTEMPTS) {
      const end = scanObject(text, pos);
      if (end > 0) {
        const candidate = text.slice(pos, end);
        let value: unknown;
        let ok = false;
        try {
          value = JSON.parse(candidate);
          ok = true;
        } catch {
          ok = false;
        }
        if (ok) {
          flushJunk(pos);
          pieces.push({ kind: "object", text: candidate, value });
          pos = end;
          continue;
        }
      }
      attempts++;
      if (junkStart < 0) junkStart = pos;
      junkHalf = true;
    } else if (junkStart < 0) {
      junkStart = pos;
    }
    const next = text.indexOf("{", pos + 1);
    pos = next < 0 ? text.length : next;
  }
  flushJunk(text.length);
  return pieces;
}

const MAX_ATTEMPTS = 256;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Checks a parsed object against the index row schema; a string says what is wrong. */
export function toIndexRecord(value: unknown): IndexRecord | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof v.episode_id !== "string" || v.episode_id.length === 0) problems.push("episode_id");
  if (typeof v.host_id !== "string" || v.host_id.length === 0) problems.push("host_id");
  if (typeof v.sha256 !== "string" || !HEX64.test(v.sha256)) problems.push("sha256");
  if (typeof v.size_bytes !== "number" || !Number.isSafeInteger(v.size_bytes) || v.size_bytes < 0) problems.push("size_bytes");
  if (typeof v.received_at !== "string") problems.push("received_at");
  if (problems.length) return `missing or invalid: ${problems.join(", ")}`;
  return {
    episode_id: v.episode_id as string,
    host_id: v.host_id as string,
    sha256: (v.sha256 as string).toLowerCase(),
    size_bytes: v.size_bytes as number,
    received_at: v.received_at as string,
  };
}

/** Reads and checks the whole index, streaming line by line. A missing file reads as empty (`exists: false`). */
export async function readIndex(path: string): Promise<IndexReadResult> {
  const result: IndexReadResult = {
    path,
    exists: true,
    entries: [],
    duplicates: [],
    problems: [],
    tornLinesRecovered: 0,
    lines: 0,
    bytesRead: 0,
  };
  let size: number;
  try {
    const st = await fsp.stat(path);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "EISDIR" });
    size = st.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      result.exists = false;
      return result;
    }
    throw error;
  }
  const firstLine = new Map<string, number>();
  for await (const line of readRawLines(path, 0, size)) {
    const text = lineText(line);
    const pieces = splitLinePieces(text);
    if (pieces.length === 0) continue;
    result.lines++;
    let records = 0;
    let offsetInLine = 0;
    for (const piece of pieces) {
      const at = text.indexOf(piece.text, offsetInLine);
      const byteOffset = line.start + Buffer.byteLength(text.slice(0, Math.max(at, 0)));
      if (at >= 0) offsetInLine = at + piece.text.length;
      if (piece.kind === "fragment") {
        result.problems.push({ lineNo: line.lineNo, byteOffset, reason: piece.reason, snippet: snippet(piece.text) });
        continue;
      }
      const record = toIndexRecord(piece.value);
      if (typeof record === "string") {
        result.problems.push({ lineNo: line.lineNo, byteOffset, reason: "unusable-record", detail: record, snippet: snippet(piece.text) });
        continue;
      }
      records++;
      const first = firstLine.get(record.episode_id);
      if (first !== undefined) {
        result.duplicates.push({ episode_id: record.episode_id, host_id: record.host_id, lineNo: line.lineNo, firstLineNo: first });
        continue;
      }
      firstLine.set(record.episode_id, line.lineNo);
      result.entries.push({ record, lineNo: line.lineNo, lineStart: line.start, lineEnd: line.end });
    }
    if (records > 0 && pieces.length > 1) result.tornLinesRecovered++;
  }
  result.bytesRead = size;
  return result;
}
