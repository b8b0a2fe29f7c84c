//! A message's working copy: the committed properties as of its base change number plus this
//! client's own sets and deletes. Nothing another client does is visible in it, and nothing in
//! it is visible to others before it is saved (DESIGN.md §4).

use super::super::props::PropMap;
use super::super::store::Store;
use super::super::value::{prop_id, prop_tag, PropValue};
use super::attach::HoldsChildren;
use super::children::{ChildEdits, Children};
use super::computed::{Ids, ID_MESSAGE_SIZE};
use super::save::Plan;
use super::ReadBack;
use crate::storage::StoredProp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One pending change of a working copy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Set(PropValue),
    /// Deleted; the tag it had, for the conflict detail.
    Delete(u32),
}

/// Pending changes by property ID.
pub(crate) type Changes = BTreeMap<u16, Change>;

pub(super) struct State {
    /// None until the first save of a message made by CreateMessage.
    pub(super) id: Option<u64>,
    pub(super) parent: u64,
    pub(super) associated: bool,
    /// The change number the working copy is based on (0 for a new message).
    pub(super) base_cn: u64,
    /// The committed properties as of `base_cn` (change properties included).
    pub(super) base: Arc<PropMap>,
    /// The payload of every property in `base` but PR_MESSAGE_SIZE: what PR_MESSAGE_SIZE is
    /// computed from, kept so that a save computes it from its changes alone.
    pub(super) base_size: usize,
    pub(super) changes: Changes,
    /// The committed children (attachments, recipients) as of `base_cn`, with their IDs.
    pub(super) base_children: Arc<Children>,
    /// This client's children: what a save makes of them.
    pub(super) kids: ChildEdits,
    pub(super) writable: bool,
    /// The synthesized binary properties, made once per location (id, parent).
    pub(super) ids: Ids,
    /// Moves at every change of `base` or `changes` (PropView::revision).
    pub(super) revision: u64,
}

impl State {
    pub(super) fn value(&self, id: u16) -> Option<&PropValue> {
        match self.changes.get(&id) {
            Some(Change::Set(v)) => Some(v),
            Some(Change::Delete(_)) => None,
            None => self.base.get(&id),
        }
    }

    /// Makes the view `plan` committed (with its `maintained` properties) this client's base,
    /// moving the working copy's values into it: none is copied, the changes are gone.
    pub(super) fn commit_view(&mut self, plan: Plan, maintained: Vec<StoredProp>) {
        self.revision += 1;
        let changes = std::mem::take(&mut self.changes);
        let base = Arc::try_unwrap(std::mem::take(&mut self.base)).unwrap_or_else(|b| (*b).clone());
        let mut view = plan.into_view(base, changes);
        for (tag, v) in maintained {
            view.insert(prop_id(tag), v);
        }
        self.base = Arc::new(view);
    }

    /// Makes the children a commit stored this client's base and current children. Children
    /// it wrote are moved, not copied, into the current version (the base is the one copy).
    pub(super) fn rebase_children(&mut self, stored: ReadBack, renumbered: &BTreeMap<u32, u32>) {
        let committed = match stored {
            ReadBack::Loaded(children) => children,
            ReadBack::Ids { merged, ids } => {
                let mut children = merged.unwrap_or_else(|| std::mem::take(&mut self.kids.current));
                children.take_ids(&ids);
                children
            }
        };
        self.kids.rebase(committed, renumbered);
        self.base_children = Arc::new(self.kids.current.clone());
    }

    /// Moves the message to (`id`, `parent`), refreshing the synthesized identifiers.
    pub(super) fn locate(&mut self, store: &Store, id: Option<u64>, parent: u64) {
        if self.id != id || self.parent != parent {
            self.ids = Ids::new(store, id, parent);
        }
        self.id = id;
        self.parent = parent;
    }

    /// The tags this client changed or deleted (the resolver's `lpMyChanges`), with
    /// PR_MESSAGE_RECIPIENTS and PR_MESSAGE_ATTACHMENTS for changed children.
    pub(super) fn my_change_tags(&self) -> Vec<u32> {
        let mut tags = change_tags(&self.changes);
        tags.extend(self.base_children.differing_tags(&self.kids.current));
        tags
    }

    /// Whether this client changed anything (properties or children).
    pub(super) fn has_changes(&self) -> bool {
        !self.changes.is_empty() || *self.base_children != self.kids.current
    }
}

impl HoldsChildren for State {
    fn children_and_access(&mut self) -> (&mut ChildEdits, bool) {
        (&mut self.kids, self.writable)
    }
}

/// The tags of pending changes, as the resolver is shown them.
pub(crate) fn change_tags(changes: &Changes) -> Vec<u32> {
    changes
        .iter()
        .map(|(id, c)| match c {
            Change::Set(v) => prop_tag(v.ptype(), *id),
            Change::Delete(tag) => *tag,
        })
        .collect()
}

/// The payload total of `base` (which totals `base_size`) with `changes` applied, leaving out
/// PR_MESSAGE_SIZE and the IDs `skip` names.
pub(crate) fn size_after(
    base: &PropMap,
    base_size: usize,
    changes: &Changes,
    skip: impl Fn(u16) -> bool,
) -> usize {
    let size_of = |v: Option<&PropValue>| v.map_or(0, PropValue::payload_size);
    let mut total = base_size;
    for (pid, c) in changes {
        if *pid == ID_MESSAGE_SIZE || skip(*pid) {
            continue;
        }
        let new = match c {
            Change::Set(v) => v.payload_size(),
            Change::Delete(_) => 0,
        };
        total = total + new - size_of(base.get(pid));
    }
    total
}

/// Applies changes that are no longer needed, moving their values.
pub(super) fn apply_changes_owned(map: &mut PropMap, changes: Changes) {
    for (id, c) in changes {
        match c {
            Change::Set(v) => {
                map.insert(id, v);
            }
            Change::Delete(_) => {
                map.remove(&id);
            }
        }
    }
}
