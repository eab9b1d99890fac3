//! Node exports of cis490-core's MiniRocket:
//! `minirocketFit(x, mask, n, channels, length, optionsJson)` -> Promise<string>
//! (the model JSON), `minirocketTransform(modelJson, x, mask, n, jobs)` ->
//! Promise<Float32Array> ([n, features]) and `minirocketHeadFit(trainX,
//! trainY, valX, valY, nFeatures, classWeights, optionsJson, jobs)` ->
//! Promise<object> (the logistic head, cis490-core's minirocket_head).
//! Inputs are copied on the main thread; the work runs on a libuv worker,
//! parallel on the shared rayon pool, and the results do not depend on the
//! thread count.

use crate::napi::*;
use crate::pool::{pool, thread_count};
use cis490_core::minirocket::{check_batch, fit, transform_window, FitOptions, MiniRocket, Scratch};
use cis490_core::minirocket_head::{check_head_inputs, fit_head, HeadFit, HeadOptions, HeadRows};
use std::ptr::null_mut;
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

/// The fitted head as { mean, std, weights, bias (Float64Array), train_loss,
/// val_macro_f1, seconds (Float64Array, one per epoch), best_epoch,
/// best_val_macro_f1, stopped }.
unsafe fn head_object(env: napi_env, h: HeadFit) -> Result<napi_value> {
    let mut o = null_mut();
    check(napi_create_object(env, &mut o), "napi_create_object")?;
    let column = |f: fn(&cis490_core::minirocket_head::HeadEpoch) -> f64| h.history.iter().map(f).collect::<Vec<f64>>();
    set(env, o, "train_loss", typed_owned(env, NAPI_FLOAT64_ARRAY, column(|e| e.train_loss))?)?;
    set(env, o, "val_macro_f1", typed_owned(env, NAPI_FLOAT64_ARRAY, column(|e| e.val_macro_f1))?)?;
    set(env, o, "seconds", typed_owned(env, NAPI_FLOAT64_ARRAY, column(|e| e.seconds))?)?;
    set(env, o, "best_epoch", double(env, h.best_epoch as f64)?)?;
    set(env, o, "best_val_macro_f1", double(env, h.best_val_macro_f1)?)?;
    set(env, o, "stopped", create_string(env, h.stopped.as_str())?)?;
    set(env, o, "mean", typed_owned(env, NAPI_FLOAT64_ARRAY, h.mean)?)?;
    set(env, o, "std", typed_owned(env, NAPI_FLOAT64_ARRAY, h.std)?)?;
    set(env, o, "weights", typed_owned(env, NAPI_FLOAT64_ARRAY, h.weights)?)?;
    set(env, o, "bias", typed_owned(env, NAPI_FLOAT64_ARRAY, h.bias)?)?;
    Ok(o)
}

pub unsafe extern "C" fn minirocket_head_fit(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<8>(env, info)?;
        let what = |a: &str| format!("minirocketHeadFit: {a}");
        let mut train_x: Vec<f32> = get_typed_copy(env, argv[0], NAPI_FLOAT32_ARRAY, "a Float32Array", &what("trainX"))?;
        let train_y = get_i32s(env, argv[1], &what("trainY"))?;
        let mut val_x: Vec<f32> = get_typed_copy(env, argv[2], NAPI_FLOAT32_ARRAY, "a Float32Array", &what("valX"))?;
        let val_y = get_i32s(env, argv[3], &what("valY"))?;
        let nf = count(get_number(env, argv[4], &what("nFeatures"))?, &what("nFeatures"))?;
        let cw: Vec<f32> = get_typed_copy(env, argv[5], NAPI_FLOAT32_ARRAY, "a Float32Array", &what("classWeights"))?;
        let opts = HeadOptions::from_json(&get_string(env, argv[6], &what("optionsJson"))?).map_err(|e| what(&e))?;
        let threads = thread_count(get_number(env, argv[7], &what("jobs"))?)?;
        check_head_inputs(train_x.len(), &train_y, val_x.len(), &val_y, nf, &cw, &opts).map_err(|e| what(&e))?;
        spawn_promise(
            env,
            "minirocketHeadFit",
            move || pool(threads)?.install(|| fit_head(HeadRows { x: &mut train_x, y: &train_y }, HeadRows { x: &mut val_x, y: &val_y }, nf, &cw, &opts)).map_err(|e| format!("minirocketHeadFit: {e}")),
            |env, h: HeadFit| head_object(env, h),
        )
    })
}
