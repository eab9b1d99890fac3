// comparison.md and comparison.html from a Comparison. The HTML is one
// self-contained file (inline CSS and SVG) that opens offline.

import type { Comparison } from "../result.js";
import { confusionHeatmap, macroF1Chart, rocChart, type RocLine } from "./charts.js";
import { allTables, type TextTable } from "./tables.js";

function mdEscape(cell: string): string {
  return cell.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdTable(t: TextTable): string {
  const lines = [`## ${t.title}`, ""];
  if (t.note) lines.push(t.note, "");
  lines.push(`| ${t.header.map(mdEscape).join(" | ")} |`, `|${t.header.map(() => "---").join("|")}|`);
  for (const row of t.rows) lines.push(`| ${row.map(mdEscape).join(" | ")} |`);
  return lines.join("\n");
}

function title(c: Comparison): string {
  return `cis490 evaluation${c.split.recipe ? ` — ${c.split.recipe} split` : ""}`;
}

export function renderMarkdown(c: Comparison): string {
  const parts = [`# ${title(c)}`, "", `Split: \`${c.split.path}\`.`];
  if (c.models.length === 0 && (c.anomaly_models ?? []).length === 0) parts.push("", "No model could be evaluated.");
  for (const t of allTables(c)) parts.push("", mdTable(t));
  for (const m of c.models) {
    parts.push("", `### Confusion matrix: ${m.name}`, "", `| true \\ predicted | ${m.confusion.labels.join(" | ")} |`, `|---|${m.confusion.labels.map(() => "---").join("|")}|`);
    m.confusion.matrix.forEach((row, i) => parts.push(`| ${m.confusion.labels[i]} | ${row.join(" | ")} |`));
    for (const w of m.warnings) parts.push("", `> warning (${m.name}): ${w}`);
  }
  for (const m of c.anomaly_models ?? []) for (const w of m.warnings) parts.push("", `> warning (${m.name}): ${w}`);
  return parts.join("\n") + "\n";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function htmlTable(t: TextTable): string {
  const head = `<tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const body = t.rows
    .map((row, i) => `<tr>${row.map((cell, j) => {
      const cls = t.classes?.[i]?.[j];
      return j === 0 ? `<th scope="row">${esc(cell)}</th>` : `<td${cls ? ` class="${cls}"` : ""}>${esc(cell)}</td>`;
    }).join("")}</tr>`)
    .join("\n");
  return `<section><h2>${esc(t.title)}</h2>${t.note ? `<p class="note">${esc(t.note)}</p>` : ""}<table><thead>${head}</thead><tbody>${body}</tbody></table></section>`;
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; color: #1d1d1f; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8d8d8; padding: 0.3rem 0.55rem; text-align: left; }
thead th { background: #f3f4f6; }
td.untested { background: #fff4d6; color: #7a5b00; font-style: italic; }
td.sig-pos { background: #e3f4e1; } td.sig-neg { background: #fbe4e2; } td.diag { background: #f3f4f6; }
.note { color: #555; font-size: 0.85rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; } figcaption { font-size: 0.8rem; color: #555; }
.warning { background: #fbe4e2; padding: 0.5rem 0.8rem; border-radius: 4px; }
`;

export function renderHtml(c: Comparison): string {
  const tables = allTables(c);
  const bars = c.models.map((m) => ({ model: m.model, mode: m.mode, macro_f1: m.macro_f1 }));
  const sections: string[] = [];
  sections.push(`<h1>${esc(title(c))}</h1><p class="note">Split: <code>${esc(c.split.path)}</code>. Intervals: percentile bootstrap, ${c.resamples} resamples, resampling unit <b>${c.unit}</b>.</p>`);
  if (c.split.untested_profiles.length > 0) {
    sections.push(`<p class="warning">Untested on this split: <b>${c.split.untested_profiles.map(esc).join(", ")}</b>. No number below includes them.</p>`);
  }
  if (bars.length > 0) {
    sections.push(`<section><h2>Macro F1 with 95% intervals</h2><figure data-chart="macro-f1">${macroF1Chart(bars)}<figcaption>Bars: point estimate on the test split; whiskers: bootstrap 95% interval.</figcaption></figure></section>`);
  } else if ((c.anomaly_models ?? []).length === 0) {
    sections.push(`<p class="warning">No model could be evaluated.</p>`);
  }
  const roc: RocLine[] = [...c.models, ...(c.anomaly_models ?? [])].flatMap((m) => (m.anomaly ? [{ name: m.name, fpr: m.anomaly.roc_curve.fpr, tpr: m.anomaly.roc_curve.tpr }] : []));
  if (roc.length > 0) {
    sections.push(`<section><h2>Infected vs clean: ROC curves</h2><figure data-chart="roc">${rocChart(roc)}<figcaption>Test windows, infected (any non-clean phase) vs clean; score 1 − P(clean) for phase classifiers, the anomaly score for anomaly detectors. Log FPR axis; dashed: the 1% FPR budget.</figcaption></figure></section>`);
  }
  sections.push(...tables.map(htmlTable));
  if (c.models.length > 0) {
    const heatmaps = c.models
      .map((m) => `<figure data-chart="confusion">${confusionHeatmap(m.name, m.confusion.labels, m.confusion.matrix)}<figcaption>Colour: share of the true class's windows; text: window counts.</figcaption></figure>`)
      .join("\n");
    sections.push(`<section><h2>Confusion matrices</h2><div class="charts">${heatmaps}</div></section>`);
  }
  for (const m of [...c.models, ...(c.anomaly_models ?? [])]) for (const w of m.warnings) sections.push(`<p class="warning">${esc(m.name)}: ${esc(w)}</p>`);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title(c))}</title><style>${CSS}</style></head>\n<body>\n${sections.join("\n")}\n</body></html>\n`;
}
