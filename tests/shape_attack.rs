//! The shape attack of issue 13, as a forging prover: a header that names a 65-bit Merkle
//! shape lets a read of the empty cell `2^64 + a` hash exactly like a write of `(a, 0)`, because
//! the trace hash packs `is_write·2^64 + addr`. Before shapes were validated, the verifier built
//! its keys from the proof's own header, and `foldmem verify --trace` accepted this proof of
//! `write(a,5); write(a,0); read(a,5)` — a trace `foldmem check` rejects.
//!
//! `tests/fixtures/forged-addr-bits-65.proof` is the proof this forging prover made on that code
//! (it verified there: `valid: true`). Now the header is refused before any setup, and the
//! forging prover cannot get keys for its shape.

mod common;

use arecibo::traits::circuit::StepCircuit;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;
use foldmem::backends::merkle::MerkleOutputs;
use foldmem::engine::F2;
use foldmem::folding::C2;
use foldmem::hash::{hash_node, trace_hash_circuit};
use foldmem::tree::{default_hashes, TreeParams};

use foldmem::backend::KeyOptions;
use foldmem::backends::merkle::MerkleShape;
use foldmem::gadgets::{add_bool, alloc_num, bits_to_num, enforce_eq, select, sub};
use foldmem::pipeline;
use foldmem::proof::ProofFileError;
use foldmem::proof::{Header, ProofFile, FORMAT_VERSION, MAGIC};
use foldmem::registry::{Body, Shape};
use foldmem::tree::circuit::Path;
use foldmem::tree::memory::MemoryState;
use foldmem::Error;
use foldmem::{Op, F};

/// The attacker's op: everything a `MerkleStep` slot allocates, in the same order, but with a
/// 128-bit address.
#[derive(Clone, Debug)]
struct WideOp {
    is_write: bool,
    addr: u128,
    value: F,
    old_leaf: F,
    siblings: Vec<Vec<F>>,
}

#[derive(Clone, Debug)]
enum Attack {
    Wide(MerkleShape, WideOp),
}

type State = (Num<F>, Num<F>, Num<F>);

fn wide_op<CS: ConstraintSystem<F>>(
    mut cs: CS,
    p: &TreeParams,
    w: &WideOp,
    (root, count, hash): State,
) -> Result<State, SynthesisError> {
    let en = Boolean::from(AllocatedBit::alloc(cs.namespace(|| "enabled"), Some(true))?);
    let wr = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "is_write"),
        Some(w.is_write),
    )?);
    cs.enforce(
        || "write implies enabled",
        |_| wr.lc(CS::one(), F::ONE),
        |_| en.not().lc(CS::one(), F::ONE),
        |lc| lc,
    );
    let bits = {
        let mut bcs = cs.namespace(|| "addr");
        (0..p.addr_bits)
            .map(|i| {
                Ok(Boolean::from(AllocatedBit::alloc(
                    bcs.namespace(|| format!("bit {i}")),
                    Some((w.addr >> i) & 1 == 1),
                )?))
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?
    };
    let old: Num<F> = AllocatedNum::alloc(cs.namespace(|| "old leaf"), || Ok(w.old_leaf))?.into();
    let value: Num<F> = AllocatedNum::alloc(cs.namespace(|| "value"), || Ok(w.value))?.into();
    cs.enforce(
        || "read value = old leaf",
        |_| wr.not().lc(CS::one(), F::ONE),
        |_| sub(&value, &old).lc(F::ONE),
        |lc| lc,
    );
    let path = Path::alloc(&mut cs, p, &bits, &w.siblings)?;
    let old_root = path.root(cs.namespace(|| "old path"), &old)?;
    enforce_eq(cs.namespace(|| "old path reaches root"), &old_root, &root);
    let new_root = path.root(cs.namespace(|| "new path"), &value)?;
    let new_count = add_bool::<CS>(count, &en, F::ONE);
    let two64 = F::from(u64::MAX) + F::ONE;
    let packed = add_bool::<CS>(bits_to_num::<CS>(&bits), &wr, two64);
    let link = trace_hash_circuit(
        &mut cs.namespace(|| "trace hash"),
        hash.clone(),
        packed,
        value,
    )?;
    let new_hash = select(cs.namespace(|| "hash if enabled"), &en, &link, &hash)?;
    Ok((new_root, new_count, new_hash))
}

impl StepCircuit<F> for Attack {
    fn arity(&self) -> usize {
        3
    }
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        z: &[AllocatedNum<F>],
    ) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        let Attack::Wide(p, w) = self;
        let zin = (
            z[0].clone().into(),
            z[1].clone().into(),
            z[2].clone().into(),
        );
        let (root, count, hash) = wide_op(cs.namespace(|| "op 0"), &p.tree, w, zin)?;
        Ok(vec![
            alloc_num(cs.namespace(|| "out root"), &root)?,
            alloc_num(cs.namespace(|| "out count"), &count)?,
            alloc_num(cs.namespace(|| "out hash"), &hash)?,
        ])
    }
}

/// Run the attack; returns the forged proof file and the inconsistent trace it claims, or why
/// the keys for the attacker's shape cannot be had.
fn forge() -> Result<(ProofFile, Vec<Op>), Error> {
    let a: u64 = 0x1234;
    let trace = vec![Op::write(a, 5u64), Op::write(a, 0u64), Op::read(a, 5u64)];
    let step = MerkleShape {
        tree: TreeParams {
            addr_bits: 65,
            arity: 8,
        },
        ops_per_step: 1,
    };
    let shape = Shape::new(step)?;
    let keys = pipeline::keys(shape, &KeyOptions::none())?;
    let nk = &keys
        .downcast::<foldmem::backends::merkle::MerkleKeys>()
        .expect("merkle keys")
        .keys;
    let pp: foldmem::folding::Params<Attack> = common::retype(&nk.pp);
    let pk: foldmem::folding::Pk<Attack> = common::retype(&nk.pk);

    // the honest memory after write(a, 5)
    let mut st = MemoryState::new(step.tree, 64);
    let z0 = st.z();
    let w0 = st.apply(1, &trace[0]).unwrap();
    // op 2 as the read of 2^64 + a: an empty leaf under the root's third child
    let d = default_hashes(&step.tree);
    let levels = step.tree.levels();
    let probe = st.clone().apply(2, &Op::read(a, 5u64)).unwrap().before;
    let mut child0 = probe.leaf;
    for (l, sib) in probe.siblings.iter().take(levels - 1).enumerate() {
        let mut c = sib.clone();
        c.insert(step.tree.position(a, l), child0);
        child0 = hash_node(&c);
    }
    let mut siblings: Vec<Vec<F>> = (0..levels - 1).map(|l| vec![d[l]; 7]).collect();
    let mut top = vec![d[levels - 1]; 7];
    top[0] = child0;
    siblings.push(top);
    let forged = WideOp {
        is_write: false,
        addr: (1u128 << 64) + a as u128,
        value: F::ZERO,
        old_leaf: F::ZERO,
        siblings,
    };
    // op 3 honestly reads 5 (count and hash are carried in the state, not in its witness)
    let w2 = st.clone().apply(3, &trace[2]).unwrap();
    // (the honest circuit's own witness code cannot even express 65 address bits: the attacker
    // synthesizes every op with its own code, over the same constraints)
    let wide = |w: foldmem::tree::memory::OpWitness| WideOp {
        is_write: w.is_write,
        addr: w.addr as u128,
        value: w.value,
        old_leaf: w.before.leaf,
        siblings: w.before.siblings,
    };
    let steps = [
        Attack::Wide(step, wide(w0)),
        Attack::Wide(step, forged),
        Attack::Wide(step, wide(w2)),
    ];
    let c2 = C2::default();
    let mut snark =
        arecibo::RecursiveSNARK::new(&pp, &steps[0], &c2, &z0, &[F2::ZERO]).expect("step 0");
    for s in &steps {
        snark.prove_step(&pp, s, &c2).expect("fold");
    }
    let (zn, _) = snark
        .verify(&pp, 3, &z0, &[F2::ZERO])
        .expect("folded proof verifies");
    let compressed =
        foldmem::folding::Compressed::<Attack>::prove(&pp, &pk, &snark).expect("compress");
    let outputs = MerkleOutputs {
        initial_root: z0[0],
        final_root: zn[0],
        op_count: 3,
        trace_hash: zn[2],
        word_bits: 64,
    };
    let file = ProofFile {
        header: Header {
            magic: MAGIC,
            version: FORMAT_VERSION,
            backend: shape.backend(),
            shape,
            params_digest: keys.digest(),
        },
        body: Body::Merkle(foldmem::backends::merkle::MerkleProof {
            outputs,
            snark: common::retype(&compressed),
        }),
    };
    Ok((file, trace))
}

const FIXTURE: &[u8] = include_bytes!("fixtures/forged-addr-bits-65.proof");
const FIXTURE_TRACE: &str = include_str!("fixtures/forged-addr-bits-65.jsonl");

#[test]
fn the_forged_65_bit_proof_is_refused_when_decoded() {
    let ops: Vec<Op> = foldmem::trace::TraceReader::new(FIXTURE_TRACE.as_bytes(), 64)
        .map(|r| r.unwrap().1)
        .collect();
    assert!(
        foldmem::trace::check_stream(foldmem::trace::numbered(&ops)).is_err(),
        "the trace the forgery claims is inconsistent"
    );
    match ProofFile::from_bytes(FIXTURE) {
        Err(ProofFileError::Shape(e)) => {
            assert_eq!(e.field, "addr_bits");
            assert!(e.msg.contains("got 65"), "{e}");
        }
        other => panic!("expected an unsupported-shape error, got {:?}", other.err()),
    }
}

#[test]
fn the_forging_prover_gets_no_keys_and_the_circuit_refuses_its_shape() {
    match forge() {
        Err(Error::Shape(e)) => assert_eq!(e.to_string(), "addr_bits: must be in 1..=64, got 65"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("the forging prover got keys for a 65-bit shape"),
    }
    // the honest step circuit itself refuses to synthesize the shape
    use bellpepper_core::test_cs::TestConstraintSystem;
    let step = MerkleShape {
        tree: TreeParams {
            addr_bits: 65,
            arity: 8,
        },
        ops_per_step: 1,
    };
    let mut cs = TestConstraintSystem::<F>::new();
    let z = foldmem::gadgets::alloc_state(&mut cs, &[F::ZERO; 3]).unwrap();
    assert!(matches!(
        foldmem::backends::merkle::MerkleStep::blank(step).synthesize(&mut cs, &z),
        Err(SynthesisError::Unsatisfiable)
    ));
}
