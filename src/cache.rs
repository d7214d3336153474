//! On-disk cache of public parameters and compression keys, keyed by backend and shape and
//! validated on load (format, shape, checksum, recomputed params digest); an unusable file is
//! reported and regenerated, never trusted.

use crate::nova::{Params, Pk, Vk};
use crate::proof::{f_to_bytes, Shape, FORMAT_VERSION};
use crate::F;
use arecibo::traits::circuit::StepCircuit;
use bincode::Options;
use std::fs;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"FMPARAMS";

/// Cached keys of a step circuit: parameters, prover key, verifier key.
pub type KeySet<C> = (Params<C>, Pk<C>, Vk<C>);

#[derive(serde::Deserialize)]
#[serde(bound = "")]
struct Payload<C: StepCircuit<F>> {
    shape: Shape,
    digest: [u8; 32],
    pp: Params<C>,
    pk: Pk<C>,
    vk: Vk<C>,
}

#[derive(serde::Serialize)]
#[serde(bound = "")]
struct PayloadRef<'a, C: StepCircuit<F>> {
    shape: &'a Shape,
    digest: [u8; 32],
    pp: &'a Params<C>,
    pk: &'a Pk<C>,
    vk: &'a Vk<C>,
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(4 << 30)
        .reject_trailing_bytes()
}

/// FNV-1a, a stable checksum against accidental corruption.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Cache file path for a shape.
pub fn path(dir: &Path, shape: &Shape) -> PathBuf {
    dir.join(format!("{}-v{}.params", shape.cache_name(), FORMAT_VERSION))
}

/// Load cached keys: `Ok(None)` if absent, `Err` if present but unusable.
pub fn load<C: StepCircuit<F>>(dir: &Path, shape: &Shape) -> Result<Option<KeySet<C>>, String> {
    let p = path(dir, shape);
    let bytes = match fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let bad = |why: &str| Err(format!("{}: {why}", p.display()));
    if bytes.len() < 16 || bytes[..8] != MAGIC {
        return bad("not a params cache file");
    }
    let (sum, body) = (
        u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
        &bytes[16..],
    );
    if checksum(body) != sum {
        return bad("checksum mismatch (corrupt file)");
    }
    let payload: Payload<C> =
        match std::panic::catch_unwind(|| codec().deserialize::<Payload<C>>(body)) {
            Ok(Ok(p)) => p,
            _ => return bad("undecodable content"),
        };
    if payload.shape != *shape {
        return bad("parameters are for another shape");
    }
    if f_to_bytes(&payload.pp.digest()) != payload.digest {
        return bad("params digest mismatch");
    }
    Ok(Some((payload.pp, payload.pk, payload.vk)))
}

/// Store keys for a shape (atomically: write then rename).
pub fn store<C: StepCircuit<F>>(
    dir: &Path,
    shape: &Shape,
    pp: &Params<C>,
    pk: &Pk<C>,
    vk: &Vk<C>,
) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let body = codec()
        .serialize(&PayloadRef {
            shape,
            digest: f_to_bytes(&pp.digest()),
            pp,
            pk,
            vk,
        })
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum(&body).to_le_bytes());
    out.extend_from_slice(&body);
    let p = path(dir, shape);
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, &out).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &p).map_err(|e| format!("{}: {e}", p.display()))
}
