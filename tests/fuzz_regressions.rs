//! The fuzz harnesses on the stable toolchain: every saved crash and seed under
//! `fuzz/regressions/<target>/` and `fuzz/seeds/<target>/` is replayed, then a few thousand
//! seeded mutations of the seeds run per target (a smoke test; the real fuzzing is
//! `cargo +nightly fuzz run <target>`, see `fuzz/README.md`).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use rand::{Rng, SeedableRng};
use std::path::PathBuf;

fn files(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn saved_inputs_replay_cleanly() {
    let mut total = 0;
    for target in harness::TARGETS {
        let seeds = files("seeds", target);
        assert!(!seeds.is_empty(), "{target} has seeds");
        for (path, bytes) in seeds.iter().chain(&files("regressions", target)) {
            let r = std::panic::catch_unwind(|| harness::run(target, bytes));
            assert!(r.is_ok(), "{target} fails on {}", path.display());
            total += 1;
        }
    }
    assert!(total >= harness::TARGETS.len());
    // the saved params-cache crash still reaches neptune's panic, now caught and typed
    let before = harness::dependency_panics();
    for (_, bytes) in files("regressions", "params_cache") {
        harness::params_cache(&bytes);
    }
    assert!(harness::dependency_panics() > before);
    // the proof seeds are real proof files of every backend, so mutations start from valid input
    let raw: Vec<_> = files("seeds", "proof_decoder")
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().ends_with("_raw"))
        .collect();
    assert_eq!(raw.len(), 4, "one proof per backend");
    for (path, bytes) in raw {
        let f = foldmem::proof::ProofFile::from_bytes(&bytes[1..])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(f.op_count(), 5);
    }
}

#[test]
fn seeded_mutations_hold_every_invariant() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xf022);
    for target in harness::TARGETS {
        let seeds = files("seeds", target);
        let rounds = if target == "proof_decoder" { 600 } else { 3000 };
        for round in 0..rounds {
            let (_, seed) = &seeds[round % seeds.len()];
            let mut b = seed.clone();
            for _ in 0..rng.gen_range(1..4) {
                match rng.gen_range(0..4) {
                    0 if !b.is_empty() => {
                        let i = rng.gen_range(0..b.len());
                        b[i] ^= 1 << rng.gen_range(0..8);
                    }
                    1 if !b.is_empty() => {
                        let i = rng.gen_range(0..b.len());
                        b[i] = rng.gen();
                    }
                    2 => {
                        let i = rng.gen_range(0..=b.len());
                        b.insert(i, rng.gen());
                    }
                    _ => {
                        let n = rng.gen_range(0..=b.len());
                        b.truncate(n);
                    }
                }
            }
            let r = std::panic::catch_unwind(|| harness::run(target, &b));
            assert!(r.is_ok(), "{target} round {round} fails on {b:?}");
        }
    }
}
