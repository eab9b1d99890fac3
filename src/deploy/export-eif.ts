// The extended isolation forest as a standard opset-17 graph. ONNX's tree
// ops split on one feature against a constant; an EIF node splits on a
// hyperplane (n . x <= value), so the forest is evaluated tensor-wise:
//
//   1. the forest's input columns, cast to float64 (the native scorer's
//      precision), non-finite values replaced by the training medians;
//   2. every internal node of every tree at once: its (padded) features gathered,
//      times its normal vector, summed over the hyperplane in the stored
//      order, compared `<=` with the node's value -> one branch bit per node;
//   3. one index per tree, starting at its root, moved max_depth times to
//      the left (node + 1) or right child by its node's bit; a leaf points
//      to itself, so paths that end early stay put;
//   4. the leaves' path lengths (depth + c(size)) averaged over the trees,
//      score = 2^(-mean / c(subsample)), alert = score > threshold.
//
// Same arithmetic as crates/cis490-anomaly and src/reference/eif.ts, in
// float64; only the final power (pow vs exp2) may round differently.

import { cFactor } from "../reference/eif.js";
import type { EifDetectorState } from "../anomaly/estimator.js";
import { attr, GraphBuilder } from "./graph.js";
import { int64Tensor } from "./onnx-proto.js";

export interface EifGraphSpec {
  /** Indices into the summary vector, one per forest input, in the forest's column order. */
  inputs: number[];
  inputWidth: number;
  threshold: number;
}

export interface BuiltEifGraph {
  g: GraphBuilder;
  /** The float64 [batch] score value (named `score` unless built into another graph). */
  score: string;
  nodes: number;
  splits: number;
  depth: number;
}

/** Flattened forest: global node tables, features padded to the widest hyperplane. */
function flatten(state: EifDetectorState): { feat: number[]; coef: number[]; split: number[]; column: number[]; value: number[]; left: number[]; right: number[]; roots: number[]; width: number; depth: number } {
  const m = state.model;
  if (m.trees.length !== m.n_trees || m.n_trees < 1) throw new Error(`the forest lists ${m.trees.length} trees, its header ${m.n_trees}`);
  if (m.medians.length !== m.n_features) throw new Error(`the forest has ${m.medians.length} medians for ${m.n_features} features`);
  const width = Math.max(1, ...m.trees.flatMap((t) => t.nfeat));
  const out = { feat: [] as number[], coef: [] as number[], split: [] as number[], column: [] as number[], value: [] as number[], left: [] as number[], right: [] as number[], roots: [] as number[], width, depth: 0 };
  m.trees.forEach((t, ti) => {
    const nn = t.right.length;
    if (t.value.length !== nn || t.nfeat.length !== nn) throw new Error(`tree ${ti}: node arrays of unequal length`);
    const base = out.value.length;
    out.roots.push(base);
    const nodeDepth = new Array<number>(nn).fill(-1);
    nodeDepth[0] = 0;
    let q = 0;
    for (let i = 0; i < nn; i++) {
      const k = t.nfeat[i];
      const r = t.right[i];
      const leaf = r < 0;
      if (leaf !== (k === 0) || (!leaf && !(r > i + 1 && r < nn && i + 1 < nn))) throw new Error(`tree ${ti}: node ${i} has inconsistent children`);
      if (nodeDepth[i] < 0) throw new Error(`tree ${ti}: node ${i} is unreachable`);
      // Only internal nodes get a hyperplane column; a leaf's column is never read (it points to itself).
      out.column.push(leaf ? 0 : out.split.length);
      if (!leaf) {
        out.split.push(t.value[i]);
        for (let j = 0; j < width; j++) {
          const f = j < k ? t.feat[q + j] : 0;
          if (!(Number.isInteger(f) && f >= 0 && f < m.n_features)) throw new Error(`tree ${ti}: node ${i} reads feature ${f} of ${m.n_features}`);
          out.feat.push(f);
          // Padding: 0 * (a finite imputed value) adds exactly 0 after the real terms.
          out.coef.push(j < k ? t.coef[q + j] : 0);
        }
      }
      q += k;
      out.value.push(t.value[i]);
      if (leaf) {
        out.left.push(base + i);
        out.right.push(base + i);
        out.depth = Math.max(out.depth, nodeDepth[i]);
      } else {
        out.left.push(base + i + 1);
        out.right.push(base + r);
        nodeDepth[i + 1] = nodeDepth[i] + 1;
        nodeDepth[r] = nodeDepth[i] + 1;
      }
    }
    if (q !== t.feat.length || q !== t.coef.length) throw new Error(`tree ${ti}: ${t.feat.length} features listed, the nodes use ${q}`);
  });
  return out;
}

/**
 * Graph input `features` float [batch, inputWidth]; outputs `score` double
 * [batch] and `alert` bool [batch]. Given a builder (the ensemble's graph),
 * adds the forest to it and names no outputs.
 */
export function buildEifGraph(spec: EifGraphSpec, state: EifDetectorState, into?: GraphBuilder): BuiltEifGraph {
  const m = state.model;
  if (spec.inputs.length !== m.n_features) throw new Error(`the forest reads ${m.n_features} features, the checkpoint selects ${spec.inputs.length}`);
  const f = flatten(state);
  const N = f.value.length;
  // A forest of root leaves (every training value equal) still gets one dummy hyperplane column.
  if (f.split.length === 0) {
    f.split.push(0);
    f.feat.push(...new Array<number>(f.width).fill(0));
    f.coef.push(...new Array<number>(f.width).fill(0));
  }
  const S = f.split.length;
  const K = f.width;
  const T = m.n_trees;
  const g = into ?? new GraphBuilder();
  const i64 = (hint: string, dims: number[], data: number[]) => {
    const name = `${hint}_${g.initializers.length}`;
    g.initializers.push(int64Tensor(name, dims, data));
    return name;
  };

  const x = g.cast(g.op("Gather", ["features", g.i64("inputs", spec.inputs)], { axis: attr.int(1) }), "double");
  const missing = g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])]);
  const xi = g.op("Where", [missing, g.f64("medians", [m.n_features], m.medians), x]);

  // Internal nodes: [B, S*K] -> [B, S, K] * coef -> sum over K -> [B, S] branch bits.
  const gathered = g.op("Gather", [xi, i64("split_feat", [S * K], f.feat)], { axis: attr.int(1) });
  let dot: string;
  if (K === 1) {
    dot = g.op("Mul", [gathered, g.f64("split_coef", [S], f.coef)]);
  } else {
    const cube = g.op("Reshape", [gathered, g.i64("split_shape", [0, S, K])]);
    const terms = g.op("Mul", [cube, g.f64("split_coef", [S, K], f.coef)]);
    dot = g.op("ReduceSum", [terms, g.i64("axis2", [2])], { keepdims: attr.int(0) });
  }
  const goLeft = g.op("LessOrEqual", [dot, g.f64("split_value", [S], f.split)]);

  // One cursor per tree, [B, T], starting at the roots.
  const batch = g.op("Slice", [g.op("Shape", ["features"]), g.i64("s0", [0]), g.i64("s1", [1])]);
  const cursorShape = g.op("Concat", [batch, g.i64("trees", [T])], { axis: attr.int(0) });
  let cursor = g.op("Expand", [g.i64("roots", f.roots), cursorShape]);
  const leftOf = g.i64("left", f.left);
  const rightOf = g.i64("right", f.right);
  const columnOf = g.i64("column", f.column);
  for (let step = 0; step < f.depth; step++) {
    const bit = g.op("GatherElements", [goLeft, g.op("Gather", [columnOf, cursor])], { axis: attr.int(1) });
    cursor = g.op("Where", [bit, g.op("Gather", [leftOf, cursor]), g.op("Gather", [rightOf, cursor])]);
  }
  const pathLength = g.op("Gather", [g.f64("leaf_value", [N], f.value), cursor]);
  // Summed over the trees, then divided by their count, as the scorers do.
  const mean = g.op("Div", [g.op("ReduceSum", [pathLength, g.i64("axis1", [1])], { keepdims: attr.int(0) }), g.f64("n_trees", [], [T])]);
  const exponent = g.op("Neg", [g.op("Div", [mean, g.f64("c_psi", [], [cFactor(m.subsample)])])]);
  const score = g.op("Pow", [g.f64("two", [], [2]), exponent]);
  if (!into) {
    g.rename(score, "score");
    g.rename(g.op("Greater", [score, g.f64("threshold", [], [spec.threshold])]), "alert");
  }
  return { g, score, nodes: N, splits: S, depth: f.depth };
}
