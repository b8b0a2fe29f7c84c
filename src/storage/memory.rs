//! An engine in memory, for core's unit tests: the save rules driven end to end through the
//! `Engine` trait with no SQLite underneath (and proof that core needs nothing else of an
//! engine). A write transaction works on a copy of the store and replaces it at the commit, so a
//! failed body leaves nothing behind; transactions are serialised by one lock.

use super::{
    apply_children, insert_under_folder, reject_child_target, Applied, ChangeSet, ChildQuery,
    ChildRow, Engine, ErrorKind, Expect, ObjectRow, PropRef, ReadTxn, StorageError, StorageResult,
    StoredProp, Target, WriteTxn, KIND_FOLDER, KIND_STORE, ROOT_FOLDER_ID, STORE_OBJECT_ID,
};
use crate::core::named::PropName;
use parking_lot::Mutex;
use std::collections::BTreeMap;

#[derive(Clone, Default)]
struct Data {
    objects: BTreeMap<u64, ObjectRow>,
    props: BTreeMap<u64, BTreeMap<u16, StoredProp>>,
    next_cn: u64,
    next_id: u64,
    named: BTreeMap<u16, PropName>,
    /// Committed write transactions (the change stamp).
    commits: u64,
}

pub struct MemoryEngine {
    data: Mutex<Data>,
    writable: bool,
}

impl Default for MemoryEngine {
    /// A new store with its two fixed objects.
    fn default() -> MemoryEngine {
        let mut data = Data {
            next_cn: 1,
            next_id: ROOT_FOLDER_ID + 1,
            ..Data::default()
        };
        for (id, kind) in [(STORE_OBJECT_ID, KIND_STORE), (ROOT_FOLDER_ID, KIND_FOLDER)] {
            data.objects.insert(
                id,
                ObjectRow {
                    id,
                    kind,
                    parent: None,
                    cn: 0,
                    flags: 0,
                },
            );
        }
        MemoryEngine {
            data: Mutex::new(data),
            writable: true,
        }
    }
}

impl ReadTxn for Data {
    fn object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        Ok(self.objects.get(&id).copied())
    }
    fn children(&mut self, parent: u64, kind: u32) -> StorageResult<Vec<ObjectRow>> {
        Ok(self
            .objects
            .values()
            .filter(|o| o.parent == Some(parent) && o.kind == kind)
            .copied()
            .collect())
    }
    fn count_children(
        &mut self,
        parent: u64,
        kind: u32,
        mask: u32,
        flags: u32,
    ) -> StorageResult<u64> {
        Ok(self
            .children(parent, kind)?
            .iter()
            .filter(|o| o.flags & mask == flags)
            .count() as u64)
    }
    fn props(&mut self, id: u64) -> StorageResult<Vec<StoredProp>> {
        Ok(self
            .props
            .get(&id)
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default())
    }
    fn prop(&mut self, id: u64, prop_id: u16) -> StorageResult<Option<StoredProp>> {
        Ok(self.props.get(&id).and_then(|p| p.get(&prop_id)).cloned())
    }
    fn named_id(&mut self, name: &PropName) -> StorageResult<Option<u16>> {
        Ok(self
            .named
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| *id))
    }
    fn named_name(&mut self, id: u16) -> StorageResult<Option<PropName>> {
        Ok(self.named.get(&id).cloned())
    }
    fn named_all(&mut self) -> StorageResult<Vec<(u16, PropName)>> {
        Ok(self.named.iter().map(|(id, n)| (*id, n.clone())).collect())
    }
    fn named_max_id(&mut self) -> StorageResult<Option<u16>> {
        Ok(self.named.keys().next_back().copied())
    }
    /// Narrows nothing (a superset is allowed): every child, with the fetched properties.
    fn select_children(&mut self, q: &ChildQuery) -> StorageResult<Vec<ChildRow>> {
        let ids: Vec<u64> = self
            .children(q.parent, q.kind)?
            .iter()
            .filter(|o| o.flags & q.mask == q.flags)
            .map(|o| o.id)
            .collect();
        Ok(ids
            .into_iter()
            .map(|id| {
                let props = self.props.get(&id);
                let fetched = q
                    .fetch
                    .iter()
                    .filter_map(|p| props.and_then(|m| m.get(p)).cloned())
                    .collect();
                (id, fetched)
            })
            .collect())
    }
    fn change_stamp(&mut self) -> StorageResult<u64> {
        Ok(self.commits)
    }
}

impl WriteTxn for Data {
    fn lock_object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>> {
        self.object(id)
    }
    fn apply(&mut self, change: &ChangeSet) -> StorageResult<Applied> {
        let (id, cn) = match change.target {
            Target::Existing {
                id,
                expect: Expect::Cn(base),
            } => match self.objects.get(&id).copied() {
                None => return Ok(Applied::Gone),
                Some(row) if row.cn != base => return Ok(Applied::Stale { stored_cn: row.cn }),
                Some(_) => {
                    let cn = self.alloc_cn()?;
                    self.objects.get_mut(&id).expect("present").cn = cn;
                    (id, cn)
                }
            },
            Target::New {
                parent,
                kind,
                flags,
            } => match insert_under_folder(self, parent, kind, flags)? {
                Some(new) => new,
                None => return Ok(Applied::Gone),
            },
            Target::NewChild { .. } | Target::Child { .. } | Target::DeletedChild { .. } => {
                return reject_child_target()
            }
        };
        if change.replace_all {
            self.props.remove(&id);
        }
        self.delete_props(id, change.deletes)?;
        self.put_prop_refs(id, &change.puts)?;
        self.put_props(id, &(change.maintained)(cn))?;
        apply_children(self, id, cn, &change.children)?;
        Ok(Applied::Committed { id, cn })
    }
    fn alloc_cn(&mut self) -> StorageResult<u64> {
        self.next_cn += 1;
        Ok(self.next_cn - 1)
    }
    fn insert_object(&mut self, kind: u32, parent: u64, cn: u64, flags: u32) -> StorageResult<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.objects.insert(
            id,
            ObjectRow {
                id,
                kind,
                parent: Some(parent),
                cn,
                flags,
            },
        );
        Ok(id)
    }
    fn delete_object(&mut self, id: u64) -> StorageResult<()> {
        self.objects.remove(&id);
        self.props.remove(&id);
        Ok(())
    }
    fn put_prop_refs(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()> {
        let map = self.props.entry(id).or_default();
        for (tag, value) in props {
            map.insert((tag >> 16) as u16, (*tag, (*value).clone()));
        }
        Ok(())
    }
    fn delete_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()> {
        if let Some(map) = self.props.get_mut(&id) {
            for p in prop_ids {
                map.remove(p);
            }
        }
        Ok(())
    }
    fn set_parent(&mut self, id: u64, parent: u64) -> StorageResult<()> {
        match self.objects.get_mut(&id) {
            Some(row) => {
                row.parent = Some(parent);
                Ok(())
            }
            None => Err(StorageError::corrupt(format!(
                "object {id} to move is gone"
            ))),
        }
    }
    fn named_insert(&mut self, id: u16, name: &PropName) -> StorageResult<bool> {
        if self.named.contains_key(&id) || self.named_id(name)?.is_some() {
            return Ok(false);
        }
        self.named.insert(id, name.clone());
        Ok(true)
    }
    fn log_new_mail(&mut self, _id: u64) -> StorageResult<()> {
        // No change feed: nobody to tell.
        Ok(())
    }
}

impl Engine for MemoryEngine {
    fn guid(&self) -> [u8; 16] {
        [0x5A; 16]
    }
    fn writable(&self) -> bool {
        self.writable
    }
    fn name(&self) -> String {
        "memory".into()
    }
    fn max_value_bytes(&self) -> u64 {
        u64::MAX
    }
    fn read_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn ReadTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let mut snapshot = self.data.lock().clone();
        body(&mut snapshot)
    }
    fn write_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn WriteTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        if !self.writable {
            return Err(StorageError::new(ErrorKind::ReadOnly, "read-only"));
        }
        let mut data = self.data.lock();
        let mut copy = data.clone();
        body(&mut copy)?;
        copy.commits += 1;
        *data = copy;
        Ok(())
    }
    fn integrity_check(&self) -> StorageResult<bool> {
        Ok(true)
    }
}
