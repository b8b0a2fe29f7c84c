//! An in-memory row source (the rows of ITableData, reference §12.1 CreateTable): rows keyed by
//! one index column, kept in insertion order, filtered and sorted by evaluation. A selection is
//! a snapshot of shared rows (no values are copied until a window is read).

use super::restriction::{compare_for_sort, folded, matches, Restriction};
use super::{project, Cell, FetchedRow, Query, RowKey, RowSource, Selection, SortKey};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::value::{prop_id, prop_type, PropValue};
use parking_lot::RwLock;
use std::cell::{RefCell, RefMut};
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
    Ok(Box::new(MemorySelection::new(rows, q.sort)))
}

/// One row's value for one sort key, prepared once per selection: a string folded as
/// [`compare_text`](super::restriction) orders it, any other value by its place in the row.
enum SortCell {
    Missing,
    /// The folded text and the value's place in the row.
    Folded(Box<str>, usize),
    /// The value's place in the row.
    At(usize),
}

impl SortCell {
    fn of(props: &[(u32, Cell)], tag: u32) -> SortCell {
        let Some(at) = sort_value_at(props, tag) else {
            return SortCell::Missing;
        };
        match &props[at].1 {
            Cell::Value(PropValue::String8(b)) => SortCell::Folded(folded(b).into(), at),
            Cell::Value(PropValue::Unicode(s)) => SortCell::Folded(folded(s.as_bytes()).into(), at),
            _ => SortCell::At(at),
        }
    }
}

/// Missing values last whatever the direction, as [`compare_rows`].
fn compare_cells(
    (a, ra): (&SortCell, &[(u32, Cell)]),
    (b, rb): (&SortCell, &[(u32, Cell)]),
    descending: bool,
) -> Ordering {
    let o = match (a, b) {
        (SortCell::Missing, SortCell::Missing) => return Ordering::Equal,
        (SortCell::Missing, _) => return Ordering::Greater,
        (_, SortCell::Missing) => return Ordering::Less,
        (SortCell::Folded(x, _), SortCell::Folded(y, _)) => x.cmp(y),
        _ => match (cell_value(a, ra), cell_value(b, rb)) {
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

/// The value behind a prepared cell.
fn cell_value<'a>(c: &SortCell, props: &'a [(u32, Cell)]) -> Option<&'a PropValue> {
    match c {
        SortCell::Missing => None,
        SortCell::Folded(_, at) | SortCell::At(at) => match &props[*at].1 {
            Cell::Value(v) => Some(v),
            _ => None,
        },
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
    sort_value_at(props, tag).and_then(|at| match &props[at].1 {
        Cell::Value(v) => Some(v),
        _ => None,
    })
}

/// Where a row's sort value for `tag` is (found by property ID; PT_ERROR and missing are None).
fn sort_value_at(props: &[(u32, Cell)], tag: u32) -> Option<usize> {
    props
        .iter()
        .position(|(t, _)| prop_id(*t) == prop_id(tag))
        .filter(|at| matches!(props[*at].1, Cell::Value(_)))
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

/// The selected rows and how far they are ordered. Ordering is lazy: a window needs only the
/// rows up to its end in order, so the first QueryRows of a large table selects its first rows
/// (a partial sort) instead of sorting every row; each further step orders at least twice as
/// many, so paging through the whole table costs one full sort.
struct MemorySelection {
    /// The matching rows in the source's order.
    rows: Vec<Arc<MemRow>>,
    sort: Vec<SortKey>,
    /// Row `i`'s prepared values, one per sort key, at `keys[i * sort.len()..]`.
    keys: Vec<SortCell>,
    order: RefCell<Order>,
}

/// Row indexes in table order: the first `sorted` are final; each of the rest orders after
/// all of them (in no particular order among themselves).
struct Order {
    perm: Vec<usize>,
    sorted: usize,
    /// A row key's index in `rows`, built when first asked for.
    by_key: Option<HashMap<RowKey, usize>>,
    /// A row index's place in the table, built when the order is complete and asked for.
    place: Option<Vec<usize>>,
    /// Positions counted so far (past [`MAX_COUNTED`], the order is completed instead).
    counted: usize,
}

/// Positions [`MemorySelection::position_of`] counts (one comparison per row each) before it
/// completes the order once (about log2(n) comparisons per row) and looks them up.
const MAX_COUNTED: usize = 8;

/// The fewest rows one ordering step puts in order.
const MIN_ORDERED: usize = 64;

impl MemorySelection {
    fn new(rows: Vec<Arc<MemRow>>, sort: &[SortKey]) -> MemorySelection {
        let keys: Vec<SortCell> = rows
            .iter()
            .flat_map(|r| sort.iter().map(|k| SortCell::of(&r.props, k.tag)))
            .collect();
        let n = rows.len();
        MemorySelection {
            rows,
            sort: sort.to_vec(),
            keys,
            order: RefCell::new(Order {
                perm: (0..n).collect(),
                sorted: if sort.is_empty() { n } else { 0 },
                by_key: None,
                place: None,
                counted: 0,
            }),
        }
    }

    /// Orders rows `a` and `b` (indexes into `rows`) exactly as [`compare_rows`] does, ties
    /// broken by the source's order: a total order, so an unstable partial sort gives what a
    /// stable full sort gives.
    fn compare(&self, a: usize, b: usize) -> Ordering {
        let (ra, rb) = (&self.rows[a].props[..], &self.rows[b].props[..]);
        let n = self.sort.len();
        let (ka, kb) = (&self.keys[a * n..][..n], &self.keys[b * n..][..n]);
        for (i, k) in self.sort.iter().enumerate() {
            let o = compare_cells((&ka[i], ra), (&kb[i], rb), k.descending);
            if o.is_ne() {
                return o;
            }
        }
        a.cmp(&b)
    }

    /// Puts at least the first `upto` rows in their final order.
    fn order_upto(&self, upto: usize) -> RefMut<'_, Order> {
        let mut o = self.order.borrow_mut();
        let n = self.rows.len();
        if upto > o.sorted {
            let sorted = o.sorted;
            let want = upto.max(sorted * 2).max(MIN_ORDERED).min(n);
            let rest = &mut o.perm[sorted..];
            let k = want - sorted;
            if k < rest.len() {
                rest.select_nth_unstable_by(k - 1, |a, b| self.compare(*a, *b));
            }
            rest[..k].sort_unstable_by(|a, b| self.compare(*a, *b));
            o.sorted = want;
        }
        o
    }

    fn row_at(&self, index: usize) -> Option<&Arc<MemRow>> {
        if index >= self.rows.len() {
            return None;
        }
        let i = self.order_upto(index + 1).perm[index];
        Some(&self.rows[i])
    }
}

impl Selection for MemorySelection {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn key_at(&self, index: usize) -> Option<RowKey> {
        self.row_at(index).map(|r| r.key)
    }
    fn rows(&self, start: usize, count: usize, columns: &[u32]) -> MapiResult<Vec<FetchedRow>> {
        let end = start.saturating_add(count).min(self.rows.len());
        let start = start.min(end);
        let o = self.order_upto(end);
        Ok(o.perm[start..end]
            .iter()
            .map(|&i| FetchedRow {
                key: self.rows[i].key,
                props: project(&self.rows[i].props, columns),
            })
            .collect())
    }
    /// The row's place: looked up when the order is complete, else counted (the rows ordered
    /// before it), which costs one comparison per row rather than a full sort; after a few
    /// counts (a view following many marks) the order is completed once instead.
    fn position_of(&self, key: RowKey) -> MapiResult<Option<usize>> {
        let n = self.rows.len();
        let row = {
            let mut guard = self.order.borrow_mut();
            let o = &mut *guard;
            let rows = &self.rows;
            let Some(&row) = o
                .by_key
                .get_or_insert_with(|| rows.iter().enumerate().map(|(i, r)| (r.key, i)).collect())
                .get(&key)
            else {
                return Ok(None);
            };
            if self.sort.is_empty() {
                return Ok(Some(row));
            }
            if o.sorted < n && o.counted < MAX_COUNTED {
                o.counted += 1;
                let before = (0..n).filter(|&j| self.compare(j, row).is_lt()).count();
                return Ok(Some(before));
            }
            row
        };
        let mut guard = self.order_upto(n);
        let o = &mut *guard;
        let perm = &o.perm;
        let place = o.place.get_or_insert_with(|| {
            let mut place = vec![0; perm.len()];
            for (at, &i) in perm.iter().enumerate() {
                place[i] = at;
            }
            place
        });
        Ok(Some(place[row]))
    }
    fn find(&self, r: &Restriction, start: usize, backward: bool) -> MapiResult<Option<usize>> {
        let start = start.min(self.rows.len());
        let hit = |i: usize| match self.row_at(i) {
            Some(row) => matches(r, &row.props[..]),
            None => Ok(false),
        };
        if backward {
            for i in (0..start).rev() {
                if hit(i)? {
                    return Ok(Some(i));
                }
            }
        } else {
            for i in start..self.rows.len() {
                if hit(i)? {
                    return Ok(Some(i));
                }
            }
        }
        Ok(None)
    }
}
