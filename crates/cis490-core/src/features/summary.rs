//! The five window statistics (docs/features.md, "Summary statistics"),
//! with sums left to right so the TypeScript twin gets the same doubles.

use super::channels::N_STATS;

/// numpy's default ("linear") quantile of an ascending slice (n >= 1).
#[inline]
pub fn quantile(s: &[f64], q: f64) -> f64 {
    let n = s.len();
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    s[lo] + (s[hi] - s[lo]) * frac
}

/// `(lo, hi, frac)` of docs/features.md's quantile rule for n values.
#[inline]
fn position(n: usize, q: f64) -> (usize, usize, f64) {
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    (lo, (lo + 1).min(n - 1), pos - lo as f64)
}

#[inline]
fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// p50 and p95 of finite values, reordering `v`: the same numbers as
/// sorting and applying `quantile`, but with two O(n) selections instead of
/// a sort (sorting was the largest single cost of the summary).
pub fn p50_p95(v: &mut [f64]) -> (f64, f64) {
    let n = v.len();
    let (l95, h95, f95) = position(n, 0.95);
    let (l50, h50, f50) = position(n, 0.5);
    // After selecting s[l95], everything above it is v[l95 + 1..], so s[l95 + 1] is their minimum.
    let (_, &mut s_l95, above) = v.select_nth_unstable_by(l95, f64::total_cmp);
    let s_h95 = if h95 == l95 { s_l95 } else { min_of(above) };
    // v[..=l95] now holds s[0..=l95] in some order: select s[l50] inside it.
    let (_, &mut s_l50, above50) = v[..=l95].select_nth_unstable_by(l50, f64::total_cmp);
    let s_h50 = if h50 == l50 {
        s_l50
    } else if h50 <= l95 {
        min_of(above50)
    } else {
        s_h95 // l50 == l95, so h50 == h95
    };
    (s_l50 + (s_h50 - s_l50) * f50, s_l95 + (s_h95 - s_l95) * f95)
}

/// mean, std, p50, p95, slope of finite samples `(t, v)` in time order into
/// `out`; all NaN for no sample. `sorted` is a reused scratch buffer.
pub fn window_stats(t: &[f64], v: &[f64], sorted: &mut Vec<f64>, out: &mut [f64]) {
    let n = v.len();
    if n == 0 {
        out[..N_STATS].fill(f64::NAN);
        return;
    }
    let nf = n as f64;
    let mut sum = 0.0;
    for &x in v {
        sum += x;
    }
    let mean = sum / nf;
    let mut ss = 0.0;
    for &x in v {
        ss += (x - mean) * (x - mean);
    }
    let std = (ss / nf).sqrt();

    sorted.clear();
    sorted.extend_from_slice(v);
    // Finite values only, so total_cmp is the numeric order (it only differs
    // on -0 vs 0, which give equal quantiles).
    let (p50, p95) = p50_p95(sorted);

    let mut tsum = 0.0;
    for &x in t {
        tsum += x;
    }
    let tm = tsum / nf;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..n {
        let dt = t[i] - tm;
        num += dt * (v[i] - mean);
        den += dt * dt;
    }
    let slope = if den > 0.0 { num / den } else { 0.0 };
    out[0] = mean;
    out[1] = std;
    out[2] = p50;
    out[3] = p95;
    out[4] = slope;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selection shortcut gives exactly the sorted-array quantiles.
    #[test]
    fn selection_equals_sort() {
        let mut seed = 12345u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in 1..200 {
            for _ in 0..20 {
                let v: Vec<f64> = (0..n).map(|_| ((next() % 50) as f64 - 10.0) * if next() % 7 == 0 { 1e6 } else { 0.25 }).collect();
                let mut s = v.clone();
                s.sort_by(f64::total_cmp);
                let mut w = v.clone();
                let (a, b) = p50_p95(&mut w);
                assert_eq!((a.to_bits(), b.to_bits()), (quantile(&s, 0.5).to_bits(), quantile(&s, 0.95).to_bits()), "{v:?}");
            }
        }
    }
}
