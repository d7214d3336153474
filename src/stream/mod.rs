//! The streaming offline-checking backend (`stream`): Blum-style memory checking folded segment by
//! segment as the trace arrives, with Fiat–Shamir challenges checked in the circuit when each
//! segment closes and an elliptic-curve multiset hash linking the segments. Prover memory is one
//! segment plus the last value and time of every touched address; a run survives crashes
//! (checkpoints) and splits across machines (continuations).
//!
//! # Protocol
//! Global time `t` is the op index (1-based, `< 2^time_bits`); memory tuples are
//! `(addr, value, time)`; the initial memory is all zero (tuples `(a, 0, 0)`). The trace is cut
//! into **segments** of whole op steps. Within segment `j`, Blum's local check
//! `OpW_j ⊎ In_j = OpR_j ⊎ Out_j` runs with fingerprints `RS, WS` of `f = γ − a − α·v − α²·t`:
//! every op adds its read tuple `(a, pv, pt)` to `RS` and its write tuple `(a, v, t)` to `WS`
//! (reads return `pv`; `t − 1 − pt` is a `time_bits`-bit number); one **boundary slot** per address
//! the segment touched adds its incoming tuple `(a, v_in, t_in)` (the value and time before the
//! segment) to `WS` and its outgoing tuple `(a, v_out, t_out)` to `RS`, and moves a point `G` on
//! Vesta by `+H(a, v_out, t_out) − H(a, v_in, t_in)` (hash to curve). The **audit** lists every
//! address once, strictly increasing, and moves `G` by `+H(a, 0, 0) − H(a, v_final, t_final)`;
//! the verifier requires `G` back at its start `S`.
//!
//! The trace's **last segment** has no boundary slots: its **final steps** run inside it, one
//! slot per address, increasing, and the last one closes it. An address the segment touched first
//! gets a *fresh slot*: `(a, 0, 0)` into `WS`, `(a, v_final, t_final)` into `RS`, and `G` does not
//! move, because that address's boundary move `+H(out) − H(a, 0, 0)` and audit move
//! `+H(a, 0, 0) − H(out)` cancel: no point is hashed. Every other address gets an *audit slot*
//! with its tuple `x` before the segment: `G += H(a, 0, 0) − H(x)` (its boundary and audit moves
//! with `H(out)` cancelled), and if the segment touched it, `x` into `WS` and its outgoing tuple
//! into `RS`. On a trace of one segment every address is fresh, so the proof hashes no point at
//! all. Fresh and audit slots share one strictly increasing address chain.
//!
//! The challenges `γ, α` are witnessed once, when a segment opens (the first op or boundary step
//! with `OPEN = 0`), carried unchanged by every other step, and checked when the segment closes
//! (a flag on a boundary or final step, after its slots): `γ = H(TS, T, TMS, PCH, BCH, 1)`,
//! `α = H(…, 2)`, where `TS, TMS` are the trace hash and time when the segment opened, `T` the
//! trace hash now (a chain over every op slot's `(a, v)` and the slots' tags, packed 84 to an
//! element), `PCH` a chain over every op slot's `pv` and its time gap `t − 1 − pt` (gaps packed
//! `⌊252 / time_bits⌋` to an element, 7 at 32 bits) and `BCH` a chain over every boundary
//! slot's `(x_in, v_out, t_out, enabled)` (`x_in` is the x-coordinate of the incoming tuple's
//! hashed point, a Poseidon hash of the tuple and a counter, so it binds `(a, v_in, t_in)`), every
//! audit slot's `(x_x, v_out, t_out, touched)` and every fresh slot's `(a, v_final, t_final)`. The close also requires `RS = WS`, then resets
//! the segment registers. No challenge is left to the verifier. Final steps require an open
//! segment and set the phase `PH = 1`, after which no op or boundary step runs (and, once the
//! segment is closed, no final step either).
//!
//! The circuits are one per kind of slot (SuperNova): op slots (about 148 constraints each, no
//! hash to curve); curve slots (about 880 each, two hashes to curve), which are boundary slots or
//! audit slots by a mode bit of the step, so compression batches one circuit fewer; and fresh
//! slots (about 185 each). See [`circuit`].
//!
//! # Constraint diet (op slot)
//! An op slot is 3 flag bits, a `time_bits`-bit gap check (`time_bits + 1`), the read rule (1),
//! two fingerprints and their gated products (8), and three absorbed chain elements plus 1/84 of a
//! tag element and 1/7 of a gap element (about 99).
//! Each cut, and why it keeps the argument above:
//! - *Recursion amortized over 352 op slots per step* ([`DEFAULT_OPS_PER_STEP`]): the op circuit
//!   plus SuperNova's verifier circuit (62,620 constraints) stays under 2^16 constraints and
//!   variables, so the commitment key and Spartan's compression do not double; 368 slots cross it
//!   (measured: compression 13.8 → 22 s, proof 12,216 → 12,528 B). Nothing about soundness
//!   changes with `k`.
//! - *Time gaps in `time_bits` = 32 bits*, not 64: `t − 1 − pt < 2^time_bits` is all the argument
//!   needs (`pt < t`), and the verifier refuses a proof whose op count reaches `2^time_bits`, so an
//!   honest gap always fits. The audit's address-order check is another circuit and keeps 64 bits.
//! - *Tags packed 84 to a trace-hash element*: the trace chain absorbs every slot's `a` and `v`
//!   as they are, and the slots' 3-bit tags `is_write + 2·is_stack + 4·enabled` as `Σ tag_j·8^j`
//!   per group of 84 slots. Each tag is built from three constrained booleans, so it is below 8,
//!   and `8^84 = 2^252 < p`: the packed element determines every tag. So `T` still binds every
//!   fingerprinted value exactly, which is what the Fiat–Shamir step above needs: the multisets
//!   are fixed before the challenges exist. (Packing the address with its tag instead,
//!   `a + 2^64·tag`, would not be: the op slot does not range-check `a`, so after seeing the
//!   challenges a prover could re-split elements into another address and tag for thousands of
//!   slots and search those choices for a product that cancels a false read.) The tag groups cost
//!   under one constraint per slot where a third element per slot cost about 31. Values and
//!   addresses are never packed.
//! - *Chains at Poseidon arity 32*: measured here per absorbed element, arity 16 costs 39.1
//!   constraints, 24 → 33.8, 32 → 31.4, 36 → 30.5; 32 is within 3% of the best (a default op step
//!   absorbs 612 trace elements and 348 previous-tuple elements: 20 and 12 permutations).
//! - *Previous times as packed gaps*: the previous-tuple chain absorbs each slot's previous value
//!   as it is, and instead of its previous time `pt` the gap `en·(t − 1 − pt)` the slot already
//!   range-checks to `time_bits` bits, packed `⌊252 / time_bits⌋` to an element (7 at 32 bits):
//!   every packed part is range-checked and the parts fit below `p`, so the element determines
//!   every gap. The gap determines `pt = t − 1 − gap` for an enabled slot, because its time `t`
//!   is fixed by `TMS` and the enabled flags (in `T`); a disabled slot's `pt` enters no
//!   fingerprint and is pinned to 0. About 26 constraints per slot fewer than absorbing `pt`.
//! - *No dead allocations*: every allocated value of a slot enters a constraint (the flags their
//!   boolean checks, `a` and the values the fingerprints, the gap bits their sum).
//!
//! # Why it is sound
//! *Per segment.* Everything the fingerprints of segment `j` depend on is hashed into its
//! challenges before they can be used: op tuples and enable flags through `T` (from `TS` to the
//! close), their times through `TMS` and the enable flags, previous values and (as time gaps)
//! previous times through `PCH`, boundary tuples and their enable flags through `BCH` (the hashed x-coordinates commit to
//! `(a, v, t, counter)` by Poseidon's collision resistance). Re-witnessing the challenges inside a
//! segment is impossible (they are witnessed only when `OPEN = 0`), a segment cannot stay open at
//! the end (the verifier requires `OPEN = 0`), and an unhashed enable flag cannot choose which
//! slots count after the challenges are known. So `RS_j = WS_j` is an exact multiset equality
//! except with probability about `2·slots/|F|` per hash query (Schwartz–Zippel on the random
//! oracle's output). Summed over segments: `OpW ⊎ In = OpR ⊎ Out`.
//!
//! *Across segments.* `G = S` at the end means `Σ ±P = O` over the hashed points (`+H(out)`,
//! `−H(in)`, `+H(init)`, `−H(final)`); with points of unknown discrete-log relation (a relation
//! would solve discrete log on Vesta), every point class `{P, −P}` occurs an even number of times.
//! A counter that differs, or the other sign of `y`, gives another point or the negated one — which
//! is why a free counter and a free sign are harmless: the argument only uses that each *tuple*
//! occurs an even number of times over `In ⊎ Out ⊎ Init ⊎ Final`, and two different tuples never
//! share an x-coordinate (a Poseidon collision). Every curve addition carries
//! `(x_Q − x_P)·w = 1`, so no exceptional case (doubling, cancellation) can be satisfied: every
//! satisfied addition is a true group addition.
//!
//! *Together.* From `OpW ⊎ In = OpR ⊎ Out` and the parity of `In ⊎ Out ⊎ Init ⊎ Final`, every tuple
//! has the same count modulo 2 in `L = OpW ⊎ Init` and `R = OpR ⊎ Final`. `L` has no repeated tuple
//! (op times are distinct and ≥ 1, audited addresses strictly increase, initial tuples have time
//! 0) and `|L| = |R|` (one read and one write tuple per op, one initial and one final tuple per
//! audited address), so `L = R`: exactly Blum's equation for the whole trace. With
//! `prev_time < time` and reads returning their previous value, every read returns the last value
//! written to its address, or 0. An address an op touched but the audit or a boundary slot missed
//! leaves a tuple unmatched; an address initialized twice needs two initial tuples, which the
//! strictly increasing audit cannot give; an incoming tuple taken from a later segment has a time
//! no earlier outgoing tuple has. The verifier checks the last audited address is below 2^64
//! (so audited addresses are distinct 64-bit numbers) and the final time below `2^time_bits`.
//!
//! *Final steps.* Every accepted run is an accepted run of the protocol with the last segment
//! closed by boundary slots and a separate audit, which the argument above covers: a touched
//! audit slot is the boundary slot `x → out` plus the audit slot with final tuple `out` (the terms
//! `±H(out)` cancel, and removing a pair of equal terms changes no tuple's count modulo 2); an
//! untouched one is the audit slot with final tuple `x`; a fresh slot is the boundary slot
//! `(a, 0, 0) → out` plus the audit slot `(a, 0, 0)`, `out`, whose moves of `G` all cancel. The
//! per-segment equality and the counting never depend on the order of steps, so running the
//! audit inside the open last segment changes nothing; the shared increasing chain still gives
//! one initial and one final tuple per address. A fresh slot's flag is not hashed: a disabled
//! slot is all zeros, and an enabled all-zero slot multiplies `RS` and `WS` by the same `γ`, so
//! the hashed `(a, v_final, t_final)` alone decides what the slot contributes to the fingerprints
//! (flipping the flag only decides whether address 0 with tuple `(0, 0, 0)` is audited, which is
//! harmless). An audit slot's `touched` is hashed; its other flags and counters move only `G`
//! and the address chain, neither of which relies on the challenges. `BCH` absorbs no step
//! kind: its blocks are not ambiguous because every step starts a block of its own, whose first
//! element is a range-checked address (or 0) in a fresh step and a Poseidon x-coordinate in a
//! curve step, which coincide only through a Poseidon preimage.
//!
//! *Continuations.* Proofs of consecutive ranges of whole segments each start from the canonical
//! state the verifier builds from the previous proof's final trace hash and time; all but the last
//! end before the audit (`PH = 0`), every one ends with no open segment, and `Σ (G_i − S) = O`
//! (checked natively with complete formulas) plays the role of `G = S`.

pub mod circuit;
pub mod curve;
mod native;
mod prover;
#[cfg(test)]
mod tests;

pub use circuit::{
    canonical, AuditSlot, BoundarySlot, FreshSlot, OpSlot, Opening, Step, StreamCircuit,
};
pub use curve::{base_point, Affine, H2cWitness};
pub use native::{
    boundary_slot, move_g, open_segment_steps, padding_audit, padding_boundary, trace_hash, Native,
    TraceHasher,
};
pub use prover::{
    checkpoint_position, plan, range_bounds, Finished, RangePlan, StreamOptions, StreamProver,
    DEFAULT_SEGMENT_OPS,
};

use crate::backend::{
    check_trace_claim, Claim, KeyDigests, Lines, ProofSystem, ShapeError, ShapeSpec, TraceItem,
};
use crate::nova::{VerifyError, S2};
use crate::pipeline::{cached, JobError, KeyOptions, Loaded, ProveReport};
use crate::proof::{f_hex, Backend, Body, Shape};
use crate::step::witness::trace_hash_seed;
use crate::supernova::{sn_digests, Sb1, Sc2};
use crate::{E1, E2, F};
use arecibo::supernova::{NonUniformCircuit, PublicParams, RecursiveSNARK};
use arecibo::traits::snark::BatchedRelaxedR1CSSNARKTrait;
use arecibo::traits::Engine;
use circuit::{BOUNDARY, CIRCUITS, FRESH, OP};
use ff::Field;
use serde::{Deserialize, Serialize};

/// Public parameters of the streaming backend.
pub type StParams = PublicParams<E1, E2, StreamCircuit, Sc2>;
/// Folded proof.
pub type StRecursive = RecursiveSNARK<E1, E2>;
/// Compressed proof (batched Spartan over the three circuits).
pub type StCompressed =
    arecibo::supernova::snark::CompressedSNARK<E1, E2, StreamCircuit, Sc2, Sb1, S2>;
/// Compression prover key.
pub type StPk = arecibo::supernova::snark::ProverKey<E1, E2, StreamCircuit, Sc2, Sb1, S2>;
/// Compression verifier key.
pub type StVk = arecibo::supernova::snark::VerifierKey<E1, E2, StreamCircuit, Sc2, Sb1, S2>;

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

/// The streaming backend's shape for `flags` (defaults: 352 op slots, 24 boundary slots, 32-bit
/// times).
pub fn shape_from_flags(f: &crate::backend::ShapeFlags) -> Result<StreamShape, ShapeError> {
    f.only("stream", &["ops_per_step", "boundary_slots", "time_bits"])?;
    Ok(StreamShape {
        ops_per_step: f.ops_per_step.unwrap_or(DEFAULT_OPS_PER_STEP),
        boundary_slots: f.boundary_slots.unwrap_or(DEFAULT_BOUNDARY_SLOTS),
        time_bits: f.time_bits.unwrap_or(DEFAULT_TIME_BITS),
    })
}

impl ShapeSpec for StreamShape {
    fn backend(&self) -> Backend {
        Backend::Stream
    }
    fn validate(&self) -> Result<(), ShapeError> {
        crate::backend::check_ops_per_step(self.ops_per_step, crate::backend::MAX_OPS_PER_STEP)?;
        if !(1..=MAX_BOUNDARY_SLOTS).contains(&self.boundary_slots) {
            return Err(ShapeError::new(
                "boundary_slots",
                format!(
                    "must be in 1..={MAX_BOUNDARY_SLOTS}, got {}",
                    self.boundary_slots
                ),
            ));
        }
        if !TIME_BITS.contains(&self.time_bits) {
            return Err(ShapeError::new(
                "time_bits",
                format!(
                    "must be in {}..={}, got {}",
                    TIME_BITS.start(),
                    TIME_BITS.end(),
                    self.time_bits
                ),
            ));
        }
        Ok(())
    }
    fn ops_per_step(&self) -> usize {
        self.ops_per_step
    }
    fn statement(&self) -> Lines {
        vec![
            ("ops_per_step", self.ops_per_step.to_string()),
            ("boundary_slots", self.boundary_slots.to_string()),
            ("time_bits", self.time_bits.to_string()),
        ]
    }
    fn cache_name(&self) -> String {
        format!(
            "stream-k{}-m{}-t{}",
            self.ops_per_step, self.boundary_slots, self.time_bits
        )
    }
    fn keys(&self, opts: &KeyOptions) -> Result<Loaded, JobError> {
        let shape = *self;
        let ((pp, pk, vk), source, digests) = cached(
            &Shape::Stream(shape),
            opts,
            |(pp, _, vk): &(StParams, StPk, StVk)| sn_digests(pp, vk),
            || {
                let pp = setup(shape);
                let (pk, vk) =
                    StCompressed::setup(&pp).map_err(|e| JobError::Internal(format!("{e:?}")))?;
                Ok((pp, pk, vk))
            },
        )?;
        Ok(Loaded {
            system: Box::new(StreamKeys { shape, pp, pk, vk }),
            source,
            digests,
        })
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
pub fn setup(shape: StreamShape) -> StParams {
    StParams::setup(
        &StreamIsa { shape, first: OP },
        &*Sb1::ck_floor(),
        &*<S2 as arecibo::traits::snark::RelaxedR1CSSNARKTrait<E2>>::ck_floor(),
    )
}

/// Constraints of the op, curve (boundary and audit) and fresh circuits (without SuperNova's
/// verifier circuit).
pub fn circuit_constraints(shape: StreamShape) -> [usize; CIRCUITS] {
    [OP, BOUNDARY, FRESH].map(|i| {
        crate::step::gadgets::count_constraints(circuit::z::ARITY, |cs, z| {
            let _ = arecibo::traits::circuit_supernova::StepCircuit::synthesize(
                &StreamCircuit::blank(shape, i),
                cs,
                None,
                z,
            );
        })
    })
}

/// What a streaming proof claims: the trace (range) it covers, from the start state the verifier
/// builds, to its end state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOutputs {
    /// Word size in bits (seeds the trace hash).
    pub word_bits: u32,
    /// Trace hash at the start of the range (the seed for a whole trace).
    pub start_hash: F,
    /// Time (ops before the range) at its start.
    pub start_time: u64,
    /// Trace hash at the end of the range.
    pub trace_hash: F,
    /// Time at the end: the number of ops up to the end of the range.
    pub op_count: u64,
    /// The audit ran (the last proof of a trace).
    pub audited: bool,
    /// Last audited address (`None`: no address audited).
    pub last_addr: Option<u64>,
    /// The multiset-hash point at the end.
    pub g: Affine,
}

impl StreamOutputs {
    /// The start state (the verifier builds it; never read from a proof).
    pub fn z0(&self) -> Vec<F> {
        canonical(self.start_hash, self.start_time)
    }
    /// The end state the proof must reach: no open segment, segment registers reset.
    pub fn zn(&self) -> Vec<F> {
        let mut z = canonical(self.trace_hash, self.op_count);
        z[circuit::z::PH] = if self.audited { F::ONE } else { F::ZERO };
        z[circuit::z::LA] = self.last_addr.map(F::from).unwrap_or(-F::ONE);
        z[circuit::z::GX] = self.g.x;
        z[circuit::z::GY] = self.g.y;
        z
    }
    /// Ops in this range.
    pub fn range_ops(&self) -> u64 {
        self.op_count.saturating_sub(self.start_time)
    }
}

impl Claim for StreamOutputs {
    fn op_count(&self) -> u64 {
        self.op_count
    }
    fn word_bits(&self) -> u32 {
        self.word_bits
    }
    fn trace_hash(&self) -> Option<F> {
        Some(self.trace_hash)
    }
    fn statement(&self) -> Lines {
        let mut v = vec![("initial_memory", "empty".to_string())];
        if self.start_time != 0 {
            v.push(("range_start_time", self.start_time.to_string()));
            v.push(("range_start_hash", f_hex(&self.start_hash)));
        }
        v.push(("ops", self.op_count.to_string()));
        v.push(("trace_hash", f_hex(&self.trace_hash)));
        v.push(("audited", self.audited.to_string()));
        v
    }
}

/// Why a streaming claim is not the statement the verifier accepts (beyond the SNARK).
fn check_claim(shape: &StreamShape, o: &StreamOutputs, whole: bool) -> Result<(), VerifyError> {
    if o.op_count >= 1u64 << shape.time_bits || o.start_time > o.op_count {
        return Err(VerifyError::Statement("op count (at most 2^time_bits)"));
    }
    if whole {
        if o.start_time != 0 || o.start_hash != trace_hash_seed(o.word_bits) {
            return Err(VerifyError::Statement(
                "start state (a whole trace starts at the seed, time 0)",
            ));
        }
        if !o.audited {
            return Err(VerifyError::Statement("audit (the proof never audited)"));
        }
        if o.g != base_point() {
            return Err(VerifyError::Statement("multiset hash (G is not back at S)"));
        }
    }
    Ok(())
}

/// Verify a compressed proof of a whole trace: from the empty memory and the seed, every segment
/// closed, the audit run, `G` back at `S`.
pub fn verify_compressed(
    pp: &StParams,
    vk: &StVk,
    shape: &StreamShape,
    snark: &StCompressed,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    check_claim(shape, o, true)?;
    verify_range(pp, vk, snark, o)
}

/// The SNARK of one range against its claim, from the start state built from the claim's start.
fn verify_range(
    pp: &StParams,
    vk: &StVk,
    snark: &StCompressed,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    // arecibo's verifier indexes and asserts on proof content (e.g. the program counter) before
    // its hash checks: a malformed proof is an invalid proof, never a panic of the caller
    let (zn, _) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        snark.verify(pp, vk, &o.z0(), &[<E2 as Engine>::Scalar::ZERO])
    }))
    .map_err(|_| VerifyError::Snark("malformed SNARK".into()))?
    .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
    if zn != o.zn() {
        return Err(VerifyError::OutputMismatch("final state"));
    }
    Ok(())
}

/// The claim rules of one part of a run (a range, or the whole trace as its only part): well
/// formed, over `word_bits`-bit words, starting at `start` (trace hash, time), audited exactly if
/// it is the `last` part.
fn check_part(
    shape: &StreamShape,
    o: &StreamOutputs,
    word_bits: u32,
    start: (F, u64),
    last: bool,
) -> Result<(), VerifyError> {
    check_claim(shape, o, false)?;
    if o.word_bits != word_bits {
        return Err(VerifyError::Statement("word size (differs between parts)"));
    }
    if (o.start_hash, o.start_time) != start {
        return Err(VerifyError::Statement(
            "range start (a part does not start where the previous one ended)",
        ));
    }
    if o.audited != last {
        return Err(VerifyError::Statement(
            "audit (exactly the last part audits)",
        ));
    }
    if !last && o.last_addr.is_some() {
        return Err(VerifyError::Statement(
            "audit (a part before the last audited)",
        ));
    }
    Ok(())
}

/// The prover's check of the proof it is about to write, with the verifier's own checks: the
/// compressed SNARK verifies from the start state its claim names and ends in the claimed state,
/// the claim is well formed, a first range starts at the seed, exactly a last range audits, and
/// a whole trace ends with `G` back at `S`. Without it a corrupted checkpoint or a prover bug
/// would be written as a proof no verifier accepts while `prove` reported success.
pub fn check_proof(
    keys: &StreamKeys,
    snark: &StCompressed,
    o: &StreamOutputs,
    first: bool,
    last: bool,
) -> Result<(), JobError> {
    let fail = |why: String| {
        JobError::Internal(format!(
            "the proof does not verify ({why}): a corrupted checkpoint, or a prover bug; no \
             proof was written"
        ))
    };
    // the verifier's rules for this part; a later range's start is chained by the verifier
    // across parts, which one prover cannot check
    let start = if first {
        (trace_hash_seed(o.word_bits), 0)
    } else {
        (o.start_hash, o.start_time)
    };
    check_part(&keys.shape, o, o.word_bits, start, last).map_err(|e| fail(e.to_string()))?;
    if first && last {
        // a whole trace: G back at S
        check_claim(&keys.shape, o, true).map_err(|e| fail(e.to_string()))?;
    }
    verify_range(&keys.pp, &keys.vk, snark, o).map_err(|e| fail(e.to_string()))
}

/// Verify a folded proof of a whole trace, for the prover's own proofs and tests: arecibo's
/// folded verifier takes the parameter digest from the proof, so proofs from elsewhere are
/// verified compressed ([`verify_compressed`]).
pub fn verify_folded(
    pp: &StParams,
    shape: &StreamShape,
    snark: &StRecursive,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    check_claim(shape, o, true)?;
    let (zn, _) = snark
        .verify(pp, &o.z0(), &[<E2 as Engine>::Scalar::ZERO])
        .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
    if zn != o.zn() {
        return Err(VerifyError::OutputMismatch("final state"));
    }
    Ok(())
}

/// Verify continuation proofs of consecutive ranges. The verifier builds every start state
/// itself: the first from the seed at time 0, each next one from the previous proof's final trace
/// hash and time; every proof but the last ends before the audit, the last after it, and
/// `Σ (G_i − S) = O`.
pub fn verify_parts(
    pp: &StParams,
    vk: &StVk,
    shape: &StreamShape,
    parts: &[(&StCompressed, &StreamOutputs)],
) -> Result<(), VerifyError> {
    let Some(((_, first), _)) = parts.split_first() else {
        return Err(VerifyError::Statement("parts (none given)"));
    };
    let word_bits = first.word_bits;
    let mut expect = (trace_hash_seed(word_bits), 0u64);
    for (i, (snark, o)) in parts.iter().enumerate() {
        check_part(shape, o, word_bits, expect, i == parts.len() - 1)?;
        verify_range(pp, vk, snark, o).map_err(|e| match e {
            VerifyError::Snark(m) => VerifyError::Snark(format!("part {i}: {m}")),
            other => other,
        })?;
        expect = (o.trace_hash, o.op_count);
    }
    let gs: Vec<Affine> = parts.iter().map(|(_, o)| o.g).collect();
    match curve::sums_to_start(&gs) {
        Some(true) => Ok(()),
        _ => Err(VerifyError::Statement(
            "multiset hash (the parts' G do not sum back to S)",
        )),
    }
}

/// Keys of the streaming backend for one shape.
pub struct StreamKeys {
    /// Shape.
    pub shape: StreamShape,
    /// Public parameters.
    pub pp: StParams,
    /// Compression prover key.
    pub pk: StPk,
    /// Compression verifier key.
    pub vk: StVk,
}

impl ProofSystem for StreamKeys {
    fn shape(&self) -> Shape {
        Shape::Stream(self.shape)
    }
    fn digests(&self) -> KeyDigests {
        sn_digests(&self.pp, &self.vk)
    }
    fn constraints_per_op(&self) -> Option<f64> {
        let op = crate::nova::r1cs_num_cons(self.pp.primary_r1cs_shapes()[OP]);
        Some(op as f64 / self.shape.ops_per_step as f64)
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        let op = crate::nova::r1cs_num_cons(self.pp.primary_r1cs_shapes()[OP]);
        let secondary = crate::nova::supernova_secondary_constraints(&self.pp);
        Some((op + secondary) as f64 / self.shape.ops_per_step as f64)
    }
    fn circuit_lines(&self) -> Lines {
        let shapes = self.pp.primary_r1cs_shapes();
        let n = |i: usize| crate::nova::r1cs_num_cons(shapes[i]);
        let [op, b, f] = circuit_constraints(self.shape);
        vec![
            (
                "circuit_constraints",
                format!("op={op} boundary/audit={b} fresh={f}"),
            ),
            (
                "step_constraints",
                format!(
                    "op={} boundary/audit={} fresh={}",
                    n(OP),
                    n(BOUNDARY),
                    n(FRESH)
                ),
            ),
        ]
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(crate::backend::Progress),
        opts: &crate::backend::ProveOptions,
    ) -> Result<(Option<Body>, ProveReport), JobError> {
        let t = std::time::Instant::now();
        let Finished {
            snark: folded,
            outputs,
            steps,
            ..
        } = prover::run(self, word_bits, ops, progress, opts)?;
        let mut report = ProveReport {
            ops: outputs.range_ops(),
            steps,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        if !opts.compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = compress_proof(self, &folded)?;
        report.compress_s = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let (first, last) = match &opts.range {
            Some(r) => (r.index == 0, r.index + 1 == r.count),
            None => (true, true),
        };
        check_proof(self, &snark, &outputs, first, last)?;
        tracing::info!(
            "check of the proof before writing it: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        Ok((Some(Body::Stream { outputs, snark }), report))
    }
    fn verify_parts(
        &self,
        bodies: &[&Body],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError> {
        let mut parts = Vec::with_capacity(bodies.len());
        for b in bodies {
            let Body::Stream { outputs, snark } = b else {
                return Err(JobError::Invalid(
                    "proof body does not match the backend".into(),
                ));
            };
            parts.push((snark, outputs));
        }
        verify_parts(&self.pp, &self.vk, &self.shape, &parts)?;
        if let (Some(trace), Some((_, last))) = (trace, parts.last()) {
            let mut h = TraceHasher::new(self.shape.ops_per_step, last.word_bits);
            for item in trace {
                h.push(&item?.1);
            }
            let (n, hash) = h.finish();
            check_trace_claim(*last, n, hash)?;
        }
        Ok(())
    }
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError> {
        let Body::Stream { outputs, snark } = body else {
            return Err(JobError::Invalid(
                "proof body does not match the backend".into(),
            ));
        };
        verify_compressed(&self.pp, &self.vk, &self.shape, snark, outputs)?;
        if let Some(trace) = trace {
            let mut h = TraceHasher::new(self.shape.ops_per_step, outputs.word_bits);
            for item in trace {
                h.push(&item?.1);
            }
            let (n, hash) = h.finish();
            check_trace_claim(outputs, n, hash)?;
        }
        Ok(())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Compress a folded proof.
pub fn compress_proof(keys: &StreamKeys, folded: &StRecursive) -> Result<StCompressed, JobError> {
    // arecibo indexes into the folded proof: a malformed one (a crafted checkpoint's) is an
    // error, not a panic
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        StCompressed::prove(&keys.pp, &keys.pk, folded)
    }))
    .map_err(|_| JobError::Internal("compression failed: the folded proof is malformed".into()))?
    .map_err(|e| JobError::Internal(format!("{e:?}")))
}
