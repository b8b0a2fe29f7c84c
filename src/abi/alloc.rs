//! MAPI's chained allocator (reference §3): `MAPIAllocateBuffer` makes a root block,
//! `MAPIAllocateMore` links more blocks to it, and one `MAPIFreeBuffer` of the root releases the
//! whole chain. Blocks are 16-byte aligned (MAPI asks for 8: SPropValue holds doubles and i64s).

use super::guard;
use super::types::{AllocateBufferFn, AllocateMoreFn, FreeBufferFn, LPVOID, SCODE, ULONG};
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

const ROOT_MAGIC: u32 = 0x4D53_5242; // "MSRB"
const MORE_MAGIC: u32 = 0x4D53_4D42; // "MSMB"
const FREED_MAGIC: u32 = 0x4D53_4642; // "MSFB"

/// Sits in front of every block. A root's `next` heads the list of its MAPIAllocateMore blocks;
/// a MAPIAllocateMore block's `next` is its sibling.
#[repr(C, align(16))]
struct Header {
    next: AtomicPtr<Header>,
    magic: AtomicU32,
}
const HEADER: usize = std::mem::size_of::<Header>();
const _: () = assert!(HEADER == 16);

fn allocate(size: ULONG, magic: u32) -> *mut Header {
    let total = HEADER + size as usize;
    // SAFETY: plain malloc; glibc returns 16-byte aligned memory on 64-bit targets.
    let h = unsafe { libc::malloc(total) } as *mut Header;
    if h.is_null() {
        return h;
    }
    // SAFETY: `h` is a fresh allocation of at least HEADER bytes.
    unsafe {
        ptr::write(
            h,
            Header {
                next: AtomicPtr::new(ptr::null_mut()),
                magic: AtomicU32::new(magic),
            },
        );
        ptr::write_bytes((h as *mut u8).add(HEADER), 0, size as usize);
    }
    h
}

/// The header of a block this allocator made, if `p` looks like one (a foreign pointer is the
/// caller's bug, as in any C library; the magic catches the common ones: double free, a
/// MAPIAllocateMore block passed where a root belongs).
///
/// # Safety
/// `p` must be a block this allocator handed out (a root or a MAPIAllocateMore block).
unsafe fn header_of(p: *mut c_void) -> *mut Header {
    // SAFETY: every block we hand out starts HEADER bytes into its allocation.
    unsafe { (p as *mut u8).sub(HEADER) as *mut Header }
}

/// Allocates a zeroed root block.
///
/// # Safety
/// `lppBuffer` must be NULL or point to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn MAPIAllocateBuffer(cbSize: ULONG, lppBuffer: *mut LPVOID) -> SCODE {
    // SAFETY: `lppBuffer` is NULL (cleared_out checks) or writable, the caller's side of the
    // contract; `h` is a fresh block of HEADER + cbSize bytes, so `h + HEADER` is in bounds.
    unsafe {
        guard::free_fn("MAPIAllocateBuffer", || {
            let out = guard::cleared_out(lppBuffer, "lppBuffer")?;
            let h = allocate(cbSize, ROOT_MAGIC);
            if h.is_null() {
                return Err(MapiError::new(
                    MAPI_E_NOT_ENOUGH_MEMORY,
                    format!("MAPIAllocateBuffer: {cbSize} bytes could not be allocated"),
                ));
            }
            *out = (h as *mut u8).add(HEADER) as LPVOID;
            Ok(S_OK)
        })
    }
}

/// Allocates a zeroed block linked to the root `lpObject`; it is freed with that root.
///
/// # Safety
/// `lpObject` must be a live root from MAPIAllocateBuffer; `lppBuffer` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn MAPIAllocateMore(
    cbSize: ULONG,
    lpObject: LPVOID,
    lppBuffer: *mut LPVOID,
) -> SCODE {
    // SAFETY: `lpObject` is NULL (checked) or a live root from MAPIAllocateBuffer (the caller's
    // contract), so its header lies HEADER bytes before it, readable and ours; `h` is a fresh
    // block of HEADER + cbSize bytes; `lppBuffer` is NULL (checked) or writable.
    unsafe {
        guard::free_fn("MAPIAllocateMore", || {
            let out = guard::cleared_out(lppBuffer, "lppBuffer")?;
            if lpObject.is_null() {
                return Err(MapiError::invalid("MAPIAllocateMore: lpObject is NULL"));
            }
            let root = header_of(lpObject);
            if (*root).magic.load(Ordering::Acquire) != ROOT_MAGIC {
                return Err(MapiError::invalid(
                    "MAPIAllocateMore: lpObject is not a live MAPIAllocateBuffer block",
                ));
            }
            let h = allocate(cbSize, MORE_MAGIC);
            if h.is_null() {
                return Err(MapiError::new(
                    MAPI_E_NOT_ENOUGH_MEMORY,
                    format!("MAPIAllocateMore: {cbSize} bytes could not be allocated"),
                ));
            }
            // Push onto the root's list; a CAS loop keeps concurrent MAPIAllocateMore calls safe.
            let mut head = (*root).next.load(Ordering::Acquire);
            loop {
                (*h).next.store(head, Ordering::Relaxed);
                match (*root).next.compare_exchange_weak(
                    head,
                    h,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(now) => head = now,
                }
            }
            *out = (h as *mut u8).add(HEADER) as LPVOID;
            Ok(S_OK)
        })
    }
}

/// Frees a root block and every block chained to it. NULL is a no-op. Returns 0 (S_OK), or
/// MAPI_E_INVALID_PARAMETER's bits for a pointer that is not a live root.
///
/// # Safety
/// `lpBuffer` must be NULL or a root from MAPIAllocateBuffer not yet freed.
#[no_mangle]
pub unsafe extern "C" fn MAPIFreeBuffer(lpBuffer: LPVOID) -> ULONG {
    // SAFETY: `lpBuffer` is NULL (checked) or a root from MAPIAllocateBuffer not yet freed (the
    // caller's contract): its header and its chain of MAPIAllocateMore blocks are ours to read
    // and to free, each once (the magic's compare-exchange turns a second free into an error).
    unsafe {
        guard::free_fn_ulong("MAPIFreeBuffer", || {
            if lpBuffer.is_null() {
                return 0;
            }
            let root = header_of(lpBuffer);
            if (*root)
                .magic
                .compare_exchange(ROOT_MAGIC, FREED_MAGIC, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                guard::set_thread_error(MapiError::invalid(
                    "MAPIFreeBuffer: not a live MAPIAllocateBuffer block (double free, or a \
                 MAPIAllocateMore block)",
                ));
                return MAPI_E_INVALID_PARAMETER as u32;
            }
            let mut more = (*root).next.load(Ordering::Acquire);
            while !more.is_null() {
                let next = (*more).next.load(Ordering::Relaxed);
                (*more).magic.store(FREED_MAGIC, Ordering::Relaxed);
                libc::free(more as *mut c_void);
                more = next;
            }
            libc::free(root as *mut c_void);
            0
        })
    }
}

/// cbindgen:ignore
/// The allocator a result is built with: ours, or the three pointers CreateIProp was given.
#[derive(Clone, Copy)]
pub struct Allocator {
    // Private: `block`, `more_block` and `free` call these, so only `MAPI` and the unsafe
    // `foreign` may set them.
    buffer: AllocateBufferFn,
    more: AllocateMoreFn,
    free: FreeBufferFn,
    /// Whether these are this library's own MAPIAllocateBuffer/More/FreeBuffer: they return
    /// zeroed memory and run no client code. A caller's allocator (CreateIProp) may do neither:
    /// it must not be called with any lock of ours held, since it may call back into the object
    /// whose result it is allocating (DESIGN.md §7).
    ours: bool,
}

impl Allocator {
    pub(crate) const MAPI: Allocator = Allocator {
        buffer: MAPIAllocateBuffer,
        more: MAPIAllocateMore,
        free: MAPIFreeBuffer,
        ours: true,
    };

    /// A caller's allocator (CreateIProp): nothing assumed about what it returns.
    ///
    /// # Safety
    /// The three functions must behave as MAPI's: `buffer` stores NULL or a block of at least
    /// the size asked for (8-aligned) and returns S_OK or a failure code; `free` releases such
    /// a block. [`Allocator::block`] and [`Allocator::free`] rely on it.
    pub unsafe fn foreign(
        buffer: AllocateBufferFn,
        more: AllocateMoreFn,
        free: FreeBufferFn,
    ) -> Self {
        Allocator {
            buffer,
            more,
            free,
            ours: false,
        }
    }

    /// The allocator a client passes to CreateIProp / CreateTable: all three functions are
    /// required and `lpvReserved` must be NULL (MAPI_E_INVALID_PARAMETER otherwise).
    ///
    /// # Safety
    /// As for [`Allocator::foreign`].
    pub unsafe fn from_client(
        buffer: Option<AllocateBufferFn>,
        more: Option<AllocateMoreFn>,
        free: Option<FreeBufferFn>,
        reserved: LPVOID,
        method: &str,
    ) -> MapiResult<Self> {
        let (Some(buffer), Some(more), Some(free)) = (buffer, more, free) else {
            return Err(MapiError::invalid(format!(
                "{method}: the three allocator functions are required"
            )));
        };
        if !reserved.is_null() {
            return Err(MapiError::invalid(format!(
                "{method}: lpvReserved must be NULL"
            )));
        }
        // SAFETY: this function's contract is foreign's.
        Ok(unsafe { Self::foreign(buffer, more, free) })
    }

    /// Whether calling this allocator runs client code (a caller's CreateIProp allocator), so
    /// that no lock of ours may be held across the call.
    pub fn runs_client_code(&self) -> bool {
        !self.ours
    }

    /// Frees a block this allocator made.
    ///
    /// # Safety
    /// `p` must be NULL or a root block from `self.buffer`.
    pub unsafe fn free(&self, p: *mut c_void) {
        if !p.is_null() {
            // SAFETY: `p` is a root block from `self.buffer` (the caller's contract), and `free`
            // is MAPIFreeBuffer or a function the maker of this allocator vouched for (`foreign`).
            unsafe { (self.free)(p) };
        }
    }

    /// One zeroed block of `size` bytes (results are sized up front: DESIGN.md §7).
    pub fn block(&self, size: usize) -> MapiResult<*mut u8> {
        // SAFETY: `p` is a valid out-pointer; `buffer` is MAPIAllocateBuffer or a function the
        // maker of this allocator vouched for (`Allocator::foreign`).
        self.zeroed(size, "", |size, p| unsafe { (self.buffer)(size, p) })
    }

    /// One zeroed block of `size` bytes chained to `parent` (MAPIAllocateMore): freed with it.
    ///
    /// # Safety
    /// `parent` must be a live root block this allocator made.
    pub unsafe fn more_block(&self, size: usize, parent: *mut c_void) -> MapiResult<*mut u8> {
        // SAFETY: `p` is a valid out-pointer; `parent` is a live root block of this allocator
        // (this method's contract); `more` is MAPIAllocateMore or a function the maker of this
        // allocator vouched for (`Allocator::foreign`).
        self.zeroed(size, "chained ", |size, p| unsafe {
            (self.more)(size, parent, p)
        })
    }

    /// Calls `alloc(size, &mut p)` and checks and zeroes what it gave.
    fn zeroed(
        &self,
        size: usize,
        kind: &str,
        alloc: impl FnOnce(ULONG, *mut LPVOID) -> SCODE,
    ) -> MapiResult<*mut u8> {
        let size = ULONG::try_from(size).map_err(|_| {
            MapiError::new(
                MAPI_E_NOT_ENOUGH_MEMORY,
                format!("a result of {size} bytes is larger than MAPI can allocate"),
            )
        })?;
        let mut p: LPVOID = ptr::null_mut();
        let sc = alloc(size, &mut p);
        if sc != S_OK || p.is_null() {
            return Err(MapiError::new(
                if sc < 0 { sc } else { MAPI_E_NOT_ENOUGH_MEMORY },
                format!("allocating a {kind}result of {size} bytes failed"),
            ));
        }
        // A foreign allocator need not zero; results are written field by field, but padding
        // and unused union bytes must not leak stale memory. (MAPIAllocateBuffer has zeroed the
        // block already.)
        if !self.ours {
            // SAFETY: `p` is a block of at least `size` bytes (checked non-NULL above).
            unsafe { ptr::write_bytes(p as *mut u8, 0, size as usize) };
        }
        Ok(p as *mut u8)
    }
}

/// cbindgen:ignore
/// Lays out data after the fixed part of a block: each piece 8-byte aligned, within bounds.
pub struct BlockWriter {
    base: *mut u8,
    len: usize,
    used: usize,
}

/// Rounds up to MAPI's 8-byte alignment.
pub const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// The bytes [`BlockWriter::wide`] takes for `s`: one unit per UTF-8 byte (never fewer than
/// the UTF-16 form needs) and the terminator, so sizing need not look at the text.
#[inline(always)]
pub fn wide_room(s: &str) -> usize {
    align8((s.len() + 1) * 2)
}

/// Writes `s` as UTF-16 at the start of `out` (`out.len() == s.len()`, all zero) and leaves
/// the rest zero. Most text is ASCII: one widening pass that also ORs the bytes together (no
/// early exit, so the compiler vectorises it) is the whole conversion when no byte had a bit
/// above 0x7F; other text is converted again with the full encoder over what that pass wrote.
fn widen_into(out: &mut [u16], s: &str) {
    let mut seen = 0u8;
    for (o, &b) in out.iter_mut().zip(s.as_bytes()) {
        *o = b as u16;
        seen |= b;
    }
    if seen >= 0x80 {
        widen_non_ascii(out, s);
    }
}

#[cold]
#[inline(never)]
fn widen_non_ascii(out: &mut [u16], s: &str) {
    let mut n = 0;
    for (o, u) in out.iter_mut().zip(s.encode_utf16()) {
        *o = u;
        n += 1;
    }
    out[n..].fill(0);
}

impl BlockWriter {
    /// `base` is a block of `len` bytes; the first `fixed` bytes are the caller's.
    ///
    /// # Safety
    /// `base` must be valid for writes of `len` bytes, 8-byte aligned and zeroed, for as long as
    /// the writer is used; nothing else may write to `base[fixed..len]` meanwhile. Every method
    /// writes within those bounds (checked) relying on it.
    pub unsafe fn new(base: *mut u8, len: usize, fixed: usize) -> Self {
        BlockWriter {
            base,
            len,
            used: align8(fixed),
        }
    }

    /// Reserves `n` bytes (8-aligned) and returns their address.
    pub fn reserve(&mut self, n: usize) -> *mut u8 {
        let at = self.used;
        self.used = align8(at + n);
        assert!(self.used <= self.len, "result block sized too small");
        // SAFETY: `at` <= `used` <= `len`, within the block `new` was given.
        unsafe { self.base.add(at) }
    }

    /// Copies `bytes` in, followed by `nul` zero bytes (a C string terminator).
    pub fn bytes(&mut self, bytes: &[u8], nul: usize) -> *mut u8 {
        let p = self.reserve(bytes.len() + nul);
        // SAFETY: `p` has room for bytes.len() + nul bytes (block is zeroed, so the NULs are set).
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        p
    }

    /// Copies `s` in as UTF-16, NUL-terminated, converting straight into the block; takes
    /// [`wide_room`] bytes.
    pub fn wide(&mut self, s: &str) -> *mut u16 {
        let p = self.reserve((s.len() + 1) * 2) as *mut u16;
        // SAFETY: `reserve` checked room for s.len() units + terminator, and a UTF-8 string
        // never has more UTF-16 units than bytes; 8-aligned satisfies u16. The block is zeroed,
        // so the units after the text (the terminator among them) are 0 until written.
        let out = unsafe { std::slice::from_raw_parts_mut(p, s.len()) };
        widen_into(out, s);
        p
    }

    /// Writes `items` converted by `f` (an MV array in its C layout), with no copy in between.
    pub fn map<T, U: Copy>(&mut self, items: &[T], mut f: impl FnMut(&T) -> U) -> *mut U {
        let p = self.reserve(std::mem::size_of::<U>() * items.len()) as *mut U;
        for (i, item) in items.iter().enumerate() {
            // SAFETY: room for items.len() values of U; 8-aligned satisfies every U used (≤ 8).
            unsafe { p.add(i).write(f(item)) };
        }
        p
    }

    /// Copies a slice of plain values in.
    pub fn slice<T: Copy>(&mut self, items: &[T]) -> *mut T {
        let p = self.reserve(std::mem::size_of_val(items)) as *mut T;
        // SAFETY: room for the slice; 8-aligned satisfies every T used here (≤ 8).
        unsafe { ptr::copy_nonoverlapping(items.as_ptr(), p, items.len()) };
        p
    }
}

#[cfg(test)]
mod wide_tests {
    use super::*;

    /// What [`BlockWriter::wide`] leaves in its [`wide_room`] bytes, as units.
    fn written(s: &str) -> Vec<u16> {
        let room = wide_room(s);
        let mut block = vec![0u64; room / 8];
        // SAFETY: `block` is `room` zeroed, 8-aligned bytes, used only through the writer.
        let mut w = unsafe { BlockWriter::new(block.as_mut_ptr() as *mut u8, room, 0) };
        let p = w.wide(s);
        assert_eq!(p as *mut u8, block.as_mut_ptr() as *mut u8);
        // SAFETY: the block holds room / 2 units.
        unsafe { std::slice::from_raw_parts(p, room / 2) }.to_vec()
    }

    /// The general encoder's answer padded with zeros to the same room.
    fn expected(s: &str) -> Vec<u16> {
        let mut units: Vec<u16> = s.encode_utf16().collect();
        units.resize(wide_room(s) / 2, 0);
        units
    }

    #[test]
    fn wide_matches_the_general_encoder() {
        let ascii = "Quarterly report: draft 3, 0123456789abcdefghijklmnopq";
        for n in 0..=ascii.len() {
            assert_eq!(written(&ascii[..n]), expected(&ascii[..n]), "{n}");
        }
        // One non-ASCII character (two, three and four UTF-8 bytes; the last a surrogate
        // pair) at every position of a short and of a vector-sized string.
        for c in ['é', '\u{7F}', '\u{80}', '€', '\u{FFFF}', '𝄞', '\u{10FFFF}'] {
            for base in ["IPM.Note", "Quarterly report: draft 3, 0123456789"] {
                for at in 0..=base.len() {
                    let s = format!("{}{c}{}", &base[..at], &base[at..]);
                    let got = written(&s);
                    assert_eq!(got, expected(&s), "{s:?}");
                    assert_eq!(got[s.encode_utf16().count()], 0, "terminator of {s:?}");
                }
            }
        }
        assert_eq!(written("日本語のテキスト"), expected("日本語のテキスト"));
        assert_eq!(written(""), vec![0; 4]);
    }
}
