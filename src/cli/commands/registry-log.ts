// `cis490 registry log [--since ISO] [--model NAME]`: the decision log.

import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { formatTable } from "../text-table.js";
import { readDecisions, type Decision } from "../../registry/decisions.js";
import { UsageError } from "../../util/errors.js";
import { registryOption } from "./registry-common.js";

export class RegistryLogCommand extends BaseCommand<{ decisions: Decision[]; skipped_lines: number[] }> {
  static paths = [["registry", "log"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "The decision log: registered, loaded, drift detected, retrain skipped, promoted, refused, rolled back, purged.",
    details: "Each entry has its time, model, version, reason and the numbers behind it (`--json` prints them all).",
  });

  registry = registryOption();
  since = Option.String("--since", { description: "Only entries at or after this ISO-8601 instant" });
  model = Option.String("--model", { description: "Only this model" });

  protected async run() {
    let sinceMs: number | undefined;
    if (this.since !== undefined) {
      sinceMs = Date.parse(this.since);
      if (!Number.isFinite(sinceMs)) throw new UsageError(`--since must be an ISO-8601 instant (got ${JSON.stringify(this.since)})`);
    }
    return readDecisions(this.registry, { sinceMs, model: this.model });
  }

  protected render(r: { decisions: Decision[]; skipped_lines: number[] }): string {
    if (r.decisions.length === 0) return "No decisions logged.";
    const t = formatTable(["time", "event", "model", "version", "reason"], r.decisions.map((d) => [d.time, d.event, d.model, d.version ?? "-", d.reason ?? ""]));
    return t + (r.skipped_lines.length ? `\n(${r.skipped_lines.length} unreadable line(s) skipped: ${r.skipped_lines.join(", ")})` : "");
  }
}
