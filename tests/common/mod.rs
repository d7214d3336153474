//! Fixtures the integration tests share: the honest trace, keys made once per shape, how a
//! failure is classified, scratch directories, and re-typing serde values for forging provers.
#![allow(dead_code)]

use foldmem::backend::{KeyOptions, TraceItem};
use foldmem::backends::halo2::Halo2Params;
use foldmem::pipeline::{self, Keys};
use foldmem::registry::{AnyShape, Shape};
use foldmem::{Error, Op};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Word size of every fixture trace.
pub const WORD_BITS: u32 = 64;

/// The honest trace most tests start from: reads of written and unwritten cells, overwrites.
pub fn ops() -> Vec<Op> {
    vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::read(200, 0u64),
        Op::write(200, 1u64),
        Op::read(3, 7u64),
        Op::write(9, 5u64),
        Op::read(200, 1u64),
        Op::read(9, 5u64),
    ]
}

/// `ops` as the numbered items a trace reader yields.
pub fn items(ops: &[Op]) -> Vec<TraceItem> {
    foldmem::trace::numbered(ops).collect()
}

/// Key options of the tests: no cache; Halo2 on its insecure dev parameters, chosen explicitly.
pub fn opts() -> KeyOptions {
    KeyOptions::none().with(Some(Halo2Params::InsecureDev))
}

/// Keys of `shape`, made once per test binary (setup is the slow part of most tests).
pub fn keys(shape: impl Into<AnyShape>) -> &'static Keys {
    static KEYS: Mutex<Option<HashMap<String, &'static Keys>>> = Mutex::new(None);
    let shape = Shape::new(shape).expect("a test shape is valid");
    let name = shape.cache_name();
    if let Some(k) = KEYS
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .get(&name)
    {
        return k;
    }
    // made outside the lock: tests of other shapes need not wait for this one
    let made: &'static Keys = Box::leak(Box::new(pipeline::keys(shape, &opts()).unwrap()));
    let mut keys = KEYS.lock().unwrap();
    let cached: &&'static Keys = keys
        .get_or_insert_with(HashMap::new)
        .entry(name)
        .or_insert(made);
    cached
}

/// `exit N: message`, the way the CLI classifies a failure.
pub fn reason(e: Error) -> String {
    format!("exit {}: {e}", e.exit_code())
}

/// The reason `r` was rejected; panics, naming `what`, if it was accepted.
pub fn rejected(r: Result<(), String>, what: &str) -> String {
    r.err().unwrap_or_else(|| panic!("{what}: accepted"))
}

/// Path `name` in this test process's scratch directory.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("foldmem-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Re-type a serde value (public parameters, keys and proofs are generic over the step circuit
/// only through a marker): how a forging prover reuses the honest parameters for its own circuit
/// type, which synthesizes the same constraints with the attacker's witness.
pub fn retype<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    bincode::deserialize(&bincode::serialize(a).expect("encodes")).expect("same layout")
}
