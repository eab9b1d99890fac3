// `cis490 detect`'s window rows against `cis490 eval`'s predictions.parquet:
// every test window eval scored with `kind` has a detect row with the same
// probabilities (to 1e-4) and, nearly always, the same predicted phase.

import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { readParquet } from "../../src/io/parquet.js";

export interface DetectRow {
  episode_id: string;
  window: number | null;
  probs?: Record<string, number>;
  predicted?: string;
  verdict?: string;
}

export function readDetectRows(path: string): DetectRow[] {
  return readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as DetectRow);
}

export async function expectDetectMatchesEval(rows: DetectRow[], predictionsParquet: string, kind: string): Promise<void> {
  const byKey = new Map(rows.filter((r) => r.window !== null).map((r) => [`${r.episode_id}/${r.window}`, r]));
  const pred = await readParquet(predictionsParquet);
  const col = (name: string) => pred.getChild(name)!.toArray() as ArrayLike<unknown>;
  const model = col("model");
  const ids = col("episode_id");
  const win = col("window") as ArrayLike<number>;
  const phases = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"];
  const probs = phases.map((ph) => col(`p_${ph}`) as ArrayLike<number>);
  const predPhase = col("pred_phase");
  let n = 0;
  let agree = 0;
  let maxD = 0;
  for (let i = 0; i < pred.numRows; i++) {
    if (model[i] !== kind) continue;
    const r = byKey.get(`${ids[i]}/${win[i]}`);
    expect(r, `detect has no row for ${ids[i]} window ${win[i]}`).toBeDefined();
    n++;
    phases.forEach((ph, c) => (maxD = Math.max(maxD, Math.abs(r!.probs![ph] - probs[c][i]))));
    if (r!.predicted === predPhase[i]) agree++;
  }
  expect(n).toBeGreaterThan(20);
  expect(maxD).toBeLessThanOrEqual(1e-4);
  expect(agree / n).toBeGreaterThanOrEqual(0.999);
}
