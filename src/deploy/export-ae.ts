// The reconstruction autoencoder as a standard opset-17 graph:
//
//   1. the net's input columns gathered from the summary vector, cast to
//      float64; NaN / infinities replaced by the training medians;
//   2. min-max scaling (x - min) / (max - min), clipped to
//      [-clip, 1 + clip], then float32 (the order src/anomaly/autoencoder.ts
//      scaleRows uses);
//   3. the net in eval mode: MatMul + Add (Linear), BatchNormalization with
//      the running statistics, Relu; the decoder ends in Sigmoid;
//   4. score = mean over inputs of (reconstruction - input)^2 in float32,
//      cast to float64; alert = score > threshold.
//
// Outputs: score [batch] double, alert [batch] bool, reconstruction
// [batch, inputs] float (scaled space), latent [batch, 16] float.

import type { AeScaling } from "../anomaly/autoencoder.js";
import type { NamedTensor } from "../engines/index.js";
import { attr, GraphBuilder, type Param } from "./graph.js";

export interface AeGraphSpec {
  /** Indices into the summary vector, one per net input, in order. */
  inputs: number[];
  scaling: AeScaling;
}

/** The encoder's and decoder's Linear (L) and BatchNorm (B) modules by index, as AeNetImpl registers them. */
const ENCODER = ["L0", "B1", "L3", "B4", "L6", "B7"];
const DECODER = ["L0", "B1", "L3", "B4", "L6"];
const BN_EPS = 1e-5;

/** Given a builder (the ensemble's graph), adds the net to it and names no outputs; returns the float64 score value. */
export function buildAeGraph(spec: AeGraphSpec, tensors: NamedTensor[], into?: GraphBuilder): { g: GraphBuilder; score: string } {
  const s = spec.scaling;
  const k = s.kept.length;
  if (spec.inputs.length !== k) throw new Error(`the autoencoder reads ${k} inputs, the spec selects ${spec.inputs.length}`);
  const w = new Map<string, Param>(tensors.map((t) => [t.name, t]));
  const get = (name: string): Param => {
    const p = w.get(name);
    if (!p) throw new Error(`the autoencoder has no tensor ${name}`);
    return p;
  };
  const g = into ?? new GraphBuilder();
  const x = g.cast(g.op("Gather", ["features", g.i64("inputs", spec.inputs)], { axis: attr.int(1) }), "double");
  const missing = g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])]);
  const xi = g.op("Where", [missing, g.f64("median", [k], s.median), x]);
  const z = g.op("Div", [g.op("Sub", [xi, g.f64("min", [k], s.min)]), g.f64("range", [k], s.max.map((hi, j) => hi - s.min[j]))]);
  const clipped = g.op("Max", [g.op("Min", [z, g.f64("hi", [], [1 + s.clip])]), g.f64("lo", [], [-s.clip])]);
  const input = g.cast(clipped, "float");

  const run = (h: string, prefix: string, layers: string[]): string => {
    for (const l of layers) {
      const i = l.slice(1);
      if (l[0] === "L") h = g.linear(h, get(`${prefix}.${i}.weight`), get(`${prefix}.${i}.bias`));
      else {
        const t = (n: string) => {
          const p = get(`${prefix}.${i}.${n}`);
          return g.f32(`bn_${n}`, p.shape, p.data);
        };
        h = g.op("BatchNormalization", [h, t("weight"), t("bias"), t("running_mean"), t("running_var")], { epsilon: attr.float(BN_EPS) });
        h = g.op("Relu", [h]);
      }
    }
    return h;
  };
  const latent = run(input, "encoder", ENCODER);
  const recon = g.op("Sigmoid", [run(latent, "decoder", DECODER)]);
  const d = g.op("Sub", [recon, input]);
  const mse = g.op("ReduceMean", [g.op("Mul", [d, d])], { axes: attr.ints([1]), keepdims: attr.int(0) });
  const score = g.cast(mse, "double");
  if (!into) {
    g.rename(score, "score");
    g.rename(g.op("Greater", [score, g.f64("threshold", [], [s.threshold])]), "alert");
    g.rename(recon, "reconstruction");
    g.rename(latent, "latent");
  }
  return { g, score };
}
