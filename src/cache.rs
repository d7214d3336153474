//! On-disk cache of public parameters and compression keys, one file per shape, and the rule
//! for when cached keys are used ([`cached`]). A cache file is checked for corruption (magic,
//! checksum, the requested shape) but never trusted by itself: keys are taken from it only when
//! their digests equal digests known without the cache — pinned by a `--vk` file, or listed in
//! [`KNOWN_KEYS`] for the default shapes.

use crate::backend::{CacheEntry, KeyOptions, KeySource};
use crate::digest::{hex, parse_hex32, KeyDigests};
use crate::error::Error;
use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"FMPARAMS";

/// Version of the cache file layout (part of the file name).
pub const CACHE_VERSION: u16 = 3;

/// The reason [`decode`] gives when the deserializer panicked (caught, never propagated).
pub const PANICKED: &str = "undecodable content (the decoder panicked)";

/// Key digests of the default shapes and the demo's stream shape, as this build generates them: `(cache name, params
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
    (
        "stream-k64-m8-t32",
        "0xb806fc51eebc376e98e6dbbe83015e2cbad95e9a6af352fdcede0e6a1fe3ee03",
        "0xf2bf2a5ced3048ade14b7fb537260f5da26a9dabbec35653c659fd3605febc24",
    ),
];

/// Digests the built-in table lists for the shape with cache name `name`, if it is a default
/// shape.
pub fn known_digests(name: &str) -> Option<KeyDigests> {
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

/// Cache file path for a shape's entry.
pub fn path(dir: &Path, entry: &CacheEntry) -> PathBuf {
    dir.join(format!("{}-v{}.params", entry.name, CACHE_VERSION))
}

/// Cache file path of an entry's SNARK verifier key (written beside its keys, read by
/// verifiers): the same frame, its body the entry's tag then the key's encoding, exactly the
/// bytes whose SHA3 is the vk digest.
pub fn verifier_key_path(dir: &Path, entry: &CacheEntry) -> PathBuf {
    dir.join(format!("{}-v{}.vk", entry.name, CACHE_VERSION))
}

/// Store `vk`'s encoding (the one the vk digest hashes) for `entry`, atomically.
pub fn store_verifier_key<V: Serialize>(
    dir: &Path,
    entry: &CacheEntry,
    vk: &V,
) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut body = entry.tag.clone();
    bincode::serialize_into(&mut body, vk).map_err(|e| e.to_string())?;
    let p = verifier_key_path(dir, entry);
    crate::files::write_atomically(&p, &[&frame(&body)])
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// The encoded verifier key cached for `entry` (after checking the frame and the tag), to be
/// hashed against a trusted digest and decoded ([`decode_verifier_key`]); `Ok(None)` if absent.
pub fn load_verifier_key(dir: &Path, entry: &CacheEntry) -> Result<Option<Vec<u8>>, String> {
    let p = verifier_key_path(dir, entry);
    let mut bytes = match read_bounded(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let why = |w: &str| format!("{}: {w}", p.display());
    if bytes.len() < 16 || bytes[..8] != MAGIC {
        return Err(why("not a verifier key cache file"));
    }
    let sum = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    if checksum(&bytes[16..]) != sum {
        return Err(why("checksum mismatch (corrupt file)"));
    }
    if !bytes[16..].starts_with(&entry.tag) {
        return Err(why("written for another shape"));
    }
    bytes.drain(..16 + entry.tag.len());
    Ok(Some(bytes))
}

/// Decode a verifier key's encoding (bincode's legacy options, as the vk digest hashes it).
pub fn decode_verifier_key<V: DeserializeOwned>(body: &[u8]) -> Result<V, String> {
    let codec = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(MAX_CACHE_FILE)
        .reject_trailing_bytes();
    match crate::codec::deserialize_caught(codec, body) {
        Ok(v) => Ok(v),
        Err(Some(e)) => Err(format!("undecodable verifier key: {e}")),
        Err(None) => Err(PANICKED.into()),
    }
}

/// Largest cache file read (the default shapes' are under 400 MB).
const MAX_CACHE_FILE: u64 = 4 << 30;

/// A cache file's bytes: a regular file of at most [`MAX_CACHE_FILE`] bytes (a FIFO, a device or
/// a huge file planted in the cache directory is refused, not read).
fn read_bounded(p: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refuse = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a regular file of at most 4 GiB",
        )
    };
    // checked before opening (opening a FIFO blocks) and again on the handle
    let usable = |m: fs::Metadata| m.is_file() && m.len() <= MAX_CACHE_FILE;
    if !usable(fs::metadata(p)?) {
        return Err(refuse());
    }
    let f = fs::File::open(p)?;
    let m = f.metadata()?;
    if !usable(m.clone()) {
        return Err(refuse());
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    f.take(MAX_CACHE_FILE + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Load cached keys `T` for `entry`: `Ok(None)` if absent, `Err` if present but unusable.
pub fn load<T: DeserializeOwned>(dir: &Path, entry: &CacheEntry) -> Result<Option<T>, String> {
    let p = path(dir, entry);
    let bytes = match read_bounded(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    decode(&bytes, entry)
        .map(Some)
        .map_err(|why| format!("{}: {why}", p.display()))
}

/// Decode the bytes of a cache file for `entry`, checking magic, checksum and that the stored
/// shape is the requested one; the error says which check failed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], entry: &CacheEntry) -> Result<T, String> {
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
    // the stored shape is the requested one's encoding, byte for byte (a valid shape: the
    // registry made the tag from one)
    let Some(keys) = body.strip_prefix(entry.tag.as_slice()) else {
        return Err("parameters are for another shape".into());
    };
    match crate::codec::deserialize_caught::<T>(codec(), keys) {
        Ok(t) => Ok(t),
        Err(Some(e)) => Err(format!("undecodable content: {e}")),
        Err(None) => Err(PANICKED.into()),
    }
}

/// Frame an encoded body as a cache file: magic, checksum, body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Encode keys for a shape's entry as the bytes of a cache file.
pub fn encode<T: Serialize>(entry: &CacheEntry, keys: &T) -> Result<Vec<u8>, String> {
    let mut body = entry.tag.clone();
    codec()
        .serialize_into(&mut body, keys)
        .map_err(|e| e.to_string())?;
    Ok(frame(&body))
}

/// Store keys for a shape's entry (atomically: write then rename).
pub fn store<T: Serialize>(dir: &Path, entry: &CacheEntry, keys: &T) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = encode(entry, keys)?;
    let p = path(dir, entry);
    crate::files::write_atomically(&p, &[&out]).map_err(|e| format!("{}: {e}", p.display()))
}

/// Keys of type `T` for a shape's cache `entry`, from the cache or `make`. The cache is only
/// read when the keys it holds can be checked against digests this process did not take from
/// the cache: the ones pinned in `opts` (a `--vk` file), else the built-in table of default
/// shapes ([`known_digests`]). Otherwise keys are generated (and written to the cache, for a
/// later run that can vouch for them). Generated keys that differ from the pinned digests are
/// refused (exit 7). The keys' digests come back with them, so nobody hashes them again.
pub fn cached<T: Serialize + DeserializeOwned>(
    entry: &CacheEntry,
    opts: &KeyOptions,
    digests: impl Fn(&T) -> KeyDigests,
    make: impl FnOnce() -> Result<T, Error>,
) -> Result<(T, KeySource, KeyDigests), Error> {
    let (expected, source) = match opts.pinned {
        Some(d) => (Some(d), KeySource::CachePinned),
        None => (known_digests(&entry.name), KeySource::CacheKnown),
    };
    // an entry without a tag (`CacheEntry::uncached`) never touches the cache
    let dir = opts.cache_dir.as_deref().filter(|_| !entry.tag.is_empty());
    if let (Some(dir), Some(want)) = (dir, expected) {
        match load::<T>(dir, entry) {
            Ok(Some(keys)) => {
                let got = digests(&keys);
                if got == want {
                    return Ok((keys, source, got));
                }
                tracing::warn!(
                    "{}: keys in the cache do not have the expected digests; regenerating",
                    path(dir, entry).display()
                )
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("ignoring unusable params cache: {e}; regenerating"),
        }
    }
    let keys = make()?;
    let got = digests(&keys);
    match (opts.pinned, expected) {
        (Some(want), _) if want != got => {
            return Err(Error::Mismatch(format!(
                "the --vk file pins params digest {} and vk digest {}, but {} generates {} and {} \
                 (a key file from another foldmem build or circuit)",
                hex(&want.params),
                hex(&want.vk),
                entry.name,
                hex(&got.params),
                hex(&got.vk),
            )))
        }
        (None, Some(want)) if want != got => {
            // generated keys are the ground truth; the table only vouches for the cache
            tracing::warn!(
                "the built-in key digest table is stale for {} (tests/known_keys.rs says how to \
                 update it)",
                entry.name
            );
            return Ok((keys, KeySource::Generated, got));
        }
        _ => {}
    }
    if let Some(dir) = dir {
        if let Err(e) = store(dir, entry, &keys) {
            tracing::warn!("could not write params cache: {e}");
        }
    }
    Ok((keys, KeySource::Generated, got))
}

/// Default cache directory: `$FOLDMEM_CACHE`, else `$XDG_CACHE_HOME/foldmem`, else `~/.cache/foldmem`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("FOLDMEM_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("foldmem"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("foldmem"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_path_that_is_not_a_regular_file_is_refused_without_reading() {
        let dir = std::env::temp_dir().join(format!("foldmem-cache-{}", std::process::id()));
        let entry = CacheEntry {
            name: "planted".into(),
            tag: vec![1],
        };
        // a directory where the file should be (a FIFO or a device is refused the same way)
        std::fs::create_dir_all(path(&dir, &entry)).unwrap();
        let err = load::<u8>(&dir, &entry).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        // absent: a miss, not an error
        assert_eq!(load::<u8>(&dir, &entry), Ok(None));
    }
}
