// Text summaries of `cis490 features` (the --json documents are
// src/features/summary-json.ts).

import { join } from "node:path";
import type { FeaturesRunResult } from "../../features/run.js";
import { FEATURES_FILE, type MergeOutcome } from "../../features/shards.js";
import { formatTable } from "../text-table.js";

export function renderMerge(m: MergeOutcome, out: string): string {
  switch (m.status) {
    case "merged":
      return m.parts === 1
        ? `Wrote ${join(out, FEATURES_FILE)} (${m.record.rows} windows).`
        : `Merged ${m.parts} shard parts into ${join(out, FEATURES_FILE)} (${m.record.rows} windows).`;
    case "already-merged":
      return `${join(out, FEATURES_FILE)} is up to date (${m.record.rows} windows).`;
    case "waiting":
      return m.need === 0 ? `No finished shards in ${out}.` : `Waiting for shards: ${m.have} of ${m.need} finished; nothing merged.`;
    case "locked":
      return `Another process is merging (${m.holder}); pass --force to break the lock if it died.`;
  }
}

export function renderSummary(r: FeaturesRunResult, doc: Record<string, unknown>): string {
  const out: string[] = [];
  const c = r.counts;
  const shard = r.shard.count > 1 ? ` (shard ${r.shard.index}/${r.shard.count})` : "";
  if (r.reused) {
    out.push(`Shard ${r.shard.index}/${r.shard.count} already finished with these parameters; nothing recomputed (--force to redo).\n`);
  } else {
    const rate = doc.episodes_per_s as number | null;
    out.push(
      `Featurised ${c.episodes_planned} episodes${shard} in ${r.seconds.toFixed(1)} s` +
        `${rate === null ? "" : ` (${rate.toFixed(1)} episodes/s)`}, peak RSS ${((doc.peak_rss_bytes as number) / 2 ** 20).toFixed(0)} MiB\n`,
    );
  }
  out.push(`  used ${c.episodes_used} (${c.episodes_degraded} degraded), skipped ${c.skipped.length}, windows ${c.windows}\n`);
  out.push("\nWindows per phase:\n");
  out.push(formatTable(["phase", "windows"], Object.entries(c.phases).filter(([p, n]) => p !== "unknown" || n > 0), ["left", "right"]));
  const hosts = Object.entries(c.hosts).sort(([a], [b]) => (a < b ? -1 : 1));
  if (hosts.length) {
    out.push("\nPer host:\n");
    out.push(formatTable(["host", "episodes", "windows"], hosts.map(([h, v]) => [h, v.episodes, v.windows]), ["left", "right", "right"]));
  }
  if (c.skipped.length) {
    out.push("\nSkipped episodes:\n");
    out.push(formatTable(["reason", "episodes"], Object.entries(c.skipped_reasons), ["left", "right"]));
    for (const s of c.skipped.slice(0, 10)) out.push(`  ${s.episode_id} (${s.host_id}): ${s.reason}${s.detail ? ` (${s.detail})` : ""}\n`);
    if (c.skipped.length > 10) out.push(`  ... and ${c.skipped.length - 10} more (see --json)\n`);
  }
  out.push(`\nFeature schema ${r.schema.hash.slice(0, 16)}… (${r.schema.features.length} features)\n`);
  out.push(renderMerge(r.merge, doc.out as string) + "\n");
  return out.join("");
}
