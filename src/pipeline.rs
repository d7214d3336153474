//! End-to-end jobs shared by the CLI, examples and tests: parameter setup (with an on-disk
//! cache), proving a trace stream into a [`ProofFile`], and verifying one.

use crate::hash::trace_hash_step;
use crate::nova::{
    self, NovaParams, NovaProver, ProveError, ProverKey, PublicOutputs, VerifierKey,
};
use crate::proof::{f_to_bytes, Backend, Header, ProofFile, ProofFileError, FORMAT_VERSION, MAGIC};
use crate::step::witness::MemoryState;
use crate::step::StepParams;
use crate::trace::{Op, OpKind, TraceError};
use crate::F;
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

/// Any failure of a job, with a distinct CLI exit code per class.
#[derive(Debug, Error)]
pub enum JobError {
    /// Malformed input (trace line, parameters).
    #[error("{0}")]
    Input(String),
    /// The trace is memory-inconsistent.
    #[error("{0}")]
    Inconsistent(String),
    /// The proof file cannot be decoded.
    #[error("{0}")]
    ProofFile(String),
    /// The proof is invalid.
    #[error("invalid proof: {0}")]
    Invalid(String),
    /// File-system error.
    #[error("{0}")]
    Io(String),
    /// Internal prover failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl JobError {
    /// Process exit code for this error class.
    pub fn exit_code(&self) -> i32 {
        match self {
            JobError::Invalid(_) => 1,
            JobError::Input(_) => 3,
            JobError::Inconsistent(_) => 4,
            JobError::ProofFile(_) => 5,
            JobError::Io(_) => 6,
            JobError::Internal(_) => 70,
        }
    }
}

impl From<TraceError> for JobError {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::Inconsistent { .. } => JobError::Inconsistent(e.to_string()),
            TraceError::Io { .. } => JobError::Io(e.to_string()),
            _ => JobError::Input(e.to_string()),
        }
    }
}

impl From<ProofFileError> for JobError {
    fn from(e: ProofFileError) -> Self {
        JobError::ProofFile(e.to_string())
    }
}

impl From<ProveError> for JobError {
    fn from(e: ProveError) -> Self {
        use crate::step::witness::WitnessError;
        match e {
            ProveError::Witness(WitnessError::Inconsistent(t)) => t.into(),
            ProveError::Witness(w) => JobError::Input(w.to_string()),
            ProveError::Nova(n) => JobError::Internal(n.to_string()),
        }
    }
}

/// Public parameters with their compression keys.
pub struct Keys {
    /// Shape they were made for.
    pub step: StepParams,
    /// Nova public parameters.
    pub pp: NovaParams,
    /// Spartan prover key.
    pub pk: ProverKey,
    /// Spartan verifier key.
    pub vk: VerifierKey,
    /// Seconds spent generating or loading them.
    pub setup_s: f64,
    /// True if they came from the cache.
    pub cached: bool,
}

impl Keys {
    /// Digest of the public parameters.
    pub fn digest(&self) -> [u8; 32] {
        f_to_bytes(&self.pp.digest())
    }
    /// Primary-circuit constraints per memory op (Nova verifier circuit included).
    pub fn constraints_per_op(&self) -> f64 {
        self.pp.num_constraints().0 as f64 / self.step.ops_per_step as f64
    }
}

/// Generate (or load from `cache_dir`) parameters and keys for `step`.
pub fn keys(step: StepParams, cache_dir: Option<&Path>) -> Result<Keys, JobError> {
    let t = Instant::now();
    if let Some(dir) = cache_dir {
        match crate::cache::load(dir, &step) {
            Ok(Some((pp, pk, vk))) => {
                return Ok(Keys {
                    step,
                    pp,
                    pk,
                    vk,
                    setup_s: t.elapsed().as_secs_f64(),
                    cached: true,
                })
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("ignoring unusable params cache: {e}; regenerating"),
        }
    }
    let pp = nova::setup(step);
    let (pk, vk) = nova::compression_keys(&pp).map_err(|e| JobError::Internal(e.to_string()))?;
    if let Some(dir) = cache_dir {
        if let Err(e) = crate::cache::store(dir, &step, &pp, &pk, &vk) {
            tracing::warn!("could not write params cache: {e}");
        }
    }
    Ok(Keys {
        step,
        pp,
        pk,
        vk,
        setup_s: t.elapsed().as_secs_f64(),
        cached: false,
    })
}

/// Default cache directory: `$FOLDMEM_CACHE`, else `$XDG_CACHE_HOME/foldmem`, else `~/.cache/foldmem`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("FOLDMEM_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("foldmem"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("foldmem"))
}

/// Figures of a proving run.
#[derive(Clone, Debug, Default)]
pub struct ProveReport {
    /// Ops proven.
    pub ops: u64,
    /// Folding steps.
    pub steps: usize,
    /// Seconds folding.
    pub fold_s: f64,
    /// Seconds compressing.
    pub compress_s: f64,
    /// Encoded proof size.
    pub proof_bytes: usize,
}

/// Prove an op stream (`(index, op)` pairs, e.g. from a [`crate::trace::TraceReader`]).
/// `on_op` is called after each accepted op (for progress display).
pub fn prove_stream<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    mut on_op: impl FnMut(u64),
) -> Result<(ProofFile, ProveReport), JobError>
where
    I: IntoIterator<Item = Result<(usize, Op), TraceError>>,
{
    let state = MemoryState::new(keys.step.tree, word_bits);
    let mut prover = NovaProver::with_state(&keys.pp, keys.step, state);
    let t = Instant::now();
    for item in ops {
        let (index, op) = item?;
        prover.push(index, &op)?;
        on_op(prover.op_count());
    }
    let folded = prover.finish()?;
    let fold_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let snark = nova::compress(&keys.pp, &keys.pk, &folded.snark)
        .map_err(|e| JobError::Internal(e.to_string()))?;
    let compress_s = t.elapsed().as_secs_f64();
    let header = Header {
        magic: MAGIC,
        version: FORMAT_VERSION,
        backend: Backend::Nova,
        step: keys.step,
        params_digest: keys.digest(),
    };
    let file = ProofFile {
        header,
        outputs: folded.outputs,
        snark,
    };
    let proof_bytes = file.to_bytes().len();
    Ok((
        file,
        ProveReport {
            ops: folded.outputs.op_count,
            steps: folded.num_steps,
            fold_s,
            compress_s,
            proof_bytes,
        },
    ))
}

/// Verify a decoded proof with keys for its header's shape; with `trace`, also check the op count
/// and trace hash against that op stream.
pub fn verify_proof<I>(keys: &Keys, proof: &ProofFile, trace: Option<I>) -> Result<(), JobError>
where
    I: IntoIterator<Item = Result<(usize, Op), TraceError>>,
{
    let h = &proof.header;
    if h.step != keys.step {
        return Err(JobError::Invalid(format!(
            "proof is for {:?}, keys are for {:?}",
            h.step, keys.step
        )));
    }
    if h.params_digest != keys.digest() {
        return Err(JobError::Invalid(
            "params digest in the proof does not match the parameters".into(),
        ));
    }
    let word_bits = proof.outputs.word_bits;
    if !crate::trace::WORD_BITS.contains(&word_bits) {
        return Err(JobError::Invalid(format!(
            "unsupported word size {word_bits}"
        )));
    }
    let empty = MemoryState::new(keys.step.tree, word_bits).z()[0];
    if proof.outputs.initial_root != empty {
        return Err(JobError::Invalid(
            "initial root is not the empty memory's root".into(),
        ));
    }
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        nova::verify_compressed(&keys.vk, h.step.ops_per_step, &proof.snark, &proof.outputs)
    }));
    match res {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(JobError::Invalid(e.to_string())),
        Err(_) => return Err(JobError::Invalid("malformed SNARK".into())),
    }
    if let Some(trace) = trace {
        let (n, hash) = trace_summary(trace, word_bits)?;
        if n != proof.outputs.op_count {
            return Err(JobError::Invalid(format!(
                "trace has {n} ops, proof covers {}",
                proof.outputs.op_count
            )));
        }
        if hash != proof.outputs.trace_hash {
            return Err(JobError::Invalid(
                "trace hash of the given trace differs from the proof's".into(),
            ));
        }
    }
    Ok(())
}

/// Op count and trace hash of an op stream.
pub fn trace_summary<I>(trace: I, word_bits: u32) -> Result<(u64, F), JobError>
where
    I: IntoIterator<Item = Result<(usize, Op), TraceError>>,
{
    let mut n = 0u64;
    let mut hash = crate::step::witness::trace_hash_seed(word_bits);
    for item in trace {
        let (_, op) = item?;
        hash = trace_hash_step(
            hash,
            op.kind == OpKind::Write,
            op.addr,
            op.value.to_field(word_bits),
        );
        n += 1;
    }
    Ok((n, hash))
}

/// Claimed outputs in display form.
pub fn outputs_lines(o: &PublicOutputs) -> Vec<(String, String)> {
    use crate::proof::f_hex;
    vec![
        ("initial_root".into(), f_hex(&o.initial_root)),
        ("final_root".into(), f_hex(&o.final_root)),
        ("ops".into(), o.op_count.to_string()),
        ("trace_hash".into(), f_hex(&o.trace_hash)),
        ("word_bits".into(), o.word_bits.to_string()),
    ]
}
