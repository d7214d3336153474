//! The Nova step circuit of the Merkle backend: `k` memory ops per step over the state
//! `z = [root, op_count, trace_hash]` (the protocol: `docs/merkle.md`).

use super::MerkleShape;
use crate::backend::ShapeSpec;
use crate::engine::F;
use crate::gadgets::{
    add_bool, alloc_bits, alloc_num, bits_to_num, count_constraints, enforce_eq, opcode_times,
    select, sub,
};
use crate::hash::trace_hash_circuit;
use crate::tree::circuit::Path;
use crate::tree::memory::OpWitness;
use crate::tree::TreeParams;
use arecibo::traits::circuit::StepCircuit;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// One Nova step: `ops_per_step` memory ops applied in order.
#[derive(Clone, Debug)]
pub struct MerkleStep {
    /// Shape.
    pub params: MerkleShape,
    /// Exactly `params.ops_per_step` slot witnesses.
    pub ops: Vec<OpWitness>,
}

impl MerkleStep {
    /// A step with placeholder witnesses, for shape synthesis (setup).
    pub fn blank(params: MerkleShape) -> Self {
        MerkleStep {
            params,
            ops: vec![OpWitness::blank(params.tree); params.ops_per_step],
        }
    }
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

impl StepCircuit<F> for MerkleStep {
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
            || self.params.validate().is_err()
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
pub fn step_constraints(params: MerkleShape) -> usize {
    count_constraints(3, |cs, z| {
        let _ = MerkleStep::blank(params).synthesize(cs, z);
    })
}
