// Input scaling for the neural models, fitted on the training slice only
// (scikit-learn's StandardScaler, with NaN-aware statistics):
//
//   1. optional `symlog` transform, sign(v) * log1p(|v|): the telemetry is
//      heavy-tailed (byte rates span 0..1e9), and without it a few bursts
//      set the scale of a whole column;
//   2. per input (summary feature, or tensor channel over all its observed
//      steps) mean and population std over the *finite observed* training
//      values; std < 1e-12 (constant) becomes 1; an input with no finite
//      training value is *dropped*: stored with std 0, and always fed as 0
//      (mask 0), in training and at inference alike; it is reported;
//   3. after scaling, missing values (NaN, +-inf, mask 0) become 0 and, for
//      tensors, their mask is 0 (so the mask stays the model's record of
//      what was observed).

export type InputTransform = "symlog" | "none";

export function symlog(v: number): number {
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

export interface StandardisationStats {
  mean: number[];
  std: number[];
}

export class Standardiser {
  private mean: Float64Array | null = null;
  private std: Float64Array | null = null;
  /** Inputs (by position) with no finite value in the data `fit` saw. */
  allMissing: number[] = [];

  constructor(readonly transform: InputTransform) {}

  static fromStats(stats: StandardisationStats, transform: InputTransform): Standardiser {
    const s = new Standardiser(transform);
    s.mean = Float64Array.from(stats.mean);
    s.std = Float64Array.from(stats.std);
    s.allMissing = stats.std.flatMap((v, i) => (v === 0 ? [i] : []));
    return s;
  }

  get width(): number {
    return this.mean?.length ?? 0;
  }

  stats(): StandardisationStats {
    if (!this.mean || !this.std) throw new Error("Standardiser: fit() first");
    return { mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  private t(v: number): number {
    return this.transform === "symlog" ? symlog(v) : v;
  }

  /**
   * Statistics per input. Layout: row-major [n, width, steps] (summary
   * features: steps = 1, mask null); values count when finite and observed.
   */
  fit(x: Float32Array, mask: Uint8Array | null, width: number, steps: number): this {
    const n = x.length / (width * steps);
    const sum = new Float64Array(width);
    const count = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < width; f++) {
        const base = (i * width + f) * steps;
        for (let k = base; k < base + steps; k++) {
          const v = x[k];
          if ((mask === null || mask[k]) && Number.isFinite(v)) {
            const tv = this.t(v);
            if (Number.isFinite(tv)) {
              sum[f] += tv;
              count[f]++;
            }
          }
        }
      }
    }
    const mean = new Float64Array(width);
    for (let f = 0; f < width; f++) mean[f] = count[f] > 0 ? sum[f] / count[f] : 0;
    const sq = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < width; f++) {
        const base = (i * width + f) * steps;
        const m = mean[f];
        for (let k = base; k < base + steps; k++) {
          const v = x[k];
          if ((mask === null || mask[k]) && Number.isFinite(v)) {
            const tv = this.t(v);
            if (Number.isFinite(tv)) sq[f] += (tv - m) * (tv - m);
          }
        }
      }
    }
    const std = new Float64Array(width);
    this.allMissing = [];
    for (let f = 0; f < width; f++) {
      const s = Math.sqrt(sq[f] / count[f]);
      // std 0 marks an input with no training value (dropped); a constant one gets 1.
      std[f] = count[f] === 0 ? 0 : Number.isFinite(s) && s >= 1e-12 ? s : 1;
      if (count[f] === 0) this.allMissing.push(f);
    }
    this.mean = mean;
    this.std = std;
    return this;
  }

  /** Statistics merged from a StreamingStats pass (the same rules as fit). */
  fitStreaming(acc: StreamingStats): this {
    const { mean, std, allMissing } = acc.finish();
    this.mean = mean;
    this.std = std;
    this.allMissing = allMissing;
    return this;
  }

  /** Scales in place; missing values -> 0 (and mask 0). */
  apply(x: Float32Array, mask: Uint8Array | null, steps: number): void {
    const mean = this.mean;
    const std = this.std;
    if (!mean || !std) throw new Error("Standardiser: fit() first");
    const width = mean.length;
    const rowLen = width * steps;
    if (x.length % rowLen !== 0) throw new Error(`Standardiser: ${x.length} values is not a multiple of ${width} inputs x ${steps} steps`);
    const n = x.length / rowLen;
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < width; f++) {
        const base = (i * width + f) * steps;
        const m = mean[f];
        const s = std[f];
        for (let k = base; k < base + steps; k++) {
          const v = x[k];
          const observed = mask === null || mask[k] !== 0;
          const z = observed && s > 0 && Number.isFinite(v) ? (this.t(v) - m) / s : Number.NaN;
          if (Number.isFinite(z)) {
            x[k] = z;
          } else {
            x[k] = 0;
            if (mask) mask[k] = 0;
          }
        }
      }
    }
  }
}

/**
 * The same statistics as Standardiser.fit, gathered chunk by chunk so a
 * corpus never has to be in memory at once: each chunk's count, mean and
 * sum of squared deviations (two passes over the chunk), merged with Chan
 * et al.'s pairwise update. Equal to the whole-data two-pass result up to
 * float64 rounding (~1e-12 relative); the same chunks in the same order
 * always give the same bits.
 */
export class StreamingStats {
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(
    readonly transform: InputTransform,
    readonly width: number,
    readonly steps: number,
  ) {
    this.count = new Float64Array(width);
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }

  private t(v: number): number {
    return this.transform === "symlog" ? symlog(v) : v;
  }

  /** Adds rows laid out [n, width, steps] (mask of the same layout, or null). */
  add(x: Float32Array, mask: Uint8Array | null): void {
    const { width, steps } = this;
    const n = x.length / (width * steps);
    const sum = new Float64Array(width);
    const cnt = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < width; f++) {
        const base = (i * width + f) * steps;
        for (let k = base; k < base + steps; k++) {
          const v = x[k];
          if ((mask === null || mask[k]) && Number.isFinite(v)) {
            const tv = this.t(v);
            if (Number.isFinite(tv)) {
              sum[f] += tv;
              cnt[f]++;
            }
          }
        }
      }
    }
    const sq = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < width; f++) {
        if (cnt[f] === 0) continue;
        const m = sum[f] / cnt[f];
        const base = (i * width + f) * steps;
        for (let k = base; k < base + steps; k++) {
          const v = x[k];
          if ((mask === null || mask[k]) && Number.isFinite(v)) {
            const tv = this.t(v);
            if (Number.isFinite(tv)) sq[f] += (tv - m) * (tv - m);
          }
        }
      }
    }
    for (let f = 0; f < width; f++) {
      const nb = cnt[f];
      if (nb === 0) continue;
      const na = this.count[f];
      const mb = sum[f] / nb;
      const total = na + nb;
      const delta = mb - this.mean[f];
      this.mean[f] += (delta * nb) / total;
      this.m2[f] += sq[f] + (delta * delta * na * nb) / total;
      this.count[f] = total;
    }
  }

  finish(): { mean: Float64Array; std: Float64Array; allMissing: number[] } {
    const mean = Float64Array.from(this.mean);
    const std = new Float64Array(this.width);
    const allMissing: number[] = [];
    for (let f = 0; f < this.width; f++) {
      const s = Math.sqrt(this.m2[f] / this.count[f]);
      std[f] = this.count[f] === 0 ? 0 : Number.isFinite(s) && s >= 1e-12 ? s : 1;
      if (this.count[f] === 0) allMissing.push(f);
    }
    return { mean, std, allMissing };
  }
}

/** XGBoost takes NaN as missing but not +-inf: infinities (e.g. float32 overflow) become missing. */
export function infinitiesToNaN(x: Float32Array): number {
  let changed = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === Infinity || x[i] === -Infinity) {
      x[i] = Number.NaN;
      changed++;
    }
  }
  return changed;
}
