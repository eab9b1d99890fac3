//! MiniRocket (Dempster, Schmidt & Webb, KDD 2021), multivariate: a fixed,
//! almost deterministic convolutional transform of a [channels, steps]
//! window into PPV features (the proportion of a convolution output above a
//! bias), to be read by a linear head. The algorithm and every choice made
//! here are in docs/minirocket.md; the TypeScript twin is
//! src/reference/minirocket.ts and must agree bit for bit, so everything is
//! f64 arithmetic in one fixed order, the random numbers are a 32-bit
//! generator both languages run exactly, and no transcendental function
//! decides anything except where docs/minirocket.md says why it is safe.
//!
//! Missing values: a masked (or non-finite) step never enters a sum. Each
//! channel is standardised with the training mean/std of its observed
//! values, then a masked step takes the window's observed mean of that
//! channel (0 = the training mean when the channel has no observed step in
//! the window). So no NaN can reach a feature.

use serde::{Deserialize, Serialize};

pub const KERNEL_LENGTH: usize = 9;
pub const NUM_KERNELS: usize = 84;
pub const FORMAT: &str = "cis490-minirocket/1";

/// The 84 kernels: the index triples (positions of weight 2; the other six
/// weigh -1) of {0..8}, in lexicographic order.
pub fn kernel_indices() -> Vec<[usize; 3]> {
    let mut out = Vec::with_capacity(NUM_KERNELS);
    for a in 0..KERNEL_LENGTH {
        for b in a + 1..KERNEL_LENGTH {
            for c in b + 1..KERNEL_LENGTH {
                out.push([a, b, c]);
            }
        }
    }
    out
}

/// mulberry32: 32-bit state, exactly reproducible with Math.imul in JS.
#[derive(Clone, Debug)]
pub struct Mulberry32(u32);

impl Mulberry32 {
    pub fn new(seed: u32) -> Self {
        Mulberry32(seed)
    }
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        t ^ (t >> 14)
    }
    /// Uniform in [0, 1): the draw / 2^32 (exact in f64).
    pub fn uniform(&mut self) -> f64 {
        self.next_u32() as f64 / 4_294_967_296.0
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64).floor() as usize).min(n.saturating_sub(1))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FitOptions {
    /// Features wanted in total; rounded down to a multiple of 84.
    pub num_features: usize,
    pub max_dilations_per_kernel: usize,
    pub seed: u32,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { num_features: 10_000, max_dilations_per_kernel: 32, seed: 0 }
    }
}

/// The fitted transform (JSON is its saved form).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MiniRocket {
    pub format: String,
    pub n_channels: usize,
    pub length: usize,
    /// Per channel: training mean / std of the observed values (std 1 where it is 0 or undefined).
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub dilations: Vec<usize>,
    pub features_per_dilation: Vec<usize>,
    /// Per (dilation index * 84 + kernel): the channels summed.
    pub channels: Vec<Vec<usize>>,
    /// In feature order: dilation, kernel, then that kernel's biases.
    pub biases: Vec<f64>,
}

impl MiniRocket {
    pub fn num_features(&self) -> usize {
        self.biases.len()
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }
    pub fn from_json(text: &str) -> Result<Self, String> {
        let m: MiniRocket = serde_json::from_str(text).map_err(|e| format!("minirocket model: {e}"))?;
        m.check()?;
        Ok(m)
    }
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("minirocket model: format {:?} is not {FORMAT}", self.format));
        }
        let nd = self.dilations.len();
        let ok = self.length >= KERNEL_LENGTH
            && self.n_channels >= 1
            && self.mean.len() == self.n_channels
            && self.std.len() == self.n_channels
            && self.features_per_dilation.len() == nd
            && self.channels.len() == nd * NUM_KERNELS
            && self.channels.iter().all(|s| !s.is_empty() && s.iter().all(|&c| c < self.n_channels))
            && self.dilations.iter().all(|&d| d >= 1 && (KERNEL_LENGTH - 1) * d < self.length)
            && self.biases.len() == NUM_KERNELS * self.features_per_dilation.iter().sum::<usize>()
            && self.biases.iter().all(|b| b.is_finite());
        if ok {
            Ok(())
        } else {
            Err("minirocket model: inconsistent fields".into())
        }
    }
}

/// Dilations up to floor((L-1)/8), exponentially spaced, and the number of
/// features per dilation (the reference's rule: counts of the unique
/// floored values times the multiplier, the remainder dealt out one by one
/// from the smallest dilation).
pub fn fit_dilations(length: usize, num_features: usize, max_dilations_per_kernel: usize) -> (Vec<usize>, Vec<usize>) {
    let per_kernel = num_features / NUM_KERNELS;
    let true_max = per_kernel.min(max_dilations_per_kernel).max(1);
    let multiplier = per_kernel as f64 / true_max as f64;
    let max_dilation = (length - 1) / (KERNEL_LENGTH - 1);
    let max_exponent = (((length - 1) as f64) / ((KERNEL_LENGTH - 1) as f64)).log2();
    let mut raw = Vec::with_capacity(true_max);
    for i in 0..true_max {
        let e = if i + 1 == true_max { max_exponent } else { max_exponent * (i as f64 / (true_max - 1).max(1) as f64) };
        // +1e-9: 2^log2(3) may come out a hair under 3 in one language and not the other.
        let d = (e.exp2() + 1e-9).floor() as usize;
        raw.push(d.clamp(1, max_dilation));
    }
    let mut dilations: Vec<usize> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for d in raw {
        if dilations.last() == Some(&d) {
            *counts.last_mut().unwrap() += 1;
        } else {
            dilations.push(d);
            counts.push(1);
        }
    }
    let mut fpd: Vec<usize> = counts.iter().map(|&c| (c as f64 * multiplier).floor() as usize).collect();
    let mut remainder = per_kernel - fpd.iter().sum::<usize>();
    let mut i = 0;
    while remainder > 0 {
        fpd[i] += 1;
        remainder -= 1;
        i = (i + 1) % fpd.len();
    }
    (dilations, fpd)
}

/// The low-discrepancy quantiles of the reference: frac((j+1) * golden ratio).
pub fn quantiles(n: usize) -> Vec<f64> {
    let phi = (5f64.sqrt() + 1.0) / 2.0;
    (0..n).map(|j| ((j + 1) as f64 * phi) % 1.0).collect()
}

/// Standardises one window into `z` ([C, L], f64) and fills masked steps (module doc).
pub fn prepare_window(x: &[f32], mask: &[u8], mean: &[f64], std: &[f64], length: usize, z: &mut [f64]) {
    let c_n = mean.len();
    for c in 0..c_n {
        let row = c * length;
        let mut sum = 0.0;
        let mut count = 0usize;
        for t in 0..length {
            let v = x[row + t] as f64;
            if mask[row + t] != 0 && v.is_finite() {
                let s = (v - mean[c]) / std[c];
                z[row + t] = s;
                sum += s;
                count += 1;
            }
        }
        let fill = if count > 0 { sum / count as f64 } else { 0.0 };
        for t in 0..length {
            let v = x[row + t] as f64;
            if !(mask[row + t] != 0 && v.is_finite()) {
                z[row + t] = fill;
            }
        }
    }
}

/// Per channel: mean and std of the observed finite values of all windows.
pub fn channel_stats(x: &[f32], mask: &[u8], n: usize, c_n: usize, length: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; c_n];
    let mut std = vec![1.0; c_n];
    for c in 0..c_n {
        let mut sum = 0.0;
        let mut count = 0usize;
        for w in 0..n {
            let row = (w * c_n + c) * length;
            for t in 0..length {
                let v = x[row + t] as f64;
                if mask[row + t] != 0 && v.is_finite() {
                    sum += v;
                    count += 1;
                }
            }
        }
        if count == 0 {
            continue;
        }
        let m = sum / count as f64;
        let mut ss = 0.0;
        for w in 0..n {
            let row = (w * c_n + c) * length;
            for t in 0..length {
                let v = x[row + t] as f64;
                if mask[row + t] != 0 && v.is_finite() {
                    ss += (v - m) * (v - m);
                }
            }
        }
        let s = (ss / count as f64).sqrt();
        mean[c] = m;
        std[c] = if s > 0.0 && s.is_finite() { s } else { 1.0 };
    }
    (mean, std)
}

/// Scratch of one window at one dilation: A[c][t] = the sum of the nine
/// taps of channel c (zero padding), the part all kernels share.
fn tap_sums(z: &[f64], c_n: usize, length: usize, d: usize, a: &mut [f64]) {
    for c in 0..c_n {
        let row = c * length;
        for t in 0..length {
            let mut s = 0.0;
            for j in 0..KERNEL_LENGTH {
                let p = t as isize + (j as isize - 4) * d as isize;
                if p >= 0 && (p as usize) < length {
                    s += z[row + p as usize];
                }
            }
            a[row + t] = s;
        }
    }
}

#[inline]
fn tap(z: &[f64], row: usize, length: usize, t: usize, j: usize, d: usize) -> f64 {
    let p = t as isize + (j as isize - 4) * d as isize;
    if p >= 0 && (p as usize) < length {
        z[row + p as usize]
    } else {
        0.0
    }
}

/// The convolution output of kernel `k` at dilation `d` summed over `channels`:
/// per channel 3 * (the three weight-2 taps) - (all nine taps), i.e. weights 2 and -1.
fn convolve(z: &[f64], a: &[f64], channels: &[usize], idx: [usize; 3], length: usize, d: usize, out: &mut [f64]) {
    for t in 0..length {
        let mut acc = 0.0;
        for &c in channels {
            let row = c * length;
            let s = tap(z, row, length, t, idx[0], d) + tap(z, row, length, t, idx[1], d) + tap(z, row, length, t, idx[2], d);
            acc += 3.0 * s - a[row + t];
        }
        out[t] = acc;
    }
}

/// Linear-interpolation quantile of sorted values.
fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    let pos = q * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Fits the transform on training windows x/mask ([n, C, L]).
pub fn fit(x: &[f32], mask: &[u8], n: usize, c_n: usize, length: usize, o: &FitOptions) -> Result<MiniRocket, String> {
    if length < KERNEL_LENGTH {
        return Err(format!("minirocket: windows of {length} steps are shorter than the kernel ({KERNEL_LENGTH})"));
    }
    if c_n == 0 || n == 0 {
        return Err("minirocket: fit needs at least one window and one channel".into());
    }
    if x.len() != n * c_n * length || mask.len() != x.len() {
        return Err(format!("minirocket: x and mask must hold n*C*L = {} values (x {}, mask {})", n * c_n * length, x.len(), mask.len()));
    }
    if o.num_features < NUM_KERNELS {
        return Err(format!("minirocket: num_features must be at least {NUM_KERNELS}"));
    }
    if o.max_dilations_per_kernel == 0 {
        return Err("minirocket: max_dilations_per_kernel must be at least 1".into());
    }
    let (mean, std) = channel_stats(x, mask, n, c_n, length);
    let (dilations, fpd) = fit_dilations(length, o.num_features, o.max_dilations_per_kernel);
    let mut rng = Mulberry32::new(o.seed);
    let combos = dilations.len() * NUM_KERNELS;
    let max_ch = c_n.min(KERNEL_LENGTH);
    let exponent = ((max_ch + 1) as f64).log2();
    let mut channels = Vec::with_capacity(combos);
    let mut pool: Vec<usize> = Vec::with_capacity(c_n);
    for _ in 0..combos {
        let k = ((rng.uniform() * exponent).exp2() + 1e-9).floor() as usize;
        let k = k.clamp(1, max_ch);
        pool.clear();
        pool.extend(0..c_n);
        // Partial Fisher-Yates: the first k of a random permutation.
        for i in 0..k {
            let j = i + rng.below(c_n - i);
            pool.swap(i, j);
        }
        channels.push(pool[..k].to_vec());
    }
    let examples: Vec<usize> = (0..combos).map(|_| rng.below(n)).collect();
    let total: usize = NUM_KERNELS * fpd.iter().sum::<usize>();
    let qs = quantiles(total);
    let kernels = kernel_indices();
    let per = c_n * length;
    let mut z = vec![0.0; per];
    let mut a = vec![0.0; per];
    let mut out = vec![0.0; length];
    let mut biases = Vec::with_capacity(total);
    for (di, &d) in dilations.iter().enumerate() {
        for (k, idx) in kernels.iter().enumerate() {
            let combo = di * NUM_KERNELS + k;
            let e = examples[combo];
            prepare_window(&x[e * per..(e + 1) * per], &mask[e * per..(e + 1) * per], &mean, &std, length, &mut z);
            tap_sums(&z, c_n, length, d, &mut a);
            convolve(&z, &a, &channels[combo], *idx, length, d, &mut out);
            out.sort_by(|p, q| p.total_cmp(q));
            for _ in 0..fpd[di] {
                biases.push(quantile_sorted(&out, qs[biases.len()]));
            }
        }
    }
    Ok(MiniRocket { format: FORMAT.into(), n_channels: c_n, length, mean, std, dilations, features_per_dilation: fpd, channels, biases })
}

/// Reusable buffers of one transform thread.
pub struct Scratch {
    z: Vec<f64>,
    a: Vec<f64>,
    out: Vec<f64>,
}

impl Scratch {
    pub fn new(m: &MiniRocket) -> Self {
        let per = m.n_channels * m.length;
        Scratch { z: vec![0.0; per], a: vec![0.0; per], out: vec![0.0; m.length] }
    }
}

/// The PPV features of one window ([C, L]) into `features` (len num_features).
pub fn transform_window(m: &MiniRocket, x: &[f32], mask: &[u8], s: &mut Scratch, features: &mut [f32]) {
    let length = m.length;
    prepare_window(x, mask, &m.mean, &m.std, length, &mut s.z);
    let kernels = kernel_indices_static();
    let mut f = 0usize;
    for (di, &d) in m.dilations.iter().enumerate() {
        tap_sums(&s.z, m.n_channels, length, d, &mut s.a);
        let padding = (KERNEL_LENGTH - 1) * d / 2;
        for (k, idx) in kernels.iter().enumerate() {
            convolve(&s.z, &s.a, &m.channels[di * NUM_KERNELS + k], *idx, length, d, &mut s.out);
            // Alternate between the padded output and its valid part (the paper's "padding" switch).
            let part = if (di + k) % 2 == 0 { &s.out[..] } else { &s.out[padding..length - padding] };
            for _ in 0..m.features_per_dilation[di] {
                let b = m.biases[f];
                let above = part.iter().filter(|&&v| v > b).count();
                features[f] = (above as f64 / part.len() as f64) as f32;
                f += 1;
            }
        }
    }
}

fn kernel_indices_static() -> &'static [[usize; 3]] {
    static K: std::sync::OnceLock<Vec<[usize; 3]>> = std::sync::OnceLock::new();
    K.get_or_init(kernel_indices)
}

/// Checks a batch's sizes against the model ([n, C, L] values and mask).
pub fn check_batch(m: &MiniRocket, x_len: usize, mask_len: usize, n: usize) -> Result<(), String> {
    let per = m.n_channels * m.length;
    if x_len != n * per || mask_len != x_len {
        return Err(format!(
            "minirocket: the model reads [n, {}, {}] windows: x and mask must hold {} values for n = {n} (x {x_len}, mask {mask_len})",
            m.n_channels,
            m.length,
            n * per
        ));
    }
    Ok(())
}

/// Sequential transform of a batch ([n, num_features] row-major).
pub fn transform(m: &MiniRocket, x: &[f32], mask: &[u8], n: usize) -> Result<Vec<f32>, String> {
    check_batch(m, x.len(), mask.len(), n)?;
    let per = m.n_channels * m.length;
    let nf = m.num_features();
    let mut out = vec![0f32; n * nf];
    let mut s = Scratch::new(m);
    for w in 0..n {
        transform_window(m, &x[w * per..(w + 1) * per], &mask[w * per..(w + 1) * per], &mut s, &mut out[w * nf..(w + 1) * nf]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, c: usize, l: usize, seed: u32) -> (Vec<f32>, Vec<u8>) {
        let mut r = Mulberry32::new(seed);
        let x = (0..n * c * l).map(|_| (r.uniform() * 10.0 - 3.0) as f32).collect();
        let m = (0..n * c * l).map(|_| (r.uniform() > 0.2) as u8).collect();
        (x, m)
    }

    #[test]
    fn kernels_and_dilations() {
        assert_eq!(kernel_indices().len(), 84);
        let (d, f) = fit_dilations(100, 10_000, 32);
        assert_eq!(*d.last().unwrap(), 12);
        assert_eq!(f.iter().sum::<usize>(), 119);
        assert!(d.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn deterministic_and_masked_never_nan() {
        let (mut x, mask) = data(20, 5, 40, 7);
        for (v, m) in x.iter_mut().zip(&mask) {
            if *m == 0 {
                *v = f32::NAN;
            }
        }
        let o = FitOptions { num_features: 840, max_dilations_per_kernel: 32, seed: 3 };
        let a = fit(&x, &mask, 20, 5, 40, &o).unwrap();
        let b = fit(&x, &mask, 20, 5, 40, &o).unwrap();
        assert_eq!(a, b);
        assert_eq!(MiniRocket::from_json(&a.to_json()).unwrap(), a);
        let f = transform(&a, &x, &mask, 20).unwrap();
        assert!(f.iter().all(|v| (0.0..=1.0).contains(v)));
        // Values under the mask do not matter.
        let mut y = x.clone();
        for (v, m) in y.iter_mut().zip(&mask) {
            if *m == 0 {
                *v = 1e30;
            }
        }
        assert_eq!(transform(&a, &y, &mask, 20).unwrap(), f);
    }

    #[test]
    fn rejects_bad_shapes() {
        let (x, mask) = data(2, 2, 8, 1);
        assert!(fit(&x, &mask, 2, 2, 8, &FitOptions::default()).is_err());
    }
}
