//! The `streams` target: OpenProperty(…, IID_IStream, …) on a message, an attachment, the root
//! folder and the store with hostile tags, interfaces, STGM options and flags, then Read, Write,
//! Seek, SetSize, CopyTo, Commit, Revert, Clone, Stat, LockRegion and Release on the streams in
//! any order, with SaveChanges and the release of the message in between. Checks: every HRESULT
//! is one the method may return, failures leave out-parameters NULL, every stream agrees with a
//! model of its bytes and position (clones share bytes, not positions; the model is re-read from
//! the stream where the library decides, after Revert, CopyTo into it, and a Commit on the same
//! property), a stream whose message was released answers MAPI_E_INVALID_OBJECT, and nothing is
//! left alive.

use crate::common::*;
use crate::targets::{open_new_store, remove_store, saved_message, scratch_file};
use crate::world::World;
use msgstore::abi::iids::IID_IStream;
use msgstore::abi::interfaces::*;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;

const TAGS: &[u32] = &[
    0x6701_0102, // a binary property
    PR_SUBJECT_A,
    PR_SUBJECT_W,
    PR_BODY_A,
    PR_BODY_W,
    PR_ATTACH_DATA_BIN,
    PR_ATTACH_DATA_OBJ,
    PR_ENTRYID,
    0x6702_0003, // PT_LONG: does not stream
];

/// The objects streams are opened on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Message,
    Attach,
    Folder,
    Store,
}

/// One opened stream: its bytes (shared with its clones) and its position.
struct Open {
    s: *mut IStream,
    owner: Owner,
    tag: u32,
    writable: bool,
    bytes: Rc<RefCell<Vec<u8>>>,
    pos: u64,
}

const MAX_STREAMS: usize = 8;
const POS_MAX: u64 = i64::MAX as u64;
/// The largest value the SQLite engine keeps (core refuses larger writes with STG_E_MEDIUMFULL).
const LIMIT: u64 = 256 << 20;

unsafe fn vt<'a>(s: *mut IStream) -> &'a IStreamVtbl {
    &*(*s).lpVtbl
}

/// The stream's bytes as the library holds them (read from 0; the position restored).
unsafe fn read_all(s: *mut IStream, pos: u64) -> Vec<u8> {
    let v = vt(s);
    let mut st: STATSTG = std::mem::zeroed();
    assert_eq!((v.Stat)(s, &mut st, STATFLAG_NONAME), S_OK);
    let size = st.cbSize.QuadPart;
    assert!(size < 1 << 24, "a stream of {size} bytes");
    assert_eq!(
        (v.Seek)(
            s,
            LARGE_INTEGER { QuadPart: 0 },
            STREAM_SEEK_SET,
            ptr::null_mut()
        ),
        S_OK
    );
    let mut out = vec![0u8; size as usize];
    let mut got: ULONG = 0;
    assert_eq!(
        (v.Read)(s, out.as_mut_ptr().cast(), size as ULONG, &mut got),
        S_OK
    );
    assert_eq!(u64::from(got), size, "Read returned less than Stat's size");
    let mut back = ULARGE_INTEGER { QuadPart: 0 };
    assert_eq!(
        (v.Seek)(
            s,
            LARGE_INTEGER {
                QuadPart: pos as i64
            },
            STREAM_SEEK_SET,
            &mut back
        ),
        S_OK
    );
    assert_eq!(back.QuadPart, pos);
    out
}

struct State {
    streams: Vec<Open>,
    message_alive: bool,
}

impl State {
    fn alive(&self, o: &Open) -> bool {
        o.owner != Owner::Message && o.owner != Owner::Attach || self.message_alive
    }

    /// Re-reads the model of every live stream on (`owner`, the ID of `tag`).
    unsafe fn resync(&mut self, owner: Owner, tag: u32) {
        let alive = self.message_alive;
        for o in &mut self.streams {
            let on_message = matches!(o.owner, Owner::Message | Owner::Attach);
            if o.owner == owner && o.tag >> 16 == tag >> 16 && (!on_message || alive) {
                *o.bytes.borrow_mut() = read_all(o.s, o.pos);
            }
        }
    }
}

fn expect(hr: HRESULT, allowed: &[HRESULT], what: &str) {
    assert!(
        allowed.contains(&hr),
        "{what} returned 0x{:08X}, not one of {allowed:08X?}",
        hr as u32
    );
}

pub fn streams(data: &[u8]) {
    let path = scratch_file();
    let mut r = Reader::new(data);
    let mut w = World::new();
    let mut a = Arena::default();
    // SAFETY: every pointer handed to the library is valid (locals or the arena) and every object
    // is one the library returned and this function (or `w`) holds a reference on.
    unsafe {
        let (store, root) = open_new_store(&mut w, &path);
        let mut msg = saved_message(&mut w, root, b"streams");
        let mut att: *mut IAttach = ptr::null_mut();
        let mut num: ULONG = 0;
        assert_eq!(
            ((*(*msg).lpVtbl).CreateAttach)(msg, ptr::null(), 0, &mut num, &mut att),
            S_OK
        );
        let mut st = State {
            streams: Vec::new(),
            message_alive: true,
        };
        let mut steps = 0;
        while !r.is_empty() && steps < 64 {
            steps += 1;
            let op = r.u8() % 16;
            if op <= 2 || st.streams.is_empty() {
                open(&mut r, &mut a, &mut st, store, root, msg, att);
                continue;
            }
            let i = r.below(st.streams.len());
            let alive = st.alive(&st.streams[i]);
            let o = &mut st.streams[i];
            let s = o.s;
            let v = vt(s);
            let dead = |hr: HRESULT, what: &str| {
                assert_eq!(
                    hr, MAPI_E_INVALID_OBJECT,
                    "{what} on a released message's stream"
                )
            };
            match op {
                3 | 4 => {
                    let data = r.bytes(64);
                    let mut n: ULONG = GARBAGE;
                    let hr = (v.Write)(s, data.as_ptr().cast(), data.len() as ULONG, &mut n);
                    if !alive {
                        dead(hr, "Write");
                    } else if !o.writable {
                        assert_eq!(hr, STG_E_ACCESSDENIED);
                        assert_eq!(n, 0);
                    } else if o.pos + data.len() as u64 > LIMIT {
                        expect(hr, &[STG_E_MEDIUMFULL], "Write far past the end");
                    } else {
                        assert_eq!(hr, S_OK);
                        assert_eq!(n as usize, data.len());
                        let mut b = o.bytes.borrow_mut();
                        let end = o.pos as usize + data.len();
                        if b.len() < end {
                            b.resize(end, 0);
                        }
                        b[o.pos as usize..end].copy_from_slice(&data);
                        o.pos = end as u64;
                    }
                }
                5 | 6 => {
                    let want = r.below(100);
                    let mut buf = vec![0u8; want];
                    let mut n: ULONG = GARBAGE;
                    let hr = (v.Read)(s, buf.as_mut_ptr().cast(), want as ULONG, &mut n);
                    if !alive {
                        dead(hr, "Read");
                    } else {
                        assert_eq!(hr, S_OK);
                        let b = o.bytes.borrow();
                        let start = (o.pos.min(b.len() as u64)) as usize;
                        let expect_n = want.min(b.len() - start);
                        assert_eq!(n as usize, expect_n, "Read's count");
                        assert_eq!(
                            &buf[..expect_n],
                            &b[start..start + expect_n],
                            "Read's bytes"
                        );
                        o.pos += expect_n as u64;
                    }
                }
                7 => {
                    let origin = if r.one_in(16) {
                        r.u32()
                    } else {
                        r.below(3) as u32
                    };
                    let offset: i64 = match r.u8() % 4 {
                        0 => r.u64() as i64,
                        1 => i64::MAX,
                        _ => r.below(200) as i64 - 100,
                    };
                    let mut np = ULARGE_INTEGER { QuadPart: 7 };
                    let hr = (v.Seek)(s, LARGE_INTEGER { QuadPart: offset }, origin, &mut np);
                    if !alive {
                        dead(hr, "Seek");
                        continue;
                    }
                    let base = match origin {
                        STREAM_SEEK_SET => Some(0i128),
                        STREAM_SEEK_CUR => Some(o.pos as i128),
                        STREAM_SEEK_END => Some(o.bytes.borrow().len() as i128),
                        _ => None,
                    };
                    match base.map(|b| b + offset as i128) {
                        Some(p) if (0..=POS_MAX as i128).contains(&p) => {
                            assert_eq!(hr, S_OK);
                            assert_eq!(np.QuadPart as i128, p);
                            o.pos = p as u64;
                        }
                        _ => assert_eq!(hr, STG_E_INVALIDFUNCTION),
                    }
                }
                8 => {
                    let size = if r.one_in(8) {
                        r.u64()
                    } else {
                        r.below(300) as u64
                    };
                    let hr = (v.SetSize)(s, ULARGE_INTEGER { QuadPart: size });
                    if !alive {
                        dead(hr, "SetSize");
                    } else if !o.writable {
                        assert_eq!(hr, STG_E_ACCESSDENIED);
                    } else if size > LIMIT {
                        expect(hr, &[STG_E_MEDIUMFULL], "SetSize past the limit");
                    } else {
                        assert_eq!(hr, S_OK);
                        o.bytes.borrow_mut().resize(size as usize, 0);
                    }
                }
                9 => {
                    let flags = r.flags(0xF);
                    let hr = (v.Commit)(s, flags);
                    let (owner, tag) = (o.owner, o.tag);
                    if !alive {
                        // Flags are checked first, then the object.
                        if flags & !0xF == 0 {
                            dead(hr, "Commit");
                        }
                        continue;
                    }
                    expect(
                        hr,
                        &[
                            S_OK,
                            STG_E_INVALIDFLAG,
                            STG_E_INVALIDPARAMETER,
                            MAPI_E_INVALID_PARAMETER,
                            MAPI_E_NO_ACCESS,
                        ],
                        "Commit",
                    );
                    if flags & !0xF != 0 {
                        assert_eq!(hr, STG_E_INVALIDFLAG);
                    }
                    if hr == S_OK {
                        st.resync(owner, tag);
                    }
                }
                10 => {
                    let hr = (v.Revert)(s);
                    if !alive {
                        dead(hr, "Revert");
                    } else {
                        assert_eq!(hr, S_OK);
                        let (owner, tag) = (o.owner, o.tag);
                        // Revert drops what this stream (and its clones) wrote.
                        let bytes = o.bytes.clone();
                        *bytes.borrow_mut() = read_all(s, o.pos);
                        st.resync(owner, tag);
                    }
                }
                11 => {
                    let mut c: *mut IStream = GARBAGE_PTR.cast();
                    let hr = (v.Clone)(s, &mut c);
                    if !alive {
                        dead(hr, "Clone");
                        assert!(c.is_null());
                    } else {
                        assert_eq!(hr, S_OK);
                        let twin = Open {
                            s: c,
                            owner: o.owner,
                            tag: o.tag,
                            writable: o.writable,
                            bytes: o.bytes.clone(),
                            pos: o.pos,
                        };
                        push(&mut st, twin);
                    }
                }
                12 => {
                    let j = r.below(st.streams.len());
                    let cb = r.below(200) as u64;
                    let dst = st.streams[j].s;
                    let mut rd = ULARGE_INTEGER { QuadPart: 9 };
                    let mut wr = ULARGE_INTEGER { QuadPart: 9 };
                    let hr = (v.CopyTo)(s, dst, ULARGE_INTEGER { QuadPart: cb }, &mut rd, &mut wr);
                    expect(
                        hr,
                        &[
                            S_OK,
                            MAPI_E_INVALID_OBJECT,
                            STG_E_ACCESSDENIED,
                            STG_E_MEDIUMFULL,
                        ],
                        "CopyTo",
                    );
                    assert!(rd.QuadPart <= cb && wr.QuadPart <= rd.QuadPart);
                    // Both sides moved as the library saw fit: take its word for both.
                    for k in [i, j] {
                        let o = &mut st.streams[k];
                        if st.message_alive || !matches!(o.owner, Owner::Message | Owner::Attach) {
                            let mut np = ULARGE_INTEGER { QuadPart: 0 };
                            let zero = LARGE_INTEGER { QuadPart: 0 };
                            assert_eq!((vt(o.s).Seek)(o.s, zero, STREAM_SEEK_CUR, &mut np), S_OK);
                            o.pos = np.QuadPart;
                            *o.bytes.borrow_mut() = read_all(o.s, o.pos);
                        }
                    }
                }
                13 => {
                    let mut stat: STATSTG = std::mem::zeroed();
                    let flags = r.flags(STATFLAG_NONAME | STATFLAG_NOOPEN);
                    let hr = (v.Stat)(s, &mut stat, flags);
                    assert!(stat.pwcsName.is_null());
                    if !alive {
                        if flags & !3 == 0 {
                            dead(hr, "Stat");
                        }
                    } else if flags & !3 != 0 {
                        assert_eq!(hr, STG_E_INVALIDFLAG);
                    } else {
                        assert_eq!(hr, S_OK);
                        assert_eq!(stat.cbSize.QuadPart, o.bytes.borrow().len() as u64);
                        assert_eq!(stat.r#type, STGTY_STREAM);
                    }
                    let z = ULARGE_INTEGER { QuadPart: 0 };
                    assert_eq!((v.LockRegion)(s, z, z, 1), MAPI_E_NO_SUPPORT);
                }
                14 => {
                    let o = st.streams.swap_remove(i);
                    (vt(o.s).Release)(o.s);
                }
                _ => {
                    if st.message_alive && r.one_in(4) {
                        // The client lets go of the message (and its attachment): their streams
                        // must say so from now on.
                        ((*(*att).lpVtbl).Release)(att);
                        att = ptr::null_mut();
                        let hr = ((*(*msg).lpVtbl).Release)(msg);
                        assert_eq!(hr, 0);
                        msg = ptr::null_mut();
                        st.message_alive = false;
                    } else if st.message_alive {
                        let flags = r.flags(KEEP_OPEN_READWRITE | FORCE_SAVE);
                        let hr = ((*(*att).lpVtbl).SaveChanges)(att, KEEP_OPEN_READWRITE);
                        expect(hr, &[S_OK, MAPI_E_NO_ACCESS], "IAttach::SaveChanges");
                        let hr = ((*(*msg).lpVtbl).SaveChanges)(msg, flags);
                        expect(
                            hr,
                            &[S_OK, MAPI_E_NO_ACCESS, MAPI_E_UNKNOWN_FLAGS],
                            "SaveChanges",
                        );
                    }
                }
            }
        }
        for o in st.streams.drain(..) {
            (vt(o.s).Release)(o.s);
        }
        if !att.is_null() {
            ((*(*att).lpVtbl).Release)(att);
        }
        if !msg.is_null() {
            ((*(*msg).lpVtbl).Release)(msg);
        }
    }
    drop(a);
    w.finish();
    remove_store(&path);
}

const GARBAGE: ULONG = 0xDEAD_BEEF;
const GARBAGE_PTR: *mut c_void = 0xDEAD_BEEF_usize as *mut c_void;

fn push(st: &mut State, o: Open) {
    if st.streams.len() >= MAX_STREAMS {
        // SAFETY: `o.s` is a live stream we own a reference on.
        unsafe { (vt(o.s).Release)(o.s) };
    } else {
        st.streams.push(o);
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn open(
    r: &mut Reader,
    a: &mut Arena,
    st: &mut State,
    store: LPMDB,
    root: *mut IMAPIFolder,
    msg: *mut IMessage,
    att: *mut IAttach,
) {
    let mut owners = vec![
        (Owner::Folder, root as *mut IMAPIProp),
        (Owner::Store, store as *mut IMAPIProp),
    ];
    if st.message_alive {
        owners.push((Owner::Message, msg as *mut IMAPIProp));
        owners.push((Owner::Attach, att as *mut IMAPIProp));
    }
    let (owner, obj) = owners[r.below(owners.len())];
    let tag = if r.one_in(16) { r.u32() } else { r.pick(TAGS) };
    let iid = if r.one_in(8) {
        iid(r, a)
    } else {
        &IID_IStream as *const IID
    };
    let opts = r.flags(0x3 | 0x70 | STGM_CREATE | STGM_TRANSACTED);
    let flags = r.flags(MAPI_MODIFY | MAPI_CREATE | STREAM_APPEND | MAPI_DEFERRED_ERRORS);
    let mut unk: *mut IUnknown = GARBAGE_PTR.cast();
    let hr = ((*(*obj).lpVtbl).OpenProperty)(obj, tag, iid, opts, flags, &mut unk);
    check_out_on_failure(hr, unk as *const c_void, "OpenProperty");
    if hr != S_OK {
        expect(
            hr,
            &[
                MAPI_E_NOT_FOUND,
                MAPI_E_NO_SUPPORT,
                MAPI_E_NO_ACCESS,
                MAPI_E_UNKNOWN_FLAGS,
                MAPI_E_INVALID_PARAMETER,
                MAPI_E_INTERFACE_NOT_SUPPORTED,
                MAPI_E_BAD_CHARWIDTH,
            ],
            "OpenProperty",
        );
        return;
    }
    let is_stream = !iid.is_null() && *iid == IID_IStream;
    if !is_stream {
        // A table or an embedded message: not this target's business.
        ((*(*unk).lpVtbl).Release)(unk);
        return;
    }
    let s = unk as *mut IStream;
    let mut pos = ULARGE_INTEGER { QuadPart: 0 };
    let zero = LARGE_INTEGER { QuadPart: 0 };
    assert_eq!((vt(s).Seek)(s, zero, STREAM_SEEK_CUR, &mut pos), S_OK);
    let bytes = read_all(s, pos.QuadPart);
    if flags & STREAM_APPEND != 0 {
        assert_eq!(
            pos.QuadPart,
            bytes.len() as u64,
            "STREAM_APPEND starts at the end"
        );
    } else {
        assert_eq!(pos.QuadPart, 0);
    }
    if flags & MAPI_CREATE != 0 {
        assert!(bytes.is_empty(), "MAPI_CREATE starts empty");
    }
    let o = Open {
        s,
        owner,
        tag,
        writable: flags & (MAPI_MODIFY | MAPI_CREATE) != 0,
        bytes: Rc::new(RefCell::new(bytes)),
        pos: pos.QuadPart,
    };
    push(st, o);
}
