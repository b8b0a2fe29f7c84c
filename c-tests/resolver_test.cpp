// A C++17 client of the conflict resolver: the resolver is a C++ object laid out as COM wants
// (vtable pointer first, filled from a static table; no C++ virtuals), and RAII wrappers Release
// and MAPIFreeBuffer what the client owns.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

template <typename T>
struct Com {  // one owned reference
  T *p = nullptr;
  Com() = default;
  explicit Com(T *q) : p(q) {}
  Com(const Com &) = delete;
  Com &operator=(const Com &) = delete;
  ~Com() {
    if (p) p->lpVtbl->Release(p);
  }
  T *operator->() const { return p; }
};

struct Buffer {  // one MAPIFreeBuffer
  void *p = nullptr;
  ~Buffer() { MAPIFreeBuffer(p); }
};

std::string get_subject(IMessage *m) {
  SizedSPropTagArray(1, tags) = {1, {PR_SUBJECT_A}};
  ULONG n = 0;
  Buffer b;
  LPSPropValue v = nullptr;
  HRESULT hr = m->lpVtbl->GetProps(m, reinterpret_cast<LPSPropTagArray>(&tags), 0, &n, &v);
  b.p = v;
  return hr == S_OK ? std::string(v[0].Value.lpszA) : std::string("(none)");
}

void set_subject(IMessage *m, const char *s) {
  SPropValue v;
  std::memset(&v, 0, sizeof v);
  v.ulPropTag = PR_SUBJECT_A;
  v.Value.lpszA = const_cast<char *>(s);
  CHECK_OK(m->lpVtbl->SetProps(m, 1, &v, nullptr));
}

struct MergeResolver {
  const IMsgStoreConflictResolverVtbl *lpVtbl;
  ULONG refs = 1;
  int calls = 0;
  std::vector<ULONG> theirs, mine;
  std::string stored_subject;

  static MergeResolver *self(IMsgStoreConflictResolver *This) {
    return reinterpret_cast<MergeResolver *>(This);
  }
  static HRESULT QueryInterface(IMsgStoreConflictResolver *, const IID *, void **ppv) {
    *ppv = nullptr;
    return MAPI_E_INTERFACE_NOT_SUPPORTED;
  }
  static ULONG AddRef(IMsgStoreConflictResolver *This) { return ++self(This)->refs; }
  static ULONG Release(IMsgStoreConflictResolver *This) { return --self(This)->refs; }
  static HRESULT Resolve(IMsgStoreConflictResolver *This, LPMESSAGE, const MSGCONFLICT *c,
                         ULONG *action, LPMAPIFOLDER *) {
    MergeResolver *r = self(This);
    r->calls++;
    r->theirs.assign(c->lpTheirChanges->aulPropTag,
                     c->lpTheirChanges->aulPropTag + c->lpTheirChanges->cValues);
    r->mine.assign(c->lpMyChanges->aulPropTag, c->lpMyChanges->aulPropTag + c->lpMyChanges->cValues);
    r->stored_subject = get_subject(c->lpStored);
    *action = MSGSTORE_RESOLVE_MERGE;
    return S_OK;
  }
};

const IMsgStoreConflictResolverVtbl kMergeVtbl = {MergeResolver::QueryInterface, MergeResolver::AddRef,
                                                  MergeResolver::Release, MergeResolver::Resolve};

}  // namespace

// One client, two clients of a message, a merging resolver: the whole story is one section.
static void test_merge() {
  char path[4096];
  store_location(path, sizeof path, "resolver-cpp.db");
  unlink(path);
  MergeResolver resolver;
  resolver.lpVtbl = &kMergeVtbl;
  {
    LPMDB raw = nullptr;
    CHECK_OK(MsgStoreOpen(path, MAPI_CREATE | MDB_WRITE, &raw));
    Com<IMsgStore> store(raw);
    CHECK_OK(MsgStoreSetConflictResolver(store.p, reinterpret_cast<LPMSGSTORECONFLICTRESOLVER>(&resolver)));
    CHECK_EQ(resolver.refs, 2);

    ULONG type = 0;
    LPUNKNOWN unk = nullptr;
    CHECK_OK(store->lpVtbl->OpenEntry(store.p, 0, nullptr, nullptr, MAPI_MODIFY, &type, &unk));
    Com<IMAPIFolder> root(reinterpret_cast<IMAPIFolder *>(unk));
    LPMESSAGE created = nullptr;
    CHECK_OK(root->lpVtbl->CreateMessage(root.p, nullptr, 0, &created));
    Com<IMessage> msg(created);
    set_subject(msg.p, "v1");
    CHECK_OK(msg->lpVtbl->SaveChanges(msg.p, KEEP_OPEN_READWRITE));
    SizedSPropTagArray(1, eid_tag) = {1, {PR_ENTRYID}};
    ULONG n = 0;
    LPSPropValue eid_raw = nullptr;
    CHECK_OK(msg->lpVtbl->GetProps(msg.p, reinterpret_cast<LPSPropTagArray>(&eid_tag), 0, &n, &eid_raw));
    Buffer eid;
    eid.p = eid_raw;

    auto open = [&](ULONG flags) {
      ULONG t = 0;
      LPUNKNOWN u = nullptr;
      CHECK_OK(store->lpVtbl->OpenEntry(store.p, eid_raw->Value.bin.cb,
                                        reinterpret_cast<LPENTRYID>(eid_raw->Value.bin.lpb), nullptr,
                                        flags, &t, &u));
      return reinterpret_cast<IMessage *>(u);
    };
    Com<IMessage> a(open(MAPI_MODIFY)), b(open(MAPI_MODIFY));
    SPropValue body;
    std::memset(&body, 0, sizeof body);
    body.ulPropTag = PR_BODY_A;
    body.Value.lpszA = const_cast<char *>("a's body");
    CHECK_OK(a->lpVtbl->SetProps(a.p, 1, &body, nullptr));
    CHECK_OK(a->lpVtbl->SaveChanges(a.p, 0));
    set_subject(b.p, "b's subject");
    CHECK_OK(b->lpVtbl->SaveChanges(b.p, KEEP_OPEN_READWRITE));  // merged
    CHECK_EQ(resolver.calls, 1);
    CHECK_EQ(resolver.theirs.size(), 1);
    CHECK_EQ(PROP_ID(resolver.theirs[0]), PROP_ID(PR_BODY_A));
    CHECK_EQ(resolver.mine.size(), 1);
    CHECK_EQ(PROP_ID(resolver.mine[0]), PROP_ID(PR_SUBJECT_A));
    CHECK(resolver.stored_subject == "v1");
    Com<IMessage> check(open(0));
    CHECK(get_subject(check.p) == "b's subject");
    SizedSPropTagArray(1, body_tag) = {1, {PR_BODY_A}};
    LPSPropValue v = nullptr;
    CHECK_OK(check->lpVtbl->GetProps(check.p, reinterpret_cast<LPSPropTagArray>(&body_tag), 0, &n, &v));
    Buffer vb;
    vb.p = v;
    CHECK_STR(v[0].Value.lpszA, "a's body");
  }
  CHECK_EQ(resolver.refs, 1);  // the store released it
  CHECK_EQ(MsgStoreLiveObjects(), 0);  // every object made was released
}

// Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same).
static const struct test_section SECTIONS[] = {
    {"merge", test_merge},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
