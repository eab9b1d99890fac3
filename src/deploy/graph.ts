// Building ONNX graphs by hand (there is no exporter for libtorch's C++
// models): a small builder that names values, holds initializers, and the
// layers the cis490 networks share, written with opset 17 ops only.

import { doubleTensor, floatTensor, int64Tensor, type AttributeValue, type NodeSpec, type TensorSpec } from "./onnx-proto.js";

export const OPSET = 17;
export const ML_OPSET = 3;

export const attr = {
  int: (value: number): AttributeValue => ({ kind: "int", value }),
  float: (value: number): AttributeValue => ({ kind: "float", value }),
  ints: (value: ArrayLike<number>): AttributeValue => ({ kind: "ints", value }),
  floats: (value: ArrayLike<number>): AttributeValue => ({ kind: "floats", value }),
  string: (value: string): AttributeValue => ({ kind: "string", value }),
  strings: (value: string[]): AttributeValue => ({ kind: "strings", value }),
};

// TensorProto.DataType codes for Cast's `to`.
const TO = { float: 1, bool: 9, double: 11 } as const;

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private counter = 0;

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** One node; returns its output names. */
  ops(opType: string, inputs: string[], nOut: number, attributes: Record<string, AttributeValue> = {}, domain?: string): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(`n_${opType}`), attributes, domain });
    return outputs;
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, domain?: string): string {
    return this.ops(opType, inputs, 1, attributes, domain)[0];
  }

  /** Names a value produced elsewhere as `name` (graph outputs need fixed names). */
  rename(value: string, name: string): void {
    this.nodes.push({ opType: "Identity", inputs: [value], outputs: [name], name: this.fresh("n_Identity") });
  }

  f32(hint: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  f64(hint: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.push(doubleTensor(name, dims, data));
    return name;
  }

  i64(hint: string, data: number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(int64Tensor(name, [data.length], data));
    return name;
  }

  scalar(value: number): string {
    const name = this.fresh("c");
    this.initializers.push(floatTensor(name, [], [value]));
    return name;
  }

  cast(x: string, to: keyof typeof TO): string {
    return this.op("Cast", [x], { to: attr.int(TO[to]) });
  }

  /** y = x W^T + b for x of any rank (torch.nn.Linear; W is [out, in]). */
  linear(x: string, w: Param, b: Param | null): string {
    const [out, inp] = w.shape;
    const y = this.op("MatMul", [x, this.f32("linear_wt", [inp, out], transpose2d(w.data, out, inp))]);
    return b ? this.op("Add", [y, this.f32("linear_b", [out], b.data)]) : y;
  }

  /** torch's exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)). */
  gelu(x: string): string {
    const e = this.op("Erf", [this.op("Div", [x, this.scalar(Math.SQRT2)])]);
    return this.op("Mul", [this.op("Mul", [x, this.op("Add", [e, this.scalar(1)])]), this.scalar(0.5)]);
  }

  layerNorm(x: string, w: Param, b: Param, eps = 1e-5): string {
    return this.op("LayerNormalization", [x, this.f32("ln_w", w.shape, w.data), this.f32("ln_b", b.shape, b.data)], { axis: attr.int(-1), epsilon: attr.float(eps) });
  }
}

export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * The training Standardiser (src/train/standardise.ts) as graph ops, in
 * float64 like the TypeScript original, rounded to float32 at the end:
 * optional symlog, (t - mean) / std, and every value that is unobserved,
 * non-finite, or of a dropped input (std 0) becomes 0 with mask 0.
 *
 * x: float [B, width] or [B, width, steps]; observed: bool of x's shape or
 * null (summary features). Returns the scaled float tensor and the
 * float 0/1 mask the network reads.
 */
export function standardise(g: GraphBuilder, x: string, observed: string | null, stats: { mean: number[]; std: number[] }, symlog: boolean, rank: 2 | 3): { z: string; keep: string } {
  const width = stats.mean.length;
  const dims = rank === 2 ? [width] : [width, 1];
  const v = g.cast(x, "double");
  let t = v;
  if (symlog) {
    const one = g.f64("one", [], [1]);
    t = g.op("Mul", [g.op("Sign", [v]), g.op("Log", [g.op("Add", [g.op("Abs", [v]), one])])]);
  }
  const mean = g.f64("mean", dims, stats.mean);
  const std = g.f64("std", dims, stats.std.map((s) => (s > 0 ? s : 1)));
  const z = g.op("Div", [g.op("Sub", [t, mean]), std]);
  const finite = g.op("Not", [g.op("Or", [g.op("IsNaN", [z]), g.op("IsInf", [z])])]);
  const used = g.cast(g.f32("used", dims, stats.std.map((s) => (s > 0 ? 1 : 0))), "bool");
  let keep = g.op("And", [finite, used]);
  if (observed) keep = g.op("And", [keep, observed]);
  const zero = g.f64("zero", [], [0]);
  const scaled = g.cast(g.op("Where", [keep, z, zero]), "float");
  return { z: scaled, keep };
}
