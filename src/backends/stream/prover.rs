//! The streaming prover: buffers one segment, folds it as soon as it is complete, checkpoints
//! after every segment, resumes from a checkpoint, and proves one range of a trace split across
//! machines.

use super::checkpoint::Checkpoint;
use super::circuit::{canonical, Step, StreamCircuit, AUDIT};
use super::native::Native;
use super::{StreamIsa, StreamKeys, StreamOutputs, StreamRecursive};
use crate::codec::f_to_bytes;
use crate::engine::F;
use crate::error::Error;
use crate::trace::Op;

/// Default ops per segment, 2^20 (rounded up to whole op steps: 1,048,608 at 352 ops per step).
/// The prover holds one segment's ops (56 bytes an op, about 56 MiB at this length; each op
/// step's slots are built only while it folds) and, while they fold, the tuple before the
/// segment of each address it touched, plus the last value and time of every touched address. Every segment but the last pays a boundary slot per distinct address
/// it touched (two hashes to the curve, ~1,800 constraints with the recursion's share, against
/// ~210 an op), and the audit one curve slot per address touched before the last segment; an
/// address first touched in the last segment costs a fresh slot (~270, no curve point). So a trace
/// of up to 2^20 ops, one segment, hashes nothing to the curve. Shorter segments buy earlier
/// folding, finer checkpoints and range splits at the price of those curve slots: `foldmem plan`
/// forecasts the steps, `docs/performance.md` has measured real traces.
pub const DEFAULT_SEGMENT_OPS: usize = 1 << 20;

/// How a streaming prover runs: segment size, optional checkpoints, which range of a trace.
#[derive(Clone, Debug, Default)]
pub struct StreamOptions {
    /// Ops per segment (a multiple of the shape's ops per step; 0: the default).
    pub segment_ops: usize,
    /// Write a checkpoint into this directory after every segment.
    pub checkpoint: Option<std::path::PathBuf>,
    /// `(index, count)` of the range this prover proves (`None`: a whole trace): names its
    /// checkpoint file and is recorded in it.
    pub range: Option<(usize, usize)>,
}

/// Streaming prover: [`StreamProver::push`] buffers one segment and folds it as soon as it is
/// complete; memory is one segment plus the last value of every touched address.
pub struct StreamProver<'a> {
    pub(super) keys: &'a StreamKeys,
    pub(super) native: Native,
    pub(super) segment_ops: usize,
    buf: Vec<(usize, Op)>,
    pub(super) snark: Option<StreamRecursive>,
    pub(super) pending: Option<Step>,
    pub(super) start: (F, u64),
    pub(super) steps: usize,
    pub(super) segments: usize,
    checkpoint: Option<std::path::PathBuf>,
    range: Option<(usize, usize)>,
}

impl<'a> StreamProver<'a> {
    /// A prover of a whole trace over the empty memory.
    pub fn new(keys: &'a StreamKeys, word_bits: u32, opts: &StreamOptions) -> Result<Self, Error> {
        Self::from_native(keys, Native::new(keys.shape, word_bits), opts)
    }

    /// A prover of a range that starts where `native` stands (after a native replay of the
    /// prefix).
    pub fn from_native(
        keys: &'a StreamKeys,
        native: Native,
        opts: &StreamOptions,
    ) -> Result<Self, Error> {
        if !keys.keys.can_prove() {
            return Err(Error::Usage(
                "these keys were loaded to verify only: they cannot prove".into(),
            ));
        }
        let requested = (opts.segment_ops != 0).then_some(opts.segment_ops);
        let l = Self::segment_len(keys.shape.ops_per_step, requested)?;
        Ok(StreamProver {
            keys,
            start: (native.t, native.time),
            native,
            segment_ops: l,
            // grows to the segment in `push`: a huge --segment-ops is not reserved up front
            buf: Vec::new(),
            snark: None,
            pending: None,
            steps: 0,
            segments: 0,
            checkpoint: opts.checkpoint.clone(),
            range: opts.range,
        })
    }

    /// Segment length for `k` ops per step: `requested` (`--segment-ops`) or the default, rounded
    /// up to whole steps. 0 is refused, not read as the default.
    pub fn segment_len(k: usize, requested: Option<usize>) -> Result<usize, Error> {
        let l = requested.unwrap_or(DEFAULT_SEGMENT_OPS);
        if l == 0 || k == 0 {
            return Err(Error::Usage(format!(
                "--segment-ops must be positive, got {l}"
            )));
        }
        l.checked_next_multiple_of(k)
            .filter(|l| u64::try_from(*l).is_ok())
            .ok_or_else(|| Error::Usage(format!("--segment-ops {l} is too large")))
    }

    /// Ops accepted so far (including the range's prefix).
    pub fn op_count(&self) -> u64 {
        self.native.time + self.buf.len() as u64
    }

    /// Segments folded so far.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// Folding steps so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Queue one op (`line` names it in errors); folds the buffered segment when it is complete
    /// and another op arrives (the trace's last segment is folded by [`StreamProver::finish`],
    /// together with the audit). An inconsistent op is refused before its segment is folded.
    pub fn push(&mut self, line: usize, op: &Op) -> Result<(), Error> {
        if self.buf.len() == self.segment_ops {
            self.flush()?;
        }
        if self.buf.len() == self.buf.capacity() {
            // grow by doubling, but never past the segment (a default segment is 32 ops past
            // 2^20: doubling would hold 2^21)
            let len = self.buf.len();
            self.buf
                .reserve_exact(len.max(1 << 10).min(self.segment_ops - len));
        }
        self.buf.push((line, *op));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // the ops stay (56 bytes an op) and each step's slots (136 bytes an op) are built only
        // when it folds
        let steps = self.native.segment_lazy(std::mem::take(&mut self.buf))?;
        for s in steps {
            self.fold(s)?;
        }
        self.segments += 1;
        if let Some(dir) = self.checkpoint.clone() {
            self.write_checkpoint(&dir)?;
        }
        Ok(())
    }

    fn fold(&mut self, next: Step) -> Result<(), Error> {
        if let Some(step) = self.pending.take() {
            self.fold_now(step, next.index())?;
        }
        self.pending = Some(next);
        Ok(())
    }

    fn fold_now(&mut self, step: Step, next: usize) -> Result<(), Error> {
        let c = StreamCircuit {
            shape: self.keys.shape,
            step,
            next,
        };
        let pp = &self.keys.keys.pp;
        // the first step (arecibo's `RecursiveSNARK::new`, no fold) is not timed as its kind
        let _span = match &c.step {
            _ if self.snark.is_none() => tracing::info_span!("fold first"),
            Step::Op { .. } => tracing::info_span!("fold op"),
            Step::Boundary { .. } => tracing::info_span!("fold boundary"),
            Step::Audit { .. } => tracing::info_span!("fold audit"),
            Step::Fresh { .. } => tracing::info_span!("fold fresh"),
        }
        .entered();
        let isa = || StreamIsa {
            shape: self.keys.shape,
            first: c.step.index(),
        };
        let z0 = canonical(self.start.0, self.start.1);
        crate::folding::supernova_fold(pp, &mut self.snark, isa, &c, &z0)?;
        self.steps += 1;
        Ok(())
    }

    /// Fold the last segment: if `audit` (the trace's last range), with the audit inside it,
    /// else closed by boundary steps. Returns the folded proof and its claim.
    pub fn finish(mut self, audit: bool) -> Result<Finished, Error> {
        let mut last_addr = None;
        if audit {
            // an empty last segment (an empty trace) is opened by a padding boundary step
            let (steps, last) = self
                .native
                .last_segment_lazy(std::mem::take(&mut self.buf))?;
            last_addr = last;
            for s in steps {
                self.fold(s)?;
            }
            self.segments += 1;
        } else {
            self.flush()?;
        }
        let Some(step) = self.pending.take() else {
            return Err(Error::Input(
                "nothing to prove: the range has no ops".into(),
            ));
        };
        self.fold_now(step, AUDIT)?;
        let outputs = StreamOutputs {
            word_bits: self.native.word_bits,
            start_hash: self.start.0,
            start_time: self.start.1,
            trace_hash: self.native.t,
            op_count: self.native.time,
            audited: audit,
            last_addr,
            g: self.native.g,
        };
        Ok(Finished {
            segment_ops: self.segment_ops,
            snark: self.snark.take().expect("folded"),
            outputs,
            steps: self.steps,
            segments: self.segments,
        })
    }

    fn write_checkpoint(&self, dir: &std::path::Path) -> Result<(), Error> {
        let cp = Checkpoint {
            shape: self.keys.shape,
            params: f_to_bytes(&self.keys.keys.pp.digest()),
            native: self.native.clone(),
            start: self.start,
            steps: self.steps,
            segments: self.segments,
            snark: self.snark.clone(),
            pending: self.pending.clone(),
            segment_ops: self.segment_ops,
            range: self.range,
        };
        cp.store(dir)
    }

    /// Resume from a checkpoint in `dir` (written by a prover with the same keys). This checks the
    /// file (checksum, a reachable state) but not that its memory and `G` are what the trace's
    /// prefix leaves, and [`StreamProver::finish`] does not check the proof: `prove` (through
    /// `foldmem::pipeline::prove_with`) does both.
    pub fn resume(
        keys: &'a StreamKeys,
        dir: &std::path::Path,
        opts: &StreamOptions,
    ) -> Result<Self, Error> {
        let cp = Checkpoint::load(dir, opts.range)?;
        if cp.shape != keys.shape
            || cp.native.shape != keys.shape
            || cp.params != f_to_bytes(&keys.keys.pp.digest())
        {
            return Err(Error::Mismatch(format!(
                "{}: the checkpoint was made with other keys",
                dir.display()
            )));
        }
        let mut p = Self::from_native(keys, cp.native, opts)?;
        if cp.segment_ops != p.segment_ops {
            return Err(Error::Usage(format!(
                "{}: the checkpoint's run folds segments of {} ops, this one {}: resume with \
                 --segment-ops {}",
                dir.display(),
                cp.segment_ops,
                p.segment_ops,
                cp.segment_ops
            )));
        }
        p.start = cp.start;
        p.steps = cp.steps;
        p.segments = cp.segments;
        p.snark = cp.snark;
        p.pending = cp.pending;
        Ok(p)
    }

    /// Trace hash and time the prover stands at (after its last folded segment).
    pub fn position(&self) -> (F, u64) {
        (self.native.t, self.native.time)
    }

    /// Trace hash and time the proof starts from (the range's start).
    pub fn start(&self) -> (F, u64) {
        self.start
    }

    /// Word size of the trace.
    pub fn word_bits(&self) -> u32 {
        self.native.word_bits
    }
}

/// A finished streaming proof.
pub struct Finished {
    /// Ops per segment the run used.
    pub segment_ops: usize,
    /// The folded proof.
    pub snark: StreamRecursive,
    /// What it claims.
    pub outputs: StreamOutputs,
    /// Folding steps.
    pub steps: usize,
    /// Segments.
    pub segments: usize,
}
