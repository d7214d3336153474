//! MockProver tests naming the failing gate or lookup for each forgery, plus a real KZG round
//! trip and a flipped-byte rejection.

use super::*;
use crate::trace::Op;
use halo2_axiom::dev::MockProver;

fn ops() -> Vec<Op> {
    vec![
        Op::write(7, 3u64),
        Op::read(2, 0u64),
        Op::read(7, 3u64),
        Op::write(2, 9u64),
        Op::write(7, 4u64),
        Op::read(2, 9u64),
        Op::read(7, 4u64),
    ]
}

fn failures(c: &MemCircuit) -> Result<(), String> {
    let k = domain_k(c.orig.len());
    let prover = MockProver::run(k, c, c.instances()).expect("synthesis");
    prover.verify().map_err(|f| format!("{f:?}"))
}

#[test]
fn honest_trace_is_accepted() {
    failures(&MemCircuit::new(rows(&ops()).unwrap())).unwrap();
}

#[test]
fn wrong_read_is_rejected() {
    let mut o = ops();
    o[2] = Op::read(7, 5u64);
    let e = failures(&MemCircuit::new(rows(&o).unwrap())).unwrap_err();
    assert!(e.contains("read returns last value"), "{e}");
}

#[test]
fn read_of_unwritten_cell_must_be_zero() {
    let mut o = ops();
    o.push(Op::read(9, 1u64)); // address 9's first access, not the first sorted row
    let e = failures(&MemCircuit::new(rows(&o).unwrap())).unwrap_err();
    assert!(e.contains("read returns last value"), "{e}");
    let o = vec![Op::read(1, 6u64), Op::write(5, 1u64)]; // the first sorted row
    let e = failures(&MemCircuit::new(rows(&o).unwrap())).unwrap_err();
    assert!(e.contains("first row is a first access"), "{e}");
}

#[test]
fn sorted_rows_must_be_a_permutation() {
    let honest = MemCircuit::new(rows(&ops()).unwrap());
    // one value changed (consistently, so every per-row check still holds)
    let mut c = honest.clone();
    for r in c.sorted.iter_mut().filter(|r| r.a == 2 && r.t >= 4) {
        r.v = Fr::from(8);
    }
    let e = failures(&c).unwrap_err();
    assert!(e.contains("product ends at 1"), "{e}");
    // one row duplicated in place of another
    let mut c = honest.clone();
    c.sorted[2] = c.sorted[1];
    let e = failures(&c).unwrap_err();
    assert!(e.contains("product ends at 1"), "{e}");
}

#[test]
fn time_order_is_enforced() {
    let mut c = MemCircuit::new(rows(&ops()).unwrap());
    // swap two accesses of address 7 (times 1 and 3): reads still see the right value
    let i = c.sorted.iter().position(|r| r.a == 7).unwrap();
    c.sorted.swap(i + 1, i + 2);
    let e = failures(&c).unwrap_err();
    assert!(
        e.contains("difference in range") || e.contains("is a byte"),
        "{e}"
    );
}

#[test]
fn address_order_is_enforced() {
    let mut c = MemCircuit::new(rows(&ops()).unwrap());
    // move address 7's group before address 2's
    c.sorted.sort_by_key(|r| (std::cmp::Reverse(r.a), r.t));
    let e = failures(&c).unwrap_err();
    assert!(
        e.contains("difference in range") || e.contains("is a byte"),
        "{e}"
    );
}

#[test]
fn real_proof_round_trip_and_flipped_byte() {
    let o = ops();
    let params = dev_params(domain_k(o.len()));
    let pk = keys(&params, o.len()).unwrap();
    let proof = prove(&params, &pk, &o).unwrap();
    verify(&params, pk.get_vk(), &o, &proof).unwrap();
    let mut bad = proof.clone();
    bad[proof.len() / 2] ^= 1;
    assert!(matches!(
        verify(&params, pk.get_vk(), &o, &bad),
        Err(Halo2Error::Plonk(_))
    ));
    let mut other = o.clone();
    other[0] = Op::write(7, 4u64);
    other[2] = Op::read(7, 4u64);
    assert!(
        matches!(
            verify(&params, pk.get_vk(), &other, &proof),
            Err(Halo2Error::Plonk(_))
        ),
        "proof is bound to its trace"
    );
}
