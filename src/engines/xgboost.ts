// Gradient-boosted trees (libxgboost 1.7 through the addon). Models travel
// as XGBoost JSON strings: the same bytes XGBoosterSaveModel writes to a
// .json file, loadable by xgboost-python as xgb.Booster(model_file=...).

import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../io/atomic.js";
import { loadEngines } from "./load.js";
import type { GbtModelInfo, GbtPredictOptions, GbtTrainOptions, GbtTrainResult } from "./types.js";

/**
 * Trains multi:softprob trees (hist, NaN = missing) with early stopping on
 * the validation mlogloss; the returned model is cut to the best round.
 */
export function trainGbt(options: GbtTrainOptions): Promise<GbtTrainResult> {
  return Promise.resolve().then(() => loadEngines().trainGbt(options));
}

/** Class probabilities [nRows, numClass] row-major (or with `outputMargin` the per-class margins before the softmax). x is read in place: do not modify it until the Promise settles. */
export function predictGbt(modelJson: string, x: Float32Array, nRows: number, nCols: number, options: GbtPredictOptions = {}): Promise<Float32Array> {
  return Promise.resolve().then(() => loadEngines().predictGbt(modelJson, x, nRows, nCols, options));
}

/** Feature count, rounds and best iteration of a model; throws XGBoost's error for an invalid one. */
export function gbtModelInfo(modelJson: string): GbtModelInfo {
  return loadEngines().gbtModelInfo(modelJson);
}

/** Writes the model as XGBoost JSON, atomically and durably. */
export async function saveGbtModel(path: string, modelJson: string): Promise<void> {
  await writeFileAtomic(path, modelJson);
}

/** Reads an XGBoost JSON model and checks that XGBoost accepts it. */
export async function loadGbtModel(path: string): Promise<string> {
  const json = await readFile(path, "utf8");
  gbtModelInfo(json);
  return json;
}
