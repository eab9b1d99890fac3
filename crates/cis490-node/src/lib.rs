//! cis490 Node addon: `version()`, `buildInfo()`, `inspectBuffer(data, optionsJson)`,
//! `inspectFiles(paths, optionsJson, jobs)` (a Promise; the work runs off
//! the event loop on a rayon pool). Reports are JSON strings; all decoding
//! logic lives in cis490-core.

mod features;
mod napi;
mod stats;

use cis490_core::{inspect_bytes, inspect_path, InspectOptions};
use napi::*;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn parse_options(text: &str) -> Result<InspectOptions> {
    InspectOptions::from_json(text)
}

/// `jobs`: 0 -> available parallelism, else clamped to 1..=64.
fn thread_count(jobs: f64) -> Result<usize> {
    if !jobs.is_finite() || jobs < 0.0 {
        return Err(format!("jobs must be a non-negative number, got {jobs}"));
    }
    let j = jobs as usize;
    Ok(if j == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { j }.clamp(1, 64))
}

/// One pool per size, kept between calls (thread start-up is not free and
/// a sweep calls inspectFiles in batches).
fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
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

unsafe extern "C" fn version(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || create_string(env, cis490_core::VERSION))
}

/// `buildInfo()`: a JSON string saying how this library was compiled (for `cis490 doctor`).
unsafe extern "C" fn build_info(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        let info = format!(
            r#"{{"version":"{}","profile":"{}","target":"{}-{}","napiVersion":{},"threads":{}}}"#,
            cis490_core::VERSION,
            profile,
            std::env::consts::ARCH,
            std::env::consts::OS,
            node_api_module_get_api_version_v1(),
            thread_count(0.0)?
        );
        create_string(env, &info)
    })
}

unsafe extern "C" fn inspect_buffer(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<2>(env, info)?;
        let data = get_bytes(env, argv[0], "inspectBuffer: data")?;
        let opts = parse_options(&get_string(env, argv[1], "inspectBuffer: optionsJson")?)?;
        create_string(env, &inspect_bytes(data, &opts).to_json())
    })
}

unsafe extern "C" fn inspect_files(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<3>(env, info)?;
        let paths: Vec<PathBuf> = get_string_array(env, argv[0], "inspectFiles: paths")?.into_iter().map(PathBuf::from).collect();
        let opts = parse_options(&get_string(env, argv[1], "inspectFiles: optionsJson")?)?;
        let threads = thread_count(get_number(env, argv[2], "inspectFiles: jobs")?)?;
        spawn_promise(
            env,
            "inspectFiles",
            move || {
                let pool = pool(threads)?;
                // Indexed parallel iterator: collect keeps input order.
                Ok(pool.install(|| paths.par_iter().map(|p| inspect_path(p, &opts).to_json()).collect::<Vec<String>>()))
            },
            |env, reports| create_string_array(env, &reports),
        )
    })
}

/// Entry point Node looks up when it loads the addon.
///
/// # Safety
/// Called by Node with a valid env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    guard(env, || {
        export(env, exports, "version", version)?;
        export(env, exports, "buildInfo", build_info)?;
        export(env, exports, "inspectBuffer", inspect_buffer)?;
        export(env, exports, "inspectFiles", inspect_files)?;
        export(env, exports, "featurizeFiles", features::featurize_files)?;
        export(env, exports, "featureSchema", features::feature_schema)?;
        export(env, exports, "bootstrapF1", stats::bootstrap_f1_js)?;
        export(env, exports, "pairedBootstrap", stats::paired_bootstrap_js)?;
        Ok(exports)
    })
}

/// Node-API version this addon is built against (Node >= 20 asks).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}
