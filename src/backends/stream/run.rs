//! Proving an op stream with the run options: a whole trace or one range of it, resumed from a
//! checkpoint or not, and planning ranges.

use super::native::Native;
use super::prover::{Finished, StreamOptions, StreamProver};
use super::system::{RangeSpec, StreamRun};
use super::{StreamKeys, StreamShape};
use crate::backend::{Lines, Progress, RangePlan, TraceItem, TracePlan};
use crate::engine::F;
use crate::error::Error;
use crate::hash::trace_hash_seed;
use crate::word::Word;
use std::collections::{HashMap, HashSet};

/// The ops `[lo, hi)` of range `r` (whole segments of `l` ops), and whether it is the last.
pub fn range_bounds(r: &RangeSpec, l: usize) -> Result<(u64, u64, bool), Error> {
    if r.count == 0 || r.index >= r.count {
        return Err(Error::Usage(format!(
            "--range {}/{}: the index must be below the count",
            r.index, r.count
        )));
    }
    let segments = r.total_ops.div_ceil(l as u64).max(1);
    if r.count as u64 > segments {
        return Err(Error::Usage(format!(
            "--range {}/{}: the trace has only {segments} segments of {l} ops (pass a smaller \
             --segment-ops to plan and prove more ranges)",
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
    ops: &mut dyn Iterator<Item = TraceItem>,
    progress: &mut dyn FnMut(Progress),
    opts: &StreamRun,
) -> Result<Finished, Error> {
    let k = keys.shape.ops_per_step;
    let l = StreamProver::segment_len(k, opts.segment_ops)?;
    let sopts = StreamOptions {
        segment_ops: l,
        checkpoint: opts.checkpoint.clone(),
        range: opts.range.as_ref().map(|r| (r.index, r.count)),
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
            return Err(Error::Usage(format!(
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
            return Err(Error::Usage(
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
    for item in &mut *ops {
        let (line, op) = item?;
        if seen == lo && lo > 0 {
            if let Some(from) = resumed_from {
                if hasher.at_step_boundary().map(|(_, h)| h) != Some(from) {
                    return Err(Error::Input(format!(
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
                    .ok_or_else(|| Error::Internal("range start inside an op step".into()))?;
                native.set_trace_hash(h);
                // compared, or handed to the range's prover; not kept beyond this block
                let replayed = std::mem::replace(&mut native, Native::new(keys.shape, word_bits));
                let before = std::mem::take(&mut before);
                match &prover {
                    Some(p) if p.position().0 != h => {
                        return Err(Error::Input(format!(
                            "line {line}: the trace's first {seen} ops are not the ones the \
                             checkpoint proved (their hash differs)"
                        )))
                    }
                    Some(_) if replay_err.is_some() => {
                        return Err(replay_err.take().expect("checked"));
                    }
                    Some(p) if !p.native.same_memory(&replayed) => {
                        return Err(Error::Usage(format!(
                            "the checkpoint's memory after op {seen} is not what the trace's \
                             first {seen} ops leave (a corrupted or edited checkpoint)"
                        )))
                    }
                    Some(p) if replayed.g_from(&before) != Some(p.native.g) => {
                        return Err(Error::Usage(format!(
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
            seen += 1; // counted, not proven: the count check below reads on to the end
            break;
        }
        let p = prover.as_mut().expect("started");
        p.push(line, &op)?;
        seen += 1;
        progress(Progress {
            ops: p.op_count(),
            segments: p.segments(),
        });
    }
    if seen < skip_to {
        return Err(Error::Input(format!(
            "the trace has {seen} ops, fewer than the {skip_to} before this {}",
            if resume_at.is_some() {
                "checkpoint"
            } else {
                "range"
            }
        )));
    }
    if let Some(r) = &opts.range {
        // the bounds came from an op count made before proving: a trace that grew or shrank
        // since would leave this range proving (and the last one auditing) another trace
        let mut n = seen;
        for item in ops {
            item?;
            n += 1;
        }
        if n != r.total_ops {
            return Err(Error::Input(format!(
                "the trace has {n} ops now, not the {} its ranges were counted from (it changed \
                 while being proven): prove ranges of a trace that is complete",
                r.total_ops
            )));
        }
    }
    prover.expect("started").finish(last)
}

/// What one run of a whole trace folds at a segment length: the steps of each kind, counted the
/// way [`StreamProver`] lays them out (`plan` prints it before anything is folded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Segments.
    pub segments: usize,
    /// Distinct addresses of the trace.
    pub distinct: usize,
    /// Boundary slots: one per distinct address of each segment but the last.
    pub boundary_slots: u64,
    /// Op steps.
    pub op: usize,
    /// Boundary steps (curve circuit).
    pub boundary: usize,
    /// Audit steps of the last segment (curve circuit).
    pub audit: usize,
    /// Fresh steps of the last segment (no curve point).
    pub fresh: usize,
}

impl Schedule {
    /// Steps in all.
    pub fn steps(&self) -> usize {
        self.op + self.boundary + self.audit + self.fresh
    }

    /// `key: value` lines for `plan`.
    pub fn lines(&self) -> Lines {
        let curve = self.boundary + self.audit;
        vec![
            ("distinct_addresses", self.distinct.to_string()),
            ("segments", self.segments.to_string()),
            (
                "forecast_steps",
                format!(
                    "op={} boundary={} audit={} fresh={} (one run of the whole trace)",
                    self.op, self.boundary, self.audit, self.fresh
                ),
            ),
            ("forecast_boundary_slots", self.boundary_slots.to_string()),
            (
                "forecast_curve_step_share",
                format!("{:.3}", curve as f64 / self.steps().max(1) as f64),
            ),
        ]
    }
}

/// Counts a trace's [`Schedule`] op by op (addresses and times only; one native pass).
struct ScheduleCounter {
    shape: StreamShape,
    l: usize,
    /// Distinct addresses of the open segment.
    seg: HashSet<u64>,
    /// Time of every address's first access.
    first: HashMap<u64, u64>,
    /// `(ops, distinct addresses)` of every segment so far.
    done: Vec<(usize, usize)>,
}

impl ScheduleCounter {
    fn new(shape: StreamShape, l: usize) -> Self {
        ScheduleCounter {
            shape,
            l,
            seg: HashSet::new(),
            first: HashMap::new(),
            done: Vec::new(),
        }
    }

    /// The op at `time` (1-based) accessed `addr`.
    fn push(&mut self, addr: u64, time: u64) {
        self.seg.insert(addr);
        self.first.entry(addr).or_insert(time);
        if time % self.l as u64 == 0 {
            self.done.push((self.l, self.seg.len()));
            self.seg.clear();
        }
    }

    /// The schedule of a trace of `time` ops.
    fn finish(mut self, time: u64) -> Schedule {
        let (k, m) = (self.shape.ops_per_step, self.shape.boundary_slots);
        let open = (time % self.l as u64) as usize;
        if open > 0 {
            self.done.push((open, self.seg.len()));
        }
        let Some(((_, _), earlier)) = self.done.split_last() else {
            // an empty trace: a padding boundary step opens the segment, a padding audit closes it
            return Schedule {
                segments: 1,
                boundary: 1,
                audit: 1,
                ..Schedule::default()
            };
        };
        let last_start = (earlier.len() * self.l) as u64;
        let mut addrs: Vec<(u64, u64)> = self.first.into_iter().collect();
        addrs.sort_unstable();
        let fresh: Vec<bool> = addrs.iter().map(|(_, t)| *t > last_start).collect();
        let layout = super::native::final_layout(&fresh, m, self.shape.fresh_slots());
        let fresh_steps = layout.iter().filter(|(f, _)| *f).count();
        Schedule {
            segments: self.done.len(),
            distinct: addrs.len(),
            boundary_slots: earlier.iter().map(|(_, d)| *d as u64).sum(),
            op: self.done.iter().map(|(n, _)| n.div_ceil(k)).sum(),
            boundary: earlier.iter().map(|(_, d)| d.div_ceil(m).max(1)).sum(),
            audit: layout.len() - fresh_steps,
            fresh: fresh_steps,
        }
    }
}

/// Plan `count` ranges of whole segments of `segment_ops` (`None`: the default) over an op
/// stream (one native pass: consistency check, hash chain, op count; no folding), with the
/// [`Schedule`] of one run over the whole trace as its forecast.
pub fn plan(
    shape: StreamShape,
    word_bits: u32,
    ops: &mut dyn Iterator<Item = TraceItem>,
    segment_ops: Option<usize>,
    count: usize,
) -> Result<TracePlan, Error> {
    let (n, ranges, schedule) = plan_with_schedule(shape, word_bits, ops, segment_ops, count)?;
    Ok(TracePlan {
        ops: n,
        ranges,
        forecast: schedule.lines(),
    })
}

/// [`plan`] with its [`Schedule`] as a value.
pub fn plan_with_schedule(
    shape: StreamShape,
    word_bits: u32,
    ops: &mut dyn Iterator<Item = TraceItem>,
    segment_ops: Option<usize>,
    count: usize,
) -> Result<(u64, Vec<RangePlan>, Schedule), Error> {
    let l = StreamProver::segment_len(shape.ops_per_step, segment_ops)?;
    let mut native = Native::new(shape, word_bits);
    let mut hasher = super::TraceHasher::new(shape.ops_per_step, word_bits);
    let mut schedule = ScheduleCounter::new(shape, l);
    let mut boundaries: Vec<(u64, F)> = vec![(0, hasher.finish().1)];
    for item in ops {
        let (line, op) = item?;
        native.replay(line, &op)?;
        hasher.push(&op);
        schedule.push(op.addr, native.time);
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
            .ok_or_else(|| Error::Internal("range start off a segment boundary".into()))?;
        plans.push(RangePlan {
            index,
            start_time: lo,
            ops: hi - lo,
            start_hash,
            segment_ops: l,
        });
    }
    Ok((n, plans, schedule.finish(n)))
}
