//! Recognising our own objects among the COM pointers C hands back to us (a CopyTo destination,
//! a folder named by a resolver): by vtable address, the one field every COM object has.

use crate::core::props::PropObject;
use std::ffi::c_void;

/// The property object behind `p` if `p` is one of our objects, of any class.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_prop_object<'a>(p: *mut c_void) -> Option<&'a dyn PropObject> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's
    // contract), which is all each class's `ours` asks: it reads only the vtable pointer until
    // that vtable proves the object is of its class.
    if let Some(o) = unsafe { super::propdata::ours(p) } {
        return Some(o);
    }
    // SAFETY: as above.
    if let Some(m) = unsafe { super::message::ours(p) } {
        return Some(m);
    }
    // SAFETY: as above.
    if let Some(f) = unsafe { super::folder::ours(p) } {
        return Some(f);
    }
    // SAFETY: as above.
    if let Some(a) = unsafe { super::attach::ours(p) } {
        return Some(a);
    }
    // SAFETY: as above.
    if let Some(e) = unsafe { super::message::our_embedded(p) } {
        return Some(e);
    }
    // SAFETY: as above.
    unsafe { super::store::ours_object(p) }
}
