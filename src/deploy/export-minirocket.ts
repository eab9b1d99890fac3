// The MiniRocket classifier (src/train/minirocket.ts: transform of
// crates/cis490-core/src/minirocket.rs, then the logistic head) as a
// standard opset-17 graph on the sequence models' inputs x / mask [B, 46, T].
//
// PPV features are counts of "conv output > fitted bias", so the graph
// repeats the native arithmetic operation for operation, in float64, in the
// same order: then every comparison is decided as natively and the features
// are identical, not just close (a bias is a quantile of training outputs,
// so outputs lying exactly on it are common; a differently rounded sum
// would flip them; ordered sums are CumSum's last entry or a chain of Adds).
// Per window and channel:
//
//   1. z = (x - mean) / std for observed steps (mask != 0 and x finite);
//      other steps get the mean of the channel's observed z in this window
//      (0 if none), the sum taken step by step like the native loop;
//   2. per dilation d (channel-major, [C, B, L], so Gathers copy whole
//      blocks): z zero-padded by 4d (plus one all-zero channel that
//      short channel combinations point at), the nine shifted taps, and
//      A = their sum in tap order;
//   3. per kernel (84, taps i0 < i1 < i2 of weight 2) and each channel c of
//      its combination, in the stored order: 3 * ((tap_i0 + tap_i1) + tap_i2) - A
//      (one Gather row per pair, so no work on padding), summed over the
//      combination channel after channel; a Conv would add in another
//      order (and onnxruntime's CPU Conv has no float64);
//   4. Greater against the kernel's biases on the counted positions (the
//      whole output, or the part without padding, alternating like the
//      native code), ReduceSum, divided by the positions counted, to float32;
//   5. head: (ppv - mean) / std to float32, MatMul + Add in float64, Softmax.

import { NUM_KERNELS, kernelIndices } from "../reference/minirocket.js";
import type { MiniRocketState } from "../train/minirocket.js";
import type { BuiltGraph } from "./export-neural.js";
import { attr, GraphBuilder } from "./graph.js";
import { int64Tensor } from "./onnx-proto.js";

export interface MiniRocketGraphSpec {
  /** Indices into the graph input's channel axis that the model reads, in the transform's channel order. */
  inputs: number[];
  /** Width of the graph input's channel axis (46). */
  inputWidth: number;
}

export interface BuiltMiniRocketGraph extends BuiltGraph {
  /** Name of the float [batch, n_features] PPV value (the head's input before standardisation); not a graph output unless made one. */
  ppv: string;
}

export function buildMiniRocketGraph(spec: MiniRocketGraphSpec, state: MiniRocketState): BuiltMiniRocketGraph {
  const t = state.transform;
  const h = state.head;
  const C = t.n_channels;
  const L = t.length;
  const F = t.biases.length;
  const K = h.n_classes;
  if (spec.inputs.length !== C) throw new Error(`the transform reads ${C} channels, the checkpoint selects ${spec.inputs.length}`);
  if (t.dilations.length !== t.features_per_dilation.length || t.channels.length !== t.dilations.length * NUM_KERNELS) throw new Error("the transform's dilation and channel tables disagree");
  if (F !== NUM_KERNELS * t.features_per_dilation.reduce((a, b) => a + b, 0)) throw new Error(`the transform has ${F} biases for ${t.features_per_dilation.join("+")} features per kernel`);
  if (h.n_features !== F || h.weights.length !== F * K || h.bias.length !== K || h.mean.length !== F || h.std.length !== F) throw new Error("the head's sizes do not match the transform");
  if (t.mean.length !== C || t.std.length !== C) throw new Error("the transform's channel statistics do not match its channels");

  const g = new GraphBuilder();
  const idx = g.i64("inputs", spec.inputs);
  const x = g.op("Gather", ["x", idx], { axis: attr.int(1) }); // [B, C, L] float
  const m = g.op("Gather", ["mask", idx], { axis: attr.int(1) });
  const finite = g.op("Not", [g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])])]);
  const observed = g.op("And", [g.cast(m, "bool"), finite]);
  const zero = g.f64("zero", [], [0]);

  // 1. Standardise; masked steps = the window's observed mean of the channel.
  const z0 = g.op("Div", [g.op("Sub", [g.cast(x, "double"), g.f64("mean", [C, 1], t.mean)]), g.f64("std", [C, 1], t.std)]);
  const zObs = g.op("Where", [observed, z0, zero]);
  const sum = lastOfCumSum(g, zObs, 2, L); // [B, C, 1], step order like the native loop
  const count = g.op("ReduceSum", [g.cast(observed, "double"), g.i64("axes", [2])], { keepdims: attr.int(1) });
  const fill = g.op("Where", [g.op("Greater", [count, zero]), g.op("Div", [sum, count]), zero]);
  // Channel-major [C, B, L] from here: every Gather below picks whole [B, L] blocks.
  const z = g.op("Transpose", [g.op("Where", [observed, z0, fill])], { perm: attr.ints([1, 0, 2]) }); // [C, B, L] double

  const kernels = kernelIndices();
  const ppvParts: string[] = [];
  let f = 0;
  t.dilations.forEach((d, di) => {
    const fpd = t.features_per_dilation[di];
    // 2. Taps: zpad [C + 1, B, L + 8d]; tap j at step t reads zpad[t + j d].
    const zpad = g.op("Pad", [z, g.i64("pads", [0, 0, 4 * d, 1, 0, 4 * d]), zero], { mode: attr.string("constant") });
    const taps = Array.from({ length: 9 }, (_, j) => g.op("Slice", [zpad, g.i64("starts", [j * d]), g.i64("ends", [j * d + L]), g.i64("axes", [2])]));
    const flat = g.op("Concat", taps, { axis: attr.int(0) }); // [9 (C + 1), B, L]: row j (C + 1) + c
    const a = g.op("Squeeze", [lastOfCumSum(g, g.op("Reshape", [flat, g.i64("shape", [9, C + 1, -1, L])]), 0, 9), g.i64("axes", [0])]); // [C + 1, B, L], tap order

    // 3. One row per (kernel, channel of its combination), kernel after kernel, then one zero row (the zero channel).
    const combos = t.channels.slice(di * NUM_KERNELS, (di + 1) * NUM_KERNELS);
    const pairs: Array<[number, number]> = [];
    const rowOf: number[][] = [];
    combos.forEach((c, k) => {
      if (c.length === 0 || c.some((v) => !(Number.isInteger(v) && v >= 0 && v < C))) throw new Error(`dilation ${d}: a channel combination ${JSON.stringify(c)} is not within 0..${C - 1}`);
      rowOf.push(c.map((ch) => pairs.push([k, ch]) - 1));
    });
    const zeroRow = pairs.length;
    pairs.push([0, C]);
    const gatherTap = (i: number): string => g.op("Gather", [flat, g.i64("tap", pairs.map(([k, c]) => kernels[k][i] * (C + 1) + c))], { axis: attr.int(0) }); // [P + 1, B, L]
    const s3 = g.op("Add", [g.op("Add", [gatherTap(0), gatherTap(1)]), gatherTap(2)]);
    const aSel = g.op("Gather", [a, g.i64("chan", pairs.map(([, c]) => c))], { axis: attr.int(0) });
    const v = g.op("Sub", [g.op("Mul", [g.f64("three", [], [3]), s3]), aSel]);
    // Summed over each combination in its stored order; past its end a kernel adds the zero row.
    const S = Math.max(...rowOf.map((r) => r.length));
    let out = "";
    for (let s = 0; s < S; s++) {
      const slot = g.op("Gather", [v, g.i64("slot", rowOf.map((r) => (s < r.length ? r[s] : zeroRow)))], { axis: attr.int(0) }); // [84, B, L]
      out = s === 0 ? slot : g.op("Add", [out, slot]);
    }
    out = g.op("Unsqueeze", [out, g.i64("axes", [1])]); // [84, 1, B, L]

    // 4. PPV on the counted positions (the rest forced below every bias).
    const padding = (8 * d) >> 1;
    const counted = new Array<number>(NUM_KERNELS * L).fill(0);
    const lengths: number[] = [];
    for (let k = 0; k < NUM_KERNELS; k++) {
      const [from, to] = (di + k) % 2 === 0 ? [0, L] : [padding, L - padding];
      for (let q = from; q < to; q++) counted[k * L + q] = 1;
      lengths.push(to - from);
    }
    const inRange = g.cast(g.f32("counted", [NUM_KERNELS, 1, 1, L], counted), "bool");
    const part = g.op("Where", [inRange, out, g.f64("neg_inf", [], [-Infinity])]);
    const biases = g.f64("biases", [NUM_KERNELS, fpd, 1, 1], t.biases.slice(f, f + NUM_KERNELS * fpd));
    f += NUM_KERNELS * fpd;
    const above = g.op("ReduceSum", [g.cast(g.op("Greater", [part, biases]), "float"), g.i64("axes", [3])], { keepdims: attr.int(0) }); // [84, fpd, B], exact counts
    const ppv = g.op("Div", [g.cast(above, "double"), g.f64("positions", [NUM_KERNELS, 1, 1], lengths)]);
    const batchMajor = g.op("Transpose", [g.cast(ppv, "float")], { perm: attr.ints([2, 0, 1]) }); // [B, 84, fpd]
    ppvParts.push(g.op("Reshape", [batchMajor, g.i64("shape", [0, NUM_KERNELS * fpd])]));
  });
  const ppv = ppvParts.length === 1 ? ppvParts[0] : g.op("Concat", ppvParts, { axis: attr.int(1) }); // [B, F] float

  // 5. Head, as MiniRocketEstimator.predictProba: standardised features stored as float32.
  const std = g.cast(g.op("Div", [g.op("Sub", [g.cast(ppv, "double"), g.f64("head_mean", [F], h.mean)]), g.f64("head_std", [F], h.std)]), "float");
  const logits = g.op("Add", [g.op("MatMul", [g.cast(std, "double"), g.f64("head_w", [F, K], h.weights)]), g.f64("head_b", [K], h.bias)]);
  const probs = g.cast(g.op("Softmax", [logits], { axis: attr.int(-1) }), "float");
  g.rename(probs, "probabilities");
  return {
    g,
    inputs: [
      { name: "x", dataType: "float", shape: ["batch", spec.inputWidth, L] },
      { name: "mask", dataType: "uint8", shape: ["batch", spec.inputWidth, L] },
    ],
    output: "probabilities",
    ppv,
  };
}

/**
 * The sum along `axis` (of size n) added element after element, as the
 * native loops do: the last entry of a CumSum (keeps the axis, size 1).
 * onnxruntime's CPU CumSum runs out[i] = out[i - 1] + x[i]; a ReduceSum
 * would add in blocks and round differently.
 */
function lastOfCumSum(g: GraphBuilder, x: string, axis: number, n: number): string {
  const name = `cumsum_axis_${g.initializers.length}`;
  g.initializers.push(int64Tensor(name, [], [axis])); // CumSum's axis is a 0-D tensor
  const running = g.op("CumSum", [x, name]);
  return g.op("Slice", [running, g.i64("starts", [n - 1]), g.i64("ends", [n]), g.i64("axes", [axis])]);
}
