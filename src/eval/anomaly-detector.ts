// The one place eval loads an anomaly checkpoint (`*.anomaly-ckpt.json`).
// Today that is the EIF (src/anomaly/train.ts loadEifCheckpoint); a loader
// for every anomaly kind (eif / ae / ensemble) with the same shape replaces
// this body.

import { loadEifCheckpoint } from "../anomaly/train.js";
import type { Rows } from "../anomaly/estimator.js";
import type { Mode } from "../train/types.js";

export { ANOMALY_CHECKPOINT_SUFFIX } from "../anomaly/train.js";

/** What eval reads of an anomaly sidecar. */
export interface AnomalySidecarView {
  kind: string;
  mode: Mode;
  feature_schema_hash: string;
  data: { split: string; split_sha256: string };
  /** The calibrated alarm threshold on the score (absent: no alarm policy). */
  threshold?: number;
  gate?: { promotable: boolean };
}

export interface AnomalyDetectorHandle {
  sidecar: AnomalySidecarView;
  /** The summary-feature columns `scoreSamples` reads, in order. */
  columns: string[];
  /** Higher = more anomalous, one per row of row-major [n, columns.length]. */
  scoreSamples(rows: Rows): Promise<Float64Array>;
}

export async function loadAnomalyDetector(sidecarPath: string): Promise<AnomalyDetectorHandle> {
  const { sidecar, detector, columns } = await loadEifCheckpoint(sidecarPath);
  return { sidecar, columns, scoreSamples: (rows) => detector.scoreSamples(rows) };
}
