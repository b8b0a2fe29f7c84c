//! IMAPITable (reference §10.1, §10.3): the vtable over `core::table::view::TableView`, and the
//! conversions of its C structures — SRestriction (every pointer checked, nesting and size
//! bounded before recursion can exhaust a stack), SSortOrderSet, and SRowSet results (each
//! row's `lpProps` one block of the table's allocator, then the set: FreeProws frees them).
//!
//! Every call is synchronous: TBL_ASYNC and TBL_BATCH are accepted and the work is done before
//! the call returns, so GetStatus reports TBLSTAT_COMPLETE, Abort has nothing to stop (S_OK) and
//! WaitForCompletion returns at once. Categories are not supported (MAPI_E_NO_SUPPORT);
//! contents and hierarchy tables notify (Advise, abi/notify.rs), other tables do not
//! (MAPI_E_NO_SUPPORT); docs/BAD_INPUT.md lists every error code.

use super::alloc::Allocator;
use super::convert::{
    prop_array_out, prop_array_out_in, slice_in, tag_array_in, tag_array_out, value_in,
};
use super::guard;
use super::iids::IID_IMAPITable;
use super::interfaces::*;
use super::notify::{SinkRef, TableSink};
use super::object::{self, ComClass, ComObject};
use super::types::*;
use crate::core::error::{check_flags, MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::notify::check_mask;
use crate::core::props::PropOut;
use crate::core::store::Store;
use crate::core::table::restriction::{Relop, Restriction, MAX_DEPTH, MAX_NODES};
use crate::core::table::view::{Origin, TableView};
use crate::core::table::{Cell, FetchedRow, SortKey};
use crate::core::value::{prop_type, try_push, try_vec_with_capacity, PropValue};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

/// cbindgen:ignore
/// Called when the view is released (ITableData::HrGetView's CALLERRELEASE), with the
/// ITableData it came from, on which the view holds a reference until then.
pub struct OnRelease {
    pub callback: LPCALLERRELEASE,
    pub caller_data: ULONG_PTR,
    /// The ITableData object (a reference of ours, released after the callback).
    pub table_data: *mut ITableData,
    pub release_table_data: unsafe fn(*mut ITableData),
}

/// cbindgen:ignore
pub struct TableClass {
    view: Mutex<TableView>,
    alloc: Allocator,
    table_type: ULONG,
    on_release: Option<OnRelease>,
    /// This object's own interface pointer (CALLERRELEASE is told which view went away).
    this: std::sync::atomic::AtomicPtr<IMAPITable>,
    /// Advise connections of this table (removed when it is released).
    connections: Mutex<Vec<(Arc<Store>, u64)>>,
}

// SAFETY: the raw pointers in `on_release` are a COM object on which this view owns a reference
// (released once, in Drop) and a client callback that CreateTable's contract lets any thread
// call; nothing else about them is shared.
unsafe impl Send for TableClass {}
// SAFETY: as above; every mutable state is behind the Mutex.
unsafe impl Sync for TableClass {}

impl Drop for TableClass {
    fn drop(&mut self) {
        for (store, connection) in self.connections.get_mut().drain(..) {
            // Its sink is released by its delivery thread (core/notify.rs).
            let _ = store.unadvise_table(connection);
        }
        if let Some(r) = self.on_release.take() {
            if let Some(cb) = r.callback {
                // SAFETY: the client's callback with the values it gave HrGetView; the
                // ITableData is alive (we hold a reference) and the view pointer is only an
                // identity now (the object is being freed).
                unsafe { cb(r.caller_data, r.table_data, *self.this.get_mut()) };
            }
            // SAFETY: we own one reference on `table_data`, taken in HrGetView.
            unsafe { (r.release_table_data)(r.table_data) };
        }
    }
}

impl ComClass for TableClass {
    type Interface = IMAPITable;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPITable];
    fn vtbl() -> &'static IMAPITableVtbl {
        &TABLE_VTBL
    }
}

type C = TableClass;
type I = IMAPITable;

const _: () = object::assert_com_layout::<C>();

/// A new IMAPITable over `view`, allocating results with `alloc`; one reference, the caller's.
pub fn new_table(
    view: TableView,
    alloc: Allocator,
    table_type: ULONG,
    on_release: Option<OnRelease>,
) -> *mut IMAPITable {
    let obj = ComObject::create(TableClass {
        view: Mutex::new(view),
        alloc,
        table_type,
        on_release,
        this: std::sync::atomic::AtomicPtr::new(ptr::null_mut()),
        connections: Mutex::new(Vec::new()),
    });
    let p = ComObject::as_interface(obj);
    // SAFETY: `obj` was just created and is ours alone.
    unsafe {
        (*obj)
            .inner
            .this
            .store(p, std::sync::atomic::Ordering::Relaxed)
    };
    p
}

static TABLE_VTBL: IMAPITableVtbl = IMAPITableVtbl {
    QueryInterface: object::query_interface::<C>,
    AddRef: object::add_ref::<C>,
    Release: object::release::<C>,
    GetLastError: get_last_error,
    Advise: advise,
    Unadvise: unadvise,
    GetStatus: get_status,
    SetColumns: set_columns,
    QueryColumns: query_columns,
    GetRowCount: get_row_count,
    SeekRow: seek_row,
    SeekRowApprox: seek_row_approx,
    QueryPosition: query_position,
    FindRow: find_row,
    Restrict: restrict,
    CreateBookmark: create_bookmark,
    FreeBookmark: free_bookmark,
    SortTable: sort_table,
    QuerySortOrder: query_sort_order,
    QueryRows: query_rows,
    Abort: abort,
    ExpandRow: expand_row,
    CollapseRow: collapse_row,
    WaitForCompletion: wait_for_completion,
    GetCollapseState: get_collapse_state,
    SetCollapseState: set_collapse_state,
};

// ---- Conversions --------------------------------------------------------------------------

fn too_complex(what: impl Into<String>) -> MapiError {
    MapiError::new(MAPI_E_TOO_COMPLEX, what)
}

/// A restriction from C. NULL anywhere it points is MAPI_E_INVALID_PARAMETER; unknown RES_*,
/// RELOP_* and BMR_* values too; nesting past MAX_DEPTH or more than MAX_NODES nodes is
/// MAPI_E_TOO_COMPLEX (checked before each level is read, so a hostile chain costs MAX_DEPTH
/// frames at most).
///
/// # Safety
/// `p` must be NULL or a readable SRestriction whose pointers are NULL or readable as its
/// members declare.
pub unsafe fn restriction_in(p: *const SRestriction, what: &str) -> MapiResult<Restriction> {
    let mut nodes = 0;
    // SAFETY: this function's contract.
    unsafe { restriction_at(p, 0, &mut nodes, what) }
}

unsafe fn restriction_at(
    p: *const SRestriction,
    depth: usize,
    nodes: &mut usize,
    what: &str,
) -> MapiResult<Restriction> {
    *nodes += 1;
    if depth >= MAX_DEPTH || *nodes > MAX_NODES {
        return Err(too_complex(format!(
            "{what}: the restriction is nested deeper than {MAX_DEPTH} levels or has more than \
             {MAX_NODES} nodes"
        )));
    }
    // SAFETY: `p` is NULL or readable (the contract); `as_ref` checks NULL.
    let r = unsafe { p.as_ref() }
        .ok_or_else(|| MapiError::invalid(format!("{what}: a restriction pointer is NULL")))?;
    // SAFETY: `rt` selects the union member read in each arm (the caller's contract: the
    // restriction is what its `rt` says), whose pointers are NULL or readable for their counts,
    // which is what slice_in, restriction_at and restriction_value ask.
    unsafe {
        Ok(match r.rt {
            RES_AND | RES_OR => {
                let a = r.res.resAnd;
                let kids = slice_in(a.lpRes as *const SRestriction, a.cRes, what)?;
                let mut v = try_vec_with_capacity(kids.len())?;
                for k in kids {
                    try_push(&mut v, restriction_at(k, depth + 1, nodes, what)?)?;
                }
                if r.rt == RES_AND {
                    Restriction::And(v)
                } else {
                    Restriction::Or(v)
                }
            }
            RES_NOT => Restriction::Not(Box::new(restriction_at(
                r.res.resNot.lpRes,
                depth + 1,
                nodes,
                what,
            )?)),
            RES_CONTENT => {
                let c = r.res.resContent;
                Restriction::Content {
                    fuzzy: c.ulFuzzyLevel,
                    tag: c.ulPropTag,
                    value: restriction_value(c.lpProp, c.ulPropTag, what)?,
                }
            }
            RES_PROPERTY => {
                let c = r.res.resProperty;
                Restriction::Property {
                    relop: relop_in(c.relop, what)?,
                    tag: c.ulPropTag,
                    value: restriction_value(c.lpProp, c.ulPropTag, what)?,
                }
            }
            RES_COMPAREPROPS => {
                let c = r.res.resCompareProps;
                Restriction::CompareProps {
                    relop: relop_in(c.relop, what)?,
                    tag1: c.ulPropTag1,
                    tag2: c.ulPropTag2,
                }
            }
            RES_BITMASK => {
                let c = r.res.resBitMask;
                let nez = match c.relBMR {
                    BMR_EQZ => false,
                    BMR_NEZ => true,
                    other => {
                        return Err(MapiError::invalid(format!(
                            "{what}: unknown RES_BITMASK operator {other}"
                        )))
                    }
                };
                Restriction::BitMask {
                    nez,
                    tag: c.ulPropTag,
                    mask: c.ulMask,
                }
            }
            RES_SIZE => {
                let c = r.res.resSize;
                Restriction::Size {
                    relop: relop_in(c.relop, what)?,
                    tag: c.ulPropTag,
                    cb: c.cb,
                }
            }
            RES_EXIST => Restriction::Exist {
                tag: r.res.resExist.ulPropTag,
            },
            RES_SUBRESTRICTION => {
                let c = r.res.resSub;
                if !matches!(
                    c.ulSubObject,
                    PR_MESSAGE_RECIPIENTS | PR_MESSAGE_ATTACHMENTS
                ) {
                    return Err(MapiError::invalid(format!(
                        "{what}: RES_SUBRESTRICTION on 0x{:08X} (only PR_MESSAGE_RECIPIENTS and \
                         PR_MESSAGE_ATTACHMENTS have sub-objects)",
                        c.ulSubObject
                    )));
                }
                Restriction::Sub {
                    object: c.ulSubObject,
                    restriction: Box::new(restriction_at(c.lpRes, depth + 1, nodes, what)?),
                }
            }
            // Never evaluated, so never read (reference §10.6).
            RES_COMMENT | RES_ANNOTATION => Restriction::Comment,
            RES_COUNT => return Err(too_complex(format!("{what}: RES_COUNT is not supported"))),
            other => {
                return Err(MapiError::invalid(format!(
                    "{what}: unknown restriction type {other}"
                )))
            }
        })
    }
}

fn relop_in(relop: ULONG, what: &str) -> MapiResult<Relop> {
    Relop::from_mapi(relop).map_err(|e| MapiError::new(e.code, format!("{what}: {}", e.message)))
}

/// The constant of a content or property restriction. PT_ERROR (on either side) and types with
/// no comparable value are MAPI_E_TOO_COMPLEX, as mismatched types are.
///
/// # Safety
/// `p` must be NULL or a readable SPropValue whose tag's union member is valid.
unsafe fn restriction_value(p: *const SPropValue, tag: ULONG, what: &str) -> MapiResult<PropValue> {
    // SAFETY: `p` is NULL or readable (the contract); `as_ref` checks NULL.
    let v = unsafe { p.as_ref() }
        .ok_or_else(|| MapiError::invalid(format!("{what}: a restriction's lpProp is NULL")))?;
    if prop_type(tag) == PT_ERROR || prop_type(v.ulPropTag) == PT_ERROR {
        return Err(too_complex(format!(
            "{what}: PT_ERROR values (0x{tag:08X}, 0x{:08X}) cannot be compared",
            v.ulPropTag
        )));
    }
    // SAFETY: the tag's union member is valid (the contract).
    unsafe { value_in(v, what) }.map_err(|e| {
        if e.code == MAPI_E_INVALID_TYPE {
            too_complex(e.message)
        } else {
            e
        }
    })
}

/// A sort order from C. `cCategories` > 0 is MAPI_E_TOO_COMPLEX (no categories); TABLE_SORT_
/// COMBINE and the category orders too; any other unknown `ulOrder` is invalid.
///
/// # Safety
/// `p` must be NULL or a readable SSortOrderSet with `cSorts` entries.
pub unsafe fn sort_in(p: *const SSortOrderSet, what: &str) -> MapiResult<Vec<SortKey>> {
    // SAFETY: `p` is NULL or readable (the contract).
    let s = unsafe { p.as_ref() }
        .ok_or_else(|| MapiError::invalid(format!("{what}: lpSortCriteria is NULL")))?;
    if s.cCategories > s.cSorts || s.cExpanded > s.cCategories {
        return Err(MapiError::invalid(format!(
            "{what}: cCategories {} / cExpanded {} exceed cSorts {}",
            s.cCategories, s.cExpanded, s.cSorts
        )));
    }
    if s.cCategories > 0 {
        return Err(too_complex(format!("{what}: this table has no categories")));
    }
    // SAFETY: a readable SSortOrderSet holds `cSorts` entries after its header (the contract).
    let keys = unsafe { slice_in(s.aSort.as_ptr(), s.cSorts, what) }?;
    let mut out = try_vec_with_capacity(keys.len())?;
    for k in keys {
        let descending = match k.ulOrder {
            TABLE_SORT_ASCEND => false,
            TABLE_SORT_DESCEND => true,
            TABLE_SORT_COMBINE | 4 | 8 => {
                return Err(too_complex(format!(
                    "{what}: sort order {} needs categories",
                    k.ulOrder
                )))
            }
            other => {
                return Err(MapiError::invalid(format!(
                    "{what}: unknown sort order {other}"
                )))
            }
        };
        try_push(
            &mut out,
            SortKey {
                tag: k.ulPropTag,
                descending,
            },
        )?;
    }
    Ok(out)
}

fn sort_out(alloc: Allocator, keys: &[SortKey]) -> MapiResult<*mut SSortOrderSet> {
    let p = alloc.block(cb_sort_order_set(keys.len()))? as *mut SSortOrderSet;
    // SAFETY: the block holds the header and keys.len() entries.
    unsafe {
        (*p).cSorts = keys.len() as ULONG;
        let a = (*p).aSort.as_mut_ptr();
        for (i, k) in keys.iter().enumerate() {
            a.add(i).write(SSortOrder {
                ulPropTag: k.tag,
                ulOrder: if k.descending {
                    TABLE_SORT_DESCEND
                } else {
                    TABLE_SORT_ASCEND
                },
            });
        }
    }
    Ok(p)
}

/// One row's values as results (a PT_ERROR cell is an error value; an empty one has no data).
pub fn cells_out<'a>(props: &'a [(u32, Cell)]) -> MapiResult<Vec<PropOut<'a>>> {
    let mut outs = try_vec_with_capacity(props.len())?;
    for (tag, cell) in props {
        try_push(
            &mut outs,
            match cell {
                Cell::Value(v) => PropOut::Value(*tag, Cow::Borrowed(v)),
                Cell::Error(sc) => PropOut::Error(*tag, *sc),
                Cell::Empty => PropOut::Object(*tag),
            },
        )?;
    }
    Ok(outs)
}

/// An SRowSet: the set one block, each row's `lpProps` another (D:srowset); on failure
/// everything written so far is freed.
pub fn rowset_out<'a>(
    alloc: Allocator,
    rows: impl ExactSizeIterator<Item = &'a [(u32, Cell)]>,
) -> MapiResult<*mut SRowSet> {
    let n = rows.len();
    let set = alloc.block(cb_row_set(n))? as *mut SRowSet;
    for (i, props) in rows.enumerate() {
        let written = cells_out(props).and_then(|outs| prop_array_out(alloc, &outs));
        match written {
            Ok(lp) => {
                // SAFETY: the set has room for `n` rows; `i` < n.
                unsafe {
                    (*set).aRow.as_mut_ptr().add(i).write(SRow {
                        ulAdrEntryPad: 0,
                        cValues: props.len() as ULONG,
                        lpProps: lp,
                    });
                    (*set).cRows = i as ULONG + 1;
                }
            }
            Err(e) => {
                // SAFETY: `set` and the `cRows` rows written so far are blocks of `alloc`.
                unsafe { free_rowset(alloc, set) };
                return Err(e);
            }
        }
    }
    Ok(set)
}

/// FreeProws with a given allocator: each row's `lpProps`, then the set.
///
/// # Safety
/// `set` must be NULL or an SRowSet of `alloc`'s blocks.
pub unsafe fn free_rowset(alloc: Allocator, set: *mut SRowSet) {
    if set.is_null() {
        return;
    }
    // SAFETY: `set` is an SRowSet holding `cRows` rows (the contract).
    unsafe {
        for i in 0..(*set).cRows as usize {
            alloc.free((*(*set).aRow.as_ptr().add(i)).lpProps as *mut c_void);
        }
        alloc.free(set as *mut c_void);
    }
}

/// One row as ITableData returns it: the SRow one block, its values chained to it.
pub fn row_out(alloc: Allocator, props: &[(u32, Cell)]) -> MapiResult<*mut SRow> {
    let row = alloc.block(std::mem::size_of::<SRow>())? as *mut SRow;
    let outs = cells_out(props);
    // SAFETY: `row` is a live root block of `alloc`, just made.
    match outs.and_then(|o| unsafe { prop_array_out_in(alloc, &o, Some(row as *mut c_void)) }) {
        Ok(lp) => {
            // SAFETY: `row` is a block the size of an SRow.
            unsafe {
                row.write(SRow {
                    ulAdrEntryPad: 0,
                    cValues: props.len() as ULONG,
                    lpProps: lp,
                })
            };
            Ok(row)
        }
        Err(e) => {
            // SAFETY: `row` is a root block of `alloc` (its chained blocks go with it).
            unsafe { alloc.free(row as *mut c_void) };
            Err(e)
        }
    }
}

fn fetched_props(rows: &[FetchedRow]) -> impl ExactSizeIterator<Item = &[(u32, Cell)]> {
    rows.iter().map(|r| &r.props[..])
}

// ---- Slots --------------------------------------------------------------------------------

unsafe extern "C" fn get_last_error(
    This: *mut I,
    hResult: HRESULT,
    ulFlags: ULONG,
    lppMAPIError: *mut LPMAPIERROR,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppMAPIError` is NULL or valid for the reads and writes that
    // GetLastError's signature declares (the caller's side of the contract, DESIGN.md §2), and
    // NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetLastError", |obj| {
            let out = guard::cleared_out(lppMAPIError, "GetLastError: lppMAPIError")?;
            check_flags("GetLastError", ulFlags, MAPI_UNICODE)?;
            *out =
                super::prop::object_mapierror(obj.inner.alloc, obj.last_error(), hResult, ulFlags)?;
            Ok(S_OK)
        })
    }
}

/// Advise: fnevTableModified only, on contents and hierarchy tables (core/notify.rs): one
/// TABLE_CHANGED per batch of changes to the table's rows, TABLE_RELOAD after a resync.
unsafe extern "C" fn advise(
    This: *mut I,
    ulEventMask: ULONG,
    lpAdviseSink: *mut IMAPIAdviseSink,
    lpulConnection: *mut ULONG_PTR,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpAdviseSink`, `lpulConnection` are NULL or valid for the
    // reads and writes that Advise's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "Advise", |obj| {
            let out = guard::out_ptr(lpulConnection, "Advise: lpulConnection")?;
            *out = 0;
            // A table that does not notify says so whatever else is passed.
            let Some((store, filter)) = obj.inner.view.lock().notifications() else {
                return Err(MapiError::no_support(
                    "Advise: this table does not notify (only contents and hierarchy tables do)",
                ));
            };
            if lpAdviseSink.is_null() {
                return Err(MapiError::invalid("Advise: lpAdviseSink is NULL"));
            }
            check_mask("Advise", ulEventMask, fnevTableModified)?;
            let sink = Arc::new(TableSink {
                sink: SinkRef::add_ref(lpAdviseSink),
            });
            let connection = store.advise_table(filter, sink)?;
            obj.inner.connections.lock().push((store, connection));
            *out = connection as ULONG_PTR;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn unadvise(This: *mut I, ulConnection: ULONG_PTR) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "Unadvise", |obj| {
            if obj.inner.view.lock().notifications().is_none() {
                return Err(MapiError::no_support(
                    "Unadvise: this table does not notify (only contents and hierarchy tables do)",
                ));
            }
            let mut connections = obj.inner.connections.lock();
            let Some(at) = connections
                .iter()
                .position(|(_, c)| *c == ulConnection as u64)
            else {
                return Err(MapiError::new(
                    MAPI_E_NOT_FOUND,
                    format!("Unadvise: no advise connection {ulConnection} on this table"),
                ));
            };
            let (store, connection) = connections.remove(at);
            drop(connections);
            store.unadvise_table(connection)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn get_status(
    This: *mut I,
    lpulTableStatus: *mut ULONG,
    lpulTableType: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulTableStatus`, `lpulTableType` are NULL or writable (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetStatus", |obj| {
            let status = guard::out_ptr(lpulTableStatus, "GetStatus: lpulTableStatus")?;
            let kind = guard::out_ptr(lpulTableType, "GetStatus: lpulTableType")?;
            *status = TBLSTAT_COMPLETE;
            *kind = obj.inner.table_type;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn set_columns(
    This: *mut I,
    lpPropTagArray: LPSPropTagArray,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpPropTagArray` is NULL or a readable tag array (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "SetColumns", |obj| {
            check_flags("SetColumns", ulFlags, TBL_ASYNC | TBL_BATCH)?;
            let tags = tag_array_in(lpPropTagArray, "SetColumns: lpPropTagArray")?;
            let tags = crate::core::value::try_to_vec(tags)?;
            obj.inner.view.lock().set_columns(tags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn query_columns(
    This: *mut I,
    ulFlags: ULONG,
    lpPropTagArray: *mut LPSPropTagArray,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpPropTagArray` is NULL or writable (the caller's side of
    // the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "QueryColumns", |obj| {
            let out = guard::cleared_out(lpPropTagArray, "QueryColumns: lpPropTagArray")?;
            check_flags("QueryColumns", ulFlags, TBL_ALL_COLUMNS)?;
            let tags = obj
                .inner
                .view
                .lock()
                .query_columns(ulFlags & TBL_ALL_COLUMNS != 0)?;
            *out = tag_array_out(obj.inner.alloc, &tags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn get_row_count(This: *mut I, ulFlags: ULONG, lpulCount: *mut ULONG) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulCount` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetRowCount", |obj| {
            let out = guard::out_ptr(lpulCount, "GetRowCount: lpulCount")?;
            *out = 0;
            check_flags("GetRowCount", ulFlags, 0)?;
            let n = obj.inner.view.lock().row_count()?;
            *out = ULONG::try_from(n).unwrap_or(ULONG::MAX);
            Ok(S_OK)
        })
    }
}

fn position_result(moved: bool) -> HRESULT {
    if moved {
        MAPI_W_POSITION_CHANGED
    } else {
        S_OK
    }
}

unsafe extern "C" fn seek_row(
    This: *mut I,
    bkOrigin: BOOKMARK,
    lRowCount: LONG,
    lplRowsSought: *mut LONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lplRowsSought` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "SeekRow", |obj| {
            let sought = lplRowsSought.as_mut();
            let (moved, changed) = obj
                .inner
                .view
                .lock()
                .seek_row(Origin::from_mapi(bkOrigin), lRowCount)?;
            if let Some(s) = sought {
                *s = moved;
            }
            Ok(position_result(changed))
        })
    }
}

unsafe extern "C" fn seek_row_approx(
    This: *mut I,
    ulNumerator: ULONG,
    ulDenominator: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "SeekRowApprox", |obj| {
            obj.inner
                .view
                .lock()
                .seek_row_approx(ulNumerator, ulDenominator)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn query_position(
    This: *mut I,
    lpulRow: *mut ULONG,
    lpulNumerator: *mut ULONG,
    lpulDenominator: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulRow`, `lpulNumerator`, `lpulDenominator` are NULL or
    // writable (the caller's side of the contract, DESIGN.md §2), and NULL is checked before any
    // use.
    unsafe {
        guard::method::<C>(This, "QueryPosition", |obj| {
            let row = guard::out_ptr(lpulRow, "QueryPosition: lpulRow")?;
            let num = guard::out_ptr(lpulNumerator, "QueryPosition: lpulNumerator")?;
            let den = guard::out_ptr(lpulDenominator, "QueryPosition: lpulDenominator")?;
            (*row, *num, *den) = obj.inner.view.lock().query_position()?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn find_row(
    This: *mut I,
    lpRestriction: LPSRestriction,
    bkOrigin: BOOKMARK,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpRestriction` is NULL or a readable restriction (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "FindRow", |obj| {
            check_flags("FindRow", ulFlags, DIR_BACKWARD)?;
            let r = restriction_in(lpRestriction, "FindRow")?;
            let moved = obj.inner.view.lock().find_row(
                &r,
                Origin::from_mapi(bkOrigin),
                ulFlags & DIR_BACKWARD != 0,
            )?;
            Ok(position_result(moved))
        })
    }
}

unsafe extern "C" fn restrict(
    This: *mut I,
    lpRestriction: LPSRestriction,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpRestriction` is NULL or a readable restriction (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "Restrict", |obj| {
            check_flags("Restrict", ulFlags, TBL_ASYNC | TBL_BATCH)?;
            let r = if lpRestriction.is_null() {
                None
            } else {
                Some(restriction_in(lpRestriction, "Restrict")?)
            };
            obj.inner.view.lock().restrict(r)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn create_bookmark(This: *mut I, lpbkPosition: *mut BOOKMARK) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpbkPosition` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CreateBookmark", |obj| {
            let out = guard::out_ptr(lpbkPosition, "CreateBookmark: lpbkPosition")?;
            *out = BOOKMARK_BEGINNING;
            *out = obj.inner.view.lock().create_bookmark()?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn free_bookmark(This: *mut I, bkPosition: BOOKMARK) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "FreeBookmark", |obj| {
            obj.inner.view.lock().free_bookmark(bkPosition)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn sort_table(
    This: *mut I,
    lpSortCriteria: LPSSortOrderSet,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpSortCriteria` is NULL or a readable sort order set (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "SortTable", |obj| {
            check_flags("SortTable", ulFlags, TBL_ASYNC | TBL_BATCH)?;
            let keys = sort_in(lpSortCriteria, "SortTable")?;
            obj.inner.view.lock().sort_table(keys)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn query_sort_order(
    This: *mut I,
    lppSortCriteria: *mut LPSSortOrderSet,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppSortCriteria` is NULL or writable (the caller's side of
    // the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "QuerySortOrder", |obj| {
            let out = guard::cleared_out(lppSortCriteria, "QuerySortOrder: lppSortCriteria")?;
            let keys = obj.inner.view.lock().sort_order().to_vec();
            *out = sort_out(obj.inner.alloc, &keys)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn query_rows(
    This: *mut I,
    lRowCount: LONG,
    ulFlags: ULONG,
    lppRows: *mut LPSRowSet,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppRows` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "QueryRows", |obj| {
            let out = guard::cleared_out(lppRows, "QueryRows: lppRows")?;
            check_flags("QueryRows", ulFlags, TBL_NOADVANCE)?;
            // The lock is released before the allocator (perhaps the client's) runs.
            let rows = obj
                .inner
                .view
                .lock()
                .query_rows(lRowCount, ulFlags & TBL_NOADVANCE != 0)?;
            *out = rowset_out(obj.inner.alloc, fetched_props(&rows))?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn abort(This: *mut I) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "Abort", |_| Ok(S_OK)) }
}

unsafe extern "C" fn expand_row(
    This: *mut I,
    _cbInstanceKey: ULONG,
    _pbInstanceKey: LPBYTE,
    _ulRowCount: ULONG,
    _ulFlags: ULONG,
    lppRows: *mut LPSRowSet,
    lpulMoreRows: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppRows`, `lpulMoreRows` are NULL or writable (the caller's
    // side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "ExpandRow", |_| {
            guard::optional_out(lppRows);
            if let Some(m) = lpulMoreRows.as_mut() {
                *m = 0;
            }
            Err(MapiError::no_support("ExpandRow (categories)"))
        })
    }
}

unsafe extern "C" fn collapse_row(
    This: *mut I,
    _cbInstanceKey: ULONG,
    _pbInstanceKey: LPBYTE,
    _ulFlags: ULONG,
    lpulRowCount: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulRowCount` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CollapseRow", |_| {
            if let Some(m) = lpulRowCount.as_mut() {
                *m = 0;
            }
            Err(MapiError::no_support("CollapseRow (categories)"))
        })
    }
}

unsafe extern "C" fn wait_for_completion(
    This: *mut I,
    ulFlags: ULONG,
    _ulTimeout: ULONG,
    lpulTableStatus: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulTableStatus` is NULL or writable (the caller's side of
    // the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "WaitForCompletion", |_| {
            check_flags("WaitForCompletion", ulFlags, 0)?;
            if let Some(s) = lpulTableStatus.as_mut() {
                *s = TBLSTAT_COMPLETE;
            }
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn get_collapse_state(
    This: *mut I,
    _ulFlags: ULONG,
    _cbInstanceKey: ULONG,
    _lpbInstanceKey: LPBYTE,
    lpcbCollapseState: *mut ULONG,
    lppbCollapseState: *mut LPBYTE,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpcbCollapseState`, `lppbCollapseState` are NULL or
    // writable (the caller's side of the contract, DESIGN.md §2), and NULL is checked before any
    // use.
    unsafe {
        guard::method::<C>(This, "GetCollapseState", |_| {
            if let Some(c) = lpcbCollapseState.as_mut() {
                *c = 0;
            }
            guard::optional_out(lppbCollapseState);
            Err(MapiError::no_support("GetCollapseState (categories)"))
        })
    }
}

unsafe extern "C" fn set_collapse_state(
    This: *mut I,
    _ulFlags: ULONG,
    _cbCollapseState: ULONG,
    _pbCollapseState: LPBYTE,
    lpbkLocation: *mut BOOKMARK,
) -> HRESULT {
    // SAFETY: `This` came through `TableClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpbkLocation` is NULL or writable (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "SetCollapseState", |_| {
            if let Some(b) = lpbkLocation.as_mut() {
                *b = BOOKMARK_BEGINNING;
            }
            Err(MapiError::no_support("SetCollapseState (categories)"))
        })
    }
}
