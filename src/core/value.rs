//! Property values as safe Rust owns them, one variant per stored MAPI type (DESIGN.md §2), with
//! the string-width conversions GetProps performs on request. How a value is stored is the
//! engine's business (storage/).

use super::error::{MapiError, MapiResult};
use super::mapidefs::*;

/// A property tag: the ID in the high 16 bits, the type in the low 16 (`PROP_TAG`).
pub const fn prop_type(tag: u32) -> u32 {
    tag & 0xFFFF
}
pub const fn prop_id(tag: u32) -> u16 {
    (tag >> 16) as u16
}
pub const fn prop_tag(ptype: u32, id: u16) -> u32 {
    ((id as u32) << 16) | (ptype & 0xFFFF)
}
pub const fn change_prop_type(tag: u32, ptype: u32) -> u32 {
    (tag & 0xFFFF_0000) | (ptype & 0xFFFF)
}

/// Whether `tag`'s property ID is that of one of `tags` (whatever the types).
pub fn id_listed(tags: &[u32], tag: u32) -> bool {
    tags.iter().any(|t| prop_id(*t) == prop_id(tag))
}

/// The error for a copy the process has no memory for.
pub fn out_of_memory(bytes: usize) -> MapiError {
    MapiError::new(
        MAPI_E_NOT_ENOUGH_MEMORY,
        format!("out of memory: {bytes} bytes could not be allocated"),
    )
}

// Fallible copies. Values are sized by callers (a SetProps binary of 1.5 GB), and a failed
// infallible allocation aborts the whole process (it is not a panic the C boundary's guard could
// catch), so every copy of caller-sized data is made with `try_reserve_exact` and fails with
// MAPI_E_NOT_ENOUGH_MEMORY instead, leaving the object as it was.

/// An empty vector with room for exactly `n` items, or MAPI_E_NOT_ENOUGH_MEMORY.
pub fn try_vec_with_capacity<T>(n: usize) -> MapiResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n.saturating_mul(std::mem::size_of::<T>())))?;
    Ok(v)
}

/// `items.to_vec()`, fallibly.
pub fn try_to_vec<T: Clone>(items: &[T]) -> MapiResult<Vec<T>> {
    let mut v = try_vec_with_capacity(items.len())?;
    v.extend_from_slice(items);
    Ok(v)
}

/// `items.iter().map(f).collect()`, fallibly (one allocation, sized up front).
pub fn try_map<'a, T, U>(items: &'a [T], f: impl FnMut(&'a T) -> U) -> MapiResult<Vec<U>> {
    let mut v = try_vec_with_capacity(items.len())?;
    v.extend(items.iter().map(f));
    Ok(v)
}

/// `items.iter().map(f).collect::<MapiResult<Vec<_>>>()`, fallibly.
pub fn try_map_result<'a, T, U>(
    items: &'a [T],
    mut f: impl FnMut(&'a T) -> MapiResult<U>,
) -> MapiResult<Vec<U>> {
    let mut v = try_vec_with_capacity(items.len())?;
    for item in items {
        v.push(f(item)?);
    }
    Ok(v)
}

/// `v.push(x)`, fallibly (for lists whose length the caller decides, such as problem lists).
pub fn try_push<T>(v: &mut Vec<T>, x: T) -> MapiResult<()> {
    v.try_reserve(1)
        .map_err(|_| out_of_memory(v.len().saturating_add(1) * std::mem::size_of::<T>()))?;
    v.push(x);
    Ok(())
}

/// `s.to_owned()`, fallibly.
pub fn try_string(s: &str) -> MapiResult<String> {
    let mut out = String::new();
    out.try_reserve_exact(s.len())
        .map_err(|_| out_of_memory(s.len()))?;
    out.push_str(s);
    Ok(out)
}

/// A borrowed or owned value as an owned one, copying fallibly.
pub fn try_owned(v: std::borrow::Cow<'_, PropValue>) -> MapiResult<PropValue> {
    match v {
        std::borrow::Cow::Owned(v) => Ok(v),
        std::borrow::Cow::Borrowed(v) => v.try_clone(),
    }
}

/// The number of UTF-16 code units `s` encodes to (`s.encode_utf16().count()`), in one pass over
/// the bytes that the compiler vectorises: every byte that starts a character is one unit, and a
/// four-byte character (the only ones outside the BMP) is a surrogate pair, one unit more.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.as_bytes()
        .iter()
        .map(|&b| ((b & 0xC0) != 0x80) as usize + (b >= 0xF0) as usize)
        .sum()
}

/// One stored property value. `String8` is UTF-8 by this provider's convention but kept byte for
/// byte; `Unicode` was validated UTF-16 on the way in. GUIDs are kept in their 16-byte memory form.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    I2(i16),
    Long(i32),
    R4(f32),
    Double(f64),
    Currency(i64),
    AppTime(f64),
    Boolean(bool),
    I8(i64),
    String8(Vec<u8>),
    Unicode(String),
    SysTime(u64),
    Clsid([u8; 16]),
    Binary(Vec<u8>),
    MvI2(Vec<i16>),
    MvLong(Vec<i32>),
    MvR4(Vec<f32>),
    MvDouble(Vec<f64>),
    MvCurrency(Vec<i64>),
    MvAppTime(Vec<f64>),
    MvI8(Vec<i64>),
    MvString8(Vec<Vec<u8>>),
    MvUnicode(Vec<String>),
    MvSysTime(Vec<u64>),
    MvClsid(Vec<[u8; 16]>),
    MvBinary(Vec<Vec<u8>>),
    /// A large PT_BINARY or PT_STRING8 value left in the store when its object was opened
    /// (DESIGN.md §7, §9): streams read it in chunks, anything that needs it whole reads it
    /// through the store (`Store::read_whole`).
    Large(Box<LargeRef>),
}

/// Where a value left in the store is, and which version of it an object's view holds.
///
/// `version` is the engine's name for the stored bytes (each engine documents which one),
/// never given to other bytes. A read finds those bytes or nothing: a value replaced since the
/// view was read answers MAPI_E_OBJECT_CHANGED, never someone else's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeRef {
    /// PT_BINARY or PT_STRING8: types whose stream bytes are their stored bytes.
    pub ptype: u32,
    /// The value's length in bytes.
    pub len: u64,
    /// The object and property ID the value is stored under.
    pub obj: u64,
    pub prop: u16,
    pub version: i64,
}

/// Values of PT_BINARY or PT_STRING8 longer than this are left in the store when a message, an
/// attachment or an embedded message is opened: GetProps answers them with
/// MAPI_E_NOT_ENOUGH_MEMORY anyway (core/stream.rs `GETPROPS_MAX_BYTES`), so only streams and
/// copies ever need their bytes.
pub(crate) const DEFER_ABOVE_BYTES: u64 = 1 << 20;

/// Whether values of `ptype` are left in the store when large.
pub fn deferrable_type(ptype: u32) -> bool {
    matches!(ptype, PT_BINARY | PT_STRING8)
}

/// Whether `ptype` is one this provider stores (PT_I2 … PT_BINARY and their MV forms).
pub fn is_stored_type(ptype: u32) -> bool {
    matches!(
        ptype & !MV_FLAG,
        PT_I2
            | PT_LONG
            | PT_R4
            | PT_DOUBLE
            | PT_CURRENCY
            | PT_APPTIME
            | PT_I8
            | PT_STRING8
            | PT_UNICODE
            | PT_SYSTIME
            | PT_CLSID
            | PT_BINARY
    ) || ptype == PT_BOOLEAN
}

impl PropValue {
    /// A value left in the store until read ([`LargeRef`]).
    #[inline]
    pub fn is_large(&self) -> bool {
        matches!(self, PropValue::Large(_))
    }

    /// The size of a value as engines promise to store it ([`crate::storage::Engine::max_value_bytes`]):
    /// the bytes of its data — 2, 4, 8 or 16 per fixed-size value, a PT_STRING8 string's or a
    /// binary's bytes, a PT_UNICODE string's bytes in UTF-8 — summed over the elements of a
    /// multi-valued property.
    pub fn stored_size(&self) -> u64 {
        use PropValue::*;
        let n = |len: usize, each: usize| (len as u64) * (each as u64);
        match self {
            I2(_) => 2,
            Long(_) | R4(_) | Boolean(_) => 4,
            Double(_) | Currency(_) | AppTime(_) | I8(_) | SysTime(_) => 8,
            Clsid(_) => 16,
            String8(b) | Binary(b) => b.len() as u64,
            Unicode(s) => s.len() as u64,
            MvI2(v) => n(v.len(), 2),
            MvLong(v) => n(v.len(), 4),
            MvR4(v) => n(v.len(), 4),
            MvDouble(v) | MvAppTime(v) => n(v.len(), 8),
            MvCurrency(v) | MvI8(v) => n(v.len(), 8),
            MvSysTime(v) => n(v.len(), 8),
            MvClsid(v) => n(v.len(), 16),
            MvString8(v) | MvBinary(v) => v.iter().map(|b| b.len() as u64).sum(),
            MvUnicode(v) => v.iter().map(|s| s.len() as u64).sum(),
            Large(at) => at.len,
        }
    }

    /// The MAPI property type of this value.
    pub fn ptype(&self) -> u32 {
        use PropValue::*;
        match self {
            I2(_) => PT_I2,
            Long(_) => PT_LONG,
            R4(_) => PT_R4,
            Double(_) => PT_DOUBLE,
            Currency(_) => PT_CURRENCY,
            AppTime(_) => PT_APPTIME,
            Boolean(_) => PT_BOOLEAN,
            I8(_) => PT_I8,
            String8(_) => PT_STRING8,
            Unicode(_) => PT_UNICODE,
            SysTime(_) => PT_SYSTIME,
            Clsid(_) => PT_CLSID,
            Binary(_) => PT_BINARY,
            MvI2(_) => PT_MV_I2,
            MvLong(_) => PT_MV_LONG,
            MvR4(_) => PT_MV_R4,
            MvDouble(_) => PT_MV_DOUBLE,
            MvCurrency(_) => PT_MV_CURRENCY,
            MvAppTime(_) => PT_MV_APPTIME,
            MvI8(_) => PT_MV_I8,
            MvString8(_) => PT_MV_STRING8,
            MvUnicode(_) => PT_MV_UNICODE,
            MvSysTime(_) => PT_MV_SYSTIME,
            MvClsid(_) => PT_MV_CLSID,
            MvBinary(_) => PT_MV_BINARY,
            Large(at) => at.ptype,
        }
    }

    /// The size this value counts for in PR_MESSAGE_SIZE: its payload bytes.
    pub fn payload_size(&self) -> usize {
        use PropValue::*;
        match self {
            I2(_) | Boolean(_) => 2,
            Long(_) | R4(_) => 4,
            Double(_) | Currency(_) | AppTime(_) | I8(_) | SysTime(_) => 8,
            Clsid(_) => 16,
            String8(s) | Binary(s) => s.len(),
            Unicode(s) => utf16_len(s) * 2,
            MvI2(v) => v.len() * 2,
            MvLong(v) => v.len() * 4,
            MvR4(v) => v.len() * 4,
            MvDouble(v) | MvAppTime(v) => v.len() * 8,
            MvCurrency(v) | MvI8(v) => v.len() * 8,
            MvSysTime(v) => v.len() * 8,
            MvClsid(v) => v.len() * 16,
            MvString8(v) | MvBinary(v) => v.iter().map(Vec::len).sum(),
            MvUnicode(v) => v.iter().map(|s| utf16_len(s) * 2).sum(),
            Large(at) => at.len as usize,
        }
    }

    /// `self.clone()`, with every allocation fallible (MAPI_E_NOT_ENOUGH_MEMORY).
    pub fn try_clone(&self) -> MapiResult<PropValue> {
        use PropValue::*;
        let bytes_list = |v: &Vec<Vec<u8>>| try_map_result(v, |b| try_to_vec(b));
        Ok(match self {
            String8(b) => String8(try_to_vec(b)?),
            Unicode(s) => Unicode(try_string(s)?),
            Binary(b) => Binary(try_to_vec(b)?),
            MvI2(v) => MvI2(try_to_vec(v)?),
            MvLong(v) => MvLong(try_to_vec(v)?),
            MvR4(v) => MvR4(try_to_vec(v)?),
            MvDouble(v) => MvDouble(try_to_vec(v)?),
            MvCurrency(v) => MvCurrency(try_to_vec(v)?),
            MvAppTime(v) => MvAppTime(try_to_vec(v)?),
            MvI8(v) => MvI8(try_to_vec(v)?),
            MvString8(v) => MvString8(bytes_list(v)?),
            MvUnicode(v) => MvUnicode(try_map_result(v, |s| try_string(s))?),
            MvSysTime(v) => MvSysTime(try_to_vec(v)?),
            MvClsid(v) => MvClsid(try_to_vec(v)?),
            MvBinary(v) => MvBinary(bytes_list(v)?),
            I2(_) | Long(_) | R4(_) | Double(_) | Currency(_) | AppTime(_) | Boolean(_) | I8(_)
            | SysTime(_) | Clsid(_) | Large(_) => self.clone(),
        })
    }

    /// This value as `want` (PT_STRING8 ↔ PT_UNICODE and their MV forms; identity otherwise).
    /// `None` when the types do not correspond; `Err(MAPI_E_BAD_CHARWIDTH)` when a PT_STRING8 value
    /// is not UTF-8 and so cannot be widened.
    pub fn converted_to(&self, want: u32) -> Option<MapiResult<PropValue>> {
        use PropValue::*;
        if want == self.ptype() {
            return Some(self.try_clone());
        }
        // Copies are fallible: a value too big to copy is MAPI_E_NOT_ENOUGH_MEMORY, not an abort.
        let widen = |b: &Vec<u8>| -> MapiResult<String> {
            let s = std::str::from_utf8(b).map_err(|_| {
                MapiError::new(
                    MAPI_E_BAD_CHARWIDTH,
                    "a PT_STRING8 value is not UTF-8 and cannot be returned as PT_UNICODE",
                )
            })?;
            try_string(s)
        };
        let narrow = |s: &String| try_to_vec(s.as_bytes());
        match (self, want) {
            (Large(_), PT_UNICODE) => Some(Err(MapiError::new(
                MAPI_E_NOT_ENOUGH_MEMORY,
                "the value is too large to convert; read it with OpenProperty(IID_IStream)",
            ))),
            (String8(b), PT_UNICODE) => Some(widen(b).map(Unicode)),
            (Unicode(s), PT_STRING8) => Some(narrow(s).map(String8)),
            (MvString8(v), PT_MV_UNICODE) => Some(try_map_result(v, widen).map(MvUnicode)),
            (MvUnicode(v), PT_MV_STRING8) => Some(try_map_result(v, narrow).map(MvString8)),
            _ => None,
        }
    }

    /// The natural type to report for a request of PT_UNSPECIFIED (or a NULL tag list): strings
    /// come back wide with MAPI_UNICODE and narrow without.
    pub fn unspecified_type(&self, unicode: bool) -> u32 {
        type_in_width(self.ptype(), unicode)
    }
}

/// A string type (single or multi-valued) in the width asked for: wide with MAPI_UNICODE,
/// narrow without; any other type as it is.
pub fn type_in_width(ptype: u32, unicode: bool) -> u32 {
    match (ptype, unicode) {
        (PT_STRING8, true) => PT_UNICODE,
        (PT_UNICODE, false) => PT_STRING8,
        (PT_MV_STRING8, true) => PT_MV_UNICODE,
        (PT_MV_UNICODE, false) => PT_MV_STRING8,
        (t, _) => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_len_counts_code_units() {
        for s in [
            "",
            "abc",
            "héllo",
            "日本語",
            "𝄞 and 😀",
            "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}",
        ] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s:?}");
        }
    }

    #[test]
    fn string_widths_convert_on_request() {
        let narrow = PropValue::String8(b"abc".to_vec());
        assert_eq!(
            narrow.converted_to(PT_UNICODE).unwrap().unwrap(),
            PropValue::Unicode("abc".into())
        );
        let bad = PropValue::String8(vec![0xC3]);
        assert_eq!(
            bad.converted_to(PT_UNICODE).unwrap().unwrap_err().code,
            MAPI_E_BAD_CHARWIDTH
        );
        assert!(narrow.converted_to(PT_LONG).is_none());
        assert_eq!(narrow.unspecified_type(true), PT_UNICODE);
    }
}
