//! The one place that lists the backends: the [`Backend`] names, the shape and proof-body enums
//! every file format carries ([`AnyShape`], [`Body`]), the validated [`Shape`] that only the
//! decoders and the command-line parser build, the object every backend's keys hide behind
//! ([`System`]), and the command-line flags each backend contributes. A new backend is a folder
//! under `backends/` and one line in each list below (see `docs/architecture.md`).

use crate::backend::{
    CacheEntry, FlagContext, Flags, KeyOptions, KeySource, Lines, Own, Progress, Proof,
    ProofSystem, ProveReport, ShapeError, ShapeSpec, TraceItem, TracePlan,
};
use crate::backends::halo2::Halo2Shape;
use crate::backends::merkle::MerkleShape;
use crate::backends::offline::OfflineShape;
use crate::backends::stream::StreamShape;
use crate::backends::supernova::SupernovaShape;
use crate::digest::KeyDigests;
use crate::error::Error;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches};
use serde::{Deserialize, Serialize};

/// A proving backend. The order is the proof header's encoding: new backends go at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum Backend {
    /// Nova over the Merkle step circuit (online memory checking).
    #[value(name = "nova")]
    Merkle,
    /// Nova over the offline memory-checking circuit (multiset fingerprints, one segment).
    #[value(name = "nova-offline")]
    Offline,
    /// SuperNova with one circuit per opcode (read, write, push, pop).
    #[value(name = "supernova")]
    Supernova,
    /// Halo2 (KZG) sorted-trace permutation circuit, for comparison; the trace is its public input.
    #[value(name = "halo2")]
    Halo2,
    /// Streaming offline checking: segments with in-circuit challenges, an elliptic-curve
    /// multiset hash across segments (SuperNova: op, curve and fresh circuits).
    #[value(name = "stream")]
    Stream,
}

/// Every backend, in header order.
pub const BACKENDS: [Backend; 5] = [
    Backend::Merkle,
    Backend::Offline,
    Backend::Supernova,
    Backend::Halo2,
    Backend::Stream,
];

/// A backend's shape as written in proof headers, key files and cache files; not necessarily
/// valid (see [`Shape`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnyShape {
    /// Merkle step circuit.
    Merkle(MerkleShape),
    /// Offline step circuit.
    Offline(OfflineShape),
    /// SuperNova opcode circuits.
    #[serde(rename = "SuperNova")]
    Supernova(SupernovaShape),
    /// Halo2 circuit.
    Halo2(Halo2Shape),
    /// Streaming offline-checking circuits.
    Stream(StreamShape),
}

/// The proof body of [`ProofSystem::Proof`] for shape `S`.
pub type ProofOf<S> = <<S as ShapeSpec>::Keys as ProofSystem>::Proof;

/// A backend's claim and SNARK (what follows the header in a proof file).
#[derive(Clone, Serialize, Deserialize)]
pub enum Body {
    /// Merkle backend.
    Merkle(ProofOf<MerkleShape>),
    /// Offline backend.
    Offline(ProofOf<OfflineShape>),
    /// SuperNova backend.
    Supernova(ProofOf<SupernovaShape>),
    /// Halo2 backend: the trace itself is the public input, so verification needs it.
    Halo2(ProofOf<Halo2Shape>),
    /// Streaming backend (one proof of a whole trace, or one range of it).
    Stream(ProofOf<StreamShape>),
}

/// `$body` with `$s` bound to the backend shape inside an [`AnyShape`].
macro_rules! each_shape {
    ($shape:expr, $s:ident => $body:expr) => {
        match $shape {
            AnyShape::Merkle($s) => $body,
            AnyShape::Offline($s) => $body,
            AnyShape::Supernova($s) => $body,
            AnyShape::Halo2($s) => $body,
            AnyShape::Stream($s) => $body,
        }
    };
}

/// `$body` with the type `$T` the backend's shape type.
macro_rules! each_backend {
    ($backend:expr, $T:ident => $body:expr) => {
        match $backend {
            Backend::Merkle => {
                type $T = MerkleShape;
                $body
            }
            Backend::Offline => {
                type $T = OfflineShape;
                $body
            }
            Backend::Supernova => {
                type $T = SupernovaShape;
                $body
            }
            Backend::Halo2 => {
                type $T = Halo2Shape;
                $body
            }
            Backend::Stream => {
                type $T = StreamShape;
                $body
            }
        }
    };
}

/// How one backend's types sit in the registry's enums.
pub trait Member: Flags {
    /// Its name.
    fn backend() -> Backend;
    /// Its shapes as an [`AnyShape`].
    fn any(self) -> AnyShape;
    /// Its proofs as a [`Body`].
    fn body(proof: ProofOf<Self>) -> Body;
    /// Its proof inside `body`, if `body` is this backend's.
    fn proof(body: &Body) -> Option<&ProofOf<Self>>;
    /// Its shape inside `shape`, if `shape` is this backend's.
    fn of(shape: &AnyShape) -> Option<Self>;
}

macro_rules! member {
    ($shape:ty, $variant:ident) => {
        impl Member for $shape {
            fn backend() -> Backend {
                Backend::$variant
            }
            fn any(self) -> AnyShape {
                AnyShape::$variant(self)
            }
            fn body(proof: ProofOf<Self>) -> Body {
                Body::$variant(proof)
            }
            fn proof(body: &Body) -> Option<&ProofOf<Self>> {
                match body {
                    Body::$variant(p) => Some(p),
                    _ => None,
                }
            }
            fn of(shape: &AnyShape) -> Option<Self> {
                match shape {
                    AnyShape::$variant(s) => Some(*s),
                    _ => None,
                }
            }
        }
    };
}

member!(MerkleShape, Merkle);
member!(OfflineShape, Offline);
member!(SupernovaShape, Supernova);
member!(Halo2Shape, Halo2);
member!(StreamShape, Stream);

impl Backend {
    /// The shape a `prove` without shape flags uses (`None` for Halo2, whose domain follows the
    /// trace or its parameters).
    pub fn default_shape(self) -> Option<Shape> {
        each_backend!(self, S => S::default_shape().map(|s| Shape(s.any())))
    }
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        each_backend!(self, S => S::BACKEND)
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Body {
    /// What the proof claims.
    pub fn claim(&self) -> &dyn crate::backend::Claim {
        match self {
            Body::Merkle(p) => p.claim(),
            Body::Offline(p) => p.claim(),
            Body::Supernova(p) => p.claim(),
            Body::Halo2(p) => p.claim(),
            Body::Stream(p) => p.claim(),
        }
    }
    /// The backend that makes bodies of this kind.
    pub fn backend(&self) -> Backend {
        match self {
            Body::Merkle(_) => Backend::Merkle,
            Body::Offline(_) => Backend::Offline,
            Body::Supernova(_) => Backend::Supernova,
            Body::Halo2(_) => Backend::Halo2,
            Body::Stream(_) => Backend::Stream,
        }
    }
}

impl AnyShape {
    /// The backend this shape belongs to.
    pub fn backend(&self) -> Backend {
        match self {
            AnyShape::Merkle(_) => Backend::Merkle,
            AnyShape::Offline(_) => Backend::Offline,
            AnyShape::Supernova(_) => Backend::Supernova,
            AnyShape::Halo2(_) => Backend::Halo2,
            AnyShape::Stream(_) => Backend::Stream,
        }
    }
    /// Fails, naming the field, if the shape is outside the supported range.
    pub fn validate(&self) -> Result<(), ShapeError> {
        each_shape!(self, s => s.validate())
    }
}

/// A shape inside the supported range: built only by [`Shape::new`] (which the proof-file and
/// key-file decoders and the command-line parser call), so nothing downstream re-validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Shape(AnyShape);

impl Shape {
    /// The shape, if it is inside the supported range; otherwise the field that is not.
    pub fn new(shape: impl Into<AnyShape>) -> Result<Self, ShapeError> {
        let shape = shape.into();
        shape.validate()?;
        Ok(Shape(shape))
    }
    /// The backend's shape.
    pub fn get(&self) -> &AnyShape {
        &self.0
    }
    /// The backend this shape belongs to.
    pub fn backend(&self) -> Backend {
        self.0.backend()
    }
    /// Ops per folding step.
    pub fn ops_per_step(&self) -> usize {
        each_shape!(&self.0, s => s.ops_per_step())
    }
    /// Name used for cache files.
    pub fn cache_name(&self) -> String {
        each_shape!(&self.0, s => s.cache_name())
    }
    /// `backend` and the shape's fields as statement lines.
    pub fn statement(&self) -> Lines {
        let mut v = vec![("backend", self.backend().to_string())];
        v.extend(each_shape!(&self.0, s => s.statement()));
        v
    }
    /// The cache file of this shape's keys.
    pub fn cache_entry(&self) -> CacheEntry {
        use bincode::Options;
        CacheEntry {
            name: self.cache_name(),
            tag: bincode::DefaultOptions::new()
                .with_fixint_encoding()
                .serialize(&self.0)
                .expect("shapes encode"),
        }
    }
    /// This shape's keys (from the cache when they can be vouched for, see
    /// [`crate::cache::cached`]); `opts.backend` holds the backend's own key options.
    pub fn keys(&self, opts: &KeyOptions) -> Result<Loaded, Error> {
        fn load<S: Member>(s: &S, opts: &KeyOptions, entry: &CacheEntry) -> Result<Loaded, Error> {
            let own = opts.backend.get::<S::KeyOpts>();
            let l = s.keys(opts, &own, entry)?;
            Ok(Loaded {
                system: Box::new(l.keys),
                source: l.source,
                digests: l.digests,
            })
        }
        let entry = self.cache_entry();
        each_shape!(&self.0, s => load(s, opts, &entry))
    }
    /// Plan `count` ranges of a trace for continuations (backends that prove ranges).
    pub fn plan(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        run: &Own,
        count: usize,
    ) -> Result<TracePlan, Error> {
        fn plan<S: Member>(
            s: &S,
            word_bits: u32,
            ops: &mut dyn Iterator<Item = TraceItem>,
            run: &Own,
            count: usize,
        ) -> Result<TracePlan, Error> {
            s.plan(word_bits, ops, &run.get::<S::RunOpts>(), count)
        }
        each_shape!(&self.0, s => plan(s, word_bits, ops, run, count))
    }
}

macro_rules! into_any {
    ($shape:ty, $variant:ident) => {
        impl From<$shape> for AnyShape {
            fn from(s: $shape) -> Self {
                AnyShape::$variant(s)
            }
        }
    };
}

into_any!(MerkleShape, Merkle);
into_any!(OfflineShape, Offline);
into_any!(SupernovaShape, Supernova);
into_any!(Halo2Shape, Halo2);
into_any!(StreamShape, Stream);

/// The shapes `prove` uses without shape flags, for every backend with a parameter cache: the
/// ones [`crate::cache::KNOWN_KEYS`] lists.
pub fn default_shapes() -> Vec<Shape> {
    BACKENDS.iter().filter_map(|b| b.default_shape()).collect()
}

/// What a shape's keys hand back through the registry.
pub struct Loaded {
    /// The backend's keys.
    pub system: Box<dyn System>,
    /// Where they came from.
    pub source: KeySource,
    /// Their digests.
    pub digests: KeyDigests,
}

/// Any backend's keys behind one object: [`ProofSystem`] with the registry's [`Shape`] and
/// [`Body`] in place of the backend's own types, and its run options type-erased.
pub trait System: Send + Sync {
    /// The (valid) shape these keys are for.
    fn shape(&self) -> Shape;
    /// See [`ProofSystem::constraints_per_op`].
    fn constraints_per_op(&self) -> Option<f64>;
    /// See [`ProofSystem::effective_constraints_per_op`].
    fn effective_constraints_per_op(&self) -> Option<f64>;
    /// See [`ProofSystem::circuit_lines`].
    fn circuit_lines(&self) -> Lines;
    /// See [`ProofSystem::trust_lines`].
    fn trust_lines(&self) -> Lines;
    /// See [`ProofSystem::prove`]; `run` holds the backend's run options.
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        run: &Own,
    ) -> Result<(Option<Body>, ProveReport), Error>;
    /// See [`ProofSystem::verify`].
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error>;
    /// See [`ProofSystem::verify_parts`].
    fn verify_parts(
        &self,
        bodies: &[&Body],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error>;
    /// See [`ProofSystem::parts_statement`].
    fn parts_statement(&self, bodies: &[&Body]) -> Lines;
    /// For downcasting to the backend's keys (tests, benchmarks).
    fn as_any(&self) -> &dyn std::any::Any;
}

fn proofs_of<'a, S: Member>(bodies: &[&'a Body]) -> Result<Vec<&'a ProofOf<S>>, Error> {
    bodies
        .iter()
        .map(|b| {
            S::proof(b)
                .ok_or_else(|| Error::Invalid("proof body does not match the backend".into()))
        })
        .collect()
}

impl<K> System for K
where
    K: ProofSystem,
    K::Shape: Member,
{
    fn shape(&self) -> Shape {
        Shape(ProofSystem::shape(self).any())
    }
    fn constraints_per_op(&self) -> Option<f64> {
        ProofSystem::constraints_per_op(self)
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        ProofSystem::effective_constraints_per_op(self)
    }
    fn circuit_lines(&self) -> Lines {
        ProofSystem::circuit_lines(self)
    }
    fn trust_lines(&self) -> Lines {
        ProofSystem::trust_lines(self)
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        run: &Own,
    ) -> Result<(Option<Body>, ProveReport), Error> {
        // run options change what is proven (a range, a resumption): another backend's are
        // refused, never silently dropped
        if !run.only::<<K::Shape as ShapeSpec>::RunOpts>() {
            return Err(Error::Usage(format!(
                "run options of another backend do not apply to the {} backend",
                K::Shape::BACKEND
            )));
        }
        let run = run.get::<<K::Shape as ShapeSpec>::RunOpts>();
        let (proof, report) = ProofSystem::prove(self, word_bits, ops, progress, compress, &run)?;
        Ok((proof.map(K::Shape::body), report))
    }
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        let [proof] = proofs_of::<K::Shape>(&[body])?[..] else {
            unreachable!("one body, one proof")
        };
        ProofSystem::verify(self, proof, trace)
    }
    fn verify_parts(
        &self,
        bodies: &[&Body],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        ProofSystem::verify_parts(self, &proofs_of::<K::Shape>(bodies)?, trace)
    }
    fn parts_statement(&self, bodies: &[&Body]) -> Lines {
        match proofs_of::<K::Shape>(bodies) {
            Ok(proofs) => ProofSystem::parts_statement(self, &proofs),
            Err(_) => Vec::new(),
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// What the command-line flags chose: the shape, and the backend's own key and run options.
pub struct Selection {
    /// The validated shape.
    pub shape: Shape,
    /// The backend's key options (for [`KeyOptions::backend`]).
    pub key: Own,
    /// The backend's run options (for [`crate::pipeline::prove_with`]).
    pub run: Own,
}

/// The `--backend` flag and every backend's shape and key flags (flattened into `prove`,
/// `verify`, `setup`, `plan` and `demo`): each backend reads its own.
#[derive(Clone, Debug)]
pub struct ShapeArgs(ArgMatches);

/// Every backend's run flags (flattened into `prove` and `plan`).
#[derive(Clone, Debug)]
pub struct RunArgs(ArgMatches);

/// The backend `prove` uses without `--backend`.
pub const DEFAULT_BACKEND: Backend = Backend::Stream;

/// Each backend's flags of one kind, one per id: a flag several backends take is defined once
/// ([`crate::backend::flag`]), and its help lists each backend's default.
fn flags_of(kind: fn(Backend) -> Vec<Arg>) -> Vec<Arg> {
    // each flag once, with the backends that take it and their default for it
    type Users = Vec<(Backend, Option<String>)>;
    let mut out: Vec<(Arg, Users)> = Vec::new();
    for b in BACKENDS {
        let defaults = b.default_shape().map(|s| s.statement()).unwrap_or_default();
        for arg in kind(b) {
            let id = arg.get_id().to_string();
            let default = defaults
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, v)| v.clone());
            match out.iter_mut().find(|(a, _)| a.get_id() == arg.get_id()) {
                Some((_, users)) => users.push((b, default)),
                None => out.push((arg, vec![(b, default)])),
            }
        }
    }
    out.into_iter()
        .map(|(arg, users)| {
            if users.len() < 2 {
                return arg;
            }
            let defaults: Vec<String> = users
                .iter()
                .filter_map(|(b, d)| d.as_ref().map(|d| format!("{d} for {b}")))
                .collect();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            arg.help(format!("{help} [default: {}]", defaults.join(", ")))
        })
        .collect()
}

fn shape_and_key_flags(b: Backend) -> Vec<Arg> {
    each_backend!(b, S => {
        let mut v = S::shape_flags();
        v.extend(S::key_flags());
        v
    })
}

fn run_flags(b: Backend) -> Vec<Arg> {
    each_backend!(b, S => S::run_flags())
}

fn shape_flag_ids(b: Backend) -> Vec<String> {
    each_backend!(b, S => S::shape_flags())
        .iter()
        .map(|a| a.get_id().to_string())
        .collect()
}

/// Flags of `args` given on the command line.
fn given(m: &ArgMatches, args: &[Arg]) -> Vec<(String, String)> {
    args.iter()
        .filter(|a| m.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
        .map(|a| {
            let long = a.get_long().unwrap_or(a.get_id().as_str()).to_string();
            (a.get_id().to_string(), long)
        })
        .collect()
}

impl clap::FromArgMatches for ShapeArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(ShapeArgs(m.clone()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.0 = m.clone();
        Ok(())
    }
}

impl clap::Args for ShapeArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            Arg::new("backend")
                .long("backend")
                .value_parser(clap::builder::EnumValueParser::<Backend>::new())
                .help(format!("Proving backend [default: {DEFAULT_BACKEND}]")),
        )
        .args(flags_of(shape_and_key_flags))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for RunArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(RunArgs(m.clone()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.0 = m.clone();
        Ok(())
    }
}

impl clap::Args for RunArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(flags_of(run_flags))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl ShapeArgs {
    /// The backend chosen (`--backend`, else [`DEFAULT_BACKEND`]).
    pub fn backend(&self) -> Backend {
        crate::backend::flag::get(&self.0, "backend").unwrap_or(DEFAULT_BACKEND)
    }
    /// The `--backend` and shape flags given (not the key flags, which say where keys come
    /// from), by their long names.
    pub fn shape_flags_given(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.0.value_source("backend") == Some(ValueSource::CommandLine) {
            v.push("backend".to_string());
        }
        let ids: Vec<String> = BACKENDS.iter().flat_map(|b| shape_flag_ids(*b)).collect();
        for (id, long) in given(&self.0, &flags_of(shape_and_key_flags)) {
            if ids.contains(&id) && !v.contains(&long) {
                v.push(long);
            }
        }
        v
    }
    /// What the flags choose: the shape (validated: an unsupported value is a usage error naming
    /// the flag) of the chosen backend, or the `pinned` shape of a key file (then no shape flag
    /// may be given); the backend's key options; and, with `run`, its run options (checked
    /// against the shape before any key setup). A flag of another backend is refused, naming it.
    pub fn select(
        &self,
        pinned: Option<Shape>,
        run: Option<&RunArgs>,
        ctx: &FlagContext<'_>,
    ) -> Result<Selection, Error> {
        fn select<S: Member>(
            m: &ArgMatches,
            pinned: Option<Shape>,
            run: Option<&ArgMatches>,
            ctx: &FlagContext<'_>,
        ) -> Result<Selection, Error> {
            let key = S::key_opts(m)?;
            let (shape, checked) = match pinned {
                Some(p) => (S::of(p.get()).expect("the pinned shape's backend"), p),
                None => {
                    let s = S::shape_from(m, &key, ctx)?;
                    (s, Shape::new(s.any()).map_err(crate::backend::flag::usage)?)
                }
            };
            let run = match run {
                Some(r) => Own::of(S::run_opts(r, &shape, ctx)?),
                None => Own::none(),
            };
            Ok(Selection {
                shape: checked,
                key: Own::of(key),
                run,
            })
        }
        if pinned.is_some() {
            if let Some(f) = self.shape_flags_given().first() {
                return Err(Error::Usage(format!(
                    "--{f}: the key file pins the shape; give one or the other"
                )));
            }
        }
        let b = pinned
            .map(|p| p.backend())
            .unwrap_or_else(|| self.backend());
        let mut own: Vec<String> = shape_and_key_flags(b)
            .iter()
            .map(|a| a.get_id().to_string())
            .collect();
        own.extend(run_flags(b).iter().map(|a| a.get_id().to_string()));
        let mut foreign = given(&self.0, &flags_of(shape_and_key_flags));
        if let Some(r) = run {
            foreign.extend(given(&r.0, &flags_of(run_flags)));
        }
        if let Some((_, long)) = foreign.iter().find(|(id, _)| !own.contains(id)) {
            return Err(Error::Usage(format!(
                "--{long}: does not apply to the {b} backend"
            )));
        }
        let run = run.map(|r| &r.0);
        each_backend!(b, S => select::<S>(&self.0, pinned, run, ctx))
    }
    /// Whether `shape` is the one `prove --backend <its backend>` picks without shape flags,
    /// given these key flags and `ctx` (halo2's domain follows the trace's op count or the
    /// parameter file): what an unpinned `verify` builds keys for without `--allow-any-shape`.
    pub fn is_default(&self, shape: Shape, ctx: &FlagContext<'_>) -> Result<bool, Error> {
        fn is_default<S: Member>(
            m: &ArgMatches,
            shape: Shape,
            ctx: &FlagContext<'_>,
        ) -> Result<bool, Error> {
            let key = S::key_opts(m)?;
            Ok(S::shape_from(m, &key, ctx)?.any() == *shape.get())
        }
        each_backend!(shape.backend(), S => is_default::<S>(&self.0, shape, ctx))
    }
    /// Refuse key options a key file cannot pin (`setup`).
    pub fn check_pinnable(&self, s: &Selection) -> Result<(), Error> {
        fn check<S: Member>(key: &Own) -> Result<(), Error> {
            S::check_pinnable(&key.get::<S::KeyOpts>())
        }
        each_backend!(s.shape.backend(), S => check::<S>(&s.key))
    }
}
