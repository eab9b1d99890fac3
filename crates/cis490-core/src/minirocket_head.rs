//! The MiniRocket classifier's head: multinomial logistic regression on the
//! standardised PPV features, trained with Adam on seeded mini-batches,
//! class-weighted softmax loss, L2, and early stopping on validation macro
//! F1 with the best epoch kept (docs/minirocket.md, "The head"). The
//! TypeScript twin is src/reference/minirocket-head.ts.
//!
//! Parallel (on the caller's rayon pool) yet bit-for-bit the sequential
//! twin's arithmetic whatever the thread count: every sum the twin makes is
//! made here by one thread in the twin's order. A row's logits are one
//! row's work (parallel over rows); a weight's batch gradient is summed
//! over the batch's rows in batch order by the thread that owns its
//! feature block (parallel over features), which then applies its Adam
//! step; the loss, weight and bias sums run over the rows in order on one
//! thread. The only results that can differ from the twin are those of
//! `exp` and `ln` (libm here, V8's fdlibm port there: at most an ulp
//! apart), which is why the parity test has a tolerance.

use crate::minirocket::Mulberry32;
use rayon::prelude::*;
use serde::Deserialize;
use std::time::Instant;

/// Features per parallel work item (stats, gradient and Adam step).
const FEATURE_BLOCK: usize = 128;
/// Rows per parallel work item (logits, validation prediction).
const ROW_BLOCK: usize = 16;
/// Rows whose logits share one pass over the weights.
const ROW_GROUP: usize = 4;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
/// XOR-ed into the training seed so the shuffle does not replay the transform's draws.
const SHUFFLE_SEED_MIX: u32 = 0x9e37_79b9;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeadOptions {
    /// Passes over the training rows at most.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation macro F1 (0 = never).
    pub patience: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// L2 penalty added to each weight's gradient (not the bias's).
    pub l2: f64,
    /// The training seed (the shuffle's generator is seeded with it XOR 0x9e3779b9).
    pub seed: u32,
}

impl HeadOptions {
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("head options: {e}"))
    }
}

/// One split's rows: `x` [n, n_features] row-major, `y` [n] class indices.
pub struct HeadRows<'a> {
    pub x: &'a mut [f32],
    pub y: &'a [i32],
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeadEpoch {
    /// Class-weighted mean cross-entropy over the epoch's batches (weights before each step).
    pub train_loss: f64,
    /// NaN without validation rows.
    pub val_macro_f1: f64,
    pub seconds: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    EarlyStopping,
    MaxEpochs,
}

impl Stopped {
    pub fn as_str(self) -> &'static str {
        match self {
            Stopped::EarlyStopping => "early-stopping",
            Stopped::MaxEpochs => "max-epochs",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeadFit {
    /// Per-feature training mean and standard deviation (1 where it is 0).
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// [n_features, n_classes] row-major, and [n_classes]: the best epoch's (zeros if no epoch beat -1).
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
    pub history: Vec<HeadEpoch>,
    /// 1-based; 0 when no epoch ran or none had a validation macro F1 above -1.
    pub best_epoch: usize,
    pub best_val_macro_f1: f64,
    pub stopped: Stopped,
}

/// Checks sizes and labels; the class count is `class_weights.len()`.
pub fn check_head_inputs(train_x: usize, train_y: &[i32], val_x: usize, val_y: &[i32], n_features: usize, class_weights: &[f32], opts: &HeadOptions) -> Result<(), String> {
    let k = class_weights.len();
    if n_features == 0 {
        return Err("the head needs at least one feature".into());
    }
    if k == 0 {
        return Err("the head needs at least one class weight".into());
    }
    if train_y.is_empty() {
        return Err("the head needs at least one training row".into());
    }
    for (what, len, y) in [("train", train_x, train_y), ("val", val_x, val_y)] {
        if y.len().checked_mul(n_features) != Some(len) {
            return Err(format!("{what} features hold {len} values, not rows x features = {} x {n_features}", y.len()));
        }
        if let Some(bad) = y.iter().find(|&&c| c < 0 || c as usize >= k) {
            return Err(format!("{what} label {bad} is not a class index in [0, {k})"));
        }
    }
    if opts.batch_size == 0 {
        return Err("batch_size must be at least 1".into());
    }
    if !(opts.lr.is_finite() && opts.lr > 0.0 && opts.l2.is_finite() && opts.l2 >= 0.0) {
        return Err(format!("lr must be positive and l2 non-negative (lr {}, l2 {})", opts.lr, opts.l2));
    }
    Ok(())
}

/// Per-feature mean and population standard deviation of x [n, f] (std 1
/// where it is 0 or undefined); each column summed over rows in order.
pub fn feature_stats(x: &[f32], n: usize, f: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0f64; f];
    let mut std = vec![0f64; f];
    mean.par_chunks_mut(FEATURE_BLOCK).zip(std.par_chunks_mut(FEATURE_BLOCK)).enumerate().for_each(|(blk, (m, s))| {
        let j0 = blk * FEATURE_BLOCK;
        for i in 0..n {
            let row = &x[i * f + j0..i * f + j0 + m.len()];
            for (acc, &v) in m.iter_mut().zip(row) {
                *acc += f64::from(v);
            }
        }
        for acc in m.iter_mut() {
            *acc /= n as f64;
        }
        for i in 0..n {
            let row = &x[i * f + j0..i * f + j0 + m.len()];
            for ((acc, &v), &mu) in s.iter_mut().zip(row).zip(m.iter()) {
                let d = f64::from(v) - mu;
                *acc += d * d;
            }
        }
        for acc in s.iter_mut() {
            let sd = (*acc / n as f64).sqrt();
            *acc = if sd == 0.0 || sd.is_nan() { 1.0 } else { sd };
        }
    });
    (mean, std)
}

/// x[i, j] = (x[i, j] - mean[j]) / std[j], rounded back to f32.
pub fn standardise(x: &mut [f32], f: usize, mean: &[f64], std: &[f64]) {
    x.par_chunks_mut(f).for_each(|row| {
        for ((v, &mu), &sd) in row.iter_mut().zip(mean).zip(std) {
            *v = ((f64::from(*v) - mu) / sd) as f32;
        }
    });
}

/// The logits of a few rows (`rows` of x, at most ROW_GROUP) into z [rows, k]:
/// each row's sum runs over the features in order, as in the twin; the
/// rows share one pass over W (the weights are read once per group, not per row).
fn logits_group(x: &[f32], f: usize, rows: &[usize], k: usize, w: &[f64], b: &[f64], z: &mut [f64]) {
    let mut xs: [&[f32]; ROW_GROUP] = [&[]; ROW_GROUP];
    for (slot, &i) in xs.iter_mut().zip(rows) {
        *slot = &x[i * f..(i + 1) * f];
    }
    let xs = &xs[..rows.len()];
    for zr in z.chunks_mut(k) {
        zr.copy_from_slice(b);
    }
    for (j, wj) in w.chunks_exact(k).enumerate() {
        for (xr, zr) in xs.iter().zip(z.chunks_mut(k)) {
            let xj = xr[j];
            if xj == 0.0 {
                continue;
            }
            let xj = f64::from(xj);
            for (zq, &wq) in zr.iter_mut().zip(wj) {
                *zq += xj * wq;
            }
        }
    }
}

/// Softmax of one row's logits in place; returns -ln p(label) (0 for None).
fn softmax(z: &mut [f64], label: Option<usize>) -> f64 {
    let mut max = f64::NEG_INFINITY;
    for &v in z.iter() {
        max = max.max(v);
    }
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
    match label {
        Some(c) => -z[c].max(1e-300).ln(),
        None => 0.0,
    }
}

/// Class probabilities [n, k] as f32 (the precision the twin's argmax sees).
pub fn head_proba(x: &[f32], n: usize, f: usize, k: usize, w: &[f64], b: &[f64]) -> Vec<f32> {
    let mut out = vec![0f32; n * k];
    let all: Vec<usize> = (0..n).collect();
    out.par_chunks_mut(ROW_BLOCK * k).zip(all.par_chunks(ROW_BLOCK)).for_each(|(chunk, rows)| {
        let mut z = vec![0f64; ROW_GROUP * k];
        for (o, group) in chunk.chunks_mut(ROW_GROUP * k).zip(rows.chunks(ROW_GROUP)) {
            let z = &mut z[..group.len() * k];
            logits_group(x, f, group, k, w, b, z);
            for (zr, or) in z.chunks_mut(k).zip(o.chunks_mut(k)) {
                softmax(zr, None);
                for (oq, &zq) in or.iter_mut().zip(zr.iter()) {
                    *oq = zq as f32;
                }
            }
        }
    });
    out
}

/// First index of the largest probability in each row.
fn argmax_rows(p: &[f32], k: usize) -> Vec<i32> {
    p.chunks(k)
        .map(|row| {
            let mut best = 0;
            for c in 1..k {
                if row[c] > row[best] {
                    best = c;
                }
            }
            best as i32
        })
        .collect()
}

/// Adam's moments of one parameter vector.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    fn new(len: usize) -> Self {
        Adam { m: vec![0.0; len], v: vec![0.0; len] }
    }
}

/// One Adam step of parameters p with gradients g (already averaged and
/// regularised), bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t.
#[inline]
fn adam_step(p: &mut [f64], m: &mut [f64], v: &mut [f64], g: impl Iterator<Item = f64>, lr: f64, c1: f64, c2: f64) {
    for (((pq, mq), vq), gq) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
        *mq = BETA1 * *mq + (1.0 - BETA1) * gq;
        *vq = BETA2 * *vq + (1.0 - BETA2) * gq * gq;
        *pq -= (lr * (*mq / c1)) / ((*vq / c2).sqrt() + ADAM_EPS);
    }
}

/// Fits the head. Standardises `train.x` and `val.x` in place with the
/// training statistics. Runs on the current rayon pool; the result depends
/// on the inputs and `opts` only (not the pool's size). Per-epoch seconds
/// are wall time.
pub fn fit_head(train: HeadRows, val: HeadRows, n_features: usize, class_weights: &[f32], opts: &HeadOptions) -> Result<HeadFit, String> {
    check_head_inputs(train.x.len(), train.y, val.x.len(), val.y, n_features, class_weights, opts)?;
    let (f, k) = (n_features, class_weights.len());
    let (n, n_val) = (train.y.len(), val.y.len());
    let (mean, std) = feature_stats(train.x, n, f);
    standardise(train.x, f, &mean, &std);
    standardise(val.x, f, &mean, &std);
    let (x, y) = (&*train.x, train.y);

    let mut w = vec![0f64; f * k];
    let mut b = vec![0f64; k];
    let mut adam_w = Adam::new(f * k);
    let mut adam_b = Adam::new(k);
    let mut rng = Mulberry32::new(opts.seed ^ SHUFFLE_SEED_MIX);
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = Vec::new();
    let (mut best_epoch, mut best_f1) = (0usize, -1f64);
    let (mut best_w, mut best_b) = (w.clone(), b.clone());
    let mut stopped = Stopped::MaxEpochs;
    // beta^t as running products (the twin does the same), not pow: libm and V8 may round pow differently.
    let (mut beta1_t, mut beta2_t) = (1f64, 1f64);
    let bs = opts.batch_size;
    // Per batch row: its class weight times (softmax - one-hot), and its -ln p(label).
    let mut resid = vec![0f64; bs.min(n) * k];
    let mut loss = vec![0f64; bs.min(n)];
    let mut g_b = vec![0f64; k];

    for epoch in 1..=opts.epochs {
        let t0 = Instant::now();
        for i in (1..n).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        let (mut loss_sum, mut weight_sum) = (0f64, 0f64);
        let mut at = 0;
        while at < n {
            let rows = &order[at..(at + bs).min(n)];
            let m = rows.len();
            let (resid, loss) = (&mut resid[..m * k], &mut loss[..m]);
            resid.par_chunks_mut(ROW_BLOCK * k).zip(loss.par_chunks_mut(ROW_BLOCK)).zip(rows.par_chunks(ROW_BLOCK)).for_each(|((zs, ls), block)| {
                for ((zg, lg), group) in zs.chunks_mut(ROW_GROUP * k).zip(ls.chunks_mut(ROW_GROUP)).zip(block.chunks(ROW_GROUP)) {
                    logits_group(x, f, group, k, &w, &b, zg);
                    for ((z, l), &i) in zg.chunks_mut(k).zip(lg.iter_mut()).zip(group) {
                        let c = y[i] as usize;
                        *l = softmax(z, Some(c));
                        let cw = f64::from(class_weights[c]);
                        for (q, zq) in z.iter_mut().enumerate() {
                            *zq = cw * (*zq - if q == c { 1.0 } else { 0.0 });
                        }
                    }
                }
            });
            let mut bw = 0f64;
            g_b.fill(0.0);
            for (r, &i) in rows.iter().enumerate() {
                let cw = f64::from(class_weights[y[i] as usize]);
                loss_sum += cw * loss[r];
                bw += cw;
                for (g, &z) in g_b.iter_mut().zip(&resid[r * k..(r + 1) * k]) {
                    *g += z;
                }
            }
            weight_sum += bw;
            beta1_t *= BETA1;
            beta2_t *= BETA2;
            let (c1, c2) = (1.0 - beta1_t, 1.0 - beta2_t);
            let (lr, l2) = (opts.lr, opts.l2);
            let resid = &*resid;
            w.par_chunks_mut(FEATURE_BLOCK * k).zip(adam_w.m.par_chunks_mut(FEATURE_BLOCK * k)).zip(adam_w.v.par_chunks_mut(FEATURE_BLOCK * k)).enumerate().for_each(
                |(blk, ((wb, mb), vb))| {
                    let j0 = blk * FEATURE_BLOCK;
                    let width = wb.len() / k;
                    let mut g = vec![0f64; wb.len()];
                    for (r, &i) in rows.iter().enumerate() {
                        let z = &resid[r * k..(r + 1) * k];
                        let xr = &x[i * f + j0..i * f + j0 + width];
                        for (jj, &xj) in xr.iter().enumerate() {
                            if xj == 0.0 {
                                continue;
                            }
                            let xj = f64::from(xj);
                            for (gq, &zq) in g[jj * k..jj * k + k].iter_mut().zip(z) {
                                *gq += xj * zq;
                            }
                        }
                    }
                    for (gq, &wq) in g.iter_mut().zip(wb.iter()) {
                        *gq = *gq / bw + l2 * wq;
                    }
                    adam_step(wb, mb, vb, g.into_iter(), lr, c1, c2);
                },
            );
            adam_step(&mut b, &mut adam_b.m, &mut adam_b.v, g_b.iter().map(|&g| g / bw), lr, c1, c2);
            at += bs;
        }
        let pred = argmax_rows(&head_proba(val.x, n_val, f, k, &w, &b), k);
        let f1 = cis490_stats::metrics::macro_f1(val.y, &pred);
        history.push(HeadEpoch { train_loss: loss_sum / weight_sum, val_macro_f1: f1, seconds: t0.elapsed().as_secs_f64() });
        if f1 > best_f1 {
            best_epoch = epoch;
            best_f1 = f1;
            best_w.copy_from_slice(&w);
            best_b.copy_from_slice(&b);
        }
        if opts.patience > 0 && epoch - best_epoch >= opts.patience {
            stopped = Stopped::EarlyStopping;
            break;
        }
    }
    Ok(HeadFit { mean, std, weights: best_w, bias: best_b, history, best_epoch, best_val_macro_f1: best_f1, stopped })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, f: usize, k: usize, seed: u32) -> (Vec<f32>, Vec<i32>) {
        let mut r = Mulberry32::new(seed);
        let y: Vec<i32> = (0..n).map(|_| r.below(k) as i32).collect();
        let x = (0..n * f)
            .map(|q| {
                let (i, j) = (q / f, q % f);
                if j % 7 == 3 {
                    0.0
                } else {
                    (r.uniform() * 0.5 + if j % k == y[i] as usize { 0.4 } else { 0.0 }) as f32
                }
            })
            .collect();
        (x, y)
    }

    fn opts() -> HeadOptions {
        HeadOptions { epochs: 12, patience: 3, batch_size: 37, lr: 1e-2, l2: 1e-3, seed: 5 }
    }

    fn run(threads: usize) -> HeadFit {
        let (f, k) = (40, 3);
        let (mut x, y) = rows(200, f, k, 1);
        let (mut vx, vy) = rows(60, f, k, 2);
        let cw = [1.0f32, 2.0, 0.5];
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| fit_head(HeadRows { x: &mut x, y: &y }, HeadRows { x: &mut vx, y: &vy }, f, &cw, &opts()))
            .unwrap()
    }

    #[test]
    fn learns_and_is_identical_on_any_thread_count() {
        let a = run(1);
        assert!(a.best_val_macro_f1 > 0.8, "val macro F1 {}", a.best_val_macro_f1);
        assert!(a.history[0].train_loss > a.history[a.history.len() - 1].train_loss);
        // An all-zero column: mean 0, std 1.
        assert_eq!((a.mean[3], a.std[3]), (0.0, 1.0));
        for t in [2, 3, 5] {
            let b = run(t);
            assert_eq!(a.weights, b.weights);
            assert_eq!(a.bias, b.bias);
            assert_eq!(a.history.iter().map(|h| (h.train_loss, h.val_macro_f1)).collect::<Vec<_>>(), b.history.iter().map(|h| (h.train_loss, h.val_macro_f1)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn refuses_bad_inputs() {
        let (mut x, y) = rows(10, 4, 2, 1);
        let (mut vx, vy) = rows(5, 4, 2, 2);
        let cw = [1.0f32, 1.0];
        let e = fit_head(HeadRows { x: &mut x[..39], y: &y }, HeadRows { x: &mut vx, y: &vy }, 4, &cw, &opts()).unwrap_err();
        assert!(e.contains("rows x features"), "{e}");
        let e = fit_head(HeadRows { x: &mut x, y: &y }, HeadRows { x: &mut vx, y: &vy }, 4, &cw[..1], &opts()).unwrap_err();
        assert!(e.contains("not a class index"), "{e}");
        let e = fit_head(HeadRows { x: &mut x, y: &y }, HeadRows { x: &mut vx, y: &vy }, 4, &cw, &HeadOptions { batch_size: 0, ..opts() }).unwrap_err();
        assert!(e.contains("batch_size"), "{e}");
        assert!(HeadOptions::from_json(r#"{"epochs":1}"#).unwrap_err().contains("missing field"));
    }
}
