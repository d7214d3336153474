//! The opcode circuits of the SuperNova backend, built from the shared gadgets and the tree's
//! paths.

use super::SupernovaShape;
use crate::backend::ShapeSpec;
use crate::engine::F;
use crate::gadgets::{alloc_bits, alloc_num, bits_to_num, enforce_eq, mul, one, sub};
use crate::hash::trace_hash_circuit;
use crate::trace::OpKind;
use crate::tree::circuit::Path;
use crate::tree::memory::OpWitness;
use arecibo::traits::circuit_supernova::StepCircuit;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// Opcodes; the value is the circuit index and the program counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Opcode {
    /// One Merkle path; memory unchanged.
    Read = 0,
    /// Two Merkle paths.
    Write = 1,
    /// Write at `stack_base + sp`, then `sp += 1`.
    Push = 2,
    /// `sp -= 1`, then read at `stack_base + sp`.
    Pop = 3,
}

impl Opcode {
    /// Opcode of an op kind.
    pub fn of(kind: OpKind) -> Self {
        match kind {
            OpKind::Read => Opcode::Read,
            OpKind::Write => Opcode::Write,
            OpKind::Push => Opcode::Push,
            OpKind::Pop => Opcode::Pop,
        }
    }
    /// Opcode of a circuit index.
    pub fn from_index(i: usize) -> Option<Self> {
        [Opcode::Read, Opcode::Write, Opcode::Push, Opcode::Pop]
            .get(i)
            .copied()
    }
    fn writes(self) -> bool {
        matches!(self, Opcode::Write | Opcode::Push)
    }
}

/// Witness of one op: the Merkle witness, the stack pointer before the op, and the next
/// program counter (the next op's opcode).
#[derive(Clone, Debug)]
pub struct SupernovaWitness {
    /// Address, value, opening (its `enabled`/`is_write` flags are unused: the opcode decides).
    pub op: OpWitness,
    /// Stack pointer before the op.
    pub sp: u64,
    /// Opcode of the next op.
    pub next_pc: u64,
}

/// One opcode's circuit with its witness.
#[derive(Clone, Debug)]
pub struct OpCircuit {
    /// Shape.
    pub shape: SupernovaShape,
    /// Which circuit this is.
    pub opcode: Opcode,
    /// Witness.
    pub w: SupernovaWitness,
}

impl OpCircuit {
    /// Placeholder instance for setup.
    pub fn blank(shape: SupernovaShape, opcode: Opcode) -> Self {
        let sp = if opcode == Opcode::Pop { 1 } else { 0 };
        OpCircuit {
            shape,
            opcode,
            w: SupernovaWitness {
                op: OpWitness::blank(shape.tree),
                sp,
                next_pc: 0,
            },
        }
    }
}

impl StepCircuit<F> for OpCircuit {
    fn arity(&self) -> usize {
        4
    }

    fn circuit_index(&self) -> usize {
        self.opcode as usize
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        _pc: Option<&AllocatedNum<F>>,
        z: &[AllocatedNum<F>],
    ) -> Result<(Option<AllocatedNum<F>>, Vec<AllocatedNum<F>>), SynthesisError> {
        // an unsupported shape never synthesizes (stack bounds and packed addresses must fit)
        if z.len() != 4 || self.shape.validate().is_err() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let (root, count, hash, sp): (Num<F>, Num<F>, Num<F>, Num<F>) = (
            z[0].clone().into(),
            z[1].clone().into(),
            z[2].clone().into(),
            z[3].clone().into(),
        );
        let p = &self.shape.tree;
        let w = &self.w.op;
        let bits = alloc_bits(cs.namespace(|| "addr"), w.addr, p.addr_bits)?;
        let addr = bits_to_num::<CS>(&bits);
        let one_n = one::<CS>();
        let base = one_n.clone().scale(F::from(self.shape.stack_base));
        let d = self.shape.stack_log_depth;
        let new_sp = match self.opcode {
            Opcode::Push => {
                // 0 ≤ sp < 2^d, address = base + sp
                let sp_bits = alloc_bits(cs.namespace(|| "sp range"), self.w.sp, d)?;
                enforce_eq(
                    cs.namespace(|| "sp below depth"),
                    &bits_to_num::<CS>(&sp_bits),
                    &sp,
                );
                enforce_eq(
                    cs.namespace(|| "push address"),
                    &addr,
                    &base.clone().add(&sp),
                );
                sp.clone().add(&one_n)
            }
            Opcode::Pop => {
                // 1 ≤ sp ≤ 2^d, address = base + sp − 1
                let below = sub(&sp, &one_n);
                let sp_bits =
                    alloc_bits(cs.namespace(|| "sp range"), self.w.sp.wrapping_sub(1), d)?;
                enforce_eq(
                    cs.namespace(|| "sp above base"),
                    &bits_to_num::<CS>(&sp_bits),
                    &below,
                );
                enforce_eq(
                    cs.namespace(|| "pop address"),
                    &addr,
                    &base.clone().add(&below),
                );
                below
            }
            _ => sp.clone(),
        };
        let old: Num<F> =
            AllocatedNum::alloc(cs.namespace(|| "old leaf"), || Ok(w.before.leaf))?.into();
        let value: Num<F> = AllocatedNum::alloc(cs.namespace(|| "value"), || Ok(w.value))?.into();
        let path = Path::alloc(&mut *cs, p, &bits, &w.before.siblings)?;
        let old_root = path.root(cs.namespace(|| "old path"), &old)?;
        enforce_eq(cs.namespace(|| "old path reaches root"), &old_root, &root);
        let new_root = if self.opcode.writes() {
            path.root(cs.namespace(|| "new path"), &value)?
        } else {
            enforce_eq(cs.namespace(|| "read value = old leaf"), &value, &old);
            root.clone()
        };
        let two64 = F::from(u64::MAX) + F::ONE;
        let packed = addr.add(&one_n.clone().scale(two64 * F::from(self.opcode as u64)));
        let new_hash = trace_hash_circuit(&mut cs.namespace(|| "trace hash"), hash, packed, value)?;
        // next program counter: one of the four opcodes
        let pc = AllocatedNum::alloc(cs.namespace(|| "next pc"), || Ok(F::from(self.w.next_pc)))?;
        let pcn: Num<F> = pc.clone().into();
        let t1 = mul(cs.namespace(|| "pc(pc-1)"), &pcn, &sub(&pcn, &one_n))?;
        let t2 = mul(
            cs.namespace(|| "pc(pc-1)(pc-2)"),
            &t1,
            &sub(&pcn, &one_n.clone().scale(F::from(2))),
        )?;
        cs.enforce(
            || "next pc is an opcode",
            |_| t2.lc(F::ONE),
            |_| sub(&pcn, &one_n.clone().scale(F::from(3))).lc(F::ONE),
            |lc| lc,
        );
        let out = vec![
            alloc_num(cs.namespace(|| "out root"), &new_root)?,
            alloc_num(cs.namespace(|| "out count"), &count.add(&one_n))?,
            alloc_num(cs.namespace(|| "out hash"), &new_hash)?,
            alloc_num(cs.namespace(|| "out sp"), &new_sp)?,
        ];
        Ok((Some(pc), out))
    }
}

/// Constraint count of a circuit (without SuperNova's verifier circuit).
pub fn constraints(c: &OpCircuit) -> usize {
    crate::gadgets::count_constraints(4, |cs, z| {
        let _ = c.synthesize(cs, None, z);
    })
}
