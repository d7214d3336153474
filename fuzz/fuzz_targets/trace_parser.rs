//! libFuzzer entry point of the `trace_parser` harness (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| foldmem_fuzz::trace_parser(data));
