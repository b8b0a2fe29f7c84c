// A C++17 client of the C ABI: RAII for MAPIFreeBuffer'd results and for COM references, a round
// trip of several property types, QueryInterface identity, and CopyTo onto a destination object
// written in C++ as a plain struct with a vtable pointer (the COM layout; no C++ virtual
// functions). Compiled with -std=c++17 -Wall -Wextra -Werror -pedantic.
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "msgstore.h"
#include "test_util.h"

namespace {

// Owns one MAPIAllocateBuffer block (with its MAPIAllocateMore chain): one MAPIFreeBuffer on
// destruction or reset.
template <typename T>
class MapiBuffer {
 public:
  MapiBuffer() = default;
  MapiBuffer(const MapiBuffer &) = delete;
  MapiBuffer &operator=(const MapiBuffer &) = delete;
  MapiBuffer(MapiBuffer &&other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  ~MapiBuffer() { reset(); }

  void reset() {
    if (p_ != nullptr) CHECK_EQ(MAPIFreeBuffer(p_), 0);
    p_ = nullptr;
  }
  // For out-parameters: frees what was held, then lends the slot.
  T **out() {
    reset();
    return &p_;
  }
  T *get() const { return p_; }
  T *operator->() const { return p_; }
  T &operator[](size_t i) const { return p_[i]; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T *p_ = nullptr;
};

// Owns one COM reference; Release on destruction.
template <typename I>
class ComRef {
 public:
  ComRef() = default;
  explicit ComRef(I *p) : p_(p) {}
  ComRef(const ComRef &) = delete;
  ComRef &operator=(const ComRef &) = delete;
  ComRef(ComRef &&other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  ~ComRef() { reset(); }

  void reset() {
    if (p_ != nullptr) p_->lpVtbl->Release(p_);
    p_ = nullptr;
  }
  I **out() {
    reset();
    return &p_;
  }
  I *get() const { return p_; }
  I *operator->() const { return p_; }

 private:
  I *p_ = nullptr;
};

const WCHAR *W(const char16_t *s) { return reinterpret_cast<const WCHAR *>(s); }

std::u16string wide(const WCHAR *s) {
  std::u16string out;
  for (; *s != 0; ++s) out.push_back(static_cast<char16_t>(*s));
  return out;
}

ULONG tag(ULONG type, ULONG n) { return PROP_TAG(type, 0x6700u + n); }

ComRef<IPropData> new_prop() {
  ComRef<IPropData> p;
  CHECK_OK(CreateIProp(&IID_IMAPIPropData, MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer,
                       nullptr, p.out()));
  CHECK(p.get() != nullptr);
  return p;
}

// ---- A destination object written in C++: a struct whose first member is the interface ------

struct StoredValue {
  ULONG tag = 0;
  LONG l = 0;
  double dbl = 0;
  std::string narrow;
  std::u16string wide_text;
  std::vector<BYTE> bytes;
};

struct CppPropImpl {
  ULONG refs = 1;
  int setprops_calls = 0;
  ULONG refuse_tag = 0;  // SetProps answers MAPI_E_NO_ACCESS for this tag
  std::map<ULONG, StoredValue> values;  // by property ID
};

struct CppProp {
  IMAPIProp iface;  // first: an IMAPIProp* is a CppProp*
  CppPropImpl *impl;
};
static_assert(std::is_standard_layout<CppProp>::value, "the interface pointer is the object");
static_assert(offsetof(CppProp, iface) == 0, "the interface comes first");

CppPropImpl &impl_of(IMAPIProp *This) { return *reinterpret_cast<CppProp *>(This)->impl; }

HRESULT cpp_SetProps(IMAPIProp *This, ULONG count, LPSPropValue vals,
                     LPSPropProblemArray *problems) {
  CppPropImpl &impl = impl_of(This);
  impl.setprops_calls++;
  if (problems != nullptr) *problems = nullptr;
  if (count == 0 || vals == nullptr) return MAPI_E_INVALID_PARAMETER;
  std::vector<ULONG> refused;
  for (ULONG i = 0; i < count; ++i) {
    const SPropValue &v = vals[i];
    if (v.ulPropTag == impl.refuse_tag) {
      refused.push_back(i);
      continue;
    }
    StoredValue s;
    s.tag = v.ulPropTag;
    switch (PROP_TYPE(v.ulPropTag)) {
      case PT_LONG: s.l = v.Value.l; break;
      case PT_DOUBLE: s.dbl = v.Value.dbl; break;
      case PT_STRING8: s.narrow = v.Value.lpszA; break;
      case PT_UNICODE: s.wide_text = wide(v.Value.lpszW); break;
      case PT_BINARY: s.bytes.assign(v.Value.bin.lpb, v.Value.bin.lpb + v.Value.bin.cb); break;
      default: return MAPI_E_INVALID_TYPE;
    }
    impl.values[PROP_ID(v.ulPropTag)] = std::move(s);
  }
  if (!refused.empty() && problems != nullptr) {
    void *buf = nullptr;
    if (MAPIAllocateBuffer(static_cast<ULONG>(CbNewSPropProblemArray(refused.size())), &buf) !=
        S_OK)
      return MAPI_E_NOT_ENOUGH_MEMORY;
    auto *arr = static_cast<LPSPropProblemArray>(buf);
    arr->cProblem = static_cast<ULONG>(refused.size());
    for (size_t i = 0; i < refused.size(); ++i) {
      arr->aProblem[i].ulIndex = refused[i];
      arr->aProblem[i].ulPropTag = vals[refused[i]].ulPropTag;
      arr->aProblem[i].scode = MAPI_E_NO_ACCESS;
    }
    *problems = arr;
  }
  return S_OK;
}

HRESULT cpp_GetPropList(IMAPIProp *This, ULONG, LPSPropTagArray *out) {
  CppPropImpl &impl = impl_of(This);
  void *buf = nullptr;
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  if (MAPIAllocateBuffer(static_cast<ULONG>(CbNewSPropTagArray(impl.values.size())), &buf) != S_OK)
    return MAPI_E_NOT_ENOUGH_MEMORY;
  auto *list = static_cast<LPSPropTagArray>(buf);
  list->cValues = 0;
  for (const auto &entry : impl.values) list->aulPropTag[list->cValues++] = entry.second.tag;
  *out = list;
  return S_OK;
}

// Slot order is the vtable's: QueryInterface … GetIDsFromNames. Unused slots: MAPI_E_NO_SUPPORT.
const IMAPIPropVtbl cpp_prop_vtbl = {
    [](IMAPIProp *This, const IID *riid, void **ppv) -> HRESULT {
      if (riid == nullptr || ppv == nullptr) return MAPI_E_INVALID_PARAMETER;
      if (std::memcmp(riid, &IID_IUnknown, sizeof(IID)) == 0 ||
          std::memcmp(riid, &IID_IMAPIProp, sizeof(IID)) == 0) {
        impl_of(This).refs++;
        *ppv = This;
        return S_OK;
      }
      *ppv = nullptr;
      return E_NOINTERFACE;
    },
    [](IMAPIProp *This) -> ULONG { return ++impl_of(This).refs; },
    [](IMAPIProp *This) -> ULONG {
      auto *self = reinterpret_cast<CppProp *>(This);
      ULONG left = --self->impl->refs;
      if (left == 0) {
        delete self->impl;
        delete self;
      }
      return left;
    },
    [](IMAPIProp *, HRESULT, ULONG, LPMAPIERROR *) -> HRESULT { return MAPI_E_NO_SUPPORT; },
    [](IMAPIProp *, ULONG) -> HRESULT { return MAPI_E_NO_SUPPORT; },
    [](IMAPIProp *, LPSPropTagArray, ULONG, ULONG *, LPSPropValue *) -> HRESULT {
      return MAPI_E_NO_SUPPORT;
    },
    cpp_GetPropList,
    [](IMAPIProp *, ULONG, LPCIID, ULONG, ULONG, IUnknown **) -> HRESULT {
      return MAPI_E_NO_SUPPORT;
    },
    cpp_SetProps,
    [](IMAPIProp *, LPSPropTagArray, LPSPropProblemArray *) -> HRESULT {
      return MAPI_E_NO_SUPPORT;
    },
    [](IMAPIProp *, ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, IMAPIProgress *, LPCIID, LPVOID,
       ULONG, LPSPropProblemArray *) -> HRESULT { return MAPI_E_NO_SUPPORT; },
    [](IMAPIProp *, LPSPropTagArray, ULONG_PTR, IMAPIProgress *, LPCIID, LPVOID, ULONG,
       LPSPropProblemArray *) -> HRESULT { return MAPI_E_NO_SUPPORT; },
    [](IMAPIProp *, LPSPropTagArray *, LPGUID, ULONG, ULONG *, LPMAPINAMEID **) -> HRESULT {
      return MAPI_E_NO_SUPPORT;
    },
    [](IMAPIProp *, ULONG, LPMAPINAMEID *, ULONG, LPSPropTagArray *) -> HRESULT {
      return MAPI_E_NO_SUPPORT;
    },
};

CppProp *new_cpp_prop() {
  auto *p = new CppProp{{&cpp_prop_vtbl}, new CppPropImpl};
  return p;
}

// ---- Tests -------------------------------------------------------------------------------------

const char16_t kWide[] = u"C++ \u00e9t\u00e9 \U0001F600";  // non-BMP: a surrogate pair
const BYTE kBytes[] = {1, 2, 3, 0, 255};

std::vector<SPropValue> sample_values() {
  static LPSTR mv[] = {const_cast<LPSTR>("alpha"), const_cast<LPSTR>("")};
  std::vector<SPropValue> v(6);
  std::memset(v.data(), 0, v.size() * sizeof(SPropValue));
  v[0].ulPropTag = tag(PT_LONG, 0);
  v[0].Value.l = -42;
  v[1].ulPropTag = tag(PT_UNICODE, 1);
  v[1].Value.lpszW = const_cast<LPWSTR>(W(kWide));
  v[2].ulPropTag = tag(PT_BINARY, 2);
  v[2].Value.bin.cb = sizeof kBytes;
  v[2].Value.bin.lpb = const_cast<LPBYTE>(kBytes);
  v[3].ulPropTag = tag(PT_DOUBLE, 3);
  v[3].Value.dbl = 2.5e-7;
  v[4].ulPropTag = tag(PT_STRING8, 4);
  v[4].Value.lpszA = const_cast<LPSTR>("narrow \xC3\xA9");
  v[5].ulPropTag = tag(PT_MV_STRING8, 5);
  v[5].Value.MVszA.cValues = 2;
  v[5].Value.MVszA.lppszA = mv;
  return v;
}

void test_round_trip() {
  ComRef<IPropData> p = new_prop();
  std::vector<SPropValue> in = sample_values();
  MapiBuffer<SPropProblemArray> problems;
  CHECK_OK(p->lpVtbl->SetProps(p.get(), static_cast<ULONG>(in.size()), in.data(),
                               problems.out()));
  CHECK(!problems);

  MapiBuffer<SPropValue> out;
  ULONG count = 0;
  CHECK_OK(p->lpVtbl->GetProps(p.get(), nullptr, MAPI_UNICODE, &count, out.out()));
  CHECK_EQ(count, in.size());
  std::map<ULONG, const SPropValue *> by_id;
  for (ULONG i = 0; i < count; ++i) by_id[PROP_ID(out[i].ulPropTag)] = &out[i];
  CHECK_EQ(by_id.at(PROP_ID(in[0].ulPropTag))->Value.l, -42);
  CHECK(wide(by_id.at(PROP_ID(in[1].ulPropTag))->Value.lpszW) == kWide);
  const SBinary &bin = by_id.at(PROP_ID(in[2].ulPropTag))->Value.bin;
  CHECK(bin.cb == sizeof kBytes && std::memcmp(bin.lpb, kBytes, sizeof kBytes) == 0);
  CHECK(by_id.at(PROP_ID(in[3].ulPropTag))->Value.dbl == 2.5e-7);
  // MAPI_UNICODE: the narrow string comes back wide.
  const SPropValue *narrow = by_id.at(PROP_ID(in[4].ulPropTag));
  CHECK_EQ(narrow->ulPropTag, CHANGE_PROP_TYPE(in[4].ulPropTag, PT_UNICODE));
  CHECK(wide(narrow->Value.lpszW) == u"narrow \u00e9");
  const SPropValue *mv = by_id.at(PROP_ID(in[5].ulPropTag));
  CHECK_EQ(mv->ulPropTag, CHANGE_PROP_TYPE(in[5].ulPropTag, PT_MV_UNICODE));
  CHECK_EQ(mv->Value.MVszW.cValues, 2);
  CHECK(wide(mv->Value.MVszW.lppszW[0]) == u"alpha");
  CHECK(wide(mv->Value.MVszW.lppszW[1]).empty());

  // The wide value asked for narrow: UTF-8.
  MapiBuffer<SPropTagArray> tags;
  CHECK_OK(MAPIAllocateBuffer(static_cast<ULONG>(CbNewSPropTagArray(1)),
                              reinterpret_cast<void **>(tags.out())));
  tags->cValues = 1;
  tags->aulPropTag[0] = CHANGE_PROP_TYPE(in[1].ulPropTag, PT_STRING8);
  CHECK_OK(p->lpVtbl->GetProps(p.get(), tags.get(), 0, &count, out.out()));
  CHECK_STR(out->Value.lpszA, "C++ \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");

  // A failure, explained by GetLastError into an RAII buffer.
  tags->cValues = 0;
  HRESULT hr = p->lpVtbl->GetProps(p.get(), tags.get(), 0, &count, out.out());
  CHECK_HR(hr, MAPI_E_INVALID_PARAMETER);
  CHECK(!out);
  MapiBuffer<MAPIERROR> err;
  CHECK_OK(p->lpVtbl->GetLastError(p.get(), hr, 0, err.out()));
  CHECK(err && std::strstr(err->lpszError, "GetProps") != nullptr);
  std::printf("  round trip (RAII buffers): ok\n");
}

void test_query_interface() {
  ComRef<IPropData> p = new_prop();
  for (const IID *iid : {&IID_IUnknown, &IID_IMAPIProp, &IID_IMAPIPropData}) {
    ComRef<IUnknown> q;
    CHECK_OK(p->lpVtbl->QueryInterface(p.get(), iid, reinterpret_cast<void **>(q.out())));
    CHECK(static_cast<void *>(q.get()) == static_cast<void *>(p.get()));
    CHECK_EQ(p->lpVtbl->AddRef(p.get()), 3);  // ours + q's + this one
    CHECK_EQ(p->lpVtbl->Release(p.get()), 2);
  }
  void *none = GARBAGE_PTR;
  CHECK_HR(p->lpVtbl->QueryInterface(p.get(), &IID_IMsgStore, &none), E_NOINTERFACE);
  CHECK(none == nullptr);
  CHECK_EQ(p->lpVtbl->AddRef(p.get()), 2);
  CHECK_EQ(p->lpVtbl->Release(p.get()), 1);
  std::printf("  QueryInterface identity: ok\n");
}

void test_copy_to_cpp_object() {
  ComRef<IPropData> src = new_prop();
  std::vector<SPropValue> in = sample_values();
  in.pop_back();  // the C++ destination stores scalar types only
  CHECK_OK(src->lpVtbl->SetProps(src.get(), static_cast<ULONG>(in.size()), in.data(), nullptr));

  CppProp *dest = new_cpp_prop();
  ComRef<IMAPIProp> dest_ref(&dest->iface);
  MapiBuffer<SPropProblemArray> problems;
  CHECK_OK(src->lpVtbl->CopyTo(src.get(), 0, nullptr, nullptr, 0, nullptr, &IID_IMAPIProp,
                               dest_ref.get(), 0, problems.out()));
  CHECK(!problems);
  CppPropImpl &impl = *dest->impl;
  CHECK_EQ(impl.setprops_calls, 1);
  CHECK_EQ(impl.values.size(), in.size());
  CHECK_EQ(impl.values.at(PROP_ID(in[0].ulPropTag)).l, -42);
  CHECK(impl.values.at(PROP_ID(in[1].ulPropTag)).wide_text == kWide);
  CHECK(impl.values.at(PROP_ID(in[2].ulPropTag)).bytes ==
        std::vector<BYTE>(kBytes, kBytes + sizeof kBytes));
  CHECK(impl.values.at(PROP_ID(in[3].ulPropTag)).dbl == 2.5e-7);
  CHECK(impl.values.at(PROP_ID(in[4].ulPropTag)).narrow == "narrow \xC3\xA9");
  CHECK_EQ(impl.refs, 1);

  // MAPI_NOREPLACE keeps the destination's value; a refused property is a problem entry.
  impl.values[PROP_ID(in[0].ulPropTag)].l = 7;
  impl.refuse_tag = in[3].ulPropTag;
  impl.values.erase(PROP_ID(in[3].ulPropTag));
  CHECK_OK(src->lpVtbl->CopyTo(src.get(), 0, nullptr, nullptr, 0, nullptr, nullptr,
                               dest_ref.get(), MAPI_NOREPLACE, problems.out()));
  CHECK_EQ(impl.values.at(PROP_ID(in[0].ulPropTag)).l, 7);
  CHECK(problems && problems->cProblem == 1);
  CHECK_EQ(problems->aProblem[0].ulPropTag, in[3].ulPropTag);
  CHECK_HR(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);

  // Through the IMAPIProp view of our own object, with MAPI_MOVE: the source empties except
  // for the refused property.
  impl.values.clear();
  IMAPIProp *src_as_prop = reinterpret_cast<IMAPIProp *>(src.get());
  CHECK_OK(src_as_prop->lpVtbl->CopyTo(src_as_prop, 0, nullptr, nullptr, 0, nullptr, nullptr,
                                       dest_ref.get(), MAPI_MOVE, problems.out()));
  MapiBuffer<SPropTagArray> left;
  CHECK_OK(src->lpVtbl->GetPropList(src.get(), 0, left.out()));
  CHECK_EQ(left->cValues, 1);
  CHECK_EQ(left->aulPropTag[0], in[3].ulPropTag);
  CHECK_EQ(impl.values.size(), in.size() - 1);
  std::printf("  CopyTo onto a C++ object: ok\n");
}

}  // namespace

// Independent sections, in the order a full run takes them (tests/c_tests.rs lists the same).
static const struct test_section SECTIONS[] = {
    {"round_trip", test_round_trip},
    {"query_interface", test_query_interface},
    {"copy_to_cpp_object", test_copy_to_cpp_object},
};

int main(int argc, char **argv) { return RUN_SECTIONS(argc, argv, SECTIONS); }
