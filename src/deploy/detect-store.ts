// `cis490 detect` without --follow: one validation sweep over the store,
// then every accepted or degraded episode scored in batches. Rows go to the
// caller (onRow) and, with `out`, to a JSONL file written under a temporary
// name and renamed into place when complete.

import type { Inspector } from "../episode/inspector.js";
import { loadInspector } from "../native/backend.js";
import { AtomicFile } from "../io/atomic.js";
import { planStore, sweepTargets } from "../store/sweep.js";
import type { AlertPolicy } from "./alert.js";
import { evaluatePolicy, type DetectEvaluation, type EpisodeTrace } from "./evaluate.js";
import { featureOptionsFor, isUsable, scoreEpisodes, type DetectionRow, type Scorer, type StoreEpisode } from "./detect.js";

export interface DetectStoreOptions {
  store: string;
  out: string | null;
  policy: AlertPolicy;
  jobs: number;
  /** Episodes per featurizer call (default 32). */
  batchEpisodes?: number;
  onRow?: (row: DetectionRow) => void;
  engine?: Inspector;
  /** Evaluate the alert policy against the episodes' labels (bootstrap resamples, seed). */
  evaluate?: { resamples: number; seed: number } | null;
}

export interface DetectStoreResult {
  /** Sweep targets per acceptance class. */
  classes: Record<string, number>;
  episodes_scored: number;
  episodes_unscored: number;
  windows: number;
  episodes_alerted: number;
  out: string | null;
  seconds: number;
  evaluation: DetectEvaluation | null;
}

/** A JSONL file that only appears under its name once complete (src/io/atomic.ts). */
export class JsonlFile {
  private pending: string[] = [];
  private pendingBytes = 0;

  private constructor(private readonly file: AtomicFile) {}

  static async open(path: string): Promise<JsonlFile> {
    return new JsonlFile(await AtomicFile.create(path));
  }

  /** Buffers rows and writes them in chunks of about 64 KiB. */
  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= 65536) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.handle.write(chunk);
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}

export async function detectStore(scorer: Scorer, o: DetectStoreOptions): Promise<DetectStoreResult> {
  const started = Date.now();
  featureOptionsFor(scorer.meta); // refuse a foreign schema before any work
  const engine = o.engine ?? (await loadInspector("native"));
  const plan = await planStore(o.store);
  const classes: Record<string, number> = {};
  const usable: StoreEpisode[] = [];
  for await (const { target, row } of sweepTargets(plan.targets, { engine, jobs: o.jobs })) {
    classes[row.class] = (classes[row.class] ?? 0) + 1;
    if (isUsable(row.class) && target.abs) usable.push({ episode_id: target.episode_id, host_id: target.host_id, abs: target.abs, acceptance_class: row.class });
  }
  const file = o.out ? await JsonlFile.open(o.out) : null;
  const result: DetectStoreResult = { classes, episodes_scored: 0, episodes_unscored: 0, windows: 0, episodes_alerted: 0, out: o.out, seconds: 0, evaluation: null };
  const traces: EpisodeTrace[] = [];
  try {
    const size = o.batchEpisodes ?? 32;
    for (let from = 0; from < usable.length; from += size) {
      for (const s of await scoreEpisodes(scorer, usable.slice(from, from + size), { policy: o.policy, jobs: o.jobs })) {
        const rows: DetectionRow[] = [...s.windows, s.summary];
        for (const row of rows) o.onRow?.(row);
        if (file) await file.write(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
        if (s.summary.verdict === "unscored") result.episodes_unscored++;
        else result.episodes_scored++;
        if (s.summary.verdict === "alert") result.episodes_alerted++;
        result.windows += s.windows.length;
        if (o.evaluate && s.trace) traces.push(s.trace);
      }
    }
    await file?.commit();
  } catch (error) {
    await file?.abort();
    throw error;
  }
  if (o.evaluate) result.evaluation = evaluatePolicy(traces, scorer.meta.classes, o.policy, scorer.meta.window.stride_s, o.evaluate);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
