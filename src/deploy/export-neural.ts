// ONNX graphs of the five libtorch networks (engines/src/torch_model.cc),
// one builder per architecture, from the weights the engine hands back by
// name. Each graph starts at what the feature core produces (summary
// vector, or the [B, 46, T] tensor and its uint8 mask), selects the
// checkpoint's inputs, standardises like training did, and ends in Softmax.
//
// Gate orders differ between libtorch and ONNX: GRU torch r,z,n vs ONNX
// z,r,h (and torch's n gate is ONNX's linear_before_reset=1); LSTM torch
// i,f,g,o vs ONNX i,o,f,c. onnxruntime's CPU recurrent kernels take only
// layout 0 ([T, B, in]), hence the Transpose.

import type { NamedTensor } from "../engines/types.js";
import { attr, GraphBuilder, standardise, type Param } from "./graph.js";

export interface NeuralSpec {
  kind: "mlp" | "cnn" | "gru" | "lstm" | "transformer";
  hidden: number;
  layers: number;
  heads: number;
  nClasses: number;
  /** Indices into the graph input's axis 1 that the model reads (features or channels). */
  inputs: number[];
  /** Width of the graph input's axis 1 (230 features or 46 channels). */
  inputWidth: number;
  /** Time steps per window (sequence models). */
  steps: number;
  stats: { mean: number[]; std: number[] };
  symlog: boolean;
}

export interface BuiltGraph {
  g: GraphBuilder;
  inputs: Array<{ name: string; dataType: "float" | "uint8"; shape: Array<number | string> }>;
  /** Name of the [batch, classes] probability output. */
  output: string;
}

class Weights {
  private byName: Map<string, NamedTensor>;
  private used = new Set<string>();
  constructor(list: NamedTensor[]) {
    this.byName = new Map(list.map((t) => [t.name, t]));
  }
  get(name: string): Param {
    const t = this.byName.get(name);
    if (!t) throw new Error(`the model has no parameter ${name} (has: ${[...this.byName.keys()].join(", ")})`);
    this.used.add(name);
    return t;
  }
  /** Every weight must end up in the graph: one left over means the builder misses a layer. */
  checkAllUsed(): void {
    const left = [...this.byName.keys()].filter((k) => !this.used.has(k));
    if (left.length > 0) throw new Error(`exporter did not use parameter(s) ${left.join(", ")}: the architecture changed?`);
  }
}

/** Rows of `data` ([blocks * size, cols]) reordered by block. */
function reorderBlocks(data: Float32Array, size: number, cols: number, order: number[]): Float32Array {
  const out = new Float32Array(data.length);
  order.forEach((from, to) => out.set(data.subarray(from * size * cols, (from + 1) * size * cols), to * size * cols));
  return out;
}

export function buildNeuralGraph(spec: NeuralSpec, tensors: NamedTensor[]): BuiltGraph {
  const g = new GraphBuilder();
  const w = new Weights(tensors);
  const idx = g.i64("inputs", spec.inputs);
  let output: string;
  let inputs: BuiltGraph["inputs"];

  if (spec.kind === "mlp") {
    inputs = [{ name: "features", dataType: "float", shape: ["batch", spec.inputWidth] }];
    const x = g.op("Gather", ["features", idx], { axis: attr.int(1) });
    let h = standardise(g, x, null, spec.stats, spec.symlog, 2).z;
    // body: [Linear, LayerNorm, GELU, Dropout] x layers, then Linear.
    for (let l = 0; l < spec.layers; l++) {
      h = g.linear(h, w.get(`body.${4 * l}.weight`), w.get(`body.${4 * l}.bias`));
      h = g.layerNorm(h, w.get(`body.${4 * l + 1}.weight`), w.get(`body.${4 * l + 1}.bias`));
      h = g.gelu(h);
    }
    output = g.linear(h, w.get(`body.${4 * spec.layers}.weight`), w.get(`body.${4 * spec.layers}.bias`));
  } else {
    inputs = [
      { name: "x", dataType: "float", shape: ["batch", spec.inputWidth, spec.steps] },
      { name: "mask", dataType: "uint8", shape: ["batch", spec.inputWidth, spec.steps] },
    ];
    const x = g.op("Gather", ["x", idx], { axis: attr.int(1) });
    const observed = g.cast(g.op("Gather", ["mask", idx], { axis: attr.int(1) }), "bool");
    const { z, keep } = standardise(g, x, observed, spec.stats, spec.symlog, 3);
    const m = g.cast(keep, "float");
    const xm = g.op("Concat", [z, m], { axis: attr.int(1) }); // [B, 2C, T]
    if (spec.kind === "cnn") output = cnn(g, w, spec, xm);
    else if (spec.kind === "gru" || spec.kind === "lstm") output = rnn(g, w, spec, xm);
    else output = transformer(g, w, spec, xm, m);
  }
  w.checkAllUsed();
  const probs = g.op("Softmax", [output], { axis: attr.int(-1) });
  g.rename(probs, "probabilities");
  return { g, inputs, output: "probabilities" };
}

function cnn(g: GraphBuilder, w: Weights, spec: NeuralSpec, xm: string): string {
  let h = xm;
  for (let l = 0; l < spec.layers; l++) {
    const d = 2 ** Math.min(l, 6);
    const k = w.get(`body.${3 * l}.weight`);
    const b = w.get(`body.${3 * l}.bias`);
    h = g.op("Conv", [h, g.f32("conv_w", k.shape, k.data), g.f32("conv_b", b.shape, b.data)], {
      dilations: attr.ints([d]),
      pads: attr.ints([2 * d, 2 * d]),
      kernel_shape: attr.ints([k.shape[2]]),
      strides: attr.ints([1]),
    });
    h = g.gelu(h);
  }
  const pooled = g.op("ReduceMean", [h], { axes: attr.ints([2]), keepdims: attr.int(0) });
  return g.linear(pooled, w.get("head.weight"), w.get("head.bias"));
}

function rnn(g: GraphBuilder, w: Weights, spec: NeuralSpec, xm: string): string {
  const lstm = spec.kind === "lstm";
  const H = spec.hidden;
  const gates = lstm ? 4 : 3;
  const order = lstm ? [0, 3, 1, 2] : [1, 0, 2];
  let seq = g.op("Transpose", [xm], { perm: attr.ints([2, 0, 1]) }); // [T, B, 2C]
  let last = "";
  for (let l = 0; l < spec.layers; l++) {
    const wi = w.get(`rnn.weight_ih_l${l}`);
    const wh = w.get(`rnn.weight_hh_l${l}`);
    const bi = w.get(`rnn.bias_ih_l${l}`);
    const bh = w.get(`rnn.bias_hh_l${l}`);
    const inW = wi.shape[1];
    const W = g.f32("rnn_w", [1, gates * H, inW], reorderBlocks(wi.data, H, inW, order));
    const R = g.f32("rnn_r", [1, gates * H, H], reorderBlocks(wh.data, H, H, order));
    const B = new Float32Array(2 * gates * H);
    B.set(reorderBlocks(bi.data, H, 1, order), 0);
    B.set(reorderBlocks(bh.data, H, 1, order), gates * H);
    const Bn = g.f32("rnn_b", [1, 2 * gates * H], B);
    const attributes = { hidden_size: attr.int(H), ...(lstm ? {} : { linear_before_reset: attr.int(1) }) };
    const [y, yh] = g.ops(lstm ? "LSTM" : "GRU", [seq, W, R, Bn], lstm ? 3 : 2, attributes);
    seq = g.op("Squeeze", [y, g.i64("axes", [1])]); // [T, 1, B, H] -> [T, B, H]
    last = yh;
  }
  const hN = g.op("Squeeze", [last, g.i64("axes", [0])]); // [1, B, H] -> [B, H]
  return g.linear(hN, w.get("head.weight"), w.get("head.bias"));
}

/**
 * libtorch 1.13's post-norm TransformerEncoderLayer (GELU, dim_feedforward
 * 2D), batch-first here; masked keys (timesteps with no observed channel)
 * get -inf before the softmax, like key_padding_mask, and mean pooling skips them.
 */
function transformer(g: GraphBuilder, w: Weights, spec: NeuralSpec, xm: string, m: string): string {
  const D = spec.hidden;
  const heads = spec.heads;
  const hd = D / heads;
  const T = spec.steps;
  const seq = g.op("Transpose", [xm], { perm: attr.ints([0, 2, 1]) }); // [B, T, 2C]
  const pos = w.get("pos"); // [T, 1, D]
  let h = g.op("Add", [g.linear(seq, w.get("proj.weight"), w.get("proj.bias")), g.f32("pos", [T, D], pos.data)]);

  const anyCh = g.op("Greater", [g.op("ReduceMax", [m], { axes: attr.ints([1]), keepdims: attr.int(0) }), g.scalar(0.5)]); // [B, T]
  const anyStep = g.op("ReduceMax", [g.cast(anyCh, "float")], { axes: attr.ints([1]), keepdims: attr.int(1) }); // [B, 1]
  const valid = g.op("Or", [anyCh, g.op("Not", [g.op("Greater", [anyStep, g.scalar(0.5)])])]); // [B, T]
  const keyMask = g.op("Unsqueeze", [valid, g.i64("axes", [1, 2])]); // [B, 1, 1, T]
  const negInf = g.scalar(-Infinity);
  const split4 = g.i64("shape", [0, 0, heads, hd]);
  const merge3 = g.i64("shape", [0, 0, D]);

  for (let l = 0; l < spec.layers; l++) {
    const p = `enc.layers.${l}`;
    const inW = w.get(`${p}.self_attn.in_proj_weight`); // [3D, D]: q, k, v
    const inB = w.get(`${p}.self_attn.in_proj_bias`);
    const part = (k: number): string => {
      const wk: Param = { name: `${inW.name}.${k}`, shape: [D, D], data: inW.data.subarray(k * D * D, (k + 1) * D * D) };
      const bk: Param = { name: `${inB.name}.${k}`, shape: [D], data: inB.data.subarray(k * D, (k + 1) * D) };
      return g.op("Reshape", [g.linear(h, wk, bk), split4]); // [B, T, heads, hd]
    };
    const q = g.op("Mul", [g.op("Transpose", [part(0)], { perm: attr.ints([0, 2, 1, 3]) }), g.scalar(1 / Math.sqrt(hd))]);
    const kT = g.op("Transpose", [part(1)], { perm: attr.ints([0, 2, 3, 1]) });
    const v = g.op("Transpose", [part(2)], { perm: attr.ints([0, 2, 1, 3]) });
    const scores = g.op("Where", [keyMask, g.op("MatMul", [q, kT]), negInf]); // [B, heads, T, T]
    const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: attr.int(-1) }), v]);
    const merged = g.op("Reshape", [g.op("Transpose", [ctx], { perm: attr.ints([0, 2, 1, 3]) }), merge3]);
    const attn = g.linear(merged, w.get(`${p}.self_attn.out_proj.weight`), w.get(`${p}.self_attn.out_proj.bias`));
    h = g.layerNorm(g.op("Add", [h, attn]), w.get(`${p}.norm1.weight`), w.get(`${p}.norm1.bias`));
    const ff = g.linear(g.gelu(g.linear(h, w.get(`${p}.linear1.weight`), w.get(`${p}.linear1.bias`))), w.get(`${p}.linear2.weight`), w.get(`${p}.linear2.bias`));
    h = g.layerNorm(g.op("Add", [h, ff]), w.get(`${p}.norm2.weight`), w.get(`${p}.norm2.bias`));
  }
  const wt = g.op("Unsqueeze", [g.cast(valid, "float"), g.i64("axes", [2])]); // [B, T, 1]
  const axis1 = g.i64("axes", [1]);
  const sum = g.op("ReduceSum", [g.op("Mul", [h, wt]), axis1], { keepdims: attr.int(0) }); // [B, D]
  const count = g.op("Max", [g.op("ReduceSum", [wt, axis1], { keepdims: attr.int(0) }), g.scalar(1)]); // [B, 1]
  return g.linear(g.op("Div", [sum, count]), w.get("head.weight"), w.get("head.bias"));
}
