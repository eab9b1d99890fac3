// `cis490 synth`: writes the deterministic synthetic episode store that the
// demo and the tests run on. Parsing and reporting only; the work is in src/synth.

import { availableParallelism } from "node:os";
import { Command, Option } from "clipanion";
import type { FaultMode } from "../../synth/plan.js";
import { SynthError, synthStore, validateParams } from "../../synth/store.js";
import { ProgressBar, type ProgressStream } from "../progress.js";

export class SynthCommand extends Command {
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
  episodes = Option.String("--episodes", { required: true, description: "number of episodes" });
  seed = Option.String("--seed", { required: true, description: "seed (non-negative integer)" });
  faults = Option.String("--faults", "standard", { description: "none | standard (default: standard)" });
  hosts = Option.String("--hosts", "3", { description: "number of lab hosts, 1-8 (default: 3)" });
  jobs = Option.String("--jobs", { description: "worker threads (default: available cores)" });
  force = Option.Boolean("--force", false, { description: "regenerate even if the store is already there" });
  json = Option.Boolean("--json", false, { description: "print a JSON summary on stdout" });

  async execute(): Promise<number> {
    const params = {
      episodes: toInt(this.episodes),
      seed: this.seed,
      faults: this.faults as FaultMode,
      hosts: toInt(this.hosts),
    };
    const jobs = this.jobs === undefined ? availableParallelism() : toInt(this.jobs);
    const problem = validateParams(params) ?? (Number.isInteger(jobs) && jobs >= 1 ? null : "--jobs must be an integer >= 1");
    if (problem) {
      this.context.stderr.write(`cis490 synth: ${problem}\n`);
      return 2;
    }

    // One bar, created at the first callback (the total is known only then).
    let progress: ProgressBar | null = null;
    let reported = 0;
    const onProgress = (done: number, total: number): void => {
      progress ??= new ProgressBar(this.context.stderr as unknown as ProgressStream, total, "synth");
      progress.tick(done - reported);
      reported = done;
      if (done === total) progress.finish();
    };

    let summary;
    try {
      summary = await synthStore({ ...params, out: this.out, jobs, force: this.force, onProgress });
    } catch (error) {
      if (error instanceof SynthError) {
        this.context.stderr.write(`cis490 synth: ${error.message}\n`);
        return 1;
      }
      throw error;
    }

    if (this.json) {
      this.context.stdout.write(JSON.stringify(summary) + "\n");
    } else if (summary.reused) {
      this.context.stdout.write(
        `synth: ${summary.out} already holds this store (${summary.episodes} episodes, seed ${params.seed}); nothing to do (--force regenerates)\n`,
      );
    } else {
      const faulted = Object.values(summary.faults).reduce((a, b) => a + b, 0);
      const hosts = Object.entries(summary.hosts).map(([h, n]) => `${h} ${n}`).join(", ");
      const classes = Object.entries(summary.classes).map(([c, n]) => `${c} ${n}`).join(", ");
      this.context.stdout.write(
        `synth: wrote ${summary.episodes} episodes to ${summary.out} in ${summary.seconds.toFixed(1)} s (${summary.jobs} jobs)\n` +
          `  hosts: ${hosts}\n  expected classes: ${classes}\n  injected faults: ${faulted} (see ${summary.out}/.synth.json)\n`,
      );
    }
    return 0;
  }
}

function toInt(text: string): number {
  return /^\s*[0-9]+\s*$/.test(text) ? Number(text) : NaN;
}
