//! Client-side COM objects the library calls back into, as a C client would write them: a
//! foreign IMAPIProp (a CopyTo/CopyProps destination that is not ours), a conflict resolver, and
//! a counting allocator for CreateIProp that can fail on demand and never zeroes. Their
//! behaviour comes from fuzz bytes; each checks what the library hands it.

use crate::common::{take_props, walk_value, MAX_COUNT};
use msgstore::abi::alloc::{MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer};
use msgstore::abi::iids::{IID_IMAPIProp, IID_IMsgStoreConflictResolver, IID_IUnknown};
use msgstore::abi::interfaces::*;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicIsize, AtomicU32, Ordering};

/// Behaviour bytes, read in a cycle (zeros when there are none).
pub struct Script {
    bytes: Vec<u8>,
    pos: Cell<usize>,
}

impl Script {
    pub fn new(bytes: Vec<u8>) -> Self {
        Script {
            bytes,
            pos: Cell::new(0),
        }
    }
    pub fn u8(&self) -> u8 {
        if self.bytes.is_empty() {
            return 0;
        }
        let i = self.pos.get();
        self.pos.set(i + 1);
        self.bytes[i % self.bytes.len()]
    }
    pub fn u32(&self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

/// Foreign objects alive now (each input must end with none).
pub static FOREIGN_LIVE: AtomicIsize = AtomicIsize::new(0);

/// A client's own IMAPIProp: only SetProps and GetPropList do anything.
#[repr(C)]
pub struct ForeignProp {
    vtbl: *const IMAPIPropVtbl,
    refs: AtomicU32,
    script: Script,
}

impl ForeignProp {
    pub fn create(script: Vec<u8>) -> *mut IMAPIProp {
        FOREIGN_LIVE.fetch_add(1, Ordering::SeqCst);
        Box::into_raw(Box::new(ForeignProp {
            vtbl: &FOREIGN_VTBL,
            refs: AtomicU32::new(1),
            script: Script::new(script),
        })) as *mut IMAPIProp
    }
}

unsafe fn fp<'a>(this: *mut IMAPIProp) -> &'a ForeignProp {
    &*(this as *const ForeignProp)
}

unsafe extern "C" fn fp_qi(
    this: *mut IMAPIProp,
    riid: *const IID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    *ppv = ptr::null_mut();
    if *riid == IID_IUnknown || *riid == IID_IMAPIProp {
        fp_add_ref(this);
        *ppv = this as *mut c_void;
        return S_OK;
    }
    E_NOINTERFACE
}

unsafe extern "C" fn fp_add_ref(this: *mut IMAPIProp) -> ULONG {
    fp(this).refs.fetch_add(1, Ordering::SeqCst) + 1
}

unsafe extern "C" fn fp_release(this: *mut IMAPIProp) -> ULONG {
    let prev = fp(this).refs.fetch_sub(1, Ordering::SeqCst);
    assert!(prev > 0, "a foreign object was released too often");
    if prev == 1 {
        drop(Box::from_raw(this as *mut ForeignProp));
        FOREIGN_LIVE.fetch_sub(1, Ordering::SeqCst);
    }
    prev - 1
}

unsafe extern "C" fn fp_get_last_error(
    _: *mut IMAPIProp,
    _: HRESULT,
    _: ULONG,
    out: *mut LPMAPIERROR,
) -> HRESULT {
    if !out.is_null() {
        *out = ptr::null_mut();
    }
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_save(_: *mut IMAPIProp, _: ULONG) -> HRESULT {
    S_OK
}

unsafe extern "C" fn fp_get_props(
    _: *mut IMAPIProp,
    _: LPSPropTagArray,
    _: ULONG,
    count: *mut ULONG,
    out: *mut LPSPropValue,
) -> HRESULT {
    *count = 0;
    *out = ptr::null_mut();
    MAPI_E_NO_SUPPORT
}

/// Allocates `words` as a MAPIAllocateBuffer block (what the library will MAPIFreeBuffer).
unsafe fn mapi_block<T: Copy>(words: &[T], min: usize) -> *mut c_void {
    let size = (std::mem::size_of_val(words)).max(min);
    let mut p: LPVOID = ptr::null_mut();
    assert_eq!(MAPIAllocateBuffer(size as u32, &mut p), S_OK);
    ptr::copy_nonoverlapping(
        words.as_ptr() as *const u8,
        p as *mut u8,
        std::mem::size_of_val(words),
    );
    p
}

/// A count for `n` real entries, or one the library must refuse before reading.
fn script_count(s: &Script, n: usize) -> u32 {
    match s.u8() % 8 {
        0 => MAX_COUNT + 1 + (s.u8() as u32),
        1 => u32::MAX,
        _ => n as u32,
    }
}

unsafe extern "C" fn fp_get_prop_list(
    this: *mut IMAPIProp,
    _flags: ULONG,
    out: *mut LPSPropTagArray,
) -> HRESULT {
    let s = &fp(this).script;
    *out = ptr::null_mut();
    match s.u8() % 8 {
        0 => return MAPI_E_CALL_FAILED,
        1 => return S_OK, // success with no list: the library must cope
        _ => {}
    }
    let n = (s.u8() % 6) as usize;
    let mut words = vec![0u32; n + 1];
    for w in words.iter_mut().skip(1) {
        *w = ((crate::common::IDS[s.u8() as usize % crate::common::IDS.len()] as u32) << 16)
            | PT_LONG;
    }
    words[0] = script_count(s, n);
    *out = mapi_block(&words, 8) as LPSPropTagArray;
    S_OK
}

unsafe extern "C" fn fp_open_property(
    _: *mut IMAPIProp,
    _: ULONG,
    _: LPCIID,
    _: ULONG,
    _: ULONG,
    out: *mut *mut IUnknown,
) -> HRESULT {
    *out = ptr::null_mut();
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_set_props(
    this: *mut IMAPIProp,
    count: ULONG,
    vals: LPSPropValue,
    problems: *mut LPSPropProblemArray,
) -> HRESULT {
    // What the library sends must be a well-formed array.
    assert!(
        count > 0 && count <= MAX_COUNT,
        "SetProps into a foreign object: count {count}"
    );
    assert!(
        !vals.is_null(),
        "SetProps into a foreign object: NULL array"
    );
    for i in 0..count as usize {
        walk_value(&*vals.add(i));
    }
    let s = &fp(this).script;
    if !problems.is_null() {
        *problems = ptr::null_mut();
    }
    let hr = match s.u8() % 8 {
        0 => return MAPI_E_NO_ACCESS,
        1 => MAPI_W_ERRORS_RETURNED,
        _ => S_OK,
    };
    if !problems.is_null() && s.u8().is_multiple_of(2) {
        let n = 1 + (s.u8() % 4) as usize;
        let mut words: Vec<u32> = vec![0];
        for _ in 0..n {
            let index = match s.u8() % 3 {
                0 => s.u32(),
                _ => s.u8() as u32 % count,
            };
            words.extend([index, s.u32(), MAPI_E_INVALID_TYPE as u32]);
        }
        words[0] = script_count(s, n);
        *problems = mapi_block(&words, 16) as LPSPropProblemArray;
    }
    hr
}

unsafe extern "C" fn fp_delete_props(
    _: *mut IMAPIProp,
    _: LPSPropTagArray,
    problems: *mut LPSPropProblemArray,
) -> HRESULT {
    if !problems.is_null() {
        *problems = ptr::null_mut();
    }
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_copy_to(
    _: *mut IMAPIProp,
    _: ULONG,
    _: LPCIID,
    _: LPSPropTagArray,
    _: ULONG_PTR,
    _: *mut IMAPIProgress,
    _: LPCIID,
    _: LPVOID,
    _: ULONG,
    _: *mut LPSPropProblemArray,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_copy_props(
    _: *mut IMAPIProp,
    _: LPSPropTagArray,
    _: ULONG_PTR,
    _: *mut IMAPIProgress,
    _: LPCIID,
    _: LPVOID,
    _: ULONG,
    _: *mut LPSPropProblemArray,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_names(
    _: *mut IMAPIProp,
    _: *mut LPSPropTagArray,
    _: LPGUID,
    _: ULONG,
    _: *mut ULONG,
    _: *mut *mut LPMAPINAMEID,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}

unsafe extern "C" fn fp_ids(
    _: *mut IMAPIProp,
    _: ULONG,
    _: *mut LPMAPINAMEID,
    _: ULONG,
    _: *mut LPSPropTagArray,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}

static FOREIGN_VTBL: IMAPIPropVtbl = IMAPIPropVtbl {
    QueryInterface: fp_qi,
    AddRef: fp_add_ref,
    Release: fp_release,
    GetLastError: fp_get_last_error,
    SaveChanges: fp_save,
    GetProps: fp_get_props,
    GetPropList: fp_get_prop_list,
    OpenProperty: fp_open_property,
    SetProps: fp_set_props,
    DeleteProps: fp_delete_props,
    CopyTo: fp_copy_to,
    CopyProps: fp_copy_props,
    GetNamesFromIDs: fp_names,
    GetIDsFromNames: fp_ids,
};

/// A conflict resolver whose decisions come from fuzz bytes. It may read both messages, keep
/// the stored version (AddRef), name a destination folder or a non-folder object, fail, or
/// answer an unknown action.
#[repr(C)]
pub struct Resolver {
    vtbl: *const IMsgStoreConflictResolverVtbl,
    refs: AtomicU32,
    script: Script,
    /// Objects it may return as the destination (borrowed from the world, AddRef'd when given).
    dests: Vec<*mut IMAPIProp>,
    kept: RefCell<Vec<*mut IMessage>>,
    pub calls: Cell<u32>,
}

impl Resolver {
    /// A resolver with one reference, the caller's.
    pub fn create(script: Vec<u8>, dests: Vec<*mut IMAPIProp>) -> *mut Resolver {
        for d in &dests {
            // SAFETY: the caller passes live objects; the resolver keeps them until `finish`.
            unsafe { ((*(**d).lpVtbl).AddRef)(*d) };
        }
        Box::into_raw(Box::new(Resolver {
            vtbl: &RESOLVER_VTBL,
            refs: AtomicU32::new(1),
            script: Script::new(script),
            dests,
            kept: RefCell::new(Vec::new()),
            calls: Cell::new(0),
        }))
    }

    /// Releases what it kept; then the library must hold no reference on it any more.
    ///
    /// # Safety
    /// `this` must come from [`Resolver::create`]; the store it was registered on must have
    /// been released or the resolver cleared.
    pub unsafe fn finish(this: *mut Resolver) {
        for m in (*this).kept.borrow_mut().drain(..) {
            ((*(*m).lpVtbl).Release)(m);
        }
        for d in (*this).dests.drain(..) {
            ((*(*d).lpVtbl).Release)(d);
        }
        let refs = (*this).refs.load(Ordering::SeqCst);
        assert_eq!(
            refs,
            1,
            "the library still holds {} references on the resolver",
            refs - 1
        );
        drop(Box::from_raw(this));
    }
}

unsafe extern "C" fn rs_qi(
    this: *mut IMsgStoreConflictResolver,
    riid: *const IID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    *ppv = ptr::null_mut();
    if *riid == IID_IUnknown || *riid == IID_IMsgStoreConflictResolver {
        rs_add_ref(this);
        *ppv = this as *mut c_void;
        return S_OK;
    }
    E_NOINTERFACE
}

unsafe extern "C" fn rs_add_ref(this: *mut IMsgStoreConflictResolver) -> ULONG {
    (*(this as *const Resolver))
        .refs
        .fetch_add(1, Ordering::SeqCst)
        + 1
}

unsafe extern "C" fn rs_release(this: *mut IMsgStoreConflictResolver) -> ULONG {
    let prev = (*(this as *const Resolver))
        .refs
        .fetch_sub(1, Ordering::SeqCst);
    // The harness frees it in `finish`, after checking the library let go of its references.
    assert!(
        prev > 1,
        "the library released the resolver more often than it AddRef'd it"
    );
    prev - 1
}

unsafe fn walk_tags(p: LPSPropTagArray) {
    assert!(!p.is_null(), "MSGCONFLICT: a NULL change list");
    let n = (*p).cValues;
    assert!(n <= MAX_COUNT);
    let tags = std::slice::from_raw_parts((*p).aulPropTag.as_ptr(), n as usize);
    std::hint::black_box(tags.iter().fold(0u32, |a, t| a.wrapping_add(*t)));
}

unsafe fn read_all(p: *mut IMessage) {
    let mut n: ULONG = 0;
    let mut vals: LPSPropValue = ptr::null_mut();
    let hr = ((*(*p).lpVtbl).GetProps)(p, ptr::null_mut(), MAPI_UNICODE, &mut n, &mut vals);
    take_props(hr, ptr::null(), n, vals, MAPIFreeBuffer);
}

unsafe extern "C" fn rs_resolve(
    this: *mut IMsgStoreConflictResolver,
    msg: *mut IMessage,
    c: *const MSGCONFLICT,
    action: *mut ULONG,
    dest: *mut *mut IMAPIFolder,
) -> HRESULT {
    let me = &*(this as *const Resolver);
    me.calls.set(me.calls.get() + 1);
    assert!(!msg.is_null() && !c.is_null() && !action.is_null() && !dest.is_null());
    assert_eq!(
        *action, 0,
        "the store must set *lpulAction = 0 before the call"
    );
    assert!(
        (*dest).is_null(),
        "the store must set *lppDestFolder = NULL before the call"
    );
    let c = &*c;
    if c.cbEntryID > 0 {
        assert!(!c.lpEntryID.is_null());
        let e = std::slice::from_raw_parts(c.lpEntryID as *const u8, c.cbEntryID as usize);
        std::hint::black_box(e.iter().fold(0u32, |a, b| a.wrapping_add(*b as u32)));
    }
    walk_tags(c.lpTheirChanges);
    walk_tags(c.lpMyChanges);
    if c.ulFlags & MSGCONFLICT_DELETED != 0 {
        assert!(
            c.lpStored.is_null(),
            "a deleted message's conflict has a stored version"
        );
    } else {
        assert!(
            !c.lpStored.is_null(),
            "a conflict without the stored version"
        );
    }
    let s = &me.script;
    let what = s.u8();
    if what & 1 != 0 {
        read_all(msg);
    }
    if what & 2 != 0 && !c.lpStored.is_null() {
        read_all(c.lpStored);
    }
    if what & 4 != 0 && !c.lpStored.is_null() {
        ((*(*c.lpStored).lpVtbl).AddRef)(c.lpStored);
        me.kept.borrow_mut().push(c.lpStored);
    }
    if what & 8 != 0 {
        // Edit the message being saved from inside its own SaveChanges.
        let mut subject = *b"from the resolver\0";
        let mut v = SPropValue {
            ulPropTag: PR_SUBJECT_A,
            dwAlignPad: 0,
            Value: PV {
                lpszA: subject.as_mut_ptr() as *mut i8,
            },
        };
        let mut problems: LPSPropProblemArray = ptr::null_mut();
        let hr = ((*(*msg).lpVtbl).SetProps)(msg, 1, &mut v, &mut problems);
        crate::common::take_problems(hr, problems, MAPIFreeBuffer);
    }
    *action = match s.u8() % 8 {
        0 => 0,
        5 => s.u32(),
        n => (n as u32 - 1) % 4 + 1,
    };
    match s.u8() % 4 {
        0 | 1 => {}
        _ if me.dests.is_empty() => {}
        _ => {
            let d = me.dests[s.u8() as usize % me.dests.len()];
            ((*(*d).lpVtbl).AddRef)(d);
            *dest = d as *mut IMAPIFolder;
        }
    }
    if s.u8().is_multiple_of(8) {
        return MAPI_E_USER_CANCEL;
    }
    S_OK
}

static RESOLVER_VTBL: IMsgStoreConflictResolverVtbl = IMsgStoreConflictResolverVtbl {
    QueryInterface: rs_qi,
    AddRef: rs_add_ref,
    Release: rs_release,
    ResolveConflict: rs_resolve,
};

/// Root blocks the counting allocator handed out and that were not freed yet.
pub static ALLOC_LIVE: AtomicIsize = AtomicIsize::new(0);
/// Fail the n-th next allocation (0: never).
pub static ALLOC_FAIL_IN: AtomicU32 = AtomicU32::new(0);

/// ALLOCATEBUFFER for CreateIProp: counts, fails on demand, and leaves garbage in the block
/// (MAPI's allocator does not promise zeroed memory).
pub unsafe extern "C" fn counting_alloc(cb: ULONG, out: *mut LPVOID) -> SCODE {
    let fail = ALLOC_FAIL_IN.load(Ordering::SeqCst);
    if fail > 0 {
        ALLOC_FAIL_IN.store(fail - 1, Ordering::SeqCst);
        if fail == 1 {
            *out = ptr::null_mut();
            return MAPI_E_NOT_ENOUGH_MEMORY;
        }
    }
    let hr = MAPIAllocateBuffer(cb, out);
    if hr == S_OK {
        ptr::write_bytes(*out as *mut u8, 0xA5, cb as usize);
        ALLOC_LIVE.fetch_add(1, Ordering::SeqCst);
    }
    hr
}

pub unsafe extern "C" fn counting_more(cb: ULONG, obj: LPVOID, out: *mut LPVOID) -> SCODE {
    MAPIAllocateMore(cb, obj, out)
}

pub unsafe extern "C" fn counting_free(p: LPVOID) -> ULONG {
    if !p.is_null() {
        ALLOC_LIVE.fetch_sub(1, Ordering::SeqCst);
    }
    MAPIFreeBuffer(p)
}
