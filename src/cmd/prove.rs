//! `foldmem prove`: prove a trace (a file, or standard input while a zkVM runs) and write the
//! compressed proof, printing the statement and where the time went.

use super::{kv, lines, open_trace, read_key_file, word_bits, Common};
use clap::Args;
use foldmem::backend::{FlagContext, Own, TraceItem};
use foldmem::pipeline::{self, Keys};
use foldmem::proof::ProofFile;
use foldmem::registry::{RunArgs, ShapeArgs};
use foldmem::Error;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Prove a JSONL trace and write a compressed proof file.
#[derive(Args)]
pub struct ProveArgs {
    /// Trace file (JSON Lines), or `-` for standard input (a zkVM pipes its trace while it runs;
    /// the stream backend folds each segment as soon as it is complete).
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
    #[arg(long)]
    vk: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

/// Run `prove`.
pub fn run(a: ProveArgs) -> Result<(), Error> {
    let stdin = super::is_stdin(&a.trace);
    let ctx = FlagContext {
        trace: (!stdin).then_some(a.trace.as_path()),
        ops: None,
    };
    let (pin, word_bits) = match &a.vk {
        Some(p) => {
            let (f, pin) = read_key_file(p)?;
            if a.word_bits.is_some_and(|w| w != f.word_bits) {
                return Err(Error::Usage(format!(
                    "--word-bits differs from the {} pinned in {}",
                    f.word_bits,
                    p.display()
                )));
            }
            (Some(pin), f.word_bits)
        }
        None => (None, a.word_bits.unwrap_or(64)),
    };
    // every flag is checked (a bad segment length included) before any key setup
    let sel = a.shape.select(pin.map(|p| p.shape), Some(&a.run), &ctx)?;
    // the op count for the progress bar, when it is shown
    let total = (a.common.show_progress()).then(|| ctx.op_count()).flatten();
    let reader = open_trace(&a.trace, word_bits)?;
    let keys = a
        .common
        .keys(sel.shape, pin.and_then(|p| p.digests), sel.key)?;
    let file = prove_and_report(&keys, word_bits, reader, total, &sel.run, &a.common)
        .map_err(|e| e.in_file(&a.trace))?;
    foldmem::files::write_atomically(&a.output, &[&file.to_bytes()])
        .map_err(|e| Error::io(&a.output, e))?;
    kv("proof", a.output.display());
    let rss = super::peak_rss_mib();
    if rss > 0.0 {
        kv("peak_rss_mib", format!("{rss:.0}"));
    }
    Ok(())
}

/// Prove `ops` with `keys` and the backend's `run` options, showing progress, and print the
/// statement, the circuit figures and the timings.
pub fn prove_and_report(
    keys: &Keys,
    word_bits: u32,
    ops: impl IntoIterator<Item = TraceItem>,
    total: Option<u64>,
    run: &Own,
    common: &Common,
) -> Result<ProofFile, Error> {
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
    let (file, r) = pipeline::prove_with(keys, word_bits, ops, run, |p| {
        pb.set_position(p.ops);
        if p.segments > 0 {
            pb.set_message(format!("{} segments", p.segments));
        }
    })?;
    pb.finish_and_clear();
    log_fold_breakdown();
    lines(keys.shape().statement());
    kv("word_bits", word_bits);
    kv("ops", r.ops);
    kv("steps", r.steps);
    if let Some(l) = r.segment_ops {
        kv("segment_ops", l);
    }
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

/// Log (at info level) where fold steps spent their time, per step kind.
fn log_fold_breakdown() {
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
}
