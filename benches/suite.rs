//! The benchmark suite (DESIGN.md §7): every number is a median of repeated runs, set against a
//! baseline measured in the same run, and the table says how far each operation is from its floor.
//!
//!     cargo bench --bench suite                      # long mode (minutes; 1,000,000-message store)
//!     cargo bench --bench suite -- --quick           # quick mode for CI (about a minute)
//!     MSGSTORE_BENCH_QUICK=1 cargo bench --bench suite   # the same
//!
//! Other options (after `--`): `--only props,save,open,memory,contention` runs some groups,
//! `--verbose` echoes the programs' progress, `--keep` keeps the stores and databases afterwards.
//!
//! What it does: builds the release staticlib (`$CARGO build --release --lib`), compiles each C
//! program in `benches/*.c` with `cc -O2 -std=c11 -Iinclude … libmsgstore.a -lpthread -ldl -lm`
//! into `<target>/msgstore-bench/bin/`, runs them with their data directory
//! `<target>/msgstore-bench/data/` (on the disk the target directory is on, so that fsync costs
//! what it costs; the suite warns when that is a tmpfs), reads their `@ key=value` lines, and
//! prints one table. It exits non-zero if a program fails or updates were lost; a missed
//! performance target is reported in the table, not as a failure.

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
    let mut cmd = Command::new(bin);
    cmd.args(args);
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

fn machine(dir: &Path) -> Vec<String> {
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
        format!("bench directory: {} ({})", dir.display(), fs_type(dir)),
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
            Target::AtMost(3.0),
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
            Target::None,
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
            Target::AtMost(1.5),
        ));
    }

    if opts.wants("memory") {
        eprintln!("suite: memory of open messages");
        let r = run(&programs["scale_bench"], &["memory", &data_s], &opts);
        for rec in r.iter().filter(|r| r["case"] == "memory") {
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
                eprintln!("suite: contention, {mode}, {target_kind} message(s)");
                // Each round runs every client count back to back, so that each N-client rate
                // is set against a 1-client rate measured seconds before it: this disk's fsync
                // latency drifts by an order of magnitude over minutes.
                const CLIENTS: [usize; 4] = [1, 2, 4, 8];
                let mut by_clients: Vec<Vec<Record>> = vec![Vec::new(); CLIENTS.len()];
                for _ in 0..runs {
                    for (i, clients) in CLIENTS.iter().enumerate() {
                        let n = clients.to_string();
                        by_clients[i].extend(run(
                            &programs["contention_bench"],
                            &[&data_s, mode, target_kind, &n, seconds],
                            &opts,
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
                            "{clients} {} racing read-modify-write, {what}",
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
                        target: if target_kind == "distinct" && clients > 1 {
                            Target::AtLeast(0.8)
                        } else {
                            Target::None
                        },
                        note: format!(
                            "conflicts {:.1}%; lost updates {lost:.0}; slowest/fastest client \
                             {:.2}; longest save {worst:.1} ms; median of {runs} runs × {seconds} s; \
                             ratio: median of per-round ratios (each round runs 1, 2, 4, 8 clients)",
                            conflicts * 100.0,
                            fairness
                        ),
                    });
                }
            }
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
    for line in machine(&data) {
        println!("  {line}");
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
    if failed {
        std::process::exit(1);
    }
}
