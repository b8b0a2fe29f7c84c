//! IMAPIProp's slots 3–13, written once and instantiated for every class of property object.
//! Each validates and converts, then delegates to the class's `core::props::PropObject`.

use super::alloc::{Allocator, MAPIFreeBuffer};
use super::convert::*;
use super::guard;
use super::iids::*;
use super::interfaces::{IMAPIProp, IUnknown};
use super::object::{ComClass, ComObject};
use super::types::*;
use crate::core::error::{check_flags, MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::props::{prop_list, resolve_props, Problem, PropInput, PropObject};
use crate::core::value::{prop_id, PropValue};
use std::ffi::c_void;
use std::ptr;

/// Builds a vtable value whose first 14 slots are IUnknown and IMAPIProp for interface `$I` and
/// class `$C`, followed by the interface's own slots. Only the private vtable statics use it:
/// the vtable *types* stay written out in `interfaces.rs`, where cbindgen reads them.
/// `SaveChanges` is named explicitly because messages route it through their resolver.
macro_rules! prop_vtbl {
    ($vtbl:ident<$I:ty, $C:ty> { SaveChanges: $save:expr $(, $slot:ident: $f:expr)* $(,)? }) => {
        $vtbl {
            QueryInterface: $crate::abi::object::query_interface::<$I, $C>,
            AddRef: $crate::abi::object::add_ref::<$I, $C>,
            Release: $crate::abi::object::release::<$I, $C>,
            GetLastError: $crate::abi::prop::get_last_error::<$I, $C>,
            SaveChanges: $save,
            GetProps: $crate::abi::prop::get_props::<$I, $C>,
            GetPropList: $crate::abi::prop::get_prop_list::<$I, $C>,
            OpenProperty: $crate::abi::prop::open_property::<$I, $C>,
            SetProps: $crate::abi::prop::set_props::<$I, $C>,
            DeleteProps: $crate::abi::prop::delete_props::<$I, $C>,
            CopyTo: $crate::abi::prop::copy_to::<$I, $C>,
            CopyProps: $crate::abi::prop::copy_props::<$I, $C>,
            GetNamesFromIDs: $crate::abi::prop::get_names_from_ids::<$I, $C>,
            GetIDsFromNames: $crate::abi::prop::get_ids_from_names::<$I, $C>,
            $($slot: $f,)*
        }
    };
}
pub(crate) use prop_vtbl;

/// A class whose objects expose IMAPIProp.
pub trait PropClass: ComClass {
    fn prop(&self) -> &dyn PropObject;
    /// The allocator results are built with (IPropData uses the one it was created with).
    fn allocator(&self) -> Allocator {
        Allocator::MAPI
    }
}

/// The property object behind `p`, if `p` is one of ours (any class).
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_prop_object<'a>(p: *mut c_void) -> Option<&'a dyn PropObject> {
    super::classes::our_prop_object(p)
}

const COMPONENT: &str = "msgstore";

/// Slot 3.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_last_error<I, T: PropClass>(
    This: *mut I,
    hResult: HRESULT,
    ulFlags: ULONG,
    lppMAPIError: *mut LPMAPIERROR,
) -> HRESULT {
    guard::method::<I, T>(This, "GetLastError", |obj| {
        let out = guard::cleared_out(lppMAPIError, "GetLastError: lppMAPIError")?;
        check_flags("GetLastError", ulFlags, MAPI_UNICODE)?;
        if hResult >= 0 {
            return Ok(S_OK);
        }
        // Nothing recorded about this failure: S_OK with no MAPIERROR, as Windows answers
        // (DESIGN.md §2; docs/MAPIUTIL.md).
        let text = match obj.last_error() {
            Some(e) if e.code == hResult => e.message,
            _ => return Ok(S_OK),
        };
        *out = mapierror_out(
            obj.inner.allocator(),
            &text,
            COMPONENT,
            hResult as u32,
            ulFlags & MAPI_UNICODE != 0,
        )?;
        Ok(S_OK)
    })
}

/// The text for MsgStoreGetLastError: the calling thread's last failure.
pub fn thread_mapierror(hResult: HRESULT, ulFlags: ULONG) -> MapiResult<*mut MAPIERROR> {
    check_flags("MsgStoreGetLastError", ulFlags, MAPI_UNICODE)?;
    if hResult >= 0 {
        return Ok(ptr::null_mut());
    }
    let text = match guard::thread_error() {
        Some(e) if e.code == hResult => e.message,
        _ => return Ok(ptr::null_mut()),
    };
    mapierror_out(
        Allocator::MAPI,
        &text,
        COMPONENT,
        hResult as u32,
        ulFlags & MAPI_UNICODE != 0,
    )
}

/// Slot 4, for classes whose SaveChanges needs nothing beyond the property object.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn save_changes<I, T: PropClass>(This: *mut I, ulFlags: ULONG) -> HRESULT {
    guard::method::<I, T>(This, "SaveChanges", |obj| {
        obj.inner.prop().save_changes(ulFlags)?;
        Ok(S_OK)
    })
}

/// Slot 5.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_props<I, T: PropClass>(
    This: *mut I,
    lpPropTagArray: LPSPropTagArray,
    ulFlags: ULONG,
    lpcValues: *mut ULONG,
    lppPropArray: *mut LPSPropValue,
) -> HRESULT {
    guard::method::<I, T>(This, "GetProps", |obj| {
        // Clear both out-parameters before checking either: one NULL must not leave the
        // other holding the caller's garbage.
        guard::optional_out(lppPropArray);
        if let Some(c) = lpcValues.as_mut() {
            *c = 0;
        }
        let count = guard::out_ptr(lpcValues, "GetProps: lpcValues")?;
        *count = 0;
        let out = guard::cleared_out(lppPropArray, "GetProps: lppPropArray")?;
        check_flags("GetProps", ulFlags, MAPI_UNICODE)?;
        let request = if lpPropTagArray.is_null() {
            None
        } else {
            Some(tag_array_in(lpPropTagArray, "GetProps: lpPropTagArray")?)
        };
        let unicode = ulFlags & MAPI_UNICODE != 0;
        let alloc = obj.inner.allocator();
        let mut result: MapiResult<(*mut SPropValue, usize, bool)> =
            Ok((ptr::null_mut(), 0, false));
        obj.inner.prop().read(&mut |view| {
            let outs = resolve_props(view, request, unicode);
            let errors = outs.iter().any(|o| o.is_error());
            result = if outs.is_empty() {
                Ok((ptr::null_mut(), 0, false))
            } else {
                prop_array_out(alloc, &outs).map(|p| (p, outs.len(), errors))
            };
        })?;
        let (arr, n, errors) = result?;
        *out = arr;
        *count = n as u32;
        Ok(if errors { MAPI_W_ERRORS_RETURNED } else { S_OK })
    })
}

/// Slot 6.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_prop_list<I, T: PropClass>(
    This: *mut I,
    ulFlags: ULONG,
    lppPropTagArray: *mut LPSPropTagArray,
) -> HRESULT {
    guard::method::<I, T>(This, "GetPropList", |obj| {
        let out = guard::cleared_out(lppPropTagArray, "GetPropList: lppPropTagArray")?;
        check_flags("GetPropList", ulFlags, MAPI_UNICODE)?;
        let mut tags = Vec::new();
        obj.inner
            .prop()
            .read(&mut |view| tags = prop_list(view, ulFlags & MAPI_UNICODE != 0))?;
        *out = tag_array_out(obj.inner.allocator(), &tags)?;
        Ok(S_OK)
    })
}

/// Slot 7: validated, then MAPI_E_NO_SUPPORT (streams are a later issue).
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn open_property<I, T: PropClass>(
    This: *mut I,
    ulPropTag: ULONG,
    lpiid: LPCIID,
    _ulInterfaceOptions: ULONG,
    ulFlags: ULONG,
    lppUnk: *mut *mut IUnknown,
) -> HRESULT {
    guard::method::<I, T>(This, "OpenProperty", |_obj| {
        guard::cleared_out(lppUnk, "OpenProperty: lppUnk")?;
        if lpiid.is_null() {
            return Err(MapiError::invalid("OpenProperty: lpiid is NULL"));
        }
        check_flags(
            "OpenProperty",
            ulFlags,
            MAPI_MODIFY | MAPI_CREATE | MAPI_DEFERRED_ERRORS | STREAM_APPEND,
        )?;
        if ulPropTag & 0xFFFF == PT_UNSPECIFIED {
            return Err(MapiError::invalid(
                "OpenProperty: the tag must carry a real type, not PT_UNSPECIFIED",
            ));
        }
        Err(MapiError::no_support("OpenProperty"))
    })
}

/// Applies SetProps-shaped input to a property object: conversion problems and the object's
/// own problems, merged in index order.
fn apply_set(
    prop: &dyn PropObject,
    inputs: Vec<PropInput>,
    mut problems: Vec<Problem>,
) -> MapiResult<Vec<Problem>> {
    problems.extend(prop.set_props(inputs)?);
    problems.sort_by_key(|p| p.index);
    Ok(problems)
}

/// Slot 8.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn set_props<I, T: PropClass>(
    This: *mut I,
    cValues: ULONG,
    lpPropArray: LPSPropValue,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    guard::method::<I, T>(This, "SetProps", |obj| {
        let out = guard::optional_out(lppProblems);
        if lpPropArray.is_null() {
            return Err(MapiError::invalid("SetProps: lpPropArray is NULL"));
        }
        let (inputs, problems) = prop_values_in(cValues, lpPropArray, "SetProps")?;
        let problems = apply_set(obj.inner.prop(), inputs, problems)?;
        if let Some(out) = out {
            *out = problems_out(obj.inner.allocator(), problems)?;
        }
        Ok(S_OK)
    })
}

/// Slot 9.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn delete_props<I, T: PropClass>(
    This: *mut I,
    lpPropTagArray: LPSPropTagArray,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    guard::method::<I, T>(This, "DeleteProps", |obj| {
        let out = guard::optional_out(lppProblems);
        let tags = tag_array_in(lpPropTagArray, "DeleteProps: lpPropTagArray")?;
        let problems = obj.inner.prop().delete_props(tags)?;
        if let Some(out) = out {
            *out = problems_out(obj.inner.allocator(), problems)?;
        }
        Ok(S_OK)
    })
}

const COPY_FLAGS: u32 = MAPI_MOVE | MAPI_NOREPLACE | MAPI_DECLINE_OK | MAPI_DIALOG;

/// The interfaces a CopyTo/CopyProps destination may be named by.
unsafe fn check_dest_interface(lpInterface: LPCIID, method: &str) -> MapiResult<()> {
    let Some(iid) = lpInterface.as_ref() else {
        return Ok(());
    };
    let prop_family = [
        &IID_IMAPIProp,
        &IID_IMessage,
        &IID_IMAPIFolder,
        &IID_IMAPIContainer,
        &IID_IMsgStore,
        &IID_IMAPIPropData,
        &IID_IAttachment,
    ];
    if prop_family.iter().any(|f| **f == *iid) {
        Ok(())
    } else {
        Err(MapiError::new(
            MAPI_E_INTERFACE_NOT_SUPPORTED,
            format!("{method}: lpInterface does not name an IMAPIProp interface"),
        ))
    }
}

/// One property chosen for a copy. `index` is how problems name it: its position in
/// `lpIncludeProps` for CopyProps, its position among the copied properties for CopyTo.
struct Selected {
    index: u32,
    tag: u32,
    value: PropValue,
}

/// What a copy selected from the source: the values, and the problems found while choosing them.
type Selection = (Vec<Selected>, Vec<Problem>);

/// Delivers copied values to the destination: ours directly, a foreign object through its
/// vtable (no lock of ours is held across that call). The problems it returns carry the
/// `Selected::index` of the value they are about, whatever the destination's own indexing;
/// with them come the tags the destination accepted (what MAPI_MOVE may delete).
unsafe fn deliver(
    dest: *mut c_void,
    mut values: Vec<Selected>,
    noreplace: bool,
) -> MapiResult<(Vec<Problem>, Vec<u32>)> {
    if let Some(ours) = our_prop_object(dest) {
        if noreplace {
            let mut present = Vec::new();
            ours.read(&mut |view| present = view.tags())?;
            values.retain(|s| !present.iter().any(|p| prop_id(*p) == prop_id(s.tag)));
        }
        let sent: Vec<(u32, u32)> = values.iter().map(|s| (s.index, s.tag)).collect();
        let inputs = values
            .into_iter()
            .map(|s| PropInput {
                index: s.index,
                tag: s.tag,
                value: s.value,
            })
            .collect();
        let problems = ours.set_props(inputs)?;
        return Ok(accepted(problems, &sent));
    }
    let dest = dest as *mut IMAPIProp;
    let vtbl = &*(*dest).lpVtbl;
    if noreplace {
        let mut list: LPSPropTagArray = ptr::null_mut();
        let hr = (vtbl.GetPropList)(dest, 0, &mut list);
        if hr < 0 {
            return Err(MapiError::new(
                hr,
                "CopyTo: the destination's GetPropList failed",
            ));
        }
        let present = optional_tag_array_in(list, "destination property list").map(|t| t.to_vec());
        MAPIFreeBuffer(list as LPVOID);
        let present = present?;
        values.retain(|s| !present.iter().any(|p| prop_id(*p) == prop_id(s.tag)));
    }
    if values.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let sent: Vec<(u32, u32)> = values.iter().map(|s| (s.index, s.tag)).collect();
    let (indices, pairs): (Vec<u32>, Vec<(u32, PropValue)>) = values
        .into_iter()
        .map(|s| (s.index, (s.tag, s.value)))
        .unzip();
    let arr = values_out(Allocator::MAPI, &pairs)?;
    let mut problems: LPSPropProblemArray = ptr::null_mut();
    let hr = (vtbl.SetProps)(dest, pairs.len() as u32, arr, &mut problems);
    MAPIFreeBuffer(arr as LPVOID);
    let result = if hr < 0 {
        Err(MapiError::new(hr, "the destination's SetProps failed"))
    } else {
        // The destination numbers its problems by position in the array we passed it.
        problems_in(problems).map(|list| {
            list.into_iter()
                .map(|p| Problem {
                    index: indices.get(p.index as usize).copied().unwrap_or(p.index),
                    ..p
                })
                .collect()
        })
    };
    MAPIFreeBuffer(problems as LPVOID);
    result.map(|problems| accepted(problems, &sent))
}

/// The problems, and the tags of the `sent` (index, tag) pairs that have none.
fn accepted(problems: Vec<Problem>, sent: &[(u32, u32)]) -> (Vec<Problem>, Vec<u32>) {
    let ok = sent
        .iter()
        .filter(|(index, _)| !problems.iter().any(|p| p.index == *index))
        .map(|(_, tag)| *tag)
        .collect();
    (problems, ok)
}

/// The destination of a copy: required, and not the source itself.
fn check_dest(This: *mut c_void, lpDestObj: LPVOID, method: &str) -> MapiResult<()> {
    if lpDestObj.is_null() {
        return Err(MapiError::invalid(format!("{method}: lpDestObj is NULL")));
    }
    if lpDestObj == This {
        return Err(MapiError::no_access(format!(
            "{method}: the source and the destination are the same object"
        )));
    }
    Ok(())
}

/// The shared body of CopyTo and CopyProps once the property list is known.
unsafe fn copy_common<T: PropClass>(
    obj: &ComObject<T>,
    This: *mut c_void,
    lpDestObj: LPVOID,
    ulFlags: ULONG,
    select: &dyn Fn(&dyn crate::core::props::PropView) -> Selection,
    lppProblems: Option<&mut LPSPropProblemArray>,
    method: &str,
) -> MapiResult<HRESULT> {
    check_dest(This, lpDestObj, method)?;
    if ulFlags & MAPI_MOVE != 0 {
        // A move out of a read-only object is refused before anything reaches the destination
        // (otherwise the copy would land and only the delete from the source would fail).
        obj.inner.prop().check_writable(method)?;
    }
    let mut selected = (Vec::new(), Vec::new());
    obj.inner.prop().read(&mut |view| selected = select(view))?;
    let (values, mut problems) = selected;
    let (refused, moved) = deliver(lpDestObj, values, ulFlags & MAPI_NOREPLACE != 0)?;
    problems.extend(refused);
    // MAPI_MOVE deletes from the source only what the destination took: a property it refused
    // (or kept under MAPI_NOREPLACE) stays where it was rather than being lost.
    if ulFlags & MAPI_MOVE != 0 && !moved.is_empty() {
        obj.inner.prop().delete_props(&moved)?;
    }
    if let Some(out) = lppProblems {
        *out = problems_out(obj.inner.allocator(), problems)?;
    }
    Ok(S_OK)
}

/// Slot 10.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn copy_to<I, T: PropClass>(
    This: *mut I,
    ciidExclude: ULONG,
    rgiidExclude: LPCIID,
    lpExcludeProps: LPSPropTagArray,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    lpInterface: LPCIID,
    lpDestObj: LPVOID,
    ulFlags: ULONG,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    guard::method::<I, T>(This, "CopyTo", |obj| {
        let out = guard::optional_out(lppProblems);
        check_flags("CopyTo", ulFlags, COPY_FLAGS)?;
        let excluded_iids = slice_in(rgiidExclude, ciidExclude, "CopyTo: rgiidExclude")?;
        let exclude = optional_tag_array_in(lpExcludeProps, "CopyTo: lpExcludeProps")?;
        check_dest_interface(lpInterface, "CopyTo")?;
        if excluded_iids.contains(&IID_IMAPIProp) {
            // Excluding IMAPIProp excludes every property: nothing to copy, but the destination
            // is validated all the same.
            check_dest(This as *mut c_void, lpDestObj, "CopyTo")?;
            return Ok(S_OK);
        }
        let select = |view: &dyn crate::core::props::PropView| {
            let values = view
                .tags()
                .into_iter()
                .filter(|t| !view.is_computed(*t))
                .filter(|t| !exclude.iter().any(|e| prop_id(*e) == prop_id(*t)))
                .filter_map(|t| view.get(prop_id(t)).map(|v| (t, v.into_owned())))
                .enumerate()
                .map(|(i, (tag, value))| Selected {
                    index: i as u32,
                    tag,
                    value,
                })
                .collect();
            (values, Vec::new())
        };
        copy_common(
            obj,
            This as *mut c_void,
            lpDestObj,
            ulFlags,
            &select,
            out,
            "CopyTo",
        )
    })
}

/// Slot 11.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn copy_props<I, T: PropClass>(
    This: *mut I,
    lpIncludeProps: LPSPropTagArray,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    lpInterface: LPCIID,
    lpDestObj: LPVOID,
    ulFlags: ULONG,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    guard::method::<I, T>(This, "CopyProps", |obj| {
        let out = guard::optional_out(lppProblems);
        check_flags("CopyProps", ulFlags, COPY_FLAGS)?;
        let include = tag_array_in(lpIncludeProps, "CopyProps: lpIncludeProps")?;
        check_dest_interface(lpInterface, "CopyProps")?;
        let select = |view: &dyn crate::core::props::PropView| {
            let mut values = Vec::new();
            let mut problems = Vec::new();
            for (i, &tag) in include.iter().enumerate() {
                match view.get(prop_id(tag)) {
                    Some(v) => values.push(Selected {
                        index: i as u32,
                        tag: crate::core::value::prop_tag(v.ptype(), prop_id(tag)),
                        value: v.into_owned(),
                    }),
                    None => problems.push(Problem {
                        index: i as u32,
                        tag,
                        scode: MAPI_E_NOT_FOUND,
                    }),
                }
            }
            (values, problems)
        };
        copy_common(
            obj,
            This as *mut c_void,
            lpDestObj,
            ulFlags,
            &select,
            out,
            "CopyProps",
        )
    })
}

/// Slot 12: validated, then MAPI_E_NO_SUPPORT (named properties are a later issue).
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_names_from_ids<I, T: PropClass>(
    This: *mut I,
    lppPropTags: *mut LPSPropTagArray,
    _lpPropSetGuid: LPGUID,
    ulFlags: ULONG,
    lpcPropNames: *mut ULONG,
    lpppPropNames: *mut *mut LPMAPINAMEID,
) -> HRESULT {
    guard::method::<I, T>(This, "GetNamesFromIDs", |_obj| {
        guard::optional_out(lpppPropNames);
        if let Some(c) = lpcPropNames.as_mut() {
            *c = 0;
        }
        guard::out_ptr(lppPropTags, "GetNamesFromIDs: lppPropTags")?;
        *guard::out_ptr(lpcPropNames, "GetNamesFromIDs: lpcPropNames")? = 0;
        guard::cleared_out(lpppPropNames, "GetNamesFromIDs: lpppPropNames")?;
        check_flags(
            "GetNamesFromIDs",
            ulFlags,
            MAPI_NO_STRINGS | MAPI_NO_IDS | MAPI_UNICODE,
        )?;
        Err(MapiError::no_support("GetNamesFromIDs"))
    })
}

/// Slot 13: validated, then MAPI_E_NO_SUPPORT.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_ids_from_names<I, T: PropClass>(
    This: *mut I,
    cPropNames: ULONG,
    lppPropNames: *mut LPMAPINAMEID,
    ulFlags: ULONG,
    lppPropTags: *mut LPSPropTagArray,
) -> HRESULT {
    guard::method::<I, T>(This, "GetIDsFromNames", |_obj| {
        guard::cleared_out(lppPropTags, "GetIDsFromNames: lppPropTags")?;
        check_flags("GetIDsFromNames", ulFlags, MAPI_CREATE | MAPI_UNICODE)?;
        slice_in(lppPropNames, cPropNames, "GetIDsFromNames: lppPropNames")?;
        Err(MapiError::no_support("GetIDsFromNames"))
    })
}

/// A slot this provider does not implement yet: MAPI_E_NO_SUPPORT, never a crash (DESIGN.md §2).
pub fn not_supported(method: &str) -> MapiResult<HRESULT> {
    Err(MapiError::no_support(method))
}
