// The text summary of `cis490 train` (the --json document is
// trainSessionJson in src/train/session.ts).

import type { TrainSessionResult } from "../../train/session.js";
import { formatTable } from "../text-table.js";

export function renderTrainSession(s: TrainSessionResult, show: (path: string) => string): string {
  const out: string[] = [];
  for (const st of s.skipped) out.push(`${st.model.replace("_", " ")}: not retrained: ${st.reasons.join("; ")}\n`);
  for (const { kind, mode, stale } of s.results) if (stale) out.push(`${kind} ${mode}: retraining: ${stale.reasons.join("; ")}\n`);
  const rows = s.results.map(({ kind, result }) => {
    const t = result.sidecar.training;
    return [
      kind,
      result.sidecar.mode,
      result.sidecar.best.val_macro_f1.toFixed(4),
      kind === "gbt" ? `round ${result.sidecar.best.epoch}` : `epoch ${result.sidecar.best.epoch}`,
      kind === "gbt" ? `${t.gbt?.rounds_trained ?? "?"} rounds` : `${result.sidecar.history.length} epochs`,
      result.reused ? `${t.stopped} (kept: same request)` : t.stopped,
      t.total_seconds.toFixed(1),
      t.input_shape.join("x"),
      result.worker ? `(rank 0 writes ${show(result.sidecarPath)})` : show(result.sidecarPath),
    ];
  });
  if (rows.length) out.push(formatTable(["model", "mode", "val macro F1", "best", "trained", "stopped", "seconds", "inputs", "checkpoint"], rows, ["left", "left", "right", "left", "right", "left", "right", "left", "left"]));
  for (const { kind, mode, result } of s.results) {
    const d = result.sidecar.training.distributed;
    if (d) out.push(`data-parallel (${kind} ${mode}): ${result.worker ? `rank ${result.worker.rank}` : "rank 0"} of ${d.world_size} over c10d/Gloo at ${d.master}, global batch ${d.global_batch}${result.worker ? "; rank 0 wrote and registered the checkpoint" : ""}\n`);
  }
  for (const { kind, mode, registered: r } of s.results) {
    if (!r) continue;
    const what = !r.created ? "already registered" : r.alias === "candidate" ? `registered as candidate, REFUSED by the promotion gate: ${r.gate?.reason}` : r.gate ? `registered as current: ${r.gate.reason}` : "registered as current (first version)";
    out.push(`registry (${kind} ${mode}): ${r.name}@${r.version} ${what}\n`);
  }
  for (const { kind, mode, result } of s.results) for (const w of result.sidecar.training.warnings) out.push(`note (${kind} ${mode}): ${w}\n`);
  if (s.anomaly.length) {
    const rows = s.anomaly.map(({ kind, mode, result: { sidecar: sc, sidecarPath, reused } }) => [
      kind,
      mode,
      String(sc.training.n_train_clean),
      `${sc.training.inputs.length} (${sc.training.dropped.length} dropped)`,
      sc.threshold.toFixed(4),
      `${(100 * sc.gate.clean_anomaly_rate).toFixed(1)}%`,
      sc.gate.promotable ? "yes" : "NO",
      reused ? `${sc.training.total_seconds.toFixed(1)} (kept)` : sc.training.total_seconds.toFixed(1),
      show(sidecarPath),
    ]);
    out.push(formatTable(["model", "mode", "clean train", "inputs", "threshold", "held-out clean alarms", "promotable", "seconds", "checkpoint"], rows, ["left", "left", "right", "left", "right", "right", "left", "right", "left"]));
    for (const { kind, mode, registered: r } of s.anomaly) {
      const what = !r.created ? "already registered" : r.alias === "candidate" ? `registered as candidate, REFUSED by the gate: ${r.gate?.reason}` : `registered as current: ${r.gate?.reason}`;
      out.push(`registry (${kind} ${mode}): ${r.name}@${r.version} ${what}\n`);
    }
    for (const { kind, mode, result } of s.anomaly) for (const w of result.sidecar.training.warnings) out.push(`note (${kind} ${mode}): ${w}\n`);
  }
  if (s.failures.length) out.push(`\n${s.failures.length} of ${s.runs} run(s) failed (see above).\n`);
  return out.join("");
}
