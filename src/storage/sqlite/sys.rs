//! The system calls of the writers' queue (queue.rs) that std has no safe form of: open file
//! description locks on single bytes of a file (`F_OFD_*`: owned by the open file, not the
//! process, so two handles of one process exclude each other, and released by the kernel when a
//! process dies), a shared memory map of a file, and futex waits on a word of it (which work
//! across processes on a shared mapping). Kept here, beside create.rs, as the only `unsafe` of
//! the storage layer (`tests/layers.rs` holds that line).

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

fn flock_for(kind: libc::c_int, byte: u64) -> io::Result<libc::flock> {
    let start = libc::off_t::try_from(byte)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "lock offset out of range"))?;
    // SAFETY: flock is plain data; every field the kernel reads is set below (l_pid must be 0
    // for OFD locks).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start;
    fl.l_len = 1;
    Ok(fl)
}

fn fcntl_lock(file: &File, cmd: libc::c_int, fl: &mut libc::flock) -> io::Result<()> {
    loop {
        // SAFETY: the descriptor is open for the call (borrowed File); `fl` is a valid flock.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, fl as *mut libc::flock) };
        if r != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Takes a write lock on byte `byte` of `file` for this open file if nobody else holds one;
/// `Ok(false)` at once if another does (a wait in the kernel could not end at a deadline).
pub(super) fn lock_byte(file: &File, byte: u64) -> io::Result<bool> {
    let mut fl = flock_for(libc::F_WRLCK, byte)?;
    match fcntl_lock(file, libc::F_OFD_SETLK, &mut fl) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Releases this open file's lock on byte `byte` of `file`.
pub(super) fn unlock_byte(file: &File, byte: u64) -> io::Result<()> {
    let mut fl = flock_for(libc::F_UNLCK, byte)?;
    fcntl_lock(file, libc::F_OFD_SETLK, &mut fl)
}

/// Whether another open file (of this process or another) holds a lock on byte `byte`.
pub(super) fn byte_locked_elsewhere(file: &File, byte: u64) -> io::Result<bool> {
    let mut fl = flock_for(libc::F_WRLCK, byte)?;
    fcntl_lock(file, libc::F_OFD_GETLK, &mut fl)?;
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

/// The first `len` bytes of a file mapped shared: every process mapping the file sees the
/// same words. The file must be at least `len` bytes long and never shortened (a page past its
/// end would fault).
pub(super) struct SharedMap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the map is only read and written through atomics (`u64_at`, `u32_at`).
unsafe impl Send for SharedMap {}
unsafe impl Sync for SharedMap {}

impl SharedMap {
    pub(super) fn new(file: &File, len: usize) -> io::Result<SharedMap> {
        // SAFETY: a fresh mapping of an open descriptor; the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(SharedMap { ptr, len })
    }

    fn at(&self, offset: usize, size: usize) -> NonNull<u8> {
        assert!(
            offset.is_multiple_of(size) && offset + size <= self.len,
            "a shared word must be aligned and inside the map"
        );
        // SAFETY: checked above to lie inside the mapping.
        unsafe { self.ptr.add(offset) }
    }

    pub(super) fn u64_at(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: aligned, inside the mapping (checked by `at`), which lives as long as `self`;
        // other processes touch it only through atomics too.
        unsafe { self.at(offset, 8).cast::<AtomicU64>().as_ref() }
    }

    pub(super) fn u32_at(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: as for `u64_at`.
        unsafe { self.at(offset, 4).cast::<AtomicU32>().as_ref() }
    }
}

impl Drop for SharedMap {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; no reference outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Sleeps while `word` holds `expected`, for at most `timeout` (a wake, a signal or a changed
/// word ends it early; callers re-check what they wait for).
pub(super) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a valid, aligned u32 for the call; FUTEX_WAIT (not _PRIVATE) so a wake
    // from another process's mapping of the same file reaches it.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wakes every waiter on `word`, in any process.
pub(super) fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a valid, aligned u32; the other arguments are unused by FUTEX_WAKE.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// The system's monotonic clock in nanoseconds: one clock for every process of the machine
/// (std's `Instant` cannot be shared between processes).
pub(super) fn monotonic_nanos() -> u64 {
    // SAFETY: zeroed timespec is valid; clock_gettime only writes it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}
