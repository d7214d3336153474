//! Poseidon instances (neptune) used by foldmem, natively and in circuit: Merkle nodes of arity
//! 2/4/8/16, the trace-hash chain and the leaf of a 256-bit word. Each use has its own domain.

use crate::engine::F;
use bellpepper_core::num::Num;
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;
use generic_array::typenum::{U16, U2, U3, U32, U4, U8};
use neptune::circuit2::{Elt, PoseidonCircuit2};
use neptune::hash_type::CType;
use neptune::hash_type::HashType;
use neptune::poseidon::{Arity, Poseidon, PoseidonConstants};
use neptune::Strength;
use std::sync::OnceLock;

/// Start of every backend's trace-hash chain: the word size, so the proven statement fixes it.
pub fn trace_hash_seed(word_bits: u32) -> F {
    F::from(word_bits as u64)
}

/// Merkle-tree arities foldmem supports.
pub const ARITIES: [usize; 4] = [2, 4, 8, 16];

macro_rules! constants {
    ($name:ident, $A:ty, $make:expr) => {
        fn $name() -> &'static PoseidonConstants<F, $A> {
            static C: OnceLock<PoseidonConstants<F, $A>> = OnceLock::new();
            C.get_or_init(|| $make)
        }
    };
}

constants!(node2, U2, PoseidonConstants::new());
constants!(node4, U4, PoseidonConstants::new());
constants!(node8, U8, PoseidonConstants::new());
constants!(node16, U16, PoseidonConstants::new());
constants!(
    trace3,
    U3,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(3))
);
constants!(
    wide2,
    U2,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(2))
);

constants!(
    chain16,
    U16,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(16))
);
constants!(
    challenge4,
    U4,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(4))
);

constants!(
    chain32,
    U32,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(32))
);
constants!(
    h2c4,
    U4,
    PoseidonConstants::new_with_strength_and_type(
        Strength::Standard,
        HashType::Custom(CType::Arbitrary(101))
    )
);
constants!(
    base4,
    U4,
    PoseidonConstants::new_with_strength_and_type(
        Strength::Standard,
        HashType::Custom(CType::Arbitrary(102))
    )
);
constants!(
    challenge6,
    U8,
    PoseidonConstants::new_with_strength_and_type(Strength::Standard, HashType::ConstantLength(6))
);

/// Field elements absorbed per call of the wide chain ([`chain32_absorb`]): arity 32, one slot
/// carries the chain value (~31 constraints per absorbed element against ~39 at arity 16).
pub const CHAIN32_RATE: usize = 31;

/// Wide chain hash: absorbs `elems` into `h` in blocks of [`CHAIN32_RATE`], the last block
/// zero-padded (the streaming backend's chains).
pub fn chain32_absorb(mut h: F, elems: &[F]) -> F {
    for block in elems.chunks(CHAIN32_RATE) {
        let mut pre = Vec::with_capacity(32);
        pre.push(h);
        pre.extend_from_slice(block);
        pre.resize(32, F::ZERO);
        h = native(chain32(), &pre);
    }
    h
}

/// In-circuit [`chain32_absorb`].
pub fn chain32_absorb_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    h: Num<F>,
    elems: Vec<Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    let mut h = h;
    for (i, block) in elems.chunks(CHAIN32_RATE).enumerate() {
        let mut pre = Vec::with_capacity(32);
        pre.push(h);
        pre.extend_from_slice(block);
        pre.resize(32, Num::zero());
        h = circuit(&mut cs.namespace(|| format!("block {i}")), chain32(), pre)?;
    }
    Ok(h)
}

/// The x-coordinate candidate of a hash-to-curve point: `Poseidon(a, v, t, counter)` in its own
/// domain.
pub fn h2c_x(a: F, v: F, t: F, counter: F) -> F {
    native(h2c4(), &[a, v, t, counter])
}

/// In-circuit [`h2c_x`].
pub fn h2c_x_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    inputs: Vec<Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    circuit(cs, h2c4(), inputs)
}

/// The x-coordinate candidate of the streaming backend's base point, in a domain of its own.
pub fn base_point_x(counter: u64) -> F {
    native(base4(), &[F::ZERO, F::ZERO, F::ZERO, F::from(counter)])
}

/// A segment challenge: `Poseidon(inputs…, index)` over six elements.
pub fn challenge6_native(inputs: [F; 5], index: u64) -> F {
    let mut pre = inputs.to_vec();
    pre.push(F::from(index));
    native(challenge6(), &pre)
}

/// In-circuit [`challenge6_native`].
pub fn challenge6_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    inputs: [Num<F>; 5],
    index: u64,
) -> Result<Num<F>, SynthesisError> {
    let mut pre = inputs.to_vec();
    pre.push(Num::zero().add_bool_with_coeff(
        CS::one(),
        &bellpepper_core::boolean::Boolean::constant(true),
        F::from(index),
    ));
    circuit(cs, challenge6(), pre)
}

/// Field elements absorbed per chain-hash call (arity 16, one slot carries the chain value).
pub const CHAIN_RATE: usize = 15;

/// Chain hash: absorbs `elems` into `h` in blocks of [`CHAIN_RATE`], the last block zero-padded.
pub fn chain_absorb(mut h: F, elems: &[F]) -> F {
    for block in elems.chunks(CHAIN_RATE) {
        let mut pre = Vec::with_capacity(16);
        pre.push(h);
        pre.extend_from_slice(block);
        pre.resize(16, F::ZERO);
        h = native(chain16(), &pre);
    }
    h
}

/// In-circuit [`chain_absorb`].
pub fn chain_absorb_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    h: Num<F>,
    elems: Vec<Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    let mut h = h;
    for (i, block) in elems.chunks(CHAIN_RATE).enumerate() {
        let mut pre = Vec::with_capacity(16);
        pre.push(h);
        pre.extend_from_slice(block);
        pre.resize(16, Num::zero());
        h = circuit(&mut cs.namespace(|| format!("block {i}")), chain16(), pre)?;
    }
    Ok(h)
}

/// Fiat–Shamir challenge number `index` from three transcript hashes.
pub fn challenge(a: F, b: F, c: F, index: u64) -> F {
    native(challenge4(), &[a, b, c, F::from(index)])
}

fn native<A: Arity<F>>(c: &PoseidonConstants<F, A>, preimage: &[F]) -> F {
    Poseidon::new_with_preimage(preimage, c).hash()
}

/// Hash of a Merkle node's `arity` children.
pub fn hash_node(children: &[F]) -> F {
    match children.len() {
        2 => native(node2(), children),
        4 => native(node4(), children),
        8 => native(node8(), children),
        16 => native(node16(), children),
        n => panic!("unsupported Merkle arity {n}"),
    }
}

/// Leaf value of a 256-bit word: `Poseidon(lo, hi)` in its own domain.
pub fn hash_wide_word(lo: u128, hi: u128) -> F {
    use ff::PrimeField;
    native(wide2(), &[F::from_u128(lo), F::from_u128(hi)])
}

/// One link of the trace-hash chain of the Merkle and SuperNova backends, with the op's opcode
/// (read 0, write 1, push 2, pop 3): `Poseidon(h, opcode·2^64 + addr, value)`. Injective in
/// `(opcode, addr)` because addresses are below 2^64 (the circuits decompose them into at most 64
/// bits).
pub fn trace_hash_step_op(h: F, opcode: u64, addr: u64, value: F) -> F {
    use ff::PrimeField;
    let packed = F::from_u128(((opcode as u128) << 64) | addr as u128);
    native(trace3(), &[h, packed, value])
}

fn circuit<CS: ConstraintSystem<F>, A: Arity<F>>(
    cs: &mut CS,
    c: &PoseidonConstants<F, A>,
    inputs: Vec<Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    // the preimage length is fixed by the instance; the same refusal on both paths
    let n = inputs.len();
    let want = match c.hash_type {
        HashType::ConstantLength(l) => l,
        _ => A::to_usize(),
    };
    if n != want || n > A::to_usize() {
        return Err(SynthesisError::Unsatisfiable);
    }
    if cs.is_witness_generator() {
        return witness(cs, c, &inputs);
    }
    let mut elts = Vec::with_capacity(A::to_usize() + 1);
    elts.push(Elt::num_from_fr::<CS>(c.domain_tag));
    elts.extend(inputs.into_iter().map(Elt::Num));
    elts.resize(A::to_usize() + 1, Elt::num_from_fr::<CS>(F::ZERO));
    Ok(PoseidonCircuit2::new(elts, c).hash(cs)?.num())
}

/// [`circuit`] when `cs` only generates a witness (arecibo's prover): neptune computes the
/// permutation natively and writes the same auxiliary values, in the same order, as the circuit
/// allocates (three per S-box), without building linear combinations. The output's linear
/// combination is the constant `h·ONE`, which evaluates to the real value (a witness generator
/// never evaluates it anyway). The constraint system itself always comes from the circuit path,
/// since arecibo 0.1.1's shape systems (`ShapeCS`, `TestShapeCS`, private to arecibo) keep
/// bellpepper's default "not a witness generator" (a change there would show in
/// `tests/known_keys.rs`); `tests::witness_path_writes_the_circuit_witness` compares the paths.
fn witness<CS: ConstraintSystem<F>, A: Arity<F>>(
    cs: &mut CS,
    c: &PoseidonConstants<F, A>,
    inputs: &[Num<F>],
) -> Result<Num<F>, SynthesisError> {
    use bellpepper::util_cs::witness_cs::SizedWitness;
    let vals = inputs
        .iter()
        .map(|n| n.get_value())
        .collect::<Option<Vec<F>>>()
        .ok_or(SynthesisError::AssignmentMissing)?;
    let h = Poseidon::new_with_preimage(&vals, c).generate_witness_into_cs(cs);
    Ok(Num::zero().add_bool_with_coeff(
        CS::one(),
        &bellpepper_core::boolean::Boolean::Constant(true),
        h,
    ))
}

/// In-circuit Merkle node hash; the output is a linear combination (no extra constraint).
pub fn hash_node_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    children: Vec<Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    match children.len() {
        2 => circuit(cs, node2(), children),
        4 => circuit(cs, node4(), children),
        8 => circuit(cs, node8(), children),
        16 => circuit(cs, node16(), children),
        n => panic!("unsupported Merkle arity {n}"),
    }
}

/// In-circuit trace-hash link; `packed` must be `opcode·2^64 + addr`.
pub fn trace_hash_circuit<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    h: Num<F>,
    packed: Num<F>,
    value: Num<F>,
) -> Result<Num<F>, SynthesisError> {
    circuit(cs, trace3(), vec![h, packed, value])
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::num::AllocatedNum;
    use bellpepper_core::test_cs::TestConstraintSystem;
    use ff::PrimeField;

    fn alloc(cs: &mut TestConstraintSystem<F>, v: F, i: usize) -> Num<F> {
        AllocatedNum::alloc(cs.namespace(|| format!("x{i}")), || Ok(v))
            .unwrap()
            .into()
    }

    #[test]
    fn witness_path_writes_the_circuit_witness() {
        use bellpepper::util_cs::witness_cs::WitnessCS;
        fn run<CS: ConstraintSystem<F>>(cs: &mut CS, xs: &[F], which: usize) -> F {
            let ins: Vec<Num<F>> = xs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    AllocatedNum::alloc(cs.namespace(|| format!("x{i}")), || Ok(*x))
                        .unwrap()
                        .into()
                })
                .collect();
            let h = ins[0].clone();
            let out = match which {
                0 => hash_node_circuit(cs, ins[..2].to_vec()),
                1 => hash_node_circuit(cs, ins[..4].to_vec()),
                2 => hash_node_circuit(cs, ins[..8].to_vec()),
                3 => hash_node_circuit(cs, ins[..16].to_vec()),
                4 => chain32_absorb_circuit(cs, h, ins[1..].to_vec()),
                5 => chain_absorb_circuit(cs, h, ins[1..].to_vec()),
                6 => h2c_x_circuit(cs, ins[..4].to_vec()),
                7 => challenge6_circuit(cs, std::array::from_fn(|i| ins[i].clone()), 2),
                _ => trace_hash_circuit(cs, h, ins[1].clone(), ins[2].clone()),
            };
            out.unwrap().get_value().unwrap()
        }
        // 40 inputs: the chains take two blocks
        let xs: Vec<F> = (0..40u64).map(|i| F::from(i * 1_000_003 + 17)).collect();
        for which in 0..9 {
            let mut t = TestConstraintSystem::<F>::new();
            let mut w = WitnessCS::<F>::new();
            let (ht, hw) = (run(&mut t, &xs, which), run(&mut w, &xs, which));
            assert!(t.is_satisfied(), "instance {which}");
            assert_eq!(ht, hw, "instance {which}: output");
            assert_eq!(
                t.scalar_aux(),
                w.aux_assignment(),
                "instance {which}: witness"
            );
        }
    }

    #[test]
    fn circuit_matches_native() {
        for arity in ARITIES {
            let mut cs = TestConstraintSystem::<F>::new();
            let xs: Vec<F> = (0..arity).map(|i| F::from(i as u64 * 7 + 3)).collect();
            let ins = xs
                .iter()
                .enumerate()
                .map(|(i, x)| alloc(&mut cs, *x, i))
                .collect();
            let out = hash_node_circuit(&mut cs, ins).unwrap();
            assert_eq!(out.get_value().unwrap(), hash_node(&xs), "arity {arity}");
            assert!(cs.is_satisfied());
        }
        let mut cs = TestConstraintSystem::<F>::new();
        let (h, addr, v) = (F::from(99), 0x3ffff0f2du64, F::from(5));
        let ins: Vec<Num<F>> = [h, F::from_u128((1u128 << 64) | addr as u128), v]
            .iter()
            .enumerate()
            .map(|(i, x)| alloc(&mut cs, *x, i))
            .collect();
        let out =
            trace_hash_circuit(&mut cs, ins[0].clone(), ins[1].clone(), ins[2].clone()).unwrap();
        assert_eq!(out.get_value().unwrap(), trace_hash_step_op(h, 1, addr, v));
        assert_ne!(
            trace_hash_step_op(h, 1, addr, v),
            trace_hash_step_op(h, 0, addr, v)
        );
        assert!(cs.is_satisfied());
    }

    #[test]
    fn chain_circuit_matches_native() {
        let xs: Vec<F> = (0..37).map(|i| F::from(i * 3 + 1)).collect();
        let mut cs = TestConstraintSystem::<F>::new();
        let ins: Vec<Num<F>> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| alloc(&mut cs, *x, i))
            .collect();
        let out = chain_absorb_circuit(&mut cs, Num::zero(), ins).unwrap();
        assert_eq!(out.get_value().unwrap(), chain_absorb(F::ZERO, &xs));
        assert!(cs.is_satisfied());
        assert_ne!(
            chain_absorb(F::ZERO, &xs[..15]),
            chain_absorb(F::ZERO, &xs[..16])
        );
        assert_ne!(
            challenge(F::ONE, F::ZERO, F::ZERO, 1),
            challenge(F::ONE, F::ZERO, F::ZERO, 2)
        );
    }

    #[test]
    fn domains_differ() {
        assert_ne!(hash_wide_word(1, 2), hash_node(&[F::from(1), F::from(2)]));
    }
}
