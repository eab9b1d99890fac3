// `cis490 publish profiles`: attack_profile events, one representative accepted episode per profile.

import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, parseJobs, parseNonNegative, writeLine } from "../../io/command-support.js";
import { profilesFromStore } from "../../dashboard/producers/profiles.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { publishOptions, report, target } from "./publish-support.js";

export class PublishProfilesCommand extends Command {
  static paths = [["publish", "profiles"]];

  static usage = Command.Usage({
    description: "Publish the six attack_profile curves: each profile's signature channel in a representative accepted episode, 80 points on the t_wall_ns clock.",
    details: `
      The representative is the medoid of up to \`--candidates\` accepted episodes of the profile that observe its signature channel (docs/dashboard.md lists the channels). A profile with no such episode is reported and not published. With \`--interval S\` the curves are recomputed and re-published every S seconds until SIGINT/SIGTERM; 0 (the default) publishes once.

      Exit codes: 0 when published; 1 when the store or acceptance index is unusable, no profile has a curve, or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [["Publish once", "$0 publish profiles --store data/corpus --acceptance data/acceptance.parquet"]],
  });

  store = Option.String("--store", { required: true, description: "Episode store directory" });
  acceptance = Option.String("--acceptance", { required: true, description: "acceptance.parquet from cis490 validate" });
  interval = Option.String("--interval", "0", { description: "Re-publish every S seconds (0 = once, the default)" });
  candidates = Option.String("--candidates", "12", { description: "Accepted episodes considered per profile (default 12)" });
  jobs = Option.String("--jobs", { description: "Featurizer threads (default: all cores)" });
  o = publishOptions();
  url = this.o.url;
  tokenFile = this.o.tokenFile;
  dryRun = this.o.dryRun;
  json = this.o.json;

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let interval: number;
    let candidates: number;
    let jobs: number;
    try {
      interval = parseNonNegative("--interval", this.interval, 0);
      candidates = parseNonNegative("--candidates", this.candidates, 12);
      if (!Number.isInteger(candidates) || candidates < 1) throw new OptionError("--candidates must be a positive integer");
      jobs = parseJobs(this.jobs);
    } catch (error) {
      writeLine(stderr, `cis490 publish profiles: ${(error as Error).message}`);
      return EXIT_USAGE;
    }
    let stop = false;
    let wake: () => void = () => {};
    const onSignal = () => {
      stop = true;
      wake();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const t = this.dryRun ? null : await target(this.url, this.tokenFile);
      for (;;) {
        const { events, outcomes } = await profilesFromStore({ store: this.store, acceptance: this.acceptance, candidates, jobs });
        for (const o of outcomes) if (o.reason) writeLine(stderr, `${o.profile}: not published (${o.reason})`);
        if (events.length === 0) {
          writeLine(stderr, "cis490 publish profiles: no profile has a curve");
          return EXIT_FAILURE;
        }
        if (!t) {
          for (const e of events) writeLine(stdout, JSON.stringify(e));
          return EXIT_OK;
        }
        const r = await sendAll(t, events);
        report(stdout, this.json, "attack_profile", r, { outcomes });
        if (r.fatal) return EXIT_FAILURE;
        if (interval === 0 || stop) return r.rejected.length ? EXIT_FAILURE : EXIT_OK;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval * 1000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (stop) return EXIT_OK;
      }
    } catch (error) {
      writeLine(stderr, `cis490 publish profiles: ${(error as Error).message}`);
      return EXIT_FAILURE;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}
