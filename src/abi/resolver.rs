//! The client's conflict resolver (DESIGN.md §5): kept by the store with one reference, called
//! on the saving thread with no store lock held, handed everything borrowed for the call.

use super::alloc::Allocator;
use super::convert::tag_array_out;
use super::folder;
use super::interfaces::*;
use super::message;
use super::object::{foreign_add_ref, foreign_release, ComObject};
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::message::Message;
use crate::core::resolve::{Conflict, ConflictResolver, Decision};
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;

/// One reference on a client's resolver; dropping it Releases that reference.
/// cbindgen:ignore
pub struct ResolverRef(*mut IMsgStoreConflictResolver);

// SAFETY: DESIGN.md §5 makes it the client's promise that its resolver may be called from any
// thread; the pointer itself is only used through the resolver's vtable.
unsafe impl Send for ResolverRef {}
// SAFETY: as above: any thread may call it, concurrently included.
unsafe impl Sync for ResolverRef {}

impl ResolverRef {
    /// Takes a new reference on `p`.
    ///
    /// # Safety
    /// `p` must be a live resolver object.
    pub unsafe fn add_ref(p: *mut IMsgStoreConflictResolver) -> ResolverRef {
        // SAFETY: `p` is a live COM object (the contract).
        unsafe { foreign_add_ref(p as *mut c_void) };
        ResolverRef(p)
    }
}

impl Drop for ResolverRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference, taken in `add_ref`.
        unsafe { foreign_release(self.0 as *mut c_void) };
    }
}

thread_local! {
    /// The messages whose SaveChanges slot is running on this thread, innermost last, with the
    /// interface pointer each was called through: the resolver is handed that pointer.
    static SAVING: RefCell<Vec<(*const Message, *mut IMessage)>> = const { RefCell::new(Vec::new()) };
}

/// Marks `msg` as being saved through `This` on this thread while it lives.
pub struct Saving(());

impl Saving {
    pub fn enter(This: *mut IMessage, msg: &Message) -> Saving {
        SAVING.with(|s| s.borrow_mut().push((msg as *const Message, This)));
        Saving(())
    }
}

impl Drop for Saving {
    fn drop(&mut self) {
        SAVING.with(|s| s.borrow_mut().pop());
    }
}

impl ConflictResolver for ResolverRef {
    fn resolve(&self, saving: &Message, conflict: Conflict) -> MapiResult<Decision> {
        let this = SAVING.with(|s| {
            s.borrow()
                .iter()
                .rev()
                .find(|(m, _)| ptr::eq(*m, saving))
                .map(|(_, this)| *this)
        });
        let this = this.ok_or_else(|| {
            MapiError::new(
                MAPI_E_CALL_FAILED,
                "the message in conflict was not saved through its COM object",
            )
        })?;
        // SAFETY: `this` is the interface pointer whose SaveChanges slot is running on this
        // thread (its `Saving` mark is still on the stack), so the object is alive.
        let (action, dest_folder) = unsafe { ask(self, this, conflict)? };
        Ok(match action {
            MSGSTORE_RESOLVE_KEEP_ORIGINAL => Decision::KeepOriginal,
            MSGSTORE_RESOLVE_OVERWRITE => Decision::Overwrite,
            MSGSTORE_RESOLVE_SAVE_ELSEWHERE => Decision::SaveElsewhere { dest_folder },
            MSGSTORE_RESOLVE_MERGE => Decision::Merge,
            other => Decision::Unknown(other),
        })
    }
}

/// Temporary MAPIAllocateBuffer blocks freed when the call is over.
struct Blocks(Vec<*mut c_void>);

impl Blocks {
    /// # Safety
    /// `p` must be a root block from Allocator::MAPI that nothing else frees.
    unsafe fn push(&mut self, p: *mut c_void) {
        self.0.push(p);
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        for p in self.0.drain(..) {
            // SAFETY: each was made by Allocator::MAPI and is freed once (`push`'s contract).
            unsafe { Allocator::MAPI.free(p) };
        }
    }
}

/// Asks the resolver to decide `conflict` for the message `This` is saving; returns its action
/// and, where it named one of this store's folders, that folder.
///
/// # Safety
/// `This` must be the live message object whose SaveChanges is running.
unsafe fn ask(
    resolver: &ResolverRef,
    This: *mut IMessage,
    conflict: Conflict,
) -> MapiResult<(ULONG, Option<u64>)> {
    let mut blocks = Blocks(Vec::new());
    let theirs = tag_array_out(Allocator::MAPI, &conflict.their_changes)?;
    // SAFETY: a fresh Allocator::MAPI block, freed by nothing else.
    unsafe { blocks.push(theirs as *mut c_void) };
    let mine = tag_array_out(Allocator::MAPI, &conflict.my_changes)?;
    // SAFETY: as above.
    unsafe { blocks.push(mine as *mut c_void) };
    // The saving message's store: a destination folder must be of this very store (by identity,
    // not by GUID: a copied file may share its GUID).
    let store = conflict
        .stored
        .as_ref()
        .map(|m| m.store().clone())
        // SAFETY: `This` is a live message object (the contract).
        .or_else(|| unsafe { message::ours(This as *mut c_void) }.map(|m| m.store().clone()));
    let stored = conflict
        .stored
        .map(message::new_object)
        .unwrap_or(ptr::null_mut());
    let mut entry_id = conflict.entry_id;
    let info = MSGCONFLICT {
        ulFlags: if conflict.deleted {
            MSGCONFLICT_DELETED
        } else {
            0
        },
        cbEntryID: entry_id.len() as u32,
        lpEntryID: if entry_id.is_empty() {
            ptr::null_mut()
        } else {
            entry_id.as_mut_ptr() as LPENTRYID
        },
        lpTheirChanges: theirs,
        lpMyChanges: mine,
        lpStored: stored,
    };
    let mut action: ULONG = 0;
    let mut dest: *mut IMAPIFolder = ptr::null_mut();
    // SAFETY: `resolver` holds a reference on a live resolver, whose vtable has
    // IMsgStoreConflictResolver's layout; everything passed is valid for the call (`info` and
    // what it points to live until after it returns, `action` and `dest` are out-pointers). The
    // caller holds no lock of ours (DESIGN.md §5).
    let hr = unsafe {
        let vtbl = &*(*resolver.0).lpVtbl;
        (vtbl.ResolveConflict)(resolver.0, This, &info, &mut action, &mut dest)
    };
    if !stored.is_null() {
        // Our reference; the resolver AddRefs the stored version if it keeps it.
        // SAFETY: `stored` is the MessageClass object made above, on which we own a reference.
        unsafe { ComObject::<message::MessageClass>::release(stored as *mut _) };
    }
    let dest_folder = if dest.is_null() {
        None
    } else {
        // SAFETY: a non-NULL `*lppDestFolder` is a folder the resolver AddRef'd for us (§5): a
        // live COM object on which we own the reference released here, once, after its last use.
        let ours = unsafe { folder::ours(dest as *mut c_void) }
            .filter(|f| store.as_ref().is_some_and(|s| s.same_store(f.store())))
            .map(|f| f.id());
        // SAFETY: as above.
        unsafe { foreign_release(dest as *mut c_void) };
        Some(ours)
    };
    if hr < 0 {
        return Err(MapiError::new(
            hr,
            "the conflict resolver returned a failure",
        ));
    }
    let dest_folder = match dest_folder {
        None => None,
        Some(Some(id)) => Some(id),
        Some(None) if action == MSGSTORE_RESOLVE_SAVE_ELSEWHERE => {
            return Err(MapiError::invalid(
                "the folder the resolver named is not a folder of this store",
            ))
        }
        Some(None) => None,
    };
    Ok((action, dest_folder))
}
