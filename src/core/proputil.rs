//! The pure logic behind the mapiutil.h / mapival.h helpers (reference §12): tag validity,
//! value comparison and containment, hex and decimal text. Safe Rust over borrowed views of
//! values; `abi::mapiutil` reads the C memory into these views and back.
//!
//! The choices where Microsoft's pages and Windows (as Wine reproduces it) disagree are listed in
//! `docs/MAPIUTIL.md`.

use super::mapidefs::*;
use super::value::is_stored_type;
use std::cmp::Ordering;

/// Whether `ptype` is a single-valued type a property value may carry (FBadPropTag's list).
pub fn is_value_type(ptype: u32) -> bool {
    matches!(
        ptype,
        PT_UNSPECIFIED
            | PT_NULL
            | PT_I2
            | PT_LONG
            | PT_R4
            | PT_DOUBLE
            | PT_CURRENCY
            | PT_APPTIME
            | PT_ERROR
            | PT_BOOLEAN
            | PT_OBJECT
            | PT_I8
            | PT_STRING8
            | PT_UNICODE
            | PT_SYSTIME
            | PT_CLSID
            | PT_BINARY
    )
}

/// Whether `ptype` is one of MAPI's twelve multi-valued types (PT_MV_I2 … PT_MV_BINARY): the
/// stored types with the MV bit (PT_BOOLEAN has no multi-valued form).
pub fn is_mv_type(ptype: u32) -> bool {
    ptype & MV_FLAG != 0 && is_stored_type(ptype)
}

/// FBadPropTag: TRUE when the tag's type is not a MAPI property type. Only the type is checked
/// (as Windows does); MV_FLAG is allowed on the twelve types that have a multi-valued form.
pub fn is_bad_prop_tag(tag: u32) -> bool {
    let ptype = tag & 0xFFFF;
    if ptype & MV_FLAG != 0 {
        !is_mv_type(ptype)
    } else {
        !is_value_type(ptype)
    }
}

/// One single value, borrowed from C memory (or owned where it is a number).
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    /// PT_NULL, PT_UNSPECIFIED, PT_OBJECT: no value to order.
    Empty,
    Int(i64),
    Float(f64),
    /// PT_BOOLEAN (non-zero is true).
    Boolean(bool),
    /// PT_ERROR: an SCODE, ordered as a signed number.
    Error(i32),
    /// PT_SYSTIME as 100-ns ticks.
    Time(u64),
    String8(&'a [u8]),
    Unicode(&'a [u16]),
    /// PT_BINARY, and PT_CLSID (16 bytes, compared as memory).
    Bytes(&'a [u8]),
}

/// A property value: one scalar, or the elements of a multi-valued one.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Single(Scalar<'a>),
    Multi(Vec<Scalar<'a>>),
}

fn sign(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// Orders two scalars of the same property type: integers signed, floats by value (NaN ordered
/// by IEEE total order so that the result is consistent), strings and binaries by code unit /
/// byte, then by length. Booleans and errors have no documented order; they get a consistent
/// one (false < true; SCODEs as signed numbers).
pub fn compare_scalars(a: &Scalar, b: &Scalar) -> Ordering {
    use Scalar::*;
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => x.partial_cmp(y).unwrap_or_else(|| x.total_cmp(y)),
        (Boolean(x), Boolean(y)) => x.cmp(y),
        (Error(x), Error(y)) => x.cmp(y),
        (Time(x), Time(y)) => x.cmp(y),
        (String8(x), String8(y)) => x.cmp(y),
        (Unicode(x), Unicode(y)) => x.cmp(y),
        (Bytes(x), Bytes(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// LPropCompareProp: values of different types order by type code (the difference of the two
/// codes, as Windows returns it); values of one type give -1, 0 or 1. Multi-valued values
/// compare element by element, then by count.
pub fn compare_props(type_a: u32, a: &Value, type_b: u32, b: &Value) -> i32 {
    if type_a != type_b {
        return type_a as i32 - type_b as i32;
    }
    let order = match (a, b) {
        (Value::Single(x), Value::Single(y)) => compare_scalars(x, y),
        (Value::Multi(x), Value::Multi(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| compare_scalars(p, q))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => Ordering::Equal,
    };
    sign(order)
}

/// FPropCompareProp: `a relop b`. Values of different types, an unknown operator and RELOP_RE
/// (regular expressions, not implemented, as in Wine) give false.
pub fn relop_holds(type_a: u32, a: &Value, relop: u32, type_b: u32, b: &Value) -> bool {
    if type_a != type_b {
        return false;
    }
    let c = compare_props(type_a, a, type_b, b);
    match relop {
        RELOP_LT => c < 0,
        RELOP_LE => c <= 0,
        RELOP_GT => c > 0,
        RELOP_GE => c >= 0,
        RELOP_EQ => c == 0,
        RELOP_NE => c != 0,
        _ => false,
    }
}

/// How a fuzzy level's low 16 bits match: exactly one of the three; anything else is a full
/// match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Full,
    Substring,
    Prefix,
}

fn level(fuzzy: u32) -> Level {
    match fuzzy & 0xFFFF {
        FL_SUBSTRING => Level::Substring,
        FL_PREFIX => Level::Prefix,
        _ => Level::Full,
    }
}

fn matches<T: PartialEq>(hay: &[T], needle: &[T], level: Level) -> bool {
    match level {
        Level::Full => hay == needle,
        Level::Prefix => hay.starts_with(needle),
        Level::Substring => needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle),
    }
}

/// The base letter of a Latin-1 accented letter (what FL_IGNORENONSPACE ignores), if it is one.
fn strip_accent(c: char) -> char {
    const FROM: &str = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿ";
    const TO: &str = "AAAAAACEEEEIIIINOOOOOOUUUUYaaaaaaceeeeiiiinoooooouuuuyy";
    match FROM.chars().position(|f| f == c) {
        Some(i) => TO.chars().nth(i).unwrap_or(c),
        None => c,
    }
}

/// Combining marks (the "nonspacing" characters FL_IGNORENONSPACE ignores).
fn is_nonspacing(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A string's characters normalised for the high fuzzy-level bits, one at a time. FL_LOOSE
/// implies FL_IGNORECASE and FL_IGNORENONSPACE and also ignores symbols (as Windows'
/// NORM_IGNORESYMBOLS).
fn folded_chars(chars: impl Iterator<Item = char>, fuzzy: u32) -> impl Iterator<Item = char> {
    let loose = fuzzy & FL_LOOSE != 0;
    let nocase = loose || fuzzy & FL_IGNORECASE != 0;
    let nonspace = loose || fuzzy & FL_IGNORENONSPACE != 0;
    chars
        .filter(move |&c| {
            let ignored_mark = nonspace && is_nonspacing(c);
            let ignored_symbol = loose && !c.is_alphanumeric() && !c.is_whitespace();
            !ignored_mark && !ignored_symbol
        })
        .map(move |c| if nonspace { strip_accent(c) } else { c })
        .flat_map(move |c| {
            let lower = nocase.then(|| c.to_lowercase());
            lower.into_iter().flatten().chain((!nocase).then_some(c))
        })
}

/// [`matches`] of a folded value against a folded needle, both folded as they are compared
/// (a prefix or whole-value test stops at the first difference and allocates nothing).
fn matches_folded(
    hay: impl Iterator<Item = char>,
    needle: impl Iterator<Item = char>,
    level: Level,
) -> bool {
    match level {
        Level::Full => hay.eq(needle),
        Level::Prefix => {
            let mut hay = hay;
            needle.into_iter().all(|n| hay.next() == Some(n))
        }
        Level::Substring => matches(
            &hay.collect::<Vec<char>>(),
            &needle.collect::<Vec<char>>(),
            level,
        ),
    }
}

/// A PT_STRING8 value's characters: UTF-8 (this provider's convention) when it is valid, else
/// each byte as a Latin-1 character.
enum String8Chars<'a> {
    Utf8(std::str::Chars<'a>),
    Latin1(std::slice::Iter<'a, u8>),
}

impl Iterator for String8Chars<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            String8Chars::Utf8(c) => c.next(),
            String8Chars::Latin1(b) => b.next().map(|&x| x as char),
        }
    }
}

fn string8_chars(b: &[u8]) -> String8Chars<'_> {
    match std::str::from_utf8(b) {
        Ok(s) => String8Chars::Utf8(s.chars()),
        Err(_) => String8Chars::Latin1(b.iter()),
    }
}

/// A PT_UNICODE value's characters (an unpaired surrogate reads as U+FFFD).
fn utf16_chars(u: &[u16]) -> impl Iterator<Item = char> + '_ {
    char::decode_utf16(u.iter().copied()).map(|c| c.unwrap_or('\u{FFFD}'))
}

/// FPropContainsProp: whether `needle` occurs in `hay` (both of type `ptype`) as `fuzzy` asks.
/// PT_STRING8 and PT_UNICODE honour the high bits (case, accents, FL_LOOSE); PT_BINARY ignores
/// them. Any other type is false.
pub fn contains(ptype: u32, hay: &Scalar, needle: &Scalar, fuzzy: u32) -> bool {
    let lvl = level(fuzzy);
    let folding = fuzzy & (FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE) != 0;
    match (ptype, hay, needle) {
        (PT_BINARY, Scalar::Bytes(h), Scalar::Bytes(n)) => matches(h, n, lvl),
        (PT_STRING8, Scalar::String8(h), Scalar::String8(n)) => {
            if folding {
                let n = folded_chars(string8_chars(n), fuzzy);
                matches_folded(folded_chars(string8_chars(h), fuzzy), n, lvl)
            } else {
                matches(h, n, lvl)
            }
        }
        (PT_UNICODE, Scalar::Unicode(h), Scalar::Unicode(n)) => {
            if folding {
                let n = folded_chars(utf16_chars(n), fuzzy);
                matches_folded(folded_chars(utf16_chars(h), fuzzy), n, lvl)
            } else {
                matches(h, n, lvl)
            }
        }
        _ => false,
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// HexFromBin: two uppercase hex digits per byte (no terminator here).
pub fn hex_from_bin(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xF) as usize]);
    }
    out
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// FBinFromHex: pairs of hex digits of either case. `None` for an invalid character or an odd
/// number of digits (the last byte would be half a byte).
pub fn bin_from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2)
        .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
        .collect()
}

/// UFromSz: the decimal digits up to the first non-digit (no whitespace skipped; 0 if the text
/// starts with none). Wraps modulo 2^32 like the C original.
pub fn u_from_sz(text: &[u8]) -> u32 {
    text.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u32, |n, c| {
            n.wrapping_mul(10).wrapping_add((c - b'0') as u32)
        })
}

/// UlFromSzHex: hex digits of either case up to the first non-hex character, one digit at a
/// time (so an odd number of digits reads as written: "abc" is 0xABC).
pub fn ul_from_sz_hex(text: &[u8]) -> u32 {
    text.iter()
        .map_while(|&c| hex_digit(c))
        .fold(0u32, |n, d| n.wrapping_shl(4) | d as u32)
}

/// CbOfEncoded (undocumented; Windows' arithmetic as Wine reproduces it): for a string of `len`
/// characters, `(((len | 3) >> 2) + 1) * 3`.
pub fn cb_of_encoded(len: usize) -> u32 {
    let len = len.min(u32::MAX as usize) as u32;
    (((len | 3) >> 2) + 1).wrapping_mul(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(!is_bad_prop_tag(0x0037_001E));
        assert!(!is_bad_prop_tag(0x0037_101F));
        assert!(is_bad_prop_tag(0x0037_100B)); // PT_MV_BOOLEAN is no MAPI type
        assert!(is_bad_prop_tag(0x0037_0008));
        assert!(is_bad_prop_tag(0x0037_301E)); // MVI_FLAG
        assert!(!is_bad_prop_tag(PR_NULL));
    }

    #[test]
    fn comparisons() {
        let s = |v: i64| Value::Single(Scalar::Int(v));
        assert_eq!(compare_props(PT_LONG, &s(-1), PT_LONG, &s(1)), -1);
        assert!(relop_holds(PT_LONG, &s(-5), RELOP_LT, PT_LONG, &s(3)));
        assert!(!relop_holds(PT_LONG, &s(1), RELOP_NE, PT_I2, &s(2)));
        assert!(compare_props(PT_I2, &s(0), PT_LONG, &s(0)) < 0);
        let b = |x: &'static [u8]| Value::Single(Scalar::Bytes(x));
        assert_eq!(
            compare_props(PT_BINARY, &b(b"ab"), PT_BINARY, &b(b"abc")),
            -1
        );
        let m = |v: Vec<i64>| Value::Multi(v.into_iter().map(Scalar::Int).collect());
        assert_eq!(
            compare_props(PT_MV_LONG, &m(vec![1, 2]), PT_MV_LONG, &m(vec![1])),
            1
        );
    }

    #[test]
    fn containment() {
        let s = |x: &'static [u8]| Scalar::String8(x);
        assert!(contains(PT_STRING8, &s(b"Hello"), &s(b"ell"), FL_SUBSTRING));
        assert!(!contains(
            PT_STRING8,
            &s(b"Hello"),
            &s(b"ELL"),
            FL_SUBSTRING
        ));
        assert!(contains(
            PT_STRING8,
            &s(b"Hello"),
            &s(b"ELL"),
            FL_SUBSTRING | FL_IGNORECASE
        ));
        assert!(contains(
            PT_STRING8,
            &Scalar::String8("Café".as_bytes()),
            &s(b"cafe"),
            FL_FULLSTRING | FL_LOOSE
        ));
        assert!(!contains(
            PT_STRING8,
            &s(b"Hello"),
            &s(b"Hell"),
            FL_FULLSTRING
        ));
        assert!(contains(PT_STRING8, &s(b"Hello"), &s(b"Hell"), FL_PREFIX));
        assert!(contains(PT_STRING8, &s(b"Hello"), &s(b"Hello"), 7)); // invalid level: full
    }

    #[test]
    fn text() {
        assert_eq!(hex_from_bin(&[0x01, 0xAB]), b"01AB");
        assert_eq!(bin_from_hex(b"01ab"), Some(vec![1, 0xAB]));
        assert_eq!(bin_from_hex(b"abc"), None);
        assert_eq!(bin_from_hex(b"0g"), None);
        assert_eq!(u_from_sz(b"5a5b"), 5);
        assert_eq!(u_from_sz(b"a5b5"), 0);
        assert_eq!(ul_from_sz_hex(b"5a"), 90);
        assert_eq!(ul_from_sz_hex(b"5g5h"), 5);
        assert_eq!(ul_from_sz_hex(b"abc"), 0xABC);
        assert_eq!(cb_of_encoded(0), 3);
        assert_eq!(cb_of_encoded(4), 6);
    }
}
