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
 *          size, per object, against the message's PR_MESSAGE_SIZE.
 *
 * Usage: scale_bench open DIR SMALL BIG
 *        scale_bench memory DIR
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
static void build_store(built_store *s, const char *path, long long count) {
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

static void memory_case(LPMDB mdb, LPMAPIFOLDER root, const char *label, ULONG body_chars,
                        unsigned objects) {
  SPropValue props[11];
  ULONG n = small_props(props), i, cb;
  BYTE eid[64];
  LPMESSAGE *open = calloc(objects, sizeof *open);
  WCHAR *text = NULL;
  struct mallinfo2 before, after;
  long rss_before, rss_after;
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
  /* One open and release first, so that caches the store keeps (statements, pages) are warm. */
  open[0] = msg_open_eid(mdb, eid, cb, 0);
  size = get_long(open[0], PR_MESSAGE_SIZE);
  open[0]->lpVtbl->Release(open[0]);
  malloc_trim(0);
  before = mallinfo2();
  rss_before = rss_kib();
  for (i = 0; i < objects; i++) open[i] = msg_open_eid(mdb, eid, cb, 0);
  after = mallinfo2();
  rss_after = rss_kib();
  printf("@ case=memory label=%s objects=%u message_size=%ld heap_per_object=%.0f "
         "rss_per_object=%.0f\n",
         label, objects, (long)size,
         ((double)after.uordblks - (double)before.uordblks) / objects,
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
  memory_case(mdb, root, "small", 0, 1000);
  memory_case(mdb, root, "64KiB", 32u * 1024u, 200);
  memory_case(mdb, root, "1MiB", 512u * 1024u, 50);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  remove_db(path);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "open") == 0)
    return run_open(argv[2], atoll(argv[3]), atoll(argv[4]));
  if (argc == 3 && strcmp(argv[1], "memory") == 0) return run_memory(argv[2]);
  fprintf(stderr, "usage: %s open DIR SMALL BIG | memory DIR\n", argv[0]);
  return 2;
}
