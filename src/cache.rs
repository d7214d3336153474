//! On-disk cache of public parameters and compression keys, keyed by backend and shape. A cache
//! file is checked for corruption (magic, checksum, a valid shape equal to the requested one) but
//! never trusted by itself: [`crate::pipeline::cached`] uses cached keys only when their digests
//! equal digests it knows without the cache — pinned by a `--vk` file, or listed in
//! [`KNOWN_KEYS`] for the default shapes.

use crate::backend::KeyDigests;
use crate::proof::{deserialize_caught, Shape};
use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"FMPARAMS";

/// Version of the cache file layout (part of the file name).
pub const CACHE_VERSION: u16 = 2;

/// The reason [`decode`] gives when the deserializer panicked (caught, never propagated).
pub const PANICKED: &str = "undecodable content (the decoder panicked)";

/// Key digests of the default shapes, as this build generates them: `(cache name, params
/// digest, vk digest)`. The cache is trusted for these shapes without a `--vk` file;
/// `tests/known_keys.rs` regenerates every entry and fails when one is stale.
pub const KNOWN_KEYS: &[(&str, &str, &str)] = &[
    (
        "nova-a64-r8-k4",
        "0x3093dc25bb7c6786c3c8030395027f30eec2feccf9a611c32534f5bbe71da003",
        "0x181e525835618f3474f3a5a9d9cb84dc105168c6e6b3272f57d36a895818f540",
    ),
    (
        "nova-offline-k128",
        "0x910e2aeffa7a224f90a22ec89384911f4dbf7faccf58dde700c707d022706703",
        "0xfded5058e2fdad7e71f7c6fd1e83426f816fd28d05f73aee8303f003c0a8e3e0",
    ),
    (
        "supernova-a64-r8-s3ffff0040-d8",
        "0xfd4df61680773221a4abfabe73edd625e36070a3ee154653f0d9268924850603",
        "0x678abc923268735091c44d76a4bf0845880f82c1c6541d79fde0ffadc7e298bc",
    ),
    (
        "stream-k352-m24-t32",
        "0xf36431f325d595d26f457757a6efda38c38e14dd6cdb212e01e41ec14ac7e203",
        "0xfd6f0a64b80b85e729816648dfdc25014af8fb080ceafeacdc9cff66a0f2f083",
    ),
];

/// The shapes `prove` uses without shape flags, for every backend with a parameter cache: the
/// ones [`KNOWN_KEYS`] lists.
pub fn default_shapes() -> Vec<Shape> {
    use crate::proof::Backend;
    [
        Backend::Nova,
        Backend::NovaOffline,
        Backend::Supernova,
        Backend::Stream,
    ]
    .iter()
    .map(|b| {
        b.shape(&Default::default())
            .expect("default shapes are valid")
    })
    .collect()
}

/// Digests the built-in table lists for `shape`, if it is a default shape.
pub fn known_digests(shape: &Shape) -> Option<KeyDigests> {
    let name = shape.cache_name();
    KNOWN_KEYS
        .iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(_, p, v)| {
            Some(KeyDigests {
                params: parse_hex32(p)?,
                vk: parse_hex32(v)?,
            })
        })
}

/// Parse `0x` + 64 hex digits.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let h = s.strip_prefix("0x")?;
    if h.len() != 64 || !h.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(4 << 30)
        .reject_trailing_bytes()
}

/// FNV-1a, a stable checksum against accidental corruption (not a security measure: trust
/// comes from the digests the loader compares against).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Cache file path for a shape.
pub fn path(dir: &Path, shape: &Shape) -> PathBuf {
    dir.join(format!("{}-v{}.params", shape.cache_name(), CACHE_VERSION))
}

/// Load cached keys `T` for `shape`: `Ok(None)` if absent, `Err` if present but unusable.
pub fn load<T: DeserializeOwned>(dir: &Path, shape: &Shape) -> Result<Option<T>, String> {
    let p = path(dir, shape);
    let bytes = match fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    decode(&bytes, shape)
        .map(Some)
        .map_err(|why| format!("{}: {why}", p.display()))
}

/// Decode the bytes of a cache file for `shape`, checking magic, checksum and that the stored
/// shape is valid and equal to `shape`; the error says which check failed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], shape: &Shape) -> Result<T, String> {
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
    let (stored_shape, keys) = match deserialize_caught::<(Shape, T)>(codec(), body) {
        Ok(t) => t,
        Err(Some(e)) => return Err(format!("undecodable content: {e}")),
        Err(None) => return Err(PANICKED.into()),
    };
    stored_shape
        .validate()
        .map_err(|e| format!("unsupported shape: {e}"))?;
    if stored_shape != *shape {
        return Err("parameters are for another shape".into());
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
pub fn encode<T: Serialize>(shape: &Shape, keys: &T) -> Result<Vec<u8>, String> {
    let body = codec()
        .serialize(&(shape, keys))
        .map_err(|e| e.to_string())?;
    Ok(frame(&body))
}

/// Store keys for a shape (atomically: write then rename).
pub fn store<T: Serialize>(dir: &Path, shape: &Shape, keys: &T) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = encode(shape, keys)?;
    let p = path(dir, shape);
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, &out).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &p).map_err(|e| format!("{}: {e}", p.display()))
}
