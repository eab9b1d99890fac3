// `cis490 synth`: writes the deterministic synthetic episode store that the
// demo and the tests run on. Parsing and reporting only; the work is in src/synth.

import { Command, Option } from "clipanion";
import { BaseCommand, type Reporter } from "../command.js";
import { isIntegerAtLeast, isJobCount, isOneOf, jobsOrDefault } from "../options.js";
import type { Progress } from "../progress.js";
import { FAULT_MODES, type FaultMode } from "../../synth/plan.js";
import { synthStore, validateParams, type SynthSummary } from "../../synth/store.js";
import { UsageError } from "../../util/errors.js";

export class SynthCommand extends BaseCommand<SynthSummary & { seed: string }> {
  static paths = [["synth"]];

  static usage = Command.Usage({
    description: "generate a deterministic, realistic synthetic episode store",
    details: `
      Writes \`DIR/index.jsonl\` and \`DIR/<host_id>/<episode_id>.tar.zst\`, following the episode
      store contract (docs/data-contract.md), and \`DIR/.synth.json\`, the manifest of what was
      injected into each episode and what a validation sweep and a prune run must find.

      The same arguments always give a byte-identical store, whatever \`--jobs\` is. If DIR already
      holds a complete store made with the same arguments, nothing is written (use \`--force\`).

      \`--faults standard\` (the default here, so the demo corpus exercises every validation class
      and prune reason) injects the fleet's known faults at small rates, each at least once in a
      store of 60 episodes or more; \`--faults none\` writes clean episodes only.
    `,
    examples: [
      ["Write the demo corpus", "$0 synth --out data/corpus --episodes 2000 --seed 490"],
      ["A small clean store, summary as JSON", "$0 synth --out /tmp/s --episodes 30 --seed 1 --faults none --json"],
    ],
  });

  out = Option.String("--out", { required: true, description: "store directory to write" });
  episodes = Option.String("--episodes", { required: true, validator: isIntegerAtLeast(1), description: "number of episodes" });
  seed = Option.String("--seed", { required: true, description: "seed (non-negative integer)" });
  faults = Option.String("--faults", { validator: isOneOf(FAULT_MODES), description: "none | standard (default: standard)" });
  hosts = Option.String("--hosts", { validator: isIntegerAtLeast(1), description: "number of lab hosts, 1-8 (default: 3)" });
  jobs = Option.String("--jobs", { validator: isJobCount, description: "worker threads (default: available cores)" });
  force = Option.Boolean("--force", false, { description: "regenerate even if the store is already there" });

  protected async run(reporter: Reporter): Promise<SynthSummary & { seed: string }> {
    const params = { episodes: this.episodes, seed: this.seed, faults: this.faults ?? ("standard" as FaultMode), hosts: this.hosts ?? 3 };
    const problem = validateParams(params);
    if (problem) throw new UsageError(problem);

    // One display, created at the first callback (the total is known only then).
    let progress: Progress | null = null;
    let reported = 0;
    const onProgress = (done: number, total: number): void => {
      progress ??= reporter.progress("synth", total);
      progress.tick(done - reported);
      reported = done;
      if (done === total) progress.finish();
    };
    const summary = await synthStore({ ...params, out: this.out, jobs: jobsOrDefault(this.jobs), force: this.force, onProgress });
    return { ...summary, seed: params.seed };
  }

  protected toJson({ seed: _seed, ...summary }: SynthSummary & { seed: string }): unknown {
    return summary;
  }

  protected render(s: SynthSummary & { seed: string }): string {
    if (s.reused) return `synth: ${s.out} already holds this store (${s.episodes} episodes, seed ${s.seed}); nothing to do (--force regenerates)`;
    const faulted = Object.values(s.faults).reduce((a, b) => a + b, 0);
    const hosts = Object.entries(s.hosts).map(([h, n]) => `${h} ${n}`).join(", ");
    const classes = Object.entries(s.classes).map(([c, n]) => `${c} ${n}`).join(", ");
    return (
      `synth: wrote ${s.episodes} episodes to ${s.out} in ${s.seconds.toFixed(1)} s (${s.jobs} jobs)\n` +
      `  hosts: ${hosts}\n  expected classes: ${classes}\n  injected faults: ${faulted} (see ${s.out}/.synth.json)\n`
    );
  }
}
