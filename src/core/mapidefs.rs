//! The MAPI vocabulary every layer shares: HRESULTs, flags, property types and tags (reference
//! §2, §4–§6; DESIGN.md §2, §5). Numbers only. Written as literals or casts: cbindgen silently
//! drops `const fn` calls, and it emits every `pub const` here as a `#define`.
#![allow(non_upper_case_globals)]

// ---- HRESULTs (reference §4) -------------------------------------------------------------
pub const S_OK: i32 = 0;
pub const S_FALSE: i32 = 1;
pub const hrSuccess: i32 = 0;
pub const MAPI_E_CALL_FAILED: i32 = 0x8000_4005_u32 as i32;
pub const MAPI_E_NOT_ENOUGH_MEMORY: i32 = 0x8007_000E_u32 as i32;
pub const MAPI_E_INVALID_PARAMETER: i32 = 0x8007_0057_u32 as i32;
pub const MAPI_E_INTERFACE_NOT_SUPPORTED: i32 = 0x8000_4002_u32 as i32;
pub const MAPI_E_NO_ACCESS: i32 = 0x8007_0005_u32 as i32;
pub const E_NOINTERFACE: i32 = 0x8000_4002_u32 as i32;
pub const E_INVALIDARG: i32 = 0x8007_0057_u32 as i32;
pub const E_FAIL: i32 = 0x8000_4005_u32 as i32;
pub const E_OUTOFMEMORY: i32 = 0x8007_000E_u32 as i32;
pub const E_ACCESSDENIED: i32 = 0x8007_0005_u32 as i32;
pub const MAPI_E_NO_SUPPORT: i32 = 0x8004_0102_u32 as i32;
pub const MAPI_E_BAD_CHARWIDTH: i32 = 0x8004_0103_u32 as i32;
pub const MAPI_E_STRING_TOO_LONG: i32 = 0x8004_0105_u32 as i32;
pub const MAPI_E_UNKNOWN_FLAGS: i32 = 0x8004_0106_u32 as i32;
pub const MAPI_E_INVALID_ENTRYID: i32 = 0x8004_0107_u32 as i32;
pub const MAPI_E_INVALID_OBJECT: i32 = 0x8004_0108_u32 as i32;
pub const MAPI_E_OBJECT_CHANGED: i32 = 0x8004_0109_u32 as i32;
pub const MAPI_E_OBJECT_DELETED: i32 = 0x8004_010A_u32 as i32;
pub const MAPI_E_BUSY: i32 = 0x8004_010B_u32 as i32;
pub const MAPI_E_NOT_ENOUGH_DISK: i32 = 0x8004_010D_u32 as i32;
pub const MAPI_E_NOT_ENOUGH_RESOURCES: i32 = 0x8004_010E_u32 as i32;
pub const MAPI_E_NOT_FOUND: i32 = 0x8004_010F_u32 as i32;
pub const MAPI_E_VERSION: i32 = 0x8004_0110_u32 as i32;
pub const MAPI_E_USER_CANCEL: i32 = 0x8004_0113_u32 as i32;
pub const MAPI_E_NETWORK_ERROR: i32 = 0x8004_0115_u32 as i32;
pub const MAPI_E_DISK_ERROR: i32 = 0x8004_0116_u32 as i32;
pub const MAPI_E_TOO_COMPLEX: i32 = 0x8004_0117_u32 as i32;
pub const MAPI_E_EXTENDED_ERROR: i32 = 0x8004_0119_u32 as i32;
pub const MAPI_E_COMPUTED: i32 = 0x8004_011A_u32 as i32;
pub const MAPI_E_CORRUPT_DATA: i32 = 0x8004_011B_u32 as i32;
pub const MAPI_E_UNKNOWN_ENTRYID: i32 = 0x8004_0201_u32 as i32;
pub const MAPI_E_BAD_VALUE: i32 = 0x8004_0301_u32 as i32;
pub const MAPI_E_INVALID_TYPE: i32 = 0x8004_0302_u32 as i32;
pub const MAPI_E_TYPE_NO_SUPPORT: i32 = 0x8004_0303_u32 as i32;
pub const MAPI_E_UNEXPECTED_TYPE: i32 = 0x8004_0304_u32 as i32;
pub const MAPI_E_TOO_BIG: i32 = 0x8004_0305_u32 as i32;
pub const MAPI_E_DECLINE_COPY: i32 = 0x8004_0306_u32 as i32;
pub const MAPI_E_UNEXPECTED_ID: i32 = 0x8004_0307_u32 as i32;
pub const MAPI_W_ERRORS_RETURNED: i32 = 0x0004_0380;
pub const MAPI_E_UNABLE_TO_COMPLETE: i32 = 0x8004_0400_u32 as i32;
pub const MAPI_E_TIMEOUT: i32 = 0x8004_0401_u32 as i32;
pub const MAPI_E_CORRUPT_STORE: i32 = 0x8004_0600_u32 as i32;
pub const MAPI_E_NOT_IN_QUEUE: i32 = 0x8004_0601_u32 as i32;
pub const MAPI_E_COLLISION: i32 = 0x8004_0604_u32 as i32;
pub const MAPI_E_NOT_INITIALIZED: i32 = 0x8004_0605_u32 as i32;
pub const MAPI_E_SUBMITTED: i32 = 0x8004_0608_u32 as i32;
pub const MAPI_E_HAS_FOLDERS: i32 = 0x8004_0609_u32 as i32;
pub const MAPI_E_HAS_MESSAGES: i32 = 0x8004_060A_u32 as i32;
pub const MAPI_E_FOLDER_CYCLE: i32 = 0x8004_060B_u32 as i32;
pub const MAPI_W_PARTIAL_COMPLETION: i32 = 0x0004_0680;

// ---- Property types (reference §2) -------------------------------------------------------
pub const PT_UNSPECIFIED: u32 = 0x0000;
pub const PT_NULL: u32 = 0x0001;
pub const PT_I2: u32 = 0x0002;
pub const PT_SHORT: u32 = 0x0002;
pub const PT_LONG: u32 = 0x0003;
pub const PT_I4: u32 = 0x0003;
pub const PT_R4: u32 = 0x0004;
pub const PT_FLOAT: u32 = 0x0004;
pub const PT_DOUBLE: u32 = 0x0005;
pub const PT_R8: u32 = 0x0005;
pub const PT_CURRENCY: u32 = 0x0006;
pub const PT_APPTIME: u32 = 0x0007;
pub const PT_ERROR: u32 = 0x000A;
pub const PT_BOOLEAN: u32 = 0x000B;
pub const PT_OBJECT: u32 = 0x000D;
pub const PT_I8: u32 = 0x0014;
pub const PT_LONGLONG: u32 = 0x0014;
pub const PT_STRING8: u32 = 0x001E;
pub const PT_UNICODE: u32 = 0x001F;
pub const PT_SYSTIME: u32 = 0x0040;
pub const PT_CLSID: u32 = 0x0048;
pub const PT_SVREID: u32 = 0x00FB;
pub const PT_SRESTRICT: u32 = 0x00FD;
pub const PT_ACTIONS: u32 = 0x00FE;
pub const PT_BINARY: u32 = 0x0102;
pub const PT_PTR: u32 = 0x0103;
pub const MV_FLAG: u32 = 0x1000;
pub const MV_INSTANCE: u32 = 0x2000;
pub const MVI_FLAG: u32 = 0x3000;
pub const PT_MV_I2: u32 = 0x1002;
pub const PT_MV_SHORT: u32 = 0x1002;
pub const PT_MV_LONG: u32 = 0x1003;
pub const PT_MV_I4: u32 = 0x1003;
pub const PT_MV_R4: u32 = 0x1004;
pub const PT_MV_FLOAT: u32 = 0x1004;
pub const PT_MV_DOUBLE: u32 = 0x1005;
pub const PT_MV_R8: u32 = 0x1005;
pub const PT_MV_CURRENCY: u32 = 0x1006;
pub const PT_MV_APPTIME: u32 = 0x1007;
pub const PT_MV_I8: u32 = 0x1014;
pub const PT_MV_LONGLONG: u32 = 0x1014;
pub const PT_MV_STRING8: u32 = 0x101E;
pub const PT_MV_UNICODE: u32 = 0x101F;
pub const PT_MV_SYSTIME: u32 = 0x1040;
pub const PT_MV_CLSID: u32 = 0x1048;
pub const PT_MV_BINARY: u32 = 0x1102;
/// `PT_TSTRING` as MAPI defines it without `UNICODE`.
pub const PT_TSTRING: u32 = 0x001E;
pub const PT_MV_TSTRING: u32 = 0x101E;

pub const PROP_ID_NULL: u32 = 0;
pub const PROP_ID_INVALID: u32 = 0xFFFF;
pub const PR_NULL: u32 = 0x0000_0001;

// ---- Property tags the product uses (reference §6; MAPITags.h) ----------------------------
pub const PR_ENTRYID: u32 = 0x0FFF_0102;
pub const PR_OBJECT_TYPE: u32 = 0x0FFE_0003;
pub const PR_STORE_ENTRYID: u32 = 0x0FFB_0102;
pub const PR_STORE_RECORD_KEY: u32 = 0x0FFA_0102;
pub const PR_RECORD_KEY: u32 = 0x0FF9_0102;
pub const PR_MAPPING_SIGNATURE: u32 = 0x0FF8_0102;
pub const PR_ACCESS_LEVEL: u32 = 0x0FF7_0003;
pub const PR_INSTANCE_KEY: u32 = 0x0FF6_0102;
pub const PR_DEPTH: u32 = 0x3005_0003;
pub const PR_ACCESS: u32 = 0x0FF4_0003;
pub const PR_PARENT_ENTRYID: u32 = 0x0E09_0102;
pub const PR_MESSAGE_FLAGS: u32 = 0x0E07_0003;
pub const PR_MESSAGE_SIZE: u32 = 0x0E08_0003;
pub const PR_MESSAGE_SIZE_EXTENDED: u32 = 0x0E08_0014;
pub const PR_MESSAGE_RECIPIENTS: u32 = 0x0E12_000D;
pub const PR_MESSAGE_ATTACHMENTS: u32 = 0x0E13_000D;
pub const PR_MSG_STATUS: u32 = 0x0E17_0003;
pub const PR_HASATTACH: u32 = 0x0E1B_000B;
pub const PR_CREATION_TIME: u32 = 0x3007_0040;
pub const PR_LAST_MODIFICATION_TIME: u32 = 0x3008_0040;
pub const PR_SEARCH_KEY: u32 = 0x300B_0102;
pub const PR_SUBJECT: u32 = 0x0037_001E;
pub const PR_SUBJECT_A: u32 = 0x0037_001E;
pub const PR_SUBJECT_W: u32 = 0x0037_001F;
pub const PR_MESSAGE_CLASS: u32 = 0x001A_001E;
pub const PR_MESSAGE_CLASS_A: u32 = 0x001A_001E;
pub const PR_MESSAGE_CLASS_W: u32 = 0x001A_001F;
pub const PR_DISPLAY_NAME: u32 = 0x3001_001E;
pub const PR_DISPLAY_NAME_A: u32 = 0x3001_001E;
pub const PR_DISPLAY_NAME_W: u32 = 0x3001_001F;
pub const PR_COMMENT: u32 = 0x3004_001E;
pub const PR_COMMENT_A: u32 = 0x3004_001E;
pub const PR_COMMENT_W: u32 = 0x3004_001F;
pub const PR_BODY: u32 = 0x1000_001E;
pub const PR_BODY_A: u32 = 0x1000_001E;
pub const PR_BODY_W: u32 = 0x1000_001F;
pub const PR_RTF_COMPRESSED: u32 = 0x1009_0102;
pub const PR_STORE_SUPPORT_MASK: u32 = 0x340D_0003;
pub const PR_MDB_PROVIDER: u32 = 0x3414_0102;
pub const PR_IPM_SUBTREE_ENTRYID: u32 = 0x35E0_0102;
pub const PR_VALID_FOLDER_MASK: u32 = 0x35DF_0003;
pub const PR_FOLDER_TYPE: u32 = 0x3601_0003;
pub const PR_CONTENT_COUNT: u32 = 0x3602_0003;
pub const PR_SUBFOLDERS: u32 = 0x360A_000B;
pub const PR_CONTAINER_CLASS: u32 = 0x3613_001E;
pub const PR_CONTAINER_CLASS_W: u32 = 0x3613_001F;
pub const PR_ASSOC_CONTENT_COUNT: u32 = 0x3617_0003;
pub const PR_ADDITIONAL_REN_ENTRYIDS: u32 = 0x36D8_1102;
pub const PR_SOURCE_KEY: u32 = 0x65E0_0102;
pub const PR_PARENT_SOURCE_KEY: u32 = 0x65E1_0102;
pub const PR_CHANGE_KEY: u32 = 0x65E2_0102;
pub const PR_PREDECESSOR_CHANGE_LIST: u32 = 0x65E3_0102;
pub const PR_LOCAL_COMMIT_TIME: u32 = 0x6709_0040;
pub const PR_CONFLICT_ENTRYID: u32 = 0x3FF0_0102;
pub const PR_CONFLICT_ITEMS: u32 = 0x1098_1102;
pub const PR_IN_CONFLICT: u32 = 0x666C_000B;
pub const PR_RESOLVE_METHOD: u32 = 0x3FE7_0003;

// ---- Object types, folder types, message flags ---------------------------------------------
pub const MAPI_STORE: u32 = 1;
pub const MAPI_ADDRBOOK: u32 = 2;
pub const MAPI_FOLDER: u32 = 3;
pub const MAPI_ABCONT: u32 = 4;
pub const MAPI_MESSAGE: u32 = 5;
pub const MAPI_MAILUSER: u32 = 6;
pub const MAPI_ATTACH: u32 = 7;
pub const MAPI_DISTLIST: u32 = 8;
pub const FOLDER_ROOT: u32 = 0;
pub const FOLDER_GENERIC: u32 = 1;
pub const FOLDER_SEARCH: u32 = 2;
pub const MSGFLAG_READ: u32 = 0x001;
pub const MSGFLAG_UNMODIFIED: u32 = 0x002;
pub const MSGFLAG_SUBMIT: u32 = 0x004;
pub const MSGFLAG_UNSENT: u32 = 0x008;
pub const MSGFLAG_HASATTACH: u32 = 0x010;
pub const MSGFLAG_FROMME: u32 = 0x020;
pub const MSGFLAG_ASSOCIATED: u32 = 0x040;
pub const MSGFLAG_RESEND: u32 = 0x080;
pub const MSGFLAG_RN_PENDING: u32 = 0x100;
pub const MSGFLAG_NRN_PENDING: u32 = 0x200;
pub const MSGSTATUS_IN_CONFLICT: u32 = 0x0800;

// ---- Flags (reference §5; DESIGN.md §2, §4) ---------------------------------------------------
pub const MAPI_UNICODE: u32 = 0x8000_0000;
pub const MAPI_MODIFY: u32 = 0x0000_0001;
pub const MAPI_CREATE: u32 = 0x0000_0002;
pub const MAPI_DEFERRED_ERRORS: u32 = 0x0000_0008;
pub const MAPI_BEST_ACCESS: u32 = 0x0000_0010;
pub const MAPI_ASSOCIATED: u32 = 0x0000_0040;
/// GetHierarchyTable: every level below the folder (reference §5, §10.7).
pub const CONVENIENT_DEPTH: u32 = 0x0000_0001;
/// GetContentsTable / GetHierarchyTable: soft-deleted items (H-EDK; this store has none).
pub const SHOW_SOFT_DELETES: u32 = 0x0000_0002;
pub const MAPI_NO_CACHE: u32 = 0x0000_0200;
pub const MAPI_CACHE_ONLY: u32 = 0x0000_4000;
pub const KEEP_OPEN_READONLY: u32 = 0x0000_0001;
pub const KEEP_OPEN_READWRITE: u32 = 0x0000_0002;
pub const FORCE_SAVE: u32 = 0x0000_0004;
pub const SPAMFILTER_ONSAVE: u32 = 0x0000_0080;
pub const NON_EMS_XP_SAVE: u32 = 0x0000_1000;
pub const STREAM_APPEND: u32 = 0x0000_0004;
pub const MAPI_MOVE: u32 = 0x0000_0001;
pub const MAPI_NOREPLACE: u32 = 0x0000_0002;
pub const MAPI_DECLINE_OK: u32 = 0x0000_0004;
pub const MAPI_DIALOG: u32 = 0x0000_0008;
pub const MAPI_NO_STRINGS: u32 = 0x0000_0001;
pub const MAPI_NO_IDS: u32 = 0x0000_0002;
pub const MNID_ID: u32 = 0;
pub const MNID_STRING: u32 = 1;
pub const MESSAGE_MOVE: u32 = 0x0000_0001;
pub const MESSAGE_DIALOG: u32 = 0x0000_0002;
pub const MDB_NO_DIALOG: u32 = 0x0000_0001;
pub const MDB_WRITE: u32 = 0x0000_0004;
pub const MDB_NO_MAIL: u32 = 0x0000_0080;
/// Ours: open the store with `synchronous=NORMAL`. A save then survives a crash of the process but
/// not of the machine; the default (`synchronous=FULL`) survives both.
pub const MSGSTORE_NO_SYNC: u32 = 0x0001_0000;
pub const OPEN_IF_EXISTS: u32 = 0x0000_0001;
pub const DEL_MESSAGES: u32 = 0x0000_0001;
pub const DEL_FOLDERS: u32 = 0x0000_0004;
pub const DEL_ASSOCIATED: u32 = 0x0000_0008;
/// CopyFolder (mapidefs.h; FOLDER_DIALOG is DeleteFolder's too).
pub const FOLDER_MOVE: u32 = 0x0000_0001;
pub const FOLDER_DIALOG: u32 = 0x0000_0002;
pub const COPY_SUBFOLDERS: u32 = 0x0000_0010;
pub const SUPPRESS_RECEIPT: u32 = 0x0000_0001;
pub const CLEAR_READ_FLAG: u32 = 0x0000_0004;
pub const GENERATE_RECEIPT_ONLY: u32 = 0x0000_0010;
pub const CLEAR_RN_PENDING: u32 = 0x0000_0020;
pub const CLEAR_NRN_PENDING: u32 = 0x0000_0040;
pub const LOGOFF_NO_WAIT: u32 = 0x0000_0001;
pub const LOGOFF_ORDERLY: u32 = 0x0000_0002;
pub const LOGOFF_PURGE: u32 = 0x0000_0004;
pub const LOGOFF_ABORT: u32 = 0x0000_0008;
pub const LOGOFF_QUIET: u32 = 0x0000_0010;
pub const LOGOFF_INBOUND: u32 = 0x0001_0000;
pub const LOGOFF_OUTBOUND: u32 = 0x0002_0000;
pub const MAPI_ERROR_VERSION: u32 = 0;

// PR_ACCESS bits and PR_ACCESS_LEVEL values.
pub const MAPI_ACCESS_MODIFY: u32 = 0x0000_0001;
pub const MAPI_ACCESS_READ: u32 = 0x0000_0002;
pub const MAPI_ACCESS_DELETE: u32 = 0x0000_0004;
pub const MAPI_ACCESS_CREATE_HIERARCHY: u32 = 0x0000_0008;
pub const MAPI_ACCESS_CREATE_CONTENTS: u32 = 0x0000_0010;
pub const MAPI_ACCESS_CREATE_ASSOCIATED: u32 = 0x0000_0020;

// PR_STORE_SUPPORT_MASK bits.
pub const STORE_ENTRYID_UNIQUE: u32 = 0x0000_0001;
pub const STORE_READONLY: u32 = 0x0000_0002;
pub const STORE_SEARCH_OK: u32 = 0x0000_0004;
pub const STORE_MODIFY_OK: u32 = 0x0000_0008;
pub const STORE_CREATE_OK: u32 = 0x0000_0010;
pub const STORE_ATTACH_OK: u32 = 0x0000_0020;
pub const STORE_OLE_OK: u32 = 0x0000_0040;
pub const STORE_SUBMIT_OK: u32 = 0x0000_0080;
pub const STORE_NOTIFY_OK: u32 = 0x0000_0100;
pub const STORE_MV_PROPS_OK: u32 = 0x0000_0200;
pub const STORE_RTF_OK: u32 = 0x0000_0800;
pub const STORE_UNICODE_OK: u32 = 0x0004_0000;

// Entry ID flag bytes.
pub const MAPI_SHORTTERM: u32 = 0x80;
pub const MAPI_NOTRECIP: u32 = 0x40;
pub const MAPI_THISSESSION: u32 = 0x20;
pub const MAPI_NOW: u32 = 0x10;
pub const MAPI_NOTRESERVED: u32 = 0x08;
pub const MAPI_COMPOUND: u32 = 0x80;

// IPropData access values.
pub const IPROP_READONLY: u32 = 0x0000_0001;
pub const IPROP_READWRITE: u32 = 0x0000_0002;
pub const IPROP_CLEAN: u32 = 0x0001_0000;
pub const IPROP_DIRTY: u32 = 0x0002_0000;

// Notification event bits (core/notify.rs).
pub const fnevCriticalError: u32 = 0x0000_0001;
pub const fnevNewMail: u32 = 0x0000_0002;
pub const fnevObjectCreated: u32 = 0x0000_0004;
pub const fnevObjectDeleted: u32 = 0x0000_0008;
pub const fnevObjectModified: u32 = 0x0000_0010;
pub const fnevObjectMoved: u32 = 0x0000_0020;
pub const fnevObjectCopied: u32 = 0x0000_0040;
pub const fnevSearchComplete: u32 = 0x0000_0080;
pub const fnevTableModified: u32 = 0x0000_0100;
pub const fnevStatusObjectModified: u32 = 0x0000_0200;
pub const fnevExtended: u32 = 0x8000_0000;
/// TABLE_NOTIFICATION's ulTableEvent values this store sends (reference §10.5).
pub const TABLE_CHANGED: u32 = 1;
pub const TABLE_RELOAD: u32 = 9;

// ---- The conflict resolver (DESIGN.md §5) ------------------------------------------------------
/// `MSGCONFLICT::ulFlags`: the stored message was deleted since this client opened it.
pub const MSGCONFLICT_DELETED: u32 = 0x0000_0001;
/// Keep the stored message; SaveChanges returns MAPI_E_OBJECT_CHANGED, the object keeps its changes.
pub const MSGSTORE_RESOLVE_KEEP_ORIGINAL: u32 = 1;
/// Replace the stored message with this client's view, as FORCE_SAVE.
pub const MSGSTORE_RESOLVE_OVERWRITE: u32 = 2;
/// Save this client's view as a new message in the folder the resolver names (NULL: "Conflicts").
pub const MSGSTORE_RESOLVE_SAVE_ELSEWHERE: u32 = 3;
/// The stored version plus this client's own changes (its value wins where both changed).
pub const MSGSTORE_RESOLVE_MERGE: u32 = 4;

// ---- mapiutil.h / mapival.h (reference §10.6, §12) ----------------------------------------
/// Fuzzy levels of FPropContainsProp and content restrictions: the low 16 bits hold exactly one
/// of FULLSTRING / SUBSTRING / PREFIX; the high bits combine freely.
pub const FL_FULLSTRING: u32 = 0x0000_0000;
pub const FL_SUBSTRING: u32 = 0x0000_0001;
pub const FL_PREFIX: u32 = 0x0000_0002;
pub const FL_IGNORECASE: u32 = 0x0001_0000;
pub const FL_IGNORENONSPACE: u32 = 0x0002_0000;
pub const FL_LOOSE: u32 = 0x0004_0000;
/// Relational operators of FPropCompareProp and property restrictions.
pub const RELOP_LT: u32 = 0;
pub const RELOP_LE: u32 = 1;
pub const RELOP_GT: u32 = 2;
pub const RELOP_GE: u32 = 3;
pub const RELOP_EQ: u32 = 4;
pub const RELOP_NE: u32 = 5;
pub const RELOP_RE: u32 = 6;
/// MAPIINIT_0 (MAPIInitialize).
pub const MAPI_INIT_VERSION: u32 = 0;
pub const MAPI_MULTITHREAD_NOTIFICATIONS: u32 = 0x0000_0001;
pub const MAPI_NT_SERVICE: u32 = 0x0001_0000;

// ---- Tables and restrictions (reference §10.2, §10.4, §10.6) ------------------------------
pub const MAPI_E_INVALID_BOOKMARK: i32 = 0x8004_0405_u32 as i32;
pub const MAPI_W_POSITION_CHANGED: i32 = 0x0004_0481;
pub const MAPI_W_APPROX_COUNT: i32 = 0x0004_0482;
pub const MAPI_E_UNABLE_TO_ABORT: i32 = 0x8004_0114_u32 as i32;
pub const MAPI_E_TABLE_TOO_BIG: i32 = 0x8004_0403_u32 as i32;
pub const MAPI_E_TABLE_EMPTY: i32 = 0x8004_0402_u32 as i32;
pub const TBL_ASYNC: u32 = 0x1;
pub const TBL_NOWAIT: u32 = 0x1;
pub const TBL_BATCH: u32 = 0x2;
pub const TBL_ALL_COLUMNS: u32 = 0x1;
pub const TBL_NOADVANCE: u32 = 0x1;
pub const DIR_BACKWARD: u32 = 0x1;
pub const BOOKMARK_BEGINNING: usize = 0;
pub const BOOKMARK_CURRENT: usize = 1;
pub const BOOKMARK_END: usize = 2;
pub const TBLSTAT_COMPLETE: u32 = 0;
pub const TBLTYPE_SNAPSHOT: u32 = 0;
pub const TBLTYPE_KEYSET: u32 = 1;
pub const TBLTYPE_DYNAMIC: u32 = 2;
pub const TABLE_SORT_ASCEND: u32 = 0;
pub const TABLE_SORT_DESCEND: u32 = 1;
pub const TABLE_SORT_COMBINE: u32 = 2;
pub const RES_AND: u32 = 0;
pub const RES_OR: u32 = 1;
pub const RES_NOT: u32 = 2;
pub const RES_CONTENT: u32 = 3;
pub const RES_PROPERTY: u32 = 4;
pub const RES_COMPAREPROPS: u32 = 5;
pub const RES_BITMASK: u32 = 6;
pub const RES_SIZE: u32 = 7;
pub const RES_EXIST: u32 = 8;
pub const RES_SUBRESTRICTION: u32 = 9;
pub const RES_COMMENT: u32 = 10;
pub const RES_COUNT: u32 = 11;
pub const RES_ANNOTATION: u32 = 12;
pub const BMR_EQZ: u32 = 0;
pub const BMR_NEZ: u32 = 1;

// ---- attachments and recipients (reference §11.4) ------------------------------------------
pub const PR_ATTACH_NUM: u32 = 0x0E21_0003;
pub const PR_ATTACH_SIZE: u32 = 0x0E20_0003;
pub const PR_ATTACH_METHOD: u32 = 0x3705_0003;
pub const PR_ATTACH_DATA_BIN: u32 = 0x3701_0102;
/// The same property as PR_ATTACH_DATA_BIN, opened as an object (an embedded message).
pub const PR_ATTACH_DATA_OBJ: u32 = 0x3701_000D;
pub const PR_ATTACH_LONG_FILENAME_W: u32 = 0x3707_001F;
pub const PR_RENDERING_POSITION: u32 = 0x370B_0003;
pub const PR_ROWID: u32 = 0x3000_0003;
pub const PR_RECIPIENT_TYPE: u32 = 0x0C15_0003;
pub const PR_ADDRTYPE_W: u32 = 0x3002_001F;
pub const PR_EMAIL_ADDRESS_W: u32 = 0x3003_001F;
/// PR_ATTACH_METHOD values.
pub const NO_ATTACHMENT: u32 = 0;
pub const ATTACH_BY_VALUE: u32 = 1;
pub const ATTACH_EMBEDDED_MSG: u32 = 5;
/// Recipient types.
pub const MAPI_ORIG: u32 = 0;
pub const MAPI_TO: u32 = 1;
pub const MAPI_CC: u32 = 2;
pub const MAPI_BCC: u32 = 3;
/// ORed with MAPI_TO / MAPI_CC / MAPI_BCC once the message is submitted.
pub const MAPI_SUBMITTED: u32 = 0x8000_0000;
/// ModifyRecipients flags (0 replaces the whole list).
pub const MODRECIP_ADD: u32 = 0x0000_0002;
pub const MODRECIP_MODIFY: u32 = 0x0000_0004;
pub const MODRECIP_REMOVE: u32 = 0x0000_0008;
/// DeleteAttach: show progress (ulUIParam and lpProgress are ignored without it).
pub const ATTACH_DIALOG: u32 = 0x0000_0001;
/// The recipients' display names by type, joined by "; ", computed from the recipient list.
pub const PR_DISPLAY_BCC_W: u32 = 0x0E02_001F;
pub const PR_DISPLAY_CC_W: u32 = 0x0E03_001F;
pub const PR_DISPLAY_TO_W: u32 = 0x0E04_001F;

// IStream (reference §1.5; OLE's objidl/objbase values: winerror.h for STG_E_*, W-OBJBASE for
// STGM_*). OpenProperty takes STGM_* in ulInterfaceOptions; OpenStreamOnFile in ulFlags.
/// STGM_* access modes (the low two bits) and the other bits OpenProperty accepts.
pub const STGM_READ: u32 = 0x0000_0000;
pub const STGM_WRITE: u32 = 0x0000_0001;
pub const STGM_READWRITE: u32 = 0x0000_0002;
pub const STGM_SHARE_EXCLUSIVE: u32 = 0x0000_0010;
pub const STGM_SHARE_DENY_WRITE: u32 = 0x0000_0020;
pub const STGM_SHARE_DENY_READ: u32 = 0x0000_0030;
pub const STGM_SHARE_DENY_NONE: u32 = 0x0000_0040;
pub const STGM_CREATE: u32 = 0x0000_1000;
pub const STGM_TRANSACTED: u32 = 0x0001_0000;
pub const STGM_DELETEONRELEASE: u32 = 0x0400_0000;
/// IStream::Seek origins.
pub const STREAM_SEEK_SET: u32 = 0;
pub const STREAM_SEEK_CUR: u32 = 1;
pub const STREAM_SEEK_END: u32 = 2;
/// IStream::Stat flags and the STATSTG type of a stream.
pub const STATFLAG_DEFAULT: u32 = 0;
pub const STATFLAG_NONAME: u32 = 1;
pub const STATFLAG_NOOPEN: u32 = 2;
pub const STGTY_STREAM: u32 = 2;
/// IStream::Commit flags (STGC_*): every one is accepted, none changes what Commit does.
pub const STGC_DEFAULT: u32 = 0;
pub const STGC_OVERWRITE: u32 = 1;
pub const STGC_ONLYIFCURRENT: u32 = 2;
pub const STGC_DANGEROUSLYCOMMITMERELYTODISKCACHE: u32 = 4;
pub const STGC_CONSOLIDATE: u32 = 8;
/// OpenStreamOnFile: make a unique temporary file name in the directory given.
pub const SOF_UNIQUEFILENAME: u32 = 0x8000_0000;
/// Structured-storage errors an IStream returns (winerror.h).
pub const STG_E_INVALIDFUNCTION: i32 = 0x8003_0001_u32 as i32;
pub const STG_E_FILENOTFOUND: i32 = 0x8003_0002_u32 as i32;
pub const STG_E_ACCESSDENIED: i32 = 0x8003_0005_u32 as i32;
pub const STG_E_INSUFFICIENTMEMORY: i32 = 0x8003_0008_u32 as i32;
pub const STG_E_INVALIDPOINTER: i32 = 0x8003_0009_u32 as i32;
pub const STG_E_MEDIUMFULL: i32 = 0x8003_0070_u32 as i32;
pub const STG_E_INVALIDFLAG: i32 = 0x8003_00FF_u32 as i32;
pub const STG_E_INVALIDPARAMETER: i32 = 0x8003_0057_u32 as i32;
pub const STG_E_REVERTED: i32 = 0x8003_0102_u32 as i32;
