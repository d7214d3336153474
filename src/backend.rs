//! The seam between proving backends and the rest of foldmem, in the way arecibo's circuits meet
//! its folding at `StepCircuit`. A backend is a shape type ([`ShapeSpec`]: what keys are made
//! for, and the command-line flags that choose it, [`Flags`]) and a keys type ([`ProofSystem`]:
//! prove, verify). This module names no backend: the registry (`crate::registry`) is the one
//! place that lists them.

use crate::digest::KeyDigests;
use crate::engine::F;
use crate::error::Error;
pub use crate::error::ShapeError;
use crate::trace::{Op, TraceError};
use std::path::{Path, PathBuf};

/// Largest number of slots per folding step of the offline-checking backends (a few hundred
/// constraints each): bounds the circuit a proof header can make an unpinned verifier build.
pub const MAX_OPS_PER_STEP: usize = 2048;

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

/// `key: value` lines of a statement, in print order.
pub type Lines = Vec<(&'static str, String)>;

/// One op of a trace stream: its line (or position) and the op, or why it could not be read.
pub type TraceItem = Result<(usize, Op), TraceError>;

/// How far a prover got, for progress display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Ops accepted.
    pub ops: u64,
    /// Segments folded (backends that fold in segments).
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
    /// Ops per segment, for backends that fold in segments.
    pub segment_ops: Option<usize>,
}

/// Options backends own (a [`ShapeSpec::KeyOpts`] or [`ShapeSpec::RunOpts`]), carried by code
/// above the seam without naming a backend: a set of values of distinct types, from which each
/// backend takes only its own type (its default if absent). Options of other backends are
/// ignored, so one set can serve every backend (a benchmark's halo2 parameters).
#[derive(Clone, Default)]
pub struct Own(Vec<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl Own {
    /// No options: every backend's defaults.
    pub fn none() -> Self {
        Own(Vec::new())
    }
    /// The options `options` (the `KeyOpts` or `RunOpts` of the backend whose type it is).
    pub fn of<T: std::any::Any + Send + Sync>(options: T) -> Self {
        Own::none().and(options)
    }
    /// These options with `options` added (replacing any of the same type).
    pub fn and<T: std::any::Any + Send + Sync>(mut self, options: T) -> Self {
        self.0.retain(|o| !o.is::<T>());
        self.0.push(std::sync::Arc::new(options));
        self
    }
    /// Whether every option held is of type `T` (or none is held).
    pub fn only<T: std::any::Any>(&self) -> bool {
        self.0.iter().all(|o| o.is::<T>())
    }
    /// The options of type `T`, or `T`'s default.
    pub fn get<T: std::any::Any + Default + Clone>(&self) -> T {
        self.0
            .iter()
            .find_map(|o| o.downcast_ref::<T>())
            .cloned()
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Own {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Own({} options)", self.0.len())
    }
}

/// Where keys come from and what the verifier trusts about them.
#[derive(Clone, Debug, Default)]
pub struct KeyOptions {
    /// Parameter cache directory (`None`: never read or written).
    pub cache_dir: Option<PathBuf>,
    /// Digests pinned by the caller (a `--vk` file): cached keys are used only if they match,
    /// and regenerated keys that do not match are refused (exit 7).
    pub pinned: Option<KeyDigests>,
    /// The backend's own key options (halo2: its KZG parameters).
    pub backend: Own,
    /// Keys to verify only: a backend that can may then load its verifier key alone (stream),
    /// and the keys refuse to prove.
    pub verifier_only: bool,
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
    /// The same options with a backend's own key options added (each backend takes its own).
    pub fn with<T: std::any::Any + Send + Sync>(mut self, own: T) -> Self {
        self.backend = self.backend.and(own);
        self
    }
}

/// The cache file a shape's keys live in: its name (the shape's [`ShapeSpec::cache_name`]) and
/// the encoded shape the file must start with. The registry makes it, since the encoding is the
/// registry's shape enum (the cache file layout predates the split into backends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    /// File name stem, and the key of the built-in digest table.
    pub name: String,
    /// Encoded shape that heads the cached keys.
    pub tag: Vec<u8>,
}

impl CacheEntry {
    /// An entry that is never read or written (no tag): for keys made outside the registry,
    /// such as a backend's own tests.
    pub fn uncached(shape: &impl ShapeSpec) -> Self {
        CacheEntry {
            name: shape.cache_name(),
            tag: Vec::new(),
        }
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

/// What a shape's [`ShapeSpec::keys`] hands back.
pub struct Loaded<K> {
    /// The backend's keys.
    pub keys: K,
    /// Where they came from.
    pub source: KeySource,
    /// Their digests (the ones computed to vouch for a cache entry, or of the generated keys).
    pub digests: KeyDigests,
}

/// A plan of one trace (what `foldmem plan` prints): its op count, the ranges for
/// continuations, and what a run of the whole trace will fold, as the backend reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracePlan {
    /// Ops in the trace.
    pub ops: u64,
    /// The ranges, in order.
    pub ranges: Vec<RangePlan>,
    /// Backend-specific forecast of one run over the whole trace (`key: value` lines).
    pub forecast: Lines,
}

/// One range of a continuation plan: its first op, op count and the trace hash its prover
/// starts from (what `foldmem plan` prints).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// 0-based index.
    pub index: usize,
    /// Ops before the range (its start time).
    pub start_time: u64,
    /// Ops in the range.
    pub ops: u64,
    /// Trace hash at its start.
    pub start_hash: F,
    /// Ops per segment its prover must use (the plan's, rounded to whole steps).
    pub segment_ops: usize,
}

/// A backend's circuit shape: what keys are generated for. Values that reach a backend through
/// the registry's `Shape` have passed [`ShapeSpec::validate`].
pub trait ShapeSpec:
    Copy
    + Eq
    + std::hash::Hash
    + std::fmt::Debug
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The backend's name on the command line (`--backend`).
    const BACKEND: &'static str;
    /// The keys of this shape.
    type Keys: ProofSystem<Shape = Self>;
    /// Where keys come from beyond the cache and pins (halo2: its KZG parameters); `()` if
    /// nothing.
    type KeyOpts: Default + Clone + Send + Sync + 'static;
    /// How a proving run goes beyond the trace (stream: segments, checkpoints, ranges); `()` if
    /// nothing.
    type RunOpts: Default + Clone + Send + Sync + 'static;
    /// Fails, naming the field, if the shape is outside what `prove` accepts.
    fn validate(&self) -> Result<(), ShapeError>;
    /// Ops per folding step.
    fn ops_per_step(&self) -> usize;
    /// The shape part of the statement (`addr_bits`, `arity`, …).
    fn statement(&self) -> Lines;
    /// File name stem of this shape's parameter cache (one per shape: injective in the fields).
    fn cache_name(&self) -> String;
    /// Generate this (valid) shape's keys, or load them from `entry` in the cache when they can
    /// be vouched for ([`crate::cache::cached`]).
    fn keys(
        &self,
        opts: &KeyOptions,
        own: &Self::KeyOpts,
        entry: &CacheEntry,
    ) -> Result<Loaded<Self::Keys>, Error>;
    /// Plan `count` ranges of one trace for continuations (one native pass, no folding): the
    /// op count, each range's start and a forecast of the run. Backends that prove whole traces
    /// only refuse.
    fn plan(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        run: &Self::RunOpts,
        count: usize,
    ) -> Result<TracePlan, Error> {
        let _ = (word_bits, ops, run, count);
        Err(Error::Usage(format!(
            "plan splits traces for backends that prove ranges (stream), not {}",
            Self::BACKEND
        )))
    }
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

/// A backend's proof body: its claim and its SNARK (what follows the header in a proof file).
pub trait Proof:
    Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// What the proof claims.
    fn claim(&self) -> &dyn Claim;
}

/// The keys of one shape: prove and verify.
pub trait ProofSystem: Send + Sync + Sized + 'static {
    /// The shape these keys are for.
    type Shape: ShapeSpec<Keys = Self>;
    /// This backend's proof body.
    type Proof: Proof;
    /// The (valid) shape these keys are for.
    fn shape(&self) -> Self::Shape;
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
    /// Lines describing where trust in these keys comes from (Halo2: its KZG parameters).
    fn trust_lines(&self) -> Lines {
        Vec::new()
    }
    /// Check an op stream and prove it; `compress == false` only folds (benchmarks) and
    /// returns no proof. `progress` sees the ops (and segments) proven so far.
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        run: &<Self::Shape as ShapeSpec>::RunOpts,
    ) -> Result<(Option<Self::Proof>, ProveReport), Error>;
    /// Verify a proof made for this shape, from the empty memory; with `trace`, also that it
    /// covers exactly that op stream (required where the trace is the public input).
    fn verify(
        &self,
        proof: &Self::Proof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error>;
    /// Verify proofs of consecutive ranges of one trace (continuations), with `trace` the whole
    /// trace. Only backends that prove ranges implement it.
    fn verify_parts(
        &self,
        proofs: &[&Self::Proof],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        let _ = (proofs, trace);
        Err(Error::Usage(format!(
            "the {} backend proves whole traces: verify one proof",
            Self::Shape::BACKEND
        )))
    }
    /// The statement of the whole trace that verified `parts` prove together (only called after
    /// [`ProofSystem::verify_parts`] accepted them).
    fn parts_statement(&self, parts: &[&Self::Proof]) -> Lines {
        parts
            .last()
            .map(|p| p.claim().statement())
            .unwrap_or_default()
    }
}

/// The command-line flags of a backend. Flags several backends take (`--ops-per-step`,
/// `--addr-bits`, `--arity`) come from [`flag`], so each has one definition; a flag given for a
/// backend that does not list it is refused, naming the flag.
pub trait Flags: ShapeSpec {
    /// The shape a `prove` without shape flags uses (`None` where it depends on the trace).
    fn default_shape() -> Option<Self>;
    /// Flags that choose the shape (`prove`, `setup`, `plan`, `demo`, and `verify`'s pin).
    fn shape_flags() -> Vec<clap::Arg>;
    /// Flags that say where keys come from (halo2's KZG parameters).
    fn key_flags() -> Vec<clap::Arg> {
        Vec::new()
    }
    /// Flags of a proving run (stream's segments, checkpoints, resumption, ranges).
    fn run_flags() -> Vec<clap::Arg> {
        Vec::new()
    }
    /// The key options the given flags choose.
    fn key_opts(m: &clap::ArgMatches) -> Result<Self::KeyOpts, Error> {
        let _ = m;
        Ok(Default::default())
    }
    /// The shape the given flags choose (unset ones take the defaults); `own` are the key
    /// options, `ctx` what else a shape may depend on (the trace's op count).
    fn shape_from(
        m: &clap::ArgMatches,
        own: &Self::KeyOpts,
        ctx: &FlagContext<'_>,
    ) -> Result<Self, Error>;
    /// The run options the given flags choose, checked against the shape before any key setup.
    fn run_opts(
        m: &clap::ArgMatches,
        shape: &Self,
        ctx: &FlagContext<'_>,
    ) -> Result<Self::RunOpts, Error> {
        let _ = (m, shape, ctx);
        Ok(Default::default())
    }
    /// Refuse key options a key file cannot pin (halo2's insecure dev parameters).
    fn check_pinnable(own: &Self::KeyOpts) -> Result<(), Error> {
        let _ = own;
        Ok(())
    }
}

/// What flags may depend on besides themselves: the trace a command reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlagContext<'a> {
    /// The trace file (`None`: no trace, or standard input).
    pub trace: Option<&'a Path>,
    /// The trace's op count, where the caller knows it (a trace held in memory).
    pub ops: Option<u64>,
}

impl FlagContext<'_> {
    /// The trace's op count: the one given, else the trace file's if it is a regular file that
    /// can be counted ([`crate::trace::count_ops`]).
    pub fn op_count(&self) -> Option<u64> {
        self.ops
            .or_else(|| self.trace.and_then(crate::trace::count_ops))
    }
}

/// Flags several backends share (one definition each) and reading flag values.
pub mod flag {
    use clap::{value_parser, Arg, ArgMatches};

    /// `--ops-per-step`.
    pub fn ops_per_step() -> Arg {
        Arg::new("ops_per_step")
            .long("ops-per-step")
            .value_parser(value_parser!(usize))
            .help("Memory ops folded per step")
    }
    /// `--addr-bits`.
    pub fn addr_bits() -> Arg {
        Arg::new("addr_bits")
            .long("addr-bits")
            .value_parser(value_parser!(u32))
            .help("Address width in bits (memory of 2^N words), 1..=64")
    }
    /// `--arity`.
    pub fn arity() -> Arg {
        Arg::new("arity")
            .long("arity")
            .value_parser(value_parser!(usize))
            .help("Merkle tree arity: 2, 4, 8 or 16")
    }
    /// The value of flag `id` if given (`None` if absent, or not a flag of this command).
    pub fn get<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
        m.try_get_one::<T>(id).ok().flatten().cloned()
    }
    /// Whether flag `id` (a switch) was set.
    pub fn set(m: &ArgMatches, id: &str) -> bool {
        m.try_get_one::<bool>(id).ok().flatten().copied() == Some(true)
    }
    /// A shape field's error as a usage error naming its flag (`--ops-per-step: …`).
    pub fn usage(e: super::ShapeError) -> super::Error {
        super::Error::Usage(format!("--{}: {}", e.field.replace('_', "-"), e.msg))
    }
}

/// The ops of a trace stream, read whole (backends whose claim needs every op at once).
pub fn collect_ops(trace: &mut dyn Iterator<Item = TraceItem>) -> Result<Vec<Op>, Error> {
    trace
        .map(|r| r.map(|(_, op)| op).map_err(Error::from))
        .collect()
}

/// Read a whole op stream, checking value widths and consistency (backends that need the whole
/// trace before proving: offline, Halo2); `on_op` sees the running count.
pub fn buffer_checked(
    ops: &mut dyn Iterator<Item = TraceItem>,
    word_bits: u32,
    on_op: &mut dyn FnMut(u64),
) -> Result<Vec<Op>, Error> {
    let mut checker = crate::trace::Checker::new();
    let mut all = Vec::new();
    for item in ops {
        let (index, op) = item?;
        if !op.value.fits(word_bits) {
            return Err(Error::Input(format!(
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

/// The common end of `verify --trace` for hash-bound backends: the trace's op count and hash
/// must be the claim's.
pub fn check_trace_claim(claim: &dyn Claim, n: u64, hash: F) -> Result<(), Error> {
    if n != claim.op_count() {
        return Err(Error::Invalid(format!(
            "trace has {n} ops, proof covers {}",
            claim.op_count()
        )));
    }
    if Some(hash) != claim.trace_hash() {
        return Err(Error::Invalid(
            "trace hash of the given trace differs from the proof's".into(),
        ));
    }
    Ok(())
}
