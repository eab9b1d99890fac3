// `cis490 validate`: full sweep of a store -> acceptance index (Parquet),
// a summary on stdout (or one JSON document with --json). The stage lives
// in src/store/validate.ts; this file parses options and renders the result.

import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { JSONL_MEMBERS } from "../../episode/report.js";
import { BACKENDS, loadInspectorChecked } from "../../native/backend.js";
import { CLASSES } from "../../store/classify.js";
import { PROC_HZ, runValidate, type ValidateResult } from "../../store/validate.js";
import { BaseCommand, type Reporter } from "../command.js";
import { isJobCount, isNumberAtLeast, isOneOf, jobsOrDefault } from "../options.js";
import { formatTable } from "../text-table.js";

export class ValidateCommand extends BaseCommand<ValidateResult> {
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
  jobs = Option.String("--jobs", { validator: isJobCount, description: "Decoder threads (default: available CPUs)" });
  engine = Option.String("--engine", { validator: isOneOf(BACKENDS), description: "native (default) or reference" });
  minProcSeconds = Option.String("--min-proc-seconds", { validator: isNumberAtLeast(0), description: "Minimum proc telemetry, in seconds at 10 Hz (default 5)" });

  protected async run(reporter: Reporter): Promise<ValidateResult> {
    const engine = this.engine ?? "native";
    return runValidate({
      store: resolve(this.store),
      out: resolve(this.out ?? "acceptance.parquet"),
      inspector: await loadInspectorChecked(engine),
      engine,
      jobs: jobsOrDefault(this.jobs),
      minProcRows: Math.ceil((this.minProcSeconds ?? 5) * PROC_HZ),
      keepEpisodes: this.json,
      warn: (m) => reporter.warn(m),
      progress: (total) => reporter.progress("validate", total),
    });
  }

  protected toJson({ summary: _s, plan: _p, ...doc }: ValidateResult): unknown {
    return doc;
  }

  protected render(r: ValidateResult): string {
    const { summary, plan } = r;
    const out: string[] = [];
    const pct = (n: number): string => (summary.total ? ((100 * n) / summary.total).toFixed(1) + "%" : "-");
    out.push(`Validated ${summary.total} episodes in ${plan.store} (engine ${r.engine}, ${r.seconds.toFixed(1)} s)\n`);
    out.push(formatTable(["class", "episodes", "share"], CLASSES.map((c) => [c, summary.counts[c], pct(summary.counts[c])]), ["left", "right", "right"]));
    const top = summary.topReasons(15);
    if (top.length) out.push("\nTop reasons:\n", formatTable(["reason", "episodes"], top, ["left", "right"]));
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
    out.push(formatTable(["member", "rows skipped", "episodes"], JSONL_MEMBERS.map((m) => [m, summary.skipped[m], summary.episodesWithSkips[m]]), ["left", "right", "right"]));
    out.push(`\nAcceptance index: ${r.out}\n`);
    return out.join("");
  }
}
