use super::memory::MemoryTable;
use super::restriction::{matches, Relop, Restriction as R, MAX_DEPTH};
use super::view::{Origin, TableView};
use super::*;
use crate::core::value::prop_tag;
use std::sync::Arc;

const ID: u32 = 0x6001_0003; // PT_LONG, the index column
const NAME: u32 = 0x6002_001F; // PT_UNICODE
const GROUP: u32 = 0x6003_0003; // PT_LONG
const BIN: u32 = 0x6004_0102;
const MVL: u32 = 0x6005_1003;
const S8: u32 = 0x6006_001E;
const FLAGS: u32 = 0x6007_0003;

fn long(tag: u32, v: i32) -> (u32, Cell) {
    (tag, Cell::Value(PropValue::Long(v)))
}
fn uni(tag: u32, s: &str) -> (u32, Cell) {
    (tag, Cell::Value(PropValue::Unicode(s.into())))
}

fn row(id: i32, name: &str, group: i32) -> Vec<(u32, Cell)> {
    vec![long(ID, id), uni(NAME, name), long(GROUP, group)]
}

fn table(rows: &[(i32, &str, i32)]) -> Arc<MemoryTable> {
    let t = MemoryTable::new(ID, vec![ID, NAME, GROUP]).unwrap();
    for (id, name, g) in rows {
        t.modify_row(row(*id, name, *g), None).unwrap();
    }
    Arc::new(t)
}

fn ids(rows: &[FetchedRow]) -> Vec<i32> {
    rows.iter()
        .map(|r| match &r.props[0].1 {
            Cell::Value(PropValue::Long(x)) => *x,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn all_ids(v: &mut TableView) -> Vec<i32> {
    v.seek_row(Origin::Beginning, 0).unwrap();
    ids(&v.query_rows(i32::MAX, false).unwrap())
}

fn p(relop: Relop, tag: u32, value: PropValue) -> R {
    R::Property { relop, tag, value }
}

fn eval(r: &R, row: &[(u32, Cell)]) -> bool {
    r.check().unwrap();
    matches(r, row).unwrap()
}

#[test]
fn property_restriction_every_relop_signed_and_strings_case_insensitive() {
    let r = vec![long(ID, -5), uni(NAME, "Bob")];
    let cases = [
        (Relop::Lt, 0, true),
        (Relop::Le, -5, true),
        (Relop::Gt, -6, true),
        (Relop::Ge, -4, false),
        (Relop::Eq, -5, true),
        (Relop::Ne, -5, false),
    ];
    for (relop, v, want) in cases {
        assert_eq!(
            eval(&p(relop, ID, PropValue::Long(v)), &r),
            want,
            "{relop:?} {v}"
        );
    }
    assert!(eval(
        &p(Relop::Eq, NAME, PropValue::Unicode("bOB".into())),
        &r
    ));
    assert!(!eval(
        &p(Relop::Lt, NAME, PropValue::Unicode("alice".into())),
        &r
    ));
    assert!(eval(
        &p(Relop::Gt, NAME, PropValue::Unicode("ALICE".into())),
        &r
    ));
    // PT_STRING8 restriction on a PT_UNICODE row value of the same property.
    let s8 = prop_tag(PT_STRING8, prop_id(NAME));
    assert!(eval(
        &p(Relop::Eq, s8, PropValue::String8(b"BOB".to_vec())),
        &r
    ));
    assert_eq!(
        Relop::from_mapi(RELOP_RE).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    assert_eq!(
        Relop::from_mapi(7).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
}

#[test]
fn type_mismatches_and_errors() {
    // Mismatched types are refused when the restriction is given.
    let bad = p(Relop::Eq, ID, PropValue::Unicode("x".into()));
    assert_eq!(bad.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    let bad = R::CompareProps {
        relop: Relop::Eq,
        tag1: ID,
        tag2: NAME,
    };
    assert_eq!(bad.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    let bad = R::Content {
        fuzzy: FL_SUBSTRING,
        tag: ID,
        value: PropValue::Long(1),
    };
    assert_eq!(bad.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    let bad = R::Content {
        fuzzy: 3,
        tag: NAME,
        value: PropValue::Unicode("a".into()),
    };
    assert_eq!(bad.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    let bad = R::BitMask {
        nez: true,
        tag: NAME,
        mask: 1,
    };
    assert_eq!(bad.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    // A row value that is PT_ERROR, missing, or of another type matches nothing; NOT of it does.
    let err_row = vec![(
        prop_tag(PT_ERROR, prop_id(ID)),
        Cell::Error(MAPI_E_NOT_FOUND),
    )];
    let other_type = vec![uni(ID, "5")];
    for row in [&err_row, &other_type, &vec![]] {
        let r = p(Relop::Eq, ID, PropValue::Long(5));
        assert!(!eval(&r, row));
        assert!(!eval(&p(Relop::Ne, ID, PropValue::Long(5)), row));
        assert!(eval(&R::Not(Box::new(r)), row));
        assert!(!eval(&R::Exist { tag: ID }, row) || row == &other_type);
    }
}

#[test]
fn and_or_not_exist_comment() {
    let r = row(1, "a", 2);
    let t = p(Relop::Eq, ID, PropValue::Long(1));
    let f = p(Relop::Eq, ID, PropValue::Long(2));
    assert!(eval(&R::And(vec![t.clone(), t.clone()]), &r));
    assert!(!eval(&R::And(vec![t.clone(), f.clone()]), &r));
    assert!(eval(&R::And(vec![]), &r));
    assert!(eval(&R::Or(vec![f.clone(), t.clone()]), &r));
    assert!(!eval(&R::Or(vec![f.clone(), f.clone()]), &r));
    assert!(!eval(&R::Or(vec![]), &r));
    assert!(eval(&R::Not(Box::new(f.clone())), &r));
    assert!(!eval(&R::Not(Box::new(t.clone())), &r));
    assert!(eval(&R::Exist { tag: NAME }, &r));
    // EXIST matches by ID, whatever the type asked.
    assert!(eval(
        &R::Exist {
            tag: prop_tag(PT_STRING8, prop_id(NAME))
        },
        &r
    ));
    assert!(!eval(&R::Exist { tag: BIN }, &r));
    // Comments have no effect: taken out of the tree wherever they are.
    assert!(eval(&R::Comment, &r));
    assert!(eval(&R::And(vec![R::Comment, t.clone()]), &r));
    assert!(!eval(&R::And(vec![R::Comment, f.clone()]), &r));
    assert!(!eval(&R::Or(vec![R::Comment, f.clone()]), &r));
    assert!(eval(&R::Or(vec![R::Comment, t]), &r));
    assert!(eval(&R::Not(Box::new(R::Comment)), &r));
    assert!(!eval(
        &R::And(vec![R::Not(Box::new(R::Or(vec![R::Comment]))), f]),
        &r
    ));
}

#[test]
fn content_restriction_levels_and_case() {
    let r = vec![
        uni(NAME, "Hello World"),
        (S8, Cell::Value(PropValue::String8(b"abcdef".to_vec()))),
        (BIN, Cell::Value(PropValue::Binary(vec![1, 2, 3, 4]))),
    ];
    let c = |fuzzy, tag, value| R::Content { fuzzy, tag, value };
    let u = |s: &str| PropValue::Unicode(s.into());
    assert!(eval(&c(FL_FULLSTRING, NAME, u("Hello World")), &r));
    assert!(!eval(&c(FL_FULLSTRING, NAME, u("hello world")), &r));
    assert!(eval(
        &c(FL_FULLSTRING | FL_IGNORECASE, NAME, u("hello world")),
        &r
    ));
    assert!(eval(&c(FL_PREFIX, NAME, u("Hello")), &r));
    assert!(!eval(&c(FL_PREFIX, NAME, u("World")), &r));
    assert!(eval(&c(FL_SUBSTRING, NAME, u("o W")), &r));
    assert!(!eval(&c(FL_SUBSTRING, NAME, u("o w")), &r));
    assert!(eval(&c(FL_SUBSTRING | FL_IGNORECASE, NAME, u("O W")), &r));
    let s = |b: &[u8]| PropValue::String8(b.to_vec());
    assert!(eval(&c(FL_SUBSTRING, S8, s(b"cde")), &r));
    assert!(!eval(&c(FL_PREFIX, S8, s(b"cde")), &r));
    let b = |b: &[u8]| PropValue::Binary(b.to_vec());
    assert!(eval(&c(FL_SUBSTRING, BIN, b(&[2, 3])), &r));
    assert!(eval(&c(FL_PREFIX, BIN, b(&[1, 2])), &r));
    assert!(!eval(&c(FL_FULLSTRING, BIN, b(&[1, 2])), &r));
    // Missing property: no match.
    assert!(!eval(&c(FL_SUBSTRING, 0x7000_001F, u("x")), &r));
}

#[test]
fn bitmask_size_compareprops_multivalued() {
    let r = vec![
        long(FLAGS, 0b1010),
        long(ID, 3),
        long(GROUP, 3),
        uni(NAME, "abc"),
        (MVL, Cell::Value(PropValue::MvLong(vec![1, 7, 9]))),
    ];
    let bm = |nez, mask| R::BitMask {
        nez,
        tag: FLAGS,
        mask,
    };
    assert!(eval(&bm(true, 0b0010), &r));
    assert!(!eval(&bm(true, 0b0101), &r));
    assert!(eval(&bm(false, 0b0101), &r));
    assert!(!eval(&bm(false, 0b1000), &r));
    let size = |relop, tag, cb| R::Size { relop, tag, cb };
    assert!(eval(&size(Relop::Eq, NAME, 6), &r)); // 3 UTF-16 units
    assert!(eval(&size(Relop::Eq, FLAGS, 4), &r));
    assert!(eval(&size(Relop::Gt, MVL, 8), &r));
    assert!(!eval(&size(Relop::Eq, BIN, 0), &r));
    let cmp = |relop, tag1, tag2| R::CompareProps { relop, tag1, tag2 };
    assert!(eval(&cmp(Relop::Eq, ID, GROUP), &r));
    assert!(eval(&cmp(Relop::Ge, ID, GROUP), &r));
    assert!(!eval(&cmp(Relop::Ne, ID, GROUP), &r));
    assert!(!eval(&cmp(Relop::Eq, ID, 0x7777_0003), &r));
    // A restriction on an MV column carries the single type; any value may match.
    assert!(eval(&p(Relop::Eq, MVL, PropValue::Long(7)), &r));
    assert!(!eval(&p(Relop::Eq, MVL, PropValue::Long(8)), &r));
    assert!(eval(&p(Relop::Gt, MVL, PropValue::Long(8)), &r));
}

#[test]
fn depth_and_subrestriction() {
    let mut r = R::Exist { tag: ID };
    for _ in 0..MAX_DEPTH {
        r = R::Not(Box::new(r));
    }
    assert_eq!(r.check().unwrap_err().code, MAPI_E_TOO_COMPLEX);
    let sub = R::Sub {
        object: PR_MESSAGE_RECIPIENTS,
        restriction: Box::new(R::Exist { tag: ID }),
    };
    sub.check().unwrap();
    // Rows without sub-objects refuse it when evaluated; a table refuses it up front.
    assert_eq!(
        matches(&sub, &row(1, "a", 1)[..]).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    let t = table(&[(1, "a", 1)]);
    let mut v = TableView::new(t, vec![]).unwrap();
    assert_eq!(
        v.restrict(Some(sub.clone())).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    assert_eq!(
        v.find_row(&R::Or(vec![sub]), Origin::Beginning, false)
            .unwrap_err()
            .code,
        MAPI_E_TOO_COMPLEX
    );
}

/// A source whose rows have sub-objects: each row's "recipients" are ids 10*id .. 10*id+2.
#[test]
fn subrestriction_through_the_row_hook() {
    struct WithSubs(Vec<(u32, Cell)>);
    impl restriction::RowProps for WithSubs {
        fn get(&self, tag: u32) -> Option<&Cell> {
            restriction::RowProps::get(&self.0[..], tag)
        }
        fn sub_matches(&self, object: u32, r: &Restriction) -> MapiResult<bool> {
            assert_eq!(object, PR_MESSAGE_RECIPIENTS);
            let Some(Cell::Value(PropValue::Long(id))) =
                restriction::RowProps::get(&self.0[..], ID)
            else {
                return Ok(false);
            };
            for sub in 10 * id..10 * id + 3 {
                if matches(r, &[long(ID, sub)][..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
    let sub = R::Sub {
        object: PR_MESSAGE_RECIPIENTS,
        restriction: Box::new(p(Relop::Eq, ID, PropValue::Long(21))),
    };
    assert!(matches(&sub, &WithSubs(row(2, "x", 0))).unwrap());
    assert!(!matches(&sub, &WithSubs(row(3, "x", 0))).unwrap());
}

#[test]
fn multi_key_sort_with_ties_and_missing_values() {
    let t = table(&[
        (1, "b", 2),
        (2, "a", 1),
        (3, "B", 1),
        (4, "c", 2),
        (5, "A", 2),
        (6, "a", 1),
    ]);
    t.modify_row(vec![long(ID, 7), long(GROUP, 1)], None)
        .unwrap(); // no NAME
    let mut v = TableView::new(t.clone(), vec![]).unwrap();
    assert_eq!(all_ids(&mut v), vec![1, 2, 3, 4, 5, 6, 7]);
    let asc = |tag| SortKey {
        tag,
        descending: false,
    };
    let desc = |tag| SortKey {
        tag,
        descending: true,
    };
    // GROUP descending, then NAME ascending (case-insensitive; ties keep insertion order).
    v.sort_table(vec![desc(GROUP), asc(NAME)]).unwrap();
    assert_eq!(all_ids(&mut v), vec![5, 1, 4, 2, 6, 3, 7]);
    // NAME descending, GROUP ascending; the row without NAME sorts last either way.
    v.sort_table(vec![desc(NAME), asc(GROUP)]).unwrap();
    assert_eq!(all_ids(&mut v), vec![4, 3, 1, 2, 6, 5, 7]);
    v.sort_table(vec![asc(NAME)]).unwrap();
    assert_eq!(all_ids(&mut v), vec![2, 5, 6, 1, 3, 4, 7]);
    assert_eq!(v.sort_order(), &[asc(NAME)]);
    // Bad sorts leave the old order.
    assert_eq!(
        v.sort_table(vec![asc(NAME), desc(NAME)]).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    assert_eq!(
        v.sort_table(vec![asc(MVL)]).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    assert_eq!(
        v.sort_table(vec![asc(prop_tag(PT_ERROR, 0x6001))])
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(v.sort_order(), &[asc(NAME)]);
    v.sort_table(vec![]).unwrap();
    assert_eq!(all_ids(&mut v), vec![1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn cursor_at_both_ends_and_negative_counts() {
    let t = table(&(1..=10).map(|i| (i, "n", 0)).collect::<Vec<_>>());
    let mut v = TableView::new(t, vec![]).unwrap();
    assert_eq!(
        v.query_rows(0, false).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
    // At the start a negative count gives nothing.
    assert!(v.query_rows(-3, false).unwrap().is_empty());
    assert_eq!(ids(&v.query_rows(4, true).unwrap()), vec![1, 2, 3, 4]);
    assert_eq!(v.query_position().unwrap(), (0, 0, 10));
    assert_eq!(ids(&v.query_rows(4, false).unwrap()), vec![1, 2, 3, 4]);
    assert_eq!(v.query_position().unwrap().0, 4);
    assert_eq!(
        ids(&v.query_rows(100, false).unwrap()),
        (5..=10).collect::<Vec<_>>()
    );
    // End of table: S_OK with no rows.
    assert!(v.query_rows(1, false).unwrap().is_empty());
    assert_eq!(v.query_position().unwrap().0, 10);
    // Backward paging: each page ends where the last one began.
    assert_eq!(ids(&v.query_rows(-4, false).unwrap()), vec![7, 8, 9, 10]);
    assert_eq!(ids(&v.query_rows(-4, true).unwrap()), vec![3, 4, 5, 6]);
    assert_eq!(v.query_position().unwrap().0, 6);
    assert_eq!(ids(&v.query_rows(-4, false).unwrap()), vec![3, 4, 5, 6]);
    assert_eq!(ids(&v.query_rows(-4, false).unwrap()), vec![1, 2]);
    assert!(v.query_rows(-4, false).unwrap().is_empty());
    assert_eq!(
        ids(&v.query_rows(i32::MIN, false).unwrap()),
        Vec::<i32>::new()
    );
    // SeekRow clamps and reports the rows moved.
    assert_eq!(v.seek_row(Origin::Beginning, -5).unwrap(), (0, false));
    assert_eq!(v.seek_row(Origin::Current, 3).unwrap(), (3, false));
    assert_eq!(v.seek_row(Origin::Current, 100).unwrap(), (7, false));
    assert_eq!(v.seek_row(Origin::End, -2).unwrap(), (-2, false));
    assert_eq!(ids(&v.query_rows(5, false).unwrap()), vec![9, 10]);
    assert_eq!(v.seek_row(Origin::End, i32::MIN).unwrap(), (-10, false));
    assert_eq!(
        v.seek_row(Origin::Beginning, i32::MAX).unwrap(),
        (10, false)
    );
    // SeekRowApprox.
    v.seek_row_approx(1, 2).unwrap();
    assert_eq!(v.query_position().unwrap().0, 5);
    v.seek_row_approx(3, 3).unwrap();
    assert_eq!(v.query_position().unwrap().0, 10);
    v.seek_row_approx(0, 7).unwrap();
    assert_eq!(v.query_position().unwrap().0, 0);
    assert_eq!(
        v.seek_row_approx(1, 0).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        v.seek_row_approx(4, 3).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
}

#[test]
fn bookmarks_follow_their_rows() {
    let t = table(&(1..=10).map(|i| (i, "n", 0)).collect::<Vec<_>>());
    let mut v = TableView::new(t.clone(), vec![]).unwrap();
    v.seek_row(Origin::Beginning, 4).unwrap();
    let bk = v.create_bookmark().unwrap();
    assert!(bk > BOOKMARK_END);
    v.seek_row(Origin::End, 0).unwrap();
    let at_end = v.create_bookmark().unwrap();
    // Rows inserted before it: the bookmark stays on row 5.
    t.modify_row(row(100, "x", 0), Some(0)).unwrap();
    t.modify_row(row(101, "x", 0), Some(0)).unwrap();
    assert_eq!(v.seek_row(Origin::Bookmark(bk), 0).unwrap(), (0, false));
    assert_eq!(ids(&v.query_rows(1, false).unwrap()), vec![5]);
    assert_eq!(v.query_position().unwrap().0, 7);
    assert_eq!(v.seek_row(Origin::Bookmark(at_end), 0).unwrap(), (0, false));
    assert_eq!(v.query_position().unwrap().0, 12);
    // Its row deleted: it moves to the row that took its place.
    t.delete_row(ID, &Cell::Value(PropValue::Long(5))).unwrap();
    assert_eq!(v.seek_row(Origin::Bookmark(bk), 0).unwrap(), (0, true));
    assert_eq!(ids(&v.query_rows(1, false).unwrap()), vec![6]);
    // Reported once: the bookmark is now simply on row 6.
    assert_eq!(v.seek_row(Origin::Bookmark(bk), 0).unwrap(), (0, false));
    assert_eq!(ids(&v.query_rows(1, true).unwrap()), vec![6]);
    // Two changes between calls (an insertion, then its row's deletion) are one refresh.
    let b3 = v.create_bookmark().unwrap(); // on row 6
    t.modify_row(row(102, "x", 0), Some(0)).unwrap();
    t.delete_row(ID, &Cell::Value(PropValue::Long(6))).unwrap();
    assert_eq!(v.seek_row(Origin::Bookmark(b3), 0).unwrap(), (0, true));
    assert_eq!(ids(&v.query_rows(1, false).unwrap()), vec![7]);
    // The cursor follows its row too.
    v.seek_row(Origin::Beginning, 4).unwrap(); // 102, 101, 100, 1, then row 2
    t.delete_row(ID, &Cell::Value(PropValue::Long(100)))
        .unwrap();
    assert_eq!(ids(&v.query_rows(1, false).unwrap()), vec![2]);
    // Unknown and freed bookmarks.
    assert_eq!(
        v.seek_row(Origin::Bookmark(999), 0).unwrap_err().code,
        MAPI_E_INVALID_BOOKMARK
    );
    v.free_bookmark(bk).unwrap();
    assert_eq!(
        v.free_bookmark(bk).unwrap_err().code,
        MAPI_E_INVALID_BOOKMARK
    );
    v.free_bookmark(BOOKMARK_CURRENT).unwrap();
    // Restrict and SortTable discard bookmarks.
    let b2 = v.create_bookmark().unwrap();
    v.restrict(None).unwrap();
    assert_eq!(
        v.free_bookmark(b2).unwrap_err().code,
        MAPI_E_INVALID_BOOKMARK
    );
    assert_eq!(
        v.seek_row(Origin::Bookmark(at_end), 0).unwrap_err().code,
        MAPI_E_INVALID_BOOKMARK
    );
}

#[test]
fn find_row_both_directions() {
    let t = table(&[
        (1, "x", 1),
        (2, "y", 2),
        (3, "x", 1),
        (4, "y", 2),
        (5, "x", 1),
    ]);
    let mut v = TableView::new(t, vec![]).unwrap();
    let x = R::Content {
        fuzzy: FL_FULLSTRING,
        tag: NAME,
        value: PropValue::Unicode("x".into()),
    };
    // Forward from the start finds the first row; the cursor is on it.
    assert!(!v.find_row(&x, Origin::Beginning, false).unwrap());
    assert_eq!(ids(&v.query_rows(1, true).unwrap()), vec![1]);
    // Forward from the current row includes it.
    v.find_row(&x, Origin::Current, false).unwrap();
    assert_eq!(v.query_position().unwrap().0, 0);
    v.seek_row(Origin::Current, 1).unwrap();
    v.find_row(&x, Origin::Current, false).unwrap();
    assert_eq!(v.query_position().unwrap().0, 2);
    // Backward starts at the row before the origin.
    v.find_row(&x, Origin::Current, true).unwrap();
    assert_eq!(v.query_position().unwrap().0, 0);
    v.find_row(&x, Origin::End, true).unwrap();
    assert_eq!(v.query_position().unwrap().0, 4);
    let bk = {
        v.seek_row(Origin::Beginning, 3).unwrap();
        v.create_bookmark().unwrap()
    };
    v.find_row(&x, Origin::Bookmark(bk), true).unwrap();
    assert_eq!(v.query_position().unwrap().0, 2);
    // No match: MAPI_E_NOT_FOUND, the cursor stays.
    let none = p(Relop::Eq, ID, PropValue::Long(42));
    assert_eq!(
        v.find_row(&none, Origin::Beginning, false)
            .unwrap_err()
            .code,
        MAPI_E_NOT_FOUND
    );
    assert_eq!(v.query_position().unwrap().0, 2);
    assert_eq!(
        v.find_row(&x, Origin::Beginning, true).unwrap_err().code,
        MAPI_E_NOT_FOUND
    );
    assert_eq!(
        v.find_row(&x, Origin::Bookmark(77), false)
            .unwrap_err()
            .code,
        MAPI_E_INVALID_BOOKMARK
    );
}

#[test]
fn restrict_and_columns() {
    let t = table(&[(1, "x", 1), (2, "y", 2), (3, "x", 1)]);
    let mut v = TableView::new(t.clone(), vec![]).unwrap();
    v.seek_row(Origin::End, 0).unwrap();
    v.restrict(Some(p(Relop::Eq, GROUP, PropValue::Long(1))))
        .unwrap();
    assert_eq!(v.query_position().unwrap().0, 0);
    assert_eq!(v.row_count().unwrap(), 2);
    assert_eq!(all_ids(&mut v), vec![1, 3]);
    // A restriction that fails to check leaves the old one.
    assert!(v
        .restrict(Some(p(Relop::Eq, GROUP, PropValue::Unicode("1".into()))))
        .is_err());
    assert_eq!(v.row_count().unwrap(), 2);
    // New rows are seen at the next call.
    t.modify_row(row(4, "z", 1), None).unwrap();
    assert_eq!(v.row_count().unwrap(), 3);
    v.restrict(None).unwrap();
    assert_eq!(v.row_count().unwrap(), 4);
    // Columns: PR_NULL, a missing one, PT_UNSPECIFIED, a string converted.
    let s8 = prop_tag(PT_STRING8, prop_id(NAME));
    v.set_columns(vec![
        GROUP,
        PR_NULL,
        BIN,
        prop_tag(PT_UNSPECIFIED, prop_id(NAME)),
        s8,
    ])
    .unwrap();
    let r = v.query_rows(1, false).unwrap();
    assert_eq!(
        r[0].props,
        vec![
            long(GROUP, 1),
            (PR_NULL, Cell::Empty),
            (
                prop_tag(PT_ERROR, prop_id(BIN)),
                Cell::Error(MAPI_E_NOT_FOUND)
            ),
            uni(NAME, "x"),
            (s8, Cell::Value(PropValue::String8(b"x".to_vec()))),
        ]
    );
    assert_eq!(v.query_columns(true).unwrap(), vec![ID, NAME, GROUP]);
    assert_eq!(
        v.set_columns(vec![]).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        v.set_columns(vec![prop_tag(PT_ERROR, 0x6001)])
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        v.set_columns(vec![0x6001_0099]).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        v.set_columns(vec![MVL | MVI_FLAG]).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
}

#[test]
fn memory_table_rows_by_index() {
    let t = table(&[(1, "a", 1), (2, "b", 2)]);
    // Modify replaces in place.
    t.modify_row(row(1, "A", 9), None).unwrap();
    let (r, pos) = t.query_row(ID, &Cell::Value(PropValue::Long(1))).unwrap();
    assert_eq!((r, pos), (row(1, "A", 9), 0));
    assert_eq!(t.enum_row(1), Some(row(2, "b", 2)));
    assert_eq!(t.enum_row(2), None);
    assert_eq!(
        t.query_row(ID, &Cell::Value(PropValue::Long(3)))
            .unwrap_err()
            .code,
        MAPI_E_NOT_FOUND
    );
    assert_eq!(
        t.delete_row(ID, &Cell::Value(PropValue::Long(3)))
            .unwrap_err()
            .code,
        MAPI_E_NOT_FOUND
    );
    assert_eq!(
        t.modify_row(vec![uni(NAME, "no index")], None)
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        t.delete_row(NAME, &Cell::Value(PropValue::Long(1)))
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        MemoryTable::new(MVL, vec![]).err().unwrap().code,
        MAPI_E_INVALID_PARAMETER
    );
}

/// The prepared-key sort of a selection orders exactly as `compare_rows` (mixed types, strings of
/// both widths that differ in case or outside ASCII, non-UTF-8 bytes, multi-valued values,
/// missing values), ties in the given order.
#[test]
fn prepared_sort_orders_as_compare_rows() {
    use super::memory::{compare_rows, select_rows};
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let words = [
        "a", "A", "\u{c4}b", "\u{e4}B", "\u{df}", "ss", "", "z\u{130}", "Z",
    ];
    for round in 0..200 {
        let rows: Vec<(RowKey, Vec<(u32, Cell)>)> = (0..40u64)
            .map(|k| {
                let mut props = Vec::new();
                for id in [0x6001u16, 0x6002] {
                    let w = words[(next() % words.len() as u64) as usize];
                    let v = match next() % 7 {
                        0 => continue,
                        1 => PropValue::String8(w.as_bytes().to_vec()),
                        2 => PropValue::String8(vec![0xC4, b'b']),
                        3 => PropValue::Long((next() % 5) as i32 - 2),
                        4 => PropValue::MvUnicode(vec![w.into(), "x".into()]),
                        _ => PropValue::Unicode(w.into()),
                    };
                    props.push((prop_tag(v.ptype(), id), Cell::Value(v)));
                }
                (k, props)
            })
            .collect();
        let sort = [
            SortKey {
                tag: 0x6001_001F,
                descending: round % 2 == 0,
            },
            SortKey {
                tag: 0x6002_001E,
                descending: round % 3 == 0,
            },
        ];
        let q = Query {
            restriction: None,
            sort: &sort,
        };
        let got = select_rows(rows.clone(), &q).unwrap();
        let mut want = rows.clone();
        want.sort_by(|a, b| compare_rows(&a.1, &b.1, &sort));
        let got: Vec<RowKey> = (0..got.len()).map(|i| got.key_at(i).unwrap()).collect();
        let want: Vec<RowKey> = want.iter().map(|r| r.0).collect();
        assert_eq!(got, want, "round {round}");
    }
}

/// A selection orders lazily (the first window is a partial sort): whatever is asked first —
/// a window past the first 50, a single row far down, a row's position before anything is
/// ordered, a backward FindRow — every answer is the full stable sort's, with many ties (ties
/// keep the given order), missing values and mixed kinds.
#[test]
fn partial_order_answers_as_the_full_sort() {
    use super::memory::{compare_rows, select_rows};
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..24 {
        let n = [0u64, 1, 63, 64, 65, 700][round % 6];
        let rows: Vec<(RowKey, Vec<(u32, Cell)>)> = (0..n)
            .map(|k| {
                let mut props = vec![(0x6003_0003, Cell::Value(PropValue::Long(k as i32)))];
                for id in [0x6001u16, 0x6002] {
                    let v = match next() % 6 {
                        0 => continue,
                        1 => PropValue::String8(
                            ["a", "B", "b", "\u{e4}"][(next() % 4) as usize].into(),
                        ),
                        2 => PropValue::Unicode(["A", "b", ""][(next() % 3) as usize].into()),
                        3 => PropValue::Boolean(next() % 2 == 0),
                        _ => PropValue::Long((next() % 3) as i32),
                    };
                    props.push((prop_tag(v.ptype(), id), Cell::Value(v)));
                }
                // Keys out of order, so that "the given order" is not the key order.
                (n * 7 - k * 3, props)
            })
            .collect();
        let sort = [
            SortKey {
                tag: 0x6001_0003,
                descending: round % 2 == 0,
            },
            SortKey {
                tag: 0x6002_001F,
                descending: round % 4 < 2,
            },
        ];
        let q = Query {
            restriction: None,
            sort: &sort,
        };
        let mut want = rows.clone();
        want.sort_by(|a, b| compare_rows(&a.1, &b.1, &sort));
        let want: Vec<RowKey> = want.iter().map(|r| r.0).collect();
        let len = want.len();
        let cols = [0x6003_0003];
        let window = |s: &dyn Selection, start: usize, count: usize| -> Vec<RowKey> {
            s.rows(start, count, &cols)
                .unwrap()
                .iter()
                .map(|r| r.key)
                .collect()
        };
        // 1. Windows of 50 from the start, then one past 50 after a jump.
        let s = select_rows(rows.clone(), &q).unwrap();
        assert_eq!(window(&*s, 0, 50), want[..len.min(50)], "round {round}");
        let far = len.saturating_sub(30);
        assert_eq!(window(&*s, far, 50), want[far..], "round {round}");
        // 2. A row far down first, then every row.
        let s = select_rows(rows.clone(), &q).unwrap();
        if len > 0 {
            assert_eq!(s.key_at(len - 1), Some(want[len - 1]), "round {round}");
        }
        let all: Vec<RowKey> = (0..len).map(|i| s.key_at(i).unwrap()).collect();
        assert_eq!(all, want, "round {round}");
        assert_eq!(s.key_at(len), None);
        // 3. Positions (counted) asked before anything is ordered, then after a partial order,
        // then every one (past the counting limit: the order is completed).
        let s = select_rows(rows.clone(), &q).unwrap();
        for (i, k) in want.iter().enumerate().rev().step_by(97).take(3) {
            assert_eq!(s.position_of(*k).unwrap(), Some(i), "round {round}");
        }
        let _ = window(&*s, 0, 10);
        for (i, k) in want.iter().enumerate().step_by(61).take(3) {
            assert_eq!(s.position_of(*k).unwrap(), Some(i), "round {round}");
        }
        for (i, k) in want.iter().enumerate() {
            assert_eq!(s.position_of(*k).unwrap(), Some(i), "round {round}");
        }
        assert_eq!(s.position_of(u64::MAX).unwrap(), None);
        // 4. FindRow backward from the end on an unordered selection: the last row whose
        // third column is even.
        let s = select_rows(rows.clone(), &q).unwrap();
        let even = R::BitMask {
            nez: false,
            tag: 0x6003_0003,
            mask: 1,
        };
        let want_last = (0..len).rev().find(|&i| {
            let key = want[i];
            let k = (n * 7 - key) / 3;
            k.is_multiple_of(2)
        });
        assert_eq!(
            s.find(&even, len, true).unwrap(),
            want_last,
            "round {round}"
        );
    }
}
