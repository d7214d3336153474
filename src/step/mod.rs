//! The Nova step circuit of the Merkle backend: `k` memory ops per step over the state
//! `z = [root, op_count, trace_hash]` (see DESIGN.md, "Merkle backend").

pub mod gadgets;
pub mod witness;

use crate::hash::trace_hash_circuit;
use crate::merkle::{Opening, TreeParams};
use crate::F;
use arecibo::traits::circuit::StepCircuit;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;
use gadgets::*;
use serde::{Deserialize, Serialize};

/// Shape of the step circuit: memory tree and ops per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepParams {
    /// Memory tree.
    pub tree: TreeParams,
    /// Memory ops folded per Nova step (`k`).
    pub ops_per_step: usize,
}

/// Witness of one op slot of a step. A disabled slot is padding: a read whose effect on the state
/// is masked off; it is still fully constrained (valid opening, read value = old leaf).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpWitness {
    /// Whether the slot carries a real op (counted and hashed).
    pub enabled: bool,
    /// Write (true) or read.
    pub is_write: bool,
    /// A stack op (push, pop): changes nothing in memory, but is bound into the trace hash so a
    /// trace reads one way only.
    pub is_stack: bool,
    /// Word address.
    pub addr: u64,
    /// Leaf value read or written.
    pub value: F,
    /// Opening of `addr` before the op.
    pub before: Opening,
}

/// One Nova step: `ops_per_step` memory ops applied in order.
#[derive(Clone, Debug)]
pub struct MemoryStep {
    /// Shape.
    pub params: StepParams,
    /// Exactly `params.ops_per_step` slot witnesses.
    pub ops: Vec<OpWitness>,
}

impl MemoryStep {
    /// A step with placeholder witnesses, for shape synthesis (setup).
    pub fn blank(params: StepParams) -> Self {
        let levels = params.tree.levels();
        let before = Opening {
            leaf: F::ZERO,
            siblings: vec![vec![F::ZERO; params.tree.arity - 1]; levels],
        };
        let op = OpWitness {
            enabled: false,
            is_write: false,
            is_stack: false,
            addr: 0,
            value: F::ZERO,
            before,
        };
        MemoryStep {
            params,
            ops: vec![op; params.ops_per_step],
        }
    }
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

/// In-circuit state `(root, op_count, trace_hash)` between ops.
type State = (Num<F>, Num<F>, Num<F>);

/// Per-op constraints; returns the new `(root, count, hash)`.
fn synthesize_op<CS: ConstraintSystem<F>>(
    mut cs: CS,
    p: &TreeParams,
    w: &OpWitness,
    root: &Num<F>,
    count: &Num<F>,
    hash: &Num<F>,
) -> Result<State, SynthesisError> {
    let en = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "enabled"),
        Some(w.enabled),
    )?);
    let wr = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "is_write"),
        Some(w.is_write),
    )?);
    let st = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "is_stack"),
        Some(w.is_stack),
    )?);
    // a write must be enabled (padding never changes memory)
    cs.enforce(
        || "write implies enabled",
        |_| wr.lc(CS::one(), F::ONE),
        |_| en.not().lc(CS::one(), F::ONE),
        |lc| lc,
    );
    let bits = alloc_bits(cs.namespace(|| "addr"), w.addr, p.addr_bits)?;
    let old: Num<F> =
        AllocatedNum::alloc(cs.namespace(|| "old leaf"), || Ok(w.before.leaf))?.into();
    let value: Num<F> = AllocatedNum::alloc(cs.namespace(|| "value"), || Ok(w.value))?.into();
    // a read returns the old leaf
    cs.enforce(
        || "read value = old leaf",
        |_| wr.not().lc(CS::one(), F::ONE),
        |_| sub(&value, &old).lc(F::ONE),
        |lc| lc,
    );

    let path = Path::alloc(&mut cs, p, &bits, &w.before.siblings)?;
    let old_root = path.root(cs.namespace(|| "old path"), &old)?;
    enforce_eq(cs.namespace(|| "old path reaches root"), &old_root, root);
    // new leaf = value (for a read, value = old leaf, so the root is unchanged)
    let new_root = path.root(cs.namespace(|| "new path"), &value)?;

    let new_count = add_bool::<CS>(count.clone(), &en, F::ONE);
    let two64 = F::from(u64::MAX) + F::ONE;
    let packed =
        bits_to_num::<CS>(&bits).add(&opcode_times(cs.namespace(|| "opcode"), &wr, &st, two64)?);
    let link = trace_hash_circuit(
        &mut cs.namespace(|| "trace hash"),
        hash.clone(),
        packed,
        value,
    )?;
    let new_hash = select(cs.namespace(|| "hash if enabled"), &en, &link, hash)?;
    Ok((new_root, new_count, new_hash))
}

impl StepCircuit<F> for MemoryStep {
    fn arity(&self) -> usize {
        3
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        z: &[AllocatedNum<F>],
    ) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        // an unsupported shape never synthesizes (e.g. addr_bits > 64 would let the packed
        // `kind·2^64 + addr` of the trace hash collide across kinds)
        if z.len() != 3
            || self.ops.len() != self.params.ops_per_step
            || crate::backend::ShapeSpec::validate(&self.params).is_err()
        {
            return Err(SynthesisError::Unsatisfiable);
        }
        let (mut root, mut count, mut hash): (Num<F>, Num<F>, Num<F>) = (
            z[0].clone().into(),
            z[1].clone().into(),
            z[2].clone().into(),
        );
        for (i, w) in self.ops.iter().enumerate() {
            (root, count, hash) = synthesize_op(
                cs.namespace(|| format!("op {i}")),
                &self.params.tree,
                w,
                &root,
                &count,
                &hash,
            )?;
        }
        Ok(vec![
            alloc_num(cs.namespace(|| "out root"), &root)?,
            alloc_num(cs.namespace(|| "out count"), &count)?,
            alloc_num(cs.namespace(|| "out hash"), &hash)?,
        ])
    }
}

/// Number of constraints of the step circuit alone (without Nova's verifier circuit).
pub fn step_constraints(params: StepParams) -> usize {
    count_constraints(3, |cs, z| {
        let _ = MemoryStep::blank(params).synthesize(cs, z);
    })
}

#[cfg(test)]
mod tests;
