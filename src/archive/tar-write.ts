// A minimal ustar writer. The synthetic corpus and the hostile-archive tests
// need exact control over entry types and names (symlinks, `..`, devices),
// which is why this is written out rather than delegated to a library.

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "chardev" | "blockdev" | "fifo";

export interface TarEntry {
  name: string;
  type?: TarEntryType;
  data?: Uint8Array | string;
  /** Declared size; defaults to the data length. Tests lie with it on purpose. */
  size?: number;
  linkname?: string;
  mode?: number;
  mtime?: number;
}

const BLOCK = 512;

const TYPEFLAG: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  chardev: "3",
  blockdev: "4",
  dir: "5",
  fifo: "6",
};

function writeString(buf: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new Error(`tar field too long (${bytes.length} > ${length}): ${value}`);
  buf.set(bytes, offset);
}

function writeOctal(buf: Uint8Array, offset: number, length: number, value: number): void {
  writeString(buf, offset, length, value.toString(8).padStart(length - 1, "0") + "\0");
}

function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  // ustar stores long paths as prefix (<=155) + "/" + name (<=100).
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new Error(`tar name too long for ustar: ${name}`);
}

/** One 512-byte ustar header. */
export function tarHeader(entry: TarEntry, size: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const { prefix, name } = splitName(entry.name);
  const type = entry.type ?? "file";
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, entry.mode ?? (type === "dir" ? 0o755 : 0o644));
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, entry.mtime ?? 0);
  header.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(header, 156, 1, TYPEFLAG[type]);
  if (entry.linkname) writeString(header, 157, 100, entry.linkname);
  writeString(header, 257, 6, "ustar\0");
  writeString(header, 263, 2, "00");
  writeString(header, 345, 155, prefix);
  let sum = 0;
  for (const b of header) sum += b;
  writeString(header, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

function asBytes(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/** Serialises entries into one uncompressed tar, ending with two zero blocks. */
export function buildTar(entries: TarEntry[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const data = asBytes(entry.data);
    const size = entry.size ?? (entry.type && entry.type !== "file" ? 0 : data.length);
    parts.push(tarHeader(entry, size));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(parts);
}
