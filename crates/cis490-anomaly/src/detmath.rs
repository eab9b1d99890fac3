//! Deterministic arithmetic shared with the TypeScript twin: only IEEE-754
//! +, -, *, / and sqrt (all correctly rounded, so identical in Rust and
//! JavaScript), never libm, whose ln/exp differ across platforms by an ulp
//! and would let one split land differently in the twin.

use cis490_stats::rng::Xoshiro128ss;

pub const LN2: f64 = 0.693_147_180_559_945_3;
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
const SQRT2: f64 = std::f64::consts::SQRT_2;

/// Natural log of a positive finite x: x = m * 2^e with m in [sqrt(1/2),
/// sqrt(2)) found by exact halving/doubling, then ln m = 2 atanh(s) with
/// s = (m-1)/(m+1), |s| <= 0.1716, by a 13-term odd series (error below
/// 1e-16 relative).
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut m = x;
    let mut e = 0i32;
    while m >= 2.0 {
        m *= 0.5;
        e += 1;
    }
    while m < 1.0 {
        m *= 2.0;
        e -= 1;
    }
    if m > SQRT2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut p = 1.0 / 25.0;
    let mut k = 11i32;
    while k >= 0 {
        p = p * s2 + 1.0 / f64::from(2 * k + 1);
        k -= 1;
    }
    2.0 * s * p + f64::from(e) * LN2
}

/// Uniform in [0, 1) with 53 random bits from two draws (high word first).
#[inline]
pub fn uniform(rng: &mut Xoshiro128ss) -> f64 {
    let a = f64::from(rng.next_u32() >> 5); // 27 bits
    let b = f64::from(rng.next_u32() >> 6); // 26 bits
    (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
}

/// Standard normal by Marsaglia's polar method (one value per accepted
/// pair; the second is discarded so no state outlives a call).
pub fn normal(rng: &mut Xoshiro128ss) -> f64 {
    loop {
        let u = 2.0 * uniform(rng) - 1.0;
        let v = 2.0 * uniform(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * ln(s) / s).sqrt();
        }
    }
}

/// Average path length of an unsuccessful BST search among n points
/// (Liu et al.): c(n) = 2 H(n-1) - 2 (n-1)/n with H(i) ~ ln i + gamma;
/// c(2) = 1, c(n <= 1) = 0.
pub fn c_factor(n: usize) -> f64 {
    if n <= 1 {
        0.0
    } else if n == 2 {
        1.0
    } else {
        let m = (n - 1) as f64;
        2.0 * (ln(m) + EULER_GAMMA) - 2.0 * m / (n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_libm_closely() {
        for &x in &[1e-300, 1e-10, 0.001, 0.3, 0.5, 0.7071, 1.0, 1.5, 2.0, 3.0, 10.0, 255.0, 1e10, 1e300] {
            let (a, b) = (ln(x), x.ln());
            assert!((a - b).abs() <= 4e-16 * b.abs().max(1.0), "{x}: {a} vs {b}");
        }
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn normals_look_normal() {
        let mut g = Xoshiro128ss::for_resample(3, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| normal(&mut g)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.02, "{mean} {var}");
        let tail = xs.iter().filter(|x| x.abs() > 1.96).count() as f64 / n as f64;
        assert!((tail - 0.05).abs() < 0.003, "{tail}");
    }

    #[test]
    fn uniform_in_unit_interval() {
        let mut g = Xoshiro128ss::for_resample(9, 1);
        for _ in 0..10_000 {
            let u = uniform(&mut g);
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn c_factor_values() {
        assert_eq!(c_factor(0), 0.0);
        assert_eq!(c_factor(1), 0.0);
        assert_eq!(c_factor(2), 1.0);
        // scikit-learn's _average_path_length, with libm's ln.
        for n in [3usize, 10, 256, 100_000] {
            let m = (n - 1) as f64;
            let want = 2.0 * (m.ln() + EULER_GAMMA) - 2.0 * m / n as f64;
            assert!((c_factor(n) - want).abs() < 1e-13, "{n}");
        }
    }
}
