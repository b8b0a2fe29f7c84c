//! Recognising our own objects among the COM pointers C hands back to us (a CopyTo destination,
//! a folder named by a resolver): by vtable address, the one field every COM object has.

use crate::core::props::PropObject;
use std::ffi::c_void;

/// The property object behind `p` if `p` is one of our objects, of any class.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_prop_object<'a>(p: *mut c_void) -> Option<&'a dyn PropObject> {
    if let Some(o) = super::propdata::ours(p) {
        return Some(o);
    }
    if let Some(m) = super::message::ours(p) {
        return Some(m);
    }
    if let Some(f) = super::folder::ours(p) {
        return Some(f);
    }
    super::store::ours_object(p)
}
