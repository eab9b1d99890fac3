//! Phase lookup and the per-source quality signals (docs/inspection.md,
//! "Quality signals"). Float operations are written in the exact order the
//! doc prescribes so the TypeScript reference gets the same doubles.

use crate::jstr::JsStr;
use crate::parse::{Labels, Table};

pub const PHASES: [&str; 6] = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"];
pub const DORMANT: i8 = 4;

/// Phase code 0..=5, or -1 for an unknown phase string.
pub fn phase_code(s: &JsStr) -> i8 {
    PHASES.iter().position(|p| s.eq_str(p)).map_or(-1, |i| i as i8)
}

/// "The label with the greatest t_wall_ns <= t (ties: the last in file
/// order); before the first label, clean; non-monotonic labels: the last
/// label in file order whose t_wall_ns <= t."
pub struct PhaseLookup<'a> {
    t: &'a [i64],
    codes: Vec<i8>,
    sorted: bool,
}

impl<'a> PhaseLookup<'a> {
    pub fn new(labels: &'a Labels) -> Self {
        let t = &labels.t_wall_ns[..];
        PhaseLookup { t, codes: labels.phase.iter().map(phase_code).collect(), sorted: t.windows(2).all(|w| w[0] <= w[1]) }
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    pub fn at(&self, t: i64) -> i8 {
        let idx = if self.sorted {
            // Count of labels with t_wall <= t; the last of them is the answer.
            let n = self.t.partition_point(|&x| x <= t);
            n.checked_sub(1)
        } else {
            self.t.iter().rposition(|&x| x <= t)
        };
        idx.map_or(0, |i| self.codes[i])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Signal,
    Flat,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Signal => "signal",
            Verdict::Flat => "flat",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    pub verdict: Verdict,
    pub spread: Option<f64>,
}

impl Signal {
    pub const UNKNOWN: Signal = Signal { verdict: Verdict::Unknown, spread: None };
}

/// Groups are indexed by phase code + 1 (unknown phases share group 0).
const GROUPS: usize = 7;

fn group(code: i8) -> usize {
    (code + 1) as usize
}

/// Median: sort ascending; odd n -> middle; even n -> (a + b) / 2.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// spread = max - min over the phases that have a value; unknown when
/// fewer than two phases have one.
fn verdict(values: &[Option<f64>; GROUPS], threshold: f64) -> Signal {
    let mut it = values.iter().flatten();
    let Some(&first) = it.next() else { return Signal::UNKNOWN };
    let (mut lo, mut hi, mut n) = (first, first, 1);
    for &x in it {
        if x < lo {
            lo = x;
        }
        if x > hi {
            hi = x;
        }
        n += 1;
    }
    if n < 2 {
        return Signal::UNKNOWN;
    }
    let spread = hi - lo;
    Signal { verdict: if spread >= threshold { Verdict::Signal } else { Verdict::Flat }, spread: Some(spread) }
}

/// Row indices sorted by t_wall_ns, stable.
fn sorted_by_time(t: &[i64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..t.len()).collect();
    idx.sort_by_key(|&i| t[i]);
    idx
}

/// Exact ns difference converted once to double (round to nearest even),
/// then to seconds.
pub fn ns_diff_s(a: i64, b: i64) -> f64 {
    ((a as i128 - b as i128) as f64) / 1e9
}

pub fn proc_signal(t: &Table, lk: &PhaseLookup) -> Signal {
    if t.is_empty() || lk.is_empty() {
        return Signal::UNKNOWN;
    }
    let (user, sys) = (&t.cols[0], &t.cols[1]);
    let order = sorted_by_time(&t.t_wall_ns);
    let mut per: [Vec<f64>; GROUPS] = Default::default();
    for w in order.windows(2) {
        let (p, i) = (w[0], w[1]);
        let jp = user[p] + sys[p];
        let ji = user[i] + sys[i];
        let dt = t.t_wall_ns[i] as i128 - t.t_wall_ns[p] as i128;
        if !(jp.is_finite() && ji.is_finite()) || dt <= 0 {
            continue;
        }
        let dt_s = (dt as f64) / 1e9;
        let cpu_pct = (ji - jp) / 100.0 / dt_s * 100.0;
        per[group(lk.at(t.t_wall_ns[i]))].push(cpu_pct);
    }
    let mut vals = [None; GROUPS];
    for (g, v) in per.iter_mut().enumerate() {
        if !v.is_empty() {
            vals[g] = Some(median(v));
        }
    }
    verdict(&vals, 5.0)
}

pub fn netflow_signal(t: &Table, lk: &PhaseLookup) -> Signal {
    if t.is_empty() || lk.is_empty() {
        return Signal::UNKNOWN;
    }
    let (bin, bout) = (&t.cols[2], &t.cols[3]);
    let mut vals: [Option<f64>; GROUPS] = [None; GROUPS];
    for i in 0..t.len() {
        let g = group(lk.at(t.t_wall_ns[i]));
        let mut s = vals[g].unwrap_or(0.0);
        if bin[i].is_finite() {
            s += bin[i];
        }
        if bout[i].is_finite() {
            s += bout[i];
        }
        vals[g] = Some(s);
    }
    verdict(&vals, 51200.0)
}

pub fn qmp_signal(t: &Table, lk: &PhaseLookup) -> Signal {
    if t.is_empty() || lk.is_empty() {
        return Signal::UNKNOWN;
    }
    let blk = &t.cols[7];
    let mut first: [Option<f64>; GROUPS] = [None; GROUPS];
    let mut last = [0.0f64; GROUPS];
    for i in sorted_by_time(&t.t_wall_ns) {
        if !blk[i].is_finite() {
            continue;
        }
        let g = group(lk.at(t.t_wall_ns[i]));
        first[g].get_or_insert(blk[i]);
        last[g] = blk[i];
    }
    let mut vals = [None; GROUPS];
    for g in 0..GROUPS {
        vals[g] = first[g].map(|f| last[g] - f);
    }
    verdict(&vals, 102400.0)
}

pub fn guest_signal(t: &Table, lk: &PhaseLookup) -> Signal {
    if t.is_empty() || lk.is_empty() {
        return Signal::UNKNOWN;
    }
    let load = &t.cols[5];
    let mut per: [Vec<f64>; GROUPS] = Default::default();
    for i in 0..t.len() {
        if load[i].is_finite() {
            per[group(lk.at(t.t_wall_ns[i]))].push(load[i]);
        }
    }
    let mut vals = [None; GROUPS];
    for (g, v) in per.iter_mut().enumerate() {
        if !v.is_empty() {
            vals[g] = Some(median(v));
        }
    }
    verdict(&vals, 0.10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(rows: &[(i64, &str)]) -> Labels {
        Labels {
            t_wall_ns: rows.iter().map(|r| r.0).collect(),
            t_mono_ns: rows.iter().map(|_| None).collect(),
            phase: rows.iter().map(|r| JsStr::from_text(r.1)).collect(),
        }
    }

    #[test]
    fn lookup_rules() {
        let l = labels(&[(10, "clean"), (20, "armed"), (20, "infecting"), (30, "dormant")]);
        let lk = PhaseLookup::new(&l);
        assert_eq!(lk.at(5), 0);
        assert_eq!(lk.at(10), 0);
        assert_eq!(lk.at(20), 2); // ties: last in file order
        assert_eq!(lk.at(29), 2);
        assert_eq!(lk.at(1000), 4);
        let l = labels(&[(10, "clean"), (30, "dormant"), (20, "armed"), (40, "bogus")]);
        let lk = PhaseLookup::new(&l);
        assert_eq!(lk.at(35), 1); // last in file order with t <= 35: armed
        assert_eq!(lk.at(25), 1);
        assert_eq!(lk.at(15), 0);
        assert_eq!(lk.at(45), -1);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
