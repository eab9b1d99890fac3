// Gradient-boosted trees (libxgboost 1.7 through the addon). Models travel
// as XGBoost JSON strings: the same bytes XGBoosterSaveModel writes to a
// .json file, loadable by xgboost-python as xgb.Booster(model_file=...).

import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../io/atomic.js";
import { loadEngines } from "./load.js";
import type { GbtBatchSource, GbtModelInfo, GbtPredictOptions, GbtTrainOptions, GbtTrainResult, NativeGbtFeed } from "./types.js";

/**
 * Trains multi:softprob trees (hist, NaN = missing) with early stopping on
 * the validation mlogloss; the returned model is cut to the best round.
 * With `batches`, the training rows are fed to XGBoost's iterator batch by
 * batch (see GbtTrainOptions.batches).
 */
export async function trainGbt(options: GbtTrainOptions): Promise<GbtTrainResult> {
  const { batches, queueBatches, ...rest } = options;
  const engines = loadEngines();
  if (!batches) return engines.trainGbt(rest);
  if (rest.x !== undefined) throw new TypeError("trainGbt: pass x or batches, not both");
  const feed = new engines.GbtFeed(rest.nCols, queueBatches);
  let training: Promise<GbtTrainResult>;
  try {
    training = engines.trainGbt({ ...rest, feed });
  } catch (e) {
    feed.close();
    throw e;
  }
  // Smaller batches than x's default: they are copied into the queue, and the
  // model does not depend on the batch size (tests/gbt-stream.test.ts).
  const feeding = driveFeed(feed, rebatched(batches, rest.nCols, rest.batchRows ?? 16384));
  try {
    return await training;
  } finally {
    // Training is over (the worker closed the feed): the reader stops at its next poll.
    feed.close();
    await feeding;
  }
}

/**
 * The source's rows in batches of exactly `rows` (the last one shorter),
 * whatever sizes it yields: the batches XGBoost sketches are then the same
 * as from a whole x with the same batchRows, and so is the model.
 */
function rebatched(source: GbtBatchSource, cols: number, rows: number): GbtBatchSource {
  return async function* () {
    const x = new Float32Array(rows * cols);
    const y = new Int32Array(rows);
    let w: Float32Array | undefined;
    let at = 0;
    for await (const b of source()) {
      const n = b.y.length;
      if (b.x.length !== n * cols) throw new RangeError(`trainGbt: a batch has ${b.x.length} values for ${n} rows of ${cols}`);
      if (b.w && !w) w = new Float32Array(rows).fill(1);
      for (let from = 0; from < n; ) {
        const take = Math.min(n - from, rows - at);
        x.set(b.x.subarray(from * cols, (from + take) * cols), at * cols);
        y.set(b.y.subarray(from, from + take), at);
        if (w) w.set(b.w ? b.w.subarray(from, from + take) : new Float32Array(take).fill(1), at);
        from += take;
        at += take;
        if (at === rows) {
          // Reused: the feed copies a batch before the next is asked for.
          yield { x, y, w };
          if (w) w.fill(1);
          at = 0;
        }
      }
    }
    if (at > 0) yield { x: x.subarray(0, at * cols), y: y.subarray(0, at), w: w?.subarray(0, at) };
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Answers the feed's passes until it closes: for each pass XGBoost starts,
 * reads `batches` from the start and pushes them (waiting while the queue is
 * full), then marks the pass's end; a newer pass abandons an older one. A
 * reader error is handed to the feed, which fails the training with it.
 */
async function driveFeed(feed: NativeGbtFeed, batches: GbtBatchSource): Promise<void> {
  let served = -1;
  for (;;) {
    const st = feed.state();
    if (st.closed) return;
    if (st.pass <= served) {
      await pause(2);
      continue;
    }
    const pass = (served = st.pass);
    try {
      let current = true;
      for await (const b of batches()) {
        let r: number;
        while ((r = feed.push(pass, b.x, b.y, b.w)) === 0) await pause(1);
        if (r < 0) {
          current = false;
          break;
        }
      }
      if (current) feed.end(pass);
    } catch (e) {
      feed.fail(e instanceof Error ? e.message : String(e));
      return;
    }
  }
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
