//! Building blocks for a zkVM's own step circuits: the in-circuit `stream` trace hash, so a CPU
//! circuit can bind its memory accesses to a separate `stream` memory proof. (To check the
//! memory inside the zkVM's own fold instead, in one proof, see [`crate::gadget`].)
//!
//! # Binding a CPU proof to a `stream` memory proof
//!
//! A `stream` proof states "the trace whose hash is `trace_hash` and whose length is `op_count`
//! is memory-consistent" ([`crate::backends::stream::trace_hash`]). A zkVM whose CPU circuit
//! makes memory accesses proves its execution separately and must show that the accesses its CPU
//! made are that trace. [`TraceHashVar`] computes the same hash inside the CPU circuit: it keeps
//! three elements of the circuit's state `z` (hash, count, ended) and absorbs one *hash step* of
//! exactly `k` memory slots (the `stream` shape's `ops_per_step`) per call of
//! [`TraceHashVar::absorb_step`].
//!
//! **Cost** (counted 2026-12-04 with `gadgets::count_constraints`, flags allocated by
//! [`MemOpVar::alloc`]): 25,177 constraints per hash step at `k = 352` (the default shape), 71.5
//! per access, most of it the arity-32 Poseidon chain over each access's address and value;
//! 5,377 at `k = 64` (84.0 per access).
//!
//! **What the zkVM's verifier checks**, all of it from what the verifier itself knows:
//! - the `stream` proof verified as a *whole, audited* trace (`stream::verify_compressed` or
//!   `verify_folded`, or every part through `verify_parts`): a single range part's hash says
//!   nothing about its reads;
//! - under the `stream` shape whose `ops_per_step` (`k`) the CPU circuit was built with (its
//!   verifier key fixes the slots per step; `k` is not part of the hash, so this check carries
//!   the binding);
//! - the CPU proof started from [`TraceHashVar::start_values`] for the proof's word size (or, for
//!   a continuation, from the state the previous range ended on);
//! - the CPU proof's final `[hash, count]` equals the memory proof's `(trace_hash, op_count)`.
//!
//! Then, by collision resistance of the Poseidon chain, the CPU's accesses (address, value,
//! read/write, stack flag, in order) are exactly the sequence the memory proof proved
//! consistent: every read the CPU made returned the value last written there, or 0 if never
//! written.
//!
//! **What the gadget enforces** (each constraint has a test that breaks it):
//! - the state's `ended` flag is a bit (redundant with the next rules, which already force a
//!   non-zero `ended` to empty steps; kept as a cheap guard on a user-chosen `z0`);
//! - a disabled slot carries nothing: its address, value and both flags are 0 (so it hashes as
//!   the zero padding the native hasher uses);
//! - enabled slots form a prefix of the step, and once a step has a disabled slot, every later
//!   step is empty (the state's `ended` flag): only the trace's last hash step is partial, as in
//!   the native hasher;
//! - an empty step leaves the hash unchanged (a trace whose length is a multiple of `k` does not
//!   absorb a padding block);
//! - the count grows by the number of enabled slots, the same bits that enter the tags.
//!
//! The slot flags (`enabled`, `is_write`, `is_stack`) are bits because they are bellpepper
//! [`Boolean`]s, constrained where they are allocated ([`MemOpVar::alloc`] does); the gadget adds
//! no booleanity constraint of its own.
//!
//! **What the user must do:**
//! - feed the *same* address and value variables to the CPU's own logic and to the gadget (no
//!   copy the prover could make differ), and give the gadget every memory access the CPU makes,
//!   in order;
//! - range-check the addresses the CPU uses (below 2^64) and the values it writes (below
//!   2^word_bits): neither the gadget nor the `stream` circuit does, and a succinct verifier sees
//!   no trace file, so the binding holds for sequences of field elements. With writes in range,
//!   reads return written values or 0 and are in range too;
//! - for words wider than 128 bits, hash a value in circuit as [`crate::Word::to_field`] does
//!   (`Poseidon(lo, hi)`, and 0 for the zero word) before giving it to the gadget;
//! - in a SuperNova program, make every circuit either call [`TraceHashVar::absorb_step`] or copy
//!   the three state elements unchanged under constraints;
//! - make each hash step exactly `k` slots: a CPU step with fewer accesses than `k` pads with
//!   real accesses (for example a read of a fixed address) or ends the trace; disabled slots in
//!   the middle of a trace are refused.
//!
//! # Example
//!
//! ```
//! use bellpepper_core::{test_cs::TestConstraintSystem, ConstraintSystem};
//! use foldmem::zkvm::{MemOpVar, TraceHashVar};
//! use foldmem::{backends::stream, Op};
//!
//! let (k, word_bits) = (4, 64);
//! let ops = vec![Op::write(7, 5u64), Op::read(7, 5u64), Op::read(9, 0u64)];
//! let mut cs = TestConstraintSystem::new();
//! let mut th = TraceHashVar::alloc(&mut cs, TraceHashVar::start_values(word_bits))?;
//! // one hash step of k slots: three accesses, then the trace ends
//! let slots = (0..k)
//!     .map(|i| MemOpVar::alloc(cs.namespace(|| format!("slot {i}")), ops.get(i), word_bits))
//!     .collect::<Result<Vec<_>, _>>()?;
//! th = th.absorb_step(&mut cs.namespace(|| "step 0"), &slots)?;
//! assert!(cs.is_satisfied());
//! let (count, hash) = stream::trace_hash(ops, word_bits, k);
//! assert_eq!(th.values(), Some([hash, count.into(), 1u64.into()]));
//! # Ok::<(), bellpepper_core::SynthesisError>(())
//! ```

use crate::backends::stream::circuit::pack;
use crate::backends::stream::{TraceHasher, TAGS_PER_ELEMENT};
use crate::engine::F;
use crate::gadgets::{add_bool, alloc_num, as_num, enforce_product_zero, one, select, sub};
use crate::hash::{chain32_absorb_circuit, trace_hash_seed};
use crate::trace::Op;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// One memory access as circuit variables, as [`TraceHashVar::absorb_step`] hashes it.
#[derive(Clone)]
pub struct MemOpVar {
    /// 1 for a real access, 0 for an unused slot.
    pub enabled: Boolean,
    /// 1 for a write or push, 0 for a read or pop.
    pub is_write: Boolean,
    /// 1 for a push or pop.
    pub is_stack: Boolean,
    /// Word address.
    pub addr: Num<F>,
    /// Value read or written, as [`crate::Word::to_field`] maps it.
    pub value: Num<F>,
}

impl MemOpVar {
    /// Allocate an access from a native op (`None`: an unused slot, all zero). The flags get
    /// booleanity constraints; address and value are free witnesses the caller's circuit should
    /// also use.
    pub fn alloc<CS: ConstraintSystem<F>>(
        mut cs: CS,
        op: Option<&Op>,
        word_bits: u32,
    ) -> Result<Self, SynthesisError> {
        let flag = |cs: &mut CS, name: &'static str, v: bool| -> Result<Boolean, SynthesisError> {
            Ok(Boolean::from(AllocatedBit::alloc(
                cs.namespace(|| name),
                Some(v),
            )?))
        };
        let enabled = flag(&mut cs, "enabled", op.is_some())?;
        let is_write = flag(&mut cs, "is_write", op.is_some_and(|o| o.kind.is_write()))?;
        let is_stack = flag(&mut cs, "is_stack", op.is_some_and(|o| o.kind.is_stack()))?;
        let (a, v) = op.map_or((F::ZERO, F::ZERO), |o| {
            (F::from(o.addr), o.value.to_field(word_bits))
        });
        let addr = AllocatedNum::alloc(cs.namespace(|| "addr"), || Ok(a))?.into();
        let value = AllocatedNum::alloc(cs.namespace(|| "value"), || Ok(v))?.into();
        Ok(MemOpVar {
            enabled,
            is_write,
            is_stack,
            addr,
            value,
        })
    }
}

/// The running `stream` trace hash as three state variables: `[hash, count, ended]`.
#[derive(Clone)]
pub struct TraceHashVar {
    /// Running hash.
    pub hash: AllocatedNum<F>,
    /// Accesses absorbed so far.
    pub count: AllocatedNum<F>,
    /// 1 once a hash step was partial: every later step must be empty.
    pub ended: AllocatedNum<F>,
}

/// Number of state elements [`TraceHashVar`] occupies in `z`.
pub const TRACE_HASH_ARITY: usize = 3;

impl TraceHashVar {
    /// The state of an empty trace of `word_bits`-bit words: put these in the CPU circuit's
    /// `z0`.
    pub fn start_values(word_bits: u32) -> [F; TRACE_HASH_ARITY] {
        [trace_hash_seed(word_bits), F::ZERO, F::ZERO]
    }

    /// The state after `hasher` at a hash-step boundary (to continue a trace, for example a
    /// range of a longer run), or `None` when `hasher` holds a partial step.
    pub fn resume_values(hasher: &TraceHasher) -> Option<[F; TRACE_HASH_ARITY]> {
        let (n, h) = hasher.at_step_boundary()?;
        Some([h, F::from(n), F::ZERO])
    }

    /// Allocate the state from values (tests and a first step's `z`).
    pub fn alloc<CS: ConstraintSystem<F>>(
        cs: &mut CS,
        values: [F; TRACE_HASH_ARITY],
    ) -> Result<Self, SynthesisError> {
        let [h, n, e] = values;
        Ok(TraceHashVar {
            hash: AllocatedNum::alloc(cs.namespace(|| "trace hash"), || Ok(h))?,
            count: AllocatedNum::alloc(cs.namespace(|| "trace count"), || Ok(n))?,
            ended: AllocatedNum::alloc(cs.namespace(|| "trace ended"), || Ok(e))?,
        })
    }

    /// The state read from a slice of the circuit's `z` (`z.len() ==` [`TRACE_HASH_ARITY`]).
    pub fn from_z(z: &[AllocatedNum<F>]) -> Result<Self, SynthesisError> {
        match z {
            [h, n, e] => Ok(TraceHashVar {
                hash: h.clone(),
                count: n.clone(),
                ended: e.clone(),
            }),
            _ => Err(SynthesisError::Unsatisfiable),
        }
    }

    /// The state as the slice of the next `z`.
    pub fn to_z(&self) -> Vec<AllocatedNum<F>> {
        vec![self.hash.clone(), self.count.clone(), self.ended.clone()]
    }

    /// The assigned values, when the witness is known.
    pub fn values(&self) -> Option<[F; TRACE_HASH_ARITY]> {
        Some([
            self.hash.get_value()?,
            self.count.get_value()?,
            self.ended.get_value()?,
        ])
    }

    /// Absorb one hash step: `slots.len()` is the `stream` shape's `ops_per_step` (`k`), the
    /// enabled slots first. Equal to what [`TraceHasher`] computes for the same accesses; see the
    /// module docs for what is enforced.
    pub fn absorb_step<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        slots: &[MemOpVar],
    ) -> Result<Self, SynthesisError> {
        if slots.is_empty() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let one = one::<CS>();
        let ended: Num<F> = self.ended.clone().into();
        enforce_product_zero(cs, "ended is a bit", &ended, &sub(&ended, &one));
        let mut elems = Vec::with_capacity(2 * slots.len() + slots.len() / TAGS_PER_ELEMENT + 1);
        let mut tags = Vec::with_capacity(slots.len());
        let mut count: Num<F> = self.count.clone().into();
        for (i, s) in slots.iter().enumerate() {
            let mut cs = cs.namespace(|| format!("slot {i}"));
            let en = as_num::<CS>(&s.enabled);
            let off = sub(&one, &en);
            // a disabled slot is the native zero padding
            enforce_product_zero(&mut cs, "disabled addr", &off, &s.addr);
            enforce_product_zero(&mut cs, "disabled value", &off, &s.value);
            enforce_product_zero(&mut cs, "disabled write", &off, &as_num::<CS>(&s.is_write));
            enforce_product_zero(&mut cs, "disabled stack", &off, &as_num::<CS>(&s.is_stack));
            // enabled slots first: slot i+1 enabled ⇒ slot i enabled; slot 0 enabled ⇒ not ended
            let before = match i {
                0 => sub(&one, &ended),
                _ => as_num::<CS>(&slots[i - 1].enabled),
            };
            enforce_product_zero(&mut cs, "enabled prefix", &en, &sub(&one, &before));
            tags.push(add_bool::<CS>(
                add_bool::<CS>(as_num::<CS>(&s.is_write), &s.is_stack, F::from(2)),
                &s.enabled,
                F::from(4),
            ));
            elems.extend([s.addr.clone(), s.value.clone()]);
            count = count.add(&en);
        }
        elems.extend(pack(&tags, TAGS_PER_ELEMENT, F::from(8)));
        let hash: Num<F> = self.hash.clone().into();
        let absorbed = chain32_absorb_circuit(&mut cs.namespace(|| "chain"), hash.clone(), elems)?;
        // an empty step (the trace ended, or ended at the previous boundary) changes nothing
        let hash = select(
            cs.namespace(|| "hash if any"),
            &slots[0].enabled,
            &absorbed,
            &hash,
        )?;
        let last = as_num::<CS>(&slots[slots.len() - 1].enabled);
        Ok(TraceHashVar {
            hash: alloc_num(cs.namespace(|| "hash out"), &hash)?,
            count: alloc_num(cs.namespace(|| "count out"), &count)?,
            ended: alloc_num(cs.namespace(|| "ended out"), &sub(&one, &last))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::stream::trace_hash;
    use crate::trace::OpKind;
    use bellpepper_core::test_cs::TestConstraintSystem;

    /// A deterministic pseudo-random trace mixing all four kinds (xorshift).
    fn trace(len: usize, seed: u64) -> Vec<Op> {
        let mut x = seed | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..len)
            .map(|_| {
                let kind =
                    [OpKind::Read, OpKind::Write, OpKind::Push, OpKind::Pop][next() as usize % 4];
                Op {
                    kind,
                    addr: next() % 64,
                    value: (next() >> 1).into(),
                }
            })
            .collect()
    }

    /// Hash `ops` in `steps` hash steps of `k` slots (steps past the trace are empty) and return
    /// the system and the final state.
    fn hash_in_circuit(
        ops: &[Op],
        k: usize,
        steps: usize,
        word_bits: u32,
        start: [F; TRACE_HASH_ARITY],
    ) -> (TestConstraintSystem<F>, TraceHashVar) {
        let mut cs = TestConstraintSystem::new();
        let mut th = TraceHashVar::alloc(&mut cs, start).unwrap();
        for s in 0..steps {
            let slots: Vec<MemOpVar> = (0..k)
                .map(|i| {
                    let cs = cs.namespace(|| format!("op {s} {i}"));
                    MemOpVar::alloc(cs, ops.get(s * k + i), word_bits).unwrap()
                })
                .collect();
            th = th
                .absorb_step(&mut cs.namespace(|| format!("step {s}")), &slots)
                .unwrap();
        }
        (cs, th)
    }

    #[test]
    fn equals_the_native_trace_hash_at_and_between_step_boundaries() {
        for (k, word_bits) in [(1usize, 32), (3, 64), (4, 64), (85, 64)] {
            for len in [0, 1, k.saturating_sub(1), k, k + 1, 2 * k, 3 * k + 2] {
                let ops = trace(len, (len * 31 + k) as u64);
                let steps = len.div_ceil(k) + 1; // one more, empty step after the end
                let (cs, th) = hash_in_circuit(
                    &ops,
                    k,
                    steps,
                    word_bits,
                    TraceHashVar::start_values(word_bits),
                );
                assert!(
                    cs.is_satisfied(),
                    "k {k} len {len}: {:?}",
                    cs.which_is_unsatisfied()
                );
                let (n, h) = trace_hash(ops.clone(), word_bits, k);
                let ended = F::from(u64::from(steps * k > len));
                assert_eq!(th.values(), Some([h, F::from(n), ended]), "k {k} len {len}");
            }
        }
    }

    #[test]
    fn a_range_resumes_from_a_step_boundary() {
        let (k, word_bits) = (3, 64);
        let ops = trace(14, 5);
        let mut native = TraceHasher::new(k, word_bits);
        for op in &ops[..7] {
            native.push(op);
        }
        assert!(
            TraceHashVar::resume_values(&native).is_none(),
            "7 is mid-step"
        );
        native.push(&ops[7]);
        native.push(&ops[8]);
        let start = TraceHashVar::resume_values(&native).unwrap();
        let (cs, th) = hash_in_circuit(&ops[9..], k, 2, word_bits, start);
        assert!(cs.is_satisfied());
        let (n, h) = trace_hash(ops, word_bits, k);
        assert_eq!(th.values(), Some([h, F::from(n), F::ONE]));
    }

    #[test]
    fn the_word_size_is_part_of_the_hash() {
        let ops = trace(4, 9);
        let (_, a) = hash_in_circuit(&ops, 4, 1, 32, TraceHashVar::start_values(32));
        let (_, b) = hash_in_circuit(&ops, 4, 1, 64, TraceHashVar::start_values(64));
        assert_ne!(a.values().unwrap()[0], b.values().unwrap()[0]);
    }

    /// A satisfied system over a 2-op trace in one step of 4 slots (slots 2 and 3 disabled),
    /// then `tamper` applied, must fail at `expect`.
    fn broken(tamper: &[(&str, F)], start: [F; 3], expect: &str) {
        let ops = trace(2, 3);
        let (mut cs, _) = hash_in_circuit(&ops, 4, 1, 64, start);
        for (path, v) in tamper {
            cs.set(path, *v);
        }
        assert_eq!(cs.which_is_unsatisfied(), Some(expect), "tamper {tamper:?}");
    }

    const START: [F; 3] = [F::ZERO, F::ZERO, F::ZERO];

    #[test]
    fn wide_words_and_another_k_hash_as_the_native_hasher_says() {
        // 256-bit words: values enter as `Word::to_field` maps them (a Poseidon of the halves)
        let mut ops = trace(6, 21);
        for (i, op) in ops.iter_mut().enumerate() {
            let mut bytes = [0u8; 32];
            bytes[31] = i as u8 + 1;
            bytes[0] = 7;
            op.value = crate::Word::from_le_bytes(&bytes);
        }
        let (cs, th) = hash_in_circuit(&ops, 4, 2, 256, TraceHashVar::start_values(256));
        assert!(cs.is_satisfied());
        let (n, h) = trace_hash(ops.clone(), 256, 4);
        assert_eq!(th.values(), Some([h, F::from(n), F::ONE]));
        // the same accesses hashed for another k are another statement
        assert_ne!(trace_hash(ops, 256, 3).1, h);
    }

    #[test]
    fn a_disabled_slot_carries_nothing() {
        let one = F::ONE;
        broken(
            &[("op 0 2/addr/num", one)],
            START,
            "step 0/slot 2/disabled addr",
        );
        broken(
            &[("op 0 3/value/num", one)],
            START,
            "step 0/slot 3/disabled value",
        );
        broken(
            &[("op 0 2/is_write/boolean", one)],
            START,
            "step 0/slot 2/disabled write",
        );
        broken(
            &[("op 0 2/is_stack/boolean", one)],
            START,
            "step 0/slot 2/disabled stack",
        );
    }

    #[test]
    fn enabled_slots_form_a_prefix_and_an_ended_trace_stays_ended() {
        // a hole: slot 3 enabled after the disabled slot 2
        broken(
            &[("op 0 3/enabled/boolean", F::ONE)],
            START,
            "step 0/slot 3/enabled prefix",
        );
        // a step with accesses after the trace ended
        let ended = [F::ZERO, F::ZERO, F::ONE];
        broken(&[], ended, "step 0/slot 0/enabled prefix");
        // a non-empty step after a partial one, across two steps
        let ops = trace(2, 3);
        let (mut cs, _) = hash_in_circuit(&ops, 4, 2, 64, START);
        cs.set("op 1 0/enabled/boolean", F::ONE);
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some("step 1/slot 0/enabled prefix")
        );
        // the ended flag is a bit
        broken(&[], [F::ZERO, F::ZERO, F::from(2)], "step 0/ended is a bit");
    }

    #[test]
    fn outputs_and_the_chain_are_bound() {
        let x = F::from(12345);
        broken(
            &[("step 0/hash out/num/num", x)],
            START,
            "step 0/hash out/num=lc",
        );
        broken(
            &[("step 0/count out/num/num", x)],
            START,
            "step 0/count out/num=lc",
        );
        broken(
            &[("step 0/ended out/num/num", x)],
            START,
            "step 0/ended out/num=lc",
        );
        broken(
            &[("step 0/hash if any/sel/prod/num", x)],
            START,
            "step 0/hash if any/sel/a*b=prod",
        );
        // an enabled slot's address, value and flags enter the Poseidon chain (the flags through
        // the packed tag, a linear combination): changing one alone breaks the chain
        let ops = trace(2, 3);
        for path in [
            "op 0 1/value/num",
            "op 0 0/addr/num",
            "op 0 1/is_write/boolean",
            "op 0 0/is_stack/boolean",
        ] {
            let (mut cs, _) = hash_in_circuit(&ops, 4, 1, 64, START);
            let flipped = if path.ends_with("boolean") {
                F::ONE - cs.get(path)
            } else {
                cs.get(path) + F::ONE
            };
            cs.set(path, flipped);
            let which = cs.which_is_unsatisfied().unwrap();
            assert!(which.starts_with("step 0/chain/"), "{path}: {which}");
        }
    }

    #[test]
    fn an_empty_step_keeps_the_hash_and_a_partial_one_ends_the_trace() {
        let ops = trace(4, 11);
        let start = TraceHashVar::start_values(64);
        let (_, full) = hash_in_circuit(&ops, 4, 1, 64, start);
        let (_, more) = hash_in_circuit(&ops, 4, 3, 64, start);
        let [h, n, e] = full.values().unwrap();
        assert_eq!(e, F::ZERO, "a full step does not end the trace");
        assert_eq!(more.values().unwrap(), [h, n, F::ONE]);
    }

    #[test]
    fn state_from_z_needs_three_elements() {
        let mut cs = TestConstraintSystem::<F>::new();
        let th = TraceHashVar::alloc(&mut cs, START).unwrap();
        assert!(TraceHashVar::from_z(&th.to_z()).is_ok());
        assert!(TraceHashVar::from_z(&th.to_z()[..2]).is_err());
        assert!(th.absorb_step(&mut cs, &[]).is_err());
    }
}
