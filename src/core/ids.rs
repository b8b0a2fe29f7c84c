//! Identifiers: long-term entry IDs (DESIGN.md §2), record keys, change keys and predecessor
//! change lists (DESIGN.md §4; MS-OXCFXICS XIDs), and the FILETIME clock.

use super::error::{MapiError, MapiResult};
use super::mapidefs::*;

/// abFlags[4] + store GUID[16] + object kind (u32 LE) + object ID (u64 LE).
pub const ENTRYID_LEN: usize = 32;
/// Store GUID + 6-byte big-endian change number.
pub const XID_LEN: usize = 22;

/// What an entry ID names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef {
    pub kind: u32,
    pub id: u64,
}

pub fn entry_id(guid: &[u8; 16], kind: u32, id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRYID_LEN);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(guid);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out
}

/// Parses an entry ID: truncated or malformed → MAPI_E_INVALID_ENTRYID; well-formed but another
/// store's → MAPI_E_UNKNOWN_ENTRYID. Whether the object still exists is the caller's question.
pub fn parse_entry_id(guid: &[u8; 16], bytes: &[u8]) -> MapiResult<EntryRef> {
    let invalid = |why: &str| MapiError::new(MAPI_E_INVALID_ENTRYID, format!("entry ID {why}"));
    if bytes.len() != ENTRYID_LEN {
        return Err(invalid(&format!(
            "has {} bytes; this store's entry IDs have {ENTRYID_LEN}",
            bytes.len()
        )));
    }
    if bytes[..4] != [0; 4] {
        return Err(invalid("is not a long-term entry ID (flag bytes set)"));
    }
    let kind = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    let id = u64::from_le_bytes(bytes[24..32].try_into().expect("8 bytes"));
    if !matches!(kind, MAPI_STORE | MAPI_FOLDER | MAPI_MESSAGE) || id == 0 {
        return Err(invalid("names no kind of object this provider stores"));
    }
    if bytes[4..20] != guid[..] {
        return Err(MapiError::new(
            MAPI_E_UNKNOWN_ENTRYID,
            "entry ID belongs to another store",
        ));
    }
    Ok(EntryRef { kind, id })
}

/// PR_RECORD_KEY / PR_SOURCE_KEY-style key: store GUID + object ID (unique, never reused).
pub fn record_key(guid: &[u8; 16], id: u64) -> Vec<u8> {
    let mut out = guid.to_vec();
    out.extend_from_slice(&id.to_be_bytes());
    out
}

/// A change key: the store GUID and the change number as 6 bytes big-endian, so that memcmp
/// orders change keys of one store.
pub fn xid(guid: &[u8; 16], cn: u64) -> Vec<u8> {
    let mut out = guid.to_vec();
    out.extend_from_slice(&cn.to_be_bytes()[2..]);
    out
}

/// A predecessor change list: SizedXid entries (1-byte size + XID). Parsing is lenient about
/// what it does not understand: an entry it cannot read ends the list.
pub fn parse_pcl(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if len < 17 || tail.len() < len {
            break;
        }
        out.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    out
}

/// Merges change lists keeping one XID per namespace GUID, the highest (DESIGN.md §4), and
/// serialises the result in GUID order.
pub fn merge_pcl<'a>(xids: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut best: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
    for x in xids {
        if x.len() < 17 {
            continue;
        }
        let (ns, local) = x.split_at(16);
        let entry = best.entry(ns.to_vec()).or_insert_with(|| local.to_vec());
        if (local.len(), local) > (entry.len(), entry.as_slice()) {
            *entry = local.to_vec();
        }
    }
    let mut out = Vec::new();
    for (ns, local) in best {
        out.push((ns.len() + local.len()) as u8);
        out.extend_from_slice(&ns);
        out.extend_from_slice(&local);
    }
    out
}

/// Now as a FILETIME (100-ns ticks since 1601-01-01 UTC).
pub fn filetime_now() -> u64 {
    const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH_AS_FILETIME + since_unix.as_nanos() as u64 / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: [u8; 16] = [9; 16];

    #[test]
    fn entry_ids_round_trip_and_are_classified() {
        let e = entry_id(&G, MAPI_MESSAGE, 42);
        assert_eq!(
            parse_entry_id(&G, &e).unwrap(),
            EntryRef {
                kind: MAPI_MESSAGE,
                id: 42
            }
        );
        assert_eq!(
            parse_entry_id(&G, &e[..31]).unwrap_err().code,
            MAPI_E_INVALID_ENTRYID
        );
        let mut flagged = e.clone();
        flagged[0] = 0x80;
        assert_eq!(
            parse_entry_id(&G, &flagged).unwrap_err().code,
            MAPI_E_INVALID_ENTRYID
        );
        assert_eq!(
            parse_entry_id(&[1; 16], &e).unwrap_err().code,
            MAPI_E_UNKNOWN_ENTRYID
        );
    }

    #[test]
    fn change_keys_order_by_memcmp_and_pcl_keeps_the_highest() {
        assert!(xid(&G, 255) < xid(&G, 256));
        let a = xid(&G, 5);
        let b = xid(&G, 7);
        let other = xid(&[1; 16], 3);
        let pcl = merge_pcl([a.as_slice(), b.as_slice(), other.as_slice()]);
        let parsed = parse_pcl(&pcl);
        assert_eq!(parsed, vec![other, b]);
    }
}
