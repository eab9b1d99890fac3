// The validation stage: a full sweep of a store into the acceptance index
// (Parquet, streamed in chunks so memory stays flat in the corpus size) and
// a result object for the command to print. Never writes to stdout.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Inspector } from "../episode/inspector.js";
import { ParquetStreamWriter } from "../io/parquet.js";
import { CliError } from "../util/errors.js";
import { acceptanceSchema, acceptanceTable, type AcceptanceRow } from "./acceptance.js";
import { assertStoreDir } from "./layout.js";
import { planStore, sweepTargets } from "./sweep.js";
import { indexProblemsJson, SweepSummary } from "./summary.js";

/** Proc telemetry runs at about 10 Hz. */
export const PROC_HZ = 10;

export interface ValidateOptions {
  store: string;
  out: string;
  inspector: Inspector;
  /** Recorded in the result (the --engine the user chose). */
  engine: string;
  jobs: number;
  minProcRows: number;
  /** Keep one line per episode in the result (for --json; memory grows with the store). */
  keepEpisodes: boolean;
  warn?: (message: string) => void;
  /** A progress display for `total` targets. */
  progress?: (total: number) => { tick(n?: number): void; finish(): void };
}

export type StorePlan = Awaited<ReturnType<typeof planStore>>;

export interface ValidateResult {
  store: string;
  out: string;
  engine: string;
  seconds: number;
  counts: SweepSummary["counts"];
  total: number;
  reasons: Record<string, number>;
  hosts: Record<string, SweepSummary["counts"]>;
  skipped_rows: SweepSummary["skipped"];
  index: ReturnType<typeof indexProblemsJson>;
  episodes?: Array<Record<string, unknown>>;
  /** For the text summary; not part of the JSON document. */
  summary: SweepSummary;
  plan: StorePlan;
}

export async function runValidate(opts: ValidateOptions): Promise<ValidateResult> {
  await assertStoreDir(opts.store);
  let plan: StorePlan;
  try {
    plan = await planStore(opts.store);
  } catch (error) {
    throw new CliError(`cannot read the store: ${(error as Error).message}`, { cause: error });
  }
  if (!plan.index.exists) opts.warn?.(`${plan.index.path} not found; every tarball is an orphan`);

  const started = Date.now();
  const summary = new SweepSummary();
  const episodes: Array<Record<string, unknown>> = [];
  let pending: AcceptanceRow[] = [];
  let writer: ParquetStreamWriter;
  try {
    await mkdir(dirname(opts.out), { recursive: true });
    writer = await ParquetStreamWriter.open(opts.out, acceptanceSchema(), { dictionaryColumns: ["host_id", "profile", "sample_name", "sample_kind", "module_name", "class"] });
  } catch (error) {
    throw new CliError(`cannot write ${opts.out}: ${(error as Error).message}`, { cause: error });
  }
  const progress = opts.progress?.(plan.targets.length);
  const sweep = sweepTargets(plan.targets, {
    engine: opts.inspector,
    jobs: opts.jobs,
    classify: { min_proc_rows: opts.minProcRows },
    onProgress: (n) => progress?.tick(n),
  });
  try {
    for await (const { row } of sweep) {
      summary.add(row);
      if (opts.keepEpisodes) episodes.push(episodeJson(row));
      pending.push(row);
      if (pending.length >= 4096) {
        await writer.write(acceptanceTable(pending));
        pending = [];
      }
    }
    await writer.write(acceptanceTable(pending));
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw new CliError(`cannot write ${opts.out}: ${(error as Error).message}`, { cause: error });
  }
  progress?.finish();
  return {
    store: opts.store,
    out: opts.out,
    engine: opts.engine,
    seconds: (Date.now() - started) / 1000,
    counts: summary.counts,
    total: summary.total,
    reasons: Object.fromEntries(summary.topReasons()),
    hosts: Object.fromEntries(summary.hostsSorted()),
    skipped_rows: summary.skipped,
    index: indexProblemsJson(plan.index, plan.listing.ignored),
    ...(opts.keepEpisodes ? { episodes } : {}),
    summary,
    plan,
  };
}

function episodeJson(r: AcceptanceRow): Record<string, unknown> {
  return {
    episode_id: r.episode_id,
    host_id: r.host_id,
    class: r.class,
    reasons: r.reasons,
    profile: r.profile,
    sample_name: r.sample_name,
    sample_kind: r.sample_kind,
    module_name: r.module_name,
    path: r.path,
    in_index: r.in_index,
    sha256: r.sha256,
    size_bytes: r.size_bytes,
    duration_s: r.duration_s,
    rows: r.rows,
    skipped: r.skipped,
    quality_reasons: r.quality_reasons,
  };
}
