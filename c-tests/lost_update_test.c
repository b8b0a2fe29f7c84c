/* No lost update under contention (issue 5, item 1): K processes (fork + exec of this program)
 * x T threads each increment one PT_LONG counter of one message, read-modify-write:
 *
 *     OpenEntry(MAPI_MODIFY) -> GetProps(counter) -> SetProps(counter + 1) -> SaveChanges
 *
 * and on MAPI_E_OBJECT_CHANGED release the object, open the message again and retry, until each
 * worker has made a fixed number of increments. For every S_OK save a worker records, in a
 * mapped file shared by all processes, the counter value it wrote, the PR_CHANGE_KEY its view had
 * before the edit (the version it was based on) and the PR_CHANGE_KEY / PCL its object shows
 * after the save (DESIGN.md §4: after S_OK the object's view is exactly what was committed).
 * The parent then checks that the saves form one history:
 *   - the final counter == the number of S_OK saves == K * T * increments;
 *   - the counter values written are exactly 1..N (no two saves wrote the same value: a lost
 *     update would show up as a duplicate);
 *   - sorted by counter, each save was based on the change key of the save before it (the
 *     message's creation for the first), and change keys strictly increase (memcmp order);
 *   - every change key appears exactly once and names this store;
 *   - each save's PCL holds its own change key, and the final message's change key / PCL are the
 *     last save's.
 * Threads vary how they work, so that every path is raced: even threads share their process's
 * store handle, odd ones open their own; threads 2 and 3 (mod 4) keep their object open with
 * KEEP_OPEN_READWRITE after a win and edit it again, the others save with 0 and reopen.
 *
 *   lost_update_test [--list | SECTION...]                  the test (parent): test_util.h's sections
 *   lost_update_test worker <store> <sync-file> <process>   one process of workers
 *
 * Sizes: 4 processes x 4 threads x 50 increments; under valgrind 2 x 4 x 8. The environment
 * variables MSGSTORE_LOST_UPDATE_PROCS / _THREADS / _INCREMENTS override them (a long mode).
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"
#include "proc_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAG_COUNTER PROP_TAG(PT_LONG, 0x6601)

enum {
  MAX_PROCS = 16,
  MAX_THREADS = 16,
  MAX_WORKERS = 64,
  MAX_INCREMENTS = 500,
  EID_MAX = 64
};

/* One S_OK save. */
struct save_rec {
  LONG counter;       /* the value this save wrote */
  int worker;         /* who saved */
  int pcl_has_own;    /* its PCL (read back) contains its change key */
  BYTE base_ck[XID_LEN]; /* PR_CHANGE_KEY of the view it edited */
  BYTE ck[XID_LEN];      /* PR_CHANGE_KEY after the save */
};

struct worker_stats {
  long long saves;
  long long conflicts;
  int finished;
};

/* Shared by every process through a mapped file. */
struct shared {
  pthread_barrier_t barrier;
  int procs, threads, increments;
  BYTE eid[EID_MAX];
  ULONG cb_eid;
  struct worker_stats stats[MAX_WORKERS];
  struct save_rec recs[MAX_WORKERS * MAX_INCREMENTS];
};

static const char *g_self;

static int env_int(const char *name, int dflt, int lo, int hi) {
  const char *v = getenv(name);
  int n;
  if (v == NULL || *v == 0) return dflt;
  n = atoi(v);
  if (n < lo || n > hi) {
    fprintf(stderr, "%s=%s: must be in %d..%d\n", name, v, lo, hi);
    exit(2);
  }
  return n;
}

static struct shared *map_shared(const char *sync_path, int create) {
  return (struct shared *)map_shared_file(sync_path, sizeof(struct shared), create);
}

/* PR_CHANGE_KEY, PR_PREDECESSOR_CHANGE_LIST and the counter of an object, in one GetProps. */
struct view {
  LONG counter;
  BYTE ck[XID_LEN];
  int pcl_has_ck; /* the PCL holds the change key as one of its sized XIDs */
};

static void read_view(LPMESSAGE m, struct view *out) {
  SizedSPropTagArray(3, tags) = {3, {TAG_COUNTER, PR_CHANGE_KEY, PR_PREDECESSOR_CHANGE_LIST}};
  ULONG n = 0, off;
  LPSPropValue v = NULL;
  const BYTE *pcl;
  CHECK_OK(m->lpVtbl->GetProps(m, (LPSPropTagArray)&tags, 0, &n, &v));
  CHECK_EQ(n, 3);
  CHECK_EQ(v[0].ulPropTag, TAG_COUNTER);
  CHECK_EQ(v[1].ulPropTag, PR_CHANGE_KEY);
  CHECK_EQ(v[2].ulPropTag, PR_PREDECESSOR_CHANGE_LIST);
  out->counter = v[0].Value.l;
  CHECK_EQ(v[1].Value.bin.cb, XID_LEN);
  memcpy(out->ck, v[1].Value.bin.lpb, XID_LEN);
  /* The PCL: a sequence of (1-byte size, XID). */
  out->pcl_has_ck = 0;
  pcl = v[2].Value.bin.lpb;
  for (off = 0; off < v[2].Value.bin.cb;) {
    ULONG len = pcl[off];
    CHECK(len >= 17 && off + 1 + len <= v[2].Value.bin.cb);
    if (len == XID_LEN && memcmp(pcl + off + 1, out->ck, XID_LEN) == 0) out->pcl_has_ck = 1;
    off += 1 + len;
  }
  MAPIFreeBuffer(v);
}

static LPMESSAGE open_modify(LPMDB mdb, struct shared *sh) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, sh->cb_eid, (LPENTRYID)sh->eid, NULL, MAPI_MODIFY, &type,
                                  &unk));
  CHECK_EQ(type, MAPI_MESSAGE);
  return (LPMESSAGE)unk;
}

/* Between the read and the save, sometimes let the others run: more saves land in the window, so
 * more stale views reach SaveChanges (the path under test). */
static void widen_window(unsigned *seed) {
  struct timespec ts = {0, 0};
  switch (rand_r(seed) % 4) {
    case 0: break;
    case 1: sched_yield(); break;
    case 2: ts.tv_nsec = 50 * 1000; nanosleep(&ts, NULL); break;
    default: ts.tv_nsec = 200 * 1000; nanosleep(&ts, NULL); break;
  }
}

struct worker_arg {
  const char *store_path;
  struct shared *sh;
  LPMDB process_mdb; /* the process's handle, shared by the even threads */
  int worker;        /* global index: process * threads + thread */
  int thread;
};

static void *worker_main(void *p) {
  struct worker_arg *a = (struct worker_arg *)p;
  struct shared *sh = a->sh;
  int own_handle = a->thread & 1;
  int keep_open = (a->thread >> 1) & 1;
  LPMDB mdb = own_handle ? store_open(a->store_path, MDB_WRITE) : a->process_mdb;
  struct worker_stats *st = &sh->stats[a->worker];
  struct save_rec *recs = &sh->recs[a->worker * sh->increments];
  LPMESSAGE m = NULL;
  unsigned seed = 0x9E3779B9u * (unsigned)(a->worker + 1);
  int rc;

  rc = pthread_barrier_wait(&sh->barrier); /* every worker of every process starts together */
  CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  while (st->saves < sh->increments) {
    struct view before, after;
    HRESULT hr;
    if (m == NULL) m = open_modify(mdb, sh);
    read_view(m, &before);
    msg_set_long(m, TAG_COUNTER, before.counter + 1);
    widen_window(&seed);
    hr = m->lpVtbl->SaveChanges(m, keep_open ? KEEP_OPEN_READWRITE : 0);
    if (hr == S_OK) {
      struct save_rec *r = &recs[st->saves];
      read_view(m, &after);
      /* The object shows what it committed. */
      CHECK_EQ(after.counter, before.counter + 1);
      CHECK(memcmp(after.ck, before.ck, XID_LEN) > 0);
      r->counter = after.counter;
      r->worker = a->worker;
      r->pcl_has_own = after.pcl_has_ck;
      memcpy(r->base_ck, before.ck, XID_LEN);
      memcpy(r->ck, after.ck, XID_LEN);
      st->saves++;
      if (!keep_open) {
        m->lpVtbl->Release(m);
        m = NULL;
      }
    } else if (hr == MAPI_E_OBJECT_CHANGED) {
      st->conflicts++;
      m->lpVtbl->Release(m);
      m = NULL;
    } else {
      fprintf(stderr, "worker %d: SaveChanges returned %s (0x%08lX)\n", a->worker, hr_name(hr),
              (unsigned long)(uint32_t)hr);
      exit(1);
    }
  }
  if (m != NULL) m->lpVtbl->Release(m);
  if (own_handle) mdb->lpVtbl->Release(mdb);
  st->finished = 1;
  return NULL;
}

/* One process of workers: T threads. */
static int worker_process(const char *store_path, const char *sync_path, int proc) {
  struct shared *sh = map_shared(sync_path, 0);
  LPMDB mdb = store_open(store_path, MDB_WRITE);
  pthread_t threads[MAX_THREADS];
  struct worker_arg args[MAX_THREADS];
  int t;
  CHECK(proc >= 0 && proc < sh->procs);
  for (t = 0; t < sh->threads; t++) {
    args[t].store_path = store_path;
    args[t].sh = sh;
    args[t].process_mdb = mdb;
    args[t].worker = proc * sh->threads + t;
    args[t].thread = t;
    CHECK_EQ(pthread_create(&threads[t], NULL, worker_main, &args[t]), 0);
  }
  for (t = 0; t < sh->threads; t++) CHECK_EQ(pthread_join(threads[t], NULL), 0);
  mdb->lpVtbl->Release(mdb);
  munmap(sh, sizeof *sh);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

static int by_counter(const void *a, const void *b) {
  const struct save_rec *x = (const struct save_rec *)a, *y = (const struct save_rec *)b;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

static int by_change_key(const void *a, const void *b) {
  return memcmp(((const struct save_rec *)a)->ck, ((const struct save_rec *)b)->ck, XID_LEN);
}

static void print_xid(const char *label, const BYTE *x) {
  int i;
  fprintf(stderr, "  %s ", label);
  for (i = 0; i < XID_LEN; i++) fprintf(stderr, "%02X", x[i]);
  fprintf(stderr, "\n");
}

static void test_no_lost_update(void) {
  char path[4096], sync_path[4096];
  struct shared *sh;
  struct save_rec *all;
  pthread_barrierattr_t attr;
  pid_t pids[MAX_PROCS];
  char idx[MAX_PROCS][8];
  struct view initial, final;
  BYTE guid[16];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid, srk;
  LPMESSAGE m;
  long long saves = 0, conflicts = 0, max_conflicts = 0;
  int procs, threads, increments, workers, n, i, w;
  struct timespec t0, t1;

  procs = env_int("MSGSTORE_LOST_UPDATE_PROCS", test_under_valgrind() ? 2 : 4, 1, MAX_PROCS);
  /* Four threads even under valgrind: each of the four ways of working runs there too. */
  threads = env_int("MSGSTORE_LOST_UPDATE_THREADS", 4, 1, MAX_THREADS);
  increments =
      env_int("MSGSTORE_LOST_UPDATE_INCREMENTS", test_under_valgrind() ? 8 : 50, 1, MAX_INCREMENTS);
  workers = procs * threads;
  CHECK(workers <= MAX_WORKERS);
  n = workers * increments;

  store_location(path, sizeof path, "lost_update.db");
  test_path(sync_path, sizeof sync_path, "lost_update.sync");
  unlink(path);

  /* The message, with counter 0. */
  mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  eid = msg_create(root, "counter");
  m = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_long(m, TAG_COUNTER, 0);
  CHECK_OK(m->lpVtbl->SaveChanges(m, KEEP_OPEN_READONLY));
  read_view(m, &initial);
  CHECK_EQ(initial.counter, 0);
  srk = msg_get_one((LPMAPIPROP)m, PR_STORE_RECORD_KEY);
  CHECK_EQ(srk->ulPropTag, PR_STORE_RECORD_KEY);
  CHECK_EQ(srk->Value.bin.cb, 16);
  memcpy(guid, srk->Value.bin.lpb, 16);
  MAPIFreeBuffer(srk);
  m->lpVtbl->Release(m);
  CHECK(memcmp(initial.ck, guid, 16) == 0);

  sh = map_shared(sync_path, 1);
  memset(sh, 0, sizeof *sh);
  sh->procs = procs;
  sh->threads = threads;
  sh->increments = increments;
  CHECK(eid->Value.bin.cb <= sizeof sh->eid);
  memcpy(sh->eid, eid->Value.bin.lpb, eid->Value.bin.cb);
  sh->cb_eid = eid->Value.bin.cb;
  CHECK_EQ(pthread_barrierattr_init(&attr), 0);
  CHECK_EQ(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
  CHECK_EQ(pthread_barrier_init(&sh->barrier, &attr, (unsigned)workers), 0);
  CHECK_EQ(msync(sh, sizeof *sh, MS_SYNC), 0);

  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (i = 0; i < procs; i++) {
    char *args[6];
    snprintf(idx[i], sizeof idx[i], "%d", i);
    args[0] = (char *)g_self;
    args[1] = (char *)"worker";
    args[2] = path;
    args[3] = sync_path;
    args[4] = idx[i];
    args[5] = NULL;
    pids[i] = spawn_self(g_self, args);
  }
  for (i = 0; i < procs; i++) {
    int code = wait_child(pids[i]);
    if (code != 0) {
      fprintf(stderr, "worker process %d failed (exit code or 128 + signal: %d)\n", i, code);
      exit(1);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);

  for (w = 0; w < workers; w++) {
    CHECK_EQ(sh->stats[w].finished, 1);
    CHECK_EQ(sh->stats[w].saves, increments);
    saves += sh->stats[w].saves;
    conflicts += sh->stats[w].conflicts;
    if (sh->stats[w].conflicts > max_conflicts) max_conflicts = sh->stats[w].conflicts;
  }
  printf("lost_update: %d processes x %d threads x %d increments: %lld saves S_OK, %lld conflicts "
         "(MAPI_E_OBJECT_CHANGED retries, at most %lld for one worker), %.2f s\n",
         procs, threads, increments, saves, conflicts, max_conflicts,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  CHECK_EQ(saves, n);

  /* The history: counters 1..N, each save based on the one before, keys increasing. */
  all = (struct save_rec *)malloc(sizeof *all * (size_t)n);
  CHECK(all != NULL);
  memcpy(all, sh->recs, sizeof *all * (size_t)n);
  qsort(all, (size_t)n, sizeof *all, by_counter);
  for (i = 0; i < n; i++) {
    const BYTE *prev = i == 0 ? initial.ck : all[i - 1].ck;
    if (all[i].counter != i + 1) {
      fprintf(stderr, "history: save #%d in counter order wrote %ld (worker %d); expected %d: "
                      "%s\n", i, (long)all[i].counter, all[i].worker, i + 1,
              all[i].counter == i ? "two saves wrote the same value: a lost update"
                                  : "a value is missing");
      exit(1);
    }
    if (memcmp(all[i].base_ck, prev, XID_LEN) != 0) {
      fprintf(stderr, "history: the save that wrote %d (worker %d) was not based on the save "
                      "that wrote %d\n", i + 1, all[i].worker, i);
      print_xid("its base", all[i].base_ck);
      print_xid("previous", prev);
      exit(1);
    }
    CHECK(memcmp(all[i].ck, prev, XID_LEN) > 0);
    CHECK(memcmp(all[i].ck, guid, 16) == 0);
    CHECK_EQ(all[i].pcl_has_own, 1);
  }

  /* Every change key exactly once (implied by the strict order; checked on its own anyway). */
  qsort(all, (size_t)n, sizeof *all, by_change_key);
  for (i = 1; i < n; i++) CHECK(memcmp(all[i - 1].ck, all[i].ck, XID_LEN) != 0);
  for (i = 0; i < n; i++) CHECK(memcmp(all[i].ck, initial.ck, XID_LEN) != 0);
  qsort(all, (size_t)n, sizeof *all, by_counter);

  /* The stored message is the last save. */
  m = msg_open(mdb, eid, 0);
  read_view(m, &final);
  CHECK_EQ(final.counter, n);
  CHECK(memcmp(final.ck, all[n - 1].ck, XID_LEN) == 0);
  CHECK_EQ(final.pcl_has_ck, 1);
  m->lpVtbl->Release(m);

  free(all);
  pthread_barrier_destroy(&sh->barrier);
  pthread_barrierattr_destroy(&attr);
  munmap(sh, sizeof *sh);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
}

/* One section: the run is one scenario (its checks are over the whole history). */
static const struct test_section SECTIONS[] = {
    {"no_lost_update", test_no_lost_update},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  alarm(600); /* a lost worker must fail the test, not hang it */
  if (argc == 5 && strcmp(argv[1], "worker") == 0)
    return worker_process(argv[2], argv[3], atoi(argv[4]));
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
