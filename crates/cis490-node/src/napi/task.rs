//! `spawn_promise`: the async-work scaffolding behind every
//! promise-returning export (compute on a libuv worker thread, deliver on
//! the main thread, never leave a promise hanging).

use super::sys::*;
use super::value::{check, create_error, create_string, panic_message, Result};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

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

/// A promise already settled with `result` (the value, or a rejection with
/// the message), for work done synchronously behind a promise-returning
/// export.
pub unsafe fn settled_promise(env: napi_env, result: Result<napi_value>) -> Result<napi_value> {
    let mut promise = null_mut();
    let mut deferred = null_mut();
    check(napi_create_promise(env, &mut deferred, &mut promise), "napi_create_promise")?;
    match result {
        Ok(v) => check(napi_resolve_deferred(env, deferred, v), "napi_resolve_deferred")?,
        Err(msg) => check(napi_reject_deferred(env, deferred, create_error(env, &msg)?), "napi_reject_deferred")?,
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
