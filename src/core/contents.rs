//! A folder's contents and hierarchy tables (IMAPIContainer::GetContentsTable and
//! GetHierarchyTable, reference §10.7): row sources over the store, for the table engine.
//!
//! Contents: the engine's child query narrows the folder's messages with a condition derived
//! from the restriction ([`narrow`]: a superset, see storage/children.rs) and reads only the
//! properties the restriction and the sort name; the exact restriction and the order are then
//! the table engine's own ([`select_rows`]), so the rows are exactly those an in-memory table
//! of the same messages gives. A selection holds the ordered row keys (object IDs), ordered only
//! as far as a window needs (see table::memory), and loads a window's rows only when QueryRows
//! asks for them.
//!
//! From each message's stored children: PR_HASATTACH and PR_DISPLAY_TO / _CC / _BCC, as an
//! open message shows them, read only when a column, sort key or restriction names them (two
//! small queries per message); RES_SUBRESTRICTION over PR_MESSAGE_RECIPIENTS or
//! PR_MESSAGE_ATTACHMENTS, evaluated per narrowed message in the transaction that read it
//! (`MessageRow`).
//!
//! Seeing other writers: each call of the view asks [`RowSource::version`], the engine's change
//! stamp (one small read), and selects again when it moved: a save, creation or deletion by this
//! client, another process or another host shows at the next QueryRows. A cheap check rather
//! than a new query each time, because the check is a single-row read while selecting again
//! reads every narrowed row of the folder.
//!
//! Hierarchy: a folder has few subfolders, and their rows carry computed counts, so the rows
//! are built whole and evaluated in memory; CONVENIENT_DEPTH walks every level, parents before
//! their children, with PR_DEPTH counting from 0 for the immediate children.

use crate::core::error::{check_flags, MapiError, MapiResult};
use crate::core::folder::{folder_view, OBJ_FLAG_ASSOCIATED};
use crate::core::mapidefs::*;
use crate::core::message::{
    is_child_column, message_synthesizes, stored_child_columns, stored_children_match,
    stored_message_synthesized, ChildKind,
};
use crate::core::props::PropView;
use crate::core::store::Store;
use crate::core::table::memory::{select_rows, KeyedRow};
use crate::core::table::restriction::{matches, Relop, Restriction, RowProps};
use crate::core::table::{project, Cell, FetchedRow, Query, RowKey, RowSource, Selection};
use crate::core::value::{change_prop_type, prop_id, PropValue};
use crate::storage::{ChildQuery, Cmp, Narrow, ReadTxn, StoredProp, KIND_FOLDER, KIND_MESSAGE};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The most properties a contents query reads by joining them (engines limit a query's joins).
const MAX_JOINED: usize = 24;

/// A row's PR_INSTANCE_KEY: its object ID (never reused, so never a key of a row added later).
fn instance_key(id: u64) -> PropValue {
    PropValue::Binary(id.to_le_bytes().to_vec())
}

/// The string type a table's columns use: PT_UNICODE with MAPI_UNICODE, else PT_STRING8.
fn string_type(flags: u32) -> u32 {
    if flags & MAPI_UNICODE != 0 {
        PT_UNICODE
    } else {
        PT_STRING8
    }
}

/// A version that matches no other: when the change stamp cannot be read, the view selects
/// again and reports the engine's error from there.
fn unknown_version() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    u64::MAX - N.fetch_add(1, Ordering::Relaxed)
}

fn change_stamp(store: &Store) -> u64 {
    store
        .storage()
        .read(|t| t.change_stamp())
        .unwrap_or_else(|_| unknown_version())
}

/// A folder table's flags: `own`, MAPI_UNICODE and MAPI_DEFERRED_ERRORS; SHOW_SOFT_DELETES is
/// MAPI_E_NO_SUPPORT (this store deletes for good: nothing is soft-deleted).
fn check_table_flags(method: &str, flags: u32, own: u32) -> MapiResult<()> {
    if flags & SHOW_SOFT_DELETES != 0 {
        return Err(MapiError::new(
            MAPI_E_NO_SUPPORT,
            format!("{method}: SHOW_SOFT_DELETES (this store deletes for good)"),
        ));
    }
    check_flags(method, flags, own | MAPI_UNICODE | MAPI_DEFERRED_ERRORS)
}

/// RES_SUBRESTRICTION on a contents table: over each message's recipients or attachments
/// (nothing else is a message's sub-object), holding no sub-restriction of its own (those
/// children have no sub-objects): MAPI_E_TOO_COMPLEX otherwise.
fn check_subs(r: &Restriction) -> MapiResult<()> {
    match r {
        Restriction::And(v) | Restriction::Or(v) => v.iter().try_for_each(check_subs),
        Restriction::Not(c) => check_subs(c),
        Restriction::Sub {
            object,
            restriction,
        } => {
            ChildKind::from_sub_object(*object)?;
            if restriction.has_sub() {
                return Err(MapiError::new(
                    MAPI_E_TOO_COMPLEX,
                    "RES_SUBRESTRICTION inside RES_SUBRESTRICTION: attachments and recipients \
                     have no sub-objects",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether evaluating `r` needs a message's children: a sub-restriction, or a column computed
/// from them.
fn needs_children(r: &Restriction) -> bool {
    let mut tags = Vec::new();
    restriction_tags(r, &mut tags);
    r.has_sub() || tags.into_iter().any(is_child_column)
}

/// A contents row as the evaluator sees it: its cells, and for RES_SUBRESTRICTION its message's
/// stored recipients or attachments, read in the same transaction as the row.
struct MessageRow<'a, 't> {
    id: u64,
    cells: &'a [(u32, Cell)],
    txn: RefCell<&'a mut (dyn ReadTxn + 't)>,
    guid: &'a [u8; 16],
}

impl RowProps for MessageRow<'_, '_> {
    fn get(&self, tag: u32) -> Option<&Cell> {
        RowProps::get(self.cells, tag)
    }
    fn sub_matches(&self, object: u32, r: &Restriction) -> MapiResult<bool> {
        stored_children_match(&mut **self.txn.borrow_mut(), self.guid, self.id, object, r)
    }
}

fn refuse_sub(q: &Query) -> MapiResult<()> {
    match q.restriction {
        Some(r) if r.has_sub() => Err(MapiError::new(
            MAPI_E_TOO_COMPLEX,
            "RES_SUBRESTRICTION is not supported on this table yet",
        )),
        _ => Ok(()),
    }
}

/// Every tag a restriction names.
fn restriction_tags(r: &Restriction, out: &mut Vec<u32>) {
    match r {
        Restriction::And(v) | Restriction::Or(v) => v.iter().for_each(|c| restriction_tags(c, out)),
        Restriction::Not(c) => restriction_tags(c, out),
        Restriction::Content { tag, .. }
        | Restriction::Property { tag, .. }
        | Restriction::BitMask { tag, .. }
        | Restriction::Size { tag, .. }
        | Restriction::Exist { tag } => out.push(*tag),
        Restriction::CompareProps { tag1, tag2, .. } => out.extend([*tag1, *tag2]),
        // A sub-restriction names the children's properties, not the message's.
        Restriction::Sub { .. } | Restriction::Comment => {}
    }
}

/// A stored integer's cell for a restriction value (None: not an integer type).
fn int_cell(v: &PropValue) -> Option<(i64, bool)> {
    Some(match v {
        PropValue::I2(x) => (*x as i64, false),
        PropValue::Long(x) => (*x as i64, false),
        PropValue::I8(x) | PropValue::Currency(x) => (*x, false),
        PropValue::Boolean(b) => (*b as i64, false),
        PropValue::SysTime(t) => (*t as i64, true),
        _ => return None,
    })
}

fn cmp_of(relop: Relop) -> Cmp {
    match relop {
        Relop::Lt => Cmp::Lt,
        Relop::Le => Cmp::Le,
        Relop::Gt => Cmp::Gt,
        Relop::Ge => Cmp::Ge,
        Relop::Eq => Cmp::Eq,
        Relop::Ne => Cmp::Ne,
    }
}

/// A condition the engine can apply that keeps every row `r` selects (None: it keeps every
/// row). Only what a missing property makes false narrows (the evaluator's rule: RES_PROPERTY,
/// RES_CONTENT, RES_BITMASK, RES_SIZE, RES_COMPAREPROPS and RES_EXIST are false without the
/// property), and integer comparisons where the stored tag is the restriction's; everything
/// under a NOT, and any property the row computes (`computed`), keeps every row.
pub fn narrow(r: &Restriction, computed: &dyn Fn(u32) -> bool) -> Option<Narrow> {
    let has = |tag: u32| (!computed(tag)).then(|| Narrow::Has(prop_id(tag)));
    match r {
        Restriction::And(v) => {
            let parts: Vec<Narrow> = v.iter().filter_map(|c| narrow(c, computed)).collect();
            (!parts.is_empty()).then_some(Narrow::All(parts))
        }
        // An OR keeps every row if any branch does (a comment branch included: it is ignored,
        // and the remaining branches decide, a superset of which is still kept).
        Restriction::Or(v) => v
            .iter()
            .map(|c| narrow(c, computed))
            .collect::<Option<Vec<_>>>()
            .map(Narrow::Any),
        Restriction::Not(_) | Restriction::Comment | Restriction::Sub { .. } => None,
        Restriction::Property { relop, tag, value } => {
            if computed(*tag) {
                return None;
            }
            match int_cell(value) {
                Some((v, unsigned)) if *tag & MV_FLAG == 0 && !(unsigned && v < 0) => {
                    Some(Narrow::Int {
                        tag: change_prop_type(*tag, value.ptype()),
                        cmp: cmp_of(*relop),
                        value: v,
                        unsigned,
                    })
                }
                _ => has(*tag),
            }
        }
        Restriction::Content { tag, .. }
        | Restriction::BitMask { tag, .. }
        | Restriction::Size { tag, .. }
        | Restriction::Exist { tag } => has(*tag),
        Restriction::CompareProps { tag1, tag2, .. } => {
            let parts: Vec<Narrow> = [has(*tag1), has(*tag2)].into_iter().flatten().collect();
            (!parts.is_empty()).then_some(Narrow::All(parts))
        }
    }
}

/// The contents table of a folder: its messages (MAPI_ASSOCIATED: its associated ones).
pub struct ContentsSource {
    store: Arc<Store>,
    folder: u64,
    associated: bool,
    writable: bool,
    flags: u32,
}

impl ContentsSource {
    /// GetContentsTable's flags: MAPI_ASSOCIATED, MAPI_UNICODE, MAPI_DEFERRED_ERRORS;
    /// SHOW_SOFT_DELETES is MAPI_E_NO_SUPPORT (nothing is soft-deleted here).
    pub fn new(store: Arc<Store>, folder: u64, writable: bool, flags: u32) -> MapiResult<Self> {
        check_table_flags("GetContentsTable", flags, MAPI_ASSOCIATED)?;
        Ok(ContentsSource {
            store,
            folder,
            associated: flags & MAPI_ASSOCIATED != 0,
            writable,
            flags,
        })
    }

    fn computed(tag: u32) -> bool {
        message_synthesizes(tag) || prop_id(tag) == prop_id(PR_INSTANCE_KEY)
    }
}

/// Context to build one message's row.
#[derive(Clone)]
struct RowMaker {
    store: Arc<Store>,
    folder: u64,
    writable: bool,
}

impl RowMaker {
    /// A message's row: its stored properties (those read) and, with `synthesized`, the
    /// synthesized ones GetProps shows and PR_INSTANCE_KEY (a selection that names none of them
    /// does without).
    fn row(
        &self,
        id: u64,
        stored: Vec<(u32, PropValue)>,
        synthesized: bool,
        from_children: Vec<(u32, PropValue)>,
    ) -> Vec<(u32, Cell)> {
        let mut row: Vec<(u32, Cell)> = stored
            .into_iter()
            .filter(|(t, _)| !ContentsSource::computed(*t))
            .map(|(t, v)| (t, Cell::Value(v)))
            .collect();
        if synthesized {
            let synth = stored_message_synthesized(&self.store, id, self.folder, self.writable);
            row.extend(synth.into_iter().map(|(t, v)| (t, Cell::Value(v))));
            row.push((PR_INSTANCE_KEY, Cell::Value(instance_key(id))));
        }
        row.extend(from_children.into_iter().map(|(t, v)| (t, Cell::Value(v))));
        row
    }

    /// Rows of the messages `keys`, read in `t` (with the columns computed from their children
    /// when `children`).
    fn load(
        &self,
        t: &mut dyn ReadTxn,
        keys: &[RowKey],
        children: bool,
    ) -> MapiResult<Vec<Vec<(u32, Cell)>>> {
        keys.iter()
            .map(|k| {
                let props = t.props(*k)?;
                let from_children = if children {
                    stored_child_columns(t, *k)?
                } else {
                    Vec::new()
                };
                Ok(self.row(*k, props, true, from_children))
            })
            .collect()
    }
}

impl RowSource for ContentsSource {
    fn all_columns(&self) -> MapiResult<Vec<u32>> {
        let mut cols = self.default_columns()?;
        for t in [
            PR_PARENT_ENTRYID,
            PR_STORE_ENTRYID,
            PR_STORE_RECORD_KEY,
            PR_OBJECT_TYPE,
            PR_ACCESS,
            PR_ACCESS_LEVEL,
            PR_CREATION_TIME,
            PR_CHANGE_KEY,
            PR_HASATTACH,
            change_prop_type(PR_DISPLAY_TO_W, string_type(self.flags)),
            change_prop_type(PR_DISPLAY_CC_W, string_type(self.flags)),
            change_prop_type(PR_DISPLAY_BCC_W, string_type(self.flags)),
        ] {
            if !cols.contains(&t) {
                cols.push(t);
            }
        }
        Ok(cols)
    }

    /// PR_INSTANCE_KEY, PR_ENTRYID and PR_RECORD_KEY (reference §10.7), and what a client lists
    /// a message by: class, subject, flags, size, last modification.
    fn default_columns(&self) -> MapiResult<Vec<u32>> {
        let s = string_type(self.flags);
        Ok(vec![
            PR_INSTANCE_KEY,
            PR_ENTRYID,
            PR_RECORD_KEY,
            change_prop_type(PR_MESSAGE_CLASS, s),
            change_prop_type(PR_SUBJECT, s),
            PR_MESSAGE_FLAGS,
            PR_MESSAGE_SIZE,
            PR_LAST_MODIFICATION_TIME,
        ])
    }

    fn version(&self) -> u64 {
        change_stamp(&self.store)
    }

    fn check(&self, q: &Query) -> MapiResult<()> {
        q.restriction.map_or(Ok(()), check_subs)
    }

    fn select(&self, q: &Query) -> MapiResult<Box<dyn Selection>> {
        let mut tags = Vec::new();
        if let Some(r) = q.restriction {
            restriction_tags(r, &mut tags);
        }
        tags.extend(q.sort.iter().map(|k| k.tag));
        let synthesized = tags.iter().any(|t| Self::computed(*t));
        let from_children = tags.iter().any(|t| is_child_column(*t));
        // A sub-restriction is evaluated here, where the transaction can read each message's
        // children; the rest of the restriction and the order are the table engine's.
        let subs = q.restriction.filter(|r| r.has_sub());
        let fetch: Vec<u16> = tags
            .iter()
            .filter(|t| !Self::computed(**t))
            .map(|t| prop_id(*t))
            .collect::<BTreeSet<u16>>()
            .into_iter()
            .collect();
        let narrowed = q.restriction.and_then(|r| narrow(r, &Self::computed));
        let flags = if self.associated {
            OBJ_FLAG_ASSOCIATED
        } else {
            0
        };
        let maker = RowMaker {
            store: self.store.clone(),
            folder: self.folder,
            writable: self.writable,
        };
        let guid = self.store.guid();
        // Each fetched property is one join; past MAX_JOINED the rows are read whole instead.
        let joined = fetch.len() <= MAX_JOINED;
        let rows = self.store.storage().read(|t| {
            let children = t.select_children(&ChildQuery {
                parent: self.folder,
                kind: KIND_MESSAGE,
                mask: OBJ_FLAG_ASSOCIATED,
                flags,
                narrow: narrowed.as_ref(),
                fetch: if joined { &fetch } else { &[] },
            })?;
            let mut rows = Vec::with_capacity(children.len());
            for (id, props) in children {
                let props: Vec<StoredProp> = if joined { props } else { t.props(id)? };
                let computed = if from_children {
                    stored_child_columns(t, id)?
                } else {
                    Vec::new()
                };
                let row = maker.row(id, props, synthesized, computed);
                if let Some(r) = subs {
                    let seen = MessageRow {
                        id,
                        cells: &row,
                        txn: RefCell::new(&mut *t),
                        guid,
                    };
                    if !matches(r, &seen)? {
                        continue;
                    }
                }
                rows.push((id, row));
            }
            Ok::<_, MapiError>(rows)
        })?;
        let q = Query {
            restriction: if subs.is_some() { None } else { q.restriction },
            sort: q.sort,
        };
        Ok(Box::new(StoredSelection {
            order: select_rows(rows, &q)?,
            maker,
        }))
    }
}

/// The selected messages in order (their keys only); rows are read when asked for.
struct StoredSelection {
    order: Box<dyn Selection>,
    maker: RowMaker,
}

impl StoredSelection {
    /// The whole rows of `keys`, read in one transaction, with the columns computed from each
    /// message's children when `children` (a message deleted since the selection shows its
    /// computed columns only, until the next selection drops it).
    fn load(&self, keys: &[RowKey], children: bool) -> MapiResult<Vec<Vec<(u32, Cell)>>> {
        self.maker
            .store
            .storage()
            .read(|t| self.maker.load(t, keys, children))
    }
}

impl Selection for StoredSelection {
    fn len(&self) -> usize {
        self.order.len()
    }
    fn key_at(&self, index: usize) -> Option<RowKey> {
        self.order.key_at(index)
    }
    fn rows(&self, start: usize, count: usize, columns: &[u32]) -> MapiResult<Vec<FetchedRow>> {
        let end = start.saturating_add(count).min(self.len());
        let keys: Vec<RowKey> = (start.min(end)..end)
            .filter_map(|i| self.key_at(i))
            .collect();
        let rows = self.load(&keys, columns.iter().any(|c| is_child_column(*c)))?;
        Ok(keys
            .into_iter()
            .zip(rows)
            .map(|(key, props)| FetchedRow {
                key,
                props: project(&props, columns),
            })
            .collect())
    }
    fn position_of(&self, key: RowKey) -> MapiResult<Option<usize>> {
        self.order.position_of(key)
    }
    fn find(&self, r: &Restriction, start: usize, backward: bool) -> MapiResult<Option<usize>> {
        let n = self.len();
        let start = start.min(n);
        let indexes: Box<dyn Iterator<Item = usize>> = if backward {
            Box::new((0..start).rev())
        } else {
            Box::new(start..n)
        };
        let children = needs_children(r);
        let guid = self.maker.store.guid();
        for i in indexes {
            let Some(key) = self.key_at(i) else { break };
            let hit = self.maker.store.storage().read(|t| {
                let row = self.maker.load(t, &[key], children)?;
                let seen = MessageRow {
                    id: key,
                    cells: &row[0],
                    txn: RefCell::new(&mut *t),
                    guid,
                };
                matches(r, &seen)
            })?;
            if hit {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

/// The hierarchy table of a folder: its subfolders (CONVENIENT_DEPTH: every level).
pub struct HierarchySource {
    store: Arc<Store>,
    folder: u64,
    writable: bool,
    flags: u32,
}

impl HierarchySource {
    /// GetHierarchyTable's flags: CONVENIENT_DEPTH, MAPI_UNICODE, MAPI_DEFERRED_ERRORS;
    /// SHOW_SOFT_DELETES is MAPI_E_NO_SUPPORT.
    pub fn new(store: Arc<Store>, folder: u64, writable: bool, flags: u32) -> MapiResult<Self> {
        check_table_flags("GetHierarchyTable", flags, CONVENIENT_DEPTH)?;
        Ok(HierarchySource {
            store,
            folder,
            writable,
            flags,
        })
    }

    /// Every row: subfolders in ID order, each followed by its own (with CONVENIENT_DEPTH).
    fn all_rows(&self) -> MapiResult<Vec<KeyedRow>> {
        let deep = self.flags & CONVENIENT_DEPTH != 0;
        self.store.storage().read(|t| {
            let mut rows = Vec::new();
            // (folder, depth) still to visit, the next one last: an explicit stack, so that
            // nesting cannot exhaust the thread's stack.
            let mut stack = vec![(self.folder, -1i32)];
            while let Some((parent, depth)) = stack.pop() {
                if depth >= 0 {
                    let view = folder_view(t, &self.store, parent, self.writable)?;
                    let mut row: Vec<(u32, Cell)> = view
                        .tags()
                        .into_iter()
                        .filter_map(|tag| {
                            view.get(prop_id(tag))
                                .map(|v| (tag, Cell::Value(v.into_owned())))
                        })
                        .collect();
                    row.push((PR_INSTANCE_KEY, Cell::Value(instance_key(parent))));
                    row.push((PR_DEPTH, Cell::Value(PropValue::Long(depth))));
                    rows.push((parent, row));
                    if !deep {
                        continue;
                    }
                }
                let children = t.children(parent, KIND_FOLDER)?;
                stack.extend(children.iter().rev().map(|c| (c.id, depth + 1)));
            }
            Ok::<_, MapiError>(rows)
        })
    }
}

impl RowSource for HierarchySource {
    fn all_columns(&self) -> MapiResult<Vec<u32>> {
        let mut cols = self.default_columns()?;
        for t in [
            PR_PARENT_ENTRYID,
            PR_OBJECT_TYPE,
            PR_ACCESS,
            PR_ACCESS_LEVEL,
            PR_ASSOC_CONTENT_COUNT,
            PR_DEPTH,
        ] {
            if !cols.contains(&t) {
                cols.push(t);
            }
        }
        Ok(cols)
    }

    /// PR_INSTANCE_KEY, PR_ENTRYID, PR_RECORD_KEY, the name, the counts and the folder type;
    /// PR_DEPTH with CONVENIENT_DEPTH (reference §10.7).
    fn default_columns(&self) -> MapiResult<Vec<u32>> {
        let mut cols = vec![
            PR_INSTANCE_KEY,
            PR_ENTRYID,
            PR_RECORD_KEY,
            change_prop_type(PR_DISPLAY_NAME, string_type(self.flags)),
            PR_CONTENT_COUNT,
            PR_SUBFOLDERS,
            PR_FOLDER_TYPE,
        ];
        if self.flags & CONVENIENT_DEPTH != 0 {
            cols.push(PR_DEPTH);
        }
        Ok(cols)
    }

    fn version(&self) -> u64 {
        change_stamp(&self.store)
    }

    fn check(&self, q: &Query) -> MapiResult<()> {
        refuse_sub(q)
    }

    fn select(&self, q: &Query) -> MapiResult<Box<dyn Selection>> {
        select_rows(self.all_rows()?, q)
    }
}
