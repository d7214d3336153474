//! `foldmem bench --trace FILE`: the user's own trace proven by several backends side by side,
//! each in a child `foldmem prove - …` that reads the trace from standard input as a zkVM would
//! pipe it (Halo2, which sizes its domain from the file and buffers the whole trace, reads the
//! file), with the child's fold time, compression, proof size and peak memory.

use super::super::kv;
use clap::ValueEnum;
use foldmem::registry::Backend;
use foldmem::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Backends `bench --trace` runs unless told otherwise.
pub const DEFAULT_BACKENDS: &str = "stream,halo2,nova-offline";

/// One backend proving the user's trace in a child process.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RealRow {
    /// Backend name.
    pub backend: String,
    /// Ops proven.
    pub ops: u64,
    /// Folding (Halo2: proving) seconds.
    pub fold_s: f64,
    /// `ops / fold_s`.
    pub ops_per_s: f64,
    /// Folding steps (Halo2: 1, the whole trace at once).
    pub steps: Option<u64>,
    /// Ops per segment (stream).
    pub segment_ops: Option<u64>,
    /// Seconds of key setup (generation or loading).
    pub setup_s: f64,
    /// Seconds of compression.
    pub compress_s: f64,
    /// Proof size.
    pub proof_bytes: u64,
    /// The child's peak resident memory, MiB.
    pub peak_rss_mib: f64,
    /// The child's wall-clock seconds.
    pub wall_s: f64,
}

/// Prove `trace` with each of `backends` in a child process of `exe`, in order, calling `log`
/// as each finishes. Halo2 runs with insecure deterministic parameters (a benchmark, not a
/// proof anyone should accept).
pub fn rows(
    exe: &Path,
    trace: &Path,
    backends: &[String],
    mut log: impl FnMut(&RealRow),
) -> Result<Vec<RealRow>, Error> {
    if !trace.is_file() {
        return Err(Error::Usage(format!(
            "bench --trace {}: not a readable file",
            trace.display()
        )));
    }
    let dir = std::env::temp_dir().join(format!("foldmem-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut out = Vec::new();
    let mut run = || -> Result<(), Error> {
        for b in backends {
            let r = child(exe, trace, b, &dir.join(format!("{b}.proof")))?;
            log(&r);
            out.push(r);
        }
        Ok(())
    };
    let done = run();
    let _ = std::fs::remove_dir_all(&dir);
    done.map(|()| out)
}

fn child(exe: &Path, trace: &Path, backend: &str, proof: &PathBuf) -> Result<RealRow, Error> {
    let mut cmd = Command::new(exe);
    cmd.arg("prove");
    if backend == "halo2" {
        // Halo2 sizes its domain (dev parameters) from the trace file's op count before it
        // proves, and buffers the whole trace anyway: it reads the file
        cmd.arg(trace).arg("--insecure-dev-params");
    } else {
        let stdin = std::fs::File::open(trace).map_err(|e| Error::io(trace, e))?;
        cmd.arg("-").stdin(Stdio::from(stdin));
    }
    cmd.args(["--backend", backend, "-q", "-o"]).arg(proof);
    let t = Instant::now();
    let o = cmd.output().map_err(|e| Error::io(exe, e))?;
    let wall_s = t.elapsed().as_secs_f64();
    if !o.status.success() {
        // the child's error class carries over: a bad trace stays an input error
        let msg = format!(
            "bench --trace: `prove --backend {backend}` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        );
        return Err(match o.status.code() {
            Some(2) => Error::Usage(msg),
            Some(3..=6) => Error::Input(msg),
            Some(7) => Error::Mismatch(msg),
            _ => Error::Internal(msg),
        });
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let f: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once(": ")).collect();
    let num = |k: &str| -> Result<f64, Error> {
        f.get(k).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| {
            Error::Internal(format!(
                "bench --trace: `prove --backend {backend}` printed no {k}"
            ))
        })
    };
    let opt = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok());
    let (ops, fold_s) = (num("ops")? as u64, num("fold_s")?);
    Ok(RealRow {
        backend: backend.into(),
        ops,
        fold_s,
        ops_per_s: ops as f64 / fold_s.max(1e-9),
        steps: opt("steps"),
        segment_ops: opt("segment_ops"),
        setup_s: num("setup_s")?,
        compress_s: num("compress_s")?,
        proof_bytes: num("proof_bytes")? as u64,
        // not printed where /proc does not say
        peak_rss_mib: num("peak_rss_mib").unwrap_or(0.0),
        wall_s,
    })
}

/// Markdown table of the rows, with each row's throughput and memory against Halo2's.
pub fn markdown(rows: &[RealRow]) -> String {
    let halo2 = rows.iter().find(|r| r.backend == "halo2");
    let mut s = String::from(
        "| backend | ops | fold s | ops/s | × halo2 ops/s | steps | segment ops | setup s | compress s | proof B | peak RSS MiB | × halo2 RSS | wall s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".into());
    for r in rows {
        let (x, m) = halo2
            .map(|h| {
                (
                    format!("{:.3}", r.ops_per_s / h.ops_per_s.max(1e-9)),
                    format!("{:.2}", r.peak_rss_mib / h.peak_rss_mib.max(1e-9)),
                )
            })
            .unwrap_or_else(|| ("–".into(), "–".into()));
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {x} | {} | {} | {:.1} | {:.1} | {} | {:.0} | {m} | {:.1} |\n",
            r.backend,
            r.ops,
            r.fold_s,
            r.ops_per_s,
            opt(r.steps),
            opt(r.segment_ops),
            r.setup_s,
            r.compress_s,
            r.proof_bytes,
            r.peak_rss_mib,
            r.wall_s
        ));
    }
    s
}

/// Run `bench --trace`: the rows, a markdown table on standard output, JSON into `out`.
pub fn run(trace: &Path, backends: &[Backend], out: &Path) -> Result<(), Error> {
    if backends.is_empty() {
        return Err(Error::Usage("bench --backends: name at least one".into()));
    }
    let list: Vec<String> = backends
        .iter()
        .filter_map(|b| b.to_possible_value().map(|v| v.get_name().to_string()))
        .collect();
    let exe = std::env::current_exe().map_err(|e| Error::io(Path::new("foldmem"), e))?;
    let t = Instant::now();
    let rows = rows(&exe, trace, &list, |r| {
        eprintln!(
            "{} on {}: {} ops, fold {:.1} s ({:.1} ops/s), peak {:.0} MiB",
            r.backend,
            trace.display(),
            r.ops,
            r.fold_s,
            r.ops_per_s,
            r.peak_rss_mib
        )
    })?;
    let json = serde_json::json!({
        "trace": trace.display().to_string(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "rows": rows,
    });
    std::fs::write(out, serde_json::to_string_pretty(&json).expect("json"))
        .map_err(|e| Error::io(out, e))?;
    print!("{}", markdown(&rows));
    kv("bench_s", format!("{:.1}", t.elapsed().as_secs_f64()));
    kv("json", out.display());
    Ok(())
}
