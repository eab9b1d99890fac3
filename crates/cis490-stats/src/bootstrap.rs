//! Percentile bootstrap of macro / per-class F1, single model and paired.
//!
//! Inputs are turned once into per-unit confusion contributions (a sparse
//! count vector of (truth, prediction) cells per resampling unit), so a
//! resample is a sum of count vectors: U index draws plus a few adds each,
//! never a pass over the windows. Resample r uses the RNG stream of
//! (seed, r) only (see rng.rs), so results do not depend on the thread
//! count. Algorithm, conventions and the RNG: docs/statistics.md.

use crate::metrics::{f1_from_counts, mean_in_order};
use crate::rng::Xoshiro128ss;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub type Result<T> = std::result::Result<T, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Cluster bootstrap: draw episodes, each brings all its windows.
    Episode,
    /// Draw windows independently (ignores within-episode correlation).
    Window,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BootstrapOptions {
    pub resamples: u32,
    pub seed: u32,
    /// 0 = all available cores.
    pub threads: usize,
    /// Central coverage of the percentile interval.
    pub ci: f64,
    /// None = episode when groups are given, else window.
    pub unit: Option<Unit>,
    /// Return every resample's macro F1 (or difference) too.
    pub keep_resamples: bool,
    /// The classes macro F1 averages over. None: scikit-learn's default,
    /// the labels present in truth or prediction (per resample). Some:
    /// exactly these (sorted, distinct), like `f1_score(labels=...)`: a
    /// listed class absent from truth and prediction scores 0, a label
    /// outside the list is not averaged (its windows still count as false
    /// positives / negatives of the listed classes).
    pub labels: Option<Vec<i32>>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions { resamples: 1000, seed: 0, threads: 0, ci: 0.95, unit: None, keep_resamples: false, labels: None }
    }
}

impl BootstrapOptions {
    pub fn from_json(text: &str) -> Result<Self> {
        let o: BootstrapOptions = serde_json::from_str(if text.trim().is_empty() { "{}" } else { text }).map_err(|e| format!("bad bootstrap options: {e}"))?;
        o.validate()?;
        Ok(o)
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=10_000_000).contains(&self.resamples) {
            return Err(format!("resamples must be in 1..=10000000, got {}", self.resamples));
        }
        if !(self.ci > 0.0 && self.ci < 1.0) {
            return Err(format!("ci must be in (0, 1), got {}", self.ci));
        }
        if self.threads > 256 {
            return Err(format!("threads must be in 0..=256, got {}", self.threads));
        }
        if let Some(l) = &self.labels {
            if l.is_empty() {
                return Err("labels must list at least one class".into());
            }
            if let Some(i) = l.iter().position(|&x| x < 0) {
                return Err(format!("labels must be non-negative: labels[{i}] = {}", l[i]));
            }
            if let Some(i) = l.windows(2).position(|w| w[0] >= w[1]) {
                return Err(format!("labels must be sorted and distinct: labels[{i}] = {}, labels[{}] = {}", l[i], i + 1, l[i + 1]));
            }
        }
        Ok(())
    }
}

/// A point estimate with its percentile interval (None when no resample
/// produced a finite value).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub point: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassInterval {
    pub label: i32,
    pub point: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Resamples in which the class occurred (in truth or prediction);
    /// only those enter its interval.
    pub resamples_present: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapResult {
    pub unit: Unit,
    pub units: usize,
    pub windows: usize,
    pub resamples: u32,
    pub seed: u32,
    pub ci: f64,
    pub labels: Vec<i32>,
    pub macro_f1: Interval,
    pub per_class: Vec<ClassInterval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resample_macro_f1: Option<Vec<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedResult {
    pub unit: Unit,
    pub units: usize,
    pub windows: usize,
    pub resamples: u32,
    pub seed: u32,
    pub ci: f64,
    pub macro_f1_a: Interval,
    pub macro_f1_b: Interval,
    /// Macro F1 of a minus macro F1 of b.
    pub diff: Interval,
    /// The interval of the difference lies strictly above or below 0.
    pub excludes_zero: bool,
    /// Fraction of resamples with diff <= 0 (a one-sided bootstrap
    /// "p-value" for "a is better than b"; not a calibrated test).
    pub frac_diff_le_zero: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resample_diff: Option<Vec<f64>>,
}

impl BootstrapResult {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }
}

impl PairedResult {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }
}

/// numpy's default ("linear") quantile of sorted values, 0 <= q <= 1.
pub fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    let n = s.len();
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Percentile interval of the finite values: quantiles (1-ci)/2 and (1+ci)/2.
pub fn percentile_ci(values: &[f64], ci: f64) -> (Option<f64>, Option<f64>) {
    let mut s: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return (None, None);
    }
    s.sort_unstable_by(f64::total_cmp);
    (Some(quantile_sorted(&s, (1.0 - ci) / 2.0)), Some(quantile_sorted(&s, (1.0 + ci) / 2.0)))
}

/// The resampling units' confusion contributions, laid out for the
/// resample loop. Cells index a flat accumulator (`truth * k + pred`, plus
/// `k * k` for model b when paired).
struct Units {
    n: usize,
    layout: Layout,
}

enum Layout {
    /// Every unit is one window contributing one cell (single model, window
    /// unit): a draw increments that cell directly.
    Singletons { cells: Vec<u32> },
    /// General case, transposed: for each cell, the units contributing to it
    /// and how much. A resample first counts how often each unit was drawn
    /// (`mult`), then each cell is a branch-free dot product of `mult` with
    /// its list. Walking each drawn unit's own cells instead costs a branch
    /// misprediction per draw (units have 1..k*k cells) and serialises on
    /// the few hot accumulator cells; this is several times faster.
    ByCell { offsets: Vec<usize>, units: Vec<u32>, counts: Vec<u32> },
}

impl Units {
    fn len(&self) -> usize {
        self.n
    }

    /// `cell_of(i, m)` = the cell window i contributes to for model m.
    /// Units are windows in input order, or episodes in ascending group id
    /// (so results do not depend on how windows are ordered).
    fn build(n: usize, groups: Option<&[u32]>, unit: Unit, cells_per_window: usize, acc_len: usize, cell_of: impl Fn(usize, usize) -> u32) -> Units {
        if unit == Unit::Window && cells_per_window == 1 {
            return Units { n, layout: Layout::Singletons { cells: (0..n).map(|i| cell_of(i, 0)).collect() } };
        }
        // (cell, unit) pairs, sorted and run-length encoded into per-cell
        // lists of (unit, count).
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n * cells_per_window);
        let n_units = match unit {
            Unit::Window => {
                for i in 0..n {
                    for m in 0..cells_per_window {
                        pairs.push((cell_of(i, m), i as u32));
                    }
                }
                n
            }
            Unit::Episode => {
                let g = groups.expect("episode unit needs groups");
                let mut ids = g.to_vec();
                ids.sort_unstable();
                ids.dedup();
                for (i, id) in g.iter().enumerate() {
                    let u = ids.binary_search(id).expect("id is listed") as u32;
                    for m in 0..cells_per_window {
                        pairs.push((cell_of(i, m), u));
                    }
                }
                ids.len()
            }
        };
        pairs.sort_unstable();
        let mut offsets = vec![0usize; acc_len + 1];
        let (mut units, mut counts) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < pairs.len() {
            let mut j = i;
            while j < pairs.len() && pairs[j] == pairs[i] {
                j += 1;
            }
            units.push(pairs[i].1);
            counts.push((j - i) as u32);
            offsets[pairs[i].0 as usize + 1] = units.len();
            i = j;
        }
        // Cells with no entries inherit the previous end (empty ranges).
        for c in 1..=acc_len {
            offsets[c] = offsets[c].max(offsets[c - 1]);
        }
        Units { n: n_units, layout: Layout::ByCell { offsets, units, counts } }
    }
}

fn resolve_unit(groups: Option<&[u32]>, opts: &BootstrapOptions) -> Result<Unit> {
    match (opts.unit, groups) {
        (Some(Unit::Episode), None) => Err("unit \"episode\" needs groups (the episode of each window)".into()),
        (Some(u), _) => Ok(u),
        (None, Some(_)) => Ok(Unit::Episode),
        (None, None) => Ok(Unit::Window),
    }
}

/// Every argument check of bootstrap_f1 / paired_bootstrap, callable up
/// front (the Node binding throws synchronously with the caller's names).
pub fn check_arguments(y_true: &[i32], preds: &[(&str, &[i32])], groups: Option<&[u32]>, opts: &BootstrapOptions) -> Result<()> {
    opts.validate()?;
    check_inputs(y_true, preds, groups)?;
    resolve_unit(groups, opts).map(|_| ())
}

fn check_inputs(y_true: &[i32], preds: &[(&str, &[i32])], groups: Option<&[u32]>) -> Result<()> {
    if y_true.is_empty() {
        return Err("no windows: y_true is empty".into());
    }
    if y_true.len() > u32::MAX as usize {
        return Err("too many windows (more than 2^32 - 1)".into());
    }
    for (name, p) in preds {
        if p.len() != y_true.len() {
            return Err(format!("length mismatch: y_true has {} windows, {name} has {}", y_true.len(), p.len()));
        }
    }
    if let Some(g) = groups {
        if g.len() != y_true.len() {
            return Err(format!("length mismatch: y_true has {} windows, groups has {}", y_true.len(), g.len()));
        }
    }
    for (name, v) in std::iter::once(("y_true", y_true)).chain(preds.iter().copied()) {
        if let Some(i) = v.iter().position(|&l| l < 0) {
            return Err(format!("labels must be non-negative: {name}[{i}] = {}", v[i]));
        }
    }
    Ok(())
}

/// Runs `resamples` resamples: resample r draws `units.len()` units with
/// the (seed, r) stream, sums their contributions into `acc` (length
/// `acc_len`), and hands it to `eval`. Output order = resample order.
fn run_resamples<T: Send>(units: &Units, acc_len: usize, opts: &BootstrapOptions, eval: impl Fn(&[u64]) -> T + Sync) -> Result<Vec<T>> {
    let n = units.len() as u32;
    // Per-thread scratch: the accumulator, and per-unit draw counts (ByCell)
    // or four accumulator banks per cell (Singletons).
    let scratch = || {
        let extra = match units.layout {
            Layout::ByCell { .. } => units.len(),
            Layout::Singletons { .. } => 4 * acc_len,
        };
        (vec![0u64; acc_len], vec![0u32; extra])
    };
    let one = |(acc, mult): &mut (Vec<u64>, Vec<u32>), r: u32| {
        let mut rng = Xoshiro128ss::for_resample(opts.seed, r);
        match &units.layout {
            Layout::Singletons { cells } => {
                // Four interleaved banks: consecutive draws often hit the same
                // (majority-class) cell, and a single bank would serialise
                // on that memory location. u32 suffices: n < 2^32 draws.
                let banks = mult;
                banks.iter_mut().for_each(|b| *b = 0);
                for d in 0..n {
                    banks[4 * cells[rng.index(n) as usize] as usize + (d & 3) as usize] += 1;
                }
                for (a, b) in acc.iter_mut().zip(banks.chunks_exact(4)) {
                    *a = b.iter().map(|&x| u64::from(x)).sum();
                }
            }
            Layout::ByCell { offsets, units, counts } => {
                mult.iter_mut().for_each(|m| *m = 0);
                for _ in 0..n {
                    mult[rng.index(n) as usize] += 1;
                }
                for (c, a) in acc.iter_mut().enumerate() {
                    let range = offsets[c]..offsets[c + 1];
                    *a = units[range.clone()].iter().zip(&counts[range]).map(|(&u, &k)| u64::from(mult[u as usize]) * u64::from(k)).sum();
                }
            }
        }
        eval(acc)
    };
    let threads = if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    if threads == 1 {
        let mut s = scratch();
        return Ok((0..opts.resamples).map(|r| one(&mut s, r)).collect());
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    // Indexed parallel map + collect keeps resample order; chunks of 16
    // amortise rayon's splitting (one resample is ~U draws).
    Ok(pool.install(|| (0..opts.resamples).into_par_iter().with_min_len(16).map_init(scratch, one).collect()))
}

/// Per-class F1 of the k x k matrix at `m` (row = truth): None for classes
/// absent from both truth and prediction.
fn class_f1s(m: &[u64], k: usize, out: &mut Vec<Option<f64>>) {
    out.clear();
    for c in 0..k {
        let row = &m[c * k..(c + 1) * k];
        let n_true: u64 = row.iter().sum();
        let n_pred: u64 = (0..k).map(|i| m[i * k + c]).sum();
        out.push(f1_from_counts(m[c * k + c], n_true, n_pred));
    }
}

/// The classes of one bootstrap: `labels` indexes the confusion matrix
/// (every label in the fixed set, truth or predictions), `scored` are the
/// indices macro F1 averages over and per-class results report.
struct Classes {
    labels: Vec<i32>,
    scored: Vec<usize>,
    fixed: bool,
}

impl Classes {
    fn new(fixed: Option<&[i32]>, arrays: &[&[i32]]) -> Classes {
        let mut labels: Vec<i32> = fixed.unwrap_or(&[]).iter().chain(arrays.iter().flat_map(|a| a.iter())).copied().collect();
        labels.sort_unstable();
        labels.dedup();
        let scored = match fixed {
            Some(f) => f.iter().map(|l| labels.binary_search(l).expect("listed")).collect(),
            None => (0..labels.len()).collect(),
        };
        Classes { labels, scored, fixed: fixed.is_some() }
    }

    fn k(&self) -> usize {
        self.labels.len()
    }

    fn dense(&self, l: i32) -> u32 {
        self.labels.binary_search(&l).expect("label is in the class list") as u32
    }

    /// Union: mean over the classes present in this matrix's windows (sklearn's
    /// default). Fixed: mean over the listed classes, an absent one counting 0.
    fn macro_of(&self, f1s: &[Option<f64>]) -> f64 {
        if self.fixed {
            mean_in_order(self.scored.iter().map(|&c| f1s[c].unwrap_or(0.0)))
        } else {
            mean_in_order(f1s.iter().flatten().copied())
        }
    }

    fn reported(&self) -> Vec<i32> {
        self.scored.iter().map(|&c| self.labels[c]).collect()
    }
}

/// Macro and per-class F1 with percentile bootstrap intervals.
pub fn bootstrap_f1(y_true: &[i32], y_pred: &[i32], groups: Option<&[u32]>, opts: &BootstrapOptions) -> Result<BootstrapResult> {
    opts.validate()?;
    check_inputs(y_true, &[("y_pred", y_pred)], groups)?;
    let unit = resolve_unit(groups, opts)?;
    let classes = Classes::new(opts.labels.as_deref(), &[y_true, y_pred]);
    let k = classes.k();
    let (t, p): (Vec<u32>, Vec<u32>) = (y_true.iter().map(|&l| classes.dense(l)).collect(), y_pred.iter().map(|&l| classes.dense(l)).collect());
    let units = Units::build(y_true.len(), groups, unit, 1, k * k, |i, _| t[i] * k as u32 + p[i]);

    // Point estimates from the full matrix.
    let mut full = vec![0u64; k * k];
    for i in 0..t.len() {
        full[(t[i] * k as u32 + p[i]) as usize] += 1;
    }
    let mut point = Vec::new();
    class_f1s(&full, k, &mut point);
    let macro_point = classes.macro_of(&point);

    // Each resample -> [macro, then each scored class] (NaN = class absent).
    let rows: Vec<Vec<f64>> = run_resamples(&units, k * k, opts, |acc| {
        let mut f = Vec::with_capacity(k);
        class_f1s(acc, k, &mut f);
        std::iter::once(classes.macro_of(&f)).chain(classes.scored.iter().map(|&c| f[c].unwrap_or(f64::NAN))).collect()
    })?;

    let column = |j: usize| -> Vec<f64> { rows.iter().map(|r| r[j]).collect() };
    let macro_values = column(0);
    let (lo, hi) = percentile_ci(&macro_values, opts.ci);
    let per_class = (classes.scored.iter().enumerate())
        .map(|(j, &c)| {
            let v = column(j + 1);
            let (lo, hi) = percentile_ci(&v, opts.ci);
            ClassInterval { label: classes.labels[c], point: point[c].unwrap_or(0.0), lo, hi, resamples_present: v.iter().filter(|x| x.is_finite()).count() as u32 }
        })
        .collect();
    Ok(BootstrapResult {
        unit,
        units: units.len(),
        windows: y_true.len(),
        resamples: opts.resamples,
        seed: opts.seed,
        ci: opts.ci,
        labels: classes.reported(),
        macro_f1: Interval { point: macro_point, lo, hi },
        per_class,
        resample_macro_f1: opts.keep_resamples.then_some(macro_values),
    })
}

/// Paired bootstrap of macro F1(a) - macro F1(b) on the same windows: both
/// models see the same resamples. With `opts.labels` both are scored over
/// that one class list; without, each model's macro F1 in a resample is
/// over the labels present in truth or its own predictions there.
pub fn paired_bootstrap(y_true: &[i32], pred_a: &[i32], pred_b: &[i32], groups: Option<&[u32]>, opts: &BootstrapOptions) -> Result<PairedResult> {
    opts.validate()?;
    check_inputs(y_true, &[("pred_a", pred_a), ("pred_b", pred_b)], groups)?;
    let unit = resolve_unit(groups, opts)?;
    let classes = Classes::new(opts.labels.as_deref(), &[y_true, pred_a, pred_b]);
    let k = classes.k();
    let kk = (k * k) as u32;
    let t: Vec<u32> = y_true.iter().map(|&l| classes.dense(l)).collect();
    let a: Vec<u32> = pred_a.iter().map(|&l| classes.dense(l)).collect();
    let b: Vec<u32> = pred_b.iter().map(|&l| classes.dense(l)).collect();
    let cell = |i: usize, m: usize| if m == 0 { t[i] * k as u32 + a[i] } else { kk + t[i] * k as u32 + b[i] };
    let units = Units::build(y_true.len(), groups, unit, 2, 2 * k * k, cell);

    // Both models' macro F1 from a 2 x k x k accumulator.
    let macros = |acc: &[u64]| -> (f64, f64) {
        let mut f = Vec::with_capacity(k);
        class_f1s(&acc[..k * k], k, &mut f);
        let ma = classes.macro_of(&f);
        class_f1s(&acc[k * k..], k, &mut f);
        (ma, classes.macro_of(&f))
    };
    let mut full = vec![0u64; 2 * k * k];
    for i in 0..t.len() {
        full[cell(i, 0) as usize] += 1;
        full[cell(i, 1) as usize] += 1;
    }
    let (pa, pb) = macros(&full);

    let pairs: Vec<(f64, f64)> = run_resamples(&units, 2 * k * k, opts, macros)?;
    let va: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let vb: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let diff: Vec<f64> = pairs.iter().map(|p| p.0 - p.1).collect();
    let (alo, ahi) = percentile_ci(&va, opts.ci);
    let (blo, bhi) = percentile_ci(&vb, opts.ci);
    let (dlo, dhi) = percentile_ci(&diff, opts.ci);
    let excludes_zero = matches!((dlo, dhi), (Some(l), Some(h)) if l > 0.0 || h < 0.0);
    let le_zero = diff.iter().filter(|&&d| d <= 0.0).count();
    Ok(PairedResult {
        unit,
        units: units.len(),
        windows: y_true.len(),
        resamples: opts.resamples,
        seed: opts.seed,
        ci: opts.ci,
        macro_f1_a: Interval { point: pa, lo: alo, hi: ahi },
        macro_f1_b: Interval { point: pb, lo: blo, hi: bhi },
        diff: Interval { point: pa - pb, lo: dlo, hi: dhi },
        excludes_zero,
        frac_diff_le_zero: le_zero as f64 / diff.len() as f64,
        resample_diff: opts.keep_resamples.then_some(diff),
    })
}
