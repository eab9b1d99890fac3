// `cis490 publish metrics`: model_metric events from `cis490 eval` outputs.

import { Command, Option } from "clipanion";
import { metricsFromRegistry, metricsFromReports } from "../../dashboard/producers/metrics.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { CliError, UsageError } from "../../util/errors.js";
import type { Reporter } from "../command.js";
import { PublishCommand, type PublishOutcome } from "./publish-support.js";

export class PublishMetricsCommand extends PublishCommand {
  static paths = [["publish", "metrics"]];

  static usage = Command.Usage({
    description: "Publish model_metric events (macro F1 with 95% CIs, per-class F1) from cis490 eval's <model>_<mode>_eval.json files.",
    details: `
      With \`--registry DIR\` the events come from the registry instead: one per registered version that has an evaluation attached (\`cis490 eval --model NAME@version\` stores it), oldest first, \`version\` being the registry's version id, so the page's bars compare versions of a model; \`--model NAME\` (repeatable) limits it to those models.

      Exit codes: 0 when every event was published (or printed with --dry-run); 1 when the reports are unreadable, nothing was found, or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [
      ["Publish the evaluation", "$0 publish metrics --reports reports/eval"],
      ["Compare the registered versions of the GRU", "$0 publish metrics --registry artifacts --model gru_realistic --model gru_oracle"],
    ],
  });
  reports = Option.String("--reports", "reports/eval", { description: "Directory of <model>_<mode>_eval.json (default reports/eval)" });
  registry = Option.String("--registry", { description: "Publish every registered version's attached evaluation from this registry instead" });
  model = Option.Array("--model", { description: "With --registry: only this model (NAME, repeatable)" });

  protected async publish(reporter: Reporter): Promise<PublishOutcome> {
    if (this.model && !this.registry) throw new UsageError("--model selects registry models: pass --registry too");
    const { events, skipped } = this.registry ? await metricsFromRegistry(this.registry, this.model ?? []) : await metricsFromReports(this.reports);
    for (const s of skipped) reporter.info(`skipped ${s}`);
    if (events.length === 0) throw new CliError(this.registry ? `no registered version with an attached evaluation in ${this.registry}` : `no usable <model>_<mode>_eval.json in ${this.reports}`);
    if (this.dryRun) return this.printEvents("model_metric", events);
    return { what: "model_metric", sent: await sendAll(await this.target(), events), extra: { skipped } };
  }
}
