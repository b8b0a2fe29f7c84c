//! IPropData: `CreateIProp` and its vtable (DESIGN.md §2). Not transacted; results are allocated
//! with the three allocator pointers the object was created with.

use super::alloc::Allocator;
use super::convert::{problems_out, slice_in, tag_array_in, tag_array_out, ulong_array_out};
use super::guard;
use super::iids::*;
use super::interfaces::*;
use super::object::{self, ComClass, ComObject};
use super::prop::{self, PropClass};
use super::types::*;
use crate::core::mapidefs::*;
use crate::core::propdata::PropData;
use crate::core::props::PropObject;
use std::ffi::c_void;

/// cbindgen:ignore
pub struct PropDataClass {
    data: PropData,
    alloc: Allocator,
}

impl ComClass for PropDataClass {
    type Interface = IPropData;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IMAPIPropData];
    fn vtbl() -> &'static IPropDataVtbl {
        &PROPDATA_VTBL
    }
}

impl PropClass for PropDataClass {
    fn prop(&self) -> &dyn PropObject {
        &self.data
    }
    fn allocator(&self) -> Allocator {
        self.alloc
    }
}

type C = PropDataClass;
type I = <C as ComClass>::Interface;

const _: () = object::assert_com_layout::<C>();

static PROPDATA_VTBL: IPropDataVtbl = prop::prop_vtbl!(IPropDataVtbl<C> {
    SaveChanges: prop::save_changes::<C>,
    HrSetObjAccess: hr_set_obj_access,
    HrSetPropAccess: hr_set_prop_access,
    HrGetPropAccess: hr_get_prop_access,
    HrAddObjProps: hr_add_obj_props,
});

/// Creates an IPropData object (MAPI's `CreateIProp`). `lpInterface` NULL or IID_IMAPIPropData
/// (IID_IMAPIProp and IID_IUnknown are accepted too). The object allocates every result with the
/// given allocator functions; the caller frees them with `lpFreeBuffer`'s partner. Release the
/// object with its Release slot.
///
/// # Safety
/// Pointers must be NULL or valid; the allocator functions must behave as MAPI's.
#[no_mangle]
pub unsafe extern "C" fn CreateIProp(
    lpInterface: LPCIID,
    lpAllocateBuffer: Option<unsafe extern "C" fn(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE>,
    lpAllocateMore: Option<
        unsafe extern "C" fn(cbSize: ULONG, lpObject: LPVOID, lppBuffer: *mut LPVOID) -> SCODE,
    >,
    lpFreeBuffer: Option<unsafe extern "C" fn(lpBuffer: LPVOID) -> ULONG>,
    lpvReserved: LPVOID,
    lppPropData: *mut LPPROPDATA,
) -> SCODE {
    // SAFETY: `lpInterface` is NULL or a readable IID and `lppPropData` NULL or writable (the
    // caller's side of the contract, DESIGN.md §2; NULL is checked before any use); the three
    // allocator functions behave as MAPI's (CreateIProp's contract), which is what
    // Allocator::foreign asks.
    unsafe {
        guard::free_fn("CreateIProp", || {
            let out = guard::cleared_out(lppPropData, "CreateIProp: lppPropData")?;
            object::check_interface::<C>(lpInterface, "CreateIProp")?;
            let alloc = Allocator::from_client(
                lpAllocateBuffer,
                lpAllocateMore,
                lpFreeBuffer,
                lpvReserved,
                "CreateIProp",
            )?;
            let obj = ComObject::create(PropDataClass {
                data: PropData::new(),
                alloc,
            });
            *out = ComObject::as_interface(obj);
            Ok(S_OK)
        })
    }
}

/// The object behind `p` if it is an IPropData of ours.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn ours(p: *mut c_void) -> Option<&'static dyn PropObject> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.data as &dyn PropObject)
}

unsafe extern "C" fn hr_set_obj_access(This: *mut I, ulAccess: ULONG) -> HRESULT {
    // SAFETY: `This` came through `PropDataClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe {
        guard::method::<C>(This, "HrSetObjAccess", |obj| {
            obj.inner.data.set_obj_access(ulAccess)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_set_prop_access(
    This: *mut I,
    lpPropTagArray: LPSPropTagArray,
    rgulAccess: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `PropDataClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lpPropTagArray`, `rgulAccess` are NULL or valid for the
    // reads and writes that HrSetPropAccess's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrSetPropAccess", |obj| {
            let tags = tag_array_in(lpPropTagArray, "HrSetPropAccess: lpPropTagArray")?;
            let access = slice_in(rgulAccess, tags.len() as u32, "HrSetPropAccess: rgulAccess")?;
            obj.inner.data.set_prop_access(tags, access)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn hr_get_prop_access(
    This: *mut I,
    lppPropTagArray: *mut LPSPropTagArray,
    lprgulAccess: *mut *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `PropDataClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lppPropTagArray`, `lprgulAccess` are NULL or valid for the
    // reads and writes that HrGetPropAccess's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrGetPropAccess", |obj| {
            // Clear both before checking either (one NULL must not leave the other's garbage).
            guard::optional_out(lppPropTagArray);
            guard::optional_out(lprgulAccess);
            let tags_out = guard::cleared_out(lppPropTagArray, "HrGetPropAccess: lppPropTagArray")?;
            let access_out = guard::cleared_out(lprgulAccess, "HrGetPropAccess: lprgulAccess")?;
            let (tags, access) = obj.inner.data.prop_access();
            let t = tag_array_out(obj.inner.alloc, &tags)?;
            match ulong_array_out(obj.inner.alloc, &access) {
                Ok(a) => {
                    *tags_out = t;
                    *access_out = a;
                    Ok(S_OK)
                }
                Err(e) => {
                    // Release what was already made so that a failure leaves nothing to free.
                    obj.inner.alloc.free(t as LPVOID);
                    Err(e)
                }
            }
        })
    }
}

unsafe extern "C" fn hr_add_obj_props(
    This: *mut I,
    lpPropTagArray: LPSPropTagArray,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    // SAFETY: `This` came through `PropDataClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lpPropTagArray`, `lppProblems` are NULL or valid for the
    // reads and writes that HrAddObjProps's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "HrAddObjProps", |obj| {
            let out = guard::optional_out(lppProblems);
            let tags = tag_array_in(lpPropTagArray, "HrAddObjProps: lpPropTagArray")?;
            let problems = obj.inner.data.add_obj_props(tags)?;
            if let Some(out) = out {
                *out = problems_out(obj.inner.alloc, problems)?;
            }
            Ok(S_OK)
        })
    }
}

/// The allocator an IPropData of ours hands results out with (None for anything else).
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn allocator_of(p: *mut c_void) -> Option<Allocator> {
    // SAFETY: the caller's contract: `p` is NULL or a live COM interface pointer.
    unsafe { ComObject::<C>::ours(p).map(|o| o.inner.alloc) }
}
