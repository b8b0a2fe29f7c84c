//! The PostgreSQL engine's transactions: the seam's reads and writes as prepared statements on
//! one pooled connection, inside a transaction the engine began (READ COMMITTED for writes).
//! What a write compares is locked or conditional in SQL: `lock_object` is `SELECT … FOR
//! UPDATE`, and a save's compare-and-swap is one conditional UPDATE that also takes the new
//! change number (`nextval` runs only for the row that matched), so two hosts saving at once can
//! never both win.

use super::super::children::{select_sql, Dialect};
use super::super::typed::{from_cell, to_cell, Cell};
use super::super::{
    apply_children, insert_under_folder, keeps_stored, kept_ids, large_changed, logged_kind,
    named_columns, named_from_columns, reject_child_target, Applied, ChangeRecord, ChangeSet,
    ChangeWhat, Expect, ObjectRow, PropRef, ReadTxn, StorageError, StorageResult, StoredProp,
    Target, WriteTxn, MAX_CN,
};
use super::super::{ChildQuery, ChildRow};
use super::copy_in::{copy_rows, is_streamed};
use super::pg_error;
use super::pool::Conn;
use crate::core::mapidefs::*;
use crate::core::named::PropName;
use crate::core::value::{LargeRef, PropValue};
use postgres::types::ToSql;
use postgres::Row;
use std::borrow::Cow;

pub(super) struct PgTxn<'a> {
    pub(super) conn: &'a mut Conn,
    pub(super) store: i64,
    /// Something was written: the commit records a token.
    pub(super) wrote: bool,
    /// A statement failed with a serialization failure or deadlock: the transaction must be run
    /// again, whatever error the body made of it (core turns storage errors into its own).
    pub(super) must_retry: bool,
    /// What the commit announces to listeners (feed.rs): changes whose object is known here,
    /// and objects whose properties were written directly (looked up when announced).
    pub(super) changes: Vec<ChangeRecord>,
    pub(super) touched: Vec<u64>,
}

const OBJECT: &str = "SELECT id, kind, parent, cn, flags FROM msgstore_objects \
                      WHERE store = $1 AND id = $2";
const LOCK_OBJECT: &str = "SELECT id, kind, parent, cn, flags FROM msgstore_objects \
                           WHERE store = $1 AND id = $2 FOR UPDATE";
const CHILDREN: &str = "SELECT id, kind, parent, cn, flags FROM msgstore_objects \
                        WHERE store = $1 AND parent = $2 AND kind = $3 ORDER BY id";
const CHILDREN_OF_KINDS: &str = "SELECT id, kind, parent, cn, flags FROM msgstore_objects \
                                 WHERE store = $1 AND parent = $2 AND kind = ANY($3) ORDER BY id";
const COUNT_CHILDREN: &str = "SELECT count(*) FROM msgstore_objects \
                              WHERE store = $1 AND parent = $2 AND kind = $3 AND (flags & $4) = $5";
const PROPS: &str = "SELECT tag, v_int, v_real, v_text, v_bin FROM msgstore_props \
                     WHERE store = $1 AND obj = $2 ORDER BY id";
const PROP: &str = "SELECT tag, v_int, v_real, v_text, v_bin FROM msgstore_props \
                    WHERE store = $1 AND obj = $2 AND id = $3";
/// As PROPS, but a PT_BINARY or PT_STRING8 value in `v_bin` longer than $3 is left in the
/// store: its bytes NULL, its length and version (the `xmin` of its row: the transaction that
/// wrote it; any rewrite of the row moves it) in two more columns. `octet_length` reads the
/// TOAST header only.
const PROPS_DEFERRING: &str = "SELECT tag, v_int, v_real, v_text, \
     CASE WHEN deferred THEN NULL ELSE v_bin END, \
     CASE WHEN deferred THEN octet_length(v_bin) END, xmin::text::bigint \
     FROM (SELECT *, octet_length(v_bin) > $3::bigint AND (tag & 65535) IN (258, 30) AS deferred, xmin \
           FROM msgstore_props WHERE store = $1 AND obj = $2) p ORDER BY id";
/// A piece of a value left in the store, if its row is the version read.
const READ_LARGE: &str = "SELECT substring(v_bin FROM $4 FOR $5) FROM msgstore_props \
     WHERE store = $1 AND obj = $2 AND id = $3 AND xmin::text::bigint = $6";
/// Copies a value left in the store into another property (another object's, or another ID),
/// if its row is still the version read: PostgreSQL copies the bytes.
const COPY_LARGE: &str = "INSERT INTO msgstore_props(store, obj, id, tag, v_bin) \
     SELECT $1, $2, $3, $4, v_bin FROM msgstore_props \
     WHERE store = $1 AND obj = $5 AND id = $6 AND xmin::text::bigint = $7 \
     ON CONFLICT (store, obj, id) DO UPDATE SET tag = excluded.tag, v_int = NULL, \
     v_real = NULL, v_text = NULL, v_bin = excluded.v_bin";
const DELETE_PROPS_BUT: &str =
    "DELETE FROM msgstore_props WHERE store = $1 AND obj = $2 AND NOT (id = ANY($3))";
const SWAP: &str = "UPDATE msgstore_objects SET cn = nextval('msgstore_cn') \
                    WHERE store = $1 AND id = $2 AND cn = $3 RETURNING cn, kind, parent";
const ALLOC_CN: &str = "SELECT nextval('msgstore_cn')";
const NEW_ID: &str = "SELECT nextval('msgstore_object_id')";
const INSERT_OBJECT: &str = "INSERT INTO msgstore_objects(store, id, kind, parent, cn, flags) \
                             VALUES ($1, $2, $3, $4, $5, $6)";
const DELETE_OBJECT_PROPS: &str = "DELETE FROM msgstore_props WHERE store = $1 AND obj = $2";
const SET_PARENT: &str =
    "UPDATE msgstore_objects SET parent = $3 WHERE store = $1 AND id = $2 RETURNING kind";
const DELETE_OBJECT: &str =
    "DELETE FROM msgstore_objects WHERE store = $1 AND id = $2 RETURNING kind, parent";
const DELETE_PROPS: &str =
    "DELETE FROM msgstore_props WHERE store = $1 AND obj = $2 AND id = ANY($3)";
const UPSERT_PROPS: &str = "INSERT INTO msgstore_props(store, obj, id, tag, v_int, v_real, v_text, v_bin) \
     SELECT $1, $2, * FROM unnest($3::int4[], $4::int8[], $5::int8[], $6::float8[], $7::text[], $8::bytea[]) \
     ON CONFLICT (store, obj, id) DO UPDATE SET tag = excluded.tag, v_int = excluded.v_int, \
     v_real = excluded.v_real, v_text = excluded.v_text, v_bin = excluded.v_bin";

const NAMED_ID: &str = "SELECT id FROM msgstore_named \
                        WHERE store = $1 AND guid = $2 AND kind = $3 AND lid = $4 AND name = $5";
const NAMED_NAME: &str = "SELECT id, guid, kind, lid, name FROM msgstore_named \
                          WHERE store = $1 AND id = $2";
const NAMED_ALL: &str = "SELECT id, guid, kind, lid, name FROM msgstore_named \
                         WHERE store = $1 ORDER BY id";
const NAMED_MAX: &str = "SELECT max(id) FROM msgstore_named WHERE store = $1";
/// A concurrent insert of the same name or ID makes this one wait for it and then do nothing
/// (the transaction stays usable: no unique-violation error aborts it).
const NAMED_INSERT: &str = "INSERT INTO msgstore_named(store, id, guid, kind, lid, name) \
                            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

fn row_to_named(r: &Row) -> StorageResult<(u16, PropName)> {
    let guid: Vec<u8> = r.get(1);
    named_from_columns(
        i64::from(r.get::<_, i32>(0)),
        &guid,
        i64::from(r.get::<_, i32>(2)),
        i64::from(r.get::<_, i32>(3)),
        r.get(4),
    )
}

fn named_id_in_range(id: i32) -> StorageResult<u16> {
    u16::try_from(id)
        .map_err(|_| StorageError::corrupt(format!("named-property ID {id} out of range")))
}

fn row_to_object(r: &Row) -> StorageResult<ObjectRow> {
    let cn: i64 = r.get(3);
    if !(0..=MAX_CN as i64).contains(&cn) {
        return Err(StorageError::corrupt(format!(
            "change number {cn} out of range"
        )));
    }
    Ok(ObjectRow {
        id: r.get::<_, i64>(0) as u64,
        kind: r.get::<_, i32>(1) as u32,
        parent: r.get::<_, Option<i64>>(2).map(|p| p as u64),
        cn: cn as u64,
        flags: r.get::<_, i32>(4) as u32,
    })
}

/// A value's columns: one of them holds its cell (`storage/typed.rs`), borrowing the value's
/// bytes where the cell does (a large binary is not copied before the statement encodes it).
#[derive(Default)]
struct Columns<'a> {
    int: Option<i64>,
    real: Option<f64>,
    text: Option<Cow<'a, str>>,
    bin: Option<Cow<'a, [u8]>>,
}

fn columns(v: &PropValue) -> Columns<'_> {
    let mut c = Columns::default();
    match to_cell(v) {
        Cell::Null => {}
        Cell::Int(i) => c.int = Some(i),
        Cell::Real(f) => c.real = Some(f),
        // PostgreSQL text is UTF-8 without NUL: any other string is kept byte for byte in
        // v_bin (and read back as text: its type says it is a string).
        Cell::Text(b) => {
            let is_text = matches!(std::str::from_utf8(&b), Ok(s) if !s.contains('\0'));
            match b {
                Cow::Borrowed(b) if is_text => {
                    c.text = Some(Cow::Borrowed(std::str::from_utf8(b).expect("checked")))
                }
                Cow::Owned(b) if is_text => {
                    c.text = Some(Cow::Owned(String::from_utf8(b).expect("checked")))
                }
                b => c.bin = Some(b),
            }
        }
        Cell::Blob(b) => c.bin = Some(b),
    }
    c
}

fn row_to_prop(r: &Row) -> StorageResult<StoredProp> {
    prop_at(r, 0)
}

/// The property whose tag and four value columns start at column `base`.
fn prop_at(r: &Row, base: usize) -> StorageResult<StoredProp> {
    let tag: i64 = r.get(base);
    let tag =
        u32::try_from(tag).map_err(|_| StorageError::corrupt(format!("tag {tag} out of range")))?;
    let ptype = tag & 0xFFFF;
    let is_string = matches!(ptype, PT_STRING8 | PT_UNICODE);
    let cell = match (
        r.get::<_, Option<i64>>(base + 1),
        r.get::<_, Option<f64>>(base + 2),
        r.get::<_, Option<String>>(base + 3),
        r.get::<_, Option<Vec<u8>>>(base + 4),
    ) {
        (Some(i), None, None, None) => Cell::Int(i),
        (None, Some(f), None, None) => Cell::Real(f),
        (None, None, Some(t), None) => Cell::Text(t.into_bytes().into()),
        (None, None, None, Some(b)) if is_string => Cell::Text(b.into()),
        (None, None, None, Some(b)) => Cell::Blob(b.into()),
        _ => Cell::Null,
    };
    Ok((tag, from_cell(ptype, cell)?))
}

impl PgTxn<'_> {
    /// Writes property rows in one statement (values borrowed), the large ones with COPY in
    /// pieces (copy_in.rs).
    fn put_rows(&mut self, id: u64, props: &[(u32, &PropValue)]) -> StorageResult<()> {
        if props.iter().any(|(_, v)| v.is_large()) {
            let mut rest = Vec::with_capacity(props.len());
            for &(tag, v) in props {
                match v {
                    // The property's own stored value, left in the store: kept as it is.
                    v if keeps_stored(id, (tag >> 16) as u16, v) => {}
                    PropValue::Large(at) => self.copy_large(id, tag, at)?,
                    v => rest.push((tag, v)),
                }
            }
            return self.put_rows(id, &rest);
        }
        if props.iter().any(|(_, v)| is_streamed(v)) {
            let (large, small): (Vec<PropRef>, Vec<PropRef>) =
                props.iter().partition(|(_, v)| is_streamed(v));
            self.upsert_rows(id, &small)?;
            let ids: Vec<i32> = large.iter().map(|(tag, _)| (tag >> 16) as i32).collect();
            let store = self.store;
            self.execute(DELETE_PROPS, &[&store, &(id as i64), &ids])?;
            let copied = copy_rows(&mut self.conn.client, store, id as i64, &large);
            return copied.map_err(|e| self.failed(e));
        }
        self.upsert_rows(id, props)
    }

    /// Copies a value left in the store into `id`'s property `tag`; a version no longer stored
    /// is `ErrorKind::Changed`.
    fn copy_large(&mut self, id: u64, tag: u32, at: &LargeRef) -> StorageResult<()> {
        let store = self.store;
        let copied = self.execute(
            COPY_LARGE,
            &[
                &store,
                &(id as i64),
                &((tag >> 16) as i32),
                &(tag as i64),
                &(at.obj as i64),
                &(at.prop as i32),
                &at.version,
            ],
        )?;
        if copied != 1 {
            return Err(large_changed(at));
        }
        Ok(())
    }

    /// Upserts property rows in one statement (values borrowed: encoded once, by the
    /// statement).
    fn upsert_rows(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        if props.is_empty() {
            return Ok(());
        }
        let cols: Vec<Columns> = props.iter().map(|(_, v)| columns(v)).collect();
        let ids: Vec<i32> = props.iter().map(|(tag, _)| (tag >> 16) as i32).collect();
        let tags: Vec<i64> = props.iter().map(|(tag, _)| *tag as i64).collect();
        let ints: Vec<Option<i64>> = cols.iter().map(|c| c.int).collect();
        let reals: Vec<Option<f64>> = cols.iter().map(|c| c.real).collect();
        let texts: Vec<Option<&str>> = cols.iter().map(|c| c.text.as_deref()).collect();
        let bins: Vec<Option<&[u8]>> = cols.iter().map(|c| c.bin.as_deref()).collect();
        let store = self.store;
        self.execute(
            UPSERT_PROPS,
            &[
                &store,
                &(id as i64),
                &ids,
                &tags,
                &ints,
                &reals,
                &texts,
                &bins,
            ],
        )?;
        Ok(())
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StorageResult<Vec<Row>> {
        let stmt = self.conn.prepared(sql)?;
        let result = self.conn.client.query(&stmt, params);
        result.map_err(|e| self.failed(pg_error(e, "a store query")))
    }

    /// Notes a failure that calls for running the transaction again.
    fn failed(&mut self, e: StorageError) -> StorageError {
        if e.kind == super::super::ErrorKind::Retry {
            self.must_retry = true;
        }
        e
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StorageResult<u64> {
        let stmt = self.conn.prepared(sql)?;
        self.wrote = true;
        let result = self.conn.client.execute(&stmt, params);
        result.map_err(|e| self.failed(pg_error(e, "a store write")))
    }

    fn one_object(&mut self, sql: &'static str, id: u64) -> StorageResult<Option<ObjectRow>> {
        let store = self.store;
        self.query(sql, &[&store, &(id as i64)])?
            .first()
            .map(row_to_object)
            .transpose()
    }

    /// Notes a change for the commit to announce (the statement that made it has run).
    fn log(&mut self, id: u64, kind: u32, parent: Option<i64>, what: ChangeWhat) {
        self.wrote = true;
        if logged_kind(kind) {
            self.changes.push(ChangeRecord {
                id,
                kind,
                parent: parent.map(|p| p as u64),
                what,
            });
        }
    }

    fn next(&mut self, sql: &'static str) -> StorageResult<u64> {
        let rows = self.query(sql, &[])?;
        Ok(rows[0].get::<_, i64>(0) as u64)
    }
}

impl ReadTxn for PgTxn<'_> {
    fn object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        self.one_object(OBJECT, id)
    }

    fn children(&mut self, parent: u64, kind: u32) -> StorageResult<Vec<ObjectRow>> {
        let store = self.store;
        self.query(CHILDREN, &[&store, &(parent as i64), &(kind as i32)])?
            .iter()
            .map(row_to_object)
            .collect()
    }

    fn children_of_kinds(&mut self, parent: u64, kinds: &[u32]) -> StorageResult<Vec<ObjectRow>> {
        let store = self.store;
        let kinds: Vec<i32> = kinds.iter().map(|&k| k as i32).collect();
        self.query(CHILDREN_OF_KINDS, &[&store, &(parent as i64), &kinds])?
            .iter()
            .map(row_to_object)
            .collect()
    }

    fn count_children(
        &mut self,
        parent: u64,
        kind: u32,
        mask: u32,
        flags: u32,
    ) -> StorageResult<u64> {
        let store = self.store;
        let rows = self.query(
            COUNT_CHILDREN,
            &[
                &store,
                &(parent as i64),
                &(kind as i32),
                &(mask as i32),
                &(flags as i32),
            ],
        )?;
        Ok(rows[0].get::<_, i64>(0) as u64)
    }

    fn props(&mut self, id: u64) -> StorageResult<Vec<StoredProp>> {
        let store = self.store;
        self.query(PROPS, &[&store, &(id as i64)])?
            .iter()
            .map(row_to_prop)
            .collect()
    }

    fn props_deferring(&mut self, id: u64, above: u64) -> StorageResult<Vec<StoredProp>> {
        let store = self.store;
        let above = i64::try_from(above).unwrap_or(i64::MAX);
        self.query(PROPS_DEFERRING, &[&store, &(id as i64), &above])?
            .iter()
            .map(|r| match r.get::<_, Option<i32>>(5) {
                Some(len) => {
                    let tag = r.get::<_, i64>(0) as u32;
                    let at = LargeRef {
                        ptype: tag & 0xFFFF,
                        len: len as u64,
                        obj: id,
                        prop: (tag >> 16) as u16,
                        version: r.get(6),
                    };
                    Ok((tag, PropValue::Large(Box::new(at))))
                }
                None => row_to_prop(r),
            })
            .collect()
    }

    fn read_large(&mut self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> StorageResult<usize> {
        // Values are at most 1 GiB here (max_value_bytes): positions fit an int4.
        let start = i32::try_from(offset.saturating_add(1)).unwrap_or(i32::MAX);
        let count = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        let store = self.store;
        let rows = self.query(
            READ_LARGE,
            &[
                &store,
                &(at.obj as i64),
                &(at.prop as i32),
                &start,
                &count,
                &at.version,
            ],
        )?;
        let Some(row) = rows.first() else {
            return Err(large_changed(at));
        };
        let piece: &[u8] = row.get::<_, Option<&[u8]>>(0).unwrap_or_default();
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        Ok(n)
    }

    fn prop(&mut self, id: u64, prop_id: u16) -> StorageResult<Option<StoredProp>> {
        let store = self.store;
        self.query(PROP, &[&store, &(id as i64), &(prop_id as i32)])?
            .first()
            .map(row_to_prop)
            .transpose()
    }

    fn named_id(&mut self, name: &PropName) -> StorageResult<Option<u16>> {
        let store = self.store;
        let (kind, lid, text) = named_columns(name);
        let guid = &name.guid[..];
        self.query(NAMED_ID, &[&store, &guid, &kind, &lid, &text])?
            .first()
            .map(|r| named_id_in_range(r.get(0)))
            .transpose()
    }

    fn named_name(&mut self, id: u16) -> StorageResult<Option<PropName>> {
        let store = self.store;
        self.query(NAMED_NAME, &[&store, &i32::from(id)])?
            .first()
            .map(|r| row_to_named(r).map(|(_, n)| n))
            .transpose()
    }

    fn named_all(&mut self) -> StorageResult<Vec<(u16, PropName)>> {
        let store = self.store;
        self.query(NAMED_ALL, &[&store])?
            .iter()
            .map(row_to_named)
            .collect()
    }

    fn named_max_id(&mut self) -> StorageResult<Option<u16>> {
        let store = self.store;
        let rows = self.query(NAMED_MAX, &[&store])?;
        rows[0]
            .get::<_, Option<i32>>(0)
            .map(named_id_in_range)
            .transpose()
    }

    fn select_children(&mut self, q: &ChildQuery) -> StorageResult<Vec<ChildRow>> {
        const POSTGRES: Dialect = Dialect {
            objects: "msgstore_objects",
            props: "msgstore_props",
            same_store: "{a}.store = o.store AND ",
            store_cond: "o.store = $1 AND ",
            value_cols: &["v_int", "v_real", "v_text", "v_bin"],
            int_col: "v_int",
            params: ["$2", "$3", "$4", "$5"],
        };
        let sql = select_sql(q, &POSTGRES);
        let store = self.store;
        let params: [&(dyn ToSql + Sync); 5] = [
            &store,
            &(q.parent as i64),
            &(q.kind as i32),
            &(q.mask as i32),
            &(q.flags as i32),
        ];
        let result = self.conn.client.query(sql.as_str(), &params);
        let rows = result.map_err(|e| self.failed(pg_error(e, "a table query")))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = r.get::<_, i64>(0) as u64;
            let mut props = Vec::with_capacity(q.fetch.len());
            for i in 0..q.fetch.len() {
                let base = 1 + 5 * i;
                if r.get::<_, Option<i64>>(base).is_some() {
                    props.push(prop_at(r, base)?);
                }
            }
            out.push((id, props));
        }
        Ok(out)
    }

    /// The snapshot's text (xmin, xmax and the transactions in progress) differs after any
    /// commit in the database, by any client or host; the sequence of change numbers would
    /// not do, since a change number is taken before its transaction commits.
    fn change_stamp(&mut self) -> StorageResult<u64> {
        use std::hash::{Hash, Hasher};
        let rows = self.query("SELECT pg_current_snapshot()::text", &[])?;
        let text: String = rows[0].get(0);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        Ok(h.finish())
    }
}

impl WriteTxn for PgTxn<'_> {
    fn lock_object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        self.one_object(LOCK_OBJECT, id)
    }

    fn apply(&mut self, change: &ChangeSet) -> StorageResult<Applied> {
        let store = self.store;
        let (id, cn) = match change.target {
            Target::Existing {
                id,
                expect: Expect::Cn(base),
            } => {
                let swapped = self.query(SWAP, &[&store, &(id as i64), &(base as i64)])?;
                self.wrote = true;
                match swapped.first() {
                    Some(r) => {
                        self.log(
                            id,
                            r.get::<_, i32>(1) as u32,
                            r.get::<_, Option<i64>>(2),
                            ChangeWhat::Modified,
                        );
                        (id, r.get::<_, i64>(0) as u64)
                    }
                    None => {
                        return Ok(match self.object(id)? {
                            Some(row) => Applied::Stale { stored_cn: row.cn },
                            None => Applied::Gone,
                        })
                    }
                }
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
            let kept: Vec<i32> = kept_ids(id, &change.puts)
                .into_iter()
                .map(i32::from)
                .collect();
            if kept.is_empty() {
                self.execute(DELETE_OBJECT_PROPS, &[&store, &(id as i64)])?;
            } else {
                self.execute(DELETE_PROPS_BUT, &[&store, &(id as i64), &kept])?;
            }
        }
        self.delete_props(id, change.deletes)?;
        // The puts and the maintained properties in one statement; a maintained value wins.
        let maintained = (change.maintained)(cn);
        let mut rows: Vec<(u32, &PropValue)> = change
            .puts
            .iter()
            .filter(|(tag, _)| !maintained.iter().any(|(m, _)| m >> 16 == tag >> 16))
            .map(|(tag, v)| (*tag, *v))
            .collect();
        rows.extend(maintained.iter().map(|(tag, v)| (*tag, v)));
        self.put_rows(id, &rows)?;
        apply_children(self, id, cn, &change.children)?;
        Ok(Applied::Committed { id, cn })
    }

    fn alloc_cn(&mut self) -> StorageResult<u64> {
        self.next(ALLOC_CN)
    }

    fn insert_object(&mut self, kind: u32, parent: u64, cn: u64, flags: u32) -> StorageResult<u64> {
        let id = self.next(NEW_ID)?;
        let store = self.store;
        self.execute(
            INSERT_OBJECT,
            &[
                &store,
                &(id as i64),
                &(kind as i32),
                &(parent as i64),
                &(cn as i64),
                &(flags as i32),
            ],
        )?;
        self.log(id, kind, Some(parent as i64), ChangeWhat::Created);
        Ok(id)
    }

    fn delete_object(&mut self, id: u64) -> StorageResult<()> {
        let store = self.store;
        self.execute(DELETE_OBJECT_PROPS, &[&store, &(id as i64)])?;
        let gone = self.query(DELETE_OBJECT, &[&store, &(id as i64)])?;
        if let Some(r) = gone.first() {
            let (kind, parent) = (r.get::<_, i32>(0) as u32, r.get::<_, Option<i64>>(1));
            self.log(id, kind, parent, ChangeWhat::Deleted);
        }
        Ok(())
    }

    fn put_prop_refs(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        if props.is_empty() {
            return Ok(());
        }
        self.touched.push(id);
        self.put_rows(id, props)
    }

    fn delete_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()> {
        if prop_ids.is_empty() {
            return Ok(());
        }
        self.touched.push(id);
        let ids: Vec<i32> = prop_ids.iter().map(|p| *p as i32).collect();
        let store = self.store;
        self.execute(DELETE_PROPS, &[&store, &(id as i64), &ids])?;
        Ok(())
    }

    fn set_parent(&mut self, id: u64, parent: u64) -> StorageResult<()> {
        let store = self.store;
        let moved = self.query(SET_PARENT, &[&store, &(id as i64), &(parent as i64)])?;
        let [row] = moved.as_slice() else {
            return Err(StorageError::corrupt(format!(
                "object {id} to move is gone"
            )));
        };
        let kind = row.get::<_, i32>(0) as u32;
        // Other hosts learn of a move as a change of the object in its new folder.
        self.log(id, kind, Some(parent as i64), ChangeWhat::Modified);
        Ok(())
    }

    fn log_new_mail(&mut self, id: u64) -> StorageResult<()> {
        let row = self
            .object(id)?
            .ok_or_else(|| StorageError::corrupt(format!("new mail {id} is gone")))?;
        self.log(
            id,
            row.kind,
            row.parent.map(|p| p as i64),
            ChangeWhat::NewMail,
        );
        Ok(())
    }

    fn named_insert(&mut self, id: u16, name: &PropName) -> StorageResult<bool> {
        let store = self.store;
        let (kind, lid, text) = named_columns(name);
        let guid = &name.guid[..];
        let inserted = self.execute(
            NAMED_INSERT,
            &[&store, &i32::from(id), &guid, &kind, &lid, &text],
        )?;
        Ok(inserted == 1)
    }
}
