//! MAPI's in-memory property object (`CreateIProp` → IPropData): not transacted, with an object
//! access level and per-property access and dirty bits (DESIGN.md §2).

use super::error::{check_flags, MapiError, MapiResult};
use super::mapidefs::*;
use super::props::{
    apply_inputs, read_only_error, Problem, PropInput, PropMap, PropObject, PropView,
};
use super::value::{prop_id, prop_type, try_vec_with_capacity};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Default)]
struct State {
    props: PropMap,
    /// PT_OBJECT tags added by HrAddObjProps, by ID.
    objects: BTreeMap<u16, u32>,
    /// IPROP_READONLY / IPROP_READWRITE combined with IPROP_CLEAN / IPROP_DIRTY, by ID.
    access: BTreeMap<u16, u32>,
    read_only: bool,
}

impl PropView for State {
    fn get(&self, id: u16) -> Option<Cow<'_, super::value::PropValue>> {
        PropView::get(&self.props, id)
    }
    fn tags(&self) -> Vec<u32> {
        self.props.tags()
    }
    fn object_tags(&self) -> Vec<u32> {
        self.objects.values().copied().collect()
    }
}

#[derive(Default)]
pub struct PropData {
    state: Mutex<State>,
}

const DEFAULT_ACCESS: u32 = IPROP_READWRITE | IPROP_DIRTY;

impl PropData {
    pub fn new() -> Self {
        Self::default()
    }

    /// HrSetObjAccess: exactly one of IPROP_READONLY / IPROP_READWRITE.
    pub fn set_obj_access(&self, access: u32) -> MapiResult<()> {
        let read_only = match access {
            IPROP_READONLY => true,
            IPROP_READWRITE => false,
            _ if access & !(IPROP_READONLY | IPROP_READWRITE) != 0 => {
                return Err(MapiError::unknown_flags(
                    "HrSetObjAccess",
                    access,
                    IPROP_READONLY | IPROP_READWRITE,
                ))
            }
            _ => {
                return Err(MapiError::invalid(
                    "HrSetObjAccess: give exactly one of IPROP_READONLY and IPROP_READWRITE",
                ))
            }
        };
        self.state.lock().read_only = read_only;
        Ok(())
    }

    /// HrSetPropAccess: each value needs one of READONLY/READWRITE and one of CLEAN/DIRTY.
    pub fn set_prop_access(&self, tags: &[u32], access: &[u32]) -> MapiResult<()> {
        for (&tag, &a) in tags.iter().zip(access) {
            let rw = a & (IPROP_READONLY | IPROP_READWRITE);
            let dirty = a & (IPROP_CLEAN | IPROP_DIRTY);
            let known = IPROP_READONLY | IPROP_READWRITE | IPROP_CLEAN | IPROP_DIRTY;
            if a & !known != 0 {
                return Err(MapiError::unknown_flags("HrSetPropAccess", a, known));
            }
            if !rw.is_power_of_two() || !dirty.is_power_of_two() {
                return Err(MapiError::invalid(format!(
                    "HrSetPropAccess: access 0x{a:08X} for tag 0x{tag:08X} needs one of \
                     IPROP_READONLY/IPROP_READWRITE and one of IPROP_CLEAN/IPROP_DIRTY"
                )));
            }
        }
        let mut st = self.state.lock();
        for (&tag, &a) in tags.iter().zip(access) {
            st.access.insert(prop_id(tag), a);
        }
        Ok(())
    }

    /// HrGetPropAccess: every property's tag and its access value, in the same order.
    pub fn prop_access(&self) -> (Vec<u32>, Vec<u32>) {
        let st = self.state.lock();
        let mut tags = st.tags();
        tags.extend(st.object_tags());
        let access = tags
            .iter()
            .map(|t| *st.access.get(&prop_id(*t)).unwrap_or(&DEFAULT_ACCESS))
            .collect();
        (tags, access)
    }

    /// HrAddObjProps: advertise PT_OBJECT properties; other types are MAPI_E_INVALID_TYPE problems.
    pub fn add_obj_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        if st.read_only {
            return Err(read_only_error("the property object"));
        }
        // A tag of any other type fails the whole call with MAPI_E_INVALID_TYPE before
        // anything is added, and so there is no problem array (D:ipropdata-hraddobjprops:
        // "MAPI_E_INVALID_TYPE: a property type other than PT_OBJECT was passed";
        // docs/BAD_INPUT.md, docs/MAPIUTIL.md).
        if let Some((i, &tag)) = tags
            .iter()
            .enumerate()
            .find(|(_, t)| prop_type(**t) != PT_OBJECT)
        {
            return Err(MapiError::new(
                MAPI_E_INVALID_TYPE,
                format!(
                    "HrAddObjProps: entry {i} (tag 0x{tag:08X}) is not PT_OBJECT; nothing was added"
                ),
            ));
        }
        let problems = Vec::new();
        for &tag in tags {
            let id = prop_id(tag);
            st.props.remove(&id);
            st.objects.insert(id, tag);
            st.access.entry(id).or_insert(DEFAULT_ACCESS);
        }
        Ok(problems)
    }
}

impl PropObject for PropData {
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        f(&*self.state.lock());
        Ok(())
    }

    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        if st.read_only {
            return Err(read_only_error("the property object"));
        }
        let mut problems = Vec::new();
        let mut accepted = try_vec_with_capacity(props.len())?;
        for p in props {
            let id = prop_id(p.tag);
            if st.access.get(&id).is_some_and(|a| a & IPROP_READONLY != 0) {
                problems.push(Problem {
                    index: p.index,
                    tag: p.tag,
                    scode: MAPI_E_NO_ACCESS,
                });
                continue;
            }
            st.objects.remove(&id);
            let a = st.access.entry(id).or_insert(DEFAULT_ACCESS);
            *a = (*a & !IPROP_CLEAN) | IPROP_DIRTY;
            accepted.push(p);
        }
        apply_inputs(&mut st.props, accepted);
        Ok(problems)
    }

    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        if st.read_only {
            return Err(read_only_error("the property object"));
        }
        let mut problems = Vec::new();
        for (i, &tag) in tags.iter().enumerate() {
            let id = prop_id(tag);
            if st.access.get(&id).is_some_and(|a| a & IPROP_READONLY != 0) {
                problems.push(Problem {
                    index: i as u32,
                    tag,
                    scode: MAPI_E_NO_ACCESS,
                });
                continue;
            }
            // Deleting an absent property is not a problem (MAPI documents none; Wine agrees).
            st.props.remove(&id);
            st.objects.remove(&id);
            st.access.remove(&id);
        }
        Ok(problems)
    }

    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        check_flags("SaveChanges", flags, super::props::SAVE_CHANGES_FLAGS)?;
        if self.state.lock().read_only {
            return Err(read_only_error("the property object"));
        }
        Ok(())
    }

    fn check_writable(&self, _method: &str) -> MapiResult<()> {
        if self.state.lock().read_only {
            return Err(read_only_error("the property object"));
        }
        Ok(())
    }

    fn object_type(&self) -> u32 {
        0
    }
}
