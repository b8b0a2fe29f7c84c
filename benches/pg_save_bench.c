/* A durable save in a PostgreSQL store, driven batch by batch by the suite (DESIGN.md §7–§8).
 *
 * The suite measures its baselines (a raw single-statement conditional UPDATE, and the store's
 * own save statements run raw) from Rust with the `postgres` crate, on the same server, and
 * interleaves their batches with this program's, so that every round's ratio compares runs a
 * few milliseconds apart. This program is the measured side: the save as a C client makes it,
 * through the C ABI —
 *     SetProps(one PT_LONG) + SaveChanges(KEEP_OPEN_READWRITE)
 * on a message with the 10 small properties, in a store opened with MAPI_CREATE | MDB_WRITE
 * (durable: synchronous_commit stays on).
 *
 * It makes two more messages alike, which this program never touches: the suite runs the store's
 * own save statements raw on those (baselines on the same tables and indexes: one durable, one
 * with synchronous_commit off).
 *
 * Protocol (stdin/stdout, one line each):
 *   after setup it prints    ready other=ID other=ID   (the other messages' object IDs)
 *   "N" (N > 0)             runs N saves, prints the elapsed nanoseconds
 *   "0" or end of input     checks the counter equals the saves made, prints
 *                           @ case=pg_save saves=… message_size=… and exits
 *
 * Usage: pg_save_bench 'postgresql://…?store=NAME'
 */
#include "bench_common.h"

#define TAG_COUNTER PROP_TAG(PT_LONG, 0x0017) /* PR_IMPORTANCE */

int main(int argc, char **argv) {
  SPropValue small[10];
  BYTE eid[64], eid2[64];
  ULONG cb, n;
  int k, m;
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPMESSAGE msg;
  LONG value = 0;
  char line[64];

  if (argc != 2) {
    fprintf(stderr, "usage: %s 'postgresql://…?store=NAME'\n", argv[0]);
    return 2;
  }
  mdb = store_open_path(argv[1], MAPI_CREATE | MDB_WRITE);
  root = store_root_folder(mdb);
  n = small_props(small);
  cb = msg_create_with(root, n, small, eid, sizeof eid);
  printf("ready");
  for (m = 0; m < 2; m++) {
    unsigned long long other = 0;
    REQUIRE(msg_create_with(root, n, small, eid2, sizeof eid2) >= 32);
    /* The entry ID's last 8 bytes are the object ID, little-endian. */
    for (k = 0; k < 8; k++) other |= (unsigned long long)eid2[24 + k] << (8 * k);
    printf(" other=%llu", other);
  }
  root->lpVtbl->Release(root);
  msg = msg_open_eid(mdb, eid, cb, MAPI_MODIFY);
  printf("\n");
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    long count = atol(line), i;
    uint64_t t0;
    if (count <= 0) break;
    t0 = now_ns();
    for (i = 0; i < count; i++) {
      HRESULT hr;
      set_long(msg, TAG_COUNTER, ++value);
      hr = msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READWRITE);
      if (hr != S_OK) bench_fail_hr(__FILE__, __LINE__, "SaveChanges", hr);
    }
    printf("%llu\n", (unsigned long long)(now_ns() - t0));
    fflush(stdout);
  }
  REQUIRE(get_long(msg, TAG_COUNTER) == value);
  printf("@ case=pg_save saves=%ld message_size=%ld\n", (long)value,
         (long)get_long(msg, PROP_TAG(PT_LONG, 0x0E08)));
  msg->lpVtbl->Release(msg);
  mdb->lpVtbl->Release(mdb);
  return 0;
}
