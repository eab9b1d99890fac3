// What an exported model says about itself (ONNX metadata_props, one JSON
// value under META): enough for `detect` to feed it the right inputs and to
// refuse features made under another schema.

export const META = "cis490";

export interface ModelMetadata {
  format: "cis490-onnx/1";
  kind: string;
  mode: string;
  feature_schema_hash: string;
  /** Class (phase) names, index = output column. */
  classes: string[];
  /** "summary": input `features` [batch, 230]; "tensor": inputs `x` [batch, 46, T] float and `mask` uint8. */
  input: "summary" | "tensor";
  /** The 46 channels of the input tensor / summary vector, in order. */
  channels: string[];
  /** The channels the model actually reads (its mode's mask). */
  model_channels: string[];
  window: { window_s: number; stride_s: number; hz: number; tensor_len: number };
  checkpoint_sha256: string;
  weights_sha256: string;
  cis490_version: string;
  /** Anomaly detectors only (kind "eif" or "ae"; `classes` is empty): outputs `score` double [batch] and `alert` bool [batch] instead of probabilities (ae also `reconstruction` and `latent`). */
  anomaly?: {
    /** alert = score > threshold (calibrated on clean windows). */
    threshold: number;
    /** The summary features the detector reads, in order (the mode's mask less the dropped near-zero-variance ones). */
    inputs: string[];
    /** eif only. */
    n_trees?: number;
    subsample?: number;
    max_depth?: number;
    /** ae only: layer widths, input to output. */
    widths?: number[];
    /** ensemble only: its members, in graph order. */
    members?: Array<{ kind: string; weight: number; sidecar_sha256: string }>;
  };
}

export function parseMetadata(map: Record<string, string> | undefined, path: string): ModelMetadata {
  const text = map?.[META];
  if (!text) throw new Error(`${path} is an ONNX model but not one exported by cis490 (no "${META}" metadata)`);
  let doc: ModelMetadata;
  try {
    doc = JSON.parse(text) as ModelMetadata;
  } catch (error) {
    throw new Error(`${path}: its cis490 metadata is not JSON (${(error as Error).message})`);
  }
  if (doc.format !== "cis490-onnx/1") throw new Error(`${path}: unknown cis490 model format ${JSON.stringify(doc.format)}`);
  return doc;
}
