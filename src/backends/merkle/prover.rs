//! Nova driver of the Merkle backend: public-parameter setup, the streaming prover (folds every
//! `k` ops as they arrive), verification of the folded or compressed proof from the empty memory
//! (or a committed image), and Spartan compression.

use super::circuit::MerkleStep;
use super::MerkleShape;
use crate::backend::TraceItem;
use crate::engine::{F, F2};
use crate::error::{Error, VerifyError};
use crate::folding::{Compressed, Params, Pk, ProveError, Recursive, Vk, C2};
use crate::hash::trace_hash_seed;
use crate::trace::Op;
use crate::tree::memory::{MemoryState, OpWitness};
use crate::tree::{empty_root, TreeParams};
use crate::word::Word;
use arecibo::errors::NovaError;
use ff::Field;
use serde::{Deserialize, Serialize};

/// Nova public parameters of the Merkle step circuit.
pub type MerkleParams = Params<MerkleStep>;
/// The folded (uncompressed) proof.
pub type MerkleRecursive = Recursive<MerkleStep>;
/// Compressed proof.
pub type MerkleCompressed = Compressed<MerkleStep>;
/// Compression prover key.
pub type MerklePk = Pk<MerkleStep>;
/// Compression verifier key.
pub type MerkleVk = Vk<MerkleStep>;

/// What a proof claims: memory went from `initial_root` to `final_root` through `op_count` ops
/// whose hash chain is `trace_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleOutputs {
    /// Root of the memory before the first op.
    pub initial_root: F,
    /// Root after the last op.
    pub final_root: F,
    /// Number of ops.
    pub op_count: u64,
    /// `Poseidon` chain over `(kind, addr, value)` of every op, seeded with `word_bits`.
    pub trace_hash: F,
    /// Word size of the trace in bits (seeds the trace hash, so it is part of the statement).
    pub word_bits: u32,
}

impl MerkleOutputs {
    /// `z0` of the folding.
    pub fn z0(&self) -> [F; 3] {
        [self.initial_root, F::ZERO, trace_hash_seed(self.word_bits)]
    }
    /// Expected `z_n`.
    pub fn zn(&self) -> [F; 3] {
        [self.final_root, F::from(self.op_count), self.trace_hash]
    }
}

/// Number of folding steps for `op_count` ops at `k` per step (at least one).
pub fn num_steps(op_count: u64, k: usize) -> usize {
    (op_count.div_ceil(k as u64) as usize).max(1)
}

/// Generate public parameters for a step shape (slow: synthesizes the circuit and commitment keys).
pub fn setup(step: MerkleShape) -> MerkleParams {
    crate::folding::setup_circuit(&MerkleStep::blank(step))
}

/// Compression keys for the parameters.
pub fn compression_keys(pp: &MerkleParams) -> Result<(MerklePk, MerkleVk), NovaError> {
    MerkleCompressed::setup(pp)
}

/// A finished folded proof with the outputs it claims.
#[derive(Clone)]
pub struct FoldedProof {
    /// The recursive SNARK.
    pub snark: MerkleRecursive,
    /// Claimed outputs.
    pub outputs: MerkleOutputs,
    /// Folding steps taken.
    pub num_steps: usize,
}

/// Streaming prover: feed ops with [`MerkleProver::push`]; every `k` ops are folded immediately, so
/// memory stays bounded by the Merkle tree whatever the trace length.
pub struct MerkleProver<'a> {
    pp: &'a MerkleParams,
    step: MerkleShape,
    state: MemoryState,
    initial_root: F,
    z_before: [F; 3],
    pending: Vec<OpWitness>,
    snark: Option<MerkleRecursive>,
    steps: usize,
}

impl<'a> MerkleProver<'a> {
    /// A prover over an empty memory of `word_bits`-bit words.
    pub fn new(pp: &'a MerkleParams, step: MerkleShape, word_bits: u32) -> Self {
        Self::with_state(pp, step, MemoryState::new(step.tree, word_bits))
    }

    /// A prover over a memory that starts as `image` (its root is the initial root).
    pub fn with_image(
        pp: &'a MerkleParams,
        step: MerkleShape,
        word_bits: u32,
        image: impl IntoIterator<Item = (u64, Word)>,
    ) -> Result<Self, ProveError> {
        Ok(Self::with_state(
            pp,
            step,
            MemoryState::with_image(step.tree, word_bits, image)?,
        ))
    }

    /// A prover starting from an explicit native state (which must have applied no ops).
    pub fn with_state(pp: &'a MerkleParams, step: MerkleShape, state: MemoryState) -> Self {
        assert_eq!(state.op_count(), 0, "initial state must not have ops");
        let z = state.z();
        MerkleProver {
            pp,
            step,
            initial_root: z[0],
            z_before: z,
            state,
            pending: Vec::with_capacity(step.ops_per_step),
            snark: None,
            steps: 0,
        }
    }

    /// Check and queue one op (`index` names it in errors: a trace line or position); folds a
    /// step whenever `k` ops are queued. An inconsistent op is refused before anything is folded.
    pub fn push(&mut self, index: usize, op: &Op) -> Result<(), ProveError> {
        let w = self.state.apply(index, op)?;
        self.pending.push(w);
        if self.pending.len() == self.step.ops_per_step {
            self.fold()?;
        }
        Ok(())
    }

    /// Ops accepted so far.
    pub fn op_count(&self) -> u64 {
        self.state.op_count()
    }

    /// Folding steps completed so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    fn fold(&mut self) -> Result<(), ProveError> {
        while self.pending.len() < self.step.ops_per_step {
            self.pending.push(self.state.padding());
        }
        let circuit = MerkleStep {
            params: self.step,
            ops: std::mem::take(&mut self.pending),
        };
        let c2 = C2::default();
        match &mut self.snark {
            None => {
                let mut s =
                    MerkleRecursive::new(self.pp, &circuit, &c2, &self.z_before, &[F2::ZERO])?;
                // `new` already synthesized this step; the first `prove_step` only advances the counter
                s.prove_step(self.pp, &circuit, &c2)?;
                self.snark = Some(s);
            }
            Some(s) => s.prove_step(self.pp, &circuit, &c2)?,
        }
        self.steps += 1;
        self.z_before = self.state.z();
        Ok(())
    }

    /// Fold the last (padded) partial step and return the proof.
    pub fn finish(mut self) -> Result<FoldedProof, ProveError> {
        if !self.pending.is_empty() || self.snark.is_none() {
            self.fold()?;
        }
        let z = self.state.z();
        let outputs = MerkleOutputs {
            initial_root: self.initial_root,
            final_root: z[0],
            op_count: self.state.op_count(),
            trace_hash: z[2],
            word_bits: self.state.word_bits(),
        };
        Ok(FoldedProof {
            snark: self.snark.expect("at least one step folded"),
            outputs,
            num_steps: self.steps,
        })
    }
}

fn check_zn(zn: &[F], outputs: &MerkleOutputs) -> Result<(), VerifyError> {
    let want = outputs.zn();
    for (i, name) in ["final root", "op count", "trace hash"]
        .into_iter()
        .enumerate()
    {
        if zn.get(i) != Some(&want[i]) {
            return Err(VerifyError::OutputMismatch(name));
        }
    }
    Ok(())
}

/// The claim must start from `initial_root` (the verifier's, never the proof's).
fn check_initial(outputs: &MerkleOutputs, initial_root: F) -> Result<(), VerifyError> {
    if outputs.initial_root != initial_root {
        return Err(VerifyError::InitialRoot);
    }
    Ok(())
}

/// Verify a folded proof that the ops ran from the **empty memory** (all words 0) of `step`'s
/// tree; the step count follows from `op_count` and `k`.
pub fn verify_folded(
    pp: &MerkleParams,
    step: MerkleShape,
    snark: &MerkleRecursive,
    outputs: &MerkleOutputs,
) -> Result<(), VerifyError> {
    verify_folded_from(pp, step, snark, outputs, empty_root(&step.tree))
}

/// [`verify_folded`] from an explicit initial memory, given by the root the verifier expects
/// (e.g. of a program image it committed to with [`MerkleProver::with_image`]).
pub fn verify_folded_from(
    pp: &MerkleParams,
    step: MerkleShape,
    snark: &MerkleRecursive,
    outputs: &MerkleOutputs,
    initial_root: F,
) -> Result<(), VerifyError> {
    check_initial(outputs, initial_root)?;
    let n = num_steps(outputs.op_count, step.ops_per_step);
    let (zn, _) = snark
        .verify(pp, n, &outputs.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(e.to_string()))?;
    check_zn(&zn, outputs)
}

/// Compress a folded proof with Spartan.
pub fn compress(
    pp: &MerkleParams,
    pk: &MerklePk,
    snark: &MerkleRecursive,
) -> Result<MerkleCompressed, NovaError> {
    MerkleCompressed::prove(pp, pk, snark)
}

/// Verify a compressed proof that the ops ran from the **empty memory** of `step`'s tree.
pub fn verify_compressed(
    vk: &MerkleVk,
    step: MerkleShape,
    snark: &MerkleCompressed,
    outputs: &MerkleOutputs,
) -> Result<(), VerifyError> {
    verify_compressed_from(vk, step, snark, outputs, empty_root(&step.tree))
}

/// [`verify_compressed`] from an explicit initial memory root.
pub fn verify_compressed_from(
    vk: &MerkleVk,
    step: MerkleShape,
    snark: &MerkleCompressed,
    outputs: &MerkleOutputs,
    initial_root: F,
) -> Result<(), VerifyError> {
    check_initial(outputs, initial_root)?;
    let n = num_steps(outputs.op_count, step.ops_per_step);
    let (zn, _) = snark
        .verify(vk, n, &outputs.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(e.to_string()))?;
    check_zn(&zn, outputs)
}

/// Default tree for a given address width: arity 8 (cheapest per op at depth 64, see README).
pub fn default_tree(addr_bits: u32) -> TreeParams {
    TreeParams {
        addr_bits,
        arity: 8,
    }
}

/// Op count and Merkle-backend trace hash of an op stream.
pub fn trace_summary(
    trace: &mut dyn Iterator<Item = TraceItem>,
    word_bits: u32,
) -> Result<(u64, F), Error> {
    let mut n = 0u64;
    let mut hash = trace_hash_seed(word_bits);
    for item in trace {
        let (_, op) = item?;
        hash = crate::hash::trace_hash_step_op(
            hash,
            op.kind.opcode(),
            op.addr,
            op.value.to_field(word_bits),
        );
        n += 1;
    }
    Ok((n, hash))
}
