//! End-to-end tests of the offline backend through Nova: prove, verify, compress, and rejection
//! of forged challenges, unbalanced fingerprints and tampered outputs.

use ff::Field;
use foldmem::backends::offline::{self, z, OfflineParams};
use foldmem::error::VerifyError;
use foldmem::{Op, F};
use std::sync::OnceLock;

const K: usize = 4;

fn pp() -> &'static OfflineParams {
    static PP: OnceLock<OfflineParams> = OnceLock::new();
    PP.get_or_init(|| offline::setup(K))
}

fn ops() -> Vec<Op> {
    let mut v = Vec::new();
    for i in 0..9u64 {
        let a = 0x3_ffff_0000 + (i % 4) * 977;
        v.push(Op::write(a, i * 11));
        v.push(Op::read(a, i * 11));
    }
    v.push(Op::read(5, 0u64));
    v
}

#[test]
fn prove_verify_compress() {
    let w = offline::witness(&ops(), 64, K).unwrap();
    let s = offline::fold(pp(), &w).unwrap();
    offline::verify_folded(pp(), K, &s, &w.outputs).unwrap();
    let (pk, vk) = foldmem::folding::Compressed::<offline::OfflineStep>::setup(pp()).unwrap();
    let c = foldmem::folding::Compressed::prove(pp(), &pk, &s).unwrap();
    offline::verify_compressed(&vk, K, &c, &w.outputs).unwrap();

    for (name, tamper) in [
        (
            "op count",
            Box::new(|o: &mut offline::OfflineOutputs| o.op_count -= 1)
                as Box<dyn Fn(&mut offline::OfflineOutputs)>,
        ),
        ("trace hash", Box::new(|o| o.trace_hash += F::ONE)),
        ("fingerprint", Box::new(|o| o.fingerprint += F::ONE)),
        ("audit count", Box::new(|o| o.audit_count += 1)),
        (
            "last addr",
            Box::new(|o| o.last_addr = Some(o.last_addr.unwrap() - 1)),
        ),
        ("word bits", Box::new(|o| o.word_bits = 32)),
    ] {
        let mut o = w.outputs;
        tamper(&mut o);
        let r = offline::verify_compressed(&vk, K, &c, &o);
        assert!(
            matches!(
                r,
                Err(VerifyError::Snark(_)) | Err(VerifyError::OutputMismatch(_))
            ),
            "{name}: {r:?}"
        );
    }
}

#[test]
fn forged_challenge_is_rejected() {
    // a prover folding with challenges that are not the hash of its tuples
    let w = offline::witness(&ops(), 64, K).unwrap();
    let mut z0 = w.outputs.z0();
    z0[z::GAMMA] = F::from(12345);
    let s = offline::fold_from(pp(), &w.steps, &z0).unwrap();
    let r = offline::verify_folded(pp(), K, &s, &w.outputs);
    assert!(matches!(r, Err(VerifyError::Snark(_))), "{r:?}");
}

#[test]
fn unbalanced_fingerprints_are_rejected() {
    // forged read value and previous value: every step is satisfied, but RS ≠ WS, and no
    // claimed output can make the final state match (it must carry one common fingerprint)
    let w = offline::witness(&ops(), 64, K).unwrap();
    let mut steps = w.steps.clone();
    steps[0].slots[1].value = F::from(99);
    steps[0].slots[1].prev_value = F::from(99);
    let s = offline::fold_from(pp(), &steps, &w.outputs.z0()).unwrap();
    let (zn, _) = s
        .verify(
            pp(),
            w.outputs.num_steps(K),
            &w.outputs.z0(),
            &[foldmem::engine::F2::ZERO],
        )
        .unwrap();
    assert_ne!(zn[z::RS], zn[z::WS]);
    let mut claimed = w.outputs;
    claimed.fingerprint = zn[z::RS];
    assert_eq!(
        offline::verify_folded(pp(), K, &s, &claimed),
        Err(VerifyError::OutputMismatch("final state"))
    );
}

#[test]
fn honest_prover_refuses_inconsistent_trace() {
    let mut bad = ops();
    bad[3] = Op::read(bad[3].addr, 1u64);
    let err = offline::witness(&bad, 64, K).err().unwrap();
    assert!(err.to_string().starts_with("line 4: read of 0x"), "{err}");
}
