//! Tests of the in-fold gadget: an honest run of a two-circuit toy program satisfies every step
//! and ends in the verifier's end state; each forging prover breaks the named constraint or the
//! verifier's end-state check; the native companion refuses bad calls by name.

use super::circuit::{fresh_index, StepKind};
use super::prover::{check_end, Recorder};
use super::*;
use crate::backends::stream::{OpSlot, Step};
use crate::engine::F;
use crate::gadgets::{alloc_num, alloc_state, bit};
use arecibo::traits::circuit_supernova::StepCircuit;
use bellpepper_core::boolean::Boolean;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::test_cs::TestConstraintSystem;
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// A toy program over the user state `[a, acc]`. Circuit 0 (2 slots): `v = read(a)`,
/// `write(a, v + 1)`, `acc = v + 1`, and picks the next circuit. Circuit 1 (3 slots): if `en`,
/// `acc += read(a + 1)` (else a disabled read), `a += 1`, next circuit 0; two slots unused.
#[derive(Clone, Debug)]
struct Toy {
    index: usize,
    next: usize,
    en: bool,
}

impl MemoryCircuit for Toy {
    fn circuits() -> usize {
        2
    }
    fn arity() -> usize {
        2
    }
    fn memory_slots(index: usize) -> usize {
        [2, 3][index]
    }
    fn blank(index: usize) -> Self {
        Toy {
            index,
            next: 0,
            en: false,
        }
    }
    fn circuit_index(&self) -> usize {
        self.index
    }
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        mem: &mut MemoryVar,
        z: &[AllocatedNum<F>],
    ) -> Result<(Num<F>, Vec<AllocatedNum<F>>), SynthesisError> {
        let (a, acc) = (Num::from(z[0].clone()), Num::from(z[1].clone()));
        if self.index == 0 {
            let v = mem.read(cs.namespace(|| "read"), &a)?;
            let w = alloc_num(
                cs.namespace(|| "v + 1"),
                &Num::from(v).add_bool_with_coeff(CS::one(), &Boolean::constant(true), F::ONE),
            )?;
            mem.write(cs.namespace(|| "write"), &a, &Num::from(w.clone()))?;
            let next =
                AllocatedNum::alloc(cs.namespace(|| "next"), || Ok(F::from(self.next as u64)))?;
            Ok((next.into(), vec![z[0].clone(), w]))
        } else {
            let en = bit(cs.namespace(|| "en"), self.en)?;
            let a1 = a.add_bool_with_coeff(CS::one(), &Boolean::constant(true), F::ONE);
            let r = mem.read_if(cs.namespace(|| "read"), &en, &a1)?;
            let a_out = alloc_num(cs.namespace(|| "a + 1"), &a1)?;
            let acc_out = alloc_num(cs.namespace(|| "acc + r"), &acc.add(&Num::from(r)))?;
            Ok((Num::zero(), vec![a_out, acc_out]))
        }
    }
}

fn shape() -> GadgetShape {
    GadgetShape {
        boundary_slots: 2,
        time_bits: 16,
    }
}

/// The toy's native run: `(circuit, next, en)` per step from state `[a, acc] = [5, 0]`, in
/// segments of `l` calls; the program steps of every segment, the last with the audit.
fn plan() -> Vec<(usize, usize, bool)> {
    vec![
        (0, 1, true),
        (1, 0, true),
        (0, 0, true),
        (0, 1, true),
        (1, 0, false),
        (0, 1, true),
        (1, 0, true),
        (0, 0, true),
    ]
}

fn z0_user() -> Vec<F> {
    vec![F::from(5), F::ZERO]
}

/// The toy's witness generation: the calls circuit `index` makes at address `a`.
fn toy_calls(mem: &mut NativeMemory, a: &mut u64, index: usize, en: bool) {
    if index == 0 {
        let v = mem.read(*a);
        mem.write(*a, v + 1);
    } else {
        if en {
            mem.read(*a + 1);
        } else {
            mem.skip();
        }
        *a += 1;
    }
}

/// Push the toy's `steps` (`(circuit, next, en)`) with their native calls, from address `a`.
fn push_toy(prover: &mut MemoryProver<Toy>, a: &mut u64, steps: &[(usize, usize, bool)]) {
    for &(index, next, en) in steps {
        let mut mem = prover.memory();
        toy_calls(&mut mem, a, index, en);
        let calls = mem.finish();
        prover.push(Toy { index, next, en }, calls).unwrap();
    }
}

/// A forging prover's edit of segment `j`'s steps.
type SegmentEdit<'a> = &'a mut dyn FnMut(usize, &mut Vec<Step>);

/// Record `plan` natively; `edit(j, steps)` forges segment `j`'s steps (challenges and `G`
/// re-derived), `None` for an honest run.
fn steps_with(
    plan: &[(usize, usize, bool)],
    l: usize,
    mut edit: Option<SegmentEdit<'_>>,
) -> Vec<ProgramCircuit<Toy>> {
    let mut rec = Recorder::<Toy>::new(shape(), l);
    let (mut a, mut out) = (5u64, Vec::new());
    let mut segment = 0;
    for &(index, next, en) in plan {
        let mut mem = rec.memory();
        toy_calls(&mut mem, &mut a, index, en);
        let calls = mem.finish();
        if rec.segment_full() {
            if let Some(e) = edit.as_mut() {
                // close the full segment ourselves, forged
                let seg = segment;
                out.extend(
                    rec.close_edited(false, Some(&mut |s: &mut Vec<Step>| e(seg, s)))
                        .unwrap(),
                );
            }
            segment += 1;
        }
        out.extend(rec.push(Toy { index, next, en }, calls).unwrap());
    }
    let seg = segment;
    let last = match edit {
        Some(e) => rec
            .close_edited(true, Some(&mut |s: &mut Vec<Step>| e(seg, s)))
            .unwrap(),
        None => rec.close(true).unwrap(),
    };
    out.extend(last);
    out
}

fn honest() -> Vec<ProgramCircuit<Toy>> {
    steps_with(&plan(), 3, None)
}

/// Synthesize the program steps in sequence (each step's next circuit set from the one after
/// it); the first unsatisfied constraint, or the final state.
fn run(steps: &[ProgramCircuit<Toy>]) -> Result<Vec<F>, String> {
    run_from(0, steps)
}

/// [`run`] from a start state that names `first` as the first user circuit.
fn run_from(first: usize, steps: &[ProgramCircuit<Toy>]) -> Result<Vec<F>, String> {
    let circuits = steps.iter().enumerate().map(|(i, s)| ProgramCircuit {
        next: steps
            .get(i + 1)
            .map(|n| n.circuit_index())
            .unwrap_or(curve_index::<Toy>()),
        ..s.clone()
    });
    crate::gadgets::run_steps(circuits, statement_z0::<Toy>(first, &z0_user()))
}

/// The verdict on a run: the first unsatisfied constraint, else the verifier's end-state check.
fn verdict(steps: &[ProgramCircuit<Toy>]) -> String {
    match run(steps) {
        Err(e) => e,
        Ok(zn) => match check_end::<Toy>(&shape(), &zn) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        },
    }
}

/// Position of the `n`-th user step.
fn user_step(steps: &[ProgramCircuit<Toy>], n: usize) -> usize {
    steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::User { .. }))
        .nth(n)
        .unwrap()
        .0
}

/// Assert that the run is refused with a verdict naming `why` (synthesizing it once).
fn assert_refused(steps: &[ProgramCircuit<Toy>], why: &str) {
    let v = verdict(steps);
    assert!(v.contains(why), "{v}");
}

fn user_slots(c: &mut ProgramCircuit<Toy>) -> &mut Vec<OpSlot> {
    match &mut c.kind {
        StepKind::User { slots, .. } => slots,
        _ => panic!("not a user step"),
    }
}

#[test]
fn an_honest_run_satisfies_every_step_and_ends_in_the_verifiers_state() {
    let steps = honest();
    let users = steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::User { .. }))
        .count();
    assert_eq!(users, plan().len());
    assert!(
        steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::Library(Step::Boundary { .. }))),
        "several segments"
    );
    let zn = run(&steps).unwrap();
    let out = check_end::<Toy>(&shape(), &zn).unwrap();
    // a = 5 + 3 moves; acc: the last step was circuit 0 at a = 8, which read 0 and wrote 1
    assert_eq!(out.z_user, vec![F::from(8), F::ONE]);
    // 2 calls per circuit-0 step (5 of them), 1 per enabled circuit-1 step (2)
    assert_eq!(out.op_count, 12);
}

#[test]
fn a_user_step_reading_a_wrong_value_breaks_the_read_constraint() {
    let mut steps = honest();
    // user step 2 (circuit 0) reads address 6, which step 1 read as 0: claim 7
    let i = user_step(&steps, 2);
    user_slots(&mut steps[i])[0].value = F::from(7);
    assert_refused(&steps, "read value = prev value");
}

#[test]
fn a_forger_reading_a_wrong_previous_value_fails_the_segment_check() {
    // the forger edits the read's value and its previous value together, and re-derives the
    // segment's challenges from the edit: the multiset check at the close fails
    let mut edit = |seg: usize, s: &mut Vec<Step>| {
        if seg == 1 {
            if let Step::Op { slots, .. } = &mut s[0] {
                slots[0].value = F::from(7);
                slots[0].prev_value = F::from(7);
                // the step writes back what it read plus one
                slots[1].value = F::from(8);
            }
        }
    };
    let steps = steps_with(&plan(), 3, Some(&mut edit));
    assert_refused(&steps, "RS = WS");
}

#[test]
fn a_disabled_read_returns_zero() {
    let mut steps = honest();
    let i = steps
        .iter()
        .position(|s| matches!(&s.kind, StepKind::User { circuit, .. } if circuit.index == 1 && !circuit.en))
        .unwrap();
    let slots = user_slots(&mut steps[i]);
    slots[0].value = F::from(9);
    slots[0].prev_value = F::from(9);
    assert_refused(&steps, "disabled prev value is 0");
}

#[test]
fn skipping_a_segment_close_fails_the_next_close() {
    // drop segment 0's boundary steps: segment 1's steps run in segment 0, whose challenges
    // were derived for segment 0 alone
    let mut steps = honest();
    let first_close = steps
        .iter()
        .position(|s| matches!(s.kind, StepKind::Library(_)))
        .unwrap();
    while matches!(steps[first_close].kind, StepKind::Library(_)) {
        steps.remove(first_close);
    }
    assert_refused(&steps, "gamma is the segment hash");
}

#[test]
fn skipping_the_audit_fails_the_end_state() {
    let mut steps = honest();
    while matches!(steps.last().unwrap().kind, StepKind::Library(_)) {
        steps.pop();
    }
    assert_refused(&steps, "the audit never ran");
}

#[test]
fn challenges_of_another_segment_fail_the_close() {
    let mut steps = honest();
    let opening = |c: &ProgramCircuit<Toy>| match &c.kind {
        StepKind::User { open, .. } => *open,
        _ => panic!(),
    };
    let first = opening(&steps[0]);
    // the first user step after segment 0's close opens segment 1
    let close = steps
        .iter()
        .position(|s| matches!(s.kind, StepKind::Library(_)))
        .unwrap();
    let open1 = (close..steps.len())
        .find(|&i| matches!(steps[i].kind, StepKind::User { .. }))
        .unwrap();
    assert_ne!(opening(&steps[open1]), first);
    if let StepKind::User { open, .. } = &mut steps[open1].kind {
        *open = first;
    }
    assert_refused(&steps, "gamma is the segment hash");
}

#[test]
fn a_user_step_cannot_write_the_memory_slice() {
    // the wrapper writes the memory slice from the handle: a prover that sets an output of it
    // to anything else breaks the output's constraint
    let steps = honest();
    let mut c = steps[0].clone();
    c.next = steps[1].circuit_index();
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = alloc_state(&mut cs, &statement_z0::<Toy>(0, &z0_user())).unwrap();
    let (_, out) = c.synthesize(&mut cs, None, &zs).unwrap();
    assert!(cs.is_satisfied());
    assert_eq!(out.len(), MEMORY_ARITY + Toy::arity());
    for i in 0..crate::backends::stream::circuit::z::ARITY {
        let path = format!("out {i}/num/num");
        let v = cs.get(&path);
        cs.set(&path, v + F::ONE);
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some(format!("out {i}/num=lc").as_str())
        );
        cs.set(&path, v);
    }
    // a library step hands the user state on as the same variables, and NEXT with it
    let lib = steps
        .iter()
        .find(|s| matches!(s.kind, StepKind::Library(Step::Boundary { .. })))
        .unwrap();
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = alloc_state(&mut cs, &vec![F::ZERO; MEMORY_ARITY + 2]).unwrap();
    let mut lib = lib.clone();
    lib.next = curve_index::<Toy>();
    let (_, out) = lib.synthesize(&mut cs, None, &zs).unwrap();
    for i in NEXT..MEMORY_ARITY + 2 {
        assert_eq!(out[i].get_variable(), zs[i].get_variable(), "z[{i}] copied");
    }
}

#[test]
fn a_user_step_runs_only_the_circuit_the_last_one_chose() {
    // the SuperNova program counter already follows the user's choice after the first step;
    // the first step, whose circuit arecibo takes from the prover, must be the one z0 names
    let steps = honest();
    assert!(run_from(0, &steps).is_ok());
    let e = run_from(1, &steps).unwrap_err();
    assert!(e.contains("step 0: runs the chosen circuit"), "{e}");
}

#[test]
fn the_next_circuit_is_a_user_or_library_circuit() {
    let steps = honest();
    // a user choice outside the user's circuits
    let mut c = steps[0].clone();
    if let StepKind::User { circuit, .. } = &mut c.kind {
        circuit.next = 2;
    }
    c.next = 2;
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = alloc_state(&mut cs, &statement_z0::<Toy>(0, &z0_user())).unwrap();
    c.synthesize(&mut cs, None, &zs).unwrap();
    assert_eq!(cs.which_is_unsatisfied(), Some("next is a user circuit"));
    // a program counter that is neither the user's choice nor a library circuit
    let mut c = steps[0].clone();
    c.next = fresh_index::<Toy>() + 1;
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = alloc_state(&mut cs, &statement_z0::<Toy>(0, &z0_user())).unwrap();
    c.synthesize(&mut cs, None, &zs).unwrap();
    assert_eq!(
        cs.which_is_unsatisfied(),
        Some("next pc allowed/one of three")
    );
}

#[test]
fn no_user_step_after_the_audit() {
    let mut steps = honest();
    let mut extra = steps[0].clone();
    if let StepKind::User { open, .. } = &mut extra.kind {
        *open = Default::default();
    }
    // the toy's last step chose circuit 0
    steps.push(extra);
    assert_refused(&steps, "no op or boundary after the audit");
}

#[test]
fn steps_of_several_sizes_hash_their_slot_counts() {
    // the native challenge derivation and the circuit agree on mixed-size steps (the honest
    // run closes every segment); a step recorded under another circuit's slot count does not
    let steps = honest();
    assert_eq!(verdict(&steps), "accepted");
    let mut edit = |seg: usize, s: &mut Vec<Step>| {
        if seg == 0 {
            if let Step::Op { slots, .. } = &mut s[0] {
                slots.push(OpSlot::default());
            }
        }
    };
    let steps = steps_with(&plan(), 3, Some(&mut edit));
    assert_refused(&steps, "synthesis");
}

#[test]
fn the_companion_refuses_bad_calls_by_name() {
    let mut rec = Recorder::<Toy>::new(shape(), 4);
    let mut mem = rec.memory();
    mem.write(3, 4);
    assert!(mem.read_checked(3, 4).is_ok());
    let e = mem.read_checked(3, 5).unwrap_err();
    assert!(
        matches!(
            e,
            GadgetError::Inconsistent {
                read: 2,
                step: 0,
                addr: 3,
                claimed: 5,
                held: 4
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("read 2 of the run"));
    let calls = mem.finish();
    assert_eq!(calls.len(), 2);
    // too many calls for circuit 0's two slots
    let mut mem = rec.memory();
    (0..3).for_each(|_| mem.skip());
    let three = mem.finish();
    assert!(matches!(
        rec.push(Toy::blank(0), three),
        Err(GadgetError::TooManyCalls {
            calls: 3,
            slots: 2,
            ..
        })
    ));
    // calls recorded before the previous step was pushed
    let stale = rec.memory().finish();
    rec.push(Toy::blank(0), calls).unwrap();
    assert!(matches!(
        rec.push(Toy::blank(0), stale),
        Err(GadgetError::Stale {
            made_at: 0,
            pushed_as: 1
        })
    ));
    let none = rec.memory().finish();
    assert!(matches!(
        rec.push(Toy::blank(2), none),
        Err(GadgetError::NoSuchCircuit { circuit: 2, .. })
    ));
    // the next step sees step 0's write
    assert_eq!(rec.memory().read(3), 4);
    // calls recorded on another prover's memory
    let other = Recorder::<Toy>::new(shape(), 4);
    let foreign = other.memory().finish();
    let e = rec.push(Toy::blank(0), foreign).unwrap_err();
    assert!(e.to_string().contains("another prover's memory"), "{e}");
}

/// A circuit that breaks its contract: one slot, two calls.
#[derive(Clone)]
struct Greedy;

impl MemoryCircuit for Greedy {
    fn circuits() -> usize {
        1
    }
    fn arity() -> usize {
        1
    }
    fn memory_slots(_: usize) -> usize {
        1
    }
    fn blank(_: usize) -> Self {
        Greedy
    }
    fn circuit_index(&self) -> usize {
        0
    }
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        mem: &mut MemoryVar,
        z: &[AllocatedNum<F>],
    ) -> Result<(Num<F>, Vec<AllocatedNum<F>>), SynthesisError> {
        let a = Num::from(z[0].clone());
        mem.read(cs.namespace(|| "one"), &a)?;
        mem.read(cs.namespace(|| "two"), &a)?;
        Ok((Num::zero(), z.to_vec()))
    }
}

#[test]
fn keys_for_a_circuit_that_breaks_its_contract_are_refused() {
    let e = GadgetKeys::<Greedy>::generate(shape()).err().unwrap();
    assert!(e.to_string().contains("does not synthesize"), "{e}");
}

#[test]
fn a_folded_and_compressed_run_verifies_only_from_its_own_start() {
    let keys = GadgetKeys::<Toy>::generate(shape()).unwrap();
    let mut prover =
        MemoryProver::new(&keys, 0, &z0_user(), GadgetOptions { segment_ops: 3 }).unwrap();
    let mut a = 5u64;
    push_toy(&mut prover, &mut a, &plan());
    let proof = prover.finish().unwrap();
    assert!(proof.segments >= 3);
    assert_eq!(proof.outputs.z_user, vec![F::from(8), F::ONE]);
    let snark = keys.compress(&proof).unwrap();
    let out = verify_compressed(&keys, &snark, 0, &z0_user()).unwrap();
    assert_eq!(out, proof.outputs);
    // another start state, another first circuit: the SNARK does not verify
    let other = vec![F::from(6), F::ZERO];
    assert!(matches!(
        verify_compressed(&keys, &snark, 0, &other),
        Err(crate::error::VerifyError::Snark(_))
    ));
    assert!(matches!(
        verify_compressed(&keys, &snark, 1, &z0_user()),
        Err(crate::error::VerifyError::Snark(_))
    ));
    assert!(matches!(
        verify_folded(&keys, &proof.snark, 2, &z0_user()),
        Err(crate::error::VerifyError::Statement(_))
    ));
    // a circuit that makes other calls than its witness generation recorded: the prover's
    // own check refuses to return a proof
    let mut prover = MemoryProver::new(&keys, 0, &z0_user(), GadgetOptions::default()).unwrap();
    let mut mem = prover.memory();
    let v = mem.read(5);
    mem.write(6, v + 1); // the circuit writes to a = 5
    let calls = mem.finish();
    prover
        .push(
            Toy {
                index: 0,
                next: 0,
                en: true,
            },
            calls,
        )
        .unwrap();
    assert!(matches!(prover.finish(), Err(GadgetError::Check(_))));

    // the same run in two parts, the handoff sent as bytes to another machine
    let opts = GadgetOptions { segment_ops: 3 };
    let (plan, mut a) = (plan(), 5u64);
    let mut part1 = MemoryProver::new(&keys, 0, &z0_user(), opts).unwrap();
    push_toy(&mut part1, &mut a, &plan[..4]);
    let (p1, handoff) = part1.finish_part().unwrap();
    let bytes = handoff.to_bytes().unwrap();
    let mut torn = bytes.clone();
    torn.truncate(bytes.len() - 1);
    let e = Handoff::from_bytes(&torn).err().unwrap();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    let handoff = Handoff::from_bytes(&bytes).unwrap();
    assert_eq!(handoff.steps(), 4);
    assert_eq!(handoff.z, p1.end);
    // a handoff whose memory does not match its state is refused
    let mut bad = handoff.clone();
    bad.z[crate::backends::stream::circuit::z::TIME] += F::ONE;
    assert!(matches!(
        MemoryProver::resume(&keys, bad, opts),
        Err(GadgetError::BadHandoff(_))
    ));
    // a memory that is not the one its multiset hash point stands for (an address forgotten)
    let mut bad = handoff.clone();
    let some = *bad.native_mut().mem.keys().next().unwrap();
    bad.native_mut().mem.remove(&some);
    let e = MemoryProver::resume(&keys, bad, opts).err().unwrap();
    assert!(e.to_string().contains("multiset hash point"), "{e}");
    // an address's value or time changed
    for change in [0, 1] {
        let mut bad = handoff.clone();
        let entry = bad.native_mut().mem.get_mut(&some).unwrap();
        if change == 0 {
            entry.0 = crate::word::Word::from(99u64);
        } else {
            entry.1 -= 1;
        }
        let e = MemoryProver::resume(&keys, bad, opts).err().unwrap();
        assert!(e.to_string().contains("multiset hash point"), "{e}");
    }
    let mut part2 = MemoryProver::resume(&keys, handoff, opts).unwrap();
    // the part continues with the circuit the last one chose
    let calls = part2.memory().finish();
    let other = Toy::blank(1 - plan[4].0);
    assert!(matches!(
        part2.push(other, calls),
        Err(GadgetError::Usage(_))
    ));
    push_toy(&mut part2, &mut a, &plan[4..]);
    let p2 = part2.finish().unwrap();
    assert_eq!(p2.outputs, proof.outputs);
    let parts = [
        keys.keys.compress(&p1.snark).unwrap(),
        keys.keys.compress(&p2.snark).unwrap(),
    ];
    assert_eq!(
        verify_parts(&keys, &parts, 0, &z0_user()).unwrap(),
        proof.outputs
    );
    // out of order, the last part alone, the first alone, none
    let swapped = [parts[1].clone(), parts[0].clone()];
    let e = |r: Result<MemoryOutputs, crate::error::VerifyError>| r.unwrap_err().to_string();
    assert!(e(verify_parts(&keys, &swapped, 0, &z0_user())).contains("does not verify"));
    assert!(e(verify_parts(&keys, &parts[1..], 0, &z0_user())).contains("does not verify"));
    assert!(e(verify_parts(&keys, &parts[..1], 0, &z0_user())).contains("the audit never ran"));
    assert!(e(verify_parts(&keys, &[], 0, &z0_user())).contains("none given"));

    // a checkpointed run that stops after six steps resumes from its last checkpoint
    let dir = std::env::temp_dir().join(format!("foldmem-gadget-cp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.checkpoint");
    let mut a = 5u64;
    let mut crashed = MemoryProver::new(&keys, 0, &z0_user(), opts)
        .unwrap()
        .with_checkpoint(&path);
    push_toy(&mut crashed, &mut a, &plan[..6]);
    drop(crashed);
    let mut resumed =
        MemoryProver::from_checkpoint(&keys, &path, &statement_z0::<Toy>(0, &z0_user()), opts)
            .unwrap();
    let from = resumed.steps() as usize;
    assert_eq!(from, 4, "the last closed segment ended before step 4");
    // the toy's own state at step 4, and the circuit the proof continues with
    let mut a = 5 + plan[..from].iter().filter(|s| s.0 == 1).count() as u64;
    let calls = resumed.memory().finish();
    let other = Toy::blank(1 - plan[from].0);
    assert!(matches!(
        resumed.push(other, calls),
        Err(GadgetError::Usage(_))
    ));
    push_toy(&mut resumed, &mut a, &plan[from..]);
    assert_eq!(resumed.finish().unwrap().outputs, proof.outputs);
    // a checkpoint of a run from another start is refused
    let other_start = statement_z0::<Toy>(0, &[F::from(6), F::ZERO]);
    let e = MemoryProver::from_checkpoint(&keys, &path, &other_start, opts)
        .err()
        .unwrap();
    assert!(e.to_string().contains("another start"), "{e}");
    // a corrupted checkpoint is refused with its reason
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err =
        MemoryProver::from_checkpoint(&keys, &path, &statement_z0::<Toy>(0, &z0_user()), opts)
            .err()
            .unwrap();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
