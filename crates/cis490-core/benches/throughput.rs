//! Single-core inspect throughput on realistic synthetic episodes.
//! Run: cargo bench -p cis490-core --bench throughput

#[path = "../tests/common/mod.rs"]
mod common;

use cis490_core::{inspect_bytes, InspectOptions};
use std::time::Instant;

fn main() {
    let n = 64;
    let tars: Vec<Vec<u8>> = (0..n).map(|s| common::realistic_tar(s as u64)).collect();
    let files: Vec<Vec<u8>> = tars.iter().map(|t| common::zst(t)).collect();
    let raw: usize = tars.iter().map(Vec::len).sum();
    let comp: usize = files.iter().map(Vec::len).sum();
    println!("{n} episodes, avg {:.0} KB tar, {:.0} KB .tar.zst", raw as f64 / n as f64 / 1e3, comp as f64 / n as f64 / 1e3);
    let o = InspectOptions::default();
    // Warm up, then measure for ~3 s.
    for f in &files {
        let r = inspect_bytes(f, &o);
        assert!(r.fatal.is_none());
    }
    let t = Instant::now();
    let mut done = 0usize;
    while t.elapsed().as_secs_f64() < 3.0 {
        for f in &files {
            std::hint::black_box(inspect_bytes(f, &o));
        }
        done += n;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "inspect (1 core): {:.0} episodes/s, {:.0} MB/s decompressed, {:.1} us/episode",
        done as f64 / s,
        (done as f64 / n as f64) * raw as f64 / s / 1e6,
        s / done as f64 * 1e6
    );
    decoder_only(&files);
    // Decompression alone, for scale.
    let t = Instant::now();
    let mut k = 0usize;
    while t.elapsed().as_secs_f64() < 1.0 {
        for f in &files {
            std::hint::black_box(zstd::stream::decode_all(&f[..]).unwrap());
        }
        k += n;
    }
    println!("zstd decode_all alone: {:.1} us/episode", t.elapsed().as_secs_f64() / k as f64 * 1e6);
}

#[allow(dead_code)]
fn decoder_only(files: &[Vec<u8>]) {
    let t = Instant::now();
    let mut k = 0usize;
    while t.elapsed().as_secs_f64() < 1.0 {
        for f in files {
            let mut d = cis490_core::archive::Decoder::new(&f[..], 1 << 30);
            d.drain_decoded().unwrap();
            std::hint::black_box(d.digest());
        }
        k += files.len();
    }
    println!("Decoder (zstd + sha256) alone: {:.1} us/episode", t.elapsed().as_secs_f64() / k as f64 * 1e6);
}
