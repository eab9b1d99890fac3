// The TypeScript twin of crates/cis490-core/src/jsonl.rs: JSONL line
// splitting over a member streamed in pieces. A line longer than
// max_line_bytes is reported the moment it is noticed and then dropped up to
// its "\n", so an over-long line is never held in memory.

function isAsciiWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
}

function allWhitespace(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (!isAsciiWhitespace(bytes[i])) return false;
  return true;
}

/** Strips one trailing "\r"; null when the line is blank (empty or only ASCII whitespace), which is not a row. */
export function rowText(raw: Uint8Array): Uint8Array | null {
  let line = raw;
  if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
  return allWhitespace(line) ? null : line;
}

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private lineLen = 0;
  /** Inside an over-long line: its bytes are dropped up to the next "\n". */
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    /** One line without its "\n" (a trailing "\r" is still there). */
    private readonly onLine: (line: Uint8Array) => void,
    /** A line longer than maxLineBytes, called once when it is noticed. */
    private readonly onTooLong: () => void,
  ) {}

  /** Feeds a piece of member data (a view that is only valid during the call). */
  feed(piece: Uint8Array): void {
    let pos = 0;
    while (pos < piece.length) {
      const nl = piece.indexOf(0x0a, pos);
      const end = nl < 0 ? piece.length : nl;
      this.append(piece.subarray(pos, end));
      pos = end;
      if (nl < 0) return;
      pos = nl + 1;
      if (this.discarding) this.discarding = false; // the over-long line ends here
      else this.endLine();
    }
  }

  /** End of the member's data: a last line without "\n" is still a line. */
  finish(): void {
    if (!this.discarding && this.lineLen > 0) this.endLine();
    this.discarding = false;
  }

  private append(segment: Uint8Array): void {
    if (this.discarding || segment.length === 0) return;
    this.lineLen += segment.length;
    if (this.lineLen > this.maxLineBytes) {
      // Dropped up to its "\n", so it is never held in memory (even a line of only whitespace: its length is all
      // we know).
      this.parts = [];
      this.lineLen = 0;
      this.discarding = true;
      this.onTooLong();
      return;
    }
    this.parts.push(new Uint8Array(segment)); // a copy: the view dies with the decoder's buffer
  }

  private endLine(): void {
    const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.lineLen);
    this.parts = [];
    this.lineLen = 0;
    this.onLine(line);
  }
}
