//! The fuzz targets. Each takes one input, works through the C ABI only, releases everything it
//! made and checks that nothing is left (MsgStoreLiveObjects() == 0, every result freed).

use crate::common::*;
use crate::foreign::ForeignProp;
use crate::world::{Kind, Obj, World};
use msgstore::abi::interfaces::*;
use msgstore::abi::store::MsgStoreOpen;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::ffi::{c_void, CString};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A per-process scratch directory, in memory when /dev/shm is there.
fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("msgstore-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// A fresh path for a store file (nothing there yet).
pub fn scratch_file() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let p = scratch_dir().join(format!("s{}.db", N.fetch_add(1, Ordering::Relaxed)));
    remove_store(&p);
    p
}

/// Removes a store file and SQLite's companions.
pub fn remove_store(p: &Path) {
    let _ = std::fs::remove_file(p);
    for ext in ["-wal", "-shm", "-journal"] {
        let mut q = p.as_os_str().to_owned();
        q.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(q));
    }
}

/// Removes the scratch directory (at the end of a replay).
pub fn remove_scratch_dir() {
    let _ = std::fs::remove_dir_all(scratch_dir());
}

pub(crate) fn cpath(p: &Path) -> CString {
    CString::new(p.to_str().expect("UTF-8 path")).expect("no NUL in path")
}

unsafe fn vt<'a>(p: *mut IMAPIProp) -> &'a IMAPIPropVtbl {
    &*(*p).lpVtbl
}

/// IMsgStore::OpenEntry of `eid` (empty: the root folder), no interface asked for: the result,
/// the object type and the object.
pub(crate) unsafe fn store_open_entry(
    store: LPMDB,
    eid: &[u8],
    flags: ULONG,
) -> (HRESULT, ULONG, *mut IUnknown) {
    let mut e = eid.to_vec();
    let mut ty = 0;
    let mut out: *mut IUnknown = ptr::null_mut();
    let lp = if e.is_empty() {
        ptr::null_mut()
    } else {
        e.as_mut_ptr() as LPENTRYID
    };
    let hr = ((*(*store).lpVtbl).OpenEntry)(
        store,
        e.len() as u32,
        lp,
        ptr::null(),
        flags,
        &mut ty,
        &mut out,
    );
    (hr, ty, out)
}

/// Opens (creating) a writable store and the root folder, and puts both in the world.
pub(crate) unsafe fn open_new_store(w: &mut World, path: &Path) -> (LPMDB, *mut IMAPIFolder) {
    let c = cpath(path);
    let mut store: LPMDB = ptr::null_mut();
    let hr = MsgStoreOpen(
        c.as_ptr(),
        MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC,
        &mut store,
    );
    assert_eq!(hr, S_OK, "MsgStoreOpen of a new store failed");
    w.path = Some(c);
    w.add(store as *mut c_void, Kind::Store, mapi_free());
    let (hr, _, root) = store_open_entry(store, &[], MAPI_MODIFY);
    assert_eq!(hr, S_OK, "OpenEntry of the root folder failed");
    let root = root as *mut IMAPIFolder;
    w.learn_entry_id(obj(root as *mut c_void, Kind::Folder));
    w.add(root as *mut c_void, Kind::Folder, mapi_free());
    (store, root)
}

pub(crate) fn obj(p: *mut c_void, kind: Kind) -> Obj {
    Obj {
        p: p as *mut IMAPIProp,
        kind,
        free: mapi_free(),
    }
}

/// A saved message with a subject in `folder`; its entry ID is remembered. Returns it (the
/// caller owns the reference).
pub(crate) unsafe fn saved_message(
    w: &mut World,
    folder: *mut IMAPIFolder,
    subject: &[u8],
) -> *mut IMessage {
    let mut msg: *mut IMessage = ptr::null_mut();
    let hr = ((*(*folder).lpVtbl).CreateMessage)(folder, ptr::null(), 0, &mut msg);
    assert_eq!(hr, S_OK, "CreateMessage failed");
    let mut s = subject.to_vec();
    s.push(0);
    let mut v = SPropValue {
        ulPropTag: PR_SUBJECT_A,
        dwAlignPad: 0,
        Value: PV {
            lpszA: s.as_mut_ptr() as *mut i8,
        },
    };
    let hr = ((*(*msg).lpVtbl).SetProps)(msg, 1, &mut v, ptr::null_mut());
    assert_eq!(hr, S_OK);
    let hr = ((*(*msg).lpVtbl).SaveChanges)(msg, KEEP_OPEN_READWRITE);
    assert_eq!(hr, S_OK, "the first save of a new message failed");
    w.learn_entry_id(obj(msg as *mut c_void, Kind::Message));
    msg
}

pub(crate) unsafe fn subfolder(
    w: &mut World,
    parent: *mut IMAPIFolder,
    name: &str,
) -> *mut IMAPIFolder {
    let name = CString::new(name).unwrap();
    let mut f: *mut IMAPIFolder = ptr::null_mut();
    let hr = ((*(*parent).lpVtbl).CreateFolder)(
        parent,
        FOLDER_GENERIC,
        name.as_ptr() as LPTSTR,
        ptr::null_mut(),
        ptr::null(),
        OPEN_IF_EXISTS,
        &mut f,
    );
    assert_eq!(hr, S_OK, "CreateFolder failed");
    w.learn_entry_id(obj(f as *mut c_void, Kind::Folder));
    f
}

/// IPropData objects (CreateIProp) with random allocators, a foreign IMAPIProp, and every
/// IMAPIProp and IPropData slot between them: SetProps, GetProps, DeleteProps, CopyTo,
/// CopyProps, SaveChanges, access bits.
pub fn propdata(data: &[u8]) {
    let mut r = Reader::new(data);
    let mut w = World::new();
    let mut a = Arena::default();
    w.create_iprop(&mut r, &mut a);
    w.create_iprop(&mut r, &mut a);
    if r.bool() {
        let script = r.bytes(16);
        w.add(
            ForeignProp::create(script) as *mut c_void,
            Kind::Foreign,
            mapi_free(),
        );
    }
    w.run(&mut r, 200);
    w.finish();
}

/// Messages of a store: several clients of one message (OpenEntry makes a new one each time,
/// a second store handle is another client), a resolver, folders, IPropData and foreign
/// objects as copy destinations, SaveChanges with any flag word; attachments, recipients and
/// embedded messages, and their tables queried with hostile restrictions and sorts.
pub fn message(data: &[u8]) {
    let path = scratch_file();
    let mut r = Reader::new(data);
    let mut w = World::new();
    // SAFETY: every pointer comes from the library and is used while we hold a reference.
    unsafe {
        let (store, root) = open_new_store(&mut w, &path);
        let msg = saved_message(&mut w, root, b"seed");
        w.add(msg as *mut c_void, Kind::Message, mapi_free());
        // A second client of the saved message.
        let e = w.entry_ids.last().unwrap().clone();
        let (hr, ty, out) = store_open_entry(store, &e, MAPI_MODIFY);
        assert_eq!(
            (hr, ty),
            (S_OK, MAPI_MESSAGE),
            "reopening the saved message failed"
        );
        w.add(out as *mut c_void, Kind::Message, mapi_free());
    }
    w.run(&mut r, 64);
    w.finish();
    remove_store(&path);
}

/// Entry IDs and flags: IMsgStore::OpenEntry, IMAPIFolder::OpenEntry, CompareEntryIDs,
/// DeleteMessages and DeleteFolder with known, damaged and random entry IDs, on a store with
/// folders, messages and the ID of a deleted message, opened writable or read-only.
pub fn entry_ids(data: &[u8]) {
    let path = scratch_file();
    let mut r = Reader::new(data);
    let mut w = World::new();
    let mode = r.u8();
    // SAFETY: as above.
    unsafe {
        let (_store, root) = open_new_store(&mut w, &path);
        let sub = subfolder(&mut w, root, "sub");
        let m1 = saved_message(&mut w, root, b"one");
        let m2 = saved_message(&mut w, sub, b"two");
        let gone = saved_message(&mut w, sub, b"gone");
        // Delete `gone`: its entry ID stays known (a stale one).
        let known = w.entry_ids.clone();
        let last = known.last().unwrap().clone();
        let mut bin = SBinary {
            cb: last.len() as u32,
            lpb: last.as_ptr() as LPBYTE,
        };
        let mut list = SBinaryArray {
            cValues: 1,
            lpbin: &mut bin,
        };
        let hr = ((*(*sub).lpVtbl).DeleteMessages)(sub, &mut list, 0, ptr::null_mut(), 0);
        assert_eq!(hr, S_OK);
        for m in [m1, m2, gone] {
            ((*(*m).lpVtbl).Release)(m);
        }
        w.add(sub as *mut c_void, Kind::Folder, mapi_free());
        if !mode.is_multiple_of(4) {
            // Reopen: read-only, best access, or writable (fresh handle, no cached objects).
            for o in std::mem::take(&mut w.objs) {
                (vt(o.p).Release)(o.p);
            }
            let flags = match mode % 4 {
                1 => 0,
                2 => MAPI_BEST_ACCESS,
                _ => MDB_WRITE | MSGSTORE_NO_SYNC,
            };
            let c = cpath(&path);
            let mut store: LPMDB = ptr::null_mut();
            let hr = MsgStoreOpen(c.as_ptr(), flags, &mut store);
            assert_eq!(hr, S_OK, "reopening the store failed");
            w.add(store as *mut c_void, Kind::Store, mapi_free());
        }
    }
    let mut a = Arena::default();
    let mut steps = 0;
    while !r.is_empty() && steps < 64 {
        steps += 1;
        match r.u8() % 8 {
            0..=2 => w.open_entry(&mut r, &mut a),
            3 | 4 => w.compare_entry_ids(&mut r, &mut a),
            5 => w.folder_op(&mut r, &mut a),
            _ => w.step(&mut r),
        }
    }
    w.finish();
    remove_store(&path);
}

/// Random bytes as a store file: MsgStoreOpen must refuse what is not a store (or is damaged)
/// with an error, and if it opens the file, reading and writing it must fail cleanly too.
/// The first byte chooses the open flags and the probes; the rest is the file.
pub fn store_file(data: &[u8]) {
    let mut r = Reader::new(data);
    let mode = r.u8();
    let file = r.rest();
    let path = scratch_file();
    std::fs::write(&path, file).expect("writing the store file");
    let flags = match mode % 4 {
        0 => MDB_WRITE | MSGSTORE_NO_SYNC,
        1 => 0,
        2 => MAPI_BEST_ACCESS | MSGSTORE_NO_SYNC,
        _ => MDB_WRITE | MDB_NO_DIALOG,
    };
    let c = cpath(&path);
    let mut store: LPMDB = 0x10 as LPMDB;
    // SAFETY: a NUL-terminated path and a valid out-pointer.
    let hr = unsafe { MsgStoreOpen(c.as_ptr(), flags, &mut store) };
    check_out_on_failure(hr, store as *const c_void, "MsgStoreOpen");
    if hr == S_OK {
        // SAFETY: a live store; probe releases everything it opens.
        unsafe { probe_store(store, mode) };
    } else {
        thread_error(&mut Reader::new(&[]), hr);
    }
    assert_no_live_objects();
    remove_store(&path);
}

/// Reads everything the store will show, then writes through it.
unsafe fn probe_store(store: LPMDB, mode: u8) {
    let mut w = World::new();
    w.add(store as *mut c_void, Kind::Store, mapi_free());
    let unicode = if mode & 0x10 != 0 { MAPI_UNICODE } else { 0 };
    let so = obj(store as *mut c_void, Kind::Store);
    read_everything(so, unicode);
    // The store's GUID, from its own entry ID.
    let mut tags = [1u32, PR_STORE_ENTRYID];
    let mut n = 0;
    let mut vals: LPSPropValue = ptr::null_mut();
    let hr = (vt(so.p).GetProps)(
        so.p,
        tags.as_mut_ptr() as LPSPropTagArray,
        0,
        &mut n,
        &mut vals,
    );
    let mut guid = [0u8; 16];
    if hr == S_OK && (*vals).Value.bin.cb == 32 {
        guid.copy_from_slice(std::slice::from_raw_parts((*vals).Value.bin.lpb.add(4), 16));
    }
    take_props(
        hr,
        tags.as_ptr() as *const SPropTagArray,
        n,
        vals,
        MAPIFreeBufferFn,
    );
    let eid = |kind: u32, id: u64| {
        let mut e = vec![0u8; 4];
        e.extend_from_slice(&guid);
        e.extend_from_slice(&kind.to_le_bytes());
        e.extend_from_slice(&id.to_le_bytes());
        e
    };
    let mut folders = Vec::new();
    let mut messages = Vec::new();
    let open_flags = if mode & 0x20 != 0 {
        MAPI_MODIFY
    } else {
        MAPI_BEST_ACCESS
    };
    for id in 1..=10u64 {
        for kind in [MAPI_FOLDER, MAPI_MESSAGE] {
            let e = eid(kind, id);
            let (hr, ty, out) = store_open_entry(store, &e, open_flags);
            check_out_on_failure(hr, out as *const c_void, "OpenEntry");
            if hr != S_OK {
                continue;
            }
            assert_eq!(ty, kind, "OpenEntry returned another kind of object");
            let k = if kind == MAPI_FOLDER {
                Kind::Folder
            } else {
                Kind::Message
            };
            let o = obj(out as *mut c_void, k);
            read_everything(o, unicode);
            if kind == MAPI_FOLDER {
                folders.push(e);
            } else {
                messages.push(e);
            }
            w.objs.push(o);
        }
    }
    if mode & 0x40 != 0 {
        // Write through every object: messages saved (plain, then forced), folders given a new
        // message and a subfolder.
        let objs = w.objs.clone();
        for o in objs {
            write_probe(&mut w, o);
        }
    }
    if mode & 0x80 != 0 {
        // Delete: every folder's subfolders (with their contents) and messages.
        let objs = w.objs.clone();
        for o in objs.iter().filter(|o| o.kind == Kind::Folder) {
            let f = o.p as *mut IMAPIFolder;
            for e in &folders {
                let mut e = e.clone();
                let hr = ((*(*f).lpVtbl).DeleteFolder)(
                    f,
                    e.len() as u32,
                    e.as_mut_ptr() as LPENTRYID,
                    0,
                    ptr::null_mut(),
                    DEL_MESSAGES | DEL_FOLDERS,
                );
                std::hint::black_box(hr);
            }
            let mut bins: Vec<SBinary> = messages
                .iter()
                .map(|e| SBinary {
                    cb: e.len() as u32,
                    lpb: e.as_ptr() as LPBYTE,
                })
                .collect();
            let mut list = SBinaryArray {
                cValues: bins.len() as u32,
                lpbin: bins.as_mut_ptr(),
            };
            let hr = ((*(*f).lpVtbl).DeleteMessages)(f, &mut list, 0, ptr::null_mut(), 0);
            std::hint::black_box(hr);
        }
        for o in objs {
            read_everything(o, unicode);
            let hr = (vt(o.p).SaveChanges)(o.p, KEEP_OPEN_READWRITE);
            std::hint::black_box(hr);
        }
    }
    w.finish();
}

#[allow(non_upper_case_globals)]
const MAPIFreeBufferFn: FreeFn = msgstore::abi::alloc::MAPIFreeBuffer;

unsafe fn read_everything(o: Obj, unicode: u32) {
    let mut n = 0;
    let mut vals: LPSPropValue = ptr::null_mut();
    let hr = (vt(o.p).GetProps)(o.p, ptr::null_mut(), unicode, &mut n, &mut vals);
    take_props(hr, ptr::null(), n, vals, o.free);
    let mut tags: LPSPropTagArray = ptr::null_mut();
    let hr = (vt(o.p).GetPropList)(o.p, unicode, &mut tags);
    let list = take_tags(hr, tags, o.free);
    // Ask for each listed tag explicitly, and for the other string width.
    if !list.is_empty() {
        let mut words = vec![list.len() as u32];
        words.extend(list.iter().map(|t| match t & 0xFFFF {
            PT_STRING8 => (t & 0xFFFF_0000) | PT_UNICODE,
            PT_UNICODE => (t & 0xFFFF_0000) | PT_STRING8,
            _ => *t,
        }));
        let hr = (vt(o.p).GetProps)(
            o.p,
            words.as_mut_ptr() as LPSPropTagArray,
            0,
            &mut n,
            &mut vals,
        );
        take_props(hr, words.as_ptr() as *const SPropTagArray, n, vals, o.free);
    }
}

unsafe fn write_probe(w: &mut World, o: Obj) {
    let mut subject = *b"probe\0";
    let mut body: Vec<u16> = "body \u{263A}\0".encode_utf16().collect();
    let mut vals = [
        SPropValue {
            ulPropTag: PR_SUBJECT_A,
            dwAlignPad: 0,
            Value: PV {
                lpszA: subject.as_mut_ptr() as *mut i8,
            },
        },
        SPropValue {
            ulPropTag: PR_BODY_W,
            dwAlignPad: 0,
            Value: PV {
                lpszW: body.as_mut_ptr(),
            },
        },
    ];
    let mut problems: LPSPropProblemArray = ptr::null_mut();
    let hr = (vt(o.p).SetProps)(o.p, 2, vals.as_mut_ptr(), &mut problems);
    take_problems(hr, problems, o.free);
    let mut tags = [1u32, PR_SUBJECT_A];
    let hr = (vt(o.p).DeleteProps)(o.p, tags.as_mut_ptr() as LPSPropTagArray, &mut problems);
    take_problems(hr, problems, o.free);
    match o.kind {
        Kind::Message => {
            let m = o.p as *mut IMessage;
            std::hint::black_box(((*(*m).lpVtbl).SetReadFlag)(m, 0));
            std::hint::black_box((vt(o.p).SaveChanges)(o.p, KEEP_OPEN_READWRITE));
            let hr = (vt(o.p).SetProps)(o.p, 1, vals.as_mut_ptr(), &mut problems);
            take_problems(hr, problems, o.free);
            std::hint::black_box((vt(o.p).SaveChanges)(o.p, FORCE_SAVE | KEEP_OPEN_READWRITE));
            read_everything(o, 0);
        }
        Kind::Folder => {
            let f = o.p as *mut IMAPIFolder;
            let mut msg: *mut IMessage = ptr::null_mut();
            let hr = ((*(*f).lpVtbl).CreateMessage)(f, ptr::null(), 0, &mut msg);
            if hr == S_OK {
                let mp = msg as *mut IMAPIProp;
                // Copy the folder's properties into it, then save it.
                let hr = (vt(o.p).CopyTo)(
                    o.p,
                    0,
                    ptr::null(),
                    ptr::null_mut(),
                    0,
                    ptr::null_mut(),
                    ptr::null(),
                    mp as LPVOID,
                    0,
                    &mut problems,
                );
                take_problems(hr, problems, o.free);
                std::hint::black_box((vt(mp).SaveChanges)(mp, 0));
                (vt(mp).Release)(mp);
            }
            let name = b"fz\0";
            let mut sub: *mut IMAPIFolder = ptr::null_mut();
            let hr = ((*(*f).lpVtbl).CreateFolder)(
                f,
                FOLDER_GENERIC,
                name.as_ptr() as LPTSTR,
                ptr::null_mut(),
                ptr::null(),
                OPEN_IF_EXISTS,
                &mut sub,
            );
            if hr == S_OK {
                w.learn_entry_id(obj(sub as *mut c_void, Kind::Folder));
                ((*(*sub).lpVtbl).Release)(sub);
            }
        }
        _ => {}
    }
}
