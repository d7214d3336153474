//! The `foldmem` command-line tool: check, prove and verify memory traces, pin keys, plan
//! continuations, run the demo and the benchmarks. A thin dispatcher over [`cmd`].

mod cmd;

use clap::{Parser, Subcommand};
use foldmem::Error;
use std::process::ExitCode;

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
    Check(cmd::check::CheckArgs),
    /// Prove a JSONL trace and write a compressed proof file.
    Prove(cmd::prove::ProveArgs),
    /// Verify a proof file and print the statement it proves. Pin what you accept with `--vk`
    /// (or the shape flags): otherwise the statement is whatever valid shape the proof names.
    /// Several files are the continuation proofs of one trace's ranges, in order (stream).
    Verify(cmd::verify::VerifyArgs),
    /// Generate (and cache) the keys of a shape and write a key file that pins them: give it to
    /// `verify --vk` so it accepts proofs of this shape, word size and keys only.
    Setup(cmd::setup::SetupArgs),
    /// Plan continuations (stream backend): one native pass over the trace (consistency, hash
    /// chain, op count; no folding) prints each range's start state. Prove range I with
    /// `prove --range I/R` (any machine, any order), verify all parts with one `verify`.
    Plan(cmd::plan::PlanArgs),
    /// Benchmark every backend on the same traces; print a markdown table, write JSON and SVG.
    Bench(cmd::bench::BenchArgs),
    /// One benchmark row in its own process (used by `bench` to measure peak memory per row).
    #[command(hide = true)]
    BenchRow(cmd::bench::BenchRowArgs),
    /// Run the built-in program, prove its memory trace, verify, and print a summary.
    Demo(cmd::demo::DemoArgs),
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.cmd {
        Cmd::Check(a) => cmd::check::run(a),
        Cmd::Prove(a) => cmd::prove::run(a),
        Cmd::Verify(a) => cmd::verify::run(a),
        Cmd::Setup(a) => cmd::setup::run(a),
        Cmd::Plan(a) => cmd::plan::run(a),
        Cmd::Bench(a) => cmd::bench::run(a),
        Cmd::BenchRow(a) => cmd::bench::run_row(a),
        Cmd::Demo(a) => cmd::demo::run(a),
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
            // (the message's paragraph: "… not provided:" names the arguments on the next lines)
            let rendered = e.to_string();
            let para: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = if para.is_empty() {
                "invalid arguments".to_string()
            } else {
                para.join(" ")
            };
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            eprintln!("error: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    // Every failure the code knows about is a typed `Error`. The decoders also catch panics of
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
    // the parsed arguments are only read, never left half-updated by a panic
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if std::env::var_os("FOLDMEM_INJECT_PANIC").is_some() {
            // lets the CLI tests check this path; not a feature
            panic!("injected panic\nwith a second line");
        }
        run(cli)
    }))
    .unwrap_or_else(|_| {
        let msg = LAST_PANIC.lock().ok().and_then(|mut p| p.take());
        Err(Error::Internal(format!(
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
