//! End-to-end Nova tests: prove → verify → compress → verify, and rejection of forged proofs.

use ff::Field;
use foldmem::backends::merkle::*;
use foldmem::backends::merkle::{MerkleShape, MerkleStep};
use foldmem::engine::F2;
use foldmem::error::VerifyError;
use foldmem::tree::memory::MemoryState;
use foldmem::tree::TreeParams;
use foldmem::{Op, F};
use std::sync::OnceLock;

fn small() -> MerkleShape {
    MerkleShape {
        tree: TreeParams::new(8, 4).unwrap(),
        ops_per_step: 2,
    }
}

fn pp_small() -> &'static MerkleParams {
    static PP: OnceLock<MerkleParams> = OnceLock::new();
    PP.get_or_init(|| setup(small()))
}

fn ops() -> Vec<Op> {
    vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::read(200, 0u64),
        Op::write(200, 1u64),
        Op::read(3, 7u64),
    ]
}

fn prove(pp: &MerkleParams, step: MerkleShape, ops: &[Op]) -> FoldedProof {
    let mut p = MerkleProver::new(pp, step, 64);
    for (i, op) in ops.iter().enumerate() {
        p.push(i + 1, op).unwrap();
    }
    p.finish().unwrap()
}

#[test]
fn small_depth_prove_verify_compress() {
    let pp = pp_small();
    let proof = prove(pp, small(), &ops());
    assert_eq!(proof.num_steps, 3);
    assert_eq!(proof.outputs.op_count, 5);
    assert_eq!(
        proof.outputs.trace_hash,
        foldmem::tree::memory::trace_hash_of(&ops(), 64)
    );
    verify_folded(pp, small(), &proof.snark, &proof.outputs).unwrap();

    // tampered claims are rejected
    // a claim from another initial memory: the library verifier states the empty memory itself
    let mut o = proof.outputs;
    o.initial_root += F::ONE;
    assert_eq!(
        verify_folded(pp, small(), &proof.snark, &o),
        Err(VerifyError::InitialRoot)
    );
    // and a verifier that does expect that memory finds the SNARK does not start there
    assert!(matches!(
        verify_folded_from(pp, small(), &proof.snark, &o, o.initial_root),
        Err(VerifyError::Snark(_))
    ));
    let mut o = proof.outputs;
    o.final_root += F::ONE;
    assert_eq!(
        verify_folded(pp, small(), &proof.snark, &o),
        Err(VerifyError::OutputMismatch("final root"))
    );
    let mut o = proof.outputs;
    o.trace_hash += F::ONE;
    assert_eq!(
        verify_folded(pp, small(), &proof.snark, &o),
        Err(VerifyError::OutputMismatch("trace hash"))
    );
    let mut o = proof.outputs;
    o.op_count = 6; // same number of steps, different count
    assert_eq!(
        verify_folded(pp, small(), &proof.snark, &o),
        Err(VerifyError::OutputMismatch("op count"))
    );
    let mut o = proof.outputs;
    o.op_count = 7; // claims a step that was never folded
    assert!(matches!(
        verify_folded(pp, small(), &proof.snark, &o),
        Err(VerifyError::Snark(_))
    ));

    let (pk, vk) = compression_keys(pp).unwrap();
    let c = compress(pp, &pk, &proof.snark).unwrap();
    verify_compressed(&vk, small(), &c, &proof.outputs).unwrap();
    let mut o = proof.outputs;
    o.trace_hash = F::ZERO;
    assert_eq!(
        verify_compressed(&vk, small(), &c, &o),
        Err(VerifyError::OutputMismatch("trace hash"))
    );
    let mut o = proof.outputs;
    o.initial_root = F::ONE;
    assert_eq!(
        verify_compressed(&vk, small(), &c, &o),
        Err(VerifyError::InitialRoot)
    );
    assert!(matches!(
        verify_compressed_from(&vk, small(), &c, &o, F::ONE),
        Err(VerifyError::Snark(_))
    ));
}

#[test]
fn dropped_step_is_rejected() {
    // fold only the first two of three steps and claim the full trace's outputs
    let pp = pp_small();
    let full = prove(pp, small(), &ops());
    let partial = prove(pp, small(), &ops()[..4]);
    assert_eq!(partial.num_steps, 2);
    assert!(matches!(
        verify_folded(pp, small(), &partial.snark, &full.outputs),
        Err(VerifyError::Snark(_))
    ));
    // and the partial proof under its own honest claim still verifies
    verify_folded(pp, small(), &partial.snark, &partial.outputs).unwrap();
}

#[test]
fn forging_prover_is_rejected() {
    // A prover that bypasses the native checker and folds a step whose read returns a wrong value.
    let pp = pp_small();
    let step = small();
    let mut st = MemoryState::new(step.tree, 64);
    let z0 = st.z();
    let w1 = st.apply(1, &Op::write(3, 7u64)).unwrap();
    let mut w2 = st.apply(2, &Op::read(3, 7u64)).unwrap();
    w2.value = F::from(8); // forged: claims the read returned 8
    let c = MerkleStep {
        params: step,
        ops: vec![w1, w2],
    };
    let c2 = foldmem::folding::C2::default();
    let mut s = MerkleRecursive::new(pp, &c, &c2, &z0, &[F2::ZERO]).unwrap();
    s.prove_step(pp, &c, &c2).unwrap();
    // whatever outputs it claims, the folded instance is unsatisfiable
    let res = s.verify(pp, 1, &z0, &[F2::ZERO]);
    assert!(
        matches!(
            res,
            Err(arecibo::errors::NovaError::UnSat) | Err(arecibo::errors::NovaError::UnSatIndex(_))
        ),
        "{res:?}"
    );
}

#[test]
fn honest_prover_refuses_inconsistent_op() {
    let pp = pp_small();
    let mut p = MerkleProver::new(pp, small(), 64);
    p.push(1, &Op::write(3, 7u64)).unwrap();
    let err = p.push(2, &Op::read(3, 8u64)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: read of 0x3 returned 8, last written 7"
    );
    let err = p.push(3, &Op::read(256, 0u64)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "op 3: address 0x100 does not fit in 8 address bits"
    );
    assert_eq!(p.op_count(), 1, "refused ops are not applied");
}

#[test]
fn depth_64_end_to_end_on_the_demo_program() {
    // the full-size configuration: 2^64 words, arity 8, k = 4, on the built-in program's trace
    let m = foldmem::machine::programs::insertion_sort(4, 3).unwrap();
    let ops: Vec<Op> = m.ops().into_iter().take(7).collect();
    let step = MerkleShape {
        tree: default_tree(64),
        ops_per_step: 4,
    };
    let keys = foldmem::pipeline::keys(
        foldmem::registry::Shape::new(step).unwrap(),
        &foldmem::backend::KeyOptions::none(),
    )
    .unwrap();
    let stream = || foldmem::trace::numbered(&ops);
    let (file, report) = foldmem::pipeline::prove_stream(&keys, 64, stream(), |_| {}).unwrap();
    assert_eq!(report.steps, 2);
    assert_eq!(file.op_count(), 7);
    let decoded = foldmem::proof::ProofFile::from_bytes(&file.to_bytes()).unwrap();
    foldmem::pipeline::verify_proof(&keys, &decoded, Some(stream())).unwrap();
    let mut t = decoded.clone();
    let foldmem::registry::Body::Merkle(p) = &mut t.body else {
        panic!("merkle body")
    };
    p.outputs.final_root = p.outputs.initial_root;
    assert!(foldmem::pipeline::verify_proof(&keys, &t, None::<Vec<_>>).is_err());
}
