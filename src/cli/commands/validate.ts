// `cis490 validate`: full sweep of a store -> acceptance index (Parquet),
// a summary on stdout (or one JSON document with --json). Computation lives
// in src/store/; this file parses options, reports, and picks the exit code.

import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { JSONL_MEMBERS } from "../../episode/report.js";
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  OptionError,
  loadEngineChecked,
  parseEngine,
  parseJobs,
  parseNonNegative,
  storeDirProblem,
  writeLine,
} from "../../io/command-support.js";
import { ParquetStreamWriter } from "../../io/parquet.js";
import { ProgressBar, type ProgressStream } from "../progress.js";
import { formatTable } from "../text-table.js";
import { acceptanceSchema, acceptanceTable, type AcceptanceRow } from "../../store/acceptance.js";
import { CLASSES } from "../../store/classify.js";
import { planStore, sweepTargets } from "../../store/sweep.js";
import { indexProblemsJson, SweepSummary } from "../../store/summary.js";

/** Proc telemetry runs at about 10 Hz. */
const PROC_HZ = 10;

export class ValidateCommand extends Command {
  static paths = [["validate"]];

  static usage = Command.Usage({
    description: "Full validation sweep of an episode store; writes the acceptance index (Parquet).",
    details: `
      Inspects every tarball named by \`index.jsonl\` and every orphan tarball under \`<store>/<host>/*.tar.zst\`, and gives each one class (accepted, degraded, rejected, errored) with the reasons that led to it.

      The acceptance index goes to \`--out\` (default: \`acceptance.parquet\` in the current directory), written atomically. A summary is printed on stdout; \`--json\` prints one JSON document instead. A progress bar is drawn on stderr when stderr is a terminal.

      A missing \`index.jsonl\` is read as an empty index (a warning is printed; every tarball is then an orphan).

      Exit codes: 0 when the sweep completed, whatever it found; 1 when the store is unusable (missing, not a directory, unreadable index) or the output cannot be written; 2 on usage errors.
    `,
    examples: [
      ["Sweep a store", "$0 validate --store ./store"],
      ["Machine-readable result", "$0 validate --store ./store --out /tmp/acc.parquet --json"],
    ],
  });

  store = Option.String("--store", { required: true, description: "Episode store directory" });
  out = Option.String("--out", { description: "Acceptance index Parquet path (default: ./acceptance.parquet)" });
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });
  jobs = Option.String("--jobs", { description: "Decoder threads (default: available CPUs)" });
  engine = Option.String("--engine", { description: "native (default) or reference" });
  minProcSeconds = Option.String("--min-proc-seconds", { description: "Minimum proc telemetry, in seconds at 10 Hz (default 5)" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let jobs: number;
    let engineName;
    let minProcRows: number;
    try {
      jobs = parseJobs(this.jobs);
      engineName = parseEngine(this.engine);
      minProcRows = Math.ceil(parseNonNegative("--min-proc-seconds", this.minProcSeconds, 5) * PROC_HZ);
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      writeLine(stderr, `cis490 validate: ${error.message}`);
      return EXIT_USAGE;
    }
    const store = resolve(this.store);
    const outPath = resolve(this.out ?? "acceptance.parquet");

    const problem = await storeDirProblem(store);
    if (problem) {
      writeLine(stderr, `cis490 validate: ${problem}`);
      return EXIT_FAILURE;
    }
    let plan;
    try {
      plan = await planStore(store);
    } catch (error) {
      writeLine(stderr, `cis490 validate: cannot read the store: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }
    if (!plan.index.exists) writeLine(stderr, `cis490 validate: warning: ${plan.index.path} not found; every tarball is an orphan`);

    let engine;
    try {
      engine = await loadEngineChecked(engineName);
    } catch (error) {
      writeLine(stderr, `cis490 validate: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }

    const started = Date.now();
    const summary = new SweepSummary();
    // Rows go to the Parquet file in chunks as the sweep produces them, so
    // memory stays flat in the corpus size (only --json keeps a line per episode).
    const episodes: ReturnType<typeof episodeJson>[] = [];
    let pending: AcceptanceRow[] = [];
    let writer: ParquetStreamWriter;
    try {
      await mkdir(dirname(outPath), { recursive: true });
      writer = await ParquetStreamWriter.open(outPath, acceptanceSchema(), { dictionaryColumns: ["host_id", "profile", "sample_name", "sample_kind", "module_name", "class"] });
    } catch (error) {
      writeLine(stderr, `cis490 validate: cannot write ${outPath}: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }
    const progress = new ProgressBar(stderr as unknown as ProgressStream, plan.targets.length, "validate");
    const sweep = sweepTargets(plan.targets, {
      engine,
      jobs,
      classify: { min_proc_rows: minProcRows },
      onProgress: (n) => progress.tick(n),
    });
    try {
      for await (const { row } of sweep) {
        summary.add(row);
        if (this.json) episodes.push(episodeJson(row));
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
      writeLine(stderr, `cis490 validate: cannot write ${outPath}: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }
    progress.finish();
    const seconds = (Date.now() - started) / 1000;

    if (this.json) {
      const doc = {
        store,
        out: outPath,
        engine: engineName,
        seconds,
        counts: summary.counts,
        total: summary.total,
        reasons: Object.fromEntries(summary.topReasons()),
        hosts: Object.fromEntries(summary.hostsSorted()),
        skipped_rows: summary.skipped,
        index: indexProblemsJson(plan.index, plan.listing.ignored),
        episodes,
      };
      stdout.write(JSON.stringify(doc) + "\n");
    } else {
      stdout.write(renderSummary(summary, plan, outPath, engineName, seconds));
    }
    return EXIT_OK;
  }
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

function renderSummary(
  summary: SweepSummary,
  plan: Awaited<ReturnType<typeof planStore>>,
  outPath: string,
  engine: string,
  seconds: number,
): string {
  const out: string[] = [];
  const pct = (n: number): string => (summary.total ? ((100 * n) / summary.total).toFixed(1) + "%" : "-");
  out.push(`Validated ${summary.total} episodes in ${plan.store} (engine ${engine}, ${seconds.toFixed(1)} s)\n`);
  out.push(formatTable(["class", "episodes", "share"], CLASSES.map((c) => [c, summary.counts[c], pct(summary.counts[c])]), ["left", "right", "right"]));

  const top = summary.topReasons(15);
  if (top.length) {
    out.push("\nTop reasons:\n");
    out.push(formatTable(["reason", "episodes"], top, ["left", "right"]));
  }

  const hosts = summary.hostsSorted();
  if (hosts.length) {
    out.push("\nPer host:\n");
    out.push(formatTable(["host", ...CLASSES], hosts.map(([h, c]) => [h, ...CLASSES.map((k) => c[k])]), ["left", "right", "right", "right", "right"]));
  }

  const index = plan.index;
  out.push("\nIndex:\n");
  if (!index.exists) out.push(`  ${index.path} not found (read as empty)\n`);
  out.push(`  ${index.lines} lines, ${index.entries.length + index.duplicates.length} records\n`);
  out.push(`  torn lines recovered: ${index.tornLinesRecovered}\n`);
  out.push(`  unrecoverable fragments: ${index.problems.length}\n`);
  for (const p of index.problems.slice(0, 10)) out.push(`    line ${p.lineNo}: ${p.reason}${p.detail ? ` (${p.detail})` : ""}: ${p.snippet}\n`);
  if (index.problems.length > 10) out.push(`    ... and ${index.problems.length - 10} more (see --json)\n`);
  out.push(`  duplicate episode_ids: ${index.duplicates.length}\n`);
  for (const d of index.duplicates.slice(0, 10)) out.push(`    ${d.episode_id}: line ${d.lineNo} repeats line ${d.firstLineNo} (first kept)\n`);
  if (plan.listing.ignored.length) out.push(`  store entries ignored (not regular files): ${plan.listing.ignored.length}\n`);

  out.push("\nSkipped rows per member:\n");
  out.push(
    formatTable(
      ["member", "rows skipped", "episodes"],
      JSONL_MEMBERS.map((m) => [m, summary.skipped[m], summary.episodesWithSkips[m]]),
      ["left", "right", "right"],
    ),
  );
  out.push(`\nAcceptance index: ${outPath}\n`);
  return out.join("");
}
