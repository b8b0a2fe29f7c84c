//! MAPI's runtime entry points (reference §12.1; issue 13 item 4): `MAPIInitialize` /
//! `MAPIUninitialize` and `ScInitMapiUtil` / `DeinitMapiUtil`, reference-counted, and
//! `MAPIGetDefaultMalloc`, an IMalloc whose blocks are ordinary C heap blocks (malloc, realloc,
//! free). This library needs no global set-up, so initialising only counts: every other export
//! works whether or not it was called.
#![deny(unsafe_op_in_unsafe_fn)]

use super::guard;
use super::iids::{IID_IMalloc, IID_IUnknown};
use super::types::*;
use crate::core::error::MapiError;
use crate::core::mapidefs::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};

/// Balanced MAPIInitialize calls not yet matched by MAPIUninitialize.
static MAPI_INITS: AtomicU32 = AtomicU32::new(0);
/// Balanced ScInitMapiUtil calls not yet matched by DeinitMapiUtil.
static UTIL_INITS: AtomicU32 = AtomicU32::new(0);

/// Decrements a count that must not go below zero: an unbalanced call is a no-op.
fn count_down(c: &AtomicU32) {
    let _ = c.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
}

/// Counts one use of the MAPI runtime. `lpMapiInit` is NULL or a MAPIINIT_0 whose `ulVersion`
/// is MAPI_INIT_VERSION (0) — else MAPI_E_VERSION — and whose `ulFlags` hold only
/// MAPI_MULTITHREAD_NOTIFICATIONS and MAPI_NT_SERVICE — else MAPI_E_UNKNOWN_FLAGS. Each
/// successful call must be balanced by one MAPIUninitialize.
///
/// # Safety
/// `lpMapiInit` must be NULL or point to a readable MAPIINIT_0.
#[no_mangle]
pub unsafe extern "C" fn MAPIInitialize(lpMapiInit: LPVOID) -> HRESULT {
    guard::free_fn("MAPIInitialize", || {
        // SAFETY: NULL or a readable MAPIINIT_0 (caller's contract).
        if let Some(init) = unsafe { (lpMapiInit as *const MAPIINIT_0).as_ref() } {
            if init.ulVersion != MAPI_INIT_VERSION {
                return Err(MapiError::new(
                    MAPI_E_VERSION,
                    format!(
                        "MAPIInitialize: MAPIINIT_0.ulVersion is {}, not MAPI_INIT_VERSION (0)",
                        init.ulVersion
                    ),
                ));
            }
            crate::core::error::check_flags(
                "MAPIInitialize",
                init.ulFlags,
                MAPI_MULTITHREAD_NOTIFICATIONS | MAPI_NT_SERVICE,
            )?;
        }
        MAPI_INITS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_add(1))
            .map_err(|_| MapiError::new(MAPI_E_CALL_FAILED, "MAPIInitialize: count overflow"))?;
        Ok(S_OK)
    })
}

/// Balances one MAPIInitialize; a call with none outstanding does nothing.
#[no_mangle]
pub extern "C" fn MAPIUninitialize() {
    guard::free_fn_or("MAPIUninitialize", (), || count_down(&MAPI_INITS))
}

/// Counts one use of the utility subset by a program that does not call MAPIInitialize.
/// `ulFlags` is reserved: anything but 0 is MAPI_E_INVALID_PARAMETER.
#[no_mangle]
pub extern "C" fn ScInitMapiUtil(ulFlags: ULONG) -> SCODE {
    guard::free_fn("ScInitMapiUtil", || {
        if ulFlags != 0 {
            return Err(MapiError::invalid(format!(
                "ScInitMapiUtil: ulFlags must be 0 (got 0x{ulFlags:08X})"
            )));
        }
        UTIL_INITS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_add(1))
            .map_err(|_| MapiError::new(MAPI_E_CALL_FAILED, "ScInitMapiUtil: count overflow"))?;
        Ok(S_OK)
    })
}

/// Balances one ScInitMapiUtil; a call with none outstanding does nothing.
#[no_mangle]
pub extern "C" fn DeinitMapiUtil() {
    guard::free_fn_or("DeinitMapiUtil", (), || count_down(&UTIL_INITS))
}

/// Test hook: the outstanding MAPIInitialize calls in `*lpulMapi` and ScInitMapiUtil calls in
/// `*lpulUtil` (either may be NULL).
///
/// # Safety
/// Each pointer must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreInitCounts(lpulMapi: *mut ULONG, lpulUtil: *mut ULONG) -> HRESULT {
    guard::free_fn("MsgStoreInitCounts", || {
        // SAFETY: NULL or writable (caller's contract).
        if let Some(m) = unsafe { lpulMapi.as_mut() } {
            *m = MAPI_INITS.load(Ordering::Acquire);
        }
        // SAFETY: as above.
        if let Some(u) = unsafe { lpulUtil.as_mut() } {
            *u = UTIL_INITS.load(Ordering::Acquire);
        }
        Ok(S_OK)
    })
}

/// COM's memory allocator interface, as MAPIGetDefaultMalloc returns it.
#[repr(C)]
pub struct IMalloc {
    pub lpVtbl: *const IMallocVtbl,
}
pub type LPMALLOC = *mut IMalloc;

/// IMalloc's slots, in COM's order.
#[repr(C)]
pub struct IMallocVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMalloc,
        riid: *const IID,
        ppvObject: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMalloc) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMalloc) -> ULONG,
    pub Alloc: unsafe extern "C" fn(This: *mut IMalloc, cb: SIZE_T) -> LPVOID,
    pub Realloc: unsafe extern "C" fn(This: *mut IMalloc, pv: LPVOID, cb: SIZE_T) -> LPVOID,
    pub Free: unsafe extern "C" fn(This: *mut IMalloc, pv: LPVOID),
    pub GetSize: unsafe extern "C" fn(This: *mut IMalloc, pv: LPVOID) -> SIZE_T,
    pub DidAlloc: unsafe extern "C" fn(This: *mut IMalloc, pv: LPVOID) -> i32,
    pub HeapMinimize: unsafe extern "C" fn(This: *mut IMalloc),
}

/// cbindgen:ignore
/// The one static IMalloc object (its state is the C heap).
#[repr(transparent)]
struct StaticMalloc(IMalloc);
// SAFETY: the object is immutable (a pointer to an immutable static vtable).
unsafe impl Sync for StaticMalloc {}

static MALLOC_VTBL: IMallocVtbl = IMallocVtbl {
    QueryInterface: malloc_query_interface,
    AddRef: malloc_add_ref,
    Release: malloc_release,
    Alloc: malloc_alloc,
    Realloc: malloc_realloc,
    Free: malloc_free,
    GetSize: malloc_get_size,
    DidAlloc: malloc_did_alloc,
    HeapMinimize: malloc_heap_minimize,
};

static DEFAULT_MALLOC: StaticMalloc = StaticMalloc(IMalloc {
    lpVtbl: &MALLOC_VTBL,
});

/// MAPI's IMalloc: one static object (AddRef and Release do nothing and return 1, so Release
/// it or not as COM habit says). Its blocks are ordinary C heap blocks: Alloc is malloc,
/// Realloc realloc, Free free, GetSize the usable size of the block.
#[no_mangle]
pub extern "C" fn MAPIGetDefaultMalloc() -> LPMALLOC {
    guard::free_fn_or("MAPIGetDefaultMalloc", std::ptr::null_mut(), || {
        &DEFAULT_MALLOC.0 as *const IMalloc as LPMALLOC
    })
}

unsafe extern "C" fn malloc_query_interface(
    This: *mut IMalloc,
    riid: *const IID,
    ppvObject: *mut *mut c_void,
) -> HRESULT {
    guard::free_fn("IMalloc::QueryInterface", || {
        // SAFETY: NULL or writable (caller's contract).
        let out = unsafe { guard::cleared_out(ppvObject, "IMalloc::QueryInterface: ppvObject")? };
        // SAFETY: NULL or a readable IID.
        let iid = unsafe { riid.as_ref() }
            .ok_or_else(|| MapiError::invalid("IMalloc::QueryInterface: riid is NULL"))?;
        if This.is_null() {
            return Err(MapiError::invalid("IMalloc::QueryInterface: This is NULL"));
        }
        if *iid != IID_IUnknown && *iid != IID_IMalloc {
            return Err(MapiError::new(
                E_NOINTERFACE,
                "IMalloc::QueryInterface: only IUnknown and IMalloc",
            ));
        }
        *out = This as *mut c_void;
        Ok(S_OK)
    })
}

unsafe extern "C" fn malloc_add_ref(_This: *mut IMalloc) -> ULONG {
    guard::free_fn_ulong("IMalloc::AddRef", || 1)
}

unsafe extern "C" fn malloc_release(_This: *mut IMalloc) -> ULONG {
    guard::free_fn_ulong("IMalloc::Release", || 1)
}

unsafe extern "C" fn malloc_alloc(_This: *mut IMalloc, cb: SIZE_T) -> LPVOID {
    guard::free_fn_or("IMalloc::Alloc", std::ptr::null_mut(), || {
        // SAFETY: plain malloc.
        unsafe { libc::malloc(cb) }
    })
}

unsafe extern "C" fn malloc_realloc(_This: *mut IMalloc, pv: LPVOID, cb: SIZE_T) -> LPVOID {
    guard::free_fn_or("IMalloc::Realloc", std::ptr::null_mut(), || {
        // SAFETY: `pv` is NULL or a block from this allocator (caller's contract).
        unsafe { libc::realloc(pv, cb) }
    })
}

unsafe extern "C" fn malloc_free(_This: *mut IMalloc, pv: LPVOID) {
    guard::free_fn_or("IMalloc::Free", (), || {
        // SAFETY: `pv` is NULL or a block from this allocator (caller's contract).
        unsafe { libc::free(pv) }
    })
}

unsafe extern "C" fn malloc_get_size(_This: *mut IMalloc, pv: LPVOID) -> SIZE_T {
    guard::free_fn_or("IMalloc::GetSize", usize::MAX, || {
        if pv.is_null() {
            return usize::MAX; // COM: (SIZE_T)-1 for NULL
        }
        // SAFETY: a live block from this allocator (caller's contract).
        unsafe { libc::malloc_usable_size(pv) }
    })
}

unsafe extern "C" fn malloc_did_alloc(_This: *mut IMalloc, _pv: LPVOID) -> i32 {
    // COM: -1 means "cannot tell" (any heap block could be ours).
    guard::free_fn_or("IMalloc::DidAlloc", -1, || -1)
}

unsafe extern "C" fn malloc_heap_minimize(_This: *mut IMalloc) {
    guard::free_fn_or("IMalloc::HeapMinimize", (), || {})
}
