//! Node exports of cis490-core's MiniRocket:
//! `minirocketFit(x, mask, n, channels, length, optionsJson)` -> Promise<string>
//! (the model JSON) and `minirocketTransform(modelJson, x, mask, n, jobs)` ->
//! Promise<Float32Array> ([n, features]). Inputs are copied on the main
//! thread; the work runs on a libuv worker, the transform parallel over
//! windows on the shared rayon pool (each window is computed alone, so the
//! result does not depend on the thread count).

use crate::napi::*;
use crate::pool::{pool, thread_count};
use cis490_core::minirocket::{check_batch, fit, transform_window, FitOptions, MiniRocket, Scratch};
use rayon::prelude::*;

fn count(v: f64, what: &str) -> Result<usize> {
    if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 1e9) {
        return Err(format!("{what} must be a non-negative integer, got {v}"));
    }
    Ok(v as usize)
}

pub unsafe extern "C" fn minirocket_fit(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<6>(env, info)?;
        let x: Vec<f32> = get_typed_copy(env, argv[0], NAPI_FLOAT32_ARRAY, "a Float32Array", "minirocketFit: x")?;
        let mask: Vec<u8> = get_typed_copy(env, argv[1], NAPI_UINT8_ARRAY, "a Uint8Array", "minirocketFit: mask")?;
        let n = count(get_number(env, argv[2], "minirocketFit: n")?, "minirocketFit: n")?;
        let c = count(get_number(env, argv[3], "minirocketFit: channels")?, "minirocketFit: channels")?;
        let l = count(get_number(env, argv[4], "minirocketFit: length")?, "minirocketFit: length")?;
        let opts: FitOptions = serde_json::from_str(&get_string(env, argv[5], "minirocketFit: optionsJson")?).map_err(|e| format!("minirocketFit: options: {e}"))?;
        if x.len() != n * c * l || mask.len() != x.len() {
            return Err(format!("minirocketFit: x and mask must hold n*channels*length = {} values (x {}, mask {})", n * c * l, x.len(), mask.len()));
        }
        spawn_promise(env, "minirocketFit", move || fit(&x, &mask, n, c, l, &opts).map(|m| m.to_json()), |env, json: String| create_string(env, &json))
    })
}

pub unsafe extern "C" fn minirocket_transform(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<5>(env, info)?;
        let model = MiniRocket::from_json(&get_string(env, argv[0], "minirocketTransform: modelJson")?)?;
        let x: Vec<f32> = get_typed_copy(env, argv[1], NAPI_FLOAT32_ARRAY, "a Float32Array", "minirocketTransform: x")?;
        let mask: Vec<u8> = get_typed_copy(env, argv[2], NAPI_UINT8_ARRAY, "a Uint8Array", "minirocketTransform: mask")?;
        let n = count(get_number(env, argv[3], "minirocketTransform: n")?, "minirocketTransform: n")?;
        let threads = thread_count(get_number(env, argv[4], "minirocketTransform: jobs")?)?;
        check_batch(&model, x.len(), mask.len(), n).map_err(|e| format!("minirocketTransform: {e}"))?;
        spawn_promise(
            env,
            "minirocketTransform",
            move || {
                let per = model.n_channels * model.length;
                let nf = model.num_features();
                let mut out = vec![0f32; n * nf];
                if n > 0 {
                    pool(threads)?.install(|| {
                        out.par_chunks_mut(nf).enumerate().for_each_init(
                            || Scratch::new(&model),
                            |s, (w, row)| transform_window(&model, &x[w * per..(w + 1) * per], &mask[w * per..(w + 1) * per], s, row),
                        )
                    });
                }
                Ok(out)
            },
            |env, out: Vec<f32>| typed_owned(env, NAPI_FLOAT32_ARRAY, out),
        )
    })
}
