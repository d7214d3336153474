//! What each of the stream circuits' steps witnesses: op, boundary, audit and fresh slots, the
//! challenges a step opens a segment with, and the step enum the prover folds.

use super::circuit::{AUDIT, BOUNDARY, FRESH, OP};
use super::curve::H2cWitness;
use crate::engine::F;
use serde::{Deserialize, Serialize};

/// Challenges a step witnesses in case it opens a segment (ignored when one is open).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// γ.
    pub gamma: F,
    /// α.
    pub alpha: F,
}

/// One op slot: the op `(addr, value, kind)` at the next time, with the previous value and time
/// of its address. A disabled slot is padding (only in the trace's last op step).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSlot {
    /// Real op (counted, fingerprinted).
    pub enabled: bool,
    /// Write or push.
    pub is_write: bool,
    /// Push or pop (bound into the trace hash only).
    pub is_stack: bool,
    /// Address.
    pub addr: F,
    /// Value read or written.
    pub value: F,
    /// Value of the address before the op.
    pub prev_value: F,
    /// Time of the address's previous access (0: never accessed).
    pub prev_time: F,
}

/// One boundary slot: an address the segment touched, with its value and time before (`in`)
/// and after (`out`) the segment, and the hash-to-curve witnesses of both tuples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundarySlot {
    /// Counts (all values must be 0 when disabled).
    pub enabled: bool,
    /// Address.
    pub addr: F,
    /// Value before the segment.
    pub value_in: F,
    /// Time of the last access before the segment (0: never).
    pub time_in: F,
    /// Value after the segment.
    pub value_out: F,
    /// Time of the last access in the segment.
    pub time_out: F,
    /// Hash-to-curve witness of `(addr, value_in, time_in)`.
    pub h_in: H2cWitness,
    /// Hash-to-curve witness of `(addr, value_out, time_out)`.
    pub h_out: H2cWitness,
}

/// One audit slot (run inside the last segment): an address with its tuple before the last
/// segment, `x = (addr, value, time)`, and — if the last segment touched it — its tuple after,
/// `(addr, value_out, time_out)`. It is the last segment's boundary slot and the address's audit
/// in one: `G += H(addr, 0, 0) − H(x)`, and if `touched`, `x` is written into the segment and the
/// outgoing tuple read out of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSlot {
    /// Counts (all values must be 0 when disabled).
    pub enabled: bool,
    /// The last segment touched the address.
    pub touched: bool,
    /// Address (strictly above the previous audited one).
    pub addr: F,
    /// Value before the last segment (the final value if untouched).
    pub value: F,
    /// Time of the last access before the last segment.
    pub time: F,
    /// Value after the last segment (unused if untouched; the prover sets 0).
    pub value_out: F,
    /// Time of the last access in the last segment (unused if untouched; the prover sets 0).
    pub time_out: F,
    /// `addr − last − 1` (range-check witness; 0 when disabled).
    pub gap: u64,
    /// Hash-to-curve witness of the initial tuple `(addr, 0, 0)`.
    pub h_init: H2cWitness,
    /// Hash-to-curve witness of `x = (addr, value, time)`.
    pub h_final: H2cWitness,
}

/// One fresh slot (run inside the last segment): an address the last segment touched first, with
/// its tuple after the segment. Its incoming tuple is the initial `(addr, 0, 0)`, so its
/// boundary and audit moves of `G` cancel and no point is hashed: the slot writes `(addr, 0, 0)`
/// into the segment and reads `(addr, value, time)` out of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshSlot {
    /// Counts (all values must be 0 when disabled).
    pub enabled: bool,
    /// Address (strictly above the previous audited one).
    pub addr: F,
    /// Final value.
    pub value: F,
    /// Time of the final access.
    pub time: F,
    /// `addr − last − 1` (range-check witness; 0 when disabled).
    pub gap: u64,
}

/// What one step does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// `k` op slots.
    Op {
        /// Challenges if this step opens a segment.
        open: Opening,
        /// Exactly `k` slots.
        slots: Vec<OpSlot>,
    },
    /// `m` boundary slots; `close` ends the segment after them.
    Boundary {
        /// Challenges if this step opens a segment.
        open: Opening,
        /// Exactly `m` slots.
        slots: Vec<BoundarySlot>,
        /// Close the segment.
        close: bool,
    },
    /// `m` audit slots in the open last segment; `close` ends it after them.
    Audit {
        /// Exactly `m` slots.
        slots: Vec<AuditSlot>,
        /// Close the segment.
        close: bool,
    },
    /// `10m` fresh slots in the open last segment; `close` ends it after them.
    Fresh {
        /// Exactly `10m` slots.
        slots: Vec<FreshSlot>,
        /// Close the segment.
        close: bool,
    },
}

impl Step {
    /// A final step of the last segment (audit or fresh).
    pub fn is_final(&self) -> bool {
        matches!(self, Step::Audit { .. } | Step::Fresh { .. })
    }

    /// Circuit index of this step.
    pub fn index(&self) -> usize {
        match self {
            Step::Op { .. } => OP,
            Step::Boundary { .. } => BOUNDARY,
            Step::Audit { .. } => AUDIT,
            Step::Fresh { .. } => FRESH,
        }
    }
}
