//! Halo2 comparison path (halo2-axiom, KZG over BN254, SHPLONK): memory consistency proven the
//! classic way, by sorting the trace by (address, time) and a grand-product permutation argument.
//!
//! # Circuit
//! The original trace `(t, a, k, v)` (time, address, kind, value) is public: four instance
//! columns, row `i < n` holding op `i` at time `i + 1`. The prover supplies the same rows sorted
//! by `(a, t)` in advice columns, a `same` flag per sorted row (`a` equals the previous row's)
//! and eight byte limbs. In the second phase, with challenges `θ, γ` drawn after the first-phase
//! columns are committed, a running product `z` starts at 1 on row 0, takes
//! `z_{i+1}·(sorted_i + γ) = z_i·(orig_i + γ)` on rows `0..n` (tuples compressed as
//! `t + θ·a + θ²·k + θ³·v`) and must be 1 again on row `n`: the sorted rows are a permutation
//! of the original ones, except with probability about `n/|F|` (Schwartz–Zippel).
//!
//! On sorted rows `1..n`: `same` is boolean and `same ⇒ a = a_prev`; the limbs (each looked up
//! in a 0..256 table) compose `same ? t − t_prev − 1 : a − a_prev − 1`, so addresses never
//! decrease, a new address is strictly larger (so `same = 0` cannot hide an equal address), and
//! times increase strictly within an address; a read (opcode `k` 0 or 3: read, pop) equals the
//! previous row's value when `same`, else 0. Row 0 is a first access: a read there returns 0.
//! Kinds are opcodes (`k(k−1)(k−2)(k−3) = 0`), so the permuted tuples bind push/pop too.
//!
//! # Padding rows
//! Rows `n..` (up to the 2^k rows of the domain, minus blinding rows) carry no selector: they
//! are in no gate and not in the product, so whatever the prover puts there proves nothing. The
//! row count `n` is part of the verifying key (selectors are fixed columns), so a verifier
//! derives the key from the trace it checks.
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
    crate::backend::sha3_bytes(&bytes)
}

/// Size of the parameters' domain.
pub fn params_k(params: &ParamsKZG<Bn256>) -> u32 {
    params.k()
}

/// Shape of the Halo2 circuit: a domain of `2^k` rows (the parameters' size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Halo2Shape {
    /// log2 of the domain size.
    pub k: u32,
}

/// Domain sizes the backend supports, as log2.
pub const DOMAIN_K: std::ops::RangeInclusive<u32> = 9..=21;

/// What a Halo2 proof claims besides the trace (its public input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Halo2Outputs {
    /// Number of ops.
    pub op_count: u64,
    /// Word size in bits.
    pub word_bits: u32,
}

/// The KZG parameters the Halo2 backend runs with: always an explicit choice.
#[derive(Clone)]
pub enum Halo2Params {
    /// A ceremony's parameters read from `path`.
    File {
        /// Where they were read from (for display).
        path: String,
        /// The parameters.
        params: std::sync::Arc<Kzg>,
    },
    /// [`dev_params`]: deterministic, with a public trapdoor — anyone can forge.
    InsecureDev,
}

impl Halo2Params {
    /// Read ceremony parameters from a file.
    pub fn read(path: &std::path::Path) -> Result<Self, crate::pipeline::JobError> {
        let bytes = std::fs::read(path)
            .map_err(|e| crate::pipeline::JobError::Io(format!("{}: {e}", path.display())))?;
        let params = read_params(&bytes).map_err(|e| {
            crate::pipeline::JobError::Usage(format!("{}: not KZG parameters: {e}", path.display()))
        })?;
        Ok(Halo2Params::File {
            path: path.display().to_string(),
            params: std::sync::Arc::new(params),
        })
    }
}

use crate::backend::{
    collect_ops, Claim, KeyDigests, Lines, ProofSystem, ShapeError, ShapeSpec, TraceItem,
};
use crate::pipeline::{buffer_checked, JobError, KeyOptions, KeySource, Loaded, ProveReport};
use crate::proof::{Backend, Body, Shape};

/// The Halo2 shape for `flags` (the domain must be given: it is the parameters' size, or the
/// smallest that holds the trace).
pub fn shape_from_flags(f: &crate::backend::ShapeFlags) -> Result<Halo2Shape, ShapeError> {
    f.only("halo2", &["ops_per_step", "rows_log2"])?;
    if f.ops_per_step.is_some_and(|k| k != 1) {
        return Err(ShapeError::new(
            "ops_per_step",
            "the halo2 backend proves the whole trace at once",
        ));
    }
    Ok(Halo2Shape {
        k: f.rows_log2.unwrap_or(*DOMAIN_K.start()),
    })
}

impl ShapeSpec for Halo2Shape {
    fn backend(&self) -> Backend {
        Backend::Halo2
    }
    fn validate(&self) -> Result<(), ShapeError> {
        if DOMAIN_K.contains(&self.k) {
            Ok(())
        } else {
            Err(ShapeError::new(
                "rows_log2",
                format!(
                    "halo2 domain 2^{} out of range (2^{}..2^{})",
                    self.k,
                    DOMAIN_K.start(),
                    DOMAIN_K.end()
                ),
            ))
        }
    }
    fn ops_per_step(&self) -> usize {
        1
    }
    fn statement(&self) -> Lines {
        vec![("rows_log2", self.k.to_string())]
    }
    fn cache_name(&self) -> String {
        format!("halo2-k{}", self.k)
    }
    fn keys(&self, opts: &KeyOptions) -> Result<Loaded, JobError> {
        let (params, label) = match &opts.halo2 {
            None => {
                return Err(JobError::Usage(
                    "the halo2 backend needs KZG parameters: --params FILE (a ceremony's) or \
                     --insecure-dev-params (deterministic test parameters: anyone can forge)"
                        .into(),
                ))
            }
            Some(Halo2Params::InsecureDev) => (
                std::sync::Arc::new(dev_params(self.k)),
                "insecure-dev (anyone can forge)".to_string(),
            ),
            Some(Halo2Params::File { path, params }) => {
                if params.k() != self.k {
                    return Err(JobError::Mismatch(format!(
                        "{path} holds parameters for 2^{} rows, the shape needs 2^{}",
                        params.k(),
                        self.k
                    )));
                }
                (params.clone(), path.clone())
            }
        };
        let digest = params_digest(&params);
        if let Some(pin) = opts.pinned {
            if pin.params != digest {
                return Err(JobError::Mismatch(format!(
                    "the key file pins KZG parameters {}, {label} has {}",
                    crate::backend::hex(&pin.params),
                    crate::backend::hex(&digest)
                )));
            }
        }
        let keys = Halo2Keys {
            k: self.k,
            params,
            label,
            digest,
        };
        let digests = keys.digests();
        Ok(Loaded {
            system: Box::new(keys),
            source: KeySource::Generated,
            digests,
        })
    }
}

impl Claim for Halo2Outputs {
    fn op_count(&self) -> u64 {
        self.op_count
    }
    fn word_bits(&self) -> u32 {
        self.word_bits
    }
    fn trace_hash(&self) -> Option<crate::F> {
        None
    }
    fn statement(&self) -> Lines {
        vec![
            ("initial_memory", "empty".into()),
            ("ops", self.op_count.to_string()),
        ]
    }
}

/// Keys of the Halo2 backend: its KZG parameters (circuit keys depend on the trace length and
/// are derived per trace).
pub struct Halo2Keys {
    /// log2 of the domain.
    pub k: u32,
    /// KZG parameters.
    pub params: std::sync::Arc<Kzg>,
    label: String,
    digest: [u8; 32],
}

fn h2_err(e: Halo2Error) -> JobError {
    match e {
        Halo2Error::Plonk(m) => JobError::Internal(m),
        other => JobError::Input(other.to_string()),
    }
}

impl ProofSystem for Halo2Keys {
    fn shape(&self) -> Shape {
        Shape::Halo2(Halo2Shape { k: self.k })
    }
    fn digests(&self) -> KeyDigests {
        KeyDigests {
            params: self.digest,
            vk: self.digest,
        }
    }
    fn constraints_per_op(&self) -> Option<f64> {
        None
    }
    fn circuit_lines(&self) -> Lines {
        vec![("rows", format!("2^{}", self.k))]
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(crate::backend::Progress),
        opts: &crate::backend::ProveOptions,
    ) -> Result<(Option<Body>, ProveReport), JobError> {
        opts.whole_trace_only("halo2")?;
        let mut on_op = |n: u64| progress(crate::backend::Progress::ops(n));
        let t = std::time::Instant::now();
        let all = buffer_checked(ops, word_bits, &mut on_op)?;
        if domain_k(all.len()) > self.k {
            return Err(JobError::Input(format!(
                "{} ops do not fit the halo2 domain 2^{}",
                all.len(),
                self.k
            )));
        }
        let pk = keys(&self.params, all.len()).map_err(h2_err)?;
        let proof = prove(&self.params, &pk, &all).map_err(h2_err)?;
        let n = all.len() as u64;
        let report = ProveReport {
            ops: n,
            steps: 1,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        let body = Body::Halo2 {
            outputs: Halo2Outputs {
                op_count: n,
                word_bits,
            },
            proof,
        };
        Ok((opts.compress.then_some(body), report))
    }
    fn verify(
        &self,
        body: &Body,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), JobError> {
        let Body::Halo2 { outputs, proof } = body else {
            return Err(JobError::Invalid(
                "proof body does not match the backend".into(),
            ));
        };
        let trace = trace.ok_or_else(|| {
            JobError::Invalid(
                "the halo2 backend's public input is the trace: verify with --trace".into(),
            )
        })?;
        let ops = collect_ops(trace)?;
        if ops.len() as u64 != outputs.op_count {
            return Err(JobError::Invalid(format!(
                "trace has {} ops, proof covers {}",
                ops.len(),
                outputs.op_count
            )));
        }
        let pk = keys(&self.params, ops.len()).map_err(|e| JobError::Internal(e.to_string()))?;
        verify(&self.params, pk.get_vk(), &ops, proof).map_err(|e| JobError::Invalid(e.to_string()))
    }
    fn trust_lines(&self) -> Lines {
        vec![("params", self.label.clone())]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
