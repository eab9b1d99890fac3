//! Writes realistic synthetic episodes (for cross-language benchmarks).
//! Usage: cargo run --release -p cis490-core --example dump_episode -- OUT_DIR N
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map(String::as_str).unwrap_or("/tmp/episodes"));
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    std::fs::create_dir_all(&dir).unwrap();
    for s in 0..n {
        std::fs::write(dir.join(format!("ep-{s:06}.tar.zst")), common::realistic_episode(s)).unwrap();
    }
}
