//! On-disk cache of public parameters and compression keys, keyed by backend and shape and
//! validated on load (format, shape, checksum, recomputed params digest); an unusable file is
//! reported and regenerated, never trusted.

use crate::proof::{deserialize_caught, Shape, FORMAT_VERSION};
use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"FMPARAMS";

/// The reason [`decode`] gives when the deserializer panicked (caught, never propagated).
pub const PANICKED: &str = "undecodable content (the decoder panicked)";

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

/// Load cached keys `T` for `shape`: `Ok(None)` if absent, `Err` if present but unusable.
/// `digest` recomputes the parameters' digest, which must equal the stored one.
pub fn load<T: DeserializeOwned>(
    dir: &Path,
    shape: &Shape,
    digest: impl Fn(&T) -> [u8; 32],
) -> Result<Option<T>, String> {
    let p = path(dir, shape);
    let bytes = match fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    decode(&bytes, shape, digest)
        .map(Some)
        .map_err(|why| format!("{}: {why}", p.display()))
}

/// Decode the bytes of a cache file for `shape`, checking magic, checksum, stored shape and the
/// recomputed params digest; the error says which check failed.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    shape: &Shape,
    digest: impl Fn(&T) -> [u8; 32],
) -> Result<T, String> {
    if bytes.len() < 16 || bytes[..8] != MAGIC {
        return Err("not a params cache file".into());
    }
    let (sum, body) = (
        u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
        &bytes[16..],
    );
    if checksum(body) != sum {
        return Err("checksum mismatch (corrupt file)".into());
    }
    let (stored_shape, stored_digest, keys) =
        match deserialize_caught::<(Shape, [u8; 32], T)>(codec(), body) {
            Ok(t) => t,
            Err(Some(e)) => return Err(format!("undecodable content: {e}")),
            Err(None) => return Err(PANICKED.into()),
        };
    if stored_shape != *shape {
        return Err("parameters are for another shape".into());
    }
    if digest(&keys) != stored_digest {
        return Err("params digest mismatch".into());
    }
    Ok(keys)
}

/// Frame an encoded body as a cache file: magic, checksum, body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Encode keys for a shape as the bytes of a cache file.
pub fn encode<T: Serialize>(shape: &Shape, keys: &T, digest: [u8; 32]) -> Result<Vec<u8>, String> {
    let body = codec()
        .serialize(&(shape, digest, keys))
        .map_err(|e| e.to_string())?;
    Ok(frame(&body))
}

/// Store keys for a shape (atomically: write then rename).
pub fn store<T: Serialize>(
    dir: &Path,
    shape: &Shape,
    keys: &T,
    digest: [u8; 32],
) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = encode(shape, keys, digest)?;
    let p = path(dir, shape);
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, &out).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &p).map_err(|e| format!("{}: {e}", p.display()))
}
