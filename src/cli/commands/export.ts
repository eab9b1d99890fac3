// `cis490 export`: a checkpoint -> an ONNX model (src/deploy/export.ts).

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, writeLine } from "../../io/command-support.js";
import { ExportError, exportCheckpoint } from "../../deploy/export.js";

export class ExportCommand extends Command {
  static paths = [["export"]];

  static usage = Command.Usage({
    description: "Export a trained checkpoint (any model kind) to one ONNX file that onnxruntime runs without libtorch or XGBoost.",
    details: `
      Neural models become standard opset-17 graphs with the checkpoint's channel/feature mask and standardisation built in; GBT becomes an \`ai.onnx.ml\` TreeEnsembleClassifier with XGBoost's missing-value branches, base score and softmax. Inputs are what the feature core produces per window: \`features\` [batch, 230] for gbt/mlp, \`x\` [batch, 46, T] float and \`mask\` [batch, 46, T] uint8 for cnn/gru/lstm/transformer. Output \`probabilities\` [batch, classes]. An EIF anomaly checkpoint (eif_<mode>.anomaly-ckpt.json) becomes standard opset-17 ops too (hyperplane splits as Gather/Mul/ReduceSum/LessOrEqual, the tree walk unrolled): input \`features\` [batch, 230], outputs \`score\` [batch] (float64) and \`alert\` [batch] (score > the calibrated threshold). The batch dimension is dynamic. The file's metadata records the feature-schema hash, mode, classes, channels, window geometry, checkpoint sha256 and cis490 version (docs/deployment.md).

      Exit codes: 0 written; 1 the checkpoint is unusable (unreadable, weights missing or changed, unknown layout); 2 usage error.
    `,
    examples: [["Export the realistic GRU", "$0 export --checkpoint artifacts/gru_realistic.ckpt.json --out models/gru_realistic.onnx"]],
  });

  checkpoint = Option.String("--checkpoint", { required: true, description: "Checkpoint sidecar (<model>_<mode>.ckpt.json or eif_<mode>.anomaly-ckpt.json)" });
  out = Option.String("--out", { required: true, description: "ONNX file to write (atomically)" });
  json = Option.Boolean("--json", false, { description: "Print the result as JSON" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    try {
      await mkdir(dirname(this.out), { recursive: true });
      const r = await exportCheckpoint(this.checkpoint, this.out);
      if (this.json) writeLine(stdout, JSON.stringify(r));
      else writeLine(stdout, `Exported ${r.kind} (${r.mode}) to ${r.out}: ${r.bytes} bytes, ${r.nodes} nodes, inputs ${r.inputs.join(", ")}, schema ${r.metadata.feature_schema_hash.slice(0, 12)}`);
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof ExportError)) throw error;
      writeLine(stderr, `cis490 export: ${error.message}`);
      return EXIT_FAILURE;
    }
  }
}
