/* Named properties through the vtables (issue 15 item 2; reference §5.5): GetIDsFromNames and
 * GetNamesFromIDs on the store, folders and messages of one store share one persistent mapping
 * (IDs 0x8000-0xFFFE); the IDs are the same in every process, for racing creators and after a
 * reopen; the NULL forms list every mapping; unknown IDs come back as NULL names with
 * MAPI_W_ERRORS_RETURNED; the quota gives MAPI_E_TOO_BIG; bad input gets a clear HRESULT
 * (docs/BAD_INPUT.md).
 *
 *   named_test [--list | SECTION...]                     the test (parent): test_util.h's sections
 *   named_test ids-child <store> <out-file>              prints the IDs of the test names
 *   named_test race-child <store> <sync-file> <index>    a racing creator
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"
#include "proc_util.h"

#include <pthread.h>

enum { NAMES = 24, RACERS = 6, STRING_NAMES = 14 };

static const char *g_self;

/* A property set of the test's own (any GUID may name one). */
static GUID g_custom = {0x12345678, 0x9ABC, 0xDEF0, {1, 2, 3, 4, 5, 6, 7, 8}};

/* The test's names: MNID_STRING "Field<i>" in PS_PUBLIC_STRINGS, then MNID_ID 0x100+i in the
 * custom set. */
struct test_names {
  MAPINAMEID names[NAMES];
  LPMAPINAMEID ptrs[NAMES];
  WCHAR strings[NAMES][16];
};

static void wide(WCHAR *out, size_t size, const char *s) {
  size_t i;
  for (i = 0; s[i] != 0 && i + 1 < size; i++) out[i] = (WCHAR)(unsigned char)s[i];
  out[i] = 0;
}

static void make_names(struct test_names *t) {
  int i;
  memset(t, 0, sizeof *t);
  for (i = 0; i < NAMES; i++) {
    if (i < STRING_NAMES) {
      char buf[16];
      snprintf(buf, sizeof buf, "Field%d", i);
      wide(t->strings[i], 16, buf);
      t->names[i].lpguid = (LPGUID)&PS_PUBLIC_STRINGS;
      t->names[i].ulKind = MNID_STRING;
      t->names[i].Kind.lpwstrName = t->strings[i];
    } else {
      t->names[i].lpguid = &g_custom;
      t->names[i].ulKind = MNID_ID;
      t->names[i].Kind.lID = 0x100 + i;
    }
    t->ptrs[i] = &t->names[i];
  }
}

/* GetIDsFromNames of `n` names, checked to return `want`; the IDs into ids[] (0 for PT_ERROR). */
static void ids_of(LPMAPIPROP obj, ULONG n, LPMAPINAMEID *names, ULONG flags, HRESULT want,
                   ULONG *ids) {
  LPSPropTagArray tags = (LPSPropTagArray)GARBAGE_PTR;
  ULONG i;
  CHECK_HR(obj->lpVtbl->GetIDsFromNames(obj, n, names, flags, &tags), want);
  CHECK(tags != NULL);
  CHECK_EQ(tags->cValues, n);
  for (i = 0; i < n; i++) {
    ULONG tag = tags->aulPropTag[i];
    if (PROP_TYPE(tag) == PT_ERROR) {
      CHECK_EQ(tag, PROP_TAG(PT_ERROR, 0));
      ids[i] = 0;
    } else {
      CHECK_EQ(PROP_TYPE(tag), PT_UNSPECIFIED);
      CHECK(PROP_ID(tag) >= 0x8000 && PROP_ID(tag) <= 0xFFFE);
      ids[i] = PROP_ID(tag);
    }
  }
  MAPIFreeBuffer(tags);
}

static LPMDB fresh_store(char *path, size_t size, const char *name) {
  store_location(path, size, name);
  if (!on_postgres()) store_remove_files(path);
  return store_open(path, MAPI_CREATE | MDB_WRITE);
}

static LPMESSAGE new_message(LPMAPIFOLDER root) {
  LPMESSAGE msg = NULL;
  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, 0, &msg));
  return msg;
}

/* PR_MAPPING_SIGNATURE of an object: 16 bytes, copied into sig. */
static void mapping_signature(LPMAPIPROP obj, BYTE sig[16]) {
  LPSPropValue v = msg_get_one(obj, PR_MAPPING_SIGNATURE);
  CHECK_EQ(v->ulPropTag, PR_MAPPING_SIGNATURE);
  CHECK_EQ(v->Value.bin.cb, 16);
  memcpy(sig, v->Value.bin.lpb, 16);
  MAPIFreeBuffer(v);
}

static void test_ids_and_names(void) {
  char path[4096];
  LPMDB mdb = fresh_store(path, sizeof path, "named-basic.db");
  LPMAPIFOLDER root = store_root(mdb);
  LPMESSAGE msg = new_message(root);
  struct test_names t;
  ULONG ids[NAMES], again[NAMES], i, count = GARBAGE_ULONG;
  LPMAPINAMEID *back = (LPMAPINAMEID *)GARBAGE_PTR;
  LPSPropTagArray tags;
  BYTE s1[16], s2[16], s3[16];
  SPropValue pv;
  LONG got = 0;

  make_names(&t);
  /* Without MAPI_CREATE, unknown names are PT_ERROR with ID 0. */
  ids_of((LPMAPIPROP)msg, NAMES, t.ptrs, 0, MAPI_W_ERRORS_RETURNED, ids);
  for (i = 0; i < NAMES; i++) CHECK_EQ(ids[i], 0);
  /* MAPI_CREATE on the message: consecutive IDs from 0x8000, in request order. */
  ids_of((LPMAPIPROP)msg, NAMES, t.ptrs, MAPI_CREATE, S_OK, ids);
  for (i = 0; i < NAMES; i++) CHECK_EQ(ids[i], 0x8000 + i);
  /* The folder and the store see the same mapping. */
  ids_of((LPMAPIPROP)root, NAMES, t.ptrs, 0, S_OK, again);
  CHECK(memcmp(ids, again, sizeof ids) == 0);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, MAPI_CREATE, S_OK, again);
  CHECK(memcmp(ids, again, sizeof ids) == 0);
  /* A string name differs by case; the same string in another set is another name. */
  {
    WCHAR lower[16];
    MAPINAMEID other[2];
    LPMAPINAMEID p[2] = {&other[0], &other[1]};
    ULONG two[2];
    wide(lower, 16, "field0");
    other[0] = t.names[0];
    other[0].Kind.lpwstrName = lower;
    other[1] = t.names[0];
    other[1].lpguid = &g_custom;
    ids_of((LPMAPIPROP)mdb, 2, p, MAPI_CREATE, S_OK, two);
    CHECK_EQ(two[0], 0x8000 + NAMES);
    CHECK_EQ(two[1], 0x8000 + NAMES + 1);
  }
  /* GetNamesFromIDs gives the names back, in the caller's tag order. */
  tags = tag_array(3, PROP_TAG(PT_LONG, ids[5]), PROP_TAG(PT_STRING8, ids[NAMES - 1]),
                   PROP_TAG(PT_UNSPECIFIED, ids[0]));
  CHECK_OK(root->lpVtbl->GetNamesFromIDs(root, &tags, NULL, 0, &count, &back));
  CHECK_EQ(count, 3);
  CHECK(FEqualNames(back[0], &t.names[5]));
  CHECK(FEqualNames(back[1], &t.names[NAMES - 1]));
  CHECK(FEqualNames(back[2], &t.names[0]));
  CHECK_EQ(back[1]->ulKind, MNID_ID);
  CHECK_EQ(back[1]->Kind.lID, 0x100 + NAMES - 1);
  CHECK_WSTR(back[0]->Kind.lpwstrName, t.strings[5]);
  CHECK(memcmp(back[0]->lpguid, &PS_PUBLIC_STRINGS, sizeof(GUID)) == 0);
  MAPIFreeBuffer(back); /* one MAPIFreeBuffer frees every name */
  MAPIFreeBuffer(tags);
  /* A named property is a property like any other: set, saved, read by its ID. */
  memset(&pv, 0, sizeof pv);
  pv.ulPropTag = PROP_TAG(PT_LONG, ids[3]);
  pv.Value.l = 4242;
  CHECK_OK(msg->lpVtbl->SetProps(msg, 1, &pv, NULL));
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
  CHECK_OK(msg_get_long(msg, PROP_TAG(PT_LONG, ids[3]), &got));
  CHECK_EQ(got, 4242);
  /* One mapping signature for the store's objects. */
  mapping_signature((LPMAPIPROP)mdb, s1);
  mapping_signature((LPMAPIPROP)root, s2);
  mapping_signature((LPMAPIPROP)msg, s3);
  CHECK(memcmp(s1, s2, 16) == 0 && memcmp(s1, s3, 16) == 0);
  pv.ulPropTag = PR_MAPPING_SIGNATURE;
  pv.Value.bin.cb = 16;
  pv.Value.bin.lpb = s1;
  {
    LPSPropProblemArray problems = NULL;
    CHECK_OK(msg->lpVtbl->SetProps(msg, 1, &pv, &problems));
    CHECK(problems != NULL && problems->cProblem == 1);
    CHECK_HR(problems->aProblem[0].scode, MAPI_E_COMPUTED);
    MAPIFreeBuffer(problems);
  }
  /* An attachment and a message embedded in it share the store's mapping too. */
  {
    LPATTACH att = NULL;
    LPMESSAGE embedded = NULL;
    ULONG num = GARBAGE_ULONG;
    CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &att));
    ids_of((LPMAPIPROP)att, NAMES, t.ptrs, 0, S_OK, again);
    CHECK(memcmp(ids, again, sizeof ids) == 0);
    CHECK_OK(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0,
                                       MAPI_CREATE | MAPI_MODIFY, (LPUNKNOWN *)&embedded));
    ids_of((LPMAPIPROP)embedded, NAMES, t.ptrs, 0, S_OK, again);
    CHECK(memcmp(ids, again, sizeof ids) == 0);
    embedded->lpVtbl->Release(embedded);
    att->lpVtbl->Release(att);
  }
  msg->lpVtbl->Release(msg);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_null_forms(void) {
  char path[4096];
  LPMDB mdb = fresh_store(path, sizeof path, "named-null.db");
  LPMAPIFOLDER root = store_root(mdb);
  struct test_names t;
  ULONG ids[NAMES], count = GARBAGE_ULONG, i;
  LPSPropTagArray all = (LPSPropTagArray)GARBAGE_PTR;
  LPMAPINAMEID *names = (LPMAPINAMEID *)GARBAGE_PTR;

  /* Nothing mapped yet: empty lists. */
  CHECK_OK(root->lpVtbl->GetIDsFromNames(root, 0, NULL, 0, &all));
  CHECK(all != NULL);
  CHECK_EQ(all->cValues, 0);
  MAPIFreeBuffer(all);
  all = NULL;
  CHECK_OK(root->lpVtbl->GetNamesFromIDs(root, &all, NULL, 0, &count, &names));
  CHECK(all != NULL);
  CHECK_EQ(all->cValues, 0);
  CHECK_EQ(count, 0);
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);

  make_names(&t);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, MAPI_CREATE, S_OK, ids);
  /* GetIDsFromNames(0, NULL): every ID, in ID order. */
  CHECK_OK(root->lpVtbl->GetIDsFromNames(root, 0, NULL, 0, &all));
  CHECK_EQ(all->cValues, NAMES);
  for (i = 0; i < NAMES; i++) CHECK_EQ(all->aulPropTag[i], PROP_TAG(PT_UNSPECIFIED, 0x8000 + i));
  MAPIFreeBuffer(all);
  /* GetNamesFromIDs(&NULL): every mapping, its tags returned in a new array. */
  all = NULL;
  CHECK_OK(mdb->lpVtbl->GetNamesFromIDs(mdb, &all, NULL, 0, &count, &names));
  CHECK_EQ(count, NAMES);
  CHECK_EQ(all->cValues, NAMES);
  for (i = 0; i < NAMES; i++) {
    CHECK_EQ(PROP_ID(all->aulPropTag[i]), ids[i]);
    CHECK(FEqualNames(names[i], &t.names[i]));
  }
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);
  /* The GUID filter: only the custom set's names. */
  all = NULL;
  CHECK_OK(mdb->lpVtbl->GetNamesFromIDs(mdb, &all, &g_custom, 0, &count, &names));
  CHECK_EQ(count, NAMES - STRING_NAMES);
  for (i = 0; i < count; i++) CHECK(FEqualNames(names[i], &t.names[STRING_NAMES + i]));
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);
  /* MAPI_NO_IDS: string names only; MAPI_NO_STRINGS: numeric only; both: none. */
  all = NULL;
  CHECK_OK(mdb->lpVtbl->GetNamesFromIDs(mdb, &all, NULL, MAPI_NO_IDS, &count, &names));
  CHECK_EQ(count, STRING_NAMES);
  for (i = 0; i < count; i++) CHECK_EQ(names[i]->ulKind, MNID_STRING);
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);
  all = NULL;
  CHECK_OK(mdb->lpVtbl->GetNamesFromIDs(mdb, &all, NULL, MAPI_NO_STRINGS, &count, &names));
  CHECK_EQ(count, NAMES - STRING_NAMES);
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);
  all = NULL;
  CHECK_OK(mdb->lpVtbl->GetNamesFromIDs(mdb, &all, NULL, MAPI_NO_STRINGS | MAPI_NO_IDS, &count,
                                        &names));
  CHECK_EQ(count, 0);
  MAPIFreeBuffer(all);
  MAPIFreeBuffer(names);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_unknown_ids(void) {
  char path[4096];
  LPMDB mdb = fresh_store(path, sizeof path, "named-unknown.db");
  struct test_names t;
  ULONG ids[NAMES], count = GARBAGE_ULONG;
  LPMAPINAMEID *names = (LPMAPINAMEID *)GARBAGE_PTR;
  LPSPropTagArray tags, in;

  make_names(&t);
  ids_of((LPMAPIPROP)mdb, 2, t.ptrs, MAPI_CREATE, S_OK, ids);
  /* Unmapped, below the named range, PROP_ID_INVALID, and the GUID filter's leavings. */
  tags = tag_array(5, PROP_TAG(PT_LONG, 0x9000), PROP_TAG(PT_LONG, ids[1]), PR_SUBJECT_W,
                   PROP_TAG(PT_LONG, 0xFFFF), PROP_TAG(PT_LONG, ids[0]));
  in = tags;
  CHECK_HR(mdb->lpVtbl->GetNamesFromIDs(mdb, &tags, NULL, 0, &count, &names),
           MAPI_W_ERRORS_RETURNED);
  CHECK(tags == in); /* the caller's array stays the caller's */
  CHECK_EQ(count, 5);
  CHECK(names[0] == NULL && names[2] == NULL && names[3] == NULL);
  CHECK(FEqualNames(names[1], &t.names[1]));
  CHECK(FEqualNames(names[4], &t.names[0]));
  MAPIFreeBuffer(names);
  CHECK_HR(mdb->lpVtbl->GetNamesFromIDs(mdb, &tags, &g_custom, 0, &count, &names),
           MAPI_W_ERRORS_RETURNED);
  CHECK(names[1] == NULL && names[4] == NULL); /* both are PS_PUBLIC_STRINGS names */
  MAPIFreeBuffer(names);
  MAPIFreeBuffer(tags);
  mdb->lpVtbl->Release(mdb);
}

/* Prints the test names' IDs (looked up, not created) to `out`: the other side of
 * section_across_processes. */
static int ids_child(const char *path, const char *out) {
  LPMDB mdb = store_open(path, 0);
  struct test_names t;
  ULONG ids[NAMES];
  FILE *f;
  int i;
  make_names(&t);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, 0, S_OK, ids);
  f = fopen(out, "w");
  CHECK(f != NULL);
  for (i = 0; i < NAMES; i++) fprintf(f, "%lu\n", (unsigned long)ids[i]);
  fclose(f);
  mdb->lpVtbl->Release(mdb);
  return 0;
}

static void test_reopen_and_across_processes(void) {
  char path[4096], out[4096];
  LPMDB mdb = fresh_store(path, sizeof path, "named-reopen.db");
  struct test_names t;
  ULONG ids[NAMES], again[NAMES];
  char *argv[5];
  FILE *f;
  int i;
  BYTE before[16], after[16];

  make_names(&t);
  /* Created in reverse order: IDs are given in request order. */
  {
    LPMAPINAMEID rev[NAMES];
    ULONG rids[NAMES];
    for (i = 0; i < NAMES; i++) rev[i] = t.ptrs[NAMES - 1 - i];
    ids_of((LPMAPIPROP)mdb, NAMES, rev, MAPI_CREATE, S_OK, rids);
    for (i = 0; i < NAMES; i++) ids[NAMES - 1 - i] = rids[i];
  }
  mapping_signature((LPMAPIPROP)mdb, before);
  mdb->lpVtbl->Release(mdb);
  /* Reopened, read-write and read-only: the same IDs, the same signature. */
  mdb = store_open(path, MDB_WRITE);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, MAPI_CREATE, S_OK, again);
  CHECK(memcmp(ids, again, sizeof ids) == 0);
  mapping_signature((LPMAPIPROP)mdb, after);
  CHECK(memcmp(before, after, 16) == 0);
  mdb->lpVtbl->Release(mdb);
  mdb = store_open(path, 0);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, 0, S_OK, again);
  CHECK(memcmp(ids, again, sizeof ids) == 0);
  /* A read-only store gives no new ID, even with MAPI_CREATE. */
  {
    WCHAR s[16];
    MAPINAMEID fresh;
    LPMAPINAMEID p = &fresh;
    ULONG id = 1;
    wide(s, 16, "NotYet");
    fresh.lpguid = &g_custom;
    fresh.ulKind = MNID_STRING;
    fresh.Kind.lpwstrName = s;
    ids_of((LPMAPIPROP)mdb, 1, &p, MAPI_CREATE, MAPI_W_ERRORS_RETURNED, &id);
    CHECK_EQ(id, 0);
  }
  mdb->lpVtbl->Release(mdb);
  /* Another process sees the same IDs. */
  test_path(out, sizeof out, "named-ids.txt");
  argv[0] = (char *)g_self;
  argv[1] = (char *)"ids-child";
  argv[2] = path;
  argv[3] = out;
  argv[4] = NULL;
  CHECK_EQ(wait_child(spawn_self(g_self, argv)), 0);
  f = fopen(out, "r");
  CHECK(f != NULL);
  for (i = 0; i < NAMES; i++) {
    unsigned long v = 0;
    CHECK_EQ(fscanf(f, "%lu", &v), 1);
    CHECK_EQ(v, ids[i]);
  }
  fclose(f);
}

/* Shared between the racing processes through a mapped file. */
struct race {
  pthread_barrier_t barrier;
  int failed;
  ULONG ids[RACERS][NAMES];
};

/* One racer: waits for the others, then creates every test name, one per call, starting at a
 * different name than the other racers. */
static int race_child(const char *path, const char *sync_path, int me) {
  struct race *r = (struct race *)map_shared_file(sync_path, sizeof(struct race), 0);
  LPMDB mdb = store_open(path, MDB_WRITE);
  struct test_names t;
  int i;
  make_names(&t);
  pthread_barrier_wait(&r->barrier);
  for (i = 0; i < NAMES; i++) {
    int k = (i + me * 5) % NAMES;
    ULONG id = 0;
    ids_of((LPMAPIPROP)mdb, 1, &t.ptrs[k], MAPI_CREATE, S_OK, &id);
    r->ids[me][k] = id;
  }
  CHECK_EQ(msync(r, sizeof *r, MS_SYNC), 0);
  mdb->lpVtbl->Release(mdb);
  munmap(r, sizeof *r);
  return 0;
}

static void test_racing_creators(void) {
  char path[4096], sync_path[4096], idx[RACERS][8];
  LPMDB mdb = fresh_store(path, sizeof path, "named-race.db");
  struct race *r;
  pthread_barrierattr_t attr;
  pid_t pids[RACERS];
  struct test_names t;
  ULONG ids[NAMES], seen[NAMES];
  int i, k;

  mdb->lpVtbl->Release(mdb);
  test_path(sync_path, sizeof sync_path, "named-race.sync");
  r = (struct race *)map_shared_file(sync_path, sizeof(struct race), 1);
  memset(r, 0, sizeof *r);
  CHECK_EQ(pthread_barrierattr_init(&attr), 0);
  CHECK_EQ(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
  CHECK_EQ(pthread_barrier_init(&r->barrier, &attr, RACERS), 0);
  CHECK_EQ(msync(r, sizeof *r, MS_SYNC), 0);
  for (i = 0; i < RACERS; i++) {
    char *argv[6];
    snprintf(idx[i], sizeof idx[i], "%d", i);
    argv[0] = (char *)g_self;
    argv[1] = (char *)"race-child";
    argv[2] = path;
    argv[3] = sync_path;
    argv[4] = idx[i];
    argv[5] = NULL;
    pids[i] = spawn_self(g_self, argv);
  }
  for (i = 0; i < RACERS; i++) CHECK_EQ(wait_child(pids[i]), 0);
  /* Every racer got the same ID for each name, and the IDs are 0x8000.. with none wasted. */
  memset(seen, 0, sizeof seen);
  for (k = 0; k < NAMES; k++) {
    for (i = 1; i < RACERS; i++) CHECK_EQ(r->ids[i][k], r->ids[0][k]);
    CHECK(r->ids[0][k] >= 0x8000 && r->ids[0][k] < 0x8000 + NAMES);
    seen[r->ids[0][k] - 0x8000]++;
  }
  for (k = 0; k < NAMES; k++) CHECK_EQ(seen[k], 1);
  /* ...and the store agrees. */
  mdb = store_open(path, 0);
  make_names(&t);
  ids_of((LPMAPIPROP)mdb, NAMES, t.ptrs, 0, S_OK, ids);
  for (k = 0; k < NAMES; k++) CHECK_EQ(ids[k], r->ids[0][k]);
  mdb->lpVtbl->Release(mdb);
  pthread_barrier_destroy(&r->barrier);
  pthread_barrierattr_destroy(&attr);
  munmap(r, sizeof *r);
}

static void test_quota(void) {
  char path[4096];
  LPMDB mdb;
  struct test_names t;
  ULONG ids[NAMES];
  LPSPropTagArray tags = (LPSPropTagArray)GARBAGE_PTR;

  /* A store that may hold 3 names (the test-only knob, read at open). */
  CHECK_EQ(setenv("MSGSTORE_NAMED_PROP_QUOTA", "3", 1), 0);
  mdb = fresh_store(path, sizeof path, "named-quota.db");
  CHECK_EQ(unsetenv("MSGSTORE_NAMED_PROP_QUOTA"), 0);
  make_names(&t);
  ids_of((LPMAPIPROP)mdb, 2, t.ptrs, MAPI_CREATE, S_OK, ids);
  /* Two new names where one fits: the whole call fails and creates nothing. */
  CHECK_HR(mdb->lpVtbl->GetIDsFromNames(mdb, 2, &t.ptrs[2], MAPI_CREATE, &tags), MAPI_E_TOO_BIG);
  CHECK(tags == NULL);
  ids_of((LPMAPIPROP)mdb, 2, &t.ptrs[2], 0, MAPI_W_ERRORS_RETURNED, ids);
  CHECK_EQ(ids[0], 0);
  CHECK_EQ(ids[1], 0);
  /* Existing names still resolve with MAPI_CREATE; the last free ID is still given. */
  ids_of((LPMAPIPROP)mdb, 3, t.ptrs, MAPI_CREATE, S_OK, ids);
  CHECK_EQ(ids[2], 0x8002);
  CHECK_HR(mdb->lpVtbl->GetIDsFromNames(mdb, 1, &t.ptrs[3], MAPI_CREATE, &tags), MAPI_E_TOO_BIG);
  CHECK(tags == NULL);
  mdb->lpVtbl->Release(mdb);
}

/* Bad input (docs/BAD_INPUT.md): a clear HRESULT, out-parameters NULL, nothing created. */
static void test_bad_input(void) {
  char path[4096];
  LPMDB mdb = fresh_store(path, sizeof path, "named-bad.db");
  LPMAPIFOLDER root = store_root(mdb);
  struct test_names t;
  MAPINAMEID bad;
  LPMAPINAMEID p[2];
  LPSPropTagArray tags = (LPSPropTagArray)GARBAGE_PTR, in;
  LPMAPINAMEID *names = (LPMAPINAMEID *)GARBAGE_PTR;
  ULONG count = GARBAGE_ULONG, ids[NAMES];
  WCHAR surrogate[3] = {0xD800, 'x', 0};
  WCHAR longname[600];
  int i;

  make_names(&t);
#define REFUSED(n, names_, flags, hr)                                                   \
  do {                                                                                  \
    tags = (LPSPropTagArray)GARBAGE_PTR;                                                \
    CHECK_HR(root->lpVtbl->GetIDsFromNames(root, (n), (names_), (flags), &tags), (hr)); \
    CHECK(tags == NULL);                                                                \
  } while (0)
  /* A NULL entry, a NULL GUID, a NULL string, an unknown kind (with a good name before it). */
  p[0] = t.ptrs[0];
  p[1] = NULL;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  bad = t.names[0];
  bad.lpguid = NULL;
  p[1] = &bad;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  bad = t.names[0];
  bad.Kind.lpwstrName = NULL;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  bad = t.names[0];
  bad.ulKind = 2;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  bad.ulKind = 0xFFFFFFFFu;
  REFUSED(2, p, 0, MAPI_E_INVALID_PARAMETER);
  /* An unpaired surrogate; a name longer than 512 UTF-16 units. */
  bad = t.names[0];
  bad.Kind.lpwstrName = surrogate;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_BAD_CHARWIDTH);
  for (i = 0; i < 599; i++) longname[i] = 'a';
  longname[599] = 0;
  bad.Kind.lpwstrName = longname;
  REFUSED(2, p, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  longname[512] = 0; /* 512 units fit */
  ids_of((LPMAPIPROP)root, 1, &p[1], MAPI_CREATE, S_OK, ids);
  CHECK_EQ(ids[0], 0x8000);
  /* Counts and the NULL form: names with cPropNames 0, NULL names with a count, NULL names with
   * MAPI_CREATE. */
  REFUSED(0, t.ptrs, 0, MAPI_E_INVALID_PARAMETER);
  REFUSED(1, NULL, 0, MAPI_E_INVALID_PARAMETER);
  REFUSED(0, NULL, MAPI_CREATE, MAPI_E_INVALID_PARAMETER);
  /* Unknown flags, on both methods. */
  REFUSED(1, t.ptrs, 0x4, MAPI_E_UNKNOWN_FLAGS);
  in = tag_array(1, PROP_TAG(PT_LONG, 0x8000));
  tags = in;
  CHECK_HR(root->lpVtbl->GetNamesFromIDs(root, &tags, NULL, 0x4, &count, &names),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK(names == NULL);
  CHECK_EQ(count, 0);
  CHECK(tags == in);
  /* A tag array with cValues 0. */
  in->cValues = 0;
  names = (LPMAPINAMEID *)GARBAGE_PTR;
  CHECK_HR(root->lpVtbl->GetNamesFromIDs(root, &tags, NULL, 0, &count, &names),
           MAPI_E_INVALID_PARAMETER);
  CHECK(names == NULL);
  MAPIFreeBuffer(in);
  /* Nothing of the refused calls was created: only the 512-unit name is mapped. */
  tags = NULL;
  CHECK_OK(root->lpVtbl->GetIDsFromNames(root, 0, NULL, 0, &tags));
  CHECK_EQ(tags->cValues, 1);
  MAPIFreeBuffer(tags);
#undef REFUSED
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"ids_and_names", test_ids_and_names},
    {"null_forms", test_null_forms},
    {"unknown_ids", test_unknown_ids},
    {"reopen_and_across_processes", test_reopen_and_across_processes},
    {"racing_creators", test_racing_creators},
    {"quota", test_quota},
    {"bad_input", test_bad_input},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  if (argc == 4 && strcmp(argv[1], "ids-child") == 0) return ids_child(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "race-child") == 0)
    return race_child(argv[2], argv[3], atoi(argv[4]));
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
