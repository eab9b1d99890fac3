//! Window starts and labels (docs/features.md, "Windows").

/// Most windows one episode may have; beyond it the episode gets the error
/// `limit:windows` (a bogus `duration_observed_s` must not allocate gigabytes).
pub const MAX_WINDOWS: usize = 100_000;

/// Window starts `a_k = k * S` for every k with `a_k + W <= D`; the error
/// code `limit:windows` when there would be more than MAX_WINDOWS.
/// (D, W and S are never NaN: D is finite or an integer difference.)
pub fn window_starts(d: f64, w: f64, s: f64, out: &mut Vec<f64>) -> Result<(), &'static str> {
    out.clear();
    let mut k = 0usize;
    loop {
        let a = k as f64 * s;
        if a + w > d {
            return Ok(());
        }
        if k == MAX_WINDOWS {
            return Err("limit:windows");
        }
        out.push(a);
        k += 1;
    }
}

/// Phase code of the last label (file order) with `rel_j <= c`; clean (0)
/// when none. Labels are few (about five), so a plain scan.
pub fn phase_at(rel: &[f64], codes: &[i8], c: f64) -> i8 {
    let mut p = 0;
    for (r, &code) in rel.iter().zip(codes) {
        if *r <= c {
            p = code;
        }
    }
    p
}
