//! SuperNova backend: one circuit per opcode (read, write, push, pop) dispatched by the program
//! counter, so a read pays for one Merkle path and a write for two.
//!
//! State `z = [root, op_count, trace_hash, sp]` (arecibo threads the program counter). Each
//! circuit absorbs its own opcode (a constant) into the trace hash
//! `Poseidon(h, opcode·2^64 + addr, value)`, so the sequence of circuits used is bound to the op
//! stream: a write proven by the read circuit hashes as a read and no longer matches the trace.
//! Each circuit outputs the next program counter (constrained to a valid opcode; the next step
//! must then be that opcode's circuit, which arecibo enforces). Push and pop take their address
//! from the stack pointer: push writes `stack_base + sp` with `sp < 2^stack_log_depth` and
//! increments it; pop requires `sp ≥ 1`, decrements it and reads `stack_base + sp`.

mod circuit;
#[cfg(test)]
mod tests;

pub use circuit::{OpCircuit, Opcode, SupernovaWitness};

use crate::backend::{
    check_trace_claim, flag, CacheEntry, Claim, FlagContext, Flags, KeyOptions, Lines, Loaded,
    Progress, Proof, ProofSystem, ProveReport, ShapeError, ShapeSpec, TraceItem,
};
use crate::codec::f_hex;
use crate::engine::{E1, E2, F, F2};
use crate::error::{Error, VerifyError};
use crate::folding::{
    Sc2, SupernovaCompressed, SupernovaKeySet, SupernovaParams, SupernovaRecursive,
};
use crate::hash::{trace_hash_seed, trace_hash_step_op};
use crate::trace::{Op, OpKind};
use crate::tree::memory::{MemoryState, WitnessError};
use crate::tree::{empty_root, TreeParams};
use arecibo::supernova::error::SuperNovaError;
use arecibo::supernova::NonUniformCircuit;
use ff::Field;
use serde::{Deserialize, Serialize};

/// SuperNova public parameters of the opcode circuits.
pub type OpcodeParams = SupernovaParams<OpCircuit>;
/// Folded proof.
pub type OpcodeRecursive = SupernovaRecursive;
/// Compressed proof (batched Spartan over the four circuits).
pub type OpcodeCompressed = SupernovaCompressed<OpCircuit>;

/// Shape of the SuperNova circuits: memory tree and stack section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SupernovaShape {
    /// Memory tree.
    pub tree: TreeParams,
    /// Word address of the stack's first slot.
    pub stack_base: u64,
    /// The stack holds at most `2^stack_log_depth` words.
    pub stack_log_depth: u32,
}

/// The four opcode circuits as arecibo's non-uniform circuit.
#[derive(Clone, Debug)]
pub struct Isa {
    /// Shape.
    pub shape: SupernovaShape,
    /// Opcode of the first step.
    pub first: Opcode,
}

impl NonUniformCircuit<E1, E2, OpCircuit, Sc2> for Isa {
    fn num_circuits(&self) -> usize {
        4
    }
    fn primary_circuit(&self, index: usize) -> OpCircuit {
        OpCircuit::blank(
            self.shape,
            Opcode::from_index(index).unwrap_or(Opcode::Read),
        )
    }
    fn secondary_circuit(&self) -> Sc2 {
        Sc2::default()
    }
    fn initial_circuit_index(&self) -> usize {
        self.first as usize
    }
}

/// Public parameters for a shape.
pub fn setup(shape: SupernovaShape) -> OpcodeParams {
    OpcodeParams::setup(
        &Isa {
            shape,
            first: Opcode::Read,
        },
        &*<crate::folding::Sb1 as arecibo::traits::snark::BatchedRelaxedR1CSSNARKTrait<E1>>::ck_floor(),
        &*<crate::folding::S2 as arecibo::traits::snark::RelaxedR1CSSNARKTrait<E2>>::ck_floor(),
    )
}

/// Constraints of each opcode circuit (read, write, push, pop) without the verifier circuit.
pub fn opcode_constraints(shape: SupernovaShape) -> [usize; 4] {
    [Opcode::Read, Opcode::Write, Opcode::Push, Opcode::Pop]
        .map(|o| circuit::constraints(&OpCircuit::blank(shape, o)))
}

/// What a SuperNova proof claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupernovaOutputs {
    /// Root of the (empty) memory before the first op.
    pub initial_root: F,
    /// Root after the last op.
    pub final_root: F,
    /// Number of ops.
    pub op_count: u64,
    /// Trace hash (opcodes bound), seeded with the word size.
    pub trace_hash: F,
    /// Stack pointer after the last op.
    pub final_sp: u64,
    /// Word size in bits.
    pub word_bits: u32,
}

impl SupernovaOutputs {
    /// Initial state.
    pub fn z0(&self) -> Vec<F> {
        vec![
            self.initial_root,
            F::ZERO,
            trace_hash_seed(self.word_bits),
            F::ZERO,
        ]
    }
    /// Final state.
    pub fn zn(&self) -> Vec<F> {
        vec![
            self.final_root,
            F::from(self.op_count),
            self.trace_hash,
            F::from(self.final_sp),
        ]
    }
}

/// SuperNova trace hash of an op stream (what a verifier with the trace recomputes).
pub fn trace_hash(ops: impl IntoIterator<Item = Op>, word_bits: u32) -> (u64, F) {
    let mut n = 0;
    let h = ops.into_iter().fold(trace_hash_seed(word_bits), |h, op| {
        n += 1;
        trace_hash_step_op(h, op.kind.opcode(), op.addr, op.value.to_field(word_bits))
    });
    (n, h)
}

/// Why the SuperNova prover refuses an op.
#[derive(Debug, thiserror::Error)]
pub enum SupernovaError {
    /// Inconsistent read, address out of range, value too wide.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// Push/pop that breaks the stack discipline.
    #[error("line {line}: {msg}")]
    Stack {
        /// 1-based line or op index.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// An empty trace (SuperNova needs at least one step).
    #[error("the SuperNova backend needs at least one op")]
    Empty,
    /// arecibo failed.
    #[error("folding failed: {0}")]
    Nova(String),
}

fn nova_err(e: SuperNovaError) -> SupernovaError {
    SupernovaError::Nova(format!("{e:?}"))
}

/// Streaming SuperNova prover; each op is folded once the next op's opcode is known (one op of
/// look-ahead for the program counter).
pub struct SupernovaProver<'a> {
    pp: &'a OpcodeParams,
    shape: SupernovaShape,
    state: MemoryState,
    sp: u64,
    hash: F,
    initial_root: F,
    pending: Option<(Opcode, SupernovaWitness, Vec<F>)>,
    snark: Option<OpcodeRecursive>,
    steps: usize,
}

impl<'a> SupernovaProver<'a> {
    /// A prover over an empty memory.
    pub fn new(pp: &'a OpcodeParams, shape: SupernovaShape, word_bits: u32) -> Self {
        let state = MemoryState::new(shape.tree, word_bits);
        let initial_root = state.z()[0];
        SupernovaProver {
            pp,
            shape,
            sp: 0,
            hash: trace_hash_seed(word_bits),
            state,
            initial_root,
            pending: None,
            snark: None,
            steps: 0,
        }
    }

    fn z(&self) -> Vec<F> {
        let z = self.state.z();
        vec![z[0], z[1], self.hash, F::from(self.sp)]
    }

    /// Check and queue one op; folds the previous one.
    pub fn push(&mut self, line: usize, op: &Op) -> Result<(), SupernovaError> {
        let stack_err = |msg: String| SupernovaError::Stack { line, msg };
        // a valid shape has depth ≤ 63 and base + 2^depth ≤ 2^addr_bits, so none of these
        // overflow; checked anyway, because a library caller may pass any shape
        let shape_err =
            || stack_err("invalid stack shape (stack_base + 2^stack_log_depth overflows)".into());
        let depth = 1u64
            .checked_shl(self.shape.stack_log_depth)
            .filter(|_| self.shape.stack_log_depth < 64)
            .ok_or_else(shape_err)?;
        let sp_before = self.sp;
        let slot = |sp: u64| self.shape.stack_base.checked_add(sp).ok_or_else(shape_err);
        match op.kind {
            OpKind::Push => {
                if self.sp >= depth {
                    return Err(stack_err(format!("push past the stack depth {depth}")));
                }
                let at = slot(self.sp)?;
                if op.addr != at {
                    return Err(stack_err(format!(
                        "push to {:#x}, but the stack pointer is at {at:#x}",
                        op.addr
                    )));
                }
            }
            OpKind::Pop => {
                if self.sp == 0 {
                    return Err(stack_err("pop from an empty stack".into()));
                }
                let top = slot(self.sp - 1)?;
                if op.addr != top {
                    return Err(stack_err(format!(
                        "pop from {:#x}, but the stack top is {top:#x}",
                        op.addr
                    )));
                }
            }
            _ => {}
        }
        let z_before = self.z();
        let w = self.state.apply(line, op)?;
        self.hash = trace_hash_step_op(self.hash, op.kind.opcode(), op.addr, w.value);
        match op.kind {
            OpKind::Push => self.sp += 1,
            OpKind::Pop => self.sp -= 1,
            _ => {}
        }
        let opcode = Opcode::of(op.kind);
        let witness = SupernovaWitness {
            op: w,
            sp: sp_before,
            next_pc: 0,
        };
        if let Some((prev_op, mut prev_w, prev_z)) = self.pending.take() {
            prev_w.next_pc = opcode as u64;
            self.fold(prev_op, prev_w, &prev_z)?;
        }
        self.pending = Some((opcode, witness, z_before));
        Ok(())
    }

    fn fold(
        &mut self,
        opcode: Opcode,
        w: SupernovaWitness,
        z_before: &[F],
    ) -> Result<(), SupernovaError> {
        let c = OpCircuit {
            shape: self.shape,
            opcode,
            w,
        };
        let c2 = Sc2::default();
        match &mut self.snark {
            None => {
                let isa = Isa {
                    shape: self.shape,
                    first: opcode,
                };
                let mut s = OpcodeRecursive::new(self.pp, &isa, &c, &c2, z_before, &[F2::ZERO])
                    .map_err(nova_err)?;
                s.prove_step(self.pp, &c, &c2).map_err(nova_err)?;
                self.snark = Some(s);
            }
            Some(s) => s.prove_step(self.pp, &c, &c2).map_err(nova_err)?,
        }
        self.steps += 1;
        Ok(())
    }

    /// Ops accepted so far.
    pub fn op_count(&self) -> u64 {
        self.state.op_count()
    }

    /// Fold the last op and return the proof with its claimed outputs.
    pub fn finish(mut self) -> Result<(OpcodeRecursive, SupernovaOutputs), SupernovaError> {
        let (opcode, w, z) = self.pending.take().ok_or(SupernovaError::Empty)?;
        self.fold(opcode, w, &z)?;
        let z = self.z();
        let outputs = SupernovaOutputs {
            initial_root: self.initial_root,
            final_root: z[0],
            op_count: self.state.op_count(),
            trace_hash: z[2],
            final_sp: self.sp,
            word_bits: self.state.word_bits(),
        };
        Ok((self.snark.expect("folded"), outputs))
    }
}

fn check_zn(zn: &[F], o: &SupernovaOutputs) -> Result<(), VerifyError> {
    let want = o.zn();
    for (i, name) in ["final root", "op count", "trace hash", "stack pointer"]
        .into_iter()
        .enumerate()
    {
        if zn.get(i) != Some(&want[i]) {
            return Err(VerifyError::OutputMismatch(name));
        }
    }
    Ok(())
}

fn check_initial(shape: &SupernovaShape, o: &SupernovaOutputs) -> Result<(), VerifyError> {
    if o.initial_root != empty_root(&shape.tree) {
        return Err(VerifyError::InitialRoot);
    }
    Ok(())
}

/// Verify a folded SuperNova proof that the ops ran from the **empty memory** of `shape`'s tree
/// with an empty stack.
pub fn verify_folded(
    pp: &OpcodeParams,
    shape: &SupernovaShape,
    snark: &OpcodeRecursive,
    o: &SupernovaOutputs,
) -> Result<(), VerifyError> {
    check_initial(shape, o)?;
    let (zn, _) = snark
        .verify(pp, &o.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
    check_zn(&zn, o)
}

/// Verify a compressed SuperNova proof that the ops ran from the **empty memory** of `shape`'s
/// tree with an empty stack.
pub fn verify_compressed(
    keys: &SupernovaKeySet<OpCircuit>,
    shape: &SupernovaShape,
    snark: &OpcodeCompressed,
    o: &SupernovaOutputs,
) -> Result<(), VerifyError> {
    check_initial(shape, o)?;
    let zn = keys.verify(snark, &o.z0())?;
    check_zn(&zn, o)
}

/// Largest `stack_log_depth` a shape may have (the stack pointer and its bounds stay 64-bit).
pub const MAX_STACK_LOG_DEPTH: u32 = 63;

impl Default for SupernovaShape {
    /// 2^64 words, arity 8, the demo machine's stack of 2^8 words.
    fn default() -> Self {
        SupernovaShape {
            tree: TreeParams {
                addr_bits: 64,
                arity: 8,
            },
            stack_base: crate::machine::programs::STACK_BASE,
            stack_log_depth: 8,
        }
    }
}

impl ShapeSpec for SupernovaShape {
    const BACKEND: &'static str = "supernova";
    type Keys = SupernovaKeys;
    type KeyOpts = ();
    type RunOpts = ();
    fn validate(&self) -> Result<(), ShapeError> {
        self.tree.validate()?;
        if self.stack_log_depth > MAX_STACK_LOG_DEPTH {
            return Err(ShapeError::new(
                "stack_log_depth",
                format!(
                    "must be at most {MAX_STACK_LOG_DEPTH}, got {}",
                    self.stack_log_depth
                ),
            ));
        }
        let end = self.stack_base as u128 + (1u128 << self.stack_log_depth);
        if end > 1u128 << self.tree.addr_bits {
            return Err(ShapeError::new(
                "stack_base",
                format!(
                    "the stack [{:#x}, {end:#x}) does not fit in {} address bits",
                    self.stack_base, self.tree.addr_bits
                ),
            ));
        }
        Ok(())
    }
    fn ops_per_step(&self) -> usize {
        1
    }
    fn statement(&self) -> Lines {
        vec![
            ("addr_bits", self.tree.addr_bits.to_string()),
            ("arity", self.tree.arity.to_string()),
            ("ops_per_step", "1".into()),
            ("stack_base", format!("{:#x}", self.stack_base)),
            ("stack_log_depth", self.stack_log_depth.to_string()),
        ]
    }
    fn cache_name(&self) -> String {
        format!(
            "supernova-a{}-r{}-s{:x}-d{}",
            self.tree.addr_bits, self.tree.arity, self.stack_base, self.stack_log_depth
        )
    }
    fn keys(
        &self,
        opts: &KeyOptions,
        _: &(),
        entry: &CacheEntry,
    ) -> Result<Loaded<SupernovaKeys>, Error> {
        let shape = *self;
        let (keys, source, digests) = SupernovaKeySet::load(entry, opts, || Isa {
            shape,
            first: Opcode::Read,
        })?;
        Ok(Loaded {
            keys: SupernovaKeys { shape, keys },
            source,
            digests,
        })
    }
}

/// The default shape is the demo machine's stack; the backend folds one op per step.
impl Flags for SupernovaShape {
    fn default_shape() -> Option<Self> {
        Some(Self::default())
    }
    fn shape_flags() -> Vec<clap::Arg> {
        vec![
            flag::ops_per_step(),
            flag::addr_bits(),
            flag::arity(),
            clap::Arg::new("stack_base")
                .long("stack-base")
                .value_parser(parse_u64)
                .help("Word address of the stack's first slot (supernova) [default: the demo machine's]"),
            clap::Arg::new("stack_log_depth")
                .long("stack-log-depth")
                .value_parser(clap::value_parser!(u32))
                .help("The stack holds at most 2^N words, N ≤ 63 (supernova) [default: 8]"),
        ]
    }
    fn shape_from(m: &clap::ArgMatches, _: &(), _: &FlagContext<'_>) -> Result<Self, Error> {
        if flag::get::<usize>(m, "ops_per_step").is_some_and(|k| k != 1) {
            return Err(flag::usage(ShapeError::new(
                "ops_per_step",
                "the supernova backend folds one op per step",
            )));
        }
        let d = Self::default();
        Ok(SupernovaShape {
            tree: TreeParams {
                addr_bits: flag::get(m, "addr_bits").unwrap_or(d.tree.addr_bits),
                arity: flag::get(m, "arity").unwrap_or(d.tree.arity),
            },
            stack_base: flag::get(m, "stack_base").unwrap_or(d.stack_base),
            stack_log_depth: flag::get(m, "stack_log_depth").unwrap_or(d.stack_log_depth),
        })
    }
}

/// A 64-bit number in decimal or `0x` hex.
fn parse_u64(s: &str) -> Result<u64, String> {
    crate::word::Word::parse(s)?
        .to_u64()
        .ok_or_else(|| format!("{s} does not fit in 64 bits"))
}

impl Claim for SupernovaOutputs {
    fn op_count(&self) -> u64 {
        self.op_count
    }
    fn word_bits(&self) -> u32 {
        self.word_bits
    }
    fn trace_hash(&self) -> Option<F> {
        Some(self.trace_hash)
    }
    fn statement(&self) -> Lines {
        vec![
            ("initial_memory", "empty".into()),
            ("initial_root", f_hex(&self.initial_root)),
            ("final_root", f_hex(&self.final_root)),
            ("final_sp", self.final_sp.to_string()),
            ("ops", self.op_count.to_string()),
            ("trace_hash", f_hex(&self.trace_hash)),
        ]
    }
}

/// A proof of the SuperNova backend: what it claims and the compressed SNARK.
#[derive(Clone, Serialize, Deserialize)]
pub struct SupernovaProof {
    /// Claimed outputs.
    pub outputs: SupernovaOutputs,
    /// Compressed SNARK.
    pub snark: OpcodeCompressed,
}

impl Proof for SupernovaProof {
    fn claim(&self) -> &dyn Claim {
        &self.outputs
    }
}

/// Keys of the SuperNova backend for one shape.
pub struct SupernovaKeys {
    /// Shape.
    pub shape: SupernovaShape,
    /// Parameters and compression keys of the opcode circuits.
    pub keys: SupernovaKeySet<OpCircuit>,
}

fn sn_job_error(e: SupernovaError) -> Error {
    match e {
        SupernovaError::Witness(w) => w.into(),
        SupernovaError::Stack { .. } | SupernovaError::Empty => Error::Input(e.to_string()),
        SupernovaError::Nova(m) => Error::Internal(m),
    }
}

impl ProofSystem for SupernovaKeys {
    type Shape = SupernovaShape;
    type Proof = SupernovaProof;
    fn shape(&self) -> SupernovaShape {
        self.shape
    }
    fn constraints_per_op(&self) -> Option<f64> {
        let largest = self.keys.primary_constraints().into_iter().max();
        Some(largest.unwrap_or(0) as f64)
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        Some(self.constraints_per_op()? + self.keys.secondary_constraints() as f64)
    }
    fn circuit_lines(&self) -> Lines {
        let [r, w, pu, po] = opcode_constraints(self.shape);
        vec![(
            "opcode_constraints",
            format!("read={r} write={w} push={pu} pop={po}"),
        )]
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        _: &(),
    ) -> Result<(Option<SupernovaProof>, ProveReport), Error> {
        let t = std::time::Instant::now();
        let mut prover = SupernovaProver::new(&self.keys.pp, self.shape, word_bits);
        for item in ops {
            let (index, op) = item?;
            prover.push(index, &op).map_err(sn_job_error)?;
            progress(Progress::ops(prover.op_count()));
        }
        let (folded, outputs) = prover.finish().map_err(sn_job_error)?;
        let mut report = ProveReport {
            ops: outputs.op_count,
            steps: outputs.op_count as usize,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        if !compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = self.keys.compress(&folded)?;
        report.compress_s = t.elapsed().as_secs_f64();
        Ok((Some(SupernovaProof { outputs, snark }), report))
    }
    fn verify(
        &self,
        proof: &SupernovaProof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        let outputs = &proof.outputs;
        verify_compressed(&self.keys, &self.shape, &proof.snark, outputs)?;
        if let Some(trace) = trace {
            let mut n = 0;
            let mut h = trace_hash_seed(outputs.word_bits);
            for item in trace {
                let (_, op) = item?;
                n += 1;
                h = trace_hash_step_op(
                    h,
                    op.kind.opcode(),
                    op.addr,
                    op.value.to_field(outputs.word_bits),
                );
            }
            check_trace_claim(outputs, n, h)?;
        }
        Ok(())
    }
}
