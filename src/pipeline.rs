//! End-to-end jobs shared by the CLI, examples and tests: parameter setup (with an on-disk
//! cache), proving a trace stream into a [`ProofFile`], and verifying one.

use crate::halo2_compat;
use crate::hash::trace_hash_step;
use crate::nova::{self, NovaProver, ProveError, VerifyError};
use crate::offline::{self, OfflineStep};
use crate::proof::{
    f_to_bytes, Body, Header, ProofFile, ProofFileError, Shape, FORMAT_VERSION, MAGIC,
};
use crate::step::witness::MemoryState;
use crate::step::MemoryStep;
use crate::supernova;
use crate::trace::{Op, TraceError};
use crate::F;
use arecibo::traits::circuit::StepCircuit;
use ff::Field;
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

/// Any failure of a job, with a distinct CLI exit code per class.
#[derive(Debug, Error)]
pub enum JobError {
    /// Malformed input trace (a line, or an op the chosen shape cannot hold).
    #[error("{0}")]
    Input(String),
    /// Bad option values (the same exit code as a command-line usage error).
    #[error("{0}")]
    Usage(String),
    /// The proof was made for other parameters than the ones it is verified with.
    #[error("parameter mismatch: {0}")]
    Mismatch(String),
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
            JobError::Usage(_) => 2,
            JobError::Input(_) => 3,
            JobError::Inconsistent(_) => 4,
            JobError::ProofFile(_) => 5,
            JobError::Io(_) => 6,
            JobError::Mismatch(_) => 7,
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
            ProveError::Witness(w @ WitnessError::Encoding { .. }) => {
                JobError::Internal(w.to_string())
            }
            ProveError::Witness(w) => JobError::Input(w.to_string()),
            ProveError::Nova(n) => JobError::Internal(n.to_string()),
        }
    }
}

/// Nova keys of step circuit `C`: parameters, prover key, verifier key.
pub type NovaKeys<C> = (nova::Params<C>, nova::Pk<C>, nova::Vk<C>);

/// SuperNova keys: parameters, prover key, verifier key.
pub type SnKeys = (supernova::SnParams, supernova::SnPk, supernova::SnVk);

/// Parameters and compression keys of one backend.
pub enum KeySet {
    /// Merkle backend.
    Merkle(NovaKeys<MemoryStep>),
    /// Offline backend.
    Offline(NovaKeys<OfflineStep>),
    /// SuperNova backend.
    SuperNova(SnKeys),
    /// Halo2 backend: KZG parameters (keys depend on the trace length and are derived per trace).
    Halo2(halo2_compat::Kzg),
}

/// Public parameters with their compression keys.
pub struct Keys {
    /// Shape they were made for.
    pub shape: Shape,
    /// The keys.
    pub set: KeySet,
    /// Seconds spent generating or loading them.
    pub setup_s: f64,
    /// True if they came from the cache.
    pub cached: bool,
}

impl Keys {
    /// Digest of the public parameters.
    pub fn digest(&self) -> [u8; 32] {
        match &self.set {
            KeySet::Merkle((pp, _, _)) => f_to_bytes(&pp.digest()),
            KeySet::Offline((pp, _, _)) => f_to_bytes(&pp.digest()),
            KeySet::SuperNova((pp, _, _)) => f_to_bytes(&pp.digest()),
            KeySet::Halo2(params) => halo2_compat::params_digest(params),
        }
    }
    /// Primary-circuit constraints of the (largest) step circuit, verifier circuit included.
    pub fn primary_constraints(&self) -> usize {
        match &self.set {
            KeySet::Merkle((pp, _, _)) => pp.num_constraints().0,
            KeySet::Offline((pp, _, _)) => pp.num_constraints().0,
            KeySet::SuperNova((pp, _, _)) => pp
                .primary_r1cs_shapes()
                .iter()
                .map(|s| r1cs_num_cons(s))
                .max()
                .unwrap_or(0),
            KeySet::Halo2(_) => 0,
        }
    }
    /// Primary-circuit constraints per memory op (verifier circuit included); for SuperNova,
    /// of the largest opcode circuit.
    pub fn constraints_per_op(&self) -> f64 {
        self.primary_constraints() as f64 / self.shape.ops_per_step() as f64
    }
}

/// Constraint count of an arecibo R1CS shape. arecibo keeps the field crate-private, but it is
/// the first field of the shape's serde encoding (a fixed-width `u64` in bincode).
fn r1cs_num_cons<E: arecibo::traits::Engine>(shape: &arecibo::r1cs::R1CSShape<E>) -> usize {
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

fn cached<T: serde::Serialize + serde::de::DeserializeOwned>(
    shape: &Shape,
    cache_dir: Option<&Path>,
    digest: impl Fn(&T) -> [u8; 32],
    make: impl FnOnce() -> Result<T, JobError>,
) -> Result<(T, bool), JobError> {
    if let Some(dir) = cache_dir {
        match crate::cache::load::<T>(dir, shape, &digest) {
            Ok(Some(keys)) => return Ok((keys, true)),
            Ok(None) => {}
            Err(e) => tracing::warn!("ignoring unusable params cache: {e}; regenerating"),
        }
    }
    let keys = make()?;
    if let Some(dir) = cache_dir {
        if let Err(e) = crate::cache::store(dir, shape, &keys, digest(&keys)) {
            tracing::warn!("could not write params cache: {e}");
        }
    }
    Ok((keys, false))
}

fn nova_keys<C: StepCircuit<F>>(
    shape: &Shape,
    cache_dir: Option<&Path>,
    setup: impl FnOnce() -> nova::Params<C>,
) -> Result<(NovaKeys<C>, bool), JobError> {
    cached(
        shape,
        cache_dir,
        |k: &NovaKeys<C>| f_to_bytes(&k.0.digest()),
        || {
            let pp = setup();
            let (pk, vk) = nova::Compressed::<C>::setup(&pp).map_err(internal)?;
            Ok((pp, pk, vk))
        },
    )
}

/// Generate (or load from `cache_dir`) parameters and keys for `shape`.
pub fn keys(shape: Shape, cache_dir: Option<&Path>) -> Result<Keys, JobError> {
    let t = Instant::now();
    let (set, from_cache) = match shape {
        Shape::Merkle(step) => {
            let (s, c) = nova_keys(&shape, cache_dir, || nova::setup(step))?;
            (KeySet::Merkle(s), c)
        }
        Shape::Offline { ops_per_step } => {
            if ops_per_step == 0 {
                return Err(JobError::Usage("ops per step must be positive".into()));
            }
            let (s, c) = nova_keys(&shape, cache_dir, || offline::setup(ops_per_step))?;
            (KeySet::Offline(s), c)
        }
        Shape::Halo2 { k } => {
            if !(9..=21).contains(&k) {
                return Err(JobError::Usage(format!(
                    "halo2 domain 2^{k} out of range (2^9..2^21)"
                )));
            }
            (KeySet::Halo2(halo2_compat::dev_params(k)), false)
        }
        Shape::SuperNova(sn) => {
            let (s, c) = cached(
                &shape,
                cache_dir,
                |k: &SnKeys| f_to_bytes(&k.0.digest()),
                || {
                    let pp = supernova::setup(sn);
                    let (pk, vk) = supernova::SnCompressed::setup(&pp)
                        .map_err(|e| JobError::Internal(format!("{e:?}")))?;
                    Ok((pp, pk, vk))
                },
            )?;
            (KeySet::SuperNova(s), c)
        }
    };
    Ok(Keys {
        shape,
        set,
        setup_s: t.elapsed().as_secs_f64(),
        cached: from_cache,
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
    /// Seconds folding (offline: including witness generation).
    pub fold_s: f64,
    /// Seconds compressing.
    pub compress_s: f64,
    /// Encoded proof size.
    pub proof_bytes: usize,
}

fn internal(e: impl std::fmt::Display) -> JobError {
    JobError::Internal(e.to_string())
}

/// Read a whole op stream, checking value widths and consistency (backends that need the whole
/// trace before proving: offline, Halo2); `on_op` sees the running count.
fn buffer_checked<I>(
    ops: I,
    word_bits: u32,
    mut on_op: impl FnMut(u64),
) -> Result<Vec<Op>, JobError>
where
    I: IntoIterator<Item = Result<(usize, Op), TraceError>>,
{
    let mut checker = crate::trace::Checker::new();
    let mut all = Vec::new();
    for item in ops {
        let (index, op) = item?;
        if !op.value.fits(word_bits) {
            return Err(JobError::Input(format!(
                "line {index}: value {} does not fit in a {word_bits}-bit word",
                op.value
            )));
        }
        checker.apply(index, &op)?;
        all.push(op);
        on_op(all.len() as u64);
    }
    Ok(all)
}

fn sn_job_error(e: supernova::SnError) -> JobError {
    match e {
        supernova::SnError::Witness(w) => ProveError::Witness(w).into(),
        supernova::SnError::Stack { .. } | supernova::SnError::Empty => {
            JobError::Input(e.to_string())
        }
        supernova::SnError::Nova(m) => JobError::Internal(m),
    }
}

/// Prove an op stream (`(index, op)` pairs, e.g. from a [`crate::trace::TraceReader`]).
/// `on_op` is called with the number of ops proven so far (for progress display).
pub fn prove_stream<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    mut on_op: impl FnMut(u64),
) -> Result<(ProofFile, ProveReport), JobError>
where
    I: IntoIterator<Item = Result<(usize, Op), TraceError>>,
{
    let t = Instant::now();
    let (body, ops_n, steps, fold_s, compress_s) = match &keys.set {
        KeySet::Merkle((pp, pk, _)) => {
            let Shape::Merkle(step) = keys.shape else {
                unreachable!("merkle keys have a merkle shape")
            };
            let mut prover =
                NovaProver::with_state(pp, step, MemoryState::new(step.tree, word_bits));
            for item in ops {
                let (index, op) = item?;
                prover.push(index, &op)?;
                on_op(prover.op_count());
            }
            let folded = prover.finish()?;
            let fold_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let snark = nova::compress(pp, pk, &folded.snark).map_err(internal)?;
            let n = folded.outputs.op_count;
            (
                Body::Merkle {
                    outputs: folded.outputs,
                    snark,
                },
                n,
                folded.num_steps,
                fold_s,
                t.elapsed().as_secs_f64(),
            )
        }
        KeySet::Offline((pp, pk, _)) => {
            let k = keys.shape.ops_per_step();
            // the challenges depend on the whole segment: check and buffer it first
            let all = buffer_checked(ops, word_bits, |_| {})?;
            let w = offline::witness(&all, word_bits, k)?;
            let mut snark = None;
            let c2 = nova::C2::default();
            let z0 = w.outputs.z0();
            for (i, s) in w.steps.iter().enumerate() {
                let r: &mut offline::OfflineRecursive = match &mut snark {
                    None => snark.insert(
                        offline::OfflineRecursive::new(pp, s, &c2, &z0, &[nova::F2::ZERO])
                            .map_err(internal)?,
                    ),
                    Some(r) => r,
                };
                r.prove_step(pp, s, &c2).map_err(internal)?;
                on_op((((i + 1) * k) as u64).min(w.outputs.op_count));
            }
            let folded = snark.expect("at least one step");
            let fold_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let snark = nova::Compressed::prove(pp, pk, &folded).map_err(internal)?;
            (
                Body::Offline {
                    outputs: w.outputs,
                    snark,
                },
                w.outputs.op_count,
                w.steps.len(),
                fold_s,
                t.elapsed().as_secs_f64(),
            )
        }
        KeySet::SuperNova((pp, pk, _)) => {
            let Shape::SuperNova(sn) = keys.shape else {
                unreachable!("supernova keys have a supernova shape")
            };
            let mut prover = supernova::SnProver::new(pp, sn, word_bits);
            for item in ops {
                let (index, op) = item?;
                prover.push(index, &op).map_err(sn_job_error)?;
                on_op(prover.op_count());
            }
            let (folded, outputs) = prover.finish().map_err(sn_job_error)?;
            let fold_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let snark = supernova::SnCompressed::prove(pp, pk, &folded)
                .map_err(|e| JobError::Internal(format!("{e:?}")))?;
            (
                Body::SuperNova { outputs, snark },
                outputs.op_count,
                outputs.op_count as usize,
                fold_s,
                t.elapsed().as_secs_f64(),
            )
        }
        KeySet::Halo2(params) => {
            let all = buffer_checked(ops, word_bits, &mut on_op)?;
            if halo2_compat::domain_k(all.len()) > halo2_compat::params_k(params) {
                return Err(JobError::Input(format!(
                    "{} ops do not fit the halo2 domain 2^{}",
                    all.len(),
                    halo2_compat::params_k(params)
                )));
            }
            let h2 = |e: halo2_compat::Halo2Error| match e {
                halo2_compat::Halo2Error::Plonk(m) => JobError::Internal(m),
                other => JobError::Input(other.to_string()),
            };
            let pk = halo2_compat::keys(params, all.len()).map_err(h2)?;
            let proof = halo2_compat::prove(params, &pk, &all).map_err(h2)?;
            let n = all.len() as u64;
            (
                Body::Halo2 {
                    op_count: n,
                    word_bits,
                    proof,
                },
                n,
                1,
                t.elapsed().as_secs_f64(),
                0.0,
            )
        }
    };
    let header = Header {
        magic: MAGIC,
        version: FORMAT_VERSION,
        backend: keys.shape.backend(),
        shape: keys.shape,
        params_digest: keys.digest(),
    };
    let file = ProofFile { header, body };
    let proof_bytes = file.to_bytes().len();
    Ok((
        file,
        ProveReport {
            ops: ops_n,
            steps,
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
    if h.shape != keys.shape {
        return Err(JobError::Mismatch(format!(
            "proof is for {:?}, keys are for {:?}",
            h.shape, keys.shape
        )));
    }
    if h.params_digest != keys.digest() {
        return Err(JobError::Mismatch(
            "params digest in the proof does not match the parameters".into(),
        ));
    }
    let word_bits = proof.word_bits();
    if !crate::trace::WORD_BITS.contains(&word_bits) {
        return Err(JobError::Invalid(format!(
            "unsupported word size {word_bits}"
        )));
    }
    let k = keys.shape.ops_per_step();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match (&keys.set, &proof.body) {
            (KeySet::Merkle((_, _, vk)), Body::Merkle { outputs, snark }) => {
                let Shape::Merkle(step) = keys.shape else {
                    unreachable!("merkle keys have a merkle shape")
                };
                if outputs.initial_root != MemoryState::new(step.tree, word_bits).z()[0] {
                    return Err(VerifyError::Snark(
                        "initial root is not the empty memory's root".into(),
                    ));
                }
                nova::verify_compressed(vk, k, snark, outputs)
            }
            (KeySet::Offline((_, _, vk)), Body::Offline { outputs, snark }) => {
                offline::verify_compressed(vk, k, snark, outputs)
            }
            (KeySet::Halo2(_), Body::Halo2 { .. }) => Ok(()), // checked against the trace below
            (KeySet::SuperNova((pp, _, vk)), Body::SuperNova { outputs, snark }) => {
                let Shape::SuperNova(sn) = keys.shape else {
                    unreachable!("supernova keys have a supernova shape")
                };
                if outputs.initial_root != MemoryState::new(sn.tree, word_bits).z()[0] {
                    return Err(VerifyError::Snark(
                        "initial root is not the empty memory's root".into(),
                    ));
                }
                supernova::verify_compressed(pp, vk, snark, outputs)
            }
            _ => Err(VerifyError::Snark(
                "proof body does not match the backend".into(),
            )),
        }
    }));
    match res {
        Ok(Ok(())) => {}
        Ok(Err(VerifyError::Snark(m))) if m.starts_with("initial root") => {
            return Err(JobError::Invalid(m))
        }
        Ok(Err(e)) => return Err(JobError::Invalid(e.to_string())),
        Err(_) => return Err(JobError::Invalid("malformed SNARK".into())),
    }
    if let (
        KeySet::Halo2(params),
        Body::Halo2 {
            op_count,
            proof: bytes,
            ..
        },
    ) = (&keys.set, &proof.body)
    {
        let trace = trace.ok_or_else(|| {
            JobError::Invalid(
                "the halo2 backend's public input is the trace: verify with --trace".into(),
            )
        })?;
        let ops: Vec<Op> = trace
            .into_iter()
            .map(|r| r.map(|(_, op)| op))
            .collect::<Result<_, _>>()?;
        if ops.len() as u64 != *op_count {
            return Err(JobError::Invalid(format!(
                "trace has {} ops, proof covers {op_count}",
                ops.len()
            )));
        }
        let pk =
            halo2_compat::keys(params, ops.len()).map_err(|e| JobError::Internal(e.to_string()))?;
        return halo2_compat::verify(params, pk.get_vk(), &ops, bytes)
            .map_err(|e| JobError::Invalid(e.to_string()));
    }
    if let Some(trace) = trace {
        let (n, hash) = match keys.shape {
            Shape::Merkle(_) => trace_summary(trace, word_bits)?,
            Shape::Offline { ops_per_step } => {
                let ops: Vec<Op> = trace
                    .into_iter()
                    .map(|r| r.map(|(_, op)| op))
                    .collect::<Result<_, _>>()?;
                offline::trace_hash(ops, word_bits, ops_per_step)
            }
            Shape::SuperNova(_) => {
                let ops: Vec<Op> = trace
                    .into_iter()
                    .map(|r| r.map(|(_, op)| op))
                    .collect::<Result<_, _>>()?;
                supernova::trace_hash(ops, word_bits)
            }
            Shape::Halo2 { .. } => {
                unreachable!("halo2 proofs are checked against their trace above")
            }
        };
        if n != proof.op_count() {
            return Err(JobError::Invalid(format!(
                "trace has {n} ops, proof covers {}",
                proof.op_count()
            )));
        }
        if Some(hash) != proof.trace_hash() {
            return Err(JobError::Invalid(
                "trace hash of the given trace differs from the proof's".into(),
            ));
        }
    }
    Ok(())
}

/// Op count and Merkle-backend trace hash of an op stream.
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
            op.kind.is_write(),
            op.addr,
            op.value.to_field(word_bits),
        );
        n += 1;
    }
    Ok((n, hash))
}
