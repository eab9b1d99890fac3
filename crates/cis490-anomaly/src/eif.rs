//! Extended isolation forest (Hariri, Carrasco Kind & Brunner, 2019):
//! each node splits its points by a random hyperplane through a random
//! point of their bounding box, over `ndim` randomly chosen features
//! (ndim = 1 is Liu et al.'s classic forest). Tree t draws only from the
//! RNG stream (seed, t), and scoring sums a row's path lengths in tree
//! order, so fit and scores are the same whatever the thread count. The
//! exact algorithm (draw order included) is docs/anomaly.md; the twin is
//! src/reference/eif.ts.

use crate::detmath::{c_factor, normal, uniform};
use cis490_stats::rng::Xoshiro128ss;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub type Result<T> = std::result::Result<T, String>;

pub const MODEL_FORMAT: &str = "cis490-eif/1";

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EifOptions {
    pub n_trees: u32,
    /// Rows per tree (drawn without replacement; capped at the row count).
    pub subsample: u32,
    /// Features per hyperplane (capped at the features that vary in a node).
    pub ndim: u32,
    pub seed: u32,
}

impl Default for EifOptions {
    fn default() -> Self {
        EifOptions { n_trees: 100, subsample: 256, ndim: 1, seed: 0 }
    }
}

impl EifOptions {
    pub fn from_json(text: &str) -> Result<Self> {
        let o: EifOptions = serde_json::from_str(if text.trim().is_empty() { "{}" } else { text }).map_err(|e| format!("bad EIF options: {e}"))?;
        o.validate()?;
        Ok(o)
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=100_000).contains(&self.n_trees) {
            return Err(format!("n_trees must be in 1..=100000, got {}", self.n_trees));
        }
        if !(2..=1_000_000).contains(&self.subsample) {
            return Err(format!("subsample must be in 2..=1000000, got {}", self.subsample));
        }
        if self.ndim < 1 {
            return Err("ndim must be >= 1".into());
        }
        Ok(())
    }
}

/// One tree in preorder: node i's left child is i + 1, its right child
/// `right[i]` (-1 for a leaf). `value` is the split threshold of an
/// internal node, the path length (depth + c(size)) of a leaf. The
/// hyperplane of an internal node is `nfeat[i]` (feature, coefficient)
/// pairs, stored consecutively in `feat` / `coef` in node order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EifTree {
    pub right: Vec<i32>,
    pub value: Vec<f64>,
    pub nfeat: Vec<u32>,
    pub feat: Vec<u32>,
    pub coef: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EifModel {
    pub format: String,
    pub n_features: usize,
    pub n_trees: u32,
    pub ndim: u32,
    pub seed: u32,
    /// Rows per tree actually used: min(subsample, training rows).
    pub subsample: usize,
    pub max_depth: u32,
    /// Per feature: the median of the finite training values (0 if none),
    /// used for missing and non-finite inputs.
    pub medians: Vec<f64>,
    pub trees: Vec<EifTree>,
}

/// Median of the finite values (mean of the two middle ones for an even
/// count); 0 when there are none.
pub fn median_finite(mut v: Vec<f64>) -> f64 {
    median_in_place(&mut v)
}

/// Per-column median_finite of row-major [n, d]. Large inputs: the
/// median of a column is bracketed by two order statistics of an evenly
/// spaced sample of rows, then one pass over the matrix (row chunks in
/// parallel) counts each column's values below and at the bracket and
/// keeps only those strictly inside it, a few percent; the median is
/// selected among those. Exact: a column whose median falls outside its
/// bracket (a sampling accident, about 1e-4 per column) or whose inside
/// values overflow is redone by the plain method. Small inputs go straight
/// to the plain method.
pub fn column_medians(x: &[f64], n: usize, d: usize) -> Vec<f64> {
    if n < BRACKET_MIN_ROWS {
        return column_medians_plain(x, n, d);
    }
    let brackets = sample_brackets(x, n, d);
    let rows_per_chunk = (n / (4 * rayon::current_num_threads())).clamp(1024, 32_768);
    let parts: Vec<BracketCounts> = x.par_chunks(rows_per_chunk * d).map(|c| BracketCounts::of(c, d, &brackets)).collect();
    let mut total = BracketCounts::new(d);
    for p in &parts {
        total.add(p);
    }
    drop(parts);
    let mut redo = Vec::new();
    let mut out = vec![0.0; d];
    for f in 0..d {
        match total.median(f, &brackets[f]) {
            Some(m) => out[f] = m,
            None => redo.push(f),
        }
    }
    let redone: Vec<f64> = redo.par_iter().map(|&f| median_finite(x.iter().skip(f).step_by(d).copied().collect())).collect();
    for (&f, m) in redo.iter().zip(redone) {
        out[f] = m;
    }
    out
}

/// Below this many rows the plain transpose-and-select is as fast.
const BRACKET_MIN_ROWS: usize = 32_768;
/// Rows in the pivot sample.
const BRACKET_SAMPLE: usize = 4096;

/// [lo, hi] around a column's median; `None` when the sample had too few
/// finite values to say (the column is done by the plain method).
type Bracket = Option<(f64, f64)>;

fn sample_brackets(x: &[f64], n: usize, d: usize) -> Vec<Bracket> {
    let s = BRACKET_SAMPLE.min(n);
    let mut cols = vec![Vec::with_capacity(s); d];
    for i in 0..s {
        let row = &x[(i * n / s) * d..][..d];
        for (c, &v) in cols.iter_mut().zip(row) {
            if v.is_finite() {
                c.push(v);
            }
        }
    }
    cols.into_par_iter()
        .map(|mut c| {
            let m = c.len();
            if m < 256 {
                return None;
            }
            // The sample's count below the true median is ~ Binomial(m, 1/2)
            // (sd sqrt(m)/2): +-(2 sqrt(m) + 2) ranks is over 4 sd.
            let off = 2 * (m as f64).sqrt() as usize + 2;
            let (rl, rh) = ((m / 2).saturating_sub(off), (m / 2 + off).min(m - 1));
            let cmp = |a: &f64, b: &f64| a.partial_cmp(b).expect("finite");
            let (_, &mut lo, upper) = c.select_nth_unstable_by(rl, cmp);
            let hi = if rh == rl { lo } else { *upper.select_nth_unstable_by(rh - rl - 1, cmp).1 };
            Some((lo, hi))
        })
        .collect()
}

/// Per column: finite values counted, those < lo, == lo, == hi (when
/// hi > lo), and the values strictly between (at most a quarter of the
/// chunk's rows are kept; more marks the column for the plain method).
struct BracketCounts {
    finite: Vec<u32>,
    below: Vec<u32>,
    at_lo: Vec<u32>,
    at_hi: Vec<u32>,
    inside: Vec<Vec<f64>>,
    overflow: Vec<bool>,
}

impl BracketCounts {
    fn new(d: usize) -> Self {
        BracketCounts { finite: vec![0; d], below: vec![0; d], at_lo: vec![0; d], at_hi: vec![0; d], inside: vec![Vec::new(); d], overflow: vec![false; d] }
    }

    fn of(chunk: &[f64], d: usize, brackets: &[Bracket]) -> Self {
        let mut c = BracketCounts::new(d);
        let rows = chunk.len() / d;
        // Expected inside: about 6% of the rows (see sample_brackets).
        let cap = rows / 8 + 64;
        // NaN bounds make every comparison false: a column without a
        // bracket counts nothing (it is redone), and hi = NaN when hi == lo
        // keeps at_hi from counting the lo ties twice.
        let lo: Vec<f64> = brackets.iter().map(|b| b.map_or(f64::NAN, |b| b.0)).collect();
        let hi: Vec<f64> = brackets.iter().map(|b| b.map_or(f64::NAN, |b| if b.1 > b.0 { b.1 } else { f64::NAN })).collect();
        let top: Vec<f64> = brackets.iter().map(|b| b.map_or(f64::NAN, |b| b.1)).collect();
        let (lo, hi, top) = (&lo[..d], &hi[..d], &top[..d]);
        // The loop over a row's columns is branch-free (vectorised): it
        // counts, and flags the few inside values (one byte each); the
        // flags are then read 8 at a time, so a group of 8 columns with
        // none inside (about 60% of them) costs one test. The four counts
        // share one u64 per column, 16 bits each (a chunk has fewer than
        // 2^16 rows).
        let mut packed = vec![0u64; d];
        let mut flags = vec![0u8; d.div_ceil(8) * 8];
        for inside in &mut c.inside {
            inside.reserve(cap);
        }
        for row in chunk.chunks_exact(d) {
            let row = &row[..d];
            {
                let (packed, fl) = (&mut packed[..d], &mut flags[..d]);
                for f in 0..d {
                    let v = row[f];
                    let fin = v.abs() < f64::INFINITY;
                    packed[f] += u64::from(fin) | u64::from(fin & (v < lo[f])) << 16 | u64::from(v == lo[f]) << 32 | u64::from(v == hi[f]) << 48;
                    fl[f] = u8::from((v > lo[f]) & (v < top[f]));
                }
            }
            for (g, w) in flags.chunks_exact(8).enumerate() {
                let mut bits = u64::from_le_bytes(w.try_into().expect("8 flags"));
                while bits != 0 {
                    let f = g * 8 + (bits.trailing_zeros() / 8) as usize;
                    bits &= bits - 1;
                    let b = &mut c.inside[f];
                    if b.len() < cap {
                        b.push(row[f]);
                    } else {
                        c.overflow[f] = true;
                    }
                }
            }
        }
        for (f, &p) in packed.iter().enumerate() {
            let field = |k: u32| (p >> (16 * k)) as u32 & 0xffff;
            (c.finite[f], c.below[f], c.at_lo[f], c.at_hi[f]) = (field(0), field(1), field(2), field(3));
        }
        c
    }

    fn add(&mut self, o: &BracketCounts) {
        for f in 0..self.finite.len() {
            self.finite[f] += o.finite[f];
            self.below[f] += o.below[f];
            self.at_lo[f] += o.at_lo[f];
            self.at_hi[f] += o.at_hi[f];
            self.overflow[f] |= o.overflow[f];
            self.inside[f].extend_from_slice(&o.inside[f]);
        }
    }

    /// The column's median from the counts, or None when it is not
    /// inside the bracket.
    fn median(&mut self, f: usize, bracket: &Bracket) -> Option<f64> {
        let (lo, hi) = (*bracket)?;
        if self.overflow[f] {
            return None;
        }
        let m = u64::from(self.finite[f]);
        let inside = &mut self.inside[f];
        let (below, at_lo, k_in, at_hi) = (u64::from(self.below[f]), u64::from(self.at_lo[f]), inside.len() as u64, u64::from(self.at_hi[f]));
        let cmp = |a: &f64, b: &f64| a.partial_cmp(b).expect("finite");
        let mut nth = |k: u64| -> Option<f64> {
            let k = k.checked_sub(below)?;
            if k < at_lo {
                return Some(lo);
            }
            let k = k - at_lo;
            if k < k_in {
                return Some(*inside.select_nth_unstable_by(k as usize, cmp).1);
            }
            (k - k_in < at_hi).then_some(hi)
        };
        let upper = nth(m / 2)?;
        let v = if m % 2 == 1 { upper } else { (nth(m / 2 - 1)? + upper) / 2.0 };
        Some(v + 0.0)
    }
}

/// The plain method: one sequential pass transposes the finite values (a
/// strided gather per column would miss the cache on every value) as
/// order-preserving integer keys, then the columns are selected in
/// parallel with integer comparisons.
fn column_medians_plain(x: &[f64], n: usize, d: usize) -> Vec<f64> {
    let mut cols = vec![0u64; n * d];
    let mut len = vec![0usize; d];
    for row in x.chunks_exact(d) {
        for (f, &v) in row.iter().enumerate() {
            if v.is_finite() {
                cols[f * n + len[f]] = order_key(v);
                len[f] += 1;
            }
        }
    }
    cols.par_chunks_mut(n.max(1)).zip(len.par_iter()).take(d).map(|(c, &k)| median_of_keys(&mut c[..k])).collect()
}

/// A bijection f64 -> u64 that preserves order (for non-NaN values; -0.0
/// becomes 0.0 first, as the two compare equal).
#[inline]
fn order_key(v: f64) -> u64 {
    let b = (v + 0.0).to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[inline]
fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

fn median_of_keys(v: &mut [u64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (lower, hi, _) = v.select_nth_unstable(n / 2);
    let hi = from_key(*hi);
    if n % 2 == 1 {
        hi
    } else {
        let lo = from_key(*lower.iter().max().expect("n >= 2"));
        (lo + hi) / 2.0
    }
}

fn median_in_place(c: &mut [f64]) -> f64 {
    let mut k = 0;
    for i in 0..c.len() {
        if c[i].is_finite() {
            c[k] = c[i];
            k += 1;
        }
    }
    median_of_finite(&mut c[..k])
}

fn median_of_finite(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let cmp = |a: &f64, b: &f64| a.partial_cmp(b).expect("finite");
    let (lower, hi, _) = v.select_nth_unstable_by(n / 2, cmp);
    let hi = *hi;
    let m = if n % 2 == 1 {
        hi
    } else {
        let lo = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    };
    m + 0.0
}

/// ceil(log2(psi)) for psi >= 1.
pub fn max_depth_for(psi: usize) -> u32 {
    let mut d = 0u32;
    while (1usize << d) < psi {
        d += 1;
    }
    d
}

fn check_matrix(x: &[f64], n: usize, d: usize) -> Result<()> {
    if d == 0 {
        return Err("the matrix has no columns".into());
    }
    if n.checked_mul(d) != Some(x.len()) {
        return Err(format!("matrix of {} values is not {n} x {d}", x.len()));
    }
    Ok(())
}

/// Rows `0..psi` of a Fisher-Yates shuffle of 0..n, with the displaced
/// entries kept in a map so the cost is O(psi), not O(n).
fn sample_rows(rng: &mut Xoshiro128ss, n: usize, psi: usize) -> Vec<usize> {
    let mut moved: HashMap<usize, usize, BuildHasherDefault<MulHasher>> = HashMap::with_capacity_and_hasher(2 * psi, Default::default());
    let mut out = Vec::with_capacity(psi);
    for i in 0..psi {
        let j = i + rng.index((n - i) as u32) as usize;
        let at_j = *moved.get(&j).unwrap_or(&j);
        let at_i = *moved.get(&i).unwrap_or(&i);
        moved.insert(j, at_i);
        out.push(at_j);
    }
    out
}

/// A multiplicative hash for the row indices of sample_rows (the keys are
/// ours, not an attacker's; SipHash cost more than the tree it sampled for).
#[derive(Default)]
struct MulHasher(u64);

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, i: usize) {
        // The high bits choose hashbrown's bucket and tag: fold them in.
        let h = (i as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

struct Builder<'a> {
    rng: Xoshiro128ss,
    /// The whole training matrix, row-major [n, d], read in place (with
    /// imputation on read): a node touches only the columns it draws, so
    /// copying the tree's ψ full rows first would cost more than the tree.
    x: &'a [f64],
    medians: &'a [f64],
    d: usize,
    ndim: usize,
    max_depth: u32,
    tree: EifTree,
    lo: Vec<f64>,
    hi: Vec<f64>,
    cand: Vec<u32>,
    perm: Vec<u32>,
    /// The tree's sample (row indices into x), partitioned node by node.
    rows: Vec<u32>,
}

impl Builder<'_> {
    #[inline]
    fn at(&self, r: u32, f: usize) -> f64 {
        imputed(self.x[r as usize * self.d + f], self.medians[f])
    }

    fn leaf(&mut self, depth: u32, size: usize) {
        self.tree.right.push(-1);
        self.tree.value.push(f64::from(depth) + c_factor(size));
        self.tree.nfeat.push(0);
    }

    /// Builds the subtree of rows[a..b] at `depth` (preorder, left first).
    fn build(&mut self, a: usize, b: usize, depth: u32) {
        let size = b - a;
        if depth >= self.max_depth || size <= 1 {
            return self.leaf(depth, size);
        }
        let d = self.d;
        // Features in random order (a Fisher-Yates shuffle of 0..d, drawn
        // lazily), skipping those constant on this node's rows, until ndim
        // are found: a uniform random subset of the non-constant features,
        // found by looking at about ndim columns instead of all d.
        for (f, p) in self.perm.iter_mut().enumerate() {
            *p = f as u32;
        }
        self.cand.clear();
        let mut i = 0usize;
        while self.cand.len() < self.ndim && i < d {
            let j = i + self.rng.index((d - i) as u32) as usize;
            self.perm.swap(i, j);
            let f = self.perm[i] as usize;
            i += 1;
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in &self.rows[a..b] {
                let v = self.at(r, f);
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi > lo {
                self.cand.push(f as u32);
                self.lo[f] = lo;
                self.hi[f] = hi;
            }
        }
        let k = self.cand.len();
        if k == 0 {
            return self.leaf(depth, size);
        }
        let fstart = self.tree.feat.len();
        let mut threshold = 0.0;
        for i in 0..k {
            let f = self.cand[i] as usize;
            let c = normal(&mut self.rng);
            let p = self.lo[f] + uniform(&mut self.rng) * (self.hi[f] - self.lo[f]);
            threshold += c * p;
            self.tree.feat.push(f as u32);
            self.tree.coef.push(c);
        }
        let node = self.tree.right.len();
        self.tree.right.push(0);
        self.tree.value.push(threshold);
        self.tree.nfeat.push(k as u32);
        // Partition rows[a..b]: those with n.x <= threshold first.
        let mut split = a;
        for i in a..b {
            let r = self.rows[i];
            let mut dot = 0.0;
            for q in 0..k {
                dot += self.tree.coef[fstart + q] * self.at(r, self.tree.feat[fstart + q] as usize);
            }
            if dot <= threshold {
                self.rows.swap(i, split);
                split += 1;
            }
        }
        self.build(a, split, depth + 1);
        self.tree.right[node] = self.tree.right.len() as i32;
        self.build(split, b, depth + 1);
    }
}

#[inline]
fn imputed(v: f64, median: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        median
    }
}

fn build_tree(x: &[f64], n: usize, d: usize, medians: &[f64], o: &EifOptions, t: u32, psi: usize, max_depth: u32) -> EifTree {
    let mut rng = Xoshiro128ss::for_resample(o.seed, t);
    let rows = sample_rows(&mut rng, n, psi).into_iter().map(|r| r as u32).collect();
    let mut b = Builder {
        rng,
        x,
        medians,
        d,
        ndim: o.ndim as usize,
        max_depth,
        tree: EifTree { right: Vec::new(), value: Vec::new(), nfeat: Vec::new(), feat: Vec::new(), coef: Vec::new() },
        lo: vec![0.0; d],
        hi: vec![0.0; d],
        cand: Vec::with_capacity(d),
        perm: vec![0; d],
        rows,
    };
    b.build(0, psi, 0);
    b.tree
}

/// Fits a forest on the row-major [n, d] matrix `x` (NaN / infinities =
/// missing) on the current rayon pool.
pub fn fit(x: &[f64], n: usize, d: usize, o: &EifOptions) -> Result<EifModel> {
    o.validate()?;
    check_matrix(x, n, d)?;
    if n < 2 {
        return Err(format!("need at least 2 training rows, got {n}"));
    }
    if n > u32::MAX as usize {
        return Err(format!("at most {} training rows, got {n}", u32::MAX));
    }
    let medians = column_medians(x, n, d);
    let psi = (o.subsample as usize).min(n);
    let max_depth = max_depth_for(psi);
    let trees: Vec<EifTree> = (0..o.n_trees).into_par_iter().map(|t| build_tree(x, n, d, &medians, o, t, psi, max_depth)).collect();
    Ok(EifModel { format: MODEL_FORMAT.into(), n_features: d, n_trees: o.n_trees, ndim: o.ndim, seed: o.seed, subsample: psi, max_depth, medians, trees })
}

/// A node laid out for scoring: the first (feature, coefficient) pair
/// inline, so a classic (ndim = 1) split reads one 32-byte record.
#[derive(Clone, Copy)]
struct ScoreNode {
    value: f64,
    coef0: f64,
    feat0: u32,
    /// -1 for a leaf.
    right: i32,
    /// Further pairs: hyper[start..start + more].
    start: u32,
    more: u32,
}

struct ScoreTree {
    nodes: Vec<ScoreNode>,
    hyper: Vec<(f64, u32)>,
}

impl ScoreTree {
    fn new(t: &EifTree) -> Self {
        let mut nodes = Vec::with_capacity(t.right.len());
        let mut hyper = Vec::new();
        let mut q = 0usize;
        for i in 0..t.right.len() {
            let k = t.nfeat[i] as usize;
            let (coef0, feat0) = if k > 0 { (t.coef[q], t.feat[q]) } else { (0.0, 0) };
            let start = hyper.len() as u32;
            for j in q + 1..q + k {
                hyper.push((t.coef[j], t.feat[j]));
            }
            nodes.push(ScoreNode { value: t.value[i], coef0, feat0, right: t.right[i], start, more: k.saturating_sub(1) as u32 });
            q += k;
        }
        ScoreTree { nodes, hyper }
    }

    /// Adds the path length of each of up to LANES rows (row-major, `d`
    /// wide) to `acc`. The rows descend together, one level per step for
    /// `steps` = the depth limit (a row at a leaf stays there), without a
    /// data-dependent branch: independent lanes overlap their memory
    /// latency, and a mispredicted left/right branch per level would cost
    /// more than the split itself. The dot product is the fit's: coef * x
    /// over the pairs in order, from 0.
    #[inline]
    fn add_path_lengths(&self, rows: &[f64], d: usize, acc: &mut [f64], steps: u32) {
        let m = acc.len();
        let mut at = [0usize; LANES];
        if self.hyper.is_empty() && m == LANES {
            // Classic splits (one pair per node), a full group: fixed-size
            // loops the compiler unrolls across the lanes.
            for _ in 0..steps {
                for l in 0..LANES {
                    let i = at[l];
                    let nd = &self.nodes[i];
                    let dot = 0.0 + nd.coef0 * rows[l * d + nd.feat0 as usize];
                    let next = if dot <= nd.value { i + 1 } else { nd.right as usize };
                    at[l] = if nd.right < 0 { i } else { next };
                }
            }
            for l in 0..LANES {
                acc[l] += self.nodes[at[l]].value;
            }
            return;
        }
        for _ in 0..steps {
            for (l, i) in at.iter_mut().enumerate().take(m) {
                let nd = &self.nodes[*i];
                let row = &rows[l * d..(l + 1) * d];
                let mut dot = 0.0 + nd.coef0 * row[nd.feat0 as usize];
                for &(c, f) in &self.hyper[nd.start as usize..(nd.start + nd.more) as usize] {
                    dot += c * row[f as usize];
                }
                let next = if dot <= nd.value { *i + 1 } else { nd.right as usize };
                *i = if nd.right < 0 { *i } else { next };
            }
        }
        for (a, &i) in acc.iter_mut().zip(&at) {
            *a += self.nodes[i].value;
        }
    }
}

/// A tree re-laid for scoring as a complete binary tree of depth L = the
/// model's max_depth, in heap order (node i's children are 2i + 1, left,
/// and 2i + 2), with a leaf above depth L pushed down as always-left nodes
/// (coefficients 0, threshold +inf; the leaf value sits at its leftmost
/// descendant). Every row then takes exactly L steps, each computing the
/// next index from the comparison: no branch, no child index to load, and
/// about half the bytes of the linked layout. Only for L <= PERFECT_DEPTH
/// (2^L nodes per tree); deeper trees keep the linked layout.
struct PerfectTree {
    depth: u32,
    /// Pairs per node: the tree's largest hyperplane (1 for classic trees).
    k: usize,
    nodes: Vec<PerfectNode>,
    /// Pairs 2..k of node i: more[i * (k - 1)..][..k - 1].
    more: Vec<(f64, u32)>,
    /// leaf[j]: the value of the leaf at heap index 2^L - 1 + j.
    leaf: Vec<f64>,
}

#[derive(Clone, Copy)]
struct PerfectNode {
    threshold: f64,
    coef0: f64,
    feat0: u32,
}

const PERFECT_DEPTH: u32 = 12;

impl PerfectTree {
    fn new(t: &EifTree, depth: u32) -> Self {
        let internal = (1usize << depth) - 1;
        let k = t.nfeat.iter().copied().max().unwrap_or(0).max(1) as usize;
        let pad = PerfectNode { threshold: f64::INFINITY, coef0: 0.0, feat0: 0 };
        let mut nodes = vec![pad; internal];
        let mut more = vec![(0.0, 0u32); internal * (k - 1)];
        let mut leaf = vec![0.0; internal + 1];
        let mut start = Vec::with_capacity(t.nfeat.len());
        let mut q = 0usize;
        for &nf in &t.nfeat {
            start.push(q);
            q += nf as usize;
        }
        // (node in t, heap index, depth); validate() bounds the depth by L.
        let mut stack = vec![(0usize, 0usize, 0u32)];
        while let Some((i, h, dep)) = stack.pop() {
            if t.right[i] < 0 {
                let mut h = h;
                for _ in dep..depth {
                    h = 2 * h + 1;
                }
                leaf[h - internal] = t.value[i];
            } else {
                let (s, nf) = (start[i], t.nfeat[i] as usize);
                nodes[h] = PerfectNode { threshold: t.value[i], coef0: t.coef[s], feat0: t.feat[s] };
                for j in 1..nf {
                    more[h * (k - 1) + j - 1] = (t.coef[s + j], t.feat[s + j]);
                }
                stack.push((i + 1, 2 * h + 1, dep + 1));
                stack.push((t.right[i] as usize, 2 * h + 2, dep + 1));
            }
        }
        PerfectTree { depth, k, nodes, more, leaf }
    }

    /// As ScoreTree::add_path_lengths. The dot product is the fit's (coef *
    /// x over the pairs in order, from 0); a padding pair adds 0 * x = +-0,
    /// which changes no comparison, and `!(dot <= threshold)` sends a NaN
    /// dot right, as the fit does.
    #[inline]
    fn add_path_lengths(&self, rows: &[f64], d: usize, acc: &mut [f64]) {
        let m = acc.len();
        let mut at = [0usize; LANES];
        if m == LANES && self.k <= 4 {
            // A full group of rows and a small hyperplane: fixed-size loops
            // the compiler unrolls across the lanes.
            match self.k {
                1 => self.steps::<0>(rows, d, &mut at),
                2 => self.steps::<1>(rows, d, &mut at),
                3 => self.steps::<2>(rows, d, &mut at),
                _ => self.steps::<3>(rows, d, &mut at),
            }
        } else {
            let k1 = self.k - 1;
            for _ in 0..self.depth {
                for (l, i) in at.iter_mut().enumerate().take(m) {
                    let nd = self.nodes[*i];
                    let row = &rows[l * d..(l + 1) * d];
                    let mut dot = 0.0 + nd.coef0 * row[nd.feat0 as usize];
                    for &(c, f) in &self.more[*i * k1..(*i + 1) * k1] {
                        dot += c * row[f as usize];
                    }
                    *i = 2 * *i + 1 + usize::from(!(dot <= nd.threshold));
                }
            }
        }
        let internal = self.nodes.len();
        for (a, &i) in acc.iter_mut().zip(&at) {
            *a += self.leaf[i - internal];
        }
    }

    /// All L steps of LANES rows for trees of K + 1 pairs per node.
    #[inline]
    fn steps<const K: usize>(&self, rows: &[f64], d: usize, at: &mut [usize; LANES]) {
        for _ in 0..self.depth {
            for l in 0..LANES {
                let i = at[l];
                let nd = self.nodes[i];
                let row = &rows[l * d..(l + 1) * d];
                let mut dot = 0.0 + nd.coef0 * row[nd.feat0 as usize];
                if K > 0 {
                    let more: &[(f64, u32); K] = self.more[i * K..(i + 1) * K].try_into().expect("K pairs");
                    for &(c, f) in more {
                        dot += c * row[f as usize];
                    }
                }
                at[l] = 2 * i + 1 + usize::from(!(dot <= nd.threshold));
            }
        }
    }
}

/// The forest in its scoring layout.
enum ScoreForest {
    Perfect(Vec<PerfectTree>),
    Linked(Vec<ScoreTree>),
}

const LANES: usize = 8;

/// Rows scored together: each tree walks a block of rows before the next
/// tree (the trees stay in cache), and a row's sum runs in tree order.
const SCORE_BLOCK: usize = 64;

impl EifModel {
    pub fn from_json(text: &str) -> Result<Self> {
        let m: EifModel = serde_json::from_str(text).map_err(|e| format!("bad EIF model: {e}"))?;
        m.validate()?;
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }

    /// Structural checks so that a corrupt model cannot index out of range.
    pub fn validate(&self) -> Result<()> {
        if self.format != MODEL_FORMAT {
            return Err(format!("EIF model format is {:?}, expected {MODEL_FORMAT}", self.format));
        }
        if self.max_depth > 64 || self.medians.len() != self.n_features || self.trees.len() != self.n_trees as usize || self.trees.is_empty() || self.subsample < 2 {
            return Err("EIF model: inconsistent sizes".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let nn = tree.right.len();
            let bad = |w: &str| format!("EIF model: tree {t}: {w}");
            if nn == 0 || tree.value.len() != nn || tree.nfeat.len() != nn {
                return Err(bad("node arrays differ in length"));
            }
            let total: usize = tree.nfeat.iter().map(|&k| k as usize).sum();
            if tree.feat.len() != total || tree.coef.len() != total {
                return Err(bad("hyperplane arrays do not match nfeat"));
            }
            if tree.feat.iter().any(|&f| f as usize >= self.n_features) {
                return Err(bad("feature index out of range"));
            }
            // Walk the preorder from the root: every node reached once,
            // no deeper than max_depth (the scorer takes max_depth steps).
            let mut stack = vec![(0usize, 0u32)];
            let mut seen = 0usize;
            while let Some((i, depth)) = stack.pop() {
                seen += 1;
                if depth > self.max_depth || seen > nn {
                    return Err(bad("deeper than max_depth"));
                }
                if let Some(&r) = tree.right.get(i).filter(|&&r| r >= 0) {
                    if r as usize > i + 1 && (r as usize) < nn {
                        stack.push((r as usize, depth + 1));
                        stack.push((i + 1, depth + 1));
                    }
                }
            }
            if seen != nn {
                return Err(bad("nodes not reachable from the root"));
            }
            for i in 0..nn {
                let r = tree.right[i];
                let leaf = r < 0;
                if leaf != (tree.nfeat[i] == 0) || (!leaf && (r as usize <= i + 1 || r as usize >= nn)) || (!leaf && i + 1 >= nn) {
                    return Err(bad(&format!("node {i} is malformed")));
                }
            }
        }
        Ok(())
    }

    /// Anomaly scores s = 2^(-E[h(x)] / c(subsample)) in (0, 1] of the
    /// row-major [n, n_features] matrix, on the current rayon pool.
    pub fn score(&self, x: &[f64], n: usize) -> Result<Vec<f64>> {
        let d = self.n_features;
        check_matrix(x, n, d)?;
        let forest = if self.max_depth <= PERFECT_DEPTH {
            ScoreForest::Perfect(self.trees.iter().map(|t| PerfectTree::new(t, self.max_depth)).collect())
        } else {
            ScoreForest::Linked(self.trees.iter().map(ScoreTree::new).collect())
        };
        let c = c_factor(self.subsample);
        let t = f64::from(self.n_trees);
        let mut out = vec![0.0; n];
        out.par_chunks_mut(SCORE_BLOCK).enumerate().for_each(|(b, chunk)| {
            let r0 = b * SCORE_BLOCK;
            let mut rows = vec![0.0; chunk.len() * d];
            for (dst, src) in rows.chunks_exact_mut(d).zip(x[r0 * d..].chunks_exact(d)) {
                for ((o, &v), &m) in dst.iter_mut().zip(src).zip(&self.medians) {
                    *o = imputed(v, m);
                }
            }
            match &forest {
                ScoreForest::Perfect(trees) => {
                    for tree in trees {
                        for (g, acc) in chunk.chunks_mut(LANES).enumerate() {
                            tree.add_path_lengths(&rows[g * LANES * d..], d, acc);
                        }
                    }
                }
                ScoreForest::Linked(trees) => {
                    for tree in trees {
                        for (g, acc) in chunk.chunks_mut(LANES).enumerate() {
                            tree.add_path_lengths(&rows[g * LANES * d..], d, acc, self.max_depth);
                        }
                    }
                }
            }
            for acc in chunk.iter_mut() {
                *acc = (-(*acc / t) / c).exp2();
            }
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, d: usize, seed: u32) -> Vec<f64> {
        let mut g = Xoshiro128ss::for_resample(seed, 99);
        (0..n * d).map(|_| normal(&mut g)).collect()
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    #[test]
    fn same_forest_and_scores_whatever_the_threads() {
        let (n, d) = (500, 6);
        let x = data(n, d, 1);
        for ndim in [1, 3] {
            let o = EifOptions { n_trees: 20, subsample: 64, ndim, seed: 5 };
            let m1 = in_pool(1, || fit(&x, n, d, &o).unwrap());
            let m3 = in_pool(3, || fit(&x, n, d, &o).unwrap());
            assert_eq!(m1, m3);
            assert_eq!(in_pool(1, || m1.score(&x, n).unwrap()), in_pool(3, || m1.score(&x, n).unwrap()));
        }
    }

    #[test]
    fn outliers_score_higher() {
        let (n, d) = (1000, 4);
        let mut x = data(n, d, 2);
        for f in 0..d {
            x[f] = 8.0; // row 0: far out
        }
        let m = fit(&x, n, d, &EifOptions { n_trees: 100, ndim: 2, ..Default::default() }).unwrap();
        let s = m.score(&x, n).unwrap();
        let rank = s.iter().filter(|&&v| v > s[0]).count();
        assert_eq!(rank, 0, "outlier score {} not the highest", s[0]);
        assert!(s.iter().all(|v| *v > 0.0 && *v <= 1.0));
    }

    #[test]
    fn model_round_trips_and_is_validated() {
        let x = data(100, 3, 3);
        let m = fit(&x, 100, 3, &EifOptions { n_trees: 5, subsample: 32, ndim: 2, seed: 1 }).unwrap();
        let back = EifModel::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
        let mut bad = m.clone();
        bad.trees[0].feat[0] = 7;
        assert!(bad.validate().is_err());
        let mut bad = m;
        bad.trees[1].right[0] = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn missing_and_constant_inputs() {
        let mut x = data(50, 3, 4);
        for i in 0..50 {
            x[i * 3 + 1] = 7.0; // constant column: never split on
            if i % 3 == 0 {
                x[i * 3] = f64::NAN;
            }
        }
        x[5] = f64::INFINITY;
        let m = fit(&x, 50, 3, &EifOptions { n_trees: 10, subsample: 16, ndim: 3, seed: 2 }).unwrap();
        assert_eq!(m.medians[1], 7.0);
        assert!(m.trees.iter().all(|t| !t.feat.contains(&1)));
        let s = m.score(&[f64::NAN, f64::NAN, f64::NAN], 1).unwrap();
        assert!(s[0].is_finite());
    }

    #[test]
    fn sampling_is_without_replacement() {
        let mut g = Xoshiro128ss::for_resample(1, 1);
        let mut s = sample_rows(&mut g, 300, 300);
        s.sort();
        assert_eq!(s, (0..300).collect::<Vec<_>>());
    }

    #[test]
    fn column_medians_match_the_plain_median() {
        let x = vec![3.0, -0.0, f64::NAN, 1.0, 0.0, 2.0, -5.5, f64::INFINITY, 7.0, 1e300, -1e-300, 7.0];
        let m = column_medians(&x, 4, 3);
        for f in 0..3 {
            assert_eq!(m[f], median_finite((0..4).map(|i| x[i * 3 + f]).collect()), "{f}");
        }
        assert_eq!(column_medians(&[f64::NAN, 1.0], 1, 2), vec![0.0, 1.0]);
    }

    /// The bracketed path (n >= BRACKET_MIN_ROWS) against the plain one
    /// on columns built to defeat it: ties at and around the median, NaN
    /// and infinities, a sorted column (chunks overflow, so it is redone),
    /// all-missing and nearly-all-missing columns, -0, constants, and even
    /// and odd finite counts; on 1 and 3 threads.
    #[test]
    fn bracketed_medians_match_the_plain_ones() {
        for n in [BRACKET_MIN_ROWS, 50_001] {
            let d = 10;
            let mut g = Xoshiro128ss::for_resample(7, n as u32);
            let mut x = vec![0.0; n * d];
            for i in 0..n {
                let u = uniform(&mut g);
                let row = &mut x[i * d..(i + 1) * d];
                row[0] = normal(&mut g);
                row[1] = if u < 0.8 { 0.0 } else { normal(&mut g) }; // mostly zeros
                row[2] = (normal(&mut g) * 2.0).round() * 0.5; // heavy ties
                row[3] = if u < 0.3 { f64::NAN } else if u < 0.32 { f64::INFINITY } else if u < 0.34 { f64::NEG_INFINITY } else { normal(&mut g) };
                row[4] = i as f64; // sorted
                row[5] = f64::NAN;
                row[6] = if i % 997 == 0 { normal(&mut g) } else { f64::NAN }; // few finite values
                row[7] = if u < 0.5 { -0.0 } else if u < 0.75 { 0.0 } else { 1.0 };
                row[8] = 4.5;
                row[9] = if i % 2 == 0 { 1.0 } else { 2.0 }; // median between two values
            }
            let plain = column_medians_plain(&x, n, d);
            for threads in [1, 3] {
                let got = in_pool(threads, || column_medians(&x, n, d));
                for f in 0..d {
                    assert_eq!(got[f].to_bits(), plain[f].to_bits(), "n {n} column {f}: {} vs {}", got[f], plain[f]);
                }
            }
        }
    }

    /// Both scoring layouts (complete trees up to PERFECT_DEPTH, linked
    /// beyond) give exactly the plain walk of the preorder arrays, for
    /// classic and hyperplane splits, full and partial lane groups, and
    /// rows with missing values.
    #[test]
    fn scoring_layouts_match_the_plain_walk() {
        fn plain(m: &EifModel, x: &[f64], n: usize) -> Vec<f64> {
            let d = m.n_features;
            (0..n)
                .map(|r| {
                    let row: Vec<f64> = (0..d).map(|f| imputed(x[r * d + f], m.medians[f])).collect();
                    let mut acc = 0.0;
                    for t in &m.trees {
                        let starts: Vec<usize> = t.nfeat.iter().scan(0usize, |q, &k| Some(std::mem::replace(q, *q + k as usize))).collect();
                        let mut i = 0usize;
                        while t.right[i] >= 0 {
                            let mut dot = 0.0;
                            for q in starts[i]..starts[i] + t.nfeat[i] as usize {
                                dot += t.coef[q] * row[t.feat[q] as usize];
                            }
                            i = if dot <= t.value[i] { i + 1 } else { t.right[i] as usize };
                        }
                        acc += t.value[i];
                    }
                    (-(acc / f64::from(m.n_trees)) / c_factor(m.subsample)).exp2()
                })
                .collect()
        }
        let (n, d) = (9000, 5);
        let mut x = data(n, d, 8);
        for i in (0..n * d).step_by(7) {
            x[i] = f64::NAN;
        }
        for (subsample, ndim) in [(256, 1), (256, 3), (200, 6), (8192, 1), (8192, 2)] {
            let m = fit(&x, n, d, &EifOptions { n_trees: 7, subsample, ndim, seed: 3 }).unwrap();
            assert_eq!(m.max_depth > PERFECT_DEPTH, subsample == 8192);
            let probe = &x[..1013 * d];
            assert_eq!(m.score(probe, 1013).unwrap(), plain(&m, probe, 1013), "subsample {subsample} ndim {ndim}");
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median_finite(vec![3.0, 1.0, f64::NAN, 2.0]), 2.0);
        assert_eq!(median_finite(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_finite(vec![f64::NAN]), 0.0);
        assert_eq!(max_depth_for(256), 8);
        assert_eq!(max_depth_for(255), 8);
        assert_eq!(max_depth_for(257), 9);
        assert_eq!(max_depth_for(2), 1);
    }
}
