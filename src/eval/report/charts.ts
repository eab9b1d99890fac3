// Static SVG charts for the evaluation report, rendered at report time with
// ECharts' server-side renderer: no DOM, no CDN, the file opens offline.

import * as echarts from "echarts";
import type { Interval } from "../../stats/types.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif";
const MODE_COLOURS: Record<string, string> = { realistic: "#2f6fad", oracle: "#c9772b" };

function render(width: number, height: number, option: echarts.EChartsOption): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export interface F1Bar {
  model: string;
  mode: string;
  macro_f1: Interval;
}

/**
 * Macro F1 per model kind, realistic and oracle side by side, with the
 * bootstrap interval drawn as a whisker on each bar.
 */
export function macroF1Chart(bars: F1Bar[]): string {
  const models = [...new Set(bars.map((b) => b.model))];
  const modes = [...new Set(bars.map((b) => b.mode))].sort((a, b) => (a === "realistic" ? -1 : b === "realistic" ? 1 : a.localeCompare(b)));
  const series: echarts.SeriesOption[] = [];
  modes.forEach((mode, m) => {
    const data = models.map((model) => bars.find((b) => b.model === model && b.mode === mode)?.macro_f1.point ?? null);
    series.push({
      type: "bar",
      name: mode,
      data,
      itemStyle: { color: MODE_COLOURS[mode] ?? "#777" },
      label: { show: true, position: "right", formatter: (p) => (typeof p.value === "number" ? p.value.toFixed(3) : ""), fontSize: 11, distance: 28 },
      barGap: "15%",
    });
    // Whiskers: one horizontal segment per bar from lo to hi, placed on the bar's band offset.
    const whiskers = models
      .map((model, i) => {
        const bar = bars.find((b) => b.model === model && b.mode === mode);
        return bar && bar.macro_f1.lo !== null && bar.macro_f1.hi !== null ? [i, bar.macro_f1.lo, bar.macro_f1.hi] : null;
      })
      .filter((w): w is number[] => w !== null);
    series.push({
      type: "custom",
      name: `${mode} 95% CI`,
      data: whiskers,
      encode: { x: [1, 2], y: 0 },
      z: 10,
      renderItem: (_params, api) => {
        const category = api.value(0) as number;
        const lo = api.coord([api.value(1), category]);
        const hi = api.coord([api.value(2), category]);
        const band = (api.size?.([0, 1]) as number[])[1];
        const offset = modes.length > 1 ? (m - (modes.length - 1) / 2) * band * 0.36 : 0;
        const y = lo[1] + offset;
        const cap = band * 0.1;
        const style = { stroke: "#222", lineWidth: 1.5 };
        return {
          type: "group",
          children: [
            { type: "line", shape: { x1: lo[0], y1: y, x2: hi[0], y2: y }, style },
            { type: "line", shape: { x1: lo[0], y1: y - cap, x2: lo[0], y2: y + cap }, style },
            { type: "line", shape: { x1: hi[0], y1: y - cap, x2: hi[0], y2: y + cap }, style },
          ],
        };
      },
    });
  });
  const height = 70 + models.length * (28 * Math.max(1, modes.length) + 14);
  return render(720, height, {
    legend: { data: modes, top: 0 },
    grid: { left: 110, right: 70, top: 34, bottom: 30 },
    xAxis: { type: "value", min: 0, max: 1, name: "macro F1", nameLocation: "middle", nameGap: 22 },
    yAxis: { type: "category", data: models, inverse: true },
    series,
  });
}

/** Confusion matrix as a heatmap: colour is the row-normalised rate, the cell text the count. */
export function confusionHeatmap(title: string, labels: string[], matrix: number[][]): string {
  const data: Array<[number, number, number, number]> = [];
  matrix.forEach((row, i) => {
    const total = row.reduce((s, v) => s + v, 0);
    row.forEach((count, j) => data.push([j, i, total > 0 ? count / total : 0, count]));
  });
  const size = 90 + labels.length * 52;
  return render(size + 150, size + 25, {
    title: { text: title, left: "center", textStyle: { fontSize: 13 } },
    grid: { left: 130, right: 20, top: 36, bottom: 115 },
    xAxis: { type: "category", data: labels, name: "predicted", nameLocation: "middle", nameGap: 70, axisLabel: { rotate: 35 } },
    yAxis: { type: "category", data: labels, inverse: true, name: "true", nameLocation: "middle", nameGap: 110 },
    visualMap: { show: false, min: 0, max: 1, dimension: 2, inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
    series: [
      {
        type: "heatmap",
        data,
        label: { show: true, formatter: (p) => String((p.value as number[])[3]), fontSize: 11 },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
      },
    ],
  });
}

export interface SweepPoint {
  threshold: number;
  detection_rate: number | null;
  false_alarms_per_clean_hour: number | null;
  median_delay_s: number | null;
}

/** The alert threshold's trade-off: detection rate (left axis) against false alarms per clean hour and median delay (right axes). */
export function thresholdSweepChart(points: SweepPoint[]): string {
  const x = points.map((p) => p.threshold.toFixed(2));
  return render(720, 320, {
    legend: { top: 0, data: ["detection rate", "false alarms / clean h", "median delay s"] },
    grid: { left: 60, right: 120, top: 40, bottom: 40 },
    xAxis: { type: "category", data: x, name: "threshold", nameLocation: "middle", nameGap: 26 },
    yAxis: [
      { type: "value", min: 0, max: 1, name: "detection rate" },
      { type: "value", name: "false alarms / h", position: "right" },
      { type: "value", name: "delay s", position: "right", offset: 60 },
    ],
    series: [
      { type: "line", name: "detection rate", data: points.map((p) => p.detection_rate), itemStyle: { color: "#2f6fad" } },
      { type: "line", name: "false alarms / clean h", yAxisIndex: 1, data: points.map((p) => p.false_alarms_per_clean_hour), itemStyle: { color: "#c0392b" } },
      { type: "line", name: "median delay s", yAxisIndex: 2, data: points.map((p) => p.median_delay_s), itemStyle: { color: "#7f8c8d" }, lineStyle: { type: "dashed" } },
    ],
  });
}

export interface RocLine {
  name: string;
  fpr: number[];
  tpr: number[];
}

const LINE_COLOURS = ["#2f6fad", "#c9772b", "#3a9a5b", "#9b4dca", "#c0392b", "#17a2b8", "#7f8c8d", "#d4a017"];

/**
 * ROC curves of every model on one chart, FPR on a log axis (0.1% to 100%)
 * so the low-false-positive region an operator lives in is readable, with
 * the 1% FPR budget marked and the chance diagonal dashed.
 */
export function rocChart(lines: RocLine[]): string {
  const points = (l: RocLine) => l.fpr.map((x, i) => [x, l.tpr[i]] as [number, number]).filter(([x, y]) => x >= 1e-3 && Number.isFinite(y));
  const chance = lines.length > 0 ? points(lines[0]).map(([x]) => [x, x]) : [];
  const series: echarts.SeriesOption[] = lines.map((l, i) => ({
    type: "line",
    name: l.name,
    data: points(l),
    step: "end",
    showSymbol: false,
    lineStyle: { width: 2 },
    itemStyle: { color: LINE_COLOURS[i % LINE_COLOURS.length] },
    ...(i === 0
      ? { markLine: { silent: true, symbol: "none", label: { formatter: "1% FPR", position: "end" }, lineStyle: { color: "#555", type: "dashed" }, data: [{ xAxis: 0.01 }] } }
      : {}),
  }));
  series.push({ type: "line", name: "chance", data: chance, showSymbol: false, lineStyle: { color: "#aaa", type: "dotted", width: 1 }, itemStyle: { color: "#aaa" } });
  return render(720, 420, {
    legend: { top: 0, data: [...lines.map((l) => l.name), "chance"] },
    grid: { left: 60, right: 30, top: 40 + 22 * Math.floor(lines.length / 5), bottom: 50 },
    xAxis: { type: "log", min: 1e-3, max: 1, name: "false-positive rate (clean windows flagged, log scale)", nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", min: 0, max: 1, name: "true-positive rate" },
    series,
  });
}
