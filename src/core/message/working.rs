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
use std::iter::Zip;
use std::sync::Arc;
use std::{slice, vec};

/// One pending change of a working copy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Set(PropValue),
    /// Deleted; the tag it had, for the conflict detail.
    Delete(u32),
}

/// Pending changes by property ID, in ID order: the subset of `BTreeMap<u16, Change>` the crate
/// uses, with the same meaning, as two parallel vectors (the IDs apart, so that a search walks a
/// few contiguous `u16`s).
///
/// SetProps looks up every ID it is given. A plain binary search made SetProps of 50 values
/// *slower* than the BTreeMap it replaced, though it ran fewer instructions (each search a chain
/// of dependent loads the processor cannot guess past; BENCHMARKS.md, SetProps), and so did a
/// linear scan of 50 IDs (its exit mispredicted). What made it faster is that callers mostly
/// name IDs in ascending order: [`Changes::set`] first tries the slot after the one it set last,
/// and searches only when that is not the ID.
#[derive(Debug, Clone, Default)]
pub(crate) struct Changes {
    ids: Vec<u16>,
    changes: Vec<Change>,
    /// Where the last [`Changes::set`] landed: only a guess (always checked), never a bound.
    last: usize,
}

impl PartialEq for Changes {
    fn eq(&self, other: &Changes) -> bool {
        self.ids == other.ids && self.changes == other.changes
    }
}

impl Changes {
    pub(crate) const fn new() -> Changes {
        Changes {
            ids: Vec::new(),
            changes: Vec::new(),
            last: 0,
        }
    }

    /// Where `id` is (Ok) or would go (Err): a short scan for a few changes (as fast as the
    /// BTreeMap's scan of one node), a binary search beyond.
    #[inline]
    fn find(&self, id: u16) -> Result<usize, usize> {
        let i = if self.ids.len() <= 16 {
            self.ids
                .iter()
                .position(|&k| k >= id)
                .unwrap_or(self.ids.len())
        } else {
            self.ids.partition_point(|&k| k < id)
        };
        match self.ids.get(i) {
            Some(&k) if k == id => Ok(i),
            _ => Err(i),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub(crate) fn get(&self, id: &u16) -> Option<&Change> {
        self.find(*id).ok().map(|i| &self.changes[i])
    }

    pub(crate) fn contains_key(&self, id: &u16) -> bool {
        self.find(*id).is_ok()
    }

    /// Sets the change for `id`, returning the one it replaces.
    pub(crate) fn insert(&mut self, id: u16, change: Change) -> Option<Change> {
        match self.find(id) {
            Ok(i) => Some(std::mem::replace(&mut self.changes[i], change)),
            Err(i) => {
                self.insert_at(i, id, change);
                None
            }
        }
    }

    /// `insert(id, Change::Set(value))`, dropping the change it replaces: SetProps's path,
    /// made part of its loop, trying the slot after the last one set before searching.
    #[inline(always)]
    pub(crate) fn set(&mut self, id: u16, value: PropValue) {
        let next = self.last + 1;
        let at = if self.ids.get(next) == Some(&id) {
            Ok(next)
        } else {
            self.find(id)
        };
        self.last = match at {
            Ok(i) | Err(i) => i,
        };
        match at {
            Ok(i) => self.changes[i] = Change::Set(value),
            Err(i) => self.insert_at(i, id, Change::Set(value)),
        }
    }

    fn insert_at(&mut self, i: usize, id: u16, change: Change) {
        self.ids.insert(i, id);
        self.changes.insert(i, change);
    }

    pub(crate) fn remove(&mut self, id: &u16) -> Option<Change> {
        let i = self.find(*id).ok()?;
        self.ids.remove(i);
        Some(self.changes.remove(i))
    }

    /// (ID, change) in ID order.
    pub(crate) fn iter(&self) -> Zip<slice::Iter<'_, u16>, slice::Iter<'_, Change>> {
        self.ids.iter().zip(self.changes.iter())
    }
}

impl<'a> IntoIterator for &'a Changes {
    type Item = (&'a u16, &'a Change);
    type IntoIter = Zip<slice::Iter<'a, u16>, slice::Iter<'a, Change>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Changes {
    type Item = (u16, Change);
    type IntoIter = Zip<vec::IntoIter<u16>, vec::IntoIter<Change>>;
    fn into_iter(self) -> Self::IntoIter {
        self.ids.into_iter().zip(self.changes)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_agree_with_btreemap_on_random_operations() {
        let mut flat = Changes::new();
        let mut tree = BTreeMap::new();
        let mut x: u32 = 777;
        for round in 0..40_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Few IDs at first (the scan), many later (the binary search); runs of ascending
            // IDs now and then (the guess after the last set).
            let span: u16 = if round < 20_000 { 12 } else { 300 };
            let id = if x.is_multiple_of(4) {
                tree.keys().next_back().map_or(1, |k| k + 1) % span
            } else {
                ((x >> 8) % u32::from(span)) as u16
            };
            let set = Change::Set(PropValue::Long(x as i32));
            match (x >> 20) % 4 {
                0 => assert_eq!(flat.insert(id, set.clone()), tree.insert(id, set)),
                1 => assert_eq!(flat.remove(&id), tree.remove(&id)),
                2 => {
                    flat.insert(id, Change::Delete(x));
                    tree.insert(id, Change::Delete(x));
                }
                _ => {
                    flat.set(id, PropValue::Long(x as i32));
                    tree.insert(id, set);
                }
            }
            assert_eq!(flat.get(&id), tree.get(&id));
            assert_eq!(flat.contains_key(&(id + 1)), tree.contains_key(&(id + 1)));
        }
        assert!(flat.iter().eq(tree.iter()));
        assert_eq!(flat.len(), tree.len());
        let owned: Vec<_> = flat.clone().into_iter().collect();
        assert_eq!(owned, tree.into_iter().collect::<Vec<_>>());
    }
}
