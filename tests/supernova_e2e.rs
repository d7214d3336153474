//! SuperNova end to end: mixed read/write/push/pop traces folded per opcode, compressed with
//! batched Spartan, verified; tampered claims and broken stack discipline are rejected.

use ff::Field;
use foldmem::backends::supernova::{
    self, OpCircuit, Opcode, OpcodeParams, SupernovaError, SupernovaProver, SupernovaShape,
};
use foldmem::error::VerifyError;
use foldmem::folding::SupernovaKeySet;
use foldmem::tree::TreeParams;
use foldmem::{Op, OpKind, Word, F};
use std::sync::OnceLock;

fn shape() -> SupernovaShape {
    SupernovaShape {
        tree: TreeParams::new(12, 8).unwrap(),
        stack_base: 0x800,
        stack_log_depth: 2,
    }
}

/// Parameters and compression keys of the test shape (made once).
fn keys() -> &'static SupernovaKeySet<OpCircuit> {
    static K: OnceLock<SupernovaKeySet<OpCircuit>> = OnceLock::new();
    K.get_or_init(|| {
        SupernovaKeySet::generate(&supernova::Isa {
            shape: shape(),
            first: Opcode::Read,
        })
        .unwrap()
    })
}

fn pp() -> &'static OpcodeParams {
    &keys().pp
}

fn push(a: u64, v: u64) -> Op {
    Op {
        kind: OpKind::Push,
        addr: a,
        value: Word::from_u64(v),
    }
}
fn pop(a: u64, v: u64) -> Op {
    Op {
        kind: OpKind::Pop,
        addr: a,
        value: Word::from_u64(v),
    }
}

fn ops() -> Vec<Op> {
    vec![
        Op::write(5, 9u64),
        push(0x800, 1),
        Op::read(5, 9u64),
        Op::read(6, 0u64),
        pop(0x800, 1),
        Op::write(6, 3u64),
    ]
}

#[test]
fn mixed_trace_proves_compresses_and_verifies() {
    let mut p = SupernovaProver::new(pp(), shape(), 64);
    for (i, op) in ops().iter().enumerate() {
        p.push(i + 1, op).unwrap();
    }
    let (snark, out) = p.finish().unwrap();
    assert_eq!(out.op_count, 6);
    assert_eq!(out.trace_hash, supernova::trace_hash(ops(), 64).1);
    supernova::verify_folded(pp(), &shape(), &snark, &out).unwrap();
    let keys = keys();
    let c = keys.compress(&snark).unwrap();
    supernova::verify_compressed(keys, &shape(), &c, &out).unwrap();
    let mut t = out;
    t.trace_hash += F::ONE;
    assert_eq!(
        supernova::verify_compressed(keys, &shape(), &c, &t),
        Err(VerifyError::OutputMismatch("trace hash"))
    );
    let mut t = out;
    t.final_sp = 1;
    assert_eq!(
        supernova::verify_compressed(keys, &shape(), &c, &t),
        Err(VerifyError::OutputMismatch("stack pointer"))
    );
    let mut t = out;
    t.op_count = 5;
    assert_eq!(
        supernova::verify_compressed(keys, &shape(), &c, &t),
        Err(VerifyError::OutputMismatch("op count"))
    );
    // a claim from another initial memory: the library verifier states the empty memory
    let mut t = out;
    t.initial_root += F::ONE;
    assert_eq!(
        supernova::verify_compressed(keys, &shape(), &c, &t),
        Err(VerifyError::InitialRoot)
    );
}

#[test]
fn honest_prover_refuses_broken_stack_and_reads() {
    let mut p = SupernovaProver::new(pp(), shape(), 64);
    let e = p.push(1, &pop(0x7ff, 0)).unwrap_err();
    assert!(
        matches!(e, SupernovaError::Stack { line: 1, ref msg } if msg.contains("empty")),
        "{e}"
    );
    for i in 0..4 {
        p.push(i + 2, &push(0x800 + i as u64, 1)).unwrap();
    }
    let e = p.push(6, &push(0x804, 1)).unwrap_err();
    assert!(
        matches!(e, SupernovaError::Stack { line: 6, ref msg } if msg.contains("depth")),
        "{e}"
    );
    let e = p.push(7, &pop(0x802, 1)).unwrap_err();
    assert!(
        matches!(e, SupernovaError::Stack { line: 7, ref msg } if msg.contains("stack top")),
        "{e}"
    );
    let e = p.push(8, &Op::read(0x803, 2u64)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 8: read of 0x803 returned 2, last written 1"
    );
    assert!(matches!(
        SupernovaProver::new(pp(), shape(), 64).finish(),
        Err(SupernovaError::Empty)
    ));
}
