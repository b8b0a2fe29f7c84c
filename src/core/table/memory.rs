//! An in-memory row source (the rows of ITableData, reference §12.1 CreateTable): rows keyed by
//! one index column, kept in insertion order, filtered and sorted by evaluation. A selection is
//! a snapshot of shared rows (no values are copied until a window is read).

use super::restriction::{compare_for_sort, folded, matches, Restriction};
use super::{project, Cell, FetchedRow, Query, RowKey, RowSource, Selection, SortKey};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::value::{prop_id, prop_type, PropValue};
use parking_lot::RwLock;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
struct MemRow {
    key: RowKey,
    props: Vec<(u32, Cell)>,
}

#[derive(Default)]
struct Rows {
    rows: Vec<Arc<MemRow>>,
    /// Index column value (as text: values have no hash) → row key.
    by_index: HashMap<String, RowKey>,
    next_key: RowKey,
    version: u64,
}

impl Rows {
    fn position(&self, key: RowKey) -> Option<usize> {
        self.rows.iter().position(|r| r.key == key)
    }
}

pub struct MemoryTable {
    index_tag: u32,
    columns: Vec<u32>,
    rows: RwLock<Rows>,
}

fn index_text(v: &PropValue) -> String {
    format!("{v:?}")
}

impl MemoryTable {
    /// A table keyed by `index_tag` (not multi-valued) with `columns` as its column set.
    pub fn new(index_tag: u32, columns: Vec<u32>) -> MapiResult<MemoryTable> {
        if prop_type(index_tag) & MV_FLAG != 0 || prop_type(index_tag) == PT_ERROR {
            return Err(MapiError::invalid(format!(
                "CreateTable: index column 0x{index_tag:08X} is multi-valued or an error"
            )));
        }
        Ok(MemoryTable {
            index_tag,
            columns,
            rows: RwLock::new(Rows::default()),
        })
    }

    /// The row's index value (required, of the index column's type).
    fn index_of(&self, props: &[(u32, Cell)]) -> MapiResult<String> {
        match props.iter().find(|(t, _)| *t == self.index_tag) {
            Some((_, Cell::Value(v))) => Ok(index_text(v)),
            _ => Err(MapiError::invalid(format!(
                "the row has no value for the index column 0x{:08X}",
                self.index_tag
            ))),
        }
    }

    fn index_value(&self, tag: u32, v: &Cell) -> MapiResult<String> {
        match v {
            Cell::Value(v) if tag == self.index_tag => Ok(index_text(v)),
            _ => Err(MapiError::invalid(format!(
                "0x{tag:08X} is not a value of the index column 0x{:08X}",
                self.index_tag
            ))),
        }
    }

    /// HrModifyRow / HrInsertRow: replaces the row with the same index value in place, or adds
    /// the row at `at` (the end when None or past it).
    pub fn modify_row(&self, props: Vec<(u32, Cell)>, at: Option<usize>) -> MapiResult<()> {
        let index = self.index_of(&props)?;
        let mut rows = self.rows.write();
        rows.version += 1;
        if let Some(&key) = rows.by_index.get(&index) {
            if let Some(pos) = rows.position(key) {
                rows.rows[pos] = Arc::new(MemRow { key, props });
                return Ok(());
            }
        }
        let key = rows.next_key;
        rows.next_key += 1;
        rows.by_index.insert(index, key);
        let row = Arc::new(MemRow { key, props });
        match at {
            Some(i) if i < rows.rows.len() => rows.rows.insert(i, row),
            _ => rows.rows.push(row),
        }
        Ok(())
    }

    /// HrInsertRow: adds the row at `at` (the end when past it); a row with the same index
    /// value already there is MAPI_E_INVALID_PARAMETER (HrModifyRow replaces rows).
    pub fn insert_row(&self, props: Vec<(u32, Cell)>, at: usize) -> MapiResult<()> {
        let index = self.index_of(&props)?;
        if self.rows.read().by_index.contains_key(&index) {
            return Err(MapiError::invalid(
                "HrInsertRow: a row with that index column value exists (HrModifyRow replaces)",
            ));
        }
        self.modify_row(props, Some(at))
    }

    /// HrDeleteRows with TAD_ALL_ROWS: removes every row, returns how many there were.
    pub fn delete_all(&self) -> usize {
        let mut rows = self.rows.write();
        let n = rows.rows.len();
        rows.rows.clear();
        rows.by_index.clear();
        rows.version += 1;
        n
    }

    /// Whether a row has this index value (HrDeleteRows counts only rows it removed).
    pub fn has_row(&self, tag: u32, value: &Cell) -> MapiResult<bool> {
        let index = self.index_value(tag, value)?;
        Ok(self.rows.read().by_index.contains_key(&index))
    }

    /// The index column's tag.
    pub fn index_tag(&self) -> u32 {
        self.index_tag
    }

    /// HrDeleteRow: MAPI_E_NOT_FOUND when no row has that index value.
    pub fn delete_row(&self, tag: u32, value: &Cell) -> MapiResult<()> {
        let index = self.index_value(tag, value)?;
        let mut rows = self.rows.write();
        let key = rows.by_index.remove(&index).ok_or_else(|| {
            MapiError::new(MAPI_E_NOT_FOUND, "no row has that index column value")
        })?;
        if let Some(pos) = rows.position(key) {
            rows.rows.remove(pos);
        }
        rows.version += 1;
        Ok(())
    }

    /// HrQueryRow: a copy of the row with that index value, and its position.
    pub fn query_row(&self, tag: u32, value: &Cell) -> MapiResult<(Vec<(u32, Cell)>, usize)> {
        let index = self.index_value(tag, value)?;
        let rows = self.rows.read();
        let found = rows
            .by_index
            .get(&index)
            .and_then(|k| rows.position(*k))
            .ok_or_else(|| MapiError::new(MAPI_E_NOT_FOUND, "no row has that index value"))?;
        Ok((rows.rows[found].props.clone(), found))
    }

    /// HrEnumRow: the row at `n` in insertion order, if any.
    pub fn enum_row(&self, n: usize) -> Option<Vec<(u32, Cell)>> {
        self.rows.read().rows.get(n).map(|r| r.props.clone())
    }
}

impl RowSource for MemoryTable {
    fn all_columns(&self) -> MapiResult<Vec<u32>> {
        Ok(self.columns.clone())
    }
    fn version(&self) -> u64 {
        self.rows.read().version
    }
    fn check(&self, q: &Query) -> MapiResult<()> {
        refuse_subrestriction(q, "this table's rows")
    }
    fn select(&self, q: &Query) -> MapiResult<Box<dyn Selection>> {
        let all: Vec<Arc<MemRow>> = self.rows.read().rows.clone();
        select_from(all, q)
    }
}

/// A row with its key, as [`select_rows`] takes it.
pub type KeyedRow = (RowKey, Vec<(u32, Cell)>);

/// The rows matching `q`, in its order (ties keep the given order), as a selection over rows
/// already in memory: what [`MemoryTable`] answers, and what a source whose rows are few (a
/// hierarchy table) or already narrowed answers with.
pub fn select_rows(
    rows: Vec<(RowKey, Vec<(u32, Cell)>)>,
    q: &Query,
) -> MapiResult<Box<dyn Selection>> {
    let rows = rows
        .into_iter()
        .map(|(key, props)| Arc::new(MemRow { key, props }))
        .collect();
    select_from(rows, q)
}

fn select_from(all: Vec<Arc<MemRow>>, q: &Query) -> MapiResult<Box<dyn Selection>> {
    let mut rows = Vec::new();
    for r in all {
        if q.restriction
            .map_or(Ok(true), |res| matches(res, &r.props[..]))?
        {
            rows.push(r);
        }
    }
    if !q.sort.is_empty() {
        rows = sorted(rows, q.sort);
    }
    let positions = rows.iter().enumerate().map(|(i, r)| (r.key, i)).collect();
    Ok(Box::new(MemorySelection { rows, positions }))
}

/// One row's value for one sort key, prepared once per sort: a single string folded as
/// [`compare_text`](super::restriction) orders it, any other value as it is.
enum SortCell<'a> {
    Missing,
    Folded(String, &'a PropValue),
    Value(&'a PropValue),
}

impl SortCell<'_> {
    fn value(&self) -> Option<&PropValue> {
        match self {
            SortCell::Missing => None,
            SortCell::Folded(_, v) | SortCell::Value(v) => Some(v),
        }
    }

    fn of(v: Option<&PropValue>) -> SortCell<'_> {
        match v {
            None => SortCell::Missing,
            Some(v @ PropValue::String8(b)) => SortCell::Folded(folded(b), v),
            Some(v @ PropValue::Unicode(s)) => SortCell::Folded(folded(s.as_bytes()), v),
            Some(v) => SortCell::Value(v),
        }
    }
}

/// `rows` ordered by `sort` exactly as [`compare_rows`] orders them (stable: ties keep the
/// given order), with each key's value prepared once per row.
fn sorted(rows: Vec<Arc<MemRow>>, sort: &[SortKey]) -> Vec<Arc<MemRow>> {
    let keys: Vec<Vec<SortCell>> = rows
        .iter()
        .map(|r| {
            sort.iter()
                .map(|k| SortCell::of(sort_value(&r.props, k.tag)))
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        for (i, k) in sort.iter().enumerate() {
            let o = compare_cells(&keys[a][i], &keys[b][i], k.descending);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
    order.into_iter().map(|i| rows[i].clone()).collect()
}

/// Missing values last whatever the direction, as [`compare_rows`].
fn compare_cells(a: &SortCell, b: &SortCell, descending: bool) -> Ordering {
    let o = match (a, b) {
        (SortCell::Missing, SortCell::Missing) => return Ordering::Equal,
        (SortCell::Missing, _) => return Ordering::Greater,
        (_, SortCell::Missing) => return Ordering::Less,
        (SortCell::Folded(x, _), SortCell::Folded(y, _)) => x.cmp(y),
        _ => match (a.value(), b.value()) {
            (Some(x), Some(y)) => compare_for_sort(x, y),
            _ => Ordering::Equal,
        },
    };
    if descending {
        o.reverse()
    } else {
        o
    }
}

/// RowSource::check of a source whose rows (`rows`, for the message) have no sub-objects:
/// a RES_SUBRESTRICTION anywhere is MAPI_E_TOO_COMPLEX.
pub fn refuse_subrestriction(q: &Query, rows: &str) -> MapiResult<()> {
    match q.restriction {
        Some(r) if r.has_sub() => Err(MapiError::new(
            MAPI_E_TOO_COMPLEX,
            format!("RES_SUBRESTRICTION: {rows} have no sub-objects"),
        )),
        _ => Ok(()),
    }
}

/// A row's sort value for `tag` (found by property ID; PT_ERROR and missing are None).
fn sort_value(props: &[(u32, Cell)], tag: u32) -> Option<&PropValue> {
    props
        .iter()
        .find(|(t, _)| prop_id(*t) == prop_id(tag))
        .and_then(|(_, c)| match c {
            Cell::Value(v) => Some(v),
            _ => None,
        })
}

/// Orders two rows by `sort` (the rule [`select_rows`] sorts by): each key ascending or
/// descending ([`compare_for_sort`]), rows without a value last whatever the direction
/// (D:ssortorder).
pub fn compare_rows(a: &[(u32, Cell)], b: &[(u32, Cell)], sort: &[SortKey]) -> Ordering {
    for k in sort {
        let o = match (sort_value(a, k.tag), sort_value(b, k.tag)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = compare_for_sort(x, y);
                if k.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

struct MemorySelection {
    rows: Vec<Arc<MemRow>>,
    positions: HashMap<RowKey, usize>,
}

impl Selection for MemorySelection {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn key_at(&self, index: usize) -> Option<RowKey> {
        self.rows.get(index).map(|r| r.key)
    }
    fn rows(&self, start: usize, count: usize, columns: &[u32]) -> MapiResult<Vec<FetchedRow>> {
        let end = start.saturating_add(count).min(self.rows.len());
        Ok(self.rows[start.min(end)..end]
            .iter()
            .map(|r| FetchedRow {
                key: r.key,
                props: project(&r.props, columns),
            })
            .collect())
    }
    fn position_of(&self, key: RowKey) -> MapiResult<Option<usize>> {
        Ok(self.positions.get(&key).copied())
    }
    fn find(&self, r: &Restriction, start: usize, backward: bool) -> MapiResult<Option<usize>> {
        let start = start.min(self.rows.len());
        if backward {
            for i in (0..start).rev() {
                if matches(r, &self.rows[i].props[..])? {
                    return Ok(Some(i));
                }
            }
        } else {
            for i in start..self.rows.len() {
                if matches(r, &self.rows[i].props[..])? {
                    return Ok(Some(i));
                }
            }
        }
        Ok(None)
    }
}
