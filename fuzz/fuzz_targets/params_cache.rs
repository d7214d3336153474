//! libFuzzer entry point of the `params_cache` harness (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| foldmem_fuzz::params_cache(data));
