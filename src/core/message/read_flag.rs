//! SetReadFlag: applied at once, outside the message's transaction; it takes no new change
//! number, so it never makes another client's save conflict (DESIGN.md §4).

use super::super::error::{check_flags, MapiError, MapiResult};
use super::super::mapidefs::*;
use super::super::value::{prop_id, PropValue};
use super::working::Change;
use super::Message;
use crate::storage::KIND_MESSAGE;
use std::sync::Arc;

const READ_FLAG_FLAGS: u32 = SUPPRESS_RECEIPT
    | CLEAR_READ_FLAG
    | MAPI_DEFERRED_ERRORS
    | GENERATE_RECEIPT_ONLY
    | CLEAR_RN_PENDING
    | CLEAR_NRN_PENDING;

/// PR_MESSAGE_FLAGS after SetReadFlag(`flags`).
fn updated(flags: u32, old: u32) -> u32 {
    let mut f = old;
    if flags & GENERATE_RECEIPT_ONLY == 0 {
        if flags & CLEAR_READ_FLAG != 0 {
            f &= !MSGFLAG_READ;
        } else {
            f |= MSGFLAG_READ;
        }
    }
    if flags & CLEAR_RN_PENDING != 0 {
        f &= !MSGFLAG_RN_PENDING;
    }
    if flags & CLEAR_NRN_PENDING != 0 {
        f &= !MSGFLAG_NRN_PENDING;
    }
    f
}

fn as_flags(v: Option<&PropValue>) -> u32 {
    match v {
        Some(PropValue::Long(l)) => *l as u32,
        _ => 0,
    }
}

impl Message {
    pub fn set_read_flag(&self, flags: u32) -> MapiResult<()> {
        check_flags("SetReadFlag", flags, READ_FLAG_FLAGS)?;
        if flags & SUPPRESS_RECEIPT != 0 && flags & CLEAR_READ_FLAG != 0 {
            return Err(MapiError::invalid(
                "SetReadFlag: SUPPRESS_RECEIPT and CLEAR_READ_FLAG contradict each other",
            ));
        }
        self.store.require_writable("SetReadFlag")?;
        let fid = prop_id(PR_MESSAGE_FLAGS);
        let mut st = self.state.lock();
        if let Some(Change::Set(v)) = st.changes.get(&fid) {
            let pending = updated(flags, as_flags(Some(v)));
            st.changes
                .insert(fid, Change::Set(PropValue::Long(pending as i32)));
        }
        let Some(id) = st.id else {
            if !st.changes.contains_key(&fid) {
                let now = updated(flags, as_flags(st.value(fid)));
                st.changes
                    .insert(fid, Change::Set(PropValue::Long(now as i32)));
            }
            return Ok(());
        };
        // A read-modify-write of one property under the message's row lock.
        let stored_flags = self.store.storage().write(|t| {
            t.lock_object(id)?
                .filter(|r| r.kind == KIND_MESSAGE)
                .ok_or_else(|| {
                    MapiError::new(
                        MAPI_E_OBJECT_DELETED,
                        "SetReadFlag: the message was deleted",
                    )
                })?;
            let stored = t.prop(id, fid)?.map(|(_, v)| v);
            let new = updated(flags, as_flags(stored.as_ref()));
            t.put_props(id, &[(PR_MESSAGE_FLAGS, PropValue::Long(new as i32))])?;
            Ok::<_, MapiError>(new)
        })?;
        let new = PropValue::Long(stored_flags as i32);
        let old_size = st.base.get(&fid).map_or(0, PropValue::payload_size);
        st.base_size = st.base_size + new.payload_size() - old_size;
        Arc::make_mut(&mut st.base).insert(fid, new);
        st.revision += 1;
        Ok(())
    }
}
