//! The native side of the streaming prover: the trace hash, and the memory (last value and time
//! of every touched address) that turns each segment into circuit steps, the last one with the
//! audit.

use super::circuit::{AuditSlot, BoundarySlot, FreshSlot, OpSlot, Opening, Step};
use super::curve::{self, base_point, Affine};
use super::hasher::{op_step_elements, op_tag, pack_into};
use super::StreamShape;
use crate::engine::F;
use crate::error::Error;
use crate::hash::trace_hash_seed;
use crate::hash::{chain32_absorb, challenge6_native};
use crate::trace::{Op, TraceError};
use crate::word::Word;
use ff::Field;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An address a segment touched, with its `(value, time)` before the segment.
type Touched = (u64, (Word, u64));

/// The native side of the prover: memory (last value and time of each touched address), the
/// running trace hash, time and multiset-hash point. Turns segments into circuit steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Native {
    pub(crate) shape: StreamShape,
    pub(crate) word_bits: u32,
    pub(crate) t: F,
    pub(crate) time: u64,
    pub(crate) g: Affine,
    /// Last value and time of every touched address.
    pub(crate) mem: HashMap<u64, (Word, u64)>,
}

impl Native {
    /// The empty memory at the start of a trace.
    pub fn new(shape: StreamShape, word_bits: u32) -> Self {
        Native {
            shape,
            word_bits,
            t: trace_hash_seed(word_bits),
            time: 0,
            g: base_point(),
            mem: HashMap::new(),
        }
    }

    /// Why this state (e.g. read from a checkpoint) is not one an honest prover can reach, if it
    /// is not: an invalid shape or word size, a time past `2^time_bits`, `G` off the curve, or a
    /// memory entry whose value does not fit the word or whose time is not in `1..=time`.
    pub fn check_state(&self) -> Result<(), String> {
        use crate::backend::ShapeSpec;
        self.shape.validate().map_err(|e| format!("shape: {e}"))?;
        if !crate::trace::WORD_BITS.contains(&self.word_bits) {
            return Err(format!("word size {} bits", self.word_bits));
        }
        if self.time >= 1u64 << self.shape.time_bits {
            return Err(format!(
                "time {} reaches 2^{}",
                self.time, self.shape.time_bits
            ));
        }
        if self.time % self.shape.ops_per_step as u64 != 0 {
            return Err(format!(
                "time {} is not a multiple of the {} ops per step",
                self.time, self.shape.ops_per_step
            ));
        }
        match self.g.to_point() {
            None => return Err("the multiset hash point G is not on the curve".into()),
            Some(p) if bool::from(pasta_curves::group::Group::is_identity(&p)) => {
                return Err("the multiset hash point G is the identity".into())
            }
            Some(_) => {}
        }
        if self.mem.len() as u64 > self.time {
            return Err(format!(
                "{} addresses touched in {} ops",
                self.mem.len(),
                self.time
            ));
        }
        for (a, (w, t)) in &self.mem {
            if !w.fits(self.word_bits) {
                return Err(format!(
                    "address {a:#x}: value wider than {} bits",
                    self.word_bits
                ));
            }
            if !(1..=self.time).contains(t) {
                return Err(format!(
                    "address {a:#x}: last access at time {t}, not in 1..={}",
                    self.time
                ));
            }
        }
        Ok(())
    }

    /// True if `other` holds the same trace position and memory (word size, trace hash, time,
    /// last value and time of every address): what a native replay of a checkpoint's prefix
    /// must reproduce. `G` is not compared (a native replay does not hash to the curve).
    pub fn same_memory(&self, other: &Native) -> bool {
        (self.word_bits, self.t, self.time) == (other.word_bits, other.t, other.time)
            && self.mem == other.mem
    }

    /// The multiset-hash point a run that started at `S` stands at now, if `before` holds the
    /// tuple before the run of every address the run touched (`(0, 0)` if never accessed):
    /// `S + Σ H(a, now) − H(a, before)`, what its segments' boundary slots add up to whatever
    /// the segment cuts (each address's moves telescope). `None` if it is the identity.
    pub fn g_from(&self, before: &HashMap<u64, (Word, u64)>) -> Option<Affine> {
        let h = |a: u64, (w, t): (Word, u64)| {
            curve::h2c(F::from(a), self.field(&w), F::from(t))
                .1
                .to_point()
                .expect("hashed to the curve")
        };
        let mut acc = base_point().to_point().expect("S is on the curve");
        for (a, pre) in before {
            let now = self.mem.get(a).copied().unwrap_or((Word::ZERO, 0));
            acc += h(*a, now) - h(*a, *pre);
        }
        Affine::from_point(acc)
    }

    /// Trace hash so far.
    pub fn trace_hash(&self) -> F {
        self.t
    }
    /// Ops so far.
    pub fn time(&self) -> u64 {
        self.time
    }
    /// Distinct addresses touched so far.
    pub fn touched(&self) -> usize {
        self.mem.len()
    }

    fn field(&self, w: &Word) -> F {
        w.to_field(self.word_bits)
    }

    /// Check and apply one op natively (no proof): the replay of a range prover's prefix.
    pub fn replay(&mut self, line: usize, op: &Op) -> Result<(), Error> {
        let held = self.held(op.addr);
        self.check(line, op, held, self.time + 1)?;
        self.time += 1;
        self.mem.insert(op.addr, (op.value, self.time));
        Ok(())
    }

    /// Set the trace hash after a native replay (the hash of the replayed prefix).
    pub fn set_trace_hash(&mut self, t: F) {
        self.t = t;
    }

    pub(crate) fn held(&self, addr: u64) -> Word {
        self.mem.get(&addr).map(|(w, _)| *w).unwrap_or(Word::ZERO)
    }

    /// Refuse an op the memory holding `held` at `addr` cannot have produced at time `time`.
    fn check(&self, line: usize, op: &Op, held: Word, time: u64) -> Result<(), Error> {
        if !op.value.fits(self.word_bits) {
            return Err(Error::Input(format!(
                "line {line}: value {} does not fit in a {}-bit word",
                op.value, self.word_bits
            )));
        }
        if time >= 1u64 << self.shape.time_bits {
            return Err(Error::Input(format!(
                "line {line}: the trace is longer than the shape's 2^{} ops",
                self.shape.time_bits
            )));
        }
        if !op.kind.is_write() && held != op.value {
            return Err(TraceError::Inconsistent {
                line,
                addr: op.addr,
                got: op.value,
                expected: held,
            }
            .into());
        }
        Ok(())
    }

    /// Check every op of a segment first (an inconsistent op is refused before anything of the
    /// segment is applied), then build its steps: op steps, then boundary steps, the last one
    /// closing the segment. A segment is whole op steps unless it is the trace's last.
    pub fn segment(&mut self, ops: &[(usize, Op)]) -> Result<Vec<Step>, Error> {
        self.check_segment(ops)?;
        Ok(self.segment_unchecked(ops))
    }

    /// Check the trace's last segment like [`Native::segment`], then build its steps: op steps,
    /// then the final steps (audit and fresh) over every address, the last one closing the
    /// segment. Also returns the last audited address.
    pub fn last_segment(&mut self, ops: &[(usize, Op)]) -> Result<(Vec<Step>, Option<u64>), Error> {
        self.check_segment(ops)?;
        Ok(self.last_segment_unchecked(ops))
    }

    /// [`Native::segment`], with the steps built as they are taken ([`LazySteps`]): the prover's
    /// way, which holds the segment's ops rather than its op slots while it folds.
    pub fn segment_lazy(&mut self, ops: Vec<(usize, Op)>) -> Result<LazySteps, Error> {
        self.check_segment(&ops)?;
        Ok(self.seal_lazy(ops, false).0)
    }

    /// [`Native::last_segment`], with the steps built as they are taken ([`LazySteps`]).
    pub fn last_segment_lazy(
        &mut self,
        ops: Vec<(usize, Op)>,
    ) -> Result<(LazySteps, Option<u64>), Error> {
        self.check_segment(&ops)?;
        Ok(self.seal_lazy(ops, true))
    }

    /// Apply a checked segment's ops (the trace's last if `last`), hashing each op step as it
    /// is built and dropping it, then build the closing (or final) steps, seal the segment and
    /// hand back its steps to be rebuilt one at a time.
    fn seal_lazy(&mut self, ops: Vec<(usize, Op)>, last: bool) -> (LazySteps, Option<u64>) {
        let (ts, tms) = (self.t, self.time);
        let mut h = SegmentHasher::new(self.shape.time_bits, ts, tms, false);
        let first = self.op_steps_into(&ops, None, |s| h.absorb(&s));
        let mem: HashMap<u64, (Word, u64)> = first.iter().copied().collect();
        let (tail, last_addr) = if last {
            self.final_tail(first, ops.is_empty())
        } else {
            (self.boundary_tail(&first), None)
        };
        for s in &tail {
            h.absorb(s);
        }
        let (open, t) = h.finish();
        self.t = t;
        self.g = move_g(self.g, &tail);
        let steps = LazySteps {
            ops,
            next: 0,
            k: self.shape.ops_per_step,
            word_bits: self.word_bits,
            mem,
            time: tms,
            open: Some(open),
            tail: tail.into_iter(),
        };
        (steps, last_addr)
    }

    pub(crate) fn check_segment(&self, ops: &[(usize, Op)]) -> Result<(), Error> {
        let mut shadow: HashMap<u64, Word> = HashMap::new();
        for (i, (line, op)) in ops.iter().enumerate() {
            let held = shadow
                .get(&op.addr)
                .copied()
                .unwrap_or_else(|| self.held(op.addr));
            self.check(*line, op, held, self.time + i as u64 + 1)?;
            if op.kind.is_write() {
                shadow.insert(op.addr, op.value);
            }
        }
        Ok(())
    }

    /// Apply a segment's ops to the memory: its op steps (`k` slots each, or as `layout` cuts
    /// them), and the addresses it touched in first-touch order with their tuple before the
    /// segment.
    fn op_steps(
        &mut self,
        ops: &[(usize, Op)],
        layout: Option<&[StepLayout]>,
    ) -> (Vec<Step>, Vec<Touched>) {
        // the steps are built in place: a segment's slots are its largest allocation (136 bytes
        // an op), so they are not also held in one flat vector
        let mut steps = Vec::new();
        let first = self.op_steps_into(ops, layout, |s| steps.push(s));
        (steps, first)
    }

    /// [`Native::op_steps`], handing each op step to `each` as it is built (the lazy prover
    /// hashes it and drops it) instead of collecting them.
    fn op_steps_into(
        &mut self,
        ops: &[(usize, Op)],
        layout: Option<&[StepLayout]>,
        mut each: impl FnMut(Step),
    ) -> Vec<Touched> {
        let k = self.shape.ops_per_step;
        let mut first: Vec<Touched> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut slot_of = |me: &mut Self, op: &Op| {
            let wb = me.word_bits;
            let (slot, before) = op_slot(&mut me.mem, &mut me.time, wb, op);
            if seen.insert(op.addr) {
                first.push((op.addr, before));
            }
            slot
        };
        match layout {
            Some(layout) => {
                let mut next = ops.iter();
                for l in layout {
                    let mut slots = Vec::with_capacity(l.slots);
                    for &en in &l.enabled {
                        match if en { next.next() } else { None } {
                            Some((_, op)) => slots.push(slot_of(self, op)),
                            None => slots.push(OpSlot::default()),
                        }
                    }
                    slots.resize(l.slots, OpSlot::default());
                    each(op_step(slots));
                }
            }
            None => {
                for chunk in ops.chunks(k) {
                    each(op_step(padded(
                        chunk.iter().map(|(_, op)| slot_of(self, op)),
                        k,
                    )));
                }
            }
        }
        first
    }

    /// [`Native::segment`] without the consistency check: what a forging prover starts from
    /// (previous values and times still come from this memory). The circuits and the verifier
    /// must refuse whatever it builds for an inconsistent segment.
    pub fn segment_unchecked(&mut self, ops: &[(usize, Op)]) -> Vec<Step> {
        self.segment_laid_out(ops, None)
    }

    /// [`Native::segment_unchecked`] with the op steps cut as `layout` says (`None`: `k` slots
    /// a step), for a segment whose ops were checked.
    pub(crate) fn segment_laid_out(
        &mut self,
        ops: &[(usize, Op)],
        layout: Option<&[StepLayout]>,
    ) -> Vec<Step> {
        let (ts, tms) = (self.t, self.time);
        let (mut steps, first) = self.op_steps(ops, layout);
        steps.extend(self.boundary_tail(&first));
        self.seal(ts, tms, self.g, &mut steps, layout.is_some());
        steps
    }

    /// The steps that close a segment (not the trace's last) after its op steps: one boundary
    /// slot per address it touched (`first`), its tuple before and after the segment, the last
    /// step closing.
    fn boundary_tail(&self, first: &[Touched]) -> Vec<Step> {
        let m = self.shape.boundary_slots;
        let mut bslots: Vec<BoundarySlot> = first
            .iter()
            .map(|(addr, (wi, ti))| {
                let (wo, to) = self.mem[addr];
                boundary_slot(
                    F::from(*addr),
                    (self.field(wi), F::from(*ti)),
                    (self.field(&wo), F::from(to)),
                )
            })
            .collect();
        bslots.resize(bslots.len().div_ceil(m).max(1) * m, padding_boundary());
        let nb = bslots.len() / m;
        bslots
            .chunks(m)
            .enumerate()
            .map(|(j, c)| Step::Boundary {
                open: Opening::default(),
                slots: c.to_vec(),
                close: j == nb - 1,
            })
            .collect()
    }

    /// [`Native::last_segment`] without the consistency check (a forging prover's start).
    ///
    /// Every address, increasing, gets one final slot. An address the segment touched first
    /// (never accessed before) gets a fresh slot; the others get audit slots, with their tuple
    /// before the segment and, if touched, after it. Steps follow [`final_layout`]; fresh
    /// addresses in an audit step are touched audit slots from `(a, 0, 0)`.
    pub fn last_segment_unchecked(&mut self, ops: &[(usize, Op)]) -> (Vec<Step>, Option<u64>) {
        self.last_segment_laid_out(ops, None)
    }

    /// [`Native::last_segment_unchecked`] with the op steps cut as `layout` says.
    pub(crate) fn last_segment_laid_out(
        &mut self,
        ops: &[(usize, Op)],
        layout: Option<&[StepLayout]>,
    ) -> (Vec<Step>, Option<u64>) {
        let (ts, tms) = (self.t, self.time);
        let (mut steps, first) = self.op_steps(ops, layout);
        let (tail, last) = self.final_tail(first, steps.is_empty());
        steps.extend(tail);
        self.seal(ts, tms, self.g, &mut steps, layout.is_some());
        (steps, last)
    }

    /// The steps of the trace's last segment after its op steps (`no_ops`: it has none): the
    /// final steps over every address, the last one closing, after a padding boundary step
    /// that opens the segment if it has no op step. Also returns the last audited address.
    fn final_tail(&self, first: Vec<Touched>, no_ops: bool) -> (Vec<Step>, Option<u64>) {
        let (m, mf) = (self.shape.boundary_slots, self.shape.fresh_slots());
        let mut steps = Vec::new();
        if no_ops {
            // no ops (an empty trace): a padding boundary step opens the segment
            steps.push(Step::Boundary {
                open: Opening::default(),
                slots: vec![padding_boundary(); m],
                close: false,
            });
        }
        let before: HashMap<u64, (Word, u64)> = first.into_iter().collect();
        let mut addrs: Vec<u64> = self.mem.keys().copied().collect();
        addrs.sort_unstable();
        let fresh = |a: &u64| before.get(a).is_some_and(|(_, t)| *t == 0);
        let mut last: Option<u64> = None;
        let mut gap = |a: u64| {
            let g = match last {
                None => a,
                Some(l) => a - l - 1,
            };
            last = Some(a);
            g
        };
        let is_fresh: Vec<bool> = addrs.iter().map(fresh).collect();
        let mut finals: Vec<Step> = Vec::new();
        let mut i = 0;
        for (fresh_step, n) in final_layout(&is_fresh, m, mf) {
            if fresh_step {
                let mut slots: Vec<FreshSlot> = addrs[i..i + n]
                    .iter()
                    .map(|a| {
                        let (w, t) = self.mem[a];
                        FreshSlot {
                            enabled: true,
                            addr: F::from(*a),
                            value: self.field(&w),
                            time: F::from(t),
                            gap: gap(*a),
                        }
                    })
                    .collect();
                slots.resize(mf, FreshSlot::default());
                finals.push(Step::Fresh {
                    slots,
                    close: false,
                });
            } else {
                let mut slots: Vec<AuditSlot> = addrs[i..i + n]
                    .iter()
                    .map(|a| {
                        let now = self.mem[a];
                        let (x, out) = match before.get(a) {
                            Some(pre) => (*pre, Some(now)),
                            None => (now, None),
                        };
                        self.audit_slot(*a, x, out, gap(*a))
                    })
                    .collect();
                slots.resize(m, padding_audit());
                finals.push(Step::Audit {
                    slots,
                    close: false,
                });
            }
            i += n;
        }
        if finals.is_empty() {
            finals.push(Step::Audit {
                slots: vec![padding_audit(); m],
                close: false,
            });
        }
        if let Some(Step::Audit { close, .. } | Step::Fresh { close, .. }) = finals.last_mut() {
            *close = true;
        }
        steps.extend(finals);
        (steps, last)
    }

    /// Close a segment's steps natively: its challenges into the opening step, the trace hash
    /// after it, and `G` moved from `g0` by its slots (from the segment's start `ts`, `tms`).
    pub(crate) fn seal(&mut self, ts: F, tms: u64, g0: Affine, steps: &mut [Step], prefixed: bool) {
        self.t = open_segment_steps_with(self.shape.time_bits, ts, tms, steps, prefixed);
        self.g = move_g(g0, steps);
    }

    /// An enabled audit slot for `addr`: `x` its tuple before the last segment, `out` its tuple
    /// after it if the segment touched it.
    fn audit_slot(
        &self,
        addr: u64,
        (wx, tx): (Word, u64),
        out: Option<(Word, u64)>,
        gap: u64,
    ) -> AuditSlot {
        let (af, v, t) = (F::from(addr), self.field(&wx), F::from(tx));
        let (vo, to) = out
            .map(|(w, t)| (self.field(&w), F::from(t)))
            .unwrap_or((F::ZERO, F::ZERO));
        AuditSlot {
            enabled: true,
            touched: out.is_some(),
            addr: af,
            value: v,
            time: t,
            value_out: vo,
            time_out: to,
            gap,
            h_init: curve::h2c(af, F::ZERO, F::ZERO).0,
            h_final: curve::h2c(af, v, t).0,
        }
    }

    /// What a forging prover does: [`Native::segment_unchecked`], then `edit` on the steps'
    /// witnesses, then the challenges, trace hash and `G` re-derived from the edited witnesses
    /// (so a forgery meets the circuit's checks, not a stale challenge).
    pub fn segment_forged(
        &mut self,
        ops: &[(usize, Op)],
        edit: impl FnOnce(&mut Vec<Step>),
    ) -> Vec<Step> {
        let (ts, tms, g0) = (self.t, self.time, self.g);
        let mut steps = self.segment_unchecked(ops);
        edit(&mut steps);
        self.seal(ts, tms, g0, &mut steps, false);
        steps
    }

    /// [`Native::last_segment_unchecked`] with `edit` on its steps (op steps, then the final
    /// steps), the challenges, trace hash and `G` re-derived: a forging prover's last segment.
    pub fn last_segment_forged(
        &mut self,
        ops: &[(usize, Op)],
        edit: impl FnOnce(&mut Vec<Step>),
    ) -> Vec<Step> {
        let (ts, tms, g0) = (self.t, self.time, self.g);
        let (mut steps, _) = self.last_segment_unchecked(ops);
        edit(&mut steps);
        self.seal(ts, tms, g0, &mut steps, false);
        steps
    }
}

/// How the last segment's final steps cover its addresses, in increasing order (`fresh[i]`: the
/// `i`-th was first touched in the last segment): `(is_fresh_step, n)` per step, `n` consecutive
/// addresses. A run of at least `m` consecutive fresh addresses, or the run that ends the list if
/// a step starts there, fills fresh steps of up to `mf` slots (so a trace of one segment, every
/// address fresh, hashes no point at all); everything else goes into audit steps of up to `m`,
/// each stopping only before a run of at least `m`.
pub(crate) fn final_layout(fresh: &[bool], m: usize, mf: usize) -> Vec<(bool, usize)> {
    let len = fresh.len();
    // run[i]: consecutive fresh addresses from i
    let mut run = vec![0usize; len + 1];
    for i in (0..len).rev() {
        run[i] = if fresh[i] { run[i + 1] + 1 } else { 0 };
    }
    let fresh_step_at = |j: usize| run[j] >= m || (run[j] > 0 && j + run[j] == len);
    let mut out = Vec::new();
    let mut i = 0;
    while i < len {
        let step = if fresh_step_at(i) {
            (true, run[i].min(mf))
        } else {
            let mut n = 1;
            while n < m && i + n < len && run[i + n] < m {
                n += 1;
            }
            (false, n)
        };
        out.push(step);
        i += step.1;
    }
    out
}

/// How the in-fold gadget cuts a segment's ops into steps: one entry per user step, its slot
/// count and which of its calls are enabled (each enabled call takes the segment's next op; the
/// slots past `enabled` are disabled).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StepLayout {
    /// Slots of the step's circuit.
    pub slots: usize,
    /// The step's calls in order: enabled or not.
    pub enabled: Vec<bool>,
}

/// The op slot of the next op on a memory `mem` at `time` (both advanced past it), and the
/// address's `(value, time)` before it. The one place an op becomes a slot: the eager steps and
/// the lazy ones ([`LazySteps`]) both call it.
fn op_slot(
    mem: &mut HashMap<u64, (Word, u64)>,
    time: &mut u64,
    word_bits: u32,
    op: &Op,
) -> (OpSlot, (Word, u64)) {
    let (pw, pt) = mem.get(&op.addr).copied().unwrap_or((Word::ZERO, 0));
    *time += 1;
    let slot = OpSlot {
        enabled: true,
        is_write: op.kind.is_write(),
        is_stack: op.kind.is_stack(),
        addr: F::from(op.addr),
        value: op.value.to_field(word_bits),
        prev_value: pw.to_field(word_bits),
        prev_time: F::from(pt),
    };
    mem.insert(op.addr, (op.value, *time));
    (slot, (pw, pt))
}

/// `slots` padded with disabled slots to `k`.
fn padded(slots: impl Iterator<Item = OpSlot>, k: usize) -> Vec<OpSlot> {
    let mut v = Vec::with_capacity(k);
    v.extend(slots);
    v.resize(k, OpSlot::default());
    v
}

/// A segment's steps, built one at a time while the prover folds them: the segment's ops are
/// held (56 bytes an op) instead of its op slots (136 bytes an op), with the tuple before the
/// segment of each address it touched until its op steps are out, and each op step's slots
/// exist only while it is folded. Yields exactly the steps [`Native::segment`] (or
/// [`Native::last_segment`]) builds: the challenges were computed from the same slots, hashed
/// and dropped one step at a time, when the segment was sealed.
pub struct LazySteps {
    ops: Vec<(usize, Op)>,
    next: usize,
    k: usize,
    word_bits: u32,
    /// `(value, time)` of each address the segment touched, from before it, advanced op by op.
    mem: HashMap<u64, (Word, u64)>,
    time: u64,
    open: Option<Opening>,
    tail: std::vec::IntoIter<Step>,
}

impl LazySteps {
    /// Steps not yet yielded.
    pub fn remaining(&self) -> usize {
        (self.ops.len() - self.next).div_ceil(self.k) + self.tail.len()
    }
}

impl Iterator for LazySteps {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let mut step = if self.next < self.ops.len() {
            let end = (self.next + self.k).min(self.ops.len());
            let (mem, time, wb) = (&mut self.mem, &mut self.time, self.word_bits);
            let slots = self.ops[self.next..end]
                .iter()
                .map(|(_, op)| op_slot(mem, time, wb, op).0);
            let step = op_step(padded(slots, self.k));
            self.next = end;
            if end == self.ops.len() {
                // the op steps are out: free the ops and their addresses before the tail folds
                (self.ops, self.next, self.mem) = (Vec::new(), 0, HashMap::new());
            }
            step
        } else {
            self.tail.next()?
        };
        if let Some(open) = self.open.take() {
            // the segment's first step opens it, as in `open_segment_steps_with`
            if let Step::Op { open: o, .. } | Step::Boundary { open: o, .. } = &mut step {
                *o = open;
            }
        }
        Some(step)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl ExactSizeIterator for LazySteps {}

/// An op step of `slots` that opens no segment (the opening is set when the segment is sealed).
fn op_step(slots: Vec<OpSlot>) -> Step {
    Step::Op {
        open: Opening::default(),
        slots,
    }
}

/// An enabled boundary slot for `addr` with its tuples before and after the segment (hashed to
/// the curve with the first counters that work).
pub fn boundary_slot(addr: F, (vi, ti): (F, F), (vo, to): (F, F)) -> BoundarySlot {
    BoundarySlot {
        enabled: true,
        addr,
        value_in: vi,
        time_in: ti,
        value_out: vo,
        time_out: to,
        h_in: curve::h2c(addr, vi, ti).0,
        h_out: curve::h2c(addr, vo, to).0,
    }
}

/// A disabled audit slot (all values 0, still valid hash-to-curve witnesses).
pub fn padding_audit() -> AuditSlot {
    let (w, _) = curve::h2c(F::ZERO, F::ZERO, F::ZERO);
    AuditSlot {
        h_init: w,
        h_final: w,
        ..AuditSlot::default()
    }
}

/// A disabled boundary slot (all values 0, still a valid hash-to-curve witness).
pub fn padding_boundary() -> BoundarySlot {
    let (w, _) = curve::h2c(F::ZERO, F::ZERO, F::ZERO);
    BoundarySlot {
        h_in: w,
        h_out: w,
        ..BoundarySlot::default()
    }
}

/// The x-coordinate a curve slot's chain absorbs for the tuple `(a, v, t)` hashed with witness
/// `w` (0 if the witness does not hash to the curve: the circuit refuses it anyway).
fn hashed_x(a: F, v: F, t: F, w: curve::H2cWitness) -> F {
    curve::h2c_with(a, v, t, w).map(|p| p.x).unwrap_or(F::ZERO)
}

/// Derive a segment's challenges from its steps' witnesses — `γ, α = H(TS, T, TMS, PCH, BCH, ·)`
/// exactly as the closing circuit recomputes them — and put them into the opening step. Returns
/// the trace hash after the segment. (A forging prover edits witnesses and calls this again.)
pub fn open_segment_steps(time_bits: u32, ts: F, tms: u64, steps: &mut [Step]) -> F {
    open_segment_steps_with(time_bits, ts, tms, steps, false)
}

/// [`open_segment_steps`]; `prefixed`: each op step with slots absorbs its slot count into `T`
/// first (the in-fold gadget's steps, whose sizes differ by circuit).
pub(crate) fn open_segment_steps_with(
    time_bits: u32,
    ts: F,
    tms: u64,
    steps: &mut [Step],
    prefixed: bool,
) -> F {
    let mut h = SegmentHasher::new(time_bits, ts, tms, prefixed);
    for s in steps.iter() {
        h.absorb(s);
    }
    let (open, t) = h.finish();
    if let Some(Step::Op { open: o, .. } | Step::Boundary { open: o, .. }) = steps.first_mut() {
        *o = open;
    }
    t
}

/// A segment's challenges computed step by step, as the closing circuit recomputes them: the
/// chains `T`, `PCH` and `BCH` absorb each step in order, then `γ, α = H(TS, T, TMS, PCH, BCH, ·)`.
/// Lets the prover hash a segment's op steps one at a time and drop each ([`LazySteps`]).
pub(crate) struct SegmentHasher {
    ts: F,
    tms: u64,
    t: F,
    pch: F,
    bch: F,
    time: F,
    per: usize,
    shift: F,
    prefixed: bool,
}

impl SegmentHasher {
    /// A segment opening at trace hash `ts` and time `tms`; `prefixed` as in
    /// [`open_segment_steps_with`].
    pub(crate) fn new(time_bits: u32, ts: F, tms: u64, prefixed: bool) -> Self {
        SegmentHasher {
            ts,
            tms,
            t: ts,
            pch: F::ZERO,
            bch: F::ZERO,
            time: F::from(tms),
            per: super::circuit::gaps_per_element(time_bits),
            shift: F::from(2).pow_vartime([u64::from(time_bits)]),
            prefixed,
        }
    }

    /// Absorb the segment's next step.
    pub(crate) fn absorb(&mut self, s: &Step) {
        match s {
            Step::Op { slots, .. } => {
                let prefix =
                    (self.prefixed && !slots.is_empty()).then(|| F::from(slots.len() as u64));
                let pairs: Vec<F> = prefix
                    .into_iter()
                    .chain(slots.iter().flat_map(|s| [s.addr, s.value]))
                    .collect();
                let tags: Vec<u64> = slots
                    .iter()
                    .map(|s| op_tag(s.is_write, s.is_stack, s.enabled))
                    .collect();
                self.t = chain32_absorb(self.t, &op_step_elements(pairs, &tags));
                // previous values, then the time gaps en·(t − 1 − pt) packed `per` to an element
                let mut px: Vec<F> = slots.iter().map(|s| s.prev_value).collect();
                let time = &mut self.time;
                let gaps: Vec<F> = slots
                    .iter()
                    .map(|s| {
                        if s.enabled {
                            *time += F::ONE;
                            *time - F::ONE - s.prev_time
                        } else {
                            F::ZERO
                        }
                    })
                    .collect();
                pack_into(&mut px, &gaps, self.per, self.shift);
                self.pch = chain32_absorb(self.pch, &px);
            }
            Step::Boundary { slots, .. } => {
                let bx: Vec<F> = slots
                    .iter()
                    .flat_map(|s| {
                        [
                            hashed_x(s.addr, s.value_in, s.time_in, s.h_in),
                            s.value_out,
                            s.time_out,
                            F::from(s.enabled as u64),
                        ]
                    })
                    .collect();
                self.bch = chain32_absorb(self.bch, &bx);
            }
            Step::Audit { slots, .. } => {
                let bx: Vec<F> = slots
                    .iter()
                    .flat_map(|s| {
                        [
                            hashed_x(s.addr, s.value, s.time, s.h_final),
                            s.value_out,
                            s.time_out,
                            F::from(s.touched as u64),
                        ]
                    })
                    .collect();
                self.bch = chain32_absorb(self.bch, &bx);
            }
            Step::Fresh { slots, .. } => {
                let bx: Vec<F> = slots
                    .iter()
                    .flat_map(|s| [s.addr, s.value, s.time])
                    .collect();
                self.bch = chain32_absorb(self.bch, &bx);
            }
        }
    }

    /// The segment's challenges and the trace hash after it.
    pub(crate) fn finish(&self) -> (Opening, F) {
        let ins = [self.ts, self.t, F::from(self.tms), self.pch, self.bch];
        let open = Opening {
            gamma: challenge6_native(ins, 1),
            alpha: challenge6_native(ins, 2),
        };
        (open, self.t)
    }
}

/// `G` after the enabled boundary and audit slots of `steps` (fresh slots do not move it).
pub fn move_g(g: Affine, steps: &[Step]) -> Affine {
    let pt = |p: Option<Affine>| p.and_then(|p| p.to_point()).expect("hashed point");
    let mut acc = g.to_point().expect("G on the curve");
    for s in steps {
        match s {
            Step::Boundary { slots, .. } => {
                for b in slots.iter().filter(|b| b.enabled) {
                    acc += pt(curve::h2c_with(b.addr, b.value_out, b.time_out, b.h_out))
                        - pt(curve::h2c_with(b.addr, b.value_in, b.time_in, b.h_in));
                }
            }
            Step::Audit { slots, .. } => {
                for a in slots.iter().filter(|a| a.enabled) {
                    acc += pt(curve::h2c_with(a.addr, F::ZERO, F::ZERO, a.h_init))
                        - pt(curve::h2c_with(a.addr, a.value, a.time, a.h_final));
                }
            }
            Step::Op { .. } | Step::Fresh { .. } => {}
        }
    }
    // an honest run reaches the identity with negligible probability, a forged checkpoint by
    // choice: it is kept as pasta's (0, 0), the circuit cannot add it, and the prover's check of
    // its proof before writing it refuses the run
    Affine::from_point(acc).unwrap_or(Affine {
        x: F::ZERO,
        y: F::ZERO,
    })
}
