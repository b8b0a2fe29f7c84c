//! The objects one input works on (a pool of COM pointers, each holding one reference) and the
//! operations the fuzz bytes choose among, every one a vtable call a C client could make.

use crate::common::*;
use crate::foreign::{self, ForeignProp, Resolver};
use crate::tables;
use msgstore::abi::alloc::{MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer};
use msgstore::abi::interfaces::*;
use msgstore::abi::propdata::CreateIProp;
use msgstore::abi::store::{MsgStoreOpen, MsgStoreSetConflictResolver};
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::atomic::Ordering;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Store,
    Folder,
    Message,
    /// An IAttach of a message (or of an embedded message).
    Attach,
    PropData,
    Foreign,
}

#[derive(Clone, Copy)]
pub struct Obj {
    pub p: *mut IMAPIProp,
    pub kind: Kind,
    /// How this object's results are freed.
    pub free: FreeFn,
}

/// Enough objects to make every pairing, few enough to stay fast.
const MAX_OBJECTS: usize = 10;
const MAX_ENTRY_IDS: usize = 8;

pub struct World {
    pub objs: Vec<Obj>,
    /// Entry IDs seen (messages saved, folders made): what OpenEntry and DeleteMessages get.
    pub entry_ids: Vec<Vec<u8>>,
    /// The store file, when the input has one.
    pub path: Option<CString>,
    pub resolver: Option<*mut Resolver>,
    pub last_hr: HRESULT,
}

unsafe fn vt<'a>(p: *mut IMAPIProp) -> &'a IMAPIPropVtbl {
    &*(*p).lpVtbl
}

impl World {
    pub fn new() -> Self {
        World {
            objs: Vec::new(),
            entry_ids: Vec::new(),
            path: None,
            resolver: None,
            last_hr: S_OK,
        }
    }

    pub fn add(&mut self, p: *mut c_void, kind: Kind, free: FreeFn) {
        assert!(!p.is_null());
        if self.objs.len() >= MAX_OBJECTS {
            // SAFETY: `p` is a live object we own a reference on.
            unsafe { (vt(p as *mut IMAPIProp).Release)(p as *mut IMAPIProp) };
            return;
        }
        self.objs.push(Obj {
            p: p as *mut IMAPIProp,
            kind,
            free,
        });
    }

    fn pick(&self, r: &mut Reader) -> Option<Obj> {
        if self.objs.is_empty() {
            return None;
        }
        Some(self.objs[r.below(self.objs.len())])
    }

    /// One of the library's objects (the harness never calls its own foreign ones directly).
    fn pick_ours(&self, r: &mut Reader) -> Option<Obj> {
        self.pick_kind(
            r,
            &[
                Kind::Store,
                Kind::Folder,
                Kind::Message,
                Kind::Attach,
                Kind::PropData,
            ],
        )
    }

    fn pick_kind(&self, r: &mut Reader, kinds: &[Kind]) -> Option<Obj> {
        let of: Vec<Obj> = self
            .objs
            .iter()
            .copied()
            .filter(|o| kinds.contains(&o.kind))
            .collect();
        if of.is_empty() {
            return None;
        }
        Some(of[r.below(of.len())])
    }

    fn note(&mut self, hr: HRESULT) {
        if hr < 0 {
            self.last_hr = hr;
        }
    }

    fn remember_entry_id(&mut self, e: Vec<u8>) {
        if !self.entry_ids.contains(&e) {
            if self.entry_ids.len() >= MAX_ENTRY_IDS {
                self.entry_ids.remove(0);
            }
            self.entry_ids.push(e);
        }
    }

    /// Reads PR_ENTRYID of `o` and remembers it.
    pub fn learn_entry_id(&mut self, o: Obj) {
        let mut tags = [1u32, PR_ENTRYID];
        let mut n: ULONG = 0;
        let mut vals: LPSPropValue = ptr::null_mut();
        // SAFETY: live object, valid tag array and out-pointers.
        unsafe {
            let hr = (vt(o.p).GetProps)(
                o.p,
                tags.as_mut_ptr() as LPSPropTagArray,
                0,
                &mut n,
                &mut vals,
            );
            if hr == S_OK && n == 1 && (*vals).ulPropTag == PR_ENTRYID {
                let b = (*vals).Value.bin;
                let e = std::slice::from_raw_parts(b.lpb, b.cb as usize).to_vec();
                self.remember_entry_id(e);
            }
            take_props(hr, tags.as_ptr() as *const SPropTagArray, n, vals, o.free);
        }
    }

    /// An entry ID argument: a known one, one of them damaged, random bytes, or nothing.
    /// Returns `(cb, pointer)`; a cb above 4096 comes with a short buffer (the library must
    /// refuse it unread).
    pub fn entry_id(&self, r: &mut Reader, a: &mut Arena) -> (u32, *mut ENTRYID) {
        let mut e = match r.u8() % 8 {
            0 => return (0, ptr::null_mut()),
            1 => return (1 + r.u8() as u32, ptr::null_mut()),
            2 => r.bytes(40),
            3 => {
                let b = r.bytes(8);
                return (4097 + r.u16() as u32, a.put(b) as *mut ENTRYID);
            }
            _ if self.entry_ids.is_empty() => r.bytes(40),
            _ => self.entry_ids[r.below(self.entry_ids.len())].clone(),
        };
        // Damage it, sometimes.
        for _ in 0..(r.u8() % 4) {
            match r.u8() % 6 {
                0 if !e.is_empty() => {
                    let i = r.below(e.len());
                    e[i] = r.u8();
                }
                1 => e.truncate(r.below(e.len() + 1)),
                2 => e.push(r.u8()),
                3 if e.len() >= 24 => e[20..24].copy_from_slice(&r.u32().to_le_bytes()),
                4 if e.len() >= 32 => e[24..32].copy_from_slice(&r.u64().to_le_bytes()),
                _ => {}
            }
        }
        let n = e.len() as u32;
        (n, a.put(e) as *mut ENTRYID)
    }

    /// One operation chosen by the input.
    pub fn step(&mut self, r: &mut Reader) {
        let mut a = Arena::default();
        match r.u8() % 18 {
            0 | 1 => self.set_props(r, &mut a),
            2 | 3 => self.get_props(r, &mut a),
            4 => self.get_prop_list(r),
            5 => self.delete_props(r, &mut a),
            6 => self.copy_to(r, &mut a),
            7 => self.copy_props(r, &mut a),
            8 | 9 => self.save_changes(r),
            10 => self.get_last_error(r),
            11 => self.query_interface(r, &mut a),
            12 | 13 => self.new_object(r, &mut a),
            14 => self.release_one(r),
            15 => self.message_op(r, &mut a),
            16 => self.propdata_op(r, &mut a),
            _ => self.resolver_op(r),
        }
    }

    fn set_props(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        let (n, vals) = prop_array(r, a);
        let want = !r.one_in(4);
        let mut problems: LPSPropProblemArray = ptr::null_mut();
        let pp = if want {
            &mut problems as *mut _
        } else {
            ptr::null_mut()
        };
        // SAFETY: live object; the array is well-formed or refused by its count.
        unsafe {
            let hr = (vt(o.p).SetProps)(o.p, n, vals, pp);
            self.note(hr);
            take_problems(hr, problems, o.free);
        }
    }

    fn get_props(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        let tags = tag_array(r, a);
        let flags = r.flags(MAPI_UNICODE);
        let mut n: ULONG = 0xDEAD;
        let mut vals: LPSPropValue = 0x10 as LPSPropValue;
        // SAFETY: as above.
        unsafe {
            let hr = (vt(o.p).GetProps)(o.p, tags, flags, &mut n, &mut vals);
            self.note(hr);
            if o.kind != Kind::Foreign {
                take_props(hr, tags, n, vals, o.free);
            }
        }
    }

    fn get_prop_list(&mut self, r: &mut Reader) {
        let Some(o) = self.pick_ours(r) else { return };
        if o.kind == Kind::Foreign {
            return;
        }
        let flags = r.flags(MAPI_UNICODE);
        let mut tags: LPSPropTagArray = 0x10 as LPSPropTagArray;
        // SAFETY: as above.
        unsafe {
            let hr = (vt(o.p).GetPropList)(o.p, flags, &mut tags);
            self.note(hr);
            take_tags(hr, tags, o.free);
        }
    }

    fn delete_props(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        let tags = tag_array(r, a);
        let mut problems: LPSPropProblemArray = ptr::null_mut();
        let pp = if r.bool() {
            &mut problems as *mut _
        } else {
            ptr::null_mut()
        };
        // SAFETY: as above.
        unsafe {
            let hr = (vt(o.p).DeleteProps)(o.p, tags, pp);
            self.note(hr);
            take_problems(hr, problems, o.free);
        }
    }

    fn dest(&self, r: &mut Reader) -> LPVOID {
        match r.u8() % 16 {
            0 => ptr::null_mut(),
            _ => self.pick(r).map_or(ptr::null_mut(), |o| o.p as LPVOID),
        }
    }

    fn copy_to(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        if o.kind == Kind::Foreign {
            return;
        }
        let dest = self.dest(r);
        let n_iids = r.below(3);
        let iids: Vec<GUID> = (0..n_iids)
            .map(|_| {
                let p = iid(r, a);
                if p.is_null() {
                    msgstore::abi::iids::IID_IMAPIProp
                } else {
                    // SAFETY: `iid` returns NULL or a valid GUID.
                    unsafe { *p }
                }
            })
            .collect();
        let c_iids = r.count(n_iids);
        let p_iids = if r.one_in(16) {
            ptr::null_mut()
        } else {
            a.put(iids)
        };
        let exclude = tag_array(r, a);
        let iface = iid(r, a);
        let flags = r.flags(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DECLINE_OK | MAPI_DIALOG);
        let mut problems: LPSPropProblemArray = ptr::null_mut();
        let pp = if r.bool() {
            &mut problems as *mut _
        } else {
            ptr::null_mut()
        };
        // SAFETY: live objects; arrays well-formed or refused by their counts.
        unsafe {
            let hr = (vt(o.p).CopyTo)(
                o.p,
                c_iids,
                p_iids,
                exclude,
                0,
                ptr::null_mut(),
                iface,
                dest,
                flags,
                pp,
            );
            self.note(hr);
            take_problems(hr, problems, o.free);
        }
    }

    fn copy_props(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        if o.kind == Kind::Foreign {
            return;
        }
        let dest = self.dest(r);
        let include = tag_array(r, a);
        let iface = iid(r, a);
        let flags = r.flags(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DECLINE_OK | MAPI_DIALOG);
        let mut problems: LPSPropProblemArray = ptr::null_mut();
        let pp = if r.bool() {
            &mut problems as *mut _
        } else {
            ptr::null_mut()
        };
        // SAFETY: as above.
        unsafe {
            let hr = (vt(o.p).CopyProps)(o.p, include, 0, ptr::null_mut(), iface, dest, flags, pp);
            self.note(hr);
            take_problems(hr, problems, o.free);
        }
    }

    fn save_changes(&mut self, r: &mut Reader) {
        let Some(o) = self.pick_ours(r) else { return };
        let flags =
            r.flags(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS);
        // SAFETY: live object.
        let hr = unsafe { (vt(o.p).SaveChanges)(o.p, flags) };
        self.note(hr);
        if hr == S_OK && o.kind == Kind::Message {
            self.learn_entry_id(o);
        }
    }

    fn get_last_error(&mut self, r: &mut Reader) {
        let hr = match r.u8() % 4 {
            0 => r.u32() as i32,
            1 => S_OK,
            _ => self.last_hr,
        };
        if r.bool() {
            thread_error(r, hr);
            return;
        }
        let Some(o) = self.pick_ours(r) else { return };
        if o.kind == Kind::Foreign {
            return;
        }
        let flags = r.flags(MAPI_UNICODE);
        let mut e: LPMAPIERROR = 0x10 as LPMAPIERROR;
        // SAFETY: live object, valid out-pointer.
        unsafe {
            let h = (vt(o.p).GetLastError)(o.p, hr, flags, &mut e);
            take_error(h, e, flags, o.free);
        }
    }

    fn query_interface(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_ours(r) else { return };
        let riid = iid(r, a);
        if riid.is_null() && o.kind == Kind::Foreign {
            return;
        }
        let mut out: *mut c_void = 0x10 as *mut c_void;
        // SAFETY: live object, valid out-pointer.
        unsafe {
            let hr = (vt(o.p).QueryInterface)(o.p, riid, &mut out);
            self.note(hr);
            check_out_on_failure(hr, out, "QueryInterface");
            if hr == S_OK {
                assert_eq!(
                    out, o.p as *mut c_void,
                    "QueryInterface changed the identity"
                );
                let refs = (vt(o.p).Release)(o.p);
                assert!(refs >= 1, "QueryInterface did not AddRef");
            }
        }
    }

    fn release_one(&mut self, r: &mut Reader) {
        if self.objs.is_empty() {
            return;
        }
        let i = r.below(self.objs.len());
        let o = self.objs.remove(i);
        // SAFETY: we own this reference.
        unsafe { (vt(o.p).Release)(o.p) };
    }

    /// CreateIProp with our allocator or the counting one (which may fail), or a hostile call.
    pub fn create_iprop(&mut self, r: &mut Reader, a: &mut Arena) {
        let iface = iid(r, a);
        let mut out: LPPROPDATA = 0x10 as LPPROPDATA;
        let counting = r.bool();
        let hostile = r.one_in(16);
        if counting && r.one_in(4) {
            foreign::ALLOC_FAIL_IN.store(1 + r.u8() as u32 % 8, Ordering::SeqCst);
        }
        // SAFETY: the allocator functions are MAPI-shaped; the out-pointer is valid.
        unsafe {
            let hr = if hostile {
                CreateIProp(
                    iface,
                    if r.bool() {
                        Some(MAPIAllocateBuffer)
                    } else {
                        None
                    },
                    if r.bool() {
                        Some(MAPIAllocateMore)
                    } else {
                        None
                    },
                    None,
                    if r.bool() {
                        0x10 as LPVOID
                    } else {
                        ptr::null_mut()
                    },
                    &mut out,
                )
            } else if counting {
                CreateIProp(
                    iface,
                    Some(foreign::counting_alloc),
                    Some(foreign::counting_more),
                    Some(foreign::counting_free),
                    ptr::null_mut(),
                    &mut out,
                )
            } else {
                CreateIProp(
                    iface,
                    Some(MAPIAllocateBuffer),
                    Some(MAPIAllocateMore),
                    Some(MAPIFreeBuffer),
                    ptr::null_mut(),
                    &mut out,
                )
            };
            self.note(hr);
            check_out_on_failure(hr, out as *const c_void, "CreateIProp");
            if hr == S_OK {
                let free: FreeFn = if counting {
                    foreign::counting_free
                } else {
                    MAPIFreeBuffer
                };
                self.add(out as *mut c_void, Kind::PropData, free);
            } else {
                thread_error(r, hr);
            }
        }
    }

    fn new_object(&mut self, r: &mut Reader, a: &mut Arena) {
        match r.u8() % 6 {
            0 | 1 => self.create_iprop(r, a),
            2 => {
                let script = r.bytes(16);
                self.add(
                    ForeignProp::create(script) as *mut c_void,
                    Kind::Foreign,
                    mapi_free(),
                );
            }
            3 => self.create_message(r, a),
            4 => self.open_entry(r, a),
            _ => self.open_store_again(r),
        }
    }

    fn create_message(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(f) = self.pick_kind(r, &[Kind::Folder]) else {
            return;
        };
        let iface = iid(r, a);
        let flags = r.flags(MAPI_DEFERRED_ERRORS | MAPI_ASSOCIATED);
        let mut msg: *mut IMessage = 0x10 as *mut IMessage;
        let folder = f.p as *mut IMAPIFolder;
        // SAFETY: a live folder; valid out-pointer.
        unsafe {
            let hr = ((*(*folder).lpVtbl).CreateMessage)(folder, iface, flags, &mut msg);
            self.note(hr);
            check_out_on_failure(hr, msg as *const c_void, "CreateMessage");
            if hr == S_OK {
                self.add(msg as *mut c_void, Kind::Message, mapi_free());
            }
        }
    }

    /// OpenEntry through a store or a folder with an entry ID (known, damaged or random).
    pub fn open_entry(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(opener) = self.pick_kind(r, &[Kind::Store, Kind::Folder]) else {
            return;
        };
        let (cb, eid) = self.entry_id(r, a);
        let iface = iid(r, a);
        let flags = r.flags(MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS);
        let mut ty: ULONG = 0xDEAD;
        let mut out: *mut IUnknown = 0x10 as *mut IUnknown;
        // SAFETY: a live store or folder; the entry ID is valid for `cb` bytes or refused.
        unsafe {
            let hr = if opener.kind == Kind::Store {
                let s = opener.p as *mut IMsgStore;
                ((*(*s).lpVtbl).OpenEntry)(s, cb, eid, iface, flags, &mut ty, &mut out)
            } else {
                let f = opener.p as *mut IMAPIFolder;
                ((*(*f).lpVtbl).OpenEntry)(f, cb, eid, iface, flags, &mut ty, &mut out)
            };
            self.note(hr);
            check_out_on_failure(hr, out as *const c_void, "OpenEntry");
            if hr < 0 {
                assert_eq!(ty, 0, "OpenEntry: a failure left an object type");
                return;
            }
            let kind = match ty {
                MAPI_FOLDER => Kind::Folder,
                MAPI_MESSAGE => Kind::Message,
                other => panic!("OpenEntry returned object type {other}"),
            };
            self.add(out as *mut c_void, kind, mapi_free());
        }
    }

    /// A second handle on the same store file (another client, as another process would be).
    fn open_store_again(&mut self, r: &mut Reader) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let flags = r.flags(MDB_WRITE | MAPI_BEST_ACCESS | MSGSTORE_NO_SYNC | MDB_NO_DIALOG);
        let mut s: LPMDB = 0x10 as LPMDB;
        // SAFETY: a NUL-terminated path and a valid out-pointer.
        unsafe {
            let hr = MsgStoreOpen(path.as_ptr(), flags, &mut s);
            self.note(hr);
            check_out_on_failure(hr, s as *const c_void, "MsgStoreOpen");
            if hr == S_OK {
                self.add(s as *mut c_void, Kind::Store, mapi_free());
            } else {
                thread_error(r, hr);
            }
        }
    }

    fn message_op(&mut self, r: &mut Reader, a: &mut Arena) {
        match r.u8() % 7 {
            6 => self.child_table_op(r, a),
            4 => self.attach_op(r, a),
            5 => self.modify_recipients(r, a),
            0 | 1 => {
                let Some(m) = self.pick_kind(r, &[Kind::Message]) else {
                    return;
                };
                let m = m.p as *mut IMessage;
                let flags = r.flags(
                    SUPPRESS_RECEIPT
                        | CLEAR_READ_FLAG
                        | MAPI_DEFERRED_ERRORS
                        | GENERATE_RECEIPT_ONLY
                        | CLEAR_RN_PENDING
                        | CLEAR_NRN_PENDING,
                );
                // SAFETY: a live message.
                let hr = unsafe { ((*(*m).lpVtbl).SetReadFlag)(m, flags) };
                self.note(hr);
            }
            2 => self.compare_entry_ids(r, a),
            _ => self.folder_op(r, a),
        }
    }

    /// CreateAttach, OpenAttach or DeleteAttach on a message (stored or embedded), or
    /// OpenProperty(PR_ATTACH_DATA_OBJ) on an attachment: new objects join the world.
    fn attach_op(&mut self, r: &mut Reader, a: &mut Arena) {
        let num = if r.bool() { r.below(4) as u32 } else { r.u32() };
        let riid = if r.bool() { ptr::null() } else { iid(r, a) };
        if r.one_in(3) {
            let Some(at) = self.pick_kind(r, &[Kind::Attach]) else {
                return;
            };
            let riid = if r.bool() {
                &msgstore::abi::iids::IID_IMessage as *const IID
            } else {
                iid(r, a)
            };
            let tag = if r.bool() { PR_ATTACH_DATA_OBJ } else { tag(r) };
            let flags = r.flags(MAPI_MODIFY | MAPI_CREATE | MAPI_DEFERRED_ERRORS);
            let mut out: *mut IUnknown = 0x10 as *mut IUnknown;
            // SAFETY: a live attachment; the IID readable or NULL (refused).
            let hr = unsafe { (vt(at.p).OpenProperty)(at.p, tag, riid, 0, flags, &mut out) };
            self.note(hr);
            check_out_on_failure(hr, out as *const c_void, "OpenProperty");
            if hr == S_OK {
                self.add(out as *mut c_void, Kind::Message, mapi_free());
            }
            return;
        }
        let Some(m) = self.pick_kind(r, &[Kind::Message]) else {
            return;
        };
        let m = m.p as *mut IMessage;
        let mut att: *mut IAttach = 0x10 as *mut IAttach;
        // SAFETY: a live message; out-pointers valid; the IID readable or NULL.
        let hr = unsafe {
            match r.u8() % 3 {
                0 => {
                    let mut n: ULONG = 0xDEAD;
                    let flags = r.flags(MAPI_DEFERRED_ERRORS);
                    let hr = ((*(*m).lpVtbl).CreateAttach)(m, riid, flags, &mut n, &mut att);
                    if hr < 0 {
                        assert_eq!(n, 0, "CreateAttach: a failure left a number");
                    }
                    hr
                }
                1 => {
                    let flags = r.flags(MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS);
                    ((*(*m).lpVtbl).OpenAttach)(m, num, riid, flags, &mut att)
                }
                _ => {
                    att = ptr::null_mut();
                    let flags = r.flags(ATTACH_DIALOG);
                    ((*(*m).lpVtbl).DeleteAttach)(m, num, 0, ptr::null_mut(), flags)
                }
            }
        };
        self.note(hr);
        check_out_on_failure(hr, att as *const c_void, "CreateAttach/OpenAttach");
        if hr == S_OK && !att.is_null() {
            self.add(att as *mut c_void, Kind::Attach, mapi_free());
        }
    }

    /// GetAttachmentTable or GetRecipientTable (or OpenProperty for them) on a message, stored or
    /// embedded, then a few calls on the table (columns, restrictions as hostile as the `tables`
    /// target's, sorts, QueryRows, FindRow), then the table released. Checks: HRESULTs the
    /// methods may return, out-parameters NULL on failure, well-formed row sets.
    fn child_table_op(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(m) = self.pick_kind(r, &[Kind::Message]) else {
            return;
        };
        let m = m.p as *mut IMessage;
        let mut t: *mut IMAPITable = 0x10 as *mut IMAPITable;
        let flags = r.flags(MAPI_UNICODE | MAPI_DEFERRED_ERRORS);
        // SAFETY: a live message; the out-pointer valid.
        let hr = unsafe {
            match r.u8() % 3 {
                0 => ((*(*m).lpVtbl).GetAttachmentTable)(m, flags, &mut t),
                1 => ((*(*m).lpVtbl).GetRecipientTable)(m, flags, &mut t),
                _ => {
                    let tag = r.pick(&[PR_MESSAGE_ATTACHMENTS, PR_MESSAGE_RECIPIENTS]);
                    let iid = &msgstore::abi::iids::IID_IMAPITable as *const IID;
                    let mut unk: *mut IUnknown = 0x10 as *mut IUnknown;
                    let hr = (vt(m as *mut IMAPIProp).OpenProperty)(
                        m as *mut IMAPIProp,
                        tag,
                        iid,
                        0,
                        flags & MAPI_DEFERRED_ERRORS,
                        &mut unk,
                    );
                    t = unk as *mut IMAPITable;
                    hr
                }
            }
        };
        self.note(hr);
        tables::expect(
            hr,
            &[MAPI_E_UNKNOWN_FLAGS],
            "GetAttachmentTable/GetRecipientTable",
        );
        check_out_on_failure(
            hr,
            t as *const c_void,
            "GetAttachmentTable/GetRecipientTable",
        );
        if hr != S_OK {
            return;
        }
        // SAFETY: `t` is a live table we own a reference on, released below.
        unsafe {
            let tv = &*(*t).lpVtbl;
            for _ in 0..r.below(8) {
                match r.u8() % 6 {
                    0 => {
                        let tags = tag_array(r, a);
                        let hr = (tv.SetColumns)(t, tags, 0);
                        tables::expect(hr, &[tables::BAD, MAPI_E_TOO_COMPLEX], "SetColumns");
                    }
                    1 => {
                        let res = tables::restriction(r, a, 3);
                        let hr = (tv.Restrict)(t, res, 0);
                        tables::expect(
                            hr,
                            &[tables::BAD, MAPI_E_BAD_CHARWIDTH, MAPI_E_TOO_COMPLEX],
                            "Restrict",
                        );
                    }
                    2 => {
                        let sos = tables::sort_order(r, a);
                        let hr = (tv.SortTable)(t, sos, 0);
                        tables::expect(hr, &[tables::BAD, MAPI_E_TOO_COMPLEX], "SortTable");
                    }
                    3 => {
                        let res = tables::restriction(r, a, 3);
                        let hr = (tv.FindRow)(t, res, r.below(3), r.flags(DIR_BACKWARD));
                        tables::expect(
                            hr,
                            &[
                                tables::BAD,
                                MAPI_E_BAD_CHARWIDTH,
                                MAPI_E_TOO_COMPLEX,
                                MAPI_E_UNKNOWN_FLAGS,
                                MAPI_E_NOT_FOUND,
                            ],
                            "FindRow",
                        );
                    }
                    4 => {
                        let mut tags: LPSPropTagArray = 1 as LPSPropTagArray;
                        let hr = (tv.QueryColumns)(t, r.flags(TBL_ALL_COLUMNS), &mut tags);
                        tables::expect(hr, &[MAPI_E_UNKNOWN_FLAGS], "QueryColumns");
                        take_tags(hr, tags, MAPIFreeBuffer);
                    }
                    _ => {
                        let count = r.below(12) as i32 - 4;
                        let mut rows: LPSRowSet = 1 as LPSRowSet;
                        let hr = (tv.QueryRows)(t, count, r.flags(TBL_NOADVANCE), &mut rows);
                        tables::expect(hr, &[tables::BAD, MAPI_E_UNKNOWN_FLAGS], "QueryRows");
                        tables::take_rows(hr, rows, count.unsigned_abs() as usize, None);
                    }
                }
            }
            (tv.Release)(t);
        }
    }

    /// ModifyRecipients with an ADRLIST of random entries (null recipients, PR_ROWIDs, any
    /// values), a NULL list, or a count past its entries' array.
    fn modify_recipients(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(m) = self.pick_kind(r, &[Kind::Message]) else {
            return;
        };
        let m = m.p as *mut IMessage;
        let flags = r.flags(MODRECIP_ADD | MODRECIP_MODIFY | MODRECIP_REMOVE);
        let list = if r.one_in(8) {
            ptr::null_mut()
        } else {
            let n = r.below(4);
            // An ADRLIST is a count and `n` ADRENTRYs (16 bytes each): as u64 words.
            let mut words: Vec<u64> = vec![0; 1 + 2 * n.max(1)];
            for i in 0..n {
                let (count, vals) = if r.one_in(4) {
                    (0, ptr::null_mut())
                } else {
                    prop_array(r, a)
                };
                words[1 + 2 * i] = (count as u64) << 32;
                words[2 + 2 * i] = vals as u64;
            }
            words[0] = r.count(n) as u64;
            a.put(words) as *mut ADRLIST
        };
        // SAFETY: a live message; the list well-formed for its count or refused by it.
        let hr = unsafe { ((*(*m).lpVtbl).ModifyRecipients)(m, flags, list) };
        self.note(hr);
    }

    /// CompareEntryIDs on any store of the world.
    pub fn compare_entry_ids(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(s) = self.pick_kind(r, &[Kind::Store]) else {
            return;
        };
        let s = s.p as *mut IMsgStore;
        let (cb1, e1) = self.entry_id(r, a);
        let (cb2, e2) = if r.one_in(4) {
            (cb1, e1)
        } else {
            self.entry_id(r, a)
        };
        let flags = r.flags(0);
        let mut result: ULONG = 0xDEAD;
        // SAFETY: a live store; the entry IDs valid for their sizes or refused.
        unsafe {
            let hr = ((*(*s).lpVtbl).CompareEntryIDs)(s, cb1, e1, cb2, e2, flags, &mut result);
            self.note(hr);
            if hr < 0 {
                assert_eq!(result, 0, "CompareEntryIDs: a failure left a result");
            } else {
                assert!(result <= 1, "CompareEntryIDs: result {result}");
                if e1 == e2 && cb1 == cb2 {
                    assert_eq!(result, 1, "an entry ID does not compare equal to itself");
                }
            }
        }
    }

    /// DeleteMessages, CreateFolder or DeleteFolder on a folder of the world.
    pub fn folder_op(&mut self, r: &mut Reader, a: &mut Arena) {
        match r.u8() % 3 {
            0 => {
                let Some(f) = self.pick_kind(r, &[Kind::Folder]) else {
                    return;
                };
                let n = r.below(4);
                let mut bins = Vec::new();
                for _ in 0..n {
                    let (cb, p) = self.entry_id(r, a);
                    // DeleteMessages reads `cb` bytes of each (its limit is the general count
                    // limit, not 4096): a long claim over a short buffer would be our bug.
                    let cb = if cb > 4096 && !p.is_null() { 0 } else { cb };
                    bins.push(SBinary {
                        cb,
                        lpb: p as LPBYTE,
                    });
                }
                let c = r.count(n);
                let mut list = SBinaryArray {
                    cValues: c,
                    lpbin: a.put(bins),
                };
                let lp = if r.one_in(16) {
                    ptr::null_mut()
                } else {
                    &mut list as *mut _
                };
                let flags = r.flags(MESSAGE_DIALOG | 0x10 | MAPI_DEFERRED_ERRORS);
                let folder = f.p as *mut IMAPIFolder;
                // SAFETY: a live folder; the list is well-formed or refused by its count.
                let hr = unsafe {
                    ((*(*folder).lpVtbl).DeleteMessages)(folder, lp, 0, ptr::null_mut(), flags)
                };
                self.note(hr);
            }
            1 => {
                let Some(f) = self.pick_kind(r, &[Kind::Folder]) else {
                    return;
                };
                let folder = f.p as *mut IMAPIFolder;
                let wide = r.bool();
                let name: Vec<u8> = r.bytes(6);
                let null_name = r.one_in(16);
                let flags = r.flags(OPEN_IF_EXISTS) | if wide { MAPI_UNICODE } else { 0 };
                // The string's width must be the one the flags announce (a narrow string read
                // as UTF-16 would be read past its end: the caller's bug, not the library's).
                let name_p: LPTSTR = if null_name {
                    ptr::null_mut()
                } else if flags & MAPI_UNICODE != 0 {
                    let mut w: Vec<u16> = name.iter().map(|b| *b as u16).collect();
                    w.push(0);
                    a.put(w) as LPTSTR
                } else {
                    let mut b: Vec<i8> = name.iter().map(|b| *b as i8).collect();
                    b.push(0);
                    a.put(b)
                };
                let ftype = r.pick(&[FOLDER_GENERIC, FOLDER_GENERIC, FOLDER_SEARCH, 7]);
                let iface = iid(r, a);
                let mut out: *mut IMAPIFolder = 0x10 as *mut IMAPIFolder;
                // SAFETY: a live folder; strings NUL-terminated.
                unsafe {
                    let hr = ((*(*folder).lpVtbl).CreateFolder)(
                        folder,
                        ftype,
                        name_p,
                        ptr::null_mut(),
                        iface,
                        flags,
                        &mut out,
                    );
                    self.note(hr);
                    check_out_on_failure(hr, out as *const c_void, "CreateFolder");
                    if hr == S_OK {
                        let o = Obj {
                            p: out as *mut IMAPIProp,
                            kind: Kind::Folder,
                            free: mapi_free(),
                        };
                        self.learn_entry_id(o);
                        self.add(out as *mut c_void, Kind::Folder, mapi_free());
                    }
                }
            }
            _ => {
                let Some(f) = self.pick_kind(r, &[Kind::Folder]) else {
                    return;
                };
                let folder = f.p as *mut IMAPIFolder;
                let (cb, eid) = self.entry_id(r, a);
                let flags = r.flags(DEL_MESSAGES | DEL_FOLDERS);
                // SAFETY: a live folder; the entry ID valid for `cb` bytes or refused.
                let hr = unsafe {
                    ((*(*folder).lpVtbl).DeleteFolder)(folder, cb, eid, 0, ptr::null_mut(), flags)
                };
                self.note(hr);
            }
        }
    }

    fn propdata_op(&mut self, r: &mut Reader, a: &mut Arena) {
        let Some(o) = self.pick_kind(r, &[Kind::PropData]) else {
            return;
        };
        let pd = o.p as *mut IPropData;
        // SAFETY: a live IPropData; arrays well-formed or refused.
        unsafe {
            let v = &*(*pd).lpVtbl;
            let hr = match r.u8() % 4 {
                0 => (v.HrSetObjAccess)(pd, r.flags(IPROP_READONLY | IPROP_READWRITE)),
                1 => {
                    let tags = tag_array(r, a);
                    let n = if tags.is_null() || (*tags).cValues > MAX_COUNT {
                        r.below(3)
                    } else {
                        (*tags).cValues as usize
                    };
                    let access: Vec<u32> = (0..n)
                        .map(|_| {
                            r.flags(IPROP_READONLY | IPROP_READWRITE | IPROP_CLEAN | IPROP_DIRTY)
                        })
                        .collect();
                    let p = if r.one_in(16) {
                        ptr::null_mut()
                    } else {
                        a.put(access)
                    };
                    (v.HrSetPropAccess)(pd, tags, p)
                }
                2 => {
                    let mut tags: LPSPropTagArray = 0x10 as LPSPropTagArray;
                    let mut access: *mut ULONG = 0x10 as *mut ULONG;
                    let hr = (v.HrGetPropAccess)(pd, &mut tags, &mut access);
                    check_out_on_failure(hr, access as *const c_void, "HrGetPropAccess");
                    let got = take_tags(hr, tags, o.free);
                    if hr == S_OK {
                        assert!(!access.is_null());
                        let s = std::slice::from_raw_parts(access, got.len());
                        std::hint::black_box(s.iter().fold(0u32, |a, x| a.wrapping_add(*x)));
                        (o.free)(access as LPVOID);
                    }
                    hr
                }
                _ => {
                    let tags = tag_array(r, a);
                    let mut problems: LPSPropProblemArray = ptr::null_mut();
                    let pp = if r.bool() {
                        &mut problems as *mut _
                    } else {
                        ptr::null_mut()
                    };
                    let hr = (v.HrAddObjProps)(pd, tags, pp);
                    take_problems(hr, problems, o.free);
                    hr
                }
            };
            self.note(hr);
        }
    }

    fn resolver_op(&mut self, r: &mut Reader) {
        let target = match r.u8() % 8 {
            0 => ptr::null_mut(),
            1 => self.pick(r).map_or(ptr::null_mut(), |o| o.p as LPMDB),
            _ => match self.pick_kind(r, &[Kind::Store]) {
                Some(s) => s.p as LPMDB,
                None => return,
            },
        };
        let resolver = if r.one_in(4) {
            ptr::null_mut()
        } else {
            let res = match self.resolver {
                Some(res) => res,
                None => {
                    let dests = self
                        .objs
                        .iter()
                        .filter(|o| o.kind == Kind::Folder || o.kind == Kind::PropData)
                        .map(|o| o.p)
                        .collect();
                    let res = Resolver::create(r.bytes(24), dests);
                    self.resolver = Some(res);
                    res
                }
            };
            res as LPMSGSTORECONFLICTRESOLVER
        };
        // SAFETY: `target` is NULL or a live COM object; `resolver` NULL or live.
        let hr = unsafe { MsgStoreSetConflictResolver(target, resolver) };
        self.note(hr);
    }

    /// Runs operations until the input is used up (or a bound is hit).
    pub fn run(&mut self, r: &mut Reader, max_steps: usize) {
        let mut steps = 0;
        while !r.is_empty() && steps < max_steps {
            self.step(r);
            steps += 1;
        }
    }

    /// Releases everything, then checks nothing is left: no COM object of the library, no
    /// foreign object, no IPropData result block, no reference on the resolver.
    pub fn finish(mut self) {
        for o in self.objs.drain(..).rev() {
            // SAFETY: we own one reference on each.
            unsafe { (vt(o.p).Release)(o.p) };
        }
        if let Some(res) = self.resolver.take() {
            // SAFETY: every store it could be registered on has been released.
            unsafe { Resolver::finish(res) };
        }
        foreign::ALLOC_FAIL_IN.store(0, Ordering::SeqCst);
        assert_no_live_objects();
        let f = foreign::FOREIGN_LIVE.load(Ordering::SeqCst);
        assert_eq!(f, 0, "{f} foreign objects were not released");
        let blocks = foreign::ALLOC_LIVE.load(Ordering::SeqCst);
        assert_eq!(blocks, 0, "{blocks} IPropData result blocks were not freed");
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}
