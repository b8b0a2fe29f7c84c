/* Issue 12: the store tried as an adversarial user would — around the save path: opening,
 * creating, waiting, limits, copies, links, identifiers. One section per item of the issue
 * (item 5, fallible allocation, is tested with the ABI). Each section fails on the build before
 * its fix.
 *
 *   hostile_test [--list | SECTION...]               the test (parent): test_util.h's sections
 *   hostile_test create-child <store> <sync> <i>     a process racing to create <store>
 *   hostile_test create-loop <dir> <sync>            creates store after store until killed
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"
#include "resolver_util.h"
#include "proc_util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static const char *g_self;

/* ---- helpers ------------------------------------------------------------------------------ */


static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us) {
  struct timespec ts;
  ts.tv_sec = us / 1000000;
  ts.tv_nsec = (us % 1000000) * 1000;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* The store's GUID (PR_STORE_RECORD_KEY) into out[16]. */
static void store_guid(LPMDB mdb, BYTE out[16]) {
  LPSPropValue v = msg_get_one((LPMAPIPROP)mdb, PR_STORE_RECORD_KEY);
  CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_BINARY);
  CHECK_EQ(v->Value.bin.cb, 16);
  memcpy(out, v->Value.bin.lpb, 16);
  MAPIFreeBuffer(v);
}

/* The whole file's bytes (malloc'd), its length in *len. */
static BYTE *file_bytes(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  BYTE *buf;
  long n;
  CHECK(f != NULL);
  CHECK_EQ(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  CHECK(n >= 0);
  rewind(f);
  buf = (BYTE *)malloc((size_t)n + 1);
  CHECK(buf != NULL);
  CHECK_EQ(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void write_file(const char *path, const BYTE *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (len > 0) CHECK_EQ(fwrite(bytes, 1, len, f), len);
  CHECK_EQ(fclose(f), 0);
}

static void check_file_is(const char *path, const BYTE *bytes, size_t len) {
  size_t n = 0;
  BYTE *now = file_bytes(path, &n);
  CHECK_EQ(n, len);
  CHECK(len == 0 || memcmp(now, bytes, len) == 0);
  free(now);
}

/* A store at `path` works: its root opens, a message is created, saved and read back. */
static void check_store_works(LPMDB mdb) {
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "works");
  LPMESSAGE m = msg_open(mdb, eid, 0);
  char buf[64];
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "works");
  m->lpVtbl->Release(m);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
}

/* ---- item 1: concurrent creation ----------------------------------------------------------- */

enum { CREATORS = 6 };

struct create_shared {
  pthread_barrier_t barrier;
  HRESULT hr[CREATORS];
  BYTE guid[CREATORS][16];
};

/* One creator: waits for the others, then MsgStoreOpen(MAPI_CREATE | MDB_WRITE); reports the
 * HRESULT and the GUID of the store it got. */
static void create_once(const char *path, struct create_shared *sh, int i) {
  LPMDB mdb = NULL;
  int rc = pthread_barrier_wait(&sh->barrier);
  CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  sh->hr[i] = MsgStoreOpen(path, MAPI_CREATE | MDB_WRITE, &mdb);
  if (sh->hr[i] != S_OK) {
    LPMAPIERROR err = NULL;
    if (MsgStoreGetLastError(sh->hr[i], 0, &err) == S_OK && err != NULL) {
      fprintf(stderr, "creator %d: %s: %s\n", i, hr_name(sh->hr[i]), err->lpszError);
      MAPIFreeBuffer(err);
    }
    return;
  }
  store_guid(mdb, sh->guid[i]);
  mdb->lpVtbl->Release(mdb);
}

static int create_child(const char *path, const char *sync, int i) {
  struct create_shared *sh =
      (struct create_shared *)map_shared_file(sync, sizeof(struct create_shared), 0);
  create_once(path, sh, i);
  munmap(sh, sizeof *sh);
  return MsgStoreLiveObjects() == 0 ? 0 : 1;
}

struct creator_thread {
  const char *path;
  struct create_shared *sh;
  int i;
};

static void *creator_thread_main(void *arg) {
  struct creator_thread *t = (struct creator_thread *)arg;
  create_once(t->path, t->sh, t->i);
  return NULL;
}

/* Every creator got S_OK, all on one store, and that store works. */
static void check_one_store(const char *path, struct create_shared *sh) {
  int i;
  LPMDB mdb;
  BYTE guid[16];
  for (i = 0; i < CREATORS; i++) CHECK_HR(sh->hr[i], S_OK);
  for (i = 1; i < CREATORS; i++) CHECK(memcmp(sh->guid[i], sh->guid[0], 16) == 0);
  mdb = store_open(path, MDB_WRITE);
  store_guid(mdb, guid);
  CHECK(memcmp(guid, sh->guid[0], 16) == 0);
  check_store_works(mdb);
  mdb->lpVtbl->Release(mdb);
}

/* Six processes, then six threads, call MsgStoreOpen(MAPI_CREATE | MDB_WRITE) on one new path
 * at the same moment (a process-shared barrier): every one returns S_OK on the one same store.
 * Before the fix most failed (MAPI_E_CORRUPT_STORE "table meta already exists" / "no such table:
 * meta", MAPI_E_DISK_ERROR, MAPI_E_TIMEOUT). */
static void test_concurrent_create(void) {
  char sync[4096], path[4096], name[64], idx[16];
  int rounds = test_under_valgrind() ? 2 : 12;
  int round, i;
  pthread_barrierattr_t attr;
  struct create_shared *sh;
  test_path(sync, sizeof sync, "create.sync");
  sh = (struct create_shared *)map_shared_file(sync, sizeof(struct create_shared), 1);
  CHECK_EQ(pthread_barrierattr_init(&attr), 0);
  CHECK_EQ(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
  for (round = 0; round < rounds; round++) {
    pid_t pids[CREATORS];
    memset(sh->hr, 0xFF, sizeof sh->hr);
    CHECK_EQ(pthread_barrier_init(&sh->barrier, &attr, CREATORS), 0);
    snprintf(name, sizeof name, "procs-%d.db", round);
    test_path(path, sizeof path, name);
    for (i = 0; i < CREATORS; i++) {
      char *argv[6];
      snprintf(idx, sizeof idx, "%d", i);
      argv[0] = (char *)g_self;
      argv[1] = (char *)"create-child";
      argv[2] = path;
      argv[3] = sync;
      argv[4] = idx;
      argv[5] = NULL;
      pids[i] = spawn_self(g_self, argv);
    }
    for (i = 0; i < CREATORS; i++) CHECK_EQ(wait_child(pids[i]), 0);
    pthread_barrier_destroy(&sh->barrier);
    check_one_store(path, sh);
  }
  for (round = 0; round < rounds; round++) {
    pthread_t threads[CREATORS];
    struct creator_thread t[CREATORS];
    memset(sh->hr, 0xFF, sizeof sh->hr);
    CHECK_EQ(pthread_barrier_init(&sh->barrier, &attr, CREATORS), 0);
    snprintf(name, sizeof name, "threads-%d.db", round);
    test_path(path, sizeof path, name);
    for (i = 0; i < CREATORS; i++) {
      t[i].path = path;
      t[i].sh = sh;
      t[i].i = i;
      CHECK_EQ(pthread_create(&threads[i], NULL, creator_thread_main, &t[i]), 0);
    }
    for (i = 0; i < CREATORS; i++) CHECK_EQ(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&sh->barrier);
    check_one_store(path, sh);
  }
  pthread_barrierattr_destroy(&attr);
  munmap(sh, sizeof *sh);
}

/* ---- item 2: a crash during creation -------------------------------------------------------- */

struct loop_shared {
  volatile int started; /* the index of the store being created now */
};

/* Creates loop-0.db, loop-1.db, ... until killed, saying which one it is on. */
static int create_loop(const char *dir, const char *sync) {
  struct loop_shared *sh =
      (struct loop_shared *)map_shared_file(sync, sizeof(struct loop_shared), 0);
  int i;
  for (i = 0;; i++) {
    char path[4096];
    LPMDB mdb = NULL;
    snprintf(path, sizeof path, "%s/loop-%d.db", dir, i);
    sh->started = i;
    __sync_synchronize();
    CHECK_OK(MsgStoreOpen(path, MAPI_CREATE | MDB_WRITE, &mdb));
    mdb->lpVtbl->Release(mdb);
  }
  return 0;
}

/* A page-1-only SQLite database with no schema, in WAL mode (header bytes 18-19 = 2): what an
 * earlier build left when killed after SQLite switched the new file to WAL and before it made
 * the first table. `user_version` non-zero makes it somebody else's empty database. */
static void write_empty_sqlite(const char *path, unsigned user_version) {
  BYTE page[4096];
  memset(page, 0, sizeof page);
  memcpy(page, "SQLite format 3", 16);
  page[16] = 0x10; /* page size 4096 */
  page[18] = 2;    /* WAL */
  page[19] = 2;
  page[21] = 64;
  page[22] = 32;
  page[23] = 32;
  page[27] = 1; /* change counter */
  page[31] = 1; /* one page */
  page[47] = 4; /* schema format */
  page[59] = 1; /* UTF-8 */
  page[60] = (BYTE)(user_version >> 24);
  page[61] = (BYTE)(user_version >> 16);
  page[62] = (BYTE)(user_version >> 8);
  page[63] = (BYTE)user_version;
  page[95] = 1;                            /* version-valid-for = change counter */
  page[96] = 0x00, page[97] = 0x2E, page[98] = 0x7A, page[99] = 0x30; /* 3046000 */
  page[100] = 0x0D;                        /* an empty table leaf: sqlite_master */
  page[105] = 0x10;                        /* cell content starts at 4096 */
  write_file(path, page, sizeof page);
}

/* A process killed at random moments of MsgStoreOpen(MAPI_CREATE) leaves, at the path it was
 * creating, nothing or a whole store: a plain open says NOT_FOUND or opens it, and a later
 * MAPI_CREATE always ends with a working store. Remnants an earlier build left (an empty file, an
 * empty SQLite database in WAL mode) are named for what they are by a plain open, and made into
 * a store by MAPI_CREATE; files that are somebody else's are never touched. */
static void test_crash_during_create(void) {
  char dir[2900], sync[4096], path[4096];
  int kills = test_under_valgrind() ? 3 : 40;
  int k;
  struct loop_shared *sh;
  test_path(sync, sizeof sync, "loop.sync");
  sh = (struct loop_shared *)map_shared_file(sync, sizeof(struct loop_shared), 1);
  test_path(dir, sizeof dir, "");
  dir[strlen(dir) - 1] = 0; /* no trailing slash */
  srand(12);
  for (k = 0; k < kills; k++) {
    char *argv[5];
    pid_t pid;
    int i, status;
    LPMDB mdb = NULL;
    HRESULT hr;
    char sub[3000];
    snprintf(sub, sizeof sub, "%s/kill-%d", dir, k);
    CHECK_EQ(mkdir(sub, 0700), 0);
    sh->started = -1;
    argv[0] = (char *)g_self;
    argv[1] = (char *)"create-loop";
    argv[2] = sub;
    argv[3] = sync;
    argv[4] = NULL;
    pid = spawn_self(g_self, argv);
    /* Let it create a few stores, then kill it somewhere inside a creation. */
    {
      double t0 = now_seconds();
      while (sh->started < (test_under_valgrind() ? 1 : 2)) {
        CHECK(now_seconds() - t0 < 120);
        sleep_us(1000);
      }
    }
    sleep_us(rand() % 20000);
    CHECK_EQ(kill(pid, SIGKILL), 0);
    status = wait_child(pid);
    CHECK_EQ(status, 128 + SIGKILL);
    /* Nothing but stores (and their -wal/-shm, and the writers' queue a killed writer left) in
     * the directory: no half-made file, no temporary one. */
    {
      DIR *d = opendir(sub);
      struct dirent *e;
      CHECK(d != NULL);
      while ((e = readdir(d)) != NULL) {
        int n = -1, used = 0;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (sscanf(e->d_name, "loop-%d.db%n", &n, &used) != 1 || n < 0 || n > sh->started ||
            (e->d_name[used] != 0 && strcmp(e->d_name + used, "-wal") != 0 &&
             strcmp(e->d_name + used, "-shm") != 0 && strcmp(e->d_name + used, "-writers") != 0)) {
          fprintf(stderr, "left behind after a kill: %s/%s\n", sub, e->d_name);
          CHECK(!"only stores in the directory");
        }
      }
      closedir(d);
    }
    for (i = 0; i <= sh->started; i++) {
      snprintf(path, sizeof path, "%s/loop-%d.db", sub, i);
      mdb = NULL;
      hr = MsgStoreOpen(path, 0, &mdb);
      if (i < sh->started) CHECK_HR(hr, S_OK);
      if (hr != S_OK) CHECK_HR(hr, MAPI_E_NOT_FOUND); /* never a remnant */
      if (mdb != NULL) mdb->lpVtbl->Release(mdb);
      mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
      check_store_works(mdb);
      mdb->lpVtbl->Release(mdb);
    }
  }
  munmap(sh, sizeof *sh);

  /* Remnants of earlier builds: named by a plain open, finished by MAPI_CREATE. */
  test_path(path, sizeof path, "remnant-empty-file.db");
  write_file(path, NULL, 0);
  check_open_refused(path, 0, MAPI_E_CORRUPT_STORE, "interrupted MAPI_CREATE");
  check_open_refused(path, MDB_WRITE, MAPI_E_CORRUPT_STORE, "interrupted MAPI_CREATE");
  {
    LPMDB mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
    check_store_works(mdb);
    mdb->lpVtbl->Release(mdb);
    mdb = store_open(path, 0);
    mdb->lpVtbl->Release(mdb);
  }
  test_path(path, sizeof path, "remnant-empty-wal.db");
  write_empty_sqlite(path, 0);
  check_open_refused(path, 0, MAPI_E_CORRUPT_STORE, "an empty SQLite database");
  check_open_refused(path, MDB_WRITE, MAPI_E_CORRUPT_STORE, "interrupted MAPI_CREATE");
  {
    LPMDB mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
    BYTE guid[16], again[16];
    store_guid(mdb, guid);
    check_store_works(mdb);
    mdb->lpVtbl->Release(mdb);
    /* A second MAPI_CREATE opens that store; it does not make another. */
    mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
    store_guid(mdb, again);
    CHECK(memcmp(guid, again, 16) == 0);
    mdb->lpVtbl->Release(mdb);
  }

  /* Not ours: an empty database with a user version, and a text file. MAPI_CREATE refuses them
   * and leaves every byte. */
  {
    BYTE *before;
    size_t len;
    test_path(path, sizeof path, "someone-elses.db");
    write_empty_sqlite(path, 7);
    before = file_bytes(path, &len);
    check_open_refused(path, MAPI_CREATE | MDB_WRITE, MAPI_E_CORRUPT_STORE, "not a msgstore file");
    check_file_is(path, before, len);
    free(before);
    test_path(path, sizeof path, "notes.txt");
    write_file(path, (const BYTE *)"my notes\n", 9);
    check_open_refused(path, MAPI_CREATE | MDB_WRITE, MAPI_E_CORRUPT_STORE, "not a msgstore file");
    check_file_is(path, (const BYTE *)"my notes\n", 9);
  }
}

/* ---- item 3: read-only places --------------------------------------------------------------- */

/* Runs `checks(arg)` with no right to write `dir` or to read `secret`. As root (where permission
 * bits alone prove nothing) it runs in a forked child that drops to the user "nobody" (setgid +
 * setuid, uid 65534 if there is no such user) — `dir` is root's, mode 0755, `secret` root's, mode
 * 0600. As any other user it runs here, with `dir` made 0555 and `secret` 0000 meanwhile. */
static void as_unprivileged(const char *dir, const char *secret, void (*checks)(void *), void *arg) {
  if (geteuid() == 0) {
    pid_t pid;
    ULONG live = MsgStoreLiveObjects(); /* the parent's, inherited and never used by the child */
    CHECK_EQ(chmod(dir, 0755), 0);
    CHECK_EQ(chmod(secret, 0600), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0 || geteuid() == 0) _exit(3);
      checks(arg);
      _exit(MsgStoreLiveObjects() == live ? 0 : 4);
    }
    CHECK_EQ(wait_child(pid), 0);
  } else {
    CHECK_EQ(chmod(dir, 0555), 0);
    CHECK_EQ(chmod(secret, 0000), 0);
    checks(arg);
    CHECK_EQ(chmod(dir, 0755), 0);
    CHECK_EQ(chmod(secret, 0600), 0);
  }
}

struct ro_place {
  char dir[256], intact[300], secret[300], fresh[300];
  BYTE eid[64];
  ULONG cb_eid;
};

/* Only these names in the directory: nothing was created there. */
static void check_only_files(const char *dir, int n, const char *const names[]) {
  int i, found = 0;
  char p[600];
  struct stat st;
  for (i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    if (stat(p, &st) == 0) found++;
  }
  CHECK_EQ(found, n);
  snprintf(p, sizeof p, "%s/intact.db-shm", dir);
  CHECK(stat(p, &st) != 0);
  snprintf(p, sizeof p, "%s/intact.db-wal", dir);
  CHECK(stat(p, &st) != 0);
  snprintf(p, sizeof p, "%s/fresh.db", dir);
  CHECK(stat(p, &st) != 0);
}

static void read_only_checks(void *arg) {
  struct ro_place *pl = (struct ro_place *)arg;
  static const char *const names[] = {"intact.db", "secret.db"};
  SPropValue eid;
  LPMDB mdb;
  LPMESSAGE m;
  LPSPropValue mask;
  char buf[64];
  memset(&eid, 0, sizeof eid);
  eid.ulPropTag = PR_ENTRYID;
  eid.Value.bin.cb = pl->cb_eid;
  eid.Value.bin.lpb = pl->eid;
  /* A cleanly closed store opens read-only and reads, creating nothing beside it. */
  mdb = store_open(pl->intact, 0);
  m = msg_open(mdb, &eid, 0);
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "works");
  m->lpVtbl->Release(m);
  mdb->lpVtbl->Release(mdb);
  /* MAPI_BEST_ACCESS gets that read-only store; MDB_WRITE is refused. */
  mdb = store_open(pl->intact, MAPI_BEST_ACCESS);
  mask = msg_get_one((LPMAPIPROP)mdb, PR_STORE_SUPPORT_MASK);
  CHECK(mask->Value.l & STORE_READONLY);
  MAPIFreeBuffer(mask);
  mdb->lpVtbl->Release(mdb);
  check_open_refused(pl->intact, MDB_WRITE, MAPI_E_NO_ACCESS, "directory cannot be written");
  /* An unreadable file, and a store that cannot be created here. */
  check_open_refused(pl->secret, 0, MAPI_E_NO_ACCESS, "ermission denied");
  check_open_refused(pl->secret, MDB_WRITE, MAPI_E_NO_ACCESS, "ermission denied");
  check_open_refused(pl->secret, MAPI_BEST_ACCESS, MAPI_E_NO_ACCESS, "ermission denied");
  check_open_refused(pl->fresh, MAPI_CREATE | MDB_WRITE, MAPI_E_NO_ACCESS, NULL);
  check_only_files(pl->dir, 2, names);
}

/* While a writer has the store open with commits in its -wal, a reader who cannot write the
 * directory is refused with MAPI_E_NO_ACCESS (it could not read those commits), not
 * MAPI_E_CORRUPT_STORE. */
static void busy_store_checks(void *arg) {
  struct ro_place *pl = (struct ro_place *)arg;
  check_open_refused(pl->intact, 0, MAPI_E_NO_ACCESS, "-wal");
}

/* An intact store in a directory the caller cannot write: a read-only open works (SQLite reads
 * the cleanly closed file as immutable, creating no -shm), MDB_WRITE is MAPI_E_NO_ACCESS, an
 * unreadable file is MAPI_E_NO_ACCESS. Before the fix the read-only open was "not a msgstore
 * file" (MAPI_E_CORRUPT_STORE) and the unreadable file MAPI_E_DISK_ERROR. */
static void test_read_only_places(void) {
  struct ro_place pl;
  char tmpl[] = "/tmp/msgstore-read-only-XXXXXX";
  LPMDB mdb, writer;
  LPMAPIFOLDER root;
  LPSPropValue eid;
  memset(&pl, 0, sizeof pl);
  /* Under /tmp: every directory above the test directory must be searchable by "nobody". */
  CHECK(mkdtemp(tmpl) != NULL);
  snprintf(pl.dir, sizeof pl.dir, "%s", tmpl);
  snprintf(pl.intact, sizeof pl.intact, "%s/intact.db", pl.dir);
  snprintf(pl.secret, sizeof pl.secret, "%s/secret.db", pl.dir);
  snprintf(pl.fresh, sizeof pl.fresh, "%s/fresh.db", pl.dir);
  mdb = store_open(pl.intact, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "works");
  CHECK(eid->Value.bin.cb <= sizeof pl.eid);
  memcpy(pl.eid, eid->Value.bin.lpb, eid->Value.bin.cb);
  pl.cb_eid = eid->Value.bin.cb;
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(chmod(pl.intact, 0644), 0);
  mdb = store_open(pl.secret, MAPI_CREATE | MDB_WRITE);
  mdb->lpVtbl->Release(mdb);

  as_unprivileged(pl.dir, pl.secret, read_only_checks, &pl);

  writer = store_open(pl.intact, MDB_WRITE);
  root = store_root(writer);
  eid = msg_create(root, "in the log");
  MAPIFreeBuffer(eid);
  as_unprivileged(pl.dir, pl.secret, busy_store_checks, &pl);
  root->lpVtbl->Release(root);
  writer->lpVtbl->Release(writer);

  CHECK_EQ(chmod(pl.dir, 0700), 0);
  CHECK_EQ(unlink(pl.intact), 0);
  CHECK_EQ(unlink(pl.secret), 0);
  {
    /* The writers' queues of the stores written to (README: "Writers take turns"). */
    char q[4200];
    snprintf(q, sizeof q, "%s-writers", pl.intact);
    CHECK_EQ(unlink(q), 0);
    snprintf(q, sizeof q, "%s-writers", pl.secret);
    CHECK_EQ(unlink(q), 0);
  }
  CHECK_EQ(rmdir(pl.dir), 0);
}

/* ---- item 4: the wait limit ---------------------------------------------------------------- */

/* Stands in for another process's writer in the middle of a long commit: a child process takes
 * SQLite's WAL write lock, which is an fcntl() write lock on byte 120 of the store's -shm file
 * (SQLite's documented WAL file format: the first of the eight lock bytes that follow the 120
 * bytes of the index header), and holds it until killed. Returns the child's pid. */
static pid_t hold_write_lock(const char *store) {
  char shm[4200];
  int ready[2];
  pid_t pid;
  char c = 0;
  snprintf(shm, sizeof shm, "%s-shm", store);
  CHECK_EQ(pipe(ready), 0);
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct flock lk;
    int fd = open(shm, O_RDWR);
    if (fd < 0) _exit(3);
    memset(&lk, 0, sizeof lk);
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    lk.l_start = 120;
    lk.l_len = 1;
    if (fcntl(fd, F_SETLK, &lk) != 0) _exit(4);
    if (write(ready[1], "x", 1) != 1) _exit(5);
    for (;;) pause();
  }
  close(ready[1]);
  CHECK_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  return pid;
}

struct waiter {
  LPMESSAGE msg;
  double start_at; /* when to call SaveChanges */
  double elapsed;  /* how long it took */
  HRESULT hr;
};

static void *waiter_main(void *arg) {
  struct waiter *w = (struct waiter *)arg;
  double t;
  while (now_seconds() < w->start_at) sleep_us(1000);
  t = now_seconds();
  w->hr = w->msg->lpVtbl->SaveChanges(w->msg, KEEP_OPEN_READWRITE);
  w->elapsed = now_seconds() - t;
  return NULL;
}

/* `n` saves of one process, started `stagger` seconds apart while another process holds the
 * write lock: each returns MAPI_E_TIMEOUT `limit` seconds after its own start (within `slack`),
 * whatever its place in the queue. Before the fix the k-th save queued behind the process's
 * group writer returned after about k x limit. */
static void check_wait_limit(const char *name, int n, double stagger, double limit, double slack) {
  char p[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid;
  struct waiter w[16];
  pthread_t threads[16];
  pid_t holder;
  double t0, worst = 0;
  int i;
  CHECK(n <= 16);
  test_path(p, sizeof p, name);
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "waited for");
  for (i = 0; i < n; i++) {
    w[i].msg = msg_open(mdb, eid, MAPI_MODIFY);
    msg_set_long(w[i].msg, PROP_TAG(PT_LONG, 0x6601), i);
  }
  holder = hold_write_lock(p);
  t0 = now_seconds() + 0.05;
  for (i = 0; i < n; i++) {
    w[i].start_at = t0 + i * stagger;
    CHECK_EQ(pthread_create(&threads[i], NULL, waiter_main, &w[i]), 0);
  }
  for (i = 0; i < n; i++) CHECK_EQ(pthread_join(threads[i], NULL), 0);
  CHECK_EQ(kill(holder, SIGKILL), 0);
  CHECK_EQ(wait_child(holder), 128 + SIGKILL);
  for (i = 0; i < n; i++) {
    printf("  save %2d: %s after %.3f s\n", i, hr_name(w[i].hr), w[i].elapsed);
    CHECK_HR(w[i].hr, MAPI_E_TIMEOUT);
    CHECK(w[i].elapsed >= limit - 0.01);
    CHECK(w[i].elapsed <= limit + slack);
    if (w[i].elapsed > worst) worst = w[i].elapsed;
  }
  printf("  %d saves queued, limit %.1f s: the slowest returned after %.3f s\n", n, limit, worst);
  /* The lock is free again: the first client saves, the others are stale. */
  CHECK_OK(w[0].msg->lpVtbl->SaveChanges(w[0].msg, KEEP_OPEN_READWRITE));
  CHECK_HR(w[1].msg->lpVtbl->SaveChanges(w[1].msg, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  for (i = 0; i < n; i++) w[i].msg->lpVtbl->Release(w[i].msg);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* 16 queued saves (8 under valgrind) with the limit set to 2 s by MSGSTORE_LOCK_TIMEOUT_MS
 * (read when the store is opened): each times out 2 s after its own start. */
static void test_wait_limit(void) {
  int valgrind = test_under_valgrind();
  CHECK_EQ(setenv("MSGSTORE_LOCK_TIMEOUT_MS", "2000", 1), 0);
  check_wait_limit("wait-limit.db", valgrind ? 8 : 16, 0.1, 2.0, valgrind ? 3.0 : 0.75);
  CHECK_EQ(unsetenv("MSGSTORE_LOCK_TIMEOUT_MS"), 0);
}

/* The documented limit itself: four saves queued a second apart each time out 60 s after their
 * own start (the whole section takes about 63 s). */
static void test_wait_limit_60s(void) {
  CHECK_EQ(unsetenv("MSGSTORE_LOCK_TIMEOUT_MS"), 0);
  check_wait_limit("wait-limit-60s.db", 4, 1.0, 60.0, test_under_valgrind() ? 4.0 : 1.5);
}

/* ---- item 6: limits are named -------------------------------------------------------------- */

/* The per-value limit of the SQLite engine (README, docs/BAD_INPUT.md): 256 MiB. */
#define MAX_VALUE_BYTES (256u << 20)

/* SetProps of one binary of `cb` bytes (zero pages of `big`) and a small subject on `obj`:
 * returns the problem array (NULL if none). */
static LPSPropProblemArray set_big(LPMAPIPROP obj, const BYTE *big, ULONG cb) {
  SPropValue v[2];
  LPSPropProblemArray problems = NULL;
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PROP_TAG(PT_BINARY, 0x6610);
  v[0].Value.bin.cb = cb;
  v[0].Value.bin.lpb = (LPBYTE)big;
  v[1].ulPropTag = PR_SUBJECT_A;
  v[1].Value.lpszA = (char *)"kept";
  CHECK_OK(obj->lpVtbl->SetProps(obj, 2, v, &problems));
  return problems;
}

static void check_too_big(LPSPropProblemArray problems) {
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  CHECK_EQ(problems->aProblem[0].ulIndex, 0);
  CHECK_EQ(problems->aProblem[0].ulPropTag, PROP_TAG(PT_BINARY, 0x6610));
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_TOO_BIG);
  MAPIFreeBuffer(problems);
}

/* A value larger than the engine stores is a MAPI_E_TOO_BIG problem at SetProps (the other
 * values applied, the save then succeeds without it) — on a message and on a folder (written
 * through) — and a value of exactly the limit is accepted. Before the fix SetProps accepted it and
 * SaveChanges failed with MAPI_E_DISK_ERROR ("string or blob too big"). The big values are
 * a private read-only mapping of /dev/zero: they cost the test no memory; the library's copy
 * of the value costs 256 MiB for a moment. */
static void test_value_limit(void) {
  char p[4096], buf[64];
  size_t map_len = (size_t)MAX_VALUE_BYTES + 4096;
  int zero = open("/dev/zero", O_RDONLY);
  BYTE *big = (BYTE *)mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, zero, 0);
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPMESSAGE m;
  LPSPropValue eid, got;
  CHECK(zero >= 0);
  CHECK(big != MAP_FAILED);
  close(zero);
  test_path(p, sizeof p, "limits.db");
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, 0, &m));
  check_too_big(set_big((LPMAPIPROP)m, big, MAX_VALUE_BYTES + 1));
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE));
  eid = msg_get_one((LPMAPIPROP)m, PR_ENTRYID);
  m->lpVtbl->Release(m);
  m = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "kept");
  got = msg_get_one((LPMAPIPROP)m, PROP_TAG(PT_BINARY, 0x6610));
  CHECK_EQ(PROP_TYPE(got->ulPropTag), PT_ERROR);
  CHECK_HR(got->Value.err, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(got);
  m->lpVtbl->Release(m);
  /* A folder writes through: the same problem, nothing of the big value written. */
  check_too_big(set_big((LPMAPIPROP)root, big, MAX_VALUE_BYTES + 1));
  got = msg_get_one((LPMAPIPROP)root, PROP_TAG(PT_BINARY, 0x6610));
  CHECK_EQ(PROP_TYPE(got->ulPropTag), PT_ERROR);
  MAPIFreeBuffer(got);
  /* Exactly the limit is accepted (not saved here: that is 256 MiB of disk writes). */
  if (!test_under_valgrind()) {
    m = msg_open(mdb, eid, MAPI_MODIFY);
    CHECK(set_big((LPMAPIPROP)m, big, MAX_VALUE_BYTES) == NULL);
    m->lpVtbl->Release(m);
  }
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  munmap(big, map_len);
}

/* ---- item 7: a copied store is another store ------------------------------------------------ */

/* OpenEntry of an entry ID (as bytes) on a store; returns the HRESULT, releasing what opened. */
static HRESULT try_open(LPMDB mdb, const BYTE *eid, ULONG cb) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  HRESULT hr = mdb->lpVtbl->OpenEntry(mdb, cb, (LPENTRYID)eid, NULL, 0, &type, &unk);
  if (unk != NULL) unk->lpVtbl->Release(unk);
  return hr;
}

static LONG content_count(LPMAPIFOLDER folder) {
  LONG n = -1;
  CHECK_OK(msg_get_long((LPMESSAGE)folder, PR_CONTENT_COUNT, &n));
  return n;
}

/* A file copy of a store is a store of its own (README "What a copy is"): it keeps every object
 * and property, but gets a GUID of its own — derived from the original's and the new file's
 * identity, the same for a read-only open (which writes nothing) and the first writable open
 * (which records it) — so entry IDs of one name nothing in the other, also for objects made
 * after the copy, and a resolver that names a folder of the copy for SAVE_ELSEWHERE while the
 * original saves is refused (the store object's identity, not its GUID). A folder of the same
 * store opened through a second handle is accepted. Before the fix the copy kept the GUID: its
 * entry IDs opened unrelated objects of the original and SAVE_ELSEWHERE saved into the copy's
 * folder's namesake in the original. */
static void test_copy_is_another_store(void) {
  char a[4096], b[4096];
  BYTE guid_a[16], guid_b[16], guid_b_ro[16], eid_b[32];
  BYTE *bytes;
  size_t len;
  LPMDB mdb_a, mdb_b, mdb_a2;
  LPMAPIFOLDER root_a, root_b, root_a2;
  LPSPropValue m1, only_a, only_b;
  LPMESSAGE stale, fresh, m;
  TestResolver r;
  char buf[64];
  LONG count_a, count_b;
  test_path(a, sizeof a, "original.db");
  test_path(b, sizeof b, "copy.db");
  mdb_a = store_open(a, MAPI_CREATE | MDB_WRITE);
  root_a = store_root(mdb_a);
  m1 = msg_create(root_a, "before the copy");
  CHECK_EQ(m1->Value.bin.cb, 32);
  root_a->lpVtbl->Release(root_a);
  mdb_a->lpVtbl->Release(mdb_a);
  bytes = file_bytes(a, &len); /* closed cleanly: the file is the whole store */
  write_file(b, bytes, len);
  free(bytes);

  mdb_b = store_open(b, 0);
  store_guid(mdb_b, guid_b_ro);
  mdb_b->lpVtbl->Release(mdb_b);
  mdb_a = store_open(a, MDB_WRITE);
  mdb_b = store_open(b, MDB_WRITE);
  store_guid(mdb_a, guid_a);
  store_guid(mdb_b, guid_b);
  CHECK(memcmp(guid_a, guid_b, 16) != 0);
  CHECK(memcmp(guid_b, guid_b_ro, 16) == 0);
  CHECK(memcmp(m1->Value.bin.lpb + 4, guid_a, 16) == 0);

  /* The copy holds the same message, under its own entry ID; each store's ID is unknown to the
   * other. */
  memcpy(eid_b, m1->Value.bin.lpb, 32);
  memcpy(eid_b + 4, guid_b, 16);
  {
    SPropValue v;
    memset(&v, 0, sizeof v);
    v.ulPropTag = PR_ENTRYID;
    v.Value.bin.cb = 32;
    v.Value.bin.lpb = eid_b;
    m = msg_open(mdb_b, &v, 0);
  }
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "before the copy");
  m->lpVtbl->Release(m);
  CHECK_HR(try_open(mdb_b, m1->Value.bin.lpb, 32), MAPI_E_UNKNOWN_ENTRYID);
  CHECK_HR(try_open(mdb_a, eid_b, 32), MAPI_E_UNKNOWN_ENTRYID);

  /* Objects made after the copy: the same object number in both files, never one entry ID. */
  root_a = store_root(mdb_a);
  root_b = store_root(mdb_b);
  only_a = msg_create(root_a, "only in the original");
  only_b = msg_create(root_b, "only in the copy");
  CHECK(memcmp(only_a->Value.bin.lpb + 20, only_b->Value.bin.lpb + 20, 12) == 0);
  CHECK_HR(try_open(mdb_b, only_a->Value.bin.lpb, 32), MAPI_E_UNKNOWN_ENTRYID);
  CHECK_HR(try_open(mdb_a, only_b->Value.bin.lpb, 32), MAPI_E_UNKNOWN_ENTRYID);

  /* SAVE_ELSEWHERE into a folder of the copy, while the original saves: refused, nothing written
   * anywhere. */
  resolver_init(&r, MSGSTORE_RESOLVE_SAVE_ELSEWHERE);
  CHECK_OK(MsgStoreSetConflictResolver(mdb_a, (LPMSGSTORECONFLICTRESOLVER)&r));
  count_a = content_count(root_a);
  count_b = content_count(root_b);
  stale = msg_open(mdb_a, m1, MAPI_MODIFY);
  fresh = msg_open(mdb_a, m1, MAPI_MODIFY);
  msg_set_str(fresh, PR_SUBJECT_A, "fresh");
  CHECK_OK(fresh->lpVtbl->SaveChanges(fresh, KEEP_OPEN_READWRITE));
  msg_set_str(stale, PR_SUBJECT_A, "stale");
  r.dest = root_b;
  CHECK_HR(stale->lpVtbl->SaveChanges(stale, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(r.calls, 1);
  CHECK(tags_have(r.mine, r.n_mine, PR_SUBJECT_A));
  CHECK_EQ(content_count(root_a), count_a);
  CHECK_EQ(content_count(root_b), count_b);

  /* The same store's folder through a second handle of the same file: accepted. */
  mdb_a2 = store_open(a, MDB_WRITE);
  root_a2 = store_root(mdb_a2);
  r.dest = root_a2;
  CHECK_OK(stale->lpVtbl->SaveChanges(stale, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 2);
  CHECK_EQ(content_count(root_a), count_a + 1);
  CHECK_EQ(content_count(root_b), count_b);
  r.dest = NULL;
  CHECK_OK(MsgStoreSetConflictResolver(mdb_a, NULL));
  CHECK_EQ(r.refs, 1);

  stale->lpVtbl->Release(stale);
  fresh->lpVtbl->Release(fresh);
  root_a2->lpVtbl->Release(root_a2);
  mdb_a2->lpVtbl->Release(mdb_a2);
  MAPIFreeBuffer(m1);
  MAPIFreeBuffer(only_a);
  MAPIFreeBuffer(only_b);
  root_a->lpVtbl->Release(root_a);
  root_b->lpVtbl->Release(root_b);
  mdb_a->lpVtbl->Release(mdb_a);
  mdb_b->lpVtbl->Release(mdb_b);

  /* The copy keeps its GUID across reopening; the original keeps its own. */
  mdb_b = store_open(b, 0);
  store_guid(mdb_b, guid_b_ro);
  CHECK(memcmp(guid_b, guid_b_ro, 16) == 0);
  mdb_b->lpVtbl->Release(mdb_b);
  mdb_a = store_open(a, 0);
  store_guid(mdb_a, guid_b_ro);
  CHECK(memcmp(guid_a, guid_b_ro, 16) == 0);
  mdb_a->lpVtbl->Release(mdb_a);
}

/* ---- item 8: a second name ------------------------------------------------------------------ */

/* A store file with a second hard link is refused under either name, open or not, with
 * MAPI_E_NO_SUPPORT and a text that says why; the handle already open keeps working; once the
 * second name is gone the store opens again. Before the fix the second name failed as "not a
 * msgstore file" (MAPI_E_CORRUPT_STORE) while the first was open. */
static void test_hard_links(void) {
  char a[4096], b[4096];
  LPMDB mdb;
  test_path(a, sizeof a, "first-name.db");
  test_path(b, sizeof b, "second-name.db");
  mdb = store_open(a, MAPI_CREATE | MDB_WRITE);
  check_store_works(mdb);
  CHECK_EQ(link(a, b), 0);
  check_open_refused(b, 0, MAPI_E_NO_SUPPORT, "hard links");
  check_open_refused(b, MDB_WRITE, MAPI_E_NO_SUPPORT, "hard links");
  check_open_refused(a, MDB_WRITE, MAPI_E_NO_SUPPORT, "hard links");
  check_open_refused(b, MAPI_CREATE | MDB_WRITE, MAPI_E_NO_SUPPORT, "hard links");
  check_store_works(mdb); /* the open handle is unaffected */
  mdb->lpVtbl->Release(mdb);
  check_open_refused(a, 0, MAPI_E_NO_SUPPORT, "hard links");
  CHECK_EQ(unlink(b), 0);
  mdb = store_open(a, MDB_WRITE);
  check_store_works(mdb);
  mdb->lpVtbl->Release(mdb);
}

/* ---- item 9: entry IDs are never reused ----------------------------------------------------- */

static int same_bin(LPSPropValue a, LPSPropValue b) {
  return a->Value.bin.cb == b->Value.bin.cb &&
         memcmp(a->Value.bin.lpb, b->Value.bin.lpb, a->Value.bin.cb) == 0;
}

static void delete_message(LPMAPIFOLDER root, LPSPropValue eid) {
  ENTRYLIST list;
  list.cValues = 1;
  list.lpbin = &eid->Value.bin;
  CHECK_OK(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0));
}

/* Deleting the newest message and creating one gives the new one a new entry ID — in one
 * session and across a close and reopen; the deleted message's ID opens nothing. Before the fix
 * the new message got the deleted one's ID. */
static void test_ids_never_reused(void) {
  char p[4096];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue first, newest, next, after_reopen;
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  test_path(p, sizeof p, "ids.db");
  mdb = store_open(p, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  first = msg_create(root, "first");
  newest = msg_create(root, "newest");
  delete_message(root, newest);
  next = msg_create(root, "next");
  CHECK(!same_bin(next, newest));
  CHECK(!same_bin(next, first));
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, newest->Value.bin.cb, (LPENTRYID)newest->Value.bin.lpb,
                                  NULL, 0, &type, &unk),
           MAPI_E_NOT_FOUND);
  delete_message(root, next);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);

  mdb = store_open(p, MDB_WRITE);
  root = store_root(mdb);
  after_reopen = msg_create(root, "after reopen");
  CHECK(!same_bin(after_reopen, newest));
  CHECK(!same_bin(after_reopen, next));
  CHECK(!same_bin(after_reopen, first));
  CHECK_HR(mdb->lpVtbl->OpenEntry(mdb, next->Value.bin.cb, (LPENTRYID)next->Value.bin.lpb, NULL, 0,
                                  &type, &unk),
           MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(first);
  MAPIFreeBuffer(newest);
  MAPIFreeBuffer(next);
  MAPIFreeBuffer(after_reopen);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* ---- a process forked with the store open ----------------------------------------------- */

/* This process's descriptors open on the file at `path`. */
static int fds_on(const char *path) {
  char want[4096], link[4096], fd_path[300];
  DIR *d;
  struct dirent *e;
  int n = 0;
  CHECK(realpath(path, want) != NULL);
  d = opendir("/proc/self/fd");
  CHECK(d != NULL);
  while ((e = readdir(d)) != NULL) {
    ssize_t len;
    if (e->d_name[0] == '.') continue;
    snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%s", e->d_name);
    len = readlink(fd_path, link, sizeof link - 1);
    if (len < 0) continue;
    link[len] = 0;
    if (strcmp(link, want) == 0) n++;
  }
  closedir(d);
  return n;
}

/* A child forked while its parent has the store open inherits the parent's memory, the library's
 * list of open writers included; a store it opens must get a writer of its own (SQLite forbids
 * carrying a connection across fork, and a writers' queue handle shared by two processes would
 * let both pass). Both then save side by side without losing an update. */
static void test_forked_child_has_its_own_writer(void) {
  enum { SAVES = 40 };
  const ULONG tag = PROP_TAG(PT_LONG, 0x6702);
  char path[4096], queue[4200];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue child_eid, parent_eid;
  LPMESSAGE msg;
  LONG got = -1;
  pid_t pid;
  int i;
  test_path(path, sizeof path, "forked.db");
  unlink(path);
  mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  child_eid = msg_create(root, "the child's");
  parent_eid = msg_create(root, "the parent's");
  snprintf(queue, sizeof queue, "%s-writers", path);
  CHECK_EQ(fds_on(queue), 1); /* this process's writer has the store's queue open */
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    LPMDB own = NULL;
    LPMESSAGE m = NULL;
    ULONG type = 0;
    if (MsgStoreOpen(path, MDB_WRITE, &own) != S_OK) _exit(2);
    if (own->lpVtbl->OpenEntry(own, child_eid->Value.bin.cb, (LPENTRYID)child_eid->Value.bin.lpb,
                               NULL, MAPI_MODIFY, &type, (LPUNKNOWN *)&m) != S_OK)
      _exit(3);
    for (i = 1; i <= SAVES; i++) {
      SPropValue v;
      memset(&v, 0, sizeof v);
      v.ulPropTag = tag;
      v.Value.l = i;
      if (m->lpVtbl->SetProps(m, 1, &v, NULL) != S_OK) _exit(4);
      if (m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE) != S_OK) _exit(5);
    }
    /* Its own writer: a queue handle of its own beside the one inherited with the memory. */
    if (fds_on(queue) != 2) _exit(6);
    m->lpVtbl->Release(m);
    own->lpVtbl->Release(own);
    _exit(0);
  }
  msg = msg_open(mdb, parent_eid, MAPI_MODIFY);
  for (i = 1; i <= SAVES; i++) {
    msg_set_long(msg, tag, i);
    CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
  }
  msg->lpVtbl->Release(msg);
  CHECK_EQ(wait_child(pid), 0);
  msg = msg_open(mdb, child_eid, 0);
  CHECK_OK(msg_get_long(msg, tag, &got));
  CHECK_EQ(got, SAVES);
  msg->lpVtbl->Release(msg);
  MAPIFreeBuffer(child_eid);
  MAPIFreeBuffer(parent_eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static const struct test_section SECTIONS[] = {
    {"concurrent_create", test_concurrent_create},
    {"crash_during_create", test_crash_during_create},
    {"read_only_places", test_read_only_places},
    {"wait_limit", test_wait_limit},
    {"wait_limit_60s", test_wait_limit_60s},
    {"value_limit", test_value_limit},
    {"copy_is_another_store", test_copy_is_another_store},
    {"hard_links", test_hard_links},
    {"ids_never_reused", test_ids_never_reused},
    {"forked_child_has_its_own_writer", test_forked_child_has_its_own_writer},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  if (argc == 5 && strcmp(argv[1], "create-child") == 0)
    return create_child(argv[2], argv[3], atoi(argv[4]));
  if (argc == 4 && strcmp(argv[1], "create-loop") == 0) return create_loop(argv[2], argv[3]);
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
