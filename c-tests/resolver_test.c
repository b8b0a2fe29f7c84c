/* The conflict resolver (rule 4, DESIGN.md §5): each action's effect on the stored message, on
 * the saving object and on the return code; the conflict detail; a resolver that blocks while a
 * third client saves is asked again; failing and unknown answers write nothing; reference
 * counts balance. */
#define _XOPEN_SOURCE 700
#include "resolver_util.h"

#include <unistd.h>

struct fixture {
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid;
  LPMESSAGE winner, loser;
};

/* A stored message "base"/"base body"/"base comment"; the winner changes the body and comment
 * and saves; the loser changes subject and comment and deletes PR_DISPLAY_NAME... and is stale. */
static void setup(struct fixture *f, const char *name) {
  LPMESSAGE m;
  f->mdb = store_fresh(name);
  f->root = store_root(f->mdb);
  f->eid = msg_create(f->root, "base");
  m = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  msg_set_str(m, PR_BODY_A, "base body");
  msg_set_str(m, PR_COMMENT_A, "base comment");
  msg_set_str(m, PR_DISPLAY_NAME_A, "base name");
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  f->winner = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  f->loser = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  msg_set_str(f->winner, PR_BODY_A, "winner body");
  msg_set_str(f->winner, PR_COMMENT_A, "winner comment");
  CHECK_OK(f->winner->lpVtbl->SaveChanges(f->winner, KEEP_OPEN_READWRITE));
  msg_set_str(f->loser, PR_SUBJECT_A, "loser subject");
  msg_set_str(f->loser, PR_COMMENT_A, "loser comment");
  {
    SizedSPropTagArray(1, del) = {1, {PR_DISPLAY_NAME_A}};
    CHECK_OK(f->loser->lpVtbl->DeleteProps(f->loser, (LPSPropTagArray)&del, NULL));
  }
}

static void teardown(struct fixture *f) {
  f->winner->lpVtbl->Release(f->winner);
  f->loser->lpVtbl->Release(f->loser);
  MAPIFreeBuffer(f->eid);
  f->root->lpVtbl->Release(f->root);
  f->mdb->lpVtbl->Release(f->mdb);
}

static void stored_str(struct fixture *f, ULONG tag, char *buf, size_t size) {
  LPMESSAGE m = msg_open(f->mdb, f->eid, 0);
  HRESULT hr = msg_get_str(m, tag, buf, size);
  CHECK(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED);
  if (hr != S_OK) snprintf(buf, size, "(none)");
  m->lpVtbl->Release(m);
}

static void test_keep_original_and_detail(void) {
  struct fixture f;
  TestResolver r;
  LPMESSAGE before;
  char buf[64];
  setup(&f, "keep.db");
  resolver_init(&r, MSGSTORE_RESOLVE_KEEP_ORIGINAL);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  CHECK_EQ(r.refs, 2); /* the store holds one reference */
  before = msg_open(f.mdb, f.eid, 0);
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(r.calls, 1);
  CHECK(r.last_message == f.loser);
  CHECK_EQ(r.last_flags, 0);
  CHECK_EQ(r.cb_entry, f.eid->Value.bin.cb);
  /* Their changes: body and comment. Mine: subject, comment, and the deleted display name. */
  CHECK_EQ(r.n_their, 2);
  CHECK(tags_have(r.their, r.n_their, PR_BODY_A));
  CHECK(tags_have(r.their, r.n_their, PR_COMMENT_A));
  CHECK_EQ(r.n_mine, 3);
  CHECK(tags_have(r.mine, r.n_mine, PR_SUBJECT_A));
  CHECK(tags_have(r.mine, r.n_mine, PR_COMMENT_A));
  CHECK(tags_have(r.mine, r.n_mine, PR_DISPLAY_NAME_A));
  CHECK_STR(r.stored_subject, "base"); /* a readable stored version */
  /* Nothing written; the loser keeps its changes and stays read-write. */
  {
    LPMESSAGE after = msg_open(f.mdb, f.eid, 0);
    CHECK(props_equal((LPMAPIPROP)before, (LPMAPIPROP)after));
    after->lpVtbl->Release(after);
  }
  CHECK_OK(msg_get_str(f.loser, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "loser subject");
  /* FORCE_SAVE does not ask: it overwrites. */
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, FORCE_SAVE | KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 1);
  stored_str(&f, PR_SUBJECT_A, buf, sizeof buf);
  CHECK_STR(buf, "loser subject");
  /* No conflict, no call. */
  msg_set_str(f.loser, PR_BODY_A, "no conflict");
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 1);
  before->lpVtbl->Release(before);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, NULL));
  CHECK_EQ(r.refs, 1);
  teardown(&f);
}

static void test_overwrite(void) {
  struct fixture f;
  TestResolver r;
  char buf[64];
  setup(&f, "overwrite.db");
  resolver_init(&r, MSGSTORE_RESOLVE_OVERWRITE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 1);
  /* The stored message is the loser's whole view: the winner's body is replaced by the base. */
  stored_str(&f, PR_SUBJECT_A, buf, sizeof buf);
  CHECK_STR(buf, "loser subject");
  stored_str(&f, PR_BODY_A, buf, sizeof buf);
  CHECK_STR(buf, "base body");
  stored_str(&f, PR_DISPLAY_NAME_A, buf, sizeof buf);
  CHECK_STR(buf, "(none)");
  {
    LPMESSAGE now = msg_open(f.mdb, f.eid, 0);
    CHECK(props_equal((LPMAPIPROP)now, (LPMAPIPROP)f.loser)); /* the object is what was saved */
    now->lpVtbl->Release(now);
  }
  /* The winner is now stale. */
  msg_set_str(f.winner, PR_BODY_A, "w2");
  CHECK_OK(f.winner->lpVtbl->SaveChanges(f.winner, 0)); /* stale: asked, and overwrites */
  CHECK_EQ(r.calls, 2);
  stored_str(&f, PR_BODY_A, buf, sizeof buf);
  CHECK_STR(buf, "w2"); /* OVERWRITE again: the resolver decided for the winner this time */
  teardown(&f);
  CHECK_EQ(r.refs, 1); /* released with the store */
}

static void test_merge(void) {
  struct fixture f;
  TestResolver r;
  char buf[64];
  setup(&f, "merge.db");
  resolver_init(&r, MSGSTORE_RESOLVE_MERGE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  /* Theirs kept where only they changed; mine where I changed, mine wins where both did. */
  stored_str(&f, PR_BODY_A, buf, sizeof buf);
  CHECK_STR(buf, "winner body");
  stored_str(&f, PR_SUBJECT_A, buf, sizeof buf);
  CHECK_STR(buf, "loser subject");
  stored_str(&f, PR_COMMENT_A, buf, sizeof buf);
  CHECK_STR(buf, "loser comment");
  stored_str(&f, PR_DISPLAY_NAME_A, buf, sizeof buf);
  CHECK_STR(buf, "(none)");
  {
    LPMESSAGE now = msg_open(f.mdb, f.eid, 0);
    LPSPropValue pcl = msg_get_one((LPMAPIPROP)now, PR_PREDECESSOR_CHANGE_LIST);
    LPSPropValue ck = msg_get_one((LPMAPIPROP)now, PR_CHANGE_KEY);
    LPSPropValue wck = msg_get_one((LPMAPIPROP)f.winner, PR_CHANGE_KEY);
    CHECK(props_equal((LPMAPIPROP)now, (LPMAPIPROP)f.loser));
    /* The merged version succeeds both: its PCL's XID for this store is past the winner's. */
    CHECK_EQ(pcl->Value.bin.cb, 23);
    CHECK(memcmp(pcl->Value.bin.lpb + 1, ck->Value.bin.lpb, 22) == 0);
    CHECK(memcmp(ck->Value.bin.lpb, wck->Value.bin.lpb, 22) > 0);
    MAPIFreeBuffer(pcl);
    MAPIFreeBuffer(ck);
    MAPIFreeBuffer(wck);
    now->lpVtbl->Release(now);
  }
  /* KEEP_OPEN_READWRITE: the loser may save again, based on the merged version. */
  msg_set_str(f.loser, PR_SUBJECT_A, "after merge");
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, 0));
  CHECK_EQ(r.calls, 1);
  teardown(&f);
}

static LPSPropValue folder_eid(LPMAPIFOLDER folder) {
  return msg_get_one((LPMAPIPROP)folder, PR_ENTRYID);
}

static void test_save_elsewhere(void) {
  struct fixture f;
  TestResolver r;
  char buf[64];
  LPSPropValue mine, ren, conflicts_eid, parent, items;
  LPMAPIFOLDER conflicts = NULL, drafts = NULL;
  LPMESSAGE before;
  setup(&f, "elsewhere.db");
  resolver_init(&r, MSGSTORE_RESOLVE_SAVE_ELSEWHERE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  before = msg_open(f.mdb, f.eid, 0);
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  /* The original is untouched. */
  {
    LPMESSAGE after = msg_open(f.mdb, f.eid, 0);
    CHECK(props_equal((LPMAPIPROP)before, (LPMAPIPROP)after));
    after->lpVtbl->Release(after);
  }
  /* The object now is a new message in the Conflicts folder, which the store created under the
   * root and recorded at index 0 of the root's PR_ADDITIONAL_REN_ENTRYIDS. */
  mine = msg_get_one((LPMAPIPROP)f.loser, PR_ENTRYID);
  CHECK(mine->Value.bin.cb == f.eid->Value.bin.cb &&
        memcmp(mine->Value.bin.lpb, f.eid->Value.bin.lpb, mine->Value.bin.cb) != 0);
  CHECK_OK(f.root->lpVtbl->CreateFolder(f.root, FOLDER_GENERIC, (LPTSTR) "Conflicts", NULL, NULL,
                                        OPEN_IF_EXISTS, &conflicts));
  conflicts_eid = folder_eid(conflicts);
  ren = msg_get_one((LPMAPIPROP)f.root, PR_ADDITIONAL_REN_ENTRYIDS);
  CHECK_EQ(PROP_TYPE(ren->ulPropTag), PT_MV_BINARY);
  CHECK(ren->Value.MVbin.cValues >= 1);
  CHECK(ren->Value.MVbin.lpbin[0].cb == conflicts_eid->Value.bin.cb &&
        memcmp(ren->Value.MVbin.lpbin[0].lpb, conflicts_eid->Value.bin.lpb, 32) == 0);
  parent = msg_get_one((LPMAPIPROP)f.loser, PR_PARENT_ENTRYID);
  CHECK(memcmp(parent->Value.bin.lpb, conflicts_eid->Value.bin.lpb, 32) == 0);
  /* PR_CONFLICT_ITEMS on the copy names the original. */
  items = msg_get_one((LPMAPIPROP)f.loser, PR_CONFLICT_ITEMS);
  CHECK_EQ(PROP_TYPE(items->ulPropTag), PT_MV_BINARY);
  CHECK_EQ(items->Value.MVbin.cValues, 1);
  CHECK(memcmp(items->Value.MVbin.lpbin[0].lpb, f.eid->Value.bin.lpb, 32) == 0);
  /* The copy holds the loser's whole view. */
  {
    LPMESSAGE copy = msg_open(f.mdb, mine, 0);
    CHECK_OK(msg_get_str(copy, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "loser subject");
    CHECK_OK(msg_get_str(copy, PR_BODY_A, buf, sizeof buf));
    CHECK_STR(buf, "base body");
    CHECK(props_equal((LPMAPIPROP)copy, (LPMAPIPROP)f.loser));
    copy->lpVtbl->Release(copy);
  }
  MAPIFreeBuffer(items);
  MAPIFreeBuffer(parent);
  MAPIFreeBuffer(ren);
  MAPIFreeBuffer(mine);

  /* Into a folder the resolver names (it AddRefs it; the store releases it). */
  CHECK_OK(f.root->lpVtbl->CreateFolder(f.root, FOLDER_GENERIC, (LPTSTR) "Drafts", NULL, NULL, 0,
                                        &drafts));
  r.dest = drafts;
  msg_set_str(f.winner, PR_SUBJECT_A, "winner, stale now? no: first on this version");
  CHECK_OK(f.winner->lpVtbl->SaveChanges(f.winner, KEEP_OPEN_READWRITE)); /* no conflict */
  {
    LPMESSAGE stale = msg_open(f.mdb, f.eid, MAPI_MODIFY);
    LPMESSAGE fresh = msg_open(f.mdb, f.eid, MAPI_MODIFY);
    LPSPropValue dest_eid = folder_eid(drafts);
    LONG refs_before;
    msg_set_str(fresh, PR_BODY_A, "fresh");
    CHECK_OK(fresh->lpVtbl->SaveChanges(fresh, 0));
    msg_set_str(stale, PR_BODY_A, "stale");
    drafts->lpVtbl->AddRef(drafts);
    refs_before = (LONG)drafts->lpVtbl->Release(drafts);
    CHECK_OK(stale->lpVtbl->SaveChanges(stale, 0));
    drafts->lpVtbl->AddRef(drafts);
    CHECK_EQ((LONG)drafts->lpVtbl->Release(drafts), refs_before); /* the store released it */
    parent = msg_get_one((LPMAPIPROP)stale, PR_PARENT_ENTRYID);
    CHECK(memcmp(parent->Value.bin.lpb, dest_eid->Value.bin.lpb, 32) == 0);
    MAPIFreeBuffer(parent);
    MAPIFreeBuffer(dest_eid);
    {
      LONG n = 0;
      CHECK_OK(msg_get_long((LPMESSAGE)drafts, PR_CONTENT_COUNT, &n));
      CHECK_EQ(n, 1);
    }
    stale->lpVtbl->Release(stale);
    fresh->lpVtbl->Release(fresh);
  }
  /* A folder of another store is refused: nothing written, MAPI_E_OBJECT_CHANGED. */
  {
    char p[4096];
    LPMDB other;
    LPMAPIFOLDER other_root;
    LPMESSAGE stale = msg_open(f.mdb, f.eid, MAPI_MODIFY), fresh = msg_open(f.mdb, f.eid, MAPI_MODIFY);
    store_location(p, sizeof p, "elsewhere-other.db");
    unlink(p);
    other = store_open(p, MAPI_CREATE | MDB_WRITE);
    other_root = store_root(other);
    r.dest = other_root;
    msg_set_str(fresh, PR_BODY_A, "fresh 2");
    CHECK_OK(fresh->lpVtbl->SaveChanges(fresh, 0));
    msg_set_str(stale, PR_BODY_A, "stale 2");
    CHECK_HR(stale->lpVtbl->SaveChanges(stale, 0), MAPI_E_OBJECT_CHANGED);
    stored_str(&f, PR_BODY_A, buf, sizeof buf);
    CHECK_STR(buf, "fresh 2");
    r.dest = NULL;
    stale->lpVtbl->Release(stale);
    fresh->lpVtbl->Release(fresh);
    other_root->lpVtbl->Release(other_root);
    other->lpVtbl->Release(other);
  }
  MAPIFreeBuffer(conflicts_eid);
  conflicts->lpVtbl->Release(conflicts);
  drafts->lpVtbl->Release(drafts);
  before->lpVtbl->Release(before);
  teardown(&f);
}

/* The resolver lets a third client save while it "shows its dialog". */
static void third_client_saves(TestResolver *self, int call) {
  struct fixture *f = (struct fixture *)self->hook_data;
  if (call == 0) {
    LPMESSAGE third = msg_open(f->mdb, f->eid, MAPI_MODIFY); /* no deadlock: no lock is held */
    msg_set_str(third, PR_SUBJECT_A, "third client");
    CHECK_OK(third->lpVtbl->SaveChanges(third, 0));
    third->lpVtbl->Release(third);
  }
}

static void test_blocking_resolver_is_asked_again(void) {
  struct fixture f;
  TestResolver r;
  char buf[64];
  setup(&f, "blocking.db");
  resolver_init(&r, MSGSTORE_RESOLVE_OVERWRITE);
  r.actions[0] = MSGSTORE_RESOLVE_OVERWRITE;
  r.actions[1] = MSGSTORE_RESOLVE_KEEP_ORIGINAL;
  r.n_actions = 2;
  r.hook = third_client_saves;
  r.hook_data = &f;
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  /* First call: shown "base"; meanwhile the third client saves; the OVERWRITE must not apply to a
   * version the resolver never saw: it is asked again, shown "third client", and keeps it. */
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(r.calls, 2);
  CHECK_STR(r.stored_subject, "third client");
  stored_str(&f, PR_SUBJECT_A, buf, sizeof buf);
  CHECK_STR(buf, "third client");
  /* Same again, but the second answer is OVERWRITE: now it applies. */
  r.calls = 0;
  r.actions[1] = MSGSTORE_RESOLVE_OVERWRITE;
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 2);
  stored_str(&f, PR_SUBJECT_A, buf, sizeof buf);
  CHECK_STR(buf, "loser subject");
  teardown(&f);
}

static void test_failing_and_unknown(void) {
  struct fixture f;
  TestResolver r;
  LPMESSAGE before, after;
  ULONG bad_actions[3] = {0, 5, 0xFFFFFFFFu};
  int i;
  setup(&f, "failing.db");
  resolver_init(&r, MSGSTORE_RESOLVE_OVERWRITE);
  r.result = MAPI_E_USER_CANCEL;
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  before = msg_open(f.mdb, f.eid, 0);
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  after = msg_open(f.mdb, f.eid, 0);
  CHECK(props_equal((LPMAPIPROP)before, (LPMAPIPROP)after));
  after->lpVtbl->Release(after);
  r.result = S_OK;
  for (i = 0; i < 3; i++) {
    r.actions[0] = bad_actions[i];
    CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
    after = msg_open(f.mdb, f.eid, 0);
    CHECK(props_equal((LPMAPIPROP)before, (LPMAPIPROP)after));
    after->lpVtbl->Release(after);
  }
  {
    LPMAPIERROR err = NULL;
    CHECK_OK(f.loser->lpVtbl->GetLastError(f.loser, MAPI_E_OBJECT_CHANGED, 0, &err));
    CHECK(err != NULL && strstr(err->lpszError, "unknown action") != NULL);
    MAPIFreeBuffer(err);
  }
  /* The loser still holds its changes and may force them. */
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, FORCE_SAVE));
  before->lpVtbl->Release(before);
  teardown(&f);
}

static void test_deleted(void) {
  struct fixture f;
  TestResolver r;
  ENTRYLIST list;
  LPSPropValue items;
  setup(&f, "deleted-res.db");
  resolver_init(&r, MSGSTORE_RESOLVE_OVERWRITE);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  list.cValues = 1;
  list.lpbin = &f.eid->Value.bin;
  CHECK_OK(f.root->lpVtbl->DeleteMessages(f.root, &list, 0, NULL, 0));
  /* Anything but SAVE_ELSEWHERE writes nothing: MAPI_E_OBJECT_DELETED. */
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_DELETED);
  CHECK_EQ(r.calls, 1);
  CHECK_EQ(r.last_flags, MSGCONFLICT_DELETED);
  CHECK_STR(r.stored_subject, ""); /* lpStored is NULL */
  r.actions[0] = MSGSTORE_RESOLVE_MERGE;
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_DELETED);
  /* FORCE_SAVE does not ask. */
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, FORCE_SAVE | KEEP_OPEN_READWRITE),
           MAPI_E_OBJECT_DELETED);
  CHECK_EQ(r.calls, 2);
  r.actions[0] = MSGSTORE_RESOLVE_SAVE_ELSEWHERE;
  CHECK_OK(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE));
  items = msg_get_one((LPMAPIPROP)f.loser, PR_CONFLICT_ITEMS);
  CHECK_EQ(items->Value.MVbin.cValues, 1);
  CHECK(memcmp(items->Value.MVbin.lpbin[0].lpb, f.eid->Value.bin.lpb, 32) == 0);
  MAPIFreeBuffer(items);
  {
    char buf[64];
    CHECK_OK(msg_get_str(f.loser, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "loser subject");
  }
  teardown(&f);
}

static void test_reference_counts(void) {
  struct fixture f;
  TestResolver a, b;
  setup(&f, "refs.db");
  resolver_init(&a, MSGSTORE_RESOLVE_KEEP_ORIGINAL);
  resolver_init(&b, MSGSTORE_RESOLVE_KEEP_ORIGINAL);
  a.keep_stored = 1;
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&a));
  CHECK_EQ(a.refs, 2);
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&a)); /* same again */
  CHECK_EQ(a.refs, 2);
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  /* The resolver kept the stored version: it is alive and readable after the call. */
  CHECK(a.kept_stored != NULL);
  {
    char buf[64];
    CHECK_OK(msg_get_str(a.kept_stored, PR_SUBJECT_A, buf, sizeof buf));
    CHECK_STR(buf, "base");
    CHECK_EQ(a.kept_stored->lpVtbl->Release(a.kept_stored), 0); /* ours was the last reference */
    a.kept_stored = NULL;
  }
  CHECK_OK(MsgStoreSetConflictResolver(f.mdb, (LPMSGSTORECONFLICTRESOLVER)&b)); /* replace */
  CHECK_EQ(a.refs, 1);
  CHECK_EQ(b.refs, 2);
  CHECK_HR(f.loser->lpVtbl->SaveChanges(f.loser, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(a.calls, 1);
  CHECK_EQ(b.calls, 1);
  teardown(&f); /* releasing the store releases the resolver */
  CHECK_EQ(b.refs, 1);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"keep_original_and_detail", test_keep_original_and_detail},
    {"overwrite", test_overwrite},
    {"merge", test_merge},
    {"save_elsewhere", test_save_elsewhere},
    {"blocking_resolver_is_asked_again", test_blocking_resolver_is_asked_again},
    {"failing_and_unknown", test_failing_and_unknown},
    {"deleted", test_deleted},
    {"reference_counts", test_reference_counts},
};

int main(int argc, char **argv) {
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
