//! The last segment's final steps: audit slots and fresh slots; each forgery of one is refused.

use super::*;

/// Two segments of 4 ops; the last touches 20 again and 11, 12, 13 first, and leaves 10 alone:
/// its final steps are an audit step (10), a fresh step (11, 12, 13) and an audit step (20).
pub(super) fn mixed_ops() -> Vec<Op> {
    vec![
        Op::write(10, 1u64),
        Op::write(20, 2u64),
        Op::read(10, 1u64),
        Op::read(20, 2u64),
        // last segment
        Op::write(11, 3u64),
        Op::write(12, 4u64),
        Op::write(13, 5u64),
        Op::read(20, 2u64),
    ]
}

fn finals(steps: &[Step]) -> Vec<&Step> {
    steps.iter().filter(|s| s.is_final()).collect()
}

#[test]
fn the_last_segment_mixes_audit_and_fresh_steps() {
    let (steps, n, last) = steps_of(&mixed_ops(), 4);
    let kinds: Vec<usize> = finals(&steps).iter().map(|s| s.index()).collect();
    assert_eq!(kinds, [circuit::AUDIT, circuit::FRESH, circuit::AUDIT]);
    assert_eq!(last, Some(20));
    assert_eq!(n.g, base_point(), "G back at S");
    let zn = run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
    assert_eq!(zn[z::OPEN], F::ZERO);
    assert_eq!(zn[z::PH], F::ONE);
    assert_eq!(zn[z::LA], F::from(20));
    // one segment, every address fresh: no point is hashed at all
    let one = [
        Op::write(11, 3u64),
        Op::write(12, 4u64),
        Op::write(13, 5u64),
        Op::read(11, 3u64),
    ];
    let (steps, n, _) = steps_of(&one, 4);
    let kinds: Vec<usize> = finals(&steps).iter().map(|s| s.index()).collect();
    assert_eq!(kinds, [circuit::FRESH]);
    assert_eq!(n.g, base_point());
    run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
    // fewer addresses than m (3) in one segment: still a fresh step, no point hashed
    let few = [Op::write(11, 3u64), Op::read(11, 3u64), Op::write(12, 4u64)];
    let (steps, n, _) = steps_of(&few, 4);
    let kinds: Vec<usize> = finals(&steps).iter().map(|s| s.index()).collect();
    assert_eq!(kinds, [circuit::FRESH]);
    assert_eq!(n.g, base_point());
    run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
    // a trailing fresh run shorter than m after audited addresses: a fresh step too
    let mut tail = mixed_ops();
    tail[5] = Op::write(30, 4u64);
    tail[6] = Op::write(31, 5u64);
    let (steps, n, _) = steps_of(&tail, 4);
    let kinds: Vec<usize> = finals(&steps).iter().map(|s| s.index()).collect();
    assert_eq!(kinds, [circuit::AUDIT, circuit::FRESH]);
    assert_eq!(n.g, base_point());
    run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
    // ...but a trailing fresh address inside an audit step's reach stays in it (no extra step)
    let mut inside = mixed_ops();
    inside[4] = Op::write(25, 3u64);
    inside[5] = Op::read(10, 1u64);
    inside[6] = Op::read(25, 3u64);
    let (steps, n, _) = steps_of(&inside, 4);
    let kinds: Vec<usize> = finals(&steps).iter().map(|s| s.index()).collect();
    assert_eq!(kinds, [circuit::AUDIT]);
    assert_eq!(n.g, base_point());
    run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
}

fn fresh_slot(steps: &mut [Step], slot: usize) -> &mut FreshSlot {
    match steps.iter_mut().find(|s| s.index() == circuit::FRESH) {
        Some(Step::Fresh { slots, .. }) => &mut slots[slot],
        _ => panic!("no fresh step"),
    }
}

fn audit_slot(steps: &mut [Step], addr: u64) -> &mut AuditSlot {
    steps
        .iter_mut()
        .filter_map(|s| match s {
            Step::Audit { slots, .. } => Some(slots),
            _ => None,
        })
        .flat_map(|s| s.iter_mut())
        .find(|s| s.enabled && s.addr == F::from(addr))
        .expect("audited")
}

fn mixed_forged(audit_edit: impl FnMut(&mut Vec<Step>)) -> String {
    let (steps, _) = forged(&mixed_ops(), 4, no_pre, no_edit, audit_edit);
    verdict(&steps)
}

#[test]
fn honest_mixed_final_steps_are_accepted() {
    assert_eq!(mixed_forged(no_audit), "accepted");
}

#[test]
fn a_wrong_final_tuple_unbalances_the_last_segment() {
    // a fresh slot's final value, a touched audit slot's outgoing value or incoming time
    let v = mixed_forged(|f| fresh_slot(f, 1).value += F::ONE);
    assert!(v.ends_with(": RS = WS"), "{v}");
    let v = mixed_forged(|f| audit_slot(f, 20).value_out += F::ONE);
    assert!(v.ends_with(": RS = WS"), "{v}");
    let v = mixed_forged(|f| {
        let s = audit_slot(f, 20);
        s.time += F::ONE;
        s.h_final = curve::h2c(s.addr, s.value, s.time).0;
    });
    assert!(v.ends_with(": RS = WS"), "{v}");
}

#[test]
fn a_touched_address_audited_as_untouched_unbalances_the_last_segment() {
    let v = mixed_forged(|f| {
        let s = audit_slot(f, 20);
        s.touched = false;
        s.value_out = F::ZERO;
        s.time_out = F::ZERO;
    });
    assert!(v.ends_with(": RS = WS"), "{v}");
}

#[test]
fn disabled_final_slots_cannot_carry_values() {
    let v = mixed_forged(|f| fresh_slot(f, 0).enabled = false);
    assert!(v.ends_with("slot 0/disabled value 0 is 0"), "{v}");
    // a padding audit slot marked touched
    let v = mixed_forged(|f| {
        if let Some(Step::Audit { slots, .. }) = f.last_mut() {
            slots[1].touched = true;
        }
    });
    assert!(v.ends_with("slot 1/disabled value 3 is 0"), "{v}");
}

#[test]
fn an_address_both_audited_and_fresh_breaks_the_order_check() {
    // the double start `(a, 0, 0)` a forger needs to read 0 after a write: address 10 (audited
    // in the first audit step) listed again as fresh
    let v = mixed_forged(|f| {
        let s = fresh_slot(f, 0);
        s.addr = F::from(10);
        s.gap = 0;
    });
    assert!(v.ends_with("slot 0/order/address order"), "{v}");
}

#[test]
fn no_op_runs_after_the_final_steps() {
    let (mut steps, _) = forged(&mixed_ops()[..4], 4, no_pre, no_edit, no_audit);
    steps.push(Step::Op {
        open: Opening::default(),
        slots: vec![OpSlot::default(); shape().ops_per_step],
    });
    let v = verdict(&steps);
    assert!(v.ends_with("open/no op or boundary after the audit"), "{v}");
    // nor a boundary step (the curve circuit in boundary mode)
    steps.pop();
    steps.push(Step::Boundary {
        open: Opening::default(),
        slots: vec![padding_boundary(); shape().boundary_slots],
        close: false,
    });
    let v = verdict(&steps);
    assert!(v.ends_with("open/no op or boundary after the audit"), "{v}");
}

#[test]
fn the_next_circuit_index_is_one_of_the_three() {
    use arecibo::traits::circuit_supernova::StepCircuit;
    let (steps, _, _) = steps_of(&ops(), 4);
    for (next, ok) in [(2, true), (3, false)] {
        let c = StreamCircuit {
            shape: shape(),
            step: steps[0].clone(),
            next,
        };
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, &canonical(trace_hash_seed(64), 0)).unwrap();
        c.synthesize(&mut cs, None, &zs).unwrap();
        assert_eq!(
            cs.which_is_unsatisfied(),
            (!ok).then_some("next pc is a circuit")
        );
    }
}

#[test]
fn the_prover_witness_is_the_circuit_witness() {
    // arecibo's prover synthesizes into a witness generator, where Poseidon takes neptune's
    // native witness path: every step kind must write exactly the circuit's assignment
    use arecibo::traits::circuit_supernova::StepCircuit;
    use bellpepper::util_cs::witness_cs::WitnessCS;
    use bellpepper_core::ConstraintSystem;
    let (steps, _, _) = steps_of(&mixed_ops(), 4);
    let mut zv = canonical(trace_hash_seed(64), 0);
    for (i, s) in steps.iter().enumerate() {
        let c = StreamCircuit {
            shape: shape(),
            step: s.clone(),
            next: steps.get(i + 1).map(|n| n.index()).unwrap_or(0),
        };
        let mut t = TestConstraintSystem::<F>::new();
        let zt = alloc_state(&mut t, &zv).unwrap();
        let (_, out) = c.synthesize(&mut t, None, &zt).unwrap();
        assert!(t.is_satisfied(), "step {i}");
        let mut w = WitnessCS::<F>::new();
        let zw = alloc_state(&mut w, &zv).unwrap();
        let (_, out_w) = c.synthesize(&mut w, None, &zw).unwrap();
        assert_eq!(
            t.scalar_aux(),
            w.aux_assignment(),
            "step {i} ({:?})",
            s.index()
        );
        zv = out.iter().map(|o| o.get_value().unwrap()).collect();
        let zv_w: Vec<F> = out_w.iter().map(|o| o.get_value().unwrap()).collect();
        assert_eq!(zv, zv_w, "step {i}");
    }
}

#[test]
fn a_disabled_op_slot_cannot_carry_a_previous_time() {
    // the padding slot after the trace's last op (10 ops, 4 per step: slots 2 and 3 of step 2)
    let (steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    let at = steps
        .iter()
        .rposition(|s| matches!(s, Step::Op { .. }))
        .unwrap();
    let mut s2 = steps.clone();
    let o = op_slot(&mut s2, at, 3);
    assert!(!o.enabled);
    o.prev_time = F::from(5);
    let v = verdict(&s2);
    assert!(v.ends_with("slot 3/disabled prev time is 0"), "{v}");
}
