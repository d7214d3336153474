//! The gadget's driver: keys for a user program, the native memory companion a user's witness
//! generation calls, the prover that cuts segments on whole user steps and folds them with
//! `stream`'s boundary, audit and fresh steps, and the verifier of `(user z_final, memory)`.

use super::circuit::{
    curve_index, MemoryCircuit, Program, ProgramCircuit, StepKind, MEMORY_ARITY, NEXT,
};
use crate::backends::stream::circuit::z;
use crate::backends::stream::native::StepLayout;
use crate::backends::stream::{base_point, canonical, Native, Step, StreamShape};
use crate::engine::{F, F2};
use crate::error::VerifyError;
use crate::folding::{SupernovaCompressed, SupernovaKeySet, SupernovaRecursive};
use crate::hash::trace_hash_seed;
use crate::trace::Op;
use crate::word::Word;
use ff::Field;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;

/// Word size of the gadget's native memory: addresses and values are `u64`s.
pub const WORD_BITS: u32 = 64;

/// Shape of the library circuits a program joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GadgetShape {
    /// Boundary and audit slots per curve step (`m`); fresh steps have `10m`.
    pub boundary_slots: usize,
    /// Width of the time-gap range check: a run makes fewer than `2^time_bits` memory calls.
    pub time_bits: u32,
}

impl Default for GadgetShape {
    /// `stream`'s demo shape: 8 boundary slots, 32-bit times.
    fn default() -> Self {
        let s = StreamShape::DEMO;
        GadgetShape {
            boundary_slots: s.boundary_slots,
            time_bits: s.time_bits,
        }
    }
}

impl GadgetShape {
    /// The `stream` shape of the library circuits (its op-step width is unused).
    pub fn stream(&self) -> StreamShape {
        StreamShape {
            ops_per_step: StreamShape::DEMO.ops_per_step,
            boundary_slots: self.boundary_slots,
            time_bits: self.time_bits,
        }
    }
}

/// Why a gadget run was refused. Nothing is folded for the step that caused it.
#[derive(Debug, Error)]
pub enum GadgetError {
    /// A read claimed a value the memory does not hold ([`NativeMemory::read_checked`]).
    #[error(
        "read {read} of the run (step {step}, address {addr:#x}) claims {claimed}, but the \
         memory holds {held} there: refused before folding, no proof made"
    )]
    Inconsistent {
        /// 1-based among the run's reads.
        read: u64,
        /// 0-based user step.
        step: u64,
        /// Address read.
        addr: u64,
        /// Value the witness generator claimed.
        claimed: u64,
        /// Value last written there (0 if never).
        held: u64,
    },
    /// A step made more calls than its circuit has slots.
    #[error("step {step} makes {calls} memory calls, but circuit {circuit} has {slots} slots")]
    TooManyCalls {
        /// 0-based user step.
        step: u64,
        /// Its circuit.
        circuit: usize,
        /// Calls made.
        calls: usize,
        /// Slots of the circuit.
        slots: usize,
    },
    /// A step names a circuit the program does not have.
    #[error("step {step} runs circuit {circuit}, but the program has {circuits} user circuits")]
    NoSuchCircuit {
        /// 0-based user step.
        step: u64,
        /// Index given.
        circuit: usize,
        /// User circuits.
        circuits: usize,
    },
    /// The user state does not have the circuits' width.
    #[error("the user state has {got} elements; the circuits take {expected}")]
    Arity {
        /// `U::arity()`.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// Memory calls recorded before the previous step was pushed (they may have read stale
    /// values).
    #[error("the memory calls of step {made_at} were pushed as step {pushed_as}: record a step's calls after pushing the one before")]
    Stale {
        /// Step the calls were recorded for.
        made_at: u64,
        /// Step they were pushed as.
        pushed_as: u64,
    },
    /// The run reached `2^time_bits` memory calls.
    #[error("the run makes more than 2^{0} memory calls (the shape's time_bits)")]
    TooLong(u32),
    /// No step was pushed.
    #[error("no step was pushed: a proof needs at least one user step")]
    Empty,
    /// Bad shape or options.
    #[error("{0}")]
    Usage(String),
    /// The folded proof does not verify: some step's circuit and its native calls differ (the
    /// circuit made other calls than the companion recorded, or computed other values).
    #[error("the folded proof does not verify, no proof made (a step's circuit and its recorded memory calls differ?): {0}")]
    Check(VerifyError),
    /// The step was accepted and its segment folded, but the checkpoint could not be written;
    /// the prover goes on (the next closed segment writes it again).
    #[error("step {step} was accepted and folded, but the checkpoint {} could not be written: {why}", path.display())]
    CheckpointWrite {
        /// The accepted step.
        step: u64,
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
    /// An earlier fold failed: the proof so far is lost (resume from a checkpoint).
    #[error("an earlier fold failed, this prover cannot go on: {0}")]
    Failed(String),
    /// A checkpoint that cannot resume a run ([`MemoryProver::from_checkpoint`]).
    #[error("not a usable checkpoint: {0}")]
    BadCheckpoint(String),
    /// A handoff that cannot start a part ([`MemoryProver::resume`]).
    #[error("the handoff cannot start a part: {0}")]
    BadHandoff(String),
    /// Folding or key generation failed.
    #[error(transparent)]
    Internal(#[from] crate::error::Error),
}

/// Keys of a user program: the user's circuits, `stream`'s curve and fresh circuits.
pub struct GadgetKeys<U: MemoryCircuit> {
    /// Library shape.
    pub shape: GadgetShape,
    /// SuperNova parameters and compression keys.
    pub keys: SupernovaKeySet<ProgramCircuit<U>>,
}

impl<U: MemoryCircuit> GadgetKeys<U> {
    /// Generate the keys of the program (slow: synthesizes every circuit and the commitment
    /// keys). A verifier generates its own from the circuits it trusts.
    pub fn generate(shape: GadgetShape) -> Result<Self, GadgetError> {
        use crate::backend::ShapeSpec;
        shape
            .stream()
            .validate()
            .map_err(|e| GadgetError::Usage(format!("gadget shape: {e}")))?;
        if U::circuits() == 0 {
            return Err(GadgetError::Usage("the program has no user circuit".into()));
        }
        check_circuits::<U>(shape)?;
        let keys = SupernovaKeySet::generate(&Program::<U>::new(shape.stream(), 0))?;
        Ok(GadgetKeys { shape, keys })
    }

    /// Constraints of each circuit (user circuits, then curve and fresh), SuperNova's verifier
    /// circuit included.
    pub fn primary_constraints(&self) -> Vec<usize> {
        self.keys.primary_constraints()
    }

    /// Compress a folded proof.
    pub fn compress(
        &self,
        proof: &GadgetProof,
    ) -> Result<SupernovaCompressed<ProgramCircuit<U>>, GadgetError> {
        Ok(self.keys.compress(&proof.snark)?)
    }
}

/// Refuse a program whose circuits break the [`MemoryCircuit`] contract before arecibo's setup
/// (which panics on them): a blank whose index is not its own, or one that does not synthesize
/// (more calls than its slots, another state width, a panic).
fn check_circuits<U: MemoryCircuit>(shape: GadgetShape) -> Result<(), GadgetError> {
    use arecibo::traits::circuit_supernova::StepCircuit;
    for i in 0..U::circuits() {
        let c = ProgramCircuit::<U>::blank(shape.stream(), i);
        if c.circuit_index() != i {
            return Err(GadgetError::Usage(format!(
                "MemoryCircuit::blank({i}) reports circuit index {}",
                c.circuit_index()
            )));
        }
        let width = c.arity();
        let synthesized = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // synthesized as arecibo's setup will: no witness, names ignored
            let mut cs = crate::gadgets::ShapeOnlyCs::default();
            let z = crate::gadgets::alloc_state(&mut cs, &vec![F::ZERO; width])?;
            c.synthesize(&mut cs, None, &z).map(|_| ())
        }));
        match synthesized {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(GadgetError::Usage(format!(
                    "user circuit {i} does not synthesize ({e:?}): more calls than its \
                     memory_slots, or a state of another width than arity()?"
                )))
            }
            Err(_) => {
                return Err(GadgetError::Usage(format!(
                    "user circuit {i} panicked while synthesizing"
                )))
            }
        }
    }
    Ok(())
}

/// What a proof shows about a run, besides "every read returned the last value written there, 0
/// if never written".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryOutputs {
    /// The user's final state.
    pub z_user: Vec<F>,
    /// Memory calls made (enabled slots).
    pub op_count: u64,
    /// `stream`-style hash of the calls (each user step's slot count, then its `(addr, value)`
    /// pairs and packed tags, chained per segment).
    pub trace_hash: F,
}

/// A folded proof of a run and what it shows.
pub struct GadgetProof {
    /// The folded SuperNova proof.
    pub snark: SupernovaRecursive,
    /// The state it was checked from: the statement's start ([`statement_z0`]), or for the last
    /// part of a split run the state that part resumed from (verify the parts together with
    /// [`verify_parts`]).
    pub start: Vec<F>,
    /// The verified outputs.
    pub outputs: MemoryOutputs,
    /// Folding steps (user and library).
    pub fold_steps: usize,
    /// Segments.
    pub segments: usize,
}

/// Prover options.
#[derive(Clone, Copy, Debug)]
pub struct GadgetOptions {
    /// Memory calls per segment before it is closed on the next whole step (0: `stream`'s
    /// default, 2^20).
    pub segment_ops: usize,
}

impl Default for GadgetOptions {
    fn default() -> Self {
        GadgetOptions {
            segment_ops: crate::backends::stream::DEFAULT_SEGMENT_OPS,
        }
    }
}

/// One user step's memory calls as the witness generation made them, for
/// [`MemoryProver::push`].
#[derive(Clone, Debug)]
pub struct StepCalls {
    calls: Vec<Option<Op>>,
    reads: u64,
    step: u64,
    prover: u64,
}

impl StepCalls {
    /// Calls made (disabled ones included).
    pub fn len(&self) -> usize {
        self.calls.len()
    }
    /// No call made.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// The native memory one user step's witness generation calls, in the order its circuit makes
/// the calls ([`MemoryProver::memory`]).
pub struct NativeMemory<'p> {
    native: &'p Native,
    shadow: &'p HashMap<u64, Word>,
    local: HashMap<u64, u64>,
    calls: Vec<Option<Op>>,
    reads_before: u64,
    reads: u64,
    step: u64,
    prover: u64,
}

impl NativeMemory<'_> {
    fn held(&self, addr: u64) -> u64 {
        if let Some(v) = self.local.get(&addr) {
            return *v;
        }
        let w = self
            .shadow
            .get(&addr)
            .copied()
            .unwrap_or_else(|| self.native.held(addr));
        w.to_u64().unwrap_or(0)
    }

    /// Read `addr`: the value last written there (0 if never).
    pub fn read(&mut self, addr: u64) -> u64 {
        let v = self.held(addr);
        self.reads += 1;
        self.calls.push(Some(Op::read(addr, v)));
        v
    }

    /// Read `addr`, which the caller's own execution says holds `claimed` (a zkVM that replays
    /// an execution trace): refused, naming the read, if the memory holds something else.
    pub fn read_checked(&mut self, addr: u64, claimed: u64) -> Result<(), GadgetError> {
        let held = self.held(addr);
        if held != claimed {
            return Err(GadgetError::Inconsistent {
                read: self.reads_before + self.reads + 1,
                step: self.step,
                addr,
                claimed,
                held,
            });
        }
        self.read(addr);
        Ok(())
    }

    /// Write `value` to `addr`.
    pub fn write(&mut self, addr: u64, value: u64) {
        self.local.insert(addr, value);
        self.calls.push(Some(Op::write(addr, value)));
    }

    /// A disabled call (the circuit's `read_if`/`access` with `enabled` false).
    pub fn skip(&mut self) {
        self.calls.push(None);
    }

    /// The step's calls, for [`MemoryProver::push`].
    pub fn finish(self) -> StepCalls {
        StepCalls {
            calls: self.calls,
            reads: self.reads,
            step: self.step,
            prover: self.prover,
        }
    }
}

/// A forging prover's edit of a segment's `stream` steps (tests).
pub(crate) type StepEdit<'a> = &'a mut dyn FnMut(&mut Vec<Step>);

/// The native side of a run: the memory, the open segment's user steps and calls, and the
/// conversion of a segment into program steps (user steps with their slot witnesses, then
/// `stream`'s boundary steps, or the audit and fresh steps for the last segment).
pub(crate) struct Recorder<U> {
    shape: GadgetShape,
    native: Native,
    segment_ops: usize,
    users: Vec<U>,
    layout: Vec<StepLayout>,
    ops: Vec<(usize, Op)>,
    shadow: HashMap<u64, Word>,
    reads: u64,
    pushed: u64,
    segments: usize,
    /// This recorder's id: calls recorded on another prover's memory are refused.
    id: u64,
}

impl<U: MemoryCircuit> Recorder<U> {
    pub(crate) fn new(shape: GadgetShape, segment_ops: usize) -> Self {
        Recorder {
            shape,
            native: Native::new(shape.stream(), WORD_BITS),
            segment_ops: match segment_ops {
                0 => GadgetOptions::default().segment_ops,
                l => l,
            },
            users: Vec::new(),
            layout: Vec::new(),
            ops: Vec::new(),
            shadow: HashMap::new(),
            reads: 0,
            pushed: 0,
            segments: 0,
            id: {
                static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        }
    }

    pub(crate) fn memory(&self) -> NativeMemory<'_> {
        NativeMemory {
            native: &self.native,
            shadow: &self.shadow,
            local: HashMap::new(),
            calls: Vec::new(),
            reads_before: self.reads,
            reads: 0,
            step: self.pushed,
            prover: self.id,
        }
    }

    pub(crate) fn op_count(&self) -> u64 {
        self.native.time() + self.ops.len() as u64
    }

    /// The open segment is full: the next push closes it first.
    pub(crate) fn segment_full(&self) -> bool {
        self.ops.len() >= self.segment_ops
    }

    /// Queue a step; if the open segment was full, it is closed first and its program steps
    /// returned.
    pub(crate) fn push(
        &mut self,
        circuit: U,
        calls: StepCalls,
    ) -> Result<Vec<ProgramCircuit<U>>, GadgetError> {
        let index = circuit.circuit_index();
        if index >= U::circuits() {
            return Err(GadgetError::NoSuchCircuit {
                step: self.pushed,
                circuit: index,
                circuits: U::circuits(),
            });
        }
        if calls.prover != self.id {
            return Err(GadgetError::Usage(
                "these memory calls were recorded on another prover's memory".into(),
            ));
        }
        if calls.step != self.pushed {
            return Err(GadgetError::Stale {
                made_at: calls.step,
                pushed_as: self.pushed,
            });
        }
        let slots = U::memory_slots(index);
        if calls.calls.len() > slots {
            return Err(GadgetError::TooManyCalls {
                step: self.pushed,
                circuit: index,
                calls: calls.calls.len(),
                slots,
            });
        }
        let enabled = calls.calls.iter().flatten().count() as u64;
        let time_bits = self.shape.time_bits;
        if self.op_count() + enabled >= 1u64 << time_bits {
            return Err(GadgetError::TooLong(time_bits));
        }
        let closed = if self.segment_full() {
            self.close(false)?
        } else {
            Vec::new()
        };
        for op in calls.calls.iter().flatten() {
            if op.kind.is_write() {
                self.shadow.insert(op.addr, op.value);
            }
            let line = self.op_count() as usize + 1;
            self.ops.push((line, *op));
        }
        self.layout.push(StepLayout {
            slots,
            enabled: calls.calls.iter().map(Option::is_some).collect(),
        });
        self.users.push(circuit);
        self.reads += calls.reads;
        self.pushed += 1;
        Ok(closed)
    }

    /// Close the open segment: its program steps, closed by boundary steps, or (`last`) with
    /// the audit.
    pub(crate) fn close(&mut self, last: bool) -> Result<Vec<ProgramCircuit<U>>, GadgetError> {
        self.close_edited(last, None)
    }

    /// [`Recorder::close`], with `edit` run on the segment's `stream` steps and the challenges
    /// and `G` re-derived from the edited witnesses: what a forging prover does (honest: a
    /// no-op edit).
    pub(crate) fn close_edited(
        &mut self,
        last: bool,
        edit: Option<StepEdit<'_>>,
    ) -> Result<Vec<ProgramCircuit<U>>, GadgetError> {
        let (ts, tms, g0) = (self.native.t, self.native.time, self.native.g);
        // the companion checked every read; a second check costs little, and a refusal leaves
        // the segment as it was
        self.native.check_segment(&self.ops)?;
        let ops = std::mem::take(&mut self.ops);
        let layout = std::mem::take(&mut self.layout);
        let users = std::mem::take(&mut self.users);
        self.shadow.clear();
        let steps = if last {
            self.native.last_segment_laid_out(&ops, Some(&layout)).0
        } else {
            self.native.segment_laid_out(&ops, Some(&layout))
        };
        let mut steps = steps;
        if let Some(edit) = edit {
            edit(&mut steps);
            self.native.seal(ts, tms, g0, &mut steps, true);
        }
        drop(ops);
        let mut users = users.into_iter();
        let shape = self.shape.stream();
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            let kind = match s {
                Step::Op { open, slots } => StepKind::User {
                    circuit: users
                        .next()
                        .ok_or_else(|| crate::Error::internal("a step without its circuit"))?,
                    open,
                    slots,
                },
                lib => StepKind::Library(lib),
            };
            out.push(ProgramCircuit {
                shape,
                kind,
                next: 0,
            });
        }
        self.segments += 1;
        Ok(out)
    }
}

/// Proves a run of a user program: one segment of user steps is buffered at a time, then folded
/// with its boundary steps; [`MemoryProver::finish`] folds the last segment with the audit.
pub struct MemoryProver<'k, U: MemoryCircuit> {
    keys: &'k GadgetKeys<U>,
    /// The state this part starts from (the statement's start for a whole run).
    start: Vec<F>,
    rec: Recorder<U>,
    pending: Option<ProgramCircuit<U>>,
    snark: Option<SupernovaRecursive>,
    fold_steps: usize,
    /// Where a checkpoint is written after every closed segment.
    checkpoint: Option<std::path::PathBuf>,
    /// The user circuit a proof resumed from a checkpoint continues with.
    expect_next: Option<usize>,
    /// Why folding failed: the proof so far is lost and every later call is refused.
    failed: Option<String>,
}

impl<'k, U: MemoryCircuit> MemoryProver<'k, U> {
    /// A prover of a run that starts at user circuit `first` with user state `z0_user`, on the
    /// empty memory.
    pub fn new(
        keys: &'k GadgetKeys<U>,
        first: usize,
        z0_user: &[F],
        opts: GadgetOptions,
    ) -> Result<Self, GadgetError> {
        if first >= U::circuits() {
            return Err(GadgetError::NoSuchCircuit {
                step: 0,
                circuit: first,
                circuits: U::circuits(),
            });
        }
        if z0_user.len() != U::arity() {
            return Err(GadgetError::Arity {
                expected: U::arity(),
                got: z0_user.len(),
            });
        }
        if !keys.keys.can_prove() {
            return Err(GadgetError::Usage(
                "these keys were loaded to verify only: they cannot prove".into(),
            ));
        }
        Ok(MemoryProver {
            keys,
            start: statement_z0::<U>(first, z0_user),
            rec: Recorder::new(keys.shape, opts.segment_ops),
            pending: None,
            snark: None,
            fold_steps: 0,
            checkpoint: None,
            expect_next: None,
            failed: None,
        })
    }

    /// The memory for the next step's witness generation.
    pub fn memory(&self) -> NativeMemory<'_> {
        self.rec.memory()
    }

    /// User steps pushed so far.
    pub fn steps(&self) -> u64 {
        self.rec.pushed
    }

    /// Memory calls accepted so far (enabled ones).
    pub fn op_count(&self) -> u64 {
        self.rec.op_count()
    }

    /// Queue the next user step with the calls its witness generation made; folds the buffered
    /// segment first if it is full. A refused step changes nothing, except: a failed fold (a
    /// circuit that does not synthesize) leaves the prover failed ([`GadgetError::Failed`]),
    /// and [`GadgetError::CheckpointWrite`] means the step *was* accepted.
    pub fn push(&mut self, circuit: U, calls: StepCalls) -> Result<(), GadgetError> {
        if let Some(why) = &self.failed {
            return Err(GadgetError::Failed(why.clone()));
        }
        let index = circuit.circuit_index();
        if let Some(n) = self.expect_next.filter(|n| *n != index) {
            return Err(GadgetError::Usage(format!(
                "step {} runs circuit {index}, but the proof it resumes continues with circuit {n}",
                self.rec.pushed
            )));
        }
        let before = (self.rec.pushed, self.rec.reads);
        let closed = self.rec.push(circuit, calls)?;
        self.expect_next = None;
        if closed.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.fold_closed(closed, index) {
            self.failed = Some(format!("folding segment {} failed: {e}", self.rec.segments));
            return Err(e);
        }
        match self.checkpoint.clone() {
            Some(path) => self.write_checkpoint(&path, before, index),
            None => Ok(()),
        }
    }

    /// Fold a closed segment's steps, the last one with the new step's circuit `index` next.
    fn fold_closed(
        &mut self,
        closed: Vec<ProgramCircuit<U>>,
        index: usize,
    ) -> Result<(), GadgetError> {
        for c in closed {
            self.fold(c)?;
        }
        // the closed segment's last step is folded now, with the new step's circuit next: the
        // proof then stands at a closed segment, which is what a checkpoint holds
        if let Some(mut p) = self.pending.take() {
            p.next = index;
            self.fold_now(&p)?;
        }
        Ok(())
    }

    /// Write a checkpoint to `path` (atomically) after every closed segment; a run that stops
    /// resumes from the last one with [`MemoryProver::from_checkpoint`].
    pub fn with_checkpoint(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// The proof so far (at a closed segment), the memory and counters before the step that is
    /// not folded yet (`before`: its number and the reads before it), and its circuit `next`.
    fn write_checkpoint(
        &self,
        path: &std::path::Path,
        (steps, reads): (u64, u64),
        next: usize,
    ) -> Result<(), GadgetError> {
        let snark = self
            .snark
            .as_ref()
            .ok_or_else(|| crate::Error::internal("a checkpoint before any fold"))?;
        let cp = CheckpointRef {
            shape: &self.keys.shape,
            params: self.keys.keys.pp.digest(),
            start: &self.start,
            snark,
            native: &self.rec.native,
            steps,
            reads,
            next,
            fold_steps: self.fold_steps,
            segments: self.rec.segments,
        };
        let written = bincode::serialize(&cp)
            .map_err(|e| e.to_string())
            .and_then(|payload| {
                crate::files::write_framed(path, &CHECKPOINT_MAGIC, &payload)
                    .map_err(|e| e.to_string())
            });
        written.map_err(|why| GadgetError::CheckpointWrite {
            step: steps,
            path: path.to_path_buf(),
            why,
        })
    }

    /// A prover that continues a run from the checkpoint at `path`. `start` is where the run
    /// (or part) began, as the caller knows it: [`statement_z0`] of its first circuit and user
    /// state, or the [`Handoff::z`] a part resumed from. The checkpoint must be for these keys
    /// and this start, its folded proof must verify from it, and its memory must match the
    /// state the proof stands in. The witness generation then pushes again from step
    /// [`MemoryProver::steps`], first with the circuit the proof continues with. The keys check
    /// rests on the digest the file reports (arecibo's folded verifier hashes the proof's own):
    /// a checkpoint from other keys is refused by compression and every verifier anyway.
    pub fn from_checkpoint(
        keys: &'k GadgetKeys<U>,
        path: &std::path::Path,
        start: &[F],
        opts: GadgetOptions,
    ) -> Result<Self, GadgetError> {
        let bad = |why: String| GadgetError::BadCheckpoint(format!("{}: {why}", path.display()));
        let payload = match crate::files::read_framed(path, &CHECKPOINT_MAGIC) {
            Ok(p) => p,
            Err(crate::files::FramedError::Io(e)) => return Err(crate::Error::io(path, e).into()),
            Err(crate::files::FramedError::Bad(why)) => {
                return Err(bad(why.describe("checkpoint")))
            }
        };
        use bincode::Options;
        let codec = bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .with_limit(payload.len() as u64)
            .reject_trailing_bytes();
        let cp: Checkpoint = match crate::codec::deserialize_caught(codec, &payload) {
            Ok(c) => c,
            Err(e) => return Err(bad(e.unwrap_or_else(|| "undecodable content".into()))),
        };
        drop(payload);
        if cp.shape != keys.shape || cp.params != keys.keys.pp.digest() {
            return Err(bad("written by a run with other keys".into()));
        }
        if !keys.keys.can_prove() {
            return Err(GadgetError::Usage(
                "these keys were loaded to verify only: they cannot prove".into(),
            ));
        }
        if cp.start != start {
            return Err(bad("written by a run from another start".into()));
        }
        if cp.segments > cp.fold_steps || cp.fold_steps >= 1 << 62 {
            return Err(bad(format!(
                "{} segments in {} folding steps",
                cp.segments, cp.fold_steps
            )));
        }
        if cp.start.len() != MEMORY_ARITY + U::arity() || cp.next >= U::circuits() {
            return Err(bad(
                "its start state or next circuit is not this program's".into()
            ));
        }
        let z = verify_snark(keys, &cp.snark, &cp.start)
            .map_err(|e| bad(format!("its folded proof does not verify: {e}")))?;
        let at = Handoff {
            z,
            native: cp.native,
            steps: cp.steps,
            reads: cp.reads,
        };
        at.check::<U>(&keys.shape).map_err(bad)?;
        if at.z[NEXT] != F::from(cp.next as u64) {
            return Err(bad("its next circuit is not the one its proof chose".into()));
        }
        let mut rec = Recorder::new(keys.shape, opts.segment_ops);
        rec.native = at.native;
        rec.pushed = at.steps;
        rec.reads = at.reads;
        rec.segments = cp.segments;
        Ok(MemoryProver {
            keys,
            start: cp.start,
            rec,
            pending: None,
            snark: Some(cp.snark),
            fold_steps: cp.fold_steps,
            checkpoint: Some(path.to_path_buf()),
            expect_next: Some(cp.next),
            failed: None,
        })
    }

    fn fold(&mut self, c: ProgramCircuit<U>) -> Result<(), GadgetError> {
        use arecibo::traits::circuit_supernova::StepCircuit;
        let next = c.circuit_index();
        if let Some(mut p) = self.pending.replace(c) {
            p.next = next;
            self.fold_now(&p)?;
        }
        Ok(())
    }

    fn fold_now(&mut self, c: &ProgramCircuit<U>) -> Result<(), GadgetError> {
        use arecibo::traits::circuit_supernova::StepCircuit;
        let program = || Program::<U>::new(self.keys.shape.stream(), c.circuit_index());
        let (pp, z0) = (&self.keys.keys.pp, &self.start);
        crate::folding::supernova_fold(pp, &mut self.snark, program, c, z0)?;
        self.fold_steps += 1;
        Ok(())
    }

    /// Fold the last segment with the audit, check the folded proof (from the statement's start,
    /// or for the last part of a split run from the state the part started in) and return it.
    pub fn finish(mut self) -> Result<GadgetProof, GadgetError> {
        let (snark, zn) = self.fold_rest(true)?;
        let outputs = check_end::<U>(&self.keys.shape, &zn).map_err(GadgetError::Check)?;
        Ok(GadgetProof {
            snark,
            start: self.start.clone(),
            outputs,
            fold_steps: self.fold_steps,
            segments: self.rec.segments,
        })
    }

    /// End this part of a split run: close the open segment with boundary steps, fold, check
    /// the folded proof from the part's start, and return it with the handoff the next part
    /// resumes from ([`MemoryProver::resume`], on this machine or another). The verifier
    /// checks the parts in order with [`verify_parts`].
    pub fn finish_part(mut self) -> Result<(GadgetPart, Handoff), GadgetError> {
        let (snark, zn) = self.fold_rest(false)?;
        let part = GadgetPart {
            snark,
            end: zn.clone(),
            fold_steps: self.fold_steps,
            segments: self.rec.segments,
        };
        let handoff = Handoff {
            z: zn,
            native: self.rec.native,
            steps: self.rec.pushed,
            reads: self.rec.reads,
        };
        Ok((part, handoff))
    }

    /// Fold the open segment (with the audit if `audit`) and the pending step; the folded proof
    /// and the state it verifies to from this part's start.
    fn fold_rest(&mut self, audit: bool) -> Result<(SupernovaRecursive, Vec<F>), GadgetError> {
        if let Some(why) = &self.failed {
            return Err(GadgetError::Failed(why.clone()));
        }
        if self.rec.users.is_empty() && self.pending.is_none() {
            return Err(GadgetError::Empty);
        }
        for c in self.rec.close(audit)? {
            self.fold(c)?;
        }
        if let Some(mut p) = self.pending.take() {
            // the program counter after the last step is never used: any allowed index
            p.next = curve_index::<U>();
            self.fold_now(&p)?;
        }
        let snark = self.snark.take().ok_or(GadgetError::Empty)?;
        let zn = verify_snark(self.keys, &snark, &self.start).map_err(GadgetError::Check)?;
        Ok((snark, zn))
    }

    /// A prover of the next part of a split run, from the handoff of the part before. The
    /// handoff is the prover's own data (the verifier never reads it): it is checked for
    /// consistency with these keys, and a wrong one cannot make a proof that verifies.
    pub fn resume(
        keys: &'k GadgetKeys<U>,
        handoff: Handoff,
        opts: GadgetOptions,
    ) -> Result<Self, GadgetError> {
        handoff
            .check::<U>(&keys.shape)
            .map_err(GadgetError::BadHandoff)?;
        if !keys.keys.can_prove() {
            return Err(GadgetError::Usage(
                "these keys were loaded to verify only: they cannot prove".into(),
            ));
        }
        let next = crate::backends::stream::circuit::field_to_u64(handoff.z[NEXT]) as usize;
        let mut rec = Recorder::new(keys.shape, opts.segment_ops);
        rec.native = handoff.native;
        rec.pushed = handoff.steps;
        rec.reads = handoff.reads;
        Ok(MemoryProver {
            keys,
            start: handoff.z,
            rec,
            pending: None,
            snark: None,
            fold_steps: 0,
            checkpoint: None,
            expect_next: Some(next),
            failed: None,
        })
    }
}

/// Handoff bytes magic (changes with the payload's layout).
const HANDOFF_MAGIC: [u8; 8] = *b"FMHAND01";

/// Checkpoint file magic (changes with the payload's layout).
const CHECKPOINT_MAGIC: [u8; 8] = *b"FMGADG01";

/// A checkpoint as written (borrowing the prover's state).
#[derive(Serialize)]
struct CheckpointRef<'a> {
    shape: &'a GadgetShape,
    params: F,
    start: &'a [F],
    snark: &'a SupernovaRecursive,
    native: &'a Native,
    steps: u64,
    reads: u64,
    next: usize,
    fold_steps: usize,
    segments: usize,
}

/// A checkpoint as read: the proof so far (at a closed segment), the start it verifies from,
/// the memory, the counters, and the user circuit the proof continues with.
#[derive(Deserialize)]
struct Checkpoint {
    shape: GadgetShape,
    params: F,
    start: Vec<F>,
    snark: SupernovaRecursive,
    native: Native,
    steps: u64,
    reads: u64,
    next: usize,
    fold_steps: usize,
    segments: usize,
}

/// One part of a split run: its folded proof and the state it ends in (the next part's start;
/// the verifier recomputes it by verifying).
pub struct GadgetPart {
    /// The folded proof of the part.
    pub snark: SupernovaRecursive,
    /// The state the part ends in.
    pub end: Vec<F>,
    /// Folding steps of the part.
    pub fold_steps: usize,
    /// Segments of the part.
    pub segments: usize,
}

/// What the next part of a split run resumes from: the state the part ended in and the
/// prover's memory (last value and time of every touched address). Prover-side data: the
/// verifier never reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Handoff {
    /// The state the part ended in.
    pub z: Vec<F>,
    native: Native,
    steps: u64,
    reads: u64,
}

impl Handoff {
    /// The prover's memory in the handoff (tests forge it).
    #[cfg(test)]
    pub(crate) fn native_mut(&mut self) -> &mut Native {
        &mut self.native
    }

    /// The handoff as bytes for another machine: framed with a checksum, so a torn or corrupted
    /// transfer is refused by [`Handoff::from_bytes`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, GadgetError> {
        let payload = bincode::serialize(self).map_err(crate::Error::internal)?;
        Ok(crate::files::frame(&HANDOFF_MAGIC, &payload))
    }

    /// A handoff from [`Handoff::to_bytes`]'s bytes (checked again by
    /// [`MemoryProver::resume`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GadgetError> {
        let payload = crate::files::unframe(&HANDOFF_MAGIC, bytes)
            .map_err(|e| GadgetError::BadHandoff(e.describe("handoff")))?;
        use bincode::Options;
        let codec = bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .with_limit(payload.len() as u64)
            .reject_trailing_bytes();
        crate::codec::deserialize_caught(codec, payload)
            .map_err(|e| GadgetError::BadHandoff(e.unwrap_or_else(|| "undecodable content".into())))
    }

    /// User steps before the next part (the next step's number).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Why this handoff cannot start a part for `shape` and program `U`: a state of the wrong
    /// width, an open segment or a finished run, a memory that does not match the state's
    /// trace hash, time and multiset-hash point, or entries no run reaches.
    fn check<U: MemoryCircuit>(&self, shape: &GadgetShape) -> Result<(), String> {
        let (n, z) = (&self.native, &self.z);
        if z.len() != MEMORY_ARITY + U::arity() {
            return Err(format!(
                "a state of {} elements, the program's is {}",
                z.len(),
                MEMORY_ARITY + U::arity()
            ));
        }
        if n.shape != shape.stream() || n.word_bits != WORD_BITS {
            return Err("made for another shape".into());
        }
        if z[z::PH] != F::ZERO || !segment_reset(z) || z[z::LA] != -F::ONE {
            return Err("not at a closed segment of an unfinished run".into());
        }
        if z[NEXT] >= F::from(U::circuits() as u64) {
            return Err("its next circuit is not one of the program's".into());
        }
        if n.time >= 1u64 << shape.time_bits || z[z::TIME] != F::from(n.time) {
            return Err("its memory's time is not the state's".into());
        }
        if z[z::T] != n.t || (z[z::GX], z[z::GY]) != (n.g.x, n.g.y) {
            return Err("its memory's trace hash or multiset hash is not the state's".into());
        }
        if n.mem.len() as u64 > n.time || self.reads > n.time || self.steps >= 1 << 62 {
            return Err("more addresses, reads or steps than a run of its calls makes".into());
        }
        if let Some((a, _)) = n
            .mem
            .iter()
            .find(|(_, (w, t))| !(1..=n.time).contains(t) || !w.fits(WORD_BITS))
        {
            return Err(format!("address {a:#x} has a time or value no run reaches"));
        }
        // at a closed segment, G is S moved from every address's initial tuple to its last one
        let initial: HashMap<u64, (Word, u64)> =
            n.mem.keys().map(|a| (*a, (Word::ZERO, 0))).collect();
        if n.g_from(&initial) != Some(n.g) {
            return Err("its memory is not the one the multiset hash point stands for".into());
        }
        Ok(())
    }
}

/// The start state the verifier builds: `stream`'s canonical start (empty memory, trace hash
/// seed, time 0), the first user circuit, the user's start state.
pub fn statement_z0<U: MemoryCircuit>(first: usize, z0_user: &[F]) -> Vec<F> {
    let mut z0 = canonical(trace_hash_seed(WORD_BITS), 0);
    z0.push(F::from(first as u64));
    z0.extend_from_slice(z0_user);
    z0
}

/// No segment is open and its registers are reset (`OPEN`, `TS`, `TMS`, `GAM`, `ALP`, `RS`,
/// `WS`, `PCH`, `BCH` as in `stream`'s canonical start): the state between segments.
fn segment_reset(zs: &[F]) -> bool {
    let start = canonical(F::ZERO, 0);
    [
        z::OPEN,
        z::TS,
        z::TMS,
        z::GAM,
        z::ALP,
        z::RS,
        z::WS,
        z::PCH,
        z::BCH,
    ]
    .iter()
    .all(|&i| zs[i] == start[i])
}

/// Check the verifier's side of the statement before the SNARK.
fn check_start<U: MemoryCircuit>(first: usize, z0_user: &[F]) -> Result<(), VerifyError> {
    if first >= U::circuits() {
        return Err(VerifyError::Statement("first circuit (not a user circuit)"));
    }
    if z0_user.len() != U::arity() {
        return Err(VerifyError::Statement("user start state (wrong width)"));
    }
    Ok(())
}

/// The end state rules: the audit ran (phase 1), no segment open and its registers reset, `G`
/// back at `S`, fewer than `2^time_bits` calls. Returns what the proof shows.
pub(crate) fn check_end<U: MemoryCircuit>(
    shape: &GadgetShape,
    zn: &[F],
) -> Result<MemoryOutputs, VerifyError> {
    use crate::backends::stream::circuit::field_to_u64;
    if zn.len() != MEMORY_ARITY + U::arity() {
        return Err(VerifyError::OutputMismatch("final state width"));
    }
    if zn[z::PH] != F::ONE {
        return Err(VerifyError::OutputMismatch(
            "final state (the audit never ran)",
        ));
    }
    let s = base_point();
    if !segment_reset(zn) {
        return Err(VerifyError::OutputMismatch(
            "final state (a segment is still open)",
        ));
    }
    if (zn[z::GX], zn[z::GY]) != (s.x, s.y) {
        return Err(VerifyError::OutputMismatch(
            "final state (multiset hash: G is not back at S)",
        ));
    }
    let time = zn[z::TIME];
    let op_count = field_to_u64(time);
    if F::from(op_count) != time || op_count >= 1u64 << shape.time_bits {
        return Err(VerifyError::OutputMismatch(
            "final state (at least 2^time_bits calls)",
        ));
    }
    Ok(MemoryOutputs {
        z_user: zn[MEMORY_ARITY..].to_vec(),
        op_count,
        trace_hash: zn[z::T],
    })
}

/// The state a folded proof verifies to from `z0`.
fn verify_snark<U: MemoryCircuit>(
    keys: &GadgetKeys<U>,
    snark: &SupernovaRecursive,
    z0: &[F],
) -> Result<Vec<F>, VerifyError> {
    let (zn, _) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        snark.verify(&keys.keys.pp, z0, &[F2::ZERO])
    }))
    .map_err(|_| VerifyError::Snark("malformed folded proof".into()))?
    .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
    Ok(zn)
}

/// Verify a folded proof of a run that started at user circuit `first` with `z0_user` on the
/// empty memory: what it shows, or why not. For the prover's own check and for folded proofs
/// from a trusted prover: arecibo's folded verifier takes the parameters' digest from the
/// proof, so proofs from elsewhere are verified compressed ([`verify_compressed`]).
pub fn verify_folded<U: MemoryCircuit>(
    keys: &GadgetKeys<U>,
    snark: &SupernovaRecursive,
    first: usize,
    z0_user: &[F],
) -> Result<MemoryOutputs, VerifyError> {
    check_start::<U>(first, z0_user)?;
    let zn = verify_snark(keys, snark, &statement_z0::<U>(first, z0_user))?;
    check_end::<U>(&keys.shape, &zn)
}

/// Verify the compressed proofs of a split run's parts, in order: the first from the
/// statement's start, each next one from the state the one before verifies to (never from a
/// state a prover claims), the last ending in the audited end state.
pub fn verify_parts<U: MemoryCircuit>(
    keys: &GadgetKeys<U>,
    parts: &[SupernovaCompressed<ProgramCircuit<U>>],
    first: usize,
    z0_user: &[F],
) -> Result<MemoryOutputs, VerifyError> {
    check_start::<U>(first, z0_user)?;
    if parts.is_empty() {
        return Err(VerifyError::Statement("parts (none given)"));
    }
    let mut z = statement_z0::<U>(first, z0_user);
    for (i, p) in parts.iter().enumerate() {
        z = keys.keys.verify(p, &z).map_err(|e| match e {
            VerifyError::Snark(m) => {
                VerifyError::Snark(format!("part {} of {}: {m}", i + 1, parts.len()))
            }
            e => e,
        })?;
    }
    check_end::<U>(&keys.shape, &z)
}

/// Verify a compressed proof like [`verify_folded`].
pub fn verify_compressed<U: MemoryCircuit>(
    keys: &GadgetKeys<U>,
    snark: &SupernovaCompressed<ProgramCircuit<U>>,
    first: usize,
    z0_user: &[F],
) -> Result<MemoryOutputs, VerifyError> {
    check_start::<U>(first, z0_user)?;
    let zn = keys
        .keys
        .verify(snark, &statement_z0::<U>(first, z0_user))?;
    check_end::<U>(&keys.shape, &zn)
}
