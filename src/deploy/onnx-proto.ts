// A minimal protobuf encoder for the parts of onnx.proto an exported model
// uses (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
// AttributeProto, metadata). Field numbers are onnx.proto's (IR version 8).
// Writing only: loaders (onnxruntime, onnx.checker) do the reading, and the
// parity tests check that what they read computes the trained model.

export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export const IR_VERSION = 8;

class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  varint(v: number | bigint): void {
    // int64 fields: negative values are ten-byte two's complement.
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }

  message(field: number, m: Writer): void {
    this.bytes(field, m.finish());
  }

  packedInts(field: number, vs: ArrayLike<number | bigint>): void {
    const inner = new Writer();
    for (let i = 0; i < vs.length; i++) inner.varint(vs[i]);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, vs: ArrayLike<number>): void {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i], true);
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export type AttributeValue =
  | { kind: "float"; value: number }
  | { kind: "int"; value: number }
  | { kind: "string"; value: string }
  | { kind: "floats"; value: ArrayLike<number> }
  | { kind: "ints"; value: ArrayLike<number> }
  | { kind: "strings"; value: string[] }
  | { kind: "tensor"; value: TensorSpec };

export interface TensorSpec {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian element bytes (raw_data). */
  raw: Uint8Array;
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A dimension: a fixed size, or a symbolic name (dynamic, e.g. "batch"). */
export type Dim = number | string;

export interface ValueInfoSpec {
  name: string;
  dataType: DataTypeCode;
  shape: Dim[];
}

export interface ModelSpec {
  graphName: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  opsets: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata: Record<string, string>;
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function tensorProto(t: TensorSpec): Writer {
  const w = new Writer();
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function attributeProto(name: string, a: AttributeValue): Writer {
  const w = new Writer();
  w.string(1, name);
  switch (a.kind) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, tensorProto(a.value));
      break;
    case "floats":
      w.packedFloats(7, a.value);
      break;
    case "ints":
      w.packedInts(8, a.value);
      break;
    case "strings":
      for (const s of a.value) w.string(9, s);
      break;
  }
  w.int(20, ATTR_TYPE[a.kind]);
  return w;
}

function nodeProto(n: NodeSpec): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: ValueInfoSpec): Writer {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === "number") dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensor = new Writer();
  tensor.int(1, v.dataType);
  tensor.message(2, shape);
  const type = new Writer();
  type.message(1, tensor);
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/** Serialises a ModelProto. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const g = new Writer();
  for (const n of m.nodes) g.message(1, nodeProto(n));
  g.string(2, m.graphName);
  for (const t of m.initializers) g.message(5, tensorProto(t));
  for (const i of m.inputs) g.message(11, valueInfoProto(i));
  for (const o of m.outputs) g.message(12, valueInfoProto(o));

  const w = new Writer();
  w.int(1, IR_VERSION);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  for (const o of m.opsets) {
    const op = new Writer();
    if (o.domain) op.string(1, o.domain);
    op.int(2, o.version);
    w.message(8, op);
  }
  for (const [key, value] of Object.entries(m.metadata)) {
    const e = new Writer();
    e.string(1, key);
    e.string(2, value);
    w.message(14, e);
  }
  return w.finish();
}

// --- tensors from typed arrays -------------------------------------------

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): TensorSpec {
  const f = Float32Array.from(data);
  if (f.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${name}: ${f.length} values for shape [${dims.join(", ")}]`);
  return { name, dataType: DataType.FLOAT, dims, raw: littleEndian(f) };
}

export function doubleTensor(name: string, dims: number[], data: ArrayLike<number>): TensorSpec {
  const f = Float64Array.from(data);
  if (f.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${name}: ${f.length} values for shape [${dims.join(", ")}]`);
  return { name, dataType: DataType.DOUBLE, dims, raw: littleEndian(f) };
}

export function int64Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorSpec {
  const f = BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return { name, dataType: DataType.INT64, dims, raw: littleEndian(f) };
}

export function boolTensor(name: string, dims: number[], data: ArrayLike<boolean | number>): TensorSpec {
  return { name, dataType: DataType.BOOL, dims, raw: Uint8Array.from(Array.from(data, (v) => (v ? 1 : 0))) };
}

function littleEndian(a: Float32Array | Float64Array | BigInt64Array): Uint8Array {
  // Node runs on little-endian hosts only (x64, arm64), so the bytes are raw_data as is.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

// --- reading back the one thing onnxruntime-node does not expose ----------

export class OnnxFormatError extends Error {}

/**
 * The metadata_props of a serialised ModelProto, walking its top-level
 * fields only. Throws OnnxFormatError when the bytes are not a well-formed
 * ModelProto (not protobuf, truncated, or without a graph).
 */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let sawGraph = false;
  let sawIr = false;
  for (const f of fields(bytes, 0, bytes.length)) {
    if (f.field === 1 && f.wire === 0) sawIr = true;
    if (f.field === 7 && f.wire === 2) sawGraph = true;
    if (f.field === 14 && f.wire === 2) {
      let key = "";
      let value = "";
      for (const e of fields(bytes, f.start, f.end)) {
        if (e.wire !== 2) continue;
        const s = new TextDecoder().decode(bytes.subarray(e.start, e.end));
        if (e.field === 1) key = s;
        if (e.field === 2) value = s;
      }
      out[key] = value;
    }
  }
  if (!sawIr || !sawGraph) throw new OnnxFormatError("not an ONNX model (no ir_version or graph)");
  return out;
}

function* fields(b: Uint8Array, from: number, to: number): Generator<{ field: number; wire: number; start: number; end: number }> {
  let at = from;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (at >= to) throw new OnnxFormatError("truncated (a varint runs past the end)");
      const byte = b[at++];
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    throw new OnnxFormatError("malformed varint");
  };
  while (at < to) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new OnnxFormatError("field number 0");
    const start = at;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const len = varint();
      if (at + len > to) throw new OnnxFormatError(`truncated (field ${field} needs ${len} bytes, ${to - at} left)`);
      at += len;
      yield { field, wire, start: at - len, end: at };
      continue;
    } else throw new OnnxFormatError(`unsupported wire type ${wire}`);
    if (at > to) throw new OnnxFormatError("truncated");
    yield { field, wire, start, end: at };
  }
}
