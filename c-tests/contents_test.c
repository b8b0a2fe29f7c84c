/* A folder's contents and hierarchy tables through the vtables (issue 14 item 2): a folder of
 * 10,000 messages listed through GetContentsTable, sorted on two keys (one descending) and
 * restricted, every row checked against a model this program computes; a message saved,
 * changed or deleted by another process shows in an already open table at its next QueryRows;
 * the hierarchy table with CONVENIENT_DEPTH; associated messages; columns computed from each
 * message's recipients and attachments, and RES_SUBRESTRICTION over them; bad input.
 *
 *   contents_test              runs every section
 *   contents_test --list       prints the section names, one per line
 *   contents_test NAME...      runs the named sections only
 */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <stddef.h>

#include "store_util.h"
#include "proc_util.h"

#define CbNewSSortOrderSet(n) (offsetof(SSortOrderSet, aSort) + (n) * sizeof(SSortOrder))

#define PR_NUM PROP_TAG(PT_LONG, 0x6601)
#define PR_WORD PROP_TAG(PT_STRING8, 0x6602)
#define PR_BUCKET PROP_TAG(PT_LONG, 0x6603)
#define PR_BITS PROP_TAG(PT_LONG, 0x6604)
#define PR_DISPLAY_TO_A CHANGE_PROP_TYPE(PR_DISPLAY_TO_W, PT_STRING8)
#define PR_DISPLAY_CC_A CHANGE_PROP_TYPE(PR_DISPLAY_CC_W, PT_STRING8)

static const char *g_self;

/* ---- The model ------------------------------------------------------------------------- */

#define MAX_MESSAGES 10000
static const char *const STEMS[] = {"North", "south", "EAST", "west", "Centre", "north-east"};
static char words[MAX_MESSAGES][32];
static int nmessages;

static int has_word(int i) { return i % 41 != 7; }
static LONG bucket_of(int i) { return (LONG)((i * 11) % 17); }
static LONG bits_of(int i) { return (LONG)((i * 5) % 32); }

static void make_words(int n) {
  int i;
  nmessages = n;
  for (i = 0; i < n; i++)
    snprintf(words[i], sizeof words[i], "%s %03d", STEMS[i % 6], (i * 37) % 211);
}

static int ci_cmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
    if (x != y || x == 0) return x - y;
  }
}

static int ci_prefix(const char *hay, const char *prefix) {
  for (; *prefix; hay++, prefix++)
    if (tolower((unsigned char)*hay) != tolower((unsigned char)*prefix)) return 0;
  return 1;
}

/* AND( BUCKET < 9, OR( CONTENT(WORD, prefix, ignore case, "NORTH"), BITS > 20 ),
 *      NOT( BUCKET == 4 ) ) */
static int model_match(int i) {
  int either = (has_word(i) && ci_prefix(words[i], "NORTH")) || bits_of(i) > 20;
  return bucket_of(i) < 9 && either && bucket_of(i) != 4;
}

/* BUCKET descending, then WORD ascending (case-insensitive, missing last), then creation. */
static int model_cmp(const void *pa, const void *pb) {
  int a = *(const int *)pa, b = *(const int *)pb, c;
  if (bucket_of(a) != bucket_of(b)) return bucket_of(a) > bucket_of(b) ? -1 : 1;
  if (has_word(a) != has_word(b)) return has_word(a) ? -1 : 1;
  if (has_word(a) && (c = ci_cmp(words[a], words[b])) != 0) return c;
  return a - b;
}

static int model[MAX_MESSAGES];
static int nmodel;

static void build_model(void) {
  int i;
  nmodel = 0;
  for (i = 0; i < nmessages; i++)
    if (model_match(i)) model[nmodel++] = i;
  qsort(model, (size_t)nmodel, sizeof model[0], model_cmp);
  CHECK(nmodel > 100 && nmodel < nmessages / 2);
}

/* ---- Helpers --------------------------------------------------------------------------- */

static LPMDB fresh_store(const char *name, char *loc, size_t size) {
  store_location(loc, size, name);
  if (!on_postgres()) store_remove_files(loc);
  return store_open(loc, MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC);
}

static LPMAPIFOLDER new_folder(LPMAPIFOLDER parent, const char *name) {
  LPMAPIFOLDER f = NULL;
  CHECK_OK(parent->lpVtbl->CreateFolder(parent, FOLDER_GENERIC, (LPTSTR)name, NULL, NULL, 0, &f));
  CHECK(f != NULL);
  return f;
}

/* Message i of the model, created and saved in `folder`. */
static void create_model_message(LPMAPIFOLDER folder, int i) {
  LPMESSAGE msg = NULL;
  SPropValue v[4];
  ULONG n = 0;
  CHECK_OK(folder->lpVtbl->CreateMessage(folder, NULL, 0, &msg));
  v[n++] = pv_long(PR_NUM, i);
  if (has_word(i)) v[n++] = pv_str8(PROP_ID(PR_WORD), words[i]);
  v[n++] = pv_long(PR_BUCKET, bucket_of(i));
  v[n++] = pv_long(PR_BITS, bits_of(i));
  CHECK_OK(msg->lpVtbl->SetProps(msg, n, v, NULL));
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  msg->lpVtbl->Release(msg);
}

static LPMAPITABLE contents(LPMAPIFOLDER folder, ULONG flags) {
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_OK(folder->lpVtbl->GetContentsTable(folder, flags, &t));
  CHECK(t != NULL && t != GARBAGE_PTR);
  return t;
}

static void set_columns(LPMAPITABLE t, ULONG n, const ULONG *tags) {
  LPSPropTagArray cols = NULL;
  ULONG i;
  CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(n), (void **)&cols));
  cols->cValues = n;
  for (i = 0; i < n; i++) cols->aulPropTag[i] = tags[i];
  CHECK_OK(t->lpVtbl->SetColumns(t, cols, 0));
  MAPIFreeBuffer(cols);
}

static ULONG row_count(LPMAPITABLE t) {
  ULONG n = GARBAGE_ULONG;
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &n));
  return n;
}

/* The PR_NUM (column 0) of every row from the start, into nums; returns the count. */
static int all_nums(LPMAPITABLE t, LONG *nums, int max) {
  int n = 0;
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 0, NULL));
  for (;;) {
    LPSRowSet rows = NULL;
    ULONG r;
    CHECK_OK(t->lpVtbl->QueryRows(t, 100, 0, &rows));
    CHECK(rows != NULL);
    if (rows->cRows == 0) {
      FreeProws(rows);
      return n;
    }
    for (r = 0; r < rows->cRows; r++) {
      CHECK(n < max);
      CHECK_EQ(rows->aRow[r].lpProps[0].ulPropTag, PR_NUM);
      nums[n++] = rows->aRow[r].lpProps[0].Value.l;
    }
    FreeProws(rows);
  }
}

/* ---- Sections -------------------------------------------------------------------------- */

/* The must-show: 10,000 messages (1,000 under valgrind), two keys, a restriction. */
static void test_sorted_and_restricted(void) {
  static const ULONG cols[] = {PR_NUM, PR_WORD, PR_BUCKET, PR_ENTRYID, PR_INSTANCE_KEY};
  char loc[4096];
  LPMDB mdb = fresh_store("contents-big.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb), folder = new_folder(root, "big");
  LPMAPITABLE t;
  SRestriction top, and_kids[3], or_kids[2], not_kid;
  SPropValue below9, north, bits20, bucket4;
  struct {
    ULONG cSorts, cCategories, cExpanded;
    SSortOrder aSort[2];
  } keys = {2, 0, 0, {{PR_BUCKET, TABLE_SORT_DESCEND}, {PR_WORD, TABLE_SORT_ASCEND}}};
  int i, m = 0;

  make_words(test_under_valgrind() ? 1000 : MAX_MESSAGES);
  build_model();
  for (i = 0; i < nmessages; i++) create_model_message(folder, i);

  memset(and_kids, 0, sizeof and_kids);
  memset(or_kids, 0, sizeof or_kids);
  memset(&not_kid, 0, sizeof not_kid);
  below9 = pv_long(PR_BUCKET, 9);
  north = pv_str8(PROP_ID(PR_WORD), "NORTH");
  bits20 = pv_long(PR_BITS, 20);
  bucket4 = pv_long(PR_BUCKET, 4);
  top.rt = RES_AND;
  top.res.resAnd.cRes = 3;
  top.res.resAnd.lpRes = and_kids;
  and_kids[0].rt = RES_PROPERTY;
  and_kids[0].res.resProperty.relop = RELOP_LT;
  and_kids[0].res.resProperty.ulPropTag = PR_BUCKET;
  and_kids[0].res.resProperty.lpProp = &below9;
  and_kids[1].rt = RES_OR;
  and_kids[1].res.resOr.cRes = 2;
  and_kids[1].res.resOr.lpRes = or_kids;
  or_kids[0].rt = RES_CONTENT;
  or_kids[0].res.resContent.ulFuzzyLevel = FL_PREFIX | FL_IGNORECASE;
  or_kids[0].res.resContent.ulPropTag = PR_WORD;
  or_kids[0].res.resContent.lpProp = &north;
  or_kids[1].rt = RES_PROPERTY;
  or_kids[1].res.resProperty.relop = RELOP_GT;
  or_kids[1].res.resProperty.ulPropTag = PR_BITS;
  or_kids[1].res.resProperty.lpProp = &bits20;
  and_kids[2].rt = RES_NOT;
  and_kids[2].res.resNot.lpRes = &not_kid;
  not_kid.rt = RES_PROPERTY;
  not_kid.res.resProperty.relop = RELOP_EQ;
  not_kid.res.resProperty.ulPropTag = PR_BUCKET;
  not_kid.res.resProperty.lpProp = &bucket4;

  t = contents(folder, 0);
  CHECK_EQ(row_count(t), (ULONG)nmessages);
  set_columns(t, 5, cols);
  CHECK_OK(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0));
  CHECK_OK(t->lpVtbl->Restrict(t, &top, 0));
  CHECK_EQ(row_count(t), (ULONG)nmodel);
  for (;;) {
    LPSRowSet rows = NULL;
    ULONG r;
    CHECK_OK(t->lpVtbl->QueryRows(t, 250, 0, &rows));
    if (rows->cRows == 0) {
      FreeProws(rows);
      break;
    }
    for (r = 0; r < rows->cRows; r++, m++) {
      const SRow *row = &rows->aRow[r];
      int want = model[m];
      CHECK(m < nmodel);
      CHECK_EQ(row->cValues, 5);
      CHECK_EQ(row->lpProps[0].ulPropTag, PR_NUM);
      CHECK_EQ(row->lpProps[0].Value.l, want);
      if (has_word(want)) {
        CHECK_EQ(row->lpProps[1].ulPropTag, PR_WORD);
        CHECK_STR(row->lpProps[1].Value.lpszA, words[want]);
      } else {
        CHECK_EQ(row->lpProps[1].ulPropTag, CHANGE_PROP_TYPE(PR_WORD, PT_ERROR));
        CHECK_HR(row->lpProps[1].Value.err, MAPI_E_NOT_FOUND);
      }
      CHECK_EQ(row->lpProps[2].Value.l, bucket_of(want));
      CHECK_EQ(row->lpProps[3].ulPropTag, PR_ENTRYID);
      CHECK_EQ(row->lpProps[4].ulPropTag, PR_INSTANCE_KEY);
      CHECK(row->lpProps[4].Value.bin.cb > 0);
    }
    /* A row's entry ID opens that message. */
    if (m == (int)rows->cRows) {
      LPMESSAGE msg = msg_open(mdb, &rows->aRow[0].lpProps[3], 0);
      LONG num = -1;
      CHECK_OK(msg_get_long(msg, PR_NUM, &num));
      CHECK_EQ(num, model[0]);
      msg->lpVtbl->Release(msg);
    }
    FreeProws(rows);
  }
  CHECK_EQ(m, nmodel);
  t->lpVtbl->Release(t);
  folder->lpVtbl->Release(folder);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* The child: opens the store at `loc` and, by `what`, creates message 1000 ("create"), moves
 * message 1 out of the restriction ("change"), or deletes message 2 ("delete"). */
static int child(const char *loc, const char *what) {
  LPMDB mdb = store_open(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  LPMAPIFOLDER root = store_root(mdb);
  LPMAPITABLE t = contents(root, 0);
  static const ULONG cols[] = {PR_NUM, PR_ENTRYID};
  LPSRowSet rows = NULL;
  ULONG r;
  set_columns(t, 2, cols);
  CHECK_OK(t->lpVtbl->QueryRows(t, 100, 0, &rows));
  if (strcmp(what, "create") == 0) {
    make_words(1001);
    create_model_message(root, 1000);
  }
  for (r = 0; r < rows->cRows; r++) {
    LONG num = rows->aRow[r].lpProps[0].Value.l;
    if (num == 1 && strcmp(what, "change") == 0) {
      LPMESSAGE msg = msg_open(mdb, &rows->aRow[r].lpProps[1], MAPI_MODIFY);
      msg_set_long(msg, PR_BUCKET, 99);
      CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
      msg->lpVtbl->Release(msg);
    }
    if (num == 2 && strcmp(what, "delete") == 0) {
      ENTRYLIST list;
      list.cValues = 1;
      list.lpbin = &rows->aRow[r].lpProps[1].Value.bin;
      CHECK_OK(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0));
    }
  }
  FreeProws(rows);
  t->lpVtbl->Release(t);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

static void run_child(const char *loc, const char *what) {
  char *argv[5];
  argv[0] = (char *)g_self;
  argv[1] = (char *)"contents-child";
  argv[2] = (char *)loc;
  argv[3] = (char *)what;
  argv[4] = NULL;
  CHECK_EQ(wait_child(spawn_self(g_self, argv)), 0);
}

/* An open table (BUCKET < 50, sorted by NUM) sees another process's creation, change and
 * deletion at its next QueryRows. */
static void test_other_process(void) {
  static const ULONG cols[] = {PR_NUM};
  char loc[4096];
  LPMDB mdb = fresh_store("contents-proc.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  LPMAPITABLE t;
  SRestriction res;
  SPropValue below50 = pv_long(PR_BUCKET, 50);
  SSortOrderSet by_num = {1, 0, 0, {{PR_NUM, TABLE_SORT_ASCEND}}};
  LONG nums[16];
  int i;
  make_words(8);
  for (i = 0; i < 4; i++) create_model_message(root, i);
  t = contents(root, 0);
  set_columns(t, 1, cols);
  memset(&res, 0, sizeof res);
  res.rt = RES_PROPERTY;
  res.res.resProperty.relop = RELOP_LT;
  res.res.resProperty.ulPropTag = PR_BUCKET;
  res.res.resProperty.lpProp = &below50;
  CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  CHECK_OK(t->lpVtbl->SortTable(t, &by_num, 0));
  CHECK_EQ(all_nums(t, nums, 16), 4);

  run_child(loc, "create");
  CHECK_EQ(all_nums(t, nums, 16), 5);
  CHECK_EQ(nums[4], 1000);
  run_child(loc, "change");
  CHECK_EQ(all_nums(t, nums, 16), 4);
  CHECK_EQ(nums[0], 0);
  CHECK_EQ(nums[1], 2);
  run_child(loc, "delete");
  CHECK_EQ(all_nums(t, nums, 16), 3);
  CHECK_EQ(nums[0], 0);
  CHECK_EQ(nums[1], 3);
  CHECK_EQ(nums[2], 1000);
  /* A second creation: the same number, so it sorts after the first one (creation order). */
  run_child(loc, "create");
  CHECK_EQ(all_nums(t, nums, 16), 4);
  CHECK_EQ(nums[2], 1000);
  CHECK_EQ(nums[3], 1000);
  t->lpVtbl->Release(t);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Names and depths of a hierarchy table's rows, checked in order. */
static void check_hierarchy(LPMAPITABLE t, int n, const char *const *names, const LONG *depths) {
  LPSRowSet rows = NULL;
  int r;
  static const ULONG cols[] = {PR_DISPLAY_NAME_A, PR_DEPTH, PR_ENTRYID, PR_INSTANCE_KEY};
  set_columns(t, 4, cols);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 0, NULL));
  CHECK_OK(t->lpVtbl->QueryRows(t, 100, 0, &rows));
  CHECK_EQ(rows->cRows, (ULONG)n);
  for (r = 0; r < n; r++) {
    CHECK_EQ(rows->aRow[r].lpProps[0].ulPropTag, PR_DISPLAY_NAME_A);
    CHECK_STR(rows->aRow[r].lpProps[0].Value.lpszA, names[r]);
    CHECK_EQ(rows->aRow[r].lpProps[1].ulPropTag, PR_DEPTH);
    CHECK_EQ(rows->aRow[r].lpProps[1].Value.l, depths[r]);
    CHECK_EQ(rows->aRow[r].lpProps[2].ulPropTag, PR_ENTRYID);
  }
  FreeProws(rows);
}

static void test_hierarchy(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("contents-hier.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  LPMAPIFOLDER a = new_folder(root, "A"), b = new_folder(root, "b");
  LPMAPIFOLDER a1 = new_folder(a, "A1"), a2 = new_folder(a, "a2"), a1x = new_folder(a1, "A1x");
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  LPSPropTagArray cols = NULL;
  static const char *const flat[] = {"A", "b"};
  static const LONG flat_depths[] = {0, 0};
  static const char *const deep[] = {"A", "A1", "A1x", "a2", "b"};
  static const LONG deep_depths[] = {0, 1, 2, 1, 0};
  static const char *const by_name_desc[] = {"b", "a2", "A1x", "A1", "A"};
  static const LONG by_name_depths[] = {0, 1, 2, 1, 0};
  SSortOrderSet by_name = {1, 0, 0, {{PR_DISPLAY_NAME_A, TABLE_SORT_DESCEND}}};
  ULONG i, has_depth = 0;

  CHECK_OK(root->lpVtbl->GetHierarchyTable(root, 0, &t));
  CHECK_EQ(row_count(t), 2);
  check_hierarchy(t, 2, flat, flat_depths);
  t->lpVtbl->Release(t);

  CHECK_OK(root->lpVtbl->GetHierarchyTable(root, CONVENIENT_DEPTH, &t));
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  for (i = 0; i < cols->cValues; i++) has_depth |= cols->aulPropTag[i] == PR_DEPTH;
  CHECK(has_depth);
  MAPIFreeBuffer(cols);
  check_hierarchy(t, 5, deep, deep_depths);
  CHECK_OK(t->lpVtbl->SortTable(t, &by_name, 0));
  check_hierarchy(t, 5, by_name_desc, by_name_depths);
  /* A folder made since shows at the next QueryRows. */
  {
    static const char *const more[] = {"c", "b", "a2", "A1x", "A1", "A"};
    static const LONG more_depths[] = {2, 0, 1, 2, 1, 0};
    LPMAPIFOLDER c = new_folder(a2, "c");
    check_hierarchy(t, 6, more, more_depths);
    c->lpVtbl->Release(c);
  }
  t->lpVtbl->Release(t);

  /* A subfolder's own table: its children only, depth counted from it. */
  CHECK_OK(a->lpVtbl->GetHierarchyTable(a, CONVENIENT_DEPTH, &t));
  {
    static const char *const under_a[] = {"A1", "A1x", "a2", "c"};
    static const LONG under_a_depths[] = {0, 1, 0, 1};
    check_hierarchy(t, 4, under_a, under_a_depths);
  }
  t->lpVtbl->Release(t);

  a1x->lpVtbl->Release(a1x);
  a2->lpVtbl->Release(a2);
  a1->lpVtbl->Release(a1);
  b->lpVtbl->Release(b);
  a->lpVtbl->Release(a);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Associated (FAI) messages are in the MAPI_ASSOCIATED table only; default columns. */
static void test_associated(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("contents-fai.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  LPMESSAGE fai = NULL;
  LPMAPITABLE t;
  LPSPropTagArray cols = NULL;
  LPSRowSet rows = NULL;
  static const ULONG subj[] = {PR_SUBJECT_A};
  LPSPropValue eid = msg_create(root, "normal");
  MAPIFreeBuffer(eid);
  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, MAPI_ASSOCIATED, &fai));
  msg_set_str(fai, PR_SUBJECT_A, "hidden");
  CHECK_OK(fai->lpVtbl->SaveChanges(fai, 0));
  fai->lpVtbl->Release(fai);

  t = contents(root, 0);
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  CHECK(cols->cValues >= 3);
  CHECK_EQ(cols->aulPropTag[0], PR_INSTANCE_KEY);
  CHECK_EQ(cols->aulPropTag[1], PR_ENTRYID);
  CHECK_EQ(cols->aulPropTag[2], PR_RECORD_KEY);
  MAPIFreeBuffer(cols);
  set_columns(t, 1, subj);
  CHECK_OK(t->lpVtbl->QueryRows(t, 10, 0, &rows));
  CHECK_EQ(rows->cRows, 1);
  CHECK_STR(rows->aRow[0].lpProps[0].Value.lpszA, "normal");
  FreeProws(rows);
  t->lpVtbl->Release(t);

  t = contents(root, MAPI_ASSOCIATED);
  set_columns(t, 1, subj);
  CHECK_OK(t->lpVtbl->QueryRows(t, 10, 0, &rows));
  CHECK_EQ(rows->cRows, 1);
  CHECK_STR(rows->aRow[0].lpProps[0].Value.lpszA, "hidden");
  FreeProws(rows);
  t->lpVtbl->Release(t);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* ---- Columns from a message's children, RES_SUBRESTRICTION ----------------------------- */

/* A saved message with `subject`, recipients `to` (MAPI_TO) and `cc` (MAPI_CC) when not NULL,
 * and an attachment holding `data` when not NULL; returns its PR_MESSAGE_SIZE. */
static LONG kid_message(LPMAPIFOLDER folder, const char *subject, const char *to, const char *cc,
                        const char *data) {
  LPMESSAGE msg = NULL;
  const char *names[2];
  LONG types[2], size = -1;
  ULONG n = 0, i;
  CHECK_OK(folder->lpVtbl->CreateMessage(folder, NULL, 0, &msg));
  msg_set_str(msg, PR_SUBJECT_A, subject);
  if (to != NULL) names[n] = to, types[n++] = MAPI_TO;
  if (cc != NULL) names[n] = cc, types[n++] = MAPI_CC;
  if (n > 0) {
    LPADRLIST list = NULL;
    CHECK_OK(MAPIAllocateBuffer(8 + 16 * n, (void **)&list));
    list->cEntries = n;
    for (i = 0; i < n; i++) {
      LPSPropValue v = NULL;
      CHECK_OK(MAPIAllocateBuffer(2 * sizeof(SPropValue), (void **)&v));
      memset(v, 0, 2 * sizeof(SPropValue));
      v[0].ulPropTag = PR_DISPLAY_NAME_A;
      v[0].Value.lpszA = (char *)names[i];
      v[1].ulPropTag = PR_RECIPIENT_TYPE;
      v[1].Value.l = types[i];
      list->aEntries[i].ulReserved1 = 0;
      list->aEntries[i].cValues = 2;
      list->aEntries[i].rgPropVals = v;
    }
    CHECK_OK(msg->lpVtbl->ModifyRecipients(msg, MODRECIP_ADD, list));
    FreePadrlist(list);
  }
  if (data != NULL) {
    LPATTACH att = NULL;
    ULONG num = 0;
    SPropValue v;
    memset(&v, 0, sizeof v);
    CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &att));
    v.ulPropTag = PR_ATTACH_DATA_BIN;
    v.Value.bin.cb = (ULONG)strlen(data);
    v.Value.bin.lpb = (LPBYTE)data;
    CHECK_OK(att->lpVtbl->SetProps(att, 1, &v, NULL));
    CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
    att->lpVtbl->Release(att);
  }
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
  CHECK_OK(msg_get_long(msg, PR_MESSAGE_SIZE, &size));
  msg->lpVtbl->Release(msg);
  return size;
}

/* The subjects (column 0) of every row from the start, joined by ",". */
static void subjects(LPMAPITABLE t, char *out, size_t size) {
  LPSRowSet rows = NULL;
  ULONG r;
  out[0] = 0;
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 0, NULL));
  CHECK_OK(t->lpVtbl->QueryRows(t, 50, 0, &rows));
  for (r = 0; r < rows->cRows; r++) {
    CHECK_EQ(rows->aRow[r].lpProps[0].ulPropTag, PR_SUBJECT_A);
    if (r > 0) strncat(out, ",", size - strlen(out) - 1);
    strncat(out, rows->aRow[r].lpProps[0].Value.lpszA, size - strlen(out) - 1);
  }
  FreeProws(rows);
}

/* PR_HASATTACH, PR_DISPLAY_TO / _CC and PR_MESSAGE_SIZE as columns, sort keys and restrictions
 * (what each message shows when open); RES_SUBRESTRICTION over recipients and attachments,
 * alone, under RES_NOT, and through FindRow. */
static void test_children(void) {
  static const ULONG cols[] = {PR_SUBJECT_A, PR_HASATTACH, PR_DISPLAY_TO_A, PR_DISPLAY_CC_A,
                               PR_MESSAGE_SIZE};
  char loc[4096], got[256];
  LPMDB mdb = fresh_store("contents-children.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb), folder = new_folder(root, "kids");
  LPMAPITABLE t;
  LPSRowSet rows = NULL;
  LONG size[3];
  SRestriction res, inner, not_res;
  SPropValue yes, bob;
  struct {
    ULONG cSorts, cCategories, cExpanded;
    SSortOrder aSort[1];
  } by_to = {1, 0, 0, {{PR_DISPLAY_TO_A, TABLE_SORT_ASCEND}}};

  size[0] = kid_message(folder, "a", "Ann", "Bob", "0123456789012345678901234");
  size[1] = kid_message(folder, "b", "bob", NULL, NULL);
  size[2] = kid_message(folder, "c", NULL, NULL, "small");

  t = contents(folder, 0);
  set_columns(t, 5, cols);
  CHECK_OK(t->lpVtbl->QueryRows(t, 10, 0, &rows));
  CHECK_EQ(rows->cRows, 3);
  CHECK_EQ(rows->aRow[0].lpProps[1].ulPropTag, PR_HASATTACH);
  CHECK_EQ(rows->aRow[0].lpProps[1].Value.b, 1);
  CHECK_EQ(rows->aRow[1].lpProps[1].Value.b, 0);
  CHECK_EQ(rows->aRow[2].lpProps[1].Value.b, 1);
  CHECK_EQ(rows->aRow[0].lpProps[2].ulPropTag, PR_DISPLAY_TO_A);
  CHECK_STR(rows->aRow[0].lpProps[2].Value.lpszA, "Ann");
  CHECK_STR(rows->aRow[0].lpProps[3].Value.lpszA, "Bob");
  CHECK_STR(rows->aRow[1].lpProps[2].Value.lpszA, "bob");
  CHECK_STR(rows->aRow[1].lpProps[3].Value.lpszA, "");
  CHECK_STR(rows->aRow[2].lpProps[2].Value.lpszA, "");
  CHECK_EQ(rows->aRow[0].lpProps[4].ulPropTag, PR_MESSAGE_SIZE);
  CHECK_EQ(rows->aRow[0].lpProps[4].Value.l, size[0]);
  CHECK_EQ(rows->aRow[1].lpProps[4].Value.l, size[1]);
  CHECK_EQ(rows->aRow[2].lpProps[4].Value.l, size[2]);
  FreeProws(rows);

  /* Sorted by PR_DISPLAY_TO (case-insensitive, "" first), restricted on PR_HASATTACH. */
  CHECK_OK(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&by_to, 0));
  subjects(t, got, sizeof got);
  CHECK_STR(got, "c,a,b");
  memset(&res, 0, sizeof res);
  memset(&yes, 0, sizeof yes);
  yes.ulPropTag = PR_HASATTACH;
  yes.Value.b = 1;
  res.rt = RES_PROPERTY;
  res.res.resProperty.relop = RELOP_EQ;
  res.res.resProperty.ulPropTag = PR_HASATTACH;
  res.res.resProperty.lpProp = &yes;
  CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  subjects(t, got, sizeof got);
  CHECK_STR(got, "c,a");
  t->lpVtbl->Release(t);

  /* Recipients named "BOB" in any case: a (as CC) and b. */
  t = contents(folder, 0);
  set_columns(t, 1, cols);
  memset(&inner, 0, sizeof inner);
  memset(&bob, 0, sizeof bob);
  bob.ulPropTag = PR_DISPLAY_NAME_A;
  bob.Value.lpszA = (char *)"BOB";
  inner.rt = RES_CONTENT;
  inner.res.resContent.ulFuzzyLevel = FL_FULLSTRING | FL_IGNORECASE;
  inner.res.resContent.ulPropTag = PR_DISPLAY_NAME_A;
  inner.res.resContent.lpProp = &bob;
  res.rt = RES_SUBRESTRICTION;
  res.res.resSub.ulSubObject = PR_MESSAGE_RECIPIENTS;
  res.res.resSub.lpRes = &inner;
  CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  subjects(t, got, sizeof got);
  CHECK_STR(got, "a,b");
  memset(&not_res, 0, sizeof not_res);
  not_res.rt = RES_NOT;
  not_res.res.resNot.lpRes = &res;
  CHECK_OK(t->lpVtbl->Restrict(t, &not_res, 0));
  subjects(t, got, sizeof got);
  CHECK_STR(got, "c");

  /* Attachments holding more than 20 bytes: a only; FindRow finds it from the start. */
  inner.rt = RES_SIZE;
  inner.res.resSize.relop = RELOP_GT;
  inner.res.resSize.ulPropTag = PR_ATTACH_DATA_BIN;
  inner.res.resSize.cb = 20;
  res.res.resSub.ulSubObject = PR_MESSAGE_ATTACHMENTS;
  CHECK_OK(t->lpVtbl->Restrict(t, &res, 0));
  subjects(t, got, sizeof got);
  CHECK_STR(got, "a");
  CHECK_OK(t->lpVtbl->Restrict(t, NULL, 0));
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_END, 0, NULL));
  CHECK_OK(t->lpVtbl->FindRow(t, &res, BOOKMARK_BEGINNING, 0));
  CHECK_OK(t->lpVtbl->QueryRows(t, 1, 0, &rows));
  CHECK_EQ(rows->cRows, 1);
  CHECK_STR(rows->aRow[0].lpProps[0].Value.lpszA, "a");
  FreeProws(rows);
  t->lpVtbl->Release(t);
  folder->lpVtbl->Release(folder);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void test_bad_input(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("contents-bad.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb), sub = new_folder(root, "gone");
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  SRestriction sub_res, nested, inner;
  LPSPropValue eid;

  CHECK_HR(root->lpVtbl->GetContentsTable(root, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(root->lpVtbl->GetHierarchyTable(root, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(root->lpVtbl->GetContentsTable(root, SHOW_SOFT_DELETES, &t), MAPI_E_NO_SUPPORT);
  CHECK(t == NULL);
  t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_HR(root->lpVtbl->GetContentsTable(root, 0x100, &t), MAPI_E_UNKNOWN_FLAGS);
  CHECK(t == NULL);
  CHECK_HR(root->lpVtbl->GetContentsTable(root, CONVENIENT_DEPTH, &t), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(root->lpVtbl->GetHierarchyTable(root, MAPI_ASSOCIATED, &t), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(root->lpVtbl->GetHierarchyTable(root, SHOW_SOFT_DELETES, &t), MAPI_E_NO_SUPPORT);

  /* RES_SUBRESTRICTION nested in another is refused up front (recipients and attachments
   * have no sub-objects); the view is unchanged. */
  eid = msg_create(root, "x");
  MAPIFreeBuffer(eid);
  t = contents(root, 0);
  memset(&sub_res, 0, sizeof sub_res);
  memset(&nested, 0, sizeof nested);
  memset(&inner, 0, sizeof inner);
  inner.rt = RES_EXIST;
  inner.res.resExist.ulPropTag = PR_DISPLAY_NAME_A;
  nested.rt = RES_SUBRESTRICTION;
  nested.res.resSub.ulSubObject = PR_MESSAGE_ATTACHMENTS;
  nested.res.resSub.lpRes = &inner;
  sub_res.rt = RES_SUBRESTRICTION;
  sub_res.res.resSub.ulSubObject = PR_MESSAGE_RECIPIENTS;
  sub_res.res.resSub.lpRes = &nested;
  CHECK_HR(t->lpVtbl->Restrict(t, &sub_res, 0), MAPI_E_TOO_COMPLEX);
  CHECK_HR(t->lpVtbl->FindRow(t, &sub_res, BOOKMARK_BEGINNING, 0), MAPI_E_TOO_COMPLEX);
  /* Another sub-object is no restriction at all (BAD_INPUT row 102). */
  nested.res.resSub.ulSubObject = PR_ATTACH_DATA_OBJ;
  CHECK_HR(t->lpVtbl->Restrict(t, &nested, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(row_count(t), 1);

  /* What no table here does, on a contents table too: MVI columns (one row per value,
   * row 107), categories (row 110), expanding a category (row 116). */
  {
    static const ULONG mvi[] = {PR_SUBJECT_A, PROP_TAG(PT_MV_STRING8 | MVI_FLAG, 0x6605)};
    LPSPropTagArray cols = NULL;
    struct {
      ULONG cSorts, cCategories, cExpanded;
      SSortOrder aSort[1];
    } categorized = {1, 1, 0, {{PR_SUBJECT_A, TABLE_SORT_ASCEND}}};
    LPSRowSet rows = (LPSRowSet)GARBAGE_PTR;
    ULONG more = GARBAGE_ULONG;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(2), (void **)&cols));
    cols->cValues = 2;
    cols->aulPropTag[0] = mvi[0];
    cols->aulPropTag[1] = mvi[1];
    CHECK_HR(t->lpVtbl->SetColumns(t, cols, 0), MAPI_E_TOO_COMPLEX);
    MAPIFreeBuffer(cols);
    CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&categorized, 0), MAPI_E_TOO_COMPLEX);
    CHECK_HR(t->lpVtbl->ExpandRow(t, 0, NULL, 0, 0, &rows, &more), MAPI_E_NO_SUPPORT);
    CHECK(rows == NULL);
    CHECK_EQ(more, 0);
    CHECK_EQ(row_count(t), 1);
  }
  t->lpVtbl->Release(t);

  /* A deleted folder's tables: an open one shows no rows, a new one is refused. */
  {
    LPSPropValue sub_eid = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);
    LPMAPITABLE open_before;
    eid = msg_create(sub, "in the folder");
    MAPIFreeBuffer(eid);
    open_before = contents(sub, 0);
    CHECK_EQ(row_count(open_before), 1);
    CHECK_OK(root->lpVtbl->DeleteFolder(root, sub_eid->Value.bin.cb,
                                        (LPENTRYID)sub_eid->Value.bin.lpb, 0, NULL, DEL_MESSAGES));
    MAPIFreeBuffer(sub_eid);
    CHECK_EQ(row_count(open_before), 0);
    open_before->lpVtbl->Release(open_before);
    t = (LPMAPITABLE)GARBAGE_PTR;
    CHECK_HR(sub->lpVtbl->GetContentsTable(sub, 0, &t), MAPI_E_OBJECT_DELETED);
    CHECK(t == NULL);
    CHECK_HR(sub->lpVtbl->GetHierarchyTable(sub, 0, &t), MAPI_E_OBJECT_DELETED);
  }
  sub->lpVtbl->Release(sub);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"sorted_and_restricted", test_sorted_and_restricted},
    {"other_process", test_other_process},
    {"hierarchy", test_hierarchy},
    {"associated", test_associated},
    {"bad_input", test_bad_input},
    {"children", test_children},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  alarm(1800); /* a lost child must fail the test, not hang it */
  if (argc == 4 && strcmp(argv[1], "contents-child") == 0) return child(argv[2], argv[3]);
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
