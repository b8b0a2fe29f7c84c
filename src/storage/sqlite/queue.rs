//! The writers' queue of one store file across processes (issue 16, item 3). SQLite's write lock
//! has no queue: a writer that finds it taken polls (the busy handler), so under contention the
//! pollers take the CPU from the lock's holder and whoever polls at the right moment wins, again
//! and again. Here each process's writer first takes a ticket and sleeps in the kernel (a futex
//! on a shared page) until its number is served; it keeps its turn from before `BEGIN
//! IMMEDIATE` until its group has committed, and passing the turn on wakes the next writer
//! exactly when SQLite's lock is free. Correctness never rests on the queue — SQLite's lock
//! still guards every write — so whatever goes wrong with it costs order, never data.
//!
//! The side file `<store>-writers` holds one page: the ticket counters. Liveness rests on locks
//! the kernel drops when their holder dies, never on state in the file:
//! - each ticket holder holds an open-file-description lock on its ticket's byte (a slot); a
//!   waiter that sees the number being served stay unchanged for `LIVENESS` checks that slot,
//!   and if nobody holds it (the holder died, or gave up at its deadline) serves the next number
//!   itself;
//! - every opener holds a shared lock on the "alive" byte; the first opener after the last one
//!   closed (a reboot, a copied store) gets it exclusively and resets the counters.
//!
//! Each wait ends at the save's deadline (the 60 s limit from its own start). A place where the
//! side file cannot be made (a read-only directory) has no queue: writers poll as before. The
//! last opener to close removes the side file (as SQLite does its `-wal` and `-shm`); an opener
//! that finds its file was removed meanwhile opens the new one.
//!
//! The system calls std has no safe form of (`mmap`, `futex`, open-file-description locks) are
//! here and in `create.rs` only, outside `src/abi/` (`tests/layers.rs` holds that line).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The shared page's layout.
#[repr(C)]
struct Counters {
    magic: AtomicU32,
    /// The next ticket to hand out.
    next: AtomicU32,
    /// The ticket whose turn it is.
    serving: AtomicU32,
}

const MAGIC: u32 = 0x6d73_7131; // "msq1"
const PAGE: usize = 4096;
/// Lock bytes: initialisation, the openers' presence, then one slot per ticket (modulo SLOTS).
const INIT_BYTE: i64 = 0;
const ALIVE_BYTE: i64 = 1;
const SLOT_BASE: i64 = PAGE as i64;
const SLOTS: u32 = 4096;
/// How long the number being served may stay unchanged before a waiter checks its holder lives.
/// A writer's turn lasts a commit (~0.1–2 ms): far shorter.
const LIVENESS: Duration = Duration::from_millis(20);

/// One opener's view of a store file's queue: its own open file description (so its locks are
/// its own, even against another handle in this process) and the shared page.
pub(super) struct WriterQueue {
    path: std::path::PathBuf,
    file: File,
    counters: NonNull<Counters>,
    /// The process that opened it: a child after `fork()` shares the descriptor (and its locks)
    /// with the parent, so it never uses it.
    pid: u32,
}

// SAFETY: the page is shared memory used only through atomics; the file is a plain descriptor.
unsafe impl Send for WriterQueue {}
// SAFETY: as above: every access to the page is atomic.
unsafe impl Sync for WriterQueue {}

/// A writer's turn: held from before BEGIN IMMEDIATE until its group has committed.
#[derive(Debug)]
pub(super) struct Turn {
    ticket: u32,
}

impl WriterQueue {
    /// The queue beside `store` (made if missing); None where it cannot be had (the writers then
    /// poll SQLite's lock as without it). `MSGSTORE_NO_WRITER_QUEUE=1` turns it off (for
    /// measuring what it does).
    pub(super) fn open(store: &Path) -> Option<WriterQueue> {
        if std::env::var("MSGSTORE_NO_WRITER_QUEUE").is_ok_and(|v| v == "1") {
            return None;
        }
        let mut name = store.as_os_str().to_owned();
        name.push("-writers");
        let path = std::path::PathBuf::from(name);
        // A file removed by its last opener between our open and our join: open the new one.
        for _ in 0..3 {
            let queue = Self::open_file(&path)?;
            if queue.join()? {
                return Some(queue);
            }
        }
        None
    }

    fn open_file(path: &Path) -> Option<WriterQueue> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        if meta.len() < PAGE as u64 {
            file.set_len(PAGE as u64).ok()?;
        }
        // SAFETY: a fresh shared mapping of one page of a regular file at least that long; the
        // result is checked before use.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        Some(WriterQueue {
            path: path.to_path_buf(),
            file,
            counters: NonNull::new(map.cast::<Counters>())?,
            pid: std::process::id(),
        })
    }

    /// Whether the side file's name still leads to this opener's file.
    fn still_named(&self) -> bool {
        match (std::fs::symlink_metadata(&self.path), self.file.metadata()) {
            (Ok(named), Ok(ours)) => named.dev() == ours.dev() && named.ino() == ours.ino(),
            _ => false,
        }
    }

    fn counters(&self) -> &Counters {
        // SAFETY: the mapping lives as long as self and is page-aligned; Counters is three
        // atomics, valid for any bit pattern.
        unsafe { self.counters.as_ref() }
    }

    /// Marks this opener present; the first opener since the last one closed resets the
    /// counters (nobody holds a ticket then). None if the page is not a queue's (or the
    /// initialisation lock stays taken); Some(false) if the file lost its name meanwhile.
    fn join(&self) -> Option<bool> {
        if !self.lock_init() {
            return None;
        }
        let joined = if !self.still_named() {
            Some(false)
        } else {
            let c = self.counters();
            if self.lock(ALIVE_BYTE, libc::F_WRLCK) {
                c.next.store(0, Ordering::SeqCst);
                c.serving.store(0, Ordering::SeqCst);
                c.magic.store(MAGIC, Ordering::SeqCst);
            }
            (c.magic.load(Ordering::SeqCst) == MAGIC && self.lock(ALIVE_BYTE, libc::F_RDLCK))
                .then_some(true)
        };
        self.unlock(INIT_BYTE);
        joined
    }

    /// Openers join and leave one at a time; each holds the byte for a few system calls.
    fn lock_init(&self) -> bool {
        let start = Instant::now();
        while !self.lock(INIT_BYTE, libc::F_WRLCK) {
            if start.elapsed() > Duration::from_millis(500) {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    /// Waits for this writer's turn, until `deadline`. None: no turn to be had (a forked child,
    /// or the deadline passed: the caller's own wait for SQLite's lock then says so).
    pub(super) fn wait_turn(&self, deadline: Instant) -> Option<Turn> {
        if self.pid != std::process::id() {
            return None;
        }
        let c = self.counters();
        let ticket = c.next.fetch_add(1, Ordering::SeqCst);
        // Normally free; taken only if SLOTS tickets are out at once, and then this ticket is
        // merely skipped early by a waiter that sees no holder.
        let marked = self.lock(slot(ticket), libc::F_WRLCK);
        let mut seen = c.serving.load(Ordering::SeqCst);
        let mut seen_since = Instant::now();
        loop {
            let serving = c.serving.load(Ordering::SeqCst);
            // Served, or passed over (a waiter found this ticket's slot free): its turn.
            if ticket.wrapping_sub(serving) as i32 <= 0 {
                return Some(Turn { ticket });
            }
            let now = Instant::now();
            if now >= deadline {
                if marked {
                    self.unlock(slot(ticket));
                }
                // Whoever waits on this ticket finds its slot free and passes it over.
                return None;
            }
            if serving != seen {
                seen = serving;
                seen_since = now;
            } else if now.duration_since(seen_since) >= LIVENESS && !self.held(slot(serving)) {
                // The holder of the turn died or gave up: serve the next number.
                if c.serving
                    .compare_exchange(
                        serving,
                        serving.wrapping_add(1),
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                    .is_ok()
                {
                    self.wake();
                }
                seen_since = now;
                continue;
            }
            self.sleep_while(serving, (deadline - now).min(LIVENESS));
        }
    }

    /// Passes the turn to the next ticket.
    pub(super) fn pass(&self, turn: Turn) {
        let c = self.counters();
        // Fails only if a waiter passed this ticket over (it looked dead): nothing to pass then.
        let _ = c.serving.compare_exchange(
            turn.ticket,
            turn.ticket.wrapping_add(1),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.wake();
        self.unlock(slot(turn.ticket));
    }

    /// Sleeps in the kernel while the number served is `serving`, at most `timeout`.
    fn sleep_while(&self, serving: u32, timeout: Duration) {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: FUTEX_WAIT on an aligned u32 of the live shared mapping, with a relative
        // timeout on the stack; it only reads the word (a shared, not private, futex: the
        // mapping is the same page in every process).
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.counters().serving.as_ptr(),
                libc::FUTEX_WAIT,
                serving,
                &ts as *const libc::timespec,
            );
        }
    }

    /// Wakes every waiter (each checks whether its number is served).
    fn wake(&self) {
        // SAFETY: FUTEX_WAKE on an aligned u32 of the live shared mapping.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.counters().serving.as_ptr(),
                libc::FUTEX_WAKE,
                i32::MAX,
            );
        }
    }

    /// Takes (`F_WRLCK`/`F_RDLCK`) a lock on one byte without waiting; whether it was had.
    fn lock(&self, byte: i64, kind: libc::c_int) -> bool {
        self.fcntl(libc::F_OFD_SETLK, byte, kind).is_some()
    }

    fn unlock(&self, byte: i64) {
        let _ = self.fcntl(libc::F_OFD_SETLK, byte, libc::F_UNLCK);
    }

    /// Whether another opener holds a lock on `byte`.
    fn held(&self, byte: i64) -> bool {
        self.fcntl(libc::F_OFD_GETLK, byte, libc::F_WRLCK)
            .is_none_or(|l| l.l_type != libc::F_UNLCK as libc::c_short)
    }

    fn fcntl(&self, cmd: libc::c_int, byte: i64, kind: libc::c_int) -> Option<libc::flock> {
        // SAFETY: flock is plain data; all-zero is valid (l_pid must be 0 for OFD locks).
        let mut l: libc::flock = unsafe { std::mem::zeroed() };
        l.l_type = kind as libc::c_short;
        l.l_whence = libc::SEEK_SET as libc::c_short;
        l.l_start = byte as libc::off_t;
        l.l_len = 1;
        // SAFETY: an open-file-description lock request on our own descriptor with a valid
        // flock on the stack.
        let rc = unsafe { libc::fcntl(self.file.as_raw_fd(), cmd, &mut l as *mut libc::flock) };
        (rc == 0).then_some(l)
    }
}

impl Drop for WriterQueue {
    fn drop(&mut self) {
        // The last opener removes the side file (a forked child never does: the descriptor,
        // and its locks, are its parent's too).
        if self.pid == std::process::id() && self.lock_init() {
            if self.lock(ALIVE_BYTE, libc::F_WRLCK) && self.still_named() {
                let _ = std::fs::remove_file(&self.path);
            }
            self.unlock(INIT_BYTE);
        }
        // SAFETY: the mapping made in `open`, unmapped once; closing the file then drops this
        // opener's locks.
        unsafe {
            libc::munmap(self.counters.as_ptr().cast(), PAGE);
        }
    }
}

fn slot(ticket: u32) -> i64 {
    SLOT_BASE + i64::from(ticket % SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn store(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("msgstore-queue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let _ = std::fs::remove_file(format!("{}-writers", path.display()));
        path
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    /// Openers (each its own descriptor, as separate processes would have) take turns in the
    /// order they took tickets, each woken when the one before passes.
    #[test]
    fn turns_go_in_ticket_order() {
        let path = store("order");
        let first = WriterQueue::open(&path).unwrap();
        let turn = first.wait_turn(far()).unwrap();
        let order = Arc::new(Mutex::new(vec![]));
        let mut waiters = vec![];
        for i in 0..6 {
            let (path, order) = (path.clone(), order.clone());
            let q = WriterQueue::open(&path).unwrap();
            let before = q.counters().next.load(Ordering::SeqCst);
            waiters.push(std::thread::spawn(move || {
                let turn = q.wait_turn(far()).unwrap();
                order.lock().unwrap().push(i);
                std::thread::sleep(Duration::from_millis(2));
                q.pass(turn);
            }));
            // The next waiter takes its ticket only after this one has.
            while first.counters().next.load(Ordering::SeqCst) == before {
                std::thread::yield_now();
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        assert!(order.lock().unwrap().is_empty(), "nobody passes the holder");
        first.pass(turn);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }

    /// A holder that goes away without passing (a killed process: its descriptor closes) does
    /// not stop the queue: the next writer gets its turn about LIVENESS later.
    #[test]
    fn a_vanished_holder_is_passed_over() {
        let path = store("vanished");
        let holder = WriterQueue::open(&path).unwrap();
        let next = WriterQueue::open(&path).unwrap();
        // The turn is never passed: its holder's descriptor closes, as when a process dies.
        let _never_passed = holder.wait_turn(far()).unwrap();
        drop(holder);
        let start = Instant::now();
        let turn = next.wait_turn(far()).expect("the turn passes on");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        next.pass(turn);
    }

    /// A waiter gives up at its deadline (the holder keeps its turn); the one behind it is not
    /// held up by the one that left.
    #[test]
    fn waits_end_at_the_deadline_and_leavers_are_skipped() {
        let path = store("deadline");
        let holder = WriterQueue::open(&path).unwrap();
        let leaver = WriterQueue::open(&path).unwrap();
        let last = WriterQueue::open(&path).unwrap();
        let turn = holder.wait_turn(far()).unwrap();
        let start = Instant::now();
        assert!(leaver
            .wait_turn(Instant::now() + Duration::from_millis(100))
            .is_none());
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(100) && waited < Duration::from_millis(600),
            "{waited:?}"
        );
        let behind = std::thread::spawn(move || {
            let t = last.wait_turn(far()).unwrap();
            last.pass(t);
            Instant::now()
        });
        std::thread::sleep(Duration::from_millis(30));
        let passed = Instant::now();
        holder.pass(turn);
        let got = behind.join().unwrap();
        assert!(
            got.duration_since(passed) < Duration::from_millis(500),
            "the writer behind a leaver waited {:?}",
            got.duration_since(passed)
        );
    }

    /// Counters left by openers long gone (a process killed before it could remove the file, a
    /// copied store, a reboot) are reset by the first opener, so no ticket waits for numbers
    /// nobody will serve.
    #[test]
    fn stale_counters_are_reset_by_the_first_opener() {
        let path = store("stale");
        let mut page = vec![0u8; PAGE];
        for (i, v) in [MAGIC, 5_000, 12].into_iter().enumerate() {
            page[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
        std::fs::write(format!("{}-writers", path.display()), &page).unwrap();
        let q = WriterQueue::open(&path).unwrap();
        let start = Instant::now();
        let turn = q.wait_turn(far()).unwrap();
        assert!(start.elapsed() < LIVENESS, "{:?}", start.elapsed());
        q.pass(turn);
        // A second opener while the first is open keeps the counters.
        let other = WriterQueue::open(&path).unwrap();
        assert_eq!(other.counters().next.load(Ordering::SeqCst), 1);
    }

    /// The last opener to close removes the side file; one still open keeps it.
    #[test]
    fn the_last_opener_removes_the_side_file() {
        let path = store("removed");
        let side = format!("{}-writers", path.display());
        let a = WriterQueue::open(&path).unwrap();
        let b = WriterQueue::open(&path).unwrap();
        drop(a);
        assert!(Path::new(&side).exists(), "an opener remains");
        drop(b);
        assert!(!Path::new(&side).exists(), "the last opener removed it");
        let c = WriterQueue::open(&path).unwrap();
        assert!(Path::new(&side).exists());
        let turn = c.wait_turn(far()).unwrap();
        c.pass(turn);
    }

    #[test]
    fn no_queue_where_the_side_file_cannot_be_made() {
        assert!(WriterQueue::open(Path::new("/proc/msgstore-no-such-dir/store")).is_none());
    }
}
