//! A PostgreSQL server for the tests (DESIGN.md §8 "Tests and CI"): the one `MSGSTORE_TEST_PG`
//! names (a `postgresql://` URI of a database, without `store=`; `.ci/run` starts one and sets
//! it), or else a throwaway cluster this test process starts itself when the server binaries are
//! installed (Debian's `postgresql` package), on a Unix socket in a temporary directory, stopped
//! when the process exits. Without either, PostgreSQL tests say loudly that they were skipped —
//! or fail, when `MSGSTORE_REQUIRE_PG=1` (CI). A test that kills and restarts its server
//! (`pg_fault.rs`) always starts its own cluster: [`restartable_server`], [`stop`], [`start`].

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The base URI of a database to make test stores in, or None (after saying so) when there is
/// no server to be had.
pub fn server() -> Option<&'static str> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        if !cfg!(feature = "postgres") {
            return None;
        }
        if let Ok(uri) = std::env::var("MSGSTORE_TEST_PG") {
            if !uri.is_empty() {
                return Some(uri);
            }
        }
        match cluster() {
            Ok(uri) => Some(uri.clone()),
            Err(why) => {
                if required() && cfg!(feature = "postgres") {
                    panic!("MSGSTORE_REQUIRE_PG=1 but no PostgreSQL server: {why}");
                }
                None
            }
        }
    });
    if server.is_none() && !cfg!(feature = "postgres") {
        say_skipped("built without the \"postgres\" feature");
    } else if server.is_none() {
        say_skipped(
            "no server: install Debian's `postgresql` package so the tests can start a \
             throwaway cluster, or set MSGSTORE_TEST_PG to a postgresql:// URI",
        );
    }
    server.as_deref()
}

/// Says once per test process, past the test harness's capture of `eprintln!` (which shows a
/// passing test's output to nobody), that the PostgreSQL tests were skipped and why.
fn say_skipped(why: &str) {
    use std::io::Write;
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: PostgreSQL tests ({why}) ***\n"
        );
    });
}

/// The URI of a cluster this process started itself (even when `MSGSTORE_TEST_PG` names
/// another), so that a test may [`stop`] and [`start`] it; None (after saying so) without server
/// binaries.
pub fn restartable_server() -> Option<&'static str> {
    if !cfg!(feature = "postgres") {
        return server();
    }
    match cluster() {
        Ok(uri) => Some(uri),
        Err(why) => {
            if required() {
                panic!("MSGSTORE_REQUIRE_PG=1 but no PostgreSQL server to restart: {why}");
            }
            say_skipped(&format!(
                "the fault test starts its own cluster: {why}; install Debian's `postgresql` \
                 package"
            ));
            None
        }
    }
}

fn cluster() -> &'static Result<String, String> {
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    CLUSTER.get_or_init(start_cluster)
}

/// Stops this process's cluster at once, as a crash would (`pg_ctl stop -m immediate`): every
/// session ends, in-flight transactions (some inside COMMIT) are cut off.
pub fn stop() -> Result<(), String> {
    let c = CLUSTER_CTL.get().ok_or("no cluster of this process")?;
    run(
        &c.pg_ctl,
        &[
            "stop",
            "-D",
            c.data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
        ],
    )
}

/// Starts this process's cluster again after [`stop`], on the same socket and port; returns
/// once it accepts connections (crash recovery done).
pub fn start() -> Result<(), String> {
    let c = CLUSTER_CTL.get().ok_or("no cluster of this process")?;
    run(
        &c.pg_ctl,
        &[
            "start",
            "-D",
            c.data.to_str().unwrap(),
            "-w",
            "-l",
            c.log.to_str().unwrap(),
            "-o",
            &c.opts,
        ],
    )
}

/// Runs `sql` in this process's cluster with psql; returns its unaligned, tuples-only output.
pub fn psql(sql: &str) -> Result<String, String> {
    let c = CLUSTER_CTL.get().ok_or("no cluster of this process")?;
    run_output(
        &c.pg_ctl.with_file_name("psql"),
        &[
            "-X", "-q", "-tA", "-h", &c.sock, "-p", &c.port, "-U", "postgres", "-d", "postgres",
            "-c", sql,
        ],
    )
}

/// How this process's cluster is stopped, started and reached.
struct Ctl {
    pg_ctl: PathBuf,
    data: PathBuf,
    log: PathBuf,
    opts: String,
    sock: String,
    port: String,
}

static CLUSTER_CTL: OnceLock<Ctl> = OnceLock::new();

pub fn required() -> bool {
    std::env::var("MSGSTORE_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// A store location in the test server: `base` + `store=<name>`.
pub fn store_uri(base: &str, name: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}store={name}")
}

/// The directory holding the server binaries (`initdb`, `pg_ctl`, `postgres`).
fn bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a server binary, as the `postgres` user when we are root (initdb refuses root).
fn run(bin: &Path, args: &[&str]) -> Result<(), String> {
    run_output(bin, args).map(drop)
}

/// [`run`], returning what the program printed.
fn run_output(bin: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {:?} failed: {}{}",
            bin.display(),
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

extern "C" fn stop_cluster() {
    if let Some(c) = CLUSTER_CTL.get() {
        let _ = stop();
        let _ = std::fs::remove_dir_all(c.data.parent().unwrap());
    }
}

/// Stops the clusters of test processes that died without stopping theirs (killed by a
/// timeout, say), so that they do not pile up.
fn stop_orphans(pg_ctl: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("msgstore-pg-")
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only asks whether the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            continue;
        }
        let data = entry.path().join("data");
        let _ = run(
            pg_ctl,
            &[
                "stop",
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
            ],
        );
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Starts a cluster for this process; returns its URI.
fn start_cluster() -> Result<String, String> {
    let bin = bindir().ok_or("no PostgreSQL server binaries (initdb) installed")?;
    stop_orphans(&bin.join("pg_ctl"));
    let dir = std::env::temp_dir().join(format!("msgstore-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if is_root() {
        let chown = Command::new("chown")
            .args(["postgres:postgres", dir.to_str().unwrap()])
            .status()
            .map_err(|e| e.to_string())?;
        if !chown.success() {
            return Err("cannot give the cluster directory to the postgres user".into());
        }
    }
    let data = dir.join("data");
    let data_s = data.to_str().unwrap();
    let sock = dir.to_str().unwrap();
    run(
        &bin.join("initdb"),
        &[
            "-D",
            data_s,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "-N",
        ],
    )?;
    let port = 20000 + std::process::id() % 20000;
    let opts = format!(
        "-k {sock} -p {port} -c listen_addresses='' -c max_connections=200 \
         -c shared_buffers=64MB"
    );
    let log = dir.join("server.log");
    run(
        &bin.join("pg_ctl"),
        &[
            "start",
            "-D",
            data_s,
            "-w",
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
        ],
    )?;
    let _ = CLUSTER_CTL.set(Ctl {
        pg_ctl: bin.join("pg_ctl"),
        data: data.clone(),
        log,
        opts,
        sock: sock.to_string(),
        port: port.to_string(),
    });
    // SAFETY: registering a plain extern "C" function to run at exit.
    unsafe { libc::atexit(stop_cluster) };
    Ok(format!(
        "postgresql:///postgres?host={sock}&port={port}&user=postgres"
    ))
}
