//! The real MAPI/COM interface identifiers, exported as `extern const GUID` statics.

use super::types::GUID;

/// `{l-0000-0000-C000-000000000046}`: MAPI's and OLE's DEFINE_OLEGUID family.
const fn ole_guid(l: u32) -> GUID {
    GUID {
        Data1: l,
        Data2: 0,
        Data3: 0,
        Data4: [0xC0, 0, 0, 0, 0, 0, 0, 0x46],
    }
}

#[no_mangle]
pub static IID_IUnknown: GUID = ole_guid(0x0000_0000);
#[no_mangle]
pub static IID_IMAPITable: GUID = ole_guid(0x0002_0301);
#[no_mangle]
pub static IID_IMAPIAdviseSink: GUID = ole_guid(0x0002_0302);
#[no_mangle]
pub static IID_IMAPIProp: GUID = ole_guid(0x0002_0303);
#[no_mangle]
pub static IID_IMsgStore: GUID = ole_guid(0x0002_0306);
#[no_mangle]
pub static IID_IMessage: GUID = ole_guid(0x0002_0307);
#[no_mangle]
pub static IID_IAttachment: GUID = ole_guid(0x0002_0308);
#[no_mangle]
pub static IID_IMAPIContainer: GUID = ole_guid(0x0002_030B);
#[no_mangle]
pub static IID_IMAPIFolder: GUID = ole_guid(0x0002_030C);
/// ITableData (CreateTable).
#[no_mangle]
pub static IID_IMAPITableData: GUID = ole_guid(0x0002_0316);
#[no_mangle]
pub static IID_IMAPIPropData: GUID = ole_guid(0x0002_031A);
#[no_mangle]
pub static IID_IStream: GUID = ole_guid(0x0000_000C);
/// COM's task allocator interface (MAPIGetDefaultMalloc).
#[no_mangle]
pub static IID_IMalloc: GUID = ole_guid(0x0000_0002);
#[no_mangle]
pub static PS_MAPI: GUID = ole_guid(0x0002_0328);
#[no_mangle]
pub static PS_PUBLIC_STRINGS: GUID = ole_guid(0x0002_0329);
/// Ours (DESIGN.md §5): {5B3F6E2A-9C41-4D7E-A8B2-3E6C1F0D9A47}.
#[no_mangle]
pub static IID_IMsgStoreConflictResolver: GUID = GUID {
    Data1: 0x5B3F_6E2A,
    Data2: 0x9C41,
    Data3: 0x4D7E,
    Data4: [0xA8, 0xB2, 0x3E, 0x6C, 0x1F, 0x0D, 0x9A, 0x47],
};
