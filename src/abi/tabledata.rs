//! CreateTable and ITableData (reference §12.1): an in-memory table a client fills row by row,
//! keyed by one index column, and views through IMAPITable (HrGetView) — the same table engine
//! as every other table (`core::table`), over `core::table::memory::MemoryTable`. Results are
//! allocated with the three allocator functions given to CreateTable. No notifications yet:
//! HrNotify accepts and drops them, as no view can Advise.

use super::alloc::Allocator;
use super::convert::{slice_in, tag_array_in, value_in};
use super::guard;
use super::iids::IID_IMAPITableData;
use super::interfaces::*;
use super::object::{self, ComClass, ComObject};
use super::table::{new_table, row_out, sort_in, OnRelease};
use super::types::*;
use crate::core::error::{check_flags, MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::proputil::is_bad_prop_tag;
use crate::core::table::memory::MemoryTable;
use crate::core::table::view::TableView;
use crate::core::table::{Cell, RowSource};
use crate::core::value::{prop_type, try_push, try_to_vec, try_vec_with_capacity};
use std::sync::Arc;

/// HrDeleteRows: delete every row (`lprowsetToDelete` is then ignored).
pub const TAD_ALL_ROWS: u32 = 0x1;

/// cbindgen:ignore
pub struct TableDataClass {
    table: Arc<MemoryTable>,
    alloc: Allocator,
    table_type: ULONG,
}

impl ComClass for TableDataClass {
    type Interface = ITableData;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPITableData];
    fn vtbl() -> &'static ITableDataVtbl {
        &TABLEDATA_VTBL
    }
}

type C = TableDataClass;
type I = ITableData;

const _: () = object::assert_com_layout::<C>();

static TABLEDATA_VTBL: ITableDataVtbl = ITableDataVtbl {
    QueryInterface: object::query_interface::<C>,
    AddRef: object::add_ref::<C>,
    Release: object::release::<C>,
    HrGetView: hr_get_view,
    HrModifyRow: hr_modify_row,
    HrDeleteRow: hr_delete_row,
    HrQueryRow: hr_query_row,
    HrEnumRow: hr_enum_row,
    HrNotify: hr_notify,
    HrInsertRow: hr_insert_row,
    HrModifyRows: hr_modify_rows,
    HrDeleteRows: hr_delete_rows,
};

/// Creates an in-memory table (MAPI's `CreateTable`). `lpInterface` NULL or
/// IID_IMAPITableData; `ulTableType` TBLTYPE_SNAPSHOT, _KEYSET or _DYNAMIC (reported by the
/// views' GetStatus; every view sees changes at its next call); `ulPropTagIndexColumn` the
/// column whose value identifies a row (not multi-valued); `lpSPropTagArrayColumns` the columns
/// of the table (QueryColumns with TBL_ALL_COLUMNS, and a new view's columns). Release it with
/// its Release slot; views keep its rows alive.
///
/// # Safety
/// Pointers must be NULL or valid; the allocator functions must behave as MAPI's.
#[no_mangle]
pub unsafe extern "C" fn CreateTable(
    lpInterface: LPCIID,
    lpAllocateBuffer: Option<unsafe extern "C" fn(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE>,
    lpAllocateMore: Option<
        unsafe extern "C" fn(cbSize: ULONG, lpObject: LPVOID, lppBuffer: *mut LPVOID) -> SCODE,
    >,
    lpFreeBuffer: Option<unsafe extern "C" fn(lpBuffer: LPVOID) -> ULONG>,
    lpvReserved: LPVOID,
    ulTableType: ULONG,
    ulPropTagIndexColumn: ULONG,
    lpSPropTagArrayColumns: LPSPropTagArray,
    lppTableData: *mut LPTABLEDATA,
) -> SCODE {
    // SAFETY: `lpInterface` is NULL or a readable IID, `lpSPropTagArrayColumns` NULL or a
    // readable tag array and `lppTableData` NULL or writable (the caller's side of the contract,
    // DESIGN.md §2; NULL is checked before any use); the three allocator functions behave as
    // MAPI's (CreateTable's contract), which is what Allocator::foreign asks.
    unsafe {
        guard::free_fn("CreateTable", || {
            let out = guard::cleared_out(lppTableData, "CreateTable: lppTableData")?;
            object::check_interface::<C>(lpInterface, "CreateTable")?;
            let alloc = Allocator::from_client(
                lpAllocateBuffer,
                lpAllocateMore,
                lpFreeBuffer,
                lpvReserved,
                "CreateTable",
            )?;
            if ulTableType > TBLTYPE_DYNAMIC {
                return Err(MapiError::invalid(format!(
                    "CreateTable: unknown table type {ulTableType}"
                )));
            }
            let columns = tag_array_in(lpSPropTagArrayColumns, "CreateTable: columns")?;
            if let Some(bad) = columns
                .iter()
                .find(|t| prop_type(**t) == PT_ERROR || is_bad_prop_tag(**t))
            {
                return Err(MapiError::invalid(format!(
                    "CreateTable: column 0x{bad:08X} has no valid property type"
                )));
            }
            let table = MemoryTable::new(ulPropTagIndexColumn, try_to_vec(columns)?)?;
            let obj = ComObject::create(TableDataClass {
                table: Arc::new(table),
                alloc,
                table_type: ulTableType,
            });
            *out = ComObject::as_interface(obj);
            Ok(S_OK)
        })
    }
}

/// One value of a row from C: PT_ERROR keeps its SCODE, PT_NULL and PT_OBJECT have no data.
///
/// # Safety
/// The union member the tag's type selects must be valid, with readable pointers.
unsafe fn cell_in(p: &SPropValue, what: &str) -> MapiResult<(u32, Cell)> {
    let tag = p.ulPropTag;
    Ok(match prop_type(tag) {
        // SAFETY: PT_ERROR selects `err` (the contract).
        PT_ERROR => (tag, Cell::Error(unsafe { p.Value.err })),
        PT_NULL | PT_OBJECT => (tag, Cell::Empty),
        // SAFETY: the contract is value_in's.
        _ => (tag, Cell::Value(unsafe { value_in(p, what) }?)),
    })
}

/// A row from C (all its values copied).
///
/// # Safety
/// `p` must be NULL or a readable SRow whose `lpProps` holds `cValues` valid values.
unsafe fn row_in(p: *const SRow, what: &str) -> MapiResult<Vec<(u32, Cell)>> {
    // SAFETY: `p` is NULL or readable (the contract); `as_ref` checks NULL.
    let row = unsafe { p.as_ref() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))?;
    // SAFETY: `lpProps` holds `cValues` values (the contract).
    let values = unsafe { slice_in(row.lpProps as *const SPropValue, row.cValues, what) }?;
    let mut out = try_vec_with_capacity(values.len())?;
    for v in values {
        // SAFETY: each value is valid (the contract).
        try_push(&mut out, unsafe { cell_in(v, what) }?)?;
    }
    Ok(out)
}

/// The rows of an SRowSet from C.
///
/// # Safety
/// `p` must be NULL or a readable SRowSet of valid rows.
unsafe fn rowset_in(p: *const SRowSet, what: &str) -> MapiResult<Vec<Vec<(u32, Cell)>>> {
    // SAFETY: `p` is NULL or readable (the contract); `as_ref` checks NULL.
    let set = unsafe { p.as_ref() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))?;
    // SAFETY: a readable SRowSet holds `cRows` rows (the contract).
    let rows = unsafe { slice_in(set.aRow.as_ptr(), set.cRows, what) }?;
    let mut out = try_vec_with_capacity(rows.len())?;
    for r in rows {
        // SAFETY: each row is valid (the contract).
        try_push(&mut out, unsafe { row_in(r, what) }?)?;
    }
    Ok(out)
}

/// An index column value from C.
///
/// # Safety
/// `p` must be NULL or a readable, valid SPropValue.
unsafe fn index_in(p: *const SPropValue, what: &str) -> MapiResult<(u32, Cell)> {
    // SAFETY: `p` is NULL or readable (the contract); `as_ref` checks NULL.
    let v = unsafe { p.as_ref() }.ok_or_else(|| MapiError::invalid(format!("{what} is NULL")))?;
    // SAFETY: `v` is valid (the contract).
    unsafe { cell_in(v, what) }
}

/// Releases a view's reference on its ITableData (OnRelease::release_table_data).
unsafe fn release_table_data(p: *mut ITableData) {
    // SAFETY: `p` is one of our ITableData objects on which the view owns a reference.
    unsafe { ComObject::<C>::release(p as *mut ComObject<C>) };
}

unsafe extern "C" fn hr_get_view(
    This: *mut I,
    lpSSortOrderSet: LPSSortOrderSet,
    lpfCallerRelease: LPCALLERRELEASE,
    ulCallerData: ULONG_PTR,
    lppMAPITable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSSortOrderSet` is NULL or a readable sort order
    // set and `lppMAPITable` NULL or writable (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use; `lpfCallerRelease` is the client's function, called
    // once when the view is released.
    unsafe {
        guard::method::<C>(This, "HrGetView", |obj| {
            let out = guard::cleared_out(lppMAPITable, "HrGetView: lppMAPITable")?;
            let sort = if lpSSortOrderSet.is_null() {
                Vec::new()
            } else {
                sort_in(lpSSortOrderSet, "HrGetView")?
            };
            let source: Arc<dyn RowSource> = obj.inner.table.clone();
            let view = TableView::new(source, sort)?;
            // The view holds a reference on this ITableData until the callback has run.
            obj.add_ref();
            let on_release = OnRelease {
                callback: lpfCallerRelease,
                caller_data: ulCallerData,
                table_data: This,
                release_table_data,
            };
            *out = new_table(
                view,
                obj.inner.alloc,
                obj.inner.table_type,
                Some(on_release),
            );
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_modify_row(This: *mut I, lpSRow: LPSRow) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSRow` is NULL or a readable row (the caller's
    // side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrModifyRow", |obj| {
            let row = row_in(lpSRow, "HrModifyRow: lpSRow")?;
            obj.inner.table.modify_row(row, None)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_delete_row(This: *mut I, lpSPropValue: LPSPropValue) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSPropValue` is NULL or a readable value (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrDeleteRow", |obj| {
            let (tag, value) = index_in(lpSPropValue, "HrDeleteRow: lpSPropValue")?;
            obj.inner.table.delete_row(tag, &value)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_query_row(
    This: *mut I,
    lpsPropValue: LPSPropValue,
    lppSRow: *mut LPSRow,
    lpuliRow: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpsPropValue` is NULL or a readable value and
    // `lppSRow`, `lpuliRow` NULL or writable (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrQueryRow", |obj| {
            let out = guard::cleared_out(lppSRow, "HrQueryRow: lppSRow")?;
            let index = lpuliRow.as_mut();
            let (tag, value) = index_in(lpsPropValue, "HrQueryRow: lpsPropValue")?;
            let (row, at) = obj.inner.table.query_row(tag, &value)?;
            *out = row_out(obj.inner.alloc, &row)?;
            if let Some(i) = index {
                *i = ULONG::try_from(at).unwrap_or(ULONG::MAX);
            }
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_enum_row(
    This: *mut I,
    ulRowNumber: ULONG,
    lppSRow: *mut LPSRow,
) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lppSRow` is NULL or writable (the caller's side
    // of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrEnumRow", |obj| {
            let out = guard::cleared_out(lppSRow, "HrEnumRow: lppSRow")?;
            // Past the last row: S_OK with NULL.
            if let Some(row) = obj.inner.table.enum_row(ulRowNumber as usize) {
                *out = row_out(obj.inner.alloc, &row)?;
            }
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_notify(
    This: *mut I,
    ulFlags: ULONG,
    cValues: ULONG,
    lpSPropValue: LPSPropValue,
) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSPropValue` is NULL or `cValues` readable
    // values (the caller's side of the contract, DESIGN.md §2), and NULL is checked before any
    // use.
    unsafe {
        guard::method::<C>(This, "HrNotify", |_| {
            check_flags("HrNotify", ulFlags, 0)?;
            slice_in(lpSPropValue as *const SPropValue, cValues, "HrNotify")?;
            // No view can Advise yet, so there is nobody to tell.
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_insert_row(This: *mut I, uliRow: ULONG, lpSRow: LPSRow) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSRow` is NULL or a readable row (the caller's
    // side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrInsertRow", |obj| {
            let row = row_in(lpSRow, "HrInsertRow: lpSRow")?;
            obj.inner.table.insert_row(row, uliRow as usize)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_modify_rows(This: *mut I, ulFlags: ULONG, lpSRowSet: LPSRowSet) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lpSRowSet` is NULL or a readable row set (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrModifyRows", |obj| {
            check_flags("HrModifyRows", ulFlags, 0)?;
            // Every row is read and checked before any is applied.
            let rows = rowset_in(lpSRowSet, "HrModifyRows: lpSRowSet")?;
            let index = obj.inner.table.index_tag();
            if let Some(i) = rows
                .iter()
                .position(|r| !r.iter().any(|(t, _)| *t == index))
            {
                return Err(MapiError::invalid(format!(
                    "HrModifyRows: row {i} has no value for the index column 0x{index:08X}"
                )));
            }
            for row in rows {
                obj.inner.table.modify_row(row, None)?;
            }
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_delete_rows(
    This: *mut I,
    ulFlags: ULONG,
    lprowsetToDelete: LPSRowSet,
    cRowsDeleted: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `TableDataClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class; `lprowsetToDelete` is NULL or a readable row set
    // and `cRowsDeleted` NULL or writable (the caller's side of the contract, DESIGN.md §2), and
    // NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrDeleteRows", |obj| {
            let count = cRowsDeleted.as_mut();
            check_flags("HrDeleteRows", ulFlags, TAD_ALL_ROWS)?;
            let table = &obj.inner.table;
            let deleted = if ulFlags & TAD_ALL_ROWS != 0 {
                table.delete_all()
            } else {
                let rows = rowset_in(lprowsetToDelete, "HrDeleteRows: lprowsetToDelete")?;
                let index = table.index_tag();
                let mut n = 0;
                for row in rows {
                    // A row without its index value, or one not in the table, is skipped.
                    if let Some((tag, value)) = row.iter().find(|(t, _)| *t == index) {
                        if table.has_row(*tag, value)? {
                            table.delete_row(*tag, value)?;
                            n += 1;
                        }
                    }
                }
                n
            };
            if let Some(c) = count {
                *c = ULONG::try_from(deleted).unwrap_or(ULONG::MAX);
            }
            Ok(S_OK)
        })
    }
}
