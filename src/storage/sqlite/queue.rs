//! The writers' queue of one store file (issue 16, item 3). SQLite's write lock has no queue:
//! a process that finds it taken polls (the busy handler), so the holder, its next taker and
//! the pollers compete for the CPU and a process can be passed over again and again (with 8
//! processes the slowest got half the saves of the fastest, and a save waited up to ~400 ms).
//! So each process's writer (group.rs) first takes a place in this queue, and the places are
//! served in order of arrival; SQLite's lock is still what excludes writers, the queue only
//! decides who asks next.
//!
//! The queue is a side file beside the store (`NAME-writers`). A place is a ticket, taken from a
//! counter in the file under a lock on its byte 0, and a lock on byte `SLOT_BASE + ticket`, held
//! until the place is given up: ticket `t` waits until nobody holds byte `t - 1`. The locks
//! are open-file-description locks, so the kernel drops them when a process dies, and a dead
//! process's place frees its successor. Waiting is a futex sleep on a word of the file's shared
//! mapping that the predecessor bumps when it leaves, re-checked every `RECHECK` (a dead
//! predecessor never bumps it). A place waits at most `PATIENCE` for the ones before it (a
//! stopped process must not hold up the others for longer), and never past the save's deadline;
//! then it goes on to SQLite's lock as if there were no queue. Where the side file cannot be
//! made (a read-only directory), there is no queue.
//!
//! A place whose save found its message changed (MAPI_E_OBJECT_CHANGED) is kept for `GRACE`
//! for the client's retry (it reopens and saves again): without that, on one message the last
//! client to save is always the only one whose view is fresh when its turn comes again, and
//! the others, queued behind it with views it made stale, never win. A kept place says until
//! when in the file; the places after it wait no longer than that.

use super::sys;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The side file's length: the ticket counter and the wake words.
const MAP_LEN: usize = 4096;
/// The ticket counter's offset in the file.
const COUNTER: usize = 0;
/// The wake words' offset, and how many there are: ticket `t` sleeps on word `t % WAKE_WORDS`
/// (two places share a word only with more than this many waiting: a spurious wake).
const WAKE_WORDS_AT: usize = 64;
const WAKE_WORDS: u64 = 256;
/// Until when (monotonic nanoseconds) ticket `t`'s place is kept for a retry: word
/// `t % WAKE_WORDS` of the u64s here; 0 while it is not kept.
const KEPT_UNTIL_AT: usize = 2048;
/// The byte whose lock guards the counter.
const COUNTER_BYTE: u64 = 0;
/// Ticket `t`'s place is a lock on byte `SLOT_BASE + t` (past any byte the file has).
const SLOT_BASE: u64 = 1 << 32;
/// How long a place sleeps before it looks again whether its predecessor is still there.
const RECHECK: Duration = Duration::from_millis(20);
/// How long a place waits for those before it at most.
pub(super) const PATIENCE: Duration = Duration::from_secs(2);
/// How long a place is kept for a retry after a conflict (a reopen, GetProps, SetProps and
/// SaveChanges take well under a millisecond; the rest is for the scheduler).
const GRACE: Duration = Duration::from_millis(10);
/// A kept place is taken up again only this long before its end, so that a successor that
/// sees it expire and the keeper do not both go.
const GRACE_MARGIN: Duration = Duration::from_millis(2);

/// This writer's end of a store file's queue: its own open file (places of two handles of one
/// process are distinct) and the shared mapping.
pub(super) struct WriterQueue {
    file: File,
    map: sys::SharedMap,
    patience: Duration,
}

/// A place in the queue, taken by `join` and given up by `leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place(u64);

/// A place kept after a conflict (`keep`), for this process's next save to `take_up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Kept {
    place: Place,
    /// Monotonic nanoseconds.
    until: u64,
}

impl WriterQueue {
    /// The queue of the store at `store`; None where its side file cannot be opened or made,
    /// or when `MSGSTORE_NO_WRITER_QUEUE` is set (the benchmark's baseline).
    pub(super) fn open(store: &Path) -> Option<WriterQueue> {
        if std::env::var_os("MSGSTORE_NO_WRITER_QUEUE").is_some() {
            return None;
        }
        WriterQueue::open_with_patience(store, PATIENCE)
    }

    pub(super) fn open_with_patience(store: &Path, patience: Duration) -> Option<WriterQueue> {
        let path = super::side_file(store, "-writers");
        // Whoever may write the store may use its queue (as SQLite makes its -wal and -shm).
        let mode = std::fs::metadata(store).map_or(0o644, |m| m.permissions().mode() & 0o666);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode)
            .open(&path)
            .ok()?;
        // Never shortened, only lengthened (by whoever first opens it): a mapped page past the
        // end would fault.
        if file.metadata().ok()?.len() < MAP_LEN as u64 {
            file.set_len(MAP_LEN as u64).ok()?;
        }
        let map = sys::SharedMap::new(&file, MAP_LEN).ok()?;
        Some(WriterQueue {
            file,
            map,
            patience,
        })
    }

    fn wake_word(&self, ticket: u64) -> &std::sync::atomic::AtomicU32 {
        self.map
            .u32_at(WAKE_WORDS_AT + 4 * (ticket % WAKE_WORDS) as usize)
    }

    fn kept_until(&self, ticket: u64) -> &std::sync::atomic::AtomicU64 {
        self.map
            .u64_at(KEPT_UNTIL_AT + 8 * (ticket % WAKE_WORDS) as usize)
    }

    /// Keeps `place` for this process's retry: the places after it wait for it until then.
    pub(super) fn keep(&self, place: Place) -> Kept {
        let until = sys::monotonic_nanos() + GRACE.as_nanos() as u64;
        self.kept_until(place.0).store(until, Ordering::Release);
        // The next place may be asleep since before the keep, until its next look (RECHECK):
        // woken, it waits for the kept time at most (it waited RECHECK whole for a keeper that
        // never came back, e.g. a client that stopped after a conflict: longest saves of 20,
        // 40, 60 ms with 2, 4, 8 processes on one message).
        self.wake_next(place);
        Kept { place, until }
    }

    /// Gives up a kept place that will not be taken up (its store is closing).
    pub(super) fn give_up(&self, kept: Kept) {
        self.leave(kept.place);
    }

    /// The kept place back if it is still this process's to take (else it is given up).
    pub(super) fn take_up(&self, kept: Kept) -> Option<Place> {
        if sys::monotonic_nanos() + (GRACE_MARGIN.as_nanos() as u64) < kept.until {
            self.kept_until(kept.place.0).store(0, Ordering::Release);
            Some(kept.place)
        } else {
            self.leave(kept.place);
            None
        }
    }

    /// Takes the next place and waits until the places before it have left (or patience or
    /// `deadline` ran out). None if the queue could not be used (the save goes on without it).
    pub(super) fn join(&self, deadline: Instant) -> Option<Place> {
        let ticket = self.take_ticket(deadline.min(Instant::now() + self.patience))?;
        if ticket > 0 {
            self.wait_for(ticket - 1, ticket, deadline);
        }
        Some(Place(ticket))
    }

    /// The next ticket, with its place's lock taken before the counter's lock is let go (so
    /// the next ticket's holder never finds this place empty before it is taken). The counter's
    /// lock is held for two system calls; it is polled, not waited for in the kernel, so that a
    /// process stopped while holding it costs the others no more than `give_up`.
    fn take_ticket(&self, give_up: Instant) -> Option<u64> {
        while !sys::lock_byte(&self.file, COUNTER_BYTE).ok()? {
            if Instant::now() >= give_up {
                return None;
            }
            std::thread::sleep(Duration::from_micros(20));
        }
        let counter = self.map.u64_at(COUNTER);
        let ticket = counter.load(Ordering::Acquire);
        let placed = ticket < u64::MAX - SLOT_BASE
            && sys::lock_byte(&self.file, SLOT_BASE + ticket).unwrap_or(false);
        if placed {
            counter.store(ticket + 1, Ordering::Release);
            self.kept_until(ticket).store(0, Ordering::Release);
        }
        let _ = sys::unlock_byte(&self.file, COUNTER_BYTE);
        placed.then_some(ticket)
    }

    /// Sleeps until ticket `before`'s place is empty.
    fn wait_for(&self, before: u64, ticket: u64, deadline: Instant) {
        let give_up = deadline.min(Instant::now() + self.patience);
        let word = self.wake_word(ticket);
        loop {
            // Read the word before looking at the lock: a leave after the look changes it, so
            // the sleep below does not miss its wake.
            let seen = word.load(Ordering::Acquire);
            if !sys::byte_locked_elsewhere(&self.file, SLOT_BASE + before).unwrap_or(false) {
                return;
            }
            let mut sleep = RECHECK;
            let kept_until = self.kept_until(before).load(Ordering::Acquire);
            if kept_until != 0 {
                // Kept for a retry: wait until then, not longer.
                let left = kept_until.saturating_sub(sys::monotonic_nanos());
                if left == 0 {
                    return;
                }
                sleep = sleep.min(Duration::from_nanos(left));
            }
            let now = Instant::now();
            if now >= give_up {
                return;
            }
            sys::futex_wait(word, seen, (give_up - now).min(sleep));
        }
    }

    /// Gives up `place` and wakes the place after it.
    pub(super) fn leave(&self, place: Place) {
        self.kept_until(place.0).store(0, Ordering::Release);
        let _ = sys::unlock_byte(&self.file, SLOT_BASE + place.0);
        self.wake_next(place);
    }

    /// Bumps the word the place after `place` sleeps on, and wakes it to look again.
    fn wake_next(&self, place: Place) {
        let word = self.wake_word(place.0 + 1);
        word.fetch_add(1, Ordering::Release);
        sys::futex_wake_all(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;

    /// The name of a store (never made) whose queue file is fresh, for one test.
    fn queue_file(name: &str) -> std::path::PathBuf {
        let store =
            std::env::temp_dir().join(format!("msgstore-queue-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(super::super::side_file(&store, "-writers"));
        store
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn places_are_served_in_order_of_arrival() {
        let path = queue_file("order");
        let first = WriterQueue::open(&path).unwrap();
        let place = first.join(far()).unwrap();
        let (tx, rx) = mpsc::channel();
        let mut waiters = Vec::new();
        for n in 0..4 {
            let q = WriterQueue::open(&path).unwrap();
            let tx = tx.clone();
            waiters.push(thread::spawn(move || {
                let p = q.join(far()).unwrap();
                tx.send(n).unwrap();
                // Hold the place a moment, so a later one that jumped the queue would be seen.
                thread::sleep(Duration::from_millis(20));
                q.leave(p);
            }));
            // Arrive one after another.
            thread::sleep(Duration::from_millis(30));
        }
        assert!(
            rx.try_recv().is_err(),
            "nobody may go while the first place is taken"
        );
        first.leave(place);
        let order: Vec<i32> = (0..4).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(order, vec![0, 1, 2, 3]);
        for w in waiters {
            w.join().unwrap();
        }
    }

    #[test]
    fn keeping_a_place_wakes_the_next_one_to_look_again() {
        let path = queue_file("keepwake");
        let q = WriterQueue::open(&path).unwrap();
        let place = q.join(far()).unwrap();
        let word = q.wake_word(place.0 + 1).load(Ordering::Acquire);
        let kept = q.keep(place);
        assert_ne!(
            q.wake_word(place.0 + 1).load(Ordering::Acquire),
            word,
            "a successor asleep since before the keep would sleep RECHECK whole"
        );
        q.leave(q.take_up(kept).expect("taken up within the grace"));
    }

    /// How long after `release` (run `after` a place queued behind `path`'s held one) that
    /// place got through.
    fn through_after_release(path: &Path, after: Duration, release: impl FnOnce()) -> Duration {
        let second = WriterQueue::open(path).unwrap();
        let waiter = thread::spawn(move || {
            second.join(far()).unwrap();
            Instant::now()
        });
        thread::sleep(after);
        let released = Instant::now();
        release();
        waiter.join().unwrap().saturating_duration_since(released)
    }

    #[test]
    fn a_kept_place_given_up_frees_its_successor_at_once() {
        let path = queue_file("giveup");
        let keeper = WriterQueue::open(&path).unwrap();
        let kept = keeper.keep(keeper.join(far()).unwrap());
        let through =
            through_after_release(&path, Duration::from_millis(2), || keeper.give_up(kept));
        // Well under the kept time: woken by the giving up, not by the kept time running out.
        assert!(
            through < GRACE / 2,
            "through {through:?} after the kept place was given up"
        );
    }

    #[test]
    fn a_leave_wakes_the_next_place_at_once() {
        let path = queue_file("wake");
        let first = WriterQueue::open(&path).unwrap();
        let place = first.join(far()).unwrap();
        let woke = through_after_release(&path, Duration::from_millis(100), || first.leave(place));
        // Well under the RECHECK sleep: woken by the leave, not by looking again.
        assert!(woke < RECHECK / 2, "woken {woke:?} after the leave");
    }

    #[test]
    fn a_closed_place_frees_its_successor() {
        // A process that dies in the queue: the kernel drops its locks, nobody bumps the word.
        let path = queue_file("dead");
        let first = WriterQueue::open(&path).unwrap();
        first.join(far()).unwrap();
        let second = WriterQueue::open(&path).unwrap();
        let waiter = thread::spawn(move || {
            let started = Instant::now();
            second.join(far()).unwrap();
            started.elapsed()
        });
        thread::sleep(Duration::from_millis(50));
        drop(first);
        let waited = waiter.join().unwrap();
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_secs(1),
            "waited {waited:?}"
        );
    }

    #[test]
    fn a_kept_place_holds_its_successor_for_the_grace_only() {
        let path = queue_file("kept");
        let keeper = WriterQueue::open(&path).unwrap();
        let place = keeper.join(far()).unwrap();
        let kept = keeper.keep(place);
        let next = WriterQueue::open(&path).unwrap();
        let started = Instant::now();
        let waiter = thread::spawn(move || {
            next.join(far()).unwrap();
            started.elapsed()
        });
        let waited = waiter.join().unwrap();
        assert!(
            waited >= GRACE - Duration::from_millis(1) && waited < GRACE * 10,
            "waited {waited:?}"
        );
        // Too late to take it up: it is given up instead.
        assert_eq!(keeper.take_up(kept), None);

        // Taken up in time, the place is this process's again and its successor still waits.
        let path = queue_file("kept-again");
        let keeper = WriterQueue::open(&path).unwrap();
        let kept = keeper.keep(keeper.join(far()).unwrap());
        let place = keeper.take_up(kept).expect("taken up within the grace");
        let next = WriterQueue::open(&path).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            next.join(far()).unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(GRACE * 3).is_err(),
            "a place taken up again is not kept any more: its successor waits for its leave"
        );
        keeper.leave(place);
        rx.recv_timeout(Duration::from_secs(1)).unwrap();
        waiter.join().unwrap();
    }

    #[test]
    fn a_counter_held_by_a_stopped_process_costs_no_more_than_the_deadline() {
        let path = queue_file("counter");
        let stopped = WriterQueue::open(&path).unwrap();
        assert!(sys::lock_byte(&stopped.file, COUNTER_BYTE).unwrap());
        let other = WriterQueue::open(&path).unwrap();
        let started = Instant::now();
        assert_eq!(other.join(started + Duration::from_millis(50)), None);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_millis(500),
            "waited {waited:?}"
        );
        sys::unlock_byte(&stopped.file, COUNTER_BYTE).unwrap();
        assert!(other.join(far()).is_some());
    }

    #[test]
    fn a_place_waits_no_longer_than_its_patience_or_deadline() {
        for (name, patience, deadline, least, most) in [
            ("patience", 150, 60_000, 150, 1000),
            ("deadline", 60_000, 40, 40, 140),
        ] {
            let path = queue_file(name);
            let stuck = WriterQueue::open(&path).unwrap();
            stuck.join(far()).unwrap();
            let waiter =
                WriterQueue::open_with_patience(&path, Duration::from_millis(patience)).unwrap();
            let started = Instant::now();
            waiter
                .join(started + Duration::from_millis(deadline))
                .unwrap();
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_millis(least) && waited < Duration::from_millis(most),
                "{name}: waited {waited:?}"
            );
        }
    }
}
