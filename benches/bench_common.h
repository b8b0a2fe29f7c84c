/* Shared helpers of the C benchmark programs in benches/, built and run by benches/suite.rs.
 *
 * Everything here is plain C11 against include/msgstore.h plus the few sqlite3_* functions of
 * the SQLite that is bundled into libmsgstore.a (same build, same compile options as the store's
 * own), declared below because no sqlite3.h is installed.
 *
 * Output protocol (parsed by suite.rs): one line per measurement,
 *   @ key=value key=value ...
 * Everything else a program prints is progress text, echoed by the suite in verbose mode.
 */
#ifndef MSGSTORE_BENCH_COMMON_H
#define MSGSTORE_BENCH_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include "msgstore.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the bundled SQLite (same library the store uses) ---------------------------------- */
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_open_v2(const char *filename, sqlite3 **ppDb, int flags, const char *zVfs);
int sqlite3_close(sqlite3 *);
int sqlite3_exec(sqlite3 *, const char *sql, int (*cb)(void *, int, char **, char **), void *,
                 char **errmsg);
int sqlite3_prepare_v2(sqlite3 *db, const char *zSql, int nByte, sqlite3_stmt **ppStmt,
                       const char **pzTail);
int sqlite3_bind_int64(sqlite3_stmt *, int, long long);
int sqlite3_bind_blob(sqlite3_stmt *, int, const void *, int n, void (*)(void *));
int sqlite3_step(sqlite3_stmt *);
int sqlite3_reset(sqlite3_stmt *);
int sqlite3_finalize(sqlite3_stmt *);
long long sqlite3_column_int64(sqlite3_stmt *, int iCol);
const void *sqlite3_column_blob(sqlite3_stmt *, int iCol);
int sqlite3_column_bytes(sqlite3_stmt *, int iCol);
int sqlite3_changes(sqlite3 *);
int sqlite3_busy_timeout(sqlite3 *, int ms);
const char *sqlite3_errmsg(sqlite3 *);
#define SQLITE_OK 0
#define SQLITE_ROW 100
#define SQLITE_DONE 101
#define SQLITE_OPEN_READWRITE 0x00000002
#define SQLITE_OPEN_CREATE 0x00000004
#define SQLITE_OPEN_NOMUTEX 0x00008000
#define SQLITE_STATIC ((void (*)(void *))0)

/* MAPI's SizedSPropTagArray: a tag array with room for _ctag tags, on the stack. */
#ifndef SizedSPropTagArray
#define SizedSPropTagArray(_ctag, _name) \
  struct {                               \
    ULONG cValues;                       \
    ULONG aulPropTag[_ctag];             \
  } _name
#endif

/* ---- failure ------------------------------------------------------------------------------ */
static inline void bench_fail_hr(const char *file, int line, const char *what, HRESULT hr) {
  const char *name = "?";
  LPMAPIERROR err = NULL;
  MsgStoreErrorName(hr, &name);
  fprintf(stderr, "%s:%d: %s failed: %s (0x%08X)\n", file, line, what, name, (unsigned)hr);
  if (MsgStoreGetLastError(hr, 0, &err) == S_OK && err) {
    fprintf(stderr, "    %s\n", err->lpszError);
    MAPIFreeBuffer(err);
  }
  exit(2);
}
#define OK(call)                                                                  \
  do {                                                                            \
    HRESULT hr_ = (call);                                                         \
    if (hr_ != S_OK) bench_fail_hr(__FILE__, __LINE__, #call, hr_);               \
  } while (0)
#define REQUIRE(cond)                                                             \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(2);                                                                    \
    }                                                                             \
  } while (0)

static inline void sql_ok(sqlite3 *db, int rc, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "sqlite: %s: %s (rc %d)\n", what, sqlite3_errmsg(db), rc);
    exit(2);
  }
}
static inline void sql_exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sqlite: %s: %s\n", sql, err ? err : "?");
    exit(2);
  }
}
static inline sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  sql_ok(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
  return st;
}

/* ---- time and statistics ------------------------------------------------------------------ */
static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
/* Median of n samples (sorts them). */
static inline double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline int env_flag(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}
static inline int quick_mode(void) { return env_flag("MSGSTORE_BENCH_QUICK"); }
static inline long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? atol(v) : dflt;
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static inline uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

/* ---- paths -------------------------------------------------------------------------------- */
static inline void path_join(char *out, size_t size, const char *dir, const char *name) {
  REQUIRE(strlen(dir) + strlen(name) + 2 <= size);
  snprintf(out, size, "%s/%s", dir, name);
}
/* Removes a store or database file and its WAL/shared-memory/writers' queue companions. */
static inline void remove_db(const char *path) {
  char p[4200];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-journal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-writers", path);
  unlink(p);
}

/* ---- store helpers ------------------------------------------------------------------------ */
static inline LPMDB store_open_path(const char *path, ULONG flags) {
  LPMDB mdb = NULL;
  OK(MsgStoreOpen(path, flags, &mdb));
  return mdb;
}
static inline LPMAPIFOLDER store_root_folder(LPMDB mdb) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  OK(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, MAPI_BEST_ACCESS, &type, &unk));
  REQUIRE(type == MAPI_FOLDER);
  return (LPMAPIFOLDER)unk;
}
/* A message's PR_ENTRYID bytes (32 bytes in this provider) into eid[]. */
static inline ULONG msg_entry_id(LPMESSAGE msg, BYTE *eid, ULONG size) {
  SizedSPropTagArray(1, tags) = {1, {PR_ENTRYID}};
  ULONG n = 0, cb;
  LPSPropValue v = NULL;
  OK(msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&tags, 0, &n, &v));
  cb = v[0].Value.bin.cb;
  REQUIRE(cb <= size);
  memcpy(eid, v[0].Value.bin.lpb, cb);
  MAPIFreeBuffer(v);
  return cb;
}
static inline LPMESSAGE msg_open_eid(LPMDB mdb, const BYTE *eid, ULONG cb, ULONG flags) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  OK(mdb->lpVtbl->OpenEntry(mdb, cb, (LPENTRYID)eid, NULL, flags, &type, &unk));
  REQUIRE(type == MAPI_MESSAGE);
  return (LPMESSAGE)unk;
}
/* Creates a message with the given properties, saves it, and returns its entry ID. */
static inline ULONG msg_create_with(LPMAPIFOLDER folder, ULONG n, LPSPropValue props, BYTE *eid,
                             ULONG size) {
  LPMESSAGE msg = NULL;
  ULONG cb;
  OK(folder->lpVtbl->CreateMessage(folder, NULL, 0, &msg));
  if (n) OK(msg->lpVtbl->SetProps(msg, n, props, NULL));
  OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  cb = msg_entry_id(msg, eid, size);
  msg->lpVtbl->Release(msg);
  return cb;
}
static inline void set_long(LPMESSAGE msg, ULONG tag, LONG l) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.l = l;
  OK(msg->lpVtbl->SetProps(msg, 1, &v, NULL));
}
static inline LONG get_long(LPMESSAGE msg, ULONG tag) {
  SizedSPropTagArray(1, tags) = {1, {tag}};
  ULONG n = 0;
  LONG l;
  LPSPropValue v = NULL;
  OK(msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&tags, 0, &n, &v));
  l = v[0].Value.l;
  MAPIFreeBuffer(v);
  return l;
}

/* ---- the sample properties ---------------------------------------------------------------- */
/* UTF-16 from ASCII into a static-lifetime pool (the samples live for the whole run). */
static inline WCHAR *wstr(const char *s) {
  size_t n = strlen(s), i;
  WCHAR *w = malloc((n + 1) * sizeof *w);
  REQUIRE(w);
  for (i = 0; i <= n; i++) w[i] = (WCHAR)(unsigned char)s[i];
  return w;
}
static inline size_t wlen(const WCHAR *w) {
  size_t n = 0;
  while (w[n]) n++;
  return n;
}

/* Provider-range property IDs for the extra properties of the 50-property message. */
#define BENCH_ID(i) (0x6700u + (ULONG)(i))

/* The 10 small properties every benchmark message carries: two short strings, an 8-bit
 * string, five numbers/flags/times and a small binary. */
static inline ULONG small_props(SPropValue *v) {
  static BYTE key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  ULONG n = 0;
  memset(v, 0, 10 * sizeof *v);
  v[n].ulPropTag = PR_SUBJECT_W; v[n++].Value.lpszW = wstr("Quarterly report: draft 3");
  v[n].ulPropTag = PR_MESSAGE_CLASS_W; v[n++].Value.lpszW = wstr("IPM.Note");
  v[n].ulPropTag = PROP_TAG(PT_STRING8, 0x0070); v[n++].Value.lpszA = "Quarterly report";
  v[n].ulPropTag = PROP_TAG(PT_LONG, 0x0017); v[n++].Value.l = 1; /* PR_IMPORTANCE */
  v[n].ulPropTag = PROP_TAG(PT_LONG, 0x0036); v[n++].Value.l = 0; /* PR_SENSITIVITY */
  v[n].ulPropTag = PROP_TAG(PT_LONG, 0x0026); v[n++].Value.l = 0; /* PR_PRIORITY */
  v[n].ulPropTag = PROP_TAG(PT_BOOLEAN, 0x0029); v[n++].Value.b = 1; /* read receipt */
  v[n].ulPropTag = PROP_TAG(PT_SYSTIME, 0x0E06); /* PR_MESSAGE_DELIVERY_TIME */
  v[n].Value.ft.dwLowDateTime = 0x12345678u; v[n++].Value.ft.dwHighDateTime = 0x01DA0000u;
  v[n].ulPropTag = PROP_TAG(PT_I8, BENCH_ID(0)); v[n++].Value.li.QuadPart = 1234567890123ll;
  v[n].ulPropTag = PROP_TAG(PT_BINARY, 0x0071); /* PR_CONVERSATION_INDEX-sized */
  v[n].Value.bin.cb = sizeof key; v[n++].Value.bin.lpb = key;
  return n;
}

/* 50 properties: the 10 small ones plus 40 more of the usual mix (numbers, flags, times,
 * strings of 10-120 characters, binaries of 16-256 bytes, two multi-valued). */
static inline ULONG fifty_props(SPropValue *v) {
  static char text[64][160];
  static BYTE bin[8][256];
  static LONG mvl[4] = {7, 11, 13, 17};
  static LPWSTR mvw[3];
  ULONG n = small_props(v), i;
  memset(v + n, 0, 40 * sizeof *v);
  for (i = 0; i < 12; i++, n++) {
    v[n].ulPropTag = PROP_TAG(PT_LONG, BENCH_ID(1 + i));
    v[n].Value.l = (LONG)(i * 1000 + 7);
  }
  for (i = 0; i < 4; i++, n++) {
    v[n].ulPropTag = PROP_TAG(PT_BOOLEAN, BENCH_ID(20 + i));
    v[n].Value.b = (unsigned short)(i & 1);
  }
  for (i = 0; i < 4; i++, n++) {
    v[n].ulPropTag = PROP_TAG(PT_SYSTIME, BENCH_ID(30 + i));
    v[n].Value.ft.dwLowDateTime = 0x1000u * i;
    v[n].Value.ft.dwHighDateTime = 0x01DA0000u + i;
  }
  for (i = 0; i < 8; i++, n++) {
    size_t len = 10 + i * 15, k;
    for (k = 0; k < len; k++) text[i][k] = (char)('a' + (k + i) % 26);
    text[i][len] = 0;
    v[n].ulPropTag = PROP_TAG(PT_UNICODE, BENCH_ID(40 + i));
    v[n].Value.lpszW = wstr(text[i]);
  }
  for (i = 0; i < 4; i++, n++) {
    size_t len = 12 + i * 20, k;
    for (k = 0; k < len; k++) text[16 + i][k] = (char)('A' + (k * 7 + i) % 26);
    text[16 + i][len] = 0;
    v[n].ulPropTag = PROP_TAG(PT_STRING8, BENCH_ID(50 + i));
    v[n].Value.lpszA = text[16 + i];
  }
  for (i = 0; i < 4; i++, n++) {
    size_t len = 16u << i, k;
    for (k = 0; k < len; k++) bin[i][k] = (BYTE)(k * 31 + i);
    v[n].ulPropTag = PROP_TAG(PT_BINARY, BENCH_ID(60 + i));
    v[n].Value.bin.cb = (ULONG)len;
    v[n].Value.bin.lpb = bin[i];
  }
  for (i = 0; i < 2; i++, n++) {
    v[n].ulPropTag = PROP_TAG(PT_I8, BENCH_ID(70 + i));
    v[n].Value.li.QuadPart = (int64_t)i * 99991;
  }
  v[n].ulPropTag = PROP_TAG(PT_MV_LONG, BENCH_ID(80));
  v[n].Value.MVl.cValues = 4;
  v[n++].Value.MVl.lpl = mvl;
  mvw[0] = wstr("alpha");
  mvw[1] = wstr("beta gamma");
  mvw[2] = wstr("delta epsilon zeta");
  v[n].ulPropTag = PROP_TAG(PT_MV_UNICODE, BENCH_ID(81));
  v[n].Value.MVszW.cValues = 3;
  v[n++].Value.MVszW.lppszW = mvw;
  REQUIRE(n == 50);
  return n;
}

/* ---- the baseline copy -------------------------------------------------------------------- */
/* What the cheapest possible GetProps/SetProps must do at least once: copy the SPropValues, with
 * their strings, binaries and MV arrays, into one MAPIAllocateBuffer block sized up front. */
#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)
static inline size_t extra_bytes(const SPropValue *p) {
  size_t n = 0, i;
  switch (PROP_TYPE(p->ulPropTag)) {
    case PT_STRING8: return ALIGN8(strlen(p->Value.lpszA) + 1);
    case PT_UNICODE: return ALIGN8((wlen(p->Value.lpszW) + 1) * 2);
    case PT_BINARY: return ALIGN8(p->Value.bin.cb);
    case PT_CLSID: return 16;
    case PT_MV_LONG: return ALIGN8(4u * p->Value.MVl.cValues);
    case PT_MV_UNICODE:
      n = 8u * p->Value.MVszW.cValues;
      for (i = 0; i < p->Value.MVszW.cValues; i++)
        n += ALIGN8((wlen(p->Value.MVszW.lppszW[i]) + 1) * 2);
      return n;
    case PT_MV_BINARY:
      n = 16u * p->Value.MVbin.cValues;
      for (i = 0; i < p->Value.MVbin.cValues; i++) n += ALIGN8(p->Value.MVbin.lpbin[i].cb);
      return n;
    default: return 0;
  }
}
static inline LPSPropValue copy_props_block(const SPropValue *src, ULONG n) {
  size_t total = n * sizeof(SPropValue), i, k;
  LPSPropValue dst = NULL;
  BYTE *at;
  for (i = 0; i < n; i++) total += extra_bytes(&src[i]);
  if (MAPIAllocateBuffer((ULONG)total, (LPVOID *)&dst) != S_OK) return NULL;
  memcpy(dst, src, n * sizeof(SPropValue));
  at = (BYTE *)(dst + n);
  for (i = 0; i < n; i++) {
    const SPropValue *s = &src[i];
    SPropValue *d = &dst[i];
    size_t len;
    switch (PROP_TYPE(s->ulPropTag)) {
      case PT_STRING8:
        len = strlen(s->Value.lpszA) + 1;
        memcpy(at, s->Value.lpszA, len);
        d->Value.lpszA = (char *)at;
        at += ALIGN8(len);
        break;
      case PT_UNICODE:
        len = (wlen(s->Value.lpszW) + 1) * 2;
        memcpy(at, s->Value.lpszW, len);
        d->Value.lpszW = (LPWSTR)at;
        at += ALIGN8(len);
        break;
      case PT_BINARY:
        memcpy(at, s->Value.bin.lpb, s->Value.bin.cb);
        d->Value.bin.lpb = at;
        at += ALIGN8(s->Value.bin.cb);
        break;
      case PT_CLSID:
        memcpy(at, s->Value.lpguid, 16);
        d->Value.lpguid = (LPGUID)at;
        at += 16;
        break;
      case PT_MV_LONG:
        memcpy(at, s->Value.MVl.lpl, 4u * s->Value.MVl.cValues);
        d->Value.MVl.lpl = (LONG *)at;
        at += ALIGN8(4u * s->Value.MVl.cValues);
        break;
      case PT_MV_UNICODE: {
        LPWSTR *ptrs = (LPWSTR *)at;
        at += 8u * s->Value.MVszW.cValues;
        for (k = 0; k < s->Value.MVszW.cValues; k++) {
          len = (wlen(s->Value.MVszW.lppszW[k]) + 1) * 2;
          memcpy(at, s->Value.MVszW.lppszW[k], len);
          ptrs[k] = (LPWSTR)at;
          at += ALIGN8(len);
        }
        d->Value.MVszW.lppszW = ptrs;
        break;
      }
      case PT_MV_BINARY: {
        SBinary *bins = (SBinary *)at;
        at += 16u * s->Value.MVbin.cValues;
        for (k = 0; k < s->Value.MVbin.cValues; k++) {
          bins[k].cb = s->Value.MVbin.lpbin[k].cb;
          memcpy(at, s->Value.MVbin.lpbin[k].lpb, bins[k].cb);
          bins[k].lpb = at;
          at += ALIGN8(bins[k].cb);
        }
        d->Value.MVbin.lpbin = bins;
        break;
      }
      default: break;
    }
  }
  return dst;
}

/* Keeps the optimiser from discarding a result. */
static volatile uintptr_t bench_sink;

#endif /* MSGSTORE_BENCH_COMMON_H */
