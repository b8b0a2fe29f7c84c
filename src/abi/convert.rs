//! Conversions across the boundary: C arrays in (validated before anything is applied), results
//! out (each one MAPIAllocateBuffer-style block, sized up front: DESIGN.md §7).
//!
//! Every copy of caller data is sized by the caller, so every one is fallible (`try_to_vec` and
//! friends from `core::value`): a value the process cannot copy is MAPI_E_NOT_ENOUGH_MEMORY, not
//! an abort of the client's process (Rust's allocation failure is not a panic the guard catches).

use super::alloc::{align8, wide_room, Allocator, BlockWriter};
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::named::{NameKind, PropName};
use crate::core::props::{Problem, PropInput, PropOut};
use crate::core::value::{
    change_prop_type, is_stored_type, out_of_memory, prop_id, prop_type, try_map, try_map_result,
    try_push, try_to_vec, try_vec_with_capacity, PropValue,
};
use std::alloc::Layout;
use std::ffi::{c_char, CStr};
use std::fmt::Display;
use std::mem::size_of;
use std::ptr;

/// The most entries any counted array may claim (tags, values, MV values, entry lists): far
/// above real use, low enough that sizes cannot overflow.
pub(crate) const MAX_COUNT: u32 = 1 << 20;

fn check_count(count: u32, what: impl Display) -> MapiResult<usize> {
    if count > MAX_COUNT {
        return Err(MapiError::invalid(format!(
            "{what}: count {count} exceeds the limit of {MAX_COUNT}"
        )));
    }
    Ok(count as usize)
}

/// A `(pointer, count)` pair as a slice: `(NULL, 0)` is empty, `(NULL, n>0)` is an error.
///
/// # Safety
/// A non-NULL `p` must point to `count` readable `T`s.
pub unsafe fn slice_in<'a, T>(
    p: *const T,
    count: u32,
    what: impl Display + Copy,
) -> MapiResult<&'a [T]> {
    let n = check_count(count, what)?;
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(MapiError::invalid(format!(
            "{what}: NULL pointer with a count of {count}"
        )));
    }
    // SAFETY: `p` is non-NULL (checked) and points to `count` readable `T`s (the caller's
    // contract); `n` <= MAX_COUNT, so the byte size cannot overflow for the types used here.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A required, non-empty tag array (GetProps, DeleteProps, CopyProps…).
///
/// # Safety
/// `p` must be NULL or point to a readable SPropTagArray.
pub unsafe fn tag_array_in<'a>(p: *const SPropTagArray, what: &str) -> MapiResult<&'a [u32]> {
    // SAFETY: `p` is NULL or a readable SPropTagArray (the caller's contract).
    let arr = unsafe { p.as_ref() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))?;
    if arr.cValues == 0 {
        return Err(MapiError::invalid(format!("{what} has cValues == 0")));
    }
    // SAFETY: a readable SPropTagArray holds `cValues` tags after its count.
    unsafe { slice_in(arr.aulPropTag.as_ptr(), arr.cValues, what) }
}

/// An optional tag array (an exclusion list): NULL or empty means none.
///
/// # Safety
/// As for [`tag_array_in`].
pub unsafe fn optional_tag_array_in<'a>(
    p: *const SPropTagArray,
    what: &str,
) -> MapiResult<&'a [u32]> {
    // SAFETY: `p` is NULL or a readable SPropTagArray (the caller's contract), which holds
    // `cValues` tags after its count.
    match unsafe { p.as_ref() } {
        None => Ok(&[]),
        // SAFETY: as above.
        Some(arr) => unsafe { slice_in(arr.aulPropTag.as_ptr(), arr.cValues, what) },
    }
}

/// An empty vector with room for exactly `n` items, or MAPI_E_NOT_ENOUGH_MEMORY: what
/// `try_vec_with_capacity` gives, by one call to the allocator. SetProps copies every string
/// and binary it is given, and `try_reserve_exact`'s growth path cost as much as the
/// allocation itself.
fn exact_vec<T>(n: usize) -> MapiResult<Vec<T>> {
    let too_big = || out_of_memory(n.saturating_mul(size_of::<T>()));
    let layout = Layout::array::<T>(n).map_err(|_| too_big())?;
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout's size is not zero (checked).
    let p = unsafe { std::alloc::alloc(layout) } as *mut T;
    if p.is_null() {
        return Err(too_big());
    }
    // SAFETY: `p` came from the global allocator with the layout of `n` `T`s, which is what a
    // `Vec<T>` of capacity `n` holds; its length 0 asks nothing of the memory.
    Ok(unsafe { Vec::from_raw_parts(p, 0, n) })
}

/// `bytes.to_vec()`, fallibly ([`exact_vec`]).
fn copy_bytes(bytes: &[u8]) -> MapiResult<Vec<u8>> {
    let mut v = exact_vec(bytes.len())?;
    v.extend_from_slice(bytes);
    Ok(v)
}

/// A NUL-terminated narrow string, byte for byte.
///
/// # Safety
/// `p` must be NULL or a readable NUL-terminated string.
pub unsafe fn string8_in(p: *const c_char, what: impl Display) -> MapiResult<Vec<u8>> {
    if p.is_null() {
        return Err(MapiError::invalid(format!("{what}: NULL string pointer")));
    }
    // SAFETY: `p` is non-NULL (checked) and a readable NUL-terminated string (the contract).
    copy_bytes(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// The units of a NUL-terminated UTF-16 string before its terminator.
///
/// # Safety
/// `p` must point to a readable NUL-terminated UTF-16 string.
unsafe fn wide_len(p: *const u16) -> usize {
    let mut n = 0usize;
    // SAFETY: every unit up to and including the terminator is readable (the contract), and
    // each read is of a unit after one that was not the terminator. Four to a round: the
    // loop's bookkeeping is paid once per four units.
    unsafe {
        loop {
            if *p.add(n) == 0 {
                return n;
            }
            if *p.add(n + 1) == 0 {
                return n + 1;
            }
            if *p.add(n + 2) == 0 {
                return n + 2;
            }
            if *p.add(n + 3) == 0 {
                return n + 3;
            }
            n += 4;
        }
    }
}

/// A NUL-terminated UTF-16 string; unpaired surrogates are MAPI_E_BAD_CHARWIDTH.
///
/// # Safety
/// `p` must be NULL or a readable NUL-terminated UTF-16 string.
pub unsafe fn unicode_in(p: *const u16, what: impl Display) -> MapiResult<String> {
    if p.is_null() {
        return Err(MapiError::invalid(format!("{what}: NULL string pointer")));
    }
    // SAFETY: `p` is non-NULL (checked) and NUL-terminated (the contract).
    let n = unsafe { wide_len(p) };
    // SAFETY: the `n` units before the terminator were just read.
    let units = unsafe { std::slice::from_raw_parts(p, n) };
    // Most text is ASCII: narrow it in one pass that also ORs the units together (no early exit,
    // so the compiler vectorises it), and keep the copy if no unit had a bit above 0x7F.
    let mut bytes: Vec<u8> = exact_vec(n)?;
    let mut seen = 0u16;
    for (b, &u) in bytes.spare_capacity_mut()[..n].iter_mut().zip(units) {
        b.write(u as u8);
        seen |= u;
    }
    if seen < 0x80 {
        // SAFETY: the loop wrote all `n` bytes; each is a unit below 0x80, so they are ASCII
        // and thus UTF-8.
        return Ok(unsafe {
            bytes.set_len(n);
            String::from_utf8_unchecked(bytes)
        });
    }
    drop(bytes);
    // Validate and measure first, so that the one allocation is exact and fallible.
    let mut len = 0usize;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => len += c.len_utf8(),
            Err(_) => {
                return Err(MapiError::new(
                    MAPI_E_BAD_CHARWIDTH,
                    format!("{what}: the string is not valid UTF-16"),
                ))
            }
        }
    }
    let mut s = String::new();
    s.try_reserve_exact(len).map_err(|_| out_of_memory(len))?;
    s.extend(char::decode_utf16(units.iter().copied()).map(|c| c.unwrap_or('\u{FFFD}')));
    Ok(s)
}

/// A narrow or wide string parameter (`LPTSTR` with MAPI_UNICODE deciding), as Rust text.
///
/// # Safety
/// As for [`string8_in`] / [`unicode_in`].
pub unsafe fn tstring_in(p: *const c_char, unicode: bool, what: &str) -> MapiResult<String> {
    if unicode {
        // SAFETY: with MAPI_UNICODE the caller's LPTSTR is a NUL-terminated UTF-16 string.
        unsafe { unicode_in(p as *const u16, what) }
    } else {
        // SAFETY: without it, a NUL-terminated narrow string (this function's contract).
        String::from_utf8(unsafe { string8_in(p, what) }?).map_err(|_| {
            MapiError::new(
                MAPI_E_BAD_CHARWIDTH,
                format!("{what}: the string is not UTF-8"),
            )
        })
    }
}

/// # Safety
/// `b.lpb` must be NULL or point to `b.cb` readable bytes.
unsafe fn binary_in(b: &SBinary, what: impl Display) -> MapiResult<Vec<u8>> {
    // `cb` counts bytes, not entries: MAX_COUNT does not apply (values are kept whole, whatever
    // their size), and a u32 length cannot overflow a slice on the targets we support.
    if b.cb == 0 {
        return Ok(Vec::new());
    }
    if b.lpb.is_null() {
        return Err(MapiError::invalid(format!(
            "{what}: NULL binary pointer with cb = {}",
            b.cb
        )));
    }
    // SAFETY: `lpb` is non-NULL (checked) and points to `cb` readable bytes (the contract).
    copy_bytes(unsafe { std::slice::from_raw_parts(b.lpb, b.cb as usize) })
}

/// # Safety
/// `p` must be NULL or point to a readable GUID.
unsafe fn guid_in(p: *const GUID, what: impl Display) -> MapiResult<[u8; 16]> {
    if p.is_null() {
        return Err(MapiError::invalid(format!("{what}: NULL GUID pointer")));
    }
    // SAFETY: `p` is non-NULL (checked) and readable (the contract); a GUID is 16 bytes of plain
    // data, and [u8; 16] needs no alignment.
    Ok(unsafe { *(p as *const [u8; 16]) })
}

/// # Safety
/// As for [`slice_in`].
unsafe fn mv_in<'a, T>(count: u32, p: *const T, what: impl Display + Copy) -> MapiResult<&'a [T]> {
    if count == 0 {
        return Err(MapiError::invalid(format!(
            "{what}: a multi-valued property with cValues == 0"
        )));
    }
    // SAFETY: this function's contract is slice_in's.
    unsafe { slice_in(p, count, what) }
}

/// Reads one value of a stored type. Whole-call errors (NULL pointers with counts, MV with no
/// values) and per-property ones (invalid UTF-16) both come back as errors; the caller sorts
/// them by code.
///
/// # Safety
/// The union member the tag's type selects must be valid, with readable pointers.
pub unsafe fn value_in(p: &SPropValue, what: impl Display + Copy) -> MapiResult<PropValue> {
    use PropValue::*;
    let v = &p.Value;
    // SAFETY: the tag's type selects the union member read in each arm (this function's
    // contract), and that member's pointers are NULL or readable for its count: what
    // string8_in, unicode_in, guid_in, binary_in and mv_in ask of theirs. A GUID element is 16
    // bytes of plain data, readable as [u8; 16].
    Ok(unsafe {
        match prop_type(p.ulPropTag) {
            PT_I2 => I2(v.i),
            PT_LONG => Long(v.l),
            PT_R4 => R4(v.flt),
            PT_DOUBLE => Double(v.dbl),
            PT_CURRENCY => Currency(v.cur.int64),
            PT_APPTIME => AppTime(v.at),
            PT_BOOLEAN => Boolean(v.b != 0),
            PT_I8 => I8(v.li.QuadPart),
            PT_STRING8 => String8(string8_in(v.lpszA, what)?),
            PT_UNICODE => Unicode(unicode_in(v.lpszW, what)?),
            PT_SYSTIME => SysTime(filetime_to_u64(v.ft)),
            PT_CLSID => Clsid(guid_in(v.lpguid, what)?),
            PT_BINARY => Binary(binary_in(&v.bin, what)?),
            PT_MV_I2 => MvI2(try_to_vec(mv_in(v.MVi.cValues, v.MVi.lpi, what)?)?),
            PT_MV_LONG => MvLong(try_to_vec(mv_in(v.MVl.cValues, v.MVl.lpl, what)?)?),
            PT_MV_R4 => MvR4(try_to_vec(mv_in(v.MVflt.cValues, v.MVflt.lpflt, what)?)?),
            PT_MV_DOUBLE => MvDouble(try_to_vec(mv_in(v.MVdbl.cValues, v.MVdbl.lpdbl, what)?)?),
            PT_MV_CURRENCY => MvCurrency(try_map(
                mv_in(v.MVcur.cValues, v.MVcur.lpcur, what)?,
                |c| c.int64,
            )?),
            PT_MV_APPTIME => MvAppTime(try_to_vec(mv_in(v.MVat.cValues, v.MVat.lpat, what)?)?),
            PT_MV_I8 => MvI8(try_map(mv_in(v.MVli.cValues, v.MVli.lpli, what)?, |l| {
                l.QuadPart
            })?),
            PT_MV_SYSTIME => MvSysTime(try_map(mv_in(v.MVft.cValues, v.MVft.lpft, what)?, |f| {
                filetime_to_u64(*f)
            })?),
            PT_MV_CLSID => MvClsid(try_map(
                mv_in(v.MVguid.cValues, v.MVguid.lpguid, what)?,
                |g| *(g as *const GUID as *const [u8; 16]),
            )?),
            PT_MV_STRING8 => MvString8(try_map_result(
                mv_in(v.MVszA.cValues, v.MVszA.lppszA, what)?,
                |s| string8_in(*s, what),
            )?),
            PT_MV_UNICODE => MvUnicode(try_map_result(
                mv_in(v.MVszW.cValues, v.MVszW.lppszW, what)?,
                |s| unicode_in(*s, what),
            )?),
            PT_MV_BINARY => MvBinary(try_map_result(
                mv_in(v.MVbin.cValues, v.MVbin.lpbin, what)?,
                |b| binary_in(b, what),
            )?),
            other => {
                return Err(MapiError::new(
                    MAPI_E_INVALID_TYPE,
                    format!("{what}: property type 0x{other:04X} is not stored by this provider"),
                ))
            }
        }
    })
}

pub fn filetime_to_u64(ft: FILETIME) -> u64 {
    ((ft.dwHighDateTime as u64) << 32) | ft.dwLowDateTime as u64
}

pub fn u64_to_filetime(t: u64) -> FILETIME {
    FILETIME {
        dwLowDateTime: t as u32,
        dwHighDateTime: (t >> 32) as u32,
    }
}

/// "`method`: `what`", formatted only if an error needs it.
#[derive(Clone, Copy)]
struct Labelled<'a>(&'a str, &'a str);

impl std::fmt::Display for Labelled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

/// "`method`: entry `index` (tag 0x…)", formatted only if an error needs it.
#[derive(Clone, Copy)]
struct EntryLabel<'a> {
    method: &'a str,
    index: usize,
    tag: u32,
}

impl std::fmt::Display for EntryLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: entry {} (tag 0x{:08X})",
            self.method, self.index, self.tag
        )
    }
}

/// Reads a SetProps array: PR_NULL and PT_ERROR entries are skipped, PT_OBJECT, PT_NULL with an
/// ID other than 0, or a malformed value fails the whole call (nothing applied), and unsupported types, bad property IDs and
/// unconvertible strings become per-property problems.
///
/// # Safety
/// `arr` must point to `count` readable SPropValues (checked for NULL here).
pub unsafe fn prop_values_in(
    count: u32,
    arr: *const SPropValue,
    method: &str,
) -> MapiResult<(Vec<PropInput>, Vec<Problem>)> {
    let mut inputs = Vec::new();
    // SAFETY: this function's contract is prop_values_into's.
    let problems = unsafe { prop_values_into(count, arr, method, &mut inputs) }?;
    Ok((inputs, problems))
}

/// [`prop_values_in`] into `inputs` (empty; its memory reused when it has room): returns the
/// problems. On an error `inputs` may hold some of the entries.
///
/// # Safety
/// As for [`prop_values_in`].
pub unsafe fn prop_values_into(
    count: u32,
    arr: *const SPropValue,
    method: &str,
    inputs: &mut Vec<PropInput>,
) -> MapiResult<Vec<Problem>> {
    if count == 0 {
        return Err(MapiError::invalid(format!("{method}: cValues is 0")));
    }
    // SAFETY: `arr` is NULL or points to `count` readable SPropValues (the caller's contract).
    let values = unsafe { slice_in(arr, count, Labelled(method, "lpPropArray")) }?;
    inputs.clear();
    if inputs.capacity() < values.len() {
        *inputs = exact_vec(values.len())?;
    }
    let mut problems = Vec::new();
    for (i, p) in values.iter().enumerate() {
        let tag = p.ulPropTag;
        let ptype = prop_type(tag);
        let problem = |scode| Problem {
            index: i as u32,
            tag,
            scode,
        };
        let id = prop_id(tag);
        // A stored type with a real ID is what nearly every entry is, and none of the checks
        // below can hold for it (PR_NULL, PT_ERROR, PT_OBJECT and PT_NULL are not stored types).
        if !(is_stored_type(ptype) && id != 0 && id != 0xFFFF) {
            if tag == PR_NULL || ptype == PT_ERROR {
                continue;
            }
            if ptype == PT_OBJECT {
                return Err(MapiError::invalid(format!(
                    "{method}: entry {i} (tag 0x{tag:08X}) is PT_OBJECT; open it with \
                     OpenProperty"
                )));
            }
            if ptype == PT_NULL {
                // PR_NULL itself was skipped above; PT_NULL with a real ID fails the whole
                // call, as Windows does (docs/MAPIUTIL.md).
                return Err(MapiError::invalid(format!(
                    "{method}: entry {i} (tag 0x{tag:08X}) is PT_NULL with a property ID other \
                     than 0 (only PR_NULL may be PT_NULL)"
                )));
            }
            let scode = if id == 0 || id == 0xFFFF {
                MAPI_E_INVALID_PARAMETER
            } else {
                MAPI_E_INVALID_TYPE
            };
            try_push(&mut problems, problem(scode))?;
            continue;
        }
        let what = EntryLabel {
            method,
            index: i,
            tag,
        };
        // SAFETY: each SPropValue of the caller's array has the union member its (stored) type
        // selects, with readable pointers: the contract of SetProps-shaped input.
        match unsafe { value_in(p, what) } {
            Ok(value) => inputs.push(PropInput {
                index: i as u32,
                tag,
                value,
            }),
            Err(e) if e.code == MAPI_E_BAD_CHARWIDTH => try_push(&mut problems, problem(e.code))?,
            Err(e) => return Err(e),
        }
    }
    Ok(problems)
}

/// Bytes a value needs after its SPropValue (strings NUL-terminated; each piece 8-aligned).
/// The single-valued types inline where entries are sized; multi-valued ones out of line.
#[inline(always)]
fn extra_size(v: &PropValue) -> usize {
    use PropValue::*;
    match v {
        String8(b) => align8(b.len() + 1),
        Unicode(s) => wide_room(s),
        Binary(b) => align8(b.len()),
        Clsid(_) => 16,
        I2(_) | Long(_) | R4(_) | Double(_) | Currency(_) | AppTime(_) | Boolean(_) | I8(_)
        | SysTime(_) | Large(_) => 0,
        _ => mv_extra_size(v),
    }
}

/// [`extra_size`] of a multi-valued property.
#[inline(never)]
fn mv_extra_size(v: &PropValue) -> usize {
    use PropValue::*;
    let wide = |s: &String| wide_room(s);
    match v {
        MvI2(v) => align8(2 * v.len()),
        MvLong(v) => align8(4 * v.len()),
        MvR4(v) => align8(4 * v.len()),
        MvDouble(v) | MvAppTime(v) => 8 * v.len(),
        MvCurrency(v) | MvI8(v) => 8 * v.len(),
        MvSysTime(v) => 8 * v.len(),
        MvClsid(v) => 16 * v.len(),
        MvString8(v) => 8 * v.len() + v.iter().map(|b| align8(b.len() + 1)).sum::<usize>(),
        MvUnicode(v) => 8 * v.len() + v.iter().map(wide).sum::<usize>(),
        MvBinary(v) => 16 * v.len() + v.iter().map(|b| align8(b.len())).sum::<usize>(),
        _ => 0,
    }
}

fn binary_out(w: &mut BlockWriter, b: &[u8]) -> SBinary {
    SBinary {
        cb: b.len() as u32,
        lpb: if b.is_empty() {
            ptr::null_mut()
        } else {
            w.bytes(b, 0)
        },
    }
}

/// Writes a value's union, placing its out-of-line data with `w`. The single-valued types
/// inline where entries are written; multi-valued ones out of line.
#[inline(always)]
fn value_out(w: &mut BlockWriter, v: &PropValue) -> PV {
    use PropValue::*;
    match v {
        I2(x) => PV { i: *x },
        Long(x) => PV { l: *x },
        R4(x) => PV { flt: *x },
        Double(x) => PV { dbl: *x },
        Currency(x) => PV {
            cur: CY { int64: *x },
        },
        AppTime(x) => PV { at: *x },
        Boolean(x) => PV { b: *x as u16 },
        I8(x) => PV {
            li: LARGE_INTEGER { QuadPart: *x },
        },
        SysTime(x) => PV {
            ft: u64_to_filetime(*x),
        },
        String8(b) => PV {
            lpszA: w.bytes(b, 1) as *mut c_char,
        },
        Unicode(s) => PV { lpszW: w.wide(s) },
        Binary(b) => PV {
            bin: binary_out(w, b),
        },
        Clsid(g) => PV {
            lpguid: w.bytes(g, 0) as *mut GUID,
        },
        // Never reaches here (write_prop_block answers it as PT_ERROR): a value left in the
        // store has no bytes to hand out.
        Large(_) => PV {
            err: MAPI_E_NOT_ENOUGH_MEMORY,
        },
        _ => mv_value_out(w, v),
    }
}

/// [`value_out`] of a multi-valued property.
#[inline(never)]
fn mv_value_out(w: &mut BlockWriter, v: &PropValue) -> PV {
    use PropValue::*;
    let n = |len: usize| len as u32;
    match v {
        MvI2(v) => PV {
            MVi: SShortArray {
                cValues: n(v.len()),
                lpi: w.slice(v),
            },
        },
        MvLong(v) => PV {
            MVl: SLongArray {
                cValues: n(v.len()),
                lpl: w.slice(v),
            },
        },
        MvR4(v) => PV {
            MVflt: SRealArray {
                cValues: n(v.len()),
                lpflt: w.slice(v),
            },
        },
        MvDouble(v) => PV {
            MVdbl: SDoubleArray {
                cValues: n(v.len()),
                lpdbl: w.slice(v),
            },
        },
        MvAppTime(v) => PV {
            MVat: SAppTimeArray {
                cValues: n(v.len()),
                lpat: w.slice(v),
            },
        },
        // Converted straight into the block: no intermediate copy to allocate.
        MvCurrency(v) => PV {
            MVcur: SCurrencyArray {
                cValues: n(v.len()),
                lpcur: w.map(v, |x| CY { int64: *x }),
            },
        },
        MvI8(v) => PV {
            MVli: SLargeIntegerArray {
                cValues: n(v.len()),
                lpli: w.map(v, |x| LARGE_INTEGER { QuadPart: *x }),
            },
        },
        MvSysTime(v) => PV {
            MVft: SDateTimeArray {
                cValues: n(v.len()),
                lpft: w.map(v, |x| u64_to_filetime(*x)),
            },
        },
        MvClsid(v) => PV {
            MVguid: SGuidArray {
                cValues: n(v.len()),
                lpguid: w.slice(v) as *mut GUID,
            },
        },
        MvString8(v) => {
            let ptrs = w.reserve(8 * v.len()) as *mut LPSTR;
            for (i, b) in v.iter().enumerate() {
                // SAFETY: `ptrs` has room for v.len() pointers.
                unsafe { *ptrs.add(i) = w.bytes(b, 1) as LPSTR };
            }
            PV {
                MVszA: SLPSTRArray {
                    cValues: n(v.len()),
                    lppszA: ptrs,
                },
            }
        }
        MvUnicode(v) => {
            let ptrs = w.reserve(8 * v.len()) as *mut LPWSTR;
            for (i, s) in v.iter().enumerate() {
                // SAFETY: as above.
                unsafe { *ptrs.add(i) = w.wide(s) };
            }
            PV {
                MVszW: SWStringArray {
                    cValues: n(v.len()),
                    lppszW: ptrs,
                },
            }
        }
        MvBinary(v) => {
            let bins = w.reserve(16 * v.len()) as *mut SBinary;
            for (i, b) in v.iter().enumerate() {
                let bin = binary_out(w, b);
                // SAFETY: room for v.len() SBinary entries.
                unsafe { *bins.add(i) = bin };
            }
            PV {
                MVbin: SBinaryArray {
                    cValues: n(v.len()),
                    lpbin: bins,
                },
            }
        }
        // The single-valued types are value_out's own.
        _ => value_out(w, v),
    }
}

/// Writes GetProps results as one block: the SPropValue array, then every string and binary.
pub fn prop_array_out(alloc: Allocator, outs: &[PropOut]) -> MapiResult<*mut SPropValue> {
    // SAFETY: no parent block.
    unsafe { prop_array_out_in(alloc, outs, None) }
}

/// As [`prop_array_out`], the block chained to `parent` (MAPIAllocateMore) when given: freed
/// with it, never on its own.
///
/// # Safety
/// `parent`, when given, must be a live root block of `alloc`.
pub unsafe fn prop_array_out_in(
    alloc: Allocator,
    outs: &[PropOut],
    parent: Option<*mut std::ffi::c_void>,
) -> MapiResult<*mut SPropValue> {
    let extra: usize = outs.iter().map(out_extra_size).sum();
    // SAFETY: `extra` is what `outs` need; `parent` is this function's contract.
    unsafe { write_prop_block(alloc, outs, extra, parent) }
}

/// Bytes an entry needs after its SPropValue.
#[inline(always)]
fn out_extra_size(o: &PropOut) -> usize {
    match o {
        PropOut::Lent(_, v) => extra_size(v),
        PropOut::Value(_, v) => extra_size(v),
        PropOut::Wide(_, s) => wide_room(s),
        PropOut::Narrow(_, b) => align8(b.len() + 1),
        PropOut::Object(_) | PropOut::Error(..) => 0,
    }
}

/// Writes `outs` as one block whose out-of-line part is `extra` bytes.
///
/// # Safety
/// `extra` must be the sum of [`out_extra_size`] over `outs`; `parent`, when given, a live
/// root block of `alloc`.
unsafe fn write_prop_block(
    alloc: Allocator,
    outs: &[PropOut],
    extra: usize,
    parent: Option<*mut std::ffi::c_void>,
) -> MapiResult<*mut SPropValue> {
    let fixed = outs.len() * size_of::<SPropValue>();
    let total = fixed + extra;
    let base = match parent {
        None => alloc.block(total.max(1))?,
        // SAFETY: `parent` is a live root block of `alloc` (this function's contract).
        Some(parent) => unsafe { alloc.more_block(total.max(1), parent) }?,
    };
    // SAFETY: `block` returned a fresh, zeroed, 8-aligned block of that many bytes, ours alone.
    let mut w = unsafe { BlockWriter::new(base, total.max(1), fixed) };
    let arr = base as *mut SPropValue;
    for (i, o) in outs.iter().enumerate() {
        let (tag, value) = match o {
            // A value left in the store (core/value.rs `Large`) is read through a stream.
            PropOut::Value(tag, v) if v.is_large() => (
                change_prop_type(*tag, PT_ERROR),
                PV {
                    err: MAPI_E_NOT_ENOUGH_MEMORY,
                },
            ),
            PropOut::Value(tag, v) => (*tag, value_out(&mut w, v)),
            PropOut::Lent(tag, PropValue::Large(_)) => (
                change_prop_type(*tag, PT_ERROR),
                PV {
                    err: MAPI_E_NOT_ENOUGH_MEMORY,
                },
            ),
            PropOut::Lent(tag, v) => (*tag, value_out(&mut w, v)),
            PropOut::Object(tag) => (*tag, PV { x: 0 }),
            PropOut::Error(tag, sc) => (*tag, PV { err: *sc }),
            PropOut::Wide(tag, s) => (*tag, PV { lpszW: w.wide(s) }),
            PropOut::Narrow(tag, b) => (
                *tag,
                PV {
                    lpszA: w.bytes(b, 1) as *mut c_char,
                },
            ),
        };
        // SAFETY: `arr` has room for outs.len() entries.
        unsafe {
            arr.add(i).write(SPropValue {
                ulPropTag: tag,
                dwAlignPad: 0,
                Value: value,
            })
        };
    }
    Ok(arr)
}

/// How many entries [`resolved_props_out`] keeps on the stack before it allocates a list.
const INLINE_ENTRIES: usize = 16;

/// GetProps's result for `tags`: each tag resolved once by `resolve`, sized as it is resolved,
/// then written into one block. Up to [`INLINE_ENTRIES`] entries wait on the stack, so a
/// short request allocates nothing but its result. NULL for no tags; the flag says whether
/// any entry is a PT_ERROR one (MAPI_W_ERRORS_RETURNED).
pub fn resolved_props_out<'a>(
    alloc: Allocator,
    tags: &[u32],
    resolve: impl FnMut(u32) -> PropOut<'a>,
) -> MapiResult<(*mut SPropValue, bool)> {
    // A filler that owns nothing: overwritten before it is read.
    const UNSET: PropOut<'static> = PropOut::Object(0);
    if tags.is_empty() {
        return Ok((ptr::null_mut(), false));
    }
    if tags.len() <= INLINE_ENTRIES {
        let mut slots = [UNSET; INLINE_ENTRIES];
        fill_and_write(alloc, tags, &mut slots[..tags.len()], resolve)
    } else {
        let mut slots = try_vec_with_capacity(tags.len())?;
        slots.resize_with(tags.len(), || UNSET);
        fill_and_write(alloc, tags, &mut slots, resolve)
    }
}

fn fill_and_write<'a>(
    alloc: Allocator,
    tags: &[u32],
    slots: &mut [PropOut<'a>],
    mut resolve: impl FnMut(u32) -> PropOut<'a>,
) -> MapiResult<(*mut SPropValue, bool)> {
    let mut extra = 0;
    let mut errors = false;
    for (slot, &tag) in slots.iter_mut().zip(tags) {
        let out = resolve(tag);
        extra += out_extra_size(&out);
        errors |= out.is_error();
        *slot = out;
    }
    // SAFETY: `extra` was summed over `slots` above; no parent.
    let block = unsafe { write_prop_block(alloc, slots, extra, None) }?;
    Ok((block, errors))
}

/// Writes an owned list of values as one block (for SetProps calls into foreign objects).
pub fn values_out(alloc: Allocator, values: &[(u32, PropValue)]) -> MapiResult<*mut SPropValue> {
    let outs = try_map(values, |(t, v)| PropOut::Lent(*t, v))?;
    prop_array_out(alloc, &outs)
}

/// Writes a tag array (`cValues` may be 0).
pub fn tag_array_out(alloc: Allocator, tags: &[u32]) -> MapiResult<*mut SPropTagArray> {
    let p = alloc.block(cb_prop_tag_array(tags.len()))? as *mut SPropTagArray;
    // SAFETY: the block holds the count and tags.len() entries.
    unsafe {
        (*p).cValues = tags.len() as u32;
        ptr::copy_nonoverlapping(tags.as_ptr(), (*p).aulPropTag.as_mut_ptr(), tags.len());
    }
    Ok(p)
}

/// Writes a ULONG array.
pub fn ulong_array_out(alloc: Allocator, values: &[u32]) -> MapiResult<*mut u32> {
    let p = alloc.block((4 * values.len()).max(4))? as *mut u32;
    // SAFETY: the block holds values.len() entries.
    unsafe { ptr::copy_nonoverlapping(values.as_ptr(), p, values.len()) };
    Ok(p)
}

/// Writes a problem array, sorted by index; no problems → NULL (nothing for the caller to free).
pub fn problems_out(
    alloc: Allocator,
    mut problems: Vec<Problem>,
) -> MapiResult<*mut SPropProblemArray> {
    if problems.is_empty() {
        return Ok(ptr::null_mut());
    }
    problems.sort_by_key(|p| p.index);
    let p = alloc.block(cb_prop_problem_array(problems.len()))? as *mut SPropProblemArray;
    // SAFETY: the block holds the count and problems.len() entries.
    unsafe {
        (*p).cProblem = problems.len() as u32;
        let dst = (*p).aProblem.as_mut_ptr();
        for (i, pr) in problems.iter().enumerate() {
            dst.add(i).write(SPropProblem {
                ulIndex: pr.index,
                ulPropTag: pr.tag,
                scode: pr.scode,
            });
        }
    }
    Ok(p)
}

/// Reads a problem array a foreign object returned.
///
/// # Safety
/// `p` must be NULL or a readable SPropProblemArray.
pub unsafe fn problems_in(p: *const SPropProblemArray) -> MapiResult<Vec<Problem>> {
    // SAFETY: `p` is NULL or a readable SPropProblemArray (the caller's contract), which holds
    // `cProblem` entries after its count.
    let Some(arr) = (unsafe { p.as_ref() }) else {
        return Ok(Vec::new());
    };
    try_map(
        // SAFETY: as above.
        unsafe { slice_in(arr.aProblem.as_ptr(), arr.cProblem, "problem array") }?,
        |p| Problem {
            index: p.ulIndex,
            tag: p.ulPropTag,
            scode: p.scode,
        },
    )
}

/// Writes a MAPIERROR with its strings in the same block (wide with MAPI_UNICODE).
pub fn mapierror_out(
    alloc: Allocator,
    text: &str,
    component: &str,
    low_level: u32,
    unicode: bool,
) -> MapiResult<*mut MAPIERROR> {
    let fixed = size_of::<MAPIERROR>();
    let size_of_str = |s: &str| {
        if unicode {
            wide_room(s)
        } else {
            align8(s.len() + 1)
        }
    };
    let total = fixed + size_of_str(text) + size_of_str(component);
    let base = alloc.block(total)?;
    // SAFETY: `block` returned a fresh, zeroed, 8-aligned block of `total` bytes, ours alone.
    let mut w = unsafe { BlockWriter::new(base, total, fixed) };
    let mut put = |s: &str| -> LPTSTR {
        if unicode {
            w.wide(s) as LPTSTR
        } else {
            w.bytes(s.as_bytes(), 1) as LPTSTR
        }
    };
    let err = put(text);
    let comp = put(component);
    let p = base as *mut MAPIERROR;
    // SAFETY: the block starts with room for a MAPIERROR.
    unsafe {
        p.write(MAPIERROR {
            ulVersion: MAPI_ERROR_VERSION,
            lpszError: err,
            lpszComponent: comp,
            ulLowLevelError: low_level,
            ulContext: 0,
        })
    };
    Ok(p)
}

/// GetIDsFromNames' names: every entry, its GUID and (MNID_STRING) its string must be non-NULL
/// and its kind MNID_ID or MNID_STRING (MAPI_E_INVALID_PARAMETER naming the entry otherwise).
///
/// # Safety
/// Each non-NULL pointer of `names` must point to a readable MAPINAMEID whose non-NULL GUID and
/// string pointers are readable (a NUL-terminated UTF-16 string).
pub unsafe fn prop_names_in(names: &[LPMAPINAMEID]) -> MapiResult<Vec<PropName>> {
    let mut out = try_vec_with_capacity(names.len())?;
    for (i, &p) in names.iter().enumerate() {
        let what = format!("GetIDsFromNames: lppPropNames[{i}]");
        // SAFETY: `p` is NULL or a readable MAPINAMEID (the caller's contract).
        let name =
            unsafe { p.as_ref() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))?;
        // SAFETY: `lpguid` is NULL or a readable GUID (the caller's contract).
        let guid = unsafe { guid_in(name.lpguid, &what) }?;
        let kind = match name.ulKind {
            // SAFETY: the union's lID member is plain data, read as MNID_ID says it is set.
            MNID_ID => NameKind::Id(unsafe { name.Kind.lID }),
            MNID_STRING => {
                // SAFETY: MNID_STRING says the union holds the string pointer; it is NULL or a
                // readable NUL-terminated UTF-16 string (the caller's contract).
                NameKind::String(unsafe { unicode_in(name.Kind.lpwstrName, &what) }?)
            }
            other => {
                return Err(MapiError::invalid(format!(
                    "{what}: unknown ulKind {other} (MNID_ID 0 or MNID_STRING 1)"
                )))
            }
        };
        out.push(PropName { guid, kind });
    }
    Ok(out)
}

/// GetNamesFromIDs' names: one block of `names.len()` MAPINAMEID pointers followed by each
/// name, its GUID and its string (one MAPIFreeBuffer frees it all); None is a NULL pointer. An
/// empty list is NULL.
pub fn prop_names_out(
    alloc: Allocator,
    names: &[Option<&PropName>],
) -> MapiResult<*mut LPMAPINAMEID> {
    if names.is_empty() {
        return Ok(ptr::null_mut());
    }
    let fixed = size_of::<LPMAPINAMEID>() * names.len();
    let mut len = align8(fixed);
    for name in names.iter().flatten() {
        len += align8(size_of::<MAPINAMEID>()) + align8(16);
        if let NameKind::String(s) = &name.kind {
            len += wide_room(s);
        }
    }
    let base = alloc.block(len)?;
    // SAFETY: `base` is a fresh zeroed block of `len` bytes, 8-aligned (the allocator's
    // contract), sized above for everything written below.
    let mut w = unsafe { BlockWriter::new(base, len, fixed) };
    let array = base as *mut LPMAPINAMEID;
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        let entry = w.reserve(size_of::<MAPINAMEID>()) as *mut MAPINAMEID;
        let guid = w.bytes(&name.guid, 0) as *mut GUID;
        let (ulKind, Kind) = match &name.kind {
            NameKind::Id(lid) => {
                // lID_Reserved first so that the union's upper bytes are zero, then lID.
                let mut k = MAPINAMEID_KIND { lID_Reserved: 0 };
                k.lID = *lid;
                (MNID_ID, k)
            }
            NameKind::String(s) => (
                MNID_STRING,
                MAPINAMEID_KIND {
                    lpwstrName: w.wide(s),
                },
            ),
        };
        // SAFETY: `entry` is room for one MAPINAMEID in the block; `array` has `names.len()`
        // pointer slots before `fixed`.
        unsafe {
            entry.write(MAPINAMEID {
                lpguid: guid,
                ulKind,
                Kind,
            });
            *array.add(i) = entry;
        }
    }
    Ok(array)
}
