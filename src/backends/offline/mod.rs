//! Offline memory checking (Blum et al.) folded with Nova: a few hundred constraints per op,
//! independent of the memory size.
//!
//! # Statement
//! A proof verifies for a trace hash `T` only if some op list hashing to `T` has every read
//! return the value last written to its address, or 0 if never written (except with probability
//! about `2·slots/|F|` per hash query): op slots and audit slots feed read and write multisets
//! fingerprinted with Fiat–Shamir challenges the verifier recomputes from the hash chains in the
//! final state. The prover buffers the whole trace (one segment). The construction and the
//! soundness argument: `docs/offline.md`.

mod circuit;
#[cfg(test)]
mod tests;

pub use circuit::{z, OfflineStep, Slot, RANGE_BITS};

use crate::backend::{
    buffer_checked, check_ops_per_step, check_trace_claim, collect_ops, flag, CacheEntry, Claim,
    FlagContext, Flags, KeyOptions, Lines, Loaded, Progress, Proof, ProofSystem, ProveReport,
    ShapeError, ShapeSpec, TraceItem,
};
use crate::codec::f_hex;
use crate::engine::{F, F2};
use crate::error::{Error, VerifyError};
use crate::folding::{setup_circuit, Compressed, NovaKeySet, Params, Pk, Recursive, Vk, C2};
use crate::hash::{chain_absorb, challenge, trace_hash_seed};
use crate::trace::{Checker, Op};
use arecibo::errors::NovaError;
use ff::Field;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Public parameters of the offline backend.
pub type OfflineParams = Params<OfflineStep>;
/// Folded proof.
pub type OfflineRecursive = Recursive<OfflineStep>;
/// Compressed proof.
pub type OfflineCompressed = Compressed<OfflineStep>;
/// Compression prover key.
pub type OfflinePk = Pk<OfflineStep>;
/// Compression verifier key.
pub type OfflineVk = Vk<OfflineStep>;

/// Parameters for `k` slots per step.
pub fn setup(ops_per_step: usize) -> OfflineParams {
    setup_circuit(&OfflineStep::blank(ops_per_step))
}

/// What an offline proof claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineOutputs {
    /// Number of ops.
    pub op_count: u64,
    /// Trace hash (chain `T`, seeded with the word size).
    pub trace_hash: F,
    /// Word size in bits.
    pub word_bits: u32,
    /// Chain `P` over previous values and times.
    pub prev_hash: F,
    /// Chain `A` over audit tuples.
    pub audit_hash: F,
    /// Common value of the read- and write-set fingerprints.
    pub fingerprint: F,
    /// Number of audited addresses: at least the number of distinct addresses the ops touch (a
    /// prover may also audit addresses no op touched; they only add balanced tuples).
    pub audit_count: u64,
    /// Largest touched address (`None` if no op).
    pub last_addr: Option<u64>,
}

impl OfflineOutputs {
    /// Challenges `(γ, α)` derived from the chains.
    pub fn challenges(&self) -> (F, F) {
        (
            challenge(self.trace_hash, self.prev_hash, self.audit_hash, 1),
            challenge(self.trace_hash, self.prev_hash, self.audit_hash, 2),
        )
    }

    /// Initial state.
    pub fn z0(&self) -> Vec<F> {
        let (g, a) = self.challenges();
        vec![
            F::ZERO,
            trace_hash_seed(self.word_bits),
            F::ZERO,
            F::ZERO,
            F::ONE,
            F::ONE,
            F::ZERO,
            -F::ONE,
            F::ZERO,
            g,
            a,
        ]
    }

    /// Final state the proof must reach.
    pub fn zn(&self) -> Vec<F> {
        let (g, a) = self.challenges();
        let last = self.last_addr.map(F::from).unwrap_or(-F::ONE);
        vec![
            F::ONE,
            self.trace_hash,
            self.prev_hash,
            self.audit_hash,
            self.fingerprint,
            self.fingerprint,
            F::from(self.op_count),
            last,
            F::from(self.audit_count),
            g,
            a,
        ]
    }

    /// Number of folding steps: op steps then at least one audit step.
    pub fn num_steps(&self, k: usize) -> usize {
        self.op_count.div_ceil(k as u64) as usize
            + (self.audit_count.div_ceil(k as u64) as usize).max(1)
    }
}

/// Opcode of a slot (read 0, write 1, push 2, pop 3), as the circuit derives it from its bits.
fn slot_opcode(s: &Slot) -> u64 {
    let (w, st) = (s.is_write as u64, s.is_stack as u64);
    w + 3 * st - 2 * w * st
}

/// X-chain elements of an op slot.
fn op_elems(op: &Op, word_bits: u32) -> [F; 3] {
    [
        F::from(op.addr),
        op.value.to_field(word_bits),
        F::from(4 + op.kind.opcode()),
    ]
}

/// Trace hash of an op stream for `k` slots per step (what a verifier with the trace recomputes).
pub fn trace_hash(ops: impl IntoIterator<Item = Op>, word_bits: u32, k: usize) -> (u64, F) {
    let mut h = trace_hash_seed(word_bits);
    let mut n = 0u64;
    let mut block = Vec::with_capacity(3 * k);
    for op in ops {
        block.extend(op_elems(&op, word_bits));
        n += 1;
        if block.len() == 3 * k {
            h = chain_absorb(h, &block);
            block.clear();
        }
    }
    if !block.is_empty() {
        block.resize(3 * k, F::ZERO);
        h = chain_absorb(h, &block);
    }
    (n, h)
}

/// Everything the prover derives from a trace before folding.
pub struct OfflineWitness {
    /// Steps in order (op steps, then audit steps).
    pub steps: Vec<OfflineStep>,
    /// Claimed outputs.
    pub outputs: OfflineOutputs,
}

/// Build the witness for a (checked) op list; refuses an inconsistent trace with the first bad
/// op's index (1-based).
pub fn witness(
    ops: &[Op],
    word_bits: u32,
    k: usize,
) -> Result<OfflineWitness, crate::trace::TraceError> {
    let mut checker = Checker::new();
    let mut last: BTreeMap<u64, (F, u64)> = BTreeMap::new(); // addr -> (value, time)
    let mut steps = Vec::new();
    let mut slots = Vec::with_capacity(k);
    for (i, op) in ops.iter().enumerate() {
        checker.apply(i + 1, op)?;
        let t = i as u64 + 1;
        let v = op.value.to_field(word_bits);
        let (pv, pt) = last.get(&op.addr).copied().unwrap_or((F::ZERO, 0));
        last.insert(op.addr, (v, t));
        slots.push(Slot {
            enabled: true,
            is_write: op.kind.is_write(),
            is_stack: op.kind.is_stack(),
            addr: F::from(op.addr),
            value: v,
            prev_value: pv,
            prev_time: F::from(pt),
            gap: t - 1 - pt,
        });
        if slots.len() == k {
            steps.push(OfflineStep {
                ops_per_step: k,
                audit: false,
                slots: std::mem::take(&mut slots),
            });
        }
    }
    if !slots.is_empty() {
        slots.resize(k, Slot::padding(false));
        steps.push(OfflineStep {
            ops_per_step: k,
            audit: false,
            slots: std::mem::take(&mut slots),
        });
    }
    let mut prev_addr: Option<u64> = None;
    for (&a, &(vf, tf)) in &last {
        let gap = match prev_addr {
            None => a,
            Some(p) => a - p - 1,
        };
        prev_addr = Some(a);
        slots.push(Slot {
            enabled: true,
            is_write: true,
            is_stack: false,
            addr: F::from(a),
            value: F::ZERO,
            prev_value: vf,
            prev_time: F::from(tf),
            gap,
        });
        if slots.len() == k {
            steps.push(OfflineStep {
                ops_per_step: k,
                audit: true,
                slots: std::mem::take(&mut slots),
            });
        }
    }
    if !slots.is_empty() || last.is_empty() {
        slots.resize(k, Slot::padding(true));
        steps.push(OfflineStep {
            ops_per_step: k,
            audit: true,
            slots,
        });
    }
    // chains
    let (mut t_h, mut p_h, mut a_h) = (trace_hash_seed(word_bits), F::ZERO, F::ZERO);
    for s in &steps {
        let x: Vec<F> = s
            .slots
            .iter()
            .flat_map(|sl| {
                [
                    sl.addr,
                    sl.value,
                    F::from(slot_opcode(sl) + 4 * sl.enabled as u64),
                ]
            })
            .collect();
        let y: Vec<F> = s
            .slots
            .iter()
            .flat_map(|sl| [sl.prev_value, sl.prev_time])
            .collect();
        if s.audit {
            a_h = chain_absorb(a_h, &x);
        } else {
            t_h = chain_absorb(t_h, &x);
        }
        p_h = chain_absorb(p_h, &y);
    }
    let mut outputs = OfflineOutputs {
        op_count: ops.len() as u64,
        trace_hash: t_h,
        word_bits,
        prev_hash: p_h,
        audit_hash: a_h,
        fingerprint: F::ONE,
        audit_count: last.len() as u64,
        last_addr: prev_addr,
    };
    outputs.fingerprint = fingerprint(&steps, &outputs);
    Ok(OfflineWitness { steps, outputs })
}

/// Read-set fingerprint the circuit reaches (equal to the write set's for a consistent trace).
fn fingerprint(steps: &[OfflineStep], o: &OfflineOutputs) -> F {
    let (g, a) = o.challenges();
    steps
        .iter()
        .flat_map(|s| s.slots.iter())
        .filter(|s| s.enabled)
        .fold(F::ONE, |acc, s| {
            acc * (g - (s.addr + a * s.prev_value + a * a * s.prev_time))
        })
}

/// Fold the witness's steps.
pub fn fold(pp: &OfflineParams, w: &OfflineWitness) -> Result<OfflineRecursive, NovaError> {
    fold_from(pp, &w.steps, &w.outputs.z0())
}

/// Fold `steps` from an explicit `z0` (a forging prover in tests may pass any).
pub fn fold_from(
    pp: &OfflineParams,
    steps: &[OfflineStep],
    z0: &[F],
) -> Result<OfflineRecursive, NovaError> {
    let c2 = C2::default();
    let mut snark = OfflineRecursive::new(pp, &steps[0], &c2, z0, &[F2::ZERO])?;
    for s in steps {
        // the first call only advances the counter past the step `new` synthesized
        snark.prove_step(pp, s, &c2)?;
    }
    Ok(snark)
}

fn check_outputs(o: &OfflineOutputs, zn: &[F]) -> Result<(), VerifyError> {
    if o.op_count >= 1 << 40 {
        return Err(VerifyError::OutputMismatch("op count (at most 2^40 ops)"));
    }
    if zn != o.zn().as_slice() {
        return Err(VerifyError::OutputMismatch("final state"));
    }
    Ok(())
}

/// Verify a folded offline proof against claimed outputs.
pub fn verify_folded(
    pp: &OfflineParams,
    k: usize,
    snark: &OfflineRecursive,
    o: &OfflineOutputs,
) -> Result<(), VerifyError> {
    let (zn, _) = snark
        .verify(pp, o.num_steps(k), &o.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(e.to_string()))?;
    check_outputs(o, &zn)
}

/// Verify a compressed offline proof against claimed outputs.
pub fn verify_compressed(
    vk: &OfflineVk,
    k: usize,
    snark: &OfflineCompressed,
    o: &OfflineOutputs,
) -> Result<(), VerifyError> {
    let (zn, _) = snark
        .verify(vk, o.num_steps(k), &o.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(e.to_string()))?;
    check_outputs(o, &zn)
}

/// Step-circuit constraints (without Nova's verifier circuit).
pub fn step_constraints(k: usize) -> usize {
    crate::gadgets::count_constraints(z::ARITY, |cs, zs| {
        let _ = arecibo::traits::circuit::StepCircuit::synthesize(&OfflineStep::blank(k), cs, zs);
    })
}

/// Shape of the offline backend: slots per folding step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OfflineShape {
    /// Slots per step (`k`).
    pub ops_per_step: usize,
}

/// Default slots per step of the offline backend.
pub const DEFAULT_OPS_PER_STEP: usize = 128;

impl ShapeSpec for OfflineShape {
    const BACKEND: &'static str = "nova-offline";
    type Keys = OfflineKeys;
    type KeyOpts = ();
    type RunOpts = ();
    fn validate(&self) -> Result<(), ShapeError> {
        check_ops_per_step(self.ops_per_step, crate::backend::MAX_OPS_PER_STEP)
    }
    fn ops_per_step(&self) -> usize {
        self.ops_per_step
    }
    fn statement(&self) -> Lines {
        vec![("ops_per_step", self.ops_per_step.to_string())]
    }
    fn cache_name(&self) -> String {
        format!("nova-offline-k{}", self.ops_per_step)
    }
    fn keys(
        &self,
        opts: &KeyOptions,
        _: &(),
        entry: &CacheEntry,
    ) -> Result<Loaded<OfflineKeys>, Error> {
        let k = self.ops_per_step;
        let (keys, source, digests) = NovaKeySet::load(entry, opts, || OfflineStep::blank(k))?;
        Ok(Loaded {
            keys: OfflineKeys { k, keys },
            source,
            digests,
        })
    }
}

/// The default shape: 128 slots per step. There is no memory tree: the circuit is the same for
/// any address width.
impl Flags for OfflineShape {
    fn default_shape() -> Option<Self> {
        Some(OfflineShape {
            ops_per_step: DEFAULT_OPS_PER_STEP,
        })
    }
    fn shape_flags() -> Vec<clap::Arg> {
        vec![flag::ops_per_step()]
    }
    fn shape_from(m: &clap::ArgMatches, _: &(), _: &FlagContext<'_>) -> Result<Self, Error> {
        Ok(OfflineShape {
            ops_per_step: flag::get(m, "ops_per_step").unwrap_or(DEFAULT_OPS_PER_STEP),
        })
    }
}

impl Claim for OfflineOutputs {
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
            ("ops", self.op_count.to_string()),
            ("trace_hash", f_hex(&self.trace_hash)),
            ("audited_addrs", self.audit_count.to_string()),
            ("fingerprint", f_hex(&self.fingerprint)),
        ]
    }
}

/// Keys of the offline backend for one shape.
pub struct OfflineKeys {
    /// Slots per step.
    pub k: usize,
    /// Nova parameters and compression keys.
    pub keys: NovaKeySet<OfflineStep>,
}

/// A proof of the offline backend: what it claims and the compressed SNARK.
#[derive(Clone, Serialize, Deserialize)]
pub struct OfflineProof {
    /// Claimed outputs.
    pub outputs: OfflineOutputs,
    /// Compressed SNARK.
    pub snark: OfflineCompressed,
}

impl Proof for OfflineProof {
    fn claim(&self) -> &dyn Claim {
        &self.outputs
    }
}

impl ProofSystem for OfflineKeys {
    type Shape = OfflineShape;
    type Proof = OfflineProof;
    fn shape(&self) -> OfflineShape {
        OfflineShape {
            ops_per_step: self.k,
        }
    }
    fn constraints_per_op(&self) -> Option<f64> {
        Some(self.keys.constraints_per_op(self.k))
    }
    fn effective_constraints_per_op(&self) -> Option<f64> {
        Some(self.keys.effective_constraints_per_op(self.k))
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        _: &(),
    ) -> Result<(Option<OfflineProof>, ProveReport), Error> {
        let t = std::time::Instant::now();
        // the challenges depend on the whole segment: check and buffer it first
        let all = buffer_checked(ops, word_bits, &mut |_| {})?;
        let w = witness(&all, word_bits, self.k)?;
        let (pp, k) = (&self.keys.pp, self.k);
        let c2 = C2::default();
        let mut snark: Option<OfflineRecursive> = None;
        for (i, s) in w.steps.iter().enumerate() {
            let r = match &mut snark {
                None => snark.insert(
                    OfflineRecursive::new(pp, s, &c2, &w.outputs.z0(), &[F2::ZERO])
                        .map_err(Error::internal)?,
                ),
                Some(r) => r,
            };
            r.prove_step(pp, s, &c2).map_err(Error::internal)?;
            progress(Progress::ops(
                (((i + 1) * k) as u64).min(w.outputs.op_count),
            ));
        }
        let folded = snark.ok_or_else(|| Error::internal("no step folded"))?;
        let mut report = ProveReport {
            ops: w.outputs.op_count,
            steps: w.steps.len(),
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        if !compress {
            return Ok((None, report));
        }
        let t = std::time::Instant::now();
        let snark = self.keys.compress(&folded)?;
        report.compress_s = t.elapsed().as_secs_f64();
        Ok((
            Some(OfflineProof {
                outputs: w.outputs,
                snark,
            }),
            report,
        ))
    }
    fn verify(
        &self,
        proof: &OfflineProof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        let outputs = &proof.outputs;
        verify_compressed(&self.keys.vk, self.k, &proof.snark, outputs)?;
        if let Some(trace) = trace {
            let (n, hash) = trace_hash(collect_ops(trace)?, outputs.word_bits, self.k);
            check_trace_claim(outputs, n, hash)?;
        }
        Ok(())
    }
}
