// `cis490 publish metrics`: model_metric events from `cis490 eval` outputs.

import { Command, Option } from "clipanion";
import { metricsFromReports } from "../../dashboard/producers/metrics.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { CliError } from "../../util/errors.js";
import type { Reporter } from "../command.js";
import { PublishCommand, type PublishOutcome } from "./publish-support.js";

export class PublishMetricsCommand extends PublishCommand {
  static paths = [["publish", "metrics"]];

  static usage = Command.Usage({
    description: "Publish model_metric events (macro F1 with 95% CIs, per-class F1) from cis490 eval's <model>_<mode>_eval.json files.",
    details: `
      Exit codes: 0 when every event was published (or printed with --dry-run); 1 when the reports are unreadable, nothing was found, or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [["Publish the evaluation", "$0 publish metrics --reports reports/eval"]],
  });
  reports = Option.String("--reports", "reports/eval", { description: "Directory of <model>_<mode>_eval.json (default reports/eval)" });

  protected async publish(reporter: Reporter): Promise<PublishOutcome> {
    const { events, skipped } = await metricsFromReports(this.reports);
    for (const s of skipped) reporter.info(`skipped ${s}`);
    if (events.length === 0) throw new CliError(`no usable <model>_<mode>_eval.json in ${this.reports}`);
    if (this.dryRun) return this.printEvents("model_metric", events);
    return { what: "model_metric", sent: await sendAll(await this.target(), events), extra: { skipped } };
  }
}
