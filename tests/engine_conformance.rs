//! One conformance suite, run on every engine (DESIGN.md §6: "engines through one conformance
//! suite run on each"): the four rules, racing savers (threads of one process, each with its own
//! client), typed values, never-reused IDs, racing creators. Each test runs on SQLite (a file)
//! and on PostgreSQL (a store in the test server, `support/pg.rs`).

#[path = "support/pg.rs"]
mod pg;

use msgstore::core::mapidefs::*;
use msgstore::core::message::{AttachHost, Message};
use msgstore::core::named::{self, NameFilter, PropName, FIRST_NAMED_ID};
use msgstore::core::props::{PropInput, PropObject, PropView};
use msgstore::core::resolve::{Conflict, ConflictResolver, Decision};
use msgstore::core::store::{Opened, Store};
use msgstore::core::value::PropValue;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

/// Where each test makes its stores.
#[derive(Clone, Copy)]
enum Engine {
    Sqlite,
    Postgres,
}

fn unique(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{name}-{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new store location for `name` on `engine`; None when the engine's server is missing.
fn location(engine: Engine, name: &str) -> Option<String> {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(format!("msgstore-conf-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Some(dir.join(unique(name)).to_str().unwrap().to_string())
        }
        Engine::Postgres => Some(pg::store_uri(pg::server()?, &unique(name))),
    }
}

macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Engine::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Engine::Postgres) } )*
        }
    };
}

on_every_engine!(
    rules_one_to_three,
    racing_threads_never_both_win,
    no_lost_update_under_contention,
    every_type_round_trips_typed,
    ids_are_never_reused_and_change_numbers_grow,
    resolver_outcomes,
    racing_creators_get_one_store,
    read_only_handles_refuse_writes,
    children_ride_the_compare_and_swap,
    deleting_a_message_deletes_its_tree,
    named_properties_persist_per_store,
    racing_named_creators_get_one_id,
    named_inserts_that_conflict_do_nothing,
    contents_tables_give_the_evaluators_rows,
    moves_keep_the_object_and_copies_make_a_new_tree,
    racing_folder_moves_never_make_a_cycle,
    contents_tables_see_each_messages_children,
    the_change_feed_tells_every_writers_changes,
    moves_and_copies_are_announced,
    large_values_survive_every_kind_of_save,
    large_values_stay_in_the_store_until_read,
    a_replaced_large_value_reads_as_object_changed,
    force_save_keeps_a_stored_large_value_the_client_never_changed,
    copies_carry_large_values,
);

const FLAGS: u32 = MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC;

fn open(loc: &str) -> Arc<Store> {
    Store::open(loc, FLAGS).unwrap_or_else(|e| panic!("open {loc}: {e:?}"))
}

fn root(store: &Arc<Store>) -> msgstore::core::folder::Folder {
    match store.open_entry(None, MAPI_MODIFY).unwrap() {
        Opened::Folder(f) => f,
        Opened::Message(_) => unreachable!(),
    }
}

fn open_message(store: &Arc<Store>, eid: &[u8]) -> Box<Message> {
    match store.open_entry(Some(eid), MAPI_MODIFY).unwrap() {
        Opened::Message(m) => m,
        Opened::Folder(_) => unreachable!(),
    }
}

fn set(m: &dyn PropObject, tag: u32, value: PropValue) {
    let problems = m.set_props(vec![PropInput {
        index: 0,
        tag,
        value,
    }]);
    assert!(problems.unwrap().is_empty());
}

/// `tag`'s value in `m`'s view, a value left in the store read whole.
fn get(m: &dyn PropObject, tag: u32) -> Option<PropValue> {
    let mut out = None;
    m.read(&mut |v: &dyn PropView| {
        out = v
            .get((tag >> 16) as u16)
            .map(|c| c.into_owned())
            .filter(|v| v.ptype() == (tag & 0xFFFF));
    })
    .unwrap();
    let store = m.named_store().expect("a stored object");
    out.map(|v| store.whole_value(v).unwrap())
}

fn long(m: &dyn PropObject, tag: u32) -> i32 {
    match get(m, tag) {
        Some(PropValue::Long(l)) => l,
        other => panic!("{tag:08X}: {other:?}"),
    }
}

const COUNTER: u32 = 0x6701_0003;
const NOTE: u32 = 0x6702_001F;

/// A saved message with COUNTER = 0; returns its entry ID.
fn new_message(store: &Arc<Store>) -> Vec<u8> {
    let m = root(store).create_message(0).unwrap();
    set(&m, COUNTER, PropValue::Long(0));
    set(&m, PR_SUBJECT_W, PropValue::Unicode("conformance".into()));
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    m.entry_id().unwrap()
}

fn rules_one_to_three(engine: Engine) {
    let Some(loc) = location(engine, "rules") else {
        return;
    };
    let store = open(&loc);
    let eid = new_message(&store);
    let a = open_message(&store, &eid);
    let b = open_message(&store, &eid);
    set(&*a, COUNTER, PropValue::Long(1));
    set(&*b, COUNTER, PropValue::Long(2));
    set(&*b, NOTE, PropValue::Unicode("b's".into()));
    // Rule 1: the first save proceeds.
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    // Rule 2: the stale one writes nothing and keeps its changes.
    let e = b.save_changes(KEEP_OPEN_READWRITE).unwrap_err();
    assert_eq!(e.code, MAPI_E_OBJECT_CHANGED);
    let stored = open_message(&store, &eid);
    assert_eq!(long(&*stored, COUNTER), 1);
    assert_eq!(get(&*stored, NOTE), None);
    assert_eq!(long(&*b, COUNTER), 2, "b keeps its changes");
    // Rule 3: FORCE_SAVE replaces.
    b.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    let stored = open_message(&store, &eid);
    assert_eq!(long(&*stored, COUNTER), 2);
    assert_eq!(get(&*stored, NOTE), Some(PropValue::Unicode("b's".into())));
    assert!(stored.base_cn() > a.base_cn());
    // A deleted message: MAPI_E_OBJECT_DELETED, with or without FORCE_SAVE.
    assert!(root(&store)
        .delete_messages(std::slice::from_ref(&eid), 0)
        .unwrap());
    set(&*a, COUNTER, PropValue::Long(9));
    for flags in [0, FORCE_SAVE] {
        assert_eq!(
            a.save_changes(flags | KEEP_OPEN_READWRITE)
                .unwrap_err()
                .code,
            MAPI_E_OBJECT_DELETED
        );
    }
}

fn racing_threads_never_both_win(engine: Engine) {
    const CLIENTS: usize = 6;
    const ROUNDS: usize = 25;
    let Some(loc) = location(engine, "race") else {
        return;
    };
    let store = open(&loc);
    let eid = new_message(&store);
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let winners: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (store, eid, barrier) = (store.clone(), eid.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let m = open_message(&store, &eid);
                    set(&*m, COUNTER, PropValue::Long((round * 100 + c) as i32));
                    barrier.wait();
                    match m.save_changes(0) {
                        Ok(()) => Some(c),
                        Err(e) => {
                            assert_eq!(e.code, MAPI_E_OBJECT_CHANGED, "{e:?}");
                            None
                        }
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one winner");
        let stored = open_message(&store, &eid);
        assert_eq!(
            long(&*stored, COUNTER),
            (round * 100 + winners[0]) as i32,
            "the stored message is the winner's"
        );
    }
}

/// Racing clients each add an attachment and a recipient: per round exactly one save wins, and
/// the stored message holds exactly the winners' children (a loser's never, none lost); a
/// FORCE_SAVE stores the loser's children in place of the winner's.
fn children_ride_the_compare_and_swap(engine: Engine) {
    const CLIENTS: usize = 4;
    const ROUNDS: usize = 8;
    let Some(loc) = location(engine, "children") else {
        return;
    };
    let store = open(&loc);
    let eid = new_message(&store);
    let data_of = |m: &Message| -> Vec<Vec<u8>> {
        m.attachment_rows()
            .unwrap()
            .iter()
            .map(|r| match r.get(&((PR_ATTACH_DATA_BIN >> 16) as u16)) {
                Some(PropValue::Binary(b)) => b.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let mut expected = Vec::new();
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let results: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (store, eid, barrier) = (store.clone(), eid.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let m = open_message(&store, &eid);
                    let data = format!("round {round} client {c}").into_bytes();
                    let (_, a) = m.create_attach(0).unwrap();
                    set(&a, PR_ATTACH_DATA_BIN, PropValue::Binary(data.clone()));
                    a.save_changes(0).unwrap();
                    m.modify_recipients(
                        MODRECIP_ADD,
                        vec![vec![PropInput {
                            index: 0,
                            tag: PR_DISPLAY_NAME_W,
                            value: PropValue::Unicode(format!("{round}/{c}")),
                        }]],
                    )
                    .unwrap();
                    barrier.wait();
                    match m.save_changes(KEEP_OPEN_READWRITE) {
                        Ok(()) => (Some(data), m),
                        Err(e) => {
                            assert_eq!(e.code, MAPI_E_OBJECT_CHANGED, "{e:?}");
                            (None, m)
                        }
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let winners: Vec<_> = results.iter().filter_map(|(w, _)| w.clone()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one winner");
        expected.push(winners[0].clone());
        let stored = open_message(&store, &eid);
        assert_eq!(
            data_of(&stored),
            expected,
            "round {round}: the winners' attachments"
        );
        assert_eq!(stored.recipient_rows().unwrap().len(), round + 1);
        if round == ROUNDS - 1 {
            // A loser's FORCE_SAVE: its view (the winners before this round, plus its own).
            let (_, loser) = results.into_iter().find(|(w, _)| w.is_none()).unwrap();
            loser.save_changes(FORCE_SAVE).unwrap();
            let mut forced = data_of(&loser);
            let stored = open_message(&store, &eid);
            assert_eq!(data_of(&stored), forced);
            forced.pop();
            assert_eq!(
                forced,
                expected[..round],
                "the winner's attachment is replaced"
            );
        }
    }
}

/// Every object under `id` (attachments, recipients, embedded messages and theirs).
fn descendants(store: &Store, id: u64) -> Vec<u64> {
    use msgstore::storage::{KIND_ATTACHMENT, KIND_EMBEDDED_MESSAGE, KIND_RECIPIENT};
    let mut out = Vec::new();
    let mut pending = vec![id];
    while let Some(p) = pending.pop() {
        for kind in [KIND_ATTACHMENT, KIND_RECIPIENT, KIND_EMBEDDED_MESSAGE] {
            let children = store
                .storage()
                .read(|t| t.children(p, kind))
                .unwrap_or_else(|e| panic!("{e}"));
            for c in children {
                out.push(c.id);
                pending.push(c.id);
            }
        }
    }
    out
}

/// A saved message (the root folder's only one) with an attachment holding an embedded message
/// with its own attachment and recipient; its entry ID and object ID.
fn message_with_a_tree(store: &Arc<Store>) -> (Vec<u8>, u64) {
    use msgstore::storage::{KIND_MESSAGE, ROOT_FOLDER_ID};
    let eid = new_message(store);
    let m = open_message(store, &eid);
    let (_, a) = m.create_attach(0).unwrap();
    let e = a.open_embedded(MAPI_CREATE).unwrap();
    let (_, inner) = e.create_attach(0).unwrap();
    inner.save_changes(0).unwrap();
    e.modify_recipients(0, vec![vec![]]).unwrap();
    e.save_changes(0).unwrap();
    a.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let id = store
        .storage()
        .read(|t| t.children(ROOT_FOLDER_ID, KIND_MESSAGE))
        .unwrap()[0]
        .id;
    (eid, id)
}

/// A message with an attachment holding an embedded message with its own attachment and
/// recipient: DeleteMessages leaves no object of the tree behind.
fn deleting_a_message_deletes_its_tree(engine: Engine) {
    let Some(loc) = location(engine, "tree") else {
        return;
    };
    let store = open(&loc);
    let (eid, id) = message_with_a_tree(&store);
    let tree = descendants(&store, id);
    assert_eq!(
        tree.len(),
        4,
        "attachment, embedded message, its attachment and recipient"
    );
    assert!(root(&store).delete_messages(&[eid], 0).unwrap());
    for id in tree.into_iter().chain([id]) {
        let row = store.storage().read(|t| t.object(id)).unwrap();
        assert_eq!(row, None, "object {id} outlived its message");
    }
}

/// `WriteTxn::set_parent` moves an object and nothing else (ID, change number, properties and
/// children stay), moves the change stamp, and goes with its transaction; CopyMessages copies a
/// whole tree (an embedded message two levels deep) as new objects in one transaction.
fn moves_keep_the_object_and_copies_make_a_new_tree(engine: Engine) {
    use msgstore::storage::{StorageError, KIND_MESSAGE, ROOT_FOLDER_ID};
    let Some(loc) = location(engine, "move") else {
        return;
    };
    let store = open(&loc);
    let r = root(&store);
    let dest = r.create_folder(FOLDER_GENERIC, "dest", None, 0).unwrap();
    let (eid, id) = message_with_a_tree(&store);
    let tree = descendants(&store, id);
    assert_eq!(tree.len(), 4);

    // A copy: every object of the tree new.
    assert!(r
        .copy_messages(std::slice::from_ref(&eid), &dest, 0)
        .unwrap());
    let copies = store
        .storage()
        .read(|t| t.children(dest.id(), KIND_MESSAGE))
        .unwrap();
    assert_eq!(copies.len(), 1);
    let copy_tree = descendants(&store, copies[0].id);
    assert_eq!(copy_tree.len(), 4);
    assert!(copy_tree.iter().all(|c| !tree.contains(c) && *c != id));

    // A move in a transaction that then fails: nothing moved.
    let failed = store.storage().write(|t| {
        t.set_parent(id, dest.id())?;
        Err::<(), _>(StorageError::corrupt("give up"))
    });
    assert!(failed.is_err());
    assert_eq!(
        store
            .storage()
            .read(|t| t.object(id))
            .unwrap()
            .unwrap()
            .parent,
        Some(ROOT_FOLDER_ID)
    );
    // Moving an object that is not there fails the transaction.
    assert!(store
        .storage()
        .write(|t| t.set_parent(u64::MAX >> 1, dest.id()))
        .is_err());

    let before = store.storage().read(|t| t.object(id)).unwrap().unwrap();
    let props_before = store.storage().read(|t| t.props(id)).unwrap();
    let stamp = store.storage().read(|t| t.change_stamp()).unwrap();
    store
        .storage()
        .write(|t| t.set_parent(id, dest.id()))
        .unwrap();
    let after = store.storage().read(|t| t.object(id)).unwrap().unwrap();
    assert_eq!(after.parent, Some(dest.id()));
    assert_eq!(
        (after.id, after.kind, after.cn),
        (before.id, before.kind, before.cn)
    );
    assert_eq!(store.storage().read(|t| t.props(id)).unwrap(), props_before);
    assert_eq!(descendants(&store, id), tree);
    assert_ne!(store.storage().read(|t| t.change_stamp()).unwrap(), stamp);
    // The message opens by its entry ID where it now is.
    let moved = open_message(&store, &eid);
    assert_eq!(long(&*moved, COUNTER), 0);
}

/// Two folder moves at once whose folders share no lock (A under D and C under B, where B is
/// below A and D below C, under different parents): each alone is fine, both together would
/// make a cycle. One must win and the other get MAPI_E_FOLDER_CYCLE, every round.
fn racing_folder_moves_never_make_a_cycle(engine: Engine) {
    use msgstore::core::folder::Folder;
    let Some(loc) = location(engine, "cycle") else {
        return;
    };
    let store = open(&loc);
    let r = root(&store);
    for round in 0..12 {
        let mk = |parent: &Folder, name: String| {
            parent
                .create_folder(FOLDER_GENERIC, &name, None, 0)
                .unwrap()
        };
        let r1 = mk(&r, format!("r1-{round}"));
        let r2 = mk(&r, format!("r2-{round}"));
        let a = mk(&r1, "a".into());
        let b = mk(&a, "b".into());
        let c = mk(&r2, "c".into());
        let d = mk(&c, "d".into());
        let a_eid = store.entry_id(MAPI_FOLDER, a.id());
        let c_eid = store.entry_id(MAPI_FOLDER, c.id());
        let barrier = Barrier::new(2);
        let (one, two) = std::thread::scope(|s| {
            let one = s.spawn(|| {
                barrier.wait();
                r1.copy_folder(&a_eid, &d, None, FOLDER_MOVE)
            });
            let two = s.spawn(|| {
                barrier.wait();
                r2.copy_folder(&c_eid, &b, None, FOLDER_MOVE)
            });
            (one.join().unwrap(), two.join().unwrap())
        });
        let codes = [one.err().map(|e| e.code), two.err().map(|e| e.code)];
        assert!(
            codes == [None, Some(MAPI_E_FOLDER_CYCLE)]
                || codes == [Some(MAPI_E_FOLDER_CYCLE), None],
            "round {round}: {codes:?}"
        );
    }
    // A subtree copied while a move brings the copy's destination into it: the copy comes first
    // (both succeed) or finds the cycle, and never walks into its own copies.
    for round in 0..6 {
        let mk = |parent: &Folder, name: &str| {
            parent.create_folder(FOLDER_GENERIC, name, None, 0).unwrap()
        };
        let r1 = mk(&r, &format!("s1-{round}"));
        let r2 = mk(&r, &format!("s2-{round}"));
        let a = mk(&r1, "a");
        let b = mk(&a, "b");
        let c = mk(&r2, "c");
        let d = mk(&c, "d");
        let a_eid = store.entry_id(MAPI_FOLDER, a.id());
        let c_eid = store.entry_id(MAPI_FOLDER, c.id());
        let barrier = Barrier::new(2);
        let (copied, moved) = std::thread::scope(|s| {
            let one = s.spawn(|| {
                barrier.wait();
                r1.copy_folder(&a_eid, &d, None, COPY_SUBFOLDERS)
            });
            let two = s.spawn(|| {
                barrier.wait();
                r2.copy_folder(&c_eid, &b, None, FOLDER_MOVE)
            });
            (one.join().unwrap(), two.join().unwrap())
        });
        moved.unwrap();
        match copied {
            Ok(()) => {
                // Serialisable: the copy is of the tree before the move (no "c" in it).
                let a2 = Folder::open(store.clone(), d.find_child("a").unwrap().unwrap(), true);
                let b2 = a2.unwrap().find_child("b").unwrap().unwrap();
                let b2 = Folder::open(store.clone(), b2, true).unwrap();
                assert_eq!(b2.find_child("c").unwrap(), None, "round {round}");
            }
            Err(e) => assert_eq!(e.code, MAPI_E_FOLDER_CYCLE, "round {round}"),
        }
    }
}

fn no_lost_update_under_contention(engine: Engine) {
    const THREADS: usize = 6;
    const INCREMENTS: usize = 15;
    let Some(loc) = location(engine, "lost") else {
        return;
    };
    let store = open(&loc);
    let eid = new_message(&store);
    let conflicts = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (store, eid, conflicts) = (store.clone(), eid.clone(), conflicts.clone());
            std::thread::spawn(move || {
                for _ in 0..INCREMENTS {
                    loop {
                        let m = open_message(&store, &eid);
                        let n = long(&*m, COUNTER);
                        set(&*m, COUNTER, PropValue::Long(n + 1));
                        match m.save_changes(0) {
                            Ok(()) => break,
                            Err(e) if e.code == MAPI_E_OBJECT_CHANGED => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stored = open_message(&store, &eid);
    assert_eq!(long(&*stored, COUNTER), (THREADS * INCREMENTS) as i32);
    eprintln!(
        "{} saves, {} conflicts",
        THREADS * INCREMENTS,
        conflicts.load(Ordering::Relaxed)
    );
}

/// Bytes of a pattern that is not periodic in any power of two.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + i / 251) as u8).wrapping_add(seed))
        .collect()
}

/// Values of 1 MiB and more (which engines write in pieces) stored by a first save, replaced by
/// a normal save (large by large, large by small, small by large), by FORCE_SAVE over another
/// client's save, and in an attachment: every one reads back exactly.
fn large_values_survive_every_kind_of_save(engine: Engine) {
    use PropValue::*;
    const MIB: usize = 1 << 20;
    const BLOB: u32 = 0x6710_0102;
    const OTHER: u32 = 0x6711_0102;
    const ANSI: u32 = 0x6712_001E;
    const ANSI_NUL: u32 = 0x6713_001E;
    let Some(loc) = location(engine, "large") else {
        return;
    };
    let store = open(&loc);
    let text = |len: usize, c: char| std::iter::repeat_n(c, len).collect::<String>();
    let mut nul = text(MIB, 'a').into_bytes();
    nul[MIB / 2] = 0;
    let first = [
        (BLOB, Binary(pattern(3 * MIB + 1, 0))),
        (OTHER, Binary(vec![1, 2, 3])),
        (ANSI, String8(text(MIB, 'x').into_bytes())),
        (ANSI_NUL, String8(nul)),
        (NOTE, Unicode(text(MIB / 2, 'é'))),
        (COUNTER, Long(1)),
    ];
    let m = root(&store).create_message(0).unwrap();
    for (tag, v) in &first {
        set(&m, *tag, v.clone());
    }
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let eid = m.entry_id().unwrap();
    let check = |values: &[(u32, PropValue)]| {
        let stored = open_message(&store, &eid);
        for (tag, v) in values {
            assert!(get(&*stored, *tag).as_ref() == Some(v), "{tag:08X}");
        }
    };
    check(&first);
    // A normal save: large by large, large by small, small by large.
    let second = [
        (BLOB, Binary(pattern(2 * MIB, 9))),
        (ANSI, String8(b"short".to_vec())),
        (OTHER, Binary(pattern(MIB, 3))),
    ];
    for (tag, v) in &second {
        set(&m, *tag, v.clone());
    }
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    check(&second);
    // Another client saves first; this one's FORCE_SAVE replaces the stored version.
    let other = open_message(&store, &eid);
    set(&*other, BLOB, Binary(pattern(MIB, 1)));
    other.save_changes(0).unwrap();
    let forced = [(BLOB, Binary(pattern(MIB + 5, 4))), (COUNTER, Long(2))];
    for (tag, v) in &forced {
        set(&m, *tag, v.clone());
    }
    assert_eq!(
        m.save_changes(KEEP_OPEN_READWRITE).unwrap_err().code,
        MAPI_E_OBJECT_CHANGED
    );
    m.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    check(&forced);
    check(&second[1..]);
    // An attachment's data.
    let data = Binary(pattern(2 * MIB + 3, 7));
    let (_, a) = m.create_attach(0).unwrap();
    set(&a, PR_ATTACH_DATA_BIN, data.clone());
    a.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let stored = open_message(&store, &eid);
    let rows = stored.attachment_rows().unwrap();
    let stored_data = rows[0].get(&((PR_ATTACH_DATA_BIN >> 16) as u16)).cloned();
    assert!(stored_data.map(|v| store.whole_value(v).unwrap()) == Some(data));
}

fn every_type_round_trips_typed(engine: Engine) {
    use PropValue::*;
    let Some(loc) = location(engine, "types") else {
        return;
    };
    let values = vec![
        (0x6001_0002, I2(-12)),
        (0x6002_0003, Long(i32::MIN)),
        (0x6003_0004, R4(1.5)),
        (0x6004_0005, Double(-2.25e10)),
        (0x6005_0006, Currency(-99999)),
        (0x6006_0007, AppTime(45000.5)),
        (0x6007_000B, Boolean(true)),
        (0x6008_0014, I8(i64::MIN + 5)),
        (0x6009_0040, SysTime(u64::MAX)),
        (0x600A_0048, Clsid([7; 16])),
        (0x600B_0102, Binary(vec![0, 1, 2, 255])),
        (0x600C_1002, MvI2(vec![1, -2])),
        (0x600D_1003, MvLong(vec![])),
        (0x600E_1004, MvR4(vec![0.5])),
        (0x600F_1005, MvDouble(vec![1e300, -0.0])),
        (0x6010_1006, MvCurrency(vec![1, 2])),
        (0x6011_1007, MvAppTime(vec![3.5])),
        (0x6012_1014, MvI8(vec![i64::MAX, 0])),
        (0x6013_101E, MvString8(vec![b"a".to_vec(), b"".to_vec()])),
        (0x6014_101F, MvUnicode(vec!["x".into(), "😀".into()])),
        (0x6015_1040, MvSysTime(vec![1, 2, 3])),
        (0x6016_1048, MvClsid(vec![[1; 16], [2; 16]])),
        (0x6017_1102, MvBinary(vec![vec![], vec![9, 9]])),
        (0x6018_101F, MvUnicode(vec![])),
        (0x6019_001E, String8(vec![0xFF, 0xFE, b'x'])),
        (0x601A_001F, Unicode("Ünïcode ✓ 𝄞".into())),
        (0x601B_0102, Binary(vec![])),
    ];
    let eid = {
        let store = open(&loc);
        let m = root(&store).create_message(0).unwrap();
        for (tag, v) in &values {
            set(&m, *tag, v.clone());
        }
        m.save_changes(0).unwrap();
        m.entry_id().unwrap()
    };
    let store = open(&loc);
    let m = open_message(&store, &eid);
    for (tag, v) in &values {
        assert_eq!(get(&*m, *tag).as_ref(), Some(v), "{tag:08X}");
    }
}

fn ids_are_never_reused_and_change_numbers_grow(engine: Engine) {
    let Some(loc) = location(engine, "ids") else {
        return;
    };
    let store = open(&loc);
    let folder = root(&store);
    let mut seen = Vec::new();
    let mut last_cn = 0;
    for _ in 0..5 {
        let m = folder.create_message(0).unwrap();
        m.save_changes(KEEP_OPEN_READWRITE).unwrap();
        assert!(m.base_cn() > last_cn);
        last_cn = m.base_cn();
        let eid = m.entry_id().unwrap();
        assert!(!seen.contains(&eid));
        seen.push(eid.clone());
        assert!(folder.delete_messages(&[eid], 0).unwrap());
    }
    drop((folder, store));
    let store = open(&loc);
    let m = root(&store).create_message(0).unwrap();
    m.save_changes(0).unwrap();
    assert!(
        !seen.contains(&m.entry_id().unwrap()),
        "not even after reopening"
    );
}

/// A resolver that answers with one decision and counts its calls.
struct Always(Decision, AtomicUsize);

impl ConflictResolver for Always {
    fn resolve(
        &self,
        _saving: &Message,
        conflict: Conflict,
    ) -> msgstore::core::error::MapiResult<Decision> {
        self.1.fetch_add(1, Ordering::Relaxed);
        assert!(!conflict.deleted);
        assert!(conflict.my_changes.contains(&NOTE));
        Ok(self.0)
    }
}

fn resolver_outcomes(engine: Engine) {
    for decision in [
        Decision::KeepOriginal,
        Decision::Overwrite,
        Decision::Merge,
        Decision::SaveElsewhere { dest_folder: None },
    ] {
        let Some(loc) = location(engine, "resolver") else {
            return;
        };
        let store = open(&loc);
        let eid = new_message(&store);
        let theirs = open_message(&store, &eid);
        let mine = open_message(&store, &eid);
        set(&*theirs, COUNTER, PropValue::Long(5));
        theirs.save_changes(0).unwrap();
        set(&*mine, NOTE, PropValue::Unicode("mine".into()));
        let resolver = Arc::new(Always(decision, AtomicUsize::new(0)));
        store.set_resolver(Some(resolver.clone()));
        let result = mine.save_changes(KEEP_OPEN_READWRITE);
        assert_eq!(resolver.1.load(Ordering::Relaxed), 1, "{decision:?}");
        let stored = open_message(&store, &eid);
        match decision {
            Decision::KeepOriginal => {
                assert_eq!(result.unwrap_err().code, MAPI_E_OBJECT_CHANGED);
                assert_eq!(get(&*stored, NOTE), None);
            }
            Decision::Overwrite => {
                result.unwrap();
                assert_eq!(long(&*stored, COUNTER), 0, "their change replaced");
                assert_eq!(get(&*stored, NOTE), Some(PropValue::Unicode("mine".into())));
            }
            Decision::Merge => {
                result.unwrap();
                assert_eq!(long(&*stored, COUNTER), 5, "their change kept");
                assert_eq!(get(&*stored, NOTE), Some(PropValue::Unicode("mine".into())));
            }
            _ => {
                result.unwrap();
                assert_eq!(long(&*stored, COUNTER), 5);
                assert_eq!(get(&*stored, NOTE), None, "the original is untouched");
                assert_ne!(mine.entry_id().unwrap(), eid, "mine is a new message now");
                assert_eq!(get(&*mine, NOTE), Some(PropValue::Unicode("mine".into())));
            }
        }
        store.set_resolver(None);
    }
}

fn racing_creators_get_one_store(engine: Engine) {
    const OPENERS: usize = 6;
    let Some(loc) = location(engine, "create") else {
        return;
    };
    if matches!(engine, Engine::Sqlite) {
        // Concurrent creation of one file is issue 12's (c-tests); here a store exists first.
        open(&loc);
    }
    let barrier = Arc::new(Barrier::new(OPENERS));
    let guids: Vec<[u8; 16]> = (0..OPENERS)
        .map(|_| {
            let (loc, barrier) = (loc.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                *open(&loc).guid()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(
        guids.iter().all(|g| *g == guids[0]),
        "one store: {guids:02X?}"
    );
}

fn read_only_handles_refuse_writes(engine: Engine) {
    let Some(loc) = location(engine, "readonly") else {
        return;
    };
    let eid = new_message(&open(&loc));
    let ro = Store::open(&loc, 0).unwrap();
    assert!(!ro.writable());
    let m = match ro.open_entry(Some(&eid), MAPI_BEST_ACCESS).unwrap() {
        Opened::Message(m) => m,
        Opened::Folder(_) => unreachable!(),
    };
    assert_eq!(long(&*m, COUNTER), 0);
    assert_eq!(m.save_changes(0).unwrap_err().code, MAPI_E_NO_ACCESS);
}

fn named_test_names() -> Vec<PropName> {
    let guid = [
        0x29, 0x03, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
    ];
    let mut names: Vec<PropName> = (0..12)
        .map(|i| PropName::string(guid, format!("Field{i}")))
        .collect();
    names.push(PropName::string(guid, "field0")); // case matters
    names.push(PropName::id([9; 16], 0x8501));
    names.push(PropName::id([9; 16], -1));
    names.push(PropName::string([9; 16], "Field0")); // another set
    names
}

fn named_properties_persist_per_store(engine: Engine) {
    let (Some(loc), Some(other)) = (location(engine, "named"), location(engine, "named2")) else {
        return;
    };
    let names = named_test_names();
    let first = {
        let store = open(&loc);
        assert_eq!(
            store.ids_from_names(&names, false).unwrap(),
            vec![None; names.len()]
        );
        let ids = store.ids_from_names(&names, true).unwrap();
        let expected: Vec<Option<u16>> = (0..names.len() as u16)
            .map(|i| Some(FIRST_NAMED_ID + i))
            .collect();
        assert_eq!(
            ids, expected,
            "consecutive IDs from 0x8000, in request order"
        );
        ids
    };
    // Reopened (and read-only): the same mapping, the same signature.
    let store = open(&loc);
    let mut reversed = names.clone();
    reversed.reverse();
    let mut again = store.ids_from_names(&reversed, true).unwrap();
    again.reverse();
    assert_eq!(again, first);
    let ro = Store::open(&loc, 0).unwrap();
    assert_eq!(ro.ids_from_names(&names, false).unwrap(), first);
    assert_eq!(ro.mapping_signature(), store.mapping_signature());
    let ids: Vec<u16> = first.iter().map(|i| i.unwrap()).collect();
    let back = named::names_from_ids(ro.storage(), &ids, NameFilter::default()).unwrap();
    assert_eq!(back, names.iter().cloned().map(Some).collect::<Vec<_>>());
    assert_eq!(named::all_ids(ro.storage()).unwrap(), ids);
    // A new name on a read-only handle has no ID and gets none.
    let new = [PropName::string([9; 16], "new")];
    assert_eq!(ro.ids_from_names(&new, true).unwrap(), vec![None]);
    // Another store (on PostgreSQL: of the same database) has a mapping of its own.
    let other = open(&other);
    assert_ne!(other.mapping_signature(), store.mapping_signature());
    assert_eq!(
        other.ids_from_names(&names[..1], false).unwrap(),
        vec![None]
    );
    assert_eq!(
        other.ids_from_names(&names[3..4], true).unwrap(),
        vec![Some(FIRST_NAMED_ID)]
    );
    assert_eq!(
        store.ids_from_names(&names[3..4], false).unwrap(),
        vec![first[3]]
    );
}

/// Threads, each with its own handle (on PostgreSQL its own connection: another host as far as
/// the server can tell), create the same names at once, one name per call and each in its own
/// order: every name gets one ID, the same for all, and the IDs stay consecutive.
fn racing_named_creators_get_one_id(engine: Engine) {
    const THREADS: usize = 6;
    let Some(loc) = location(engine, "named-race") else {
        return;
    };
    open(&loc);
    let names = Arc::new(named_test_names());
    let barrier = Arc::new(Barrier::new(THREADS));
    let maps: Vec<Vec<(PropName, u16)>> = (0..THREADS)
        .map(|t| {
            let (loc, names, barrier) = (loc.clone(), names.clone(), barrier.clone());
            std::thread::spawn(move || {
                let store = open(&loc);
                barrier.wait();
                let n = names.len();
                let mut got: Vec<(PropName, u16)> = (0..n)
                    .map(|i| {
                        let name = names[(i + t * 5) % n].clone();
                        let id = store
                            .ids_from_names(std::slice::from_ref(&name), true)
                            .unwrap();
                        (name, id[0].unwrap())
                    })
                    .collect();
                got.sort();
                got
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for m in &maps[1..] {
        assert_eq!(*m, maps[0], "every thread sees one mapping");
    }
    let mut ids: Vec<u16> = maps[0].iter().map(|(_, id)| *id).collect();
    ids.sort();
    let expected: Vec<u16> = (0..names.len() as u16)
        .map(|i| FIRST_NAMED_ID + i)
        .collect();
    assert_eq!(ids, expected, "one ID per name, none wasted");
    assert_eq!(named::all_ids(open(&loc).storage()).unwrap(), expected);
}

/// The engines' backstop under core's lock: an insert whose name or ID is taken does nothing,
/// says so, and leaves the transaction usable (on PostgreSQL a unique violation would abort it).
fn named_inserts_that_conflict_do_nothing(engine: Engine) {
    let Some(loc) = location(engine, "named-conflict") else {
        return;
    };
    let store = open(&loc);
    let a = PropName::string([1; 16], "A");
    let b = PropName::id([1; 16], 1);
    let results = store
        .storage()
        .write(|t| -> Result<Vec<bool>, msgstore::storage::StorageError> {
            Ok(vec![
                t.named_insert(0x8000, &a)?,
                t.named_insert(0x8000, &b)?,
                t.named_insert(0x8001, &a)?,
                t.named_insert(0x8001, &b)?,
            ])
        })
        .unwrap();
    assert_eq!(results, vec![true, false, false, true]);
    let all = store.storage().read(|t| t.named_all()).unwrap();
    assert_eq!(all, vec![(0x8000, a), (0x8001, b)]);
}

/// PostgreSQL only: what a missing store, a bad server and a password in the URI give.
#[test]
fn postgres_errors_name_the_problem_and_never_the_password() {
    let Some(base) = pg::server() else { return };
    let missing = pg::store_uri(base, &unique("never-made"));
    assert_eq!(
        Store::open(&missing, MDB_WRITE).err().unwrap().code,
        MAPI_E_NOT_FOUND
    );
    let no_store = base.to_string();
    assert_eq!(
        Store::open(&no_store, MAPI_CREATE | MDB_WRITE)
            .err()
            .unwrap()
            .code,
        MAPI_E_NOT_FOUND
    );
    // A server that is not there: a network error that names no password.
    let down = "postgresql://someone:hunter2@127.0.0.1:1/mail?store=x&connect_timeout=2";
    let e = Store::open(down, MDB_WRITE).err().unwrap();
    assert_eq!(e.code, MAPI_E_NETWORK_ERROR, "{e:?}");
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    // A database that does not exist.
    let nodb = base.replace("postgresql:///postgres", "postgresql:///no_such_database");
    let e = Store::open(&pg::store_uri(&nodb, "x"), MDB_WRITE)
        .err()
        .unwrap();
    assert_eq!(e.code, MAPI_E_NOT_FOUND, "{e:?}");
}

/// PostgreSQL only: two write transactions that lock two objects in opposite orders deadlock;
/// the server aborts one, and the engine runs that one's body again (bounded retries), so both
/// commit and neither caller sees an error.
#[test]
fn postgres_deadlocks_are_retried() {
    use msgstore::storage::{self, OpenMode, StorageError, KIND_MESSAGE, ROOT_FOLDER_ID};
    use std::sync::atomic::AtomicBool;
    let Some(base) = pg::server() else { return };
    let loc = pg::store_uri(base, &unique("deadlock"));
    let mode = OpenMode {
        create: true,
        write: true,
        durable: false,
    };
    let engine: Arc<Box<dyn storage::Engine>> = Arc::new(storage::open(&loc, mode).unwrap());
    let (a, b) = engine
        .write(|t| -> Result<(u64, u64), StorageError> {
            let cn = t.alloc_cn()?;
            Ok((
                t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, cn, 0)?,
                t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, cn, 0)?,
            ))
        })
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let runs = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = [(a, b, 0x6801_0003u32), (b, a, 0x6802_0003u32)]
        .into_iter()
        .map(|(first, second, tag)| {
            let (engine, barrier, runs) = (engine.clone(), barrier.clone(), runs.clone());
            std::thread::spawn(move || {
                let first_attempt = AtomicBool::new(true);
                engine.write(|t| -> Result<(), StorageError> {
                    runs.fetch_add(1, Ordering::Relaxed);
                    t.lock_object(first)?;
                    if first_attempt.swap(false, Ordering::Relaxed) {
                        // Both hold their first lock before either asks for its second.
                        barrier.wait();
                    }
                    t.lock_object(second)?;
                    t.put_props(first, &[(tag, PropValue::Long(1))])?;
                    t.put_props(second, &[(tag, PropValue::Long(1))])
                })
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap().expect("both transactions commit");
    }
    assert_eq!(
        runs.load(Ordering::Relaxed),
        3,
        "one body ran again after the deadlock"
    );
    let stored = engine.read(|t| t.props(a)).unwrap();
    assert_eq!(stored.len(), 2, "both writes landed: {stored:?}");
}

/// PostgreSQL only: a database of schema 1 (`tests/fixtures/pg_schema1.sql`, as that release
/// made it) refuses a read-only open with MAPI_E_VERSION and changes nothing; a writable open
/// upgrades it to this build's schema under the advisory lock, keeping what it held, and saves
/// then commit with their tokens.
#[test]
#[cfg(feature = "postgres")]
fn postgres_schema_1_upgrades() {
    use msgstore::storage::{self, OpenMode, StorageError};
    let Some(base) = pg::server() else { return };
    let db = unique("upgrade").replace('-', "_").to_lowercase();
    let mut admin = ::postgres::Client::connect(base, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let db_base = base.replacen("postgresql:///postgres", &format!("postgresql:///{db}"), 1);
    assert_ne!(
        db_base, base,
        "the test server's URI names its database first"
    );
    let mut old = ::postgres::Client::connect(&db_base, ::postgres::NoTls).unwrap();
    old.batch_execute(include_str!("fixtures/pg_schema1.sql"))
        .unwrap();
    let version = |c: &mut ::postgres::Client| -> i64 {
        c.query_one(
            "SELECT value FROM msgstore_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let loc = pg::store_uri(&db_base, "old");
    let e = Store::open(&loc, 0)
        .err()
        .expect("a read-only open refuses schema 1");
    assert_eq!(e.code, MAPI_E_VERSION, "{e:?}");
    assert_eq!(version(&mut old), 1, "the read-only open changed nothing");

    let mode = OpenMode {
        create: false,
        write: true,
        durable: true,
    };
    let engine = storage::open(&loc, mode).expect("a writable open upgrades");
    assert_eq!(version(&mut old), storage::postgres::SCHEMA_VERSION);
    let kept = engine.read(|t| t.props(3)).unwrap();
    assert_eq!(
        kept,
        vec![(0x6701_0003, PropValue::Long(41))],
        "the message's property is kept"
    );
    let written = engine.write(|t| -> Result<(), StorageError> {
        t.put_props(3, &[(0x6702_0003, PropValue::Long(42))])
    });
    written.unwrap();
    let tokens: i64 = old
        .query_one("SELECT count(*) FROM msgstore_commits", &[])
        .unwrap()
        .get(0);
    assert_eq!(tokens, 1, "the write committed its token");
    // The upgrade added the named-property mapping, empty, and it works.
    let named_rows: i64 = old
        .query_one("SELECT count(*) FROM msgstore_named", &[])
        .unwrap()
        .get(0);
    assert_eq!(named_rows, 0);
    let name = PropName::string([3; 16], "after the upgrade");
    let ids = named::ids_from_names(&*engine, &[name], true, named::LAST_NAMED_ID).unwrap();
    assert_eq!(ids, vec![Some(FIRST_NAMED_ID)]);
    drop(engine);
    drop(old);
    let _ = admin.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"));
}

// ---- Contents tables: the engine's answer against the in-memory evaluator ---------------------

/// A small deterministic generator (xorshift), so that a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

/// The properties the random messages carry (one ID each; the type varies on purpose).
const T_NUM: u16 = 0x6711;
const T_TEXT: u16 = 0x6712;
const T_TIME: u16 = 0x6713;
const T_FLAG: u16 = 0x6714;
const T_BIG: u16 = 0x6715;
const T_BIN: u16 = 0x6716;
const T_NUM2: u16 = 0x6717;

fn tag(id: u16, ptype: u32) -> u32 {
    ((id as u32) << 16) | ptype
}

const WORDS: &[&str] = &[
    "apple",
    "Apple",
    "APPLE pie",
    "\u{c4}pfel",
    "\u{e4}pfel",
    "banana",
    "Zeta",
    "zeta",
    "\u{df}",
    "stra\u{df}e",
    "\u{1c5}",
    "",
    "caf\u{e9}",
    "CAF\u{c9}",
    "m\u{fc}ller",
];

/// A random value of property `id` (None: the message lacks it).
fn random_value(rng: &mut Rng, id: u16) -> Option<PropValue> {
    if rng.below(6) == 0 {
        return None;
    }
    let small = |rng: &mut Rng| rng.below(9) as i64 - 4;
    Some(match id {
        T_NUM | T_NUM2 => match rng.below(8) {
            0 => PropValue::I2(small(rng) as i16),
            1 => PropValue::MvLong(vec![small(rng) as i32, small(rng) as i32]),
            _ => PropValue::Long(small(rng) as i32),
        },
        T_TEXT => match rng.below(5) {
            0 => PropValue::String8(rng.pick(WORDS).as_bytes().to_vec()),
            _ => PropValue::Unicode(rng.pick(WORDS).to_string()),
        },
        T_TIME => PropValue::SysTime(rng.pick(&[0, 5, 1 << 40, (1 << 63) + 7, u64::MAX, 1 << 62])),
        T_FLAG => PropValue::Boolean(rng.below(2) == 1),
        T_BIG => PropValue::I8(rng.pick(&[i64::MIN, -1, 0, 1, 1 << 40, i64::MAX])),
        _ => PropValue::Binary(rng.pick(&[&b""[..], b"ab", b"abc", b"b", b"\xff"]).to_vec()),
    })
}

/// A random restriction value of property `id` and a tag of its type.
fn random_needle(rng: &mut Rng, id: u16) -> (u32, PropValue) {
    let v = loop {
        if let Some(v) = random_value(rng, id) {
            break v;
        }
    };
    let v = match v {
        PropValue::MvLong(x) => PropValue::Long(x[0]),
        v => v,
    };
    let ptype = v.ptype();
    // Sometimes the multi-valued column's tag, whose restriction carries a single value.
    let tagged = if id == T_NUM && ptype == PT_LONG && rng.below(4) == 0 {
        tag(id, PT_MV_LONG)
    } else {
        tag(id, ptype)
    };
    (tagged, v)
}

fn random_restriction(rng: &mut Rng, depth: u32) -> msgstore::core::table::Restriction {
    use msgstore::core::table::restriction::{Relop, Restriction as R};
    let ids = [T_NUM, T_TEXT, T_TIME, T_FLAG, T_BIG, T_BIN, T_NUM2];
    let relop = |rng: &mut Rng| {
        rng.pick(&[
            Relop::Lt,
            Relop::Le,
            Relop::Gt,
            Relop::Ge,
            Relop::Eq,
            Relop::Ne,
        ])
    };
    let leaf = rng.below(if depth == 0 { 7 } else { 11 });
    match leaf {
        0..=2 => {
            let id = rng.pick(&ids);
            let (tag, value) = random_needle(rng, id);
            R::Property {
                relop: relop(rng),
                tag,
                value,
            }
        }
        3 => {
            let id = rng.pick(&[T_TEXT, T_BIN]);
            let (tag, value) = random_needle(rng, id);
            let fuzzy = rng.pick(&[FL_FULLSTRING, FL_SUBSTRING, FL_PREFIX])
                | rng.pick(&[0, FL_IGNORECASE, FL_LOOSE]);
            R::Content { fuzzy, tag, value }
        }
        4 => R::Exist {
            tag: tag(rng.pick(&ids), PT_LONG),
        },
        5 => R::BitMask {
            nez: rng.below(2) == 0,
            tag: tag(T_NUM, PT_LONG),
            mask: rng.pick(&[1, 2, 0x8000_0000, 0xFFFF_0000]),
        },
        6 => match rng.below(3) {
            0 => R::Size {
                relop: relop(rng),
                tag: tag(T_TEXT, PT_UNICODE),
                cb: rng.below(8) as u32,
            },
            1 => R::CompareProps {
                relop: relop(rng),
                tag1: tag(T_NUM, PT_LONG),
                tag2: tag(T_NUM2, PT_LONG),
            },
            _ => R::Property {
                relop: Relop::Eq,
                tag: PR_OBJECT_TYPE,
                value: PropValue::Long(MAPI_MESSAGE as i32),
            },
        },
        7 => R::Not(Box::new(random_restriction(rng, depth - 1))),
        8 => R::Comment,
        9 => R::Or(
            (0..rng.below(3))
                .map(|_| random_restriction(rng, depth - 1))
                .collect(),
        ),
        _ => R::And(
            (0..rng.below(4))
                .map(|_| random_restriction(rng, depth - 1))
                .collect(),
        ),
    }
}

fn random_sort(rng: &mut Rng) -> Vec<msgstore::core::table::SortKey> {
    let keys = [
        tag(T_NUM, PT_LONG),
        tag(T_TEXT, PT_UNICODE),
        tag(T_TIME, PT_SYSTIME),
        tag(T_FLAG, PT_BOOLEAN),
        tag(T_BIG, PT_I8),
        tag(T_BIN, PT_BINARY),
        tag(T_NUM2, PT_LONG),
    ];
    let mut sort: Vec<msgstore::core::table::SortKey> = Vec::new();
    for _ in 0..rng.below(4) {
        let tag = rng.pick(&keys);
        if sort.iter().all(|k| k.tag != tag) {
            let descending = rng.below(2) == 0;
            sort.push(msgstore::core::table::SortKey { tag, descending });
        }
    }
    sort
}

/// Rows of a view with `columns`, from the start, read in windows of 37.
fn all_rows(
    view: &mut msgstore::core::table::view::TableView,
    columns: &[u32],
) -> Vec<Vec<(u32, msgstore::core::table::Cell)>> {
    view.set_columns(columns.to_vec()).unwrap();
    view.seek_row(msgstore::core::table::view::Origin::Beginning, 0)
        .unwrap();
    let mut out = Vec::new();
    loop {
        let rows = view.query_rows(37, false).unwrap();
        if rows.is_empty() {
            return out;
        }
        out.extend(rows.into_iter().map(|r| r.props));
    }
}

/// All rows of a view, one column each: PR_ENTRYID.
fn entry_ids(view: &mut msgstore::core::table::view::TableView) -> Vec<Vec<u8>> {
    use msgstore::core::table::Cell;
    all_rows(view, &[PR_ENTRYID])
        .into_iter()
        .map(|r| match &r[0].1 {
            Cell::Value(PropValue::Binary(b)) => b.clone(),
            other => panic!("PR_ENTRYID: {other:?}"),
        })
        .collect()
}

/// Random messages (types varying within a property, multi-valued values, strings that differ
/// only in case or outside ASCII, times past 2^63, missing values), then random restrictions
/// and sorts: a folder's contents table gives exactly the rows, in exactly the order, that the
/// in-memory table engine gives for the same messages. Then another client's save, creation and
/// deletion each show at the open table's next read.
fn contents_tables_give_the_evaluators_rows(engine: Engine) {
    use msgstore::core::table::memory::MemoryTable;
    use msgstore::core::table::view::TableView;
    use msgstore::core::table::{Cell, RowSource};
    let Some(loc) = location(engine, "contents") else {
        return;
    };
    let store = open(&loc);
    let folder = root(&store);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let model = Arc::new(MemoryTable::new(PR_ENTRYID, vec![PR_ENTRYID]).unwrap());
    let ids = [T_NUM, T_TEXT, T_TIME, T_FLAG, T_BIG, T_BIN, T_NUM2];
    for _ in 0..120 {
        let m = folder.create_message(0).unwrap();
        let mut row = vec![(
            PR_OBJECT_TYPE,
            Cell::Value(PropValue::Long(MAPI_MESSAGE as i32)),
        )];
        for id in ids {
            if let Some(v) = random_value(&mut rng, id) {
                let t = tag(id, v.ptype());
                set(&m, t, v.clone());
                row.push((t, Cell::Value(v)));
            }
        }
        m.save_changes(KEEP_OPEN_READWRITE).unwrap();
        row.push((
            PR_ENTRYID,
            Cell::Value(PropValue::Binary(m.entry_id().unwrap())),
        ));
        model.modify_row(row, None).unwrap();
    }
    // An associated message is in the associated table only.
    let fai = folder.create_message(MAPI_ASSOCIATED).unwrap();
    fai.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let mut assoc = folder.contents_table(MAPI_ASSOCIATED).unwrap();
    assert_eq!(entry_ids(&mut assoc), vec![fai.entry_id().unwrap()]);

    let model: Arc<dyn RowSource> = model;
    let mut checked_nonempty = 0;
    for round in 0..150 {
        let r = random_restriction(&mut rng, 3);
        r.check().unwrap();
        let sort = random_sort(&mut rng);
        let mut want_view = TableView::new(model.clone(), sort.clone()).unwrap();
        want_view.restrict(Some(r.clone())).unwrap();
        let want = entry_ids(&mut want_view);
        let mut got_view = folder.contents_table(0).unwrap();
        got_view.sort_table(sort.clone()).unwrap();
        got_view.restrict(Some(r.clone())).unwrap();
        let got = entry_ids(&mut got_view);
        assert_eq!(got, want, "round {round}: {r:?} sorted by {sort:?}");
        if !want.is_empty() && want.len() < 120 {
            checked_nonempty += 1;
        }
    }
    assert!(
        checked_nonempty > 30,
        "too few selective rounds: {checked_nonempty}"
    );

    // Another client (its own store handle) saves, creates and deletes: the open table sees
    // each at its next read.
    let mut view = folder.contents_table(0).unwrap();
    view.restrict(Some(msgstore::core::table::Restriction::Exist {
        tag: tag(0x6720, PT_LONG),
    }))
    .unwrap();
    assert!(entry_ids(&mut view).is_empty());
    let other = open(&loc);
    let created = {
        let m = root(&other).create_message(0).unwrap();
        set(&m, tag(0x6720, PT_LONG), PropValue::Long(1));
        m.save_changes(KEEP_OPEN_READWRITE).unwrap();
        m.entry_id().unwrap()
    };
    assert_eq!(entry_ids(&mut view), vec![created.clone()]);
    let first = {
        let mut all = folder.contents_table(0).unwrap();
        entry_ids(&mut all)[0].clone()
    };
    let m = open_message(&other, &first);
    set(&*m, tag(0x6720, PT_LONG), PropValue::Long(2));
    m.save_changes(0).unwrap();
    assert_eq!(entry_ids(&mut view), vec![first.clone(), created.clone()]);
    assert!(root(&other).delete_messages(&[first], 0).unwrap());
    assert_eq!(entry_ids(&mut view), vec![created]);
}

/// Moves and copies are told: this handle's advise sinks get fnevObjectMoved / fnevObjectCopied
/// naming the object, its folder and where it came from (published after the commit), and
/// another handle's change feed sees a moved message as a change in its new folder.
fn moves_and_copies_are_announced(engine: Engine) {
    use msgstore::core::notify::{Event, EventKind, Sink};
    use msgstore::storage::{ChangeWhat, FeedItem, KIND_FOLDER, KIND_MESSAGE};
    use std::time::{Duration, Instant};
    struct Recorder(parking_lot::Mutex<Vec<Event>>);
    impl Sink for Recorder {
        fn notify(&self, events: &[Event]) {
            self.0.lock().extend_from_slice(events);
        }
    }
    let Some(loc) = location(engine, "move-events") else {
        return;
    };
    let store = open(&loc);
    let other = open(&loc);
    let r = root(&store);
    let dest = r.create_folder(FOLDER_GENERIC, "dest", None, 0).unwrap();
    let sub = r.create_folder(FOLDER_GENERIC, "sub", None, 0).unwrap();
    let (eid, id) = message_with_a_tree(&store);
    let mut feed = other.storage().change_feed().unwrap();
    // What the feed told before the moves is not this test's.
    while !matches!(
        feed.next(Duration::from_millis(100)).unwrap(),
        FeedItem::Nothing
    ) {}
    let sink = Arc::new(Recorder(parking_lot::Mutex::new(Vec::new())));
    let mask = fnevObjectMoved | fnevObjectCopied;
    let conn = store.advise(None, mask, sink.clone()).unwrap();

    assert!(r
        .copy_messages(std::slice::from_ref(&eid), &dest, 0)
        .unwrap());
    assert!(r
        .copy_messages(std::slice::from_ref(&eid), &dest, MESSAGE_MOVE)
        .unwrap());
    let sub_eid = store.entry_id(MAPI_FOLDER, sub.id());
    r.copy_folder(&sub_eid, &dest, Some("sub copy"), 0).unwrap();
    r.copy_folder(&sub_eid, &dest, None, FOLDER_MOVE).unwrap();

    let until = Instant::now() + Duration::from_secs(10);
    while sink.0.lock().len() < 4 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let got = sink.0.lock().clone();
    let shape: Vec<_> = got
        .iter()
        .map(|e| (e.kind, e.obj_kind, e.parent, e.old_parent))
        .collect();
    let (to, from) = (Some(dest.id()), Some(r.id()));
    assert_eq!(
        shape,
        vec![
            (EventKind::Copied, KIND_MESSAGE, to, from),
            (EventKind::Moved, KIND_MESSAGE, to, from),
            (EventKind::Copied, KIND_FOLDER, to, from),
            (EventKind::Moved, KIND_FOLDER, to, from),
        ]
    );
    assert_ne!(got[0].id, id, "a copy is a new message");
    assert_eq!(got[0].old_id, Some(id));
    assert_eq!((got[1].id, got[1].old_id), (id, Some(id)));
    assert_eq!((got[3].id, got[3].old_id), (sub.id(), Some(sub.id())));
    assert_ne!(got[2].id, sub.id());
    store.unadvise(conn).unwrap();

    // The other handle: the moved message and folder are changes under `dest`.
    let mut told = Vec::new();
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until
        && !(told
            .iter()
            .any(|c: &msgstore::storage::ChangeRecord| c.id == id)
            && told.iter().any(|c| c.id == sub.id()))
    {
        if let FeedItem::Changes(c) = feed.next(Duration::from_millis(200)).unwrap() {
            told.extend(c);
        }
    }
    for moved in [id, sub.id()] {
        assert!(
            told.iter().any(|c| c.id == moved
                && c.what == ChangeWhat::Modified
                && c.parent == Some(dest.id())),
            "object {moved}: {told:?}"
        );
    }
}

/// The change feed of one handle (notifications) tells what another handle of the store commits
/// — creations, a save, a folder's direct property write, a deletion — in commit order, with
/// each object's kind and folder.
fn the_change_feed_tells_every_writers_changes(engine: Engine) {
    use msgstore::storage::{ChangeWhat, FeedItem, KIND_FOLDER, KIND_MESSAGE, ROOT_FOLDER_ID};
    use std::time::{Duration, Instant};
    let Some(loc) = location(engine, "feed") else {
        return;
    };
    let reader = open(&loc);
    let writer = open(&loc);
    let mut feed = reader.storage().change_feed().unwrap();
    let root = root(&writer);
    let m = root.create_message(0).unwrap();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    set(&m, NOTE, PropValue::Unicode("changed".into()));
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let eid = m.entry_id().unwrap();
    let id = u64::from_le_bytes(eid[eid.len() - 8..].try_into().unwrap());
    let sub = root.create_folder(FOLDER_GENERIC, "sub", None, 0).unwrap();
    set(&sub, PR_COMMENT_W, PropValue::Unicode("a comment".into()));
    assert!(root.delete_messages(std::slice::from_ref(&eid), 0).unwrap());
    let mut got = Vec::new();
    let until = Instant::now() + Duration::from_secs(10);
    while got.len() < 5 && Instant::now() < until {
        match feed.next(Duration::from_millis(200)).unwrap() {
            FeedItem::Changes(c) => got.extend(c),
            FeedItem::Missed => panic!("nothing was missed"),
            FeedItem::Nothing => {}
        }
    }
    let seen: Vec<(u32, ChangeWhat, Option<u64>)> =
        got.iter().map(|c| (c.kind, c.what, c.parent)).collect();
    let root_id = Some(ROOT_FOLDER_ID);
    assert_eq!(
        seen,
        [
            (KIND_MESSAGE, ChangeWhat::Created, root_id),
            (KIND_MESSAGE, ChangeWhat::Modified, root_id),
            (KIND_FOLDER, ChangeWhat::Created, root_id),
            (KIND_FOLDER, ChangeWhat::Modified, root_id),
            (KIND_MESSAGE, ChangeWhat::Deleted, root_id),
        ]
    );
    assert!(got[0].id == id && got[1].id == id && got[4].id == id);
    assert_eq!(got[2].id, got[3].id);
}

/// PostgreSQL only: a change feed whose LISTEN connection is lost (its backend terminated) makes
/// it again and says it missed something (events are hints: the reader resyncs), then tells
/// changes as before.
#[test]
#[cfg(feature = "postgres")]
fn postgres_a_lost_listener_is_made_again_and_reported_as_missed() {
    use msgstore::storage::FeedItem;
    use std::time::{Duration, Instant};
    let Some(base) = pg::server() else { return };
    let name = unique("listener");
    let store = open(&pg::store_uri(base, &name));
    let mut feed = store.storage().change_feed().unwrap();
    let mut admin = ::postgres::Client::connect(base, ::postgres::NoTls).unwrap();
    let number: i64 = admin
        .query_one(
            "SELECT store FROM msgstore_stores WHERE name = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    let listen = format!("LISTEN msgstore_{number}");
    let ended: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query = $1) t",
            &[&listen],
        )
        .unwrap()
        .get(0);
    assert_eq!(ended, 1, "one listener for the store");
    let until = Instant::now() + Duration::from_secs(20);
    let mut missed = false;
    while !missed && Instant::now() < until {
        // The loss shows as an error first (the watcher reads again), then as Missed.
        missed = matches!(feed.next(Duration::from_millis(200)), Ok(FeedItem::Missed));
    }
    assert!(missed, "the lost listener was reported as missed");
    let m = root(&store).create_message(0).unwrap();
    m.save_changes(0).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let mut told = false;
    while !told && Instant::now() < until {
        told = matches!(
            feed.next(Duration::from_millis(200)),
            Ok(FeedItem::Changes(_))
        );
    }
    assert!(told, "changes are told again on the new connection");
}

/// Messages with random recipients (names differing in case, each of MAPI_TO / MAPI_CC /
/// MAPI_BCC) and attachments: a contents table's PR_HASATTACH, PR_DISPLAY_TO / _CC / _BCC and
/// PR_MESSAGE_SIZE are what the open message shows, and restricting and sorting on them gives
/// the evaluator's rows; RES_SUBRESTRICTION (alone, under NOT, beside other terms, through
/// FindRow) selects exactly the messages whose own recipient or attachment table has a row
/// matching it; a nested sub-restriction or another sub-object is MAPI_E_TOO_COMPLEX.
fn contents_tables_see_each_messages_children(engine: Engine) {
    use msgstore::core::message::ChildKind;
    use msgstore::core::table::memory::MemoryTable;
    use msgstore::core::table::restriction::Relop;
    use msgstore::core::table::view::{Origin, TableView};
    use msgstore::core::table::{Cell, Restriction as R, RowSource, SortKey};
    let Some(loc) = location(engine, "contents-children") else {
        return;
    };
    let store = open(&loc);
    let folder = root(&store);
    let mut rng = Rng(0x0DDB_A11C_AFE5_EED5);
    const COMPUTED: [u32; 5] = [
        PR_HASATTACH,
        PR_DISPLAY_TO_W,
        PR_DISPLAY_CC_W,
        PR_DISPLAY_BCC_W,
        PR_MESSAGE_SIZE,
    ];
    let model = Arc::new(MemoryTable::new(PR_ENTRYID, vec![PR_ENTRYID]).unwrap());
    let mut messages = Vec::new();
    for i in 0..30 {
        let m = folder.create_message(0).unwrap();
        set(&m, PR_SUBJECT_W, PropValue::Unicode(format!("m{i}")));
        for _ in 0..rng.below(3) {
            let (_, a) = m.create_attach(0).unwrap();
            let data = vec![b'x'; rng.below(40) as usize];
            set(&a, PR_ATTACH_DATA_BIN, PropValue::Binary(data));
            a.save_changes(0).unwrap();
        }
        let recipients: Vec<Vec<PropInput>> = (0..rng.below(4))
            .map(|_| {
                let name = rng.pick(&["Ann", "bob", "ANN", "Cy"]);
                let kind = rng.pick(&[MAPI_TO, MAPI_CC, MAPI_BCC]);
                vec![
                    PropInput {
                        index: 0,
                        tag: PR_DISPLAY_NAME_W,
                        value: PropValue::Unicode(name.into()),
                    },
                    PropInput {
                        index: 1,
                        tag: PR_RECIPIENT_TYPE,
                        value: PropValue::Long(kind as i32),
                    },
                ]
            })
            .collect();
        if !recipients.is_empty() {
            m.modify_recipients(MODRECIP_ADD, recipients).unwrap();
        }
        m.save_changes(KEEP_OPEN_READWRITE).unwrap();
        let eid = m.entry_id().unwrap();
        // The model row: what the message, opened again, shows.
        let opened = open_message(&store, &eid);
        let mut row = vec![(PR_ENTRYID, Cell::Value(PropValue::Binary(eid.clone())))];
        for t in COMPUTED {
            let v = get(&*opened, t).unwrap_or_else(|| panic!("message {i}: no {t:08X}"));
            row.push((t, Cell::Value(v)));
        }
        model.modify_row(row, None).unwrap();
        messages.push((eid, opened));
    }
    let model: Arc<dyn RowSource> = model;

    // The columns, row by row, in the table's own order (the messages' order).
    let mut columns = vec![PR_ENTRYID];
    columns.extend(COMPUTED);
    let mut table = folder.contents_table(MAPI_UNICODE).unwrap();
    let mut want_view = TableView::new(model.clone(), Vec::new()).unwrap();
    let got = all_rows(&mut table, &columns);
    assert_eq!(got, all_rows(&mut want_view, &columns));
    assert!(got
        .iter()
        .any(|r| r[1].1 == Cell::Value(PropValue::Boolean(true))));
    assert!(got
        .iter()
        .any(|r| r[1].1 == Cell::Value(PropValue::Boolean(false))));

    // Restricted and sorted on them, as the evaluator does.
    let mut sizes: Vec<i32> = got
        .iter()
        .map(|r| match r[5].1 {
            Cell::Value(PropValue::Long(n)) => n,
            ref other => panic!("PR_MESSAGE_SIZE: {other:?}"),
        })
        .collect();
    sizes.sort();
    let content = |tag, text: &str| R::Content {
        fuzzy: FL_SUBSTRING | FL_IGNORECASE,
        tag,
        value: PropValue::Unicode(text.into()),
    };
    let cases: Vec<(Option<R>, Vec<SortKey>)> = vec![
        (
            Some(R::Property {
                relop: Relop::Eq,
                tag: PR_HASATTACH,
                value: PropValue::Boolean(true),
            }),
            vec![],
        ),
        (
            Some(content(PR_DISPLAY_TO_W, "ann")),
            vec![SortKey {
                tag: PR_MESSAGE_SIZE,
                descending: true,
            }],
        ),
        (
            Some(R::Or(vec![
                content(PR_DISPLAY_CC_W, "bob"),
                content(PR_DISPLAY_BCC_W, "cy"),
            ])),
            vec![SortKey {
                tag: PR_DISPLAY_TO_W,
                descending: false,
            }],
        ),
        (
            Some(R::Property {
                relop: Relop::Gt,
                tag: PR_MESSAGE_SIZE,
                value: PropValue::Long(sizes[sizes.len() / 2]),
            }),
            vec![
                SortKey {
                    tag: PR_HASATTACH,
                    descending: true,
                },
                SortKey {
                    tag: PR_DISPLAY_BCC_W,
                    descending: false,
                },
            ],
        ),
    ];
    for (r, sort) in cases {
        let mut want_view = TableView::new(model.clone(), sort.clone()).unwrap();
        want_view.restrict(r.clone()).unwrap();
        let want = entry_ids(&mut want_view);
        let mut got_view = folder.contents_table(0).unwrap();
        got_view.sort_table(sort.clone()).unwrap();
        got_view.restrict(r.clone()).unwrap();
        assert_eq!(entry_ids(&mut got_view), want, "{r:?} sorted by {sort:?}");
        assert!(!want.is_empty() && want.len() < messages.len(), "{r:?}");
    }

    // RES_SUBRESTRICTION: a message is selected when its own recipient or attachment table
    // has a row matching the sub-restriction.
    let sub = |object, r: R| R::Sub {
        object,
        restriction: Box::new(r),
    };
    let children_match = |m: &Message, object, r: &R| {
        let kind = ChildKind::from_sub_object(object).unwrap();
        let mut t = m.child_table(kind, 0).unwrap();
        t.restrict(Some(r.clone())).unwrap();
        t.row_count().unwrap() > 0
    };
    let named_ann = content(PR_DISPLAY_NAME_W, "ann");
    let cc = R::Property {
        relop: Relop::Eq,
        tag: PR_RECIPIENT_TYPE,
        value: PropValue::Long(MAPI_CC as i32),
    };
    let big = R::Size {
        relop: Relop::Gt,
        tag: PR_ATTACH_DATA_BIN,
        cb: 20,
    };
    let subs = [
        (PR_MESSAGE_RECIPIENTS, named_ann.clone()),
        (PR_MESSAGE_RECIPIENTS, R::And(vec![named_ann.clone(), cc])),
        (PR_MESSAGE_ATTACHMENTS, big.clone()),
    ];
    for (object, inner) in &subs {
        let hits: Vec<bool> = messages
            .iter()
            .map(|(_, m)| children_match(m, *object, inner))
            .collect();
        let select = |want: &dyn Fn(usize) -> bool| -> Vec<Vec<u8>> {
            (0..messages.len())
                .filter(|i| want(*i))
                .map(|i| messages[i].0.clone())
                .collect()
        };
        let alone = sub(*object, inner.clone());
        let has_attach = R::Property {
            relop: Relop::Eq,
            tag: PR_HASATTACH,
            value: PropValue::Boolean(true),
        };
        let attached: Vec<bool> = got
            .iter()
            .map(|r| r[1].1 == Cell::Value(PropValue::Boolean(true)))
            .collect();
        for (r, want) in [
            (alone.clone(), select(&|i| hits[i])),
            (R::Not(Box::new(alone.clone())), select(&|i| !hits[i])),
            (
                R::Or(vec![alone.clone(), has_attach]),
                select(&|i| hits[i] || attached[i]),
            ),
        ] {
            let mut view = folder.contents_table(0).unwrap();
            view.restrict(Some(r.clone())).unwrap();
            assert_eq!(entry_ids(&mut view), want, "{r:?}");
        }
        let selected = select(&|i| hits[i]);
        assert!(!selected.is_empty() && selected.len() < messages.len());
        // FindRow with it: the first message it selects.
        let mut view = folder.contents_table(0).unwrap();
        view.set_columns(vec![PR_ENTRYID]).unwrap();
        view.find_row(&alone, Origin::Beginning, false).unwrap();
        let row = view.query_rows(1, false).unwrap();
        assert_eq!(
            row[0].props[0].1,
            Cell::Value(PropValue::Binary(selected[0].clone()))
        );
    }
    let mut view = folder.contents_table(0).unwrap();
    for r in [
        sub(
            PR_MESSAGE_RECIPIENTS,
            sub(PR_MESSAGE_ATTACHMENTS, big.clone()),
        ),
        sub(PR_SUBJECT_W, named_ann.clone()),
    ] {
        assert_eq!(
            view.restrict(Some(r.clone())).unwrap_err().code,
            MAPI_E_TOO_COMPLEX,
            "{r:?}"
        );
        assert_eq!(
            view.find_row(&r, Origin::Beginning, false)
                .unwrap_err()
                .code,
            MAPI_E_TOO_COMPLEX
        );
    }
}

const MIB: usize = 1 << 20;
const BIG: u32 = 0x6720_0102;

/// `tag`'s value exactly as `m`'s view holds it: a value left in the store as its reference.
fn raw(m: &dyn PropObject, tag: u32) -> Option<PropValue> {
    let mut out = None;
    m.read(&mut |v: &dyn PropView| out = v.get((tag >> 16) as u16).map(|c| c.into_owned()))
        .unwrap();
    out
}

/// The reference `m`'s view holds for `tag`, which must have been left in the store.
fn large_ref(m: &dyn PropObject, tag: u32) -> msgstore::core::value::LargeRef {
    match raw(m, tag) {
        Some(PropValue::Large(at)) => *at,
        other => panic!(
            "{tag:08X} was not left in the store: {:?}",
            other.map(|v| v.ptype())
        ),
    }
}

/// A value left in the store read through `Store::read_large` in pieces of `piece` bytes, each
/// at the offset the last one ended, until a read returns 0.
fn read_in_pieces(
    store: &Store,
    at: &msgstore::core::value::LargeRef,
    piece: usize,
) -> msgstore::core::error::MapiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; piece];
    loop {
        let n = store.read_large(at, out.len() as u64, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The only message of `folder`, by object ID.
fn only_message_id(store: &Store, folder: u64) -> u64 {
    let rows = store
        .storage()
        .read(|t| t.children(folder, msgstore::storage::KIND_MESSAGE))
        .unwrap();
    assert_eq!(rows.len(), 1);
    rows[0].id
}

/// Reads `tag` of `obj` whole through a stream (OpenProperty(IID_IStream), read-only) in odd
/// pieces, after a seek into the middle and back.
fn read_by_stream(obj: &dyn PropObject, tag: u32) -> Vec<u8> {
    use msgstore::core::stream::{OpenRequest, PropStream};
    let req = OpenRequest {
        tag,
        interface_options: STGM_READ,
        flags: 0,
    };
    let s = PropStream::open(obj, obj.stream_owner().unwrap(), req).unwrap();
    let len = s.size().unwrap() as usize;
    // A byte just past a 1 MiB window, then from the start again.
    assert_eq!(
        s.seek(MIB as i64 + 1, STREAM_SEEK_SET).unwrap(),
        MIB as u64 + 1
    );
    let mut one = [0u8; 1];
    assert_eq!(s.read(&mut one).unwrap(), 1);
    s.seek(0, STREAM_SEEK_SET).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0; 99_991];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out.len(), len);
    assert_eq!(out.get(MIB + 1), Some(&one[0]));
    out
}

/// What a message opens with: PT_BINARY and PT_STRING8 values strictly longer than 1 MiB (of
/// the message, its attachment, its embedded message) are left in the store as references
/// (type, length, object, property); PT_UNICODE and values of 1 MiB are loaded. The references
/// read back exactly through `Store::read_large` in pieces that straddle its windows, 0 at and
/// past the end, and through streams.
fn large_values_stay_in_the_store_until_read(engine: Engine) {
    use PropValue::*;
    const ANSI: u32 = 0x6721_001E;
    const ANSI_8BIT: u32 = 0x6722_001E;
    const EXACT: u32 = 0x6723_0102;
    const EMBEDDED_BIG: u32 = 0x6724_0102;
    let Some(loc) = location(engine, "deferred") else {
        return;
    };
    let store = open(&loc);
    let big = pattern(3 * MIB + 1, 0);
    let ansi = std::iter::repeat_n(b'q', MIB + 1).collect::<Vec<u8>>();
    // Not UTF-8: PostgreSQL keeps it with the binaries.
    let ansi_8bit = std::iter::repeat_n(0xE9u8, MIB + 1).collect::<Vec<u8>>();
    let exact = pattern(MIB, 1);
    let unicode = std::iter::repeat_n('ü', MIB).collect::<String>();
    let data = pattern(2 * MIB, 2);
    let embedded_big = pattern(MIB + 2, 3);
    let m = root(&store).create_message(0).unwrap();
    set(&m, BIG, Binary(big.clone()));
    set(&m, ANSI, String8(ansi.clone()));
    set(&m, ANSI_8BIT, String8(ansi_8bit.clone()));
    set(&m, EXACT, Binary(exact.clone()));
    set(&m, NOTE, Unicode(unicode.clone()));
    let (_, a) = m.create_attach(0).unwrap();
    set(&a, PR_ATTACH_DATA_BIN, Binary(data.clone()));
    a.save_changes(0).unwrap();
    let (_, holder) = m.create_attach(0).unwrap();
    let e = holder.open_embedded(MAPI_CREATE).unwrap();
    set(&e, EMBEDDED_BIG, Binary(embedded_big.clone()));
    e.save_changes(0).unwrap();
    holder.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let eid = m.entry_id().unwrap();
    let id = only_message_id(&store, msgstore::storage::ROOT_FOLDER_ID);

    let m = open_message(&store, &eid);
    let at = large_ref(&*m, BIG);
    assert_eq!(
        (at.ptype, at.len, at.obj, at.prop),
        (PT_BINARY, big.len() as u64, id, (BIG >> 16) as u16)
    );
    let at_8bit = large_ref(&*m, ANSI_8BIT);
    assert_eq!((at_8bit.ptype, at_8bit.len), (PT_STRING8, MIB as u64 + 1));
    match engine {
        Engine::Sqlite => {
            let at = large_ref(&*m, ANSI);
            assert_eq!((at.ptype, at.len), (PT_STRING8, MIB as u64 + 1));
            assert_eq!(read_in_pieces(&store, &at, 100_000).unwrap(), ansi);
        }
        // PostgreSQL keeps UTF-8 text in its text column, which it reads whole.
        Engine::Postgres => assert!(raw(&*m, ANSI) == Some(String8(ansi.clone()))),
    }
    assert!(raw(&*m, EXACT) == Some(Binary(exact)), "1 MiB is loaded");
    assert!(
        raw(&*m, NOTE) == Some(Unicode(unicode)),
        "PT_UNICODE is loaded"
    );

    assert_eq!(read_in_pieces(&store, &at, 100_000).unwrap(), big);
    assert_eq!(read_in_pieces(&store, &at, 3 * MIB + 7).unwrap(), big);
    assert_eq!(read_in_pieces(&store, &at_8bit, 65_537).unwrap(), ansi_8bit);
    let mut buf = vec![0; 100_000];
    assert_eq!(store.read_large(&at, at.len, &mut buf).unwrap(), 0);
    assert_eq!(store.read_large(&at, at.len + 12_345, &mut buf).unwrap(), 0);
    // A piece that runs past the end stops at it.
    assert_eq!(store.read_large(&at, at.len - 10, &mut buf).unwrap(), 10);
    assert_eq!(buf[..10], big[big.len() - 10..]);
    assert_eq!(read_by_stream(&*m, BIG), big);
    assert!(get(&*m, BIG) == Some(Binary(big.clone())));
    assert!(get(&*m, ANSI_8BIT) == Some(String8(ansi_8bit)));

    // The attachment's data and the embedded message's value.
    let a = m.open_attach(0, 0).unwrap();
    let at_data = large_ref(&a, PR_ATTACH_DATA_BIN);
    assert_eq!((at_data.ptype, at_data.len), (PT_BINARY, data.len() as u64));
    assert_ne!(at_data.obj, id, "the attachment's own object");
    assert_eq!(read_in_pieces(&store, &at_data, 100_000).unwrap(), data);
    assert_eq!(read_by_stream(&a, PR_ATTACH_DATA_BIN), data);
    let rows = m.attachment_rows().unwrap();
    assert!(matches!(
        rows[0].get(&((PR_ATTACH_DATA_BIN >> 16) as u16)),
        Some(Large(_))
    ));
    let e = m.open_attach(1, 0).unwrap().open_embedded(0).unwrap();
    let at_e = large_ref(&e, EMBEDDED_BIG);
    assert_eq!(at_e.len, embedded_big.len() as u64);
    assert_eq!(
        read_in_pieces(&store, &at_e, 100_000).unwrap(),
        embedded_big
    );
    assert_eq!(read_by_stream(&e, EMBEDDED_BIG), embedded_big);
}

fn changed(r: msgstore::core::error::MapiResult<impl std::fmt::Debug>) {
    assert_eq!(r.unwrap_err().code, MAPI_E_OBJECT_CHANGED);
}

/// A reference to a value another client then replaced (large by large; large by small and back
/// to large, where the new bytes have the old length), or deleted, reads as
/// MAPI_E_OBJECT_CHANGED: never another value's bytes. The holder's save is stale (rule 2);
/// reopening reads the stored value. An attachment's data likewise.
fn a_replaced_large_value_reads_as_object_changed(engine: Engine) {
    use PropValue::*;
    let Some(loc) = location(engine, "replaced") else {
        return;
    };
    let store = open(&loc);
    let original = pattern(3 * MIB + 1, 0);
    let m = root(&store).create_message(0).unwrap();
    set(&m, BIG, Binary(original.clone()));
    set(&m, COUNTER, Long(0));
    m.save_changes(0).unwrap();
    let eid = m.entry_id().unwrap();
    let mut buf = vec![0; 100_000];

    // Large by large.
    let a = open_message(&store, &eid);
    let at = large_ref(&*a, BIG);
    assert_eq!(store.read_large(&at, 0, &mut buf).unwrap(), buf.len());
    let theirs = Binary(pattern(2 * MIB, 1));
    let b = open_message(&store, &eid);
    set(&*b, BIG, theirs.clone());
    b.save_changes(0).unwrap();
    changed(store.read_large(&at, 0, &mut buf));
    changed(store.read_large(&at, 2 * MIB as u64, &mut buf));
    changed(store.whole_value(Large(Box::new(at.clone()))));
    set(&*a, COUNTER, Long(7));
    changed(a.save_changes(KEEP_OPEN_READWRITE));
    let stored = open_message(&store, &eid);
    assert!(get(&*stored, BIG) == Some(theirs));
    assert_eq!(long(&*stored, COUNTER), 0);

    // Large by small, then by large again (a new stored value of the old one's length, the
    // newest one the store holds, as the old one was).
    let a = open_message(&store, &eid);
    let at = large_ref(&*a, BIG);
    let b = open_message(&store, &eid);
    set(&*b, BIG, Binary(vec![1, 2, 3]));
    b.save_changes(KEEP_OPEN_READWRITE).unwrap();
    changed(store.read_large(&at, 0, &mut buf));
    let again = pattern(at.len as usize, 5);
    set(&*b, BIG, Binary(again.clone()));
    b.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let stored = open_message(&store, &eid);
    let at_again = large_ref(&*stored, BIG);
    assert_eq!(
        (at_again.obj, at_again.prop, at_again.len),
        (at.obj, at.prop, at.len)
    );
    assert_ne!(at_again.version, at.version);
    changed(store.read_large(&at, 0, &mut buf));
    changed(store.read_large(&at, MIB as u64, &mut buf));
    assert_eq!(read_in_pieces(&store, &at_again, MIB).unwrap(), again);
    // The same after the store is opened again (the versions given are remembered).
    drop((a, b, stored, m));
    drop(store);
    let store = open(&loc);
    changed(store.read_large(&at, 0, &mut buf));
    assert_eq!(read_in_pieces(&store, &at_again, MIB).unwrap(), again);

    // Deleted.
    let a = open_message(&store, &eid);
    let at = large_ref(&*a, BIG);
    let b = open_message(&store, &eid);
    assert!(b.delete_props(&[BIG]).unwrap().is_empty());
    b.save_changes(0).unwrap();
    changed(store.read_large(&at, 0, &mut buf));
    assert!(get(&*open_message(&store, &eid), BIG).is_none());

    // An attachment's data, replaced by another client.
    let m = open_message(&store, &eid);
    let (_, att) = m.create_attach(0).unwrap();
    set(&att, PR_ATTACH_DATA_BIN, Binary(pattern(2 * MIB, 6)));
    att.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let a = open_message(&store, &eid);
    let at = large_ref(&a.open_attach(0, 0).unwrap(), PR_ATTACH_DATA_BIN);
    let b = open_message(&store, &eid);
    let theirs = Binary(pattern(2 * MIB, 7));
    let b_att = b.open_attach(0, MAPI_MODIFY).unwrap();
    set(&b_att, PR_ATTACH_DATA_BIN, theirs.clone());
    b_att.save_changes(0).unwrap();
    b.save_changes(0).unwrap();
    changed(store.read_large(&at, 0, &mut buf));
    let stored = open_message(&store, &eid).open_attach(0, 0).unwrap();
    assert!(get(&stored, PR_ATTACH_DATA_BIN) == Some(theirs));
}

/// FORCE_SAVE and values left in the store (a documented departure): one this client never
/// changed keeps the stored value — another client's replacement stays, another client's
/// deletion stays — while one it did change is written (rule 3). With nobody else saving, the
/// value stays as it was, its row kept (a reference read before the save still reads).
fn force_save_keeps_a_stored_large_value_the_client_never_changed(engine: Engine) {
    use PropValue::*;
    let Some(loc) = location(engine, "forced") else {
        return;
    };
    let store = open(&loc);
    let original = Binary(pattern(3 * MIB + 1, 0));
    let m = root(&store).create_message(0).unwrap();
    set(&m, BIG, original.clone());
    set(&m, COUNTER, Long(0));
    m.save_changes(0).unwrap();
    let eid = m.entry_id().unwrap();
    let stored = || open_message(&store, &eid);

    // Nobody else saves: a normal save and a FORCE_SAVE of a small change keep the value's row.
    let reader = stored();
    let at = large_ref(&*reader, BIG);
    let a = stored();
    set(&*a, COUNTER, Long(1));
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    set(&*a, COUNTER, Long(2));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(long(&*stored(), COUNTER), 2);
    assert!(get(&*stored(), BIG) == Some(original.clone()));
    assert!(get(&*a, BIG) == Some(original.clone()));
    assert_eq!(
        read_in_pieces(&store, &at, MIB).unwrap(),
        pattern(3 * MIB + 1, 0),
        "the row was kept"
    );

    // Another client changed only a small property: the large value stays as it was.
    let a = stored();
    let b = stored();
    set(&*b, NOTE, Unicode("b's".into()));
    b.save_changes(0).unwrap();
    set(&*a, COUNTER, Long(3));
    changed(a.save_changes(KEEP_OPEN_READWRITE));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(long(&*stored(), COUNTER), 3);
    assert_eq!(get(&*stored(), NOTE), None, "A's view replaced B's");
    assert!(get(&*stored(), BIG) == Some(original.clone()));

    // Another client replaced it: A's small change and B's value.
    let a = stored();
    let b = stored();
    let theirs = Binary(pattern(2 * MIB + 7, 1));
    set(&*b, BIG, theirs.clone());
    b.save_changes(0).unwrap();
    set(&*a, COUNTER, Long(4));
    changed(a.save_changes(KEEP_OPEN_READWRITE));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(long(&*stored(), COUNTER), 4);
    assert!(get(&*stored(), BIG) == Some(theirs.clone()));
    assert!(
        get(&*a, BIG) == Some(theirs.clone()),
        "A's view is what it saved"
    );

    // A changed it itself: A's bytes win.
    let a = stored();
    let b = stored();
    set(&*b, BIG, Binary(pattern(2 * MIB, 2)));
    b.save_changes(0).unwrap();
    let mine = Binary(pattern(MIB + 5, 3));
    set(&*a, BIG, mine.clone());
    changed(a.save_changes(KEEP_OPEN_READWRITE));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert!(get(&*stored(), BIG) == Some(mine.clone()));

    // Another client deleted it: it stays deleted.
    let a = stored();
    let b = stored();
    assert!(b.delete_props(&[BIG]).unwrap().is_empty());
    b.save_changes(0).unwrap();
    set(&*a, COUNTER, Long(5));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(long(&*stored(), COUNTER), 5);
    assert_eq!(get(&*stored(), BIG), None);

    // An attachment's data another client replaced: stored and in A's view, B's.
    let m = stored();
    let (_, att) = m.create_attach(0).unwrap();
    set(&att, PR_ATTACH_DATA_BIN, Binary(pattern(2 * MIB, 6)));
    att.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let a = stored();
    let b = stored();
    let theirs = Binary(pattern(2 * MIB, 7));
    let b_att = b.open_attach(0, MAPI_MODIFY).unwrap();
    set(&b_att, PR_ATTACH_DATA_BIN, theirs.clone());
    b_att.save_changes(0).unwrap();
    b.save_changes(0).unwrap();
    set(&*a, COUNTER, Long(6));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    let data = |m: &Message| get(&m.open_attach(0, 0).unwrap(), PR_ATTACH_DATA_BIN);
    assert!(data(&stored()) == Some(theirs.clone()));
    assert!(data(&a) == Some(theirs), "A's view is what it saved");
    // A resolver's MERGE where A changed the attachment too (a small property): A's attachment
    // wins, but its data, which A never read, is the stored one, in A's view too.
    const ATTACH_NOTE: u32 = 0x6730_0003;
    let a = stored();
    let b = stored();
    let theirs = Binary(pattern(2 * MIB, 8));
    let b_att = b.open_attach(0, MAPI_MODIFY).unwrap();
    set(&b_att, PR_ATTACH_DATA_BIN, theirs.clone());
    b_att.save_changes(0).unwrap();
    b.save_changes(0).unwrap();
    let a_att = a.open_attach(0, MAPI_MODIFY).unwrap();
    set(&a_att, ATTACH_NOTE, Long(1));
    a_att.save_changes(0).unwrap();
    set(&*a, NOTE, Unicode("merged".into()));
    let merge = Arc::new(Always(Decision::Merge, AtomicUsize::new(0)));
    store.set_resolver(Some(merge));
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    store.set_resolver(None);
    let att = stored().open_attach(0, 0).unwrap();
    assert_eq!(long(&att, ATTACH_NOTE), 1);
    assert!(get(&att, PR_ATTACH_DATA_BIN) == Some(theirs.clone()));
    assert!(data(&a) == Some(theirs));
    // The attachment deleted by another client: A's FORCE_SAVE succeeds (rule 3) and brings
    // the attachment back with A's properties, but not the data A never read: its bytes are
    // gone, so that value stays deleted, as a message's own large value does.
    let a = stored();
    let b = stored();
    b.delete_attach(0, 0).unwrap();
    b.save_changes(0).unwrap();
    set(&*a, COUNTER, Long(7));
    a.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(long(&*stored(), COUNTER), 7);
    let rows = stored().attachment_rows().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get(&((ATTACH_NOTE >> 16) as u16)), Some(&Long(1)));
    assert!(rows[0].get(&((PR_ATTACH_DATA_BIN >> 16) as u16)).is_none());
    assert!(data(&stored()).is_none());
    assert!(data(&a).is_none(), "A's view is what it saved");
}

/// CopyMessages copies values left in the store (a message's, its attachment's) inside the
/// engine: the copy reads back equal, holds its own stored values, and keeps them when the
/// source's are replaced or the source is deleted. SAVE_ELSEWHERE likewise: the new message
/// carries the bytes of the view it saved, even once the original's are replaced.
fn copies_carry_large_values(engine: Engine) {
    use msgstore::storage::ROOT_FOLDER_ID;
    use PropValue::*;
    let Some(loc) = location(engine, "copies") else {
        return;
    };
    let store = open(&loc);
    let r = root(&store);
    let dest = r.create_folder(FOLDER_GENERIC, "dest", None, 0).unwrap();
    let big = Binary(pattern(3 * MIB + 1, 0));
    let data = Binary(pattern(2 * MIB, 1));
    // A stored message with a large value and an attachment with large data; its entry ID.
    let stored_large = || {
        let m = r.create_message(0).unwrap();
        set(&m, BIG, big.clone());
        set(&m, COUNTER, Long(0));
        let (_, a) = m.create_attach(0).unwrap();
        set(&a, PR_ATTACH_DATA_BIN, data.clone());
        set(&a, PR_ATTACH_LONG_FILENAME_W, Unicode("kept.bin".into()));
        a.save_changes(0).unwrap();
        m.save_changes(0).unwrap();
        m.entry_id().unwrap()
    };
    let eid = stored_large();
    let source_id = only_message_id(&store, ROOT_FOLDER_ID);

    assert!(r
        .copy_messages(std::slice::from_ref(&eid), &dest, 0)
        .unwrap());
    let copy_id = only_message_id(&store, dest.id());
    let copy_eid = store.entry_id(MAPI_MESSAGE, copy_id);
    let check_copy = || {
        let copy = open_message(&store, &copy_eid);
        assert_eq!(large_ref(&*copy, BIG).obj, copy_id, "the copy's own value");
        assert!(get(&*copy, BIG) == Some(big.clone()));
        let att = copy.open_attach(0, 0).unwrap();
        assert!(get(&att, PR_ATTACH_DATA_BIN) == Some(data.clone()));
    };
    check_copy();
    // The source replaced: the copy stands.
    let source = open_message(&store, &eid);
    set(&*source, BIG, Binary(pattern(3 * MIB + 1, 2)));
    let att = source.open_attach(0, MAPI_MODIFY).unwrap();
    set(&att, PR_ATTACH_DATA_BIN, Binary(pattern(2 * MIB, 3)));
    att.save_changes(0).unwrap();
    source.save_changes(0).unwrap();
    check_copy();
    // The source deleted: the copy stands.
    assert!(r.delete_messages(std::slice::from_ref(&eid), 0).unwrap());
    assert_eq!(store.storage().read(|t| t.object(source_id)).unwrap(), None);
    check_copy();

    // SAVE_ELSEWHERE: another client changed the message; this one's view (its large value
    // never read) becomes a new message.
    let eid = stored_large();
    let theirs = open_message(&store, &eid);
    let mine = open_message(&store, &eid);
    set(&*theirs, COUNTER, Long(5));
    theirs.save_changes(KEEP_OPEN_READWRITE).unwrap();
    set(&*mine, NOTE, Unicode("mine".into()));
    let decision = Decision::SaveElsewhere { dest_folder: None };
    store.set_resolver(Some(Arc::new(Always(decision, AtomicUsize::new(0)))));
    mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
    store.set_resolver(None);
    let elsewhere = mine.entry_id().unwrap();
    assert_ne!(elsewhere, eid);
    assert!(get(&*open_message(&store, &elsewhere), BIG) == Some(big.clone()));
    // The original's value replaced: the new message, and the view that saved it, keep theirs.
    set(&*theirs, BIG, Binary(pattern(2 * MIB, 4)));
    let att = theirs.open_attach(0, MAPI_MODIFY).unwrap();
    set(&att, PR_ATTACH_DATA_BIN, Binary(pattern(2 * MIB, 5)));
    att.save_changes(0).unwrap();
    theirs.save_changes(0).unwrap();
    let check_elsewhere = |m: &Message| {
        assert!(get(m, BIG) == Some(big.clone()));
        let att = m.open_attach(0, 0).unwrap();
        assert!(get(&att, PR_ATTACH_DATA_BIN) == Some(data.clone()));
    };
    check_elsewhere(&open_message(&store, &elsewhere));
    check_elsewhere(&mine);
    // And a later save of that view keeps them.
    set(&*mine, COUNTER, Long(6));
    mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let saved = open_message(&store, &elsewhere);
    assert_eq!(long(&*saved, COUNTER), 6);
    check_elsewhere(&saved);
    check_elsewhere(&mine);
    // The original deleted while a client had it open: the resolver's SAVE_ELSEWHERE still
    // saves that client's view, without the large values whose bytes went with the original
    // (the client never read them), and with everything it changed.
    let eid = stored_large();
    let mine = open_message(&store, &eid);
    r.delete_messages(std::slice::from_ref(&eid), 0).unwrap();
    set(&*mine, NOTE, Unicode("rescued".into()));
    /// Saves a deleted message's view elsewhere.
    struct Rescue;
    impl ConflictResolver for Rescue {
        fn resolve(
            &self,
            _saving: &Message,
            conflict: Conflict,
        ) -> msgstore::core::error::MapiResult<Decision> {
            assert!(conflict.deleted);
            Ok(Decision::SaveElsewhere { dest_folder: None })
        }
    }
    store.set_resolver(Some(Arc::new(Rescue)));
    mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
    store.set_resolver(None);
    let rescued = open_message(&store, &mine.entry_id().unwrap());
    assert!(get(&*rescued, NOTE) == Some(Unicode("rescued".into())));
    assert!(get(&*rescued, BIG).is_none());
    let att = rescued.open_attach(0, 0).unwrap();
    assert!(get(&att, PR_ATTACH_LONG_FILENAME_W) == Some(Unicode("kept.bin".into())));
    assert!(get(&att, PR_ATTACH_DATA_BIN).is_none());
    assert!(get(&*mine, BIG).is_none(), "the view is what it saved");
}
