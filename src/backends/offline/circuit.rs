//! The offline-memory-checking step circuit: `k` tuple slots per step, in op mode or audit mode.

use crate::engine::F;
use crate::gadgets::{add_bool, alloc_bits, alloc_num, bits_to_num, mul, one, select, sub};
use crate::hash::chain_absorb_circuit;
use arecibo::traits::circuit::StepCircuit;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// Width of the range checks (`prev_time < time`, audit address order).
pub const RANGE_BITS: u32 = 64;

/// Indices into the state vector `z`.
pub mod z {
    /// Mode of the last step: 0 = op steps, 1 = audit steps (never goes back).
    pub const MODE: usize = 0;
    /// Trace hash: chain over `(addr, value, opcode + 4·enabled)` of op slots.
    pub const TRACE: usize = 1;
    /// Chain over `(prev_value, prev_time)` of every slot.
    pub const PREV: usize = 2;
    /// Chain over `(addr, 0, opcode + 4·enabled)` of audit slots.
    pub const AUDIT: usize = 3;
    /// Read-set fingerprint.
    pub const RS: usize = 4;
    /// Write-set fingerprint.
    pub const WS: usize = 5;
    /// Time = number of ops so far.
    pub const TIME: usize = 6;
    /// Last audited address (starts at −1).
    pub const LAST: usize = 7;
    /// Number of audited addresses.
    pub const AUDITS: usize = 8;
    /// Challenge γ (constant).
    pub const GAMMA: usize = 9;
    /// Challenge α (constant).
    pub const ALPHA: usize = 10;
    /// State width.
    pub const ARITY: usize = 11;
}

/// Witness of one slot. In op mode: the op `(addr, value, kind)` with the previous value and time
/// of its address. In audit mode: `addr` with its final value in `prev_value` and final time in
/// `prev_time` (and `value = 0`, `is_write = true`). A disabled slot is padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Real slot (counted, fingerprinted).
    pub enabled: bool,
    /// Write (op mode); true in audit mode.
    pub is_write: bool,
    /// Push or pop (op mode): bound into the trace hash only.
    pub is_stack: bool,
    /// Address.
    pub addr: F,
    /// Value read or written (0 in audit mode).
    pub value: F,
    /// Previous value at `addr` (audit: final value).
    pub prev_value: F,
    /// Previous time at `addr` (audit: final time).
    pub prev_time: F,
    /// Range-check witness: `time − 1 − prev_time` (op) or `addr − last − 1` (audit).
    pub gap: u64,
}

impl Slot {
    /// A padding slot.
    pub fn padding(audit: bool) -> Self {
        Slot {
            enabled: false,
            is_write: audit,
            is_stack: false,
            addr: F::ZERO,
            value: F::ZERO,
            prev_value: F::ZERO,
            prev_time: F::ZERO,
            gap: 0,
        }
    }
}

/// One step of the offline backend.
#[derive(Clone, Debug)]
pub struct OfflineStep {
    /// Slots per step (`k`).
    pub ops_per_step: usize,
    /// Audit mode (true) or op mode.
    pub audit: bool,
    /// Exactly `ops_per_step` slots.
    pub slots: Vec<Slot>,
}

impl OfflineStep {
    /// Placeholder step for shape synthesis.
    pub fn blank(ops_per_step: usize) -> Self {
        OfflineStep {
            ops_per_step,
            audit: false,
            slots: vec![Slot::padding(false); ops_per_step],
        }
    }
}

struct Ctx<'a> {
    aud: &'a Boolean,
    gamma: Num<F>,
    alpha: Num<F>,
    alpha2: Num<F>,
}

struct Acc {
    rs: Num<F>,
    ws: Num<F>,
    time: Num<F>,
    last: Num<F>,
    audits: Num<F>,
    x: Vec<Num<F>>,
    y: Vec<Num<F>>,
}

fn alloc<CS: ConstraintSystem<F>>(mut cs: CS, name: &str, v: F) -> Result<Num<F>, SynthesisError> {
    Ok(AllocatedNum::alloc(cs.namespace(|| name.to_string()), || Ok(v))?.into())
}

fn synthesize_slot<CS: ConstraintSystem<F>>(
    mut cs: CS,
    c: &Ctx,
    s: &Slot,
    acc: &mut Acc,
) -> Result<(), SynthesisError> {
    let en = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "enabled"),
        Some(s.enabled),
    )?);
    let wr = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "is_write"),
        Some(s.is_write),
    )?);
    let st = Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "is_stack"),
        Some(s.is_stack),
    )?);
    let a = alloc(cs.namespace(|| "a"), "addr", s.addr)?;
    let v = alloc(cs.namespace(|| "v"), "value", s.value)?;
    let pv = alloc(cs.namespace(|| "pv"), "prev value", s.prev_value)?;
    let pt = alloc(cs.namespace(|| "pt"), "prev time", s.prev_time)?;
    // a read returns the previous value
    cs.enforce(
        || "read value = prev value",
        |_| wr.not().lc(CS::one(), F::ONE),
        |_| sub(&v, &pv).lc(F::ONE),
        |lc| lc,
    );
    // audit slots write nothing: their write-set tuple is the initial (addr, 0, 0)
    cs.enforce(
        || "audit value = 0",
        |_| c.aud.lc(CS::one(), F::ONE),
        |_| v.lc(F::ONE),
        |lc| lc,
    );
    let aud_en = Boolean::and(cs.namespace(|| "audit and enabled"), c.aud, &en)?;
    // op slots advance time
    let en_num = add_bool::<CS>(Num::zero(), &en, F::ONE);
    let aud_en_num = add_bool::<CS>(Num::zero(), &aud_en, F::ONE);
    let time = acc.time.clone().add(&sub(&en_num, &aud_en_num));
    // gap: op → time − 1 − prev_time; audit → addr − last − 1; 0 when disabled; < 2^64
    let one_n = one::<CS>();
    let gap_op = sub(&sub(&time, &one_n), &pt);
    let gap_audit = sub(&sub(&a, &acc.last), &one_n);
    let gap = select(cs.namespace(|| "gap mode"), c.aud, &gap_audit, &gap_op)?;
    let gap = mul(cs.namespace(|| "gap enabled"), &en_num, &gap)?;
    let bits = alloc_bits(cs.namespace(|| "gap bits"), s.gap, RANGE_BITS)?;
    cs.enforce(
        || "gap in range",
        |_| bits_to_num::<CS>(&bits).lc(F::ONE),
        |lc| lc + CS::one(),
        |_| gap.lc(F::ONE),
    );
    acc.last = select(cs.namespace(|| "last"), &aud_en, &a, &acc.last)?;
    acc.audits = acc.audits.clone().add(&aud_en_num);
    // write-set time: the op's time, or 0 for an audit's initial tuple
    let aud_num = add_bool::<CS>(Num::zero(), c.aud, F::ONE);
    let t_w = sub(&time, &mul(cs.namespace(|| "audit time"), &aud_num, &time)?);
    let r = sub(
        &sub(
            &sub(&c.gamma, &a),
            &mul(cs.namespace(|| "alpha pv"), &c.alpha, &pv)?,
        ),
        &mul(cs.namespace(|| "alpha2 pt"), &c.alpha2, &pt)?,
    );
    let w = sub(
        &sub(
            &sub(&c.gamma, &a),
            &mul(cs.namespace(|| "alpha v"), &c.alpha, &v)?,
        ),
        &mul(cs.namespace(|| "alpha2 tw"), &c.alpha2, &t_w)?,
    );
    let fr = one_n.clone().add(&mul(
        cs.namespace(|| "rs factor"),
        &en_num,
        &sub(&r, &one_n),
    )?);
    let fw = one_n.clone().add(&mul(
        cs.namespace(|| "ws factor"),
        &en_num,
        &sub(&w, &one_n),
    )?);
    acc.rs = mul(cs.namespace(|| "rs"), &acc.rs, &fr)?;
    acc.ws = mul(cs.namespace(|| "ws"), &acc.ws, &fw)?;
    acc.time = time;
    // opcode (read 0, write 1, push 2, pop 3) + 4·enabled
    let opcode = crate::gadgets::opcode_times(cs.namespace(|| "opcode"), &wr, &st, F::ONE)?;
    let tag = add_bool::<CS>(opcode, &en, F::from(4));
    acc.x.extend([a, v, tag]);
    acc.y.extend([pv, pt]);
    Ok(())
}

impl StepCircuit<F> for OfflineStep {
    fn arity(&self) -> usize {
        z::ARITY
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        zin: &[AllocatedNum<F>],
    ) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        if zin.len() != z::ARITY
            || self.slots.len() != self.ops_per_step
            || crate::backend::check_ops_per_step(
                self.ops_per_step,
                crate::backend::MAX_OPS_PER_STEP,
            )
            .is_err()
        {
            return Err(SynthesisError::Unsatisfiable);
        }
        let n = |i: usize| Num::from(zin[i].clone());
        let aud = Boolean::from(AllocatedBit::alloc(
            cs.namespace(|| "audit mode"),
            Some(self.audit),
        )?);
        // modes only advance: op steps, then audit steps
        cs.enforce(
            || "mode monotone",
            |_| n(z::MODE).lc(F::ONE),
            |_| aud.not().lc(CS::one(), F::ONE),
            |lc| lc,
        );
        let alpha2 = mul(cs.namespace(|| "alpha^2"), &n(z::ALPHA), &n(z::ALPHA))?;
        let ctx = Ctx {
            aud: &aud,
            gamma: n(z::GAMMA),
            alpha: n(z::ALPHA),
            alpha2,
        };
        let mut acc = Acc {
            rs: n(z::RS),
            ws: n(z::WS),
            time: n(z::TIME),
            last: n(z::LAST),
            audits: n(z::AUDITS),
            x: vec![],
            y: vec![],
        };
        for (i, s) in self.slots.iter().enumerate() {
            synthesize_slot(cs.namespace(|| format!("slot {i}")), &ctx, s, &mut acc)?;
        }
        let x_in = select(
            cs.namespace(|| "x chain in"),
            &aud,
            &n(z::AUDIT),
            &n(z::TRACE),
        )?;
        let x_out = chain_absorb_circuit(&mut cs.namespace(|| "x chain"), x_in, acc.x)?;
        let trace = select(cs.namespace(|| "trace out"), &aud, &n(z::TRACE), &x_out)?;
        let audit = select(cs.namespace(|| "audit out"), &aud, &x_out, &n(z::AUDIT))?;
        let prev = chain_absorb_circuit(&mut cs.namespace(|| "y chain"), n(z::PREV), acc.y)?;
        let mode = add_bool::<CS>(Num::zero(), &aud, F::ONE);
        let outs = [
            mode, trace, prev, audit, acc.rs, acc.ws, acc.time, acc.last, acc.audits,
        ];
        let mut out = Vec::with_capacity(z::ARITY);
        for (i, o) in outs.iter().enumerate() {
            out.push(alloc_num(cs.namespace(|| format!("out {i}")), o)?);
        }
        out.push(zin[z::GAMMA].clone());
        out.push(zin[z::ALPHA].clone());
        Ok(out)
    }
}
