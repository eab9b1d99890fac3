//! Node exports of cis490-stats: `bootstrapF1(yTrue, yPred, groups|null,
//! optionsJson)` and `pairedBootstrap(yTrue, predA, predB, groups|null,
//! optionsJson)`, both returning Promise<string> (a JSON result). Inputs
//! are copied out of the typed arrays on the main thread (JS may mutate or
//! free them while the work runs); the resampling runs on a libuv worker
//! thread, parallel on cis490-stats' rayon pool. Argument errors throw
//! synchronously; failures inside the work reject the promise. The options
//! JSON may carry `labels`, a fixed class list for macro F1 (see
//! cis490_stats::BootstrapOptions).

use crate::napi::*;
use cis490_stats::{bootstrap_f1, check_arguments, paired_bootstrap, BootstrapOptions};

enum Job {
    Single { y_true: Vec<i32>, y_pred: Vec<i32> },
    Paired { y_true: Vec<i32>, pred_a: Vec<i32>, pred_b: Vec<i32> },
}

/// Validates cheap things synchronously (so bad arguments throw), then
/// queues the work and returns its promise.
unsafe fn queue(env: napi_env, name: &'static str, job: Job, groups: Option<Vec<u32>>, opts_json: &str) -> Result<napi_value> {
    let opts = BootstrapOptions::from_json(opts_json).map_err(|e| format!("{name}: {e}"))?;
    let (t, preds): (&[i32], Vec<(&str, &[i32])>) = match &job {
        Job::Single { y_true, y_pred } => (y_true, vec![("yPred", y_pred)]),
        Job::Paired { y_true, pred_a, pred_b } => (y_true, vec![("predA", pred_a), ("predB", pred_b)]),
    };
    check_arguments(t, &preds, groups.as_deref(), &opts).map_err(|e| format!("{name}: {e}"))?;
    spawn_promise(
        env,
        name,
        move || {
            let g = groups.as_deref();
            match &job {
                Job::Single { y_true, y_pred } => bootstrap_f1(y_true, y_pred, g, &opts).map(|r| r.to_json()),
                Job::Paired { y_true, pred_a, pred_b } => paired_bootstrap(y_true, pred_a, pred_b, g, &opts).map(|r| r.to_json()),
            }
            .map_err(|e| format!("{name}: {e}"))
        },
        |env, json: String| create_string(env, &json),
    )
}

pub unsafe extern "C" fn bootstrap_f1_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<4>(env, info)?;
        let y_true = get_i32s(env, argv[0], "bootstrapF1: yTrue")?;
        let y_pred = get_i32s(env, argv[1], "bootstrapF1: yPred")?;
        let groups = get_optional_u32s(env, argv[2], "bootstrapF1: groups")?;
        let opts = get_string(env, argv[3], "bootstrapF1: optionsJson")?;
        queue(env, "bootstrapF1", Job::Single { y_true, y_pred }, groups, &opts)
    })
}

pub unsafe extern "C" fn paired_bootstrap_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<5>(env, info)?;
        let y_true = get_i32s(env, argv[0], "pairedBootstrap: yTrue")?;
        let pred_a = get_i32s(env, argv[1], "pairedBootstrap: predA")?;
        let pred_b = get_i32s(env, argv[2], "pairedBootstrap: predB")?;
        let groups = get_optional_u32s(env, argv[3], "pairedBootstrap: groups")?;
        let opts = get_string(env, argv[4], "pairedBootstrap: optionsJson")?;
        queue(env, "pairedBootstrap", Job::Paired { y_true, pred_a, pred_b }, groups, &opts)
    })
}

/// `aucBootstrap(y, score, groups|null, optionsJson)`: ROC AUC, average
/// precision and TPR at an FPR budget with bootstrap intervals (y 0/1 as
/// an Int32Array, score a Float64Array or Float32Array).
pub unsafe extern "C" fn auc_bootstrap_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<4>(env, info)?;
        let y = get_i32s(env, argv[0], "aucBootstrap: y")?;
        let score = get_matrix(env, argv[1], "aucBootstrap: score")?;
        let groups = get_optional_u32s(env, argv[2], "aucBootstrap: groups")?;
        let opts = cis490_stats::AucOptions::from_json(&get_string(env, argv[3], "aucBootstrap: optionsJson")?).map_err(|e| format!("aucBootstrap: {e}"))?;
        cis490_stats::auc::check_inputs(&y, &score, groups.as_deref()).map_err(|e| format!("aucBootstrap: {e}"))?;
        spawn_promise(
            env,
            "aucBootstrap",
            move || cis490_stats::auc_bootstrap(&y, &score, groups.as_deref(), &opts).map(|r| r.to_json()).map_err(|e| format!("aucBootstrap: {e}")),
            |env, json: String| create_string(env, &json),
        )
    })
}
