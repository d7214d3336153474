//! `foldmem check`: the native consistency check of a trace, with its statistics.

use super::{kv, trace_reader, word_bits};
use clap::Args;
use foldmem::Error;
use std::path::PathBuf;
use std::time::Instant;

/// Check a JSONL trace natively and print its statistics.
#[derive(Args)]
pub struct CheckArgs {
    /// Trace file (JSON Lines).
    trace: PathBuf,
    /// Word size in bits (32, 64 or 256).
    #[arg(long, default_value_t = 64, value_parser = word_bits)]
    word_bits: u32,
}

/// Run `check`.
pub fn run(a: CheckArgs) -> Result<(), Error> {
    let t = Instant::now();
    let stats = foldmem::trace::check_stream(trace_reader(&a.trace, a.word_bits)?)
        .map_err(|e| Error::from(e).in_file(&a.trace))?;
    kv("consistent", true);
    kv("ops", stats.ops);
    kv("reads", stats.reads);
    kv("writes", stats.writes);
    kv("distinct_addrs", stats.distinct_addrs);
    kv("check_s", format!("{:.3}", t.elapsed().as_secs_f64()));
    Ok(())
}
