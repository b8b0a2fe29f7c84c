//! Builds and runs the C and C++ clients in `c-tests/` against the static library
//! (rust-c-abi-style.md §3 "Test plumbing", §4 habit 9).
//!
//! * The staticlib is built once per test process with `$CARGO build --lib` into the same target
//!   directory as this test (`cargo test` itself builds only the rlib).
//! * Each `c-tests/*.c` is compiled with `cc -std=c11` and each `c-tests/*.cpp` with
//!   `c++ -std=c++17`, always `-Wall -Wextra -Werror -pedantic -g -Iinclude`, linked with
//!   `libmsgstore.a -lpthread -ldl -lm`, into `<target>/c-tests/` (never into the source tree),
//!   and run with `MSGSTORE_TEST_DIR` set to a fresh directory under `<target>/c-tests/tmp/`.
//! * `MSGSTORE_VALGRIND=1` runs every program under valgrind (any invalid access or definitely /
//!   indirectly lost block fails the test; "still reachable" does not) and sets
//!   `MSGSTORE_UNDER_VALGRIND=1` in the child's environment so long stress loops can scale down.
//! * Every program is a list of independent sections (`c-tests/test_util.h`: `SECTIONS[]` and
//!   `run_sections`): `prog --list` names them, `prog NAME` runs one. Each section is a test of
//!   its own here, `<program>::<section>` (e.g. `c_store_test::open_errors`), run in its own
//!   process with its own `MSGSTORE_TEST_DIR`, so one failure hides nothing else;
//!   `cargo test --test c_tests c_store_test::` runs one program's sections. Each program is
//!   compiled once per test process and shared by its sections.
//!   `the_section_tables_match_the_programs` fails if the table below and a program's `--list`
//!   disagree (a section forgotten in either place).
//! * `MSGSTORE_VALGRIND=1` runs every section under valgrind (any invalid access or definitely /
//!   indirectly lost block fails the test; "still reachable" does not) and sets
//!   `MSGSTORE_UNDER_VALGRIND=1` in the child's environment so long stress loops can scale down.
//! * `CC` / `CXX` override the compilers; `MSGSTORE_C_TEST_TIMEOUT` (seconds) the per-section
//!   time limit (default 300, or 3600 under valgrind).
//!
//! Adding a C/C++ test = adding its file to `c-tests/` and one line to the `c_tests!` table below
//! (adding a section = one name in its line); `every_c_test_file_has_a_runner_entry` fails if a
//! file is forgotten.

#[path = "support/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Files in `c-tests/` that deliberately have no entry in the table, and why.
const SKIPPED: &[(&str, &str)] = &[];

/// The tests of one program: one per section, or (an empty list) one for the whole program,
/// run without arguments.
macro_rules! c_test_module {
    ($file:literal []) => {
        #[test]
        fn whole_program() {
            super::run_c_test($file, None);
        }
    };
    ($file:literal [$($section:ident),+]) => {
        $(
            #[test]
            fn $section() {
                super::run_c_test($file, Some(stringify!($section)));
            }
        )+
    };
}

/// One line per C/C++ test program: `module_name => "file in c-tests/" [its sections, in its
/// SECTIONS[] order]`. An empty list means a program without sections, run whole. A line may
/// add `postgres [sections]`: those sections run a second time with their stores in PostgreSQL
/// (`module_name::postgres::section`); the others are about store files and stay SQLite-only.
macro_rules! c_tests {
    ($($name:ident => $file:literal [$($section:ident),* $(,)?]
       $(postgres [$($pg_section:ident),* $(,)?])?,)*) => {
        /// Every C/C++ test program the runner knows, with its sections.
        const C_TESTS: &[(&str, &[&str])] = &[$(($file, &[$(stringify!($section)),*])),*];
        /// The sections that also run on PostgreSQL, per program.
        const ON_POSTGRES: &[(&str, &[&str])] = &[$(($file, &[$($(stringify!($pg_section)),*)?])),*];
        $(
            mod $name {
                c_test_module!($file [$($section),*]);
                $(
                    mod postgres {
                        $(
                            #[test]
                            fn $pg_section() {
                                super::super::run_c_test_on_postgres(
                                    $file,
                                    Some(stringify!($pg_section)),
                                );
                            }
                        )*
                    }
                )?
            }
        )*
    };
}

c_tests! {
    c_abi_check => "abi_check.c" [iids, allocator_typedefs, hresult_constants],
    c_prop_test => "prop_test.c" [
        allocator, create_iprop, iunknown, round_trip_every_type, large_values,
        boolean_and_one_value_per_id, string_conversions, get_props_errors, set_props_rules,
        delete_props_and_prop_list, copy_to_ours, copy_to_foreign, get_last_error,
        unsupported_slots, prop_data_access, panics, threads,
    ],
    cpp_prop_test => "prop_test.cpp" [round_trip, query_interface, copy_to_cpp_object],
    // The main job, run as the README runs it without a terminal: every rule-4 choice in turn.
    // No sections: it is one story told in order (each step builds on the one before), and its
    // command line is the demo's own (`--non-interactive`, `--choice=`, a store path).
    c_demo => "demo.c" [],
    c_store_test => "store_test.c" [
        open_errors, open_not_a_store, store_props, save_rules, keep_open_and_no_changes,
        deleted_under_you, new_message_and_change_props, read_flag, persistence, entry_ids,
        entry_ids_everywhere, read_only_store, read_only_store_refuses_every_write,
        read_only_objects, folders, bad_input, panics_in_store_methods,
    ] postgres [
        store_props, save_rules, keep_open_and_no_changes, deleted_under_you,
        new_message_and_change_props, read_flag, persistence, entry_ids, entry_ids_everywhere,
        read_only_store, read_only_store_refuses_every_write, read_only_objects, folders,
        bad_input, panics_in_store_methods,
    ],
    // Each section has a store of its own; the children (fork + exec) are started by the section.
    // Contents and hierarchy tables of folders; a section's children (fork + exec) are its own.
    c_contents_test => "contents_test.c" [
        sorted_and_restricted, other_process, hierarchy, associated, bad_input, children,
    ] postgres [sorted_and_restricted, other_process, hierarchy, associated, bad_input, children],
    // Notifications (issue 15 item 4); each section has stores of its own.
    // On PostgreSQL the other process stands for another host (a connection of its own).
    c_notify_test => "notify_test.c" [
        same_process, per_entry_and_unadvise, other_process, blocking_and_failing_sinks,
        reentrant_sink, table_notifications, new_mail, bad_input,
    ] postgres [
        same_process, per_entry_and_unadvise, other_process, blocking_and_failing_sinks,
        reentrant_sink, table_notifications, new_mail, bad_input,
    ],
    c_race_test => "race_test.c" [rules_across_processes, race]
        postgres [rules_across_processes, race],
    // One section each: the run is one scenario whose checks are over its whole history.
    c_lost_update_test => "lost_update_test.c" [no_lost_update] postgres [no_lost_update],
    // SIGKILL of a writer and SQLite's integrity check: about store files (PostgreSQL's faults
    // are tests/pg_fault.rs).
    c_crash_test => "crash_test.c" [kill_and_reopen],
    c_resolver_test => "resolver_test.c" [
        keep_original_and_detail, overwrite, merge, save_elsewhere,
        blocking_resolver_is_asked_again, failing_and_unknown, deleted, reference_counts,
    ] postgres [
        keep_original_and_detail, overwrite, merge, save_elsewhere,
        blocking_resolver_is_asked_again, failing_and_unknown, deleted, reference_counts,
    ],
    // Issue 14, items 3 and 4: attachments, recipients, embedded messages, and their tables.
    c_attach_test => "attach_test.c" [
        attachments, recipients, conflict_loses_children_force_keeps,
        resolver_merge_keeps_children, resolver_save_elsewhere_keeps_children,
        embedded_two_levels, bad_input, attachment_table, recipient_table,
        tables_after_a_lost_conflict, embedded_tables, table_bad_input,
    ] postgres [
        attachments, recipients, conflict_loses_children_force_keeps,
        resolver_merge_keeps_children, resolver_save_elsewhere_keeps_children,
        embedded_two_levels, bad_input, attachment_table, recipient_table,
        tables_after_a_lost_conflict, embedded_tables, table_bad_input,
    ],
    // Issue 15, item 3: CopyTo / CopyProps with children, CopyMessages, CopyFolder.
    c_copy_test => "copy_test.c" [
        copy_to_messages, copy_to_folders_and_attachments, copy_to_embedded, copy_messages,
        move_messages, moved_message_save_rules, copy_folder, named_properties_across_stores,
        copy_large_values, bad_input,
    ] postgres [
        copy_to_messages, copy_to_folders_and_attachments, copy_to_embedded, copy_messages,
        move_messages, moved_message_save_rules, copy_folder, named_properties_across_stores,
        copy_large_values, bad_input,
    ],
    // One story (two clients and a merging resolver): one section.
    cpp_resolver_test => "resolver_test.cpp" [merge] postgres [merge],
    // Issue 12 (the store tried as an adversarial user would): one section per item.
    c_hostile_test => "hostile_test.c" [
        concurrent_create, crash_during_create, read_only_places, wait_limit,
        wait_limit_60s, value_limit, copy_is_another_store, hard_links, ids_never_reused,
        forked_child_has_its_own_writer,
    ],
    c_bad_input_test => "bad_input_test.c" [
        null_this_every_slot, null_pointers_imapiprop, null_pointers_store_folder,
        unknown_flags_every_method, bad_counts, message_property_input,
    ] postgres [
        null_this_every_slot, null_pointers_imapiprop, null_pointers_store_folder,
        unknown_flags_every_method, bad_counts, message_property_input,
    ],
    // Issue 15 item 2: named properties (each section a store of its own; the cross-process
    // sections fork + exec children).
    c_named_test => "named_test.c" [
        ids_and_names, null_forms, unknown_ids, reopen_and_across_processes, racing_creators,
        quota, bad_input,
    ] postgres [
        ids_and_names, null_forms, unknown_ids, reopen_and_across_processes, racing_creators,
        quota, bad_input,
    ],
    // Issue 15 item 1: streams (each section a store of its own; the two large round trips
    // shrink under valgrind, MSGSTORE_UNDER_VALGRIND).
    c_stream_test => "stream_test.c" [
        round_trips, hundred_mib, hundred_mib_attachment, hundred_mib_embedded,
        conflict_loses_force_keeps, stale_large_value, strings_and_reopen, unicode_in_place,
        attachment_data_bin, folder, stream_methods, bad_input, open_stream_on_file,
    ] postgres [
        round_trips, hundred_mib, hundred_mib_attachment, hundred_mib_embedded,
        conflict_loses_force_keeps, stale_large_value, strings_and_reopen, unicode_in_place,
        attachment_data_bin, folder, stream_methods, bad_input,
    ],
    c_reentry_test => "reentry_test.c" [
        allocator_calls_back_into_the_object, result_is_a_snapshot,
        foreign_destination_calls_back_into_the_source, resolver_calls_back_into_the_message,
    ],
    // Skipped under valgrind (it says so): RLIMIT_AS does not bound valgrind's allocator.
    c_oom_test => "oom_test.c" [prop_data, message],
    c_mapiutil_test => "mapiutil_test.c" [
        signatures, prop_copy_more, ul_prop_size, contains, compare, find, count_copy_reloc,
        equal_names, validation, objects, runtime, strings, windows_behaviours, panics,
    ],
    // Issue 14: IMAPITable over CreateTable / ITableData, HrQueryAllRows, bad input.
    c_table_test => "table_test.c" [
        sorted_and_restricted, cursor, bookmarks, find_row, table_data, query_all_rows,
        restriction_types, bad_input,
    ],
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn c_tests_dir() -> PathBuf {
    manifest_dir().join("c-tests")
}

/// The profile directory this test binary was built into (`<target>/debug`), from
/// `<target>/debug/deps/c_tests-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("the test binary lives in deps/");
    deps.parent()
        .expect("deps/ lives in the profile directory")
        .to_path_buf()
}

/// The cargo target directory: `CARGO_TARGET_DIR` if set, else the parent of the profile
/// directory.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                manifest_dir().join(dir)
            }
        }
        None => profile_dir()
            .parent()
            .expect("the profile directory has a parent")
            .to_path_buf(),
    }
}

/// Where compiled programs and per-run temporary directories go.
fn out_dir() -> PathBuf {
    let dir = target_dir().join("c-tests");
    std::fs::create_dir_all(&dir).expect("create <target>/c-tests");
    dir
}

fn under_valgrind() -> bool {
    std::env::var("MSGSTORE_VALGRIND").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Builds `libmsgstore.a` once per process; every test waits for the same result.
fn staticlib() -> &'static Path {
    static LIB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = LIB.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let profile = profile_dir();
        let profile_name = profile
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug")
            .to_string();
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--lib")
            .arg("--manifest-path")
            .arg(manifest_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir());
        if !cfg!(feature = "postgres") {
            // The C programs link the library this test was built with: SQLite-only here.
            cmd.arg("--no-default-features");
        }
        match profile_name.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.arg("--profile").arg(other);
            }
        }
        let output = cmd
            .output()
            .map_err(|e| format!("could not run cargo build --lib: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo build --lib failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let lib = target_dir().join(&profile_name).join("libmsgstore.a");
        if !lib.is_file() {
            return Err(format!(
                "cargo build --lib did not produce {}",
                lib.display()
            ));
        }
        Ok(lib)
    });
    match result {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    C,
    Cpp,
}

impl Lang {
    fn of(file: &str) -> Option<Lang> {
        if file.ends_with(".c") {
            Some(Lang::C)
        } else if file.ends_with(".cpp") {
            Some(Lang::Cpp)
        } else {
            None
        }
    }

    fn compiler(self) -> String {
        let (var, default) = match self {
            Lang::C => ("CC", "cc"),
            Lang::Cpp => ("CXX", "c++"),
        };
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string())
    }
}

const WARNINGS: &[&str] = &["-Wall", "-Wextra", "-Werror", "-pedantic"];

/// Runs a compiler command, failing the test with its output if it does not succeed.
fn run_compiler(mut cmd: Command, what: &str) {
    let shown = format!("{cmd:?}");
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run the compiler for {what}: {e}\n{shown}"));
    if !output.status.success() {
        panic!(
            "compiling {what} failed ({}):\n{shown}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The compiled program for `file`: compiled once per test process (the first of its sections to
/// ask compiles it, the others wait), and a failure reported to every section.
fn compiled(file: &'static str) -> PathBuf {
    type Cell = Arc<OnceLock<Result<PathBuf, String>>>;
    static PROGRAMS: OnceLock<Mutex<HashMap<&'static str, Cell>>> = OnceLock::new();
    let cell = PROGRAMS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(file)
        .or_default()
        .clone();
    let result = cell.get_or_init(|| {
        std::panic::catch_unwind(|| compile(file)).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| format!("compiling {file} failed"))
        })
    });
    match result {
        Ok(exe) => exe.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// Compiles and links one test program; the output name is derived from the whole file name, so
/// `prop_test.c` and `prop_test.cpp` never collide.
fn compile(file: &str) -> PathBuf {
    let lang = Lang::of(file).unwrap_or_else(|| panic!("{file}: not a .c or .cpp file"));
    let src = c_tests_dir().join(file);
    assert!(src.is_file(), "{} does not exist", src.display());
    let lib = staticlib();
    let exe = out_dir().join(file.replace('.', "_"));
    let mut cmd = Command::new(lang.compiler());
    cmd.arg(match lang {
        Lang::C => "-std=c11",
        Lang::Cpp => "-std=c++17",
    })
    .args(WARNINGS)
    .arg("-g")
    .arg("-I")
    .arg(manifest_dir().join("include"))
    .arg("-I")
    .arg(c_tests_dir())
    .arg(&src)
    .arg("-o")
    .arg(&exe)
    .arg(lib)
    .args(["-lpthread", "-ldl", "-lm"]);
    run_compiler(cmd, file);
    exe
}

/// The main job against a PostgreSQL store: `demo --non-interactive --store postgresql://…`.
#[test]
fn c_demo_on_postgres() {
    let Some(server) = pg::server() else { return };
    let exe = compiled("demo.c");
    let name = format!("demo-{}", std::process::id());
    let out = Command::new(&exe)
        .arg("--non-interactive")
        .arg("--store")
        .arg(pg::store_uri(server, &name))
        .stdin(Stdio::null())
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo on PostgreSQL failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("every rule held"), "{stdout}");
}

/// A fresh, empty directory for one run's store files.
fn fresh_test_dir(file: &str, section: Option<&str>) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = out_dir().join("tmp").join(format!(
        "{}-{}-{}-{nanos}",
        file.replace('.', "_"),
        section.unwrap_or("whole"),
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove a stale test directory");
    }
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

fn timeout() -> Duration {
    let default = if under_valgrind() { 3600 } else { 300 };
    let secs = std::env::var("MSGSTORE_C_TEST_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(secs)
}

/// Compiles `file` (once), runs its `section` (the whole program when `None`; under valgrind when
/// asked) and fails on a non-zero exit, showing the program's output.
fn run_c_test(file: &'static str, section: Option<&str>) {
    run_c_test_on(file, section, None);
}

/// As `run_c_test`, with the program's stores in the test PostgreSQL server (`support/pg.rs`):
/// `MSGSTORE_TEST_PG` tells the program's `store_location()` to name stores there. Skipped, and
/// said so, without a server (a failure when MSGSTORE_REQUIRE_PG=1).
fn run_c_test_on_postgres(file: &'static str, section: Option<&str>) {
    let Some(server) = pg::server() else { return };
    run_c_test_on(file, section, Some(server));
}

fn run_c_test_on(file: &'static str, section: Option<&str>, postgres: Option<&str>) {
    let exe = compiled(file);
    let dir = fresh_test_dir(file, section);
    let stdout_path = dir.join("stdout.txt");
    let stderr_path = dir.join("stderr.txt");
    let mut cmd = if under_valgrind() {
        let mut c = Command::new("valgrind");
        c.args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            "--trace-children=yes",
            "-q",
        ])
        .arg(&exe)
        .env("MSGSTORE_UNDER_VALGRIND", "1");
        c
    } else {
        let mut c = Command::new(&exe);
        c.env_remove("MSGSTORE_UNDER_VALGRIND");
        c
    };
    match postgres {
        Some(uri) => cmd.env("MSGSTORE_TEST_PG", uri),
        None => cmd.env_remove("MSGSTORE_TEST_PG"),
    };
    cmd.args(section)
        .env("MSGSTORE_TEST_DIR", &dir)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("create stdout.txt"))
        .stderr(std::fs::File::create(&stderr_path).expect("create stderr.txt"));
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {shown}: {e}"));
    let what = match section {
        Some(name) => format!("section {name}"),
        None => "(whole program)".to_string(),
    };
    let limit = timeout();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the test program") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => {
            // Keep the output visible with `cargo test -- --nocapture`.
            print!("{out}");
            eprint!("{err}");
            let _ = std::fs::remove_dir_all(&dir);
        }
        Some(s) => panic!(
            "{file} {what} failed ({s}{}):\n{shown}\n--- stdout ---\n{out}\n--- stderr ---\n{err}\n\
             (its files are kept in {})",
            if under_valgrind() && s.code() == Some(99) {
                ", valgrind found errors"
            } else {
                ""
            },
            dir.display()
        ),
        None => panic!(
            "{file} {what} did not finish within {limit:?} and was killed:\n{shown}\n\
             --- stdout ---\n{out}\n--- stderr ---\n{err}"
        ),
    }
}

/// Compiles a translation unit that holds nothing but `#include "msgstore.h"`.
fn header_compiles_alone(lang: Lang, std_flag: &str) {
    let dir = out_dir().join("header-alone");
    std::fs::create_dir_all(&dir).expect("create header-alone/");
    let ext = match lang {
        Lang::C => "c",
        Lang::Cpp => "cpp",
    };
    let tag = std_flag.trim_start_matches("-std=").replace('+', "p");
    let src = dir.join(format!("header_alone_{tag}.{ext}"));
    std::fs::write(&src, "#include \"msgstore.h\"\n").expect("write the header-alone TU");
    let mut cmd = Command::new(lang.compiler());
    cmd.arg(std_flag)
        .args(WARNINGS)
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(dir.join(format!("header_alone_{tag}.o")));
    run_compiler(cmd, &format!("msgstore.h alone ({std_flag})"));
}

#[test]
fn header_compiles_alone_c99() {
    header_compiles_alone(Lang::C, "-std=c99");
}

#[test]
fn header_compiles_alone_cpp17() {
    header_compiles_alone(Lang::Cpp, "-std=c++17");
}

/// Fails if a `.c`/`.cpp` file in `c-tests/` is neither in the `c_tests!` table nor in
/// `SKIPPED`, so that nobody adds a C test that never runs; also catches stale table entries.
#[test]
fn every_c_test_file_has_a_runner_entry() {
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(c_tests_dir()).expect("list c-tests/") {
        let name = entry.expect("read c-tests/").file_name();
        let name = name.to_string_lossy().into_owned();
        if Lang::of(&name).is_none() {
            continue; // helper headers and anything else that is not a program
        }
        found.push(name.clone());
        let listed = C_TESTS.iter().any(|(f, _)| *f == name);
        let skipped = SKIPPED.iter().any(|(f, _)| *f == name);
        if !listed && !skipped {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "c-tests/ files with no entry in the c_tests! table of tests/c_tests.rs (add one line \
         each, or a SKIPPED entry saying why): {missing:?}"
    );
    let stale: Vec<_> = C_TESTS
        .iter()
        .map(|(f, _)| f)
        .filter(|f| !found.iter().any(|n| n == *f))
        .collect();
    assert!(
        stale.is_empty(),
        "c_tests! entries with no file in c-tests/: {stale:?}"
    );
    for (file, _) in SKIPPED {
        assert!(
            !C_TESTS.iter().any(|(f, _)| f == file),
            "{file} is both in the table and skipped"
        );
    }
}

/// Runs each sectioned program's `--list` and fails if it and the `c_tests!` table disagree: a
/// section the table forgot never runs, and a table entry the program lacks fails as a test
/// (exit 2) but is reported here with the fix.
#[test]
fn the_section_tables_match_the_programs() {
    let mut problems = Vec::new();
    for ((file, table), (_, on_postgres)) in C_TESTS.iter().zip(ON_POSTGRES) {
        for s in on_postgres.iter().filter(|s| !table.contains(s)) {
            problems.push(format!(
                "{file}: postgres section {s} is not a section of the program"
            ));
        }
    }
    for (file, table) in C_TESTS {
        if table.is_empty() {
            continue; // run whole, without sections (see its line in the table)
        }
        let exe = compiled(file);
        let dir = fresh_test_dir(file, Some("list"));
        let output = Command::new(&exe)
            .arg("--list")
            .env("MSGSTORE_TEST_DIR", &dir)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("could not run {} --list: {e}", exe.display()));
        let _ = std::fs::remove_dir_all(&dir);
        if !output.status.success() {
            problems.push(format!(
                "{file} --list failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let listed: Vec<&str> = stdout.lines().collect();
        let not_in_table: Vec<_> = listed.iter().filter(|n| !table.contains(n)).collect();
        let not_in_program: Vec<_> = table.iter().filter(|n| !listed.contains(n)).collect();
        if !not_in_table.is_empty() {
            problems.push(format!(
                "{file}: sections missing from the c_tests! table (they never run): \
                 {not_in_table:?}"
            ));
        }
        if !not_in_program.is_empty() {
            problems.push(format!(
                "{file}: sections in the c_tests! table that SECTIONS[] lacks: {not_in_program:?}"
            ));
        }
        if not_in_table.is_empty() && not_in_program.is_empty() && listed != *table {
            problems.push(format!(
                "{file}: the table lists the sections in another order than SECTIONS[] \
                 (program: {listed:?}, table: {table:?})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
