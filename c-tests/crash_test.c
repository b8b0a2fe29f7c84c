/* Crash safety (issue 5, item 2): a writer process is killed with SIGKILL at a random moment,
 * again and again, and after every kill the store must open, pass SQLite's integrity check, and
 * hold for every message exactly one committed version — never a mix of two — that is no older
 * than the last save the writer saw succeed.
 *
 * The writer (a child: fork + exec of this program, on the store's default durable setting)
 * saves in a loop, version after version: version v goes to message v % MESSAGES, and every
 * property it sets derives from v alone — PR_SUBJECT "v=<v>", a PT_LONG v, a PT_BINARY of 1..7 KB
 * filled with a pattern of v, a PR_BODY whose length depends on v, and a PT_I8 that is present
 * when v % 3 != 0 and deleted otherwise. After each S_OK it writes v to a pipe. The parent kills
 * it after a random delay (seeded; the seed is printed, MSGSTORE_CRASH_SEED repeats a run), reads
 * what it acknowledged, and checks each message: it is one version v (all properties agree), and
 * v is the last acknowledged version for that message, or the one save that was in flight at the
 * kill (it may or may not have committed). Change keys must move forward with the version.
 *
 * SQLite's integrity check runs through the SQLite that the static library carries (its
 * sqlite3_* symbols are global in libmsgstore.a, so this program declares the few it calls and
 * uses the very engine the store uses).
 *
 *   crash_test [--list | SECTION...]                    the test (parent): test_util.h's sections
 *   crash_test writer <store> <eid-file> <fd> <start> <count>
 *                               the writer: versions start + 1 ..., count of them (0: until killed)
 *
 * Rounds: 30 (MSGSTORE_CRASH_ROUNDS overrides: a long mode); under valgrind 4, with longer delays
 * since everything runs some 50 times slower there. A last round lets the writer make a few saves
 * and end normally: then every save must be exactly there, and the writer's own objects must
 * balance (and, under valgrind, its memory too).
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"
#include "proc_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The few SQLite entry points used, declared here (from sqlite3.h). */
typedef struct sqlite3 sqlite3;
int sqlite3_open_v2(const char *filename, sqlite3 **ppDb, int flags, const char *zVfs);
int sqlite3_exec(sqlite3 *db, const char *sql, int (*callback)(void *, int, char **, char **),
                 void *arg, char **errmsg);
int sqlite3_close(sqlite3 *db);
void sqlite3_free(void *p);
#define SQLITE_OK 0
#define SQLITE_OPEN_READWRITE 0x00000002

#define TAG_VERSION PROP_TAG(PT_LONG, 0x6601)
#define TAG_BLOB PROP_TAG(PT_BINARY, 0x6602)
#define TAG_ODD PROP_TAG(PT_I8, 0x6603)

enum { MESSAGES = 3, EID_MAX = 64, BLOB_MIN = 1024, BLOB_SPREAD = 6144, BODY_MAX = 2048 };

/* The marker a writer sends once it has opened everything, before its first save. */
static const int64_t READY = -1;

/* ---- what version v looks like ---------------------------------------------------------- */

static ULONG blob_size(LONG v) { return BLOB_MIN + (ULONG)((uint32_t)v * 131u % BLOB_SPREAD); }

static BYTE blob_byte(LONG v, ULONG j) {
  return (BYTE)((uint32_t)v * 37u + j * 11u + ((uint32_t)v >> 8));
}

static void body_text(LONG v, char *buf, size_t size) {
  int reps = (int)(v % 40) + 1, i;
  size_t off = 0;
  buf[0] = 0;
  for (i = 0; i < reps; i++) {
    int n = snprintf(buf + off, size - off, "body of v=%ld;", (long)v);
    CHECK(n > 0 && (size_t)n < size - off);
    off += (size_t)n;
  }
}

static int has_odd(LONG v) { return v % 3 != 0; }
static int64_t odd_value(LONG v) { return (int64_t)v * 1000003; }

/* Sets every property of version v in one SetProps (and deletes TAG_ODD when v says so). */
static void write_version(LPMESSAGE m, LONG v, BYTE *blob, char *body) {
  SPropValue p[5];
  char subject[32];
  ULONG i, n = 4, cb = blob_size(v);
  snprintf(subject, sizeof subject, "v=%ld", (long)v);
  for (i = 0; i < cb; i++) blob[i] = blob_byte(v, i);
  body_text(v, body, BODY_MAX);
  memset(p, 0, sizeof p);
  p[0].ulPropTag = PR_SUBJECT_A;
  p[0].Value.lpszA = subject;
  p[1].ulPropTag = TAG_VERSION;
  p[1].Value.l = v;
  p[2].ulPropTag = TAG_BLOB;
  p[2].Value.bin.cb = cb;
  p[2].Value.bin.lpb = blob;
  p[3].ulPropTag = PR_BODY_A;
  p[3].Value.lpszA = body;
  if (has_odd(v)) {
    p[4].ulPropTag = TAG_ODD;
    p[4].Value.li.QuadPart = odd_value(v);
    n = 5;
  }
  CHECK_OK(m->lpVtbl->SetProps(m, n, p, NULL));
  if (!has_odd(v)) {
    SizedSPropTagArray(1, del) = {1, {TAG_ODD}};
    CHECK_OK(m->lpVtbl->DeleteProps(m, (LPSPropTagArray)&del, NULL));
  }
}

/* Reads a message and checks that every property derives from one version; returns it and the
 * message's change key. Any mix of two versions fails the test. */
static LONG read_version(LPMESSAGE m, BYTE ck[XID_LEN]) {
  SizedSPropTagArray(6, tags) = {6, {TAG_VERSION, PR_SUBJECT_A, TAG_BLOB, PR_BODY_A, TAG_ODD,
                                     PR_CHANGE_KEY}};
  ULONG n = 0, i;
  LPSPropValue p = NULL;
  HRESULT hr = m->lpVtbl->GetProps(m, (LPSPropTagArray)&tags, 0, &n, &p);
  char want[BODY_MAX];
  LONG v;
  CHECK(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(n, 6);
  CHECK_EQ(p[0].ulPropTag, TAG_VERSION);
  v = p[0].Value.l;
  snprintf(want, sizeof want, "v=%ld", (long)v);
  CHECK_EQ(p[1].ulPropTag, PR_SUBJECT_A);
  CHECK_STR(p[1].Value.lpszA, want);
  CHECK_EQ(p[2].ulPropTag, TAG_BLOB);
  if (p[2].Value.bin.cb != blob_size(v)) {
    fprintf(stderr, "version %ld: blob of %lu bytes, expected %lu\n", (long)v,
            (unsigned long)p[2].Value.bin.cb, (unsigned long)blob_size(v));
    exit(1);
  }
  for (i = 0; i < p[2].Value.bin.cb; i++) {
    if (p[2].Value.bin.lpb[i] != blob_byte(v, i)) {
      fprintf(stderr, "version %ld: blob byte %lu is 0x%02X, expected 0x%02X\n", (long)v,
              (unsigned long)i, p[2].Value.bin.lpb[i], blob_byte(v, i));
      exit(1);
    }
  }
  body_text(v, want, sizeof want);
  CHECK_EQ(p[3].ulPropTag, PR_BODY_A);
  CHECK_STR(p[3].Value.lpszA, want);
  if (has_odd(v)) {
    CHECK_EQ(p[4].ulPropTag, TAG_ODD);
    CHECK_EQ(p[4].Value.li.QuadPart, odd_value(v));
  } else {
    CHECK_EQ(p[4].ulPropTag, PROP_TAG(PT_ERROR, PROP_ID(TAG_ODD)));
    CHECK_HR(p[4].Value.err, MAPI_E_NOT_FOUND);
  }
  CHECK_EQ(hr, has_odd(v) ? S_OK : MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(p[5].ulPropTag, PR_CHANGE_KEY);
  CHECK_EQ(p[5].Value.bin.cb, XID_LEN);
  memcpy(ck, p[5].Value.bin.lpb, XID_LEN);
  MAPIFreeBuffer(p);
  return v;
}

/* ---- the entry IDs, passed to the writer in a file ------------------------------------------ */

struct eids {
  ULONG cb[MESSAGES];
  BYTE bytes[MESSAGES][EID_MAX];
};

static LPMESSAGE open_eid(LPMDB mdb, const struct eids *e, int i, ULONG flags) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, e->cb[i], (LPENTRYID)e->bytes[i], NULL, flags, &type, &unk));
  CHECK_EQ(type, MAPI_MESSAGE);
  return (LPMESSAGE)unk;
}

static void write_all(int fd, const void *buf, size_t n) {
  CHECK_EQ(write(fd, buf, n), (long)n);
}

/* ---- the writer ------------------------------------------------------------------------- */

static int writer(const char *store_path, const char *eid_path, int fd, LONG start, LONG count) {
  struct eids e;
  LPMDB mdb = store_open(store_path, MDB_WRITE); /* default: synchronous=FULL */
  LPMESSAGE m[MESSAGES];
  static BYTE blob[BLOB_MIN + BLOB_SPREAD];
  static char body[BODY_MAX];
  int i, in = open(eid_path, O_RDONLY);
  int64_t v;
  CHECK(in >= 0);
  CHECK_EQ(read(in, &e, sizeof e), (long)sizeof e);
  close(in);
  for (i = 0; i < MESSAGES; i++) m[i] = open_eid(mdb, &e, i, MAPI_MODIFY);
  write_all(fd, &READY, sizeof READY);
  /* count saves, or until killed (the bound only stops a writer whose parent is gone). */
  for (v = (int64_t)start + 1; v <= (int64_t)start + (count ? count : 10000000); v++) {
    LPMESSAGE msg = m[v % MESSAGES];
    write_version(msg, (LONG)v, blob, body);
    CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
    write_all(fd, &v, sizeof v);
  }
  for (i = 0; i < MESSAGES; i++) m[i]->lpVtbl->Release(m[i]);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

/* ---- the parent ------------------------------------------------------------------------- */

static uint64_t g_rng;
static const char *g_self; /* argv[0]: the writer is this program */

static uint64_t next_rand(void) { /* xorshift64* */
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 2685821657736338717ull;
}

static int integrity_row(void *arg, int ncol, char **vals, char **names) {
  int *rows = (int *)arg;
  (void)names;
  if (ncol != 1 || vals[0] == NULL || strcmp(vals[0], "ok") != 0)
    fprintf(stderr, "integrity_check: %s\n", (ncol >= 1 && vals[0]) ? vals[0] : "(null)");
  else
    rows[0]++;
  rows[1]++;
  return 0;
}

/* PRAGMA integrity_check through a connection of our own: exactly one row, "ok". */
static void integrity_check(const char *path) {
  sqlite3 *db = NULL;
  char *err = NULL;
  int rows[2] = {0, 0}; /* "ok" rows, all rows */
  CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  if (sqlite3_exec(db, "PRAGMA integrity_check", integrity_row, rows, &err) != SQLITE_OK) {
    fprintf(stderr, "integrity_check failed: %s\n", err ? err : "?");
    exit(1);
  }
  sqlite3_free(err);
  CHECK_EQ(rows[1], 1);
  CHECK_EQ(rows[0], 1);
  CHECK_EQ(sqlite3_close(db), SQLITE_OK);
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Reads one 8-byte record; 0 at EOF. */
static int read_record(int fd, int64_t *out) {
  size_t got = 0;
  while (got < sizeof *out) {
    ssize_t n = read(fd, (char *)out + got, sizeof *out - got);
    if (n < 0 && errno == EINTR) continue;
    CHECK(n >= 0);
    if (n == 0) {
      CHECK_EQ(got, 0); /* a record is written whole (8 bytes < PIPE_BUF) */
      return 0;
    }
    got += (size_t)n;
  }
  return 1;
}

static void test_kill_and_reopen(void) {
  char path[4096], eid_path[4096], start_arg[32], fd_arg[16], count_arg[16];
  const char *env;
  struct eids e;
  LONG known[MESSAGES];  /* per message: the version it must hold (the last acknowledged) */
  LONG stored[MESSAGES]; /* per message: the version found after the previous kill */
  BYTE stored_ck[MESSAGES][XID_LEN];
  int rounds, r, i, valgrind = test_under_valgrind();
  long long acked_total = 0, in_flight_committed = 0, killed_before_first_save = 0;
  LONG max_seen = 0;
  unsigned long long seed;
  struct timespec t0, t1;

  env = getenv("MSGSTORE_CRASH_ROUNDS");
  rounds = (env && *env) ? atoi(env) : (valgrind ? 4 : 30);
  CHECK(rounds > 0);
  env = getenv("MSGSTORE_CRASH_SEED");
  seed = (env && *env) ? strtoull(env, NULL, 0)
                       : ((unsigned long long)time(NULL) << 20) ^ (unsigned long long)getpid();
  g_rng = seed ? seed : 1;
  printf("crash: seed %llu (MSGSTORE_CRASH_SEED=%llu repeats the delays)\n", seed, seed);
  fflush(stdout);

  test_path(path, sizeof path, "crash.db");
  test_path(eid_path, sizeof eid_path, "crash.eids");
  unlink(path);

  /* The store and its messages, message i at version i. */
  {
    LPMDB mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
    LPMAPIFOLDER root = store_root(mdb);
    static BYTE blob[BLOB_MIN + BLOB_SPREAD];
    static char body[BODY_MAX];
    int out;
    memset(&e, 0, sizeof e);
    for (i = 0; i < MESSAGES; i++) {
      LPSPropValue eid = msg_create(root, "new");
      LPMESSAGE m = msg_open(mdb, eid, MAPI_MODIFY);
      write_version(m, i, blob, body);
      CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
      CHECK(eid->Value.bin.cb <= EID_MAX);
      e.cb[i] = eid->Value.bin.cb;
      memcpy(e.bytes[i], eid->Value.bin.lpb, eid->Value.bin.cb);
      stored[i] = known[i] = read_version(m, stored_ck[i]);
      CHECK_EQ(known[i], i);
      m->lpVtbl->Release(m);
      MAPIFreeBuffer(eid);
    }
    root->lpVtbl->Release(root);
    mdb->lpVtbl->Release(mdb);
    out = open(eid_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(out >= 0);
    write_all(out, &e, sizeof e);
    close(out);
  }

  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (r = 0; r <= rounds; r++) {
    int clean = r == rounds; /* the last round: no kill, the writer ends by itself */
    LONG count = clean ? (valgrind ? 6 : 30) : 0;
    int fds[2], status = 0;
    LONG start = 0, last;
    int64_t rec;
    long delay;
    long long acked = 0;
    pid_t pid;
    LPMDB mdb;
    char *args[8];

    for (i = 0; i < MESSAGES; i++)
      if (known[i] > start) start = known[i];
    last = start;
    CHECK_EQ(pipe(fds), 0);
    CHECK_EQ(fcntl(fds[0], F_SETFD, FD_CLOEXEC), 0);
    snprintf(fd_arg, sizeof fd_arg, "%d", fds[1]);
    snprintf(start_arg, sizeof start_arg, "%ld", (long)start);
    args[0] = (char *)g_self;
    args[1] = (char *)"writer";
    args[2] = path;
    args[3] = eid_path;
    args[4] = fd_arg;
    args[5] = start_arg;
    snprintf(count_arg, sizeof count_arg, "%ld", (long)count);
    args[6] = count_arg;
    args[7] = NULL;
    pid = spawn_self(g_self, args);
    close(fds[1]);

    /* Once the writer is ready, let it save for a while, then kill it. */
    if (!read_record(fds[0], &rec)) {
      CHECK_EQ(waitpid(pid, &status, 0), pid);
      fprintf(stderr, "round %d: the writer ended before it was ready (status 0x%x)\n", r, status);
      exit(1);
    }
    CHECK_EQ(rec, READY);
    delay = valgrind ? 200 + (long)(next_rand() % 1500) : 1 + (long)(next_rand() % 100);
    if (clean) {
      CHECK_EQ(waitpid(pid, &status, 0), pid);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "last round: the writer failed (status 0x%x)\n", status);
        exit(1);
      }
    } else {
      sleep_ms(delay);
      CHECK_EQ(kill(pid, SIGKILL), 0);
      CHECK_EQ(waitpid(pid, &status, 0), pid);
    }
    if (!clean && (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)) {
      fprintf(stderr, "round %d: the writer was not killed but ended by itself (status 0x%x)\n", r,
              status);
      exit(1);
    }

    /* Every acknowledged save, in order. */
    while (read_record(fds[0], &rec)) {
      CHECK_EQ(rec, (int64_t)last + 1);
      last = (LONG)rec;
      known[last % MESSAGES] = last;
      acked++;
    }
    close(fds[0]);
    acked_total += acked;
    if (clean) CHECK_EQ(acked, count);
    else killed_before_first_save += acked == 0;

    /* After the crash: the store opens, SQLite finds it sound, and each message is one version:
     * the last one acknowledged for it, or the save in flight at the kill. */
    mdb = store_open(path, MDB_WRITE);
    integrity_check(path);
    for (i = 0; i < MESSAGES; i++) {
      LPMESSAGE m = open_eid(mdb, &e, i, 0);
      BYTE ck[XID_LEN];
      LONG v = read_version(m, ck);
      LONG in_flight = clean ? -1 : last + 1; /* a writer that ended has none */
      m->lpVtbl->Release(m);
      if (v != known[i] && !(v == in_flight && in_flight % MESSAGES == i)) {
        fprintf(stderr,
                "round %d (delay %ld ms): message %d holds version %ld; the last version "
                "acknowledged for it is %ld%s (last acknowledged overall %ld)\n",
                r, delay, i, (long)v, (long)known[i],
                v < known[i] ? ": an acknowledged save was lost" : ": never acknowledged",
                (long)last);
        exit(1);
      }
      if (v == in_flight) in_flight_committed++;
      /* The change key moves with the version, forward, and only with it. */
      if (v == stored[i]) {
        CHECK(memcmp(ck, stored_ck[i], XID_LEN) == 0);
      } else {
        CHECK(v > stored[i]);
        CHECK(memcmp(ck, stored_ck[i], XID_LEN) > 0);
      }
      stored[i] = known[i] = v;
      memcpy(stored_ck[i], ck, XID_LEN);
      if (v > max_seen) max_seen = v;
    }
    mdb->lpVtbl->Release(mdb);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);

  printf("crash: %d kills (and a last clean round), %lld saves acknowledged, max version seen %ld, %lld in-flight saves "
         "found committed, %lld kills before the first save, %.2f s\n",
         rounds, acked_total, (long)max_seen, in_flight_committed, killed_before_first_save,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  /* Versions are consecutive: every one committed was acknowledged or was in flight at a kill. */
  CHECK_EQ(max_seen, MESSAGES - 1 + acked_total + in_flight_committed);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
}

/* One section: the run is one scenario (its checks are over the whole history). */
static const struct test_section SECTIONS[] = {
    {"kill_and_reopen", test_kill_and_reopen},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  alarm(test_under_valgrind() ? 1800 : 600);
  if (argc == 7 && strcmp(argv[1], "writer") == 0)
    return writer(argv[2], argv[3], atoi(argv[4]), (LONG)atol(argv[5]), (LONG)atol(argv[6]));
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
