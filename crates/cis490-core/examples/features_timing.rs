//! Single-core timing of decode vs decode + features (+ tensors) on the
//! .tar.zst files under a directory (files read into memory first).
//! Run: cargo run --release -p cis490-core --example features_timing -- data/bench-corpus-2000

use cis490_core::features::{featurize, featurize_reader, FeatureOptions};
use cis490_core::{decode_reader, InspectOptions};
use std::time::Instant;

fn collect(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.to_string_lossy().ends_with(".tar.zst") {
            out.push(std::fs::read(&p).unwrap());
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("directory");
    let mut files = Vec::new();
    collect(std::path::Path::new(&dir), &mut files);
    let io = InspectOptions::default();
    let time = |name: &str, f: &dyn Fn(&[u8]) -> usize| {
        let mut best = f64::INFINITY;
        let mut windows = 0;
        for _ in 0..3 {
            let t = Instant::now();
            windows = files.iter().map(|b| f(b)).sum::<usize>();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{name:32} {:.3} ms/episode ({} episodes, {windows} windows)", best * 1e3 / files.len() as f64, files.len());
    };
    time("decode only", &|b| decode_reader(b, &io).1.labels.t_wall_ns.len());
    let summary = FeatureOptions::default();
    let tensors = FeatureOptions { tensors: true, ..FeatureOptions::default() };
    time("decode + summary", &|b| featurize_reader(b, &io, &summary).n_windows);
    time("decode + summary + tensors", &|b| featurize_reader(b, &io, &tensors).n_windows);
    // Features alone, on episodes decoded beforehand.
    let decoded: Vec<_> = files.iter().map(|b| decode_reader(&b[..], &io).1).collect();
    for (name, o) in [("features: summary", &summary), ("features: summary + tensors", &tensors)] {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(decoded.iter().map(|e| featurize(e, o).n_windows).sum::<usize>());
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{name:32} {:.3} ms/episode", best * 1e3 / decoded.len() as f64);
    }
}
