//! Multi-valued properties as one byte string each, for engines that keep them so (SQLite's
//! BLOB, PostgreSQL's bytea): the items back to back, fixed-size ones little-endian,
//! variable-size ones each after its u32 length; zero items is an empty string. Single values
//! are stored typed, by each engine in its own way.

use crate::core::mapidefs::*;
use crate::core::value::PropValue;

/// The BLOB of a multi-valued property (an empty one for zero items).
pub(crate) fn encode_mv(v: &PropValue) -> Vec<u8> {
    use PropValue::*;
    let mut out = Vec::new();
    fn bytes_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]>) {
        for item in items {
            out.extend_from_slice(&(item.len() as u32).to_le_bytes());
            out.extend_from_slice(item);
        }
    }
    match v {
        MvI2(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvLong(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvR4(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvDouble(v) | MvAppTime(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvCurrency(v) | MvI8(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvSysTime(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        MvClsid(v) => v.iter().for_each(|g| out.extend_from_slice(g)),
        MvString8(v) | MvBinary(v) => bytes_list(&mut out, v.iter().map(Vec::as_slice)),
        MvUnicode(v) => bytes_list(&mut out, v.iter().map(String::as_bytes)),
        single => unreachable!("{single:?} is stored as a typed column, not a list"),
    }
    out
}

/// Decodes a multi-valued BLOB (zero items: an empty BLOB).
pub(crate) fn decode_mv(ptype: u32, bytes: &[u8]) -> Option<PropValue> {
    use PropValue::*;
    fn fixed<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Option<Vec<T>> {
        if !bytes.len().is_multiple_of(N) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunk size")))
                .collect(),
        )
    }
    fn list(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut items = Vec::new();
        while !bytes.is_empty() {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            items.push(bytes.get(4..4usize.checked_add(len)?)?.to_vec());
            bytes = &bytes[4 + len..];
        }
        Some(items)
    }
    match ptype {
        PT_MV_I2 => fixed(bytes, i16::from_le_bytes).map(MvI2),
        PT_MV_LONG => fixed(bytes, i32::from_le_bytes).map(MvLong),
        PT_MV_R4 => fixed(bytes, f32::from_le_bytes).map(MvR4),
        PT_MV_DOUBLE => fixed(bytes, f64::from_le_bytes).map(MvDouble),
        PT_MV_APPTIME => fixed(bytes, f64::from_le_bytes).map(MvAppTime),
        PT_MV_CURRENCY => fixed(bytes, i64::from_le_bytes).map(MvCurrency),
        PT_MV_I8 => fixed(bytes, i64::from_le_bytes).map(MvI8),
        PT_MV_SYSTIME => fixed(bytes, u64::from_le_bytes).map(MvSysTime),
        PT_MV_CLSID => fixed(bytes, |g: [u8; 16]| g).map(MvClsid),
        PT_MV_STRING8 => list(bytes).map(MvString8),
        PT_MV_BINARY => list(bytes).map(MvBinary),
        PT_MV_UNICODE => list(bytes)?
            .into_iter()
            .map(|b| String::from_utf8(b).ok())
            .collect::<Option<Vec<_>>>()
            .map(MvUnicode),
        _ => None,
    }
}
