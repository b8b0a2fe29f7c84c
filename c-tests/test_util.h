/* Shared helpers for the C and C++ test programs in c-tests/ (compiles as C11 and C++17 with
 * -Wall -Wextra -Werror -pedantic). Every check prints file:line and what failed, then exits
 * non-zero: a test program stops at its first failure.
 *
 *   CHECK(cond)                 a condition
 *   CHECK_HR(expr, expected)    an HRESULT, printed by name and in hex on mismatch
 *   CHECK_OK(expr)              CHECK_HR(expr, S_OK)
 *   CHECK_EQ(a, b)              two integers (compared as long long), printed on mismatch
 *   CHECK_STR(a, b)             two NUL-terminated narrow strings
 *   CHECK_WSTR(a, b)            two NUL-terminated UTF-16 strings (WCHAR *)
 *   hr_name(hr)                 an HRESULT's symbolic name
 *   test_path(buf, size, name)  "$MSGSTORE_TEST_DIR/name" (or "./name" when it is unset)
 *   test_under_valgrind()       non-zero when the runner runs us under valgrind: scale loops down
 *   tag_array(n, tag...)        a MAPIAllocateBuffer'd SPropTagArray (pass ULONG tags)
 */
#ifndef MSGSTORE_TEST_UTIL_H
#define MSGSTORE_TEST_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgstore.h"

/* A recognisable non-NULL pointer to pre-set out-parameters with: a call that fails must
 * overwrite it with NULL (DESIGN.md §2). Never dereferenced. */
#define GARBAGE_PTR ((void *)(uintptr_t)0xDEADBEEFu)
#define GARBAGE_ULONG 0xDEADBEEFu

/* MAPI's SizedSPropTagArray: a tag array with room for _ctag tags, on the stack. */
#define SizedSPropTagArray(_ctag, _name) \
  struct {                               \
    ULONG cValues;                       \
    ULONG aulPropTag[_ctag];             \
  } _name

/* An HRESULT's symbolic name, from the library's own table (MsgStoreErrorName). */
static inline const char *hr_name(HRESULT hr) {
  const char *name = "(unknown HRESULT)";
  MsgStoreErrorName(hr, &name);
  return name;
}

static inline void test_fail_(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
  fflush(stderr);
  exit(1);
}

static inline void test_check_hr_(HRESULT got, HRESULT want, const char *expr, const char *file,
                                  int line) {
  if (got != want) {
    fprintf(stderr, "%s:%d: CHECK_HR failed: %s\n  expected %s (0x%08lX)\n  actual   %s (0x%08lX)\n",
            file, line, expr, hr_name(want), (unsigned long)(uint32_t)want, hr_name(got),
            (unsigned long)(uint32_t)got);
    fflush(stderr);
    exit(1);
  }
}

static inline void test_check_eq_(long long a, long long b, const char *ea, const char *eb,
                                  const char *file, int line) {
  if (a != b) {
    fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s\n  left  %lld (0x%llX)\n  right %lld (0x%llX)\n",
            file, line, ea, eb, a, (unsigned long long)a, b, (unsigned long long)b);
    fflush(stderr);
    exit(1);
  }
}

static inline size_t wstr_len(const WCHAR *s) {
  size_t n = 0;
  while (s[n] != 0) n++;
  return n;
}

static inline int wstr_eq(const WCHAR *a, const WCHAR *b) {
  size_t i = 0;
  if (a == NULL || b == NULL) return a == b;
  for (;; i++) {
    if (a[i] != b[i]) return 0;
    if (a[i] == 0) return 1;
  }
}

static inline void test_check_str_(const char *a, const char *b, const char *ea, const char *eb,
                                   const char *file, int line) {
  if (a == NULL || b == NULL || strcmp(a, b) != 0) {
    fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s\n  left  \"%s\"\n  right \"%s\"\n", file,
            line, ea, eb, a ? a : "(null)", b ? b : "(null)");
    fflush(stderr);
    exit(1);
  }
}

static inline void test_print_wstr_(const WCHAR *s) {
  size_t i;
  if (s == NULL) {
    fprintf(stderr, "(null)");
    return;
  }
  for (i = 0; s[i] != 0; i++) fprintf(stderr, "%s%04X", i ? " " : "", (unsigned)s[i]);
}

static inline void test_check_wstr_(const WCHAR *a, const WCHAR *b, const char *ea, const char *eb,
                                    const char *file, int line) {
  if (!wstr_eq(a, b) || a == NULL) {
    fprintf(stderr, "%s:%d: CHECK_WSTR failed: %s == %s\n  left  ", file, line, ea, eb);
    test_print_wstr_(a);
    fprintf(stderr, "\n  right ");
    test_print_wstr_(b);
    fprintf(stderr, "\n");
    fflush(stderr);
    exit(1);
  }
}

#define CHECK(cond)                                        \
  do {                                                     \
    if (!(cond)) test_fail_(__FILE__, __LINE__, #cond);    \
  } while (0)

#define CHECK_HR(expr, expected) \
  test_check_hr_((HRESULT)(expr), (HRESULT)(expected), #expr, __FILE__, __LINE__)

#define CHECK_OK(expr) CHECK_HR(expr, S_OK)

#define CHECK_EQ(a, b) \
  test_check_eq_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)

#define CHECK_STR(a, b) test_check_str_((a), (b), #a, #b, __FILE__, __LINE__)

#define CHECK_WSTR(a, b) test_check_wstr_((a), (b), #a, #b, __FILE__, __LINE__)

/* "$MSGSTORE_TEST_DIR/name" into buf (the runner gives every run a fresh directory). */
static inline const char *test_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("MSGSTORE_TEST_DIR");
  int n = snprintf(buf, size, "%s/%s", (dir && *dir) ? dir : ".", name);
  if (n < 0 || (size_t)n >= size) test_fail_(__FILE__, __LINE__, "test_path: buffer too small");
  return buf;
}

/* Non-zero when running under valgrind (set by tests/c_tests.rs): scale long loops down. */
static inline int test_under_valgrind(void) {
  const char *v = getenv("MSGSTORE_UNDER_VALGRIND");
  return v != NULL && *v != 0 && strcmp(v, "0") != 0;
}

/* A tag array of n ULONG tags allocated with MAPIAllocateBuffer (free with MAPIFreeBuffer). */
static inline LPSPropTagArray tag_array(ULONG n, ...) {
  void *p = NULL;
  LPSPropTagArray a;
  va_list ap;
  ULONG i;
  if (MAPIAllocateBuffer((ULONG)CbNewSPropTagArray(n ? n : 1), &p) != S_OK || p == NULL)
    test_fail_(__FILE__, __LINE__, "tag_array: MAPIAllocateBuffer failed");
  a = (LPSPropTagArray)p;
  a->cValues = n;
  va_start(ap, n);
  for (i = 0; i < n; i++) a->aulPropTag[i] = va_arg(ap, ULONG);
  va_end(ap);
  return a;
}

#endif /* MSGSTORE_TEST_UTIL_H */
