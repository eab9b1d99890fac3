//! Channel x time tensors (docs/features.md, "Tensors"): linear
//! interpolation of a channel's finite samples onto each window's grid.

use super::channels::N_CHANNELS;

/// Fills one channel's rows of `x`/`mask` for every window. `t`/`v`: the
/// channel's finite samples over the whole episode, time-sorted. `grid[j]`
/// = `j / hz`; row of window k starts at `(k * 46 + c) * T`.
/// `x`/`mask` come zeroed, so points without data are simply skipped.
/// `offsets` (the baseline medians per window): values become `value -
/// offsets[k]`, and a window whose offset is NaN stays 0 with mask 0.
#[allow(clippy::too_many_arguments)]
pub fn fill_channel(t: &[f64], v: &[f64], starts: &[f64], grid: &[f64], c: usize, offsets: Option<&[f64]>, x: &mut [f32], mask: &mut [u8]) {
    let n = t.len();
    if n == 0 {
        return;
    }
    let (first, last) = (t[0], t[n - 1]);
    let tl = grid.len();
    for (k, &a) in starts.iter().enumerate() {
        let base = (k * N_CHANNELS + c) * tl;
        let shift = offsets.map_or(0.0, |o| o[k]);
        if shift.is_nan() {
            continue;
        }
        // Windows overlap, so the grid is not monotonic across windows:
        // binary-search each window's first point, then move forward.
        let mut p = t.partition_point(|&ti| ti <= a + grid[0]).saturating_sub(1);
        for (j, &off) in grid.iter().enumerate() {
            let g = a + off;
            if g < first || g > last {
                continue;
            }
            // p = last index with t[p] <= g (exists: t[0] <= g).
            while p + 1 < n && t[p + 1] <= g {
                p += 1;
            }
            let val = if t[p] == g {
                v[p]
            } else {
                // t[p] < g <= last, so p + 1 < n and t[p + 1] > g.
                v[p] + (v[p + 1] - v[p]) * ((g - t[p]) / (t[p + 1] - t[p]))
            };
            x[base + j] = if offsets.is_some() { (val - shift) as f32 } else { val as f32 };
            mask[base + j] = 1;
        }
    }
}
