//! The benchmark suite (DESIGN.md §7): every number is a median of repeated runs, set against a
//! baseline measured in the same run, and the table says how far each operation is from its floor.
//!
//!     cargo bench --bench suite                      # long mode (minutes; 1,000,000-message store)
//!     cargo bench --bench suite -- --quick           # quick mode for CI (about a minute)
//!     MSGSTORE_BENCH_QUICK=1 cargo bench --bench suite   # the same
//!
//! Other options (after `--`): `--only props,save,notify,open,contents,memory,contention,postgres` runs some groups,
//! `--verbose` echoes the programs' progress, `--keep` keeps the stores and databases afterwards.
//!
//! What it does: builds the release staticlib (`$CARGO build --release --lib`), compiles each C
//! program in `benches/*.c` with `cc -O2 -std=c11 -Iinclude … libmsgstore.a -lpthread -ldl -lm`
//! into `<target>/msgstore-bench/bin/`, runs them with their data directory
//! `<target>/msgstore-bench/data/` (on the disk the target directory is on, so that fsync costs
//! what it costs; the suite warns when that is a tmpfs), reads their `@ key=value` lines, and
//! prints one table. It exits non-zero if a program fails or updates were lost; a missed
//! performance target is reported in the table, not as a failure.
//!
//! The PostgreSQL rows (group `postgres`) run on the database `MSGSTORE_TEST_PG` names, else on a
//! throwaway cluster started as the tests start theirs (`tests/support/pg.rs`) and stopped at
//! exit; without either they are skipped with a loud `*** SKIPPED ***` line. The save is measured
//! through the C ABI (`pg_save_bench`, driven batch by batch over a pipe), its baselines from this
//! process with the `postgres` crate on the same server, in the same interleaved rounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One `@ key=value …` line of a benchmark program.
type Record = BTreeMap<String, String>;

struct Options {
    quick: bool,
    verbose: bool,
    keep: bool,
    only: Option<Vec<String>>,
}

impl Options {
    fn parse() -> Options {
        let env_quick = std::env::var("MSGSTORE_BENCH_QUICK")
            .map(|v| !v.is_empty() && v != "0")
            .unwrap_or(false);
        let mut o = Options {
            quick: env_quick,
            verbose: false,
            keep: false,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => o.quick = true,
                "--verbose" | "-v" => o.verbose = true,
                "--keep" => o.keep = true,
                "--only" => {
                    o.only = args
                        .next()
                        .map(|s| s.split(',').map(str::to_string).collect())
                }
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                other => {
                    eprintln!("suite: ignoring unknown argument {other}");
                }
            }
        }
        o
    }

    fn wants(&self, group: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|g| g.iter().any(|x| x == group))
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo target directory: `CARGO_TARGET_DIR`, else two levels above this binary
/// (`<target>/release/deps/suite-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            manifest_dir().join(dir)
        };
    }
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("<target>/<profile>/deps/suite")
        .to_path_buf()
}

fn run_checked(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        panic!("{what} failed: {}", out.status);
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn build_staticlib(target: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_checked(
        Command::new(cargo)
            .args(["build", "--release", "--lib", "--manifest-path"])
            .arg(manifest_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target),
        "cargo build --release --lib",
    );
    let lib = target.join("release").join("libmsgstore.a");
    assert!(lib.is_file(), "no {}", lib.display());
    lib
}

fn compile(name: &str, lib: &Path, bin_dir: &Path) -> PathBuf {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let src = manifest_dir().join("benches").join(format!("{name}.c"));
    let out = bin_dir.join(name);
    run_checked(
        Command::new(cc)
            .args([
                "-O2",
                "-g",
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Wno-format-truncation",
            ])
            .arg("-I")
            .arg(manifest_dir().join("include"))
            .arg(&src)
            .arg(lib)
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&out),
        &format!("cc {}", src.display()),
    );
    out
}

/// Runs a benchmark program and returns its records.
fn run(bin: &Path, args: &[&str], opts: &Options) -> Vec<Record> {
    run_with_env(bin, args, opts, &[])
}

/// [`run`] with `env` set for the program (a comparison run with a feature turned off).
fn run_with_env(bin: &Path, args: &[&str], opts: &Options, env: &[(&str, &str)]) -> Vec<Record> {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    cmd.envs(env.iter().copied());
    if opts.quick {
        cmd.env("MSGSTORE_BENCH_QUICK", "1");
    }
    if opts.keep {
        cmd.env("MSGSTORE_BENCH_KEEP", "1");
    }
    let name = bin.file_name().unwrap().to_string_lossy().into_owned();
    let started = Instant::now();
    let out = run_checked(&mut cmd, &format!("{name} {}", args.join(" ")));
    let mut records = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("@ ") {
            let rec: Record = rest
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            records.push(rec);
        } else if opts.verbose {
            eprintln!("  {name}: {line}");
        }
    }
    if opts.verbose {
        eprintln!(
            "  {name} {}: {:.1} s",
            args.join(" "),
            started.elapsed().as_secs_f64()
        );
    }
    records
}

fn num(r: &Record, key: &str) -> f64 {
    r.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("record {r:?} has no numeric {key}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// A performance target.
#[derive(Clone, Copy)]
enum Target {
    /// ratio ≤ x
    AtMost(f64),
    /// ratio ≥ x
    AtLeast(f64),
    /// informational
    None,
}

struct Row {
    operation: String,
    measured: String,
    baseline: String,
    baseline_value: String,
    ratio: Option<f64>,
    target: Target,
    note: String,
}

impl Row {
    fn verdict(&self) -> &'static str {
        match (self.target, self.ratio) {
            (Target::AtMost(x), Some(r)) if r <= x => "pass",
            (Target::AtLeast(x), Some(r)) if r >= x => "pass",
            (Target::None, _) => "—",
            _ => "MISS",
        }
    }
    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(x) => format!("≤ {x}×"),
            Target::AtLeast(x) => format!("≥ {x}×"),
            Target::None => "—".into(),
        }
    }
}

fn pair_row(r: &Record, operation: &str, baseline: &str, target: Target) -> Row {
    let m = num(r, "measured_ns");
    let b = num(r, "baseline_ns");
    Row {
        operation: operation.into(),
        measured: fmt_time(m),
        baseline: baseline.into(),
        baseline_value: fmt_time(b),
        ratio: Some(m / b),
        target,
        note: format!(
            "{} rounds × {} ops; median of per-round ratios {:.2}×",
            r["rounds"],
            r["batch"],
            num(r, "round_ratio")
        ),
    }
}

/// The contention rows of one mode and target: each round runs 1, 2, 4 and 8 clients back to
/// back, so that each N-client rate is set against a 1-client rate measured seconds before it
/// (this disk's fsync latency drifts by an order of magnitude over minutes). `location` is the
/// data directory or a PostgreSQL store URI; `prefix` starts each operation's name; `env` is set
/// for a comparison run (its rows carry no target). Returns the rows and whether any update was
/// lost.
#[allow(clippy::too_many_arguments)]
fn contention_rows(
    program: &Path,
    location: &str,
    mode: &str,
    target_kind: &str,
    runs: usize,
    seconds: &str,
    prefix: &str,
    env: &[(&str, &str)],
    opts: &Options,
) -> (Vec<Row>, bool) {
    const CLIENTS: [usize; 4] = [1, 2, 4, 8];
    let mut rows = Vec::new();
    let mut failed = false;
    let mut by_clients: Vec<Vec<Record>> = vec![Vec::new(); CLIENTS.len()];
    for _ in 0..runs {
        for (i, clients) in CLIENTS.iter().enumerate() {
            let n = clients.to_string();
            by_clients[i].extend(run_with_env(
                program,
                &[location, mode, target_kind, &n, seconds],
                opts,
                env,
            ));
        }
    }
    let single_rates: Vec<f64> = by_clients[0]
        .iter()
        .map(|r| num(r, "saves_per_s"))
        .collect();
    let single = median(single_rates.clone());
    for (i, &clients) in CLIENTS.iter().enumerate() {
        let recs = &by_clients[i];
        let round_ratio = median(
            recs.iter()
                .zip(&single_rates)
                .map(|(r, one)| num(r, "saves_per_s") / one)
                .collect(),
        );
        let rate = median(recs.iter().map(|r| num(r, "saves_per_s")).collect());
        let conflicts = median(recs.iter().map(|r| num(r, "conflict_rate")).collect());
        let lost: f64 = recs.iter().map(|r| num(r, "lost")).sum();
        let fairness = median(
            recs.iter()
                .map(|r| num(r, "client_min") / num(r, "client_max").max(1.0))
                .collect(),
        );
        let worst = recs
            .iter()
            .map(|r| num(r, "max_save_ms"))
            .fold(0.0, f64::max);
        let p99 = median(recs.iter().map(|r| num(r, "p99_save_ms")).collect());
        if lost != 0.0 {
            failed = true;
        }
        let what = if target_kind == "one" {
            "one message"
        } else {
            "distinct messages"
        };
        rows.push(Row {
            operation: format!(
                "{prefix}{clients} {} racing read-modify-write, {what}",
                match (mode, clients) {
                    ("threads", 1) => "thread",
                    ("threads", _) => "threads",
                    (_, 1) => "process",
                    _ => "processes",
                }
            ),
            measured: format!("{rate:.0} saves/s"),
            baseline: "1 client, same case".into(),
            baseline_value: format!("{single:.0} saves/s"),
            ratio: Some(round_ratio),
            target: if target_kind == "distinct" && clients > 1 && env.is_empty() {
                // Issue 16 asks 0.9× of 8 processes; DESIGN.md §7 0.8× of every other case.
                Target::AtLeast(if mode == "procs" && clients == 8 && prefix.is_empty() {
                    0.9
                } else {
                    0.8
                })
            } else {
                Target::None
            },
            note: format!(
                "conflicts {:.1}%; lost updates {lost:.0}; slowest/fastest client \
                 {:.2}; longest save {worst:.1} ms; p99 save {p99:.2} ms; median of {runs} runs × \
                 {seconds} s; \
                 ratio: median of per-round ratios (each round runs 1, 2, 4, 8 clients)",
                conflicts * 100.0,
                fairness
            ),
        });
    }
    (rows, failed)
}

fn find<'a>(records: &'a [Record], case: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.get("case").map(String::as_str) == Some(case))
        .unwrap_or_else(|| panic!("no result for case {case}"))
}

fn fs_type(dir: &Path) -> String {
    Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine(dir: &Path, fs: &str) -> Vec<String> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let rustc = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    vec![
        format!("cpus (nproc): {cpus}"),
        format!("cpu: {model}"),
        format!("bench directory: {} ({fs})", dir.display()),
        format!("rustc: {rustc}"),
    ]
}

fn main() {
    let opts = Options::parse();
    let started = Instant::now();
    let target = target_dir();
    let root = target.join("msgstore-bench");
    let bin_dir = root.join("bin");
    let data = root.join("data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&bin_dir).expect("create bin dir");
    std::fs::create_dir_all(&data).expect("create data dir");
    let fs = fs_type(&data);
    if fs == "tmpfs" || fs == "ramfs" {
        eprintln!(
            "suite: WARNING: {} is on {fs}: fsync is free there and the save numbers mean nothing",
            data.display()
        );
    }
    eprintln!(
        "suite: {} mode; building the release staticlib",
        if opts.quick { "quick" } else { "long" }
    );
    let lib = build_staticlib(&target);
    let mut programs = BTreeMap::new();
    for name in [
        "props_bench",
        "save_bench",
        "scale_bench",
        "contention_bench",
        "pg_save_bench",
        "notify_bench",
    ] {
        programs.insert(name, compile(name, &lib, &bin_dir));
    }
    let data_s = data.to_string_lossy().into_owned();
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;

    if opts.wants("props") {
        eprintln!("suite: property access");
        let r = run(&programs["props_bench"], &[&data_s], &opts);
        let base = "C copy of the same SPropValues into one MAPIAllocateBuffer block";
        rows.push(pair_row(
            find(&r, "getprops10"),
            "GetProps, 10 small properties",
            base,
            Target::AtMost(2.0),
        ));
        let g50 = find(&r, "getprops50");
        rows.push(pair_row(
            g50,
            &format!(
                "GetProps(NULL), 50-property message ({} values)",
                g50["values"]
            ),
            base,
            Target::AtMost(2.0),
        ));
        rows.push(pair_row(
            find(&r, "setprops10"),
            "SetProps, the 10 small properties",
            base,
            Target::AtMost(3.0),
        ));
        rows.push(pair_row(
            find(&r, "setprops50"),
            "SetProps, the 50 properties",
            base,
            // Issue 16 (DESIGN.md §7 asked ≤ 3× of every SetProps).
            Target::AtMost(2.5),
        ));
    }

    if opts.wants("save") {
        eprintln!("suite: saves");
        let r = run(&programs["save_bench"], &[&data_s], &opts);
        rows.push(pair_row(
            find(&r, "save"),
            "SaveChanges, 1 small change, durable (FULL)",
            "raw SQLite: BEGIN IMMEDIATE; UPDATE … WHERE id=? AND version=?; COMMIT",
            Target::AtMost(1.3),
        ));
        rows.push(pair_row(
            find(&r, "save_rows"),
            "SaveChanges, 1 small change, durable (FULL)",
            "raw SQLite running the store's own save statements on a store file",
            // Issue 16: "≤ 1.2× the raw transaction writing the same rows".
            Target::AtMost(1.2),
        ));
        rows.push(pair_row(
            find(&r, "save_nosync"),
            "SaveChanges, 1 small change, MSGSTORE_NO_SYNC",
            "raw SQLite UPDATE transaction, synchronous=NORMAL",
            Target::None,
        ));
        let big = find(&r, "save_1mib");
        rows.push(pair_row(
            big,
            &format!(
                "SaveChanges, 1 small change, 1 MiB message (PR_MESSAGE_SIZE {})",
                big["message_size"]
            ),
            "the same save on an empty message",
            Target::AtMost(1.5),
        ));
    }

    if opts.wants("notify") {
        eprintln!("suite: notifications");
        let r = run(&programs["notify_bench"], &[&data_s], &opts);
        let base = "the same save on a store with no advise connection (another file, same run)";
        rows.push(pair_row(
            find(&r, "notify_cost_nosync"),
            "SaveChanges with an advise connection on its store, MSGSTORE_NO_SYNC",
            base,
            Target::AtMost(1.1),
        ));
        rows.push(pair_row(
            find(&r, "notify_cost_durable"),
            "SaveChanges with an advise connection on its store, durable (FULL)",
            base,
            Target::AtMost(1.1),
        ));
        for (case, what) in [
            ("notify_delay_process", "another process"),
            (
                "notify_delay_thread",
                "another thread (its own store handle)",
            ),
        ] {
            let d = find(&r, case);
            rows.push(Row {
                operation: format!("commit → OnNotify, {what} (SQLite)"),
                measured: fmt_time(num(d, "median_ns")),
                baseline: "—".into(),
                baseline_value: "—".into(),
                ratio: None,
                target: Target::None,
                note: format!(
                    "median of {} creations 20 ms apart; p95 {}, max {}",
                    d["events"],
                    fmt_time(num(d, "p95_ns")),
                    fmt_time(num(d, "max_ns"))
                ),
            });
        }
    }

    if opts.wants("open") {
        let (small, big) = if opts.quick {
            ("1000", "100000")
        } else {
            ("1000", "1000000")
        };
        eprintln!("suite: open on a {big}-message store (bulk-built) vs {small}");
        let r = run(
            &programs["scale_bench"],
            &["open", &data_s, small, big],
            &opts,
        );
        rows.push(pair_row(
            find(&r, "open"),
            &format!("OpenEntry + GetProps(10), random message of {big}"),
            &format!("the same on a store of {small} messages"),
            // Issue 16: "open + GetProps at 1,000,000 messages ≤ 1.3× the 1,000-message store".
            Target::AtMost(1.3),
        ));
    }

    if opts.wants("contents") {
        let sizes: &[&str] = if opts.quick {
            &["10000", "100000"]
        } else {
            &["10000", "100000", "1000000"]
        };
        eprintln!(
            "suite: contents tables of {} messages (bulk-built)",
            sizes.join(", ")
        );
        let mut args = vec!["contents", data_s.as_str()];
        args.extend_from_slice(sizes);
        let r = run(&programs["scale_bench"], &args, &opts);
        for n in sizes {
            rows.push(pair_row(
                find(&r, &format!("contents{n}")),
                &format!(
                    "contents table of {n} messages: two-key sort + restriction, first 50 rows \
                     (GetContentsTable … QueryRows(50) … Release)"
                ),
                "raw SQLite: the same SELECT … ORDER BY … LIMIT 50 on the store file",
                Target::AtMost(2.0),
            ));
        }
        let (small, big) = (sizes[0], sizes[sizes.len() - 1]);
        let (ms, mb) = (
            num(find(&r, &format!("contents{small}")), "measured_ns"),
            num(find(&r, &format!("contents{big}")), "measured_ns"),
        );
        let size_ratio = big.parse::<f64>().unwrap() / small.parse::<f64>().unwrap();
        rows.push(Row {
            operation: format!(
                "contents table growth, {small} → {big} messages (cost ratio / size ratio)"
            ),
            measured: fmt_time(mb),
            baseline: format!("the same at {small} messages, × {size_ratio}"),
            baseline_value: fmt_time(ms * size_ratio),
            ratio: Some(mb / (ms * size_ratio)),
            // Below 1: the cost grows less than linearly with the folder.
            target: Target::AtMost(1.0),
            note: format!("cost × {:.1} for size × {size_ratio}", mb / ms),
        });
    }

    if opts.wants("memory") {
        eprintln!("suite: memory of open messages");
        let r = run(&programs["scale_bench"], &["memory", &data_s], &opts);
        // A message with a 10 MiB attachment against the same with a 1-byte one: the data stays
        // in the store at open (DESIGN.md §7: open costs what the small properties cost).
        let label = |l: &str| {
            r.iter()
                .find(|r| r["case"] == "memory" && r["label"] == l)
                .unwrap_or_else(|| panic!("scale_bench memory printed no {l} case"))
        };
        let (tiny, big) = (label("attach1B"), label("attach10MiB"));
        for (what, key, fmt) in [
            (
                "heap per open message",
                "heap_per_object",
                fmt_bytes as fn(f64) -> String,
            ),
            (
                "OpenEntry time per message",
                "open_ns",
                fmt_time as fn(f64) -> String,
            ),
        ] {
            let (b, m) = (num(tiny, key), num(big, key));
            rows.push(Row {
                operation: format!("{what}, message with a 10 MiB attachment"),
                measured: fmt(m),
                baseline: "the same message with a 1-byte attachment".into(),
                baseline_value: fmt(b),
                ratio: Some(m / b),
                target: Target::AtMost(1.2),
                note: format!("PR_MESSAGE_SIZE {}", fmt_bytes(num(big, "message_size"))),
            });
        }
        for rec in r
            .iter()
            .filter(|r| r["case"] == "memory" && !r["label"].starts_with("attach"))
        {
            let size = num(rec, "message_size");
            let heap = num(rec, "heap_per_object");
            // Proportional: at most the message's own size plus a fixed 4 KiB per object.
            let limit = size + 4096.0;
            rows.push(Row {
                operation: format!(
                    "heap per open message object, {} message ({} objects)",
                    rec["label"], rec["objects"]
                ),
                measured: fmt_bytes(heap),
                baseline: "PR_MESSAGE_SIZE + 4 KiB".into(),
                baseline_value: fmt_bytes(limit),
                ratio: Some(heap / limit),
                target: Target::AtMost(1.0),
                note: format!(
                    "PR_MESSAGE_SIZE {}; RSS per object {}",
                    fmt_bytes(size),
                    fmt_bytes(num(rec, "rss_per_object"))
                ),
            });
        }
    }

    if opts.wants("contention") {
        let (runs, seconds) = if opts.quick { (3, "1") } else { (5, "3") };
        for mode in ["threads", "procs"] {
            for target_kind in ["distinct", "one"] {
                // Processes run again without the writers' queue (README "Writers take turns")
                // in long mode, for its fairness and tails.
                let variants: &[(&str, &[(&str, &str)])] = if mode == "procs" && !opts.quick {
                    &[
                        ("", &[]),
                        (
                            "without the writers' queue: ",
                            &[("MSGSTORE_NO_WRITER_QUEUE", "1")],
                        ),
                    ]
                } else {
                    &[("", &[])]
                };
                for (prefix, env) in variants {
                    eprintln!("suite: contention, {mode}, {target_kind} message(s) {prefix}");
                    let (r, lost) = contention_rows(
                        &programs["contention_bench"],
                        &data_s,
                        mode,
                        target_kind,
                        runs,
                        seconds,
                        prefix,
                        env,
                        &opts,
                    );
                    rows.extend(r);
                    failed |= lost;
                }
            }
        }
    }

    let (mut pg_skipped, mut pg_server) = (None, None);
    if opts.wants("postgres") {
        let outcome = postgres_rows(&programs, &opts, &mut rows);
        failed |= outcome.failed;
        pg_skipped = outcome.skipped;
        pg_server = outcome.server;
        if let Some(why) = &pg_skipped {
            eprintln!("\n*** SKIPPED: the PostgreSQL benchmark rows: {why} ***\n");
        }
    }

    if !opts.keep {
        let _ = std::fs::remove_dir_all(&data);
    }

    println!();
    println!(
        "msgstore benchmarks — {} mode, {:.0} s",
        if opts.quick { "quick" } else { "long" },
        started.elapsed().as_secs_f64()
    );
    for line in machine(&data, &fs) {
        println!("  {line}");
    }
    if let Some(server) = &pg_server {
        println!("  postgresql: {server}");
    }
    println!();
    let headers = [
        "operation",
        "median",
        "baseline",
        "baseline median",
        "ratio",
        "target",
        "result",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.operation.clone(),
                r.measured.clone(),
                r.baseline.clone(),
                r.baseline_value.clone(),
                r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_default(),
                r.target_text(),
                r.verdict().to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::from("|");
        for (c, w) in cols.iter().zip(widths) {
            s.push_str(&format!(" {c}{} |", " ".repeat(w - c.chars().count())));
        }
        s
    };
    println!("{}", line(&headers.map(String::from)));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("{}", line(&rule));
    for row in &cells {
        println!("{}", line(row));
    }
    println!();
    println!("notes:");
    for r in &rows {
        println!("  {}: {}", r.operation, r.note);
    }
    let missed = rows.iter().filter(|r| r.verdict() == "MISS").count();
    println!();
    println!(
        "{} targets met, {missed} missed{}",
        rows.iter().filter(|r| r.verdict() == "pass").count(),
        if failed {
            "; UPDATES WERE LOST (failure)"
        } else {
            ""
        }
    );
    if let Some(why) = &pg_skipped {
        println!();
        println!("*** SKIPPED: the PostgreSQL benchmark rows: {why} ***");
    }
    if failed {
        std::process::exit(1);
    }
}

// ---- PostgreSQL rows (DESIGN.md §7–§8) ---------------------------------------------------------

/// The tests' server helper: `MSGSTORE_TEST_PG` if set, else a throwaway cluster of this process
/// (initdb/pg_ctl, as the `postgres` user when root, on a Unix socket in a temporary directory),
/// stopped when the suite exits.
#[cfg(feature = "postgres")]
#[path = "../tests/support/pg.rs"]
mod pg;

/// What the PostgreSQL group did: whether updates were lost, why it was skipped if it was, and
/// what server it ran on.
struct PgOutcome {
    failed: bool,
    skipped: Option<String>,
    server: Option<String>,
}

#[cfg(not(feature = "postgres"))]
fn postgres_rows(_: &BTreeMap<&str, PathBuf>, _: &Options, _: &mut Vec<Row>) -> PgOutcome {
    PgOutcome {
        failed: false,
        skipped: Some("built without the \"postgres\" feature".into()),
        server: None,
    }
}

/// A benchmark program driven batch by batch over its stdin/stdout (`pg_save_bench`).
#[cfg(feature = "postgres")]
struct Driven {
    name: String,
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    out: std::io::BufReader<std::process::ChildStdout>,
}

#[cfg(feature = "postgres")]
impl Driven {
    /// Starts `bin` and returns it with the words of its `ready …` line.
    fn start(bin: &Path, args: &[&str]) -> (Driven, Vec<String>) {
        let name = bin.file_name().unwrap().to_string_lossy().into_owned();
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot run: {e}"));
        let stdin = child.stdin.take();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut d = Driven {
            name,
            child,
            stdin,
            out,
        };
        let ready = d.line();
        let words: Vec<String> = ready.split_whitespace().map(str::to_string).collect();
        assert!(
            words.first().map(String::as_str) == Some("ready"),
            "{}: expected `ready`, got {ready:?}",
            d.name
        );
        (d, words)
    }

    fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        let n = self
            .out
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        if n == 0 {
            let status = self.child.wait();
            panic!("{} ended early ({status:?})", self.name);
        }
        line.trim().to_string()
    }

    /// Runs `n` operations in the program; nanoseconds per operation.
    fn batch(&mut self, n: u64) -> f64 {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("running");
        writeln!(stdin, "{n}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let ns: f64 = self
            .line()
            .parse()
            .unwrap_or_else(|e| panic!("{}: not a time: {e}", self.name));
        ns / n as f64
    }

    /// Ends the program; its `@` records.
    fn finish(mut self) -> Vec<Record> {
        use std::io::Read;
        drop(self.stdin.take());
        let mut rest = String::new();
        self.out
            .read_to_string(&mut rest)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{} failed: {status}", self.name);
        rest.lines()
            .filter_map(|l| l.strip_prefix("@ "))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }
}

/// The store engine's save statements (`src/storage/postgres/txn.rs`), for the replica baseline.
#[cfg(feature = "postgres")]
const PG_SWAP: &str = "UPDATE msgstore_objects SET cn = nextval('msgstore_cn') \
                       WHERE store = $1 AND id = $2 AND cn = $3 RETURNING cn";
#[cfg(feature = "postgres")]
const PG_UPSERT_PROPS: &str = "INSERT INTO msgstore_props(store, obj, id, tag, v_int, v_real, v_text, v_bin) \
     SELECT $1, $2, * FROM unnest($3::int4[], $4::int8[], $5::int8[], $6::float8[], $7::text[], $8::bytea[]) \
     ON CONFLICT (store, obj, id) DO UPDATE SET tag = excluded.tag, v_int = excluded.v_int, \
     v_real = excluded.v_real, v_text = excluded.v_text, v_bin = excluded.v_bin";

/// The statements the store's save sends, sent raw on a message of the same store that the
/// measured client never touches: BEGIN; the conditional UPDATE that takes the change number;
/// the upsert of the changed property and the four maintained ones (change key, predecessor
/// change list, last-modification time, message size) in one statement; the commit token's
/// INSERT with COMMIT in one batch, as the store's. One WAL flush.
#[cfg(feature = "postgres")]
struct Replica {
    client: postgres::Client,
    swap: postgres::Statement,
    upsert: postgres::Statement,
    store: i64,
    id: i64,
    cn: i64,
    guid: Vec<u8>,
    value: i64,
    /// The replica's commit tokens: unique (a random start, counted up), like the store's.
    token: u128,
}

#[cfg(feature = "postgres")]
impl Replica {
    fn save(&mut self) {
        const TAGS: [u32; 5] = [
            0x0017_0003, // the changed PT_LONG (PR_IMPORTANCE)
            0x65E2_0102, // PR_CHANGE_KEY
            0x65E3_0102, // PR_PREDECESSOR_CHANGE_LIST
            0x3008_0040, // PR_LAST_MODIFICATION_TIME
            0x0E08_0003, // PR_MESSAGE_SIZE
        ];
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            .expect("BEGIN");
        let row = self
            .client
            .query_opt(&self.swap, &[&self.store, &self.id, &self.cn])
            .expect("the conditional UPDATE")
            .expect("the replica's message changed under it");
        self.cn = row.get(0);
        self.value += 1;
        let mut key = self.guid.clone();
        key.extend_from_slice(&self.cn.to_be_bytes()[2..]);
        let mut pcl = vec![key.len() as u8];
        pcl.extend_from_slice(&key);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let filetime = (now.as_nanos() / 100) as i64 + 116_444_736_000_000_000;
        let ids: Vec<i32> = TAGS.iter().map(|t| (t >> 16) as i32).collect();
        let tags: Vec<i64> = TAGS.iter().map(|t| *t as i64).collect();
        let ints: Vec<Option<i64>> = vec![Some(self.value), None, None, Some(filetime), Some(193)];
        let reals: Vec<Option<f64>> = vec![None; 5];
        let texts: Vec<Option<String>> = vec![None; 5];
        let bins: Vec<Option<Vec<u8>>> = vec![None, Some(key), Some(pcl), None, None];
        self.client
            .execute(
                &self.upsert,
                &[
                    &self.store,
                    &self.id,
                    &ids,
                    &tags,
                    &ints,
                    &reals,
                    &texts,
                    &bins,
                ],
            )
            .expect("the property upsert");
        self.token += 1;
        self.client
            .batch_execute(&format!(
                "INSERT INTO msgstore_commits(token) VALUES (decode('{:032x}', 'hex')); COMMIT",
                self.token
            ))
            .expect("COMMIT");
    }
}

/// The raw baseline: one autocommit statement, a conditional UPDATE of one row that takes the
/// next version (`RETURNING`), prepared once. One round trip, one WAL flush.
#[cfg(feature = "postgres")]
struct RawUpdate {
    client: postgres::Client,
    update: postgres::Statement,
    select1: postgres::Statement,
    cn: i64,
    value: i64,
}

#[cfg(feature = "postgres")]
impl RawUpdate {
    fn save(&mut self) {
        self.value += 1;
        let row = self
            .client
            .query_one(&self.update, &[&self.value, &self.cn])
            .expect("the raw conditional UPDATE");
        self.cn = row.get(0);
    }
    fn round_trip(&mut self) {
        self.client.query_one(&self.select1, &[]).expect("SELECT 1");
    }
}

#[cfg(feature = "postgres")]
fn pg_connect(base: &str) -> postgres::Client {
    postgres::Client::connect(base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to the benchmark server: {e}"))
}

/// Times `n` calls of `f`: nanoseconds per call.
#[cfg(feature = "postgres")]
fn per_op(n: u64, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

/// What the save rounds measured, per operation in the order of [`PG_OPS`]: median nanoseconds
/// and WAL bytes per operation; the per-round ratios of the save to the raw UPDATE and to the
/// replica; the batch size.
#[cfg(feature = "postgres")]
struct SaveRounds {
    medians: Vec<f64>,
    wal: Vec<f64>,
    ratios: [f64; 2],
    batch: u64,
}

/// The save's baselines, each on its own connection, and a connection to read the WAL position.
#[cfg(feature = "postgres")]
struct SaveBaselines<'a> {
    raw: RawUpdate,
    raw_async: RawUpdate,
    replica: Replica,
    replica_async: Replica,
    admin: &'a mut postgres::Client,
}

/// The operations of the save rounds.
#[cfg(feature = "postgres")]
const PG_OPS: usize = 6;

/// The durable save vs its baselines, in interleaved rounds (the order rotating each round):
/// the save (C ABI), the raw UPDATE, the replica of the store's statements, one round trip, and
/// the raw UPDATE and the replica with synchronous_commit off (what is left of each without
/// waiting for the WAL flush).
#[cfg(feature = "postgres")]
fn pg_save_rounds(
    save: &mut Driven,
    baselines: SaveBaselines,
    rounds: usize,
    batch_ns: f64,
    warm: u64,
) -> SaveRounds {
    let SaveBaselines {
        mut raw,
        mut raw_async,
        mut replica,
        mut replica_async,
        admin,
    } = baselines;
    let mut op = |which: usize, n: u64| -> f64 {
        match which {
            0 => save.batch(n),
            1 => per_op(n, || raw.save()),
            2 => per_op(n, || replica.save()),
            3 => per_op(n, || raw.round_trip()),
            4 => per_op(n, || raw_async.save()),
            _ => per_op(n, || replica_async.save()),
        }
    };
    // The server's WAL position: the bytes a batch wrote (the whole server's, so other sessions'
    // too on a shared server).
    let mut lsn = || -> i64 {
        admin
            .query_one("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint", &[])
            .map(|r| r.get(0))
            .unwrap_or(0)
    };
    for which in 0..PG_OPS {
        op(which, warm);
    }
    let slowest = (0..3).map(|w| op(w, 20)).fold(0.0, f64::max);
    let batch = ((batch_ns / slowest) as u64).clamp(5, 100_000);
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); PG_OPS];
    let mut wal = vec![0i64; PG_OPS];
    let mut ratios: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut this = [0.0; PG_OPS];
        for k in 0..PG_OPS {
            let which = (round + k) % PG_OPS;
            let before = lsn();
            this[which] = op(which, batch);
            wal[which] += lsn() - before;
        }
        for (t, x) in times.iter_mut().zip(this) {
            t.push(x);
        }
        ratios[0].push(this[0] / this[1]);
        ratios[1].push(this[0] / this[2]);
    }
    let ops = (rounds as u64 * batch) as f64;
    let [a, b] = ratios;
    SaveRounds {
        medians: times.into_iter().map(median).collect(),
        wal: wal.into_iter().map(|w| w as f64 / ops).collect(),
        ratios: [median(a), median(b)],
        batch,
    }
}

/// The PostgreSQL rows: a durable save vs a raw single-statement conditional UPDATE on the same
/// server (and vs the store's own statements run raw), and 1/2/4/8 processes racing on
/// distinct messages and on one message.
#[cfg(feature = "postgres")]
fn postgres_rows(
    programs: &BTreeMap<&str, PathBuf>,
    opts: &Options,
    rows: &mut Vec<Row>,
) -> PgOutcome {
    let Some(base) = pg::server() else {
        return PgOutcome {
            failed: false,
            skipped: Some(
                "no server (install Debian's `postgresql` package so the suite can start a \
                 throwaway cluster, or set MSGSTORE_TEST_PG to a postgresql:// URI of a database)"
                    .into(),
            ),
            server: None,
        };
    };
    let external = std::env::var("MSGSTORE_TEST_PG").is_ok_and(|v| !v.is_empty());
    eprintln!(
        "suite: PostgreSQL rows on {}",
        if external {
            "the server MSGSTORE_TEST_PG names"
        } else {
            "a throwaway cluster"
        }
    );
    let tag = format!("msgstore_bench_{}", std::process::id());
    let store_name = |what: &str| format!("{tag}_{what}");
    let mut admin = pg_connect(base);
    let show = |c: &mut postgres::Client, what: &str| -> String {
        c.query_one(&format!("SHOW {what}"), &[])
            .map(|r| r.get(0))
            .unwrap_or_else(|_| "?".into())
    };
    let sync = show(&mut admin, "synchronous_commit");
    let data_dir = show(&mut admin, "data_directory");
    let server = format!(
        "PostgreSQL {}, synchronous_commit={sync}, fsync={}, wal_sync_method={}; {}",
        show(&mut admin, "server_version"),
        show(&mut admin, "fsync"),
        show(&mut admin, "wal_sync_method"),
        if external {
            "the server MSGSTORE_TEST_PG names".to_string()
        } else {
            format!(
                "a throwaway cluster in {data_dir} ({}), Unix socket",
                fs_type(Path::new(&data_dir))
            )
        }
    );
    if sync != "on" {
        eprintln!(
            "suite: WARNING: the server's synchronous_commit is {sync}: saves are not durable"
        );
    }
    let mut failed = false;

    // The save and its baselines.
    {
        let (rounds, batch_ns, warm) = if opts.quick {
            (9, 40e6, 100)
        } else {
            (41, 80e6, 500)
        };
        eprintln!("suite: PostgreSQL, durable save vs a raw conditional UPDATE");
        let name = store_name("save");
        let (mut save, ready) =
            Driven::start(&programs["pg_save_bench"], &[&pg::store_uri(base, &name)]);
        let others: Vec<i64> = ready
            .iter()
            .filter_map(|w| w.strip_prefix("other="))
            .filter_map(|v| v.parse().ok())
            .collect();
        assert_eq!(others.len(), 2, "pg_save_bench: ready other=ID other=ID");
        let raw_table = format!("{tag}_raw");
        admin
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {raw_table}; \
                 CREATE TABLE {raw_table} (id integer PRIMARY KEY, cn bigint NOT NULL, v bigint); \
                 INSERT INTO {raw_table} VALUES (1, 1, 0), (2, 1, 0)"
            ))
            .expect("creating the raw baseline's table");
        // Row 1 durable; row 2 on a session with synchronous_commit off.
        let raw_update = |row: i32, durable: bool| {
            let mut client = pg_connect(base);
            if !durable {
                client
                    .batch_execute("SET synchronous_commit = off")
                    .expect("synchronous_commit off");
            }
            let update = client
                .prepare(&format!(
                    "UPDATE {raw_table} SET v = $1, cn = cn + 1 WHERE id = {row} AND cn = $2 \
                     RETURNING cn"
                ))
                .expect("prepare");
            let select1 = client.prepare("SELECT 1").expect("prepare");
            RawUpdate {
                client,
                update,
                select1,
                cn: 1,
                value: 0,
            }
        };
        let (store, guid): (i64, Vec<u8>) = admin
            .query_one(
                "SELECT store, guid FROM msgstore_stores WHERE name = $1",
                &[&name],
            )
            .map(|r| (r.get(0), r.get(1)))
            .expect("the save store's row");
        // Message `others[0]` durable; `others[1]` on a session with synchronous_commit off.
        let replica = |id: i64, durable: bool| {
            let mut admin = pg_connect(base);
            let cn: i64 = admin
                .query_one(
                    "SELECT cn FROM msgstore_objects WHERE store = $1 AND id = $2",
                    &[&store, &id],
                )
                .expect("the replica message's row")
                .get(0);
            let mut client = pg_connect(base);
            if !durable {
                client
                    .batch_execute("SET synchronous_commit = off")
                    .expect("synchronous_commit off");
            }
            let swap = client.prepare(PG_SWAP).expect("prepare");
            let upsert = client.prepare(PG_UPSERT_PROPS).expect("prepare");
            Replica {
                client,
                swap,
                upsert,
                store,
                id,
                cn,
                guid: guid.clone(),
                value: 0,
                token: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    << 32,
            }
        };
        let SaveRounds {
            medians,
            wal,
            ratios,
            batch,
        } = pg_save_rounds(
            &mut save,
            SaveBaselines {
                raw: raw_update(1, true),
                raw_async: raw_update(2, false),
                replica: replica(others[0], true),
                replica_async: replica(others[1], false),
                admin: &mut admin,
            },
            rounds,
            batch_ns,
            warm,
        );
        let recs = save.finish();
        assert!(
            recs.iter().any(|r| r["case"] == "pg_save"),
            "pg_save_bench: no final record (counter check)"
        );
        let record = |baseline: f64, ratio: f64| -> Record {
            [
                ("measured_ns", medians[0]),
                ("baseline_ns", baseline),
                ("round_ratio", ratio),
                ("rounds", rounds as f64),
                ("batch", batch as f64),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let mut row = pair_row(
            &record(medians[1], ratios[0]),
            "PostgreSQL: SaveChanges, 1 small change, durable (C ABI)",
            "raw PostgreSQL: one autocommit UPDATE … SET cn = cn + 1 WHERE id=$1 AND cn=$2 RETURNING cn",
            Target::AtMost(1.3),
        );
        row.note.push_str(&format!(
            "; in the same rounds: one round trip (prepared SELECT 1) {}; with synchronous_commit \
             off: the raw UPDATE {}, the store's statements raw {}; WAL per operation: save {:.0} \
             B, the store's statements raw {:.0} B, raw UPDATE {:.0} B",
            fmt_time(medians[3]),
            fmt_time(medians[4]),
            fmt_time(medians[5]),
            wal[0],
            wal[2],
            wal[1]
        ));
        rows.push(row);
        rows.push(pair_row(
            &record(medians[2], ratios[1]),
            "PostgreSQL: SaveChanges, 1 small change, durable (C ABI)",
            "raw PostgreSQL running the store's own save statements (3 round trips)",
            Target::None,
        ));
        if !opts.keep {
            let _ = admin.batch_execute(&format!("DROP TABLE IF EXISTS {raw_table}"));
        }
    }

    // Contention: processes, each with its own store handle and connections.
    let (runs, seconds) = if opts.quick { (3, "1") } else { (5, "3") };
    let location = pg::store_uri(base, &store_name("contention"));
    for target_kind in ["distinct", "one"] {
        eprintln!("suite: PostgreSQL contention, procs, {target_kind} message(s)");
        let (r, lost) = contention_rows(
            &programs["contention_bench"],
            &location,
            "procs",
            target_kind,
            runs,
            seconds,
            "PostgreSQL: ",
            &[],
            opts,
        );
        rows.extend(r);
        failed |= lost;
    }

    // The stores this run made (a throwaway cluster goes away anyway).
    if !opts.keep {
        let cleanup = admin.transaction().and_then(|mut t| {
            for table in ["msgstore_props", "msgstore_objects"] {
                t.execute(
                    &format!(
                        "DELETE FROM {table} WHERE store IN (SELECT store FROM msgstore_stores \
                         WHERE left(name, length($1)) = $1)"
                    ),
                    &[&tag],
                )?;
            }
            t.execute(
                "DELETE FROM msgstore_stores WHERE left(name, length($1)) = $1",
                &[&tag],
            )?;
            t.commit()
        });
        if let Err(e) = cleanup {
            eprintln!("suite: could not remove the benchmark stores {tag}_*: {e}");
        }
    }
    PgOutcome {
        failed,
        skipped: None,
        server: Some(server),
    }
}
