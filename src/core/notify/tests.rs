//! The notifier's rules, with a feed and sinks of the tests' own.

use super::*;
use crate::storage::StorageResult;
use std::sync::mpsc::{channel, Receiver as StdReceiver, Sender};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

/// A feed the test drives.
struct TestFeed(StdReceiver<FeedItem>);

impl ChangeFeed for TestFeed {
    fn next(&mut self, timeout: Duration) -> StorageResult<FeedItem> {
        Ok(self.0.recv_timeout(timeout).unwrap_or(FeedItem::Nothing))
    }
}

/// A sink that records what it gets and on which thread; it may block until released, or call
/// `on_call` from inside.
#[derive(Default)]
struct Recorder {
    got: Mutex<Vec<(Event, ThreadId)>>,
    block: Mutex<bool>,
    blocked: parking_lot::Condvar,
    on_call: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Sink for Recorder {
    fn notify(&self, events: &[Event]) {
        let me = std::thread::current().id();
        self.got.lock().extend(events.iter().map(|e| (*e, me)));
        if let Some(f) = self.on_call.lock().take() {
            f();
        }
        let mut block = self.block.lock();
        while *block {
            self.blocked.wait(&mut block);
        }
    }
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.got.lock().iter().map(|(e, _)| *e).collect()
    }
    /// Waits until `n` events came.
    fn wait_for(&self, n: usize) -> Vec<Event> {
        let until = Instant::now() + WAIT;
        while self.got.lock().len() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.events()
    }
    fn unblock(&self) {
        *self.block.lock() = false;
        self.blocked.notify_all();
    }
}

fn change(id: u64, kind: u32, parent: u64, what: ChangeWhat) -> ChangeRecord {
    ChangeRecord {
        id,
        kind,
        parent: Some(parent),
        what,
    }
}

fn notifier_with_feed() -> (Notifier, Sender<FeedItem>, StdReceiver<FeedItem>) {
    let (tx, rx) = channel();
    (Notifier::default(), tx, rx)
}

fn advise(
    n: &Notifier,
    mask: u32,
    filter: Filter,
    sink: &Arc<Recorder>,
    feed: &mut Option<StdReceiver<FeedItem>>,
) -> u64 {
    n.advise(mask, filter, sink.clone(), || {
        Ok(Box::new(TestFeed(feed.take().expect("one feed per watcher"))) as Box<dyn ChangeFeed>)
    })
    .expect("advise")
}

/// Waits until only the test holds `sink` (the notifier released it).
fn wait_released(sink: &Arc<Recorder>) {
    let until = Instant::now() + WAIT;
    while Arc::strong_count(sink) > 1 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(sink), 1, "the sink was released");
}

#[test]
fn a_batch_of_logged_changes_gives_one_event_per_object_and_kind_and_no_child_events() {
    let log = [
        change(10, KIND_MESSAGE, 2, ChangeWhat::Modified),
        change(10, KIND_MESSAGE, 2, ChangeWhat::Modified),
        change(11, crate::storage::KIND_ATTACHMENT, 10, ChangeWhat::Created),
        change(12, KIND_FOLDER, 2, ChangeWhat::Created),
        change(10, KIND_MESSAGE, 2, ChangeWhat::Deleted),
    ];
    let events = events_of(&log);
    let got: Vec<(EventKind, u64)> = events.iter().map(|e| (e.kind, e.id)).collect();
    assert_eq!(
        got,
        [
            (EventKind::Modified, 10),
            (EventKind::Created, 12),
            (EventKind::Deleted, 10)
        ]
    );
}

#[test]
fn events_come_from_the_feed_on_another_thread_filtered_by_mask_and_object() {
    let (n, tx, rx) = notifier_with_feed();
    let mut feed = Some(rx);
    let all = Arc::new(Recorder::default());
    let one = Arc::new(Recorder::default());
    let created_only = Arc::new(Recorder::default());
    advise(&n, STORE_EVENTS, Filter::Store, &all, &mut feed);
    advise(&n, fnevObjectModified, Filter::Object(20), &one, &mut feed);
    advise(
        &n,
        fnevObjectCreated,
        Filter::Store,
        &created_only,
        &mut feed,
    );
    tx.send(FeedItem::Changes(vec![
        change(20, KIND_MESSAGE, 2, ChangeWhat::Created),
        change(21, KIND_MESSAGE, 2, ChangeWhat::Modified),
        change(20, KIND_MESSAGE, 2, ChangeWhat::Modified),
    ]))
    .unwrap();
    let got = all.wait_for(3);
    assert_eq!(got.len(), 3);
    assert!(all
        .got
        .lock()
        .iter()
        .all(|(_, t)| *t != std::thread::current().id()));
    let one_got = one.wait_for(1);
    assert_eq!(one_got.len(), 1);
    assert_eq!((one_got[0].kind, one_got[0].id), (EventKind::Modified, 20));
    let created = created_only.wait_for(1);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].kind, EventKind::Created);
    // A short wait more: nothing else arrives for the filtered ones.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(one.events().len(), 1);
    assert_eq!(created_only.events().len(), 1);
}

#[test]
fn a_missed_stretch_of_the_feed_is_a_resync_for_every_connection() {
    let (n, tx, rx) = notifier_with_feed();
    let mut feed = Some(rx);
    let one = Arc::new(Recorder::default());
    advise(&n, fnevObjectModified, Filter::Object(99), &one, &mut feed);
    tx.send(FeedItem::Missed).unwrap();
    let got = one.wait_for(1);
    assert_eq!(got[0].kind, EventKind::Resync);
    assert_eq!(got[0].id, STORE_OBJECT_ID);
}

#[test]
fn a_blocked_sink_holds_up_only_itself_and_its_overflow_becomes_a_resync() {
    let (n, _tx, rx) = notifier_with_feed();
    let mut feed = Some(rx);
    let stuck = Arc::new(Recorder::default());
    *stuck.block.lock() = true;
    let fine = Arc::new(Recorder::default());
    let c = advise(&n, STORE_EVENTS, Filter::Store, &stuck, &mut feed);
    advise(&n, STORE_EVENTS, Filter::Store, &fine, &mut feed);
    let batches = QUEUE + 10;
    for i in 0..batches as u64 {
        n.publish(&[Event::from_change(&change(
            100 + i,
            KIND_MESSAGE,
            2,
            ChangeWhat::Modified,
        ))]);
        // The fine sink gets each one while the other is stuck.
        assert_eq!(fine.wait_for(i as usize + 1).len(), i as usize + 1);
    }
    stuck.unblock();
    // A queue's worth (plus the batch it was blocked in, if it had taken it yet), and one
    // resync for what did not fit.
    let until = Instant::now() + WAIT;
    while !stuck.events().iter().any(|e| e.kind == EventKind::Resync) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    let got = stuck.events();
    assert!(
        got.len() == QUEUE + 1 || got.len() == QUEUE + 2,
        "{}",
        got.len()
    );
    assert_eq!(
        got.iter().filter(|e| e.kind == EventKind::Resync).count(),
        1
    );
    n.unadvise(c, false).unwrap();
    wait_released(&stuck);
}

#[test]
fn a_sink_may_unadvise_itself_from_inside_its_call() {
    let n = Arc::new(Notifier::default());
    let (_tx, rx) = channel();
    let mut feed = Some(rx);
    let sink = Arc::new(Recorder::default());
    let c = advise(&n, STORE_EVENTS, Filter::Store, &sink, &mut feed);
    let (done_tx, done_rx) = channel();
    let inner = n.clone();
    *sink.on_call.lock() = Some(Box::new(move || {
        done_tx.send(inner.unadvise(c, false)).unwrap();
    }));
    n.publish(&[Event::resync()]);
    assert!(done_rx.recv_timeout(WAIT).unwrap().is_ok());
    n.publish(&[Event::resync()]);
    wait_released(&sink);
    assert_eq!(sink.events().len(), 1);
    assert_eq!(n.connections(), 0);
}

#[test]
fn unadvise_knows_its_own_connections_only() {
    let n = Notifier::default();
    let (_tx, rx) = channel();
    let mut feed = Some(rx);
    let sink = Arc::new(Recorder::default());
    let store = advise(&n, STORE_EVENTS, Filter::Store, &sink, &mut feed);
    let table = n
        .advise(
            fnevObjectModified,
            Filter::Table {
                folder: 2,
                kind: KIND_MESSAGE,
                deep: false,
            },
            sink.clone(),
            || unreachable!("the watcher runs already"),
        )
        .unwrap();
    assert_ne!(store, 0);
    assert_ne!(store, table);
    assert_eq!(n.unadvise(store, true).unwrap_err().code, MAPI_E_NOT_FOUND);
    assert_eq!(n.unadvise(table, false).unwrap_err().code, MAPI_E_NOT_FOUND);
    assert_eq!(n.unadvise(12345, false).unwrap_err().code, MAPI_E_NOT_FOUND);
    n.unadvise_all_store_connections();
    assert_eq!(n.connections(), 1);
    n.unadvise(table, true).unwrap();
    wait_released(&sink);
}

#[test]
fn a_table_hears_of_its_folders_rows_only() {
    let f = Filter::Table {
        folder: 7,
        kind: KIND_MESSAGE,
        deep: false,
    };
    let e = |kind, id, parent| Event::from_change(&change(id, kind, parent, ChangeWhat::Modified));
    assert!(f.wants(&e(KIND_MESSAGE, 1, 7)));
    assert!(!f.wants(&e(KIND_MESSAGE, 1, 8)));
    assert!(!f.wants(&e(KIND_FOLDER, 7, 2)));
    assert!(f.wants(&Event::moved(1, KIND_MESSAGE, 8, 7)));
    assert!(f.wants(&Event::resync()));
    let deep = Filter::Table {
        folder: 2,
        kind: KIND_FOLDER,
        deep: true,
    };
    assert!(deep.wants(&e(KIND_FOLDER, 9, 8)));
    assert!(!deep.wants(&e(KIND_MESSAGE, 9, 2)));
}

#[test]
fn masks_are_checked() {
    assert_eq!(
        check_mask("Advise", 0, STORE_EVENTS).unwrap_err().code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        check_mask("Advise", fnevTableModified, STORE_EVENTS)
            .unwrap_err()
            .code,
        MAPI_E_UNKNOWN_FLAGS
    );
    assert!(check_mask("Advise", fnevObjectModified | fnevNewMail, STORE_EVENTS).is_ok());
}

#[test]
fn the_watcher_stops_when_the_last_connection_goes_and_a_new_advise_starts_another() {
    let n = Notifier::default();
    let (_tx, rx) = channel();
    let mut feed = Some(rx);
    let sink = Arc::new(Recorder::default());
    let c = advise(&n, STORE_EVENTS, Filter::Store, &sink, &mut feed);
    n.unadvise(c, false).unwrap();
    let until = Instant::now() + WAIT;
    while n.shared.registry.lock().watching && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!n.shared.registry.lock().watching);
    let (tx2, rx2) = channel();
    let mut feed2 = Some(rx2);
    advise(&n, STORE_EVENTS, Filter::Store, &sink, &mut feed2);
    tx2.send(FeedItem::Missed).unwrap();
    assert_eq!(sink.wait_for(1)[0].kind, EventKind::Resync);
}
