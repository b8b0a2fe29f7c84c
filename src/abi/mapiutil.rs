//! The helper functions of MAPI's `mapiutil.h` and `mapival.h` that C clients link against
//! (reference §12; issue 13): copying, sizing, comparing, finding and validating property
//! values, one-property get/set on objects, freeing row sets, and hex/decimal text.
//!
//! This file reads and writes the C memory; the comparisons, containment rules and text
//! conversions are `core::proputil`. Every export runs through the guard: a NULL or a bad count
//! never crashes, and BOOL/ULONG/pointer functions return their documented failure value. The
//! choices where Microsoft's pages and Windows disagree are in `docs/MAPIUTIL.md`.
#![deny(unsafe_op_in_unsafe_fn)]

use super::alloc::{align8, MAPIFreeBuffer};
use super::convert::{filetime_to_u64, MAX_COUNT};
use super::guard;
use super::interfaces::{LPMAPIPROP, LPSTREAM};
use super::object::{foreign_add_ref, foreign_release};
use super::stream::new_stream;
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::file_stream::FileStream;
use crate::core::mapidefs::*;
use crate::core::proputil::{self, Scalar, Value};
use crate::core::value::{prop_id, prop_type};
use std::ffi::{c_char, c_void};
use std::ptr;

// ---- Reading C memory ----------------------------------------------------------------------

/// A NUL-terminated narrow string's bytes, without the terminator.
///
/// # Safety
/// `p` must be non-NULL and point to a readable NUL-terminated string that outlives `'a`.
unsafe fn cstr<'a>(p: *const c_char) -> &'a [u8] {
    // SAFETY: the caller guarantees a readable NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(p).to_bytes() }
}

/// A NUL-terminated UTF-16 string's code units, without the terminator.
///
/// # Safety
/// `p` must be non-NULL and point to a readable NUL-terminated UTF-16 string.
unsafe fn wstr<'a>(p: *const u16) -> &'a [u16] {
    let mut n = 0usize;
    // SAFETY: the string is readable up to and including its terminator.
    while unsafe { p.add(n).read_unaligned() } != 0 {
        n += 1;
    }
    // SAFETY: the `n` units before the terminator are readable (just read one by one).
    unsafe { std::slice::from_raw_parts(p, n) }
}

/// An SBinary's bytes (`cb` = 0 is empty whatever `lpb` is).
///
/// # Safety
/// With `cb` > 0, `lpb` must point to `cb` readable bytes.
unsafe fn bin_bytes<'a>(b: SBinary) -> &'a [u8] {
    if b.cb == 0 || b.lpb.is_null() {
        return &[];
    }
    // SAFETY: the caller guarantees `cb` readable bytes at `lpb`.
    unsafe { std::slice::from_raw_parts(b.lpb, b.cb as usize) }
}

/// The size of one element of a multi-valued type without embedded pointers.
fn mv_elem_size(mv_type: u32) -> usize {
    match mv_type & !MV_FLAG {
        PT_I2 => 2,
        PT_LONG | PT_R4 => 4,
        PT_CLSID => 16,
        _ => 8, // DOUBLE, CURRENCY, APPTIME, I8, SYSTIME
    }
}

/// The `(count, array)` every multi-valued member of the union shares.
///
/// # Safety
/// `v` must hold a multi-valued member.
unsafe fn mv_parts(v: &PV) -> (usize, *const u8) {
    // SAFETY: every MV member is { ULONG cValues; T *lp; } with the same layout, so reading it
    // through MVi is reading the member the tag selects.
    unsafe { (v.MVi.cValues as usize, v.MVi.lpi as *const u8) }
}

/// FBadRglpszA/W's check: a count of 0 is fine; otherwise the array and every element must be
/// non-NULL (counts beyond MAX_COUNT cannot be checked and are bad).
///
/// # Safety
/// A non-NULL `arr` must point to `count` readable pointers.
unsafe fn bad_string_array<T>(arr: *const *mut T, count: u32) -> bool {
    if count == 0 {
        return false;
    }
    if arr.is_null() || count > MAX_COUNT {
        return true;
    }
    // SAFETY: `count` readable pointers at `arr` (the caller's contract).
    (0..count as usize).any(|i| unsafe { arr.add(i).read_unaligned() }.is_null())
}

/// FBadProp: NULL, a tag whose type is not a MAPI type, a NULL string or GUID pointer, a NULL
/// data pointer with a non-zero count, a NULL string in an MV string array, or an MV count
/// beyond MAX_COUNT. `PT_BINARY` with `cb` = 0 and MV values with no elements are fine.
///
/// # Safety
/// `p` must be NULL or point to a readable SPropValue whose pointers are NULL or readable.
unsafe fn bad_prop(p: *const SPropValue) -> bool {
    if p.is_null() {
        return true;
    }
    // SAFETY: `p` is non-NULL and readable; read_unaligned accepts any address.
    let v = unsafe { p.read_unaligned() };
    if proputil::is_bad_prop_tag(v.ulPropTag) {
        return true;
    }
    let t = prop_type(v.ulPropTag);
    // SAFETY: (each union read below): the tag's type selects the member read.
    match t {
        // SAFETY: the tag's type selects this union member.
        PT_STRING8 => unsafe { v.Value.lpszA }.is_null(),
        // SAFETY: the tag's type selects this union member.
        PT_UNICODE => unsafe { v.Value.lpszW }.is_null(),
        // SAFETY: the tag's type selects this union member.
        PT_CLSID => unsafe { v.Value.lpguid }.is_null(),
        PT_BINARY => {
            // SAFETY: the tag's type selects this union member.
            let b = unsafe { v.Value.bin };
            b.cb > 0 && b.lpb.is_null()
        }
        PT_MV_STRING8 => {
            // SAFETY: the tag's type selects this union member.
            let a = unsafe { v.Value.MVszA };
            // SAFETY: a non-NULL array holds `cValues` readable pointers (caller's contract).
            unsafe { bad_string_array(a.lppszA, a.cValues) }
        }
        PT_MV_UNICODE => {
            // SAFETY: the tag's type selects this union member.
            let a = unsafe { v.Value.MVszW };
            // SAFETY: as above.
            unsafe { bad_string_array(a.lppszW, a.cValues) }
        }
        PT_MV_BINARY => {
            // SAFETY: the tag's type selects this union member.
            let a = unsafe { v.Value.MVbin };
            if a.cValues == 0 {
                return false;
            }
            if a.lpbin.is_null() || a.cValues > MAX_COUNT {
                return true;
            }
            (0..a.cValues as usize).any(|i| {
                // SAFETY: `cValues` readable SBinary entries at `lpbin`.
                let b = unsafe { a.lpbin.add(i).read_unaligned() };
                b.cb > 0 && b.lpb.is_null()
            })
        }
        _ if t & MV_FLAG != 0 => {
            // SAFETY: `t` is one of the MV types (the tag check passed).
            let (n, arr) = unsafe { mv_parts(&v.Value) };
            n > MAX_COUNT as usize || (n > 0 && arr.is_null())
        }
        _ => false,
    }
}

/// One single value as core's view.
///
/// # Safety
/// The member `ptype` selects must be valid, its pointers readable (checked by `bad_prop`).
unsafe fn scalar<'a>(ptype: u32, v: &PV) -> Scalar<'a> {
    // SAFETY: (each union read and pointer read below): the type selects the member; the value
    // passed `bad_prop`, so its pointers are non-NULL (and readable: the caller's contract).
    unsafe {
        match ptype {
            PT_I2 => Scalar::Int(v.i as i64),
            PT_LONG => Scalar::Int(v.l as i64),
            PT_I8 => Scalar::Int(v.li.QuadPart),
            PT_CURRENCY => Scalar::Int(v.cur.int64),
            PT_R4 => Scalar::Float(v.flt as f64),
            PT_DOUBLE | PT_APPTIME => Scalar::Float(v.dbl),
            PT_BOOLEAN => Scalar::Boolean(v.b != 0),
            PT_ERROR => Scalar::Error(v.err),
            PT_SYSTIME => Scalar::Time(filetime_to_u64(v.ft)),
            PT_STRING8 => Scalar::String8(cstr(v.lpszA)),
            PT_UNICODE => Scalar::Unicode(wstr(v.lpszW)),
            PT_BINARY => Scalar::Bytes(bin_bytes(v.bin)),
            PT_CLSID => Scalar::Bytes(std::slice::from_raw_parts(v.lpguid as *const u8, 16)),
            _ => Scalar::Empty,
        }
    }
}

/// Element `i` of a multi-valued array whose single type is `t`.
///
/// # Safety
/// `base` must hold more than `i` readable elements of that type.
unsafe fn element<'a>(t: u32, base: *const u8, i: usize) -> Scalar<'a> {
    // SAFETY: (each read below): element `i` is readable; read_unaligned accepts any address.
    unsafe {
        match t {
            PT_I2 => Scalar::Int(base.cast::<i16>().add(i).read_unaligned() as i64),
            PT_LONG => Scalar::Int(base.cast::<i32>().add(i).read_unaligned() as i64),
            PT_I8 | PT_CURRENCY => Scalar::Int(base.cast::<i64>().add(i).read_unaligned()),
            PT_R4 => Scalar::Float(base.cast::<f32>().add(i).read_unaligned() as f64),
            PT_DOUBLE | PT_APPTIME => Scalar::Float(base.cast::<f64>().add(i).read_unaligned()),
            PT_SYSTIME => Scalar::Time(filetime_to_u64(
                base.cast::<FILETIME>().add(i).read_unaligned(),
            )),
            PT_CLSID => Scalar::Bytes(std::slice::from_raw_parts(base.add(16 * i), 16)),
            PT_STRING8 => Scalar::String8(cstr(base.cast::<LPSTR>().add(i).read_unaligned())),
            PT_UNICODE => Scalar::Unicode(wstr(base.cast::<LPWSTR>().add(i).read_unaligned())),
            PT_BINARY => Scalar::Bytes(bin_bytes(base.cast::<SBinary>().add(i).read_unaligned())),
            _ => Scalar::Empty,
        }
    }
}

/// A whole value (single or multi-valued) as core's view.
///
/// # Safety
/// `p` must have passed `bad_prop`, its pointers readable.
unsafe fn value_of<'a>(p: &SPropValue) -> Value<'a> {
    let t = prop_type(p.ulPropTag);
    if t & MV_FLAG == 0 {
        // SAFETY: validated value (caller's contract).
        return Value::Single(unsafe { scalar(t, &p.Value) });
    }
    // SAFETY: an MV type (validated tag).
    let (n, base) = unsafe { mv_parts(&p.Value) };
    // SAFETY: `n` readable elements at `base` (validated: non-NULL when n > 0).
    Value::Multi(
        (0..n)
            .map(|i| unsafe { element(t & !MV_FLAG, base, i) })
            .collect(),
    )
}

/// Reads a validated value, or `None` if it is bad.
///
/// # Safety
/// `p` must be NULL or point to a readable SPropValue (pointers NULL or readable).
unsafe fn checked<'a>(p: *const SPropValue) -> Option<(u32, Value<'a>)> {
    // SAFETY: as the caller guarantees.
    if unsafe { bad_prop(p) } {
        return None;
    }
    // SAFETY: non-NULL (bad_prop checked) and readable.
    let v = unsafe { p.read_unaligned() };
    // SAFETY: validated just above.
    Some((prop_type(v.ulPropTag), unsafe { value_of(&v) }))
}

// ---- Laying values out in memory ------------------------------------------------------------

/// Places a value's out-of-line data (strings, binaries, GUIDs, MV arrays) after a base
/// address, each piece 8-aligned relative to the base. A dry run only counts, so the size
/// ScCountProps reports and the bytes ScCopyProps writes come from the same code.
struct Cursor {
    base: *mut u8,
    used: usize,
    write: bool,
}

impl Cursor {
    fn dry(start: usize) -> Self {
        Cursor {
            base: ptr::null_mut(),
            used: start,
            write: false,
        }
    }

    fn at(base: *mut u8, start: usize) -> Self {
        Cursor {
            base,
            used: start,
            write: true,
        }
    }

    /// Reserves `n` bytes; their address (NULL in a dry run).
    fn take(&mut self, n: usize) -> *mut u8 {
        let at = self.used;
        self.used = align8(at + n);
        if self.write {
            self.base.wrapping_add(at)
        } else {
            ptr::null_mut()
        }
    }

    /// Reserves `n` bytes and copies them from `src`.
    ///
    /// # Safety
    /// `src` must have `n` readable bytes; when writing, the block must have room.
    unsafe fn put(&mut self, src: *const u8, n: usize) -> *mut u8 {
        let dst = self.take(n);
        if self.write && n > 0 {
            // SAFETY: the caller guarantees both ranges; they do not overlap (the source is
            // the value being copied, the destination a new block).
            unsafe { ptr::copy_nonoverlapping(src, dst, n) };
        }
        dst
    }

    /// Writes a pointer-sized or SBinary entry into a table the cursor placed.
    ///
    /// # Safety
    /// `table` must be a table of at least `i + 1` entries this cursor reserved.
    unsafe fn set<T>(&self, table: *mut u8, i: usize, item: T) {
        if self.write {
            // SAFETY: within the reserved table; unaligned writes are fine for any base.
            unsafe { table.cast::<T>().add(i).write_unaligned(item) };
        }
    }
}

/// Lays out `src`'s out-of-line data with `c` and returns the union that points to it.
///
/// # Safety
/// `src` must be a valid value (`bad_prop` false) with readable pointers.
unsafe fn lay_out(src: &SPropValue, c: &mut Cursor) -> PV {
    let v = src.Value;
    let mut out = v;
    let t = prop_type(src.ulPropTag);
    // SAFETY: (the union reads, string scans and copies below): the tag's type selects each
    // member read; the value is valid, so its pointers are readable; the cursor's block was
    // sized by a dry run of this same function.
    unsafe {
        match t {
            PT_STRING8 => {
                let s = cstr(v.lpszA);
                out.lpszA = c.put(s.as_ptr(), s.len() + 1) as LPSTR;
            }
            PT_UNICODE => {
                let s = wstr(v.lpszW);
                out.lpszW = c.put(s.as_ptr() as *const u8, (s.len() + 1) * 2) as LPWSTR;
            }
            PT_CLSID => out.lpguid = c.put(v.lpguid as *const u8, 16) as LPGUID,
            PT_BINARY => {
                out.bin.lpb = if v.bin.cb == 0 {
                    ptr::null_mut()
                } else {
                    c.put(v.bin.lpb, v.bin.cb as usize)
                };
            }
            PT_MV_STRING8 | PT_MV_UNICODE | PT_MV_BINARY => {
                let (n, table_in) = mv_parts(&v);
                if n == 0 {
                    out.MVi.lpi = ptr::null_mut();
                    return out;
                }
                let entry = if t == PT_MV_BINARY { 16 } else { 8 };
                let table = c.take(entry * n);
                for i in 0..n {
                    match t {
                        PT_MV_STRING8 => {
                            let s = cstr(table_in.cast::<LPSTR>().add(i).read_unaligned());
                            let p = c.put(s.as_ptr(), s.len() + 1);
                            c.set(table, i, p);
                        }
                        PT_MV_UNICODE => {
                            let s = wstr(table_in.cast::<LPWSTR>().add(i).read_unaligned());
                            let p = c.put(s.as_ptr() as *const u8, (s.len() + 1) * 2);
                            c.set(table, i, p);
                        }
                        _ => {
                            let b = table_in.cast::<SBinary>().add(i).read_unaligned();
                            let lpb = if b.cb == 0 {
                                ptr::null_mut()
                            } else {
                                c.put(b.lpb, b.cb as usize)
                            };
                            c.set(table, i, SBinary { cb: b.cb, lpb });
                        }
                    }
                }
                out.MVi.lpi = table as *mut i16;
            }
            _ if t & MV_FLAG != 0 => {
                let (n, arr) = mv_parts(&v);
                out.MVi.lpi = if n == 0 {
                    ptr::null_mut()
                } else {
                    c.put(arr, n * mv_elem_size(t)) as *mut i16
                };
            }
            _ => {}
        }
    }
    out
}

/// The bytes a value needs after its SPropValue in a contiguous copy.
///
/// # Safety
/// As for [`lay_out`].
unsafe fn extra_size(src: &SPropValue) -> usize {
    let mut c = Cursor::dry(0);
    // SAFETY: as the caller guarantees; a dry run writes nothing.
    unsafe { lay_out(src, &mut c) };
    c.used
}

/// ScCountProps' validation of one value, beyond FBadProp: IDs PROP_ID_NULL and
/// PROP_ID_INVALID, PT_UNSPECIFIED and PT_NULL (no value) and MV values with no elements are
/// refused.
///
/// # Safety
/// `p` must point to a readable SPropValue.
unsafe fn check_countable(p: *const SPropValue, index: usize, what: &str) -> MapiResult<()> {
    // SAFETY: as the caller guarantees.
    let bad = unsafe { bad_prop(p) };
    // SAFETY: readable (caller's contract).
    let v = unsafe { p.read_unaligned() };
    let tag = v.ulPropTag;
    let t = prop_type(tag);
    let id = prop_id(tag) as u32;
    let reason = if bad {
        "is malformed (FBadProp)"
    } else if id == PROP_ID_NULL || id == PROP_ID_INVALID {
        "has property ID 0 or 0xFFFF"
    } else if t == PT_UNSPECIFIED || t == PT_NULL {
        "is PT_UNSPECIFIED or PT_NULL (no value)"
    } else if t & MV_FLAG != 0 && {
        // SAFETY: an MV type (the tag is valid).
        unsafe { mv_parts(&v.Value) }.0 == 0
    } {
        "is multi-valued with no values"
    } else {
        return Ok(());
    };
    Err(MapiError::invalid(format!(
        "{what}: entry {index} (tag 0x{tag:08X}) {reason}"
    )))
}

/// Validates `cprop` values for a contiguous copy and returns the bytes it needs.
///
/// # Safety
/// A non-NULL `rgprop` must point to `cprop` readable SPropValues.
unsafe fn count_props(cprop: i32, rgprop: *const SPropValue, what: &str) -> MapiResult<usize> {
    if cprop <= 0 {
        return Err(MapiError::invalid(format!("{what}: cprop is {cprop}")));
    }
    if rgprop.is_null() {
        return Err(MapiError::invalid(format!("{what}: rgprop is NULL")));
    }
    if cprop as u32 > MAX_COUNT {
        return Err(MapiError::invalid(format!(
            "{what}: cprop {cprop} exceeds the limit of {MAX_COUNT}"
        )));
    }
    let n = cprop as usize;
    let mut total = n * std::mem::size_of::<SPropValue>();
    for i in 0..n {
        // SAFETY: entry `i` is readable (caller's contract).
        let p = unsafe { rgprop.add(i) };
        // SAFETY: as above.
        unsafe { check_countable(p, i, what)? };
        // SAFETY: validated just above.
        total += unsafe { extra_size(&p.read_unaligned()) };
    }
    if total > u32::MAX as usize {
        return Err(MapiError::new(
            MAPI_E_NOT_ENOUGH_MEMORY,
            format!("{what}: the copy would need {total} bytes"),
        ));
    }
    Ok(total)
}

/// Writes the contiguous copy: the SPropValue array at `dst`, then each value's data, in
/// order. Returns the bytes written. `dst` need not be aligned.
///
/// # Safety
/// The values must have passed `count_props`; `dst` must have room for what it counted.
unsafe fn copy_props(n: usize, rgprop: *const SPropValue, dst: *mut u8) -> usize {
    let fixed = n * std::mem::size_of::<SPropValue>();
    let mut c = Cursor::at(dst, fixed);
    for i in 0..n {
        // SAFETY: entry `i` is readable and valid; the destination has room (caller).
        unsafe {
            let src = rgprop.add(i).read_unaligned();
            let value = lay_out(&src, &mut c);
            dst.cast::<SPropValue>().add(i).write_unaligned(SPropValue {
                ulPropTag: src.ulPropTag,
                dwAlignPad: 0,
                Value: value,
            });
        }
    }
    c.used
}

// ---- 1. Values ------------------------------------------------------------------------------

/// Deep-copies one property value into `lpSPropValueDest`. Data that does not fit in the
/// SPropValue (strings, binaries, GUIDs, MV arrays) goes into blocks made with `lpfAllocMore`
/// and linked to `lpvObject`: one block per value (an MV string or binary array is one block,
/// its pointer or SBinary table first, then the data), all freed with `lpvObject`.
/// MAPI_E_INVALID_PARAMETER for a NULL destination or allocator or a malformed source
/// (FBadProp); the destination is then zeroed.
///
/// # Safety
/// Pointers must be NULL or valid; `lpvObject` must be a block `lpfAllocMore` accepts.
#[no_mangle]
pub unsafe extern "C" fn PropCopyMore(
    lpSPropValueDest: LPSPropValue,
    lpSPropValueSrc: LPSPropValue,
    lpfAllocMore: Option<
        unsafe extern "C" fn(cbSize: ULONG, lpObject: LPVOID, lppBuffer: *mut LPVOID) -> SCODE,
    >,
    lpvObject: LPVOID,
) -> SCODE {
    guard::free_fn("PropCopyMore", || {
        if lpSPropValueDest.is_null() {
            return Err(MapiError::invalid("PropCopyMore: lpSPropValueDest is NULL"));
        }
        // SAFETY: a non-NULL destination is writable (MAPI's contract); zeroed so that a failure
        // leaves nothing to clean up.
        unsafe {
            ptr::write_bytes(
                lpSPropValueDest as *mut u8,
                0,
                std::mem::size_of::<SPropValue>(),
            )
        };
        let Some(more) = lpfAllocMore else {
            return Err(MapiError::invalid("PropCopyMore: lpfAllocMore is NULL"));
        };
        // SAFETY: the source is NULL or readable (MAPI's contract).
        if unsafe { bad_prop(lpSPropValueSrc) } {
            return Err(MapiError::invalid(
                "PropCopyMore: lpSPropValueSrc is NULL or malformed (FBadProp)",
            ));
        }
        // SAFETY: non-NULL and readable.
        let src = unsafe { lpSPropValueSrc.read_unaligned() };
        // SAFETY: validated just above.
        let size = unsafe { extra_size(&src) };
        let mut value = src.Value;
        if size > 0 {
            let size32 = ULONG::try_from(size).map_err(|_| {
                MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "PropCopyMore: value too large")
            })?;
            let mut block: LPVOID = ptr::null_mut();
            // SAFETY: an ALLOCATEMORE-shaped function with a valid out-pointer.
            let sc = unsafe { more(size32, lpvObject, &mut block) };
            if sc < 0 || block.is_null() {
                return Err(MapiError::new(
                    if sc < 0 { sc } else { MAPI_E_NOT_ENOUGH_MEMORY },
                    format!("PropCopyMore: allocating {size} bytes failed"),
                ));
            }
            let mut c = Cursor::at(block as *mut u8, 0);
            // SAFETY: the block has the `size` bytes the dry run counted.
            value = unsafe { lay_out(&src, &mut c) };
        }
        // SAFETY: writable destination (checked non-NULL above).
        unsafe {
            lpSPropValueDest.write_unaligned(SPropValue {
                ulPropTag: src.ulPropTag,
                dwAlignPad: src.dwAlignPad,
                Value: value,
            })
        };
        Ok(S_OK)
    })
}

/// The byte size of a value, not counting the SPropValue itself: strings with their terminator
/// (WCHARs × 2), MV strings and binaries as the sum of their elements (not the pointer or
/// SBinary table). PT_OBJECT, PT_NULL, unknown types, NULL and malformed values: 0.
///
/// # Safety
/// `lpSPropValue` must be NULL or a readable SPropValue.
#[no_mangle]
pub unsafe extern "C" fn UlPropSize(lpSPropValue: LPSPropValue) -> ULONG {
    guard::free_fn_ulong("UlPropSize", || {
        // SAFETY: NULL or readable (caller's contract).
        let Some((t, value)) = (unsafe { checked(lpSPropValue) }) else {
            return 0;
        };
        let one = |s: &Scalar| -> u64 {
            match s {
                Scalar::String8(b) => b.len() as u64 + 1,
                Scalar::Unicode(u) => (u.len() as u64 + 1) * 2,
                Scalar::Bytes(b) => b.len() as u64,
                _ => 0,
            }
        };
        let size: u64 = match (t, &value) {
            (PT_I2 | PT_BOOLEAN, _) => 2,
            (PT_LONG | PT_R4 | PT_ERROR, _) => 4,
            (PT_DOUBLE | PT_APPTIME | PT_CURRENCY | PT_I8 | PT_SYSTIME, _) => 8,
            (PT_CLSID, _) => 16,
            (PT_STRING8 | PT_UNICODE | PT_BINARY, Value::Single(s)) => one(s),
            (PT_MV_STRING8 | PT_MV_UNICODE | PT_MV_BINARY, Value::Multi(v)) => {
                v.iter().map(one).sum()
            }
            (_, Value::Multi(v)) => (v.len() * mv_elem_size(t)) as u64,
            _ => 0,
        };
        size.min(u32::MAX as u64) as ULONG
    })
}

/// TRUE if `lpSPropValueSrc` (the needle) occurs in `lpSPropValueDst` as `ulFuzzyLevel` asks:
/// FL_FULLSTRING (0), FL_SUBSTRING (1) or FL_PREFIX (2) in the low 16 bits (anything else: a
/// full match), FL_IGNORECASE / FL_IGNORENONSPACE / FL_LOOSE in the high bits for PT_STRING8
/// and PT_UNICODE. FALSE for NULL or malformed values, different types, or other types.
///
/// # Safety
/// Pointers must be NULL or readable SPropValues.
#[no_mangle]
pub unsafe extern "C" fn FPropContainsProp(
    lpSPropValueDst: LPSPropValue,
    lpSPropValueSrc: LPSPropValue,
    ulFuzzyLevel: ULONG,
) -> BOOL {
    guard::free_fn_or("FPropContainsProp", 0, || {
        // SAFETY: NULL or readable (caller's contract).
        let (Some((th, hay)), Some((tn, needle))) = (unsafe { checked(lpSPropValueDst) }, unsafe {
            checked(lpSPropValueSrc)
        }) else {
            return 0;
        };
        match (hay, needle) {
            (Value::Single(h), Value::Single(n)) if th == tn => {
                proputil::contains(th, &h, &n, ulFuzzyLevel) as BOOL
            }
            _ => 0,
        }
    })
}

/// TRUE if `lpSPropValue1 ulRelOp lpSPropValue2` holds (RELOP_LT … RELOP_NE). Different types,
/// NULL or malformed values, an unknown operator and RELOP_RE (not implemented) give FALSE.
///
/// # Safety
/// Pointers must be NULL or readable SPropValues.
#[no_mangle]
pub unsafe extern "C" fn FPropCompareProp(
    lpSPropValue1: LPSPropValue,
    ulRelOp: ULONG,
    lpSPropValue2: LPSPropValue,
) -> BOOL {
    guard::free_fn_or("FPropCompareProp", 0, || {
        // SAFETY: NULL or readable (caller's contract).
        let (Some((ta, a)), Some((tb, b))) = (unsafe { checked(lpSPropValue1) }, unsafe {
            checked(lpSPropValue2)
        }) else {
            return 0;
        };
        proputil::relop_holds(ta, &a, ulRelOp, tb, &b) as BOOL
    })
}

/// Orders two values: < 0, 0 or > 0. Values of different types order by type code (the
/// difference of the codes); integers are signed; strings and binaries compare by code unit
/// or byte, then length; MV values element by element, then by count. NULL or malformed: 0.
///
/// # Safety
/// Pointers must be NULL or readable SPropValues.
#[no_mangle]
pub unsafe extern "C" fn LPropCompareProp(
    lpSPropValueA: LPSPropValue,
    lpSPropValueB: LPSPropValue,
) -> LONG {
    guard::free_fn_or("LPropCompareProp", 0, || {
        // SAFETY: NULL or readable (caller's contract).
        let (Some((ta, a)), Some((tb, b))) = (unsafe { checked(lpSPropValueA) }, unsafe {
            checked(lpSPropValueB)
        }) else {
            return 0;
        };
        proputil::compare_props(ta, &a, tb, &b)
    })
}

/// Index of the first entry `matches` accepts among `cprop` values, scanning tags only.
///
/// # Safety
/// A non-NULL `rgprop` must point to `cprop` readable SPropValues.
unsafe fn find(rgprop: LPSPropValue, cprop: ULONG, matches: impl Fn(u32) -> bool) -> LPSPropValue {
    if rgprop.is_null() {
        return ptr::null_mut();
    }
    for i in 0..cprop as usize {
        // SAFETY: entry `i` is readable (caller's contract).
        let p = unsafe { rgprop.add(i) };
        // SAFETY: as above; only the tag is read.
        let tag = unsafe { ptr::addr_of!((*p).ulPropTag).read_unaligned() };
        if matches(tag) {
            return p;
        }
    }
    ptr::null_mut()
}

/// The first value in `rgprop` whose tag is `ulPropTag`; with a PT_UNSPECIFIED type, the first
/// whose property ID matches. NULL when none does, or for a NULL array or a count of 0.
///
/// # Safety
/// A non-NULL `rgprop` must point to `cprop` readable SPropValues.
#[no_mangle]
pub unsafe extern "C" fn PpropFindProp(
    rgprop: LPSPropValue,
    cprop: ULONG,
    ulPropTag: ULONG,
) -> LPSPropValue {
    guard::free_fn_or("PpropFindProp", ptr::null_mut(), || {
        let by_id = prop_type(ulPropTag) == PT_UNSPECIFIED;
        // SAFETY: as the caller guarantees.
        unsafe {
            find(rgprop, cprop, |t| {
                !proputil::is_bad_prop_tag(t)
                    && (t == ulPropTag || (by_id && prop_id(t) == prop_id(ulPropTag)))
            })
        }
    })
}

/// The first value in `lpProps` with the property ID of `ulPropTag`, whatever the types (as
/// Windows does; the documentation calls it identical to PpropFindProp). NULL when none does.
///
/// # Safety
/// A non-NULL `lpProps` must point to `cValues` readable SPropValues.
#[no_mangle]
pub unsafe extern "C" fn LpValFindProp(
    ulPropTag: ULONG,
    cValues: ULONG,
    lpProps: LPSPropValue,
) -> LPSPropValue {
    guard::free_fn_or("LpValFindProp", ptr::null_mut(), || {
        // SAFETY: as the caller guarantees.
        unsafe { find(lpProps, cValues, |t| prop_id(t) == prop_id(ulPropTag)) }
    })
}

/// Validates `cprop` values and, if `pcb` is not NULL, stores the bytes ScCopyProps needs for
/// them. MAPI_E_INVALID_PARAMETER for `cprop` ≤ 0, a NULL array, a malformed value (FBadProp),
/// a property ID of 0 or 0xFFFF, a PT_UNSPECIFIED or PT_NULL value or an MV value with no
/// elements. An empty PT_BINARY is accepted.
/// `*pcb` is 0 on failure.
///
/// # Safety
/// A non-NULL `rgprop` must point to `cprop` readable SPropValues; `pcb` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ScCountProps(cprop: i32, rgprop: LPSPropValue, pcb: *mut ULONG) -> SCODE {
    guard::free_fn("ScCountProps", || {
        // SAFETY: NULL or writable (caller's contract).
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = 0;
        }
        // SAFETY: as the caller guarantees.
        let total = unsafe { count_props(cprop, rgprop, "ScCountProps")? };
        // SAFETY: as above.
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = total as ULONG;
        }
        Ok(S_OK)
    })
}

/// Copies `cprop` values into `pvDst` as one contiguous block: the SPropValue array, then each
/// value's data in order, each piece 8-aligned relative to `pvDst` (which itself need not be
/// aligned). `*pcb` (optional) receives the bytes written, which is what ScCountProps reports.
/// `cprop` = 0 copies nothing; the values are validated as ScCountProps does.
///
/// # Safety
/// `rgprop` must point to `cprop` readable SPropValues; `pvDst` must have room for the size
/// ScCountProps reports; `pcb` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ScCopyProps(
    cprop: i32,
    rgprop: LPSPropValue,
    pvDst: LPVOID,
    pcb: *mut ULONG,
) -> SCODE {
    guard::free_fn("ScCopyProps", || {
        // SAFETY: NULL or writable (caller's contract).
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = 0;
        }
        if pvDst.is_null() {
            return Err(MapiError::invalid("ScCopyProps: pvDst is NULL"));
        }
        if cprop == 0 {
            return Ok(S_OK); // nothing to copy, whatever rgprop is
        }
        // SAFETY: as the caller guarantees.
        unsafe { count_props(cprop, rgprop, "ScCopyProps")? };
        // SAFETY: validated; the destination was sized by the caller (ScCountProps).
        let written = unsafe { copy_props(cprop as usize, rgprop, pvDst as *mut u8) };
        // SAFETY: as above.
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = written as ULONG;
        }
        Ok(S_OK)
    })
}

/// Re-points a contiguous block of `cprop` values (made by ScCopyProps or ScDupPropset) after
/// it was moved from `pvBaseOld` to `pvBaseNew` with memcpy: every pointer becomes
/// `ptr - pvBaseOld + pvBaseNew` (NULL pointers stay NULL). `rgprop` is the array at its new
/// place; `*pcb` (optional) receives the block's size. Both bases are required (the documented
/// use with a 0 base, to write offsets to disk, crashes on Windows and is refused here).
///
/// # Safety
/// `rgprop` must be the moved block, whose pointers still point into the old one.
#[no_mangle]
pub unsafe extern "C" fn ScRelocProps(
    cprop: i32,
    rgprop: LPSPropValue,
    pvBaseOld: LPVOID,
    pvBaseNew: LPVOID,
    pcb: *mut ULONG,
) -> SCODE {
    guard::free_fn("ScRelocProps", || {
        // SAFETY: NULL or writable (caller's contract).
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = 0;
        }
        if rgprop.is_null() || pvBaseOld.is_null() || pvBaseNew.is_null() {
            return Err(MapiError::invalid(
                "ScRelocProps: rgprop, pvBaseOld and pvBaseNew are required",
            ));
        }
        if cprop < 0 || cprop as u32 > MAX_COUNT {
            return Err(MapiError::invalid(format!(
                "ScRelocProps: cprop {cprop} is out of range"
            )));
        }
        let n = cprop as usize;
        // Tags and counts first: nothing is changed when one of them cannot be right.
        for i in 0..n {
            // SAFETY: entry `i` of the moved block is readable.
            let v = unsafe { rgprop.add(i).read_unaligned() };
            let tag = v.ulPropTag;
            if proputil::is_bad_prop_tag(tag) {
                return Err(MapiError::invalid(format!(
                    "ScRelocProps: entry {i} has tag 0x{tag:08X}, not a MAPI type"
                )));
            }
            if tag & MV_FLAG != 0 {
                // SAFETY: an MV type selects the shared MV member.
                let (count, table) = unsafe { mv_parts(&v.Value) };
                if count > MAX_COUNT as usize || (count > 0 && table.is_null()) {
                    return Err(MapiError::invalid(format!(
                        "ScRelocProps: entry {i} claims {count} values at {table:p}"
                    )));
                }
            }
        }
        let (old, new) = (pvBaseOld as usize, pvBaseNew as usize);
        let reloc = |p: *mut u8| -> *mut u8 {
            if p.is_null() {
                p
            } else {
                (p as usize).wrapping_sub(old).wrapping_add(new) as *mut u8
            }
        };
        let mut total = n * std::mem::size_of::<SPropValue>();
        for i in 0..n {
            // SAFETY: entry `i` of the moved block is readable and writable; every pointer it
            // holds pointed into the old block, so relocated it points into the new one, where
            // the same bytes now are (the caller's contract).
            unsafe {
                let at = rgprop.add(i);
                let mut v = at.read_unaligned();
                let t = prop_type(v.ulPropTag);
                match t {
                    PT_STRING8 | PT_UNICODE | PT_CLSID => {
                        v.Value.lpv = reloc(v.Value.lpv as *mut u8) as LPVOID
                    }
                    PT_BINARY => v.Value.bin.lpb = reloc(v.Value.bin.lpb),
                    _ if t & MV_FLAG != 0 => {
                        let (count, table) = mv_parts(&v.Value);
                        let table = reloc(table as *mut u8);
                        v.Value.MVi.lpi = table as *mut i16;
                        for k in 0..count {
                            match t {
                                PT_MV_STRING8 | PT_MV_UNICODE => {
                                    let e = table.cast::<*mut u8>().add(k);
                                    e.write_unaligned(reloc(e.read_unaligned()));
                                }
                                PT_MV_BINARY => {
                                    let e = table.cast::<SBinary>().add(k);
                                    let mut b = e.read_unaligned();
                                    b.lpb = reloc(b.lpb);
                                    e.write_unaligned(b);
                                }
                                _ => break,
                            }
                        }
                    }
                    _ => {}
                }
                at.write_unaligned(v);
                if !bad_prop(&v) {
                    total += extra_size(&v);
                }
            }
        }
        // SAFETY: as above.
        if let Some(out) = unsafe { pcb.as_mut() } {
            *out = total.min(u32::MAX as usize) as ULONG;
        }
        Ok(S_OK)
    })
}

/// Duplicates `cprop` values into one block from `lpAllocateBuffer` (free it with its partner,
/// MAPIFreeBuffer for MAPIAllocateBuffer): ScCountProps, then the allocation, then ScCopyProps.
/// `*prgprop` is NULL on failure.
///
/// # Safety
/// `rgprop` must point to `cprop` readable SPropValues; `prgprop` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ScDupPropset(
    cprop: i32,
    rgprop: LPSPropValue,
    lpAllocateBuffer: Option<unsafe extern "C" fn(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE>,
    prgprop: *mut LPSPropValue,
) -> SCODE {
    guard::free_fn("ScDupPropset", || {
        // SAFETY: NULL or writable (caller's contract).
        let out = unsafe { guard::cleared_out(prgprop, "ScDupPropset: prgprop")? };
        let Some(alloc) = lpAllocateBuffer else {
            return Err(MapiError::invalid("ScDupPropset: lpAllocateBuffer is NULL"));
        };
        // SAFETY: as the caller guarantees.
        let total = unsafe { count_props(cprop, rgprop, "ScDupPropset")? };
        let mut block: LPVOID = ptr::null_mut();
        // SAFETY: an ALLOCATEBUFFER-shaped function with a valid out-pointer.
        let sc = unsafe { alloc(total as ULONG, &mut block) };
        if sc < 0 || block.is_null() {
            return Err(MapiError::new(
                if sc < 0 { sc } else { MAPI_E_NOT_ENOUGH_MEMORY },
                format!("ScDupPropset: allocating {total} bytes failed"),
            ));
        }
        // SAFETY: the block has `total` bytes; zeroed so padding never carries stale memory,
        // then filled with the validated values.
        unsafe {
            ptr::write_bytes(block as *mut u8, 0, total);
            copy_props(cprop as usize, rgprop, block as *mut u8);
        }
        *out = block as LPSPropValue;
        Ok(S_OK)
    })
}

/// TRUE if two named-property names are equal: the same GUID (by value), the same kind, and
/// the same ID (MNID_ID) or the same string, case-sensitively (MNID_STRING). NULL gives FALSE.
///
/// # Safety
/// Pointers must be NULL or readable MAPINAMEIDs whose GUIDs and strings are NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn FEqualNames(lpName1: LPMAPINAMEID, lpName2: LPMAPINAMEID) -> BOOL {
    guard::free_fn_or("FEqualNames", 0, || {
        // SAFETY: NULL or readable (caller's contract).
        let (Some(a), Some(b)) = (unsafe { lpName1.as_ref() }, unsafe { lpName2.as_ref() }) else {
            return 0;
        };
        // SAFETY: each GUID pointer is NULL or readable.
        let guids_equal = match (unsafe { a.lpguid.as_ref() }, unsafe { b.lpguid.as_ref() }) {
            (Some(x), Some(y)) => x == y,
            (None, None) => true,
            _ => false,
        };
        if !guids_equal || a.ulKind != b.ulKind {
            return 0;
        }
        // SAFETY: the kind selects the union member; strings are NULL or readable.
        let equal = unsafe {
            match a.ulKind {
                MNID_ID => a.Kind.lID == b.Kind.lID,
                MNID_STRING => {
                    let (x, y) = (a.Kind.lpwstrName, b.Kind.lpwstrName);
                    match (x.is_null(), y.is_null()) {
                        (false, false) => wstr(x) == wstr(y),
                        (true, true) => true,
                        _ => false,
                    }
                }
                _ => false,
            }
        };
        equal as BOOL
    })
}

// ---- 2. Validation --------------------------------------------------------------------------

/// TRUE if any of `cStrings` narrow strings is invalid: a NULL array (with a count above 0) or a
/// NULL element. A count of 0 is FALSE.
///
/// # Safety
/// A non-NULL `lppszStrings` must point to `cStrings` readable pointers.
#[no_mangle]
pub unsafe extern "C" fn FBadRglpszA(lppszStrings: *mut LPSTR, cStrings: ULONG) -> BOOL {
    guard::free_fn_or("FBadRglpszA", 1, || {
        // SAFETY: as the caller guarantees.
        unsafe { bad_string_array(lppszStrings, cStrings) as BOOL }
    })
}

/// FBadRglpszA for wide strings.
///
/// # Safety
/// A non-NULL `lppszStrings` must point to `cStrings` readable pointers.
#[no_mangle]
pub unsafe extern "C" fn FBadRglpszW(lppszStrings: *mut LPWSTR, cStrings: ULONG) -> BOOL {
    guard::free_fn_or("FBadRglpszW", 1, || {
        // SAFETY: as the caller guarantees.
        unsafe { bad_string_array(lppszStrings, cStrings) as BOOL }
    })
}

/// FBadRow's check.
///
/// # Safety
/// `row` must be NULL or readable, its `lpProps` NULL or `cValues` readable values.
unsafe fn bad_row(row: *const SRow) -> bool {
    // SAFETY: NULL or readable (caller's contract).
    let Some(r) = (unsafe { row.as_ref() }) else {
        return true;
    };
    if r.lpProps.is_null() || r.cValues > MAX_COUNT {
        return true;
    }
    // SAFETY: `cValues` readable values at `lpProps`.
    (0..r.cValues as usize).any(|i| unsafe { bad_prop(r.lpProps.add(i)) })
}

/// TRUE (non-zero) if a row is invalid: NULL, a NULL `lpProps`, or a malformed value (FBadProp).
///
/// # Safety
/// `lprow` must be NULL or a readable SRow whose values are readable.
#[no_mangle]
pub unsafe extern "C" fn FBadRow(lprow: LPSRow) -> ULONG {
    guard::free_fn_or("FBadRow", 1, || {
        // SAFETY: as the caller guarantees.
        unsafe { bad_row(lprow) as ULONG }
    })
}

/// TRUE if a row set is invalid: NULL, a count beyond what can be checked, or a bad row.
///
/// # Safety
/// `lpRowSet` must be NULL or a readable SRowSet with `cRows` readable rows.
#[no_mangle]
pub unsafe extern "C" fn FBadRowSet(lpRowSet: LPSRowSet) -> BOOL {
    guard::free_fn_or("FBadRowSet", 1, || {
        if lpRowSet.is_null() {
            return 1;
        }
        // SAFETY: non-NULL and readable (caller's contract).
        let n = unsafe { (*lpRowSet).cRows };
        if n > MAX_COUNT {
            return 1;
        }
        // SAFETY: `aRow` holds `cRows` rows.
        let rows = unsafe { ptr::addr_of!((*lpRowSet).aRow) as *const SRow };
        // SAFETY: row `i` is readable.
        (0..n as usize).any(|i| unsafe { bad_row(rows.add(i)) }) as BOOL
    })
}

/// TRUE (non-zero) if the tag's type is not a MAPI property type (only the type is checked;
/// MV_FLAG only on the twelve types that have a multi-valued form).
#[no_mangle]
pub extern "C" fn FBadPropTag(ulPropTag: ULONG) -> ULONG {
    guard::free_fn_or("FBadPropTag", 1, || {
        proputil::is_bad_prop_tag(ulPropTag) as ULONG
    })
}

/// TRUE (non-zero) if a value is malformed: NULL, a bad tag (FBadPropTag), a NULL string or GUID
/// pointer, a NULL data pointer with a non-zero count, or a NULL string in an MV string array.
/// Booleans are not restricted to 0/1 (non-zero is true).
///
/// # Safety
/// `lpprop` must be NULL or a readable SPropValue.
#[no_mangle]
pub unsafe extern "C" fn FBadProp(lpprop: LPSPropValue) -> ULONG {
    guard::free_fn_or("FBadProp", 1, || {
        // SAFETY: as the caller guarantees.
        unsafe { bad_prop(lpprop) as ULONG }
    })
}

/// TRUE (non-zero) if a column set is invalid: NULL, a PT_ERROR column or a bad tag. PT_NULL
/// columns and an empty set are valid.
///
/// # Safety
/// `lpptaCols` must be NULL or a readable SPropTagArray.
#[no_mangle]
pub unsafe extern "C" fn FBadColumnSet(lpptaCols: LPSPropTagArray) -> ULONG {
    guard::free_fn_or("FBadColumnSet", 1, || {
        if lpptaCols.is_null() {
            return 1;
        }
        // SAFETY: non-NULL and readable, with `cValues` tags (caller's contract).
        let n = unsafe { (*lpptaCols).cValues };
        if n > MAX_COUNT {
            return 1;
        }
        // SAFETY: as above.
        let tags = unsafe {
            std::slice::from_raw_parts(
                ptr::addr_of!((*lpptaCols).aulPropTag) as *const ULONG,
                n as usize,
            )
        };
        tags.iter()
            .any(|&t| prop_type(t) == PT_ERROR || proputil::is_bad_prop_tag(t)) as ULONG
    })
}

// ---- 3. Objects -----------------------------------------------------------------------------

/// Frees a block an object handed out, with the allocator it was made with: an IPropData of
/// ours uses the one it was created with; anything else MAPIFreeBuffer.
///
/// # Safety
/// `obj` must be a live COM object; `p` NULL or a root block it returned.
unsafe fn free_result(obj: *mut c_void, p: LPVOID) {
    // SAFETY: as the caller guarantees.
    unsafe {
        match super::propdata::allocator_of(obj) {
            Some(a) => a.free(p),
            None => {
                MAPIFreeBuffer(p);
            }
        }
    }
}

/// Gets one property through the object's GetProps. `*ppprop` is one block to free with
/// MAPIFreeBuffer. A property the object does not have is MAPI_E_NOT_FOUND (never a warning);
/// `*ppprop` is then NULL.
///
/// # Safety
/// `lpMAPIProp` must be NULL or a live IMAPIProp; `ppprop` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn HrGetOneProp(
    lpMAPIProp: LPMAPIPROP,
    ulPropTag: ULONG,
    ppprop: *mut LPSPropValue,
) -> HRESULT {
    guard::free_fn("HrGetOneProp", || {
        // SAFETY: NULL or writable (caller's contract).
        let out = unsafe { guard::cleared_out(ppprop, "HrGetOneProp: ppprop")? };
        if lpMAPIProp.is_null() {
            return Err(MapiError::invalid("HrGetOneProp: lpMAPIProp is NULL"));
        }
        let tags = SPropTagArray {
            cValues: 1,
            aulPropTag: [ulPropTag],
        };
        let mut count: ULONG = 0;
        let mut vals: LPSPropValue = ptr::null_mut();
        // SAFETY: a live IMAPIProp (ours or the caller's); the arguments are valid locals.
        let hr = unsafe {
            ((*(*lpMAPIProp).lpVtbl).GetProps)(
                lpMAPIProp,
                &tags as *const SPropTagArray as LPSPropTagArray,
                0,
                &mut count,
                &mut vals,
            )
        };
        let not_found = || {
            MapiError::new(
                MAPI_E_NOT_FOUND,
                format!("HrGetOneProp: the object has no property 0x{ulPropTag:08X}"),
            )
        };
        if hr < 0 {
            // SAFETY: a failed call should have left NULL; free whatever it left anyway.
            unsafe { free_result(lpMAPIProp as *mut c_void, vals as LPVOID) };
            return Err(MapiError::new(
                hr,
                format!("HrGetOneProp: GetProps(0x{ulPropTag:08X}) failed"),
            ));
        }
        // SAFETY: on success `vals` is NULL or `count` values.
        let ok = hr == S_OK
            && count == 1
            && !vals.is_null()
            && prop_type(unsafe { (*vals).ulPropTag }) != PT_ERROR;
        if !ok {
            // SAFETY: the object's own result block.
            unsafe { free_result(lpMAPIProp as *mut c_void, vals as LPVOID) };
            return Err(not_found());
        }
        *out = vals;
        Ok(S_OK)
    })
}

/// Sets one property through the object's SetProps (with no problem array, as Windows does).
/// Never a warning: S_OK or the failure SetProps returned.
///
/// # Safety
/// `lpMAPIProp` must be NULL or a live IMAPIProp; `pprop` NULL or a readable SPropValue.
#[no_mangle]
pub unsafe extern "C" fn HrSetOneProp(lpMAPIProp: LPMAPIPROP, pprop: LPSPropValue) -> HRESULT {
    guard::free_fn("HrSetOneProp", || {
        if lpMAPIProp.is_null() || pprop.is_null() {
            return Err(MapiError::invalid(
                "HrSetOneProp: lpMAPIProp and pprop are required",
            ));
        }
        // SAFETY: a live IMAPIProp and a readable value (caller's contract).
        let hr =
            unsafe { ((*(*lpMAPIProp).lpVtbl).SetProps)(lpMAPIProp, 1, pprop, ptr::null_mut()) };
        if hr < 0 {
            return Err(MapiError::new(hr, "HrSetOneProp: SetProps failed"));
        }
        Ok(S_OK)
    })
}

/// TRUE if the object's GetPropList has `ulPropTag` (with a PT_UNSPECIFIED type: a tag with
/// its property ID). FALSE for NULL or when GetPropList fails.
///
/// # Safety
/// `lpMapiProp` must be NULL or a live IMAPIProp.
#[no_mangle]
pub unsafe extern "C" fn FPropExists(lpMapiProp: LPMAPIPROP, ulPropTag: ULONG) -> BOOL {
    guard::free_fn_or("FPropExists", 0, || {
        if lpMapiProp.is_null() {
            return 0;
        }
        let mut list: LPSPropTagArray = ptr::null_mut();
        // SAFETY: a live IMAPIProp; a valid out-pointer.
        let hr = unsafe { ((*(*lpMapiProp).lpVtbl).GetPropList)(lpMapiProp, 0, &mut list) };
        if hr < 0 || list.is_null() {
            return 0;
        }
        // SAFETY: the object's result: a readable tag array.
        let n = unsafe { (*list).cValues }.min(MAX_COUNT) as usize;
        // SAFETY: as above.
        let tags = unsafe {
            std::slice::from_raw_parts(ptr::addr_of!((*list).aulPropTag) as *const ULONG, n)
        };
        let by_id = prop_type(ulPropTag) == PT_UNSPECIFIED;
        let found = tags
            .iter()
            .any(|&t| t == ulPropTag || (by_id && prop_id(t) == prop_id(ulPropTag)));
        // SAFETY: the object's own result block.
        unsafe { free_result(lpMapiProp as *mut c_void, list as LPVOID) };
        found as BOOL
    })
}

/// Calls AddRef on any COM object and returns its result; NULL gives 0 without a call.
///
/// # Safety
/// `lpunk` must be NULL or a live COM object.
#[no_mangle]
pub unsafe extern "C" fn UlAddRef(lpunk: LPVOID) -> ULONG {
    guard::free_fn_ulong("UlAddRef", || {
        if lpunk.is_null() {
            return 0;
        }
        // SAFETY: a live COM object (caller's contract).
        unsafe { foreign_add_ref(lpunk) }
    })
}

/// Calls Release on any COM object and returns its result; NULL gives 0 without a call.
///
/// # Safety
/// `lpunk` must be NULL or a live COM object on which the caller owns a reference.
#[no_mangle]
pub unsafe extern "C" fn UlRelease(lpunk: LPVOID) -> ULONG {
    guard::free_fn_ulong("UlRelease", || {
        if lpunk.is_null() {
            return 0;
        }
        // SAFETY: as the caller guarantees.
        unsafe { foreign_release(lpunk) }
    })
}

/// Frees a row set: MAPIFreeBuffer on each row's `lpProps`, then on the set. NULL does nothing;
/// a count beyond MAX_COUNT frees only the set (its rows cannot be trusted).
///
/// # Safety
/// `lpRows` must be NULL or a MAPIAllocateBuffer'd SRowSet whose rows' values are NULL or
/// MAPIAllocateBuffer'd.
#[no_mangle]
pub unsafe extern "C" fn FreeProws(lpRows: LPSRowSet) {
    guard::free_fn_or("FreeProws", (), || {
        // SAFETY: as the caller guarantees.
        unsafe { free_rows(lpRows) }
    })
}

/// Frees an address list: the same as FreeProws (ADRLIST and SRowSet share one layout).
///
/// # Safety
/// As for FreeProws.
#[no_mangle]
pub unsafe extern "C" fn FreePadrlist(lpAdrlist: LPADRLIST) {
    guard::free_fn_or("FreePadrlist", (), || {
        // SAFETY: ADRLIST and SRowSet have the same layout (reference §10.5).
        unsafe { free_rows(lpAdrlist as LPSRowSet) }
    })
}

/// # Safety
/// As for FreeProws.
unsafe fn free_rows(rows: LPSRowSet) {
    if rows.is_null() {
        return;
    }
    // SAFETY: a readable SRowSet (caller's contract).
    let n = unsafe { (*rows).cRows };
    if n <= MAX_COUNT {
        // SAFETY: `cRows` rows follow the count.
        let first = unsafe { ptr::addr_of!((*rows).aRow) as *const SRow };
        for i in 0..n as usize {
            // SAFETY: row `i` is readable; its values are NULL or a root block.
            unsafe { MAPIFreeBuffer((*first.add(i)).lpProps as LPVOID) };
        }
    }
    // SAFETY: the set itself is a root block.
    unsafe { MAPIFreeBuffer(rows as LPVOID) };
}

// ---- 5. Strings -----------------------------------------------------------------------------

/// Writes `cb` bytes at `pb` as 2·cb uppercase hex digits and a NUL into `sz` (2·cb + 1 bytes).
/// A NULL `sz` writes nothing; `cb` ≤ 0 or a NULL `pb` writes an empty string.
///
/// # Safety
/// `pb` must have `cb` readable bytes; `sz` room for 2·cb + 1.
#[no_mangle]
pub unsafe extern "C" fn HexFromBin(pb: LPBYTE, cb: i32, sz: LPTSTR) {
    guard::free_fn_or("HexFromBin", (), || {
        if sz.is_null() {
            return;
        }
        let bytes: &[u8] = if cb <= 0 || pb.is_null() {
            &[]
        } else {
            // SAFETY: `cb` readable bytes (caller's contract).
            unsafe { std::slice::from_raw_parts(pb, cb as usize) }
        };
        let hex = proputil::hex_from_bin(bytes);
        // SAFETY: `sz` has room for 2·cb + 1 bytes (caller's contract).
        unsafe {
            ptr::copy_nonoverlapping(hex.as_ptr(), sz as *mut u8, hex.len());
            *sz.add(hex.len()) = 0;
        }
    })
}

/// Reads pairs of hex digits (0-9, A-F, a-f) from `sz` into `pb`. FALSE, with nothing written,
/// for NULL, an invalid character or an odd number of digits.
///
/// # Safety
/// `sz` must be NULL or a NUL-terminated ASCII string; `pb` room for half its length.
#[no_mangle]
pub unsafe extern "C" fn FBinFromHex(sz: LPTSTR, pb: LPBYTE) -> BOOL {
    guard::free_fn_or("FBinFromHex", 0, || {
        if sz.is_null() || pb.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string (caller's contract).
        let text = unsafe { cstr(sz) };
        let Some(bytes) = proputil::bin_from_hex(text) else {
            return 0;
        };
        // SAFETY: `pb` has room for half the digits (caller's contract).
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), pb, bytes.len()) };
        1
    })
}

/// The decimal number at the start of `lpszDecimal` (digits up to the first non-digit; 0 if it
/// starts with none or is NULL; no whitespace skipped).
///
/// # Safety
/// `lpszDecimal` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn UFromSz(lpszDecimal: *const c_char) -> u32 {
    guard::free_fn_or("UFromSz", 0, || {
        if lpszDecimal.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string (caller's contract).
        proputil::u_from_sz(unsafe { cstr(lpszDecimal) })
    })
}

/// The hex number at the start of `lpsz` (digits of either case up to the first non-hex
/// character, one at a time; 0 for NULL).
///
/// # Safety
/// `lpsz` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn UlFromSzHex(lpsz: *const c_char) -> ULONG {
    guard::free_fn_ulong("UlFromSzHex", || {
        if lpsz.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string (caller's contract).
        proputil::ul_from_sz_hex(unsafe { cstr(lpsz) })
    })
}

/// Byte-swaps `cWords` 16-bit values in place (NULL does nothing).
///
/// # Safety
/// `lpData` must be NULL or hold `cWords` writable 16-bit values (any alignment).
#[no_mangle]
pub unsafe extern "C" fn SwapPword(lpData: *mut u16, cWords: ULONG) {
    guard::free_fn_or("SwapPword", (), || {
        if lpData.is_null() {
            return;
        }
        for i in 0..cWords as usize {
            // SAFETY: element `i` is readable and writable (caller's contract).
            unsafe {
                let p = lpData.add(i);
                p.write_unaligned(p.read_unaligned().swap_bytes());
            }
        }
    })
}

/// Byte-swaps `cLongs` 32-bit values in place (NULL does nothing).
///
/// # Safety
/// `lpData` must be NULL or hold `cLongs` writable 32-bit values (any alignment).
#[no_mangle]
pub unsafe extern "C" fn SwapPlong(lpData: *mut ULONG, cLongs: ULONG) {
    guard::free_fn_or("SwapPlong", (), || {
        if lpData.is_null() {
            return;
        }
        for i in 0..cLongs as usize {
            // SAFETY: element `i` is readable and writable (caller's contract).
            unsafe {
                let p = lpData.add(i);
                p.write_unaligned(p.read_unaligned().swap_bytes());
            }
        }
    })
}

/// Undocumented (Windows' arithmetic): `(((strlen | 3) >> 2) + 1) * 3` for a string, 0 for
/// NULL — the bytes an encoded string of that length decodes into, rounded up.
///
/// # Safety
/// `lpszEnc` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CbOfEncoded(lpszEnc: *const c_char) -> ULONG {
    guard::free_fn_ulong("CbOfEncoded", || {
        if lpszEnc.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string (caller's contract).
        proputil::cb_of_encoded(unsafe { cstr(lpszEnc) }.len())
    })
}

// ---- Tables ----------------------------------------------------------------------------------

/// Reads a whole table (D:hrqueryallrows): sets the columns when `lpPropTags` is given,
/// restricts when `lpRestriction` is given and sorts when `lpSortOrderSet` is given (NULL keeps
/// the table's own), rewinds, and gathers every row into one SRowSet (free it with FreeProws).
/// `crowsMax` 0 means no limit; more rows than that is MAPI_E_TABLE_TOO_BIG. Works through the
/// vtable of any IMAPITable whose rows are MAPIAllocateBuffer'd; a failing table call's HRESULT
/// is returned as is.
///
/// # Safety
/// `lpTable` must be NULL or a live IMAPITable; the other pointers NULL or valid for what the
/// table's methods read; `lppRows` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn HrQueryAllRows(
    lpTable: LPMAPITABLE,
    lpPropTags: LPSPropTagArray,
    lpRestriction: LPSRestriction,
    lpSortOrderSet: LPSSortOrderSet,
    crowsMax: LONG,
    lppRows: *mut LPSRowSet,
) -> HRESULT {
    // SAFETY: `lpTable` is NULL or a live IMAPITable, `lppRows` NULL or writable, and the other
    // pointers are only handed to the table's own methods (the caller's side of the contract,
    // DESIGN.md §2); NULL is checked before any use.
    unsafe {
        guard::free_fn("HrQueryAllRows", || {
            let out = guard::cleared_out(lppRows, "HrQueryAllRows: lppRows")?;
            if lpTable.is_null() {
                return Err(MapiError::invalid("HrQueryAllRows: lpTable is NULL"));
            }
            if crowsMax < 0 {
                return Err(MapiError::invalid(format!(
                    "HrQueryAllRows: crowsMax {crowsMax} is negative"
                )));
            }
            let vt = &*(*lpTable).lpVtbl;
            let step = |hr: HRESULT, what: &str| -> MapiResult<()> {
                if hr < 0 {
                    Err(MapiError::new(hr, format!("HrQueryAllRows: {what} failed")))
                } else {
                    Ok(())
                }
            };
            if !lpPropTags.is_null() {
                step((vt.SetColumns)(lpTable, lpPropTags, 0), "SetColumns")?;
            }
            if !lpRestriction.is_null() {
                step((vt.Restrict)(lpTable, lpRestriction, 0), "Restrict")?;
            }
            if !lpSortOrderSet.is_null() {
                step((vt.SortTable)(lpTable, lpSortOrderSet, 0), "SortTable")?;
            }
            step(
                (vt.SeekRow)(lpTable, BOOKMARK_BEGINNING, 0, ptr::null_mut()),
                "SeekRow",
            )?;
            let mut rows: Vec<SRow> = Vec::new();
            let result = gather_rows(lpTable, vt, crowsMax, &mut rows);
            let result = result.and_then(|()| {
                let set =
                    super::alloc::Allocator::MAPI.block(cb_row_set(rows.len()))? as *mut SRowSet;
                // SAFETY: the block holds `rows.len()` rows after the count.
                (*set).cRows = rows.len() as ULONG;
                ptr::copy_nonoverlapping(rows.as_ptr(), (*set).aRow.as_mut_ptr(), rows.len());
                Ok(set)
            });
            match result {
                Ok(set) => {
                    *out = set;
                    Ok(S_OK)
                }
                Err(e) => {
                    for r in &rows {
                        MAPIFreeBuffer(r.lpProps as LPVOID);
                    }
                    Err(e)
                }
            }
        })
    }
}

/// QueryRows until the table's end, moving each row into `rows` (their values now owned there).
///
/// # Safety
/// `table` must be a live IMAPITable with vtable `vt` whose results are MAPIAllocateBuffer'd.
unsafe fn gather_rows(
    table: LPMAPITABLE,
    vt: &super::interfaces::IMAPITableVtbl,
    max: LONG,
    rows: &mut Vec<SRow>,
) -> MapiResult<()> {
    loop {
        let mut set: LPSRowSet = ptr::null_mut();
        // SAFETY: `table` is live (the contract); `set` is a valid out-pointer.
        let hr = unsafe { (vt.QueryRows)(table, LONG::MAX, 0, &mut set) };
        if hr < 0 {
            return Err(MapiError::new(hr, "HrQueryAllRows: QueryRows failed"));
        }
        if set.is_null() {
            return Err(MapiError::new(
                MAPI_E_CALL_FAILED,
                "HrQueryAllRows: QueryRows returned no row set",
            ));
        }
        // SAFETY: QueryRows returned a readable SRowSet of `cRows` rows.
        let got = unsafe { slice_in_rows(set) };
        let n = got.len();
        let pushed = rows
            .try_reserve(n)
            .map_err(|_| crate::core::value::out_of_memory(std::mem::size_of_val(got)));
        if pushed.is_ok() {
            rows.extend(got.iter().map(|r| SRow {
                ulAdrEntryPad: 0,
                cValues: r.cValues,
                lpProps: r.lpProps,
            }));
        }
        // SAFETY: the set is a root block; its rows' values now belong to `rows` (or are freed
        // just below when they could not be kept).
        unsafe {
            if pushed.is_err() {
                for r in got {
                    MAPIFreeBuffer(r.lpProps as LPVOID);
                }
            }
            MAPIFreeBuffer(set as LPVOID);
        }
        pushed?;
        if max > 0 && rows.len() > max as usize {
            return Err(MapiError::new(
                MAPI_E_TABLE_TOO_BIG,
                format!("HrQueryAllRows: the table has more than crowsMax ({max}) rows"),
            ));
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// The rows of a row set (none when the count is beyond MAX_COUNT).
///
/// # Safety
/// `set` must be a readable SRowSet.
unsafe fn slice_in_rows<'a>(set: LPSRowSet) -> &'a [SRow] {
    // SAFETY: a readable SRowSet holds `cRows` rows after its count (the contract).
    unsafe {
        let n = (*set).cRows;
        if n == 0 || n > MAX_COUNT {
            return &[];
        }
        std::slice::from_raw_parts(ptr::addr_of!((*set).aRow) as *const SRow, n as usize)
    }
}

/// OpenStreamOnFile (reference §12, §12.1): an IStream over a file. `ulFlags`: STGM_READ /
/// STGM_WRITE / STGM_READWRITE, STGM_CREATE (create or truncate), STGM_DELETEONRELEASE, the
/// STGM_SHARE_* bits (accepted, not enforced), and SOF_UNIQUEFILENAME: then `lpszFileName` names
/// a directory (NULL: the temporary directory) in which a new file `<prefix>HHHH.TMP` is made,
/// `lpszPrefix` at most 3 characters (NULL: "SOF"). The stream is in direct mode (Commit and
/// Revert change nothing). The allocators are not used (this stream allocates nothing for the
/// caller; Stat gives no name) and may be NULL. Release the stream with its Release slot.
///
/// # Safety
/// `lpszFileName` and `lpszPrefix` must be NULL or NUL-terminated strings; `lppStream` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn OpenStreamOnFile(
    _lpAllocateBuffer: Option<unsafe extern "C" fn(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE>,
    _lpFreeBuffer: Option<unsafe extern "C" fn(lpBuffer: LPVOID) -> ULONG>,
    ulFlags: ULONG,
    lpszFileName: *const c_char,
    lpszPrefix: *const c_char,
    lppStream: *mut LPSTREAM,
) -> HRESULT {
    // SAFETY: `lpszFileName`, `lpszPrefix` are NULL or NUL-terminated strings and `lppStream`
    // NULL or writable (the caller's side of the contract, DESIGN.md §2); NULL is checked
    // before any use.
    unsafe {
        guard::free_fn("OpenStreamOnFile", || {
            use std::os::unix::ffi::OsStrExt;
            let out = guard::cleared_out(lppStream, "OpenStreamOnFile: lppStream")?;
            let name = (!lpszFileName.is_null())
                .then(|| std::path::Path::new(std::ffi::OsStr::from_bytes(cstr(lpszFileName))));
            let prefix =
                if lpszPrefix.is_null() {
                    None
                } else {
                    Some(std::str::from_utf8(cstr(lpszPrefix)).map_err(|_| {
                        MapiError::invalid("OpenStreamOnFile: lpszPrefix is not UTF-8")
                    })?)
                };
            let stream = FileStream::open(ulFlags, name, prefix)?;
            *out = new_stream(Box::new(stream));
            Ok(S_OK)
        })
    }
}
