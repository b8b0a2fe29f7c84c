//! Fuzz targets for msgstore's C ABI (see `run.sh`). Every target calls the library the way a
//! C client does — exported functions and vtable slots through the interface structs — with
//! inputs decoded from the fuzz bytes, releases everything it made and checks that nothing is
//! left. The same functions run under libFuzzer (`fuzz_targets/*.rs`) and without it, over a
//! corpus, in the `replay` binary (for valgrind).
#![allow(clippy::missing_safety_doc)]

pub mod common;
pub mod foreign;
pub mod named;
pub mod seeds;
pub mod streams;
pub mod tables;
pub mod targets;
pub mod world;

/// A fuzz target: one input in, and a panic or abort on anything wrong.
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("propdata", targets::propdata),
    ("message", targets::message),
    ("entry_ids", targets::entry_ids),
    ("store_file", targets::store_file),
    ("tables", tables::tables),
    ("named", named::named),
    ("streams", streams::streams),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Set-up for the libFuzzer binaries, on their first input (after libFuzzer installed its
/// handlers). It lets libFuzzer report a stack overflow like any other crash (and save the
/// input): its SIGSEGV handler runs on the overflowed stack unless given an alternate one, and
/// libFuzzer's own `main` never runs Rust's runtime set-up, which would have made one. And it
/// removes the scratch directory when libFuzzer exits.
pub fn report_stack_overflows() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn at_exit() {
        targets::remove_scratch_dir();
    }
    ONCE.call_once(|| {
        // SAFETY: registers a plain function.
        unsafe { libc::atexit(at_exit) };
        const SIZE: usize = 1 << 20;
        let stack = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        // SAFETY: plain libc calls on valid structures; the stack is leaked (lives forever).
        unsafe {
            let ss = libc::stack_t {
                ss_sp: stack.as_mut_ptr() as *mut libc::c_void,
                ss_flags: 0,
                ss_size: SIZE,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
            for sig in [libc::SIGSEGV, libc::SIGBUS] {
                let mut act: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut act) == 0
                    && act.sa_sigaction != libc::SIG_DFL
                {
                    act.sa_flags |= libc::SA_ONSTACK;
                    libc::sigaction(sig, &act, std::ptr::null_mut());
                }
            }
        }
    });
}
