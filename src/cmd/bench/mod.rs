//! `foldmem bench`: every backend on the same generated traces, in one run on one machine, with
//! the Nova floor (trivial step) and a whole-memory-in-state baseline as reference rows; the
//! streaming backend's op-step breakdown, and real-program-shaped rows in child processes for
//! their peak memory; or, with `--trace`, a real trace proven by several backends side by side.

mod real;
mod report;
mod rows;
pub mod stream;

use super::kv;
use arecibo::traits::circuit::TrivialCircuit;
use clap::Args;
use ff::Field;
use foldmem::backends::halo2::{domain_k, Halo2Shape};
use foldmem::backends::merkle::MerkleShape;
use foldmem::backends::offline::OfflineShape;
use foldmem::backends::stream::StreamShape;
use foldmem::backends::supernova::SupernovaShape;
use foldmem::engine::{F, F2};
use foldmem::folding::setup_circuit;
use foldmem::registry::Shape;
use foldmem::trace::gen::{program_trace, synthetic_trace, synthetic_trace_with};
use foldmem::tree::TreeParams;
use foldmem::Error;
use rows::{backend_row, compression_rows, row, time_folds, Row, WholeMemoryStep};

/// Benchmark every backend on the same traces; print a markdown table, write JSON and SVG.
#[derive(Args)]
pub struct BenchArgs {
    /// Smaller traces and fewer rows (see the README for its measured time).
    #[arg(long)]
    quick: bool,
    /// JSON output file.
    #[arg(long, default_value = "bench.json")]
    out: PathBuf,
    /// SVG plot of per-op time against memory size.
    #[arg(long, default_value = "bench.svg")]
    svg: PathBuf,
    /// Instead of the generated traces: prove this JSONL trace (a real program's) with each of
    /// `--backends`, each in a child `foldmem prove -` reading it from standard input (Halo2,
    /// with insecure dev parameters, reads the file), and print them side by side with peak
    /// memory.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Backends `--trace` runs, in order.
    #[arg(long, value_delimiter = ',', default_value = real::DEFAULT_BACKENDS, requires = "trace")]
    backends: Vec<foldmem::registry::Backend>,
}

/// One benchmark row in its own process (used by `bench` to measure peak memory per row).
#[derive(Args)]
pub struct BenchRowArgs {
    /// `stream` or `nova-offline`.
    backend: String,
    /// Ops of the real-program-shaped trace.
    ops: usize,
}

/// Run `bench`.
pub fn run(a: BenchArgs) -> Result<(), Error> {
    if let Some(trace) = &a.trace {
        if a.quick {
            return Err(Error::Usage(
                "bench --trace proves the whole trace: it takes no --quick".into(),
            ));
        }
        return real::run(trace, &a.backends, &a.out);
    }
    let settings = if a.quick {
        Settings::QUICK
    } else {
        Settings::FULL
    };
    let est = settings.estimate_s();
    eprintln!(
        "bench{}: estimated {} on a 2-core box like the one it was measured on (2026-12-03)",
        if a.quick { " --quick" } else { "" },
        if est < 3600.0 {
            format!("about {:.0} min", (est / 60.0).ceil())
        } else {
            format!("about {:.1} h", est / 3600.0)
        }
    );
    let t = Instant::now();
    let exe = std::env::current_exe().ok();
    let report = run_all(settings, exe.as_deref(), |m| eprintln!("{m}"))?;
    let json = serde_json::json!({
        "date": std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "quick": a.quick,
        "rows": report.rows,
        "stream_breakdown": report.breakdown,
        "cost_model": report.cost_model,
        "real_trace": report.real,
        "halo2_real_ops_per_s": report.halo2_real_ops_per_s,
    });
    std::fs::write(&a.out, serde_json::to_string_pretty(&json).expect("json"))
        .map_err(|e| Error::io(&a.out, e))?;
    std::fs::write(&a.svg, report::svg(&report.rows)).map_err(|e| Error::io(&a.svg, e))?;
    print!("{}", report::markdown(&report.rows));
    print!("{}", report::stream_markdown(&report));
    kv("bench_s", format!("{:.1}", t.elapsed().as_secs_f64()));
    kv("json", a.out.display());
    kv("svg", a.svg.display());
    Ok(())
}

/// Run `bench-row`: one JSON line.
pub fn run_row(a: BenchRowArgs) -> Result<(), Error> {
    let r = stream::child_row(&a.backend, a.ops)?;
    println!("{}", serde_json::to_string(&r).expect("json"));
    Ok(())
}
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    /// Also compress with Spartan's `ppsnark` (minutes for one row).
    pub ppsnark: bool,
}

impl Settings {
    /// `--quick`: every row at its smallest useful size (its time on this 2-core box is in
    /// the README, measured with `--quick` itself).
    pub const QUICK: Settings = Settings {
        merkle_ops: 8,
        offline_ops: 256,
        baseline_ops: 8,
        baseline_max_log: 6,
        merkle_ks: &[1, 4],
        stream_ks: &[128, 352],
        breakdown_steps: 2,
        real_ops: 4096,
        rss_ops: &[],
        ppsnark: false,
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
        ppsnark: true,
    };
}

impl Settings {
    /// Rough wall time of a run, in seconds, from rates and per-row overheads measured on the
    /// 2-core development box (2026-12-03: `--quick` ran 246 s; the model says about 300): about
    /// 6 s of setup per row, Merkle-family rows at ~4 ops/s, offline rows at ~220 ops/s, an op
    /// step breakdown row ~25 s plus ~1 s per step, and the child rows at ~300 (stream) and
    /// ~200 (nova-offline) ops/s plus their key setup.
    pub fn estimate_s(&self) -> f64 {
        let merkle_rows = (self.merkle_ks.len() + 4) as f64;
        let offline_rows = 3.0;
        let baseline_rows = ((self.baseline_max_log.saturating_sub(4)) / 2 + 1) as f64;
        let mut sizes = vec![self.real_ops];
        sizes.extend(self.rss_ops.iter().copied().filter(|n| *n != self.real_ops));
        let children: f64 = sizes
            .iter()
            .map(|&n| n as f64 / 300.0 + 40.0 + n as f64 / 200.0 + 20.0)
            .sum();
        6.0 + merkle_rows * (6.0 + self.merkle_ops as f64 / 4.0)
            + (offline_rows + 1.0) * (6.0 + self.offline_ops as f64 / 220.0)
            + 25.0
            + if self.ppsnark { 190.0 } else { 0.0 }
            + baseline_rows * (6.0 + self.baseline_ops as f64 / 2.7)
            + self.stream_ks.len() as f64 * (25.0 + self.breakdown_steps as f64)
            + self.real_ops as f64 / 1500.0
            + 5.0
            + children
    }
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
    exe: Option<&Path>,
    mut log: impl FnMut(&str),
) -> Result<Report, Error> {
    foldmem::profile::install(false);
    let rows = table(s, |r| {
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
        let shape = bench_shape(Halo2Shape {
            k: domain_k(ops.len()),
        })?;
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

/// Run every row of the side-by-side table, calling `log` with each finished row.
pub fn table(s: Settings, mut log: impl FnMut(&Row)) -> Result<Vec<Row>, Error> {
    let internal = |e: arecibo::errors::NovaError| Error::Internal(e.to_string());
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
        let shape = bench_shape(MerkleShape {
            tree: TreeParams {
                addr_bits: 64,
                arity: 8,
            },
            ops_per_step: k,
        })?;
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
        let shape = bench_shape(MerkleShape {
            tree: TreeParams {
                addr_bits: bits,
                arity: 8,
            },
            ops_per_step: 4,
        })?;
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
    let merkle1 = bench_shape(MerkleShape {
        tree: TreeParams {
            addr_bits: 64,
            arity: 8,
        },
        ops_per_step: 1,
    })?;
    push(
        backend_row("read-heavy: nova merkle k=1", merkle1, 64, &reads, false)?,
        &mut rows,
    );
    let sn = bench_shape(SupernovaShape {
        tree: TreeParams {
            addr_bits: 64,
            arity: 8,
        },
        stack_base: foldmem::machine::programs::STACK_BASE,
        stack_log_depth: 8,
    })?;
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
                bench_shape(OfflineShape { ops_per_step: 128 })?,
                bits,
                &ops,
                bits == 64,
            )?,
            &mut rows,
        );
    }
    // the streaming backend on the same 2^64 trace as the offline rows, compressed
    {
        let shape = bench_shape(StreamShape::default())?;
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
        let shape = bench_shape(Halo2Shape {
            k: domain_k(ops.len()),
        })?;
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
    for r in compression_rows(&synthetic_trace(8, 16, 5), s.ppsnark)? {
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

/// A bench shape (valid by construction: a bug here is an internal error).
fn bench_shape(s: impl Into<foldmem::registry::AnyShape>) -> Result<Shape, Error> {
    Shape::new(s).map_err(Error::internal)
}
