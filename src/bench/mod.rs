//! `foldmem bench`: every backend on the same generated traces, in one run on one machine, with
//! the Nova floor (trivial step) and a whole-memory-in-state baseline as reference rows.

use crate::halo2_compat::Halo2Params;
use crate::hash::trace_hash_circuit;
use crate::merkle::TreeParams;
use crate::nova::{setup_circuit, Params, Recursive, C2, F2};
use crate::pipeline::{self, Keys};
use crate::proof::{ProofFile, Shape};
use crate::step::gadgets::{alloc_bits, alloc_num, bits_to_num, mul, one_hot, sub};
use crate::step::StepParams;
use crate::trace::Op;
use crate::F;
use arecibo::traits::circuit::{StepCircuit, TrivialCircuit};
use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::{Field, PrimeField};
use std::collections::HashMap;
use std::time::Instant;

pub mod stream;

/// A consistent trace of `n` ops over `addr_bits`-bit word addresses (seeded): a hot working set
/// plus sparse cold addresses, about one write in three.
pub fn synthetic_trace(n: usize, addr_bits: u32, seed: u64) -> Vec<Op> {
    synthetic_trace_with(n, addr_bits, seed, 3)
}

/// Like [`synthetic_trace`] with about one write in `write_one_in` ops.
pub fn synthetic_trace_with(n: usize, addr_bits: u32, seed: u64, write_one_in: u64) -> Vec<Op> {
    let mask = if addr_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << addr_bits) - 1
    };
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let hot: Vec<u64> = (0..32).map(|_| next() & mask).collect();
    let mut mem: HashMap<u64, u64> = HashMap::new();
    (0..n)
        .map(|_| {
            let r = next();
            let addr = if r % 4 == 0 {
                next() & mask
            } else {
                hot[(r >> 8) as usize % hot.len()]
            };
            if (r >> 20) % write_one_in == 0 {
                let v = next();
                mem.insert(addr, v);
                Op::write(addr, v)
            } else {
                Op::read(addr, *mem.get(&addr).unwrap_or(&0))
            }
        })
        .collect()
}

/// A real-program-shaped trace (calibrated against valgrind lackey traces of `gzip`): about 45%
/// writes, sparse 64-bit addresses in a few regions (stack, heap, globals), and a working set
/// that drifts, so about 15% of the ops of a 16,384-op window touch distinct addresses. Seeded and
/// consistent.
pub fn program_trace(n: usize, seed: u64) -> Vec<Op> {
    ProgramTrace::new(seed).take(n).collect()
}

/// [`program_trace`] as an endless iterator (a running program's trace, op by op: memory is the
/// program's own memory, not the trace).
pub struct ProgramTrace {
    x: u64,
    tops: [u64; 3],
    pool: Vec<u64>,
    mem: HashMap<u64, u64>,
}

/// Region bases: high 64-bit addresses, far apart (stack, heap, globals).
const BASES: [u64; 3] = [
    0x7ffd_3c00_0000_0000,
    0x0000_5555_5555_0000,
    0x0000_7f3a_1000_0000,
];

impl ProgramTrace {
    /// A trace seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        ProgramTrace {
            x: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            tops: [0; 3],
            pool: Vec::new(),
            mem: HashMap::new(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }
}

impl Iterator for ProgramTrace {
    type Item = Op;

    fn next(&mut self) -> Option<Op> {
        let r = self.next_u64();
        let addr = if self.pool.is_empty() || r % 1000 < 70 {
            // a new word: the next one of a region (allocation, stack growth)
            let region = (r >> 12) as usize % 3;
            self.tops[region] += 1 + (r >> 20) % 3;
            let a = BASES[region] + self.tops[region];
            self.pool.push(a);
            a
        } else {
            // reuse: mostly recent words (locality), sometimes older ones
            let span = self
                .pool
                .len()
                .min(if (r >> 16) % 8 == 0 { 4096 } else { 512 });
            self.pool[self.pool.len() - 1 - ((r >> 24) as usize % span)]
        };
        Some(if (r >> 40) % 100 < 45 {
            let v = self.next_u64();
            self.mem.insert(addr, v);
            Op::write(addr, v)
        } else {
            Op::read(addr, *self.mem.get(&addr).unwrap_or(&0))
        })
    }
}

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

/// This process's peak resident memory so far (MiB).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn row(name: String, mem_log2: u32, k: usize, cons: usize, ops: usize, secs: f64) -> Row {
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
fn backend_row(
    name: &str,
    shape: Shape,
    mem_log2: u32,
    ops: &[Op],
    compress: bool,
) -> Result<Row, pipeline::JobError> {
    let opts = pipeline::KeyOptions::none().with_halo2(Halo2Params::InsecureDev);
    let keys: Keys = pipeline::keys(shape, &opts)?;
    let stream = || crate::trace::numbered(ops);
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
fn time_folds<C: StepCircuit<F>>(
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
    pp: &crate::nova::NovaParams,
    folded: &crate::nova::FoldedProof,
) -> Result<(f64, usize, f64), pipeline::JobError>
where
    Sa: arecibo::traits::snark::RelaxedR1CSSNARKTrait<crate::E1>,
    Sb: arecibo::traits::snark::RelaxedR1CSSNARKTrait<crate::E2>,
{
    let internal = |e: arecibo::errors::NovaError| pipeline::JobError::Internal(e.to_string());
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
        return Err(pipeline::JobError::Internal(
            "compressed proof ends in another state".into(),
        ));
    }
    let bytes = bincode::serialized_size(&c)
        .map_err(|e| pipeline::JobError::Internal(e.to_string()))? as usize;
    Ok((prove_s, bytes, verify_s))
}

/// Compression of the same folded Merkle proof (2^16 words, k = 4) with Spartan `snark` (the
/// default) and with `ppsnark` (preprocessed, computational commitments): one row each.
fn compression_rows(ops: &[Op]) -> Result<Vec<Row>, pipeline::JobError> {
    use crate::nova::S1;
    use arecibo::provider::ipa_pc::EvaluationEngine;
    use arecibo::traits::snark::RelaxedR1CSSNARKTrait;
    type P1 = arecibo::spartan::ppsnark::RelaxedR1CSSNARK<crate::E1, EvaluationEngine<crate::E1>>;
    type P2 = arecibo::spartan::ppsnark::RelaxedR1CSSNARK<crate::E2, EvaluationEngine<crate::E2>>;
    let step = StepParams {
        tree: TreeParams {
            addr_bits: 16,
            arity: 8,
        },
        ops_per_step: 4,
    };
    let mut rows = Vec::new();
    for pp_snark in [false, true] {
        let blank = crate::step::MemoryStep::blank(step);
        let pp: crate::nova::NovaParams = if pp_snark {
            crate::nova::NovaParams::setup(
                &blank,
                &C2::default(),
                &*P1::ck_floor(),
                &*P2::ck_floor(),
            )
        } else {
            setup_circuit(&blank)
        };
        let mut p = crate::nova::NovaProver::new(&pp, step, 64);
        for (i, op) in ops.iter().enumerate() {
            p.push(i + 1, op)?;
        }
        let folded = p.finish()?;
        let (compress_s, size, verify_s) = if pp_snark {
            compress_with::<P1, P2>(&pp, &folded)?
        } else {
            compress_with::<S1, crate::nova::S2>(&pp, &folded)?
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

/// Benchmark settings.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Ops folded per Merkle row.
    pub merkle_ops: usize,
    /// Ops folded per offline row.
    pub offline_ops: usize,
    /// Ops folded per baseline row.
    pub baseline_ops: usize,
    /// Largest baseline memory, log2.
    pub baseline_max_log: u32,
    /// Merkle `k` values.
    pub merkle_ks: &'static [usize],
    /// Op slots per step of the streaming op-step breakdown rows.
    pub stream_ks: &'static [usize],
    /// Op steps folded per breakdown row (the first, which arecibo synthesizes without folding,
    /// is not timed).
    pub breakdown_steps: usize,
    /// Ops of the real-program-shaped trace the streaming, offline and Halo2 rows share.
    pub real_ops: usize,
    /// Trace lengths of the peak-memory rows (each in a child process).
    pub rss_ops: &'static [usize],
}

impl Settings {
    /// `--quick`: a few minutes on 2 cores.
    pub const QUICK: Settings = Settings {
        merkle_ops: 16,
        offline_ops: 1024,
        baseline_ops: 8,
        baseline_max_log: 8,
        merkle_ks: &[1, 4],
        stream_ks: &[128, 256, 352, 512, 1024],
        breakdown_steps: 3,
        real_ops: 16384,
        rss_ops: &[10_000, 100_000],
    };
    /// Full run.
    pub const FULL: Settings = Settings {
        merkle_ops: 64,
        offline_ops: 8192,
        baseline_ops: 16,
        baseline_max_log: 10,
        merkle_ks: &[1, 4, 16],
        stream_ks: &[128, 256, 352, 512, 1024],
        breakdown_steps: 5,
        real_ops: 16384,
        rss_ops: &[10_000, 100_000, 1_000_000],
    };
}

/// Everything one `foldmem bench` run measures.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The side-by-side table.
    pub rows: Vec<Row>,
    /// The streaming op step's time breakdown per `k`.
    pub breakdown: Vec<stream::Breakdown>,
    /// The cost model fitted to the breakdown.
    pub cost_model: Option<stream::CostModel>,
    /// Real-program-shaped trace: stream, nova-offline and peak memory, each in a child
    /// process.
    pub real: Vec<stream::ChildRow>,
    /// Halo2 folding-free ops/s on the same real trace.
    pub halo2_real_ops_per_s: Option<f64>,
}

/// Run every row (the side-by-side table, then the streaming rows: breakdown, real trace, peak
/// memory in child processes started as `exe bench-row …`), calling `log` as rows finish.
pub fn run_all(
    s: Settings,
    exe: Option<&std::path::Path>,
    mut log: impl FnMut(&str),
) -> Result<Report, pipeline::JobError> {
    crate::profile::install(false);
    let rows = run(s, |r| {
        log(&format!(
            "{}: {:.2} ops/s, {:.0} constraints/op",
            r.name, r.fold_ops_per_s, r.constraints_per_op
        ))
    })?;
    let mut breakdown = Vec::new();
    for &k in s.stream_ks {
        let b = stream::op_step_breakdown(k, s.breakdown_steps)?;
        log(&format!(
            "stream op step k={k}: {:.0} ms/step, {:.0} effective constraints/op",
            b.step_ms[0], b.effective_constraints_per_op
        ));
        breakdown.push(b);
    }
    let cost_model = stream::fit(&breakdown);
    let mut real = Vec::new();
    // Halo2 on the same real trace (the whole trace at once, insecure dev parameters)
    let halo2_real_ops_per_s = {
        let ops = program_trace(s.real_ops, 11);
        let shape = Shape::Halo2(crate::halo2_compat::Halo2Shape {
            k: crate::halo2_compat::domain_k(ops.len()),
        });
        let r = backend_row("halo2 real", shape, 64, &ops, false)?;
        log(&format!(
            "halo2 on the real trace: {:.0} ops/s",
            r.fold_ops_per_s
        ));
        Some(r.fold_ops_per_s)
    };
    if let Some(exe) = exe {
        let mut sizes = vec![s.real_ops];
        sizes.extend(s.rss_ops.iter().copied().filter(|n| *n != s.real_ops));
        for n in sizes {
            for backend in ["stream", "nova-offline"] {
                let r = stream::in_child(exe, backend, n)?;
                log(&format!(
                    "{backend} real trace {n} ops: {:.1} ops/s, peak {:.0} MiB",
                    r.ops_per_s, r.peak_rss_mib
                ));
                real.push(r);
            }
        }
    }
    Ok(Report {
        rows,
        breakdown,
        cost_model,
        real,
        halo2_real_ops_per_s,
    })
}

/// Markdown of the streaming rows of a report.
pub fn stream_markdown(r: &Report) -> String {
    let mut s = String::from(
        "
### Streaming op step: where a fold step's time goes

",
    );
    s.push_str(&stream::breakdown_markdown(&r.breakdown));
    s.push_str(
        "
### Real-program-shaped trace (each row in its own process)

| backend | ops | fold ops/s | steps | boundary slots/op | peak RSS MiB |
|---|---|---|---|---|---|
",
    );
    for c in &r.real {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {} | {:.3} | {:.0} |
",
            c.backend, c.ops, c.ops_per_s, c.steps, c.boundary_slots_per_op, c.peak_rss_mib
        ));
    }
    if let Some(h) = r.halo2_real_ops_per_s {
        s.push_str(&format!(
            "| halo2 (not folding) | {} | {h:.1} | 1 | – | – |
",
            r.real.first().map(|c| c.ops).unwrap_or(0)
        ));
        for c in r
            .real
            .iter()
            .filter(|c| Some(c.ops) == r.real.first().map(|f| f.ops))
        {
            s.push_str(&format!(
                "
{}: {:.3}× Halo2's ops/s",
                c.backend,
                c.ops_per_s / h.max(1e-9)
            ));
        }
        s.push('\n');
    }
    let pair = |b: &str, n: usize| r.real.iter().find(|c| c.backend == b && c.ops == n);
    if let (Some(a), Some(o)) = (
        pair("stream", r.real.first().map(|c| c.ops).unwrap_or(0)),
        pair("nova-offline", r.real.first().map(|c| c.ops).unwrap_or(0)),
    ) {
        s.push_str(&format!(
            "stream / nova-offline fold ops/s: {:.2}\n",
            a.ops_per_s / o.ops_per_s.max(1e-9)
        ));
    }
    s
}

/// Run every row of the side-by-side table, calling `log` with each finished row.
pub fn run(s: Settings, mut log: impl FnMut(&Row)) -> Result<Vec<Row>, pipeline::JobError> {
    let internal = |e: arecibo::errors::NovaError| pipeline::JobError::Internal(e.to_string());
    let mut rows = Vec::new();
    let mut push = |r: Row, rows: &mut Vec<Row>| {
        log(&r);
        rows.push(r);
    };
    // Nova floor: trivial step circuit
    {
        let c = TrivialCircuit::<F>::default();
        let pp = setup_circuit(&c);
        let (secs, _) = time_folds(&pp, &vec![c; 8], &[F::ZERO]).map_err(internal)?;
        push(
            row(
                "nova floor (trivial step)".into(),
                0,
                1,
                pp.num_constraints().0,
                8,
                secs,
            ),
            &mut rows,
        );
    }
    let trace64 = synthetic_trace(s.offline_ops.max(s.merkle_ops), 64, 7);
    // Merkle backend: k sweep at 2^64, compression at k = 4
    for &k in s.merkle_ks {
        let shape = Shape::Merkle(StepParams {
            tree: TreeParams {
                addr_bits: 64,
                arity: 8,
            },
            ops_per_step: k,
        });
        push(
            backend_row(
                &format!("nova merkle k={k}"),
                shape,
                64,
                &trace64[..s.merkle_ops],
                k == 4,
            )?,
            &mut rows,
        );
    }
    for bits in [16u32, 32] {
        let shape = Shape::Merkle(StepParams {
            tree: TreeParams {
                addr_bits: bits,
                arity: 8,
            },
            ops_per_step: 4,
        });
        push(
            backend_row(
                "nova merkle k=4",
                shape,
                bits,
                &synthetic_trace(s.merkle_ops, bits, 7),
                false,
            )?,
            &mut rows,
        );
    }
    // read-heavy trace (1 write in 8): Merkle k = 1 against SuperNova, where a read pays one path
    let reads = synthetic_trace_with(s.merkle_ops, 64, 11, 8);
    let merkle1 = Shape::Merkle(StepParams {
        tree: TreeParams {
            addr_bits: 64,
            arity: 8,
        },
        ops_per_step: 1,
    });
    push(
        backend_row("read-heavy: nova merkle k=1", merkle1, 64, &reads, false)?,
        &mut rows,
    );
    let sn = Shape::SuperNova(crate::supernova::SnShape {
        tree: TreeParams {
            addr_bits: 64,
            arity: 8,
        },
        stack_base: crate::demo::STACK_BASE,
        stack_log_depth: 8,
    });
    push(
        backend_row("read-heavy: supernova", sn, 64, &reads, true)?,
        &mut rows,
    );
    // offline backend at the same sizes, compression at 2^64
    for bits in [16u32, 32, 64] {
        let ops = if bits == 64 {
            trace64[..s.offline_ops].to_vec()
        } else {
            synthetic_trace(s.offline_ops, bits, 7)
        };
        push(
            backend_row(
                "nova-offline k=128",
                Shape::Offline(crate::offline::OfflineShape { ops_per_step: 128 }),
                bits,
                &ops,
                bits == 64,
            )?,
            &mut rows,
        );
    }
    // the streaming backend on the same 2^64 trace as the offline rows, compressed
    {
        let shape = Shape::Stream(
            crate::stream::shape_from_flags(&Default::default()).map_err(pipeline::internal)?,
        );
        let k = shape.ops_per_step();
        push(
            backend_row(
                &format!("stream k={k}"),
                shape,
                64,
                &trace64[..s.offline_ops],
                true,
            )?,
            &mut rows,
        );
    }
    // the classic way: Halo2 (KZG) over the same 2^64 trace as the offline rows, proven at once
    {
        let ops = &trace64[..s.offline_ops];
        let shape = Shape::Halo2(crate::halo2_compat::Halo2Shape {
            k: crate::halo2_compat::domain_k(ops.len()),
        });
        let mut r = backend_row(
            "halo2 sorted-trace (KZG, not folding)",
            shape,
            64,
            ops,
            true,
        )?;
        r.compress_s = None;
        r.constraints_per_op = f64::NAN; // PLONKish rows, not R1CS: one row per op plus lookups
        push(r, &mut rows);
    }
    for r in compression_rows(&synthetic_trace(8, 16, 5))? {
        push(r, &mut rows);
    }
    // whole memory in the state
    let mut log_m = 4;
    while log_m <= s.baseline_max_log {
        let ops = synthetic_trace(s.baseline_ops, log_m, 7);
        let circuits: Vec<WholeMemoryStep> = ops
            .iter()
            .map(|op| WholeMemoryStep { log_m, op: *op })
            .collect();
        let pp = setup_circuit(&circuits[0]);
        let z0 = vec![F::ZERO; (1 << log_m) + 2];
        let (secs, snark) = time_folds(&pp, &circuits, &z0).map_err(internal)?;
        snark
            .verify(&pp, circuits.len(), &z0, &[F2::ZERO])
            .map_err(internal)?;
        push(
            row(
                "whole memory in state".into(),
                log_m,
                1,
                pp.num_constraints().0,
                ops.len(),
                secs,
            ),
            &mut rows,
        );
        log_m += 2;
    }
    Ok(rows)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "–".into())
}

/// The table as markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from("| backend | memory | k | constraints/op | effective/op | fold ops/s | ms/op | compress s | proof B | verify s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let mem = if r.mem_log2 == 0 {
            "–".to_string()
        } else {
            format!("2^{}", r.mem_log2)
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |\n",
            r.name,
            mem,
            r.ops_per_step,
            opt(r
                .constraints_per_op
                .is_finite()
                .then(|| format!("{:.0}", r.constraints_per_op))),
            opt(r.effective_constraints_per_op.map(|x| format!("{x:.0}"))),
            opt(r
                .fold_ops_per_s
                .is_finite()
                .then(|| format!("{:.2}", r.fold_ops_per_s))),
            opt(r
                .ms_per_op
                .is_finite()
                .then(|| format!("{:.1}", r.ms_per_op))),
            opt(r.compress_s.map(|x| format!("{x:.2}"))),
            opt(r.proof_bytes),
            opt(r.verify_s.map(|x| format!("{x:.3}"))),
            r.peak_rss_mib
        ));
    }
    s
}

/// SVG plot of ms/op against memory size (log2) for each row family.
pub fn svg(rows: &[Row]) -> String {
    let series: Vec<(&str, &str)> = vec![
        ("whole memory in state", "#d62728"),
        ("nova merkle k=4", "#1f77b4"),
        ("nova-offline k=128", "#2ca02c"),
    ];
    let (w, h, pad) = (640.0, 400.0, 50.0);
    let max_ms = rows
        .iter()
        .filter(|r| r.mem_log2 > 0)
        .map(|r| r.ms_per_op)
        .fold(1.0f64, f64::max);
    let (lo, hi) = (0.0f64, (max_ms * 1.5).log10().ceil());
    let x = |b: u32| pad + (b as f64 / 64.0) * (w - 2.0 * pad);
    let y = |ms: f64| {
        h - pad - ((ms.max(0.01).log10() - lo.min(-2.0)) / (hi - lo.min(-2.0))) * (h - 2.0 * pad)
    };
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.push_str(&format!(
        "<text x=\"{}\" y=\"20\">ms per op vs memory size (log scale)</text>\n",
        pad
    ));
    s.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad,
        w - pad,
        h - pad
    ));
    s.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad
    ));
    for b in [4u32, 8, 16, 32, 64] {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">2^{b}</text>\n",
            x(b),
            h - pad + 18.0
        ));
    }
    let mut e = lo.min(-2.0) as i32;
    while e as f64 <= hi {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            pad - 4.0,
            y(10f64.powi(e)) + 4.0,
            10f64.powi(e)
        ));
        e += 1;
    }
    for (i, (name, color)) in series.iter().enumerate() {
        let pts: Vec<String> = rows
            .iter()
            .filter(|r| r.name == *name && r.mem_log2 > 0)
            .map(|r| format!("{:.1},{:.1}", x(r.mem_log2), y(r.ms_per_op)))
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
            pts.join(" ")
        ));
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap();
            s.push_str(&format!(
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{color}\"/>\n"
            ));
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{name}</text>\n",
            w - pad - 160.0,
            pad + 16.0 * i as f64
        ));
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Checker;
    use bellpepper_core::test_cs::TestConstraintSystem;

    #[test]
    fn program_trace_has_the_real_shape() {
        let ops = program_trace(65536, 1);
        crate::trace::check_stream(crate::trace::numbered(&ops)).unwrap();
        let writes = ops.iter().filter(|o| o.kind.is_write()).count() as f64 / ops.len() as f64;
        assert!((0.40..0.50).contains(&writes), "writes {writes}");
        let ratios: Vec<f64> = ops
            .chunks(16384)
            .map(|seg| {
                let d = seg
                    .iter()
                    .map(|o| o.addr)
                    .collect::<std::collections::HashSet<_>>();
                d.len() as f64 / seg.len() as f64
            })
            .collect();
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!(
            (0.10..0.20).contains(&mean) && ratios.iter().all(|r| (0.05..0.25).contains(r)),
            "distinct per segment {ratios:?}"
        );
        assert!(ops.iter().any(|o| o.addr >> 60 != 0), "64-bit addresses");
    }

    #[test]
    fn synthetic_trace_is_consistent_and_in_range() {
        for bits in [8, 16, 64] {
            let ops = synthetic_trace(500, bits, 3);
            let mut c = Checker::new();
            for (i, op) in ops.iter().enumerate() {
                c.apply(i + 1, op).unwrap();
                assert!(bits == 64 || op.addr < 1 << bits);
            }
            assert!(c.stats().writes > 100 && c.stats().reads > 100);
        }
    }

    #[test]
    fn compression_helper_verifies_and_measures() {
        let step = StepParams {
            tree: TreeParams {
                addr_bits: 8,
                arity: 4,
            },
            ops_per_step: 1,
        };
        let pp = crate::nova::setup(step);
        let mut p = crate::nova::NovaProver::new(&pp, step, 64);
        p.push(1, &Op::write(3, 9u64)).unwrap();
        p.push(2, &Op::read(3, 9u64)).unwrap();
        let folded = p.finish().unwrap();
        let (prove_s, bytes, verify_s) =
            compress_with::<crate::nova::S1, crate::nova::S2>(&pp, &folded).unwrap();
        assert!(prove_s > 0.0 && verify_s > 0.0 && bytes > 1000);
        // a claim that does not match the folded state is reported, not asserted
        let mut wrong = folded.clone();
        wrong.outputs.op_count = 1;
        wrong.num_steps = 2;
        assert!(compress_with::<crate::nova::S1, crate::nova::S2>(&pp, &wrong).is_err());
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
