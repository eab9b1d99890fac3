//! Per-episode causal baseline (docs/features.md, "Baseline-relative
//! features"): every episode starts `clean`, so the first `baseline_s`
//! seconds of episode time are the episode's own idle reference. For window
//! k the baseline of a channel is the median of its finite samples with
//! `t < min(a_k, baseline_s)`: strictly before the window, so a live
//! detector can compute it. Which statistics a schema holds is a list of
//! `Stat`s; the default list is the five plain ones.

use super::summary::quantile;

/// One summary statistic. The plain five come from the window's samples;
/// `*_d` subtract the baseline median, `*_r` divide by it (NaN when it is 0
/// or missing); `missing` / `base_missing` are 0/1 indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Std,
    P50,
    P95,
    Slope,
    MeanD,
    P50D,
    P95D,
    MeanR,
    P95R,
    Missing,
    BaseMissing,
}

pub const DEFAULT_STATS: [Stat; 5] = [Stat::Mean, Stat::Std, Stat::P50, Stat::P95, Stat::Slope];

impl Stat {
    pub const ALL: [Stat; 12] = [
        Stat::Mean,
        Stat::Std,
        Stat::P50,
        Stat::P95,
        Stat::Slope,
        Stat::MeanD,
        Stat::P50D,
        Stat::P95D,
        Stat::MeanR,
        Stat::P95R,
        Stat::Missing,
        Stat::BaseMissing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Std => "std",
            Stat::P50 => "p50",
            Stat::P95 => "p95",
            Stat::Slope => "slope",
            Stat::MeanD => "mean_d",
            Stat::P50D => "p50_d",
            Stat::P95D => "p95_d",
            Stat::MeanR => "mean_r",
            Stat::P95R => "p95_r",
            Stat::Missing => "missing",
            Stat::BaseMissing => "base_missing",
        }
    }

    pub fn from_name(name: &str) -> Option<Stat> {
        Stat::ALL.iter().copied().find(|s| s.as_str() == name)
    }

    /// True for the statistics that read the baseline.
    pub fn needs_baseline(self) -> bool {
        matches!(self, Stat::MeanD | Stat::P50D | Stat::P95D | Stat::MeanR | Stat::P95R | Stat::BaseMissing)
    }

    /// This statistic from the window's plain five (`raw`: mean, std, p50,
    /// p95, slope; NaN without samples), its finite-sample count and the
    /// baseline median `m` (NaN when there is none).
    #[inline]
    pub fn value(self, raw: &[f64; 5], n: usize, m: f64) -> f64 {
        let ratio = |x: f64| if m != 0.0 && !m.is_nan() { x / m } else { f64::NAN };
        match self {
            Stat::Mean => raw[0],
            Stat::Std => raw[1],
            Stat::P50 => raw[2],
            Stat::P95 => raw[3],
            Stat::Slope => raw[4],
            Stat::MeanD => raw[0] - m,
            Stat::P50D => raw[2] - m,
            Stat::P95D => raw[3] - m,
            Stat::MeanR => ratio(raw[0]),
            Stat::P95R => ratio(raw[3]),
            Stat::Missing => (n == 0) as u8 as f64,
            Stat::BaseMissing => m.is_nan() as u8 as f64,
        }
    }
}

/// Baseline median of one channel for every window: `out[k]` = median of
/// the finite samples `v[i]` with `t[i] < min(starts[k], baseline_s)`, NaN
/// when there is none. `t` is time-sorted; `sorted` is scratch.
pub fn medians(t: &[f64], v: &[f64], starts: &[f64], baseline_s: f64, sorted: &mut Vec<f64>, out: &mut Vec<f64>) {
    out.clear();
    let mut last: Option<(usize, f64)> = None;
    for &a in starts {
        let cut = a.min(baseline_s);
        let n = t.partition_point(|&ti| ti < cut);
        let m = match last {
            Some((ln, lm)) if ln == n => lm,
            _ if n == 0 => f64::NAN,
            _ => {
                sorted.clear();
                sorted.extend_from_slice(&v[..n]);
                sorted.sort_unstable_by(f64::total_cmp);
                quantile(sorted, 0.5)
            }
        };
        last = Some((n, m));
        out.push(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_are_causal_and_capped_at_the_baseline_period() {
        let t = [-1.0, 0.5, 2.0, 4.0, 6.0, 9.0, 12.0, 30.0];
        let v = [7.0, 1.0, 3.0, 2.0, 100.0, 4.0, 1e9, 1e9];
        let mut sorted = Vec::new();
        let mut out = Vec::new();
        medians(&t, &v, &[0.0, 5.0, 10.0, 20.0], 10.0, &mut sorted, &mut out);
        // t < 0: [7]; t < 5: [7, 1, 3, 2] -> 2.5; t < 10 (cap): + 100, 4 -> 3.5; later samples never count.
        assert_eq!(out, vec![7.0, 2.5, 3.5, 3.5]);
        medians(&t[1..], &v[1..], &[0.0, 5.0], 10.0, &mut sorted, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 2.0);
    }

    #[test]
    fn stat_values_and_names() {
        let raw = [4.0, 1.0, 3.0, 6.0, 0.5];
        assert_eq!(Stat::MeanD.value(&raw, 3, 2.0), 2.0);
        assert_eq!(Stat::P95R.value(&raw, 3, 2.0), 3.0);
        assert!(Stat::MeanR.value(&raw, 3, 0.0).is_nan());
        assert!(Stat::MeanR.value(&raw, 3, -0.0).is_nan());
        assert!(Stat::P50D.value(&raw, 3, f64::NAN).is_nan());
        assert_eq!(Stat::Missing.value(&[f64::NAN; 5], 0, 1.0), 1.0);
        assert_eq!(Stat::BaseMissing.value(&raw, 3, f64::NAN), 1.0);
        for s in Stat::ALL {
            assert_eq!(Stat::from_name(s.as_str()), Some(s));
        }
    }
}
