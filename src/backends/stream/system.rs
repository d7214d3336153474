//! The `stream` backend at the seam: its shape's rules and flags, its keys, and the run options
//! it owns (segment length, checkpoints, resumption, one range of a trace).

use super::circuit::{StreamCircuit, BOUNDARY, CIRCUITS, FRESH, OP};
use super::claim::{check_proof, verify_compressed, verify_parts, StreamProof};
use super::hasher::TraceHasher;
use super::prover::{Finished, StreamProver};
use super::run;
use super::{
    circuit_constraints, StreamIsa, StreamShape, DEFAULT_BOUNDARY_SLOTS, DEFAULT_OPS_PER_STEP,
    DEFAULT_TIME_BITS, MAX_BOUNDARY_SLOTS, TIME_BITS,
};
use crate::backend::{
    check_ops_per_step, check_trace_claim, flag, CacheEntry, Claim, FlagContext, Flags, KeyOptions,
    Lines, Loaded, Progress, ProofSystem, ProveReport, ShapeError, ShapeSpec, TraceItem, TracePlan,
};
use crate::error::Error;
use crate::folding::{r1cs_num_cons, SupernovaKeySet};
use crate::hash::trace_hash_seed;
use clap::{value_parser, Arg};
use std::path::PathBuf;

/// One range of a trace split into `count` ranges of whole segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeSpec {
    /// 0-based index.
    pub index: usize,
    /// Number of ranges.
    pub count: usize,
    /// Ops in the whole trace.
    pub total_ops: u64,
}

/// How a `stream` proving run goes beyond the trace: segment length, checkpoints, resumption,
/// one range of a trace split across machines. The default proves a whole trace in segments of
/// the default length, with no checkpoints.
#[derive(Clone, Debug, Default)]
pub struct StreamRun {
    /// Ops per segment (`None`: [`super::DEFAULT_SEGMENT_OPS`]); rounded up to whole op steps.
    pub segment_ops: Option<usize>,
    /// Directory to write a checkpoint into after every segment.
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint in this directory.
    pub resume: Option<PathBuf>,
    /// Prove range `i` of `r` (`total_ops` is the trace's op count).
    pub range: Option<RangeSpec>,
}

impl ShapeSpec for StreamShape {
    const BACKEND: &'static str = "stream";
    type Keys = StreamKeys;
    type KeyOpts = ();
    type RunOpts = StreamRun;
    fn validate(&self) -> Result<(), ShapeError> {
        check_ops_per_step(self.ops_per_step, crate::backend::MAX_OPS_PER_STEP)?;
        if !(1..=MAX_BOUNDARY_SLOTS).contains(&self.boundary_slots) {
            return Err(ShapeError::new(
                "boundary_slots",
                format!(
                    "must be in 1..={MAX_BOUNDARY_SLOTS}, got {}",
                    self.boundary_slots
                ),
            ));
        }
        if !TIME_BITS.contains(&self.time_bits) {
            return Err(ShapeError::new(
                "time_bits",
                format!(
                    "must be in {}..={}, got {}",
                    TIME_BITS.start(),
                    TIME_BITS.end(),
                    self.time_bits
                ),
            ));
        }
        Ok(())
    }
    fn ops_per_step(&self) -> usize {
        self.ops_per_step
    }
    fn statement(&self) -> Lines {
        vec![
            ("ops_per_step", self.ops_per_step.to_string()),
            ("boundary_slots", self.boundary_slots.to_string()),
            ("time_bits", self.time_bits.to_string()),
        ]
    }
    fn cache_name(&self) -> String {
        format!(
            "stream-k{}-m{}-t{}",
            self.ops_per_step, self.boundary_slots, self.time_bits
        )
    }
    fn keys(
        &self,
        opts: &KeyOptions,
        _: &(),
        entry: &CacheEntry,
    ) -> Result<Loaded<StreamKeys>, Error> {
        let shape = *self;
        let program = || StreamIsa { shape, first: OP };
        let (keys, source, digests) = if opts.verifier_only {
            let arities: Vec<usize> = (0..CIRCUITS)
                .map(|i| {
                    use arecibo::traits::circuit_supernova::StepCircuit;
                    StreamCircuit::blank(shape, i).arity()
                })
                .collect();
            SupernovaKeySet::load_verifier(entry, opts, &arities, program)?
        } else {
            let (mut keys, source, digests) = SupernovaKeySet::load(entry, opts, program)?;
            // the prover reads the verifier key back only to check its proof before writing it
            keys.park_vk(opts, entry, &digests);
            (keys, source, digests)
        };
        Ok(Loaded {
            keys: StreamKeys { shape, keys },
            source,
            digests,
        })
    }
    fn plan(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        run: &StreamRun,
        count: usize,
    ) -> Result<TracePlan, Error> {
        if run.checkpoint.is_some() || run.resume.is_some() || run.range.is_some() {
            return Err(Error::Usage(
                "plan takes --segment-ops only of the run flags (it folds nothing)".into(),
            ));
        }
        run::plan(*self, word_bits, ops, run.segment_ops, count)
    }
}

impl Flags for StreamShape {
    fn default_shape() -> Option<Self> {
        Some(Self::default())
    }
    fn shape_flags() -> Vec<Arg> {
        vec![
            flag::ops_per_step(),
            Arg::new("boundary_slots")
                .long("boundary-slots")
                .value_parser(value_parser!(usize))
                .help(format!(
                    "Boundary and audit slots per step (stream) [default: {DEFAULT_BOUNDARY_SLOTS}]"
                )),
            Arg::new("time_bits")
                .long("time-bits")
                .value_parser(value_parser!(u32))
                .help(format!(
                    "Time range-check width: traces of up to 2^N ops (stream) [default: \
                     {DEFAULT_TIME_BITS}]"
                )),
        ]
    }
    fn run_flags() -> Vec<Arg> {
        vec![
            Arg::new("segment_ops")
                .long("segment-ops")
                .value_parser(value_parser!(usize))
                .help(
                    "Ops per segment (stream) [default: 1048576 rounded up to whole op steps]: \
                     the prover buffers one segment (~200 MiB at the default) and checkpoints \
                     after each; shorter segments fold earlier and split into more ranges, but \
                     pay curve slots for every distinct address each one touches",
                ),
            Arg::new("checkpoint")
                .long("checkpoint")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Write a checkpoint into DIR after every segment (stream; atomic: temp file + \
                     rename)",
                ),
            Arg::new("resume")
                .long("resume")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Continue from the checkpoint in DIR after a crash (stream): give the same \
                     trace and options; the trace is read from its start and its proven prefix \
                     must match",
                ),
            Arg::new("range")
                .long("range")
                .value_name("I/R")
                .value_parser(parse_range)
                .help(
                    "Prove range I of R (stream continuations, `foldmem plan` shows them): ranges \
                     are whole segments; only the last runs the audit",
                ),
        ]
    }
    fn shape_from(m: &clap::ArgMatches, _: &(), _: &FlagContext<'_>) -> Result<Self, Error> {
        Ok(StreamShape {
            ops_per_step: flag::get(m, "ops_per_step").unwrap_or(DEFAULT_OPS_PER_STEP),
            boundary_slots: flag::get(m, "boundary_slots").unwrap_or(DEFAULT_BOUNDARY_SLOTS),
            time_bits: flag::get(m, "time_bits").unwrap_or(DEFAULT_TIME_BITS),
        })
    }
    fn run_opts(
        m: &clap::ArgMatches,
        shape: &Self,
        ctx: &FlagContext<'_>,
    ) -> Result<StreamRun, Error> {
        let segment_ops = flag::get::<usize>(m, "segment_ops");
        // a bad segment length is a usage error before any key setup
        StreamProver::segment_len(shape.ops_per_step, segment_ops)?;
        let range =
            match flag::get::<(usize, usize)>(m, "range") {
                None => None,
                Some(_) if ctx.trace.is_none() => {
                    return Err(Error::Usage(
                        "--range needs a trace file (the prover replays the ops before its range)"
                            .into(),
                    ))
                }
                Some((index, count)) => Some(RangeSpec {
                    index,
                    count,
                    total_ops: ctx.op_count().ok_or_else(|| {
                        Error::Usage(format!(
                        "--range needs a regular, readable UTF-8 trace file to count its ops and \
                         split them: {}",
                        ctx.trace.map(|p| p.display().to_string()).unwrap_or_default()
                    ))
                    })?,
                }),
            };
        Ok(StreamRun {
            segment_ops,
            checkpoint: flag::get(m, "checkpoint"),
            resume: flag::get(m, "resume"),
            range,
        })
    }
}

/// `I/R` with `0 ≤ I < R`.
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

/// Keys of the streaming backend for one shape.
pub struct StreamKeys {
    /// Shape.
    pub shape: StreamShape,
    /// Parameters and compression keys of the three circuits.
    pub keys: SupernovaKeySet<StreamCircuit>,
}

/// The stream trace hash and op count of an op stream, checked against a claim.
fn check_trace(
    k: usize,
    claim: &dyn Claim,
    trace: &mut dyn Iterator<Item = TraceItem>,
) -> Result<(), Error> {
    let mut h = TraceHasher::new(k, claim.word_bits());
    for item in trace {
        h.push(&item?.1);
    }
    let (n, hash) = h.finish();
    check_trace_claim(claim, n, hash)
}

impl ProofSystem for StreamKeys {
    type Shape = StreamShape;
    type Proof = StreamProof;
    fn shape(&self) -> StreamShape {
        self.shape
    }
    fn constraints_per_op(&self) -> Option<f64> {
        if !self.keys.can_prove() {
            return None; // verifier-only keys hold no circuits
        }
        let op = self.keys.primary_constraints()[OP];
        Some(op as f64 / self.shape.ops_per_step as f64)
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        if !self.keys.can_prove() {
            return None;
        }
        let op = self.keys.primary_constraints()[OP];
        let secondary = self.keys.secondary_constraints();
        Some((op + secondary) as f64 / self.shape.ops_per_step as f64)
    }
    fn circuit_lines(&self) -> Lines {
        if !self.keys.can_prove() {
            return vec![("keys_loaded", "verifier key only".to_string())];
        }
        let shapes = self.keys.pp.primary_r1cs_shapes();
        let n = |i: usize| r1cs_num_cons(shapes[i]);
        let [op, b, f] = circuit_constraints(self.shape);
        vec![
            (
                "circuit_constraints",
                format!("op={op} boundary/audit={b} fresh={f}"),
            ),
            (
                "step_constraints",
                format!(
                    "op={} boundary/audit={} fresh={}",
                    n(OP),
                    n(BOUNDARY),
                    n(FRESH)
                ),
            ),
        ]
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        run: &StreamRun,
    ) -> Result<(Option<StreamProof>, ProveReport), Error> {
        let t = std::time::Instant::now();
        let Finished {
            snark: folded,
            outputs,
            steps,
            segment_ops,
            ..
        } = run::run(self, word_bits, ops, progress, run)?;
        let mut report = ProveReport {
            ops: outputs.range_ops(),
            steps,
            fold_s: t.elapsed().as_secs_f64(),
            segment_ops: Some(segment_ops),
            ..ProveReport::default()
        };
        if !compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = self.keys.compress(&folded)?;
        report.compress_s = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let (first, last) = match &run.range {
            Some(r) => (r.index == 0, r.index + 1 == r.count),
            None => (true, true),
        };
        check_proof(self, &snark, &outputs, first, last)?;
        tracing::info!(
            "check of the proof before writing it: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        Ok((Some(StreamProof { outputs, snark }), report))
    }
    fn verify(
        &self,
        proof: &StreamProof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        // keys loaded to prove keep the verifier key parked on disk until needed
        self.keys.unpark_vk()?;
        verify_compressed(self, &proof.snark, &proof.outputs)?;
        if let Some(trace) = trace {
            check_trace(self.shape.ops_per_step, &proof.outputs, trace)?;
        }
        Ok(())
    }
    fn verify_parts(
        &self,
        proofs: &[&StreamProof],
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        self.keys.unpark_vk()?;
        let parts: Vec<_> = proofs.iter().map(|p| (&p.snark, &p.outputs)).collect();
        verify_parts(self, &parts)?;
        if let (Some(trace), Some(last)) = (trace, proofs.last()) {
            check_trace(self.shape.ops_per_step, &last.outputs, trace)?;
        }
        Ok(())
    }
    fn parts_statement(&self, parts: &[&StreamProof]) -> Lines {
        // the parts together state the whole trace, from the seed at time 0 (checked by
        // `verify_parts`)
        let Some(last) = parts.last() else {
            return Vec::new();
        };
        let mut whole = last.outputs;
        whole.start_time = 0;
        whole.start_hash = trace_hash_seed(whole.word_bits);
        whole.statement()
    }
}
