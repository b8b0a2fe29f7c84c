//! The client's IMAPIAdviseSink (core/notify.rs delivers; this turns events into NOTIFICATIONs).
//! A sink is held with one reference from Advise until its connection's delivery thread ends
//! (after Unadvise or the release of its store or table), and called on that thread with a
//! block that is freed when OnNotify returns (MAPI: valid only during the call).

use super::alloc::{Allocator, BlockWriter};
use super::interfaces::*;
use super::object::{foreign_add_ref, foreign_release};
use super::types::*;
use crate::core::ids::{entry_id, ENTRYID_LEN};
use crate::core::mapidefs::*;
use crate::core::notify::{parent_type, Event, EventKind, Sink};
use crate::core::store::Store;
use std::ffi::c_void;
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Weak;

/// One reference on a client's advise sink; dropping it Releases that reference.
/// cbindgen:ignore
pub struct SinkRef(*mut IMAPIAdviseSink);

// SAFETY: MAPI lets OnNotify run on any thread (reference §7.1, D:imsgstore-advise), and a sink
// is called by one delivery thread at a time; the pointer is only used through its vtable.
unsafe impl Send for SinkRef {}
// SAFETY: as above.
unsafe impl Sync for SinkRef {}

impl SinkRef {
    /// Takes a new reference on `p`.
    ///
    /// # Safety
    /// `p` must be a live IMAPIAdviseSink.
    pub unsafe fn add_ref(p: *mut IMAPIAdviseSink) -> SinkRef {
        // SAFETY: `p` is a live COM object (the contract).
        unsafe { foreign_add_ref(p as *mut c_void) };
        SinkRef(p)
    }

    /// Hands `count` NOTIFICATIONs built by `fill` (with `extra` bytes for what they point to)
    /// to OnNotify, then frees them. A block that cannot be allocated is not delivered (the
    /// events are hints; nothing else can be done on this thread).
    fn deliver(
        &self,
        count: usize,
        extra: usize,
        fill: impl FnOnce(&mut [NOTIFICATION], &mut BlockWriter),
    ) {
        let fixed = count * size_of::<NOTIFICATION>();
        let len = fixed + extra;
        let Ok(block) = Allocator::MAPI.block(len) else {
            return;
        };
        let built = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `block` is a fresh zeroed 8-aligned block of `len` bytes, written only
            // through `notes` (its first `fixed` bytes) and the writer (the rest).
            let mut writer = unsafe { BlockWriter::new(block, len, fixed) };
            // SAFETY: the first `fixed` bytes hold `count` NOTIFICATIONs, zeroed (a valid value:
            // integers and NULL pointers).
            let notes =
                unsafe { std::slice::from_raw_parts_mut(block as *mut NOTIFICATION, count) };
            fill(notes, &mut writer);
        }));
        if built.is_ok() {
            // SAFETY: `self.0` is a live sink we hold a reference on; the block holds `count`
            // filled NOTIFICATIONs for the length of the call.
            unsafe {
                let vtbl = (*self.0).lpVtbl;
                ((*vtbl).OnNotify)(self.0, count as ULONG, block as *mut NOTIFICATION);
            }
        }
        // SAFETY: `block` is a root block from MAPIAllocateBuffer, no longer used.
        unsafe { Allocator::MAPI.free(block as *mut c_void) };
    }
}

impl Drop for SinkRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference, taken in `add_ref`.
        unsafe { foreign_release(self.0 as *mut c_void) };
    }
}

/// A store's advise connection: fnevObject* and fnevNewMail notifications with long-term entry
/// IDs.
/// cbindgen:ignore
pub struct ObjectSink {
    pub sink: SinkRef,
    pub guid: [u8; 16],
    /// Where a new-mail notification's message class and flags are read (weak: the store owns
    /// its connections).
    pub store: Weak<Store>,
}

impl Sink for ObjectSink {
    fn notify(&self, events: &[Event]) {
        // A new mail's class and flags, read now (the event carries IDs only).
        let details: Vec<Option<(Vec<u8>, u32)>> = events
            .iter()
            .map(|e| {
                (e.kind == EventKind::NewMail).then(|| {
                    self.store
                        .upgrade()
                        .map_or((Vec::new(), 0), |s| s.new_mail_details(e.id))
                })
            })
            .collect();
        // At most four entry IDs per event, and each class with its NUL.
        let extra = events.len() * 4 * ENTRYID_LEN
            + details
                .iter()
                .flatten()
                .map(|(class, _)| class.len() + 8)
                .sum::<usize>();
        self.sink.deliver(events.len(), extra, |notes, w| {
            let id_of = |w: &mut BlockWriter, kind: ULONG, id: Option<u64>| -> (ULONG, LPENTRYID) {
                match id {
                    Some(id) => (
                        ENTRYID_LEN as ULONG,
                        w.bytes(&entry_id(&self.guid, kind, id), 0) as LPENTRYID,
                    ),
                    None => (0, ptr::null_mut()),
                }
            };
            for ((n, e), detail) in notes.iter_mut().zip(events).zip(&details) {
                n.ulEventType = e.kind.mask_bit();
                if let Some((class, flags)) = detail {
                    let (cb, lp) = id_of(w, MAPI_MESSAGE, Some(e.id));
                    let (cbp, lpp) = id_of(w, MAPI_FOLDER, e.parent);
                    n.info.newmail = NEWMAIL_NOTIFICATION {
                        cbEntryID: cb,
                        lpEntryID: lp,
                        cbParentID: cbp,
                        lpParentID: lpp,
                        ulFlags: 0,
                        lpszMessageClass: w.bytes(class, 1) as LPSTR,
                        ulMessageFlags: *flags,
                    };
                    continue;
                }
                let ty = e.object_type();
                let (cb, lp) = id_of(w, ty, Some(e.id));
                let (cbp, lpp) = id_of(w, e.parent.map_or(MAPI_FOLDER, parent_type), e.parent);
                let (cbo, lpo) = match e.kind {
                    EventKind::Moved | EventKind::Copied => id_of(w, ty, e.old_id),
                    _ => (0, ptr::null_mut()),
                };
                let (cbop, lpop) = match e.kind {
                    EventKind::Moved | EventKind::Copied => id_of(
                        w,
                        e.old_parent.map_or(MAPI_FOLDER, parent_type),
                        e.old_parent,
                    ),
                    _ => (0, ptr::null_mut()),
                };
                n.info.obj = OBJECT_NOTIFICATION {
                    cbEntryID: cb,
                    lpEntryID: lp,
                    ulObjType: ty,
                    cbParentID: cbp,
                    lpParentID: lpp,
                    cbOldID: cbo,
                    lpOldID: lpo,
                    cbOldParentID: cbop,
                    lpOldParentID: lpop,
                    lpPropTagArray: ptr::null_mut(),
                };
            }
        });
    }
}

/// A table's advise connection: one fnevTableModified per batch, TABLE_CHANGED (re-read the
/// rows; bookmarks stay valid), or TABLE_RELOAD after a resync.
/// cbindgen:ignore
pub struct TableSink {
    pub sink: SinkRef,
}

impl Sink for TableSink {
    fn notify(&self, events: &[Event]) {
        let reload = events.iter().any(|e| e.kind == EventKind::Resync);
        self.sink.deliver(1, 0, |notes, _| {
            let n = &mut notes[0];
            n.ulEventType = fnevTableModified;
            // SAFETY: `tab` is the union member written here; the union is zeroed, and every
            // member is plain data.
            let tab = unsafe { &mut n.info.tab };
            tab.ulTableEvent = if reload { TABLE_RELOAD } else { TABLE_CHANGED };
            tab.hResult = S_OK;
            // No row data: the index and prior carry PR_NULL, never 0 (reference §10.8).
            tab.propIndex.ulPropTag = PR_NULL;
            tab.propPrior.ulPropTag = PR_NULL;
        });
    }
}
