//! `featurizeFiles(paths, optionsJson, jobs)`: decode + featurise episodes
//! off the event loop on the shared rayon pool (same shape as
//! inspectFiles), resolving to one object per path whose arrays are typed
//! arrays; `featureSchema()`: the channel registry as JSON.
//!
//! Typed arrays wrap the Rust Vecs as external ArrayBuffers (freed by a
//! finalizer). Measured on 2000 episodes with tensors (~220 KB each): the
//! main-thread `complete` step took 2-11 ms per batch of 256 this way, and
//! 10-180 ms with napi_create_arraybuffer + memcpy (zero-fill, copy and the
//! GC pressure of fresh V8-owned buffers). Copying stays as the fallback.

use crate::napi::*;
use crate::{pool, thread_count};
use cis490_core::features::{featurize_path, schema_json, EpisodeWindows, FeatureRequest};
use rayon::prelude::*;
use std::ffi::{c_char, c_void, CString};
use std::path::PathBuf;
use std::ptr::null_mut;

// Node-API calls only this module uses (declared here so napi.rs stays as is).
extern "C" {
    fn napi_create_object(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_create_double(env: napi_env, value: f64, result: *mut napi_value) -> napi_status;
    fn napi_get_null(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_create_arraybuffer(env: napi_env, byte_length: usize, data: *mut *mut c_void, result: *mut napi_value) -> napi_status;
    fn napi_create_external_arraybuffer(env: napi_env, data: *mut c_void, byte_length: usize, finalize_cb: Option<unsafe extern "C" fn(napi_env, *mut c_void, *mut c_void)>, finalize_hint: *mut c_void, result: *mut napi_value) -> napi_status;
    fn napi_create_typedarray(env: napi_env, kind: i32, length: usize, arraybuffer: napi_value, byte_offset: usize, result: *mut napi_value) -> napi_status;
}

const INT8_ARRAY: i32 = 0;
const UINT8_ARRAY: i32 = 1;
const FLOAT32_ARRAY: i32 = 7;
pub(crate) const FLOAT64_ARRAY: i32 = 8;

unsafe fn null(env: napi_env) -> Result<napi_value> {
    let mut v = null_mut();
    check(napi_get_null(env, &mut v), "napi_get_null")?;
    Ok(v)
}

unsafe fn double(env: napi_env, x: f64) -> Result<napi_value> {
    let mut v = null_mut();
    check(napi_create_double(env, x, &mut v), "napi_create_double")?;
    Ok(v)
}

unsafe fn set(env: napi_env, obj: napi_value, key: &str, v: napi_value) -> Result<()> {
    let k = CString::new(key).expect("static key");
    check(napi_set_named_property(env, obj, k.as_ptr() as *const c_char, v), "napi_set_named_property")
}

/// A fresh typed array of `kind` holding a copy of `data`.
unsafe fn typed<T: Copy>(env: napi_env, kind: i32, data: &[T]) -> Result<napi_value> {
    let bytes = std::mem::size_of_val(data);
    let (mut ptr, mut ab) = (null_mut(), null_mut());
    check(napi_create_arraybuffer(env, bytes, &mut ptr, &mut ab), "napi_create_arraybuffer")?;
    if bytes > 0 {
        std::ptr::copy_nonoverlapping(data.as_ptr() as *const u8, ptr as *mut u8, bytes);
    }
    let mut ta = null_mut();
    check(napi_create_typedarray(env, kind, data.len(), ab, 0, &mut ta), "napi_create_typedarray")?;
    Ok(ta)
}

unsafe extern "C" fn free_vec<T>(_env: napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(Box::from_raw(hint as *mut Vec<T>));
}

/// A typed array over `data` itself (no copy, no zero-fill); the Vec is
/// freed by the finalizer when V8 collects the buffer. Falls back to a copy
/// where external buffers are not allowed (e.g. V8 sandbox builds).
pub(crate) unsafe fn typed_owned<T: Copy>(env: napi_env, kind: i32, data: Vec<T>) -> Result<napi_value> {
    if data.is_empty() {
        return typed(env, kind, &data);
    }
    let (ptr, len) = (data.as_ptr() as *mut c_void, data.len());
    let bytes = std::mem::size_of_val(&data[..]);
    let hint = Box::into_raw(Box::new(data));
    let mut ab = null_mut();
    if napi_create_external_arraybuffer(env, ptr, bytes, Some(free_vec::<T>), hint as *mut c_void, &mut ab) != NAPI_OK {
        let data = Box::from_raw(hint);
        return typed(env, kind, &data);
    }
    let mut ta = null_mut();
    check(napi_create_typedarray(env, kind, len, ab, 0, &mut ta), "napi_create_typedarray")?;
    Ok(ta)
}

unsafe fn windows_object(env: napi_env, w: EpisodeWindows) -> Result<napi_value> {
    let mut o = null_mut();
    check(napi_create_object(env, &mut o), "napi_create_object")?;
    set(env, o, "error", match &w.error {
        Some(e) => create_string(env, e)?,
        None => null(env)?,
    })?;
    set(env, o, "n_windows", double(env, w.n_windows as f64)?)?;
    // i64 does not fit a JS number: a decimal string, as in the report.
    set(env, o, "t0_wall_ns", match w.t0_wall_ns {
        Some(t) => create_string(env, &t.to_string())?,
        None => null(env)?,
    })?;
    set(env, o, "duration_s", match w.duration_s {
        Some(d) => double(env, d)?,
        None => null(env)?,
    })?;
    set(env, o, "phase", typed(env, INT8_ARRAY, &w.phase)?)?;
    set(env, o, "t_start_s", typed(env, FLOAT64_ARRAY, &w.t_start_s)?)?;
    set(env, o, "phase_start_s", typed(env, FLOAT64_ARRAY, &w.phase_start_s)?)?;
    set(env, o, "summary", typed_owned(env, FLOAT64_ARRAY, w.summary)?)?;
    set(env, o, "x", match w.x {
        Some(x) => typed_owned(env, FLOAT32_ARRAY, x)?,
        None => null(env)?,
    })?;
    set(env, o, "mask", match w.mask {
        Some(m) => typed_owned(env, UINT8_ARRAY, m)?,
        None => null(env)?,
    })?;
    Ok(o)
}

pub unsafe extern "C" fn feature_schema(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || create_string(env, &schema_json()))
}

pub unsafe extern "C" fn featurize_files(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let (argv, _) = args::<3>(env, info)?;
        let paths: Vec<PathBuf> = get_string_array(env, argv[0], "featurizeFiles: paths")?.into_iter().map(PathBuf::from).collect();
        let req = FeatureRequest::from_json(&get_string(env, argv[1], "featurizeFiles: optionsJson")?)?;
        let threads = thread_count(get_number(env, argv[2], "featurizeFiles: jobs")?)?;
        spawn_promise(
            env,
            "featurizeFiles",
            move || {
                let pool = pool(threads)?;
                // Indexed parallel iterator: collect keeps input order.
                Ok(pool.install(|| paths.par_iter().map(|p| featurize_path(p, &req.inspect, &req.features)).collect::<Vec<EpisodeWindows>>()))
            },
            // Main thread: the episodes are consumed so their big arrays
            // move into the typed arrays without a copy.
            |env, eps| {
                let mut arr = null_mut();
                check(napi_create_array_with_length(env, eps.len(), &mut arr), "napi_create_array_with_length")?;
                for (i, e) in eps.into_iter().enumerate() {
                    check(napi_set_element(env, arr, i as u32, windows_object(env, e)?), "napi_set_element")?;
                }
                Ok(arr)
            },
        )
    })
}
