//! How engines store a property value (DESIGN.md §6: typed, so that an engine can sort and
//! filter on it), in one place for every engine: a value becomes a [`Cell`] of one storage
//! class — integers (PT_I2, PT_LONG, PT_BOOLEAN, PT_CURRENCY, PT_I8, PT_SYSTIME) as Int, floats
//! (PT_R4, PT_DOUBLE, PT_APPTIME) as Real, strings (PT_STRING8 byte for byte, PT_UNICODE as
//! UTF-8) as Text, PT_CLSID and PT_BINARY as Blob — and each engine maps cells onto its own
//! columns. Multi-valued properties are one Blob each: the items back to back, fixed-size ones
//! little-endian, variable-size ones each after its u32 length; zero items is an empty Blob.

use super::{StorageError, StorageResult};
use crate::core::mapidefs::*;
use crate::core::value::PropValue;
use std::borrow::Cow;

/// A stored value as its column holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, [u8]>),
    Blob(Cow<'a, [u8]>),
}

/// The cell `v` is stored as (borrowing its bytes where it can).
pub fn to_cell(v: &PropValue) -> Cell<'_> {
    use PropValue::*;
    match v {
        I2(x) => Cell::Int(*x as i64),
        Long(x) => Cell::Int(*x as i64),
        Boolean(x) => Cell::Int(*x as i64),
        Currency(x) | I8(x) => Cell::Int(*x),
        // FILETIMEs are below 2^63 for every date before the year 30828; the bits are kept as
        // they are whatever the value.
        SysTime(x) => Cell::Int(*x as i64),
        R4(x) => Cell::Real(*x as f64),
        Double(x) | AppTime(x) => Cell::Real(*x),
        String8(b) => Cell::Text(Cow::Borrowed(b)),
        Unicode(s) => Cell::Text(Cow::Borrowed(s.as_bytes())),
        Clsid(g) => Cell::Blob(Cow::Borrowed(g)),
        Binary(b) => Cell::Blob(Cow::Borrowed(b)),
        mv => Cell::Blob(Cow::Owned(encode_mv(mv))),
    }
}

/// The value of type `ptype` stored in `cell`; anything inconsistent is damage.
pub fn from_cell(ptype: u32, cell: Cell<'_>) -> StorageResult<PropValue> {
    use PropValue::*;
    let corrupt = || {
        let class = match &cell {
            Cell::Null => "NULL",
            Cell::Int(_) => "integer",
            Cell::Real(_) => "real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "blob",
        };
        StorageError::corrupt(format!(
            "stored property value of type 0x{ptype:04X} is damaged (a {class})"
        ))
    };
    let int = || match cell {
        Cell::Int(i) => Ok(i),
        _ => Err(corrupt()),
    };
    let real = || match cell {
        Cell::Real(f) => Ok(f),
        _ => Err(corrupt()),
    };
    let text = || match &cell {
        Cell::Text(b) => Ok(b.as_ref()),
        _ => Err(corrupt()),
    };
    let blob = || match &cell {
        Cell::Blob(b) => Ok(b.as_ref()),
        _ => Err(corrupt()),
    };
    Ok(match ptype {
        PT_I2 => I2(i16::try_from(int()?).map_err(|_| corrupt())?),
        PT_LONG => Long(i32::try_from(int()?).map_err(|_| corrupt())?),
        PT_BOOLEAN => match int()? {
            0 => Boolean(false),
            1 => Boolean(true),
            _ => return Err(corrupt()),
        },
        PT_CURRENCY => Currency(int()?),
        PT_I8 => I8(int()?),
        PT_SYSTIME => SysTime(int()? as u64),
        PT_R4 => R4(real()? as f32),
        PT_DOUBLE => Double(real()?),
        PT_APPTIME => AppTime(real()?),
        PT_STRING8 => String8(text()?.to_vec()),
        PT_UNICODE => Unicode(String::from_utf8(text()?.to_vec()).map_err(|_| corrupt())?),
        PT_CLSID => Clsid(blob()?.try_into().map_err(|_| corrupt())?),
        PT_BINARY => Binary(blob()?.to_vec()),
        mv => decode_mv(mv, blob()?).ok_or_else(corrupt)?,
    })
}

/// The BLOB of a multi-valued property (an empty one for zero items).
fn encode_mv(v: &PropValue) -> Vec<u8> {
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
