// Number formatting shared by the Markdown and HTML reports.

import type { Interval } from "../../stats/types.js";

export function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

/** "0.812 [0.771, 0.850]" */
export function fmtInterval(interval: Interval | null): string {
  if (interval === null) return "untested";
  const ci = interval.lo === null || interval.hi === null ? "[–]" : `[${fmt(interval.lo)}, ${fmt(interval.hi)}]`;
  return `${fmt(interval.point)} ${ci}`;
}

export function fmtPercent(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "–" : `${(value * 100).toFixed(1)}%`;
}
