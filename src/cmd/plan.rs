//! `foldmem plan`: split a trace into ranges for continuations (one native pass, no folding),
//! print each range's start state and forecast the steps a run will fold.

use super::{is_stdin, kv, open_trace, word_bits};
use clap::Args;
use foldmem::backend::FlagContext;
use foldmem::codec::f_hex;
use foldmem::registry::{RunArgs, ShapeArgs};
use foldmem::Error;
use std::path::PathBuf;
use std::time::Instant;

/// Plan a run (backends that prove ranges: stream): one native pass over the trace
/// (consistency, hash chain, op count; no folding) forecasts the steps of each kind one run of
/// the whole trace folds at this segment length, and prints each range's start state. Prove
/// range I with `prove --range I/R` (any machine, any order), verify all parts with one `verify`.
#[derive(Args)]
pub struct PlanArgs {
    /// Trace file (JSON Lines; `-`: standard input).
    trace: PathBuf,
    /// Number of ranges.
    #[arg(long, default_value_t = 1)]
    ranges: usize,
    #[command(flatten)]
    shape: ShapeArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Word size in bits (32, 64 or 256) [default: 64].
    #[arg(long, value_parser = word_bits)]
    word_bits: Option<u32>,
}

/// Run `plan`.
pub fn run(a: PlanArgs) -> Result<(), Error> {
    let word_bits = a.word_bits.unwrap_or(64);
    let ctx = FlagContext {
        trace: Some(a.trace.as_path()).filter(|p| !is_stdin(p)),
        ops: None,
    };
    let sel = a.shape.select(None, Some(&a.run), &ctx)?;
    let t = Instant::now();
    let plan = sel
        .shape
        .plan(
            word_bits,
            &mut *open_trace(&a.trace, word_bits)?,
            &sel.run,
            a.ranges,
        )
        .map_err(|e| e.in_file(&a.trace))?;
    let plans = &plan.ranges;
    kv("ops", plan.ops);
    kv("ranges", plans.len());
    if let Some(p) = plans.first() {
        kv("segment_ops", p.segment_ops);
    }
    super::lines(plan.forecast);
    for p in plans {
        kv(
            &format!("range {}/{}", p.index, plans.len()),
            format!(
                "ops {}..{} start_time {} start_hash {}",
                p.start_time + 1,
                p.start_time + p.ops,
                p.start_time,
                f_hex(&p.start_hash)
            ),
        );
    }
    kv("plan_s", format!("{:.3}", t.elapsed().as_secs_f64()));
    Ok(())
}
