// The anomaly ensemble as one standard opset-17 graph: each member's graph
// (export-eif.ts, export-ae.ts) built into the same builder on the shared
// `features` input, each member score ranked against its calibration
// reference (src/anomaly/ensemble.ts):
//
//   ecdf = ReduceMean(Cast(LessOrEqual(reference [1, R], score [B, 1]))) over R,
//   rank = score > max ? 1 + ln(1 + (score - max) / tail_scale) : ecdf,
//
// then score = Σ weight_k rank_k (float64, summed in member order) and
// alert = score > threshold.

import { attr, GraphBuilder } from "./graph.js";
import type { EnsembleMember } from "../anomaly/ensemble.js";

export function addEnsembleScore(g: GraphBuilder, members: Array<Pick<EnsembleMember, "reference" | "tail_scale" | "weight">>, scores: string[], threshold: number): void {
  let total: string | null = null;
  members.forEach((m, k) => {
    const R = m.reference.length;
    const top = m.reference[R - 1];
    const s = scores[k];
    const column = g.op("Unsqueeze", [s, g.i64("axis1", [1])]);
    const le = g.cast(g.op("LessOrEqual", [g.f64("reference", [1, R], m.reference), column]), "double");
    const ecdf = g.op("ReduceMean", [le], { axes: attr.ints([1]), keepdims: attr.int(0) });
    const one = g.f64("one", [], [1]);
    const excess = g.op("Max", [g.op("Sub", [s, g.f64("top", [], [top])]), g.f64("zero", [], [0])]);
    const tail = g.op("Add", [one, g.op("Log", [g.op("Add", [one, g.op("Div", [excess, g.f64("tail_scale", [], [m.tail_scale])])])])]);
    const rank = g.op("Where", [g.op("Greater", [s, g.f64("top", [], [top])]), tail, ecdf]);
    const term = g.op("Mul", [rank, g.f64("weight", [], [m.weight])]);
    total = total === null ? term : g.op("Add", [total, term]);
  });
  g.rename(total!, "score");
  g.rename(g.op("Greater", [total!, g.f64("threshold", [], [threshold])]), "alert");
}
