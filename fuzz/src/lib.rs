//! Fuzz harnesses: each takes arbitrary bytes, drives one foldmem input surface, and panics only
//! when an invariant breaks (a panic inside foldmem, a wrong answer, a lossy round trip).
//!
//! The cargo-fuzz targets in `fuzz_targets/` call these; the main crate's
//! `tests/fuzz_regressions.rs` includes this file and replays `fuzz/regressions/<target>/*` on
//! the stable toolchain, so every crash the fuzzer ever found stays a test.

use foldmem::backends::offline::OfflineShape;
use foldmem::backends::offline::OfflineStep;
use foldmem::folding::NovaKeySet;
use foldmem::proof::{ProofFile, ProofFileError, FORMAT_VERSION, MAGIC};
use foldmem::registry::Shape;
use foldmem::trace::{check_stream, write_jsonl, Checker, Op, OpKind, TraceError, TraceReader};
use foldmem::Word;
use std::collections::HashMap;

/// Names of the harnesses, as used for target and regression-directory names.
pub const TARGETS: [&str; 4] = ["trace_parser", "proof_decoder", "params_cache", "checker"];

/// Run harness `name` on `data` (for replaying regression files).
pub fn run(name: &str, data: &[u8]) {
    match name {
        "trace_parser" => trace_parser(data),
        "proof_decoder" => proof_decoder(data),
        "params_cache" => params_cache(data),
        "checker" => checker(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Trace JSONL reader: byte 0 picks the word size, the rest is the file. Every item is an op or
/// a typed error on a line that exists, the reader stops after the first error, accepted values
/// fit the word size, and accepted ops survive a write/read round trip unchanged.
pub fn trace_parser(data: &[u8]) {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let word_bits = foldmem::trace::WORD_BITS[sel as usize % 3];
    let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut ops = Vec::new();
    let mut last = 0;
    let mut errors = 0;
    for item in TraceReader::new(text, word_bits) {
        assert_eq!(errors, 0, "the reader yields nothing after an error");
        match item {
            Ok((line, op)) => {
                assert!(line > last && line <= lines, "line {line} of {lines}");
                assert!(op.value.fits(word_bits), "{} > {word_bits} bits", op.value);
                last = line;
                ops.push(op);
            }
            Err(e) => {
                errors += 1;
                if let Some(line) = e.line() {
                    assert!(line > last && line <= lines, "error line {line} of {lines}");
                }
                let msg = e.to_string();
                assert!(
                    !msg.is_empty() && !msg.contains('\n'),
                    "one-line error: {msg:?}"
                );
            }
        }
    }
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &ops).expect("writing to memory");
    let back: Vec<Op> = TraceReader::new(&buf[..], word_bits)
        .map(|r| r.expect("a written trace re-reads").1)
        .collect();
    assert_eq!(back, ops, "write/read round trip");
}

/// Proof-file decoder. Byte 0 odd: the rest follows a valid magic and version, so the fuzzer
/// spends its time in the header and body; even: the rest is the whole file. Decoding returns a
/// typed error or a proof whose re-encoding is the same bytes (no malleable encodings); a caught
/// panic must come from a dependency (see [`dependency_panics`]).
pub fn proof_decoder(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 1 {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(rest);
        b
    } else {
        rest.to_vec()
    };
    let before = dependency_panics();
    match ProofFile::from_bytes(&bytes) {
        Ok(p) => {
            assert_eq!(p.to_bytes(), bytes, "decoding is canonical");
            assert_eq!(p.header.backend, p.header.shape.backend());
            for (k, v) in p.statement() {
                assert!(!k.is_empty() && !v.contains('\n'));
            }
        }
        Err(ProofFileError::Corrupt(m)) if m == foldmem::proof::PANICKED => assert!(
            dependency_panics() > before,
            "the proof decoder reported a panic that no dependency raised"
        ),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Params-cache loader, with the offline backend's key type. Byte 0 odd: the rest is a cache
/// body whose shape part is replaced by the requested shape's encoding, framed with a valid magic
/// and checksum (so the key decoder is reached); even: the rest is the file.
/// Anything but a genuine cache file must be refused with a reason, never accepted; a caught
/// panic must come from a dependency (see [`dependency_panics`]).
pub fn params_cache(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let entry = Shape::new(OfflineShape { ops_per_step: 1 })
        .expect("a valid shape")
        .cache_entry();
    // odd: a cache body whose shape part is the requested shape's, so the key decoder is reached
    // (the keys start where they did when the body held any shape of this width)
    let bytes = if mode & 1 == 1 {
        let keys = rest.get(entry.tag.len()..).unwrap_or(&[]);
        foldmem::cache::frame(&[entry.tag.as_slice(), keys].concat())
    } else {
        rest.to_vec()
    };
    let before = dependency_panics();
    match foldmem::cache::decode::<NovaKeySet<OfflineStep>>(&bytes, &entry) {
        Ok(_) => panic!("fuzzed bytes accepted as cached parameters"),
        Err(why) if why == foldmem::cache::PANICKED => assert!(
            dependency_panics() > before,
            "the cache decoder reported a panic that no dependency raised"
        ),
        Err(_) => {}
    }
}

/// Panics raised inside dependencies' code (under cargo's `registry/src`) since the process started.
///
/// Both decoders deserialize third-party types (arecibo keys and SNARKs, neptune constants)
/// whose serde impls may assert on malformed input — neptune 13's Poseidon-constants visitor
/// asserts its domain tag is in range (found by `params_cache`, kept in `regressions/`). The
/// decoders catch those and return a typed error. This hook lets such a panic through silently
/// and counts it; any other panic — in foldmem or in the harness — goes to the previous hook
/// (libFuzzer's, which aborts and saves the input), so a bug of ours is still a crash.
pub fn dependency_panics() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_dependency = info
                .location()
                .is_some_and(|l| l.file().contains("/registry/src/"));
            if in_dependency {
                COUNT.fetch_add(1, Ordering::SeqCst);
            } else {
                previous(info);
            }
        }));
    });
    COUNT.load(Ordering::SeqCst)
}

/// Native consistency checker against a `HashMap` model. Three bytes per op: kind, address
/// (16 cells, two of them at the top of the address space), value (small, so reads often agree;
/// 0xff means a full-width 256-bit word). Byte 0 preloads up to 4 cells. The checker must accept
/// exactly the ops the model accepts, report the first bad read with the model's expected value,
/// count like the model, and agree with `check_stream` over the JSONL rendering of the same ops.
pub fn checker(data: &[u8]) {
    let Some((&pre, ops_bytes)) = data.split_first() else {
        return;
    };
    let addr_of = |b: u8| {
        let a = (b % 16) as u64;
        if a >= 14 {
            u64::MAX - (a - 14)
        } else {
            a
        }
    };
    let value_of = |b: u8| {
        if b == 0xff {
            Word([u64::MAX, 1, 0, 1 << 63])
        } else {
            Word::from_u64((b % 4) as u64)
        }
    };
    let mut c = Checker::new();
    let mut model: HashMap<u64, Word> = HashMap::new();
    for i in 0..(pre % 5) {
        let (a, v) = (addr_of(i.wrapping_mul(37) ^ pre), value_of(pre >> i));
        c.preload(a, v);
        model.insert(a, v);
    }
    let preloaded = model.clone();
    let kinds = [OpKind::Read, OpKind::Write, OpKind::Push, OpKind::Pop];
    let ops: Vec<Op> = ops_bytes
        .chunks_exact(3)
        .map(|b| Op {
            kind: kinds[(b[0] % 4) as usize],
            addr: addr_of(b[1]),
            value: value_of(b[2]),
        })
        .collect();
    let (mut reads, mut writes) = (0u64, 0u64);
    let mut first_bad = None;
    let mut touched: std::collections::HashSet<u64> = preloaded.keys().copied().collect();
    for (i, op) in ops.iter().enumerate() {
        let expected = model.get(&op.addr).copied().unwrap_or(Word::ZERO);
        let result = c.apply(i + 1, op);
        touched.insert(op.addr);
        if op.kind.is_write() {
            assert_eq!(result, Ok(()), "writes are always accepted");
            model.insert(op.addr, op.value);
            writes += 1;
        } else if op.value == expected {
            assert_eq!(result, Ok(()), "op {}: consistent read refused", i + 1);
            reads += 1;
        } else {
            assert_eq!(
                result,
                Err(TraceError::Inconsistent {
                    line: i + 1,
                    addr: op.addr,
                    got: op.value,
                    expected,
                })
            );
            first_bad = Some(i);
            break;
        }
    }
    if first_bad.is_none() {
        let s = c.stats();
        assert_eq!((s.ops, s.reads, s.writes), (reads + writes, reads, writes));
        assert_eq!(s.distinct_addrs, touched.len() as u64);
    }
    if preloaded.is_empty() {
        // the same ops through the JSONL renderer, reader and stream checker
        let mut buf = Vec::new();
        write_jsonl(&mut buf, &ops).expect("writing to memory");
        let streamed = check_stream(TraceReader::new(&buf[..], 256));
        match first_bad {
            None => assert_eq!(streamed.map(|s| s.ops), Ok(ops.len() as u64)),
            Some(i) => assert!(
                matches!(streamed, Err(TraceError::Inconsistent { line, .. }) if line == i + 1)
            ),
        }
    }
}
