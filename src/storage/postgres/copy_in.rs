//! Large values go to the server in pieces. A bound parameter is serialised whole into the
//! client's send buffer before anything is sent (a second full copy of the value in this
//! process), so a property row whose value is at least [`STREAMED_BYTES`] is written with
//! `COPY … FROM STDIN (FORMAT binary)` instead, its bytes handed to the connection
//! [`PIECE`] at a time. COPY has no ON CONFLICT: the caller deletes the rows' stored values
//! first, in the same transaction. (Appending to a bytea in pieces with UPDATE would rewrite
//! the value at each piece: quadratic on the server.)

use super::super::typed::{to_cell, Cell};
use super::super::{ErrorKind, PropRef, StorageError, StorageResult};
use super::pg_error;
use crate::core::value::PropValue;
use postgres::Client;
use std::io::Write;

/// Binary and string values at least this large are streamed with COPY.
pub(super) const STREAMED_BYTES: usize = 1 << 20;
/// The piece of a value handed to the connection at once.
const PIECE: usize = 256 << 10;

const COPY_PROPS: &str = "COPY msgstore_props(store, obj, id, tag, v_int, v_real, v_text, v_bin) \
                          FROM STDIN (FORMAT binary)";
/// The binary COPY header: signature, flags, no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Fields per row, and the trailer that ends the data.
const FIELDS: i16 = 8;
const TRAILER: i16 = -1;

/// Whether a value is written with COPY (its bytes, lent: no multi-valued or fixed-size value).
pub(super) fn is_streamed(v: &PropValue) -> bool {
    match v {
        PropValue::Binary(b) | PropValue::String8(b) => b.len() >= STREAMED_BYTES,
        PropValue::Unicode(s) => s.len() >= STREAMED_BYTES,
        _ => false,
    }
}

/// Writes property rows of object `obj` (each [`is_streamed`], none stored under its ID) with
/// one COPY, every value in pieces.
pub(super) fn copy_rows(
    client: &mut Client,
    store: i64,
    obj: i64,
    rows: &[PropRef],
) -> StorageResult<()> {
    let mut copy = client
        .copy_in(COPY_PROPS)
        .map_err(|e| pg_error(e, "a large value's write"))?;
    let written = (|| {
        copy.write_all(HEADER)?;
        for (tag, value) in rows {
            // Text the server takes as text (UTF-8 without NUL), anything else as bytea, as
            // the bound rows' `columns` decide.
            let (bytes, is_text) = match to_cell(value) {
                Cell::Text(b) => {
                    let text = matches!(std::str::from_utf8(&b), Ok(s) if !s.contains('\0'));
                    (b, text)
                }
                Cell::Blob(b) => (b, false),
                _ => unreachable!("only binaries and strings are streamed"),
            };
            let len = i32::try_from(bytes.len()).map_err(std::io::Error::other)?;
            copy.write_all(&FIELDS.to_be_bytes())?;
            field(&mut copy, &store.to_be_bytes())?;
            field(&mut copy, &obj.to_be_bytes())?;
            field(&mut copy, &((tag >> 16) as i32).to_be_bytes())?;
            field(&mut copy, &(*tag as i64).to_be_bytes())?;
            null(&mut copy)?; // v_int
            null(&mut copy)?; // v_real
            if !is_text {
                null(&mut copy)?; // v_text
            }
            copy.write_all(&len.to_be_bytes())?;
            for piece in bytes.chunks(PIECE) {
                copy.write_all(piece)?;
            }
            if is_text {
                null(&mut copy)?; // v_bin
            }
        }
        copy.write_all(&TRAILER.to_be_bytes())
    })();
    match written {
        Ok(()) => copy
            .finish()
            .map(|_| ())
            .map_err(|e| pg_error(e, "a large value's write")),
        // Dropping the writer unfinished aborts the COPY (and the server answers with the
        // reason, which the transaction's next statement reports).
        Err(e) => Err(match e.downcast::<postgres::Error>() {
            Ok(e) => pg_error(e, "a large value's write"),
            Err(e) => StorageError::new(
                ErrorKind::TooBig,
                format!("a large value could not be written: {e}"),
            ),
        }),
    }
}

fn field(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as i32).to_be_bytes())?;
    out.write_all(bytes)
}

fn null(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(&(-1i32).to_be_bytes())
}
