//! `foldmem verify`: check one proof, or the continuation proofs of one trace's ranges, against
//! what the verifier pins (a key file, shape flags, or only the proof's own validated shape).

use super::{is_stdin, kv, lines, open_trace, read_key_file, read_proof, word_bits, Common};
use clap::Args;
use foldmem::backend::FlagContext;
use foldmem::pipeline;
use foldmem::proof::{Pin, ProofFile};
use foldmem::registry::{Backend, ShapeArgs};
use foldmem::Error;
use std::path::PathBuf;
use std::time::Instant;

/// Verify a proof file and print the statement it proves. Pin what you accept with `--vk` (or
/// the shape flags): otherwise the statement is the default shape of the backend the proof
/// names (any valid shape with `--allow-any-shape`). Several files are the continuation proofs
/// of one trace's ranges, in order (stream).
#[derive(Args)]
pub struct VerifyArgs {
    /// Proof file(s).
    #[arg(required = true)]
    proofs: Vec<PathBuf>,
    /// Also check that the proof covers exactly this trace (`-`: standard input).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Accept only proofs for the shape, word size and keys pinned in this key file (from
    /// `foldmem setup`): any other proof is a parameter mismatch (exit 7).
    #[arg(long)]
    vk: Option<PathBuf>,
    /// Accept only proofs for exactly the shape these flags give `prove` (unset flags take
    /// `prove`'s defaults).
    #[command(flatten)]
    shape: ShapeArgs,
    /// Without a pin, build keys for whatever valid shape the proof names, not only the default
    /// shape of its backend (key generation for a large shape can take minutes and gigabytes).
    #[arg(long)]
    allow_any_shape: bool,
    /// Accept only proofs over this word size.
    #[arg(long, value_parser = word_bits)]
    word_bits: Option<u32>,
    #[command(flatten)]
    common: Common,
}

/// Run `verify`.
pub fn run(a: VerifyArgs) -> Result<(), Error> {
    let all: Vec<ProofFile> = a
        .proofs
        .iter()
        .map(|p| read_proof(p))
        .collect::<Result<_, _>>()?;
    let proof = all.last().expect("clap requires a proof").clone();
    if a.vk.is_some() && a.word_bits.is_some() {
        return Err(Error::Usage(
            "--word-bits: the key file pins the word size; give one or the other".into(),
        ));
    }
    // what the verifier accepts, decided before the proof's own header is used for anything
    let ctx = FlagContext {
        trace: a.trace.as_deref().filter(|p| !is_stdin(p)),
        ops: None,
    };
    let given = !a.shape.shape_flags_given().is_empty();
    let (pin, pinned_by, key) = match &a.vk {
        Some(p) => {
            let pin = read_key_file(p)?.1;
            let sel = a.shape.select(Some(pin.shape), None, &ctx)?;
            (Some(pin), format!("key file {}", p.display()), sel.key)
        }
        None if given || a.word_bits.is_some() => {
            let sel = a.shape.select(None, None, &ctx)?;
            let pin = Pin {
                shape: sel.shape,
                word_bits: a.word_bits,
                digests: None,
            };
            (Some(pin), "shape flags".to_string(), sel.key)
        }
        None => {
            // the proof names its shape: only key options (halo2's parameters) come from flags,
            // and keys are built only for its backend's default shape unless allowed
            let named = all[0].header.shape;
            let sel = a.shape.select(Some(named), None, &ctx)?;
            let pinned_by = if a.shape.is_default(named, &ctx)? {
                format!(
                    "nothing (the default {} shape the proof names)",
                    named.backend()
                )
            } else if a.allow_any_shape {
                "nothing (--allow-any-shape: the proof's own, validated shape)".to_string()
            } else {
                return Err(Error::Mismatch(format!(
                    "the proof names a {} shape other than the default ({}): without a pin, \
                     verify builds keys only for default shapes; pin the shape (--vk, or the \
                     shape flags prove was given), or pass --allow-any-shape{}",
                    named.backend(),
                    named.cache_name(),
                    if ctx.trace.is_none() && named.backend() == Backend::Halo2 {
                        " (halo2's default domain follows the trace's op count: give --trace FILE)"
                    } else {
                        ""
                    }
                )));
            };
            (None, pinned_by, sel.key)
        }
    };
    if let Some(pin) = &pin {
        for (p, path) in all.iter().zip(&a.proofs) {
            pipeline::check_pin(p, pin).map_err(|e| match e {
                Error::Mismatch(m) => Error::Mismatch(format!("{}: {m}", path.display())),
                other => other,
            })?;
        }
    }
    // every part names the same statement shape (checked against the keys below)
    let shape = pin.map(|p| p.shape).unwrap_or(all[0].header.shape);
    let keys = a
        .common
        .verifier_keys(shape, pin.and_then(|p| p.digests), key)?;
    let t = Instant::now();
    let reader = match &a.trace {
        Some(p) => Some(open_trace(p, proof.word_bits())?),
        None => None,
    };
    let r = if all.len() == 1 {
        pipeline::verify_proof(&keys, &proof, reader)
    } else {
        pipeline::verify_parts(&keys, &all, reader)
    };
    match &a.trace {
        Some(p) => r.map_err(|e| e.in_file(p))?,
        None => r?,
    }
    let verify_s = t.elapsed().as_secs_f64();
    kv("valid", true);
    if all.len() > 1 {
        kv("parts", all.len());
        lines(pipeline::parts_statement(&keys, &all));
    } else {
        lines(proof.statement());
    }
    kv(
        "trace",
        match &a.trace {
            Some(p) if is_stdin(p) => "checked against standard input".into(),
            Some(p) => format!("checked against {}", p.display()),
            None => "not given (the statement names the trace by its hash)".into(),
        },
    );
    kv("pinned", pinned_by);
    lines(keys.trust_lines());
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("verify_s", format!("{verify_s:.3}"));
    Ok(())
}
