//! Node exports of cis490-anomaly: `eifFit(x, n, d, optionsJson, jobs)`
//! resolving to the model JSON, and `eifScore(modelJson, x, n, jobs)`
//! resolving to a Float64Array of scores. `x` is a row-major Float64Array
//! or Float32Array (NaN = missing), copied to f64 on the main thread; the
//! work (and parsing the model) runs off the event loop on the shared
//! rayon pool of `jobs` threads. Results do not depend on `jobs`.

use crate::features::{typed_owned, FLOAT64_ARRAY};
use crate::napi::*;
use crate::{pool, thread_count};
use cis490_anomaly::{fit, EifModel, EifOptions};
use std::ptr::null_mut;

const FLOAT32_ARRAY: i32 = 7;

pub(crate) unsafe fn get_matrix(env: napi_env, v: napi_value, what: &str) -> Result<Vec<f64>> {
    let mut is_ta = false;
    if v.is_null() || napi_is_typedarray(env, v, &mut is_ta) != NAPI_OK || !is_ta {
        return Err(format!("{what} must be a Float64Array or Float32Array"));
    }
    let (mut kind, mut len, mut data, mut ab, mut off) = (0, 0usize, null_mut(), null_mut(), 0usize);
    check(napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off), "napi_get_typedarray_info")?;
    if len == 0 || data.is_null() {
        return Ok(Vec::new());
    }
    match kind {
        FLOAT64_ARRAY => Ok(std::slice::from_raw_parts(data as *const f64, len).to_vec()),
        FLOAT32_ARRAY => Ok(std::slice::from_raw_parts(data as *const f32, len).iter().map(|&x| f64::from(x)).collect()),
        _ => Err(format!("{what} must be a Float64Array or Float32Array")),
    }
}

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
            |env, scores: Vec<f64>| typed_owned(env, FLOAT64_ARRAY, scores),
        )
    })
}
