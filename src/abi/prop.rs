//! IMAPIProp's slots 3–13, written once and instantiated for every class of property object.
//! Each validates and converts, then delegates to the class's `core::props::PropObject`.

use super::alloc::{Allocator, MAPIFreeBuffer};
use super::convert::*;
use super::guard;
use super::iids::*;
use super::interfaces::{IMAPIProp, IUnknown};
use super::object::{ComClass, ComObject};
use super::types::*;
use crate::core::copy::named_renumbering;
use crate::core::error::{check_flags, MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::message::{AttachHost, Attachment, ChildSet};
use crate::core::named::{self, NameFilter};
use crate::core::props::{prop_list, Problem, PropInput, PropObject, PropOut, Resolver};
use crate::core::store::Store;
use crate::core::value::{
    prop_id, prop_tag, try_map, try_owned, try_push, try_to_vec, try_vec_with_capacity, PropValue,
};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

/// Builds a vtable value whose first 14 slots are IUnknown and IMAPIProp for interface `$I` and
/// class `$C` (whose `ComClass::Interface` is the vtable's interface: another class does not
/// compile here), followed by the interface's own slots. Only the private vtable statics use it:
/// the vtable *types* stay written out in `interfaces.rs`, where cbindgen reads them.
/// `SaveChanges` is named explicitly because messages route it through their resolver.
macro_rules! prop_vtbl {
    ($vtbl:ident<$C:ty> { SaveChanges: $save:expr $(, $slot:ident: $f:expr)* $(,)? }) => {
        $vtbl {
            QueryInterface: $crate::abi::object::query_interface::<$C>,
            AddRef: $crate::abi::object::add_ref::<$C>,
            Release: $crate::abi::object::release::<$C>,
            GetLastError: $crate::abi::prop::get_last_error::<$C>,
            SaveChanges: $save,
            GetProps: $crate::abi::prop::get_props::<$C>,
            GetPropList: $crate::abi::prop::get_prop_list::<$C>,
            OpenProperty: $crate::abi::prop::open_property::<$C>,
            SetProps: $crate::abi::prop::set_props::<$C>,
            DeleteProps: $crate::abi::prop::delete_props::<$C>,
            CopyTo: $crate::abi::prop::copy_to::<$C>,
            CopyProps: $crate::abi::prop::copy_props::<$C>,
            GetNamesFromIDs: $crate::abi::prop::get_names_from_ids::<$C>,
            GetIDsFromNames: $crate::abi::prop::get_ids_from_names::<$C>,
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
    /// The attachments and recipients of a message-like object, which CopyTo and CopyProps copy
    /// with its properties. None (the default): the class holds none.
    fn children_host(&self) -> Option<&dyn AttachHost> {
        None
    }
    /// The attachment, for an attachment (CopyTo copies its embedded message). None (the
    /// default): another class.
    fn attachment(&self) -> Option<&Attachment> {
        None
    }
    /// OpenProperty of a PT_OBJECT property the class opens as an object (an attachment's
    /// PR_ATTACH_DATA_OBJ): the new object's pointer, one reference owned by the caller. None:
    /// the class opens no such property (OpenProperty answers MAPI_E_NO_SUPPORT).
    ///
    /// # Safety
    /// `iid` must be a readable IID.
    unsafe fn open_object(
        &self,
        _tag: u32,
        _iid: *const IID,
        _flags: u32,
    ) -> MapiResult<Option<*mut IUnknown>> {
        Ok(None)
    }
}

/// The property object behind `p`, if `p` is one of ours (any class).
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_prop_object<'a>(p: *mut c_void) -> Option<&'a dyn PropObject> {
    // SAFETY: this function's contract is classes::our_prop_object's.
    unsafe { super::classes::our_prop_object(p) }
}

const COMPONENT: &str = "msgstore";

/// Slot 3.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_last_error<T: PropClass>(
    This: *mut T::Interface,
    hResult: HRESULT,
    ulFlags: ULONG,
    lppMAPIError: *mut LPMAPIERROR,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppMAPIError` is NULL or valid for the reads and writes
    // that GetLastError's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetLastError", |obj| {
            let out = guard::cleared_out(lppMAPIError, "GetLastError: lppMAPIError")?;
            check_flags("GetLastError", ulFlags, MAPI_UNICODE)?;
            *out = object_mapierror(obj.inner.allocator(), obj.last_error(), hResult, ulFlags)?;
            Ok(S_OK)
        })
    }
}

/// GetLastError's result for an object whose last recorded failure is `last`: a MAPIERROR when
/// it is `hResult`'s, else NULL (nothing recorded about that failure: S_OK with no MAPIERROR,
/// as Windows answers; DESIGN.md §2, docs/MAPIUTIL.md).
pub fn object_mapierror(
    alloc: Allocator,
    last: Option<MapiError>,
    hResult: HRESULT,
    ulFlags: ULONG,
) -> MapiResult<*mut MAPIERROR> {
    match last {
        Some(e) if hResult < 0 && e.code == hResult => mapierror_out(
            alloc,
            &e.message,
            COMPONENT,
            hResult as u32,
            ulFlags & MAPI_UNICODE != 0,
        ),
        _ => Ok(ptr::null_mut()),
    }
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
pub unsafe extern "C" fn save_changes<T: PropClass>(
    This: *mut T::Interface,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe {
        guard::method::<T>(This, "SaveChanges", |obj| {
            obj.inner.prop().save_changes(ulFlags)?;
            Ok(S_OK)
        })
    }
}

/// Slot 5.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_props<T: PropClass>(
    This: *mut T::Interface,
    lpPropTagArray: LPSPropTagArray,
    ulFlags: ULONG,
    lpcValues: *mut ULONG,
    lppPropArray: *mut LPSPropValue,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpPropTagArray`, `lpcValues`, `lppPropArray` are NULL or
    // valid for the reads and writes that GetProps's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetProps", |obj| {
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
            // No lock of ours is held while client code runs (DESIGN.md §7). Our own allocator runs
            // none, so the result is resolved, sized and written under the object's lock straight
            // from its values (one copy). A caller's allocator (IPropData) may call back into this
            // very object: the values are snapshotted under the lock and the result is built once
            // it is released.
            let mut result: MapiResult<(*mut SPropValue, usize, bool)> =
                Ok((ptr::null_mut(), 0, false));
            let mut snapshot: Vec<PropOut<'static>> = Vec::new();
            let cap = crate::core::stream::streams_for(obj.inner.prop().object_type());
            obj.inner.prop().read(&mut |view| {
                let resolver = Resolver::new(view, unicode).capping_large_values(cap);
                let Some(tags) = request else {
                    // A NULL list: the view's values walked in order, no lookups.
                    let mut outs = Vec::new();
                    resolver.resolve_all(&mut outs);
                    result = if alloc.runs_client_code() {
                        owned_snapshot(outs.into_iter()).map(|owned| {
                            snapshot = owned;
                            (ptr::null_mut(), 0, false)
                        })
                    } else {
                        whole_props_out(alloc, &outs)
                    };
                    return;
                };
                if alloc.runs_client_code() {
                    result = owned_snapshot(tags.iter().map(|&tag| resolver.resolve(tag))).map(
                        |owned| {
                            snapshot = owned;
                            (ptr::null_mut(), 0, false)
                        },
                    );
                } else {
                    result = resolved_props_out(alloc, tags, |tag| resolver.resolve(tag))
                        .map(|(arr, errors)| (arr, tags.len(), errors));
                }
            })?;
            if alloc.runs_client_code() && result.is_ok() {
                result = whole_props_out(alloc, &snapshot);
            }
            let (arr, n, errors) = result?;
            *out = arr;
            *count = n as u32;
            Ok(if errors { MAPI_W_ERRORS_RETURNED } else { S_OK })
        })
    }
}

/// GetProps's answer for resolved entries: one block (NULL for none), its count, and whether
/// any entry is a PT_ERROR one (MAPI_W_ERRORS_RETURNED).
fn whole_props_out(
    alloc: Allocator,
    outs: &[PropOut],
) -> MapiResult<(*mut SPropValue, usize, bool)> {
    if outs.is_empty() {
        return Ok((ptr::null_mut(), 0, false));
    }
    let errors = outs.iter().any(|o| o.is_error());
    prop_array_out(alloc, outs).map(|p| (p, outs.len(), errors))
}

/// Resolved entries owning their values, to outlive the object's lock. Fallible: the values
/// are as big as callers made them.
fn owned_snapshot<'a>(
    outs: impl ExactSizeIterator<Item = PropOut<'a>>,
) -> MapiResult<Vec<PropOut<'static>>> {
    let mut owned = try_vec_with_capacity(outs.len())?;
    for o in outs {
        owned.push(o.try_into_owned()?);
    }
    Ok(owned)
}

/// Slot 6.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_prop_list<T: PropClass>(
    This: *mut T::Interface,
    ulFlags: ULONG,
    lppPropTagArray: *mut LPSPropTagArray,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppPropTagArray` is NULL or valid for the reads and writes
    // that GetPropList's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetPropList", |obj| {
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
}

/// Slot 7: IID_IStream opens a stream on a PT_BINARY / PT_STRING8 / PT_UNICODE property
/// (abi/stream.rs); other interfaces go to the class (tables, embedded messages).
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn open_property<T: PropClass>(
    This: *mut T::Interface,
    ulPropTag: ULONG,
    lpiid: LPCIID,
    ulInterfaceOptions: ULONG,
    ulFlags: ULONG,
    lppUnk: *mut *mut IUnknown,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpiid`, `lppUnk` are NULL or valid for the reads and
    // writes that OpenProperty's signature declares (the caller's side of the contract, DESIGN.md
    // §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "OpenProperty", |obj| {
            let out = guard::cleared_out(lppUnk, "OpenProperty: lppUnk")?;
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
            if *lpiid == IID_IStream {
                *out = super::stream::open_property_stream(
                    obj.inner.prop(),
                    ulPropTag,
                    ulInterfaceOptions,
                    ulFlags,
                )?;
                return Ok(S_OK);
            }
            // SAFETY: `lpiid` is non-NULL (checked) and readable (the caller's contract).
            match obj.inner.open_object(ulPropTag, lpiid, ulFlags)? {
                Some(unk) => {
                    *out = unk;
                    Ok(S_OK)
                }
                None if crate::core::stream::is_stream_type(ulPropTag & 0xFFFF) => {
                    Err(MapiError::new(
                        MAPI_E_INTERFACE_NOT_SUPPORTED,
                        "OpenProperty: PT_BINARY, PT_STRING8 and PT_UNICODE properties open as \
                         IID_IStream only",
                    ))
                }
                None => Err(MapiError::no_support("OpenProperty")),
            }
        })
    }
}

/// Merges the object's own SetProps problems into the conversion problems, in index order.
fn merge_problems(mut problems: Vec<Problem>, more: Vec<Problem>) -> MapiResult<Vec<Problem>> {
    if !more.is_empty() {
        problems.extend(more);
        problems.sort_by_key(|p| p.index);
    }
    Ok(problems)
}

thread_local! {
    /// The SetProps slot's buffer of converted inputs, kept between calls on a thread (taken
    /// for a call, so a SetProps reached from inside another one makes its own).
    static SET_INPUTS: Cell<Vec<PropInput>> = const { Cell::new(Vec::new()) };
}

/// The most inputs whose buffer [`SET_INPUTS`] keeps (40 bytes each).
const KEPT_INPUTS: usize = 256;

/// Slot 8.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn set_props<T: PropClass>(
    This: *mut T::Interface,
    cValues: ULONG,
    lpPropArray: LPSPropValue,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpPropArray`, `lppProblems` are NULL or valid for the
    // reads and writes that SetProps's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "SetProps", |obj| {
            let out = guard::optional_out(lppProblems);
            if lpPropArray.is_null() {
                return Err(MapiError::invalid("SetProps: lpPropArray is NULL"));
            }
            let mut inputs = SET_INPUTS.take();
            let problems = prop_values_into(cValues, lpPropArray, "SetProps", &mut inputs)
                .and_then(|problems| {
                    merge_problems(problems, obj.inner.prop().set_props_from(&mut inputs)?)
                });
            if inputs.capacity() <= KEPT_INPUTS {
                inputs.clear();
                SET_INPUTS.set(inputs);
            }
            let problems = problems?;
            if let Some(out) = out {
                *out = problems_out(obj.inner.allocator(), problems)?;
            }
            Ok(S_OK)
        })
    }
}

/// Slot 9.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn delete_props<T: PropClass>(
    This: *mut T::Interface,
    lpPropTagArray: LPSPropTagArray,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpPropTagArray`, `lppProblems` are NULL or valid for the
    // reads and writes that DeleteProps's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "DeleteProps", |obj| {
            let out = guard::optional_out(lppProblems);
            let tags = tag_array_in(lpPropTagArray, "DeleteProps: lpPropTagArray")?;
            let problems = obj.inner.prop().delete_props(tags)?;
            if let Some(out) = out {
                *out = problems_out(obj.inner.allocator(), problems)?;
            }
            Ok(S_OK)
        })
    }
}

const COPY_FLAGS: u32 = MAPI_MOVE | MAPI_NOREPLACE | MAPI_DECLINE_OK | MAPI_DIALOG;

/// The interfaces a CopyTo/CopyProps destination may be named by.
///
/// # Safety
/// `lpInterface` must be NULL or point to a readable IID.
unsafe fn check_dest_interface(lpInterface: LPCIID, method: &str) -> MapiResult<()> {
    // SAFETY: NULL or readable (the contract).
    let Some(iid) = (unsafe { lpInterface.as_ref() }) else {
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
/// Values are copied fallibly (they are as big as callers made them).
type Selection = MapiResult<(Vec<Selected>, Vec<Problem>)>;

/// Delivers copied values to the destination: ours directly, a foreign object through its
/// vtable (no lock of ours is held across that call). The problems it returns carry the
/// `Selected::index` of the value they are about, whatever the destination's own indexing;
/// with them come the tags the destination accepted (what MAPI_MOVE may delete).
///
/// # Safety
/// `dest` must be a live COM object that implements IMAPIProp (ours or the caller's).
unsafe fn deliver(
    dest: *mut c_void,
    mut values: Vec<Selected>,
    noreplace: bool,
    from: Option<&Store>,
) -> MapiResult<(Vec<Problem>, Vec<u32>)> {
    // SAFETY: `dest` is a live COM interface pointer (the contract).
    if let Some(ours) = unsafe { our_prop_object(dest) } {
        let mut problems = Vec::new();
        if let (Some(from), Some(to)) = (from, ours.named_store()) {
            renumber_named(from, to, &mut values, &mut problems)?;
        }
        if noreplace {
            let mut present = Vec::new();
            ours.read(&mut |view| present = view.tags())?;
            values.retain(|s| !present.iter().any(|p| prop_id(*p) == prop_id(s.tag)));
        }
        let sent = try_map(&values, |s| (s.index, s.tag))?;
        let mut inputs = try_vec_with_capacity(values.len())?;
        inputs.extend(values.into_iter().map(|s| PropInput {
            index: s.index,
            tag: s.tag,
            value: s.value,
        }));
        problems.extend(ours.set_props(inputs)?);
        return Ok(accepted(problems, &sent));
    }
    let dest = dest as *mut IMAPIProp;
    // SAFETY: `dest` is a live IMAPIProp (the contract): its first word points to a vtable of
    // IMAPIProp's layout, alive as long as the object. The calls below go through it with the
    // arguments that layout declares; no lock of ours is held across them (DESIGN.md §7).
    let vtbl = unsafe { &*(*dest).lpVtbl };
    if noreplace {
        let mut list: LPSPropTagArray = ptr::null_mut();
        // SAFETY: as above; `list` is a valid out-pointer.
        let hr = unsafe { (vtbl.GetPropList)(dest, 0, &mut list) };
        if hr < 0 {
            return Err(MapiError::new(
                hr,
                "CopyTo: the destination's GetPropList failed",
            ));
        }
        // SAFETY: on success GetPropList gave NULL or an SPropTagArray it allocated with
        // MAPIAllocateBuffer (MAPI's rule for results), ours to read and then to free.
        let present = unsafe { optional_tag_array_in(list, "destination property list") }
            .and_then(try_to_vec);
        // SAFETY: as above; freed once.
        unsafe { MAPIFreeBuffer(list as LPVOID) };
        let present = present?;
        values.retain(|s| !present.iter().any(|p| prop_id(*p) == prop_id(s.tag)));
    }
    if values.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let sent = try_map(&values, |s| (s.index, s.tag))?;
    let indices = try_map(&values, |s| s.index)?;
    let mut pairs: Vec<(u32, PropValue)> = try_vec_with_capacity(values.len())?;
    pairs.extend(values.into_iter().map(|s| (s.tag, s.value)));
    let arr = values_out(Allocator::MAPI, &pairs)?;
    let mut problems: LPSPropProblemArray = ptr::null_mut();
    // SAFETY: `vtbl` as above; `arr` is a block of `pairs.len()` SPropValues we made, and
    // `problems` a valid out-pointer.
    let hr = unsafe { (vtbl.SetProps)(dest, pairs.len() as u32, arr, &mut problems) };
    // SAFETY: `arr` came from MAPIAllocateBuffer (Allocator::MAPI) and is freed once.
    unsafe { MAPIFreeBuffer(arr as LPVOID) };
    let result = if hr < 0 {
        Err(MapiError::new(hr, "the destination's SetProps failed"))
    } else {
        // The destination numbers its problems by position in the array we passed it.
        // SAFETY: on success SetProps gave NULL or a problem array it allocated with
        // MAPIAllocateBuffer (MAPI's rule), ours to read and then to free.
        unsafe { problems_in(problems) }.map(|list| {
            list.into_iter()
                .map(|p| Problem {
                    index: indices.get(p.index as usize).copied().unwrap_or(p.index),
                    ..p
                })
                .collect()
        })
    };
    // SAFETY: as above (NULL is a no-op); freed once.
    unsafe { MAPIFreeBuffer(problems as LPVOID) };
    result.map(|problems| accepted(problems, &sent))
}

/// Named properties copied to another of our stores take the numbers their names have there
/// (core::copy::named_renumbering); one whose ID has no name in the source is left out with
/// MAPI_E_UNEXPECTED_ID.
fn renumber_named(
    from: &Store,
    to: &Store,
    values: &mut Vec<Selected>,
    problems: &mut Vec<Problem>,
) -> MapiResult<()> {
    let renumbering = named_renumbering(from, to, values.iter().map(|s| prop_id(s.tag)))?;
    if renumbering.is_empty() {
        return Ok(());
    }
    let mut kept = try_vec_with_capacity(values.len())?;
    for mut s in values.drain(..) {
        match renumbering.id(prop_id(s.tag)) {
            Some(id) => {
                s.tag = prop_tag(s.tag & 0xFFFF, id);
                kept.push(s);
            }
            None => try_push(
                problems,
                Problem {
                    index: s.index,
                    tag: s.tag,
                    scode: MAPI_E_UNEXPECTED_ID,
                },
            )?,
        }
    }
    *values = kept;
    Ok(())
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
///
/// # Safety
/// `lpDestObj` must be NULL or a live COM object implementing IMAPIProp.
unsafe fn copy_common<T: PropClass>(
    obj: &ComObject<T>,
    This: *mut c_void,
    lpDestObj: LPVOID,
    ulFlags: ULONG,
    select: &dyn Fn(&dyn crate::core::props::PropView) -> Selection,
    children: ChildSet,
    lppProblems: Option<&mut LPSPropProblemArray>,
    method: &str,
) -> MapiResult<HRESULT> {
    check_dest(This, lpDestObj, method)?;
    if ulFlags & MAPI_MOVE != 0 {
        // A move out of a read-only object is refused before anything reaches the destination
        // (otherwise the copy would land and only the delete from the source would fail).
        obj.inner.prop().check_writable(method)?;
    }
    let mut selected = Ok((Vec::new(), Vec::new()));
    obj.inner.prop().read(&mut |view| selected = select(view))?;
    let (mut values, mut problems) = selected?;
    let from = obj.inner.prop().named_store();
    // Values left in the store (above 1 MiB) are read whole: the destination gets bytes.
    if let Some(store) = from {
        for s in values.iter_mut() {
            if s.value.is_large() {
                s.value = store.whole_value(s.value.clone())?;
            }
        }
    }
    let noreplace = ulFlags & MAPI_NOREPLACE != 0;
    // SAFETY: `lpDestObj` is non-NULL (check_dest) and a live IMAPIProp object (the contract).
    let (refused, moved) = unsafe { deliver(lpDestObj, values, noreplace, from) }?;
    problems.extend(refused);
    // Attachments and recipients go between our messages (stored or embedded), into the
    // destination's working copy; to any other destination only properties are copied.
    if let (false, Some(src)) = (children.is_empty(), obj.inner.children_host()) {
        // SAFETY: `lpDestObj` is non-NULL and a live COM object (as above).
        if let Some(dest) = unsafe { super::message::our_attach_host(lpDestObj) } {
            let copy = src.copy_children(children)?;
            dest.receive_children(copy, noreplace)?;
            if ulFlags & MAPI_MOVE != 0 {
                src.remove_children(children)?;
            }
        }
    }
    // An attachment's embedded message goes to another of our attachments the same way.
    if let (true, Some(src)) = (children.embedded, obj.inner.attachment()) {
        // SAFETY: `lpDestObj` is non-NULL and a live COM object (as above).
        let dest = unsafe { super::attach::ours(lpDestObj) };
        if let (Some(dest), Some(copy)) = (dest, src.copy_embedded()) {
            dest.receive_embedded(copy, noreplace)?;
            if ulFlags & MAPI_MOVE != 0 {
                src.remove_embedded()?;
            }
        }
    }
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
pub unsafe extern "C" fn copy_to<T: PropClass>(
    This: *mut T::Interface,
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
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `rgiidExclude`, `lpExcludeProps`, `lpInterface`,
    // `lpDestObj`, `lppProblems` are NULL or valid for the reads and writes that CopyTo's
    // signature declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked
    // before any use.
    unsafe {
        guard::method::<T>(This, "CopyTo", |obj| {
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
            let select = |view: &dyn crate::core::props::PropView| -> Selection {
                let mut values = Vec::new();
                let tags = view
                    .tags()
                    .into_iter()
                    .filter(|t| !view.is_computed(*t))
                    .filter(|t| !exclude.iter().any(|e| prop_id(*e) == prop_id(*t)));
                for tag in tags {
                    if let Some(v) = view.get(prop_id(tag)) {
                        let index = values.len() as u32;
                        let value = try_owned(v)?;
                        try_push(&mut values, Selected { index, tag, value })?;
                    }
                }
                Ok((values, Vec::new()))
            };
            copy_common(
                obj,
                This as *mut c_void,
                lpDestObj,
                ulFlags,
                &select,
                ChildSet::all_but(exclude),
                out,
                "CopyTo",
            )
        })
    }
}

/// Slot 11.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn copy_props<T: PropClass>(
    This: *mut T::Interface,
    lpIncludeProps: LPSPropTagArray,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    lpInterface: LPCIID,
    lpDestObj: LPVOID,
    ulFlags: ULONG,
    lppProblems: *mut LPSPropProblemArray,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpIncludeProps`, `lpInterface`, `lpDestObj`, `lppProblems`
    // are NULL or valid for the reads and writes that CopyProps's signature declares (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "CopyProps", |obj| {
            let out = guard::optional_out(lppProblems);
            check_flags("CopyProps", ulFlags, COPY_FLAGS)?;
            let include = tag_array_in(lpIncludeProps, "CopyProps: lpIncludeProps")?;
            check_dest_interface(lpInterface, "CopyProps")?;
            let holds_objects =
                obj.inner.children_host().is_some() || obj.inner.attachment().is_some();
            let select = |view: &dyn crate::core::props::PropView| -> Selection {
                let mut values = Vec::new();
                let mut problems = Vec::new();
                for (i, &tag) in include.iter().enumerate() {
                    if holds_objects && ChildSet::stands_for_children(tag) {
                        continue; // copied as children, not as a value
                    }
                    match view.get(prop_id(tag)) {
                        Some(v) => {
                            let tag = crate::core::value::prop_tag(v.ptype(), prop_id(tag));
                            let value = try_owned(v)?;
                            let index = i as u32;
                            try_push(&mut values, Selected { index, tag, value })?;
                        }
                        None => try_push(
                            &mut problems,
                            Problem {
                                index: i as u32,
                                tag,
                                scode: MAPI_E_NOT_FOUND,
                            },
                        )?,
                    }
                }
                Ok((values, problems))
            };
            copy_common(
                obj,
                This as *mut c_void,
                lpDestObj,
                ulFlags,
                &select,
                ChildSet::named_in(include),
                out,
                "CopyProps",
            )
        })
    }
}

/// The store whose named-property mapping `prop` uses, or MAPI_E_NO_SUPPORT (IPropData).
fn named_store<'a>(prop: &'a dyn PropObject, method: &str) -> MapiResult<&'a Store> {
    prop.named_store()
        .ok_or_else(|| MapiError::no_support(method))
}

/// Tags for named-property IDs (PT_UNSPECIFIED); a missing ID is `PROP_TAG(PT_ERROR, 0)`.
fn named_tags(ids: &[Option<u16>]) -> MapiResult<(Vec<u32>, bool)> {
    let tags = try_map(ids, |id| match id {
        Some(id) => prop_tag(PT_UNSPECIFIED, *id),
        None => prop_tag(PT_ERROR, 0),
    })?;
    Ok((tags, ids.iter().any(Option::is_none)))
}

/// Slot 12 (reference §5.5): the names of the IDs in `*lppPropTags`, or (`*lppPropTags` NULL)
/// of every mapping, then returned in a new `*lppPropTags`; `lpPropSetGuid` and MAPI_NO_STRINGS /
/// MAPI_NO_IDS filter. An ID without a name (unknown, outside 0x8000–0xFFFE, filtered out) gets a
/// NULL entry and MAPI_W_ERRORS_RETURNED.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_names_from_ids<T: PropClass>(
    This: *mut T::Interface,
    lppPropTags: *mut LPSPropTagArray,
    lpPropSetGuid: LPGUID,
    ulFlags: ULONG,
    lpcPropNames: *mut ULONG,
    lpppPropNames: *mut *mut LPMAPINAMEID,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppPropTags`, `lpPropSetGuid`, `lpcPropNames`,
    // `lpppPropNames` are NULL or valid for the reads and writes that GetNamesFromIDs's
    // signature declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked
    // before any use.
    unsafe {
        guard::method::<T>(This, "GetNamesFromIDs", |obj| {
            guard::optional_out(lpppPropNames);
            if let Some(c) = lpcPropNames.as_mut() {
                *c = 0;
            }
            let tags_io = guard::out_ptr(lppPropTags, "GetNamesFromIDs: lppPropTags")?;
            let count = guard::out_ptr(lpcPropNames, "GetNamesFromIDs: lpcPropNames")?;
            let names_out = guard::cleared_out(lpppPropNames, "GetNamesFromIDs: lpppPropNames")?;
            check_flags(
                "GetNamesFromIDs",
                ulFlags,
                MAPI_NO_STRINGS | MAPI_NO_IDS | MAPI_UNICODE,
            )?;
            let guid = if lpPropSetGuid.is_null() {
                None
            } else {
                Some(*(lpPropSetGuid as *const [u8; 16]))
            };
            let filter = NameFilter::from_flags(guid, ulFlags);
            let request = if tags_io.is_null() {
                None
            } else {
                Some(tag_array_in(*tags_io, "GetNamesFromIDs: *lppPropTags")?)
            };
            let store = named_store(obj.inner.prop(), "GetNamesFromIDs")?;
            let alloc = obj.inner.allocator();
            let Some(tags) = request else {
                let all = named::all_names(store.storage(), filter)?;
                let tags = try_map(&all, |(id, _)| prop_tag(PT_UNSPECIFIED, *id))?;
                let refs = try_map(&all, |(_, n)| Some(n))?;
                let names = prop_names_out(alloc, &refs)?;
                let tags = match tag_array_out(alloc, &tags) {
                    Ok(t) => t,
                    Err(e) => {
                        alloc.free(names as *mut c_void);
                        return Err(e);
                    }
                };
                *tags_io = tags;
                *names_out = names;
                *count = all.len() as u32;
                return Ok(S_OK);
            };
            let ids = try_map(tags, |t| prop_id(*t))?;
            let found = named::names_from_ids(store.storage(), &ids, filter)?;
            let refs = try_map(&found, Option::as_ref)?;
            *names_out = prop_names_out(alloc, &refs)?;
            *count = found.len() as u32;
            Ok(if found.iter().any(Option::is_none) {
                MAPI_W_ERRORS_RETURNED
            } else {
                S_OK
            })
        })
    }
}

/// Slot 13 (reference §5.5): each name's ID as a PT_UNSPECIFIED tag, in request order; with
/// MAPI_CREATE, new names get new IDs (MAPI_E_TOO_BIG past the store's quota). A name without
/// an ID gets `PROP_TAG(PT_ERROR, 0)` and MAPI_W_ERRORS_RETURNED. `lppPropNames` NULL (with
/// `cPropNames` 0, without MAPI_CREATE) lists every ID the store has given.
///
/// # Safety
/// Called through our vtables only.
pub unsafe extern "C" fn get_ids_from_names<T: PropClass>(
    This: *mut T::Interface,
    cPropNames: ULONG,
    lppPropNames: *mut LPMAPINAMEID,
    ulFlags: ULONG,
    lppPropTags: *mut LPSPropTagArray,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppPropNames`, `lppPropTags` are NULL or valid for the
    // reads and writes that GetIDsFromNames's signature declares (the caller's side of the
    // contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetIDsFromNames", |obj| {
            let out = guard::cleared_out(lppPropTags, "GetIDsFromNames: lppPropTags")?;
            check_flags("GetIDsFromNames", ulFlags, MAPI_CREATE | MAPI_UNICODE)?;
            let create = ulFlags & MAPI_CREATE != 0;
            if lppPropNames.is_null() {
                if cPropNames != 0 {
                    return Err(MapiError::invalid(format!(
                        "GetIDsFromNames: lppPropNames is NULL with cPropNames {cPropNames}"
                    )));
                }
                if create {
                    return Err(MapiError::invalid(
                        "GetIDsFromNames: MAPI_CREATE needs names (lppPropNames is NULL)",
                    ));
                }
                let store = named_store(obj.inner.prop(), "GetIDsFromNames")?;
                let ids = named::all_ids(store.storage())?;
                let tags = try_map(&ids, |id| prop_tag(PT_UNSPECIFIED, *id))?;
                *out = tag_array_out(obj.inner.allocator(), &tags)?;
                return Ok(S_OK);
            }
            if cPropNames == 0 {
                return Err(MapiError::invalid(
                    "GetIDsFromNames: cPropNames is 0 with names (NULL asks for all)",
                ));
            }
            let names = slice_in(lppPropNames, cPropNames, "GetIDsFromNames: lppPropNames")?;
            let names = prop_names_in(names)?;
            let store = named_store(obj.inner.prop(), "GetIDsFromNames")?;
            let ids = store.ids_from_names(&names, create)?;
            let (tags, errors) = named_tags(&ids)?;
            *out = tag_array_out(obj.inner.allocator(), &tags)?;
            Ok(if errors { MAPI_W_ERRORS_RETURNED } else { S_OK })
        })
    }
}

/// A slot this provider does not implement yet: MAPI_E_NO_SUPPORT, never a crash (DESIGN.md §2).
pub fn not_supported(method: &str) -> MapiResult<HRESULT> {
    Err(MapiError::no_support(method))
}
