//! End-to-end tests of the streaming backend: fold segment by segment, compress, verify; refuse
//! inconsistent ops; tampered claims are rejected.

use ff::Field;
use foldmem::backend::KeyOptions;
use foldmem::backends::stream::{self, StreamKeys, StreamOptions, StreamProver, StreamShape};
use foldmem::error::VerifyError;
use foldmem::pipeline;
use foldmem::registry::Shape;
use foldmem::{Op, F};
use std::sync::OnceLock;

fn shape() -> StreamShape {
    StreamShape {
        ops_per_step: 4,
        boundary_slots: 3,
        time_bits: 16,
    }
}

fn keys() -> &'static pipeline::Keys {
    static K: OnceLock<pipeline::Keys> = OnceLock::new();
    K.get_or_init(|| pipeline::keys(Shape::new(shape()).unwrap(), &KeyOptions::none()).unwrap())
}

fn st() -> &'static StreamKeys {
    keys().downcast::<StreamKeys>().unwrap()
}

fn ops() -> Vec<Op> {
    vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::read(200, 0u64),
        Op::write(200, 1u64),
        Op::read(3, 7u64),
        Op::write(9, 5u64),
        Op::read(200, 1u64),
        Op::write(3, 8u64),
        Op::read(9, 5u64),
        Op::read(3, 8u64),
    ]
}

fn prove(ops: &[Op], segment_ops: usize) -> stream::Finished {
    let opts = StreamOptions {
        segment_ops,
        ..StreamOptions::default()
    };
    let mut p = StreamProver::new(st(), 64, &opts).unwrap();
    for (i, op) in ops.iter().enumerate() {
        p.push(i + 1, op).unwrap();
    }
    p.finish(true).unwrap()
}

#[test]
fn segments_fold_compress_and_verify() {
    let f = prove(&ops(), 4);
    assert_eq!(f.segments, 3);
    assert_eq!(f.outputs.op_count, 10);
    assert_eq!(f.outputs.trace_hash, stream::trace_hash(ops(), 64, 4).1);
    stream::verify_folded(&st().keys.pp, &shape(), &f.snark, &f.outputs).unwrap();
    let c = st().keys.compress(&f.snark).unwrap();
    stream::verify_compressed(st(), &c, &f.outputs).unwrap();
    // tampered claims
    let mut o = f.outputs;
    o.trace_hash += F::ONE;
    assert_eq!(
        stream::verify_compressed(st(), &c, &o),
        Err(VerifyError::OutputMismatch("final state"))
    );
    let mut o = f.outputs;
    o.op_count -= 1;
    assert!(stream::verify_compressed(st(), &c, &o).is_err());
    let mut o = f.outputs;
    o.audited = false;
    assert!(matches!(
        stream::verify_compressed(st(), &c, &o),
        Err(VerifyError::Statement(m)) if m.starts_with("audit")
    ));
    // one segment for the whole trace proves the same statement
    let g = prove(&ops(), 12);
    assert_eq!(g.outputs, f.outputs);
}

#[test]
fn an_inconsistent_op_is_refused_with_its_line() {
    let mut o = ops();
    o[6] = Op::read(200, 2u64);
    let mut p = StreamProver::new(
        st(),
        64,
        &StreamOptions {
            segment_ops: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let mut err = None;
    for (i, op) in o.iter().enumerate() {
        if let Err(e) = p.push(i + 1, op) {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("refused when its segment completes");
    assert_eq!(e.exit_code(), 4);
    assert!(
        e.to_string()
            .contains("line 7: read of 0xc8 returned 2, last written 1"),
        "{e}"
    );
}

fn part(
    ops: &[Op],
    index: usize,
    count: usize,
    audit_everywhere: bool,
) -> foldmem::proof::ProofFile {
    let run = stream::StreamRun {
        segment_ops: Some(4),
        range: Some(stream::RangeSpec {
            index,
            count,
            total_ops: ops.len() as u64,
        }),
        ..Default::default()
    };
    let opts = foldmem::backend::Own::of(run.clone());
    if audit_everywhere && index + 1 < count {
        // a forging prover that audits a part before the last (resetting memory twice)
        let (lo, hi, _) = stream::range_bounds(run.range.as_ref().unwrap(), 4).unwrap();
        let mut n = stream::Native::new(shape(), 64);
        for (i, op) in ops[..lo as usize].iter().enumerate() {
            n.replay(i + 1, op).unwrap();
        }
        n.set_trace_hash(stream::trace_hash(ops[..lo as usize].iter().copied(), 64, 4).1);
        let mut p = StreamProver::from_native(
            st(),
            n,
            &StreamOptions {
                segment_ops: 4,
                ..Default::default()
            },
        )
        .unwrap();
        for (i, op) in ops[lo as usize..hi as usize].iter().enumerate() {
            p.push(lo as usize + i + 1, op).unwrap();
        }
        let f = p.finish(true).unwrap();
        let snark = st().keys.compress(&f.snark).unwrap();
        let mut file =
            pipeline::prove_with(keys(), 64, foldmem::trace::numbered(ops), &opts, |_| {})
                .unwrap()
                .0;
        file.body = foldmem::registry::Body::Stream(stream::StreamProof {
            outputs: f.outputs,
            snark,
        });
        return file;
    }
    pipeline::prove_with(keys(), 64, foldmem::trace::numbered(ops), &opts, |_| {})
        .unwrap()
        .0
}

fn verify_parts(parts: &[foldmem::proof::ProofFile]) -> Result<(), String> {
    pipeline::verify_parts(keys(), parts, Some(foldmem::trace::numbered(&ops())))
        .map_err(|e| e.to_string())
}

#[test]
fn continuations_chain_and_every_broken_chain_is_refused() {
    let o = ops();
    let parts: Vec<_> = (0..3).map(|i| part(&o, i, 3, false)).collect();
    verify_parts(&parts).unwrap();
    // a single part, or the parts in another order, do not chain
    let start = "the claim is not an accepted statement: range start";
    for bad in [
        vec![parts[1].clone(), parts[0].clone(), parts[2].clone()], // reordered
        vec![parts[0].clone(), parts[2].clone()],                   // a gap (middle dropped)
        vec![
            parts[0].clone(),
            parts[1].clone(),
            parts[1].clone(),
            parts[2].clone(),
        ], // overlap
    ] {
        let e = verify_parts(&bad).unwrap_err();
        assert!(e.contains(start), "{e}");
    }
    // every part but the last ends before the audit: a part that also audits is refused
    let twice = vec![part(&o, 0, 3, true), parts[1].clone(), parts[2].clone()];
    let e = verify_parts(&twice).unwrap_err();
    assert!(e.contains("audit (exactly the last part audits)"), "{e}");
    // the last part alone is not a proof of the trace
    let e = pipeline::verify_proof(keys(), &parts[2], None::<Vec<_>>).unwrap_err();
    assert!(e.to_string().contains("start state"), "{e}");
    // parts of another trace
    let mut other = ops();
    other[9] = Op::read(3, 8u64);
    other[8] = Op::write(9, 6u64);
    let e =
        pipeline::verify_parts(keys(), &parts, Some(foldmem::trace::numbered(&other))).unwrap_err();
    assert!(e.to_string().contains("trace hash"), "{e}");
}

#[test]
fn a_prover_chosen_start_state_is_refused() {
    // part 1 proven from a start the verifier does not build (memory replayed without the
    // prefix's last write): its start is not part 0's end
    let o = ops();
    let p0 = part(&o, 0, 2, false);
    let mut n = stream::Native::new(shape(), 64);
    for (i, op) in o[..4].iter().enumerate() {
        n.replay(i + 1, op).unwrap();
    }
    // the forger claims the hash after 4 other ops
    n.set_trace_hash(stream::trace_hash(o[1..5].iter().copied(), 64, 4).1);
    let mut p = StreamProver::from_native(
        st(),
        n,
        &StreamOptions {
            segment_ops: 4,
            ..Default::default()
        },
    )
    .unwrap();
    for (i, op) in o[4..].iter().enumerate() {
        p.push(5 + i, op).unwrap();
    }
    let f = p.finish(true).unwrap();
    let mut p1 = p0.clone();
    p1.body = foldmem::registry::Body::Stream(stream::StreamProof {
        outputs: f.outputs,
        snark: st().keys.compress(&f.snark).unwrap(),
    });
    let e = verify_parts(&[p0, p1]).unwrap_err();
    assert!(e.contains("range start"), "{e}");
}

/// Verifier-only keys: with the digests pinned, a verifier loads the cached verifier key alone
/// (no circuits, no commitment keys) and checks proofs exactly as the full keys do; a cached
/// key whose bytes are not the pinned one is never used; such keys refuse to prove.
#[test]
fn a_verifier_loads_the_pinned_verifier_key_alone_and_checks_the_same() {
    let dir = std::env::temp_dir().join(format!("foldmem-vk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = Shape::new(shape()).unwrap();
    let verifier = KeyOptions {
        pinned: Some(keys().digests()),
        verifier_only: true,
        ..KeyOptions::cached(&dir)
    };
    // nothing cached yet: the full keys, whose verifier key is cached for the next verifier
    let first = pipeline::keys(s, &verifier).unwrap();
    assert!(first.downcast::<StreamKeys>().unwrap().keys.can_prove());
    let vk_file = foldmem::cache::verifier_key_path(&dir, &s.cache_entry());
    assert!(vk_file.exists());
    let v = pipeline::keys(s, &verifier).unwrap();
    let vs = v.downcast::<StreamKeys>().unwrap();
    assert!(!vs.keys.can_prove(), "the full keys were loaded");
    assert_eq!(v.digests(), keys().digests());
    // the same verdicts as the full keys: an honest proof, a tampered claim, another trace
    let file = pipeline::prove_with(
        keys(),
        64,
        foldmem::trace::numbered(&ops()),
        &Default::default(),
        |_| {},
    )
    .unwrap()
    .0;
    pipeline::verify_proof(&v, &file, Some(foldmem::trace::numbered(&ops()))).unwrap();
    let mut other = ops();
    other[0] = Op::write(3, 6u64);
    other[1] = Op::read(3, 6u64);
    other[4] = Op::read(3, 6u64);
    let err =
        pipeline::verify_proof(&v, &file, Some(foldmem::trace::numbered(&other))).unwrap_err();
    assert!(err.to_string().contains("trace hash"), "{err}");
    // a flipped byte in the SNARK (the last byte that still decodes): invalid, exit 1
    let bytes = file.to_bytes();
    let tampered = (1..bytes.len() / 2)
        .find_map(|back| {
            let mut b = bytes.clone();
            b[bytes.len() - back] ^= 1;
            foldmem::proof::ProofFile::from_bytes(&b).ok()
        })
        .expect("some flipped byte still decodes");
    let err = pipeline::verify_proof(&v, &tampered, None::<Vec<_>>).unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    // they cannot prove
    let err = match pipeline::prove_with(
        &v,
        64,
        foldmem::trace::numbered(&ops()),
        &Default::default(),
        |_| {},
    ) {
        Ok(_) => panic!("verifier-only keys proved"),
        Err(e) => e,
    };
    assert!(err.to_string().contains("verify only"), "{err}");
    // a cached verifier key whose bytes are another key's (a valid frame, the right tag): the
    // SHA3 differs from the pinned digest, so the full keys are loaded instead
    let other_shape = Shape::new(StreamShape {
        ops_per_step: 2,
        ..shape()
    })
    .unwrap();
    let other_keys = pipeline::keys(other_shape, &KeyOptions::none()).unwrap();
    foldmem::cache::store_verifier_key(
        &dir,
        &s.cache_entry(),
        other_keys
            .downcast::<StreamKeys>()
            .unwrap()
            .keys
            .vk()
            .unwrap(),
    )
    .unwrap();
    let k = pipeline::keys(s, &verifier).unwrap();
    assert!(k.downcast::<StreamKeys>().unwrap().keys.can_prove());
    assert_eq!(k.digests(), keys().digests());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_prover_parks_its_verifier_key_in_the_cache_and_checks_its_proof_with_it() {
    let dir = std::env::temp_dir().join(format!("foldmem-park-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = Shape::new(shape()).unwrap();
    let prover = KeyOptions::cached(&dir);
    let prove_with = |k: &pipeline::Keys| {
        pipeline::prove_with(
            k,
            64,
            foldmem::trace::numbered(&ops()),
            &Default::default(),
            |_| {},
        )
    };
    // parked: out of memory, in the cache's verifier-key file, the digests unchanged
    let k = pipeline::keys(s, &prover).unwrap();
    let ks = &k.downcast::<StreamKeys>().unwrap().keys;
    assert!(ks.vk().is_none(), "the verifier key stayed in memory");
    let entry = s.cache_entry();
    assert_eq!(
        foldmem::cache::open_verifier_key(&dir, &entry)
            .unwrap()
            .map(|(_, d)| d),
        Some(keys().digests().vk)
    );
    assert_eq!(k.digests(), keys().digests());
    // the check before writing reads it back, and the proof verifies with the full keys
    let file = prove_with(&k).unwrap().0;
    assert!(ks.vk().is_some());
    pipeline::verify_proof(keys(), &file, Some(foldmem::trace::numbered(&ops()))).unwrap();
    // the path replaced (another build's key renamed over it) or removed while proving: the
    // prover holds the parked file open and still checks with its own key
    let other = pipeline::keys(
        Shape::new(StreamShape {
            ops_per_step: 2,
            ..shape()
        })
        .unwrap(),
        &KeyOptions::none(),
    )
    .unwrap();
    let other_vk = other.downcast::<StreamKeys>().unwrap().keys.vk().unwrap();
    let vk_file = foldmem::cache::verifier_key_path(&dir, &entry);
    let k = pipeline::keys(s, &prover).unwrap();
    assert!(k.downcast::<StreamKeys>().unwrap().keys.vk().is_none());
    foldmem::cache::store_verifier_key(&dir, &entry, other_vk).unwrap();
    prove_with(&k).unwrap();
    let k = pipeline::keys(s, &prover).unwrap();
    std::fs::remove_file(&vk_file).unwrap();
    prove_with(&k).unwrap();
    // the parked file itself rewritten in place with another key (a valid frame and tag): the
    // digest differs, the prover refuses to check with it and writes nothing (exit 70)
    let k = pipeline::keys(s, &prover).unwrap();
    let own = std::fs::read(&vk_file).unwrap();
    let other_dir = dir.join("other");
    foldmem::cache::store_verifier_key(&other_dir, &entry, other_vk).unwrap();
    std::fs::write(
        &vk_file,
        std::fs::read(foldmem::cache::verifier_key_path(&other_dir, &entry)).unwrap(),
    )
    .unwrap();
    let err = prove_with(&k).err().expect("a proof was made");
    assert_eq!(err.exit_code(), 70, "{err}");
    assert!(err.to_string().contains("not the expected"), "{err}");
    // a byte corrupted in place: the checksum says so
    let k = pipeline::keys(s, &prover).unwrap();
    let mut bytes = own.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&vk_file, &bytes).unwrap();
    let err = prove_with(&k).err().expect("a proof was made");
    assert_eq!(err.exit_code(), 70, "{err}");
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    // verifying with those keys: the key's failure, not the proof's (exit 70, not 1)
    let err = pipeline::verify_proof(&k, &file, None::<Vec<_>>).unwrap_err();
    assert_eq!(err.exit_code(), 70, "{err}");
    assert_eq!(
        foldmem::Error::Verify(VerifyError::KeyUnavailable("lost".into())).exit_code(),
        70
    );
    // a parked key read back by a verifying caller as well (not only the prover's check)
    std::fs::write(&vk_file, &own).unwrap();
    let k = pipeline::keys(s, &prover).unwrap();
    assert!(k.downcast::<StreamKeys>().unwrap().keys.vk().is_none());
    pipeline::verify_proof(&k, &file, None::<Vec<_>>).unwrap();
    // no cache directory: nothing to park in, the key stays
    let k = pipeline::keys(s, &KeyOptions::none()).unwrap();
    assert!(k.downcast::<StreamKeys>().unwrap().keys.vk().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in for a zkVM's CPU circuit: per fold step it makes `k` memory accesses and feeds
/// them to the trace-hash gadget; its state is the gadget's three elements.
#[derive(Clone, Debug)]
struct Cpu {
    accesses: Vec<Option<Op>>,
}

impl arecibo::traits::circuit::StepCircuit<F> for Cpu {
    fn arity(&self) -> usize {
        foldmem::zkvm::TRACE_HASH_ARITY
    }
    fn synthesize<CS: bellpepper_core::ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        z: &[bellpepper_core::num::AllocatedNum<F>],
    ) -> Result<Vec<bellpepper_core::num::AllocatedNum<F>>, bellpepper_core::SynthesisError> {
        use foldmem::zkvm::{MemOpVar, TraceHashVar};
        let slots = self
            .accesses
            .iter()
            .enumerate()
            .map(|(i, op)| MemOpVar::alloc(cs.namespace(|| format!("access {i}")), op.as_ref(), 64))
            .collect::<Result<Vec<_>, _>>()?;
        let th = TraceHashVar::from_z(z)?.absorb_step(&mut cs.namespace(|| "trace"), &slots)?;
        Ok(th.to_z())
    }
}

/// Fold the CPU over `ops` in steps of `k` accesses and return its verified final state.
fn cpu_final_state(ops: &[Op], k: usize) -> Vec<F> {
    use foldmem::folding::{setup_circuit, Recursive, C2};
    let step = |s: usize| Cpu {
        accesses: (0..k).map(|i| ops.get(s * k + i).cloned()).collect(),
    };
    let pp = setup_circuit(&step(0));
    let z0 = foldmem::zkvm::TraceHashVar::start_values(64).to_vec();
    let steps = ops.len().div_ceil(k);
    let zero = [<foldmem::engine::F2 as Field>::ZERO];
    let mut snark = Recursive::new(&pp, &step(0), &C2::default(), &z0, &zero).unwrap();
    for s in 0..steps {
        snark.prove_step(&pp, &step(s), &C2::default()).unwrap();
    }
    snark.verify(&pp, steps, &z0, &zero).unwrap().0
}

#[test]
fn a_cpu_circuit_binds_to_the_memory_proof_through_the_trace_hash_gadget() {
    let f = prove(&ops(), 4);
    stream::verify_folded(&st().keys.pp, &shape(), &f.snark, &f.outputs).unwrap();
    let memory = [f.outputs.trace_hash, F::from(f.outputs.op_count)];
    // the CPU that made exactly these accesses ends on the memory proof's statement
    let z = cpu_final_state(&ops(), shape().ops_per_step);
    assert_eq!(&z[..2], &memory, "honest CPU binds");
    // a CPU whose second access read 9 where the proven trace read 7 proves its own run fine,
    // but its trace hash is not the one the memory proof proved consistent
    let mut lying = ops();
    lying[1] = Op::read(3, 9u64);
    let z = cpu_final_state(&lying, shape().ops_per_step);
    assert_ne!(z[0], memory[0], "a different read must not bind");
}
