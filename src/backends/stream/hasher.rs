//! The streaming backend's trace hash: per op step, a chain over every slot's `(addr, value)` and
//! the slots' packed tags, so a verifier with the trace recomputes what the circuit absorbed.

use crate::engine::F;
use crate::hash::{chain32_absorb, trace_hash_seed};
use crate::trace::Op;
use ff::Field;
use serde::{Deserialize, Serialize};

/// Three-bit op tags packed into one trace-hash element: `8^84 = 2^252 < p`, so the packing is
/// injective.
pub const TAGS_PER_ELEMENT: usize = 84;

/// An op slot's tag: `is_write + 2·is_stack + 4·enabled`.
pub fn op_tag(is_write: bool, is_stack: bool, enabled: bool) -> u64 {
    is_write as u64 + 2 * is_stack as u64 + 4 * enabled as u64
}

/// The trace-hash elements of one op step: `(addr, value)` per slot, then the slots' tags packed
/// [`TAGS_PER_ELEMENT`] to an element (`Σ tag_j·8^j`).
pub fn op_step_elements(mut pairs: Vec<F>, tags: &[u64]) -> Vec<F> {
    let tags: Vec<F> = tags.iter().map(|&t| F::from(t)).collect();
    pack_into(&mut pairs, &tags, TAGS_PER_ELEMENT, F::from(8));
    pairs
}

/// Append `Σ x_j·base^j` per group of `per` values (the circuit's twin is
/// `circuit::pack`); injective when every value is below `base` and `base^per < p`.
pub fn pack_into(out: &mut Vec<F>, values: &[F], per: usize, base: F) {
    for group in values.chunks(per) {
        let (mut acc, mut c) = (F::ZERO, F::ONE);
        for x in group {
            acc += c * x;
            c *= base;
        }
        out.push(acc);
    }
}

/// Running trace hash of the streaming backend: per op step of `k` slots, the chain over every
/// slot's `(addr, value)` and the slots' packed tags ([`op_step_elements`]); the last step
/// zero-padded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TraceHasher {
    k: usize,
    word_bits: u32,
    h: F,
    n: u64,
    block: Vec<F>,
    tags: Vec<u64>,
}

impl TraceHasher {
    /// Start at the seed of a whole trace.
    pub fn new(k: usize, word_bits: u32) -> Self {
        Self::resume(k, word_bits, trace_hash_seed(word_bits), 0)
    }
    /// Continue from a hash and op count at a step boundary.
    pub fn resume(k: usize, word_bits: u32, h: F, n: u64) -> Self {
        TraceHasher {
            k,
            word_bits,
            h,
            n,
            block: Vec::with_capacity(2 * k),
            tags: Vec::with_capacity(k),
        }
    }
    /// Absorb one op.
    pub fn push(&mut self, op: &Op) {
        self.block
            .extend([F::from(op.addr), op.value.to_field(self.word_bits)]);
        self.tags
            .push(op_tag(op.kind.is_write(), op.kind.is_stack(), true));
        self.n += 1;
        if self.tags.len() == self.k {
            let block = std::mem::replace(&mut self.block, Vec::with_capacity(2 * self.k));
            self.h = chain32_absorb(self.h, &op_step_elements(block, &self.tags));
            self.tags.clear();
        }
    }
    /// Hash and count so far, the pending step padded.
    pub fn finish(&self) -> (u64, F) {
        if self.block.is_empty() {
            return (self.n, self.h);
        }
        let mut b = self.block.clone();
        b.resize(2 * self.k, F::ZERO);
        let mut tags = self.tags.clone();
        tags.resize(self.k, 0);
        (self.n, chain32_absorb(self.h, &op_step_elements(b, &tags)))
    }
    /// Hash at the last step boundary (no pending ops), if there is one.
    pub fn at_step_boundary(&self) -> Option<(u64, F)> {
        self.block.is_empty().then_some((self.n, self.h))
    }
}

/// Trace hash of an op stream for `k` op slots per step (what a verifier with the trace
/// recomputes).
pub fn trace_hash(ops: impl IntoIterator<Item = Op>, word_bits: u32, k: usize) -> (u64, F) {
    let mut h = TraceHasher::new(k, word_bits);
    for op in ops {
        h.push(&op);
    }
    h.finish()
}
