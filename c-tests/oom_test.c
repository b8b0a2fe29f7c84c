/* Out of memory is an error, not an abort (issue 12 item 5; docs/BAD_INPUT.md): a SetProps of a
 * value the process cannot copy returns MAPI_E_NOT_ENOUGH_MEMORY and the object keeps working.
 * Rust's allocation failure is not a panic the boundary's guard could catch, so before the fix
 * the child below died of SIGABRT ("memory allocation of ... bytes failed").
 *
 * Each case runs in a child process (fork) under an address-space limit (setrlimit RLIMIT_AS) of
 * its current size + 512 MiB; the 1.5 GiB source of the values is an untouched PROT_READ,
 * MAP_NORESERVE mapping made before the limit is lowered, so the source exists but no copy of it
 * fits. Skipped under valgrind (MSGSTORE_UNDER_VALGRIND=1): valgrind's own allocator and
 * address-space accounting do not follow RLIMIT_AS the way glibc's malloc does. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgstore.h"
#include "store_util.h"

#define ID(n) ((ULONG)(0x6800u + (n)))
#define TAG(type, n) PROP_TAG((type), ID(n))

#define MIB ((size_t)1 << 20)
#define SOURCE_SIZE (1536 * MIB) /* 1.5 GiB: the value a caller hands us */
#define HEADROOM (512 * MIB)     /* what the child may still allocate */

static const BYTE *g_source; /* SOURCE_SIZE readable bytes (zero pages, never touched) */

/* The process's address-space size now, from /proc/self/statm (in pages). */
static size_t address_space_now(void) {
  unsigned long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK(f != NULL);
  CHECK_EQ(fscanf(f, "%lu", &pages), 1);
  fclose(f);
  return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void limit_address_space(void) {
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = (rlim_t)(address_space_now() + HEADROOM);
  CHECK_EQ(setrlimit(RLIMIT_AS, &rl), 0);
}

static SPropValue binary(ULONG tag, size_t cb, const BYTE *lpb) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.bin.cb = (ULONG)cb;
  v.Value.bin.lpb = (LPBYTE)lpb;
  return v;
}

/* The object still works: a small SetProps and GetProps round trip, and `absent` was not set. */
static void check_still_works(LPMAPIPROP p, ULONG absent) {
  SPropValue v;
  SizedSPropTagArray(2, tags) = {2, {0, 0}};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_LONG, 1);
  v.Value.l = 42;
  CHECK_OK(p->lpVtbl->SetProps(p, 1, &v, NULL));
  tags.aulPropTag[0] = TAG(PT_LONG, 1);
  tags.aulPropTag[1] = absent;
  CHECK_HR(p->lpVtbl->GetProps(p, (LPSPropTagArray)&tags, 0, &n, &vals), MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(n, 2);
  CHECK_EQ(vals[0].ulPropTag, TAG(PT_LONG, 1));
  CHECK_EQ(vals[0].Value.l, 42);
  CHECK_EQ(vals[1].ulPropTag, PROP_TAG(PT_ERROR, PROP_ID(absent)));
  CHECK_EQ(vals[1].Value.err, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(vals);
}

/* SetProps of a value too big to copy: MAPI_E_NOT_ENOUGH_MEMORY, nothing applied, no problem
 * array, GetLastError says why. */
static void check_set_fails(LPMAPIPROP p, SPropValue *v) {
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  LPMAPIERROR err = NULL;
  CHECK_HR(p->lpVtbl->SetProps(p, 1, v, &problems), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK(problems == NULL);
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_NOT_ENOUGH_MEMORY, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "memory") != NULL);
  MAPIFreeBuffer(err);
}

/* The allocator an IPropData object builds its results with (the caller's, as CreateIProp is
 * given it): GetProps of a big value must then copy it out of the object's lock first. */
static SCODE my_buffer(ULONG cb, LPVOID *pp) { return MAPIAllocateBuffer(cb, pp); }
static SCODE my_more(ULONG cb, LPVOID root, LPVOID *pp) { return MAPIAllocateMore(cb, root, pp); }
static ULONG my_free(LPVOID p) { return MAPIFreeBuffer(p); }

static int child_prop_data(void) {
  LPPROPDATA p = NULL;
  SPropValue v;
  SBinary bins[3];
  int i;
  SizedSPropTagArray(1, big) = {1, {TAG(PT_BINARY, 4)}};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, my_buffer, my_more, my_free, NULL, &p));
  limit_address_space();

  /* One binary of 1.5 GiB. */
  v = binary(TAG(PT_BINARY, 2), SOURCE_SIZE, g_source);
  check_set_fails((LPMAPIPROP)p, &v);
  check_still_works((LPMAPIPROP)p, TAG(PT_BINARY, 2));

  /* A multi-valued binary whose first 400 MiB copy fits and second does not: the first is
   * released again, nothing is applied. */
  for (i = 0; i < 3; i++) {
    bins[i].cb = (ULONG)(400 * MIB);
    bins[i].lpb = (LPBYTE)g_source;
  }
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_MV_BINARY, 3);
  v.Value.MVbin.cValues = 3;
  v.Value.MVbin.lpbin = bins;
  check_set_fails((LPMAPIPROP)p, &v);
  check_still_works((LPMAPIPROP)p, TAG(PT_MV_BINARY, 3));

  /* A value that fits once but not twice: stored, but GetProps cannot copy it out for the
   * caller's allocator (a snapshot taken under the object's lock) and says so. */
  v = binary(TAG(PT_BINARY, 4), 300 * MIB, g_source);
  CHECK_OK(p->lpVtbl->SetProps(p, 1, &v, NULL));
  CHECK_HR(p->lpVtbl->GetProps(p, (LPSPropTagArray)&big, 0, &n, &vals), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK(vals == NULL && n == 0);
  CHECK_OK(p->lpVtbl->DeleteProps(p, (LPSPropTagArray)&big, NULL));
  check_still_works((LPMAPIPROP)p, TAG(PT_BINARY, 4));

  CHECK_EQ(p->lpVtbl->Release(p), 0);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

static int child_message(void) {
  char path[1024];
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPMESSAGE msg = NULL;
  SPropValue v;
  test_path(path, sizeof path, "oom.db");
  mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
  root = store_root(mdb);
  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, 0, &msg));
  limit_address_space();

  v = binary(TAG(PT_BINARY, 2), SOURCE_SIZE, g_source);
  check_set_fails((LPMAPIPROP)msg, &v);
  check_still_works((LPMAPIPROP)msg, TAG(PT_BINARY, 2));
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE));

  msg->lpVtbl->Release(msg);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

static void run_in_child(const char *name, int (*fn)(void)) {
  int status = 0;
  pid_t pid;
  fflush(stdout);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(fn());
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "oom_test: %s: the child was killed by signal %d (%s)\n", name,
            WTERMSIG(status), WTERMSIG(status) == 6 ? "SIGABRT: the failed copy aborted" : "?");
    exit(1);
  }
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 0);
  printf("  %s: ok\n", name);
}

/* Maps the values' source, runs `body` in a child under the address-space limit, unmaps. */
static void with_source(const char *what, int (*body)(void)) {
  void *src;
  if (test_under_valgrind()) {
    printf("  %s: skipped under valgrind (RLIMIT_AS does not bound valgrind's allocator)\n", what);
    return;
  }
  src = mmap(NULL, SOURCE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK(src != MAP_FAILED);
  g_source = (const BYTE *)src;
  run_in_child(what, body);
  CHECK_EQ(munmap(src, SOURCE_SIZE), 0);
  g_source = NULL;
}

static void test_prop_data(void) {
  with_source("IPropData SetProps of 1.5 GiB, of MV 3 x 400 MiB; GetProps of 300 MiB",
              child_prop_data);
}

static void test_message(void) { with_source("IMessage SetProps of 1.5 GiB", child_message); }

static const struct test_section SECTIONS[] = {
    {"prop_data", test_prop_data},
    {"message", test_message},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
