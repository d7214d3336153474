//! The one seam between proving backends and the rest of foldmem: every backend describes its
//! circuit shape ([`ShapeSpec`]), what its proofs claim ([`Claim`]) and its keys
//! ([`ProofSystem`]: prove, verify, digests). The pipeline, the proof file and the CLI dispatch on
//! the backend exactly once, in [`crate::proof::Shape::spec`] and [`crate::proof::Body::claim`].

use crate::pipeline::{JobError, KeyOptions, Loaded, ProveReport};
use crate::proof::{Backend, Body, Shape};
use crate::trace::{Op, TraceError};
use crate::F;
use sha3::{Digest, Sha3_256};
use thiserror::Error;

/// Largest number of slots per folding step of the offline-checking backends (a few hundred
/// constraints each): bounds the circuit a proof header can make an unpinned verifier build.
pub const MAX_OPS_PER_STEP: usize = 2048;

/// Largest number of ops per step of the Merkle backend (up to ~31k constraints per op at arity 2
/// and 2^64 words).
pub const MAX_MERKLE_OPS_PER_STEP: usize = 16;

/// A shape outside the supported range, naming the field.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{field}: {msg}")]
pub struct ShapeError {
    /// The offending field (`addr_bits`, `arity`, `ops_per_step`, …).
    pub field: &'static str,
    /// What is wrong with it.
    pub msg: String,
}

impl ShapeError {
    /// An error about `field`.
    pub fn new(field: &'static str, msg: impl Into<String>) -> Self {
        ShapeError {
            field,
            msg: msg.into(),
        }
    }
}

/// Check `1 ≤ k ≤ max`.
pub fn check_ops_per_step(k: usize, max: usize) -> Result<(), ShapeError> {
    if (1..=max).contains(&k) {
        Ok(())
    } else {
        Err(ShapeError::new(
            "ops_per_step",
            format!("must be in 1..={max}, got {k}"),
        ))
    }
}

/// Shape choices a user may make (the command line's shape flags); `None` takes the backend's
/// default. Each backend turns them into its shape ([`crate::proof::Backend::shape`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShapeFlags {
    /// Ops (slots) per folding step.
    pub ops_per_step: Option<usize>,
    /// Address width of the Merkle tree.
    pub addr_bits: Option<u32>,
    /// Merkle tree arity.
    pub arity: Option<usize>,
    /// SuperNova stack base address.
    pub stack_base: Option<u64>,
    /// SuperNova stack depth, as log2.
    pub stack_log_depth: Option<u32>,
    /// Boundary/audit slots per step (streaming backend).
    pub boundary_slots: Option<usize>,
    /// Time range-check width (streaming backend).
    pub time_bits: Option<u32>,
    /// Halo2 domain size, as log2.
    pub rows_log2: Option<u32>,
}

impl ShapeFlags {
    /// Fails, naming the first flag that is set but not in `allowed` (field names), so a flag
    /// never silently means nothing for `backend`.
    pub fn only(&self, backend: &str, allowed: &[&str]) -> Result<(), ShapeError> {
        let set = [
            ("ops_per_step", self.ops_per_step.is_some()),
            ("addr_bits", self.addr_bits.is_some()),
            ("arity", self.arity.is_some()),
            ("stack_base", self.stack_base.is_some()),
            ("stack_log_depth", self.stack_log_depth.is_some()),
            ("boundary_slots", self.boundary_slots.is_some()),
            ("time_bits", self.time_bits.is_some()),
            ("rows_log2", self.rows_log2.is_some()),
        ];
        match set.iter().find(|(f, on)| *on && !allowed.contains(f)) {
            Some((f, _)) => Err(ShapeError::new(
                f,
                format!("does not apply to the {backend} backend"),
            )),
            None => Ok(()),
        }
    }
}

/// How far a prover got, for progress display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Ops accepted.
    pub ops: u64,
    /// Segments folded (streaming backend).
    pub segments: usize,
}

impl Progress {
    /// `n` ops accepted by a backend without segments.
    pub fn ops(n: u64) -> Self {
        Progress {
            ops: n,
            segments: 0,
        }
    }
}

/// How to prove: whether to compress, and the streaming backend's run options (segment size,
/// checkpoints, resumption, one range of a trace split across machines).
#[derive(Clone, Debug)]
pub struct ProveOptions {
    /// Compress the folded proof (false: fold only, for benchmarks).
    pub compress: bool,
    /// Ops per segment (streaming backend).
    pub segment_ops: Option<usize>,
    /// Directory to write a checkpoint into after every segment (streaming backend).
    pub checkpoint: Option<std::path::PathBuf>,
    /// Continue from the checkpoint in this directory (streaming backend).
    pub resume: Option<std::path::PathBuf>,
    /// Prove range `i` of `r` (streaming backend; `total_ops` is the trace's op count).
    pub range: Option<RangeSpec>,
}

/// One range of a trace split into `count` ranges of whole segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeSpec {
    /// 0-based index.
    pub index: usize,
    /// Number of ranges.
    pub count: usize,
    /// Ops in the whole trace.
    pub total_ops: u64,
}

impl Default for ProveOptions {
    fn default() -> Self {
        ProveOptions {
            compress: true,
            segment_ops: None,
            checkpoint: None,
            resume: None,
            range: None,
        }
    }
}

impl ProveOptions {
    /// Fold only.
    pub fn fold_only() -> Self {
        ProveOptions {
            compress: false,
            ..Self::default()
        }
    }
    /// Refuse the streaming-only options for a backend that proves whole traces.
    pub fn whole_trace_only(&self, backend: &str) -> Result<(), JobError> {
        let set = [
            ("--segment-ops", self.segment_ops.is_some()),
            ("--checkpoint", self.checkpoint.is_some()),
            ("--resume", self.resume.is_some()),
            ("--range", self.range.is_some()),
        ];
        match set.iter().find(|(_, on)| *on) {
            Some((flag, _)) => Err(JobError::Usage(format!(
                "{flag} applies to the stream backend, not {backend}"
            ))),
            None => Ok(()),
        }
    }
}

/// `key: value` lines of a statement, in print order.
pub type Lines = Vec<(&'static str, String)>;

/// One op of a trace stream: its line (or position) and the op, or why it could not be read.
pub type TraceItem = Result<(usize, Op), TraceError>;

/// A backend's circuit shape: what parameters are generated for.
pub trait ShapeSpec {
    /// The backend this shape belongs to.
    fn backend(&self) -> Backend;
    /// Fails, naming the field, if the shape is outside what `prove` accepts.
    fn validate(&self) -> Result<(), ShapeError>;
    /// Ops per folding step.
    fn ops_per_step(&self) -> usize;
    /// The shape part of the statement (`addr_bits`, `arity`, …).
    fn statement(&self) -> Lines;
    /// File name stem of this shape's parameter cache.
    fn cache_name(&self) -> String;
    /// Generate (or load, see [`crate::pipeline::cached`]) this shape's keys; the shape is valid.
    fn keys(&self, opts: &KeyOptions) -> Result<Loaded, JobError>;
}

/// What a proof claims about the trace it covers.
pub trait Claim {
    /// Number of ops.
    fn op_count(&self) -> u64;
    /// Word size in bits (part of the statement: it seeds the trace hash).
    fn word_bits(&self) -> u32;
    /// Trace hash the proof is bound to (`None` where the trace itself is the public input).
    fn trace_hash(&self) -> Option<F>;
    /// The claim part of the statement.
    fn statement(&self) -> Lines;
}

/// Digests that identify a set of keys: the public parameters (arecibo's digest, which covers
/// the circuits and commitment keys) and the SNARK verifier key (SHA3-256 of its encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyDigests {
    /// Digest of the public parameters (the one written into proof headers).
    pub params: [u8; 32],
    /// SHA3-256 of the verifier key's canonical encoding.
    pub vk: [u8; 32],
}

/// The keys of one shape: prove and verify.
pub trait ProofSystem: Send + Sync {
    /// The (valid) shape these keys are for.
    fn shape(&self) -> Shape;
    /// Digests of the parameters and verifier key.
    fn digests(&self) -> KeyDigests;
    /// Primary-circuit constraints per op, folding verifier included (SuperNova: the largest
    /// circuit), if the backend is R1CS.
    fn constraints_per_op(&self) -> Option<f64>;
    /// What one fold step commits to, per op: (primary + secondary constraints of the op step) /
    /// ops per step, if the backend folds.
    fn effective_constraints_per_op(&self) -> Option<f64> {
        None
    }
    /// Extra `key: value` lines about the circuits, printed by `prove`.
    fn circuit_lines(&self) -> Lines {
        Vec::new()
    }
    /// Check an op stream and prove it; `opts.compress == false` only folds (benchmarks) and
    /// returns no body. `progress` sees the ops (and segments) proven so far.
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        opts: &ProveOptions,
    ) -> Result<(Option<Body>, ProveReport), JobError>;
    /// Verify proofs of consecutive ranges of one trace (continuations), with `trace` the whole
    /// trace. Only backends that prove ranges implement it.
    fn verify_parts(
        &self,
        bodies: &[&Body],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError> {
        let _ = (bodies, trace);
        Err(JobError::Usage(format!(
            "the {} backend proves whole traces: verify one proof",
            self.shape().backend()
        )))
    }
    /// Verify a proof body made for this shape, from the empty memory; with `trace`, also that it
    /// covers exactly that op stream (required where the trace is the public input).
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError>;
    /// Lines describing where trust in these keys comes from (Halo2: its KZG parameters).
    fn trust_lines(&self) -> Lines {
        Vec::new()
    }
    /// For downcasting to the backend's concrete key type (tests, benchmarks).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// SHA3-256 of a value's canonical bincode encoding. The encoding goes through a buffer: field
/// elements encode a byte at a time, and hashing each byte on its own made this about three
/// times slower (2.6 s for a 180 MB verifier key).
pub fn sha3_of<T: serde::Serialize>(value: &T) -> [u8; 32] {
    struct Sink(Sha3_256);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, Sink(Sha3_256::new()));
    bincode::serialize_into(&mut buffered, value).expect("keys encode");
    match buffered.into_inner() {
        Ok(sink) => sink.0.finalize().into(),
        Err(_) => unreachable!("the sink never fails"),
    }
}

/// [`KeyDigests`] from the parameters' digest (`params`, arecibo's, which hashes them a byte at a
/// time) and the SHA3-256 of the verifier key's encoding, computed on two threads: each hashes
/// about as many bytes as the other (both hold the circuits' matrices).
pub(crate) fn key_digests<V: serde::Serialize + Sync>(
    params: impl FnOnce() -> [u8; 32] + Send,
    vk: &V,
) -> KeyDigests {
    std::thread::scope(|s| {
        // no second thread (e.g. a process limit): hash one after the other
        let Ok(vk_hash) = std::thread::Builder::new().spawn_scoped(s, || sha3_of(vk)) else {
            return KeyDigests {
                params: params(),
                vk: sha3_of(vk),
            };
        };
        let params = params();
        KeyDigests {
            params,
            vk: vk_hash.join().expect("hashing does not panic"),
        }
    })
}

/// SHA3-256 of bytes.
pub fn sha3_bytes(bytes: &[u8]) -> [u8; 32] {
    Sha3_256::digest(bytes).into()
}

/// `0x`-prefixed lowercase hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The ops of a trace stream, read whole (backends whose claim needs every op at once).
pub fn collect_ops(trace: &mut dyn Iterator<Item = TraceItem>) -> Result<Vec<Op>, JobError> {
    trace
        .map(|r| r.map(|(_, op)| op).map_err(JobError::from))
        .collect()
}

/// The common end of `verify --trace` for hash-bound backends: the trace's op count and hash
/// must be the claim's.
pub fn check_trace_claim(claim: &dyn Claim, n: u64, hash: F) -> Result<(), JobError> {
    if n != claim.op_count() {
        return Err(JobError::Invalid(format!(
            "trace has {n} ops, proof covers {}",
            claim.op_count()
        )));
    }
    if Some(hash) != claim.trace_hash() {
        return Err(JobError::Invalid(
            "trace hash of the given trace differs from the proof's".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_sha3_of_hashes_the_plain_encoding() {
        // longer than the buffer, with field elements (which encode a byte at a time)
        let v: (Vec<u8>, Vec<F>) = (
            (0..200_000u32).map(|i| i as u8).collect(),
            (0..5_000u64).map(F::from).collect(),
        );
        let plain = bincode::serialize(&v).unwrap();
        assert!(plain.len() > 1 << 16);
        assert_eq!(sha3_of(&v), sha3_bytes(&plain));
        let d = key_digests(|| [7; 32], &v);
        assert_eq!(
            d,
            KeyDigests {
                params: [7; 32],
                vk: sha3_bytes(&plain)
            }
        );
    }
}
