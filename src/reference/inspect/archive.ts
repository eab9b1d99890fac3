// The TypeScript twin of crates/cis490-core/src/archive.rs: the zstd stream
// decoder (bounded output, window limit), the errors that stop an episode,
// and a plain, streaming tar reader (docs/inspection.md, "Reading the
// archive"). The tar reader pulls bytes from a ByteSource chunk by chunk, so
// it never needs the whole decompressed archive in memory, and it never
// touches the file system: entries are only described, never extracted.
//
// Formats: POSIX ustar (prefix/name joined with "/" when the magic is
// "ustar\0"), old v7 headers, GNU long names and link names ('L', 'K'), and
// pax extended headers ('x' for the next entry, 'g' for every following one;
// the keys `path`, `linkpath`, `size` and `mtime` are applied, the rest
// ignored; docs/inspection.md, "pax headers"). A malformed pax header throws
// PaxError. Links are described, never followed.
//
// End of archive: two zero blocks, a zero block then the end of the stream,
// or the end of the stream at a header boundary. A single zero block followed
// by anything else, a stream that ends inside a header, inside member data or
// inside the padding after it, and a bad header checksum are TarErrors.

import binding from "zstd-napi/binding.js";
import { windowLogOf } from "./limits.js";

// ---------------------------------------------------------------------------
// Errors that stop the episode. Each carries the report's `fatal` code.

export class FatalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// zstd: a pull source over the whole compressed file, decoding one output
// buffer at a time so that memory stays bounded whatever the ratio.

const OUT_CHUNK = binding.dStreamOutSize();

/** libzstd's message for ZSTD_error_frameParameter_windowTooLarge. */
const WINDOW_TOO_LARGE = "Frame requires too much memory for decoding";

export class ZstdSource implements ByteSource {
  private readonly dctx = new binding.DCtx();
  private readonly out = new Uint8Array(OUT_CHUNK);
  private inPos = 0;
  private sawFrame = false;
  private frameOpen = false;
  private outputFull = false;
  /** Decoded bytes not yet handed out (a view into `out`). */
  private pending: Uint8Array = new Uint8Array(0);
  /** Decoded bytes handed out so far. */
  delivered = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly maxTotal: number,
    private readonly maxWindow: number,
  ) {
    // The window is the decoder's one large allocation: a frame declaring
    // more than max_window_bytes is refused before it is allocated.
    this.dctx.setParameter(binding.DParameter.windowLogMax, windowLogOf(maxWindow));
  }

  /** Decodes into `out`; returns the number of bytes produced, 0 at the clean end of the stream. */
  private decode(): number {
    for (;;) {
      const noInput = this.inPos >= this.input.length;
      if (noInput && !this.outputFull) {
        // Nothing left to feed and nothing buffered inside zstd: the stream must end on a frame boundary.
        if (!this.sawFrame) throw new FatalError("zstd-error", "empty input: no zstd frame");
        if (this.frameOpen) throw new FatalError("zstd-error", "zstd frame cut short");
        return 0;
      }
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = this.dctx.decompressStream(this.out, this.input.subarray(this.inPos));
      } catch (error) {
        const message = (error as Error).message;
        if (message === WINDOW_TOO_LARGE) throw new FatalError("limit:window-bytes", `a zstd frame declares a window larger than max_window_bytes (${this.maxWindow} bytes)`);
        throw new FatalError("zstd-error", `zstd: ${message}`);
      }
      this.inPos += consumed;
      if (consumed > 0) this.sawFrame = true;
      // zstd answers a hint (non-zero) to a call that had nothing to do; only a call that made progress tells
      // whether a frame is still open.
      if (consumed > 0 || produced > 0) this.frameOpen = ret !== 0;
      // A full output buffer may mean zstd still holds decoded bytes: call again even without input.
      this.outputFull = produced === this.out.length;
      if (produced > 0) return produced;
    }
  }

  next(): Uint8Array | null {
    if (this.pending.length === 0) {
      const produced = this.decode();
      if (produced === 0) return null;
      this.pending = this.out.subarray(0, produced);
    }
    // The limit trips when the reader needs byte max_total_bytes + 1, wherever zstd's chunks happen to end.
    const allowed = this.maxTotal - this.delivered;
    if (allowed <= 0) {
      throw new FatalError("limit:total-bytes", `more than ${this.maxTotal} decompressed bytes`);
    }
    const piece = this.pending.subarray(0, Math.min(allowed, this.pending.length));
    this.pending = this.pending.subarray(piece.length);
    this.delivered += piece.length;
    return piece;
  }
}

// ---------------------------------------------------------------------------
// tar.

export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarError";
  }
}

/** A GNU long name/link record larger than the caller allows. */
export class TarLimitError extends Error {
  constructor(
    readonly rawName: string,
    readonly size: number,
  ) {
    super(`GNU long name record of ${size} bytes`);
    this.name = "TarLimitError";
  }
}

/** A malformed pax extended header (a TarError: the archive cannot be read past it). */
export class PaxError extends TarError {
  constructor(
    /** The pax header's own tar name (e.g. "./PaxHeaders/meta.json"). */
    readonly headerName: string,
    what: string,
  ) {
    super(`malformed pax header ${JSON.stringify(headerName)}: ${what}`);
    this.name = "PaxError";
  }
}

/** Over this many data bytes a pax header is malformed (its data is held in memory to be parsed). */
export const MAX_PAX_BYTES = 1 << 20;

/** Something that yields the (decompressed) archive in chunks. */
export interface ByteSource {
  /** The next non-empty chunk, or null at the clean end of the stream. May throw its own errors. */
  next(): Uint8Array | null;
}

export type TarKind = "file" | "hardlink" | "symlink" | "chardev" | "blockdev" | "dir" | "fifo" | "other";

export interface TarEntryInfo {
  /** The effective path (pax `path`, else GNU long name, else ustar prefix/name), decoded as UTF-8 with U+FFFD for invalid sequences. */
  name: string;
  kind: TarKind;
  /** The raw type flag character ("0", "2", "\0", ...). */
  typeflag: string;
  /** Effective data size in bytes (pax `size`, else the header field). */
  size: number;
  /** Effective link target (pax `linkpath`, else GNU long link, else the header field); never followed. */
  linkname: string;
  /** Effective modification time in seconds (pax `mtime`, else the header field; null if that is not a number). */
  mtime: number | null;
  /** Offset of the first data byte in the uncompressed stream. */
  dataOffset: number;
}

const BLOCK = 512;

const KINDS: Record<string, TarKind> = {
  "0": "file",
  "\0": "file",
  "7": "file", // contiguous file: a regular file to every reader that matters
  "1": "hardlink",
  "2": "symlink",
  "3": "chardev",
  "4": "blockdev",
  "5": "dir",
  "6": "fifo",
};

const utf8Lossy = new TextDecoder("utf-8");

function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/**
 * Numeric header field: GNU base-256 (high bit of the first byte set; negative
 * or over 64 bits is an error), else octal digits with optional leading
 * spaces and nothing but NUL/space after them.
 */
function parseNumeric(field: Uint8Array, what: string): number {
  if (field[0] & 0x80) {
    if (field[0] === 0xff) throw new TarError(`negative ${what} in tar header`);
    let value = BigInt(field[0] & 0x7f);
    for (let i = 1; i < field.length; i++) value = (value << 8n) | BigInt(field[i]);
    if (value > 0xffffffffffffffffn) throw new TarError(`${what} field overflows 64 bits`);
    return Number(value);
  }
  let i = 0;
  while (i < field.length && field[i] === 0x20) i++;
  const start = i;
  let value = 0;
  while (i < field.length && field[i] >= 0x30 && field[i] <= 0x37) value = value * 8 + (field[i++] - 0x30);
  const restOk = field.subarray(i).every((c) => c === 0 || c === 0x20);
  if (i === start || !restOk) throw new TarError(`${what} field is not an octal number`);
  return value;
}

/** A pax value as one header states it: set, or explicitly emptied (`key=`: fall back to the header's own field). */
type PaxValue<T> = { set: T } | "cleared";

/** The pax keys we interpret; a key is absent when no record named it. */
interface PaxRecords {
  path?: PaxValue<Uint8Array>;
  linkpath?: PaxValue<Uint8Array>;
  size?: PaxValue<number>;
  mtime?: PaxValue<number>;
}

const PAX_KEYS = ["path", "linkpath", "size", "mtime"] as const;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

function allDigits(b: Uint8Array): boolean {
  return b.length > 0 && b.every(isDigit);
}

/** Bytes as a string, one char per byte (no spread: values may be up to MAX_PAX_BYTES long). */
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");

/** Decimal digits only, within 64 bits (a size past 2^53 is rounded, like any huge size). */
function parsePaxSize(v: Uint8Array): number | null {
  if (!allDigits(v)) return null;
  const digits = latin1(v).replace(/^0+(?=.)/, "");
  if (digits.length > 20) return null;
  const n = BigInt(digits);
  return n > 0xffffffffffffffffn ? null : Number(n);
}

/** `[-]digits[.digits]` (POSIX's grammar for pax times), as seconds. */
function parsePaxTime(v: Uint8Array): number | null {
  const body = v[0] === 0x2d ? v.subarray(1) : v;
  const dot = body.indexOf(0x2e);
  const int = dot < 0 ? body : body.subarray(0, dot);
  if (!allDigits(int) || (dot >= 0 && !allDigits(body.subarray(dot + 1)))) return null;
  const t = Number(latin1(v));
  return Number.isFinite(t) ? t : null;
}

/**
 * pax extended header data: `"<len> <key>=<value>\n"` records, `len`
 * counting the whole record in decimal bytes. Trailing NUL bytes after the
 * last record are allowed. Returns the records, or what is wrong.
 */
function parsePax(data: Uint8Array): PaxRecords | string {
  const out: PaxRecords = {};
  const n = data.length;
  let pos = 0;
  while (pos < n) {
    if (data[pos] === 0) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      return "NUL byte inside the records";
    }
    let i = pos;
    let len = 0;
    while (i < n && isDigit(data[i])) {
      // Past the data is past the data, however many digits follow.
      len = Math.min(len * 10 + (data[i] - 0x30), n + 1);
      i++;
    }
    if (i === pos) return "record length is not a decimal number";
    if (i === n || data[i] !== 0x20) return "record length is not followed by a space";
    if (len > n - pos) return "record runs past the header data";
    const end = pos + len;
    if (end < i + 2) return "record shorter than its length field";
    if (data[end - 1] !== 0x0a) return "record does not end with a newline";
    const body = data.subarray(i + 1, end - 1);
    const eq = body.indexOf(0x3d);
    if (eq < 0) return "record has no '='";
    if (eq === 0) return "record has an empty key";
    const key = eq <= 8 ? latin1(body.subarray(0, eq)) : ""; // longer keys are none of ours
    const value = body.subarray(eq + 1);
    if (key === "path" || key === "linkpath") out[key] = value.length === 0 ? "cleared" : { set: value.slice() };
    else if (key === "size" || key === "mtime") {
      if (value.length === 0) out[key] = "cleared";
      else {
        const v = key === "size" ? parsePaxSize(value) : parsePaxTime(value);
        if (v === null) return key === "size" ? "size record is not a decimal number" : "mtime record is not a decimal time";
        out[key] = { set: v };
      }
    }
    pos = end;
  }
  return out;
}

/** The effective value: the entry's own record, else the global one, else the header's (an emptied own record skips the global one). */
function effective<T>(local: PaxValue<T> | undefined, global: PaxValue<T> | undefined, header: T): T {
  if (local !== undefined) return local === "cleared" ? header : local.set;
  return global !== undefined && global !== "cleared" ? global.set : header;
}

/** The ustar name of a header: prefix/name joined when the magic says ustar. */
function headerName(header: Uint8Array): Uint8Array {
  const name = cString(header.subarray(0, 100));
  const isUstar = String.fromCharCode(...header.subarray(257, 263)) === "ustar\0";
  const prefix = isUstar ? cString(header.subarray(345, 500)) : new Uint8Array(0);
  return prefix.length > 0 ? Buffer.concat([prefix, Buffer.from("/"), name]) : name;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Pull-based reader: call nextEntry(), then optionally readData() for that
 * entry; unread data (and padding) is skipped by the next nextEntry().
 */
export class TarReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkPos = 0;
  private ended = false;
  /** Bytes of the stream consumed so far. */
  position = 0;
  /** Data bytes of the current entry not yet consumed, and the padding after them. */
  private dataLeft = 0;
  private padLeft = 0;
  private finished = false;
  /** pax 'g' records in force for every following entry. */
  private global: PaxRecords = {};

  constructor(private readonly source: ByteSource) {}

  /** Makes at least one unread byte available; false at the end of the stream. */
  private fill(): boolean {
    while (this.chunkPos >= this.chunk.length) {
      if (this.ended) return false;
      const next = this.source.next();
      if (next === null) {
        this.ended = true;
        return false;
      }
      this.chunk = next;
      this.chunkPos = 0;
    }
    return true;
  }

  /** Exactly n bytes (copied), null if the stream ends before the first byte; TarError if it ends part way. */
  private readExact(n: number, what: string): Uint8Array | null {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!this.fill()) {
        if (got === 0) return null;
        throw new TarError(`stream ends inside ${what}`);
      }
      const take = Math.min(n - got, this.chunk.length - this.chunkPos);
      out.set(this.chunk.subarray(this.chunkPos, this.chunkPos + take), got);
      this.chunkPos += take;
      this.position += take;
      got += take;
    }
    return out;
  }

  /** Consumes n bytes, handing each piece (a view, valid only during the call) to onChunk. */
  private consume(n: number, what: string, onChunk?: (piece: Uint8Array) => void): void {
    let left = n;
    while (left > 0) {
      if (!this.fill()) throw new TarError(`stream ends inside ${what}`);
      const take = Math.min(left, this.chunk.length - this.chunkPos);
      if (onChunk) onChunk(this.chunk.subarray(this.chunkPos, this.chunkPos + take));
      this.chunkPos += take;
      this.position += take;
      left -= take;
    }
  }

  /** Skips whatever is left of the current entry: data, then padding to the next block. */
  private finishEntry(): void {
    if (this.dataLeft > 0) {
      const n = this.dataLeft;
      this.dataLeft = 0;
      this.consume(n, "member data");
    }
    if (this.padLeft > 0) {
      const n = this.padLeft;
      this.padLeft = 0;
      this.consume(n, "member data");
    }
  }

  private end(): null {
    this.finished = true;
    return null;
  }

  /**
   * The next entry, or null at the end of the archive. Throws TarError on a
   * malformed archive. `maxLongName` bounds a GNU long name/link record (the
   * decoder passes max_member_bytes); a bigger one throws TarLimitError.
   */
  nextEntry(maxLongName = Number.MAX_SAFE_INTEGER): TarEntryInfo | null {
    if (this.finished) return null;
    this.finishEntry();
    let longName: Uint8Array | null = null;
    let longLink: Uint8Array | null = null;
    const local: PaxRecords = {};
    for (;;) {
      const header = this.readExact(BLOCK, "a tar header");
      if (header === null) return this.end();
      if (isZeroBlock(header)) {
        const second = this.readExact(BLOCK, "a tar header");
        if (second === null || isZeroBlock(second)) return this.end();
        throw new TarError("a single zero block inside the archive");
      }
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
      const recorded = parseNumeric(header.subarray(148, 156), "checksum");
      if (sum !== recorded) throw new TarError(`tar header checksum mismatch (computed ${sum}, recorded ${recorded})`);

      const typeflag = String.fromCharCode(header[156]);
      const size = parseNumeric(header.subarray(124, 136), "size");
      const dataOffset = this.position;
      this.dataLeft = size;
      this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;

      if (typeflag === "L" || typeflag === "K") {
        if (size > maxLongName) throw new TarLimitError(utf8Lossy.decode(cString(header.subarray(0, 100))), size);
        const data = cString(this.readAll(size));
        if (typeflag === "L") longName = data;
        else longLink = data;
        continue;
      }
      if (typeflag === "x" || typeflag === "g") {
        const paxName = () => utf8Lossy.decode(headerName(header));
        if (size > MAX_PAX_BYTES) throw new PaxError(paxName(), `${size} bytes of records (more than ${MAX_PAX_BYTES})`);
        const records = parsePax(this.readAll(size));
        if (typeof records === "string") throw new PaxError(paxName(), records);
        for (const key of PAX_KEYS) {
          const v = records[key];
          if (v === undefined) continue;
          // 'x': later records win. 'g': a set value replaces, an emptied one removes.
          if (typeflag === "x") (local as Record<string, unknown>)[key] = v;
          else if (v === "cleared") delete this.global[key];
          else (this.global as Record<string, unknown>)[key] = v;
        }
        continue;
      }

      const g = this.global;
      const nameBytes = effective(local.path, g.path, longName ?? headerName(header));
      const linkBytes = effective(local.linkpath, g.linkpath, longLink ?? cString(header.subarray(157, 257)));
      const effSize = effective(local.size, g.size, size);
      let headerMtime: number | null;
      try {
        headerMtime = parseNumeric(header.subarray(136, 148), "mtime");
      } catch {
        headerMtime = null;
      }
      const mtime = effective<number | null>(local.mtime, g.mtime, headerMtime);
      this.dataLeft = effSize;
      this.padLeft = (BLOCK - (effSize % BLOCK)) % BLOCK;
      return {
        name: utf8Lossy.decode(nameBytes),
        kind: KINDS[typeflag] ?? "other",
        typeflag,
        size: effSize,
        linkname: utf8Lossy.decode(linkBytes),
        mtime,
        dataOffset,
      };
    }
  }

  /** The whole data of the current entry (and its padding), copied. */
  private readAll(size: number): Uint8Array {
    const data = new Uint8Array(size);
    let at = 0;
    this.readData((piece) => {
      data.set(piece, at);
      at += piece.length;
    });
    this.finishEntry();
    return data;
  }

  /** Streams the current entry's data to onChunk (views, valid only during the call). */
  readData(onChunk: (piece: Uint8Array) => void): void {
    const n = this.dataLeft;
    this.dataLeft = 0;
    this.consume(n, "member data", onChunk);
  }

  /** Consumes the padding after the current entry's data (so truncation there is noticed now). */
  finishData(): void {
    this.finishEntry();
  }

  /** After the end of the archive: consumes what is left of the stream (trailing blocks), without parsing it. */
  drain(): void {
    do {
      this.position += this.chunk.length - this.chunkPos;
      this.chunkPos = this.chunk.length;
    } while (this.fill());
  }
}

/** A ByteSource over one in-memory buffer. */
export function bufferSource(buf: Uint8Array): ByteSource {
  let done = buf.length === 0;
  return {
    next() {
      if (done) return null;
      done = true;
      return buf;
    },
  };
}

/** Lists the entries of an uncompressed tar held in memory (throws TarError on a malformed archive). */
export function listTarEntries(buf: Uint8Array): TarEntryInfo[] {
  const reader = new TarReader(bufferSource(buf));
  const out: TarEntryInfo[] = [];
  for (let entry = reader.nextEntry(); entry; entry = reader.nextEntry()) out.push(entry);
  return out;
}

// ---------------------------------------------------------------------------
// Entry names.

export function isUnsafeName(name: string): boolean {
  return name.startsWith("/") || name.split("/").includes("..");
}

export function baseName(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  const slash = n.lastIndexOf("/");
  return slash < 0 ? n : n.slice(slash + 1);
}
