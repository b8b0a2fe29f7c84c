/* A conflict resolver written in C, as a client would write one: a struct whose first member is
 * the vtable pointer, with a reference count, a scripted answer, and a record of every call. */
#ifndef MSGSTORE_RESOLVER_UTIL_H
#define MSGSTORE_RESOLVER_UTIL_H

#include "store_util.h"

typedef struct TestResolver TestResolver;
/* Called inside ResolveConflict before answering (e.g. to let a third client save). */
typedef void (*ResolverHook)(TestResolver *self, int call);

struct TestResolver {
  const IMsgStoreConflictResolverVtbl *lpVtbl;
  LONG refs;
  /* The scripted answer, per call (the last entry repeats). */
  ULONG actions[4];
  int n_actions;
  HRESULT result;             /* what ResolveConflict returns */
  LPMAPIFOLDER dest;          /* handed back (AddRef'd) for SAVE_ELSEWHERE; NULL: Conflicts */
  ResolverHook hook;
  void *hook_data;
  /* What it saw. */
  int calls;
  ULONG last_flags;
  ULONG their[16], n_their;
  ULONG mine[16], n_mine;
  char stored_subject[128];   /* PR_SUBJECT_A of lpStored, "" when none */
  LPMESSAGE last_message;     /* lpMessage of the last call (not AddRef'd: compared only) */
  ULONG cb_entry;
  LPMESSAGE kept_stored;      /* lpStored AddRef'd and kept when keep_stored is set */
  int keep_stored;
};

static HRESULT tr_query_interface(IMsgStoreConflictResolver *This, const IID *riid, void **ppv) {
  (void)riid;
  (void)This;
  *ppv = NULL;
  return MAPI_E_INTERFACE_NOT_SUPPORTED; /* the store never calls it (DESIGN.md §5) */
}
static ULONG tr_add_ref(IMsgStoreConflictResolver *This) {
  return (ULONG)++((TestResolver *)This)->refs;
}
static ULONG tr_release(IMsgStoreConflictResolver *This) {
  return (ULONG)--((TestResolver *)This)->refs;
}

static void tr_copy_tags(LPSPropTagArray a, ULONG *out, ULONG *n) {
  ULONG i;
  *n = 0;
  if (a == NULL) return;
  for (i = 0; i < a->cValues && i < 16; i++) out[i] = a->aulPropTag[i];
  *n = a->cValues;
}

static HRESULT tr_resolve(IMsgStoreConflictResolver *This, LPMESSAGE lpMessage,
                          const MSGCONFLICT *lpConflict, ULONG *lpulAction,
                          LPMAPIFOLDER *lppDestFolder) {
  TestResolver *self = (TestResolver *)This;
  int call = self->calls++;
  CHECK(*lpulAction == 0);       /* the store presets the out-parameters */
  CHECK(*lppDestFolder == NULL);
  self->last_message = lpMessage;
  self->last_flags = lpConflict->ulFlags;
  self->cb_entry = lpConflict->cbEntryID;
  tr_copy_tags(lpConflict->lpTheirChanges, self->their, &self->n_their);
  tr_copy_tags(lpConflict->lpMyChanges, self->mine, &self->n_mine);
  self->stored_subject[0] = 0;
  if (lpConflict->lpStored) {
    HRESULT hr = msg_get_str(lpConflict->lpStored, PR_SUBJECT_A, self->stored_subject,
                             sizeof self->stored_subject);
    CHECK(hr == S_OK || hr == MAPI_W_ERRORS_RETURNED);
    if (self->keep_stored) {
      lpConflict->lpStored->lpVtbl->AddRef(lpConflict->lpStored);
      if (self->kept_stored) self->kept_stored->lpVtbl->Release(self->kept_stored);
      self->kept_stored = lpConflict->lpStored;
    }
  }
  if (self->hook) self->hook(self, call);
  *lpulAction = self->actions[call < self->n_actions ? call : self->n_actions - 1];
  if (self->dest) {
    self->dest->lpVtbl->AddRef(self->dest);
    *lppDestFolder = self->dest;
  }
  return self->result;
}

static const IMsgStoreConflictResolverVtbl tr_vtbl = {tr_query_interface, tr_add_ref, tr_release,
                                                      tr_resolve};

static void resolver_init(TestResolver *r, ULONG action) {
  memset(r, 0, sizeof *r);
  r->lpVtbl = &tr_vtbl;
  r->refs = 1;
  r->actions[0] = action;
  r->n_actions = 1;
  r->result = S_OK;
}

static int tags_have(const ULONG *tags, ULONG n, ULONG tag) {
  ULONG i;
  for (i = 0; i < n; i++)
    if (PROP_ID(tags[i]) == PROP_ID(tag)) return 1;
  return 0;
}

#endif /* MSGSTORE_RESOLVER_UTIL_H */
