// A plausible Comparison for report tests: two model kinds in both modes, one
// untested profile, one significant pair and one failed checkpoint; an
// infected-vs-clean view and episode verdicts for each, and one anomaly
// detector.

import { PHASES, PROFILES } from "../../src/episode/report.js";
import type { AnomalyEval, AnomalyModelEval, Comparison, EpisodeVerdicts, ModelEval } from "../../src/eval/result.js";

/** An infected-vs-clean block whose ROC curve is tpr = fpr^(1/k) (k > 1: better than chance). */
export function anomalyBlock(auc: number, k: number): AnomalyEval {
  const interval = (p: number) => ({ point: p, lo: p - 0.02, hi: Math.min(1, p + 0.015) });
  const fpr = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
  const slice = (key: string) =>
    key === "scan-and-dial"
      ? { key, status: "untested" as const, reason: "no test windows", n_windows: 0, n_episodes: 0, positives: 0, negatives: 0, roc_auc: null, pr_auc: null, tpr_at_1pct_fpr: null }
      : { key, status: "tested" as const, reason: null, n_windows: 600, n_episodes: 70, positives: 530, negatives: 70, roc_auc: interval(auc), pr_auc: interval(0.98), tpr_at_1pct_fpr: interval(0.01 ** (1 / k)) };
  return {
    score: "1 - P(clean)",
    n_windows: 3800,
    n_episodes: 420,
    positives: 3380,
    negatives: 420,
    roc_auc: interval(auc),
    pr_auc: interval(0.98),
    tpr_at_1pct_fpr: interval(0.01 ** (1 / k)),
    by_host: [slice("k-gamingcom")],
    by_profile: PROFILES.map(slice),
    roc_curve: { fpr, tpr: fpr.map((x) => x ** (1 / k)) },
  };
}

function verdicts(tpr: number): EpisodeVerdicts {
  return {
    policy: { description: "alert when P(infecting) + P(infected_running) >= 0.5 in 2 consecutive windows", threshold: 0.5, consecutive: 2, signal: "P(infecting) + P(infected_running)" },
    episodes: 420,
    positives: 420,
    detected: Math.round(420 * tpr),
    tpr: { point: tpr, lo: tpr - 0.02, hi: tpr + 0.01 },
    negatives: 0,
    false_positives: 0,
    fpr: { point: null, lo: null, hi: null },
    pre_infection: { episodes: 420, alarmed: 12, rate: { point: 12 / 420, lo: 0.01, hi: 0.05 } },
    resamples: 1000,
  };
}

function anomalyModel(): AnomalyModelEval {
  return {
    name: "eif_realistic",
    model: "eif",
    mode: "realistic",
    kind: "anomaly",
    checkpoint: "artifacts/eif_realistic.anomaly-ckpt.json",
    schema_hash: "abc",
    split: { path: "split_host.parquet", recipe: "host", untested_profiles: ["scan-and-dial"] },
    unit: "episode",
    resamples: 1000,
    seed: 0,
    n_windows: 3800,
    n_episodes: 420,
    macro_f1: null,
    macro_f1_note: "an anomaly detector gives a score, not phases: it has no macro F1 (not 0)",
    threshold: 0.61,
    promotable: true,
    alarm_rate: { clean: 0.01, infected: 0.3 },
    anomaly: { ...anomalyBlock(0.87, 3), score: "eif anomaly score" },
    episodes: verdicts(0.4),
    warnings: [],
  };
}

function model(kind: string, mode: "realistic" | "oracle", f: number): ModelEval {
  const interval = (p: number) => ({ point: p, lo: p - 0.04, hi: p + 0.035 });
  const matrix = PHASES.map((_, i) => PHASES.map((_, j) => (i === j ? Math.round(200 * f) : Math.round(20 * (1 - f) * ((i + j) % 3)))));
  const split = { path: "split_host.parquet", recipe: "host", untested_profiles: ["scan-and-dial"] };
  return {
    name: `${kind}_${mode}`,
    model: kind,
    mode,
    // Not a path under the repository: after `make demo`, artifacts/gbt_realistic.ckpt.json really exists.
    checkpoint: `/nonexistent/artifacts/${kind}_${mode}.ckpt.json`,
    schema_hash: "abc",
    split,
    unit: "episode",
    resamples: 1000,
    seed: 0,
    trained_labels: { phases: [...PHASES], source: "trained_labels" },
    n_windows: 3800,
    n_episodes: 420,
    macro_f1: interval(f),
    per_class: PHASES.map((p, i) => ({ label: i, name: p, f1: interval(f - i * 0.02), precision: f, recall: f - 0.05, support: 600 })),
    confusion: { labels: [...PHASES], matrix },
    per_profile: PROFILES.map((p, i) =>
      p === "scan-and-dial"
        ? { key: p, status: "untested" as const, n_windows: 0, n_episodes: 0, macro_f1: null }
        : { key: p, status: "tested" as const, n_windows: 600, n_episodes: 70, macro_f1: interval(f - 0.03 * i) },
    ),
    per_host: [{ key: "k-gamingcom", status: "tested", n_windows: 3800, n_episodes: 420, macro_f1: interval(f) }],
    per_phase: PHASES.map((p) => ({ phase: p, precision: f, recall: f - 0.1, support: 600 })),
    detection: { infected_episodes: 400, detected: Math.round(400 * f), rate: f, median_delay_s: 3.5 },
    anomaly: anomalyBlock(0.9 + f / 10, 4 + 10 * f),
    episodes: verdicts(f + 0.2),
    drop_noisy: null,
    warnings: [],
  };
}

export function sampleComparison(): Comparison {
  const models = [model("gbt", "realistic", 0.71), model("gbt", "oracle", 0.78), model("gru", "realistic", 0.66), model("gru", "oracle", 0.74)];
  return {
    split: models[0].split,
    unit: "episode",
    resamples: 1000,
    labels: { mode: "trained", phases: [...PHASES] },
    models,
    anomaly_models: [anomalyModel()],
    drop_noisy_pairs: [],
    significance: [
      { a: "gbt_realistic", b: "gru_realistic", diff: { point: 0.05, lo: 0.01, hi: 0.09 }, excludes_zero: true },
      { a: "gbt_oracle", b: "gbt_realistic", diff: { point: 0.07, lo: -0.01, hi: 0.1 }, excludes_zero: false },
    ],
    failures: [{ checkpoint: "artifacts/lstm_oracle.ckpt.json", error: "feature schema hash mismatch: checkpoint 1234 vs features 5678" }],
  };
}
