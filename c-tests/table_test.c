/* IMAPITable, CreateTable / ITableData and HrQueryAllRows (issue 14 items 1, 5, 6), driven
 * through the vtables as a MAPI client drives them. A table of 10,000 rows is filled through
 * ITableData, viewed through HrGetView, sorted on two keys (one descending) and restricted, and
 * every row read is checked against a model this program computes itself. Bad input gets the
 * HRESULT docs/BAD_INPUT.md lists.
 *
 *   table_test              runs every section
 *   table_test --list       prints the section names, one per line
 *   table_test NAME...      runs the named sections only
 */
#include <ctype.h>
#include <stddef.h>

#include "test_util.h"

#define CbNewSRowSet(n) (offsetof(SRowSet, aRow) + (n) * sizeof(SRow))
#define CbNewSSortOrderSet(n) (offsetof(SSortOrderSet, aSort) + (n) * sizeof(SSortOrder))

#define PR_ID PROP_TAG(PT_LONG, 0x6001)
#define PR_SUBJ PROP_TAG(PT_STRING8, 0x6002)
#define PR_GROUP PROP_TAG(PT_LONG, 0x6003)
#define PR_FLAGS PROP_TAG(PT_LONG, 0x6004)
#define PR_NOPE PROP_TAG(PT_LONG, 0x6005) /* a column no row has */

#define NROWS 10000

/* ---- The model ------------------------------------------------------------------------- */

static const char *const WORDS[] = {"alpha", "Beta", "gamma", "DELTA", "epsilon"};
static char subjects[NROWS][32];

static int has_subject(int i) { return i % 50 != 0; }
static LONG group_of(int i) { return (LONG)((i * 7) % 13); }
static LONG flags_of(int i) { return (LONG)(i % 16); }
static const char *subject_of(int i) { return has_subject(i) ? subjects[i] : NULL; }

static void make_subjects(void) {
  int i;
  for (i = 0; i < NROWS; i++)
    snprintf(subjects[i], sizeof subjects[i], "%s-%02d", WORDS[i % 5], (i * 31) % 97);
}

static int ci_cmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
    if (x != y || x == 0) return x - y;
  }
}

static int ci_contains(const char *hay, const char *needle) {
  size_t n = strlen(needle), i;
  for (i = 0; hay[i]; i++) {
    size_t k = 0;
    while (k < n && hay[i + k] && tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k])) k++;
    if (k == n) return 1;
  }
  return n == 0;
}

/* The restriction of the big view:
 * AND( OR( GROUP >= 8, CONTENT(SUBJ, substring, ignore case, "TA-") ), NOT( FLAGS == 3 ) ) */
static int model_match(int i) {
  int either = group_of(i) >= 8 || (has_subject(i) && ci_contains(subject_of(i), "TA-"));
  return either && !(flags_of(i) == 3);
}

/* GROUP descending, then SUBJ ascending (case-insensitive, missing last), then table order. */
static int model_cmp(const void *pa, const void *pb) {
  int a = *(const int *)pa, b = *(const int *)pb, c;
  if (group_of(a) != group_of(b)) return group_of(a) > group_of(b) ? -1 : 1;
  if (has_subject(a) != has_subject(b)) return has_subject(a) ? -1 : 1;
  if (has_subject(a) && (c = ci_cmp(subject_of(a), subject_of(b))) != 0) return c;
  return a - b;
}

static int model[NROWS];
static int nmodel;

static void build_model(void) {
  int i;
  nmodel = 0;
  for (i = 0; i < NROWS; i++)
    if (model_match(i)) model[nmodel++] = i;
  qsort(model, (size_t)nmodel, sizeof model[0], model_cmp);
}

/* ---- Building tables ------------------------------------------------------------------- */

/* The values of row i (caller's memory: 4 values). Returns how many. */
static ULONG row_values(int i, SPropValue *v) {
  ULONG n = 0;
  v[n++] = pv_long(PR_ID, i);
  if (has_subject(i)) v[n++] = pv_str8(PROP_ID(PR_SUBJ), subject_of(i));
  v[n++] = pv_long(PR_GROUP, group_of(i));
  v[n++] = pv_long(PR_FLAGS, flags_of(i));
  return n;
}

static LPTABLEDATA new_table_data(void) {
  SizedSPropTagArray(4, cols) = {4, {PR_ID, PR_SUBJ, PR_GROUP, PR_FLAGS}};
  LPTABLEDATA td = (LPTABLEDATA)GARBAGE_PTR;
  CHECK_OK(CreateTable(&IID_IMAPITableData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&cols, &td));
  CHECK(td != NULL && td != GARBAGE_PTR);
  return td;
}

/* Rows first..first+n-1 added with one HrModifyRows. */
static void add_rows(LPTABLEDATA td, int first, int n) {
  SRowSet *set = (SRowSet *)malloc(CbNewSRowSet((size_t)n));
  SPropValue *vals = (SPropValue *)malloc((size_t)n * 4 * sizeof(SPropValue));
  int k;
  CHECK(set != NULL && vals != NULL);
  set->cRows = (ULONG)n;
  for (k = 0; k < n; k++) {
    set->aRow[k].ulAdrEntryPad = 0;
    set->aRow[k].lpProps = vals + 4 * k;
    set->aRow[k].cValues = row_values(first + k, vals + 4 * k);
  }
  CHECK_OK(td->lpVtbl->HrModifyRows(td, 0, set));
  free(vals);
  free(set);
}

static void add_row(LPTABLEDATA td, int i) {
  SPropValue v[4];
  SRow row;
  row.ulAdrEntryPad = 0;
  row.lpProps = v;
  row.cValues = row_values(i, v);
  CHECK_OK(td->lpVtbl->HrModifyRow(td, &row));
}

static LPMAPITABLE get_view(LPTABLEDATA td) {
  LPMAPITABLE t = (LPMAPITABLE)GARBAGE_PTR;
  CHECK_OK(td->lpVtbl->HrGetView(td, NULL, NULL, 0, &t));
  CHECK(t != NULL && t != GARBAGE_PTR);
  return t;
}

/* A table of rows 0..n-1 in order, and one view of it with columns (ID). */
static LPMAPITABLE small_table(int n, LPTABLEDATA *ptd) {
  SizedSPropTagArray(1, cols) = {1, {PR_ID}};
  LPTABLEDATA td = new_table_data();
  LPMAPITABLE t;
  if (n > 0) add_rows(td, 0, n);
  t = get_view(td);
  CHECK_OK(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&cols, 0));
  *ptd = td;
  return t;
}

/* The IDs of a row set's rows (column 0), into ids; returns the count. Frees the set. */
static int take_ids(LPSRowSet rows, int *ids, int max) {
  ULONG r;
  int n = 0;
  CHECK(rows != NULL);
  for (r = 0; r < rows->cRows; r++) {
    CHECK(n < max);
    CHECK_EQ(rows->aRow[r].lpProps[0].ulPropTag, PR_ID);
    ids[n++] = (int)rows->aRow[r].lpProps[0].Value.l;
  }
  FreeProws(rows);
  return n;
}

/* QueryRows(count, flags) and the IDs it returned. */
static int query_ids(LPMAPITABLE t, LONG count, ULONG flags, int *ids, int max) {
  LPSRowSet rows = (LPSRowSet)GARBAGE_PTR;
  CHECK_OK(t->lpVtbl->QueryRows(t, count, flags, &rows));
  return take_ids(rows, ids, max);
}

static ULONG position(LPMAPITABLE t) {
  ULONG row = GARBAGE_ULONG, num = GARBAGE_ULONG, den = GARBAGE_ULONG;
  CHECK_OK(t->lpVtbl->QueryPosition(t, &row, &num, &den));
  CHECK(den != 0);
  return row;
}

static void check_ids(const int *got, int n, int first, int count) {
  int k;
  CHECK_EQ(n, count);
  for (k = 0; k < n; k++) CHECK_EQ(got[k], first + k);
}

/* The restriction of the big view, in caller memory. */
struct big_restriction {
  SRestriction top, and_kids[2], or_kids[2], not_kid;
  SPropValue group8, ta, flags3;
};

static void make_big_restriction(struct big_restriction *b) {
  memset(b, 0, sizeof *b);
  b->group8 = pv_long(PR_GROUP, 8);
  b->ta = pv_str8(PROP_ID(PR_SUBJ), "TA-");
  b->flags3 = pv_long(PR_FLAGS, 3);
  b->top.rt = RES_AND;
  b->top.res.resAnd.cRes = 2;
  b->top.res.resAnd.lpRes = b->and_kids;
  b->and_kids[0].rt = RES_OR;
  b->and_kids[0].res.resOr.cRes = 2;
  b->and_kids[0].res.resOr.lpRes = b->or_kids;
  b->or_kids[0].rt = RES_PROPERTY;
  b->or_kids[0].res.resProperty.relop = RELOP_GE;
  b->or_kids[0].res.resProperty.ulPropTag = PR_GROUP;
  b->or_kids[0].res.resProperty.lpProp = &b->group8;
  b->or_kids[1].rt = RES_CONTENT;
  b->or_kids[1].res.resContent.ulFuzzyLevel = FL_SUBSTRING | FL_IGNORECASE;
  b->or_kids[1].res.resContent.ulPropTag = PR_SUBJ;
  b->or_kids[1].res.resContent.lpProp = &b->ta;
  b->and_kids[1].rt = RES_NOT;
  b->and_kids[1].res.resNot.lpRes = &b->not_kid;
  b->not_kid.rt = RES_PROPERTY;
  b->not_kid.res.resProperty.relop = RELOP_EQ;
  b->not_kid.res.resProperty.ulPropTag = PR_FLAGS;
  b->not_kid.res.resProperty.lpProp = &b->flags3;
}

/* GROUP descending, SUBJ ascending. */
struct two_keys {
  ULONG cSorts, cCategories, cExpanded;
  SSortOrder aSort[2];
};

static void make_two_keys(struct two_keys *s) {
  s->cSorts = 2;
  s->cCategories = 0;
  s->cExpanded = 0;
  s->aSort[0].ulPropTag = PR_GROUP;
  s->aSort[0].ulOrder = TABLE_SORT_DESCEND;
  s->aSort[1].ulPropTag = PR_SUBJ;
  s->aSort[1].ulOrder = TABLE_SORT_ASCEND;
}

/* Checks one row of the big view against model row m. */
static void check_model_row(const SRow *row, int m) {
  int i = model[m];
  CHECK_EQ(row->cValues, 3);
  CHECK_EQ(row->lpProps[0].ulPropTag, PR_ID);
  CHECK_EQ(row->lpProps[0].Value.l, i);
  if (has_subject(i)) {
    CHECK_EQ(row->lpProps[1].ulPropTag, PR_SUBJ);
    CHECK_STR(row->lpProps[1].Value.lpszA, subject_of(i));
  } else {
    CHECK_EQ(row->lpProps[1].ulPropTag, CHANGE_PROP_TYPE(PR_SUBJ, PT_ERROR));
    CHECK_HR(row->lpProps[1].Value.err, MAPI_E_NOT_FOUND);
  }
  CHECK_EQ(row->lpProps[2].ulPropTag, PR_GROUP);
  CHECK_EQ(row->lpProps[2].Value.l, group_of(i));
}

/* ---- Sections -------------------------------------------------------------------------- */

static void test_sorted_and_restricted(void) {
  SizedSPropTagArray(3, cols) = {3, {PR_ID, PR_SUBJ, PR_GROUP}};
  struct big_restriction br;
  struct two_keys keys;
  LPTABLEDATA td;
  LPMAPITABLE t;
  LPSRowSet rows;
  ULONG count = 0, r;
  int seen = 0, pos, pages = 0;

  make_subjects();
  build_model();
  CHECK(nmodel > 1000 && nmodel < NROWS);
  td = new_table_data();
  /* Most rows in batches, the last ones one by one. */
  add_rows(td, 0, NROWS - 100);
  for (pos = NROWS - 100; pos < NROWS; pos++) add_row(td, pos);
  t = get_view(td);
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, NROWS);

  CHECK_OK(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&cols, 0));
  make_two_keys(&keys);
  CHECK_OK(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0));
  make_big_restriction(&br);
  CHECK_OK(t->lpVtbl->Restrict(t, &br.top, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, nmodel);

  /* Forward, 50 rows a page, until S_OK with no rows. */
  for (;;) {
    rows = (LPSRowSet)GARBAGE_PTR;
    CHECK_OK(t->lpVtbl->QueryRows(t, 50, 0, &rows));
    CHECK(rows != NULL && rows != GARBAGE_PTR);
    if (rows->cRows == 0) {
      FreeProws(rows);
      break;
    }
    CHECK(rows->cRows <= 50);
    for (r = 0; r < rows->cRows; r++) check_model_row(&rows->aRow[r], seen + (int)r);
    seen += (int)rows->cRows;
    pages++;
    FreeProws(rows);
    CHECK_EQ(position(t), seen);
  }
  CHECK_EQ(seen, nmodel);
  CHECK(pages >= nmodel / 50);

  /* Backward from the end: each page is the 50 rows before the cursor, in table order. */
  pos = nmodel;
  for (;;) {
    int want = pos < 50 ? pos : 50;
    rows = NULL;
    CHECK_OK(t->lpVtbl->QueryRows(t, -50, 0, &rows));
    CHECK_EQ(rows->cRows, want);
    for (r = 0; r < rows->cRows; r++) check_model_row(&rows->aRow[r], pos - want + (int)r);
    FreeProws(rows);
    pos -= want;
    CHECK_EQ(position(t), pos);
    if (want == 0) break;
  }

  /* The same view through HrQueryAllRows on a fresh view. */
  t->lpVtbl->Release(t);
  t = get_view(td);
  rows = NULL;
  CHECK_OK(HrQueryAllRows(t, (LPSPropTagArray)&cols, &br.top, (LPSSortOrderSet)&keys, 0, &rows));
  CHECK_EQ(rows->cRows, nmodel);
  for (r = 0; r < rows->cRows; r++) check_model_row(&rows->aRow[r], (int)r);
  FreeProws(rows);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static void test_cursor(void) {
  LPTABLEDATA td;
  LPMAPITABLE t = small_table(10, &td);
  int ids[16], n;
  LONG sought = 0;
  LPSRowSet rows = (LPSRowSet)GARBAGE_PTR;

  CHECK_HR(t->lpVtbl->QueryRows(t, 0, 0, &rows), MAPI_E_INVALID_PARAMETER);
  CHECK(rows == NULL);
  /* At the start a negative count reads nothing. */
  CHECK_EQ(query_ids(t, -3, 0, ids, 16), 0);
  n = query_ids(t, 4, TBL_NOADVANCE, ids, 16);
  check_ids(ids, n, 0, 4);
  CHECK_EQ(position(t), 0);
  n = query_ids(t, 4, 0, ids, 16);
  check_ids(ids, n, 0, 4);
  CHECK_EQ(position(t), 4);
  n = query_ids(t, 0x7FFFFFFF, 0, ids, 16);
  check_ids(ids, n, 4, 6);
  CHECK_EQ(query_ids(t, 1, 0, ids, 16), 0); /* end of table */
  CHECK_EQ(position(t), 10);
  n = query_ids(t, -4, 0, ids, 16);
  check_ids(ids, n, 6, 4);
  CHECK_EQ(position(t), 6);
  n = query_ids(t, -4, TBL_NOADVANCE, ids, 16);
  check_ids(ids, n, 2, 4);
  CHECK_EQ(position(t), 6);
  n = query_ids(t, (LONG)0x80000000u, 0, ids, 16);
  check_ids(ids, n, 0, 6);
  CHECK_EQ(position(t), 0);

  /* SeekRow clamps at both ends and says how far it moved. */
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, -5, &sought));
  CHECK_EQ(sought, 0);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_CURRENT, 3, &sought));
  CHECK_EQ(sought, 3);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_CURRENT, 100, &sought));
  CHECK_EQ(sought, 7);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_END, -2, NULL));
  n = query_ids(t, 5, 0, ids, 16);
  check_ids(ids, n, 8, 2);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_END, (LONG)0x80000000u, &sought));
  CHECK_EQ(sought, -10);

  /* SeekRowApprox. */
  CHECK_OK(t->lpVtbl->SeekRowApprox(t, 1, 2));
  CHECK_EQ(position(t), 5);
  CHECK_OK(t->lpVtbl->SeekRowApprox(t, 7, 7));
  CHECK_EQ(position(t), 10);
  CHECK_OK(t->lpVtbl->SeekRowApprox(t, 0, 3));
  CHECK_EQ(position(t), 0);
  CHECK_HR(t->lpVtbl->SeekRowApprox(t, 1, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SeekRowApprox(t, 4, 3), MAPI_E_INVALID_PARAMETER);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static void test_bookmarks(void) {
  LPTABLEDATA td;
  LPMAPITABLE t = small_table(10, &td);
  BOOKMARK bk = 0, at_end = 0, other = 0;
  SPropValue key;
  SPropValue v[4];
  SRow row;
  int ids[16], n;
  LONG sought = 99;

  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 4, NULL));
  CHECK_OK(t->lpVtbl->CreateBookmark(t, &bk));
  CHECK(bk > BOOKMARK_END);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_END, 0, NULL));
  CHECK_OK(t->lpVtbl->CreateBookmark(t, &at_end));
  CHECK(at_end != bk);

  /* Two rows inserted before it: the bookmark stays on its row (ID 4), now at index 6. */
  row.ulAdrEntryPad = 0;
  row.lpProps = v;
  row.cValues = row_values(100, v);
  CHECK_OK(td->lpVtbl->HrInsertRow(td, 0, &row));
  row.cValues = row_values(101, v);
  CHECK_OK(td->lpVtbl->HrInsertRow(td, 1, &row));
  CHECK_OK(t->lpVtbl->SeekRow(t, bk, 0, &sought));
  CHECK_EQ(sought, 0);
  CHECK_EQ(position(t), 6);
  n = query_ids(t, 1, 0, ids, 16);
  CHECK_EQ(n, 1);
  CHECK_EQ(ids[0], 4);
  CHECK_OK(t->lpVtbl->SeekRow(t, at_end, 0, NULL));
  CHECK_EQ(position(t), 12);

  /* Its row deleted: it moves to the next row, once reported as MAPI_W_POSITION_CHANGED. */
  key = pv_long(PR_ID, 4);
  CHECK_OK(td->lpVtbl->HrDeleteRow(td, &key));
  CHECK_HR(t->lpVtbl->SeekRow(t, bk, 0, NULL), MAPI_W_POSITION_CHANGED);
  n = query_ids(t, 1, 0, ids, 16);
  CHECK_EQ(ids[0], 5);
  CHECK_OK(t->lpVtbl->SeekRow(t, bk, 1, &sought));
  CHECK_EQ(sought, 1);
  n = query_ids(t, 1, 0, ids, 16);
  CHECK_EQ(n, 1);
  CHECK_EQ(ids[0], 6);

  /* FreeBookmark: once; the predefined ones are accepted. */
  CHECK_OK(t->lpVtbl->FreeBookmark(t, bk));
  CHECK_HR(t->lpVtbl->FreeBookmark(t, bk), MAPI_E_INVALID_BOOKMARK);
  CHECK_HR(t->lpVtbl->SeekRow(t, bk, 0, NULL), MAPI_E_INVALID_BOOKMARK);
  CHECK_OK(t->lpVtbl->FreeBookmark(t, BOOKMARK_CURRENT));
  CHECK_HR(t->lpVtbl->FreeBookmark(t, 0x12345), MAPI_E_INVALID_BOOKMARK);

  /* Restrict and SortTable discard every bookmark. */
  CHECK_OK(t->lpVtbl->CreateBookmark(t, &other));
  CHECK_OK(t->lpVtbl->Restrict(t, NULL, 0));
  CHECK_HR(t->lpVtbl->SeekRow(t, other, 0, NULL), MAPI_E_INVALID_BOOKMARK);
  CHECK_HR(t->lpVtbl->SeekRow(t, at_end, 0, NULL), MAPI_E_INVALID_BOOKMARK);
  CHECK_EQ(position(t), 0);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static void test_find_row(void) {
  LPTABLEDATA td;
  LPMAPITABLE t = small_table(10, &td);
  SRestriction r;
  SPropValue three = pv_long(PR_FLAGS, 3);
  BOOKMARK bk = 0;
  int ids[4];

  /* FLAGS & 1: the odd rows. */
  memset(&r, 0, sizeof r);
  r.rt = RES_BITMASK;
  r.res.resBitMask.relBMR = BMR_NEZ;
  r.res.resBitMask.ulPropTag = PR_FLAGS;
  r.res.resBitMask.ulMask = 1;
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, 0));
  CHECK_EQ(position(t), 1);
  CHECK_EQ(query_ids(t, 1, TBL_NOADVANCE, ids, 4), 1);
  CHECK_EQ(ids[0], 1);
  /* Forward from the current row includes it. */
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_CURRENT, 0));
  CHECK_EQ(position(t), 1);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_CURRENT, 1, NULL));
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_CURRENT, 0));
  CHECK_EQ(position(t), 3);
  /* Backward starts before the origin. */
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_CURRENT, DIR_BACKWARD));
  CHECK_EQ(position(t), 1);
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_END, DIR_BACKWARD));
  CHECK_EQ(position(t), 9);
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 6, NULL));
  CHECK_OK(t->lpVtbl->CreateBookmark(t, &bk));
  CHECK_OK(t->lpVtbl->FindRow(t, &r, bk, DIR_BACKWARD));
  CHECK_EQ(position(t), 5);
  CHECK_OK(t->lpVtbl->FindRow(t, &r, bk, 0));
  CHECK_EQ(position(t), 7);
  /* No match: MAPI_E_NOT_FOUND, the cursor stays. */
  CHECK_HR(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, DIR_BACKWARD), MAPI_E_NOT_FOUND);
  CHECK_EQ(position(t), 7);
  memset(&r, 0, sizeof r);
  r.rt = RES_PROPERTY;
  r.res.resProperty.relop = RELOP_GT;
  r.res.resProperty.ulPropTag = PR_FLAGS;
  r.res.resProperty.lpProp = &three;
  CHECK_OK(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, 0));
  CHECK_EQ(position(t), 4);
  three.Value.l = 100;
  CHECK_HR(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, 0), MAPI_E_NOT_FOUND);
  CHECK_EQ(position(t), 4);
  CHECK_HR(t->lpVtbl->FindRow(t, &r, 0x7777, 0), MAPI_E_INVALID_BOOKMARK);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static int released_count;
static ULONG_PTR released_data;
static LPTABLEDATA released_td;
static LPMAPITABLE released_view;

static void on_release(ULONG_PTR data, LPTABLEDATA td, LPMAPITABLE view) {
  released_count++;
  released_data = data;
  released_td = td;
  released_view = view;
}

static void test_table_data(void) {
  LPTABLEDATA td = new_table_data();
  LPMAPITABLE t = NULL, t2 = NULL;
  LPSRow row = (LPSRow)GARBAGE_PTR;
  LPSPropTagArray cols = NULL;
  LPSSortOrderSet sos = NULL;
  struct two_keys keys;
  SPropValue key, v[4];
  SRow in;
  ULONG at = 99, status = 99, type = 99, deleted = 99, count = 99;
  void *unk = NULL;
  SizedSPropTagArray(2, id_subj) = {2, {PR_ID, PR_SUBJ}};
  LPSRowSet set;

  make_subjects();
  add_rows(td, 0, 20);

  /* HrQueryRow: the row with that index value, as one block, and where it is. */
  key = pv_long(PR_ID, 7);
  CHECK_OK(td->lpVtbl->HrQueryRow(td, &key, &row, &at));
  CHECK_EQ(at, 7);
  CHECK_EQ(row->cValues, 4);
  CHECK_EQ(row->lpProps[0].Value.l, 7);
  CHECK_STR(row->lpProps[1].Value.lpszA, subject_of(7));
  MAPIFreeBuffer(row);
  key = pv_long(PR_ID, 70);
  row = (LPSRow)GARBAGE_PTR;
  CHECK_HR(td->lpVtbl->HrQueryRow(td, &key, &row, &at), MAPI_E_NOT_FOUND);
  CHECK(row == NULL);
  CHECK_HR(td->lpVtbl->HrDeleteRow(td, &key), MAPI_E_NOT_FOUND);
  /* HrEnumRow: by position; past the end S_OK with NULL. */
  CHECK_OK(td->lpVtbl->HrEnumRow(td, 3, &row));
  CHECK_EQ(row->lpProps[0].Value.l, 3);
  MAPIFreeBuffer(row);
  row = (LPSRow)GARBAGE_PTR;
  CHECK_OK(td->lpVtbl->HrEnumRow(td, 20, &row));
  CHECK(row == NULL);
  /* HrModifyRow replaces a row in place; HrInsertRow refuses an existing index. */
  in.ulAdrEntryPad = 0;
  in.lpProps = v;
  in.cValues = row_values(5, v);
  v[2] = pv_long(PR_GROUP, 99);
  CHECK_OK(td->lpVtbl->HrModifyRow(td, &in));
  CHECK_OK(td->lpVtbl->HrEnumRow(td, 5, &row));
  CHECK_EQ(row->lpProps[2].Value.l, 99);
  MAPIFreeBuffer(row);
  CHECK_HR(td->lpVtbl->HrInsertRow(td, 0, &in), MAPI_E_INVALID_PARAMETER);
  CHECK_OK(td->lpVtbl->HrNotify(td, 0, 1, &key));

  /* A view with a sort from HrGetView, and a release callback. */
  released_count = 0;
  make_two_keys(&keys);
  CHECK_OK(td->lpVtbl->HrGetView(td, (LPSSortOrderSet)&keys, on_release, 0xC0FFEE, &t));
  CHECK_OK(t->lpVtbl->QueryInterface(t, &IID_IMAPITable, &unk));
  CHECK(unk == (void *)t);
  t->lpVtbl->Release(t);
  CHECK_HR(t->lpVtbl->QueryInterface(t, &IID_IMAPIProp, &unk), MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_OK(t->lpVtbl->GetStatus(t, &status, &type));
  CHECK_EQ(status, TBLSTAT_COMPLETE);
  CHECK_EQ(type, TBLTYPE_DYNAMIC);
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  CHECK_EQ(cols->cValues, 4);
  MAPIFreeBuffer(cols);
  CHECK_OK(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&id_subj, TBL_BATCH));
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &cols));
  CHECK_EQ(cols->cValues, 2);
  CHECK_EQ(cols->aulPropTag[1], PR_SUBJ);
  MAPIFreeBuffer(cols);
  CHECK_OK(t->lpVtbl->QueryColumns(t, TBL_ALL_COLUMNS, &cols));
  CHECK_EQ(cols->cValues, 4);
  MAPIFreeBuffer(cols);
  CHECK_OK(t->lpVtbl->QuerySortOrder(t, &sos));
  CHECK_EQ(sos->cSorts, 2);
  CHECK_EQ(sos->aSort[0].ulPropTag, PR_GROUP);
  CHECK_EQ(sos->aSort[0].ulOrder, TABLE_SORT_DESCEND);
  CHECK_EQ(sos->aSort[1].ulOrder, TABLE_SORT_ASCEND);
  MAPIFreeBuffer(sos);
  /* The first row is the one now in group 99. */
  set = NULL;
  CHECK_OK(t->lpVtbl->QueryRows(t, 1, 0, &set));
  CHECK_EQ(set->cRows, 1);
  CHECK_EQ(set->aRow[0].lpProps[0].Value.l, 5);
  FreeProws(set);
  /* Synchronous tables: Abort and WaitForCompletion have nothing to wait for. */
  CHECK_OK(t->lpVtbl->Abort(t));
  status = 99;
  CHECK_OK(t->lpVtbl->WaitForCompletion(t, 0, 1000, &status));
  CHECK_EQ(status, TBLSTAT_COMPLETE);
  CHECK_OK(t->lpVtbl->WaitForCompletion(t, 0, 0xFFFFFFFFu, NULL));
  /* Sorting back to the table's order. */
  keys.cSorts = 0;
  CHECK_OK(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0));
  CHECK_OK(t->lpVtbl->QuerySortOrder(t, &sos));
  CHECK_EQ(sos->cSorts, 0);
  MAPIFreeBuffer(sos);

  /* Two views see the same rows; HrDeleteRows counts what it removed. */
  CHECK_OK(td->lpVtbl->HrGetView(td, NULL, NULL, 0, &t2));
  set = (LPSRowSet)malloc(CbNewSRowSet(2));
  set->cRows = 2;
  set->aRow[0].ulAdrEntryPad = set->aRow[1].ulAdrEntryPad = 0;
  v[0] = pv_long(PR_ID, 1);
  v[1] = pv_long(PR_ID, 555);
  set->aRow[0].cValues = set->aRow[1].cValues = 1;
  set->aRow[0].lpProps = &v[0];
  set->aRow[1].lpProps = &v[1];
  CHECK_OK(td->lpVtbl->HrDeleteRows(td, 0, set, &deleted));
  CHECK_EQ(deleted, 1);
  free(set);
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 19);
  CHECK_OK(td->lpVtbl->HrDeleteRows(td, TAD_ALL_ROWS, NULL, &deleted));
  CHECK_EQ(deleted, 19);
  CHECK_OK(t2->lpVtbl->GetRowCount(t2, 0, &count));
  CHECK_EQ(count, 0);
  CHECK_EQ(query_ids(t2, 10, 0, (int *)&at, 1), 0);
  t2->lpVtbl->Release(t2);

  /* The ITableData released first: the view keeps it until its own release. */
  td->lpVtbl->Release(td);
  CHECK_EQ(released_count, 0);
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  t->lpVtbl->Release(t);
  CHECK_EQ(released_count, 1);
  CHECK_EQ(released_data, 0xC0FFEE);
  CHECK(released_td == td);
  CHECK(released_view == t);
}

static void test_query_all_rows(void) {
  LPTABLEDATA td;
  LPMAPITABLE t = small_table(30, &td);
  LPSRowSet rows = (LPSRowSet)GARBAGE_PTR;
  SRestriction r;
  SPropValue v = pv_long(PR_ID, 10);
  int ids[40], n;

  /* Current columns and order, from wherever the cursor is. */
  CHECK_OK(t->lpVtbl->SeekRow(t, BOOKMARK_BEGINNING, 17, NULL));
  CHECK_OK(HrQueryAllRows(t, NULL, NULL, NULL, 0, &rows));
  n = take_ids(rows, ids, 40);
  check_ids(ids, n, 0, 30);
  /* Exactly crowsMax rows is fine; more is MAPI_E_TABLE_TOO_BIG. */
  CHECK_OK(HrQueryAllRows(t, NULL, NULL, NULL, 30, &rows));
  FreeProws(rows);
  rows = (LPSRowSet)GARBAGE_PTR;
  CHECK_HR(HrQueryAllRows(t, NULL, NULL, NULL, 29, &rows), MAPI_E_TABLE_TOO_BIG);
  CHECK(rows == NULL);
  /* A restriction. */
  memset(&r, 0, sizeof r);
  r.rt = RES_PROPERTY;
  r.res.resProperty.relop = RELOP_LT;
  r.res.resProperty.ulPropTag = PR_ID;
  r.res.resProperty.lpProp = &v;
  CHECK_OK(HrQueryAllRows(t, NULL, &r, NULL, 0, &rows));
  n = take_ids(rows, ids, 40);
  check_ids(ids, n, 0, 10);
  /* Errors from the table come back as they are; bad arguments are refused. */
  r.res.resProperty.relop = 77;
  CHECK_HR(HrQueryAllRows(t, NULL, &r, NULL, 0, &rows), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(HrQueryAllRows(NULL, NULL, NULL, NULL, 0, &rows), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(HrQueryAllRows(t, NULL, NULL, NULL, -1, &rows), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(HrQueryAllRows(t, NULL, NULL, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  /* An empty table: S_OK with no rows. */
  CHECK_OK(td->lpVtbl->HrDeleteRows(td, TAD_ALL_ROWS, NULL, NULL));
  CHECK_OK(HrQueryAllRows(t, NULL, NULL, NULL, 0, &rows));
  CHECK_EQ(rows->cRows, 0);
  FreeProws(rows);
  FreeProws(NULL);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

/* Every restriction type and relop through the vtable (the core's unit tests cover the
 * semantics in depth; here: the C structures reach it intact). */
static void test_restriction_types(void) {
  LPTABLEDATA td;
  LPMAPITABLE t = small_table(0, &td);
  SPropValue vals[4], c;
  SRow row;
  SRestriction r, kids[2];
  ULONG count = 0;
  int i;
  static const struct {
    ULONG relop;
    LONG value;
    ULONG want; /* rows of IDs 0..9 with ID relop value */
  } relops[] = {{RELOP_LT, 3, 3}, {RELOP_LE, 3, 4}, {RELOP_GT, 3, 6},
                {RELOP_GE, 3, 7}, {RELOP_EQ, 3, 1}, {RELOP_NE, 3, 9}};

  make_subjects();
  for (i = 0; i < 10; i++) {
    row.ulAdrEntryPad = 0;
    row.lpProps = vals;
    row.cValues = row_values(i, vals);
    CHECK_OK(td->lpVtbl->HrModifyRow(td, &row));
  }
  memset(&r, 0, sizeof r);
  for (i = 0; i < 6; i++) {
    c = pv_long(PR_ID, relops[i].value);
    r.rt = RES_PROPERTY;
    r.res.resProperty.relop = relops[i].relop;
    r.res.resProperty.ulPropTag = PR_ID;
    r.res.resProperty.lpProp = &c;
    CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
    CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
    CHECK_EQ(count, relops[i].want);
  }
  /* RES_COMPAREPROPS: ID == FLAGS on every row here (i % 16 == i). */
  memset(&r, 0, sizeof r);
  r.rt = RES_COMPAREPROPS;
  r.res.resCompareProps.relop = RELOP_EQ;
  r.res.resCompareProps.ulPropTag1 = PR_ID;
  r.res.resCompareProps.ulPropTag2 = PR_FLAGS;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, TBL_ASYNC));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 10);
  /* RES_SIZE: "alpha-00" is 8 bytes, like every subject here. */
  memset(&r, 0, sizeof r);
  r.rt = RES_SIZE;
  r.res.resSize.relop = RELOP_EQ;
  r.res.resSize.ulPropTag = PR_SUBJ;
  r.res.resSize.cb = (ULONG)strlen(subject_of(1));
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK(count >= 1 && count <= 9);
  /* RES_EXIST: row 0 has no subject. */
  memset(&r, 0, sizeof r);
  r.rt = RES_EXIST;
  r.res.resExist.ulPropTag = PR_SUBJ;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 9);
  /* RES_CONTENT prefix, case-sensitive and not. */
  memset(&r, 0, sizeof r);
  c = pv_str8(PROP_ID(PR_SUBJ), "BETA");
  r.rt = RES_CONTENT;
  r.res.resContent.ulFuzzyLevel = FL_PREFIX;
  r.res.resContent.ulPropTag = PR_SUBJ;
  r.res.resContent.lpProp = &c;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 0);
  r.res.resContent.ulFuzzyLevel = FL_PREFIX | FL_IGNORECASE;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 2); /* rows 1 and 6 */
  /* The BITMASK EQZ (even FLAGS) with an RES_COMMENT beside it, under AND and under OR: the
   * comment is never evaluated and has no effect either way. */
  memset(&r, 0, sizeof r);
  memset(kids, 0, sizeof kids);
  kids[0].rt = RES_BITMASK;
  kids[0].res.resBitMask.relBMR = BMR_EQZ;
  kids[0].res.resBitMask.ulPropTag = PR_FLAGS;
  kids[0].res.resBitMask.ulMask = 1;
  kids[1].rt = RES_COMMENT;
  kids[1].res.resComment.cValues = 0;
  kids[1].res.resComment.lpRes = NULL;
  kids[1].res.resComment.lpProp = NULL;
  r.rt = RES_AND;
  r.res.resAnd.cRes = 2;
  r.res.resAnd.lpRes = kids;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 5);
  r.rt = RES_OR;
  CHECK_OK(t->lpVtbl->Restrict(t, &r, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 5);
  /* A comment alone restricts nothing. */
  CHECK_OK(t->lpVtbl->Restrict(t, &kids[1], 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 10);
  /* NULL clears. */
  CHECK_OK(t->lpVtbl->Restrict(t, NULL, 0));
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 10);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static void test_bad_input(void) {
  LPTABLEDATA td = (LPTABLEDATA)GARBAGE_PTR, td2;
  LPMAPITABLE t;
  SRestriction r, kid, *chain, *dag;
  SPropValue v = pv_long(PR_ID, 1), err;
  SizedSPropTagArray(1, cols) = {1, {PR_ID}};
  SizedSPropTagArray(2, bad_cols) = {2, {PR_ID, PROP_TAG(PT_ERROR, 0x6001)}};
  SizedSPropTagArray(1, weird_cols) = {1, {PROP_TAG(0x0099, 0x6001)}};
  SizedSPropTagArray(1, empty_cols) = {0, {0}};
  struct two_keys keys;
  LPSRowSet rows = (LPSRowSet)GARBAGE_PTR;
  ULONG count = 0, u1, u2, u3;
  BOOKMARK bk = 77;
  ULONG_PTR conn = 77;
  LPSPropTagArray got = (LPSPropTagArray)GARBAGE_PTR;
  LONG sought;
  int i, depth = 100000;

  /* CreateTable. */
  CHECK_HR(CreateTable(&IID_IMAPITableData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, TBLTYPE_DYNAMIC, PR_ID, NULL, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK(td == NULL);
  CHECK_HR(CreateTable(&IID_IMAPITableData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, 7, PR_ID, (LPSPropTagArray)&cols, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(CreateTable(&IID_IMAPITableData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, TBLTYPE_DYNAMIC, PROP_TAG(PT_MV_LONG, 0x6001), (LPSPropTagArray)&cols,
                       &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(CreateTable(&IID_IMAPITableData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&bad_cols, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(CreateTable(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL,
                       TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&empty_cols, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(CreateTable(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, &u1,
                       TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&cols, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK(td == NULL);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  CHECK_HR(CreateTable(&IID_IMAPIProp, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL,
                       TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&cols, &td),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_HR(CreateTable(NULL, NULL, MAPIAllocateMore, MAPIFreeBuffer, NULL, TBLTYPE_DYNAMIC, PR_ID,
                       (LPSPropTagArray)&cols, &td),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(CreateTable(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL,
                       TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&cols, NULL),
           MAPI_E_INVALID_PARAMETER);

  t = small_table(5, &td);

  /* ITableData input. */
  CHECK_HR(td->lpVtbl->HrModifyRow(td, NULL), MAPI_E_INVALID_PARAMETER);
  {
    SRow no_index;
    SPropValue g = pv_long(PR_GROUP, 1);
    no_index.ulAdrEntryPad = 0;
    no_index.cValues = 1;
    no_index.lpProps = &g;
    CHECK_HR(td->lpVtbl->HrModifyRow(td, &no_index), MAPI_E_INVALID_PARAMETER);
    no_index.lpProps = NULL;
    CHECK_HR(td->lpVtbl->HrModifyRow(td, &no_index), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(td->lpVtbl->HrDeleteRow(td, &g), MAPI_E_INVALID_PARAMETER);
  }
  CHECK_HR(td->lpVtbl->HrDeleteRow(td, NULL), MAPI_E_INVALID_PARAMETER);
  {
    /* HrModifyRows: one row without the index column, and nothing of the set is applied. */
    SRowSet *set = (SRowSet *)malloc(CbNewSRowSet(2));
    SPropValue good[4], bad = pv_long(PR_GROUP, 1);
    ULONG n = 0;
    CHECK(set != NULL);
    set->cRows = 2;
    set->aRow[0].ulAdrEntryPad = set->aRow[1].ulAdrEntryPad = 0;
    set->aRow[0].lpProps = good;
    set->aRow[0].cValues = row_values(50, good);
    set->aRow[1].lpProps = &bad;
    set->aRow[1].cValues = 1;
    CHECK_HR(td->lpVtbl->HrModifyRows(td, 0, set), MAPI_E_INVALID_PARAMETER);
    free(set);
    CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &n));
    CHECK_EQ(n, 5);
  }
  CHECK_HR(td->lpVtbl->HrModifyRows(td, 1, NULL), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(td->lpVtbl->HrModifyRows(td, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(td->lpVtbl->HrDeleteRows(td, 0, NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(td->lpVtbl->HrDeleteRows(td, 0x10, NULL, NULL), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(td->lpVtbl->HrNotify(td, 1, 0, NULL), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(td->lpVtbl->HrGetView(td, NULL, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);

  /* Columns. */
  CHECK_HR(t->lpVtbl->SetColumns(t, NULL, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&empty_cols, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&bad_cols, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&weird_cols, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&cols, 0x100), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(t->lpVtbl->QueryColumns(t, 0x2, &got), MAPI_E_UNKNOWN_FLAGS);
  CHECK(got == NULL);
  CHECK_HR(t->lpVtbl->QueryColumns(t, 0, NULL), MAPI_E_INVALID_PARAMETER);
  /* The old column set is still in force. */
  CHECK_OK(t->lpVtbl->QueryColumns(t, 0, &got));
  CHECK_EQ(got->cValues, 1);
  MAPIFreeBuffer(got);

  /* Counts and positions. */
  CHECK_HR(t->lpVtbl->QueryRows(t, 0, 0, &rows), MAPI_E_INVALID_PARAMETER);
  CHECK(rows == NULL);
  CHECK_HR(t->lpVtbl->QueryRows(t, 1, 0x2, &rows), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(t->lpVtbl->QueryRows(t, 1, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->GetRowCount(t, 1, &count), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(t->lpVtbl->GetRowCount(t, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SeekRowApprox(t, 1, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->QueryPosition(t, NULL, &u2, &u3), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->QueryPosition(t, &u1, &u2, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->GetStatus(t, NULL, &u1), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->WaitForCompletion(t, 1, 0, NULL), MAPI_E_UNKNOWN_FLAGS);

  /* Bookmarks. */
  CHECK_HR(t->lpVtbl->SeekRow(t, 0xABCDEF, 0, &sought), MAPI_E_INVALID_BOOKMARK);
  CHECK_HR(t->lpVtbl->FreeBookmark(t, 0xABCDEF), MAPI_E_INVALID_BOOKMARK);
  CHECK_HR(t->lpVtbl->CreateBookmark(t, NULL), MAPI_E_INVALID_PARAMETER);
  memset(&r, 0, sizeof r);
  r.rt = RES_EXIST;
  r.res.resExist.ulPropTag = PR_ID;
  CHECK_HR(t->lpVtbl->FindRow(t, &r, 0xABCDEF, 0), MAPI_E_INVALID_BOOKMARK);
  CHECK_HR(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, 0x2), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(t->lpVtbl->FindRow(t, NULL, BOOKMARK_BEGINNING, 0), MAPI_E_INVALID_PARAMETER);

  /* Sort orders. */
  make_two_keys(&keys);
  CHECK_HR(t->lpVtbl->SortTable(t, NULL, 0), MAPI_E_INVALID_PARAMETER);
  keys.aSort[1].ulOrder = 9;
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_INVALID_PARAMETER);
  keys.aSort[1].ulOrder = TABLE_SORT_COMBINE;
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_TOO_COMPLEX);
  make_two_keys(&keys);
  keys.cCategories = 1;
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_TOO_COMPLEX);
  keys.cCategories = 3;
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_INVALID_PARAMETER);
  make_two_keys(&keys);
  keys.aSort[1].ulPropTag = PR_GROUP;
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_TOO_COMPLEX);
  keys.aSort[1].ulPropTag = PROP_TAG(PT_MV_LONG, 0x6009);
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_TOO_COMPLEX);
  keys.aSort[1].ulPropTag = PROP_TAG(PT_ERROR, 0x6009);
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0x10), MAPI_E_UNKNOWN_FLAGS);

  /* Restrictions: NULL sub-pointers, unknown types and operators, mismatched types, PT_ERROR. */
  memset(&r, 0, sizeof r);
  r.rt = RES_NOT;
  r.res.resNot.lpRes = NULL;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  r.rt = RES_AND;
  r.res.resAnd.cRes = 3;
  r.res.resAnd.lpRes = NULL;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  r.rt = RES_PROPERTY;
  r.res.resProperty.relop = RELOP_EQ;
  r.res.resProperty.ulPropTag = PR_ID;
  r.res.resProperty.lpProp = NULL;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  r.res.resProperty.lpProp = &v;
  r.res.resProperty.relop = 42;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  r.res.resProperty.relop = RELOP_RE;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  r.res.resProperty.relop = RELOP_EQ;
  r.res.resProperty.ulPropTag = PR_SUBJ; /* a PT_LONG value for a PT_STRING8 property */
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  err.ulPropTag = PROP_TAG(PT_ERROR, 0x6001);
  err.dwAlignPad = 0;
  err.Value.err = MAPI_E_NOT_FOUND;
  r.res.resProperty.ulPropTag = PR_ID;
  r.res.resProperty.lpProp = &err;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  r.rt = RES_CONTENT;
  r.res.resContent.ulFuzzyLevel = FL_SUBSTRING;
  r.res.resContent.ulPropTag = PR_ID; /* content restrictions are for strings and binaries */
  r.res.resContent.lpProp = &v;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  memset(&r, 0, sizeof r);
  r.rt = RES_COMPAREPROPS;
  r.res.resCompareProps.relop = RELOP_EQ;
  r.res.resCompareProps.ulPropTag1 = PR_ID;
  r.res.resCompareProps.ulPropTag2 = PR_SUBJ;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  memset(&r, 0, sizeof r);
  r.rt = RES_BITMASK;
  r.res.resBitMask.relBMR = 2;
  r.res.resBitMask.ulPropTag = PR_ID;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  memset(&r, 0, sizeof r);
  r.rt = 99;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->FindRow(t, &r, BOOKMARK_BEGINNING, 0), MAPI_E_INVALID_PARAMETER);
  r.rt = RES_COUNT;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  /* RES_SUBRESTRICTION: this table's rows have no recipients; an unknown sub-object. */
  memset(&kid, 0, sizeof kid);
  kid.rt = RES_EXIST;
  kid.res.resExist.ulPropTag = PR_ID;
  r.rt = RES_SUBRESTRICTION;
  r.res.resSub.ulSubObject = PROP_TAG(PT_OBJECT, 0x0E12);
  r.res.resSub.lpRes = &kid;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_TOO_COMPLEX);
  r.res.resSub.ulSubObject = PR_ID;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  r.res.resSub.ulSubObject = PROP_TAG(PT_OBJECT, 0x0E13);
  r.res.resSub.lpRes = NULL;
  CHECK_HR(t->lpVtbl->Restrict(t, &r, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(t->lpVtbl->Restrict(t, NULL, 0x10), MAPI_E_UNKNOWN_FLAGS);

  /* Deep nesting: a chain of NOTs built in a loop, refused without exhausting the stack. */
  chain = (SRestriction *)calloc((size_t)depth + 1, sizeof(SRestriction));
  CHECK(chain != NULL);
  for (i = 0; i < depth; i++) {
    chain[i].rt = RES_NOT;
    chain[i].res.resNot.lpRes = &chain[i + 1];
  }
  chain[depth].rt = RES_EXIST;
  chain[depth].res.resExist.ulPropTag = PR_ID;
  CHECK_HR(t->lpVtbl->Restrict(t, &chain[0], 0), MAPI_E_TOO_COMPLEX);
  CHECK_HR(t->lpVtbl->FindRow(t, &chain[0], BOOKMARK_BEGINNING, 0), MAPI_E_TOO_COMPLEX);
  /* ...and a cycle (a NOT whose child is itself) the same way. */
  chain[0].res.resNot.lpRes = &chain[0];
  CHECK_HR(t->lpVtbl->Restrict(t, &chain[0], 0), MAPI_E_TOO_COMPLEX);
  free(chain);
  /* A chain of 41 ORs is fine... */
  dag = (SRestriction *)calloc(41, sizeof(SRestriction));
  CHECK(dag != NULL);
  for (i = 0; i < 40; i++) {
    dag[i].rt = RES_OR;
    dag[i].res.resOr.cRes = 1;
    dag[i].res.resOr.lpRes = &dag[i + 1];
  }
  dag[40].rt = RES_EXIST;
  dag[40].res.resExist.ulPropTag = PR_ID;
  CHECK_OK(t->lpVtbl->Restrict(t, &dag[0], 0)); /* 41 nodes, fine */
  {
    /* Now each level lists its child twice: SOrRestriction.lpRes points at an array, so the
     * two entries are a pair of copies pointing at the next pair. */
    SRestriction *pairs = (SRestriction *)calloc(2 * 41, sizeof(SRestriction));
    CHECK(pairs != NULL);
    for (i = 0; i < 40; i++) {
      pairs[2 * i].rt = pairs[2 * i + 1].rt = RES_OR;
      pairs[2 * i].res.resOr.cRes = pairs[2 * i + 1].res.resOr.cRes = 2;
      pairs[2 * i].res.resOr.lpRes = pairs[2 * i + 1].res.resOr.lpRes = &pairs[2 * i + 2];
    }
    pairs[80].rt = pairs[81].rt = RES_EXIST;
    pairs[80].res.resExist.ulPropTag = pairs[81].res.resExist.ulPropTag = PR_ID;
    CHECK_HR(t->lpVtbl->Restrict(t, &pairs[0], 0), MAPI_E_TOO_COMPLEX);
    free(pairs);
  }
  free(dag);
  /* After every refusal the table still works, with its last good restriction. */
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &count));
  CHECK_EQ(count, 5);

  /* Categories and notifications are not supported; out-parameters are left defined. */
  CHECK_HR(t->lpVtbl->Advise(t, 0x100, NULL, &conn), MAPI_E_NO_SUPPORT);
  CHECK_EQ(conn, 0);
  CHECK_HR(t->lpVtbl->Unadvise(t, 1), MAPI_E_NO_SUPPORT);
  rows = (LPSRowSet)GARBAGE_PTR;
  u1 = 5;
  CHECK_HR(t->lpVtbl->ExpandRow(t, 0, NULL, 0, 0, &rows, &u1), MAPI_E_NO_SUPPORT);
  CHECK(rows == NULL);
  CHECK_EQ(u1, 0);
  u1 = 5;
  CHECK_HR(t->lpVtbl->CollapseRow(t, 0, NULL, 0, &u1), MAPI_E_NO_SUPPORT);
  CHECK_EQ(u1, 0);
  {
    LPBYTE state = (LPBYTE)GARBAGE_PTR;
    u1 = 5;
    CHECK_HR(t->lpVtbl->GetCollapseState(t, 0, 0, NULL, &u1, &state), MAPI_E_NO_SUPPORT);
    CHECK(state == NULL);
    CHECK_EQ(u1, 0);
    CHECK_HR(t->lpVtbl->SetCollapseState(t, 0, 0, NULL, &bk), MAPI_E_NO_SUPPORT);
    CHECK_EQ(bk, BOOKMARK_BEGINNING);
  }
  /* GetLastError explains the last failure. */
  {
    LPMAPIERROR e = NULL;
    CHECK_HR(t->lpVtbl->QueryRows(t, 0, 0, &rows), MAPI_E_INVALID_PARAMETER);
    CHECK_OK(t->lpVtbl->GetLastError(t, MAPI_E_INVALID_PARAMETER, 0, &e));
    CHECK(e != NULL && strstr((const char *)e->lpszError, "QueryRows") != NULL);
    MAPIFreeBuffer(e);
  }
  /* A panic inside a slot: MAPI_E_CALL_FAILED, and the table still works. */
  CHECK_OK(MsgStoreInjectPanic("QueryRows"));
  rows = NULL;
  CHECK_HR(t->lpVtbl->QueryRows(t, 1, 0, &rows), MAPI_E_CALL_FAILED);
  CHECK(rows == NULL);
  CHECK_OK(MsgStoreInjectPanic("HrModifyRow"));
  CHECK_HR(td->lpVtbl->HrModifyRow(td, NULL), MAPI_E_CALL_FAILED);
  CHECK_OK(MsgStoreInjectPanic("CreateTable"));
  td2 = NULL;
  CHECK_HR(CreateTable(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL,
                       TBLTYPE_DYNAMIC, PR_ID, (LPSPropTagArray)&cols, &td2),
           MAPI_E_CALL_FAILED);
  CHECK(td2 == NULL);
  CHECK_EQ(MsgStoreLiveObjects(), 2);
  CHECK_OK(t->lpVtbl->QueryRows(t, 1, 0, &rows));
  CHECK_EQ(rows->cRows, 1);
  FreeProws(rows);
  /* NULL This. */
  CHECK_HR(t->lpVtbl->GetRowCount(NULL, 0, &count), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(td->lpVtbl->HrModifyRow(NULL, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(t->lpVtbl->AddRef(NULL), 0);

  t->lpVtbl->Release(t);
  td->lpVtbl->Release(td);
}

static const struct test_section SECTIONS[] = {
    {"sorted_and_restricted", test_sorted_and_restricted},
    {"cursor", test_cursor},
    {"bookmarks", test_bookmarks},
    {"find_row", test_find_row},
    {"table_data", test_table_data},
    {"query_all_rows", test_query_all_rows},
    {"restriction_types", test_restriction_types},
    {"bad_input", test_bad_input},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
