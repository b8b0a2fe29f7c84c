/* Store helpers shared by the C tests of the store (each one a plain vtable call sequence).
 *
 *   store_open(path, flags)            MsgStoreOpen, checked
 *   store_root(mdb)                    the root folder, read-write
 *   store_fresh(name)                  a new, empty store at this run's location for name
 *   msg_fixture_setup(f, name)         a fresh store, its root and one saved message "base"
 *                                      (msg_fixture_teardown releases them)
 *   msg_create(folder, subject)        CreateMessage + PR_SUBJECT_A + SaveChanges; returns the
 *                                      entry ID (free with MAPIFreeBuffer)
 *   entry_open(mdb, eid, flags, type)  OpenEntry of an object of that type, checked
 *   msg_open(mdb, eid, flags)          OpenEntry of a message: a new client
 *   msg_set_str / msg_set_long         SetProps of one value, checked
 *   msg_get_str(msg, tag, buf, size)   PT_STRING8 value into buf ("" if missing); returns hr
 *   msg_get_long(msg, tag, &out)       returns the GetProps hr for one PT_LONG
 *   msg_get_bin(msg, tag)              one binary value as a MAPIAllocateBuffer'd SPropValue
 *   attach_add(msg, data)              CreateAttach + PR_ATTACH_DATA_BIN + SaveChanges into msg;
 *                                      returns its PR_ATTACH_NUM
 *   props_equal(a, b)                  every property of two objects equal (GetProps NULL list)
 *   check_open_refused(path, flags, hr, text)  MsgStoreOpen fails with hr, NULL out, text in
 *                                      its GetLastError
 */
#ifndef MSGSTORE_STORE_UTIL_H
#define MSGSTORE_STORE_UTIL_H

#include <unistd.h>

#include "test_util.h"

static inline LPMDB store_open(const char *path, ULONG flags) {
  LPMDB mdb = NULL;
  CHECK_OK(MsgStoreOpen(path, flags, &mdb));
  CHECK(mdb != NULL);
  return mdb;
}

/* MsgStoreOpen must refuse `path` with `want`, leave *lppMDB NULL and explain itself. */
static inline void check_open_refused(const char *path, ULONG flags, HRESULT want, const char *text) {
  LPMDB mdb = (LPMDB)GARBAGE_PTR;
  LPMAPIERROR err = NULL;
  CHECK_HR(MsgStoreOpen(path, flags, &mdb), want);
  CHECK(mdb == NULL);
  CHECK_OK(MsgStoreGetLastError(want, 0, &err));
  CHECK(err != NULL);
  if (text != NULL && strstr(err->lpszError, text) == NULL) {
    fprintf(stderr, "MsgStoreOpen(%s): \"%s\" does not mention \"%s\"\n", path, err->lpszError,
            text);
    CHECK(!"MsgStoreOpen explains the refusal");
  }
  MAPIFreeBuffer(err);
}

static inline LPMAPIFOLDER store_root(LPMDB mdb) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, 0, NULL, NULL, MAPI_BEST_ACCESS, &type, &unk));
  CHECK_EQ(type, MAPI_FOLDER);
  return (LPMAPIFOLDER)unk;
}

/* Removes the store file at `path` with the files SQLite and the writers' queue keep beside it
 * (a -wal left behind would be replayed into a new store of the same name). */
static inline void store_remove_files(const char *path) {
  static const char *const sides[] = {"", "-wal", "-shm", "-writers"};
  char p[4200];
  size_t i;
  for (i = 0; i < sizeof sides / sizeof sides[0]; i++) {
    snprintf(p, sizeof p, "%s%s", path, sides[i]);
    unlink(p);
  }
}

/* A new, empty store at this run's location for `name` (a file an earlier run left is removed
 * first; a PostgreSQL location names a store of this run's own database). */
static inline LPMDB store_fresh(const char *name) {
  char p[4096];
  store_location(p, sizeof p, name);
  if (!on_postgres()) store_remove_files(p);
  return store_open(p, MAPI_CREATE | MDB_WRITE);
}

static inline void msg_set_str(LPMESSAGE msg, ULONG tag, const char *s) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.lpszA = (char *)s;
  CHECK_OK(msg->lpVtbl->SetProps(msg, 1, &v, NULL));
}

static inline void msg_set_long(LPMESSAGE msg, ULONG tag, LONG l) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.l = l;
  CHECK_OK(msg->lpVtbl->SetProps(msg, 1, &v, NULL));
}

static inline HRESULT msg_get_str(LPMESSAGE msg, ULONG tag, char *buf, size_t size) {
  SizedSPropTagArray(1, tags) = {1, {tag}};
  ULONG n = 0;
  LPSPropValue v = NULL;
  HRESULT hr = msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&tags, 0, &n, &v);
  buf[0] = 0;
  if (hr == S_OK) snprintf(buf, size, "%s", v[0].Value.lpszA);
  MAPIFreeBuffer(v);
  return hr;
}

static inline HRESULT msg_get_long(LPMESSAGE msg, ULONG tag, LONG *out) {
  SizedSPropTagArray(1, tags) = {1, {tag}};
  ULONG n = 0;
  LPSPropValue v = NULL;
  HRESULT hr = msg->lpVtbl->GetProps(msg, (LPSPropTagArray)&tags, 0, &n, &v);
  *out = hr == S_OK ? v[0].Value.l : 0;
  MAPIFreeBuffer(v);
  return hr;
}

/* One property as a MAPIAllocateBuffer'd SPropValue (PT_ERROR entry if missing). */
static inline LPSPropValue msg_get_one(LPMAPIPROP obj, ULONG tag) {
  SizedSPropTagArray(1, tags) = {1, {tag}};
  ULONG n = 0;
  LPSPropValue v = NULL;
  HRESULT hr = obj->lpVtbl->GetProps(obj, (LPSPropTagArray)&tags, 0, &n, &v);
  CHECK(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED);
  CHECK_EQ(n, 1);
  return v;
}

/* OpenEntry of the object `eid` (a PR_ENTRYID value), checked to be of type `want`. */
static inline LPUNKNOWN entry_open(LPMDB mdb, LPSPropValue eid, ULONG flags, ULONG want) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  CHECK_OK(mdb->lpVtbl->OpenEntry(mdb, eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, NULL,
                                  flags, &type, &unk));
  CHECK_EQ(type, want);
  return unk;
}

static inline LPMESSAGE msg_open(LPMDB mdb, LPSPropValue eid, ULONG flags) {
  return (LPMESSAGE)entry_open(mdb, eid, flags, MAPI_MESSAGE);
}

/* Creates and saves a message; returns its PR_ENTRYID as an SPropValue (MAPIFreeBuffer it). */
static inline LPSPropValue msg_create(LPMAPIFOLDER folder, const char *subject) {
  LPMESSAGE msg = NULL;
  LPSPropValue eid;
  CHECK_OK(folder->lpVtbl->CreateMessage(folder, NULL, 0, &msg));
  msg_set_str(msg, PR_SUBJECT_A, subject);
  CHECK_OK(msg->lpVtbl->SaveChanges(msg, KEEP_OPEN_READONLY));
  eid = msg_get_one((LPMAPIPROP)msg, PR_ENTRYID);
  CHECK_EQ(PROP_TYPE(eid->ulPropTag), PT_BINARY);
  msg->lpVtbl->Release(msg);
  return eid;
}

/* What most sections start from: a fresh store, its root folder and one saved message. */
struct msg_fixture {
  LPMDB mdb;
  LPMAPIFOLDER root;
  LPSPropValue eid; /* the message "base" */
};

static inline void msg_fixture_setup(struct msg_fixture *f, const char *name) {
  f->mdb = store_fresh(name);
  f->root = store_root(f->mdb);
  f->eid = msg_create(f->root, "base");
}

static inline void msg_fixture_teardown(struct msg_fixture *f) {
  MAPIFreeBuffer(f->eid);
  f->root->lpVtbl->Release(f->root);
  f->mdb->lpVtbl->Release(f->mdb);
}

/* Bytes of one element of a fixed-size multi-valued type; 0 for the others. */
static inline size_t mv_elem_size(ULONG type) {
  switch (type) {
    case PT_MV_I2: return 2;
    case PT_MV_LONG: case PT_MV_R4: return 4;
    case PT_MV_DOUBLE: case PT_MV_APPTIME: case PT_MV_CURRENCY: case PT_MV_I8: case PT_MV_SYSTIME:
      return 8;
    case PT_MV_CLSID: return 16;
    default: return 0;
  }
}

static inline int spv_equal(const SPropValue *a, const SPropValue *b) {
  ULONG i, type = PROP_TYPE(a->ulPropTag);
  if (a->ulPropTag != b->ulPropTag) return 0;
  if (type & MV_FLAG) {
    /* Every MV member starts with cValues and a pointer, at the same offsets. */
    if (a->Value.MVl.cValues != b->Value.MVl.cValues) return 0;
    for (i = 0; i < a->Value.MVl.cValues; i++) {
      switch (type) {
        case PT_MV_BINARY:
          if (a->Value.MVbin.lpbin[i].cb != b->Value.MVbin.lpbin[i].cb ||
              memcmp(a->Value.MVbin.lpbin[i].lpb, b->Value.MVbin.lpbin[i].lpb,
                     a->Value.MVbin.lpbin[i].cb) != 0)
            return 0;
          break;
        case PT_MV_STRING8:
          if (strcmp(a->Value.MVszA.lppszA[i], b->Value.MVszA.lppszA[i]) != 0) return 0;
          break;
        case PT_MV_UNICODE:
          if (!wstr_eq(a->Value.MVszW.lppszW[i], b->Value.MVszW.lppszW[i])) return 0;
          break;
        default: {
          size_t n = mv_elem_size(type);
          if (n == 0 || memcmp((const char *)a->Value.MVl.lpl + i * n,
                               (const char *)b->Value.MVl.lpl + i * n, n) != 0)
            return 0;
        }
      }
    }
    return 1;
  }
  switch (type) {
    case PT_STRING8: return strcmp(a->Value.lpszA, b->Value.lpszA) == 0;
    case PT_UNICODE: return wstr_eq(a->Value.lpszW, b->Value.lpszW);
    case PT_BINARY:
      return a->Value.bin.cb == b->Value.bin.cb &&
             (a->Value.bin.cb == 0 || memcmp(a->Value.bin.lpb, b->Value.bin.lpb, a->Value.bin.cb) == 0);
    case PT_LONG: case PT_ERROR: return a->Value.l == b->Value.l;
    case PT_I2: return a->Value.i == b->Value.i;
    case PT_BOOLEAN: return a->Value.b == b->Value.b;
    case PT_SYSTIME:
      return a->Value.ft.dwLowDateTime == b->Value.ft.dwLowDateTime &&
             a->Value.ft.dwHighDateTime == b->Value.ft.dwHighDateTime;
    case PT_I8: case PT_CURRENCY: return a->Value.li.QuadPart == b->Value.li.QuadPart;
    case PT_DOUBLE: case PT_APPTIME: return memcmp(&a->Value.dbl, &b->Value.dbl, 8) == 0;
    default: return memcmp(&a->Value, &b->Value, sizeof a->Value) == 0;
  }
}

/* Every property of the two objects, compared value by value (entry IDs included). */
static inline int props_equal(LPMAPIPROP a, LPMAPIPROP b) {
  ULONG na = 0, nb = 0, i;
  LPSPropValue va = NULL, vb = NULL;
  int same;
  CHECK_OK(a->lpVtbl->GetProps(a, NULL, 0, &na, &va));
  CHECK_OK(b->lpVtbl->GetProps(b, NULL, 0, &nb, &vb));
  same = na == nb;
  for (i = 0; same && i < na; i++) {
    /* PR_ACCESS / PR_ACCESS_LEVEL describe the handle, not the message. */
    if (PROP_ID(va[i].ulPropTag) == PROP_ID(PR_ACCESS) ||
        PROP_ID(va[i].ulPropTag) == PROP_ID(PR_ACCESS_LEVEL))
      continue;
    same = spv_equal(&va[i], &vb[i]);
    if (!same) fprintf(stderr, "props_equal: property 0x%08X differs\n", (unsigned)va[i].ulPropTag);
  }
  MAPIFreeBuffer(va);
  MAPIFreeBuffer(vb);
  return same;
}

/* Adds an attachment holding `data` (ATTACH_BY_VALUE) and saves it into `msg`. */
static inline ULONG attach_add(LPMESSAGE msg, const char *data) {
  ULONG num = GARBAGE_ULONG;
  LPATTACH att = (LPATTACH)GARBAGE_PTR;
  SPropValue v[2];
  CHECK_OK(msg->lpVtbl->CreateAttach(msg, NULL, 0, &num, &att));
  CHECK(att != NULL && num != GARBAGE_ULONG);
  memset(v, 0, sizeof v);
  v[0].ulPropTag = PR_ATTACH_METHOD;
  v[0].Value.l = ATTACH_BY_VALUE;
  v[1].ulPropTag = PR_ATTACH_DATA_BIN;
  v[1].Value.bin.cb = (ULONG)strlen(data);
  v[1].Value.bin.lpb = (LPBYTE)data;
  CHECK_OK(att->lpVtbl->SetProps(att, 2, v, NULL));
  CHECK_OK(att->lpVtbl->SaveChanges(att, 0));
  att->lpVtbl->Release(att);
  return num;
}

#endif /* MSGSTORE_STORE_UTIL_H */
