//! Runs a fuzz target over corpus files without libFuzzer: `replay TARGET PATH...` (a PATH may
//! be a directory: every file in it, in name order). Built with the same flags as the fuzz
//! targets, so the coverage hooks the instrumentation calls are defined here as no-ops. A
//! panic anywhere — in the library or in the harness's checks — aborts, as under libFuzzer.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: replay TARGET PATH... | replay --make-seeds DIR");
        std::process::exit(2);
    };
    if name == "--make-seeds" {
        let dir = PathBuf::from(args.next().expect("usage: replay --make-seeds DIR"));
        msgstore_fuzz::seeds::write_store_seeds(&dir);
        msgstore_fuzz::targets::remove_scratch_dir();
        return;
    }
    let Some(run) = msgstore_fuzz::target(&name) else {
        eprintln!("replay: unknown target {name}");
        std::process::exit(2);
    };
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        std::process::abort();
    }));
    let mut files: Vec<PathBuf> = Vec::new();
    for a in args {
        let p = PathBuf::from(a);
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("corpus directory")
                .map(|e| e.expect("directory entry").path())
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p);
        }
    }
    for f in &files {
        let data = std::fs::read(f).expect("corpus file");
        run(&data);
    }
    msgstore_fuzz::targets::remove_scratch_dir();
    println!("replay {name}: {} inputs, no failure", files.len());
}

/// The coverage hooks `-Cpasses=sancov-module` makes instrumented code call (libFuzzer defines
/// them in the fuzz targets); here they do nothing.
#[cfg(fuzzing)]
mod sancov_stubs {
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_8bit_counters_init(_: *mut u8, _: *mut u8) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_pcs_init(_: *const usize, _: *const usize) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_cmp1(_: u8, _: u8) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_cmp2(_: u16, _: u16) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_cmp4(_: u32, _: u32) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_cmp8(_: u64, _: u64) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_const_cmp1(_: u8, _: u8) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_const_cmp2(_: u16, _: u16) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_const_cmp4(_: u32, _: u32) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_const_cmp8(_: u64, _: u64) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_switch(_: u64, _: *const u64) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_div4(_: u32) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_div8(_: u64) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_gep(_: usize) {}
    #[no_mangle]
    pub extern "C" fn __sanitizer_cov_trace_pc_indir(_: usize) {}
}
