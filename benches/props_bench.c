/* Property access through the vtable vs. a plain C copy of the same SPropValues (DESIGN.md §7).
 *
 *   getprops10  GetProps of 10 small properties (explicit tag list) + MAPIFreeBuffer
 *   getprops50  GetProps(NULL list, MAPI_UNICODE) of a 50-property message: every property,
 *               computed ones included + MAPIFreeBuffer
 *   setprops10  SetProps of the same 10 values on an open read-write message (no save)
 *   setprops50  SetProps of the 50 values
 *
 * Baseline for each: copy_props_block() of exactly the SPropValues the call returns (GetProps)
 * or is given (SetProps) into one MAPIAllocateBuffer block, then MAPIFreeBuffer.
 *
 * Usage: props_bench DIR [CASE ITERATIONS]
 *   With CASE (getprops10, getprops50, setprops10, setprops50, or copy10 / copy50 for the
 *   baselines), runs only that operation ITERATIONS times and prints nothing: for profilers
 *   (valgrind --tool=callgrind ./props_bench DIR getprops10 10000).
 *   MSGSTORE_BENCH_QUICK=1: fewer rounds.
 */
#include "bench_pair.h"

typedef struct {
  LPMESSAGE msg;
  LPSPropTagArray tags; /* NULL: all */
  ULONG flags;
  ULONG n;
  LPSPropValue values;
} props_ctx;

static void op_getprops(void *p) {
  props_ctx *c = p;
  ULONG n = 0;
  LPSPropValue v = NULL;
  HRESULT hr = c->msg->lpVtbl->GetProps(c->msg, c->tags, c->flags, &n, &v);
  if (hr != S_OK) bench_fail_hr(__FILE__, __LINE__, "GetProps", hr);
  bench_sink += (uintptr_t)v[n - 1].ulPropTag;
  MAPIFreeBuffer(v);
}

static void op_setprops(void *p) {
  props_ctx *c = p;
  HRESULT hr = c->msg->lpVtbl->SetProps(c->msg, c->n, c->values, NULL);
  if (hr != S_OK) bench_fail_hr(__FILE__, __LINE__, "SetProps", hr);
}

static void op_copy(void *p) {
  props_ctx *c = p;
  LPSPropValue v = copy_props_block(c->values, c->n);
  REQUIRE(v);
  bench_sink += (uintptr_t)v[c->n - 1].ulPropTag;
  MAPIFreeBuffer(v);
}

int main(int argc, char **argv) {
  char path[4096], extra[128];
  SPropValue small[10], fifty[50];
  BYTE eid10[64], eid50[64];
  ULONG cb10, cb50, n10, n50, i;
  SizedSPropTagArray(10, tags10);
  LPMDB mdb;
  LPMAPIFOLDER root;
  props_ctx get10, get50, set10, set50, base_get10, base_get50, base_set10, base_set50;
  LPSPropValue res10 = NULL, res50 = NULL;
  unsigned rounds = quick_mode() ? 15 : 101;
  double batch_ns = quick_mode() ? 2e6 : 4e6;
  pair_result r;

  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: %s DIR [CASE ITERATIONS]\n", argv[0]);
    return 2;
  }
  path_join(path, sizeof path, argv[1], "props.msgstore");
  remove_db(path);
  mdb = store_open_path(path, MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  n10 = small_props(small);
  n50 = fifty_props(fifty);
  cb10 = msg_create_with(root, n10, small, eid10, sizeof eid10);
  cb50 = msg_create_with(root, n50, fifty, eid50, sizeof eid50);
  tags10.cValues = n10;
  for (i = 0; i < n10; i++) tags10.aulPropTag[i] = small[i].ulPropTag;

  memset(&get10, 0, sizeof get10);
  get10.msg = msg_open_eid(mdb, eid10, cb10, MAPI_MODIFY);
  get10.tags = (LPSPropTagArray)&tags10;
  get10.flags = MAPI_UNICODE;
  memset(&get50, 0, sizeof get50);
  get50.msg = msg_open_eid(mdb, eid50, cb50, MAPI_MODIFY);
  get50.tags = NULL;
  get50.flags = MAPI_UNICODE;

  /* The baselines copy exactly what GetProps hands out. */
  OK(get10.msg->lpVtbl->GetProps(get10.msg, get10.tags, get10.flags, &base_get10.n, &res10));
  OK(get50.msg->lpVtbl->GetProps(get50.msg, NULL, MAPI_UNICODE, &base_get50.n, &res50));
  base_get10.values = res10;
  base_get50.values = res50;

  memset(&set10, 0, sizeof set10);
  set10.msg = msg_open_eid(mdb, eid10, cb10, MAPI_MODIFY);
  set10.n = n10;
  set10.values = small;
  memset(&set50, 0, sizeof set50);
  set50.msg = msg_open_eid(mdb, eid50, cb50, MAPI_MODIFY);
  set50.n = n50;
  set50.values = fifty;
  base_set10.n = n10;
  base_set10.values = small;
  base_set50.n = n50;
  base_set50.values = fifty;

  if (argc == 4) {
    struct {
      const char *name;
      bench_op op;
      void *ctx;
    } cases[] = {{"getprops10", op_getprops, &get10}, {"getprops50", op_getprops, &get50},
                 {"setprops10", op_setprops, &set10}, {"setprops50", op_setprops, &set50},
                 {"copy10", op_copy, &base_get10},    {"copy50", op_copy, &base_get50}};
    long iters = atol(argv[3]), k;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      if (strcmp(cases[i].name, argv[2]) != 0) continue;
      for (k = 0; k < iters; k++) cases[i].op(cases[i].ctx);
      return 0;
    }
    fprintf(stderr, "unknown case %s\n", argv[2]);
    return 2;
  }
  r = run_pair(op_getprops, &get10, op_copy, &base_get10, rounds, batch_ns);
  snprintf(extra, sizeof extra, "values=%u", (unsigned)base_get10.n);
  print_pair("getprops10", r, extra);
  r = run_pair(op_getprops, &get50, op_copy, &base_get50, rounds, batch_ns);
  snprintf(extra, sizeof extra, "values=%u", (unsigned)base_get50.n);
  print_pair("getprops50", r, extra);
  r = run_pair(op_setprops, &set10, op_copy, &base_set10, rounds, batch_ns);
  snprintf(extra, sizeof extra, "values=%u", (unsigned)n10);
  print_pair("setprops10", r, extra);
  r = run_pair(op_setprops, &set50, op_copy, &base_set50, rounds, batch_ns);
  snprintf(extra, sizeof extra, "values=%u", (unsigned)n50);
  print_pair("setprops50", r, extra);

  MAPIFreeBuffer(res10);
  MAPIFreeBuffer(res50);
  get10.msg->lpVtbl->Release(get10.msg);
  get50.msg->lpVtbl->Release(get50.msg);
  set10.msg->lpVtbl->Release(set10.msg);
  set50.msg->lpVtbl->Release(set50.msg);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  return 0;
}
