//! Benchmark rows of the streaming backend: where a fold step's time goes for op steps of
//! `k` slots (with the cost model fitted to it), the real-program-shaped trace against
//! `nova-offline` in the same run, and peak memory measured in a child process per row.

use super::super::peak_rss_mib;
use foldmem::backend::KeyOptions;
use foldmem::backends::offline::{OfflineShape, DEFAULT_OPS_PER_STEP};
use foldmem::backends::stream::{StreamKeys, StreamOptions, StreamProver, StreamShape};
use foldmem::folding::{r1cs_num_cons, supernova_secondary_constraints};
use foldmem::pipeline;
use foldmem::registry::Shape;
use foldmem::trace::gen::{program_trace, ProgramTrace};
use foldmem::Error;
use std::time::Instant;

/// One op-step breakdown row: the op circuit at `k` slots.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Breakdown {
    /// Op slots per step.
    pub k: usize,
    /// Primary constraints of the op step (folding verifier included).
    pub primary_constraints: usize,
    /// Witness variables of the op step's primary circuit.
    pub primary_vars: usize,
    /// Secondary-circuit constraints (the same for every step kind).
    pub secondary_constraints: usize,
    /// `primary / k`.
    pub constraints_per_op: f64,
    /// `(primary + secondary) / k`.
    pub effective_constraints_per_op: f64,
    /// Milliseconds per op step: whole, secondary fold, witness, primary fold, secondary circuit.
    pub step_ms: [f64; 5],
    /// Op-step folding throughput.
    pub op_ops_per_s: f64,
    /// Seconds to compress a proof with these circuits.
    pub compress_s: f64,
    /// Compressed proof size.
    pub proof_bytes: usize,
    /// Seconds to verify it.
    pub verify_s: f64,
    /// Seconds of setup (parameters and compression keys).
    pub setup_s: f64,
    /// Size of the public parameters and prover key, MiB (what a prover holds in memory).
    pub prover_key_mib: f64,
}

/// Second field of an R1CS shape's encoding: its witness-variable count.
fn r1cs_num_vars<E: arecibo::traits::Engine>(s: &arecibo::r1cs::R1CSShape<E>) -> usize {
    let b = bincode::serialize(s).unwrap_or_default();
    b.get(8..16)
        .map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")) as usize)
        .unwrap_or(0)
}

/// Fold `steps` op steps of `k` slots (one segment of a real-program-shaped trace), timed per
/// part (all but the first, which arecibo synthesizes without folding), then compress and
/// verify.
pub fn op_step_breakdown(k: usize, steps: usize) -> Result<Breakdown, Error> {
    let shape = StreamShape {
        ops_per_step: k,
        ..StreamShape::default()
    };
    let t = Instant::now();
    let keys = pipeline::keys(
        Shape::new(shape).map_err(Error::internal)?,
        &KeyOptions::none(),
    )?;
    let setup_s = t.elapsed().as_secs_f64();
    let st = keys
        .downcast::<StreamKeys>()
        .ok_or_else(|| Error::internal("stream keys"))?;
    let op_shape = st.keys.pp.primary_r1cs_shapes()[foldmem::backends::stream::circuit::OP];
    let primary = r1cs_num_cons(op_shape);
    let vars = r1cs_num_vars(op_shape);
    let secondary = supernova_secondary_constraints(&st.keys.pp);
    let prover_key_mib = (bincode::serialized_size(&st.keys.pp).unwrap_or(0)
        + bincode::serialized_size(&st.keys.pk).unwrap_or(0)) as f64
        / (1u64 << 20) as f64;
    let ops = program_trace(k * steps, 11);
    foldmem::profile::start();
    let opts = StreamOptions {
        segment_ops: k * steps,
        ..StreamOptions::default()
    };
    let mut p = StreamProver::new(st, 64, &opts)?;
    for (i, op) in ops.iter().enumerate() {
        p.push(i + 1, op)?;
    }
    let f = p.finish(true)?;
    let times = foldmem::profile::take();
    let op = times.get("op").copied().unwrap_or_default();
    let step_ms = op.per_step_ms();
    let t = Instant::now();
    let c = st.keys.compress(&f.snark)?;
    let compress_s = t.elapsed().as_secs_f64();
    let proof_bytes = bincode::serialized_size(&c).unwrap_or(0) as usize;
    let t = Instant::now();
    foldmem::backends::stream::verify_compressed(st, &c, &f.outputs)?;
    Ok(Breakdown {
        k,
        primary_constraints: primary,
        primary_vars: vars,
        secondary_constraints: secondary,
        constraints_per_op: primary as f64 / k as f64,
        effective_constraints_per_op: (primary + secondary) as f64 / k as f64,
        step_ms,
        op_ops_per_s: k as f64 * 1000.0 / step_ms[0].max(1e-9),
        compress_s,
        proof_bytes,
        verify_s: t.elapsed().as_secs_f64(),
        setup_s,
        prover_key_mib,
    })
}

/// The cost model fitted to breakdown rows by least squares: milliseconds per step
/// `= fixed + per_constraint·primary_constraints` (the secondary is part of the fixed cost).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct CostModel {
    /// Fixed milliseconds per step (folding verifier and secondary circuit included).
    pub fixed_ms: f64,
    /// Microseconds per primary constraint of the step circuit.
    pub us_per_constraint: f64,
    /// Microseconds per primary witness variable (the same fit over variables).
    pub us_per_var: f64,
}

/// Fit [`CostModel`] to breakdown rows (at least two).
pub fn fit(rows: &[Breakdown]) -> Option<CostModel> {
    let line = |xs: Vec<f64>| -> Option<(f64, f64)> {
        let n = rows.len() as f64;
        let ys: Vec<f64> = rows.iter().map(|r| r.step_ms[0]).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        (rows.len() >= 2 && sxx > 0.0).then(|| {
            let slope = sxy / sxx;
            (my - slope * mx, slope)
        })
    };
    let (fixed_ms, per_c) = line(rows.iter().map(|r| r.primary_constraints as f64).collect())?;
    let (_, per_v) = line(rows.iter().map(|r| r.primary_vars as f64).collect())?;
    Some(CostModel {
        fixed_ms,
        us_per_constraint: per_c * 1000.0,
        us_per_var: per_v * 1000.0,
    })
}

/// Markdown table of breakdown rows and the fitted model.
pub fn breakdown_markdown(rows: &[Breakdown]) -> String {
    let mut s = String::from(
        "| k | constraints/op | effective/op | ms/step | secondary fold | witness | primary fold | secondary circuit | op ops/s | compress s | proof B | verify s | setup s | prover key MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let [t, a, b, c, d] = r.step_ms;
        s.push_str(&format!(
            "| {} | {:.0} | {:.0} | {t:.0} | {a:.0} | {b:.0} | {c:.0} | {d:.0} | {:.0} | {:.2} | {} | {:.3} | {:.1} | {:.0} |\n",
            r.k,
            r.constraints_per_op,
            r.effective_constraints_per_op,
            r.op_ops_per_s,
            r.compress_s,
            r.proof_bytes,
            r.verify_s,
            r.setup_s,
            r.prover_key_mib
        ));
    }
    if let Some(m) = fit(rows) {
        s.push_str(&format!(
            "\nCost model (least squares over the rows): ms per fold step ≈ {:.0} + {:.2} µs × \
             primary constraints (≈ {:.2} µs per primary witness variable).\n",
            m.fixed_ms, m.us_per_constraint, m.us_per_var
        ));
    }
    s
}

/// What a child process measures: one backend folding a real-program-shaped trace.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChildRow {
    /// `stream` or `nova-offline`.
    pub backend: String,
    /// Ops.
    pub ops: usize,
    /// Folding seconds.
    pub fold_s: f64,
    /// Folding steps.
    pub steps: usize,
    /// Boundary slots per op (stream).
    pub boundary_slots_per_op: f64,
    /// The child's peak resident memory, MiB.
    pub peak_rss_mib: f64,
    /// Ops per second.
    pub ops_per_s: f64,
}

/// Run one [`ChildRow`] in this process (the body of `foldmem bench-row`): fold a
/// real-program-shaped trace of `ops` ops with the backend's default shape, segment by segment
/// for `stream` (the trace is generated as it is folded), buffered for `nova-offline`.
pub fn child_row(backend: &str, ops: usize) -> Result<ChildRow, Error> {
    let (fold_s, steps, slots) = match backend {
        "stream" => {
            let keys = pipeline::keys(
                Shape::new(StreamShape::default()).map_err(Error::internal)?,
                &KeyOptions::none(),
            )?;
            let st = keys
                .downcast::<StreamKeys>()
                .ok_or_else(|| Error::internal("stream keys"))?;
            let t = Instant::now();
            let mut p = StreamProver::new(st, 64, &StreamOptions::default())?;
            let mut boundary = 0usize;
            // the trace arrives a segment at a time (as from a running program), never whole
            let chunk = StreamProver::segment_len(st.shape.ops_per_step, None)?;
            let mut done = 0;
            let mut gen = ProgramTrace::new(11);
            while done < ops {
                let n = chunk.min(ops - done);
                let part: Vec<foldmem::Op> = gen.by_ref().take(n).collect();
                boundary += part
                    .iter()
                    .map(|o| o.addr)
                    .collect::<std::collections::HashSet<_>>()
                    .len();
                for (i, op) in part.iter().enumerate() {
                    p.push(done + i + 1, op)?;
                }
                done += n;
            }
            let f = p.finish(true)?;
            (
                t.elapsed().as_secs_f64(),
                f.steps,
                boundary as f64 / ops as f64,
            )
        }
        "nova-offline" => {
            let shape = OfflineShape {
                ops_per_step: DEFAULT_OPS_PER_STEP,
            };
            let keys = pipeline::keys(
                Shape::new(shape).map_err(Error::internal)?,
                &KeyOptions::none(),
            )?;
            let trace = program_trace(ops, 11);
            let r = pipeline::fold_stream(&keys, 64, foldmem::trace::numbered(&trace))?;
            (r.fold_s, r.steps, 0.0)
        }
        other => return Err(Error::Usage(format!("bench-row: unknown backend {other}"))),
    };
    Ok(ChildRow {
        backend: backend.into(),
        ops,
        fold_s,
        steps,
        boundary_slots_per_op: slots,
        peak_rss_mib: peak_rss_mib(),
        ops_per_s: ops as f64 / fold_s.max(1e-9),
    })
}

/// Run [`child_row`] in a child process (`exe bench-row BACKEND OPS`) and read its JSON line:
/// the peak memory is the child's own, not this process's high-water mark.
pub fn in_child(exe: &std::path::Path, backend: &str, ops: usize) -> Result<ChildRow, Error> {
    let out = std::process::Command::new(exe)
        .args(["bench-row", backend, &ops.to_string()])
        .output()
        .map_err(|e| Error::io(exe, e))?;
    if !out.status.success() {
        return Err(Error::Internal(format!(
            "bench-row {backend} {ops}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Internal(format!("bench-row output: {e}")))
}
