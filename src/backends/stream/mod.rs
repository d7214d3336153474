//! The streaming offline-checking backend (`stream`): Blum-style memory checking folded segment
//! by segment as the trace arrives, with Fiat–Shamir challenges checked in the circuit when each
//! segment closes and an elliptic-curve multiset hash (points on Vesta) linking the segments.
//! Prover memory is one segment plus the last value and time of every touched address; a run
//! survives crashes (checkpoints) and splits across machines (continuations).
//!
//! # Statement
//! A proof verifies for a claimed trace hash `T` and op count `n` only if some op stream hashes
//! to `T`, has `n < 2^time_bits` ops, and every read in it returns the value last written to its
//! address, or 0 if never written (except with probability about `2·slots/|F|` per hash query,
//! and under discrete log on Vesta). Per segment, the challenges are Poseidon of everything the
//! segment's fingerprints depend on, checked in circuit when it closes; across segments, the
//! point `G` returns to its start `S` only if every tuple handed between segments and audited
//! appears an even number of times, which with unique op times and a strictly increasing audit
//! gives Blum's equation for the whole trace. The protocol, the constraint diet of the op slot and
//! the full argument: `docs/stream.md`.

mod checkpoint;
pub mod circuit;
mod claim;
pub mod curve;
mod hasher;
pub(crate) mod native;
mod prover;
mod run;
mod system;
#[cfg(test)]
mod tests;
mod witness;

pub use circuit::{
    canonical, AuditSlot, BoundarySlot, FreshSlot, OpSlot, Opening, Step, StreamCircuit,
};
pub use claim::{
    check_proof, verify_compressed, verify_folded, verify_parts, StreamOutputs, StreamProof,
};
pub use curve::{base_point, Affine, H2cWitness};
pub use hasher::{trace_hash, TraceHasher, TAGS_PER_ELEMENT};
pub use native::{
    boundary_slot, move_g, open_segment_steps, padding_audit, padding_boundary, LazySteps, Native,
};
pub use prover::{Finished, StreamOptions, StreamProver, DEFAULT_SEGMENT_OPS};
pub use run::{plan, plan_with_schedule, range_bounds, Schedule};
pub use system::{RangeSpec, StreamKeys, StreamRun};

use crate::engine::{E1, E2};
use crate::folding::{Sc2, SupernovaCompressed, SupernovaParams, SupernovaRecursive};
use arecibo::supernova::NonUniformCircuit;
use circuit::{BOUNDARY, CIRCUITS, FRESH, OP};
use serde::{Deserialize, Serialize};

/// Public parameters of the streaming backend.
pub type StreamParams = SupernovaParams<StreamCircuit>;
/// Folded proof.
pub type StreamRecursive = SupernovaRecursive;
/// Compressed proof (batched Spartan over the three circuits).
pub type StreamCompressed = SupernovaCompressed<StreamCircuit>;

/// Default op slots per op step.
pub const DEFAULT_OPS_PER_STEP: usize = 352;
/// Default boundary (and audit) slots per step: the curve circuit (boundary and audit steps,
/// 32,385 constraints with SuperNova's verifier circuit) stays under 2^15 and the fresh circuit
/// (`10m` slots, 53,786) under 2^16, which keeps compression time down.
pub const DEFAULT_BOUNDARY_SLOTS: usize = 24;
/// Default width of the time-gap range check: traces of up to 2^32 ops.
pub const DEFAULT_TIME_BITS: u32 = 32;
/// Fresh slots per boundary slot (see [`StreamShape::fresh_slots`]).
pub const FRESH_PER_BOUNDARY: usize = 10;
/// Largest boundary/audit slot count per step.
pub const MAX_BOUNDARY_SLOTS: usize = 512;
/// Supported widths of the time range check.
pub const TIME_BITS: std::ops::RangeInclusive<u32> = 16..=40;

/// Shape of the streaming backend's circuits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamShape {
    /// Op slots per op step (`k`).
    pub ops_per_step: usize,
    /// Boundary slots per boundary step, and audit slots per audit step (`m`).
    pub boundary_slots: usize,
    /// Width of the time-gap range check; the verifier bounds the op count by `2^time_bits`.
    pub time_bits: u32,
}

impl StreamShape {
    /// Fresh slots per fresh step: `FRESH_PER_BOUNDARY·m` (a fresh slot hashes no point, so it
    /// costs about a fifth of an audit slot; at the default shape the fresh step is about the
    /// size of an op step).
    pub fn fresh_slots(&self) -> usize {
        FRESH_PER_BOUNDARY * self.boundary_slots
    }
}

impl StreamShape {
    /// The shape `foldmem demo` uses unless given shape flags: 64 op slots and 8 boundary
    /// slots, so its circuits stay under 2^15 constraints and the demo proves, compresses and
    /// verifies in about 20 s warm on a 2-core box (the default shape takes about 28 s, most of
    /// it compressing 2^16-constraint circuits). Its keys are in [`crate::cache::KNOWN_KEYS`].
    pub const DEMO: StreamShape = StreamShape {
        ops_per_step: 64,
        boundary_slots: 8,
        time_bits: DEFAULT_TIME_BITS,
    };
}

impl Default for StreamShape {
    /// 352 op slots, 24 boundary slots, 32-bit times.
    fn default() -> Self {
        StreamShape {
            ops_per_step: DEFAULT_OPS_PER_STEP,
            boundary_slots: DEFAULT_BOUNDARY_SLOTS,
            time_bits: DEFAULT_TIME_BITS,
        }
    }
}

/// The three circuits as arecibo's non-uniform circuit.
#[derive(Clone, Debug)]
pub struct StreamIsa {
    /// Shape.
    pub shape: StreamShape,
    /// Circuit index of the first step.
    pub first: usize,
}

impl NonUniformCircuit<E1, E2, StreamCircuit, Sc2> for StreamIsa {
    fn num_circuits(&self) -> usize {
        CIRCUITS
    }
    fn primary_circuit(&self, index: usize) -> StreamCircuit {
        StreamCircuit::blank(self.shape, index)
    }
    fn secondary_circuit(&self) -> Sc2 {
        Sc2::default()
    }
    fn initial_circuit_index(&self) -> usize {
        self.first
    }
}

/// Public parameters for a shape.
pub fn setup(shape: StreamShape) -> StreamParams {
    StreamParams::setup(
        &StreamIsa { shape, first: OP },
        &*<crate::folding::Sb1 as arecibo::traits::snark::BatchedRelaxedR1CSSNARKTrait<E1>>::ck_floor(),
        &*<crate::folding::S2 as arecibo::traits::snark::RelaxedR1CSSNARKTrait<E2>>::ck_floor(),
    )
}

/// Constraints of the op, curve (boundary and audit) and fresh circuits (without SuperNova's
/// verifier circuit).
pub fn circuit_constraints(shape: StreamShape) -> [usize; CIRCUITS] {
    [OP, BOUNDARY, FRESH].map(|i| {
        crate::gadgets::count_constraints(circuit::z::ARITY, |cs, z| {
            let _ = arecibo::traits::circuit_supernova::StepCircuit::synthesize(
                &StreamCircuit::blank(shape, i),
                cs,
                None,
                z,
            );
        })
    })
}
