// The `detect --evaluate` report: the policy's numbers with intervals and
// the threshold sweep as a table and a chart (static SVG, opens offline).

import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { thresholdSweepChart } from "../eval/report/charts.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { DetectEvaluation, Interval } from "./evaluate.js";

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const num = (v: number | null, d: number): string => (v === null ? "–" : v.toFixed(d));
const iv = (i: Interval, d: number): string => `${num(i.point, d)} [${num(i.lo, d)}, ${num(i.hi, d)}]`;

function rows(e: DetectEvaluation): { head: string[]; body: string[][]; sweepHead: string[]; sweep: string[][] } {
  return {
    head: ["detection rate", "median delay s", "p95 delay s", "false alarms / clean h"],
    body: [[iv(e.detection_rate, 3), iv(e.median_delay_s, 1), iv(e.p95_delay_s, 1), iv(e.false_alarms_per_clean_hour, 2)]],
    sweepHead: ["threshold", "detected", "rate", "median delay s", "p95 delay s", "false alarms / clean h"],
    sweep: e.sweep.map((s) => [s.threshold.toFixed(2), `${s.detected}/${s.infected_episodes}`, num(s.detection_rate, 3), num(s.median_delay_s, 1), num(s.p95_delay_s, 1), num(s.false_alarms_per_clean_hour, 2)]),
  };
}

export function describePolicy(e: DetectEvaluation): string {
  return `infected probability >= ${e.policy.threshold} for ${e.policy.consecutive} window(s) in a row; ${e.episodes} episodes, ${e.point.infected_episodes} reach infection, ${e.point.clean_hours.toFixed(2)} clean hours; 95% percentile-bootstrap intervals over episodes (${e.resamples} resamples)`;
}

export function renderDetectMarkdown(e: DetectEvaluation, model: string): string {
  const r = rows(e);
  const table = (h: string[], b: string[][]) => [`| ${h.join(" | ")} |`, `|${h.map(() => "---").join("|")}|`, ...b.map((x) => `| ${x.join(" | ")} |`)].join("\n");
  return `# Alert policy on a labelled store: ${model}\n\n${describePolicy(e)}.\n\n${table(r.head, r.body)}\n\n## Threshold sweep\n\n${table(r.sweepHead, r.sweep)}\n`;
}

export function renderDetectHtml(e: DetectEvaluation, model: string): string {
  const r = rows(e);
  const table = (h: string[], b: string[][]) =>
    `<table><thead><tr>${h.map((x) => `<th>${esc(x)}</th>`).join("")}</tr></thead><tbody>${b.map((row) => `<tr>${row.map((x) => `<td>${esc(x)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  const css = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}";
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Alert policy: ${esc(model)}</title><style>${css}</style></head>\n<body>\n<h1>Alert policy on a labelled store: ${esc(model)}</h1><p>${esc(describePolicy(e))}.</p>\n${table(r.head, r.body)}\n<h2>Threshold sweep</h2><figure data-chart="threshold-sweep">${thresholdSweepChart(e.sweep)}</figure>\n${table(r.sweepHead, r.sweep)}\n</body></html>\n`;
}

/** Writes detect_eval.{json,md,html} into `dir` (each atomically). */
export async function writeDetectReport(dir: string, modelPath: string, e: DetectEvaluation): Promise<void> {
  await mkdir(dir, { recursive: true });
  const name = basename(modelPath).replace(/\.onnx$/, "");
  await writeFileAtomic(join(dir, "detect_eval.json"), JSON.stringify({ model: modelPath, ...e }, null, 2) + "\n");
  await writeFileAtomic(join(dir, "detect_eval.md"), renderDetectMarkdown(e, name));
  await writeFileAtomic(join(dir, "detect_eval.html"), renderDetectHtml(e, name));
}
