// `cis490 publish metrics`: model_metric events from `cis490 eval` outputs.

import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, writeLine } from "../../io/command-support.js";
import { metricsFromReports } from "../../dashboard/producers/metrics.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { publishOptions, report, target } from "./publish-support.js";

export class PublishMetricsCommand extends Command {
  static paths = [["publish", "metrics"]];

  static usage = Command.Usage({
    description: "Publish model_metric events (macro F1 with 95% CIs, per-class F1) from cis490 eval's <model>_<mode>_eval.json files.",
    details: `
      Exit codes: 0 when every event was published (or printed with --dry-run); 1 when the reports are unreadable, nothing was found, or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [["Publish the evaluation", "$0 publish metrics --reports reports/eval"]],
  });

  reports = Option.String("--reports", "reports/eval", { description: "Directory of <model>_<mode>_eval.json (default reports/eval)" });
  o = publishOptions();
  url = this.o.url;
  tokenFile = this.o.tokenFile;
  dryRun = this.o.dryRun;
  json = this.o.json;

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    try {
      const { events, skipped } = await metricsFromReports(this.reports);
      for (const s of skipped) writeLine(stderr, `skipped ${s}`);
      if (events.length === 0) {
        writeLine(stderr, `cis490 publish metrics: no usable <model>_<mode>_eval.json in ${this.reports}`);
        return EXIT_FAILURE;
      }
      if (this.dryRun) {
        for (const e of events) writeLine(stdout, JSON.stringify(e));
        return EXIT_OK;
      }
      const r = await sendAll(await target(this.url, this.tokenFile), events);
      report(stdout, this.json, "model_metric", r, { skipped });
      return r.fatal || r.rejected.length ? EXIT_FAILURE : EXIT_OK;
    } catch (error) {
      writeLine(stderr, `cis490 publish metrics: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }
  }
}
