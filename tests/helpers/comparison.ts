// A plausible Comparison for report tests: two model kinds in both modes, one
// untested profile, one significant pair and one failed checkpoint.

import { PHASES, PROFILES } from "../../src/episode/report.js";
import type { Comparison, ModelEval } from "../../src/eval/result.js";

function model(kind: string, mode: "realistic" | "oracle", f: number): ModelEval {
  const interval = (p: number) => ({ point: p, lo: p - 0.04, hi: p + 0.035 });
  const matrix = PHASES.map((_, i) => PHASES.map((_, j) => (i === j ? Math.round(200 * f) : Math.round(20 * (1 - f) * ((i + j) % 3)))));
  const split = { path: "split_host.parquet", recipe: "host", untested_profiles: ["scan-and-dial"] };
  return {
    name: `${kind}_${mode}`,
    model: kind,
    mode,
    checkpoint: `artifacts/${kind}_${mode}.ckpt.json`,
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
    significance: [
      { a: "gbt_realistic", b: "gru_realistic", diff: { point: 0.05, lo: 0.01, hi: 0.09 }, excludes_zero: true },
      { a: "gbt_oracle", b: "gbt_realistic", diff: { point: 0.07, lo: -0.01, hi: 0.1 }, excludes_zero: false },
    ],
    failures: [{ checkpoint: "artifacts/lstm_oracle.ckpt.json", error: "feature schema hash mismatch: checkpoint 1234 vs features 5678" }],
  };
}
