// One valid event of each dashboard type, for the server and page tests.

import type { DashboardEvent } from "../../src/dashboard/events.js";

export const PHASE_NAMES = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"];

export function probsFor(winner: string, p = 0.7): Record<string, number> {
  const rest = (1 - p) / (PHASE_NAMES.length - 1);
  return Object.fromEntries(PHASE_NAMES.map((n) => [n, n === winner ? p : rest]));
}

export function sampleEvents(): DashboardEvent[] {
  const curve = Array.from({ length: 80 }, (_, i) => Math.round(50 * (0.5 + 0.5 * Math.sin(i / 8))) / 50);
  return [
    { type: "phase", episode_id: "ep-1", t_s: 0, phase: "clean" },
    { type: "phase", episode_id: "ep-1", t_s: 12, phase: "infecting" },
    { type: "prediction", episode_id: "ep-1", t_s: 5, model: "gbt_realistic", probs: probsFor("clean"), predicted: "clean" },
    { type: "prediction", episode_id: "ep-1", t_s: 15, model: "gbt_realistic", probs: probsFor("infecting"), predicted: "infecting" },
    { type: "embedding", episode_id: "ep-1", t_s: 15, model: "gbt_realistic", xy: [0.4, -1.2] },
    { type: "model_metric", model: "gbt", mode: "realistic", version: "v1", macro_f1: { point: 0.41, lo: 0.35, hi: 0.47 }, per_class: { clean: { point: 0.8, lo: 0.7, hi: 0.9 } } },
    { type: "model_metric", model: "gbt", mode: "oracle", version: "v1", macro_f1: { point: 0.62, lo: 0.55, hi: 0.7 }, per_class: { clean: { point: 0.9, lo: 0.8, hi: 0.95 } } },
    { type: "model_perf", model: "gbt", mode: "realistic", latency_ms: { p50: 1.5, p99: 4.2 }, windows_per_s: 12000, params: 3400 },
    { type: "attack_profile", name: "cpu-saturate", shape: "sustained plateau", channel: "guest.cpu_user", curve },
  ];
}
