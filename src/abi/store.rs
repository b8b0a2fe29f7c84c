//! IMsgStore: `MsgStoreOpen`, the store object's vtable, and `MsgStoreSetConflictResolver`.

use super::entry::{entry_id_in, open_entry, required_entry_id};
use super::guard;
use super::iids::*;
use super::interfaces::*;
use super::notify::{ObjectSink, SinkRef};
use super::object::{self, ComClass, ComObject};
use super::prop::{self, not_supported, PropClass};
use super::resolver::ResolverRef;
use super::types::*;
use crate::core::error::{check_flags, MapiError};
use crate::core::mapidefs::*;
use crate::core::props::PropObject;
use crate::core::store::{Store, StoreObject};
use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

/// cbindgen:ignore
pub struct StoreClass {
    obj: StoreObject,
}

impl Drop for StoreClass {
    fn drop(&mut self) {
        // DESIGN.md §5: the store Releases the resolver when it is itself released.
        drop(self.obj.store.take_resolver());
        // And its advise connections (not its tables': they live with the tables).
        self.obj.store.unadvise_all();
    }
}

impl ComClass for StoreClass {
    type Interface = IMsgStore;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IMsgStore];
    fn vtbl() -> &'static IMsgStoreVtbl {
        &STORE_VTBL
    }
}

impl PropClass for StoreClass {
    fn prop(&self) -> &dyn PropObject {
        &self.obj
    }
}

type C = StoreClass;
type I = <C as ComClass>::Interface;

const _: () = object::assert_com_layout::<C>();

static STORE_VTBL: IMsgStoreVtbl = prop::prop_vtbl!(IMsgStoreVtbl<C> {
    SaveChanges: prop::save_changes::<C>,
    Advise: advise,
    Unadvise: unadvise,
    CompareEntryIDs: compare_entry_ids,
    OpenEntry: store_open_entry,
    SetReceiveFolder: set_receive_folder,
    GetReceiveFolder: get_receive_folder,
    GetReceiveFolderTable: get_receive_folder_table,
    StoreLogoff: store_logoff,
    AbortSubmit: abort_submit,
    GetOutgoingQueue: get_outgoing_queue,
    SetLockState: set_lock_state,
    FinishedMsg: finished_msg,
    NotifyNewMail: notify_new_mail,
});

/// The store behind `p` if it is one of our IMsgStore objects.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn ours<'a>(p: *mut c_void) -> Option<&'a Arc<Store>> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.obj.store)
}

/// The store object's properties behind `p`, if it is one of our IMsgStore objects.
///
/// # Safety
/// As for [`ours`].
pub unsafe fn ours_object<'a>(p: *mut c_void) -> Option<&'a dyn PropObject> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.obj as &dyn PropObject)
}

/// Opens the store file at the UTF-8 path `lpszPath` (DESIGN.md §2). `MAPI_CREATE` creates it
/// if absent (mode 0600; needs `MDB_WRITE`); `MDB_WRITE` opens it read-write, otherwise it is
/// read-only and every write returns MAPI_E_NO_ACCESS; `MAPI_BEST_ACCESS` takes write access
/// where the file allows it; `MSGSTORE_NO_SYNC` trades machine-crash durability for speed.
/// A missing file gives MAPI_E_NOT_FOUND, a file that is not a store or is damaged
/// MAPI_E_CORRUPT_STORE. `*lppMDB` receives a new store object (release it with Release);
/// each call is an independent handle, with its own connection to the file.
///
/// # Safety
/// `lpszPath` must be NULL or NUL-terminated; `lppMDB` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreOpen(
    lpszPath: *const c_char,
    ulFlags: ULONG,
    lppMDB: *mut LPMDB,
) -> HRESULT {
    // SAFETY: `lpszPath`, `lppMDB` are NULL or valid for the reads and writes that MsgStoreOpen's
    // signature declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked
    // before any use.
    unsafe {
        guard::free_fn("MsgStoreOpen", || {
            let out = guard::cleared_out(lppMDB, "MsgStoreOpen: lppMDB")?;
            if lpszPath.is_null() {
                return Err(MapiError::invalid("MsgStoreOpen: lpszPath is NULL"));
            }
            let path = CStr::from_ptr(lpszPath)
                .to_str()
                .map_err(|_| MapiError::invalid("MsgStoreOpen: lpszPath is not UTF-8"))?;
            let store = Store::open(path, ulFlags).map_err(|e| {
                MapiError::new(e.code, format!("MsgStoreOpen({path}): {}", e.message))
            })?;
            *out = ComObject::as_interface(ComObject::create(StoreClass {
                obj: StoreObject { store },
            }));
            Ok(S_OK)
        })
    }
}

/// Registers `lpResolver` on the store handle `lpMDB` (NULL clears). The store AddRefs the
/// resolver and Releases it when it is cleared, replaced, or when the store object is released.
/// It is called from SaveChanges of any message opened through this handle, on the saving
/// thread, with no store lock held (DESIGN.md §5).
///
/// # Safety
/// `lpMDB` must be NULL or a live COM object; `lpResolver` NULL or a live resolver.
#[no_mangle]
pub unsafe extern "C" fn MsgStoreSetConflictResolver(
    lpMDB: LPMDB,
    lpResolver: LPMSGSTORECONFLICTRESOLVER,
) -> HRESULT {
    // SAFETY: `lpMDB`, `lpResolver` are NULL or valid for the reads and writes that
    // MsgStoreSetConflictResolver's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::free_fn("MsgStoreSetConflictResolver", || {
            let store = ours(lpMDB as *mut c_void).ok_or_else(|| {
                MapiError::invalid(
                    "MsgStoreSetConflictResolver: lpMDB is not a msgstore store object",
                )
            })?;
            let new = if lpResolver.is_null() {
                None
            } else {
                Some(Arc::new(ResolverRef::add_ref(lpResolver)) as Arc<_>)
            };
            // The previous resolver is released here, outside the store's lock.
            drop(store.set_resolver(new));
            Ok(S_OK)
        })
    }
}

/// Advise: `lpEntryID` NULL (cbEntryID 0) for the whole store, else an object of this store;
/// events are delivered on a library thread (core/notify.rs, abi/notify.rs).
unsafe extern "C" fn advise(
    This: *mut I,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    ulEventMask: ULONG,
    lpAdviseSink: *mut IMAPIAdviseSink,
    lpulConnection: *mut ULONG_PTR,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID`, `lpAdviseSink`, `lpulConnection` are NULL or
    // valid for the reads and writes that Advise's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "Advise", |obj| {
            let out = guard::out_ptr(lpulConnection, "Advise: lpulConnection")?;
            *out = 0;
            if lpAdviseSink.is_null() {
                return Err(MapiError::invalid("Advise: lpAdviseSink is NULL"));
            }
            let entry = entry_id_in(cbEntryID, lpEntryID, "Advise: lpEntryID")?;
            let store = &obj.inner.obj.store;
            let sink = Arc::new(ObjectSink {
                sink: SinkRef::add_ref(lpAdviseSink),
                guid: *store.guid(),
                store: Arc::downgrade(store),
            });
            *out = store.advise(entry, ulEventMask, sink)? as ULONG_PTR;
            Ok(S_OK)
        })
    }
}

/// Unadvise: the sink is released once a call into it in progress returns.
unsafe extern "C" fn unadvise(This: *mut I, ulConnection: ULONG_PTR) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "Unadvise", |obj| {
            obj.inner.obj.store.unadvise(ulConnection as u64)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn compare_entry_ids(
    This: *mut I,
    cbEntryID1: ULONG,
    lpEntryID1: LPENTRYID,
    cbEntryID2: ULONG,
    lpEntryID2: LPENTRYID,
    ulFlags: ULONG,
    lpulResult: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID1`, `lpEntryID2`, `lpulResult` are NULL or valid for
    // the reads and writes that CompareEntryIDs's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CompareEntryIDs", |obj| {
            let out = guard::out_ptr(lpulResult, "CompareEntryIDs: lpulResult")?;
            *out = 0;
            let a = required_entry_id(cbEntryID1, lpEntryID1, "CompareEntryIDs: lpEntryID1")?;
            let b = required_entry_id(cbEntryID2, lpEntryID2, "CompareEntryIDs: lpEntryID2")?;
            *out = obj.inner.obj.store.compare_entry_ids(a, b, ulFlags)? as ULONG;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn store_open_entry(
    This: *mut I,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lpulObjType: *mut ULONG,
    lppUnk: *mut *mut IUnknown,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID`, `lpInterface`, `lpulObjType`, `lppUnk` are NULL
    // or valid for the reads and writes that OpenEntry's signature declares (the caller's side of
    // the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "OpenEntry", |obj| {
            open_entry(
                &obj.inner.obj.store,
                cbEntryID,
                lpEntryID,
                lpInterface,
                ulFlags,
                lpulObjType,
                lppUnk,
            )
        })
    }
}

unsafe extern "C" fn set_receive_folder(
    This: *mut I,
    _lpszMessageClass: LPTSTR,
    _ulFlags: ULONG,
    _cbEntryID: ULONG,
    _lpEntryID: LPENTRYID,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "SetReceiveFolder", |_| {
            not_supported("SetReceiveFolder")
        })
    }
}

unsafe extern "C" fn get_receive_folder(
    This: *mut I,
    _lpszMessageClass: LPTSTR,
    _ulFlags: ULONG,
    lpcbEntryID: *mut ULONG,
    lppEntryID: *mut LPENTRYID,
    lppszExplicitClass: *mut LPTSTR,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpcbEntryID`, `lppEntryID`, `lppszExplicitClass` are NULL or
    // valid for the reads and writes that GetReceiveFolder's signature declares (the caller's
    // side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetReceiveFolder", |_| {
            if let Some(cb) = lpcbEntryID.as_mut() {
                *cb = 0;
            }
            guard::optional_out(lppEntryID);
            guard::optional_out(lppszExplicitClass);
            not_supported("GetReceiveFolder")
        })
    }
}

unsafe extern "C" fn get_receive_folder_table(
    This: *mut I,
    _ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetReceiveFolderTable's signature declares (the caller's side of the contract, DESIGN.md
    // §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetReceiveFolderTable", |_| {
            guard::optional_out(lppTable);
            not_supported("GetReceiveFolderTable")
        })
    }
}

/// StoreLogoff: nothing is queued in this provider, so logoff completes at once; the in/out
/// flags come back 0 (no inbound or outbound operation was pending).
unsafe extern "C" fn store_logoff(This: *mut I, lpulFlags: *mut ULONG) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulFlags` is NULL or valid for the reads and writes that
    // StoreLogoff's signature declares (the caller's side of the contract, DESIGN.md §2), and
    // NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "StoreLogoff", |_| {
            let flags = guard::out_ptr(lpulFlags, "StoreLogoff: lpulFlags")?;
            check_flags(
                "StoreLogoff",
                *flags,
                LOGOFF_NO_WAIT
                    | LOGOFF_ORDERLY
                    | LOGOFF_PURGE
                    | LOGOFF_ABORT
                    | LOGOFF_QUIET
                    | LOGOFF_INBOUND
                    | LOGOFF_OUTBOUND,
            )?;
            *flags = 0;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn abort_submit(
    This: *mut I,
    _cbEntryID: ULONG,
    _lpEntryID: LPENTRYID,
    _ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "AbortSubmit", |_| not_supported("AbortSubmit")) }
}

unsafe extern "C" fn get_outgoing_queue(
    This: *mut I,
    _ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetOutgoingQueue's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetOutgoingQueue", |_| {
            guard::optional_out(lppTable);
            not_supported("GetOutgoingQueue")
        })
    }
}

unsafe extern "C" fn set_lock_state(
    This: *mut I,
    _lpMessage: *mut IMessage,
    _ulLockState: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "SetLockState", |_| not_supported("SetLockState")) }
}

unsafe extern "C" fn finished_msg(
    This: *mut I,
    _ulFlags: ULONG,
    _cbEntryID: ULONG,
    _lpEntryID: LPENTRYID,
) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "FinishedMsg", |_| not_supported("FinishedMsg")) }
}

/// NotifyNewMail: the spooler's (or any caller's) word that the stored message its
/// NEWMAIL_NOTIFICATION names has arrived; every advise connection on the store or on the
/// message's folder, in any process or host, gets fnevNewMail (core::store::notify_new_mail).
/// The class and flags told are the stored message's.
unsafe extern "C" fn notify_new_mail(This: *mut I, lpNotification: *mut NOTIFICATION) -> HRESULT {
    // SAFETY: `This` came through `StoreClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpNotification` is NULL or a NOTIFICATION whose
    // fnevNewMail member's entry ID is valid for cbEntryID bytes (the caller's side of the
    // contract, DESIGN.md §2); NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "NotifyNewMail", |obj| {
            if lpNotification.is_null() {
                return Err(MapiError::invalid("NotifyNewMail: lpNotification is NULL"));
            }
            let note = &*lpNotification;
            if note.ulEventType != fnevNewMail {
                return Err(MapiError::invalid(format!(
                    "NotifyNewMail: ulEventType is 0x{:x}, not fnevNewMail",
                    note.ulEventType
                )));
            }
            let newmail = note.info.newmail;
            if newmail.cbEntryID == 0 || newmail.lpEntryID.is_null() {
                return Err(MapiError::invalid(
                    "NotifyNewMail: the notification names no message (lpEntryID)",
                ));
            }
            let entry = entry_id_in(
                newmail.cbEntryID,
                newmail.lpEntryID,
                "NotifyNewMail: lpEntryID",
            )?
            .unwrap_or_default();
            obj.inner.obj.store.notify_new_mail(entry)?;
            Ok(S_OK)
        })
    }
}
