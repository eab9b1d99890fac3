// `cis490 publish perf`: model_perf events from timing real inference of every checkpoint.

import { Command, Option } from "clipanion";
import { measurePerf } from "../../dashboard/producers/perf.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { CliError } from "../../util/errors.js";
import type { Reporter } from "../command.js";
import { isIntegerAtLeast } from "../options.js";
import { PublishCommand, type PublishOutcome } from "./publish-support.js";

export class PublishPerfCommand extends PublishCommand {
  static paths = [["publish", "perf"]];

  static usage = Command.Usage({
    description: "Measure inference of every checkpoint on real windows and publish model_perf events (latency p50/p99, windows/s, parameters).",
    details: `
      Windows of the first \`--episodes\` accepted episodes are extracted by the native featurizer; each checkpoint in \`--artifacts\` then predicts one window at a time \`--calls\` times (latency p50/p99, after a warm-up) and every window in batches of \`--batch\` (windows/s). Featurisation is not timed. \`params\` is the number of learned weights of a neural net, or of tree nodes of a GBT.

      Exit codes: 0 when every checkpoint was measured and published; 1 when inputs are unusable, a checkpoint failed, or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [["Measure and publish", "$0 publish perf --artifacts artifacts --store data/corpus --acceptance data/acceptance.parquet"]],
  });
  artifacts = Option.String("--artifacts", "artifacts", { description: "Directory of checkpoints (default artifacts)" });
  store = Option.String("--store", { required: true, description: "Episode store directory (the input windows)" });
  acceptance = Option.String("--acceptance", { required: true, description: "acceptance.parquet from cis490 validate" });
  episodes = Option.String("--episodes", { validator: isIntegerAtLeast(1), description: "Accepted episodes used as inputs (default 8)" });
  calls = Option.String("--calls", { validator: isIntegerAtLeast(1), description: "Single-window predictions timed per model (default 200)" });
  batch = Option.String("--batch", { validator: isIntegerAtLeast(1), description: "Batch size of the throughput run (default 256)" });
  threads = Option.String("--threads", { validator: isIntegerAtLeast(1), description: "Intra-op threads of the neural engine (default: all cores)" });

  protected async publish(reporter: Reporter): Promise<PublishOutcome> {
    const r = await measurePerf({
      artifacts: this.artifacts,
      store: this.store,
      acceptance: this.acceptance,
      episodes: this.episodes ?? 8,
      calls: this.calls ?? 200,
      batch: this.batch ?? 256,
      threads: this.threads,
    });
    for (const f of r.failures) reporter.info(`not measured: ${f}`);
    if (r.events.length === 0) throw new CliError("no checkpoint could be measured");
    const failed = r.failures.length > 0;
    if (this.dryRun) return this.printEvents("model_perf", r.events, failed);
    return {
      what: "model_perf",
      sent: await sendAll(await this.target(), r.events),
      extra: { windows: r.windows, failures: r.failures, measured: r.events },
      lines: r.events.map((e) => `${e.model}_${e.mode}: p50 ${e.latency_ms.p50} ms, p99 ${e.latency_ms.p99} ms, ${e.windows_per_s} windows/s, ${e.params} params (${r.windows} windows)`),
      failed,
    };
  }
}
