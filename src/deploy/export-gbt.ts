// XGBoost 1.7 multi:softprob -> ai.onnx.ml TreeEnsembleClassifier.
//
// XGBoost's prediction: per class, margin = base_score + the sum of that
// class's trees' leaves (tree_info gives each tree's class), then softmax.
// A split sends x < split_condition left, a missing value (NaN) to its
// default child: BRANCH_LT with nodes_missing_value_tracks_true =
// default_left. XGBoost takes +-inf as missing too (the trainer turns them
// into NaN), so the graph does the same before the trees.

import { attr, GraphBuilder } from "./graph.js";
import type { BuiltGraph } from "./export-neural.js";

interface XgbTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: Array<number | boolean>;
  split_type?: number[];
}

interface XgbModel {
  learner: {
    learner_model_param: { base_score: string; num_class: string; num_feature: string };
    objective: { name: string };
    gradient_booster: { name: string; model: { trees: XgbTree[]; tree_info: number[] } };
  };
  version?: number[];
}

export interface GbtSpec {
  nClasses: number;
  /** Indices into the 230-wide summary vector, in the model's column order. */
  inputs: number[];
  inputWidth: number;
}

export function parseXgbModel(json: string): XgbModel {
  const doc = JSON.parse(json) as XgbModel;
  const l = doc?.learner;
  if (!l?.gradient_booster?.model?.trees || !l.learner_model_param) throw new Error("not an XGBoost JSON model (no learner.gradient_booster.model.trees)");
  if (l.gradient_booster.name !== "gbtree") throw new Error(`booster ${l.gradient_booster.name} is not exported (only gbtree)`);
  if (l.objective?.name !== "multi:softprob") throw new Error(`objective ${l.objective?.name} is not exported (only multi:softprob)`);
  return doc;
}

export function buildGbtGraph(spec: GbtSpec, modelJson: string): BuiltGraph {
  const model = parseXgbModel(modelJson);
  const { learner } = model;
  const nClass = Number(learner.learner_model_param.num_class);
  if (nClass !== spec.nClasses) throw new Error(`the XGBoost model has ${nClass} classes, the checkpoint ${spec.nClasses}`);
  if (Number(learner.learner_model_param.num_feature) !== spec.inputs.length) {
    throw new Error(`the XGBoost model reads ${learner.learner_model_param.num_feature} features, the checkpoint's mask selects ${spec.inputs.length}`);
  }
  const baseScore = Number(learner.learner_model_param.base_score);
  const { trees, tree_info } = learner.gradient_booster.model;

  const nodes = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], modes: [] as string[], values: [] as number[], truenodeids: [] as number[], falsenodeids: [] as number[], missing: [] as number[], hitrates: [] as number[] };
  const leaves = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  trees.forEach((t, ti) => {
    if (t.split_type?.some((s) => s !== 0)) throw new Error(`tree ${ti} has categorical splits, which the exporter does not support`);
    for (let i = 0; i < t.left_children.length; i++) {
      const leaf = t.left_children[i] === -1;
      nodes.treeids.push(ti);
      nodes.nodeids.push(i);
      nodes.hitrates.push(1);
      if (leaf) {
        nodes.featureids.push(0);
        nodes.modes.push("LEAF");
        nodes.values.push(0);
        nodes.truenodeids.push(0);
        nodes.falsenodeids.push(0);
        nodes.missing.push(0);
        leaves.treeids.push(ti);
        leaves.nodeids.push(i);
        leaves.ids.push(tree_info[ti]);
        // A leaf's value is stored in split_conditions.
        leaves.weights.push(Math.fround(t.split_conditions[i]));
      } else {
        nodes.featureids.push(t.split_indices[i]);
        nodes.modes.push("BRANCH_LT");
        nodes.values.push(Math.fround(t.split_conditions[i]));
        nodes.truenodeids.push(t.left_children[i]);
        nodes.falsenodeids.push(t.right_children[i]);
        nodes.missing.push(t.default_left[i] ? 1 : 0);
      }
    }
  });

  const g = new GraphBuilder();
  const x = g.op("Gather", ["features", g.i64("inputs", spec.inputs)], { axis: attr.int(1) });
  const clean = g.op("Where", [g.op("IsInf", [x]), g.scalar(Number.NaN), x]);
  const [label, probs] = g.ops(
    "TreeEnsembleClassifier",
    [clean],
    2,
    {
      base_values: attr.floats(new Array(nClass).fill(baseScore)),
      class_ids: attr.ints(leaves.ids),
      class_nodeids: attr.ints(leaves.nodeids),
      class_treeids: attr.ints(leaves.treeids),
      class_weights: attr.floats(leaves.weights),
      classlabels_int64s: attr.ints(Array.from({ length: nClass }, (_, k) => k)),
      nodes_falsenodeids: attr.ints(nodes.falsenodeids),
      nodes_featureids: attr.ints(nodes.featureids),
      nodes_hitrates: attr.floats(nodes.hitrates),
      nodes_missing_value_tracks_true: attr.ints(nodes.missing),
      nodes_modes: attr.strings(nodes.modes),
      nodes_nodeids: attr.ints(nodes.nodeids),
      nodes_treeids: attr.ints(nodes.treeids),
      nodes_truenodeids: attr.ints(nodes.truenodeids),
      nodes_values: attr.floats(nodes.values),
      post_transform: attr.string("SOFTMAX"),
    },
    "ai.onnx.ml",
  );
  g.rename(probs, "probabilities");
  g.rename(label, "label");
  return { g, inputs: [{ name: "features", dataType: "float", shape: ["batch", spec.inputWidth] }], output: "probabilities" };
}
