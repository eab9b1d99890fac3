// The report's tables as plain rows of strings, so the Markdown and HTML
// renderers show exactly the same numbers.

import type { BreakdownRow, Comparison, ModelEval } from "../result.js";
import { fmt, fmtInterval, fmtPercent } from "./format.js";

export interface TextTable {
  title: string;
  note?: string;
  header: string[];
  rows: string[][];
  /** Per cell, an optional CSS class for the HTML renderer ("untested", "sig-pos", ...). */
  classes?: (string | null)[][];
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
      m.model,
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
    const r = c.models.find((m) => m.model === kind && m.mode === "realistic");
    const o = c.models.find((m) => m.model === kind && m.mode === "oracle");
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

export function failureTable(c: Comparison): TextTable | null {
  if (c.failures.length === 0) return null;
  return {
    title: "Checkpoints that could not be evaluated",
    header: ["checkpoint", "error"],
    rows: c.failures.map((f) => [f.checkpoint, f.error]),
  };
}

export function allTables(c: Comparison): TextTable[] {
  const tables = [summaryTable(c), modeGapTable(c), profileTable(c), hostTable(c), classTable(c), phaseTable(c), significanceTable(c)];
  const failures = failureTable(c);
  return failures ? [...tables, failures] : tables;
}
