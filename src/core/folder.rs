//! Folders: non-transacted containers of messages and folders. Property writes apply at once;
//! the counts and identifiers are computed from the store at each read.

use super::contents::{ContentsSource, HierarchySource};
use super::error::{check_flags, MapiError, MapiResult};
use super::ids::EntryRef;
use super::mapidefs::*;
use super::message::Message;
use super::props::{read_only_error, Problem, PropInput, PropMap, PropObject, PropView};
use super::store::{delete_through, load_props, write_through, ComputedView, Store};
use super::stream::StreamOwner;
use super::table::view::TableView;
use super::table::RowSource;
use super::value::{id_listed, prop_id, PropValue};
use crate::storage::{self, ReadTxn, WriteTxn, KIND_FOLDER, KIND_MESSAGE, ROOT_FOLDER_ID};
use std::sync::Arc;

/// Object-row flag bit: a folder-associated (FAI) message.
pub const OBJ_FLAG_ASSOCIATED: u32 = 0x1;

#[derive(Clone)]
pub struct Folder {
    store: Arc<Store>,
    id: u64,
    writable: bool,
}

const FOLDER_COMPUTED: &[u32] = &[
    PR_ENTRYID,
    PR_RECORD_KEY,
    PR_PARENT_ENTRYID,
    PR_STORE_ENTRYID,
    PR_STORE_RECORD_KEY,
    PR_OBJECT_TYPE,
    PR_ACCESS,
    PR_ACCESS_LEVEL,
    PR_CONTENT_COUNT,
    PR_ASSOC_CONTENT_COUNT,
    PR_SUBFOLDERS,
    PR_STORE_SUPPORT_MASK,
    PR_FOLDER_TYPE,
    PR_MAPPING_SIGNATURE,
];

fn folder_is_computed(tag: u32) -> bool {
    id_listed(FOLDER_COMPUTED, tag)
}

pub(crate) fn deleted_folder() -> MapiError {
    MapiError::new(MAPI_E_OBJECT_DELETED, "the folder has been deleted")
}

/// The name of the folder SAVE_ELSEWHERE uses when the resolver names none.
pub const CONFLICTS_FOLDER_NAME: &str = "Conflicts";

/// The name a folder is known by (PR_DISPLAY_NAME, either width).
pub(crate) fn folder_name(props: &PropMap) -> Option<String> {
    match props.get(&prop_id(PR_DISPLAY_NAME_W)) {
        Some(PropValue::Unicode(s)) => Some(s.clone()),
        Some(PropValue::String8(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The subfolder of `parent` named `name` (case-insensitively, whichever width the name was set
/// through): the one lookup CreateFolder and the Conflicts folder share. A caller that creates
/// when nothing is found holds `parent`'s lock (`WriteTxn::lock_object`), which every creator of
/// a subfolder there takes first, so two creators cannot both find nothing.
pub(crate) fn child_folder_named(
    t: &mut dyn ReadTxn,
    parent: u64,
    name: &str,
) -> MapiResult<Option<u64>> {
    let wanted = name.to_lowercase();
    for row in t.children(parent, KIND_FOLDER)? {
        let props = load_props(t, row.id)?;
        if folder_name(&props).is_some_and(|n| n.to_lowercase() == wanted) {
            return Ok(Some(row.id));
        }
    }
    Ok(None)
}

/// Finds `name` under `parent`, or creates it (with `comment`) when `create` allows; the
/// parent is locked first. Returns the folder and whether it was made now.
fn find_or_create_child(
    t: &mut dyn WriteTxn,
    parent: u64,
    name: &str,
    comment: Option<&str>,
) -> MapiResult<(u64, bool)> {
    t.lock_object(parent)?
        .filter(|r| r.kind == KIND_FOLDER)
        .ok_or_else(deleted_folder)?;
    if let Some(existing) = child_folder_named(t, parent, name)? {
        return Ok((existing, false));
    }
    let cn = t.alloc_cn()?;
    let id = t.insert_object(KIND_FOLDER, parent, cn, 0)?;
    let mut props = vec![(PR_DISPLAY_NAME_W, PropValue::Unicode(name.into()))];
    if let Some(c) = comment.filter(|c| !c.is_empty()) {
        props.push((PR_COMMENT_W, PropValue::Unicode(c.into())));
    }
    t.put_props(id, &props)?;
    Ok((id, true))
}

/// Finds or creates the "Conflicts" folder under the root, and records a new one at index 0 of
/// the root's PR_ADDITIONAL_REN_ENTRYIDS, as Outlook does.
pub(crate) fn conflicts_folder(t: &mut dyn WriteTxn, store: &Store) -> MapiResult<u64> {
    let (id, made) = find_or_create_child(t, ROOT_FOLDER_ID, CONFLICTS_FOLDER_NAME, None)?;
    if made {
        let ren_id = prop_id(PR_ADDITIONAL_REN_ENTRYIDS);
        let mut ren = match t.prop(ROOT_FOLDER_ID, ren_id)? {
            Some((_, PropValue::MvBinary(v))) => v,
            _ => Vec::new(),
        };
        let eid = store.entry_id(MAPI_FOLDER, id);
        if ren.is_empty() {
            ren.push(eid);
        } else {
            ren[0] = eid;
        }
        t.put_props(
            ROOT_FOLDER_ID,
            &[(PR_ADDITIONAL_REN_ENTRYIDS, PropValue::MvBinary(ren))],
        )?;
    }
    Ok(id)
}

/// A folder's properties, stored and computed, as GetProps and a hierarchy table's rows show
/// them (through a handle that may write or not).
pub(crate) fn folder_view(
    t: &mut dyn ReadTxn,
    st: &Store,
    id: u64,
    writable: bool,
) -> MapiResult<ComputedView> {
    let row = t.object(id)?.ok_or_else(deleted_folder)?;
    let stored = load_props(t, id)?;
    let contents = t.count_children(id, KIND_MESSAGE, OBJ_FLAG_ASSOCIATED, 0)?;
    let assoc = t.count_children(id, KIND_MESSAGE, OBJ_FLAG_ASSOCIATED, OBJ_FLAG_ASSOCIATED)?;
    let subfolders = t.count_children(id, KIND_FOLDER, 0, 0)?;
    let mut c = PropMap::new();
    let bin = PropValue::Binary;
    c.insert(prop_id(PR_ENTRYID), bin(st.entry_id(MAPI_FOLDER, id)));
    c.insert(prop_id(PR_RECORD_KEY), bin(st.record_key(id)));
    c.insert(
        prop_id(PR_PARENT_ENTRYID),
        bin(st.entry_id(MAPI_FOLDER, row.parent.unwrap_or(id))),
    );
    c.insert(prop_id(PR_STORE_ENTRYID), bin(st.store_entry_id()));
    c.insert(prop_id(PR_STORE_RECORD_KEY), bin(st.guid().to_vec()));
    c.insert(prop_id(PR_MAPPING_SIGNATURE), bin(st.mapping_signature()));
    c.insert(prop_id(PR_OBJECT_TYPE), PropValue::Long(MAPI_FOLDER as i32));
    let writable = writable && st.writable();
    let access = if writable {
        MAPI_ACCESS_READ
            | MAPI_ACCESS_MODIFY
            | MAPI_ACCESS_DELETE
            | MAPI_ACCESS_CREATE_HIERARCHY
            | MAPI_ACCESS_CREATE_CONTENTS
            | MAPI_ACCESS_CREATE_ASSOCIATED
    } else {
        MAPI_ACCESS_READ
    };
    c.insert(prop_id(PR_ACCESS), PropValue::Long(access as i32));
    c.insert(
        prop_id(PR_ACCESS_LEVEL),
        PropValue::Long(if writable { MAPI_MODIFY as i32 } else { 0 }),
    );
    c.insert(prop_id(PR_CONTENT_COUNT), PropValue::Long(contents as i32));
    c.insert(
        prop_id(PR_ASSOC_CONTENT_COUNT),
        PropValue::Long(assoc as i32),
    );
    c.insert(prop_id(PR_SUBFOLDERS), PropValue::Boolean(subfolders > 0));
    c.insert(
        prop_id(PR_STORE_SUPPORT_MASK),
        PropValue::Long(st.support_mask() as i32),
    );
    let folder_type = if id == storage::ROOT_FOLDER_ID {
        FOLDER_ROOT
    } else {
        FOLDER_GENERIC
    };
    c.insert(prop_id(PR_FOLDER_TYPE), PropValue::Long(folder_type as i32));
    Ok(ComputedView {
        stored,
        computed: c,
    })
}

impl Folder {
    pub fn open(store: Arc<Store>, id: u64, writable: bool) -> MapiResult<Folder> {
        let row = store.storage().read(|t| t.object(id))?;
        match row {
            Some(r) if r.kind == KIND_FOLDER => Ok(Folder {
                store,
                id,
                writable,
            }),
            _ => Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                "the folder this entry ID names no longer exists",
            )),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub(crate) fn require_writable(&self, what: &str) -> MapiResult<()> {
        self.store.require_writable(what)?;
        if !self.writable {
            return Err(read_only_error("the folder"));
        }
        Ok(())
    }

    fn view(&self) -> MapiResult<ComputedView> {
        self.store
            .storage()
            .read(|t| folder_view(t, &self.store, self.id, self.writable))
    }

    /// GetContentsTable: a view of this folder's messages (contents.rs).
    pub fn contents_table(&self, flags: u32) -> MapiResult<TableView> {
        let source = ContentsSource::new(self.store.clone(), self.id, self.writable, flags)?;
        self.table(Arc::new(source))
    }

    /// GetHierarchyTable: a view of this folder's subfolders (contents.rs).
    pub fn hierarchy_table(&self, flags: u32) -> MapiResult<TableView> {
        let source = HierarchySource::new(self.store.clone(), self.id, self.writable, flags)?;
        self.table(Arc::new(source))
    }

    fn table(&self, source: Arc<dyn RowSource>) -> MapiResult<TableView> {
        self.store.storage().read(|t| {
            t.object(self.id)?.ok_or_else(deleted_folder)?;
            Ok::<_, MapiError>(())
        })?;
        TableView::new(source, Vec::new())
    }

    /// CreateMessage: a new, unsaved message in this folder.
    pub fn create_message(&self, flags: u32) -> MapiResult<Message> {
        check_flags(
            "CreateMessage",
            flags,
            MAPI_DEFERRED_ERRORS | MAPI_ASSOCIATED,
        )?;
        self.require_writable("CreateMessage")?;
        self.store.storage().read(|t| {
            t.object(self.id)?.ok_or_else(deleted_folder)?;
            Ok::<_, MapiError>(())
        })?;
        Ok(Message::create(
            self.store.clone(),
            self.id,
            flags & MAPI_ASSOCIATED != 0,
        ))
    }

    /// DeleteMessages: entries that are not messages of this folder are skipped, and the call
    /// then returns MAPI_W_PARTIAL_COMPLETION (Ok(false)). Messages others have open may be
    /// deleted (DESIGN.md §4); they learn it at their next save.
    pub fn delete_messages(&self, entries: &[Vec<u8>], flags: u32) -> MapiResult<bool> {
        const DELETE_HARD_DELETE: u32 = 0x10;
        check_flags(
            "DeleteMessages",
            flags,
            MESSAGE_DIALOG | DELETE_HARD_DELETE | MAPI_DEFERRED_ERRORS,
        )?;
        self.require_writable("DeleteMessages")?;
        let mut refs = Vec::with_capacity(entries.len());
        for e in entries {
            refs.push(super::ids::parse_entry_id(self.store.guid(), e)?);
        }
        self.store.storage().write(|t| {
            t.lock_object(self.id)?.ok_or_else(deleted_folder)?;
            let mut all = true;
            for EntryRef { kind, id } in &refs {
                // Each message is locked before it is compared and deleted.
                match t.lock_object(*id)? {
                    Some(row)
                        if *kind == MAPI_MESSAGE
                            && row.kind == KIND_MESSAGE
                            && row.parent == Some(self.id) =>
                    {
                        storage::delete_tree(t, *id)?
                    }
                    _ => all = false,
                }
            }
            Ok::<_, MapiError>(all)
        })
    }

    /// The subfolder with this name (case-insensitive), if any.
    pub fn find_child(&self, name: &str) -> MapiResult<Option<u64>> {
        self.store
            .storage()
            .read(|t| child_folder_named(t, self.id, name))
    }

    /// CreateFolder: a generic folder; a name in use is MAPI_E_COLLISION unless OPEN_IF_EXISTS.
    pub fn create_folder(
        &self,
        folder_type: u32,
        name: &str,
        comment: Option<&str>,
        flags: u32,
    ) -> MapiResult<Folder> {
        check_flags("CreateFolder", flags, OPEN_IF_EXISTS | MAPI_UNICODE)?;
        match folder_type {
            FOLDER_GENERIC => {}
            FOLDER_SEARCH => return Err(MapiError::no_support("CreateFolder(FOLDER_SEARCH)")),
            _ => {
                return Err(MapiError::invalid(format!(
                    "CreateFolder: folder type {folder_type} is not FOLDER_GENERIC"
                )))
            }
        }
        if name.is_empty() {
            return Err(MapiError::invalid("CreateFolder: the folder name is empty"));
        }
        self.require_writable("CreateFolder")?;
        let id = self.store.storage().write(|t| {
            let (id, made) = find_or_create_child(t, self.id, name, comment)?;
            if !made && flags & OPEN_IF_EXISTS == 0 {
                return Err(MapiError::new(
                    MAPI_E_COLLISION,
                    format!("CreateFolder: a folder named \"{name}\" already exists here"),
                ));
            }
            Ok::<_, MapiError>(id)
        })?;
        Ok(Folder {
            store: self.store.clone(),
            id,
            writable: true,
        })
    }

    /// DeleteFolder: a subfolder of this one; its messages need DEL_MESSAGES and its subfolders
    /// DEL_FOLDERS.
    pub fn delete_folder(&self, entry: &[u8], flags: u32) -> MapiResult<()> {
        check_flags("DeleteFolder", flags, DEL_MESSAGES | DEL_FOLDERS)?;
        self.require_writable("DeleteFolder")?;
        let target = super::ids::parse_entry_id(self.store.guid(), entry)?;
        if target.kind != MAPI_FOLDER {
            return Err(MapiError::new(
                MAPI_E_INVALID_ENTRYID,
                "DeleteFolder: the entry ID does not name a folder",
            ));
        }
        self.store.storage().write(|t| {
            match t.lock_object(target.id)? {
                Some(row) if row.kind == KIND_FOLDER && row.parent == Some(self.id) => {}
                Some(_) => {
                    return Err(MapiError::new(
                        MAPI_E_NOT_FOUND,
                        "DeleteFolder: the folder is not a subfolder of this folder",
                    ))
                }
                None => {
                    return Err(MapiError::new(
                        MAPI_E_NOT_FOUND,
                        "DeleteFolder: the folder no longer exists",
                    ))
                }
            }
            if flags & DEL_MESSAGES == 0 && !t.children(target.id, KIND_MESSAGE)?.is_empty() {
                return Err(MapiError::new(
                    MAPI_E_HAS_MESSAGES,
                    "DeleteFolder: the folder holds messages (pass DEL_MESSAGES)",
                ));
            }
            if flags & DEL_FOLDERS == 0 && !t.children(target.id, KIND_FOLDER)?.is_empty() {
                return Err(MapiError::new(
                    MAPI_E_HAS_FOLDERS,
                    "DeleteFolder: the folder holds folders (pass DEL_FOLDERS)",
                ));
            }
            delete_tree(t, target.id)
        })
    }
}

/// Deletes a folder with everything below it. The tree is walked without recursion and each
/// folder is visited once: in a damaged store (a parent link, or the index over them, that
/// makes a cycle) a folder met twice is MAPI_E_CORRUPT_STORE — the caller's transaction then
/// writes nothing — where a recursive walk would overflow the stack and kill the process.
fn delete_tree(t: &mut dyn WriteTxn, folder: u64) -> MapiResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    let mut pending = vec![folder];
    let mut order = Vec::new();
    while let Some(f) = pending.pop() {
        if !seen.insert(f) {
            return Err(MapiError::new(
                MAPI_E_CORRUPT_STORE,
                format!("DeleteFolder: the folder tree is damaged (folder {f} is met twice)"),
            ));
        }
        // Locked, so that nothing is created in it while the walk goes on.
        t.lock_object(f)?;
        order.push(f);
        pending.extend(t.children(f, KIND_FOLDER)?.iter().map(|sub| sub.id));
    }
    // Deepest first, as the recursion did.
    for f in order.into_iter().rev() {
        for msg in t.children(f, KIND_MESSAGE)? {
            storage::delete_tree(t, msg.id)?;
        }
        t.delete_object(f)?;
    }
    Ok(())
}

impl PropObject for Folder {
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        let view = self.view()?;
        f(&view);
        Ok(())
    }
    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        self.require_writable("SetProps")?;
        write_through(&self.store, self.id, props, folder_is_computed)
    }
    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        self.require_writable("DeleteProps")?;
        delete_through(&self.store, self.id, tags, folder_is_computed)
    }
    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        check_flags("SaveChanges", flags, super::props::SAVE_CHANGES_FLAGS)?;
        self.require_writable("SaveChanges")
    }
    fn check_writable(&self, method: &str) -> MapiResult<()> {
        self.require_writable(method)
    }
    fn object_type(&self) -> u32 {
        MAPI_FOLDER
    }
    /// A folder's stream keeps what writes the folder (folders are not transacted: its Commit
    /// stores at once, as SetProps does).
    fn stream_owner(&self) -> Option<Arc<dyn StreamOwner>> {
        Some(Arc::new(self.clone()))
    }
    fn named_store(&self) -> Option<&Store> {
        Some(&self.store)
    }
}

impl StreamOwner for Folder {
    fn object(&self) -> Option<Box<dyn PropObject>> {
        Some(Box::new(self.clone()))
    }
    fn max_value_bytes(&self) -> u64 {
        self.store.storage().max_value_bytes()
    }
}
