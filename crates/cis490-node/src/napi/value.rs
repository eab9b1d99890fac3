//! Conversions between Rust and JavaScript values, the panic guard every
//! callback goes through, and `export`. Every helper names the argument it
//! checks, so a bad call throws a message the caller can act on.

use super::sys::*;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

pub type Result<T> = std::result::Result<T, String>;

/// Turns a Node-API status into our error, naming the call that failed.
pub fn check(status: napi_status, what: &str) -> Result<()> {
    if status == NAPI_OK {
        Ok(())
    } else {
        Err(format!("Node-API call failed ({what}, status {status})"))
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("no NUL left")
}

pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_else(|| "unknown panic".into())
}

/// Throws `Error(msg)` unless an exception is already pending.
pub unsafe fn throw(env: napi_env, msg: &str) {
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if !pending {
        let m = cstring(msg);
        napi_throw_error(env, std::ptr::null(), m.as_ptr());
    }
}

/// Runs a callback body: Err becomes a thrown Error, a panic becomes
/// `Error("cis490 native panic: ...")`. Unwinding never crosses into Node.
pub unsafe fn guard(env: napi_env, f: impl FnOnce() -> Result<napi_value>) -> napi_value {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(msg)) => {
            throw(env, &msg);
            null_mut()
        }
        Err(p) => {
            throw(env, &format!("cis490 native panic: {}", panic_message(&*p)));
            null_mut()
        }
    }
}

/// Up to N arguments (missing ones are null pointers -> reported by the getters).
pub unsafe fn args<const N: usize>(env: napi_env, info: napi_callback_info) -> Result<([napi_value; N], usize)> {
    let mut argv = [null_mut(); N];
    let mut argc = N;
    check(napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), null_mut()), "napi_get_cb_info")?;
    Ok((argv, argc))
}

pub unsafe fn type_of(env: napi_env, v: napi_value) -> i32 {
    let mut t = -1;
    if v.is_null() || napi_typeof(env, v, &mut t) != NAPI_OK {
        return -1;
    }
    t
}

pub unsafe fn create_string(env: napi_env, s: &str) -> Result<napi_value> {
    let mut v = null_mut();
    check(napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len(), &mut v), "napi_create_string_utf8")?;
    Ok(v)
}

pub unsafe fn get_string(env: napi_env, v: napi_value, what: &str) -> Result<String> {
    if type_of(env, v) != NAPI_STRING {
        return Err(format!("{what} must be a string"));
    }
    let mut len = 0usize;
    check(napi_get_value_string_utf8(env, v, null_mut(), 0, &mut len), "napi_get_value_string_utf8")?;
    let mut buf = vec![0u8; len + 1];
    check(napi_get_value_string_utf8(env, v, buf.as_mut_ptr() as *mut c_char, len + 1, &mut len), "napi_get_value_string_utf8")?;
    buf.truncate(len);
    String::from_utf8(buf).map_err(|_| format!("{what} is not valid UTF-8"))
}

pub unsafe fn get_number(env: napi_env, v: napi_value, what: &str) -> Result<f64> {
    if type_of(env, v) != NAPI_NUMBER {
        return Err(format!("{what} must be a number"));
    }
    let mut x = 0.0;
    check(napi_get_value_double(env, v, &mut x), "napi_get_value_double")?;
    Ok(x)
}

/// The bytes of a Buffer / Uint8Array (any 8-bit typed array), borrowed for
/// the duration of a synchronous call.
pub unsafe fn get_bytes<'a>(env: napi_env, v: napi_value, what: &str) -> Result<&'a [u8]> {
    let mut is_ta = false;
    if v.is_null() || napi_is_typedarray(env, v, &mut is_ta) != NAPI_OK || !is_ta {
        return Err(format!("{what} must be a Buffer or Uint8Array"));
    }
    let (mut kind, mut len, mut data, mut ab, mut off) = (0, 0usize, null_mut(), null_mut(), 0usize);
    check(napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off), "napi_get_typedarray_info")?;
    if !(NAPI_INT8_ARRAY..=NAPI_UINT8_CLAMPED_ARRAY).contains(&kind) {
        return Err(format!("{what} must be a Buffer or Uint8Array"));
    }
    Ok(if len == 0 || data.is_null() { &[] } else { std::slice::from_raw_parts(data as *const u8, len) })
}

pub unsafe fn get_string_array(env: napi_env, v: napi_value, what: &str) -> Result<Vec<String>> {
    let mut is_arr = false;
    if v.is_null() || napi_is_array(env, v, &mut is_arr) != NAPI_OK || !is_arr {
        return Err(format!("{what} must be an array of strings"));
    }
    let mut n = 0u32;
    check(napi_get_array_length(env, v, &mut n), "napi_get_array_length")?;
    (0..n)
        .map(|i| {
            let mut e = null_mut();
            check(napi_get_element(env, v, i, &mut e), "napi_get_element")?;
            get_string(env, e, &format!("{what}[{i}]"))
        })
        .collect()
}

pub unsafe fn create_string_array(env: napi_env, items: &[String]) -> Result<napi_value> {
    let mut arr = null_mut();
    check(napi_create_array_with_length(env, items.len(), &mut arr), "napi_create_array_with_length")?;
    for (i, s) in items.iter().enumerate() {
        check(napi_set_element(env, arr, i as u32, create_string(env, s)?), "napi_set_element")?;
    }
    Ok(arr)
}

pub unsafe fn create_error(env: napi_env, msg: &str) -> Result<napi_value> {
    let mut e = null_mut();
    check(napi_create_error(env, null_mut(), create_string(env, msg)?, &mut e), "napi_create_error")?;
    Ok(e)
}

/// Adds `name` as a function property of `exports`.
pub unsafe fn export(env: napi_env, exports: napi_value, name: &str, cb: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value) -> Result<()> {
    let mut f = null_mut();
    let cname = cstring(name);
    check(napi_create_function(env, cname.as_ptr(), name.len(), Some(cb), null_mut(), &mut f), "napi_create_function")?;
    check(napi_set_named_property(env, exports, cname.as_ptr(), f), "napi_set_named_property")
}

pub unsafe fn null(env: napi_env) -> Result<napi_value> {
    let mut v = null_mut();
    check(napi_get_null(env, &mut v), "napi_get_null")?;
    Ok(v)
}

pub unsafe fn double(env: napi_env, x: f64) -> Result<napi_value> {
    let mut v = null_mut();
    check(napi_create_double(env, x, &mut v), "napi_create_double")?;
    Ok(v)
}

pub unsafe fn set(env: napi_env, obj: napi_value, key: &str, v: napi_value) -> Result<()> {
    let k = cstring(key);
    check(napi_set_named_property(env, obj, k.as_ptr(), v), "napi_set_named_property")
}

/// A fresh typed array of `kind` holding a copy of `data`.
pub unsafe fn typed<T: Copy>(env: napi_env, kind: i32, data: &[T]) -> Result<napi_value> {
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
pub unsafe fn typed_owned<T: Copy>(env: napi_env, kind: i32, data: Vec<T>) -> Result<napi_value> {
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

/// Copies an Int32Array / Uint32Array (exactly that kind: a Float64Array
/// of labels would silently reinterpret bits).
pub unsafe fn get_u32_words(env: napi_env, v: napi_value, want: i32, what: &str) -> Result<Vec<u32>> {
    let kind_name = if want == NAPI_INT32_ARRAY { "an Int32Array" } else { "a Uint32Array" };
    get_typed_copy::<u32>(env, v, want, kind_name, what)
}

pub unsafe fn get_i32s(env: napi_env, v: napi_value, what: &str) -> Result<Vec<i32>> {
    Ok(get_u32_words(env, v, NAPI_INT32_ARRAY, what)?.into_iter().map(|w| w as i32).collect())
}

/// An optional Uint32Array: undefined / null / missing -> None.
pub unsafe fn get_optional_u32s(env: napi_env, v: napi_value, what: &str) -> Result<Option<Vec<u32>>> {
    match type_of(env, v) {
        -1 | NAPI_UNDEFINED | NAPI_NULL => Ok(None),
        _ => get_u32_words(env, v, NAPI_UINT32_ARRAY, what).map(Some),
    }
}

/// A Float64Array or Float32Array copied out as f64 (NaN kept), for matrices
/// the work reads after the call returns.
pub unsafe fn get_matrix(env: napi_env, v: napi_value, what: &str) -> Result<Vec<f64>> {
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
        NAPI_FLOAT64_ARRAY => Ok(std::slice::from_raw_parts(data as *const f64, len).to_vec()),
        NAPI_FLOAT32_ARRAY => Ok(std::slice::from_raw_parts(data as *const f32, len).iter().map(|&x| f64::from(x)).collect()),
        _ => Err(format!("{what} must be a Float64Array or Float32Array")),
    }
}

/// The values of a Float64Array, borrowed for the duration of a
/// synchronous call (no JavaScript runs meanwhile, so they cannot change or
/// be detached); `None` for any other typed array, which the caller copies
/// with get_matrix.
pub unsafe fn get_f64_borrowed<'a>(env: napi_env, v: napi_value, what: &str) -> Result<Option<&'a [f64]>> {
    let mut is_ta = false;
    if v.is_null() || napi_is_typedarray(env, v, &mut is_ta) != NAPI_OK || !is_ta {
        return Err(format!("{what} must be a Float64Array or Float32Array"));
    }
    let (mut kind, mut len, mut data, mut ab, mut off) = (0, 0usize, null_mut(), null_mut(), 0usize);
    check(napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off), "napi_get_typedarray_info")?;
    Ok(match kind {
        NAPI_FLOAT64_ARRAY if len == 0 || data.is_null() => Some(&[]),
        NAPI_FLOAT64_ARRAY => Some(std::slice::from_raw_parts(data as *const f64, len)),
        _ => None,
    })
}

/// Copies a typed array of exactly `want` (e.g. NAPI_FLOAT32_ARRAY) whose
/// elements are `T`; any other kind is refused rather than reinterpreted.
pub unsafe fn get_typed_copy<T: Copy>(env: napi_env, v: napi_value, want: i32, kind_name: &str, what: &str) -> Result<Vec<T>> {
    let mut is_ta = false;
    if v.is_null() || napi_is_typedarray(env, v, &mut is_ta) != NAPI_OK || !is_ta {
        return Err(format!("{what} must be {kind_name}"));
    }
    let (mut kind, mut len, mut data, mut ab, mut off) = (0, 0usize, null_mut(), null_mut(), 0usize);
    check(napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off), "napi_get_typedarray_info")?;
    if kind != want {
        return Err(format!("{what} must be {kind_name}"));
    }
    Ok(if len == 0 || data.is_null() { Vec::new() } else { std::slice::from_raw_parts(data as *const T, len).to_vec() })
}
