//! The gadget's circuits: the memory handle a user circuit calls ([`MemoryVar`]), the trait a
//! user circuit implements ([`MemoryCircuit`]), and the SuperNova program that joins the user's
//! circuits with `stream`'s curve (boundary and audit) and fresh circuits ([`ProgramCircuit`]).

use crate::backends::stream::circuit::{step_body, OpSlots, State};
use crate::backends::stream::{circuit::z, OpSlot, Opening, Step, StreamShape};
use crate::engine::{E1, E2, F};
use crate::folding::Sc2;
use crate::gadgets::{alloc_num, enforce_eq, enforce_product_zero, mul, one, sub};
use arecibo::supernova::NonUniformCircuit;
use arecibo::traits::circuit_supernova::StepCircuit;
use bellpepper_core::boolean::Boolean;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};

/// Index in `z` of the user's next circuit (kept by the memory slice, so library steps run
/// between two user steps without changing which user circuit runs next).
pub const NEXT: usize = z::ARITY;
/// Elements of `z` the memory owns: `z[..MEMORY_ARITY]` is `stream`'s 15-element state and
/// [`NEXT`]; the user's own state follows.
pub const MEMORY_ARITY: usize = z::ARITY + 1;

/// A user step circuit that makes memory calls through the gadget.
///
/// Every circuit of the user's program has the same state width ([`MemoryCircuit::arity`]) and
/// makes at most [`MemoryCircuit::memory_slots`] calls, a number fixed by its index (calls it
/// does not make are disabled slots). Its [`MemoryCircuit::synthesize`] sees only the user's
/// slice of `z` and the memory handle; the memory slice is written back by the wrapper from the
/// handle alone.
pub trait MemoryCircuit: Clone + Send + Sync {
    /// Number of user circuits (indices `0..circuits()`).
    fn circuits() -> usize;
    /// Width of the user's state (the same for every circuit).
    fn arity() -> usize;
    /// Memory-call slots of circuit `index` (a function of the index alone).
    fn memory_slots(index: usize) -> usize;
    /// A step of circuit `index` with no particular witness (for key generation).
    fn blank(index: usize) -> Self;
    /// This step's circuit index.
    fn circuit_index(&self) -> usize;
    /// The step: read and rewrite the user's state `z`, make memory calls through `mem`, and
    /// return the index of the user circuit that runs next (constrained by the wrapper to
    /// `0..circuits()`) and the new user state.
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        mem: &mut MemoryVar,
        z: &[AllocatedNum<F>],
    ) -> Result<(Num<F>, Vec<AllocatedNum<F>>), SynthesisError>;
}

/// The memory as one user step sees it: each call is one op slot of `stream`'s op circuit over
/// the caller's own address and value variables.
pub struct MemoryVar {
    ops: OpSlots,
    witness: Vec<OpSlot>,
    used: usize,
    slots: usize,
}

impl MemoryVar {
    /// Calls left in this step.
    pub fn remaining(&self) -> usize {
        self.slots - self.used
    }

    fn next_witness(&mut self) -> Result<OpSlot, SynthesisError> {
        if self.used == self.slots {
            // more calls than the circuit's declared slots
            return Err(SynthesisError::Unsatisfiable);
        }
        let w = self.witness.get(self.used).copied().unwrap_or_default();
        self.used += 1;
        Ok(w)
    }

    /// One memory call over the caller's variables: if `enabled`, a write of `value` to `addr`
    /// (`is_write`) or a read of `addr` constrained to return `value`. `enabled` and `is_write`
    /// must be constrained bits (bellpepper [`Boolean`]s are). A disabled call changes nothing
    /// and constrains `value` to 0 if it is a read.
    pub fn access<CS: ConstraintSystem<F>>(
        &mut self,
        mut cs: CS,
        enabled: &Boolean,
        is_write: &Boolean,
        addr: &Num<F>,
        value: &Num<F>,
    ) -> Result<(), SynthesisError> {
        let w = self.next_witness()?;
        let stk = Boolean::constant(false);
        self.ops.slot(
            &mut cs,
            enabled,
            is_write,
            &stk,
            addr.clone(),
            value.clone(),
            &w,
            true,
        )
    }

    /// Read `addr` (an enabled call): the value, allocated from the prover's memory and
    /// constrained to be the value last written there (0 if never written).
    pub fn read<CS: ConstraintSystem<F>>(
        &mut self,
        cs: CS,
        addr: &Num<F>,
    ) -> Result<AllocatedNum<F>, SynthesisError> {
        self.read_if(cs, &Boolean::constant(true), addr)
    }

    /// Read `addr` if `enabled` (else a disabled call, which returns 0).
    pub fn read_if<CS: ConstraintSystem<F>>(
        &mut self,
        mut cs: CS,
        enabled: &Boolean,
        addr: &Num<F>,
    ) -> Result<AllocatedNum<F>, SynthesisError> {
        let v = self.witness.get(self.used).map(|w| w.value);
        let value = AllocatedNum::alloc(cs.namespace(|| "value"), || Ok(v.unwrap_or_default()))?;
        self.access(
            cs,
            enabled,
            &Boolean::constant(false),
            addr,
            &Num::from(value.clone()),
        )?;
        Ok(value)
    }

    /// Write `value` to `addr` (an enabled call).
    pub fn write<CS: ConstraintSystem<F>>(
        &mut self,
        cs: CS,
        addr: &Num<F>,
        value: &Num<F>,
    ) -> Result<(), SynthesisError> {
        let t = Boolean::constant(true);
        self.access(cs, &t, &t, addr, value)
    }

    /// Pad the step's unused slots (disabled) and absorb its slots into the segment's chains.
    fn close<CS: ConstraintSystem<F>>(
        mut self,
        cs: &mut CS,
        st: &mut State,
    ) -> Result<(), SynthesisError> {
        let off = Boolean::constant(false);
        for i in self.used..self.slots {
            self.access(
                cs.namespace(|| format!("unused slot {i}")),
                &off,
                &off,
                &Num::zero(),
                &Num::zero(),
            )?;
        }
        // the slot count first: a segment's T blocks then parse into steps of several sizes
        let prefix = (self.slots > 0).then(|| constant::<CS>(self.slots as u64));
        self.ops.close(cs, st, prefix)
    }
}

fn constant<CS: ConstraintSystem<F>>(c: u64) -> Num<F> {
    one::<CS>().scale(F::from(c))
}

/// `(p − a)(p − b)(p − c) = 0` (two constraints).
fn enforce_one_of<CS: ConstraintSystem<F>>(
    mut cs: CS,
    p: &Num<F>,
    [a, b, c]: [&Num<F>; 3],
) -> Result<(), SynthesisError> {
    let t = mul(cs.namespace(|| "two"), &sub(p, a), &sub(p, b))?;
    enforce_product_zero(&mut cs, "one of three", &t, &sub(p, c));
    Ok(())
}

/// What one step of the program runs.
#[derive(Clone, Debug)]
pub enum StepKind<U> {
    /// A user step with the witness of its memory slots.
    User {
        /// The user's circuit.
        circuit: U,
        /// Challenges, if this step opens a segment.
        open: Opening,
        /// One witness per slot (`memory_slots` of them).
        slots: Vec<OpSlot>,
    },
    /// A library step: `stream`'s boundary, audit or fresh step (never an op step).
    Library(Step),
}

/// One step of a program made of the user's circuits (indices `0..u`, `u = U::circuits()`),
/// `stream`'s curve circuit (`u`: boundary and audit steps) and its fresh circuit (`u + 1`).
#[derive(Clone, Debug)]
pub struct ProgramCircuit<U> {
    /// Shape of the library circuits (`ops_per_step` unused).
    pub shape: StreamShape,
    /// The step.
    pub kind: StepKind<U>,
    /// Circuit index of the next step (a witness, constrained).
    pub next: usize,
}

/// Circuit index of the curve (boundary and audit) library circuit.
pub fn curve_index<U: MemoryCircuit>() -> usize {
    U::circuits()
}

/// Circuit index of the fresh library circuit.
pub fn fresh_index<U: MemoryCircuit>() -> usize {
    U::circuits() + 1
}

impl<U: MemoryCircuit> ProgramCircuit<U> {
    /// A placeholder step of program circuit `index` (for key generation).
    pub fn blank(shape: StreamShape, index: usize) -> Self {
        use crate::backends::stream::StreamCircuit;
        let kind = if index < U::circuits() {
            StepKind::User {
                circuit: U::blank(index),
                open: Opening::default(),
                slots: vec![OpSlot::default(); U::memory_slots(index)],
            }
        } else {
            let lib = if index == curve_index::<U>() { 1 } else { 2 };
            StepKind::Library(StreamCircuit::blank(shape, lib).step)
        };
        ProgramCircuit {
            shape,
            kind,
            next: 0,
        }
    }
}

impl<U: MemoryCircuit> StepCircuit<F> for ProgramCircuit<U> {
    fn arity(&self) -> usize {
        MEMORY_ARITY + U::arity()
    }

    fn circuit_index(&self) -> usize {
        match &self.kind {
            StepKind::User { circuit, .. } => circuit.circuit_index(),
            StepKind::Library(Step::Fresh { .. }) => fresh_index::<U>(),
            StepKind::Library(_) => curve_index::<U>(),
        }
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        _pc: Option<&AllocatedNum<F>>,
        zin: &[AllocatedNum<F>],
    ) -> Result<(Option<AllocatedNum<F>>, Vec<AllocatedNum<F>>), SynthesisError> {
        use crate::backend::ShapeSpec;
        if zin.len() != MEMORY_ARITY + U::arity() || self.shape.validate().is_err() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let mut st = State {
            v: zin[..z::ARITY]
                .iter()
                .map(|a| Num::from(a.clone()))
                .collect(),
        };
        let next_in = Num::from(zin[NEXT].clone());
        let (curve, fresh) = (
            constant::<CS>(curve_index::<U>() as u64),
            constant::<CS>(fresh_index::<U>() as u64),
        );
        let (next_out, user_out) = match &self.kind {
            StepKind::User {
                circuit,
                open,
                slots,
            } => {
                let index = circuit.circuit_index();
                let m = U::memory_slots(index);
                if index >= U::circuits() || slots.len() != m {
                    return Err(SynthesisError::Unsatisfiable);
                }
                // the user circuit that runs is the one the last user step chose (or z0's)
                enforce_eq(
                    cs.namespace(|| "runs the chosen circuit"),
                    &next_in,
                    &constant::<CS>(index as u64),
                );
                let ops = OpSlots::open(
                    &mut cs.namespace(|| "memory open"),
                    &mut st,
                    open,
                    self.shape.time_bits,
                    m,
                )?;
                let mut mem = MemoryVar {
                    ops,
                    witness: slots.clone(),
                    used: 0,
                    slots: m,
                };
                let (u, out) = circuit.synthesize(
                    &mut cs.namespace(|| "user"),
                    &mut mem,
                    &zin[MEMORY_ARITY..],
                )?;
                if out.len() != U::arity() {
                    return Err(SynthesisError::Unsatisfiable);
                }
                mem.close(&mut cs.namespace(|| "memory close"), &mut st)?;
                // the user's next circuit is one of the user's circuits
                let mut prod = u.clone();
                for i in 1..U::circuits() {
                    prod = mul(
                        cs.namespace(|| format!("next user circuit {i}")),
                        &prod,
                        &sub(&u, &constant::<CS>(i as u64)),
                    )?;
                }
                crate::gadgets::enforce_zero(cs, "next is a user circuit", &prod);
                let next = alloc_num(cs.namespace(|| "next user circuit"), &u)?;
                (next, out)
            }
            StepKind::Library(step) => {
                if matches!(step, Step::Op { .. }) {
                    return Err(SynthesisError::Unsatisfiable);
                }
                step_body(&mut cs.namespace(|| "library"), &self.shape, step, &mut st)?;
                (zin[NEXT].clone(), zin[MEMORY_ARITY..].to_vec())
            }
        };
        // the next step runs the user's next circuit or a library circuit
        let pc = AllocatedNum::alloc(cs.namespace(|| "next pc"), || Ok(F::from(self.next as u64)))?;
        enforce_one_of(
            cs.namespace(|| "next pc allowed"),
            &Num::from(pc.clone()),
            [&Num::from(next_out.clone()), &curve, &fresh],
        )?;
        let mut out = Vec::with_capacity(MEMORY_ARITY + U::arity());
        for (i, n) in st.v.iter().enumerate() {
            out.push(alloc_num(cs.namespace(|| format!("out {i}")), n)?);
        }
        out.push(next_out);
        out.extend(user_out);
        Ok((Some(pc), out))
    }
}

/// The program as arecibo's non-uniform circuit: the user's circuits, then the two library
/// circuits.
#[derive(Clone, Debug)]
pub struct Program<U> {
    /// Shape of the library circuits.
    pub shape: StreamShape,
    /// Circuit index of the first step.
    pub first: usize,
    _user: std::marker::PhantomData<U>,
}

impl<U> Program<U> {
    /// The program of `shape` whose first step runs circuit `first`.
    pub fn new(shape: StreamShape, first: usize) -> Self {
        Program {
            shape,
            first,
            _user: std::marker::PhantomData,
        }
    }
}

impl<U: MemoryCircuit> NonUniformCircuit<E1, E2, ProgramCircuit<U>, Sc2> for Program<U> {
    fn num_circuits(&self) -> usize {
        U::circuits() + 2
    }
    fn primary_circuit(&self, index: usize) -> ProgramCircuit<U> {
        ProgramCircuit::blank(self.shape, index)
    }
    fn secondary_circuit(&self) -> Sc2 {
        Sc2::default()
    }
    fn initial_circuit_index(&self) -> usize {
        self.first
    }
}
