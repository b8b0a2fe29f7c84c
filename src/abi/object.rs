//! COM objects and IUnknown (DESIGN.md §2; rust-c-abi-style.md §3): the vtable pointer first,
//! an atomic reference count, Release freeing through the raw pointer, QueryInterface writing
//! NULL on failure and AddRef-ing once on success. Every interface an object answers shares its
//! one pointer (the vtables are flattened supersets), so IUnknown identity holds by construction.

use super::guard;
use super::iids::IID_IUnknown;
use super::interfaces::*;
use super::types::{GUID, HRESULT, IID, ULONG};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use parking_lot::Mutex;
use std::ffi::c_void;
use std::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering};

/// COM objects this library has made and not yet freed, process-wide (MsgStoreLiveObjects).
static LIVE_OBJECTS: AtomicUsize = AtomicUsize::new(0);

/// How many of our COM objects are alive now.
pub fn live_objects() -> usize {
    LIVE_OBJECTS.load(Ordering::Acquire)
}

/// A COM interface as C sees it: `struct IFoo { const IFooVtbl *lpVtbl; }`, tied to its one
/// vtable type, so that an object of a class answering `IFoo` can only carry an `IFooVtbl`.
///
/// # Safety
/// `Self` must be `#[repr(C)]` with a single field, `lpVtbl: *const Self::Vtbl`, and `Vtbl` must
/// be the interface's flattened vtable (IUnknown's three slots first).
pub unsafe trait ComInterface: 'static {
    type Vtbl: Sync + 'static;
}

macro_rules! com_interfaces {
    ($($iface:ident => $vtbl:ident,)*) => {
        $(
            // SAFETY: interfaces.rs declares each of these as `#[repr(C)] struct $iface {
            // lpVtbl: *const $vtbl }`, with IUnknown's slots first in `$vtbl`.
            unsafe impl ComInterface for $iface {
                type Vtbl = $vtbl;
            }
            // ...checked: `lpVtbl` is a `*const $vtbl`, the struct's first and only field.
            const _: fn(&$iface) -> *const $vtbl = |i| i.lpVtbl;
            const _: () = assert!(
                std::mem::offset_of!($iface, lpVtbl) == 0
                    && std::mem::size_of::<$iface>() == std::mem::size_of::<*const c_void>()
            );
        )*
    };
}

com_interfaces! {
    IUnknown => IUnknownVtbl,
    IMAPIProp => IMAPIPropVtbl,
    IPropData => IPropDataVtbl,
    IMessage => IMessageVtbl,
    IAttach => IAttachVtbl,
    IMAPIFolder => IMAPIFolderVtbl,
    IMsgStore => IMsgStoreVtbl,
    IMAPITable => IMAPITableVtbl,
    IStream => IStreamVtbl,
    ITableData => ITableDataVtbl,
}

/// The vtable type of class `T`'s objects.
pub type VtblOf<T> = <<T as ComClass>::Interface as ComInterface>::Vtbl;

/// A class of objects this library implements: the interface C sees its objects as (which fixes
/// the vtable type its objects carry), that vtable, and the interfaces it answers. A class cannot
/// be paired with another interface's vtable: `vtbl()` must return `&'static VtblOf<Self>`, and
/// the generic slots (`query_interface::<T>`, `prop::get_props::<T>`, …) take
/// `This: *mut T::Interface`, so putting them in another interface's vtable does not compile.
///
/// A class that names one interface and returns another's vtable is refused:
/// ```compile_fail,E0053
/// use msgstore::abi::interfaces::{IMessage, IPropDataVtbl};
/// use msgstore::abi::object::ComClass;
/// use msgstore::abi::types::GUID;
/// struct Wrong;
/// impl ComClass for Wrong {
///     type Interface = IMessage;
///     const IIDS: &'static [&'static GUID] = &[];
///     fn vtbl() -> &'static IPropDataVtbl {
///         unimplemented!()
///     }
/// }
/// ```
/// and so is a class's slot in another interface's vtable (the message class's AddRef in an
/// IPropData vtable; with `PropDataClass` in its place this compiles):
/// ```compile_fail,E0308
/// use msgstore::abi::interfaces::IPropData;
/// use msgstore::abi::message::MessageClass;
/// use msgstore::abi::object::add_ref;
/// use msgstore::abi::types::ULONG;
/// let _slot: unsafe extern "C" fn(This: *mut IPropData) -> ULONG = add_ref::<MessageClass>;
/// ```
pub trait ComClass: Sized + Send + Sync + 'static {
    /// The most derived interface the class's objects implement (their vtable's type).
    type Interface: ComInterface;
    /// Interfaces QueryInterface answers besides IUnknown.
    const IIDS: &'static [&'static GUID];
    /// The class's static vtable.
    fn vtbl() -> &'static VtblOf<Self>;
}

/// cbindgen:ignore
/// The memory behind every interface pointer this library hands out: the vtable pointer first,
/// as in `struct IFoo { const IFooVtbl *lpVtbl; }` (asserted by [`assert_com_layout`]).
#[repr(C)]
pub struct ComObject<T: ComClass> {
    lpVtbl: &'static VtblOf<T>,
    refs: AtomicU32,
    last_error: Mutex<Option<MapiError>>,
    pub inner: T,
}

/// Checks at compile time (`const _: () = assert_com_layout::<Class>();` in each class's module)
/// that the object starts with its vtable pointer, a plain pointer, exactly as C declares the
/// interface struct.
pub const fn assert_com_layout<T: ComClass>() {
    assert!(std::mem::offset_of!(ComObject<T>, lpVtbl) == 0);
    assert!(std::mem::size_of::<&'static VtblOf<T>>() == std::mem::size_of::<*const c_void>());
}

/// A refcount past this is treated as an attack or a leak loop (com-rs's guard).
const MAX_REFS: u32 = u32::MAX / 2;

impl<T: ComClass> ComObject<T> {
    /// A new object with one reference, owned by the caller.
    pub fn create(inner: T) -> *mut ComObject<T> {
        LIVE_OBJECTS.fetch_add(1, Ordering::AcqRel);
        Box::into_raw(Box::new(ComObject {
            lpVtbl: T::vtbl(),
            refs: AtomicU32::new(1),
            last_error: Mutex::new(None),
            inner,
        }))
    }

    /// The interface pointer C sees for this object.
    pub fn as_interface(this: *mut ComObject<T>) -> *mut T::Interface {
        this.cast()
    }

    /// The same pointer as IUnknown (every interface an object answers shares it).
    pub fn as_unknown(this: *mut ComObject<T>) -> *mut IUnknown {
        this.cast()
    }

    pub fn set_last_error(&self, e: MapiError) {
        *self.last_error.lock() = Some(e);
    }

    pub fn last_error(&self) -> Option<MapiError> {
        self.last_error.lock().clone()
    }

    pub fn add_ref(&self) -> ULONG {
        let prev = self.refs.fetch_add(1, Ordering::Relaxed);
        if prev >= MAX_REFS {
            self.refs.fetch_sub(1, Ordering::Relaxed);
            panic!("AddRef: reference count overflow");
        }
        prev + 1
    }

    /// Drops one reference; frees the object at zero. Works on the raw pointer so that no
    /// reference to freed memory outlives the call.
    ///
    /// # Safety
    /// `this` must be a live object of this class on which the caller owns a reference.
    pub unsafe fn release(this: *mut ComObject<T>) -> ULONG {
        // SAFETY: `this` is live (the contract); only its atomic count is touched, through the
        // raw pointer, so no reference outlives a free made by another thread's Release.
        let prev = unsafe { (*this).refs.fetch_sub(1, Ordering::Release) };
        if prev == 0 {
            // SAFETY: the count was 0, so nobody frees the object here: it is still there.
            unsafe { (*this).refs.fetch_add(1, Ordering::Relaxed) };
            panic!("Release: the object was already released");
        }
        if prev == 1 {
            fence(Ordering::Acquire);
            // SAFETY: that was the last reference: nobody else may use the object, which
            // `create` made with Box::into_raw; it is freed once, here.
            drop(unsafe { Box::from_raw(this) });
            LIVE_OBJECTS.fetch_sub(1, Ordering::AcqRel);
        }
        prev - 1
    }

    /// `p` as our object of class `T`, if its vtable is `T`'s. Only the first word of `p` is
    /// read, and every COM object has one (its vtable pointer).
    ///
    /// # Safety
    /// `p` must be NULL or a COM interface pointer.
    pub unsafe fn ours<'a>(p: *mut c_void) -> Option<&'a ComObject<T>> {
        let ours = T::vtbl() as *const VtblOf<T> as *const c_void;
        // SAFETY: a non-NULL `p` is a COM interface pointer (the contract), whose first word is
        // its vtable pointer.
        if p.is_null() || unsafe { *(p as *const *const c_void) } != ours {
            return None;
        }
        // SAFETY: only our ComObject<T>s carry T's vtable (it is private to T's module), so `p`
        // is one, live as long as the caller's reference.
        Some(unsafe { &*(p as *const ComObject<T>) })
    }
}

/// cbindgen:ignore
/// Releases a reference on a foreign or own COM object through its vtable (for objects handed
/// to us by C, such as a resolver or a destination folder). Every COM vtable starts with
/// QueryInterface, AddRef, Release.
#[repr(C)]
pub struct UnknownVtblPrefix {
    pub QueryInterface:
        unsafe extern "C" fn(This: *mut c_void, riid: *const IID, ppv: *mut *mut c_void) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut c_void) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut c_void) -> ULONG,
}

/// # Safety
/// `p` must be a live COM interface pointer.
pub unsafe fn foreign_add_ref(p: *mut c_void) -> ULONG {
    // SAFETY: `p` is a live COM object (the contract): its first word points to a vtable that
    // starts with IUnknown's three slots.
    unsafe {
        let vtbl = *(p as *const *const UnknownVtblPrefix);
        ((*vtbl).AddRef)(p)
    }
}

/// # Safety
/// `p` must be a live COM interface pointer on which the caller owns a reference.
pub unsafe fn foreign_release(p: *mut c_void) -> ULONG {
    // SAFETY: `p` is a live COM object on which we own a reference (the contract): its first
    // word points to a vtable that starts with IUnknown's three slots.
    unsafe {
        let vtbl = *(p as *const *const UnknownVtblPrefix);
        ((*vtbl).Release)(p)
    }
}

/// Whether `riid` names IUnknown or one of `T`'s interfaces.
pub fn answers<T: ComClass>(riid: &IID) -> bool {
    *riid == IID_IUnknown || T::IIDS.iter().any(|iid| **iid == *riid)
}

/// The IID check of QueryInterface and of every `lpInterface` parameter (NULL: the default).
///
/// # Safety
/// `riid` must be NULL or point to a GUID.
pub unsafe fn check_interface<T: ComClass>(riid: *const IID, what: &str) -> MapiResult<()> {
    // SAFETY: `riid` is NULL or points to a GUID (the contract).
    match unsafe { riid.as_ref() } {
        None => Ok(()),
        Some(iid) if answers::<T>(iid) => Ok(()),
        Some(_) => Err(MapiError::new(
            MAPI_E_INTERFACE_NOT_SUPPORTED,
            format!("{what}: the object does not support the requested interface"),
        )),
    }
}

/// Slot 0 of every vtable.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn query_interface<T: ComClass>(
    This: *mut T::Interface,
    riid: *const IID,
    ppvObj: *mut *mut c_void,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `riid`, `ppvObj` are NULL or valid for the reads and writes
    // that QueryInterface's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "QueryInterface", |obj| {
            let out = guard::cleared_out(ppvObj, "QueryInterface: ppvObj")?;
            let iid = riid
                .as_ref()
                .ok_or_else(|| MapiError::invalid("QueryInterface: riid is NULL"))?;
            if !answers::<T>(iid) {
                return Err(MapiError::new(
                    E_NOINTERFACE,
                    "QueryInterface: the object does not support the requested interface",
                ));
            }
            obj.add_ref();
            *out = This as *mut c_void;
            Ok(S_OK)
        })
    }
}

/// Slot 1 of every vtable.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn add_ref<T: ComClass>(This: *mut T::Interface) -> ULONG {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (checked first) or a
    // live object of that class.
    unsafe {
        guard::method_ulong(This, "AddRef", || {
            (*(This as *const ComObject<T>)).add_ref()
        })
    }
}

/// Slot 2 of every vtable.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn release<T: ComClass>(This: *mut T::Interface) -> ULONG {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (checked first) or a
    // live object of that class.
    unsafe {
        guard::method_ulong(This, "Release", || {
            ComObject::<T>::release(This as *mut ComObject<T>)
        })
    }
}
