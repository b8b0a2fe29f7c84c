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
 *   pv_long(tag, l), pv_str8(id, s)  an SPropValue of PT_LONG / PT_STRING8 (strings borrowed)
 *
 * Sections. A test program is a list of independent sections, each a void function that sets up
 * what it needs (its own store files) and releases every object it made:
 *
 *   static const struct test_section SECTIONS[] = {{"open_errors", test_open_errors}, ...};
 *   int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
 *
 *   prog                 runs every section, in order
 *   prog --list          prints the section names, one per line
 *   prog NAME...         runs just those sections, in the order given
 *
 * An unknown name (or option) runs nothing and exits 2. After each section,
 * MsgStoreLiveObjects() must be 0 (every object the section made was released). tests/c_tests.rs
 * runs each section as a test of its own (one process per section), and checks that its table of
 * sections and --list agree. Programs that run copies of themselves (fork + exec) handle their
 * child command lines before calling run_sections.
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

/* Where a test store named `name` lives: a file "$MSGSTORE_TEST_DIR/name", or, when the runner
 * sets MSGSTORE_TEST_PG (a postgresql:// URI of a test database), a store in that database named
 * after this run's directory and `name` (fresh for every run, as the directory is). Tests that
 * are about store files use test_path() instead. */
static inline const char *store_location(char *buf, size_t size, const char *name);

/* "$MSGSTORE_TEST_DIR/name" into buf (the runner gives every run a fresh directory). */
static inline const char *test_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("MSGSTORE_TEST_DIR");
  int n = snprintf(buf, size, "%s/%s", (dir && *dir) ? dir : ".", name);
  if (n < 0 || (size_t)n >= size) test_fail_(__FILE__, __LINE__, "test_path: buffer too small");
  return buf;
}

/* Whether this run's stores are in PostgreSQL (see store_location). */
static inline int on_postgres(void) {
  const char *pg = getenv("MSGSTORE_TEST_PG");
  return pg != NULL && *pg != '\0';
}

static inline const char *store_location(char *buf, size_t size, const char *name) {
  const char *pg = getenv("MSGSTORE_TEST_PG");
  const char *dir = getenv("MSGSTORE_TEST_DIR");
  const char *run;
  int n;
  if (!pg || !*pg) return test_path(buf, size, name);
  run = (dir && *dir) ? strrchr(dir, '/') : NULL;
  run = run ? run + 1 : (dir && *dir) ? dir : "run";
  n = snprintf(buf, size, "%s%sstore=%s-%s", pg, strchr(pg, '?') ? "&" : "?", run, name);
  if (n < 0 || (size_t)n >= size) test_fail_(__FILE__, __LINE__, "store_location: buffer too small");
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

/* A PT_LONG value with tag `tag`. */
static inline SPropValue pv_long(ULONG tag, LONG l) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.l = l;
  return v;
}

/* A PT_STRING8 value of property `id` (the string is borrowed). */
static inline SPropValue pv_str8(ULONG id, const char *s) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = PROP_TAG(PT_STRING8, id);
  v.Value.lpszA = (LPSTR)s;
  return v;
}

/* One section of a test program (see the top of this file). */
struct test_section {
  const char *name;
  void (*run)(void);
};

static inline int run_sections(int argc, char **argv, const struct test_section *sections,
                               size_t n) {
  const char *prog = (argc > 0 && argv[0] != NULL) ? argv[0] : "test";
  const char *slash = strrchr(prog, '/');
  size_t i;
  int a;
  if (slash != NULL) prog = slash + 1;
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (i = 0; i < n; i++) printf("%s\n", sections[i].name);
    return 0;
  }
  /* Every name first: a typo runs nothing. */
  for (a = 1; a < argc; a++) {
    for (i = 0; i < n && strcmp(sections[i].name, argv[a]) != 0; i++) {
    }
    if (i == n) {
      if (argv[a][0] == '-')
        fprintf(stderr, "%s: unknown option \"%s\" (usage: %s [--list | SECTION...])\n", prog,
                argv[a], prog);
      else
        fprintf(stderr, "%s: no section named \"%s\" (--list lists them)\n", prog, argv[a]);
      return 2;
    }
  }
  for (a = 1; a < argc || (argc <= 1 && a == 1); a++) {
    size_t first = 0, last = n; /* no argument: every section */
    if (argc > 1) {
      for (first = 0; strcmp(sections[first].name, argv[a]) != 0; first++) {
      }
      last = first + 1;
    }
    for (i = first; i < last; i++) {
      ULONG live;
      printf("%s: section %s\n", prog, sections[i].name);
      fflush(stdout);
      sections[i].run();
      live = MsgStoreLiveObjects();
      if (live != 0) {
        fprintf(stderr, "%s: section %s left %lu objects unreleased (MsgStoreLiveObjects)\n", prog,
                sections[i].name, (unsigned long)live);
        fflush(stderr);
        exit(1);
      }
    }
  }
  printf("%s: all checks passed\n", prog);
  return 0;
}

#define RUN_SECTIONS(argc, argv, sections) \
  run_sections((argc), (argv), (sections), sizeof(sections) / sizeof((sections)[0]))

#endif /* MSGSTORE_TEST_UTIL_H */
