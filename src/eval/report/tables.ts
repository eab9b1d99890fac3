// The report's tables as plain rows of strings, so the Markdown and HTML
// renderers show exactly the same numbers.

import type { AnomalyEval, AnomalyModelEval, AnomalySlice, BreakdownRow, Comparison, EpisodeVerdicts, ModelEval } from "../result.js";
import type { Interval } from "../../stats/types.js";
import { fmt, fmtInterval, fmtPercent } from "./format.js";

export interface TextTable {
  title: string;
  note?: string;
  header: string[];
  rows: string[][];
  /** Per cell, an optional CSS class for the HTML renderer ("untested", "sig-pos", ...). */
  classes?: (string | null)[][];
}

/** The model column: the kind, with what sets this checkpoint apart from its twin of the same kind and mode ("gbt (drop-noisy)"). */
export function displayModel(m: { name: string; model: string; mode: string }): string {
  const suffix = m.name.startsWith(`${m.model}_${m.mode}`) ? m.name.slice(`${m.model}_${m.mode}`.length).replace(/^[_-]/, "") : m.name;
  return suffix ? `${m.model} (${suffix})` : m.model;
}

/** Which classes macro F1 averages over, in words (the same for every model of the comparison). */
export function labelSetNote(c: Comparison): string {
  if (c.labels.phases === null) return "Classes: the phases present in truth or in each model's predictions (--labels union, scikit-learn's default); models may be scored over different classes.";
  return `Classes: ${c.labels.phases.join(", ")} (the phases the evaluated models were trained on, the same for every model; a phase with no test window and no prediction scores 0).`;
}

export function summaryTable(c: Comparison): TextTable {
  return {
    title: "Models",
    note: `Macro F1 on the test split with percentile bootstrap 95% intervals (${c.resamples} resamples, unit: ${c.unit}). ${labelSetNote(c)}`,
    header: ["model", "mode", "macro F1 [95% CI]", "test windows", "test episodes", "detected before dormant", "median delay (s)"],
    rows: c.models.map((m) => [
      displayModel(m),
      m.mode,
      fmtInterval(m.macro_f1),
      String(m.n_windows),
      String(m.n_episodes),
      `${m.detection.detected}/${m.detection.infected_episodes} (${fmtPercent(m.detection.rate)})`,
      fmt(m.detection.median_delay_s, 1),
    ]),
  };
}

/** Realistic vs oracle per model kind: what better sensors would buy. */
export function modeGapTable(c: Comparison): TextTable {
  const kinds = [...new Set(c.models.map((m) => m.model))];
  const rows = kinds.map((kind) => {
    const r = c.models.find((m) => m.model === kind && m.mode === "realistic" && !m.drop_noisy);
    const o = c.models.find((m) => m.model === kind && m.mode === "oracle" && !m.drop_noisy);
    const gap = r && o ? o.macro_f1.point - r.macro_f1.point : null;
    return [kind, r ? fmtInterval(r.macro_f1) : "–", o ? fmtInterval(o.macro_f1) : "–", gap === null ? "–" : (gap >= 0 ? "+" : "") + fmt(gap)];
  });
  return { title: "Realistic vs oracle", header: ["model", "realistic", "oracle", "oracle − realistic"], rows };
}

function breakdownTable(title: string, c: Comparison, pick: (m: ModelEval) => BreakdownRow[], note: string): TextTable {
  const keys = [...new Set(c.models.flatMap((m) => pick(m).map((r) => r.key)))].sort();
  const rows: string[][] = [];
  const classes: (string | null)[][] = [];
  for (const key of keys) {
    const cells = [key];
    const cellClasses: (string | null)[] = [null];
    for (const m of c.models) {
      const row = pick(m).find((r) => r.key === key);
      if (!row || row.status === "untested") {
        cells.push("untested");
        cellClasses.push("untested");
      } else {
        cells.push(`${fmtInterval(row.macro_f1)} (${row.n_episodes} ep)`);
        cellClasses.push(null);
      }
    }
    rows.push(cells);
    classes.push(cellClasses);
  }
  return { title, note, header: ["", ...c.models.map((m) => m.name)], rows, classes };
}

export function profileTable(c: Comparison): TextTable {
  const untested = c.split.untested_profiles;
  const note =
    untested.length > 0
      ? `Untested profiles (absent from the test side of this split, not averaged into any number): ${untested.join(", ")}.`
      : "Every profile is present on the test side of this split.";
  return breakdownTable("Per profile (macro F1 [95% CI])", c, (m) => m.per_profile, note);
}

export function hostTable(c: Comparison): TextTable {
  return breakdownTable("Per host (macro F1 [95% CI])", c, (m) => m.per_host, "Hosts on the test side of the split.");
}

export function classTable(c: Comparison): TextTable {
  const names = [...new Set(c.models.flatMap((m) => m.per_class.map((r) => r.name)))];
  return {
    title: "Per-class F1 [95% CI]",
    header: ["class", ...c.models.map((m) => m.name)],
    rows: names.map((name) => [name, ...c.models.map((m) => {
      const row = m.per_class.find((r) => r.name === name);
      return row ? fmtInterval(row.f1) : "–";
    })]),
  };
}

export function phaseTable(c: Comparison): TextTable {
  const phases = [...new Set(c.models.flatMap((m) => m.per_phase.map((r) => r.phase)))];
  return {
    title: "Per-phase precision / recall",
    header: ["phase", ...c.models.map((m) => m.name)],
    rows: phases.map((phase) => [phase, ...c.models.map((m) => {
      const row = m.per_phase.find((r) => r.phase === phase);
      return row ? `${fmt(row.precision, 2)} / ${fmt(row.recall, 2)} (n=${row.support})` : "–";
    })]),
  };
}

/** Paired bootstrap: row model minus column model. */
export function significanceTable(c: Comparison): TextTable {
  const names = c.models.map((m) => m.name);
  const rows: string[][] = [];
  const classes: (string | null)[][] = [];
  for (const a of names) {
    const cells = [a];
    const cellClasses: (string | null)[] = [null];
    for (const b of names) {
      if (a === b) {
        cells.push("");
        cellClasses.push("diag");
        continue;
      }
      const direct = c.significance.find((s) => s.a === a && s.b === b);
      const reverse = c.significance.find((s) => s.a === b && s.b === a);
      const row = direct ?? reverse;
      if (!row) {
        cells.push("–");
        cellClasses.push(null);
        continue;
      }
      const sign = direct ? 1 : -1;
      const point = sign * row.diff.point;
      const lo = row.diff.lo === null || row.diff.hi === null ? null : sign === 1 ? row.diff.lo : -row.diff.hi;
      const hi = row.diff.lo === null || row.diff.hi === null ? null : sign === 1 ? row.diff.hi : -row.diff.lo;
      cells.push(`${point >= 0 ? "+" : ""}${fmt(point)} [${fmt(lo)}, ${fmt(hi)}]${row.excludes_zero ? " *" : ""}`);
      cellClasses.push(row.excludes_zero ? (point > 0 ? "sig-pos" : "sig-neg") : null);
    }
    rows.push(cells);
    classes.push(cellClasses);
  }
  return {
    title: "Paired bootstrap: row − column macro F1 [95% CI]",
    note: "* the interval excludes 0 (same resamples for both models).",
    header: ["", ...names],
    rows,
    classes,
  };
}

/** Every evaluated model, supervised and anomaly, for the infected-vs-clean tables. */
function detectorRows(c: Comparison): Array<{ name: string; model: string; mode: string; macro: string; anomaly: AnomalyEval | null; episodes: EpisodeVerdicts | null }> {
  const anomalyModels: AnomalyModelEval[] = c.anomaly_models ?? [];
  return [
    ...c.models.map((m) => ({ name: m.name, model: displayModel(m), mode: m.mode, macro: fmtInterval(m.macro_f1), anomaly: m.anomaly ?? null, episodes: m.episodes ?? null })),
    ...anomalyModels.map((m) => ({ name: m.name, model: displayModel(m), mode: m.mode, macro: "none (anomaly detector)", anomaly: m.anomaly, episodes: m.episodes })),
  ];
}

function fmtRate(r: { point: number | null; lo: number | null; hi: number | null } | null): string {
  return r === null || r.point === null ? "–" : fmtInterval(r as Interval);
}

export function infectedTable(c: Comparison): TextTable | null {
  const rows = detectorRows(c);
  if (!rows.some((r) => r.anomaly)) return null;
  return {
    title: "Infected vs clean",
    note: `Every test window, positive when its true phase is not clean. Score: 1 − P(clean) for the phase classifiers, the anomaly score for anomaly detectors (they predict no phases, so they have no macro F1). TPR at 1% FPR: the best true-positive rate with at most 1% of clean windows flagged. 95% bootstrap intervals (${c.resamples} resamples, unit: ${c.unit}).`,
    header: ["model", "mode", "macro F1 [95% CI]", "ROC AUC [95% CI]", "PR AUC [95% CI]", "TPR at 1% FPR [95% CI]", "infected / clean windows"],
    rows: rows.map((r) => [
      r.model,
      r.mode,
      r.macro,
      r.anomaly ? fmtInterval(r.anomaly.roc_auc) : "–",
      r.anomaly ? fmtInterval(r.anomaly.pr_auc) : "–",
      r.anomaly ? fmtInterval(r.anomaly.tpr_at_1pct_fpr) : "–",
      r.anomaly ? `${r.anomaly.positives} / ${r.anomaly.negatives}` : "–",
    ]),
  };
}

function infectedBreakdown(title: string, c: Comparison, pick: (a: AnomalyEval) => AnomalySlice[], note: string): TextTable | null {
  const models = detectorRows(c).filter((r) => r.anomaly);
  if (models.length === 0) return null;
  const keys = [...new Set(models.flatMap((m) => pick(m.anomaly!).map((s) => s.key)))].sort();
  const rows: string[][] = [];
  const classes: (string | null)[][] = [];
  for (const key of keys) {
    const cells = [key];
    const cellClasses: (string | null)[] = [null];
    for (const m of models) {
      const s = pick(m.anomaly!).find((x) => x.key === key);
      if (!s || s.status === "untested") {
        cells.push(`untested${s?.reason ? ` (${s.reason})` : ""}`);
        cellClasses.push("untested");
      } else {
        cells.push(`${fmtInterval(s.roc_auc)} / ${fmtInterval(s.tpr_at_1pct_fpr)} (${s.n_episodes} ep)`);
        cellClasses.push(null);
      }
    }
    rows.push(cells);
    classes.push(cellClasses);
  }
  return { title, note, header: ["", ...models.map((m) => m.name)], rows, classes };
}

export function infectedProfileTable(c: Comparison): TextTable | null {
  return infectedBreakdown("Infected vs clean per profile (ROC AUC / TPR at 1% FPR)", c, (a) => a.by_profile, "A profile without both clean and infected test windows is untested, never averaged in.");
}

export function infectedHostTable(c: Comparison): TextTable | null {
  return infectedBreakdown("Infected vs clean per host (ROC AUC / TPR at 1% FPR)", c, (a) => a.by_host, "Hosts on the test side of the split.");
}

export function episodeTable(c: Comparison): TextTable | null {
  const rows = detectorRows(c).filter((r) => r.episodes);
  if (rows.length === 0) return null;
  const policies = [...new Set(rows.map((r) => r.episodes!.policy.description))];
  return {
    title: "Episode verdicts (alert policy)",
    note: `An infected episode (with infecting or infected_running test windows) is detected when the alert holds at one of those windows, i.e. before dormant. Negatives: test episodes without such windows (any alert is a false positive). Pre-infection alarms: episodes whose alert holds at a clean or armed window. Policies: ${policies.join("; ")}. 95% episode-bootstrap intervals.`,
    header: ["model", "mode", "episode TPR [95% CI]", "episode FPR [95% CI]", "pre-infection alarms [95% CI]"],
    rows: rows.map((r) => {
      const e = r.episodes!;
      return [
        r.model,
        r.mode,
        `${fmtRate(e.tpr)} (${e.detected}/${e.positives})`,
        e.negatives === 0 ? "no negative episode" : `${fmtRate(e.fpr)} (${e.false_positives}/${e.negatives})`,
        `${fmtRate(e.pre_infection.rate)} (${e.pre_infection.alarmed}/${e.pre_infection.episodes})`,
      ];
    }),
  };
}

export function dropNoisyTable(c: Comparison): TextTable | null {
  const pairs = c.drop_noisy_pairs ?? [];
  if (pairs.length === 0) return null;
  const f1 = (name: string) => c.models.find((m) => m.name === name)?.macro_f1 ?? null;
  return {
    title: "Plain vs --drop-noisy",
    note: "The same kind and mode trained with and without the windows a label-noise report flagged, on the same untouched test windows. Difference: drop-noisy − plain macro F1, paired episode bootstrap (* the interval excludes 0).",
    header: ["pair", "windows dropped", "macro F1 plain", "macro F1 drop-noisy", "drop-noisy − plain", "ROC AUC plain / drop-noisy", "TPR at 1% FPR plain / drop-noisy"],
    rows: pairs.map((p) => [
      `${p.plain} vs ${p.drop_noisy}`,
      String(p.dropped),
      fmtInterval(f1(p.plain)),
      fmtInterval(f1(p.drop_noisy)),
      `${p.macro_f1_diff.point >= 0 ? "+" : ""}${fmtInterval(p.macro_f1_diff)}${p.excludes_zero ? " *" : ""}`,
      `${p.roc_auc.plain ? fmt(p.roc_auc.plain.point) : "–"} / ${p.roc_auc.drop_noisy ? fmt(p.roc_auc.drop_noisy.point) : "–"}`,
      `${p.tpr_at_1pct_fpr.plain ? fmt(p.tpr_at_1pct_fpr.plain.point) : "–"} / ${p.tpr_at_1pct_fpr.drop_noisy ? fmt(p.tpr_at_1pct_fpr.drop_noisy.point) : "–"}`,
    ]),
  };
}

export function failureTable(c: Comparison): TextTable | null {
  if (c.failures.length === 0) return null;
  return {
    title: "Checkpoints that could not be evaluated",
    header: ["checkpoint", "error"],
    rows: c.failures.map((f) => [f.checkpoint, f.error]),
  };
}

export function allTables(c: Comparison): TextTable[] {
  const tables = [
    summaryTable(c),
    modeGapTable(c),
    infectedTable(c),
    episodeTable(c),
    dropNoisyTable(c),
    profileTable(c),
    hostTable(c),
    infectedProfileTable(c),
    infectedHostTable(c),
    classTable(c),
    phaseTable(c),
    significanceTable(c),
    failureTable(c),
  ];
  return tables.filter((t): t is TextTable => t !== null);
}
