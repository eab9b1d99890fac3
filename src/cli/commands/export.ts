// `cis490 export`: a checkpoint -> an ONNX model (src/deploy/export.ts).

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { exportCheckpoint, type ExportResult } from "../../deploy/export.js";
import { DEFAULT_REGISTRY, resolveModelRef } from "../../registry/refs.js";

export class ExportCommand extends BaseCommand<ExportResult> {
  static paths = [["export"]];

  static usage = Command.Usage({
    description: "Export a trained checkpoint (every kind but minirocket) to one ONNX file that onnxruntime runs without libtorch or XGBoost.",
    details: `
      Neural models become standard opset-17 graphs with the checkpoint's channel/feature mask and standardisation built in; GBT becomes an \`ai.onnx.ml\` TreeEnsembleClassifier with XGBoost's missing-value branches, base score and softmax. Inputs are what the feature core produces per window: \`features\` [batch, 230] for gbt/mlp (46 x the schema's statistics for features made with --baseline / --missing-indicators), \`x\` [batch, 46, T] float and \`mask\` [batch, 46, T] uint8 for cnn/gru/lstm/transformer. Output \`probabilities\` [batch, classes]. An EIF anomaly checkpoint (eif_<mode>.anomaly-ckpt.json) becomes standard opset-17 ops too (hyperplane splits as Gather/Mul/ReduceSum/LessOrEqual, the tree walk unrolled): input \`features\` [batch, 230], outputs \`score\` [batch] (float64) and \`alert\` [batch] (score > the calibrated threshold). An autoencoder checkpoint (ae_<mode>.anomaly-ckpt.json) becomes imputation + min-max scaling + the net (MatMul/Add, BatchNormalization, Relu, Sigmoid) with outputs \`score\` (reconstruction MSE, float64), \`alert\`, \`reconstruction\` and \`latent\` [batch, 16]; an ensemble (ensemble_<mode>.anomaly-ckpt.json) becomes its members' graphs plus their ECDF ranks, outputs \`score\` and \`alert\` (docs/anomaly.md). The batch dimension is dynamic. The file's metadata records the feature-schema hash, mode, classes, channels, window geometry, the schema options of a --baseline / --missing-indicators schema (so detect featurizes with them), checkpoint sha256 and cis490 version (docs/deployment.md).

      Exit codes: 0 written; 1 the checkpoint is unusable (unreadable, weights missing or changed, unknown layout); 2 usage error.
    `,
    examples: [["Export the realistic GRU", "$0 export --checkpoint artifacts/gru_realistic.ckpt.json --out models/gru_realistic.onnx"]],
  });

  checkpoint = Option.String("--checkpoint", { required: true, description: "Checkpoint sidecar (<model>_<mode>.ckpt.json or <eif|ae|ensemble>_<mode>.anomaly-ckpt.json), or a registered NAME[@alias|@version]" });
  out = Option.String("--out", { required: true, description: "ONNX file to write (atomically)" });
  registry = Option.String("--registry", DEFAULT_REGISTRY, { description: `Registry for NAME@alias (default ${DEFAULT_REGISTRY})` });

  protected async run(): Promise<ExportResult> {
    const { checkpoint } = await resolveModelRef(this.checkpoint, { registry: this.registry, loadedBy: "export" });
    await mkdir(dirname(this.out), { recursive: true });
    return exportCheckpoint(checkpoint, this.out);
  }

  protected render(r: ExportResult): string {
    return `Exported ${r.kind} (${r.mode}) to ${r.out}: ${r.bytes} bytes, ${r.nodes} nodes, inputs ${r.inputs.join(", ")}, schema ${r.metadata.feature_schema_hash.slice(0, 12)}`;
  }
}
