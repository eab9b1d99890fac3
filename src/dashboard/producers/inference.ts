// Loads a checkpoint for inference on windows the native featurizer extracts
// on demand (no tensor shards): the features schema it is checked against is
// rebuilt from this version's channel registry and the checkpoint's window
// geometry, so a checkpoint from another registry or geometry is refused.

import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { CHANNELS, STATS } from "../../features/channels.js";
import { buildFeatureSchema } from "../../features/schema.js";
import { DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from "../../features/types.js";
import { loadCheckpoint, type TrainedModel } from "../../train/checkpoint.js";
import { isSequenceKind } from "../../train/types.js";

export interface InferenceModel {
  /** `<kind>_<mode>`, the name the events carry. */
  name: string;
  model: TrainedModel;
  /** Featurizer options that reproduce the checkpoint's inputs. */
  options: FeatureOptions;
  params: number;
}

export async function loadInferenceModel(sidecarPath: string, threads?: number): Promise<InferenceModel> {
  let geometry: Partial<FeatureOptions> = {};
  try {
    const doc = JSON.parse(await readFile(sidecarPath, "utf8")) as { feature_schema?: Partial<FeatureOptions> };
    geometry = doc.feature_schema ?? {};
  } catch (error) {
    throw new Error(`cannot read checkpoint ${sidecarPath}: ${(error as Error).message}`);
  }
  const window_s = Number(geometry.window_s ?? DEFAULT_FEATURE_OPTIONS.window_s);
  const stride_s = Number(geometry.stride_s ?? DEFAULT_FEATURE_OPTIONS.stride_s);
  const hz = Number(geometry.hz ?? DEFAULT_FEATURE_OPTIONS.hz);
  const schema = buildFeatureSchema({ channels: [...CHANNELS], stats: STATS, window_s, stride_s, hz });
  const model = await loadCheckpoint(sidecarPath, schema as unknown as { hash: string } & Record<string, unknown>, threads ? { threads } : {});
  const sc = model.sidecar;
  return {
    name: `${sc.kind}_${sc.mode}`,
    model,
    options: { window_s, stride_s, hz, tensors: isSequenceKind(sc.kind) },
    params: model.parameters,
  };
}

export function episodeIdOf(path: string): string {
  return basename(path).replace(/\.tar\.zst$/, "");
}
