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
//! the object and the stream reads in place again. A PT_UNICODE value is held as UTF-8 and read
//! as UTF-16LE: in place, it is decoded as it is read, from a cursor that remembers where the
//! last read stopped (sequential reads cost what they read, not a scan from the start).
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
use super::value::{prop_id, prop_type, utf16_len, LargeRef, PropValue};
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
    /// Where the last in-place read of a PT_UNICODE value stopped (Content::Object on a
    /// `PropValue::Unicode`).
    cursor: Mutex<Option<Utf16Cursor>>,
}

/// A point of a UTF-8 string that starts a character: its UTF-16 code unit and its byte.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Utf16Point {
    unit: u64,
    byte: usize,
}

/// A `Utf16Point` of one string, known by the object's revision when it was read
/// (PropView::revision: it moves at every change of the object's values, so a cursor never
/// outlives the value it was made on), its address, its length and the bytes before the point.
/// For an object that does not count its changes (None) the rest is what tells: a value the
/// object replaced has another address (its new allocation exists before the old one is
/// freed); one that took a freed value's address after a second replacement would also need
/// its length and those bytes to match to be taken for it. A cursor that does not match, or
/// lies past the read, is dropped and the read scans from the start.
struct Utf16Cursor {
    revision: Option<u64>,
    addr: usize,
    len: usize,
    at: Utf16Point,
    before: [u8; CURSOR_CONTEXT],
}

/// How many bytes before its point a cursor compares.
const CURSOR_CONTEXT: usize = 16;

impl Utf16Cursor {
    fn new(s: &str, at: Utf16Point, revision: Option<u64>) -> Utf16Cursor {
        Utf16Cursor {
            revision,
            addr: s.as_ptr() as usize,
            len: s.len(),
            at,
            before: Self::context(s, at.byte),
        }
    }

    /// The bytes of `s` before `byte` (zeros before the start).
    fn context(s: &str, byte: usize) -> [u8; CURSOR_CONTEXT] {
        let from = byte.saturating_sub(CURSOR_CONTEXT);
        let mut out = [0; CURSOR_CONTEXT];
        out[CURSOR_CONTEXT - (byte - from)..].copy_from_slice(&s.as_bytes()[from..byte]);
        out
    }

    /// The cursor's point if it belongs to `s` (read at `revision`) and lies at or before
    /// UTF-16 byte `pos`.
    fn start_for(
        cursor: &Option<Utf16Cursor>,
        s: &str,
        pos: u64,
        revision: Option<u64>,
    ) -> Utf16Point {
        match cursor {
            Some(c)
                if c.revision == revision
                    && c.addr == s.as_ptr() as usize
                    && c.len == s.len()
                    && c.at.unit * 2 <= pos
                    && s.is_char_boundary(c.at.byte)
                    && Self::context(s, c.at.byte) == c.before =>
            {
                c.at
            }
            _ => Utf16Point::default(),
        }
    }
}

/// Reads the UTF-16LE bytes of `s` from byte `pos` into `buf`, starting the scan at `from` (a
/// character start at or before `pos`). Returns the bytes read and the start of the first
/// character not read whole (where the next read goes on).
fn read_utf16(s: &str, from: Utf16Point, pos: u64, buf: &mut [u8]) -> (usize, Utf16Point) {
    let mut at = skip_utf16(s, from, pos / 2);
    let mut skip = (pos - at.unit * 2) as usize;
    let mut n = 0;
    while n < buf.len() && at.byte < s.len() {
        if skip == 0 {
            // A run of ASCII (most of most bodies): a byte and a zero each, no decoding.
            let run = s.as_bytes()[at.byte..]
                .iter()
                .take((buf.len() - n) / 2)
                .take_while(|b| b.is_ascii())
                .count();
            for (out, b) in buf[n..n + run * 2]
                .chunks_exact_mut(2)
                .zip(&s.as_bytes()[at.byte..at.byte + run])
            {
                out[0] = *b;
                out[1] = 0;
            }
            n += run * 2;
            at.unit += run as u64;
            at.byte += run;
            if n == buf.len() || at.byte == s.len() {
                break;
            }
        }
        let c = s[at.byte..]
            .chars()
            .next()
            .expect("at.byte starts a character");
        let mut units = [0u16; 2];
        let units = c.encode_utf16(&mut units);
        let mut bytes = [0u8; 4];
        for (i, u) in units.iter().enumerate() {
            bytes[i * 2..i * 2 + 2].copy_from_slice(&u.to_le_bytes());
        }
        let bytes = &bytes[skip..units.len() * 2];
        let take = bytes.len().min(buf.len() - n);
        buf[n..n + take].copy_from_slice(&bytes[..take]);
        n += take;
        if take < bytes.len() {
            break;
        }
        skip = 0;
        at.unit += units.len() as u64;
        at.byte += c.len_utf8();
    }
    (n, at)
}

/// The last character start of `s` at or before UTF-16 unit `target`, scanning from `from`:
/// whole blocks are counted with `utf16_len`, the last one character by character.
fn skip_utf16(s: &str, mut at: Utf16Point, target: u64) -> Utf16Point {
    const BLOCK: usize = 64 << 10;
    while at.unit < target && at.byte < s.len() {
        let mut end = (at.byte + BLOCK).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let units = utf16_len(&s[at.byte..end]) as u64;
        if at.unit + units > target {
            break;
        }
        at = Utf16Point {
            unit: at.unit + units,
            byte: end,
        };
    }
    for c in s[at.byte..].chars() {
        let units = c.len_utf16() as u64;
        if at.unit + units > target {
            break;
        }
        at.unit += units;
        at.byte += c.len_utf8();
    }
    at
}

/// An object's value as a stream reads it in place.
enum Held<'a> {
    /// PT_BINARY, PT_STRING8 (empty when the value is gone or has another type).
    Bytes(&'a [u8]),
    /// PT_UNICODE, decoded to UTF-16LE as it is read; `lent` when the object holds it (its
    /// address identifies it from one read to the next), not when it was made for this read.
    Text {
        s: &'a str,
        lent: bool,
        /// The object's PropView::revision when the value was lent.
        revision: Option<u64>,
    },
}

impl Held<'_> {
    fn len(&self) -> u64 {
        match self {
            Held::Bytes(b) => b.len() as u64,
            Held::Text { s, .. } => utf16_len(s) as u64 * 2,
        }
    }
}

/// UTF-16LE bytes of `s`, allocated fallibly.
fn utf16_bytes(s: &str) -> MapiResult<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(utf16_len(s) * 2)
        .map_err(|_| MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "the value is too large to copy"))?;
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    Ok(out)
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
        PropValue::Unicode(s) => utf16_bytes(&s)?,
        _ => unreachable!("only stream types are opened"),
    })
}

/// A stream's bytes as the value Commit stores. A string ends at its first NUL (clients often
/// write the terminator; GetProps could not return more anyway). PT_BINARY and PT_STRING8 take
/// the bytes; PT_UNICODE decodes them and leaves them (a refused value keeps them).
fn to_value(bytes: &mut Vec<u8>, ptype: u32) -> MapiResult<PropValue> {
    Ok(match ptype {
        PT_BINARY => PropValue::Binary(std::mem::take(bytes)),
        PT_STRING8 => {
            let mut bytes = std::mem::take(bytes);
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
            // Held by the object: decoded as it is read. A value made for the read (a folder's,
            // loaded from the store by every read) is copied: its address says nothing of
            // where the last read stopped.
            Some(Cow::Borrowed(PropValue::Unicode(_))) if ptype == PT_UNICODE => {
                Ok(Some(Content::Object))
            }
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
            cursor: Mutex::new(None),
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

    /// Runs `f` on the object's value as the stream reads it (empty bytes if it is gone or
    /// changed type); a value left in the store is not read here: its reference comes back
    /// instead.
    fn with_object_value<R>(
        &self,
        obj: &dyn PropObject,
        f: impl FnOnce(Held) -> R,
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
            let held = match value.as_ref() {
                Some(Cow::Borrowed(PropValue::Unicode(s))) if ptype == PT_UNICODE => Held::Text {
                    s,
                    lent: true,
                    revision: view.revision(),
                },
                Some(Cow::Owned(PropValue::Unicode(s))) if ptype == PT_UNICODE => Held::Text {
                    s,
                    lent: false,
                    revision: None,
                },
                v => Held::Bytes(v.and_then(|v| in_place(v, ptype)).unwrap_or(&[])),
            };
            if let Some(f) = f.take() {
                out = Some(Ok(f(held)));
            }
        })?;
        Ok(out.expect("read calls its closure"))
    }

    fn len_of(&self, obj: &dyn PropObject, content: &Content) -> MapiResult<u64> {
        match content {
            Content::Object => Ok(match self.with_object_value(obj, |v| v.len())? {
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
        let at = *pos;
        let copy = |src: &[u8], buf: &mut [u8]| {
            let start = usize::try_from(at).unwrap_or(usize::MAX).min(src.len());
            let n = buf.len().min(src.len() - start);
            buf[..n].copy_from_slice(&src[start..start + n]);
            n
        };
        let n = match &*content {
            Content::Object => {
                let mut cursor = self.cursor.lock();
                let read = |held: Held| match held {
                    Held::Bytes(b) => copy(b, buf),
                    Held::Text { s, lent, revision } => {
                        let from = Utf16Cursor::start_for(&cursor, s, at, revision);
                        let (n, stop) = read_utf16(s, from, at, buf);
                        *cursor = lent.then(|| Utf16Cursor::new(s, stop, revision));
                        n
                    }
                };
                match self.with_object_value(&*obj, read)? {
                    Ok(n) => n,
                    Err(large) => self.read_large(&large, at, buf)?,
                }
            }
            Content::Own { bytes, .. } => copy(bytes, buf),
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
            let copy = self.with_object_value(obj, |held| match held {
                Held::Bytes(b) => {
                    let mut v = Vec::new();
                    v.try_reserve_exact(b.len())
                        .map_err(|_| {
                            MapiError::new(
                                MAPI_E_NOT_ENOUGH_MEMORY,
                                "the value is too large to copy",
                            )
                        })
                        .map(|()| {
                            v.extend_from_slice(b);
                            v
                        })
                }
                Held::Text { s, .. } => utf16_bytes(s),
            })?;
            let bytes = match copy {
                Ok(copied) => copied?,
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
            *self.cursor.lock() = None;
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
        // Only PT_UNICODE's conversion fails, and it leaves the bytes.
        let value = to_value(bytes, ptype)?;
        let problems = obj.set_props(vec![PropInput {
            index: 0,
            tag: self.tag,
            value,
        }]);
        let refused = match &problems {
            Ok(p) => p.first().map(|p| p.scode),
            Err(_) => None,
        };
        if problems.is_err() || refused.is_some() {
            // A PT_UNICODE stream still has its bytes; the others gave theirs to the value.
            if ptype != PT_UNICODE {
                *content = Content::Object;
            }
        } else if ptype != PT_UNICODE || self.lends_text(&*obj).unwrap_or(false) {
            // The committed value is the object's: read it in place (a PT_UNICODE value the
            // object makes for every read, a folder's, stays a copy).
            *content = Content::Object;
            *self.cursor.lock() = None;
        } else if let Content::Own { dirty, .. } = &mut *content {
            *dirty = false;
        }
        problems?;
        if let Some(scode) = refused {
            return Err(MapiError::new(
                scode,
                format!("Commit: the object refused the value of 0x{:08X}", self.tag),
            ));
        }
        Ok(())
    }

    /// Whether the object holds the stream's PT_UNICODE value itself (so it reads in place).
    fn lends_text(&self, obj: &dyn PropObject) -> MapiResult<bool> {
        let lent =
            self.with_object_value(obj, |held| matches!(held, Held::Text { lent: true, .. }))?;
        Ok(lent.unwrap_or(false))
    }

    /// Revert: drops what was written since the last Commit; the stream reads the object's
    /// value again (empty if it has none).
    pub fn revert(&self) -> MapiResult<()> {
        let obj = self.object()?;
        let mut content = self.content.lock();
        *self.cursor.lock() = None;
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
            cursor: Mutex::new(None),
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
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A plain property map standing in for a message's working copy; given a counter, its view
    /// counts changes as a message's does (PropView::revision), the test moving it.
    struct Map(Arc<Mutex<PropMap>>, Option<Arc<AtomicU64>>);

    /// A `Map`'s view: the map, and its counter's value when it keeps one.
    struct MapView<'a>(&'a PropMap, Option<u64>);

    impl PropView for MapView<'_> {
        fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
            PropView::get(self.0, id)
        }
        fn tags(&self) -> Vec<u32> {
            PropView::tags(self.0)
        }
        fn revision(&self) -> Option<u64> {
            self.1
        }
    }

    impl PropObject for Map {
        fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
            let revision = self.1.as_ref().map(|r| r.load(Ordering::SeqCst));
            f(&MapView(&self.0.lock(), revision));
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

    struct Weakly(std::sync::Weak<Mutex<PropMap>>, Option<Arc<AtomicU64>>);

    impl StreamOwner for Weakly {
        fn object(&self) -> Option<Box<dyn PropObject>> {
            Some(Box::new(Map(self.0.upgrade()?, self.1.clone())))
        }
        fn max_value_bytes(&self) -> u64 {
            1 << 20
        }
    }

    fn open(map: &Arc<Mutex<PropMap>>, tag: u32, flags: u32) -> MapiResult<PropStream> {
        open_counted(map, None, tag, flags)
    }

    /// `open` on a map whose view counts its changes with `revision` (None: it does not count).
    fn open_counted(
        map: &Arc<Mutex<PropMap>>,
        revision: Option<Arc<AtomicU64>>,
        tag: u32,
        flags: u32,
    ) -> MapiResult<PropStream> {
        PropStream::open(
            &Map(map.clone(), revision.clone()),
            Arc::new(Weakly(Arc::downgrade(map), revision)),
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
            &Map(map.clone(), None),
            Arc::new(Weakly(Arc::downgrade(&map), None)),
            OpenRequest {
                tag: BIN,
                interface_options: STGM_WRITE,
                flags: 0,
            },
        );
        assert_eq!(bad.err().unwrap().code, MAPI_E_NO_ACCESS);
    }

    /// A small xorshift generator: the tests' positions and lengths, the same every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// ~`chars` characters mixing ASCII with two-, three- and four-byte UTF-8 (the last a
    /// surrogate pair in UTF-16), in runs so that blocks of one width occur too.
    fn mixed_text(rng: &mut Rng, chars: usize) -> String {
        let pools = ["abc xyz\r\n", "éüßñ", "中文€한", "😀𝄞🙂"];
        let mut text = String::new();
        let mut count = 0;
        while count < chars {
            let pool: Vec<char> = pools[rng.below(pools.len())].chars().collect();
            for _ in 0..1 + rng.below(40) {
                text.push(pool[rng.below(pool.len())]);
                count += 1;
            }
        }
        text
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn read_at(s: &PropStream, pos: usize, len: usize) -> Vec<u8> {
        s.seek(pos as i64, STREAM_SEEK_SET).unwrap();
        let mut buf = vec![0xEE; len];
        let n = s.read(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn unicode_reads_in_place_at_any_position() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // Above skip_utf16's 64 KiB block, so that seeks skip whole blocks as well.
        let text = mixed_text(&mut rng, 60_000);
        let want = utf16le(&text);
        assert!(text.len() > 128 << 10);
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode(text.clone()));
        let s = open(&map, PR_BODY_W, 0).unwrap();
        assert!(matches!(*s.content.lock(), Content::Object), "no copy");
        assert_eq!(s.size().unwrap(), want.len() as u64);
        assert_eq!(s.seek(0, STREAM_SEEK_END).unwrap(), want.len() as u64);
        assert_eq!(s.seek(-3, STREAM_SEEK_END).unwrap(), want.len() as u64 - 3);
        assert_eq!(s.read(&mut [0; 8]).unwrap(), 3);
        // Random positions (odd ones, inside surrogate pairs), forwards and backwards.
        for _ in 0..1500 {
            let pos = rng.below(want.len() + 8);
            let most = if rng.below(4) == 0 { 70_000 } else { 12 };
            let len = rng.below(most);
            let end = (pos + len).min(want.len());
            let from = pos.min(want.len());
            assert!(
                read_at(&s, pos, len) == want[from..end],
                "{len} bytes at {pos}"
            );
        }
        // Sequential reads in odd sizes go on from the cursor: it stays within a character of
        // the position.
        s.seek(0, STREAM_SEEK_SET).unwrap();
        let mut got = Vec::new();
        loop {
            let mut buf = vec![0; 1 + rng.below(9)];
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let cursor = s.cursor.lock().as_ref().unwrap().at;
            assert!(cursor.unit * 2 <= got.len() as u64 && got.len() as u64 - cursor.unit * 2 < 4);
        }
        assert!(got == want, "sequential reads give the UTF-16LE bytes");
        // STREAM_APPEND starts at the UTF-16 end.
        let tail = open(&map, PR_BODY_W, MAPI_MODIFY | STREAM_APPEND).unwrap();
        assert_eq!(tail.seek(0, STREAM_SEEK_CUR).unwrap(), want.len() as u64);
    }

    #[test]
    fn unicode_follows_the_objects_value() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode("😀é😀é".into()));
        let s = open(&map, PR_BODY_W, 0).unwrap();
        assert_eq!(read_at(&s, 0, 5), utf16le("😀é😀é")[..5]);
        // Replaced under the stream (SetProps by its client): the next read is of the new value.
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode("abcdefgh".into()));
        let mut buf = [0; 4];
        assert_eq!(s.read(&mut buf).unwrap(), 4);
        assert_eq!(buf, utf16le("abcdefgh")[5..9]);
        assert_eq!(s.size().unwrap(), 16);
        // Gone: empty, as for the other types.
        map.lock().remove(&prop_id(PR_BODY_W));
        assert_eq!(read_at(&s, 0, 4), b"");
    }

    /// A value changed where it lies (same address, same length, the same 16 bytes before the
    /// cursor, but one UTF-16 unit more before it): only the object's revision tells the cursor
    /// it no longer fits. Without a move of the revision the cursor is taken, and the read goes
    /// on one character too far: what the revision is there for.
    #[test]
    fn unicode_cursor_follows_the_revision() {
        let text = format!("é{}0123456789", "b".repeat(20));
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode(text));
        let revision = Arc::new(AtomicU64::new(0));
        let s = open_counted(&map, Some(revision.clone()), PR_BODY_W, 0).unwrap();
        let change_in_place = |bump: bool| {
            let mut g = map.lock();
            let Some(PropValue::Unicode(v)) = g.get_mut(&prop_id(PR_BODY_W)) else {
                unreachable!()
            };
            let before = v.as_ptr();
            v.replace_range(0..2, if v.starts_with('é') { "cd" } else { "é" });
            assert_eq!(v.as_ptr(), before, "changed in place");
            if bump {
                revision.fetch_add(1, Ordering::SeqCst);
            }
        };
        // "é" and 20 "b": the cursor stops at the "0" (unit 21, byte 22).
        assert_eq!(read_at(&s, 0, 42), utf16le(&format!("é{}", "b".repeat(20))));
        change_in_place(true);
        // "cd" and 20 "b" now: unit 21 is the last "b".
        let mut buf = [0; 2];
        assert_eq!(s.read(&mut buf).unwrap(), 2);
        assert_eq!(buf, *b"b\0");
        // Back to "é" without a move of the revision: the cursor (unit 22 at byte 22, made on
        // the "cd" text) is taken, and the read gives the "0" at byte 22 where unit 22 of this
        // text is the "1".
        change_in_place(false);
        assert_eq!(s.read(&mut buf).unwrap(), 2);
        assert_eq!(buf, *b"0\0");
    }

    #[test]
    fn unicode_write_after_reads_then_commit_reads_in_place() {
        let mut rng = Rng(7);
        let text = mixed_text(&mut rng, 2_000);
        let mut want = utf16le(&text);
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode(text.clone()));
        let s = open(&map, PR_BODY_W, MAPI_MODIFY).unwrap();
        let twin = s.try_clone().unwrap();
        assert_eq!(read_at(&s, 101, 33), want[101..134]);
        assert_eq!(read_at(&twin, 7, 3), want[7..10]);
        // The first write copies the value as UTF-16; the clone reads the copy. It replaces
        // characters 5..25 by others of the same UTF-16 length (whole surrogate pairs).
        let start = utf16le(&text.chars().take(5).collect::<String>()).len();
        let other: String = text
            .chars()
            .skip(5)
            .take(20)
            .map(|c| if c.len_utf16() == 2 { '𝄞' } else { 'Ω' })
            .collect();
        s.seek(start as i64, STREAM_SEEK_SET).unwrap();
        s.write(&utf16le(&other)).unwrap();
        let end = start + utf16le(&other).len();
        want.splice(start..end, utf16le(&other));
        assert!(matches!(
            *s.content.lock(),
            Content::Own { dirty: true, .. }
        ));
        assert!(read_at(&twin, 0, want.len() + 1) == want);
        assert_eq!(s.size().unwrap(), want.len() as u64);
        // Committed, the value is the object's and the stream reads it in place again.
        s.commit(0).unwrap();
        let committed = String::from_utf16(
            &want
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(
            map.lock().get(&prop_id(PR_BODY_W)),
            Some(&PropValue::Unicode(committed))
        );
        assert!(matches!(*s.content.lock(), Content::Object));
        for _ in 0..200 {
            let pos = rng.below(want.len());
            let len = rng.below(50);
            assert!(read_at(&s, pos, len) == want[pos..(pos + len).min(want.len())]);
        }
        // SetSize copies too.
        s.set_size(4).unwrap();
        assert_eq!(read_at(&twin, 0, 10), want[..4]);
    }

    #[test]
    fn unicode_commit_refused_keeps_the_bytes() {
        let map = Arc::new(Mutex::new(PropMap::new()));
        map.lock()
            .insert(prop_id(PR_BODY_W), PropValue::Unicode("ok".into()));
        let s = open(&map, PR_BODY_W, MAPI_MODIFY).unwrap();
        // An unpaired high surrogate, then an odd length.
        s.seek(0, STREAM_SEEK_SET).unwrap();
        s.write(&[0x3D, 0xD8]).unwrap();
        assert_eq!(s.commit(0).unwrap_err().code, MAPI_E_INVALID_PARAMETER);
        assert_eq!(read_at(&s, 0, 8), [0x3D, 0xD8, b'k', 0]);
        s.set_size(3).unwrap();
        assert_eq!(s.commit(0).unwrap_err().code, STG_E_INVALIDPARAMETER);
        assert_eq!(read_at(&s, 0, 8), [0x3D, 0xD8, b'k']);
        assert!(matches!(
            *s.content.lock(),
            Content::Own { dirty: true, .. }
        ));
        assert_eq!(
            map.lock().get(&prop_id(PR_BODY_W)),
            Some(&PropValue::Unicode("ok".into())),
            "the object keeps its value"
        );
    }
}
