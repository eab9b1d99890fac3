// A plain, streaming tar reader for the reference decoder (docs/inspection.md,
// "Reading the archive"). It pulls bytes from a ByteSource chunk by chunk, so
// it never needs the whole decompressed archive in memory, and it never
// touches the file system: entries are only described, never extracted.
//
// Formats: POSIX ustar (prefix/name joined with "/" when the magic is
// "ustar\0"), old v7 headers, and GNU long names ('L'; long link names 'K' are
// read and ignored, links are never followed). Pax headers ('x', 'g') are not
// interpreted: they are entries of kind "other" like any unknown type flag,
// which the decoder reports as `special-file` (the contract only names GNU
// long names; the native reader does the same).
//
// End of archive: two zero blocks, a zero block then the end of the stream,
// or the end of the stream at a header boundary. A single zero block followed
// by anything else, a stream that ends inside a header, inside member data or
// inside the padding after it, and a bad header checksum are TarErrors.

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

/** Something that yields the (decompressed) archive in chunks. */
export interface ByteSource {
  /** The next non-empty chunk, or null at the clean end of the stream. May throw its own errors. */
  next(): Uint8Array | null;
}

export type TarKind = "file" | "hardlink" | "symlink" | "chardev" | "blockdev" | "dir" | "fifo" | "other";

export interface TarEntryInfo {
  /** The entry's path (GNU long name applied), bytes decoded as UTF-8 with U+FFFD for invalid sequences. */
  name: string;
  kind: TarKind;
  /** The raw type flag character ("0", "2", "\0", ...). */
  typeflag: string;
  /** Declared data size in bytes. */
  size: number;
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
        const data = new Uint8Array(size);
        let at = 0;
        this.readData((piece) => {
          data.set(piece, at);
          at += piece.length;
        });
        this.finishEntry();
        // 'K' (a long link target) names nothing we read: consumed only.
        if (typeflag === "L") longName = cString(data);
        continue;
      }

      let nameBytes: Uint8Array;
      if (longName) nameBytes = longName;
      else {
        const name = cString(header.subarray(0, 100));
        const isUstar = String.fromCharCode(...header.subarray(257, 263)) === "ustar\0";
        const prefix = isUstar ? cString(header.subarray(345, 500)) : new Uint8Array(0);
        nameBytes = prefix.length > 0 ? Buffer.concat([prefix, Buffer.from("/"), name]) : name;
      }
      return { name: utf8Lossy.decode(nameBytes), kind: KINDS[typeflag] ?? "other", typeflag, size, dataOffset };
    }
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
