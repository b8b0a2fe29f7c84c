/* Durable saves (DESIGN.md §7).
 *
 *   save        SetProps(one PT_LONG) + SaveChanges(KEEP_OPEN_READWRITE) on a message with the 10
 *               small properties, vs. a raw SQLite transaction on a database in the same
 *               directory with the same settings (WAL, synchronous=FULL):
 *               BEGIN IMMEDIATE; UPDATE t SET v=?, version=version+1 WHERE id=? AND version=?;
 *               COMMIT  (prepared once, as the store prepares its statements once).
 *   save_rows   the same save vs. a raw SQLite transaction that runs the statements the store's
 *               save runs (read the object row, upsert the changed property, take a change
 *               number, upsert the four maintained properties in one statement, update the
 *               object's CN) on a second store file: the floor for this schema (informational).
 *   save_nosync the same as save with MSGSTORE_NO_SYNC vs. synchronous=NORMAL (informational).
 *   save_1mib   the same save on a message with a 1 MiB PR_BODY_W (524,288 UTF-16 characters)
 *               vs. on an empty message (nothing but what the store maintains), same store.
 *
 * Every pair is warmed up until both write-ahead logs have filled and restarted (1000 pages,
 * SQLite's auto-checkpoint), so that both run in their steady state: a fresh WAL file that is
 * still growing makes each fsync several times dearer than one that is being overwritten. Batches
 * are long (tens of milliseconds), so checkpoints fall into them in proportion.
 *
 * Usage: save_bench DIR     (MSGSTORE_BENCH_QUICK=1: fewer rounds)
 */
#include "bench_pair.h"

#include <sys/stat.h>

#define TAG_COUNTER SAVE_COUNTER_TAG

typedef struct {
  sqlite3 *db;
  sqlite3_stmt *begin, *update, *commit;
  long long version, value;
} raw_ctx;

static void raw_open(raw_ctx *c, const char *path, int durable) {
  memset(c, 0, sizeof *c);
  remove_db(path);
  sql_ok(NULL,
         sqlite3_open_v2(path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL),
         "open baseline database");
  sqlite3_busy_timeout(c->db, 60000);
  sql_exec(c->db, "PRAGMA journal_mode=WAL");
  sql_exec(c->db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  sql_exec(c->db,
           "CREATE TABLE t(id INTEGER PRIMARY KEY, version INTEGER NOT NULL, v INTEGER);"
           "INSERT INTO t VALUES (1, 1, 0);");
  c->begin = sql_prepare(c->db, "BEGIN IMMEDIATE");
  c->update = sql_prepare(c->db, "UPDATE t SET v = ?1, version = version + 1 "
                                 "WHERE id = ?2 AND version = ?3");
  c->commit = sql_prepare(c->db, "COMMIT");
  c->version = 1;
}

static void raw_close(raw_ctx *c) {
  sqlite3_finalize(c->begin);
  sqlite3_finalize(c->update);
  sqlite3_finalize(c->commit);
  sqlite3_close(c->db);
}

static void op_raw(void *p) {
  raw_ctx *c = p;
  sql_ok(c->db, sqlite3_step(c->begin), "BEGIN IMMEDIATE");
  sqlite3_reset(c->begin);
  sqlite3_bind_int64(c->update, 1, ++c->value);
  sqlite3_bind_int64(c->update, 2, 1);
  sqlite3_bind_int64(c->update, 3, c->version);
  sql_ok(c->db, sqlite3_step(c->update), "UPDATE");
  sqlite3_reset(c->update);
  REQUIRE(sqlite3_changes(c->db) == 1);
  c->version++;
  sql_ok(c->db, sqlite3_step(c->commit), "COMMIT");
  sqlite3_reset(c->commit);
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Runs `op` until the WAL of `db_path` has reached its auto-checkpoint size (1000 pages of 4 KiB
 * plus frame headers) and so restarts from its beginning, then a few more. */
static void warm_wal(bench_op op, void *ctx, const char *db_path) {
  char wal[4200];
  unsigned i, n = 0;
  snprintf(wal, sizeof wal, "%s-wal", db_path);
  while (file_size(wal) < 1000LL * 4120 && n < 100000) {
    op(ctx);
    n++;
  }
  for (i = 0; i < 50; i++) op(ctx);
}

/* The statements the store's save runs, on a store file, through SQLite directly. */
typedef struct {
  sqlite3 *db;
  sqlite3_stmt *begin, *object, *put, *put4, *cn, *next_cn, *set_cn, *log, *unnamed, *commit;
  long long id, value;
  BYTE guid[16];
} rows_ctx;

static void rows_open(rows_ctx *c, const char *path, long long id) {
  sqlite3_stmt *st;
  memset(c, 0, sizeof *c);
  sql_ok(NULL, sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL),
         "open store file");
  sqlite3_busy_timeout(c->db, 60000);
  sql_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL");
  c->begin = sql_prepare(c->db, "BEGIN IMMEDIATE");
  c->object = sql_prepare(c->db, "SELECT id, kind, parent, cn, flags FROM objects WHERE id = ?1");
  /* Schema 5: an upsert clears `big` (the row may have named a large value before). */
  c->put = sql_prepare(c->db, "INSERT INTO props(obj, id, tag, value) VALUES (?1, ?2, ?3, ?4) "
                              "ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, "
                              "value = excluded.value, big = NULL");
  c->put4 = sql_prepare(c->db, "INSERT INTO props(obj, id, tag, value) VALUES "
                               "(?1, ?2, ?3, ?4), (?5, ?6, ?7, ?8), (?9, ?10, ?11, ?12), "
                               "(?13, ?14, ?15, ?16) "
                               "ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, "
                               "value = excluded.value, big = NULL");
  c->cn = sql_prepare(c->db, "SELECT value FROM meta WHERE key = 'next_cn'");
  c->next_cn = sql_prepare(c->db, "UPDATE meta SET value = ?1 WHERE key = 'next_cn'");
  c->set_cn = sql_prepare(c->db, "UPDATE objects SET cn = ?2 WHERE id = ?1");
  /* The change log row every save writes (notifications; schema 4). */
  c->log = sql_prepare(c->db, "INSERT INTO changes(obj, kind, parent, what) VALUES (?1, ?2, ?3, 2)");
  /* The large values no row names any longer, deleted at the end of every save (schema 5). */
  c->unnamed = sql_prepare(c->db,
                           "DELETE FROM big_values WHERE obj = ?1 AND NOT EXISTS (SELECT 1 FROM "
                           "props p WHERE p.obj = ?1 AND p.big = big_values.id)");
  c->commit = sql_prepare(c->db, "COMMIT");
  st = sql_prepare(c->db, "SELECT value FROM meta WHERE key = 'store_guid'");
  REQUIRE(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16);
  memcpy(c->guid, sqlite3_column_blob(st, 0), 16);
  sqlite3_finalize(st);
  c->id = id;
}

static void rows_put(rows_ctx *c, ULONG tag, const void *value, int len) {
  sqlite3_bind_int64(c->put, 1, c->id);
  sqlite3_bind_int64(c->put, 2, (long long)(tag >> 16));
  sqlite3_bind_int64(c->put, 3, (long long)tag);
  sqlite3_bind_blob(c->put, 4, value, len, SQLITE_STATIC);
  sql_ok(c->db, sqlite3_step(c->put), "put");
  sqlite3_reset(c->put);
}

/* Binds row `i` of the four-row upsert. */
static void rows_bind4(rows_ctx *c, int i, ULONG tag, const void *value, int len) {
  sqlite3_bind_int64(c->put4, 4 * i + 1, c->id);
  sqlite3_bind_int64(c->put4, 4 * i + 2, (long long)(tag >> 16));
  sqlite3_bind_int64(c->put4, 4 * i + 3, (long long)tag);
  sqlite3_bind_blob(c->put4, 4 * i + 4, value, len, SQLITE_STATIC);
}

static void op_rows(void *p) {
  rows_ctx *c = p;
  long long cn;
  BYTE key[22], pcl[23];
  uint64_t now = 0x01DA000000000000ull + (uint64_t)c->value;
  int32_t v = (int32_t)++c->value, size = 200;
  int k;
  sql_ok(c->db, sqlite3_step(c->begin), "BEGIN");
  sqlite3_reset(c->begin);
  sqlite3_bind_int64(c->object, 1, c->id);
  REQUIRE(sqlite3_step(c->object) == SQLITE_ROW);
  sqlite3_bind_int64(c->log, 1, c->id);
  sqlite3_bind_int64(c->log, 2, sqlite3_column_int64(c->object, 1));
  sqlite3_bind_int64(c->log, 3, sqlite3_column_int64(c->object, 2));
  sqlite3_reset(c->object);
  rows_put(c, TAG_COUNTER, &v, 4);
  REQUIRE(sqlite3_step(c->cn) == SQLITE_ROW);
  cn = sqlite3_column_int64(c->cn, 0);
  sqlite3_reset(c->cn);
  sqlite3_bind_int64(c->next_cn, 1, cn + 1);
  sql_ok(c->db, sqlite3_step(c->next_cn), "next cn");
  sqlite3_reset(c->next_cn);
  memcpy(key, c->guid, 16);
  for (k = 0; k < 6; k++) key[16 + k] = (BYTE)((uint64_t)cn >> (8 * (5 - k)));
  pcl[0] = 22;
  memcpy(pcl + 1, key, 22);
  rows_bind4(c, 0, PR_CHANGE_KEY, key, 22);
  rows_bind4(c, 1, PR_PREDECESSOR_CHANGE_LIST, pcl, 23);
  rows_bind4(c, 2, PROP_TAG(PT_SYSTIME, 0x3008), &now, 8);
  rows_bind4(c, 3, PR_MESSAGE_SIZE, &size, 4);
  sql_ok(c->db, sqlite3_step(c->put4), "put maintained");
  sqlite3_reset(c->put4);
  sqlite3_bind_int64(c->unnamed, 1, c->id);
  sql_ok(c->db, sqlite3_step(c->unnamed), "delete unnamed large values");
  sqlite3_reset(c->unnamed);
  sqlite3_bind_int64(c->set_cn, 1, c->id);
  sqlite3_bind_int64(c->set_cn, 2, cn);
  sql_ok(c->db, sqlite3_step(c->set_cn), "set cn");
  sqlite3_reset(c->set_cn);
  sql_ok(c->db, sqlite3_step(c->log), "log the change");
  sqlite3_reset(c->log);
  sql_ok(c->db, sqlite3_step(c->commit), "COMMIT");
  sqlite3_reset(c->commit);
}

static void rows_close(rows_ctx *c) {
  sqlite3_finalize(c->begin);
  sqlite3_finalize(c->object);
  sqlite3_finalize(c->log);
  sqlite3_finalize(c->put);
  sqlite3_finalize(c->put4);
  sqlite3_finalize(c->cn);
  sqlite3_finalize(c->next_cn);
  sqlite3_finalize(c->set_cn);
  sqlite3_finalize(c->unnamed);
  sqlite3_finalize(c->commit);
  sqlite3_close(c->db);
}

static void save_vs_rows(const char *dir, unsigned rounds, double batch_ns) {
  char path[4096], rows_path[4096];
  SPropValue small[10];
  BYTE eid[64], eid2[64];
  ULONG cb, n;
  long long id = 0;
  int k;
  LPMDB mdb, mdb2;
  LPMAPIFOLDER root;
  save_ctx s;
  rows_ctx r;
  pair_result res;

  path_join(path, sizeof path, dir, "save-rows-api.msgstore");
  path_join(rows_path, sizeof rows_path, dir, "save-rows-raw.msgstore");
  remove_db(path);
  remove_db(rows_path);
  n = small_props(small);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  cb = msg_create_with(root, n, small, eid, sizeof eid);
  root->lpVtbl->Release(root);
  mdb2 = store_open_path(rows_path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb2);
  msg_create_with(root, n, small, eid2, sizeof eid2);
  root->lpVtbl->Release(root);
  mdb2->lpVtbl->Release(mdb2);
  for (k = 0; k < 8; k++) id |= (long long)eid2[24 + k] << (8 * k);
  s.msg = msg_open_eid(mdb, eid, cb, MAPI_MODIFY);
  s.value = 0;
  rows_open(&r, rows_path, id);
  warm_wal(op_save, &s, path);
  warm_wal(op_rows, &r, rows_path);
  res = run_pair(op_save, &s, op_rows, &r, rounds, batch_ns);
  print_pair("save_rows", res, "");
  rows_close(&r);
  s.msg->lpVtbl->Release(s.msg);
  mdb->lpVtbl->Release(mdb);
}

static void save_vs_raw(const char *dir, int durable, unsigned rounds, double batch_ns) {
  char path[4096], raw_path[4096];
  SPropValue small[10];
  BYTE eid[64];
  ULONG cb, n;
  LPMDB mdb;
  LPMAPIFOLDER root;
  save_ctx s;
  raw_ctx r;
  pair_result res;

  path_join(path, sizeof path, dir, durable ? "save.msgstore" : "save-nosync.msgstore");
  path_join(raw_path, sizeof raw_path, dir, durable ? "raw.sqlite" : "raw-nosync.sqlite");
  remove_db(path);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE | (durable ? 0 : MSGSTORE_NO_SYNC));
  root = store_root_folder(mdb);
  n = small_props(small);
  cb = msg_create_with(root, n, small, eid, sizeof eid);
  s.msg = msg_open_eid(mdb, eid, cb, MAPI_MODIFY);
  s.value = 0;
  raw_open(&r, raw_path, durable);
  warm_wal(op_save, &s, path);
  warm_wal(op_raw, &r, raw_path);
  res = run_pair(op_save, &s, op_raw, &r, rounds, batch_ns);
  print_pair(durable ? "save" : "save_nosync", res, "");
  REQUIRE(get_long(s.msg, TAG_COUNTER) == s.value);
  raw_close(&r);
  s.msg->lpVtbl->Release(s.msg);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static void save_big_vs_empty(const char *dir, unsigned rounds, double batch_ns) {
  char path[4096];
  BYTE eid_big[64], eid_empty[64];
  ULONG cb_big, cb_empty, chars = 512u * 1024u, i;
  SPropValue body;
  WCHAR *text = malloc((chars + 1) * sizeof *text);
  LPMDB mdb;
  LPMAPIFOLDER root;
  save_ctx big, empty;
  pair_result res;
  char extra[64];

  REQUIRE(text);
  /* Prose-like ASCII with a non-ASCII letter now and then. */
  for (i = 0; i < chars; i++) text[i] = (WCHAR)(i % 61 == 60 ? 0x00E9 : "lorem ipsum dolor "[i % 18]);
  text[chars] = 0;
  path_join(path, sizeof path, dir, "save-1mib.msgstore");
  remove_db(path);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  memset(&body, 0, sizeof body);
  body.ulPropTag = PR_BODY_W;
  body.Value.lpszW = text;
  cb_big = msg_create_with(root, 1, &body, eid_big, sizeof eid_big);
  cb_empty = msg_create_with(root, 0, NULL, eid_empty, sizeof eid_empty);
  big.msg = msg_open_eid(mdb, eid_big, cb_big, MAPI_MODIFY);
  big.value = 0;
  empty.msg = msg_open_eid(mdb, eid_empty, cb_empty, MAPI_MODIFY);
  empty.value = 0;
  warm_wal(op_save, &empty, path);
  res = run_pair(op_save, &big, op_save, &empty, rounds, batch_ns);
  snprintf(extra, sizeof extra, "message_size=%ld",
           (long)get_long(big.msg, PROP_TAG(PT_LONG, 0x0E08)));
  print_pair("save_1mib", res, extra);
  big.msg->lpVtbl->Release(big.msg);
  empty.msg->lpVtbl->Release(empty.msg);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  free(text);
}

int main(int argc, char **argv) {
  unsigned rounds = quick_mode() ? 9 : 41;
  double batch_ns = quick_mode() ? 40e6 : 80e6;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  save_vs_raw(argv[1], 1, rounds, batch_ns);
  save_vs_rows(argv[1], rounds, batch_ns);
  save_vs_raw(argv[1], 0, rounds, batch_ns);
  save_big_vs_empty(argv[1], rounds, batch_ns);
  return 0;
}
