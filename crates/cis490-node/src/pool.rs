//! The worker pools behind every parallel export: one rayon pool per size,
//! kept between calls (thread start-up is not free, and sweeps call in
//! batches).

use crate::napi::Result;
use std::sync::{Arc, Mutex};

/// `jobs`: 0 -> available parallelism, else clamped to 1..=64.
pub fn thread_count(jobs: f64) -> Result<usize> {
    if !jobs.is_finite() || jobs < 0.0 {
        return Err(format!("jobs must be a non-negative number, got {jobs}"));
    }
    let j = jobs as usize;
    Ok(if j == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { j }.clamp(1, 64))
}

/// The pool of `threads` workers (rebuilt only when the size changes).
pub fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    static POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((n, p)) = g.as_ref() {
        if *n == threads {
            return Ok(p.clone());
        }
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("cis490-{i}"))
            .build()
            .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?,
    );
    *g = Some((threads, p.clone()));
    Ok(p)
}
