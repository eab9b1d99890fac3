//! `version()`, `buildInfo()`, `inspectBuffer(data, optionsJson)` and
//! `inspectFiles(paths, optionsJson, jobs)` (a Promise; the work runs off
//! the event loop on a rayon pool). Reports are JSON strings; all decoding
//! logic lives in cis490-core.

use crate::napi::*;
use crate::pool::{pool, thread_count};
use cis490_core::{inspect_bytes, inspect_path, InspectOptions};
use rayon::prelude::*;
use std::path::PathBuf;

fn parse_options(text: &str) -> Result<InspectOptions> {
    InspectOptions::from_json(text)
}

pub unsafe extern "C" fn version(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || create_string(env, cis490_core::VERSION))
}

/// `buildInfo()`: a JSON string saying how this library was compiled (for `cis490 doctor`).
pub unsafe extern "C" fn build_info(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        let info = format!(
            r#"{{"version":"{}","profile":"{}","target":"{}-{}","napiVersion":{},"threads":{}}}"#,
            cis490_core::VERSION,
            profile,
            std::env::consts::ARCH,
            std::env::consts::OS,
            crate::node_api_module_get_api_version_v1(),
            thread_count(0.0)?
        );
        create_string(env, &info)
    })
}

pub unsafe extern "C" fn inspect_buffer(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<2>(env, info)?;
        let data = get_bytes(env, argv[0], "inspectBuffer: data")?;
        let opts = parse_options(&get_string(env, argv[1], "inspectBuffer: optionsJson")?)?;
        create_string(env, &inspect_bytes(data, &opts).to_json())
    })
}

pub unsafe extern "C" fn inspect_files(env: napi_env, info: napi_callback_info) -> napi_value {
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
