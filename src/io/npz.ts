// NumPy .npy arrays inside a stored (uncompressed) zip: the `.npz` format
// `np.load(path)` reads. Written by hand because no npm package is needed for
// so little: an .npy file is a 64-byte-aligned text header plus raw
// little-endian bytes, and a stored zip is headers + bytes + a central
// directory, with a CRC-32 per member. Timestamps are fixed (1980-01-01) so
// the same arrays always give the same bytes.

/** The dtypes the tensor shards use, as numpy spells them. */
export type NpyDtype = "<f4" | "<f8" | "|b1" | "|i1" | "|u1" | "<i4" | `<U${number}`;

export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | string[];

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Row-major (C order). `|b1` uses 0/1 bytes; `<U{n}` uses JS strings. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

// ---------------------------------------------------------------- CRC-32

// Slicing-by-8 tables (IEEE 802.3 polynomial, reflected): tensor shards are
// tens of MB, and byte-at-a-time JS is the slow part of writing them.
const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
})();

/** Continues a CRC-32 over `bytes` (start with crc = 0). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const lo = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------- .npy

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function unicodeWidth(dtype: NpyDtype): number | null {
  const m = /^<U(\d+)$/.exec(dtype);
  return m ? Number(m[1]) : null;
}

function itemSize(dtype: NpyDtype): number {
  const width = unicodeWidth(dtype);
  if (width !== null) return 4 * width;
  switch (dtype) {
    case "<f8":
      return 8;
    case "<f4":
    case "<i4":
      return 4;
    default:
      return 1;
  }
}

/** Smallest `<U{n}` that holds every string (numpy rejects `<U0`). */
export function unicodeDtypeFor(strings: string[]): NpyDtype {
  let width = 1;
  for (const s of strings) width = Math.max(width, [...s].length);
  return `<U${width}`;
}

/** The header (magic, version 1.0, length, dict, padding to 64 bytes). */
export function npyHeader(dtype: NpyDtype, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // 6 magic + 2 version + 2 length bytes precede the dict; the dict ends in
  // '\n' and is space-padded so the data starts on a 64-byte boundary.
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerLen = total - 10;
  if (headerLen > 0xffff) throw new Error("npy header too long for format 1.0");
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >>> 8;
  const text = dict + " ".repeat(headerLen - dict.length - 1) + "\n";
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

function checkArray(a: NpyArray): void {
  const n = elementCount(a.shape);
  if (a.data.length !== n) throw new Error(`npy: ${a.data.length} elements for shape (${a.shape.join(", ")})`);
  const width = unicodeWidth(a.dtype);
  const isStrings = Array.isArray(a.data);
  if ((width !== null) !== isStrings) throw new Error(`npy: dtype ${a.dtype} does not match the data`);
  const expected: Record<string, string> = {
    "<f4": "Float32Array",
    "<f8": "Float64Array",
    "|i1": "Int8Array",
    "|b1": "Uint8Array",
    "|u1": "Uint8Array",
    "<i4": "Int32Array",
  };
  if (!isStrings && expected[a.dtype] !== a.data.constructor.name) {
    throw new Error(`npy: dtype ${a.dtype} needs a ${expected[a.dtype]}, got ${a.data.constructor.name}`);
  }
}

/** The array's data bytes, little-endian (the host is little-endian: x86/arm64). */
export function npyBody(a: NpyArray): Uint8Array {
  checkArray(a);
  const width = unicodeWidth(a.dtype);
  if (width === null) {
    const typed = a.data as Exclude<NpyData, string[]>;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  // Fixed-width UTF-32LE, zero-padded; longer strings are an error, never truncated.
  const strings = a.data as string[];
  const codes = new Uint32Array(strings.length * width);
  strings.forEach((s, i) => {
    let j = 0;
    for (const ch of s) {
      if (j >= width) throw new Error(`npy: string longer than ${a.dtype}: ${JSON.stringify(s)}`);
      codes[i * width + j++] = ch.codePointAt(0) as number;
    }
  });
  return new Uint8Array(codes.buffer);
}

/** A whole .npy file as byte pieces (header, body): no copy of the body. */
export function encodeNpy(a: NpyArray): Uint8Array[] {
  return [npyHeader(a.dtype, a.shape), npyBody(a)];
}

/** An .npy member's dtype and shape, and its raw little-endian body (a view: unaligned, shares the input's memory). */
export interface NpyView {
  dtype: NpyDtype;
  shape: number[];
  body: Uint8Array;
}

export function npyView(bytes: Uint8Array): NpyView {
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error("npy: bad magic");
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new Error(`npy: unsupported version ${major}`);
  }
  const header = new TextDecoder("latin1").decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`npy: unreadable header ${JSON.stringify(header)}`);
  if (fortran === "True") throw new Error("npy: fortran order not supported");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  const dtype = (descr === "<b1" ? "|b1" : descr === "<i1" ? "|i1" : descr) as NpyDtype;
  const n = elementCount(shape);
  const offset = start + headerLen;
  const size = itemSize(dtype);
  if (bytes.length < offset + n * size) throw new Error("npy: truncated data");
  return { dtype, shape, body: bytes.subarray(offset, offset + n * size) };
}

export function decodeNpy(bytes: Uint8Array): NpyArray {
  const { dtype, shape, body: view } = npyView(bytes);
  const n = elementCount(shape);
  // Copy so the result is aligned and independent of the zip buffer.
  const body = view.slice();
  const width = unicodeWidth(dtype);
  if (width !== null) {
    const codes = new Uint32Array(body.buffer);
    const strings: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      let s = "";
      for (let j = 0; j < width; j++) {
        const c = codes[i * width + j];
        if (c === 0) break;
        s += String.fromCodePoint(c);
      }
      strings[i] = s;
    }
    return { dtype, shape, data: strings };
  }
  switch (dtype) {
    case "<f4":
      return { dtype, shape, data: new Float32Array(body.buffer) };
    case "<f8":
      return { dtype, shape, data: new Float64Array(body.buffer) };
    case "<i4":
      return { dtype, shape, data: new Int32Array(body.buffer) };
    case "|i1":
      return { dtype, shape, data: new Int8Array(body.buffer) };
    case "|b1":
    case "|u1":
      return { dtype, shape, data: new Uint8Array(body.buffer) };
    default:
      throw new Error(`npy: unsupported dtype ${dtype}`);
  }
}

// ---------------------------------------------------------------- stored zip

const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const ZIP_VERSION = 20; // 2.0: no zip64 needed below 4 GiB

function u16(view: DataView, at: number, v: number): void {
  view.setUint16(at, v, true);
}
function u32(view: DataView, at: number, v: number): void {
  view.setUint32(at, v >>> 0, true);
}

/** A stored zip of the given members, as byte pieces to write in order. */
export function encodeStoredZip(members: Array<{ name: string; pieces: Uint8Array[] }>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const member of members) {
    const name = new TextEncoder().encode(member.name);
    let size = 0;
    let crc = 0;
    for (const p of member.pieces) {
      size += p.length;
      crc = crc32(p, crc);
    }
    if (size >= 0xffffffff || offset >= 0xffffffff) throw new Error("zip member too large for a non-zip64 archive");
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    u32(lv, 0, 0x04034b50);
    u16(lv, 4, ZIP_VERSION);
    u16(lv, 6, 0); // flags
    u16(lv, 8, 0); // method: stored
    u16(lv, 10, DOS_TIME);
    u16(lv, 12, DOS_DATE);
    u32(lv, 14, crc);
    u32(lv, 18, size);
    u32(lv, 22, size);
    u16(lv, 26, name.length);
    u16(lv, 28, 0);
    local.set(name, 30);

    const entry = new Uint8Array(46 + name.length);
    const cv = new DataView(entry.buffer);
    u32(cv, 0, 0x02014b50);
    u16(cv, 4, ZIP_VERSION);
    u16(cv, 6, ZIP_VERSION);
    u16(cv, 8, 0);
    u16(cv, 10, 0);
    u16(cv, 12, DOS_TIME);
    u16(cv, 14, DOS_DATE);
    u32(cv, 16, crc);
    u32(cv, 20, size);
    u32(cv, 24, size);
    u16(cv, 28, name.length);
    u16(cv, 30, 0); // extra
    u16(cv, 32, 0); // comment
    u16(cv, 34, 0); // disk
    u16(cv, 36, 0); // internal attributes
    u32(cv, 38, 0o100644 << 16); // external attributes: regular file, rw-r--r--
    u32(cv, 42, offset);
    entry.set(name, 46);
    central.push(entry);

    out.push(local, ...member.pieces);
    offset += local.length + size;
  }
  const centralSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  u32(ev, 0, 0x06054b50);
  u16(ev, 4, 0);
  u16(ev, 6, 0);
  u16(ev, 8, members.length);
  u16(ev, 10, members.length);
  u32(ev, 12, centralSize);
  u32(ev, 16, offset);
  u16(ev, 20, 0);
  out.push(...central, end);
  return out;
}

/**
 * A numeric array given as consecutive typed-array pieces (e.g. one per
 * episode), so a big shard is never copied into one buffer before writing.
 */
export interface NpyPieces {
  dtype: Exclude<NpyDtype, `<U${number}`>;
  shape: number[];
  pieces: Array<Exclude<NpyData, string[]>>;
}

function piecesToNpy(a: NpyPieces): Uint8Array[] {
  const n = elementCount(a.shape);
  const have = a.pieces.reduce((acc, p) => acc + p.length, 0);
  if (have !== n) throw new Error(`npy: ${have} elements for shape (${a.shape.join(", ")})`);
  for (const p of a.pieces) checkArray({ dtype: a.dtype, shape: [p.length], data: p });
  return [npyHeader(a.dtype, a.shape), ...a.pieces.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength))];
}

/** The .npz file for `arrays` (member names get `.npy` appended), as byte pieces. */
export function encodeNpz(arrays: Record<string, NpyArray | NpyPieces>): Uint8Array[] {
  return encodeStoredZip(
    Object.entries(arrays).map(([name, a]) => ({ name: `${name}.npy`, pieces: "pieces" in a ? piecesToNpy(a) : encodeNpy(a) })),
  );
}

/** Reads a stored-zip .npz (what encodeNpz writes; also numpy's np.savez), checking each CRC. */
export function decodeNpz(bytes: Uint8Array): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(npzMembers(bytes))) out[name] = decodeNpy(data);
  return out;
}

/** The .npy bytes of each member of a stored-zip .npz (views into `bytes`), by name without `.npy`, each CRC checked. */
export function npzMembers(bytes: Uint8Array): Record<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("npz: no end of central directory");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const out: Record<string, Uint8Array> = {};
  for (let k = 0; k < count; k++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("npz: bad central directory entry");
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const localAt = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (method !== 0) throw new Error(`npz: member ${name} is compressed (method ${method}); only stored members are read`);
    if (view.getUint32(localAt, true) !== 0x04034b50) throw new Error(`npz: bad local header for ${name}`);
    const dataAt = localAt + 30 + view.getUint16(localAt + 26, true) + view.getUint16(localAt + 28, true);
    const data = bytes.subarray(dataAt, dataAt + size);
    if (data.length !== size) throw new Error(`npz: member ${name} truncated`);
    if (crc32(data) !== crc) throw new Error(`npz: CRC mismatch in ${name}`);
    out[name.replace(/\.npy$/, "")] = data;
  }
  return out;
}
