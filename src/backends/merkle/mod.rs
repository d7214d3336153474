//! The Merkle backend (`--backend nova`): online memory checking with a sparse Poseidon Merkle
//! tree whose root rides in the Nova state, `k` ops folded per step while the trace streams in.
//! Per op: kind and enable bits, the address as exactly `addr_bits` booleans, the old leaf opens
//! to the root, a read returns the old leaf, the new leaf gives the new root, `op_count += 1`, and
//! the trace hash absorbs `(opcode·2^64 + addr, value)`. The protocol and why it is sound:
//! `docs/merkle.md`.

pub mod circuit;
pub mod prover;
#[cfg(test)]
mod tests;

pub use circuit::{step_constraints, MerkleStep};
pub use prover::{
    compress, compression_keys, default_tree, num_steps, setup, trace_summary, verify_compressed,
    verify_compressed_from, verify_folded, verify_folded_from, FoldedProof, MerkleCompressed,
    MerkleOutputs, MerkleParams, MerklePk, MerkleProver, MerkleRecursive, MerkleVk,
};

use crate::backend::{
    check_ops_per_step, check_trace_claim, flag, CacheEntry, Claim, FlagContext, Flags, KeyOptions,
    Lines, Loaded, Progress, Proof, ProofSystem, ProveReport, ShapeError, ShapeSpec, TraceItem,
};
use crate::codec::f_hex;
use crate::engine::F;
use crate::error::Error;
use crate::folding::NovaKeySet;
use crate::tree::TreeParams;
use serde::{Deserialize, Serialize};

/// Default ops per step of the Merkle backend.
pub const DEFAULT_OPS_PER_STEP: usize = 4;

/// Largest number of ops per step (up to ~31k constraints per op at arity 2 and 2^64 words).
pub const MAX_OPS_PER_STEP: usize = 16;

/// Shape of the step circuit: memory tree and ops per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MerkleShape {
    /// Memory tree.
    pub tree: TreeParams,
    /// Memory ops folded per Nova step (`k`).
    pub ops_per_step: usize,
}

impl Default for MerkleShape {
    /// 2^64 words, arity 8, 4 ops per step.
    fn default() -> Self {
        MerkleShape {
            tree: default_tree(64),
            ops_per_step: DEFAULT_OPS_PER_STEP,
        }
    }
}

impl ShapeSpec for MerkleShape {
    const BACKEND: &'static str = "nova";
    type Keys = MerkleKeys;
    type KeyOpts = ();
    type RunOpts = ();
    fn validate(&self) -> Result<(), ShapeError> {
        self.tree.validate()?;
        check_ops_per_step(self.ops_per_step, MAX_OPS_PER_STEP)
    }
    fn ops_per_step(&self) -> usize {
        self.ops_per_step
    }
    fn statement(&self) -> Lines {
        vec![
            ("addr_bits", self.tree.addr_bits.to_string()),
            ("arity", self.tree.arity.to_string()),
            ("ops_per_step", self.ops_per_step.to_string()),
        ]
    }
    fn cache_name(&self) -> String {
        format!(
            "nova-a{}-r{}-k{}",
            self.tree.addr_bits, self.tree.arity, self.ops_per_step
        )
    }
    fn keys(
        &self,
        opts: &KeyOptions,
        _: &(),
        entry: &CacheEntry,
    ) -> Result<Loaded<MerkleKeys>, Error> {
        let step = *self;
        let (keys, source, digests) = NovaKeySet::load(entry, opts, || MerkleStep::blank(step))?;
        Ok(Loaded {
            keys: MerkleKeys { step, keys },
            source,
            digests,
        })
    }
}

impl Flags for MerkleShape {
    fn default_shape() -> Option<Self> {
        Some(Self::default())
    }
    fn shape_flags() -> Vec<clap::Arg> {
        vec![flag::ops_per_step(), flag::addr_bits(), flag::arity()]
    }
    fn shape_from(m: &clap::ArgMatches, _: &(), _: &FlagContext<'_>) -> Result<Self, Error> {
        let d = Self::default();
        Ok(MerkleShape {
            tree: TreeParams {
                addr_bits: flag::get(m, "addr_bits").unwrap_or(d.tree.addr_bits),
                arity: flag::get(m, "arity").unwrap_or(d.tree.arity),
            },
            ops_per_step: flag::get(m, "ops_per_step").unwrap_or(d.ops_per_step),
        })
    }
}

impl Claim for MerkleOutputs {
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
        vec![
            ("initial_memory", "empty".into()),
            ("initial_root", f_hex(&self.initial_root)),
            ("final_root", f_hex(&self.final_root)),
            ("ops", self.op_count.to_string()),
            ("trace_hash", f_hex(&self.trace_hash)),
        ]
    }
}

/// A proof of the Merkle backend: what it claims and the compressed SNARK.
#[derive(Clone, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Claimed outputs.
    pub outputs: MerkleOutputs,
    /// Compressed SNARK.
    pub snark: MerkleCompressed,
}

impl Proof for MerkleProof {
    fn claim(&self) -> &dyn Claim {
        &self.outputs
    }
}

/// Keys of the Merkle backend for one shape.
pub struct MerkleKeys {
    /// Shape.
    pub step: MerkleShape,
    /// Nova parameters and compression keys.
    pub keys: NovaKeySet<MerkleStep>,
}

impl ProofSystem for MerkleKeys {
    type Shape = MerkleShape;
    type Proof = MerkleProof;
    fn shape(&self) -> MerkleShape {
        self.step
    }
    fn constraints_per_op(&self) -> Option<f64> {
        Some(self.keys.constraints_per_op(self.step.ops_per_step))
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        Some(
            self.keys
                .effective_constraints_per_op(self.step.ops_per_step),
        )
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        _: &(),
    ) -> Result<(Option<MerkleProof>, ProveReport), Error> {
        let t = std::time::Instant::now();
        let mut prover = MerkleProver::new(&self.keys.pp, self.step, word_bits);
        for item in ops {
            let (index, op) = item?;
            prover.push(index, &op)?;
            progress(Progress::ops(prover.op_count()));
        }
        let folded = prover.finish()?;
        let mut report = ProveReport {
            ops: folded.outputs.op_count,
            steps: folded.num_steps,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        if !compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = self.keys.compress(&folded.snark)?;
        report.compress_s = t.elapsed().as_secs_f64();
        Ok((
            Some(MerkleProof {
                outputs: folded.outputs,
                snark,
            }),
            report,
        ))
    }
    fn verify(
        &self,
        proof: &MerkleProof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        verify_compressed(&self.keys.vk, self.step, &proof.snark, &proof.outputs)?;
        if let Some(trace) = trace {
            let (n, hash) = trace_summary(trace, proof.outputs.word_bits)?;
            check_trace_claim(&proof.outputs, n, hash)?;
        }
        Ok(())
    }
}
