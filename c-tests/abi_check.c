/* Every layout and key constant a C client relies on, asserted against the MAPI reference
 * (spec/mapi-reference.md §1–§5, DESIGN.md §2) at compile time; the IID values at run time.
 * The Rust side pins the same layouts with `const` asserts in src/abi/types.rs. This file
 * catches cbindgen silently dropping, reordering or rewriting something. x86_64 (LP64) only:
 * MAPI's 64-bit layouts are what is asserted. */
#include <stddef.h>

#include "msgstore.h"
#include "test_util.h"

/* Internal limits stay out of the header: a client may well define MAX_COUNT itself. */
#ifdef MAX_COUNT
#error "msgstore.h leaks the library's internal MAX_COUNT"
#endif

#define PTR 8
_Static_assert(sizeof(void *) == PTR, "64-bit target: the layouts below are MAPI's x64 ones");

/* ---- Scalar types ---------------------------------------------------------------------- */
_Static_assert(sizeof(ULONG) == 4, "ULONG is 32-bit (never C long)");
_Static_assert(sizeof(LONG) == 4, "LONG is 32-bit");
_Static_assert(sizeof(DWORD) == 4, "DWORD");
_Static_assert(sizeof(HRESULT) == 4, "HRESULT");
_Static_assert(sizeof(SCODE) == 4, "SCODE");
_Static_assert(sizeof(BOOL) == 4, "BOOL is int-sized");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR is UTF-16");
_Static_assert(sizeof(BYTE) == 1, "BYTE");
_Static_assert(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR is pointer-sized");
_Static_assert((ULONG)-1 > 0, "ULONG is unsigned");
_Static_assert((LONG)-1 < 0, "LONG is signed");
_Static_assert((HRESULT)-1 < 0, "HRESULT is signed (FAILED is < 0)");
_Static_assert((WCHAR)-1 > 0, "WCHAR is unsigned");

/* ---- Structures (reference §2) ---------------------------------------------------------- */
_Static_assert(sizeof(GUID) == 16, "GUID");
_Static_assert(offsetof(GUID, Data2) == 4 && offsetof(GUID, Data3) == 6, "GUID fields");
_Static_assert(offsetof(GUID, Data4) == 8, "GUID Data4");
_Static_assert(sizeof(FILETIME) == 8, "FILETIME");
_Static_assert(offsetof(FILETIME, dwHighDateTime) == 4, "FILETIME: low then high");
_Static_assert(sizeof(CURRENCY) == 8, "CY");
_Static_assert(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER");
_Static_assert(sizeof(SBinary) == 16, "SBinary");
_Static_assert(offsetof(SBinary, lpb) == 8, "SBinary.lpb");

_Static_assert(sizeof(PV) == 16, "union _PV is 16 bytes");
_Static_assert(sizeof(union PV) == 16, "union _PV is 16 bytes");
_Static_assert(_Alignof(PV) == 8, "union _PV is 8-byte aligned");
_Static_assert(sizeof(SPropValue) == 24, "SPropValue is 24 bytes on x64");
_Static_assert(offsetof(SPropValue, ulPropTag) == 0, "SPropValue.ulPropTag");
_Static_assert(offsetof(SPropValue, dwAlignPad) == 4, "SPropValue.dwAlignPad kept");
_Static_assert(offsetof(SPropValue, Value) == 8, "SPropValue.Value at 8");

/* Every multi-valued array is { ULONG cValues; T *lp; }: 16 bytes, pointer at 8. */
#define MV_LAYOUT(T, member)                                                  \
  _Static_assert(sizeof(T) == 16 && offsetof(T, cValues) == 0, #T " size");   \
  _Static_assert(offsetof(T, member) == 8, #T "." #member " at 8")
MV_LAYOUT(SShortArray, lpi);
MV_LAYOUT(SLongArray, lpl);
MV_LAYOUT(SRealArray, lpflt);
MV_LAYOUT(SDoubleArray, lpdbl);
MV_LAYOUT(SCurrencyArray, lpcur);
MV_LAYOUT(SAppTimeArray, lpat);
MV_LAYOUT(SDateTimeArray, lpft);
MV_LAYOUT(SBinaryArray, lpbin);
MV_LAYOUT(SLPSTRArray, lppszA);
MV_LAYOUT(SWStringArray, lppszW);
MV_LAYOUT(SGuidArray, lpguid);
MV_LAYOUT(SLargeIntegerArray, lpli);

_Static_assert(sizeof(SPropProblem) == 12, "SPropProblem");
_Static_assert(offsetof(SPropProblem, ulPropTag) == 4 && offsetof(SPropProblem, scode) == 8,
               "SPropProblem fields");
_Static_assert(offsetof(SPropProblemArray, aProblem) == 4, "SPropProblemArray.aProblem");
_Static_assert(offsetof(SPropTagArray, aulPropTag) == 4, "SPropTagArray.aulPropTag");
_Static_assert(sizeof(MAPIERROR) == 32, "MAPIERROR is 32 bytes on x64");
_Static_assert(offsetof(MAPIERROR, lpszError) == 8, "MAPIERROR.lpszError");
_Static_assert(offsetof(MAPIERROR, lpszComponent) == 16, "MAPIERROR.lpszComponent");
_Static_assert(offsetof(MAPIERROR, ulLowLevelError) == 24, "MAPIERROR.ulLowLevelError");
_Static_assert(offsetof(MAPIERROR, ulContext) == 28, "MAPIERROR.ulContext");
_Static_assert(sizeof(MAPINAMEID) == 24, "MAPINAMEID is 24 bytes on x64");
_Static_assert(offsetof(MAPINAMEID, ulKind) == 8, "MAPINAMEID.ulKind");
_Static_assert(offsetof(MAPINAMEID, Kind) == 16, "MAPINAMEID.Kind");
_Static_assert(offsetof(ENTRYID, abFlags) == 0, "ENTRYID.abFlags");
_Static_assert(offsetof(ENTRYID, ab) == 4, "ENTRYID.ab after 4 flag bytes");
_Static_assert(sizeof(ENTRYLIST) == 16, "ENTRYLIST is an SBinaryArray");
_Static_assert(sizeof(MSGCONFLICT) == 40, "MSGCONFLICT");
_Static_assert(offsetof(MSGCONFLICT, lpEntryID) == 8, "MSGCONFLICT.lpEntryID");
_Static_assert(offsetof(MSGCONFLICT, lpTheirChanges) == 16, "MSGCONFLICT.lpTheirChanges");
_Static_assert(offsetof(MSGCONFLICT, lpMyChanges) == 24, "MSGCONFLICT.lpMyChanges");
_Static_assert(offsetof(MSGCONFLICT, lpStored) == 32, "MSGCONFLICT.lpStored");
_Static_assert(sizeof(STATSTG) == 80, "STATSTG (objidl layout)");
_Static_assert(offsetof(STATSTG, cbSize) == 16 && offsetof(STATSTG, clsid) == 56, "STATSTG");

/* The size macros (reference §2). */
_Static_assert(CbNewSPropTagArray(0) == 4 && CbNewSPropTagArray(3) == 16, "CbNewSPropTagArray");
_Static_assert(CbNewSPropProblemArray(2) == 4 + 2 * 12, "CbNewSPropProblemArray");
_Static_assert(CbNewENTRYID(16) == 20, "CbNewENTRYID");

/* Objects: one pointer to the vtable. */
_Static_assert(sizeof(IUnknown) == PTR && offsetof(IUnknown, lpVtbl) == 0, "IUnknown");
_Static_assert(sizeof(IMAPIProp) == PTR && sizeof(IPropData) == PTR, "object = vtable pointer");
_Static_assert(sizeof(IMessage) == PTR && sizeof(IMAPIFolder) == PTR, "object = vtable pointer");
_Static_assert(sizeof(IMsgStore) == PTR && sizeof(IStream) == PTR, "object = vtable pointer");

/* ---- Vtables (reference §1): flattened, exact slot order ------------------------------- */
#define VTBL_SLOTS(V, n) _Static_assert(sizeof(V) == (n) * PTR, #V " has " #n " slots")
#define SLOT(V, m, n) _Static_assert(offsetof(V, m) == (n) * PTR, #V "::" #m " is slot " #n)

#define IUNKNOWN_SLOTS(V)   \
  SLOT(V, QueryInterface, 0); \
  SLOT(V, AddRef, 1);         \
  SLOT(V, Release, 2)

#define IMAPIPROP_SLOTS(V)    \
  IUNKNOWN_SLOTS(V);          \
  SLOT(V, GetLastError, 3);   \
  SLOT(V, SaveChanges, 4);    \
  SLOT(V, GetProps, 5);       \
  SLOT(V, GetPropList, 6);    \
  SLOT(V, OpenProperty, 7);   \
  SLOT(V, SetProps, 8);       \
  SLOT(V, DeleteProps, 9);    \
  SLOT(V, CopyTo, 10);        \
  SLOT(V, CopyProps, 11);     \
  SLOT(V, GetNamesFromIDs, 12); \
  SLOT(V, GetIDsFromNames, 13)

#define IMAPICONTAINER_SLOTS(V)   \
  IMAPIPROP_SLOTS(V);             \
  SLOT(V, GetContentsTable, 14);  \
  SLOT(V, GetHierarchyTable, 15); \
  SLOT(V, OpenEntry, 16);         \
  SLOT(V, SetSearchCriteria, 17); \
  SLOT(V, GetSearchCriteria, 18)

VTBL_SLOTS(IUnknownVtbl, 3);
IUNKNOWN_SLOTS(IUnknownVtbl);

VTBL_SLOTS(IMAPIPropVtbl, 14);
IMAPIPROP_SLOTS(IMAPIPropVtbl);

/* IAttach adds no methods to IMAPIProp (reference §11.1). */
VTBL_SLOTS(IAttachVtbl, 14);
IMAPIPROP_SLOTS(IAttachVtbl);
_Static_assert(offsetof(IMAPIPropVtbl, GetProps) == 5 * 8, "GetProps is slot 5");

VTBL_SLOTS(IPropDataVtbl, 18);
IMAPIPROP_SLOTS(IPropDataVtbl);
SLOT(IPropDataVtbl, HrSetObjAccess, 14);
SLOT(IPropDataVtbl, HrSetPropAccess, 15);
SLOT(IPropDataVtbl, HrGetPropAccess, 16);
SLOT(IPropDataVtbl, HrAddObjProps, 17);
_Static_assert(offsetof(IPropDataVtbl, HrAddObjProps) == 17 * 8, "HrAddObjProps is slot 17");

VTBL_SLOTS(IMAPIContainerVtbl, 19);
IMAPICONTAINER_SLOTS(IMAPIContainerVtbl);

VTBL_SLOTS(IMAPIFolderVtbl, 30);
IMAPICONTAINER_SLOTS(IMAPIFolderVtbl);
SLOT(IMAPIFolderVtbl, CreateMessage, 19);
SLOT(IMAPIFolderVtbl, CopyMessages, 20);
SLOT(IMAPIFolderVtbl, DeleteMessages, 21);
SLOT(IMAPIFolderVtbl, CreateFolder, 22);
SLOT(IMAPIFolderVtbl, CopyFolder, 23);
SLOT(IMAPIFolderVtbl, DeleteFolder, 24);
SLOT(IMAPIFolderVtbl, SetReadFlags, 25);
SLOT(IMAPIFolderVtbl, GetMessageStatus, 26);
SLOT(IMAPIFolderVtbl, SetMessageStatus, 27);
SLOT(IMAPIFolderVtbl, SaveContentsSort, 28);
SLOT(IMAPIFolderVtbl, EmptyFolder, 29);
_Static_assert(offsetof(IMAPIFolderVtbl, CreateMessage) == 19 * 8, "CreateMessage is slot 19");

VTBL_SLOTS(IMessageVtbl, 22);
IMAPIPROP_SLOTS(IMessageVtbl);
SLOT(IMessageVtbl, GetAttachmentTable, 14);
SLOT(IMessageVtbl, OpenAttach, 15);
SLOT(IMessageVtbl, CreateAttach, 16);
SLOT(IMessageVtbl, DeleteAttach, 17);
SLOT(IMessageVtbl, GetRecipientTable, 18);
SLOT(IMessageVtbl, ModifyRecipients, 19);
SLOT(IMessageVtbl, SubmitMessage, 20);
SLOT(IMessageVtbl, SetReadFlag, 21);
_Static_assert(offsetof(IMessageVtbl, SetReadFlag) == 21 * 8, "SetReadFlag is slot 21");

VTBL_SLOTS(IMsgStoreVtbl, 27);
IMAPIPROP_SLOTS(IMsgStoreVtbl);
SLOT(IMsgStoreVtbl, Advise, 14);
SLOT(IMsgStoreVtbl, Unadvise, 15);
SLOT(IMsgStoreVtbl, CompareEntryIDs, 16);
SLOT(IMsgStoreVtbl, OpenEntry, 17);
SLOT(IMsgStoreVtbl, SetReceiveFolder, 18);
SLOT(IMsgStoreVtbl, GetReceiveFolder, 19);
SLOT(IMsgStoreVtbl, GetReceiveFolderTable, 20);
SLOT(IMsgStoreVtbl, StoreLogoff, 21);
SLOT(IMsgStoreVtbl, AbortSubmit, 22);
SLOT(IMsgStoreVtbl, GetOutgoingQueue, 23);
SLOT(IMsgStoreVtbl, SetLockState, 24);
SLOT(IMsgStoreVtbl, FinishedMsg, 25);
SLOT(IMsgStoreVtbl, NotifyNewMail, 26);
_Static_assert(offsetof(IMsgStoreVtbl, OpenEntry) == 17 * 8, "OpenEntry is slot 17");

VTBL_SLOTS(IStreamVtbl, 14);
IUNKNOWN_SLOTS(IStreamVtbl);
SLOT(IStreamVtbl, Read, 3);
SLOT(IStreamVtbl, Write, 4);
SLOT(IStreamVtbl, Seek, 5);
SLOT(IStreamVtbl, SetSize, 6);
SLOT(IStreamVtbl, CopyTo, 7);
SLOT(IStreamVtbl, Commit, 8);
SLOT(IStreamVtbl, Revert, 9);
SLOT(IStreamVtbl, LockRegion, 10);
SLOT(IStreamVtbl, UnlockRegion, 11);
SLOT(IStreamVtbl, Stat, 12);
SLOT(IStreamVtbl, Clone, 13);

VTBL_SLOTS(IMAPIAdviseSinkVtbl, 4);
IUNKNOWN_SLOTS(IMAPIAdviseSinkVtbl);
SLOT(IMAPIAdviseSinkVtbl, OnNotify, 3);

VTBL_SLOTS(IMsgStoreConflictResolverVtbl, 4);
IUNKNOWN_SLOTS(IMsgStoreConflictResolverVtbl);
SLOT(IMsgStoreConflictResolverVtbl, ResolveConflict, 3);

/* Tables (reference §10.1, §12.1; §10.5 layouts). */
VTBL_SLOTS(IMAPITableVtbl, 26);
IUNKNOWN_SLOTS(IMAPITableVtbl);
SLOT(IMAPITableVtbl, GetLastError, 3);
SLOT(IMAPITableVtbl, Advise, 4);
SLOT(IMAPITableVtbl, GetStatus, 6);
SLOT(IMAPITableVtbl, SetColumns, 7);
SLOT(IMAPITableVtbl, SeekRow, 10);
SLOT(IMAPITableVtbl, FindRow, 13);
SLOT(IMAPITableVtbl, Restrict, 14);
SLOT(IMAPITableVtbl, SortTable, 17);
SLOT(IMAPITableVtbl, QueryRows, 19);
SLOT(IMAPITableVtbl, Abort, 20);
SLOT(IMAPITableVtbl, WaitForCompletion, 23);
SLOT(IMAPITableVtbl, SetCollapseState, 25);
VTBL_SLOTS(ITableDataVtbl, 12);
IUNKNOWN_SLOTS(ITableDataVtbl);
SLOT(ITableDataVtbl, HrGetView, 3);
SLOT(ITableDataVtbl, HrModifyRow, 4);
SLOT(ITableDataVtbl, HrDeleteRow, 5);
SLOT(ITableDataVtbl, HrQueryRow, 6);
SLOT(ITableDataVtbl, HrEnumRow, 7);
SLOT(ITableDataVtbl, HrNotify, 8);
SLOT(ITableDataVtbl, HrInsertRow, 9);
SLOT(ITableDataVtbl, HrModifyRows, 10);
SLOT(ITableDataVtbl, HrDeleteRows, 11);
_Static_assert(sizeof(IMAPITable) == PTR && sizeof(ITableData) == PTR, "object = vtable pointer");
_Static_assert(sizeof(BOOKMARK) == PTR, "BOOKMARK is ULONG_PTR (H-DEFS, not Wine's ULONG)");
_Static_assert(sizeof(SRestriction) == 32 && offsetof(SRestriction, res) == 8, "SRestriction");
_Static_assert(sizeof(SAndRestriction) == 16 && offsetof(SAndRestriction, lpRes) == 8, "SAnd");
_Static_assert(sizeof(SNotRestriction) == 16 && offsetof(SNotRestriction, lpRes) == 8, "SNot");
_Static_assert(sizeof(SContentRestriction) == 16 && offsetof(SContentRestriction, lpProp) == 8,
               "SContentRestriction");
_Static_assert(sizeof(SPropertyRestriction) == 16 && offsetof(SPropertyRestriction, lpProp) == 8,
               "SPropertyRestriction");
_Static_assert(sizeof(SComparePropsRestriction) == 12, "SComparePropsRestriction");
_Static_assert(sizeof(SBitMaskRestriction) == 12 && sizeof(SSizeRestriction) == 12, "3 ULONGs");
_Static_assert(sizeof(SExistRestriction) == 12, "SExistRestriction");
_Static_assert(sizeof(SSubRestriction) == 16 && offsetof(SSubRestriction, lpRes) == 8, "SSub");
_Static_assert(sizeof(SCommentRestriction) == 24 && offsetof(SCommentRestriction, lpProp) == 16,
               "SCommentRestriction");
_Static_assert(sizeof(SSortOrder) == 8, "SSortOrder");
_Static_assert(sizeof(SSortOrderSet) == 20 && offsetof(SSortOrderSet, aSort) == 12,
               "SSortOrderSet: CbNewSSortOrderSet(n) = 12 + 8n");

/* ---- HRESULTs (reference §4): emitted as (int32_t)…u casts, compared as HRESULT ---------- */
#define HR(name, value) _Static_assert((name) == (HRESULT)(value), #name " == " #value)
HR(S_OK, 0x00000000u);
HR(hrSuccess, 0x00000000u);
HR(MAPI_E_CALL_FAILED, 0x80004005u);
HR(E_FAIL, 0x80004005u);
HR(MAPI_E_NOT_ENOUGH_MEMORY, 0x8007000Eu);
HR(E_OUTOFMEMORY, 0x8007000Eu);
HR(MAPI_E_INVALID_PARAMETER, 0x80070057u);
HR(E_INVALIDARG, 0x80070057u);
HR(MAPI_E_INTERFACE_NOT_SUPPORTED, 0x80004002u);
HR(E_NOINTERFACE, 0x80004002u);
HR(MAPI_E_NO_ACCESS, 0x80070005u);
HR(E_ACCESSDENIED, 0x80070005u);
HR(MAPI_E_NO_SUPPORT, 0x80040102u);
HR(MAPI_E_BAD_CHARWIDTH, 0x80040103u);
HR(MAPI_E_STRING_TOO_LONG, 0x80040105u);
HR(MAPI_E_UNKNOWN_FLAGS, 0x80040106u);
HR(MAPI_E_INVALID_ENTRYID, 0x80040107u);
HR(MAPI_E_INVALID_OBJECT, 0x80040108u);
HR(MAPI_E_OBJECT_CHANGED, 0x80040109u);
HR(MAPI_E_OBJECT_DELETED, 0x8004010Au);
HR(MAPI_E_BUSY, 0x8004010Bu);
HR(MAPI_E_NOT_ENOUGH_DISK, 0x8004010Du);
HR(MAPI_E_NOT_ENOUGH_RESOURCES, 0x8004010Eu);
HR(MAPI_E_NOT_FOUND, 0x8004010Fu);
HR(MAPI_E_VERSION, 0x80040110u);
HR(MAPI_E_USER_CANCEL, 0x80040113u);
HR(MAPI_E_NETWORK_ERROR, 0x80040115u);
HR(MAPI_E_DISK_ERROR, 0x80040116u);
HR(MAPI_E_TOO_COMPLEX, 0x80040117u);
HR(MAPI_E_EXTENDED_ERROR, 0x80040119u);
HR(MAPI_E_COMPUTED, 0x8004011Au);
HR(MAPI_E_CORRUPT_DATA, 0x8004011Bu);
HR(MAPI_E_UNKNOWN_ENTRYID, 0x80040201u);
HR(MAPI_E_BAD_VALUE, 0x80040301u);
HR(MAPI_E_INVALID_TYPE, 0x80040302u);
HR(MAPI_E_TYPE_NO_SUPPORT, 0x80040303u);
HR(MAPI_E_UNEXPECTED_TYPE, 0x80040304u);
HR(MAPI_E_TOO_BIG, 0x80040305u);
HR(MAPI_E_DECLINE_COPY, 0x80040306u);
HR(MAPI_E_UNEXPECTED_ID, 0x80040307u);
HR(MAPI_W_ERRORS_RETURNED, 0x00040380u);
HR(MAPI_E_UNABLE_TO_COMPLETE, 0x80040400u);
HR(MAPI_E_TIMEOUT, 0x80040401u);
HR(MAPI_E_CORRUPT_STORE, 0x80040600u);
HR(MAPI_E_NOT_IN_QUEUE, 0x80040601u);
HR(MAPI_E_COLLISION, 0x80040604u);
HR(MAPI_E_NOT_INITIALIZED, 0x80040605u);
HR(MAPI_E_SUBMITTED, 0x80040608u);
HR(MAPI_E_FOLDER_CYCLE, 0x8004060Bu);
HR(MAPI_W_PARTIAL_COMPLETION, 0x00040680u);
_Static_assert(FAILED(MAPI_E_NOT_FOUND) && !SUCCEEDED(MAPI_E_OBJECT_CHANGED), "FAILED");
_Static_assert(SUCCEEDED(MAPI_W_ERRORS_RETURNED) && HR_SUCCEEDED(S_OK), "warnings succeed");

/* ---- Property types (reference §2) ----------------------------------------------------- */
#define EQ(name, value) _Static_assert((name) == (value), #name " == " #value)
EQ(PT_UNSPECIFIED, 0x0000);
EQ(PT_NULL, 0x0001);
EQ(PT_I2, 0x0002);
EQ(PT_SHORT, 0x0002);
EQ(PT_LONG, 0x0003);
EQ(PT_I4, 0x0003);
EQ(PT_R4, 0x0004);
EQ(PT_DOUBLE, 0x0005);
EQ(PT_CURRENCY, 0x0006);
EQ(PT_APPTIME, 0x0007);
EQ(PT_ERROR, 0x000A);
EQ(PT_BOOLEAN, 0x000B);
EQ(PT_OBJECT, 0x000D);
EQ(PT_I8, 0x0014);
EQ(PT_STRING8, 0x001E);
EQ(PT_UNICODE, 0x001F);
EQ(PT_SYSTIME, 0x0040);
EQ(PT_CLSID, 0x0048);
EQ(PT_SVREID, 0x00FB);
EQ(PT_SRESTRICT, 0x00FD);
EQ(PT_ACTIONS, 0x00FE);
EQ(PT_BINARY, 0x0102);
EQ(PT_PTR, 0x0103);
EQ(MV_FLAG, 0x1000);
EQ(MV_INSTANCE, 0x2000);
EQ(MVI_FLAG, 0x3000);
EQ(PT_MV_I2, 0x1002);
EQ(PT_MV_LONG, 0x1003);
EQ(PT_MV_R4, 0x1004);
EQ(PT_MV_DOUBLE, 0x1005);
EQ(PT_MV_CURRENCY, 0x1006);
EQ(PT_MV_APPTIME, 0x1007);
EQ(PT_MV_I8, 0x1014);
EQ(PT_MV_STRING8, 0x101E);
EQ(PT_MV_UNICODE, 0x101F);
EQ(PT_MV_SYSTIME, 0x1040);
EQ(PT_MV_CLSID, 0x1048);
EQ(PT_MV_BINARY, 0x1102);

/* Tag macros. */
_Static_assert(PROP_TYPE(0x0037001Fu) == PT_UNICODE && PROP_ID(0x0037001Fu) == 0x0037, "tags");
_Static_assert(PROP_TAG(PT_BINARY, 0x65E2) == 0x65E20102u, "PROP_TAG");
_Static_assert(CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_ERROR) == 0x0037000Au, "CHANGE_PROP_TYPE");
EQ(PROP_ID_NULL, 0);
EQ(PROP_ID_INVALID, 0xFFFF);

/* ---- Property tags (reference §6) ------------------------------------------------------ */
EQ(PR_NULL, 0x00000001u);
EQ(PR_ENTRYID, 0x0FFF0102u);
EQ(PR_OBJECT_TYPE, 0x0FFE0003u);
EQ(PR_STORE_ENTRYID, 0x0FFB0102u);
EQ(PR_STORE_RECORD_KEY, 0x0FFA0102u);
EQ(PR_RECORD_KEY, 0x0FF90102u);
EQ(PR_MAPPING_SIGNATURE, 0x0FF80102u);
EQ(PR_ACCESS_LEVEL, 0x0FF70003u);
EQ(PR_INSTANCE_KEY, 0x0FF60102u);
EQ(PR_ACCESS, 0x0FF40003u);
EQ(PR_PARENT_ENTRYID, 0x0E090102u);
EQ(PR_MESSAGE_FLAGS, 0x0E070003u);
EQ(PR_MESSAGE_SIZE, 0x0E080003u);
EQ(PR_MESSAGE_SIZE_EXTENDED, 0x0E080014u);
EQ(PR_MESSAGE_RECIPIENTS, 0x0E12000Du);
EQ(PR_MESSAGE_ATTACHMENTS, 0x0E13000Du);
EQ(PR_CREATION_TIME, 0x30070040u);
EQ(PR_LAST_MODIFICATION_TIME, 0x30080040u);
EQ(PR_SEARCH_KEY, 0x300B0102u);
EQ(PR_SUBJECT_A, 0x0037001Eu);
EQ(PR_SUBJECT_W, 0x0037001Fu);
EQ(PR_MESSAGE_CLASS_A, 0x001A001Eu);
EQ(PR_MESSAGE_CLASS_W, 0x001A001Fu);
EQ(PR_DISPLAY_NAME_A, 0x3001001Eu);
EQ(PR_DISPLAY_NAME_W, 0x3001001Fu);
EQ(PR_BODY_A, 0x1000001Eu);
EQ(PR_BODY_W, 0x1000001Fu);
EQ(PR_MSG_STATUS, 0x0E170003u);
EQ(PR_HASATTACH, 0x0E1B000Bu);
EQ(PR_RTF_COMPRESSED, 0x10090102u);
EQ(PR_STORE_SUPPORT_MASK, 0x340D0003u);
EQ(PR_SOURCE_KEY, 0x65E00102u);
EQ(PR_PARENT_SOURCE_KEY, 0x65E10102u);
EQ(PR_CHANGE_KEY, 0x65E20102u);
EQ(PR_PREDECESSOR_CHANGE_LIST, 0x65E30102u);
EQ(PR_LOCAL_COMMIT_TIME, 0x67090040u);
EQ(PR_CONFLICT_ENTRYID, 0x3FF00102u);
EQ(PR_CONFLICT_ITEMS, 0x10981102u);
EQ(PR_IN_CONFLICT, 0x666C000Bu);
EQ(PR_RESOLVE_METHOD, 0x3FE70003u);
EQ(PR_ADDITIONAL_REN_ENTRYIDS, 0x36D81102u);

/* ---- Flags (reference §5, DESIGN.md §2, §4, §5) ---------------------------------------- */
EQ(MAPI_UNICODE, 0x80000000u);
EQ(MAPI_MODIFY, 0x1);
EQ(MAPI_CREATE, 0x2);
EQ(MAPI_DEFERRED_ERRORS, 0x8);
EQ(MAPI_BEST_ACCESS, 0x10);
EQ(MAPI_ASSOCIATED, 0x40);
EQ(KEEP_OPEN_READONLY, 0x1);
EQ(KEEP_OPEN_READWRITE, 0x2);
EQ(FORCE_SAVE, 0x4);
EQ(STREAM_APPEND, 0x4);
EQ(MAPI_MOVE, 0x1);
EQ(MAPI_NOREPLACE, 0x2);
EQ(MAPI_DECLINE_OK, 0x4);
EQ(MAPI_DIALOG, 0x8);
EQ(MAPI_NO_STRINGS, 0x1);
EQ(MAPI_NO_IDS, 0x2);
EQ(MNID_ID, 0);
EQ(MNID_STRING, 1);
EQ(MDB_NO_DIALOG, 0x1);
EQ(MDB_WRITE, 0x4);
EQ(MDB_NO_MAIL, 0x80);
EQ(MSGSTORE_NO_SYNC, 0x00010000u);
EQ(OPEN_IF_EXISTS, 0x1);
EQ(DEL_MESSAGES, 0x1);
EQ(DEL_FOLDERS, 0x4);
EQ(SUPPRESS_RECEIPT, 0x1);
EQ(CLEAR_READ_FLAG, 0x4);
EQ(GENERATE_RECEIPT_ONLY, 0x10);
EQ(CLEAR_RN_PENDING, 0x20);
EQ(CLEAR_NRN_PENDING, 0x40);
EQ(MAPI_ERROR_VERSION, 0);
EQ(IPROP_READONLY, 0x1);
EQ(IPROP_READWRITE, 0x2);
EQ(IPROP_CLEAN, 0x10000);
EQ(IPROP_DIRTY, 0x20000);
EQ(MAPI_STORE, 1);
EQ(MAPI_FOLDER, 3);
EQ(MAPI_MESSAGE, 5);
EQ(MAPI_ATTACH, 7);
EQ(MAPI_ACCESS_MODIFY, 0x1);
EQ(MAPI_ACCESS_READ, 0x2);
EQ(MAPI_ACCESS_DELETE, 0x4);
EQ(MAPI_ACCESS_CREATE_HIERARCHY, 0x8);
EQ(MAPI_ACCESS_CREATE_CONTENTS, 0x10);
EQ(MAPI_ACCESS_CREATE_ASSOCIATED, 0x20);
EQ(STORE_ENTRYID_UNIQUE, 0x1);
EQ(STORE_READONLY, 0x2);
EQ(STORE_MODIFY_OK, 0x8);
EQ(STORE_CREATE_OK, 0x10);
EQ(STORE_NOTIFY_OK, 0x100);
EQ(STORE_MV_PROPS_OK, 0x200);
EQ(STORE_UNICODE_OK, 0x40000);
EQ(MAPI_SHORTTERM, 0x80);
EQ(MAPI_COMPOUND, 0x80);
EQ(MSGSTATUS_IN_CONFLICT, 0x0800);
EQ(fnevObjectModified, 0x10);
EQ(fnevExtended, 0x80000000u);
EQ(MSGCONFLICT_DELETED, 0x1);
EQ(MSGSTORE_RESOLVE_KEEP_ORIGINAL, 1);
EQ(MSGSTORE_RESOLVE_OVERWRITE, 2);
EQ(MSGSTORE_RESOLVE_SAVE_ELSEWHERE, 3);
EQ(MSGSTORE_RESOLVE_MERGE, 4);

/* The allocator typedefs the header adds as raw text match the exported functions. */
static ALLOCATEBUFFER *const check_allocate_buffer = MAPIAllocateBuffer;
static ALLOCATEMORE *const check_allocate_more = MAPIAllocateMore;
static FREEBUFFER *const check_free_buffer = MAPIFreeBuffer;

/* ---- IIDs (run time: they are extern const statics) ------------------------------------ */
static void check_ole_guid(const GUID *g, uint32_t data1, const char *name) {
  static const uint8_t ole_tail[8] = {0xC0, 0, 0, 0, 0, 0, 0, 0x46};
  if (g->Data1 != data1 || g->Data2 != 0 || g->Data3 != 0 ||
      memcmp(g->Data4, ole_tail, sizeof ole_tail) != 0) {
    fprintf(stderr, "%s is {%08X-%04X-%04X-...}, expected {%08X-0000-0000-C000-000000000046}\n",
            name, (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3, (unsigned)data1);
    exit(1);
  }
}

/* The IIDs and GUIDs, byte for byte. */
static void test_iids(void) {
  /* {00020303-0000-0000-C000-000000000046} in memory: Data1..3 little-endian, Data4 as bytes. */
  static const uint8_t imapiprop_bytes[16] = {0x03, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                              0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  static const uint8_t resolver_tail[8] = {0xA8, 0xB2, 0x3E, 0x6C, 0x1F, 0x0D, 0x9A, 0x47};

  CHECK(memcmp(&IID_IMAPIProp, imapiprop_bytes, 16) == 0);
  check_ole_guid(&IID_IUnknown, 0x00000000u, "IID_IUnknown");
  check_ole_guid(&IID_IMAPIProp, 0x00020303u, "IID_IMAPIProp");
  check_ole_guid(&IID_IMAPIPropData, 0x0002031Au, "IID_IMAPIPropData");
  check_ole_guid(&IID_IMAPITable, 0x00020301u, "IID_IMAPITable");
  check_ole_guid(&IID_IMAPIAdviseSink, 0x00020302u, "IID_IMAPIAdviseSink");
  check_ole_guid(&IID_IMsgStore, 0x00020306u, "IID_IMsgStore");
  check_ole_guid(&IID_IMessage, 0x00020307u, "IID_IMessage");
  check_ole_guid(&IID_IAttachment, 0x00020308u, "IID_IAttachment");
  check_ole_guid(&IID_IMAPIContainer, 0x0002030Bu, "IID_IMAPIContainer");
  check_ole_guid(&IID_IMAPIFolder, 0x0002030Cu, "IID_IMAPIFolder");
  check_ole_guid(&IID_IStream, 0x0000000Cu, "IID_IStream");
  check_ole_guid(&PS_MAPI, 0x00020328u, "PS_MAPI");
  check_ole_guid(&PS_PUBLIC_STRINGS, 0x00020329u, "PS_PUBLIC_STRINGS");
  CHECK_EQ(IID_IMsgStoreConflictResolver.Data1, 0x5B3F6E2Au);
  CHECK_EQ(IID_IMsgStoreConflictResolver.Data2, 0x9C41);
  CHECK_EQ(IID_IMsgStoreConflictResolver.Data3, 0x4D7E);
  CHECK(memcmp(IID_IMsgStoreConflictResolver.Data4, resolver_tail, 8) == 0);
}

/* The allocator typedefs point at the real functions. */
static void test_allocator_typedefs(void) {
  CHECK(check_allocate_buffer == MAPIAllocateBuffer);
  CHECK(check_allocate_more == MAPIAllocateMore);
  CHECK(check_free_buffer == MAPIFreeBuffer);
}

/* HRESULT constants work as switch labels (hr_name is one big switch). */
static void test_hresult_constants(void) {
  CHECK_STR(hr_name(MAPI_E_OBJECT_CHANGED), "MAPI_E_OBJECT_CHANGED");
  CHECK_STR(hr_name((HRESULT)0x8004010Au), "MAPI_E_OBJECT_DELETED");
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same).
 * The layouts, sizes and offsets are checked at compile time (above): compiling is the test. */
static const struct test_section SECTIONS[] = {
    {"iids", test_iids},
    {"allocator_typedefs", test_allocator_typedefs},
    {"hresult_constants", test_hresult_constants},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
