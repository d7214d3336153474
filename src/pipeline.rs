//! End-to-end jobs shared by the CLI, examples and tests: keys for a shape (with an on-disk cache
//! the verifier only trusts when it can vouch for it), proving a trace stream into a
//! [`ProofFile`], pinning the statement and verifying one. Backends are reached only through the
//! registry's [`System`].

use crate::backend::{KeyOptions, KeySource, Lines, Own, Progress, ProveReport, TraceItem};
use crate::digest::{hex, KeyDigests};
use crate::error::Error;
use crate::proof::{Header, Pin, ProofFile, FORMAT_VERSION, MAGIC};
use crate::registry::{Body, Shape, System};
use std::time::Instant;

/// Keys of one shape, with how they were obtained. Load them once and verify many proofs with
/// them (a verifier service): loading and digesting keys is most of a one-proof `verify`.
pub struct Keys {
    /// The backend's keys (private: [`Keys::digests`] are theirs, computed once).
    system: Box<dyn System>,
    /// Seconds spent generating or loading them.
    pub setup_s: f64,
    /// Where they came from.
    pub source: KeySource,
    /// Their digests, computed once while the keys were made or loaded (hashing a verifier
    /// key's encoding takes seconds, and a verify needs the digests several times).
    digests: KeyDigests,
}

impl Keys {
    /// The backend's keys.
    pub fn system(&self) -> &dyn System {
        &*self.system
    }
    /// Shape they were made for.
    pub fn shape(&self) -> Shape {
        self.system.shape()
    }
    /// Digest of the public parameters (written into proof headers).
    pub fn digest(&self) -> [u8; 32] {
        self.digests.params
    }
    /// Digests of the parameters and verifier key.
    pub fn digests(&self) -> KeyDigests {
        self.digests
    }
    /// True if they came from the cache.
    pub fn cached(&self) -> bool {
        self.source != KeySource::Generated
    }
    /// Primary-circuit constraints per op, folding verifier included (0 for Halo2).
    pub fn constraints_per_op(&self) -> f64 {
        self.system.constraints_per_op().unwrap_or(0.0)
    }
    /// The backend's concrete keys (tests, benchmarks).
    pub fn downcast<T: 'static>(&self) -> Option<&T> {
        self.system.as_any().downcast_ref::<T>()
    }
    /// Where trust in the keys comes from, as statement lines.
    pub fn trust_lines(&self) -> Lines {
        let d = self.digests();
        let mut v = vec![
            ("params_digest", hex(&d.params)),
            ("vk_digest", hex(&d.vk)),
            ("keys", self.source.to_string()),
        ];
        v.extend(self.system.trust_lines());
        v
    }
}

/// Keys for `shape` (see [`crate::cache::cached`] for when the cache is used).
pub fn keys(shape: Shape, opts: &KeyOptions) -> Result<Keys, Error> {
    // a `Shape` taken from hand-built keys ([`crate::registry::System::shape`]) is checked again
    let shape = Shape::new(*shape.get())?;
    let t = Instant::now();
    let loaded = shape.keys(opts)?;
    Ok(Keys {
        system: loaded.system,
        setup_s: t.elapsed().as_secs_f64(),
        source: loaded.source,
        digests: loaded.digests,
    })
}

/// Prove an op stream (`(index, op)` pairs, e.g. from a [`crate::trace::TraceReader`]) with the
/// backend's default run options. `on_op` is called with the number of ops proven so far (for
/// progress display).
pub fn prove_stream<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    mut on_op: impl FnMut(u64),
) -> Result<(ProofFile, ProveReport), Error>
where
    I: IntoIterator<Item = TraceItem>,
{
    prove_with(keys, word_bits, ops, &Own::none(), |p| on_op(p.ops))
}

/// [`prove_stream`] with the backend's run options (`run`: the stream backend's
/// [`crate::backends::stream::StreamRun`], segments, checkpoints, resumption and ranges);
/// `progress` sees ops and segments proven.
pub fn prove_with<I>(
    keys: &Keys,
    word_bits: u32,
    ops: I,
    run: &Own,
    mut progress: impl FnMut(Progress),
) -> Result<(ProofFile, ProveReport), Error>
where
    I: IntoIterator<Item = TraceItem>,
{
    if !crate::trace::WORD_BITS.contains(&word_bits) {
        return Err(Error::Usage(format!(
            "word size must be 32, 64 or 256, got {word_bits}"
        )));
    }
    let (body, mut report) =
        keys.system
            .prove(word_bits, &mut ops.into_iter(), &mut progress, true, run)?;
    let body = body.ok_or_else(|| Error::internal("the backend returned no proof"))?;
    let shape = keys.shape();
    let file = ProofFile {
        header: Header {
            magic: MAGIC,
            version: FORMAT_VERSION,
            backend: shape.backend(),
            shape,
            params_digest: keys.digest(),
        },
        body,
    };
    report.proof_bytes = file.to_bytes().len();
    Ok((file, report))
}

/// Fold an op stream without compressing (benchmarks): the report of the folding.
pub fn fold_stream<I>(keys: &Keys, word_bits: u32, ops: I) -> Result<ProveReport, Error>
where
    I: IntoIterator<Item = TraceItem>,
{
    Ok(keys
        .system
        .prove(
            word_bits,
            &mut ops.into_iter(),
            &mut |_| {},
            false,
            &Own::none(),
        )?
        .1)
}

/// `Ok` if the proof's header and claim are what `pin` allows; otherwise a parameter mismatch
/// (exit 7) naming every field that differs.
pub fn check_pin(proof: &ProofFile, pin: &Pin) -> Result<(), Error> {
    // a proof file built in memory (not through `ProofFile::from_bytes`) is checked here too
    if !crate::trace::WORD_BITS.contains(&proof.word_bits()) {
        return Err(crate::error::ProofFileError::Corrupt(format!(
            "unsupported word size {}",
            proof.word_bits()
        ))
        .into());
    }
    let mut diffs = Vec::new();
    let (got, want) = (proof.header.shape.statement(), pin.shape.statement());
    for (k, v) in &want {
        match got.iter().find(|(g, _)| g == k) {
            Some((_, gv)) if gv == v => {}
            Some((_, gv)) => diffs.push(format!("{k} {gv} (expected {v})")),
            None => diffs.push(format!("no {k} (expected {v})")),
        }
    }
    for (k, v) in &got {
        if !want.iter().any(|(w, _)| w == k) {
            diffs.push(format!("{k} {v} (not in the expected shape)"));
        }
    }
    if got == want && proof.header.shape != pin.shape {
        diffs.push("shape differs".into());
    }
    if let Some(w) = pin.word_bits {
        if proof.word_bits() != w {
            diffs.push(format!("word_bits {} (expected {w})", proof.word_bits()));
        }
    }
    if let Some(d) = pin.digests {
        if proof.header.params_digest != d.params {
            diffs.push(format!(
                "params_digest {} (expected {})",
                hex(&proof.header.params_digest),
                hex(&d.params)
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(Error::Mismatch(format!(
            "proof is for {}",
            diffs.join(", ")
        )))
    }
}

/// The pin of `keys`: their shape and digests.
fn pin_of(keys: &Keys) -> Pin {
    Pin {
        shape: keys.shape(),
        word_bits: None,
        digests: Some(keys.digests()),
    }
}

/// Run a backend's verifier: arecibo's and halo2's verifiers may panic on malformed proof content.
fn caught(check: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
        .unwrap_or_else(|_| Err(Error::Invalid("malformed SNARK".into())))
}

/// Verify a decoded proof with keys for its shape (parameter mismatch, exit 7, if the header
/// names other parameters); with `trace`, also check that it covers exactly that op stream.
pub fn verify_proof<I>(keys: &Keys, proof: &ProofFile, trace: Option<I>) -> Result<(), Error>
where
    I: IntoIterator<Item = TraceItem>,
{
    check_pin(proof, &pin_of(keys))?;
    let mut trace = trace.map(|t| t.into_iter());
    let trace = trace
        .as_mut()
        .map(|t| t as &mut dyn Iterator<Item = TraceItem>);
    caught(|| keys.system.verify(&proof.body, trace))
}

/// Verify proofs of consecutive ranges of one trace (continuations) with keys for their shape:
/// every header must name that shape and those keys; with `trace`, the whole trace.
pub fn verify_parts<I>(keys: &Keys, proofs: &[ProofFile], trace: Option<I>) -> Result<(), Error>
where
    I: IntoIterator<Item = TraceItem>,
{
    let pin = pin_of(keys);
    for (i, p) in proofs.iter().enumerate() {
        check_pin(p, &pin).map_err(|e| match e {
            Error::Mismatch(m) => Error::Mismatch(format!("part {i}: {m}")),
            other => other,
        })?;
    }
    let bodies: Vec<&Body> = proofs.iter().map(|p| &p.body).collect();
    let mut trace = trace.map(|t| t.into_iter());
    let trace = trace
        .as_mut()
        .map(|t| t as &mut dyn Iterator<Item = TraceItem>);
    caught(|| keys.system.verify_parts(&bodies, trace))
}

/// The statement of the whole trace that verified parts prove together: the shape, the word
/// size and the backend's combined claim.
pub fn parts_statement(keys: &Keys, proofs: &[ProofFile]) -> Lines {
    let bodies: Vec<&Body> = proofs.iter().map(|p| &p.body).collect();
    let mut v = keys.shape().statement();
    if let Some(p) = proofs.last() {
        v.push(("word_bits", p.word_bits().to_string()));
    }
    v.extend(keys.system.parts_statement(&bodies));
    v
}
