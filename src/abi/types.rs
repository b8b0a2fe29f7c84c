//! MAPI's C types and structures, bit for bit (DESIGN.md §2, reference §2). Every layout the C side
//! depends on is pinned by a `const` assert here and a `_Static_assert` in `c-tests/abi_check.c`.

use std::ffi::{c_char, c_void};
use std::mem::{offset_of, size_of};

pub type ULONG = u32;
pub type LONG = i32;
pub type DWORD = u32;
pub type HRESULT = i32;
pub type SCODE = i32;
pub type BOOL = i32;
pub type WCHAR = u16;
pub type BYTE = u8;
pub type ULONG_PTR = usize;
pub type LPVOID = *mut c_void;
pub type LPBYTE = *mut BYTE;
pub type LPSTR = *mut c_char;
pub type LPWSTR = *mut WCHAR;
/// `LPTSTR` as MAPI declares it without `UNICODE`: wide strings travel through it as a cast when
/// `MAPI_UNICODE` is passed.
pub type LPTSTR = *mut c_char;

/// A COM GUID / IID in its in-memory layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}
pub type IID = GUID;
pub type LPGUID = *mut GUID;
pub type LPCIID = *const IID;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FILETIME {
    pub dwLowDateTime: DWORD,
    pub dwHighDateTime: DWORD,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct CY_PARTS {
    pub Lo: ULONG,
    pub Hi: LONG,
}
/// MAPI's `CY` (currency): a 64-bit integer with four implied decimals.
#[repr(C)]
#[derive(Clone, Copy)]
pub union CY {
    pub int64: i64,
    pub s: CY_PARTS,
}
pub type CURRENCY = CY;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct LARGE_INTEGER_PARTS {
    pub LowPart: DWORD,
    pub HighPart: LONG,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub union LARGE_INTEGER {
    pub QuadPart: i64,
    pub u: LARGE_INTEGER_PARTS,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct ULARGE_INTEGER {
    pub QuadPart: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct SBinary {
    pub cb: ULONG,
    pub lpb: LPBYTE,
}
pub type LPSBinary = *mut SBinary;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct SShortArray {
    pub cValues: ULONG,
    pub lpi: *mut i16,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SLongArray {
    pub cValues: ULONG,
    pub lpl: *mut LONG,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SRealArray {
    pub cValues: ULONG,
    pub lpflt: *mut f32,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SDoubleArray {
    pub cValues: ULONG,
    pub lpdbl: *mut f64,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SCurrencyArray {
    pub cValues: ULONG,
    pub lpcur: *mut CURRENCY,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SAppTimeArray {
    pub cValues: ULONG,
    pub lpat: *mut f64,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SDateTimeArray {
    pub cValues: ULONG,
    pub lpft: *mut FILETIME,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SBinaryArray {
    pub cValues: ULONG,
    pub lpbin: *mut SBinary,
}
pub type ENTRYLIST = SBinaryArray;
pub type LPENTRYLIST = *mut SBinaryArray;
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SLPSTRArray {
    pub cValues: ULONG,
    pub lppszA: *mut LPSTR,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SWStringArray {
    pub cValues: ULONG,
    pub lppszW: *mut LPWSTR,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SGuidArray {
    pub cValues: ULONG,
    pub lpguid: *mut GUID,
}
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SLargeIntegerArray {
    pub cValues: ULONG,
    pub lpli: *mut LARGE_INTEGER,
}

/// MAPI's `union _PV`: the value of an `SPropValue`, selected by the type in its tag.
#[repr(C)]
#[derive(Clone, Copy)]
pub union PV {
    pub i: i16,
    pub l: LONG,
    pub ul: ULONG,
    pub flt: f32,
    pub dbl: f64,
    pub b: u16,
    pub cur: CURRENCY,
    pub at: f64,
    pub ft: FILETIME,
    pub lpszA: LPSTR,
    pub bin: SBinary,
    pub lpszW: LPWSTR,
    pub lpguid: LPGUID,
    pub li: LARGE_INTEGER,
    pub MVi: SShortArray,
    pub MVl: SLongArray,
    pub MVflt: SRealArray,
    pub MVdbl: SDoubleArray,
    pub MVcur: SCurrencyArray,
    pub MVat: SAppTimeArray,
    pub MVft: SDateTimeArray,
    pub MVbin: SBinaryArray,
    pub MVszA: SLPSTRArray,
    pub MVszW: SWStringArray,
    pub MVguid: SGuidArray,
    pub MVli: SLargeIntegerArray,
    pub err: SCODE,
    pub x: LONG,
    pub lpv: LPVOID,
}

/// One tagged property value. 24 bytes on 64-bit targets, `Value` at offset 8; `dwAlignPad` is
/// MAPI's and is neither read nor written meaningfully.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SPropValue {
    pub ulPropTag: ULONG,
    pub dwAlignPad: ULONG,
    pub Value: PV,
}
pub type LPSPropValue = *mut SPropValue;

/// A counted array of property tags; `aulPropTag` really holds `cValues` entries
/// (`CbNewSPropTagArray(n)` = 4 + 4n bytes).
#[repr(C)]
pub struct SPropTagArray {
    pub cValues: ULONG,
    pub aulPropTag: [ULONG; 1],
}
pub type LPSPropTagArray = *mut SPropTagArray;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SPropProblem {
    pub ulIndex: ULONG,
    pub ulPropTag: ULONG,
    pub scode: SCODE,
}
/// A counted array of per-property problems (`CbNewSPropProblemArray(n)` = 4 + 12n bytes).
#[repr(C)]
pub struct SPropProblemArray {
    pub cProblem: ULONG,
    pub aProblem: [SPropProblem; 1],
}
pub type LPSPropProblemArray = *mut SPropProblemArray;

/// Extended error information from `GetLastError`. Strings are `WCHAR *` when `MAPI_UNICODE` was
/// passed, `char *` (UTF-8) otherwise; the whole structure is one `MAPIFreeBuffer` block.
#[repr(C)]
pub struct MAPIERROR {
    pub ulVersion: ULONG,
    pub lpszError: LPTSTR,
    pub lpszComponent: LPTSTR,
    pub ulLowLevelError: ULONG,
    pub ulContext: ULONG,
}
pub type LPMAPIERROR = *mut MAPIERROR;

#[repr(C)]
#[derive(Clone, Copy)]
pub union MAPINAMEID_KIND {
    pub lID_Reserved: isize,
    pub lID: LONG,
    pub lpwstrName: LPWSTR,
}
#[repr(C)]
pub struct MAPINAMEID {
    pub lpguid: LPGUID,
    pub ulKind: ULONG,
    pub Kind: MAPINAMEID_KIND,
}
pub type LPMAPINAMEID = *mut MAPINAMEID;

/// An entry identifier; its real size travels beside it as `cbEntryID` (`CbNewENTRYID(cb)` = 4+cb).
#[repr(C)]
pub struct ENTRYID {
    pub abFlags: [BYTE; 4],
    pub ab: [BYTE; 1],
}
pub type LPENTRYID = *mut ENTRYID;

/// `STATSTG` as IStream::Stat fills it (Wine's objidl layout).
#[repr(C)]
pub struct STATSTG {
    pub pwcsName: LPWSTR,
    pub r#type: DWORD,
    pub cbSize: ULARGE_INTEGER,
    pub mtime: FILETIME,
    pub ctime: FILETIME,
    pub atime: FILETIME,
    pub grfMode: DWORD,
    pub grfLocksSupported: DWORD,
    pub clsid: GUID,
    pub grfStateBits: DWORD,
    pub reserved: DWORD,
}

// Opaque types named by methods this provider does not implement yet; only pointers to them
// cross the boundary, so declaring them incomplete keeps the slots' binary shape exact.
/// Opaque: MAPI's progress interface (unused: progress is never shown).
pub struct IMAPIProgress {
    _private: [u8; 0],
}
/// IMAPITable is declared with the other interfaces.
pub use super::interfaces::IMAPITable;
/// One row of a table, or (as ADRENTRY) one recipient: `cValues` property values in one
/// MAPIAllocateBuffer block.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SRow {
    /// Padding that makes SRow map onto ADRENTRY.
    pub ulAdrEntryPad: ULONG,
    pub cValues: ULONG,
    pub lpProps: LPSPropValue,
}
pub type LPSRow = *mut SRow;

/// A counted array of rows (`CbNewSRowSet(n)` = 8 + 16n bytes). Free it with FreeProws.
#[repr(C)]
pub struct SRowSet {
    pub cRows: ULONG,
    pub aRow: [SRow; 1],
}
pub type LPSRowSet = *mut SRowSet;

/// One recipient: the same layout as SRow.
#[repr(C)]
pub struct ADRENTRY {
    pub ulReserved1: ULONG,
    pub cValues: ULONG,
    pub rgPropVals: LPSPropValue,
}
pub type LPADRENTRY = *mut ADRENTRY;

/// A counted array of recipients (`CbNewADRLIST(n)` = 8 + 16n bytes), the same layout as
/// SRowSet. Free it with FreePadrlist.
#[repr(C)]
pub struct ADRLIST {
    pub cEntries: ULONG,
    pub aEntries: [ADRENTRY; 1],
}

/// MAPIInitialize's optional argument.
#[repr(C)]
pub struct MAPIINIT_0 {
    /// MAPI_INIT_VERSION (0).
    pub ulVersion: ULONG,
    /// MAPI_MULTITHREAD_NOTIFICATIONS | MAPI_NT_SERVICE.
    pub ulFlags: ULONG,
}
pub type LPMAPIINIT_0 = *mut MAPIINIT_0;

/// `SIZE_T`: an unsigned size with pointer width (IMalloc).
pub type SIZE_T = usize;
/// A restriction (reference §10.5–10.6): `rt` (RES_*) selects the member of `res`.
#[repr(C)]
pub struct SRestriction {
    pub rt: ULONG,
    pub res: SRestrictionUnion,
}

/// The members of `SRestriction::res`, in H-DEFS order (resCompareProps first).
#[repr(C)]
#[derive(Clone, Copy)]
pub union SRestrictionUnion {
    pub resCompareProps: SComparePropsRestriction,
    pub resAnd: SAndRestriction,
    pub resOr: SOrRestriction,
    pub resNot: SNotRestriction,
    pub resContent: SContentRestriction,
    pub resProperty: SPropertyRestriction,
    pub resBitMask: SBitMaskRestriction,
    pub resSize: SSizeRestriction,
    pub resExist: SExistRestriction,
    pub resSub: SSubRestriction,
    pub resComment: SCommentRestriction,
    pub resAnnotation: SCommentRestriction,
    pub resCount: SCountRestriction,
}

/// RES_AND: `cRes` restrictions at `lpRes`, all true.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SAndRestriction {
    pub cRes: ULONG,
    pub lpRes: *mut SRestriction,
}
/// RES_OR: `cRes` restrictions at `lpRes`, any true.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SOrRestriction {
    pub cRes: ULONG,
    pub lpRes: *mut SRestriction,
}
/// RES_NOT.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SNotRestriction {
    pub ulReserved: ULONG,
    pub lpRes: *mut SRestriction,
}
/// RES_CONTENT: FL_* level, the property, the value looked for.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SContentRestriction {
    pub ulFuzzyLevel: ULONG,
    pub ulPropTag: ULONG,
    pub lpProp: LPSPropValue,
}
/// RES_PROPERTY: (value of `ulPropTag`) `relop` (`*lpProp`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SPropertyRestriction {
    pub relop: ULONG,
    pub ulPropTag: ULONG,
    pub lpProp: LPSPropValue,
}
/// RES_COMPAREPROPS: (tag 1) `relop` (tag 2).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SComparePropsRestriction {
    pub relop: ULONG,
    pub ulPropTag1: ULONG,
    pub ulPropTag2: ULONG,
}
/// RES_BITMASK: BMR_EQZ / BMR_NEZ of (value & `ulMask`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SBitMaskRestriction {
    pub relBMR: ULONG,
    pub ulPropTag: ULONG,
    pub ulMask: ULONG,
}
/// RES_SIZE: (size of the value) `relop` `cb`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SSizeRestriction {
    pub relop: ULONG,
    pub ulPropTag: ULONG,
    pub cb: ULONG,
}
/// RES_EXIST.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SExistRestriction {
    pub ulReserved1: ULONG,
    pub ulPropTag: ULONG,
    pub ulReserved2: ULONG,
}
/// RES_SUBRESTRICTION: PR_MESSAGE_RECIPIENTS or PR_MESSAGE_ATTACHMENTS.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SSubRestriction {
    pub ulSubObject: ULONG,
    pub lpRes: *mut SRestriction,
}
/// RES_COMMENT (and RES_ANNOTATION): never evaluated.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SCommentRestriction {
    pub cValues: ULONG,
    pub lpRes: *mut SRestriction,
    pub lpProp: LPSPropValue,
}
/// RES_COUNT (Office 12+; not supported).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SCountRestriction {
    pub ulCount: ULONG,
    pub lpRes: *mut SRestriction,
}

/// One sort key: a property and TABLE_SORT_ASCEND / TABLE_SORT_DESCEND.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SSortOrder {
    pub ulPropTag: ULONG,
    pub ulOrder: ULONG,
}
/// A sort order: `cSorts` keys (`CbNewSSortOrderSet(n)` = 12 + 8n bytes).
#[repr(C)]
pub struct SSortOrderSet {
    pub cSorts: ULONG,
    pub cCategories: ULONG,
    pub cExpanded: ULONG,
    pub aSort: [SSortOrder; 1],
}

/// A position in a table: BOOKMARK_BEGINNING / CURRENT / END or one from CreateBookmark.
pub type BOOKMARK = ULONG_PTR;
/// fnevObjectCreated / Deleted / Modified / Moved / Copied: the object, its folder, and for a
/// move or copy where it was (reference §7.1; 72 bytes on x64). Entry IDs are long-term.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct OBJECT_NOTIFICATION {
    pub cbEntryID: ULONG,
    pub lpEntryID: LPENTRYID,
    /// MAPI_STORE, MAPI_FOLDER or MAPI_MESSAGE.
    pub ulObjType: ULONG,
    pub cbParentID: ULONG,
    pub lpParentID: LPENTRYID,
    pub cbOldID: ULONG,
    pub lpOldID: LPENTRYID,
    pub cbOldParentID: ULONG,
    pub lpOldParentID: LPENTRYID,
    /// Always NULL here (sinks must cope with NULL).
    pub lpPropTagArray: LPSPropTagArray,
}

/// fnevTableModified (reference §10.5, §10.8; 80 bytes on x64).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TABLE_NOTIFICATION {
    /// TABLE_CHANGED, TABLE_RELOAD, … (one value, not a bitmask).
    pub ulTableEvent: ULONG,
    pub hResult: HRESULT,
    pub propIndex: SPropValue,
    pub propPrior: SPropValue,
    pub row: SRow,
    pub ulPad: ULONG,
}

/// fnevNewMail: the message announced by IMsgStore::NotifyNewMail and its folder (mapidefs.h;
/// 56 bytes on x64). `lpszMessageClass` is 8-bit text (`ulFlags` has no MAPI_UNICODE).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NEWMAIL_NOTIFICATION {
    pub cbEntryID: ULONG,
    pub lpEntryID: LPENTRYID,
    pub cbParentID: ULONG,
    pub lpParentID: LPENTRYID,
    pub ulFlags: ULONG,
    pub lpszMessageClass: LPSTR,
    pub ulMessageFlags: ULONG,
}

/// The members of NOTIFICATION's union this store fills or reads. MAPI's union also has ERROR_,
/// EXTENDED_ and STATUS_OBJECT_NOTIFICATION, all smaller than TABLE_NOTIFICATION (so the size is
/// MAPI's); this store sends none of them.
#[repr(C)]
#[derive(Clone, Copy)]
pub union NOTIFICATION_INFO {
    pub newmail: NEWMAIL_NOTIFICATION,
    pub obj: OBJECT_NOTIFICATION,
    pub tab: TABLE_NOTIFICATION,
}

/// One event handed to IMAPIAdviseSink::OnNotify (88 bytes on x64, the union at 8). Valid only
/// during the call: the store frees it when OnNotify returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NOTIFICATION {
    /// One fnev* bit.
    pub ulEventType: ULONG,
    pub ulAlignPad: ULONG,
    pub info: NOTIFICATION_INFO,
}

const _: () = assert!(std::mem::size_of::<OBJECT_NOTIFICATION>() == 72);
const _: () = assert!(std::mem::size_of::<TABLE_NOTIFICATION>() == 80);
const _: () = assert!(std::mem::size_of::<NOTIFICATION>() == 88);
const _: () = assert!(std::mem::offset_of!(NOTIFICATION, info) == 8);
const _: () = assert!(std::mem::offset_of!(TABLE_NOTIFICATION, row) == 56);
const _: () = assert!(std::mem::offset_of!(OBJECT_NOTIFICATION, lpPropTagArray) == 64);
const _: () = assert!(std::mem::size_of::<NEWMAIL_NOTIFICATION>() == 56);
const _: () = assert!(std::mem::offset_of!(NEWMAIL_NOTIFICATION, lpszMessageClass) == 40);
const _: () = assert!(std::mem::offset_of!(NEWMAIL_NOTIFICATION, ulMessageFlags) == 48);

pub type LPMAPIPROGRESS = *mut IMAPIProgress;
pub type LPMAPITABLE = *mut IMAPITable;
pub type LPADRLIST = *mut ADRLIST;
pub type LPSRestriction = *mut SRestriction;
pub type LPSSortOrderSet = *mut SSortOrderSet;
pub type LPNOTIFICATION = *mut NOTIFICATION;

/// MAPI's allocator function types, as `CreateIProp` receives them. The header spells them as
/// MAPI's `ALLOCATEBUFFER` / `ALLOCATEMORE` / `FREEBUFFER` typedefs (cbindgen cannot emit those).
pub type AllocateBufferFn = unsafe extern "C" fn(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE;
pub type AllocateMoreFn =
    unsafe extern "C" fn(cbSize: ULONG, lpObject: LPVOID, lppBuffer: *mut LPVOID) -> SCODE;
pub type FreeBufferFn = unsafe extern "C" fn(lpBuffer: LPVOID) -> ULONG;

// Layouts pinned on the Rust side (mirrored by c-tests/abi_check.c).
const _: () = assert!(size_of::<GUID>() == 16);
const _: () = assert!(size_of::<FILETIME>() == 8);
const _: () = assert!(size_of::<CY>() == 8);
const _: () = assert!(size_of::<LARGE_INTEGER>() == 8);
const _: () = assert!(size_of::<SBinary>() == 16);
const _: () = assert!(size_of::<PV>() == 16);
const _: () = assert!(std::mem::align_of::<PV>() == 8);
const _: () = assert!(size_of::<SPropValue>() == 24);
const _: () = assert!(offset_of!(SPropValue, Value) == 8);
const _: () = assert!(offset_of!(SPropValue, dwAlignPad) == 4);
const _: () = assert!(size_of::<SPropProblem>() == 12);
const _: () = assert!(offset_of!(SPropProblemArray, aProblem) == 4);
const _: () = assert!(offset_of!(SPropTagArray, aulPropTag) == 4);
const _: () = assert!(size_of::<MAPIERROR>() == 32);
const _: () = assert!(size_of::<MAPINAMEID>() == 24);
const _: () = assert!(offset_of!(MAPINAMEID, Kind) == 16);
const _: () = assert!(offset_of!(ENTRYID, ab) == 4);
const _: () = assert!(size_of::<SBinaryArray>() == 16);
const _: () = assert!(size_of::<STATSTG>() == 80);
const _: () = assert!(size_of::<SRow>() == 16);
const _: () = assert!(offset_of!(SRow, lpProps) == 8);
const _: () = assert!(size_of::<SRowSet>() == 24);
const _: () = assert!(offset_of!(SRowSet, aRow) == 8);
const _: () = assert!(size_of::<ADRENTRY>() == 16);
const _: () = assert!(size_of::<ADRLIST>() == 24);
const _: () = assert!(offset_of!(ADRLIST, aEntries) == 8);
const _: () = assert!(size_of::<MAPIINIT_0>() == 8);
const _: () = assert!(size_of::<SRestriction>() == 32);
const _: () = assert!(offset_of!(SRestriction, res) == 8);
const _: () = assert!(size_of::<SAndRestriction>() == 16);
const _: () = assert!(size_of::<SComparePropsRestriction>() == 12);
const _: () = assert!(size_of::<SCommentRestriction>() == 24);
const _: () = assert!(size_of::<SSortOrderSet>() == 20);
const _: () = assert!(offset_of!(SSortOrderSet, aSort) == 12);

/// `CbNewSPropTagArray(n)`.
pub const fn cb_prop_tag_array(n: usize) -> usize {
    4 + 4 * n
}
/// `CbNewSSortOrderSet(n)`.
pub const fn cb_sort_order_set(n: usize) -> usize {
    12 + 8 * n
}
/// `CbNewSRowSet(n)`.
pub const fn cb_row_set(n: usize) -> usize {
    8 + 16 * n
}
/// `CbNewSPropProblemArray(n)`.
pub const fn cb_prop_problem_array(n: usize) -> usize {
    4 + 12 * n
}
