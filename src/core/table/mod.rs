//! The table engine behind every IMAPITable (reference §10; DESIGN.md §9): a row source plus a
//! view. The view ([`view::TableView`]) keeps what MAPI says is the client's — the column set,
//! the sort order, the restriction, the cursor and the bookmarks — and asks the source only
//! questions a storage engine can answer without loading every row.
//!
//! How the two sides meet, and why this shape:
//! * [`RowSource::select`] takes a [`Query`] (restriction + sort keys) and returns a
//!   [`Selection`]: the matching rows in order, as of one [`RowSource::version`]. The view never
//!   sees all rows; it asks the selection for its length, for a window of rows
//!   (`rows(start, count, columns)`: only the columns in force), for the position of a row it
//!   has bookmarked (`position_of`), and for the next row matching a FindRow restriction
//!   (`find`). A contents or hierarchy table answers those in its engine's query language (a
//!   count, an ordered window by offset or by key, the restriction as a filter, a position as
//!   the count of rows ordered before the key) and loads only the window; the in-memory source
//!   ([`memory::MemoryTable`], behind ITableData) evaluates everything with [`restriction`].
//! * A source refuses what it cannot do before any row is read ([`RowSource::check`]:
//!   MAPI_E_TOO_COMPLEX), so Restrict and SortTable fail up front and leave the old view.
//! * A view re-selects when the source's version moves, so a table sees other clients' changes
//!   no later than its next call; the cursor and bookmarks are held as the row they are on
//!   ([`RowKey`]) and found again in the new selection.
//! * RES_SUBRESTRICTION is evaluated by the source through [`restriction::RowProps::sub_matches`]
//!   (a message's recipients or attachments); a source whose rows have none refuses it.

pub mod memory;
pub mod restriction;
pub mod view;

use crate::core::error::MapiResult;
use crate::core::mapidefs::*;
use crate::core::notify::Filter;
use crate::core::store::Store;
use crate::core::value::{change_prop_type, prop_id, prop_type, PropValue};
pub use restriction::Restriction;
use std::sync::Arc;

/// Identifies a row within its source for as long as the source lives (never reused).
pub type RowKey = u64;

/// One column value of a row: a value, an error (PT_ERROR, such as a column the row lacks), or
/// nothing (PR_NULL's slot, PT_NULL, PT_OBJECT).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Value(PropValue),
    Error(i32),
    Empty,
}

/// One sort key (`SSortOrder` with TABLE_SORT_ASCEND or TABLE_SORT_DESCEND).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub tag: u32,
    pub descending: bool,
}

/// What a view asks its source for: the rows matching `restriction` (all when None), ordered by
/// `sort` (the source's own order when empty; ties keep the source's order).
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub restriction: Option<&'a Restriction>,
    pub sort: &'a [SortKey],
}

/// One row as a window returns it: its key and the requested columns, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedRow {
    pub key: RowKey,
    pub props: Vec<(u32, Cell)>,
}

/// The rows of a table: a folder's contents or hierarchy (answered by the storage engine), an
/// attachment or recipient list, or an in-memory table.
pub trait RowSource: Send + Sync {
    /// Every column the source can give (QueryColumns with TBL_ALL_COLUMNS).
    fn all_columns(&self) -> MapiResult<Vec<u32>>;
    /// The column set of a new view.
    fn default_columns(&self) -> MapiResult<Vec<u32>> {
        self.all_columns()
    }
    /// A number that changes whenever rows are added, changed or removed.
    fn version(&self) -> u64;
    /// Refuses (MAPI_E_TOO_COMPLEX, MAPI_E_NO_SUPPORT) a query the source cannot answer.
    fn check(&self, q: &Query) -> MapiResult<()>;
    /// The rows matching `q`, in order, as of the current version.
    fn select(&self, q: &Query) -> MapiResult<Box<dyn Selection>>;
    /// Where IMAPITable::Advise registers for this source's changes (a store's table) and which
    /// changes are its rows'; None: the table does not notify (MAPI_E_NO_SUPPORT).
    fn notifications(&self) -> Option<(Arc<Store>, Filter)> {
        None
    }
}

/// The result of one query at one version: a window is read only when asked for.
pub trait Selection: Send {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The key of the row at `index`, if there is one.
    fn key_at(&self, index: usize) -> Option<RowKey>;
    /// Rows `start..start + count` (fewer at the end) with `columns`, per [`project`].
    fn rows(&self, start: usize, count: usize, columns: &[u32]) -> MapiResult<Vec<FetchedRow>>;
    /// Where the row `key` is now, if it is still selected.
    fn position_of(&self, key: RowKey) -> MapiResult<Option<usize>>;
    /// The first row at or after `start` (or, `backward`, the last row before `start`) that
    /// matches `r` (already checked).
    fn find(&self, r: &Restriction, start: usize, backward: bool) -> MapiResult<Option<usize>>;
}

/// One column of a row as QueryRows returns it: PR_NULL stays PR_NULL; PT_UNSPECIFIED takes the
/// row's type; PT_STRING8 and PT_UNICODE convert into each other; a row's PT_ERROR stays an
/// error; a missing column, or one of another type, is PT_ERROR / MAPI_E_NOT_FOUND.
pub fn project_column(props: &[(u32, Cell)], column: u32) -> (u32, Cell) {
    if column == PR_NULL {
        return (PR_NULL, Cell::Empty);
    }
    let error = |sc| (change_prop_type(column, PT_ERROR), Cell::Error(sc));
    let Some((tag, cell)) = props.iter().find(|(t, _)| prop_id(*t) == prop_id(column)) else {
        return error(MAPI_E_NOT_FOUND);
    };
    let want = prop_type(column);
    match cell {
        Cell::Error(sc) => error(*sc),
        Cell::Empty if want == PT_UNSPECIFIED || want == prop_type(*tag) => (*tag, Cell::Empty),
        Cell::Empty => error(MAPI_E_NOT_FOUND),
        Cell::Value(v) if want == PT_UNSPECIFIED => (*tag, Cell::Value(v.clone())),
        Cell::Value(v) => match v.converted_to(want) {
            Some(Ok(c)) => (column, Cell::Value(c)),
            Some(Err(e)) => error(e.code),
            None => error(MAPI_E_NOT_FOUND),
        },
    }
}

/// A row's requested columns, in order.
pub fn project(props: &[(u32, Cell)], columns: &[u32]) -> Vec<(u32, Cell)> {
    columns.iter().map(|c| project_column(props, *c)).collect()
}

#[cfg(test)]
mod tests;
