//! Nova driver of the Merkle backend (`nova`): public-parameter setup, the streaming prover
//! (folds every `k` ops as they arrive), verification of the folded proof from the empty memory,
//! Spartan compression, and the backend's [`ProofSystem`] seam. Also the Nova keys shared by
//! every Nova-based backend.

use crate::backend::{
    check_ops_per_step, check_trace_claim, key_digests, Claim, KeyDigests, Lines, ProofSystem,
    ShapeError, ShapeSpec, TraceItem,
};
use crate::merkle::{empty_root, TreeParams};
use crate::pipeline::{cached, internal, JobError, KeyOptions, KeySource, Loaded, ProveReport};
use crate::proof::{f_hex, f_to_bytes, Backend, Body, Shape};
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
    /// The claim starts from another memory than the one the verifier expects.
    #[error("initial root is not the empty memory's root")]
    InitialRoot,
    /// The claim is not a statement the verifier accepts (before the SNARK is looked at).
    #[error("the claim is not an accepted statement: {0}")]
    Statement(&'static str),
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

/// The claim must start from `initial_root` (the verifier's, never the proof's).
fn check_initial(outputs: &PublicOutputs, initial_root: F) -> Result<(), VerifyError> {
    if outputs.initial_root != initial_root {
        return Err(VerifyError::InitialRoot);
    }
    Ok(())
}

/// Verify a folded proof that the ops ran from the **empty memory** (all words 0) of `step`'s
/// tree; the step count follows from `op_count` and `k`.
pub fn verify_folded(
    pp: &NovaParams,
    step: StepParams,
    snark: &RecursiveProof,
    outputs: &PublicOutputs,
) -> Result<(), VerifyError> {
    verify_folded_from(pp, step, snark, outputs, empty_root(&step.tree))
}

/// [`verify_folded`] from an explicit initial memory, given by the root the verifier expects
/// (e.g. of a program image it committed to with [`NovaProver::with_image`]).
pub fn verify_folded_from(
    pp: &NovaParams,
    step: StepParams,
    snark: &RecursiveProof,
    outputs: &PublicOutputs,
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
    pp: &NovaParams,
    pk: &ProverKey,
    snark: &RecursiveProof,
) -> Result<CompressedProof, NovaError> {
    CompressedProof::prove(pp, pk, snark)
}

/// Verify a compressed proof that the ops ran from the **empty memory** of `step`'s tree.
pub fn verify_compressed(
    vk: &VerifierKey,
    step: StepParams,
    snark: &CompressedProof,
    outputs: &PublicOutputs,
) -> Result<(), VerifyError> {
    verify_compressed_from(vk, step, snark, outputs, empty_root(&step.tree))
}

/// [`verify_compressed`] from an explicit initial memory root.
pub fn verify_compressed_from(
    vk: &VerifierKey,
    step: StepParams,
    snark: &CompressedProof,
    outputs: &PublicOutputs,
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

/// Nova parameters and compression keys of step circuit `C` (cached as one value).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct NovaKeys<C: arecibo::traits::circuit::StepCircuit<F>> {
    /// Public parameters.
    pub pp: Params<C>,
    /// Compression prover key.
    pub pk: Pk<C>,
    /// Compression verifier key.
    pub vk: Vk<C>,
}

impl<C: arecibo::traits::circuit::StepCircuit<F>> NovaKeys<C> {
    /// Digests of the parameters and of the verifier key.
    pub fn digests(&self) -> KeyDigests {
        key_digests(|| f_to_bytes(&self.pp.digest()), &self.vk)
    }

    /// Keys for `shape`'s step circuit `blank` (from the cache when it can be vouched for).
    pub fn for_shape(
        shape: &Shape,
        opts: &KeyOptions,
        blank: impl FnOnce() -> C,
    ) -> Result<(Self, KeySource, KeyDigests), JobError> {
        cached(shape, opts, Self::digests, || {
            let pp = setup_circuit(&blank());
            let (pk, vk) = Compressed::<C>::setup(&pp).map_err(internal)?;
            Ok(NovaKeys { pp, pk, vk })
        })
    }

    /// Primary constraints per op (folding verifier included).
    pub fn constraints_per_op(&self, k: usize) -> f64 {
        self.pp.num_constraints().0 as f64 / k as f64
    }

    /// Primary plus secondary constraints per op: what a fold step commits to, per op.
    pub fn effective_constraints_per_op(&self, k: usize) -> f64 {
        let (p, s) = self.pp.num_constraints();
        (p + s) as f64 / k as f64
    }
}

impl TreeParams {
    /// Fails, naming the field, unless `TreeParams::new` accepts these parameters.
    pub fn validate(&self) -> Result<(), ShapeError> {
        match TreeParams::new(self.addr_bits, self.arity) {
            Ok(_) => Ok(()),
            Err(crate::merkle::MerkleError::Arity(a)) => Err(ShapeError::new(
                "arity",
                format!("must be one of 2, 4, 8, 16, got {a}"),
            )),
            Err(_) => Err(ShapeError::new(
                "addr_bits",
                format!("must be in 1..=64, got {}", self.addr_bits),
            )),
        }
    }
}

/// Default ops per step of the Merkle backend.
pub const DEFAULT_OPS_PER_STEP: usize = 4;

/// The Merkle backend's shape for `flags` (defaults: 2^64 words, arity 8, 4 ops per step).
pub fn shape_from_flags(f: &crate::backend::ShapeFlags) -> Result<StepParams, ShapeError> {
    f.only("nova", &["ops_per_step", "addr_bits", "arity"])?;
    Ok(StepParams {
        tree: TreeParams {
            addr_bits: f.addr_bits.unwrap_or(64),
            arity: f.arity.unwrap_or(8),
        },
        ops_per_step: f.ops_per_step.unwrap_or(DEFAULT_OPS_PER_STEP),
    })
}

impl ShapeSpec for StepParams {
    fn backend(&self) -> Backend {
        Backend::Nova
    }
    fn validate(&self) -> Result<(), ShapeError> {
        self.tree.validate()?;
        check_ops_per_step(self.ops_per_step, crate::backend::MAX_MERKLE_OPS_PER_STEP)
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
    fn keys(&self, opts: &KeyOptions) -> Result<Loaded, JobError> {
        let step = *self;
        let (keys, source, digests) =
            NovaKeys::for_shape(&Shape::Merkle(step), opts, || MemoryStep::blank(step))?;
        Ok(Loaded {
            system: Box::new(MerkleKeys { step, keys }),
            source,
            digests,
        })
    }
}

impl Claim for PublicOutputs {
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

/// Keys of the Merkle backend for one shape.
pub struct MerkleKeys {
    /// Shape.
    pub step: StepParams,
    /// Nova parameters and compression keys.
    pub keys: NovaKeys<MemoryStep>,
}

impl ProofSystem for MerkleKeys {
    fn shape(&self) -> Shape {
        Shape::Merkle(self.step)
    }
    fn digests(&self) -> KeyDigests {
        self.keys.digests()
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
        progress: &mut dyn FnMut(crate::backend::Progress),
        opts: &crate::backend::ProveOptions,
    ) -> Result<(Option<Body>, ProveReport), JobError> {
        opts.whole_trace_only("nova")?;
        let mut on_op = |n: u64| progress(crate::backend::Progress::ops(n));
        let t = std::time::Instant::now();
        let mut prover = NovaProver::new(&self.keys.pp, self.step, word_bits);
        for item in ops {
            let (index, op) = item?;
            prover.push(index, &op)?;
            on_op(prover.op_count());
        }
        let folded = prover.finish()?;
        let mut report = ProveReport {
            ops: folded.outputs.op_count,
            steps: folded.num_steps,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        if !opts.compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = compress_proof(&self.keys, &folded.snark)?;
        report.compress_s = t.elapsed().as_secs_f64();
        Ok((
            Some(Body::Merkle {
                outputs: folded.outputs,
                snark,
            }),
            report,
        ))
    }
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError> {
        let Body::Merkle { outputs, snark } = body else {
            return Err(JobError::Invalid(
                "proof body does not match the backend".into(),
            ));
        };
        verify_compressed(&self.keys.vk, self.step, snark, outputs)?;
        if let Some(trace) = trace {
            let (n, hash) = trace_summary(trace, outputs.word_bits)?;
            check_trace_claim(outputs, n, hash)?;
        }
        Ok(())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Compress a folded proof with keys of any Nova backend.
pub fn compress_proof<C: arecibo::traits::circuit::StepCircuit<F>>(
    keys: &NovaKeys<C>,
    snark: &Recursive<C>,
) -> Result<Compressed<C>, JobError> {
    Compressed::<C>::prove(&keys.pp, &keys.pk, snark).map_err(internal)
}

/// Op count and Merkle-backend trace hash of an op stream.
pub fn trace_summary(
    trace: &mut dyn Iterator<Item = TraceItem>,
    word_bits: u32,
) -> Result<(u64, F), JobError> {
    let mut n = 0u64;
    let mut hash = crate::step::witness::trace_hash_seed(word_bits);
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

/// Constraint count of an arecibo R1CS shape. arecibo keeps the field crate-private, but it is
/// the first field of the shape's serde encoding (a fixed-width `u64` in bincode).
pub fn r1cs_num_cons<E: Engine>(shape: &arecibo::r1cs::R1CSShape<E>) -> usize {
    let mut head = Vec::with_capacity(8);
    let _ = bincode::serialize_into(LimitedWriter(&mut head), shape);
    head.get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .unwrap_or(0)
}

/// A writer that keeps the first 8 bytes and then stops the encoder.
struct LimitedWriter<'a>(&'a mut Vec<u8>);

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() >= 8 {
            return Err(std::io::Error::other("enough"));
        }
        let n = buf.len().min(8 - self.0.len());
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Constraints of a SuperNova parameter set's secondary circuit (arecibo keeps its shape private:
/// it is read from the parameters' serde encoding, whose field order arecibo 0.1.1 fixes).
pub fn supernova_secondary_constraints<C1>(
    pp: &arecibo::supernova::PublicParams<E1, E2, C1, crate::supernova::Sc2>,
) -> usize
where
    C1: arecibo::traits::circuit_supernova::StepCircuit<F>,
{
    type Ck<E> =
        <<E as Engine>::CE as arecibo::traits::commitment::CommitmentEngineTrait<E>>::CommitmentKey;
    #[derive(Deserialize)]
    struct AugParams {
        _limb_width: usize,
        _n_limbs: usize,
        _is_primary: bool,
    }
    #[derive(Deserialize)]
    #[serde(bound = "")]
    struct Shape<E: Engine> {
        _arity: usize,
        r1cs: arecibo::r1cs::R1CSShape<E>,
    }
    type Prefix = (
        Vec<Shape<E1>>,
        arecibo::traits::ROConstants<E1>,
        arecibo::traits::ROConstantsCircuit<E2>,
        Ck<E1>,
        AugParams,
        arecibo::traits::ROConstants<E2>,
        arecibo::traits::ROConstantsCircuit<E1>,
        Ck<E2>,
        Shape<E2>,
    );
    bincode::serialize(pp)
        .ok()
        .and_then(|bytes| bincode::deserialize::<Prefix>(&bytes).ok())
        .map(|p| r1cs_num_cons(&p.8.r1cs))
        .unwrap_or(0)
}
