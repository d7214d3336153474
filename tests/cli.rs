//! CLI tests: `check`, `prove`, `verify` and `demo` through the real binary, with exit codes and
//! one-line, line-numbered errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foldmem"))
}

/// How long one CLI run in these tests may take before it is killed and the test fails naming
/// it (the full-size runs take a few minutes here; a hang must fail, not stall CI).
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(900);

/// Runs a command to completion like `Command::output` (stdin empty, stdout and stderr
/// captured), but kills it and fails the test, naming the command, once it runs longer than
/// `limit` (or its output pipes stay open that long after it exits).
fn output_within(cmd: &mut Command, limit: std::time::Duration) -> Output {
    try_output_within(cmd, limit).unwrap_or_else(|e| panic!("{e}"))
}

/// [`output_within`], returning the failure instead of failing the test.
fn try_output_within(cmd: &mut Command, limit: std::time::Duration) -> Result<Output, String> {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?} did not start: {e}"))?;
    let drain = |mut r: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        rx
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let left = || deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = err.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            return Err(format!(
                "{cmd:?} still running after {limit:?}: killed; its stderr: {}",
                String::from_utf8_lossy(&err)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let pipe = |rx: std::sync::mpsc::Receiver<Vec<u8>>, name: &str| {
        rx.recv_timeout(left())
            .map_err(|_| format!("{cmd:?} exited but its {name} stayed open"))
    };
    Ok(Output {
        status,
        stdout: pipe(out, "stdout")?,
        stderr: pipe(err, "stderr")?,
    })
}

/// The bound on CLI runs works: a run past its limit is killed and the failure names it.
#[test]
fn a_run_past_its_limit_is_killed_and_named() {
    let started = std::time::Instant::now();
    let failed = std::panic::catch_unwind(|| {
        output_within(
            Command::new("sleep").arg("30"),
            std::time::Duration::from_millis(300),
        )
    })
    .expect_err("a 30 s sleep outlived a 0.3 s limit");
    let msg = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("\"sleep\" \"30\" still running after"),
        "{msg}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let o = output_within(
        &mut Command::new("true"),
        std::time::Duration::from_secs(60),
    );
    assert!(o.status.success());
}

/// Runs a command like `Command::output`, within [`RUN_LIMIT`].
trait RunBounded {
    /// The command's output; fails the test if it runs longer than [`RUN_LIMIT`].
    fn run(&mut self) -> Output;
}

impl RunBounded for Command {
    fn run(&mut self) -> Output {
        output_within(self, RUN_LIMIT)
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("foldmem-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// A consistent trace with sparse 34-bit word addresses, from a seeded generator.
fn realistic_trace(n: usize) -> String {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut mem: std::collections::HashMap<u64, u64> = Default::default();
    let mut out = String::new();
    let hot: Vec<u64> = (0..64).map(|i| 0x3_ffff_0000 + i * 37).collect();
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let addr = if x % 5 == 0 {
            0x20_0000 + (x >> 20) % 4096
        } else {
            hot[(x >> 8) as usize % hot.len()]
        };
        if x % 3 == 0 {
            let v = x >> 3;
            mem.insert(addr, v);
            out.push_str(&format!(
                "{{\"op\":\"write\",\"addr\":{addr},\"value\":\"{v}\"}}\n"
            ));
        } else {
            let v = mem.get(&addr).copied().unwrap_or(0);
            out.push_str(&format!(
                "{{\"op\":\"read\",\"addr\":\"{addr:#x}\",\"value\":{v}}}\n"
            ));
        }
    }
    out
}

/// `foldmem verify PROOF [--trace TRACE] --allow-any-shape` with a cache dir (or `--no-cache`
/// for `None`): these tests prove small shapes; the bound on what an unpinned verify builds has
/// its own test.
fn verify(proof: &Path, trace: Option<&Path>, cache: Option<&Path>) -> Output {
    verify_with(proof, trace, cache, &["--allow-any-shape"])
}

/// [`verify`] with extra arguments (pins, Halo2 parameters).
fn verify_with(proof: &Path, trace: Option<&Path>, cache: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("verify").arg(proof).args(args);
    if let Some(t) = trace {
        cmd.arg("--trace").arg(t);
    }
    match cache {
        Some(c) => cmd.arg("--cache-dir").arg(c),
        None => cmd.arg("--no-cache"),
    };
    cmd.run()
}

/// `foldmem prove TRACE -o PROOF ARGS…` with a cache dir (or `--no-cache` for `None`).
fn prove(trace: &Path, proof: &Path, args: &[&str], cache: Option<&Path>) -> Output {
    let mut cmd = bin();
    cmd.arg("prove").arg(trace).arg("-o").arg(proof).args(args);
    match cache {
        Some(c) => cmd.arg("--cache-dir").arg(c),
        None => cmd.arg("--no-cache"),
    };
    cmd.run()
}

/// `o` failed with exit `code` and its stderr names `msg`.
fn assert_exit(o: &Output, code: i32, msg: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(stderr(o).contains(msg), "{}", stderr(o));
}

/// A damaged proof file is refused as invalid (1) or unreadable (5), never accepted.
fn assert_refused(o: &Output) {
    assert!(
        matches!(o.status.code(), Some(1) | Some(5)),
        "{:?} {}",
        o.status,
        stderr(o)
    );
}

/// A copy of `proof` (named `name`) with byte `at(len)` xor-ed with `mask`.
fn flipped(proof: &Path, at: impl FnOnce(usize) -> usize, mask: u8, name: &str) -> PathBuf {
    let mut bytes = std::fs::read(proof).unwrap();
    let i = at(bytes.len());
    bytes[i] ^= mask;
    let f = tmp(name);
    std::fs::write(&f, &bytes).unwrap();
    f
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no `{key}` in {out}"))
}

#[test]
fn check_reports_stats_and_first_bad_line() {
    let t = tmp("good.jsonl");
    std::fs::write(&t, realistic_trace(4096)).unwrap();
    let o = bin().arg("check").arg(&t).run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "ops"), "4096");
    assert_eq!(field(&out, "consistent"), "true");
    let reads: u64 = field(&out, "reads").parse().unwrap();
    let writes: u64 = field(&out, "writes").parse().unwrap();
    assert_eq!(reads + writes, 4096);

    // forge the read on line 57
    let text = realistic_trace(4096);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let idx = (56..).find(|&i| lines[i].contains("\"read\"")).unwrap();
    let v: String = lines[idx]
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('}')
        .to_string();
    let forged = if v == "1" { "2" } else { "1" };
    lines[idx] = lines[idx].replace(&format!(":{v}}}"), &format!(":{forged}}}"));
    let b = tmp("bad.jsonl");
    std::fs::write(&b, lines.join("\n")).unwrap();
    let o = bin().arg("check").arg(&b).run();
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "one-line error: {err}");
    assert!(
        err.contains(&format!("line {}: read of 0x", idx + 1)),
        "{err}"
    );
    assert!(
        err.contains(&format!("returned {forged}, last written {v}")),
        "{err}"
    );
}

/// One bad-input class: a command line (trace and proof files written first), the exit code its
/// class owns, and a fragment of the one-line error.
struct Case {
    class: &'static str,
    trace: &'static str,
    proof: &'static [u8],
    args: &'static [&'static str],
    env: Option<&'static str>,
    code: i32,
    says: &'static str,
}

#[test]
fn malformed_input_classes_have_distinct_exit_codes_and_one_line_errors() {
    const W: &str = "{\"op\":\"write\",\"addr\":1,\"value\":1}\n";
    let mut version2 = foldmem::proof::MAGIC.to_vec();
    version2.extend_from_slice(&[2, 0, 1, 2, 3]);
    let version2: &'static [u8] = version2.leak();
    let cases = [
        Case { class: "malformed JSON", trace: "{\"op\":\"write\",\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: invalid JSON" },
        Case { class: "unknown op", trace: "{\"op\":\"write\",\"addr\":1,\"value\":1}\n{\"op\":\"jump\",\"addr\":1,\"value\":1}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 2: unknown op \"jump\"" },
        Case { class: "missing field", trace: "{\"op\":\"read\",\"addr\":1}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: missing field `value`" },
        Case { class: "value wider than the word", trace: "{\"op\":\"write\",\"addr\":1,\"value\":\"0x100000000\"}\n", proof: b"", args: &["check", "--word-bits", "32", "$T"], env: None, code: 3, says: "line 1: value 4294967296 does not fit in a 32-bit word" },
        Case { class: "address beyond 64 bits", trace: "{\"op\":\"write\",\"addr\":\"0x10000000000000000\",\"value\":1}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: address" },
        Case { class: "address outside the tree", trace: "{\"op\":\"write\",\"addr\":300,\"value\":1}\n", proof: b"", args: &["prove", "--backend", "nova", "--addr-bits", "8", "--arity", "4", "--no-cache", "-o", "$P", "$T"], env: None, code: 3, says: "does not fit in 8 address bits" },
        Case { class: "inconsistent read", trace: "{\"op\":\"write\",\"addr\":1,\"value\":1}\n{\"op\":\"read\",\"addr\":1,\"value\":2}\n", proof: b"", args: &["check", "$T"], env: None, code: 4, says: "line 2: read of 0x1 returned 2, last written 1" },
        Case { class: "missing trace file", trace: W, proof: b"", args: &["check", "/nonexistent/x.jsonl"], env: None, code: 6, says: "/nonexistent/x.jsonl" },
        Case { class: "unknown flag", trace: W, proof: b"", args: &["check", "--frobnicate", "$T"], env: None, code: 2, says: "--frobnicate" },
        Case { class: "word size not offered", trace: W, proof: b"", args: &["check", "--word-bits", "48", "$T"], env: None, code: 2, says: "48" },
        Case { class: "bad option value", trace: W, proof: b"", args: &["prove", "--backend", "nova", "--arity", "3", "-o", "$P", "$T"], env: None, code: 2, says: "--arity: must be one of 2, 4, 8, 16, got 3" },
        Case { class: "ops per step out of range", trace: W, proof: b"", args: &["prove", "--ops-per-step", "0", "-o", "$P", "$T"], env: None, code: 2, says: "--ops-per-step" },
        Case { class: "not a proof file", trace: W, proof: b"not a proof", args: &["verify", "$P"], env: None, code: 5, says: "bad magic" },
        Case { class: "other format version", trace: W, proof: version2, args: &["verify", "$P"], env: None, code: 5, says: "version 2" },
        Case { class: "truncated proof", trace: W, proof: b"FOLDMEM\0\x01\x00\x01", args: &["verify", "$P"], env: None, code: 5, says: "corrupt proof file" },
        Case { class: "missing proof file", trace: W, proof: b"", args: &["verify", "/nonexistent/x.proof"], env: None, code: 6, says: "/nonexistent/x.proof" },
        Case { class: "duplicate key", trace: "{\"op\":\"write\",\"addr\":1,\"value\":1,\"op\":\"read\"}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: duplicate key `op`" },
        Case { class: "float address", trace: "{\"op\":\"write\",\"addr\":1e3,\"value\":1}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: bad addr: 1e3 is not an integer" },
        Case { class: "invalid UTF-8", trace: "{\"op\":\"write\",\"addr\":1,\"value\":1}\n{\"op\":\"wr\u{fffd}\"}\n", proof: b"", args: &["check", "$T"], env: Some("FOLDMEM_TEST_LATIN1"), code: 3, says: "line 2: not valid UTF-8" },
        Case { class: "unknown key", trace: "{\"op\":\"write\",\"addr\":1,\"value\":1,\"Value\":2}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: unknown key `Value`" },
        Case { class: "byte-order mark", trace: "\u{feff}{\"op\":\"write\",\"addr\":1,\"value\":1}\n", proof: b"", args: &["check", "$T"], env: None, code: 3, says: "line 1: byte-order mark" },
        Case { class: "halo2 without parameters", trace: W, proof: b"", args: &["prove", "--backend", "halo2", "-o", "$P", "$T"], env: None, code: 2, says: "--insecure-dev-params" },
        Case { class: "bench of a missing trace", trace: W, proof: b"", args: &["bench", "--trace", "/nonexistent/x.jsonl", "--out", "$P"], env: None, code: 2, says: "bench --trace /nonexistent/x.jsonl: not a readable file" },
        Case { class: "bench backends without a trace", trace: W, proof: b"", args: &["bench", "--backends", "halo2"], env: None, code: 2, says: "--trace" },
        Case { class: "bench of an unknown backend", trace: W, proof: b"", args: &["bench", "--trace", "$T", "--backends", "stream,cairo"], env: None, code: 2, says: "cairo" },
        Case { class: "stack depth 64", trace: W, proof: b"", args: &["prove", "--backend", "supernova", "--stack-log-depth", "64", "-o", "$P", "$T"], env: None, code: 2, says: "--stack-log-depth: must be at most 63, got 64" },
        Case { class: "internal failure", trace: W, proof: b"", args: &["check", "$T"], env: Some("FOLDMEM_INJECT_PANIC"), code: 70, says: "internal error: unexpected panic: injected panic with a second line" },
    ];
    let mut codes = std::collections::BTreeMap::<i32, Vec<&str>>::new();
    for (i, c) in cases.iter().enumerate() {
        let t = tmp(&format!("class{i}.jsonl"));
        let p = tmp(&format!("class{i}.proof"));
        if c.env == Some("FOLDMEM_TEST_LATIN1") {
            // the replacement character stands for one raw byte that is not UTF-8
            let mut raw = c.trace.as_bytes().to_vec();
            let at = c.trace.find('\u{fffd}').unwrap();
            raw.splice(at..at + '\u{fffd}'.len_utf8(), [0xff]);
            std::fs::write(&t, raw).unwrap();
        } else {
            std::fs::write(&t, c.trace).unwrap();
        }
        if !c.proof.is_empty() {
            std::fs::write(&p, c.proof).unwrap();
        }
        let mut cmd = bin();
        for a in c.args {
            match *a {
                "$T" => cmd.arg(&t),
                "$P" => cmd.arg(&p),
                a => cmd.arg(a),
            };
        }
        if let Some(var) = c.env.filter(|v| *v != "FOLDMEM_TEST_LATIN1") {
            cmd.env(var, "1");
        }
        // each class is refused in milliseconds. A run still going after a minute is killed and
        // run once more (a CI run once stalled 80 minutes inside one of these `check`s, which
        // no run here reproduced: 300 runs of it, all instant); a second stall fails the test,
        // naming its command
        let minute = std::time::Duration::from_secs(60);
        let o = try_output_within(&mut cmd, minute).unwrap_or_else(|stalled| {
            // past the test harness's capture, so the CI log shows it even if the rerun passes
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("warning: {}: {stalled}; running it once more\n", c.class).as_bytes(),
            );
            output_within(&mut cmd, minute)
        });
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(c.code), "{}: {err}", c.class);
        assert_eq!(err.lines().count(), 1, "{}: one line, got {err:?}", c.class);
        assert!(err.starts_with("error: "), "{}: {err}", c.class);
        assert!(
            err.contains(c.says),
            "{}: {err:?} lacks {:?}",
            c.class,
            c.says
        );
        codes.entry(c.code).or_default().push(c.class);
    }
    // the classes: 2 usage, 3 malformed trace, 4 inconsistent trace, 5 bad proof file, 6 I/O,
    // 70 internal (1 invalid proof and 7 parameter mismatch need a real proof: see below)
    assert_eq!(
        codes.keys().copied().collect::<Vec<_>>(),
        vec![2, 3, 4, 5, 6, 70]
    );
}

#[test]
fn prove_then_verify_small_depth() {
    let t = tmp("p.jsonl");
    let trace = realistic_trace(6)
        .replace("0x3ffff", "0x3f")
        .replace("0x20", "0x2");
    // small depth: addresses must fit 24 bits
    let trace: String = trace
        .lines()
        .enumerate()
        .map(|(i, _)| {
            if i % 2 == 0 {
                format!(
                    "{{\"op\":\"write\",\"addr\":{},\"value\":{}}}\n",
                    1000 + i,
                    i
                )
            } else {
                format!(
                    "{{\"op\":\"read\",\"addr\":{},\"value\":{}}}\n",
                    999 + i,
                    i - 1
                )
            }
        })
        .collect();
    std::fs::write(&t, &trace).unwrap();
    let p = tmp("p.proof");
    let cache = tmp("cache");
    let shape = [
        "--backend",
        "nova",
        "--addr-bits",
        "24",
        "--arity",
        "8",
        "--ops-per-step",
        "2",
    ];
    let o = prove(&t, &p, &shape, Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "ops"), "6");
    assert_eq!(field(&out, "steps"), "3");
    for key in [
        "constraints_per_op",
        "setup_s",
        "fold_ops_per_s",
        "compress_s",
        "proof_bytes",
    ] {
        let v: f64 = field(&out, key).parse().unwrap();
        assert!(v >= 0.0);
    }
    let o = verify(&p, Some(&t), Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));
    let vout = stdout(&o);
    assert_eq!(field(&vout, "valid"), "true");
    assert_eq!(field(&vout, "trace_hash"), field(&out, "trace_hash"));
    assert_eq!(field(&vout, "final_root"), field(&out, "final_root"));
    // the whole statement the verifier checked
    for (key, want) in [
        ("backend", "nova"),
        ("addr_bits", "24"),
        ("arity", "8"),
        ("ops_per_step", "2"),
        ("word_bits", "64"),
        ("initial_memory", "empty"),
        ("ops", "6"),
    ] {
        assert_eq!(field(&vout, key), want, "{key}");
    }
    for key in [
        "initial_root",
        "params_digest",
        "vk_digest",
        "keys",
        "pinned",
        "trace",
    ] {
        field(&vout, key);
    }

    // pins: the same shape flags as prove accept, other ones are a parameter mismatch (exit 7)
    let o = verify_with(&p, None, Some(&cache), &shape);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "pinned"), "shape flags");
    let o = verify_with(
        &p,
        None,
        Some(&cache),
        &[
            "--backend",
            "nova",
            "--addr-bits",
            "32",
            "--ops-per-step",
            "2",
        ],
    );
    assert_exit(&o, 7, "proof is for addr_bits 24 (expected 32)");
    let o = verify_with(&p, None, Some(&cache), &["--word-bits", "32"]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));

    // a key file from `setup` pins shape, word size and keys; the cache is then trusted
    let vk = tmp("small.vk.json");
    let mut cmd = bin();
    cmd.arg("setup")
        .arg("-o")
        .arg(&vk)
        .args(shape)
        .arg("--cache-dir")
        .arg(&cache);
    let o = cmd.run();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify_with(&p, Some(&t), Some(&cache), &["--vk", vk.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let vout = stdout(&o);
    assert!(field(&vout, "pinned").starts_with("key file"));
    assert_eq!(field(&vout, "keys"), "cache, digests pinned by --vk");
    // a key file for another shape refuses this proof before any setup
    let vk_other = tmp("other.vk.json");
    let mut cmd = bin();
    cmd.arg("setup")
        .arg("-o")
        .arg(&vk_other)
        .args(["--backend", "nova", "--addr-bits", "24", "--arity", "8"])
        .args(["--ops-per-step", "1"])
        .arg("--cache-dir")
        .arg(&cache);
    assert!(cmd.run().status.success());
    let o = verify_with(
        &p,
        None,
        Some(&cache),
        &["--vk", vk_other.to_str().unwrap()],
    );
    assert_exit(&o, 7, "ops_per_step 2 (expected 1)");
    // a key file and shape flags are two pins: refused as a usage error
    let o = verify_with(
        &p,
        None,
        Some(&cache),
        &["--vk", vk.to_str().unwrap(), "--arity", "8"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // a damaged key file is a bad option value
    std::fs::write(&vk_other, "{\"format\":\"foldmem-key-file/1\"}").unwrap();
    let o = verify_with(
        &p,
        None,
        Some(&cache),
        &["--vk", vk_other.to_str().unwrap()],
    );
    assert_exit(&o, 2, "not a usable foldmem key file");

    // flipped byte
    let f = flipped(&p, |n| n - 100, 0x10, "flipped.proof");
    let o = verify(&f, None, Some(&cache));
    assert_refused(&o);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));

    // params digest in the header changed: the proof names other parameters (exit 7)
    let bytes = std::fs::read(&p).unwrap();
    let header = foldmem::proof::ProofFile::from_bytes(&bytes)
        .unwrap()
        .header;
    let digest_at = bincode::serialized_size(&header).unwrap() as usize - 32;
    let f = flipped(&p, |_| digest_at, 0x01, "digest.proof");
    let o = verify(&f, None, Some(&cache));
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: parameter mismatch: proof is for params_digest"),
        "{}",
        stderr(&o)
    );

    // truncated (the first half, which the flip above does not reach)
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    let o = verify(&f, None, Some(&cache));
    assert_exit(&o, 5, "corrupt proof file");

    // another trace
    let other = tmp("other.jsonl");
    std::fs::write(
        &other,
        trace.replacen("\"value\":0}", "\"value\":7}", 1).replacen(
            "\"value\":0}",
            "\"value\":7}",
            1,
        ),
    )
    .unwrap();
    let o = verify(&p, Some(&other), Some(&cache));
    assert_exit(&o, 1, "trace hash");
}

#[test]
fn a_piped_trace_is_read_once_by_verify_and_range_needs_a_file() {
    // a proof of the empty trace, checked against a non-empty, inconsistent trace fed through a
    // pipe with shape flags: the verifier used to read the pipe once to count ops, then hash what
    // was left (nothing) and accept
    let (empty, proof, cache) = (
        tmp("pipe-empty.jsonl"),
        tmp("pipe.proof"),
        tmp("cache-pipe"),
    );
    std::fs::write(&empty, "").unwrap();
    let shape = [
        "--backend",
        "nova",
        "--addr-bits",
        "24",
        "--arity",
        "8",
        "--ops-per-step",
        "2",
    ];
    let o = prove(&empty, &proof, &shape, Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "ops"), "0");
    let bad = "{\"op\":\"write\",\"addr\":1000,\"value\":5}\n\
               {\"op\":\"read\",\"addr\":1000,\"value\":7}\n";
    let mut cmd = bin();
    cmd.arg("verify")
        .arg(&proof)
        .args(shape)
        .args(["--trace", "/dev/stdin", "--cache-dir"])
        .arg(&cache)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(bad.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success(), "accepted: {}", stdout(&o));
    assert!(!stdout(&o).contains("valid: true"), "{}", stdout(&o));
    // --range on a trace it cannot count is a usage error, not a proof of no ops
    let o = prove(
        Path::new("/dev/null"),
        &tmp("pipe-range.proof"),
        &["--backend", "stream", "--range", "0/1"],
        Some(&cache),
    );
    assert_exit(&o, 2, "--range needs a regular");
}

#[test]
fn a_zero_segment_length_is_refused_and_others_round_up_to_whole_steps() {
    let (t, cache) = (tmp("seg-len.jsonl"), tmp("cache-seg-len"));
    std::fs::write(&t, realistic_trace(40)).unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    // 0 is not "the default" on the command line
    let o = prove(
        &t,
        &tmp("seg-len.proof"),
        &["--segment-ops", "0"],
        Some(&cache),
    );
    assert_exit(&o, 2, "--segment-ops must be positive, got 0");
    // refused before the keys: nothing was generated or written to the cache
    assert!(!cache.exists(), "keys were set up before the usage error");
    // 10 ops at 8 ops per step round up to 16: the plan's ranges follow the rounded length
    let o = bin()
        .arg("plan")
        .arg(&t)
        .args([
            "--ranges",
            "2",
            "--ops-per-step",
            "8",
            "--segment-ops",
            "10",
        ])
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "segment_ops"), "16");
    assert!(
        field(&out, "range 1/2").starts_with("ops 17..40 start_time 16"),
        "{out}"
    );
}

#[test]
fn demo_runs_and_emits_a_provable_trace() {
    let t = tmp("demo.jsonl");
    let o = bin()
        .args([
            "demo",
            "--words",
            "3",
            "--ops",
            "9",
            "--backend",
            "nova",
            "--addr-bits",
            "40",
            "--arity",
            "4",
            "--ops-per-step",
            "3",
            "--no-cache",
            "--emit-trace",
        ])
        .arg(&t)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "valid"), "true");
    assert_eq!(field(&out, "ops"), "9");
    let o = bin().arg("check").arg(&t).run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "ops"), "9");
}

#[test]
fn offline_backend_full_size_prove_verify_and_reject() {
    // default shape (k = 128) on the demo program's trace
    let t = tmp("offline.jsonl");
    let o = bin()
        .args([
            "demo",
            "--words",
            "12",
            "--backend",
            "nova-offline",
            "--no-cache",
            "--emit-trace",
        ])
        .arg(&t)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "backend"), "nova-offline");
    assert_eq!(field(&out, "valid"), "true");
    let cpo: f64 = field(&out, "constraints_per_op").parse().unwrap();
    assert!(cpo <= 500.0, "offline constraints per op {cpo}");

    let p = tmp("offline.proof");
    let cache = tmp("offline-cache");
    let o = prove(
        &t,
        &p,
        &["--backend", "nova-offline", "--ops-per-step", "16"],
        Some(&cache),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify(&p, Some(&t), Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "backend"), "nova-offline");

    let f = flipped(&p, |n| n / 2, 0x04, "offline-flipped.proof");
    let o = verify(&f, None, Some(&cache));
    assert_refused(&o);

    // a trace with one value changed is not the proven one
    let text = std::fs::read_to_string(&t).unwrap();
    let other = tmp("offline-other.jsonl");
    let last = text.lines().last().unwrap().to_string();
    let changed: String = text.lines().map(|l| if l == last { l.replace("\"read\"", "\"write\"") } else { l.to_string() } + "\n").collect();
    std::fs::write(&other, changed).unwrap();
    let o = verify(&p, Some(&other), Some(&cache));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn supernova_backend_full_size_with_push_pop() {
    // 2^64 words; the demo program pushes and pops its loop counter
    let t = tmp("sn.jsonl");
    let cache = tmp("sn-cache");
    let o = bin()
        .args([
            "demo",
            "--backend",
            "supernova",
            "--words",
            "3",
            "--cache-dir",
        ])
        .arg(&cache)
        .arg("--emit-trace")
        .arg(&t)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "backend"), "supernova");
    assert_eq!(field(&out, "valid"), "true");
    let text = std::fs::read_to_string(&t).unwrap();
    assert!(
        text.contains("\"push\"") && text.contains("\"pop\""),
        "trace has stack ops"
    );
    let c = field(&out, "opcode_constraints").to_string();
    let num = |k: &str| -> f64 {
        c.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(num("read") < 0.55 * num("write"), "{c}");

    let p = tmp("sn.proof");
    let o = prove(&t, &p, &["--backend", "supernova"], Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify(&p, Some(&t), Some(&cache));
    assert!(o.status.success(), "{}", stderr(&o));

    // flipped byte
    let f = flipped(&p, |n| n / 3, 0x20, "sn-flipped.proof");
    let o = verify(&f, None, Some(&cache));
    assert_refused(&o);

    // a pop turned into a read is another op stream
    let other = tmp("sn-other.jsonl");
    std::fs::write(&other, text.replacen("\"pop\"", "\"read\"", 1)).unwrap();
    let o = verify(&p, Some(&other), Some(&cache));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // a pop below the stack base is refused by the honest prover, naming the line
    let bad = tmp("sn-bad.jsonl");
    std::fs::write(
        &bad,
        format!(
            "{{\"op\":\"pop\",\"addr\":{},\"value\":0}}\n",
            foldmem::machine::programs::STACK_BASE
        ),
    )
    .unwrap();
    let o = prove(
        &bad,
        &tmp("x.proof"),
        &["--backend", "supernova"],
        Some(&cache),
    );
    assert_exit(&o, 3, "line 1: pop from an empty stack");
}

#[test]
fn halo2_backend_prove_verify_and_reject() {
    let t = tmp("h2.jsonl");
    let o = bin()
        .args([
            "demo",
            "--backend",
            "halo2",
            "--insecure-dev-params",
            "--words",
            "12",
            "--no-cache",
            "--emit-trace",
        ])
        .arg(&t)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "valid"), "true");
    let p = tmp("h2.proof");
    // no KZG parameters chosen: refused, saying why
    let o = prove(&t, &p, &["--backend", "halo2"], None);
    assert_exit(&o, 2, "--insecure-dev-params");
    let dev = ["--insecure-dev-params"];
    let o = prove(&t, &p, &["--backend", "halo2", dev[0]], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify(&p, Some(&t), None);
    assert_exit(&o, 2, "--params FILE");
    let o = verify_with(&p, Some(&t), None, &dev);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field(&stdout(&o), "backend"), "halo2");
    assert_eq!(
        field(&stdout(&o), "params"),
        "insecure-dev (anyone can forge)"
    );
    // ceremony parameters that are not KZG parameters: a bad option value
    let junk = tmp("junk.params");
    std::fs::write(&junk, b"not parameters").unwrap();
    let o = verify_with(&p, Some(&t), None, &["--params", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // the trace is the public input
    let o = verify_with(&p, None, None, &[dev[0], "--allow-any-shape"]);
    assert_exit(&o, 1, "--trace");
    let f = flipped(&p, |n| n - 200, 0x08, "h2-flipped.proof");
    let o = verify_with(&f, Some(&t), None, &dev);
    assert_refused(&o);
    // bench --trace: the same trace proven in a child `prove -`, its row and JSON
    let (json, cache) = (tmp("h2-bench.json"), tmp("h2-bench-cache"));
    let o = bin()
        .args(["bench", "--backends", "halo2", "--trace"])
        .arg(&t)
        .arg("--out")
        .arg(&json)
        .env("FOLDMEM_CACHE", &cache)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    let ops = std::fs::read_to_string(&t).unwrap().lines().count();
    assert!(
        stdout(&o).contains(&format!("| halo2 | {ops} |")),
        "{}",
        stdout(&o)
    );
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(j["rows"][0]["backend"], "halo2");
    assert_eq!(j["rows"][0]["ops"], ops as u64);
    assert!(j["rows"][0]["peak_rss_mib"].as_f64().unwrap() > 0.0);
    let other = tmp("h2-other.jsonl");
    let text = std::fs::read_to_string(&t).unwrap();
    std::fs::write(&other, text.replacen("\"write\"", "\"read\"", 1)).unwrap();
    let o = verify_with(&p, Some(&other), None, &dev);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn a_header_with_an_unsupported_shape_is_refused_before_any_setup() {
    // the forging prover's proof of an inconsistent trace under a 65-bit header (it verified
    // before shapes were validated: tests/shape_attack.rs)
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (p, t) = (
        dir.join("forged-addr-bits-65.proof"),
        dir.join("forged-addr-bits-65.jsonl"),
    );
    let cache = tmp("shape-cache");
    let o = verify(&p, Some(&t), Some(&cache));
    assert_exit(
        &o,
        5,
        "unsupported shape: addr_bits: must be in 1..=64, got 65",
    );
    // no keys were made for it (setup writes its keys to the cache)
    assert!(!cache.exists(), "setup ran for an unsupported shape");
}

#[test]
fn stream_survives_kill_9_resumes_and_splits_across_processes() {
    let shape = [
        "--backend",
        "stream",
        "--ops-per-step",
        "8",
        "--boundary-slots",
        "4",
        "--time-bits",
        "16",
        "--segment-ops",
        "16",
    ];
    let t = tmp("st.jsonl");
    let o = bin()
        .args([
            "demo",
            "--ops",
            "96",
            "--backend",
            "nova",
            "--addr-bits",
            "40",
            "--no-cache",
            "-q",
            "--emit-trace",
        ])
        .arg(&t)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));

    // a prover with checkpoints, killed with SIGKILL after its first complete segment
    let ck = tmp("st-ck");
    let _ = std::fs::remove_dir_all(&ck);
    let p = tmp("st.proof");
    let mut child = bin()
        .arg("prove")
        .arg(&t)
        .arg("-o")
        .arg(&p)
        .args(shape)
        .arg("--no-cache")
        .arg("--checkpoint")
        .arg(&ck)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let file = ck.join("checkpoint.bin");
    let start = std::time::Instant::now();
    while !file.exists() {
        assert!(start.elapsed().as_secs() < 600, "no checkpoint written");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!p.exists(), "killed before finishing");
    // resumed with the same trace and options: the final proof verifies
    let o = prove(
        &t,
        &p,
        &[
            &shape[..],
            &[
                "--checkpoint",
                ck.to_str().unwrap(),
                "--resume",
                ck.to_str().unwrap(),
            ],
        ]
        .concat(),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify(&p, Some(&t), None);
    assert!(o.status.success(), "{}", stderr(&o));
    // resuming with another segment length is refused before any folding
    let o = prove(
        &t,
        &tmp("st-seg.proof"),
        &[
            &shape[..8],
            &["--segment-ops", "8", "--resume", ck.to_str().unwrap()],
        ]
        .concat(),
        None,
    );
    assert_exit(&o, 2, "resume with --segment-ops 16");
    assert!(!tmp("st-seg.proof").exists());
    // the trace on standard input (`--trace -`), and another trace there
    let verify_stdin = |input: &Path| {
        let mut child = bin()
            .arg("verify")
            .arg(&p)
            .args(["--trace", "-", "--no-cache", "--allow-any-shape"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(input).unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let o = verify_stdin(&t);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        field(&stdout(&o), "trace"),
        "checked against standard input"
    );
    // without a pin or --allow-any-shape, a non-default shape gets no keys built for it
    let fresh = tmp("st-unpinned-cache");
    let o = verify_with(&p, Some(&t), Some(&fresh), &[]);
    assert_exit(&o, 7, "other than the default");
    assert!(!fresh.exists(), "keys were built for the proof's own shape");
    // a resumed run fed another prefix is refused; fed another tail, it proves that other
    // trace, which the original does not verify against
    let text = std::fs::read_to_string(&t).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let other_prefix = tmp("st-prefix.jsonl");
    std::fs::write(
        &other_prefix,
        format!(
            "{{\"op\":\"read\",\"addr\":5,\"value\":0}}\n{}\n",
            lines[1..].join("\n")
        ),
    )
    .unwrap();
    let o = prove(
        &other_prefix,
        &tmp("x.proof"),
        &[&shape[..], &["--resume", ck.to_str().unwrap()]].concat(),
        None,
    );
    assert_exit(&o, 3, "not the ones the checkpoint proved");
    let other_tail = tmp("st-tail.jsonl");
    let mut tail: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    tail.push("{\"op\":\"write\",\"addr\":77,\"value\":1}".into());
    std::fs::write(&other_tail, tail.join("\n") + "\n").unwrap();
    let q = tmp("st-tail.proof");
    let o = prove(
        &other_tail,
        &q,
        &[&shape[..], &["--resume", ck.to_str().unwrap()]].concat(),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(verify(&q, Some(&other_tail), None).status.success());
    assert_eq!(verify(&q, Some(&t), None).status.code(), Some(1));

    // continuations: plan, two ranges proven by two processes at once, one verify
    let o = bin()
        .arg("plan")
        .arg(&t)
        .args(["--ranges", "2"])
        .args(shape)
        .run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        field(&stdout(&o), "range 1/2").starts_with("ops 49..96 start_time 48"),
        "{}",
        stdout(&o)
    );
    let (p0, p1) = (tmp("st-part0.proof"), tmp("st-part1.proof"));
    // both range provers checkpoint into one directory: each writes its own file
    let shared = tmp("st-shared-ck");
    let _ = std::fs::remove_dir_all(&shared);
    let spawn = |i: usize, out: &Path| {
        bin()
            .arg("prove")
            .arg(&t)
            .arg("-o")
            .arg(out)
            .args(shape)
            .args(["--range", &format!("{i}/2"), "--no-cache", "-q"])
            .arg("--checkpoint")
            .arg(&shared)
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(0, &p0), spawn(1, &p1));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    for i in 0..2 {
        let f = shared.join(format!("checkpoint-range-{i}-of-2.bin"));
        assert!(f.exists(), "{} missing", f.display());
    }
    // a range resumed with another segment length, or from another range's file: refused
    let o = prove(
        &t,
        &tmp("st-r1.proof"),
        &[
            &shape[..8],
            &["--segment-ops", "8", "--range", "1/2", "--resume"],
            &[shared.to_str().unwrap()],
        ]
        .concat(),
        None,
    );
    assert_exit(&o, 2, "resume with --segment-ops 16");
    std::fs::rename(
        shared.join("checkpoint-range-0-of-2.bin"),
        shared.join("checkpoint-range-1-of-2.bin"),
    )
    .unwrap();
    let o = prove(
        &t,
        &tmp("st-r1.proof"),
        &[
            &shape[..],
            &["--range", "1/2", "--resume"],
            &[shared.to_str().unwrap()],
        ]
        .concat(),
        None,
    );
    assert_exit(&o, 2, "written by the run of range 0/2, not of range 1/2");
    // the parts, pinned by the shape flags prove was given
    let mut cmd = bin();
    cmd.arg("verify")
        .arg(&p0)
        .arg(&p1)
        .args(&shape[..8])
        .arg("--trace")
        .arg(&t)
        .arg("--no-cache");
    let o = cmd.run();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(field(&out, "parts"), "2");
    assert_eq!(field(&out, "ops"), "96");
    assert_eq!(field(&out, "pinned"), "shape flags");
    // in the wrong order, or one part alone, they prove nothing
    let mut cmd = bin();
    cmd.arg("verify")
        .arg(&p1)
        .arg(&p0)
        .args(&shape[..8])
        .arg("--no-cache");
    assert_eq!(cmd.run().status.code(), Some(1));
    assert_eq!(verify(&p1, None, None).status.code(), Some(1));
}
