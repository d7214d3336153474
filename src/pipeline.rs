//! End-to-end jobs shared by the CLI, examples and tests: keys for a shape (with an on-disk cache
//! the verifier only trusts when it can vouch for it), proving a trace stream into a
//! [`ProofFile`], pinning the statement and verifying one. Backends are reached only through
//! [`crate::backend`].

use crate::backend::{KeyDigests, Lines, Progress, ProofSystem, ProveOptions, TraceItem};
use crate::halo2_compat::Halo2Params;
use crate::nova::{ProveError, VerifyError};
use crate::proof::{Header, ProofFile, ProofFileError, Shape, FORMAT_VERSION, MAGIC};
use crate::trace::{Op, TraceError};
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

impl From<VerifyError> for JobError {
    fn from(e: VerifyError) -> Self {
        JobError::Invalid(e.to_string())
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

/// Where keys come from and what the verifier trusts about them.
#[derive(Clone, Default)]
pub struct KeyOptions {
    /// Parameter cache directory (`None`: never read or written).
    pub cache_dir: Option<PathBuf>,
    /// Digests pinned by the caller (a `--vk` file): cached keys are used only if they match,
    /// and regenerated keys that do not match are refused (exit 7).
    pub pinned: Option<KeyDigests>,
    /// The Halo2 backend's KZG parameters (required for it: a ceremony's, or explicitly the
    /// insecure dev parameters).
    pub halo2: Option<Halo2Params>,
}

impl KeyOptions {
    /// Regenerate keys, no cache, nothing pinned.
    pub fn none() -> Self {
        Self::default()
    }
    /// Use the cache in `dir`.
    pub fn cached(dir: &Path) -> Self {
        KeyOptions {
            cache_dir: Some(dir.to_path_buf()),
            ..Self::default()
        }
    }
    /// The same options with the Halo2 parameters set.
    pub fn with_halo2(mut self, p: Halo2Params) -> Self {
        self.halo2 = Some(p);
        self
    }
}

/// Why a set of keys can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Generated in this process from the shape.
    Generated,
    /// Loaded from the cache; their digests equal the ones a `--vk` file pins.
    CachePinned,
    /// Loaded from the cache; their digests equal the built-in table for this default shape.
    CacheKnown,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Generated => "generated from the shape",
            KeySource::CachePinned => "cache, digests pinned by --vk",
            KeySource::CacheKnown => "cache, digests in the built-in table",
        })
    }
}

/// Keys of one shape, with how they were obtained.
pub struct Keys {
    /// The backend's keys (private: [`Keys::digests`] are theirs, computed once).
    system: Box<dyn ProofSystem>,
    /// Seconds spent generating or loading them.
    pub setup_s: f64,
    /// Where they came from.
    pub source: KeySource,
    /// Their digests, computed once while the keys were made or loaded (hashing a verifier
    /// key's encoding takes seconds, and a verify needs the digests several times).
    digests: KeyDigests,
}

/// What a shape's [`crate::backend::ShapeSpec::keys`] hands back.
pub struct Loaded {
    /// The backend's keys.
    pub system: Box<dyn ProofSystem>,
    /// Where they came from.
    pub source: KeySource,
    /// Their digests (the ones computed to vouch for a cache entry, or of the generated keys).
    pub digests: KeyDigests,
}

impl Keys {
    /// The backend's keys.
    pub fn system(&self) -> &dyn ProofSystem {
        &*self.system
    }
    /// Shape they were made for.
    pub fn shape(&self) -> Shape {
        self.system.shape()
    }
    /// Digest of the public parameters (written into proof headers).
    pub fn digest(&self) -> [u8; 32] {
        self.digests().params
    }
    /// Digests of the parameters and verifier key.
    pub fn digests(&self) -> KeyDigests {
        self.digests
    }
    /// True if they came from the cache.
    pub fn cached(&self) -> bool {
        self.source != KeySource::Generated
    }
    /// Primary-circuit constraints per op, folding verifier included (0 for Halo2).
    pub fn constraints_per_op(&self) -> f64 {
        self.system.constraints_per_op().unwrap_or(0.0)
    }
    /// The backend's concrete keys (tests, benchmarks).
    pub fn downcast<T: 'static>(&self) -> Option<&T> {
        self.system.as_any().downcast_ref::<T>()
    }
    /// Where trust in the keys comes from, as statement lines.
    pub fn trust_lines(&self) -> Lines {
        let d = self.digests();
        let mut v = vec![
            ("params_digest", crate::backend::hex(&d.params)),
            ("vk_digest", crate::backend::hex(&d.vk)),
            ("keys", self.source.to_string()),
        ];
        v.extend(self.system.trust_lines());
        v
    }
}

/// Keys for `shape` (validated first: an unsupported shape is a usage error, and nothing is set
/// up for it). See [`cached`] for when the cache is used.
pub fn keys(shape: Shape, opts: &KeyOptions) -> Result<Keys, JobError> {
    shape
        .validate()
        .map_err(|e| JobError::Usage(format!("unsupported shape: {e}")))?;
    let t = Instant::now();
    let Loaded {
        system,
        source,
        digests,
    } = shape.spec().keys(opts)?;
    Ok(Keys {
        system,
        setup_s: t.elapsed().as_secs_f64(),
        source,
        digests,
    })
}

/// Keys of type `T` for `shape`, from the cache or `make`. The cache is only read when the keys
/// it holds can be checked against digests this process did not take from the cache: the ones
/// pinned in `opts` (a `--vk` file), else the built-in table of default shapes
/// ([`crate::cache::known_digests`]). Otherwise keys are generated (and written to the cache, for
/// a later run that can vouch for them). Generated keys that differ from the pinned digests are
/// refused (exit 7). The keys' digests come back with them, so nobody hashes them again.
pub fn cached<T: serde::Serialize + serde::de::DeserializeOwned>(
    shape: &Shape,
    opts: &KeyOptions,
    digests: impl Fn(&T) -> KeyDigests,
    make: impl FnOnce() -> Result<T, JobError>,
) -> Result<(T, KeySource, KeyDigests), JobError> {
    let (expected, source) = match opts.pinned {
        Some(d) => (Some(d), KeySource::CachePinned),
        None => (crate::cache::known_digests(shape), KeySource::CacheKnown),
    };
    let dir = opts.cache_dir.as_deref();
    if let (Some(dir), Some(want)) = (dir, expected) {
        match crate::cache::load::<T>(dir, shape) {
            Ok(Some(keys)) => {
                let got = digests(&keys);
                if got == want {
                    return Ok((keys, source, got));
                }
                tracing::warn!(
                    "{}: keys in the cache do not have the expected digests; regenerating",
                    crate::cache::path(dir, shape).display()
                )
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("ignoring unusable params cache: {e}; regenerating"),
        }
    }
    let keys = make()?;
    let got = digests(&keys);
    match (opts.pinned, expected) {
        (Some(want), _) if want != got => {
            return Err(JobError::Mismatch(format!(
                "the --vk file pins params digest {} and vk digest {}, but {} generates {} and {} \
                 (a key file from another foldmem build or circuit)",
                crate::backend::hex(&want.params),
                crate::backend::hex(&want.vk),
                shape.cache_name(),
                crate::backend::hex(&got.params),
                crate::backend::hex(&got.vk),
            )))
        }
        (None, Some(want)) if want != got => {
            // generated keys are the ground truth; the table only vouches for the cache
            tracing::warn!(
                "the built-in key digest table is stale for {} (tests/known_keys.rs says how to \
                 update it)",
                shape.cache_name()
            );
            return Ok((keys, KeySource::Generated, got));
        }
        _ => {}
    }
    if let Some(dir) = dir {
        if let Err(e) = crate::cache::store(dir, shape, &keys) {
            tracing::warn!("could not write params cache: {e}");
        }
    }
    Ok((keys, KeySource::Generated, got))
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

/// An internal (prover-side) failure.
pub fn internal(e: impl std::fmt::Display) -> JobError {
    JobError::Internal(e.to_string())
}

/// Read a whole op stream, checking value widths and consistency (backends that need the whole
/// trace before proving: offline, Halo2); `on_op` sees the running count.
pub fn buffer_checked(
    ops: &mut dyn Iterator<Item = TraceItem>,
    word_bits: u32,
    on_op: &mut dyn FnMut(u64),
) -> Result<Vec<Op>, JobError> {
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

/// Prove an op stream (`(index, op)` pairs, e.g. from a [`crate::trace::TraceReader`]).
/// `on_op` is called with the number of ops proven so far (for progress display).
pub fn prove_stream<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    mut on_op: impl FnMut(u64),
) -> Result<(ProofFile, ProveReport), JobError>
where
    I: IntoIterator<Item = TraceItem>,
{
    prove_with(keys, word_bits, ops, &ProveOptions::default(), |p| {
        on_op(p.ops)
    })
}

/// [`prove_stream`] with run options (the streaming backend's segments, checkpoints,
/// resumption and ranges); `progress` sees ops and segments proven.
pub fn prove_with<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    opts: &ProveOptions,
    mut progress: impl FnMut(Progress),
) -> Result<(ProofFile, ProveReport), JobError>
where
    I: IntoIterator<Item = TraceItem>,
{
    if !crate::trace::WORD_BITS.contains(&word_bits) {
        return Err(JobError::Usage(format!(
            "word size must be 32, 64 or 256, got {word_bits}"
        )));
    }
    let opts = ProveOptions {
        compress: true,
        ..opts.clone()
    };
    let (body, mut report) =
        keys.system
            .prove(word_bits, &mut ops.into_iter(), &mut progress, &opts)?;
    let body = body.ok_or_else(|| internal("the backend returned no proof"))?;
    let shape = keys.shape();
    let file = ProofFile {
        header: Header {
            magic: MAGIC,
            version: FORMAT_VERSION,
            backend: shape.backend(),
            shape,
            params_digest: keys.digest(),
        },
        body,
    };
    report.proof_bytes = file.to_bytes().len();
    Ok((file, report))
}

/// Fold an op stream without compressing (benchmarks): the report of the folding.
pub fn fold_stream<I>(keys: &Keys, word_bits: u32, ops: I) -> Result<ProveReport, JobError>
where
    I: IntoIterator<Item = TraceItem>,
{
    Ok(keys
        .system
        .prove(
            word_bits,
            &mut ops.into_iter(),
            &mut |_| {},
            &ProveOptions::fold_only(),
        )?
        .1)
}

/// What the verifier pins before looking at a proof: the shape (from `prove`'s shape flags or a
/// `--vk` file), optionally the word size and the key digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The shape the verifier accepts.
    pub shape: Shape,
    /// The word size the verifier accepts (`None`: any).
    pub word_bits: Option<u32>,
    /// The key digests the verifier accepts (`None`: whatever the shape generates).
    pub digests: Option<KeyDigests>,
}

/// `Ok` if the proof's header and claim are what `pin` allows; otherwise a parameter mismatch
/// (exit 7) naming every field that differs.
pub fn check_pin(proof: &ProofFile, pin: &Pin) -> Result<(), JobError> {
    // a proof file built in memory (not through `ProofFile::from_bytes`) is checked here too
    proof
        .header
        .shape
        .validate()
        .map_err(|e| JobError::ProofFile(ProofFileError::Shape(e).to_string()))?;
    if !crate::trace::WORD_BITS.contains(&proof.word_bits()) {
        return Err(JobError::ProofFile(format!(
            "unsupported word size {}",
            proof.word_bits()
        )));
    }
    let mut diffs = Vec::new();
    let (got, want) = (proof.header.shape.statement(), pin.shape.statement());
    for (k, v) in &want {
        match got.iter().find(|(g, _)| g == k) {
            Some((_, gv)) if gv == v => {}
            Some((_, gv)) => diffs.push(format!("{k} {gv} (expected {v})")),
            None => diffs.push(format!("no {k} (expected {v})")),
        }
    }
    for (k, v) in &got {
        if !want.iter().any(|(w, _)| w == k) {
            diffs.push(format!("{k} {v} (not in the expected shape)"));
        }
    }
    if got == want && proof.header.shape != pin.shape {
        diffs.push("shape differs".into());
    }
    if let Some(w) = pin.word_bits {
        if proof.word_bits() != w {
            diffs.push(format!("word_bits {} (expected {w})", proof.word_bits()));
        }
    }
    if let Some(d) = pin.digests {
        if proof.header.params_digest != d.params {
            diffs.push(format!(
                "params_digest {} (expected {})",
                crate::backend::hex(&proof.header.params_digest),
                crate::backend::hex(&d.params)
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(JobError::Mismatch(format!(
            "proof is for {}",
            diffs.join(", ")
        )))
    }
}

/// Verify a decoded proof with keys for its shape (parameter mismatch, exit 7, if the header
/// names other parameters); with `trace`, also check that it covers exactly that op stream.
pub fn verify_proof<I>(keys: &Keys, proof: &ProofFile, trace: Option<I>) -> Result<(), JobError>
where
    I: IntoIterator<Item = TraceItem>,
{
    check_pin(
        proof,
        &Pin {
            shape: keys.shape(),
            word_bits: None,
            digests: Some(keys.digests()),
        },
    )?;
    let mut trace = trace.map(|t| t.into_iter());
    let trace = trace
        .as_mut()
        .map(|t| t as &mut dyn Iterator<Item = TraceItem>);
    // arecibo's and halo2's verifiers may panic on malformed proof content
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        keys.system.verify(&proof.body, trace)
    })) {
        Ok(r) => r,
        Err(_) => Err(JobError::Invalid("malformed SNARK".into())),
    }
}

/// Verify proofs of consecutive ranges of one trace (continuations) with keys for their shape:
/// every header must name that shape and those keys; with `trace`, the whole trace.
pub fn verify_parts<I>(keys: &Keys, proofs: &[ProofFile], trace: Option<I>) -> Result<(), JobError>
where
    I: IntoIterator<Item = TraceItem>,
{
    let pin = Pin {
        shape: keys.shape(),
        word_bits: None,
        digests: Some(keys.digests()),
    };
    for (i, p) in proofs.iter().enumerate() {
        check_pin(p, &pin).map_err(|e| match e {
            JobError::Mismatch(m) => JobError::Mismatch(format!("part {i}: {m}")),
            other => other,
        })?;
    }
    let bodies: Vec<&crate::proof::Body> = proofs.iter().map(|p| &p.body).collect();
    let mut trace = trace.map(|t| t.into_iter());
    let trace = trace
        .as_mut()
        .map(|t| t as &mut dyn Iterator<Item = TraceItem>);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        keys.system.verify_parts(&bodies, trace)
    })) {
        Ok(r) => r,
        Err(_) => Err(JobError::Invalid("malformed SNARK".into())),
    }
}
