// Learning-rate schedule: linear warm-up over the first `warmupFraction` of
// the planned steps (from lr/warmupSteps up to lr), then a cosine decay to 0
// at the last planned step. Planned steps = max epochs x steps per epoch;
// early stopping simply ends the run partway down the curve.

export interface Schedule {
  totalSteps: number;
  warmupSteps: number;
  /** Learning rate of step `step` (0-based). */
  at(step: number): number;
}

export function warmupCosine(baseLr: number, totalSteps: number, warmupFraction = 0.05): Schedule {
  if (!(baseLr > 0) || !Number.isFinite(baseLr)) throw new Error(`learning rate must be a positive number, got ${baseLr}`);
  const total = Math.max(1, Math.floor(totalSteps));
  const warmupSteps = Math.min(total, Math.max(0, Math.round(total * warmupFraction)));
  return {
    totalSteps: total,
    warmupSteps,
    at(step: number): number {
      if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
      const decay = total - warmupSteps;
      if (decay <= 0) return baseLr;
      const progress = Math.min(1, (step - warmupSteps) / decay);
      return 0.5 * baseLr * (1 + Math.cos(Math.PI * progress));
    },
  };
}
