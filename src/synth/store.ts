// Writes a whole synthetic store: plan, episodes (on worker threads), the
// receiver's index (with its torn lines), and the fault manifest, last.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { storeContext } from "./context.js";
import { generateEpisode, type EpisodeResult, type Expectation } from "./episode.js";
import { FAULTS } from "./faults.js";
import { TEMP_MARK, writeFileAtomicSync as writeFileAtomic } from "../io/atomic.js";
import { buildPlan, type EpisodePlan, type SynthParams } from "./plan.js";
import { deriveRng, parseSeed, tagOf } from "./rng.js";
import { SAMPLES } from "./profiles.js";
import { CliError } from "../util/errors.js";

export const MANIFEST_FILE = ".synth.json";
export const INDEX_FILE = "index.jsonl";
const MANIFEST_FORMAT = 1;
/** Episodes per message to a worker: big enough to amortise messaging, small enough to balance. */
const CHUNK = 16;

export interface SynthOptions extends SynthParams {
  out: string;
  /** Worker threads (default: available cores). The output does not depend on it. */
  jobs?: number;
  /** Regenerate even if the store is already there. */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthSummary {
  out: string;
  episodes: number;
  /** True when an identical complete store was already there and nothing was written. */
  reused: boolean;
  jobs: number;
  hosts: Record<string, number>;
  /** Episodes carrying each fault (store-level faults included). */
  faults: Record<string, number>;
  /** Expected validation classes (every index row and every orphan tarball). */
  classes: Record<string, number>;
  seconds: number;
}

export interface ManifestEpisode {
  episode_id: string;
  host_id: string;
  profile: string;
  sample: string;
  failure: string;
  faults: string[];
  indexed: boolean;
  file: boolean;
  expect: Expectation;
}

export interface Manifest {
  generator: "cis490 synth";
  format: number;
  complete: boolean;
  params: SynthParams;
  index_sha256?: string;
  campaign_start?: string;
  fault_catalogue?: typeof FAULTS;
  store_faults?: {
    index_torn_concat: string[][];
    index_torn_half: string[];
    missing_tarball: string[];
    orphan_tarball: string[];
  };
  summary?: Omit<SynthSummary, "out" | "reused" | "jobs" | "seconds">;
  episodes?: ManifestEpisode[];
}

export class SynthError extends CliError {}

export function validateParams(params: SynthParams): string | null {
  if (!Number.isInteger(params.episodes) || params.episodes < 1 || params.episodes > 10_000_000) return "--episodes must be an integer >= 1";
  if (parseSeed(params.seed) === null) return "--seed must be a non-negative integer";
  if (params.faults !== "none" && params.faults !== "standard") return "--faults must be none or standard";
  if (!Number.isInteger(params.hosts) || params.hosts < 1 || params.hosts > 8) return "--hosts must be an integer between 1 and 8";
  return null;
}

function sameParams(a: SynthParams, b: SynthParams): boolean {
  return a.episodes === b.episodes && a.seed === b.seed && a.faults === b.faults && a.hosts === b.hosts;
}

function readManifest(out: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(join(out, MANIFEST_FILE), "utf8")) as Manifest;
    return m && m.generator === "cis490 synth" ? m : null;
  } catch {
    return null;
  }
}

/** A finished store with these parameters whose index and files are still as written. */
function isCompleteStore(out: string, params: SynthParams): Manifest | null {
  const m = readManifest(out);
  if (!m || !m.complete || m.format !== MANIFEST_FORMAT || !sameParams(m.params, params) || !m.episodes) return null;
  try {
    const index = readFileSync(join(out, INDEX_FILE));
    if (createHash("sha256").update(index).digest("hex") !== m.index_sha256) return null;
    for (const e of m.episodes) if (e.file && !existsSync(join(out, e.host_id, `${e.episode_id}.tar.zst`))) return null;
  } catch {
    return null;
  }
  return m;
}

/** Removes what a previous synth run wrote (and nothing else). */
function clearStore(out: string): void {
  rmSync(join(out, MANIFEST_FILE), { force: true });
  rmSync(join(out, INDEX_FILE), { force: true });
  for (const entry of readdirSync(out, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(out, entry.name);
    for (const f of readdirSync(dir)) if (f.endsWith(".tar.zst") || f.includes(TEMP_MARK)) rmSync(join(dir, f), { force: true });
  }
}

/** Writes one episode's file (the worker's side of the job); missing-tarball episodes are never written. */
export function writeEpisode(out: string, plan: EpisodePlan, result: EpisodeResult): void {
  if (plan.faults.includes("missing-tarball")) return;
  writeFileAtomic(join(out, result.path), result.bytes!);
}

function workerUrl(): URL | null {
  // Workers need compiled JS; running from TypeScript sources (vitest) falls back to in-process.
  const url = new URL("./worker.js", import.meta.url);
  return url.protocol === "file:" && existsSync(fileURLToPath(url)) ? url : null;
}

async function generateAll(opts: SynthOptions, plans: EpisodePlan[], jobs: number): Promise<EpisodeResult[]> {
  const params = paramsOf(opts);
  const results: EpisodeResult[] = new Array(plans.length);
  let done = 0;
  const url = workerUrl();
  if (jobs <= 1 || url === null || plans.length <= CHUNK) {
    const ctx = storeContext(params);
    for (const plan of plans) {
      const result = generateEpisode(ctx, plan);
      writeEpisode(opts.out, plan, result);
      delete result.bytes;
      results[plan.index] = result;
      opts.onProgress?.(++done, plans.length);
    }
    return results;
  }
  const chunks: EpisodePlan[][] = [];
  for (let i = 0; i < plans.length; i += CHUNK) chunks.push(plans.slice(i, i + CHUNK));
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, chunks.length) }, () => new Worker(url, { workerData: { params, out: opts.out } }));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next < chunks.length) worker.postMessage(chunks[next++]);
              else {
                worker.postMessage(null);
                resolve();
              }
            };
            worker.on("message", (batch: EpisodeResult[]) => {
              for (const r of batch) results[r.index] = r;
              done += batch.length;
              opts.onProgress?.(done, plans.length);
              feed();
            });
            worker.on("error", reject);
            worker.on("exit", (code) => {
              if (code !== 0) reject(new SynthError(`synth worker exited with code ${code}`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

function paramsOf(opts: SynthParams): SynthParams {
  return { episodes: opts.episodes, seed: opts.seed, faults: opts.faults, hosts: opts.hosts };
}

interface IndexOutcome {
  text: string;
  torn_concat: string[][];
  torn_half: string[];
}

/**
 * The receiver's index: rows in the order they were received, with its
 * non-atomic appends reproduced (a line holding two records, a half record
 * whose full row was re-appended after the next one).
 */
function buildIndex(results: EpisodeResult[], plans: EpisodePlan[], seed: bigint): IndexOutcome {
  const rng = deriveRng(seed, tagOf("index"));
  const rows = results
    .filter((r) => !plans[r.index].faults.includes("orphan-tarball"))
    .sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.index - b.index));
  const json = (r: EpisodeResult) =>
    `{"episode_id":"${r.episodeId}","host_id":"${r.hostId}","sha256":"${r.indexSha256}","size_bytes":${r.indexSizeBytes},"received_at":"${r.receivedAt}"}`;
  const parts: string[] = [];
  const tornConcat: string[][] = [];
  const tornHalf: string[] = [];
  let deferred: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const faults = plans[r.index].faults;
    let line: string;
    if (faults.includes("index-torn-half")) {
      const full = json(r);
      line = full.slice(0, Math.floor(full.length * rng.uniform(0.3, 0.7)));
      tornHalf.push(r.episodeId);
      deferred.push(full);
    } else {
      line = json(r);
    }
    if (faults.includes("index-torn-concat") && i + 1 < rows.length && !plans[rows[i + 1].index].faults.includes("index-torn-half")) {
      // This append and the next one landed on the same line.
      line += json(rows[i + 1]);
      tornConcat.push([r.episodeId, rows[i + 1].episodeId]);
      i++;
    }
    parts.push(line + "\n");
    if (deferred.length > 0 && !faults.includes("index-torn-half")) {
      for (const full of deferred) parts.push(full + "\n");
      deferred = [];
    }
  }
  for (const full of deferred) parts.push(full + "\n");
  return { text: parts.join(""), torn_concat: tornConcat, torn_half: tornHalf };
}

export async function synthStore(opts: SynthOptions): Promise<SynthSummary> {
  const started = performance.now();
  const params = paramsOf(opts);
  const problem = validateParams(params);
  if (problem) throw new SynthError(problem);
  const jobs = Math.max(1, Math.floor(opts.jobs ?? availableParallelism()));
  const seed = parseSeed(params.seed)!;

  if (existsSync(opts.out)) {
    if (!statSync(opts.out).isDirectory()) throw new SynthError(`${opts.out} exists and is not a directory`);
    const previous = readManifest(opts.out);
    if (!opts.force) {
      const complete = isCompleteStore(opts.out, params);
      if (complete) {
        return { out: opts.out, reused: true, jobs, ...complete.summary!, seconds: (performance.now() - started) / 1000 };
      }
      if (!previous && readdirSync(opts.out).length > 0) {
        throw new SynthError(`${opts.out} is not empty and holds no synth store; pass --force to write into it anyway`);
      }
    }
    clearStore(opts.out);
  }
  // Mark the directory as ours before writing anything, so an interrupted run is recognised and redone.
  writeFileAtomic(join(opts.out, MANIFEST_FILE), JSON.stringify({ generator: "cis490 synth", format: MANIFEST_FORMAT, complete: false, params }) + "\n");

  const plans = buildPlan(params, seed);
  const results = await generateAll(opts, plans, jobs);
  const index = buildIndex(results, plans, seed);
  writeFileAtomic(join(opts.out, INDEX_FILE), index.text);

  const hosts: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const classes: Record<string, number> = { accepted: 0, degraded: 0, rejected: 0, errored: 0 };
  const episodes: ManifestEpisode[] = results.map((r) => {
    const plan = plans[r.index];
    hosts[r.hostId] = (hosts[r.hostId] ?? 0) + 1;
    for (const f of plan.faults) faults[f] = (faults[f] ?? 0) + 1;
    classes[r.expect.class]++;
    return {
      episode_id: r.episodeId,
      host_id: r.hostId,
      profile: plan.profile,
      sample: SAMPLES[plan.sample].name,
      failure: plan.failure,
      faults: plan.faults,
      indexed: !plan.faults.includes("orphan-tarball"),
      file: !plan.faults.includes("missing-tarball"),
      expect: r.expect,
    };
  });
  const orderedHosts: Record<string, number> = {};
  for (const h of storeContext(params).hosts) if (hosts[h.id]) orderedHosts[h.id] = hosts[h.id];
  const orderedFaults: Record<string, number> = {};
  for (const f of FAULTS) if (faults[f.name]) orderedFaults[f.name] = faults[f.name];
  const summary = { episodes: params.episodes, hosts: orderedHosts, faults: orderedFaults, classes };
  const ctx = storeContext(params);
  const manifest: Manifest = {
    generator: "cis490 synth",
    format: MANIFEST_FORMAT,
    complete: true,
    params,
    index_sha256: createHash("sha256").update(index.text).digest("hex"),
    campaign_start: new Date(ctx.campaignStart * 1000).toISOString(),
    fault_catalogue: FAULTS,
    store_faults: {
      index_torn_concat: index.torn_concat,
      index_torn_half: index.torn_half,
      missing_tarball: episodes.filter((e) => !e.file).map((e) => e.episode_id),
      orphan_tarball: episodes.filter((e) => !e.indexed).map((e) => e.episode_id),
    },
    summary,
    episodes,
  };
  // One episode per line keeps the manifest greppable and diffable.
  const text = JSON.stringify({ ...manifest, episodes: [] }, null, 1).replace(
    '"episodes": []',
    `"episodes": [\n${episodes.map((e) => JSON.stringify(e)).join(",\n")}\n]`,
  );
  writeFileAtomic(join(opts.out, MANIFEST_FILE), text + "\n");
  return { out: opts.out, reused: false, jobs, ...summary, seconds: (performance.now() - started) / 1000 };
}

export function readSynthManifest(out: string): Manifest | null {
  return readManifest(out);
}
