//! IStream (reference §1.5: slots 3–13 after IUnknown, in Wine's objidl order) over
//! `core::stream::PropStream`, opened by OpenProperty(…, IID_IStream, …) on messages,
//! attachments, embedded messages and folders. The rules (what Commit does, how long a stream
//! may be used, memory) are core/stream.rs's; this file checks pointers and converts.
//!
//! Errors follow OLE's IStream where it has one (winerror.h): a NULL buffer or out-pointer
//! STG_E_INVALIDPOINTER, writing a read-only stream STG_E_ACCESSDENIED, a seek before the start
//! or past 2^63 STG_E_INVALIDFUNCTION, unknown Commit/Stat flags STG_E_INVALIDFLAG;
//! LockRegion/UnlockRegion MAPI_E_NO_SUPPORT (issue 15; Stat's grfLocksSupported is 0). Stat
//! never returns a name (pwcsName NULL whatever the flags: there is no CoTaskMemAlloc here to
//! hand one out with, and a property stream has none). docs/BAD_INPUT.md rows 147–160.

use super::guard;
use super::iids::IID_IStream;
use super::interfaces::*;
use super::object::{self, ComClass, ComObject};
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::props::PropObject;
use crate::core::stream::{check_stat_flags, OpenRequest, PropStream, Stream};
use std::ffi::c_void;

/// cbindgen:ignore
pub struct StreamClass {
    stream: Box<dyn Stream>,
}

impl ComClass for StreamClass {
    type Interface = IStream;
    const IIDS: &'static [&'static GUID] = &[&IID_IStream];
    fn vtbl() -> &'static IStreamVtbl {
        &STREAM_VTBL
    }
}

type C = StreamClass;

const _: () = object::assert_com_layout::<C>();

static STREAM_VTBL: IStreamVtbl = IStreamVtbl {
    QueryInterface: object::query_interface::<C>,
    AddRef: object::add_ref::<C>,
    Release: object::release::<C>,
    Read: read,
    Write: write,
    Seek: seek,
    SetSize: set_size,
    CopyTo: copy_to,
    Commit: commit,
    Revert: revert,
    LockRegion: lock_region,
    UnlockRegion: unlock_region,
    Stat: stat,
    Clone: clone,
};

/// A new IStream object (one reference, the caller's).
pub fn new_stream(stream: Box<dyn Stream>) -> *mut IStream {
    ComObject::as_interface(ComObject::create(StreamClass { stream }))
}

/// OpenProperty(tag, IID_IStream, ulInterfaceOptions, ulFlags): a new stream on `prop`'s
/// property, one reference owned by the caller.
pub fn open_property_stream(
    prop: &dyn PropObject,
    tag: u32,
    interface_options: u32,
    flags: u32,
) -> MapiResult<*mut IUnknown> {
    let owner = prop.stream_owner().ok_or_else(|| {
        MapiError::new(
            MAPI_E_NO_SUPPORT,
            "OpenProperty: this object's properties do not open as streams",
        )
    })?;
    let stream = PropStream::open(
        prop,
        owner,
        OpenRequest {
            tag,
            interface_options,
            flags,
        },
    )?;
    Ok(new_stream(Box::new(stream)).cast())
}

fn null_pointer(what: &str) -> MapiError {
    MapiError::new(STG_E_INVALIDPOINTER, format!("{what} is NULL"))
}

/// Read's and Write's shared frame: the byte count (optional) is cleared first, `pv` must not be
/// NULL, and the count is set to what `transfer` moved.
///
/// # Safety
/// `pcb` is NULL or writable.
unsafe fn counted_transfer(
    pcb: *mut ULONG,
    pv_is_null: bool,
    pv_label: &str,
    transfer: impl FnOnce() -> MapiResult<usize>,
) -> MapiResult<HRESULT> {
    // SAFETY: `pcb` is NULL (as_mut checks) or writable (this function's contract).
    if let Some(c) = unsafe { pcb.as_mut() } {
        *c = 0;
    }
    if pv_is_null {
        return Err(null_pointer(pv_label));
    }
    let n = transfer()?;
    // SAFETY: as above.
    if let Some(c) = unsafe { pcb.as_mut() } {
        *c = n as ULONG;
    }
    Ok(S_OK)
}

/// Slot 3.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn read(
    This: *mut IStream,
    pv: *mut c_void,
    cb: ULONG,
    pcbRead: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `pv` is NULL or writable for `cb` bytes and `pcbRead` NULL or writable, as
    // Read's signature declares (the caller's side of the contract, DESIGN.md §2); NULL is
    // checked before any use.
    unsafe {
        guard::method::<C>(This, "Read", |obj| {
            counted_transfer(pcbRead, pv.is_null(), "Read: pv", || {
                let buf = std::slice::from_raw_parts_mut(pv.cast::<u8>(), cb as usize);
                obj.inner.stream.read(buf)
            })
        })
    }
}

/// Slot 4.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn write(
    This: *mut IStream,
    pv: *const c_void,
    cb: ULONG,
    pcbWritten: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `pv` is NULL or readable for `cb` bytes and `pcbWritten` NULL or writable,
    // as Write's signature declares (the caller's side of the contract, DESIGN.md §2); NULL is
    // checked before any use.
    unsafe {
        guard::method::<C>(This, "Write", |obj| {
            counted_transfer(pcbWritten, pv.is_null(), "Write: pv", || {
                let data = std::slice::from_raw_parts(pv.cast::<u8>(), cb as usize);
                obj.inner.stream.write(data)
            })
        })
    }
}

/// Slot 5.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn seek(
    This: *mut IStream,
    dlibMove: LARGE_INTEGER,
    dwOrigin: DWORD,
    plibNewPosition: *mut ULARGE_INTEGER,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `plibNewPosition` is NULL (not wanted) or writable, as Seek's signature
    // declares (the caller's side of the contract, DESIGN.md §2).
    unsafe {
        guard::method::<C>(This, "Seek", |obj| {
            let pos = obj.inner.stream.seek(dlibMove.QuadPart, dwOrigin)?;
            if let Some(out) = plibNewPosition.as_mut() {
                out.QuadPart = pos;
            }
            Ok(S_OK)
        })
    }
}

/// Slot 6.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn set_size(This: *mut IStream, libNewSize: ULARGE_INTEGER) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream.
    unsafe {
        guard::method::<C>(This, "SetSize", |obj| {
            obj.inner.stream.set_size(libNewSize.QuadPart)?;
            Ok(S_OK)
        })
    }
}

/// CopyTo's unit: read this much, then write it to the destination (no lock is held while the
/// destination, possibly client code or a clone of this stream, runs).
const COPY_CHUNK: usize = 64 << 10;

/// Slot 7.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn copy_to(
    This: *mut IStream,
    pstm: *mut IStream,
    cb: ULARGE_INTEGER,
    pcbRead: *mut ULARGE_INTEGER,
    pcbWritten: *mut ULARGE_INTEGER,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `pstm` is NULL or a live IStream (ours or the client's) and `pcbRead`,
    // `pcbWritten` NULL or writable, as CopyTo's signature declares (the caller's side of the
    // contract, DESIGN.md §2); NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CopyTo", |obj| {
            for out in [pcbRead, pcbWritten] {
                if let Some(o) = out.as_mut() {
                    o.QuadPart = 0;
                }
            }
            if pstm.is_null() {
                return Err(null_pointer("CopyTo: pstm"));
            }
            let vtbl = (*pstm).lpVtbl;
            if vtbl.is_null() {
                return Err(null_pointer("CopyTo: pstm's vtable"));
            }
            let mut buf = Vec::new();
            buf.try_reserve_exact(COPY_CHUNK)
                .map_err(|_| MapiError::new(STG_E_INSUFFICIENTMEMORY, "CopyTo: no memory"))?;
            buf.resize(COPY_CHUNK, 0);
            let (mut read, mut written) = (0u64, 0u64);
            let mut result = Ok(S_OK);
            while read < cb.QuadPart {
                let want = (cb.QuadPart - read).min(COPY_CHUNK as u64) as usize;
                let n = obj.inner.stream.read(&mut buf[..want])?;
                if n == 0 {
                    break;
                }
                read += n as u64;
                let mut done: ULONG = 0;
                let hr = ((*vtbl).Write)(pstm, buf.as_ptr().cast(), n as ULONG, &mut done);
                written += u64::from(done);
                if hr < 0 {
                    result = Err(MapiError::new(
                        hr,
                        "CopyTo: the destination stream's Write failed",
                    ));
                    break;
                }
                if (done as usize) < n {
                    break;
                }
            }
            if let Some(o) = pcbRead.as_mut() {
                o.QuadPart = read;
            }
            if let Some(o) = pcbWritten.as_mut() {
                o.QuadPart = written;
            }
            result
        })
    }
}

/// Slot 8.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn commit(This: *mut IStream, grfCommitFlags: DWORD) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream.
    unsafe {
        guard::method::<C>(This, "Commit", |obj| {
            obj.inner.stream.commit(grfCommitFlags)?;
            Ok(S_OK)
        })
    }
}

/// Slot 9.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn revert(This: *mut IStream) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream.
    unsafe {
        guard::method::<C>(This, "Revert", |obj| {
            obj.inner.stream.revert()?;
            Ok(S_OK)
        })
    }
}

/// Slot 10.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn lock_region(
    This: *mut IStream,
    _libOffset: ULARGE_INTEGER,
    _cb: ULARGE_INTEGER,
    _dwLockType: DWORD,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream.
    unsafe {
        guard::method::<C>(This, "LockRegion", |_| {
            Err(MapiError::no_support("LockRegion"))
        })
    }
}

/// Slot 11.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn unlock_region(
    This: *mut IStream,
    _libOffset: ULARGE_INTEGER,
    _cb: ULARGE_INTEGER,
    _dwLockType: DWORD,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream.
    unsafe {
        guard::method::<C>(This, "UnlockRegion", |_| {
            Err(MapiError::no_support("UnlockRegion"))
        })
    }
}

/// Slot 12.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn stat(
    This: *mut IStream,
    pstatstg: *mut STATSTG,
    grfStatFlag: DWORD,
) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `pstatstg` is NULL or writable, as Stat's signature declares (the caller's
    // side of the contract, DESIGN.md §2); NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "Stat", |obj| {
            if pstatstg.is_null() {
                return Err(null_pointer("Stat: pstatstg"));
            }
            // Zeroed first: on failure the caller finds no stale pointer in pwcsName.
            std::ptr::write_bytes(pstatstg, 0, 1);
            let out = &mut *pstatstg;
            check_stat_flags(grfStatFlag)?;
            let s = &obj.inner.stream;
            out.r#type = STGTY_STREAM;
            out.cbSize.QuadPart = s.size()?;
            out.grfMode = s.mode();
            Ok(S_OK)
        })
    }
}

/// Slot 13.
///
/// # Safety
/// Called through our vtable only.
unsafe extern "C" fn clone(This: *mut IStream, ppstm: *mut *mut IStream) -> HRESULT {
    // SAFETY: `This` came through the stream vtable, so it is NULL (guard::method checks) or a
    // live stream; `ppstm` is NULL or writable, as Clone's signature declares (the caller's side
    // of the contract, DESIGN.md §2); NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "Clone", |obj| {
            let out = ppstm.as_mut().ok_or_else(|| null_pointer("Clone: ppstm"))?;
            *out = std::ptr::null_mut();
            *out = new_stream(obj.inner.stream.try_clone()?);
            Ok(S_OK)
        })
    }
}
