//! `foldmem demo`: run the built-in program on the memory machine, prove its memory trace,
//! verify the proof, and print a summary.

use super::prove::prove_and_report;
use super::{kv, Common};
use clap::Args;
use foldmem::backend::{FlagContext, Own};
use foldmem::backends::stream::StreamShape;
use foldmem::pipeline;
use foldmem::proof::ProofFile;
use foldmem::registry::{Backend, Shape, ShapeArgs};
use foldmem::trace;
use foldmem::Error;
use std::path::PathBuf;
use std::time::Instant;

/// Run the built-in program, prove its memory trace, verify, and print a summary.
#[derive(Args)]
pub struct DemoArgs {
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
}

/// Run `demo`.
pub fn run(a: DemoArgs) -> Result<(), Error> {
    let start = Instant::now();
    let m = foldmem::machine::programs::insertion_sort(a.words, 0x5eed).map_err(Error::internal)?;
    let mut all = m.ops();
    if let Some(n) = a.ops {
        all.truncate(n);
    }
    if let Some(p) = &a.emit_trace {
        let f = std::fs::File::create(p).map_err(|e| Error::io(p, e))?;
        trace::write_jsonl(std::io::BufWriter::new(f), &all).map_err(|e| Error::io(p, e))?;
    }
    let mut sel = a.shape.select(
        None,
        None,
        &FlagContext {
            trace: None,
            ops: Some(all.len() as u64),
        },
    )?;
    // stream without shape flags: the smaller demo shape (its keys are in the built-in table)
    let demo_shape = sel.shape.backend() == Backend::Stream
        && a.shape.shape_flags_given().iter().all(|f| f == "backend");
    if demo_shape {
        sel.shape = Shape::new(StreamShape::DEMO)?;
    }
    kv(
        "program",
        format!(
            "insertion sort of {} words (memory, registers, stack)",
            a.words
        ),
    );
    if demo_shape {
        kv(
            "shape",
            "the demo's (64 op slots, 8 boundary slots; prove's default is 352 and 24: pass \
             --ops-per-step 352 --boundary-slots 24 to demo it)",
        );
    }
    let keys = a.common.keys(sel.shape, None, sel.key)?;
    let stream = || trace::numbered(&all);
    let file = prove_and_report(
        &keys,
        64,
        stream(),
        Some(all.len() as u64),
        &Own::none(),
        &a.common,
    )?;
    let decoded = ProofFile::from_bytes(&file.to_bytes())?;
    let t = Instant::now();
    pipeline::verify_proof(&keys, &decoded, Some(stream()))?;
    kv("verify_s", format!("{:.3}", t.elapsed().as_secs_f64()));
    kv("valid", true);
    kv("demo_s", format!("{:.1}", start.elapsed().as_secs_f64()));
    if let Some(p) = a.emit_trace {
        kv("trace", p.display());
    }
    Ok(())
}
