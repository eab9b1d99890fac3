//! Times fit and score of the forest on a synthetic matrix, outside Node:
//! `cargo run --release -p cis490-anomaly --example eif_timing -- [rows] [dims] [trees] [threads]`.
use cis490_anomaly::eif::column_medians;
use cis490_anomaly::{fit, EifOptions};
use std::time::Instant;

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut [i64; 2]) -> i32;
}

/// Process CPU seconds (the machine is shared: wall time alone misleads).
fn cpu() -> f64 {
    let mut ts = [0i64; 2];
    unsafe { clock_gettime(2, &mut ts) };
    ts[0] as f64 + ts[1] as f64 * 1e-9
}

fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().expect("integer")).collect();
    let (n, d, trees, threads) = (*a.first().unwrap_or(&100_000), *a.get(1).unwrap_or(&145), *a.get(2).unwrap_or(&300), *a.get(3).unwrap_or(&2));
    let mut s = 1u64;
    let x: Vec<f64> = (0..n * d)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..7 {
        let (t0, c0) = (Instant::now(), cpu());
        let m = pool.install(|| column_medians(&x, n, d));
        best = best.min(t0.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu() - c0);
        assert!(m.iter().all(|v| v.is_finite()));
    }
    println!("medians {n} x {d}: {best:.4} s, cpu {best_cpu:.4} s (fastest of 7)");
    for ndim in [1u32, 3] {
        let o = EifOptions { n_trees: trees as u32, subsample: 256, ndim, seed: 1 };
        for _ in 0..3 {
            let (t0, c0) = (Instant::now(), cpu());
            let m = pool.install(|| fit(&x, n, d, &o)).unwrap();
            let t1 = t0.elapsed().as_secs_f64();
            let c1 = cpu() - c0;
            let t0 = Instant::now();
            let json = m.to_json();
            let t2 = t0.elapsed().as_secs_f64();
            let (t0, c0) = (Instant::now(), cpu());
            let sc = pool.install(|| m.score(&x[..20_000 * d], 20_000)).unwrap();
            let t3 = t0.elapsed().as_secs_f64();
            let c3 = cpu() - c0;
            println!("ndim={ndim} fit {t1:.3} s (cpu {c1:.3}), to_json {t2:.3} s ({} bytes), score 20k {t3:.3} s (cpu {c3:.3}) ({:.4})", json.len(), sc[0]);
        }
    }
}
