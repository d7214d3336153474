//! Soundness tests of the opcode circuits: honest ops satisfy their circuit; forged witnesses,
//! wrong dispatch and broken stack discipline fail a named constraint or the trace hash.

use super::*;
use arecibo::traits::circuit_supernova::StepCircuit;
use bellpepper_core::test_cs::TestConstraintSystem;

fn shape() -> SupernovaShape {
    SupernovaShape {
        tree: TreeParams::new(12, 8).unwrap(),
        stack_base: 0x800,
        stack_log_depth: 2,
    }
}

fn push(a: u64, v: u64) -> Op {
    Op {
        kind: OpKind::Push,
        addr: a,
        value: crate::Word::from_u64(v),
    }
}
fn pop(a: u64, v: u64) -> Op {
    Op {
        kind: OpKind::Pop,
        addr: a,
        value: crate::Word::from_u64(v),
    }
}

fn ops() -> Vec<Op> {
    vec![
        Op::write(5, 9u64),
        push(0x800, 1),
        push(0x801, 2),
        Op::read(5, 9u64),
        pop(0x801, 2),
        Op::read(0x801, 2u64),
        pop(0x800, 1),
    ]
}

/// Build each op's circuit (with next pc) and the state before it, like the prover.
fn circuits(ops: &[Op]) -> Vec<(OpCircuit, Vec<F>)> {
    let s = shape();
    let mut st = MemoryState::new(s.tree, 64);
    let mut sp = 0u64;
    let mut h = trace_hash_seed(64);
    let mut out: Vec<(OpCircuit, Vec<F>)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let z = st.z();
        let z = vec![z[0], z[1], h, F::from(sp)];
        let w = st.apply(i + 1, op).unwrap();
        h = trace_hash_step_op(h, op.kind.opcode(), op.addr, w.value);
        let opcode = Opcode::of(op.kind);
        if let Some(last) = out.last_mut() {
            last.0.w.next_pc = opcode as u64;
        }
        out.push((
            OpCircuit {
                shape: s,
                opcode,
                w: SupernovaWitness {
                    op: w,
                    sp,
                    next_pc: 0,
                },
            },
            z,
        ));
        match op.kind {
            OpKind::Push => sp += 1,
            OpKind::Pop => sp -= 1,
            _ => {}
        }
    }
    out
}

fn run(c: &OpCircuit, z: &[F]) -> (Option<String>, Vec<F>) {
    let mut cs = TestConstraintSystem::<F>::new();
    let zs = crate::gadgets::alloc_state(&mut cs, z).unwrap();
    let (_, out) = c.synthesize(&mut cs, None, &zs).unwrap();
    (
        cs.which_is_unsatisfied().map(String::from),
        out.iter().map(|o| o.get_value().unwrap()).collect(),
    )
}

#[test]
fn honest_ops_satisfy_their_circuits() {
    let cs = circuits(&ops());
    for (i, (c, z)) in cs.iter().enumerate() {
        let (bad, out) = run(c, z);
        assert_eq!(bad, None, "op {i}");
        if let Some((_, next_z)) = cs.get(i + 1) {
            assert_eq!(&out, next_z, "op {i} output = native state");
        }
    }
    let (_, last) = run(&cs[6].0, &cs[6].1);
    assert_eq!(
        last[2],
        trace_hash(ops(), 64).1,
        "circuit trace hash = native"
    );
    assert_eq!(last[3], F::ZERO, "stack empty again");
}

#[test]
fn read_costs_about_half_a_write() {
    let s = SupernovaShape {
        tree: TreeParams::new(64, 8).unwrap(),
        stack_base: 0x1000,
        stack_log_depth: 8,
    };
    let [r, w, pu, po] = opcode_constraints(s);
    eprintln!("opcode constraints at 2^64: read {r}, write {w}, push {pu}, pop {po}");
    assert!((r as f64) < 0.55 * w as f64 && (po as f64) < 0.55 * pu as f64);
}

#[test]
fn wrong_read_value_is_rejected() {
    let cs = circuits(&ops());
    let (mut c, z) = cs[3].clone();
    c.w.op.value = F::from(8);
    assert_eq!(run(&c, &z).0.as_deref(), Some("read value = old leaf/a=b"));
    let (mut c, z) = cs[4].clone(); // a pop reads too
    c.w.op.value = F::from(3);
    assert_eq!(run(&c, &z).0.as_deref(), Some("read value = old leaf/a=b"));
}

#[test]
fn write_dispatched_to_the_read_circuit_is_rejected() {
    let cs = circuits(&ops());
    // the write of 9 at 5 (op 0) proven by the cheaper read circuit
    let (c, z) = cs[0].clone();
    let forged = OpCircuit {
        opcode: Opcode::Read,
        ..c.clone()
    };
    assert_eq!(
        run(&forged, &z).0.as_deref(),
        Some("read value = old leaf/a=b"),
        "memory cannot change"
    );
    // a "write" of the value already there passes the read circuit, but hashes as a read
    let mut same = c.clone();
    same.w.op.value = F::ZERO;
    let (bad, out) = run(
        &OpCircuit {
            opcode: Opcode::Read,
            ..same
        },
        &z,
    );
    assert_eq!(bad, None);
    let honest = trace_hash([Op::write(5, 0u64)], 64).1;
    assert_ne!(out[2], honest, "the trace hash exposes the wrong opcode");
}

#[test]
fn next_pc_must_be_an_opcode() {
    let cs = circuits(&ops());
    let (mut c, z) = cs[0].clone();
    c.w.next_pc = 7;
    assert_eq!(run(&c, &z).0.as_deref(), Some("next pc is an opcode"));
}

#[test]
fn stack_discipline_is_enforced() {
    let cs = circuits(&ops());
    // pop from an empty stack
    let (mut c, mut z) = cs[6].clone();
    z[3] = F::ZERO;
    c.w.sp = 0;
    assert_eq!(run(&c, &z).0.as_deref(), Some("sp above base/a=b"));
    // push past the depth (2^2 = 4)
    let (mut c, mut z) = cs[1].clone();
    z[3] = F::from(4);
    c.w.sp = 4;
    assert_eq!(run(&c, &z).0.as_deref(), Some("sp below depth/a=b"));
    // push to an address other than base + sp
    let (c, mut z) = cs[2].clone();
    z[3] = F::ZERO;
    let mut c = c;
    c.w.sp = 0;
    assert_eq!(run(&c, &z).0.as_deref(), Some("push address/a=b"));
}
