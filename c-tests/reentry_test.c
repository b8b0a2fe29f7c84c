/* No lock of the library is held while client code runs (DESIGN.md §7, issue 10): an IPropData
 * object made by CreateIProp calls the client's allocator for every result, and an allocator that
 * calls back into the same object (GetProps, SetProps, GetPropList, GetLastError, HrGetPropAccess
 * on it) must neither deadlock nor see a half-made result. Before the fix, GetProps called the
 * allocator with the object's mutex held and this program hung in its first section; alarm()
 * turns such a hang into a failure. The last sections do the same with a foreign CopyTo /
 * CopyProps destination whose GetPropList and SetProps call back into the source object, and
 * with a conflict resolver that calls back into the message being saved and into the store. */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgstore.h"
#include "resolver_util.h"

#define ID(n) ((ULONG)(0x6700u + (n)))
#define TAG(type, n) PROP_TAG((type), ID(n))

/* What the allocator does before its next allocation (one shot: the nested calls' own
 * allocations do not re-enter again). */
enum reentry { NOTHING, GET_PROPS, SET_PROPS, GET_PROP_LIST, GET_LAST_ERROR, GET_PROP_ACCESS };

static LPPROPDATA g_obj;         /* the object the allocator calls back into */
static enum reentry g_next;      /* what the next allocation does first */
static int g_reentered;          /* nested calls made, all of which succeeded */
static LONG g_set_value = 1000;  /* what the nested SetProps writes (incremented each time) */

static void on_alarm(int sig) {
  static const char msg[] =
      "reentry_test: timed out: a call into the object from its own allocator deadlocked\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(2);
}

static void reenter(enum reentry what) {
  LPPROPDATA p = g_obj;
  switch (what) {
    case NOTHING:
      return;
    case GET_PROPS: {
      ULONG n = 0;
      LPSPropValue vals = NULL;
      HRESULT hr = p->lpVtbl->GetProps(p, NULL, 0, &n, &vals);
      CHECK(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED);
      MAPIFreeBuffer(vals);
      break;
    }
    case SET_PROPS: {
      SPropValue v;
      memset(&v, 0, sizeof v);
      v.ulPropTag = TAG(PT_LONG, 1);
      v.Value.l = g_set_value++;
      CHECK_OK(p->lpVtbl->SetProps(p, 1, &v, NULL));
      break;
    }
    case GET_PROP_LIST: {
      LPSPropTagArray list = NULL;
      CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
      MAPIFreeBuffer(list);
      break;
    }
    case GET_LAST_ERROR: {
      LPMAPIERROR err = NULL;
      CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_NO_ACCESS, 0, &err));
      MAPIFreeBuffer(err);
      break;
    }
    case GET_PROP_ACCESS: {
      LPSPropTagArray tags = NULL;
      ULONG *access = NULL;
      CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &tags, &access));
      MAPIFreeBuffer(tags);
      MAPIFreeBuffer(access);
      break;
    }
  }
  g_reentered++;
}

static SCODE reentrant_buffer(ULONG cb, LPVOID *pp) {
  enum reentry what = g_next;
  g_next = NOTHING;
  reenter(what);
  return MAPIAllocateBuffer(cb, pp);
}

static SCODE reentrant_more(ULONG cb, LPVOID root, LPVOID *pp) {
  return MAPIAllocateMore(cb, root, pp);
}

static ULONG reentrant_free(LPVOID p) { return MAPIFreeBuffer(p); }

static LONG get_long(ULONG tag) {
  SizedSPropTagArray(1, one) = {1, {0}};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  LONG v;
  one.aulPropTag[0] = tag;
  CHECK_OK(g_obj->lpVtbl->GetProps(g_obj, (LPSPropTagArray)&one, 0, &n, &vals));
  CHECK_EQ(n, 1);
  CHECK_EQ(vals[0].ulPropTag, tag);
  v = vals[0].Value.l;
  MAPIFreeBuffer(vals);
  return v;
}

/* Every method that hands the client a result, with each kind of call back into the object. */
static void test_allocator_calls_back_into_the_object(void) {
  static const enum reentry kinds[] = {GET_PROPS, SET_PROPS, GET_PROP_LIST, GET_LAST_ERROR,
                                       GET_PROP_ACCESS};
  SPropValue v[2];
  size_t k;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, reentrant_buffer, reentrant_more, reentrant_free, NULL,
                       &g_obj));
  memset(v, 0, sizeof v);
  v[0].ulPropTag = TAG(PT_LONG, 1);
  v[0].Value.l = 7;
  v[1].ulPropTag = PROP_TAG(PT_STRING8, 0x0037); /* PR_SUBJECT_A */
  v[1].Value.lpszA = (LPSTR) "re-entered";
  CHECK_OK(g_obj->lpVtbl->SetProps(g_obj, 2, v, NULL));

  for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    int before = g_reentered;
    ULONG n = 0;
    LPSPropValue vals = NULL;
    LPSPropTagArray list = NULL;
    LPMAPIERROR err = NULL;
    LPSPropTagArray access_tags = NULL;
    ULONG *access = NULL;
    LPSPropProblemArray problems = NULL;
    SPropValue bad;
    SizedSPropTagArray(1, subject) = {1, {PROP_TAG(PT_STRING8, 0x0037)}};
    ULONG read_only = IPROP_READONLY | IPROP_CLEAN, read_write = IPROP_READWRITE | IPROP_CLEAN;

    /* GetProps (all properties): the allocator runs while the result is being made. */
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->GetProps(g_obj, NULL, 0, &n, &vals));
    CHECK_EQ(n, 2);
    MAPIFreeBuffer(vals);
    CHECK_EQ(g_reentered, before + 1);

    /* GetPropList. */
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->GetPropList(g_obj, 0, &list));
    CHECK_EQ(list->cValues, 2);
    MAPIFreeBuffer(list);
    CHECK_EQ(g_reentered, before + 2);

    /* GetLastError, after a real failure (a PT_OBJECT value fails SetProps). */
    memset(&bad, 0, sizeof bad);
    bad.ulPropTag = PROP_TAG(PT_OBJECT, ID(8));
    CHECK_HR(g_obj->lpVtbl->SetProps(g_obj, 1, &bad, NULL), MAPI_E_INVALID_PARAMETER);
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->GetLastError(g_obj, MAPI_E_INVALID_PARAMETER, 0, &err));
    CHECK(err != NULL && err->lpszError != NULL);
    MAPIFreeBuffer(err);
    CHECK_EQ(g_reentered, before + 3);

    /* HrGetPropAccess (two results). */
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->HrGetPropAccess(g_obj, &access_tags, &access));
    CHECK_EQ(access_tags->cValues, 2);
    MAPIFreeBuffer(access_tags);
    MAPIFreeBuffer(access);
    CHECK_EQ(g_reentered, before + 4);

    /* A problem array (DeleteProps of a property made read-only). */
    CHECK_OK(g_obj->lpVtbl->HrSetPropAccess(g_obj, (LPSPropTagArray)&subject, &read_only));
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->DeleteProps(g_obj, (LPSPropTagArray)&subject, &problems));
    CHECK(problems != NULL && problems->cProblem == 1);
    CHECK_EQ(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);
    MAPIFreeBuffer(problems);
    CHECK_EQ(g_reentered, before + 5);
    CHECK_OK(g_obj->lpVtbl->HrSetPropAccess(g_obj, (LPSPropTagArray)&subject, &read_write));
  }
  CHECK_EQ(g_obj->lpVtbl->Release(g_obj), 0);
  g_obj = NULL;
}

/* A SetProps made by the allocator while GetProps is building its result does not change that
 * result (it is a snapshot of the object as of the call), and is applied all the same. */
static void test_result_is_a_snapshot(void) {
  SPropValue v;
  SizedSPropTagArray(1, one) = {1, {TAG(PT_LONG, 1)}};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, reentrant_buffer, reentrant_more, reentrant_free, NULL,
                       &g_obj));
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_LONG, 1);
  v.Value.l = 7;
  CHECK_OK(g_obj->lpVtbl->SetProps(g_obj, 1, &v, NULL));
  g_set_value = 1000;
  g_next = SET_PROPS;
  CHECK_OK(g_obj->lpVtbl->GetProps(g_obj, (LPSPropTagArray)&one, 0, &n, &vals));
  CHECK_EQ(n, 1);
  CHECK_EQ(vals[0].Value.l, 7); /* as of the call */
  MAPIFreeBuffer(vals);
  CHECK_EQ(get_long(TAG(PT_LONG, 1)), 1000); /* the nested SetProps was applied */
  CHECK_EQ(g_obj->lpVtbl->Release(g_obj), 0);
  g_obj = NULL;
}

/* ---- A foreign CopyTo/CopyProps destination that calls back into the source ---------------- */

/* Its GetPropList (asked for under MAPI_NOREPLACE) and SetProps call the source object's
 * GetProps and SetProps before answering: the source must hold no lock while it calls them. */
typedef struct EchoProp {
  IMAPIProp iface; /* first: the interface pointer is the object pointer */
  ULONG refs;
  int calls_back;  /* calls into the source made from the destination's slots */
  ULONG received;  /* values its SetProps received */
} EchoProp;

static EchoProp *echo_of(struct IMAPIProp *This) { return (EchoProp *)This; }

static void echo_call_back(EchoProp *e) {
  reenter(GET_PROPS);
  reenter(SET_PROPS);
  e->calls_back++;
}

static HRESULT e_QueryInterface(struct IMAPIProp *This, const IID *riid, void **ppv) {
  (void)This, (void)riid;
  if (ppv) *ppv = NULL;
  return E_NOINTERFACE;
}
static ULONG e_AddRef(struct IMAPIProp *This) { return ++echo_of(This)->refs; }
static ULONG e_Release(struct IMAPIProp *This) { return --echo_of(This)->refs; }
static HRESULT e_GetLastError(struct IMAPIProp *This, HRESULT hr, ULONG fl, LPMAPIERROR *pp) {
  (void)This, (void)hr, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_SaveChanges(struct IMAPIProp *This, ULONG fl) {
  (void)This, (void)fl;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_GetProps(struct IMAPIProp *This, LPSPropTagArray t, ULONG fl, ULONG *pc,
                          LPSPropValue *pp) {
  (void)This, (void)t, (void)fl, (void)pc, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_GetPropList(struct IMAPIProp *This, ULONG flags, LPSPropTagArray *pp) {
  void *buf = NULL;
  (void)flags;
  echo_call_back(echo_of(This));
  if (MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(1), &buf) != S_OK) return MAPI_E_NOT_ENOUGH_MEMORY;
  *pp = (LPSPropTagArray)buf;
  (*pp)->cValues = 0; /* holds nothing: MAPI_NOREPLACE keeps every value */
  return S_OK;
}
static HRESULT e_OpenProperty(struct IMAPIProp *This, ULONG tag, LPCIID iid, ULONG opt, ULONG fl,
                              struct IUnknown **pp) {
  (void)This, (void)tag, (void)iid, (void)opt, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_SetProps(struct IMAPIProp *This, ULONG c, LPSPropValue vals,
                          LPSPropProblemArray *pp) {
  (void)vals;
  if (pp) *pp = NULL;
  echo_call_back(echo_of(This));
  echo_of(This)->received += c;
  return S_OK;
}
static HRESULT e_DeleteProps(struct IMAPIProp *This, LPSPropTagArray t, LPSPropProblemArray *pp) {
  (void)This, (void)t, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_CopyTo(struct IMAPIProp *This, ULONG ci, LPCIID rgi, LPSPropTagArray ex,
                        ULONG_PTR ui, struct IMAPIProgress *prog, LPCIID iid, LPVOID dest,
                        ULONG fl, LPSPropProblemArray *pp) {
  (void)This, (void)ci, (void)rgi, (void)ex, (void)ui, (void)prog, (void)iid, (void)dest,
      (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_CopyProps(struct IMAPIProp *This, LPSPropTagArray inc, ULONG_PTR ui,
                           struct IMAPIProgress *prog, LPCIID iid, LPVOID dest, ULONG fl,
                           LPSPropProblemArray *pp) {
  (void)This, (void)inc, (void)ui, (void)prog, (void)iid, (void)dest, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_GetNamesFromIDs(struct IMAPIProp *This, LPSPropTagArray *t, LPGUID g, ULONG fl,
                                 ULONG *pc, LPMAPINAMEID **pp) {
  (void)This, (void)t, (void)g, (void)fl, (void)pc, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT e_GetIDsFromNames(struct IMAPIProp *This, ULONG c, LPMAPINAMEID *names, ULONG fl,
                                 LPSPropTagArray *pp) {
  (void)This, (void)c, (void)names, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}

static const IMAPIPropVtbl echo_vtbl = {
    e_QueryInterface, e_AddRef,      e_Release,      e_GetLastError,    e_SaveChanges,
    e_GetProps,       e_GetPropList, e_OpenProperty, e_SetProps,        e_DeleteProps,
    e_CopyTo,         e_CopyProps,   e_GetNamesFromIDs, e_GetIDsFromNames};

/* CopyTo (MAPI_NOREPLACE: the destination's GetPropList is asked first) and CopyProps with
 * MAPI_MOVE into a foreign object whose slots call back into the source. */
static void test_foreign_destination_calls_back_into_the_source(void) {
  EchoProp echo;
  SPropValue v[2];
  SizedSPropTagArray(2, both) = {2, {TAG(PT_LONG, 1), TAG(PT_LONG, 2)}};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  memset(&echo, 0, sizeof echo);
  echo.iface.lpVtbl = &echo_vtbl;
  echo.refs = 1;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, reentrant_buffer, reentrant_more, reentrant_free, NULL,
                       &g_obj));
  memset(v, 0, sizeof v);
  v[0].ulPropTag = TAG(PT_LONG, 1);
  v[0].Value.l = 7;
  v[1].ulPropTag = TAG(PT_LONG, 2);
  v[1].Value.l = 8;
  CHECK_OK(g_obj->lpVtbl->SetProps(g_obj, 2, v, NULL));

  CHECK_OK(g_obj->lpVtbl->CopyTo(g_obj, 0, NULL, NULL, 0, NULL, &IID_IMAPIProp, &echo.iface,
                                 MAPI_NOREPLACE, NULL));
  CHECK_EQ(echo.calls_back, 2); /* GetPropList, then SetProps */
  CHECK_EQ(echo.received, 2);

  CHECK_OK(g_obj->lpVtbl->CopyProps(g_obj, (LPSPropTagArray)&both, 0, NULL, &IID_IMAPIProp,
                                    &echo.iface, MAPI_MOVE, NULL));
  CHECK_EQ(echo.calls_back, 3);
  CHECK_EQ(echo.received, 4);
  /* Moved: both are gone from the source (the destination's call back set PT_LONG 1 again
   * while it was receiving the values, before the move deleted what it had taken). */
  CHECK_HR(g_obj->lpVtbl->GetProps(g_obj, (LPSPropTagArray)&both, 0, &n, &vals),
           MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(n, 2);
  CHECK_EQ(vals[0].ulPropTag, PROP_TAG(PT_ERROR, ID(1)));
  CHECK_EQ(vals[1].ulPropTag, PROP_TAG(PT_ERROR, ID(2)));
  MAPIFreeBuffer(vals);
  CHECK_EQ(g_obj->lpVtbl->Release(g_obj), 0);
  g_obj = NULL;
  CHECK_EQ(echo.refs, 1); /* every reference the source took on it was given back */
}

/* ---- A conflict resolver that calls back into the message being saved and the store ------- */

static LPMDB g_mdb;

static void reentering_hook(TestResolver *self, int call) {
  LPMESSAGE m = self->last_message;
  char subject[64];
  LONG l = 0;
  (void)call;
  CHECK_OK(msg_get_str(m, PR_SUBJECT_A, subject, sizeof subject)); /* GetProps */
  msg_set_long(m, TAG(PT_LONG, 5), 55);                            /* SetProps */
  CHECK_OK(msg_get_long(m, TAG(PT_LONG, 5), &l));
  CHECK_EQ(l, 55);
  /* Re-registers itself: the store's resolver slot is replaced (and the old reference
   * Released) while the store is in the middle of asking it. */
  CHECK_OK(MsgStoreSetConflictResolver(g_mdb, (LPMSGSTORECONFLICTRESOLVER)self));
  g_reentered++;
}

/* SaveChanges asks the resolver with no lock of ours held (DESIGN.md §5): a resolver that
 * reads and writes the message being saved and re-registers itself on the store proceeds, and
 * its MERGE decision is applied with what it wrote. */
static void test_resolver_calls_back_into_the_message(void) {
  char path[1024];
  LPMAPIFOLDER root;
  LPSPropValue eid;
  LPMESSAGE a, b;
  TestResolver r;
  char subject[64];
  LONG l = 0;
  int before = g_reentered;
  test_path(path, sizeof path, "reentry.db");
  g_mdb = store_open(path, MAPI_CREATE | MDB_WRITE);
  root = store_root(g_mdb);
  eid = msg_create(root, "original");
  a = msg_open(g_mdb, eid, MAPI_MODIFY);
  b = msg_open(g_mdb, eid, MAPI_MODIFY);
  msg_set_str(a, PR_SUBJECT_A, "by a");
  CHECK_OK(a->lpVtbl->SaveChanges(a, 0));

  resolver_init(&r, MSGSTORE_RESOLVE_MERGE);
  r.hook = reentering_hook;
  CHECK_OK(MsgStoreSetConflictResolver(g_mdb, (LPMSGSTORECONFLICTRESOLVER)&r));
  msg_set_long(b, TAG(PT_LONG, 4), 44);
  CHECK_OK(b->lpVtbl->SaveChanges(b, KEEP_OPEN_READWRITE));
  CHECK_EQ(r.calls, 1);
  CHECK(tags_have(r.mine, r.n_mine, TAG(PT_LONG, 4)));
  CHECK(tags_have(r.their, r.n_their, PR_SUBJECT_A));
  CHECK_EQ(g_reentered, before + 1);
  CHECK_OK(msg_get_str(b, PR_SUBJECT_A, subject, sizeof subject));
  CHECK_STR(subject, "by a"); /* merged: theirs */
  CHECK_OK(msg_get_long(b, TAG(PT_LONG, 4), &l));
  CHECK_EQ(l, 44); /* mine */
  CHECK_OK(msg_get_long(b, TAG(PT_LONG, 5), &l));
  CHECK_EQ(l, 55); /* written by the resolver before it answered */

  CHECK_OK(MsgStoreSetConflictResolver(g_mdb, NULL));
  CHECK_EQ(r.refs, 1); /* every reference the store took was given back */
  MAPIFreeBuffer(eid);
  a->lpVtbl->Release(a);
  b->lpVtbl->Release(b);
  root->lpVtbl->Release(root);
  g_mdb->lpVtbl->Release(g_mdb);
  g_mdb = NULL;
}

static const struct test_section SECTIONS[] = {
    {"allocator_calls_back_into_the_object", test_allocator_calls_back_into_the_object},
    {"result_is_a_snapshot", test_result_is_a_snapshot},
    {"foreign_destination_calls_back_into_the_source",
     test_foreign_destination_calls_back_into_the_source},
    {"resolver_calls_back_into_the_message", test_resolver_calls_back_into_the_message},
};

int main(int argc, char **argv) {
  int rc;
  /* A deadlock is the failure these sections look for: it must end the run, not hang it. */
  signal(SIGALRM, on_alarm);
  alarm(test_under_valgrind() ? 600 : 30);
  rc = RUN_SECTIONS(argc, argv, SECTIONS);
  alarm(0);
  return rc;
}
