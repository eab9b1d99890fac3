// The text form of `detect --evaluate`'s result.

import type { DetectEvaluation, Interval } from "../../deploy/evaluate.js";
import { describePolicy } from "../../deploy/report.js";
import { formatTable } from "../text-table.js";

export function formatEvaluation(e: DetectEvaluation): string {
  const n = (v: number | null, d = 2) => (v === null ? "–" : v.toFixed(d));
  const iv = (i: Interval, d: number) => `${n(i.point, d)} [${n(i.lo, d)}, ${n(i.hi, d)}]`;
  return [
    `Alert policy: ${describePolicy(e)}`,
    formatTable(["detection rate", "median delay s", "p95 delay s", "false alarms / clean h"], [[iv(e.detection_rate, 3), iv(e.median_delay_s, 1), iv(e.p95_delay_s, 1), iv(e.false_alarms_per_clean_hour, 2)]]),
    "Threshold sweep:",
    formatTable(
      ["threshold", "detected", "rate", "median delay s", "p95 delay s", "false alarms / clean h"],
      e.sweep.map((s) => [s.threshold.toFixed(2), `${s.detected}/${s.infected_episodes}`, n(s.detection_rate, 3), n(s.median_delay_s, 1), n(s.p95_delay_s, 1), n(s.false_alarms_per_clean_hour, 2)]),
    ),
  ].join("\n");
}
