//! The one boundary every exported function and vtable slot goes through (DESIGN.md §2): panics
//! become MAPI_E_CALL_FAILED (0 for ULONG-returning functions), errors are recorded for
//! GetLastError, and pointer checks clear out-parameters before anything else happens.
//! `tests/guard_coverage.rs` fails if any `extern "C" fn` under src/abi/ skips this module.

use super::object::{ComClass, ComObject};
use super::types::{HRESULT, ULONG};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// The calling thread's last failure in a function with no object to ask (MsgStoreOpen,
    /// CreateIProp, MsgStoreSetConflictResolver, the allocator), for MsgStoreGetLastError.
    static THREAD_ERROR: RefCell<Option<MapiError>> = const { RefCell::new(None) };
    /// Fault injection for tests: the next guarded entry with this name panics (one shot).
    static INJECTED_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn set_thread_error(e: MapiError) {
    THREAD_ERROR.with(|slot| *slot.borrow_mut() = Some(e));
}

pub fn thread_error() -> Option<MapiError> {
    THREAD_ERROR.with(|slot| slot.borrow().clone())
}

/// Whether any thread ever armed an injected panic: until then every guarded entry skips the
/// thread-local (its lazy-destructor check and borrow cost ~50 instructions per entry, paid
/// three times by a GetProps and its MAPIAllocateBuffer/MAPIFreeBuffer).
static PANIC_EVER_ARMED: AtomicBool = AtomicBool::new(false);

/// Arms a one-shot panic at the next guarded entry named `name` on this thread.
pub fn inject_panic(name: String) {
    INJECTED_PANIC.with(|slot| *slot.borrow_mut() = Some(name));
    // Set after the slot: this thread's next entry, which is all the slot is for, sees both.
    PANIC_EVER_ARMED.store(true, Ordering::Relaxed);
}

#[inline(always)]
fn maybe_injected_panic(name: &str) {
    if PANIC_EVER_ARMED.load(Ordering::Relaxed) {
        injected_panic_armed(name);
    }
}

#[cold]
#[inline(never)]
fn injected_panic_armed(name: &str) {
    let hit = INJECTED_PANIC.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_deref() == Some(name) {
            *slot = None;
            true
        } else {
            false
        }
    });
    if hit {
        panic!("injected panic in {name} (MsgStoreInjectPanic)");
    }
}

fn panic_error(name: &str, payload: Box<dyn Any + Send>) -> MapiError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    MapiError::new(
        MAPI_E_CALL_FAILED,
        format!("{name}: internal error, the call was abandoned: {what}"),
    )
}

/// GetLastError's text must say which function failed: messages that do not name it already
/// (a shared helper's "lppBuffer is NULL", a property object's "open read-only") get it in front.
fn named(name: &str, mut e: MapiError) -> MapiError {
    if !e.message.contains(name) {
        e.message = format!("{name}: {}", e.message);
    }
    e
}

/// Runs an exported free function's body.
pub fn free_fn(name: &'static str, f: impl FnOnce() -> MapiResult<HRESULT>) -> HRESULT {
    match catch_unwind(AssertUnwindSafe(|| {
        maybe_injected_panic(name);
        f()
    })) {
        Ok(Ok(hr)) => hr,
        Ok(Err(e)) => {
            let code = e.code;
            set_thread_error(named(name, e));
            code
        }
        Err(payload) => {
            set_thread_error(panic_error(name, payload));
            MAPI_E_CALL_FAILED
        }
    }
}

/// Runs an exported free function that returns a ULONG (a panic gives 0).
pub fn free_fn_ulong(name: &'static str, f: impl FnOnce() -> ULONG) -> ULONG {
    catch_unwind(AssertUnwindSafe(|| {
        maybe_injected_panic(name);
        f()
    }))
    .unwrap_or_else(|payload| {
        set_thread_error(panic_error(name, payload));
        0
    })
}

/// Runs an exported free function that returns a plain value rather than an HRESULT (a BOOL,
/// a LONG, a pointer, or nothing): a panic gives `failure`, the function's documented failure
/// value (FALSE for "is it equal", TRUE for "is it bad", NULL for a pointer).
pub fn free_fn_or<T>(name: &'static str, failure: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(|| {
        maybe_injected_panic(name);
        f()
    }))
    .unwrap_or_else(|payload| {
        set_thread_error(panic_error(name, payload));
        failure
    })
}

/// Runs a vtable slot's body on our object `This` (NULL → MAPI_E_INVALID_PARAMETER). Failures
/// are recorded on the object for its GetLastError, and on the thread.
///
/// # Safety
/// `This` must be NULL or an object of class `T` (the vtable it came through guarantees it).
pub unsafe fn method<T: ComClass>(
    This: *mut T::Interface,
    name: &'static str,
    f: impl FnOnce(&ComObject<T>) -> MapiResult<HRESULT>,
) -> HRESULT {
    let obj = This as *const ComObject<T>;
    match catch_unwind(AssertUnwindSafe(|| {
        maybe_injected_panic(name);
        if obj.is_null() {
            return Err(MapiError::invalid(format!("{name}: This is NULL")));
        }
        // SAFETY: `This` is non-NULL (checked) and an object of class `T` (the contract), alive
        // for the call since the caller holds a reference.
        f(unsafe { &*obj })
    })) {
        Ok(Ok(hr)) => hr,
        Ok(Err(e)) => {
            let code = e.code;
            let e = named(name, e);
            // GetLastError's own failures are not recorded: it must never hide the error it
            // is asked about.
            if !obj.is_null() && name != "GetLastError" {
                // SAFETY: as above: non-NULL, of class `T`, alive for the call.
                unsafe { (*obj).set_last_error(e.clone()) };
            }
            set_thread_error(e);
            code
        }
        Err(payload) => {
            let e = panic_error(name, payload);
            if !obj.is_null() {
                // SAFETY: as above: non-NULL, of class `T`, alive for the call.
                unsafe { (*obj).set_last_error(e.clone()) };
            }
            set_thread_error(e);
            MAPI_E_CALL_FAILED
        }
    }
}

/// Runs AddRef/Release-shaped slots (a panic, or a NULL `This`, gives 0). `This` is only
/// compared with NULL here; `f` does the rest.
pub fn method_ulong<I>(This: *mut I, name: &'static str, f: impl FnOnce() -> ULONG) -> ULONG {
    if This.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| {
        maybe_injected_panic(name);
        f()
    }))
    .unwrap_or_else(|payload| {
        set_thread_error(panic_error(name, payload));
        0
    })
}

/// Checks a required out-pointer and returns it as a reference.
///
/// # Safety
/// `p` must be NULL or valid for writes.
pub unsafe fn out_ptr<'a, T>(p: *mut T, what: &str) -> MapiResult<&'a mut T> {
    // SAFETY: `p` is NULL or valid for writes (the contract); `as_mut` checks NULL.
    unsafe { p.as_mut() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))
}

/// Checks a required pointer out-parameter and sets it to NULL before any work is done.
///
/// # Safety
/// `p` must be NULL or valid for writes.
pub unsafe fn cleared_out<'a, T>(p: *mut *mut T, what: &str) -> MapiResult<&'a mut *mut T> {
    // SAFETY: this function's contract is out_ptr's.
    let out = unsafe { out_ptr(p, what) }?;
    *out = std::ptr::null_mut();
    Ok(out)
}

/// An optional pointer out-parameter (such as `lppProblems`): NULL means "not wanted".
///
/// # Safety
/// `p` must be NULL or valid for writes.
pub unsafe fn optional_out<'a, T>(p: *mut *mut T) -> Option<&'a mut *mut T> {
    // SAFETY: `p` is NULL or valid for writes (the contract); `as_mut` checks NULL.
    let out = unsafe { p.as_mut() }?;
    *out = std::ptr::null_mut();
    Some(out)
}
