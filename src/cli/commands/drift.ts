// `cis490 drift`: are new windows still like the ones a model was trained on? (src/drift/)

import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { isIntegerAtLeast, isListOf, isNumberAtLeast, isNumberInRange, isOneOf } from "../options.js";
import { formatTable } from "../text-table.js";
import { runDrift, type DriftRunResult } from "../../drift/run.js";
import { DEFAULT_DRIFT } from "../../drift/report.js";
import { SIDES } from "../../train/windows.js";
import { UsageError } from "../../util/errors.js";
import { registryOption } from "./registry-common.js";

const d = DEFAULT_DRIFT;

export class DriftCommand extends BaseCommand<DriftRunResult> {
  static paths = [["drift"]];

  static usage = Command.Usage({
    description: "Drift of new feature windows against a registered model's training baseline, overall or per host/profile.",
    details: `
      The baseline is stored with each registered version: a p1..p99 quantile digest of every input feature over the training windows (plus mean, std, missing fraction) and a sample of 2,000 training windows.

      Per feature: the KS distance to the digest (rank error 0.005) and a missing-fraction test, each at alpha/(2m) (Bonferroni over the m features; windows of one episode are correlated, so the KS sample size is the windows divided by the feature's design effect 1 + (m-1) rho, and the missing-fraction test counts episodes); PSI over bins cut at the reference deciles plus a missing bin (< 0.1 stable, 0.1-0.25 moderate, > 0.25 major). Whole set: the share of drifted features, and a domain classifier (XGBoost, reference sample vs new windows, ${d.domainFolds}-fold grouped by episode) with its out-of-fold ROC AUC and an episode-bootstrap 95% interval.

      A group is drifted, with the reasons listed, when: at least --min-features (${d.minDriftedFeatures}) features drift; or the drifted share reaches --share (off by default); or a PSI exceeds --psi (${d.psiThreshold}) in a group of at least --psi-min-windows (${d.psiMinWindows}) windows; or the domain AUC interval lies above --auc (${d.domainAuc}).

      \`--split\` with \`--sides\` (default val,test) compares only those episodes: e.g. the training hosts' validation windows and a held-out test host. The result is logged in the registry's decision log. Exit codes: 0 checked (drift or not; see "drifted"); 1 unusable inputs; 2 usage error.
    `,
    examples: [
      ["Per host, against the current GBT", "$0 drift --model gbt_realistic --features new/features_window.parquet --by host"],
      ["Validation and test windows of a split", "$0 drift --model gbt_realistic@current --features data/processed/features_window.parquet --split data/processed/split_host.parquet --by host"],
    ],
  });

  registry = registryOption();
  model = Option.String("--model", { required: true, description: "NAME[@alias|@version] (default alias current)" });
  features = Option.String("--features", { required: true, description: "features_window.parquet of the new windows" });
  by = Option.String("--by", "none", { validator: isOneOf(["none", "host", "profile"] as const), description: "Group by host or profile (default: one group)" });
  split = Option.String("--split", { description: "Only episodes of --sides of this split assignment" });
  sides = Option.String("--sides", { validator: isListOf(SIDES), description: "Split sides to read with --split (default val,test)" });
  alpha = Option.String("--alpha", { validator: isNumberInRange(0, 1), description: `Family-wise error rate per group (default ${d.alpha})` });
  unit = Option.String("--unit", { validator: isOneOf(["effective", "episode", "window"] as const), description: "Sample size for the KS tests: effective (default: windows / design effect), episode or window" });
  minFeatures = Option.String("--min-features", { validator: isIntegerAtLeast(1), description: `Drifted features that make a group drifted (default ${d.minDriftedFeatures})` });
  share = Option.String("--share", { validator: isNumberInRange(0, 1.000001), description: "Drifted share that makes a group drifted (default off)" });
  psi = Option.String("--psi", { validator: isNumberAtLeast(0), description: `PSI threshold (default ${d.psiThreshold})` });
  psiMinWindows = Option.String("--psi-min-windows", { validator: isIntegerAtLeast(0), description: `Windows a group needs for the PSI rule (default ${d.psiMinWindows})` });
  auc = Option.String("--auc", { validator: isNumberInRange(0, 1), description: `Domain AUC the interval must clear (default ${d.domainAuc})` });
  noDomain = Option.Boolean("--no-domain", false, { description: "Skip the domain classifier" });
  resamples = Option.String("--resamples", { validator: isIntegerAtLeast(1), description: `Bootstrap resamples of the domain AUC (default ${d.resamples})` });
  threads = Option.String("--threads", { validator: isIntegerAtLeast(1), description: "XGBoost threads (default 1)" });
  allFeatures = Option.Boolean("--all-features", false, { description: "List every feature, not only the drifted ones" });

  protected async run() {
    if (this.sides !== undefined && this.split === undefined) throw new UsageError("--sides needs --split");
    return runDrift({
      model: this.model,
      registry: this.registry,
      features: resolve(this.features),
      by: this.by,
      split: this.split ? resolve(this.split) : undefined,
      sides: this.sides,
      allFeatures: this.allFeatures,
      settings: {
        alpha: this.alpha,
        unit: this.unit,
        minDriftedFeatures: this.minFeatures,
        driftedShare: this.share,
        psiThreshold: this.psi,
        psiMinWindows: this.psiMinWindows,
        domainAuc: this.auc,
        domain: !this.noDomain,
        resamples: this.resamples,
        threads: this.threads,
      },
    });
  }

  protected render(r: DriftRunResult): string {
    const rows = r.groups.map((g) => [
      g.key,
      g.n_windows,
      g.n_episodes,
      g.drifted ? "DRIFTED" : "no",
      `${g.drifted_features} (${(100 * g.drifted_share).toFixed(1)}%)`,
      `${g.ks_max.toFixed(3)} ${g.ks_max_feature ?? ""}`,
      `${g.psi_max.toFixed(3)} ${g.psi_max_feature ?? ""}`,
      g.domain_auc ? `${g.domain_auc.auc.toFixed(3)} [${g.domain_auc.lo?.toFixed(3)}, ${g.domain_auc.hi?.toFixed(3)}]` : "-",
    ]);
    const out = [`Drift of ${r.features} against ${r.model}@${r.version} (baseline: ${r.reference.windows} training windows, ${r.reference.episodes} episodes, ${r.reference.features} features)`];
    out.push(formatTable(["group", "windows", "episodes", "drifted", "drifted features", "KS max", "PSI max", "domain AUC [95% CI]"], rows));
    for (const g of r.groups) for (const reason of g.reasons) out.push(`  ${g.key}: ${reason}`);
    return out.join("\n");
  }
}
