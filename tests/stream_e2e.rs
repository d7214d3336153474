//! End-to-end tests of the streaming backend: fold segment by segment, compress, verify; refuse
//! inconsistent ops; tampered claims are rejected.

use ff::Field;
use foldmem::nova::VerifyError;
use foldmem::pipeline::{self, KeyOptions};
use foldmem::proof::Shape;
use foldmem::stream::{self, StreamKeys, StreamOptions, StreamProver, StreamShape};
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
    K.get_or_init(|| pipeline::keys(Shape::Stream(shape()), &KeyOptions::none()).unwrap())
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
    stream::verify_folded(&st().pp, &shape(), &f.snark, &f.outputs).unwrap();
    let c = stream::compress_proof(st(), &f.snark).unwrap();
    stream::verify_compressed(&st().pp, &st().vk, &shape(), &c, &f.outputs).unwrap();
    // tampered claims
    let mut o = f.outputs;
    o.trace_hash += F::ONE;
    assert_eq!(
        stream::verify_compressed(&st().pp, &st().vk, &shape(), &c, &o),
        Err(VerifyError::OutputMismatch("final state"))
    );
    let mut o = f.outputs;
    o.op_count -= 1;
    assert!(stream::verify_compressed(&st().pp, &st().vk, &shape(), &c, &o).is_err());
    let mut o = f.outputs;
    o.audited = false;
    assert!(matches!(
        stream::verify_compressed(&st().pp, &st().vk, &shape(), &c, &o),
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
    let mut p = StreamProver::new(st(), 64, &StreamOptions { segment_ops: 4, ..Default::default() }).unwrap();
    let mut err = None;
    for (i, op) in o.iter().enumerate() {
        if let Err(e) = p.push(i + 1, op) {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("refused when its segment completes");
    assert_eq!(e.exit_code(), 4);
    assert!(e.to_string().contains("line 7: read of 0xc8 returned 2, last written 1"), "{e}");
}
