// `cis490 publish perf`: model_perf events from timing real inference of every checkpoint.

import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, writeLine } from "../../io/command-support.js";
import { measurePerf } from "../../dashboard/producers/perf.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { publishOptions, report, target } from "./publish-support.js";

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new OptionError(`${flag} must be a positive integer (got ${JSON.stringify(value)})`);
  return n;
}

export class PublishPerfCommand extends Command {
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
  episodes = Option.String("--episodes", "8", { description: "Accepted episodes used as inputs (default 8)" });
  calls = Option.String("--calls", "200", { description: "Single-window predictions timed per model (default 200)" });
  batch = Option.String("--batch", "256", { description: "Batch size of the throughput run (default 256)" });
  threads = Option.String("--threads", { description: "Intra-op threads of the neural engine (default: all cores)" });
  o = publishOptions();
  url = this.o.url;
  tokenFile = this.o.tokenFile;
  dryRun = this.o.dryRun;
  json = this.o.json;

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let episodes: number, calls: number, batch: number, threads: number | undefined;
    try {
      episodes = positiveInt("--episodes", this.episodes);
      calls = positiveInt("--calls", this.calls);
      batch = positiveInt("--batch", this.batch);
      threads = this.threads === undefined ? undefined : positiveInt("--threads", this.threads);
    } catch (error) {
      writeLine(stderr, `cis490 publish perf: ${(error as Error).message}`);
      return EXIT_USAGE;
    }
    try {
      const r = await measurePerf({ artifacts: this.artifacts, store: this.store, acceptance: this.acceptance, episodes, calls, batch, threads });
      for (const f of r.failures) writeLine(stderr, `not measured: ${f}`);
      if (r.events.length === 0) {
        writeLine(stderr, "cis490 publish perf: no checkpoint could be measured");
        return EXIT_FAILURE;
      }
      if (this.dryRun) {
        for (const e of r.events) writeLine(stdout, JSON.stringify(e));
        return r.failures.length ? EXIT_FAILURE : EXIT_OK;
      }
      const s = await sendAll(await target(this.url, this.tokenFile), r.events);
      report(stdout, this.json, "model_perf", s, { windows: r.windows, failures: r.failures, measured: r.events });
      if (!this.json) for (const e of r.events) writeLine(stdout, `${e.model}_${e.mode}: p50 ${e.latency_ms.p50} ms, p99 ${e.latency_ms.p99} ms, ${e.windows_per_s} windows/s, ${e.params} params (${r.windows} windows)`);
      return s.fatal || s.rejected.length || r.failures.length ? EXIT_FAILURE : EXIT_OK;
    } catch (error) {
      writeLine(stderr, `cis490 publish perf: ${(error as Error).message}`);
      return EXIT_FAILURE;
    }
  }
}
