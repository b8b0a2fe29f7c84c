//! The `tables` target: a CreateTable table filled and changed through ITableData, viewed
//! through two IMAPITables, and driven with hostile restrictions (NULL sub-pointers, unknown
//! types and operators, mismatched and PT_ERROR values, deep chains, shared sub-arrays), sort
//! orders, column sets, counts, bookmarks and flags. Checks: every HRESULT is one the method
//! may return, failures leave out-parameters NULL, every row set is well-formed (one value per
//! column in force, at most the rows asked for) and freed, positions stay within the table, and
//! nothing is left alive.

use crate::common::*;
use msgstore::abi::alloc::{MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer};
use msgstore::abi::interfaces::*;
use msgstore::abi::mapiutil::{FreeProws, HrQueryAllRows};
use msgstore::abi::tabledata::{CreateTable, TAD_ALL_ROWS};
use msgstore::abi::types::*;
use msgstore::core::mapidefs::*;
use std::ffi::c_void;
use std::ptr;

const PR_ID: u32 = 0x6001_0003;
/// The table's columns (PR_ID is the index).
const COLUMNS: [u32; 7] = [
    PR_ID,
    0x6002_001E, // PT_STRING8
    0x6003_001F, // PT_UNICODE
    0x6004_0102, // PT_BINARY
    0x6005_0003, // PT_LONG
    0x6006_1003, // PT_MV_LONG
    0x6007_0005, // PT_DOUBLE
];

/// A tag: mostly a column (sometimes with another type), sometimes anything.
fn table_tag(r: &mut Reader) -> u32 {
    match r.u8() % 8 {
        0 => tag(r),
        1 => (r.pick(&COLUMNS) & 0xFFFF_0000) | r.pick(TYPES),
        2 => PR_NULL,
        _ => r.pick(&COLUMNS),
    }
}

/// A value for `tag`: small domains (so that restrictions match and sorts tie) or anything.
fn table_value(r: &mut Reader, a: &mut Arena, tag: u32) -> PV {
    const WORDS: [&[u8]; 6] = [b"\0", b"a\0", b"A\0", b"ab\0", b"Ab\0", b"b\0"];
    if r.one_in(4) {
        return value(r, a, tag);
    }
    match tag & 0xFFFF {
        PT_LONG => PV {
            l: r.below(5) as i32 - 2,
        },
        PT_DOUBLE => PV {
            dbl: r.below(3) as f64,
        },
        PT_STRING8 => PV {
            lpszA: a.put(r.pick(&WORDS).to_vec()) as *mut i8,
        },
        PT_UNICODE => {
            let w: Vec<u16> = r.pick(&WORDS).iter().map(|b| *b as u16).collect();
            PV { lpszW: a.put(w) }
        }
        PT_BINARY => {
            let b = r.pick(&WORDS);
            PV {
                bin: SBinary {
                    cb: (b.len() - 1) as u32,
                    lpb: a.put(b.to_vec()),
                },
            }
        }
        _ => value(r, a, tag),
    }
}

fn prop(r: &mut Reader, a: &mut Arena, tag: u32) -> SPropValue {
    SPropValue {
        ulPropTag: tag,
        dwAlignPad: 0,
        Value: table_value(r, a, tag),
    }
}

/// One row: the index (usually) and some columns.
fn row(r: &mut Reader, a: &mut Arena) -> SRow {
    let mut vals = Vec::new();
    if !r.one_in(16) {
        vals.push(SPropValue {
            ulPropTag: PR_ID,
            dwAlignPad: 0,
            Value: PV {
                l: r.below(24) as i32,
            },
        });
    }
    for _ in 0..r.below(6) {
        let t = table_tag(r);
        vals.push(prop(r, a, t));
    }
    let n = vals.len();
    SRow {
        ulAdrEntryPad: 0,
        cValues: r.count(n),
        lpProps: if r.one_in(32) {
            ptr::null_mut()
        } else {
            a.put(vals)
        },
    }
}

/// A row set of up to 4 rows (NULL sometimes).
fn row_set(r: &mut Reader, a: &mut Arena) -> *mut SRowSet {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let n = r.below(5);
    // The count, padding, then the rows (SRowSet's layout), in u64 words.
    let mut words: Vec<u64> = vec![0; 1 + 2 * n];
    for i in 0..n {
        let row = row(r, a);
        // SAFETY: words[1 + 2i .. 3 + 2i] is 16 bytes, an SRow's size and alignment.
        unsafe { ptr::write(words.as_mut_ptr().add(1 + 2 * i) as *mut SRow, row) };
    }
    words[0] = r.count(n) as u64;
    a.put(words) as *mut SRowSet
}

/// A restriction tree (pointers valid or NULL, never wild), at most `depth` levels here, plus
/// the occasional long chain that the library must refuse.
pub(crate) fn restriction(r: &mut Reader, a: &mut Arena, depth: u32) -> *mut SRestriction {
    if r.one_in(24) {
        return ptr::null_mut();
    }
    let mut s = SRestriction {
        rt: 0,
        res: SRestrictionUnion {
            resExist: SExistRestriction {
                ulReserved1: 0,
                ulPropTag: 0,
                ulReserved2: 0,
            },
        },
    };
    let leaf = depth == 0;
    let kind = r.u8() % 16;
    let relop = |r: &mut Reader| {
        if r.one_in(16) {
            r.u32()
        } else {
            r.below(7) as u32
        }
    };
    match kind {
        0 | 1 if !leaf => {
            let n = r.below(4);
            let kids: Vec<SRestriction> = (0..n)
                .map(|_| {
                    let k = restriction(r, a, depth - 1);
                    if k.is_null() {
                        exist(PR_ID)
                    } else {
                        // SAFETY: `k` points into the arena, a whole SRestriction.
                        unsafe { ptr::read(k) }
                    }
                })
                .collect();
            s.rt = if kind == 0 { RES_AND } else { RES_OR };
            let count = r.count(n);
            let p = if r.one_in(32) {
                ptr::null_mut()
            } else {
                a.put(kids)
            };
            s.res.resAnd = SAndRestriction {
                cRes: count,
                lpRes: p,
            };
        }
        2 if !leaf => {
            s.rt = RES_NOT;
            s.res.resNot = SNotRestriction {
                ulReserved: 0,
                lpRes: restriction(r, a, depth - 1),
            };
        }
        3 if !leaf => {
            s.rt = RES_SUBRESTRICTION;
            s.res.resSub = SSubRestriction {
                ulSubObject: r.pick(&[0x0E12_000D, 0x0E13_000D, PR_ID]),
                lpRes: restriction(r, a, depth - 1),
            };
        }
        4 if !leaf && r.one_in(4) => {
            // A chain deeper than the library allows (or just under it).
            let n = 100 + r.below(200);
            let mut chain: Vec<SRestriction> = (0..=n).map(|_| exist(PR_ID)).collect();
            let base = chain.as_mut_ptr();
            for (i, c) in chain.iter_mut().enumerate().take(n) {
                c.rt = RES_NOT;
                // SAFETY: i + 1 <= n is inside the vector, whose buffer does not move.
                c.res.resNot = SNotRestriction {
                    ulReserved: 0,
                    lpRes: unsafe { base.add(i + 1) },
                };
            }
            return a.put(chain);
        }
        5 | 6 => {
            let t = table_tag(r);
            let vt = if r.one_in(4) {
                table_tag(r)
            } else {
                t & !MV_FLAG
            };
            let v = prop(r, a, vt);
            let lp = if r.one_in(24) {
                ptr::null_mut()
            } else {
                a.put(vec![v])
            };
            if kind == 5 {
                s.rt = RES_PROPERTY;
                s.res.resProperty = SPropertyRestriction {
                    relop: relop(r),
                    ulPropTag: t,
                    lpProp: lp,
                };
            } else {
                s.rt = RES_CONTENT;
                let fuzzy = match r.u8() % 4 {
                    0 => r.u32(),
                    _ => r.below(3) as u32 | (r.below(8) as u32) << 16,
                };
                s.res.resContent = SContentRestriction {
                    ulFuzzyLevel: fuzzy,
                    ulPropTag: t,
                    lpProp: lp,
                };
            }
        }
        7 => {
            s.rt = RES_COMPAREPROPS;
            s.res.resCompareProps = SComparePropsRestriction {
                relop: relop(r),
                ulPropTag1: table_tag(r),
                ulPropTag2: table_tag(r),
            };
        }
        8 => {
            s.rt = RES_BITMASK;
            s.res.resBitMask = SBitMaskRestriction {
                relBMR: r.below(3) as u32,
                ulPropTag: table_tag(r),
                ulMask: r.u32(),
            };
        }
        9 => {
            s.rt = RES_SIZE;
            s.res.resSize = SSizeRestriction {
                relop: relop(r),
                ulPropTag: table_tag(r),
                cb: r.below(8) as u32,
            };
        }
        10 => {
            let any = r.u32();
            s.rt = r.pick(&[RES_COMMENT, RES_ANNOTATION, RES_COUNT, 13, any]);
        }
        _ => s = exist(table_tag(r)),
    }
    a.put(vec![s])
}

fn exist(tag: u32) -> SRestriction {
    SRestriction {
        rt: RES_EXIST,
        res: SRestrictionUnion {
            resExist: SExistRestriction {
                ulReserved1: 0,
                ulPropTag: tag,
                ulReserved2: 0,
            },
        },
    }
}

/// A sort order (NULL sometimes), its counts consistent or hostile.
pub(crate) fn sort_order(r: &mut Reader, a: &mut Arena) -> *mut SSortOrderSet {
    if r.one_in(16) {
        return ptr::null_mut();
    }
    let n = r.below(4);
    let mut words: Vec<u32> = vec![0; 3 + 2 * n];
    for i in 0..n {
        words[3 + 2 * i] = table_tag(r);
        words[4 + 2 * i] = if r.one_in(8) {
            r.u32()
        } else {
            r.below(2) as u32
        };
    }
    words[0] = r.count(n);
    if r.one_in(8) {
        words[1] = r.below(3) as u32;
        words[2] = r.below(3) as u32;
    }
    a.put(words) as *mut SSortOrderSet
}

pub(crate) fn expect(hr: HRESULT, allowed: &[HRESULT], what: &str) {
    assert!(
        hr == S_OK || hr == MAPI_E_NOT_ENOUGH_MEMORY || allowed.contains(&hr),
        "{what}: unexpected HRESULT 0x{:08X}",
        hr as u32
    );
}

pub(crate) const BAD: HRESULT = MAPI_E_INVALID_PARAMETER;
/// What a value from C may be refused with: NULL pointers or empty MV arrays, types with no
/// stored form, UTF-16 that is not.
const VALUE: [HRESULT; 3] = [BAD, MAPI_E_INVALID_TYPE, MAPI_E_BAD_CHARWIDTH];

/// Walks and frees a row set; every row has `columns` values when known.
///
/// # Safety
/// `p` must be NULL or a row set the library returned.
pub(crate) unsafe fn take_rows(
    hr: HRESULT,
    p: *mut SRowSet,
    max: usize,
    columns: Option<u32>,
) -> usize {
    check_out_on_failure(hr, p as *const c_void, "row set");
    if p.is_null() {
        assert!(hr < 0, "a successful call returned no row set");
        return 0;
    }
    let n = (*p).cRows as usize;
    assert!(n <= max, "{n} rows returned for at most {max}");
    for i in 0..n {
        let row = &*(*p).aRow.as_ptr().add(i);
        if let Some(c) = columns {
            assert_eq!(row.cValues, c, "a row without one value per column");
        }
        for j in 0..row.cValues as usize {
            walk_value(&*row.lpProps.add(j));
        }
    }
    FreeProws(p);
    n
}

/// One table view and what the harness knows of it.
struct View {
    t: *mut IMAPITable,
    columns: u32,
    bookmarks: Vec<BOOKMARK>,
}

pub fn tables(data: &[u8]) {
    let mut r = Reader::new(data);
    let mut a = Arena::default();
    // SAFETY: every pointer comes from the library or the arena, and is used while we hold a
    // reference on the object it belongs to.
    unsafe {
        let mut cols = vec![COLUMNS.len() as u32];
        cols.extend_from_slice(&COLUMNS);
        let mut td: *mut ITableData = ptr::null_mut();
        let hr = CreateTable(
            ptr::null(),
            Some(MAPIAllocateBuffer),
            Some(MAPIAllocateMore),
            Some(MAPIFreeBuffer),
            ptr::null_mut(),
            TBLTYPE_DYNAMIC,
            PR_ID,
            cols.as_mut_ptr() as *mut SPropTagArray,
            &mut td,
        );
        assert_eq!(hr, S_OK, "CreateTable failed");
        let tdv = &*(*td).lpVtbl;
        let mut views: Vec<View> = Vec::new();
        for _ in 0..2 {
            let mut t: *mut IMAPITable = ptr::null_mut();
            let hr = (tdv.HrGetView)(td, ptr::null_mut(), None, 0, &mut t);
            assert_eq!(hr, S_OK, "HrGetView failed");
            views.push(View {
                t,
                columns: COLUMNS.len() as u32,
                bookmarks: Vec::new(),
            });
        }
        let mut steps = 0;
        while !r.is_empty() && steps < 96 {
            steps += 1;
            let vi = r.below(views.len());
            let v = &mut views[vi];
            let t = v.t;
            let tv = &*(*t).lpVtbl;
            match r.u8() % 20 {
                0 | 1 => {
                    let mut row = row(&mut r, &mut a);
                    let hr = if r.bool() {
                        (tdv.HrModifyRow)(td, &mut row)
                    } else {
                        (tdv.HrInsertRow)(td, r.below(30) as u32, &mut row)
                    };
                    expect(hr, &VALUE, "HrModifyRow/HrInsertRow");
                }
                2 => {
                    let set = row_set(&mut r, &mut a);
                    let hr = (tdv.HrModifyRows)(td, r.flags(0), set);
                    expect(
                        hr,
                        &[&VALUE[..], &[MAPI_E_UNKNOWN_FLAGS]].concat(),
                        "HrModifyRows",
                    );
                }
                3 => {
                    let key_tag = if r.one_in(4) {
                        table_tag(&mut r)
                    } else {
                        PR_ID
                    };
                    let mut key = prop(&mut r, &mut a, key_tag);
                    let hr = if r.bool() {
                        (tdv.HrDeleteRow)(td, &mut key)
                    } else {
                        let mut row: LPSRow = 1 as LPSRow;
                        let mut at = 0;
                        let hr = (tdv.HrQueryRow)(td, &mut key, &mut row, &mut at);
                        check_out_on_failure(hr, row as *const c_void, "HrQueryRow");
                        if hr == S_OK {
                            for j in 0..(*row).cValues as usize {
                                walk_value(&*(*row).lpProps.add(j));
                            }
                            MAPIFreeBuffer(row as LPVOID);
                        }
                        hr
                    };
                    expect(
                        hr,
                        &[&VALUE[..], &[MAPI_E_NOT_FOUND]].concat(),
                        "HrDeleteRow/HrQueryRow",
                    );
                }
                4 => {
                    let set = row_set(&mut r, &mut a);
                    let flags = if r.one_in(8) {
                        TAD_ALL_ROWS
                    } else {
                        r.flags(TAD_ALL_ROWS)
                    };
                    let mut n = 0;
                    let hr = (tdv.HrDeleteRows)(td, flags, set, &mut n);
                    expect(
                        hr,
                        &[&VALUE[..], &[MAPI_E_UNKNOWN_FLAGS]].concat(),
                        "HrDeleteRows",
                    );
                }
                5 => {
                    let tags = tag_array(&mut r, &mut a);
                    let hr = (tv.SetColumns)(t, tags, r.flags(TBL_ASYNC | TBL_BATCH));
                    expect(
                        hr,
                        &[BAD, MAPI_E_TOO_COMPLEX, MAPI_E_UNKNOWN_FLAGS],
                        "SetColumns",
                    );
                    if hr == S_OK {
                        v.columns = (*tags).cValues;
                    }
                }
                6 => {
                    let res = restriction(&mut r, &mut a, 4);
                    let hr = (tv.Restrict)(t, res, r.flags(TBL_ASYNC | TBL_BATCH));
                    expect(
                        hr,
                        &[
                            BAD,
                            MAPI_E_BAD_CHARWIDTH,
                            MAPI_E_TOO_COMPLEX,
                            MAPI_E_UNKNOWN_FLAGS,
                        ],
                        "Restrict",
                    );
                    if hr == S_OK {
                        v.bookmarks.clear();
                    }
                }
                7 => {
                    let sos = sort_order(&mut r, &mut a);
                    let hr = (tv.SortTable)(t, sos, r.flags(TBL_ASYNC | TBL_BATCH));
                    expect(
                        hr,
                        &[BAD, MAPI_E_TOO_COMPLEX, MAPI_E_UNKNOWN_FLAGS],
                        "SortTable",
                    );
                    if hr == S_OK {
                        v.bookmarks.clear();
                    }
                }
                8..=10 => {
                    let count = match r.u8() % 8 {
                        0 => r.u32() as i32,
                        1 => 0,
                        _ => r.below(12) as i32 - 4,
                    };
                    let mut rows: LPSRowSet = 1 as LPSRowSet;
                    let hr = (tv.QueryRows)(t, count, r.flags(TBL_NOADVANCE), &mut rows);
                    expect(hr, &[BAD, MAPI_E_UNKNOWN_FLAGS], "QueryRows");
                    assert!(hr != S_OK || count != 0, "QueryRows(0) succeeded");
                    take_rows(hr, rows, count.unsigned_abs() as usize, Some(v.columns));
                }
                11 => {
                    let origin = if !v.bookmarks.is_empty() && r.bool() {
                        r.pick(&v.bookmarks)
                    } else if r.one_in(8) {
                        r.u64() as usize
                    } else {
                        r.below(3)
                    };
                    let mut sought = 0;
                    let hr = (tv.SeekRow)(t, origin, r.u32() as i32, &mut sought);
                    expect(
                        hr,
                        &[MAPI_W_POSITION_CHANGED, MAPI_E_INVALID_BOOKMARK],
                        "SeekRow",
                    );
                }
                12 => {
                    let hr = (tv.SeekRowApprox)(t, r.below(5) as u32, r.below(5) as u32);
                    expect(hr, &[BAD], "SeekRowApprox");
                }
                13 => {
                    let (mut row, mut num, mut den, mut count) = (0, 0, 0, 0);
                    let hr = (tv.QueryPosition)(t, &mut row, &mut num, &mut den);
                    expect(hr, &[], "QueryPosition");
                    assert!(den != 0, "QueryPosition: denominator 0");
                    let hr = (tv.GetRowCount)(t, 0, &mut count);
                    expect(hr, &[], "GetRowCount");
                    assert!(
                        row <= count,
                        "the cursor ({row}) is past the table ({count})"
                    );
                }
                14 => {
                    let res = restriction(&mut r, &mut a, 3);
                    let origin = if !v.bookmarks.is_empty() && r.bool() {
                        r.pick(&v.bookmarks)
                    } else {
                        r.below(4)
                    };
                    let hr = (tv.FindRow)(t, res, origin, r.flags(DIR_BACKWARD));
                    expect(
                        hr,
                        &[
                            BAD,
                            MAPI_E_BAD_CHARWIDTH,
                            MAPI_E_TOO_COMPLEX,
                            MAPI_E_UNKNOWN_FLAGS,
                            MAPI_E_NOT_FOUND,
                            MAPI_E_INVALID_BOOKMARK,
                            MAPI_W_POSITION_CHANGED,
                        ],
                        "FindRow",
                    );
                }
                15 => {
                    if r.bool() || v.bookmarks.is_empty() {
                        let mut bk = 0;
                        let hr = (tv.CreateBookmark)(t, &mut bk);
                        expect(hr, &[MAPI_E_UNABLE_TO_COMPLETE], "CreateBookmark");
                        if hr == S_OK {
                            v.bookmarks.push(bk);
                        }
                    } else {
                        let i = r.below(v.bookmarks.len());
                        let bk = v.bookmarks[i];
                        let hr = (tv.FreeBookmark)(t, bk);
                        expect(hr, &[MAPI_E_INVALID_BOOKMARK], "FreeBookmark");
                        v.bookmarks.swap_remove(i);
                    }
                }
                16 => {
                    let mut tags: LPSPropTagArray = 1 as LPSPropTagArray;
                    let flags = r.flags(TBL_ALL_COLUMNS);
                    let hr = (tv.QueryColumns)(t, flags, &mut tags);
                    expect(hr, &[MAPI_E_UNKNOWN_FLAGS], "QueryColumns");
                    let got = take_tags(hr, tags, MAPIFreeBuffer);
                    if hr == S_OK && flags == 0 {
                        assert_eq!(
                            got.len() as u32,
                            v.columns,
                            "QueryColumns: not the columns set"
                        );
                    }
                    let mut sos: LPSSortOrderSet = 1 as LPSSortOrderSet;
                    let hr = (tv.QuerySortOrder)(t, &mut sos);
                    expect(hr, &[], "QuerySortOrder");
                    MAPIFreeBuffer(sos as LPVOID);
                }
                17 => {
                    let mut rows: LPSRowSet = 1 as LPSRowSet;
                    let tags = if r.bool() {
                        ptr::null_mut()
                    } else {
                        tag_array(&mut r, &mut a)
                    };
                    let res = if r.bool() {
                        ptr::null_mut()
                    } else {
                        restriction(&mut r, &mut a, 3)
                    };
                    let sos = if r.bool() {
                        ptr::null_mut()
                    } else {
                        sort_order(&mut r, &mut a)
                    };
                    let max = r.below(40) as i32 - 2;
                    let hr = HrQueryAllRows(t, tags, res, sos, max, &mut rows);
                    expect(
                        hr,
                        &[
                            BAD,
                            MAPI_E_BAD_CHARWIDTH,
                            MAPI_E_TOO_COMPLEX,
                            MAPI_E_TABLE_TOO_BIG,
                            MAPI_E_UNKNOWN_FLAGS,
                        ],
                        "HrQueryAllRows",
                    );
                    let cap = if max > 0 { max as usize } else { usize::MAX };
                    // The columns may have changed (HrQueryAllRows sets them): ask again.
                    let mut now: LPSPropTagArray = ptr::null_mut();
                    assert_eq!((tv.QueryColumns)(t, 0, &mut now), S_OK);
                    v.columns = (*now).cValues;
                    MAPIFreeBuffer(now as LPVOID);
                    take_rows(hr, rows, cap, Some(v.columns));
                    v.bookmarks.clear();
                }
                18 => {
                    let (mut st, mut ty) = (0, 0);
                    expect((tv.GetStatus)(t, &mut st, &mut ty), &[], "GetStatus");
                    expect((tv.Abort)(t), &[], "Abort");
                    let hr = (tv.WaitForCompletion)(t, r.flags(0), r.u32(), &mut st);
                    expect(hr, &[MAPI_E_UNKNOWN_FLAGS], "WaitForCompletion");
                    let mut e: LPMAPIERROR = ptr::null_mut();
                    let flags = r.flags(MAPI_UNICODE);
                    let hr =
                        (tv.GetLastError)(t, r.pick(&[BAD, MAPI_E_TOO_COMPLEX]), flags, &mut e);
                    take_error(hr, e, flags, MAPIFreeBuffer);
                }
                _ => {
                    // A view released and another made (the sort maybe given at once).
                    let old = views.swap_remove(vi);
                    ((*(*old.t).lpVtbl).Release)(old.t);
                    let sos = sort_order(&mut r, &mut a);
                    let mut t: *mut IMAPITable = ptr::null_mut();
                    let hr = (tdv.HrGetView)(td, sos, None, 0, &mut t);
                    expect(hr, &[BAD, MAPI_E_TOO_COMPLEX], "HrGetView");
                    check_out_on_failure(hr, t as *const c_void, "HrGetView");
                    if hr < 0 {
                        let hr = (tdv.HrGetView)(td, ptr::null_mut(), None, 0, &mut t);
                        assert_eq!(hr, S_OK);
                    }
                    views.push(View {
                        t,
                        columns: COLUMNS.len() as u32,
                        bookmarks: Vec::new(),
                    });
                }
            }
        }
        for v in views {
            ((*(*v.t).lpVtbl).Release)(v.t);
        }
        (tdv.Release)(td);
    }
    assert_no_live_objects();
}
