// `cis490 eval`: every checkpoint on the test side of a split, with bootstrap
// intervals, breakdowns, pairwise significance and a report (src/eval/run.ts).

import { Command, Option } from "clipanion";
import { BaseCommand, type Reporter } from "../command.js";
import { isIntegerInRange, isOneOf } from "../options.js";
import { formatTable } from "../text-table.js";
import { runEval } from "../../eval/run.js";
import { fmtInterval, fmtPercent } from "../../eval/report/format.js";
import type { AnomalyEval, Comparison, EpisodeVerdicts } from "../../eval/result.js";
import { displayModel, dropNoisyTable, episodeTable, infectedTable } from "../../eval/report/tables.js";
import { attachEval } from "../../registry/api.js";
import { DEFAULT_REGISTRY, resolveModelRef } from "../../registry/refs.js";

interface EvalReport {
  split: Comparison["split"];
  unit: "episode" | "window";
  resamples: number;
  labels: Comparison["labels"];
  models: Array<{ name: string; model: string; mode: string; macro_f1: unknown; detection_rate: number | null; median_delay_s: number | null; anomaly: AnomalySummary | null; episodes: EpisodeSummary | null; drop_noisy: unknown; warnings: string[] }>;
  /** Anomaly detectors: infected vs clean only (macro_f1 is null: they predict no phases). */
  anomaly_models: Array<{ name: string; model: string; mode: string; macro_f1: null; macro_f1_note: string; promotable: boolean | null; anomaly: AnomalySummary | null; episodes: EpisodeSummary | null; warnings: string[] }>;
  significance: Comparison["significance"];
  drop_noisy_pairs: Comparison["drop_noisy_pairs"];
  failures: Comparison["failures"];
  files: string[];
  /** Text-only details (left out of --json). */
  comparison: Comparison;
}

type AnomalySummary = Pick<AnomalyEval, "roc_auc" | "pr_auc" | "tpr_at_1pct_fpr" | "positives" | "negatives" | "by_host" | "by_profile">;
type EpisodeSummary = Pick<EpisodeVerdicts, "policy" | "positives" | "detected" | "tpr" | "negatives" | "false_positives" | "fpr" | "pre_infection">;

function anomalySummary(a: AnomalyEval | null): AnomalySummary | null {
  if (!a) return null;
  const { roc_auc, pr_auc, tpr_at_1pct_fpr, positives, negatives, by_host, by_profile } = a;
  return { roc_auc, pr_auc, tpr_at_1pct_fpr, positives, negatives, by_host, by_profile };
}

function episodeSummary(e: EpisodeVerdicts | null): EpisodeSummary | null {
  if (!e) return null;
  const { policy, positives, detected, tpr, negatives, false_positives, fpr, pre_infection } = e;
  return { policy, positives, detected, tpr, negatives, false_positives, fpr, pre_infection };
}

export class EvalCommand extends BaseCommand<EvalReport> {
  static paths = [["eval"]];

  static usage = Command.Usage({
    description: "Evaluate every checkpoint on the test split: macro F1 with bootstrap CIs, breakdowns, significance, report.",
    details: `
      Loads each \`*.ckpt.json\` (and \`*.anomaly-ckpt.json\`) in \`--artifacts\`, refuses checkpoints whose feature-schema hash differs from the features' (and checkpoints trained on another split, which may have seen the test episodes), predicts every test window, and writes to \`--out\`:

      - \`<model>_<mode>_eval.json\`: macro and per-class F1 with percentile bootstrap 95% intervals, confusion matrix, per-profile and per-host tables (profiles without test windows are "untested", never averaged in), per-phase precision/recall, episode-level detection rate and median detection delay;
      - \`predictions.parquet\`: one row per test window per model (ids, truth, prediction, class probabilities);
      - \`comparison.md\`, \`comparison.html\` (charts as inline SVG, opens offline) and \`comparison.json\`, with a paired-bootstrap significance matrix between models.

      Infected vs clean, for every model: each test window is a positive when its true phase is not \`clean\`; phase classifiers are scored by 1 − P(clean), anomaly detectors (\`*.anomaly-ckpt.json\` in \`--artifacts\`, e.g. \`eif_realistic.anomaly-ckpt.json\`; they predict no phases, so they have no macro F1) by their anomaly score. ROC AUC, PR AUC and TPR at 1% FPR with bootstrap intervals, overall, per host and per profile (a profile without both classes is untested), in each eval JSON's \`anomaly\` block, with the ROC curves side by side in the report.

      Episode verdicts: the default alert policy (src/deploy/alert.ts; anomaly detectors: their calibrated alarm, same run length) over each test episode's windows; an infected episode is detected when the alert holds at an infecting / infected_running window (before \`dormant\`). Episode TPR, FPR (episodes without infection windows) and the pre-infection alarm rate, with episode-bootstrap intervals (\`episodes\`).

      Plain vs --drop-noisy: a checkpoint trained with \`train --drop-noisy\` is reported as \`<model>_<mode>_drop-noisy\`; with its plain twin in the same eval (e.g. \`--model artifacts/gbt_realistic.ckpt.json --model artifacts/dropnoisy/gbt_realistic.ckpt.json\`), the report pairs them with their paired-bootstrap macro F1 difference (\`drop_noisy_pairs\`).

      Macro F1 averages over one fixed class list for every model compared: the union of the phases the evaluated models were trained on (recorded in each checkpoint). A listed phase with no test window and no prediction scores 0, as in scikit-learn's \`f1_score(labels=...)\`. \`--labels union\` uses scikit-learn's default instead, the phases present in truth or each model's predictions, which can differ between the models of one comparison.

      \`--model NAME[@alias|@version]\` (repeatable) evaluates registered versions instead of the whole \`--artifacts\` directory (see \`cis490 registry\`); each one's \`<model>_<mode>_eval.json\` is also stored with its version in the registry.

      The resampling unit defaults to the episode: windows of one episode are correlated, and resampling windows gives intervals that are too narrow. \`--unit window\` is there to compare with tools that do it that way.

      Exit codes: 0 when the report was written (failed checkpoints are listed in it); 1 when nothing could be evaluated (no checkpoints, none of them usable, empty test split, unreadable inputs; no report is written); 2 on usage errors.
    `,
    examples: [["Evaluate the host split", "$0 eval --artifacts artifacts --features data/processed/features_window.parquet --tensors data/processed/tensors --split data/processed/split_host.parquet --out reports/eval"]],
  });

  artifacts = Option.String("--artifacts", "artifacts", { description: "Directory of checkpoints (default: artifacts)" });
  features = Option.String("--features", "data/processed/features_window.parquet", { description: "features_window.parquet" });
  tensors = Option.String("--tensors", { description: "Tensor shard directory (needed by sequence models; default: tensors/ beside the features)" });
  split = Option.String("--split", "data/processed/split_host.parquet", { description: "Split assignment Parquet" });
  out = Option.String("--out", "reports/eval", { description: "Output directory (default: reports/eval)" });
  resamples = Option.String("--resamples", { validator: isIntegerInRange(1, 10_000_000), description: "Bootstrap resamples (default 1000)" });
  unit = Option.String("--unit", { validator: isOneOf(["episode", "window"] as const), description: "Resampling unit: episode (default) or window" });
  seed = Option.String("--seed", { validator: isIntegerInRange(0, 0xffffffff), description: "Bootstrap seed (default 0)" });
  labels = Option.String("--labels", { validator: isOneOf(["trained", "union"] as const), description: "Macro F1's classes: trained (default; the union of the models' trained phases) or union (scikit-learn's default)" });
  model = Option.Array("--model", { description: "Evaluate only this model: NAME[@alias|@version] from --registry, or a checkpoint path (repeatable); results are stored with the registered version" });
  registry = Option.String("--registry", DEFAULT_REGISTRY, { description: `Registry for --model (default ${DEFAULT_REGISTRY})` });

  protected async run(reporter: Reporter): Promise<EvalReport> {
    const resamples = this.resamples ?? 1000;
    const unit = this.unit ?? "episode";
    const tensors = this.tensors ?? this.features.replace(/[^/]*$/, "tensors");
    const resolved = this.model ? await Promise.all(this.model.map((m) => resolveModelRef(m, { registry: this.registry, loadedBy: "eval" }))) : undefined;
    const { comparison, files } = await runEval({
      artifacts: this.artifacts,
      checkpoints: resolved?.map((r) => r.checkpoint),
      features: this.features,
      tensors,
      split: this.split,
      out: this.out,
      resamples,
      seed: this.seed ?? 0,
      unit,
      labelMode: this.labels ?? "trained",
      onModel: (ckpt, i, n) => reporter.info(`[${i + 1}/${n}] ${ckpt}`),
    });
    for (const r of resolved ?? []) {
      const m = comparison.models.find((x) => x.checkpoint === r.checkpoint);
      if (m && r.name && r.version) files.push(await attachEval(this.registry, r.name, r.version, m));
    }
    return {
      split: comparison.split,
      unit,
      resamples,
      labels: comparison.labels,
      models: comparison.models.map((m) => ({
        name: m.name,
        model: m.model,
        mode: m.mode,
        macro_f1: m.macro_f1,
        detection_rate: m.detection.rate,
        median_delay_s: m.detection.median_delay_s,
        anomaly: anomalySummary(m.anomaly),
        episodes: episodeSummary(m.episodes),
        drop_noisy: m.drop_noisy,
        warnings: m.warnings,
      })),
      anomaly_models: comparison.anomaly_models.map((m) => ({
        name: m.name,
        model: m.model,
        mode: m.mode,
        macro_f1: null,
        macro_f1_note: m.macro_f1_note,
        promotable: m.promotable,
        anomaly: anomalySummary(m.anomaly),
        episodes: episodeSummary(m.episodes),
        warnings: m.warnings,
      })),
      significance: comparison.significance,
      drop_noisy_pairs: comparison.drop_noisy_pairs,
      failures: comparison.failures,
      files,
      comparison,
    };
  }

  protected toJson({ comparison: _, ...doc }: EvalReport): unknown {
    return doc;
  }

  protected render(r: EvalReport): string {
    const c = r.comparison;
    const out: string[] = [];
    out.push(`Evaluated ${c.models.length + c.anomaly_models.length} model(s) on ${this.split} (${r.resamples} resamples, unit ${r.unit})`);
    out.push(`Macro F1 over ${c.labels.phases ? `the trained phases: ${c.labels.phases.join(", ")}` : "the phases present in truth or predictions (scikit-learn's default)"}`);
    out.push(
      formatTable(
        ["model", "mode", "macro F1 [95% CI]", "detected", "median delay s"],
        c.models.map((m) => [displayModel(m), m.mode, fmtInterval(m.macro_f1), fmtPercent(m.detection.rate), m.detection.median_delay_s?.toFixed(1) ?? "–"]),
      ).trimEnd(),
    );
    for (const t of [infectedTable(c), episodeTable(c), dropNoisyTable(c)]) {
      if (t) out.push("", t.title, formatTable(t.header, t.rows).trimEnd());
    }
    if (c.split.untested_profiles.length > 0) out.push(`Untested profiles on this split: ${c.split.untested_profiles.join(", ")}`);
    for (const f of c.failures) out.push(`not evaluated: ${f.checkpoint}: ${f.error}`);
    out.push(`Report: ${r.files.find((f) => f.endsWith(".html"))}`);
    return out.join("\n") + "\n";
  }
}
