//! The streaming prover: buffers one segment, folds it as soon as it is complete, checkpoints
//! after every segment, resumes from a checkpoint, and proves one range of a trace split across
//! machines.

use super::circuit::{canonical, Step, StreamCircuit, AUDIT};
use super::native::Native;
use super::{StRecursive, StreamIsa, StreamKeys, StreamOutputs, StreamShape};
use crate::backend::RangeSpec;
use crate::pipeline::JobError;
use crate::proof::f_to_bytes;
use crate::step::witness::trace_hash_seed;
use crate::supernova::Sc2;
use crate::trace::Op;
use crate::word::Word;
use crate::{E2, F};
use arecibo::traits::Engine;
use ff::Field;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Default ops per segment (rounded up to whole op steps; the prover buffers one segment). Each
/// segment but the last pays a boundary slot per distinct address it touched (two hashes to the
/// curve), and the audit one per address touched before the last segment, so both fall as
/// segments grow: all 131,072 ops of a real `gzip` trace fold at 191 ops/s in 2^16-op segments
/// against 131 in 2^14-op ones (see the README), and one segment still holds a few MB of ops.
pub const DEFAULT_SEGMENT_OPS: usize = 65536;

/// How a streaming prover runs: segment size, optional checkpoints, which range of a trace.
#[derive(Clone, Debug, Default)]
pub struct StreamOptions {
    /// Ops per segment (a multiple of the shape's ops per step; 0: the default).
    pub segment_ops: usize,
    /// Write a checkpoint into this directory after every segment.
    pub checkpoint: Option<std::path::PathBuf>,
}

/// Streaming prover: [`StreamProver::push`] buffers one segment and folds it as soon as it is
/// complete; memory is one segment plus the last value of every touched address.
pub struct StreamProver<'a> {
    keys: &'a StreamKeys,
    native: Native,
    segment_ops: usize,
    buf: Vec<(usize, Op)>,
    snark: Option<StRecursive>,
    pending: Option<Step>,
    start: (F, u64),
    steps: usize,
    segments: usize,
    checkpoint: Option<std::path::PathBuf>,
}

impl<'a> StreamProver<'a> {
    /// A prover of a whole trace over the empty memory.
    pub fn new(
        keys: &'a StreamKeys,
        word_bits: u32,
        opts: &StreamOptions,
    ) -> Result<Self, JobError> {
        Self::from_native(keys, Native::new(keys.shape, word_bits), opts)
    }

    /// A prover of a range that starts where `native` stands (after a native replay of the
    /// prefix).
    pub fn from_native(
        keys: &'a StreamKeys,
        native: Native,
        opts: &StreamOptions,
    ) -> Result<Self, JobError> {
        let requested = (opts.segment_ops != 0).then_some(opts.segment_ops);
        let l = Self::segment_len(keys.shape.ops_per_step, requested)?;
        Ok(StreamProver {
            keys,
            start: (native.t, native.time),
            native,
            segment_ops: l,
            // grows to the segment: a huge --segment-ops is not reserved up front
            buf: Vec::with_capacity(l.min(1 << 16)),
            snark: None,
            pending: None,
            steps: 0,
            segments: 0,
            checkpoint: opts.checkpoint.clone(),
        })
    }

    /// Segment length for `k` ops per step: `requested` (`--segment-ops`, a positive multiple
    /// of `k`: 0 is refused, not read as the default), or the default rounded to whole steps.
    pub fn segment_len(k: usize, requested: Option<usize>) -> Result<usize, JobError> {
        let l = requested.unwrap_or(DEFAULT_SEGMENT_OPS.div_ceil(k) * k);
        if l == 0 || l % k != 0 {
            return Err(JobError::Usage(format!(
                "--segment-ops must be a positive multiple of the {k} ops per step, got {l}"
            )));
        }
        Ok(l)
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
    pub fn push(&mut self, line: usize, op: &Op) -> Result<(), JobError> {
        if self.buf.len() == self.segment_ops {
            self.flush()?;
        }
        self.buf.push((line, *op));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), JobError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.buf);
        let steps = self.native.segment(&ops)?;
        for s in steps {
            self.fold(s)?;
        }
        self.segments += 1;
        if let Some(dir) = self.checkpoint.clone() {
            self.write_checkpoint(&dir)?;
        }
        Ok(())
    }

    fn fold(&mut self, next: Step) -> Result<(), JobError> {
        if let Some(step) = self.pending.take() {
            self.fold_now(step, next.index())?;
        }
        self.pending = Some(next);
        Ok(())
    }

    fn fold_now(&mut self, step: Step, next: usize) -> Result<(), JobError> {
        let c = StreamCircuit {
            shape: self.keys.shape,
            step,
            next,
        };
        let c2 = Sc2::default();
        let pp = &self.keys.pp;
        // the first step (arecibo's `RecursiveSNARK::new`, no fold) is not timed as its kind
        let _span = match &c.step {
            _ if self.snark.is_none() => tracing::info_span!("fold first"),
            Step::Op { .. } => tracing::info_span!("fold op"),
            Step::Boundary { .. } => tracing::info_span!("fold boundary"),
            Step::Audit { .. } => tracing::info_span!("fold audit"),
            Step::Fresh { .. } => tracing::info_span!("fold fresh"),
        }
        .entered();
        let err = |e: arecibo::supernova::error::SuperNovaError| {
            JobError::Internal(format!("folding failed: {e:?}"))
        };
        let (start, snark) = (self.start, &mut self.snark);
        // arecibo asserts on a folded proof's content (e.g. its program counter); a proof read
        // from a crafted checkpoint must not panic the prover
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match snark {
            None => {
                let isa = StreamIsa {
                    shape: self.keys.shape,
                    first: c.step.index(),
                };
                let z0 = canonical(start.0, start.1);
                let mut s =
                    StRecursive::new(pp, &isa, &c, &c2, &z0, &[<E2 as Engine>::Scalar::ZERO])
                        .map_err(err)?;
                s.prove_step(pp, &c, &c2).map_err(err)?;
                *snark = Some(s);
                Ok(())
            }
            Some(s) => s.prove_step(pp, &c, &c2).map_err(err),
        }))
        .map_err(|_| {
            JobError::Internal(
                "folding failed: the folded proof so far is malformed (a corrupted checkpoint?)"
                    .into(),
            )
        })??;
        self.steps += 1;
        Ok(())
    }

    /// Fold the last segment: if `audit` (the trace's last range), with the audit inside it,
    /// else closed by boundary steps. Returns the folded proof and its claim.
    pub fn finish(mut self, audit: bool) -> Result<Finished, JobError> {
        let mut last_addr = None;
        if audit {
            // an empty last segment (an empty trace) is opened by a padding boundary step
            let ops = std::mem::take(&mut self.buf);
            let (steps, last) = self.native.last_segment(&ops)?;
            last_addr = last;
            for s in steps {
                self.fold(s)?;
            }
            self.segments += 1;
        } else {
            self.flush()?;
        }
        let Some(step) = self.pending.take() else {
            return Err(JobError::Input(
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
            snark: self.snark.take().expect("folded"),
            outputs,
            steps: self.steps,
            segments: self.segments,
        })
    }

    fn write_checkpoint(&self, dir: &std::path::Path) -> Result<(), JobError> {
        let cp = Checkpoint {
            shape: self.keys.shape,
            params: f_to_bytes(&self.keys.pp.digest()),
            native: self.native.clone(),
            start: self.start,
            steps: self.steps,
            segments: self.segments,
            snark: self.snark.clone(),
            pending: self.pending.clone(),
        };
        cp.store(dir)
    }

    /// Resume from a checkpoint in `dir` (written by a prover with the same keys). This checks the
    /// file (checksum, a reachable state) but not that its memory and `G` are what the trace's
    /// prefix leaves, and [`StreamProver::finish`] does not check the proof: `prove` (through
    /// [`crate::pipeline::prove_with`]) does both.
    pub fn resume(
        keys: &'a StreamKeys,
        dir: &std::path::Path,
        opts: &StreamOptions,
    ) -> Result<Self, JobError> {
        let cp = Checkpoint::load(dir)?;
        if cp.shape != keys.shape
            || cp.native.shape != keys.shape
            || cp.params != f_to_bytes(&keys.pp.digest())
        {
            return Err(JobError::Mismatch(format!(
                "{}: the checkpoint was made with other keys",
                dir.display()
            )));
        }
        let mut p = Self::from_native(keys, cp.native, opts)?;
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
    /// The folded proof.
    pub snark: StRecursive,
    /// What it claims.
    pub outputs: StreamOutputs,
    /// Folding steps.
    pub steps: usize,
    /// Segments.
    pub segments: usize,
}

/// Checkpoint file: this magic, the FNV-1a-64 of the payload (little-endian), the payload
/// (bincode). The magic changes with the payload's layout.
const CHECKPOINT_MAGIC: [u8; 8] = *b"FMSTRM02";
const CHECKPOINT_FILE: &str = "checkpoint.bin";

/// A prover's state after a complete segment: everything a resumed prover needs.
#[derive(Serialize, Deserialize)]
struct Checkpoint {
    shape: StreamShape,
    params: [u8; 32],
    native: Native,
    start: (F, u64),
    steps: usize,
    segments: usize,
    snark: Option<StRecursive>,
    pending: Option<Step>,
}

/// 64-bit FNV-1a: detects a torn or corrupted checkpoint file. It is no defence against a forged
/// one, which needs none: a checkpoint only feeds its own prover, which replays the trace's
/// prefix against it and checks its proof before writing it ([`super::check_proof`]).
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Checkpoint {
    fn store(&self, dir: &std::path::Path) -> Result<(), JobError> {
        let io = |e: std::io::Error| JobError::Io(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let payload = bincode::serialize(self).map_err(crate::pipeline::internal)?;
        let path = dir.join(CHECKPOINT_FILE);
        let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp{}", std::process::id()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&CHECKPOINT_MAGIC).map_err(io)?;
            f.write_all(&fnv64(&payload).to_le_bytes()).map_err(io)?;
            f.write_all(&payload).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)
    }

    fn load(dir: &std::path::Path) -> Result<Self, JobError> {
        let path = dir.join(CHECKPOINT_FILE);
        let bytes =
            std::fs::read(&path).map_err(|e| JobError::Io(format!("{}: {e}", path.display())))?;
        let bad = |why: String| {
            JobError::Usage(format!(
                "{}: not a usable checkpoint: {why}",
                path.display()
            ))
        };
        if bytes.len() < 16 || bytes[..8] != CHECKPOINT_MAGIC {
            return Err(bad(
                "no checkpoint header (not a checkpoint, or one from another foldmem version)"
                    .into(),
            ));
        }
        let (sum, payload) = bytes[8..].split_at(8);
        if sum != fnv64(payload).to_le_bytes() {
            return Err(bad(
                "checksum mismatch (the file is corrupted or truncated)".into(),
            ));
        }
        use bincode::Options;
        let codec = bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .with_limit(8 << 30)
            .reject_trailing_bytes();
        let cp: Checkpoint = match crate::proof::deserialize_caught(codec, payload) {
            Ok(c) => c,
            Err(Some(e)) => return Err(bad(e)),
            Err(None) => return Err(bad("undecodable content".into())),
        };
        cp.native.check_state().map_err(bad)?;
        if cp.segments as u64 > cp.native.time || cp.steps as u64 > 4 * cp.native.time + 4 {
            return Err(bad(format!(
                "{} steps and {} segments for {} ops",
                cp.steps, cp.segments, cp.native.time
            )));
        }
        if cp.start.1 >= cp.native.time || cp.snark.is_none() || cp.pending.is_none() {
            // a checkpoint is written after a folded segment: past its start, with a proof
            return Err(bad(format!(
                "no segment folded (the run starts at op {}, its position is op {})",
                cp.start.1, cp.native.time
            )));
        }
        Ok(cp)
    }
}

/// Where a checkpoint in `dir` stands: `(ops proven, trace hash)`, to check a resumed trace's
/// prefix against.
pub fn checkpoint_position(dir: &std::path::Path) -> Result<(u64, F), JobError> {
    let cp = Checkpoint::load(dir)?;
    Ok((cp.native.time, cp.native.t))
}

/// The ops `[lo, hi)` of range `r` (whole segments of `l` ops), and whether it is the last.
pub fn range_bounds(r: &RangeSpec, l: usize) -> Result<(u64, u64, bool), JobError> {
    if r.count == 0 || r.index >= r.count {
        return Err(JobError::Usage(format!(
            "--range {}/{}: the index must be below the count",
            r.index, r.count
        )));
    }
    let segments = r.total_ops.div_ceil(l as u64).max(1);
    if r.count as u64 > segments {
        return Err(JobError::Usage(format!(
            "--range {}/{}: the trace has only {segments} segments of {l} ops",
            r.index, r.count
        )));
    }
    // in u128: segments·i and segment·l can pass 2^64 for long traces in tiny segments
    let seg = |i: usize| u128::from(segments) * i as u128 / r.count as u128;
    let at = |i: usize| (seg(i) * l as u128).min(u128::from(r.total_ops)) as u64;
    let (lo, hi) = (at(r.index), at(r.index + 1));
    Ok((lo, hi, r.index + 1 == r.count))
}

/// Prove an op stream (a whole trace, or one range of it) with the run options: checkpoints,
/// resumption (the trace is read from its start again and its prefix must hash to the
/// checkpoint's), segment size. A range prover replays the trace before its range natively.
pub(crate) fn run(
    keys: &StreamKeys,
    word_bits: u32,
    ops: &mut dyn Iterator<Item = crate::backend::TraceItem>,
    progress: &mut dyn FnMut(crate::backend::Progress),
    opts: &crate::backend::ProveOptions,
) -> Result<Finished, JobError> {
    let k = keys.shape.ops_per_step;
    let l = StreamProver::segment_len(k, opts.segment_ops)?;
    let sopts = StreamOptions {
        segment_ops: l,
        checkpoint: opts.checkpoint.clone(),
    };
    let (lo, hi, last) = match &opts.range {
        Some(r) => range_bounds(r, l)?,
        None => (0, u64::MAX, true),
    };
    // where proving starts: the range start, or the checkpoint's position
    let mut prover = match &opts.resume {
        Some(dir) => Some(StreamProver::resume(keys, dir, &sopts)?),
        None => None,
    };
    let resume_at = prover.as_ref().map(|p| p.position());
    if let Some(p) = &prover {
        let (at, (_, from)) = (p.position().1, p.start());
        if from != lo || at < lo || at > hi || p.word_bits() != word_bits {
            return Err(JobError::Usage(format!(
                "the checkpoint is of a run from op {from} to op {at} over {}-bit words, not of \
                 this one (from op {lo}, {word_bits}-bit words): resume with the same range \
                 and options",
                p.word_bits()
            )));
        }
    }
    // the range start the checkpoint's proof claims must be this trace's state at `lo`
    let resumed_from = prover.as_ref().map(|p| p.start().0);
    let skip_to = resume_at.map(|(_, at)| at).unwrap_or(lo);
    let mut native = Native::new(keys.shape, word_bits);
    let mut hasher = super::TraceHasher::new(k, word_bits);
    let mut seen = 0u64;
    let mut replay_err = None;
    // on resume: every address the resumed run touched, with its tuple at `lo`
    let mut before: HashMap<u64, (Word, u64)> = HashMap::new();
    if let Some(p) = &prover {
        if lo == 0 && p.start() != (trace_hash_seed(word_bits), 0) {
            return Err(JobError::Usage(
                "the checkpoint's run does not start at the trace's seed (a corrupted or edited \
                 checkpoint)"
                    .into(),
            ));
        }
    }
    let start = |native: Native| StreamProver::from_native(keys, native, &sopts);
    if skip_to == 0 && prover.is_none() {
        prover = Some(start(Native::new(keys.shape, word_bits))?);
    }
    for item in ops {
        let (line, op) = item?;
        if seen == lo && lo > 0 {
            if let Some(from) = resumed_from {
                if hasher.at_step_boundary().map(|(_, h)| h) != Some(from) {
                    return Err(JobError::Input(format!(
                        "line {line}: the trace's first {lo} ops are not the ones the checkpoint's \
                         range starts after"
                    )));
                }
            }
        }
        if seen < skip_to {
            // replayed natively on resume too: the checkpoint's memory must be the prefix's
            hasher.push(&op);
            if resume_at.is_some() && seen >= lo {
                let pre = native.mem.get(&op.addr).copied().unwrap_or((Word::ZERO, 0));
                before.entry(op.addr).or_insert(pre);
            }
            match native.replay(line, &op) {
                // on resume, another prefix is reported as such (its hash) first
                Err(e) if resume_at.is_some() => {
                    replay_err.get_or_insert(e);
                }
                r => r?,
            }
            seen += 1;
            if seen == skip_to {
                let (_, h) = hasher
                    .at_step_boundary()
                    .ok_or_else(|| JobError::Internal("range start inside an op step".into()))?;
                native.set_trace_hash(h);
                // compared, or handed to the range's prover; not kept beyond this block
                let replayed = std::mem::replace(&mut native, Native::new(keys.shape, word_bits));
                let before = std::mem::take(&mut before);
                match &prover {
                    Some(p) if p.position().0 != h => {
                        return Err(JobError::Input(format!(
                            "line {line}: the trace's first {seen} ops are not the ones the \
                             checkpoint proved (their hash differs)"
                        )))
                    }
                    Some(_) if replay_err.is_some() => {
                        return Err(replay_err.take().expect("checked"));
                    }
                    Some(p) if !p.native.same_memory(&replayed) => {
                        return Err(JobError::Usage(format!(
                            "the checkpoint's memory after op {seen} is not what the trace's \
                             first {seen} ops leave (a corrupted or edited checkpoint)"
                        )))
                    }
                    Some(p) if replayed.g_from(&before) != Some(p.native.g) => {
                        return Err(JobError::Usage(format!(
                            "the checkpoint's multiset hash point is not what the trace's ops \
                             {lo}..{seen} give (a corrupted or edited checkpoint)"
                        )))
                    }
                    Some(_) => {}
                    None => prover = Some(start(replayed)?),
                }
            }
            continue;
        }
        if seen >= hi {
            break;
        }
        let p = prover.as_mut().expect("started");
        p.push(line, &op)?;
        seen += 1;
        progress(crate::backend::Progress {
            ops: p.op_count(),
            segments: p.segments(),
        });
    }
    if seen < skip_to {
        return Err(JobError::Input(format!(
            "the trace has {seen} ops, fewer than the {skip_to} before this {}",
            if resume_at.is_some() {
                "checkpoint"
            } else {
                "range"
            }
        )));
    }
    prover.expect("started").finish(last)
}

/// A continuation plan: each range's first op, op count and the start state its prover reaches
/// by native replay (what `foldmem plan` prints).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// 0-based index.
    pub index: usize,
    /// Ops before the range (its start time).
    pub start_time: u64,
    /// Ops in the range.
    pub ops: u64,
    /// Trace hash at its start.
    pub start_hash: F,
}

/// Plan `count` ranges of whole segments of `segment_ops` (`None`: the default) over an op
/// stream (one native pass: consistency check, hash chain, op count; no folding).
pub fn plan(
    shape: StreamShape,
    word_bits: u32,
    ops: &mut dyn Iterator<Item = crate::backend::TraceItem>,
    segment_ops: Option<usize>,
    count: usize,
) -> Result<(u64, Vec<RangePlan>), JobError> {
    let l = StreamProver::segment_len(shape.ops_per_step, segment_ops)?;
    let mut native = Native::new(shape, word_bits);
    let mut hasher = super::TraceHasher::new(shape.ops_per_step, word_bits);
    let mut boundaries: Vec<(u64, F)> = vec![(0, hasher.finish().1)];
    for item in ops {
        let (line, op) = item?;
        native.replay(line, &op)?;
        hasher.push(&op);
        if native.time % l as u64 == 0 {
            boundaries.push((native.time, hasher.finish().1));
        }
    }
    let n = native.time;
    let mut plans = Vec::new();
    for index in 0..count {
        let (lo, hi, _) = range_bounds(
            &RangeSpec {
                index,
                count,
                total_ops: n,
            },
            l,
        )?;
        let start_hash = boundaries
            .iter()
            .find(|(t, _)| *t == lo)
            .map(|(_, h)| *h)
            .ok_or_else(|| JobError::Internal("range start off a segment boundary".into()))?;
        plans.push(RangePlan {
            index,
            start_time: lo,
            ops: hi - lo,
            start_hash,
        });
    }
    Ok((n, plans))
}

#[cfg(test)]
mod tests {
    //! A checkpoint that is corrupted, or that no honest run writes, is refused with its reason;
    //! a resumed run whose folded proof does not check writes no proof.
    use super::*;
    use crate::stream::tests::{ops, shape};
    use std::sync::OnceLock;

    fn keys() -> &'static StreamKeys {
        static K: OnceLock<crate::pipeline::Keys> = OnceLock::new();
        K.get_or_init(|| {
            crate::pipeline::keys(
                crate::proof::Shape::Stream(shape()),
                &crate::pipeline::KeyOptions::none(),
            )
            .expect("keys")
        })
        .downcast::<StreamKeys>()
        .expect("stream keys")
    }

    /// A checkpoint directory after the first of the test ops' segments (4 ops each).
    fn checkpointed(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("foldmem-ck-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = StreamOptions {
            segment_ops: 4,
            checkpoint: Some(dir.clone()),
        };
        let mut p = StreamProver::new(keys(), 64, &opts).expect("prover");
        for (i, op) in ops()[..5].iter().enumerate() {
            p.push(i + 1, op).expect("push");
        }
        assert!(dir.join(CHECKPOINT_FILE).exists());
        dir
    }

    fn resume_err(dir: &std::path::Path) -> String {
        let opts = StreamOptions {
            segment_ops: 4,
            checkpoint: None,
        };
        match StreamProver::resume(keys(), dir, &opts) {
            Ok(_) => panic!("resumed from a bad checkpoint"),
            Err(e) => e.to_string(),
        }
    }

    /// Rewrite the checkpoint in `dir` after `edit` (with a valid checksum).
    fn rewrite(dir: &std::path::Path, edit: impl FnOnce(&mut Checkpoint)) {
        let mut cp = Checkpoint::load(dir).expect("load");
        edit(&mut cp);
        cp.store(dir).expect("store");
    }

    #[test]
    fn a_corrupted_or_truncated_checkpoint_fails_its_checksum() {
        let dir = checkpointed("corrupt");
        let file = dir.join(CHECKPOINT_FILE);
        let good = std::fs::read(&file).unwrap();
        let mut flipped = good.clone();
        let mid = 16 + (good.len() - 16) / 2;
        flipped[mid] ^= 1;
        std::fs::write(&file, &flipped).unwrap();
        assert!(resume_err(&dir).contains("checksum mismatch"));
        std::fs::write(&file, &good[..good.len() - 1]).unwrap();
        assert!(resume_err(&dir).contains("checksum mismatch"));
        std::fs::write(&file, &good[..10]).unwrap();
        assert!(resume_err(&dir).contains("no checkpoint header"));
        std::fs::write(&file, &good).unwrap();
        assert!(StreamProver::resume(keys(), &dir, &StreamOptions::default()).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    type Edit = Box<dyn Fn(&mut Checkpoint)>;

    #[test]
    fn a_checkpoint_no_honest_run_writes_is_refused_with_its_reason() {
        let dir = checkpointed("state");
        let good = std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap();
        let cases: Vec<(&str, Edit)> = vec![
            (
                "G is not on the curve",
                Box::new(|c| c.native.g.y += F::ONE),
            ),
            (
                "time 65536 reaches 2^16",
                Box::new(|c| c.native.time = 1 << 16),
            ),
            ("word size 48 bits", Box::new(|c| c.native.word_bits = 48)),
            (
                "last access at time 9, not in 1..=4",
                Box::new(|c| {
                    c.native.mem.insert(3, (crate::word::Word::ZERO, 9));
                }),
            ),
            (
                "value wider than 32 bits",
                Box::new(|c| {
                    c.native.word_bits = 32;
                    c.native
                        .mem
                        .insert(3, (crate::word::Word::from_u64(1 << 40), 1));
                }),
            ),
            (
                "addresses touched in 4 ops",
                Box::new(|c| {
                    for a in 100..104 {
                        c.native.mem.insert(a, (crate::word::Word::ZERO, 1));
                    }
                }),
            ),
            (
                "no segment folded (the run starts at op 4, its position is op 4)",
                Box::new(|c| c.start.1 = 4),
            ),
            ("no segment folded", Box::new(|c| c.pending = None)),
            (
                "1 steps and 5 segments for 4 ops",
                Box::new(|c| {
                    c.steps = 1;
                    c.segments = 5
                }),
            ),
            (
                "time 5 is not a multiple of the 4 ops per step",
                Box::new(|c| c.native.time = 5),
            ),
            (
                "G is the identity",
                Box::new(|c| {
                    c.native.g = crate::stream::curve::Affine {
                        x: F::ZERO,
                        y: F::ZERO,
                    }
                }),
            ),
        ];
        for (want, edit) in cases {
            std::fs::write(dir.join(CHECKPOINT_FILE), &good).unwrap();
            rewrite(&dir, edit);
            let e = resume_err(&dir);
            assert!(e.contains(want), "{want}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `prove` of the test ops resumed from `dir` (segments of 4 ops): the written proof, or
    /// the error.
    fn prove_resumed(dir: &std::path::Path) -> Result<(), String> {
        use crate::backend::ProofSystem;
        let opts = crate::backend::ProveOptions {
            compress: true,
            segment_ops: Some(4),
            resume: Some(dir.to_path_buf()),
            ..Default::default()
        };
        let all = ops();
        let mut items = crate::trace::numbered(&all);
        keys()
            .prove(64, &mut items, &mut |_| {}, &opts)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_checkpoint_whose_memory_is_not_the_prefix_s_is_refused() {
        let dir = checkpointed("mem");
        prove_resumed(&dir).expect("the honest checkpoint resumes and proves");
        let good = std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap();
        let edits: Vec<Edit> = vec![
            // a value, a time, a missing and an extra address: each passes the load checks
            Box::new(|c| {
                c.native.mem.insert(3, (crate::word::Word::from_u64(8), 2));
            }),
            Box::new(|c| {
                c.native.mem.insert(3, (crate::word::Word::from_u64(7), 1));
            }),
            Box::new(|c| {
                c.native.mem.remove(&200);
            }),
            Box::new(|c| {
                c.native.mem.insert(5, (crate::word::Word::ZERO, 1));
            }),
        ];
        for edit in edits {
            std::fs::write(dir.join(CHECKPOINT_FILE), &good).unwrap();
            rewrite(&dir, edit);
            let e = prove_resumed(&dir).expect_err("an edited memory must be refused");
            assert!(
                e.contains("is not what the trace's first 4 ops leave"),
                "{e}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_checkpoint_whose_g_or_start_is_not_the_prefix_s_is_refused() {
        let dir = checkpointed("g");
        let good = std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap();
        // G moved to another point of the curve: passes every load check
        rewrite(&dir, |c| c.native.g = -c.native.g);
        let e = prove_resumed(&dir).expect_err("an edited G must be refused");
        assert!(
            e.contains("multiset hash point is not what the trace's ops 0..4 give"),
            "{e}"
        );
        std::fs::write(dir.join(CHECKPOINT_FILE), &good).unwrap();
        rewrite(&dir, |c| c.start.0 = F::ONE);
        let e = prove_resumed(&dir).expect_err("another start must be refused");
        assert!(e.contains("does not start at the trace's seed"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_resumed_run_whose_proof_does_not_verify_writes_no_proof() {
        let dir = checkpointed("fold");
        // the pending (closing boundary) step's outgoing value: passes the load and replay checks
        rewrite(&dir, |c| match &mut c.pending {
            Some(Step::Boundary { slots, .. }) => {
                let b = &mut slots[0];
                b.value_out += F::ONE;
                b.h_out = crate::stream::curve::h2c(b.addr, b.value_out, b.time_out).0;
            }
            other => panic!("pending is {other:?}"),
        });
        let e = prove_resumed(&dir).expect_err("a forged checkpoint's proof must not be written");
        assert!(e.contains("the proof does not verify"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
