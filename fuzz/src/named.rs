//! The `named` target: GetIDsFromNames and GetNamesFromIDs on the store, the root folder and a
//! message of one store, with hostile names (NULL entries, NULL GUIDs and strings, unknown
//! kinds, unpaired surrogates, names past the length limit), counts, tags inside and outside
//! the named range, GUID filters and flags; the store is reopened now and then, and a small
//! quota (MSGSTORE_NAMED_PROP_QUOTA, read at open) is reached. Checks: every HRESULT is one the
//! method may return, failures leave out-parameters NULL, every answer agrees with a model of
//! the mapping (one ID per name, one name per ID, IDs consecutive from 0x8000, never changed by
//! a reopen), every result is freed, and nothing is left alive.

use crate::common::*;
use crate::targets::{open_new_store, remove_store, saved_message, scratch_file};
use crate::world::{Kind, World};
use msgstore::abi::alloc::MAPIFreeBuffer;
use msgstore::abi::interfaces::*;
use msgstore::abi::store::MsgStoreOpen;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::collections::BTreeMap;
use std::ffi::{c_void, CString};
use std::ptr;

/// Names a store of this target may hold: small, so that inputs reach the quota.
const QUOTA: u16 = 12;
/// The library's limit on a string name, in UTF-16 units.
const MAX_NAME_UNITS: usize = 512;

const GUIDS: [GUID; 3] = [
    GUID {
        Data1: 0x0002_0329,
        Data2: 0,
        Data3: 0,
        Data4: [0xC0, 0, 0, 0, 0, 0, 0, 0x46],
    },
    GUID {
        Data1: 1,
        Data2: 2,
        Data3: 3,
        Data4: [4; 8],
    },
    GUID {
        Data1: 1,
        Data2: 2,
        Data3: 3,
        Data4: [5; 8],
    },
];

/// A name as the model keeps it: GUID bytes, then MNID_ID's number or MNID_STRING's units.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Id([u8; 16], i32),
    Str([u8; 16], Vec<u16>),
}

fn guid_bytes(g: &GUID) -> [u8; 16] {
    // SAFETY: a GUID is 16 bytes of plain data.
    unsafe { *(g as *const GUID as *const [u8; 16]) }
}

/// One name for GetIDsFromNames, and its key when the library must accept it (None: it must
/// refuse the call).
fn name(r: &mut Reader, a: &mut Arena) -> (LPMAPINAMEID, Option<Key>) {
    if r.one_in(32) {
        return (ptr::null_mut(), None);
    }
    let (lpguid, g) = if r.one_in(32) {
        (ptr::null_mut(), None)
    } else {
        let g = if r.one_in(8) {
            GUID {
                Data1: r.u32(),
                Data2: r.u16(),
                Data3: r.u16(),
                Data4: r.u64().to_le_bytes(),
            }
        } else {
            r.pick(&GUIDS)
        };
        (a.put(vec![g]), Some(guid_bytes(&g)))
    };
    let mut n = MAPINAMEID {
        lpguid,
        ulKind: MNID_ID,
        Kind: MAPINAMEID_KIND { lID_Reserved: 0 },
    };
    let key = match r.u8() % 8 {
        0..=2 => {
            let lid = if r.one_in(4) {
                r.u32() as i32
            } else {
                r.below(4) as i32
            };
            n.Kind.lID = lid;
            g.map(|g| Key::Id(g, lid))
        }
        3..=6 => {
            n.ulKind = MNID_STRING;
            if r.one_in(32) {
                n.Kind.lpwstrName = ptr::null_mut();
                None
            } else {
                let units: Vec<u16> = match r.u8() % 16 {
                    0 => vec![0xD800, b'x' as u16],
                    1 => vec![b'n' as u16; MAX_NAME_UNITS + r.below(2)],
                    2 => (0..r.below(6)).map(|_| r.u16().max(1)).collect(),
                    _ => {
                        let words: [&[u8]; 4] = [b"a", b"A", b"ab", b""];
                        r.pick(&words).iter().map(|b| *b as u16).collect()
                    }
                };
                let valid = char::decode_utf16(units.iter().copied()).all(|c| c.is_ok())
                    && units.len() <= MAX_NAME_UNITS;
                let mut z = units.clone();
                z.push(0);
                n.Kind.lpwstrName = a.put(z);
                g.filter(|_| valid).map(|g| Key::Str(g, units))
            }
        }
        _ => {
            let any = r.u32();
            n.ulKind = r.pick(&[2, 3, u32::MAX, any]);
            if n.ulKind <= MNID_STRING {
                n.ulKind = 2;
            }
            None
        }
    };
    (a.put(vec![n]), key)
}

/// The model: the mapping the store must have.
#[derive(Default)]
struct Model {
    ids: BTreeMap<Key, u16>,
    names: BTreeMap<u16, Key>,
}

impl Model {
    fn learn(&mut self, key: &Key, id: u16) {
        match self.ids.get(key) {
            Some(&known) => assert_eq!(known, id, "{key:?} changed its ID"),
            None => {
                assert_eq!(
                    id as usize,
                    0x8000 + self.ids.len(),
                    "IDs are given consecutively"
                );
                assert!(
                    self.names.insert(id, key.clone()).is_none(),
                    "{id:#x} given twice"
                );
                self.ids.insert(key.clone(), id);
            }
        }
    }
}

/// The key of a returned MAPINAMEID.
unsafe fn key_of(n: &MAPINAMEID) -> Key {
    assert!(!n.lpguid.is_null(), "a returned name without a GUID");
    let g = guid_bytes(&*n.lpguid);
    match n.ulKind {
        MNID_ID => Key::Id(g, n.Kind.lID),
        MNID_STRING => {
            let p = n.Kind.lpwstrName;
            assert!(!p.is_null());
            let mut v = Vec::new();
            let mut i = 0;
            while *p.add(i) != 0 {
                v.push(*p.add(i));
                i += 1;
            }
            Key::Str(g, v)
        }
        k => panic!("a returned name of kind {k}"),
    }
}

unsafe fn get_ids(r: &mut Reader, obj: *mut IMAPIProp, model: &mut Model, writable: bool) {
    let mut a = Arena::default();
    let flags = r.flags(MAPI_CREATE);
    let mut out: LPSPropTagArray = GARBAGE as LPSPropTagArray;
    if r.one_in(8) {
        // The NULL-names form (a count or MAPI_CREATE with it must be refused).
        let count = if r.one_in(4) {
            1 + r.below(3) as u32
        } else {
            0
        };
        let hr = ((*(*obj).lpVtbl).GetIDsFromNames)(obj, count, ptr::null_mut(), flags, &mut out);
        if count != 0 || flags & MAPI_CREATE != 0 || flags & !(MAPI_CREATE | MAPI_UNICODE) != 0 {
            assert!(
                hr == MAPI_E_INVALID_PARAMETER || hr == MAPI_E_UNKNOWN_FLAGS,
                "{hr:#x}"
            );
            assert!(out.is_null());
            return;
        }
        assert_eq!(hr, S_OK);
        let tags = std::slice::from_raw_parts((*out).aulPropTag.as_ptr(), (*out).cValues as usize);
        let want: Vec<u32> = model.names.keys().map(|id| (*id as u32) << 16).collect();
        assert_eq!(tags, &want[..], "the NULL form lists every ID");
        MAPIFreeBuffer(out as *mut c_void);
        return;
    }
    let n = 1 + r.below(6);
    let (ptrs, keys): (Vec<LPMAPINAMEID>, Vec<Option<Key>>) =
        (0..n).map(|_| name(r, &mut a)).unzip();
    let count = r.count(n);
    let p = a.put(ptrs);
    let hr = ((*(*obj).lpVtbl).GetIDsFromNames)(obj, count, p, flags, &mut out);
    let bad_flags = flags & !(MAPI_CREATE | MAPI_UNICODE) != 0;
    let bad_input = count as usize != n || keys.iter().any(Option::is_none);
    if hr < 0 {
        assert!(out.is_null(), "a failed call leaves its out-parameter NULL");
        match hr {
            MAPI_E_UNKNOWN_FLAGS => assert!(bad_flags),
            MAPI_E_INVALID_PARAMETER | MAPI_E_BAD_CHARWIDTH => assert!(bad_flags || bad_input),
            MAPI_E_TOO_BIG => {
                assert!(flags & MAPI_CREATE != 0 && writable);
                let new: std::collections::BTreeSet<&Key> = keys
                    .iter()
                    .flatten()
                    .filter(|k| !model.ids.contains_key(*k))
                    .collect();
                assert!(
                    model.ids.len() + new.len() > QUOTA as usize,
                    "quota hit early"
                );
            }
            _ => panic!("GetIDsFromNames returned {hr:#x}"),
        }
        return;
    }
    assert!(!bad_flags && !bad_input, "bad input accepted ({hr:#x})");
    assert!(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED, "{hr:#x}");
    assert_eq!((*out).cValues as usize, n);
    let tags = std::slice::from_raw_parts((*out).aulPropTag.as_ptr(), n);
    let mut errors = false;
    for (tag, key) in tags.iter().zip(&keys) {
        let key = key.as_ref().expect("checked above");
        if *tag == PT_ERROR {
            errors = true;
            assert!(
                flags & MAPI_CREATE == 0 || !writable,
                "a name was not created"
            );
            assert!(!model.ids.contains_key(key), "a known name was not found");
        } else {
            assert_eq!(tag & 0xFFFF, PT_UNSPECIFIED);
            model.learn(key, (tag >> 16) as u16);
        }
    }
    assert_eq!(hr == MAPI_W_ERRORS_RETURNED, errors);
    MAPIFreeBuffer(out as *mut c_void);
}

unsafe fn get_names(r: &mut Reader, obj: *mut IMAPIProp, model: &Model) {
    let mut a = Arena::default();
    let flags = r.flags(MAPI_NO_STRINGS | MAPI_NO_IDS);
    let filter = if r.one_in(3) {
        Some(r.pick(&GUIDS))
    } else {
        None
    };
    let lpguid = filter.map_or(ptr::null_mut(), |g| a.put(vec![g]));
    let accepts = |k: &Key| {
        let (g, is_id) = match k {
            Key::Id(g, _) => (g, true),
            Key::Str(g, _) => (g, false),
        };
        filter.is_none_or(|f| guid_bytes(&f) == *g)
            && if is_id {
                flags & MAPI_NO_IDS == 0
            } else {
                flags & MAPI_NO_STRINGS == 0
            }
    };
    let bad_flags = flags & !(MAPI_NO_STRINGS | MAPI_NO_IDS | MAPI_UNICODE) != 0;
    let mut count: ULONG = GARBAGE as ULONG;
    let mut names: *mut LPMAPINAMEID = GARBAGE as *mut LPMAPINAMEID;
    let null_form = r.one_in(4);
    let n = r.below(6);
    let ids: Vec<u16> = (0..n)
        .map(|_| match r.u8() % 4 {
            0 => r.u16(),
            _ => 0x8000 + r.below(QUOTA as usize + 2) as u16,
        })
        .collect();
    let mut words: Vec<u32> = vec![n as u32];
    words.extend(ids.iter().map(|id| ((*id as u32) << 16) | r.pick(TYPES)));
    let given = a.put(words) as LPSPropTagArray;
    let mut tags: LPSPropTagArray = if null_form { ptr::null_mut() } else { given };
    let hr =
        ((*(*obj).lpVtbl).GetNamesFromIDs)(obj, &mut tags, lpguid, flags, &mut count, &mut names);
    if hr < 0 {
        assert!(names.is_null());
        assert_eq!(count, 0);
        assert_eq!(tags, if null_form { ptr::null_mut() } else { given });
        assert!(
            (hr == MAPI_E_UNKNOWN_FLAGS && bad_flags)
                || (hr == MAPI_E_INVALID_PARAMETER && !null_form && n == 0),
            "GetNamesFromIDs returned {hr:#x}"
        );
        return;
    }
    assert!(!bad_flags);
    if null_form {
        assert_eq!(hr, S_OK);
        assert!(!tags.is_null());
        let want: Vec<(u16, &Key)> = model
            .names
            .iter()
            .filter(|(_, k)| accepts(k))
            .map(|(id, k)| (*id, k))
            .collect();
        assert_eq!((*tags).cValues as usize, want.len());
        assert_eq!(count as usize, want.len());
        for (i, (id, key)) in want.iter().enumerate() {
            assert_eq!((*tags).aulPropTag.as_ptr().add(i).read() >> 16, *id as u32);
            assert_eq!(key_of(&**names.add(i)), **key);
        }
        MAPIFreeBuffer(tags as *mut c_void);
        MAPIFreeBuffer(names as *mut c_void);
        return;
    }
    assert_eq!(tags, given, "the caller's array stays the caller's");
    assert_eq!(count as usize, n);
    let mut missing = false;
    for (i, id) in ids.iter().enumerate() {
        let p = *names.add(i);
        match model.names.get(id).filter(|k| accepts(k)) {
            Some(key) => assert_eq!(key_of(&*p), *key),
            None => {
                assert!(p.is_null(), "{id:#x} has no name here");
                missing = true;
            }
        }
    }
    assert_eq!(hr == MAPI_W_ERRORS_RETURNED, missing, "{hr:#x}");
    MAPIFreeBuffer(names as *mut c_void);
}

/// A pointer the library must overwrite on every path.
const GARBAGE: usize = 0xDEAD_BEEF;

pub fn named(data: &[u8]) {
    static QUOTA_SET: std::sync::Once = std::sync::Once::new();
    QUOTA_SET.call_once(|| std::env::set_var("MSGSTORE_NAMED_PROP_QUOTA", QUOTA.to_string()));
    let path = scratch_file();
    let mut r = Reader::new(data);
    let mut w = World::new();
    let mut model = Model::default();
    // SAFETY: every pointer handed to the library is valid (the arena keeps the data alive) and
    // every object is one the library returned and `w` holds a reference on.
    unsafe {
        let (store, root) = open_new_store(&mut w, &path);
        let msg = saved_message(&mut w, root, b"named");
        w.add(msg as *mut c_void, Kind::Message, mapi_free());
        let mut objs: Vec<*mut IMAPIProp> = vec![
            store as *mut IMAPIProp,
            root as *mut IMAPIProp,
            msg as *mut IMAPIProp,
        ];
        let mut writable = true;
        let mut steps = 0;
        while !r.is_empty() && steps < 48 {
            steps += 1;
            let obj = r.pick(&objs);
            match r.u8() % 8 {
                0..=3 => get_ids(&mut r, obj, &mut model, writable),
                4..=6 => get_names(&mut r, obj, &model),
                _ => {
                    // Reopen, read-only or writable: the mapping must be the same.
                    for o in std::mem::take(&mut w.objs) {
                        ((*(*o.p).lpVtbl).Release)(o.p);
                    }
                    writable = r.bool();
                    let flags = if writable {
                        MDB_WRITE | MSGSTORE_NO_SYNC
                    } else {
                        0
                    };
                    let c = CString::new(path.to_str().expect("UTF-8 path")).unwrap();
                    let mut s: LPMDB = ptr::null_mut();
                    assert_eq!(MsgStoreOpen(c.as_ptr(), flags, &mut s), S_OK);
                    w.add(s as *mut c_void, Kind::Store, mapi_free());
                    objs = vec![s as *mut IMAPIProp];
                }
            }
        }
    }
    w.finish();
    remove_store(&path);
}
