//! Seed store files for the `store_file` target, made through the C ABI like any client's
//! store, then compacted to 512-byte pages so that the fuzzer mutates small files whose every
//! part means something (tables, indexes, records, the header).

use crate::foreign::Resolver;
use crate::targets::{
    open_new_store, remove_store, saved_message, scratch_file, store_open_entry, subfolder,
};
use crate::world::World;
use msgstore::abi::interfaces::*;
use msgstore::abi::store::MsgStoreSetConflictResolver;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::path::Path;
use std::ptr;

unsafe fn set(p: *mut IMAPIProp, vals: &mut [SPropValue]) {
    let hr = ((*(*p).lpVtbl).SetProps)(p, vals.len() as u32, vals.as_mut_ptr(), ptr::null_mut());
    assert_eq!(hr, S_OK);
}

fn v(tag: u32, value: PV) -> SPropValue {
    SPropValue {
        ulPropTag: tag,
        dwAlignPad: 0,
        Value: value,
    }
}

/// A store with folders, messages holding every stored type, an associated message, a message
/// saved twice, and one saved elsewhere by a resolver (the Conflicts folder).
unsafe fn full_store(path: &Path) {
    let mut w = World::new();
    let (store, root) = open_new_store(&mut w, path);
    let mut name: Vec<u16> = "seed store\0".encode_utf16().collect();
    set(
        store as *mut IMAPIProp,
        &mut [v(
            PR_DISPLAY_NAME_W,
            PV {
                lpszW: name.as_mut_ptr(),
            },
        )],
    );
    let a = subfolder(&mut w, root, "a");
    let b = subfolder(&mut w, a, "b");
    // Every scalar type.
    let m1 = saved_message(&mut w, root, b"scalars");
    let mut s8 = *b"narrow \xff\0";
    let mut bin = [1u8, 2, 3];
    let mut guid = GUID {
        Data1: 1,
        Data2: 2,
        Data3: 3,
        Data4: [4; 8],
    };
    let id = |n: u32, t: u32| (n << 16) | t;
    set(
        m1 as *mut IMAPIProp,
        &mut [
            v(id(0x6601, PT_I2), PV { i: -2 }),
            v(id(0x6602, PT_LONG), PV { l: 7 }),
            v(id(0x6603, PT_R4), PV { flt: 1.5 }),
            v(id(0x6604, PT_DOUBLE), PV { dbl: 2.5 }),
            v(
                id(0x6605, PT_CURRENCY),
                PV {
                    cur: CY { int64: 99 },
                },
            ),
            v(id(0x6606, PT_APPTIME), PV { at: 3.5 }),
            v(id(0x6607, PT_BOOLEAN), PV { b: 1 }),
            v(
                id(0x6608, PT_I8),
                PV {
                    li: LARGE_INTEGER { QuadPart: -9 },
                },
            ),
            v(
                id(0x6609, PT_STRING8),
                PV {
                    lpszA: s8.as_mut_ptr() as *mut i8,
                },
            ),
            v(
                id(0x660A, PT_SYSTIME),
                PV {
                    ft: FILETIME {
                        dwLowDateTime: 1,
                        dwHighDateTime: 2,
                    },
                },
            ),
            v(id(0x660B, PT_CLSID), PV { lpguid: &mut guid }),
            v(
                id(0x660C, PT_BINARY),
                PV {
                    bin: SBinary {
                        cb: 3,
                        lpb: bin.as_mut_ptr(),
                    },
                },
            ),
        ],
    );
    assert_eq!(((*(*m1).lpVtbl).SaveChanges)(m1, KEEP_OPEN_READWRITE), S_OK);
    // Every MV type that has a variable layout.
    let m2 = saved_message(&mut w, a, b"multi");
    let mut longs = [1i32, 2, 3];
    let mut w1: Vec<u16> = "x\0".encode_utf16().collect();
    let mut w2: Vec<u16> = "\u{263A}\0".encode_utf16().collect();
    let mut wides = [w1.as_mut_ptr(), w2.as_mut_ptr()];
    let mut n1 = *b"one\0";
    let mut narrows = [n1.as_mut_ptr() as *mut i8];
    let mut bins = [
        SBinary {
            cb: 3,
            lpb: bin.as_mut_ptr(),
        },
        SBinary {
            cb: 0,
            lpb: ptr::null_mut(),
        },
    ];
    let mut guids = [guid, guid];
    set(
        m2 as *mut IMAPIProp,
        &mut [
            v(
                id(0x6611, PT_MV_LONG),
                PV {
                    MVl: SLongArray {
                        cValues: 3,
                        lpl: longs.as_mut_ptr(),
                    },
                },
            ),
            v(
                id(0x6612, PT_MV_UNICODE),
                PV {
                    MVszW: SWStringArray {
                        cValues: 2,
                        lppszW: wides.as_mut_ptr(),
                    },
                },
            ),
            v(
                id(0x6613, PT_MV_STRING8),
                PV {
                    MVszA: SLPSTRArray {
                        cValues: 1,
                        lppszA: narrows.as_mut_ptr(),
                    },
                },
            ),
            v(
                id(0x6614, PT_MV_BINARY),
                PV {
                    MVbin: SBinaryArray {
                        cValues: 2,
                        lpbin: bins.as_mut_ptr(),
                    },
                },
            ),
            v(
                id(0x6615, PT_MV_CLSID),
                PV {
                    MVguid: SGuidArray {
                        cValues: 2,
                        lpguid: guids.as_mut_ptr(),
                    },
                },
            ),
        ],
    );
    assert_eq!(((*(*m2).lpVtbl).SaveChanges)(m2, KEEP_OPEN_READWRITE), S_OK);
    // An associated message.
    let mut fai: *mut IMessage = ptr::null_mut();
    assert_eq!(
        ((*(*b).lpVtbl).CreateMessage)(b, ptr::null(), MAPI_ASSOCIATED, &mut fai),
        S_OK
    );
    assert_eq!(((*(*fai).lpVtbl).SaveChanges)(fai, 0), S_OK);
    // A conflict a resolver saves elsewhere: the Conflicts folder and its message.
    let e = w.entry_ids[w.entry_ids.len() - 2].clone();
    let open = |e: &[u8]| {
        let (hr, _, out) = store_open_entry(store, e, MAPI_MODIFY);
        assert_eq!(hr, S_OK);
        out as *mut IMessage
    };
    let c1 = open(&e);
    let c2 = open(&e);
    let mut t1 = *b"first\0";
    let mut t2 = *b"second\0";
    set(
        c1 as *mut IMAPIProp,
        &mut [v(
            PR_SUBJECT_A,
            PV {
                lpszA: t1.as_mut_ptr() as *mut i8,
            },
        )],
    );
    set(
        c2 as *mut IMAPIProp,
        &mut [v(
            PR_SUBJECT_A,
            PV {
                lpszA: t2.as_mut_ptr() as *mut i8,
            },
        )],
    );
    assert_eq!(((*(*c1).lpVtbl).SaveChanges)(c1, 0), S_OK);
    // Script: no extra reads; action SAVE_ELSEWHERE; no destination (Conflicts); S_OK.
    let res = Resolver::create(vec![0, 3, 0, 1], Vec::new());
    assert_eq!(
        MsgStoreSetConflictResolver(store, res as LPMSGSTORECONFLICTRESOLVER),
        S_OK
    );
    assert_eq!(((*(*c2).lpVtbl).SaveChanges)(c2, 0), S_OK);
    assert_eq!(MsgStoreSetConflictResolver(store, ptr::null_mut()), S_OK);
    Resolver::finish(res);
    for m in [m1, m2, fai, c1, c2] {
        ((*(*m).lpVtbl).Release)(m);
    }
    for f in [a, b] {
        ((*(*f).lpVtbl).Release)(f);
    }
    w.finish();
}

/// Rewrites a closed store file with 512-byte pages and a rollback journal (MsgStoreOpen
/// switches a writable handle back to WAL), and returns its bytes.
fn compact(path: &Path) -> Vec<u8> {
    let conn = rusqlite::Connection::open(path).expect("open the seed store");
    conn.execute_batch("PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;")
        .expect("compact the seed store");
    drop(conn);
    std::fs::read(path).expect("read the seed store")
}

/// Writes the seed corpus of `store_file` into `dir`: an empty and a full store, each under
/// several first bytes (open flags and probes).
pub fn write_store_seeds(dir: &Path) {
    std::fs::create_dir_all(dir).expect("seed directory");
    let empty = scratch_file();
    let full = scratch_file();
    // SAFETY: the helpers release everything they open.
    unsafe {
        let mut w = World::new();
        open_new_store(&mut w, &empty);
        w.finish();
        full_store(&full);
    }
    for (name, path) in [("empty", &empty), ("full", &full)] {
        let bytes = compact(path);
        remove_store(path);
        for mode in [0x00u8, 0x41, 0xC0, 0xD2, 0xE3] {
            let mut data = vec![mode];
            data.extend_from_slice(&bytes);
            std::fs::write(dir.join(format!("seed-{name}-{mode:02x}")), data).expect("write seed");
        }
    }
}
