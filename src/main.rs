//! The `foldmem` command-line tool: check, prove and verify memory traces, pin keys, run the
//! demo and the benchmarks.

use clap::{Args, Parser, Subcommand};
use foldmem::backend::{KeyDigests, Lines, ProveOptions, RangeSpec, ShapeFlags, TraceItem};
use foldmem::demo;
use foldmem::halo2_compat::Halo2Params;
use foldmem::pipeline::{self, JobError, KeyOptions, Keys, Pin};
use foldmem::proof::{Backend, KeyFile, ProofFile, Shape};
use foldmem::trace::{self, TraceError, TraceReader};
use foldmem::Op;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Memory-consistency proofs for zkVM traces with folding schemes.
#[derive(Parser)]
#[command(name = "foldmem", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check a JSONL trace natively and print its statistics.
    Check {
        /// Trace file (JSON Lines).
        trace: PathBuf,
        /// Word size in bits (32, 64 or 256).
        #[arg(long, default_value_t = 64, value_parser = word_bits)]
        word_bits: u32,
    },
    /// Prove a JSONL trace and write a compressed proof file.
    Prove {
        /// Trace file (JSON Lines), or `-` for standard input (a zkVM pipes its trace while it
        /// runs; the stream backend folds each segment as soon as it is complete).
        trace: PathBuf,
        /// Output proof file.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        shape: ShapeArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Word size in bits (32, 64 or 256) [default: 64].
        #[arg(long, value_parser = word_bits)]
        word_bits: Option<u32>,
        /// Prove for the shape pinned in this key file (from `foldmem setup`) instead of shape
        /// flags; cached keys are used only if they match it.
        #[arg(long, conflicts_with_all = SHAPE_FLAGS)]
        vk: Option<PathBuf>,
        #[command(flatten)]
        halo2: Halo2Args,
        #[command(flatten)]
        common: Common,
    },
    /// Verify a proof file and print the statement it proves. Pin what you accept with `--vk`
    /// (or the shape flags): otherwise the statement is whatever valid shape the proof names.
    /// Several files are the continuation proofs of one trace's ranges, in order (stream).
    Verify {
        /// Proof file(s).
        #[arg(required = true)]
        proofs: Vec<PathBuf>,
        /// Also check that the proof covers exactly this trace.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Accept only proofs for the shape, word size and keys pinned in this key file (from
        /// `foldmem setup`): any other proof is a parameter mismatch (exit 7).
        #[arg(long, conflicts_with_all = SHAPE_FLAGS)]
        vk: Option<PathBuf>,
        /// Accept only proofs for exactly the shape these flags give `prove` (unset flags take
        /// `prove`'s defaults).
        #[command(flatten)]
        shape: ShapeArgs,
        /// Accept only proofs over this word size.
        #[arg(long, value_parser = word_bits, conflicts_with = "vk")]
        word_bits: Option<u32>,
        #[command(flatten)]
        halo2: Halo2Args,
        #[command(flatten)]
        common: Common,
    },
    /// Generate (and cache) the keys of a shape and write a key file that pins them: give it to
    /// `verify --vk` so it accepts proofs of this shape, word size and keys only.
    Setup {
        /// Output key file.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Word size the pinned statement is about [default: 64].
        #[arg(long, value_parser = word_bits)]
        word_bits: Option<u32>,
        #[command(flatten)]
        halo2: Halo2Args,
        #[command(flatten)]
        common: Common,
    },
    /// Plan continuations (stream backend): one native pass over the trace (consistency, hash
    /// chain, op count; no folding) prints each range's start state. Prove range I with
    /// `prove --range I/R` (any machine, any order), verify all parts with one `verify`.
    Plan {
        /// Trace file (JSON Lines).
        trace: PathBuf,
        /// Number of ranges.
        #[arg(long)]
        ranges: usize,
        /// Ops per segment (ranges are whole segments) [default: 65536 rounded up to whole op steps].
        #[arg(long)]
        segment_ops: Option<usize>,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Word size in bits (32, 64 or 256) [default: 64].
        #[arg(long, value_parser = word_bits)]
        word_bits: Option<u32>,
    },
    /// Benchmark every backend on the same traces; print a markdown table, write JSON and SVG.
    Bench {
        /// Smaller traces (a few minutes on 2 cores).
        #[arg(long)]
        quick: bool,
        /// JSON output file.
        #[arg(long, default_value = "bench.json")]
        out: PathBuf,
        /// SVG plot of per-op time against memory size.
        #[arg(long, default_value = "bench.svg")]
        svg: PathBuf,
    },
    /// One benchmark row in its own process (used by `bench` to measure peak memory per row).
    #[command(hide = true)]
    BenchRow {
        /// `stream` or `nova-offline`.
        backend: String,
        /// Ops of the real-program-shaped trace.
        ops: usize,
    },
    /// Run the built-in program, prove its memory trace, verify, and print a summary.
    Demo {
        /// Number of words the built-in insertion sort sorts.
        #[arg(long, default_value_t = 12)]
        words: usize,
        /// Prove only the first N ops of the trace.
        #[arg(long)]
        ops: Option<usize>,
        /// Write the trace (JSONL, as `prove` accepts) to this file.
        #[arg(long)]
        emit_trace: Option<PathBuf>,
        #[command(flatten)]
        shape: ShapeArgs,
        #[command(flatten)]
        halo2: Halo2Args,
        #[command(flatten)]
        common: Common,
    },
}

/// The shape flags (their names, for `conflicts_with_all`).
const SHAPE_FLAGS: [&str; 8] = [
    "backend",
    "ops_per_step",
    "addr_bits",
    "arity",
    "stack_base",
    "stack_log_depth",
    "boundary_slots",
    "time_bits",
];

/// How the stream backend runs: segment size, checkpoints, resumption, one range of a trace.
#[derive(Args, Clone, Default)]
struct RunArgs {
    /// Ops per segment, a multiple of --ops-per-step (stream) [default: 65536 rounded up to whole op steps]: the prover
    /// buffers one segment; larger segments amortize boundary slots over more ops.
    #[arg(long)]
    segment_ops: Option<usize>,
    /// Write a checkpoint into DIR after every segment (stream; atomic: temp file + rename).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint in DIR after a crash (stream): give the same trace and
    /// options; the trace is read from its start and its proven prefix must match.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Prove range I of R (stream continuations, `foldmem plan` shows them): ranges are whole
    /// segments; only the last runs the audit.
    #[arg(long, value_parser = parse_range)]
    range: Option<(usize, usize)>,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (i, r) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/R, got {s}"))?;
    let i: usize = i.parse().map_err(|_| format!("bad range index in {s}"))?;
    let r: usize = r.parse().map_err(|_| format!("bad range count in {s}"))?;
    if r == 0 || i >= r {
        return Err(format!("range {s}: need 0 <= I < R"));
    }
    Ok((i, r))
}

#[derive(Args, Clone, Copy, Default)]
struct ShapeArgs {
    /// Proving backend [default: nova].
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Memory ops folded per step [default: 4 for nova, 128 for nova-offline, 352 for stream].
    #[arg(long)]
    ops_per_step: Option<usize>,
    /// Address width in bits (memory of 2^N words), 1..=64 (nova, supernova) [default: 64].
    #[arg(long)]
    addr_bits: Option<u32>,
    /// Merkle tree arity: 2, 4, 8 or 16 (nova, supernova) [default: 8].
    #[arg(long)]
    arity: Option<usize>,
    /// Word address of the stack's first slot (supernova) [default: the demo machine's].
    #[arg(long, value_parser = parse_u64)]
    stack_base: Option<u64>,
    /// The stack holds at most 2^N words, N ≤ 63 (supernova) [default: 8].
    #[arg(long)]
    stack_log_depth: Option<u32>,
    /// Boundary and audit slots per step (stream) [default: 24].
    #[arg(long)]
    boundary_slots: Option<usize>,
    /// Time range-check width: traces of up to 2^N ops (stream) [default: 32].
    #[arg(long)]
    time_bits: Option<u32>,
}

/// The Halo2 backend's KZG parameters: always an explicit choice.
#[derive(Args, Clone, Default)]
struct Halo2Args {
    /// KZG parameters from a ceremony, in halo2's raw format (halo2 backend).
    #[arg(long, conflicts_with = "insecure_dev_params")]
    params: Option<PathBuf>,
    /// Use deterministic test KZG parameters whose trapdoor is public (halo2 backend): anyone
    /// can forge such proofs. For tests and benchmarks only.
    #[arg(long)]
    insecure_dev_params: bool,
}

impl Halo2Args {
    fn params(&self) -> Result<Option<Halo2Params>, JobError> {
        match (&self.params, self.insecure_dev_params) {
            (Some(p), _) => Halo2Params::read(p).map(Some),
            (None, true) => Ok(Some(Halo2Params::InsecureDev)),
            (None, false) => Ok(None),
        }
    }
}

fn parse_u64(s: &str) -> Result<u64, String> {
    foldmem::Word::parse(s)?
        .to_u64()
        .ok_or_else(|| format!("{s} does not fit in 64 bits"))
}

#[derive(Args, Clone)]
struct Common {
    /// Parameter cache directory (default: $FOLDMEM_CACHE or the platform cache dir).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the parameter cache.
    #[arg(long)]
    no_cache: bool,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
}

fn word_bits(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(b) if trace::WORD_BITS.contains(&b) => Ok(b),
        _ => Err(format!("word size must be 32, 64 or 256, got {s}")),
    }
}

impl ShapeArgs {
    /// True if any shape flag was given.
    fn any(&self) -> bool {
        self.backend.is_some()
            || self.ops_per_step.is_some()
            || self.addr_bits.is_some()
            || self.arity.is_some()
            || self.stack_base.is_some()
            || self.stack_log_depth.is_some()
            || self.boundary_slots.is_some()
            || self.time_bits.is_some()
    }

    /// The shape `prove` uses for these flags (validated). The Halo2 domain is the parameter
    /// file's, or (dev parameters) the smallest that holds `n_ops`.
    fn shape(&self, n_ops: usize, halo2: Option<&Halo2Params>) -> Result<Shape, JobError> {
        let backend = self.backend.unwrap_or(Backend::Nova);
        let flags = ShapeFlags {
            ops_per_step: self.ops_per_step,
            addr_bits: self.addr_bits,
            arity: self.arity,
            stack_base: self.stack_base,
            stack_log_depth: self.stack_log_depth,
            boundary_slots: self.boundary_slots,
            time_bits: self.time_bits,
            rows_log2: (backend == Backend::Halo2).then(|| match halo2 {
                Some(Halo2Params::File { params, .. }) => foldmem::halo2_compat::params_k(params),
                _ => foldmem::halo2_compat::domain_k(n_ops),
            }),
        };
        backend
            .shape(&flags)
            .map_err(|e| JobError::Usage(format!("--{}: {}", e.field.replace('_', "-"), e.msg)))
    }
}

impl Common {
    fn cache(&self) -> Option<PathBuf> {
        if self.no_cache {
            None
        } else {
            self.cache_dir.clone().or_else(pipeline::default_cache_dir)
        }
    }

    fn show_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    fn keys(
        &self,
        shape: Shape,
        pinned: Option<KeyDigests>,
        halo2: Option<Halo2Params>,
    ) -> Result<Keys, JobError> {
        let pb = if self.show_progress() {
            let pb = ProgressBar::new_spinner().with_message("setting up parameters");
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            ProgressBar::hidden()
        };
        let opts = KeyOptions {
            cache_dir: self.cache(),
            pinned,
            halo2,
        };
        let k = pipeline::keys(shape, &opts);
        pb.finish_and_clear();
        k
    }
}

fn kv(key: &str, value: impl std::fmt::Display) {
    println!("{key}: {value}");
}

fn lines(ls: Lines) {
    for (k, v) in ls {
        kv(k, v);
    }
}

fn trace_reader(
    path: &Path,
    word_bits: u32,
) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, JobError> {
    TraceReader::open(path, word_bits).map_err(JobError::from)
}

/// A trace file, or standard input for `-`.
fn open_trace(
    path: &Path,
    word_bits: u32,
) -> Result<Box<dyn Iterator<Item = TraceItem>>, JobError> {
    if path == Path::new("-") {
        Ok(Box::new(TraceReader::new(
            std::io::stdin().lock(),
            word_bits,
        )))
    } else {
        Ok(Box::new(trace_reader(path, word_bits)?))
    }
}

/// Prefix input errors with the file they came from.
fn with_path(path: &Path, e: JobError) -> JobError {
    match e {
        JobError::Input(m) => JobError::Input(format!("{}: {m}", path.display())),
        JobError::Inconsistent(m) => JobError::Inconsistent(format!("{}: {m}", path.display())),
        other => other,
    }
}

fn prove_and_report(
    keys: &Keys,
    word_bits: u32,
    ops: impl IntoIterator<Item = Result<(usize, Op), TraceError>>,
    total: Option<u64>,
    opts: &ProveOptions,
    common: &Common,
) -> Result<ProofFile, JobError> {
    let pb = if common.show_progress() {
        let pb = total
            .map(ProgressBar::new)
            .unwrap_or_else(ProgressBar::new_spinner);
        pb.set_style(
            ProgressStyle::with_template(
                "folding {bar:30} {pos}/{len} ops  {msg}  {per_sec}  eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let (file, r) = pipeline::prove_with(keys, word_bits, ops, opts, |p| {
        pb.set_position(p.ops);
        if p.segments > 0 {
            pb.set_message(format!("{} segments", p.segments));
        }
    })?;
    pb.finish_and_clear();
    // the first step (arecibo's `RecursiveSNARK::new`) folds nothing: not reported
    for (kind, t) in foldmem::profile::take()
        .into_iter()
        .filter(|(k, _)| *k != "first")
    {
        let [total, sec, wit, prim, sec2] = t.per_step_ms();
        if sec + wit + prim + sec2 == 0.0 {
            // Nova's prove_step opens none of the spans the split reads (only SuperNova's does)
            tracing::info!("{kind} steps: {} × {total:.1} ms", t.steps);
            continue;
        }
        tracing::info!(
            "{kind} steps: {} × {total:.1} ms = secondary fold {sec:.1} + witness {wit:.1} + \
             primary fold {prim:.1} + secondary circuit {sec2:.1} (+ rest)",
            t.steps
        );
    }
    lines(keys.shape().statement());
    kv("word_bits", word_bits);
    kv("ops", r.ops);
    kv("steps", r.steps);
    lines(keys.system().circuit_lines());
    if let Some(c) = keys.system().constraints_per_op() {
        kv("constraints_per_op", format!("{c:.0}"));
    }
    if let Some(c) = keys.system().effective_constraints_per_op() {
        kv("effective_constraints_per_op", format!("{c:.0}"));
    }
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("params_cached", keys.cached());
    kv("fold_s", format!("{:.2}", r.fold_s));
    kv(
        "fold_ops_per_s",
        format!("{:.2}", r.ops as f64 / r.fold_s.max(1e-9)),
    );
    kv("compress_s", format!("{:.2}", r.compress_s));
    kv("proof_bytes", r.proof_bytes);
    for (k, v) in file.claim().statement() {
        if k != "ops" {
            kv(k, v);
        }
    }
    lines(keys.trust_lines());
    Ok(file)
}

fn read_proof(path: &Path) -> Result<ProofFile, JobError> {
    let bytes =
        std::fs::read(path).map_err(|e| JobError::Io(format!("{}: {e}", path.display())))?;
    ProofFile::from_bytes(&bytes)
        .map_err(|e| JobError::ProofFile(format!("{}: {e}", path.display())))
}

/// A key file and what it pins.
fn read_key_file(path: &Path) -> Result<(KeyFile, Pin), JobError> {
    let bytes =
        std::fs::read(path).map_err(|e| JobError::Io(format!("{}: {e}", path.display())))?;
    let usage =
        |e: foldmem::proof::KeyFileError| JobError::Usage(format!("{}: {e}", path.display()));
    let f = KeyFile::from_bytes(&bytes).map_err(usage)?;
    let pin = f.pin().map_err(usage)?;
    Ok((f, pin))
}

/// Number of ops (non-empty lines) in a regular trace file, for progress, the Halo2 domain and
/// `--range`, read a line at a time. `None` for a pipe, a device or `/dev/fd/N` (reading it here
/// would drain what the prover or verifier reads next, which would then see no ops) and for an
/// unreadable or non-UTF-8 file. The file offset is restored: where opening `/dev/stdin` of a
/// redirected file duplicates the descriptor (macOS, BSD), the offset is shared with the reader
/// that comes next.
fn count_ops(path: &Path) -> Option<u64> {
    use std::io::{BufRead, Seek, SeekFrom};
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let at = (&f).stream_position().ok()?;
    let n = std::io::BufReader::new(&f).lines().try_fold(0u64, |n, l| {
        l.ok().map(|l| n + u64::from(!l.trim().is_empty()))
    });
    (&f).seek(SeekFrom::Start(at)).ok()?;
    n
}

#[allow(clippy::too_many_arguments)]
fn verify_and_report(
    proof_paths: &[PathBuf],
    trace: Option<&Path>,
    vk: Option<&Path>,
    shape_args: &ShapeArgs,
    word_bits_pin: Option<u32>,
    halo2: &Halo2Args,
    common: &Common,
) -> Result<(), JobError> {
    let all: Vec<ProofFile> = proof_paths
        .iter()
        .map(|p| read_proof(p))
        .collect::<Result<_, _>>()?;
    let proof = all.last().expect("clap requires a proof").clone();
    let halo2 = halo2.params()?;
    // what the verifier accepts, decided before the proof's own header is used for anything
    let (pin, pinned_by) = match vk {
        Some(p) => (
            Some(read_key_file(p)?.1),
            format!("key file {}", p.display()),
        ),
        None if shape_args.any() || word_bits_pin.is_some() => {
            // only Halo2's domain depends on the op count
            let n = match shape_args.backend {
                Some(Backend::Halo2) => trace.and_then(count_ops).unwrap_or(0) as usize,
                _ => 0,
            };
            let shape = shape_args.shape(n, halo2.as_ref())?;
            let pin = Pin {
                shape,
                word_bits: word_bits_pin,
                digests: None,
            };
            (Some(pin), "shape flags".to_string())
        }
        None => (
            None,
            "nothing (the statement is the proof's own, validated shape)".into(),
        ),
    };
    if let Some(pin) = &pin {
        for (p, path) in all.iter().zip(proof_paths) {
            pipeline::check_pin(p, pin).map_err(|e| match e {
                JobError::Mismatch(m) => JobError::Mismatch(format!("{}: {m}", path.display())),
                other => other,
            })?;
        }
    }
    // every part names the same statement shape (checked against the keys below)
    let shape = pin.map(|p| p.shape).unwrap_or(all[0].header.shape);
    let keys = common.keys(shape, pin.and_then(|p| p.digests), halo2)?;
    let t = Instant::now();
    let reader = match trace {
        Some(p) => Some(trace_reader(p, proof.word_bits())?),
        None => None,
    };
    let r = if all.len() == 1 {
        pipeline::verify_proof(&keys, &proof, reader)
    } else {
        pipeline::verify_parts(&keys, &all, reader)
    };
    if let Some(p) = trace {
        r.map_err(|e| with_path(p, e))?;
    } else {
        r?;
    }
    let verify_s = t.elapsed().as_secs_f64();
    kv("valid", true);
    if all.len() > 1 {
        // the parts together state the whole trace, from the seed at time 0 (checked above)
        kv("parts", all.len());
        let mut whole = proof.clone();
        if let foldmem::proof::Body::Stream { outputs, .. } = &mut whole.body {
            outputs.start_time = 0;
            outputs.start_hash = foldmem::step::witness::trace_hash_seed(outputs.word_bits);
        }
        lines(whole.statement());
    } else {
        lines(proof.statement());
    }
    kv(
        "trace",
        match trace {
            Some(p) => format!("checked against {}", p.display()),
            None => "not given (the statement names the trace by its hash)".into(),
        },
    );
    kv("pinned", pinned_by);
    lines(keys.trust_lines());
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("verify_s", format!("{verify_s:.3}"));
    Ok(())
}

fn run(cli: Cli) -> Result<(), JobError> {
    match cli.cmd {
        Cmd::Check { trace, word_bits } => {
            let t = Instant::now();
            let stats = trace::check_stream(trace_reader(&trace, word_bits)?)
                .map_err(|e| with_path(&trace, e.into()))?;
            kv("consistent", true);
            kv("ops", stats.ops);
            kv("reads", stats.reads);
            kv("writes", stats.writes);
            kv("distinct_addrs", stats.distinct_addrs);
            kv("check_s", format!("{:.3}", t.elapsed().as_secs_f64()));
            Ok(())
        }
        Cmd::Prove {
            trace,
            output,
            shape,
            run,
            word_bits,
            vk,
            halo2,
            common,
        } => {
            let halo2 = halo2.params()?;
            let stdin = trace == Path::new("-");
            // count ops for the progress bar (when shown), to size the Halo2 domain and to split
            // a trace into ranges
            let total = (!stdin
                && (common.show_progress()
                    || shape.backend == Some(Backend::Halo2)
                    || run.range.is_some()))
            .then(|| count_ops(&trace))
            .flatten();
            let (shape, pinned, word_bits) = match vk {
                Some(p) => {
                    let (f, pin) = read_key_file(&p)?;
                    if word_bits.is_some_and(|w| w != f.word_bits) {
                        return Err(JobError::Usage(format!(
                            "--word-bits differs from the {} pinned in {}",
                            f.word_bits,
                            p.display()
                        )));
                    }
                    (pin.shape, pin.digests, f.word_bits)
                }
                None => (
                    shape.shape(total.unwrap_or(0) as usize, halo2.as_ref())?,
                    None,
                    word_bits.unwrap_or(64),
                ),
            };
            let range =
                match run.range {
                    Some(_) if stdin => return Err(JobError::Usage(
                        "--range needs a trace file (the prover replays the ops before its range)"
                            .into(),
                    )),
                    Some((index, count)) => Some(RangeSpec {
                        index,
                        count,
                        total_ops: total.ok_or_else(|| {
                            JobError::Usage(format!(
                                "--range needs a regular, readable UTF-8 trace file to count its \
                                 ops and split them: {}",
                                trace.display()
                            ))
                        })?,
                    }),
                    None => None,
                };
            if let Shape::Stream(s) = shape {
                // a bad segment length is a usage error before any key setup
                foldmem::stream::StreamProver::segment_len(s.ops_per_step, run.segment_ops)?;
            }
            let opts = ProveOptions {
                segment_ops: run.segment_ops,
                checkpoint: run.checkpoint,
                resume: run.resume,
                range,
                ..ProveOptions::default()
            };
            let reader = open_trace(&trace, word_bits)?;
            let keys = common.keys(shape, pinned, halo2)?;
            let file = prove_and_report(&keys, word_bits, reader, total, &opts, &common)
                .map_err(|e| with_path(&trace, e))?;
            std::fs::write(&output, file.to_bytes())
                .map_err(|e| JobError::Io(format!("{}: {e}", output.display())))?;
            kv("proof", output.display());
            Ok(())
        }
        Cmd::Plan {
            trace,
            ranges,
            segment_ops,
            shape,
            word_bits,
        } => {
            let word_bits = word_bits.unwrap_or(64);
            let shape = match shape.shape(0, None)? {
                Shape::Stream(s) => s,
                other => {
                    return Err(JobError::Usage(format!(
                        "plan splits traces for the stream backend, not {} (--backend stream)",
                        other.backend()
                    )))
                }
            };
            let t = Instant::now();
            let (n, plans) = foldmem::stream::plan(
                shape,
                word_bits,
                &mut trace_reader(&trace, word_bits)?,
                segment_ops,
                ranges,
            )
            .map_err(|e| with_path(&trace, e))?;
            kv("ops", n);
            kv("ranges", plans.len());
            for p in &plans {
                kv(
                    &format!("range {}/{}", p.index, plans.len()),
                    format!(
                        "ops {}..{} start_time {} start_hash {}",
                        p.start_time + 1,
                        p.start_time + p.ops,
                        p.start_time,
                        foldmem::proof::f_hex(&p.start_hash)
                    ),
                );
            }
            kv("plan_s", format!("{:.3}", t.elapsed().as_secs_f64()));
            Ok(())
        }
        Cmd::Setup {
            output,
            shape,
            word_bits,
            halo2,
            common,
        } => {
            let halo2 = halo2.params()?;
            if shape.backend == Some(Backend::Halo2)
                && !matches!(halo2, Some(Halo2Params::File { .. }))
            {
                return Err(JobError::Usage(
                    "a halo2 key file pins a ceremony's parameters: give --params FILE (insecure \
                     dev parameters have nothing worth pinning)"
                        .into(),
                ));
            }
            let shape = shape.shape(0, halo2.as_ref())?;
            let keys = common.keys(shape, None, halo2)?;
            let file = KeyFile::new(shape, word_bits.unwrap_or(64), keys.digests());
            std::fs::write(&output, file.to_bytes())
                .map_err(|e| JobError::Io(format!("{}: {e}", output.display())))?;
            lines(shape.statement());
            kv("word_bits", file.word_bits);
            lines(keys.trust_lines());
            kv("setup_s", format!("{:.2}", keys.setup_s));
            kv("key_file", output.display());
            Ok(())
        }
        Cmd::Bench { quick, out, svg } => {
            let settings = if quick {
                foldmem::bench::Settings::QUICK
            } else {
                foldmem::bench::Settings::FULL
            };
            let t = Instant::now();
            let exe = std::env::current_exe().ok();
            let report = foldmem::bench::run_all(settings, exe.as_deref(), |m| eprintln!("{m}"))?;
            let io = |p: &Path, e: std::io::Error| JobError::Io(format!("{}: {e}", p.display()));
            let json = serde_json::json!({
                "date": std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()),
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                "quick": quick,
                "rows": report.rows,
                "stream_breakdown": report.breakdown,
                "cost_model": report.cost_model,
                "real_trace": report.real,
                "halo2_real_ops_per_s": report.halo2_real_ops_per_s,
            });
            std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json"))
                .map_err(|e| io(&out, e))?;
            std::fs::write(&svg, foldmem::bench::svg(&report.rows)).map_err(|e| io(&svg, e))?;
            print!("{}", foldmem::bench::markdown(&report.rows));
            print!("{}", foldmem::bench::stream_markdown(&report));
            kv("bench_s", format!("{:.1}", t.elapsed().as_secs_f64()));
            kv("json", out.display());
            kv("svg", svg.display());
            Ok(())
        }
        Cmd::BenchRow { backend, ops } => {
            let r = foldmem::bench::stream::child_row(&backend, ops)?;
            println!("{}", serde_json::to_string(&r).expect("json"));
            Ok(())
        }
        Cmd::Verify {
            proofs,
            trace,
            vk,
            shape,
            word_bits,
            halo2,
            common,
        } => verify_and_report(
            &proofs,
            trace.as_deref(),
            vk.as_deref(),
            &shape,
            word_bits,
            &halo2,
            &common,
        ),
        Cmd::Demo {
            words,
            ops,
            emit_trace,
            shape,
            halo2,
            common,
        } => {
            let m = demo::insertion_sort(words, 0x5eed)
                .map_err(|e| JobError::Internal(e.to_string()))?;
            let mut all = m.ops();
            if let Some(n) = ops {
                all.truncate(n);
            }
            let halo2 = halo2.params()?;
            let shape = shape.shape(all.len(), halo2.as_ref())?;
            if let Some(p) = &emit_trace {
                let io = |e: std::io::Error| JobError::Io(format!("{}: {e}", p.display()));
                let f = std::fs::File::create(p).map_err(io)?;
                trace::write_jsonl(std::io::BufWriter::new(f), &all).map_err(io)?;
            }
            kv(
                "program",
                format!("insertion sort of {words} words (memory, registers, stack)"),
            );
            let keys = common.keys(shape, None, halo2)?;
            let stream = || trace::numbered(&all);
            let file = prove_and_report(
                &keys,
                64,
                stream(),
                Some(all.len() as u64),
                &ProveOptions::default(),
                &common,
            )?;
            let decoded = ProofFile::from_bytes(&file.to_bytes())?;
            let t = Instant::now();
            pipeline::verify_proof(&keys, &decoded, Some(stream()))?;
            kv("verify_s", format!("{:.3}", t.elapsed().as_secs_f64()));
            kv("valid", true);
            if let Some(p) = emit_trace {
                kv("trace", p.display());
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        // logs, plus the fold-step time breakdown `prove` logs at the end
        foldmem::profile::install(true);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // one line, like every other error; the full usage is one `--help` away
            let rendered = e.to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    // Every failure the code knows about is a typed `JobError`. The decoders also catch panics of
    // the libraries they call; this is the last resort for anything else: one line, exit 70,
    // instead of a backtrace (the panic message is kept for that line, not printed twice).
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{msg}{at}").replace('\n', " "));
        }
    }));
    let result = std::panic::catch_unwind(|| {
        if std::env::var_os("FOLDMEM_INJECT_PANIC").is_some() {
            // lets the CLI tests check this path; not a feature
            panic!("injected panic\nwith a second line");
        }
        run(cli)
    })
    .unwrap_or_else(|_| {
        let msg = LAST_PANIC.lock().ok().and_then(|mut p| p.take());
        Err(JobError::Internal(format!(
            "unexpected panic: {} (please report this)",
            msg.unwrap_or_default()
        )))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Message of the last panic on any thread (rayon workers included), for the internal-error line.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
