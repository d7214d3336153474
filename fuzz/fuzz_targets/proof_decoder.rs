//! libFuzzer entry point of the `proof_decoder` harness (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| foldmem_fuzz::proof_decoder(data));
