/* Scaling (DESIGN.md §7): open cost independent of store size; memory proportional to content.
 *
 *   open   OpenEntry(a uniformly random message, read-only) + GetProps(its 10 small
 *          properties) + MAPIFreeBuffer + Release, on a store of BIG messages vs. one of SMALL
 *          messages (both open in this process, alternating batches). The stores are bulk-built
 *          with SQL in the store's own schema: one template message is made through the API, and
 *          BIG-1 copies of its rows are inserted with their own IDs, change numbers, change keys
 *          and predecessor change lists, so every message is what a save would have left.
 *          Both files are in the OS page cache (just written), not in SQLite's.
 *   memory heap (glibc mallinfo2) and RSS growth for N open objects of one message of a given
 *          size, per object, against the message's PR_MESSAGE_SIZE; and a message with a
 *          10 MiB attachment against the same with a 1-byte one (heap and time per open).
 *
 *   contents  the first 50 rows of a folder's contents table, two-key sort (one descending)
 *          plus a restriction, through the C ABI (GetContentsTable, SetColumns, SortTable,
 *          Restrict, QueryRows(50), FreeProws, Release) against the same query run raw on the
 *          store file with SQLite (one SELECT … ORDER BY … LIMIT 50 on its own connection), at
 *          each size given; bulk-built as `open` is, with four table properties per message.
 *
 * Usage: scale_bench open DIR SMALL BIG
 *        scale_bench memory DIR
 *        scale_bench contents DIR N...
 */
#include "bench_pair.h"

#include <malloc.h>

/* ---- bulk build --------------------------------------------------------------------------- */

static long long query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = sql_prepare(db, sql);
  long long v;
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

typedef struct {
  LPMDB mdb;
  BYTE eid[64]; /* the template's entry ID; bytes 24..31 are the object ID (LE) */
  ULONG cb;
  long long first_id;
  long long count;
  SizedSPropTagArray(10, tags);
} built_store;

/* Makes a store of `count` messages with the 10 small properties each. */
static void build_store_with(built_store *s, const char *path, long long count,
                             const char *extra_sql);

static void build_store(built_store *s, const char *path, long long count) {
  build_store_with(s, path, count, NULL);
}

/* Makes a store of `count` messages with the 10 small properties each, and runs `extra_sql`
 * (when not NULL) in the bulk transaction. */
static void build_store_with(built_store *s, const char *path, long long count,
                             const char *extra_sql) {
  SPropValue small[10];
  ULONG n, i;
  LPMDB mdb;
  LPMAPIFOLDER root;
  sqlite3 *db = NULL;
  sqlite3_stmt *st;
  long long template_id, next_cn;
  char sql[2048];
  uint64_t t0 = now_ns();

  remove_db(path);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  n = small_props(small);
  s->cb = msg_create_with(root, n, small, s->eid, sizeof s->eid);
  s->tags.cValues = n;
  for (i = 0; i < n; i++) s->tags.aulPropTag[i] = small[i].ulPropTag;
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);

  sql_ok(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL),
         "open store for bulk build");
  sql_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
  template_id = query_int(db, "SELECT id FROM objects WHERE kind = 5");
  next_cn = query_int(db, "SELECT value FROM meta WHERE key = 'next_cn'");
  /* The template's change key and PCL are exactly what the copies' are made of. */
  REQUIRE(query_int(db, "SELECT count(*) FROM props p, props q, meta g, objects o "
                        "WHERE p.obj = o.id AND q.obj = o.id AND o.kind = 5 "
                        "AND g.key = 'store_guid' AND p.id = 26082 AND q.id = 26083 "
                        "AND p.value = unhex(hex(g.value) || printf('%012X', o.cn)) "
                        "AND q.value = unhex('16' || hex(p.value))") == 1);
  sql_exec(db, "BEGIN");
  snprintf(sql, sizeof sql,
           "INSERT INTO objects(id, kind, parent, cn, flags) "
           "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %lld) "
           "SELECT %lld + i, 5, 2, %lld + i - 1, 0 FROM c",
           count - 1, template_id, next_cn);
  if (count > 1) sql_exec(db, sql);
  snprintf(sql, sizeof sql,
           "INSERT INTO props(obj, id, tag, value) "
           "SELECT o.id, p.id, p.tag, CASE p.id "
           "  WHEN 26082 THEN unhex(hex(g.value) || printf('%%012X', o.cn)) "
           "  WHEN 26083 THEN unhex('16' || hex(g.value) || printf('%%012X', o.cn)) "
           "  ELSE p.value END "
           "FROM objects o, props p, meta g "
           "WHERE o.id > %lld AND o.kind = 5 AND p.obj = %lld AND g.key = 'store_guid' "
           "ORDER BY o.id, p.id",
           template_id, template_id);
  if (count > 1) sql_exec(db, sql);
  snprintf(sql, sizeof sql, "UPDATE meta SET value = %lld WHERE key = 'next_cn'",
           next_cn + count - 1);
  sql_exec(db, sql);
  if (extra_sql) sql_exec(db, extra_sql);
  sql_exec(db, "COMMIT");
  sql_exec(db, "PRAGMA journal_mode=WAL");
  st = sql_prepare(db, "SELECT count(*) FROM objects WHERE kind = 5");
  REQUIRE(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == count);
  sqlite3_finalize(st);
  sqlite3_close(db);

  s->first_id = template_id;
  s->count = count;
  s->mdb = store_open_path(path, MDB_WRITE);
  printf("built %s: %lld messages in %.1f s\n", path, count, (now_ns() - t0) / 1e9);
  fflush(stdout);
}

static void op_open_get(void *p) {
  built_store *s = p;
  uint64_t id = (uint64_t)s->first_id + rng_next() % (uint64_t)s->count;
  BYTE eid[64];
  LPMESSAGE msg;
  ULONG n = 0, k;
  LPSPropValue v = NULL;
  HRESULT hr;
  memcpy(eid, s->eid, s->cb);
  for (k = 0; k < 8; k++) eid[24 + k] = (BYTE)(id >> (8 * k));
  msg = msg_open_eid(s->mdb, eid, s->cb, 0);
  hr = msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&s->tags, MAPI_UNICODE, &n, &v);
  if (hr != S_OK) bench_fail_hr(__FILE__, __LINE__, "GetProps", hr);
  bench_sink += (uintptr_t)v[0].ulPropTag;
  MAPIFreeBuffer(v);
  msg->lpVtbl->Release(msg);
}

static int run_open(const char *dir, long long small_n, long long big_n) {
  char small_path[4096], big_path[4096], extra[128];
  built_store small, big;
  pair_result r;
  unsigned rounds = quick_mode() ? 15 : 61;
  path_join(small_path, sizeof small_path, dir, "open-small.msgstore");
  path_join(big_path, sizeof big_path, dir, "open-big.msgstore");
  build_store(&small, small_path, small_n);
  build_store(&big, big_path, big_n);
  r = run_pair(op_open_get, &big, op_open_get, &small, rounds, quick_mode() ? 5e6 : 10e6);
  snprintf(extra, sizeof extra, "big=%lld small=%lld", big_n, small_n);
  print_pair("open", r, extra);
  small.mdb->lpVtbl->Release(small.mdb);
  big.mdb->lpVtbl->Release(big.mdb);
  if (!env_flag("MSGSTORE_BENCH_KEEP")) {
    remove_db(small_path);
    remove_db(big_path);
  }
  return 0;
}

/* ---- memory ------------------------------------------------------------------------------- */

static long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Gives the message `eid` one attachment whose PR_ATTACH_DATA_BIN is `bytes` bytes. */
static void add_attachment(LPMDB mdb, const BYTE *eid, ULONG cb, ULONG bytes) {
  LPMESSAGE msg = msg_open_eid(mdb, eid, cb, MAPI_MODIFY);
  LPATTACH att = NULL;
  ULONG num = 0, i;
  SPropValue v[2];
  BYTE *data = malloc(bytes ? bytes : 1);
  REQUIRE(data);
  for (i = 0; i < bytes; i++) data[i] = (BYTE)(i * 7 + i / 251);
  OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &att));
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PR_ATTACH_METHOD;
  v[0].Value.l = ATTACH_BY_VALUE;
  v[1].ulPropTag = PR_ATTACH_DATA_BIN;
  v[1].Value.bin.cb = bytes;
  v[1].Value.bin.lpb = data;
  OK(att->lpVtbl->SetProps(att, 2, v, NULL));
  OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  OK(msg->lpVtbl->SaveChanges(msg, 0));
  msg->lpVtbl->Release(msg);
  free(data);
}

/* `attach_bytes`: 0 for no attachment, else one attachment with data of that size. */
static void memory_case(LPMDB mdb, LPMAPIFOLDER root, const char *label, ULONG body_chars,
                        ULONG attach_bytes, unsigned objects) {
  SPropValue props[11];
  ULONG n = small_props(props), i, cb;
  BYTE eid[64];
  LPMESSAGE *open = calloc(objects, sizeof *open);
  WCHAR *text = NULL;
  struct mallinfo2 before, after;
  long rss_before, rss_after;
  uint64_t t0, t1;
  LONG size;
  REQUIRE(open);
  if (body_chars) {
    text = malloc((body_chars + 1) * sizeof *text);
    REQUIRE(text);
    for (i = 0; i < body_chars; i++) text[i] = (WCHAR)"lorem ipsum dolor "[i % 18];
    text[body_chars] = 0;
    memset(&props[n], 0, sizeof props[n]);
    props[n].ulPropTag = PR_BODY_W;
    props[n++].Value.lpszW = text;
  }
  cb = msg_create_with(root, n, props, eid, sizeof eid);
  free(text);
  if (attach_bytes) add_attachment(mdb, eid, cb, attach_bytes);
  /* One open and release first, so that caches the store keeps (statements, pages) are warm. */
  open[0] = msg_open_eid(mdb, eid, cb, 0);
  size = get_long(open[0], PR_MESSAGE_SIZE);
  open[0]->lpVtbl->Release(open[0]);
  malloc_trim(0);
  before = mallinfo2();
  rss_before = rss_kib();
  t0 = now_ns();
  for (i = 0; i < objects; i++) open[i] = msg_open_eid(mdb, eid, cb, 0);
  t1 = now_ns();
  after = mallinfo2();
  rss_after = rss_kib();
  printf("@ case=memory label=%s objects=%u message_size=%ld open_ns=%.0f heap_per_object=%.0f "
         "rss_per_object=%.0f\n",
         label, objects, (long)size, (double)(t1 - t0) / objects,
         /* Blocks glibc maps on their own (large values: at or above its mmap threshold, which
          * moves with the program's history) are in hblkhd, not uordblks. */
         ((double)(after.uordblks + after.hblkhd) - (double)(before.uordblks + before.hblkhd)) /
             objects,
         (double)(rss_after - rss_before) * 1024.0 / objects);
  fflush(stdout);
  for (i = 0; i < objects; i++) open[i]->lpVtbl->Release(open[i]);
  free(open);
}

static int run_memory(const char *dir) {
  char path[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  path_join(path, sizeof path, dir, "memory.msgstore");
  remove_db(path);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  memory_case(mdb, root, "small", 0, 0, 1000);
  memory_case(mdb, root, "64KiB", 32u * 1024u, 0, 200);
  memory_case(mdb, root, "1MiB", 512u * 1024u, 0, 50);
  /* Values above 1 MiB stay in the store at open (DESIGN.md §7): a message with a 10 MiB
   * attachment costs what the same message with a 1-byte attachment costs. */
  memory_case(mdb, root, "attach1B", 0, 1, 100);
  memory_case(mdb, root, "attach10MiB", 0, 10u << 20, 100);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  remove_db(path);
  return 0;
}

/* ---- contents tables ---------------------------------------------------------------------- */

#define T_NUM PROP_TAG(PT_LONG, 0x6601)
#define T_WORD PROP_TAG(PT_STRING8, 0x6602)
#define T_BUCKET PROP_TAG(PT_LONG, 0x6603)
#define T_BITS PROP_TAG(PT_LONG, 0x6604)

/* NUM = the object ID, WORD = "<stem> <nnn>" (no WORD on one message in 41), BUCKET and BITS
 * spread over 17 and 32 values: the table properties of contents_test.c's model. */
static const char CONTENTS_PROPS_SQL[] =
    "INSERT INTO props(obj, id, tag, value) "
    "SELECT id, 26113, 1711341571, id FROM objects WHERE kind = 5; "
    "INSERT INTO props(obj, id, tag, value) "
    "SELECT id, 26114, 1711407134, CASE id % 6 WHEN 0 THEN 'North' WHEN 1 THEN 'south' "
    "  WHEN 2 THEN 'EAST' WHEN 3 THEN 'west' WHEN 4 THEN 'Centre' ELSE 'north-east' END "
    "  || printf(' %03d', (id * 37) % 211) FROM objects WHERE kind = 5 AND id % 41 <> 7; "
    "INSERT INTO props(obj, id, tag, value) "
    "SELECT id, 26115, 1711472643, (id * 11) % 17 FROM objects WHERE kind = 5; "
    "INSERT INTO props(obj, id, tag, value) "
    "SELECT id, 26116, 1711538179, (id * 5) % 32 FROM objects WHERE kind = 5;";

/* The raw query: the same rows, in the same order, as the table's first 50. */
static const char CONTENTS_RAW_SQL[] =
    "SELECT o.id, w.value, b.value FROM objects o "
    "JOIN props b ON b.obj = o.id AND b.id = 26115 "
    "LEFT JOIN props w ON w.obj = o.id AND w.id = 26114 "
    "LEFT JOIN props x ON x.obj = o.id AND x.id = 26116 "
    "WHERE o.parent = 2 AND o.kind = 5 AND (o.flags & 1) = 0 AND b.value < 9 "
    "AND (w.value LIKE 'north%' OR x.value > 20) "
    "ORDER BY b.value DESC, w.value IS NULL, w.value COLLATE NOCASE, o.id LIMIT 50";

typedef struct {
  LPMAPIFOLDER root;
  sqlite3 *raw;
  sqlite3_stmt *raw_stmt;
  LONG first[50]; /* the NUMs of the table's first 50 rows, for the cross-check */
  int rows;
} contents_ctx;

static void op_contents_table(void *p) {
  contents_ctx *c = p;
  SizedSPropTagArray(4, cols) = {4, {T_NUM, T_WORD, T_BUCKET, PR_ENTRYID}};
  struct {
    ULONG cSorts, cCategories, cExpanded;
    SSortOrder aSort[2];
  } keys = {2, 0, 0, {{T_BUCKET, TABLE_SORT_DESCEND}, {T_WORD, TABLE_SORT_ASCEND}}};
  SRestriction top, and_kids[2], or_kids[2];
  SPropValue below9, north, bits20;
  LPMAPITABLE t = NULL;
  LPSRowSet rows = NULL;
  ULONG r;
  memset(and_kids, 0, sizeof and_kids);
  memset(or_kids, 0, sizeof or_kids);
  memset(&below9, 0, sizeof below9);
  memset(&north, 0, sizeof north);
  memset(&bits20, 0, sizeof bits20);
  below9.ulPropTag = T_BUCKET;
  below9.Value.l = 9;
  north.ulPropTag = T_WORD;
  north.Value.lpszA = (char *)"NORTH";
  bits20.ulPropTag = T_BITS;
  bits20.Value.l = 20;
  top.rt = RES_AND;
  top.res.resAnd.cRes = 2;
  top.res.resAnd.lpRes = and_kids;
  and_kids[0].rt = RES_PROPERTY;
  and_kids[0].res.resProperty.relop = RELOP_LT;
  and_kids[0].res.resProperty.ulPropTag = T_BUCKET;
  and_kids[0].res.resProperty.lpProp = &below9;
  and_kids[1].rt = RES_OR;
  and_kids[1].res.resOr.cRes = 2;
  and_kids[1].res.resOr.lpRes = or_kids;
  or_kids[0].rt = RES_CONTENT;
  or_kids[0].res.resContent.ulFuzzyLevel = FL_PREFIX | FL_IGNORECASE;
  or_kids[0].res.resContent.ulPropTag = T_WORD;
  or_kids[0].res.resContent.lpProp = &north;
  or_kids[1].rt = RES_PROPERTY;
  or_kids[1].res.resProperty.relop = RELOP_GT;
  or_kids[1].res.resProperty.ulPropTag = T_BITS;
  or_kids[1].res.resProperty.lpProp = &bits20;
  OK(c->root->lpVtbl->GetContentsTable(c->root, 0, &t));
  OK(t->lpVtbl->SetColumns(t, (LPSPropTagArray)&cols, 0));
  OK(t->lpVtbl->SortTable(t, (LPSSortOrderSet)&keys, 0));
  OK(t->lpVtbl->Restrict(t, &top, 0));
  OK(t->lpVtbl->QueryRows(t, 50, 0, &rows));
  c->rows = (int)rows->cRows;
  for (r = 0; r < rows->cRows; r++) c->first[r] = rows->aRow[r].lpProps[0].Value.l;
  FreeProws(rows);
  t->lpVtbl->Release(t);
}

static void op_contents_raw(void *p) {
  contents_ctx *c = p;
  int n = 0;
  sqlite3_reset(c->raw_stmt);
  while (sqlite3_step(c->raw_stmt) == SQLITE_ROW) {
    REQUIRE(n < 50);
    REQUIRE(sqlite3_column_int64(c->raw_stmt, 0) == c->first[n]);
    bench_sink += (uintptr_t)sqlite3_column_int64(c->raw_stmt, 2);
    n++;
  }
  REQUIRE(n == c->rows);
}

static int run_contents(const char *dir, int nsizes, char **sizes) {
  int k;
  for (k = 0; k < nsizes; k++) {
    long long n = atoll(sizes[k]);
    char path[4096], name[64], extra[64];
    built_store s;
    contents_ctx c;
    double *m, *b, *q;
    unsigned rounds = quick_mode() ? 7 : (n >= 1000000 ? 9 : 21), i;
    snprintf(name, sizeof name, "contents-%lld.msgstore", n);
    path_join(path, sizeof path, dir, name);
    build_store_with(&s, path, n, CONTENTS_PROPS_SQL);
    memset(&c, 0, sizeof c);
    c.root = store_root_folder(s.mdb);
    sql_ok(NULL, sqlite3_open_v2(path, &c.raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL),
           "open store for the raw query");
    c.raw_stmt = sql_prepare(c.raw, CONTENTS_RAW_SQL);
    /* Warm both up; the first table read also fills c.first for the raw query's check. */
    op_contents_table(&c);
    REQUIRE(c.rows == 50);
    op_contents_raw(&c);
    m = malloc(rounds * sizeof *m);
    b = malloc(rounds * sizeof *b);
    q = malloc(rounds * sizeof *q);
    REQUIRE(m && b && q);
    for (i = 0; i < rounds; i++) {
      if (i % 2) {
        b[i] = time_batch(op_contents_raw, &c, 1);
        m[i] = time_batch(op_contents_table, &c, 1);
      } else {
        m[i] = time_batch(op_contents_table, &c, 1);
        b[i] = time_batch(op_contents_raw, &c, 1);
      }
      q[i] = m[i] / b[i];
    }
    {
      pair_result r;
      r.measured_ns = median(m, rounds);
      r.baseline_ns = median(b, rounds);
      r.ratio_median = median(q, rounds);
      r.rounds = rounds;
      r.batch = 1;
      snprintf(extra, sizeof extra, "n=%lld", n);
      snprintf(name, sizeof name, "contents%lld", n);
      print_pair(name, r, extra);
    }
    free(m);
    free(b);
    free(q);
    sqlite3_finalize(c.raw_stmt);
    sqlite3_close(c.raw);
    c.root->lpVtbl->Release(c.root);
    s.mdb->lpVtbl->Release(s.mdb);
    if (!env_flag("MSGSTORE_BENCH_KEEP")) remove_db(path);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "open") == 0)
    return run_open(argv[2], atoll(argv[3]), atoll(argv[4]));
  if (argc == 3 && strcmp(argv[1], "memory") == 0) return run_memory(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "contents") == 0) return run_contents(argv[2], argc - 3, argv + 3);
  fprintf(stderr, "usage: %s open DIR SMALL BIG | memory DIR | contents DIR N...\n", argv[0]);
  return 2;
}
