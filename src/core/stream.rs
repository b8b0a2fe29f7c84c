//! Streams on properties: OpenProperty(…, IID_IStream, …) on a PT_BINARY, PT_STRING8 or
//! PT_UNICODE property (reference §1.5, §5.5; DESIGN.md §9).
//!
//! A stream belongs to one property of one object. Its Commit puts its bytes into that object as
//! SetProps would: a message's or attachment's working copy (stored only by the message's
//! SaveChanges, inside its compare-and-swap, and lost with it in a conflict), a folder at once
//! (folders are not transacted). Revert goes back to the object's current value.
//!
//! Memory: a stream holds a value's bytes at most once besides its object. Until its first write
//! it reads the object's value in place (no copy); a write takes a private copy (MAPI_CREATE
//! starts empty, so a stream that writes a new value never copies); Commit moves that copy into
//! the object and the stream reads in place again. A PT_UNICODE stream is the exception: its
//! UTF-16 bytes are not how the value is held, so it keeps them.
//!
//! Lifetime: like the attachments a message hands out (message/attach.rs), a stream on a message,
//! attachment or embedded message holds its object weakly. Once the client released the object,
//! every call on the stream fails with MAPI_E_INVALID_OBJECT (docs/BAD_INPUT.md): its bytes have
//! nowhere to go, and failing says so where keeping the object alive would lose them silently.
//! A folder's stream keeps what it needs to write the folder (the store and the folder's ID).

use super::error::{check_flags, MapiError, MapiResult};
use super::mapidefs::*;
use super::props::{PropInput, PropObject};
use super::store::read_whole;
use super::value::{prop_id, prop_type, LargeRef, PropValue};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::Arc;

/// The object a stream belongs to, as the stream reaches it.
pub trait StreamOwner: Send + Sync {
    /// The object, while its client still holds it (None once released).
    fn object(&self) -> Option<Box<dyn PropObject>>;
    /// The largest value the object's store keeps (Engine::max_value_bytes).
    fn max_value_bytes(&self) -> u64;
    /// Up to `buf.len()` bytes from `offset` of a value the object left in its store
    /// (`PropValue::Large`; Store::read_large). Objects that hold every value never have one.
    fn read_large(&self, _at: &LargeRef, _offset: u64, _buf: &mut [u8]) -> MapiResult<usize> {
        Err(MapiError::new(
            MAPI_E_NO_SUPPORT,
            "this object keeps no values in its store",
        ))
    }
}

/// How much of a value left in the store a stream reads at once: a client reading 4 KiB at a
/// time costs one store read per window, not one per call (a round trip, for a server engine).
const WINDOW_BYTES: usize = 1 << 20;

/// The piece of a value left in the store that a stream read last.
struct Window {
    at: LargeRef,
    start: u64,
    bytes: Vec<u8>,
}

/// The ulFlags OpenProperty accepts for a stream.
pub(crate) const OPEN_FLAGS: u32 = MAPI_MODIFY | MAPI_CREATE | MAPI_DEFERRED_ERRORS | STREAM_APPEND;
/// The STGM_* bits OpenProperty accepts in ulInterfaceOptions (share and transaction modes are
/// accepted and mean nothing more here: every stream is private to its opener until Commit).
pub(crate) const OPEN_STGM: u32 = 0x3
    | STGM_SHARE_EXCLUSIVE
    | STGM_SHARE_DENY_WRITE
    | STGM_SHARE_DENY_READ
    | STGM_SHARE_DENY_NONE
    | STGM_CREATE
    | STGM_TRANSACTED;
/// Commit's accepted STGC_* bits.
const COMMIT_FLAGS: u32 = STGC_OVERWRITE
    | STGC_ONLYIFCURRENT
    | STGC_DANGEROUSLYCOMMITMERELYTODISKCACHE
    | STGC_CONSOLIDATE;
/// Positions and sizes end below 2^63 (IStream's LARGE_INTEGER moves are signed).
const MAX_POSITION: u64 = i64::MAX as u64;

/// The largest PT_BINARY / PT_STRING8 / PT_UNICODE value (in stored bytes, PropValue::stored_size)
/// GetProps returns from an object whose properties open as streams (a message, an attachment, an
/// embedded message, a folder). A larger one is PT_ERROR with MAPI_E_NOT_ENOUGH_MEMORY, as MAPI
/// answers for large bodies (reference §5.2): the caller reads it with OpenProperty(IID_IStream).
/// 1 MiB: large enough that ordinary properties never meet it, small enough that GetProps never
/// copies a large body into one MAPIAllocateBuffer block. IPropData and the store object return
/// values whole.
pub const GETPROPS_MAX_BYTES: u64 = 1 << 20;

/// Whether objects of `object_type` (PR_OBJECT_TYPE) open their properties as streams, and so
/// answer GetProps of a large value with MAPI_E_NOT_ENOUGH_MEMORY.
pub fn streams_for(object_type: u32) -> bool {
    matches!(object_type, MAPI_MESSAGE | MAPI_ATTACH | MAPI_FOLDER)
}

/// The error every call on a stream whose object was released gets.
pub fn released() -> MapiError {
    MapiError::new(
        MAPI_E_INVALID_OBJECT,
        "the object this stream belongs to was released; the stream can no longer be used",
    )
}

pub(crate) fn stg(code: i32, message: impl Into<String>) -> MapiError {
    MapiError::new(code, message)
}

/// What a stream's bytes are now.
enum Content {
    /// The object's current value, read in place.
    Object,
    /// The stream's own bytes; `dirty` when they differ from what the object holds.
    Own { bytes: Vec<u8>, dirty: bool },
}

/// One opened stream (IStream). Clones share the bytes and have positions of their own.
pub struct PropStream {
    owner: Arc<dyn StreamOwner>,
    tag: u32,
    writable: bool,
    content: Arc<Mutex<Content>>,
    pos: Mutex<u64>,
    /// Read ahead from a value left in the store (Content::Object on a `PropValue::Large`).
    window: Mutex<Option<Window>>,
}

/// Whether values of `ptype` open as streams.
pub fn is_stream_type(ptype: u32) -> bool {
    matches!(ptype, PT_BINARY | PT_STRING8 | PT_UNICODE)
}

/// The bytes a value reads as in place, if it is held as the stream presents it.
fn in_place(value: &PropValue, ptype: u32) -> Option<&[u8]> {
    match (value, ptype) {
        (PropValue::Binary(b), PT_BINARY) | (PropValue::String8(b), PT_STRING8) => Some(b),
        _ => None,
    }
}

/// A value as a stream's bytes: PT_STRING8 without its terminator, PT_UNICODE as UTF-16LE
/// without one.
fn to_bytes(value: &PropValue, ptype: u32) -> MapiResult<Vec<u8>> {
    let fail = |_| MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "the value is too large to copy");
    let value = match value.converted_to(ptype) {
        Some(v) => v?,
        None => {
            return Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                "OpenProperty: the property has a value of another type",
            ))
        }
    };
    Ok(match value {
        PropValue::Binary(b) | PropValue::String8(b) => b,
        PropValue::Unicode(s) => {
            let mut out = Vec::new();
            out.try_reserve_exact(s.len() * 2).map_err(fail)?;
            out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            out
        }
        _ => unreachable!("only stream types are opened"),
    })
}

/// A stream's bytes as the value Commit stores. A string ends at its first NUL (clients often
/// write the terminator; GetProps could not return more anyway).
fn to_value(mut bytes: Vec<u8>, ptype: u32) -> MapiResult<PropValue> {
    Ok(match ptype {
        PT_BINARY => PropValue::Binary(bytes),
        PT_STRING8 => {
            if let Some(end) = bytes.iter().position(|b| *b == 0) {
                bytes.truncate(end);
            }
            PropValue::String8(bytes)
        }
        _ => {
            if !bytes.len().is_multiple_of(2) {
                return Err(stg(
                    STG_E_INVALIDPARAMETER,
                    "Commit: a PT_UNICODE stream holds UTF-16 and must have an even length",
                ));
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|u| *u != 0);
            let text: String = char::decode_utf16(units)
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    MapiError::new(
                        MAPI_E_INVALID_PARAMETER,
                        "Commit: a PT_UNICODE stream holds an unpaired UTF-16 surrogate",
                    )
                })?;
            PropValue::Unicode(text)
        }
    })
}

fn object_of(owner: &dyn StreamOwner) -> MapiResult<Box<dyn PropObject>> {
    owner.object().ok_or_else(released)
}

/// The content a stream starts from (or reverts to): the object's value in place (or in the
/// store, for a value left there), a copy of it, or None when the object has no such property.
fn current_content(
    obj: &dyn PropObject,
    owner: &dyn StreamOwner,
    tag: u32,
) -> MapiResult<Option<Content>> {
    let ptype = prop_type(tag);
    let mut out = Ok(None);
    let mut elsewhere = None;
    obj.read(&mut |view| {
        out = match view.get(prop_id(tag)) {
            None => Ok(None),
            Some(v) if in_place(&v, ptype).is_some() => Ok(Some(Content::Object)),
            Some(v) => match &*v {
                PropValue::Large(at) if at.ptype == ptype => Ok(Some(Content::Object)),
                // Converted (an 8-bit string as UTF-16): read whole below, out of the lock.
                PropValue::Large(at) => {
                    elsewhere = Some((**at).clone());
                    Ok(None)
                }
                v => to_bytes(v, ptype).map(|bytes| {
                    Some(Content::Own {
                        bytes,
                        dirty: false,
                    })
                }),
            },
        };
    })?;
    if let Some(at) = elsewhere {
        let value = read_whole(&at, |offset, buf| owner.read_large(&at, offset, buf))?;
        let bytes = to_bytes(&value, ptype)?;
        return Ok(Some(Content::Own {
            bytes,
            dirty: false,
        }));
    }
    out
}

/// How a stream is opened (OpenProperty's arguments, validated).
pub struct OpenRequest {
    pub tag: u32,
    /// STGM_* bits (ulInterfaceOptions).
    pub interface_options: u32,
    /// MAPI_MODIFY, MAPI_CREATE, STREAM_APPEND, MAPI_DEFERRED_ERRORS (ulFlags).
    pub flags: u32,
}

impl PropStream {
    /// OpenProperty(tag, IID_IStream, …) on `obj`. MAPI_MODIFY or MAPI_CREATE opens for writing
    /// (STGM_WRITE / STGM_READWRITE alone do not: the reference says MAPI_MODIFY is needed);
    /// MAPI_CREATE or STGM_CREATE starts from an empty value, whatever was there; STREAM_APPEND
    /// starts at the end.
    pub fn open(
        obj: &dyn PropObject,
        owner: Arc<dyn StreamOwner>,
        req: OpenRequest,
    ) -> MapiResult<PropStream> {
        let OpenRequest {
            tag,
            interface_options: stgm,
            flags,
        } = req;
        check_flags("OpenProperty", flags, OPEN_FLAGS)?;
        check_flags("OpenProperty (ulInterfaceOptions)", stgm, OPEN_STGM)?;
        let access = stgm & 0x3;
        if access == 0x3 {
            return Err(MapiError::invalid(
                "OpenProperty: ulInterfaceOptions has both STGM_WRITE and STGM_READWRITE",
            ));
        }
        let ptype = prop_type(tag);
        if !is_stream_type(ptype) {
            return Err(MapiError::new(
                MAPI_E_NO_SUPPORT,
                format!(
                    "OpenProperty: only PT_BINARY, PT_STRING8 and PT_UNICODE properties open as \
                     IStream (tag 0x{tag:08X})"
                ),
            ));
        }
        let writable = flags & (MAPI_MODIFY | MAPI_CREATE) != 0;
        if access != STGM_READ && !writable {
            return Err(MapiError::no_access(
                "OpenProperty: STGM_WRITE or STGM_READWRITE needs MAPI_MODIFY in ulFlags",
            ));
        }
        let create = flags & MAPI_CREATE != 0 || stgm & STGM_CREATE != 0;
        if create && !writable {
            return Err(MapiError::no_access(
                "OpenProperty: STGM_CREATE needs MAPI_MODIFY or MAPI_CREATE in ulFlags",
            ));
        }
        if writable {
            obj.check_writable("OpenProperty with MAPI_MODIFY")?;
            let mut computed = false;
            obj.read(&mut |view| computed = view.is_computed(tag))?;
            if computed {
                return Err(MapiError::no_access(format!(
                    "OpenProperty: property 0x{tag:08X} is computed and cannot be written"
                )));
            }
        }
        let content = if create {
            Content::Own {
                bytes: Vec::new(),
                dirty: true,
            }
        } else {
            current_content(obj, &*owner, tag)?.ok_or_else(|| {
                MapiError::new(
                    MAPI_E_NOT_FOUND,
                    format!(
                        "OpenProperty: the object has no property 0x{tag:08X} (MAPI_CREATE makes \
                         one)"
                    ),
                )
            })?
        };
        let stream = PropStream {
            owner,
            tag,
            writable,
            content: Arc::new(Mutex::new(content)),
            pos: Mutex::new(0),
            window: Mutex::new(None),
        };
        if flags & STREAM_APPEND != 0 {
            let len = stream.len_of(obj, &stream.content.lock())?;
            *stream.pos.lock() = len;
        }
        Ok(stream)
    }

    pub fn tag(&self) -> u32 {
        self.tag
    }

    pub fn writable(&self) -> bool {
        self.writable
    }

    fn object(&self) -> MapiResult<Box<dyn PropObject>> {
        object_of(&*self.owner)
    }

    /// Runs `f` on the object's value as the stream's bytes (empty if it is gone or changed type);
    /// a value left in the store is not read here: its reference comes back instead.
    fn with_object_bytes<R>(
        &self,
        obj: &dyn PropObject,
        f: impl FnOnce(&[u8]) -> R,
    ) -> MapiResult<Result<R, LargeRef>> {
        let mut f = Some(f);
        let mut out = None;
        let ptype = prop_type(self.tag);
        obj.read(&mut |view| {
            let value: Option<Cow<PropValue>> = view.get(prop_id(self.tag));
            if let Some(PropValue::Large(at)) = value.as_deref() {
                if at.ptype == ptype {
                    out = Some(Err((**at).clone()));
                    return;
                }
            }
            let bytes = value
                .as_deref()
                .and_then(|v| in_place(v, ptype))
                .unwrap_or(&[]);
            if let Some(f) = f.take() {
                out = Some(Ok(f(bytes)));
            }
        })?;
        Ok(out.expect("read calls its closure"))
    }

    fn len_of(&self, obj: &dyn PropObject, content: &Content) -> MapiResult<u64> {
        match content {
            Content::Object => Ok(match self.with_object_bytes(obj, |b| b.len() as u64)? {
                Ok(len) => len,
                Err(at) => at.len,
            }),
            Content::Own { bytes, .. } => Ok(bytes.len() as u64),
        }
    }

    /// Reads from a value left in the store at `pos` into `buf`, through the window: a read the
    /// window holds costs no store read; a read as large as the window goes straight through.
    fn read_large(&self, at: &LargeRef, pos: u64, buf: &mut [u8]) -> MapiResult<usize> {
        if pos >= at.len {
            return Ok(0);
        }
        let n = buf
            .len()
            .min(usize::try_from(at.len - pos).unwrap_or(usize::MAX));
        if n >= WINDOW_BYTES {
            return self.owner.read_large(at, pos, &mut buf[..n]);
        }
        let mut window = self.window.lock();
        let holds = |w: &Window| {
            w.at == *at && pos >= w.start && pos + n as u64 <= w.start + w.bytes.len() as u64
        };
        if !window.as_ref().is_some_and(holds) {
            let want = usize::try_from(at.len - pos)
                .unwrap_or(usize::MAX)
                .min(WINDOW_BYTES);
            let mut bytes = window.take().map(|w| w.bytes).unwrap_or_default();
            bytes.clear();
            bytes.try_reserve_exact(want).map_err(|_| {
                MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "no memory to read the value")
            })?;
            bytes.resize(want, 0);
            let got = self.owner.read_large(at, pos, &mut bytes)?;
            bytes.truncate(got);
            let w = window.insert(Window {
                at: at.clone(),
                start: pos,
                bytes,
            });
            if !holds(w) {
                // The store gave less than the value's length: it is not the version read.
                return Err(MapiError::new(
                    MAPI_E_OBJECT_CHANGED,
                    "the value changed in the store while it was read",
                ));
            }
        }
        let w = window.as_ref().expect("filled above");
        let from = (pos - w.start) as usize;
        buf[..n].copy_from_slice(&w.bytes[from..from + n]);
        Ok(n)
    }

    /// The stream's size in bytes.
    pub fn size(&self) -> MapiResult<u64> {
        let obj = self.object()?;
        let content = self.content.lock();
        self.len_of(&*obj, &content)
    }

    /// Read: up to `buf.len()` bytes from the position, which advances; 0 at or past the end.
    pub fn read(&self, buf: &mut [u8]) -> MapiResult<usize> {
        let obj = self.object()?;
        let content = self.content.lock();
        let mut pos = self.pos.lock();
        let mut copy = |src: &[u8]| {
            let start = usize::try_from(*pos).unwrap_or(usize::MAX).min(src.len());
            let n = buf.len().min(src.len() - start);
            buf[..n].copy_from_slice(&src[start..start + n]);
            n
        };
        let n = match &*content {
            Content::Object => match self.with_object_bytes(&*obj, copy)? {
                Ok(n) => n,
                Err(at) => self.read_large(&at, *pos, buf)?,
            },
            Content::Own { bytes, .. } => copy(bytes),
        };
        *pos += n as u64;
        Ok(n)
    }

    fn check_write(&self, method: &str) -> MapiResult<()> {
        if self.writable {
            Ok(())
        } else {
            Err(stg(
                STG_E_ACCESSDENIED,
                format!(
                    "{method}: the stream is open read-only (OpenProperty without MAPI_MODIFY)"
                ),
            ))
        }
    }

    /// The stream's own bytes for writing, copied from the object first if it read in place.
    fn own_bytes<'a>(
        &self,
        obj: &dyn PropObject,
        content: &'a mut Content,
    ) -> MapiResult<&'a mut Vec<u8>> {
        if let Content::Object = content {
            let copy = self.with_object_bytes(obj, |b| {
                let mut v = Vec::new();
                v.try_reserve_exact(b.len()).map(|()| {
                    v.extend_from_slice(b);
                    v
                })
            })?;
            let bytes = match copy {
                Ok(copied) => copied.map_err(|_| {
                    MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "the value is too large to copy")
                })?,
                // A value left in the store is read whole: the stream's copy is its only one
                // in memory.
                Err(at) => {
                    let value =
                        read_whole(&at, |offset, buf| self.owner.read_large(&at, offset, buf))?;
                    *self.window.lock() = None;
                    match value {
                        PropValue::Binary(b) | PropValue::String8(b) => b,
                        _ => unreachable!("read_whole makes binaries and 8-bit strings"),
                    }
                }
            };
            *content = Content::Own {
                bytes,
                dirty: false,
            };
        }
        match content {
            Content::Own { bytes, dirty } => {
                *dirty = true;
                Ok(bytes)
            }
            Content::Object => unreachable!("made own above"),
        }
    }

    /// Sizes `bytes` to `len` (zeros when it grows), within the store's limit.
    fn resize(&self, bytes: &mut Vec<u8>, len: u64, method: &str) -> MapiResult<()> {
        let limit = self.owner.max_value_bytes().min(MAX_POSITION);
        if len > limit {
            return Err(stg(
                STG_E_MEDIUMFULL,
                format!(
                    "{method}: {len} bytes is more than the store keeps in one value ({limit})"
                ),
            ));
        }
        let len = usize::try_from(len).map_err(|_| stg(STG_E_MEDIUMFULL, "too large"))?;
        if len > bytes.len() {
            // Grows by doubling (amortized), and fails cleanly when memory runs out.
            let want = len - bytes.len();
            if bytes.try_reserve(want).is_err() {
                return Err(stg(
                    STG_E_INSUFFICIENTMEMORY,
                    format!("{method}: no memory for {len} bytes"),
                ));
            }
        }
        bytes.resize(len, 0);
        Ok(())
    }

    /// Write: `data` at the position (zeros fill a gap past the end), which advances.
    pub fn write(&self, data: &[u8]) -> MapiResult<usize> {
        let obj = self.object()?;
        self.check_write("Write")?;
        let mut content = self.content.lock();
        let mut pos = self.pos.lock();
        let end = write_end(*pos, data.len())?;
        let bytes = self.own_bytes(&*obj, &mut content)?;
        if end > bytes.len() as u64 {
            self.resize(bytes, end, "Write")?;
        }
        let start = *pos as usize;
        bytes[start..start + data.len()].copy_from_slice(data);
        *pos = end;
        Ok(data.len())
    }

    /// Seek: the new position from `origin` (STREAM_SEEK_*) and a signed move. Before the start,
    /// past 2^63 or an unknown origin: STG_E_INVALIDFUNCTION, the position unchanged.
    pub fn seek(&self, offset: i64, origin: u32) -> MapiResult<u64> {
        let obj = self.object()?;
        let content = self.content.lock();
        let mut pos = self.pos.lock();
        *pos = seek_target(*pos, offset, origin, || self.len_of(&*obj, &content))?;
        Ok(*pos)
    }

    /// SetSize: truncates or extends with zeros; the position stays where it is.
    pub fn set_size(&self, len: u64) -> MapiResult<()> {
        let obj = self.object()?;
        self.check_write("SetSize")?;
        let mut content = self.content.lock();
        let bytes = self.own_bytes(&*obj, &mut content)?;
        self.resize(bytes, len, "SetSize")
    }

    /// Commit: the stream's bytes become the object's value (a message's working copy; a folder's
    /// stored value). Nothing to do for a stream that was not written since.
    pub fn commit(&self, flags: u32) -> MapiResult<()> {
        check_commit_flags(flags)?;
        let obj = self.object()?;
        let mut content = self.content.lock();
        let Content::Own { bytes, dirty: true } = &mut *content else {
            return Ok(());
        };
        // Checked before the bytes move into the value: a refusal must not lose them.
        obj.check_writable("Commit")?;
        let ptype = prop_type(self.tag);
        let keep = match ptype {
            // UTF-16 is not how the value is held: the stream keeps its bytes.
            PT_UNICODE => Some(bytes.clone()),
            _ => None,
        };
        let value = to_value(std::mem::take(bytes), ptype);
        let value = match value {
            Ok(v) => v,
            Err(e) => {
                // Only PT_UNICODE conversion fails, and it kept its bytes.
                if let Some(k) = keep {
                    *bytes = k;
                }
                return Err(e);
            }
        };
        let problems = obj.set_props(vec![PropInput {
            index: 0,
            tag: self.tag,
            value,
        }])?;
        if let Some(p) = problems.first() {
            *content = match keep {
                Some(bytes) => Content::Own { bytes, dirty: true },
                None => Content::Object,
            };
            return Err(MapiError::new(
                p.scode,
                format!("Commit: the object refused the value of 0x{:08X}", self.tag),
            ));
        }
        *content = match keep {
            Some(bytes) => Content::Own {
                bytes,
                dirty: false,
            },
            None => Content::Object,
        };
        Ok(())
    }

    /// Revert: drops what was written since the last Commit; the stream reads the object's
    /// value again (empty if it has none).
    pub fn revert(&self) -> MapiResult<()> {
        let obj = self.object()?;
        let mut content = self.content.lock();
        *content = current_content(&*obj, &*self.owner, self.tag)?.unwrap_or(Content::Own {
            bytes: Vec::new(),
            dirty: false,
        });
        Ok(())
    }

    /// Clone: the same bytes, a position of its own (starting at this one's).
    pub fn try_clone(&self) -> MapiResult<PropStream> {
        self.object()?;
        Ok(PropStream {
            owner: self.owner.clone(),
            tag: self.tag,
            writable: self.writable,
            content: self.content.clone(),
            pos: Mutex::new(*self.pos.lock()),
            window: Mutex::new(None),
        })
    }

    /// Stat's grfMode: the access the stream was opened with.
    pub fn mode(&self) -> u32 {
        if self.writable {
            STGM_READWRITE
        } else {
            STGM_READ
        }
    }
}

/// Where a Seek of `offset` from `origin` lands, from position `pos` of a stream whose size
/// `size` gives: before the start, past 2^63 - 1 or from an unknown origin is
/// STG_E_INVALIDFUNCTION (the caller leaves the position as it was).
pub fn seek_target(
    pos: u64,
    offset: i64,
    origin: u32,
    size: impl FnOnce() -> MapiResult<u64>,
) -> MapiResult<u64> {
    let base = match origin {
        STREAM_SEEK_SET => 0,
        STREAM_SEEK_CUR => pos,
        STREAM_SEEK_END => size()?,
        other => {
            return Err(stg(
                STG_E_INVALIDFUNCTION,
                format!("Seek: unknown origin {other} (STREAM_SEEK_SET, _CUR or _END)"),
            ))
        }
    };
    let new = i128::from(base) + i128::from(offset);
    if new < 0 {
        return Err(stg(
            STG_E_INVALIDFUNCTION,
            "Seek: the position would be before the start of the stream",
        ));
    }
    if new > i128::from(MAX_POSITION) {
        return Err(stg(
            STG_E_INVALIDFUNCTION,
            "Seek: the position would be past 2^63 - 1",
        ));
    }
    Ok(new as u64)
}

/// The end of a write of `len` bytes at `pos`, if it stays below 2^63.
pub fn write_end(pos: u64, len: usize) -> MapiResult<u64> {
    pos.checked_add(len as u64)
        .filter(|e| *e <= MAX_POSITION)
        .ok_or_else(|| stg(STG_E_MEDIUMFULL, "Write: the stream would end past 2^63"))
}

/// Commit's flags, checked.
pub fn check_commit_flags(flags: u32) -> MapiResult<()> {
    if flags & !COMMIT_FLAGS != 0 {
        return Err(stg(
            STG_E_INVALIDFLAG,
            format!("Commit: unknown flags 0x{:08X}", flags & !COMMIT_FLAGS),
        ));
    }
    Ok(())
}

/// What IStream's slots call: a property's stream, or a file's (OpenStreamOnFile).
pub trait Stream: Send + Sync {
    fn read(&self, buf: &mut [u8]) -> MapiResult<usize>;
    fn write(&self, data: &[u8]) -> MapiResult<usize>;
    fn seek(&self, offset: i64, origin: u32) -> MapiResult<u64>;
    fn set_size(&self, len: u64) -> MapiResult<()>;
    fn commit(&self, flags: u32) -> MapiResult<()>;
    fn revert(&self) -> MapiResult<()>;
    fn size(&self) -> MapiResult<u64>;
    /// Stat's grfMode.
    fn mode(&self) -> u32;
    fn try_clone(&self) -> MapiResult<Box<dyn Stream>>;
}

impl Stream for PropStream {
    fn read(&self, buf: &mut [u8]) -> MapiResult<usize> {
        PropStream::read(self, buf)
    }
    fn write(&self, data: &[u8]) -> MapiResult<usize> {
        PropStream::write(self, data)
    }
    fn seek(&self, offset: i64, origin: u32) -> MapiResult<u64> {
        PropStream::seek(self, offset, origin)
    }
    fn set_size(&self, len: u64) -> MapiResult<()> {
        PropStream::set_size(self, len)
    }
    fn commit(&self, flags: u32) -> MapiResult<()> {
        PropStream::commit(self, flags)
    }
    fn revert(&self) -> MapiResult<()> {
        PropStream::revert(self)
    }
    fn size(&self) -> MapiResult<u64> {
        PropStream::size(self)
    }
    fn mode(&self) -> u32 {
        PropStream::mode(self)
    }
    fn try_clone(&self) -> MapiResult<Box<dyn Stream>> {
        Ok(Box::new(PropStream::try_clone(self)?))
    }
}

/// Stat's flags, checked.
pub fn check_stat_flags(flags: u32) -> MapiResult<()> {
    if flags & !(STATFLAG_NONAME | STATFLAG_NOOPEN) != 0 {
        return Err(stg(
            STG_E_INVALIDFLAG,
            format!("Stat: unknown flags 0x{flags:08X}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::props::{Problem, PropMap, PropView};

    /// A plain property map standing in for a message's working copy.
    struct Map(Arc<Mutex<PropMap>>);

    impl PropObject for Map {
        fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
            f(&*self.0.lock());
            Ok(())
        }
        fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
            for p in props {
                self.0.lock().insert(prop_id(p.tag), p.value);
            }
            Ok(Vec::new())
        }
        fn delete_props(&self, _tags: &[u32]) -> MapiResult<Vec<Problem>> {
            Ok(Vec::new())
        }
        fn save_changes(&self, _flags: u32) -> MapiResult<()> {
            Ok(())
        }
        fn check_writable(&self, _method: &str) -> MapiResult<()> {
            Ok(())
        }
        fn object_type(&self) -> u32 {
            0
        }
    }

    struct Weakly(std::sync::Weak<Mutex<PropMap>>);

    impl StreamOwner for Weakly {
        fn object(&self) -> Option<Box<dyn PropObject>> {
            Some(Box::new(Map(self.0.upgrade()?)))
        }
        fn max_value_bytes(&self) -> u64 {
            1 << 20
        }
    }

    fn open(map: &Arc<Mutex<PropMap>>, tag: u32, flags: u32) -> MapiResult<PropStream> {
        PropStream::open(
            &Map(map.clone()),
            Arc::new(Weakly(Arc::downgrade(map))),
            OpenRequest {
                tag,
                interface_options: if flags & MAPI_MODIFY != 0 {
                    STGM_READWRITE
                } else {
                    STGM_READ
                },
                flags,
            },
        )
    }

    const BIN: u32 = 0x6700_0102;

    #[test]
    fn write_commit_read_back_in_place() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        assert_eq!(
            open(&map, BIN, MAPI_MODIFY).err().unwrap().code,
            MAPI_E_NOT_FOUND
        );
        let s = open(&map, BIN, MAPI_MODIFY | MAPI_CREATE).unwrap();
        assert_eq!(s.write(b"hello").unwrap(), 5);
        assert!(map.lock().is_empty(), "nothing before Commit");
        s.commit(0).unwrap();
        assert_eq!(
            map.lock().get(&prop_id(BIN)),
            Some(&PropValue::Binary(b"hello".to_vec()))
        );
        // After Commit the stream reads the object's value in place.
        assert!(matches!(*s.content.lock(), Content::Object));
        s.seek(1, STREAM_SEEK_SET).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(s.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ello");
        assert_eq!(s.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn seeks_sizes_and_gaps() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        let s = open(&map, BIN, MAPI_MODIFY | MAPI_CREATE).unwrap();
        assert_eq!(
            s.seek(-1, STREAM_SEEK_SET).unwrap_err().code,
            STG_E_INVALIDFUNCTION
        );
        assert_eq!(s.seek(i64::MAX, STREAM_SEEK_SET).unwrap(), i64::MAX as u64);
        assert_eq!(
            s.seek(1, STREAM_SEEK_CUR).unwrap_err().code,
            STG_E_INVALIDFUNCTION
        );
        assert_eq!(s.seek(0, 7).unwrap_err().code, STG_E_INVALIDFUNCTION);
        assert_eq!(s.write(b"x").unwrap_err().code, STG_E_MEDIUMFULL);
        s.seek(3, STREAM_SEEK_SET).unwrap();
        s.write(b"ab").unwrap();
        assert_eq!(s.size().unwrap(), 5);
        s.set_size(2).unwrap();
        assert_eq!(s.seek(0, STREAM_SEEK_END).unwrap(), 2);
        assert_eq!(s.set_size(2 << 20).unwrap_err().code, STG_E_MEDIUMFULL);
        s.commit(0).unwrap();
        assert_eq!(
            map.lock().get(&prop_id(BIN)),
            Some(&PropValue::Binary(vec![0, 0]))
        );
    }

    #[test]
    fn read_only_revert_clone_and_release() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode("hé".into()));
        let ro = open(&map, PR_BODY_W, 0).unwrap();
        assert_eq!(ro.write(b"x").unwrap_err().code, STG_E_ACCESSDENIED);
        assert_eq!(ro.set_size(0).unwrap_err().code, STG_E_ACCESSDENIED);
        assert_eq!(ro.size().unwrap(), 4, "UTF-16LE, no terminator");
        let rw = open(&map, PR_BODY_W, MAPI_MODIFY).unwrap();
        let twin = rw.try_clone().unwrap();
        rw.seek(0, STREAM_SEEK_END).unwrap();
        rw.write(&[b'!', 0, 0, 0]).unwrap();
        assert_eq!(twin.size().unwrap(), 8, "clones share the bytes");
        rw.revert().unwrap();
        assert_eq!(rw.size().unwrap(), 4);
        // Revert keeps the position (past the end now).
        assert_eq!(rw.seek(0, STREAM_SEEK_CUR).unwrap(), 8);
        rw.seek(0, STREAM_SEEK_SET).unwrap();
        rw.write(&[b'H', 0]).unwrap();
        rw.commit(0).unwrap();
        assert_eq!(
            map.lock().get(&prop_id(PR_BODY_W)),
            Some(&PropValue::Unicode("Hé".into()))
        );
        rw.set_size(1).unwrap();
        assert_eq!(rw.commit(0).unwrap_err().code, STG_E_INVALIDPARAMETER);
        assert_eq!(rw.commit(0x100).unwrap_err().code, STG_E_INVALIDFLAG);
        drop(map);
        for e in [
            rw.read(&mut [0; 4]).unwrap_err(),
            rw.seek(0, STREAM_SEEK_SET).unwrap_err(),
            rw.commit(0).unwrap_err(),
            rw.try_clone().err().unwrap(),
        ] {
            assert_eq!(e.code, MAPI_E_INVALID_OBJECT);
        }
    }

    #[test]
    fn strings_end_at_their_terminator_and_types_are_checked() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        let s = open(&map, PR_BODY_A, MAPI_CREATE).unwrap();
        s.write(b"text\0junk").unwrap();
        s.commit(0).unwrap();
        assert_eq!(
            map.lock().get(&prop_id(PR_BODY_A)),
            Some(&PropValue::String8(b"text".to_vec()))
        );
        assert_eq!(
            open(&map, 0x0E08_0003, 0).err().unwrap().code,
            MAPI_E_NO_SUPPORT
        );
        let bad = PropStream::open(
            &Map(map.clone()),
            Arc::new(Weakly(Arc::downgrade(&map))),
            OpenRequest {
                tag: BIN,
                interface_options: STGM_WRITE,
                flags: 0,
            },
        );
        assert_eq!(bad.err().unwrap().code, MAPI_E_NO_ACCESS);
    }
}
