//! Store files changed with SQL from outside — someone else's SQLite database, a schema version
//! this build does not know, rows damaged the way a disk or a tool might — meet the library
//! through its C ABI exactly as a C client does: `MsgStoreOpen` and the vtables, with
//! out-parameters pre-set to garbage and `GetLastError` read back (DESIGN.md §2, §6).
//!
//! These tests used to be in `c-tests/store_test.c` (`test_open_not_a_store`,
//! `test_damage_found_later`), which had to declare SQLite's functions and know the schema.
//! The SQL lives in `tests/support/store_schema.rs`, the one place that knows the schema.
//!
//! `MsgStoreLiveObjects()` counts the objects of the whole process, so the tests of this file
//! take turns (`serial()`) and each one ends with it at 0.

#[path = "support/store_schema.rs"]
mod store_schema;

use msgstore::abi::alloc::MAPIFreeBuffer;
use msgstore::abi::consts::*;
use msgstore::abi::interfaces::*;
use msgstore::abi::store::MsgStoreOpen;
use msgstore::abi::types::*;
use msgstore::abi::{MsgStoreGetLastError, MsgStoreLiveObjects};
use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use store_schema::{damage, Damage};

// ---- plumbing: the C ABI from Rust, as store_util.h / test_util.h did it in C ----

/// A recognisable non-NULL pointer to pre-set out-parameters with (never dereferenced).
const GARBAGE_PTR: usize = 0xDEAD_BEEF;
const GARBAGE_ULONG: ULONG = 0xDEAD_BEEF;

/// A PT_LONG each test message carries (7 on the victim, 8 on the bystander).
const DAMAGE_LONG_ID: u16 = 0x6700;
const DAMAGE_LONG: ULONG = ((DAMAGE_LONG_ID as ULONG) << 16) | PT_LONG;
const SUBJECT_ID: u16 = (PR_SUBJECT_A >> 16) as u16;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn hr_name(hr: HRESULT) -> String {
    let mut name: *const std::ffi::c_char = ptr::null();
    unsafe { msgstore::abi::MsgStoreErrorName(hr, &mut name) };
    if name.is_null() {
        return "(unknown HRESULT)".to_string();
    }
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn check_hr(got: HRESULT, want: HRESULT, what: &str) {
    assert!(
        got == want,
        "{what}: expected {} (0x{:08X}), got {} (0x{:08X})",
        hr_name(want),
        want as u32,
        hr_name(got),
        got as u32
    );
}

/// A fresh directory for one test's store files.
fn test_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sqlite_damage")
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().unwrap()).unwrap()
}

/// One reference to a COM object of ours; Released on drop.
struct Com<T>(*mut T);

impl<T> Com<T> {
    fn p(&self) -> *mut T {
        self.0
    }
}

impl<T> Drop for Com<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // Every interface starts with IUnknown's three slots.
            let unk = self.0 as *mut IUnknown;
            unsafe { ((*(*unk).lpVtbl).Release)(unk) };
        }
    }
}

/// A MAPIAllocateBuffer block; freed on drop.
struct Buffer<T>(*mut T);

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        unsafe { MAPIFreeBuffer(self.0 as *mut c_void) };
    }
}

/// The error text `GetLastError` / `MsgStoreGetLastError` gives for `hr`.
fn error_text(err: LPMAPIERROR) -> String {
    assert!(!err.is_null(), "GetLastError returned no MAPIERROR");
    let err = Buffer(err);
    unsafe { CStr::from_ptr((*err.0).lpszError) }
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn check_mentions(text: &str, want: Option<&str>, what: &str) {
    if let Some(want) = want {
        assert!(
            text.contains(want),
            "{what}: \"{text}\" does not mention \"{want}\""
        );
    }
}

fn store_open(path: &Path, flags: ULONG) -> Com<IMsgStore> {
    let mut mdb: LPMDB = ptr::null_mut();
    let p = c_path(path);
    check_hr(
        unsafe { MsgStoreOpen(p.as_ptr(), flags, &mut mdb) },
        S_OK,
        "MsgStoreOpen",
    );
    assert!(!mdb.is_null());
    Com(mdb)
}

fn fresh_store(path: &Path) -> Com<IMsgStore> {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    store_open(path, MAPI_CREATE | MDB_WRITE)
}

/// The root folder, opened with MAPI_BEST_ACCESS.
fn store_root(mdb: &Com<IMsgStore>) -> Com<IMAPIFolder> {
    let mut ty: ULONG = 0;
    let mut unk: *mut IUnknown = ptr::null_mut();
    let hr = unsafe {
        ((*(*mdb.p()).lpVtbl).OpenEntry)(
            mdb.p(),
            0,
            ptr::null_mut(),
            ptr::null(),
            MAPI_BEST_ACCESS,
            &mut ty,
            &mut unk,
        )
    };
    check_hr(hr, S_OK, "OpenEntry(root)");
    assert_eq!(ty, MAPI_FOLDER);
    Com(unk as *mut IMAPIFolder)
}

/// An entry ID, copied out of its SPropValue.
#[derive(Clone)]
struct EntryId(Vec<u8>);

impl EntryId {
    /// The object ID inside one of our entry IDs (bytes 24..31, little-endian).
    fn object(&self) -> u64 {
        assert_eq!(self.0.len(), 32);
        u64::from_le_bytes(self.0[24..32].try_into().unwrap())
    }
}

/// OpenEntry of a message; `Err(hr)` with the out-parameters as the call left them checked by
/// the caller.
fn open_entry(
    mdb: &Com<IMsgStore>,
    eid: &EntryId,
    flags: ULONG,
) -> (HRESULT, ULONG, *mut IUnknown) {
    let mut ty: ULONG = GARBAGE_ULONG;
    let mut unk = GARBAGE_PTR as *mut IUnknown;
    let hr = unsafe {
        ((*(*mdb.p()).lpVtbl).OpenEntry)(
            mdb.p(),
            eid.0.len() as ULONG,
            eid.0.as_ptr() as LPENTRYID,
            ptr::null(),
            flags,
            &mut ty,
            &mut unk,
        )
    };
    (hr, ty, unk)
}

fn msg_open(mdb: &Com<IMsgStore>, eid: &EntryId, flags: ULONG) -> Com<IMessage> {
    let (hr, ty, unk) = open_entry(mdb, eid, flags);
    check_hr(hr, S_OK, "OpenEntry(message)");
    assert_eq!(ty, MAPI_MESSAGE);
    Com(unk as *mut IMessage)
}

fn msg_set(msg: &Com<IMessage>, mut value: SPropValue) {
    let hr = unsafe { ((*(*msg.p()).lpVtbl).SetProps)(msg.p(), 1, &mut value, ptr::null_mut()) };
    check_hr(hr, S_OK, "SetProps");
}

fn msg_set_str(msg: &Com<IMessage>, tag: ULONG, s: &str) {
    let s = CString::new(s).unwrap();
    msg_set(
        msg,
        SPropValue {
            ulPropTag: tag,
            dwAlignPad: 0,
            Value: PV {
                lpszA: s.as_ptr() as LPSTR,
            },
        },
    );
}

fn msg_set_long(msg: &Com<IMessage>, tag: ULONG, l: LONG) {
    msg_set(
        msg,
        SPropValue {
            ulPropTag: tag,
            dwAlignPad: 0,
            Value: PV { l },
        },
    );
}

fn save(msg: &Com<IMessage>, flags: ULONG) -> HRESULT {
    unsafe { ((*(*msg.p()).lpVtbl).SaveChanges)(msg.p(), flags) }
}

/// GetProps of one tag through IMAPIProp (every class's slots 0–13 are IMAPIProp's): the
/// HRESULT and the value block.
fn get_one<T>(obj: &Com<T>, tag: ULONG) -> (HRESULT, Buffer<SPropValue>) {
    let obj = obj.p() as *mut IMAPIProp;
    let mut tags = [1 as ULONG, tag];
    let mut n: ULONG = 0;
    let mut vals: LPSPropValue = ptr::null_mut();
    let hr = unsafe {
        ((*(*obj).lpVtbl).GetProps)(
            obj,
            tags.as_mut_ptr() as LPSPropTagArray,
            0,
            &mut n,
            &mut vals,
        )
    };
    if hr == S_OK || hr == MAPI_W_ERRORS_RETURNED {
        assert_eq!(n, 1);
    }
    (hr, Buffer(vals))
}

/// A PT_STRING8 property (the call's HRESULT, and "" when it failed).
fn get_str<T>(obj: &Com<T>, tag: ULONG) -> (HRESULT, String) {
    let (hr, v) = get_one(obj, tag);
    if hr != S_OK {
        return (hr, String::new());
    }
    let s = unsafe { CStr::from_ptr((*v.0).Value.lpszA) };
    (hr, s.to_string_lossy().into_owned())
}

fn get_long<T>(obj: &Com<T>, tag: ULONG) -> (HRESULT, LONG) {
    let (hr, v) = get_one(obj, tag);
    (
        hr,
        if hr == S_OK {
            unsafe { (*v.0).Value.l }
        } else {
            0
        },
    )
}

/// GetProps(NULL) must fail with `want` and clear both out-parameters.
#[track_caller]
fn check_get_all_props_fails<T>(obj: &Com<T>, want: HRESULT, check_count: bool) {
    let obj = obj.p() as *mut IMAPIProp;
    let mut n: ULONG = GARBAGE_ULONG;
    let mut vals = GARBAGE_PTR as LPSPropValue;
    let hr = unsafe { ((*(*obj).lpVtbl).GetProps)(obj, ptr::null_mut(), 0, &mut n, &mut vals) };
    check_hr(hr, want, "GetProps(NULL)");
    if check_count {
        assert_eq!(n, 0);
    }
    assert!(vals.is_null());
}

/// CreateMessage + PR_SUBJECT_A + SaveChanges(KEEP_OPEN_READONLY); returns the entry ID.
fn msg_create(folder: &Com<IMAPIFolder>, subject: &str) -> EntryId {
    let mut msg: *mut IMessage = ptr::null_mut();
    let hr =
        unsafe { ((*(*folder.p()).lpVtbl).CreateMessage)(folder.p(), ptr::null(), 0, &mut msg) };
    check_hr(hr, S_OK, "CreateMessage");
    let msg = Com(msg);
    msg_set_str(&msg, PR_SUBJECT_A, subject);
    check_hr(save(&msg, KEEP_OPEN_READONLY), S_OK, "SaveChanges");
    let (hr, v) = get_one(&msg, PR_ENTRYID);
    check_hr(hr, S_OK, "GetProps(PR_ENTRYID)");
    let v = unsafe { &*v.0 };
    assert_eq!(v.ulPropTag & 0xFFFF, PT_BINARY);
    let bin = unsafe { v.Value.bin };
    EntryId(unsafe { std::slice::from_raw_parts(bin.lpb, bin.cb as usize) }.to_vec())
}

/// MsgStoreOpen must refuse `path` with `want`, leave *lppMDB NULL and explain itself.
#[track_caller]
fn check_open_refused(path: &CStr, flags: ULONG, want: HRESULT, text: Option<&str>) {
    let mut mdb = GARBAGE_PTR as LPMDB;
    let hr = unsafe { MsgStoreOpen(path.as_ptr(), flags, &mut mdb) };
    check_hr(hr, want, &format!("MsgStoreOpen({path:?}, 0x{flags:X})"));
    assert!(mdb.is_null());
    let mut err: LPMAPIERROR = ptr::null_mut();
    check_hr(
        unsafe { MsgStoreGetLastError(want, 0, &mut err) },
        S_OK,
        "MsgStoreGetLastError",
    );
    check_mentions(&error_text(err), text, &format!("MsgStoreOpen({path:?})"));
}

/// The object's OpenEntry of `eid` must fail with `want`: NULL object, type 0, and GetLastError
/// explains.
#[track_caller]
fn check_open_entry_fails(
    mdb: &Com<IMsgStore>,
    eid: &EntryId,
    flags: ULONG,
    want: HRESULT,
    text: Option<&str>,
) {
    let (hr, ty, unk) = open_entry(mdb, eid, flags);
    check_hr(hr, want, "OpenEntry");
    assert!(unk.is_null());
    assert_eq!(ty, 0);
    let mut err: LPMAPIERROR = ptr::null_mut();
    check_hr(
        unsafe { ((*(*mdb.p()).lpVtbl).GetLastError)(mdb.p(), want, 0, &mut err) },
        S_OK,
        "GetLastError",
    );
    check_mentions(&error_text(err), text, "OpenEntry");
}

/// The bytes of a whole file, to prove a refused call wrote nothing.
fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[track_caller]
fn check_file_unchanged(path: &Path, before: &[u8]) {
    assert!(
        file_bytes(path) == before,
        "{} was changed by calls that were refused",
        path.display()
    );
}

#[track_caller]
fn check_no_live_objects() {
    assert_eq!(MsgStoreLiveObjects(), 0, "every object made was released");
}

// ---- files that are not stores, or stores this build must not open ----

/// Someone else's SQLite database: refused read-write, read-only and with MAPI_CREATE, and left
/// exactly as it was (not even switched to WAL); also one with a table called `meta` that is not
/// ours. (Moved from c-tests/store_test.c `test_open_not_a_store`.)
#[test]
fn foreign_sqlite_file_is_refused_and_untouched() {
    let _serial = serial();
    let dir = test_dir("foreign");
    let p = dir.join("foreign-sqlite.db");
    store_schema::make_foreign_sqlite(&p);
    let before = file_bytes(&p);
    let cp = c_path(&p);
    let text = Some("not a msgstore file");
    check_open_refused(&cp, MDB_WRITE, MAPI_E_CORRUPT_STORE, text);
    check_open_refused(&cp, MAPI_CREATE | MDB_WRITE, MAPI_E_CORRUPT_STORE, text);
    check_open_refused(&cp, 0, MAPI_E_CORRUPT_STORE, text);
    check_open_refused(&cp, MAPI_BEST_ACCESS, MAPI_E_CORRUPT_STORE, text);
    check_file_unchanged(&p, &before);

    let p = dir.join("foreign-meta.db");
    store_schema::make_foreign_sqlite_with_our_meta_table_name(&p);
    check_open_refused(&c_path(&p), MDB_WRITE, MAPI_E_CORRUPT_STORE, text);
    check_no_live_objects();
}

/// A store written by a newer schema: MAPI_E_VERSION, read-write or not, and untouched.
/// (Moved from c-tests/store_test.c `test_open_not_a_store`.)
#[test]
fn newer_schema_version_is_mapi_e_version_and_untouched() {
    let _serial = serial();
    let p = test_dir("newer-schema").join("newer-schema.db");
    drop(fresh_store(&p));
    let newer = store_schema::CURRENT_SCHEMA_VERSION + 1;
    store_schema::set_schema_version(&p, newer);
    let before = file_bytes(&p);
    let cp = c_path(&p);
    let text = format!("schema version {newer}");
    let text = Some(text.as_str());
    check_open_refused(&cp, MDB_WRITE, MAPI_E_VERSION, text);
    check_open_refused(&cp, 0, MAPI_E_VERSION, text);
    check_open_refused(&cp, MAPI_BEST_ACCESS, MAPI_E_VERSION, text);
    check_file_unchanged(&p, &before);
    check_no_live_objects();
}

/// A schema version that never existed, a missing one, and a damaged store GUID: not a store.
/// (Moved from c-tests/store_test.c `test_open_not_a_store`.)
#[test]
fn bad_schema_version_or_store_guid_is_corrupt_store() {
    let _serial = serial();
    let p = test_dir("bad-schema").join("bad-schema.db");
    drop(fresh_store(&p));
    let cp = c_path(&p);
    store_schema::set_schema_version(&p, 0);
    check_open_refused(
        &cp,
        MDB_WRITE,
        MAPI_E_CORRUPT_STORE,
        Some("schema version 0"),
    );
    store_schema::delete_schema_version(&p);
    check_open_refused(
        &cp,
        MDB_WRITE,
        MAPI_E_CORRUPT_STORE,
        Some("not a msgstore file"),
    );
    store_schema::restore_schema_version_and_damage_store_guid(&p);
    check_open_refused(&cp, 0, MAPI_E_CORRUPT_STORE, Some("GUID"));
    check_no_live_objects();
}

// ---- damage found later (DESIGN.md §6) ----
//
// Opening checks the header and schema only, so a store damaged after it was written opens,
// and the call that meets the damage reports it — MAPI_E_CORRUPT_STORE, or MAPI_E_NOT_FOUND
// for an object whose row is gone — with its out-parameters NULL, never a crash or a made-up
// value; everything else still works. (Moved from c-tests/store_test.c
// `test_damage_found_later`, `make_damaged`, `check_damaged_message`.)

/// A closed store with two messages (subject + DAMAGE_LONG each), before the damage.
struct Damaged {
    path: PathBuf,
    victim: EntryId,
    bystander: EntryId,
    root_id: u64,
}

impl Damaged {
    fn victim_id(&self) -> u64 {
        self.victim.object()
    }
}

fn make_store_to_damage(dir: &Path, name: &str) -> Damaged {
    let path = dir.join(name);
    let mdb = fresh_store(&path);
    let root = store_root(&mdb);
    let victim = msg_create(&root, "victim");
    let bystander = msg_create(&root, "bystander");
    for (eid, value) in [(&victim, 7), (&bystander, 8)] {
        let m = msg_open(&mdb, eid, MAPI_MODIFY);
        msg_set_long(&m, DAMAGE_LONG, value);
        check_hr(save(&m, 0), S_OK, "SaveChanges");
    }
    let (hr, root_eid) = get_one(&root, PR_ENTRYID);
    check_hr(hr, S_OK, "GetProps(root PR_ENTRYID)");
    let bin = unsafe { (*root_eid.0).Value.bin };
    let root_id =
        EntryId(unsafe { std::slice::from_raw_parts(bin.lpb, bin.cb as usize) }.to_vec()).object();
    Damaged {
        path,
        victim,
        bystander,
        root_id,
    }
}

/// The bystander still reads back exactly, and still saves.
#[track_caller]
fn check_bystander(mdb: &Com<IMsgStore>, bystander: &EntryId) {
    let m = msg_open(mdb, bystander, MAPI_MODIFY);
    assert_eq!(get_str(&m, PR_SUBJECT_A), (S_OK, "bystander".to_string()));
    assert_eq!(get_long(&m, DAMAGE_LONG), (S_OK, 8));
    msg_set_str(&m, PR_BODY_A, "still fine");
    check_hr(save(&m, 0), S_OK, "the bystander's SaveChanges");
}

/// A damaged message: OpenEntry (read-only and read-write) reports `want`; the bystander and
/// the root folder are unaffected.
#[track_caller]
fn check_damaged_message(
    dir: &Path,
    name: &str,
    how: impl Fn(u64) -> Damage,
    want: HRESULT,
    text: Option<&str>,
) {
    let d = make_store_to_damage(dir, name);
    damage(&d.path, how(d.victim_id()));
    let mdb = store_open(&d.path, MDB_WRITE); // the damage is not looked for at open
    check_open_entry_fails(&mdb, &d.victim, 0, want, text);
    check_open_entry_fails(&mdb, &d.victim, MAPI_MODIFY, want, text);
    check_bystander(&mdb, &d.bystander);
    let root = store_root(&mdb);
    let (hr, count) = get_long(&root, PR_CONTENT_COUNT);
    check_hr(hr, S_OK, "GetProps(PR_CONTENT_COUNT)");
    assert!(count == 1 || count == 2, "PR_CONTENT_COUNT {count}");
}

/// One property's stored value: too short for its type, of the wrong SQL type (text, integer),
/// an MV list whose lengths overrun, PT_UNICODE bytes that are not UTF-8; a tag whose type is
/// none this provider stores, and a tag beyond 32 bits.
#[test]
fn damaged_message_value_is_corrupt_store() {
    let _serial = serial();
    let dir = test_dir("damaged-value");
    let d = Some("damaged");
    let long = DAMAGE_LONG_ID;
    let subj = SUBJECT_ID;
    use Damage::*;
    #[allow(clippy::type_complexity)]
    let cases: [(&str, fn(u64, u16) -> Damage, u16, Option<&str>); 7] = [
        (
            "dmg-short.db",
            |obj, prop_id| ValueTooShort { obj, prop_id },
            long,
            d,
        ),
        (
            "dmg-text.db",
            // Text where a PT_LONG is stored (text is a string's own SQL type).
            |obj, prop_id| ValueIsText { obj, prop_id },
            long,
            None,
        ),
        (
            "dmg-int.db",
            |obj, prop_id| ValueIsInteger { obj, prop_id },
            subj,
            None,
        ),
        (
            "dmg-mv.db",
            |obj, prop_id| MvLengthOverruns { obj, prop_id },
            subj,
            d,
        ),
        (
            "dmg-utf8.db",
            |obj, prop_id| UnicodeNotUtf8 { obj, prop_id },
            subj,
            d,
        ),
        (
            "dmg-type.db",
            |obj, prop_id| TypeNotStored { obj, prop_id },
            subj,
            d,
        ),
        (
            "dmg-bigtag.db",
            |obj, prop_id| TagBeyond32Bits { obj, prop_id },
            subj,
            None,
        ),
    ];
    for (name, how, prop_id, text) in cases {
        check_damaged_message(
            &dir,
            name,
            |obj| how(obj, prop_id),
            MAPI_E_CORRUPT_STORE,
            text,
        );
    }
    check_no_live_objects();
}

/// The message's object row: its change number out of range or not a number, its flags not a
/// number (MAPI_E_CORRUPT_STORE); its kind changed, the row deleted (its properties orphaned),
/// everything of it deleted (MAPI_E_NOT_FOUND, as for a deleted message).
#[test]
fn damaged_message_row_is_corrupt_store_or_not_found() {
    let _serial = serial();
    let dir = test_dir("damaged-row");
    use Damage::*;
    #[allow(clippy::type_complexity)]
    let cases: [(&str, fn(u64) -> Damage, HRESULT, Option<&str>); 7] = [
        (
            "dmg-cn.db",
            |obj| ChangeNumberNegative { obj },
            MAPI_E_CORRUPT_STORE,
            None,
        ),
        (
            "dmg-cn-big.db",
            |obj| ChangeNumberBeyond48Bits { obj },
            MAPI_E_CORRUPT_STORE,
            None,
        ),
        (
            "dmg-cn-text.db",
            |obj| ChangeNumberNotANumber { obj },
            MAPI_E_CORRUPT_STORE,
            None,
        ),
        (
            "dmg-flags.db",
            |obj| FlagsNotANumber { obj },
            MAPI_E_CORRUPT_STORE,
            None,
        ),
        (
            "dmg-kind.db",
            |obj| KindChanged { obj },
            MAPI_E_NOT_FOUND,
            Some("no longer exists"),
        ),
        (
            "dmg-norow.db",
            |obj| ObjectRowDeleted { obj },
            MAPI_E_NOT_FOUND,
            Some("no longer exists"),
        ),
        (
            "dmg-gone.db",
            |obj| ObjectAndPropsDeleted { obj },
            MAPI_E_NOT_FOUND,
            Some("no longer exists"),
        ),
    ];
    for (name, how, want, text) in cases {
        check_damaged_message(&dir, name, how, want, text);
    }
    check_no_live_objects();
}

/// A folder's property: the folder opens, its GetProps reports the damage (both out-parameters
/// cleared), and the messages in it are unaffected.
#[test]
fn damaged_folder_property_is_corrupt_store_at_get_props() {
    let _serial = serial();
    let dir = test_dir("damaged-folder");
    let d = make_store_to_damage(&dir, "dmg-folder.db");
    damage(&d.path, Damage::UndecodablePropAdded { obj: d.root_id });
    {
        let mdb = store_open(&d.path, MDB_WRITE);
        let root = store_root(&mdb);
        check_get_all_props_fails(&root, MAPI_E_CORRUPT_STORE, true);
        let m = msg_open(&mdb, &d.victim, 0);
        assert_eq!(get_str(&m, PR_SUBJECT_A), (S_OK, "victim".to_string()));
        drop(m);
        check_bystander(&mdb, &d.bystander);
    }
    check_no_live_objects();
}

/// The store object's own property: its GetProps reports it; messages are unaffected.
#[test]
fn damaged_store_object_property_is_corrupt_store_at_get_props() {
    let _serial = serial();
    let dir = test_dir("damaged-storeobj");
    let d = make_store_to_damage(&dir, "dmg-storeobj.db");
    damage(
        &d.path,
        Damage::UndecodableUnicodePropAdded {
            obj: store_schema::STORE_OBJECT_ROW,
        },
    );
    {
        let mdb = store_open(&d.path, MDB_WRITE);
        check_get_all_props_fails(&mdb, MAPI_E_CORRUPT_STORE, true);
        check_bystander(&mdb, &d.bystander);
    }
    check_no_live_objects();
}

/// The store-wide change-number counter: reads work, every commit that needs a change number
/// is refused and writes nothing, and the message keeps its changes.
#[test]
fn damaged_change_number_counter_refuses_every_commit() {
    let _serial = serial();
    let dir = test_dir("damaged-counter");
    let d = make_store_to_damage(&dir, "dmg-counter.db");
    damage(&d.path, Damage::ChangeNumberCounterOutOfRange);
    {
        let mdb = store_open(&d.path, MDB_WRITE);
        let m = msg_open(&mdb, &d.victim, MAPI_MODIFY);
        msg_set_str(&m, PR_SUBJECT_A, "not saved");
        check_hr(
            save(&m, KEEP_OPEN_READWRITE),
            MAPI_E_CORRUPT_STORE,
            "SaveChanges",
        );
        assert_eq!(get_str(&m, PR_SUBJECT_A), (S_OK, "not saved".to_string()));
        drop(m);
        let m = msg_open(&mdb, &d.victim, 0);
        assert_eq!(get_str(&m, PR_SUBJECT_A), (S_OK, "victim".to_string()));
        drop(m);
        let root = store_root(&mdb);
        let mut sub = GARBAGE_PTR as *mut IMAPIFolder;
        let name = CString::new("sub").unwrap();
        let hr = unsafe {
            ((*(*root.p()).lpVtbl).CreateFolder)(
                root.p(),
                FOLDER_GENERIC,
                name.as_ptr() as LPTSTR,
                ptr::null_mut(),
                ptr::null(),
                0,
                &mut sub,
            )
        };
        check_hr(hr, MAPI_E_CORRUPT_STORE, "CreateFolder");
        assert!(sub.is_null());
    }
    check_no_live_objects();
}

/// A table gone: the store opens (constant-time open), and each call that needs the table
/// reports the damage.
#[test]
fn dropped_table_is_corrupt_store_where_it_is_needed() {
    let _serial = serial();
    let dir = test_dir("dropped-table");
    let d = make_store_to_damage(&dir, "dmg-noprops.db");
    damage(&d.path, Damage::PropsTableDropped);
    {
        let mdb = store_open(&d.path, MDB_WRITE);
        check_open_entry_fails(&mdb, &d.victim, 0, MAPI_E_CORRUPT_STORE, None);
        check_open_entry_fails(&mdb, &d.bystander, 0, MAPI_E_CORRUPT_STORE, None);
        check_get_all_props_fails(&mdb, MAPI_E_CORRUPT_STORE, false);
    }
    let d = make_store_to_damage(&dir, "dmg-noobjects.db");
    damage(&d.path, Damage::ObjectsTableDropped);
    {
        let mdb = store_open(&d.path, MDB_WRITE);
        check_open_entry_fails(&mdb, &d.bystander, 0, MAPI_E_CORRUPT_STORE, None);
        let mut ty: ULONG = GARBAGE_ULONG;
        let mut unk = GARBAGE_PTR as *mut IUnknown;
        let hr = unsafe {
            ((*(*mdb.p()).lpVtbl).OpenEntry)(
                mdb.p(),
                0,
                ptr::null_mut(),
                ptr::null(),
                0,
                &mut ty,
                &mut unk,
            )
        };
        check_hr(hr, MAPI_E_CORRUPT_STORE, "OpenEntry(root)");
        assert!(unk.is_null());
    }
    check_no_live_objects();
}
