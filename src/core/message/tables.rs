//! A message's attachment and recipient tables (reference §11.2, §10.7) and RES_SUBRESTRICTION
//! over a message's children (§10.6).
//!
//! A table is a view (`core::table::view::TableView`) over [`ChildTable`], a row source that
//! reads the working copy of the message that made it, stored or embedded: it lists what that
//! client's copy holds now, its unsaved changes included (an attachment once its own
//! SaveChanges put it there, as MAPI's attachment table does, §11.3), never another client's
//! unsaved changes. Each edit of the copy, and each save of the message (which rebases it), moves
//! the copy's generation; the view selects again at its next call and keeps its cursor and
//! bookmarks on their rows by the engine's rules.
//!
//! Columns of a row: the child's properties, plus
//! * attachments: PR_INSTANCE_KEY (8 bytes, the attachment's identity while the copy lives: kept
//!   by saves and by a MERGE that renumbers it, never reused), PR_RECORD_KEY (the store GUID and
//!   the stored object's ID, so it survives close and reopen; before the message's save has
//!   stored the attachment a provisional key of the same shape that no stored object has),
//!   PR_OBJECT_TYPE (MAPI_ATTACH) and PR_ATTACH_SIZE, as IAttach computes them;
//! * recipients: PR_INSTANCE_KEY (4 bytes, its PR_ROWID: constant while the message is open and
//!   never given to another row of it).
//!
//! Order without SortTable: attachments by PR_RENDERING_POSITION as a signed value (a missing one
//! counts as -1, "not rendered"), then PR_ATTACH_NUM (D:pidtagattachnumber); recipients by
//! PR_ROWID. Restrictions and sorts are evaluated in memory (the rows are the copy's); a
//! RES_SUBRESTRICTION is refused (MAPI_E_TOO_COMPLEX): these rows are not messages.

use super::super::error::{check_flags, MapiError, MapiResult};
use super::super::ids::record_key;
use super::super::mapidefs::*;
use super::super::props::PropMap;
use super::super::table::memory::{refuse_subrestriction, select_rows};
use super::super::table::restriction::{matches, Restriction};
use super::super::table::view::TableView;
use super::super::table::{Cell, Query, RowKey, RowSource, Selection};
use super::super::value::{
    change_prop_type, prop_id, prop_tag, prop_type, type_in_width, PropValue,
};
use super::attach::Host;
use super::children::{self, Attach, ChildEdits, Children};
use crate::storage::ReadTxn;
use std::sync::Arc;

/// Which children a table lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    Attachments,
    Recipients,
}

impl ChildKind {
    fn method(self) -> &'static str {
        match self {
            ChildKind::Attachments => "GetAttachmentTable",
            ChildKind::Recipients => "GetRecipientTable",
        }
    }

    /// The sub-object property RES_SUBRESTRICTION names these children by.
    pub fn from_sub_object(object: u32) -> MapiResult<ChildKind> {
        match object {
            PR_MESSAGE_ATTACHMENTS => Ok(ChildKind::Attachments),
            PR_MESSAGE_RECIPIENTS => Ok(ChildKind::Recipients),
            other => Err(MapiError::new(
                MAPI_E_TOO_COMPLEX,
                format!(
                    "RES_SUBRESTRICTION on 0x{other:08X}: only PR_MESSAGE_RECIPIENTS and \
                     PR_MESSAGE_ATTACHMENTS are a message's sub-objects"
                ),
            )),
        }
    }
}

/// The column set of a new attachment table: the four MAPI requires first.
const ATTACHMENT_COLUMNS: &[u32] = &[
    PR_ATTACH_NUM,
    PR_INSTANCE_KEY,
    PR_RECORD_KEY,
    PR_RENDERING_POSITION,
    PR_ATTACH_METHOD,
    PR_ATTACH_SIZE,
    PR_ATTACH_LONG_FILENAME_W,
    PR_DISPLAY_NAME_W,
];

/// The column set of a new recipient table: the three MAPI requires first.
const RECIPIENT_COLUMNS: &[u32] = &[
    PR_ROWID,
    PR_DISPLAY_NAME_W,
    PR_RECIPIENT_TYPE,
    PR_INSTANCE_KEY,
    PR_ENTRYID,
    PR_ADDRTYPE_W,
    PR_EMAIL_ADDRESS_W,
];

/// A string column in the width the table was asked for (MAPI_UNICODE: wide, else narrow).
fn in_width(tag: u32, unicode: bool) -> u32 {
    change_prop_type(tag, type_in_width(prop_type(tag), unicode))
}

fn long(v: u64) -> PropValue {
    PropValue::Long(v.min(i32::MAX as u64) as i32)
}

fn map_row(props: &PropMap) -> Vec<(u32, Cell)> {
    props
        .iter()
        .map(|(id, v)| (prop_tag(v.ptype(), *id), Cell::Value(v.clone())))
        .collect()
}

/// A provisional PR_RECORD_KEY's object ID: above any ID a store hands out.
const PROVISIONAL_KEY: u64 = 1 << 63;

fn attachment_row(guid: &[u8; 16], a: &Attach) -> (RowKey, Vec<(u32, Cell)>) {
    let mut row = map_row(&a.props);
    let record = record_key(guid, a.id.unwrap_or(PROVISIONAL_KEY | a.token));
    row.extend([
        (
            PR_INSTANCE_KEY,
            Cell::Value(PropValue::Binary(a.token.to_le_bytes().to_vec())),
        ),
        (PR_RECORD_KEY, Cell::Value(PropValue::Binary(record))),
        (
            PR_OBJECT_TYPE,
            Cell::Value(PropValue::Long(MAPI_ATTACH as i32)),
        ),
        (PR_ATTACH_SIZE, Cell::Value(long(a.payload() as u64))),
    ]);
    (a.token, row)
}

fn rendering_position(a: &Attach) -> i32 {
    match a.props.get(&prop_id(PR_RENDERING_POSITION)) {
        Some(PropValue::Long(n)) => *n,
        _ => -1,
    }
}

/// The rows of `kind` in `children`, in the table's own order, each with its row key.
fn child_rows(
    guid: &[u8; 16],
    children: &Children,
    kind: ChildKind,
) -> Vec<(RowKey, Vec<(u32, Cell)>)> {
    match kind {
        ChildKind::Attachments => {
            // By number first (the map's order), then stably by rendering position.
            let mut list: Vec<&Attach> = children.attachments.values().collect();
            list.sort_by_key(|a| rendering_position(a));
            list.into_iter().map(|a| attachment_row(guid, a)).collect()
        }
        ChildKind::Recipients => children
            .recipients
            .iter()
            .map(|(rowid, r)| {
                let mut row = map_row(&r.props);
                row.push((
                    PR_INSTANCE_KEY,
                    Cell::Value(PropValue::Binary(rowid.to_le_bytes().to_vec())),
                ));
                (*rowid as RowKey, row)
            })
            .collect(),
    }
}

/// The rows of a message's working copy, stored or embedded: the source of its attachment or
/// recipient table.
pub struct ChildTable {
    host: Arc<dyn Host>,
    guid: [u8; 16],
    kind: ChildKind,
    unicode: bool,
}

impl ChildTable {
    /// GetAttachmentTable / GetRecipientTable: flags MAPI_UNICODE and MAPI_DEFERRED_ERRORS.
    pub(crate) fn view(
        host: Arc<dyn Host>,
        guid: [u8; 16],
        kind: ChildKind,
        flags: u32,
    ) -> MapiResult<TableView> {
        check_flags(kind.method(), flags, MAPI_UNICODE | MAPI_DEFERRED_ERRORS)?;
        let source = ChildTable {
            host,
            guid,
            kind,
            unicode: flags & MAPI_UNICODE != 0,
        };
        TableView::new(Arc::new(source), Vec::new())
    }

    fn read<T>(&self, f: impl FnOnce(&ChildEdits) -> T) -> MapiResult<T> {
        let mut f = Some(f);
        let mut out = None;
        self.host.edit(false, self.kind.method(), &mut |k| {
            out = f.take().map(|f| f(k));
            Ok(())
        })?;
        out.ok_or_else(|| {
            MapiError::new(
                MAPI_E_CALL_FAILED,
                format!("{}: the message's copy was not read", self.kind.method()),
            )
        })
    }
}

impl RowSource for ChildTable {
    /// The default columns, then every other property some row has, strings in the table's
    /// width.
    fn all_columns(&self) -> MapiResult<Vec<u32>> {
        let rows = self.read(|k| child_rows(&self.guid, &k.current, self.kind))?;
        let mut columns = self.default_columns()?;
        for (_, row) in &rows {
            for (tag, _) in row {
                let tag = in_width(*tag, self.unicode);
                if !columns.iter().any(|c| prop_id(*c) == prop_id(tag)) {
                    columns.push(tag);
                }
            }
        }
        Ok(columns)
    }

    fn default_columns(&self) -> MapiResult<Vec<u32>> {
        let columns = match self.kind {
            ChildKind::Attachments => ATTACHMENT_COLUMNS,
            ChildKind::Recipients => RECIPIENT_COLUMNS,
        };
        Ok(columns.iter().map(|t| in_width(*t, self.unicode)).collect())
    }

    fn version(&self) -> u64 {
        // Reading cannot fail (the table holds the copy); were it to, no change is reported.
        self.read(|k| k.generation).unwrap_or(0)
    }

    fn check(&self, q: &Query) -> MapiResult<()> {
        refuse_subrestriction(q, "attachments and recipients")
    }

    fn select(&self, q: &Query) -> MapiResult<Box<dyn Selection>> {
        let rows = self.read(|k| child_rows(&self.guid, &k.current, self.kind))?;
        select_rows(rows, q)
    }
}

/// RES_SUBRESTRICTION for one message held in memory: whether any of its recipients
/// (`object` = PR_MESSAGE_RECIPIENTS) or attachments (PR_MESSAGE_ATTACHMENTS), each seen as its
/// row in the message's recipient or attachment table, matches `r`. Another `object` is
/// MAPI_E_TOO_COMPLEX; so is a sub-restriction nested in `r` (children have no sub-objects).
pub(crate) fn children_match(
    guid: &[u8; 16],
    children: &Children,
    object: u32,
    r: &Restriction,
) -> MapiResult<bool> {
    let kind = ChildKind::from_sub_object(object)?;
    if r.has_sub() {
        return Err(MapiError::new(
            MAPI_E_TOO_COMPLEX,
            "RES_SUBRESTRICTION inside RES_SUBRESTRICTION: attachments and recipients have no \
             sub-objects",
        ));
    }
    for (_, row) in child_rows(guid, children, kind) {
        if matches(r, &row[..])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// RES_SUBRESTRICTION for a row that is a stored message (a contents table's fallback
/// evaluation, from its [`RowProps::sub_matches`]): whether any of message `message`'s stored
/// recipients (`object` = PR_MESSAGE_RECIPIENTS) or attachments (PR_MESSAGE_ATTACHMENTS)
/// matches `r`, each child seen exactly as its row in that message's recipient or attachment
/// table (`guid`: the store's, for PR_RECORD_KEY). Read inside the caller's transaction `t`, so
/// it sees the same version as the row. Another `object`, or a sub-restriction nested in `r`,
/// is MAPI_E_TOO_COMPLEX.
///
/// [`RowProps::sub_matches`]: crate::core::table::restriction::RowProps::sub_matches
pub fn stored_children_match(
    t: &mut dyn ReadTxn,
    guid: &[u8; 16],
    message: u64,
    object: u32,
    r: &Restriction,
) -> MapiResult<bool> {
    // Recipients alone need not read the attachments (and their data).
    let children = match ChildKind::from_sub_object(object)? {
        ChildKind::Recipients => children::load_recipients(t, message)?,
        ChildKind::Attachments => children::load(t, message)?,
    };
    children_match(guid, &children, object, r)
}
