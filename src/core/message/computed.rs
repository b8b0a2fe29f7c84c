//! The properties a message's provider computes or maintains (DESIGN.md §4): which they are, how
//! GetProps sees them beside the working copy, and the size PR_MESSAGE_SIZE counts.

use super::super::error::MapiResult;
use super::super::mapidefs::*;
use super::super::props::{PlainValues, PropMap, PropView};
use super::super::store::Store;
use super::super::value::{prop_id, prop_tag, PropValue};
use super::children;
use super::working::{Change, State};
use crate::storage::{ReadTxn, KIND_ATTACHMENT};
use std::borrow::Cow;

/// Synthesized from the message's location and access: readable, rejected by SetProps and
/// DeleteProps with MAPI_E_COMPUTED, never stored, never copied by CopyTo.
pub(super) const SYNTHESIZED: &[u32] = &[
    PR_ENTRYID,
    PR_RECORD_KEY,
    PR_PARENT_ENTRYID,
    PR_STORE_ENTRYID,
    PR_STORE_RECORD_KEY,
    PR_OBJECT_TYPE,
    PR_ACCESS,
    PR_ACCESS_LEVEL,
    PR_STORE_SUPPORT_MASK,
    PR_HASATTACH,
    PR_DISPLAY_TO_W,
    PR_DISPLAY_CC_W,
    PR_DISPLAY_BCC_W,
    PR_MAPPING_SIGNATURE,
];

/// Written by every commit (stored): readable, rejected by SetProps and DeleteProps.
pub(super) const MAINTAINED: &[u32] = &[
    PR_CHANGE_KEY,
    PR_PREDECESSOR_CHANGE_LIST,
    PR_LAST_MODIFICATION_TIME,
    PR_CREATION_TIME,
    PR_MESSAGE_SIZE,
];

/// One bit per property ID: SYNTHESIZED and MAINTAINED, for a lookup without a scan.
static COMPUTED_IDS: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    let mut i = 0;
    while i < SYNTHESIZED.len() {
        let id = prop_id(SYNTHESIZED[i]) as usize;
        bits[id / 64] |= 1 << (id % 64);
        i += 1;
    }
    let mut i = 0;
    while i < MAINTAINED.len() {
        let id = prop_id(MAINTAINED[i]) as usize;
        bits[id / 64] |= 1 << (id % 64);
        i += 1;
    }
    bits
};

/// Whether a message synthesizes `tag` (never stored: a table computes it for each row).
pub(crate) fn message_synthesizes(tag: u32) -> bool {
    SYNTHESIZED.iter().any(|t| prop_id(*t) == prop_id(tag))
}

/// Whether a message computes or maintains `tag` (whatever its type).
pub fn message_is_computed(tag: u32) -> bool {
    id_is_computed(prop_id(tag))
}

fn id_is_computed(id: u16) -> bool {
    let id = id as usize;
    COMPUTED_IDS[id / 64] & (1 << (id % 64)) != 0
}

const ID_ENTRYID: u16 = prop_id(PR_ENTRYID);
const ID_RECORD_KEY: u16 = prop_id(PR_RECORD_KEY);
const ID_PARENT_ENTRYID: u16 = prop_id(PR_PARENT_ENTRYID);
const ID_STORE_ENTRYID: u16 = prop_id(PR_STORE_ENTRYID);
const ID_STORE_RECORD_KEY: u16 = prop_id(PR_STORE_RECORD_KEY);
const ID_OBJECT_TYPE: u16 = prop_id(PR_OBJECT_TYPE);
const ID_ACCESS: u16 = prop_id(PR_ACCESS);
const ID_ACCESS_LEVEL: u16 = prop_id(PR_ACCESS_LEVEL);
const ID_STORE_SUPPORT_MASK: u16 = prop_id(PR_STORE_SUPPORT_MASK);
const ID_HASATTACH: u16 = prop_id(PR_HASATTACH);
const ID_MAPPING_SIGNATURE: u16 = prop_id(PR_MAPPING_SIGNATURE);
pub(super) const ID_MESSAGE_SIZE: u16 = prop_id(PR_MESSAGE_SIZE);

/// PR_ENTRYID, PR_RECORD_KEY (once saved), PR_PARENT_ENTRYID, PR_STORE_ENTRYID and
/// PR_STORE_RECORD_KEY of a message, made once per location so that GetProps lends them.
pub(super) struct Ids {
    entry_id: Option<PropValue>,
    record_key: Option<PropValue>,
    parent_entry_id: PropValue,
    store_entry_id: PropValue,
    store_record_key: PropValue,
}

impl Ids {
    pub(super) fn new(store: &Store, id: Option<u64>, parent: u64) -> Ids {
        Ids {
            entry_id: id.map(|id| PropValue::Binary(store.entry_id(MAPI_MESSAGE, id))),
            record_key: id.map(|id| PropValue::Binary(store.record_key(id))),
            parent_entry_id: PropValue::Binary(store.entry_id(MAPI_FOLDER, parent)),
            store_entry_id: PropValue::Binary(store.store_entry_id()),
            store_record_key: PropValue::Binary(store.guid().to_vec()),
        }
    }
}

/// The payload of every stored property but PR_MESSAGE_SIZE itself, with `overrides` in place
/// of the view's values.
pub(super) fn payload_total(view: &PropMap, overrides: &[(u16, PropValue)]) -> usize {
    let overridden = |id: &u16| overrides.iter().any(|(o, _)| o == id);
    let stored: usize = view
        .iter()
        .filter(|(id, _)| **id != ID_MESSAGE_SIZE && !overridden(id))
        .map(|(_, v)| v.payload_size())
        .sum();
    let new: usize = overrides
        .iter()
        .filter(|(id, _)| *id != ID_MESSAGE_SIZE)
        .map(|(_, v)| v.payload_size())
        .sum();
    stored + new
}

/// PR_MESSAGE_SIZE from a payload total (a PT_LONG: capped).
pub(super) fn message_size(total: usize) -> i32 {
    total.min(i32::MAX as usize) as i32
}

/// The working copy as GetProps sees it.
pub(super) struct MessageView<'a> {
    pub(super) st: &'a State,
    pub(super) store: &'a Store,
}

impl MessageView<'_> {
    /// Most requested properties are stored ones: one bit test, inlined where values are read,
    /// spares them the call and the matches of [`MessageView::computed`].
    #[inline(always)]
    fn synthesized(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        if !id_is_computed(id) {
            return None;
        }
        self.computed(id)
    }

    #[inline(never)]
    fn computed(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        let st = self.st;
        match id {
            // From the working copy's children: not in `synthesized`, which also serves
            // stored messages that have none loaded.
            ID_HASATTACH => Some(Cow::Owned(PropValue::Boolean(
                !st.kids.current.attachments.is_empty(),
            ))),
            _ => synthesized(
                id,
                &st.ids,
                self.store,
                st.writable && self.store.writable(),
            )
            .or_else(|| st.kids.current.display_list(id).map(Cow::Owned)),
        }
    }
}

/// One synthesized property of a message at `ids`' location, read through a handle that may
/// write or not.
fn synthesized<'a>(
    id: u16,
    ids: &'a Ids,
    store: &Store,
    writable: bool,
) -> Option<Cow<'a, PropValue>> {
    let long = |l: u32| Some(Cow::Owned(PropValue::Long(l as i32)));
    match id {
        ID_ENTRYID => ids.entry_id.as_ref().map(Cow::Borrowed),
        ID_RECORD_KEY => ids.record_key.as_ref().map(Cow::Borrowed),
        ID_PARENT_ENTRYID => Some(Cow::Borrowed(&ids.parent_entry_id)),
        ID_STORE_ENTRYID => Some(Cow::Borrowed(&ids.store_entry_id)),
        ID_STORE_RECORD_KEY => Some(Cow::Borrowed(&ids.store_record_key)),
        ID_OBJECT_TYPE => long(MAPI_MESSAGE),
        ID_ACCESS => long(if writable {
            MAPI_ACCESS_READ | MAPI_ACCESS_MODIFY | MAPI_ACCESS_DELETE
        } else {
            MAPI_ACCESS_READ
        }),
        ID_ACCESS_LEVEL => long(if writable { MAPI_MODIFY } else { 0 }),
        ID_STORE_SUPPORT_MASK => long(store.support_mask()),
        ID_MAPPING_SIGNATURE => Some(Cow::Owned(PropValue::Binary(store.mapping_signature()))),
        _ => None,
    }
}

/// The columns a stored message's row computes from its children, as an open message shows
/// them (MessageView): PR_HASATTACH and PR_DISPLAY_TO / _CC / _BCC, read in `t`.
pub(crate) fn stored_child_columns(
    t: &mut dyn ReadTxn,
    id: u64,
) -> MapiResult<Vec<(u32, PropValue)>> {
    let has_attach = !t.children(id, KIND_ATTACHMENT)?.is_empty();
    let recipients = children::load_recipients(t, id)?;
    let mut out = vec![(PR_HASATTACH, PropValue::Boolean(has_attach))];
    for tag in CHILD_COLUMNS[1..].iter() {
        out.extend(recipients.display_list(prop_id(*tag)).map(|v| (*tag, v)));
    }
    Ok(out)
}

/// What [`stored_child_columns`] computes.
pub(crate) const CHILD_COLUMNS: &[u32] = &[
    PR_HASATTACH,
    PR_DISPLAY_TO_W,
    PR_DISPLAY_CC_W,
    PR_DISPLAY_BCC_W,
];

/// Whether a stored message's `tag` is one of [`CHILD_COLUMNS`] (whatever its type).
pub(crate) fn is_child_column(tag: u32) -> bool {
    CHILD_COLUMNS.iter().any(|t| prop_id(*t) == prop_id(tag))
}

/// The synthesized properties of the stored message `id` in `parent`, as GetProps shows them
/// (a contents table's rows carry them beside the stored ones).
pub(crate) fn stored_message_synthesized(
    store: &Store,
    id: u64,
    parent: u64,
    writable: bool,
) -> Vec<(u32, PropValue)> {
    let ids = Ids::new(store, Some(id), parent);
    SYNTHESIZED
        .iter()
        .filter_map(|t| {
            synthesized(prop_id(*t), &ids, store, writable).map(|v| (*t, v.into_owned()))
        })
        .collect()
}

impl PropView for MessageView<'_> {
    fn revision(&self) -> Option<u64> {
        Some(self.st.revision)
    }

    /// With no pending change the stored base is the working copy (computed IDs aside).
    fn plain(&self) -> Option<PlainValues<'_>> {
        self.st.changes.is_empty().then_some(PlainValues {
            values: &self.st.base,
            computed: &COMPUTED_IDS,
        })
    }

    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        if let Some(v) = self.synthesized(id) {
            return Some(v);
        }
        self.st.value(id).map(Cow::Borrowed)
    }
    fn tags(&self) -> Vec<u32> {
        let st = self.st;
        let mut tags = Vec::with_capacity(self.len_hint());
        tags.extend(
            st.base
                .iter()
                .filter(|(id, _)| !st.changes.contains_key(id))
                .map(|(id, v)| prop_tag(v.ptype(), *id)),
        );
        if !st.changes.is_empty() {
            for (id, c) in &st.changes {
                if let Change::Set(v) = c {
                    tags.push(prop_tag(v.ptype(), *id));
                }
            }
            tags.sort_by_key(|t| prop_id(*t));
        }
        // Every synthesized property is there but the identifiers a message gets at its first
        // save: asked without computing the values.
        tags.extend(SYNTHESIZED.iter().filter(|t| match prop_id(**t) {
            ID_ENTRYID => st.ids.entry_id.is_some(),
            ID_RECORD_KEY => st.ids.record_key.is_some(),
            _ => true,
        }));
        tags
    }
    fn is_computed(&self, tag: u32) -> bool {
        message_is_computed(tag)
    }
    fn len_hint(&self) -> usize {
        self.st.base.len() + self.st.changes.len() + SYNTHESIZED.len()
    }
    fn for_each_value<'s>(&'s self, f: &mut dyn FnMut(u32, Option<Cow<'s, PropValue>>)) {
        let st = self.st;
        // `tags`' order: the stored values merged with this client's changes by ID, then the
        // synthesized ones; each read as `get` reads it.
        let mut emit = |id: u16, stored: &'s PropValue| {
            let value = match self.synthesized(id) {
                Some(v) => v,
                None => Cow::Borrowed(stored),
            };
            f(prop_tag(stored.ptype(), id), Some(value));
        };
        let mut changes = st.changes.iter().peekable();
        for (&id, stored) in st.base.iter() {
            while let Some((&cid, change)) = changes.next_if(|(cid, _)| **cid < id) {
                if let Change::Set(v) = change {
                    emit(cid, v);
                }
            }
            match changes.next_if(|(cid, _)| **cid == id) {
                Some((_, Change::Set(v))) => emit(id, v),
                Some((_, Change::Delete(_))) => {}
                None => emit(id, stored),
            }
        }
        for (&cid, change) in changes {
            if let Change::Set(v) = change {
                emit(cid, v);
            }
        }
        self.for_each_computed(f);
    }
    fn for_each_computed<'s>(&'s self, f: &mut dyn FnMut(u32, Option<Cow<'s, PropValue>>)) {
        let st = self.st;
        for &tag in SYNTHESIZED {
            let id = prop_id(tag);
            let present = match id {
                ID_ENTRYID => st.ids.entry_id.is_some(),
                ID_RECORD_KEY => st.ids.record_key.is_some(),
                _ => true,
            };
            if present {
                f(tag, self.get(id));
            }
        }
    }
}
