//! cis490 Node addon: the binding of cis490-core and cis490-stats. One
//! module per core area (inspect, features, stats, minirocket), each a thin layer of
//! argument checks and conversions over the core; Node-API itself is in
//! `napi/`. The exports' TypeScript declaration is src/native/addon.ts.

mod anomaly;
mod features;
mod inspect;
mod minirocket;
mod napi;
mod pool;
mod stats;

use napi::*;

/// Entry point Node looks up when it loads the addon.
///
/// # Safety
/// Called by Node with a valid env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    guard(env, || {
        export(env, exports, "version", inspect::version)?;
        export(env, exports, "buildInfo", inspect::build_info)?;
        export(env, exports, "inspectBuffer", inspect::inspect_buffer)?;
        export(env, exports, "inspectFiles", inspect::inspect_files)?;
        export(env, exports, "featurizeFiles", features::featurize_files)?;
        export(env, exports, "featureSchema", features::feature_schema)?;
        export(env, exports, "bootstrapF1", stats::bootstrap_f1_js)?;
        export(env, exports, "pairedBootstrap", stats::paired_bootstrap_js)?;
        export(env, exports, "aucBootstrap", stats::auc_bootstrap_js)?;
        export(env, exports, "eifFit", anomaly::eif_fit_js)?;
        export(env, exports, "eifScore", anomaly::eif_score_js)?;
        export(env, exports, "minirocketFit", minirocket::minirocket_fit)?;
        export(env, exports, "minirocketTransform", minirocket::minirocket_transform)?;
        export(env, exports, "minirocketHeadFit", minirocket::minirocket_head_fit)?;
        Ok(exports)
    })
}

/// Node-API version this addon is built against (Node >= 20 asks).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}
