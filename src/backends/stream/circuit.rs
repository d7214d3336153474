//! The streaming backend's three SuperNova circuits over one 15-element state: op steps
//! (`k` op slots); curve steps (`m` slots that hash tuples to the curve), which are boundary steps
//! in boundary mode and the last segment's audit steps in final mode; and fresh steps (`10m` fresh
//! slots, the other final steps). Boundary, audit and fresh steps carry a close flag. See the
//! module documentation of [`crate::backends::stream`] for the protocol and why it is sound.

use super::curve::{add_gadget, base_point, h2c_gadget, H2cWitness, PointVar};
use super::hasher::TAGS_PER_ELEMENT;
pub use super::witness::{AuditSlot, BoundarySlot, FreshSlot, OpSlot, Opening, Step};
use super::StreamShape;
use crate::engine::F;
use crate::gadgets::{
    add_bool, alloc, alloc_bits, alloc_num, as_num, bit, bits_to_num, enforce_product_zero,
    enforce_zero, mul, one, select, sub,
};
use crate::hash::{chain32_absorb_circuit, challenge6_circuit};
use arecibo::traits::circuit_supernova::StepCircuit;
use bellpepper_core::boolean::Boolean;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// Indices into the state vector `z`.
pub mod z {
    /// Phase: 0 while segments run, 1 once the final steps started (never goes back).
    pub const PH: usize = 0;
    /// 1 while a segment is open.
    pub const OPEN: usize = 1;
    /// Running trace hash (per op step, a chain over every slot's `(addr, value)` and the slots'
    /// packed tags).
    pub const T: usize = 2;
    /// Running time = ops so far.
    pub const TIME: usize = 3;
    /// `T` when the open segment started.
    pub const TS: usize = 4;
    /// `TIME` when the open segment started.
    pub const TMS: usize = 5;
    /// Challenge γ of the open segment.
    pub const GAM: usize = 6;
    /// Challenge α of the open segment.
    pub const ALP: usize = 7;
    /// Read-set fingerprint of the open segment.
    pub const RS: usize = 8;
    /// Write-set fingerprint of the open segment.
    pub const WS: usize = 9;
    /// Chain over the op slots' previous values and their packed time gaps (the previous times)
    /// in the open segment.
    pub const PCH: usize = 10;
    /// Chain over the boundary slots' `(x_in, v_out, t_out, enabled)`, the audit slots'
    /// `(x, value_out, time_out, touched)` and the fresh slots' `(addr, value, time)` of the open
    /// segment.
    pub const BCH: usize = 11;
    /// Last audited address (starts at −1).
    pub const LA: usize = 12;
    /// Multiset-hash point, x.
    pub const GX: usize = 13;
    /// Multiset-hash point, y.
    pub const GY: usize = 14;
    /// State width.
    pub const ARITY: usize = 15;
}

/// Circuit index of op steps.
pub const OP: usize = 0;
/// Circuit index of boundary steps: the curve circuit (boundary and audit slots hash points to
/// the curve) in boundary mode.
pub const BOUNDARY: usize = 1;
/// Circuit index of audit steps: the curve circuit in final mode.
pub const AUDIT: usize = BOUNDARY;
/// Circuit index of fresh steps.
pub const FRESH: usize = 2;
/// Number of circuits.
pub const CIRCUITS: usize = 3;

/// The canonical start state for a trace (range) that begins at trace hash `t0` and time `time0`.
pub fn canonical(t0: F, time0: u64) -> Vec<F> {
    let s = base_point();
    vec![
        F::ZERO,
        F::ZERO,
        t0,
        F::from(time0),
        F::ZERO,
        F::ZERO,
        F::ZERO,
        F::ZERO,
        F::ONE,
        F::ONE,
        F::ZERO,
        F::ZERO,
        -F::ONE,
        s.x,
        s.y,
    ]
}

/// One step as a SuperNova circuit: shape, what it does, and the index of the next step's
/// circuit (constrained to be one of the three).
#[derive(Clone, Debug)]
pub struct StreamCircuit {
    /// Shape.
    pub shape: StreamShape,
    /// The step.
    pub step: Step,
    /// Circuit index of the next step.
    pub next: usize,
}

impl StreamCircuit {
    /// A placeholder step of circuit `index` (for setup and constraint counts).
    pub fn blank(shape: StreamShape, index: usize) -> Self {
        let step = match index {
            OP => Step::Op {
                open: Opening::default(),
                slots: vec![OpSlot::default(); shape.ops_per_step],
            },
            BOUNDARY => Step::Boundary {
                open: Opening::default(),
                slots: vec![BoundarySlot::default(); shape.boundary_slots],
                close: false,
            },
            _ => Step::Fresh {
                slots: vec![FreshSlot::default(); shape.fresh_slots()],
                close: false,
            },
        };
        StreamCircuit {
            shape,
            step,
            next: 0,
        }
    }
}

/// The running state a step reads and rewrites.
pub(crate) struct State {
    pub(crate) v: Vec<Num<F>>,
}

impl State {
    pub(crate) fn get(&self, i: usize) -> Num<F> {
        self.v[i].clone()
    }
    pub(crate) fn set(&mut self, i: usize, n: Num<F>) {
        self.v[i] = n;
    }
}

/// Opening rule (op steps, and curve steps in boundary mode): not after the audit; if no segment
/// is open, start one here — `TS, TMS := T, TIME` and the witnessed challenges — else carry
/// everything. Challenges are never re-witnessed inside a segment. A curve step passes its mode
/// `fin`: in final mode (audit) the segment must already be open, and the phase becomes 1.
/// Returns the pre-step `OPEN`.
fn open_segment<CS: ConstraintSystem<F>>(
    mut cs: CS,
    st: &mut State,
    w: &Opening,
    fin: Option<&Num<F>>,
) -> Result<Num<F>, SynthesisError> {
    let o = st.get(z::OPEN);
    match fin {
        None => enforce_zero(&mut cs, "no op or boundary after the audit", &st.get(z::PH)),
        Some(m) => enforce_product_zero(
            &mut cs,
            "no op or boundary after the audit",
            &sub(&one::<CS>(), m),
            &st.get(z::PH),
        ),
    }
    enforce_product_zero(&mut cs, "open is boolean", &o, &sub(&one::<CS>(), &o));
    if let Some(m) = fin {
        enforce_product_zero(
            &mut cs,
            "final steps run in an open segment",
            m,
            &sub(&one::<CS>(), &o),
        );
        // boundary mode: the phase was 0 and stays 0; final mode: it becomes 1
        st.set(z::PH, m.clone());
    }
    let gam = alloc(cs.namespace(|| "fresh gamma"), w.gamma)?;
    let alp = alloc(cs.namespace(|| "fresh alpha"), w.alpha)?;
    // x' = fresh + o·(carried − fresh)
    let pick = |cs: &mut CS, name: &str, carried: Num<F>, fresh: Num<F>| {
        let d = mul(
            cs.namespace(|| name.to_string()),
            &o,
            &sub(&carried, &fresh),
        )?;
        Ok::<_, SynthesisError>(fresh.add(&d))
    };
    let ts = pick(&mut cs, "TS", st.get(z::TS), st.get(z::T))?;
    let tms = pick(&mut cs, "TMS", st.get(z::TMS), st.get(z::TIME))?;
    let g = pick(&mut cs, "GAM", st.get(z::GAM), gam)?;
    let a = pick(&mut cs, "ALP", st.get(z::ALP), alp)?;
    st.set(z::TS, ts);
    st.set(z::TMS, tms);
    st.set(z::GAM, g);
    st.set(z::ALP, a);
    st.set(z::OPEN, one::<CS>());
    Ok(o)
}

/// `γ − a − α·v − α²·t`.
fn fingerprint<CS: ConstraintSystem<F>>(
    mut cs: CS,
    gam: &Num<F>,
    alp: &Num<F>,
    alp2: &Num<F>,
    a: &Num<F>,
    v: &Num<F>,
    t: &Num<F>,
) -> Result<Num<F>, SynthesisError> {
    let av = mul(cs.namespace(|| "alpha v"), alp, v)?;
    let at = mul(cs.namespace(|| "alpha^2 t"), alp2, t)?;
    Ok(sub(&sub(&sub(gam, a), &av), &at))
}

/// `acc · (1 + en·(f − 1))` (2 constraints).
fn absorb_factor<CS: ConstraintSystem<F>>(
    mut cs: CS,
    acc: &Num<F>,
    en: &Num<F>,
    f: &Num<F>,
) -> Result<Num<F>, SynthesisError> {
    let one = one::<CS>();
    let g = mul(cs.namespace(|| "gated"), en, &sub(f, &one))?;
    mul(cs.namespace(|| "acc"), acc, &one.add(&g))
}

/// `en ? p : q` for points.
fn select_point<CS: ConstraintSystem<F>>(
    mut cs: CS,
    en: &Boolean,
    p: &PointVar,
    q: &PointVar,
) -> Result<PointVar, SynthesisError> {
    Ok(PointVar {
        x: select(cs.namespace(|| "x"), en, &p.x, &q.x)?,
        y: select(cs.namespace(|| "y"), en, &p.y, &q.y)?,
    })
}

/// Every value of a disabled slot is 0.
fn zero_when_disabled<CS: ConstraintSystem<F>>(cs: &mut CS, en: &Num<F>, values: &[&Num<F>]) {
    let off = sub(&one::<CS>(), en);
    for (i, v) in values.iter().enumerate() {
        enforce_product_zero(cs, &format!("disabled value {i} is 0"), &off, v);
    }
}

fn op_step<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    shape: &StreamShape,
    st: &mut State,
    open: &Opening,
    slots: &[OpSlot],
) -> Result<(), SynthesisError> {
    if slots.len() != shape.ops_per_step {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut ops = OpSlots::open(cs, st, open, shape.time_bits, slots.len())?;
    for (i, s) in slots.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("slot {i}"));
        let en_b = bit(cs.namespace(|| "enabled"), s.enabled)?;
        let wr = bit(cs.namespace(|| "is_write"), s.is_write)?;
        let stk = bit(cs.namespace(|| "is_stack"), s.is_stack)?;
        let a = alloc(cs.namespace(|| "a"), s.addr)?;
        let v = alloc(cs.namespace(|| "v"), s.value)?;
        ops.slot(&mut cs, &en_b, &wr, &stk, a, v, s, false)?;
    }
    ops.close(cs, st, None)
}

/// The op-slot logic of an open segment, shared by `stream`'s op step and the in-fold memory
/// gadget ([`crate::gadget`]): each slot fingerprints its read tuple `(a, pv, pt)` into `RS` and
/// its write tuple `(a, v, t)` into `WS`, range-checks its time gap and makes a read return the
/// previous value; [`OpSlots::close`] absorbs the slots' `(a, v)` and tags into `T` and their
/// previous values and gaps into `PCH`.
pub(crate) struct OpSlots {
    gam: Num<F>,
    alp: Num<F>,
    alp2: Num<F>,
    rs: Num<F>,
    ws: Num<F>,
    time: Num<F>,
    time_bits: u32,
    tx: Vec<Num<F>>,
    tags: Vec<Num<F>>,
    px: Vec<Num<F>>,
    gaps: Vec<Num<F>>,
}

impl OpSlots {
    /// Apply the opening rule (a segment is open afterwards) and start a step of `n` slots.
    pub(crate) fn open<CS: ConstraintSystem<F>>(
        cs: &mut CS,
        st: &mut State,
        open: &Opening,
        time_bits: u32,
        n: usize,
    ) -> Result<Self, SynthesisError> {
        open_segment(cs.namespace(|| "open"), st, open, None)?;
        let (gam, alp) = (st.get(z::GAM), st.get(z::ALP));
        let alp2 = mul(cs.namespace(|| "alpha^2"), &alp, &alp)?;
        let per = gaps_per_element(time_bits);
        Ok(OpSlots {
            gam,
            alp,
            alp2,
            rs: st.get(z::RS),
            ws: st.get(z::WS),
            time: st.get(z::TIME),
            time_bits,
            tx: Vec::with_capacity(1 + 2 * n + n.div_ceil(TAGS_PER_ELEMENT)),
            tags: Vec::with_capacity(n),
            px: Vec::with_capacity(n + n.div_ceil(per)),
            gaps: Vec::with_capacity(n),
        })
    }

    /// One slot over the caller's flag, address and value variables (`cs` is the slot's own
    /// namespace). Allocates the previous value and time from `w` (its `enabled` decides the
    /// gap witness). `pin_disabled` (the gadget's rules; `stream`'s op step has neither): a
    /// disabled slot's previous value is 0 too, so a disabled read returns 0, and its address
    /// and value enter `T` as 0.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn slot<CS: ConstraintSystem<F>>(
        &mut self,
        cs: &mut CS,
        en_b: &Boolean,
        wr: &Boolean,
        stk: &Boolean,
        a: Num<F>,
        v: Num<F>,
        w: &OpSlot,
        pin_disabled: bool,
    ) -> Result<(), SynthesisError> {
        let one = one::<CS>();
        let en = as_num::<CS>(en_b);
        let pv = alloc(cs.namespace(|| "pv"), w.prev_value)?;
        let pt = alloc(cs.namespace(|| "pt"), w.prev_time)?;
        self.time = self.time.clone().add(&en);
        let time = &self.time;
        // en·(t − 1 − pt) is a time_bits-bit number: the previous access is in the past
        let gap = if en_b.get_value().unwrap_or(w.enabled) {
            let t = time.get_value().ok_or(SynthesisError::AssignmentMissing)?;
            field_to_u64(t - F::ONE - w.prev_time)
        } else {
            0
        };
        let bits = alloc_bits(cs.namespace(|| "gap bits"), gap, self.time_bits)?;
        let gap = bits_to_num::<CS>(&bits);
        // a disabled slot's previous time enters neither a fingerprint nor a chain: pin it
        enforce_product_zero(cs, "disabled prev time is 0", &sub(&one, &en), &pt);
        if pin_disabled {
            enforce_product_zero(cs, "disabled prev value is 0", &sub(&one, &en), &pv);
        }
        cs.enforce(
            || "gap in range",
            |_| en.lc(F::ONE),
            |_| sub(&sub(time, &one), &pt).lc(F::ONE),
            |_| gap.lc(F::ONE),
        );
        // a read returns the previous value
        enforce_product_zero(
            cs,
            "read value = prev value",
            &sub(&one, &as_num::<CS>(wr)),
            &sub(&v, &pv),
        );
        let (gam, alp, alp2) = (&self.gam, &self.alp, &self.alp2);
        let fr = fingerprint(cs.namespace(|| "read tuple"), gam, alp, alp2, &a, &pv, &pt)?;
        let fw = fingerprint(cs.namespace(|| "write tuple"), gam, alp, alp2, &a, &v, time)?;
        self.rs = absorb_factor(cs.namespace(|| "rs"), &self.rs, &en, &fr)?;
        self.ws = absorb_factor(cs.namespace(|| "ws"), &self.ws, &en, &fw)?;
        // tag = is_write + 2·is_stack + 4·enabled, packed with other slots' tags below
        self.tags.push(add_bool::<CS>(
            add_bool::<CS>(as_num::<CS>(wr), stk, F::from(2)),
            en_b,
            F::from(4),
        ));
        if pin_disabled {
            // a disabled call's address and value enter the trace hash as 0, whatever variables
            // the caller passed, so the prover's companion predicts them
            let at = mul(cs.namespace(|| "enabled a"), &en, &a)?;
            let vt = mul(cs.namespace(|| "enabled v"), &en, &v)?;
            self.tx.extend([at, vt]);
        } else {
            self.tx.extend([a, v]);
        }
        self.px.push(pv);
        self.gaps.push(gap);
        Ok(())
    }

    /// Absorb the step's slots into the chains and write the registers back. `prefix` goes into
    /// `T` before the slots (the gadget's slot count, which makes a segment's `T` blocks parse
    /// into steps of several sizes).
    pub(crate) fn close<CS: ConstraintSystem<F>>(
        self,
        cs: &mut CS,
        st: &mut State,
        prefix: Option<Num<F>>,
    ) -> Result<(), SynthesisError> {
        let mut tx = Vec::with_capacity(self.tx.len() + self.tags.len() + 1);
        tx.extend(prefix);
        tx.extend(self.tx);
        // Σ tag_j·8^j per group of TAGS_PER_ELEMENT slots: injective (8^84 < p), no constraint
        tx.extend(pack(&self.tags, TAGS_PER_ELEMENT, F::from(8)));
        // the previous times enter the chain as their gaps `en·(t − 1 − pt)`, each range-checked
        // to time_bits bits above, packed `per` to an element (`per·time_bits ≤ 252`: injective)
        let mut px = self.px;
        px.extend(pack(
            &self.gaps,
            gaps_per_element(self.time_bits),
            F::from(2).pow_vartime([u64::from(self.time_bits)]),
        ));
        let t = chain32_absorb_circuit(&mut cs.namespace(|| "trace chain"), st.get(z::T), tx)?;
        let p = chain32_absorb_circuit(&mut cs.namespace(|| "prev chain"), st.get(z::PCH), px)?;
        st.set(z::T, t);
        st.set(z::PCH, p);
        st.set(z::TIME, self.time);
        st.set(z::RS, self.rs);
        st.set(z::WS, self.ws);
        Ok(())
    }
}

/// One slot of a curve step, in either mode: `G += H(a, p) − H(x)` when enabled, and when counted
/// `x` into `WS` and `out` into `RS`. Boundary mode: `x` is the incoming tuple, `p = out`, and
/// every enabled slot counts. Final (audit) mode: `x` is the tuple before the last segment,
/// `p = (0, 0)`, the slot counts if the segment touched the address, and the address chain runs.
struct CurveSlot {
    enabled: bool,
    touched: bool,
    addr: F,
    x: (F, F),
    out: (F, F),
    gap: u64,
    h_x: H2cWitness,
    h_p: H2cWitness,
}

impl From<&BoundarySlot> for CurveSlot {
    fn from(b: &BoundarySlot) -> Self {
        CurveSlot {
            enabled: b.enabled,
            touched: b.enabled,
            addr: b.addr,
            x: (b.value_in, b.time_in),
            out: (b.value_out, b.time_out),
            gap: 0,
            h_x: b.h_in,
            h_p: b.h_out,
        }
    }
}

impl From<&AuditSlot> for CurveSlot {
    fn from(s: &AuditSlot) -> Self {
        CurveSlot {
            enabled: s.enabled,
            touched: s.touched,
            addr: s.addr,
            x: (s.value, s.time),
            out: (s.value_out, s.time_out),
            gap: s.gap,
            h_x: s.h_final,
            h_p: s.h_init,
        }
    }
}

/// Boundary and audit steps: one circuit with a mode bit (`fin`: 0 boundary, 1 final), so the
/// batched compression carries one circuit fewer.
#[allow(clippy::too_many_arguments)]
fn curve_step<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    shape: &StreamShape,
    st: &mut State,
    fin: bool,
    open: &Opening,
    slots: &[CurveSlot],
    close: bool,
) -> Result<(), SynthesisError> {
    if slots.len() != shape.boundary_slots {
        return Err(SynthesisError::Unsatisfiable);
    }
    let fin_b = bit(cs.namespace(|| "final mode"), fin)?;
    let m = as_num::<CS>(&fin_b);
    let one = one::<CS>();
    let bmode = sub(&one, &m);
    let was_open = open_segment(cs.namespace(|| "open"), st, open, Some(&m))?;
    let (gam, alp) = (st.get(z::GAM), st.get(z::ALP));
    let alp2 = mul(cs.namespace(|| "alpha^2"), &alp, &alp)?;
    let (mut rs, mut ws, mut last) = (st.get(z::RS), st.get(z::WS), st.get(z::LA));
    let mut g = PointVar {
        x: st.get(z::GX),
        y: st.get(z::GY),
    };
    let mut bx = Vec::with_capacity(4 * slots.len());
    for (i, s) in slots.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("slot {i}"));
        let en_b = bit(cs.namespace(|| "enabled"), s.enabled)?;
        let en = as_num::<CS>(&en_b);
        let touched = as_num::<CS>(&bit(cs.namespace(|| "touched"), s.touched)?);
        let a = alloc(cs.namespace(|| "a"), s.addr)?;
        let v = alloc(cs.namespace(|| "v"), s.x.0)?;
        let t = alloc(cs.namespace(|| "t"), s.x.1)?;
        let vo = alloc(cs.namespace(|| "vo"), s.out.0)?;
        let to = alloc(cs.namespace(|| "to"), s.out.1)?;
        zero_when_disabled(&mut cs, &en, &[&a, &v, &t, &touched, &vo, &to]);
        // counted: every enabled boundary slot; a final slot if the segment touched its address
        let u = en
            .clone()
            .add(&mul(cs.namespace(|| "counted"), &m, &sub(&touched, &en))?);
        // the address chain runs over enabled final slots
        let chained = Boolean::and(cs.namespace(|| "chained"), &en_b, &fin_b)?;
        last = address_order(cs.namespace(|| "order"), &chained, &a, &last, s.gap)?;
        // G += H(a, p) − H(x), p = out (boundary) or (0, 0) (final)
        let vp = mul(cs.namespace(|| "vp"), &bmode, &vo)?;
        let tp = mul(cs.namespace(|| "tp"), &bmode, &to)?;
        let hx = h2c_gadget(cs.namespace(|| "h x"), &a, &v, &t, s.h_x)?;
        let hp = h2c_gadget(cs.namespace(|| "h p"), &a, &vp, &tp, s.h_p)?;
        let g1 = add_gadget(cs.namespace(|| "G + H(p)"), &g, &hp)?;
        let g2 = add_gadget(cs.namespace(|| "G - H(x)"), &g1, &hx.neg())?;
        g = select_point(cs.namespace(|| "G if enabled"), &en_b, &g2, &g)?;
        // counted: x is written into the segment, the outgoing tuple read out of it
        let fx = fingerprint(cs.namespace(|| "in tuple"), &gam, &alp, &alp2, &a, &v, &t)?;
        let fo = fingerprint(
            cs.namespace(|| "out tuple"),
            &gam,
            &alp,
            &alp2,
            &a,
            &vo,
            &to,
        )?;
        ws = absorb_factor(cs.namespace(|| "ws"), &ws, &u, &fx)?;
        rs = absorb_factor(cs.namespace(|| "rs"), &rs, &u, &fo)?;
        // x's hashed x-coordinate binds (a, v, t), then the outgoing tuple and whether it counts
        bx.extend([hx.x, vo, to, u]);
    }
    let b = chain32_absorb_circuit(&mut cs.namespace(|| "curve chain"), st.get(z::BCH), bx)?;
    st.set(z::BCH, b);
    st.set(z::RS, rs);
    st.set(z::WS, ws);
    st.set(z::LA, last);
    st.set(z::GX, g.x);
    st.set(z::GY, g.y);
    close_segment(cs, st, close, &was_open)
}

/// Close rule (boundary and final steps), after the step's slots: if `close`, the segment must be
/// open, its challenges must be the hash of everything it fingerprinted and `RS = WS`; then the
/// segment registers reset for the next segment.
fn close_segment<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    st: &mut State,
    close: bool,
    was_open: &Num<F>,
) -> Result<(), SynthesisError> {
    let c = bit(cs.namespace(|| "close"), close)?;
    let cn = as_num::<CS>(&c);
    let one = one::<CS>();
    enforce_product_zero(cs, "close an open segment", &cn, &sub(&one, was_open));
    let ins = [
        st.get(z::TS),
        st.get(z::T),
        st.get(z::TMS),
        st.get(z::PCH),
        st.get(z::BCH),
    ];
    let want_g = challenge6_circuit(&mut cs.namespace(|| "gamma"), ins.clone(), 1)?;
    let want_a = challenge6_circuit(&mut cs.namespace(|| "alpha"), ins, 2)?;
    let (gam, alp) = (st.get(z::GAM), st.get(z::ALP));
    enforce_product_zero(cs, "gamma is the segment hash", &cn, &sub(&gam, &want_g));
    enforce_product_zero(cs, "alpha is the segment hash", &cn, &sub(&alp, &want_a));
    enforce_product_zero(cs, "RS = WS", &cn, &sub(&st.get(z::RS), &st.get(z::WS)));
    let keep = sub(&one, &cn);
    for (name, i) in [
        ("reset TS", z::TS),
        ("reset TMS", z::TMS),
        ("reset GAM", z::GAM),
        ("reset ALP", z::ALP),
        ("reset PCH", z::PCH),
        ("reset BCH", z::BCH),
    ] {
        let v = mul(cs.namespace(|| name), &keep, &st.get(i))?;
        st.set(i, v);
    }
    for (name, i) in [("reset RS", z::RS), ("reset WS", z::WS)] {
        // x' = x + c·(1 − x)
        let d = mul(cs.namespace(|| name), &cn, &sub(&one, &st.get(i)))?;
        st.set(i, st.get(i).add(&d));
    }
    st.set(z::OPEN, keep);
    Ok(())
}

/// Final-step entry rule of fresh steps (audit steps have it in [`open_segment`]): they run inside
/// the open last segment and move the phase to 1, after which no op or boundary step runs.
/// Returns `[γ, α, α²]`.
fn final_entry<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    st: &mut State,
) -> Result<[Num<F>; 3], SynthesisError> {
    enforce_zero(
        cs,
        "final steps run in an open segment",
        &sub(&st.get(z::OPEN), &one::<CS>()),
    );
    st.set(z::PH, one::<CS>());
    let (gam, alp) = (st.get(z::GAM), st.get(z::ALP));
    let alp2 = mul(cs.namespace(|| "alpha^2"), &alp, &alp)?;
    Ok([gam, alp, alp2])
}

/// Strictly increasing audited addresses: `en·(a − last − 1)` is a 64-bit number (`gap` its
/// witness). Returns the new last address.
fn address_order<CS: ConstraintSystem<F>>(
    mut cs: CS,
    en_b: &Boolean,
    a: &Num<F>,
    last: &Num<F>,
    gap: u64,
) -> Result<Num<F>, SynthesisError> {
    let en = as_num::<CS>(en_b);
    let bits = alloc_bits(cs.namespace(|| "gap bits"), gap, 64)?;
    cs.enforce(
        || "address order",
        |_| en.lc(F::ONE),
        |_| sub(&sub(a, last), &one::<CS>()).lc(F::ONE),
        |_| bits_to_num::<CS>(&bits).lc(F::ONE),
    );
    select(cs.namespace(|| "last"), en_b, a, last)
}

fn fresh_step<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    shape: &StreamShape,
    st: &mut State,
    slots: &[FreshSlot],
    close: bool,
) -> Result<(), SynthesisError> {
    if slots.len() != shape.fresh_slots() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let [gam, alp, alp2] = final_entry(cs, st)?;
    let (mut rs, mut ws, mut last) = (st.get(z::RS), st.get(z::WS), st.get(z::LA));
    let mut bx = Vec::with_capacity(3 * slots.len());
    for (i, s) in slots.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("slot {i}"));
        let en_b = bit(cs.namespace(|| "enabled"), s.enabled)?;
        let en = as_num::<CS>(&en_b);
        let a = alloc(cs.namespace(|| "a"), s.addr)?;
        let v = alloc(cs.namespace(|| "v"), s.value)?;
        let t = alloc(cs.namespace(|| "t"), s.time)?;
        zero_when_disabled(&mut cs, &en, &[&a, &v, &t]);
        last = address_order(cs.namespace(|| "order"), &en_b, &a, &last, s.gap)?;
        // (a, 0, 0) written into the segment, (a, v, t) read out of it
        let fi = sub(&gam, &a);
        let fo = fingerprint(cs.namespace(|| "out tuple"), &gam, &alp, &alp2, &a, &v, &t)?;
        ws = absorb_factor(cs.namespace(|| "ws"), &ws, &en, &fi)?;
        rs = absorb_factor(cs.namespace(|| "rs"), &rs, &en, &fo)?;
        // a disabled slot is all zeros and an enabled all-zero slot counts 1 both ways, so the
        // three values decide the slot's factors without its flag
        bx.extend([a, v, t]);
    }
    let b = chain32_absorb_circuit(&mut cs.namespace(|| "final chain"), st.get(z::BCH), bx)?;
    st.set(z::BCH, b);
    st.set(z::RS, rs);
    st.set(z::WS, ws);
    st.set(z::LA, last);
    close_segment(cs, st, close, &one::<CS>())
}

/// `Σ x_j·base^j` per group of `per` values, as linear combinations (no constraint); the native
/// twin is [`super::hasher::pack_into`]. Injective when every value is below `base` and
/// `base^per < p`.
pub fn pack(values: &[Num<F>], per: usize, base: F) -> Vec<Num<F>> {
    values
        .chunks(per)
        .map(|group| {
            let (mut acc, mut c) = (Num::zero(), F::ONE);
            for x in group {
                acc = acc.add(&x.clone().scale(c));
                c *= base;
            }
            acc
        })
        .collect()
}

/// Time gaps packed into one previous-tuple chain element: `time_bits`-bit numbers, at most 252
/// bits in all (7 at the default 32 bits).
pub fn gaps_per_element(time_bits: u32) -> usize {
    (252 / time_bits.max(1)) as usize
}

/// `x` as a `u64` (its low 8 bytes; callers only use it for values known to be small).
pub(crate) fn field_to_u64(x: F) -> u64 {
    use ff::PrimeField;
    let r = x.to_repr();
    u64::from_le_bytes(r.as_ref()[..8].try_into().expect("8 bytes"))
}

/// What one step does to the state, without the program counter: the op, curve or fresh rule.
pub(crate) fn step_body<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    shape: &StreamShape,
    step: &Step,
    st: &mut State,
) -> Result<(), SynthesisError> {
    match step {
        Step::Op { open, slots } => op_step(cs, shape, st, open, slots),
        Step::Boundary { open, slots, close } => {
            let slots: Vec<CurveSlot> = slots.iter().map(CurveSlot::from).collect();
            curve_step(cs, shape, st, false, open, &slots, *close)
        }
        Step::Audit { slots, close } => {
            let slots: Vec<CurveSlot> = slots.iter().map(CurveSlot::from).collect();
            let open = Opening::default();
            curve_step(cs, shape, st, true, &open, &slots, *close)
        }
        Step::Fresh { slots, close } => fresh_step(cs, shape, st, slots, *close),
    }
}

impl StepCircuit<F> for StreamCircuit {
    fn arity(&self) -> usize {
        z::ARITY
    }

    fn circuit_index(&self) -> usize {
        self.step.index()
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        _pc: Option<&AllocatedNum<F>>,
        zin: &[AllocatedNum<F>],
    ) -> Result<(Option<AllocatedNum<F>>, Vec<AllocatedNum<F>>), SynthesisError> {
        if zin.len() != z::ARITY || crate::backend::ShapeSpec::validate(&self.shape).is_err() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let mut st = State {
            v: zin.iter().map(|a| Num::from(a.clone())).collect(),
        };
        step_body(cs, &self.shape, &self.step, &mut st)?;
        // the next step runs one of the three circuits
        let pc = AllocatedNum::alloc(cs.namespace(|| "next pc"), || Ok(F::from(self.next as u64)))?;
        let pcn: Num<F> = pc.clone().into();
        let one = one::<CS>();
        let t1 = mul(cs.namespace(|| "pc(pc-1)"), &pcn, &sub(&pcn, &one))?;
        enforce_product_zero(
            cs,
            "next pc is a circuit",
            &t1,
            &sub(&pcn, &one.clone().scale(F::from(2))),
        );
        let mut out = Vec::with_capacity(z::ARITY);
        for (i, n) in st.v.iter().enumerate() {
            out.push(alloc_num(cs.namespace(|| format!("out {i}")), n)?);
        }
        Ok((Some(pc), out))
    }
}
