//! Per-channel samples (docs/features.md, "Per-channel samples"): rows of
//! each source sorted by `t_wall_ns` (stable), counters turned into rates,
//! and only *finite* samples kept — statistics and interpolation never look
//! at the others, so dropping them here is the same as keeping them marked.

use super::channels::{Kind, Source, CHANNELS, N_CHANNELS};
use crate::parse::DecodedEpisode;
use crate::signals::ns_diff_s;

/// Finite samples of all 46 channels in flat buffers (one allocation per
/// episode, not per channel): channel `c` is `t[off[c]..off[c+1]]`, time-sorted.
#[derive(Default, Debug)]
pub struct Samples {
    pub t: Vec<f64>,
    pub v: Vec<f64>,
    /// N_CHANNELS + 1 offsets.
    pub off: Vec<usize>,
}

impl Samples {
    pub fn channel(&self, c: usize) -> (&[f64], &[f64]) {
        let (a, b) = (self.off[c], self.off[c + 1]);
        (&self.t[a..b], &self.v[a..b])
    }
}

/// Reusable buffers for `build` (row order and row times of one source).
#[derive(Default)]
pub struct SeriesScratch {
    order: Vec<usize>,
    row_t: Vec<f64>,
}

/// Stable time order of a source's rows. Telemetry is nearly always already
/// in order, so check first and skip the sort.
fn sort_rows(tw: &[i64], order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..tw.len());
    if !tw.windows(2).all(|w| w[0] <= w[1]) {
        order.sort_by_key(|&i| tw[i]); // slice::sort_by_key is stable
    }
}

pub fn build(ep: &DecodedEpisode, t0: i64, out: &mut Samples, sc: &mut SeriesScratch) {
    out.t.clear();
    out.v.clear();
    out.off.clear();
    out.off.resize(N_CHANNELS + 1, 0);
    let mut current: Option<Source> = None;
    for (c, ch) in CHANNELS.iter().enumerate() {
        out.off[c] = out.t.len();
        let table = ch.source.table(ep);
        let tw = &table.t_wall_ns;
        // Channels of one source are contiguous in the registry: sort once per source.
        if current != Some(ch.source) {
            current = Some(ch.source);
            sort_rows(tw, &mut sc.order);
            sc.row_t.clear();
            sc.row_t.extend(sc.order.iter().map(|&i| ns_diff_s(tw[i], t0)));
        }
        let col = &table.cols[ch.column];
        let (order, row_t) = (&sc.order, &sc.row_t);
        match ch.kind {
            Kind::Level => {
                for (k, &i) in order.iter().enumerate() {
                    let v = col[i];
                    if v.is_finite() {
                        out.t.push(row_t[k]);
                        out.v.push(v);
                    }
                }
            }
            Kind::Counter => {
                for k in 1..order.len() {
                    if let Some(r) = rate(tw[order[k - 1]], col[order[k - 1]], tw[order[k]], col[order[k]]) {
                        out.t.push(row_t[k]);
                        out.v.push(r);
                    }
                }
            }
        }
    }
    out.off[N_CHANNELS] = out.t.len();
}

/// Per-second rate between two consecutive (time-sorted) rows; None is the
/// doc's NaN: zero time step, a non-finite value, or a counter reset.
#[inline]
pub fn rate(tw_prev: i64, v_prev: f64, tw: i64, v: f64) -> Option<f64> {
    let dt_ns = tw as i128 - tw_prev as i128;
    if dt_ns == 0 || !v.is_finite() || !v_prev.is_finite() {
        return None;
    }
    let d = v - v_prev;
    if d < 0.0 {
        return None; // counter reset (VM restart)
    }
    let r = d / ((dt_ns as f64) / 1e9);
    r.is_finite().then_some(r)
}
