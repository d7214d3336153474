//! Proof-file tests: round trip, and rejection of flipped bytes in every region, truncation,
//! foreign parameters and a mismatching trace.

use foldmem::backends::merkle::MerkleShape;
use foldmem::backends::merkle::MerkleStep;
use foldmem::pipeline::{self, Keys};
use foldmem::proof::{ProofFile, ProofFileError};
use foldmem::registry::{Body, Shape};
use foldmem::trace::TraceError;
use foldmem::tree::TreeParams;
use foldmem::Error;
use foldmem::Op;
use std::sync::OnceLock;

fn step(k: usize) -> Shape {
    Shape::new(MerkleShape {
        tree: TreeParams::new(10, 4).unwrap(),
        ops_per_step: k,
    })
    .unwrap()
}

fn keys(k: usize) -> &'static Keys {
    static K2: OnceLock<Keys> = OnceLock::new();
    static K1: OnceLock<Keys> = OnceLock::new();
    let cell = if k == 2 { &K2 } else { &K1 };
    cell.get_or_init(|| pipeline::keys(step(k), &foldmem::backend::KeyOptions::none()).unwrap())
}

fn merkle_outputs(f: &ProofFile) -> foldmem::backends::merkle::MerkleOutputs {
    match &f.body {
        Body::Merkle(p) => p.outputs,
        _ => panic!("merkle proof expected"),
    }
}

fn outputs_mut(f: &mut ProofFile) -> &mut foldmem::backends::merkle::MerkleOutputs {
    match &mut f.body {
        Body::Merkle(p) => &mut p.outputs,
        _ => panic!("merkle proof expected"),
    }
}

fn ops() -> Vec<Op> {
    vec![
        Op::write(1000, 5u64),
        Op::read(1000, 5u64),
        Op::write(3, 1u64),
        Op::read(4, 0u64),
        Op::read(3, 1u64),
    ]
}

fn stream(ops: &[Op]) -> Vec<Result<(usize, Op), TraceError>> {
    foldmem::trace::numbered(ops).collect()
}

fn proof() -> &'static (ProofFile, Vec<u8>) {
    static P: OnceLock<(ProofFile, Vec<u8>)> = OnceLock::new();
    P.get_or_init(|| {
        let (f, _) = pipeline::prove_stream(keys(2), 64, stream(&ops()), |_| {}).unwrap();
        let b = f.to_bytes();
        (f, b)
    })
}

fn verify_bytes(bytes: &[u8]) -> Result<(), Error> {
    let f = ProofFile::from_bytes(bytes)?;
    pipeline::verify_proof(keys(2), &f, Some(stream(&ops())))
}

#[test]
fn round_trip_verifies_with_and_without_trace() {
    let (_, bytes) = proof();
    verify_bytes(bytes).unwrap();
    let f = ProofFile::from_bytes(bytes).unwrap();
    pipeline::verify_proof(keys(2), &f, None::<Vec<_>>).unwrap();
    assert!(
        bytes.len() < 20_000,
        "compressed proof is small: {}",
        bytes.len()
    );
}

#[test]
fn flipped_bytes_in_every_region_are_rejected() {
    let (f, bytes) = proof();
    let header_len = bincode::serialized_size(&f.header).unwrap() as usize;
    let outputs_len = 4 + bincode::serialized_size(&merkle_outputs(f)).unwrap() as usize; // body tag + outputs
                                                                                          // header: every byte; outputs: every byte; SNARK body: a spread sample
    let mut positions: Vec<usize> = (0..header_len + outputs_len).collect();
    positions.extend((header_len + outputs_len..bytes.len()).step_by(173));
    positions.push(bytes.len() - 1);
    for pos in positions {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let err = verify_bytes(&b).expect_err(&format!("flip at byte {pos} accepted"));
        if pos < 8 {
            assert_eq!(err.to_string(), ProofFileError::BadMagic.to_string());
        } else if pos < 10 {
            assert!(
                matches!(err, Error::ProofFile(ref m) if m.to_string().contains("version")),
                "{pos}: {err}"
            );
        } else if (header_len - 32..header_len).contains(&pos) {
            assert!(
                matches!(err, Error::Mismatch(ref m) if m.contains("digest")),
                "{pos}: {err}"
            );
        } else if pos < header_len {
            // backend tag or shape: undecodable, inconsistent, or naming other parameters
            assert!(
                matches!(err, Error::Mismatch(_) | Error::ProofFile(_)),
                "{pos}: {err}"
            );
        } else {
            // outputs or SNARK body
            assert!(
                matches!(
                    err,
                    Error::Verify(_) | Error::Invalid(_) | Error::ProofFile(_)
                ),
                "{pos}: {err}"
            );
        }
    }
}

#[test]
fn truncated_files_are_typed_errors() {
    let (_, bytes) = proof();
    for len in [0, 5, 9, 40, 200, bytes.len() / 2, bytes.len() - 1] {
        let err = ProofFile::from_bytes(&bytes[..len])
            .err()
            .unwrap_or_else(|| panic!("truncation to {len} accepted"));
        match len {
            0..=7 => assert_eq!(err, ProofFileError::BadMagic),
            _ => assert!(matches!(err, ProofFileError::Corrupt(_)), "{len}: {err}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(
        matches!(
            ProofFile::from_bytes(&longer),
            Err(ProofFileError::Corrupt(_))
        ),
        "trailing bytes"
    );
}

#[test]
fn proof_under_other_params_is_rejected() {
    let (f, _) = proof();
    // the keys of another k refuse the header outright
    let err = pipeline::verify_proof(keys(1), f, None::<Vec<_>>).unwrap_err();
    assert!(
        matches!(err, Error::Mismatch(ref m) if m.contains("proof is for ops_per_step 2 (expected 1)")),
        "{err}"
    );
    // a header rewritten to claim the other params (with their digest) fails in the SNARK
    let mut forged = f.clone();
    forged.header.shape = step(1);
    forged.header.params_digest = keys(1).digest();
    let err = pipeline::verify_proof(keys(1), &forged, None::<Vec<_>>).unwrap_err();
    assert!(invalid(&err, "does not verify"), "{err}");
    // a wrong digest with the right shape is caught before the SNARK
    let mut forged = f.clone();
    forged.header.params_digest[0] ^= 1;
    let err = pipeline::verify_proof(keys(2), &forged, None::<Vec<_>>).unwrap_err();
    assert!(
        matches!(err, Error::Mismatch(ref m) if m.contains("digest")),
        "{err}"
    );
}

#[test]
fn other_trace_is_rejected() {
    let (f, _) = proof();
    let mut other = ops();
    other[2] = Op::write(3, 2u64);
    other[4] = Op::read(3, 2u64);
    let err = pipeline::verify_proof(keys(2), f, Some(stream(&other))).unwrap_err();
    assert!(invalid(&err, "trace hash"), "{err}");
    let err = pipeline::verify_proof(keys(2), f, Some(stream(&ops()[..4]))).unwrap_err();
    assert!(invalid(&err, "4 ops"), "{err}");
}

#[test]
fn tampered_outputs_are_rejected() {
    use ff::Field;
    let (f, _) = proof();
    let mut t = f.clone();
    outputs_mut(&mut t).initial_root += foldmem::F::ONE;
    assert!(pipeline::verify_proof(keys(2), &t, None::<Vec<_>>)
        .is_err_and(|e| invalid(&e, "initial root")));
    let mut t = f.clone();
    outputs_mut(&mut t).final_root += foldmem::F::ONE;
    assert!(pipeline::verify_proof(keys(2), &t, None::<Vec<_>>)
        .is_err_and(|e| invalid(&e, "final root")));
    let mut t = f.clone();
    outputs_mut(&mut t).op_count += 1;
    assert!(
        pipeline::verify_proof(keys(2), &t, None::<Vec<_>>).is_err_and(|e| invalid(&e, "op count"))
    );
    let mut t = f.clone();
    outputs_mut(&mut t).word_bits = 32; // the word size seeds the trace hash, so it is part of the statement
    assert!(pipeline::verify_proof(keys(2), &t, None::<Vec<_>>)
        .is_err_and(|e| invalid(&e, "does not verify")));
    let mut t = f.clone();
    outputs_mut(&mut t).trace_hash += foldmem::F::ONE;
    assert!(pipeline::verify_proof(keys(2), &t, None::<Vec<_>>)
        .is_err_and(|e| invalid(&e, "trace hash")));
}

#[test]
fn cache_is_read_only_when_vouched_for() {
    use foldmem::backend::{KeyOptions, KeySource};
    use foldmem::backends::merkle::MerkleKeys;
    use foldmem::folding::NovaKeySet;
    let dir = std::env::temp_dir().join(format!("foldmem-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = step(1);
    let a = pipeline::keys(s, &KeyOptions::cached(&dir)).unwrap();
    assert_eq!(a.source, KeySource::Generated);
    assert!(
        foldmem::cache::path(&dir, &s.cache_entry()).exists(),
        "written for later runs"
    );
    // not a default shape and nothing pinned: the cache file is not read
    let b = pipeline::keys(s, &KeyOptions::cached(&dir)).unwrap();
    assert_eq!(b.source, KeySource::Generated);
    // pinned by digest: read, and vouched for
    let pinned = KeyOptions {
        pinned: Some(a.digests()),
        ..KeyOptions::cached(&dir)
    };
    let c = pipeline::keys(s, &pinned).unwrap();
    assert_eq!(c.source, KeySource::CachePinned);
    assert_eq!(c.digests(), a.digests());
    // a substituted file (another circuit's consistent keys, framed for this shape): refused
    let other = pipeline::keys(step(2), &KeyOptions::none()).unwrap();
    let other_keys: &NovaKeySet<MerkleStep> = &other.downcast::<MerkleKeys>().unwrap().keys;
    std::fs::write(
        foldmem::cache::path(&dir, &s.cache_entry()),
        foldmem::cache::encode(&s.cache_entry(), other_keys).unwrap(),
    )
    .unwrap();
    let d = pipeline::keys(s, &pinned).unwrap();
    assert_eq!(d.source, KeySource::Generated, "substitute regenerated");
    assert_eq!(d.digests(), a.digests());
    // corruption is reported and regenerated, never trusted
    let path = foldmem::cache::path(&dir, &s.cache_entry());
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    assert!(
        foldmem::cache::load::<NovaKeySet<MerkleStep>>(&dir, &s.cache_entry())
            .err()
            .unwrap()
            .contains("checksum")
    );
    let e = pipeline::keys(s, &pinned).unwrap();
    assert_eq!(e.source, KeySource::Generated);
    assert_eq!(e.digests(), a.digests());
    std::fs::write(&path, b"garbage").unwrap();
    assert!(
        foldmem::cache::load::<NovaKeySet<MerkleStep>>(&dir, &s.cache_entry())
            .err()
            .unwrap()
            .contains("not a params cache")
    );
    // a pin this build cannot produce is a parameter mismatch (exit 7), not a silent regeneration
    let mut wrong = a.digests();
    wrong.vk[0] ^= 1;
    let err = pipeline::keys(
        s,
        &KeyOptions {
            pinned: Some(wrong),
            ..KeyOptions::none()
        },
    )
    .err()
    .unwrap();
    assert_eq!(err.exit_code(), 7, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn whole_trace_backends_refuse_bad_ops_with_their_line() {
    // offline and halo2 buffer the trace first; the checks still name the line
    for shape in [
        Shape::new(foldmem::backends::offline::OfflineShape { ops_per_step: 4 }).unwrap(),
        Shape::new(foldmem::backends::halo2::Halo2Shape { k: 9 }).unwrap(),
    ] {
        let opts = foldmem::backend::KeyOptions::none()
            .with(Some(foldmem::backends::halo2::Halo2Params::InsecureDev));
        let keys = pipeline::keys(shape, &opts).unwrap();
        let wide = vec![
            Ok((1, Op::write(1, 7u64))),
            Ok((3, Op::write(2, 1u64 << 40))),
        ];
        let err = pipeline::prove_stream(&keys, 32, wide, |_| {})
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::Input(ref m) if m.starts_with("line 3: value 1099511627776 does not fit")),
            "{err}"
        );
        let bad = vec![Ok((1, Op::write(1, 7u64))), Ok((2, Op::read(1, 8u64)))];
        let err = pipeline::prove_stream(&keys, 64, bad, |_| {})
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "line 2: read of 0x1 returned 8, last written 7"
        );
    }
}

/// `e` is an invalid proof (exit 1) whose message names `what`.
fn invalid(e: &Error, what: &str) -> bool {
    e.exit_code() == 1 && e.to_string().contains(what)
}
