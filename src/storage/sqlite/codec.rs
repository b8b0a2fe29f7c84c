//! How the SQLite engine stores a property value: typed, so that SQL can sort and filter on it.
//! `props.value` has BLOB affinity, so SQLite keeps each value with the storage class it is
//! given: integers (PT_I2, PT_LONG, PT_BOOLEAN, PT_CURRENCY, PT_I8, PT_SYSTIME) as INTEGER, floats
//! (PT_R4, PT_DOUBLE, PT_APPTIME) as REAL, strings (PT_STRING8 byte for byte, PT_UNICODE as UTF-8)
//! as TEXT, PT_CLSID and PT_BINARY as BLOB. Multi-valued properties are one BLOB each
//! (`storage/mv.rs`).
//! Schema 1 stored every value as a little-endian BLOB: [`decode_v1`] reads those for the upgrade.

use super::super::mv::{decode_mv, encode_mv};
use super::super::{StorageError, StorageResult};
use crate::core::mapidefs::*;
use crate::core::value::PropValue;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// The SQL value for `v` (borrowing its bytes where it can).
pub fn to_sql(v: &PropValue) -> ToSqlOutput<'_> {
    use PropValue::*;
    let int = |i: i64| ToSqlOutput::Owned(Value::Integer(i));
    let real = |f: f64| ToSqlOutput::Owned(Value::Real(f));
    match v {
        I2(x) => int(*x as i64),
        Long(x) => int(*x as i64),
        Boolean(x) => int(*x as i64),
        Currency(x) | I8(x) => int(*x),
        // FILETIMEs are below 2^63 for every date before the year 30828; the bits are kept as
        // they are whatever the value.
        SysTime(x) => int(*x as i64),
        R4(x) => real(*x as f64),
        Double(x) | AppTime(x) => real(*x),
        String8(b) => ToSqlOutput::Borrowed(ValueRef::Text(b)),
        Unicode(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Clsid(g) => ToSqlOutput::Borrowed(ValueRef::Blob(g)),
        Binary(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        _ => ToSqlOutput::Owned(Value::Blob(encode_mv(v))),
    }
}

/// The value of type `ptype` stored as `sql`; anything inconsistent is damage.
pub fn from_sql(ptype: u32, sql: ValueRef<'_>) -> StorageResult<PropValue> {
    use PropValue::*;
    let corrupt = || {
        StorageError::corrupt(format!(
            "stored property value of type 0x{ptype:04X} is damaged (a {:?})",
            sql.data_type()
        ))
    };
    let int = || match sql {
        ValueRef::Integer(i) => Ok(i),
        _ => Err(corrupt()),
    };
    let real = || match sql {
        ValueRef::Real(f) => Ok(f),
        _ => Err(corrupt()),
    };
    let bytes = |want: fn(&ValueRef) -> bool| {
        if want(&sql) {
            match sql {
                ValueRef::Text(b) | ValueRef::Blob(b) => Ok(b),
                _ => Err(corrupt()),
            }
        } else {
            Err(corrupt())
        }
    };
    let text = || bytes(|v| matches!(v, ValueRef::Text(_)));
    let blob = || bytes(|v| matches!(v, ValueRef::Blob(_)));
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

/// Decodes a schema-1 value: every type a little-endian BLOB, strings as their bytes, and the
/// multi-valued forms as today (schema 1 wrote no zero-item value: it could not read one back).
pub fn decode_v1(ptype: u32, bytes: &[u8]) -> StorageResult<PropValue> {
    use PropValue::*;
    fn one<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Option<T> {
        Some(f(bytes.try_into().ok()?))
    }
    let value = match ptype {
        PT_I2 => one(bytes, i16::from_le_bytes).map(I2),
        PT_LONG => one(bytes, i32::from_le_bytes).map(Long),
        PT_R4 => one(bytes, f32::from_le_bytes).map(R4),
        PT_DOUBLE => one(bytes, f64::from_le_bytes).map(Double),
        PT_APPTIME => one(bytes, f64::from_le_bytes).map(AppTime),
        PT_CURRENCY => one(bytes, i64::from_le_bytes).map(Currency),
        PT_I8 => one(bytes, i64::from_le_bytes).map(I8),
        PT_BOOLEAN => match bytes {
            [0] => Some(Boolean(false)),
            [1] => Some(Boolean(true)),
            _ => None,
        },
        PT_SYSTIME => one(bytes, u64::from_le_bytes).map(SysTime),
        PT_CLSID => one(bytes, |g: [u8; 16]| g).map(Clsid),
        PT_STRING8 => Some(String8(bytes.to_vec())),
        PT_BINARY => Some(Binary(bytes.to_vec())),
        PT_UNICODE => String::from_utf8(bytes.to_vec()).ok().map(Unicode),
        mv => decode_mv(mv, bytes),
    };
    value.ok_or_else(|| {
        StorageError::corrupt(format!(
            "schema-1 property value of type 0x{ptype:04X} is damaged"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn samples() -> Vec<PropValue> {
        use PropValue::*;
        vec![
            I2(-7),
            Long(i32::MIN),
            R4(1.5),
            Double(-2.25),
            Currency(123_4567),
            AppTime(45000.5),
            Boolean(true),
            I8(i64::MAX),
            String8(vec![0xFF, b'a']),
            Unicode("héllo 𝄞".into()),
            SysTime(u64::MAX),
            Clsid([7; 16]),
            Binary(vec![]),
            MvI2(vec![1, -2]),
            MvLong(vec![3]),
            MvR4(vec![0.5]),
            MvDouble(vec![1e300]),
            MvCurrency(vec![-1]),
            MvAppTime(vec![2.0]),
            MvI8(vec![i64::MIN]),
            MvString8(vec![b"".to_vec(), b"x".to_vec()]),
            MvUnicode(vec!["a".into(), "".into()]),
            MvSysTime(vec![9]),
            MvClsid(vec![[1; 16], [2; 16]]),
            MvBinary(vec![vec![0, 1], vec![]]),
            // Zero items (schema 1 wrote these and then refused to read them).
            MvUnicode(vec![]),
            MvLong(vec![]),
            MvBinary(vec![]),
        ]
    }

    fn round_trip(v: &PropValue) -> StorageResult<PropValue> {
        let sql = to_sql(v);
        let value_ref = match &sql {
            ToSqlOutput::Borrowed(r) => *r,
            ToSqlOutput::Owned(o) => ValueRef::from(o),
            _ => unreachable!(),
        };
        from_sql(v.ptype(), value_ref)
    }

    #[test]
    fn every_type_round_trips_typed() {
        for v in samples() {
            assert_eq!(round_trip(&v).expect("decode"), v);
        }
    }

    #[test]
    fn values_are_stored_with_their_sql_type() {
        use PropValue::*;
        let class = |v: PropValue| match to_sql(&v) {
            ToSqlOutput::Borrowed(r) => r.data_type(),
            ToSqlOutput::Owned(o) => ValueRef::from(&o).data_type(),
            _ => unreachable!(),
        };
        use rusqlite::types::Type;
        assert_eq!(class(Long(1)), Type::Integer);
        assert_eq!(class(SysTime(5)), Type::Integer);
        assert_eq!(class(Double(1.0)), Type::Real);
        assert_eq!(class(Unicode("x".into())), Type::Text);
        assert_eq!(class(String8(vec![0xFF])), Type::Text);
        assert_eq!(class(Binary(vec![1])), Type::Blob);
    }

    #[test]
    fn mistyped_or_out_of_range_values_are_damage() {
        use crate::storage::ErrorKind;
        let bad = [
            (PT_LONG, ValueRef::Text(b"5")),
            (PT_LONG, ValueRef::Integer(1 << 40)),
            (PT_I2, ValueRef::Integer(70000)),
            (PT_BOOLEAN, ValueRef::Integer(2)),
            (PT_DOUBLE, ValueRef::Integer(2)),
            (PT_UNICODE, ValueRef::Text(&[0xC3])),
            (PT_UNICODE, ValueRef::Blob(b"x")),
            (PT_CLSID, ValueRef::Blob(&[1, 2])),
            (PT_BINARY, ValueRef::Null),
            (PT_MV_LONG, ValueRef::Blob(&[1, 2, 3])),
            (PT_MV_BINARY, ValueRef::Blob(&[9, 0, 0, 0, 1])),
            (PT_MV_BINARY, ValueRef::Blob(&[0xFF, 0xFF, 0xFF, 0xFF])),
            (PT_OBJECT, ValueRef::Blob(&[])),
        ];
        for (ptype, sql) in bad {
            let e = from_sql(ptype, sql).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Corrupt, "{ptype:04X} {sql:?}");
        }
    }

    #[test]
    fn schema_1_values_decode_as_they_were_written() {
        assert_eq!(
            decode_v1(PT_LONG, &(-5i32).to_le_bytes()).unwrap(),
            PropValue::Long(-5)
        );
        assert_eq!(
            decode_v1(PT_UNICODE, "é".as_bytes()).unwrap(),
            PropValue::Unicode("é".into())
        );
        assert!(decode_v1(PT_LONG, &[1, 2, 3]).is_err());
        assert!(decode_v1(PT_BOOLEAN, &[2]).is_err());
    }
}
