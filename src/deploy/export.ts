// `cis490 export`: a checkpoint (sidecar + engine weights) -> one .onnx file
// that needs neither libtorch nor XGBoost. The graph's inputs are what the
// feature core produces for a window (docs/deployment.md); the metadata
// pins the feature schema so `detect` refuses features made another way.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AutoencoderModel, TorchModel, type NamedTensor, type TorchConfig } from "../engines/index.js";
import { readAnomalySidecar } from "../anomaly/loader.js";
import { ANOMALY_CHECKPOINT_FORMAT, loadEifCheckpoint, type AnomalySidecar } from "../anomaly/train.js";
import { buildAeGraph } from "./export-ae.js";
import { addEnsembleScore } from "./export-ensemble.js";
import { GraphBuilder } from "./graph.js";
import type { AeScaling } from "../anomaly/autoencoder.js";
import type { EnsembleState } from "../anomaly/ensemble.js";
import type { EifDetectorState } from "../anomaly/estimator.js";
import { channelIndices, STATS } from "../features/channels.js";
import { currentSchema } from "../features/run.js";
import type { FeatureOptions } from "../features/types.js";
import { checkFeatureOptions } from "../reference/features.js";
import { writeFileAtomic } from "../io/atomic.js";
import { packageRoot } from "../native/addon.js";
import { sha256OfFile } from "../io/hash.js";
import { describeSchemaChange, inputChannels, validateSidecar } from "../train/checkpoint.js";
import { isSequenceKind, type CheckpointSidecar } from "../train/types.js";
import { buildEifGraph } from "./export-eif.js";
import { buildGbtGraph } from "./export-gbt.js";
import { buildMiniRocketGraph } from "./export-minirocket.js";
import type { MiniRocketState } from "../train/minirocket.js";
import { buildNeuralGraph, type BuiltGraph, type NeuralSpec } from "./export-neural.js";
import { ML_OPSET, OPSET } from "./graph.js";
import { DataType, encodeModel, type DataTypeCode } from "./onnx-proto.js";
import { META, type FeatureSchemaOptions, type ModelMetadata } from "./metadata.js";
import { CliError } from "../util/errors.js";

export class ExportError extends CliError {}

export interface ExportResult {
  out: string;
  kind: string;
  mode: string;
  bytes: number;
  nodes: number;
  inputs: string[];
  metadata: ModelMetadata;
}

export function cis490Version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

async function readCheckpointJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ExportError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ExportError(`checkpoint ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return doc;
}

interface TrainedSchema {
  channels: Array<{ name: string }>;
  stats?: string[];
  features?: string[];
  window_s: number;
  stride_s: number;
  hz: number;
  tensor_len: number;
  baseline?: { seconds: number; tensors: boolean };
}

interface TrainedLayout {
  /** The schema options to put in the metadata; undefined for the default schema (its metadata is unchanged). */
  options: FeatureSchemaOptions | undefined;
  /** Summary vector width (channels x statistics). */
  width: number;
  channels: string[];
}

/**
 * The graph input is the feature core's vector/tensor, so the trained schema
 * must be one this build's feature core produces: its options (statistics,
 * baseline) are read back from the schema document and the layout rebuilt
 * from them must be the trained one.
 */
function trainedLayout(checkpoint: string, schema: TrainedSchema): TrainedLayout {
  const stats = schema.stats ?? [...STATS];
  const isDefault = !schema.baseline && stats.join("\n") === STATS.join("\n");
  const options: FeatureSchemaOptions | undefined = isDefault
    ? undefined
    : { stats: [...stats], ...(schema.baseline ? { baseline_s: schema.baseline.seconds, tensor_baseline: schema.baseline.tensors } : {}) };
  const core = (() => {
    try {
      const o: FeatureOptions = { window_s: schema.window_s, stride_s: schema.stride_s, hz: schema.hz, tensors: false, ...options };
      checkFeatureOptions(o);
      return currentSchema(o);
    } catch (error) {
      throw new ExportError(`checkpoint ${checkpoint} was trained on feature options this build's feature core does not accept (${(error as Error).message}): retrain it on features made by this cis490 version`);
    }
  })();
  const channels = (schema.channels ?? []).map((c) => c.name);
  const sameLayout =
    (schema.features ?? []).join("\n") === core.features.join("\n") &&
    channels.join("\n") === core.channels.map((c) => c.name).join("\n") &&
    schema.tensor_len === core.tensor_len &&
    JSON.stringify(schema.baseline ?? null) === JSON.stringify(core.baseline ?? null);
  if (!sameLayout) {
    throw new ExportError(`checkpoint ${checkpoint} was trained on a feature layout this build's feature core does not produce (${describeSchemaChange(schema, core).join("; ")}): retrain it on features made by this cis490 version`);
  }
  return { options, width: core.features.length, channels };
}

/** Any checkpoint: a supervised `<model>_<mode>.ckpt.json` or an anomaly `eif_<mode>.anomaly-ckpt.json`. */
/** Supervised kinds with an ONNX graph builder (the EIF has its own, export-eif.ts). */
export const EXPORTABLE_KINDS = ["gbt", "mlp", "cnn", "gru", "lstm", "transformer", "minirocket"] as const;

export async function exportCheckpoint(checkpoint: string, out: string): Promise<ExportResult> {
  const doc = await readCheckpointJson(checkpoint);
  if ((doc as { format?: unknown } | null)?.format === ANOMALY_CHECKPOINT_FORMAT) {
    const kind = (doc as { kind?: unknown }).kind;
    if (kind === "ae") return exportAeCheckpoint(checkpoint, out);
    if (kind === "ensemble") return exportEnsembleCheckpoint(checkpoint, out);
    return exportEifCheckpoint(checkpoint, out);
  }
  let sc: CheckpointSidecar;
  try {
    sc = validateSidecar(doc, checkpoint);
  } catch (error) {
    throw new ExportError((error as Error).message);
  }
  const sha = await sha256OfFile(checkpoint);
  const weightsPath = join(dirname(checkpoint), sc.weights_file);
  const weightsSha = await sha256OfFile(weightsPath).catch((error: NodeJS.ErrnoException) => {
    throw new ExportError(`checkpoint ${checkpoint}: weights file ${weightsPath} is missing or unreadable (${error.code ?? error.message})`);
  });
  if (sc.weights_sha256 && sc.weights_sha256 !== weightsSha) {
    throw new ExportError(`checkpoint ${checkpoint}: weights file ${weightsPath} has sha256 ${weightsSha}, the sidecar expects ${sc.weights_sha256}`);
  }
  const schema = sc.feature_schema as TrainedSchema;
  const layout = trainedLayout(checkpoint, schema);
  const schemaChannels = layout.channels;
  if (!(EXPORTABLE_KINDS as readonly string[]).includes(sc.kind)) {
    throw new ExportError(`checkpoint ${checkpoint}: exporting a ${sc.kind} model is not implemented (exportable: ${EXPORTABLE_KINDS.join(", ")}, and eif)`);
  }
  const seq = isSequenceKind(sc.kind);
  let built: BuiltGraph;
  try {
    if (sc.kind === "gbt") {
      const inputs = sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
      built = buildGbtGraph({ nClasses: sc.classes.length, inputs, inputWidth: layout.width }, await readFile(weightsPath, "utf8"));
    } else if (sc.kind === "minirocket") {
      const state = JSON.parse(await readFile(weightsPath, "utf8")) as MiniRocketState;
      if (state.format !== "cis490-minirocket-classifier/1") throw new Error(`${weightsPath} is not a MiniRocket classifier state`);
      built = buildMiniRocketGraph({ inputs: inputChannels(sc), inputWidth: schemaChannels.length }, state);
    } else {
      built = await neuralGraph(sc, weightsPath, seq, seq ? schemaChannels.length : layout.width);
    }
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw new ExportError(`checkpoint ${checkpoint}: cannot export the ${sc.kind} model: ${(error as Error).message}`);
  }

  const metadata: ModelMetadata = {
    format: "cis490-onnx/1",
    kind: sc.kind,
    mode: sc.mode,
    feature_schema_hash: sc.feature_schema_hash,
    classes: sc.classes,
    input: seq ? "tensor" : "summary",
    channels: schemaChannels,
    model_channels: inputChannels(sc).map((i) => schemaChannels[i]),
    window: { window_s: schema.window_s, stride_s: schema.stride_s, hz: schema.hz, tensor_len: schema.tensor_len },
    ...(layout.options ? { feature_options: layout.options } : {}),
    checkpoint_sha256: sha,
    weights_sha256: weightsSha,
    cis490_version: cis490Version(),
  };
  const bytes = encodeGraph(built, {
    name: `cis490_${sc.kind}_${sc.mode}`,
    nClasses: sc.classes.length,
    withLabel: sc.kind === "gbt",
    docString: `cis490 ${sc.kind} (${sc.mode}) exported from ${checkpoint}`,
    metadata: { [META]: JSON.stringify(metadata) },
  });
  await writeFileAtomic(out, bytes);
  return { out, kind: sc.kind, mode: sc.mode, bytes: bytes.length, nodes: built.g.nodes.length, inputs: built.inputs.map((i) => i.name), metadata };
}

/** An EIF checkpoint, loaded and checked, with the summary-vector index of each forest input. */
async function eifParts(checkpoint: string): Promise<{ sc: AnomalySidecar; state: EifDetectorState; columns: string[]; inputs: number[]; layout: TrainedLayout }> {
  let ck: Awaited<ReturnType<typeof loadEifCheckpoint>>;
  try {
    ck = await loadEifCheckpoint(checkpoint);
  } catch (error) {
    throw new ExportError(`checkpoint ${checkpoint}: ${(error as Error).message}`);
  }
  const { sidecar: sc, detector, columns } = ck;
  const state = detector.state!;
  const layout = trainedLayout(checkpoint, sc.feature_schema);
  // The forest's column j is the mode's kept[j]-th feature.
  const modeFeatures = sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
  return { sc, state, columns, inputs: state.kept.map((k) => modeFeatures[k]), layout };
}

/** What an anomaly detector's ONNX file says of itself: it reads the summary features and predicts no phases. */
async function anomalyMetadata(checkpoint: string, sc: AnomalySidecar, layout: TrainedLayout, anomaly: ModelMetadata["anomaly"]): Promise<ModelMetadata> {
  const schema = sc.feature_schema;
  const channels = layout.channels;
  return {
    format: "cis490-onnx/1",
    kind: sc.kind,
    mode: sc.mode,
    feature_schema_hash: sc.feature_schema_hash,
    classes: [],
    input: "summary",
    channels,
    model_channels: channelIndices(sc.mode).map((i) => channels[i]),
    window: { window_s: schema.window_s, stride_s: schema.stride_s, hz: schema.hz, tensor_len: schema.tensor_len },
    ...(layout.options ? { feature_options: layout.options } : {}),
    checkpoint_sha256: await sha256OfFile(checkpoint),
    weights_sha256: sc.weights_sha256,
    cis490_version: cis490Version(),
    anomaly,
  };
}

/** An EIF detector: outputs `score` and `alert` (src/deploy/export-eif.ts). */
async function exportEifCheckpoint(checkpoint: string, out: string): Promise<ExportResult> {
  const { sc, state, columns, inputs, layout } = await eifParts(checkpoint);
  let built;
  try {
    built = buildEifGraph({ inputs, inputWidth: layout.width, threshold: state.threshold }, state);
  } catch (error) {
    throw new ExportError(`checkpoint ${checkpoint}: cannot export the eif model: ${(error as Error).message}`);
  }
  const metadata = await anomalyMetadata(checkpoint, sc, layout, { threshold: state.threshold, inputs: state.kept.map((k) => columns[k]), n_trees: state.model.n_trees, subsample: state.model.subsample, max_depth: built.depth });
  return writeAnomalyOnnx(out, checkpoint, sc, layout.width, built.g, metadata);
}

/** An autoencoder checkpoint, loaded and checked: scaling, weights, and the summary-vector index of each net input. */
async function aeParts(checkpoint: string): Promise<{ sc: AnomalySidecar; scaling: AeScaling; tensors: NamedTensor[]; inputs: number[]; layout: TrainedLayout }> {
  let sc: AnomalySidecar;
  let tensors: NamedTensor[];
  try {
    sc = await readAnomalySidecar(checkpoint);
    if (!sc.ae) throw new Error("the sidecar has no scaling (\"ae\")");
    const weights = join(dirname(checkpoint), sc.weights_file);
    if ((await sha256OfFile(weights)) !== sc.weights_sha256) throw new Error(`${weights} does not match the sidecar's sha256`);
    const model = new AutoencoderModel({ n_features: sc.ae.kept.length, threads: 1, device: "cpu" });
    try {
      await model.load(weights);
      tensors = await model.namedTensors();
    } finally {
      await model.dispose();
    }
  } catch (error) {
    throw new ExportError(`checkpoint ${checkpoint}: ${(error as Error).message}`);
  }
  const layout = trainedLayout(checkpoint, sc.feature_schema);
  const scaling = sc.ae!;
  const modeFeatures = sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
  return { sc, scaling, tensors, inputs: scaling.kept.map((k) => modeFeatures[k]), layout };
}

/** An autoencoder: outputs score, alert, reconstruction, latent (src/deploy/export-ae.ts). */
async function exportAeCheckpoint(checkpoint: string, out: string): Promise<ExportResult> {
  const { sc, scaling, tensors, inputs, layout } = await aeParts(checkpoint);
  let built;
  try {
    built = buildAeGraph({ inputs, scaling }, tensors);
  } catch (error) {
    throw new ExportError(`checkpoint ${checkpoint}: cannot export the ae model: ${(error as Error).message}`);
  }
  const k = scaling.kept.length;
  const metadata = await anomalyMetadata(checkpoint, sc, layout, { threshold: scaling.threshold, inputs: sc.training.inputs, widths: [k, 64, 32, scaling.latent, 32, 64, k] });
  return writeAnomalyOnnx(out, checkpoint, sc, layout.width, built.g, metadata, [
    { name: "reconstruction", dataType: DataType.FLOAT, shape: ["batch", k] },
    { name: "latent", dataType: DataType.FLOAT, shape: ["batch", scaling.latent] },
  ]);
}

/** An ensemble: its members' graphs on one `features` input, ranked and weighted (src/deploy/export-ensemble.ts); outputs `score` and `alert`. */
async function exportEnsembleCheckpoint(checkpoint: string, out: string): Promise<ExportResult> {
  let sc: AnomalySidecar;
  let state: EnsembleState;
  try {
    sc = await readAnomalySidecar(checkpoint);
    const weights = join(dirname(checkpoint), sc.weights_file);
    if ((await sha256OfFile(weights)) !== sc.weights_sha256) throw new Error(`${weights} does not match the sidecar's sha256`);
    state = JSON.parse(await readFile(weights, "utf8")) as EnsembleState;
    if (state.format !== "cis490-anomaly-ensemble/1") throw new Error(`${weights} is not an ensemble state`);
    for (const m of state.members) {
      const sha = await sha256OfFile(m.sidecar).catch(() => null);
      if (sha !== m.sidecar_sha256) throw new Error(`member ${m.sidecar} is ${sha === null ? "missing" : "not the checkpoint the ensemble was trained with (sha256 differs)"}`);
    }
  } catch (error) {
    throw new ExportError(`checkpoint ${checkpoint}: ${(error as Error).message}`);
  }
  const layout = trainedLayout(checkpoint, sc.feature_schema);
  const g = new GraphBuilder();
  // Every member reads the ensemble's one `features` input.
  const sameInput = (member: string, p: { sc: AnomalySidecar }): void => {
    if (p.sc.feature_schema_hash !== sc.feature_schema_hash) throw new Error(`member ${member} was trained on feature schema ${p.sc.feature_schema_hash}, the ensemble on ${sc.feature_schema_hash}`);
  };
  const scores: string[] = [];
  try {
    for (const m of state.members) {
      if (m.kind === "eif") {
        const p = await eifParts(m.sidecar);
        sameInput(m.sidecar, p);
        scores.push(buildEifGraph({ inputs: p.inputs, inputWidth: layout.width, threshold: p.state.threshold }, p.state, g).score);
      } else if (m.kind === "ae") {
        const p = await aeParts(m.sidecar);
        sameInput(m.sidecar, p);
        scores.push(buildAeGraph({ inputs: p.inputs, scaling: p.scaling }, p.tensors, g).score);
      } else {
        throw new Error(`member ${m.sidecar} is a ${m.kind}, which an ensemble graph cannot hold`);
      }
    }
    addEnsembleScore(g, state.members, scores, state.threshold);
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw new ExportError(`checkpoint ${checkpoint}: cannot export the ensemble: ${(error as Error).message}`);
  }
  const metadata = await anomalyMetadata(checkpoint, sc, layout, { threshold: state.threshold, inputs: sc.training.inputs, members: state.members.map((m) => ({ kind: m.kind, weight: m.weight, sidecar_sha256: m.sidecar_sha256 })) });
  return writeAnomalyOnnx(out, checkpoint, sc, layout.width, g, metadata);
}

/** An anomaly detector's ONNX file: input `features`, outputs `score` and `alert` (+ `extraOutputs`), written atomically. */
async function writeAnomalyOnnx(
  out: string,
  checkpoint: string,
  sc: AnomalySidecar,
  width: number,
  g: GraphBuilder,
  metadata: ModelMetadata,
  extraOutputs: Array<{ name: string; dataType: DataTypeCode; shape: Array<string | number> }> = [],
): Promise<ExportResult> {
  const bytes = encodeModel({
    graphName: `cis490_${sc.kind}_${sc.mode}`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: "features", dataType: DataType.FLOAT, shape: ["batch", width] }],
    outputs: [{ name: "score", dataType: DataType.DOUBLE, shape: ["batch"] }, { name: "alert", dataType: DataType.BOOL, shape: ["batch"] }, ...extraOutputs],
    opsets: [{ domain: "", version: OPSET }],
    producerName: "cis490",
    producerVersion: cis490Version(),
    docString: `cis490 ${sc.kind} (${sc.mode}) exported from ${checkpoint}`,
    metadata: { [META]: JSON.stringify(metadata) },
  });
  await writeFileAtomic(out, bytes);
  return { out, kind: sc.kind, mode: sc.mode, bytes: bytes.length, nodes: g.nodes.length, inputs: ["features"], metadata };
}

async function neuralGraph(sc: CheckpointSidecar, weightsPath: string, seq: boolean, inputWidth: number): Promise<BuiltGraph> {
  const hp = sc.hyper_parameters as { torch_config?: Record<string, unknown>; input_transform?: string };
  if (!hp.torch_config) throw new ExportError(`the sidecar has no hyper_parameters.torch_config`);
  if (!sc.standardisation) throw new ExportError(`a neural checkpoint needs its standardisation statistics`);
  const model = new TorchModel({ ...(hp.torch_config as unknown as TorchConfig), threads: 1, device: "cpu" });
  let tensors;
  try {
    await model.load(weightsPath);
    tensors = await model.namedTensors();
  } finally {
    await model.dispose();
  }
  const cfg = model.config;
  const spec: NeuralSpec = {
    kind: sc.kind as NeuralSpec["kind"],
    hidden: cfg.hidden,
    layers: cfg.layers,
    heads: cfg.heads,
    nClasses: sc.classes.length,
    inputs: seq ? inputChannels(sc) : sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : [])),
    inputWidth,
    steps: seq ? cfg.seq_len : 1,
    stats: sc.standardisation,
    symlog: (hp.input_transform ?? "symlog") === "symlog",
  };
  return buildNeuralGraph(spec, tensors);
}

/** A built graph as ONNX bytes: inputs as built, output `probabilities` [batch, classes] (and the trees' `label`). */
export function encodeGraph(built: BuiltGraph, o: { name: string; nClasses: number; withLabel: boolean; docString?: string; metadata: Record<string, string> }): Uint8Array {
  const outputs: Array<{ name: string; dataType: DataTypeCode; shape: Array<number | string> }> = [{ name: "probabilities", dataType: DataType.FLOAT, shape: ["batch", o.nClasses] }];
  if (o.withLabel) outputs.push({ name: "label", dataType: DataType.INT64, shape: ["batch"] });
  const usesMl = built.g.nodes.some((n) => n.domain === "ai.onnx.ml");
  return encodeModel({
    graphName: o.name,
    nodes: built.g.nodes,
    initializers: built.g.initializers,
    inputs: built.inputs.map((i) => ({ name: i.name, dataType: i.dataType === "float" ? DataType.FLOAT : DataType.UINT8, shape: i.shape })),
    outputs,
    opsets: [{ domain: "", version: OPSET }, ...(usesMl ? [{ domain: "ai.onnx.ml", version: ML_OPSET }] : [])],
    producerName: "cis490",
    producerVersion: cis490Version(),
    docString: o.docString,
    metadata: o.metadata,
  });
}
