//! The elliptic-curve multiset hash of the streaming backend: hash-to-curve onto Vesta (whose base
//! field is the circuit field), point addition in circuit with `(x_Q − x_P)·w = 1`, and the native
//! counterparts (complete group arithmetic for the verifier's sums).

use crate::engine::F;
use crate::gadgets::sub;
use crate::hash::{base_point_x, h2c_x, h2c_x_circuit};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;
use pasta_curves::arithmetic::CurveAffine;
use pasta_curves::group::{Curve, Group};
use serde::{Deserialize, Serialize};

/// A point of Vesta in affine coordinates (never the identity: every point the circuits handle
/// is a hashed point or a sum the prover could compute with distinct x-coordinates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affine {
    /// x-coordinate.
    pub x: F,
    /// y-coordinate.
    pub y: F,
}

/// `b` of Vesta's equation `y² = x³ + 5`.
pub fn curve_b() -> F {
    F::from(5)
}

impl Affine {
    /// The group element, if the coordinates are on the curve.
    pub fn to_point(self) -> Option<pasta_curves::vesta::Point> {
        Option::from(pasta_curves::vesta::Affine::from_xy(self.x, self.y))
            .map(|a: pasta_curves::vesta::Affine| a.into())
    }

    /// Affine coordinates of a group element (`None` for the identity).
    pub fn from_point(p: pasta_curves::vesta::Point) -> Option<Self> {
        let a = p.to_affine();
        Option::from(a.coordinates()).map(|c: pasta_curves::arithmetic::Coordinates<_>| Affine {
            x: *c.x(),
            y: *c.y(),
        })
    }
}

impl std::ops::Neg for Affine {
    type Output = Affine;
    /// `−P`.
    fn neg(self) -> Self {
        Affine {
            x: self.x,
            y: -self.y,
        }
    }
}

/// A hash-to-curve witness: the counter that made the hashed `x` a curve abscissa, and which of
/// the two `y` the prover picked (both are sound: the multiset argument only needs the count of
/// each tuple modulo 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct H2cWitness {
    /// Counter absorbed with the tuple.
    pub counter: u64,
    /// Take `−y` instead of the square root `F::sqrt` returns.
    pub negate: bool,
}

/// `y` with `y² = x³ + 5`, if `x` is an abscissa.
fn y_of(x: F) -> Option<F> {
    Option::from((x.square() * x + curve_b()).sqrt())
}

/// Hash `(a, v, t)` to the curve with the smallest counter that works.
pub fn h2c(a: F, v: F, t: F) -> (H2cWitness, Affine) {
    for counter in 0u64.. {
        let x = h2c_x(a, v, t, F::from(counter));
        if let Some(y) = y_of(x) {
            return (
                H2cWitness {
                    counter,
                    negate: false,
                },
                Affine { x, y },
            );
        }
    }
    unreachable!("half of all field elements are abscissae")
}

/// The point a hash-to-curve witness names (`None` if its counter does not give an abscissa).
pub fn h2c_with(a: F, v: F, t: F, w: H2cWitness) -> Option<Affine> {
    let x = h2c_x(a, v, t, F::from(w.counter));
    let y = y_of(x)?;
    Some(Affine {
        x,
        y: if w.negate { -y } else { y },
    })
}

/// The base point `S` the multiset hash starts from and must return to: hashed to the curve in
/// a domain of its own.
pub fn base_point() -> Affine {
    static S: std::sync::OnceLock<Affine> = std::sync::OnceLock::new();
    *S.get_or_init(|| {
        (0u64..)
            .find_map(|c| {
                let x = base_point_x(c);
                y_of(x).map(|y| Affine { x, y })
            })
            .expect("an abscissa exists")
    })
}

/// `Σ (G_i − S)` is the identity: the verifier's check across continuation proofs, with complete
/// group arithmetic. `None` if some `G_i` is not a curve point.
pub fn sums_to_start(gs: &[Affine]) -> Option<bool> {
    let s = base_point().to_point()?;
    let mut acc = pasta_curves::vesta::Point::identity();
    for g in gs {
        acc += g.to_point()? - s;
    }
    Some(bool::from(acc.is_identity()))
}

/// An allocated point.
#[derive(Clone)]
pub struct PointVar {
    /// x-coordinate.
    pub x: Num<F>,
    /// y-coordinate.
    pub y: Num<F>,
}

impl PointVar {
    /// `−P` (a linear combination, no constraint).
    pub fn neg(&self) -> Self {
        PointVar {
            x: self.x.clone(),
            y: self.y.clone().scale(-F::ONE),
        }
    }
}

fn val(n: &Num<F>) -> Result<F, SynthesisError> {
    n.get_value().ok_or(SynthesisError::AssignmentMissing)
}

fn alloc_with<CS: ConstraintSystem<F>>(
    mut cs: CS,
    name: &str,
    f: impl FnOnce() -> Result<F, SynthesisError>,
) -> Result<AllocatedNum<F>, SynthesisError> {
    AllocatedNum::alloc(cs.namespace(|| name.to_string()), f)
}

/// Hash `(a, v, t)` to the curve in circuit: `x = Poseidon(a, v, t, c)` (counter `c` witnessed),
/// `y` witnessed with `y² = x³ + 5` (3 constraints besides the hash).
pub fn h2c_gadget<CS: ConstraintSystem<F>>(
    mut cs: CS,
    a: &Num<F>,
    v: &Num<F>,
    t: &Num<F>,
    w: H2cWitness,
) -> Result<PointVar, SynthesisError> {
    let c: Num<F> = alloc_with(cs.namespace(|| "counter"), "c", || Ok(F::from(w.counter)))?.into();
    let x = h2c_x_circuit(
        &mut cs.namespace(|| "x"),
        vec![a.clone(), v.clone(), t.clone(), c],
    )?;
    let y = alloc_with(cs.namespace(|| "y"), "y", || {
        let xv = val(&x)?;
        let y = y_of(xv).ok_or(SynthesisError::Unsatisfiable)?;
        Ok(if w.negate { -y } else { y })
    })?;
    let x2 = crate::gadgets::mul(cs.namespace(|| "x^2"), &x, &x)?;
    let x3 = crate::gadgets::mul(cs.namespace(|| "x^3"), &x2, &x)?;
    let y: Num<F> = y.into();
    cs.enforce(
        || "on curve",
        |_| y.lc(F::ONE),
        |_| y.lc(F::ONE),
        |lc| lc + &x3.lc(F::ONE) + (curve_b(), CS::one()),
    );
    Ok(PointVar { x, y })
}

/// `P + Q` for points with distinct x-coordinates, enforced: `(x_Q − x_P)·w = 1` (so no
/// exceptional case can be satisfied), `λ(x_Q − x_P) = y_Q − y_P`, `x_R = λ² − x_P − x_Q`,
/// `y_R = λ(x_P − x_R) − y_P` (4 constraints).
pub fn add_gadget<CS: ConstraintSystem<F>>(
    mut cs: CS,
    p: &PointVar,
    q: &PointVar,
) -> Result<PointVar, SynthesisError> {
    let dx = sub(&q.x, &p.x);
    let dy = sub(&q.y, &p.y);
    let inv = || -> Result<F, SynthesisError> {
        Option::from(val(&dx)?.invert()).ok_or(SynthesisError::DivisionByZero)
    };
    let w = alloc_with(cs.namespace(|| "w"), "w", inv)?;
    cs.enforce(
        || "x_Q - x_P invertible",
        |_| dx.lc(F::ONE),
        |lc| lc + w.get_variable(),
        |lc| lc + CS::one(),
    );
    let lambda = alloc_with(cs.namespace(|| "lambda"), "lambda", || {
        Ok(val(&dy)? * inv()?)
    })?;
    cs.enforce(
        || "lambda is the slope",
        |lc| lc + lambda.get_variable(),
        |_| dx.lc(F::ONE),
        |_| dy.lc(F::ONE),
    );
    let xr = alloc_with(cs.namespace(|| "x_R"), "x", || {
        let l = lambda
            .get_value()
            .ok_or(SynthesisError::AssignmentMissing)?;
        Ok(l.square() - val(&p.x)? - val(&q.x)?)
    })?;
    cs.enforce(
        || "x_R is the sum's x",
        |lc| lc + lambda.get_variable(),
        |lc| lc + lambda.get_variable(),
        |lc| lc + xr.get_variable() + &p.x.lc(F::ONE) + &q.x.lc(F::ONE),
    );
    let xr: Num<F> = xr.into();
    let yr = alloc_with(cs.namespace(|| "y_R"), "y", || {
        let l = lambda
            .get_value()
            .ok_or(SynthesisError::AssignmentMissing)?;
        Ok(l * (val(&p.x)? - val(&xr)?) - val(&p.y)?)
    })?;
    cs.enforce(
        || "y_R is the sum's y",
        |lc| lc + lambda.get_variable(),
        |_| sub(&p.x, &xr).lc(F::ONE),
        |lc| lc + yr.get_variable() + &p.y.lc(F::ONE),
    );
    Ok(PointVar {
        x: xr,
        y: yr.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::test_cs::TestConstraintSystem;

    fn var(cs: &mut TestConstraintSystem<F>, name: &str, v: F) -> Num<F> {
        AllocatedNum::alloc(cs.namespace(|| name.to_string()), || Ok(v))
            .unwrap()
            .into()
    }

    #[test]
    fn gadgets_match_native_group_arithmetic() {
        let (wa, pa) = h2c(F::from(7), F::from(8), F::from(9));
        let (wb, pb) = h2c(F::from(1), F::ZERO, F::ZERO);
        assert!(pa.to_point().is_some() && pb.to_point().is_some());
        let mut cs = TestConstraintSystem::<F>::new();
        let (a, v, t) = (
            var(&mut cs, "a", F::from(7)),
            var(&mut cs, "v", F::from(8)),
            var(&mut cs, "t", F::from(9)),
        );
        let p = h2c_gadget(cs.namespace(|| "p"), &a, &v, &t, wa).unwrap();
        let one = var(&mut cs, "one", F::ONE);
        let z = var(&mut cs, "zero", F::ZERO);
        let q = h2c_gadget(cs.namespace(|| "q"), &one, &z, &z, wb).unwrap();
        let r = add_gadget(cs.namespace(|| "p+q"), &p, &q).unwrap();
        let d = add_gadget(cs.namespace(|| "r-q"), &r, &q.neg()).unwrap();
        assert!(cs.is_satisfied(), "{:?}", cs.which_is_unsatisfied());
        let want = Affine::from_point(pa.to_point().unwrap() + pb.to_point().unwrap()).unwrap();
        assert_eq!(
            (r.x.get_value().unwrap(), r.y.get_value().unwrap()),
            (want.x, want.y)
        );
        assert_eq!(
            (d.x.get_value().unwrap(), d.y.get_value().unwrap()),
            (pa.x, pa.y)
        );
        // either sign of y is a valid witness
        let neg = H2cWitness { negate: true, ..wa };
        assert_eq!(h2c_with(F::from(7), F::from(8), F::from(9), neg), Some(-pa));
    }

    #[test]
    fn doubling_and_cancellation_are_unsatisfiable() {
        // P + P and P + (−P) share an x-coordinate: the w constraint has no solution
        let (_, pa) = h2c(F::from(3), F::from(4), F::from(5));
        for q in [pa, -pa] {
            let mut cs = TestConstraintSystem::<F>::new();
            let p = PointVar {
                x: var(&mut cs, "px", pa.x),
                y: var(&mut cs, "py", pa.y),
            };
            let qv = PointVar {
                x: var(&mut cs, "qx", q.x),
                y: var(&mut cs, "qy", q.y),
            };
            assert!(matches!(
                add_gadget(cs.namespace(|| "add"), &p, &qv),
                Err(SynthesisError::DivisionByZero)
            ));
        }
    }

    #[test]
    fn base_point_and_sums() {
        let s = base_point();
        assert!(s.to_point().is_some());
        assert_eq!(sums_to_start(&[s, s]), Some(true));
        let (_, p) = h2c(F::ONE, F::ONE, F::ONE);
        let g = Affine::from_point(s.to_point().unwrap() + p.to_point().unwrap()).unwrap();
        let h = Affine::from_point(s.to_point().unwrap() - p.to_point().unwrap()).unwrap();
        assert_eq!(sums_to_start(&[g]), Some(false));
        assert_eq!(sums_to_start(&[g, h]), Some(true));
    }
}
