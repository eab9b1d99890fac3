//! Node exports of cis490-anomaly: `eifFit(x, n, d, optionsJson, jobs)`
//! resolving to the model JSON, and `eifScore(modelJson, x, n, jobs)`
//! resolving to a Float64Array of scores. `x` is a row-major Float64Array
//! or Float32Array (NaN = missing). Scoring copies it to f64 on the main
//! thread and runs (model parsing included) off the event loop; fitting
//! does too, except for forests of the usual size, fitted on the borrowed
//! array during the call (SYNC_SAMPLED_ROWS says why). Both use the shared
//! rayon pool of `jobs` threads; results do not depend on `jobs`.

use crate::napi::*;
use crate::pool::{pool, thread_count};
use cis490_anomaly::{fit, EifModel, EifOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};


unsafe fn get_count(env: napi_env, v: napi_value, what: &str) -> Result<usize> {
    let x = get_number(env, v, what)?;
    if !(x >= 0.0 && x.fract() == 0.0 && x <= 4e9) {
        return Err(format!("{what} must be a non-negative integer, got {x}"));
    }
    Ok(x as usize)
}

/// Forests up to this many sampled rows in all (n_trees x subsample; the
/// detector's 300 x 256 is 76,800) are fitted during the call, on the
/// borrowed Float64Array: the fit then reads the matrix once (the medians)
/// plus the sampled rows, which costs less than the copy an off-loop fit
/// needs (about 40 ms of main-thread time at 100k x 145), so the event loop
/// waits less than it would for that copy alone. Larger forests, and
/// Float32Array input (widened anyway), copy and fit off the loop.
const SYNC_SAMPLED_ROWS: usize = 1 << 18;

pub unsafe extern "C" fn eif_fit_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<5>(env, info)?;
        let borrowed = get_f64_borrowed(env, argv[0], "eifFit: x")?;
        let n = get_count(env, argv[1], "eifFit: n")?;
        let d = get_count(env, argv[2], "eifFit: d")?;
        let opts = EifOptions::from_json(&get_string(env, argv[3], "eifFit: optionsJson")?).map_err(|e| format!("eifFit: {e}"))?;
        let threads = thread_count(get_number(env, argv[4], "eifFit: jobs")?)?;
        let sampled = opts.n_trees as usize * (opts.subsample as usize).min(n);
        if let Some(x) = borrowed.filter(|_| sampled <= SYNC_SAMPLED_ROWS) {
            if n.checked_mul(d) != Some(x.len()) {
                return Err(format!("eifFit: x holds {} values, not n x d = {n} x {d}", x.len()));
            }
            let fitted = catch_unwind(AssertUnwindSafe(|| pool(threads)?.install(|| fit(x, n, d, &opts)).map(|m| m.to_json()).map_err(|e| format!("eifFit: {e}"))))
                .unwrap_or_else(|p| Err(format!("cis490 native panic: {}", panic_message(&*p))));
            return settled_promise(env, fitted.and_then(|json| create_string(env, &json)));
        }
        let x = get_matrix(env, argv[0], "eifFit: x")?;
        if n.checked_mul(d) != Some(x.len()) {
            return Err(format!("eifFit: x holds {} values, not n x d = {n} x {d}", x.len()));
        }
        spawn_promise(
            env,
            "eifFit",
            move || {
                let pool = pool(threads)?;
                pool.install(|| fit(&x, n, d, &opts)).map(|m| m.to_json()).map_err(|e| format!("eifFit: {e}"))
            },
            |env, json: String| create_string(env, &json),
        )
    })
}

pub unsafe extern "C" fn eif_score_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<4>(env, info)?;
        let model = get_string(env, argv[0], "eifScore: modelJson")?;
        let x = get_matrix(env, argv[1], "eifScore: x")?;
        let n = get_count(env, argv[2], "eifScore: n")?;
        let threads = thread_count(get_number(env, argv[3], "eifScore: jobs")?)?;
        spawn_promise(
            env,
            "eifScore",
            move || {
                let m = EifModel::from_json(&model).map_err(|e| format!("eifScore: {e}"))?;
                let pool = pool(threads)?;
                pool.install(|| m.score(&x, n)).map_err(|e| format!("eifScore: {e}"))
            },
            |env, scores: Vec<f64>| typed_owned(env, NAPI_FLOAT64_ARRAY, scores),
        )
    })
}
