//! The memory check inside a zkVM's own fold: a gadget a user's SuperNova step circuits call for
//! every memory access, and a driver that proves the user's circuits together with `stream`'s
//! boundary, audit and fresh circuits in one folded proof of `(user z_final, memory)`.
//!
//! # What a user writes
//! - Circuits implementing [`MemoryCircuit`]: the same state width for all, a fixed number of
//!   memory slots per circuit. A step reads and writes through the [`MemoryVar`] it is handed,
//!   over its *own* address and value variables: [`MemoryVar::read`] returns the value variable
//!   the step goes on with, [`MemoryVar::write`] and [`MemoryVar::access`] take the step's
//!   variables as they are. A step returns the index of the user circuit that runs next.
//! - Witness generation that makes the same calls natively, in the same order, on the
//!   [`NativeMemory`] from [`MemoryProver::memory`], then [`MemoryProver::push`]es the step
//!   with its calls. The companion holds the memory (previous values and times) and computes
//!   every challenge: a user never computes a fingerprint.
//! - The verifier: its own [`GadgetKeys`] (generated from the circuits it trusts, never taken
//!   from a prover), the first circuit and the user's start state, then
//!   [`verify_compressed`] (or [`verify_parts`] for a split run), which returns the user's final
//!   state. [`verify_folded`] is the prover's own check: a folded proof carries the digest its
//!   verifier hashes, so proofs from elsewhere are verified compressed.
//!
//! # Layout of `z`
//! `z[..15]` is `stream`'s state (phase, open flag, trace hash, time, segment registers,
//! challenges, fingerprints, chains, last audited address, multiset-hash point), `z[15]`
//! ([`NEXT`]) the user circuit that runs next, `z[16..]` ([`MEMORY_ARITY`]..) the user's state.
//! Program circuits `0..u` are the user's; `u` is `stream`'s curve circuit (boundary and audit
//! steps), `u + 1` its fresh circuit.
//!
//! # Statement
//! A proof that verifies from `(first, z0_user)` shows: some sequence of user steps, starting
//! with circuit `first` on `z0_user` and each running the circuit the previous one chose, ends
//! in the returned user state; and every read those steps made returned the value last written
//! to its address (as a field element), or 0 if never written (except with probability about
//! `2·slots/|F|` per hash query, and under discrete log on Vesta, as for `stream`).
//!
//! # Why it is sound
//! Each memory call is one op slot of `stream`'s op circuit (the same code) over the user's
//! variables, and the library steps are `stream`'s own; the argument of
//! [`crate::backends::stream`] (`docs/stream.md`) carries over with these points:
//! - **Challenges come after the values.** `γ, α` are witnessed when a segment opens and
//!   checked when it closes against Poseidon of everything the segment absorbed: each call's
//!   `(addr, value)` and tag into `T`, its previous value and time gap into `PCH`. A user step
//!   absorbs its slot count first, so a segment's `T` blocks parse into steps of any sizes: the
//!   hash inputs fix every fingerprinted tuple. The user circuit never sees `γ, α` (the handle
//!   keeps them); whatever it computes, a prover who picks values after the challenges must hit
//!   a Poseidon output chosen in advance.
//! - **No copy of an address or value.** A call fingerprints the caller's own variables;
//!   `read` allocates the value once and returns that variable. A disabled read returns 0.
//! - **The user cannot touch the memory slice.** [`MemoryCircuit::synthesize`] gets only
//!   `z[16..]`; the wrapper writes `z[..16]` from the handle. Library steps return the user's
//!   state as the *same* variables (no copy at all) and keep [`NEXT`].
//! - **Library steps cannot be skipped, reordered or run twice.** The verifier requires phase 1
//!   (the audit ran), no open segment and `G = S`; user steps refuse to run after the audit
//!   (phase 1), a closing step must close an open segment whose challenges are its hash, and a
//!   close resets the segment's registers, so the next segment opens with fresh challenges:
//!   challenges of one segment cannot serve another.
//! - **User order.** A user step enforces that it is the circuit [`NEXT`] names, and its chosen
//!   next circuit is one of the user's; the SuperNova program counter after any step is that
//!   choice or a library circuit. So library steps interleave without changing the user's run.
//!
//! # What the user must do
//! - make the same calls natively as in circuit, in order (a mismatch makes the folded proof
//!   fail the prover's own check: [`GadgetError::Check`]);
//! - pass constrained bits as `enabled` / `is_write` ([`bellpepper_core::boolean::Boolean`]s);
//! - range-check what its own logic needs: the memory stores field elements (the native
//!   companion takes `u64` addresses and values). Addresses must be below 2^64 in practice:
//!   the audit orders addresses by 64-bit gaps from −1, so a run that touches a larger field
//!   element (a "negative" address, say) cannot be audited and has no proof.
//!
//! # Plain Nova
//! Refused: every Nova step would carry the boundary, audit and fresh logic (the curve circuit
//! is 20,973 constraints at 24 slots, the fresh one 42,374), several times a CPU step. A plain
//! Nova zkVM binds to a separate `stream` proof with [`crate::zkvm`].
//!
//! # Split runs
//! A run can be proven in parts, on one machine or several: [`MemoryProver::finish_part`]
//! closes the open segment and returns the part's folded proof with a [`Handoff`] (the state the
//! part ended in and the prover's memory), and [`MemoryProver::resume`] starts the next part
//! from it. [`verify_parts`] verifies the parts in order, each from the state the one before
//! verifies to, and the last to the audited end state: the verifier never takes a part's start
//! from a prover.
//!
//! # Checkpoints
//! [`MemoryProver::with_checkpoint`] writes the proof so far, the memory and the counters to a
//! file (atomically, checksummed) after every closed segment. After a crash,
//! [`MemoryProver::from_checkpoint`] checks the file against the keys and the run's start,
//! verifies its proof and matches its memory to the state the proof stands in; the witness generation pushes again from
//! [`MemoryProver::steps`].
//!
//! # Not yet
//! Stack calls (`push`/`pop`): a stack is the user's logic over `read`/`write` (its pointer in
//! the user's state); `stream`'s stack tag is not offered.
//!
//! # Example
//! A counter that writes `i` to address `i` and reads it back, one call pair a step:
//!
//! ```
//! use bellpepper_core::{num::{AllocatedNum, Num}, ConstraintSystem, SynthesisError};
//! use foldmem::gadget::{self, GadgetKeys, GadgetOptions, GadgetShape, MemoryCircuit,
//!                       MemoryProver, MemoryVar};
//! use foldmem::F;
//!
//! #[derive(Clone)]
//! struct Count;
//!
//! impl MemoryCircuit for Count {
//!     fn circuits() -> usize { 1 }
//!     fn arity() -> usize { 1 }
//!     fn memory_slots(_: usize) -> usize { 2 }
//!     fn blank(_: usize) -> Self { Count }
//!     fn circuit_index(&self) -> usize { 0 }
//!     fn synthesize<CS: ConstraintSystem<F>>(
//!         &self, cs: &mut CS, mem: &mut MemoryVar, z: &[AllocatedNum<F>],
//!     ) -> Result<(Num<F>, Vec<AllocatedNum<F>>), SynthesisError> {
//!         let i = Num::from(z[0].clone());
//!         mem.write(cs.namespace(|| "write"), &i, &i)?;
//!         let v = mem.read(cs.namespace(|| "read"), &i)?;
//!         // the next i is the value read back, plus one
//!         let next = AllocatedNum::alloc(cs.namespace(|| "i + 1"), || {
//!             Ok(v.get_value().unwrap_or_default() + F::from(1))
//!         })?;
//!         cs.enforce(|| "i + 1", |lc| lc + v.get_variable() + CS::one(), |lc| lc + CS::one(),
//!                    |lc| lc + next.get_variable());
//!         Ok((Num::zero(), vec![next]))
//!     }
//! }
//!
//! let shape = GadgetShape { boundary_slots: 2, time_bits: 16 };
//! let keys = GadgetKeys::<Count>::generate(shape)?;
//! let opts = GadgetOptions { segment_ops: 4 };
//! let mut prover = MemoryProver::new(&keys, 0, &[F::from(0)], opts)?;
//! for i in 0..3u64 {
//!     let mut mem = prover.memory();
//!     mem.write(i, i);
//!     assert_eq!(mem.read(i), i);
//!     let calls = mem.finish();
//!     prover.push(Count, calls)?;
//! }
//! let proof = prover.finish()?;
//! let snark = keys.compress(&proof)?;
//! // the verifier: its own keys, the first circuit and the start state it knows
//! let out = gadget::verify_compressed(&keys, &snark, 0, &[F::from(0)])?;
//! assert_eq!(out.z_user, vec![F::from(3)]);
//! assert_eq!(out.op_count, 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod circuit;
mod prover;
#[cfg(test)]
mod tests;

pub use circuit::{
    curve_index, fresh_index, MemoryCircuit, MemoryVar, Program, ProgramCircuit, StepKind,
    MEMORY_ARITY, NEXT,
};
pub use prover::{
    statement_z0, verify_compressed, verify_folded, verify_parts, GadgetError, GadgetKeys,
    GadgetOptions, GadgetPart, GadgetProof, GadgetShape, Handoff, MemoryOutputs, MemoryProver,
    NativeMemory, StepCalls, WORD_BITS,
};
