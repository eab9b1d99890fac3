//! Bootstrap behaviour against its definition: resample r = the windows of
//! the units drawn by the (seed, r) stream, scored as sklearn would score
//! them (metrics::macro_f1 on the resampled arrays).

use cis490_stats::rng::Xoshiro128ss;
use cis490_stats::*;

/// Small deterministic generator for test data (not the bootstrap RNG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(n)) as u32
    }
}

/// `episodes` episodes of 1..=2*len windows; truth constant per episode;
/// the prediction is right with probability `acc_pct` %.
fn data(seed: u64, episodes: u32, len: u32, k: u32, acc_pct: u32) -> (Vec<i32>, Vec<i32>, Vec<u32>) {
    let mut g = Lcg(seed);
    let (mut t, mut p, mut grp) = (vec![], vec![], vec![]);
    for e in 0..episodes {
        let truth = g.next(k) as i32;
        for _ in 0..1 + g.next(2 * len) {
            t.push(truth);
            p.push(if g.next(100) < acc_pct { truth } else { g.next(k) as i32 });
            grp.push(e * 7 + 3); // sparse, non-contiguous ids
        }
    }
    (t, p, grp)
}

/// Another model's predictions for the same truth.
fn repredict(t: &[i32], seed: u64, k: u32, acc_pct: u32) -> Vec<i32> {
    let mut g = Lcg(seed);
    t.iter().map(|&truth| if g.next(100) < acc_pct { truth } else { g.next(k) as i32 }).collect()
}

fn opts(resamples: u32, seed: u32, threads: usize, unit: Option<Unit>) -> BootstrapOptions {
    BootstrapOptions { resamples, seed, threads, unit, keep_resamples: true, ..Default::default() }
}

/// The windows of resample r by brute force.
fn resample_indices(groups: Option<&[u32]>, n: usize, seed: u32, r: u32) -> Vec<usize> {
    let mut rng = Xoshiro128ss::for_resample(seed, r);
    match groups {
        None => (0..n).map(|_| rng.index(n as u32) as usize).collect(),
        Some(g) => {
            let mut ids: Vec<u32> = g.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut out = vec![];
            for _ in 0..ids.len() {
                let id = ids[rng.index(ids.len() as u32) as usize];
                out.extend((0..n).filter(|&i| g[i] == id));
            }
            out
        }
    }
}

#[test]
fn resamples_match_sklearn_on_the_resampled_windows() {
    let (t, p, g) = data(1, 40, 5, 4, 70);
    for (groups, unit) in [(None, None), (Some(&g[..]), None), (Some(&g[..]), Some(Unit::Window))] {
        let res = bootstrap_f1(&t, &p, groups, &opts(50, 9, 2, unit)).unwrap();
        let vals = res.resample_macro_f1.unwrap();
        let by_unit = if res.unit == Unit::Episode { groups } else { None };
        for r in 0..50 {
            let idx = resample_indices(by_unit, t.len(), 9, r);
            let rt: Vec<i32> = idx.iter().map(|&i| t[i]).collect();
            let rp: Vec<i32> = idx.iter().map(|&i| p[i]).collect();
            let want = macro_f1(&rt, &rp);
            assert!((vals[r as usize] - want).abs() < 1e-12, "resample {r}: {} vs {want}", vals[r as usize]);
        }
        assert!((res.macro_f1.point - macro_f1(&t, &p)).abs() < 1e-15);
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let (t, p, g) = data(2, 300, 8, 6, 60);
    let one = bootstrap_f1(&t, &p, Some(&g), &opts(400, 5, 1, None)).unwrap();
    for threads in [2, 3, 7] {
        assert_eq!(one, bootstrap_f1(&t, &p, Some(&g), &opts(400, 5, threads, None)).unwrap());
    }
    let q = repredict(&t, 3, 6, 40);
    let p1 = paired_bootstrap(&t, &p, &q, Some(&g), &opts(300, 5, 1, None)).unwrap();
    assert_eq!(p1, paired_bootstrap(&t, &p, &q, Some(&g), &opts(300, 5, 2, None)).unwrap());
    assert_ne!(one, bootstrap_f1(&t, &p, Some(&g), &opts(400, 6, 2, None)).unwrap(), "the seed matters");
}

#[test]
fn perfect_predictions_give_a_degenerate_interval() {
    let t = vec![0, 1, 2, 2, 1, 0, 5];
    let r = bootstrap_f1(&t, &t, None, &opts(200, 1, 2, None)).unwrap();
    assert_eq!((r.macro_f1.point, r.macro_f1.lo, r.macro_f1.hi), (1.0, Some(1.0), Some(1.0)));
    assert_eq!(r.labels, vec![0, 1, 2, 5]);
    // Class 5 is a single window: absent from some resamples, which are
    // left out of its interval rather than counted as 0.
    let c5 = &r.per_class[3];
    assert!(c5.resamples_present > 0 && c5.resamples_present < 200);
    assert_eq!((c5.lo, c5.hi), (Some(1.0), Some(1.0)));
}

#[test]
fn percentile_matches_numpy_linear() {
    // np.percentile([1,2,3,4,10], [2.5, 97.5]) = [1.1, 9.4]
    let (lo, hi) = percentile_ci(&[10.0, 3.0, f64::NAN, 1.0, 2.0, 4.0], 0.95);
    assert!((lo.unwrap() - 1.1).abs() < 1e-12 && (hi.unwrap() - 9.4).abs() < 1e-12);
    assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    assert_eq!(quantile_sorted(&[7.0], 0.975), 7.0);
    assert_eq!(percentile_ci(&[f64::NAN], 0.95), (None, None));
}

#[test]
fn paired_bootstrap_sees_a_clearly_better_model() {
    let (t, good, g) = data(4, 200, 6, 6, 90);
    let bad = repredict(&t, 5, 6, 30);
    let r = paired_bootstrap(&t, &good, &bad, Some(&g), &opts(500, 2, 2, None)).unwrap();
    assert!(r.diff.point > 0.3 && r.diff.lo.unwrap() > 0.0 && r.excludes_zero, "{r:?}");
    assert_eq!(r.frac_diff_le_zero, 0.0);
    assert!((r.diff.point - (macro_f1(&t, &good) - macro_f1(&t, &bad))).abs() < 1e-15);
    let same = paired_bootstrap(&t, &good, &good, Some(&g), &opts(100, 2, 2, None)).unwrap();
    assert_eq!((same.diff.lo, same.diff.hi, same.excludes_zero, same.frac_diff_le_zero), (Some(0.0), Some(0.0), false, 1.0));
    // The paired resamples of a alone equal the single-model bootstrap's.
    let single = bootstrap_f1(&t, &good, Some(&g), &opts(500, 2, 2, None)).unwrap();
    assert_eq!((r.macro_f1_a.lo, r.macro_f1_a.hi), (single.macro_f1.lo, single.macro_f1.hi));
    // Also with window units, where the two use different loop layouts.
    let w = Some(Unit::Window);
    let rw = paired_bootstrap(&t, &good, &bad, Some(&g), &opts(300, 2, 2, w)).unwrap();
    let sw = bootstrap_f1(&t, &bad, None, &opts(300, 2, 1, None)).unwrap();
    assert_eq!((rw.macro_f1_b.lo, rw.macro_f1_b.hi, rw.units), (sw.macro_f1.lo, sw.macro_f1.hi, t.len()));
}

#[test]
fn cluster_bootstrap_is_wider_on_clustered_data() {
    // Whole episodes right or wrong: windows are far from independent.
    let mut g = Lcg(11);
    let (mut t, mut p, mut grp) = (vec![], vec![], vec![]);
    for e in 0..150u32 {
        let truth = g.next(3) as i32;
        let pred = if g.next(100) < 70 { truth } else { (truth + 1) % 3 };
        for _ in 0..20 {
            t.push(truth);
            p.push(pred);
            grp.push(e);
        }
    }
    let ep = bootstrap_f1(&t, &p, Some(&grp), &opts(1000, 3, 2, None)).unwrap();
    let win = bootstrap_f1(&t, &p, Some(&grp), &opts(1000, 3, 2, Some(Unit::Window))).unwrap();
    let width = |r: &BootstrapResult| r.macro_f1.hi.unwrap() - r.macro_f1.lo.unwrap();
    assert_eq!((ep.unit, ep.units, win.units), (Unit::Episode, 150, 3000));
    assert!(width(&ep) > 3.0 * width(&win), "episode {} vs window {}", width(&ep), width(&win));
}

#[test]
fn bad_inputs_are_errors() {
    let o = BootstrapOptions::default();
    assert!(bootstrap_f1(&[], &[], None, &o).unwrap_err().contains("empty"));
    assert!(bootstrap_f1(&[0, 1], &[0], None, &o).unwrap_err().contains("length mismatch"));
    assert!(bootstrap_f1(&[0, -1], &[0, 1], None, &o).unwrap_err().contains("non-negative"));
    assert!(bootstrap_f1(&[0, 1], &[0, 1], Some(&[0]), &o).unwrap_err().contains("groups"));
    let ep = BootstrapOptions { unit: Some(Unit::Episode), ..Default::default() };
    assert!(bootstrap_f1(&[0, 1], &[0, 1], None, &ep).unwrap_err().contains("needs groups"));
    assert!(paired_bootstrap(&[0, 1], &[0, 1], &[1], None, &o).unwrap_err().contains("pred_b"));
    assert!(BootstrapOptions::from_json(r#"{"ci": 1.5}"#).is_err());
    assert!(BootstrapOptions::from_json(r#"{"resamples": 0}"#).is_err());
    assert!(BootstrapOptions::from_json(r#"{"seed": -1}"#).is_err());
    assert!(BootstrapOptions::from_json(r#"{"bogus": 1}"#).is_err());
    assert!(BootstrapOptions::from_json(r#"{"unit": "episode", "seed": 4294967295, "keepResamples": true}"#).is_ok());
}

#[test]
fn fixed_labels_match_sklearn_labels_on_the_resampled_windows() {
    // Truth has classes 0..3, predictions add a stray 4; the fixed list has
    // 0..3 plus 5, which never occurs (scores 0 in every resample).
    let (t, p, g) = data(6, 40, 5, 4, 70);
    let mut p = p;
    p[3] = 4;
    let labels = vec![0, 1, 2, 3, 5];
    let o = BootstrapOptions { labels: Some(labels.clone()), ..opts(60, 4, 2, None) };
    let res = bootstrap_f1(&t, &p, Some(&g), &o).unwrap();
    assert_eq!(res.labels, labels);
    assert_eq!(res.per_class.len(), 5);
    assert_eq!((res.per_class[4].point, res.per_class[4].resamples_present), (0.0, 0));
    assert!((res.macro_f1.point - macro_f1_labels(&t, &p, &labels)).abs() < 1e-15);
    assert!(res.macro_f1.point < macro_f1_labels(&t, &p, &[0, 1, 2, 3]), "the absent class pulls the mean down");
    let vals = res.resample_macro_f1.unwrap();
    for r in 0..60 {
        let idx = resample_indices(Some(&g), t.len(), 4, r);
        let rt: Vec<i32> = idx.iter().map(|&i| t[i]).collect();
        let rp: Vec<i32> = idx.iter().map(|&i| p[i]).collect();
        let want = macro_f1_labels(&rt, &rp, &labels);
        assert!((vals[r as usize] - want).abs() < 1e-12, "resample {r}: {} vs {want}", vals[r as usize]);
    }
    // Paired: both models over the same list, so a copy of a differs by 0
    // and a model's paired interval equals its single bootstrap's.
    let q = repredict(&t, 8, 4, 40);
    let pr = paired_bootstrap(&t, &p, &q, Some(&g), &o).unwrap();
    assert!((pr.diff.point - (macro_f1_labels(&t, &p, &labels) - macro_f1_labels(&t, &q, &labels))).abs() < 1e-15);
    assert_eq!((pr.macro_f1_a.lo, pr.macro_f1_a.hi), (res.macro_f1.lo, res.macro_f1.hi));
    for bad in [r#"{"labels": []}"#, r#"{"labels": [2, 1]}"#, r#"{"labels": [1, 1]}"#, r#"{"labels": [-1, 0]}"#] {
        assert!(BootstrapOptions::from_json(bad).is_err(), "{bad}");
    }
    assert!(BootstrapOptions::from_json(r#"{"labels": null}"#).unwrap().labels.is_none());
}
