// The XGBoost -> TreeEnsembleClassifier conversion on data where missing
// values carry the signal, so the trees must learn default directions both
// ways: XGBoost (the engine), a plain walk of the JSON trees with
// base_score + softmax (how we read XGBoost 1.7's multi:softprob), and
// onnxruntime must all agree.

import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { predictGbt, trainGbt } from "../src/engines/index.js";
import { buildGbtGraph, parseXgbModel } from "../src/deploy/export-gbt.js";
import { encodeGraph } from "../src/deploy/export.js";
import { argmax, maxAbsDiff } from "./helpers/export-parity.js";

const K = 6;
const W = 10;

function data(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const x = new Float32Array(n * W);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    for (let j = 0; j < W; j++) x[i * W + j] = r() * 2 - 1 + (j === k ? 1.5 : 0);
    // Column 6 is missing mostly for classes 0-2, column 7 mostly for 3-5.
    if (r() < (k < 3 ? 0.8 : 0.1)) x[i * W + 6] = Number.NaN;
    if (r() < (k >= 3 ? 0.8 : 0.1)) x[i * W + 7] = Number.NaN;
    if (r() < 0.05) x[i * W + Math.floor(r() * W)] = Number.NaN;
  }
  return { x, y };
}

/** XGBoost's multi:softprob prediction written out: margins = base_score + leaves per class, softmax. */
function walkTrees(json: string, x: Float32Array, n: number): Float32Array {
  const { learner } = parseXgbModel(json);
  const base = Number(learner.learner_model_param.base_score);
  const { trees, tree_info } = learner.gradient_booster.model;
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const margin = new Array(K).fill(base);
    trees.forEach((t, ti) => {
      let node = 0;
      while (t.left_children[node] !== -1) {
        const v = x[i * W + t.split_indices[node]];
        node = Number.isNaN(v) ? (t.default_left[node] ? t.left_children[node] : t.right_children[node]) : v < Math.fround(t.split_conditions[node]) ? t.left_children[node] : t.right_children[node];
      }
      margin[tree_info[ti]] += t.split_conditions[node];
    });
    const mx = Math.max(...margin);
    const e = margin.map((m) => Math.exp(m - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => (out[i * K + c] = v / sum));
  }
  return out;
}

describe("gbt export keeps XGBoost's missing-value branches, base score and softmax", () => {
  it("engine, tree walk and onnxruntime agree", async () => {
    const train = data(900, 3);
    const test = data(300, 11);
    const r = await trainGbt({ x: train.x, nRows: 900, nCols: W, y: train.y, numClass: K, params: { max_depth: 4, eta: 0.3, nthread: 1, seed: 0 }, rounds: 25 });
    const trees = parseXgbModel(r.modelJson).learner.gradient_booster.model.trees;
    const dl = trees.flatMap((t) => t.default_left.filter((_, i) => t.left_children[i] !== -1 && (t.split_indices[i] === 6 || t.split_indices[i] === 7)).map(Number));
    expect(dl).toContain(0);
    expect(dl).toContain(1);

    // +-inf reach the graph raw; XGBoost sees them as missing (the trainer's infinitiesToNaN).
    const raw = test.x.slice();
    for (let i = 0; i < raw.length; i += 37) if (Number.isNaN(raw[i])) raw[i] = i % 2 ? Infinity : -Infinity;

    const engine = await predictGbt(r.modelJson, test.x, 300, W, { nthread: 1 });
    const walked = walkTrees(r.modelJson, test.x, 300);
    expect(maxAbsDiff(engine, walked)).toBeLessThanOrEqual(1e-6);

    const built = buildGbtGraph({ nClasses: K, inputs: Array.from({ length: W }, (_, j) => j), inputWidth: W }, r.modelJson);
    const bytes = encodeGraph(built, { name: "gbt", nClasses: K, withLabel: true, metadata: {} });
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const res = await session.run({ features: new ort.Tensor("float32", raw, [300, W]) });
    const onnx = res.probabilities.data as Float32Array;
    expect(maxAbsDiff(onnx, engine)).toBeLessThanOrEqual(1e-5);
    expect(argmax(onnx, K)).toEqual(argmax(engine, K));
    expect(Array.from(res.label.data as BigInt64Array, Number)).toEqual(argmax(engine, K));
    // Missing values decide the class here: sending them all one way would change the answer.
    const flipped = buildGbtGraph({ nClasses: K, inputs: Array.from({ length: W }, (_, j) => j), inputWidth: W }, r.modelJson.replace(/"default_left":\s*\[[^\]]*\]/g, (m) => m.replace(/\b1\b/g, "0")));
    const s2 = await ort.InferenceSession.create(encodeGraph(flipped, { name: "gbt", nClasses: K, withLabel: true, metadata: {} }));
    const wrong = (await s2.run({ features: new ort.Tensor("float32", raw, [300, W]) })).probabilities.data as Float32Array;
    expect(maxAbsDiff(wrong, engine)).toBeGreaterThan(1e-2);
  });
});
