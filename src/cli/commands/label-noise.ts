// `cis490 label-noise`: confident learning over the training side of a
// split (src/labelnoise/); lists the windows whose label looks wrong.

import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { isIntegerAtLeast, isOneOf } from "../options.js";
import { formatTable } from "../text-table.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { DEFAULT_LABEL_NOISE, findLabelNoise, type GroupCount, type LabelNoiseReport } from "../../labelnoise/run.js";
import { MODES, TrainError } from "../../train/types.js";
import { CliError } from "../../util/errors.js";

const USAGE = Command.Usage({
  description: "Find training windows whose phase label looks wrong (confident learning).",
  details: `
    Reads the training side of \`--split\` only (val and test windows are skipped before their values are read). Out-of-fold class probabilities come from k-fold XGBoost on the summary features of \`--mode\`, folds made of whole episodes. Per-class thresholds, the confident joint and prune-by-noise-rate then pick the flagged windows (docs/label-noise.md).

    The text report counts flagged / total windows by phase, profile and host. \`--json\` prints the report with \`"flagged": [{episode_id, window, given_phase, likely_phase, self_confidence}]\`, lowest self-confidence first; \`--out\` writes the same JSON (atomically) for \`cis490 train --drop-noisy\`.

    Exit codes: 0 when the report was made; 1 when the inputs are unusable; 2 on usage errors.
  `,
  examples: [["Flag suspicious training labels", "$0 label-noise --features data/processed/features_window.parquet --split data/processed/split_host.parquet --out noise.json"]],
});

export class LabelNoiseCommand extends BaseCommand<LabelNoiseReport> {
  static paths = [["label-noise"]];

  static usage = USAGE;

  features = Option.String("--features", { required: true, description: "features_window.parquet" });
  split = Option.String("--split", { required: true, description: "split_<recipe>.parquet" });
  folds = Option.String("--folds", { validator: isIntegerAtLeast(2), description: `Episode-grouped folds (default ${DEFAULT_LABEL_NOISE.folds})` });
  mode = Option.String("--mode", { validator: isOneOf(MODES), description: "realistic (default) or oracle feature set" });
  rounds = Option.String("--rounds", { validator: isIntegerAtLeast(1), description: `Boosting rounds per fold (default ${DEFAULT_LABEL_NOISE.rounds})` });
  seed = Option.String("--seed", { validator: isIntegerAtLeast(0), description: "Fold assignment and XGBoost seed (default 0)" });
  threads = Option.String("--threads", { validator: isIntegerAtLeast(1), description: "XGBoost threads (default 1)" });
  out = Option.String("--out", { description: "Write the JSON report here" });

  protected async run(): Promise<LabelNoiseReport> {
    let report: LabelNoiseReport;
    try {
      report = await findLabelNoise({
        ...DEFAULT_LABEL_NOISE,
        features: resolve(this.features),
        split: resolve(this.split),
        mode: this.mode ?? DEFAULT_LABEL_NOISE.mode,
        folds: this.folds ?? DEFAULT_LABEL_NOISE.folds,
        rounds: this.rounds ?? DEFAULT_LABEL_NOISE.rounds,
        seed: this.seed ?? DEFAULT_LABEL_NOISE.seed,
        threads: this.threads ?? DEFAULT_LABEL_NOISE.threads,
      });
    } catch (error) {
      if (error instanceof TrainError) throw new CliError(error.message);
      throw error;
    }
    if (this.out) await writeFileAtomic(resolve(this.out), JSON.stringify(report, null, 2) + "\n");
    return report;
  }

  protected render(r: LabelNoiseReport): string {
    const rows = (g: Record<string, GroupCount>) => Object.entries(g).map(([k, c]) => [k, c.flagged, c.total, c.total ? `${((100 * c.flagged) / c.total).toFixed(1)}%` : "-"]);
    const table = (title: string, g: Record<string, GroupCount>) => `\n${title}:\n` + formatTable([title.toLowerCase(), "flagged", "total", "share"], rows(g), ["left", "right", "right", "right"]);
    const out: string[] = [];
    out.push(`Label noise (confident learning, ${r.folds} episode-grouped folds, ${r.mode} features): ${r.flagged.length} of ${r.windows} training windows flagged (${r.episodes} episodes)\n`);
    out.push(`Estimated label-noise rate: ${(100 * r.estimated_noise_rate).toFixed(1)}%\n`);
    out.push(table("Phase", r.by_phase));
    out.push(table("Profile", r.by_profile));
    out.push(table("Host", r.by_host));
    const top = r.flagged.slice(0, 10);
    if (top.length) {
      out.push("\nLowest self-confidence:\n");
      out.push(formatTable(["episode", "window", "given", "likely", "self-confidence"], top.map((f) => [f.episode_id, f.window, f.given_phase, f.likely_phase, f.self_confidence.toFixed(3)]), ["left", "right", "left", "left", "right"]));
    }
    if (this.out) out.push(`\nReport: ${resolve(this.out)}\n`);
    return out.join("");
  }
}
