// Quantiles and percentile intervals with numpy's default ("linear")
// convention, as crates/cis490-stats computes them.

/** numpy's default ("linear") quantile of ascending values. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Percentile interval of the finite values: quantiles (1-ci)/2 and (1+ci)/2. */
export function percentileCi(values: ArrayLike<number>, ci: number): [number | null, number | null] {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  if (finite.length === 0) return [null, null];
  const s = Float64Array.from(finite).sort();
  return [quantileSorted(s, (1 - ci) / 2), quantileSorted(s, (1 + ci) / 2)];
}
