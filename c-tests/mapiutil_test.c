/* The mapiutil.h / mapival.h helpers a MAPI client links against (issue 13), called through the
 * exported functions exactly as a C program written for Windows calls them: every helper against
 * its documented semantics or the choice recorded in docs/MAPIUTIL.md, each edge case of the
 * reference §12, and the three Windows behaviours of item 6.
 *
 *   mapiutil_test              runs every section
 *   mapiutil_test --list       prints the section names, one per line
 *   mapiutil_test NAME...      runs the named sections only
 */
#include <stddef.h>

#include "test_util.h"

#define TAG(type, id) PROP_TAG((type), (id))
#define CbNewSRowSet(n) (offsetof(SRowSet, aRow) + (n) * sizeof(SRow))
#define CbNewADRLIST(n) (offsetof(ADRLIST, aEntries) + (n) * sizeof(ADRENTRY))

static WCHAR w_ab[] = {'a', 'b', 0};
static WCHAR w_abc[] = {'a', 'b', 'c', 0};
static WCHAR w_hello[] = {'H', 'e', 'l', 'l', 'o', ' ', 'W', 'o', 'r', 'l', 'd', 0};
static WCHAR w_world_uc[] = {'W', 'O', 'R', 'L', 'D', 0};
static WCHAR w_hell[] = {'H', 'e', 'l', 'l', 0};
static WCHAR w_cafe_acc[] = {'C', 'a', 'f', 0xE9, 0};  /* "Café" */
static WCHAR w_cafe[] = {'c', 'a', 'f', 'e', 0};
static GUID guid_a = {0x12345678, 0x1234, 0x5678, {1, 2, 3, 4, 5, 6, 7, 8}};
static GUID guid_b = {0x12345678, 0x1234, 0x5678, {1, 2, 3, 4, 5, 6, 7, 9}};

static SPropValue pv_wstr(ULONG id, WCHAR *s) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_UNICODE, id);
  v.Value.lpszW = s;
  return v;
}

static SPropValue pv_bin(ULONG id, const void *p, ULONG cb) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_BINARY, id);
  v.Value.bin.cb = cb;
  v.Value.bin.lpb = (LPBYTE)p;
  return v;
}

static int values_equal(SPropValue *a, SPropValue *b) { return LPropCompareProp(a, b) == 0; }

/* ---- PropCopyMore ------------------------------------------------------------------------ */

static int more_calls;
static SCODE counting_more(ULONG cb, LPVOID obj, LPVOID *pp) {
  more_calls++;
  return MAPIAllocateMore(cb, obj, pp);
}
static SCODE failing_more(ULONG cb, LPVOID obj, LPVOID *pp) {
  (void)cb;
  (void)obj;
  *pp = NULL;
  return MAPI_E_NOT_ENOUGH_MEMORY;
}

static void test_prop_copy_more(void) {
  char s1[] = "first", s2[] = "second value", s3[] = "";
  LPSTR strs[3];
  WCHAR *wstrs[2];
  BYTE b1[] = {1, 2, 3}, b2[] = {9};
  SBinary bins[3];
  LONG longs[3] = {-1, 0, 7};
  char str[] = "hello";
  SPropValue src[10], *dst = NULL;
  ULONG i;

  strs[0] = s1;
  strs[1] = s2;
  strs[2] = s3;
  wstrs[0] = w_ab;
  wstrs[1] = w_hello;
  bins[0].cb = 3;
  bins[0].lpb = b1;
  bins[1].cb = 0; /* an empty element: no data, NULL pointer allowed */
  bins[1].lpb = NULL;
  bins[2].cb = 1;
  bins[2].lpb = b2;

  memset(src, 0, sizeof src);
  src[0] = pv_str8(0x3001, str);
  src[1] = pv_wstr(0x3002, w_abc);
  src[2] = pv_bin(0x3003, b1, 3);
  src[3] = pv_bin(0x3004, NULL, 0);
  src[4].ulPropTag = TAG(PT_CLSID, 0x3005);
  src[4].Value.lpguid = &guid_a;
  src[5].ulPropTag = TAG(PT_MV_STRING8, 0x3006);
  src[5].Value.MVszA.cValues = 3;
  src[5].Value.MVszA.lppszA = strs;
  src[6].ulPropTag = TAG(PT_MV_UNICODE, 0x3007);
  src[6].Value.MVszW.cValues = 2;
  src[6].Value.MVszW.lppszW = wstrs;
  src[7].ulPropTag = TAG(PT_MV_BINARY, 0x3008);
  src[7].Value.MVbin.cValues = 3;
  src[7].Value.MVbin.lpbin = bins;
  src[8].ulPropTag = TAG(PT_MV_LONG, 0x3009);
  src[8].Value.MVl.cValues = 3;
  src[8].Value.MVl.lpl = longs;
  /* An MV value with zero elements is copied as zero elements (no block). */
  src[9].ulPropTag = TAG(PT_MV_STRING8, 0x300A);
  src[9].Value.MVszA.cValues = 0;
  src[9].Value.MVszA.lppszA = NULL;

  CHECK_OK(MAPIAllocateBuffer(sizeof(SPropValue) * 10, (LPVOID *)&dst));
  more_calls = 0;
  for (i = 0; i < 10; i++) CHECK_OK(PropCopyMore(&dst[i], &src[i], counting_more, dst));
  /* One MAPIAllocateMore block per value with out-of-line data (the MV string and binary
   * arrays are one block each: table first, then the data); none for the empty binary and
   * the MV value with no elements. */
  CHECK_EQ(more_calls, 8);
  for (i = 0; i < 10; i++) {
    CHECK_EQ(dst[i].ulPropTag, src[i].ulPropTag);
    CHECK(values_equal(&dst[i], &src[i]));
  }
  /* Deep: nothing points into the source. */
  CHECK(dst[0].Value.lpszA != src[0].Value.lpszA);
  CHECK(dst[1].Value.lpszW != src[1].Value.lpszW);
  CHECK(dst[2].Value.bin.lpb != b1);
  CHECK(dst[3].Value.bin.lpb == NULL && dst[3].Value.bin.cb == 0);
  CHECK(dst[4].Value.lpguid != &guid_a && memcmp(dst[4].Value.lpguid, &guid_a, 16) == 0);
  CHECK(dst[5].Value.MVszA.lppszA != strs);
  CHECK(dst[9].Value.MVszA.cValues == 0 && dst[9].Value.MVszA.lppszA == NULL);
  str[0] = 'J';
  s1[0] = 'F';
  CHECK_STR(dst[0].Value.lpszA, "hello");
  CHECK_STR(dst[5].Value.MVszA.lppszA[0], "first");
  /* The MV string layout: the pointer table, then the strings, in one block. */
  {
    LPSTR *t = dst[5].Value.MVszA.lppszA;
    CHECK((char *)t[0] == (char *)(t + 3));
    CHECK(t[1] > t[0] && t[2] > t[1]);
    CHECK_STR(t[1], "second value");
    CHECK_STR(t[2], "");
  }
  {
    SBinary *t = dst[7].Value.MVbin.lpbin;
    CHECK(t[0].lpb == (LPBYTE)(t + 3));
    CHECK_EQ(t[0].cb, 3);
    CHECK(memcmp(t[0].lpb, b1, 3) == 0);
    CHECK(t[1].cb == 0 && t[1].lpb == NULL);
    CHECK(t[2].cb == 1 && t[2].lpb[0] == 9);
  }
  CHECK_WSTR(dst[6].Value.MVszW.lppszW[1], w_hello);
  CHECK_EQ(dst[8].Value.MVl.lpl[0], -1);
  /* One MAPIFreeBuffer of the root frees every block (valgrind checks it). */
  MAPIFreeBuffer(dst);

  /* Bad input: the destination is zeroed, nothing allocated. */
  {
    SPropValue d, bad = pv_str8(0x3001, NULL);
    memset(&d, 0x5A, sizeof d);
    CHECK_HR(PropCopyMore(NULL, &src[0], MAPIAllocateMore, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(PropCopyMore(&d, &src[0], NULL, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_EQ(d.ulPropTag, 0);
    CHECK(d.Value.lpv == NULL);
    memset(&d, 0x5A, sizeof d);
    CHECK_HR(PropCopyMore(&d, NULL, MAPIAllocateMore, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(PropCopyMore(&d, &bad, MAPIAllocateMore, NULL), MAPI_E_INVALID_PARAMETER);
    bad = pv_long(TAG(0x0008, 0x3001), 1); /* not a MAPI type */
    CHECK_HR(PropCopyMore(&d, &bad, MAPIAllocateMore, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_EQ(d.ulPropTag, 0);
    /* The allocator's failure is returned. */
    CHECK_HR(PropCopyMore(&d, &src[0], failing_more, NULL), MAPI_E_NOT_ENOUGH_MEMORY);
    CHECK(d.Value.lpszA == NULL);
    /* A value with no out-of-line data needs no allocator call at all. */
    more_calls = 0;
    bad = pv_long(TAG(PT_LONG, 0x3001), -42);
    CHECK_OK(PropCopyMore(&d, &bad, counting_more, NULL));
    CHECK_EQ(more_calls, 0);
    CHECK_EQ(d.Value.l, -42);
  }
  printf("  PropCopyMore: ok\n");
}

/* ---- UlPropSize -------------------------------------------------------------------------- */

static void test_ul_prop_size(void) {
  SPropValue v;
  LPSTR strs[2];
  WCHAR *wstrs[1];
  SBinary bins[2];
  LONG longs[3] = {1, 2, 3};
  BYTE b[5] = {0};

  v = pv_str8(1, "abc");
  CHECK_EQ(UlPropSize(&v), 4);
  v = pv_wstr(1, w_ab);
  CHECK_EQ(UlPropSize(&v), 6);
  v = pv_bin(1, b, 5);
  CHECK_EQ(UlPropSize(&v), 5);
  v = pv_bin(1, NULL, 0);
  CHECK_EQ(UlPropSize(&v), 0);
  v = pv_long(TAG(PT_LONG, 1), 5);
  CHECK_EQ(UlPropSize(&v), 4);
  v.ulPropTag = TAG(PT_I2, 1);
  CHECK_EQ(UlPropSize(&v), 2);
  v.ulPropTag = TAG(PT_BOOLEAN, 1);
  CHECK_EQ(UlPropSize(&v), 2);
  v.ulPropTag = TAG(PT_ERROR, 1);
  CHECK_EQ(UlPropSize(&v), 4);
  v.ulPropTag = TAG(PT_DOUBLE, 1);
  CHECK_EQ(UlPropSize(&v), 8);
  v.ulPropTag = TAG(PT_I8, 1);
  CHECK_EQ(UlPropSize(&v), 8);
  v.ulPropTag = TAG(PT_SYSTIME, 1);
  CHECK_EQ(UlPropSize(&v), 8);
  v.ulPropTag = TAG(PT_OBJECT, 1);
  CHECK_EQ(UlPropSize(&v), 0);
  v.ulPropTag = PR_NULL;
  CHECK_EQ(UlPropSize(&v), 0);
  v.ulPropTag = TAG(0x0008, 1); /* unknown type */
  CHECK_EQ(UlPropSize(&v), 0);
  v.ulPropTag = TAG(PT_CLSID, 1);
  v.Value.lpguid = &guid_a;
  CHECK_EQ(UlPropSize(&v), 16);
  /* MV strings and binaries: the elements, not the pointer / SBinary table. */
  strs[0] = "a";
  strs[1] = "bc";
  v.ulPropTag = TAG(PT_MV_STRING8, 1);
  v.Value.MVszA.cValues = 2;
  v.Value.MVszA.lppszA = strs;
  CHECK_EQ(UlPropSize(&v), 2 + 3);
  wstrs[0] = w_ab;
  v.ulPropTag = TAG(PT_MV_UNICODE, 1);
  v.Value.MVszW.cValues = 1;
  v.Value.MVszW.lppszW = wstrs;
  CHECK_EQ(UlPropSize(&v), 6);
  bins[0].cb = 2;
  bins[0].lpb = b;
  bins[1].cb = 3;
  bins[1].lpb = b;
  v.ulPropTag = TAG(PT_MV_BINARY, 1);
  v.Value.MVbin.cValues = 2;
  v.Value.MVbin.lpbin = bins;
  CHECK_EQ(UlPropSize(&v), 5);
  v.ulPropTag = TAG(PT_MV_LONG, 1);
  v.Value.MVl.cValues = 3;
  v.Value.MVl.lpl = longs;
  CHECK_EQ(UlPropSize(&v), 12);
  v.Value.MVl.cValues = 0; /* zero elements */
  v.Value.MVl.lpl = NULL;
  CHECK_EQ(UlPropSize(&v), 0);
  /* NULL and malformed values: 0, never a crash. */
  CHECK_EQ(UlPropSize(NULL), 0);
  v = pv_str8(1, NULL);
  CHECK_EQ(UlPropSize(&v), 0);
  v.ulPropTag = TAG(PT_MV_LONG, 1);
  v.Value.MVl.cValues = 2;
  v.Value.MVl.lpl = NULL;
  CHECK_EQ(UlPropSize(&v), 0);
  printf("  UlPropSize: ok\n");
}

/* ---- FPropContainsProp -------------------------------------------------------------------- */

static void test_contains(void) {
  SPropValue hay, needle;
  BYTE hb[] = {1, 2, 3, 4, 5}, nb[] = {3, 4}, pb[] = {1, 2}, xb[] = {4, 3};
  const ULONG levels[] = {FL_FULLSTRING, FL_SUBSTRING, FL_PREFIX};
  ULONG i;

  /* PT_STRING8, each level, with and without FL_IGNORECASE. */
  hay = pv_str8(1, "Hello World");
  needle = pv_str8(2, "lo Wo");
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(!FPropContainsProp(&hay, &needle, FL_PREFIX));
  needle = pv_str8(2, "WORLD");
  CHECK(!FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING | FL_IGNORECASE));
  needle = pv_str8(2, "hell");
  CHECK(!FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX | FL_IGNORECASE));
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_IGNORECASE));
  needle = pv_str8(2, "hello world");
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_IGNORECASE));
  CHECK(FPropContainsProp(&hay, &hay, FL_FULLSTRING));
  /* FL_IGNORENONSPACE and FL_LOOSE ignore accents (UTF-8 "Café"); FL_LOOSE also case and
   * symbols. */
  hay = pv_str8(1, "Caf\xC3\xA9!");
  needle = pv_str8(2, "Cafe");
  CHECK(!FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX | FL_IGNORENONSPACE));
  needle = pv_str8(2, "cafe");
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_IGNORENONSPACE));
  CHECK(FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_LOOSE));
  /* An invalid low-16-bit level means a full match. */
  hay = pv_str8(1, "Hello");
  needle = pv_str8(2, "ell");
  CHECK(!FPropContainsProp(&hay, &needle, 3));
  CHECK(!FPropContainsProp(&hay, &needle, 0xFFFF));
  CHECK(FPropContainsProp(&hay, &hay, 0x7));
  /* The empty needle is a prefix and a substring of anything. */
  needle = pv_str8(2, "");
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING));

  /* PT_UNICODE, each level, case and accents. */
  hay = pv_wstr(1, w_hello);
  needle = pv_wstr(2, w_world_uc);
  CHECK(!FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING | FL_IGNORECASE));
  CHECK(!FPropContainsProp(&hay, &needle, FL_PREFIX | FL_IGNORECASE));
  needle = pv_wstr(2, w_hell);
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING));
  CHECK(FPropContainsProp(&hay, &hay, FL_FULLSTRING));
  hay = pv_wstr(1, w_cafe_acc);
  needle = pv_wstr(2, w_cafe);
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_IGNORECASE));
  CHECK(FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_IGNORECASE | FL_IGNORENONSPACE));
  CHECK(FPropContainsProp(&hay, &needle, FL_FULLSTRING | FL_LOOSE));

  /* PT_BINARY: each level; the high bits are ignored. */
  hay = pv_bin(1, hb, 5);
  needle = pv_bin(2, nb, 2);
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  CHECK(FPropContainsProp(&hay, &needle, FL_SUBSTRING | FL_IGNORECASE | FL_LOOSE));
  CHECK(!FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(!FPropContainsProp(&hay, &needle, FL_FULLSTRING));
  needle = pv_bin(2, pb, 2);
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX));
  CHECK(FPropContainsProp(&hay, &needle, FL_PREFIX | FL_IGNORENONSPACE));
  needle = pv_bin(2, xb, 2);
  for (i = 0; i < 3; i++) CHECK(!FPropContainsProp(&hay, &needle, levels[i]));
  CHECK(FPropContainsProp(&hay, &hay, FL_FULLSTRING));

  /* Different types, other types, NULL and malformed values: FALSE. */
  needle = pv_str8(2, "x");
  for (i = 0; i < 3; i++) CHECK(!FPropContainsProp(&hay, &needle, levels[i]));
  hay = pv_long(TAG(PT_LONG, 1), 5);
  CHECK(!FPropContainsProp(&hay, &hay, FL_FULLSTRING));
  CHECK(!FPropContainsProp(NULL, &needle, FL_SUBSTRING));
  CHECK(!FPropContainsProp(&needle, NULL, FL_SUBSTRING));
  hay = pv_str8(1, NULL);
  CHECK(!FPropContainsProp(&hay, &needle, FL_SUBSTRING));
  printf("  FPropContainsProp: ok\n");
}

/* ---- FPropCompareProp / LPropCompareProp ------------------------------------------------- */

static void check_relops(SPropValue *lo, SPropValue *hi) {
  /* lo < hi, lo == lo */
  CHECK(FPropCompareProp(lo, RELOP_LT, hi));
  CHECK(!FPropCompareProp(hi, RELOP_LT, lo));
  CHECK(!FPropCompareProp(lo, RELOP_LT, lo));
  CHECK(FPropCompareProp(lo, RELOP_LE, hi));
  CHECK(FPropCompareProp(lo, RELOP_LE, lo));
  CHECK(!FPropCompareProp(hi, RELOP_LE, lo));
  CHECK(FPropCompareProp(hi, RELOP_GT, lo));
  CHECK(!FPropCompareProp(lo, RELOP_GT, hi));
  CHECK(!FPropCompareProp(lo, RELOP_GT, lo));
  CHECK(FPropCompareProp(hi, RELOP_GE, lo));
  CHECK(FPropCompareProp(hi, RELOP_GE, hi));
  CHECK(!FPropCompareProp(lo, RELOP_GE, hi));
  CHECK(FPropCompareProp(lo, RELOP_EQ, lo));
  CHECK(!FPropCompareProp(lo, RELOP_EQ, hi));
  CHECK(FPropCompareProp(lo, RELOP_NE, hi));
  CHECK(!FPropCompareProp(lo, RELOP_NE, lo));
  CHECK(!FPropCompareProp(lo, RELOP_RE, lo)); /* regular expressions: not implemented */
  CHECK(!FPropCompareProp(lo, 7, hi));        /* unknown operator */
  CHECK(LPropCompareProp(lo, hi) < 0);
  CHECK(LPropCompareProp(hi, lo) > 0);
  CHECK_EQ(LPropCompareProp(lo, lo), 0);
}

static void test_compare(void) {
  SPropValue a, b;
  BYTE b1[] = {1, 2}, b2[] = {1, 2, 0}, b3[] = {1, 3};
  LONG l1[] = {1, 2}, l2[] = {1, 3}, l3[] = {1, 2, 0};

  /* Signed integers: -1 < 1 (an unsigned comparison would say otherwise). */
  a = pv_long(TAG(PT_LONG, 1), -1);
  b = pv_long(TAG(PT_LONG, 2), 1);
  check_relops(&a, &b);
  a.Value.l = (LONG)0x80000000u;
  b.Value.l = 0x7FFFFFFF;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_I2, 1);
  b.ulPropTag = TAG(PT_I2, 2);
  a.Value.i = -5;
  b.Value.i = 3;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_I8, 1);
  b.ulPropTag = TAG(PT_I8, 2);
  a.Value.li.QuadPart = -((long long)1 << 40);
  b.Value.li.QuadPart = 2;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_CURRENCY, 1);
  b.ulPropTag = TAG(PT_CURRENCY, 2);
  a.Value.cur.int64 = -10000;
  b.Value.cur.int64 = 10000;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_DOUBLE, 1);
  b.ulPropTag = TAG(PT_DOUBLE, 2);
  a.Value.dbl = -0.5;
  b.Value.dbl = 0.25;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_R4, 1);
  b.ulPropTag = TAG(PT_R4, 2);
  a.Value.flt = 1.0f;
  b.Value.flt = 2.0f;
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_SYSTIME, 1);
  b.ulPropTag = TAG(PT_SYSTIME, 2);
  a.Value.ft.dwHighDateTime = 1;
  a.Value.ft.dwLowDateTime = 0xFFFFFFFFu;
  b.Value.ft.dwHighDateTime = 2;
  b.Value.ft.dwLowDateTime = 0;
  check_relops(&a, &b);
  /* Booleans and errors: no documented order, but a consistent non-zero one. */
  a.ulPropTag = TAG(PT_BOOLEAN, 1);
  b.ulPropTag = TAG(PT_BOOLEAN, 2);
  a.Value.b = 0;
  b.Value.b = 1;
  CHECK(LPropCompareProp(&a, &b) != 0);
  CHECK(LPropCompareProp(&a, &b) == -LPropCompareProp(&b, &a));
  b.Value.b = 2; /* any non-zero is TRUE */
  CHECK(LPropCompareProp(&a, &b) != 0);
  a.Value.b = 1;
  CHECK_EQ(LPropCompareProp(&a, &b), 0);
  a.ulPropTag = TAG(PT_ERROR, 1);
  b.ulPropTag = TAG(PT_ERROR, 2);
  a.Value.err = MAPI_E_NOT_FOUND;
  b.Value.err = MAPI_E_CALL_FAILED;
  CHECK(LPropCompareProp(&a, &b) != 0);
  CHECK(LPropCompareProp(&a, &b) == -LPropCompareProp(&b, &a));
  /* Strings, binaries (memcmp over the shorter, then length), GUIDs, MV values. */
  a = pv_str8(1, "abc");
  b = pv_str8(2, "abd");
  check_relops(&a, &b);
  b = pv_str8(2, "abcd");
  check_relops(&a, &b);
  a = pv_wstr(1, w_ab);
  b = pv_wstr(2, w_abc);
  check_relops(&a, &b);
  a = pv_bin(1, b1, 2);
  b = pv_bin(2, b2, 3);
  check_relops(&a, &b);
  a = pv_bin(1, b2, 3);
  b = pv_bin(2, b3, 2);
  check_relops(&a, &b);
  a.ulPropTag = TAG(PT_CLSID, 1);
  a.Value.lpguid = &guid_a;
  b.ulPropTag = TAG(PT_CLSID, 2);
  b.Value.lpguid = &guid_b;
  check_relops(&a, &b);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.ulPropTag = b.ulPropTag = TAG(PT_MV_LONG, 1);
  a.Value.MVl.cValues = 2;
  a.Value.MVl.lpl = l1;
  b.Value.MVl.cValues = 2;
  b.Value.MVl.lpl = l2;
  check_relops(&a, &b);
  b.Value.MVl.cValues = 3;
  b.Value.MVl.lpl = l3;
  check_relops(&a, &b);

  /* Different types: ordered by type code; FPropCompareProp is FALSE for every operator. */
  a = pv_long(TAG(PT_I2, 1), 0);
  b = pv_long(TAG(PT_LONG, 1), 0);
  CHECK_EQ(LPropCompareProp(&a, &b), (LONG)PT_I2 - (LONG)PT_LONG);
  CHECK_EQ(LPropCompareProp(&b, &a), (LONG)PT_LONG - (LONG)PT_I2);
  {
    ULONG op;
    for (op = RELOP_LT; op <= RELOP_RE; op++) CHECK(!FPropCompareProp(&a, op, &b));
  }
  /* NULL or malformed: FALSE / 0, never a crash. */
  CHECK(!FPropCompareProp(NULL, RELOP_EQ, &a));
  CHECK(!FPropCompareProp(&a, RELOP_EQ, NULL));
  CHECK_EQ(LPropCompareProp(NULL, &a), 0);
  b = pv_str8(1, NULL);
  CHECK(!FPropCompareProp(&b, RELOP_EQ, &b));
  printf("  FPropCompareProp / LPropCompareProp: ok\n");
}

/* ---- PpropFindProp / LpValFindProp ------------------------------------------------------- */

static void test_find(void) {
  SPropValue props[4];
  props[0] = pv_long(TAG(PT_LONG, 0x1000), 1);
  props[1] = pv_str8(0x0037, "subject");
  props[2] = pv_long(TAG(PT_I2, 0x2000), 2);
  props[3] = pv_long(TAG(PT_LONG, 0x2000), 3);

  CHECK(PpropFindProp(props, 4, TAG(PT_STRING8, 0x0037)) == &props[1]);
  CHECK(PpropFindProp(props, 4, TAG(PT_LONG, 0x2000)) == &props[3]);
  /* Any other type must match exactly. */
  CHECK(PpropFindProp(props, 4, TAG(PT_UNICODE, 0x0037)) == NULL);
  /* PT_UNSPECIFIED matches by ID only: the first with that ID. */
  CHECK(PpropFindProp(props, 4, TAG(PT_UNSPECIFIED, 0x0037)) == &props[1]);
  CHECK(PpropFindProp(props, 4, TAG(PT_UNSPECIFIED, 0x2000)) == &props[2]);
  CHECK(PpropFindProp(props, 4, TAG(PT_UNSPECIFIED, 0x3000)) == NULL);
  /* NULL array or zero count: NULL. */
  CHECK(PpropFindProp(NULL, 4, TAG(PT_LONG, 0x1000)) == NULL);
  CHECK(PpropFindProp(props, 0, TAG(PT_LONG, 0x1000)) == NULL);
  CHECK(PpropFindProp(props, 1, TAG(PT_LONG, 0x2000)) == NULL);

  /* LpValFindProp matches on the ID only, whatever the types (as Windows does). */
  CHECK(LpValFindProp(TAG(PT_UNICODE, 0x0037), 4, props) == &props[1]);
  CHECK(LpValFindProp(TAG(PT_LONG, 0x2000), 4, props) == &props[2]);
  CHECK(LpValFindProp(TAG(PT_LONG, 0x3000), 4, props) == NULL);
  CHECK(LpValFindProp(TAG(PT_LONG, 0x1000), 0, props) == NULL);
  CHECK(LpValFindProp(TAG(PT_LONG, 0x1000), 4, NULL) == NULL);
  printf("  PpropFindProp / LpValFindProp: ok\n");
}

/* ---- ScCountProps / ScCopyProps / ScRelocProps / ScDupPropset ----------------------------- */

#define NPROPS 11

static LPSTR mv_strs[3] = {"one", "two two", "three three three"};
static BYTE bin_a[] = {0xDE, 0xAD, 0xBE, 0xEF, 0x01};
static BYTE bin_b[] = {0x42};
static LONG mv_longs[4] = {-2, -1, 0, 1};
static double mv_dbls[2] = {1.5, -2.25};

static void make_props(SPropValue *p) {
  static SBinary bins[2];
  bins[0].cb = 5;
  bins[0].lpb = bin_a;
  bins[1].cb = 1;
  bins[1].lpb = bin_b;
  memset(p, 0, sizeof(SPropValue) * NPROPS);
  p[0] = pv_long(TAG(PT_LONG, 0x6001), -123);
  p[1] = pv_str8(0x6002, "a narrow string");
  p[2] = pv_wstr(0x6003, w_hello);
  p[3] = pv_bin(0x6004, bin_a, 3); /* 3 bytes: the next piece is unaligned unless padded */
  p[4].ulPropTag = TAG(PT_CLSID, 0x6005);
  p[4].Value.lpguid = &guid_a;
  p[5].ulPropTag = TAG(PT_MV_STRING8, 0x6006);
  p[5].Value.MVszA.cValues = 3;
  p[5].Value.MVszA.lppszA = mv_strs;
  p[6].ulPropTag = TAG(PT_MV_BINARY, 0x6007);
  p[6].Value.MVbin.cValues = 2;
  p[6].Value.MVbin.lpbin = bins;
  p[7].ulPropTag = TAG(PT_MV_LONG, 0x6008);
  p[7].Value.MVl.cValues = 4;
  p[7].Value.MVl.lpl = mv_longs;
  p[8].ulPropTag = TAG(PT_MV_DOUBLE, 0x6009);
  p[8].Value.MVdbl.cValues = 2;
  p[8].Value.MVdbl.lpdbl = mv_dbls;
  p[9].ulPropTag = TAG(PT_ERROR, 0x600A);
  p[9].Value.err = MAPI_E_NOT_FOUND;
  p[10] = pv_bin(0x600B, NULL, 0);
}

/* Every value of `got` equals the original, and every pointer lies inside [base, base+cb). */
static void check_block(const SPropValue *got, const char *base, ULONG cb) {
  SPropValue orig[NPROPS];
  int i;
  make_props(orig);
  for (i = 0; i < NPROPS; i++) {
    CHECK_EQ(got[i].ulPropTag, orig[i].ulPropTag);
    CHECK_EQ(LPropCompareProp((LPSPropValue)&got[i], &orig[i]), 0);
  }
#define INSIDE(p) CHECK((const char *)(p) >= base && (const char *)(p) < base + cb)
  INSIDE(got[1].Value.lpszA);
  INSIDE(got[2].Value.lpszW);
  INSIDE(got[3].Value.bin.lpb);
  INSIDE(got[4].Value.lpguid);
  INSIDE(got[5].Value.MVszA.lppszA);
  for (i = 0; i < 3; i++) {
    INSIDE(got[5].Value.MVszA.lppszA[i]);
    CHECK_STR(got[5].Value.MVszA.lppszA[i], mv_strs[i]);
  }
  INSIDE(got[6].Value.MVbin.lpbin);
  INSIDE(got[6].Value.MVbin.lpbin[0].lpb);
  INSIDE(got[7].Value.MVl.lpl);
  INSIDE(got[8].Value.MVdbl.lpdbl);
  CHECK(got[10].Value.bin.lpb == NULL);
#undef INSIDE
  /* GUIDs and doubles are 8-aligned relative to the block. */
  CHECK(((const char *)got[4].Value.lpguid - base) % 8 == 0);
  CHECK(((const char *)got[8].Value.MVdbl.lpdbl - base) % 8 == 0);
  CHECK_STR(got[1].Value.lpszA, "a narrow string");
  CHECK_WSTR(got[2].Value.lpszW, w_hello);
  CHECK(got[8].Value.MVdbl.lpdbl[1] == -2.25);
}

static int alloc_calls;
static SCODE counting_buffer(ULONG cb, LPVOID *pp) {
  alloc_calls++;
  return MAPIAllocateBuffer(cb, pp);
}

static void test_count_copy_reloc(void) {
  SPropValue props[NPROPS];
  ULONG cb = GARBAGE_ULONG, written = GARBAGE_ULONG, relocated = GARBAGE_ULONG;
  char *block, *moved, *raw;
  LPSPropValue dup = NULL;

  make_props(props);
  CHECK_OK(ScCountProps(NPROPS, props, &cb));
  CHECK(cb > NPROPS * sizeof(SPropValue));
  CHECK_OK(ScCountProps(NPROPS, props, NULL)); /* validate only */

  /* A contiguous copy, exactly the counted size. */
  block = (char *)malloc(cb);
  CHECK(block != NULL);
  CHECK_OK(ScCopyProps(NPROPS, props, block, &written));
  CHECK_EQ(written, cb);
  check_block((SPropValue *)block, block, cb);

  /* Moved with memcpy and re-pointed with ScRelocProps: reads back equal, and nothing in it
   * points at the old block any more (scribbled over, then freed: valgrind would see it). */
  moved = (char *)malloc(cb);
  CHECK(moved != NULL);
  memcpy(moved, block, cb);
  memset(block, 0xAA, cb);
  CHECK_OK(ScRelocProps(NPROPS, (LPSPropValue)moved, block, moved, &relocated));
  free(block);
  CHECK_EQ(relocated, cb);
  check_block((SPropValue *)moved, moved, cb);

  /* An unaligned copy: ScCopyProps into an odd address, moved to an aligned one, re-pointed. */
  raw = (char *)malloc(cb + 1);
  CHECK(raw != NULL);
  written = 0;
  CHECK_OK(ScCopyProps(NPROPS, props, raw + 1, &written));
  CHECK_EQ(written, cb);
  memcpy(moved, raw + 1, cb);
  memset(raw, 0xAA, cb + 1);
  CHECK_OK(ScRelocProps(NPROPS, (LPSPropValue)moved, raw + 1, moved, NULL));
  free(raw);
  check_block((SPropValue *)moved, moved, cb);
  free(moved);

  /* ScDupPropset: one allocation, one block, freed with one MAPIFreeBuffer. */
  alloc_calls = 0;
  CHECK_OK(ScDupPropset(NPROPS, props, counting_buffer, &dup));
  CHECK_EQ(alloc_calls, 1);
  check_block(dup, (const char *)dup, cb);
  MAPIFreeBuffer(dup);

  /* Bad input. */
  {
    SPropValue bad[2];
    LPSPropValue out = (LPSPropValue)GARBAGE_PTR;
    char buf[256];
    cb = GARBAGE_ULONG;
    CHECK_HR(ScCountProps(0, props, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_EQ(cb, 0);
    CHECK_HR(ScCountProps(-1, props, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScCountProps(2, NULL, &cb), MAPI_E_INVALID_PARAMETER);
    bad[0] = props[0];
    bad[1] = props[7];
    bad[1].Value.MVl.cValues = 0; /* an MV value with zero elements */
    bad[1].Value.MVl.lpl = NULL;
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScDupPropset(2, bad, MAPIAllocateBuffer, &out), MAPI_E_INVALID_PARAMETER);
    CHECK(out == NULL);
    bad[1] = pv_long(PR_NULL, 0); /* property ID 0 */
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    bad[1] = pv_long(TAG(PT_LONG, 0xFFFF), 0); /* PROP_ID_INVALID */
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    bad[1] = pv_long(TAG(PT_UNSPECIFIED, 0x1234), 0);
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    bad[1] = pv_long(TAG(PT_NULL, 0x1234), 0);
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    /* Accepted: an empty binary, PT_ERROR and PT_OBJECT values. */
    bad[1] = pv_bin(0x1234, NULL, 0);
    CHECK_OK(ScCountProps(2, bad, &cb));
    CHECK_EQ(cb, 2 * sizeof(SPropValue));
    bad[1] = pv_long(TAG(PT_OBJECT, 0x1234), 0);
    CHECK_OK(ScCountProps(2, bad, &cb));
    bad[1] = pv_str8(0x1234, NULL);
    CHECK_HR(ScCountProps(2, bad, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScCopyProps(2, bad, buf, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScCopyProps(1, props, NULL, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScCopyProps(-1, props, buf, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_OK(ScCopyProps(0, props, buf, &cb)); /* nothing to copy */
    CHECK_EQ(cb, 0);
    CHECK_OK(ScCopyProps(0, NULL, buf, &cb));
    CHECK_HR(ScRelocProps(1, props, NULL, buf, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScRelocProps(1, props, buf, NULL, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScRelocProps(1, NULL, buf, buf, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScRelocProps(-1, props, buf, buf, &cb), MAPI_E_INVALID_PARAMETER);
    /* An MV value claiming elements with no array: refused before anything is changed. */
    bad[0] = props[0];
    memset(&bad[1], 0, sizeof bad[1]);
    bad[1].ulPropTag = TAG(PT_MV_STRING8, 0x1234);
    bad[1].Value.MVszA.cValues = 2;
    CHECK_HR(ScRelocProps(2, bad, buf, buf + 8, &cb), MAPI_E_INVALID_PARAMETER);
    CHECK_EQ(bad[0].Value.l, -123);
    CHECK(bad[1].Value.MVszA.lppszA == NULL);
    out = (LPSPropValue)GARBAGE_PTR;
    CHECK_HR(ScDupPropset(1, props, NULL, &out), MAPI_E_INVALID_PARAMETER);
    CHECK(out == NULL);
    CHECK_HR(ScDupPropset(1, props, MAPIAllocateBuffer, NULL), MAPI_E_INVALID_PARAMETER);
    CHECK_HR(ScDupPropset(0, props, MAPIAllocateBuffer, &out), MAPI_E_INVALID_PARAMETER);
  }
  printf("  ScCountProps / ScCopyProps / ScRelocProps / ScDupPropset: ok\n");
}

/* ---- FEqualNames ------------------------------------------------------------------------- */

static void test_equal_names(void) {
  GUID g1 = guid_a, g2 = guid_a;
  WCHAR n1[] = {'N', 'a', 'm', 'e', 0}, n2[] = {'N', 'a', 'm', 'e', 0};
  WCHAR n3[] = {'n', 'a', 'm', 'e', 0};
  MAPINAMEID a, b;

  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.lpguid = &g1;
  b.lpguid = &g2; /* equal by value, different pointers */
  a.ulKind = b.ulKind = MNID_ID;
  a.Kind.lID = b.Kind.lID = 0x8001;
  CHECK(FEqualNames(&a, &b));
  b.Kind.lID = 0x8002;
  CHECK(!FEqualNames(&a, &b));
  a.ulKind = b.ulKind = MNID_STRING;
  a.Kind.lpwstrName = n1;
  b.Kind.lpwstrName = n2;
  CHECK(FEqualNames(&a, &b));
  b.Kind.lpwstrName = n3; /* case-sensitive */
  CHECK(!FEqualNames(&a, &b));
  b.Kind.lpwstrName = n2;
  b.lpguid = &guid_b;
  CHECK(!FEqualNames(&a, &b));
  b.lpguid = &g2;
  b.ulKind = MNID_ID;
  b.Kind.lID = 1;
  CHECK(!FEqualNames(&a, &b));
  CHECK(!FEqualNames(NULL, &b));
  CHECK(!FEqualNames(&a, NULL));
  printf("  FEqualNames: ok\n");
}

/* ---- Validation -------------------------------------------------------------------------- */

static void test_validation(void) {
  LPSTR good_a[2] = {"x", "y"}, bad_a[2] = {"x", NULL};
  LPWSTR good_w[1] = {w_ab}, bad_w[2] = {w_ab, NULL};
  SPropValue v, props[2];
  LONG longs[1] = {1};
  SRow row;
  struct {
    ULONG cRows;
    SRow aRow[2];
  } setbuf; /* an SRowSet with room for two rows */
  SRowSet *set = (SRowSet *)(void *)&setbuf;
  SizedSPropTagArray(3, cols);

  /* FBadRglpszA/W: a count of 0 is fine even with NULL; NULL array or element is bad. */
  CHECK(!FBadRglpszA(NULL, 0));
  CHECK(!FBadRglpszA(good_a, 2));
  CHECK(FBadRglpszA(NULL, 2));
  CHECK(FBadRglpszA(bad_a, 2));
  CHECK(!FBadRglpszA(bad_a, 1));
  CHECK(!FBadRglpszW(NULL, 0));
  CHECK(!FBadRglpszW(good_w, 1));
  CHECK(FBadRglpszW(NULL, 1));
  CHECK(FBadRglpszW(bad_w, 2));

  /* FBadPropTag: the type only. */
  CHECK(!FBadPropTag(PR_SUBJECT_A));
  CHECK(!FBadPropTag(PR_NULL));
  CHECK(!FBadPropTag(TAG(PT_MV_UNICODE, 0x1234)));
  CHECK(!FBadPropTag(TAG(PT_OBJECT, 0x1234)));
  CHECK(!FBadPropTag(TAG(PT_ERROR, 0xFFFF))); /* the ID is not checked */
  CHECK(FBadPropTag(TAG(0x0008, 0x1234)));
  CHECK(FBadPropTag(TAG(MV_FLAG | PT_BOOLEAN, 0x1234))); /* no PT_MV_BOOLEAN in MAPI */
  CHECK(FBadPropTag(TAG(MVI_FLAG | PT_STRING8, 0x1234)));
  CHECK(FBadPropTag(0xFFFFFFFFu));

  /* FBadProp. */
  CHECK(FBadProp(NULL));
  v = pv_long(TAG(PT_LONG, 1), 5);
  CHECK(!FBadProp(&v));
  v = pv_long(TAG(PT_BOOLEAN, 1), 0);
  v.Value.b = 2; /* non-zero is TRUE; not restricted to 0/1 */
  CHECK(!FBadProp(&v));
  v = pv_long(TAG(0x0008, 1), 5);
  CHECK(FBadProp(&v));
  v = pv_str8(1, NULL);
  CHECK(FBadProp(&v));
  v = pv_wstr(1, NULL);
  CHECK(FBadProp(&v));
  v = pv_bin(1, NULL, 4);
  CHECK(FBadProp(&v));
  v = pv_bin(1, NULL, 0);
  CHECK(!FBadProp(&v));
  v.ulPropTag = TAG(PT_CLSID, 1);
  v.Value.lpguid = NULL;
  CHECK(FBadProp(&v));
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_MV_LONG, 1);
  v.Value.MVl.cValues = 2;
  CHECK(FBadProp(&v));
  v.Value.MVl.cValues = 0; /* zero elements */
  CHECK(!FBadProp(&v));
  v.ulPropTag = TAG(PT_MV_STRING8, 1);
  v.Value.MVszA.cValues = 2;
  v.Value.MVszA.lppszA = bad_a;
  CHECK(FBadProp(&v));
  v.Value.MVszA.lppszA = good_a;
  CHECK(!FBadProp(&v));

  /* FBadRow / FBadRowSet. */
  CHECK(FBadRow(NULL));
  props[0] = pv_long(TAG(PT_LONG, 1), 1);
  props[1] = pv_str8(2, "ok");
  row.ulAdrEntryPad = 0;
  row.cValues = 2;
  row.lpProps = NULL;
  CHECK(FBadRow(&row));
  row.lpProps = props;
  CHECK(!FBadRow(&row));
  CHECK(FBadRowSet(NULL));
  set->cRows = 0;
  CHECK(!FBadRowSet(set));
  set->cRows = 2;
  set->aRow[0] = row;
  set->aRow[1] = row;
  CHECK(!FBadRowSet(set));
  props[1] = pv_str8(2, NULL);
  CHECK(FBadRow(&row));
  CHECK(FBadRowSet(set));
  memset(&v, 0, sizeof v);
  v.ulPropTag = TAG(PT_MV_LONG, 3);
  v.Value.MVl.cValues = 1;
  v.Value.MVl.lpl = longs;
  props[1] = v;
  CHECK(!FBadRowSet(set));
  set->aRow[1].lpProps = NULL;
  CHECK(FBadRowSet(set));

  /* FBadColumnSet. */
  CHECK(FBadColumnSet(NULL));
  cols.cValues = 3;
  cols.aulPropTag[0] = PR_SUBJECT_A;
  cols.aulPropTag[1] = PR_NULL; /* PT_NULL columns are valid */
  cols.aulPropTag[2] = TAG(PT_MV_LONG, 0x1234);
  CHECK(!FBadColumnSet((LPSPropTagArray)&cols));
  cols.aulPropTag[2] = TAG(PT_ERROR, 0x1234);
  CHECK(FBadColumnSet((LPSPropTagArray)&cols));
  cols.aulPropTag[2] = TAG(0x0008, 0x1234);
  CHECK(FBadColumnSet((LPSPropTagArray)&cols));
  cols.cValues = 0;
  CHECK(!FBadColumnSet((LPSPropTagArray)&cols));
  printf("  FBadRglpszA/W, FBadPropTag, FBadProp, FBadRow, FBadRowSet, FBadColumnSet: ok\n");
}

/* ---- Objects: HrGetOneProp, HrSetOneProp, FPropExists, UlAddRef, UlRelease, FreeProws --- */

static LPPROPDATA new_prop(void) {
  LPPROPDATA p = NULL;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       NULL, &p));
  return p;
}

/* A row's values: one MAPIAllocateBuffer block with a string chained by MAPIAllocateMore. */
static LPSPropValue row_values(const char *text) {
  LPSPropValue v = NULL;
  char *s = NULL;
  CHECK_OK(MAPIAllocateBuffer(2 * sizeof(SPropValue), (LPVOID *)&v));
  CHECK_OK(MAPIAllocateMore((ULONG)strlen(text) + 1, v, (LPVOID *)&s));
  strcpy(s, text);
  v[0] = pv_long(TAG(PT_LONG, 0x0FFF), 1);
  v[1] = pv_str8(0x3001, s);
  return v;
}

static void test_objects(void) {
  LPPROPDATA p = new_prop();
  LPMAPIPROP mp = (LPMAPIPROP)p;
  SPropValue v = pv_str8(0x0037, "one property");
  LPSPropValue got = (LPSPropValue)GARBAGE_PTR;

  CHECK_OK(HrSetOneProp(mp, &v));
  CHECK_OK(HrGetOneProp(mp, PR_SUBJECT_A, &got));
  CHECK(got != NULL);
  CHECK_EQ(got->ulPropTag, PR_SUBJECT_A);
  CHECK_STR(got->Value.lpszA, "one property");
  MAPIFreeBuffer(got);
  /* A missing property: MAPI_E_NOT_FOUND, never MAPI_W_ERRORS_RETURNED; NULL out. */
  got = (LPSPropValue)GARBAGE_PTR;
  CHECK_HR(HrGetOneProp(mp, TAG(PT_LONG, 0x6666), &got), MAPI_E_NOT_FOUND);
  CHECK(got == NULL);
  got = (LPSPropValue)GARBAGE_PTR;
  CHECK_HR(HrGetOneProp(NULL, PR_SUBJECT_A, &got), MAPI_E_INVALID_PARAMETER);
  CHECK(got == NULL);
  CHECK_HR(HrGetOneProp(mp, PR_SUBJECT_A, NULL), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(HrSetOneProp(NULL, &v), MAPI_E_INVALID_PARAMETER);
  CHECK_HR(HrSetOneProp(mp, NULL), MAPI_E_INVALID_PARAMETER);
  /* SetProps' whole-call failures come back as they are. */
  v = pv_long(TAG(PT_NULL, 0x1234), 0);
  CHECK_HR(HrSetOneProp(mp, &v), MAPI_E_INVALID_PARAMETER);

  /* FPropExists: exact tag; PT_UNSPECIFIED by ID. */
  CHECK(FPropExists(mp, PR_SUBJECT_A));
  CHECK(FPropExists(mp, TAG(PT_UNSPECIFIED, 0x0037)));
  CHECK(!FPropExists(mp, TAG(PT_LONG, 0x0037)));
  CHECK(!FPropExists(mp, TAG(PT_UNSPECIFIED, 0x0038)));
  CHECK(!FPropExists(NULL, PR_SUBJECT_A));

  /* UlAddRef / UlRelease return what AddRef / Release return; NULL gives 0. */
  CHECK_EQ(UlAddRef(p), 2);
  CHECK_EQ(UlRelease(p), 1);
  CHECK_EQ(UlAddRef(NULL), 0);
  CHECK_EQ(UlRelease(NULL), 0);
  CHECK_EQ(UlRelease(p), 0);
  CHECK_EQ(MsgStoreLiveObjects(), 0);

  /* FreeProws: every row's values, then the set (valgrind checks nothing leaks). */
  {
    LPSRowSet rows = NULL;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewSRowSet(3), (LPVOID *)&rows));
    rows->cRows = 3;
    rows->aRow[0].cValues = 2;
    rows->aRow[0].lpProps = row_values("row zero");
    rows->aRow[1].cValues = 0;
    rows->aRow[1].lpProps = NULL; /* a row with no values */
    rows->aRow[2].cValues = 2;
    rows->aRow[2].lpProps = row_values("row two");
    CHECK(!FBadRow(&rows->aRow[0]));
    FreeProws(rows);
    FreeProws(NULL);
  }
  /* FreePadrlist: the same layout. */
  {
    LPADRLIST list = NULL;
    CHECK_OK(MAPIAllocateBuffer((ULONG)CbNewADRLIST(2), (LPVOID *)&list));
    list->cEntries = 2;
    list->aEntries[0].cValues = 2;
    list->aEntries[0].rgPropVals = row_values("alice@example.com");
    list->aEntries[1].cValues = 2;
    list->aEntries[1].rgPropVals = row_values("bob@example.com");
    CHECK(!FBadRowSet((LPSRowSet)list));
    FreePadrlist(list);
    FreePadrlist(NULL);
  }
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  printf("  HrGetOneProp, HrSetOneProp, FPropExists, UlAddRef, UlRelease, FreeProws, "
         "FreePadrlist: ok\n");
}

/* ---- Runtime: MAPIInitialize, ScInitMapiUtil, MAPIGetDefaultMalloc ----------------------- */

static void test_runtime(void) {
  ULONG mapi = GARBAGE_ULONG, util = GARBAGE_ULONG;
  MAPIINIT_0 init;
  LPMALLOC m;
  void *block, *obj = GARBAGE_PTR;

  CHECK_OK(MsgStoreInitCounts(&mapi, &util));
  CHECK_EQ(mapi, 0);
  CHECK_EQ(util, 0);
  CHECK_OK(MAPIInitialize(NULL));
  init.ulVersion = MAPI_INIT_VERSION;
  init.ulFlags = MAPI_MULTITHREAD_NOTIFICATIONS | MAPI_NT_SERVICE;
  CHECK_OK(MAPIInitialize(&init));
  CHECK_OK(MsgStoreInitCounts(&mapi, NULL));
  CHECK_EQ(mapi, 2);
  /* MAPIINIT_0 checked: version, then flags; a refused call counts nothing. */
  init.ulVersion = 1;
  init.ulFlags = 0;
  CHECK_HR(MAPIInitialize(&init), MAPI_E_VERSION);
  init.ulVersion = MAPI_INIT_VERSION;
  init.ulFlags = 0x2;
  CHECK_HR(MAPIInitialize(&init), MAPI_E_UNKNOWN_FLAGS);
  CHECK_OK(MsgStoreInitCounts(&mapi, NULL));
  CHECK_EQ(mapi, 2);
  MAPIUninitialize();
  CHECK_OK(MsgStoreInitCounts(&mapi, NULL));
  CHECK_EQ(mapi, 1);
  MAPIUninitialize();
  MAPIUninitialize(); /* unbalanced: a no-op */
  CHECK_OK(MsgStoreInitCounts(&mapi, NULL));
  CHECK_EQ(mapi, 0);

  CHECK_OK(ScInitMapiUtil(0));
  CHECK_HR(ScInitMapiUtil(1), MAPI_E_INVALID_PARAMETER);
  CHECK_OK(MsgStoreInitCounts(NULL, &util));
  CHECK_EQ(util, 1);
  DeinitMapiUtil();
  DeinitMapiUtil(); /* unbalanced: a no-op */
  CHECK_OK(MsgStoreInitCounts(NULL, &util));
  CHECK_EQ(util, 0);

  /* The default IMalloc: one static object; its blocks are ordinary heap blocks. */
  m = MAPIGetDefaultMalloc();
  CHECK(m != NULL);
  CHECK(MAPIGetDefaultMalloc() == m);
  CHECK_EQ(m->lpVtbl->AddRef(m), 1);
  CHECK_EQ(m->lpVtbl->Release(m), 1);
  CHECK_OK(m->lpVtbl->QueryInterface(m, &IID_IMalloc, &obj));
  CHECK(obj == (void *)m);
  obj = GARBAGE_PTR;
  CHECK_HR(m->lpVtbl->QueryInterface(m, &IID_IMAPIProp, &obj), E_NOINTERFACE);
  CHECK(obj == NULL);
  block = m->lpVtbl->Alloc(m, 100);
  CHECK(block != NULL);
  memset(block, 0x11, 100);
  CHECK(m->lpVtbl->GetSize(m, block) >= 100);
  CHECK_EQ(m->lpVtbl->DidAlloc(m, block), -1);
  block = m->lpVtbl->Realloc(m, block, 300);
  CHECK(block != NULL);
  CHECK(((unsigned char *)block)[99] == 0x11);
  m->lpVtbl->Free(m, block);
  block = m->lpVtbl->Alloc(m, 16);
  CHECK(block != NULL);
  free(block); /* an ordinary heap block */
  block = malloc(8);
  m->lpVtbl->Free(m, block);
  m->lpVtbl->Free(m, NULL);
  m->lpVtbl->HeapMinimize(m);
  printf("  MAPIInitialize, ScInitMapiUtil, MAPIGetDefaultMalloc: ok\n");
}

/* ---- Strings ----------------------------------------------------------------------------- */

static void test_strings(void) {
  BYTE bytes[3] = {0x01, 0xAB, 0xFF}, out[4];
  char hex[16];
  uint16_t words[3] = {0x1234, 0xABCD, 0x00FF};
  ULONG longs[2] = {0x11223344u, 0xAABBCCDDu};
  unsigned char raw[9];
  ULONG l;

  memset(hex, 'x', sizeof hex);
  HexFromBin(bytes, 3, hex);
  CHECK_STR(hex, "01ABFF");
  HexFromBin(bytes, 0, hex);
  CHECK_STR(hex, "");
  HexFromBin(NULL, 3, hex);
  CHECK_STR(hex, "");
  HexFromBin(bytes, 3, NULL); /* nowhere to write: nothing happens */

  memset(out, 0x77, sizeof out);
  CHECK(FBinFromHex("01abFF", out));
  CHECK(out[0] == 0x01 && out[1] == 0xAB && out[2] == 0xFF && out[3] == 0x77);
  CHECK(FBinFromHex("", out));
  /* Odd length and invalid characters: FALSE, and nothing written. */
  memset(out, 0x77, sizeof out);
  CHECK(!FBinFromHex("abc", out));
  CHECK(!FBinFromHex("0g", out));
  CHECK(!FBinFromHex("0 ", out));
  CHECK(out[0] == 0x77);
  CHECK(!FBinFromHex(NULL, out));
  CHECK(!FBinFromHex("00", NULL));

  CHECK_EQ(UFromSz("5a5b"), 5);
  CHECK_EQ(UFromSz("a5b5"), 0);
  CHECK_EQ(UFromSz(" 5"), 0); /* no whitespace skipping */
  CHECK_EQ(UFromSz("4294967295"), 4294967295u);
  CHECK_EQ(UFromSz(""), 0);
  CHECK_EQ(UFromSz(NULL), 0);
  CHECK_EQ(UlFromSzHex("5a"), 90);
  CHECK_EQ(UlFromSzHex("5g5h"), 5);
  CHECK_EQ(UlFromSzHex("abc"), 0xABC); /* odd length, one digit at a time */
  CHECK_EQ(UlFromSzHex("FFFFffff"), 0xFFFFFFFFu);
  CHECK_EQ(UlFromSzHex("g"), 0);
  CHECK_EQ(UlFromSzHex(NULL), 0);

  SwapPword(words, 2);
  CHECK_EQ(words[0], 0x3412);
  CHECK_EQ(words[1], 0xCDAB);
  CHECK_EQ(words[2], 0x00FF);
  SwapPlong(longs, 2);
  CHECK_EQ(longs[0], 0x44332211u);
  CHECK_EQ(longs[1], 0xDDCCBBAAu);
  SwapPword(NULL, 5);
  SwapPlong(NULL, 5);
  SwapPlong(longs, 0);
  CHECK_EQ(longs[0], 0x44332211u);
  /* Unaligned data. */
  l = 0x01020304u;
  memcpy(raw + 1, &l, 4);
  SwapPlong((ULONG *)(void *)(raw + 1), 1);
  memcpy(&l, raw + 1, 4);
  CHECK_EQ(l, 0x04030201u);

  CHECK_EQ(CbOfEncoded(""), 3);
  CHECK_EQ(CbOfEncoded("abcd"), 6);
  CHECK_EQ(CbOfEncoded("abcdefgh"), 9);
  CHECK_EQ(CbOfEncoded(NULL), 0);
  printf("  HexFromBin, FBinFromHex, UFromSz, UlFromSzHex, SwapPword, SwapPlong, CbOfEncoded: "
         "ok\n");
}

/* ---- Item 6: three Windows behaviours ----------------------------------------------------- */

static void test_windows_behaviours(void) {
  LPPROPDATA p = new_prop();
  LPMAPIERROR err = (LPMAPIERROR)GARBAGE_PTR;
  LPSPropProblemArray problems = (LPSPropProblemArray)GARBAGE_PTR;
  SPropValue v[2];
  LPSPropTagArray tags, list = NULL;

  /* 1. GetLastError on an object with no error to report: S_OK, *lppMAPIError NULL. */
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_NOT_FOUND, 0, &err));
  CHECK(err == NULL);
  err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_CALL_FAILED, MAPI_UNICODE, &err));
  CHECK(err == NULL);
  /* The same rule for the thread's last failure. */
  CHECK_HR(ScInitMapiUtil(7), MAPI_E_INVALID_PARAMETER);
  err = (LPMAPIERROR)GARBAGE_PTR;
  CHECK_OK(MsgStoreGetLastError(MAPI_E_NO_SUPPORT, 0, &err));
  CHECK(err == NULL);
  CHECK_OK(MsgStoreGetLastError(MAPI_E_INVALID_PARAMETER, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "ScInitMapiUtil") != NULL);
  MAPIFreeBuffer(err);

  /* 2. SetProps with PT_NULL and an ID other than 0 fails the whole call (nothing applied);
   *    PR_NULL itself is ignored. */
  v[0] = pv_str8(0x0037, "not applied");
  v[1] = pv_long(TAG(PT_NULL, 0x1234), 0);
  CHECK_HR(p->lpVtbl->SetProps(p, 2, v, &problems), MAPI_E_INVALID_PARAMETER);
  CHECK(problems == NULL);
  CHECK_OK(p->lpVtbl->GetPropList(p, 0, &list));
  CHECK_EQ(list->cValues, 0);
  MAPIFreeBuffer(list);
  /* ...and now GetLastError has something to report. */
  CHECK_OK(p->lpVtbl->GetLastError(p, MAPI_E_INVALID_PARAMETER, 0, &err));
  CHECK(err != NULL && strstr(err->lpszError, "SetProps") != NULL);
  MAPIFreeBuffer(err);
  v[1] = pv_long(PR_NULL, 0);
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_OK(p->lpVtbl->SetProps(p, 2, v, &problems));
  CHECK(problems == NULL);
  CHECK(FPropExists((LPMAPIPROP)p, PR_SUBJECT_A));

  /* 3. HrAddObjProps with a tag that is not PT_OBJECT: MAPI_E_INVALID_TYPE, no problem array,
   *    nothing added. */
  tags = tag_array(2, TAG(PT_OBJECT, 0x4001), TAG(PT_LONG, 0x4002));
  problems = (LPSPropProblemArray)GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->HrAddObjProps(p, tags, &problems), MAPI_E_INVALID_TYPE);
  CHECK(problems == NULL);
  CHECK(!FPropExists((LPMAPIPROP)p, TAG(PT_OBJECT, 0x4001)));
  tags->cValues = 1;
  CHECK_OK(p->lpVtbl->HrAddObjProps(p, tags, &problems));
  CHECK(problems == NULL);
  CHECK(FPropExists((LPMAPIPROP)p, TAG(PT_OBJECT, 0x4001)));
  MAPIFreeBuffer(tags);

  CHECK_EQ(p->lpVtbl->Release(p), 0);
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  printf("  GetLastError / SetProps(PT_NULL) / HrAddObjProps as Windows: ok\n");
}

/* ---- Signatures: each helper has MAPI's exact one (mapiutil.h / mapival.h) --------------- */

/* Initialising a pointer of MAPI's declared type with the export fails to compile (-Werror)
 * if the parameter or return types differ. */
#define SIG(ret, name, args)   \
  do {                         \
    ret(*p_) args = name;      \
    CHECK(p_ != NULL);         \
  } while (0)

static void test_signatures(void) {
  SIG(SCODE, PropCopyMore, (LPSPropValue, LPSPropValue, ALLOCATEMORE *, LPVOID));
  SIG(ULONG, UlPropSize, (LPSPropValue));
  SIG(BOOL, FPropContainsProp, (LPSPropValue, LPSPropValue, ULONG));
  SIG(BOOL, FPropCompareProp, (LPSPropValue, ULONG, LPSPropValue));
  SIG(LONG, LPropCompareProp, (LPSPropValue, LPSPropValue));
  SIG(LPSPropValue, PpropFindProp, (LPSPropValue, ULONG, ULONG));
  SIG(SCODE, ScCountProps, (int, LPSPropValue, ULONG *));
  SIG(SCODE, ScCopyProps, (int, LPSPropValue, LPVOID, ULONG *));
  SIG(SCODE, ScRelocProps, (int, LPSPropValue, LPVOID, LPVOID, ULONG *));
  SIG(LPSPropValue, LpValFindProp, (ULONG, ULONG, LPSPropValue));
  SIG(SCODE, ScDupPropset, (int, LPSPropValue, LPALLOCATEBUFFER, LPSPropValue *));
  SIG(BOOL, FEqualNames, (LPMAPINAMEID, LPMAPINAMEID));
  SIG(BOOL, FBadRglpszA, (LPSTR *, ULONG));
  SIG(BOOL, FBadRglpszW, (LPWSTR *, ULONG));
  SIG(BOOL, FBadRowSet, (LPSRowSet));
  SIG(ULONG, FBadRow, (LPSRow));
  SIG(ULONG, FBadPropTag, (ULONG));
  SIG(ULONG, FBadProp, (LPSPropValue));
  SIG(ULONG, FBadColumnSet, (LPSPropTagArray));
  SIG(HRESULT, HrGetOneProp, (LPMAPIPROP, ULONG, LPSPropValue *));
  SIG(HRESULT, HrSetOneProp, (LPMAPIPROP, LPSPropValue));
  SIG(BOOL, FPropExists, (LPMAPIPROP, ULONG));
  SIG(ULONG, UlAddRef, (LPVOID));
  SIG(ULONG, UlRelease, (LPVOID));
  SIG(void, FreeProws, (LPSRowSet));
  SIG(void, FreePadrlist, (LPADRLIST));
  SIG(HRESULT, MAPIInitialize, (LPVOID));
  SIG(void, MAPIUninitialize, (void));
  SIG(SCODE, ScInitMapiUtil, (ULONG));
  SIG(void, DeinitMapiUtil, (void));
  SIG(LPMALLOC, MAPIGetDefaultMalloc, (void));
  SIG(void, HexFromBin, (LPBYTE, int, LPTSTR));
  SIG(BOOL, FBinFromHex, (LPTSTR, LPBYTE));
  SIG(unsigned int, UFromSz, (const char *));
  SIG(ULONG, UlFromSzHex, (const char *));
  SIG(void, SwapPword, (unsigned short *, ULONG));
  SIG(void, SwapPlong, (ULONG *, ULONG));
  SIG(ULONG, CbOfEncoded, (const char *));
  /* The layouts of reference §10.5. */
  CHECK_EQ(sizeof(SRow), 16);
  CHECK_EQ(offsetof(SRow, cValues), 4);
  CHECK_EQ(offsetof(SRow, lpProps), 8);
  CHECK_EQ(offsetof(SRowSet, aRow), 8);
  CHECK_EQ(CbNewSRowSet(2), 8 + 2 * 16);
  CHECK_EQ(sizeof(ADRENTRY), 16);
  CHECK_EQ(offsetof(ADRENTRY, rgPropVals), 8);
  CHECK_EQ(offsetof(ADRLIST, aEntries), 8);
  CHECK_EQ(CbNewADRLIST(2), 8 + 2 * 16);
  CHECK_EQ(sizeof(MAPIINIT_0), 8);
  CHECK_EQ(offsetof(MAPIINIT_0, ulFlags), 4);
  CHECK_EQ(sizeof(IMallocVtbl), 9 * sizeof(void *));
  CHECK_EQ(offsetof(IMallocVtbl, Alloc), 3 * sizeof(void *));
  CHECK_EQ(offsetof(IMallocVtbl, HeapMinimize), 8 * sizeof(void *));
  CHECK_EQ(IID_IMalloc.Data1, 0x00000002u);
  CHECK(IID_IMalloc.Data4[0] == 0xC0 && IID_IMalloc.Data4[7] == 0x46);
  CHECK_EQ(FL_SUBSTRING, 1);
  CHECK_EQ(FL_PREFIX, 2);
  CHECK_EQ(FL_IGNORECASE, 0x10000);
  CHECK_EQ(FL_IGNORENONSPACE, 0x20000);
  CHECK_EQ(FL_LOOSE, 0x40000);
  CHECK_EQ(RELOP_LT, 0);
  CHECK_EQ(RELOP_NE, 5);
  CHECK_EQ(RELOP_RE, 6);
  CHECK_EQ(MAPI_MULTITHREAD_NOTIFICATIONS, 1);
  CHECK_EQ(MAPI_NT_SERVICE, 0x10000);
  printf("  signatures and layouts: ok\n");
}

/* ---- The guard: a panic inside returns the documented failure value ----------------------- */

static void test_panics(void) {
  SPropValue v = pv_long(TAG(PT_LONG, 1), 1);
  ULONG cb = 0;
  CHECK_OK(MsgStoreInjectPanic("FBadProp"));
  CHECK_EQ(FBadProp(&v), 1); /* "bad" */
  CHECK_OK(MsgStoreInjectPanic("FPropCompareProp"));
  CHECK(!FPropCompareProp(&v, RELOP_EQ, &v));
  CHECK_OK(MsgStoreInjectPanic("PpropFindProp"));
  CHECK(PpropFindProp(&v, 1, v.ulPropTag) == NULL);
  CHECK_OK(MsgStoreInjectPanic("ScCountProps"));
  CHECK_HR(ScCountProps(1, &v, &cb), MAPI_E_CALL_FAILED);
  CHECK_OK(MsgStoreInjectPanic("UlPropSize"));
  CHECK_EQ(UlPropSize(&v), 0);
  CHECK_OK(MsgStoreInjectPanic("FreeProws"));
  FreeProws(NULL);
  /* ...and the next calls work normally. */
  CHECK(!FBadProp(&v));
  CHECK(PpropFindProp(&v, 1, v.ulPropTag) == &v);
  CHECK_OK(ScCountProps(1, &v, &cb));
  CHECK_EQ(cb, sizeof(SPropValue));
  printf("  guard: ok\n");
}

static const struct {
  const char *name;
  void (*fn)(void);
} SECTIONS[] = {
    {"signatures", test_signatures},
    {"prop_copy_more", test_prop_copy_more},
    {"ul_prop_size", test_ul_prop_size},
    {"contains", test_contains},
    {"compare", test_compare},
    {"find", test_find},
    {"count_copy_reloc", test_count_copy_reloc},
    {"equal_names", test_equal_names},
    {"validation", test_validation},
    {"objects", test_objects},
    {"runtime", test_runtime},
    {"strings", test_strings},
    {"windows_behaviours", test_windows_behaviours},
    {"panics", test_panics},
};
#define NSECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

int main(int argc, char **argv) {
  size_t i;
  int a;
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (i = 0; i < NSECTIONS; i++) printf("%s\n", SECTIONS[i].name);
    return 0;
  }
  if (argc == 1) {
    for (i = 0; i < NSECTIONS; i++) SECTIONS[i].fn();
  } else {
    for (a = 1; a < argc; a++) {
      for (i = 0; i < NSECTIONS; i++) {
        if (strcmp(argv[a], SECTIONS[i].name) == 0) break;
      }
      if (i == NSECTIONS) {
        fprintf(stderr, "unknown section %s (see --list)\n", argv[a]);
        return 2;
      }
      SECTIONS[i].fn();
    }
  }
  CHECK_EQ(MsgStoreLiveObjects(), 0);
  printf("mapiutil_test: all passed\n");
  return 0;
}
