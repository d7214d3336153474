//! The `foldmem` command-line tool: check, prove and verify memory traces; run the demo.

use clap::{Args, Parser, Subcommand};
use foldmem::demo;
use foldmem::merkle::TreeParams;
use foldmem::pipeline::{self, JobError, Keys};
use foldmem::proof::{Backend, ProofFile, Shape};
use foldmem::step::StepParams;
use foldmem::supernova::SnShape;
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
        /// Trace file (JSON Lines).
        trace: PathBuf,
        /// Output proof file.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Word size in bits (32, 64 or 256).
        #[arg(long, default_value_t = 64, value_parser = word_bits)]
        word_bits: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Verify a proof file (optionally against the trace it claims to cover).
    Verify {
        /// Proof file.
        proof: PathBuf,
        /// Also check that the proof covers exactly this trace.
        #[arg(long)]
        trace: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
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
        common: Common,
    },
}

#[derive(Args, Clone, Copy)]
struct ShapeArgs {
    /// Proving backend.
    #[arg(long, value_enum, default_value_t = Backend::Nova)]
    backend: Backend,
    /// Memory ops folded per step [default: 4 for nova, 128 for nova-offline].
    #[arg(long)]
    ops_per_step: Option<usize>,
    /// Address width in bits (memory of 2^N words), 1..=64 (nova backend).
    #[arg(long, default_value_t = 64)]
    addr_bits: u32,
    /// Merkle tree arity: 2, 4, 8 or 16 (nova, supernova backends).
    #[arg(long, default_value_t = 8)]
    arity: usize,
    /// Word address of the stack's first slot (supernova backend; default: the demo machine's).
    #[arg(long, default_value_t = demo::STACK_BASE, value_parser = parse_u64)]
    stack_base: u64,
    /// The stack holds at most 2^N words (supernova backend).
    #[arg(long, default_value_t = 8)]
    stack_log_depth: u32,
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
    /// The shape; `n_ops` sizes the Halo2 domain (other backends ignore it).
    fn shape(&self, n_ops: usize) -> Result<Shape, JobError> {
        let k = self.ops_per_step.unwrap_or(match self.backend {
            Backend::Nova => 4,
            Backend::NovaOffline => 128,
            Backend::Supernova | Backend::Halo2 => 1,
        });
        if k == 0 || k > 4096 {
            return Err(JobError::Usage(format!(
                "--ops-per-step must be in 1..=4096, got {k}"
            )));
        }
        Ok(match self.backend {
            Backend::Nova => {
                let tree = TreeParams::new(self.addr_bits, self.arity)
                    .map_err(|e| JobError::Usage(e.to_string()))?;
                Shape::Merkle(StepParams {
                    tree,
                    ops_per_step: k,
                })
            }
            Backend::NovaOffline => Shape::Offline { ops_per_step: k },
            Backend::Halo2 => Shape::Halo2 {
                k: foldmem::halo2_compat::domain_k(n_ops),
            },
            Backend::Supernova => {
                if k != 1 {
                    return Err(JobError::Usage(
                        "the supernova backend folds one op per step (--ops-per-step 1)".into(),
                    ));
                }
                if self.stack_log_depth > 64 {
                    return Err(JobError::Usage(format!(
                        "--stack-log-depth must be at most 64, got {}",
                        self.stack_log_depth
                    )));
                }
                let tree = TreeParams::new(self.addr_bits, self.arity)
                    .map_err(|e| JobError::Usage(e.to_string()))?;
                Shape::SuperNova(SnShape {
                    tree,
                    stack_base: self.stack_base,
                    stack_log_depth: self.stack_log_depth,
                })
            }
        })
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

    fn keys(&self, shape: Shape) -> Result<Keys, JobError> {
        let pb = if self.show_progress() {
            let pb = ProgressBar::new_spinner().with_message("setting up parameters");
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            ProgressBar::hidden()
        };
        let k = pipeline::keys(shape, self.cache().as_deref());
        pb.finish_and_clear();
        k
    }
}

fn kv(key: &str, value: impl std::fmt::Display) {
    println!("{key}: {value}");
}

fn trace_reader(
    path: &Path,
    word_bits: u32,
) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, JobError> {
    TraceReader::open(path, word_bits).map_err(JobError::from)
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
    common: &Common,
) -> Result<ProofFile, JobError> {
    let pb = if common.show_progress() {
        let pb = total
            .map(ProgressBar::new)
            .unwrap_or_else(ProgressBar::new_spinner);
        pb.set_style(
            ProgressStyle::with_template("folding {bar:30} {pos}/{len} ops  {per_sec}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let (file, r) = pipeline::prove_stream(keys, word_bits, ops, |n| pb.set_position(n))?;
    pb.finish_and_clear();
    kv("backend", file.header.backend);
    kv("ops", r.ops);
    kv("steps", r.steps);
    kv("ops_per_step", keys.shape.ops_per_step());
    match keys.shape {
        Shape::Merkle(s) => {
            kv("addr_bits", s.tree.addr_bits);
            kv("arity", s.tree.arity);
        }
        Shape::SuperNova(s) => {
            kv("addr_bits", s.tree.addr_bits);
            kv("arity", s.tree.arity);
            let [r, w, pu, po] = foldmem::supernova::opcode_constraints(s);
            kv(
                "opcode_constraints",
                format!("read={r} write={w} push={pu} pop={po}"),
            );
        }
        Shape::Offline { .. } => {}
        Shape::Halo2 { k } => kv("rows", format!("2^{k}")),
    }
    if !matches!(keys.shape, Shape::Halo2 { .. }) {
        kv(
            "constraints_per_op",
            format!("{:.0}", keys.constraints_per_op()),
        );
    }
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("params_cached", keys.cached);
    kv("fold_s", format!("{:.2}", r.fold_s));
    kv(
        "fold_ops_per_s",
        format!("{:.2}", r.ops as f64 / r.fold_s.max(1e-9)),
    );
    kv("compress_s", format!("{:.2}", r.compress_s));
    kv("proof_bytes", r.proof_bytes);
    for (k, v) in file.output_lines().into_iter().filter(|(k, _)| k != "ops") {
        kv(&k, v);
    }
    Ok(file)
}

fn read_proof(path: &Path) -> Result<ProofFile, JobError> {
    let bytes =
        std::fs::read(path).map_err(|e| JobError::Io(format!("{}: {e}", path.display())))?;
    ProofFile::from_bytes(&bytes)
        .map_err(|e| JobError::ProofFile(format!("{}: {e}", path.display())))
}

fn verify_and_report(
    proof: &ProofFile,
    trace: Option<&Path>,
    common: &Common,
) -> Result<(), JobError> {
    let keys = common.keys(proof.header.shape)?;
    let t = Instant::now();
    match trace {
        Some(p) => pipeline::verify_proof(&keys, proof, Some(trace_reader(p, proof.word_bits())?))
            .map_err(|e| with_path(p, e))?,
        None => pipeline::verify_proof(&keys, proof, None::<Vec<_>>)?,
    }
    kv("valid", true);
    kv("backend", proof.header.backend);
    for (k, v) in proof.output_lines() {
        kv(&k, v);
    }
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("verify_s", format!("{:.3}", t.elapsed().as_secs_f64()));
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
            word_bits,
            common,
        } => {
            // count ops for the progress bar (when shown) and to size the Halo2 domain
            let total = (common.show_progress() || shape.backend == Backend::Halo2)
                .then(|| std::fs::read_to_string(&trace).ok())
                .flatten()
                .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count() as u64);
            let shape = shape.shape(total.unwrap_or(0) as usize)?;
            let reader = trace_reader(&trace, word_bits)?;
            let keys = common.keys(shape)?;
            let file = prove_and_report(&keys, word_bits, reader, total, &common)
                .map_err(|e| with_path(&trace, e))?;
            std::fs::write(&output, file.to_bytes())
                .map_err(|e| JobError::Io(format!("{}: {e}", output.display())))?;
            kv("proof", output.display());
            Ok(())
        }
        Cmd::Bench { quick, out, svg } => {
            let settings = if quick {
                foldmem::bench::Settings::QUICK
            } else {
                foldmem::bench::Settings::FULL
            };
            let t = Instant::now();
            let rows = foldmem::bench::run(settings, |r| {
                eprintln!(
                    "{}: {:.2} ops/s, {:.0} constraints/op",
                    r.name, r.fold_ops_per_s, r.constraints_per_op
                )
            })?;
            let io = |p: &Path, e: std::io::Error| JobError::Io(format!("{}: {e}", p.display()));
            let json = serde_json::json!({
                "date": std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()),
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                "quick": quick,
                "rows": rows,
            });
            std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json"))
                .map_err(|e| io(&out, e))?;
            std::fs::write(&svg, foldmem::bench::svg(&rows)).map_err(|e| io(&svg, e))?;
            print!("{}", foldmem::bench::markdown(&rows));
            kv("bench_s", format!("{:.1}", t.elapsed().as_secs_f64()));
            kv("json", out.display());
            kv("svg", svg.display());
            Ok(())
        }
        Cmd::Verify {
            proof,
            trace,
            common,
        } => verify_and_report(&read_proof(&proof)?, trace.as_deref(), &common),
        Cmd::Demo {
            words,
            ops,
            emit_trace,
            shape,
            common,
        } => {
            let m = demo::insertion_sort(words, 0x5eed)
                .map_err(|e| JobError::Internal(e.to_string()))?;
            let mut all = m.ops();
            if let Some(n) = ops {
                all.truncate(n);
            }
            let shape = shape.shape(all.len())?;
            if let Some(p) = &emit_trace {
                let io = |e: std::io::Error| JobError::Io(format!("{}: {e}", p.display()));
                let f = std::fs::File::create(p).map_err(io)?;
                trace::write_jsonl(std::io::BufWriter::new(f), &all).map_err(io)?;
            }
            kv(
                "program",
                format!("insertion sort of {words} words (memory, registers, stack)"),
            );
            let keys = common.keys(shape)?;
            let stream = || trace::numbered(&all);
            let file = prove_and_report(&keys, 64, stream(), Some(all.len() as u64), &common)?;
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
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
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
