//! Nova driver of the Merkle backend: public-parameter setup, the streaming prover (folds every
//! `k` ops as they arrive), verification of the folded proof, and Spartan compression.

use crate::merkle::TreeParams;
use crate::step::witness::{MemoryState, WitnessError};
use crate::step::{MemoryStep, OpWitness, StepParams};
use crate::trace::Op;
use crate::word::Word;
use crate::{E1, E2, F};
use arecibo::errors::NovaError;
use arecibo::provider::ipa_pc;
use arecibo::traits::circuit::TrivialCircuit;
use arecibo::traits::snark::RelaxedR1CSSNARKTrait;
use arecibo::traits::Engine;
use ff::Field;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Secondary-curve scalar field.
pub type F2 = <E2 as Engine>::Scalar;
/// Primary step circuit.
pub type C1 = MemoryStep;
/// Secondary (trivial) step circuit.
pub type C2 = TrivialCircuit<F2>;
/// Spartan over IPA, primary (chosen over `ppsnark`: see README performance notes).
pub type S1 = arecibo::spartan::snark::RelaxedR1CSSNARK<E1, ipa_pc::EvaluationEngine<E1>>;
/// Spartan over IPA, secondary.
pub type S2 = arecibo::spartan::snark::RelaxedR1CSSNARK<E2, ipa_pc::EvaluationEngine<E2>>;
/// Nova public parameters for primary step circuit `C`.
pub type Params<C> = arecibo::PublicParams<E1, E2, C, C2>;
/// Folded proof for step circuit `C`.
pub type Recursive<C> = arecibo::RecursiveSNARK<E1, E2, C, C2>;
/// Compressed proof for step circuit `C`.
pub type Compressed<C> = arecibo::CompressedSNARK<E1, E2, C, C2, S1, S2>;
/// Compression prover key for step circuit `C`.
pub type Pk<C> = arecibo::ProverKey<E1, E2, C, C2, S1, S2>;
/// Compression verifier key for step circuit `C`.
pub type Vk<C> = arecibo::VerifierKey<E1, E2, C, C2, S1, S2>;
/// Nova public parameters of the Merkle step circuit.
pub type NovaParams = Params<C1>;
/// The folded (uncompressed) proof.
pub type RecursiveProof = Recursive<C1>;
/// Compressed proof.
pub type CompressedProof = Compressed<C1>;
/// Compression prover key.
pub type ProverKey = Pk<C1>;
/// Compression verifier key.
pub type VerifierKey = Vk<C1>;

/// Public parameters for any primary step circuit, from a blank instance of it.
pub fn setup_circuit<C: arecibo::traits::circuit::StepCircuit<F>>(blank: &C) -> Params<C> {
    Params::<C>::setup(blank, &C2::default(), &*S1::ck_floor(), &*S2::ck_floor())
}

/// What a proof claims: memory went from `initial_root` to `final_root` through `op_count` ops
/// whose hash chain is `trace_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicOutputs {
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

impl PublicOutputs {
    /// `z0` of the folding.
    pub fn z0(&self) -> [F; 3] {
        [
            self.initial_root,
            F::ZERO,
            crate::step::witness::trace_hash_seed(self.word_bits),
        ]
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

/// Proving failed.
#[derive(Debug, Error)]
pub enum ProveError {
    /// The op is inconsistent or out of range; nothing was folded for it.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// arecibo failed.
    #[error("folding failed: {0}")]
    Nova(#[from] NovaError),
}

/// Verification failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The folded or compressed proof does not verify against the claimed inputs.
    #[error("proof does not verify against the claimed public outputs ({0})")]
    Snark(String),
    /// The proof verifies but ends in a different state than claimed.
    #[error("proof verifies but its final state differs from the claimed {0}")]
    OutputMismatch(&'static str),
}

/// Generate public parameters for a step shape (slow: synthesizes the circuit and commitment keys).
pub fn setup(step: StepParams) -> NovaParams {
    NovaParams::setup(
        &MemoryStep::blank(step),
        &C2::default(),
        &*S1::ck_floor(),
        &*S2::ck_floor(),
    )
}

/// Compression keys for the parameters.
pub fn compression_keys(pp: &NovaParams) -> Result<(ProverKey, VerifierKey), NovaError> {
    CompressedProof::setup(pp)
}

/// A finished folded proof with the outputs it claims.
#[derive(Clone)]
pub struct FoldedProof {
    /// The recursive SNARK.
    pub snark: RecursiveProof,
    /// Claimed outputs.
    pub outputs: PublicOutputs,
    /// Folding steps taken.
    pub num_steps: usize,
}

/// Streaming prover: feed ops with [`NovaProver::push`]; every `k` ops are folded immediately, so
/// memory stays bounded by the Merkle tree whatever the trace length.
pub struct NovaProver<'a> {
    pp: &'a NovaParams,
    step: StepParams,
    state: MemoryState,
    initial_root: F,
    z_before: [F; 3],
    pending: Vec<OpWitness>,
    snark: Option<RecursiveProof>,
    steps: usize,
}

impl<'a> NovaProver<'a> {
    /// A prover over an empty memory of `word_bits`-bit words.
    pub fn new(pp: &'a NovaParams, step: StepParams, word_bits: u32) -> Self {
        Self::with_state(pp, step, MemoryState::new(step.tree, word_bits))
    }

    /// A prover over a memory that starts as `image` (its root is the initial root).
    pub fn with_image(
        pp: &'a NovaParams,
        step: StepParams,
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
    pub fn with_state(pp: &'a NovaParams, step: StepParams, state: MemoryState) -> Self {
        assert_eq!(state.op_count(), 0, "initial state must not have ops");
        let z = state.z();
        NovaProver {
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
        let circuit = MemoryStep {
            params: self.step,
            ops: std::mem::take(&mut self.pending),
        };
        let c2 = C2::default();
        match &mut self.snark {
            None => {
                let mut s =
                    RecursiveProof::new(self.pp, &circuit, &c2, &self.z_before, &[F2::ZERO])?;
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
        let outputs = PublicOutputs {
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

fn check_zn(zn: &[F], outputs: &PublicOutputs) -> Result<(), VerifyError> {
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

/// Verify a folded proof against claimed outputs (the step count follows from `op_count` and `k`).
pub fn verify_folded(
    pp: &NovaParams,
    k: usize,
    snark: &RecursiveProof,
    outputs: &PublicOutputs,
) -> Result<(), VerifyError> {
    let n = num_steps(outputs.op_count, k);
    let (zn, _) = snark
        .verify(pp, n, &outputs.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(e.to_string()))?;
    check_zn(&zn, outputs)
}

/// Compress a folded proof with Spartan.
pub fn compress(
    pp: &NovaParams,
    pk: &ProverKey,
    snark: &RecursiveProof,
) -> Result<CompressedProof, NovaError> {
    CompressedProof::prove(pp, pk, snark)
}

/// Verify a compressed proof against claimed outputs.
pub fn verify_compressed(
    vk: &VerifierKey,
    k: usize,
    snark: &CompressedProof,
    outputs: &PublicOutputs,
) -> Result<(), VerifyError> {
    let n = num_steps(outputs.op_count, k);
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
