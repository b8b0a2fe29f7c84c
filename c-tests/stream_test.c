/* Streams (issue 15 item 1; reference §1.5, §5.5): OpenProperty(…, IID_IStream, …) on messages,
 * attachments (PR_ATTACH_DATA_BIN) and folders, through the IStream vtable. A stream's Commit
 * puts its bytes into the message's working copy: they are stored by the message's SaveChanges,
 * lost with it in a conflict, kept by FORCE_SAVE. Round trips of 0 B … 100 MiB; for 100 MiB the
 * peak memory (ru_maxrss) of writing and committing is measured. Under valgrind
 * (MSGSTORE_UNDER_VALGRIND, set by tests/c_tests.rs) the two large sizes shrink to 2 MiB and
 * 4 MiB: the logic is the same, and valgrind's copying would take minutes. GetProps of a value
 * above 1 MiB is PT_ERROR MAPI_E_NOT_ENOUGH_MEMORY (reference §5.2). */
#define _XOPEN_SOURCE 700
#include "store_util.h"

#include <sys/resource.h>
#include <unistd.h>

#define PR_BLOB PROP_TAG(PT_BINARY, 0x6701)
#define PR_DATA_LONG PROP_TAG(PT_LONG, 0x6702)
#define MIB (1024u * 1024u)
/* GetProps returns stream-type values up to this size (core::stream::GETPROPS_MAX_BYTES). */
#define GETPROPS_LIMIT MIB

/* The byte at offset i of the test pattern (not periodic in any power of two). */
static unsigned char pattern(uint64_t i) { return (unsigned char)((i * 7 + i / 251) & 0xFF); }

static LPSTREAM open_stream(LPMAPIPROP obj, ULONG tag, ULONG opts, ULONG flags) {
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_OK(obj->lpVtbl->OpenProperty(obj, tag, &IID_IStream, opts, flags, &unk));
  CHECK(unk != NULL && unk != GARBAGE_PTR);
  return (LPSTREAM)unk;
}

static HRESULT try_open(LPMAPIPROP obj, ULONG tag, LPCIID iid, ULONG opts, ULONG flags) {
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  HRESULT hr = obj->lpVtbl->OpenProperty(obj, tag, iid, opts, flags, &unk);
  if (hr == S_OK) {
    unk->lpVtbl->Release(unk);
  } else {
    CHECK(unk == NULL);
  }
  return hr;
}

/* Writes `size` bytes of the pattern in chunks of at most 1 MiB. */
static void write_pattern(LPSTREAM s, uint64_t size) {
  static unsigned char chunk[MIB];
  uint64_t done = 0;
  while (done < size) {
    ULONG n = (ULONG)(size - done < MIB ? size - done : MIB);
    ULONG written = 0;
    ULONG i;
    for (i = 0; i < n; i++) chunk[i] = pattern(done + i);
    CHECK_OK(s->lpVtbl->Write(s, chunk, n, &written));
    CHECK_EQ(written, n);
    done += n;
  }
}

static long status_kib(const char *name);
/* While set, check_pattern samples the process's anonymous resident memory (its heap: file
 * pages SQLite maps to read a store do not count) after every read, keeping the largest. */
static int sample_anon;
static long anon_max;

/* Reads the stream from its position to the end and checks it is the pattern of `size` bytes. */
static void check_pattern(LPSTREAM s, uint64_t size) {
  static unsigned char chunk[MIB];
  uint64_t done = 0;
  for (;;) {
    ULONG got = GARBAGE_ULONG;
    ULONG i;
    CHECK_OK(s->lpVtbl->Read(s, chunk, MIB, &got));
    if (sample_anon) {
      long anon = status_kib("RssAnon");
      if (anon > anon_max) anon_max = anon;
    }
    if (got == 0) break;
    for (i = 0; i < got; i++) {
      if (chunk[i] != pattern(done + i)) {
        fprintf(stderr, "byte %llu differs\n", (unsigned long long)(done + i));
        CHECK(!"the stream reads back what was written");
      }
    }
    done += got;
  }
  CHECK_EQ(done, size);
}

static uint64_t stream_size(LPSTREAM s) {
  STATSTG st;
  memset(&st, 0xAB, sizeof st);
  CHECK_OK(s->lpVtbl->Stat(s, &st, STATFLAG_NONAME));
  CHECK_EQ(st.type, STGTY_STREAM);
  CHECK(st.pwcsName == NULL);
  return st.cbSize.QuadPart;
}

static LARGE_INTEGER li(long long v) {
  LARGE_INTEGER l;
  l.QuadPart = v;
  return l;
}

static ULARGE_INTEGER uli(unsigned long long v) {
  ULARGE_INTEGER l;
  l.QuadPart = v;
  return l;
}

/* Writes `size` bytes through a stream on a new message's PR_BLOB, saves, reopens, reads back. */
static void round_trip(struct msg_fixture *f, uint64_t size) {
  LPMESSAGE msg = NULL;
  LPSTREAM s;
  LPSPropValue eid;
  CHECK_OK(f->root->lpVtbl->CreateMessage(f->root, NULL, 0, &msg));
  s = open_stream((LPMAPIPROP)msg, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, size);
  CHECK_EQ(stream_size(s), size);
  CHECK_OK(s->lpVtbl->Commit(s, STGC_DEFAULT));
  s->lpVtbl->Release(s);
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)msg, PR_ENTRYID);
  msg->lpVtbl->Release(msg);

  msg = msg_open(f->mdb, eid, 0);
  s = open_stream((LPMAPIPROP)msg, PR_BLOB, STGM_READ, 0);
  CHECK_EQ(stream_size(s), size);
  check_pattern(s, size);
  s->lpVtbl->Release(s);
  if (size <= GETPROPS_LIMIT) {
    /* Values up to 1 MiB read through GetProps as well. */
    LPSPropValue v = msg_get_one((LPMAPIPROP)msg, PR_BLOB);
    uint64_t i;
    CHECK_EQ(v->ulPropTag, PR_BLOB);
    CHECK_EQ(v->Value.bin.cb, size);
    for (i = 0; i < size; i++) CHECK(v->Value.bin.lpb[i] == pattern(i));
    MAPIFreeBuffer(v);
  } else {
    /* Larger ones are PT_ERROR MAPI_E_NOT_ENOUGH_MEMORY: read them through a stream. */
    SizedSPropTagArray(2, tags) = {2, {PR_BLOB, PR_ENTRYID}};
    ULONG n = 0;
    LPSPropValue v = NULL;
    CHECK_HR(msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&tags, 0, &n, &v),
             MAPI_W_ERRORS_RETURNED);
    CHECK_EQ(n, 2);
    CHECK_EQ(v[0].ulPropTag, CHANGE_PROP_TYPE(PR_BLOB, PT_ERROR));
    CHECK_HR(v[0].Value.err, MAPI_E_NOT_ENOUGH_MEMORY);
    CHECK_EQ(v[1].ulPropTag, PR_ENTRYID);
    MAPIFreeBuffer(v);
  }
  msg->lpVtbl->Release(msg);
  MAPIFreeBuffer(eid);
}

static void test_round_trips(void) {
  struct msg_fixture f;
  uint64_t big = test_under_valgrind() ? 2 * MIB : 10 * MIB;
  msg_fixture_setup(&f, "round_trips.db");
  round_trip(&f, 0);
  round_trip(&f, 1);
  round_trip(&f, 4096);
  round_trip(&f, GETPROPS_LIMIT);
  round_trip(&f, big);
  msg_fixture_teardown(&f);
  printf("  round trips of 0 B, 1 B, 4 KiB, 1 MiB, %llu MiB: ok\n", (unsigned long long)(big / MIB));
}

static long max_rss_kib(void) {
  struct rusage ru;
  CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
  return ru.ru_maxrss;
}

/* A line "<name>: <n> kB" of /proc/self/status, in KiB. */
static long status_kib(const char *name) {
  char line[256];
  long value = -1;
  size_t len = strlen(name);
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      value = atol(line + len + 1);
      break;
    }
  }
  fclose(f);
  CHECK(value >= 0);
  return value;
}

/* Starts measuring the anonymous memory (heap) a reopen and a read take: returns the current
 * amount; check_pattern then samples it after every read, and open_sampled() after an open. The
 * process-wide peak (ru_maxrss) cannot be used here: it counts the pages of the store file that
 * SQLite maps to read it, which are the kernel's page cache, not memory the library holds. */
static long start_sampling(void) {
  sample_anon = 1;
  anon_max = status_kib("RssAnon");
  return anon_max;
}

static void sample_now(void) {
  long anon = status_kib("RssAnon");
  if (anon > anon_max) anon_max = anon;
}

/* The largest sample since start_sampling(); sampling stops. */
static long stop_sampling(void) {
  sample_now();
  sample_anon = 0;
  return anon_max;
}

/* GetProps of `tag` on `obj` is PT_ERROR MAPI_E_NOT_ENOUGH_MEMORY (a value above 1 MiB). */
static void check_too_large_for_getprops(LPMAPIPROP obj, ULONG tag) {
  SizedSPropTagArray(1, tags) = {1, {tag}};
  ULONG n = 0;
  LPSPropValue v = NULL;
  CHECK_HR(obj->lpVtbl->GetProps(obj, (LPSPropTagArray)&tags, 0, &n, &v), MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(n, 1);
  CHECK_EQ(v[0].ulPropTag, CHANGE_PROP_TYPE(tag, PT_ERROR));
  CHECK_HR(v[0].Value.err, MAPI_E_NOT_ENOUGH_MEMORY);
  MAPIFreeBuffer(v);
}

/* 100 MiB through a stream. Writing and committing must hold the value once (the stream's
 * buffer, moved into the working copy by Commit): the peak grows by less than 1.3× the value.
 * SaveChanges must never hold it twice either: the save's change set lends the working copy's
 * value, SQLite writes it through an incremental BLOB handle and PostgreSQL with COPY, both in
 * pieces, and the committed view takes the working copy's value without a copy: the peak stays
 * under 2× (it was 3.05× on SQLite and 5.0× on PostgreSQL while the save copied it). Reopening
 * leaves the value in the store (DESIGN.md §7: open costs what the small properties cost) and a
 * stream reads it a window at a time: reopening and reading it all grows the heap by less than a
 * tenth of the value, sampled after the open and after every read (open loaded it whole before:
 * the process peak grew 3.05× the value). */
static void test_hundred_mib(void) {
  struct msg_fixture f;
  uint64_t size = test_under_valgrind() ? 4 * MIB : 100 * MIB;
  LPMESSAGE msg = NULL;
  LPSTREAM s;
  LPSPropValue eid;
  long before, after_commit, after_save, reopen_base, after_read;
  double kib = (double)size / 1024.0;
  msg_fixture_setup(&f, "hundred.db");
  CHECK_OK(f.root->lpVtbl->CreateMessage(f.root, NULL, 0, &msg));
  msg_set_str(msg, PR_SUBJECT_A, "big");
  before = max_rss_kib();
  s = open_stream((LPMAPIPROP)msg, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, size);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  after_commit = max_rss_kib();
  /* After Commit the stream reads the working copy in place. */
  CHECK_OK(s->lpVtbl->Seek(s, li(0), STREAM_SEEK_SET, NULL));
  check_pattern(s, size);
  s->lpVtbl->Release(s);
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  after_save = max_rss_kib();
  eid = msg_get_one((LPMAPIPROP)msg, PR_ENTRYID);
  msg->lpVtbl->Release(msg);
  reopen_base = start_sampling();
  msg = msg_open(f.mdb, eid, 0);
  sample_now();
  check_too_large_for_getprops((LPMAPIPROP)msg, PR_BLOB);
  s = open_stream((LPMAPIPROP)msg, PR_BLOB, 0, 0);
  CHECK_EQ(stream_size(s), size);
  check_pattern(s, size);
  s->lpVtbl->Release(s);
  msg->lpVtbl->Release(msg);
  after_read = stop_sampling();
  printf("  %llu MiB: peak RSS growth %.2fx the value writing + committing, %.2fx after the "
         "save; heap growth %.3fx reopening and reading it all\n",
         (unsigned long long)(size / MIB), (double)(after_commit - before) / kib,
         (double)(after_save - before) / kib, (double)(after_read - reopen_base) / kib);
  if (!test_under_valgrind()) {
    CHECK((double)(after_commit - before) < 1.3 * kib);
    /* Measured when this was written: 1.04x on SQLite, 1.03x on PostgreSQL. */
    CHECK((double)(after_save - before) < 2.0 * kib);
    CHECK((double)(after_read - reopen_base) < 0.1 * kib);
  }
  MAPIFreeBuffer(eid);
  msg_fixture_teardown(&f);
}

/* Opens the embedded message of `att` (made by MAPI_CREATE when `flags` has it). */
static LPMESSAGE open_embedded(LPATTACH att, ULONG flags) {
  LPUNKNOWN unk = NULL;
  CHECK_OK(att->lpVtbl->OpenProperty(att, PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, flags, &unk));
  return (LPMESSAGE)unk;
}

/* 100 MiB in an attachment of a message, stored by the message's SaveChanges: never held twice
 * either. `embedded` 0: PR_ATTACH_DATA_BIN through a stream on the attachment; 1: PR_BLOB of
 * the attachment's embedded message through a stream on it (saved into the attachment by the
 * embedded message's SaveChanges). The saves into the parent share the child's properties with
 * the parent's children, the message's save lends them to its child change sets and learns the
 * stored children's IDs without reading their values back, and the committed and current
 * children share them (an attachment was 2.0x, 4.04x on SQLite and 5.02x on PostgreSQL). */
static void hundred_mib_child(int embedded) {
  struct msg_fixture f;
  uint64_t size = test_under_valgrind() ? 4 * MIB : 100 * MIB;
  LPMESSAGE m, e = NULL;
  LPATTACH att = NULL;
  LPSTREAM s;
  ULONG num = GARBAGE_ULONG;
  ULONG tag = embedded ? PR_BLOB : PR_ATTACH_DATA_BIN;
  long before, after_attach, after_save, reopen_base, after_read;
  double kib = (double)size / 1024.0;
  msg_fixture_setup(&f, embedded ? "hundred_embedded.db" : "hundred_attach.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  before = max_rss_kib();
  CHECK_OK(m->lpVtbl->CreateAttach(m, NULL, 0, &num, &att));
  if (embedded)
    e = open_embedded(att, MAPI_CREATE | MAPI_MODIFY);
  s = open_stream(embedded ? (LPMAPIPROP)e : (LPMAPIPROP)att, tag, STGM_READWRITE,
                  MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, size);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  if (embedded) {
    CHECK_OK(e->lpVtbl->SaveChanges(e, 0));
    e->lpVtbl->Release(e);
  }
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  after_attach = max_rss_kib();
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  after_save = max_rss_kib();
  m->lpVtbl->Release(m);
  reopen_base = start_sampling();
  m = msg_open(f.mdb, f.eid, 0);
  CHECK_OK(m->lpVtbl->OpenAttach(m, num, NULL, 0, &att));
  if (embedded)
    e = open_embedded(att, 0);
  sample_now();
  check_too_large_for_getprops(embedded ? (LPMAPIPROP)e : (LPMAPIPROP)att, tag);
  s = open_stream(embedded ? (LPMAPIPROP)e : (LPMAPIPROP)att, tag, 0, 0);
  CHECK_EQ(stream_size(s), size);
  check_pattern(s, size);
  s->lpVtbl->Release(s);
  if (embedded)
    e->lpVtbl->Release(e);
  att->lpVtbl->Release(att);
  m->lpVtbl->Release(m);
  after_read = stop_sampling();
  msg_fixture_teardown(&f);
  printf("  %llu MiB %s: peak RSS growth %.2fx the value writing + saving the attachment, "
         "%.2fx after the message's save; heap growth %.3fx reopening and reading it all\n",
         (unsigned long long)(size / MIB), embedded ? "embedded message body" : "attachment",
         (double)(after_attach - before) / kib, (double)(after_save - before) / kib,
         (double)(after_read - reopen_base) / kib);
  if (!test_under_valgrind()) {
    /* Measured when this was written: 1.01x, then 1.02x-1.04x on both engines. */
    CHECK((double)(after_attach - before) < 1.3 * kib);
    CHECK((double)(after_save - before) < 2.0 * kib);
    /* Reopening leaves the value in the store, as for a message's own property. */
    CHECK((double)(after_read - reopen_base) < 0.1 * kib);
  }
}

static void test_hundred_mib_attachment(void) { hundred_mib_child(0); }
static void test_hundred_mib_embedded(void) { hundred_mib_child(1); }

/* Writes `text` into PR_BLOB of `msg` through a stream and commits it. */
static void stream_put(LPMESSAGE msg, const char *text) {
  LPSTREAM s = open_stream((LPMAPIPROP)msg, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  ULONG n = 0;
  CHECK_OK(s->lpVtbl->Write(s, text, (ULONG)strlen(text), &n));
  CHECK_EQ(n, strlen(text));
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
}

/* Whether PR_BLOB of the stored message is exactly `text` (read through a stream). */
static int stored_blob_is(struct msg_fixture *f, const char *text) {
  LPMESSAGE m = msg_open(f->mdb, f->eid, 0);
  LPSTREAM s;
  char buf[256];
  ULONG got = 0;
  int same;
  memset(buf, 0, sizeof buf);
  if (try_open((LPMAPIPROP)m, PR_BLOB, &IID_IStream, 0, 0) == MAPI_E_NOT_FOUND) {
    m->lpVtbl->Release(m);
    return text == NULL;
  }
  s = open_stream((LPMAPIPROP)m, PR_BLOB, 0, 0);
  CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf - 1, &got));
  same = text != NULL && got == strlen(text) && memcmp(buf, text, got) == 0;
  s->lpVtbl->Release(s);
  m->lpVtbl->Release(m);
  return same;
}

static void test_conflict_loses_force_keeps(void) {
  struct msg_fixture f;
  LPMESSAGE a, b;
  msg_fixture_setup(&f, "conflict.db");
  a = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  b = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  /* Not stored before the message's SaveChanges. */
  stream_put(b, "from b");
  CHECK(stored_blob_is(&f, NULL));
  msg_set_str(a, PR_SUBJECT_A, "a wins");
  CHECK_OK(a->lpVtbl->SaveChanges(a, KEEP_OPEN_READWRITE));
  /* B's stream write is lost with its save, exactly like a property change. */
  CHECK_HR(b->lpVtbl->SaveChanges(b, KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  CHECK(stored_blob_is(&f, NULL));
  /* FORCE_SAVE keeps it. */
  CHECK_OK(b->lpVtbl->SaveChanges(b, FORCE_SAVE | KEEP_OPEN_READWRITE));
  CHECK(stored_blob_is(&f, "from b"));
  /* And A, now stale, loses its own stream write the same way. */
  stream_put(a, "from a");
  CHECK_HR(a->lpVtbl->SaveChanges(a, 0), MAPI_E_OBJECT_CHANGED);
  CHECK(stored_blob_is(&f, "from b"));
  a->lpVtbl->Release(a);
  b->lpVtbl->Release(b);
  msg_fixture_teardown(&f);
  printf("  a stream write is lost to a conflicting save and kept by FORCE_SAVE: ok\n");
}

/* Stores `size` bytes of the pattern as PR_BLOB of the fixture's message, through a stream. */
static void store_blob(struct msg_fixture *f, uint64_t size) {
  LPMESSAGE m = msg_open(f->mdb, f->eid, MAPI_MODIFY);
  LPSTREAM s = open_stream((LPMAPIPROP)m, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, size);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
}

/* A value above 1 MiB is left in the store when its message is opened. Once another client
 * replaces it, a client that opened the message before reads MAPI_E_OBJECT_CHANGED where its
 * stream would need bytes it does not have (never the other client's bytes), cannot modify it
 * either, and its SaveChanges is refused as stale (rule 2); reopening reads the new value. What
 * its stream had already read ahead (the first window) is still the version it opened. */
static void test_stale_large_value(void) {
  struct msg_fixture f;
  uint64_t size = 2 * MIB + 7;
  LPMESSAGE a, b;
  LPSTREAM s, w;
  unsigned char buf[4096];
  ULONG n = GARBAGE_ULONG;
  ULONG i;
  msg_fixture_setup(&f, "stale_large.db");
  store_blob(&f, size);
  a = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  b = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  s = open_stream((LPMAPIPROP)a, PR_BLOB, STGM_READ, 0);
  w = open_stream((LPMAPIPROP)b, PR_BLOB, STGM_READWRITE, MAPI_MODIFY);
  CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf, &n));
  CHECK_EQ(n, sizeof buf);
  for (i = 0; i < n; i++) CHECK(buf[i] == pattern(i));
  /* Another client replaces the value: 3 MiB of the pattern. */
  store_blob(&f, 3 * MIB);
  /* Within the window A read ahead: still A's version. */
  CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf, &n));
  CHECK_EQ(n, sizeof buf);
  for (i = 0; i < n; i++) CHECK(buf[i] == pattern(sizeof buf + i));
  /* Past it: the bytes of A's version are gone. */
  CHECK_OK(s->lpVtbl->Seek(s, li(3 * MIB / 2), STREAM_SEEK_SET, NULL));
  n = GARBAGE_ULONG;
  CHECK_HR(s->lpVtbl->Read(s, buf, sizeof buf, &n), MAPI_E_OBJECT_CHANGED);
  CHECK_EQ(n, 0);
  {
    LPMAPIERROR err = NULL;
    CHECK_OK(MsgStoreGetLastError(MAPI_E_OBJECT_CHANGED, 0, &err));
    CHECK(err != NULL && strstr(err->lpszError, "reopen") != NULL);
    MAPIFreeBuffer(err);
  }
  /* Its size is still the version's; writing needs the bytes, which are gone. */
  CHECK_EQ(stream_size(s), size);
  CHECK_HR(w->lpVtbl->Write(w, "x", 1, &n), MAPI_E_OBJECT_CHANGED);
  s->lpVtbl->Release(s);
  w->lpVtbl->Release(w);
  /* A's view is stale: its save is refused like any other (rule 2). */
  msg_set_str(a, PR_SUBJECT_A, "stale");
  CHECK_HR(a->lpVtbl->SaveChanges(a, 0), MAPI_E_OBJECT_CHANGED);
  a->lpVtbl->Release(a);
  b->lpVtbl->Release(b);
  /* Reopened: the new value. */
  a = msg_open(f.mdb, f.eid, 0);
  s = open_stream((LPMAPIPROP)a, PR_BLOB, STGM_READ, 0);
  CHECK_EQ(stream_size(s), 3 * MIB);
  check_pattern(s, 3 * MIB);
  s->lpVtbl->Release(s);
  a->lpVtbl->Release(a);
  msg_fixture_teardown(&f);
  printf("  a large value replaced by another client reads as MAPI_E_OBJECT_CHANGED: ok\n");
}

static void test_strings_and_reopen(void) {
  struct msg_fixture f;
  LPMESSAGE m;
  LPSTREAM s;
  char buf[64];
  ULONG n = 0;
  static const WCHAR body[] = {'h', 'i', 0x00E9, 0};
  msg_fixture_setup(&f, "strings.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  /* PR_SUBJECT as PT_STRING8, read in place; STREAM_APPEND starts at the end. */
  s = open_stream((LPMAPIPROP)m, PR_SUBJECT_A, STGM_READWRITE, MAPI_MODIFY | STREAM_APPEND);
  CHECK_OK(s->lpVtbl->Write(s, "+more", 5, &n));
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  /* PR_BODY_W as UTF-16LE; the terminator written by the client ends the string. */
  s = open_stream((LPMAPIPROP)m, PR_BODY_W, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY);
  CHECK_OK(s->lpVtbl->Write(s, body, sizeof body, &n));
  CHECK_EQ(n, sizeof body);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);

  m = msg_open(f.mdb, f.eid, 0);
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, buf, sizeof buf));
  CHECK_STR(buf, "base+more");
  {
    LPSPropValue v = msg_get_one((LPMAPIPROP)m, PR_BODY_W);
    CHECK_EQ(v->ulPropTag, PR_BODY_W);
    CHECK_WSTR(v->Value.lpszW, body);
    MAPIFreeBuffer(v);
  }
  s = open_stream((LPMAPIPROP)m, PR_BODY_W, 0, 0);
  CHECK_EQ(stream_size(s), 6);
  s->lpVtbl->Release(s);
  /* The same property as PT_STRING8. */
  s = open_stream((LPMAPIPROP)m, PR_BODY_A, 0, 0);
  memset(buf, 0, sizeof buf);
  CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf, &n));
  CHECK_EQ(n, 4);
  CHECK(memcmp(buf, "hi\xC3\xA9", 4) == 0);
  s->lpVtbl->Release(s);
  m->lpVtbl->Release(m);
  msg_fixture_teardown(&f);
  printf("  PT_STRING8 and PT_UNICODE streams, STREAM_APPEND, reopen: ok\n");
}

/* The code point at index i of the mixed text: ASCII, and two-, three- and four-byte UTF-8
 * characters (the last a UTF-16 surrogate pair), none of them NUL or a surrogate. */
static uint32_t mixed_char(uint32_t i) {
  switch ((i * 7 + i / 13) % 5) {
  case 0:
  case 1: return 0x20 + i % 95;
  case 2: return 0xA0 + i % 0x760;
  case 3: return 0x800 + (i * 31) % 0xD000;
  default: return 0x10000 + (i * 131) % 0xFFFFF;
  }
}

/* Fills `out` (`cap` bytes) with the UTF-16LE bytes of the mixed text, whole characters only;
 * returns the bytes used and sets *utf8 to the text's UTF-8 length (how the store holds it). */
static size_t mixed_utf16(unsigned char *out, size_t cap, size_t *utf8) {
  size_t n = 0;
  uint32_t i;
  *utf8 = 0;
  for (i = 0;; i++) {
    uint32_t c = mixed_char(i);
    uint16_t units[2];
    int count = 1, k;
    if (c >= 0x10000) {
      units[0] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
      units[1] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
      count = 2;
    } else {
      units[0] = (uint16_t)c;
    }
    if (n + 2 * (size_t)count > cap) break;
    for (k = 0; k < count; k++) {
      out[n++] = (unsigned char)(units[k] & 0xFF);
      out[n++] = (unsigned char)(units[k] >> 8);
    }
    *utf8 += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/* A PT_UNICODE value is held as UTF-8 and read through a stream as UTF-16LE: a stream that was
 * not written decodes the message's value as it is read rather than copying it (core/stream.rs).
 * ~3 MiB of mixed text written through a stream, saved, reopened and read back in odd-sized
 * chunks (splitting characters and surrogate pairs) reads the bytes written; opening the stream
 * and reading it all grows the heap by less than a tenth of the value (it copied it as UTF-16
 * before: 1.09x the UTF-8 size of this text, its UTF-16 size). */
static void test_unicode_in_place(void) {
  static const ULONG chunks[] = {1, 3, 4093, 65537, 7, 262147, 2, 5};
  struct msg_fixture f;
  size_t cap = test_under_valgrind() ? 256 * 1024 : 3 * MIB;
  size_t utf8 = 0, size, done = 0, k = 0, at;
  unsigned char *want = malloc(cap);
  unsigned char *got = malloc(262147);
  LPMESSAGE m;
  LPSTREAM s;
  ULONG n = 0;
  ULARGE_INTEGER end;
  long base, peak;
  CHECK(want != NULL && got != NULL);
  size = mixed_utf16(want, cap, &utf8);
  msg_fixture_setup(&f, "unicode.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  s = open_stream((LPMAPIPROP)m, PR_BODY_W, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY);
  for (at = 0; at < size; at += n) {
    ULONG len = (ULONG)(size - at < 65531 ? size - at : 65531);
    CHECK_OK(s->lpVtbl->Write(s, want + at, len, &n));
    CHECK_EQ(n, len);
  }
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);

  m = msg_open(f.mdb, f.eid, 0);
  memset(got, 0, 262147); /* its pages are resident before the sampling starts */
  base = start_sampling();
  s = open_stream((LPMAPIPROP)m, PR_BODY_W, 0, 0);
  sample_now();
  CHECK_EQ(stream_size(s), size);
  CHECK_OK(s->lpVtbl->Seek(s, li(0), STREAM_SEEK_END, &end));
  CHECK_EQ(end.QuadPart, size);
  CHECK_OK(s->lpVtbl->Seek(s, li(0), STREAM_SEEK_SET, NULL));
  for (;;) {
    ULONG want_n = chunks[k++ % (sizeof chunks / sizeof chunks[0])];
    CHECK_OK(s->lpVtbl->Read(s, got, want_n, &n));
    sample_now();
    if (n == 0) break;
    CHECK(n <= want_n && done + n <= size);
    if (memcmp(got, want + done, n) != 0) {
      fprintf(stderr, "a read of %lu bytes at %llu differs\n", (unsigned long)n,
              (unsigned long long)done);
      CHECK(!"the stream reads the UTF-16LE bytes written");
    }
    done += n;
  }
  CHECK_EQ(done, size);
  /* Back to an odd position in the middle: the bytes there. */
  CHECK_OK(s->lpVtbl->Seek(s, li((long long)(size / 2) | 1), STREAM_SEEK_SET, NULL));
  CHECK_OK(s->lpVtbl->Read(s, got, 9, &n));
  CHECK_EQ(n, 9);
  CHECK(memcmp(got, want + ((size / 2) | 1), 9) == 0);
  peak = stop_sampling();
  s->lpVtbl->Release(s);
  m->lpVtbl->Release(m);
  printf("  PT_UNICODE %llu bytes (UTF-16), %llu bytes as UTF-8: heap growth %.3fx the UTF-8 "
         "value opening a stream and reading it all\n",
         (unsigned long long)size, (unsigned long long)utf8,
         (double)(peak - base) * 1024.0 / (double)utf8);
  if (!test_under_valgrind()) CHECK((double)(peak - base) * 1024.0 < 0.1 * (double)utf8);
  free(want);
  free(got);
  msg_fixture_teardown(&f);
}

static void test_attachment_data_bin(void) {
  struct msg_fixture f;
  LPMESSAGE m;
  LPATTACH att = NULL;
  LPSTREAM s;
  ULONG num = GARBAGE_ULONG;
  uint64_t size = 300 * 1024;
  msg_fixture_setup(&f, "attach.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  CHECK_OK(m->lpVtbl->CreateAttach(m, NULL, 0, &num, &att));
  s = open_stream((LPMAPIPROP)att, PR_ATTACH_DATA_BIN, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, size);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);

  m = msg_open(f.mdb, f.eid, 0);
  CHECK_OK(m->lpVtbl->OpenAttach(m, num, NULL, 0, &att));
  s = open_stream((LPMAPIPROP)att, PR_ATTACH_DATA_BIN, 0, 0);
  CHECK_EQ(stream_size(s), size);
  check_pattern(s, size);
  /* Read-only: the attachment was opened without MAPI_MODIFY. */
  CHECK_HR(try_open((LPMAPIPROP)att, PR_ATTACH_DATA_BIN, &IID_IStream, 0, MAPI_MODIFY),
           MAPI_E_NO_ACCESS);
  s->lpVtbl->Release(s);
  att->lpVtbl->Release(att);
  m->lpVtbl->Release(m);
  msg_fixture_teardown(&f);
  printf("  PR_ATTACH_DATA_BIN through a stream, stored by the message's save: ok\n");
}

static void test_folder(void) {
  struct msg_fixture f;
  LPSTREAM s;
  char p[4096];
  msg_fixture_setup(&f, "folder.db");
  s = open_stream((LPMAPIPROP)f.root, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(s, 5000);
  CHECK_OK(s->lpVtbl->Commit(s, 0));
  s->lpVtbl->Release(s);
  msg_fixture_teardown(&f);
  /* Folders are not transacted: Commit stored it. */
  store_location(p, sizeof p, "folder.db");
  f.mdb = store_open(p, 0);
  f.root = store_root(f.mdb);
  s = open_stream((LPMAPIPROP)f.root, PR_BLOB, 0, 0);
  CHECK_EQ(stream_size(s), 5000);
  check_pattern(s, 5000);
  s->lpVtbl->Release(s);
  f.root->lpVtbl->Release(f.root);
  f.mdb->lpVtbl->Release(f.mdb);
  printf("  a folder's stream stores at Commit: ok\n");
}

static void test_stream_methods(void) {
  struct msg_fixture f;
  LPMESSAGE m;
  LPSTREAM s, twin = NULL, other;
  ULARGE_INTEGER pos, rd, wr;
  char buf[32];
  ULONG n = 0;
  msg_fixture_setup(&f, "methods.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  s = open_stream((LPMAPIPROP)m, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  CHECK_OK(s->lpVtbl->Write(s, "0123456789", 10, &n));
  /* Seek from each origin. */
  CHECK_OK(s->lpVtbl->Seek(s, li(2), STREAM_SEEK_SET, &pos));
  CHECK_EQ(pos.QuadPart, 2);
  CHECK_OK(s->lpVtbl->Seek(s, li(3), STREAM_SEEK_CUR, &pos));
  CHECK_EQ(pos.QuadPart, 5);
  CHECK_OK(s->lpVtbl->Seek(s, li(-1), STREAM_SEEK_END, &pos));
  CHECK_EQ(pos.QuadPart, 9);
  CHECK_OK(s->lpVtbl->Read(s, buf, sizeof buf, &n));
  CHECK_EQ(n, 1);
  CHECK(buf[0] == '9');
  /* A gap past the end reads as zeros; SetSize truncates and extends. */
  CHECK_OK(s->lpVtbl->Seek(s, li(12), STREAM_SEEK_SET, NULL));
  CHECK_OK(s->lpVtbl->Write(s, "x", 1, NULL));
  CHECK_EQ(stream_size(s), 13);
  CHECK_OK(s->lpVtbl->SetSize(s, uli(4)));
  CHECK_EQ(stream_size(s), 4);
  /* Clone: same bytes, own position. */
  CHECK_OK(s->lpVtbl->Clone(s, &twin));
  CHECK_OK(twin->lpVtbl->Seek(twin, li(0), STREAM_SEEK_SET, NULL));
  CHECK_OK(twin->lpVtbl->Read(twin, buf, sizeof buf, &n));
  CHECK_EQ(n, 4);
  CHECK(memcmp(buf, "0123", 4) == 0);
  /* CopyTo another stream (PR_BODY_A of the same message). */
  other = open_stream((LPMAPIPROP)m, PR_BODY_A, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  CHECK_OK(s->lpVtbl->Seek(s, li(1), STREAM_SEEK_SET, NULL));
  CHECK_OK(s->lpVtbl->CopyTo(s, other, uli(100), &rd, &wr));
  CHECK_EQ(rd.QuadPart, 3);
  CHECK_EQ(wr.QuadPart, 3);
  CHECK_OK(other->lpVtbl->Commit(other, 0));
  other->lpVtbl->Release(other);
  CHECK_OK(msg_get_str(m, PR_BODY_A, buf, sizeof buf));
  CHECK_STR(buf, "123");
  /* Commit, then Revert drops what came after. */
  CHECK_OK(s->lpVtbl->Commit(s, STGC_OVERWRITE));
  CHECK_OK(s->lpVtbl->Write(s, "zzzz", 4, NULL));
  CHECK_EQ(stream_size(twin), 8);
  CHECK_OK(s->lpVtbl->Revert(s));
  CHECK_EQ(stream_size(s), 4);
  CHECK_HR(s->lpVtbl->LockRegion(s, uli(0), uli(1), 1), MAPI_E_NO_SUPPORT);
  CHECK_HR(s->lpVtbl->UnlockRegion(s, uli(0), uli(1), 1), MAPI_E_NO_SUPPORT);
  {
    LPUNKNOWN unk = NULL;
    CHECK_OK(s->lpVtbl->QueryInterface(s, &IID_IUnknown, (void **)&unk));
    CHECK(unk == (LPUNKNOWN)s);
    unk->lpVtbl->Release(unk);
    CHECK_HR(s->lpVtbl->QueryInterface(s, &IID_IMessage, (void **)&unk), E_NOINTERFACE);
  }
  twin->lpVtbl->Release(twin);
  s->lpVtbl->Release(s);
  CHECK_OK(m->lpVtbl->SaveChanges(m, 0));
  m->lpVtbl->Release(m);
  CHECK(stored_blob_is(&f, "0123"));
  msg_fixture_teardown(&f);
  printf("  Seek, SetSize, Clone, CopyTo, Commit, Revert, LockRegion: ok\n");
}

/* docs/BAD_INPUT.md rows 147-160. */
static void test_bad_input(void) {
  struct msg_fixture f;
  LPMESSAGE m, ro;
  LPSTREAM s, r, dead, out = (LPSTREAM)GARBAGE_PTR;
  ULARGE_INTEGER pos;
  ULONG n = GARBAGE_ULONG;
  char buf[8];
  msg_fixture_setup(&f, "bad.db");
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  ro = msg_open(f.mdb, f.eid, 0);
  /* 147: missing property without MAPI_CREATE. */
  CHECK_HR(try_open((LPMAPIPROP)m, PR_BLOB, &IID_IStream, 0, MAPI_MODIFY), MAPI_E_NOT_FOUND);
  /* 148: a type that does not stream; 149: another interface on a stream type. */
  CHECK_HR(try_open((LPMAPIPROP)m, PR_DATA_LONG, &IID_IStream, 0, MAPI_CREATE | MAPI_MODIFY),
           MAPI_E_NO_SUPPORT);
  CHECK_HR(try_open((LPMAPIPROP)m, PR_BLOB, &IID_IMAPITable, 0, MAPI_CREATE | MAPI_MODIFY),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  /* 150: unknown STGM bits, both access bits; write access asked without MAPI_MODIFY. */
  CHECK_HR(try_open((LPMAPIPROP)m, PR_SUBJECT_A, &IID_IStream, 0x00100000, 0),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(try_open((LPMAPIPROP)m, PR_SUBJECT_A, &IID_IStream, 3, MAPI_MODIFY),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(try_open((LPMAPIPROP)m, PR_SUBJECT_A, &IID_IStream, STGM_WRITE, 0), MAPI_E_NO_ACCESS);
  /* 151: MAPI_MODIFY on a read-only message; a computed property. */
  CHECK_HR(try_open((LPMAPIPROP)ro, PR_SUBJECT_A, &IID_IStream, 0, MAPI_MODIFY),
           MAPI_E_NO_ACCESS);
  CHECK_HR(try_open((LPMAPIPROP)m, PR_ENTRYID, &IID_IStream, 0, MAPI_MODIFY), MAPI_E_NO_ACCESS);
  /* 152: writes on a read-only stream. */
  r = open_stream((LPMAPIPROP)m, PR_SUBJECT_A, 0, 0);
  CHECK_HR(r->lpVtbl->Write(r, "x", 1, &n), STG_E_ACCESSDENIED);
  CHECK_EQ(n, 0);
  CHECK_HR(r->lpVtbl->SetSize(r, uli(0)), STG_E_ACCESSDENIED);
  /* 153: seeks before the start, past 2^63, from an unknown origin: position unchanged. */
  CHECK_OK(r->lpVtbl->Seek(r, li(2), STREAM_SEEK_SET, NULL));
  CHECK_HR(r->lpVtbl->Seek(r, li(-1), STREAM_SEEK_SET, &pos), STG_E_INVALIDFUNCTION);
  CHECK_HR(r->lpVtbl->Seek(r, li(-3), STREAM_SEEK_CUR, &pos), STG_E_INVALIDFUNCTION);
  CHECK_OK(r->lpVtbl->Seek(r, li(0x7FFFFFFFFFFFFFFFLL), STREAM_SEEK_SET, NULL));
  CHECK_HR(r->lpVtbl->Seek(r, li(1), STREAM_SEEK_CUR, &pos), STG_E_INVALIDFUNCTION);
  CHECK_HR(r->lpVtbl->Seek(r, li(0), 3, &pos), STG_E_INVALIDFUNCTION);
  CHECK_OK(r->lpVtbl->Seek(r, li(0), STREAM_SEEK_CUR, &pos));
  CHECK_EQ(pos.QuadPart, 0x7FFFFFFFFFFFFFFFLL);
  CHECK_OK(r->lpVtbl->Read(r, buf, sizeof buf, &n));
  CHECK_EQ(n, 0);
  /* 154: NULL pointers. */
  CHECK_HR(r->lpVtbl->Read(r, NULL, 1, &n), STG_E_INVALIDPOINTER);
  CHECK_HR(r->lpVtbl->Write(r, NULL, 1, &n), STG_E_INVALIDPOINTER);
  CHECK_HR(r->lpVtbl->Stat(r, NULL, 0), STG_E_INVALIDPOINTER);
  CHECK_HR(r->lpVtbl->Clone(r, NULL), STG_E_INVALIDPOINTER);
  CHECK_HR(r->lpVtbl->CopyTo(r, NULL, uli(1), NULL, NULL), STG_E_INVALIDPOINTER);
  CHECK_HR(r->lpVtbl->Read(NULL, buf, 1, &n), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(r->lpVtbl->AddRef(NULL), 0);
  /* 155: unknown Commit and Stat flags. */
  CHECK_HR(r->lpVtbl->Commit(r, 0x100), STG_E_INVALIDFLAG);
  {
    STATSTG st;
    CHECK_HR(r->lpVtbl->Stat(r, &st, 0x10), STG_E_INVALIDFLAG);
    CHECK(st.pwcsName == NULL);
  }
  r->lpVtbl->Release(r);
  /* 156: writing past the store's largest value. */
  s = open_stream((LPMAPIPROP)m, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  CHECK_HR(s->lpVtbl->SetSize(s, uli(1ull << 40)), STG_E_MEDIUMFULL);
  CHECK_OK(s->lpVtbl->Seek(s, li(0x7FFFFFFFFFFFFFFFLL), STREAM_SEEK_SET, NULL));
  CHECK_HR(s->lpVtbl->Write(s, "x", 1, &n), STG_E_MEDIUMFULL);
  /* 157: a PT_UNICODE stream of odd length cannot commit. */
  {
    LPSTREAM w = open_stream((LPMAPIPROP)m, PR_BODY_W, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
    CHECK_OK(w->lpVtbl->Write(w, "abc", 3, &n));
    CHECK_HR(w->lpVtbl->Commit(w, 0), STG_E_INVALIDPARAMETER);
    w->lpVtbl->Release(w);
  }
  /* 158: a stream used after its message was released. */
  dead = open_stream((LPMAPIPROP)m, PR_SUBJECT_A, STGM_READWRITE, MAPI_MODIFY);
  s->lpVtbl->Release(s);
  m->lpVtbl->Release(m);
  CHECK_HR(dead->lpVtbl->Read(dead, buf, 1, &n), MAPI_E_INVALID_OBJECT);
  CHECK_HR(dead->lpVtbl->Write(dead, "x", 1, &n), MAPI_E_INVALID_OBJECT);
  CHECK_HR(dead->lpVtbl->Commit(dead, 0), MAPI_E_INVALID_OBJECT);
  CHECK_HR(dead->lpVtbl->Clone(dead, &out), MAPI_E_INVALID_OBJECT);
  CHECK(out == NULL);
  dead->lpVtbl->Release(dead);
  /* 159: objects without streams (the store object). */
  CHECK_HR(try_open((LPMAPIPROP)f.mdb, PR_BLOB, &IID_IStream, 0, 0), MAPI_E_NO_SUPPORT);
  ro->lpVtbl->Release(ro);
  msg_fixture_teardown(&f);
  printf("  bad input: ok\n");
}

/* OpenStreamOnFile (reference §12.1): a unique file made in a directory, a property copied into
 * it with CopyTo, read back by name, deleted on release; bad input (rows 147, 150, 152, 154). */
static void test_open_stream_on_file(void) {
  struct msg_fixture f;
  char dir[4096], path[4096 + 32];
  LPSTREAM file = (LPSTREAM)GARBAGE_PTR, src, back, bad = (LPSTREAM)GARBAGE_PTR;
  LPMESSAGE m;
  ULARGE_INTEGER rd, wr;
  ULONG n = 0;
  size_t len;
  msg_fixture_setup(&f, "file.db");
  test_path(dir, sizeof dir, "");
  len = strlen(dir);
  if (len > 0 && dir[len - 1] == '/') dir[len - 1] = 0;
  CHECK_OK(OpenStreamOnFile(MAPIAllocateBuffer, MAPIFreeBuffer,
                            SOF_UNIQUEFILENAME | STGM_READWRITE | STGM_CREATE, dir, "att", &file));
  CHECK(file != NULL && file != GARBAGE_PTR);
  /* A message's property saved to the file through CopyTo. */
  m = msg_open(f.mdb, f.eid, MAPI_MODIFY);
  src = open_stream((LPMAPIPROP)m, PR_BLOB, STGM_READWRITE, MAPI_CREATE | MAPI_MODIFY);
  write_pattern(src, 200000);
  CHECK_OK(src->lpVtbl->Seek(src, li(0), STREAM_SEEK_SET, NULL));
  CHECK_OK(src->lpVtbl->CopyTo(src, file, uli(~0ull), &rd, &wr));
  CHECK_EQ(rd.QuadPart, 200000);
  CHECK_EQ(wr.QuadPart, 200000);
  CHECK_EQ(stream_size(file), 200000);
  CHECK_OK(file->lpVtbl->Commit(file, 0));
  src->lpVtbl->Release(src);
  m->lpVtbl->Release(m);
  file->lpVtbl->Release(file);
  /* The file is "att" + four hex digits + ".TMP" in the directory: find it and read it back. */
  {
    unsigned i;
    int found = 0;
    for (i = 0; i <= 0xFFFF && !found; i++) {
      snprintf(path, sizeof path, "%s/att%04X.TMP", dir, i);
      found = access(path, F_OK) == 0;
    }
    CHECK(found);
  }
  CHECK_OK(OpenStreamOnFile(NULL, NULL, STGM_READ, path, NULL, &back));
  check_pattern(back, 200000);
  CHECK_HR(back->lpVtbl->Write(back, "x", 1, &n), STG_E_ACCESSDENIED);
  back->lpVtbl->Release(back);
  /* STGM_DELETEONRELEASE: gone with the last reference. */
  CHECK_OK(OpenStreamOnFile(NULL, NULL, STGM_READWRITE | STGM_DELETEONRELEASE, path, NULL, &back));
  back->lpVtbl->Release(back);
  CHECK(access(path, F_OK) != 0);
  /* Bad input. */
  CHECK_HR(OpenStreamOnFile(NULL, NULL, STGM_READ, path, NULL, &bad), MAPI_E_NOT_FOUND);
  CHECK(bad == NULL);
  bad = (LPSTREAM)GARBAGE_PTR;
  CHECK_HR(OpenStreamOnFile(NULL, NULL, 0x00100000, path, NULL, &bad), MAPI_E_UNKNOWN_FLAGS);
  CHECK(bad == NULL);
  CHECK_HR(OpenStreamOnFile(NULL, NULL, STGM_READ, NULL, NULL, &bad), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(OpenStreamOnFile(NULL, NULL, STGM_CREATE | STGM_READWRITE, path, NULL, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK(access(path, F_OK) != 0);
  msg_fixture_teardown(&f);
  printf("  OpenStreamOnFile: ok\n");
}

static const struct test_section SECTIONS[] = {
    {"round_trips", test_round_trips},
    {"hundred_mib", test_hundred_mib},
    {"hundred_mib_attachment", test_hundred_mib_attachment},
    {"hundred_mib_embedded", test_hundred_mib_embedded},
    {"conflict_loses_force_keeps", test_conflict_loses_force_keeps},
    {"stale_large_value", test_stale_large_value},
    {"strings_and_reopen", test_strings_and_reopen},
    {"unicode_in_place", test_unicode_in_place},
    {"attachment_data_bin", test_attachment_data_bin},
    {"folder", test_folder},
    {"stream_methods", test_stream_methods},
    {"bad_input", test_bad_input},
    {"open_stream_on_file", test_open_stream_on_file},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
