/* The save rules across processes, and a race: threads of this process and separate processes
 * (fork + exec of this program) open the same message of one store file and save once per round.
 * Exactly one save per round may win (S_OK); every other one must get MAPI_E_OBJECT_CHANGED and
 * write nothing, and the stored message must be the winner's.
 *
 *   race_test [--list | SECTION...]             the test (parent): test_util.h's sections
 *   race_test rules-child <store> <fd-in> <fd-out>   one side of the cross-process rules test
 *   race_test race-child <store> <sync-file> <participant>   a racing process
 */
#define _XOPEN_SOURCE 700
#include "store_util.h"
#include "proc_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RACE_THREADS = 8, RACE_PROCS = 4, PARTICIPANTS = RACE_THREADS + RACE_PROCS, MAX_ROUNDS = 400 };

/* Shared between the processes through a mapped file. */
struct shared {
  pthread_barrier_t barrier;
  int rounds;
  int failed;
  HRESULT results[MAX_ROUNDS][PARTICIPANTS];
  BYTE eid[64];
  ULONG cb_eid;
};

static const char *g_self;



static void send_byte(int fd, char c) { CHECK_EQ(write(fd, &c, 1), 1); }
static char recv_byte(int fd) {
  char c = 0;
  CHECK_EQ(read(fd, &c, 1), 1);
  return c;
}

static LPSPropValue eid_value(BYTE *bytes, ULONG cb, SPropValue *holder) {
  memset(holder, 0, sizeof *holder);
  holder->ulPropTag = PR_ENTRYID;
  holder->Value.bin.cb = cb;
  holder->Value.bin.lpb = bytes;
  return holder;
}

/* ---- the rules across two processes ------------------------------------------------------ */

/* Child: opens the message in its own process, waits for "go", edits and saves; reports the
 * HRESULTs of a plain save and then of a FORCE_SAVE. */
static int rules_child(const char *store_path, int in, int out) {
  LPMDB mdb = store_open(store_path, MDB_WRITE);
  BYTE eid[64];
  ULONG cb = 0;
  SPropValue holder;
  LPMESSAGE m;
  HRESULT hr;

  CHECK_EQ(read(in, &cb, sizeof cb), (long)sizeof cb);
  CHECK(cb <= sizeof eid);
  CHECK_EQ(read(in, eid, cb), (long)cb);
  m = msg_open(mdb, eid_value(eid, cb, &holder), MAPI_MODIFY);
  send_byte(out, 'o'); /* opened: the parent now saves first */
  CHECK_EQ(recv_byte(in), 'g');
  msg_set_str(m, PR_SUBJECT_A, "child's edit");
  hr = m->lpVtbl->SaveChanges(m, KEEP_OPEN_READWRITE);
  CHECK_EQ(write(out, &hr, sizeof hr), (long)sizeof hr);
  hr = m->lpVtbl->SaveChanges(m, FORCE_SAVE | KEEP_OPEN_READWRITE);
  CHECK_EQ(write(out, &hr, sizeof hr), (long)sizeof hr);
  m->lpVtbl->Release(m);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

static void test_rules_across_processes(const char *path) {
  LPMDB mdb = store_open(path, MDB_WRITE);
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "shared");
  LPMESSAGE mine, check;
  int to_child[2], from_child[2];
  char fd_in[16], fd_out[16], buf[64];
  char *argv[6];
  pid_t pid;
  HRESULT hr;

  CHECK_EQ(pipe(to_child), 0);
  CHECK_EQ(pipe(from_child), 0);
  snprintf(fd_in, sizeof fd_in, "%d", to_child[0]);
  snprintf(fd_out, sizeof fd_out, "%d", from_child[1]);
  argv[0] = (char *)g_self;
  argv[1] = (char *)"rules-child";
  argv[2] = (char *)path;
  argv[3] = fd_in;
  argv[4] = fd_out;
  argv[5] = NULL;
  pid = spawn_self(g_self, argv);
  close(to_child[0]);
  close(from_child[1]);
  CHECK_EQ(write(to_child[1], &eid->Value.bin.cb, sizeof(ULONG)), (long)sizeof(ULONG));
  CHECK_EQ(write(to_child[1], eid->Value.bin.lpb, eid->Value.bin.cb), (long)eid->Value.bin.cb);

  /* Both processes have the message open; this one saves first (rule 1). */
  mine = msg_open(mdb, eid, MAPI_MODIFY);
  CHECK_EQ(recv_byte(from_child[0]), 'o');
  msg_set_str(mine, PR_SUBJECT_A, "parent's edit");
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE));
  send_byte(to_child[1], 'g');
  /* The other process's save is refused (rule 2) and its FORCE_SAVE wins (rule 3). */
  CHECK_EQ(read(from_child[0], &hr, sizeof hr), (long)sizeof hr);
  CHECK_HR(hr, MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(read(from_child[0], &hr, sizeof hr), (long)sizeof hr);
  CHECK_HR(hr, S_OK);
  CHECK_EQ(wait_child(pid), 0);
  check = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "child's edit");
  check->lpVtbl->Release(check);
  /* And the other way round: this process is now stale. */
  msg_set_str(mine, PR_SUBJECT_A, "parent again");
  CHECK_HR(mine->lpVtbl->SaveChanges(mine, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  check = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "child's edit");
  check->lpVtbl->Release(check);
  CHECK_OK(mine->lpVtbl->SaveChanges(mine, FORCE_SAVE));
  check = msg_open(mdb, eid, 0);
  CHECK_OK(msg_get_str(check, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "parent again");
  check->lpVtbl->Release(check);

  close(to_child[1]);
  close(from_child[0]);
  mine->lpVtbl->Release(mine);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* ---- the race --------------------------------------------------------------------------- */

static struct shared *map_shared(const char *sync_path, int create) {
  return (struct shared *)map_shared_file(sync_path, sizeof(struct shared), create);
}

static void barrier(struct shared *sh) {
  int rc = pthread_barrier_wait(&sh->barrier);
  CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
}

/* One participant: its own store handle (as a separate client would have), every round: open,
 * wait for all, change, save once, record. Participant 0 checks each round. */
static void participate(const char *store_path, struct shared *sh, int me) {
  LPMDB mdb = store_open(store_path, MDB_WRITE);
  SPropValue holder;
  LPSPropValue eid = eid_value(sh->eid, sh->cb_eid, &holder);
  int r;
  for (r = 0; r < sh->rounds; r++) {
    char subject[64];
    LPMESSAGE m;
    barrier(sh);
    m = msg_open(mdb, eid, MAPI_MODIFY);
    barrier(sh); /* everyone has the same base version */
    snprintf(subject, sizeof subject, "round %d by %d", r, me);
    msg_set_str(m, PR_SUBJECT_A, subject);
    sh->results[r][me] = m->lpVtbl->SaveChanges(m, 0);
    m->lpVtbl->Release(m);
    barrier(sh); /* every save of the round has returned */
    if (me == 0) {
      int wins = 0, winner = -1, p;
      char stored[64], want[64];
      LPMESSAGE check;
      for (p = 0; p < PARTICIPANTS; p++) {
        if (sh->results[r][p] == S_OK) {
          wins++;
          winner = p;
        } else if (sh->results[r][p] != MAPI_E_OBJECT_CHANGED) {
          fprintf(stderr, "round %d: participant %d got %s\n", r, p, hr_name(sh->results[r][p]));
          sh->failed = 1;
        }
      }
      if (wins != 1) {
        fprintf(stderr, "round %d: %d saves won (exactly one must)\n", r, wins);
        sh->failed = 1;
      } else {
        check = msg_open(mdb, eid, 0);
        CHECK_OK(msg_get_str(check, PR_SUBJECT_A, stored, sizeof stored));
        snprintf(want, sizeof want, "round %d by %d", r, winner);
        if (strcmp(stored, want) != 0) {
          fprintf(stderr, "round %d: stored \"%s\", the winner wrote \"%s\"\n", r, stored, want);
          sh->failed = 1;
        }
        check->lpVtbl->Release(check);
      }
    }
    barrier(sh); /* the check is done before anyone reopens */
  }
  mdb->lpVtbl->Release(mdb);
}

struct thread_arg {
  const char *store_path;
  struct shared *sh;
  int me;
};

static void *race_thread(void *p) {
  struct thread_arg *a = (struct thread_arg *)p;
  participate(a->store_path, a->sh, a->me);
  return NULL;
}

static void test_race(const char *path, const char *sync_path) {
  LPMDB mdb = store_open(path, MDB_WRITE);
  LPMAPIFOLDER root = store_root(mdb);
  LPSPropValue eid = msg_create(root, "raced");
  struct shared *sh = map_shared(sync_path, 1);
  pthread_barrierattr_t attr;
  pthread_t threads[RACE_THREADS];
  struct thread_arg args[RACE_THREADS];
  pid_t pids[RACE_PROCS];
  char idx[RACE_PROCS][8];
  int i, r, ok_total = 0, changed_total = 0;

  memset(sh, 0, sizeof *sh);
  sh->rounds = test_under_valgrind() ? 4 : 200;
  CHECK(eid->Value.bin.cb <= sizeof sh->eid);
  memcpy(sh->eid, eid->Value.bin.lpb, eid->Value.bin.cb);
  sh->cb_eid = eid->Value.bin.cb;
  CHECK_EQ(pthread_barrierattr_init(&attr), 0);
  CHECK_EQ(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
  CHECK_EQ(pthread_barrier_init(&sh->barrier, &attr, PARTICIPANTS), 0);
  CHECK_EQ(msync(sh, sizeof *sh, MS_SYNC), 0);

  for (i = 0; i < RACE_PROCS; i++) {
    char *argv[6];
    snprintf(idx[i], sizeof idx[i], "%d", RACE_THREADS + i);
    argv[0] = (char *)g_self;
    argv[1] = (char *)"race-child";
    argv[2] = (char *)path;
    argv[3] = (char *)sync_path;
    argv[4] = idx[i];
    argv[5] = NULL;
    pids[i] = spawn_self(g_self, argv);
  }
  for (i = 0; i < RACE_THREADS; i++) {
    args[i].store_path = path;
    args[i].sh = sh;
    args[i].me = i;
    CHECK_EQ(pthread_create(&threads[i], NULL, race_thread, &args[i]), 0);
  }
  for (i = 0; i < RACE_THREADS; i++) CHECK_EQ(pthread_join(threads[i], NULL), 0);
  for (i = 0; i < RACE_PROCS; i++) CHECK_EQ(wait_child(pids[i]), 0);

  for (r = 0; r < sh->rounds; r++) {
    for (i = 0; i < PARTICIPANTS; i++) {
      ok_total += sh->results[r][i] == S_OK;
      changed_total += sh->results[r][i] == MAPI_E_OBJECT_CHANGED;
    }
  }
  printf("race: %d rounds x %d clients (%d threads, %d processes): %d S_OK, %d MAPI_E_OBJECT_CHANGED\n",
         sh->rounds, PARTICIPANTS, RACE_THREADS, RACE_PROCS, ok_total, changed_total);
  CHECK_EQ(sh->failed, 0);
  CHECK_EQ(ok_total, sh->rounds);
  CHECK_EQ(changed_total, sh->rounds * (PARTICIPANTS - 1));
  pthread_barrier_destroy(&sh->barrier);
  pthread_barrierattr_destroy(&attr);
  munmap(sh, sizeof *sh);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
}

/* Each section has a store of its own. */
static void fresh_store_file(char *path, size_t size, const char *name) {
  LPMDB mdb;
  store_location(path, size, name);
  unlink(path);
  mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
  mdb->lpVtbl->Release(mdb);
}

static void section_rules_across_processes(void) {
  char path[4096];
  fresh_store_file(path, sizeof path, "race-rules.db");
  test_rules_across_processes(path);
}

static void section_race(void) {
  char path[4096], sync_path[4096];
  fresh_store_file(path, sizeof path, "race.db");
  test_path(sync_path, sizeof sync_path, "race.sync");
  test_race(path, sync_path);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"rules_across_processes", section_rules_across_processes},
    {"race", section_race},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  alarm(600); /* a lost participant must fail the test, not hang it */
  if (argc == 5 && strcmp(argv[1], "rules-child") == 0)
    return rules_child(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (argc == 5 && strcmp(argv[1], "race-child") == 0) {
    struct shared *sh = map_shared(argv[3], 0);
    participate(argv[2], sh, atoi(argv[4]));
    munmap(sh, sizeof *sh);
    CHECK_EQ(MsgStoreLiveObjects(), 0);
    return 0;
  }
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
