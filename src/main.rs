//! The `foldmem` command-line tool: check, prove and verify memory traces; run the demo.

use clap::{Args, Parser, Subcommand};
use foldmem::demo;
use foldmem::merkle::TreeParams;
use foldmem::pipeline::{self, JobError, Keys};
use foldmem::proof::{Backend, ProofFile};
use foldmem::step::StepParams;
use foldmem::trace::{self, TraceReader};
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
        shape: Shape,
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
        shape: Shape,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args, Clone, Copy)]
struct Shape {
    /// Proving backend.
    #[arg(long, value_enum, default_value_t = Backend::Nova)]
    backend: Backend,
    /// Memory ops folded per step.
    #[arg(long, default_value_t = 4)]
    ops_per_step: usize,
    /// Address width in bits (memory of 2^N words), 1..=64.
    #[arg(long, default_value_t = 64)]
    addr_bits: u32,
    /// Merkle tree arity (2, 4, 8 or 16).
    #[arg(long, default_value_t = 8)]
    arity: usize,
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

impl Shape {
    fn step(&self) -> Result<StepParams, JobError> {
        let tree = TreeParams::new(self.addr_bits, self.arity)
            .map_err(|e| JobError::Input(e.to_string()))?;
        if self.ops_per_step == 0 || self.ops_per_step > 1024 {
            return Err(JobError::Input(format!(
                "--ops-per-step must be in 1..=1024, got {}",
                self.ops_per_step
            )));
        }
        Ok(StepParams {
            tree,
            ops_per_step: self.ops_per_step,
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

    fn spinner(&self, msg: &'static str) -> ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner().with_message(msg);
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    }

    fn keys(&self, step: StepParams) -> Result<Keys, JobError> {
        let pb = self.spinner("setting up parameters");
        let cache = self.cache();
        let k = pipeline::keys(step, cache.as_deref());
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
    ops: impl IntoIterator<Item = Result<(usize, foldmem::Op), trace::TraceError>>,
    total: Option<u64>,
    common: &Common,
) -> Result<ProofFile, JobError> {
    let pb = if common.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = total
            .map(ProgressBar::new)
            .unwrap_or_else(ProgressBar::new_spinner);
        pb.set_style(
            ProgressStyle::with_template("folding {bar:30} {pos}/{len} ops  {per_sec}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    };
    let (file, r) = pipeline::prove_stream(keys, word_bits, ops, |n| pb.set_position(n))?;
    pb.finish_and_clear();
    kv("backend", file.header.backend);
    kv("ops", r.ops);
    kv("steps", r.steps);
    kv("ops_per_step", keys.step.ops_per_step);
    kv("addr_bits", keys.step.tree.addr_bits);
    kv("arity", keys.step.tree.arity);
    kv(
        "constraints_per_op",
        format!("{:.0}", keys.constraints_per_op()),
    );
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("params_cached", keys.cached);
    kv("fold_s", format!("{:.2}", r.fold_s));
    kv(
        "fold_ops_per_s",
        format!("{:.2}", r.ops as f64 / r.fold_s.max(1e-9)),
    );
    kv("compress_s", format!("{:.2}", r.compress_s));
    kv("proof_bytes", r.proof_bytes);
    for (k, v) in pipeline::outputs_lines(&file.outputs)
        .into_iter()
        .filter(|(k, _)| k != "ops")
    {
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
    let keys = common.keys(proof.header.step)?;
    let t = Instant::now();
    match trace {
        Some(p) => pipeline::verify_proof(
            &keys,
            proof,
            Some(trace_reader(p, proof.outputs.word_bits)?),
        )
        .map_err(|e| with_path(p, e))?,
        None => pipeline::verify_proof(&keys, proof, None::<Vec<_>>)?,
    }
    kv("valid", true);
    kv("backend", proof.header.backend);
    for (k, v) in pipeline::outputs_lines(&proof.outputs) {
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
            let step = shape.step()?;
            // count lines for the progress bar only when it is shown
            let total = (!common.quiet && std::io::stderr().is_terminal())
                .then(|| {
                    std::fs::read_to_string(&trace)
                        .ok()
                        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count() as u64)
                })
                .flatten();
            let reader = trace_reader(&trace, word_bits)?;
            let keys = common.keys(step)?;
            let file = prove_and_report(&keys, word_bits, reader, total, &common)
                .map_err(|e| with_path(&trace, e))?;
            std::fs::write(&output, file.to_bytes())
                .map_err(|e| JobError::Io(format!("{}: {e}", output.display())))?;
            kv("proof", output.display());
            Ok(())
        }
        Cmd::Verify {
            proof,
            trace,
            common,
        } => {
            let file = read_proof(&proof)?;
            verify_and_report(&file, trace.as_deref(), &common)
        }
        Cmd::Demo {
            words,
            ops,
            emit_trace,
            shape,
            common,
        } => {
            let step = shape.step()?;
            let m = demo::insertion_sort(words, 0x5eed)
                .map_err(|e| JobError::Internal(e.to_string()))?;
            let mut all = m.ops();
            if let Some(n) = ops {
                all.truncate(n);
            }
            if let Some(p) = &emit_trace {
                let f = std::fs::File::create(p)
                    .map_err(|e| JobError::Io(format!("{}: {e}", p.display())))?;
                trace::write_jsonl(std::io::BufWriter::new(f), &all)
                    .map_err(|e| JobError::Io(format!("{}: {e}", p.display())))?;
            }
            kv(
                "program",
                format!("insertion sort of {words} words (memory, registers, stack)"),
            );
            let keys = common.keys(step)?;
            let file = prove_and_report(
                &keys,
                64,
                all.iter().enumerate().map(|(i, op)| Ok((i + 1, *op))),
                Some(all.len() as u64),
                &common,
            )?;
            let bytes = file.to_bytes();
            let decoded = ProofFile::from_bytes(&bytes)?;
            let t = Instant::now();
            pipeline::verify_proof(
                &keys,
                &decoded,
                Some(all.iter().enumerate().map(|(i, op)| Ok((i + 1, *op)))),
            )?;
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
