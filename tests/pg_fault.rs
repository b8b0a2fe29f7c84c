//! PostgreSQL faults (DESIGN.md §8, issue 11 item 6): child processes save without pause while
//! the server is killed hard (`pg_ctl stop -m immediate`, cutting off transactions in flight,
//! some inside COMMIT) and restarted on the same socket, and while single clients' connections
//! are terminated (`pg_terminate_backend`). Afterwards every save that returned S_OK is stored,
//! no save that returned an error is stored in part (or at all, unless its outcome was reported
//! as unknown), and while the server was down the clients got MAPI_E_NETWORK_ERROR promptly —
//! no hang, no crash — and worked again once it was back.
//!
//! Each child saves two ways, in turn: an update of its own message kept open (the
//! compare-and-swap path), and a new message (the insert path). Every save writes one value
//! `v`, strictly increasing per child, into four properties in three typed columns, so a save
//! stored in part shows. Before and after each save the child appends a line to its log (one
//! `write` on an `O_APPEND` file, which survives the process): what it tried, and what came
//! back. The parent compares the logs with the store.

#[path = "support/pg.rs"]
mod pg;

use msgstore::core::error::MapiResult;
use msgstore::core::mapidefs::*;
use msgstore::core::message::Message;
use msgstore::core::props::{PropInput, PropObject};
use msgstore::core::store::{Opened, Store};
use msgstore::core::value::PropValue;
use msgstore::storage::{StorageError, KIND_MESSAGE, ROOT_FOLDER_ID};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CHILDREN: usize = 4;
/// The value of the save, in three typed columns (a save stored in part shows).
const VALUE: u32 = 0x6701_0003;
const VALUE_I8: u32 = 0x6703_0014;
const TEXT: u32 = 0x6702_001F;
/// Which child saved the message.
const CHILD: u32 = 0x6704_0003;
/// Kills of the whole server, and terminations of single clients' connections.
const SERVER_KILLS: usize = 6;
/// How long the server stays down after its last kill: longer than a save whose COMMIT lost its
/// connection asks whether it landed (10 s), so such a save reports its outcome unknown.
const LONG_DOWN: Duration = Duration::from_millis(10_500);
const CONNECTION_KILLS: usize = 12;
/// The longest any one call may take: a save whose COMMIT lost its connection asks for up to
/// 10 s whether it landed (the server may be down meanwhile); every other call fails at once.
const CALL_BOUND_MS: u64 = 15_000;
/// The children's own time limit (they stop earlier, when the parent says so).
const CHILD_LIMIT: Duration = Duration::from_secs(90);
/// How long the parent waits for anything (each child to save again, to exit).
const WAIT_LIMIT: Duration = Duration::from_secs(30);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn text(kind: char, child: usize, v: u64) -> String {
    format!("{kind}-{child}-{v}")
}

/// The four properties of a save of `v`.
fn props_of(kind: char, child: usize, v: u64) -> Vec<PropInput> {
    [
        (VALUE, PropValue::Long(v as i32)),
        (VALUE_I8, PropValue::I8(v as i64)),
        (TEXT, PropValue::Unicode(text(kind, child, v))),
        (CHILD, PropValue::Long(child as i32)),
    ]
    .into_iter()
    .enumerate()
    .map(|(index, (tag, value))| PropInput {
        index: index as u32,
        tag,
        value,
    })
    .collect()
}

// ---------------------------------------------------------------------------------------------
// The child.

/// Run by `saves_survive_server_kills_and_lost_connections` in each child process.
#[test]
#[ignore = "a child process of the fault test"]
fn fault_child() {
    let var = |name: &str| std::env::var(name).expect("run by the fault test");
    let uri = var("MSGSTORE_PGFAULT_URI");
    let child: usize = var("MSGSTORE_PGFAULT_CHILD").parse().unwrap();
    let eid = unhex(&var("MSGSTORE_PGFAULT_EID"));
    let log = PathBuf::from(var("MSGSTORE_PGFAULT_LOG"));
    let stop = PathBuf::from(var("MSGSTORE_PGFAULT_STOP"));
    run_child(&uri, child, &eid, &log, &stop);
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The message one save writes: the child's own (kept open between saves), or a new one.
fn target(
    uri: &str,
    store: &mut Option<Arc<Store>>,
    kept: &mut Option<Box<Message>>,
    eid: &[u8],
    create: bool,
) -> MapiResult<Box<Message>> {
    let s = match store {
        Some(s) => s.clone(),
        None => store.insert(Store::open(uri, MDB_WRITE)?).clone(),
    };
    if create {
        let Opened::Folder(root) = s.open_entry(None, MAPI_MODIFY)? else {
            unreachable!("the root is a folder")
        };
        return Ok(Box::new(root.create_message(0)?));
    }
    if let Some(m) = kept.take() {
        return Ok(m);
    }
    match s.open_entry(Some(eid), MAPI_MODIFY)? {
        Opened::Message(m) => Ok(m),
        Opened::Folder(_) => unreachable!("the child's entry ID names a message"),
    }
}

/// Saves until told to stop (or its time limit), logging every call. Log lines:
/// `T kind v` before a save; `R kind v hresult outcome ms` after it (outcome `ok`; `e` for an
/// error; `n` for one whose COMMIT lost its connection, txid_status then saying it did not
/// land; `u` for an error whose save may have landed: "cannot be told"); `O hresult ms` for a
/// failure before the save (opening the store or the message); each ends with the time.
fn run_child(uri: &str, child: usize, eid: &[u8], log: &Path, stop: &Path) {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut line = |s: String| {
        log.write_all(format!("{s} {}\n", now_ms()).as_bytes())
            .unwrap()
    };
    let deadline = Instant::now() + CHILD_LIMIT;
    let mut store = None;
    let mut kept = None;
    let mut v = 0u64;
    while !stop.exists() && Instant::now() < deadline {
        v += 1;
        let create = v.is_multiple_of(3);
        let kind = if create { 'c' } else { 'u' };
        let start = Instant::now();
        let ms = |start: Instant| start.elapsed().as_millis();
        let m = match target(uri, &mut store, &mut kept, eid, create).and_then(|m| {
            m.set_props(props_of(kind, child, v))?;
            Ok(m)
        }) {
            Ok(m) => m,
            Err(e) => {
                line(format!("O {:08X} {}", e.code, ms(start)));
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        line(format!("T {kind} {v}"));
        let start = Instant::now();
        let flags = if create { 0 } else { KEEP_OPEN_READWRITE };
        match m.save_changes(flags) {
            Ok(()) => {
                line(format!("R {kind} {v} 00000000 ok {}", ms(start)));
                if !create {
                    kept = Some(m);
                }
            }
            Err(e) => {
                let outcome = if e.message.contains("cannot be told") {
                    "u"
                } else if e.message.contains("did not land") {
                    "n"
                } else {
                    "e"
                };
                line(format!(
                    "R {kind} {v} {:08X} {outcome} {}",
                    e.code,
                    ms(start)
                ));
                // The message is opened afresh: a save of unknown outcome may have landed.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent.

/// What one call returned, when, after how long.
#[derive(Debug)]
struct Returned {
    hresult: u32,
    /// `ok`, `e`, `n` or `u` (see `run_child`).
    outcome: String,
    ms: u64,
    end: u64,
}

/// What a child's log says.
#[derive(Default)]
struct Log {
    /// Value → (kind, what the save returned), for every save tried.
    saves: BTreeMap<u64, (char, Option<Returned>)>,
    /// Failures before a save: (HRESULT, ms, time).
    opens: Vec<(u32, u64, u64)>,
}

impl Log {
    fn read(path: &Path) -> Log {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut log = Log::default();
        // Only whole lines (the child may be writing the last one).
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        for l in whole.lines() {
            let f: Vec<&str> = l.split(' ').collect();
            let kind = || f[1].chars().next().unwrap();
            let num = |i: usize| f[i].parse::<u64>().unwrap();
            let code = |i: usize| u32::from_str_radix(f[i], 16).unwrap();
            match f[0] {
                "T" => {
                    log.saves.insert(num(2), (kind(), None));
                }
                "R" => {
                    let entry = log.saves.get_mut(&num(2)).expect("R after its T");
                    entry.1 = Some(Returned {
                        hresult: code(3),
                        outcome: f[4].to_string(),
                        ms: num(5),
                        end: num(6),
                    });
                }
                "O" => log.opens.push((code(1), num(2), num(3))),
                other => panic!("{}: bad line {other:?}", path.display()),
            }
        }
        log
    }

    /// Whether a save that began after `t` returned S_OK.
    fn ok_since(&self, t: u64) -> bool {
        self.saves.values().any(|(_, r)| {
            r.as_ref()
                .is_some_and(|r| r.hresult == 0 && r.end - r.ms > t)
        })
    }
}

/// Children killed if the test fails before they exit.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A small deterministic generator (the seed is printed, and MSGSTORE_PGFAULT_SEED replays it).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    fn ms(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

/// Waits until every child has saved with S_OK a save begun after `t`.
fn wait_all_saving(logs: &[PathBuf], t: u64, what: &str) {
    let deadline = Instant::now() + WAIT_LIMIT;
    for (i, path) in logs.iter().enumerate() {
        while !Log::read(path).ok_since(t) {
            assert!(
                Instant::now() < deadline,
                "child {i} saved nothing within {WAIT_LIMIT:?} {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every message of the root folder: object ID → (VALUE, VALUE_I8, TEXT, CHILD), each None when
/// missing.
type Stored = (
    Option<PropValue>,
    Option<PropValue>,
    Option<PropValue>,
    Option<PropValue>,
);

fn stored_messages(store: &Store) -> BTreeMap<u64, Stored> {
    store
        .storage()
        .read(|t| {
            let mut out = BTreeMap::new();
            for row in t.children(ROOT_FOLDER_ID, KIND_MESSAGE)? {
                let props: HashMap<u32, PropValue> = t.props(row.id)?.into_iter().collect();
                let p = |tag: u32| props.get(&tag).cloned();
                out.insert(row.id, (p(VALUE), p(VALUE_I8), p(TEXT), p(CHILD)));
            }
            Ok::<_, StorageError>(out)
        })
        .unwrap()
}

#[test]
fn saves_survive_server_kills_and_lost_connections() {
    let Some(base) = pg::restartable_server() else {
        return;
    };
    let started = Instant::now();
    let seed = std::env::var("MSGSTORE_PGFAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(now_ms() | 1);
    let mut rng = Rng(seed | 1);
    let name = format!("fault-{}-{}", std::process::id(), now_ms());
    let uri = pg::store_uri(base, &name);
    let dir = std::env::temp_dir().join(format!("msgstore-pgfault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stop_file = dir.join("stop");

    // The children's messages, saved once with v = 0.
    let store = Store::open(&uri, MAPI_CREATE | MDB_WRITE).unwrap();
    let Opened::Folder(root) = store.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    let mut eids = vec![];
    for i in 0..CHILDREN {
        let m = root.create_message(0).unwrap();
        assert!(m.set_props(props_of('u', i, 0)).unwrap().is_empty());
        m.save_changes(0).unwrap();
        eids.push(m.entry_id().unwrap());
    }
    drop(root);
    // Their object IDs, child by child.
    let first = stored_messages(&store);
    let counter_ids: Vec<u64> = (0..CHILDREN)
        .map(|i| {
            let child = Some(PropValue::Long(i as i32));
            *first.iter().find(|(_, m)| m.3 == child).unwrap().0
        })
        .collect();

    let exe = std::env::current_exe().unwrap();
    let logs: Vec<PathBuf> = (0..CHILDREN)
        .map(|i| dir.join(format!("child-{i}.log")))
        .collect();
    let mut children = Children(vec![]);
    for (i, eid) in eids.iter().enumerate() {
        // Each child's sessions carry its name, so that they can be terminated alone.
        let sep = if base.contains('?') { '&' } else { '?' };
        let child_base = format!("{base}{sep}application_name=pgfault-{i}");
        children.0.push(
            Command::new(&exe)
                .args(["--exact", "fault_child", "--ignored", "--quiet"])
                .env("MSGSTORE_PGFAULT_URI", pg::store_uri(&child_base, &name))
                .env("MSGSTORE_PGFAULT_CHILD", i.to_string())
                .env("MSGSTORE_PGFAULT_EID", hex(eid))
                .env("MSGSTORE_PGFAULT_LOG", &logs[i])
                .env("MSGSTORE_PGFAULT_STOP", &stop_file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    wait_all_saving(&logs, 0, "at the start");

    // The server killed at random moments, down a while (the last time, long), restarted on the
    // same socket.
    // The parent is a client idle through each outage (a connection left in its pool): its first
    // call after the restart — a read on its open store, or opening the store anew — works.
    let idle_client = |round: usize| -> MapiResult<()> {
        if round.is_multiple_of(2) {
            store.open_entry(Some(&eids[0]), 0).map(drop)
        } else {
            Store::open(&uri, MDB_WRITE).map(drop)
        }
    };
    let mut down_windows = vec![];
    for round in 0..SERVER_KILLS {
        idle_client(round).unwrap();
        std::thread::sleep(rng.ms(200, 1200));
        let down = now_ms();
        pg::stop().unwrap_or_else(|e| panic!("kill {round}: {e}"));
        std::thread::sleep(if round + 1 == SERVER_KILLS {
            LONG_DOWN
        } else {
            rng.ms(300, 1500)
        });
        pg::start().unwrap_or_else(|e| panic!("restart {round}: {e}"));
        let up = now_ms();
        down_windows.push((down, up));
        idle_client(round).unwrap_or_else(|e| {
            panic!("a client idle through kill {round} failed its first call after: {e:?}")
        });
        wait_all_saving(&logs, up, &format!("after restart {round}"));
    }

    // Single clients' connections terminated, the server up.
    let terminations_from = now_ms();
    let mut terminated = 0;
    for _ in 0..CONNECTION_KILLS {
        std::thread::sleep(rng.ms(50, 300));
        let victim = rng.below(CHILDREN as u64);
        let out = pg::psql(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'pgfault-{victim}'"
        ))
        .unwrap();
        terminated += out.trim().parse::<u64>().unwrap();
    }
    let terminations_to = now_ms();
    wait_all_saving(&logs, terminations_to, "after the terminations");
    // When the server was up and no connection was being terminated: after each restart until
    // the next kill, and after the terminations. A call wholly inside gets no error.
    let mut quiet: Vec<(u64, u64)> = down_windows
        .iter()
        .zip(down_windows.iter().skip(1).map(|w| w.0))
        .map(|(w, next)| (w.1, next))
        .collect();
    quiet.push((down_windows.last().unwrap().1, terminations_from));
    quiet.push((terminations_to + 1000, u64::MAX));
    eprintln!(
        "pg_fault: server down {down_windows:?}, connections terminated \
         {terminations_from}..{terminations_to}"
    );

    // Stop the children, each within the limit, each exiting cleanly (no crash, no hang).
    std::fs::write(&stop_file, b"").unwrap();
    let deadline = Instant::now() + WAIT_LIMIT;
    for (i, c) in children.0.iter_mut().enumerate() {
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                assert!(status.success(), "child {i}: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "child {i} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let run_time = started.elapsed();

    // The logs against the store, opened anew: the first call on this process's connection
    // since the restarts works.
    drop(store);
    let store = Store::open(&uri, MDB_WRITE).expect("the store opens after the faults");
    let logs: Vec<Log> = logs.iter().map(|p| Log::read(p)).collect();
    let stored = stored_messages(&store);
    assert!(store.storage().integrity_check().unwrap());
    let mut f = Figures {
        while_down: vec![0; SERVER_KILLS],
        waited_through: vec![0; SERVER_KILLS],
        ..Figures::default()
    };
    // Every stored message is whole: its four properties agree.
    let mut created: HashMap<(usize, u64), u64> = HashMap::new();
    for (id, (value, value_i8, txt, child)) in &stored {
        let (Some(PropValue::Long(v)), Some(PropValue::Long(child))) = (value, child) else {
            panic!("message {id} stored in part: {:?}", stored[id]);
        };
        let (v, child) = (*v as u64, *child as usize);
        let kind = if counter_ids.contains(id) { 'u' } else { 'c' };
        assert_eq!(value_i8, &Some(PropValue::I8(v as i64)), "message {id}");
        assert_eq!(
            txt,
            &Some(PropValue::Unicode(text(kind, child, v))),
            "message {id}: stored in part"
        );
        if kind == 'c' {
            assert!(
                created.insert((child, v), *id).is_none(),
                "child {child}'s save {v} stored twice"
            );
        } else {
            assert_eq!(counter_ids[child], *id);
        }
    }
    for (child, log) in logs.iter().enumerate() {
        let result = |v: u64| log.saves.get(&v).and_then(|(_, r)| r.as_ref());
        // New messages: each save that returned S_OK is stored; one that returned an error is
        // not, unless its outcome was reported unknown.
        for (&v, (kind, r)) in &log.saves {
            let r = r.as_ref().expect("every save returned");
            f.count(*kind, r);
            if *kind != 'c' {
                continue;
            }
            let found = created.remove(&(child, v)).is_some();
            match (r.outcome.as_str(), found) {
                ("ok", true) => f.found += 1,
                ("ok", false) => {
                    eprintln!("LOST: child {child}'s new message {v}");
                    f.lost += 1
                }
                ("u", true) => f.unknown_landed += 1,
                (_, false) => {}
                (_, true) => panic!("child {child}'s save {v} returned {r:?} yet is stored"),
            }
        }
        // The child's own message holds its last save that returned S_OK, or a later one
        // whose outcome was reported unknown.
        let Some((Some(PropValue::Long(now)), ..)) = stored.get(&counter_ids[child]) else {
            panic!("child {child}'s message is gone")
        };
        let now = *now as u64;
        let oks: Vec<u64> = log
            .saves
            .iter()
            .filter(|(_, (k, r))| *k == 'u' && r.as_ref().is_some_and(|r| r.outcome == "ok"))
            .map(|(v, _)| *v)
            .collect();
        let last_ok = oks.last().copied().unwrap_or(0);
        if now > last_ok {
            let r = result(now).expect("the stored value was tried");
            assert_eq!(
                r.outcome, "u",
                "child {child}: stores {now}, whose save returned {r:?}"
            );
            f.unknown_landed += 1;
        } else if now < last_ok {
            eprintln!(
                "LOST: child {child}'s message holds {now}, its save {last_ok} returned S_OK"
            );
        }
        f.lost += oks.iter().filter(|v| **v > now).count() as u64;
        f.found += oks.iter().filter(|v| **v <= now).count() as u64;
        let calls = log
            .opens
            .iter()
            .map(|(code, ms, end)| (*code, "e", *ms, *end));
        let saves = log.saves.values().map(|(_, r)| {
            let r = r.as_ref().unwrap();
            (r.hresult, r.outcome.as_str(), r.ms, r.end)
        });
        for (code, outcome, ms, end) in calls.chain(saves) {
            f.longest = f.longest.max(ms);
            let start = end - ms;
            let spanned = down_windows
                .iter()
                .position(|(d, u)| start < *d && end > *u);
            match (code, outcome) {
                (0, _) if spanned.is_some() => {
                    f.commit_cut_landed += 1;
                    f.waited_through[spanned.unwrap()] += 1;
                }
                (0, _) => {}
                (_, "n") => f.commit_cut_not_landed += 1,
                _ => {}
            }
            if code == 0 {
                continue;
            }
            f.error(
                code,
                (start, end),
                &down_windows,
                &(terminations_from, terminations_to),
            );
            if quiet.iter().any(|(a, b)| *a <= start && end < *b) {
                eprintln!("child {child}: error {code:08X} on a call at {start}..{end}, server up");
                f.server_up += 1;
            }
        }
    }
    assert!(created.is_empty(), "stored but never tried: {created:?}");

    eprintln!(
        "pg_fault (seed {seed}): {CHILDREN} processes, {} saves in {run_time:.1?} ({} updates \
         of a message kept open, {} new messages); server killed {SERVER_KILLS} times (an idle \
         client's first call after each restart: S_OK), {} connections terminated alone",
        f.tried, f.updates, f.creates, terminated
    );
    eprintln!(
        "pg_fault: acknowledged {}, found {}, lost {}; saves that returned an error {}, none \
         stored (of unknown outcome {}, landed {}); saves whose COMMIT lost its connection, told \
         apart by their tokens: landed, S_OK {} (across a kill), did not land, \
         MAPI_E_NETWORK_ERROR {}",
        f.acknowledged,
        f.found,
        f.lost,
        f.failed,
        f.unknown,
        f.unknown_landed,
        f.commit_cut_landed,
        f.commit_cut_not_landed,
    );
    eprintln!(
        "pg_fault: MAPI_E_NETWORK_ERROR {} ({} while the server was down: per kill {:?}; {} \
         during the terminations; {} on calls made wholly while the server was up), other errors {}; \
         longest call {} ms",
        f.network,
        f.while_down.iter().sum::<u64>(),
        f.while_down,
        f.while_terminating,
        f.server_up,
        f.other,
        f.longest
    );
    assert_eq!(f.lost, 0, "saves that returned S_OK were lost");
    assert_eq!(f.found, f.acknowledged);
    assert_eq!(f.other, 0, "errors other than MAPI_E_NETWORK_ERROR");
    assert!(f.longest < CALL_BOUND_MS, "a call took {} ms", f.longest);
    assert_eq!(
        f.server_up, 0,
        "errors with the server up and no connection terminated"
    );
    assert_eq!(f.while_down.len(), SERVER_KILLS);
    // Every kill is seen: a call during it failed, or (a loaded machine: every client inside
    // COMMIT when the server went) a save waited through it and was told apart by its token.
    assert!(
        f.while_down
            .iter()
            .zip(&f.waited_through)
            .all(|(errors, waited)| errors + waited > 0),
        "every kill is seen by the clients: errors {:?}, saves that waited through {:?}",
        f.while_down,
        f.waited_through
    );
    assert!(terminated > 0, "no connection was terminated");
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Default)]
struct Figures {
    tried: u64,
    updates: u64,
    creates: u64,
    acknowledged: u64,
    found: u64,
    lost: u64,
    failed: u64,
    unknown: u64,
    unknown_landed: u64,
    network: u64,
    /// MAPI_E_NETWORK_ERROR returned while the server was down, per kill.
    while_down: Vec<u64>,
    /// Per kill: saves that returned S_OK having waited through it (their COMMIT was cut off
    /// and their token found after the restart).
    waited_through: Vec<u64>,
    while_terminating: u64,
    server_up: u64,
    commit_cut_landed: u64,
    commit_cut_not_landed: u64,
    other: u64,
    longest: u64,
}

impl Figures {
    fn count(&mut self, kind: char, r: &Returned) {
        self.tried += 1;
        if kind == 'c' {
            self.creates += 1;
        } else {
            self.updates += 1;
        }
        match r.outcome.as_str() {
            "ok" => self.acknowledged += 1,
            "u" => {
                self.failed += 1;
                self.unknown += 1;
            }
            _ => self.failed += 1,
        }
    }

    /// An error returned by a call made over `(start, end)`: counted against each outage it
    /// overlapped (a call cut off mid-COMMIT asks until the server is back, so it may end after
    /// the restart), and against the terminations if it ended during them.
    fn error(
        &mut self,
        code: u32,
        (start, at): (u64, u64),
        down: &[(u64, u64)],
        terminating: &(u64, u64),
    ) {
        if code as i32 != MAPI_E_NETWORK_ERROR {
            eprintln!("unexpected error {code:08X}");
            self.other += 1;
            return;
        }
        self.network += 1;
        if let Some(k) = down.iter().position(|(d, u)| start <= *u && at >= *d) {
            self.while_down[k] += 1;
        }
        if (terminating.0..=terminating.1).contains(&at) {
            self.while_terminating += 1;
        }
    }
}
