// What an exported model says about itself (ONNX metadata_props, one JSON
// value under META): enough for `detect` to feed it the right inputs and to
// refuse features made under another schema.

import { N_STATS } from "../features/channels.js";

export const META = "cis490";

/**
 * The schema options of `cis490 features --baseline M [--baseline-s S]
 * [--missing-indicators]` (src/features/types.ts FeatureOptions): detect
 * featurizes with them, so the baseline is computed causally by the feature
 * core, not by the graph.
 */
export interface FeatureSchemaOptions {
  /** Statistics per channel, in vector order. */
  stats: string[];
  /** Seconds of episode time that form the baseline; absent = none. */
  baseline_s?: number;
  /** Tensors minus each channel's baseline median. */
  tensor_baseline?: boolean;
}

export interface ModelMetadata {
  format: "cis490-onnx/1";
  kind: string;
  mode: string;
  feature_schema_hash: string;
  /** Class (phase) names, index = output column. */
  classes: string[];
  /** "summary": input `features` [batch, 46 x stats] (230 by default); "tensor": inputs `x` [batch, 46, T] float and `mask` uint8. */
  input: "summary" | "tensor";
  /** The 46 channels of the input tensor / summary vector, in order. */
  channels: string[];
  /** The channels the model actually reads (its mode's mask). */
  model_channels: string[];
  window: { window_s: number; stride_s: number; hz: number; tensor_len: number };
  /** Non-default feature schemas only (absent = the plain five statistics, no baseline, as before it existed). */
  feature_options?: FeatureSchemaOptions;
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

/** Width of a summary model's `features` input: channels x statistics. */
export function summaryWidth(meta: ModelMetadata): number {
  return meta.channels.length * (meta.feature_options?.stats.length ?? N_STATS);
}
