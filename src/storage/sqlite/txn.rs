//! The SQLite engine's transactions: the reads and writes of the seam (`storage::ReadTxn`,
//! `storage::WriteTxn`) as prepared statements on one connection. Every write transaction is
//! `BEGIN IMMEDIATE` (group.rs), so the row lock of `lock_object` is the file's write lock;
//! the compare-and-swap of `apply` is a conditional UPDATE all the same, so that correctness
//! does not rest on that lock.

use super::super::children::{select_sql, Dialect};
use super::super::{
    apply_children, insert_under_folder, lend, named_columns, named_from_columns,
    reject_child_target, Applied, ChangeSet, ChangeWhat, Expect, ObjectRow, PropRef, ReadTxn,
    StorageError, StorageResult, StoredProp, Target, WriteTxn, MAX_CN,
};
use super::super::{ChildQuery, ChildRow};
use super::codec::{from_sql, to_sql};
use crate::core::named::PropName;
use crate::core::value::PropValue;
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

/// One props row (tag, value) decoded by the tag's type.
fn row_to_prop(r: &rusqlite::Row) -> StorageResult<StoredProp> {
    let tag: u32 = r.get(0)?;
    Ok((tag, from_sql(tag & 0xFFFF, r.get_ref(1)?)?))
}

/// One named-property row (id, guid, kind, lid, name).
fn row_to_named(r: &rusqlite::Row) -> StorageResult<(u16, PropName)> {
    let guid: Vec<u8> = r.get(1)?;
    named_from_columns(r.get(0)?, &guid, r.get(2)?, r.get(3)?, r.get(4)?)
}

const NAMED_COLUMNS: &str = "SELECT id, guid, kind, lid, name FROM named";

/// Multi-row upserts are prepared for up to this many rows at once.
const PUT_BATCH: usize = 8;
/// Binary values at least this large are written in pieces ([`SqlTxn::write_piecewise`]).
const PIECEWISE_BYTES: usize = 1 << 20;
/// The piece an incremental BLOB write moves at once.
const PIECE: usize = 1 << 20;

fn is_piecewise((_, value): &PropRef) -> bool {
    matches!(value, PropValue::Binary(b) if b.len() >= PIECEWISE_BYTES)
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
                 ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, value = excluded.value",
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
        if props.iter().any(is_piecewise) {
            let (large, small): (Vec<&PropRef>, Vec<&PropRef>) =
                props.iter().partition(|p| is_piecewise(p));
            self.upsert_props(id, &small)?;
            for (tag, value) in large {
                self.write_piecewise(id, *tag, value)?;
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

    /// Writes a large binary value in pieces: the row is written with a zero-filled value of its
    /// length (which SQLite writes to its pages without holding it in memory), then the bytes go
    /// in through an incremental BLOB handle, [`PIECE`] at a time. Bound whole, the value would
    /// be copied by the binding (SQLITE_TRANSIENT) and again into the row's record.
    fn write_piecewise(&mut self, id: u64, tag: u32, value: &PropValue) -> StorageResult<()> {
        let PropValue::Binary(bytes) = value else {
            unreachable!("only binaries are written in pieces")
        };
        self.conn
            .prepare_cached(&UPSERT_PROPS[0])?
            .execute(params![
                id as i64,
                tag >> 16,
                tag,
                ToSqlOutput::ZeroBlob(bytes.len() as u64)
            ])?;
        let rowid: i64 = self
            .conn
            .prepare_cached("SELECT rowid FROM props WHERE obj = ?1 AND id = ?2")?
            .query_row(params![id as i64, tag >> 16], |r| r.get(0))?;
        let mut blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, c"props", c"value", rowid, false)?;
        for (i, piece) in bytes.chunks(PIECE).enumerate() {
            blob.write_at(piece, i * PIECE)?;
        }
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
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tag, value FROM props WHERE obj = ?1 ORDER BY id")?;
        let mut rows = stmt.query([id as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row_to_prop(r)?);
        }
        Ok(out)
    }

    fn prop(&mut self, id: u64, prop_id: u16) -> StorageResult<Option<StoredProp>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tag, value FROM props WHERE obj = ?1 AND id = ?2")?;
        let mut rows = stmt.query(params![id as i64, prop_id])?;
        match rows.next()? {
            Some(r) => Ok(Some(row_to_prop(r)?)),
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
            value_cols: &["value"],
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
            for i in 0..q.fetch.len() {
                if let Some(tag) = r.get::<_, Option<u32>>(1 + 2 * i)? {
                    props.push((tag, from_sql(tag & 0xFFFF, r.get_ref(2 + 2 * i)?)?));
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
            self.conn
                .prepare_cached("DELETE FROM props WHERE obj = ?1")?
                .execute([id as i64])?;
        }
        self.remove_props(id, change.deletes)?;
        self.write_props(id, &change.puts)?;
        self.write_props(id, &lend(&(change.maintained)(cn)))?;
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
            .prepare_cached("DELETE FROM objects WHERE id = ?1")?
            .execute([id as i64])?;
        Ok(())
    }

    fn put_prop_refs(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        self.touch()?;
        self.log_id(id, ChangeWhat::Modified)?;
        self.write_props(id, props)
    }

    fn delete_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()> {
        self.touch()?;
        self.log_id(id, ChangeWhat::Modified)?;
        self.remove_props(id, prop_ids)
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
