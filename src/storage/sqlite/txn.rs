//! The SQLite engine's transactions: the reads and writes of the seam (`storage::ReadTxn`,
//! `storage::WriteTxn`) as prepared statements on one connection. Every write transaction is
//! `BEGIN IMMEDIATE` (group.rs), so the row lock of `lock_object` is the file's write lock;
//! the compare-and-swap of `apply` is a conditional UPDATE all the same, so that correctness
//! does not rest on that lock.

use super::super::children::{select_sql, Dialect};
use super::super::{
    apply_children, insert_under_folder, keeps_stored, kept_ids, large_changed, lend,
    named_columns, named_from_columns, reject_child_target, Applied, ChangeSet, ChangeWhat, Expect,
    ObjectRow, PropRef, ReadTxn, StorageError, StorageResult, StoredProp, Target, WriteTxn, MAX_CN,
};
use super::super::{ChildQuery, ChildRow};
use super::codec::{from_sql, to_sql};
use crate::core::named::PropName;
use crate::core::value::{deferrable_type, LargeRef, PropValue};
use rusqlite::types::ToSqlOutput;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use std::sync::LazyLock;

/// The operations available inside a transaction on one connection.
pub(super) struct SqlTxn<'a> {
    pub(super) conn: &'a Connection,
    /// Objects whose creation or change this transaction has logged (feed.rs): a second write
    /// to one object in the same transaction is not logged again.
    logged: Vec<u64>,
    /// A compare-and-swap of this transaction found its object changed (the writers' queue
    /// keeps the place for the client's retry, queue.rs).
    pub(super) found_stale: bool,
}

impl<'a> SqlTxn<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        SqlTxn {
            conn,
            logged: Vec::new(),
            found_stale: false,
        }
    }

    /// Whether a change of `id` is still to be logged in this transaction (a deletion always
    /// is; a creation or change once), noting that it now is.
    fn first_log(&mut self, id: u64, what: ChangeWhat) -> bool {
        if what == ChangeWhat::NewMail {
            // An announcement, told each time it is made.
            return true;
        }
        if what != ChangeWhat::Deleted && self.logged.contains(&id) {
            return false;
        }
        self.logged.push(id);
        true
    }

    /// Logs a change to `row`'s object unless a creation or change of it is logged already.
    fn log(&mut self, row: &ObjectRow, what: ChangeWhat) -> StorageResult<()> {
        if !self.first_log(row.id, what) {
            return Ok(());
        }
        super::feed::log_change(self.conn, row, what)
    }

    /// As [`Self::log`], for an object known by its ID only.
    fn log_id(&mut self, id: u64, what: ChangeWhat) -> StorageResult<()> {
        if !self.first_log(id, what) {
            return Ok(());
        }
        super::feed::log_change_of(self.conn, id, what)
    }
}

/// Runs a statement prepared once (transaction control is parsed on every call otherwise).
pub(super) fn step(conn: &Connection, sql: &str) -> StorageResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs `f` between `begin` and COMMIT, rolling back when it fails or panics. The control
/// statements are prepared once (rusqlite's `Transaction` parses them on every call, a fifth of a
/// small save's CPU time).
pub(super) fn in_transaction(
    conn: &Connection,
    begin: &str,
    f: &mut dyn FnMut(&Connection) -> StorageResult<()>,
) -> StorageResult<()> {
    /// Rolls back unless the transaction was committed (also when `f` unwinds).
    struct Open<'c>(&'c Connection, bool);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if !self.1 {
                // A failed rollback leaves nothing to do: SQLite rolls back on its own when
                // the statement that failed was fatal to the transaction.
                let _ = step(self.0, "ROLLBACK");
            }
        }
    }
    step(conn, begin)?;
    let mut open = Open(conn, false);
    f(conn)?;
    step(conn, "COMMIT")?;
    open.1 = true;
    Ok(())
}

/// One objects row, range-checked: a value no store writes (a negative or 49-bit change number,
/// a kind or flags beyond 32 bits) is damage, reported rather than truncated into a made-up
/// value.
/// Rows sorted by ID here rather than by an ORDER BY: SQLite opens a sorter for one even when
/// the index returns the rows in that order already, ~7 µs per query with no row at all, which
/// doubled the cost of opening a message (two child queries).
fn in_id_order(mut rows: Vec<ObjectRow>) -> Vec<ObjectRow> {
    rows.sort_unstable_by_key(|r| r.id);
    rows
}

fn row_to_object(r: &rusqlite::Row) -> rusqlite::Result<ObjectRow> {
    let cn = r.get::<_, i64>(3)?;
    if !(0..=MAX_CN as i64).contains(&cn) {
        return Err(rusqlite::Error::IntegralValueOutOfRange(3, cn));
    }
    Ok(ObjectRow {
        id: r.get::<_, i64>(0)? as u64,
        kind: r.get::<_, u32>(1)?,
        parent: r.get::<_, Option<i64>>(2)?.map(|p| p as u64),
        cn: cn as u64,
        flags: r.get::<_, u32>(4)?,
    })
}

/// Reads props rows as (tag, value, big).
const PROP_COLUMNS: &str = "SELECT tag, value, big FROM props";

/// Reads an object's props rows in property ID order (every open of a message runs it).
pub(super) const PROPS_OF_OBJECT: &str =
    "SELECT tag, value, big FROM props WHERE obj = ?1 ORDER BY id";

/// One props row (tag, value, big) decoded by the tag's type.
fn row_to_prop(conn: &Connection, r: &rusqlite::Row) -> StorageResult<StoredProp> {
    let tag: u32 = r.get(0)?;
    Ok((tag, value_at(conn, r, tag, 1)?))
}

/// The value (of `tag`'s type) in the props columns `value` and `big` at `at` and `at + 1` of
/// `r`: a large value read from its own row, by a query of its own rather than a subquery in
/// `r`'s (whose result SQLite would copy once more: a 100 MiB value read back held 4× its size
/// at the peak instead of 3×).
fn value_at(conn: &Connection, r: &rusqlite::Row, tag: u32, at: usize) -> StorageResult<PropValue> {
    let Some(big) = r.get::<_, Option<i64>>(at + 1)? else {
        return from_sql(tag & 0xFFFF, r.get_ref(at)?);
    };
    let mut stmt = conn.prepare_cached("SELECT value FROM big_values WHERE id = ?1")?;
    let mut rows = stmt.query([big])?;
    let row = rows.next()?.ok_or_else(|| {
        StorageError::corrupt(format!("the large value {big} of a property is missing"))
    })?;
    from_sql(tag & 0xFFFF, row.get_ref(0)?)
}

/// One named-property row (id, guid, kind, lid, name).
fn row_to_named(r: &rusqlite::Row) -> StorageResult<(u16, PropName)> {
    let guid: Vec<u8> = r.get(1)?;
    named_from_columns(r.get(0)?, &guid, r.get(2)?, r.get(3)?, r.get(4)?)
}

const NAMED_COLUMNS: &str = "SELECT id, guid, kind, lid, name FROM named";

/// Multi-row upserts are prepared for up to this many rows at once.
const PUT_BATCH: usize = 8;
/// Values whose stored bytes are at least this many are kept in `big_values`, not in their
/// clustered props row (schema.rs, `PROPS_TABLE`). With 4 KiB pages the largest record SQLite
/// keeps whole in a leaf cell of a WITHOUT ROWID table is 1,002 bytes; a row up to this size
/// (value, key and header) stays there, and an interior cell copied from one stays small.
pub(super) const LARGE_VALUE_BYTES: usize = 960;
/// Binary values at least this large are written in pieces ([`SqlTxn::write_large`]).
const PIECEWISE_BYTES: usize = 1 << 20;
/// The piece an incremental BLOB write moves at once.
const PIECE: usize = 1 << 20;

/// About the bytes `value` takes in its SQL column (exactly, but for multi-valued ones, whose
/// encoding adds a few bytes per item).
fn stored_len(value: &PropValue) -> usize {
    use PropValue::*;
    match value {
        String8(b) | Binary(b) => b.len(),
        Unicode(s) => s.len(),
        MvString8(v) | MvBinary(v) => v.iter().map(Vec::len).sum(),
        MvUnicode(v) => v.iter().map(String::len).sum(),
        other => other.payload_size(),
    }
}

fn is_large((_, value): &PropRef) -> bool {
    stored_len(value) >= LARGE_VALUE_BYTES
}

/// `UPSERT_PROPS[n - 1]` writes n property rows in one statement.
static UPSERT_PROPS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (1..=PUT_BATCH)
        .map(|n| {
            let rows: Vec<String> = (0..n)
                .map(|i| {
                    let b = i * 4;
                    format!("(?{}, ?{}, ?{}, ?{})", b + 1, b + 2, b + 3, b + 4)
                })
                .collect();
            format!(
                "INSERT INTO props(obj, id, tag, value) VALUES {} \
                 ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, value = excluded.value, \
                 big = NULL",
                rows.join(", ")
            )
        })
        .collect()
});

impl SqlTxn<'_> {
    /// Moves the change stamp for a write that takes no change number of its own (a deletion,
    /// a folder's property write): a change number is used up, so that an open table sees it.
    fn touch(&self) -> StorageResult<()> {
        self.take_counter("next_cn", MAX_CN).map(|_| ())
    }

    pub(super) fn write_props(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        if props.iter().any(is_large) {
            let (large, small): (Vec<&PropRef>, Vec<&PropRef>) =
                props.iter().partition(|p| is_large(p));
            self.upsert_props(id, &small)?;
            for (tag, value) in large {
                match value {
                    // The property's own stored value, left in the store: kept as it is.
                    v if keeps_stored(id, (tag >> 16) as u16, v) => {}
                    PropValue::Large(at) => self.copy_large(id, *tag, at)?,
                    _ => self.write_large(id, *tag, value)?,
                }
            }
            return Ok(());
        }
        self.upsert_props(id, props)
    }

    /// Upserts property rows, [`PUT_BATCH`] to a statement (owned or lent rows: no copy).
    fn upsert_props<'v, P: std::borrow::Borrow<PropRef<'v>>>(
        &self,
        id: u64,
        props: &[P],
    ) -> StorageResult<()> {
        for chunk in props.chunks(PUT_BATCH) {
            let params = chunk.iter().map(P::borrow).flat_map(|(tag, value)| {
                [
                    ToSqlOutput::from(id as i64),
                    ToSqlOutput::from(tag >> 16),
                    ToSqlOutput::from(*tag),
                    to_sql(value),
                ]
            });
            self.conn
                .prepare_cached(&UPSERT_PROPS[chunk.len() - 1])?
                .execute(params_from_iter(params))?;
        }
        Ok(())
    }

    /// Writes a large value into its own `big_values` row and points the property's row at it
    /// (the row it replaces, if any, is left to [`Self::drop_unnamed_values`]). A binary of
    /// [`PIECEWISE_BYTES`] or more is written in pieces: the row is written with a zero-filled
    /// value of its length (which SQLite writes to its pages without holding it in memory), then
    /// the bytes go in through an incremental BLOB handle, [`PIECE`] at a time. Bound whole, the
    /// value would be copied by the binding (SQLITE_TRANSIENT) and again into the row's record.
    fn write_large(&mut self, id: u64, tag: u32, value: &PropValue) -> StorageResult<()> {
        let piecewise = match value {
            PropValue::Binary(bytes) if bytes.len() >= PIECEWISE_BYTES => Some(bytes),
            _ => None,
        };
        let big = self.next_big_id()?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT INTO big_values(id, obj, value) VALUES (?1, ?2, ?3)")?;
        match piecewise {
            Some(bytes) => insert.execute(params![
                big,
                id as i64,
                ToSqlOutput::ZeroBlob(bytes.len() as u64)
            ])?,
            None => insert.execute(params![big, id as i64, to_sql(value)])?,
        };
        if let Some(bytes) = piecewise {
            let mut blob =
                self.conn
                    .blob_open(rusqlite::MAIN_DB, c"big_values", c"value", big, false)?;
            for (i, piece) in bytes.chunks(PIECE).enumerate() {
                blob.write_at(piece, i * PIECE)?;
            }
        }
        self.name_big(id, tag, big)
    }

    /// Points `id`'s property `tag` at the `big_values` row `big`.
    fn name_big(&self, id: u64, tag: u32, big: i64) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO props(obj, id, tag, value, big) VALUES (?1, ?2, ?3, NULL, ?4) \
                 ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, value = NULL, \
                 big = excluded.big",
            )?
            .execute(params![id as i64, tag >> 16, tag, big])?;
        Ok(())
    }

    /// A `big_values` ID, from a counter (as object IDs are): an ID once given names those
    /// bytes or nothing, so a reader holding one (`PropValue::Large`) can never find another
    /// value under it, even after the newest row is deleted. A store written before the
    /// counter existed starts it past its largest row.
    fn next_big_id(&self) -> StorageResult<i64> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO meta(key, value) \
                 SELECT 'next_big', coalesce(max(id), 0) + 1 FROM big_values",
            )?
            .execute([])?;
        Ok(self.take_counter("next_big", i64::MAX as u64)? as i64)
    }

    /// Copies a value left in the store (another object's, or another property's) into `id`'s
    /// property `tag`: SQLite copies the row's bytes; a version no longer stored is
    /// `ErrorKind::Changed`.
    fn copy_large(&mut self, id: u64, tag: u32, at: &LargeRef) -> StorageResult<()> {
        let big = self.next_big_id()?;
        let copied = self
            .conn
            .prepare_cached(
                "INSERT INTO big_values(id, obj, value) \
                 SELECT ?1, ?2, value FROM big_values WHERE id = ?3 AND obj = ?4",
            )?
            .execute(params![big, id as i64, at.version, at.obj as i64])?;
        if copied != 1 {
            return Err(large_changed(at));
        }
        self.name_big(id, tag, big)
    }

    /// Deletes `id`'s large values that no property row names any longer (replaced, removed):
    /// one probe of an empty index range for an object that has none.
    fn drop_unnamed_values(&self, id: u64) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM big_values WHERE obj = ?1 AND NOT EXISTS \
                 (SELECT 1 FROM props p WHERE p.obj = ?1 AND p.big = big_values.id)",
            )?
            .execute([id as i64])?;
        Ok(())
    }

    pub(super) fn remove_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()> {
        for pid in prop_ids {
            self.conn
                .prepare_cached("DELETE FROM props WHERE obj = ?1 AND id = ?2")?
                .execute(params![id as i64, pid])?;
        }
        Ok(())
    }

    /// Reads and bumps a counter of the meta table (the caller holds the write lock).
    fn take_counter(&self, key: &str, max: u64) -> StorageResult<u64> {
        // A read then a write: RETURNING would cost SQLite an ephemeral table on every save.
        let value: i64 = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))?;
        let value = value as u64;
        if value == 0 || value > max {
            return Err(StorageError::corrupt(format!("{key} {value} out of range")));
        }
        self.conn
            .prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")?
            .execute(params![key, value as i64 + 1])?;
        Ok(value)
    }
}

impl ReadTxn for SqlTxn<'_> {
    fn object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, kind, parent, cn, flags FROM objects WHERE id = ?1")?
            .query_row([id as i64], row_to_object)
            .optional()?)
    }

    fn children(&mut self, parent: u64, kind: u32) -> StorageResult<Vec<ObjectRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, parent, cn, flags FROM objects WHERE parent = ?1 AND kind = ?2",
        )?;
        let rows = stmt.query_map(params![parent as i64, kind], row_to_object)?;
        Ok(in_id_order(rows.collect::<Result<_, _>>()?))
    }

    fn children_of_kinds(&mut self, parent: u64, kinds: &[u32]) -> StorageResult<Vec<ObjectRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, parent, cn, flags FROM objects WHERE parent = ?1")?;
        let rows = stmt.query_map(params![parent as i64], row_to_object)?;
        let mut of_kinds = Vec::new();
        for row in rows {
            let row = row?;
            if kinds.contains(&row.kind) {
                of_kinds.push(row);
            }
        }
        Ok(in_id_order(of_kinds))
    }

    fn count_children(
        &mut self,
        parent: u64,
        kind: u32,
        mask: u32,
        flags: u32,
    ) -> StorageResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM objects WHERE parent = ?1 AND kind = ?2 AND (flags & ?3) = ?4",
            )?
            .query_row(params![parent as i64, kind, mask, flags], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn props(&mut self, id: u64) -> StorageResult<Vec<StoredProp>> {
        // Nothing is longer than u64::MAX bytes: every value is read.
        self.props_deferring(id, u64::MAX)
    }

    fn props_deferring(&mut self, id: u64, above: u64) -> StorageResult<Vec<StoredProp>> {
        let mut stmt = self.conn.prepare_cached(PROPS_OF_OBJECT)?;
        let mut rows = stmt.query([id as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let tag: u32 = r.get(0)?;
            let deferrable = above < u64::MAX && deferrable_type(tag & 0xFFFF);
            if let (Some(big), true) = (r.get::<_, Option<i64>>(2)?, deferrable) {
                // The length from the record header: the value's pages are not read.
                let len: i64 = self
                    .conn
                    .prepare_cached("SELECT octet_length(value) FROM big_values WHERE id = ?1")?
                    .query_row([big], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| {
                        StorageError::corrupt(format!(
                            "the large value {big} of a property is missing"
                        ))
                    })?;
                if len as u64 > above {
                    let at = LargeRef {
                        ptype: tag & 0xFFFF,
                        len: len as u64,
                        obj: id,
                        prop: (tag >> 16) as u16,
                        version: big,
                    };
                    out.push((tag, PropValue::Large(Box::new(at))));
                    continue;
                }
            }
            out.push(row_to_prop(self.conn, r)?);
        }
        Ok(out)
    }

    fn read_large(&mut self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> StorageResult<usize> {
        // A row exists only while a property names it (rows are deleted by the write that
        // unnames them) and its ID is never given again: found means unchanged.
        let owner: Option<i64> = self
            .conn
            .prepare_cached("SELECT obj FROM big_values WHERE id = ?1")?
            .query_row([at.version], |r| r.get(0))
            .optional()?;
        if owner != Some(at.obj as i64) {
            return Err(large_changed(at));
        }
        let blob =
            self.conn
                .blob_open(rusqlite::MAIN_DB, c"big_values", c"value", at.version, true)?;
        match usize::try_from(offset) {
            Ok(start) if start < blob.len() => Ok(blob.read_at(buf, start)?),
            _ => Ok(0),
        }
    }

    fn prop(&mut self, id: u64, prop_id: u16) -> StorageResult<Option<StoredProp>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{PROP_COLUMNS} WHERE obj = ?1 AND id = ?2"))?;
        let mut rows = stmt.query(params![id as i64, prop_id])?;
        match rows.next()? {
            Some(r) => Ok(Some(row_to_prop(self.conn, r)?)),
            None => Ok(None),
        }
    }

    fn named_id(&mut self, name: &PropName) -> StorageResult<Option<u16>> {
        let (kind, lid, text) = named_columns(name);
        let id: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM named WHERE guid = ?1 AND kind = ?2 AND lid = ?3 AND name = ?4",
            )?
            .query_row(params![&name.guid[..], kind, lid, text], |r| r.get(0))
            .optional()?;
        id.map(|id| {
            u16::try_from(id)
                .map_err(|_| StorageError::corrupt(format!("named-property ID {id} out of range")))
        })
        .transpose()
    }

    fn named_name(&mut self, id: u16) -> StorageResult<Option<PropName>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{NAMED_COLUMNS} WHERE id = ?1"))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(row_to_named(r)?.1)),
            None => Ok(None),
        }
    }

    fn named_all(&mut self) -> StorageResult<Vec<(u16, PropName)>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{NAMED_COLUMNS} ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row_to_named(r)?);
        }
        Ok(out)
    }

    fn select_children(&mut self, q: &ChildQuery) -> StorageResult<Vec<ChildRow>> {
        const SQLITE: Dialect = Dialect {
            objects: "objects",
            props: "props",
            same_store: "",
            store_cond: "",
            // `big` names a large value's row in `big_values` (schema.rs).
            value_cols: &["value", "big"],
            int_col: "value",
            params: ["?1", "?2", "?3", "?4"],
        };
        // Cached: a table asks the same question again at every change it sees.
        let mut stmt = self.conn.prepare_cached(&select_sql(q, &SQLITE))?;
        let mut rows = stmt.query(params![q.parent as i64, q.kind, q.mask, q.flags])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id = r.get::<_, i64>(0)? as u64;
            let mut props = Vec::with_capacity(q.fetch.len());
            // Each fetched property is three columns: tag, value, big.
            for i in 0..q.fetch.len() {
                if let Some(tag) = r.get::<_, Option<u32>>(1 + 3 * i)? {
                    props.push((tag, value_at(self.conn, r, tag, 2 + 3 * i)?));
                }
            }
            out.push((id, props));
        }
        Ok(out)
    }

    fn named_max_id(&mut self) -> StorageResult<Option<u16>> {
        let max: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(id) FROM named")?
            .query_row([], |r| r.get(0))?;
        max.map(|id| {
            u16::try_from(id)
                .map_err(|_| StorageError::corrupt(format!("named-property ID {id} out of range")))
        })
        .transpose()
    }

    fn change_stamp(&mut self) -> StorageResult<u64> {
        let value: i64 = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'next_cn'")?
            .query_row([], |r| r.get(0))?;
        Ok(value as u64)
    }
}

impl WriteTxn for SqlTxn<'_> {
    /// Every write transaction holds the file's write lock from its start (BEGIN IMMEDIATE):
    /// the object is locked by then.
    fn lock_object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        self.object(id)
    }

    fn apply(&mut self, change: &ChangeSet) -> StorageResult<Applied> {
        let (id, cn) = match change.target {
            Target::Existing {
                id,
                expect: Expect::Cn(base),
            } => {
                let locked = match self.lock_object(id)? {
                    None => return Ok(Applied::Gone),
                    Some(row) if row.cn != base => {
                        self.found_stale = true;
                        return Ok(Applied::Stale { stored_cn: row.cn });
                    }
                    Some(row) => row,
                };
                let cn = self.alloc_cn()?;
                // The compare-and-swap itself: written only where the stored CN is the base.
                let swapped = self
                    .conn
                    .prepare_cached("UPDATE objects SET cn = ?3 WHERE id = ?1 AND cn = ?2")?
                    .execute(params![id as i64, base as i64, cn as i64])?;
                if swapped != 1 {
                    return Err(StorageError::new(
                        super::super::ErrorKind::Busy,
                        "the object changed under its lock (another writer without the lock)",
                    ));
                }
                self.log(&locked, ChangeWhat::Modified)?;
                (id, cn)
            }
            Target::New {
                parent,
                kind,
                flags,
            } => match insert_under_folder(self, parent, kind, flags)? {
                Some(new) => new,
                None => return Ok(Applied::Gone),
            },
            Target::NewChild { .. } | Target::Child { .. } | Target::DeletedChild { .. } => {
                return reject_child_target()
            }
        };
        if change.replace_all {
            let kept = kept_ids(id, &change.puts);
            if kept.is_empty() {
                self.conn
                    .prepare_cached("DELETE FROM props WHERE obj = ?1")?
                    .execute([id as i64])?;
            } else {
                let stored: Vec<u16> = self
                    .conn
                    .prepare_cached("SELECT id FROM props WHERE obj = ?1")?
                    .query_map([id as i64], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let others: Vec<u16> = stored.into_iter().filter(|p| !kept.contains(p)).collect();
                self.remove_props(id, &others)?;
            }
        }
        self.remove_props(id, change.deletes)?;
        self.write_props(id, &change.puts)?;
        self.write_props(id, &lend(&(change.maintained)(cn)))?;
        self.drop_unnamed_values(id)?;
        apply_children(self, id, cn, &change.children)?;
        Ok(Applied::Committed { id, cn })
    }

    fn alloc_cn(&mut self) -> StorageResult<u64> {
        self.take_counter("next_cn", MAX_CN)
    }

    fn insert_object(&mut self, kind: u32, parent: u64, cn: u64, flags: u32) -> StorageResult<u64> {
        // IDs come from a counter, never from the largest ID in use: an ID once given names
        // that object or nothing, even after the newest object is deleted.
        let id = self.take_counter("next_id", i64::MAX as u64)?;
        self.conn
            .prepare_cached(
                "INSERT INTO objects(id, kind, parent, cn, flags) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id as i64, kind, parent as i64, cn as i64, flags])?;
        let row = ObjectRow {
            id,
            kind,
            parent: Some(parent),
            cn,
            flags,
        };
        self.log(&row, ChangeWhat::Created)?;
        Ok(id)
    }

    fn delete_object(&mut self, id: u64) -> StorageResult<()> {
        self.touch()?;
        self.log_id(id, ChangeWhat::Deleted)?;
        self.conn
            .prepare_cached("DELETE FROM props WHERE obj = ?1")?
            .execute([id as i64])?;
        self.conn
            .prepare_cached("DELETE FROM big_values WHERE obj = ?1")?
            .execute([id as i64])?;
        self.conn
            .prepare_cached("DELETE FROM objects WHERE id = ?1")?
            .execute([id as i64])?;
        Ok(())
    }

    fn put_prop_refs(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        self.touch()?;
        self.log_id(id, ChangeWhat::Modified)?;
        self.write_props(id, props)?;
        self.drop_unnamed_values(id)
    }

    fn delete_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()> {
        self.touch()?;
        self.log_id(id, ChangeWhat::Modified)?;
        self.remove_props(id, prop_ids)?;
        self.drop_unnamed_values(id)
    }

    fn set_parent(&mut self, id: u64, parent: u64) -> StorageResult<()> {
        // No change number of its own (the object's version is unchanged), but open tables of
        // both folders must see it.
        self.touch()?;
        let moved = self
            .conn
            .prepare_cached("UPDATE objects SET parent = ?2 WHERE id = ?1")?
            .execute(params![id as i64, parent as i64])?;
        if moved != 1 {
            return Err(StorageError::corrupt(format!(
                "object {id} to move is gone"
            )));
        }
        // Other processes learn of a move as a change of the object in its new folder.
        self.log_id(id, ChangeWhat::Modified)
    }

    fn log_new_mail(&mut self, id: u64) -> StorageResult<()> {
        self.log_id(id, ChangeWhat::NewMail)
    }

    fn named_insert(&mut self, id: u16, name: &PropName) -> StorageResult<bool> {
        let (kind, lid, text) = named_columns(name);
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO named(id, guid, kind, lid, name) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![id, &name.guid[..], kind, lid, text])?;
        Ok(inserted == 1)
    }
}
