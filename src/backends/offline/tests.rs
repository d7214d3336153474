//! Soundness tests of the offline backend: honest traces satisfy every step and balance the
//! fingerprints; each forgery breaks a named constraint, the final `RS = WS` check, or the
//! challenge binding.

use super::*;
use bellpepper_core::test_cs::TestConstraintSystem;

const K: usize = 3;

fn ops() -> Vec<Op> {
    vec![
        Op::write(9, 4u64),
        Op::read(9, 4u64),
        Op::read(2, 0u64),
        Op::write(2, 7u64),
        Op::write(9, 5u64),
        Op::read(2, 7u64),
        Op::read(u64::MAX, 0u64),
    ]
}

/// Synthesize `steps` in sequence from `z0`; returns the first unsatisfied constraint (with its
/// step) or the final state.
fn run(steps: &[OfflineStep], z0: Vec<F>) -> Result<Vec<F>, String> {
    let mut z = z0;
    for (i, s) in steps.iter().enumerate() {
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = crate::gadgets::alloc_state(&mut cs, &z).unwrap();
        let out = arecibo::traits::circuit::StepCircuit::synthesize(s, &mut cs, &zs).unwrap();
        if let Some(c) = cs.which_is_unsatisfied() {
            return Err(format!("step {i}: {c}"));
        }
        z = out.iter().map(|o| o.get_value().unwrap()).collect();
    }
    Ok(z)
}

#[test]
fn honest_trace_satisfies_and_balances() {
    let w = witness(&ops(), 64, K).unwrap();
    assert_eq!(w.steps.len(), 3 + 1, "3 op steps, 1 audit step");
    assert_eq!(w.outputs.audit_count, 3);
    assert_eq!(w.outputs.last_addr, Some(u64::MAX));
    let zn = run(&w.steps, w.outputs.z0()).unwrap();
    assert_eq!(zn, w.outputs.zn());
    assert_eq!(zn[z::RS], zn[z::WS]);
    assert_eq!(
        (w.outputs.op_count, w.outputs.trace_hash),
        trace_hash(ops(), 64, K),
        "trace hash is recomputable from the trace"
    );
}

#[test]
fn empty_trace_has_one_padded_audit_step() {
    let w = witness(&[], 64, K).unwrap();
    assert_eq!(w.steps.len(), 1);
    assert_eq!(w.outputs.num_steps(K), 1);
    assert_eq!(run(&w.steps, w.outputs.z0()).unwrap(), w.outputs.zn());
}

#[test]
fn wrong_read_value_is_rejected() {
    let mut w = witness(&ops(), 64, K).unwrap();
    w.steps[0].slots[1].value = F::from(5); // read of 9 claims 5
    assert_eq!(
        run(&w.steps, w.outputs.z0()).unwrap_err(),
        "step 0: slot 1/read value = prev value"
    );
}

#[test]
fn forged_prev_value_unbalances_the_fingerprints() {
    // the forger also claims the previous value was 5, so the read check passes; the read-set
    // tuple (9, 5, 1) then matches no write-set tuple
    let mut w = witness(&ops(), 64, K).unwrap();
    w.steps[0].slots[1].value = F::from(5);
    w.steps[0].slots[1].prev_value = F::from(5);
    let zn = run(&w.steps, w.outputs.z0()).unwrap();
    assert_ne!(zn[z::RS], zn[z::WS]);
}

#[test]
fn read_of_unwritten_cell_must_be_zero() {
    let mut w = witness(&ops(), 64, K).unwrap();
    w.steps[0].slots[2].value = F::from(3); // read of 2 (never written) claims 3
    w.steps[0].slots[2].prev_value = F::from(3);
    let zn = run(&w.steps, w.outputs.z0()).unwrap();
    assert_ne!(zn[z::RS], zn[z::WS]);
}

#[test]
fn prev_time_not_before_time_is_rejected() {
    let mut w = witness(&ops(), 64, K).unwrap();
    // op 2 (time 2) claims its previous access was at time 2
    w.steps[0].slots[1].prev_time = F::from(2);
    w.steps[0].slots[1].gap = u64::MAX; // any 64-bit value: time − 1 − prev_time = −1 has none
    assert_eq!(
        run(&w.steps, w.outputs.z0()).unwrap_err(),
        "step 0: slot 1/gap in range"
    );
}

#[test]
fn duplicated_or_unordered_audit_addresses_are_rejected() {
    let w = witness(&ops(), 64, K).unwrap();
    let audit = w.steps.len() - 1;
    // duplicate: audit address 2 twice
    let mut d = w.steps.clone();
    d[audit].slots[1] = d[audit].slots[0].clone();
    d[audit].slots[1].gap = u64::MAX;
    assert_eq!(
        run(&d, w.outputs.z0()).unwrap_err(),
        format!("step {audit}: slot 1/gap in range")
    );
    // out of order: swap two audit slots
    let mut o = w.steps.clone();
    o[audit].slots.swap(0, 1); // 9 then 2
    o[audit].slots[0].gap = 9;
    o[audit].slots[1].gap = u64::MAX; // 2 − 9 − 1 has no 64-bit representation
    assert_eq!(
        run(&o, w.outputs.z0()).unwrap_err(),
        format!("step {audit}: slot 1/gap in range")
    );
}

#[test]
fn missing_audit_address_unbalances_the_fingerprints() {
    let w = witness(&ops(), 64, K).unwrap();
    let mut m = w.steps.clone();
    let audit = m.len() - 1;
    m[audit].slots[2] = Slot::padding(true); // drop u64::MAX from the audit
    let zn = run(&m, w.outputs.z0()).unwrap();
    assert_ne!(zn[z::RS], zn[z::WS]);
}

#[test]
fn padding_cannot_hide_an_op() {
    // a real `read(0, 0)` and a padding slot have the same address and value; the enabled bit
    // in the trace hash tells them apart, so a prover cannot pass a real op off as padding
    let six = &ops()[..6];
    let mut seven = six.to_vec();
    seven.push(Op::read(0, 0u64));
    assert_ne!(
        trace_hash(six.iter().copied(), 64, K).1,
        trace_hash(seven.iter().copied(), 64, K).1
    );
    // and the circuit computes exactly the native trace hash
    let w = witness(six, 64, K).unwrap();
    assert_eq!(
        run(&w.steps, w.outputs.z0()).unwrap()[z::TRACE],
        trace_hash(six.iter().copied(), 64, K).1
    );
    // disabling a real op in the circuit changes the trace hash it outputs
    let w = witness(&seven, 64, K).unwrap();
    let mut h = w.steps.clone();
    h[2].slots[0].enabled = false;
    h[2].slots[0].gap = 0;
    let audit = h.len() - 1;
    h[audit].slots[0].enabled = false; // and drop address 0 from the audit
    h[audit].slots[0].gap = 0;
    h[audit].slots[1].gap = 2; // address 2 is now the first audited
    let zn = run(&h, w.outputs.z0()).unwrap();
    assert_ne!(zn[z::TRACE], w.outputs.trace_hash);
}

#[test]
fn audit_slot_cannot_write_and_mode_cannot_go_back() {
    let w = witness(&ops(), 64, K).unwrap();
    let audit = w.steps.len() - 1;
    let mut a = w.steps.clone();
    a[audit].slots[0].value = F::from(1);
    assert_eq!(
        run(&a, w.outputs.z0()).unwrap_err(),
        format!("step {audit}: slot 0/audit value = 0")
    );
    let mut z0 = w.outputs.z0();
    z0[z::MODE] = F::ONE; // an op step after an audit step
    assert_eq!(run(&w.steps[..1], z0).unwrap_err(), "step 0: mode monotone");
}

#[test]
fn gap_bits_must_be_boolean() {
    let w = witness(&ops(), 64, K).unwrap();
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = crate::gadgets::alloc_state(&mut cs, &w.outputs.z0()).unwrap();
    arecibo::traits::circuit::StepCircuit::synthesize(&w.steps[0], &mut cs, &zs).unwrap();
    assert!(cs.is_satisfied());
    cs.set("slot 0/gap bits/bit 0/boolean", F::from(2));
    assert_eq!(
        cs.which_is_unsatisfied(),
        Some("slot 0/gap bits/bit 0/boolean constraint")
    );
}

#[test]
fn constraints_per_slot() {
    let per = |k: usize| step_constraints(k) as f64 / k as f64;
    eprintln!(
        "offline step constraints per slot: k=5 {:.0}, k=10 {:.0}, k=40 {:.0}",
        per(5),
        per(10),
        per(40)
    );
    assert!(per(40) < 300.0, "slot cost stays a few hundred constraints");
}

#[test]
fn wide_words_and_unwritten_reads_satisfy() {
    use crate::word::Word;
    let ops = vec![
        Op::write(4688, Word([u64::MAX, 1, 2, 3])),
        Op::read(4689, Word::ZERO),
        Op::read(4688, Word([u64::MAX, 1, 2, 3])),
    ];
    let w = witness(&ops, 256, K).unwrap();
    assert_eq!(run(&w.steps, w.outputs.z0()).unwrap(), w.outputs.zn());
}
