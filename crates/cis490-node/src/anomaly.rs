//! Node exports of cis490-anomaly: `eifFit(x, n, d, optionsJson, jobs)`
//! resolving to the model JSON, and `eifScore(modelJson, x, n, jobs)`
//! resolving to a Float64Array of scores. `x` is a row-major Float64Array
//! or Float32Array (NaN = missing), copied to f64 on the main thread; the
//! work (and parsing the model) runs off the event loop on the shared
//! rayon pool of `jobs` threads. Results do not depend on `jobs`.

use crate::napi::*;
use crate::pool::{pool, thread_count};
use cis490_anomaly::{fit, EifModel, EifOptions};


unsafe fn get_count(env: napi_env, v: napi_value, what: &str) -> Result<usize> {
    let x = get_number(env, v, what)?;
    if !(x >= 0.0 && x.fract() == 0.0 && x <= 4e9) {
        return Err(format!("{what} must be a non-negative integer, got {x}"));
    }
    Ok(x as usize)
}

pub unsafe extern "C" fn eif_fit_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<5>(env, info)?;
        let x = get_matrix(env, argv[0], "eifFit: x")?;
        let n = get_count(env, argv[1], "eifFit: n")?;
        let d = get_count(env, argv[2], "eifFit: d")?;
        let opts = EifOptions::from_json(&get_string(env, argv[3], "eifFit: optionsJson")?).map_err(|e| format!("eifFit: {e}"))?;
        let threads = thread_count(get_number(env, argv[4], "eifFit: jobs")?)?;
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
