/* Copying and moving (issue 15 item 3) through the vtables: IMAPIProp::CopyTo / CopyProps
 * between messages (their attachments and recipients included unless PR_MESSAGE_ATTACHMENTS /
 * PR_MESSAGE_RECIPIENTS are excluded), between folders and between attachments;
 * IMAPIFolder::CopyMessages (copies get new entry IDs and change keys, keep PR_SEARCH_KEY and
 * their children; MESSAGE_MOVE keeps entry IDs and is no new version of the message, so the
 * save rules hold for clients that had it open); IMAPIFolder::CopyFolder (COPY_SUBFOLDERS,
 * FOLDER_MOVE, a new name, MAPI_E_FOLDER_CYCLE, MAPI_E_COLLISION); and bad input. */
#define _XOPEN_SOURCE 700
#include "store_util.h"

#include <unistd.h>

#define TAG_A(t) (((ULONG)(t) & 0xFFFF0000u) | PT_STRING8)
#define PR_DISPLAY_TO_A TAG_A(PR_DISPLAY_TO_W)
#define PR_DISPLAY_NAME_A_ TAG_A(PR_DISPLAY_NAME_W)

struct fixture {
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPMAPIFOLDER a;
  LPMAPIFOLDER b;
};

static LPMAPIFOLDER subfolder(LPMAPIFOLDER parent, const char *name) {
  LPMAPIFOLDER f = NULL;
  CHECK_OK(parent->lpVtbl->CreateFolder(parent, FOLDER_GENERIC, (LPTSTR)name, NULL, NULL, 0, &f));
  return f;
}

static void setup(struct fixture *f, const char *name) {
  f->mdb = store_fresh(name);
  f->root = store_root(f->mdb);
  f->a = subfolder(f->root, "a");
  f->b = subfolder(f->root, "b");
}

static void teardown(struct fixture *f) {
  f->a->lpVtbl->Release(f->a);
  f->b->lpVtbl->Release(f->b);
  f->root->lpVtbl->Release(f->root);
  f->mdb->lpVtbl->Release(f->mdb);
}

/* Whether attachment `num` of `msg` holds exactly `data`. */
static int attach_holds(LPMESSAGE msg, ULONG num, const char *data) {
  LPATTACH att = NULL;
  LPSPropValue v;
  int same;
  if (msg->lpVtbl->OpenAttach(msg, num, NULL, 0, &att) != S_OK) return 0;
  v = msg_get_one((LPMAPIPROP)att, PR_ATTACH_DATA_BIN);
  same = v->ulPropTag == PR_ATTACH_DATA_BIN && v->Value.bin.cb == strlen(data) &&
         memcmp(v->Value.bin.lpb, data, strlen(data)) == 0;
  MAPIFreeBuffer(v);
  att->lpVtbl->Release(att);
  return same;
}

static ULONG row_count(LPMAPITABLE t) {
  ULONG n = GARBAGE_ULONG;
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &n));
  t->lpVtbl->Release(t);
  return n;
}

static ULONG attachment_count(LPMESSAGE msg) {
  LPMAPITABLE t = NULL;
  CHECK_OK(msg->lpVtbl->GetAttachmentTable(msg, 0, &t));
  return row_count(t);
}

static ULONG recipient_count(LPMESSAGE msg) {
  LPMAPITABLE t = NULL;
  CHECK_OK(msg->lpVtbl->GetRecipientTable(msg, 0, &t));
  return row_count(t);
}

static void add_recipient(LPMESSAGE msg, const char *name) {
  LPADRLIST list = NULL;
  LPSPropValue v = NULL;
  CHECK_OK(MAPIAllocateBuffer(8 + 16, (void **)&list));
  CHECK_OK(MAPIAllocateBuffer(2 * sizeof(SPropValue), (void **)&v));
  memset(v, 0, 2 * sizeof(SPropValue));
  v[0].ulPropTag = PR_DISPLAY_NAME_A_;
  v[0].Value.lpszA = (char *)name;
  v[1].ulPropTag = PR_RECIPIENT_TYPE;
  v[1].Value.l = MAPI_TO;
  list->cEntries = 1;
  list->aEntries[0].ulReserved1 = 0;
  list->aEntries[0].cValues = 2;
  list->aEntries[0].rgPropVals = v;
  CHECK_OK(msg->lpVtbl->ModifyRecipients(msg, MODRECIP_ADD, list));
  FreePadrlist(list);
}

static void check_str(LPMESSAGE msg, ULONG tag, const char *want) {
  char buf[256];
  CHECK_OK(msg_get_str(msg, tag, buf, sizeof buf));
  CHECK_STR(buf, want);
}

/* A saved message in `folder`: subject, search key, two attachments, one recipient. Returns
 * its PR_ENTRYID (MAPIFreeBuffer it). */
static LPSPropValue rich_message(LPMAPIFOLDER folder, const char *subject) {
  LPMESSAGE msg = NULL;
  LPSPropValue eid;
  SPropValue key;
  static BYTE search_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  CHECK_OK(folder->lpVtbl->CreateMessage(folder, NULL, 0, &msg));
  msg_set_str(msg, PR_SUBJECT_A, subject);
  memset(&key, 0, sizeof key);
  key.ulPropTag = PR_SEARCH_KEY;
  key.Value.bin.cb = sizeof search_key;
  key.Value.bin.lpb = search_key;
  CHECK_OK(msg->lpVtbl->SetProps(msg, 1, &key, NULL));
  attach_add(msg, "first");
  attach_add(msg, "second");
  add_recipient(msg, "Ann");
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)msg, PR_ENTRYID);
  msg->lpVtbl->Release(msg);
  return eid;
}

/* Whether `msg` is a rich_message(subject) with its children. */
static void check_rich(LPMESSAGE msg, const char *subject) {
  check_str(msg, PR_SUBJECT_A, subject);
  CHECK_EQ(attachment_count(msg), 2);
  CHECK(attach_holds(msg, 0, "first"));
  CHECK(attach_holds(msg, 1, "second"));
  CHECK_EQ(recipient_count(msg), 1);
  check_str(msg, PR_DISPLAY_TO_A, "Ann");
}

static int bin_equal(LPSPropValue a, LPSPropValue b) {
  return a->ulPropTag == b->ulPropTag && a->Value.bin.cb == b->Value.bin.cb &&
         memcmp(a->Value.bin.lpb, b->Value.bin.lpb, a->Value.bin.cb) == 0;
}

static LONG content_count(LPMAPIFOLDER f) {
  LPSPropValue v = msg_get_one((LPMAPIPROP)f, PR_CONTENT_COUNT);
  LONG n = v->Value.l;
  CHECK_EQ(v->ulPropTag, PR_CONTENT_COUNT);
  MAPIFreeBuffer(v);
  return n;
}

static HRESULT copy_messages(LPMAPIFOLDER from, LPSPropValue *eids, ULONG n, LPMAPIFOLDER to,
                             ULONG flags) {
  SBinary bins[8];
  ENTRYLIST list;
  ULONG i;
  for (i = 0; i < n; i++) bins[i] = eids[i]->Value.bin;
  list.cValues = n;
  list.lpbin = bins;
  return from->lpVtbl->CopyMessages(from, &list, NULL, to, 0, NULL, flags);
}

/* PR_PARENT_ENTRYID of `obj` names `folder`. */
static void check_parent(LPMAPIPROP obj, LPMAPIFOLDER folder) {
  LPSPropValue parent = msg_get_one(obj, PR_PARENT_ENTRYID);
  LPSPropValue want = msg_get_one((LPMAPIPROP)folder, PR_ENTRYID);
  CHECK_EQ(parent->Value.bin.cb, want->Value.bin.cb);
  CHECK(memcmp(parent->Value.bin.lpb, want->Value.bin.lpb, want->Value.bin.cb) == 0);
  MAPIFreeBuffer(parent);
  MAPIFreeBuffer(want);
}

/* CopyTo of a message with attachments and recipients into a new message, SaveChanges, reopen;
 * the exclusions; CopyProps naming the children; MAPI_MOVE and MAPI_NOREPLACE. */
static void test_copy_to_messages(void) {
  struct fixture f;
  LPSPropValue src_eid, dest_eid;
  LPMESSAGE src, dest, reopened;
  SizedSPropTagArray(1, no_attach) = {1, {PR_MESSAGE_ATTACHMENTS}};
  SizedSPropTagArray(2, subject_and_recips) = {2, {PR_SUBJECT_A, PR_MESSAGE_RECIPIENTS}};
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  setup(&f, "copy_to.db");
  src_eid = rich_message(f.a, "original");
  src = msg_open(f.mdb, src_eid, MAPI_MODIFY);

  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  CHECK_OK(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, &IID_IMessage, dest, 0, &problems));
  CHECK(problems == NULL || problems->cProblem == 0);
  MAPIFreeBuffer(problems);
  /* Copied into the working copy: visible before the save, stored by it. */
  check_rich(dest, "original");
  CHECK_OK(dest->lpVtbl->SaveChanges(dest, KEEP_OPEN_READONLY));
  dest_eid = msg_get_one((LPMAPIPROP)dest, PR_ENTRYID);
  CHECK(!bin_equal(dest_eid, src_eid));
  dest->lpVtbl->Release(dest);
  reopened = msg_open(f.mdb, dest_eid, 0);
  check_rich(reopened, "original");
  reopened->lpVtbl->Release(reopened);
  MAPIFreeBuffer(dest_eid);

  /* PR_MESSAGE_ATTACHMENTS excluded: recipients only. */
  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  CHECK_OK(src->lpVtbl->CopyTo(src, 0, NULL, (LPSPropTagArray)&no_attach, 0, NULL, NULL, dest, 0,
                               NULL));
  CHECK_EQ(attachment_count(dest), 0);
  CHECK_EQ(recipient_count(dest), 1);
  dest->lpVtbl->Release(dest);

  /* CopyProps of the subject and the recipients; MAPI_NOREPLACE keeps the destination's. */
  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  msg_set_str(dest, PR_SUBJECT_A, "mine");
  add_recipient(dest, "Bob");
  CHECK_OK(src->lpVtbl->CopyProps(src, (LPSPropTagArray)&subject_and_recips, 0, NULL, NULL, dest,
                                  MAPI_NOREPLACE, NULL));
  check_str(dest, PR_SUBJECT_A, "mine");
  check_str(dest, PR_DISPLAY_TO_A, "Bob");
  CHECK_EQ(attachment_count(dest), 0);
  /* Without it, replaced; with MAPI_MOVE, gone from the source's working copy. */
  CHECK_OK(src->lpVtbl->CopyProps(src, (LPSPropTagArray)&subject_and_recips, 0, NULL, NULL, dest,
                                  MAPI_MOVE, NULL));
  check_str(dest, PR_SUBJECT_A, "original");
  check_str(dest, PR_DISPLAY_TO_A, "Ann");
  CHECK_EQ(recipient_count(src), 0);
  CHECK_EQ(attachment_count(src), 2);
  CHECK_HR(msg_get_str(src, PR_SUBJECT_A, (char[8]){0}, 8), MAPI_W_ERRORS_RETURNED);
  dest->lpVtbl->Release(dest);

  /* Onto itself: refused. */
  CHECK_HR(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, NULL, src, 0, NULL), MAPI_E_NO_ACCESS);
  src->lpVtbl->Release(src);
  MAPIFreeBuffer(src_eid);
  teardown(&f);
}

/* CopyTo between folders (their properties) and from an attachment to another. */
static void test_copy_to_folders_and_attachments(void) {
  struct fixture f;
  SPropValue comment;
  LPSPropValue v, eid;
  LPMESSAGE msg;
  LPATTACH from = NULL, to = NULL;
  ULONG num = 0;
  setup(&f, "copy_to_folders.db");
  memset(&comment, 0, sizeof comment);
  comment.ulPropTag = PR_COMMENT_A;
  comment.Value.lpszA = (char *)"about a";
  CHECK_OK(f.a->lpVtbl->SetProps(f.a, 1, &comment, NULL));
  CHECK_OK(f.a->lpVtbl->CopyTo(f.a, 0, NULL, NULL, 0, NULL, &IID_IMAPIFolder, f.b, 0, NULL));
  v = msg_get_one((LPMAPIPROP)f.b, PR_COMMENT_A);
  CHECK_STR(v->Value.lpszA, "about a");
  MAPIFreeBuffer(v);
  /* Folders are not transacted: stored at once, and its identity is its own. */
  v = msg_get_one((LPMAPIPROP)f.b, PR_DISPLAY_NAME_A_);
  CHECK_STR(v->Value.lpszA, "a");
  MAPIFreeBuffer(v);

  eid = rich_message(f.a, "with attachments");
  msg = msg_open(f.mdb, eid, MAPI_MODIFY);
  CHECK_OK(msg->lpVtbl->OpenAttach(msg, 0, NULL, 0, &from));
  CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &to));
  CHECK_EQ(num, 2);
  CHECK_OK(from->lpVtbl->CopyTo(from, 0, NULL, NULL, 0, NULL, &IID_IAttachment, to, 0, NULL));
  CHECK_OK(to->lpVtbl->SaveChanges(to, 0));
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  msg->lpVtbl->Release(msg);
  from->lpVtbl->Release(from);
  to->lpVtbl->Release(to);
  msg = msg_open(f.mdb, eid, 0);
  CHECK_EQ(attachment_count(msg), 3);
  CHECK(attach_holds(msg, 2, "first"));
  msg->lpVtbl->Release(msg);
  MAPIFreeBuffer(eid);
  teardown(&f);
}

static LPMESSAGE open_embedded(LPATTACH att, ULONG flags) {
  LPUNKNOWN unk = NULL;
  CHECK_OK(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, flags, &unk));
  return (LPMESSAGE)unk;
}

/* CopyTo from an attachment holding an embedded message (with its own attachment and
 * recipient) to a new attachment: the embedded message comes along unless PR_ATTACH_DATA_OBJ is
 * excluded; stored by the message's SaveChanges. */
static void test_copy_to_embedded(void) {
  struct fixture f;
  LPSPropValue eid;
  LPMESSAGE msg, inner;
  LPATTACH from = NULL, to = NULL, bare = NULL;
  LPUNKNOWN unk = NULL;
  ULONG num = 0;
  SizedSPropTagArray(1, no_obj) = {1, {PR_ATTACH_DATA_OBJ}};
  setup(&f, "copy_embedded.db");
  eid = msg_create(f.a, "outer");
  msg = msg_open(f.mdb, eid, MAPI_MODIFY);
  CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &from));
  msg_set_long((LPMESSAGE)from, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG);
  inner = open_embedded(from, MAPI_CREATE | MAPI_MODIFY);
  msg_set_str(inner, PR_SUBJECT_A, "inner");
  attach_add(inner, "deep");
  add_recipient(inner, "Cy");
  CHECK_OK(inner->lpVtbl->SaveChanges(inner, 0));
  inner->lpVtbl->Release(inner);
  CHECK_OK(from->lpVtbl->SaveChanges(from, KEEP_OPEN_READWRITE));

  CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &to));
  CHECK_OK(from->lpVtbl->CopyTo(from, 0, NULL, NULL, 0, NULL, NULL, to, 0, NULL));
  CHECK_OK(to->lpVtbl->SaveChanges(to, 0));
  CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &bare));
  CHECK_OK(from->lpVtbl->CopyTo(from, 0, NULL, (LPSPropTagArray)&no_obj, 0, NULL, NULL, bare, 0,
                                NULL));
  CHECK_OK(bare->lpVtbl->SaveChanges(bare, 0));
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  from->lpVtbl->Release(from);
  to->lpVtbl->Release(to);
  bare->lpVtbl->Release(bare);
  msg->lpVtbl->Release(msg);

  msg = msg_open(f.mdb, eid, 0);
  CHECK_EQ(attachment_count(msg), 3);
  CHECK_OK(msg->lpVtbl->OpenAttach(msg, 1, NULL, 0, &to));
  inner = open_embedded(to, 0);
  check_str(inner, PR_SUBJECT_A, "inner");
  CHECK(attach_holds(inner, 0, "deep"));
  check_str(inner, PR_DISPLAY_TO_A, "Cy");
  inner->lpVtbl->Release(inner);
  to->lpVtbl->Release(to);
  CHECK_OK(msg->lpVtbl->OpenAttach(msg, 2, NULL, 0, &bare));
  CHECK_HR(bare->lpVtbl->OpenProperty(bare, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, &unk),
           MAPI_E_NOT_FOUND);
  bare->lpVtbl->Release(bare);
  msg->lpVtbl->Release(msg);
  MAPIFreeBuffer(eid);
  teardown(&f);
}

/* CopyMessages: new entry IDs and change keys, same properties, children and search key. */
static void test_copy_messages(void) {
  struct fixture f;
  LPSPropValue eid, copy_eid, key, copy_key, ck, copy_ck;
  LPMESSAGE orig, copy;
  LPMAPITABLE contents = NULL;
  LPSRowSet rows = NULL;
  SizedSPropTagArray(1, cols) = {1, {PR_ENTRYID}};
  setup(&f, "copy_messages.db");
  eid = rich_message(f.a, "copied");
  CHECK_OK(copy_messages(f.a, &eid, 1, f.b, 0));
  CHECK_EQ(content_count(f.a), 1);
  CHECK_EQ(content_count(f.b), 1);
  CHECK_OK(f.b->lpVtbl->GetContentsTable(f.b, 0, &contents));
  CHECK_OK(contents->lpVtbl->SetColumns(contents, (LPSPropTagArray)&cols, 0));
  CHECK_OK(contents->lpVtbl->QueryRows(contents, 10, 0, &rows));
  CHECK_EQ(rows->cRows, 1);
  copy_eid = &rows->aRow[0].lpProps[0];
  CHECK(!bin_equal(copy_eid, eid));
  orig = msg_open(f.mdb, eid, 0);
  copy = msg_open(f.mdb, copy_eid, 0);
  check_rich(copy, "copied");
  check_parent((LPMAPIPROP)copy, f.b);
  key = msg_get_one((LPMAPIPROP)orig, PR_SEARCH_KEY);
  copy_key = msg_get_one((LPMAPIPROP)copy, PR_SEARCH_KEY);
  CHECK(bin_equal(key, copy_key));
  ck = msg_get_one((LPMAPIPROP)orig, PR_CHANGE_KEY);
  copy_ck = msg_get_one((LPMAPIPROP)copy, PR_CHANGE_KEY);
  CHECK_EQ(copy_ck->ulPropTag, PR_CHANGE_KEY);
  CHECK(!bin_equal(ck, copy_ck));
  MAPIFreeBuffer(key);
  MAPIFreeBuffer(copy_key);
  MAPIFreeBuffer(ck);
  MAPIFreeBuffer(copy_ck);
  orig->lpVtbl->Release(orig);
  copy->lpVtbl->Release(copy);
  FreeProws(rows);
  contents->lpVtbl->Release(contents);
  MAPIFreeBuffer(eid);
  teardown(&f);
}

/* MESSAGE_MOVE: entry IDs stable, properties and children kept; an entry not in the folder is
 * skipped with MAPI_W_PARTIAL_COMPLETION. */
static void test_move_messages(void) {
  struct fixture f;
  LPSPropValue eids[2], ck_before, ck_after;
  LPMESSAGE msg;
  setup(&f, "move_messages.db");
  eids[0] = rich_message(f.a, "moved");
  eids[1] = msg_create(f.a, "also moved");
  msg = msg_open(f.mdb, eids[0], 0);
  ck_before = msg_get_one((LPMAPIPROP)msg, PR_CHANGE_KEY);
  msg->lpVtbl->Release(msg);
  CHECK_OK(copy_messages(f.a, eids, 1, f.b, MESSAGE_MOVE));
  CHECK_EQ(content_count(f.a), 1);
  CHECK_EQ(content_count(f.b), 1);
  msg = msg_open(f.mdb, eids[0], 0);
  check_rich(msg, "moved");
  check_parent((LPMAPIPROP)msg, f.b);
  ck_after = msg_get_one((LPMAPIPROP)msg, PR_CHANGE_KEY);
  CHECK(bin_equal(ck_before, ck_after));
  msg->lpVtbl->Release(msg);
  CHECK_HR(copy_messages(f.a, eids, 2, f.b, MESSAGE_MOVE), MAPI_W_PARTIAL_COMPLETION);
  CHECK_EQ(content_count(f.a), 0);
  CHECK_EQ(content_count(f.b), 2);
  MAPIFreeBuffer(ck_before);
  MAPIFreeBuffer(ck_after);
  MAPIFreeBuffer(eids[0]);
  MAPIFreeBuffer(eids[1]);
  teardown(&f);
}

/* Two clients have a message open when it is moved: the first save wins (and lands in the new
 * folder), the second gets MAPI_E_OBJECT_CHANGED. */
static void test_moved_message_save_rules(void) {
  struct fixture f;
  LPSPropValue eid;
  LPMESSAGE one, two, check;
  setup(&f, "move_save_rules.db");
  eid = msg_create(f.a, "before");
  one = msg_open(f.mdb, eid, MAPI_MODIFY);
  two = msg_open(f.mdb, eid, MAPI_MODIFY);
  CHECK_OK(copy_messages(f.a, &eid, 1, f.b, MESSAGE_MOVE));
  msg_set_str(one, PR_SUBJECT_A, "first");
  msg_set_str(two, PR_SUBJECT_A, "second");
  CHECK_OK(one->lpVtbl->SaveChanges(one, KEEP_OPEN_READWRITE));
  CHECK_HR(two->lpVtbl->SaveChanges(two, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(content_count(f.a), 0);
  CHECK_EQ(content_count(f.b), 1);
  check = msg_open(f.mdb, eid, 0);
  check_str(check, PR_SUBJECT_A, "first");
  check_parent((LPMAPIPROP)check, f.b);
  check->lpVtbl->Release(check);
  one->lpVtbl->Release(one);
  two->lpVtbl->Release(two);
  MAPIFreeBuffer(eid);
  teardown(&f);
}

static LPMAPIFOLDER open_folder(LPMDB mdb, LPSPropValue eid) {
  return (LPMAPIFOLDER)entry_open(mdb, eid, MAPI_MODIFY, MAPI_FOLDER);
}

static HRESULT copy_folder(LPMAPIFOLDER parent, LPSPropValue eid, LPMAPIFOLDER dest,
                           const void *name, ULONG flags) {
  return parent->lpVtbl->CopyFolder(parent, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb,
                                    &IID_IMAPIFolder, dest, (LPTSTR)name, 0, NULL, flags);
}

/* CopyFolder with COPY_SUBFOLDERS under a new (Unicode) name; FOLDER_MOVE keeps every ID, and
 * the moved folder's messages open by their old entry IDs; cycles and collisions refused. */
static void test_copy_folder(void) {
  struct fixture f;
  LPMAPIFOLDER sub, sub_moved, copy;
  LPSPropValue a_eid, sub_eid, msg_eid, deep_eid;
  LPMESSAGE msg;
  static const WCHAR copy_name[] = {'c', 'o', 'p', 'y', 0};
  setup(&f, "copy_folder.db");
  sub = subfolder(f.a, "sub");
  msg_eid = rich_message(f.a, "in a");
  deep_eid = msg_create(sub, "in sub");
  a_eid = msg_get_one((LPMAPIPROP)f.a, PR_ENTRYID);
  sub_eid = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);

  /* Into itself or its own subtree. */
  CHECK_HR(copy_folder(f.root, a_eid, f.a, NULL, FOLDER_MOVE), MAPI_E_FOLDER_CYCLE);
  CHECK_HR(copy_folder(f.root, a_eid, sub, NULL, FOLDER_MOVE), MAPI_E_FOLDER_CYCLE);
  CHECK_HR(copy_folder(f.root, a_eid, sub, NULL, COPY_SUBFOLDERS), MAPI_E_FOLDER_CYCLE);
  /* Beside itself under its own name; under b where "a" is free. */
  CHECK_HR(copy_folder(f.root, a_eid, f.root, NULL, 0), MAPI_E_COLLISION);
  CHECK_OK(copy_folder(f.root, a_eid, f.b, copy_name, COPY_SUBFOLDERS | MAPI_UNICODE));
  {
    LPMAPITABLE t = NULL;
    LPSRowSet rows = NULL;
    SizedSPropTagArray(2, cols) = {2, {PR_ENTRYID, PR_DISPLAY_NAME_A_}};
    CHECK_OK(f.b->lpVtbl->GetHierarchyTable(f.b, 0, &t));
    CHECK_OK(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&cols, 0));
    CHECK_OK(t->lpVtbl->QueryRows(t, 10, 0, &rows));
    CHECK_EQ(rows->cRows, 1);
    CHECK_STR(rows->aRow[0].lpProps[1].Value.lpszA, "copy");
    CHECK(!bin_equal(&rows->aRow[0].lpProps[0], a_eid));
    copy = open_folder(f.mdb, &rows->aRow[0].lpProps[0]);
    CHECK_EQ(content_count(copy), 1);
    FreeProws(rows);
    t->lpVtbl->Release(t);
    CHECK_OK(copy->lpVtbl->GetHierarchyTable(copy, 0, &t));
    CHECK_EQ(row_count(t), 1);
    copy->lpVtbl->Release(copy);
  }
  CHECK_EQ(content_count(f.a), 1);

  /* Move a under b: its ID, its messages' and its subfolder's stay. */
  CHECK_OK(copy_folder(f.root, a_eid, f.b, NULL, FOLDER_MOVE));
  check_parent((LPMAPIPROP)f.a, f.b);
  msg = msg_open(f.mdb, msg_eid, 0);
  check_rich(msg, "in a");
  check_parent((LPMAPIPROP)msg, f.a);
  msg->lpVtbl->Release(msg);
  msg = msg_open(f.mdb, deep_eid, 0);
  check_str(msg, PR_SUBJECT_A, "in sub");
  msg->lpVtbl->Release(msg);
  sub_moved = open_folder(f.mdb, sub_eid);
  check_parent((LPMAPIPROP)sub_moved, f.a);
  sub_moved->lpVtbl->Release(sub_moved);
  /* No longer a subfolder of the root. */
  CHECK_HR(copy_folder(f.root, a_eid, f.b, NULL, FOLDER_MOVE), MAPI_E_NOT_FOUND);

  sub->lpVtbl->Release(sub);
  MAPIFreeBuffer(a_eid);
  MAPIFreeBuffer(sub_eid);
  MAPIFreeBuffer(msg_eid);
  MAPIFreeBuffer(deep_eid);
  teardown(&f);
}

/* Bad input: NULL lists and destinations, wrong interfaces, malformed and foreign entry IDs,
 * unknown flags (docs/BAD_INPUT.md rows 176-190). */
static void test_bad_input(void) {
  struct fixture f, other;
  LPSPropValue eid, foreign, a_eid;
  ENTRYLIST list;
  SBinary bad;
  BYTE junk[5] = {1, 2, 3, 4, 5};
  setup(&f, "copy_bad.db");
  setup(&other, "copy_bad_other.db");
  eid = msg_create(f.a, "x");
  foreign = msg_create(other.a, "y");
  a_eid = msg_get_one((LPMAPIPROP)f.a, PR_ENTRYID);

  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, NULL, NULL, f.b, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
  list.cValues = 1;
  list.lpbin = &eid->Value.bin;
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, NULL, 0, NULL, 0),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, &IID_IMessage, f.b, 0, NULL, 0),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.b, 0, NULL, 0x100), MAPI_E_UNKNOWN_FLAGS);
  /* A destination of another store. */
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, other.b, 0, NULL, 0), MAPI_E_NO_SUPPORT);
  /* Malformed, and another store's: nothing is done. */
  bad.cb = sizeof junk;
  bad.lpb = junk;
  list.lpbin = &bad;
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.b, 0, NULL, 0), MAPI_E_INVALID_ENTRYID);
  list.lpbin = &foreign->Value.bin;
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.b, 0, NULL, MESSAGE_MOVE),
           MAPI_E_UNKNOWN_ENTRYID);
  /* A count with a NULL array. */
  list.lpbin = NULL;
  CHECK_HR(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.b, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(content_count(f.a), 1);
  CHECK_EQ(content_count(f.b), 0);
  /* The source folder as the destination: a move changes nothing, a copy makes a second. */
  list.lpbin = &eid->Value.bin;
  CHECK_OK(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.a, 0, NULL, MESSAGE_MOVE));
  CHECK_EQ(content_count(f.a), 1);
  CHECK_OK(f.a->lpVtbl->CopyMessages(f.a, &list, NULL, f.a, 0, NULL, 0));
  CHECK_EQ(content_count(f.a), 2);

  CHECK_HR(f.root->lpVtbl->CopyFolder(f.root, 0, NULL, NULL, f.b, NULL, 0, NULL, 0),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(copy_folder(f.root, a_eid, NULL, NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(copy_folder(f.root, a_eid, f.b, NULL, 0x100), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(copy_folder(f.root, eid, f.b, NULL, 0), MAPI_E_INVALID_ENTRYID);
  CHECK_HR(copy_folder(f.root, a_eid, f.b, "", 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(copy_folder(f.root, a_eid, other.b, NULL, FOLDER_MOVE), MAPI_E_NO_SUPPORT);
  CHECK_HR(f.root->lpVtbl->CopyFolder(f.root, a_eid->Value.bin.cb,
                                      (LPENTRYID)a_eid->Value.bin.lpb, &IID_IMessage, f.b, NULL,
                                      0, NULL, 0),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  /* Moving "a" into b, which then has an "a" already: a collision. */
  {
    LPMAPIFOLDER clash = subfolder(f.b, "A");
    CHECK_HR(copy_folder(f.root, a_eid, f.b, NULL, FOLDER_MOVE), MAPI_E_COLLISION);
    clash->lpVtbl->Release(clash);
  }
  CHECK_HR(f.a->lpVtbl->CopyTo(f.a, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(f.a->lpVtbl->CopyTo(f.a, 0, NULL, NULL, 0, NULL, NULL, f.a, 0, NULL), MAPI_E_NO_ACCESS);

  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(foreign);
  MAPIFreeBuffer(a_eid);
  teardown(&other);
  teardown(&f);
}

/* The ID of a named property (MNID_ID `lid` in a custom set) in `obj`'s store, made if new. */
static ULONG named_id(LPMAPIPROP obj, LONG lid) {
  static GUID set = {0x0C0FFEE0, 0x1234, 0x5678, {9, 8, 7, 6, 5, 4, 3, 2}};
  MAPINAMEID name;
  LPMAPINAMEID p = &name;
  LPSPropTagArray tags = NULL;
  ULONG id;
  name.lpguid = &set;
  name.ulKind = MNID_ID;
  name.Kind.lID = lid;
  CHECK_OK(obj->lpVtbl->GetIDsFromNames(obj, 1, &p, MAPI_CREATE, &tags));
  id = PROP_ID(tags->aulPropTag[0]);
  CHECK(id >= 0x8000 && id <= 0xFFFE);
  MAPIFreeBuffer(tags);
  return id;
}

/* CopyTo into another store: named properties keep their names (and so their meaning), not
 * their numbers, on the message and on its attachments. */
static void test_named_properties_across_stores(void) {
  struct fixture f, other;
  LPMESSAGE src, dest, reopened;
  LPATTACH att = NULL;
  LPSPropValue eid, v;
  ULONG num = 0, src_first, src_second, dest_first, dest_second;
  setup(&f, "copy_named.db");
  setup(&other, "copy_named_other.db");
  /* The two names get opposite numbers in the two stores. */
  src_first = named_id((LPMAPIPROP)f.mdb, 1);
  src_second = named_id((LPMAPIPROP)f.mdb, 2);
  dest_second = named_id((LPMAPIPROP)other.mdb, 2);
  dest_first = named_id((LPMAPIPROP)other.mdb, 1);
  CHECK(src_first == dest_second && src_second == dest_first);

  CHECK_OK(f.a->lpVtbl->CreateMessage(f.a, NULL, 0, &src));
  msg_set_str(src, PROP_TAG(PT_STRING8, src_first), "first");
  CHECK_OK(src->lpVtbl->CreateAttach(src, NULL, 0, &num, &att));
  {
    SPropValue pv;
    memset(&pv, 0, sizeof pv);
    pv.ulPropTag = PROP_TAG(PT_LONG, src_second);
    pv.Value.l = 2;
    CHECK_OK(att->lpVtbl->SetProps(att, 1, &pv, NULL));
  }
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  /* An ID in the named range that no name was given: nothing it could mean in the other store. */
  msg_set_long(src, PROP_TAG(PT_LONG, 0xFFF0), 7);
  CHECK_OK(other.a->lpVtbl->CreateMessage(other.a, NULL, 0, &dest));
  {
    LPSPropProblemArray problems = NULL;
    CHECK_OK(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, NULL, dest, 0, &problems));
    CHECK(problems != NULL);
    CHECK_EQ(problems->cProblem, 1);
    CHECK_EQ(problems->aProblem[0].ulPropTag, PROP_TAG(PT_LONG, 0xFFF0));
    CHECK_EQ(problems->aProblem[0].scode, MAPI_E_UNEXPECTED_ID);
    MAPIFreeBuffer(problems);
  }
  CHECK_OK(dest->lpVtbl->SaveChanges(dest, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)dest, PR_ENTRYID);
  dest->lpVtbl->Release(dest);
  src->lpVtbl->Release(src);

  reopened = msg_open(other.mdb, eid, 0);
  check_str(reopened, PROP_TAG(PT_STRING8, dest_first), "first");
  v = msg_get_one((LPMAPIPROP)reopened, PROP_TAG(PT_STRING8, dest_second));
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_ERROR);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)reopened, PROP_TAG(PT_LONG, 0xFFF0));
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_ERROR);
  MAPIFreeBuffer(v);
  CHECK_OK(reopened->lpVtbl->OpenAttach(reopened, 0, NULL, 0, &att));
  v = msg_get_one((LPMAPIPROP)att, PROP_TAG(PT_LONG, dest_second));
  CHECK_EQ(v->ulPropTag, PROP_TAG(PT_LONG, dest_second));
  CHECK_EQ(v->Value.l, 2);
  MAPIFreeBuffer(v);
  att->lpVtbl->Release(att);
  reopened->lpVtbl->Release(reopened);
  MAPIFreeBuffer(eid);
  teardown(&other);
  teardown(&f);
}

#define PR_BLOB PROP_TAG(PT_BINARY, 0x6701)
#define MIB (1024u * 1024u)

static unsigned char byte_at(ULONG i, unsigned seed) {
  return (unsigned char)((i * 7 + i / 251 + seed) & 0xFF);
}

/* Sets `tag` of `obj` to `size` bytes of the pattern `seed`. */
static void set_pattern(LPMAPIPROP obj, ULONG tag, ULONG size, unsigned seed) {
  SPropValue v;
  ULONG i;
  BYTE *data = malloc(size);
  CHECK(data != NULL);
  for (i = 0; i < size; i++) data[i] = byte_at(i, seed);
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.bin.cb = size;
  v.Value.bin.lpb = data;
  CHECK_OK(obj->lpVtbl->SetProps(obj, 1, &v, NULL));
  free(data);
}

/* Whether `tag` of `obj`, read through a stream, is `size` bytes of the pattern `seed`. */
static int stream_holds(LPMAPIPROP obj, ULONG tag, ULONG size, unsigned seed) {
  LPUNKNOWN unk = NULL;
  LPSTREAM s;
  static unsigned char buf[65537];
  ULONG done = 0, got = 0, i;
  int same = 1;
  if (obj->lpVtbl->OpenProperty(obj, tag, &IID_IStream, 0, 0, &unk) != S_OK) return 0;
  s = (LPSTREAM)unk;
  do {
    CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf, &got));
    for (i = 0; i < got && same; i++) same = buf[i] == byte_at(done + i, seed);
    done += got;
  } while (got > 0 && same);
  s->lpVtbl->Release(s);
  return same && done == size;
}

/* Values above 1 MiB stay in the store when a message is opened (README "Large values"):
 * CopyTo and CopyProps read them whole for the destination, ours or not, so the copy holds the
 * bytes (a 3 MiB property and a 2 MiB attachment); once another client replaced the value, a
 * client that opened the message before gets MAPI_E_OBJECT_CHANGED from CopyTo and the
 * destination is left as it was. */
static void test_copy_large_values(void) {
  struct fixture f;
  LPMESSAGE m, src, dest, other;
  LPATTACH att = NULL;
  ULONG num = 0;
  LPSPropValue eid, dest_eid, got = NULL;
  LPPROPDATA pd = NULL;
  ULONG big = 3 * MIB + 5, data = 2 * MIB, n = 0;
  SizedSPropTagArray(1, blob) = {1, {PR_BLOB}};
  setup(&f, "copy_large.db");
  CHECK_OK(f.a->lpVtbl->CreateMessage(f.a, NULL, 0, &m));
  set_pattern((LPMAPIPROP)m, PR_BLOB, big, 1);
  CHECK_OK(m->lpVtbl->CreateAttach(m, NULL, 0, &num, &att));
  set_pattern((LPMAPIPROP)att, PR_ATTACH_DATA_BIN, data, 2);
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)m, PR_ENTRYID);
  m->lpVtbl->Release(m);

  /* CopyTo into our message: stored by its save, read back whole. */
  src = msg_open(f.mdb, eid, 0);
  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  CHECK_OK(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, &IID_IMessage, dest, 0, NULL));
  CHECK_OK(dest->lpVtbl->SaveChanges(dest, KEEP_OPEN_READONLY));
  dest_eid = msg_get_one((LPMAPIPROP)dest, PR_ENTRYID);
  dest->lpVtbl->Release(dest);
  dest = msg_open(f.mdb, dest_eid, 0);
  CHECK(stream_holds((LPMAPIPROP)dest, PR_BLOB, big, 1));
  CHECK_OK(dest->lpVtbl->OpenAttach(dest, 0, NULL, 0, &att));
  CHECK(stream_holds((LPMAPIPROP)att, PR_ATTACH_DATA_BIN, data, 2));
  att->lpVtbl->Release(att);
  dest->lpVtbl->Release(dest);

  /* CopyProps into an IPropData, which returns values whole: the bytes, not an error. */
  CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &pd));
  CHECK_OK(src->lpVtbl->CopyProps(src, (LPSPropTagArray)&blob, 0, NULL, NULL, pd, 0, NULL));
  CHECK_OK(pd->lpVtbl->GetProps(pd, (LPSPropTagArray)&blob, 0, &n, &got));
  CHECK_EQ(n, 1);
  CHECK_EQ(got[0].ulPropTag, PR_BLOB);
  CHECK_EQ(got[0].Value.bin.cb, big);
  CHECK(got[0].Value.bin.lpb[big - 1] == byte_at(big - 1, 1));
  MAPIFreeBuffer(got);
  pd->lpVtbl->Release(pd);

  /* Another client replaces the value: this client's CopyTo has no bytes to copy. */
  other = msg_open(f.mdb, eid, MAPI_MODIFY);
  set_pattern((LPMAPIPROP)other, PR_BLOB, big, 3);
  CHECK_OK(other->lpVtbl->SaveChanges(other, 0));
  other->lpVtbl->Release(other);
  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  CHECK_HR(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, &IID_IMessage, dest, 0, NULL),
           MAPI_E_OBJECT_CHANGED);
  CHECK(!stream_holds((LPMAPIPROP)dest, PR_BLOB, big, 1));
  dest->lpVtbl->Release(dest);
  src->lpVtbl->Release(src);
  /* Reopened, the source copies again. */
  src = msg_open(f.mdb, eid, 0);
  CHECK_OK(f.b->lpVtbl->CreateMessage(f.b, NULL, 0, &dest));
  CHECK_OK(src->lpVtbl->CopyProps(src, (LPSPropTagArray)&blob, 0, NULL, NULL, dest, 0, NULL));
  CHECK(stream_holds((LPMAPIPROP)dest, PR_BLOB, big, 3));
  dest->lpVtbl->Release(dest);
  src->lpVtbl->Release(src);
  MAPIFreeBuffer(dest_eid);
  MAPIFreeBuffer(eid);
  teardown(&f);
  printf("  CopyTo / CopyProps of values left in the store: ok\n");
}

static const struct test_section SECTIONS[] = {
    {"copy_to_messages", test_copy_to_messages},
    {"copy_to_folders_and_attachments", test_copy_to_folders_and_attachments},
    {"copy_to_embedded", test_copy_to_embedded},
    {"copy_messages", test_copy_messages},
    {"move_messages", test_move_messages},
    {"moved_message_save_rules", test_moved_message_save_rules},
    {"copy_folder", test_copy_folder},
    {"named_properties_across_stores", test_named_properties_across_stores},
    {"copy_large_values", test_copy_large_values},
    {"bad_input", test_bad_input},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
