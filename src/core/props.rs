//! The property-object model every IMAPIProp implementation shares: a readable view, the GetProps
//! resolution rules (reference §5.2), the SetProps inputs and problem entries, and the trait the
//! C boundary's generic IMAPIProp slots delegate to.

use super::error::{MapiError, MapiResult};
use super::mapidefs::*;
use super::stream::{is_stream_type, GETPROPS_MAX_BYTES};
use super::value::{
    change_prop_type, prop_id, prop_tag, prop_type, try_owned, try_string, try_to_vec, PropValue,
};
use std::borrow::Cow;

/// A property set with one value per property ID (a later value with the same ID, of any type,
/// replaces the earlier one: DESIGN.md §2).
pub use super::propmap::PropMap;

/// What a reader sees of an object while its lock is held.
pub trait PropView {
    /// The value for a property ID, stored or computed.
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>>;
    /// Every tag the object has, in a stable order (stored first, then computed ones).
    fn tags(&self) -> Vec<u32>;
    /// PT_OBJECT properties the object advertises (GetPropList lists them; their values are only
    /// reachable through OpenProperty).
    fn object_tags(&self) -> Vec<u32> {
        Vec::new()
    }
    /// Computed or read-only properties: readable, never copied, rejected by SetProps.
    fn is_computed(&self, _tag: u32) -> bool {
        false
    }
    /// A number that moves whenever any of the object's values may have changed, so that a
    /// reader can tell a value it saw before from another one at the same address (a stream's
    /// place in a PT_UNICODE value, core/stream.rs). None: the object does not count.
    fn revision(&self) -> Option<u64> {
        None
    }
    /// About how many tags [`PropView::tags`] has (a capacity to reserve; 0: unknown).
    fn len_hint(&self) -> usize {
        0
    }
    /// Every tag of [`PropView::tags`] with its value, in that order (GetProps with a NULL tag
    /// list). This default looks each one up; a view that holds its values in order walks
    /// them instead.
    fn for_each_value<'s>(&'s self, f: &mut dyn FnMut(u32, Option<Cow<'s, PropValue>>)) {
        for tag in self.tags() {
            f(tag, self.get(prop_id(tag)));
        }
    }
    /// The view's values as one map, when every property it does not compute is read straight
    /// from that map ([`PlainValues`]), and [`PropView::for_each_value`] is that map's values in
    /// order (those it computes read with `get`) followed by [`PropView::for_each_computed`].
    /// None (the default): each lookup goes through [`PropView::get`].
    fn plain(&self) -> Option<PlainValues<'_>> {
        None
    }
    /// With [`PropView::plain`]: what [`PropView::for_each_value`] hands out after the map's
    /// values (the properties only computed). Nothing by default.
    fn for_each_computed<'s>(&'s self, _f: &mut dyn FnMut(u32, Option<Cow<'s, PropValue>>)) {}
}

/// A view's values as one map, for a view whose properties are that map's apart from the IDs
/// it computes (a message with no pending change): GetProps reads the map itself, with no
/// dynamic call and no `Cow` per tag, and goes through [`PropView::get`] for computed IDs only.
#[derive(Clone, Copy)]
pub struct PlainValues<'a> {
    pub values: &'a PropMap,
    /// One bit per property ID the view computes (read through [`PropView::get`]).
    pub computed: &'static [u64; 1024],
}

/// No property ID computed: a [`PlainValues`] that is its map alone.
pub static NONE_COMPUTED: [u64; 1024] = [0; 1024];

impl PlainValues<'_> {
    #[inline(always)]
    fn computes(&self, id: u16) -> bool {
        let id = id as usize;
        self.computed[id / 64] & (1 << (id % 64)) != 0
    }
}

impl PropView for PropMap {
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        PropMap::get(self, &id).map(Cow::Borrowed)
    }
    fn tags(&self) -> Vec<u32> {
        self.iter()
            .map(|(id, v)| prop_tag(v.ptype(), *id))
            .collect()
    }
    fn len_hint(&self) -> usize {
        self.len()
    }
    fn for_each_value<'s>(&'s self, f: &mut dyn FnMut(u32, Option<Cow<'s, PropValue>>)) {
        for (id, v) in self.iter() {
            f(prop_tag(v.ptype(), *id), Some(Cow::Borrowed(v)));
        }
    }
    fn plain(&self) -> Option<PlainValues<'_>> {
        Some(PlainValues {
            values: self,
            computed: &NONE_COMPUTED,
        })
    }
}

/// One entry of a GetProps result, in request order.
pub enum PropOut<'a> {
    /// A value the view lends, as stored.
    Lent(u32, &'a PropValue),
    Value(u32, Cow<'a, PropValue>),
    /// A PT_OBJECT property: present, but its value is only reachable through OpenProperty.
    Object(u32),
    /// `CHANGE_PROP_TYPE(tag, PT_ERROR)` with the SCODE that says why.
    Error(u32, i32),
    /// A PT_UNICODE entry written from UTF-8 text the view lends (a PT_STRING8 value checked
    /// as UTF-8): the width conversion happens as the entry is written, with no copy between.
    Wide(u32, &'a str),
    /// A PT_STRING8 entry written from the UTF-8 bytes of a PT_UNICODE value the view lends.
    Narrow(u32, &'a [u8]),
}

impl PropOut<'_> {
    pub fn is_error(&self) -> bool {
        matches!(self, PropOut::Error(..))
    }

    /// The same entry owning its value: a snapshot that outlives the object's lock. The copy is
    /// fallible (MAPI_E_NOT_ENOUGH_MEMORY): values are as big as callers made them.
    pub fn try_into_owned(self) -> MapiResult<PropOut<'static>> {
        Ok(match self {
            PropOut::Lent(tag, v) => PropOut::Value(tag, Cow::Owned(v.try_clone()?)),
            PropOut::Value(tag, v) => PropOut::Value(tag, Cow::Owned(try_owned(v)?)),
            PropOut::Object(tag) => PropOut::Object(tag),
            PropOut::Error(tag, sc) => PropOut::Error(tag, sc),
            PropOut::Wide(tag, s) => {
                PropOut::Value(tag, Cow::Owned(PropValue::Unicode(try_string(s)?)))
            }
            PropOut::Narrow(tag, b) => {
                PropOut::Value(tag, Cow::Owned(PropValue::String8(try_to_vec(b)?)))
            }
        })
    }
}

/// Resolves a GetProps request against a view: request order, requested types, PT_UNSPECIFIED
/// filled in, string widths converted, missing properties as PT_ERROR / MAPI_E_NOT_FOUND.
pub fn resolve_props<'a>(
    view: &'a dyn PropView,
    request: Option<&[u32]>,
    unicode: bool,
) -> Vec<PropOut<'a>> {
    let resolver = Resolver::new(view, unicode);
    match request {
        Some(tags) => tags.iter().map(|&tag| resolver.resolve(tag)).collect(),
        None => {
            let mut all = Vec::new();
            resolver.resolve_all(&mut all);
            all
        }
    }
}

/// GetProps's rules for one tag at a time ([`resolve_props`]), so that a caller can size and
/// write its result as it resolves (no intermediate list).
pub struct Resolver<'a> {
    view: &'a dyn PropView,
    plain: Option<PlainValues<'a>>,
    objects: Vec<u32>,
    unicode: bool,
    cap_large: bool,
}

impl<'a> Resolver<'a> {
    pub fn new(view: &'a dyn PropView, unicode: bool) -> Resolver<'a> {
        Resolver {
            view,
            plain: view.plain(),
            objects: view.object_tags(),
            unicode,
            cap_large: false,
        }
    }

    /// Answers a string or binary above [`GETPROPS_MAX_BYTES`] with PT_ERROR,
    /// MAPI_E_NOT_ENOUGH_MEMORY (for objects whose properties open as streams), before any
    /// conversion copies it.
    pub fn capping_large_values(mut self, cap: bool) -> Resolver<'a> {
        self.cap_large = cap;
        self
    }

    /// The entry GetProps returns for `tag`.
    #[inline(always)]
    pub fn resolve(&self, tag: u32) -> PropOut<'a> {
        let id = prop_id(tag);
        if let Some(obj) = self.object(tag) {
            return obj;
        }
        let value = match self.plain {
            Some(plain) if !plain.computes(id) => plain.values.get(&id).map(Cow::Borrowed),
            _ => self.view.get(id),
        };
        match value {
            Some(value) => self.resolve_value(tag, value),
            None => PropOut::Error(change_prop_type(tag, PT_ERROR), MAPI_E_NOT_FOUND),
        }
    }

    /// Every entry GetProps with a NULL tag list returns (each tag as PT_UNSPECIFIED), in
    /// [`PropView::tags`] order, walking the view's values instead of looking each one up.
    pub fn resolve_all(&self, out: &mut Vec<PropOut<'a>>) {
        out.reserve(self.view.len_hint());
        if let Some(plain) = self.plain {
            // The map walked here, each value lent with no call per value.
            for (&id, stored) in plain.values.iter() {
                let tag = prop_tag(PT_UNSPECIFIED, id);
                out.push(if let Some(obj) = self.object(tag) {
                    obj
                } else if plain.computes(id) {
                    match self.view.get(id) {
                        Some(value) => self.resolve_value(tag, value),
                        None => PropOut::Error(prop_tag(PT_ERROR, id), MAPI_E_NOT_FOUND),
                    }
                } else {
                    self.resolve_lent(tag, stored)
                });
            }
            self.view
                .for_each_computed(&mut |tag, value| out.push(self.resolve_listed(tag, value)));
            return;
        }
        self.view
            .for_each_value(&mut |tag, value| out.push(self.resolve_listed(tag, value)));
    }

    /// The entry of a NULL list for `tag` (any type) whose property has `value`.
    #[inline(always)]
    fn resolve_listed(&self, tag: u32, value: Option<Cow<'a, PropValue>>) -> PropOut<'a> {
        let tag = change_prop_type(tag, PT_UNSPECIFIED);
        match (self.object(tag), value) {
            (Some(obj), _) => obj,
            (None, Some(value)) => self.resolve_value(tag, value),
            (None, None) => PropOut::Error(change_prop_type(tag, PT_ERROR), MAPI_E_NOT_FOUND),
        }
    }

    /// The PT_OBJECT entry for a request of an object property as PT_UNSPECIFIED or PT_OBJECT.
    fn object(&self, tag: u32) -> Option<PropOut<'a>> {
        if self.objects.is_empty() {
            return None;
        }
        let id = prop_id(tag);
        let &obj = self.objects.iter().find(|t| prop_id(**t) == id)?;
        matches!(prop_type(tag), PT_UNSPECIFIED | PT_OBJECT).then_some(PropOut::Object(obj))
    }

    /// The entry for a request of `tag` whose property has `value`.
    #[inline(always)]
    fn resolve_value(&self, tag: u32, value: Cow<'a, PropValue>) -> PropOut<'a> {
        match value {
            Cow::Borrowed(v) => self.resolve_lent(tag, v),
            Cow::Owned(v) => self.resolve_owned(tag, v),
        }
    }

    /// [`Resolver::resolve_value`] for a value the view lends: handed out as a reference, a
    /// string in the other width converted only as it is written.
    #[inline(always)]
    fn resolve_lent(&self, tag: u32, value: &'a PropValue) -> PropOut<'a> {
        let want = match self.wanted_type(tag, value) {
            Ok(want) => want,
            Err(error) => return error,
        };
        let out_tag = change_prop_type(tag, want);
        if want == value.ptype() {
            return PropOut::Lent(out_tag, value);
        }
        match (value, want) {
            (PropValue::String8(b), PT_UNICODE) => match std::str::from_utf8(b) {
                Ok(s) => PropOut::Wide(out_tag, s),
                Err(_) => PropOut::Error(change_prop_type(tag, PT_ERROR), MAPI_E_BAD_CHARWIDTH),
            },
            (PropValue::Unicode(s), PT_STRING8) => PropOut::Narrow(out_tag, s.as_bytes()),
            _ => converted(tag, value, want),
        }
    }

    /// [`Resolver::resolve_value`] for a value the view computed for this call.
    fn resolve_owned(&self, tag: u32, value: PropValue) -> PropOut<'a> {
        match self.wanted_type(tag, &value) {
            Ok(want) if want == value.ptype() => {
                PropOut::Value(change_prop_type(tag, want), Cow::Owned(value))
            }
            Ok(want) => converted(tag, &value, want),
            Err(error) => error,
        }
    }

    /// The type a request of `tag` returns `value` as (PT_UNSPECIFIED filled in at the asked
    /// width), or its PT_ERROR entry when the value is too large to return (checked before
    /// any conversion copies it).
    #[inline(always)]
    fn wanted_type(&self, tag: u32, value: &PropValue) -> Result<u32, PropOut<'static>> {
        let want = match prop_type(tag) {
            PT_UNSPECIFIED => super::value::type_in_width(value.ptype(), self.unicode),
            want => want,
        };
        if value.is_large()
            || self.cap_large && is_stream_type(want) && stream_size(value) > GETPROPS_MAX_BYTES
        {
            let error = too_large_error(value, want);
            return Err(PropOut::Error(change_prop_type(tag, PT_ERROR), error));
        }
        Ok(want)
    }
}

/// `value.stored_size()`, inlined for the values a stream type is asked of.
#[inline(always)]
fn stream_size(value: &PropValue) -> u64 {
    match value {
        PropValue::String8(b) | PropValue::Binary(b) => b.len() as u64,
        PropValue::Unicode(s) => s.len() as u64,
        _ => value.stored_size(),
    }
}

/// The entry for a request of `tag` as `want`, a type `value` converts to (a copy), or its
/// PT_ERROR entry.
fn converted<'a>(tag: u32, value: &PropValue, want: u32) -> PropOut<'a> {
    match value.converted_to(want) {
        Some(Ok(v)) => PropOut::Value(change_prop_type(tag, want), Cow::Owned(v)),
        Some(Err(e)) => PropOut::Error(change_prop_type(tag, PT_ERROR), e.code),
        None => PropOut::Error(change_prop_type(tag, PT_ERROR), MAPI_E_NOT_FOUND),
    }
}

/// GetProps's error for a value above [`GETPROPS_MAX_BYTES`] asked for as `want`: too large to
/// return, if it can be returned as `want` at all (a width conversion keeps the UTF-8 bytes
/// `stored_size` counts), decided without copying it; else the conversion's own error.
#[cold]
#[inline(never)]
fn too_large_error(value: &PropValue, want: u32) -> i32 {
    match (value, want) {
        _ if want == value.ptype() => MAPI_E_NOT_ENOUGH_MEMORY,
        (PropValue::Unicode(_), PT_STRING8) => MAPI_E_NOT_ENOUGH_MEMORY,
        (PropValue::String8(b), PT_UNICODE) => match std::str::from_utf8(b) {
            Ok(_) => MAPI_E_NOT_ENOUGH_MEMORY,
            Err(_) => MAPI_E_BAD_CHARWIDTH,
        },
        _ => MAPI_E_NOT_FOUND,
    }
}

/// The GetPropList answer: every tag, PT_OBJECT ones included, strings at the requested width.
pub fn prop_list(view: &dyn PropView, unicode: bool) -> Vec<u32> {
    let mut tags: Vec<u32> = view
        .tags()
        .into_iter()
        .map(|t| {
            let wide = match prop_type(t) {
                PT_STRING8 | PT_UNICODE if unicode => PT_UNICODE,
                PT_STRING8 | PT_UNICODE => PT_STRING8,
                PT_MV_STRING8 | PT_MV_UNICODE if unicode => PT_MV_UNICODE,
                PT_MV_STRING8 | PT_MV_UNICODE => PT_MV_STRING8,
                other => other,
            };
            change_prop_type(t, wide)
        })
        .collect();
    tags.extend(view.object_tags());
    tags
}

/// SaveChanges's valid flags, for every kind of object (DESIGN.md §4): FORCE_SAVE is a bit that
/// combines with the KEEP_OPEN bits; MAPI_DEFERRED_ERRORS is accepted.
pub(crate) const SAVE_CHANGES_FLAGS: u32 =
    KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS;

/// One validated SetProps entry; `index` is its position in the caller's array.
#[derive(Debug, Clone)]
pub struct PropInput {
    pub index: u32,
    pub tag: u32,
    pub value: PropValue,
}

/// One per-property problem (an `SPropProblem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub index: u32,
    pub tag: u32,
    pub scode: i32,
}

/// What every IMAPIProp implementation provides to the generic C slots.
pub trait PropObject: Send + Sync + 'static {
    /// Calls `f` with the object's current view, under the object's lock. `f` must not call
    /// into client code.
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()>;
    /// Applies validated values (or buffers them, for transacted objects); per-property failures
    /// come back as problems.
    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>>;
    /// [`PropObject::set_props`] from a buffer its caller keeps: the inputs are taken out of
    /// `props` (those left after an error are the caller's to drop). An object that applies
    /// them one by one leaves the buffer's memory to its caller for the next call (SetProps's
    /// hot path: a buffer of 50 inputs is 2 KB, and allocating that much on every call also
    /// made glibc consolidate its fast bins each time); the default hands the vector over.
    fn set_props_from(&self, props: &mut Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        self.set_props(std::mem::take(props))
    }
    /// Deletes by property ID (types ignored); `index` in problems is the tag's position.
    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>>;
    /// Commits (transacted objects) or checks flags (non-transacted ones).
    fn save_changes(&self, flags: u32) -> MapiResult<()>;
    /// MAPI_E_NO_ACCESS if the object (or its store) is read-only: for callers that must know
    /// before they act, such as a MAPI_MOVE that would otherwise copy and then fail to delete.
    fn check_writable(&self, method: &str) -> MapiResult<()>;
    /// The PR_OBJECT_TYPE value (MAPI_MESSAGE, MAPI_FOLDER, MAPI_STORE, or 0 for IPropData).
    fn object_type(&self) -> u32;
    /// The store whose named-property mapping the object uses (GetIDsFromNames and
    /// GetNamesFromIDs); None (the default): the object has no named properties and those
    /// methods return MAPI_E_NO_SUPPORT.
    fn named_store(&self) -> Option<&super::store::Store> {
        None
    }
    /// What a stream opened on one of the object's properties reaches it through
    /// (core/stream.rs); None (the default): its properties do not open as streams.
    fn stream_owner(&self) -> Option<std::sync::Arc<dyn super::stream::StreamOwner>> {
        None
    }
}

/// Builds the problem for a computed or read-only property that SetProps or DeleteProps met.
pub fn computed_problem(index: u32, tag: u32) -> Problem {
    Problem {
        index,
        tag,
        scode: MAPI_E_COMPUTED,
    }
}

/// The problem of a value larger than the store's engine stores.
pub fn too_big_problem(index: u32, tag: u32) -> Problem {
    Problem {
        index,
        tag,
        scode: MAPI_E_TOO_BIG,
    }
}

/// Applies validated inputs to a plain property map (the non-transacted objects' SetProps).
pub fn apply_inputs(map: &mut PropMap, props: Vec<PropInput>) {
    for p in props {
        map.insert(prop_id(p.tag), p.value);
    }
}

/// The error a write to a read-only object gets.
pub fn read_only_error(what: &str) -> MapiError {
    MapiError::no_access(format!("{what} is open read-only"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_mistyped_properties_are_not_found_errors() {
        let mut map = PropMap::new();
        map.insert(0x0037, PropValue::String8(b"hi".to_vec()));
        let out = resolve_props(&map, Some(&[PR_SUBJECT_W, 0x0037_0003, PR_BODY_A]), false);
        assert!(matches!(&out[0], PropOut::Wide(PR_SUBJECT_W, "hi")));
        assert!(matches!(
            out[1],
            PropOut::Error(0x0037_000A, MAPI_E_NOT_FOUND)
        ));
        assert!(matches!(
            out[2],
            PropOut::Error(0x1000_000A, MAPI_E_NOT_FOUND)
        ));
        // Lent in the other width only when it converts: bytes that are not UTF-8 have no
        // PT_UNICODE form.
        map.insert(0x0038, PropValue::String8(vec![b'a', 0xC3]));
        let out = resolve_props(&map, Some(&[0x0038_001F, 0x0038_0000]), true);
        assert!(matches!(
            out[..],
            [
                PropOut::Error(0x0038_000A, MAPI_E_BAD_CHARWIDTH),
                PropOut::Error(0x0038_000A, MAPI_E_BAD_CHARWIDTH)
            ]
        ));
    }

    /// Values above the GetProps cap answer as a conversion would have: the cap's error when
    /// the value can be returned as asked, the conversion's own error when it cannot.
    #[test]
    fn large_values_are_capped_only_where_they_could_be_returned() {
        let big = GETPROPS_MAX_BYTES as usize + 1;
        let mut map = PropMap::new();
        map.insert(0x0037, PropValue::String8(vec![b'a'; big]));
        map.insert(0x0038, PropValue::String8(vec![0xC3; big]));
        map.insert(0x0039, PropValue::Binary(vec![0; big]));
        map.insert(0x003A, PropValue::Unicode("x".repeat(big)));
        let request = [
            0x0037_001F,
            0x0037_001E,
            0x0038_001F,
            0x0039_001E,
            0x003A_001E,
            0x0039_0102,
        ];
        let resolver = Resolver::new(&map, true).capping_large_values(true);
        let codes: Vec<i32> = request
            .iter()
            .map(|&t| match resolver.resolve(t) {
                PropOut::Error(_, sc) => sc,
                _ => 0,
            })
            .collect();
        assert_eq!(
            codes,
            [
                MAPI_E_NOT_ENOUGH_MEMORY,
                MAPI_E_NOT_ENOUGH_MEMORY,
                MAPI_E_BAD_CHARWIDTH,
                MAPI_E_NOT_FOUND,
                MAPI_E_NOT_ENOUGH_MEMORY,
                MAPI_E_NOT_ENOUGH_MEMORY,
            ]
        );
        let uncapped = Resolver::new(&map, true);
        assert!(matches!(
            uncapped.resolve(0x0037_001F),
            PropOut::Wide(0x0037_001F, s) if s.len() == big
        ));
    }

    #[test]
    fn unspecified_and_null_list_follow_mapi_unicode() {
        let mut map = PropMap::new();
        map.insert(0x0037, PropValue::Unicode("x".into()));
        let narrow = resolve_props(&map, None, false);
        assert!(matches!(&narrow[0], PropOut::Narrow(PR_SUBJECT_A, b"x")));
        let wide = resolve_props(&map, Some(&[0x0037_0000]), true);
        assert!(matches!(&wide[0], PropOut::Lent(PR_SUBJECT_W, _)));
        assert_eq!(prop_list(&map, true), vec![PR_SUBJECT_W]);
    }
}
