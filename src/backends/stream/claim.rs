//! What a `stream` proof claims and how the verifier checks it: the claim rules (op count,
//! start state, audit, `G` back at `S`), one proof of a whole trace, and continuations (proofs of
//! consecutive ranges whose start states the verifier builds itself).

use super::circuit::{self, canonical};
use super::curve::{base_point, sums_to_start, Affine};
use super::{StreamCompressed, StreamKeys, StreamParams, StreamRecursive, StreamShape};
use crate::backend::{Claim, Lines, Proof};
use crate::codec::f_hex;
use crate::engine::{F, F2};
use crate::error::{Error, VerifyError};
use crate::hash::trace_hash_seed;
use ff::Field;
use serde::{Deserialize, Serialize};

/// What a streaming proof claims: the trace (range) it covers, from the start state the verifier
/// builds, to its end state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOutputs {
    /// Word size in bits (seeds the trace hash).
    pub word_bits: u32,
    /// Trace hash at the start of the range (the seed for a whole trace).
    pub start_hash: F,
    /// Time (ops before the range) at its start.
    pub start_time: u64,
    /// Trace hash at the end of the range.
    pub trace_hash: F,
    /// Time at the end: the number of ops up to the end of the range.
    pub op_count: u64,
    /// The audit ran (the last proof of a trace).
    pub audited: bool,
    /// Last audited address (`None`: no address audited).
    pub last_addr: Option<u64>,
    /// The multiset-hash point at the end.
    pub g: Affine,
}

impl StreamOutputs {
    /// The start state (the verifier builds it; never read from a proof).
    pub fn z0(&self) -> Vec<F> {
        canonical(self.start_hash, self.start_time)
    }
    /// The end state the proof must reach: no open segment, segment registers reset.
    pub fn zn(&self) -> Vec<F> {
        let mut z = canonical(self.trace_hash, self.op_count);
        z[circuit::z::PH] = if self.audited { F::ONE } else { F::ZERO };
        z[circuit::z::LA] = self.last_addr.map(F::from).unwrap_or(-F::ONE);
        z[circuit::z::GX] = self.g.x;
        z[circuit::z::GY] = self.g.y;
        z
    }
    /// Ops in this range.
    pub fn range_ops(&self) -> u64 {
        self.op_count.saturating_sub(self.start_time)
    }
}

impl Claim for StreamOutputs {
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
        let mut v = vec![("initial_memory", "empty".to_string())];
        if self.start_time != 0 {
            v.push(("range_start_time", self.start_time.to_string()));
            v.push(("range_start_hash", f_hex(&self.start_hash)));
        }
        v.push(("ops", self.op_count.to_string()));
        v.push(("trace_hash", f_hex(&self.trace_hash)));
        v.push(("audited", self.audited.to_string()));
        v
    }
}

/// Why a streaming claim is not the statement the verifier accepts (beyond the SNARK).
fn check_claim(shape: &StreamShape, o: &StreamOutputs, whole: bool) -> Result<(), VerifyError> {
    if o.op_count >= 1u64 << shape.time_bits || o.start_time > o.op_count {
        return Err(VerifyError::Statement("op count (at most 2^time_bits)"));
    }
    if whole {
        if o.start_time != 0 || o.start_hash != trace_hash_seed(o.word_bits) {
            return Err(VerifyError::Statement(
                "start state (a whole trace starts at the seed, time 0)",
            ));
        }
        if !o.audited {
            return Err(VerifyError::Statement("audit (the proof never audited)"));
        }
        if o.g != base_point() {
            return Err(VerifyError::Statement("multiset hash (G is not back at S)"));
        }
    }
    Ok(())
}

/// Verify a compressed proof of a whole trace: from the empty memory and the seed, every segment
/// closed, the audit run, `G` back at `S`.
pub fn verify_compressed(
    keys: &StreamKeys,
    snark: &StreamCompressed,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    check_claim(&keys.shape, o, true)?;
    verify_range(keys, snark, o)
}

/// The SNARK of one range against its claim, from the start state built from the claim's start.
fn verify_range(
    keys: &StreamKeys,
    snark: &StreamCompressed,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    let zn = keys.keys.verify(snark, &o.z0())?;
    if zn != o.zn() {
        return Err(VerifyError::OutputMismatch("final state"));
    }
    Ok(())
}

/// The claim rules of one part of a run (a range, or the whole trace as its only part): well
/// formed, over `word_bits`-bit words, starting at `start` (trace hash, time), audited exactly if
/// it is the `last` part.
fn check_part(
    shape: &StreamShape,
    o: &StreamOutputs,
    word_bits: u32,
    start: (F, u64),
    last: bool,
) -> Result<(), VerifyError> {
    check_claim(shape, o, false)?;
    if o.word_bits != word_bits {
        return Err(VerifyError::Statement("word size (differs between parts)"));
    }
    if (o.start_hash, o.start_time) != start {
        return Err(VerifyError::Statement(
            "range start (a part does not start where the previous one ended)",
        ));
    }
    if o.audited != last {
        return Err(VerifyError::Statement(
            "audit (exactly the last part audits)",
        ));
    }
    if !last && o.last_addr.is_some() {
        return Err(VerifyError::Statement(
            "audit (a part before the last audited)",
        ));
    }
    Ok(())
}

/// The prover's check of the proof it is about to write, with the verifier's own checks: the
/// compressed SNARK verifies from the start state its claim names and ends in the claimed state,
/// the claim is well formed, a first range starts at the seed, exactly a last range audits, and
/// a whole trace ends with `G` back at `S`. Without it a corrupted checkpoint or a prover bug
/// would be written as a proof no verifier accepts while `prove` reported success.
pub fn check_proof(
    keys: &StreamKeys,
    snark: &StreamCompressed,
    o: &StreamOutputs,
    first: bool,
    last: bool,
) -> Result<(), Error> {
    let fail = |why: String| {
        Error::Internal(format!(
            "the proof does not verify ({why}): a corrupted checkpoint, or a prover bug; no \
             proof was written"
        ))
    };
    // the verifier's rules for this part; a later range's start is chained by the verifier
    // across parts, which one prover cannot check
    let start = if first {
        (trace_hash_seed(o.word_bits), 0)
    } else {
        (o.start_hash, o.start_time)
    };
    check_part(&keys.shape, o, o.word_bits, start, last).map_err(|e| fail(e.to_string()))?;
    // a verifier key parked while proving comes back here; losing it is not the proof's fault
    keys.keys.unpark_vk()?;
    if first && last {
        // a whole trace: G back at S
        check_claim(&keys.shape, o, true).map_err(|e| fail(e.to_string()))?;
    }
    verify_range(keys, snark, o).map_err(|e| fail(e.to_string()))
}

/// Verify a folded proof of a whole trace, for the prover's own proofs and tests: arecibo's
/// folded verifier takes the parameter digest from the proof, so proofs from elsewhere are
/// verified compressed ([`verify_compressed`]).
pub fn verify_folded(
    pp: &StreamParams,
    shape: &StreamShape,
    snark: &StreamRecursive,
    o: &StreamOutputs,
) -> Result<(), VerifyError> {
    check_claim(shape, o, true)?;
    let (zn, _) = snark
        .verify(pp, &o.z0(), &[F2::ZERO])
        .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
    if zn != o.zn() {
        return Err(VerifyError::OutputMismatch("final state"));
    }
    Ok(())
}

/// Verify continuation proofs of consecutive ranges. The verifier builds every start state
/// itself: the first from the seed at time 0, each next one from the previous proof's final trace
/// hash and time; every proof but the last ends before the audit, the last after it, and
/// `Σ (G_i − S) = O`.
pub fn verify_parts(
    keys: &StreamKeys,
    parts: &[(&StreamCompressed, &StreamOutputs)],
) -> Result<(), VerifyError> {
    let shape = &keys.shape;
    let Some(((_, first), _)) = parts.split_first() else {
        return Err(VerifyError::Statement("parts (none given)"));
    };
    let word_bits = first.word_bits;
    let mut expect = (trace_hash_seed(word_bits), 0u64);
    for (i, (snark, o)) in parts.iter().enumerate() {
        check_part(shape, o, word_bits, expect, i == parts.len() - 1)?;
        verify_range(keys, snark, o).map_err(|e| match e {
            VerifyError::Snark(m) => VerifyError::Snark(format!("part {i}: {m}")),
            other => other,
        })?;
        expect = (o.trace_hash, o.op_count);
    }
    let gs: Vec<Affine> = parts.iter().map(|(_, o)| o.g).collect();
    match sums_to_start(&gs) {
        Some(true) => Ok(()),
        _ => Err(VerifyError::Statement(
            "multiset hash (the parts' G do not sum back to S)",
        )),
    }
}

/// A proof of the stream backend (of a whole trace, or one range of it): what it claims and the
/// compressed SNARK.
#[derive(Clone, Serialize, Deserialize)]
pub struct StreamProof {
    /// Claimed outputs.
    pub outputs: StreamOutputs,
    /// Compressed SNARK.
    pub snark: StreamCompressed,
}

impl Proof for StreamProof {
    fn claim(&self) -> &dyn Claim {
        &self.outputs
    }
}
