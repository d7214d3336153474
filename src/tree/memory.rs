//! The memory an honest prover keeps over the tree (for the `nova` and `supernova` backends):
//! the tree, trace hash and op count, producing one [`OpWitness`] per op after checking the op
//! is consistent.

use super::{MerkleError, Opening, SparseMerkleTree, TreeParams};
use crate::engine::F;
use crate::error::Error;
use crate::hash::{trace_hash_seed, trace_hash_step_op};
use crate::trace::{Checker, Op, TraceError};
use crate::word::Word;
use ff::Field;

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

impl OpWitness {
    /// A disabled slot with placeholder values of the right sizes, for shape synthesis (setup).
    pub fn blank(tree: TreeParams) -> Self {
        OpWitness {
            enabled: false,
            is_write: false,
            is_stack: false,
            addr: 0,
            value: F::ZERO,
            before: Opening {
                leaf: F::ZERO,
                siblings: vec![vec![F::ZERO; tree.arity - 1]; tree.levels()],
            },
        }
    }
}

/// Why an honest prover refuses an op.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WitnessError {
    /// The read does not return the last value written (or 0).
    #[error(transparent)]
    Inconsistent(#[from] TraceError),
    /// Address outside the tree.
    #[error("op {index}: {source}")]
    Addr {
        /// 1-based op index (or trace line).
        index: usize,
        /// Cause.
        source: MerkleError,
    },
    /// Internal invariant: a read the checker accepted has a leaf that differs from its value.
    #[error("op {index}: leaf encoding disagrees with the word-level check (internal error)")]
    Encoding {
        /// 1-based op index (or trace line).
        index: usize,
    },
    /// Value wider than the word size.
    #[error("op {index}: value {value} does not fit in a {bits}-bit word")]
    ValueTooWide {
        /// 1-based op index (or trace line).
        index: usize,
        /// The value.
        value: Word,
        /// Word size.
        bits: u32,
    },
}

impl From<WitnessError> for Error {
    fn from(e: WitnessError) -> Self {
        match e {
            WitnessError::Inconsistent(t) => t.into(),
            w @ WitnessError::Encoding { .. } => Error::internal(w),
            w => Error::Input(w.to_string()),
        }
    }
}

/// Memory tree plus the public state `[root, op_count, trace_hash]` it implies.
#[derive(Clone, Debug)]
pub struct MemoryState {
    tree: SparseMerkleTree,
    checker: Checker,
    word_bits: u32,
    count: u64,
    hash: F,
}

impl MemoryState {
    /// Empty memory.
    pub fn new(tree: TreeParams, word_bits: u32) -> Self {
        MemoryState {
            tree: SparseMerkleTree::new(tree),
            checker: Checker::new(),
            word_bits,
            count: 0,
            hash: trace_hash_seed(word_bits),
        }
    }

    /// Memory preloaded with an initial image (its root becomes the initial root).
    pub fn with_image(
        tree: TreeParams,
        word_bits: u32,
        image: impl IntoIterator<Item = (u64, Word)>,
    ) -> Result<Self, WitnessError> {
        let mut s = Self::new(tree, word_bits);
        for (i, (addr, w)) in image.into_iter().enumerate() {
            s.check_value(i + 1, &w)?;
            s.tree
                .update(addr, w.to_field(word_bits))
                .map_err(|source| WitnessError::Addr {
                    index: i + 1,
                    source,
                })?;
            s.checker.preload(addr, w);
        }
        Ok(s)
    }

    fn check_value(&self, index: usize, value: &Word) -> Result<(), WitnessError> {
        if value.fits(self.word_bits) {
            Ok(())
        } else {
            Err(WitnessError::ValueTooWide {
                index,
                value: *value,
                bits: self.word_bits,
            })
        }
    }

    /// Public state `z = [root, op_count, trace_hash]`.
    pub fn z(&self) -> [F; 3] {
        [self.tree.root(), F::from(self.count), self.hash]
    }

    /// Ops applied so far.
    pub fn op_count(&self) -> u64 {
        self.count
    }

    /// Trace hash so far.
    pub fn trace_hash(&self) -> F {
        self.hash
    }

    /// Word size in bits.
    pub fn word_bits(&self) -> u32 {
        self.word_bits
    }

    /// Tree parameters.
    pub fn tree_params(&self) -> &TreeParams {
        self.tree.params()
    }

    /// Check `op` (found at `index`, a 1-based line or position) and apply it.
    pub fn apply(&mut self, index: usize, op: &Op) -> Result<OpWitness, WitnessError> {
        self.check_value(index, &op.value)?;
        let params = *self.tree.params();
        params
            .check_addr(op.addr)
            .map_err(|source| WitnessError::Addr { index, source })?;
        self.checker.apply(index, op)?;
        let value = op.value.to_field(self.word_bits);
        let is_write = op.kind.is_write();
        let before = if is_write {
            self.tree.update(op.addr, value)
        } else {
            self.tree.open(op.addr)
        }
        .map_err(|source| WitnessError::Addr { index, source })?;
        if !is_write && before.leaf != value {
            // the checker accepted the read, so the leaf encoding must agree with it
            return Err(WitnessError::Encoding { index });
        }
        self.count += 1;
        self.hash = trace_hash_step_op(self.hash, op.kind.opcode(), op.addr, value);
        Ok(OpWitness {
            enabled: true,
            is_write,
            is_stack: op.kind.is_stack(),
            addr: op.addr,
            value,
            before,
        })
    }

    /// A padding slot: a masked read of address 0.
    pub fn padding(&self) -> OpWitness {
        let before = self.tree.open(0).expect("address 0 is always in range");
        OpWitness {
            enabled: false,
            is_write: false,
            is_stack: false,
            addr: 0,
            value: before.leaf,
            before,
        }
    }
}

/// Trace hash of an op stream, computed natively (what a verifier with the trace recomputes).
pub fn trace_hash_of<'a>(ops: impl IntoIterator<Item = &'a Op>, word_bits: u32) -> F {
    ops.into_iter().fold(trace_hash_seed(word_bits), |h, op| {
        trace_hash_step_op(h, op.kind.opcode(), op.addr, op.value.to_field(word_bits))
    })
}
