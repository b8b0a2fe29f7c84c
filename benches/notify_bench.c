/* Notifications (issue 15 item 4).
 *
 *   notify_cost_nosync   SetProps(one PT_LONG) + SaveChanges on a store handle with an advise
 *                        connection (fnevObjectModified, whole store) vs. the same save on a store
 *                        handle of another file without one, MSGSTORE_NO_SYNC (the notifier's
 *                        work is a larger share of a save that does not wait for the disk).
 *   notify_cost_durable  the same, durable saves.
 *   notify_delay_process the delay from another process's SaveChanges returning to OnNotify
 *                        (fnevObjectCreated) here: one message created every 20 ms.
 *   notify_delay_thread  the same from another thread of this process (its own store handle).
 *
 * Usage: notify_bench DIR     (MSGSTORE_BENCH_QUICK=1: fewer rounds and events)
 *        notify_bench --child STORE SHARED N   (the other process)
 */
#include "bench_pair.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAG_COUNTER SAVE_COUNTER_TAG
#define MAX_EVENTS 1000

/* ---- a sink that records when each fnevObjectCreated arrived ----------------------------- */
typedef struct {
  IMAPIAdviseSink iface;
  pthread_mutex_t lock;
  int refs;
  int created;
  uint64_t at[MAX_EVENTS];
} sink;

static HRESULT sink_qi(IMAPIAdviseSink *This, const IID *riid, void **ppv) {
  (void)This;
  (void)riid;
  *ppv = NULL;
  return MAPI_E_INTERFACE_NOT_SUPPORTED;
}
static ULONG sink_add_ref(IMAPIAdviseSink *This) {
  sink *s = (sink *)This;
  ULONG r;
  pthread_mutex_lock(&s->lock);
  r = (ULONG)++s->refs;
  pthread_mutex_unlock(&s->lock);
  return r;
}
static ULONG sink_release(IMAPIAdviseSink *This) {
  sink *s = (sink *)This;
  ULONG r;
  pthread_mutex_lock(&s->lock);
  r = (ULONG)--s->refs;
  pthread_mutex_unlock(&s->lock);
  return r;
}
static ULONG sink_on_notify(IMAPIAdviseSink *This, ULONG n, LPNOTIFICATION notes) {
  sink *s = (sink *)This;
  uint64_t t = now_ns();
  ULONG i;
  pthread_mutex_lock(&s->lock);
  for (i = 0; i < n; i++)
    if (notes[i].ulEventType == fnevObjectCreated && s->created < MAX_EVENTS)
      s->at[s->created++] = t;
  pthread_mutex_unlock(&s->lock);
  return 0;
}
static const IMAPIAdviseSinkVtbl SINK_VTBL = {sink_qi, sink_add_ref, sink_release, sink_on_notify};

static void sink_init(sink *s) {
  memset(s, 0, sizeof *s);
  s->iface.lpVtbl = &SINK_VTBL;
  pthread_mutex_init(&s->lock, NULL);
  s->refs = 1;
}
static int sink_created(sink *s) {
  int n;
  pthread_mutex_lock(&s->lock);
  n = s->created;
  pthread_mutex_unlock(&s->lock);
  return n;
}
static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static void sink_wait_released(sink *s) {
  int i;
  for (i = 0; i < 5000; i++) {
    int refs;
    pthread_mutex_lock(&s->lock);
    refs = s->refs;
    pthread_mutex_unlock(&s->lock);
    if (refs == 1) return;
    sleep_ms(1);
  }
  REQUIRE(!"the store released the sink");
}

/* ---- the cost a connection adds to a save ------------------------------------------------- */
static LPMESSAGE one_message(LPMDB mdb) {
  LPMAPIFOLDER root = store_root_folder(mdb);
  LPMESSAGE msg = NULL;
  OK(root->lpVtbl->CreateMessage(root, NULL, 0, &msg));
  set_long(msg, TAG_COUNTER, 0);
  OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));
  root->lpVtbl->Release(root);
  return msg;
}

static void cost(const char *dir, const char *name, ULONG sync_flag) {
  char with_path[4096], without_path[4096];
  LPMDB with, without;
  save_ctx a = {0}, b = {0};
  sink s;
  ULONG_PTR conn = 0;
  pair_result r;
  char extra[64];
  path_join(with_path, sizeof with_path, dir, "notify-with.db");
  path_join(without_path, sizeof without_path, dir, "notify-without.db");
  remove_db(with_path);
  remove_db(without_path);
  with = store_open_path(with_path, MAPI_CREATE | MDB_WRITE | sync_flag);
  without = store_open_path(without_path, MAPI_CREATE | MDB_WRITE | sync_flag);
  sink_init(&s);
  OK(with->lpVtbl->Advise(with, 0, NULL, fnevObjectModified, &s.iface, &conn));
  a.msg = one_message(with);
  b.msg = one_message(without);
  /* Warm both write-ahead logs past their first restart (as save_bench does). */
  time_batch(op_save, &a, 1500);
  time_batch(op_save, &b, 1500);
  r = run_pair(op_save, &a, op_save, &b, quick_mode() ? 9 : 31, sync_flag ? 20e6 : 60e6);
  snprintf(extra, sizeof extra, "advised=1");
  print_pair(name, r, extra);
  a.msg->lpVtbl->Release(a.msg);
  b.msg->lpVtbl->Release(b.msg);
  OK(with->lpVtbl->Unadvise(with, conn));
  sink_wait_released(&s);
  with->lpVtbl->Release(with);
  without->lpVtbl->Release(without);
  if (!env_flag("MSGSTORE_BENCH_KEEP")) {
    remove_db(with_path);
    remove_db(without_path);
  }
}

/* ---- the delay from a commit to its notification ------------------------------------------ */

/* Creates `n` messages in the store at `loc`, one every 20 ms, recording when each
 * SaveChanges returned in `times`. */
static void create_spaced(const char *loc, uint64_t *times, int n) {
  LPMDB mdb = store_open_path(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  LPMAPIFOLDER root = store_root_folder(mdb);
  int i;
  for (i = 0; i < n; i++) {
    LPMESSAGE msg = NULL;
    sleep_ms(20);
    OK(root->lpVtbl->CreateMessage(root, NULL, 0, &msg));
    set_long(msg, TAG_COUNTER, i);
    OK(msg->lpVtbl->SaveChanges(msg, 0));
    times[i] = now_ns();
    msg->lpVtbl->Release(msg);
  }
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

static int child_main(const char *loc, const char *shared, int n) {
  int fd = open(shared, O_RDWR);
  uint64_t *times;
  REQUIRE(fd >= 0);
  times = mmap(NULL, MAX_EVENTS * sizeof *times, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  REQUIRE(times != MAP_FAILED);
  close(fd);
  create_spaced(loc, times, n);
  munmap(times, MAX_EVENTS * sizeof *times);
  return 0;
}

typedef struct {
  const char *loc;
  uint64_t *times;
  int n;
} thread_args;

static void *thread_main(void *p) {
  thread_args *a = p;
  create_spaced(a->loc, a->times, a->n);
  return NULL;
}

static void report_delays(const char *name, sink *s, const uint64_t *times, int n) {
  double d[MAX_EVENTS], max = 0, med;
  int i, got = sink_created(s);
  REQUIRE(got == n);
  for (i = 0; i < n; i++) {
    d[i] = (double)s->at[i] - (double)times[i];
    if (d[i] > max) max = d[i];
  }
  med = median(d, (size_t)n);
  printf("@ case=%s median_ns=%.0f p95_ns=%.0f max_ns=%.0f events=%d\n", name, med,
         d[(int)(0.95 * (n - 1))], max, n);
  fflush(stdout);
}

static void delay(const char *self, const char *dir) {
  char loc[4096], shared[4096], count[32];
  int n = quick_mode() ? 50 : 200, fd, i;
  LPMDB mdb;
  sink s;
  ULONG_PTR conn = 0;
  uint64_t *times;
  pid_t pid;
  int status = 0;
  thread_args ta;
  pthread_t t;
  path_join(loc, sizeof loc, dir, "notify-delay.db");
  path_join(shared, sizeof shared, dir, "notify-delay.times");
  remove_db(loc);
  mdb = store_open_path(loc, MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC);
  fd = open(shared, O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, MAX_EVENTS * sizeof *times) == 0);
  times = mmap(NULL, MAX_EVENTS * sizeof *times, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  REQUIRE(times != MAP_FAILED);
  close(fd);

  /* Another process. */
  sink_init(&s);
  OK(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectCreated, &s.iface, &conn));
  snprintf(count, sizeof count, "%d", n);
  pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(self, self, "--child", loc, shared, count, (char *)NULL);
    _exit(127);
  }
  REQUIRE(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (i = 0; i < 500 && sink_created(&s) < n; i++) sleep_ms(2);
  report_delays("notify_delay_process", &s, times, n);
  OK(mdb->lpVtbl->Unadvise(mdb, conn));
  sink_wait_released(&s);

  /* Another thread of this process, with a store handle of its own. */
  sink_init(&s);
  OK(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectCreated, &s.iface, &conn));
  ta.loc = loc;
  ta.times = times;
  ta.n = n;
  REQUIRE(pthread_create(&t, NULL, thread_main, &ta) == 0);
  REQUIRE(pthread_join(t, NULL) == 0);
  for (i = 0; i < 500 && sink_created(&s) < n; i++) sleep_ms(2);
  report_delays("notify_delay_thread", &s, times, n);
  OK(mdb->lpVtbl->Unadvise(mdb, conn));
  sink_wait_released(&s);

  munmap(times, MAX_EVENTS * sizeof *times);
  mdb->lpVtbl->Release(mdb);
  if (!env_flag("MSGSTORE_BENCH_KEEP")) {
    remove_db(loc);
    unlink(shared);
  }
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--child") == 0)
    return child_main(argv[2], argv[3], atoi(argv[4]));
  REQUIRE(argc == 2);
  cost(argv[1], "notify_cost_nosync", MSGSTORE_NO_SYNC);
  cost(argv[1], "notify_cost_durable", 0);
  delay(argv[0], argv[1]);
  return 0;
}
