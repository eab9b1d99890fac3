//! A minimal hand-written Node-API binding layer: the `napi_*` functions
//! this addon uses (declared, not linked: Node exports them to addons at
//! load time), a few safe-ish helpers, the panic guard every callback
//! goes through, and `spawn_promise`, the async-work scaffolding behind
//! every promise-returning export. Names follow Node-API so a later move
//! to napi-rs is mechanical.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

pub type napi_env = *mut c_void;
pub type napi_value = *mut c_void;
pub type napi_callback_info = *mut c_void;
pub type napi_deferred = *mut c_void;
pub type napi_async_work = *mut c_void;
pub type napi_status = i32;
pub type napi_callback = Option<unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value>;
pub type napi_async_execute_callback = Option<unsafe extern "C" fn(napi_env, *mut c_void)>;
pub type napi_async_complete_callback = Option<unsafe extern "C" fn(napi_env, napi_status, *mut c_void)>;

pub const NAPI_OK: napi_status = 0;
pub const NAPI_NUMBER: i32 = 3;
pub const NAPI_STRING: i32 = 4;
const NAPI_INT8_ARRAY: i32 = 0;
const NAPI_UINT8_CLAMPED_ARRAY: i32 = 2;

extern "C" {
    pub fn napi_create_function(env: napi_env, name: *const c_char, len: usize, cb: napi_callback, data: *mut c_void, result: *mut napi_value) -> napi_status;
    pub fn napi_set_named_property(env: napi_env, object: napi_value, name: *const c_char, value: napi_value) -> napi_status;
    pub fn napi_get_cb_info(env: napi_env, info: napi_callback_info, argc: *mut usize, argv: *mut napi_value, this: *mut napi_value, data: *mut *mut c_void) -> napi_status;
    pub fn napi_typeof(env: napi_env, value: napi_value, result: *mut i32) -> napi_status;
    pub fn napi_create_string_utf8(env: napi_env, s: *const c_char, len: usize, result: *mut napi_value) -> napi_status;
    pub fn napi_get_value_string_utf8(env: napi_env, value: napi_value, buf: *mut c_char, size: usize, result: *mut usize) -> napi_status;
    pub fn napi_get_value_double(env: napi_env, value: napi_value, result: *mut f64) -> napi_status;
    pub fn napi_is_typedarray(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    pub fn napi_get_typedarray_info(env: napi_env, value: napi_value, kind: *mut i32, len: *mut usize, data: *mut *mut c_void, arraybuffer: *mut napi_value, offset: *mut usize) -> napi_status;
    pub fn napi_is_array(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    pub fn napi_get_array_length(env: napi_env, value: napi_value, result: *mut u32) -> napi_status;
    pub fn napi_get_element(env: napi_env, object: napi_value, index: u32, result: *mut napi_value) -> napi_status;
    pub fn napi_create_array_with_length(env: napi_env, len: usize, result: *mut napi_value) -> napi_status;
    pub fn napi_set_element(env: napi_env, object: napi_value, index: u32, value: napi_value) -> napi_status;
    pub fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    pub fn napi_create_error(env: napi_env, code: napi_value, msg: napi_value, result: *mut napi_value) -> napi_status;
    pub fn napi_is_exception_pending(env: napi_env, result: *mut bool) -> napi_status;
    pub fn napi_create_promise(env: napi_env, deferred: *mut napi_deferred, promise: *mut napi_value) -> napi_status;
    pub fn napi_resolve_deferred(env: napi_env, deferred: napi_deferred, value: napi_value) -> napi_status;
    pub fn napi_reject_deferred(env: napi_env, deferred: napi_deferred, value: napi_value) -> napi_status;
    pub fn napi_create_async_work(env: napi_env, resource: napi_value, name: napi_value, execute: napi_async_execute_callback, complete: napi_async_complete_callback, data: *mut c_void, result: *mut napi_async_work) -> napi_status;
    pub fn napi_queue_async_work(env: napi_env, work: napi_async_work) -> napi_status;
    pub fn napi_delete_async_work(env: napi_env, work: napi_async_work) -> napi_status;
}

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

/// napi_async_execute_callback's work, boxed so one pair of execute /
/// complete functions per result type serves every async export.
type Compute<T> = Box<dyn FnOnce() -> Result<T> + Send>;
/// Turns the computed value into the JS value the promise resolves to.
type Deliver<T> = Box<dyn FnOnce(napi_env, T) -> Result<napi_value>>;

/// State of one promise-returning call, owned by its async work item from
/// napi_create_async_work until `complete` frees it.
struct AsyncCall<T> {
    name: String,
    deferred: napi_deferred,
    work: napi_async_work,
    compute: Option<Compute<T>>,
    deliver: Option<Deliver<T>>,
    result: Option<Result<T>>,
}

/// Returns a promise settled by running `compute` off the event loop (on a
/// libuv worker thread, where no Node-API call is allowed) and then
/// `deliver` on the main thread with its value. `compute`'s Err or panic
/// (as "cis490 native panic: ...") rejects the promise; so do a cancelled
/// work item and a `deliver` that fails or panics: the promise never hangs.
/// Arguments are the caller's to validate first, so bad ones throw
/// synchronously. `name` labels the async resource (`cis490.<name>`) and
/// the rejection messages.
pub unsafe fn spawn_promise<T: Send + 'static>(
    env: napi_env,
    name: &str,
    compute: impl FnOnce() -> Result<T> + Send + 'static,
    deliver: impl FnOnce(napi_env, T) -> Result<napi_value> + 'static,
) -> Result<napi_value> {
    // Before the promise exists: failing here throws, nothing is left over.
    let resource_name = create_string(env, &format!("cis490.{name}"))?;
    let mut promise = null_mut();
    let mut deferred = null_mut();
    check(napi_create_promise(env, &mut deferred, &mut promise), "napi_create_promise")?;
    let call = Box::into_raw(Box::new(AsyncCall {
        name: name.to_string(),
        deferred,
        work: null_mut(),
        compute: Some(Box::new(compute) as Compute<T>),
        deliver: Some(Box::new(deliver) as Deliver<T>),
        result: None,
    }));
    let st = napi_create_async_work(env, null_mut(), resource_name, Some(execute::<T>), Some(complete::<T>), call as *mut c_void, &mut (*call).work);
    if st != NAPI_OK || napi_queue_async_work(env, (*call).work) != NAPI_OK {
        // Never queued, so `complete` will not run: free and reject here.
        let call = Box::from_raw(call);
        if !call.work.is_null() {
            napi_delete_async_work(env, call.work);
        }
        napi_reject_deferred(env, call.deferred, create_error(env, "cis490: cannot queue async work")?);
    }
    Ok(promise)
}

/// Runs on a libuv worker thread: no Node-API calls allowed here.
unsafe extern "C" fn execute<T: Send + 'static>(_env: napi_env, data: *mut c_void) {
    let call = &mut *(data as *mut AsyncCall<T>);
    if let Some(compute) = call.compute.take() {
        call.result = Some(match catch_unwind(AssertUnwindSafe(compute)) {
            Ok(r) => r,
            Err(p) => Err(format!("cis490 native panic: {}", panic_message(&*p))),
        });
    }
}

/// Back on the main thread: settle the promise, free the work item.
unsafe extern "C" fn complete<T: Send + 'static>(env: napi_env, status: napi_status, data: *mut c_void) {
    let mut call = Box::from_raw(data as *mut AsyncCall<T>);
    let (deferred, name) = (call.deferred, &call.name);
    // Moved into the guarded closure so that their drops (the unrun
    // compute of a cancelled item included) cannot unwind into Node.
    let (compute, result, deliver) = (call.compute.take(), call.result.take(), call.deliver.take());
    let settled = catch_unwind(AssertUnwindSafe(move || -> Result<()> {
        drop(compute);
        let outcome = match (status, result, deliver) {
            (NAPI_OK, Some(Ok(value)), Some(deliver)) => Ok(deliver(env, value)?),
            (NAPI_OK, Some(Err(msg)), _) => Err(msg),
            _ => Err(format!("cis490: {name} was cancelled (status {status})")),
        };
        match outcome {
            Ok(v) => check(napi_resolve_deferred(env, deferred, v), "napi_resolve_deferred"),
            Err(msg) => check(napi_reject_deferred(env, deferred, create_error(env, &msg)?), "napi_reject_deferred"),
        }
    }));
    if !matches!(settled, Ok(Ok(()))) {
        // Last resort: the promise must not hang forever.
        if let Ok(e) = create_error(env, &format!("cis490: failed to deliver {name} results")) {
            napi_reject_deferred(env, deferred, e);
        }
    }
    napi_delete_async_work(env, call.work);
}
