//! The C boundary (DESIGN.md §2–3): ABI types and constants, the allocator, the guard every
//! exported function and slot goes through, IUnknown, and one file per interface's vtable.
//! The only place with raw pointers and `extern "C"`: each method validates, converts and
//! delegates to `crate::core`.
//!
//! Unsafe discipline: `unsafe_op_in_unsafe_fn` is denied here, so every unsafe operation sits
//! in an `unsafe` block, and `clippy::undocumented_unsafe_blocks` makes each block carry a
//! `// SAFETY:` comment saying why it holds. Helpers get one block per operation. An exported
//! function or vtable slot is one `unsafe { guard::…(…) }` (the shape tests/guard_coverage.rs
//! checks); its SAFETY comment names `This` and every raw parameter the body uses and the
//! contract that makes them valid (a closure inside an `unsafe` block is itself in it, so rustc
//! would reject finer blocks there as unused). A fn that dereferences a raw pointer it is handed
//! is an `unsafe fn` with a `# Safety` section (clippy::missing_safety_doc is not allowed here).
#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![allow(clippy::too_many_arguments)]

pub mod alloc;
pub mod attach;
pub mod classes;
pub mod consts;
pub mod convert;
pub mod copy;
pub mod entry;
pub mod folder;
pub mod guard;
pub mod iids;
#[rustfmt::skip] // one line per vtable slot, in MAPI order: kept as a table
pub mod interfaces;
pub mod mapiinit;
pub mod mapiutil;
pub mod message;
pub mod notify;
pub mod object;
pub mod prop;
pub mod propdata;
pub mod resolver;
pub mod store;
pub mod stream;
pub mod table;
pub mod tabledata;
pub mod types;

use interfaces::*;
use types::*;

/// The calling thread's last failure in a function that has no object to ask (MsgStoreOpen,
/// CreateIProp, MsgStoreSetConflictResolver, the allocator). `*lppMAPIError` is one
/// MAPIAllocateBuffer block (free it with MAPIFreeBuffer), or NULL when `hResult` is a success.
///
/// # Safety
/// `lppMAPIError` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreGetLastError(
    hResult: HRESULT,
    ulFlags: ULONG,
    lppMAPIError: *mut LPMAPIERROR,
) -> HRESULT {
    // SAFETY: `lppMAPIError` is NULL or valid for the reads and writes that
    // MsgStoreGetLastError's signature declares (the caller's side of the contract, DESIGN.md
    // §2), and NULL is checked before any use.
    unsafe {
        guard::free_fn("MsgStoreGetLastError", || {
            let out = guard::cleared_out(lppMAPIError, "MsgStoreGetLastError: lppMAPIError")?;
            *out = prop::thread_mapierror(hResult, ulFlags)?;
            Ok(consts::S_OK)
        })
    }
}

/// The symbolic name of an HRESULT ("MAPI_E_OBJECT_CHANGED", …; "unknown HRESULT" for codes
/// this library never returns). `*lppszName` points to a static string: do not free it.
///
/// # Safety
/// `lppszName` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreErrorName(
    hResult: HRESULT,
    lppszName: *mut *const std::ffi::c_char,
) -> HRESULT {
    // SAFETY: `lppszName` is NULL or valid for the reads and writes that MsgStoreErrorName's
    // signature declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked
    // before any use.
    unsafe {
        guard::free_fn("MsgStoreErrorName", || {
            let out = guard::out_ptr(lppszName, "MsgStoreErrorName: lppszName")?;
            *out = crate::core::error::error_name_c(hResult).as_ptr();
            Ok(consts::S_OK)
        })
    }
}

/// How many COM objects made by this library (stores, folders, messages, property objects) are
/// alive in this process now: 0 once a client has released everything it was given.
#[no_mangle]
pub extern "C" fn MsgStoreLiveObjects() -> ULONG {
    guard::free_fn_ulong("MsgStoreLiveObjects", || {
        object::live_objects().min(ULONG::MAX as usize) as ULONG
    })
}

/// Test hook (fault injection): the next call on this thread into the exported function or
/// method named `lpszMethod` (for example "GetProps") panics inside the library, which must
/// return MAPI_E_CALL_FAILED (0 for AddRef/Release/MAPIFreeBuffer) and keep the process alive.
/// NULL disarms it.
///
/// # Safety
/// `lpszMethod` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreInjectPanic(lpszMethod: *const std::ffi::c_char) -> HRESULT {
    // SAFETY: `lpszMethod` is NULL or valid for the reads and writes that MsgStoreInjectPanic's
    // signature declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked
    // before any use.
    unsafe {
        guard::free_fn("MsgStoreInjectPanic", || {
            if lpszMethod.is_null() {
                guard::inject_panic(String::new());
            } else {
                let name = std::ffi::CStr::from_ptr(lpszMethod)
                    .to_string_lossy()
                    .into_owned();
                guard::inject_panic(name);
            }
            Ok(consts::S_OK)
        })
    }
}

// Keep the interface pointer typedefs referenced so cbindgen emits them.
#[doc(hidden)]
#[no_mangle]
pub static MSGSTORE_ABI_VERSION: ULONG = 1;
#[allow(dead_code)]
fn _typedef_anchor(_: LPUNKNOWN, _: LPMAPIPROP) {}
