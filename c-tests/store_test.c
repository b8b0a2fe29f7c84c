/* The message store through its vtables: MsgStoreOpen, IMsgStore, IMAPIFolder, IMessage, and
 * every row of the multi-client save table (DESIGN.md §4), plus entry IDs, change properties,
 * persistence, read-only stores and bad input. */
#define _XOPEN_SOURCE 700
#include "store_util.h"

#include <sys/stat.h>
#include <unistd.h>

/* A whole file in memory (malloc'd), to prove a refused call wrote nothing. */
static unsigned char *file_bytes(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  CHECK(f != NULL);
  CHECK_EQ(fseek(f, 0, SEEK_END), 0);
  *size = ftell(f);
  CHECK(*size >= 0);
  CHECK_EQ(fseek(f, 0, SEEK_SET), 0);
  buf = (unsigned char *)malloc((size_t)*size + 1);
  CHECK(buf != NULL);
  CHECK_EQ(fread(buf, 1, (size_t)*size, f), (size_t)*size);
  fclose(f);
  return buf;
}

static void check_file_unchanged(const char *path, const unsigned char *before, long size) {
  long now_size = 0;
  unsigned char *now = file_bytes(path, &now_size);
  if (now_size != size || memcmp(now, before, (size_t)size) != 0) {
    fprintf(stderr, "%s was changed by calls that were refused\n", path);
    CHECK(!"the file keeps every byte");
  }
  free(now);
}




/* The 6-byte change number at the end of a message's PR_CHANGE_KEY. */
static unsigned long long change_number(LPMESSAGE msg) {
  LPSPropValue ck = msg_get_one((LPMAPIPROP)msg, PR_CHANGE_KEY);
  unsigned long long cn = 0;
  ULONG i;
  CHECK_EQ(PROP_TYPE(ck->ulPropTag), PT_BINARY);
  CHECK_EQ(ck->Value.bin.cb, 22);
  for (i = 16; i < 22; i++) cn = (cn << 8) | ck->Value.bin.lpb[i];
  MAPIFreeBuffer(ck);
  return cn;
}

static void test_open_errors(void) {
  char p[4096];
  LPMDB mdb = (LPMDB)GARBAGE_PTR;
  LPMAPIERROR err = NULL;
  struct stat st;
  FILE *f;

  CHECK_HR(MsgStoreOpen(NULL, 0, &mdb), MAPI_E_INVALID_PARAMETER);
  CHECK(mdb == NULL);
  test_path(p, sizeof p, "open-errors.db");
  unlink(p);
  CHECK_HR(MsgStoreOpen(p, MAPI_CREATE | MDB_WRITE, NULL), MAPI_E_INVALID_PARAMETER);
  mdb = (LPMDB)GARBAGE_PTR;
  CHECK_HR(MsgStoreOpen(p, 0, &mdb), MAPI_E_NOT_FOUND);
  CHECK(mdb == NULL);
  CHECK_OK(MsgStoreGetLastError(MAPI_E_NOT_FOUND, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "open-errors.db") != NULL);
  MAPIFreeBuffer(err);
  CHECK_HR(MsgStoreOpen(p, MAPI_CREATE | MDB_WRITE | 0x00000100u, &mdb), MAPI_E_UNKNOWN_FLAGS);
  CHECK(access(p, F_OK) != 0); /* nothing created on a refused call */
  CHECK_HR(MsgStoreOpen(p, MAPI_CREATE, &mdb), MAPI_E_INVALID_PARAMETER);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE | MDB_NO_DIALOG | MDB_NO_MAIL | MAPI_DEFERRED_ERRORS);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(stat(p, &st), 0);
  CHECK_EQ(st.st_mode & 0777, 0600);
  /* 0600 whatever the umask, and SQLite's -wal and -shm files (there while the store is open
   * and written) get the same mode. */
  {
    mode_t old_mask = umask(0);
    char side[4200];
    LPMAPIFOLDER root;
    LPSPropValue eid;
    test_path(p, sizeof p, "mode-umask0.db");
    unlink(p);
    mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
    umask(old_mask);
    root = store_root(mdb);
    eid = msg_create(root, "mode");
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    snprintf(side, sizeof side, "%s-wal", p);
    CHECK_EQ(stat(side, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    snprintf(side, sizeof side, "%s-shm", p);
    CHECK_EQ(stat(side, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    MAPIFreeBuffer(eid);
    root->lpVtbl->Release(root);
    mdb->lpVtbl->Release(mdb);
  }

  /* Not a store: garbage, a truncated store (SQLite files that are not stores: tests/sqlite_damage.rs). */
  test_path(p, sizeof p, "garbage.db");
  f = fopen(p, "wb");
  CHECK(f != NULL);
  fputs("This is a text file, not a message store.\n", f);
  fclose(f);
  CHECK_HR(MsgStoreOpen(p, MDB_WRITE, &mdb), MAPI_E_CORRUPT_STORE);
  CHECK(mdb == NULL);
  CHECK_OK(MsgStoreGetLastError(MAPI_E_CORRUPT_STORE, 0, &err));
  CHECK(err != NULL && strlen(err->lpszError) > 0);
  MAPIFreeBuffer(err);

  test_path(p, sizeof p, "truncated.db");
  unlink(p);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(truncate(p, 100), 0);
  CHECK_HR(MsgStoreOpen(p, MDB_WRITE, &mdb), MAPI_E_CORRUPT_STORE);
  CHECK(mdb == NULL);
}

/* Files that are not stores, found at MsgStoreOpen (the header and the schema are checked there,
 * nothing more), and paths it refuses. */
static void test_open_not_a_store(void) {
  char p[4096];
  FILE *f;

  /* An empty file, and a directory. */
  test_path(p, sizeof p, "empty.db");
  f = fopen(p, "wb");
  CHECK(f != NULL);
  fclose(f);
  check_open_refused(p, MDB_WRITE, MAPI_E_CORRUPT_STORE, "not a msgstore file");
  check_open_refused(p, 0, MAPI_E_CORRUPT_STORE, "not a msgstore file");
  test_path(p, sizeof p, "a-directory.db");
  CHECK_EQ(mkdir(p, 0700), 0);
  check_open_refused(p, MDB_WRITE, MAPI_E_CORRUPT_STORE, NULL);
  check_open_refused(p, MAPI_CREATE | MDB_WRITE, MAPI_E_CORRUPT_STORE, NULL);

  /* Files that are SQLite databases but not stores (someone else's, one of a newer schema, a
   * damaged schema version or store GUID) are made with SQL: tests/sqlite_damage.rs. */

  /* Paths: empty, not UTF-8, in a directory that does not exist. */
  check_open_refused("", MAPI_CREATE | MDB_WRITE, MAPI_E_INVALID_PARAMETER, "empty");
  check_open_refused("bad-\xFF-name.db", MAPI_CREATE | MDB_WRITE, MAPI_E_INVALID_PARAMETER, "UTF-8");
  test_path(p, sizeof p, "no-such-dir/new.db");
  check_open_refused(p, MAPI_CREATE | MDB_WRITE, MAPI_E_NOT_FOUND, "no-such-dir");
  check_open_refused(p, MDB_WRITE, MAPI_E_NOT_FOUND, "no-such-dir");
  CHECK_EQ(MsgStoreLiveObjects(), 0);
}

/* ---- Damage found later (DESIGN.md §6), found by the call that meets it: the stores are
 * damaged with SQL, so those tests are in tests/sqlite_damage.rs. */

static void test_store_props(void) {
  LPMDB mdb = store_fresh("store-props.db");
  LPSPropValue v;
  SPropValue sv;
  LPSPropProblemArray problems = NULL;
  LONG mask;

  v = msg_get_one((LPMAPIPROP)mdb, PR_OBJECT_TYPE);
  CHECK_EQ(v->Value.l, MAPI_STORE);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)mdb, PR_STORE_SUPPORT_MASK);
  mask = v->Value.l;
  MAPIFreeBuffer(v);
  CHECK(mask & STORE_ENTRYID_UNIQUE);
  CHECK(mask & STORE_MODIFY_OK);
  CHECK(mask & STORE_CREATE_OK);
  CHECK(mask & STORE_MV_PROPS_OK);
  CHECK(mask & STORE_UNICODE_OK);
  CHECK(!(mask & STORE_READONLY));
  CHECK(mask & STORE_NOTIFY_OK); /* Advise works (notify_test.c) */
  v = msg_get_one((LPMAPIPROP)mdb, PR_STORE_RECORD_KEY);
  CHECK_EQ(v->Value.bin.cb, 16);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)mdb, PR_DISPLAY_NAME_A);
  if (on_postgres()) {
    /* A store in a database is named by its store= parameter. */
    char loc[4096];
    store_location(loc, sizeof loc, "store-props.db");
    CHECK_STR(v->Value.lpszA, strstr(loc, "store=") + 6);
  } else {
    CHECK_STR(v->Value.lpszA, "store-props"); /* a file: its name without the extension */
  }
  MAPIFreeBuffer(v);

  memset(&sv, 0, sizeof sv);
  sv.ulPropTag = PR_DISPLAY_NAME_A;
  sv.Value.lpszA = (char *)"Team mailbox";
  CHECK_OK(mdb->lpVtbl->SetProps(mdb, 1, &sv, NULL));
  v = msg_get_one((LPMAPIPROP)mdb, PR_DISPLAY_NAME_A);
  CHECK_STR(v->Value.lpszA, "Team mailbox");
  MAPIFreeBuffer(v);
  sv.ulPropTag = PR_STORE_SUPPORT_MASK;
  sv.Value.l = 0;
  CHECK_OK(mdb->lpVtbl->SetProps(mdb, 1, &sv, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_COMPUTED);
  MAPIFreeBuffer(problems);
  CHECK_HR(mdb->lpVtbl->SaveChanges(mdb, 0x100), MAPI_E_UNKNOWN_FLAGS);
  CHECK_OK(mdb->lpVtbl->SaveChanges(mdb, KEEP_OPEN_READWRITE));
  {
    ULONG flags = LOGOFF_ORDERLY;
    CHECK_OK(mdb->lpVtbl->StoreLogoff(mdb, &flags));
    CHECK_EQ(flags, 0);
    flags = 0x40000000u;
    CHECK_HR(mdb->lpVtbl->StoreLogoff(mdb, &flags), MAPI_E_UNKNOWN_FLAGS);
    CHECK_HR(mdb->lpVtbl->StoreLogoff(mdb, NULL), MAPI_E_INVALID_PARAMETER);
  }
  {
    ULONG_PTR conn = GARBAGE_ULONG;
    CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectModified, NULL, &conn),
             MAPI_E_INVALID_PARAMETER); /* a NULL sink */
    CHECK_EQ(conn, 0);
  }
  mdb->lpVtbl->Release(mdb);
}

/* Rules 1-3 and the rows of DESIGN.md §4's table. */
static void test_save_rules(void) {
  LPMDB mdb = store_fresh("rules.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "original");
  LPMESSAGE a, b, c, snapshot, check;
  char buf[256];
  unsigned long long cn_before, cn_a;

  /* Two clients; uncommitted changes are invisible to everybody else. */
  a = msg_open(mdb, eid, MAPI_MODIFY);
  b = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(a, PR_SUBJECT_A, "from A");
  msg_set_str(a, PR_BODY_A, "A's body");
  msg_set_str(b, PR_SUBJECT_A, "from B");
  CHECK_OK(msg_get_str(b, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "from B");
  check = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "original");
  CHECK_HR(msg_get_str(check, PR_BODY_A, buf, sizeof buf), MAPI_W_ERRORS_RETURNED);
  check->lpVtbl->Release(check);
  cn_before = change_number(a);

  /* Rule 1: the first save proceeds as if alone. */
  CHECK_OK(a->lpVtbl->SaveChanges(a, KEEP_OPEN_READWRITE));
  cn_a = change_number(a);
  CHECK(cn_a > cn_before);
  snapshot = msg_open(mdb, eid, 0);

  /* Rule 2: the stale save writes nothing (every stored property compared) and keeps B's
   * changes; B stays open read-write. */
  CHECK_HR(b->lpVtbl->SaveChanges(b, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  check = msg_open(mdb, eid, 0);
  CHECK(props_equal((LPMAPIPROP)check, (LPMAPIPROP)snapshot));
  check->lpVtbl->Release(check);
  CHECK_OK(msg_get_str(b, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "from B");
  {
    LPMAPIERROR err = NULL;
    CHECK_OK(b->lpVtbl->GetLastError(b, MAPI_E_OBJECT_CHANGED, 0, &err));
    CHECK(err != NULL && strstr(err->lpszError, "changed") != NULL);
    MAPIFreeBuffer(err);
  }
  /* ...and no flag combination short of FORCE_SAVE gets through. */
  CHECK_HR(b->lpVtbl->SaveChanges(b, 0), MAPI_E_OBJECT_CHANGED);
  CHECK_HR(b->lpVtbl->SaveChanges(b, KEEP_OPEN_READONLY), MAPI_E_OBJECT_CHANGED);
  check = msg_open(mdb, eid, 0);
  CHECK(props_equal((LPMAPIPROP)check, (LPMAPIPROP)snapshot));
  check->lpVtbl->Release(check);

  /* A third client opened after the first save saves without conflict. */
  c = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(c, PR_COMMENT_A, "C was here");
  CHECK_OK(c->lpVtbl->SaveChanges(c, KEEP_OPEN_READWRITE));
  c->lpVtbl->Release(c);

  /* Rule 3: FORCE_SAVE (with KEEP_OPEN_READWRITE) replaces the others' changes with B's view:
   * A's body and C's comment are gone, B's subject is in. */
  CHECK_OK(b->lpVtbl->SaveChanges(b, FORCE_SAVE | KEEP_OPEN_READWRITE));
  check = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "from B");
  CHECK_HR(msg_get_str(check, PR_BODY_A, buf, sizeof buf), MAPI_W_ERRORS_RETURNED);
  CHECK_HR(msg_get_str(check, PR_COMMENT_A, buf, sizeof buf), MAPI_W_ERRORS_RETURNED);
  CHECK(props_equal((LPMAPIPROP)check, (LPMAPIPROP)b)); /* B's view is exactly what was stored */
  {
    /* The forced version's PCL succeeds both: it holds B's new change key. */
    LPSPropValue pcl = msg_get_one((LPMAPIPROP)check, PR_PREDECESSOR_CHANGE_LIST);
    LPSPropValue ck = msg_get_one((LPMAPIPROP)check, PR_CHANGE_KEY);
    CHECK_EQ(pcl->Value.bin.cb, 23);
    CHECK_EQ(pcl->Value.bin.lpb[0], 22);
    CHECK(memcmp(pcl->Value.bin.lpb + 1, ck->Value.bin.lpb, 22) == 0);
    MAPIFreeBuffer(pcl);
    MAPIFreeBuffer(ck);
  }
  check->lpVtbl->Release(check);

  /* B, kept read-write, edits and saves again: its base is its own forced save. */
  msg_set_str(b, PR_BODY_A, "B again");
  CHECK_OK(b->lpVtbl->SaveChanges(b, KEEP_OPEN_READWRITE));
  /* A is now stale: its later edit conflicts. */
  msg_set_str(a, PR_BODY_A, "A late");
  CHECK_HR(a->lpVtbl->SaveChanges(a, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);

  /* FORCE_SAVE without KEEP_OPEN: saved, then read-only. */
  CHECK_OK(a->lpVtbl->SaveChanges(a, FORCE_SAVE));
  CHECK_HR(a->lpVtbl->SaveChanges(a, KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  {
    SPropValue v;
    memset(&v, 0, sizeof v);
    v.ulPropTag = PR_SUBJECT_A;
    v.Value.lpszA = (char *)"x";
    CHECK_HR(a->lpVtbl->SetProps(a, 1, &v, NULL), MAPI_E_NO_ACCESS);
  }
  snapshot->lpVtbl->Release(snapshot);
  a->lpVtbl->Release(a);
  b->lpVtbl->Release(b);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_keep_open_and_no_changes(void) {
  LPMDB mdb = store_fresh("keepopen.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "k");
  LPMESSAGE m, other;
  LONG level = -1;
  unsigned long long cn;

  /* KEEP_OPEN_READONLY: readable, every later write refused. */
  m = msg_open(mdb, eid, MAPI_MODIFY);
  CHECK_OK(msg_get_long(m, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, MAPI_MODIFY);
  msg_set_str(m, PR_SUBJECT_A, "ro");
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READONLY));
  CHECK_OK(msg_get_long(m, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, 0);
  {
    SizedSPropTagArray(1, subject) = {1, {PR_SUBJECT_A}};
    CHECK_HR(m->lpVtbl->DeleteProps(m, (LPSPropTagArray)&subject, NULL), MAPI_E_NO_ACCESS);
  }
  CHECK_HR(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  m->lpVtbl->Release(m);

  /* Both KEEP_OPEN bits act as KEEP_OPEN_READWRITE. */
  m = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(m, PR_SUBJECT_A, "rw");
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE));
  msg_set_str(m, PR_SUBJECT_A, "rw2");
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE | MAPI_DEFERRED_ERRORS));

  /* A save with no pending changes writes nothing and takes no new CN, even when stale. */
  other = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(other, PR_SUBJECT_A, "other");
  CHECK_OK(other->lpVtbl->SaveChanges(other, KEEP_OPEN_READWRITE));
  cn = change_number(other);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  CHECK_OK(other->lpVtbl->SaveChanges(other, KEEP_OPEN_READWRITE));
  {
    LPMESSAGE fresh = msg_open(mdb, eid, 0);
    CHECK_EQ(change_number(fresh), cn);
    fresh->lpVtbl->Release(fresh);
  }
  /* Unknown flags are refused before anything else, and nothing is written. */
  msg_set_str(other, PR_SUBJECT_A, "flagged");
  CHECK_HR(other->lpVtbl->SaveChanges(other, 0x10000), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(other->lpVtbl->SaveChanges(other, 0x80), MAPI_E_UNKNOWN_FLAGS);
  {
    char buf[64];
    LPMESSAGE fresh = msg_open(mdb, eid, 0);
    CHECK_OK(msg_get_str(fresh, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "other");
    fresh->lpVtbl->Release(fresh);
  }
  other->lpVtbl->Release(other);
  m->lpVtbl->Release(m);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_deleted_under_you(void) {
  LPMDB mdb = store_fresh("deleted.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "doomed");
  LPMESSAGE m = msg_open(mdb, eid, MAPI_MODIFY);
  ENTRYLIST list;
  char buf[64];
  ULONG type;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;

  msg_set_str(m, PR_SUBJECT_A, "edited");
  list.cValues = 1;
  list.lpbin = &eid->Value.bin;
  CHECK_OK(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0));
  CHECK_HR(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_DELETED);
  CHECK_HR(m->lpVtbl->SaveChanges(m, FORCE_SAVE | KEEP_OPEN_READWRITE), MAPI_E_OBJECT_DELETED);
  CHECK_HR(m->lpVtbl->SaveChanges(m, 0), MAPI_E_OBJECT_DELETED);
  /* The object stays open with its changes. */
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "edited");
  /* The entry ID now names nothing: MAPI_E_NOT_FOUND; deleting again is a partial completion. */
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, NULL, 0,
                                  &type, &unk),
           MAPI_E_NOT_FOUND);
  CHECK(unk == NULL);
  CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_W_PARTIAL_COMPLETION);
  CHECK_HR(m->lpVtbl->SetReadFlag(m, 0), MAPI_E_OBJECT_DELETED);
  m->lpVtbl->Release(m);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_new_message_and_change_props(void) {
  LPMDB mdb = store_fresh("newmsg.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPMESSAGE m = NULL, m2 = NULL;
  LPSPropValue v, rk;
  LPSPropProblemArray problems = NULL;
  SPropValue sv[6];
  unsigned long long cn1, cn2;
  LONG size = 0;

  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, 0, &m));
  /* No entry ID, change key or size before the first save. */
  v = msg_get_one((LPMAPIPROP)m, PR_ENTRYID);
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_ERROR);
  CHECK_HR(v->Value.err, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)m, PR_CHANGE_KEY);
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_ERROR);
  MAPIFreeBuffer(v);

  /* Computed and read-only properties are refused with MAPI_E_COMPUTED problems. */
  memset(sv, 0, sizeof sv);
  sv[0].ulPropTag = PR_ENTRYID;
  sv[1].ulPropTag = PR_CHANGE_KEY;
  sv[2].ulPropTag = PR_SUBJECT_A;
  sv[2].Value.lpszA = (char *)"new";
  sv[3].ulPropTag = PR_LAST_MODIFICATION_TIME;
  sv[4].ulPropTag = PR_MESSAGE_SIZE;
  sv[5].ulPropTag = PR_ACCESS_LEVEL;
  CHECK_OK(m->lpVtbl->SetProps(m, 6, sv, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 5);
  CHECK_EQ(problems->aProblem[0].ulIndex, 0);
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_COMPUTED);
  CHECK_EQ(problems->aProblem[1].ulIndex, 1);
  CHECK_EQ(problems->aProblem[2].ulIndex, 3);
  CHECK_EQ(problems->aProblem[4].ulIndex, 5);
  MAPIFreeBuffer(problems);
  problems = NULL;
  {
    SizedSPropTagArray(1, ck) = {1, {PR_CHANGE_KEY}};
    CHECK_OK(m->lpVtbl->DeleteProps(m, (LPSPropTagArray)&ck, &problems));
  }
  CHECK(problems != NULL && problems->aProblem[0].scode == MAPI_E_COMPUTED);
  MAPIFreeBuffer(problems);

  /* SetProps keeps its converted values in a buffer between calls: a call larger than the
   * buffer kept (300 values), one that fails after converting some (nothing applied), then a
   * small one; every value reads back as the last successful call set it. */
  {
    static const WCHAR accented[] = {'c', 0xE9, 0}, plain[] = {'a', 'b', 'c', 0};
    SPropValue *many = calloc(300, sizeof *many);
    ULONG i;
    CHECK(many != NULL);
    if (!many) return;
    for (i = 0; i < 300; i++) {
      many[i].ulPropTag = (i % 3 == 0) ? PROP_TAG(PT_UNICODE, 0x6800 + i)
                                       : PROP_TAG(PT_LONG, 0x6800 + i);
      if (i % 3 == 0)
        many[i].Value.lpszW = (LPWSTR)(i % 2 ? accented : plain);
      else
        many[i].Value.l = (LONG)i;
    }
    CHECK_OK(m->lpVtbl->SetProps(m, 300, many, NULL));
    many[1].Value.l = -1;
    many[2].Value.lpszW = NULL;
    many[2].ulPropTag = PROP_TAG(PT_UNICODE, 0x6802); /* a NULL string: the call fails */
    CHECK_HR(m->lpVtbl->SetProps(m, 3, many, NULL), MAPI_E_INVALID_PARAMETER);
    many[4].Value.l = 4000;
    CHECK_OK(m->lpVtbl->SetProps(m, 1, &many[4], NULL));
    v = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_LONG, 0x6801));
    CHECK_EQ(v->Value.l, 1);
    MAPIFreeBuffer(v);
    v = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_LONG, 0x6802));
    CHECK_EQ(v->Value.l, 2);
    MAPIFreeBuffer(v);
    v = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_LONG, 0x6804));
    CHECK_EQ(v->Value.l, 4000);
    MAPIFreeBuffer(v);
    v = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_UNICODE, 0x6800 + 297));
    CHECK_WSTR(v->Value.lpszW, accented);
    MAPIFreeBuffer(v);
    v = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_UNICODE, 0x6800 + 298 - 298 % 3 - 3));
    CHECK_WSTR(v->Value.lpszW, plain);
    MAPIFreeBuffer(v);
    free(many);
  }

  /* The first save of a new message never conflicts. */
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  v = msg_get_one((LPMAPIPROP)m, PR_ENTRYID);
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_BINARY);
  CHECK_EQ(v->Value.bin.cb, 32);
  CHECK(v->Value.bin.lpb[0] == 0 && v->Value.bin.lpb[1] == 0 && v->Value.bin.lpb[2] == 0 &&
        v->Value.bin.lpb[3] == 0); /* long-term */
  rk = msg_get_one((LPMAPIPROP)mdb, PR_STORE_RECORD_KEY);
  CHECK(memcmp(v->Value.bin.lpb + 4, rk->Value.bin.lpb, 16) == 0); /* names the store */
  {
    LPSPropValue ck = msg_get_one((LPMAPIPROP)m, PR_CHANGE_KEY);
    CHECK(memcmp(ck->Value.bin.lpb, rk->Value.bin.lpb, 16) == 0); /* XID: store GUID + CN */
    MAPIFreeBuffer(ck);
  }
  MAPIFreeBuffer(rk);
  cn1 = change_number(m);
  {
    LPSPropValue created = msg_get_one((LPMAPIPROP)m, PR_CREATION_TIME);
    LPSPropValue modified = msg_get_one((LPMAPIPROP)m, PR_LAST_MODIFICATION_TIME);
    CHECK_EQ(PROP_TYPE(created->ulPropTag), PT_SYSTIME);
    CHECK(created->Value.ft.dwHighDateTime > 0x01D00000u); /* after 2015 */
    CHECK(memcmp(&created->Value.ft, &modified->Value.ft, 8) == 0);
    MAPIFreeBuffer(created);
    MAPIFreeBuffer(modified);
  }
  CHECK_OK(msg_get_long(m, PR_MESSAGE_SIZE, &size));
  CHECK(size > 3);
  {
    LONG flags = 0;
    CHECK_OK(msg_get_long(m, PR_MESSAGE_FLAGS, &flags));
    CHECK(flags & MSGFLAG_UNSENT);
  }
  /* Each commit takes a new, larger change number; the view is exactly what was committed. */
  msg_set_str(m, PR_BODY_A, "0123456789012345678901234567890123456789");
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  cn2 = change_number(m);
  CHECK(cn2 > cn1);
  {
    LONG size2 = 0;
    CHECK_OK(msg_get_long(m, PR_MESSAGE_SIZE, &size2));
    CHECK(size2 >= size + 40);
  }
  m2 = msg_open(mdb, v, 0);
  CHECK(props_equal((LPMAPIPROP)m, (LPMAPIPROP)m2));
  m2->lpVtbl->Release(m2);

  /* Associated (FAI) messages count apart. */
  {
    LPMESSAGE fai = NULL;
    LONG n = -1;
    CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, MAPI_ASSOCIATED, &fai));
    CHECK_OK(fai->lpVtbl->SaveChanges(fai, 0));
    fai->lpVtbl->Release(fai);
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_ASSOC_CONTENT_COUNT, &n));
    CHECK_EQ(n, 1);
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_CONTENT_COUNT, &n));
    CHECK_EQ(n, 1);
  }
  MAPIFreeBuffer(v);
  m->lpVtbl->Release(m);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_read_flag(void) {
  LPMDB mdb = store_fresh("readflag.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "unread");
  LPMESSAGE editor = msg_open(mdb, eid, MAPI_MODIFY);
  LPMESSAGE reader = msg_open(mdb, eid, 0);
  unsigned long long cn = change_number(reader);
  LONG flags = 0;
  LPMESSAGE fresh;

  CHECK_OK(reader->lpVtbl->SetReadFlag(reader, 0));
  CHECK_OK(msg_get_long(reader, PR_MESSAGE_FLAGS, &flags));
  CHECK(flags & MSGFLAG_READ);
  fresh = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_long(fresh, PR_MESSAGE_FLAGS, &flags));
  CHECK(flags & MSGFLAG_READ); /* applied at once */
  CHECK_EQ(change_number(fresh), cn); /* no new change number */
  fresh->lpVtbl->Release(fresh);
  /* It never makes another client's save conflict, and a save keeps it. */
  msg_set_str(editor, PR_SUBJECT_A, "edited after reading");
  CHECK_OK(editor->lpVtbl->SaveChanges(editor, KEEP_OPEN_READWRITE));
  fresh = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_long(fresh, PR_MESSAGE_FLAGS, &flags));
  CHECK(flags & MSGFLAG_READ);
  fresh->lpVtbl->Release(fresh);
  CHECK_OK(reader->lpVtbl->SetReadFlag(reader, CLEAR_READ_FLAG));
  fresh = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_long(fresh, PR_MESSAGE_FLAGS, &flags));
  CHECK(!(flags & MSGFLAG_READ));
  fresh->lpVtbl->Release(fresh);
  CHECK_HR(reader->lpVtbl->SetReadFlag(reader, 0x1000), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(reader->lpVtbl->SetReadFlag(reader, SUPPRESS_RECEIPT | CLEAR_READ_FLAG),
           MAPI_E_INVALID_PARAMETER);
  editor->lpVtbl->Release(editor);
  reader->lpVtbl->Release(reader);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_persistence(void) {
  char p[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid, ck;
  LPMESSAGE m;
  char buf[64];

  store_location(p, sizeof p, "persist.db");
  unlink(p);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "kept");
  m = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(m, PR_BODY_A, "kept body");
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  ck = msg_get_one((LPMAPIPROP)m, PR_CHANGE_KEY);
  m->lpVtbl->Release(m);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);

  mdb = store_open(p, MDB_WRITE);
  m = msg_open(mdb, eid, MAPI_MODIFY);
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "kept");
  CHECK_OK(msg_get_str(m, PR_BODY_A, buf, sizeof buf));
  CHECK_STR(buf, "kept body");
  {
    LPSPropValue ck2 = msg_get_one((LPMAPIPROP)m, PR_CHANGE_KEY);
    CHECK(spv_equal(ck, ck2));
    MAPIFreeBuffer(ck2);
  }
  /* Change numbers keep growing across sessions. */
  msg_set_str(m, PR_BODY_A, "later");
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  {
    LPSPropValue ck3 = msg_get_one((LPMAPIPROP)m, PR_CHANGE_KEY);
    CHECK(memcmp(ck3->Value.bin.lpb, ck->Value.bin.lpb, 22) > 0);
    MAPIFreeBuffer(ck3);
  }
  m->lpVtbl->Release(m);
  mdb->lpVtbl->Release(mdb);
  MAPIFreeBuffer(ck);
  MAPIFreeBuffer(eid);
}

static void test_entry_ids(void) {
  LPMDB mdb = store_fresh("eids.db");
  LPMDB other = store_fresh("eids-other.db");
  LPMAPIFOLDER root = store_root(mdb), other_root = store_root(other);
  LPSPropValue eid = msg_create(root, "e"), foreign = msg_create(other_root, "f");
  BYTE bad[64];
  ULONG type = GARBAGE_ULONG, result = 7;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;

  memcpy(bad, eid->Value.bin.lpb, eid->Value.bin.cb);
  /* Truncated, flagged, nonsense kind: malformed. */
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 31, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  CHECK(unk == NULL);
  CHECK_EQ(type, 0);
  bad[0] = 0x80;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  bad[0] = 0;
  bad[20] = 9;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 100000, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  /* Another store's: unknown. */
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, foreign->Value.bin.cb, (LPENTRYID)foreign->Value.bin.lpb,
                                  NULL, 0, &type, &unk),
           MAPI_E_UNKNOWN_ENTRYID);
  /* Ours, but never existed: not found. */
  memcpy(bad, eid->Value.bin.lpb, 32);
  bad[24] = 0x77;
  bad[25] = 0x77;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_NOT_FOUND);
  /* NULL with a count; NULL out-pointers; unknown flags; wrong interface. */
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, NULL, NULL, 0, &type, &unk), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, 0, NULL, &unk), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, 0, &type, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, 0x400, &type, &unk), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb,
                                  &IID_IMAPIFolder, 0, &type, &unk),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK(unk == NULL);
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb,
                                  &IID_IMessage, 0, &type, &unk));
  CHECK_EQ(type, MAPI_MESSAGE);
  unk->lpVtbl->Release(unk);
  /* The store's own entry ID is not something OpenEntry opens. */
  {
    LPSPropValue seid = msg_get_one((LPMAPIPROP)mdb, PR_STORE_ENTRYID);
    CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, seid->Value.bin.cb, (LPENTRYID)seid->Value.bin.lpb, NULL,
                                    0, &type, &unk),
             MAPI_E_INVALID_ENTRYID);
    MAPIFreeBuffer(seid);
  }
  /* CompareEntryIDs. */
  CHECK_OK(mdb->lpVtbl->CompareEntryIDs(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb,
                                        eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, 0, &result));
  CHECK_EQ(result, 1);
  CHECK_OK(mdb->lpVtbl->CompareEntryIDs(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, 32,
                                        (LPENTRYID)bad, 0, &result));
  CHECK_EQ(result, 0);
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, 3, (LPENTRYID)bad, 32, (LPENTRYID)bad, 0, &result),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, 32, (LPENTRYID)bad, 32, (LPENTRYID)bad, 1, &result),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, 32, (LPENTRYID)bad, 32, (LPENTRYID)bad, 0, NULL),
           MAPI_E_INVALID_PARAMETER);

  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(foreign);
  root->lpVtbl->Release(root);
  other_root->lpVtbl->Release(other_root);
  mdb->lpVtbl->Release(mdb);
  other->lpVtbl->Release(other);
}

/* Entry IDs everywhere one is taken (OpenEntry on a folder, DeleteMessages, DeleteFolder,
 * CompareEntryIDs): malformed → MAPI_E_INVALID_ENTRYID, another store's →
 * MAPI_E_UNKNOWN_ENTRYID, ours but naming nothing (or the wrong kind of object) →
 * MAPI_E_NOT_FOUND; a refused list deletes nothing, not even its valid entries. */
static void test_entry_ids_everywhere(void) {
  LPMDB mdb = store_fresh("eids-all.db");
  LPMDB other = store_fresh("eids-all-other.db");
  LPMAPIFOLDER root = store_root(mdb), other_root = store_root(other), sub = NULL;
  LPSPropValue eid = msg_create(root, "mine"), foreign = msg_create(other_root, "theirs");
  LPSPropValue foreign_root = msg_get_one((LPMAPIPROP)other_root, PR_ENTRYID), eid_sub;
  BYTE bad[40];
  SBinary bins[2];
  ENTRYLIST list = {2, bins};
  ULONG type = GARBAGE_ULONG, result = 7;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LONG count = -1;

  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "sub", NULL, NULL, 0, &sub));
  eid_sub = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);

  /* IMAPIFolder::OpenEntry answers as IMsgStore::OpenEntry does. */
  CHECK_HR(root->lpVtbl->OpenEntry(root, 31, (LPENTRYID)eid->Value.bin.lpb, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  CHECK(unk == NULL);
  CHECK_EQ(type, 0);
  CHECK_HR(root->lpVtbl->OpenEntry(root, foreign->Value.bin.cb, (LPENTRYID)foreign->Value.bin.lpb,
                                   NULL, 0, &type, &unk),
           MAPI_E_UNKNOWN_ENTRYID);
  CHECK(unk == NULL);
  CHECK_HR(root->lpVtbl->OpenEntry(root, 4097, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  /* Object ID 0, and an unknown kind: malformed. */
  memcpy(bad, eid->Value.bin.lpb, 32);
  memset(bad + 24, 0, 8);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  memcpy(bad, eid->Value.bin.lpb, 32);
  bad[20] = 4;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  /* One byte too many. */
  memcpy(bad, eid->Value.bin.lpb, 32);
  bad[32] = 0;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 33, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_INVALID_ENTRYID);
  /* A message's object ID under the folder kind, a folder's under the message kind: the
   * object of that kind does not exist. */
  memcpy(bad, eid->Value.bin.lpb, 32);
  bad[20] = MAPI_FOLDER;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_NOT_FOUND);
  memcpy(bad, eid_sub->Value.bin.lpb, 32);
  bad[20] = MAPI_MESSAGE;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 32, (LPENTRYID)bad, NULL, 0, &type, &unk),
           MAPI_E_NOT_FOUND);
  CHECK(unk == NULL);
  /* A folder's entry ID asked for as IMessage. */
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                  &IID_IMessage, 0, &type, &unk),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK(unk == NULL);

  /* DeleteMessages: one bad entry refuses the whole list. */
  bins[0] = eid->Value.bin;
  bins[1].cb = 12;
  bins[1].lpb = eid->Value.bin.lpb;
  CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_INVALID_ENTRYID);
  bins[1] = foreign->Value.bin;
  CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_UNKNOWN_ENTRYID);
  bins[1].cb = 5;
  bins[1].lpb = NULL;
  CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_OK(msg_get_long((LPMESSAGE)root, PR_CONTENT_COUNT, &count));
  CHECK_EQ(count, 1); /* "mine" survived all three */
  /* Entries that are well-formed but are not messages of this folder are skipped. */
  {
    LPSPropValue in_sub = msg_create(sub, "in sub");
    SBinary skip[2];
    ENTRYLIST skip_list = {2, skip};
    skip[0] = eid_sub->Value.bin; /* a folder */
    skip[1] = in_sub->Value.bin;  /* a message of another folder */
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &skip_list, 0, NULL, 0),
             MAPI_W_PARTIAL_COMPLETION);
    CHECK_OK(msg_get_long((LPMESSAGE)sub, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
    MAPIFreeBuffer(in_sub);
  }

  /* DeleteFolder: malformed, another store's, a message's, and (0, NULL). */
  CHECK_HR(root->lpVtbl->DeleteFolder(root, 20, (LPENTRYID)eid_sub->Value.bin.lpb, 0, NULL,
                                      DEL_MESSAGES),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, foreign_root->Value.bin.cb,
                                      (LPENTRYID)foreign_root->Value.bin.lpb, 0, NULL,
                                      DEL_MESSAGES),
           MAPI_E_UNKNOWN_ENTRYID);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, 0,
                                      NULL, DEL_MESSAGES),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, 32, NULL, 0, NULL, DEL_MESSAGES),
           MAPI_E_INVALID_PARAMETER);
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                  NULL, 0, &type, &unk));
  unk->lpVtbl->Release(unk); /* still there */

  /* CompareEntryIDs: another store's entry ID is not comparable. */
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb,
                                        foreign->Value.bin.cb,
                                        (LPENTRYID)foreign->Value.bin.lpb, 0, &result),
           MAPI_E_UNKNOWN_ENTRYID);
  CHECK_EQ(result, 0);
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, 0, NULL, eid->Value.bin.cb,
                                        (LPENTRYID)eid->Value.bin.lpb, 0, &result),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(mdb->lpVtbl->CompareEntryIDs(mdb, 32, NULL, eid->Value.bin.cb,
                                        (LPENTRYID)eid->Value.bin.lpb, 0, &result),
           MAPI_E_INVALID_PARAMETER);

  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(eid_sub);
  MAPIFreeBuffer(foreign);
  MAPIFreeBuffer(foreign_root);
  sub->lpVtbl->Release(sub);
  root->lpVtbl->Release(root);
  other_root->lpVtbl->Release(other_root);
  mdb->lpVtbl->Release(mdb);
  other->lpVtbl->Release(other);
}

/* A panic inside a store method (forced with MsgStoreInjectPanic) becomes MAPI_E_CALL_FAILED:
 * out-parameters NULL, no object leaked, nothing written, GetLastError explains, and the
 * objects go on working. */
static void test_panics_in_store_methods(void) {
  char p[4096];
  LPMDB mdb = (LPMDB)GARBAGE_PTR;
  LPMAPIFOLDER root;
  LPSPropValue eid;
  LPMESSAGE m, nm = (LPMESSAGE)GARBAGE_PTR;
  ULONG type = GARBAGE_ULONG;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LPMAPIERROR err = NULL;
  ULONG live;
  char buf[32];

  store_location(p, sizeof p, "panics.db");
  unlink(p);
  CHECK_OK(MsgStoreInjectPanic("MsgStoreOpen"));
  /* (The injected panic fires as the call is entered, before out-parameters are cleared, so
   * only the code, the leak count and the file are checked here.) */
  CHECK_HR(MsgStoreOpen(p, MAPI_CREATE | MDB_WRITE, &mdb), MAPI_E_CALL_FAILED);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  CHECK(access(p, F_OK) != 0);
  CHECK_OK(MsgStoreGetLastError(MAPI_E_CALL_FAILED, 0, &err));
  CHECK(strstr(err->lpszError, "MsgStoreOpen") != NULL);
  MAPIFreeBuffer(err);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "before");
  live = MsgStoreLiveObjects();

  CHECK_OK(MsgStoreInjectPanic("OpenEntry"));
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, NULL,
                                  MAPI_MODIFY, &type, &unk),
           MAPI_E_CALL_FAILED);
  CHECK_EQ(MsgStoreLiveObjects(), live);
  CHECK_OK(MsgStoreInjectPanic("CreateMessage"));
  CHECK_HR(root->lpVtbl->CreateMessage(root, NULL, 0, &nm), MAPI_E_CALL_FAILED);
  CHECK_EQ(MsgStoreLiveObjects(), live);

  m = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(m, PR_SUBJECT_A, "after");
  CHECK_OK(MsgStoreInjectPanic("SaveChanges"));
  CHECK_HR(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE), MAPI_E_CALL_FAILED);
  CHECK_OK(m->lpVtbl->GetLastError(m, MAPI_E_CALL_FAILED, 0, &err));
  CHECK(strstr(err->lpszError, "SaveChanges") != NULL);
  MAPIFreeBuffer(err);
  {
    LPMESSAGE check = msg_open(mdb, eid, 0);
    CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "before"); /* nothing written */
    check->lpVtbl->Release(check);
  }
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "after"); /* the client keeps its change, and saves it next time */
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  m->lpVtbl->Release(m);
  {
    ENTRYLIST list = {1, &eid->Value.bin};
    LONG count = -1;
    CHECK_OK(MsgStoreInjectPanic("DeleteMessages"));
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_CALL_FAILED);
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
  }
  CHECK_OK(MsgStoreInjectPanic("Release"));
  CHECK_EQ(root->lpVtbl->Release(root), 0); /* the panic leaves the count alone */
  root->lpVtbl->Release(root);
  CHECK_OK(MsgStoreInjectPanic(NULL));
  MAPIFreeBuffer(eid);
  mdb->lpVtbl->Release(mdb);
}

static void test_read_only_store(void) {
  char p[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid, v;
  LPMESSAGE m;
  ULONG type;
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LONG level = -1;
  SPropValue sv;

  store_location(p, sizeof p, "readonly.db");
  unlink(p);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "ro");
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);

  mdb = store_open(p, 0);
  v = msg_get_one((LPMAPIPROP)mdb, PR_STORE_SUPPORT_MASK);
  CHECK(v->Value.l & STORE_READONLY);
  MAPIFreeBuffer(v);
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, NULL,
                                  MAPI_MODIFY, &type, &unk),
           MAPI_E_NO_ACCESS);
  CHECK(unk == NULL);
  m = msg_open(mdb, eid, MAPI_BEST_ACCESS);
  CHECK_OK(msg_get_long(m, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, 0);
  memset(&sv, 0, sizeof sv);
  sv.ulPropTag = PR_SUBJECT_A;
  sv.Value.lpszA = (char *)"no";
  CHECK_HR(m->lpVtbl->SetProps(m, 1, &sv, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->SaveChanges(m, 0), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->SetReadFlag(m, 0), MAPI_E_NO_ACCESS);
  m->lpVtbl->Release(m);
  root = store_root(mdb);
  {
    LPMESSAGE nm = (LPMESSAGE)GARBAGE_PTR;
    LPMAPIFOLDER nf = (LPMAPIFOLDER)GARBAGE_PTR;
    ENTRYLIST list = {1, &eid->Value.bin};
    CHECK_HR(root->lpVtbl->CreateMessage(root, NULL, 0, &nm), MAPI_E_NO_ACCESS);
    CHECK(nm == NULL);
    CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "x", NULL, NULL, 0, &nf),
             MAPI_E_NO_ACCESS);
    CHECK(nf == NULL);
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_NO_ACCESS);
    CHECK_HR(root->lpVtbl->SetProps(root, 1, &sv, NULL), MAPI_E_NO_ACCESS);
  }
  sv.ulPropTag = PR_DISPLAY_NAME_A;
  CHECK_HR(mdb->lpVtbl->SetProps(mdb, 1, &sv, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(mdb->lpVtbl->SaveChanges(mdb, 0), MAPI_E_NO_ACCESS);
  /* The message is still readable and unchanged. */
  m = msg_open(mdb, eid, 0);
  {
    char buf[16];
    CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "ro");
  }
  m->lpVtbl->Release(m);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);

  /* MAPI_BEST_ACCESS on a writable file gets write access. */
  mdb = store_open(p, MAPI_BEST_ACCESS);
  m = msg_open(mdb, eid, MAPI_BEST_ACCESS);
  CHECK_OK(msg_get_long(m, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, MAPI_MODIFY);
  m->lpVtbl->Release(m);
  mdb->lpVtbl->Release(mdb);
  MAPIFreeBuffer(eid);
}

/* A store opened without MDB_WRITE refuses every write with MAPI_E_NO_ACCESS — through the
 * store, a folder and a message, whatever access the object was opened with — and the file
 * keeps every byte. */
static void test_read_only_store_refuses_every_write(void) {
  char p[4096];
  long size;
  unsigned char *before;
  LPMDB mdb;
  LPMAPIFOLDER root, sub;
  LPSPropValue eid, eid_sub;
  LPMESSAGE m;
  SPropValue sv;
  SizedSPropTagArray(1, subject) = {1, {PR_SUBJECT_A}};
  LPSPropProblemArray problems;
  ULONG type;
  LPUNKNOWN unk;

  store_location(p, sizeof p, "readonly-all.db");
  unlink(p);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "sub", NULL, NULL, 0, &sub));
  eid_sub = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);
  sub->lpVtbl->Release(sub);
  eid = msg_create(root, "ro");
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  /* A file keeps every byte; a PostgreSQL store is read back at the end. */
  before = on_postgres() ? NULL : file_bytes(p, &size);

  memset(&sv, 0, sizeof sv);
  sv.ulPropTag = PR_SUBJECT_A;
  sv.Value.lpszA = (char *)"no";
  mdb = store_open(p, 0);
  /* The store object. */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(mdb->lpVtbl->SetProps(mdb, 1, &sv, &problems), MAPI_E_NO_ACCESS);
  CHECK(problems == NULL);
  CHECK_HR(mdb->lpVtbl->DeleteProps(mdb, (LPSPropTagArray)&subject, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(mdb->lpVtbl->SaveChanges(mdb, KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  /* OpenEntry with MAPI_MODIFY: the root folder and a subfolder too, not only messages. */
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, MAPI_MODIFY, &type, &unk), MAPI_E_NO_ACCESS);
  CHECK(unk == NULL);
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                  NULL, MAPI_MODIFY, &type, &unk),
           MAPI_E_NO_ACCESS);
  CHECK(unk == NULL);
  /* A folder (MAPI_BEST_ACCESS gives a read-only one here). */
  root = store_root(mdb);
  {
    LPMESSAGE nm = (LPMESSAGE)GARBAGE_PTR;
    LPMAPIFOLDER nf = (LPMAPIFOLDER)GARBAGE_PTR;
    ENTRYLIST list = {1, &eid->Value.bin};
    LONG level = -1;
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_ACCESS_LEVEL, &level));
    CHECK_EQ(level, 0);
    CHECK_HR(root->lpVtbl->CreateMessage(root, NULL, MAPI_ASSOCIATED, &nm), MAPI_E_NO_ACCESS);
    CHECK(nm == NULL);
    CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "sub", NULL, NULL,
                                        OPEN_IF_EXISTS, &nf),
             MAPI_E_NO_ACCESS);
    CHECK(nf == NULL);
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0), MAPI_E_NO_ACCESS);
    CHECK_HR(root->lpVtbl->DeleteFolder(root, eid_sub->Value.bin.cb,
                                        (LPENTRYID)eid_sub->Value.bin.lpb, 0, NULL,
                                        DEL_MESSAGES | DEL_FOLDERS),
             MAPI_E_NO_ACCESS);
    CHECK_HR(root->lpVtbl->SetProps(root, 1, &sv, NULL), MAPI_E_NO_ACCESS);
    CHECK_HR(root->lpVtbl->DeleteProps(root, (LPSPropTagArray)&subject, NULL), MAPI_E_NO_ACCESS);
    CHECK_HR(root->lpVtbl->SaveChanges(root, 0), MAPI_E_NO_ACCESS);
  }
  /* A message: every write, and CopyTo into it. */
  m = msg_open(mdb, eid, MAPI_BEST_ACCESS);
  CHECK_HR(m->lpVtbl->SetProps(m, 1, &sv, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->DeleteProps(m, (LPSPropTagArray)&subject, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->SaveChanges(m, FORCE_SAVE | KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->SetReadFlag(m, CLEAR_READ_FLAG), MAPI_E_NO_ACCESS);
  {
    LPPROPDATA src = NULL;
    CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &src));
    CHECK_OK(src->lpVtbl->SetProps(src, 1, &sv, NULL));
    problems = (LPSPropProblemArray)GARBAGE_PTR;
    CHECK_HR(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, &IID_IMessage, m, 0, &problems),
             MAPI_E_NO_ACCESS);
    CHECK(problems == NULL);
    CHECK_HR(src->lpVtbl->CopyTo(src, 0, NULL, NULL, 0, NULL, NULL, mdb, 0, NULL),
             MAPI_E_NO_ACCESS);
    src->lpVtbl->Release(src);
  }
  m->lpVtbl->Release(m);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  if (before) {
    check_file_unchanged(p, before, size);
    free(before);
  } else {
    char buf[64];
    LONG count = 0;
    mdb = store_open(p, 0);
    m = msg_open(mdb, eid, 0);
    CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "ro");
    m->lpVtbl->Release(m);
    root = store_root(mdb);
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
    root->lpVtbl->Release(root);
    mdb->lpVtbl->Release(mdb);
  }
  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(eid_sub);
}

/* Read-only objects on a writable store: a message or folder opened without MAPI_MODIFY (or
 * MAPI_BEST_ACCESS) refuses writes with MAPI_E_NO_ACCESS, and a MAPI_MOVE out of a read-only
 * object is refused before anything reaches the destination. */
static void test_read_only_objects(void) {
  LPMDB mdb = store_fresh("readonly-objects.db");
  LPMAPIFOLDER root = store_root(mdb), ro_root = NULL, sub = NULL;
  LPSPropValue eid = msg_create(root, "kept"), eid_sub;
  LPMESSAGE m = msg_open(mdb, eid, 0);
  SPropValue sv;
  SizedSPropTagArray(1, subject) = {1, {PR_SUBJECT_A}};
  LPPROPDATA dst = NULL;
  ULONG type = 0, n = GARBAGE_ULONG;
  LPSPropValue vals = NULL;
  LONG level = -1;
  char buf[32];

  memset(&sv, 0, sizeof sv);
  sv.ulPropTag = PR_SUBJECT_A;
  sv.Value.lpszA = (char *)"changed";
  CHECK_OK(msg_get_long(m, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, 0);
  CHECK_HR(m->lpVtbl->SetProps(m, 1, &sv, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->DeleteProps(m, (LPSPropTagArray)&subject, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "kept");
  /* MAPI_MOVE from a read-only message: refused, and the destination gets nothing. */
  CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &dst));
  CHECK_HR(m->lpVtbl->CopyTo(m, 0, NULL, NULL, 0, NULL, NULL, dst, MAPI_MOVE, NULL),
           MAPI_E_NO_ACCESS);
  CHECK_OK(dst->lpVtbl->GetProps(dst, NULL, 0, &n, &vals));
  CHECK_EQ(n, 0);
  {
    SizedSPropTagArray(1, incl) = {1, {PR_SUBJECT_A}};
    CHECK_HR(m->lpVtbl->CopyProps(m, (LPSPropTagArray)&incl, 0, NULL, NULL, dst, MAPI_MOVE, NULL),
             MAPI_E_NO_ACCESS);
    CHECK_OK(dst->lpVtbl->GetProps(dst, NULL, 0, &n, &vals));
    CHECK_EQ(n, 0);
    /* A plain copy from it is fine: reading is allowed. */
    CHECK_OK(m->lpVtbl->CopyProps(m, (LPSPropTagArray)&incl, 0, NULL, NULL, dst, 0, NULL));
    CHECK_OK(dst->lpVtbl->GetProps(dst, NULL, 0, &n, &vals));
    CHECK_EQ(n, 1);
    MAPIFreeBuffer(vals);
  }
  /* CopyTo into the read-only message. */
  CHECK_HR(dst->lpVtbl->CopyTo(dst, 0, NULL, NULL, 0, NULL, NULL, m, 0, NULL), MAPI_E_NO_ACCESS);
  m->lpVtbl->Release(m);

  /* A folder opened with no access flag. */
  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "sub", NULL, NULL, 0, &sub));
  eid_sub = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);
  sub->lpVtbl->Release(sub);
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, 0, &type, (LPUNKNOWN *)&ro_root));
  CHECK_EQ(type, MAPI_FOLDER);
  CHECK_OK(msg_get_long((LPMESSAGE)ro_root, PR_ACCESS_LEVEL, &level));
  CHECK_EQ(level, 0);
  {
    LPMESSAGE nm = (LPMESSAGE)GARBAGE_PTR;
    LPMAPIFOLDER nf = (LPMAPIFOLDER)GARBAGE_PTR;
    ENTRYLIST list = {1, &eid->Value.bin};
    LONG count = -1;
    sv.ulPropTag = PR_COMMENT_A;
    CHECK_HR(ro_root->lpVtbl->CreateMessage(ro_root, NULL, 0, &nm), MAPI_E_NO_ACCESS);
    CHECK(nm == NULL);
    CHECK_HR(ro_root->lpVtbl->CreateFolder(ro_root, FOLDER_GENERIC, (LPTSTR) "other", NULL, NULL,
                                           0, &nf),
             MAPI_E_NO_ACCESS);
    CHECK(nf == NULL);
    CHECK_HR(ro_root->lpVtbl->DeleteMessages(ro_root, &list, 0, NULL, 0), MAPI_E_NO_ACCESS);
    CHECK_HR(ro_root->lpVtbl->DeleteFolder(ro_root, eid_sub->Value.bin.cb,
                                           (LPENTRYID)eid_sub->Value.bin.lpb, 0, NULL, 0),
             MAPI_E_NO_ACCESS);
    CHECK_HR(ro_root->lpVtbl->SetProps(ro_root, 1, &sv, NULL), MAPI_E_NO_ACCESS);
    CHECK_HR(ro_root->lpVtbl->DeleteProps(ro_root, (LPSPropTagArray)&subject, NULL),
             MAPI_E_NO_ACCESS);
    CHECK_HR(ro_root->lpVtbl->SaveChanges(ro_root, 0), MAPI_E_NO_ACCESS);
    /* Nothing happened: the message and the subfolder are still there. */
    CHECK_OK(msg_get_long((LPMESSAGE)root, PR_CONTENT_COUNT, &count));
    CHECK_EQ(count, 1);
    m = msg_open(mdb, eid, 0);
    m->lpVtbl->Release(m);
    CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                    NULL, 0, &type, (LPUNKNOWN *)&sub));
    sub->lpVtbl->Release(sub);
  }
  ro_root->lpVtbl->Release(ro_root);
  dst->lpVtbl->Release(dst);
  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(eid_sub);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_folders(void) {
  LPMDB mdb = store_fresh("folders.db");
  LPMAPIFOLDER root = store_root(mdb), inbox = NULL, again = NULL, sub = NULL;
  LPSPropValue eid_inbox, eid_sub, v;
  LONG n = -1;
  WCHAR wide[] = {'R', 0x00E9, 's', 'u', 'm', 0x00E9, 0};

  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "Inbox", (LPTSTR) "mail",
                                      NULL, 0, &inbox));
  CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "inbox", NULL, NULL, 0, &again),
           MAPI_E_COLLISION);
  CHECK(again == NULL);
  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "Inbox", NULL, NULL,
                                      OPEN_IF_EXISTS, &again));
  CHECK(props_equal((LPMAPIPROP)inbox, (LPMAPIPROP)again));
  again->lpVtbl->Release(again);
  CHECK_OK(inbox->lpVtbl->CreateFolder(inbox, FOLDER_GENERIC, (LPTSTR)wide, NULL, NULL,
                                       MAPI_UNICODE, &sub));
  v = msg_get_one((LPMAPIPROP)sub, PR_DISPLAY_NAME_W);
  CHECK_WSTR(v->Value.lpszW, wide);
  MAPIFreeBuffer(v);
  CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_SEARCH, (LPTSTR) "s", NULL, NULL, 0, &again),
           MAPI_E_NO_SUPPORT);
  CHECK_HR(root->lpVtbl->CreateFolder(root, 77, (LPTSTR) "s", NULL, NULL, 0, &again),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, NULL, NULL, NULL, 0, &again),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "n", NULL, NULL, 0x100, &again),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "n", NULL, &IID_IMessage, 0,
                                      &again),
           MAPI_E_INTERFACE_NOT_SUPPORTED);

  eid_inbox = msg_get_one((LPMAPIPROP)inbox, PR_ENTRYID);
  eid_sub = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);
  {
    LPSPropValue e = msg_create(inbox, "in inbox");
    MAPIFreeBuffer(e);
  }
  CHECK_OK(msg_get_long((LPMESSAGE)inbox, PR_CONTENT_COUNT, &n));
  CHECK_EQ(n, 1);
  v = msg_get_one((LPMAPIPROP)inbox, PR_SUBFOLDERS);
  CHECK_EQ(v->Value.b, 1);
  MAPIFreeBuffer(v);
  v = msg_get_one((LPMAPIPROP)inbox, PR_PARENT_ENTRYID);
  {
    LPSPropValue root_eid = msg_get_one((LPMAPIPROP)root, PR_ENTRYID);
    CHECK_EQ(v->Value.bin.cb, root_eid->Value.bin.cb);
    CHECK(memcmp(v->Value.bin.lpb, root_eid->Value.bin.lpb, v->Value.bin.cb) == 0);
    MAPIFreeBuffer(root_eid);
  }
  MAPIFreeBuffer(v);
  /* Folder properties are not transacted: another handle sees a change at once. */
  {
    ULONG type;
    LPUNKNOWN unk = NULL;
    char buf[32];
    CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, eid_inbox->Value.bin.cb, (LPENTRYID)eid_inbox->Value.bin.lpb,
                                    NULL, MAPI_MODIFY, &type, &unk));
    CHECK_EQ(type, MAPI_FOLDER);
    msg_set_str((LPMESSAGE)inbox, PR_COMMENT_A, "renamed comment");
    CHECK_OK(msg_get_str((LPMESSAGE)unk, PR_COMMENT_A, buf, sizeof buf));
    CHECK_STR(buf, "renamed comment");
    unk->lpVtbl->Release(unk);
  }
  /* DeleteFolder needs DEL_MESSAGES / DEL_FOLDERS for a non-empty folder. */
  CHECK_HR(root->lpVtbl->DeleteFolder(root, eid_inbox->Value.bin.cb,
                                      (LPENTRYID)eid_inbox->Value.bin.lpb, 0, NULL, 0),
           MAPI_E_HAS_MESSAGES);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, eid_inbox->Value.bin.cb,
                                      (LPENTRYID)eid_inbox->Value.bin.lpb, 0, NULL, DEL_MESSAGES),
           MAPI_E_HAS_FOLDERS);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                      0, NULL, 0),
           MAPI_E_NOT_FOUND); /* not a child of root */
  CHECK_HR(root->lpVtbl->DeleteFolder(root, 0, NULL, 0, NULL, 0), MAPI_E_INVALID_ENTRYID);
  CHECK_HR(root->lpVtbl->DeleteFolder(root, eid_inbox->Value.bin.cb,
                                      (LPENTRYID)eid_inbox->Value.bin.lpb, 0, NULL, 0x100),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_OK(root->lpVtbl->DeleteFolder(root, eid_inbox->Value.bin.cb,
                                      (LPENTRYID)eid_inbox->Value.bin.lpb, 0, NULL,
                                      DEL_MESSAGES | DEL_FOLDERS));
  /* The deleted folder's object reports it; its subfolder is gone too. */
  {
    LPMESSAGE nm = NULL;
    ULONG type;
    LPUNKNOWN unk = NULL;
    CHECK_HR(inbox->lpVtbl->CreateMessage(inbox, NULL, 0, &nm), MAPI_E_OBJECT_DELETED);
    CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, eid_sub->Value.bin.cb, (LPENTRYID)eid_sub->Value.bin.lpb,
                                    NULL, 0, &type, &unk),
             MAPI_E_NOT_FOUND);
  }
  /* DeleteMessages bad input. */
  {
    ENTRYLIST bad = {2, NULL};
    CHECK_HR(root->lpVtbl->DeleteMessages(root, NULL, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &bad, 0, NULL, 0), MAPI_E_INVALID_PARAMETER);
    bad.cValues = 0;
    CHECK_HR(root->lpVtbl->DeleteMessages(root, &bad, 0, NULL, 0x1000), MAPI_E_UNKNOWN_FLAGS);
  }
  /* Not-yet-implemented slots answer MAPI_E_NO_SUPPORT, never crash (CopyMessages is
   * implemented: a NULL list is bad input, c-tests/copy_test.c has the rest). */
  {
    CHECK_HR(root->lpVtbl->CopyMessages(root, NULL, NULL, NULL, 0, NULL, 0),
             MAPI_E_INVALID_PARAMETER);
    CHECK_HR(root->lpVtbl->EmptyFolder(root, 0, NULL, 0), MAPI_E_NO_SUPPORT);
  }
  MAPIFreeBuffer(eid_inbox);
  MAPIFreeBuffer(eid_sub);
  sub->lpVtbl->Release(sub);
  inbox->lpVtbl->Release(inbox);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_bad_input(void) {
  LPMDB mdb = store_fresh("badinput.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "b");
  LPMESSAGE m = msg_open(mdb, eid, MAPI_MODIFY), nm = (LPMESSAGE)GARBAGE_PTR;
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;

  CHECK_HR(root->lpVtbl->CreateMessage(root, NULL, 0x1, &nm), MAPI_E_UNKNOWN_FLAGS);
  CHECK(nm == NULL);
  CHECK_HR(root->lpVtbl->CreateMessage(root, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(root->lpVtbl->CreateMessage(root, &IID_IMAPIFolder, 0, &nm), MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_HR(m->lpVtbl->SetProps(m, 1, NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(m->lpVtbl->SetProps(m, 0, (LPSPropValue)eid, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(m->lpVtbl->GetLastError(m, MAPI_E_INVALID_PARAMETER, 0x1, &err), MAPI_E_UNKNOWN_FLAGS);
  CHECK(err == NULL);
  CHECK_OK(m->lpVtbl->GetLastError(m, MAPI_E_INVALID_PARAMETER, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "SetProps") != NULL);
  MAPIFreeBuffer(err);
  {
    LPMAPITABLE table = (LPMAPITABLE)GARBAGE_PTR;
    CHECK_OK(m->lpVtbl->GetAttachmentTable(m, 0, &table));
    CHECK(table != NULL && (void *)table != GARBAGE_PTR);
    table->lpVtbl->Release(table);
    CHECK_HR(m->lpVtbl->SubmitMessage(m, 0), MAPI_E_NO_SUPPORT);
  }
  /* A NULL This through the vtable is refused, never dereferenced. */
  CHECK_HR(m->lpVtbl->SaveChanges(NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(mdb->lpVtbl->OpenEntry(NULL, 0, NULL, NULL, 0, NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(m->lpVtbl->AddRef(NULL), 0);
  /* MsgStoreSetConflictResolver wants a store object of ours. */
  CHECK_HR(MsgStoreSetConflictResolver(NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(MsgStoreSetConflictResolver((LPMDB)m, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_OK(MsgStoreSetConflictResolver(mdb, NULL));
  m->lpVtbl->Release(m);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"open_errors", test_open_errors},
    {"open_not_a_store", test_open_not_a_store},
    {"store_props", test_store_props},
    {"save_rules", test_save_rules},
    {"keep_open_and_no_changes", test_keep_open_and_no_changes},
    {"deleted_under_you", test_deleted_under_you},
    {"new_message_and_change_props", test_new_message_and_change_props},
    {"read_flag", test_read_flag},
    {"persistence", test_persistence},
    {"entry_ids", test_entry_ids},
    {"entry_ids_everywhere", test_entry_ids_everywhere},
    {"read_only_store", test_read_only_store},
    {"read_only_store_refuses_every_write", test_read_only_store_refuses_every_write},
    {"read_only_objects", test_read_only_objects},
    {"folders", test_folders},
    {"bad_input", test_bad_input},
    {"panics_in_store_methods", test_panics_in_store_methods},
};

int main(int argc, char **argv) {
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
