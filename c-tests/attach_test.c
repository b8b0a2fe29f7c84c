/* Attachments, recipients and embedded messages (reference §11): CreateAttach / OpenAttach /
 * DeleteAttach with binary data, ModifyRecipients with PR_ROWID, and the transaction rule of
 * §11.3: attachment and recipient changes are stored only by the message's SaveChanges, inside
 * its compare-and-swap, so a conflict loses them exactly like property changes and FORCE_SAVE,
 * the resolver's MERGE and SAVE_ELSEWHERE keep them. An embedded message two levels deep
 * survives a reopen. Bad input gets clear HRESULTs. Recipients are read back through
 * PR_DISPLAY_TO / PR_DISPLAY_CC, which the store computes from them, and through the recipient
 * table; the attachment and recipient tables (GetAttachmentTable, GetRecipientTable) list the
 * message's working copy, its unsaved changes included, on stored and embedded messages. */
#define _XOPEN_SOURCE 700
#include "resolver_util.h"

#include <unistd.h>

#define TAG_A(t) (((ULONG)(t) & 0xFFFF0000u) | PT_STRING8)
#define PR_DISPLAY_TO_A TAG_A(PR_DISPLAY_TO_W)
#define PR_DISPLAY_CC_A TAG_A(PR_DISPLAY_CC_W)

/* Whether attachment `num` of `msg` holds exactly `data` ("" and S_OK-less: absent). */
static int attach_holds(LPMESSAGE msg, ULONG num, const char *data) {
  LPATTACH att = NULL;
  LPSPropValue v;
  int same;
  HRESULT hr = msg->lpVtbl->OpenAttach(msg, num, NULL, 0, &att);
  if (hr == MAPI_E_NOT_FOUND) {
    CHECK(att == NULL);
    return data == NULL;
  }
  CHECK_OK(hr);
  if (data == NULL) {
    att->lpVtbl->Release(att);
    return 0;
  }
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_DATA_BIN);
  same = v->ulPropTag == PR_ATTACH_DATA_BIN && v->Value.bin.cb == strlen(data) &&
         memcmp(v->Value.bin.lpb, data, strlen(data)) == 0;
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_NUM);
  CHECK_EQ(v->Value.l, num);
  MAPIFreeBuffer(v);
  att->lpVtbl->Release(att);
  return same;
}

/* A one-entry ADRLIST, allocated as MAPI says (each rgPropVals its own block). `rowid` < 0:
 * no PR_ROWID; `name` NULL: no PR_DISPLAY_NAME. Free it with FreePadrlist. */
static LPADRLIST adrlist1(LONG rowid, const char *name, LONG type) {
  LPADRLIST list = NULL;
  LPSPropValue v = NULL;
  ULONG n = 0;
  CHECK_OK(MAPIAllocateBuffer(8 + 16, (void **)&list));
  CHECK_OK(MAPIAllocateBuffer(3 * sizeof(SPropValue), (void **)&v));
  memset(v, 0, 3 * sizeof(SPropValue));
  if (name != NULL) {
    v[n].ulPropTag = PR_DISPLAY_NAME_A;
    v[n++].Value.lpszA = (char *)name;
    v[n].ulPropTag = PR_RECIPIENT_TYPE;
    v[n++].Value.l = type;
  }
  if (rowid >= 0) {
    v[n].ulPropTag = PR_ROWID;
    v[n++].Value.l = rowid;
  }
  list->cEntries = 1;
  list->aEntries[0].ulReserved1 = 0;
  list->aEntries[0].cValues = n;
  list->aEntries[0].rgPropVals = v;
  return list;
}

static HRESULT modify(LPMESSAGE msg, ULONG flags, LONG rowid, const char *name, LONG type) {
  LPADRLIST list = adrlist1(rowid, name, type);
  HRESULT hr = msg->lpVtbl->ModifyRecipients(msg, flags, list);
  FreePadrlist(list);
  return hr;
}

static void check_str(LPMESSAGE msg, ULONG tag, const char *want) {
  char buf[256];
  CHECK_OK(msg_get_str(msg, tag, buf, sizeof buf));
  CHECK_STR(buf, want);
}

static void check_hasattach(LPMESSAGE msg, int want) {
  LPSPropValue v = msg_get_one((LPMAPIPROP)msg, PR_HASATTACH);
  CHECK_EQ(v->ulPropTag, PR_HASATTACH);
  CHECK_EQ(!!v->Value.b, want);
  MAPIFreeBuffer(v);
}

static LONG message_size(LPMESSAGE msg) {
  LONG size = 0;
  CHECK_OK(msg_get_long(msg, PR_MESSAGE_SIZE, &size));
  return size;
}

static void test_attachments(void) {
  struct msg_fixture f;
  LPMESSAGE m, r;
  LPATTACH att = NULL;
  LPUNKNOWN unk = NULL;
  LPSPropValue v;
  ULONG a0, a1, unsaved = GARBAGE_ULONG;
  LONG size_before;
  msg_fixture_setup(&f, "attachments.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  size_before = message_size(m);
  check_hasattach(m, 0);
  a0 = attach_add(m, "first attachment");
  a1 = attach_add(m, "second");
  CHECK(a0 != a1);
  check_hasattach(m, 1);
  /* A new attachment starts with PR_ATTACH_METHOD NO_ATTACHMENT and its number in
   * PR_ATTACH_NUM; it joins the message only at its own SaveChanges. */
  CHECK_OK(m->lpVtbl->CreateAttach(m, &IID_IAttachment, 0, &unsaved, &att));
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_METHOD);
  CHECK_EQ(v->Value.l, NO_ATTACHMENT);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)att, PR_OBJECT_TYPE);
  CHECK_EQ(v->Value.l, MAPI_ATTACH);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_SIZE);
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_LONG);
  CHECK(v->Value.l > 0);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)f.mdb, PR_STORE_SUPPORT_MASK);
  CHECK(v->Value.l & STORE_ATTACH_OK);
  MAPIFreeBuffer(v);
  CHECK_OK(att->lpVtbl->QueryInterface(att, &IID_IAttachment, (void **)&unk));
  CHECK((void *)unk == (void *)att);
  unk->lpVtbl->Release(unk);
  att->lpVtbl->Release(att);
  CHECK(attach_holds(m, unsaved, NULL));
  /* Nothing is in the store before the message's SaveChanges. */
  r = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(r, a0, NULL));
  check_hasattach(r, 0);
  r->lpVtbl->Release(r);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  r = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(r, a0, "first attachment"));
  CHECK(attach_holds(r, a1, "second"));
  check_hasattach(r, 1);
  CHECK(message_size(r) > size_before + (LONG)strlen("first attachment"));
  r->lpVtbl->Release(r);
  /* Changing one attachment and deleting another: stored by the next save only. */
  CHECK_OK(m->lpVtbl->OpenAttach(m, a1, NULL, MAPI_MODIFY, &att));
  {
    SPropValue d;
    memset(&d, 0, sizeof d);
    d.ulPropTag = PR_ATTACH_DATA_BIN;
    d.Value.bin.cb = 7;
    d.Value.bin.lpb = (LPBYTE) "changed";
    CHECK_OK(att->lpVtbl->SetProps(att, 1, &d, NULL));
    CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  }
  att->lpVtbl->Release(att);
  CHECK_OK(m->lpVtbl->DeleteAttach(m, a0, 0, NULL, 0));
  CHECK(attach_holds(m, a0, NULL));
  r = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(r, a0, "first attachment"));
  r->lpVtbl->Release(r);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  r = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(r, a0, NULL));
  CHECK(attach_holds(r, a1, "changed"));
  r->lpVtbl->Release(r);
  /* Deleting the message deletes its attachments with it. */
  {
    SBinaryArray list;
    list.cValues = 1;
    list.lpbin = &f.eid->Value.bin;
    CHECK_OK(f.root->lpVtbl->DeleteMessages(f.root, &list, 0, NULL, 0));
  }
  msg_fixture_teardown(&f);
}

static void test_recipients(void) {
  struct msg_fixture f;
  LPMESSAGE m, r;
  msg_fixture_setup(&f, "recipients.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  check_str(m, PR_DISPLAY_TO_A, "");
  /* MODRECIP_ADD: the store numbers the rows 0, 1, 2 (a PR_ROWID given is replaced). */
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Ann", MAPI_TO));
  CHECK_OK(modify(m, MODRECIP_ADD, 77, "Bob", MAPI_CC));
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Cy", MAPI_TO));
  check_str(m, PR_DISPLAY_TO_A, "Ann; Cy");
  check_str(m, PR_DISPLAY_CC_A, "Bob");
  r = msg_open(f.mdb, f.eid, 0);
  check_str(r, PR_DISPLAY_TO_A, "");
  r->lpVtbl->Release(r);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  r = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  check_str(r, PR_DISPLAY_TO_A, "Ann; Cy");
  check_str(r, PR_DISPLAY_CC_A, "Bob");
  /* The row IDs survive the reopen: 77 was never given, 1 was (Bob). */
  CHECK_HR(modify(r, MODRECIP_REMOVE, 77, NULL, 0), MAPI_E_NOT_FOUND);
  CHECK_OK(modify(r, MODRECIP_REMOVE, 1, NULL, 0));
  check_str(r, PR_DISPLAY_CC_A, "");
  r->lpVtbl->Release(r); /* unsaved: nothing changes */
  /* MODRECIP_MODIFY replaces row 0's whole property set; MODRECIP_REMOVE removes row 2. */
  CHECK_OK(modify(m, MODRECIP_MODIFY, 0, "Ann Modified", MAPI_CC));
  CHECK_OK(modify(m, MODRECIP_REMOVE, 2, NULL, 0));
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  r = msg_open(f.mdb, f.eid, 0);
  check_str(r, PR_DISPLAY_TO_A, "");
  check_str(r, PR_DISPLAY_CC_A, "Ann Modified; Bob");
  r->lpVtbl->Release(r);
  /* Flags 0 replace the whole list. */
  CHECK_OK(modify(m, 0, -1, "Dee", MAPI_TO));
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  r = msg_open(f.mdb, f.eid, 0);
  check_str(r, PR_DISPLAY_TO_A, "Dee");
  check_str(r, PR_DISPLAY_CC_A, "");
  r->lpVtbl->Release(r);
  msg_fixture_teardown(&f);
}

/* Two clients: "theirs" adds an attachment and saves; "mine" adds another attachment and a
 * recipient and saves stale. */
static void conflict(struct msg_fixture *f, const char *name, LPMESSAGE *mine) {
  LPMESSAGE theirs;
  msg_fixture_setup(f, name);
  theirs = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  *mine = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  CHECK_EQ(attach_add(theirs, "theirs"), 0);
  CHECK_OK(theirs->lpVtbl->SaveChanges(theirs, 0));
  theirs->lpVtbl->Release(theirs);
  CHECK_EQ(attach_add(*mine, "mine"), 0);
  CHECK_OK(modify(*mine, MODRECIP_ADD, -1, "Mine", MAPI_TO));
}

static void test_conflict_loses_children_force_keeps(void) {
  struct msg_fixture f;
  LPMESSAGE mine, before, after;
  conflict(&f, "conflict.db", &mine);
  before = msg_open(f.mdb, f.eid, 0);
  CHECK_HR(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  /* Nothing written: the stored message is byte for byte what it was. */
  after = msg_open(f.mdb, f.eid, 0);
  CHECK(props_equal((LPMAPIPROP)before, (LPMAPIPROP)after));
  CHECK(attach_holds(after, 0, "theirs"));
  CHECK(attach_holds(after, 1, NULL));
  check_str(after, PR_DISPLAY_TO_A, "");
  after->lpVtbl->Release(after);
  before->lpVtbl->Release(before);
  /* The loser keeps its children; FORCE_SAVE stores them (and only them). */
  CHECK(attach_holds(mine, 0, "mine"));
  check_str(mine, PR_DISPLAY_TO_A, "Mine");
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, FORCE_SAVE | KEEP_OPEN_READWRITE));
  after = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(after, 0, "mine"));
  CHECK(attach_holds(after, 1, NULL));
  check_str(after, PR_DISPLAY_TO_A, "Mine");
  after->lpVtbl->Release(after);
  mine->lpVtbl->Release(mine);
  msg_fixture_teardown(&f);
}

static void test_resolver_merge_keeps_children(void) {
  struct msg_fixture f;
  LPMESSAGE mine, after;
  TestResolver r;
  conflict(&f, "merge.db", &mine);
  resolver_init(&r, MSGSTORE_RESOLVE_MERGE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 1);
  CHECK(tags_have(r.their, r.n_their, PR_MESSAGE_ATTACHMENTS));
  CHECK(tags_have(r.mine, r.n_mine, PR_MESSAGE_ATTACHMENTS));
  CHECK(tags_have(r.mine, r.n_mine, PR_MESSAGE_RECIPIENTS));
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, NULL));
  /* Both attachments: theirs kept at 0, mine (which also took 0) renumbered to 1. */
  after = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(after, 0, "theirs"));
  CHECK(attach_holds(after, 1, "mine"));
  check_str(after, PR_DISPLAY_TO_A, "Mine");
  after->lpVtbl->Release(after);
  /* The saving object is the merged version now. */
  CHECK(attach_holds(mine, 1, "mine"));
  mine->lpVtbl->Release(mine);
  CHECK_EQ(r.refs, 1);
  msg_fixture_teardown(&f);
}

static void test_resolver_save_elsewhere_keeps_children(void) {
  struct msg_fixture f;
  LPMESSAGE mine, after, copy;
  LPSPropValue copy_eid;
  TestResolver r;
  conflict(&f, "elsewhere.db", &mine);
  resolver_init(&r, MSGSTORE_RESOLVE_SAVE_ELSEWHERE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE));
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, NULL));
  /* The original is untouched; the copy holds this client's attachment and recipient. */
  after = msg_open(f.mdb, f.eid, 0);
  CHECK(attach_holds(after, 0, "theirs"));
  check_str(after, PR_DISPLAY_TO_A, "");
  after->lpVtbl->Release(after);
  copy_eid = msg_get_one((LPMAPIPROP)mine, PR_ENTRYID);
  CHECK(memcmp(copy_eid->Value.bin.lpb, f.eid->Value.bin.lpb, f.eid->Value.bin.cb) != 0);
  copy = msg_open(f.mdb, copy_eid, 0);
  CHECK(attach_holds(copy, 0, "mine"));
  CHECK(attach_holds(copy, 1, NULL));
  check_str(copy, PR_DISPLAY_TO_A, "Mine");
  copy->lpVtbl->Release(copy);
  MAPIFreeBuffer(copy_eid);
  mine->lpVtbl->Release(mine);
  msg_fixture_teardown(&f);
}

/* Opens the message embedded in attachment `num` of `msg` (created with MAPI_CREATE). */
static LPMESSAGE embedded(LPATTACH att, ULONG flags) {
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_OK(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, flags, &unk));
  CHECK(unk != NULL);
  return (LPMESSAGE)unk;
}

/* Adds an attachment to `parent` holding an embedded message with subject `subject` and a
 * recipient `to`; `fill` (may be NULL) adds more to the embedded message before it is saved. */
static void add_embedded(LPMESSAGE parent, const char *subject, const char *to,
                         void (*fill)(LPMESSAGE)) {
  ULONG num = 0;
  LPATTACH att = NULL;
  LPMESSAGE e;
  CHECK_OK(parent->lpVtbl->CreateAttach(parent, NULL, 0, &num, &att));
  {
    SPropValue v;
    memset(&v, 0, sizeof v);
    v.ulPropTag = PR_ATTACH_METHOD;
    v.Value.l = ATTACH_EMBEDDED_MSG;
    CHECK_OK(att->lpVtbl->SetProps(att, 1, &v, NULL));
  }
  e = embedded(att, MAPI_CREATE | MAPI_MODIFY);
  msg_set_str(e, PR_SUBJECT_A, subject);
  CHECK_OK(modify(e, MODRECIP_ADD, -1, to, MAPI_TO));
  if (fill) fill(e);
  CHECK_OK(e->lpVtbl->SaveChanges(e, 0));
  e->lpVtbl->Release(e);
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
}

static void fill_level2(LPMESSAGE e) {
  add_embedded(e, "level 2", "To Two", NULL);
  CHECK_EQ(attach_add(e, "level 2 sibling"), 1);
}

static void fill_level1(LPMESSAGE e) { add_embedded(e, "level 1", "To One", fill_level2); }

/* The attachments and embedded messages opened on the way down a tree, released deepest first. */
struct path {
  LPMESSAGE top;
  LPATTACH att[3];
  LPMESSAGE msg[3];
  int n;
};

/* The message one level further down (attachment 0's embedded message of the deepest one so
 * far, read-only), checked for its subject and recipient. */
static LPMESSAGE down(struct path *p, const char *subject, const char *to) {
  LPMESSAGE parent = p->n == 0 ? p->top : p->msg[p->n - 1];
  LPATTACH att = NULL;
  LPMESSAGE e;
  LPSPropValue v;
  CHECK_OK(parent->lpVtbl->OpenAttach(parent, 0, NULL, 0, &att));
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_METHOD);
  CHECK_EQ(v->Value.l, ATTACH_EMBEDDED_MSG);
  MAPIFreeBuffer(v);
  e = embedded(att, 0);
  check_str(e, PR_SUBJECT_A, subject);
  check_str(e, PR_DISPLAY_TO_A, to);
  v = msg_get_one((LPMAPIPROP)e, PR_OBJECT_TYPE);
  CHECK_EQ(v->Value.l, MAPI_MESSAGE);
  MAPIFreeBuffer(v);
  p->att[p->n] = att;
  p->msg[p->n++] = e;
  return e;
}

static void path_release(struct path *p) {
  while (p->n > 0) {
    p->n--;
    p->msg[p->n]->lpVtbl->Release(p->msg[p->n]);
    p->att[p->n]->lpVtbl->Release(p->att[p->n]);
  }
  p->top->lpVtbl->Release(p->top);
}

/* Reopens the stored message and checks the whole tree, `level1` the subject at level 1. */
static void check_tree(struct msg_fixture *f, const char *level1) {
  struct path p;
  LPMESSAGE e2;
  memset(&p, 0, sizeof p);
  p.top = msg_open(f->mdb, f->eid, 0);
  check_hasattach(p.top, 1);
  check_hasattach(down(&p, "level 0", "To Zero"), 1);
  CHECK(attach_holds(down(&p, level1, "To One"), 1, "level 2 sibling"));
  e2 = down(&p, "level 2", "To Two");
  check_hasattach(e2, 0);
  /* Read-only all the way down. */
  CHECK_HR(e2->lpVtbl->SaveChanges(e2, 0), MAPI_E_NO_ACCESS);
  {
    SPropValue v;
    memset(&v, 0, sizeof v);
    v.ulPropTag = PR_ATTACH_METHOD;
    v.Value.l = ATTACH_BY_VALUE;
    CHECK_HR(p.att[2]->lpVtbl->SetProps(p.att[2], 1, &v, NULL), MAPI_E_NO_ACCESS);
    CHECK_HR(p.att[2]->lpVtbl->SaveChanges(p.att[2], 0), MAPI_E_NO_ACCESS);
  }
  path_release(&p);
}

static void test_embedded_two_levels(void) {
  struct msg_fixture f;
  LPMESSAGE m, e0, e1;
  LPATTACH a0, a1;
  msg_fixture_setup(&f, "embedded.db");
  /* m ⊃ attachment 0 ⊃ "level 0" ⊃ attachment 0 ⊃ "level 1" ⊃ attachment 0 ⊃ "level 2". */
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  add_embedded(m, "level 0", "To Zero", fill_level1);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  check_tree(&f, "level 1");
  /* A change two levels down reaches the store through every SaveChanges, and only then. */
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  CHECK_OK(m->lpVtbl->OpenAttach(m, 0, NULL, MAPI_MODIFY, &a0));
  e0 = embedded(a0, MAPI_MODIFY);
  CHECK_OK(e0->lpVtbl->OpenAttach(e0, 0, NULL, MAPI_MODIFY, &a1));
  e1 = embedded(a1, MAPI_MODIFY);
  msg_set_str(e1, PR_SUBJECT_A, "level 1 changed");
  CHECK_OK(e1->lpVtbl->SaveChanges(e1, 0));
  CHECK_OK(a1->lpVtbl->SaveChanges(a1, 0));
  CHECK_OK(e0->lpVtbl->SaveChanges(e0, 0));
  CHECK_OK(a0->lpVtbl->SaveChanges(a0, 0));
  e1->lpVtbl->Release(e1);
  a1->lpVtbl->Release(a1);
  e0->lpVtbl->Release(e0);
  a0->lpVtbl->Release(a0);
  check_tree(&f, "level 1");
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  check_tree(&f, "level 1 changed");
  msg_fixture_teardown(&f);
}

static void test_bad_input(void) {
  struct msg_fixture f;
  LPMESSAGE m, ro;
  LPATTACH att = (LPATTACH)GARBAGE_PTR;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  ULONG num = GARBAGE_ULONG;
  msg_fixture_setup(&f, "bad.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  /* Attachment numbers that never existed. */
  CHECK_HR(m->lpVtbl->OpenAttach(m, 5, NULL, 0, &att), MAPI_E_NOT_FOUND);
  CHECK(att == NULL);
  CHECK_HR(m->lpVtbl->DeleteAttach(m, 5, 0, NULL, 0), MAPI_E_NOT_FOUND);
  /* Unknown flags, NULL out-parameters, unknown interfaces. */
  CHECK_HR(m->lpVtbl->CreateAttach(m, NULL, 0x100, &num, &att), MAPI_E_UNKNOWN_FLAGS);
  CHECK(att == NULL && num == 0);
  CHECK_HR(m->lpVtbl->CreateAttach(m, NULL, 0, NULL, &att), MAPI_E_INVALID_PARAMETER);
  num = GARBAGE_ULONG;
  CHECK_HR(m->lpVtbl->CreateAttach(m, NULL, 0, &num, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(num, 0);
  CHECK_HR(m->lpVtbl->CreateAttach(m, &IID_IMAPITable, 0, &num, &att),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK(att == NULL);
  CHECK_HR(m->lpVtbl->OpenAttach(m, 0, &IID_IMsgStore, 0, &att), MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK(att == NULL);
  CHECK_HR(m->lpVtbl->OpenAttach(m, 0, NULL, 0x100, &att), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(m->lpVtbl->OpenAttach(m, 0, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(m->lpVtbl->DeleteAttach(m, 0, 0, NULL, 0x2), MAPI_E_UNKNOWN_FLAGS);
  /* ModifyRecipients: NULL list, flag 0x1, two operations at once, PR_ROWID missing or
   * unknown, a PT_NULL value. Each fails whole, changing nothing. */
  CHECK_HR(m->lpVtbl->ModifyRecipients(m, MODRECIP_ADD, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(modify(m, 0x1, -1, "x", MAPI_TO), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(modify(m, MODRECIP_ADD | MODRECIP_REMOVE, 0, "x", MAPI_TO), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(modify(m, MODRECIP_MODIFY, -1, "x", MAPI_TO), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(modify(m, MODRECIP_REMOVE, 3, NULL, 0), MAPI_E_NOT_FOUND);
  {
    LPADRLIST list = adrlist1(-1, "x", MAPI_TO);
    list->aEntries[0].rgPropVals[1].ulPropTag = PROP_TAG(PT_NULL, 0x6700);
    CHECK_HR(m->lpVtbl->ModifyRecipients(m, MODRECIP_ADD, list), MAPI_E_INVALID_PARAMETER);
    /* A count with a NULL array. */
    list->aEntries[0].cValues = 2;
    MAPIFreeBuffer(list->aEntries[0].rgPropVals);
    list->aEntries[0].rgPropVals = NULL;
    CHECK_HR(m->lpVtbl->ModifyRecipients(m, MODRECIP_ADD, list), MAPI_E_INVALID_PARAMETER);
    FreePadrlist(list);
  }
  check_str(m, PR_DISPLAY_TO_A, "");
  /* A null recipient (cValues 0, rgPropVals NULL) is taken. */
  {
    LPADRLIST list = adrlist1(-1, NULL, 0);
    MAPIFreeBuffer(list->aEntries[0].rgPropVals);
    list->aEntries[0].rgPropVals = NULL;
    CHECK_OK(m->lpVtbl->ModifyRecipients(m, MODRECIP_ADD, list));
    FreePadrlist(list);
  }
  /* OpenProperty on an attachment: no embedded message yet, another interface, another tag. */
  CHECK_OK(m->lpVtbl->CreateAttach(m, NULL, 0, &num, &att));
  CHECK_HR(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, &unk),
           MAPI_E_NOT_FOUND);
  CHECK(unk == NULL);
  CHECK_HR(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMAPITable, 0, MAPI_CREATE,
                                     &unk),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_HR(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, &unk),
           MAPI_E_NOT_FOUND);
  /* NULL This in IAttach's slots. */
  CHECK_HR(att->lpVtbl->SaveChanges(NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(att->lpVtbl->AddRef(NULL), 0);
  /* PR_ATTACH_NUM is the store's; PR_HASATTACH and PR_DISPLAY_TO are the message's. */
  {
    SPropValue v[2];
    LPSPropProblemArray problems = NULL;
    memset(v, 0, sizeof v);
    v[0].ulPropTag = PR_HASATTACH;
    v[0].Value.b = 1;
    v[1].ulPropTag = PR_DISPLAY_TO_A;
    v[1].Value.lpszA = (char *)"x";
    CHECK_OK(m->lpVtbl->SetProps(m, 2, v, &problems));
    CHECK(problems != NULL && problems->cProblem == 2);
    CHECK_HR(problems->aProblem[0].scode, MAPI_E_COMPUTED);
    CHECK_HR(problems->aProblem[1].scode, MAPI_E_COMPUTED);
    MAPIFreeBuffer(problems);
  }
  {
    SPropValue v;
    LPSPropProblemArray problems = NULL;
    memset(&v, 0, sizeof v);
    v.ulPropTag = PR_ATTACH_NUM;
    v.Value.l = 9;
    CHECK_OK(att->lpVtbl->SetProps(att, 1, &v, &problems));
    CHECK(problems != NULL && problems->cProblem == 1);
    CHECK_HR(problems->aProblem[0].scode, MAPI_E_COMPUTED);
    MAPIFreeBuffer(problems);
  }
  /* A released parent: the attachment's changes have nowhere to go. */
  m->lpVtbl->Release(m);
  CHECK_HR(att->lpVtbl->SaveChanges(att, 0), MAPI_E_INVALID_OBJECT);
  att->lpVtbl->Release(att);
  /* A deleted attachment cannot be saved back; a read-only message hands out nothing
   * writable. */
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  num = attach_add(m, "x");
  CHECK_OK(m->lpVtbl->OpenAttach(m, num, NULL, MAPI_MODIFY, &att));
  CHECK_OK(m->lpVtbl->DeleteAttach(m, num, 0, NULL, 0));
  CHECK_HR(att->lpVtbl->SaveChanges(att, 0), MAPI_E_OBJECT_DELETED);
  att->lpVtbl->Release(att);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  ro = msg_open(f.mdb, f.eid, 0);
  CHECK_HR(ro->lpVtbl->CreateAttach(ro, NULL, 0, &num, &att), MAPI_E_NO_ACCESS);
  CHECK_HR(modify(ro, MODRECIP_ADD, -1, "x", MAPI_TO), MAPI_E_NO_ACCESS);
  ro->lpVtbl->Release(ro);
  msg_fixture_teardown(&f);
}

/* ---- Attachment and recipient tables (GetAttachmentTable, GetRecipientTable) -------------- */

#define PR_ATTACH_LONG_FILENAME_A TAG_A(PR_ATTACH_LONG_FILENAME_W)
#define MAX_ROWS 16

static LPMAPITABLE attach_table(LPMESSAGE m, ULONG flags) {
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_OK(m->lpVtbl->GetAttachmentTable(m, flags, &t));
  CHECK(t != NULL && (void *)t != GARBAGE_PTR);
  return t;
}

static LPMAPITABLE recipient_table(LPMESSAGE m, ULONG flags) {
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_OK(m->lpVtbl->GetRecipientTable(m, flags, &t));
  CHECK(t != NULL && (void *)t != GARBAGE_PTR);
  return t;
}

/* Every row of `t` (under its restriction and sort) with the one column `tag`. */
static LPSRowSet all_rows(LPMAPITABLE t, ULONG tag) {
  LPSRowSet rows = NULL;
  LPSPropTagArray cols = tag_array(1, tag);
  ULONG i;
  CHECK_OK(HrQueryAllRows(t, cols, NULL, NULL, 0, &rows));
  MAPIFreeBuffer(cols);
  CHECK(rows != NULL && rows->cRows <= MAX_ROWS);
  for (i = 0; i < rows->cRows; i++) {
    CHECK_EQ(rows->aRow[i].cValues, 1);
    CHECK_EQ(rows->aRow[i].lpProps[0].ulPropTag, tag);
  }
  return rows;
}

/* The table's rows are `n` rows whose PT_LONG column `tag` holds the values that follow. */
static void check_longs(LPMAPITABLE t, ULONG tag, ULONG n, ...) {
  LPSRowSet rows = all_rows(t, tag);
  va_list ap;
  ULONG i;
  CHECK_EQ(rows->cRows, n);
  va_start(ap, n);
  for (i = 0; i < n; i++) CHECK_EQ(rows->aRow[i].lpProps[0].Value.l, va_arg(ap, LONG));
  va_end(ap);
  FreeProws(rows);
}

/* As check_longs for a PT_STRING8 column, or a PT_UNICODE one holding ASCII. */
static void check_names(LPMAPITABLE t, ULONG tag, ULONG n, ...) {
  LPSRowSet rows = all_rows(t, tag);
  va_list ap;
  ULONG i;
  CHECK_EQ(rows->cRows, n);
  va_start(ap, n);
  for (i = 0; i < n; i++) {
    const char *want = va_arg(ap, const char *);
    const SPropValue *v = &rows->aRow[i].lpProps[0];
    if (PROP_TYPE(tag) == PT_UNICODE) {
      size_t k;
      for (k = 0; want[k]; k++) CHECK_EQ(v->Value.lpszW[k], (WCHAR)want[k]);
      CHECK_EQ(v->Value.lpszW[k], 0);
    } else {
      CHECK_STR(v->Value.lpszA, want);
    }
  }
  va_end(ap);
  FreeProws(rows);
}

/* The binary column `tag` of every row, concatenated into `out` (of `size` bytes). */
static ULONG binaries(LPMAPITABLE t, ULONG tag, BYTE *out, ULONG size) {
  LPSRowSet rows = all_rows(t, tag);
  ULONG i, len = 0;
  for (i = 0; i < rows->cRows; i++) {
    const SBinary *b = &rows->aRow[i].lpProps[0].Value.bin;
    CHECK(b->cb > 0 && len + b->cb <= size);
    memcpy(out + len, b->lpb, b->cb);
    len += b->cb;
  }
  FreeProws(rows);
  return len;
}

/* The table has one row, whose PR_ATTACH_DATA_BIN is `data`. */
static void check_data(LPMAPITABLE t, const char *data) {
  BYTE buf[64];
  CHECK_EQ(binaries(t, PR_ATTACH_DATA_BIN, buf, sizeof buf), strlen(data));
  CHECK(memcmp(buf, data, strlen(data)) == 0);
}

static void sort1(LPMAPITABLE t, ULONG tag, ULONG order) {
  SSortOrderSet s;
  memset(&s, 0, sizeof s);
  s.cSorts = 1;
  s.aSort[0].ulPropTag = tag;
  s.aSort[0].ulOrder = order;
  CHECK_OK(t->lpVtbl->SortTable(t, &s, 0));
}

static void set_rendering_position(LPMESSAGE m, ULONG num, LONG pos) {
  LPATTACH att = NULL;
  SPropValue v = pv_long(PR_RENDERING_POSITION, pos);
  CHECK_OK(m->lpVtbl->OpenAttach(m, num, NULL, MAPI_MODIFY, &att));
  CHECK_OK(att->lpVtbl->SetProps(att, 1, &v, NULL));
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
}

/* The attachment table lists the message's working copy: attachments saved into it (not one
 * only created), in PR_RENDERING_POSITION order then PR_ATTACH_NUM; an open table sees later
 * changes at its next call; sort and restrict; keys across save and reopen. */
static void test_attachment_table(void) {
  struct msg_fixture f;
  LPMESSAGE m, r;
  LPMAPITABLE t, wide, rt;
  LPATTACH att = NULL;
  LPSPropTagArray cols = NULL;
  ULONG count = GARBAGE_ULONG, status = GARBAGE_ULONG, type = GARBAGE_ULONG, num = 0;
  BYTE inst[128], inst2[128], rec[128], rec2[128];
  ULONG ni, nr;
  msg_fixture_setup(&f, "attachment_table.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  t = attach_table(m, 0);
  CHECK_OK(t->lpVtbl->GetStatus(t, &status, &type));
  CHECK_EQ(type, TBLTYPE_DYNAMIC);
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 0);
  /* The default columns: MAPI's four required ones first; strings in the asked width. */
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  CHECK(cols->cValues >= 5);
  CHECK_EQ(cols->aulPropTag[0], PR_ATTACH_NUM);
  CHECK_EQ(cols->aulPropTag[1], PR_INSTANCE_KEY);
  CHECK_EQ(cols->aulPropTag[2], PR_RECORD_KEY);
  CHECK_EQ(cols->aulPropTag[3], PR_RENDERING_POSITION);
  CHECK(tags_have(cols->aulPropTag, cols->cValues, PR_ATTACH_LONG_FILENAME_A));
  MAPIFreeBuffer(cols);
  wide = attach_table(m, MAPI_UNICODE | MAPI_DEFERRED_ERRORS);
  CHECK_OK(wide->lpVtbl->QueryColumns(wide, 0, &cols));
  CHECK(tags_have(cols->aulPropTag, cols->cValues, PR_ATTACH_LONG_FILENAME_W));
  MAPIFreeBuffer(cols);
  wide->lpVtbl->Release(wide);
  CHECK_EQ(attach_add(m, "a"), 0);
  CHECK_EQ(attach_add(m, "bbb"), 1);
  CHECK_EQ(attach_add(m, "cc"), 2);
  CHECK_OK(m->lpVtbl->CreateAttach(m, NULL, 0, &num, &att)); /* not saved into m: not listed */
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 3);
  check_longs(t, PR_ATTACH_NUM, 3, 0, 1, 2);
  /* The same table through OpenProperty(PR_MESSAGE_ATTACHMENTS, IID_IMAPITable). */
  {
    LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
    CHECK_OK(m->lpVtbl->OpenProperty(m, PR_MESSAGE_ATTACHMENTS, &IID_IMAPITable, 0, 0, &unk));
    check_longs((LPMAPITABLE)unk, PR_ATTACH_NUM, 3, 0, 1, 2);
    unk->lpVtbl->Release(unk);
  }
  set_rendering_position(m, 0, 7);
  check_longs(t, PR_ATTACH_NUM, 3, 1, 2, 0);
  check_longs(t, PR_RENDERING_POSITION, 3, -1, -1, 7);
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  check_longs(t, PR_ATTACH_NUM, 4, 1, 2, 3, 0);
  /* Sort (PR_ATTACH_SIZE grows with the data) and restrict (RES_SIZE on the data). */
  sort1(t, PR_ATTACH_SIZE, TABLE_SORT_DESCEND);
  check_longs(t, PR_ATTACH_NUM, 4, 1, 2, 0, 3);
  {
    SRestriction res;
    memset(&res, 0, sizeof res);
    res.rt = RES_SIZE;
    res.res.resSize.relop = RELOP_GT;
    res.res.resSize.ulPropTag = PR_ATTACH_DATA_BIN;
    res.res.resSize.cb = 1;
    CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  }
  check_longs(t, PR_ATTACH_NUM, 2, 1, 2);
  /* A deletion reaches the open view; so does an undone restriction. */
  CHECK_OK(m->lpVtbl->DeleteAttach(m, 1, 0, NULL, 0));
  check_longs(t, PR_ATTACH_NUM, 1, 2);
  CHECK_OK(t->lpVtbl->Restrict(t, NULL, 0));
  check_longs(t, PR_ATTACH_NUM, 3, 2, 0, 3);
  /* Nobody else sees the unsaved attachments. */
  r = msg_open(f.mdb, f.eid, 0);
  rt = attach_table(r, 0);
  CHECK_OK(rt->lpVtbl->GetRowCount(rt, 0, &count));
  CHECK_EQ(count, 0);
  rt->lpVtbl->Release(rt);
  r->lpVtbl->Release(r);
  /* After the save: the same instance keys; record keys that a reopen shows again. */
  sort1(t, PR_ATTACH_NUM, TABLE_SORT_ASCEND);
  ni = binaries(t, PR_INSTANCE_KEY, inst, sizeof inst);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  CHECK_EQ(binaries(t, PR_INSTANCE_KEY, inst2, sizeof inst2), ni);
  CHECK(memcmp(inst, inst2, ni) == 0);
  nr = binaries(t, PR_RECORD_KEY, rec, sizeof rec);
  r = msg_open(f.mdb, f.eid, 0);
  rt = attach_table(r, 0);
  sort1(rt, PR_ATTACH_NUM, TABLE_SORT_ASCEND);
  check_longs(rt, PR_ATTACH_NUM, 3, 0, 2, 3);
  CHECK_EQ(binaries(rt, PR_RECORD_KEY, rec2, sizeof rec2), nr);
  CHECK(memcmp(rec, rec2, nr) == 0);
  rt->lpVtbl->Release(rt);
  r->lpVtbl->Release(r);
  /* The table keeps the message's working copy alive after the message is released. */
  m->lpVtbl->Release(m);
  check_longs(t, PR_ATTACH_NUM, 3, 0, 2, 3);
  t->lpVtbl->Release(t);
  msg_fixture_teardown(&f);
}

static SRestriction prop_eq(SPropValue *v) {
  SRestriction res;
  memset(&res, 0, sizeof res);
  res.rt = RES_PROPERTY;
  res.res.resProperty.relop = RELOP_EQ;
  res.res.resProperty.ulPropTag = v->ulPropTag;
  res.res.resProperty.lpProp = v;
  return res;
}

/* The recipient table: PR_ROWID order, unsaved ModifyRecipients included, restrict and sort,
 * FindRow on PR_INSTANCE_KEY, both string widths. */
static void test_recipient_table(void) {
  struct msg_fixture f;
  LPMESSAGE m, r;
  LPMAPITABLE t, narrow, rt;
  LPSPropTagArray cols = NULL;
  ULONG count = GARBAGE_ULONG;
  msg_fixture_setup(&f, "recipient_table.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  t = recipient_table(m, MAPI_UNICODE);
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Ann", MAPI_TO));
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Bob", MAPI_CC));
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Cy", MAPI_TO));
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  CHECK(cols->cValues >= 4);
  CHECK_EQ(cols->aulPropTag[0], PR_ROWID);
  CHECK_EQ(cols->aulPropTag[1], PR_DISPLAY_NAME_W);
  CHECK_EQ(cols->aulPropTag[2], PR_RECIPIENT_TYPE);
  CHECK(tags_have(cols->aulPropTag, cols->cValues, PR_INSTANCE_KEY));
  MAPIFreeBuffer(cols);
  check_longs(t, PR_ROWID, 3, 0, 1, 2);
  check_names(t, PR_DISPLAY_NAME_W, 3, "Ann", "Bob", "Cy");
  {
    LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
    CHECK_OK(m->lpVtbl->OpenProperty(m, PR_MESSAGE_RECIPIENTS, &IID_IMAPITable, 0,
                                     MAPI_DEFERRED_ERRORS, &unk));
    check_names((LPMAPITABLE)unk, PR_DISPLAY_NAME_A, 3, "Ann", "Bob", "Cy");
    unk->lpVtbl->Release(unk);
  }
  narrow = recipient_table(m, 0);
  check_names(narrow, PR_DISPLAY_NAME_A, 3, "Ann", "Bob", "Cy");
  /* Restricted to MAPI_TO and sorted by name, descending. */
  {
    SPropValue to = pv_long(PR_RECIPIENT_TYPE, MAPI_TO);
    SRestriction res = prop_eq(&to);
    CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  }
  sort1(t, PR_DISPLAY_NAME_W, TABLE_SORT_DESCEND);
  check_names(t, PR_DISPLAY_NAME_W, 2, "Cy", "Ann");
  /* Changes after the table was opened: Cy removed, Ann made CC, Dee added as TO. */
  CHECK_OK(modify(m, MODRECIP_REMOVE, 2, NULL, 0));
  CHECK_OK(modify(m, MODRECIP_MODIFY, 0, "Ann", MAPI_CC));
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Dee", MAPI_TO));
  check_names(t, PR_DISPLAY_NAME_W, 1, "Dee");
  check_longs(narrow, PR_ROWID, 3, 0, 1, 3);
  /* FindRow by PR_INSTANCE_KEY (which every table must support): Bob's row. */
  {
    LPSRowSet rows = all_rows(narrow, PR_INSTANCE_KEY);
    SPropValue key = rows->aRow[1].lpProps[0];
    SRestriction res = prop_eq(&key);
    LPSRowSet found = NULL;
    LPSPropTagArray name = tag_array(1, PR_DISPLAY_NAME_A);
    CHECK_OK(narrow->lpVtbl->SetColumns(narrow, name, 0));
    CHECK_OK(narrow->lpVtbl->SeekRow(narrow, BOOKMARK_BEGINNING, 0, NULL));
    CHECK_OK(narrow->lpVtbl->FindRow(narrow, &res, BOOKMARK_BEGINNING, 0));
    CHECK_OK(narrow->lpVtbl->QueryRows(narrow, 1, 0, &found));
    CHECK_EQ(found->cRows, 1);
    CHECK_STR(found->aRow[0].lpProps[0].Value.lpszA, "Bob");
    FreeProws(found);
    MAPIFreeBuffer(name);
    FreeProws(rows);
  }
  /* Another client sees the recipients only after the save; a reopen keeps the row IDs. */
  r = msg_open(f.mdb, f.eid, 0);
  rt = recipient_table(r, 0);
  CHECK_OK(rt->lpVtbl->GetRowCount(rt, 0, &count));
  CHECK_EQ(count, 0);
  rt->lpVtbl->Release(rt);
  r->lpVtbl->Release(r);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  check_names(t, PR_DISPLAY_NAME_W, 1, "Dee");
  r = msg_open(f.mdb, f.eid, 0);
  rt = recipient_table(r, 0);
  check_longs(rt, PR_ROWID, 3, 0, 1, 3);
  check_names(rt, PR_DISPLAY_NAME_A, 3, "Ann", "Bob", "Dee");
  rt->lpVtbl->Release(rt);
  r->lpVtbl->Release(r);
  narrow->lpVtbl->Release(narrow);
  t->lpVtbl->Release(t);
  m->lpVtbl->Release(m);
  msg_fixture_teardown(&f);
}

/* A save that lost a conflict stores nothing, and the loser's object keeps its changes
 * (GetProps, OpenAttach and a FORCE_SAVE still see them): its tables, which show that object's
 * working copy, keep showing them too, as its other methods do. The winner's version is what a
 * reopen shows; after FORCE_SAVE the loser's version is stored and every table agrees. */
static void test_tables_after_a_lost_conflict(void) {
  struct msg_fixture f;
  LPMESSAGE mine, r;
  LPMAPITABLE at, rt, rat, rrt;
  conflict(&f, "conflict_tables.db", &mine);
  at = attach_table(mine, 0);
  rt = recipient_table(mine, 0);
  CHECK_HR(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  check_longs(at, PR_ATTACH_NUM, 1, 0);
  check_data(at, "mine");
  check_names(rt, PR_DISPLAY_NAME_A, 1, "Mine");
  r = msg_open(f.mdb, f.eid, 0);
  rat = attach_table(r, 0);
  rrt = recipient_table(r, 0);
  check_data(rat, "theirs");
  check_names(rrt, PR_DISPLAY_NAME_A, 0);
  rat->lpVtbl->Release(rat);
  rrt->lpVtbl->Release(rrt);
  r->lpVtbl->Release(r);
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, FORCE_SAVE | KEEP_OPEN_READWRITE));
  check_names(rt, PR_DISPLAY_NAME_A, 1, "Mine");
  r = msg_open(f.mdb, f.eid, 0);
  rrt = recipient_table(r, 0);
  check_names(rrt, PR_DISPLAY_NAME_A, 1, "Mine");
  rrt->lpVtbl->Release(rrt);
  r->lpVtbl->Release(r);
  at->lpVtbl->Release(at);
  rt->lpVtbl->Release(rt);
  mine->lpVtbl->Release(mine);
  msg_fixture_teardown(&f);
}

/* Embedded messages have their own tables, stored or being edited. */
static void test_embedded_tables(void) {
  struct msg_fixture f;
  struct path p;
  LPMESSAGE m, e1;
  LPMAPITABLE t;
  msg_fixture_setup(&f, "embedded_tables.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  add_embedded(m, "level 0", "To Zero", fill_level1);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  memset(&p, 0, sizeof p);
  p.top = msg_open(f.mdb, f.eid, 0);
  t = recipient_table(down(&p, "level 0", "To Zero"), 0);
  check_names(t, PR_DISPLAY_NAME_A, 1, "To Zero");
  t->lpVtbl->Release(t);
  e1 = down(&p, "level 1", "To One");
  t = attach_table(e1, 0);
  check_longs(t, PR_ATTACH_NUM, 2, 0, 1);
  check_longs(t, PR_ATTACH_METHOD, 2, ATTACH_EMBEDDED_MSG, ATTACH_BY_VALUE);
  t->lpVtbl->Release(t);
  t = recipient_table(down(&p, "level 2", "To Two"), MAPI_UNICODE);
  check_names(t, PR_DISPLAY_NAME_W, 1, "To Two");
  t->lpVtbl->Release(t);
  path_release(&p);
  /* Being edited: the embedded message's table shows its unsaved recipients. */
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  {
    LPATTACH a0 = NULL;
    LPMESSAGE e0;
    CHECK_OK(m->lpVtbl->OpenAttach(m, 0, NULL, MAPI_MODIFY, &a0));
    e0 = embedded(a0, MAPI_MODIFY);
    t = recipient_table(e0, 0);
    CHECK_OK(modify(e0, MODRECIP_ADD, -1, "Added", MAPI_CC));
    check_names(t, PR_DISPLAY_NAME_A, 2, "To Zero", "Added");
    t->lpVtbl->Release(t);
    e0->lpVtbl->Release(e0);
    a0->lpVtbl->Release(a0);
  }
  m->lpVtbl->Release(m);
  msg_fixture_teardown(&f);
}

static void test_table_bad_input(void) {
  struct msg_fixture f;
  LPMESSAGE m, ro;
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  msg_fixture_setup(&f, "table_bad.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  /* Unknown flags (MAPI_MODIFY is not one of them): refused, *lppTable NULL. */
  CHECK_HR(m->lpVtbl->GetAttachmentTable(m, MAPI_MODIFY, &t), MAPI_E_UNKNOWN_FLAGS);
  CHECK(t == NULL);
  t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_HR(m->lpVtbl->GetRecipientTable(m, 0x100, &t), MAPI_E_UNKNOWN_FLAGS);
  CHECK(t == NULL);
  CHECK_HR(m->lpVtbl->GetAttachmentTable(m, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(m->lpVtbl->GetRecipientTable(m, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(m->lpVtbl->GetRecipientTable(NULL, 0, &t), MAPI_E_INVALID_PARAMETER);
  {
    LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
    CHECK_HR(m->lpVtbl->OpenProperty(m, PR_MESSAGE_RECIPIENTS, &IID_IMessage, 0, 0, &unk),
             MAPI_E_INTERFACE_NOT_SUPPORTED);
    CHECK(unk == NULL);
  }
  /* RES_SUBRESTRICTION on a recipient or attachment table: its rows are not messages. */
  CHECK_OK(modify(m, MODRECIP_ADD, -1, "Ann", MAPI_TO));
  t = recipient_table(m, 0);
  {
    SPropValue to = pv_long(PR_RECIPIENT_TYPE, MAPI_TO);
    SRestriction inner = prop_eq(&to), sub;
    memset(&sub, 0, sizeof sub);
    sub.rt = RES_SUBRESTRICTION;
    sub.res.resSub.ulSubObject = PR_MESSAGE_RECIPIENTS;
    sub.res.resSub.lpRes = &inner;
    CHECK_HR(t->lpVtbl->Restrict(t, &sub, 0), MAPI_E_TOO_COMPLEX);
    CHECK_HR(t->lpVtbl->FindRow(t, &sub, BOOKMARK_BEGINNING, 0), MAPI_E_TOO_COMPLEX);
  }
  check_names(t, PR_DISPLAY_NAME_A, 1, "Ann"); /* the failed Restrict left the view as it was */
  t->lpVtbl->Release(t);
  m->lpVtbl->Release(m);
  /* A read-only message has tables too. */
  ro = msg_open(f.mdb, f.eid, 0);
  t = attach_table(ro, 0);
  check_longs(t, PR_ATTACH_NUM, 0);
  t->lpVtbl->Release(t);
  ro->lpVtbl->Release(ro);
  msg_fixture_teardown(&f);
}

static const struct test_section SECTIONS[] = {
    {"attachments", test_attachments},
    {"recipients", test_recipients},
    {"conflict_loses_children_force_keeps", test_conflict_loses_children_force_keeps},
    {"resolver_merge_keeps_children", test_resolver_merge_keeps_children},
    {"resolver_save_elsewhere_keeps_children", test_resolver_save_elsewhere_keeps_children},
    {"embedded_two_levels", test_embedded_two_levels},
    {"bad_input", test_bad_input},
    {"attachment_table", test_attachment_table},
    {"recipient_table", test_recipient_table},
    {"tables_after_a_lost_conflict", test_tables_after_a_lost_conflict},
    {"embedded_tables", test_embedded_tables},
    {"table_bad_input", test_table_bad_input},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
