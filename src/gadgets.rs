//! R1CS gadgets every step circuit uses: arithmetic on linear combinations, selection, range
//! checks by bit decomposition, opcodes, and constraint counting.

use crate::engine::F;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// Constant `1` as a `Num`.
pub fn one<CS: ConstraintSystem<F>>() -> Num<F> {
    Num::zero().add_bool_with_coeff(CS::one(), &Boolean::constant(true), F::ONE)
}

/// `a + c·b` for booleans, as a linear combination.
pub fn add_bool<CS: ConstraintSystem<F>>(a: Num<F>, b: &Boolean, c: F) -> Num<F> {
    a.add_bool_with_coeff(CS::one(), b, c)
}

/// `a - b`.
pub fn sub(a: &Num<F>, b: &Num<F>) -> Num<F> {
    a.clone().add(&b.clone().scale(-F::ONE))
}

/// Allocate `a·b` (one constraint).
pub fn mul<CS: ConstraintSystem<F>>(
    mut cs: CS,
    a: &Num<F>,
    b: &Num<F>,
) -> Result<Num<F>, SynthesisError> {
    let v = AllocatedNum::alloc(cs.namespace(|| "prod"), || {
        Ok(a.get_value().ok_or(SynthesisError::AssignmentMissing)?
            * b.get_value().ok_or(SynthesisError::AssignmentMissing)?)
    })?;
    cs.enforce(
        || "a*b=prod",
        |_| a.lc(F::ONE),
        |_| b.lc(F::ONE),
        |lc| lc + v.get_variable(),
    );
    Ok(v.into())
}

/// Allocate a linear combination as a variable (one constraint), e.g. for a step output.
pub fn alloc_num<CS: ConstraintSystem<F>>(
    mut cs: CS,
    a: &Num<F>,
) -> Result<AllocatedNum<F>, SynthesisError> {
    let v = AllocatedNum::alloc(cs.namespace(|| "num"), || {
        a.get_value().ok_or(SynthesisError::AssignmentMissing)
    })?;
    cs.enforce(
        || "num=lc",
        |_| a.lc(F::ONE),
        |lc| lc + CS::one(),
        |lc| lc + v.get_variable(),
    );
    Ok(v)
}

/// Enforce `a == b` (one constraint).
pub fn enforce_eq<CS: ConstraintSystem<F>>(mut cs: CS, a: &Num<F>, b: &Num<F>) {
    cs.enforce(
        || "a=b",
        |_| a.lc(F::ONE),
        |lc| lc + CS::one(),
        |_| b.lc(F::ONE),
    );
}

/// Allocate a free witness value (no constraint).
pub fn alloc<CS: ConstraintSystem<F>>(mut cs: CS, v: F) -> Result<Num<F>, SynthesisError> {
    Ok(AllocatedNum::alloc(cs.namespace(|| "v"), || Ok(v))?.into())
}

/// Allocate a boolean witness (one booleanity constraint).
pub fn bit<CS: ConstraintSystem<F>>(mut cs: CS, v: bool) -> Result<Boolean, SynthesisError> {
    Ok(Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "b"),
        Some(v),
    )?))
}

/// A boolean as a linear combination.
pub fn as_num<CS: ConstraintSystem<F>>(b: &Boolean) -> Num<F> {
    add_bool::<CS>(Num::zero(), b, F::ONE)
}

/// `x = 0`.
pub fn enforce_zero<CS: ConstraintSystem<F>>(cs: &mut CS, name: &str, x: &Num<F>) {
    cs.enforce(
        || name.to_string(),
        |_| x.lc(F::ONE),
        |lc| lc + CS::one(),
        |lc| lc,
    );
}

/// `a·b = 0`.
pub fn enforce_product_zero<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    name: &str,
    a: &Num<F>,
    b: &Num<F>,
) {
    cs.enforce(
        || name.to_string(),
        |_| a.lc(F::ONE),
        |_| b.lc(F::ONE),
        |lc| lc,
    );
}

/// `cond ? a : b` (one constraint).
pub fn select<CS: ConstraintSystem<F>>(
    mut cs: CS,
    cond: &Boolean,
    a: &Num<F>,
    b: &Num<F>,
) -> Result<Num<F>, SynthesisError> {
    let c = add_bool::<CS>(Num::zero(), cond, F::ONE);
    let t = mul(cs.namespace(|| "sel"), &c, &sub(a, b))?;
    Ok(b.clone().add(&t))
}

/// Allocate `value` as exactly `n ≤ 64` boolean-constrained little-endian bits (a range check for
/// free). More than 64 bits is refused: the sum would no longer be a `u64`, which every caller's
/// packing relies on.
pub fn alloc_bits<CS: ConstraintSystem<F>>(
    mut cs: CS,
    value: u64,
    n: u32,
) -> Result<Vec<Boolean>, SynthesisError> {
    if n > 64 {
        return Err(SynthesisError::Unsatisfiable);
    }
    (0..n)
        .map(|i| {
            let bit = (value >> i) & 1 == 1;
            Ok(Boolean::from(AllocatedBit::alloc(
                cs.namespace(|| format!("bit {i}")),
                Some(bit),
            )?))
        })
        .collect()
}

/// `Σ bits[i]·2^i` as a linear combination.
pub fn bits_to_num<CS: ConstraintSystem<F>>(bits: &[Boolean]) -> Num<F> {
    let mut coeff = F::ONE;
    let mut acc = Num::zero();
    for b in bits {
        acc = add_bool::<CS>(acc, b, coeff);
        coeff = coeff.double();
    }
    acc
}

/// `scale · opcode` for opcode `wr + 3·st − 2·wr·st` (read 0, write 1, push 2, pop 3): one
/// constraint for the product of the two bits.
pub fn opcode_times<CS: ConstraintSystem<F>>(
    mut cs: CS,
    wr: &Boolean,
    st: &Boolean,
    scale: F,
) -> Result<Num<F>, SynthesisError> {
    let both = Boolean::and(cs.namespace(|| "write and stack"), wr, st)?;
    let n = add_bool::<CS>(Num::zero(), wr, scale);
    let n = add_bool::<CS>(n, st, scale * F::from(3));
    Ok(add_bool::<CS>(n, &both, -(scale * F::from(2))))
}

/// Allocate a step's input state `z` with the given values (named `z0`, `z1`, …).
pub fn alloc_state<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    values: &[F],
) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| AllocatedNum::alloc(cs.namespace(|| format!("z{i}")), || Ok(*v)))
        .collect()
}

/// A constraint system that only counts, like arecibo's setup synthesizes with: it calls no
/// witness closure and ignores names (a test system would refuse a name used twice, which
/// arecibo accepts). For checking that a circuit synthesizes before a setup.
#[derive(Default)]
pub struct ShapeOnlyCs {
    aux: usize,
    inputs: usize,
    /// Constraints enforced.
    pub constraints: usize,
}

impl ConstraintSystem<F> for ShapeOnlyCs {
    type Root = Self;

    fn alloc<V, A, AR>(&mut self, _: A, _: V) -> Result<bellpepper_core::Variable, SynthesisError>
    where
        V: FnOnce() -> Result<F, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.aux += 1;
        Ok(bellpepper_core::Variable::new_unchecked(
            bellpepper_core::Index::Aux(self.aux - 1),
        ))
    }

    fn alloc_input<V, A, AR>(
        &mut self,
        _: A,
        _: V,
    ) -> Result<bellpepper_core::Variable, SynthesisError>
    where
        V: FnOnce() -> Result<F, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.inputs += 1;
        Ok(bellpepper_core::Variable::new_unchecked(
            bellpepper_core::Index::Input(self.inputs),
        ))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, _: LA, _: LB, _: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
        LA: FnOnce(bellpepper_core::LinearCombination<F>) -> bellpepper_core::LinearCombination<F>,
        LB: FnOnce(bellpepper_core::LinearCombination<F>) -> bellpepper_core::LinearCombination<F>,
        LC: FnOnce(bellpepper_core::LinearCombination<F>) -> bellpepper_core::LinearCombination<F>,
    {
        self.constraints += 1;
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self) {}

    fn get_root(&mut self) -> &mut Self::Root {
        self
    }
}

/// Constraints `synth` adds on top of a zero input state of width `arity` (circuit cost
/// without the folding verifier).
pub fn count_constraints(
    arity: usize,
    synth: impl FnOnce(&mut bellpepper_core::test_cs::TestConstraintSystem<F>, &[AllocatedNum<F>]),
) -> usize {
    let mut cs = bellpepper_core::test_cs::TestConstraintSystem::<F>::new();
    let z = alloc_state(&mut cs, &vec![F::ZERO; arity]).expect("test system allocates");
    synth(&mut cs, &z);
    cs.num_constraints()
}

/// Synthesize SuperNova steps in sequence from `z0`, each in its own test constraint system
/// (the circuits' unit tests): `unsatisfied: step i: name` for the first unsatisfied constraint,
/// the synthesis error, or the final state.
#[cfg(test)]
pub(crate) fn run_steps<C: arecibo::traits::circuit_supernova::StepCircuit<F>>(
    steps: impl IntoIterator<Item = C>,
    z0: Vec<F>,
) -> Result<Vec<F>, String> {
    let mut zv = z0;
    for (i, c) in steps.into_iter().enumerate() {
        let mut cs = bellpepper_core::test_cs::TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, &zv).map_err(|e| format!("step {i}: {e:?}"))?;
        let (_, out) = c
            .synthesize(&mut cs, None, &zs)
            .map_err(|e| format!("step {i}: synthesis: {e:?}"))?;
        if let Some(name) = cs.which_is_unsatisfied() {
            return Err(format!("unsatisfied: step {i}: {name}"));
        }
        zv = out
            .iter()
            .map(|o| o.get_value().unwrap_or_default())
            .collect();
    }
    Ok(zv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::test_cs::TestConstraintSystem;

    #[test]
    fn select_and_mul_are_enforced() {
        let mut cs = TestConstraintSystem::<F>::new();
        let c = Boolean::from(AllocatedBit::alloc(cs.namespace(|| "c"), Some(true)).unwrap());
        let a: Num<F> = AllocatedNum::alloc(cs.namespace(|| "a"), || Ok(F::from(3)))
            .unwrap()
            .into();
        let b: Num<F> = AllocatedNum::alloc(cs.namespace(|| "b"), || Ok(F::from(4)))
            .unwrap()
            .into();
        let s = select(cs.namespace(|| "s"), &c, &a, &b).unwrap();
        assert_eq!(s.get_value().unwrap(), F::from(3));
        assert!(cs.is_satisfied());
        // a forged product value breaks the multiplication constraint
        cs.set("s/sel/prod/num", F::from(77));
        assert_eq!(cs.which_is_unsatisfied(), Some("s/sel/a*b=prod"));
    }
}
