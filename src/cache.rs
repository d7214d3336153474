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
    checksum_update(FNV_START, bytes)
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// [`checksum`] continued over more bytes.
fn checksum_update(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3))
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
    store_framed(&verifier_key_path(dir, entry), &entry.tag, |w| {
        bincode::serialize_into(w, vk).map_err(|e| e.to_string())
    })
}

/// The verifier key file cached for `entry`, opened, with the SHA3-256 of its encoding read
/// through the handle without decoding or holding it (`Ok(None)` if absent; an error if the
/// frame, tag or checksum is wrong). The handle keeps reading the same bytes if the path is
/// later replaced or removed.
pub fn open_verifier_key(
    dir: &Path,
    entry: &CacheEntry,
) -> Result<Option<(fs::File, [u8; 32])>, String> {
    use std::io::Read;
    let p = verifier_key_path(dir, entry);
    let why = |w: &str| format!("{}: {w}", p.display());
    let file = match open_bounded(&p) {
        Ok(f) => f.into_inner(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(why(&e.to_string())),
    };
    let mut head = [0u8; 16];
    let mut r = (&file).take(MAX_CACHE_FILE + 1);
    if r.read_exact(&mut head).is_err() || head[..8] != MAGIC {
        return Err(why("not a verifier key cache file"));
    }
    let mut t = Tally {
        inner: r,
        sum: FNV_START,
        skip: entry.tag.len(),
        sha: Some(<sha3::Sha3_256 as sha3::Digest>::new()),
    };
    let mut tag = vec![0u8; entry.tag.len()];
    let tag_ok = t.read_exact(&mut tag).is_ok() && tag == entry.tag;
    let copied = std::io::copy(&mut t, &mut std::io::sink());
    if copied.is_err() || t.sum != u64::from_le_bytes(head[8..16].try_into().expect("8 bytes")) {
        return Err(why("checksum mismatch (corrupt file)"));
    }
    if !tag_ok {
        return Err(why("written for another shape"));
    }
    let digest = t.sha.map(|h| sha3::Digest::finalize(h).into());
    Ok(digest.map(|d| (file, d)))
}

/// A verifier key decoded from a handle [`open_verifier_key`] returned (read from its start), if
/// its encoding's SHA3-256 is `digest`; an error names what failed (frame, tag, checksum,
/// decoding or digest).
pub fn verifier_key_from<V: DeserializeOwned>(
    file: &fs::File,
    p: &Path,
    entry: &CacheEntry,
    digest: &[u8; 32],
) -> Result<V, String> {
    let file = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", p.display()))?;
    match decode_from::<V>(file, p, entry, true, "verifier key cache")? {
        (v, got) if &got == digest => Ok(v),
        (_, got) => Err(format!(
            "{}: the verifier key's digest is {}, not the expected {}",
            p.display(),
            hex(&got),
            hex(digest)
        )),
    }
}

/// The verifier key cached for `entry`, decoded as it is read, if its encoding's SHA3-256 is
/// `digest` (`Ok(None)` if absent; an error names what failed: frame, tag, checksum, decoding
/// or digest).
pub fn load_verifier_key_checked<V: DeserializeOwned>(
    dir: &Path,
    entry: &CacheEntry,
    digest: &[u8; 32],
) -> Result<Option<V>, String> {
    let p = verifier_key_path(dir, entry);
    match decode_file::<V>(&p, entry, true, "verifier key cache")? {
        None => Ok(None),
        Some((v, got)) if &got == digest => Ok(Some(v)),
        Some((_, got)) => Err(format!(
            "{}: the verifier key's digest is {}, not the expected {}",
            p.display(),
            hex(&got),
            hex(digest)
        )),
    }
}

/// Largest cache file read (the default shapes' are under 400 MB).
const MAX_CACHE_FILE: u64 = 4 << 30;

/// A cache file opened for reading: a regular file of at most [`MAX_CACHE_FILE`] bytes (a FIFO,
/// a device or a huge file planted in the cache directory is refused, not read).
fn open_bounded(p: &Path) -> std::io::Result<std::io::Take<fs::File>> {
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
    if !usable(f.metadata()?) {
        return Err(refuse());
    }
    Ok(f.take(MAX_CACHE_FILE + 1))
}

/// A reader that folds every byte it passes into the cache checksum and, past the first
/// `skip` bytes, into a SHA3-256 when asked: a cache file is checked while it is decoded, never
/// held whole in memory (the default stream shape's file is 359 MB, and holding it beside the
/// decoded keys made loading the prover's peak).
struct Tally<R> {
    inner: R,
    sum: u64,
    skip: usize,
    sha: Option<sha3::Sha3_256>,
}

impl<R: std::io::Read> std::io::Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sum = checksum_update(self.sum, &buf[..n]);
        let skipped = self.skip.min(n);
        self.skip -= skipped;
        if let Some(h) = &mut self.sha {
            sha3::Digest::update(h, &buf[skipped..n]);
        }
        Ok(n)
    }
}

/// Decode a framed cache file from `p` as it is read ([`decode_from`]); `Ok(None)` if absent.
fn decode_file<T: DeserializeOwned>(
    p: &Path,
    entry: &CacheEntry,
    sha: bool,
    what: &str,
) -> Result<Option<(T, [u8; 32])>, String> {
    match open_bounded(p) {
        Ok(f) => decode_from(f.into_inner(), p, entry, sha, what).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

/// Decode a framed cache file from the start of `file` as it is read: magic, then the tag is
/// checked, the body is decoded (never allowed past the file's own length) and must end the
/// file, and the checksum over the whole body decides before anything else is reported (a
/// value decoded from a corrupt file is dropped). With `sha`, also the SHA3-256 of the encoding
/// after the tag. `p` and `what` name the file in errors.
fn decode_from<T: DeserializeOwned>(
    mut file: fs::File,
    p: &Path,
    entry: &CacheEntry,
    sha: bool,
    what: &str,
) -> Result<(T, [u8; 32]), String> {
    use std::io::{Read, Seek};
    let why = |w: String| format!("{}: {w}", p.display());
    let len = file
        .seek(std::io::SeekFrom::End(0))
        .and_then(|n| file.seek(std::io::SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| why(e.to_string()))?;
    let mut file = file.take(MAX_CACHE_FILE + 1);
    let mut head = [0u8; 16];
    if file.read_exact(&mut head).is_err() || head[..8] != MAGIC {
        return Err(why(format!("not a {what} file")));
    }
    let sum = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
    let mut r = std::io::BufReader::with_capacity(
        1 << 16,
        Tally {
            inner: file,
            sum: FNV_START,
            skip: entry.tag.len(),
            sha: sha.then(<sha3::Sha3_256 as sha3::Digest>::new),
        },
    );
    let mut tag = vec![0u8; entry.tag.len()];
    let tag_ok = r.read_exact(&mut tag).is_ok() && tag == entry.tag;
    // the decoder may not claim more bytes than the file has (a length prefix in a corrupt file
    // cannot make it allocate beyond that)
    // (and never past the largest file read: a handle held open may have grown since)
    let body = len
        .min(MAX_CACHE_FILE)
        .saturating_sub(16 + entry.tag.len() as u64);
    let decoded = tag_ok.then(|| {
        let codec = bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .with_limit(body)
            .reject_trailing_bytes();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            codec.deserialize_from::<_, T>(&mut r)
        }))
    });
    // whatever was decoded, the rest of the file is read and the checksum speaks first
    let rest = std::io::copy(&mut r, &mut std::io::sink());
    let t = r.into_inner();
    let rest = match rest {
        Ok(n) if t.sum == sum => n,
        _ => return Err(why("checksum mismatch (corrupt file)".into())),
    };
    let value = match decoded {
        None => return Err(why(format!("{what} is for another shape"))),
        Some(Ok(Ok(v))) => v,
        Some(Ok(Err(e))) => return Err(why(format!("undecodable content: {e}"))),
        Some(Err(_)) => return Err(why(PANICKED.into())),
    };
    if rest != 0 {
        return Err(why(format!("undecodable content: {rest} trailing bytes")));
    }
    let digest = t
        .sha
        .map(|h| sha3::Digest::finalize(h).into())
        .unwrap_or_default();
    Ok((value, digest))
}

/// Write `body` (encoded by `encode` into a writer) as a framed cache file at `p`, atomically
/// and without holding the encoding in memory: magic, a checksum slot filled in after the body.
fn store_framed(
    p: &Path,
    tag: &[u8],
    encode: impl FnOnce(&mut dyn std::io::Write) -> Result<(), String>,
) -> Result<(), String> {
    use std::io::{Seek, Write};
    struct Summing<W> {
        inner: W,
        sum: u64,
    }
    impl<W: Write> Write for Summing<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.sum = checksum_update(self.sum, &buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let mut failed = None;
    crate::files::write_atomically_with(p, |f| {
        f.write_all(&MAGIC)?;
        f.write_all(&[0u8; 8])?;
        let mut w = Summing {
            inner: std::io::BufWriter::with_capacity(1 << 16, &mut *f),
            sum: FNV_START,
        };
        w.write_all(tag)?;
        if let Err(e) = encode(&mut w) {
            failed = Some(e);
            return Err(std::io::Error::other("encoding failed"));
        }
        w.flush()?;
        let sum = w.sum;
        drop(w);
        f.seek(std::io::SeekFrom::Start(8))?;
        f.write_all(&sum.to_le_bytes())
    })
    .map_err(|e| match failed.take() {
        Some(why) => format!("{}: {why}", p.display()),
        None => format!("{}: {e}", p.display()),
    })
}

/// Load cached keys `T` for `entry`: `Ok(None)` if absent, `Err` if present but unusable.
pub fn load<T: DeserializeOwned>(dir: &Path, entry: &CacheEntry) -> Result<Option<T>, String> {
    decode_file(&path(dir, entry), entry, false, "params cache").map(|o| o.map(|(t, _)| t))
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
    store_framed(&path(dir, entry), &entry.tag, |w| {
        codec().serialize_into(w, keys).map_err(|e| e.to_string())
    })
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

    #[test]
    fn a_cache_file_is_decoded_within_its_own_length_and_checked_whole() {
        let dir = std::env::temp_dir().join(format!("foldmem-cache-len-{}", std::process::id()));
        let entry = CacheEntry {
            name: "lengths".into(),
            tag: vec![7, 7],
        };
        let write = |body: &[u8]| {
            store_framed(&path(&dir, &entry), &entry.tag, |w| {
                w.write_all(body).map_err(|e| e.to_string())
            })
        };
        std::fs::create_dir_all(&dir).unwrap();
        // a byte string claiming 13 bytes in a 12-byte body: refused by the file's own length
        let mut body = 13u64.to_le_bytes().to_vec();
        body.extend_from_slice(&[1, 2, 3, 4]);
        write(&body).unwrap();
        let err = load::<Vec<u8>>(&dir, &entry).unwrap_err();
        assert!(err.contains("size limit"), "{err}");
        // an honest value round-trips; trailing bytes and a foreign tag are named
        let good = bincode::serialize(&vec![5u8, 6]).unwrap();
        write(&good).unwrap();
        assert_eq!(load::<Vec<u8>>(&dir, &entry).unwrap(), Some(vec![5, 6]));
        let mut long = good.clone();
        long.push(9);
        write(&long).unwrap();
        let err = load::<Vec<u8>>(&dir, &entry).unwrap_err();
        assert!(err.contains("trailing bytes"), "{err}");
        let other = CacheEntry {
            name: "lengths".into(),
            tag: vec![7, 8],
        };
        let err = load::<Vec<u8>>(&dir, &other).unwrap_err();
        assert!(err.contains("another shape"), "{err}");
        // one flipped body byte: the checksum speaks before the decoder
        let p = path(&dir, &entry);
        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        let err = load::<Vec<u8>>(&dir, &entry).unwrap_err();
        assert!(err.contains("checksum mismatch"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
