// `cis490 publish profiles`: attack_profile events, one representative accepted episode per profile.

import { Command, Option } from "clipanion";
import { profilesFromStore } from "../../dashboard/producers/profiles.js";
import { sendAll } from "../../dashboard/producers/send.js";
import { CliError } from "../../util/errors.js";
import type { Reporter } from "../command.js";
import { isIntegerAtLeast, isJobCount, isNumberAtLeast, jobsOrDefault } from "../options.js";
import { PublishCommand, type PublishOutcome } from "./publish-support.js";

export class PublishProfilesCommand extends PublishCommand {
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
  interval = Option.String("--interval", { validator: isNumberAtLeast(0), description: "Re-publish every S seconds (0 = once, the default)" });
  candidates = Option.String("--candidates", { validator: isIntegerAtLeast(1), description: "Accepted episodes considered per profile (default 12)" });
  jobs = Option.String("--jobs", { validator: isJobCount, description: "Featurizer threads (default: all cores)" });

  /** Publishes once, or every --interval seconds until SIGINT/SIGTERM; the result is the last round's. */
  protected async publish(reporter: Reporter): Promise<PublishOutcome> {
    const interval = this.interval ?? 0;
    let stop = false;
    let wake: () => void = () => {};
    const onSignal = () => {
      stop = true;
      wake();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const t = this.dryRun ? null : await this.target();
      for (;;) {
        const { events, outcomes } = await profilesFromStore({ store: this.store, acceptance: this.acceptance, candidates: this.candidates ?? 12, jobs: jobsOrDefault(this.jobs) });
        for (const o of outcomes) if (o.reason) reporter.info(`${o.profile}: not published (${o.reason})`);
        if (events.length === 0) throw new CliError("no profile has a curve");
        if (!t) return this.printEvents("attack_profile", events);
        const outcome: PublishOutcome = { what: "attack_profile", sent: await sendAll(t, events), extra: { outcomes } };
        if (outcome.sent!.fatal || interval === 0 || stop) return outcome;
        reporter.info(`published ${outcome.sent!.published} attack_profile event(s); again in ${interval} s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval * 1000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (stop) return outcome;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}
