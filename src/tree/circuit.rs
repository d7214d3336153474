//! Circuit side of the sparse Merkle tree: one-hot child selectors, child placement and
//! allocated paths from a leaf to the root.

use super::TreeParams;
use crate::engine::F;
use crate::gadgets::{add_bool, mul, sub};
use crate::hash::hash_node_circuit;
use bellpepper_core::boolean::Boolean;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// One-hot selectors `e[p] = [position == p]` of a child position given by `bits` (little-endian;
/// constant-false bits allowed). Costs one constraint per product of two or more allocated bits.
pub fn one_hot<CS: ConstraintSystem<F>>(
    mut cs: CS,
    bits: &[Boolean],
) -> Result<Vec<Num<F>>, SynthesisError> {
    let m = bits.len();
    let n = 1usize << m;
    // monomials: mono[S] = AND of bits in S
    let mut mono: Vec<Boolean> = vec![Boolean::constant(true); n];
    for s in 1..n {
        let top = usize::BITS - 1 - s.leading_zeros();
        let rest = s & !(1 << top);
        mono[s] = if rest == 0 {
            bits[top as usize].clone()
        } else {
            Boolean::and(
                cs.namespace(|| format!("mono {s}")),
                &mono[rest],
                &bits[top as usize],
            )?
        };
    }
    // e_p = Σ_{S ⊇ p} (-1)^{|S \ p|} mono[S]
    Ok((0..n)
        .map(|p| {
            (0..n).filter(|s| s & p == p).fold(Num::zero(), |acc, s| {
                let sign = if (s & !p).count_ones() % 2 == 0 {
                    F::ONE
                } else {
                    -F::ONE
                };
                add_bool::<CS>(acc, &mono[s], sign)
            })
        })
        .collect())
}

/// The children of a node: `cur` inserted among `siblings` at the position `e` selects.
/// Costs `2·(arity−2)+1` constraints; the last child is a free linear combination.
pub fn place<CS: ConstraintSystem<F>>(
    mut cs: CS,
    e: &[Num<F>],
    cur: &Num<F>,
    siblings: &[Num<F>],
) -> Result<Vec<Num<F>>, SynthesisError> {
    let a = e.len();
    assert_eq!(siblings.len(), a - 1, "siblings per level");
    let mut slots = Vec::with_capacity(a);
    let mut prefix = Num::zero(); // Σ_{p<j} e_p
    for j in 0..a - 1 {
        let t = mul(
            cs.namespace(|| format!("cur {j}")),
            &e[j],
            &sub(cur, &siblings[j]),
        )?;
        let mut slot = siblings[j].clone().add(&t);
        if j > 0 {
            let u = mul(
                cs.namespace(|| format!("shift {j}")),
                &prefix,
                &sub(&siblings[j - 1], &siblings[j]),
            )?;
            slot = slot.add(&u);
        }
        prefix = prefix.add(&e[j]);
        slots.push(slot);
    }
    let total = siblings.iter().fold(cur.clone(), |acc, s| acc.add(s));
    slots.push(slots.iter().fold(total, |acc, s| sub(&acc, s)));
    Ok(slots)
}

/// Root reached by hashing `leaf` up a path: per level the one-hot position selectors and the
/// allocated siblings.
pub fn merkle_root<CS: ConstraintSystem<F>>(
    mut cs: CS,
    leaf: &Num<F>,
    selectors: &[Vec<Num<F>>],
    siblings: &[Vec<Num<F>>],
) -> Result<Num<F>, SynthesisError> {
    let mut cur = leaf.clone();
    for (l, (e, s)) in selectors.iter().zip(siblings).enumerate() {
        let mut cs = cs.namespace(|| format!("level {l}"));
        let children = place(cs.namespace(|| "place"), e, &cur, s)?;
        cur = hash_node_circuit(&mut cs.namespace(|| "hash"), children)?;
    }
    Ok(cur)
}

/// An allocated Merkle path: per-level one-hot position selectors and siblings. Old and new
/// leaves of one access hash up the same path.
pub struct Path {
    /// `selectors[l][p] = [position at level l == p]`.
    pub selectors: Vec<Vec<Num<F>>>,
    /// `siblings[l]`: the other `arity − 1` children at level `l`.
    pub siblings: Vec<Vec<Num<F>>>,
}

impl Path {
    /// Allocate the path of the address given by `bits` (little-endian, exactly `addr_bits`)
    /// with witness `siblings` (`levels × (arity − 1)`).
    pub fn alloc<CS: ConstraintSystem<F>>(
        mut cs: CS,
        p: &TreeParams,
        bits: &[Boolean],
        siblings: &[Vec<F>],
    ) -> Result<Self, SynthesisError> {
        if siblings.len() != p.levels() || siblings.iter().any(|s| s.len() != p.arity - 1) {
            return Err(SynthesisError::Unsatisfiable);
        }
        let m = p.bits_per_level() as usize;
        let mut path = Path {
            selectors: Vec::with_capacity(p.levels()),
            siblings: Vec::with_capacity(p.levels()),
        };
        for (l, sib) in siblings.iter().enumerate() {
            let lb: Vec<Boolean> = (l * m..(l + 1) * m)
                .map(|i| bits.get(i).cloned().unwrap_or(Boolean::constant(false)))
                .collect();
            path.selectors
                .push(one_hot(cs.namespace(|| format!("sel {l}")), &lb)?);
            path.siblings.push(
                sib.iter()
                    .enumerate()
                    .map(|(j, s)| {
                        AllocatedNum::alloc(cs.namespace(|| format!("sib {l} {j}")), || Ok(*s))
                            .map(Num::from)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(path)
    }

    /// Root reached from `leaf` along this path.
    pub fn root<CS: ConstraintSystem<F>>(
        &self,
        cs: CS,
        leaf: &Num<F>,
    ) -> Result<Num<F>, SynthesisError> {
        merkle_root(cs, leaf, &self.selectors, &self.siblings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gadgets::alloc_bits;
    use bellpepper_core::test_cs::TestConstraintSystem;

    #[test]
    fn one_hot_and_place_cover_every_position() {
        for m in 1..=4u32 {
            let a = 1usize << m;
            for pos in 0..a {
                let mut cs = TestConstraintSystem::<F>::new();
                let bits = alloc_bits(cs.namespace(|| "bits"), pos as u64, m).unwrap();
                let e = one_hot(cs.namespace(|| "e"), &bits).unwrap();
                for (p, ep) in e.iter().enumerate() {
                    assert_eq!(
                        ep.get_value().unwrap(),
                        if p == pos { F::ONE } else { F::ZERO }
                    );
                }
                let cur: Num<F> = AllocatedNum::alloc(cs.namespace(|| "cur"), || Ok(F::from(1000)))
                    .unwrap()
                    .into();
                let sibs: Vec<Num<F>> = (0..a - 1)
                    .map(|i| {
                        AllocatedNum::alloc(cs.namespace(|| format!("s{i}")), || {
                            Ok(F::from(i as u64 + 1))
                        })
                        .unwrap()
                        .into()
                    })
                    .collect();
                let slots = place(cs.namespace(|| "place"), &e, &cur, &sibs).unwrap();
                let mut expect: Vec<F> = (0..a - 1).map(|i| F::from(i as u64 + 1)).collect();
                expect.insert(pos, F::from(1000));
                assert_eq!(
                    slots
                        .iter()
                        .map(|s| s.get_value().unwrap())
                        .collect::<Vec<_>>(),
                    expect
                );
                assert!(cs.is_satisfied());
            }
        }
    }

    #[test]
    fn constant_false_bits_are_free() {
        let mut cs = TestConstraintSystem::<F>::new();
        let mut bits = alloc_bits(cs.namespace(|| "bits"), 1, 1).unwrap();
        bits.push(Boolean::constant(false));
        bits.push(Boolean::constant(false));
        let before = cs.num_constraints();
        let e = one_hot(cs.namespace(|| "e"), &bits).unwrap();
        assert_eq!(
            cs.num_constraints(),
            before,
            "no products with constant bits"
        );
        assert_eq!(e[1].get_value().unwrap(), F::ONE);
        assert_eq!(
            e.iter()
                .filter(|x| x.get_value().unwrap() == F::ZERO)
                .count(),
            7
        );
    }
}
