// Confident learning (Northcutt, Jiang & Chuang, JAIR 2021) on out-of-fold
// probabilities: per-class thresholds, the confident joint, its calibration
// to the label counts, and prune-by-noise-rate. Pure arithmetic over a
// probability matrix, no I/O; docs/label-noise.md states each step.

export interface ConfidentLearning {
  /** t_j: mean p_j over windows labelled j (NaN for a class nobody carries). */
  thresholds: number[];
  /** C[i][j]: windows labelled i confidently counted as j. */
  confident_joint: number[][];
  /** Q[i][j]: the calibrated joint of (given i, true j), summing to 1. */
  joint: number[][];
  /** Per window, the confident class (argmax over classes passing their threshold), or -1 when none passes. */
  confident_class: Int32Array;
  /** Per given class, how many windows prune-by-noise-rate removes: round(n * sum_{j != i} Q[i][j]). */
  prune_counts: number[];
  /** Flagged window indices (off-diagonal and within its class's prune count), lowest self-confidence first. */
  flagged: number[];
}

export function confidentLearning(proba: Float64Array, labels: Int32Array, classes: number): ConfidentLearning {
  const n = labels.length;
  const count = new Array<number>(classes).fill(0);
  const sum = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    count[labels[i]]++;
    sum[labels[i]] += proba[i * classes + labels[i]];
  }
  const thresholds = sum.map((s, j) => (count[j] > 0 ? s / count[j] : Number.NaN));

  const C = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const confident = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestP = -Infinity;
    for (let j = 0; j < classes; j++) {
      const p = proba[i * classes + j];
      // A class nobody is labelled with has no threshold: it cannot be a confident class.
      if (!(p >= thresholds[j])) continue;
      if (p > bestP) {
        bestP = p;
        best = j;
      }
    }
    confident[i] = best;
    if (best >= 0) C[labels[i]][best]++;
  }

  // Calibration: each row of C rescaled to the number of windows carrying that label, then normalised.
  const calibrated = C.map((row, i) => {
    const r = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (r > 0 ? (c / r) * count[i] : 0));
  });
  const total = calibrated.reduce((a, row) => a + row.reduce((b, c) => b + c, 0), 0);
  const joint = calibrated.map((row) => row.map((c) => (total > 0 ? c / total : 0)));
  const prune_counts = joint.map((row, i) => Math.round(n * row.reduce((a, q, j) => (j === i ? a : a + q), 0)));

  // Prune-by-noise-rate: per given class i, the prune_counts[i] windows labelled i with the lowest
  // self-confidence; flagged are those that also sit off the diagonal of the confident joint.
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  const self = (i: number) => proba[i * classes + labels[i]];
  const flagged: number[] = [];
  byClass.forEach((rows, k) => {
    rows.sort((a, b) => self(a) - self(b) || a - b);
    for (const i of rows.slice(0, prune_counts[k])) if (confident[i] >= 0 && confident[i] !== k) flagged.push(i);
  });
  flagged.sort((a, b) => self(a) - self(b) || a - b);
  return { thresholds, confident_joint: C, joint, confident_class: confident, prune_counts, flagged };
}
