//! Threshold-free detection metrics of a score against binary truth: ROC
//! AUC (trapezoidal, ties as one step, = scikit-learn's roc_auc_score),
//! PR AUC as average precision (= average_precision_score) and the TPR at
//! a false-positive-rate budget (the best ROC point with FPR <= budget),
//! with percentile bootstrap intervals. The windows are sorted by score
//! once; a resample only reweights them (weight = how often the window's
//! unit was drawn), so each resample is one O(n) walk, never a sort.
//! Resample r draws U unit indices from the (seed, r) stream, as the F1
//! bootstrap does. Twin: src/reference/auc.ts; docs/statistics.md.

use crate::bootstrap::{percentile_ci, Interval, Unit};
use crate::rng::Xoshiro128ss;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub type Result<T> = std::result::Result<T, String>;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AucOptions {
    pub resamples: u32,
    pub seed: u32,
    /// 0 = all available cores.
    pub threads: usize,
    pub ci: f64,
    /// None = episode when groups are given, else window.
    pub unit: Option<Unit>,
    /// The false-positive-rate budget of `tpr_at_fpr`.
    pub max_fpr: f64,
}

impl Default for AucOptions {
    fn default() -> Self {
        AucOptions { resamples: 1000, seed: 0, threads: 0, ci: 0.95, unit: None, max_fpr: 0.01 }
    }
}

impl AucOptions {
    pub fn from_json(text: &str) -> Result<Self> {
        let o: AucOptions = serde_json::from_str(if text.trim().is_empty() { "{}" } else { text }).map_err(|e| format!("bad AUC options: {e}"))?;
        if !(1..=10_000_000).contains(&o.resamples) {
            return Err(format!("resamples must be in 1..=10000000, got {}", o.resamples));
        }
        if !(o.ci > 0.0 && o.ci < 1.0) {
            return Err(format!("ci must be in (0, 1), got {}", o.ci));
        }
        if !(o.max_fpr >= 0.0 && o.max_fpr <= 1.0) {
            return Err(format!("maxFpr must be in [0, 1], got {}", o.max_fpr));
        }
        Ok(o)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AucResult {
    pub unit: Unit,
    pub units: usize,
    pub windows: usize,
    pub positives: usize,
    pub negatives: usize,
    pub resamples: u32,
    pub seed: u32,
    pub ci: f64,
    pub max_fpr: f64,
    pub roc_auc: Interval,
    pub pr_auc: Interval,
    pub tpr_at_fpr: Interval,
}

impl AucResult {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }
}

/// Windows in descending score order, with the end of each run of equal
/// scores (a threshold takes a whole run or none of it).
pub struct Ranked {
    order: Vec<u32>,
    run_end: Vec<u32>,
}

impl Ranked {
    pub fn new(score: &[f64]) -> Ranked {
        let mut order: Vec<u32> = (0..score.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| score[b as usize].partial_cmp(&score[a as usize]).expect("scores are not NaN"));
        let mut run_end = Vec::new();
        for k in 1..=order.len() {
            if k == order.len() || score[order[k] as usize] != score[order[k - 1] as usize] {
                run_end.push(k as u32);
            }
        }
        Ranked { order, run_end }
    }

    /// (ROC AUC, average precision, TPR at FPR <= max_fpr) with window i
    /// counted w(i) times; NaN when a class has no weight.
    pub fn metrics(&self, y: &[i32], w: impl Fn(usize) -> f64, max_fpr: f64) -> [f64; 3] {
        let (mut p, mut n) = (0.0, 0.0);
        for (i, &l) in y.iter().enumerate() {
            if l == 1 {
                p += w(i);
            } else {
                n += w(i);
            }
        }
        if p == 0.0 || n == 0.0 {
            return [f64::NAN; 3];
        }
        let (mut tp, mut fp, mut area, mut ap, mut best) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut start = 0usize;
        for &end in &self.run_end {
            let (tp0, fp0) = (tp, fp);
            for &i in &self.order[start..end as usize] {
                let i = i as usize;
                if y[i] == 1 {
                    tp += w(i);
                } else {
                    fp += w(i);
                }
            }
            start = end as usize;
            area += (fp - fp0) * (tp + tp0) / 2.0;
            if tp > tp0 {
                ap += (tp - tp0) / p * (tp / (tp + fp));
            }
            if fp / n <= max_fpr {
                best = tp / p;
            }
        }
        [area / (p * n), ap, best]
    }
}

/// Truth must be 0/1, scores not NaN (±inf are fine: they only rank).
pub fn check_inputs(y: &[i32], score: &[f64], groups: Option<&[u32]>) -> Result<()> {
    if y.is_empty() {
        return Err("no windows".into());
    }
    if y.len() > u32::MAX as usize {
        return Err("too many windows (more than 2^32 - 1)".into());
    }
    if score.len() != y.len() {
        return Err(format!("length mismatch: y has {} windows, score has {}", y.len(), score.len()));
    }
    if let Some(g) = groups {
        if g.len() != y.len() {
            return Err(format!("length mismatch: y has {} windows, groups has {}", y.len(), g.len()));
        }
    }
    if let Some(i) = y.iter().position(|&l| l != 0 && l != 1) {
        return Err(format!("truth must be 0 or 1: y[{i}] = {}", y[i]));
    }
    if let Some(i) = score.iter().position(|s| s.is_nan()) {
        return Err(format!("score[{i}] is NaN"));
    }
    Ok(())
}

pub fn auc_bootstrap(y: &[i32], score: &[f64], groups: Option<&[u32]>, o: &AucOptions) -> Result<AucResult> {
    check_inputs(y, score, groups)?;
    let unit = match (o.unit, groups) {
        (Some(Unit::Episode), None) => return Err("unit \"episode\" needs groups (the episode of each window)".into()),
        (Some(u), _) => u,
        (None, Some(_)) => Unit::Episode,
        (None, None) => Unit::Window,
    };
    // Unit of each window: its index, or its episode's rank among the
    // distinct group ids (ascending), so window order does not matter.
    let unit_of: Vec<u32> = match unit {
        Unit::Window => (0..y.len() as u32).collect(),
        Unit::Episode => {
            let g = groups.expect("checked");
            let mut ids = g.to_vec();
            ids.sort_unstable();
            ids.dedup();
            g.iter().map(|id| ids.binary_search(id).expect("listed") as u32).collect()
        }
    };
    let n_units = unit_of.iter().map(|&u| u as usize + 1).max().unwrap_or(0);
    let ranked = Ranked::new(score);
    let point = ranked.metrics(y, |_| 1.0, o.max_fpr);
    let one = |mult: &mut Vec<u32>, r: u32| {
        let mut rng = Xoshiro128ss::for_resample(o.seed, r);
        mult.iter_mut().for_each(|m| *m = 0);
        for _ in 0..n_units {
            mult[rng.index(n_units as u32) as usize] += 1;
        }
        ranked.metrics(y, |i| f64::from(mult[unit_of[i] as usize]), o.max_fpr)
    };
    let threads = if o.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { o.threads };
    let scratch = || vec![0u32; n_units];
    let rows: Vec<[f64; 3]> = if threads == 1 {
        let mut s = scratch();
        (0..o.resamples).map(|r| one(&mut s, r)).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| format!("cannot start {threads} threads: {e}"))?;
        pool.install(|| (0..o.resamples).into_par_iter().map_init(scratch, one).collect())
    };
    let interval = |j: usize| {
        let v: Vec<f64> = rows.iter().map(|r| r[j]).collect();
        let (lo, hi) = percentile_ci(&v, o.ci);
        Interval { point: point[j], lo, hi }
    };
    let positives = y.iter().filter(|&&l| l == 1).count();
    Ok(AucResult {
        unit,
        units: n_units,
        windows: y.len(),
        positives,
        negatives: y.len() - positives,
        resamples: o.resamples,
        seed: o.seed,
        ci: o.ci,
        max_fpr: o.max_fpr,
        roc_auc: interval(0),
        pr_auc: interval(1),
        tpr_at_fpr: interval(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(y: &[i32], s: &[f64]) -> [f64; 3] {
        Ranked::new(s).metrics(y, |_| 1.0, 0.01)
    }

    #[test]
    fn matches_scikit_learn_on_small_cases() {
        // sklearn: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75,
        // average_precision_score(...) = 0.8333333333333333
        let r = point(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]);
        assert!((r[0] - 0.75).abs() < 1e-15 && (r[1] - 0.833_333_333_333_333_3).abs() < 1e-15);
        assert_eq!(r[2], 0.5);
        // All tied: AUC 0.5, AP = prevalence.
        let r = point(&[0, 1, 1, 0, 1], &[2.0; 5]);
        assert_eq!(r[0], 0.5);
        assert!((r[1] - 0.6).abs() < 1e-15);
        assert_eq!(r[2], 0.0);
        assert!(point(&[1, 1], &[0.0, 1.0])[0].is_nan());
    }

    #[test]
    fn bootstrap_is_thread_independent_and_brackets_the_point() {
        let n = 2000;
        let mut g = Xoshiro128ss::for_resample(1, 2);
        let y: Vec<i32> = (0..n).map(|i| (i % 3 == 0) as i32).collect();
        let s: Vec<f64> = y.iter().map(|&l| f64::from(l) + 2.0 * crate::rng::Xoshiro128ss::index(&mut g, 1000) as f64 / 1000.0).collect();
        let groups: Vec<u32> = (0..n as u32).map(|i| i / 7).collect();
        let base = AucOptions { resamples: 200, threads: 1, ..Default::default() };
        let a = auc_bootstrap(&y, &s, Some(&groups), &base).unwrap();
        let b = auc_bootstrap(&y, &s, Some(&groups), &AucOptions { threads: 3, ..base }).unwrap();
        assert_eq!(a, b);
        assert!(a.roc_auc.lo.unwrap() <= a.roc_auc.point && a.roc_auc.point <= a.roc_auc.hi.unwrap());
        assert_eq!(a.units, 286);
    }
}
