// The one training loop every neural model shares. The engine does one
// AdamW step per call (off the event loop); everything about *how* to train
// lives here: seeded shuffling, batches, warm-up + cosine learning rate,
// gradient-norm clipping, class-weighted loss, validation macro F1 after
// every epoch (src/eval/stats.ts), the best-on-validation weights kept on
// disk, early stopping on validation macro F1, and an optional time limit.

import { f1FromCounts, f1Scores } from "../stats/metrics.js";
import { deriveRng, tagOf } from "../synth/rng.js";
import { warmupCosine } from "./schedule.js";
import type { ChunkedData, SequenceChunk } from "./sequence-data.js";
import type { EpochRecord } from "./types.js";

/** What the loop needs from a model (TorchModel has it; tests may wrap it). */
export interface StepModel {
  trainStep(x: Float32Array, mask: Uint8Array | null, y: Int32Array, classWeights: Float32Array, lr: number, clipNorm: number): Promise<{ loss: number; skipped: boolean }>;
  predictProba(x: Float32Array, mask: Uint8Array | null): Promise<Float32Array>;
  save(path: string): Promise<void>;
}

/** Inputs already scaled: row-major [n, rowLen] values (+ mask of the same layout, or null). */
export interface LoopData {
  n: number;
  rowLen: number;
  x: Float32Array;
  mask: Uint8Array | null;
  y: Int32Array;
}

export interface LoopOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupFraction: number;
  clipNorm: number;
  /** Stop after this many epochs without a better validation macro F1; 0 = never. */
  patience: number;
  /** Stop after the epoch that passes this many minutes; 0 = no limit. */
  maxMinutes: number;
  seed: number;
  nClasses: number;
  classWeights: Float32Array;
  /** Where the best epoch's weights are saved (the caller moves them into place). */
  bestPath: string;
  /**
   * Chunked data only: rows held in the shuffle buffer (bounded memory).
   * Each epoch shuffles the chunk order and the rows within a chunk, then
   * draws from a buffer of this many rows (tf.data-style); default 8192.
   */
  shuffleBuffer?: number;
  onStep?: (epoch: number, step: number, steps: number, meanLoss: number) => void;
  onEpoch?: (record: EpochRecord, best: { epoch: number; val_macro_f1: number }) => void;
  /**
   * In-memory data only: a validation loss (lower is better) computed after
   * each epoch instead of macro F1; early stopping and the best weights then
   * follow it (the autoencoder's reconstruction loss on clean val windows).
   */
  validationLoss?: (model: StepModel) => Promise<number>;
  /**
   * Data-parallel training (docs/scale.md): this process is one rank of a
   * c10d group whose model all-reduces gradients in trainStep. Each rank
   * steps on its share of every global batch, validates its share of the
   * val rows (confusion counts summed over the ranks), and rank 0 alone
   * saves the best weights and decides when to stop.
   */
  dist?: LoopDistribution;
}

/** The collectives the loop itself needs (src/engines/distributed.ts has them). */
export interface LoopDistribution {
  rank: number;
  worldSize: number;
  allReduceSum(data: Float64Array, what: string): Promise<Float64Array>;
  broadcast(data: Float64Array, root: number, what: string): Promise<Float64Array>;
}

export interface LoopResult {
  history: EpochRecord[];
  best: { epoch: number; val_macro_f1: number; val_loss?: number };
  stopped: "early-stopping" | "max-epochs" | "max-minutes";
  /** Steps the engine skipped (non-finite loss or gradient). */
  skipped_steps: number;
  seconds: number;
  /** Chunked data: seconds the loop waited for a chunk (I/O not hidden behind engine steps) and seconds inside engine steps. */
  io?: { wait_seconds: number; step_seconds: number; chunks_read: number; bytes_read: number; read_seconds: number };
}

export const DEFAULT_SHUFFLE_BUFFER = 8192;

const PREDICT_CHUNK = 1024;

export function argmaxRows(proba: Float32Array, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (proba[i * classes + c] > proba[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Class probabilities for all rows, predicted in chunks. */
export async function predictRows(model: Pick<StepModel, "predictProba">, d: Omit<LoopData, "y">, classes: number, chunk = PREDICT_CHUNK): Promise<Float32Array> {
  const out = new Float32Array(d.n * classes);
  for (let s = 0; s < d.n; s += chunk) {
    const e = Math.min(d.n, s + chunk);
    const p = await model.predictProba(d.x.subarray(s * d.rowLen, e * d.rowLen), d.mask ? d.mask.subarray(s * d.rowLen, e * d.rowLen) : null);
    out.set(p, s * classes);
  }
  return out;
}

export function macroF1(yTrue: Int32Array, yPred: Int32Array): number {
  return yTrue.length === 0 ? Number.NaN : f1Scores(yTrue, yPred).macroF1;
}

/**
 * Batches per epoch: a last batch of a single window is dropped (one sample
 * gives no useful gradient); across N ranks a last batch is kept only when
 * every rank gets a row of it.
 */
export function stepsPerEpoch(n: number, batchSize: number, worldSize = 1): number {
  const full = Math.floor(n / batchSize);
  const rest = n - full * batchSize;
  return full + (rest >= Math.max(2, worldSize) ? 1 : 0);
}

/** Rank r's part of `size` rows split over `worldSize` ranks: contiguous, the first size % N ranks one row more. */
export function shareOf(size: number, worldSize: number, rank: number): { offset: number; count: number } {
  const base = Math.floor(size / worldSize);
  const extra = size % worldSize;
  return { offset: rank * base + Math.min(rank, extra), count: base + (rank < extra ? 1 : 0) };
}

/**
 * Chunked data across ranks: rank r owns chunks r, r + N, r + 2N, ... of the
 * first pass's order (hosts' files interleave), steps on local batches of
 * shareOf(batchSize) rows, and every rank takes the same number of steps:
 * the fewest full local batches any rank's rows make (the rows beyond them
 * that epoch, a random few from the shuffle buffer, are left out).
 */
export function chunkedPlan(chunkRows: readonly number[], batchSize: number, worldSize: number, rank: number): { owned: number[]; localBatch: number; steps: number } {
  const owned = chunkRows.map((_, i) => i).filter((i) => i % worldSize === rank);
  let steps = Number.POSITIVE_INFINITY;
  for (let r = 0; r < worldSize; r++) {
    let rows = 0;
    for (let i = r; i < chunkRows.length; i += worldSize) rows += chunkRows[i];
    steps = Math.min(steps, Math.floor(rows / shareOf(batchSize, worldSize, r).count));
  }
  return { owned, localBatch: shareOf(batchSize, worldSize, rank).count, steps: Number.isFinite(steps) ? steps : 0 };
}

/** Macro F1 from a K x K confusion count matrix (row = truth), over the labels that occur: f1Scores' result, from summable counts. */
export function macroF1FromConfusion(counts: Float64Array, k: number): number {
  let sum = 0;
  let labels = 0;
  for (let c = 0; c < k; c++) {
    let nTrue = 0;
    let nPred = 0;
    for (let j = 0; j < k; j++) {
      nTrue += counts[c * k + j];
      nPred += counts[j * k + c];
    }
    if (nTrue + nPred === 0) continue;
    labels++;
    sum += f1FromCounts(counts[c * k + c], nTrue, nPred) || 0;
  }
  return labels === 0 ? Number.NaN : sum / labels;
}

/** Validation macro F1 over every rank's (y, pred): the confusion counts summed by one all-reduce. */
async function distributedMacroF1(dist: LoopDistribution, y: Int32Array, pred: Int32Array, k: number, epoch: number): Promise<number> {
  const counts = new Float64Array(k * k);
  for (let i = 0; i < y.length; i++) if (y[i] >= 0 && y[i] < k && pred[i] >= 0 && pred[i] < k) counts[y[i] * k + pred[i]]++;
  return macroF1FromConfusion(await dist.allReduceSum(counts, `validation counts of epoch ${epoch}`), k);
}

function isChunked(d: LoopData | ChunkedData): d is ChunkedData {
  return "load" in d;
}

function shuffleInPlace(a: Int32Array, rng: { next(): number }): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** Chunks in `order`, each loaded while the caller works on the previous one (one prefetch in flight). */
async function* prefetched(d: ChunkedData, order: ArrayLike<number>, wait: { seconds: number }): AsyncGenerator<SequenceChunk> {
  let next: Promise<SequenceChunk> | null = order.length > 0 ? d.load(order[0]) : null;
  for (let k = 0; k < order.length; k++) {
    const t0 = performance.now();
    const chunk = await next!;
    wait.seconds += (performance.now() - t0) / 1000;
    next = k + 1 < order.length ? d.load(order[k + 1]) : null;
    // Keep a failed prefetch from being an unhandled rejection if the consumer stops early.
    next?.catch(() => undefined);
    yield chunk;
  }
}

/** Validation (or any) predictions over chunked rows (all chunks, or the listed ones): true labels and argmax, in chunk order. */
export async function predictChunked(model: Pick<StepModel, "predictProba">, d: ChunkedData, classes: number, wait = { seconds: 0 }, chunks?: readonly number[]): Promise<{ y: Int32Array; pred: Int32Array }> {
  const order = chunks ?? Array.from({ length: d.chunkCount }, (_, i) => i);
  const n = chunks ? chunks.reduce((a, c) => a + d.chunkRows[c], 0) : d.n;
  const y = new Int32Array(n);
  const pred = new Int32Array(n);
  let at = 0;
  for await (const chunk of prefetched(d, order, wait)) {
    const p = await predictRows(model, { n: chunk.n, rowLen: d.rowLen, x: chunk.x, mask: chunk.mask }, classes);
    y.set(chunk.y, at);
    pred.set(argmaxRows(p, chunk.n, classes), at);
    at += chunk.n;
  }
  if (at !== n) throw new Error(`chunked data yielded ${at} rows, expected ${n}`);
  return { y, pred };
}

export async function runTrainingLoop(model: StepModel, train: LoopData | ChunkedData, val: LoopData | ChunkedData, o: LoopOptions): Promise<LoopResult> {
  if (isChunked(train) || isChunked(val)) {
    if (!isChunked(train) || !isChunked(val)) throw new Error("runTrainingLoop: train and val must both be chunked or both in memory");
    if (o.validationLoss) throw new Error("runTrainingLoop: validationLoss is for in-memory data");
    return runChunkedLoop(model, train, val, o);
  }
  return runInMemoryLoop(model, train, val, o);
}

/**
 * What both loops do after each epoch: record it, keep the best-on-validation
 * weights, and decide whether to stop (patience, then the time limit).
 */
class EpochTracker {
  readonly history: EpochRecord[] = [];
  best: LoopResult["best"] = { epoch: 0, val_macro_f1: Number.NEGATIVE_INFINITY };
  stopped: LoopResult["stopped"] = "max-epochs";

  constructor(
    private readonly o: LoopOptions,
    private readonly started: number,
  ) {}

  /**
   * True when training should stop after this epoch. Across ranks, rank 0
   * decides (and alone saves the weights) and broadcasts [stop, reason,
   * best epoch, best F1]; the others follow, so all stop after the same epoch.
   */
  async end(model: StepModel, record: EpochRecord): Promise<boolean> {
    const dist = this.o.dist;
    if (!dist || dist.worldSize === 1) return this.decide(model, record);
    const reasons: LoopResult["stopped"][] = ["max-epochs", "early-stopping", "max-minutes"];
    let msg: Float64Array = new Float64Array(4);
    if (dist.rank === 0) {
      const stop = await this.decide(model, record);
      msg = Float64Array.of(stop ? 1 : 0, reasons.indexOf(this.stopped), this.best.epoch, this.best.val_macro_f1);
    }
    msg = await dist.broadcast(msg, 0, `stop decision after epoch ${record.epoch}`);
    if (dist.rank !== 0) {
      this.history.push(record);
      this.best = { epoch: msg[2], val_macro_f1: msg[3] };
      this.stopped = reasons[msg[1]];
      this.o.onEpoch?.(record, this.best);
    }
    return msg[0] === 1;
  }

  private async decide(model: StepModel, record: EpochRecord): Promise<boolean> {
    const { o } = this;
    this.history.push(record);
    const better = record.val_loss !== undefined ? record.val_loss < (this.best.val_loss ?? Number.POSITIVE_INFINITY) : record.val_macro_f1 > this.best.val_macro_f1;
    if (better || this.best.epoch === 0) {
      this.best = record.val_loss !== undefined ? { epoch: record.epoch, val_macro_f1: record.val_macro_f1, val_loss: record.val_loss } : { epoch: record.epoch, val_macro_f1: record.val_macro_f1 };
      await model.save(o.bestPath);
    }
    o.onEpoch?.(record, this.best);
    if (o.patience > 0 && record.epoch - this.best.epoch >= o.patience) {
      this.stopped = "early-stopping";
      return true;
    }
    if (o.maxMinutes > 0 && (Date.now() - this.started) / 60000 >= o.maxMinutes && record.epoch < o.epochs) {
      this.stopped = "max-minutes";
      return true;
    }
    return false;
  }
}

async function runInMemoryLoop(model: StepModel, train: LoopData, val: LoopData, o: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const world = o.dist?.worldSize ?? 1;
  const rank = o.dist?.rank ?? 0;
  const steps = stepsPerEpoch(train.n, o.batchSize, world);
  if (steps === 0) throw new Error(`too few training windows (${train.n}) for one batch`);
  const schedule = warmupCosine(o.lr, steps * o.epochs, o.warmupFraction);
  const order = new Int32Array(train.n);
  const bx = new Float32Array(o.batchSize * train.rowLen);
  const bm = train.mask ? new Uint8Array(o.batchSize * train.rowLen) : null;
  const tracker = new EpochTracker(o, started);
  let skipped = 0;
  let globalStep = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const epochStart = Date.now();
    for (let i = 0; i < train.n; i++) order[i] = i;
    const rng = deriveRng(BigInt(o.seed >>> 0), tagOf("train-shuffle"), epoch);
    for (let i = train.n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let lossSum = 0;
    let lossSteps = 0;
    let lr = 0;
    for (let s = 0; s < steps; s++) {
      // Every rank shuffles the same global order and takes its share of
      // each global batch: together they step on exactly one process's batches.
      const whole = Math.min(o.batchSize, train.n - s * o.batchSize);
      const share = shareOf(whole, world, rank);
      const from = s * o.batchSize + share.offset;
      const size = share.count;
      const y = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const row = order[from + k];
        y[k] = train.y[row];
        bx.set(train.x.subarray(row * train.rowLen, (row + 1) * train.rowLen), k * train.rowLen);
        if (bm && train.mask) bm.set(train.mask.subarray(row * train.rowLen, (row + 1) * train.rowLen), k * train.rowLen);
      }
      lr = schedule.at(globalStep++);
      const r = await model.trainStep(bx.subarray(0, size * train.rowLen), bm ? bm.subarray(0, size * train.rowLen) : null, y, o.classWeights, lr, o.clipNorm);
      if (r.skipped) {
        skipped++;
      } else {
        lossSum += r.loss;
        lossSteps++;
      }
      o.onStep?.(epoch, s + 1, steps, lossSteps > 0 ? lossSum / lossSteps : Number.NaN);
    }
    const valLoss = o.validationLoss ? await o.validationLoss(model) : undefined;
    let f1: number;
    if (valLoss !== undefined) {
      f1 = Number.NaN;
    } else if (o.dist && world > 1) {
      const { offset, count } = shareOf(val.n, world, rank);
      const part = { n: count, rowLen: val.rowLen, x: val.x.subarray(offset * val.rowLen, (offset + count) * val.rowLen), mask: val.mask ? val.mask.subarray(offset * val.rowLen, (offset + count) * val.rowLen) : null };
      const pred = argmaxRows(await predictRows(model, part, o.nClasses), count, o.nClasses);
      f1 = await distributedMacroF1(o.dist, val.y.subarray(offset, offset + count), pred, o.nClasses, epoch);
    } else {
      const proba = await predictRows(model, val, o.nClasses);
      f1 = macroF1(val.y, argmaxRows(proba, val.n, o.nClasses));
    }
    const record: EpochRecord = {
      epoch,
      train_loss: lossSteps > 0 ? lossSum / lossSteps : Number.NaN,
      val_macro_f1: f1,
      ...(valLoss !== undefined ? { val_loss: valLoss } : {}),
      lr,
      seconds: (Date.now() - epochStart) / 1000,
    };
    if (await tracker.end(model, record)) break;
  }
  return { history: tracker.history, best: tracker.best, stopped: tracker.stopped, skipped_steps: skipped, seconds: (Date.now() - started) / 1000 };
}

/**
 * The same loop over chunked rows (sequence models): per epoch, the chunk
 * order and the rows within each chunk are shuffled, and rows pass through a
 * bounded shuffle buffer; the next chunk is read while the engine steps.
 * Whether the chunks come from memory or from disk, the order (hence the
 * weights) depends only on the seed, the chunks and the buffer size.
 */
async function runChunkedLoop(model: StepModel, train: ChunkedData, val: ChunkedData, o: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const rowLen = train.rowLen;
  const world = o.dist?.worldSize ?? 1;
  const rank = o.dist?.rank ?? 0;
  // One process: every chunk, batches of batchSize, a last partial batch.
  // Across ranks: this rank's chunks, full local batches only (chunkedPlan).
  const plan = world === 1 ? { owned: Array.from({ length: train.chunkCount }, (_, i) => i), localBatch: o.batchSize, steps: stepsPerEpoch(train.n, o.batchSize) } : chunkedPlan(train.chunkRows, o.batchSize, world, rank);
  const steps = plan.steps;
  const localBatch = plan.localBatch;
  const minBatch = world === 1 ? 2 : localBatch;
  if (steps === 0) throw new Error(`too few training windows (${train.n}) for one batch${world > 1 ? ` on each of ${world} ranks` : ""}`);
  const ownedRows = plan.owned.reduce((a, c) => a + train.chunkRows[c], 0);
  const cap = Math.max(1, Math.min(o.shuffleBuffer ?? DEFAULT_SHUFFLE_BUFFER, ownedRows));
  const schedule = warmupCosine(o.lr, steps * o.epochs, o.warmupFraction);
  const bufX = new Float32Array(cap * rowLen);
  const bufM = new Uint8Array(cap * rowLen);
  const bufY = new Int32Array(cap);
  const bx = new Float32Array(o.batchSize * rowLen);
  const bm = new Uint8Array(o.batchSize * rowLen);
  const tracker = new EpochTracker(o, started);
  let skipped = 0;
  let globalStep = 0;
  const wait = { seconds: 0 };
  let stepSeconds = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const epochStart = Date.now();
    // Seeds per rank: one process (a world of one) draws the single-process stream;
    // rank r of N > 1 draws (seed, "train-shuffle", epoch, r).
    const rng = world === 1 ? deriveRng(BigInt(o.seed >>> 0), tagOf("train-shuffle"), epoch) : deriveRng(BigInt(o.seed >>> 0), tagOf("train-shuffle"), epoch, rank);
    const chunkOrder = Int32Array.from(plan.owned);
    shuffleInPlace(chunkOrder, rng);
    let lossSum = 0;
    let lossSteps = 0;
    let lr = 0;
    let inBatch = 0;
    let step = 0;
    const by = new Int32Array(o.batchSize);
    const flush = async (): Promise<void> => {
      const size = inBatch;
      inBatch = 0;
      if (size < minBatch || step >= steps) return; // stepsPerEpoch drops a last batch of one; ranks only step on full local batches
      lr = schedule.at(globalStep++);
      const t0 = performance.now();
      const r = await model.trainStep(bx.subarray(0, size * rowLen), bm.subarray(0, size * rowLen), by.slice(0, size), o.classWeights, lr, o.clipNorm);
      stepSeconds += (performance.now() - t0) / 1000;
      step++;
      if (r.skipped) skipped++;
      else {
        lossSum += r.loss;
        lossSteps++;
      }
      o.onStep?.(epoch, step, steps, lossSteps > 0 ? lossSum / lossSteps : Number.NaN);
    };
    const emit = async (x: Float32Array, m: Uint8Array, y: number, at: number): Promise<void> => {
      bx.set(x.subarray(at * rowLen, (at + 1) * rowLen), inBatch * rowLen);
      bm.set(m.subarray(at * rowLen, (at + 1) * rowLen), inBatch * rowLen);
      by[inBatch++] = y;
      if (inBatch === localBatch) await flush();
    };
    let fill = 0;
    for await (const chunk of prefetched(train, chunkOrder, wait)) {
      if (step >= steps) break; // across ranks: this rank's share of the epoch is done
      const rows = new Int32Array(chunk.n);
      for (let i = 0; i < rows.length; i++) rows[i] = i;
      shuffleInPlace(rows, rng);
      for (const r of rows) {
        let slot: number;
        if (fill < cap) slot = fill++;
        else {
          slot = Math.floor(rng.next() * cap);
          await emit(bufX, bufM, bufY[slot], slot);
        }
        bufX.set(chunk.x.subarray(r * rowLen, (r + 1) * rowLen), slot * rowLen);
        bufM.set(chunk.mask.subarray(r * rowLen, (r + 1) * rowLen), slot * rowLen);
        bufY[slot] = chunk.y[r];
      }
    }
    const rest = new Int32Array(fill);
    for (let i = 0; i < fill; i++) rest[i] = i;
    shuffleInPlace(rest, rng);
    for (const slot of rest) {
      if (step >= steps) break;
      await emit(bufX, bufM, bufY[slot], slot);
    }
    await flush();
    if (step !== steps) throw new Error(`epoch ${epoch}: ${step} steps, expected ${steps} (the chunks hold other rows than the first pass counted)`);

    let f1: number;
    if (o.dist && world > 1) {
      const mine = Array.from({ length: val.chunkCount }, (_, i) => i).filter((i) => i % world === rank);
      const { y, pred } = await predictChunked(model, val, o.nClasses, wait, mine);
      f1 = await distributedMacroF1(o.dist, y, pred, o.nClasses, epoch);
    } else {
      const { y, pred } = await predictChunked(model, val, o.nClasses, wait);
      f1 = macroF1(y, pred);
    }
    const record: EpochRecord = { epoch, train_loss: lossSteps > 0 ? lossSum / lossSteps : Number.NaN, val_macro_f1: f1, lr, seconds: (Date.now() - epochStart) / 1000 };
    if (await tracker.end(model, record)) break;
  }
  const io = {
    wait_seconds: wait.seconds,
    step_seconds: stepSeconds,
    chunks_read: train.io.chunks + val.io.chunks,
    bytes_read: train.io.bytes + val.io.bytes,
    read_seconds: train.io.seconds + val.io.seconds,
  };
  return { history: tracker.history, best: tracker.best, stopped: tracker.stopped, skipped_steps: skipped, seconds: (Date.now() - started) / 1000, io };
}
