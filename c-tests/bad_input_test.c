/* Bad input, method by method, on every class of object the library hands out (DESIGN.md §2:
 * "every method validates before it touches anything"). docs/BAD_INPUT.md is the table of what
 * is tried and what comes back; each row names the section here (or in store_test.c /
 * prop_test.c) that proves it.
 *
 *   test_null_this_every_slot          every vtable slot of IMsgStore, IMAPIFolder, IMessage and
 *                                      IPropData called with This == NULL
 *   test_null_pointers_imapiprop       each required pointer of the IMAPIProp slots NULL, on a
 *                                      store, a folder, a message and an IPropData
 *   test_null_pointers_store_folder    the same for the IMsgStore / IMAPIFolder slots, the
 *                                      not-implemented slots and the exported functions
 *   test_unknown_flags_every_method    one unknown bit to every method that takes flags: refused,
 *                                      out-parameters NULL, nothing done; every documented flag
 *                                      accepted
 *   test_bad_counts                    cValues 0 and counts above the limit, everywhere a count
 *                                      is taken
 *   test_message_property_input        SetProps/DeleteProps/GetProps input on stored objects:
 *                                      types, NULLs, UTF-16, computed properties
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"

#include <unistd.h>

/* A flag bit no method accepts. */
#define UNKNOWN_FLAG 0x01000000u
/* One more than the most entries any counted array may claim (MAX_COUNT, 1 << 20, in
 * src/abi/convert.rs): refused before the array is read, so a one-entry array is enough. */
#define OVER_LIMIT ((ULONG)((1u << 20) + 1))

#define TEST_TAG(type, n) PROP_TAG((type), 0x6600u + (n))

/* Every class of object, opened fresh on one store. */
struct objects {
  char path[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPMESSAGE msg; /* saved once, open read-write */
  LPPROPDATA pd;
  LPSPropValue eid; /* the message's entry ID */
};

static void objects_open(struct objects *o, const char *name) {
  store_location(o->path, sizeof o->path, name);
  unlink(o->path);
  o->mdb = store_open(o->path, MAPI_CREATE | MDB_WRITE);
  o->root = store_root(o->mdb);
  o->eid = msg_create(o->root, "subject");
  o->msg = msg_open(o->mdb, o->eid, MAPI_MODIFY);
  o->pd = NULL;
  CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &o->pd));
}

static void objects_close(struct objects *o) {
  CHECK_EQ(o->pd->lpVtbl->Release(o->pd), 0);
  o->msg->lpVtbl->Release(o->msg);
  o->root->lpVtbl->Release(o->root);
  o->mdb->lpVtbl->Release(o->mdb);
  MAPIFreeBuffer(o->eid);
}

/* The four objects as IMAPIProp (the vtables are flattened: IMAPIProp's slots come first). */
static void as_props(struct objects *o, LPMAPIPROP out[4], const char *names[4]) {
  out[0] = (LPMAPIPROP)o->mdb;
  out[1] = (LPMAPIPROP)o->root;
  out[2] = (LPMAPIPROP)o->msg;
  out[3] = (LPMAPIPROP)o->pd;
  names[0] = "IMsgStore";
  names[1] = "IMAPIFolder";
  names[2] = "IMessage";
  names[3] = "IPropData";
}

/* The stored subject, read through a fresh client. */
static void check_stored_subject(struct objects *o, const char *want) {
  LPMESSAGE m = msg_open(o->mdb, o->eid, 0);
  char buf[64];
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, want);
  m->lpVtbl->Release(m);
}

/* ---- NULL This ----------------------------------------------------------------------------- */

static int g_slots; /* slots called in the current vtable */

/* A slot returning HRESULT must refuse This == NULL with MAPI_E_INVALID_PARAMETER. */
#define NULL_THIS(call)                            \
  do {                                             \
    g_slots++;                                     \
    CHECK_HR((call), MAPI_E_INVALID_PARAMETER);    \
  } while (0)
/* AddRef / Release return 0. */
#define NULL_THIS_ULONG(call) \
  do {                        \
    g_slots++;                \
    CHECK_EQ((call), 0);      \
  } while (0)
/* Every slot of the vtable was called. */
#define ALL_SLOTS(vtbl_type) CHECK_EQ(g_slots, sizeof(vtbl_type) / sizeof(void (*)(void)))

/* The 14 IUnknown + IMAPIProp slots, with plausible arguments so that only This is wrong. */
static void null_this_imapiprop(const IMAPIPropVtbl *v, LPMAPIPROP other) {
  void *pv = NULL;
  LPMAPIERROR err = NULL;
  ULONG n = 0;
  LPSPropValue vals = NULL;
  LPSPropTagArray list = NULL, tags = tag_array(1, PR_SUBJECT_A);
  LPUNKNOWN unk = NULL;
  SPropValue sv;
  LPSPropProblemArray problems = NULL;
  LPMAPINAMEID *names = NULL;
  MAPINAMEID name;
  LPMAPINAMEID pname = &name;
  memset(&sv, 0, sizeof sv);
  sv.ulPropTag = PR_SUBJECT_A;
  sv.Value.lpszA = (char *)"x";
  memset(&name, 0, sizeof name);
  name.lpguid = (LPGUID)&PS_PUBLIC_STRINGS;
  name.ulKind = MNID_ID;
  g_slots = 0;
  NULL_THIS(v->QueryInterface(NULL, &IID_IUnknown, &pv));
  NULL_THIS_ULONG(v->AddRef(NULL));
  NULL_THIS_ULONG(v->Release(NULL));
  NULL_THIS(v->GetLastError(NULL, MAPI_E_NOT_FOUND, 0, &err));
  NULL_THIS(v->SaveChanges(NULL, 0));
  NULL_THIS(v->GetProps(NULL, tags, 0, &n, &vals));
  NULL_THIS(v->GetPropList(NULL, 0, &list));
  NULL_THIS(v->OpenProperty(NULL, PR_BODY_W, &IID_IStream, 0, 0, &unk));
  NULL_THIS(v->SetProps(NULL, 1, &sv, &problems));
  NULL_THIS(v->DeleteProps(NULL, tags, &problems));
  NULL_THIS(v->CopyTo(NULL, 0, NULL, NULL, 0, NULL, NULL, other, 0, &problems));
  NULL_THIS(v->CopyProps(NULL, tags, 0, NULL, NULL, other, 0, &problems));
  NULL_THIS(v->GetNamesFromIDs(NULL, &tags, NULL, 0, &n, &names));
  NULL_THIS(v->GetIDsFromNames(NULL, 1, &pname, 0, &list));
  CHECK_EQ(g_slots, 14);
  MAPIFreeBuffer(tags);
}

static void test_null_this_every_slot(void) {
  struct objects o;
  ULONG live;
  objects_open(&o, "null-this.db");
  live = MsgStoreLiveObjects();
  {
    const IMsgStoreVtbl *v = o.mdb->lpVtbl;
    ULONG type = 0, result = 0, flags = 0, cb = 0;
    ULONG_PTR conn = 0;
    LPUNKNOWN unk = NULL;
    LPENTRYID eid = NULL;
    LPTSTR cls = NULL;
    LPMAPITABLE table = NULL;
    BYTE *e = o.eid->Value.bin.lpb;
    ULONG ecb = o.eid->Value.bin.cb;
    null_this_imapiprop((const IMAPIPropVtbl *)v, (LPMAPIPROP)o.pd);
    NULL_THIS(v->Advise(NULL, 0, NULL, fnevObjectModified, NULL, &conn));
    NULL_THIS(v->Unadvise(NULL, 1));
    NULL_THIS(v->CompareEntryIDs(NULL, ecb, (LPENTRYID)e, ecb, (LPENTRYID)e, 0, &result));
    NULL_THIS(v->OpenEntry(NULL, ecb, (LPENTRYID)e, NULL, 0, &type, &unk));
    NULL_THIS(v->SetReceiveFolder(NULL, (LPTSTR) "IPM", 0, ecb, (LPENTRYID)e));
    NULL_THIS(v->GetReceiveFolder(NULL, (LPTSTR) "IPM", 0, &cb, &eid, &cls));
    NULL_THIS(v->GetReceiveFolderTable(NULL, 0, &table));
    NULL_THIS(v->StoreLogoff(NULL, &flags));
    NULL_THIS(v->AbortSubmit(NULL, ecb, (LPENTRYID)e, 0));
    NULL_THIS(v->GetOutgoingQueue(NULL, 0, &table));
    NULL_THIS(v->SetLockState(NULL, o.msg, 0));
    NULL_THIS(v->FinishedMsg(NULL, 0, ecb, (LPENTRYID)e));
    NULL_THIS(v->NotifyNewMail(NULL, NULL));
    ALL_SLOTS(IMsgStoreVtbl);
    CHECK(unk == NULL && table == NULL);
  }
  {
    const IMAPIFolderVtbl *v = o.root->lpVtbl;
    ULONG type = 0, status = 0;
    LPUNKNOWN unk = NULL;
    LPMAPITABLE table = NULL;
    LPMESSAGE m = NULL;
    LPMAPIFOLDER f = NULL;
    ENTRYLIST list = {1, &o.eid->Value.bin};
    LPSRestriction res = NULL;
    LPENTRYLIST containers = NULL;
    BYTE *e = o.eid->Value.bin.lpb;
    ULONG ecb = o.eid->Value.bin.cb;
    null_this_imapiprop((const IMAPIPropVtbl *)v, (LPMAPIPROP)o.pd);
    NULL_THIS(v->GetContentsTable(NULL, 0, &table));
    NULL_THIS(v->GetHierarchyTable(NULL, 0, &table));
    NULL_THIS(v->OpenEntry(NULL, ecb, (LPENTRYID)e, NULL, 0, &type, &unk));
    NULL_THIS(v->SetSearchCriteria(NULL, NULL, NULL, 0));
    NULL_THIS(v->GetSearchCriteria(NULL, 0, &res, &containers, &status));
    NULL_THIS(v->CreateMessage(NULL, NULL, 0, &m));
    NULL_THIS(v->CopyMessages(NULL, &list, NULL, o.root, 0, NULL, 0));
    NULL_THIS(v->DeleteMessages(NULL, &list, 0, NULL, 0));
    NULL_THIS(v->CreateFolder(NULL, FOLDER_GENERIC, (LPTSTR) "f", NULL, NULL, 0, &f));
    NULL_THIS(v->CopyFolder(NULL, ecb, (LPENTRYID)e, NULL, o.root, NULL, 0, NULL, 0));
    NULL_THIS(v->DeleteFolder(NULL, ecb, (LPENTRYID)e, 0, NULL, 0));
    NULL_THIS(v->SetReadFlags(NULL, &list, 0, NULL, 0));
    NULL_THIS(v->GetMessageStatus(NULL, ecb, (LPENTRYID)e, 0, &status));
    NULL_THIS(v->SetMessageStatus(NULL, ecb, (LPENTRYID)e, 0, 0, &status));
    NULL_THIS(v->SaveContentsSort(NULL, NULL, 0));
    NULL_THIS(v->EmptyFolder(NULL, 0, NULL, 0));
    ALL_SLOTS(IMAPIFolderVtbl);
    CHECK(unk == NULL && m == NULL && f == NULL);
  }
  {
    const IMessageVtbl *v = o.msg->lpVtbl;
    LPMAPITABLE table = NULL;
    LPATTACH att = NULL;
    ULONG num = 0;
    null_this_imapiprop((const IMAPIPropVtbl *)v, (LPMAPIPROP)o.pd);
    NULL_THIS(v->GetAttachmentTable(NULL, 0, &table));
    NULL_THIS(v->OpenAttach(NULL, 0, NULL, 0, &att));
    NULL_THIS(v->CreateAttach(NULL, NULL, 0, &num, &att));
    NULL_THIS(v->DeleteAttach(NULL, 0, 0, NULL, 0));
    NULL_THIS(v->GetRecipientTable(NULL, 0, &table));
    NULL_THIS(v->ModifyRecipients(NULL, 0, NULL));
    NULL_THIS(v->SubmitMessage(NULL, 0));
    NULL_THIS(v->SetReadFlag(NULL, 0));
    ALL_SLOTS(IMessageVtbl);
  }
  {
    const IPropDataVtbl *v = o.pd->lpVtbl;
    LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A), got = NULL;
    ULONG access = IPROP_READONLY | IPROP_CLEAN, *got_access = NULL;
    null_this_imapiprop((const IMAPIPropVtbl *)v, (LPMAPIPROP)o.msg);
    NULL_THIS(v->HrSetObjAccess(NULL, IPROP_READONLY));
    NULL_THIS(v->HrSetPropAccess(NULL, tags, &access));
    NULL_THIS(v->HrGetPropAccess(NULL, &got, &got_access));
    NULL_THIS(v->HrAddObjProps(NULL, tags, NULL));
    ALL_SLOTS(IPropDataVtbl);
    MAPIFreeBuffer(tags);
  }
  /* Nothing was made, and nothing happened to the objects. */
  CHECK_EQ(MsgStoreLiveObjects(), live);
  check_stored_subject(&o, "subject");
  objects_close(&o);
  printf("  NULL This in every slot of the four vtables: ok\n");
}

/* ---- NULL required pointers ------------------------------------------------------------------ */

/* The IMAPIProp slots of one object: each required pointer NULL in turn → INVALID_PARAMETER,
 * and the call's other out-parameters still cleared. */
static void null_pointers_imapiprop(LPMAPIPROP p, LPMAPIPROP dest, const char *cls) {
  void *pv = GARBAGE_PTR;
  ULONG n = GARBAGE_ULONG;
  LPSPropValue vals = (LPSPropValue)GARBAGE_PTR;
  LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A), list;
  LPSPropProblemArray problems;
  LPUNKNOWN unk;
  LPMAPINAMEID *names;
  LPMAPIERROR err;

  printf("    %s\n", cls);
  CHECK_HR(p->lpVtbl->QueryInterface(p, NULL, &pv), MAPI_E_INVALID_PARAMETER);
  CHECK(pv == NULL);
  CHECK_HR(p->lpVtbl->QueryInterface(p, &IID_IUnknown, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->GetLastError(p, MAPI_E_NOT_FOUND, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, NULL, &vals), MAPI_E_INVALID_PARAMETER);
  CHECK(vals == NULL);
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &n, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(n, 0);
  CHECK_HR(p->lpVtbl->GetPropList(p, 0, NULL), MAPI_E_INVALID_PARAMETER);
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, NULL, 0, 0, &unk), MAPI_E_INVALID_PARAMETER);
  CHECK(unk == NULL);
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, &IID_IStream, 0, 0, NULL),
           MAPI_E_INVALID_PARAMETER);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->SetProps(p, 1, NULL, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->DeleteProps(p, NULL, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->CopyTo(p, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, &problems),
           MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  CHECK_HR(p->lpVtbl->CopyTo(p, 1, NULL, NULL, 0, NULL, NULL, dest, 0, NULL),
           MAPI_E_INVALID_PARAMETER); /* rgiidExclude NULL with a count */
  CHECK_HR(p->lpVtbl->CopyProps(p, NULL, 0, NULL, NULL, dest, 0, NULL), MAPI_E_INVALID_PARAMETER);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->CopyProps(p, tags, 0, NULL, NULL, NULL, 0, &problems),
           MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  n = GARBAGE_ULONG;
  names = (LPMAPINAMEID *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, NULL, NULL, 0, &n, &names), MAPI_E_INVALID_PARAMETER);
  CHECK(n == 0 && names == NULL);
  names = (LPMAPINAMEID *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &tags, NULL, 0, NULL, &names), MAPI_E_INVALID_PARAMETER);
  CHECK(names == NULL);
  n = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &tags, NULL, 0, &n, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(n, 0);
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 1, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  list = (LPSPropTagArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 2, NULL, 0, &list), MAPI_E_INVALID_PARAMETER);
  CHECK(list == NULL);
  /* ...and GetLastError names the method that refused. */
  err = NULL;
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_INVALID_PARAMETER, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "GetIDsFromNames") != NULL);
  MAPIFreeBuffer(err);
  MAPIFreeBuffer(tags);
}

static void test_null_pointers_imapiprop(void) {
  struct objects o;
  LPMAPIPROP props[4];
  const char *names[4];
  int i;
  objects_open(&o, "null-pointers.db");
  as_props(&o, props, names);
  for (i = 0; i < 4; i++) null_pointers_imapiprop(props[i], props[(i + 1) % 4], names[i]);
  check_stored_subject(&o, "subject");
  objects_close(&o);
  printf("  NULL required pointers in the IMAPIProp slots of every class: ok\n");
}

static void test_null_pointers_store_folder(void) {
  struct objects o;
  ULONG type = GARBAGE_ULONG, result = GARBAGE_ULONG;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  BYTE *e;
  ULONG ecb;
  LONG count = -1;
  objects_open(&o, "null-pointers-2.db");
  e = o.eid->Value.bin.lpb;
  ecb = o.eid->Value.bin.cb;

  /* IMsgStore / IMAPIFolder::OpenEntry: the out-pointers, and an entry ID NULL with a count. */
  CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, ecb, (LPENTRYID)e, NULL, 0, NULL, &unk),
           MAPI_E_INVALID_PARAMETER);
  CHECK(unk == NULL);
  CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, ecb, (LPENTRYID)e, NULL, 0, &type, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(type, 0);
  CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, ecb, NULL, NULL, 0, &type, &unk),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.root->lpVtbl->OpenEntry(o.root, ecb, (LPENTRYID)e, NULL, 0, NULL, &unk),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.root->lpVtbl->OpenEntry(o.root, ecb, (LPENTRYID)e, NULL, 0, &type, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.root->lpVtbl->OpenEntry(o.root, ecb, NULL, NULL, 0, &type, &unk),
           MAPI_E_INVALID_PARAMETER);
  CHECK(unk == NULL);
  /* CompareEntryIDs, StoreLogoff. */
  CHECK_HR(o.mdb->lpVtbl->CompareEntryIDs(o.mdb, ecb, (LPENTRYID)e, ecb, (LPENTRYID)e, 0, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.mdb->lpVtbl->CompareEntryIDs(o.mdb, ecb, NULL, ecb, (LPENTRYID)e, 0, &result),
           MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(result, 0);
  CHECK_HR(o.mdb->lpVtbl->CompareEntryIDs(o.mdb, ecb, (LPENTRYID)e, ecb, NULL, 0, &result),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.mdb->lpVtbl->StoreLogoff(o.mdb, NULL), MAPI_E_INVALID_PARAMETER);

  /* IMAPIFolder. */
  {
    LPMAPIFOLDER f = (LPMAPIFOLDER)GARBAGE_PTR;
    ENTRYLIST list = {1, NULL};
    SBinary bin = {32, NULL};
    CHECK_HR(o.root->lpVtbl->CreateMessage(o.root, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR) "f", NULL, NULL, 0,
                                          NULL),
             MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, NULL, NULL, NULL, 0, &f),
             MAPI_E_INVALID_PARAMETER);
    CHECK(f == NULL);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, NULL, NULL, NULL, MAPI_UNICODE,
                                          &f),
             MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->DeleteMessages(o.root, NULL, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->DeleteMessages(o.root, &list, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    list.lpbin = &bin; /* one entry ID whose bytes are NULL */
    CHECK_HR(o.root->lpVtbl->DeleteMessages(o.root, &list, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->DeleteFolder(o.root, 32, NULL, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->DeleteFolder(o.root, 0, NULL, 0, NULL, 0), MAPI_E_INVALID_ENTRYID);
    CHECK_OK(msg_get_long((LPMESSAGE)o.root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
  }

  /* The folder tables with a NULL out-pointer (BAD_INPUT row 107). */
  CHECK_HR(o.root->lpVtbl->GetContentsTable(o.root, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.root->lpVtbl->GetHierarchyTable(o.root, 0, NULL), MAPI_E_INVALID_PARAMETER);
  /* Not-implemented slots with NULL out-pointers: MAPI_E_NO_SUPPORT, never a crash. */
  CHECK_HR(o.root->lpVtbl->GetSearchCriteria(o.root, 0, NULL, NULL, NULL), MAPI_E_NO_SUPPORT);
  CHECK_HR(o.root->lpVtbl->GetMessageStatus(o.root, 0, NULL, 0, NULL), MAPI_E_NO_SUPPORT);
  CHECK_HR(o.root->lpVtbl->SetMessageStatus(o.root, 0, NULL, 0, 0, NULL), MAPI_E_NO_SUPPORT);
  CHECK_HR(o.mdb->lpVtbl->GetReceiveFolder(o.mdb, NULL, 0, NULL, NULL, NULL), MAPI_E_NO_SUPPORT);
  CHECK_HR(o.mdb->lpVtbl->GetReceiveFolderTable(o.mdb, 0, NULL), MAPI_E_NO_SUPPORT);
  CHECK_HR(o.mdb->lpVtbl->GetOutgoingQueue(o.mdb, 0, NULL), MAPI_E_NO_SUPPORT);
  /* Implemented slots with NULL out-pointers (or a NULL ADRLIST): MAPI_E_INVALID_PARAMETER. */
  CHECK_HR(o.mdb->lpVtbl->Advise(o.mdb, 0, NULL, 0, NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.msg->lpVtbl->GetAttachmentTable(o.msg, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.msg->lpVtbl->GetRecipientTable(o.msg, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.msg->lpVtbl->OpenAttach(o.msg, 0, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.msg->lpVtbl->CreateAttach(o.msg, NULL, 0, NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(o.msg->lpVtbl->ModifyRecipients(o.msg, 0, NULL), MAPI_E_INVALID_PARAMETER);

  /* The exported functions. */
  {
    LPMDB m = (LPMDB)GARBAGE_PTR;
    const char *name = "unchanged";
    void *buf = GARBAGE_PTR;
    CHECK_HR(MsgStoreOpen(NULL, MDB_WRITE, &m), MAPI_E_INVALID_PARAMETER);
    CHECK(m == NULL);
    CHECK_HR(MsgStoreOpen(o.path, MDB_WRITE, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MsgStoreSetConflictResolver(NULL, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MsgStoreSetConflictResolver((LPMDB)o.root, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MsgStoreSetConflictResolver((LPMDB)o.pd, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MsgStoreGetLastError(MAPI_E_INVALID_PARAMETER, 0, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MsgStoreErrorName(MAPI_E_NOT_FOUND, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_OK(MsgStoreErrorName(MAPI_E_NOT_FOUND, &name));
    CHECK_STR(name, "MAPI_E_NOT_FOUND");
    CHECK_HR(MAPIAllocateBuffer(8, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(MAPIAllocateMore(8, NULL, &buf), MAPI_E_INVALID_PARAMETER);
    CHECK(buf == NULL);
    CHECK_EQ(MAPIFreeBuffer(NULL), 0);
    CHECK_HR(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, NULL),
             MAPI_E_INVALID_PARAMETER);
  }
  check_stored_subject(&o, "subject");
  objects_close(&o);
  printf("  NULL required pointers in IMsgStore, IMAPIFolder and the exported functions: ok\n");
}

/* ---- Unknown flags -------------------------------------------------------------------------- */

/* The IMAPIProp slots that take flags, on one object: refused, out-parameters NULL. */
static void unknown_flags_imapiprop(LPMAPIPROP p, LPMAPIPROP dest) {
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
  ULONG n = GARBAGE_ULONG;
  LPSPropValue vals = (LPSPropValue)GARBAGE_PTR;
  LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A), list = (LPSPropTagArray)GARBAGE_PTR;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  LPMAPINAMEID *names = (LPMAPINAMEID *)GARBAGE_PTR;
  MAPINAMEID name;
  LPMAPINAMEID pname = &name;
  memset(&name, 0, sizeof name);
  name.lpguid = (LPGUID)&PS_PUBLIC_STRINGS;
  name.ulKind = MNID_ID;

  CHECK_HR(p->lpVtbl->GetLastError(p, MAPI_E_NOT_FOUND, UNKNOWN_FLAG, &err), MAPI_E_UNKNOWN_FLAGS);
  CHECK(err == NULL);
  CHECK_HR(p->lpVtbl->SaveChanges(p, UNKNOWN_FLAG), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(p->lpVtbl->GetProps(p, tags, UNKNOWN_FLAG, &n, &vals), MAPI_E_UNKNOWN_FLAGS);
  CHECK(n == 0 && vals == NULL);
  CHECK_HR(p->lpVtbl->GetPropList(p, UNKNOWN_FLAG, &list), MAPI_E_UNKNOWN_FLAGS);
  CHECK(list == NULL);
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, &IID_IStream, 0, UNKNOWN_FLAG, &unk),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(unk == NULL);
  CHECK_HR(p->lpVtbl->CopyTo(p, 0, NULL, NULL, 0, NULL, NULL, dest, UNKNOWN_FLAG, &problems),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(problems == NULL);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->CopyProps(p, tags, 0, NULL, NULL, dest, UNKNOWN_FLAG, &problems),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(problems == NULL);
  n = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &tags, NULL, UNKNOWN_FLAG, &n, &names),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(n == 0 && names == NULL);
  list = (LPSPropTagArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 1, &pname, UNKNOWN_FLAG, &list), MAPI_E_UNKNOWN_FLAGS);
  CHECK(list == NULL);
  MAPIFreeBuffer(tags);
}

static void test_unknown_flags_every_method(void) {
  struct objects o;
  LPMAPIPROP props[4];
  const char *names[4];
  LPPROPDATA dest = NULL;
  ULONG type = GARBAGE_ULONG, result = GARBAGE_ULONG, live;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LPMESSAGE nm = (LPMESSAGE)GARBAGE_PTR;
  LPMAPIFOLDER nf = (LPMAPIFOLDER)GARBAGE_PTR;
  BYTE *e;
  ULONG ecb;
  int i;
  LONG count = -1;

  objects_open(&o, "unknown-flags.db");
  e = o.eid->Value.bin.lpb;
  ecb = o.eid->Value.bin.cb;
  CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &dest));
  msg_set_str(o.msg, PR_SUBJECT_A, "pending"); /* a change no refused call may save */
  as_props(&o, props, names);
  for (i = 0; i < 4; i++) unknown_flags_imapiprop(props[i], (LPMAPIPROP)dest);
  {
    ULONG n = 0;
    LPSPropValue vals = NULL;
    CHECK_OK(dest->lpVtbl->GetProps(dest, NULL, 0, &n, &vals));
    CHECK_EQ(n, 0); /* no refused CopyTo / CopyProps delivered anything */
  }
  live = MsgStoreLiveObjects();

  /* IMsgStore. */
  CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, ecb, (LPENTRYID)e, NULL, UNKNOWN_FLAG, &type, &unk),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(unk == NULL);
  CHECK_EQ(type, 0);
  CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, 0, NULL, NULL, MAPI_UNICODE, &type, &unk),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(o.mdb->lpVtbl->CompareEntryIDs(o.mdb, ecb, (LPENTRYID)e, ecb, (LPENTRYID)e,
                                          UNKNOWN_FLAG, &result),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_EQ(result, 0);
  {
    ULONG flags = UNKNOWN_FLAG | LOGOFF_ORDERLY;
    CHECK_HR(o.mdb->lpVtbl->StoreLogoff(o.mdb, &flags), MAPI_E_UNKNOWN_FLAGS);
  }
  /* IMAPIFolder. */
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(o.root->lpVtbl->OpenEntry(o.root, ecb, (LPENTRYID)e, NULL, UNKNOWN_FLAG, &type, &unk),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(unk == NULL);
  CHECK_HR(o.root->lpVtbl->CreateMessage(o.root, NULL, UNKNOWN_FLAG, &nm), MAPI_E_UNKNOWN_FLAGS);
  CHECK(nm == NULL);
  CHECK_HR(o.root->lpVtbl->CreateMessage(o.root, NULL, MAPI_UNICODE, &nm), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR) "flagged", NULL, NULL,
                                        UNKNOWN_FLAG, &nf),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(nf == NULL);
  {
    LPSPropValue subfolders = msg_get_one((LPMAPIPROP)o.root, PR_SUBFOLDERS);
    CHECK_EQ(subfolders->Value.b, 0); /* the refused CreateFolder made nothing */
    MAPIFreeBuffer(subfolders);
  }
  {
    ENTRYLIST list = {1, &o.eid->Value.bin};
    CHECK_HR(o.root->lpVtbl->DeleteMessages(o.root, &list, 0, NULL, UNKNOWN_FLAG),
             MAPI_E_UNKNOWN_FLAGS);
    CHECK_OK(msg_get_long((LPMESSAGE)o.root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1); /* nothing deleted */
  }
  /* IMessage. */
  CHECK_HR(o.msg->lpVtbl->SaveChanges(o.msg, UNKNOWN_FLAG | KEEP_OPEN_READWRITE),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(o.msg->lpVtbl->SetReadFlag(o.msg, UNKNOWN_FLAG), MAPI_E_UNKNOWN_FLAGS);
  {
    LONG flags = 0;
    LPMESSAGE m = msg_open(o.mdb, o.eid, 0);
    CHECK_OK(msg_get_long(m, PR_MESSAGE_FLAGS, &flags));
    CHECK(!(flags & MSGFLAG_READ)); /* the refused SetReadFlag did not apply */
    m->lpVtbl->Release(m);
  }
  check_stored_subject(&o, "subject"); /* the refused SaveChanges wrote nothing */
  /* IPropData: access values are flags too. */
  {
    LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A);
    ULONG access = IPROP_READWRITE | IPROP_CLEAN | UNKNOWN_FLAG;
    CHECK_HR(o.pd->lpVtbl->HrSetObjAccess(o.pd, IPROP_READONLY | UNKNOWN_FLAG),
             MAPI_E_UNKNOWN_FLAGS);
    CHECK_HR(o.pd->lpVtbl->HrSetPropAccess(o.pd, tags, &access), MAPI_E_UNKNOWN_FLAGS);
    MAPIFreeBuffer(tags);
  }
  /* The exported functions. */
  {
    char p[4096];
    LPMDB m = (LPMDB)GARBAGE_PTR;
    LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
    store_location(p, sizeof p, "unknown-flags-new.db");
    unlink(p);
    CHECK_HR(MsgStoreOpen(p, MAPI_CREATE | MDB_WRITE | UNKNOWN_FLAG, &m), MAPI_E_UNKNOWN_FLAGS);
    CHECK(m == NULL);
    CHECK(access(p, F_OK) != 0);
    CHECK_HR(MsgStoreOpen(o.path, MDB_WRITE | MAPI_UNICODE, &m), MAPI_E_UNKNOWN_FLAGS);
    CHECK_HR(MsgStoreGetLastError(MAPI_E_UNKNOWN_FLAGS, UNKNOWN_FLAG, &err), MAPI_E_UNKNOWN_FLAGS);
    CHECK(err == NULL);
  }
  CHECK_EQ(MsgStoreLiveObjects(), live);

  /* Every flag DESIGN.md §2 lists is accepted (the refusals above are not over-broad). */
  {
    LPMESSAGE m = NULL;
    LPMAPIFOLDER f = NULL;
    LPSPropValue eid_f;
    LPMDB again = NULL;
    CHECK_OK(MsgStoreOpen(o.path, MDB_NO_DIALOG | MDB_WRITE | MAPI_DEFERRED_ERRORS |
                                      MAPI_BEST_ACCESS | MDB_NO_MAIL | MSGSTORE_NO_SYNC,
                          &again));
    again->lpVtbl->Release(again);
    CHECK_OK(o.mdb->lpVtbl->OpenEntry(o.mdb, ecb, (LPENTRYID)e, NULL,
                                      MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS,
                                      &type, &unk));
    unk->lpVtbl->Release(unk);
    CHECK_OK(o.root->lpVtbl->CreateMessage(o.root, NULL, MAPI_DEFERRED_ERRORS | MAPI_ASSOCIATED,
                                           &m));
    CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS));
    CHECK_OK(m->lpVtbl->SetReadFlag(m, SUPPRESS_RECEIPT | MAPI_DEFERRED_ERRORS |
                                           CLEAR_RN_PENDING | CLEAR_NRN_PENDING));
    CHECK_OK(m->lpVtbl->SetReadFlag(m, CLEAR_READ_FLAG));
    CHECK_OK(m->lpVtbl->SetReadFlag(m, GENERATE_RECEIPT_ONLY));
    m->lpVtbl->Release(m);
    {
      static const WCHAR w_flagged[] = {'f', 'l', 'a', 'g', 'g', 'e', 'd', 0};
      CHECK_OK(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR)w_flagged, NULL, NULL,
                                            OPEN_IF_EXISTS | MAPI_UNICODE, &f));
    }
    eid_f = msg_get_one((LPMAPIPROP)f, PR_ENTRYID);
    f->lpVtbl->Release(f);
    CHECK_OK(o.root->lpVtbl->DeleteFolder(o.root, eid_f->Value.bin.cb,
                                          (LPENTRYID)eid_f->Value.bin.lpb, 0, NULL,
                                          DEL_MESSAGES | DEL_FOLDERS));
    MAPIFreeBuffer(eid_f);
  }
  CHECK_EQ(dest->lpVtbl->Release(dest), 0);
  objects_close(&o);
  printf("  unknown flags refused by every method, documented flags accepted: ok\n");
}

/* ---- Counts ---------------------------------------------------------------------------------- */

static void test_bad_counts(void) {
  struct objects o;
  LPMAPIPROP props[4];
  const char *names[4];
  LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A);
  SPropValue sv[2];
  LONG one[1] = {1};
  int i;
  LONG count = -1;

  objects_open(&o, "bad-counts.db");
  as_props(&o, props, names);
  memset(sv, 0, sizeof sv);
  sv[0].ulPropTag = PR_SUBJECT_A;
  sv[0].Value.lpszA = (char *)"counted";
  for (i = 0; i < 4; i++) {
    LPMAPIPROP p = props[i];
    LPMAPIPROP dest = props[(i + 1) % 4];
    ULONG n = GARBAGE_ULONG;
    LPSPropValue vals = (LPSPropValue)GARBAGE_PTR;
    LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
    IID iid = IID_IStream;
    LPSPropTagArray list = (LPSPropTagArray)GARBAGE_PTR;
    MAPINAMEID name;
    LPMAPINAMEID pname = &name;
    memset(&name, 0, sizeof name);
    printf("    %s\n", names[i]);
    /* Tag arrays with cValues 0 and above the limit. */
    tags->cValues = 0;
    CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &n, &vals), MAPI_E_INVALID_PARAMETER);
    CHECK(n == 0 && vals == NULL);
    CHECK_HR(p->lpVtbl->DeleteProps(p, tags, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->CopyProps(p, tags, 0, NULL, NULL, dest, 0, NULL), MAPI_E_INVALID_PARAMETER);
    tags->cValues = OVER_LIMIT;
    CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &n, &vals), MAPI_E_INVALID_PARAMETER);
    CHECK(vals == NULL);
    CHECK_HR(p->lpVtbl->DeleteProps(p, tags, &problems), MAPI_E_INVALID_PARAMETER);
    CHECK(problems == NULL);
    CHECK_HR(p->lpVtbl->CopyProps(p, tags, 0, NULL, NULL, dest, 0, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->CopyTo(p, 0, NULL, tags, 0, NULL, NULL, dest, 0, NULL),
             MAPI_E_INVALID_PARAMETER); /* the exclusion list */
    tags->cValues = 0xFFFFFFFFu;
    CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &n, &vals), MAPI_E_INVALID_PARAMETER);
    tags->cValues = 1;
    /* SetProps: cValues 0, above the limit, and an MV value above the limit. */
    CHECK_HR(p->lpVtbl->SetProps(p, 0, sv, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->SetProps(p, OVER_LIMIT, sv, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->SetProps(p, 0xFFFFFFFFu, sv, NULL), MAPI_E_INVALID_PARAMETER);
    sv[1].ulPropTag = TEST_TAG(PT_MV_LONG, 1);
    sv[1].Value.MVl.cValues = OVER_LIMIT;
    sv[1].Value.MVl.lpl = one;
    CHECK_HR(p->lpVtbl->SetProps(p, 2, sv, NULL), MAPI_E_INVALID_PARAMETER);
    /* Other counted arrays: excluded interfaces, names. */
    CHECK_HR(p->lpVtbl->CopyTo(p, OVER_LIMIT, &iid, NULL, 0, NULL, NULL, dest, 0, NULL),
             MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->GetIDsFromNames(p, OVER_LIMIT, &pname, 0, &list), MAPI_E_INVALID_PARAMETER);
    CHECK(list == NULL);
  }
  /* Nothing of any refused SetProps was applied. */
  {
    char buf[64];
    CHECK_OK(msg_get_str(o.msg, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "subject");
  }
  /* IPropData's own arrays. */
  {
    ULONG access[1] = {IPROP_READONLY | IPROP_CLEAN};
    tags->cValues = OVER_LIMIT;
    CHECK_HR(o.pd->lpVtbl->HrSetPropAccess(o.pd, tags, access), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.pd->lpVtbl->HrAddObjProps(o.pd, tags, NULL), MAPI_E_INVALID_PARAMETER);
    tags->cValues = 0;
    CHECK_HR(o.pd->lpVtbl->HrSetPropAccess(o.pd, tags, access), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.pd->lpVtbl->HrAddObjProps(o.pd, tags, NULL), MAPI_E_INVALID_PARAMETER);
    tags->cValues = 1;
  }
  /* Entry lists and entry IDs. */
  {
    ENTRYLIST list = {OVER_LIMIT, &o.eid->Value.bin};
    ULONG type = GARBAGE_ULONG;
    LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
    CHECK_HR(o.root->lpVtbl->DeleteMessages(o.root, &list, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    list.cValues = 0; /* an empty list deletes nothing, successfully */
    CHECK_OK(o.root->lpVtbl->DeleteMessages(o.root, &list, 0, NULL, 0));
    CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, 4097, (LPENTRYID)o.eid->Value.bin.lpb, NULL, 0, &type,
                                      &unk),
             MAPI_E_INVALID_ENTRYID);
    CHECK(unk == NULL);
    CHECK_HR(o.mdb->lpVtbl->OpenEntry(o.mdb, 0xFFFFFFFFu, (LPENTRYID)o.eid->Value.bin.lpb, NULL,
                                      0, &type, &unk),
             MAPI_E_INVALID_ENTRYID);
    CHECK_HR(o.mdb->lpVtbl->CompareEntryIDs(o.mdb, 0xFFFFFFFFu, (LPENTRYID)o.eid->Value.bin.lpb,
                                            o.eid->Value.bin.cb, (LPENTRYID)o.eid->Value.bin.lpb,
                                            0, &type),
             MAPI_E_INVALID_ENTRYID);
    CHECK_HR(o.root->lpVtbl->DeleteFolder(o.root, 0xFFFFFFFFu, (LPENTRYID)o.eid->Value.bin.lpb, 0,
                                          NULL, 0),
             MAPI_E_INVALID_ENTRYID);
    CHECK_OK(msg_get_long((LPMESSAGE)o.root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
  }
  MAPIFreeBuffer(tags);
  check_stored_subject(&o, "subject");
  objects_close(&o);
  printf("  zero counts and counts above the limit: ok\n");
}

/* ---- Property input on stored objects ----------------------------------------------------------- */

static const WCHAR W_LONE_SURROGATE[] = {'a', 0xD800, 0};

/* Every computed property of `p` is refused by SetProps and DeleteProps with MAPI_E_COMPUTED
 * problems, and the other entries of the call are applied. */
static void check_computed_refused(LPMAPIPROP p, const ULONG *computed, ULONG n) {
  SPropValue sv[24];
  LPSPropTagArray tags;
  LPSPropProblemArray problems = NULL;
  ULONG i;
  CHECK(n + 1 <= 24);
  memset(sv, 0, sizeof sv);
  for (i = 0; i < n; i++) {
    sv[i].ulPropTag = computed[i];
    /* A value of the right shape: binaries get one byte, the rest a zero. */
    if (PROP_TYPE(computed[i]) == PT_BINARY) {
      sv[i].Value.bin.cb = 1;
      sv[i].Value.bin.lpb = (LPBYTE) "x";
    }
  }
  sv[n].ulPropTag = PR_COMMENT_A;
  sv[n].Value.lpszA = (char *)"applied";
  CHECK_OK(p->lpVtbl->SetProps(p, n + 1, sv, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, n);
  for (i = 0; i < n; i++) {
    CHECK_EQ(problems->aProblem[i].ulIndex, i);
    CHECK_EQ(problems->aProblem[i].ulPropTag, computed[i]);
    CHECK_HR(problems->aProblem[i].scode, MAPI_E_COMPUTED);
  }
  MAPIFreeBuffer(problems);
  {
    void *raw = NULL;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(n), &raw));
    tags = (LPSPropTagArray)raw;
    tags->cValues = n;
    for (i = 0; i < n; i++) tags->aulPropTag[i] = computed[i];
  }
  problems = NULL;
  CHECK_OK(p->lpVtbl->DeleteProps(p, tags, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, n);
  for (i = 0; i < n; i++) CHECK_HR(problems->aProblem[i].scode, MAPI_E_COMPUTED);
  MAPIFreeBuffer(problems);
  MAPIFreeBuffer(tags);
}

static void test_message_property_input(void) {
  struct objects o;
  SPropValue v[8];
  LPSPropProblemArray problems;
  LONG zero[1] = {0};
  static LPSTR mv_null[] = {(LPSTR) "x", NULL};
  static const ULONG message_computed[] = {
      PR_ENTRYID,         PR_RECORD_KEY,      PR_PARENT_ENTRYID,
      PR_STORE_ENTRYID,   PR_STORE_RECORD_KEY, PR_OBJECT_TYPE,
      PR_ACCESS,          PR_ACCESS_LEVEL,    PR_STORE_SUPPORT_MASK,
      PR_CHANGE_KEY,      PR_PREDECESSOR_CHANGE_LIST, PR_LAST_MODIFICATION_TIME,
      PR_CREATION_TIME,   PR_MESSAGE_SIZE};
  static const ULONG folder_computed[] = {
      PR_ENTRYID,       PR_RECORD_KEY,          PR_PARENT_ENTRYID, PR_STORE_ENTRYID,
      PR_STORE_RECORD_KEY, PR_OBJECT_TYPE,      PR_ACCESS,         PR_ACCESS_LEVEL,
      PR_CONTENT_COUNT, PR_ASSOC_CONTENT_COUNT, PR_SUBFOLDERS,     PR_STORE_SUPPORT_MASK,
      PR_FOLDER_TYPE};
  static const ULONG store_computed[] = {
      PR_ENTRYID,     PR_RECORD_KEY,         PR_STORE_ENTRYID, PR_STORE_RECORD_KEY,
      PR_OBJECT_TYPE, PR_STORE_SUPPORT_MASK, PR_ACCESS_LEVEL,  PR_IPM_SUBTREE_ENTRYID};
  LPSPropValue before_eid, after;

  objects_open(&o, "property-input.db");
  before_eid = msg_get_one((LPMAPIPROP)o.msg, PR_ENTRYID);

  /* Whole-call failures (MAPI_E_INVALID_PARAMETER, nothing applied, no problem array):
   * PT_OBJECT, an MV value with cValues 0, NULL string / wide string / binary / GUID pointers,
   * a NULL inside an MV value. */
#define REJECTED(nvals)                                                                  \
  do {                                                                                   \
    problems = (LPSPropProblemArray)GARBAGE_PTR;                                         \
    CHECK_HR(o.msg->lpVtbl->SetProps(o.msg, (nvals), v, &problems),                      \
             MAPI_E_INVALID_PARAMETER);                                                  \
    CHECK(problems == NULL);                                                             \
  } while (0)
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PR_SUBJECT_A;
  v[0].Value.lpszA = (char *)"must not apply";
  v[1].ulPropTag = TEST_TAG(PT_OBJECT, 1);
  REJECTED(2);
  memset(&v[1], 0, sizeof v[1]);
  v[1].ulPropTag = TEST_TAG(PT_MV_LONG, 1);
  v[1].Value.MVl.lpl = zero;
  REJECTED(2);
  memset(&v[1], 0, sizeof v[1]);
  v[1].ulPropTag = PR_BODY_A;
  REJECTED(2);
  v[1].ulPropTag = PR_BODY_W;
  REJECTED(2);
  v[1].ulPropTag = TEST_TAG(PT_BINARY, 1);
  v[1].Value.bin.cb = 3;
  REJECTED(2);
  memset(&v[1], 0, sizeof v[1]);
  v[1].ulPropTag = TEST_TAG(PT_CLSID, 1);
  REJECTED(2);
  v[1].ulPropTag = TEST_TAG(PT_MV_STRING8, 1);
  v[1].Value.MVszA.cValues = 2;
  v[1].Value.MVszA.lppszA = mv_null;
  REJECTED(2);
#undef REJECTED
  {
    char buf[64];
    CHECK_OK(msg_get_str(o.msg, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "subject");
  }

  /* Per-property problems, the rest applied: types that are not stored, invalid UTF-16, invalid
   * property IDs; PR_NULL and PT_ERROR entries skipped without a problem. */
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PR_NULL;
  v[1].ulPropTag = TEST_TAG(PT_ERROR, 2);
  v[1].Value.err = MAPI_E_NOT_FOUND;
  v[2].ulPropTag = TEST_TAG(PT_PTR, 3);
  v[3].ulPropTag = TEST_TAG(PT_UNSPECIFIED, 4);
  v[4].ulPropTag = PR_BODY_W;
  v[4].Value.lpszW = (LPWSTR)W_LONE_SURROGATE;
  v[5].ulPropTag = PROP_TAG(PT_LONG, 0);
  v[6].ulPropTag = PROP_TAG(PT_LONG, 0xFFFF);
  v[7].ulPropTag = PR_SUBJECT_A;
  v[7].Value.lpszA = (char *)"applied";
  problems = NULL;
  CHECK_OK(o.msg->lpVtbl->SetProps(o.msg, 8, v, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 5);
  CHECK_EQ(problems->aProblem[0].ulIndex, 2);
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_INVALID_TYPE);
  CHECK_EQ(problems->aProblem[1].ulIndex, 3);
  CHECK_HR(problems->aProblem[1].scode, MAPI_E_INVALID_TYPE);
  CHECK_EQ(problems->aProblem[2].ulIndex, 4);
  CHECK_HR(problems->aProblem[2].scode, MAPI_E_BAD_CHARWIDTH);
  CHECK_EQ(problems->aProblem[3].ulIndex, 5);
  CHECK_HR(problems->aProblem[3].scode, MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(problems->aProblem[4].ulIndex, 6);
  CHECK_HR(problems->aProblem[4].scode, MAPI_E_INVALID_PARAMETER);
  MAPIFreeBuffer(problems);

  /* Computed properties: refused on messages, folders and the store. */
  check_computed_refused((LPMAPIPROP)o.msg, message_computed,
                         sizeof message_computed / sizeof message_computed[0]);
  check_computed_refused((LPMAPIPROP)o.root, folder_computed,
                         sizeof folder_computed / sizeof folder_computed[0]);
  check_computed_refused((LPMAPIPROP)o.mdb, store_computed,
                         sizeof store_computed / sizeof store_computed[0]);

  /* Saved and read back by a new client: exactly the valid values, and the computed ones are
   * the provider's (the entry ID unchanged). */
  CHECK_OK(o.msg->lpVtbl->SaveChanges(o.msg, KEEP_OPEN_READWRITE));
  {
    LPMESSAGE m = msg_open(o.mdb, o.eid, 0);
    char buf[64];
    CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "applied");
    CHECK_OK(msg_get_str(m, PR_COMMENT_A, buf, sizeof buf));
    CHECK_STR(buf, "applied");
    CHECK_HR(msg_get_str(m, PR_BODY_A, buf, sizeof buf), MAPI_W_ERRORS_RETURNED);
    after = msg_get_one((LPMAPIPROP)m, PR_ENTRYID);
    CHECK(spv_equal(before_eid, after));
    MAPIFreeBuffer(after);
    after = msg_get_one((LPMAPIPROP)m, TEST_TAG(PT_PTR, 3));
    CHECK_EQ(PROP_TYPE(after->ulPropTag), PT_ERROR);
    MAPIFreeBuffer(after);
    m->lpVtbl->Release(m);
  }

  /* GetProps asked for odd types: PT_ERROR / MAPI_E_NOT_FOUND entries, never a value. */
  {
    SizedSPropTagArray(4, odd) = {4, {PROP_TAG(PT_OBJECT, 0x0037), PROP_TAG(PT_ERROR, 0x0037),
                                      PR_NULL, PROP_TAG(0x1234, 0x0037)}};
    ULONG n = 0, i;
    LPSPropValue vals = NULL;
    CHECK_HR(o.msg->lpVtbl->GetProps(o.msg, (LPSPropTagArray)&odd, 0, &n, &vals),
             MAPI_W_ERRORS_RETURNED);
    CHECK_EQ(n, 4);
    for (i = 0; i < n; i++) {
      CHECK_EQ(PROP_TYPE(vals[i].ulPropTag), PT_ERROR);
      CHECK_HR(vals[i].Value.err, MAPI_E_NOT_FOUND);
    }
    MAPIFreeBuffer(vals);
  }
  /* OpenProperty needs a real type. */
  {
    LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
    CHECK_HR(o.msg->lpVtbl->OpenProperty(o.msg, PROP_TAG(PT_UNSPECIFIED, 0x1000), &IID_IStream, 0,
                                         0, &unk),
             MAPI_E_INVALID_PARAMETER);
    CHECK(unk == NULL);
  }
  /* Folder names: invalid UTF-16, narrow names that are not UTF-8, empty, a bad folder type. */
  {
    LPMAPIFOLDER f = (LPMAPIFOLDER)GARBAGE_PTR;
    static const WCHAR w_empty[] = {0};
    static const WCHAR w_ok[] = {'o', 'k', 0};
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR)W_LONE_SURROGATE, NULL,
                                          NULL, MAPI_UNICODE, &f),
             MAPI_E_BAD_CHARWIDTH);
    CHECK(f == NULL);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR)w_ok,
                                          (LPTSTR)W_LONE_SURROGATE, NULL, MAPI_UNICODE, &f),
             MAPI_E_BAD_CHARWIDTH);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR) "caf\xE9", NULL, NULL,
                                          0, &f),
             MAPI_E_BAD_CHARWIDTH);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, FOLDER_GENERIC, (LPTSTR)w_empty, NULL, NULL,
                                          MAPI_UNICODE, &f),
             MAPI_E_INVALID_PARAMETER);
    CHECK_HR(o.root->lpVtbl->CreateFolder(o.root, 99, (LPTSTR) "typed", NULL, NULL, 0, &f),
             MAPI_E_INVALID_PARAMETER);
    CHECK(f == NULL);
    {
      LPSPropValue v1 = msg_get_one((LPMAPIPROP)o.root, PR_SUBFOLDERS);
      CHECK_EQ(v1->Value.b, 0); /* none of them was made */
      MAPIFreeBuffer(v1);
    }
  }
  MAPIFreeBuffer(before_eid);
  objects_close(&o);
  printf("  property input on messages, folders and the store: ok\n");
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"null_this_every_slot", test_null_this_every_slot},
    {"null_pointers_imapiprop", test_null_pointers_imapiprop},
    {"null_pointers_store_folder", test_null_pointers_store_folder},
    {"unknown_flags_every_method", test_unknown_flags_every_method},
    {"bad_counts", test_bad_counts},
    {"message_property_input", test_message_property_input},
};

int main(int argc, char **argv) {
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
