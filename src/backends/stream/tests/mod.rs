//! Circuit-level tests of the streaming backend: an honest run satisfies every step and ends in
//! the claimed state; each forgery breaks the named constraint (or the claim).

use super::circuit::z;
use super::*;
use crate::engine::F;
use crate::gadgets::alloc_state;
use crate::hash::trace_hash_seed;
use crate::trace::Op;
use crate::word::Word;
use bellpepper_core::test_cs::TestConstraintSystem;
use ff::{Field, PrimeField};

pub(crate) fn shape() -> StreamShape {
    StreamShape {
        ops_per_step: 4,
        boundary_slots: 3,
        time_bits: 16,
    }
}

/// Keys of `shape`, made without the cache.
pub(crate) fn keys_for(shape: StreamShape) -> StreamKeys {
    use crate::backend::{CacheEntry, KeyOptions, ShapeSpec};
    shape
        .keys(&KeyOptions::none(), &(), &CacheEntry::uncached(&shape))
        .expect("keys")
        .keys
}

pub(crate) fn ops() -> Vec<Op> {
    vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::read(200, 0u64),
        Op::write(200, 1u64),
        // segment 2
        Op::read(3, 7u64),
        Op::write(9, 5u64),
        Op::read(200, 1u64),
        Op::write(3, 8u64),
        // segment 3 (partial)
        Op::read(9, 5u64),
        Op::read(3, 8u64),
    ]
}

/// The honest steps of `ops` in segments of `l` ops, then the audit.
pub(crate) fn steps_of(ops: &[Op], l: usize) -> (Vec<Step>, Native, Option<u64>) {
    steps_of_shape(shape(), ops, l)
}

/// [`steps_of`] for another shape.
fn steps_of_shape(shape: StreamShape, ops: &[Op], l: usize) -> (Vec<Step>, Native, Option<u64>) {
    let mut n = Native::new(shape, 64);
    let numbered: Vec<(usize, Op)> = ops.iter().enumerate().map(|(i, o)| (i + 1, *o)).collect();
    let mut steps = Vec::new();
    let chunks: Vec<_> = numbered.chunks(l).collect();
    for seg in &chunks[..chunks.len() - 1] {
        steps.extend(n.segment(seg).unwrap());
    }
    let (fin, last) = n.last_segment(chunks[chunks.len() - 1]).unwrap();
    steps.extend(fin);
    (steps, n, last)
}

/// Synthesize steps in sequence from `z0`; the first unsatisfied constraint, or the final state.
pub(crate) fn run(steps: &[Step], z0: Vec<F>) -> Result<Vec<F>, String> {
    run_shape(shape(), steps, z0)
}

/// [`run`] for another shape.
fn run_shape(shape: StreamShape, steps: &[Step], z0: Vec<F>) -> Result<Vec<F>, String> {
    let circuits = steps.iter().enumerate().map(|(i, s)| StreamCircuit {
        shape,
        step: s.clone(),
        next: steps
            .get(i + 1)
            .map(|n| n.index())
            .unwrap_or(circuit::AUDIT),
    });
    crate::gadgets::run_steps(circuits, z0)
}

#[test]
fn honest_run_satisfies_every_step_and_ends_in_the_claim() {
    let (steps, n, last) = steps_of(&ops(), 4);
    let zn = run(&steps, canonical(trace_hash_seed(64), 0)).unwrap();
    let (count, t) = trace_hash(ops(), 64, 4);
    assert_eq!(count, 10);
    let claim = StreamOutputs {
        word_bits: 64,
        start_hash: trace_hash_seed(64),
        start_time: 0,
        trace_hash: t,
        op_count: 10,
        audited: true,
        last_addr: last,
        g: base_point(),
    };
    assert_eq!(n.g, base_point(), "G back at S");
    assert_eq!(zn, claim.zn());
    assert_eq!(zn[z::OPEN], F::ZERO);
}

#[test]
fn constraint_counts() {
    let [op, b, f] = circuit_constraints(StreamShape {
        ops_per_step: 64,
        boundary_slots: 16,
        time_bits: 32,
    });
    println!(
        "op step {op} ({} per slot), boundary/audit {b} ({} per slot), fresh {f} ({} per slot)",
        op / 64,
        b / 16,
        f / 64
    );
}

// ---- forging provers: honest steps, edited witnesses, challenges re-derived from the edits ----

/// The steps of `ops` in segments of `l` ops; `edit(j, native, steps)` runs on segment `j`'s
/// steps (the native memory may be edited before: `pre(j, native)`), then the forger re-derives
/// the challenges and `G` from the edited witnesses, exactly as the circuit will check them.
/// `audit_edit` edits the last segment's final (audit and fresh) steps the same way.
fn forged(
    ops: &[Op],
    l: usize,
    mut pre: impl FnMut(usize, &mut Native),
    mut edit: impl FnMut(usize, &mut Vec<Step>),
    mut audit_edit: impl FnMut(&mut Vec<Step>),
) -> (Vec<Step>, Native) {
    let mut n = Native::new(shape(), 64);
    let numbered: Vec<(usize, Op)> = ops.iter().enumerate().map(|(i, o)| (i + 1, *o)).collect();
    let mut all = Vec::new();
    let chunks: Vec<_> = numbered.chunks(l).collect();
    for (j, seg) in chunks.iter().enumerate() {
        pre(j, &mut n);
        if j + 1 < chunks.len() {
            all.extend(n.segment_forged(seg, |s| edit(j, s)));
        } else {
            all.extend(n.last_segment_forged(seg, |s| {
                edit(j, s);
                let at = s.iter().position(Step::is_final).unwrap_or(s.len());
                let mut fin = s.split_off(at);
                audit_edit(&mut fin);
                s.extend(fin);
            }));
        }
    }
    (all, n)
}

fn no_pre(_: usize, _: &mut Native) {}
fn no_edit(_: usize, _: &mut Vec<Step>) {}
fn no_audit(_: &mut Vec<Step>) {}

fn op_slot(steps: &mut [Step], step: usize, slot: usize) -> &mut OpSlot {
    match &mut steps[step] {
        Step::Op { slots, .. } => &mut slots[slot],
        _ => panic!("not an op step"),
    }
}

/// The verdict on a forged run: the first unsatisfied constraint, else what the verifier's
/// final-state checks refuse (G not back at S, a segment left open).
fn verdict(steps: &[Step]) -> String {
    match run(steps, canonical(trace_hash_seed(64), 0)) {
        Err(e) => e,
        Ok(zn) if zn[z::OPEN] != F::ZERO => "segment left open".into(),
        Ok(zn) if (zn[z::GX], zn[z::GY]) != (base_point().x, base_point().y) => {
            "G is not back at S".into()
        }
        Ok(_) => "accepted".into(),
    }
}

#[test]
fn honest_forging_harness_is_accepted() {
    let (steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    assert_eq!(verdict(&steps), "accepted");
}

#[test]
fn wrong_read_breaks_the_read_constraint() {
    // op 2 (segment 1, step 0, slot 1) reads 3 as 8 instead of 7
    let (steps, _) = forged(
        &ops(),
        4,
        no_pre,
        |j, s| {
            if j == 0 {
                op_slot(s, 0, 1).value += F::ONE;
            }
        },
        no_audit,
    );
    assert_eq!(
        verdict(&steps),
        "unsatisfied: step 0: slot 1/read value = prev value"
    );
}

#[test]
fn forged_prev_tuple_unbalances_the_segment() {
    // value and previous value both forged: the read check holds, its read tuple matches nothing
    let (steps, _) = forged(
        &ops(),
        4,
        no_pre,
        |j, s| {
            if j == 0 {
                let o = op_slot(s, 0, 1);
                o.value += F::ONE;
                o.prev_value += F::ONE;
            }
        },
        no_audit,
    );
    assert!(
        verdict(&steps).ends_with(": RS = WS"),
        "{}",
        verdict(&steps)
    );
}

#[test]
fn a_challenge_that_is_not_the_segment_hash_fails_the_close() {
    let (mut steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    if let Step::Op { open, .. } = &mut steps[0] {
        open.gamma += F::ONE;
    }
    assert!(
        verdict(&steps).ends_with(": gamma is the segment hash"),
        "{}",
        verdict(&steps)
    );
}

#[test]
fn challenges_rewitnessed_mid_segment_are_ignored() {
    // a forged tuple in the second op step, with "fresh" challenges witnessed there: the step
    // carries the segment's challenges, so the forgery still unbalances the segment
    let (mut steps, _) = forged(
        &ops(),
        8,
        no_pre,
        |j, s| {
            if j == 0 {
                let o = op_slot(s, 1, 0);
                o.value += F::ONE;
                o.prev_value += F::ONE;
            }
        },
        no_audit,
    );
    if let Step::Op { open, .. } = &mut steps[1] {
        *open = Opening {
            gamma: F::from(12345),
            alpha: F::from(678),
        };
    }
    assert!(
        verdict(&steps).ends_with(": RS = WS"),
        "{}",
        verdict(&steps)
    );
}

#[test]
fn a_segment_left_open_is_refused() {
    // the last segment never closes: the verifier sees the open segment
    let (mut steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    if let Some(Step::Audit { close, .. } | Step::Fresh { close, .. }) = steps.last_mut() {
        *close = false;
    }
    assert_eq!(verdict(&steps), "segment left open");
    // a continuation part: its last segment's boundary step does not close
    let (mut steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    let first_final = steps.iter().position(Step::is_final).unwrap();
    steps.truncate(first_final);
    let last_close = steps
        .iter()
        .rposition(|s| matches!(s, Step::Boundary { .. }))
        .unwrap();
    steps.truncate(last_close + 1);
    if let Step::Boundary { close, .. } = &mut steps[last_close] {
        *close = false;
    }
    assert_eq!(verdict(&steps), "segment left open");
}

#[test]
fn final_steps_outside_an_open_segment_are_refused() {
    // the forger closes the last segment with boundary steps (challenges and all), then runs the
    // final steps, whose fingerprints would land in no checked segment
    let mut n = Native::new(shape(), 64);
    let numbered: Vec<(usize, Op)> = ops().iter().enumerate().map(|(i, o)| (i + 1, *o)).collect();
    let mut steps = Vec::new();
    for seg in numbered.chunks(4) {
        steps.extend(n.segment(seg).unwrap());
    }
    let (honest, _, _) = steps_of(&ops(), 4);
    steps.extend(honest.into_iter().filter(Step::is_final));
    assert!(
        verdict(&steps).ends_with("open/final steps run in an open segment"),
        "{}",
        verdict(&steps)
    );
    // the same with fresh steps (one segment, every address first touched in it)
    let one: Vec<(usize, Op)> = mixed_ops()[4..7]
        .iter()
        .chain(&[Op::read(11, 3u64)])
        .enumerate()
        .map(|(i, o)| (i + 1, *o))
        .collect();
    let mut n = Native::new(shape(), 64);
    let mut steps = n.segment(&one).unwrap();
    let mut n2 = Native::new(shape(), 64);
    let (fin, _) = n2.last_segment(&one).unwrap();
    assert!(fin.iter().any(|s| s.index() == circuit::FRESH));
    steps.extend(fin.into_iter().filter(Step::is_final));
    assert!(
        verdict(&steps).ends_with("final steps run in an open segment"),
        "{}",
        verdict(&steps)
    );
}

#[test]
fn a_stale_incoming_value_at_a_boundary_leaves_g_off_s() {
    // segment 2 reads address 3 as 7, the value before segment 1's last write (8): its
    // boundary slot claims the stale tuple as incoming, which no outgoing tuple cancels
    let o = vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::write(3, 8u64),
        Op::read(3, 8u64),
        Op::read(3, 7u64), // wrong
        Op::read(200, 0u64),
        Op::read(200, 0u64),
        Op::read(200, 0u64),
    ];
    let (steps, _) = forged(
        &o,
        4,
        |j, n| {
            if j == 1 {
                n.mem.insert(3, (Word::from_u64(7), 1));
            }
        },
        no_edit,
        no_audit,
    );
    assert_eq!(verdict(&steps), "G is not back at S");
}

#[test]
fn an_incoming_tuple_from_a_later_segment_breaks_the_time_order() {
    // segment 1 reads address 9 as the 5 segment 2 writes (at time 6): its incoming tuple
    // is that later write, whose time is not before the read
    let o = vec![
        Op::read(9, 5u64), // wrong: 9 is written later
        Op::read(3, 0u64),
        Op::read(3, 0u64),
        Op::read(3, 0u64),
        Op::read(3, 0u64),
        Op::write(9, 5u64),
        Op::read(9, 5u64),
        Op::read(9, 5u64),
    ];
    let (steps, _) = forged(
        &o,
        4,
        |j, n| {
            if j == 0 {
                n.mem.insert(9, (Word::from_u64(5), 6));
            }
        },
        no_edit,
        no_audit,
    );
    assert_eq!(verdict(&steps), "unsatisfied: step 0: slot 0/gap in range");
}

#[test]
fn an_address_initialized_twice_leaves_g_off_s() {
    // segment 2 claims address 3 was never written (a second chain from (3, 0, 0))
    let o = vec![
        Op::write(3, 7u64),
        Op::read(3, 7u64),
        Op::read(200, 0u64),
        Op::read(200, 0u64),
        Op::read(3, 0u64), // wrong
        Op::read(200, 0u64),
        Op::read(200, 0u64),
        Op::read(200, 0u64),
    ];
    let (steps, _) = forged(
        &o,
        4,
        |j, n| {
            if j == 1 {
                n.mem.remove(&3);
            }
        },
        no_edit,
        no_audit,
    );
    assert_eq!(verdict(&steps), "G is not back at S");
}

#[test]
fn duplicate_or_unsorted_audit_addresses_break_the_order_check() {
    for swap in [false, true] {
        let (steps, _) = forged(&ops(), 4, no_pre, no_edit, |a| {
            if let Step::Audit { slots, .. } = &mut a[0] {
                if swap {
                    slots.swap(0, 1); // 9 before 3
                    slots[0].gap = 9;
                    slots[1].gap = 0; // 3 − 9 − 1 does not fit 64 bits
                } else {
                    slots[1] = slots[0]; // 3 twice
                    slots[1].gap = 0;
                }
            }
        });
        assert!(
            verdict(&steps).ends_with("slot 1/order/address order"),
            "{}",
            verdict(&steps)
        );
    }
}

#[test]
fn a_touched_address_missing_from_the_boundary_or_the_audit_is_refused() {
    // boundary: address 200 of segment 1 dropped (the slot disabled)
    let (steps, _) = forged(
        &ops(),
        4,
        no_pre,
        |j, s| {
            if j == 0 {
                if let Some(Step::Boundary { slots, .. }) = s.iter_mut().find(|x| x.index() == 1) {
                    slots[1] = padding_boundary();
                }
            }
        },
        no_audit,
    );
    assert!(
        verdict(&steps).ends_with(": RS = WS"),
        "{}",
        verdict(&steps)
    );
    // audit: address 200 dropped
    let (steps, _) = forged(&ops(), 4, no_pre, no_edit, |a| {
        if let Step::Audit { slots, .. } = &mut a[0] {
            assert_eq!(slots[2].addr, F::from(200));
            slots[2] = padding_audit();
        }
    });
    assert_eq!(verdict(&steps), "G is not back at S");
}

#[test]
fn a_disabled_boundary_slot_cannot_carry_values() {
    let (steps, _) = forged(
        &ops(),
        4,
        no_pre,
        |j, s| {
            if j == 0 {
                if let Some(Step::Boundary { slots, .. }) = s.iter_mut().find(|x| x.index() == 1) {
                    slots[0].enabled = false; // address 3's slot, values kept
                }
            }
        },
        no_audit,
    );
    assert!(
        verdict(&steps).ends_with("slot 0/disabled value 0 is 0"),
        "{}",
        verdict(&steps)
    );
}

#[test]
fn either_sign_and_any_counter_are_accepted() {
    // the free choices the soundness argument allows: negated y on both sides of a tuple
    let (steps, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    let mut s2 = steps.clone();
    for s in s2.iter_mut() {
        if let Step::Boundary { slots, .. } = s {
            for b in slots.iter_mut() {
                b.h_in.negate = true;
            }
        }
    }
    // negating an incoming point changes G: the result only verifies if it still sums to S
    let v = verdict(&s2);
    assert!(v == "G is not back at S" || v == "accepted", "{v}");
}

#[test]
fn a_re_split_address_and_tag_changes_the_trace_hash() {
    // Against packing `a + 2^64·tag` into one trace element (the op slot does not range-check
    // `a`): op 2, a read at `a`, re-split as a write at `a − 2^64` has the same packed element
    // `a − 2^64 + 2^64·(tag + 1)`, so a prover could choose such splits after seeing the
    // challenges. Addresses and tags are absorbed separately, so the trace hash moves.
    let (honest, _) = forged(&ops(), 4, no_pre, no_edit, no_audit);
    let close = honest
        .iter()
        .position(|s| matches!(s, Step::Boundary { close: true, .. }))
        .unwrap();
    let mut seg = honest[..=close].to_vec();
    let seed = trace_hash_seed(64);
    let t_honest = open_segment_steps(shape().time_bits, seed, 0, &mut seg.clone());
    let o = op_slot(&mut seg, 0, 1);
    assert!(!o.is_write && o.enabled);
    let two64 = F::from_u128(1u128 << 64);
    let packed = |a: F, w: bool| a + two64 * F::from(hasher::op_tag(w, false, true));
    assert_eq!(packed(o.addr, false), packed(o.addr - two64, true));
    o.is_write = true;
    o.addr -= two64;
    assert_ne!(
        open_segment_steps(shape().time_bits, seed, 0, &mut seg),
        t_honest
    );
}

#[test]
fn circuit_and_native_trace_hash_agree_across_tag_groups() {
    // 100 op slots per step: two tag groups (84 + 16), the second step partial (padding slots)
    let shape = StreamShape {
        ops_per_step: 100,
        boundary_slots: 8,
        time_bits: 16,
    };
    let ops = crate::trace::gen::program_trace(150, 3);
    let (steps, _, _) = steps_of_shape(shape, &ops, 200);
    let zn = run_shape(shape, &steps, canonical(trace_hash_seed(64), 0)).unwrap();
    let (count, t) = trace_hash(ops.iter().copied(), 64, 100);
    assert_eq!(count, 150);
    assert_eq!(zn[z::T], t);
    assert_eq!(zn[z::TIME], F::from(150));
}

mod final_steps;
use final_steps::mixed_ops;

/// Consistent ops over `addrs` addresses from a seeded generator (reads return what was written).
fn seeded_ops(n: usize, addrs: u64, seed: u64) -> Vec<Op> {
    let mut x = seed | 1;
    let mut mem = std::collections::HashMap::<u64, u64>::new();
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = (x >> 11) % addrs * 3;
            if x % 3 == 0 {
                mem.insert(a, x >> 40);
                Op::write(a, x >> 40)
            } else {
                Op::read(a, mem.get(&a).copied().unwrap_or(0))
            }
        })
        .collect()
}

#[test]
fn plan_forecasts_the_steps_the_prover_builds() {
    // by variant: audit steps run the boundary circuit (the same index)
    let kind = |s: &Step| match s {
        Step::Op { .. } => 0,
        Step::Boundary { .. } => 1,
        Step::Audit { .. } => 2,
        Step::Fresh { .. } => 3,
    };
    let count = |steps: &[Step], i: usize| steps.iter().filter(|s| kind(s) == i).count();
    for (n, addrs, seed) in [(10, 4, 1), (37, 9, 2), (64, 40, 3), (90, 200, 4), (8, 8, 5)] {
        let ops = seeded_ops(n, addrs, seed);
        for l in [4, 8, 12, 40, 1000] {
            let items = ops
                .iter()
                .enumerate()
                .map(|(i, o)| -> crate::backend::TraceItem { Ok((i + 1, *o)) });
            let (_, _, s) =
                plan_with_schedule(shape(), 64, &mut items.into_iter(), Some(l), 1).unwrap();
            let (steps, native, _) = steps_of(&ops, l);
            let at = format!("{n} ops over {addrs} addresses, segments of {l}");
            assert_eq!(s.op, count(&steps, 0), "{at}");
            assert_eq!(s.boundary, count(&steps, 1), "{at}");
            assert_eq!(s.audit, count(&steps, 2), "{at}");
            assert_eq!(s.fresh, count(&steps, 3), "{at}");
            assert_eq!(s.segments, n.div_ceil(l), "{at}");
            assert_eq!(s.distinct, native.touched(), "{at}");
            let slots: usize = steps
                .iter()
                .map(|st| match st {
                    Step::Boundary { slots, .. } => slots.iter().filter(|b| b.enabled).count(),
                    _ => 0,
                })
                .sum();
            assert_eq!(s.boundary_slots, slots as u64, "{at}");
        }
    }
    // an empty trace: a padding boundary step and a padding audit step
    let (_, _, s) = plan_with_schedule(shape(), 64, &mut std::iter::empty(), Some(4), 1).unwrap();
    assert_eq!((s.op, s.boundary, s.audit, s.fresh), (0, 1, 1, 0));
}

/// The prover's lazy steps (ops held, each op step rebuilt as it is taken) are the eager steps,
/// challenges included, and leave the same native state, segment by segment: on seeded traces
/// over few and many addresses, a trace with stack pushes and pops, and the empty trace; whole
/// and partial op steps in every segment, one segment or many; 32-, 64- and 256-bit words.
#[test]
fn lazy_steps_are_the_eager_steps() {
    let same = |a: &Native, b: &Native, at: &str| {
        assert_eq!(a.t, b.t, "{at}: trace hash");
        assert_eq!(a.time, b.time, "{at}: time");
        assert_eq!(a.g, b.g, "{at}: G");
        assert_eq!(a.mem, b.mem, "{at}: memory");
    };
    let mut traces: Vec<Vec<Op>> = [(10, 4, 1), (37, 9, 2), (64, 40, 3), (90, 200, 4), (8, 8, 5)]
        .iter()
        .map(|&(n, addrs, seed)| seeded_ops(n, addrs, seed))
        .collect();
    traces.push(mixed_ops());
    let stack = |kind: crate::trace::OpKind, addr: u64, v: u64| Op {
        kind,
        addr,
        value: Word::from(v),
    };
    let (push, pop) = (crate::trace::OpKind::Push, crate::trace::OpKind::Pop);
    let mut with_stack = mixed_ops();
    with_stack.splice(
        2..2,
        [
            stack(push, 500, 9),
            stack(push, 501, 8),
            stack(pop, 501, 8),
            stack(pop, 500, 9),
            stack(push, 500, 7),
        ],
    );
    traces.push(with_stack);
    traces.push(Vec::new());
    for (ti, ops) in traces.iter().enumerate() {
        let numbered: Vec<(usize, Op)> = ops.iter().enumerate().map(|(i, o)| (i + 1, *o)).collect();
        for (l, wb) in [4, 6, 8, 12, 40, 1000]
            .into_iter()
            .flat_map(|l| [32, 64, 256].map(|wb| (l, wb)))
        {
            let (mut eager, mut lazy) = (Native::new(shape(), wb), Native::new(shape(), wb));
            let chunks: Vec<&[(usize, Op)]> = if numbered.is_empty() {
                vec![&[]]
            } else {
                numbered.chunks(l).collect()
            };
            for (j, seg) in chunks.iter().enumerate() {
                let at = format!("trace {ti}, {wb}-bit words, segments of {l}, segment {j}");
                let last = j + 1 == chunks.len();
                let (want, got) = if last {
                    let (want, wl) = eager.last_segment(seg).unwrap();
                    let (steps, gl) = lazy.last_segment_lazy(seg.to_vec()).unwrap();
                    assert_eq!(wl, gl, "{at}: last audited address");
                    (want, steps)
                } else {
                    (
                        eager.segment(seg).unwrap(),
                        lazy.segment_lazy(seg.to_vec()).unwrap(),
                    )
                };
                assert_eq!(got.len(), want.len(), "{at}: step count");
                let got: Vec<Step> = got.collect();
                assert_eq!(got, want, "{at}: steps");
                same(&eager, &lazy, &at);
            }
        }
    }
}

/// An inconsistent op is refused by the lazy path before anything of its segment is applied,
/// like the eager one.
#[test]
fn lazy_steps_refuse_an_inconsistent_segment_untouched() {
    let mut n = Native::new(shape(), 64);
    let before = n.clone();
    let bad = vec![(1, Op::write(3, 7u64)), (2, Op::read(3, 8u64))];
    let err = n
        .segment_lazy(bad.clone())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(n.last_segment_lazy(bad).is_err());
    assert_eq!(
        (n.t, n.time, n.g, &n.mem),
        (before.t, before.time, before.g, &before.mem)
    );
}
