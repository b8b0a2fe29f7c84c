/* IMAPIProp / IPropData / the allocator / the boundary guard, exercised from C through the
 * vtables (DESIGN.md §2; mapi-reference.md §2–§5). Every section is a function; the program stops
 * at the first failed check. Run it under valgrind (MSGSTORE_VALGRIND=1 cargo test --test
 * c_tests) to prove that every result is freed by one MAPIFreeBuffer and Release frees objects. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgstore.h"
#include "test_util.h"

/* Property IDs used for test values (a private range, well below the named-property range). */
#define ID(n) ((ULONG)(0x6600u + (n)))
#define TAG(type, n) PROP_TAG((type), ID(n))

#define NUM_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Small helpers ---------------------------------------------------------------------- */

static LPPROPDATA new_prop(void) {
  LPPROPDATA p = (LPPROPDATA)GARBAGE_PTR;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, &p));
  CHECK(p != NULL && p != GARBAGE_PTR);
  return p;
}

static void release_last(LPPROPDATA p) { CHECK_EQ(p->lpVtbl->Release(p), 0); }

/* Current reference count, measured with AddRef + Release. */
static ULONG refcount(LPPROPDATA p) {
  ULONG after_add = p->lpVtbl->AddRef(p);
  ULONG after_release = p->lpVtbl->Release(p);
  CHECK_EQ(after_release + 1, after_add);
  return after_release;
}

static SPropValue long_prop(ULONG tag, LONG v) {
  SPropValue pv;
  memset(&pv, 0, sizeof pv);
  pv.ulPropTag = tag;
  pv.Value.l = v;
  return pv;
}

static SPropValue str8_prop(ULONG tag, const char *s) {
  SPropValue pv;
  memset(&pv, 0, sizeof pv);
  pv.ulPropTag = tag;
  pv.Value.lpszA = (LPSTR)s;
  return pv;
}

static SPropValue wstr_prop(ULONG tag, const WCHAR *s) {
  SPropValue pv;
  memset(&pv, 0, sizeof pv);
  pv.ulPropTag = tag;
  pv.Value.lpszW = (LPWSTR)s;
  return pv;
}

static SPropValue bin_prop(ULONG tag, ULONG cb, const void *lpb) {
  SPropValue pv;
  memset(&pv, 0, sizeof pv);
  pv.ulPropTag = tag;
  pv.Value.bin.cb = cb;
  pv.Value.bin.lpb = (LPBYTE)lpb;
  return pv;
}

/* SetProps of values that must all be accepted with no problem. */
static void set_all(LPPROPDATA p, ULONG n, SPropValue *vals) {
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->SetProps(p, n, vals, &problems));
  CHECK(problems == NULL);
}

static void set_long(LPPROPDATA p, ULONG tag, LONG v) {
  SPropValue pv = long_prop(tag, v);
  set_all(p, 1, &pv);
}

/* GetProps of one tag; returns the MAPIFreeBuffer block (never NULL) and the HRESULT. */
static LPSPropValue get_one(LPPROPDATA p, ULONG tag, ULONG flags, HRESULT *hr) {
  LPSPropTagArray tags = tag_array(1, tag);
  ULONG count = GARBAGE_ULONG;
  LPSPropValue vals = (LPSPropValue)GARBAGE_PTR;
  *hr = p->lpVtbl->GetProps(p, tags, flags, &count, &vals);
  MAPIFreeBuffer(tags);
  CHECK(*hr == S_OK || *hr == MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(count, 1);
  CHECK(vals != NULL && vals != GARBAGE_PTR);
  return vals;
}

/* Asserts that the object has no value for `tag` (GetProps gives PT_ERROR / NOT_FOUND). */
static void check_absent(LPPROPDATA p, ULONG tag) {
  HRESULT hr;
  LPSPropValue v = get_one(p, tag, 0, &hr);
  CHECK_HR(hr, MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(v->ulPropTag, CHANGE_PROP_TYPE(tag, PT_ERROR));
  CHECK_HR(v->Value.err, MAPI_E_NOT_FOUND);
  CHECK_EQ(MAPIFreeBuffer(v), 0);
}

static LONG get_long(LPPROPDATA p, ULONG tag) {
  HRESULT hr;
  LONG out;
  LPSPropValue v = get_one(p, tag, 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(v->ulPropTag, tag);
  out = v->Value.l;
  MAPIFreeBuffer(v);
  return out;
}

static void check_string8(LPPROPDATA p, ULONG tag, const char *want) {
  HRESULT hr;
  LPSPropValue v = get_one(p, tag, 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(v->ulPropTag, tag);
  CHECK_STR(v->Value.lpszA, want);
  MAPIFreeBuffer(v);
}

static ULONG prop_count(LPPROPDATA p) {
  LPSPropTagArray list = (LPSPropTagArray)GARBAGE_PTR;
  ULONG n;
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK(list != NULL && list != GARBAGE_PTR);
  n = list->cValues;
  MAPIFreeBuffer(list);
  return n;
}

static int list_has(LPSPropTagArray list, ULONG tag) {
  ULONG i;
  for (i = 0; i < list->cValues; i++)
    if (list->aulPropTag[i] == tag) return 1;
  return 0;
}

static const SPropValue *find_id(const SPropValue *vals, ULONG n, ULONG id) {
  ULONG i;
  for (i = 0; i < n; i++)
    if (PROP_ID(vals[i].ulPropTag) == id) return &vals[i];
  return NULL;
}

/* ASCII rendering of a UTF-16 string (non-ASCII units become '?'), for substring checks. */
static void narrow_ascii(const WCHAR *w, char *out, size_t size) {
  size_t i;
  for (i = 0; w[i] != 0 && i + 1 < size; i++) out[i] = w[i] < 0x80 ? (char)w[i] : '?';
  out[i] = 0;
}

/* GetLastError(hr) on p must describe the failure and mention `method`. */
static void check_last_error(LPPROPDATA p, HRESULT hr, const char *method) {
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
  char ascii[1024];
  CHECK_OK(p->lpVtbl->GetLastError(p, hr, 0, &err));
  CHECK(err != NULL && err != GARBAGE_PTR);
  CHECK_EQ(err->ulVersion, MAPI_ERROR_VERSION);
  CHECK(err->lpszError != NULL && err->lpszError[0] != 0);
  CHECK(err->lpszComponent != NULL && err->lpszComponent[0] != 0);
  CHECK_EQ(err->ulLowLevelError, (ULONG)hr);
  if (strstr(err->lpszError, method) == NULL) {
    fprintf(stderr, "GetLastError text \"%s\" does not mention %s\n", err->lpszError, method);
    CHECK(!"GetLastError mentions the failed method");
  }
  CHECK_EQ(MAPIFreeBuffer(err), 0);

  err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->GetLastError(p, hr, MAPI_UNICODE, &err));
  CHECK(err != NULL && err != GARBAGE_PTR);
  narrow_ascii((const WCHAR *)err->lpszError, ascii, sizeof ascii);
  CHECK(ascii[0] != 0);
  if (strstr(ascii, method) == NULL) {
    fprintf(stderr, "GetLastError(MAPI_UNICODE) text \"%s\" does not mention %s\n", ascii,
            method);
    CHECK(!"GetLastError(MAPI_UNICODE) mentions the failed method");
  }
  CHECK(wstr_len((const WCHAR *)err->lpszComponent) > 0);
  CHECK_EQ(MAPIFreeBuffer(err), 0);
}

/* MsgStoreGetLastError(hr) must describe the calling thread's last failure and mention `what`. */
static void check_thread_error(HRESULT hr, const char *what) {
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(MsgStoreGetLastError(hr, 0, &err));
  CHECK(err != NULL && err != GARBAGE_PTR);
  CHECK(err->lpszError != NULL);
  if (strstr(err->lpszError, what) == NULL) {
    fprintf(stderr, "MsgStoreGetLastError text \"%s\" does not mention %s\n", err->lpszError,
            what);
    CHECK(!"MsgStoreGetLastError mentions the failed function");
  }
  CHECK_EQ(err->ulLowLevelError, (ULONG)hr);
  CHECK_EQ(MAPIFreeBuffer(err), 0);
}

static void check_problem(LPSPropProblemArray problems, ULONG i, ULONG index, ULONG tag,
                          SCODE scode) {
  CHECK(problems != NULL);
  CHECK(i < problems->cProblem);
  CHECK_EQ(problems->aProblem[i].ulIndex, index);
  CHECK_EQ(problems->aProblem[i].ulPropTag, tag);
  CHECK_HR(problems->aProblem[i].scode, scode);
}

/* ---- Deep comparison of two values ------------------------------------------------------ */

static int guid_eq(const GUID *a, const GUID *b) { return memcmp(a, b, sizeof(GUID)) == 0; }

static int bin_eq(const SBinary *a, const SBinary *b) {
  if (a->cb != b->cb) return 0;
  if (a->cb == 0) return 1;
  return a->lpb != NULL && memcmp(a->lpb, b->lpb, a->cb) == 0;
}

static int aligned(const void *ptr, size_t n) { return ((uintptr_t)ptr % n) == 0; }

/* `got` must equal `want` field by field (want's PT_BOOLEAN is compared normalised). */
static void check_value(const SPropValue *got, const SPropValue *want) {
  ULONG i, n;
  const union PV *g = &got->Value, *w = &want->Value;
  if (got->ulPropTag != want->ulPropTag) {
    fprintf(stderr, "tag 0x%08X where 0x%08X was expected\n", (unsigned)got->ulPropTag,
            (unsigned)want->ulPropTag);
    CHECK(got->ulPropTag == want->ulPropTag);
  }
  switch (PROP_TYPE(want->ulPropTag)) {
    case PT_I2: CHECK_EQ(g->i, w->i); break;
    case PT_LONG: CHECK_EQ(g->l, w->l); break;
    case PT_R4: CHECK(memcmp(&g->flt, &w->flt, sizeof(float)) == 0); break;
    case PT_DOUBLE: CHECK(memcmp(&g->dbl, &w->dbl, sizeof(double)) == 0); break;
    case PT_APPTIME: CHECK(memcmp(&g->at, &w->at, sizeof(double)) == 0); break;
    case PT_CURRENCY: CHECK_EQ(g->cur.int64, w->cur.int64); break;
    case PT_BOOLEAN: CHECK_EQ(g->b, w->b ? 1 : 0); break;
    case PT_I8: CHECK_EQ(g->li.QuadPart, w->li.QuadPart); break;
    case PT_STRING8: CHECK_STR(g->lpszA, w->lpszA); break;
    case PT_UNICODE: CHECK_WSTR(g->lpszW, w->lpszW); break;
    case PT_SYSTIME:
      CHECK_EQ(g->ft.dwLowDateTime, w->ft.dwLowDateTime);
      CHECK_EQ(g->ft.dwHighDateTime, w->ft.dwHighDateTime);
      break;
    case PT_CLSID:
      CHECK(g->lpguid != NULL && g->lpguid != w->lpguid);
      CHECK(guid_eq(g->lpguid, w->lpguid));
      break;
    case PT_BINARY: CHECK(bin_eq(&g->bin, &w->bin)); break;
    case PT_MV_I2:
      CHECK_EQ(g->MVi.cValues, w->MVi.cValues);
      for (i = 0; i < w->MVi.cValues; i++) CHECK_EQ(g->MVi.lpi[i], w->MVi.lpi[i]);
      break;
    case PT_MV_LONG:
      CHECK_EQ(g->MVl.cValues, w->MVl.cValues);
      for (i = 0; i < w->MVl.cValues; i++) CHECK_EQ(g->MVl.lpl[i], w->MVl.lpl[i]);
      break;
    case PT_MV_R4:
      CHECK_EQ(g->MVflt.cValues, w->MVflt.cValues);
      CHECK(memcmp(g->MVflt.lpflt, w->MVflt.lpflt, w->MVflt.cValues * sizeof(float)) == 0);
      break;
    case PT_MV_DOUBLE:
      CHECK_EQ(g->MVdbl.cValues, w->MVdbl.cValues);
      CHECK(aligned(g->MVdbl.lpdbl, 8));
      CHECK(memcmp(g->MVdbl.lpdbl, w->MVdbl.lpdbl, w->MVdbl.cValues * sizeof(double)) == 0);
      break;
    case PT_MV_APPTIME:
      CHECK_EQ(g->MVat.cValues, w->MVat.cValues);
      CHECK(aligned(g->MVat.lpat, 8));
      CHECK(memcmp(g->MVat.lpat, w->MVat.lpat, w->MVat.cValues * sizeof(double)) == 0);
      break;
    case PT_MV_CURRENCY:
      CHECK_EQ(g->MVcur.cValues, w->MVcur.cValues);
      CHECK(aligned(g->MVcur.lpcur, 8));
      for (i = 0; i < w->MVcur.cValues; i++)
        CHECK_EQ(g->MVcur.lpcur[i].int64, w->MVcur.lpcur[i].int64);
      break;
    case PT_MV_I8:
      CHECK_EQ(g->MVli.cValues, w->MVli.cValues);
      CHECK(aligned(g->MVli.lpli, 8));
      for (i = 0; i < w->MVli.cValues; i++)
        CHECK_EQ(g->MVli.lpli[i].QuadPart, w->MVli.lpli[i].QuadPart);
      break;
    case PT_MV_SYSTIME:
      CHECK_EQ(g->MVft.cValues, w->MVft.cValues);
      for (i = 0; i < w->MVft.cValues; i++) {
        CHECK_EQ(g->MVft.lpft[i].dwLowDateTime, w->MVft.lpft[i].dwLowDateTime);
        CHECK_EQ(g->MVft.lpft[i].dwHighDateTime, w->MVft.lpft[i].dwHighDateTime);
      }
      break;
    case PT_MV_CLSID:
      CHECK_EQ(g->MVguid.cValues, w->MVguid.cValues);
      for (i = 0; i < w->MVguid.cValues; i++)
        CHECK(guid_eq(&g->MVguid.lpguid[i], &w->MVguid.lpguid[i]));
      break;
    case PT_MV_STRING8:
      n = w->MVszA.cValues;
      CHECK_EQ(g->MVszA.cValues, n);
      for (i = 0; i < n; i++) CHECK_STR(g->MVszA.lppszA[i], w->MVszA.lppszA[i]);
      break;
    case PT_MV_UNICODE:
      n = w->MVszW.cValues;
      CHECK_EQ(g->MVszW.cValues, n);
      for (i = 0; i < n; i++) CHECK_WSTR(g->MVszW.lppszW[i], w->MVszW.lppszW[i]);
      break;
    case PT_MV_BINARY:
      n = w->MVbin.cValues;
      CHECK_EQ(g->MVbin.cValues, n);
      for (i = 0; i < n; i++) CHECK(bin_eq(&g->MVbin.lpbin[i], &w->MVbin.lpbin[i]));
      break;
    default: CHECK(!"check_value: unexpected type in the test");
  }
}

/* ---- Test data: one value of every stored type ------------------------------------------ */

/* "Grüße 😀" in UTF-16 (U+1F600 as the surrogate pair D83D DE00) and in UTF-8. */
static const WCHAR W_GRUSSE[] = {'G', 'r', 0x00FC, 0x00DF, 'e', ' ', 0xD83D, 0xDE00, 0};
static const char U8_GRUSSE[] = "Gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x98\x80";
static const WCHAR W_SMILE_X[] = {0xD83D, 0xDE00, 'x', 0};
static const WCHAR W_EMPTY[] = {0};
static const WCHAR W_LONE_HIGH[] = {'a', 0xD800, 'b', 0};
static const WCHAR W_LONE_LOW[] = {0xDC00, 0};

static int16_t mv_i2[] = {-1, 0, 32767, -32768};
static LONG mv_long[] = {INT32_MIN, 0, INT32_MAX};
static float mv_r4[] = {0.5f, -2.25f, 1e30f};
static double mv_dbl[] = {1.0 / 3.0, -1e300, 0.0};
static CURRENCY mv_cur[2];
static double mv_at[] = {45000.75};
static LARGE_INTEGER mv_i8[2];
static LPSTR mv_sz[] = {(LPSTR) "one", (LPSTR) "", (LPSTR) "tr\xC3\xA9s"};
static LPWSTR mv_wsz[] = {(LPWSTR)W_GRUSSE, (LPWSTR)W_EMPTY, (LPWSTR)W_SMILE_X};
static FILETIME mv_ft[] = {{0x89ABCDEFu, 0x01D9ABCDu}, {0, 0}};
static GUID mv_guid[] = {{0x01234567u, 0x89AB, 0xCDEF, {1, 2, 3, 4, 5, 6, 7, 8}},
                         {0xFFFFFFFFu, 0, 0xFFFF, {0, 0, 0, 0, 0, 0, 0, 0xFF}}};
static BYTE bin_a[] = {0x00, 0x01, 0xFF, 0x80, 0x7F};
static BYTE bin_b[] = {0xAB};
static SBinary mv_bin[3];
static GUID one_guid = {0xFEDCBA98u, 0x7654, 0x3210, {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};

#define N_ALL_TYPES 28

/* Fills `v` with one value of every stored type (scalar and MV), each under its own ID. */
static void all_types(SPropValue v[N_ALL_TYPES]) {
  int k = 0;
  memset(v, 0, sizeof(SPropValue) * N_ALL_TYPES);
  mv_cur[0].int64 = 1234567890123LL;
  mv_cur[1].int64 = -1;
  mv_i8[0].QuadPart = INT64_MIN;
  mv_i8[1].QuadPart = INT64_MAX;
  mv_bin[0].cb = sizeof bin_a;
  mv_bin[0].lpb = bin_a;
  mv_bin[1].cb = 0;
  mv_bin[1].lpb = NULL;
  mv_bin[2].cb = sizeof bin_b;
  mv_bin[2].lpb = bin_b;

  v[k].ulPropTag = TAG(PT_I2, 0), v[k++].Value.i = -12345;
  v[k].ulPropTag = TAG(PT_LONG, 1), v[k++].Value.l = INT32_MIN + 7;
  v[k].ulPropTag = TAG(PT_R4, 2), v[k++].Value.flt = 3.25f;
  v[k].ulPropTag = TAG(PT_DOUBLE, 3), v[k++].Value.dbl = -1.0e300;
  v[k].ulPropTag = TAG(PT_CURRENCY, 4), v[k++].Value.cur.int64 = 1234567890123LL;
  v[k].ulPropTag = TAG(PT_APPTIME, 5), v[k++].Value.at = 45000.75;
  v[k].ulPropTag = TAG(PT_BOOLEAN, 6), v[k++].Value.b = 1;
  v[k].ulPropTag = TAG(PT_I8, 7), v[k++].Value.li.QuadPart = INT64_MIN + 1;
  v[k].ulPropTag = TAG(PT_STRING8, 8), v[k++].Value.lpszA = (LPSTR) "h\xC3\xA9llo, world";
  v[k].ulPropTag = TAG(PT_UNICODE, 9), v[k++].Value.lpszW = (LPWSTR)W_GRUSSE;
  v[k].ulPropTag = TAG(PT_SYSTIME, 10);
  v[k].Value.ft.dwLowDateTime = 0x89ABCDEFu;
  v[k++].Value.ft.dwHighDateTime = 0x01D9ABCDu;
  v[k].ulPropTag = TAG(PT_CLSID, 11), v[k++].Value.lpguid = &one_guid;
  v[k].ulPropTag = TAG(PT_BINARY, 12);
  v[k].Value.bin.cb = sizeof bin_a;
  v[k++].Value.bin.lpb = bin_a;
  v[k].ulPropTag = TAG(PT_BINARY, 13); /* empty, NULL pointer */
  v[k].Value.bin.cb = 0;
  v[k++].Value.bin.lpb = NULL;
  v[k].ulPropTag = TAG(PT_BINARY, 14); /* empty, non-NULL pointer */
  v[k].Value.bin.cb = 0;
  v[k++].Value.bin.lpb = bin_b;
  v[k].ulPropTag = TAG(PT_MV_I2, 15);
  v[k].Value.MVi.cValues = NUM_ELEMS(mv_i2), v[k++].Value.MVi.lpi = mv_i2;
  v[k].ulPropTag = TAG(PT_MV_LONG, 16);
  v[k].Value.MVl.cValues = NUM_ELEMS(mv_long), v[k++].Value.MVl.lpl = mv_long;
  v[k].ulPropTag = TAG(PT_MV_R4, 17);
  v[k].Value.MVflt.cValues = NUM_ELEMS(mv_r4), v[k++].Value.MVflt.lpflt = mv_r4;
  v[k].ulPropTag = TAG(PT_MV_DOUBLE, 18);
  v[k].Value.MVdbl.cValues = NUM_ELEMS(mv_dbl), v[k++].Value.MVdbl.lpdbl = mv_dbl;
  v[k].ulPropTag = TAG(PT_MV_CURRENCY, 19);
  v[k].Value.MVcur.cValues = NUM_ELEMS(mv_cur), v[k++].Value.MVcur.lpcur = mv_cur;
  v[k].ulPropTag = TAG(PT_MV_APPTIME, 20);
  v[k].Value.MVat.cValues = NUM_ELEMS(mv_at), v[k++].Value.MVat.lpat = mv_at;
  v[k].ulPropTag = TAG(PT_MV_I8, 21);
  v[k].Value.MVli.cValues = NUM_ELEMS(mv_i8), v[k++].Value.MVli.lpli = mv_i8;
  v[k].ulPropTag = TAG(PT_MV_STRING8, 22);
  v[k].Value.MVszA.cValues = NUM_ELEMS(mv_sz), v[k++].Value.MVszA.lppszA = mv_sz;
  v[k].ulPropTag = TAG(PT_MV_UNICODE, 23);
  v[k].Value.MVszW.cValues = NUM_ELEMS(mv_wsz), v[k++].Value.MVszW.lppszW = mv_wsz;
  v[k].ulPropTag = TAG(PT_MV_SYSTIME, 24);
  v[k].Value.MVft.cValues = NUM_ELEMS(mv_ft), v[k++].Value.MVft.lpft = mv_ft;
  v[k].ulPropTag = TAG(PT_MV_CLSID, 25);
  v[k].Value.MVguid.cValues = NUM_ELEMS(mv_guid), v[k++].Value.MVguid.lpguid = mv_guid;
  v[k].ulPropTag = TAG(PT_MV_BINARY, 26);
  v[k].Value.MVbin.cValues = NUM_ELEMS(mv_bin), v[k++].Value.MVbin.lpbin = mv_bin;
  v[k].ulPropTag = TAG(PT_BOOLEAN, 27), v[k++].Value.b = 0;
  CHECK_EQ(k, N_ALL_TYPES);
}

/* ---- Sections --------------------------------------------------------------------------- */

static void test_round_trip_every_type(void) {
  SPropValue in[N_ALL_TYPES];
  LPSPropTagArray tags, unspecified;
  LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
  ULONG count = GARBAGE_ULONG, i;
  LPPROPDATA p = new_prop();

  all_types(in);
  set_all(p, N_ALL_TYPES, in);

  /* Explicit tag list: request order, exact types, values field by field. */
  {
    void *buf = NULL;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(N_ALL_TYPES), &buf));
    tags = (LPSPropTagArray)buf;
    tags->cValues = N_ALL_TYPES;
    /* reverse order: results follow the request, not storage order */
    for (i = 0; i < N_ALL_TYPES; i++) tags->aulPropTag[i] = in[N_ALL_TYPES - 1 - i].ulPropTag;
  }
  CHECK_OK(p->lpVtbl->GetProps(p, tags, 0, &count, &out));
  CHECK_EQ(count, N_ALL_TYPES);
  for (i = 0; i < N_ALL_TYPES; i++) check_value(&out[i], &in[N_ALL_TYPES - 1 - i]);
  CHECK_EQ(MAPIFreeBuffer(out), 0);

  /* NULL list (all properties): every value once; strings narrow without MAPI_UNICODE. */
  out = (LPSPropValue)GARBAGE_PTR;
  count = GARBAGE_ULONG;
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, 0, &count, &out));
  CHECK_EQ(count, N_ALL_TYPES);
  for (i = 0; i < N_ALL_TYPES; i++) {
    const SPropValue *got = find_id(out, count, PROP_ID(in[i].ulPropTag));
    CHECK(got != NULL);
    if (PROP_TYPE(in[i].ulPropTag) == PT_UNICODE) {
      CHECK_EQ(got->ulPropTag, CHANGE_PROP_TYPE(in[i].ulPropTag, PT_STRING8));
      CHECK_STR(got->Value.lpszA, U8_GRUSSE);
    } else if (PROP_TYPE(in[i].ulPropTag) == PT_MV_UNICODE) {
      CHECK_EQ(got->ulPropTag, CHANGE_PROP_TYPE(in[i].ulPropTag, PT_MV_STRING8));
      CHECK_EQ(got->Value.MVszA.cValues, 3);
      CHECK_STR(got->Value.MVszA.lppszA[0], U8_GRUSSE);
      CHECK_STR(got->Value.MVszA.lppszA[1], "");
      CHECK_STR(got->Value.MVszA.lppszA[2], "\xF0\x9F\x98\x80x");
    } else {
      check_value(got, &in[i]);
    }
  }
  CHECK_EQ(MAPIFreeBuffer(out), 0);

  /* NULL list with MAPI_UNICODE: strings wide. */
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, MAPI_UNICODE, &count, &out));
  CHECK_EQ(count, N_ALL_TYPES);
  for (i = 0; i < N_ALL_TYPES; i++) {
    const SPropValue *got = find_id(out, count, PROP_ID(in[i].ulPropTag));
    CHECK(got != NULL);
    if (PROP_TYPE(in[i].ulPropTag) == PT_STRING8) {
      static const WCHAR w_hello[] = {'h', 0xE9, 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd', 0};
      CHECK_EQ(got->ulPropTag, CHANGE_PROP_TYPE(in[i].ulPropTag, PT_UNICODE));
      CHECK_WSTR(got->Value.lpszW, w_hello);
    } else if (PROP_TYPE(in[i].ulPropTag) == PT_MV_STRING8) {
      static const WCHAR w_one[] = {'o', 'n', 'e', 0};
      static const WCHAR w_tres[] = {'t', 'r', 0xE9, 's', 0};
      CHECK_EQ(got->ulPropTag, CHANGE_PROP_TYPE(in[i].ulPropTag, PT_MV_UNICODE));
      CHECK_EQ(got->Value.MVszW.cValues, 3);
      CHECK_WSTR(got->Value.MVszW.lppszW[0], w_one);
      CHECK_WSTR(got->Value.MVszW.lppszW[1], W_EMPTY);
      CHECK_WSTR(got->Value.MVszW.lppszW[2], w_tres);
    } else {
      check_value(got, &in[i]);
    }
  }
  CHECK_EQ(MAPIFreeBuffer(out), 0);

  /* PT_UNSPECIFIED: the real type is filled in (strings per MAPI_UNICODE). */
  unspecified = tag_array(3, CHANGE_PROP_TYPE(in[1].ulPropTag, PT_UNSPECIFIED),
                          CHANGE_PROP_TYPE(in[8].ulPropTag, PT_UNSPECIFIED),
                          CHANGE_PROP_TYPE(in[9].ulPropTag, PT_UNSPECIFIED));
  CHECK_OK(p->lpVtbl->GetProps(p, unspecified, 0, &count, &out));
  CHECK_EQ(count, 3);
  check_value(&out[0], &in[1]);
  check_value(&out[1], &in[8]);
  CHECK_EQ(out[2].ulPropTag, CHANGE_PROP_TYPE(in[9].ulPropTag, PT_STRING8));
  CHECK_STR(out[2].Value.lpszA, U8_GRUSSE);
  CHECK_EQ(MAPIFreeBuffer(out), 0);
  CHECK_OK(p->lpVtbl->GetProps(p, unspecified, MAPI_UNICODE, &count, &out));
  CHECK_EQ(count, 3);
  check_value(&out[0], &in[1]);
  CHECK_EQ(out[1].ulPropTag, CHANGE_PROP_TYPE(in[8].ulPropTag, PT_UNICODE));
  check_value(&out[2], &in[9]);
  CHECK_EQ(MAPIFreeBuffer(out), 0);
  MAPIFreeBuffer(unspecified);
  MAPIFreeBuffer(tags);

  /* The same values read through the IMAPIProp view of the vtable. */
  {
    LPMAPIPROP mp = (LPMAPIPROP)p;
    LPSPropTagArray one = tag_array(1, in[12].ulPropTag);
    CHECK_OK(mp->lpVtbl->GetProps(mp, one, 0, &count, &out));
    CHECK_EQ(count, 1);
    check_value(&out[0], &in[12]);
    CHECK_EQ(MAPIFreeBuffer(out), 0);
    MAPIFreeBuffer(one);
  }
  release_last(p);
  printf("  round trip of every property type: ok\n");
}

/* Values are returned whole, whatever their size (DESIGN.md §2, until streams exist). */
static void test_large_values(void) {
  LPPROPDATA p = new_prop();
  ULONG size = test_under_valgrind() ? (1u << 21) + 3 : (1u << 23) + 3; /* 2 or 8 MiB, odd */
  BYTE *data = (BYTE *)malloc(size);
  char *text = (char *)malloc(size);
  ULONG i;
  SPropValue v[2];
  HRESULT hr;
  LPSPropValue out;
  CHECK(data != NULL && text != NULL);
  for (i = 0; i < size; i++) {
    data[i] = (BYTE)(i * 31 + 7);
    text[i] = (char)('a' + i % 26);
  }
  text[size - 1] = 0;
  v[0] = bin_prop(TAG(PT_BINARY, 0), size, data);
  v[1] = str8_prop(PR_BODY_A, text);
  set_all(p, 2, v);
  out = get_one(p, TAG(PT_BINARY, 0), 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(out->Value.bin.cb, size);
  CHECK(memcmp(out->Value.bin.lpb, data, size) == 0);
  CHECK_EQ(MAPIFreeBuffer(out), 0);
  out = get_one(p, PR_BODY_W, 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(wstr_len(out->Value.lpszW), size - 1);
  CHECK_EQ(out->Value.lpszW[size - 2], (WCHAR)text[size - 2]);
  CHECK_EQ(MAPIFreeBuffer(out), 0);
  free(data);
  free(text);
  release_last(p);
  printf("  large values (%lu bytes) returned whole: ok\n", (unsigned long)size);
}

static void test_boolean_and_one_value_per_id(void) {
  LPPROPDATA p = new_prop();
  SPropValue v[2];
  HRESULT hr;
  LPSPropValue out;
  LPSPropTagArray list = NULL;

  /* PT_BOOLEAN: any non-zero is stored and returned as 1. */
  memset(v, 0, sizeof v);
  v[0].ulPropTag = TAG(PT_BOOLEAN, 0);
  v[0].Value.b = 0x1234;
  v[1].ulPropTag = TAG(PT_BOOLEAN, 1);
  v[1].Value.b = 0x0100;
  set_all(p, 2, v);
  out = get_one(p, TAG(PT_BOOLEAN, 0), 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(out->Value.b, 1);
  MAPIFreeBuffer(out);
  out = get_one(p, TAG(PT_BOOLEAN, 1), 0, &hr);
  CHECK_EQ(out->Value.b, 1);
  MAPIFreeBuffer(out);

  /* One value per property ID: PR_SUBJECT_W replaces PR_SUBJECT_A. */
  v[0] = str8_prop(PR_SUBJECT_A, "narrow");
  set_all(p, 1, v);
  v[0] = wstr_prop(PR_SUBJECT_W, W_GRUSSE);
  set_all(p, 1, v);
  CHECK_OK(p->lpVtbl->GetPropList(p, MAPI_UNICODE, &list));
  CHECK_EQ(list->cValues, 3);
  CHECK(list_has(list, PR_SUBJECT_W));
  MAPIFreeBuffer(list);
  out = get_one(p, PR_SUBJECT_A, 0, &hr);
  CHECK_OK(hr);
  CHECK_STR(out->Value.lpszA, U8_GRUSSE); /* the wide value, narrowed: not "narrow" */
  MAPIFreeBuffer(out);

  /* Within one call the later entry for an ID wins. */
  v[0] = str8_prop(PR_SUBJECT_A, "first");
  v[1] = str8_prop(PR_SUBJECT_A, "second");
  set_all(p, 2, v);
  check_string8(p, PR_SUBJECT_A, "second");

  /* A different type under the same ID replaces the string. */
  set_long(p, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_LONG), 42);
  CHECK_EQ(get_long(p, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_LONG)), 42);
  check_absent(p, PR_SUBJECT_A);
  CHECK_EQ(prop_count(p), 3);
  release_last(p);
  printf("  PT_BOOLEAN normalised, one value per ID: ok\n");
}

static void test_string_conversions(void) {
  LPPROPDATA p = new_prop();
  SPropValue v[3];
  HRESULT hr;
  LPSPropValue out;
  ULONG count;
  LPSPropTagArray tags;
  static const WCHAR w_gruss[] = {'G', 'r', 0xFC, 0xDF, 0};
  static LPSTR mv[] = {(LPSTR) "a\xC3\xA9", (LPSTR) "b"};

  v[0] = str8_prop(PR_SUBJECT_A, "Gr\xC3\xBC\xC3\x9F");
  v[1] = wstr_prop(PR_BODY_W, W_SMILE_X);
  memset(&v[2], 0, sizeof v[2]);
  v[2].ulPropTag = TAG(PT_MV_STRING8, 30);
  v[2].Value.MVszA.cValues = 2;
  v[2].Value.MVszA.lppszA = mv;
  set_all(p, 3, v);

  /* Explicit conversions on request, both ways. */
  out = get_one(p, PR_SUBJECT_W, 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(out->ulPropTag, PR_SUBJECT_W);
  CHECK_WSTR(out->Value.lpszW, w_gruss);
  MAPIFreeBuffer(out);
  out = get_one(p, PR_BODY_A, 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(out->ulPropTag, PR_BODY_A);
  CHECK_STR(out->Value.lpszA, "\xF0\x9F\x98\x80x");
  MAPIFreeBuffer(out);
  out = get_one(p, TAG(PT_MV_UNICODE, 30), 0, &hr);
  CHECK_OK(hr);
  CHECK_EQ(out->Value.MVszW.cValues, 2);
  {
    static const WCHAR w_ae[] = {'a', 0xE9, 0};
    static const WCHAR w_b[] = {'b', 0};
    CHECK_WSTR(out->Value.MVszW.lppszW[0], w_ae);
    CHECK_WSTR(out->Value.MVszW.lppszW[1], w_b);
  }
  MAPIFreeBuffer(out);

  /* NULL list: widths follow MAPI_UNICODE, and vice versa. */
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, 0, &count, &out));
  CHECK_EQ(count, 3);
  CHECK(find_id(out, count, PROP_ID(PR_SUBJECT_A))->ulPropTag == PR_SUBJECT_A);
  CHECK(find_id(out, count, PROP_ID(PR_BODY_A))->ulPropTag == PR_BODY_A);
  CHECK(find_id(out, count, ID(30))->ulPropTag == TAG(PT_MV_STRING8, 30));
  MAPIFreeBuffer(out);
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, MAPI_UNICODE, &count, &out));
  CHECK_EQ(count, 3);
  CHECK(find_id(out, count, PROP_ID(PR_SUBJECT_A))->ulPropTag == PR_SUBJECT_W);
  CHECK_WSTR(find_id(out, count, PROP_ID(PR_SUBJECT_A))->Value.lpszW, w_gruss);
  CHECK(find_id(out, count, PROP_ID(PR_BODY_A))->ulPropTag == PR_BODY_W);
  CHECK_WSTR(find_id(out, count, PROP_ID(PR_BODY_A))->Value.lpszW, W_SMILE_X);
  CHECK(find_id(out, count, ID(30))->ulPropTag == TAG(PT_MV_UNICODE, 30));
  MAPIFreeBuffer(out);

  /* PT_UNSPECIFIED likewise. */
  tags = tag_array(2, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_UNSPECIFIED),
                   CHANGE_PROP_TYPE(PR_BODY_A, PT_UNSPECIFIED));
  CHECK_OK(p->lpVtbl->GetProps(p, tags, MAPI_UNICODE, &count, &out));
  CHECK_EQ(out[0].ulPropTag, PR_SUBJECT_W);
  CHECK_EQ(out[1].ulPropTag, PR_BODY_W);
  MAPIFreeBuffer(out);
  CHECK_OK(p->lpVtbl->GetProps(p, tags, 0, &count, &out));
  CHECK_EQ(out[0].ulPropTag, PR_SUBJECT_A);
  CHECK_EQ(out[1].ulPropTag, PR_BODY_A);
  CHECK_STR(out[1].Value.lpszA, "\xF0\x9F\x98\x80x");
  MAPIFreeBuffer(out);
  MAPIFreeBuffer(tags);

  /* An explicit type wins over MAPI_UNICODE. */
  tags = tag_array(2, PR_SUBJECT_A, PR_BODY_W);
  CHECK_OK(p->lpVtbl->GetProps(p, tags, MAPI_UNICODE, &count, &out));
  CHECK_EQ(out[0].ulPropTag, PR_SUBJECT_A);
  CHECK_STR(out[0].Value.lpszA, "Gr\xC3\xBC\xC3\x9F");
  CHECK_EQ(out[1].ulPropTag, PR_BODY_W);
  MAPIFreeBuffer(out);
  MAPIFreeBuffer(tags);

  /* PT_STRING8 that is not UTF-8 is kept byte for byte; widening it is MAPI_E_BAD_CHARWIDTH. */
  v[0] = str8_prop(PR_SUBJECT_A, "\xFF\xFE latin-1 \xE9");
  set_all(p, 1, v);
  check_string8(p, PR_SUBJECT_A, "\xFF\xFE latin-1 \xE9");
  out = get_one(p, PR_SUBJECT_W, 0, &hr);
  CHECK_HR(hr, MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(out->ulPropTag, CHANGE_PROP_TYPE(PR_SUBJECT_W, PT_ERROR));
  CHECK_HR(out->Value.err, MAPI_E_BAD_CHARWIDTH);
  MAPIFreeBuffer(out);
  release_last(p);
  printf("  PT_STRING8 <-> PT_UNICODE conversions: ok\n");
}

static void test_get_props_errors(void) {
  LPPROPDATA p = new_prop();
  LPSPropTagArray tags;
  LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
  ULONG count = GARBAGE_ULONG;
  SPropValue v = str8_prop(PR_SUBJECT_A, "here");

  /* An empty object with a NULL list: S_OK, 0, NULL. */
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, 0, &count, &out));
  CHECK_EQ(count, 0);
  CHECK(out == NULL);

  set_all(p, 1, &v);

  /* Missing properties: PT_ERROR / MAPI_E_NOT_FOUND, MAPI_W_ERRORS_RETURNED, one free. */
  tags = tag_array(3, PR_SUBJECT_A, TAG(PT_LONG, 40), PR_BODY_W);
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &count, &out), MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(count, 3);
  CHECK_EQ(out[0].ulPropTag, PR_SUBJECT_A);
  CHECK_STR(out[0].Value.lpszA, "here");
  CHECK_EQ(out[1].ulPropTag, CHANGE_PROP_TYPE(TAG(PT_LONG, 40), PT_ERROR));
  CHECK_HR(out[1].Value.err, MAPI_E_NOT_FOUND);
  CHECK_EQ(out[2].ulPropTag, CHANGE_PROP_TYPE(PR_BODY_W, PT_ERROR));
  CHECK_HR(out[2].Value.err, MAPI_E_NOT_FOUND);
  CHECK_EQ(MAPIFreeBuffer(out), 0);

  /* A stored property asked for with a type it cannot have: PT_ERROR too. */
  MAPIFreeBuffer(tags);
  tags = tag_array(1, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_LONG));
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &count, &out), MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(out[0].ulPropTag, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_ERROR));
  CHECK_EQ(MAPIFreeBuffer(out), 0);

  /* cValues == 0 */
  tags->cValues = 0;
  out = (LPSPropValue)GARBAGE_PTR;
  count = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &count, &out), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(count, 0);
  CHECK(out == NULL);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "GetProps");
  tags->cValues = 1;

  /* Unknown flags */
  out = (LPSPropValue)GARBAGE_PTR;
  count = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0x1, &count, &out), MAPI_E_UNKNOWN_FLAGS);
  CHECK_EQ(count, 0);
  CHECK(out == NULL);

  /* An absurd tag count is refused before the (one-entry) array is read. */
  tags->cValues = 0xFFFFFFFFu;
  out = (LPSPropValue)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &count, &out), MAPI_E_INVALID_PARAMETER);
  CHECK(out == NULL);
  tags->cValues = 1;

  /* NULL out-pointers: the other one is still cleared. */
  out = (LPSPropValue)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, NULL, &out), MAPI_E_INVALID_PARAMETER);
  CHECK(out == NULL);
  count = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetProps(p, tags, 0, &count, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(count, 0);
  MAPIFreeBuffer(tags);
  release_last(p);
  printf("  GetProps: missing properties and bad arguments: ok\n");
}

static void test_set_props_rules(void) {
  LPPROPDATA p = new_prop();
  SPropValue v[6];
  LPSPropProblemArray problems;
  LPSPropTagArray list = NULL;
  LONG zero_mv[1] = {0};
  static LPSTR mv_with_null[] = {(LPSTR) "x", NULL};
  static const WCHAR *mv_bad_w[] = {W_SMILE_X, W_LONE_LOW};

  /* PR_NULL and PT_ERROR entries are ignored, with no problem entry. */
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PR_NULL;
  v[1].ulPropTag = TAG(PT_ERROR, 1);
  v[1].Value.err = MAPI_E_NOT_FOUND;
  v[2] = long_prop(TAG(PT_LONG, 2), 7);
  set_all(p, 3, v);
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK_EQ(list->cValues, 1);
  CHECK_EQ(list->aulPropTag[0], TAG(PT_LONG, 2));
  MAPIFreeBuffer(list);

  /* Whole-call failures: nothing in the call is applied, lppProblems stays NULL. */
#define EXPECT_REJECTED(nvals)                                                             \
  do {                                                                                     \
    problems = (LPSPropProblemArray)GARBAGE_PTR;                                           \
    CHECK_HR(p->lpVtbl->SetProps(p, (nvals), v, &problems), MAPI_E_INVALID_PARAMETER);     \
    CHECK(problems == NULL);                                                               \
    check_absent(p, TAG(PT_LONG, 3));                                                      \
    CHECK_EQ(get_long(p, TAG(PT_LONG, 2)), 7);                                             \
  } while (0)

  v[0] = long_prop(TAG(PT_LONG, 3), 1); /* valid, must not be applied */
  v[1] = long_prop(TAG(PT_LONG, 2), 8); /* a change, must not be applied */
  memset(&v[2], 0, sizeof v[2]);

  v[2].ulPropTag = TAG(PT_OBJECT, 4); /* PT_OBJECT */
  EXPECT_REJECTED(3);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "SetProps");
  memset(&v[2], 0, sizeof v[2]);
  v[2].ulPropTag = TAG(PT_MV_LONG, 4); /* MV with cValues == 0 */
  v[2].Value.MVl.cValues = 0;
  v[2].Value.MVl.lpl = zero_mv;
  EXPECT_REJECTED(3);
  v[2] = str8_prop(PR_SUBJECT_A, NULL); /* NULL string */
  EXPECT_REJECTED(3);
  v[2] = wstr_prop(PR_SUBJECT_W, NULL); /* NULL wide string */
  EXPECT_REJECTED(3);
  v[2] = bin_prop(TAG(PT_BINARY, 4), 5, NULL); /* NULL binary with cb 5 */
  EXPECT_REJECTED(3);
  memset(&v[2], 0, sizeof v[2]);
  v[2].ulPropTag = TAG(PT_CLSID, 4); /* NULL GUID pointer */
  EXPECT_REJECTED(3);
  v[2].ulPropTag = TAG(PT_MV_STRING8, 4); /* a NULL string inside an MV value */
  v[2].Value.MVszA.cValues = 2;
  v[2].Value.MVszA.lppszA = mv_with_null;
  EXPECT_REJECTED(3);
  memset(&v[2], 0, sizeof v[2]);
  v[2].ulPropTag = TAG(PT_MV_BINARY, 4); /* NULL array with cValues 2 */
  v[2].Value.MVbin.cValues = 2;
  EXPECT_REJECTED(3);
  memset(&v[2], 0, sizeof v[2]);
  v[2].ulPropTag = TAG(PT_MV_BINARY, 4); /* MV with cValues == 0 (and a NULL pointer) */
  EXPECT_REJECTED(3);
#undef EXPECT_REJECTED

  /* cValues == 0, NULL array */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->SetProps(p, 0, v, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->SetProps(p, 1, NULL, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);

  /* Per-property problems: unsupported types and bad UTF-16, the valid entries applied. */
  memset(v, 0, sizeof v);
  v[0] = long_prop(TAG(PT_LONG, 10), 10);
  v[1].ulPropTag = TAG(PT_PTR, 11); /* PT_PTR 0x0103 */
  v[1].Value.lpv = GARBAGE_PTR;
  v[2].ulPropTag = TAG(PT_SVREID, 12);
  v[3] = wstr_prop(TAG(PT_UNICODE, 13), W_LONE_HIGH);
  v[4].ulPropTag = TAG(PT_MV_UNICODE, 14);
  v[4].Value.MVszW.cValues = 2;
  v[4].Value.MVszW.lppszW = (LPWSTR *)mv_bad_w;
  v[5] = long_prop(TAG(PT_LONG, 15), 15);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->SetProps(p, 6, v, &problems));
  CHECK(problems != NULL && problems != GARBAGE_PTR);
  CHECK_EQ(problems->cProblem, 4);
  check_problem(problems, 0, 1, TAG(PT_PTR, 11), MAPI_E_INVALID_TYPE);
  check_problem(problems, 1, 2, TAG(PT_SVREID, 12), MAPI_E_INVALID_TYPE);
  check_problem(problems, 2, 3, TAG(PT_UNICODE, 13), MAPI_E_BAD_CHARWIDTH);
  check_problem(problems, 3, 4, TAG(PT_MV_UNICODE, 14), MAPI_E_BAD_CHARWIDTH);
  CHECK_EQ(MAPIFreeBuffer(problems), 0);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 10)), 10);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 15)), 15);
  check_absent(p, TAG(PT_PTR, 11));
  check_absent(p, TAG(PT_UNICODE, 13));
  check_absent(p, TAG(PT_MV_UNICODE, 14));

  /* lppProblems may be NULL. */
  v[0] = long_prop(TAG(PT_LONG, 10), 11);
  CHECK_OK(p->lpVtbl->SetProps(p, 6, v, NULL));
  CHECK_EQ(get_long(p, TAG(PT_LONG, 10)), 11);

  /* Absurd counts are refused before anything is read (the pointers are tiny). */
  memset(v, 0, sizeof v);
  v[0] = long_prop(TAG(PT_LONG, 17), 17);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->SetProps(p, 0x7FFFFFFFu, v, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  CHECK_HR(p->lpVtbl->SetProps(p, 0xFFFFFFFFu, v, NULL), MAPI_E_INVALID_PARAMETER);
  v[1].ulPropTag = TAG(PT_MV_LONG, 18);
  v[1].Value.MVl.cValues = 0xFFFFFFF0u;
  v[1].Value.MVl.lpl = zero_mv;
  CHECK_HR(p->lpVtbl->SetProps(p, 2, v, NULL), MAPI_E_INVALID_PARAMETER);
  check_absent(p, TAG(PT_LONG, 17));

  /* Invalid property IDs (0 and 0xFFFF) are per-property problems. */
  v[0] = long_prop(PROP_TAG(PT_LONG, 0), 1);
  v[1] = long_prop(PROP_TAG(PT_LONG, 0xFFFF), 1);
  v[2] = long_prop(TAG(PT_LONG, 16), 16);
  problems = NULL;
  CHECK_OK(p->lpVtbl->SetProps(p, 3, v, &problems));
  CHECK_EQ(problems->cProblem, 2);
  CHECK_EQ(problems->aProblem[0].ulIndex, 0);
  CHECK(FAILED(problems->aProblem[0].scode));
  CHECK_EQ(problems->aProblem[1].ulIndex, 1);
  CHECK(FAILED(problems->aProblem[1].scode));
  MAPIFreeBuffer(problems);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 16)), 16);
  release_last(p);
  printf("  SetProps: ignored entries, whole-call and per-property failures: ok\n");
}

static void test_delete_props_and_prop_list(void) {
  LPPROPDATA p = new_prop();
  SPropValue v[3];
  LPSPropTagArray tags, list = (LPSPropTagArray)GARBAGE_PTR;
  LPSPropProblemArray problems;

  /* GetPropList on an empty object: an array with cValues 0, not an error. */
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK(list != NULL && list != GARBAGE_PTR);
  CHECK_EQ(list->cValues, 0);
  CHECK_EQ(MAPIFreeBuffer(list), 0);
  list = (LPSPropTagArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetPropList(p, 0x1, &list), MAPI_E_UNKNOWN_FLAGS);
  CHECK(list == NULL);
  CHECK_HR(p->lpVtbl->GetPropList(p, 0, NULL), MAPI_E_INVALID_PARAMETER);

  v[0] = str8_prop(PR_SUBJECT_A, "s");
  v[1] = wstr_prop(PR_BODY_W, W_GRUSSE);
  v[2] = long_prop(TAG(PT_LONG, 1), 1);
  set_all(p, 3, v);
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK_EQ(list->cValues, 3);
  CHECK(list_has(list, PR_SUBJECT_A) && list_has(list, PR_BODY_A));
  CHECK(list_has(list, TAG(PT_LONG, 1)));
  MAPIFreeBuffer(list);
  CHECK_OK(p->lpVtbl->GetPropList(p, MAPI_UNICODE, &list));
  CHECK_EQ(list->cValues, 3);
  CHECK(list_has(list, PR_SUBJECT_W) && list_has(list, PR_BODY_W));
  MAPIFreeBuffer(list);

  /* DeleteProps matches IDs only; absent properties are not a problem. */
  tags = tag_array(2, CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_LONG), TAG(PT_LONG, 99));
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->DeleteProps(p, tags, &problems));
  CHECK(problems == NULL);
  check_absent(p, PR_SUBJECT_A);
  CHECK_EQ(prop_count(p), 2);
  MAPIFreeBuffer(tags);
  tags = tag_array(1, PR_BODY_A); /* the narrow tag deletes the wide value */
  CHECK_OK(p->lpVtbl->DeleteProps(p, tags, NULL));
  CHECK_EQ(prop_count(p), 1);

  /* NULL list or cValues 0 */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->DeleteProps(p, NULL, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "DeleteProps");
  tags->cValues = 0;
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->DeleteProps(p, tags, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  MAPIFreeBuffer(tags);
  CHECK_EQ(prop_count(p), 1);
  release_last(p);
  printf("  DeleteProps and GetPropList: ok\n");
}

/* ---- A foreign IMAPIProp implemented here, to be a CopyTo/CopyProps destination ----------- */

#define FOREIGN_MAX 32

typedef struct ForeignProp {
  IMAPIProp iface; /* first: the interface pointer is the object pointer */
  ULONG refs;
  int setprops_calls;
  int getproplist_calls;
  HRESULT setprops_result; /* what SetProps returns (S_OK normally) */
  ULONG readonly_id;       /* a property ID SetProps refuses with MAPI_E_NO_ACCESS (0: none) */
  ULONG count;
  LPSPropValue vals[FOREIGN_MAX]; /* each one MAPIAllocateBuffer block (value + its data) */
} ForeignProp;

static ForeignProp *foreign_of(struct IMAPIProp *This) { return (ForeignProp *)This; }

static HRESULT f_QueryInterface(struct IMAPIProp *This, const IID *riid, void **ppv) {
  if (ppv == NULL || riid == NULL) return MAPI_E_INVALID_PARAMETER;
  if (memcmp(riid, &IID_IUnknown, sizeof(IID)) == 0 ||
      memcmp(riid, &IID_IMAPIProp, sizeof(IID)) == 0) {
    foreign_of(This)->refs++;
    *ppv = This;
    return S_OK;
  }
  *ppv = NULL;
  return E_NOINTERFACE;
}

static ULONG f_AddRef(struct IMAPIProp *This) { return ++foreign_of(This)->refs; }

static ULONG f_Release(struct IMAPIProp *This) {
  ForeignProp *f = foreign_of(This);
  ULONG i, left = --f->refs;
  if (left == 0) {
    for (i = 0; i < f->count; i++) MAPIFreeBuffer(f->vals[i]);
    free(f);
  }
  return left;
}

static HRESULT f_GetLastError(struct IMAPIProp *This, HRESULT hr, ULONG fl, LPMAPIERROR *pp) {
  (void)This, (void)hr, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_SaveChanges(struct IMAPIProp *This, ULONG fl) {
  (void)This, (void)fl;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_GetProps(struct IMAPIProp *This, LPSPropTagArray t, ULONG fl, ULONG *pc,
                          LPSPropValue *pp) {
  (void)This, (void)t, (void)fl, (void)pc, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_OpenProperty(struct IMAPIProp *This, ULONG tag, LPCIID iid, ULONG opt, ULONG fl,
                              struct IUnknown **pp) {
  (void)This, (void)tag, (void)iid, (void)opt, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_DeleteProps(struct IMAPIProp *This, LPSPropTagArray t,
                             LPSPropProblemArray *pp) {
  (void)This, (void)t, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_CopyTo(struct IMAPIProp *This, ULONG ci, LPCIID rgi, LPSPropTagArray ex,
                        ULONG_PTR ui, struct IMAPIProgress *prog, LPCIID iid, LPVOID dest,
                        ULONG fl, LPSPropProblemArray *pp) {
  (void)This, (void)ci, (void)rgi, (void)ex, (void)ui, (void)prog, (void)iid, (void)dest,
      (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_CopyProps(struct IMAPIProp *This, LPSPropTagArray inc, ULONG_PTR ui,
                           struct IMAPIProgress *prog, LPCIID iid, LPVOID dest, ULONG fl,
                           LPSPropProblemArray *pp) {
  (void)This, (void)inc, (void)ui, (void)prog, (void)iid, (void)dest, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_GetNamesFromIDs(struct IMAPIProp *This, LPSPropTagArray *t, LPGUID g, ULONG fl,
                                 ULONG *pc, LPMAPINAMEID **pp) {
  (void)This, (void)t, (void)g, (void)fl, (void)pc, (void)pp;
  return MAPI_E_NO_SUPPORT;
}
static HRESULT f_GetIDsFromNames(struct IMAPIProp *This, ULONG c, LPMAPINAMEID *names, ULONG fl,
                                 LPSPropTagArray *pp) {
  (void)This, (void)c, (void)names, (void)fl, (void)pp;
  return MAPI_E_NO_SUPPORT;
}

static HRESULT f_GetPropList(struct IMAPIProp *This, ULONG flags, LPSPropTagArray *pp) {
  ForeignProp *f = foreign_of(This);
  void *buf = NULL;
  ULONG i;
  if (pp == NULL || flags & ~MAPI_UNICODE) return MAPI_E_INVALID_PARAMETER;
  f->getproplist_calls++;
  if (MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(f->count), &buf) != S_OK)
    return MAPI_E_NOT_ENOUGH_MEMORY;
  *pp = (LPSPropTagArray)buf;
  (*pp)->cValues = f->count;
  for (i = 0; i < f->count; i++) (*pp)->aulPropTag[i] = f->vals[i]->ulPropTag;
  return S_OK;
}

/* A deep copy of one value into its own MAPIAllocateBuffer block (the types the copy tests use). */
static LPSPropValue foreign_copy_value(const SPropValue *src) {
  void *root = NULL, *more = NULL;
  LPSPropValue dst;
  size_t n;
  CHECK_OK(MAPIAllocateBuffer(sizeof(SPropValue), &root));
  dst = (LPSPropValue)root;
  *dst = *src;
  switch (PROP_TYPE(src->ulPropTag)) {
    case PT_LONG:
    case PT_BOOLEAN:
    case PT_I8: break;
    case PT_STRING8:
      n = strlen(src->Value.lpszA) + 1;
      CHECK_OK(MAPIAllocateMore((ULONG)n, root, &more));
      memcpy(more, src->Value.lpszA, n);
      dst->Value.lpszA = (LPSTR)more;
      break;
    case PT_UNICODE:
      n = (wstr_len(src->Value.lpszW) + 1) * sizeof(WCHAR);
      CHECK_OK(MAPIAllocateMore((ULONG)n, root, &more));
      memcpy(more, src->Value.lpszW, n);
      dst->Value.lpszW = (LPWSTR)more;
      break;
    case PT_BINARY:
      CHECK_OK(MAPIAllocateMore(src->Value.bin.cb, root, &more));
      if (src->Value.bin.cb) memcpy(more, src->Value.bin.lpb, src->Value.bin.cb);
      dst->Value.bin.lpb = (LPBYTE)more;
      break;
    case PT_MV_LONG:
      n = src->Value.MVl.cValues * sizeof(LONG);
      CHECK_OK(MAPIAllocateMore((ULONG)n, root, &more));
      memcpy(more, src->Value.MVl.lpl, n);
      dst->Value.MVl.lpl = (LONG *)more;
      break;
    default: CHECK(!"foreign object: a type the copy tests do not use");
  }
  return dst;
}

static LPSPropValue foreign_find(ForeignProp *f, ULONG id) {
  ULONG i;
  for (i = 0; i < f->count; i++)
    if (PROP_ID(f->vals[i]->ulPropTag) == id) return f->vals[i];
  return NULL;
}

static HRESULT f_SetProps(struct IMAPIProp *This, ULONG c, LPSPropValue vals,
                          LPSPropProblemArray *pp) {
  ForeignProp *f = foreign_of(This);
  ULONG i, j, nprob = 0;
  ULONG prob_index[FOREIGN_MAX];
  f->setprops_calls++;
  if (pp) *pp = NULL;
  if (f->setprops_result != S_OK) return f->setprops_result;
  if (c == 0 || vals == NULL) return MAPI_E_INVALID_PARAMETER;
  for (i = 0; i < c; i++) {
    ULONG id = PROP_ID(vals[i].ulPropTag);
    if (id == f->readonly_id) {
      prob_index[nprob++] = i;
      continue;
    }
    for (j = 0; j < f->count; j++) {
      if (PROP_ID(f->vals[j]->ulPropTag) == id) {
        MAPIFreeBuffer(f->vals[j]);
        f->vals[j] = f->vals[--f->count];
        break;
      }
    }
    CHECK(f->count < FOREIGN_MAX);
    f->vals[f->count++] = foreign_copy_value(&vals[i]);
  }
  if (nprob && pp) {
    void *buf = NULL;
    LPSPropProblemArray arr;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSPropProblemArray(nprob), &buf));
    arr = (LPSPropProblemArray)buf;
    arr->cProblem = nprob;
    for (i = 0; i < nprob; i++) {
      arr->aProblem[i].ulIndex = prob_index[i];
      arr->aProblem[i].ulPropTag = vals[prob_index[i]].ulPropTag;
      arr->aProblem[i].scode = MAPI_E_NO_ACCESS;
    }
    *pp = arr;
  }
  return S_OK;
}

static const IMAPIPropVtbl foreign_vtbl = {
    f_QueryInterface, f_AddRef,        f_Release,     f_GetLastError,    f_SaveChanges,
    f_GetProps,       f_GetPropList,   f_OpenProperty, f_SetProps,       f_DeleteProps,
    f_CopyTo,         f_CopyProps,     f_GetNamesFromIDs, f_GetIDsFromNames};

static ForeignProp *new_foreign(void) {
  ForeignProp *f = (ForeignProp *)calloc(1, sizeof(ForeignProp));
  CHECK(f != NULL);
  f->iface.lpVtbl = &foreign_vtbl;
  f->refs = 1;
  return f;
}

/* ---- CopyTo / CopyProps ----------------------------------------------------------------- */

static const BYTE copy_bin[] = {9, 8, 7};
static LONG copy_mv[] = {1, 2, 3};
#define N_COPY 5

/* A source object with five properties (A long, B string, C wide string, D binary, E MV long). */
static void copy_values(SPropValue v[N_COPY]) {
  v[0] = long_prop(TAG(PT_LONG, 50), 50);
  v[1] = str8_prop(TAG(PT_STRING8, 51), "bee");
  v[2] = wstr_prop(TAG(PT_UNICODE, 52), W_GRUSSE);
  v[3] = bin_prop(TAG(PT_BINARY, 53), sizeof copy_bin, copy_bin);
  memset(&v[4], 0, sizeof v[4]);
  v[4].ulPropTag = TAG(PT_MV_LONG, 54);
  v[4].Value.MVl.cValues = 3;
  v[4].Value.MVl.lpl = copy_mv;
}

static LPPROPDATA copy_source(void) {
  SPropValue v[N_COPY];
  LPPROPDATA p = new_prop();
  copy_values(v);
  set_all(p, N_COPY, v);
  return p;
}

/* Every value of the source is in `dst` (one of ours), skipping `skip_id` (0: none). */
static void check_copied(LPPROPDATA dst, ULONG skip_id) {
  SPropValue v[N_COPY];
  ULONG i;
  HRESULT hr;
  copy_values(v);
  for (i = 0; i < N_COPY; i++) {
    LPSPropValue got;
    if (PROP_ID(v[i].ulPropTag) == skip_id) continue;
    got = get_one(dst, v[i].ulPropTag, 0, &hr);
    CHECK_OK(hr);
    check_value(got, &v[i]);
    MAPIFreeBuffer(got);
  }
}

/* The i-th source value (of copy_values) is in `dst`. */
static void check_copied_one(LPPROPDATA dst, int i) {
  SPropValue v[N_COPY];
  HRESULT hr;
  LPSPropValue got;
  copy_values(v);
  got = get_one(dst, v[i].ulPropTag, 0, &hr);
  CHECK_OK(hr);
  check_value(got, &v[i]);
  MAPIFreeBuffer(got);
}

static void check_foreign_copied(ForeignProp *f, ULONG skip_id) {
  SPropValue v[N_COPY];
  ULONG i;
  copy_values(v);
  for (i = 0; i < N_COPY; i++) {
    LPSPropValue got;
    if (PROP_ID(v[i].ulPropTag) == skip_id) continue;
    got = foreign_find(f, PROP_ID(v[i].ulPropTag));
    CHECK(got != NULL);
    check_value(got, &v[i]);
  }
}

#define COPY_TO(src, ciid, rgiid, excl, iid, dest, flags, pprob) \
  (src)->lpVtbl->CopyTo((src), (ciid), (rgiid), (excl), 0, NULL, (iid), (dest), (flags), (pprob))
#define COPY_PROPS(src, incl, iid, dest, flags, pprob) \
  (src)->lpVtbl->CopyProps((src), (incl), 0, NULL, (iid), (dest), (flags), (pprob))

static void test_copy_to_ours(void) {
  LPPROPDATA src = copy_source(), dst = new_prop();
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  LPSPropTagArray excl, incl;
  IID excluded[2];
  SPropValue existing = str8_prop(TAG(PT_STRING8, 51), "existing");

  /* Plain copy: every property, the destination's value replaced. */
  set_all(dst, 1, &existing);
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, &IID_IMAPIProp, dst, 0, &problems));
  CHECK(problems == NULL);
  check_copied(dst, 0);
  CHECK_EQ(prop_count(dst), N_COPY);
  CHECK_EQ(prop_count(src), N_COPY);
  release_last(dst);

  /* MAPI_NOREPLACE: existing destination values are kept. */
  dst = new_prop();
  set_all(dst, 1, &existing);
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst, MAPI_NOREPLACE, NULL));
  check_string8(dst, TAG(PT_STRING8, 51), "existing");
  check_copied(dst, ID(51));
  release_last(dst);

  /* Exclusion list (by ID: the type is ignored). */
  dst = new_prop();
  excl = tag_array(2, TAG(PT_LONG, 50), TAG(PT_LONG, 51));
  CHECK_OK(COPY_TO(src, 0, NULL, excl, &IID_IMAPIPropData, dst, 0, NULL));
  check_absent(dst, TAG(PT_LONG, 50));
  check_absent(dst, TAG(PT_STRING8, 51));
  CHECK_EQ(prop_count(dst), N_COPY - 2);
  MAPIFreeBuffer(excl);
  release_last(dst);

  /* rgiidExclude with IID_IMAPIProp copies nothing; an unrelated IID changes nothing. */
  dst = new_prop();
  excluded[0] = IID_IMessage;
  excluded[1] = IID_IMAPIProp;
  CHECK_OK(COPY_TO(src, 2, excluded, NULL, NULL, dst, 0, NULL));
  CHECK_EQ(prop_count(dst), 0);
  CHECK_OK(COPY_TO(src, 1, excluded, NULL, NULL, dst, 0, NULL));
  CHECK_EQ(prop_count(dst), N_COPY);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 1, NULL, NULL, NULL, dst, 0, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  release_last(dst);

  /* Errors: itself, NULL destination (also when everything is excluded), flags, interface. */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, src, 0, &problems), MAPI_E_NO_ACCESS);
  CHECK(problems == NULL);
  check_last_error(src, MAPI_E_NO_ACCESS, "CopyTo");
  CHECK_HR(COPY_TO(src, 1, excluded + 1, NULL, NULL, src, 0, NULL), MAPI_E_NO_ACCESS);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, NULL, 0, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  CHECK_HR(COPY_TO(src, 1, excluded + 1, NULL, NULL, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  dst = new_prop();
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, dst, 0x100, &problems), MAPI_E_UNKNOWN_FLAGS);
  CHECK(problems == NULL);
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, &IID_IStream, dst, 0, NULL),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_EQ(prop_count(dst), 0);

  /* A read-only destination refuses the whole copy; a read-only property is a problem. */
  CHECK_OK(dst->lpVtbl->HrSetObjAccess(dst, IPROP_READONLY));
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, dst, 0, NULL), MAPI_E_NO_ACCESS);
  CHECK_OK(dst->lpVtbl->HrSetObjAccess(dst, IPROP_READWRITE));
  {
    LPSPropTagArray ro = tag_array(1, TAG(PT_UNICODE, 52));
    ULONG access = IPROP_READONLY | IPROP_CLEAN;
    CHECK_OK(dst->lpVtbl->HrSetPropAccess(dst, ro, &access));
    MAPIFreeBuffer(ro);
  }
  problems = NULL;
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst, 0, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  CHECK_EQ(problems->aProblem[0].ulPropTag, TAG(PT_UNICODE, 52));
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(problems);
  check_copied(dst, ID(52));
  check_absent(dst, TAG(PT_UNICODE, 52));

  /* MAPI_MOVE onto that destination: the copied properties leave the source, the refused one
   * stays (a move must not lose data). */
  {
    LPPROPDATA dst2 = new_prop();
    CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst2, MAPI_MOVE, NULL));
    check_copied(dst2, 0);
    CHECK_EQ(prop_count(src), 0);
    /* move it back, through the destination with the read-only property */
    CHECK_OK(COPY_TO(dst2, 0, NULL, NULL, NULL, src, MAPI_MOVE, NULL));
    CHECK_EQ(prop_count(dst2), 0);
    CHECK_EQ(prop_count(src), N_COPY);
    release_last(dst2);
  }
  problems = NULL;
  release_last(dst);
  dst = new_prop();
  {
    LPSPropTagArray ro = tag_array(1, TAG(PT_UNICODE, 52));
    ULONG access = IPROP_READONLY | IPROP_DIRTY;
    CHECK_OK(dst->lpVtbl->HrSetPropAccess(dst, ro, &access));
    MAPIFreeBuffer(ro);
  }
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst, MAPI_MOVE, &problems));
  CHECK(problems != NULL && problems->cProblem == 1);
  MAPIFreeBuffer(problems);
  CHECK_EQ(prop_count(src), 1);
  check_string8(dst, TAG(PT_STRING8, 51), "bee");
  check_copied_one(src, 2);
  release_last(dst);
  release_last(src);

  /* MAPI_MOVE | MAPI_NOREPLACE: what the destination already had is neither replaced there nor
   * deleted here. */
  src = copy_source();
  dst = new_prop();
  existing = str8_prop(TAG(PT_STRING8, 51), "existing");
  set_all(dst, 1, &existing);
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst, MAPI_MOVE | MAPI_NOREPLACE, NULL));
  check_string8(dst, TAG(PT_STRING8, 51), "existing");
  check_copied(dst, ID(51));
  CHECK_EQ(prop_count(src), 1);
  check_string8(src, TAG(PT_STRING8, 51), "bee");
  release_last(dst);
  release_last(src);

  /* CopyProps: only the included properties; a missing one is a NOT_FOUND problem at its index
   * in the include list. */
  src = copy_source();
  dst = new_prop();
  incl = tag_array(3, TAG(PT_LONG, 50), TAG(PT_LONG, 77), TAG(PT_UNICODE, 52));
  problems = NULL;
  CHECK_OK(COPY_PROPS(src, incl, &IID_IMAPIProp, dst, 0, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  check_problem(problems, 0, 1, TAG(PT_LONG, 77), MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(problems);
  CHECK_EQ(prop_count(dst), 2);
  CHECK_EQ(get_long(dst, TAG(PT_LONG, 50)), 50);
  check_copied_one(dst, 2);
  release_last(dst);

  /* The destination's own problems are reported at the include-list index too. */
  dst = new_prop();
  {
    LPSPropTagArray ro = tag_array(1, TAG(PT_UNICODE, 52));
    ULONG access = IPROP_READONLY | IPROP_CLEAN;
    CHECK_OK(dst->lpVtbl->HrSetPropAccess(dst, ro, &access));
    MAPIFreeBuffer(ro);
  }
  problems = NULL;
  CHECK_OK(COPY_PROPS(src, incl, NULL, dst, 0, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 2);
  check_problem(problems, 0, 1, TAG(PT_LONG, 77), MAPI_E_NOT_FOUND);
  check_problem(problems, 1, 2, TAG(PT_UNICODE, 52), MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(problems);
  release_last(dst);

  /* CopyProps with MAPI_NOREPLACE and MAPI_MOVE. */
  dst = new_prop();
  existing = long_prop(TAG(PT_LONG, 50), -1);
  set_all(dst, 1, &existing);
  CHECK_OK(COPY_PROPS(src, incl, NULL, dst, MAPI_NOREPLACE, NULL));
  CHECK_EQ(get_long(dst, TAG(PT_LONG, 50)), -1);
  check_copied_one(dst, 2);
  release_last(dst);
  dst = new_prop();
  CHECK_OK(COPY_PROPS(src, incl, NULL, dst, MAPI_MOVE, NULL));
  CHECK_EQ(prop_count(src), N_COPY - 2);
  check_absent(src, TAG(PT_LONG, 50));
  check_absent(src, TAG(PT_UNICODE, 52));
  CHECK_EQ(prop_count(dst), 2);

  /* CopyProps errors. */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_PROPS(src, NULL, NULL, dst, 0, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  check_last_error(src, MAPI_E_INVALID_PARAMETER, "CopyProps");
  incl->cValues = 0;
  CHECK_HR(COPY_PROPS(src, incl, NULL, dst, 0, NULL), MAPI_E_INVALID_PARAMETER);
  incl->cValues = 1;
  CHECK_HR(COPY_PROPS(src, incl, NULL, src, 0, NULL), MAPI_E_NO_ACCESS);
  CHECK_HR(COPY_PROPS(src, incl, NULL, NULL, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(COPY_PROPS(src, incl, NULL, dst, 0x10, NULL), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(COPY_PROPS(src, incl, &IID_IStream, dst, 0, NULL), MAPI_E_INTERFACE_NOT_SUPPORTED);
  MAPIFreeBuffer(incl);
  release_last(dst);

  /* MAPI_MOVE out of a read-only source is refused before anything reaches the destination;
   * a plain copy out of it is a read, and works. A read-only destination refuses the copy. */
  CHECK_OK(src->lpVtbl->HrSetObjAccess(src, IPROP_READONLY));
  dst = new_prop();
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, dst, MAPI_MOVE, &problems), MAPI_E_NO_ACCESS);
  CHECK(problems == NULL);
  CHECK_EQ(prop_count(dst), 0);
  incl = tag_array(1, TAG(PT_LONG, 50));
  CHECK_HR(COPY_PROPS(src, incl, NULL, dst, MAPI_MOVE, NULL), MAPI_E_NO_ACCESS);
  CHECK_EQ(prop_count(dst), 0);
  CHECK_EQ(prop_count(src), N_COPY - 2);
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, dst, 0, NULL));
  CHECK_EQ(prop_count(dst), N_COPY - 2);
  CHECK_HR(COPY_PROPS(dst, incl, NULL, src, 0, NULL), MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(incl);
  release_last(dst);
  release_last(src);
  printf("  CopyTo / CopyProps to our own objects: ok\n");
}

static void test_copy_to_foreign(void) {
  LPPROPDATA src = copy_source();
  ForeignProp *f = new_foreign();
  LPSPropProblemArray problems = NULL;
  LPSPropTagArray incl;
  SPropValue existing = str8_prop(TAG(PT_STRING8, 51), "theirs");
  IID excluded = IID_IMAPIProp;

  /* Plain copy through the foreign vtable: one SetProps call, every value deep-equal. */
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, &IID_IMAPIProp, f, 0, &problems));
  CHECK(problems == NULL);
  CHECK_EQ(f->setprops_calls, 1);
  CHECK_EQ(f->count, N_COPY);
  check_foreign_copied(f, 0);
  CHECK_EQ(f->refs, 1); /* no reference leaked or stolen */
  CHECK_EQ(f->iface.lpVtbl->Release(&f->iface), 0);

  /* MAPI_NOREPLACE asks the destination for its list and keeps its values. */
  f = new_foreign();
  CHECK_OK(f->iface.lpVtbl->SetProps(&f->iface, 1, &existing, NULL));
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, f, MAPI_NOREPLACE, NULL));
  CHECK(f->getproplist_calls >= 1);
  CHECK_STR(foreign_find(f, ID(51))->Value.lpszA, "theirs");
  check_foreign_copied(f, ID(51));
  CHECK_EQ(f->count, N_COPY);
  CHECK_EQ(f->iface.lpVtbl->Release(&f->iface), 0);

  /* IID_IMAPIProp excluded: the destination is not called at all. */
  f = new_foreign();
  CHECK_OK(COPY_TO(src, 1, &excluded, NULL, NULL, f, 0, NULL));
  CHECK_EQ(f->setprops_calls, 0);
  CHECK_EQ(f->count, 0);

  /* The destination's problem array (MAPIAllocateBuffer'd) comes back in ours. */
  f->readonly_id = ID(53);
  problems = NULL;
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, f, 0, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  CHECK_EQ(problems->aProblem[0].ulPropTag, TAG(PT_BINARY, 53));
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(problems);
  CHECK(foreign_find(f, ID(53)) == NULL);
  check_foreign_copied(f, ID(53));

  /* A failing destination fails the copy, and GetLastError says where. */
  f->setprops_result = MAPI_E_NOT_ENOUGH_MEMORY;
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, f, 0, &problems), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK(problems == NULL);
  check_last_error(src, MAPI_E_NOT_ENOUGH_MEMORY, "CopyTo");
  CHECK_EQ(prop_count(src), N_COPY); /* nothing moved or lost */
  CHECK_HR(COPY_TO(src, 0, NULL, NULL, NULL, f, MAPI_MOVE, NULL), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK_EQ(prop_count(src), N_COPY);
  CHECK_EQ(f->iface.lpVtbl->Release(&f->iface), 0);

  /* CopyProps to the foreign object, then MAPI_MOVE. */
  f = new_foreign();
  incl = tag_array(2, TAG(PT_LONG, 50), TAG(PT_STRING8, 51));
  CHECK_OK(COPY_PROPS(src, incl, &IID_IMAPIProp, f, 0, NULL));
  CHECK_EQ(f->count, 2);
  CHECK_EQ(foreign_find(f, ID(50))->Value.l, 50);
  CHECK_STR(foreign_find(f, ID(51))->Value.lpszA, "bee");
  CHECK_OK(COPY_TO(src, 0, NULL, NULL, NULL, f, MAPI_MOVE, NULL));
  CHECK_EQ(prop_count(src), 0);
  CHECK_EQ(f->count, N_COPY);
  check_foreign_copied(f, 0);
  MAPIFreeBuffer(incl);
  CHECK_EQ(f->refs, 1);
  CHECK_EQ(f->iface.lpVtbl->Release(&f->iface), 0);
  release_last(src);
  printf("  CopyTo / CopyProps to a foreign C object: ok\n");
}

/* ---- GetLastError, OpenProperty, named properties, SaveChanges -------------------------- */

static void test_get_last_error(void) {
  LPPROPDATA p = new_prop();
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
  LPSPropTagArray tags = tag_array(1, PR_SUBJECT_A);
  ULONG count;
  LPSPropValue out;
  HRESULT hr;

  tags->cValues = 0;
  hr = p->lpVtbl->GetProps(p, tags, 0, &count, &out);
  CHECK_HR(hr, MAPI_E_INVALID_PARAMETER);
  check_last_error(p, hr, "GetProps");

  /* Unknown flags; NULL out-pointer; a success code has no error (NULL). */
  CHECK_HR(p->lpVtbl->GetLastError(p, hr, 0x1, &err), MAPI_E_UNKNOWN_FLAGS);
  CHECK(err == NULL);
  CHECK_HR(p->lpVtbl->GetLastError(p, hr, 0, NULL), MAPI_E_INVALID_PARAMETER);
  err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->GetLastError(p, S_OK, 0, &err));
  CHECK(err == NULL);

  /* A code that was not the object's last failure: nothing to report, S_OK with NULL, as
   * Windows answers (issue 13 item 6). */
  err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_NOT_FOUND, 0, &err));
  CHECK(err == NULL);

  /* Each failing method is named. */
  CHECK_HR(p->lpVtbl->HrSetObjAccess(p, 0), MAPI_E_INVALID_PARAMETER);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "HrSetObjAccess");
  CHECK_OK(p->lpVtbl->HrSetObjAccess(p, IPROP_READONLY));
  {
    SPropValue v = long_prop(TAG(PT_LONG, 1), 1);
    CHECK_HR(p->lpVtbl->SetProps(p, 1, &v, NULL), MAPI_E_NO_ACCESS);
    check_last_error(p, MAPI_E_NO_ACCESS, "SetProps");
    tags->cValues = 1;
    CHECK_HR(p->lpVtbl->DeleteProps(p, tags, NULL), MAPI_E_NO_ACCESS);
    check_last_error(p, MAPI_E_NO_ACCESS, "DeleteProps");
  }
  CHECK_HR(p->lpVtbl->SaveChanges(p, 0x100), MAPI_E_UNKNOWN_FLAGS);
  check_last_error(p, MAPI_E_UNKNOWN_FLAGS, "SaveChanges");
  MAPIFreeBuffer(tags);

  /* MsgStoreGetLastError: the thread's last failure in a function with no object. */
  {
    LPPROPDATA none = (LPPROPDATA)GARBAGE_PTR;
    hr = CreateIProp(&IID_IMAPIPropData, NULL, MAPIAllocateMore, MAPIFreeBuffer, NULL, &none);
    CHECK_HR(hr, MAPI_E_INVALID_PARAMETER);
    CHECK(none == NULL);
    check_thread_error(hr, "CreateIProp");
    err = (LPMAPIERROR)GARBAGE_PTR;
    CHECK_OK(MsgStoreGetLastError(hr, MAPI_UNICODE, &err));
    {
      char ascii[512];
      narrow_ascii((const WCHAR *)err->lpszError, ascii, sizeof ascii);
      CHECK(strstr(ascii, "CreateIProp") != NULL);
    }
    MAPIFreeBuffer(err);
    err = (LPMAPIERROR)GARBAGE_PTR;
    CHECK_HR(MsgStoreGetLastError(hr, 0x2, &err), MAPI_E_UNKNOWN_FLAGS);
    CHECK(err == NULL);
    CHECK_HR(MsgStoreGetLastError(hr, 0, NULL), MAPI_E_INVALID_PARAMETER);
    err = (LPMAPIERROR)GARBAGE_PTR;
    CHECK_OK(MsgStoreGetLastError(S_OK, 0, &err));
    CHECK(err == NULL);
  }
  release_last(p);
  printf("  GetLastError / MsgStoreGetLastError: ok\n");
}

static void test_unsupported_slots(void) {
  LPPROPDATA p = new_prop();
  LPUNKNOWN unk = (LPUNKNOWN)GARBAGE_PTR;
  LPSPropTagArray tags = (LPSPropTagArray)GARBAGE_PTR;
  LPSPropTagArray in_tags = NULL;
  LPMAPINAMEID *names = (LPMAPINAMEID *)GARBAGE_PTR;
  ULONG count = GARBAGE_ULONG;
  MAPINAMEID name;
  LPMAPINAMEID pname = &name;

  /* OpenProperty: validated first, then MAPI_E_NO_SUPPORT. */
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, &IID_IStream, 0, 0, &unk), MAPI_E_NO_SUPPORT);
  CHECK(unk == NULL);
  check_last_error(p, MAPI_E_NO_SUPPORT, "OpenProperty");
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->OpenProperty(p, CHANGE_PROP_TYPE(PR_BODY_W, PT_UNSPECIFIED), &IID_IStream,
                                   0, 0, &unk),
           MAPI_E_INVALID_PARAMETER);
  CHECK(unk == NULL);
  unk = (LPUNKNOWN)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, NULL, 0, 0, &unk), MAPI_E_INVALID_PARAMETER);
  CHECK(unk == NULL);
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, &IID_IStream, 0, 0, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->OpenProperty(p, PR_BODY_W, &IID_IStream, 0, 0x100, &unk),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_OK(MAPIFreeBuffer(NULL));

  /* Named properties: MAPI_E_NO_SUPPORT after the flag check. */
  memset(&name, 0, sizeof name);
  name.lpguid = (LPGUID)&PS_PUBLIC_STRINGS;
  name.ulKind = MNID_ID;
  name.Kind.lID = 0x8001;
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 1, &pname, 0, &tags), MAPI_E_NO_SUPPORT);
  CHECK(tags == NULL);
  tags = (LPSPropTagArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 1, &pname, 0x10, &tags), MAPI_E_UNKNOWN_FLAGS);
  CHECK(tags == NULL);
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 1, &pname, 0, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->GetIDsFromNames(p, 2, NULL, 0, &tags), MAPI_E_INVALID_PARAMETER);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "GetIDsFromNames");

  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &in_tags, NULL, 0, &count, &names), MAPI_E_NO_SUPPORT);
  CHECK_EQ(count, 0);
  CHECK(names == NULL);
  count = GARBAGE_ULONG;
  names = (LPMAPINAMEID *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &in_tags, NULL, 0x100, &count, &names),
           MAPI_E_UNKNOWN_FLAGS);
  CHECK_EQ(count, 0);
  CHECK(names == NULL);
  names = (LPMAPINAMEID *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &in_tags, NULL, 0, NULL, &names),
           MAPI_E_INVALID_PARAMETER);
  CHECK(names == NULL);
  count = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, &in_tags, NULL, 0, &count, NULL),
           MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(count, 0);
  CHECK_HR(p->lpVtbl->GetNamesFromIDs(p, NULL, NULL, 0, &count, &names),
           MAPI_E_INVALID_PARAMETER);

  /* SaveChanges: flags only (IPropData is not transacted). */
  CHECK_OK(p->lpVtbl->SaveChanges(p, 0));
  CHECK_OK(p->lpVtbl->SaveChanges(p, KEEP_OPEN_READWRITE | FORCE_SAVE));
  CHECK_OK(p->lpVtbl->SaveChanges(p, KEEP_OPEN_READONLY | MAPI_DEFERRED_ERRORS));
  CHECK_HR(p->lpVtbl->SaveChanges(p, 0x100), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(p->lpVtbl->SaveChanges(p, MAPI_UNICODE), MAPI_E_UNKNOWN_FLAGS);
  set_long(p, TAG(PT_LONG, 1), 5); /* applied at once, no SaveChanges needed */
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 5);
  release_last(p);
  printf("  OpenProperty, named properties, SaveChanges: ok\n");
}

/* ---- IPropData slots 14–17 --------------------------------------------------------------- */

static void test_prop_data_access(void) {
  LPPROPDATA p = new_prop();
  SPropValue v[2];
  LPSPropProblemArray problems;
  LPSPropTagArray tags, got_tags = (LPSPropTagArray)GARBAGE_PTR;
  ULONG *got_access = (ULONG *)GARBAGE_PTR;
  ULONG access[2], i;

  v[0] = long_prop(TAG(PT_LONG, 1), 1);
  v[1] = str8_prop(PR_SUBJECT_A, "subject");
  set_all(p, 2, v);

  /* The object read-only: writes refused, reads fine. */
  CHECK_OK(p->lpVtbl->HrSetObjAccess(p, IPROP_READONLY));
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->SetProps(p, 1, v, &problems), MAPI_E_NO_ACCESS);
  CHECK(problems == NULL);
  tags = tag_array(1, TAG(PT_LONG, 1));
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->DeleteProps(p, tags, &problems), MAPI_E_NO_ACCESS);
  CHECK(problems == NULL);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 1);
  {
    LPSPropTagArray obj = tag_array(1, TAG(PT_OBJECT, 9));
    CHECK_HR(p->lpVtbl->HrAddObjProps(p, obj, NULL), MAPI_E_NO_ACCESS);
    MAPIFreeBuffer(obj);
  }
  CHECK_HR(p->lpVtbl->SaveChanges(p, KEEP_OPEN_READWRITE), MAPI_E_NO_ACCESS);
  CHECK_OK(p->lpVtbl->HrSetObjAccess(p, IPROP_READWRITE));
  v[0].Value.l = 2;
  set_all(p, 1, v);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 2);

  /* Invalid object access values. */
  CHECK_HR(p->lpVtbl->HrSetObjAccess(p, 0), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->HrSetObjAccess(p, IPROP_READONLY | IPROP_READWRITE),
           MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->HrSetObjAccess(p, 0x100), MAPI_E_UNKNOWN_FLAGS);
  set_all(p, 1, v); /* still read-write */

  /* A read-only property: a NO_ACCESS problem in SetProps and DeleteProps, others applied. */
  access[0] = IPROP_READONLY | IPROP_CLEAN;
  CHECK_OK(p->lpVtbl->HrSetPropAccess(p, tags, access));
  v[0].Value.l = 3;
  v[1] = str8_prop(PR_SUBJECT_A, "changed");
  problems = NULL;
  CHECK_OK(p->lpVtbl->SetProps(p, 2, v, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(problems->cProblem, 1);
  check_problem(problems, 0, 0, TAG(PT_LONG, 1), MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(problems);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 2);
  check_string8(p, PR_SUBJECT_A, "changed");
  problems = NULL;
  CHECK_OK(p->lpVtbl->DeleteProps(p, tags, &problems));
  CHECK(problems != NULL && problems->cProblem == 1);
  check_problem(problems, 0, 0, TAG(PT_LONG, 1), MAPI_E_NO_ACCESS);
  MAPIFreeBuffer(problems);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 2);

  /* HrGetPropAccess: tags and access values, each its own MAPIFreeBuffer block. */
  CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &got_tags, &got_access));
  CHECK(got_tags != NULL && got_tags != GARBAGE_PTR && got_access != NULL &&
        got_access != GARBAGE_PTR);
  CHECK_EQ(got_tags->cValues, 2);
  for (i = 0; i < got_tags->cValues; i++) {
    if (got_tags->aulPropTag[i] == TAG(PT_LONG, 1))
      CHECK_EQ(got_access[i], IPROP_READONLY | IPROP_CLEAN);
    else if (got_tags->aulPropTag[i] == PR_SUBJECT_A)
      CHECK_EQ(got_access[i], IPROP_READWRITE | IPROP_DIRTY);
    else
      CHECK(!"HrGetPropAccess: unexpected tag");
  }
  CHECK_EQ(MAPIFreeBuffer(got_tags), 0);
  CHECK_EQ(MAPIFreeBuffer(got_access), 0);

  /* Writing a clean read-write property makes it dirty. */
  access[0] = IPROP_READWRITE | IPROP_CLEAN;
  CHECK_OK(p->lpVtbl->HrSetPropAccess(p, tags, access));
  CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &got_tags, &got_access));
  for (i = 0; i < got_tags->cValues; i++)
    if (got_tags->aulPropTag[i] == TAG(PT_LONG, 1))
      CHECK_EQ(got_access[i], IPROP_READWRITE | IPROP_CLEAN);
  MAPIFreeBuffer(got_tags);
  MAPIFreeBuffer(got_access);
  set_all(p, 1, v);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 3);
  CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &got_tags, &got_access));
  for (i = 0; i < got_tags->cValues; i++)
    if (got_tags->aulPropTag[i] == TAG(PT_LONG, 1))
      CHECK_EQ(got_access[i], IPROP_READWRITE | IPROP_DIRTY);
  MAPIFreeBuffer(got_tags);
  MAPIFreeBuffer(got_access);

  /* HrGetPropAccess bad arguments: the other out-parameter is still cleared. */
  got_access = (ULONG *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrGetPropAccess(p, NULL, &got_access), MAPI_E_INVALID_PARAMETER);
  CHECK(got_access == NULL);
  got_tags = (LPSPropTagArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrGetPropAccess(p, &got_tags, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK(got_tags == NULL);

  /* Invalid property access values are refused as a whole (nothing applied). */
  MAPIFreeBuffer(tags);
  tags = tag_array(2, PR_SUBJECT_A, TAG(PT_LONG, 1));
  access[0] = IPROP_READONLY | IPROP_CLEAN; /* valid */
  access[1] = IPROP_READONLY;               /* neither CLEAN nor DIRTY */
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, tags, access), MAPI_E_INVALID_PARAMETER);
  check_last_error(p, MAPI_E_INVALID_PARAMETER, "HrSetPropAccess");
  access[1] = IPROP_READONLY | IPROP_READWRITE | IPROP_CLEAN;
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, tags, access), MAPI_E_INVALID_PARAMETER);
  access[1] = IPROP_READWRITE | IPROP_CLEAN | IPROP_DIRTY;
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, tags, access), MAPI_E_INVALID_PARAMETER);
  access[1] = IPROP_READWRITE | IPROP_CLEAN | 0x4;
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, tags, access), MAPI_E_UNKNOWN_FLAGS);
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, NULL, access), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(p->lpVtbl->HrSetPropAccess(p, tags, NULL), MAPI_E_INVALID_PARAMETER);
  v[1] = str8_prop(PR_SUBJECT_A, "still writable");
  set_all(p, 1, &v[1]); /* PR_SUBJECT_A did not become read-only */
  MAPIFreeBuffer(tags);

  /* HrAddObjProps: a tag of another type fails the whole call with MAPI_E_INVALID_TYPE, adds
   * nothing and returns no problem array (issue 13 item 6; docs/BAD_INPUT.md). */
  tags = tag_array(3, TAG(PT_OBJECT, 9), PR_SUBJECT_A, PR_MESSAGE_ATTACHMENTS);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrAddObjProps(p, tags, &problems), MAPI_E_INVALID_TYPE);
  CHECK(problems == NULL);
  check_last_error(p, MAPI_E_INVALID_TYPE, "HrAddObjProps");
  CHECK_EQ(prop_count(p), 2);
  check_string8(p, PR_SUBJECT_A, "still writable");
  /* PT_OBJECT tags only: listed, no problems. */
  tags->aulPropTag[1] = PR_MESSAGE_ATTACHMENTS;
  tags->aulPropTag[2] = PR_SUBJECT_A;
  tags->cValues = 2;
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->HrAddObjProps(p, tags, &problems));
  CHECK(problems == NULL);
  {
    LPSPropTagArray list = NULL;
    CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
    CHECK(list_has(list, TAG(PT_OBJECT, 9)));
    CHECK(list_has(list, PR_MESSAGE_ATTACHMENTS));
    CHECK_EQ(list->cValues, 4);
    MAPIFreeBuffer(list);
  }
  {
    HRESULT hr;
    LPSPropValue out = get_one(p, TAG(PT_OBJECT, 9), 0, &hr);
    CHECK_OK(hr);
    CHECK_EQ(out->ulPropTag, TAG(PT_OBJECT, 9));
    MAPIFreeBuffer(out);
  }
  CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &got_tags, &got_access));
  CHECK_EQ(got_tags->cValues, 4);
  CHECK(list_has(got_tags, TAG(PT_OBJECT, 9)));
  MAPIFreeBuffer(got_tags);
  MAPIFreeBuffer(got_access);
  CHECK_OK(p->lpVtbl->HrAddObjProps(p, tags, NULL)); /* lppProblems may be NULL */
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrAddObjProps(p, NULL, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  tags->cValues = 0;
  CHECK_HR(p->lpVtbl->HrAddObjProps(p, tags, NULL), MAPI_E_INVALID_PARAMETER);
  tags->cValues = 1;
  CHECK_OK(p->lpVtbl->DeleteProps(p, tags, NULL)); /* deleting the object property */
  CHECK_EQ(prop_count(p), 3);
  MAPIFreeBuffer(tags);
  release_last(p);
  printf("  IPropData HrSetObjAccess / HrSetPropAccess / HrGetPropAccess / HrAddObjProps: ok\n");
}

/* ---- CreateIProp and custom allocators ---------------------------------------------------- */

static long g_outstanding;   /* blocks made by count_buffer and not yet freed by count_free */
static int g_buffer_calls;   /* count_buffer calls */
static int g_free_calls;     /* count_free calls with a non-NULL block */
static int g_fail_countdown; /* > 0: the n-th count_buffer call from now fails */

static SCODE count_buffer(ULONG cb, LPVOID *pp) {
  SCODE sc;
  g_buffer_calls++;
  if (g_fail_countdown > 0 && --g_fail_countdown == 0) {
    *pp = NULL;
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  sc = MAPIAllocateBuffer(cb, pp);
  if (sc == S_OK) g_outstanding++;
  return sc;
}

static SCODE count_more(ULONG cb, LPVOID root, LPVOID *pp) {
  return MAPIAllocateMore(cb, root, pp);
}

static ULONG count_free(LPVOID p) {
  if (p != NULL) {
    g_free_calls++;
    g_outstanding--;
  }
  return MAPIFreeBuffer(p);
}

static void test_create_iprop(void) {
  LPPROPDATA p = (LPPROPDATA)GARBAGE_PTR;
  SPropValue v[2];
  ULONG count;
  LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
  LPSPropTagArray list;
  LPMAPIERROR err;
  LPSPropProblemArray problems;
  ULONG *access;
  int calls;

  /* Argument checks: out-parameter set to NULL on every failure. */
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, NULL, MAPIAllocateMore, MAPIFreeBuffer, NULL, &p),
           MAPI_E_INVALID_PARAMETER);
  CHECK(p == NULL);
  p = (LPPROPDATA)GARBAGE_PTR;
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, NULL, MAPIFreeBuffer, NULL, &p),
           MAPI_E_INVALID_PARAMETER);
  CHECK(p == NULL);
  p = (LPPROPDATA)GARBAGE_PTR;
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, NULL, NULL, &p),
           MAPI_E_INVALID_PARAMETER);
  CHECK(p == NULL);
  p = (LPPROPDATA)GARBAGE_PTR;
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       GARBAGE_PTR, &p),
           MAPI_E_INVALID_PARAMETER);
  CHECK(p == NULL);
  check_thread_error(MAPI_E_INVALID_PARAMETER, "lpvReserved");
  p = (LPPROPDATA)GARBAGE_PTR;
  CHECK_HR(CreateIProp(&IID_IStream, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL,
                       &p),
           MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK(p == NULL);
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, NULL),
           MAPI_E_INVALID_PARAMETER);

  /* NULL interface (the default), IID_IMAPIProp and IID_IUnknown are all accepted. */
  CHECK_OK(CreateIProp(NULL, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer, NULL, &p));
  release_last(p);
  CHECK_OK(CreateIProp(&IID_IMAPIProp, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, &p));
  release_last(p);
  CHECK_OK(CreateIProp(&IID_IUnknown, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, &p));
  release_last(p);

  /* Custom counting allocators are really used for every result. */
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, count_buffer, count_more, count_free, NULL, &p));
  v[0] = wstr_prop(PR_SUBJECT_W, W_GRUSSE);
  v[1].ulPropTag = TAG(PT_PTR, 2);
  v[1].Value.lpv = NULL;
  calls = g_buffer_calls;
  problems = NULL;
  CHECK_OK(p->lpVtbl->SetProps(p, 2, v, &problems));
  CHECK(problems != NULL);
  CHECK_EQ(g_buffer_calls, calls + 1);
  CHECK_EQ(g_outstanding, 1);
  count_free(problems);
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, 0, &count, &out));
  CHECK_EQ(g_buffer_calls, calls + 2);
  CHECK_EQ(g_outstanding, 1);
  CHECK_STR(out[0].Value.lpszA, U8_GRUSSE);
  count_free(out);
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK_EQ(g_outstanding, 1);
  count_free(list);
  CHECK_OK(p->lpVtbl->HrGetPropAccess(p, &list, &access));
  CHECK_EQ(g_outstanding, 2);
  count_free(list);
  count_free(access);
  CHECK_HR(p->lpVtbl->SaveChanges(p, 0x100), MAPI_E_UNKNOWN_FLAGS);
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_UNKNOWN_FLAGS, 0, &err));
  CHECK_EQ(g_outstanding, 1);
  count_free(err);
  CHECK_EQ(g_outstanding, 0);
  CHECK(g_buffer_calls >= calls + 6);

  /* A failing allocator fails the call cleanly (out-parameters cleared, nothing leaked). */
  g_fail_countdown = 1;
  out = (LPSPropValue)GARBAGE_PTR;
  count = GARBAGE_ULONG;
  CHECK_HR(p->lpVtbl->GetProps(p, NULL, 0, &count, &out), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK(out == NULL);
  CHECK_EQ(count, 0);
  g_fail_countdown = 2; /* HrGetPropAccess: the second of its two blocks fails */
  list = (LPSPropTagArray)GARBAGE_PTR;
  access = (ULONG *)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrGetPropAccess(p, &list, &access), MAPI_E_NOT_ENOUGH_MEMORY);
  CHECK(list == NULL && access == NULL);
  CHECK_EQ(g_outstanding, 0); /* the first block was given back */
  g_fail_countdown = 0;
  release_last(p);
  CHECK_EQ(g_outstanding, 0);
  printf("  CreateIProp arguments and custom allocators: ok\n");
}

/* ---- IUnknown ------------------------------------------------------------------------------ */

static void test_iunknown(void) {
  LPPROPDATA p = new_prop();
  void *q = GARBAGE_PTR;
  const IID *same[3];
  int i;
  same[0] = &IID_IUnknown;
  same[1] = &IID_IMAPIProp;
  same[2] = &IID_IMAPIPropData;

  CHECK_EQ(refcount(p), 1);
  for (i = 0; i < 3; i++) {
    q = GARBAGE_PTR;
    CHECK_OK(p->lpVtbl->QueryInterface(p, same[i], &q));
    CHECK(q == (void *)p); /* one identity for every interface */
    CHECK_EQ(refcount(p), 2); /* exactly one AddRef */
    CHECK_EQ(((LPUNKNOWN)q)->lpVtbl->Release((LPUNKNOWN)q), 1);
  }
  CHECK_EQ(p->lpVtbl->AddRef(p), 2);
  CHECK_EQ(p->lpVtbl->AddRef(p), 3);
  CHECK_EQ(p->lpVtbl->Release(p), 2);
  CHECK_EQ(p->lpVtbl->Release(p), 1);

  /* Unknown IID: E_NOINTERFACE, NULL written, no reference taken. */
  q = GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->QueryInterface(p, &IID_IMessage, &q), MAPI_E_INTERFACE_NOT_SUPPORTED);
  CHECK_HR(p->lpVtbl->QueryInterface(p, &IID_IStream, &q), E_NOINTERFACE);
  CHECK(q == NULL);
  CHECK_EQ(refcount(p), 1);
  q = GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->QueryInterface(p, NULL, &q), MAPI_E_INVALID_PARAMETER);
  CHECK(q == NULL);
  CHECK_HR(p->lpVtbl->QueryInterface(p, &IID_IUnknown, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(refcount(p), 1);

  /* A NULL This: an error (0 for AddRef/Release), never a crash. */
  {
    ULONG c = GARBAGE_ULONG;
    LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
    LPSPropTagArray list = (LPSPropTagArray)GARBAGE_PTR;
    SPropValue v = long_prop(TAG(PT_LONG, 1), 1);
    CHECK_EQ(p->lpVtbl->AddRef(NULL), 0);
    CHECK_EQ(p->lpVtbl->Release(NULL), 0);
    CHECK_HR(p->lpVtbl->QueryInterface(NULL, &IID_IUnknown, &q), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->GetProps(NULL, NULL, 0, &c, &out), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->GetPropList(NULL, 0, &list), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->SetProps(NULL, 1, &v, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->SaveChanges(NULL, 0), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->HrSetObjAccess(NULL, IPROP_READONLY), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(p->lpVtbl->CopyTo(NULL, 0, NULL, NULL, 0, NULL, NULL, p, 0, NULL),
             MAPI_E_INVALID_PARAMETER);
  }
  CHECK_EQ(refcount(p), 1);
  release_last(p); /* frees: valgrind reports a leak otherwise */
  printf("  IUnknown: QueryInterface identity, reference counts: ok\n");
}

/* ---- Forced panics -------------------------------------------------------------------------- */

static void test_panics(void) {
  LPPROPDATA p = new_prop(), q = (LPPROPDATA)GARBAGE_PTR;
  LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
  ULONG count = GARBAGE_ULONG;
  SPropValue v = long_prop(TAG(PT_LONG, 1), 41);
  void *buf = NULL;
  LPSPropTagArray list;

  set_all(p, 1, &v);

  /* GetProps: MAPI_E_CALL_FAILED, the process lives on, the next call works, and GetLastError
   * explains it. */
  CHECK_OK(MsgStoreInjectPanic("GetProps"));
  CHECK_HR(p->lpVtbl->GetProps(p, NULL, 0, &count, &out), MAPI_E_CALL_FAILED);
  check_last_error(p, MAPI_E_CALL_FAILED, "GetProps");
  check_thread_error(MAPI_E_CALL_FAILED, "GetProps");
  CHECK_OK(p->lpVtbl->GetProps(p, NULL, 0, &count, &out));
  CHECK_EQ(count, 1);
  CHECK_EQ(out[0].Value.l, 41);
  MAPIFreeBuffer(out);

  /* SetProps: nothing applied. */
  v.Value.l = 42;
  CHECK_OK(MsgStoreInjectPanic("SetProps"));
  CHECK_HR(p->lpVtbl->SetProps(p, 1, &v, NULL), MAPI_E_CALL_FAILED);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 41);
  set_all(p, 1, &v);
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 42);

  /* AddRef and Release return 0 and leave the count alone. */
  CHECK_OK(MsgStoreInjectPanic("AddRef"));
  CHECK_EQ(p->lpVtbl->AddRef(p), 0);
  check_thread_error(MAPI_E_CALL_FAILED, "AddRef");
  CHECK_EQ(refcount(p), 1);
  CHECK_EQ(p->lpVtbl->AddRef(p), 2);
  CHECK_OK(MsgStoreInjectPanic("Release"));
  CHECK_EQ(p->lpVtbl->Release(p), 0);
  check_thread_error(MAPI_E_CALL_FAILED, "Release");
  CHECK_EQ(p->lpVtbl->Release(p), 1);

  /* MAPIFreeBuffer returns 0 and frees nothing; the next call frees (valgrind: no leak). */
  CHECK_OK(MAPIAllocateBuffer(64, &buf));
  CHECK_OK(MsgStoreInjectPanic("MAPIFreeBuffer"));
  CHECK_EQ(MAPIFreeBuffer(buf), 0);
  check_thread_error(MAPI_E_CALL_FAILED, "MAPIFreeBuffer");
  memset(buf, 0xA5, 64); /* still ours */
  CHECK_EQ(MAPIFreeBuffer(buf), 0);

  /* MAPIAllocateBuffer and CreateIProp: MAPI_E_CALL_FAILED, then they work. */
  CHECK_OK(MsgStoreInjectPanic("MAPIAllocateBuffer"));
  CHECK_HR(MAPIAllocateBuffer(8, &buf), MAPI_E_CALL_FAILED);
  CHECK_OK(MAPIAllocateBuffer(8, &buf));
  MAPIFreeBuffer(buf);
  CHECK_OK(MsgStoreInjectPanic("CreateIProp"));
  CHECK_HR(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, &q),
           MAPI_E_CALL_FAILED);
  check_thread_error(MAPI_E_CALL_FAILED, "CreateIProp");
  q = new_prop();
  release_last(q);

  /* NULL disarms; a name that is never called does not fire elsewhere. */
  CHECK_OK(MsgStoreInjectPanic("GetPropList"));
  CHECK_OK(MsgStoreInjectPanic(NULL));
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  MAPIFreeBuffer(list);
  CHECK_OK(MsgStoreInjectPanic("NoSuchMethod"));
  CHECK_EQ(get_long(p, TAG(PT_LONG, 1)), 42);
  CHECK_OK(MsgStoreInjectPanic(NULL));
  release_last(p);
  printf("  forced panics become MAPI_E_CALL_FAILED / 0: ok\n");
}

/* ---- The allocator ------------------------------------------------------------------------- */

#define ALLOC_THREADS 4

struct alloc_job {
  void *root;
  int n;
  int id;
  unsigned char **blocks;
};

static void *alloc_worker(void *arg) {
  struct alloc_job *job = (struct alloc_job *)arg;
  int i;
  for (i = 0; i < job->n; i++) {
    void *b = NULL;
    ULONG size = (ULONG)(1 + (i * 7 + job->id) % 61);
    if (MAPIAllocateMore(size, job->root, &b) != S_OK || b == NULL) return (void *)1;
    if (!aligned(b, 8)) return (void *)2;
    memset(b, job->id + 1, size);
    job->blocks[i] = (unsigned char *)b;
  }
  return NULL;
}

static void test_allocator(void) {
  void *root = GARBAGE_PTR, *more = GARBAGE_PTR, *blocks[8];
  ULONG sizes[8] = {1, 3, 7, 8, 16, 100, 4096, 0};
  ULONG i, j;
  unsigned char *bytes;

  /* A root and a chain of MAPIAllocateMore blocks: 8-aligned, zeroed, writable; one free. */
  CHECK_OK(MAPIAllocateBuffer(100, &root));
  CHECK(root != NULL && root != GARBAGE_PTR && aligned(root, 8));
  bytes = (unsigned char *)root;
  for (j = 0; j < 100; j++) CHECK_EQ(bytes[j], 0);
  memset(root, 0x5A, 100);
  for (i = 0; i < 8; i++) {
    blocks[i] = GARBAGE_PTR;
    CHECK_OK(MAPIAllocateMore(sizes[i], root, &blocks[i]));
    CHECK(blocks[i] != NULL && blocks[i] != GARBAGE_PTR && aligned(blocks[i], 8));
    bytes = (unsigned char *)blocks[i];
    for (j = 0; j < sizes[i]; j++) CHECK_EQ(bytes[j], 0);
    memset(blocks[i], (int)i, sizes[i]);
  }
  for (i = 0; i + 1 < 8; i++) CHECK(blocks[i] != blocks[i + 1]);
  /* Freeing a MAPIAllocateMore block on its own is refused (it goes with its root). */
  CHECK_EQ(MAPIFreeBuffer(blocks[5]), (ULONG)MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(MAPIFreeBuffer(root), 0);

  /* Edge cases and bad arguments. */
  CHECK_EQ(MAPIFreeBuffer(NULL), 0);
  CHECK_OK(MAPIAllocateBuffer(0, &root));
  CHECK(root != NULL);
  CHECK_OK(MAPIAllocateMore(0, root, &more));
  CHECK(more != NULL);
  CHECK_HR(MAPIAllocateMore(8, root, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_EQ(MAPIFreeBuffer(root), 0);
  more = GARBAGE_PTR;
  CHECK_HR(MAPIAllocateMore(8, NULL, &more), MAPI_E_INVALID_PARAMETER);
  CHECK(more == NULL);
  check_thread_error(MAPI_E_INVALID_PARAMETER, "MAPIAllocateMore");
  CHECK_HR(MAPIAllocateBuffer(8, NULL), MAPI_E_INVALID_PARAMETER);
  check_thread_error(MAPI_E_INVALID_PARAMETER, "MAPIAllocateBuffer");

  /* Several threads chaining onto one root at once; one free releases everything. */
  {
    pthread_t threads[ALLOC_THREADS];
    struct alloc_job jobs[ALLOC_THREADS];
    int per_thread = test_under_valgrind() ? 200 : 5000;
    int t, k;
    CHECK_OK(MAPIAllocateBuffer(16, &root));
    for (t = 0; t < ALLOC_THREADS; t++) {
      jobs[t].root = root;
      jobs[t].n = per_thread;
      jobs[t].id = t;
      jobs[t].blocks = (unsigned char **)calloc((size_t)per_thread, sizeof(unsigned char *));
      CHECK(jobs[t].blocks != NULL);
      CHECK_EQ(pthread_create(&threads[t], NULL, alloc_worker, &jobs[t]), 0);
    }
    for (t = 0; t < ALLOC_THREADS; t++) {
      void *res = GARBAGE_PTR;
      CHECK_EQ(pthread_join(threads[t], &res), 0);
      CHECK(res == NULL);
    }
    /* No block was handed out twice: every byte still holds its thread's pattern. */
    for (t = 0; t < ALLOC_THREADS; t++) {
      for (k = 0; k < per_thread; k++) {
        ULONG size = (ULONG)(1 + (k * 7 + t) % 61);
        for (j = 0; j < size; j++) CHECK_EQ(jobs[t].blocks[k][j], t + 1);
      }
      free(jobs[t].blocks);
    }
    CHECK_EQ(MAPIFreeBuffer(root), 0);
  }
  printf("  MAPIAllocateBuffer / MAPIAllocateMore / MAPIFreeBuffer: ok\n");
}

/* ---- One object from several threads -------------------------------------------------------- */

#define OBJ_THREADS 4

struct obj_job {
  LPPROPDATA p;
  int id;
  int rounds;
};

static void *obj_worker(void *arg) {
  struct obj_job *job = (struct obj_job *)arg;
  int i;
  for (i = 0; i < job->rounds; i++) {
    SPropValue v = long_prop(TAG(PT_LONG, 100 + job->id), i);
    LPSPropTagArray tags = tag_array(1, TAG(PT_LONG, 100 + job->id));
    ULONG count = 0;
    LPSPropValue out = NULL;
    if (job->p->lpVtbl->AddRef(job->p) < 2) return (void *)1;
    if (job->p->lpVtbl->SetProps(job->p, 1, &v, NULL) != S_OK) return (void *)2;
    if (job->p->lpVtbl->GetProps(job->p, tags, 0, &count, &out) != S_OK) return (void *)3;
    if (count != 1 || out[0].Value.l != i) return (void *)4;
    MAPIFreeBuffer(out);
    MAPIFreeBuffer(tags);
    job->p->lpVtbl->Release(job->p);
  }
  return NULL;
}

static void test_threads(void) {
  LPPROPDATA p = new_prop();
  pthread_t threads[OBJ_THREADS];
  struct obj_job jobs[OBJ_THREADS];
  int t, rounds = test_under_valgrind() ? 50 : 2000;
  for (t = 0; t < OBJ_THREADS; t++) {
    jobs[t].p = p;
    jobs[t].id = t;
    jobs[t].rounds = rounds;
    CHECK_EQ(pthread_create(&threads[t], NULL, obj_worker, &jobs[t]), 0);
  }
  for (t = 0; t < OBJ_THREADS; t++) {
    void *res = GARBAGE_PTR;
    CHECK_EQ(pthread_join(threads[t], &res), 0);
    CHECK(res == NULL);
  }
  CHECK_EQ(prop_count(p), OBJ_THREADS);
  for (t = 0; t < OBJ_THREADS; t++) CHECK_EQ(get_long(p, TAG(PT_LONG, 100 + t)), rounds - 1);
  CHECK_EQ(refcount(p), 1);
  release_last(p);
  printf("  one object from %d threads: ok\n", OBJ_THREADS);
}

/* Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same). */
static const struct test_section SECTIONS[] = {
    {"allocator", test_allocator},
    {"create_iprop", test_create_iprop},
    {"iunknown", test_iunknown},
    {"round_trip_every_type", test_round_trip_every_type},
    {"large_values", test_large_values},
    {"boolean_and_one_value_per_id", test_boolean_and_one_value_per_id},
    {"string_conversions", test_string_conversions},
    {"get_props_errors", test_get_props_errors},
    {"set_props_rules", test_set_props_rules},
    {"delete_props_and_prop_list", test_delete_props_and_prop_list},
    {"copy_to_ours", test_copy_to_ours},
    {"copy_to_foreign", test_copy_to_foreign},
    {"get_last_error", test_get_last_error},
    {"unsupported_slots", test_unsupported_slots},
    {"prop_data_access", test_prop_data_access},
    {"panics", test_panics},
    {"threads", test_threads},
};

int main(int argc, char **argv) {
  return RUN_SECTIONS(argc, argv, SECTIONS);
}
