//! What every target shares: a reader that hand-decodes the fuzz input (every byte string is a
//! valid input; an exhausted reader yields zeros), an arena that keeps the C data handed to the
//! library alive, builders of hostile-but-well-formed `SPropValue` arrays, tag arrays and flag
//! words, and checkers that walk every result the library returns and free it.

use msgstore::abi::alloc::MAPIFreeBuffer;
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::any::Any;
use std::ffi::c_void;
use std::ptr;

/// The library's limit on counted arrays (`convert::MAX_COUNT`): a count above it must be
/// refused before anything is read, so the builders may pair such a count with a short array.
/// Counts at or below it always match the array they come with (a count that overstates its
/// array is the caller's bug, which no library can check).
pub const MAX_COUNT: u32 = 1 << 20;

/// Hand-decodes the fuzz input.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: u8) -> bool {
        self.u8().is_multiple_of(n)
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else {
            self.u16() as usize % n
        }
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Up to `max` bytes, length first.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.u8()).collect()
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }

    /// A flag word: usually made of the bits the method accepts, sometimes hostile.
    pub fn flags(&mut self, valid: u32) -> u32 {
        match self.u8() % 8 {
            0 => 0,
            1..=4 => self.u32() & valid,
            5 => 1 << (self.u8() % 32),
            6 => (self.u32() & valid) | MAPI_UNICODE,
            _ => self.u32(),
        }
    }

    /// A count for an array that really holds `n` entries: usually `n`, sometimes 0, sometimes
    /// one the library must refuse as too large before reading.
    pub fn count(&mut self, n: usize) -> u32 {
        match self.u8() % 16 {
            0 => 0,
            1 => MAX_COUNT + 1,
            2 => u32::MAX,
            3 => 0x8000_0000 | self.u32(),
            _ => n as u32,
        }
    }
}

/// Keeps the client-side data handed to the library alive for the duration of a call (the
/// heap buffer of a `Vec` does not move when the `Vec` itself is moved into the arena).
#[derive(Default)]
pub struct Arena {
    keep: Vec<Box<dyn Any>>,
}

impl Arena {
    pub fn put<T: 'static>(&mut self, mut v: Vec<T>) -> *mut T {
        let p = v.as_mut_ptr();
        self.keep.push(Box::new(v));
        p
    }
}

/// Property IDs that matter to the library: computed and maintained ones, strings, the ones
/// the save model touches, the edges of the ID space. A small set so that IDs collide often.
pub const IDS: &[u16] = &[
    0x0037, // PR_SUBJECT
    0x1000, // PR_BODY
    0x001A, // PR_MESSAGE_CLASS
    0x3001, // PR_DISPLAY_NAME
    0x3004, // PR_COMMENT
    0x0E07, // PR_MESSAGE_FLAGS
    0x0E08, // PR_MESSAGE_SIZE
    0x0E09, // PR_PARENT_ENTRYID
    0x0E17, // PR_MSG_STATUS
    0x0FFF, // PR_ENTRYID
    0x0FFE, // PR_OBJECT_TYPE
    0x0FFB, // PR_STORE_ENTRYID
    0x0FFA, // PR_STORE_RECORD_KEY
    0x0FF9, // PR_RECORD_KEY
    0x0FF7, // PR_ACCESS_LEVEL
    0x0FF4, // PR_ACCESS
    0x340D, // PR_STORE_SUPPORT_MASK
    0x35E0, // PR_IPM_SUBTREE_ENTRYID
    0x3007, // PR_CREATION_TIME
    0x3008, // PR_LAST_MODIFICATION_TIME
    0x65E2, // PR_CHANGE_KEY
    0x65E3, // PR_PREDECESSOR_CHANGE_LIST
    0x3601, // PR_FOLDER_TYPE
    0x3602, // PR_CONTENT_COUNT
    0x3617, // PR_ASSOC_CONTENT_COUNT
    0x360A, // PR_SUBFOLDERS
    0x36D8, // PR_ADDITIONAL_REN_ENTRYIDS
    0x1098, // PR_CONFLICT_ITEMS
    0x0000, // PROP_ID_NULL
    0xFFFF, // PROP_ID_INVALID
    0x8000, // named-property range
    0xFFFE, 0x6700, 0x0001,
];

/// Property types: every stored one, their MV forms, and the ones the library must refuse.
pub const TYPES: &[u32] = &[
    PT_I2,
    PT_LONG,
    PT_R4,
    PT_DOUBLE,
    PT_CURRENCY,
    PT_APPTIME,
    PT_BOOLEAN,
    PT_I8,
    PT_STRING8,
    PT_UNICODE,
    PT_SYSTIME,
    PT_CLSID,
    PT_BINARY,
    PT_MV_I2,
    PT_MV_LONG,
    PT_MV_R4,
    PT_MV_DOUBLE,
    PT_MV_CURRENCY,
    PT_MV_APPTIME,
    PT_MV_I8,
    PT_MV_STRING8,
    PT_MV_UNICODE,
    PT_MV_SYSTIME,
    PT_MV_CLSID,
    PT_MV_BINARY,
    PT_UNSPECIFIED,
    PT_NULL,
    PT_ERROR,
    PT_OBJECT,
    PT_SVREID,
    PT_SRESTRICT,
    PT_ACTIONS,
    PT_PTR,
    MV_FLAG | PT_BOOLEAN,
    MV_FLAG | PT_ERROR,
    MV_FLAG | PT_OBJECT,
    MVI_FLAG | PT_LONG,
    MVI_FLAG | PT_UNICODE,
    MV_INSTANCE | PT_BINARY,
];

/// A property tag: mostly from the interesting IDs and types, sometimes anything.
pub fn tag(r: &mut Reader) -> u32 {
    match r.u8() % 16 {
        0 => r.u32(),
        1 => PR_NULL,
        2 => ((r.pick(IDS) as u32) << 16) | r.u16() as u32,
        3 => (r.u32() & 0xFFFF_0000) | r.pick(TYPES),
        _ => ((r.pick(IDS) as u32) << 16) | r.pick(TYPES),
    }
}

/// A NUL-terminated narrow string, or NULL.
fn string8(r: &mut Reader, a: &mut Arena) -> *mut i8 {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let mut b: Vec<i8> = r.bytes(24).into_iter().map(|c| c as i8).collect();
    b.push(0);
    a.put(b)
}

/// A NUL-terminated UTF-16 string (unpaired surrogates included), or NULL.
fn unicode(r: &mut Reader, a: &mut Arena) -> *mut u16 {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let n = r.below(12);
    let mut w: Vec<u16> = (0..n)
        .map(|_| match r.u8() % 4 {
            0 => 0xD800 | (r.u16() & 0x7FF),
            1 => r.u16(),
            _ => (r.u8() % 0x80) as u16,
        })
        .collect();
    w.push(0);
    a.put(w)
}

fn guid(r: &mut Reader, a: &mut Arena) -> *mut GUID {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let g = GUID {
        Data1: r.u32(),
        Data2: r.u16(),
        Data3: r.u16(),
        Data4: r.u64().to_le_bytes(),
    };
    a.put(vec![g])
}

fn binary(r: &mut Reader, a: &mut Arena) -> SBinary {
    match r.u8() % 16 {
        0 => SBinary {
            cb: 0,
            lpb: ptr::null_mut(),
        },
        // A length with no bytes: MAPI_E_INVALID_PARAMETER.
        1 => SBinary {
            cb: 1 + r.u8() as u32,
            lpb: ptr::null_mut(),
        },
        _ => {
            let b = r.bytes(40);
            SBinary {
                cb: b.len() as u32,
                lpb: a.put(b),
            }
        }
    }
}

/// An MV array: `cValues` and the pointer, built from `item`.
fn mv<T: 'static>(
    r: &mut Reader,
    a: &mut Arena,
    mut item: impl FnMut(&mut Reader, &mut Arena) -> T,
) -> (u32, *mut T) {
    let n = r.below(5);
    let items: Vec<T> = (0..n).map(|_| item(r, a)).collect();
    let count = r.count(n);
    let p = if r.one_in(16) {
        ptr::null_mut()
    } else {
        a.put(items)
    };
    (count, p)
}

/// Raw bits for a union whose type the library must not interpret (never dereferenced).
fn raw_bits(r: &mut Reader) -> PV {
    let mut v = PV { dbl: 0.0 };
    let words = [r.u64(), r.u64()];
    // SAFETY: PV is 16 bytes of plain data.
    unsafe {
        ptr::copy_nonoverlapping(
            words.as_ptr() as *const u8,
            &mut v as *mut PV as *mut u8,
            16,
        )
    };
    v
}

/// The value for `tag`, well-formed as the tag's type says the library will read it: every
/// pointer valid for what it claims, but hostile contents, counts, NULLs and types.
pub fn value(r: &mut Reader, a: &mut Arena, tag: u32) -> PV {
    match tag & 0xFFFF {
        PT_I2 => PV { i: r.u16() as i16 },
        PT_LONG => PV { l: r.u32() as i32 },
        PT_R4 => PV {
            flt: f32::from_bits(r.u32()),
        },
        PT_DOUBLE | PT_APPTIME => PV {
            dbl: f64::from_bits(r.u64()),
        },
        PT_CURRENCY => PV {
            cur: CY {
                int64: r.u64() as i64,
            },
        },
        PT_BOOLEAN => PV { b: r.u16() },
        PT_I8 => PV {
            li: LARGE_INTEGER {
                QuadPart: r.u64() as i64,
            },
        },
        PT_SYSTIME => PV {
            ft: FILETIME {
                dwLowDateTime: r.u32(),
                dwHighDateTime: r.u32(),
            },
        },
        PT_STRING8 => PV {
            lpszA: string8(r, a),
        },
        PT_UNICODE => PV {
            lpszW: unicode(r, a),
        },
        PT_CLSID => PV { lpguid: guid(r, a) },
        PT_BINARY => PV { bin: binary(r, a) },
        PT_MV_I2 => {
            let (c, p) = mv(r, a, |r, _| r.u16() as i16);
            PV {
                MVi: SShortArray { cValues: c, lpi: p },
            }
        }
        PT_MV_LONG => {
            let (c, p) = mv(r, a, |r, _| r.u32() as i32);
            PV {
                MVl: SLongArray { cValues: c, lpl: p },
            }
        }
        PT_MV_R4 => {
            let (c, p) = mv(r, a, |r, _| f32::from_bits(r.u32()));
            PV {
                MVflt: SRealArray {
                    cValues: c,
                    lpflt: p,
                },
            }
        }
        PT_MV_DOUBLE => {
            let (c, p) = mv(r, a, |r, _| f64::from_bits(r.u64()));
            PV {
                MVdbl: SDoubleArray {
                    cValues: c,
                    lpdbl: p,
                },
            }
        }
        PT_MV_APPTIME => {
            let (c, p) = mv(r, a, |r, _| f64::from_bits(r.u64()));
            PV {
                MVat: SAppTimeArray {
                    cValues: c,
                    lpat: p,
                },
            }
        }
        PT_MV_CURRENCY => {
            let (c, p) = mv(r, a, |r, _| CY {
                int64: r.u64() as i64,
            });
            PV {
                MVcur: SCurrencyArray {
                    cValues: c,
                    lpcur: p,
                },
            }
        }
        PT_MV_I8 => {
            let (c, p) = mv(r, a, |r, _| LARGE_INTEGER {
                QuadPart: r.u64() as i64,
            });
            PV {
                MVli: SLargeIntegerArray {
                    cValues: c,
                    lpli: p,
                },
            }
        }
        PT_MV_SYSTIME => {
            let (c, p) = mv(r, a, |r, _| FILETIME {
                dwLowDateTime: r.u32(),
                dwHighDateTime: r.u32(),
            });
            PV {
                MVft: SDateTimeArray {
                    cValues: c,
                    lpft: p,
                },
            }
        }
        PT_MV_CLSID => {
            let (c, p) = mv(r, a, |r, _| GUID {
                Data1: r.u32(),
                Data2: r.u16(),
                Data3: r.u16(),
                Data4: r.u64().to_le_bytes(),
            });
            PV {
                MVguid: SGuidArray {
                    cValues: c,
                    lpguid: p,
                },
            }
        }
        PT_MV_STRING8 => {
            let (c, p) = mv(r, a, string8);
            PV {
                MVszA: SLPSTRArray {
                    cValues: c,
                    lppszA: p,
                },
            }
        }
        PT_MV_UNICODE => {
            let (c, p) = mv(r, a, unicode);
            PV {
                MVszW: SWStringArray {
                    cValues: c,
                    lppszW: p,
                },
            }
        }
        PT_MV_BINARY => {
            let (c, p) = mv(r, a, binary);
            PV {
                MVbin: SBinaryArray {
                    cValues: c,
                    lpbin: p,
                },
            }
        }
        _ => raw_bits(r),
    }
}

/// A SetProps array: `(cValues, lpPropArray)`. The count matches the array or is one the
/// library must refuse; the array may be NULL.
pub fn prop_array(r: &mut Reader, a: &mut Arena) -> (u32, *mut SPropValue) {
    let n = match r.u8() % 8 {
        0 => 0,
        7 => r.below(40),
        _ => 1 + r.below(4),
    };
    let mut vals = Vec::with_capacity(n);
    for _ in 0..n {
        let t = tag(r);
        vals.push(SPropValue {
            ulPropTag: t,
            dwAlignPad: r.u8() as u32,
            Value: value(r, a, t),
        });
    }
    let count = r.count(n);
    if r.one_in(32) {
        return (count, ptr::null_mut());
    }
    (count, a.put(vals))
}

/// A tag array (NULL sometimes): `cValues` matches or must be refused.
pub fn tag_array(r: &mut Reader, a: &mut Arena) -> *mut SPropTagArray {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let n = match r.u8() % 8 {
        0 => 0,
        7 => r.below(64),
        _ => 1 + r.below(4),
    };
    let mut words = Vec::with_capacity(n + 1);
    words.push(0);
    for _ in 0..n {
        words.push(tag(r));
    }
    words[0] = r.count(n);
    a.put(words) as *mut SPropTagArray
}

/// One of the interfaces a caller may name (NULL: the default).
pub fn iid(r: &mut Reader, a: &mut Arena) -> *const IID {
    use msgstore::abi::iids::*;
    let known: [&GUID; 12] = [
        &IID_IUnknown,
        &IID_IMAPIProp,
        &IID_IMAPIPropData,
        &IID_IMessage,
        &IID_IMAPIFolder,
        &IID_IMAPIContainer,
        &IID_IMsgStore,
        &IID_IAttachment,
        &IID_IMAPITable,
        &IID_IStream,
        &IID_IMsgStoreConflictResolver,
        &PS_MAPI,
    ];
    match r.u8() % 8 {
        0..=2 => ptr::null(),
        3 => a.put(vec![GUID {
            Data1: r.u32(),
            Data2: r.u16(),
            Data3: r.u16(),
            Data4: r.u64().to_le_bytes(),
        }]),
        _ => r.pick(&known) as *const GUID,
    }
}

/// Reads every byte of a NUL-terminated string (valgrind sees any read past the block).
///
/// # Safety
/// `p` must be NULL or a string the library returned.
unsafe fn touch_cstr(p: *const i8) -> usize {
    if p.is_null() {
        return 0;
    }
    std::ffi::CStr::from_ptr(p).to_bytes().len()
}

unsafe fn touch_wstr(p: *const u16) -> usize {
    if p.is_null() {
        return 0;
    }
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    n
}

unsafe fn touch<T: Copy>(p: *const T, n: u32) -> usize {
    assert!(n <= MAX_COUNT, "a result claims {n} entries");
    if n == 0 {
        return 0;
    }
    assert!(!p.is_null(), "a result has a NULL array with {n} entries");
    let s = std::slice::from_raw_parts(p as *const u8, n as usize * std::mem::size_of::<T>());
    s.iter()
        .fold(0usize, |acc, b| acc.wrapping_add(*b as usize))
}

/// Walks one returned value as its type says (the library's results must be well-formed).
///
/// # Safety
/// `v` must come from a library result.
pub unsafe fn walk_value(v: &SPropValue) -> usize {
    let x = &v.Value;
    match v.ulPropTag & 0xFFFF {
        PT_STRING8 => {
            assert!(!x.lpszA.is_null(), "a PT_STRING8 result is NULL");
            touch_cstr(x.lpszA)
        }
        PT_UNICODE => {
            assert!(!x.lpszW.is_null(), "a PT_UNICODE result is NULL");
            touch_wstr(x.lpszW)
        }
        PT_CLSID => touch(x.lpguid, 1),
        PT_BINARY => touch(x.bin.lpb, x.bin.cb),
        PT_BOOLEAN => {
            assert!(x.b <= 1, "PT_BOOLEAN is not normalised: {}", x.b);
            0
        }
        PT_MV_I2 => touch(x.MVi.lpi, x.MVi.cValues),
        PT_MV_LONG => touch(x.MVl.lpl, x.MVl.cValues),
        PT_MV_R4 => touch(x.MVflt.lpflt, x.MVflt.cValues),
        PT_MV_DOUBLE => touch(x.MVdbl.lpdbl, x.MVdbl.cValues),
        PT_MV_APPTIME => touch(x.MVat.lpat, x.MVat.cValues),
        PT_MV_CURRENCY => touch(x.MVcur.lpcur, x.MVcur.cValues),
        PT_MV_I8 => touch(x.MVli.lpli, x.MVli.cValues),
        PT_MV_SYSTIME => touch(x.MVft.lpft, x.MVft.cValues),
        PT_MV_CLSID => touch(x.MVguid.lpguid, x.MVguid.cValues),
        PT_MV_STRING8 => {
            touch(x.MVszA.lppszA, x.MVszA.cValues);
            let n = x.MVszA.cValues as usize;
            (0..n).map(|i| touch_cstr(*x.MVszA.lppszA.add(i))).sum()
        }
        PT_MV_UNICODE => {
            touch(x.MVszW.lppszW, x.MVszW.cValues);
            let n = x.MVszW.cValues as usize;
            (0..n).map(|i| touch_wstr(*x.MVszW.lppszW.add(i))).sum()
        }
        PT_MV_BINARY => {
            touch(x.MVbin.lpbin, x.MVbin.cValues);
            let n = x.MVbin.cValues as usize;
            (0..n)
                .map(|i| {
                    let b = *x.MVbin.lpbin.add(i);
                    touch(b.lpb, b.cb)
                })
                .sum()
        }
        _ => 0,
    }
}

/// How results of an object are freed: MAPIFreeBuffer, or an IPropData's own allocator.
pub type FreeFn = unsafe extern "C" fn(LPVOID) -> ULONG;

pub fn mapi_free() -> FreeFn {
    MAPIFreeBuffer
}

/// Checks the contract on out-parameters: NULL after a failure.
pub fn check_out_on_failure(hr: HRESULT, p: *const c_void, what: &str) {
    if hr < 0 {
        assert!(
            p.is_null(),
            "{what}: a failure left a non-NULL out-parameter"
        );
    }
}

/// Walks and frees a GetProps result.
///
/// # Safety
/// The pointers must be what GetProps wrote.
pub unsafe fn take_props(
    hr: HRESULT,
    request: *const SPropTagArray,
    count: ULONG,
    vals: *mut SPropValue,
    free: FreeFn,
) {
    check_out_on_failure(hr, vals as *const c_void, "GetProps");
    if hr < 0 {
        assert_eq!(count, 0, "GetProps: a failure left a count");
        return;
    }
    if !request.is_null() {
        assert_eq!(
            count,
            (*request).cValues,
            "GetProps: not one value per tag asked for"
        );
    }
    if count == 0 {
        assert!(vals.is_null(), "GetProps: no values but an array");
        return;
    }
    assert!(!vals.is_null(), "GetProps: {count} values but no array");
    let mut errors = 0;
    for i in 0..count as usize {
        let v = &*vals.add(i);
        if v.ulPropTag & 0xFFFF == PT_ERROR {
            errors += 1;
        }
        walk_value(v);
    }
    if hr == S_OK {
        assert_eq!(errors, 0, "GetProps: S_OK with PT_ERROR entries");
    } else {
        assert_eq!(
            hr, MAPI_W_ERRORS_RETURNED,
            "GetProps: unexpected success code"
        );
        assert!(
            errors > 0,
            "GetProps: MAPI_W_ERRORS_RETURNED without PT_ERROR entries"
        );
    }
    free(vals as LPVOID);
}

/// Walks and frees a tag array result.
///
/// # Safety
/// `p` must be NULL or a tag array the library returned.
pub unsafe fn take_tags(hr: HRESULT, p: *mut SPropTagArray, free: FreeFn) -> Vec<u32> {
    check_out_on_failure(hr, p as *const c_void, "tag array");
    if p.is_null() {
        assert!(hr < 0, "a successful call returned no tag array");
        return Vec::new();
    }
    let n = (*p).cValues;
    touch((*p).aulPropTag.as_ptr(), n);
    let tags = std::slice::from_raw_parts((*p).aulPropTag.as_ptr(), n as usize).to_vec();
    free(p as LPVOID);
    tags
}

/// Walks and frees a problem array (NULL when there are none).
///
/// # Safety
/// `p` must be NULL or a problem array the library returned.
pub unsafe fn take_problems(hr: HRESULT, p: *mut SPropProblemArray, free: FreeFn) {
    check_out_on_failure(hr, p as *const c_void, "lppProblems");
    if p.is_null() {
        return;
    }
    let n = (*p).cProblem;
    assert!(n > 0, "an empty problem array instead of NULL");
    touch((*p).aProblem.as_ptr(), n);
    free(p as LPVOID);
}

/// Walks and frees a MAPIERROR.
///
/// # Safety
/// `p` must be NULL or what GetLastError returned with `flags`.
pub unsafe fn take_error(hr: HRESULT, p: *mut MAPIERROR, flags: u32, free: FreeFn) {
    check_out_on_failure(hr, p as *const c_void, "GetLastError");
    if p.is_null() {
        return;
    }
    let e = &*p;
    if flags & MAPI_UNICODE != 0 {
        touch_wstr(e.lpszError as *const u16);
        touch_wstr(e.lpszComponent as *const u16);
    } else {
        touch_cstr(e.lpszError);
        touch_cstr(e.lpszComponent);
    }
    free(p as LPVOID);
}

/// The calling thread's last error, fetched and freed (MsgStoreGetLastError).
pub fn thread_error(r: &mut Reader, hr: HRESULT) {
    let flags = r.flags(MAPI_UNICODE);
    let mut e: LPMAPIERROR = ptr::null_mut();
    // SAFETY: `e` is a valid out-pointer.
    unsafe {
        let h = msgstore::abi::MsgStoreGetLastError(hr, flags, &mut e);
        take_error(h, e, flags, MAPIFreeBuffer);
    }
}

/// The number of live COM objects must be back to zero after every input.
pub fn assert_no_live_objects() {
    let n = msgstore::abi::MsgStoreLiveObjects();
    assert_eq!(n, 0, "{n} COM objects are still alive after the input");
}
