//! Messages: transacted. Each open is an independent client with a private working copy
//! (`working.rs`); SaveChanges applies the multi-client rules of DESIGN.md §4 by running the plans
//! and decisions of `save.rs` against the engine, each commit one change set applied with a
//! compare-and-swap on the stored change number, so racing savers (threads, processes, hosts)
//! can never both win.

mod attach;
mod children;
mod computed;
mod copy;
mod read_flag;
mod save;
mod streams;
mod tables;
#[cfg(test)]
mod tests;
mod working;

pub(crate) use attach::Host;
use attach::HostOf;
pub use attach::{AttachHost, Attachment, EmbeddedMessage};
pub use computed::message_is_computed;
pub(crate) use computed::{
    is_child_column, message_synthesizes, stored_child_columns, stored_message_synthesized,
};
pub(crate) use copy::copy_stored;
pub use copy::{ChildSet, ChildrenCopy};
pub use tables::{stored_children_match, ChildKind, ChildTable};

use super::error::{MapiError, MapiResult};
use super::folder::{conflicts_folder, OBJ_FLAG_ASSOCIATED};
use super::ids::filetime_now;
use super::mapidefs::*;
use super::props::{computed_problem, Problem, PropInput, PropMap, PropObject, PropView};
use super::resolve::Conflict;
use super::store::{large_is_stored, load_props_deferring, Store};
use super::stream::StreamOwner;
use super::value::{prop_id, prop_tag, PropValue};
use crate::storage::{
    Applied, ChangeSet, Expect, PropRef, StoredProp, Target, WriteTxn, KIND_MESSAGE, ROOT_FOLDER_ID,
};
use children::{ChildEdits, ChildIds, ChildWrite, Children};
use computed::{payload_total, Ids, MessageView};
use parking_lot::Mutex;
use save::{
    after_decision, after_deleted, after_stale, check_request, committed_size, differing_tags,
    maintained, plan_force, plan_merge, plan_new, plan_normal, Edits, Mode, Next, Plan,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use working::{Change, Changes, State};

pub struct Message {
    store: Arc<Store>,
    /// Shared with the attachments opened from it, which hold it weakly (attach.rs).
    state: Arc<Mutex<State>>,
}

/// One stored version of a message: its change number, properties and children.
struct Version {
    cn: u64,
    props: PropMap,
    children: Children,
}

/// What one commit attempt found.
enum Attempt {
    Committed {
        id: u64,
        cn: u64,
        plan: Plan,
        maintained: Vec<StoredProp>,
        /// The committed children with their IDs (None: the base's are committed), and the
        /// attachments a MERGE renumbered.
        children: Option<(Box<ReadBack>, BTreeMap<u32, u32>)>,
    },
    NothingToSave,
    Deleted,
    Stale {
        stored_cn: u64,
        stored: PropMap,
        stored_children: Children,
    },
}

/// The children a commit stored, as its save learns them.
pub(super) enum ReadBack {
    /// The children it wrote (a MERGE's, or None: this client's), which are stored with these
    /// IDs: nothing else is read (a large attachment just written is not read back).
    Ids {
        merged: Option<Children>,
        ids: ChildIds,
    },
    /// Read whole: the stored children are not exactly the ones written (keyless children).
    Loaded(Children),
}

/// What a commit that wrote `merged` (or, if None, this client's `current` children) stored.
fn read_back(
    t: &mut dyn WriteTxn,
    id: u64,
    merged: Option<Children>,
    current: &Children,
) -> MapiResult<ReadBack> {
    let wanted = merged.as_ref().unwrap_or(current);
    Ok(match children::load_ids(t, id)? {
        Some(ids) if wanted.matches_ids(&ids) && wanted.large_values_name(&ids) => {
            ReadBack::Ids { merged, ids }
        }
        _ => ReadBack::Loaded(children::load(t, id)?),
    })
}

/// Inserts a new message under `parent` (locked by the engine, which checks it is a folder),
/// writing `puts` (the plan's rows, lent by their owner).
fn insert_new(
    t: &mut dyn WriteTxn,
    guid: &[u8; 16],
    (parent, associated): (u64, bool),
    (plan, puts): (&Plan, Vec<PropRef>),
    children: &[ChildWrite],
    now: u64,
) -> MapiResult<(u64, u64)> {
    let maintained = |cn| maintained(guid, cn, now, plan);
    let change = ChangeSet {
        target: Target::New {
            parent,
            kind: KIND_MESSAGE,
            flags: if associated { OBJ_FLAG_ASSOCIATED } else { 0 },
        },
        puts,
        deletes: &plan.deletes,
        replace_all: plan.replace_all,
        maintained: &maintained,
        children: children::change_sets(children),
    };
    match t.apply(&change)? {
        Applied::Committed { id, cn } => Ok((id, cn)),
        _ => Err(MapiError::new(
            MAPI_E_NOT_FOUND,
            "SaveChanges: the message's folder no longer exists",
        )),
    }
}

impl Message {
    /// Opens a stored message: a new, independent client of it.
    pub fn open(store: Arc<Store>, id: u64, writable: bool) -> MapiResult<Message> {
        // Properties and children from one snapshot: the working copy is one version.
        let (row, props, children) = store.storage().read(|t| {
            let row = t.object(id)?.filter(|r| r.kind == KIND_MESSAGE);
            let (props, children) = match row {
                Some(_) => (load_props_deferring(t, id)?, children::load(t, id)?),
                None => Default::default(),
            };
            Ok::<_, MapiError>((row, props, children))
        })?;
        let row = row.ok_or_else(|| {
            MapiError::new(
                MAPI_E_NOT_FOUND,
                "the message this entry ID names no longer exists",
            )
        })?;
        Ok(Self::from_snapshot(
            store,
            id,
            row.parent.unwrap_or(ROOT_FOLDER_ID),
            row.flags & OBJ_FLAG_ASSOCIATED != 0,
            Version {
                cn: row.cn,
                props,
                children,
            },
            writable,
        ))
    }

    fn from_snapshot(
        store: Arc<Store>,
        id: u64,
        parent: u64,
        associated: bool,
        Version {
            cn,
            props,
            children,
        }: Version,
        writable: bool,
    ) -> Message {
        let ids = Ids::new(&store, Some(id), parent);
        Message {
            store,
            state: Arc::new(Mutex::new(State {
                id: Some(id),
                parent,
                associated,
                base_cn: cn,
                base_size: payload_total(&props, &[]),
                base: Arc::new(props),
                changes: Changes::new(),
                kids: ChildEdits::new(children.clone()),
                base_children: Arc::new(children),
                writable,
                ids,
                revision: 0,
            })),
        }
    }

    /// A new message (CreateMessage): nothing is stored until its first save.
    pub fn create(store: Arc<Store>, parent: u64, associated: bool) -> Message {
        let ids = Ids::new(&store, None, parent);
        Message {
            store,
            state: Arc::new(Mutex::new(State {
                id: None,
                parent,
                associated,
                base_cn: 0,
                base: Arc::new(PropMap::new()),
                base_size: 0,
                changes: Changes::new(),
                base_children: Arc::default(),
                kids: ChildEdits::default(),
                writable: true,
                ids,
                revision: 0,
            })),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The message's entry ID, once it has been saved.
    pub fn entry_id(&self) -> Option<Vec<u8>> {
        let id = self.state.lock().id?;
        Some(self.store.entry_id(MAPI_MESSAGE, id))
    }

    /// The change number this client's view is based on.
    pub fn base_cn(&self) -> u64 {
        self.state.lock().base_cn
    }

    /// SaveChanges (DESIGN.md §4). Order of checks: flags → access → deleted → CN. A conflict
    /// is decided by the store's registered resolver, if any (DESIGN.md §5), called with no lock
    /// held; its decision is applied by compare-and-swap against the version it was shown.
    pub fn save_changes(&self, flags: u32) -> MapiResult<()> {
        let request = {
            let st = self.state.lock();
            check_request(flags, self.store.writable(), st.writable)?
        };
        let resolver = self.store.resolver();
        let mut mode = request.mode;
        // The stored CN a resolver's decision was made against (compare-and-swap target).
        let mut expected: Option<u64> = None;
        loop {
            let mut st = self.state.lock();
            if !st.writable {
                return Err(MapiError::no_access(
                    "SaveChanges: the message is open read-only",
                ));
            }
            let (next, conflict, shown_cn) = match self.commit(&st, mode, expected)? {
                Attempt::Committed {
                    id,
                    cn,
                    plan,
                    maintained,
                    children,
                } => {
                    if let Some((children, renumbered)) = children {
                        st.rebase_children(*children, &renumbered);
                    }
                    st.base_size = committed_size(&plan, &maintained);
                    st.commit_view(plan, maintained);
                    let parent = st.parent;
                    st.locate(&self.store, Some(id), parent);
                    st.base_cn = cn;
                    st.writable = request.keep_writable;
                    return Ok(());
                }
                Attempt::NothingToSave => {
                    st.writable = request.keep_writable;
                    return Ok(());
                }
                Attempt::Deleted => {
                    let next = after_deleted(mode, expected.is_some(), resolver.is_some());
                    let conflict = Conflict {
                        deleted: true,
                        entry_id: st
                            .id
                            .map(|id| self.store.entry_id(MAPI_MESSAGE, id))
                            .unwrap_or_default(),
                        their_changes: Vec::new(),
                        my_changes: st.my_change_tags(),
                        stored: None,
                    };
                    (next, conflict, 0)
                }
                Attempt::Stale {
                    stored_cn,
                    stored,
                    stored_children,
                } => {
                    let id = st.id.expect("only saved messages conflict");
                    let mut their_changes = differing_tags(&st.base, &stored);
                    their_changes.extend(st.base_children.differing_tags(&stored_children));
                    let conflict = Conflict {
                        deleted: false,
                        entry_id: self.store.entry_id(MAPI_MESSAGE, id),
                        their_changes,
                        my_changes: st.my_change_tags(),
                        stored: Some(Message::from_snapshot(
                            self.store.clone(),
                            id,
                            st.parent,
                            st.associated,
                            Version {
                                cn: stored_cn,
                                props: stored,
                                children: stored_children,
                            },
                            false,
                        )),
                    };
                    (after_stale(resolver.is_some()), conflict, stored_cn)
                }
            };
            drop(st);
            let next = match (next, &resolver) {
                (Next::AskResolver, Some(resolver)) => {
                    let deleted = conflict.deleted;
                    after_decision(resolver.resolve(self, conflict), deleted, shown_cn)
                }
                (next, _) => next,
            };
            match next {
                Next::Fail(e) => return Err(e),
                Next::Retry {
                    mode: m,
                    expected: e,
                } => {
                    // If another save lands meanwhile, the commit finds the message stale
                    // again and the resolver is re-asked.
                    mode = m;
                    expected = Some(e);
                }
                Next::SaveElsewhere(dest) => {
                    return self.save_elsewhere(dest, request.keep_writable)
                }
                Next::AskResolver => unreachable!("the resolver was asked above"),
            }
        }
    }

    /// One write transaction: the compare and the write together. The children's writes ride
    /// in the message's change set, so they are stored exactly when its properties are.
    fn commit(&self, st: &State, mode: Mode, expected: Option<u64>) -> MapiResult<Attempt> {
        let guid = *self.store.guid();
        let now = filetime_now();
        self.store.storage().write(|t| {
            let Some(id) = st.id else {
                // The first save of a message made by CreateMessage: never a conflict.
                let mut plan = plan_new(&st.base, &st.changes, Edits::new(), st.associated, now);
                plan.children_total = st.kids.current.payload();
                let writes = children::writes(&Children::default(), &st.kids.current);
                let puts = plan.puts(&st.base, &st.changes);
                let (id, cn) = insert_new(
                    t,
                    &guid,
                    (st.parent, st.associated),
                    (&plan, puts),
                    &writes,
                    now,
                )?;
                let maintained = maintained(&guid, cn, now, &plan);
                return Ok(Attempt::Committed {
                    id,
                    cn,
                    plan,
                    maintained,
                    children: Some((
                        Box::new(read_back(t, id, None, &st.kids.current)?),
                        BTreeMap::new(),
                    )),
                });
            };
            let is_message = |row: Option<crate::storage::ObjectRow>| {
                row.filter(|r| r.kind == KIND_MESSAGE).is_some()
            };
            if !st.has_changes() {
                return Ok(if is_message(t.object(id)?) {
                    Attempt::NothingToSave
                } else {
                    Attempt::Deleted
                });
            }
            let mut renumbered = BTreeMap::new();
            let mut merged: Option<Children> = None;
            let mut without_gone: Option<Children> = None;
            let (compare_with, mut plan, writes, children_total) = match (mode, expected) {
                (Mode::Normal, _) => (
                    st.base_cn,
                    plan_normal(&st.base, st.base_size, &st.changes),
                    children::writes(&st.base_children, &st.kids.current),
                    st.kids.current.payload(),
                ),
                (mode, expected) => {
                    // Force and merge read the stored version under the row's lock, then write.
                    let Some(row) = t.lock_object(id)?.filter(|r| r.kind == KIND_MESSAGE) else {
                        return Ok(Attempt::Deleted);
                    };
                    // FORCE_SAVE replaces whatever is stored; a resolver's decision only the
                    // version it was shown.
                    let compare_with = expected.unwrap_or(row.cn);
                    let stored = load_props_deferring(t, id)?;
                    let stored_children = children::load(t, id)?;
                    if row.cn != compare_with {
                        return Ok(Attempt::Stale {
                            stored_cn: row.cn,
                            stored,
                            stored_children,
                        });
                    }
                    let (plan, wanted) = if mode == Mode::Merge {
                        let (wanted, moved) =
                            children::merge(&st.base_children, &st.kids.current, &stored_children);
                        renumbered = moved;
                        (
                            plan_merge(&st.base, &st.changes, stored),
                            &*merged.insert(wanted),
                        )
                    } else {
                        (plan_force(&st.base, &st.changes, &stored), &st.kids.current)
                    };
                    let wanted = match wanted.without_gone_large(&stored_children, t)? {
                        Some(kept) => &*without_gone.insert(kept),
                        None => wanted,
                    };
                    let writes = children::writes(&stored_children, wanted);
                    (compare_with, plan, writes, wanted.payload())
                }
            };
            plan.children_total = children_total;
            let reads_back = mode != Mode::Normal || !writes.is_empty();
            let maintained_for = |cn| maintained(&guid, cn, now, &plan);
            let change = ChangeSet {
                target: Target::Existing {
                    id,
                    expect: Expect::Cn(compare_with),
                },
                puts: plan.puts(&st.base, &st.changes),
                deletes: &plan.deletes,
                replace_all: plan.replace_all,
                maintained: &maintained_for,
                children: children::change_sets(&writes),
            };
            let applied = t.apply(&change)?;
            drop(change);
            drop(writes);
            Ok(match applied {
                Applied::Committed { id, cn } => Attempt::Committed {
                    id,
                    cn,
                    maintained: maintained_for(cn),
                    plan,
                    children: if reads_back {
                        // Under FORCE_SAVE or MERGE another client may have replaced a child's
                        // value left in the store (its row is kept as stored): the children are
                        // read back for their references.
                        let wanted = merged.as_ref().unwrap_or(&st.kids.current);
                        let back = if mode != Mode::Normal && wanted.holds_large() {
                            ReadBack::Loaded(children::load(t, id)?)
                        } else {
                            read_back(t, id, merged, &st.kids.current)?
                        };
                        Some((Box::new(back), renumbered))
                    } else {
                        None
                    },
                },
                Applied::Stale { stored_cn } => Attempt::Stale {
                    stored_cn,
                    stored: load_props_deferring(t, id)?,
                    stored_children: children::load(t, id)?,
                },
                Applied::Gone => Attempt::Deleted,
            })
        })
    }

    /// SAVE_ELSEWHERE: this client's whole view becomes a new message in `dest` (None: the
    /// store's Conflicts folder, created on demand), with PR_CONFLICT_ITEMS naming the original.
    /// The original is untouched; this object now is the new message.
    fn save_elsewhere(&self, dest: Option<u64>, keep_writable: bool) -> MapiResult<()> {
        let mut st = self.state.lock();
        let now = filetime_now();
        let guid = *self.store.guid();
        let mut extra = Edits::new();
        if let Some(id) = st.id {
            let original = self.store.entry_id(MAPI_MESSAGE, id);
            extra.insert(
                prop_id(PR_CONFLICT_ITEMS),
                Some(PropValue::MvBinary(vec![original])),
            );
        }
        let mut plan = plan_new(&st.base, &st.changes, extra, st.associated, now);
        let (id, cn, parent, children, copied) = self.store.storage().write(|t| {
            let parent = match dest {
                Some(f) => f,
                None => conflicts_folder(t, &self.store)?,
            };
            // A large value another client replaced or deleted since this client opened the
            // message has no bytes left to copy: the copy goes without it, as FORCE_SAVE does.
            let mut gone = Vec::new();
            for (pid, v) in plan.lent_view(&st.base, &st.changes) {
                if let PropValue::Large(at) = v {
                    if !large_is_stored(t, at)? {
                        gone.push(pid);
                    }
                }
            }
            if !gone.is_empty() {
                plan.leave_out(&st.base, &st.changes, &gone);
            }
            // This client's children go with its view, all of them new in the copy.
            let kept = st
                .kids
                .current
                .without_gone_large(&Children::default(), t)?;
            let kids = kept.as_ref().unwrap_or(&st.kids.current);
            plan.children_total = kids.payload();
            let writes = children::writes(&Children::default(), kids);
            let puts = plan.puts(&st.base, &st.changes);
            let (id, cn) = insert_new(
                t,
                &guid,
                (parent, st.associated),
                (&plan, puts),
                &writes,
                now,
            )?;
            let children = read_back(t, id, None, &st.kids.current)?;
            // The view's values left in the store named the original's rows; the new
            // message's copies of them are its own.
            let held: Vec<u16> = plan
                .lent_view(&st.base, &st.changes)
                .into_iter()
                .filter(|(_, v)| v.is_large())
                .map(|(pid, _)| pid)
                .collect();
            let mut copied = Edits::new();
            if !held.is_empty() {
                let mut stored = load_props_deferring(t, id)?;
                for pid in held {
                    copied.insert(pid, stored.remove(&pid));
                }
            }
            Ok::<_, MapiError>((id, cn, parent, children, copied))
        })?;
        plan.edits.extend(copied);
        st.rebase_children(children, &BTreeMap::new());
        let maintained = maintained(&guid, cn, now, &plan);
        st.base_size = committed_size(&plan, &maintained);
        st.commit_view(plan, maintained);
        st.locate(&self.store, Some(id), parent);
        st.base_cn = cn;
        st.writable = keep_writable;
        Ok(())
    }

    fn require_writable(&self, st: &State, method: &str) -> MapiResult<()> {
        if !st.writable || !self.store.writable() {
            return Err(MapiError::no_access(format!(
                "{method}: the message is open read-only"
            )));
        }
        Ok(())
    }
}

impl HostOf for Message {
    fn store(&self) -> &Arc<Store> {
        &self.store
    }
    fn host(&self) -> Arc<dyn Host> {
        self.state.clone()
    }
}

impl PropObject for Message {
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        let st = self.state.lock();
        f(&MessageView {
            st: &st,
            store: &self.store,
        });
        Ok(())
    }

    fn set_props(&self, mut props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        self.set_props_from(&mut props)
    }

    fn set_props_from(&self, props: &mut Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        self.require_writable(&st, "SetProps")?;
        let refusal = self.store.refusal(message_is_computed);
        st.revision += 1;
        let mut problems = Vec::new();
        for p in props.drain(..) {
            match refusal(&p) {
                Some(problem) => problems.push(problem),
                None => st.changes.set(prop_id(p.tag), p.value),
            }
        }
        Ok(problems)
    }

    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        self.require_writable(&st, "DeleteProps")?;
        st.revision += 1;
        let mut problems = Vec::new();
        for (i, &tag) in tags.iter().enumerate() {
            let id = prop_id(tag);
            if message_is_computed(tag) {
                problems.push(computed_problem(i as u32, tag));
            } else if let Some(old) = st.base.get(&id) {
                let old_tag = prop_tag(old.ptype(), id);
                st.changes.insert(id, Change::Delete(old_tag));
            } else {
                // Not stored: forgetting a pending set is all there is to do.
                st.changes.remove(&id);
            }
        }
        Ok(problems)
    }

    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        Message::save_changes(self, flags)
    }

    fn check_writable(&self, method: &str) -> MapiResult<()> {
        self.require_writable(&self.state.lock(), method)
    }

    fn object_type(&self) -> u32 {
        MAPI_MESSAGE
    }

    fn named_store(&self) -> Option<&Store> {
        Some(&self.store)
    }

    fn stream_owner(&self) -> Option<Arc<dyn StreamOwner>> {
        Some(Arc::new(streams::MessageStreams {
            store: self.store.clone(),
            state: Arc::downgrade(&self.state),
        }))
    }
}
