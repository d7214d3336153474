//! Halo2 comparison path (halo2-axiom, KZG over BN254, SHPLONK): memory consistency proven the
//! classic way, by sorting the trace by (address, time) and a grand-product permutation argument.
//! The whole trace is one circuit, so prover memory grows with it. The circuit, its gates and
//! why padding rows prove nothing: `docs/halo2.md`.
//!
//! # Parameters
//! [`dev_params`] derives KZG parameters from a fixed seed: **insecure**, for benchmarks and
//! tests only (the trapdoor is public, so anyone can forge a proof of anything). Production use
//! needs a real ceremony's parameters, loaded with [`read_params`]. The backend never picks
//! either silently: its keys need an explicit [`Halo2Params`].

#[cfg(test)]
mod tests;

use crate::trace::Op;
use crate::word::Word;
use ff::PrimeField;
use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{
    create_proof, keygen_pk, keygen_vk, verify_proof, Advice, Challenge, Circuit, Column,
    ConstraintSystem, Error, Expression, FirstPhase, ProvingKey, SecondPhase, Selector,
    TableColumn, VerifyingKey,
};
use halo2_axiom::poly::commitment::{Params, ParamsProver};
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_axiom::poly::kzg::strategy::SingleStrategy;
use halo2_axiom::poly::Rotation;
use halo2_axiom::transcript::{
    Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
};
use halo2_axiom::SerdeFormat;
use rand::SeedableRng;

/// Byte limbs per range-checked difference (64 bits).
pub const LIMBS: usize = 8;

/// One trace row: time, address, kind (the opcode: read 0, write 1, push 2, pop 3), value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Time (1-based position in the trace).
    pub t: u64,
    /// Word address.
    pub a: u64,
    /// 1 for a write, 0 for a read.
    pub k: u64,
    /// Value as a field element.
    pub v: Fr,
}

/// Why the Halo2 path refuses or fails.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Halo2Error {
    /// Words wider than 128 bits are not supported by this path.
    #[error("line {line}: the halo2 backend supports words of at most 128 bits")]
    WideWord {
        /// Line (1-based op index).
        line: usize,
    },
    /// The trace is too long for the largest supported domain.
    #[error("trace of {0} ops is too long for the halo2 backend (at most 2^20)")]
    TooLong(usize),
    /// halo2 failed (synthesis, keygen, proving) or the proof is invalid.
    #[error("halo2: {0}")]
    Plonk(String),
}

/// Field encoding of a word (words of at most 128 bits).
fn word_to_fr(w: &Word) -> Option<Fr> {
    (w.hi() == 0).then(|| Fr::from_u128(w.lo()))
}

/// Rows of a trace in time order.
pub fn rows(ops: &[Op]) -> Result<Vec<Row>, Halo2Error> {
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let v = word_to_fr(&op.value).ok_or(Halo2Error::WideWord { line: i + 1 })?;
            Ok(Row {
                t: i as u64 + 1,
                a: op.addr,
                k: op.kind.opcode(),
                v,
            })
        })
        .collect()
}

/// Smallest domain size (log2) that fits `n` rows plus the grand product's last row, the
/// blinding rows and the 256-row limb table.
pub fn domain_k(n: usize) -> u32 {
    let mut k = 9;
    while (1usize << k) < n + 16 {
        k += 1;
    }
    k
}

/// Circuit configuration.
#[derive(Clone, Debug)]
pub struct MemConfig {
    q_first: Selector,
    q_sorted: Selector,
    q_perm: Selector,
    q_last: Selector,
    sorted: [Column<Advice>; 4],
    same: Column<Advice>,
    limbs: [Column<Advice>; LIMBS],
    byte: TableColumn,
    theta: Challenge,
    gamma: Challenge,
    z: Column<Advice>,
}

impl MemConfig {
    /// Declare columns, gates and lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let q_first = meta.selector();
        let q_sorted = meta.complex_selector();
        let q_perm = meta.selector();
        let q_last = meta.selector();
        let orig = [(); 4].map(|_| meta.instance_column());
        let sorted = [(); 4].map(|_| meta.advice_column_in(FirstPhase));
        let same = meta.advice_column_in(FirstPhase);
        let limbs = [(); LIMBS].map(|_| meta.advice_column_in(FirstPhase));
        let byte = meta.lookup_table_column();
        let theta = meta.challenge_usable_after(FirstPhase);
        let gamma = meta.challenge_usable_after(FirstPhase);
        let z = meta.advice_column_in(SecondPhase);
        let one = || Expression::Constant(Fr::one());

        // the kind column holds the opcode (read 0, write 1, push 2, pop 3): pushes write, pops
        // read, and the opcode itself is in the permuted tuples, so a trace reads one way only
        let c = |x: u64| Expression::Constant(Fr::from(x));
        // 2 on the read opcodes 0 and 3, 0 on the write opcodes 1 and 2
        let is_read = move |k: Expression<Fr>| (k.clone() - c(1)) * (k - c(2));
        meta.create_gate("kind is an opcode", |m| {
            let k = m.query_advice(sorted[2], Rotation::cur());
            let b = k.clone() * (k.clone() - c(1)) * (k.clone() - c(2)) * (k - c(3));
            vec![
                m.query_selector(q_first) * b.clone(),
                m.query_selector(q_sorted) * b,
            ]
        });
        meta.create_gate("first row is a first access", |m| {
            let q = m.query_selector(q_first);
            let k = m.query_advice(sorted[2], Rotation::cur());
            let v = m.query_advice(sorted[3], Rotation::cur());
            vec![q * is_read(k) * v]
        });
        meta.create_gate("sorted order", |m| {
            let q = m.query_selector(q_sorted);
            let [t, a, k, v] = sorted.map(|c| m.query_advice(c, Rotation::cur()));
            let [tp, ap, _, vp] = sorted.map(|c| m.query_advice(c, Rotation::prev()));
            let s = m.query_advice(same, Rotation::cur());
            let mut limb_sum = Expression::Constant(Fr::zero());
            for (j, l) in limbs.iter().enumerate() {
                limb_sum = limb_sum
                    + m.query_advice(*l, Rotation::cur())
                        * Expression::Constant(Fr::from(1u64 << (8 * j)));
            }
            let diff = s.clone() * (t - tp - one())
                + (one() - s.clone()) * (a.clone() - ap.clone() - one());
            vec![
                (
                    "same is boolean",
                    q.clone() * s.clone() * (one() - s.clone()),
                ),
                ("same address", q.clone() * s.clone() * (a - ap)),
                ("difference in range", q.clone() * (limb_sum - diff)),
                ("read returns last value", q * is_read(k) * (v - s * vp)),
            ]
        });
        for (j, l) in limbs.iter().enumerate() {
            meta.lookup(format!("limb {j} is a byte"), |m| {
                let q = m.query_selector(q_sorted);
                vec![(q * m.query_advice(*l, Rotation::cur()), byte)]
            });
        }
        meta.create_gate("product starts at 1", |m| {
            vec![m.query_selector(q_first) * (one() - m.query_advice(z, Rotation::cur()))]
        });
        meta.create_gate("product ends at 1", |m| {
            vec![m.query_selector(q_last) * (one() - m.query_advice(z, Rotation::cur()))]
        });
        meta.create_gate("product step", |m| {
            let q = m.query_selector(q_perm);
            let th = m.query_challenge(theta);
            let g = m.query_challenge(gamma);
            let compress = |cols: [Expression<Fr>; 4]| {
                cols.into_iter()
                    .rev()
                    .reduce(|acc, x| acc * th.clone() + x)
                    .expect("four columns")
            };
            let o = compress(orig.map(|c| m.query_instance(c, Rotation::cur())));
            let s = compress(sorted.map(|c| m.query_advice(c, Rotation::cur())));
            let zc = m.query_advice(z, Rotation::cur());
            let zn = m.query_advice(z, Rotation::next());
            vec![q * (zc * (o + g.clone()) - zn * (s + g))]
        });
        MemConfig {
            q_first,
            q_sorted,
            q_perm,
            q_last,
            sorted,
            same,
            limbs,
            byte,
            theta,
            gamma,
            z,
        }
    }
}

/// The memory-consistency circuit over `n` rows. `sorted` is the prover's witness (tests forge it).
#[derive(Clone, Debug, Default)]
pub struct MemCircuit {
    /// Original rows (also the public instance).
    pub orig: Vec<Row>,
    /// Sorted rows.
    pub sorted: Vec<Row>,
}

impl MemCircuit {
    /// Honest witness: rows sorted by `(address, time)`.
    pub fn new(orig: Vec<Row>) -> Self {
        let mut sorted = orig.clone();
        sorted.sort_by_key(|r| (r.a, r.t));
        MemCircuit { orig, sorted }
    }

    /// The four instance columns.
    pub fn instances(&self) -> Vec<Vec<Fr>> {
        vec![
            self.orig.iter().map(|r| Fr::from(r.t)).collect(),
            self.orig.iter().map(|r| Fr::from(r.a)).collect(),
            self.orig.iter().map(|r| Fr::from(r.k)).collect(),
            self.orig.iter().map(|r| r.v).collect(),
        ]
    }
}

fn compress(r: &Row, theta: Fr) -> Fr {
    [Fr::from(r.t), Fr::from(r.a), Fr::from(r.k), r.v]
        .into_iter()
        .rev()
        .fold(Fr::zero(), |acc, x| acc * theta + x)
}

/// Little-endian bytes of a field element's low 64 bits (a forged, out-of-range difference
/// simply fails the decomposition gate).
fn limbs_of(x: Fr) -> [u64; LIMBS] {
    let bytes = x.to_repr();
    let mut out = [0u64; LIMBS];
    for (j, o) in out.iter_mut().enumerate() {
        *o = bytes.as_ref()[j] as u64;
    }
    out
}

impl Circuit<Fr> for MemCircuit {
    type Config = MemConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        // the row count shapes the selectors; keep it, drop nothing else needed for keygen
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> MemConfig {
        MemConfig::configure(meta)
    }

    fn synthesize(&self, c: MemConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "bytes",
            |mut table| {
                for i in 0..256 {
                    table.assign_cell(|| "byte", c.byte, i, || Value::known(Fr::from(i as u64)))?;
                }
                Ok(())
            },
        )?;
        let n = self.orig.len();
        layouter.assign_region(
            || "memory",
            |mut region| {
                c.q_first.enable(&mut region, 0)?;
                c.q_last.enable(&mut region, n)?;
                for i in 0..n {
                    c.q_perm.enable(&mut region, i)?;
                    if i > 0 {
                        c.q_sorted.enable(&mut region, i)?;
                    }
                }
                for (i, r) in self.sorted.iter().enumerate() {
                    let vals = [Fr::from(r.t), Fr::from(r.a), Fr::from(r.k), r.v];
                    for (col, v) in c.sorted.iter().zip(vals) {
                        region.assign_advice(*col, i, Value::known(v));
                    }
                    let (same, diff) = match i.checked_sub(1).map(|p| self.sorted[p]) {
                        None => (false, Fr::zero()),
                        Some(p) if p.a == r.a => (true, Fr::from(r.t) - Fr::from(p.t) - Fr::one()),
                        Some(p) => (false, Fr::from(r.a) - Fr::from(p.a) - Fr::one()),
                    };
                    region.assign_advice(c.same, i, Value::known(Fr::from(same as u64)));
                    for (col, l) in c.limbs.iter().zip(limbs_of(diff)) {
                        region.assign_advice(*col, i, Value::known(Fr::from(l)));
                    }
                }
                region.next_phase();
                let theta = region.get_challenge(c.theta);
                let gamma = region.get_challenge(c.gamma);
                let zs = theta.zip(gamma).map(|(th, g)| {
                    let mut z = vec![Fr::one()];
                    for (o, s) in self.orig.iter().zip(&self.sorted) {
                        let num = compress(o, th) + g;
                        let den = compress(s, th) + g;
                        let last = *z.last().expect("nonempty");
                        z.push(last * num * den.invert().unwrap_or(Fr::zero()));
                    }
                    z
                });
                for i in 0..=n {
                    region.assign_advice(c.z, i, zs.as_ref().map(|z| z[i]));
                }
                Ok(())
            },
        )
    }
}

/// Deterministic, **insecure** KZG parameters for `2^k` rows (benchmarks and tests only).
pub fn dev_params(k: u32) -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(k, rand_chacha::ChaCha20Rng::seed_from_u64(0x0f01_d3e3))
}

/// Read KZG parameters (e.g. from a ceremony) in halo2's raw format. A malformed file is an
/// error, never a panic.
pub fn read_params(bytes: &[u8]) -> Result<ParamsKZG<Bn256>, Halo2Error> {
    std::panic::catch_unwind(|| {
        ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], SerdeFormat::RawBytes)
            .map_err(|e| Halo2Error::Plonk(e.to_string()))
    })
    .unwrap_or_else(|_| Err(Halo2Error::Plonk("malformed KZG parameters".into())))
}

/// Proving and verifying keys for a circuit over `n` rows.
pub fn keys(params: &ParamsKZG<Bn256>, n: usize) -> Result<ProvingKey<G1Affine>, Halo2Error> {
    let shape = MemCircuit::new(vec![
        Row {
            t: 0,
            a: 0,
            k: 0,
            v: Fr::zero()
        };
        n
    ]);
    let vk = keygen_vk(params, &shape).map_err(|e| Halo2Error::Plonk(format!("{e:?}")))?;
    keygen_pk(params, vk, &shape).map_err(|e| Halo2Error::Plonk(format!("{e:?}")))
}

/// Prove a trace. Returns the proof bytes.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    ops: &[Op],
) -> Result<Vec<u8>, Halo2Error> {
    if ops.len() > 1 << 20 {
        return Err(Halo2Error::TooLong(ops.len()));
    }
    let circuit = MemCircuit::new(rows(ops)?);
    let inst = circuit.instances();
    let inst_refs: Vec<&[Fr]> = inst.iter().map(|c| c.as_slice()).collect();
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(vec![]);
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<Bn256>, _, _, _, _>(
        params,
        pk,
        &[circuit],
        &[&inst_refs],
        rand::rngs::OsRng,
        &mut transcript,
    )
    .map_err(|e| Halo2Error::Plonk(format!("{e:?}")))?;
    Ok(transcript.finalize())
}

/// Verify a proof against the trace it claims.
pub fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    ops: &[Op],
    proof: &[u8],
) -> Result<(), Halo2Error> {
    let inst = MemCircuit::new(rows(ops)?).instances();
    let inst_refs: Vec<&[Fr]> = inst.iter().map(|c| c.as_slice()).collect();
    let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(proof);
    let verifier_params = params.verifier_params();
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<Bn256>, _, _, _>(
        verifier_params,
        vk,
        SingleStrategy::new(params),
        &[&inst_refs],
        &mut transcript,
    )
    .map_err(|e| Halo2Error::Plonk(format!("{e:?}")))
}

/// KZG parameters over BN254.
pub type Kzg = ParamsKZG<Bn256>;

/// SHA3-256 of the parameters' raw encoding: identifies them in proof headers and `--vk` files.
pub fn params_digest(params: &Kzg) -> [u8; 32] {
    let mut bytes = Vec::new();
    params
        .write_custom(&mut bytes, SerdeFormat::RawBytes)
        .expect("writing to memory");
    crate::digest::sha3_bytes(&bytes)
}

/// Size of the parameters' domain.
pub fn params_k(params: &ParamsKZG<Bn256>) -> u32 {
    params.k()
}

mod system;
pub use system::{Halo2Keys, Halo2Outputs, Halo2Params, Halo2Proof, Halo2Shape, DOMAIN_K};
