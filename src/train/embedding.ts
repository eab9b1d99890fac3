// The checkpoint's `embedding` block (docs/embedding.md): which layer a
// model's embed() returns, its width, and a 2-D PCA fitted at train time on
// the embeddings of a seeded sample of training windows. `publish replay`
// projects each replayed window with it, so the dashboard's scatter sits in
// the training data's own principal plane and is the same on every replay.

import { Mulberry32 } from "../reference/minirocket.js";
import { fitPca, projectPca, type Pca } from "../stats/pca.js";
import type { Embedder, EmbeddingLayer, WindowBatch } from "./estimator.js";

export const EMBEDDING_FORMAT = "cis490-embedding/1";
/** Training windows the PCA is fitted on, at most. */
export const EMBEDDING_SAMPLE = 4000;
/** The same for wide embeddings (MiniRocket's ~10k features), where each window costs more to embed and to fit. */
export const EMBEDDING_SAMPLE_WIDE = 1000;
export const WIDE_EMBEDDING = 1024;

export interface EmbeddingBlock {
  format: typeof EMBEDDING_FORMAT;
  layer: EmbeddingLayer;
  /** In words, for people reading the sidecar. */
  description: string;
  width: number;
  /** Which training windows the PCA saw: `windows` of the `of` training windows, drawn with `seed`. */
  sample: { windows: number; of: number; seed: number };
  pca: Pca;
}

const DESCRIPTIONS: Record<EmbeddingLayer, string> = {
  penultimate: "the network's last hidden layer (the input of its final Linear head), in eval mode",
  margin: "XGBoost's per-class margins (output_margin: the summed tree scores before the softmax)",
  ppv: "MiniRocket's PPV features standardised with the head's statistics (the input of its logistic head)",
  latent: "the autoencoder's 16-d bottleneck (its encoder's output), in eval mode",
};

export function embeddingSampleSize(width: number): number {
  return width > WIDE_EMBEDDING ? EMBEDDING_SAMPLE_WIDE : EMBEDDING_SAMPLE;
}

/** `min(max, n)` distinct row indices in [0, n), ascending, drawn with `seed` (a partial Fisher-Yates shuffle). */
export function sampleRows(n: number, max: number, seed: number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const m = Math.min(max, n);
  if (m === n) return all;
  const rng = new Mulberry32((seed ^ 0x2545f491) >>> 0);
  for (let i = 0; i < m; i++) {
    const j = i + rng.below(n - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, m).sort();
}

/** Rows `rows` of a row-major array with `per` values per row. */
export function pickRows<T extends Float32Array | Uint8Array>(a: T, rows: Int32Array, per: number): T {
  const out = new (a.constructor as new (n: number) => T)(rows.length * per);
  rows.forEach((r, k) => out.set(a.subarray(r * per, (r + 1) * per), k * per));
  return out;
}

const round9 = (v: number): number => Number(v.toPrecision(9));

/** Embeds the sampled training windows and fits the block's PCA. */
export async function fitEmbeddingBlock(est: Embedder, sample: WindowBatch, of: number, seed: number): Promise<EmbeddingBlock> {
  if (sample.n === 0) throw new Error("no training windows to fit the embedding PCA on");
  return embeddingBlockOf(est.embeddingLayer, await est.embed(sample), sample.n, est.embeddingWidth, of, seed);
}

/** The block for embeddings `e` [n, width] of `n` sampled training windows (of `of`, drawn with `seed`). */
export function embeddingBlockOf(layer: EmbeddingLayer, e: Float32Array, n: number, width: number, of: number, seed: number): EmbeddingBlock {
  if (n === 0) throw new Error("no training windows to fit the embedding PCA on");
  const pca = fitPca(e, n, width, Math.min(2, width));
  // Nine significant digits: MiniRocket's components are ~10k numbers each, and float32 inputs carry no more.
  return {
    format: EMBEDDING_FORMAT,
    layer,
    description: DESCRIPTIONS[layer],
    width,
    sample: { windows: n, of, seed },
    pca: { mean: pca.mean.map(round9), components: pca.components.map((c) => c.map(round9)), explained_variance: pca.explained_variance.map(round9) },
  };
}

/** fitEmbeddingBlock, or undefined with a warning: a model that trained is kept even if its embedding cannot be fitted. */
export async function tryFitEmbeddingBlock(est: Embedder, sample: WindowBatch | (() => Promise<WindowBatch>), of: number, seed: number, warnings: string[]): Promise<EmbeddingBlock | undefined> {
  try {
    return await fitEmbeddingBlock(est, typeof sample === "function" ? await sample() : sample, of, seed);
  } catch (error) {
    warnings.push(`no embedding block stored: ${(error as Error).message}`);
    return undefined;
  }
}

/** Why a sidecar's block cannot be used, or null when it can. */
export function embeddingBlockProblem(block: unknown): string | null {
  const b = block as EmbeddingBlock | undefined;
  if (b === undefined || b === null) return "the checkpoint has no embedding block (trained before embeddings were stored: retrain with `cis490 train --force`)";
  if (b.format !== EMBEDDING_FORMAT) return `its embedding block has format ${JSON.stringify(b.format)}, not ${EMBEDDING_FORMAT}`;
  const p = b.pca;
  const ok =
    Number.isInteger(b.width) &&
    b.width > 0 &&
    p &&
    Array.isArray(p.mean) &&
    p.mean.length === b.width &&
    Array.isArray(p.components) &&
    p.components.length >= 1 &&
    p.components.every((c) => Array.isArray(c) && c.length === b.width && c.every(Number.isFinite)) &&
    p.mean.every(Number.isFinite);
  return ok ? null : "its embedding block is damaged (PCA sizes do not match its width)";
}

/** 2-D points [n, 2] for embeddings [n, width]; a 1-component PCA (a width-1 embedding) gives y = 0. */
export function projectEmbedding(block: EmbeddingBlock, e: Float32Array, n: number): Float32Array {
  const p = projectPca(block.pca, e, n, block.width);
  const k = block.pca.components.length;
  if (k === 2) return p;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) out[i * 2] = p[i * k];
  return out;
}
