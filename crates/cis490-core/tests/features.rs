//! The feature rules of docs/features.md, one test per rule, on tiny
//! hand-built decoded episodes (expected values computed by hand).

mod common;

use cis490_core::features::{featurize, featurize_path, featurize_reader, summary::quantile, EpisodeWindows, FeatureOptions, FeatureRequest, CHANNELS};
use cis490_core::jstr::JsStr;
use cis490_core::parse::Table;
use cis490_core::{DecodedEpisode, InspectOptions};

const T0: i64 = 1_775_124_672_000_000_000;
const S: i64 = 1_000_000_000;

fn ch(name: &str) -> usize {
    CHANNELS.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no channel {name}"))
}

/// An episode with labels (seconds, phase) and a meta duration (None: fall back to rows).
fn episode(labels: &[(f64, &str)], duration: Option<f64>) -> DecodedEpisode {
    let mut ep = DecodedEpisode::default();
    for &(s, p) in labels {
        ep.labels.t_wall_ns.push(T0 + (s * 1e9).round() as i64);
        ep.labels.t_mono_ns.push(None);
        ep.labels.phase.push(JsStr::from_text(p));
    }
    ep.meta = Some(cis490_core::meta::Meta { duration_observed_s: duration, ..Default::default() });
    ep
}

/// Appends rows at `t_ns` (relative to T0) setting column `col`; other columns NaN.
fn rows(t: &mut Table, col: &str, pts: &[(i64, f64)]) {
    let ci = t.names.iter().position(|n| *n == col).unwrap();
    for &(tn, v) in pts {
        t.t_wall_ns.push(T0 + tn);
        t.t_mono_ns.push(None);
        for (k, c) in t.cols.iter_mut().enumerate() {
            c.push(if k == ci { v } else { f64::NAN });
        }
    }
}

fn opts(tensors: bool) -> FeatureOptions {
    FeatureOptions { tensors, ..FeatureOptions::default() }
}

fn stats(w: &EpisodeWindows, k: usize, c: usize) -> [f64; 5] {
    let at = k * 230 + c * 5;
    w.summary[at..at + 5].try_into().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

fn assert_stats(got: [f64; 5], want: [f64; 5]) {
    for i in 0..5 {
        assert!(close(got[i], want[i]), "stat {i}: got {got:?}, want {want:?}");
    }
}

#[test]
fn counter_becomes_rate_first_row_dropped() {
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    rows(&mut ep.proc, "cpu_user_jiffies", &[(0, 0.0), (S, 10.0), (2 * S, 30.0), (3 * S, 30.0)]);
    let w = featurize(&ep, &opts(false));
    assert_eq!(w.n_windows, 1);
    // rates 10 @1, 20 @2, 0 @3
    let std = (200.0f64 / 3.0).sqrt();
    assert_stats(stats(&w, 0, ch("proc.cpu_user_jiffies")), [10.0, std, 10.0, 19.0, -5.0]);
}

#[test]
fn counter_reset_is_nan() {
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    rows(&mut ep.proc, "io_write_bytes", &[(0, 0.0), (S, 10.0), (2 * S, 5.0), (3 * S, 15.0)]);
    let w = featurize(&ep, &opts(true));
    // finite rates: 10 @1, 10 @3 (the reset at 2 is NaN, not -5)
    assert_stats(stats(&w, 0, ch("proc.io_write_bytes")), [10.0, 0.0, 10.0, 10.0, 0.0]);
    // Interpolation skips the NaN sample: at t = 2.0 the value is 10.
    let c = ch("proc.io_write_bytes");
    let row = |j: usize| (c * 100) + j;
    let x = w.x.as_ref().unwrap();
    let m = w.mask.as_ref().unwrap();
    assert_eq!((x[row(20)], m[row(20)]), (10.0, 1));
    assert_eq!(m[row(9)], 0); // before the first rate sample (t = 1)
    assert_eq!(m[row(31)], 0); // after the last (t = 3)
}

#[test]
fn zero_time_step_and_non_finite_values_are_nan() {
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    // Two rows at the same instant: the rate between them is NaN; the next uses the second row.
    rows(&mut ep.proc, "minor_faults", &[(S, 0.0), (S, 5.0), (2 * S, 7.0), (3 * S, f64::NAN), (4 * S, 20.0)]);
    let w = featurize(&ep, &opts(false));
    // rates: NaN @1 (dt 0), 2 @2, NaN @3, NaN @4 -> one sample
    assert_stats(stats(&w, 0, ch("proc.minor_faults")), [2.0, 0.0, 2.0, 2.0, 0.0]);
    // A level channel with infinities: only the finite sample counts.
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    rows(&mut ep.proc, "rss_bytes", &[(S, f64::INFINITY), (2 * S, 4.0), (3 * S, f64::NAN)]);
    let w = featurize(&ep, &opts(false));
    assert_stats(stats(&w, 0, ch("proc.rss_bytes")), [4.0, 0.0, 4.0, 4.0, 0.0]);
}

#[test]
fn repeated_and_out_of_order_rows_are_sorted_stably() {
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    // File order: t=2 a, t=1 b, t=1 c, t=3 d  ->  sorted: b, c (tie keeps file order), a, d.
    rows(&mut ep.netflow, "bytes_out", &[(2 * S, 100.0), (S, 10.0), (S, 20.0), (3 * S, 300.0)]);
    // A counter given out of order is differenced in time order: 0 @0, 10 @1, 30 @2.
    rows(&mut ep.guest, "eth0_tx_bytes", &[(2 * S, 30.0), (0, 0.0), (S, 10.0)]);
    let w = featurize(&ep, &opts(true));
    let c = ch("netflow.bytes_out");
    let st = stats(&w, 0, c);
    assert!(close(st[0], 107.5));
    assert!(close(st[2], 60.0)); // sorted values 10, 20, 100, 300: median (20+100)/2
    let x = w.x.as_ref().unwrap();
    // g = 1.0 hits the tie: the last sample with t <= g is c (20).
    assert_eq!(x[c * 100 + 10], 20.0);
    // g = 1.5: between c (20 @1) and a (100 @2).
    assert_eq!(x[c * 100 + 15], 60.0);
    let g = ch("guest.eth0_tx_bytes");
    assert_stats(stats(&w, 0, g), [15.0, 5.0, 15.0, 19.5, 10.0]);
}

#[test]
fn single_sample_window_has_zero_std_and_slope() {
    let mut ep = episode(&[(0.0, "clean")], Some(20.0));
    rows(&mut ep.guest, "load_1m", &[(3 * S, 0.7), (12 * S, 1.1)]);
    let w = featurize(&ep, &opts(false));
    assert_eq!(w.n_windows, 3); // starts 0, 5, 10
    let c = ch("guest.load_1m");
    assert_stats(stats(&w, 0, c), [0.7, 0.0, 0.7, 0.7, 0.0]);
    assert_stats(stats(&w, 1, c), [1.1, 0.0, 1.1, 1.1, 0.0]); // [5, 15): only t = 12
    assert_stats(stats(&w, 2, c), [1.1, 0.0, 1.1, 1.1, 0.0]);
}

#[test]
fn window_membership_is_half_open() {
    let mut ep = episode(&[(0.0, "clean")], Some(15.0));
    rows(&mut ep.netflow, "pkts_in", &[(5 * S, 1.0), (10 * S, 2.0)]);
    let w = featurize(&ep, &opts(false));
    let c = ch("netflow.pkts_in");
    assert_stats(stats(&w, 0, c), [1.0, 0.0, 1.0, 1.0, 0.0]); // [0,10): t=10 excluded
    assert_stats(stats(&w, 1, c), [1.5, 0.5, 1.5, 1.95, 0.2]); // [5,15): both
}

#[test]
fn missing_sources_give_nan_and_no_mask() {
    let mut ep = episode(&[(0.0, "clean")], Some(10.0));
    rows(&mut ep.proc, "rss_bytes", &[(0, 1.0), (S, 2.0)]);
    let w = featurize(&ep, &opts(true));
    let (x, m) = (w.x.as_ref().unwrap(), w.mask.as_ref().unwrap());
    for (c, chan) in CHANNELS.iter().enumerate() {
        if chan.name == "proc.rss_bytes" {
            continue;
        }
        assert!(stats(&w, 0, c).iter().all(|v| v.is_nan()), "{}", chan.name);
        assert!(m[c * 100..(c + 1) * 100].iter().all(|&b| b == 0));
        assert!(x[c * 100..(c + 1) * 100].iter().all(|&v| v == 0.0));
    }
}

#[test]
fn window_count_follows_duration() {
    let count = |d: Option<f64>| {
        let mut ep = episode(&[(0.0, "clean")], d);
        rows(&mut ep.netflow, "pkts_in", &[(0, 1.0), (37 * S, 1.0)]);
        let w = featurize(&ep, &opts(false));
        (w.n_windows, w.duration_s)
    };
    assert_eq!(count(Some(50.0)).0, 9);
    assert_eq!(count(Some(49.99)).0, 8);
    assert_eq!(count(Some(10.0)).0, 1);
    assert_eq!(count(Some(9.99)).0, 0);
    // No (or non-positive) meta duration: the last row, 37 s -> starts 0..25.
    assert_eq!(count(None), (6, Some(37.0)));
    assert_eq!(count(Some(-1.0)), (6, Some(37.0)));
    // Starts are k * stride.
    let mut ep = episode(&[(0.0, "clean")], Some(20.0));
    rows(&mut ep.netflow, "pkts_in", &[(0, 1.0)]);
    let w = featurize(&ep, &FeatureOptions { window_s: 4.0, stride_s: 2.5, ..opts(false) });
    assert_eq!(w.t_start_s, vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0]);
}

#[test]
fn no_labels_no_windows_no_error() {
    let mut ep = DecodedEpisode::default();
    rows(&mut ep.netflow, "pkts_in", &[(0, 1.0)]);
    let w = featurize(&ep, &opts(true));
    assert_eq!((w.n_windows, w.error.as_deref(), w.t0_wall_ns, w.duration_s), (0, None, None, None));
    assert_eq!(w.x.as_deref(), Some(&[][..]));
    // Labels but no rows and no meta duration: no windows either.
    let w = featurize(&episode(&[(0.0, "clean")], None), &opts(false));
    assert_eq!((w.n_windows, w.t0_wall_ns, w.duration_s), (0, Some(T0), None));
}

#[test]
fn label_is_the_phase_at_the_window_centre() {
    // Windows start 0, 5, 10, 15; centres 5, 10, 15, 20.
    let ep = episode(&[(0.0, "clean"), (10.0, "armed"), (15.0, "infecting"), (19.0, "infected_running"), (21.0, "dormant")], Some(25.0));
    let w = featurize(&ep, &opts(false));
    assert_eq!(w.phase, vec![0, 1, 2, 3]); // centre == label time counts (rel <= c)
    // Before the first label: clean. t0 is the first label in *file* order.
    let ep = episode(&[(6.0, "armed"), (0.0, "failed"), (20.0, "exfiltrating")], Some(36.0));
    let w = featurize(&ep, &opts(false));
    // rel: 0 (armed, t0), -6 (failed), 14 (unknown). Centres 5, 10, 15, 20, 25, 30:
    // the last label in file order with rel <= c.
    assert_eq!(w.phase, vec![5, 5, -1, -1, -1, -1]);
}

#[test]
fn quantiles_match_numpy_linear() {
    let q = |v: &[f64], p: f64| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        quantile(&s, p)
    };
    // np.percentile([0.1, 7, -3, 2.5, 100], [50, 95]) == [2.5, 81.4]
    assert!(close(q(&[0.1, 7.0, -3.0, 2.5, 100.0], 0.5), 2.5));
    assert!(close(q(&[0.1, 7.0, -3.0, 2.5, 100.0], 0.95), 81.4));
    // np.percentile([1, 2, 3, 4], [50, 95]) == [2.5, 3.85]
    assert!(close(q(&[4.0, 3.0, 2.0, 1.0], 0.5), 2.5));
    assert!(close(q(&[4.0, 3.0, 2.0, 1.0], 0.95), 3.85));
    assert_eq!(q(&[5.0], 0.95), 5.0);
}

#[test]
fn tensor_interpolates_across_window_edges_with_exact_hits() {
    let mut ep = episode(&[(0.0, "clean")], Some(15.0));
    // Samples at 0.05 (1), 0.25 (3), 7.0 (10), 12.0 (0).
    rows(&mut ep.guest, "mem_cached", &[(50_000_000, 1.0), (250_000_000, 3.0), (7 * S, 10.0), (12 * S, 0.0)]);
    let w = featurize(&ep, &opts(true));
    assert_eq!(w.n_windows, 2);
    let c = ch("guest.mem_cached");
    let (x, m) = (w.x.as_ref().unwrap(), w.mask.as_ref().unwrap());
    let at = |k: usize, j: usize| (k * 46 + c) * 100 + j;
    assert_eq!(m[at(0, 0)], 0); // 0.0 < first sample
    assert!((x[at(0, 1)] - 1.5).abs() < 1e-6 && m[at(0, 1)] == 1);
    assert!((x[at(0, 2)] - 2.5).abs() < 1e-6);
    assert_eq!(x[at(0, 70)], 10.0); // exact hit at 7.0
    // Window 1 starts at 5: g = 5.0 interpolates between 0.25 (3) and 7.0 (10),
    // samples outside the window included.
    let want = 3.0 + 7.0 * ((5.0 - 0.25) / (7.0 - 0.25));
    assert!((x[at(1, 0)] as f64 - want).abs() < 1e-5);
    assert_eq!((x[at(1, 70)], m[at(1, 70)]), (0.0, 1)); // exact hit at 12.0 (value 0)
    assert_eq!(m[at(1, 71)], 0); // after the last sample
    assert_eq!(x.len(), 2 * 46 * 100);
}

#[test]
fn errors_and_limits() {
    let o = opts(true);
    let w = featurize_path(std::path::Path::new("/nonexistent/x.tar.zst"), &InspectOptions::default(), &o);
    assert_eq!((w.error.as_deref(), w.n_windows), (Some("ENOENT"), 0));
    let w = featurize_reader(&b"not zstd"[..], &InspectOptions::default(), &o);
    assert_eq!(w.error.as_deref(), Some("zstd-error"));
    let w = featurize(&episode(&[(0.0, "clean")], Some(1e9)), &o);
    assert_eq!((w.error.as_deref(), w.n_windows), (Some("limit:windows"), 0));
    let w = featurize(&episode(&[(0.0, "clean")], Some(1e5)), &o); // 19 999 windows x 4600 values
    assert_eq!(w.error.as_deref(), Some("limit:tensor-values"));
    assert!(featurize(&episode(&[(0.0, "clean")], Some(1e5)), &opts(false)).error.is_none());
}

#[test]
fn options_json() {
    let r = FeatureRequest::from_json(r#"{"window_s": 4, "tensors": true, "inspect": {"max_rows": 10}}"#).unwrap();
    assert_eq!((r.features.window_s, r.features.stride_s, r.features.hz, r.features.tensors), (4.0, 5.0, 10.0, true));
    assert_eq!(r.inspect.max_rows, 10);
    for bad in [r#"{"window":1}"#, r#"{"hz":0}"#, r#"{"stride_s":"5"}"#, r#"{"inspect":{"nope":1}}"#, "[]", r#"{"window_s":0.01}"#] {
        assert!(FeatureRequest::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn realistic_archive_end_to_end() {
    let data = common::realistic_episode(3);
    let w = featurize_reader(&data[..], &InspectOptions::default(), &opts(true));
    assert!(w.error.is_none());
    assert!(w.n_windows > 0);
    assert_eq!(w.summary.len(), w.n_windows * 230);
    assert_eq!(w.x.as_ref().unwrap().len(), w.n_windows * 46 * 100);
}
