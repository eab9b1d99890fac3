// feature_schema.json (docs/features.md): the channel registry, statistic
// names, feature names, window parameters and phases, plus the sha256 of
// its canonical JSON. Checkpoints pin that hash: any change to the channel
// list or order, the statistics, the window/stride/hz, or the phase codes
// gives a new hash, and a model trained on the old one refuses the new data.
// So does the baseline option (the `baseline` field and the extra statistics).

import { readFile } from "node:fs/promises";
import { PHASES } from "../episode/report.js";
import { writeFileAtomic } from "../io/atomic.js";
import { canonicalHash } from "../io/canonical-json.js";

export const FEATURE_SCHEMA_FILE = "feature_schema.json";
export const FEATURE_SCHEMA_VERSION = 1;

export interface SchemaChannel {
  name: string;
  source: string;
  kind: "counter" | "level";
  deployed: boolean;
}

export interface FeatureSchema {
  version: number;
  channels: SchemaChannel[];
  stats: string[];
  features: string[];
  window_s: number;
  stride_s: number;
  hz: number;
  tensor_len: number;
  phases: string[];
  /**
   * Present only when the episode baseline is used (so the default schema and
   * its hash are unchanged): the baseline period's length and whether the
   * tensors are relative to it (docs/features.md, "Baseline-relative features").
   */
  baseline?: { seconds: number; tensors: boolean };
  hash: string;
}

export interface SchemaInputs {
  channels: SchemaChannel[];
  stats: readonly string[];
  window_s: number;
  stride_s: number;
  hz: number;
  phases?: readonly string[];
  /** Baseline period in seconds (0 or absent = none) and tensors minus it. */
  baseline_s?: number;
  tensor_baseline?: boolean;
}

/** Grid points per window (docs/features.md: T = round(W * hz)). */
export function tensorLength(window_s: number, hz: number): number {
  return Math.round(window_s * hz);
}

/** Feature names in vector order: channel-major, `<channel>.<stat>`. */
export function featureNames(channels: readonly { name: string }[], stats: readonly string[]): string[] {
  return channels.flatMap((c) => stats.map((s) => `${c.name}.${s}`));
}

export function buildFeatureSchema(inputs: SchemaInputs): FeatureSchema {
  const body: Omit<FeatureSchema, "hash"> = {
    version: FEATURE_SCHEMA_VERSION,
    channels: inputs.channels.map((c) => ({ name: c.name, source: c.source, kind: c.kind, deployed: c.deployed })),
    stats: [...inputs.stats],
    features: featureNames(inputs.channels, inputs.stats),
    window_s: inputs.window_s,
    stride_s: inputs.stride_s,
    hz: inputs.hz,
    tensor_len: tensorLength(inputs.window_s, inputs.hz),
    phases: [...(inputs.phases ?? PHASES)],
    ...(inputs.baseline_s ? { baseline: { seconds: inputs.baseline_s, tensors: inputs.tensor_baseline ?? false } } : {}),
  };
  return { ...body, hash: schemaHash(body) };
}

/** sha256 hex of the canonical JSON of the document without `hash`. */
export function schemaHash(doc: Omit<FeatureSchema, "hash"> | FeatureSchema): string {
  const { hash: _ignored, ...body } = doc as FeatureSchema;
  return canonicalHash(body);
}

/** Throws when the stored hash does not match the document (hand-edited or truncated file). */
export function checkSchema(doc: FeatureSchema): FeatureSchema {
  const actual = schemaHash(doc);
  if (doc.hash !== actual) throw new Error(`feature schema hash mismatch: file says ${doc.hash}, content hashes to ${actual}`);
  return doc;
}

export async function writeFeatureSchema(path: string, schema: FeatureSchema): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(schema, null, 2) + "\n");
}

export async function readFeatureSchema(path: string): Promise<FeatureSchema> {
  return checkSchema(JSON.parse(await readFile(path, "utf8")) as FeatureSchema);
}
