/* Contention (DESIGN.md §7): N clients racing read-modify-write with retry.
 *
 * Each client has its own store handle (MsgStoreOpen), as a separate process would, opens its
 * message with MAPI_MODIFY and loops until the time is up:
 *     GetProps(counter) → SetProps(counter + 1) → SaveChanges(KEEP_OPEN_READWRITE)
 * S_OK counts a committed save; MAPI_E_OBJECT_CHANGED counts a conflict, after which the client
 * releases its object and opens the message again (a fresh view) and retries. Any other result
 * fails the run. Afterwards every counter must equal the number of saves committed on it: zero
 * lost updates. Saves are durable (synchronous=FULL, the store's default; in PostgreSQL,
 * synchronous_commit on).
 *
 * LOCATION is a directory (the store is LOCATION/contention.msgstore, made afresh) or a
 * PostgreSQL store URI, `postgresql://…?store=NAME`, used as it is (new messages in it each run).
 *
 * Usage: contention_bench LOCATION threads|procs one|distinct CLIENTS SECONDS
 */
#include "bench_common.h"

#include <math.h>
#include <pthread.h>
#include <sys/wait.h>

#define TAG_COUNTER PROP_TAG(PT_LONG, 0x6701)
#define MAX_CLIENTS 64
/* Save times in a histogram of 8 buckets per doubling of microseconds (so a percentile read
 * from it is within 9% of the exact one), up to 2^28 µs. */
#define BUCKETS_PER_DOUBLING 8
#define HIST_BUCKETS (28 * BUCKETS_PER_DOUBLING)

typedef struct {
  const char *path;
  BYTE eid[64];
  ULONG cb;
  double seconds;
  /* results */
  long long committed, conflicts;
  double elapsed;
  double max_save_ms; /* the longest single SaveChanges call */
  unsigned hist[HIST_BUCKETS]; /* every SaveChanges call's time */
  /* threads: start barrier */
  pthread_barrier_t *barrier;
  /* processes: pipes */
  int ready_fd, go_fd, result_fd;
} client;

static int bucket_of(uint64_t ns) {
  double us = (double)ns / 1e3;
  int b = us <= 1.0 ? 0 : (int)(log2(us) * BUCKETS_PER_DOUBLING);
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The upper edge of bucket `b`, in milliseconds. */
static double bucket_ms(int b) { return pow(2.0, (double)(b + 1) / BUCKETS_PER_DOUBLING) / 1e3; }

static LPMESSAGE open_modify(LPMDB mdb, client *c) {
  return msg_open_eid(mdb, c->eid, c->cb, MAPI_MODIFY);
}

/* Everything a client does before the start signal: its own store handle and object. */
static void client_run(client *c, void (*wait_start)(client *)) {
  LPMDB mdb = store_open_path(c->path, MDB_WRITE);
  LPMESSAGE msg = open_modify(mdb, c);
  uint64_t t0, deadline, t;
  wait_start(c);
  t0 = now_ns();
  deadline = t0 + (uint64_t)(c->seconds * 1e9);
  c->committed = c->conflicts = 0;
  c->max_save_ms = 0;
  memset(c->hist, 0, sizeof c->hist);
  for (;;) {
    HRESULT hr;
    LONG v = get_long(msg, TAG_COUNTER);
    uint64_t s0;
    set_long(msg, TAG_COUNTER, v + 1);
    s0 = now_ns();
    hr = msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE);
    {
      uint64_t took = now_ns() - s0;
      if ((double)took / 1e6 > c->max_save_ms) c->max_save_ms = (double)took / 1e6;
      c->hist[bucket_of(took)]++;
    }
    if (hr == S_OK) {
      c->committed++;
    } else if (hr == MAPI_E_OBJECT_CHANGED) {
      c->conflicts++;
      msg->lpVtbl->Release(msg);
      msg = open_modify(mdb, c);
    } else {
      bench_fail_hr(__FILE__, __LINE__, "SaveChanges", hr);
    }
    t = now_ns();
    if (t >= deadline) break;
  }
  c->elapsed = (double)(t - t0) / 1e9;
  msg->lpVtbl->Release(msg);
  mdb->lpVtbl->Release(mdb);
}

static void wait_barrier(client *c) { pthread_barrier_wait(c->barrier); }

static void *thread_main(void *p) {
  client_run(p, wait_barrier);
  return NULL;
}

static void wait_pipe(client *c) {
  char b = 1;
  REQUIRE(write(c->ready_fd, &b, 1) == 1);
  /* The parent closes the write end once everyone is ready: read returns 0. */
  while (read(c->go_fd, &b, 1) > 0) {
  }
}

int main(int argc, char **argv) {
  char path[4096];
  const char *dir, *mode, *target;
  int clients, i, procs, one;
  double seconds, elapsed = 0;
  client *cl;
  LPMDB mdb;
  LPMAPIFOLDER root;
  long long committed = 0, conflicts = 0, lost = 0, least = -1, most = 0;
  double max_save_ms = 0, p99_save_ms = 0;
  unsigned long long hist[HIST_BUCKETS], saves = 0, below = 0;
  BYTE eids[MAX_CLIENTS][64];
  ULONG cbs[MAX_CLIENTS];
  int messages, pg;

  if (argc != 6) {
    fprintf(stderr, "usage: %s LOCATION threads|procs one|distinct CLIENTS SECONDS\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  mode = argv[2];
  target = argv[3];
  clients = atoi(argv[4]);
  seconds = atof(argv[5]);
  REQUIRE(clients >= 1 && clients <= MAX_CLIENTS);
  procs = strcmp(mode, "procs") == 0;
  REQUIRE(procs || strcmp(mode, "threads") == 0);
  one = strcmp(target, "one") == 0;
  REQUIRE(one || strcmp(target, "distinct") == 0);

  pg = strncmp(dir, "postgresql://", 13) == 0 || strncmp(dir, "postgres://", 11) == 0;
  if (pg) {
    REQUIRE(strlen(dir) < sizeof path);
    snprintf(path, sizeof path, "%s", dir);
  } else {
    path_join(path, sizeof path, dir, "contention.msgstore");
    remove_db(path);
  }
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  messages = one ? 1 : clients;
  for (i = 0; i < messages; i++) {
    SPropValue props[11];
    ULONG n = small_props(props);
    memset(&props[n], 0, sizeof props[n]);
    props[n].ulPropTag = TAG_COUNTER;
    props[n++].Value.l = 0;
    cbs[i] = msg_create_with(root, n, props, eids[i], sizeof eids[i]);
  }
  root->lpVtbl->Release(root);
  /* Warm-up: enough saves (on another property) for the WAL to fill and restart once, so that
   * the run sees the store's steady state, not a fresh file growing (PostgreSQL: a few, to
   * warm the server's caches and this process's connection). */
  {
    LPMESSAGE msg = msg_open_eid(mdb, eids[0], cbs[0], MAPI_MODIFY);
    for (i = 0; i < (pg ? 50 : 400); i++) {
      set_long(msg, PROP_TAG(PT_LONG, 0x0017), i);
      OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
    }
    msg->lpVtbl->Release(msg);
  }

  cl = calloc((size_t)(unsigned)clients, sizeof *cl);
  REQUIRE(cl);
  for (i = 0; i < clients; i++) {
    cl[i].path = path;
    cl[i].seconds = seconds;
    memcpy(cl[i].eid, eids[one ? 0 : i], sizeof cl[i].eid);
    cl[i].cb = cbs[one ? 0 : i];
  }

  if (!procs) {
    pthread_t th[MAX_CLIENTS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)clients);
    for (i = 0; i < clients; i++) {
      cl[i].barrier = &barrier;
      REQUIRE(pthread_create(&th[i], NULL, thread_main, &cl[i]) == 0);
    }
    for (i = 0; i < clients; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
  } else {
    int ready[2], go[2];
    pid_t pids[MAX_CLIENTS];
    char b;
    REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
    fflush(stdout);
    for (i = 0; i < clients; i++) {
      int res[2];
      REQUIRE(pipe(res) == 0);
      pids[i] = fork();
      REQUIRE(pids[i] >= 0);
      if (pids[i] == 0) {
        /* The child holds none of the parent's objects; it opens its own store. */
        close(ready[0]);
        close(go[1]);
        close(res[0]);
        cl[i].ready_fd = ready[1];
        cl[i].go_fd = go[0];
        client_run(&cl[i], wait_pipe);
        REQUIRE(write(res[1], &cl[i], sizeof cl[i]) == (ssize_t)sizeof cl[i]);
        _exit(0);
      }
      close(res[1]);
      cl[i].result_fd = res[0];
    }
    close(ready[1]);
    close(go[0]);
    for (i = 0; i < clients; i++) REQUIRE(read(ready[0], &b, 1) == 1);
    close(go[1]); /* go */
    for (i = 0; i < clients; i++) {
      int status = 0, fd = cl[i].result_fd;
      REQUIRE(read(fd, &cl[i], sizeof cl[i]) == (ssize_t)sizeof cl[i]);
      close(fd);
      REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
      REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(ready[0]);
  }

  for (i = 0; i < clients; i++) {
    committed += cl[i].committed;
    conflicts += cl[i].conflicts;
    if (cl[i].elapsed > elapsed) elapsed = cl[i].elapsed;
    if (least < 0 || cl[i].committed < least) least = cl[i].committed;
    if (cl[i].committed > most) most = cl[i].committed;
    if (cl[i].max_save_ms > max_save_ms) max_save_ms = cl[i].max_save_ms;
  }
  /* The 99th percentile of every client's save times (the bucket it falls in, its upper edge). */
  memset(hist, 0, sizeof hist);
  for (i = 0; i < clients; i++) {
    int b;
    for (b = 0; b < HIST_BUCKETS; b++) {
      hist[b] += cl[i].hist[b];
      saves += cl[i].hist[b];
    }
  }
  for (i = 0; i < HIST_BUCKETS; i++) {
    below += hist[i];
    if (saves > 0 && (double)below >= 0.99 * (double)saves) {
      p99_save_ms = bucket_ms(i);
      break;
    }
  }
  /* Zero lost updates: each counter equals the saves committed on it. */
  for (i = 0; i < messages; i++) {
    LPMESSAGE msg = msg_open_eid(mdb, eids[i], cbs[i], 0);
    long long want = 0;
    int k;
    for (k = 0; k < clients; k++)
      if (one || k == i) want += cl[k].committed;
    lost += want - get_long(msg, TAG_COUNTER);
    msg->lpVtbl->Release(msg);
  }
  printf("@ case=contention mode=%s target=%s clients=%d seconds=%.2f committed=%lld "
         "conflicts=%lld saves_per_s=%.1f conflict_rate=%.4f lost=%lld client_min=%lld client_max=%lld max_save_ms=%.2f p99_save_ms=%.2f\n",
         mode, target, clients, elapsed, committed, conflicts, committed / elapsed,
         committed + conflicts ? (double)conflicts / (double)(committed + conflicts) : 0.0,
         lost, least, most, max_save_ms, p99_save_ms);
  mdb->lpVtbl->Release(mdb);
  free(cl);
  if (!pg) remove_db(path);
  return lost == 0 ? 0 : 1;
}
