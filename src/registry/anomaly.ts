// Anomaly checkpoints (eif, ae, ensemble) in the registry. Their promotion
// gate is their own: the alarm rate on held-out clean windows recorded at
// training (sidecar.gate), not a macro F1 comparison. A version that fails
// it never becomes current (the previous current stays), on registration
// or on `registry promote`, unless forced; the refusal is logged with its
// numbers. docs/anomaly.md, docs/registry.md.

import { ANOMALY_CHECKPOINT_FORMAT, ANOMALY_KINDS, type AnomalySidecar } from "../anomaly/train.js";
import type { CheckpointSidecar } from "../train/types.js";
import type { GateResult } from "./gate.js";
import { RegistryError } from "./types.js";

export function isAnomalySidecar(doc: unknown): doc is AnomalySidecar {
  return (doc as { format?: unknown } | null)?.format === ANOMALY_CHECKPOINT_FORMAT;
}

export function validateAnomalySidecar(doc: AnomalySidecar, path: string): AnomalySidecar {
  const g = doc.gate as Partial<AnomalySidecar["gate"]> | undefined;
  if (!(ANOMALY_KINDS as readonly string[]).includes(doc.kind) || typeof doc.mode !== "string" || typeof doc.weights_file !== "string" || !doc.data) {
    throw new RegistryError(`checkpoint ${path}: not a usable anomaly checkpoint (kind, mode, weights_file, data)`);
  }
  if (!g || typeof g.promotable !== "boolean" || typeof g.clean_anomaly_rate !== "number" || typeof g.limit !== "number") {
    throw new RegistryError(`checkpoint ${path}: the anomaly checkpoint has no gate result`);
  }
  return doc;
}

/** The sidecar's clean-window gate as the registry's gate result. */
export function anomalyGate(sc: AnomalySidecar): GateResult {
  const g = sc.gate;
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  return {
    passed: g.promotable,
    method: "clean-anomaly-rate",
    candidate_f1: null,
    current_f1: null,
    diff: null,
    candidate_ci: null,
    current_ci: null,
    anomaly: { clean_anomaly_rate: g.clean_anomaly_rate, limit: g.limit, n_windows: g.n_windows, threshold: sc.threshold },
    reason: g.promotable
      ? `${pct(g.clean_anomaly_rate)} of ${g.n_windows} held-out clean windows raise an alarm (limit ${pct(g.limit)})`
      : (g.reason ?? `${pct(g.clean_anomaly_rate)} of ${g.n_windows} held-out clean windows raise an alarm (limit ${pct(g.limit)})`),
  };
}

/** What provenanceOf reads, from an anomaly sidecar (no tensors). */
export function provenanceSource(sc: AnomalySidecar): CheckpointSidecar {
  return { ...sc, data: { ...sc.data, tensors: null } } as unknown as CheckpointSidecar;
}
