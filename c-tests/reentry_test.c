/* No lock of the library is held while client code runs (DESIGN.md §7, issue 10): an IPropData
 * object made by CreateIProp calls the client's allocator for every result, and an allocator that
 * calls back into the same object (GetProps, SetProps, GetPropList, GetLastError, HrGetPropAccess
 * on it) must neither deadlock nor see a half-made result. Before the fix, GetProps called the
 * allocator with the object's mutex held and this program hung in its first section; alarm()
 * turns such a hang into a failure. */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgstore.h"
#include "test_util.h"

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
    SizedSPropTagArray(1, add) = {1, {PROP_TAG(PT_LONG, ID(9))}}; /* not PT_OBJECT: a problem */

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

    /* A problem array (HrAddObjProps of a tag that is not PT_OBJECT). */
    g_next = kinds[k];
    CHECK_OK(g_obj->lpVtbl->HrAddObjProps(g_obj, (LPSPropTagArray)&add, &problems));
    CHECK(problems != NULL && problems->cProblem == 1);
    CHECK_EQ(problems->aProblem[0].scode, MAPI_E_INVALID_TYPE);
    MAPIFreeBuffer(problems);
    CHECK_EQ(g_reentered, before + 5);
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

int main(void) {
  printf("reentry_test (C):\n");
  signal(SIGALRM, on_alarm);
  alarm(test_under_valgrind() ? 600 : 30);
  test_allocator_calls_back_into_the_object();
  printf("  an allocator that calls back into its object: ok\n");
  test_result_is_a_snapshot();
  printf("  a result is a snapshot as of the call: ok\n");
  alarm(0);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  printf("reentry_test (C): all passed\n");
  return 0;
}
