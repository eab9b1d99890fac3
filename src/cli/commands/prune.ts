// `cis490 prune`: flags low-quality episodes (dry run by default), or
// archives / deletes them and drops their index rows crash-safely. The
// crash-safety invariant and the order of work are in src/store/prune.ts.

import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BACKENDS, loadInspectorChecked } from "../../native/backend.js";
import { assertStoreDir } from "../../store/layout.js";
import { defaultArchiveRoot } from "../../store/prune.js";
import { pruneRunJson, runPruneCommand, type PruneMode, type PruneRunResult } from "../../store/prune-run.js";
import { isQualityReason, QUALITY_REASONS, type QualityReason } from "../../store/quality.js";
import { CliError, UsageError } from "../../util/errors.js";
import { BaseCommand, EXIT_FAILURE, EXIT_OK, type Reporter } from "../command.js";
import { isDurationMs, isJobCount, isOneOf, jobsOrDefault } from "../options.js";
import type { Progress } from "../progress.js";
import { formatTable } from "../text-table.js";

export class PruneCommand extends BaseCommand<PruneRunResult> {
  static paths = [["prune"]];

  static usage = Command.Usage({
    description: "Flag low-quality episodes; dry run by default, or archive / delete them.",
    details: `
      Reasons: ${QUALITY_REASONS.join(", ")} (see docs/data-contract.md, "Quality rules"). Only episodes that decode (not errored) and have an index row are candidates. \`--reason\` (repeatable) limits which reasons flag an episode (default: all); \`--host\` limits the prune to one host.

      Without \`--archive\` or \`--delete\` nothing is changed: a summary and the flagged episodes are printed. \`--archive\` moves flagged tarballs to \`<archive-root>/<host_id>/<episode_id>.tar.zst\` (default archive root: \`<store>-archive\`, a sibling of the store directory); \`--delete\` removes them. Either way their rows are dropped from \`index.jsonl\` by an atomic rewrite that keeps the file's owner and mode and any rows appended while the prune runs.

      Concurrent writers: the receiver may keep appending to \`index.jsonl\` while prune runs. A process that keeps the index open across the rewrite would go on writing to the replaced file, so prune never replaces it while another process holds it open for writing (found through /proc). Before changing anything it waits up to \`--wait-for-writers\` (default 10s) for such processes to close it, and otherwise exits 1 naming them, with the store unchanged; it looks again right before the rename. A process whose open files cannot be inspected (another user, hidepid, another PID namespace) counts as a possible writer unless you pass \`--assume-no-hidden-writers\`. Receivers that open, append and close each time are fine. Details: docs/prune.md.

      A prune killed at any point loses no index row and no tarball: its plan is journaled in \`<store>/.cis490-prune-journal.json\`, and the next \`--archive\`/\`--delete\` run completes it before doing anything else (a dry run only reports it). A journal that would touch anything outside the store or the archive root is refused. Two prunes never run at once on a store (\`<store>/.cis490-prune.lock\`); the second exits 1 naming the first.

      Exit codes: 0 when everything asked for is done; 1 when the store is unusable, another prune or a writer holds it, or the prune could not finish (the reason is printed; rerun to finish it); 2 on usage errors.
    `,
    examples: [
      ["What would be pruned", "$0 prune --store ./store"],
      ["Archive episodes whose workload failed", "$0 prune --store ./store --reason workload-failed --archive"],
    ],
  });

  store = Option.String("--store", { required: true, description: "Episode store directory" });
  reason = Option.Array("--reason", { description: `Reason to prune for (repeatable): ${QUALITY_REASONS.join(", ")}` });
  host = Option.String("--host", { description: "Only this host's episodes" });
  archive = Option.Boolean("--archive", false, { description: "Move flagged tarballs to the archive root" });
  archiveRoot = Option.String("--archive-root", { description: "Archive root (default: <store>-archive)" });
  delete = Option.Boolean("--delete", false, { description: "Delete flagged tarballs" });
  jobs = Option.String("--jobs", { validator: isJobCount, description: "Decoder threads (default: available CPUs)" });
  engine = Option.String("--engine", { validator: isOneOf(BACKENDS), description: "native (default) or reference" });
  waitForWriters = Option.String("--wait-for-writers", { validator: isDurationMs, description: "How long to wait for other processes to close index.jsonl (default 10s)" });
  assumeNoHiddenWriters = Option.Boolean("--assume-no-hidden-writers", false, {
    description: "Go ahead when some processes' open files cannot be inspected (their rows could be lost if one of them keeps the index open)",
  });

  protected async run(reporter: Reporter): Promise<PruneRunResult> {
    if (this.archive && this.delete) throw new UsageError("--archive and --delete are mutually exclusive");
    if (this.archiveRoot !== undefined && !this.archive) throw new UsageError("--archive-root needs --archive");
    const reasons = this.reason ?? [...QUALITY_REASONS];
    for (const r of reasons) if (!isQualityReason(r)) throw new UsageError(`unknown --reason ${JSON.stringify(r)} (one of ${QUALITY_REASONS.join(", ")})`);
    const mode: PruneMode = this.archive ? "archive" : this.delete ? "delete" : "dry-run";
    const store = resolve(this.store);
    const archiveRoot = mode === "archive" ? resolve(this.archiveRoot ?? defaultArchiveRoot(store)) : null;
    if (archiveRoot !== null && (archiveRoot === store || archiveRoot.startsWith(store + "/"))) {
      throw new UsageError("--archive-root must be outside the store (a sweep would see it as a host)");
    }
    await assertStoreDir(store);

    let result: PruneRunResult;
    try {
      const engine = await loadInspectorChecked(this.engine ?? "native");
      let progress: Progress | null = null;
      result = await runPruneCommand({
        store,
        mode,
        archiveRoot,
        host: this.host,
        selected: new Set(reasons as QualityReason[]),
        engine,
        jobs: jobsOrDefault(this.jobs),
        waitForWritersMs: this.waitForWriters ?? 10_000,
        assumeNoHiddenWriters: this.assumeNoHiddenWriters,
        onPlanned: (n) => (progress = reporter.progress("prune", n)),
        onProgress: (n) => progress?.tick(n),
      });
      (progress as Progress | null)?.finish();
    } catch (error) {
      // Whatever stopped the prune, the journal lets a rerun finish it.
      throw new CliError(`${(error as Error).message}${mode === "dry-run" ? "" : " (rerun the same command to complete the prune)"}`, { cause: error });
    }
    for (const w of result.warnings) reporter.warn(w);
    return result;
  }

  /** A prune that stopped short (a writer, a lock) prints its result, then says why and exits 1. */
  protected exitCodeOf(r: PruneRunResult): number {
    if (r.status === "ok") return EXIT_OK;
    this.context.stderr.write(`${this.label}: ${r.reason ?? r.status}\n`);
    return EXIT_FAILURE;
  }

  protected toJson(r: PruneRunResult): unknown {
    return pruneRunJson(r);
  }

  protected render(r: PruneRunResult): string {
    return renderText(r);
  }
}

function renderText(r: PruneRunResult): string {
  const { mode, store, archiveRoot, scanned, candidates, flagged, byReason, executed } = r;
  const out: string[] = [];
  out.push(`Prune (${mode}) of ${store}: ${scanned} episodes scanned, ${candidates} candidates, ${flagged.length} flagged\n`);
  out.push(formatTable(["reason", "episodes"], Object.entries(byReason), ["left", "right"]));
  if (flagged.length) {
    out.push("\n");
    const shown = flagged.slice(0, 40);
    out.push(
      formatTable(
        ["host", "episode", "size", "reasons", "sample", "module"],
        shown.map((f) => [f.host_id, f.episode_id, f.size_bytes ?? "", f.reasons.join(","), f.sample_name ?? "-", f.module_name ?? "-"]),
        ["left", "left", "right", "left", "left", "left"],
      ),
    );
    if (flagged.length > shown.length) out.push(`... and ${flagged.length - shown.length} more (see --json)\n`);
  }
  if (r.status !== "ok") out.push(`\nNot done (${r.status}): ${r.reason}\n`);
  else if (mode === "dry-run") out.push("\nDry run: nothing changed. Use --archive or --delete to act.\n");
  else if (executed) {
    const verb = mode === "archive" ? `moved ${executed.moved} tarballs to ${archiveRoot}` : `deleted ${executed.deleted} tarballs`;
    out.push(`\nDone: ${verb}; dropped ${executed.index?.dropped ?? 0} index rows`);
    if (executed.index?.carriedBytes) out.push(`; kept ${executed.index.carriedBytes} bytes appended meanwhile`);
    out.push("\n");
    if (executed.missing.length) out.push(`Warning: ${executed.missing.length} planned tarballs were already gone\n`);
  }
  return out.join("");
}
