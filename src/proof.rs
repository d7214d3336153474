//! The proof file: a versioned header (magic, format version, backend, shape, params digest),
//! the public outputs and the compressed SNARK, encoded with bincode; and the key file that pins
//! what a verifier accepts. Decoding never panics: a corrupt or truncated file, or a header
//! naming a shape outside the supported range, is a typed [`ProofFileError`] before anything is
//! set up for it.

use crate::backend::{Claim, Lines};
use crate::codec::deserialize_caught;
use crate::digest::{hex, parse_hex32, KeyDigests};
use crate::engine::F;
pub use crate::error::ProofFileError;
use crate::registry::{AnyShape, Backend, Body, Shape};
use bincode::Options;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// First bytes of every proof file.
pub const MAGIC: [u8; 8] = *b"FOLDMEM\0";
/// Current format version.
pub const FORMAT_VERSION: u16 = 1;
/// Largest proof file accepted (a compressed proof is ~10-20 KB).
pub const MAX_PROOF_BYTES: u64 = 64 << 20;

/// Everything a verifier needs to rebuild the parameters and check the claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`FORMAT_VERSION`].
    pub version: u16,
    /// Backend that produced the proof.
    pub backend: Backend,
    /// Circuit shape the parameters were generated for.
    pub shape: Shape,
    /// Digest of the public parameters the proof was made with.
    pub params_digest: [u8; 32],
}

/// A decoded proof file.
#[derive(Clone, Serialize)]
pub struct ProofFile {
    /// Header.
    pub header: Header,
    /// Claim and SNARK.
    pub body: Body,
}

/// The file as written, before its shape is known to be valid.
#[derive(Deserialize)]
struct RawProofFile {
    magic: [u8; 8],
    version: u16,
    backend: Backend,
    shape: AnyShape,
    params_digest: [u8; 32],
    body: Body,
}

impl ProofFile {
    /// What the proof claims.
    pub fn claim(&self) -> &dyn Claim {
        self.body.claim()
    }
    /// Number of ops the proof covers.
    pub fn op_count(&self) -> u64 {
        self.claim().op_count()
    }
    /// Trace hash the proof is bound to (`None` for Halo2, whose public input is the trace).
    pub fn trace_hash(&self) -> Option<F> {
        self.claim().trace_hash()
    }
    /// Word size of the trace.
    pub fn word_bits(&self) -> u32 {
        self.claim().word_bits()
    }
    /// The whole statement (shape, then claim) as `key: value` lines.
    pub fn statement(&self) -> Lines {
        let mut v = self.header.shape.statement();
        v.push(("word_bits", self.word_bits().to_string()));
        v.extend(self.claim().statement());
        v
    }

    /// Encode to bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec().serialize(self).expect("proof encodes")
    }

    /// Decode from bytes, checking magic and version first, then that the header's shape is
    /// supported and that backend, shape and body agree.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofFileError> {
        if bytes.len() as u64 > MAX_PROOF_BYTES {
            return Err(ProofFileError::TooLarge(bytes.len() as u64));
        }
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(ProofFileError::BadMagic);
        }
        if bytes.len() < 10 {
            return Err(ProofFileError::Corrupt("truncated header".into()));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != FORMAT_VERSION {
            return Err(ProofFileError::Version {
                found: version,
                current: FORMAT_VERSION,
            });
        }
        let raw = match deserialize_caught::<RawProofFile>(codec(), bytes) {
            Ok(p) => p,
            Err(Some(e)) => return Err(ProofFileError::Corrupt(e)),
            Err(None) => return Err(ProofFileError::Corrupt(PANICKED.into())),
        };
        let shape = Shape::new(raw.shape).map_err(ProofFileError::Shape)?;
        if raw.backend != shape.backend() || raw.body.backend() != shape.backend() {
            return Err(ProofFileError::Corrupt(
                "backend, shape and body disagree".into(),
            ));
        }
        let p = ProofFile {
            header: Header {
                magic: raw.magic,
                version: raw.version,
                backend: raw.backend,
                shape,
                params_digest: raw.params_digest,
            },
            body: raw.body,
        };
        if !crate::trace::WORD_BITS.contains(&p.word_bits()) {
            return Err(ProofFileError::Corrupt(format!(
                "unsupported word size {}",
                p.word_bits()
            )));
        }
        Ok(p)
    }
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(MAX_PROOF_BYTES)
        .reject_trailing_bytes()
}

/// What [`ProofFile::from_bytes`] reports (as [`ProofFileError::Corrupt`]) when a dependency's
/// deserializer panicked on the bytes (caught, never propagated).
pub const PANICKED: &str = "undecodable content";

/// A key file (`foldmem setup`): the statement shape, word size and key digests a verifier
/// accepts, as JSON. It pins keys by digest rather than carrying them (Spartan's verifier key
/// holds the circuit's R1CS matrices: tens of megabytes); `verify --vk` regenerates the keys, or
/// loads them from the cache, and refuses them unless both digests match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyFile {
    /// [`KeyFile::FORMAT`].
    pub format: String,
    /// The shape.
    pub shape: Shape,
    /// The word size.
    pub word_bits: u32,
    /// `0x` hex of the params digest.
    pub params_digest: String,
    /// `0x` hex of the verifier-key digest.
    pub vk_digest: String,
}

/// A key file as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyFile {
    format: String,
    shape: AnyShape,
    word_bits: u32,
    params_digest: String,
    vk_digest: String,
}

/// A key file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("not a usable foldmem key file: {0}")]
pub struct KeyFileError(String);

/// What a verifier pins before looking at a proof: the shape (from `prove`'s shape flags or a
/// `--vk` file), optionally the word size and the key digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The shape the verifier accepts.
    pub shape: Shape,
    /// The word size the verifier accepts (`None`: any).
    pub word_bits: Option<u32>,
    /// The key digests the verifier accepts (`None`: whatever the shape generates).
    pub digests: Option<KeyDigests>,
}

impl KeyFile {
    /// Format tag of this version.
    pub const FORMAT: &'static str = "foldmem-key-file/1";

    /// A key file for `shape` and `word_bits` pinning `digests`.
    pub fn new(shape: Shape, word_bits: u32, digests: KeyDigests) -> Self {
        KeyFile {
            format: Self::FORMAT.into(),
            shape,
            word_bits,
            params_digest: hex(&digests.params),
            vk_digest: hex(&digests.vk),
        }
    }

    /// Pretty JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("key file encodes");
        v.push(b'\n');
        v
    }

    /// Parse and validate (format, shape, word size, digests).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        if bytes.len() > 1 << 16 {
            return Err(KeyFileError("larger than 64 KiB".into()));
        }
        let f: RawKeyFile =
            serde_json::from_slice(bytes).map_err(|e| KeyFileError(e.to_string()))?;
        if f.format != Self::FORMAT {
            return Err(KeyFileError(format!(
                "format {:?} (this build reads {:?})",
                f.format,
                Self::FORMAT
            )));
        }
        let shape =
            Shape::new(f.shape).map_err(|e| KeyFileError(format!("unsupported shape: {e}")))?;
        if !crate::trace::WORD_BITS.contains(&f.word_bits) {
            return Err(KeyFileError(format!("word size {}", f.word_bits)));
        }
        let file = KeyFile {
            format: f.format,
            shape,
            word_bits: f.word_bits,
            params_digest: f.params_digest,
            vk_digest: f.vk_digest,
        };
        file.digests()?;
        Ok(file)
    }

    fn digests(&self) -> Result<KeyDigests, KeyFileError> {
        let parse = |s: &str, what: &str| {
            parse_hex32(s)
                .ok_or_else(|| KeyFileError(format!("{what} is not 0x and 64 hex digits")))
        };
        Ok(KeyDigests {
            params: parse(&self.params_digest, "params_digest")?,
            vk: parse(&self.vk_digest, "vk_digest")?,
        })
    }

    /// What a verifier pins with this file.
    pub fn pin(&self) -> Result<Pin, KeyFileError> {
        Ok(Pin {
            shape: self.shape,
            word_bits: Some(self.word_bits),
            digests: Some(self.digests()?),
        })
    }
}
