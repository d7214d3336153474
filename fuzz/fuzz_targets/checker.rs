//! libFuzzer entry point of the `checker` harness (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| foldmem_fuzz::checker(data));
