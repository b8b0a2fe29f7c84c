//! Named properties (reference §5.5, DESIGN.md §9): one persistent mapping per store from names
//! (a property-set GUID plus a number or a string) to property IDs in 0x8000–0xFFFE. Core holds
//! the rules — which IDs are named, what makes two names equal, the quota, how a new ID is taken
//! — and the engine persists the mapping ([`crate::storage::ReadTxn::named_id`] and its
//! siblings), with a uniqueness constraint on both the name and the ID as a backstop.

use super::error::{MapiError, MapiResult};
use super::mapidefs::*;
use crate::storage::{Engine, STORE_OBJECT_ID};

/// The first and last property IDs a name can be given (D:imapiprop-getidsfromnames).
pub const FIRST_NAMED_ID: u16 = 0x8000;
pub const LAST_NAMED_ID: u16 = 0xFFFE;
/// How many names a store can hold at most.
pub const MAX_NAMED_IDS: u32 = (LAST_NAMED_ID - FIRST_NAMED_ID) as u32 + 1;
/// The longest MNID_STRING name, in UTF-16 units: an index entry of every engine holds it.
pub const MAX_NAME_UNITS: usize = 512;
/// A test-only knob read when a store is opened: the number of names the store may hold (fewer
/// than [`MAX_NAMED_IDS`]), so that a test reaches the quota without 32,767 names.
pub const QUOTA_ENV: &str = "MSGSTORE_NAMED_PROP_QUOTA";

/// The second half of a name: MNID_ID's number or MNID_STRING's string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    Id(i32),
    String(String),
}

/// A property name (a MAPINAMEID's content). Equality is MAPI's (reference §12.1 FEqualNames):
/// the GUID by value, the same kind, then the number, or the string compared case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropName {
    pub guid: [u8; 16],
    pub kind: NameKind,
}

impl PropName {
    pub fn id(guid: [u8; 16], lid: i32) -> PropName {
        PropName {
            guid,
            kind: NameKind::Id(lid),
        }
    }
    pub fn string(guid: [u8; 16], name: impl Into<String>) -> PropName {
        PropName {
            guid,
            kind: NameKind::String(name.into()),
        }
    }
    /// MNID_ID or MNID_STRING.
    pub fn mnid(&self) -> u32 {
        match self.kind {
            NameKind::Id(_) => MNID_ID,
            NameKind::String(_) => MNID_STRING,
        }
    }
    /// Whether the name is one a store can hold: a string name has no NUL and is at most
    /// [`MAX_NAME_UNITS`] UTF-16 units long.
    pub fn check(&self, what: &str) -> MapiResult<()> {
        if let NameKind::String(s) = &self.kind {
            if s.contains('\0') {
                return Err(MapiError::invalid(format!(
                    "{what}: the name contains a NUL"
                )));
            }
            let units = s.encode_utf16().count();
            if units > MAX_NAME_UNITS {
                return Err(MapiError::invalid(format!(
                    "{what}: a name of {units} UTF-16 units (at most {MAX_NAME_UNITS})"
                )));
            }
        }
        Ok(())
    }
}

/// Whether a property ID is in the named range.
pub fn is_named_id(id: u16) -> bool {
    (FIRST_NAMED_ID..=LAST_NAMED_ID).contains(&id)
}

/// The last ID a store may give: all of the range, or fewer names when [`QUOTA_ENV`] says so.
pub fn last_id_from_env() -> u16 {
    last_id_for_quota(std::env::var(QUOTA_ENV).ok().as_deref())
}

/// The last ID for a quota as [`QUOTA_ENV`] spells it (unset or unreadable: the whole range).
fn last_id_for_quota(quota: Option<&str>) -> u16 {
    let quota = quota
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map_or(MAX_NAMED_IDS, |n| n.min(MAX_NAMED_IDS));
    // A quota of 0 leaves no ID: the last one is then below the range.
    (u32::from(FIRST_NAMED_ID) + quota - 1) as u16
}

/// GetNamesFromIDs' filter: a property set and the MAPI_NO_STRINGS / MAPI_NO_IDS flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct NameFilter {
    pub guid: Option<[u8; 16]>,
    pub no_strings: bool,
    pub no_ids: bool,
}

impl NameFilter {
    pub fn from_flags(guid: Option<[u8; 16]>, flags: u32) -> NameFilter {
        NameFilter {
            guid,
            no_strings: flags & MAPI_NO_STRINGS != 0,
            no_ids: flags & MAPI_NO_IDS != 0,
        }
    }
    pub fn accepts(&self, name: &PropName) -> bool {
        if self.guid.is_some_and(|g| g != name.guid) {
            return false;
        }
        match name.kind {
            NameKind::Id(_) => !self.no_ids,
            NameKind::String(_) => !self.no_strings,
        }
    }
}

/// How many times a creation whose insert met a concurrent one's is run again. Creators are
/// serialised by the store object's lock, so this is a backstop that should never be reached.
const CREATE_ATTEMPTS: usize = 8;

/// GetIDsFromNames: each name's ID, in request order; None for a name that has none (and was
/// not created: no MAPI_CREATE, or a read-only store). With `create`, new names are given the
/// next free IDs in one transaction, and MAPI_E_TOO_BIG (nothing created) when they would pass
/// `last_id`. Two creators of one name, in any processes or hosts, get one ID.
pub fn ids_from_names(
    engine: &dyn Engine,
    names: &[PropName],
    create: bool,
    last_id: u16,
) -> MapiResult<Vec<Option<u16>>> {
    for name in names {
        name.check("GetIDsFromNames")?;
    }
    // Existing names first, under a read snapshot only: the common case takes no write lock.
    let mut ids = engine.read(|t| -> MapiResult<Vec<Option<u16>>> {
        names.iter().map(|n| Ok(t.named_id(n)?)).collect()
    })?;
    if !create || ids.iter().all(Option::is_some) || !engine.writable() {
        return Ok(ids);
    }
    for _ in 0..CREATE_ATTEMPTS {
        let created = engine.write(|t| -> MapiResult<Option<Vec<Option<u16>>>> {
            // One creator at a time per store, on every engine: the next ID read below stays
            // free until this transaction ends.
            t.lock_object(STORE_OBJECT_ID)?;
            let mut next = match t.named_max_id()? {
                Some(max) => u32::from(max) + 1,
                None => u32::from(FIRST_NAMED_ID),
            };
            let mut out = ids.clone();
            for (slot, name) in out.iter_mut().zip(names) {
                if slot.is_some() {
                    continue;
                }
                if let Some(id) = t.named_id(name)? {
                    *slot = Some(id);
                    continue;
                }
                if next > u32::from(last_id) || next > u32::from(LAST_NAMED_ID) {
                    return Err(MapiError::new(
                        MAPI_E_TOO_BIG,
                        format!(
                            "GetIDsFromNames: the store's named-property IDs are used up ({} \
                             names)",
                            next - u32::from(FIRST_NAMED_ID)
                        ),
                    ));
                }
                let id = next as u16;
                if !t.named_insert(id, name)? {
                    // Someone else's insert took the name or the ID: run again.
                    return Ok(None);
                }
                *slot = Some(id);
                next += 1;
            }
            Ok(Some(out))
        })?;
        if let Some(out) = created {
            ids = out;
            return Ok(ids);
        }
    }
    Err(MapiError::new(
        MAPI_E_TIMEOUT,
        "GetIDsFromNames: concurrent creators kept colliding",
    ))
}

/// GetIDsFromNames' NULL-names form: every ID the store has given, in ID order.
pub fn all_ids(engine: &dyn Engine) -> MapiResult<Vec<u16>> {
    engine.read(|t| -> MapiResult<Vec<u16>> {
        Ok(t.named_all()?.into_iter().map(|(id, _)| id).collect())
    })
}

/// GetNamesFromIDs: each ID's name, in request order; None for an ID outside the named range,
/// one without a name, or one whose name the filter leaves out.
pub fn names_from_ids(
    engine: &dyn Engine,
    ids: &[u16],
    filter: NameFilter,
) -> MapiResult<Vec<Option<PropName>>> {
    engine.read(|t| -> MapiResult<Vec<Option<PropName>>> {
        ids.iter()
            .map(|&id| {
                if !is_named_id(id) {
                    return Ok(None);
                }
                Ok(t.named_name(id)?.filter(|n| filter.accepts(n)))
            })
            .collect()
    })
}

/// GetNamesFromIDs' NULL-tags form: every mapping the filter accepts, in ID order.
pub fn all_names(engine: &dyn Engine, filter: NameFilter) -> MapiResult<Vec<(u16, PropName)>> {
    engine.read(|t| -> MapiResult<Vec<(u16, PropName)>> {
        let mut all = t.named_all()?;
        all.retain(|(_, n)| filter.accepts(n));
        Ok(all)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::memory::MemoryEngine;

    const G1: [u8; 16] = [1; 16];
    const G2: [u8; 16] = [2; 16];

    fn ids(e: &MemoryEngine, names: &[PropName], create: bool) -> Vec<Option<u16>> {
        ids_from_names(e, names, create, LAST_NAMED_ID).unwrap()
    }

    #[test]
    fn names_get_consecutive_ids_and_keep_them() {
        let e = MemoryEngine::default();
        let a = PropName::string(G1, "Alpha");
        let b = PropName::id(G1, 7);
        assert_eq!(ids(&e, &[a.clone(), b.clone()], false), vec![None, None]);
        assert_eq!(
            ids(&e, &[a.clone(), b.clone(), a.clone()], true),
            vec![Some(0x8000), Some(0x8001), Some(0x8000)]
        );
        assert_eq!(ids(&e, &[b, a], false), vec![Some(0x8001), Some(0x8000)]);
        assert_eq!(all_ids(&e).unwrap(), vec![0x8000, 0x8001]);
    }

    #[test]
    fn equality_is_mapis_guid_kind_and_case_sensitive_string() {
        let e = MemoryEngine::default();
        let names = [
            PropName::string(G1, "Name"),
            PropName::string(G1, "name"),
            PropName::string(G2, "Name"),
            PropName::id(G1, 1),
            PropName::id(G2, 1),
            PropName::string(G1, "1"),
        ];
        let got = ids(&e, &names, true);
        let mut distinct: Vec<_> = got.iter().flatten().collect();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "{got:?}");
        assert_eq!(ids(&e, &[PropName::id(G1, 1)], false), vec![Some(0x8003)]);
    }

    #[test]
    fn the_quota_fails_the_whole_call_and_creates_nothing() {
        let e = MemoryEngine::default();
        let last = FIRST_NAMED_ID + 1; // two names
        let three: Vec<_> = (0..3).map(|i| PropName::id(G1, i)).collect();
        let err = ids_from_names(&e, &three, true, last).unwrap_err();
        assert_eq!(err.code, MAPI_E_TOO_BIG);
        assert!(all_ids(&e).unwrap().is_empty(), "rolled back");
        assert_eq!(
            ids_from_names(&e, &three[..2], true, last).unwrap(),
            vec![Some(0x8000), Some(0x8001)]
        );
        // Existing names still resolve at the quota; a new one does not fit.
        assert_eq!(
            ids_from_names(&e, &three[..1], true, last).unwrap(),
            vec![Some(0x8000)]
        );
        assert_eq!(
            ids_from_names(&e, &three[2..], true, last)
                .unwrap_err()
                .code,
            MAPI_E_TOO_BIG
        );
    }

    #[test]
    fn names_from_ids_answers_unknown_and_out_of_range_ids_with_none() {
        let e = MemoryEngine::default();
        let a = PropName::string(G1, "A");
        let b = PropName::id(G2, 5);
        ids(&e, &[a.clone(), b.clone()], true);
        let all = NameFilter::default();
        assert_eq!(
            names_from_ids(&e, &[0x8001, 0x8000, 0x8002, 0x0037, 0xFFFF], all).unwrap(),
            vec![Some(b.clone()), Some(a.clone()), None, None, None]
        );
        let only_g1 = NameFilter::from_flags(Some(G1), 0);
        assert_eq!(all_names(&e, only_g1).unwrap(), vec![(0x8000, a.clone())]);
        let no_strings = NameFilter::from_flags(None, MAPI_NO_STRINGS);
        assert_eq!(all_names(&e, no_strings).unwrap(), vec![(0x8001, b)]);
        let neither = NameFilter::from_flags(None, MAPI_NO_STRINGS | MAPI_NO_IDS);
        assert!(all_names(&e, neither).unwrap().is_empty());
    }

    #[test]
    fn overlong_and_nul_names_are_refused() {
        let e = MemoryEngine::default();
        let long = PropName::string(G1, "x".repeat(MAX_NAME_UNITS + 1));
        let err = ids_from_names(&e, &[long], true, LAST_NAMED_ID).unwrap_err();
        assert_eq!(err.code, MAPI_E_INVALID_PARAMETER);
        let nul = PropName::string(G1, "a\0b");
        assert!(ids_from_names(&e, &[nul], true, LAST_NAMED_ID).is_err());
        let fits = PropName::string(G1, "x".repeat(MAX_NAME_UNITS));
        assert_eq!(ids(&e, &[fits], true), vec![Some(0x8000)]);
    }

    #[test]
    fn named_range_bounds() {
        assert!(!is_named_id(0x7FFF));
        assert!(is_named_id(0x8000));
        assert!(is_named_id(0xFFFE));
        assert!(!is_named_id(0xFFFF));
        assert_eq!(MAX_NAMED_IDS, 0x7FFF);
    }

    #[test]
    fn the_quota_knob_narrows_the_range_only() {
        assert_eq!(last_id_for_quota(None), LAST_NAMED_ID);
        assert_eq!(last_id_for_quota(Some("junk")), LAST_NAMED_ID);
        assert_eq!(last_id_for_quota(Some("99999")), LAST_NAMED_ID);
        assert_eq!(last_id_for_quota(Some(" 3 ")), 0x8002);
        assert_eq!(last_id_for_quota(Some("0")), 0x7FFF, "no ID at all");
    }
}
