// `cis490 prune`: flags low-quality episodes (dry run by default), or
// archives / deletes them and drops their index rows crash-safely. The
// crash-safety invariant and the order of work are in src/store/prune.ts.

import { promises as fsp } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "clipanion";
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  OptionError,
  loadEngineChecked,
  parseEngine,
  parseJobs,
  storeDirProblem,
  writeLine,
} from "../../io/command-support.js";
import { ProgressBar, type ProgressStream } from "../../io/progress.js";
import { formatTable } from "../../io/table.js";
import { ownerPreservable } from "../../store/index-rewrite.js";
import { INDEX_FILE } from "../../store/layout.js";
import { acquireLock, readJournal } from "../../store/prune-journal.js";
import {
  buildJournal,
  defaultArchiveRoot,
  isCandidate,
  recoverJournal,
  runPrune,
  selectFlagged,
  type ExecuteResult,
  type FlaggedEpisode,
} from "../../store/prune.js";
import { isQualityReason, QUALITY_REASONS, type QualityReason } from "../../store/quality.js";
import { planStore, sweepTargets } from "../../store/sweep.js";

type Mode = "dry-run" | "archive" | "delete";

export class PruneCommand extends Command {
  static paths = [["prune"]];

  static usage = Command.Usage({
    description: "Flag low-quality episodes; dry run by default, or archive / delete them.",
    details: `
      Reasons: ${QUALITY_REASONS.join(", ")} (see docs/data-contract.md, "Quality rules"). Only episodes that decode (not errored) and have an index row are candidates. \`--reason\` (repeatable) limits which reasons flag an episode (default: all); \`--host\` limits the prune to one host.

      Without \`--archive\` or \`--delete\` nothing is changed: a summary and the flagged episodes are printed. \`--archive\` moves flagged tarballs to \`<archive-root>/<host_id>/<episode_id>.tar.zst\` (default archive root: \`<store>-archive\`, a sibling of the store directory); \`--delete\` removes them. Either way their rows are dropped from \`index.jsonl\` by an atomic rewrite that keeps the file's owner and mode and any rows appended while the prune runs.

      A prune killed at any point loses no index row and no tarball: its plan is journaled in \`<store>/.cis490-prune-journal.json\`, and the next \`--archive\`/\`--delete\` run completes it before doing anything else (a dry run only reports it).

      Exit codes: 0 on success; 1 when the store is unusable or the prune could not complete (rerun to finish it); 2 on usage errors.
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
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });
  jobs = Option.String("--jobs", { description: "Decoder threads (default: available CPUs)" });
  engine = Option.String("--engine", { description: "native (default) or reference" });

  async execute(): Promise<number> {
    const { stderr } = this.context;
    const fail = (message: string, code: number): number => {
      writeLine(stderr, `cis490 prune: ${message}`);
      return code;
    };
    let jobs: number;
    let engineName;
    let selected: Set<QualityReason>;
    try {
      jobs = parseJobs(this.jobs);
      engineName = parseEngine(this.engine);
      if (this.archive && this.delete) throw new OptionError("--archive and --delete are mutually exclusive");
      if (this.archiveRoot !== undefined && !this.archive) throw new OptionError("--archive-root needs --archive");
      const reasons = this.reason ?? [...QUALITY_REASONS];
      for (const r of reasons) if (!isQualityReason(r)) throw new OptionError(`unknown --reason ${JSON.stringify(r)} (one of ${QUALITY_REASONS.join(", ")})`);
      selected = new Set(reasons as QualityReason[]);
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      return fail(error.message, EXIT_USAGE);
    }
    const mode: Mode = this.archive ? "archive" : this.delete ? "delete" : "dry-run";
    const store = resolve(this.store);
    const archiveRoot = mode === "archive" ? resolve(this.archiveRoot ?? defaultArchiveRoot(store)) : null;
    if (archiveRoot !== null && (archiveRoot === store || archiveRoot.startsWith(store + "/"))) {
      return fail("--archive-root must be outside the store (a sweep would see it as a host)", EXIT_USAGE);
    }

    const problem = await storeDirProblem(store);
    if (problem) return fail(problem, EXIT_FAILURE);

    let release: (() => Promise<void>) | null = null;
    try {
      let recovered: { journal: { mode: string; actions: unknown[] }; result: ExecuteResult } | null = null;
      if (mode === "dry-run") {
        const pending = await readJournal(store);
        if (pending) writeLine(stderr, `cis490 prune: warning: an interrupted ${pending.mode} prune is pending; run with --archive or --delete to complete it`);
      } else {
        release = await acquireLock(store);
        recovered = await recoverJournal(store);
        if (recovered) writeLine(stderr, `cis490 prune: completed an interrupted ${recovered.journal.mode} prune (${recovered.journal.actions.length} episodes)`);
      }

      const plan = await planStore(store, this.host);
      const engine = await loadEngineChecked(engineName);
      const progress = new ProgressBar(stderr as unknown as ProgressStream, plan.targets.length, "prune");
      let scanned = 0;
      let candidates = 0;
      const flagged: FlaggedEpisode[] = [];
      for await (const { row } of sweepTargets(plan.targets, { engine, jobs, onProgress: (n) => progress.tick(n) })) {
        scanned++;
        if (!isCandidate(row)) continue;
        candidates++;
        const f = selectFlagged(row, selected);
        if (f) flagged.push(f);
      }
      progress.finish();

      let executed: ExecuteResult | null = null;
      let conflicts: FlaggedEpisode[] = [];
      if (mode !== "dry-run" && flagged.length > 0) {
        const indexStat = await fsp.stat(join(store, INDEX_FILE));
        const ownerProblem = ownerPreservable(indexStat);
        if (ownerProblem) return fail(`${ownerProblem}; nothing changed`, EXIT_FAILURE);
        const built = buildJournal(flagged, mode, archiveRoot);
        conflicts = built.conflicts;
        for (const c of conflicts) writeLine(stderr, `cis490 prune: warning: ${c.host_id}/${c.episode_id} already in the archive; left in the store`);
        if (built.journal.actions.length > 0) executed = await runPrune(store, built.journal);
      }
      const holders = executed?.index?.stillOpenBy ?? [];
      if (holders.length > 0) {
        writeLine(stderr, `cis490 prune: warning: process(es) ${holders.join(", ")} still held the old index.jsonl open after the rewrite; rows they append later go to the replaced file`);
      }

      const byReason = Object.fromEntries([...selected].map((r) => [r, flagged.filter((f) => f.reasons.includes(r)).length]));
      if (this.json) {
        const doc = {
          mode,
          store,
          archive_root: archiveRoot,
          scanned,
          candidates,
          flagged: flagged.length,
          kept: scanned - flagged.length + conflicts.length,
          by_reason: byReason,
          flagged_episodes: flagged.map((f) => ({
            host: f.host_id,
            episode: f.episode_id,
            size_bytes: f.size_bytes,
            reasons: f.reasons,
            sample: f.sample_name,
            module: f.module_name,
            class: f.class,
          })),
          conflicts: conflicts.map((c) => `${c.host_id}/${c.episode_id}`),
          result: executed && {
            moved: executed.moved,
            deleted: executed.deleted,
            already_done: executed.already_done,
            missing: executed.missing,
            index_rows_dropped: executed.index?.dropped ?? 0,
            appended_bytes_carried: executed.index?.carriedBytes ?? 0,
          },
          recovered_journal: recovered ? { mode: recovered.journal.mode, episodes: recovered.journal.actions.length } : null,
        };
        this.context.stdout.write(JSON.stringify(doc) + "\n");
      } else {
        this.context.stdout.write(renderText(mode, store, archiveRoot, scanned, candidates, flagged, byReason, executed));
      }
      return EXIT_OK;
    } catch (error) {
      return fail(`${(error as Error).message}${mode === "dry-run" ? "" : " (rerun the same command to complete the prune)"}`, EXIT_FAILURE);
    } finally {
      await release?.();
    }
  }
}

function renderText(
  mode: Mode,
  store: string,
  archiveRoot: string | null,
  scanned: number,
  candidates: number,
  flagged: FlaggedEpisode[],
  byReason: Record<string, number>,
  executed: ExecuteResult | null,
): string {
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
  if (mode === "dry-run") out.push("\nDry run: nothing changed. Use --archive or --delete to act.\n");
  else if (executed) {
    const verb = mode === "archive" ? `moved ${executed.moved} tarballs to ${archiveRoot}` : `deleted ${executed.deleted} tarballs`;
    out.push(`\nDone: ${verb}; dropped ${executed.index?.dropped ?? 0} index rows`);
    if (executed.index?.carriedBytes) out.push(`; kept ${executed.index.carriedBytes} bytes appended meanwhile`);
    out.push("\n");
    if (executed.missing.length) out.push(`Warning: ${executed.missing.length} planned tarballs were already gone\n`);
  }
  return out.join("");
}
