#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    msgstore_fuzz::report_stack_overflows();
    msgstore_fuzz::streams::streams(data)
});
