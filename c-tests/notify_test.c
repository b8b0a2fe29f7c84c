/* Notifications through the vtables (issue 15 item 4): IMsgStore::Advise / Unadvise with an
 * IMAPIAdviseSink written here. A client learns of a save by another thread, another handle,
 * another process (and on PostgreSQL another connection standing for another host) within a
 * bounded time, before its own SaveChanges, which still returns MAPI_E_OBJECT_CHANGED unless it
 * reopens; created and deleted events; per-entry connections; Unadvise stops delivery; a sink
 * that blocks does not stop delivery to another; a sink that fails or calls back into the store
 * (Unadvise from inside OnNotify included); table notifications; bad input.
 *
 *   notify_test              runs every section
 *   notify_test --list       prints the section names, one per line
 *   notify_test NAME...      runs the named sections only
 */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <time.h>

#include "store_util.h"
#include "proc_util.h"

static const char *g_self;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* The bound on a notification's delay (valgrind runs everything ~50x slower). */
static double bound_ms(void) { return test_under_valgrind() ? 30000.0 : 2000.0; }

/* ---- A test sink ------------------------------------------------------------------------ */

#define MAX_SEEN 256

struct seen {
  ULONG event;
  ULONG obj_type;
  ULONG cb;
  BYTE eid[64];
  ULONG table_event;
  double at;
  /* fnevNewMail */
  ULONG cb_parent;
  BYTE parent[64];
  char msg_class[64];
  ULONG msg_flags;
};

struct sink {
  IMAPIAdviseSink iface;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int refs;
  int calls;
  int nseen;
  struct seen seen[MAX_SEEN];
  /* Behaviour. */
  int block;          /* OnNotify waits while set */
  int blocked;        /* OnNotify is waiting */
  ULONG fail_with;    /* OnNotify returns this */
  LPMDB reenter;      /* OnNotify calls GetProps on it, and Unadvise(unadvise_conn) if set */
  ULONG_PTR unadvise_conn;
  HRESULT unadvise_hr;
};

static struct sink *sink_of(IMAPIAdviseSink *p) { return (struct sink *)p; }

static HRESULT sink_qi(IMAPIAdviseSink *This, const IID *riid, void **ppv) {
  (void)riid;
  (void)This;
  *ppv = NULL;
  return MAPI_E_INTERFACE_NOT_SUPPORTED;
}

static ULONG sink_add_ref(IMAPIAdviseSink *This) {
  struct sink *s = sink_of(This);
  ULONG r;
  pthread_mutex_lock(&s->lock);
  r = (ULONG)++s->refs;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
  return r;
}

static ULONG sink_release(IMAPIAdviseSink *This) {
  struct sink *s = sink_of(This);
  ULONG r;
  pthread_mutex_lock(&s->lock);
  r = (ULONG)--s->refs;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
  return r;
}

static ULONG sink_on_notify(IMAPIAdviseSink *This, ULONG n, LPNOTIFICATION notes) {
  struct sink *s = sink_of(This);
  double at = now_ms();
  ULONG i;
  LPMDB reenter;
  ULONG_PTR conn;
  pthread_mutex_lock(&s->lock);
  s->calls++;
  for (i = 0; i < n && s->nseen < MAX_SEEN; i++) {
    struct seen *e = &s->seen[s->nseen++];
    memset(e, 0, sizeof *e);
    e->event = notes[i].ulEventType;
    e->at = at;
    if (notes[i].ulEventType == fnevTableModified) {
      e->table_event = notes[i].info.tab.ulTableEvent;
      CHECK_EQ(notes[i].info.tab.row.cValues, 0);
      CHECK(notes[i].info.tab.row.lpProps == NULL);
      CHECK_EQ(notes[i].info.tab.propPrior.ulPropTag, PR_NULL);
    } else if (notes[i].ulEventType == fnevNewMail) {
      const NEWMAIL_NOTIFICATION *m = &notes[i].info.newmail;
      e->obj_type = MAPI_MESSAGE;
      CHECK(m->cbEntryID > 0 && m->cbEntryID <= sizeof e->eid);
      e->cb = m->cbEntryID;
      memcpy(e->eid, m->lpEntryID, m->cbEntryID);
      CHECK(m->cbParentID > 0 && m->cbParentID <= sizeof e->parent);
      e->cb_parent = m->cbParentID;
      memcpy(e->parent, m->lpParentID, m->cbParentID);
      CHECK_EQ(m->ulFlags, 0); /* 8-bit class */
      CHECK(m->lpszMessageClass != NULL);
      snprintf(e->msg_class, sizeof e->msg_class, "%s", m->lpszMessageClass);
      e->msg_flags = m->ulMessageFlags;
    } else {
      const OBJECT_NOTIFICATION *o = &notes[i].info.obj;
      e->obj_type = o->ulObjType;
      e->cb = o->cbEntryID;
      CHECK(o->cbEntryID > 0 && o->cbEntryID <= sizeof e->eid);
      memcpy(e->eid, o->lpEntryID, o->cbEntryID);
      CHECK(o->lpPropTagArray == NULL);
      if (o->ulObjType != MAPI_STORE) CHECK(o->cbParentID > 0 && o->lpParentID != NULL);
    }
  }
  pthread_cond_broadcast(&s->cond);
  while (s->block) {
    s->blocked = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_cond_wait(&s->cond, &s->lock);
  }
  s->blocked = 0;
  reenter = s->reenter;
  conn = s->unadvise_conn;
  pthread_mutex_unlock(&s->lock);
  if (reenter != NULL) {
    /* Back into the store from inside OnNotify: a read, then (if asked) Unadvise itself. */
    LPSPropValue v = msg_get_one((LPMAPIPROP)reenter, PR_STORE_SUPPORT_MASK);
    CHECK_EQ(PROP_TYPE(v->ulPropTag), PT_LONG);
    MAPIFreeBuffer(v);
    if (conn != 0) {
      HRESULT hr = reenter->lpVtbl->Unadvise(reenter, conn);
      pthread_mutex_lock(&s->lock);
      s->unadvise_hr = hr;
      s->unadvise_conn = 0;
      pthread_cond_broadcast(&s->cond);
      pthread_mutex_unlock(&s->lock);
    }
  }
  return s->fail_with;
}

static const IMAPIAdviseSinkVtbl SINK_VTBL = {sink_qi, sink_add_ref, sink_release, sink_on_notify};

static void sink_init(struct sink *s) {
  memset(s, 0, sizeof *s);
  s->iface.lpVtbl = &SINK_VTBL;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->refs = 1;
}

/* Waits (bounded) until the store has released every reference it took. */
static void sink_wait_released(struct sink *s) {
  double until = now_ms() + bound_ms();
  pthread_mutex_lock(&s->lock);
  while (s->refs != 1 && now_ms() < until) {
    pthread_mutex_unlock(&s->lock);
    sleep_ms(5);
    pthread_mutex_lock(&s->lock);
  }
  CHECK_EQ(s->refs, 1);
  pthread_mutex_unlock(&s->lock);
}

static void sink_destroy(struct sink *s) {
  sink_wait_released(s);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->cond);
}

/* The index of the first event seen at or after `from` with `event` naming `eid` (NULL: any
 * object), waiting up to the bound; -1 if none came. */
static int sink_wait_for(struct sink *s, int from, ULONG event, const SPropValue *eid) {
  double until = now_ms() + bound_ms();
  int found = -1, i;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    for (i = from; i < s->nseen && found < 0; i++) {
      const struct seen *e = &s->seen[i];
      if (e->event != event) continue;
      if (eid != NULL &&
          (e->cb != eid->Value.bin.cb || memcmp(e->eid, eid->Value.bin.lpb, e->cb) != 0))
        continue;
      found = i;
    }
    if (found >= 0 || now_ms() >= until) break;
    pthread_mutex_unlock(&s->lock);
    sleep_ms(2);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return found;
}

static int sink_count(struct sink *s) {
  int n;
  pthread_mutex_lock(&s->lock);
  n = s->nseen;
  pthread_mutex_unlock(&s->lock);
  return n;
}

static double sink_time(struct sink *s, int i) {
  double at;
  pthread_mutex_lock(&s->lock);
  at = s->seen[i].at;
  pthread_mutex_unlock(&s->lock);
  return at;
}

static void sink_set_block(struct sink *s, int block) {
  pthread_mutex_lock(&s->lock);
  s->block = block;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

/* ---- Helpers ---------------------------------------------------------------------------- */

static LPMDB fresh_store(const char *name, char *loc, size_t size) {
  store_location(loc, size, name);
  if (!on_postgres()) store_remove_files(loc);
  return store_open(loc, MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC);
}

static ULONG_PTR advise(LPMDB mdb, const SPropValue *eid, ULONG mask, struct sink *s) {
  ULONG_PTR conn = 0;
  CHECK_OK(mdb->lpVtbl->Advise(mdb, eid ? eid->Value.bin.cb : 0,
                               eid ? (LPENTRYID)eid->Value.bin.lpb : NULL, mask, &s->iface, &conn));
  CHECK(conn != 0);
  return conn;
}

static const ULONG ALL_OBJECT_EVENTS = fnevObjectCreated | fnevObjectModified | fnevObjectDeleted;

/* Opens the message `eid` through a store handle of its own at `loc`, changes it and saves. */
static void save_elsewhere(const char *loc, const SPropValue *eid, const char *subject) {
  LPMDB other = store_open(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  LPMESSAGE msg = msg_open(other, (LPSPropValue)eid, MAPI_MODIFY);
  msg_set_str(msg, PR_SUBJECT_A, subject);
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  msg->lpVtbl->Release(msg);
  other->lpVtbl->Release(other);
}

struct saver {
  LPMDB mdb; /* a handle to save through, or NULL to open one at loc */
  const char *loc;
  const SPropValue *eid;
  double done;
};

static void *saver_main(void *arg) {
  struct saver *w = (struct saver *)arg;
  if (w->mdb != NULL) {
    LPMESSAGE msg = msg_open(w->mdb, (LPSPropValue)w->eid, MAPI_MODIFY);
    msg_set_str(msg, PR_SUBJECT_A, "by another thread");
    CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
    msg->lpVtbl->Release(msg);
  } else {
    save_elsewhere(w->loc, w->eid, "by another handle");
  }
  w->done = now_ms();
  return NULL;
}

/* Client A has `eid` open with changes; a save by someone else (`save`) reaches A's sink within
 * the bound, and A's own SaveChanges still returns MAPI_E_OBJECT_CHANGED; reopened, it saves. */
static void stale_client_is_told(LPMDB mdb, struct sink *s, const SPropValue *eid,
                                 void (*save)(void *), void *arg, const char *who) {
  LPMESSAGE a = msg_open(mdb, (LPSPropValue)eid, MAPI_MODIFY);
  int from = sink_count(s), at;
  double start;
  msg_set_str(a, PR_SUBJECT_A, "A's change");
  start = now_ms();
  save(arg);
  at = sink_wait_for(s, from, fnevObjectModified, eid);
  CHECK(at >= 0);
  printf("notify: %s: fnevObjectModified %.1f ms after the call that saved returned\n", who,
         sink_time(s, at) - start);
  CHECK_HR(a->lpVtbl->SaveChanges(a, 0), MAPI_E_OBJECT_CHANGED);
  a->lpVtbl->Release(a);
  a = msg_open(mdb, (LPSPropValue)eid, MAPI_MODIFY);
  msg_set_str(a, PR_SUBJECT_A, "A again");
  CHECK_OK(a->lpVtbl->SaveChanges(a, 0));
  a->lpVtbl->Release(a);
}

static void save_on_thread(void *arg) {
  struct saver *w = (struct saver *)arg;
  pthread_t t;
  double start = now_ms();
  CHECK_EQ(pthread_create(&t, NULL, saver_main, w), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  (void)start;
}

/* ---- Sections --------------------------------------------------------------------------- */

/* Created, modified (another thread on this handle, another handle) and deleted events; the
 * stale client is told and still gets MAPI_E_OBJECT_CHANGED. */
static void test_same_process(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("notify-same.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  struct sink s;
  ULONG_PTR conn;
  LPSPropValue eid, mask;
  struct saver w;
  ENTRYLIST list;
  int at;
  sink_init(&s);
  mask = msg_get_one((LPMAPIPROP)mdb, PR_STORE_SUPPORT_MASK);
  CHECK(mask->Value.l & STORE_NOTIFY_OK);
  MAPIFreeBuffer(mask);
  conn = advise(mdb, NULL, ALL_OBJECT_EVENTS, &s);
  CHECK_EQ(s.refs, 2);

  eid = msg_create(root, "first");
  at = sink_wait_for(&s, 0, fnevObjectCreated, eid);
  CHECK(at >= 0);
  CHECK_EQ(s.seen[at].obj_type, MAPI_MESSAGE);

  memset(&w, 0, sizeof w);
  w.mdb = mdb;
  w.eid = eid;
  stale_client_is_told(mdb, &s, eid, save_on_thread, &w, "another thread, same handle");
  memset(&w, 0, sizeof w);
  w.loc = loc;
  w.eid = eid;
  stale_client_is_told(mdb, &s, eid, save_on_thread, &w, "another thread, another handle");

  list.cValues = 1;
  list.lpbin = &eid->Value.bin;
  CHECK_OK(root->lpVtbl->DeleteMessages(root, &list, 0, NULL, 0));
  CHECK(sink_wait_for(&s, 0, fnevObjectDeleted, eid) >= 0);

  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, conn));
  sink_wait_released(&s);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&s);
}

/* A connection on one entry ID hears of that object only; a mask without fnevObjectCreated
 * hears no creations; after Unadvise nothing arrives. */
static void test_per_entry_and_unadvise(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("notify-entry.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  struct sink one, all;
  ULONG_PTR c1, c2;
  LPSPropValue a = msg_create(root, "a"), b = msg_create(root, "b"), c;
  int n;
  sink_init(&one);
  sink_init(&all);
  c1 = advise(mdb, a, fnevObjectModified, &one);
  c2 = advise(mdb, NULL, fnevObjectModified, &all);
  save_elsewhere(loc, b, "b changed");
  CHECK(sink_wait_for(&all, 0, fnevObjectModified, b) >= 0);
  save_elsewhere(loc, a, "a changed");
  CHECK(sink_wait_for(&one, 0, fnevObjectModified, a) >= 0);
  CHECK(sink_wait_for(&all, 0, fnevObjectModified, a) >= 0);
  /* `one` never heard of b, and nobody of a creation (not in either mask). */
  c = msg_create(root, "c");
  save_elsewhere(loc, a, "a again");
  CHECK(sink_wait_for(&one, 1, fnevObjectModified, a) >= 0);
  n = sink_count(&one);
  for (; n > 0; n--) CHECK(one.seen[n - 1].cb == a->Value.bin.cb &&
                           memcmp(one.seen[n - 1].eid, a->Value.bin.lpb, a->Value.bin.cb) == 0);
  for (n = 0; n < sink_count(&all); n++) CHECK(all.seen[n].event == fnevObjectModified);

  /* Unadvise stops delivery. */
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c1));
  sink_wait_released(&one);
  n = sink_count(&one);
  save_elsewhere(loc, a, "after unadvise");
  CHECK(sink_wait_for(&all, 0, fnevObjectModified, a) >= 0);
  sleep_ms(300);
  CHECK_EQ(sink_count(&one), n);
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c2));
  sink_wait_released(&all);
  MAPIFreeBuffer(a);
  MAPIFreeBuffer(b);
  MAPIFreeBuffer(c);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&one);
  sink_destroy(&all);
}

/* The child: saves the message whose entry ID is given in hex, then records when its
 * SaveChanges returned in the shared file. */
static int child(const char *loc, const char *hex, const char *shared) {
  BYTE bytes[64];
  SPropValue eid;
  size_t i, n = strlen(hex) / 2;
  double *done = (double *)map_shared_file(shared, sizeof(double), 0);
  LPMDB mdb;
  LPMESSAGE msg;
  CHECK(n <= sizeof bytes);
  for (i = 0; i < n; i++) {
    unsigned v = 0;
    CHECK_EQ(sscanf(hex + 2 * i, "%2x", &v), 1);
    bytes[i] = (BYTE)v;
  }
  memset(&eid, 0, sizeof eid);
  eid.ulPropTag = PR_ENTRYID;
  eid.Value.bin.cb = (ULONG)n;
  eid.Value.bin.lpb = bytes;
  mdb = store_open(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  msg = msg_open(mdb, &eid, MAPI_MODIFY);
  msg_set_str(msg, PR_SUBJECT_A, "by another process");
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  *done = now_ms();
  msg->lpVtbl->Release(msg);
  mdb->lpVtbl->Release(mdb);
  munmap(done, sizeof(double));
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

struct process_save {
  const char *loc;
  const SPropValue *eid;
  const char *shared;
  double *done;
};

/* The child of test_new_mail: announces the message given in hex as new mail. */
static int new_mail_child(const char *loc, const char *hex);

static void save_in_child(void *arg) {
  struct process_save *p = (struct process_save *)arg;
  char hex[200];
  char *argv[6];
  ULONG i;
  for (i = 0; i < p->eid->Value.bin.cb; i++) sprintf(hex + 2 * i, "%02x", p->eid->Value.bin.lpb[i]);
  argv[0] = (char *)g_self;
  argv[1] = (char *)"notify-child";
  argv[2] = (char *)p->loc;
  argv[3] = hex;
  argv[4] = (char *)p->shared;
  argv[5] = NULL;
  CHECK_EQ(wait_child(spawn_self(g_self, argv)), 0);
}

/* Another process's save (and on PostgreSQL, that process stands for another host: its own
 * connection to the server) reaches this process's sink within the bound. */
static void test_other_process(void) {
  char loc[4096], shared[4096];
  LPMDB mdb = fresh_store("notify-proc.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  struct sink s;
  ULONG_PTR conn;
  LPSPropValue eid = msg_create(root, "shared");
  struct process_save p;
  LPMESSAGE a;
  int from, at;
  sink_init(&s);
  conn = advise(mdb, NULL, ALL_OBJECT_EVENTS, &s);
  test_path(shared, sizeof shared, "notify-proc.time");
  p.loc = loc;
  p.eid = eid;
  p.shared = shared;
  p.done = (double *)map_shared_file(shared, sizeof(double), 1);
  a = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(a, PR_SUBJECT_A, "A's change");
  from = sink_count(&s);
  save_in_child(&p);
  at = sink_wait_for(&s, from, fnevObjectModified, eid);
  CHECK(at >= 0);
  printf("notify: %s: fnevObjectModified %.1f ms after the other process's SaveChanges returned\n",
         on_postgres() ? "another connection (host)" : "another process",
         sink_time(&s, at) - *p.done);
  CHECK(sink_time(&s, at) - *p.done <= bound_ms());
  CHECK_HR(a->lpVtbl->SaveChanges(a, 0), MAPI_E_OBJECT_CHANGED);
  a->lpVtbl->Release(a);
  munmap(p.done, sizeof(double));
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, conn));
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&s);
}

/* A sink blocked inside OnNotify does not hold up another sink; released, it goes on. A sink
 * that returns a failure keeps getting events. */
static void test_blocking_and_failing_sinks(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("notify-block.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  struct sink stuck, failing, fine;
  ULONG_PTR c1, c2, c3;
  LPSPropValue eid = msg_create(root, "x");
  int i;
  sink_init(&stuck);
  sink_init(&failing);
  sink_init(&fine);
  stuck.block = 1;
  failing.fail_with = (ULONG)MAPI_E_CALL_FAILED;
  c1 = advise(mdb, NULL, fnevObjectModified, &stuck);
  c2 = advise(mdb, NULL, fnevObjectModified, &failing);
  c3 = advise(mdb, NULL, fnevObjectModified, &fine);
  for (i = 0; i < 5; i++) {
    int from = sink_count(&fine);
    save_elsewhere(loc, eid, "again");
    CHECK(sink_wait_for(&fine, from, fnevObjectModified, eid) >= 0);
  }
  /* The failing sink got every one of them too (it may lag the fine one a little). */
  for (i = 0; i < 5; i++) CHECK(sink_wait_for(&failing, i, fnevObjectModified, eid) >= i);
  CHECK_EQ(stuck.calls, 1);
  /* Unadvise of the stuck one returns at once; its release waits for OnNotify to return. */
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c1));
  CHECK_EQ(stuck.refs, 2);
  sink_set_block(&stuck, 0);
  sink_wait_released(&stuck);
  CHECK_EQ(stuck.calls, 1); /* what was queued behind the block is dropped after Unadvise */
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c2));
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c3));
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&stuck);
  sink_destroy(&failing);
  sink_destroy(&fine);
}

/* OnNotify calls back into the store: reads, and Unadvise of its own connection, which
 * succeeds without a deadlock; nothing is delivered to it afterwards. Releasing the store with
 * a connection still advised releases the sink too. */
static void test_reentrant_sink(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("notify-reenter.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb);
  struct sink s, kept;
  ULONG_PTR conn;
  LPSPropValue eid = msg_create(root, "x");
  int n;
  sink_init(&s);
  sink_init(&kept);
  conn = advise(mdb, NULL, fnevObjectModified, &s);
  pthread_mutex_lock(&s.lock);
  s.reenter = mdb;
  s.unadvise_conn = conn;
  pthread_mutex_unlock(&s.lock);
  advise(mdb, NULL, fnevObjectModified, &kept);
  save_elsewhere(loc, eid, "one");
  CHECK(sink_wait_for(&s, 0, fnevObjectModified, eid) >= 0);
  sink_wait_released(&s);
  CHECK_EQ(s.unadvise_hr, S_OK);
  n = sink_count(&s);
  save_elsewhere(loc, eid, "two");
  CHECK(sink_wait_for(&kept, 1, fnevObjectModified, eid) >= 0);
  sleep_ms(200);
  CHECK_EQ(sink_count(&s), n);
  CHECK_HR(mdb->lpVtbl->Unadvise(mdb, conn), MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb); /* `kept` is still advised: the release ends its connection */
  sink_destroy(&s);
  sink_destroy(&kept);
}

static LPMAPITABLE contents_of(LPMAPIFOLDER f) {
  LPMAPITABLE t = NULL;
  CHECK_OK(f->lpVtbl->GetContentsTable(f, 0, &t));
  return t;
}

static ULONG row_count(LPMAPITABLE t) {
  ULONG n = 0;
  CHECK_OK(t->lpVtbl->GetRowCount(t, 0, &n));
  return n;
}

/* Contents and hierarchy tables: fnevTableModified (TABLE_CHANGED, no row data) for a message
 * made by another handle, and for a subfolder; the table then shows it. Unadvise stops them; a
 * table released while advised releases its sink; other tables do not notify. */
static void test_table_notifications(void) {
  char loc[4096];
  LPMDB mdb = fresh_store("notify-table.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb), sub = NULL;
  LPMAPITABLE contents = contents_of(root), hier = NULL, attachments = NULL;
  struct sink s, h, bad;
  ULONG_PTR c1, c2 = 0, c3 = GARBAGE_ULONG;
  LPSPropValue eid, other_eid;
  LPMDB other;
  LPMAPIFOLDER other_root;
  LPMESSAGE msg;
  int at, n;
  sink_init(&s);
  sink_init(&h);
  sink_init(&bad);
  CHECK_EQ(row_count(contents), 0);
  CHECK_OK(contents->lpVtbl->Advise(contents, fnevTableModified, &s.iface, &c1));
  CHECK(c1 != 0);
  CHECK_OK(root->lpVtbl->GetHierarchyTable(root, CONVENIENT_DEPTH, &hier));
  CHECK_OK(hier->lpVtbl->Advise(hier, fnevTableModified, &h.iface, &c2));

  /* A message made through another handle. */
  other = store_open(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  other_root = store_root(other);
  other_eid = msg_create(other_root, "from elsewhere");
  at = sink_wait_for(&s, 0, fnevTableModified, NULL);
  CHECK(at >= 0);
  CHECK_EQ(s.seen[at].table_event, TABLE_CHANGED);
  CHECK_EQ(row_count(contents), 1);
  /* A subfolder two levels down: the CONVENIENT_DEPTH hierarchy hears of both. */
  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "sub", NULL, NULL, 0, &sub));
  CHECK(sink_wait_for(&h, 0, fnevTableModified, NULL) >= 0);
  n = sink_count(&h);
  {
    LPMAPIFOLDER deeper = NULL;
    CHECK_OK(sub->lpVtbl->CreateFolder(sub, FOLDER_GENERIC, (LPTSTR) "deeper", NULL, NULL, 0,
                                       &deeper));
    deeper->lpVtbl->Release(deeper);
  }
  CHECK(sink_wait_for(&h, n, fnevTableModified, NULL) >= 0);
  CHECK_EQ(row_count(hier), 2);

  /* Bad input on a table. */
  CHECK_HR(contents->lpVtbl->Advise(contents, fnevObjectModified, &bad.iface, &c3),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_EQ(c3, 0);
  CHECK_HR(contents->lpVtbl->Advise(contents, fnevTableModified, NULL, &c3),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(contents->lpVtbl->Advise(contents, fnevTableModified, &bad.iface, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(contents->lpVtbl->Unadvise(contents, c1 + 1000), MAPI_E_NOT_FOUND);
  CHECK_HR(contents->lpVtbl->Unadvise(contents, c2), MAPI_E_NOT_FOUND); /* the other table's */
  CHECK_HR(mdb->lpVtbl->Unadvise(mdb, c1), MAPI_E_NOT_FOUND);           /* not the store's */
  msg = msg_open(mdb, other_eid, MAPI_MODIFY);
  CHECK_OK(msg->lpVtbl->GetAttachmentTable(msg, 0, &attachments));
  CHECK_HR(attachments->lpVtbl->Advise(attachments, fnevTableModified, &bad.iface, &c3),
           MAPI_E_NO_SUPPORT);
  attachments->lpVtbl->Release(attachments);
  msg->lpVtbl->Release(msg);
  CHECK_EQ(bad.refs, 1);

  /* Unadvise stops them. */
  CHECK_OK(contents->lpVtbl->Unadvise(contents, c1));
  sink_wait_released(&s);
  n = sink_count(&s);
  eid = msg_create(other_root, "unheard");
  CHECK_EQ(row_count(contents), 2);
  sleep_ms(300);
  CHECK_EQ(sink_count(&s), n);

  /* Released while advised: the sink goes with the table. */
  hier->lpVtbl->Release(hier);
  sink_wait_released(&h);
  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(other_eid);
  sub->lpVtbl->Release(sub);
  other_root->lpVtbl->Release(other_root);
  other->lpVtbl->Release(other);
  contents->lpVtbl->Release(contents);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&s);
  sink_destroy(&h);
  sink_destroy(&bad);
}

/* Bad input (docs/BAD_INPUT.md rows 161–175). */
/* ---- New mail (IMsgStore::NotifyNewMail) ---------------------------------------------------- */

static void entry_from_hex(const char *hex, BYTE *bytes, size_t size, SPropValue *eid) {
  size_t i, n = strlen(hex) / 2;
  CHECK(n <= size);
  for (i = 0; i < n; i++) {
    unsigned v = 0;
    CHECK_EQ(sscanf(hex + 2 * i, "%2x", &v), 1);
    bytes[i] = (BYTE)v;
  }
  memset(eid, 0, sizeof *eid);
  eid->ulPropTag = PR_ENTRYID;
  eid->Value.bin.cb = (ULONG)n;
  eid->Value.bin.lpb = bytes;
}

static HRESULT notify_new_mail(LPMDB mdb, const SPropValue *eid) {
  NOTIFICATION note;
  memset(&note, 0, sizeof note);
  note.ulEventType = fnevNewMail;
  note.info.newmail.cbEntryID = eid->Value.bin.cb;
  note.info.newmail.lpEntryID = (LPENTRYID)eid->Value.bin.lpb;
  note.info.newmail.lpszMessageClass = (LPSTR) "IPM.Note";
  return mdb->lpVtbl->NotifyNewMail(mdb, &note);
}

static int new_mail_child(const char *loc, const char *hex) {
  BYTE bytes[64];
  SPropValue eid;
  LPMDB mdb;
  entry_from_hex(hex, bytes, sizeof bytes, &eid);
  mdb = store_open(loc, MDB_WRITE | MSGSTORE_NO_SYNC);
  CHECK_OK(notify_new_mail(mdb, &eid));
  mdb->lpVtbl->Release(mdb);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  return 0;
}

/* The spooler's NotifyNewMail, made in this process and in another (on PostgreSQL: another
 * connection, standing for another host), reaches the connections on the store and on the
 * message's folder as fnevNewMail naming the message, its folder, its class and its flags; a
 * connection that did not ask for new mail, or on another folder, gets nothing of it. */
static void test_new_mail(void) {
  char loc[4096], hex[200];
  LPMDB mdb = fresh_store("notify-newmail.db", loc, sizeof loc);
  LPMAPIFOLDER root = store_root(mdb), sub = NULL;
  LPSPropValue root_eid = msg_get_one((LPMAPIPROP)root, PR_ENTRYID), eid, sub_eid;
  struct sink on_store, on_folder, on_other_folder, modified_only;
  ULONG_PTR c1, c2, c3, c4;
  LPMESSAGE msg;
  char *argv[5];
  ULONG i;
  int at, round;
  CHECK_OK(root->lpVtbl->CreateFolder(root, FOLDER_GENERIC, (LPTSTR) "other", NULL, NULL, 0, &sub));
  sub_eid = msg_get_one((LPMAPIPROP)sub, PR_ENTRYID);
  /* The delivered message: its class and flags are what the notification tells. */
  CHECK_OK(root->lpVtbl->CreateMessage(root, NULL, 0, &msg));
  msg_set_str(msg, PR_MESSAGE_CLASS_A, "IPM.Note.Delivered");
  msg_set_long(msg, PR_MESSAGE_FLAGS, MSGFLAG_UNSENT);
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)msg, PR_ENTRYID);
  msg->lpVtbl->Release(msg);
  sink_init(&on_store);
  sink_init(&on_folder);
  sink_init(&on_other_folder);
  sink_init(&modified_only);
  c1 = advise(mdb, NULL, fnevNewMail, &on_store);
  c2 = advise(mdb, root_eid, fnevNewMail, &on_folder);
  c3 = advise(mdb, sub_eid, fnevNewMail, &on_other_folder);
  c4 = advise(mdb, NULL, fnevObjectModified | fnevObjectCreated, &modified_only);
  for (i = 0; i < eid->Value.bin.cb; i++) sprintf(hex + 2 * i, "%02x", eid->Value.bin.lpb[i]);
  for (round = 0; round < 2; round++) {
    struct sink *each[2];
    int k;
    int from_store = sink_count(&on_store), from_folder = sink_count(&on_folder);
    each[0] = &on_store;
    each[1] = &on_folder;
    if (round == 0) {
      CHECK_OK(notify_new_mail(mdb, eid));
    } else {
      argv[0] = (char *)g_self;
      argv[1] = (char *)"newmail-child";
      argv[2] = loc;
      argv[3] = hex;
      argv[4] = NULL;
      CHECK_EQ(wait_child(spawn_self(g_self, argv)), 0);
    }
    for (k = 0; k < 2; k++) {
      const struct seen *e;
      at = sink_wait_for(each[k], k == 0 ? from_store : from_folder, fnevNewMail, eid);
      CHECK(at >= 0);
      e = &each[k]->seen[at];
      CHECK_EQ(e->cb_parent, root_eid->Value.bin.cb);
      CHECK(memcmp(e->parent, root_eid->Value.bin.lpb, e->cb_parent) == 0);
      CHECK_STR(e->msg_class, "IPM.Note.Delivered");
      CHECK_EQ(e->msg_flags, MSGFLAG_UNSENT);
    }
  }
  /* Nothing for the other folder's connection, nor for one that asked for object events only
   * (given time: a save after the announcements is told to it, so they came before). */
  msg = msg_open(mdb, eid, MAPI_MODIFY);
  msg_set_str(msg, PR_SUBJECT_A, "read");
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, 0));
  msg->lpVtbl->Release(msg);
  CHECK(sink_wait_for(&modified_only, 0, fnevObjectModified, eid) >= 0);
  CHECK_EQ(sink_wait_for(&modified_only, 0, fnevNewMail, NULL) < 0 ? 0 : 1, 0);
  CHECK_EQ(sink_count(&on_other_folder), 0);
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c1));
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c2));
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c3));
  CHECK_OK(mdb->lpVtbl->Unadvise(mdb, c4));
  MAPIFreeBuffer(eid);
  MAPIFreeBuffer(sub_eid);
  MAPIFreeBuffer(root_eid);
  sub->lpVtbl->Release(sub);
  root->lpVtbl->Release(root);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&on_store);
  sink_destroy(&on_folder);
  sink_destroy(&on_other_folder);
  sink_destroy(&modified_only);
}

static void test_bad_input(void) {
  char loc[4096], loc2[4096];
  LPMDB mdb = fresh_store("notify-bad.db", loc, sizeof loc);
  LPMDB other = fresh_store("notify-bad-other.db", loc2, sizeof loc2);
  LPMAPIFOLDER root2 = store_root(other);
  LPSPropValue foreign = msg_create(root2, "elsewhere");
  struct sink s;
  ULONG_PTR conn = GARBAGE_ULONG;
  BYTE junk[5] = {0, 0, 0, 0, 1};
  sink_init(&s);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectModified, NULL, &conn),
           MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(conn, 0);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectModified, &s.iface, NULL),
           MAPI_E_INVALID_PARAMETER);
  conn = GARBAGE_ULONG;
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, 0, &s.iface, &conn), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(conn, 0);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevObjectModified | 0x4000, &s.iface, &conn),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 0, NULL, fnevTableModified, &s.iface, &conn),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, foreign->Value.bin.cb, (LPENTRYID)foreign->Value.bin.lpb,
                               fnevObjectModified, &s.iface, &conn),
           MAPI_E_UNKNOWN_ENTRYID); /* as OpenEntry answers for another store's entry ID */
  CHECK_HR(mdb->lpVtbl->Advise(mdb, sizeof junk, (LPENTRYID)junk, fnevObjectModified, &s.iface,
                               &conn),
           MAPI_E_INVALID_ENTRYID);
  CHECK_HR(mdb->lpVtbl->Advise(mdb, 5, NULL, fnevObjectModified, &s.iface, &conn),
           MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(conn, 0);
  {
    /* NotifyNewMail: no notification, another event, no message, a folder, junk. */
    NOTIFICATION note;
    LPMAPIFOLDER root = store_root(mdb);
    LPSPropValue root_eid = msg_get_one((LPMAPIPROP)root, PR_ENTRYID);
    LPMDB reader = store_open(loc, 0);
    LPSPropValue mine = msg_create(root, "mine");
    CHECK_HR(mdb->lpVtbl->NotifyNewMail(mdb, NULL), MAPI_E_INVALID_PARAMETER);
    memset(&note, 0, sizeof note);
    note.ulEventType = fnevObjectModified;
    note.info.newmail.cbEntryID = mine->Value.bin.cb;
    note.info.newmail.lpEntryID = (LPENTRYID)mine->Value.bin.lpb;
    CHECK_HR(mdb->lpVtbl->NotifyNewMail(mdb, &note), MAPI_E_INVALID_PARAMETER);
    note.ulEventType = fnevNewMail;
    note.info.newmail.cbEntryID = 0;
    CHECK_HR(mdb->lpVtbl->NotifyNewMail(mdb, &note), MAPI_E_INVALID_PARAMETER);
    note.info.newmail.cbEntryID = 5;
    note.info.newmail.lpEntryID = NULL;
    CHECK_HR(mdb->lpVtbl->NotifyNewMail(mdb, &note), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(notify_new_mail(mdb, root_eid), MAPI_E_INVALID_PARAMETER);
    note.info.newmail.cbEntryID = sizeof junk;
    note.info.newmail.lpEntryID = (LPENTRYID)junk;
    CHECK_HR(mdb->lpVtbl->NotifyNewMail(mdb, &note), MAPI_E_INVALID_ENTRYID);
    CHECK_HR(notify_new_mail(mdb, foreign), MAPI_E_UNKNOWN_ENTRYID);
    CHECK_HR(notify_new_mail(reader, mine), MAPI_E_NO_ACCESS);
    CHECK_OK(notify_new_mail(mdb, mine));
    MAPIFreeBuffer(mine);
    MAPIFreeBuffer(root_eid);
    reader->lpVtbl->Release(reader);
    root->lpVtbl->Release(root);
  }
  CHECK_HR(mdb->lpVtbl->Unadvise(mdb, 0), MAPI_E_NOT_FOUND);
  CHECK_HR(mdb->lpVtbl->Unadvise(mdb, 12345), MAPI_E_NOT_FOUND);
  CHECK_EQ(s.refs, 1); /* every refused Advise left the sink as it was */
  MAPIFreeBuffer(foreign);
  root2->lpVtbl->Release(root2);
  other->lpVtbl->Release(other);
  mdb->lpVtbl->Release(mdb);
  sink_destroy(&s);
}

static const struct test_section SECTIONS[] = {
    {"same_process", test_same_process},
    {"per_entry_and_unadvise", test_per_entry_and_unadvise},
    {"other_process", test_other_process},
    {"blocking_and_failing_sinks", test_blocking_and_failing_sinks},
    {"reentrant_sink", test_reentrant_sink},
    {"table_notifications", test_table_notifications},
    {"new_mail", test_new_mail},
    {"bad_input", test_bad_input},
};

int main(int argc, char **argv) {
  g_self = argv[0];
  alarm(1800); /* a lost child or a deadlock must fail the test, not hang it */
  if (argc == 5 && strcmp(argv[1], "notify-child") == 0) return child(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "newmail-child") == 0) return new_mail_child(argv[2], argv[3]);
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
