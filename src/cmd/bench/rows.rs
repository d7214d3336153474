//! The side-by-side table's rows: one backend through the real pipeline, timed folds of a bare
//! circuit, the whole-memory-in-state baseline, and compression with either Spartan variant.

use super::super::peak_rss_mib;
use arecibo::traits::circuit::StepCircuit;
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::{Field, PrimeField};
use foldmem::backend::KeyOptions;
use foldmem::backends::halo2::Halo2Params;
use foldmem::backends::merkle::{FoldedProof, MerkleParams, MerkleProver, MerkleShape, MerkleStep};
use foldmem::engine::{E1, E2, F, F2};
use foldmem::folding::{setup_circuit, Params, Recursive, C2};
use foldmem::gadgets::{alloc_bits, alloc_num, bits_to_num, mul, sub};
use foldmem::hash::trace_hash_circuit;
use foldmem::pipeline::{self, Keys};
use foldmem::proof::ProofFile;
use foldmem::registry::Shape;
use foldmem::trace::Op;
use foldmem::tree::circuit::one_hot;
use foldmem::tree::TreeParams;
use foldmem::Error;
use std::time::Instant;

/// One row of the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// Memory size in words, as log2 (address bits).
    pub mem_log2: u32,
    /// Ops per folding step.
    pub ops_per_step: usize,
    /// Primary constraints per op (step shape / ops per step).
    pub constraints_per_op: f64,
    /// Primary plus secondary constraints per op (what a fold step commits to, per op), for the
    /// rows that go through a backend's keys.
    pub effective_constraints_per_op: Option<f64>,
    /// Folding throughput.
    pub fold_ops_per_s: f64,
    /// Milliseconds per op.
    pub ms_per_op: f64,
    /// Compression seconds (if measured).
    pub compress_s: Option<f64>,
    /// Proof size (if compressed).
    pub proof_bytes: Option<usize>,
    /// Verification seconds (if compressed).
    pub verify_s: Option<f64>,
    /// Process peak resident memory so far, MiB.
    pub peak_rss_mib: f64,
}

pub fn row(name: String, mem_log2: u32, k: usize, cons: usize, ops: usize, secs: f64) -> Row {
    Row {
        name,
        mem_log2,
        ops_per_step: k,
        constraints_per_op: cons as f64 / k as f64,
        effective_constraints_per_op: None,
        fold_ops_per_s: ops as f64 / secs,
        ms_per_op: 1000.0 * secs / ops as f64,
        compress_s: None,
        proof_bytes: None,
        verify_s: None,
        peak_rss_mib: peak_rss_mib(),
    }
}

/// Prove `ops` with a backend through the real pipeline; compress and verify if `compress`.
/// (Halo2 runs on its insecure dev parameters, chosen explicitly: a benchmark proves nothing.)
pub fn backend_row(
    name: &str,
    shape: Shape,
    mem_log2: u32,
    ops: &[Op],
    compress: bool,
) -> Result<Row, Error> {
    let opts = KeyOptions::none().with(Some(Halo2Params::InsecureDev));
    let keys: Keys = pipeline::keys(shape, &opts)?;
    let stream = || foldmem::trace::numbered(ops);
    let k = shape.ops_per_step();
    let cons = keys.constraints_per_op() * k as f64;
    let effective = keys.system().effective_constraints_per_op();
    if !compress {
        // fold only: time the folding part of the pipeline without compressing
        let rep = pipeline::fold_stream(&keys, 64, stream())?;
        let mut r = row(
            name.into(),
            mem_log2,
            k,
            cons as usize,
            ops.len(),
            rep.fold_s,
        );
        r.effective_constraints_per_op = effective;
        return Ok(r);
    }
    let (file, rep) = pipeline::prove_stream(&keys, 64, stream(), |_| {})?;
    let t = Instant::now();
    pipeline::verify_proof(
        &keys,
        &ProofFile::from_bytes(&file.to_bytes())?,
        Some(stream()),
    )?;
    let verify_s = t.elapsed().as_secs_f64();
    let mut r = row(
        name.into(),
        mem_log2,
        k,
        cons as usize,
        ops.len(),
        rep.fold_s,
    );
    r.effective_constraints_per_op = effective;
    r.compress_s = Some(rep.compress_s);
    r.proof_bytes = Some(rep.proof_bytes);
    r.verify_s = Some(verify_s);
    Ok(r)
}

/// Time `steps` folds of a circuit (the first one through `RecursiveSNARK::new`).
pub fn time_folds<C: StepCircuit<F>>(
    pp: &Params<C>,
    circuits: &[C],
    z0: &[F],
) -> Result<(f64, Recursive<C>), arecibo::errors::NovaError> {
    let c2 = C2::default();
    let t = Instant::now();
    let mut s = Recursive::<C>::new(pp, &circuits[0], &c2, z0, &[F2::ZERO])?;
    for c in circuits {
        s.prove_step(pp, c, &c2)?;
    }
    Ok((t.elapsed().as_secs_f64(), s))
}

/// The whole memory in the Nova state: `M` cells plus op count and trace hash; each op selects
/// its cell with a one-hot vector over all `M` cells (sound, and linear in `M`).
#[derive(Clone, Debug)]
pub struct WholeMemoryStep {
    /// log2 of the number of cells.
    pub log_m: u32,
    /// The op (address below 2^log_m).
    pub op: Op,
}

impl StepCircuit<F> for WholeMemoryStep {
    fn arity(&self) -> usize {
        (1 << self.log_m) + 2
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        z: &[AllocatedNum<F>],
    ) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        let m = 1usize << self.log_m;
        let wr = Boolean::from(AllocatedBit::alloc(
            cs.namespace(|| "is_write"),
            Some(self.op.kind.is_write()),
        )?);
        let bits = alloc_bits(cs.namespace(|| "addr"), self.op.addr, self.log_m)?;
        let e = one_hot(cs.namespace(|| "select"), &bits)?;
        let value: Num<F> = AllocatedNum::alloc(cs.namespace(|| "value"), || {
            Ok(F::from_u128(self.op.value.lo()))
        })?
        .into();
        let mut old = Num::zero();
        for i in 0..m {
            old = old.add(&mul(
                cs.namespace(|| format!("read {i}")),
                &e[i],
                &z[i].clone().into(),
            )?);
        }
        let wr_num = Num::zero().add_bool_with_coeff(CS::one(), &wr, F::ONE);
        cs.enforce(
            || "read = cell",
            |_| {
                Num::zero()
                    .add_bool_with_coeff(CS::one(), &wr.not(), F::ONE)
                    .lc(F::ONE)
            },
            |_| sub(&value, &old).lc(F::ONE),
            |lc| lc,
        );
        let delta = mul(cs.namespace(|| "delta"), &wr_num, &sub(&value, &old))?;
        let mut out = Vec::with_capacity(m + 2);
        for i in 0..m {
            let upd = mul(cs.namespace(|| format!("write {i}")), &e[i], &delta)?;
            out.push(alloc_num(
                cs.namespace(|| format!("cell {i}")),
                &Num::from(z[i].clone()).add(&upd),
            )?);
        }
        let two64 = F::from(u64::MAX) + F::ONE;
        let packed = bits_to_num::<CS>(&bits).add_bool_with_coeff(CS::one(), &wr, two64);
        let h = trace_hash_circuit(
            &mut cs.namespace(|| "trace hash"),
            z[m + 1].clone().into(),
            packed,
            value,
        )?;
        out.push(alloc_num(
            cs.namespace(|| "count"),
            &Num::from(z[m].clone()).add(&Num::zero().add_bool_with_coeff(
                CS::one(),
                &Boolean::constant(true),
                F::ONE,
            )),
        )?);
        out.push(alloc_num(cs.namespace(|| "hash"), &h)?);
        Ok(out)
    }
}

/// Compress a folded Merkle proof with Spartan variant `(Sa, Sb)` and verify it; returns
/// (prove seconds, proof bytes, verify seconds).
fn compress_with<Sa, Sb>(
    pp: &MerkleParams,
    folded: &FoldedProof,
) -> Result<(f64, usize, f64), Error>
where
    Sa: arecibo::traits::snark::RelaxedR1CSSNARKTrait<E1>,
    Sb: arecibo::traits::snark::RelaxedR1CSSNARKTrait<E2>,
{
    let internal = |e: arecibo::errors::NovaError| Error::Internal(e.to_string());
    let (pk, vk) = arecibo::CompressedSNARK::<_, _, _, _, Sa, Sb>::setup(pp).map_err(internal)?;
    let t = Instant::now();
    let c = arecibo::CompressedSNARK::<_, _, _, _, Sa, Sb>::prove(pp, &pk, &folded.snark)
        .map_err(internal)?;
    let prove_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (out, _) = c
        .verify(&vk, folded.num_steps, &folded.outputs.z0(), &[F2::ZERO])
        .map_err(internal)?;
    let verify_s = t.elapsed().as_secs_f64();
    if out != folded.outputs.zn() {
        return Err(Error::Internal(
            "compressed proof ends in another state".into(),
        ));
    }
    let bytes = bincode::serialized_size(&c).map_err(|e| Error::Internal(e.to_string()))? as usize;
    Ok((prove_s, bytes, verify_s))
}

/// Compression of the same folded Merkle proof (2^16 words, k = 4) with Spartan `snark` (the
/// default) and, if `with_ppsnark`, with `ppsnark` (preprocessed, computational commitments;
/// its compression alone took 187 s here on 2026-12-03): one row each.
pub fn compression_rows(ops: &[Op], with_ppsnark: bool) -> Result<Vec<Row>, Error> {
    use arecibo::provider::ipa_pc::EvaluationEngine;
    use arecibo::traits::snark::RelaxedR1CSSNARKTrait;
    use foldmem::folding::{S1, S2};
    type P1 = arecibo::spartan::ppsnark::RelaxedR1CSSNARK<E1, EvaluationEngine<E1>>;
    type P2 = arecibo::spartan::ppsnark::RelaxedR1CSSNARK<E2, EvaluationEngine<E2>>;
    let step = MerkleShape {
        tree: TreeParams {
            addr_bits: 16,
            arity: 8,
        },
        ops_per_step: 4,
    };
    let mut rows = Vec::new();
    for pp_snark in [false, true] {
        if pp_snark && !with_ppsnark {
            continue;
        }
        let blank = MerkleStep::blank(step);
        let pp: MerkleParams = if pp_snark {
            MerkleParams::setup(&blank, &C2::default(), &*P1::ck_floor(), &*P2::ck_floor())
        } else {
            setup_circuit(&blank)
        };
        let mut p = MerkleProver::new(&pp, step, 64);
        for (i, op) in ops.iter().enumerate() {
            p.push(i + 1, op)?;
        }
        let folded = p.finish()?;
        let (compress_s, size, verify_s) = if pp_snark {
            compress_with::<P1, P2>(&pp, &folded)?
        } else {
            compress_with::<S1, S2>(&pp, &folded)?
        };
        let name = if pp_snark {
            "compression: spartan ppsnark"
        } else {
            "compression: spartan snark"
        };
        let mut r = row(name.into(), 16, 4, pp.num_constraints().0, ops.len(), 1.0);
        r.fold_ops_per_s = f64::NAN;
        r.ms_per_op = f64::NAN;
        r.compress_s = Some(compress_s);
        r.proof_bytes = Some(size);
        r.verify_s = Some(verify_s);
        rows.push(r);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::test_cs::TestConstraintSystem;
    use foldmem::folding::{S1, S2};

    #[test]
    fn compression_helper_verifies_and_measures() {
        let step = MerkleShape {
            tree: TreeParams {
                addr_bits: 8,
                arity: 4,
            },
            ops_per_step: 1,
        };
        let pp = foldmem::backends::merkle::setup(step);
        let mut p = MerkleProver::new(&pp, step, 64);
        p.push(1, &Op::write(3, 9u64)).unwrap();
        p.push(2, &Op::read(3, 9u64)).unwrap();
        let folded = p.finish().unwrap();
        let (prove_s, bytes, verify_s) = compress_with::<S1, S2>(&pp, &folded).unwrap();
        assert!(prove_s > 0.0 && verify_s > 0.0 && bytes > 1000);
        // a claim that does not match the folded state is reported, not asserted
        let mut wrong = folded.clone();
        wrong.outputs.op_count = 1;
        wrong.num_steps = 2;
        assert!(compress_with::<S1, S2>(&pp, &wrong).is_err());
    }

    #[test]
    fn whole_memory_baseline_is_sound() {
        let log_m = 3;
        let run = |op: Op, cells: Vec<F>| {
            let mut cs = TestConstraintSystem::<F>::new();
            let mut z: Vec<AllocatedNum<F>> = cells
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    AllocatedNum::alloc(cs.namespace(|| format!("c{i}")), || Ok(*v)).unwrap()
                })
                .collect();
            z.push(AllocatedNum::alloc(cs.namespace(|| "n"), || Ok(F::ZERO)).unwrap());
            z.push(AllocatedNum::alloc(cs.namespace(|| "h"), || Ok(F::ZERO)).unwrap());
            let out = WholeMemoryStep { log_m, op }
                .synthesize(&mut cs, &z)
                .unwrap();
            (
                cs.which_is_unsatisfied().map(String::from),
                out.iter()
                    .map(|o| o.get_value().unwrap())
                    .collect::<Vec<_>>(),
            )
        };
        let mut cells = vec![F::ZERO; 8];
        cells[5] = F::from(9);
        let (bad, out) = run(Op::write(3, 4u64), cells.clone());
        assert_eq!(bad, None);
        assert_eq!(out[3], F::from(4));
        assert_eq!(out[5], F::from(9));
        assert_eq!(run(Op::read(5, 9u64), cells.clone()).0, None);
        assert_eq!(
            run(Op::read(5, 8u64), cells).0.as_deref(),
            Some("read = cell")
        );
    }
}
