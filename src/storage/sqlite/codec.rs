//! How the SQLite engine stores a property value: typed, so that SQL can sort and filter on it.
//! `props.value` has BLOB affinity, so SQLite keeps each value with the storage class it is
//! given: integers (PT_I2, PT_LONG, PT_BOOLEAN, PT_CURRENCY, PT_I8, PT_SYSTIME) as INTEGER, floats
//! (PT_R4, PT_DOUBLE, PT_APPTIME) as REAL, strings (PT_STRING8 byte for byte, PT_UNICODE as UTF-8)
//! as TEXT, PT_CLSID and PT_BINARY as BLOB, multi-valued ones as one BLOB each: the cells of
//! `storage/typed.rs`.
//! Schema 1 stored every value as a little-endian BLOB: [`decode_v1`] reads those for the upgrade.

use super::super::typed::{decode_mv, from_cell, to_cell, Cell};
use super::super::{StorageError, StorageResult};
use crate::core::mapidefs::*;
use crate::core::value::PropValue;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use std::borrow::Cow;

/// The SQL value for `v` (borrowing its bytes where it can).
pub fn to_sql(v: &PropValue) -> ToSqlOutput<'_> {
    match to_cell(v) {
        Cell::Null => ToSqlOutput::Owned(Value::Null),
        Cell::Int(i) => ToSqlOutput::Owned(Value::Integer(i)),
        Cell::Real(f) => ToSqlOutput::Owned(Value::Real(f)),
        Cell::Text(Cow::Borrowed(b)) => ToSqlOutput::Borrowed(ValueRef::Text(b)),
        Cell::Blob(Cow::Borrowed(b)) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        // Only strings are Text, and they are always borrowed.
        Cell::Text(Cow::Owned(b)) => {
            ToSqlOutput::Owned(Value::Text(String::from_utf8_lossy(&b).into_owned()))
        }
        Cell::Blob(Cow::Owned(b)) => ToSqlOutput::Owned(Value::Blob(b)),
    }
}

/// The value of type `ptype` stored as `sql`; anything inconsistent is damage.
pub fn from_sql(ptype: u32, sql: ValueRef<'_>) -> StorageResult<PropValue> {
    let cell = match sql {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(b) => Cell::Text(Cow::Borrowed(b)),
        ValueRef::Blob(b) => Cell::Blob(Cow::Borrowed(b)),
    };
    from_cell(ptype, cell)
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
