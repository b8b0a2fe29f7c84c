//! One IMAPITable view over a row source (reference §10.3): columns, sort, restriction, cursor
//! and bookmarks. Every position is held as the row it is on, so rows added or removed before
//! it (a new version of the source) move it with its row.
//!
//! Choices the reference leaves open (docs/BAD_INPUT.md lists the error codes):
//! * QueryRows with a negative count reads the |n| rows before the cursor, in table order, and
//!   leaves the cursor on the first of them (so that paging backward ends with 0 rows at the
//!   start, as D:determining-a-table-s-end says); with TBL_NOADVANCE the cursor does not move.
//! * A bookmark whose row is gone moves to the row that took its place (MAPI_W_POSITION_CHANGED).
//! * FindRow that finds nothing leaves the cursor where it was.
//! * A new view, Restrict and SortTable check what they are given at once (a refused
//!   restriction or sort leaves the view as it was) and select at the next call that needs rows:
//!   an engine failure while selecting is that call's error. A rewound cursor is at the start of
//!   the table, not on its first row, so a row added before the first one is read next.

use super::restriction::Restriction;
use super::{FetchedRow, Query, RowKey, RowSource, Selection, SortKey};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::notify::Filter;
use crate::core::proputil::is_bad_prop_tag;
use crate::core::value::prop_type;
use std::collections::HashMap;
use std::sync::Arc;

/// Bookmarks a view keeps at once; one more is MAPI_E_UNABLE_TO_COMPLETE.
pub(crate) const MAX_BOOKMARKS: usize = 4096;
/// Sort keys a view accepts (SortTable: "too many keys" is MAPI_E_TOO_COMPLEX).
pub(crate) const MAX_SORT_KEYS: usize = 32;

/// Where a seek or a search starts (`BOOKMARK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Beginning,
    Current,
    End,
    Bookmark(usize),
}

impl Origin {
    pub fn from_mapi(bk: usize) -> Origin {
        match bk {
            BOOKMARK_BEGINNING => Origin::Beginning,
            BOOKMARK_CURRENT => Origin::Current,
            BOOKMARK_END => Origin::End,
            other => Origin::Bookmark(other),
        }
    }
}

/// A position held as the row it is on (`key`, None past the last row), its index in the
/// current selection, and whether its row disappeared so that it moved (reported once, as
/// MAPI_W_POSITION_CHANGED).
#[derive(Debug, Clone, Copy)]
struct Mark {
    index: usize,
    key: Option<RowKey>,
    moved: bool,
}

/// How many rows after a vanished row are tried to find the one that took its place.
const SUCCESSOR_SCAN: usize = 64;

/// The start of the table, before any row is known (a rewound cursor: it stays at the start when
/// rows are added before the first one).
const START: Mark = Mark {
    index: 0,
    key: None,
    moved: false,
};

pub struct TableView {
    source: Arc<dyn RowSource>,
    columns: Vec<u32>,
    sort: Vec<SortKey>,
    restriction: Option<Restriction>,
    /// None until the next call needs rows: a new view, Restrict and SortTable select lazily,
    /// so that a client's usual GetContentsTable, SetColumns, SortTable, Restrict, QueryRows
    /// costs one query, not three.
    selection: Option<Box<dyn Selection>>,
    version: u64,
    cursor: Mark,
    bookmarks: HashMap<usize, Mark>,
    next_bookmark: usize,
}

fn invalid_bookmark(bk: usize) -> MapiError {
    MapiError::new(
        MAPI_E_INVALID_BOOKMARK,
        format!("bookmark {bk} is unknown, freed, or was discarded by Restrict or SortTable"),
    )
}

impl TableView {
    /// Where this view's notifications come from (RowSource::notifications).
    pub fn notifications(&self) -> Option<(Arc<crate::core::store::Store>, Filter)> {
        self.source.notifications()
    }

    /// A view with the source's default columns, no restriction and the source's order.
    pub fn new(source: Arc<dyn RowSource>, sort: Vec<SortKey>) -> MapiResult<TableView> {
        let columns = source.default_columns()?;
        check_sort(&sort)?;
        source.check(&Query {
            restriction: None,
            sort: &sort,
        })?;
        Ok(TableView {
            source,
            columns,
            sort,
            restriction: None,
            selection: None,
            version: 0,
            cursor: START,
            bookmarks: HashMap::new(),
            next_bookmark: BOOKMARK_END + 1,
        })
    }

    /// The current selection (every caller has refreshed first).
    fn sel(&self) -> &dyn Selection {
        self.selection
            .as_deref()
            .expect("a view selects in refresh() before it reads its selection")
    }

    /// Selects again when the source has changed since the last selection, and moves the cursor
    /// and every bookmark to where their rows are now (a vanished row's mark goes to the first
    /// row after it that is still there).
    fn refresh(&mut self) -> MapiResult<()> {
        let now = self.source.version();
        if self.selection.is_some() && now == self.version {
            return Ok(());
        }
        let q = Query {
            restriction: self.restriction.as_ref(),
            sort: &self.sort,
        };
        let new = self.source.select(&q)?;
        self.version = now;
        let Some(old) = self.selection.replace(new) else {
            // The first selection since the view was made, restricted or sorted: the cursor is
            // at the start and there are no bookmarks.
            return Ok(());
        };
        self.cursor = self.follow(&*old, self.cursor)?;
        let marks: Vec<(usize, Mark)> = self.bookmarks.iter().map(|(k, m)| (*k, *m)).collect();
        for (bk, m) in marks {
            let m = self.follow(&*old, m)?;
            self.bookmarks.insert(bk, m);
        }
        Ok(())
    }

    /// `m` (a position in `old`) in the current selection.
    fn follow(&self, old: &dyn Selection, m: Mark) -> MapiResult<Mark> {
        let Some(key) = m.key else {
            // Past the last row stays past the last row (or at the start of an empty table).
            let index = if m.index == 0 { 0 } else { self.sel().len() };
            return Ok(Mark { index, ..m });
        };
        if let Some(index) = self.sel().position_of(key)? {
            return Ok(Mark { index, ..m });
        }
        for j in m.index + 1..(m.index + 1 + SUCCESSOR_SCAN).min(old.len()) {
            if let Some(next) = old.key_at(j) {
                if let Some(index) = self.sel().position_of(next)? {
                    return Ok(Mark {
                        index,
                        key: Some(next),
                        moved: true,
                    });
                }
            }
        }
        let mut m = self.mark(m.index);
        m.moved = true;
        Ok(m)
    }

    fn mark(&self, index: usize) -> Mark {
        let index = index.min(self.sel().len());
        Mark {
            index,
            key: self.sel().key_at(index),
            moved: false,
        }
    }

    /// Where `m` is, and whether it moved since it was made.
    fn resolve(&self, m: Mark) -> MapiResult<(usize, bool)> {
        Ok((m.index.min(self.sel().len()), m.moved))
    }

    fn origin(&self, origin: Origin) -> MapiResult<(usize, bool)> {
        match origin {
            Origin::Beginning => Ok((0, false)),
            Origin::Current => self.resolve(self.cursor),
            Origin::End => Ok((self.sel().len(), false)),
            Origin::Bookmark(bk) => {
                let m = *self
                    .bookmarks
                    .get(&bk)
                    .ok_or_else(|| invalid_bookmark(bk))?;
                self.resolve(m)
            }
        }
    }

    /// A moved bookmark reports MAPI_W_POSITION_CHANGED once.
    fn settle(&mut self, origin: Origin) {
        if let Origin::Bookmark(bk) = origin {
            if let Some(m) = self.bookmarks.get_mut(&bk) {
                m.moved = false;
            }
        }
    }

    fn reset_positions(&mut self) {
        self.bookmarks.clear();
        self.cursor = START;
    }

    /// SetColumns: at least one column; no PT_ERROR or unknown types; MVI columns (one row per
    /// value) are not supported.
    pub fn set_columns(&mut self, columns: Vec<u32>) -> MapiResult<()> {
        if columns.is_empty() {
            return Err(MapiError::invalid("SetColumns: the column set is empty"));
        }
        for &c in &columns {
            if c == PR_NULL {
                continue;
            }
            if prop_type(c) & MVI_FLAG == MVI_FLAG {
                return Err(MapiError::new(
                    MAPI_E_TOO_COMPLEX,
                    format!("SetColumns: column 0x{c:08X} asks for one row per value (MVI_FLAG)"),
                ));
            }
            if prop_type(c) == PT_ERROR || is_bad_prop_tag(c) {
                return Err(MapiError::invalid(format!(
                    "SetColumns: column 0x{c:08X} has no valid property type"
                )));
            }
        }
        self.columns = columns;
        Ok(())
    }

    /// QueryColumns: the current set, or (`all`) every column the source has.
    pub fn query_columns(&self, all: bool) -> MapiResult<Vec<u32>> {
        if all {
            self.source.all_columns()
        } else {
            Ok(self.columns.clone())
        }
    }

    pub fn row_count(&mut self) -> MapiResult<usize> {
        self.refresh()?;
        Ok(self.sel().len())
    }

    /// QueryRows: up to |count| rows from the cursor (forward), or before it (negative).
    pub fn query_rows(&mut self, count: i32, no_advance: bool) -> MapiResult<Vec<FetchedRow>> {
        if count == 0 {
            return Err(MapiError::invalid("QueryRows: lRowCount is 0"));
        }
        self.refresh()?;
        let (cur, _) = self.resolve(self.cursor)?;
        let len = self.sel().len();
        let want = count.unsigned_abs() as usize;
        let (start, n) = if count > 0 {
            (cur, want.min(len - cur))
        } else {
            let back = want.min(cur);
            (cur - back, back)
        };
        let rows = self.sel().rows(start, n, &self.columns)?;
        self.cursor = match (no_advance, count > 0) {
            (true, true) => self.mark(start),
            (true, false) => self.mark(cur),
            (false, true) => self.mark(start + rows.len()),
            (false, false) => self.mark(start),
        };
        Ok(rows)
    }

    /// SeekRow: moves `count` rows from `origin`, clamped to the table; returns the rows moved
    /// and whether the origin bookmark had to move (MAPI_W_POSITION_CHANGED).
    pub fn seek_row(&mut self, origin: Origin, count: i32) -> MapiResult<(i32, bool)> {
        self.refresh()?;
        let (start, changed) = self.origin(origin)?;
        let len = self.sel().len() as i64;
        let target = (start as i64 + count as i64).clamp(0, len);
        self.cursor = self.mark(target as usize);
        self.settle(origin);
        Ok(((target - start as i64) as i32, changed))
    }

    /// SeekRowApprox: the row at numerator/denominator of the table.
    pub fn seek_row_approx(&mut self, numerator: u32, denominator: u32) -> MapiResult<()> {
        if denominator == 0 || numerator > denominator {
            return Err(MapiError::invalid(format!(
                "SeekRowApprox: {numerator}/{denominator} is not a fraction between 0 and 1"
            )));
        }
        self.refresh()?;
        let len = self.sel().len() as u64;
        let index = len * numerator as u64 / denominator as u64;
        self.cursor = self.mark(index as usize);
        Ok(())
    }

    /// QueryPosition: (current row, numerator, denominator).
    pub fn query_position(&mut self) -> MapiResult<(u32, u32, u32)> {
        self.refresh()?;
        let (cur, _) = self.resolve(self.cursor)?;
        let len = self.sel().len();
        let row = u32::try_from(cur).unwrap_or(u32::MAX);
        Ok((row, row, u32::try_from(len.max(1)).unwrap_or(u32::MAX)))
    }

    /// FindRow: leaves the cursor on the first row matching `r` from `origin` (backward: before
    /// it). Returns whether the origin bookmark had moved.
    pub fn find_row(
        &mut self,
        r: &Restriction,
        origin: Origin,
        backward: bool,
    ) -> MapiResult<bool> {
        r.check()?;
        self.source.check(&Query {
            restriction: Some(r),
            sort: &self.sort,
        })?;
        self.refresh()?;
        let (start, changed) = self.origin(origin)?;
        match self.sel().find(r, start, backward)? {
            Some(i) => {
                self.cursor = self.mark(i);
                self.settle(origin);
                Ok(changed)
            }
            None => Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                "FindRow: no row matches the restriction",
            )),
        }
    }

    /// Restrict: replaces the filter (None removes it), discards bookmarks, rewinds.
    pub fn restrict(&mut self, r: Option<Restriction>) -> MapiResult<()> {
        if let Some(r) = &r {
            r.check()?;
        }
        let q = Query {
            restriction: r.as_ref(),
            sort: &self.sort,
        };
        self.source.check(&q)?;
        self.restriction = r;
        self.selection = None;
        self.reset_positions();
        Ok(())
    }

    /// SortTable: replaces the order (empty: the source's), discards bookmarks, rewinds.
    pub fn sort_table(&mut self, sort: Vec<SortKey>) -> MapiResult<()> {
        check_sort(&sort)?;
        let q = Query {
            restriction: self.restriction.as_ref(),
            sort: &sort,
        };
        self.source.check(&q)?;
        self.sort = sort;
        self.selection = None;
        self.reset_positions();
        Ok(())
    }

    pub fn sort_order(&self) -> &[SortKey] {
        &self.sort
    }

    /// CreateBookmark: the row under the cursor (or past the end).
    pub fn create_bookmark(&mut self) -> MapiResult<usize> {
        if self.bookmarks.len() >= MAX_BOOKMARKS {
            return Err(MapiError::new(
                MAPI_E_UNABLE_TO_COMPLETE,
                format!("CreateBookmark: this view already holds {MAX_BOOKMARKS} bookmarks"),
            ));
        }
        self.refresh()?;
        let (cur, _) = self.resolve(self.cursor)?;
        let mark = self.mark(cur);
        // Never one of BOOKMARK_BEGINNING/CURRENT/END, never one still in use.
        let mut bk = self.next_bookmark;
        while bk <= BOOKMARK_END || self.bookmarks.contains_key(&bk) {
            bk = bk.wrapping_add(1);
        }
        self.next_bookmark = bk.wrapping_add(1);
        self.bookmarks.insert(bk, mark);
        Ok(bk)
    }

    /// FreeBookmark: the three predefined bookmarks are accepted and ignored.
    pub fn free_bookmark(&mut self, bk: usize) -> MapiResult<()> {
        if bk <= BOOKMARK_END {
            return Ok(());
        }
        self.bookmarks
            .remove(&bk)
            .map(|_| ())
            .ok_or_else(|| invalid_bookmark(bk))
    }
}

/// SortTable's checks: a known type, no PT_ERROR, no multi-valued key (sorting on MV values
/// needs MVI rows), no repeated tag, not too many keys.
pub fn check_sort(sort: &[SortKey]) -> MapiResult<()> {
    if sort.len() > MAX_SORT_KEYS {
        return Err(MapiError::new(
            MAPI_E_TOO_COMPLEX,
            format!("SortTable: more than {MAX_SORT_KEYS} sort keys"),
        ));
    }
    for (i, k) in sort.iter().enumerate() {
        let t = prop_type(k.tag);
        if t == PT_ERROR || t == PT_UNSPECIFIED || is_bad_prop_tag(k.tag) {
            return Err(MapiError::invalid(format!(
                "SortTable: sort key 0x{:08X} has no valid property type",
                k.tag
            )));
        }
        if t & MV_FLAG != 0 {
            return Err(MapiError::new(
                MAPI_E_TOO_COMPLEX,
                format!("SortTable: multi-valued sort key 0x{:08X}", k.tag),
            ));
        }
        if sort[..i].iter().any(|o| o.tag == k.tag) {
            return Err(MapiError::new(
                MAPI_E_TOO_COMPLEX,
                format!("SortTable: sort key 0x{:08X} is repeated", k.tag),
            ));
        }
    }
    Ok(())
}
