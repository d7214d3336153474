//! The proof file: a versioned header (magic, format version, backend, shape, params digest),
//! the public outputs and the compressed SNARK, encoded with bincode. Decoding never panics: a
//! corrupt or truncated file, or a header naming a shape outside the supported range, is a typed
//! [`ProofFileError`] before anything is set up for it.

use crate::backend::{Claim, Lines, ShapeError, ShapeFlags, ShapeSpec};
use crate::halo2_compat::{Halo2Outputs, Halo2Shape};
use crate::nova::{CompressedProof, PublicOutputs};
use crate::offline::{OfflineCompressed, OfflineOutputs, OfflineShape};
use crate::step::StepParams;
use crate::stream::{StCompressed, StreamOutputs, StreamShape};
use crate::supernova::{SnCompressed, SnOutputs, SnShape};
use crate::F;
use bincode::Options;
use ff::PrimeField;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// First bytes of every proof file.
pub const MAGIC: [u8; 8] = *b"FOLDMEM\0";
/// Current format version.
pub const FORMAT_VERSION: u16 = 1;
/// Largest proof file accepted (a compressed proof is ~10-20 KB).
pub const MAX_PROOF_BYTES: u64 = 64 << 20;

/// Proving backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum Backend {
    /// Nova over the Merkle step circuit (online memory checking).
    Nova,
    /// Nova over the offline memory-checking circuit (multiset fingerprints).
    NovaOffline,
    /// SuperNova with one circuit per opcode (read, write, push, pop).
    Supernova,
    /// Halo2 (KZG) sorted-trace permutation circuit, for comparison; the trace is its public input.
    Halo2,
    /// Streaming offline checking: segments with in-circuit challenges, an elliptic-curve
    /// multiset hash across segments (SuperNova: op, curve and fresh circuits).
    Stream,
}

impl Backend {
    /// The shape for `flags` (unset flags take this backend's defaults), validated.
    pub fn shape(&self, flags: &ShapeFlags) -> Result<Shape, ShapeError> {
        let shape = match self {
            Backend::Nova => Shape::Merkle(crate::nova::shape_from_flags(flags)?),
            Backend::NovaOffline => Shape::Offline(crate::offline::shape_from_flags(flags)?),
            Backend::Supernova => Shape::SuperNova(crate::supernova::shape_from_flags(flags)?),
            Backend::Halo2 => Shape::Halo2(crate::halo2_compat::shape_from_flags(flags)?),
            Backend::Stream => Shape::Stream(crate::stream::shape_from_flags(flags)?),
        };
        shape.validate()?;
        Ok(shape)
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Nova => "nova",
            Backend::NovaOffline => "nova-offline",
            Backend::Supernova => "supernova",
            Backend::Halo2 => "halo2",
            Backend::Stream => "stream",
        })
    }
}

/// Circuit shape of a backend: what the parameters are generated for. Every shape that enters
/// foldmem (proof header, cache file, command line) is checked with [`Shape::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// Merkle step circuit.
    Merkle(StepParams),
    /// Offline step circuit.
    Offline(OfflineShape),
    /// SuperNova opcode circuits.
    SuperNova(SnShape),
    /// Halo2 circuit.
    Halo2(Halo2Shape),
    /// Streaming offline-checking circuits.
    Stream(StreamShape),
}

impl Shape {
    /// The backend's description of this shape (the one dispatch over backends).
    pub fn spec(&self) -> &dyn ShapeSpec {
        match self {
            Shape::Merkle(s) => s,
            Shape::Offline(s) => s,
            Shape::SuperNova(s) => s,
            Shape::Halo2(s) => s,
            Shape::Stream(s) => s,
        }
    }
    /// Backend this shape belongs to.
    pub fn backend(&self) -> Backend {
        self.spec().backend()
    }
    /// Fails, naming the field, if the shape is outside the supported range.
    pub fn validate(&self) -> Result<(), ShapeError> {
        self.spec().validate()
    }
    /// Ops per folding step.
    pub fn ops_per_step(&self) -> usize {
        self.spec().ops_per_step()
    }
    /// Name used for cache files.
    pub fn cache_name(&self) -> String {
        self.spec().cache_name()
    }
    /// `backend` and the shape's fields as statement lines.
    pub fn statement(&self) -> Lines {
        let mut v = vec![("backend", self.backend().to_string())];
        v.extend(self.spec().statement());
        v
    }
}

/// Backend-specific claim and SNARK.
#[derive(Clone, Serialize, Deserialize)]
pub enum Body {
    /// Merkle backend.
    Merkle {
        /// Claimed outputs.
        outputs: PublicOutputs,
        /// Compressed SNARK.
        snark: CompressedProof,
    },
    /// Offline backend.
    Offline {
        /// Claimed outputs.
        outputs: OfflineOutputs,
        /// Compressed SNARK.
        snark: OfflineCompressed,
    },
    /// SuperNova backend.
    SuperNova {
        /// Claimed outputs.
        outputs: SnOutputs,
        /// Compressed SNARK.
        snark: SnCompressed,
    },
    /// Halo2 backend: the trace itself is the public input, so verification needs it.
    Halo2 {
        /// Claimed op count and word size.
        outputs: Halo2Outputs,
        /// KZG/SHPLONK proof transcript.
        proof: Vec<u8>,
    },
    /// Streaming backend (one proof of a whole trace, or one range of it).
    Stream {
        /// Claimed outputs.
        outputs: StreamOutputs,
        /// Compressed SNARK.
        snark: StCompressed,
    },
}

impl Body {
    /// What the proof claims (the one dispatch over bodies).
    pub fn claim(&self) -> &dyn Claim {
        match self {
            Body::Merkle { outputs, .. } => outputs,
            Body::Offline { outputs, .. } => outputs,
            Body::SuperNova { outputs, .. } => outputs,
            Body::Halo2 { outputs, .. } => outputs,
            Body::Stream { outputs, .. } => outputs,
        }
    }
    /// Backend that makes bodies of this kind.
    fn backend(&self) -> Backend {
        match self {
            Body::Merkle { .. } => Backend::Nova,
            Body::Offline { .. } => Backend::NovaOffline,
            Body::SuperNova { .. } => Backend::Supernova,
            Body::Halo2 { .. } => Backend::Halo2,
            Body::Stream { .. } => Backend::Stream,
        }
    }
}

/// Everything a verifier needs to rebuild the parameters and check the claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Serialize, Deserialize)]
pub struct ProofFile {
    /// Header.
    pub header: Header,
    /// Claim and SNARK.
    pub body: Body,
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
}

/// A proof file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofFileError {
    /// Does not start with the magic bytes.
    #[error("not a foldmem proof file (bad magic)")]
    BadMagic,
    /// Written by another format version.
    #[error("unsupported proof format version {found} (this build reads {FORMAT_VERSION})")]
    Version {
        /// Version found.
        found: u16,
    },
    /// Truncated or malformed content.
    #[error("corrupt proof file: {0}")]
    Corrupt(String),
    /// The header names a shape outside the supported range (no setup is run for it).
    #[error("proof header names an unsupported shape: {0}")]
    Shape(ShapeError),
    /// Larger than [`MAX_PROOF_BYTES`].
    #[error("proof file too large ({0} bytes)")]
    TooLarge(u64),
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

/// Deserialize untrusted `bytes` with `codec`. The serde impls of arecibo and neptune types may
/// assert on malformed input, so a panic is caught here: `Err(None)`; a decoding error is
/// `Err(Some(message))`. Shared by the proof-file and params-cache decoders.
pub(crate) fn deserialize_caught<T: serde::de::DeserializeOwned>(
    codec: impl Options + std::panic::UnwindSafe,
    bytes: &[u8],
) -> Result<T, Option<String>> {
    match std::panic::catch_unwind(|| codec.deserialize::<T>(bytes)) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(Some(e.to_string())),
        Err(_) => Err(None),
    }
}

/// Bytes of a field element (canonical little-endian).
pub fn f_to_bytes(f: &F) -> [u8; 32] {
    f.to_repr()
}

/// `0x`-prefixed big-endian hex of a field element, for display.
pub fn f_hex(f: &F) -> String {
    let mut b = f.to_repr();
    b.reverse();
    format!(
        "0x{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

impl ProofFile {
    /// Encode to bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec().serialize(self).expect("proof encodes")
    }

    /// Decode from bytes, checking magic and version first.
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
            return Err(ProofFileError::Version { found: version });
        }
        match deserialize_caught::<ProofFile>(codec(), bytes) {
            Ok(p) => {
                p.header.shape.validate().map_err(ProofFileError::Shape)?;
                let backend = p.header.shape.backend();
                if p.header.backend != backend || p.body.backend() != backend {
                    return Err(ProofFileError::Corrupt(
                        "backend, shape and body disagree".into(),
                    ));
                }
                if !crate::trace::WORD_BITS.contains(&p.word_bits()) {
                    return Err(ProofFileError::Corrupt(format!(
                        "unsupported word size {}",
                        p.word_bits()
                    )));
                }
                Ok(p)
            }
            Err(Some(e)) => Err(ProofFileError::Corrupt(e)),
            Err(None) => Err(ProofFileError::Corrupt(PANICKED.into())),
        }
    }
}

/// A key file (`foldmem setup`): the statement shape, word size and key digests a verifier
/// accepts, as JSON. It pins keys by digest rather than carrying them (Spartan's verifier key
/// holds the circuit's R1CS matrices: tens of megabytes); `verify --vk` regenerates the keys, or
/// loads them from the cache, and refuses them unless both digests match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A key file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("not a usable foldmem key file: {0}")]
pub struct KeyFileError(String);

impl KeyFile {
    /// Format tag of this version.
    pub const FORMAT: &'static str = "foldmem-key-file/1";

    /// A key file for `shape` and `word_bits` pinning `digests`.
    pub fn new(shape: Shape, word_bits: u32, digests: crate::backend::KeyDigests) -> Self {
        KeyFile {
            format: Self::FORMAT.into(),
            shape,
            word_bits,
            params_digest: crate::backend::hex(&digests.params),
            vk_digest: crate::backend::hex(&digests.vk),
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
        let f: KeyFile = serde_json::from_slice(bytes).map_err(|e| KeyFileError(e.to_string()))?;
        if f.format != Self::FORMAT {
            return Err(KeyFileError(format!(
                "format {:?} (this build reads {:?})",
                f.format,
                Self::FORMAT
            )));
        }
        f.shape
            .validate()
            .map_err(|e| KeyFileError(format!("unsupported shape: {e}")))?;
        if !crate::trace::WORD_BITS.contains(&f.word_bits) {
            return Err(KeyFileError(format!("word size {}", f.word_bits)));
        }
        f.digests()?;
        Ok(f)
    }

    fn digests(&self) -> Result<crate::backend::KeyDigests, KeyFileError> {
        let parse = |s: &str, what: &str| {
            crate::cache::parse_hex32(s)
                .ok_or_else(|| KeyFileError(format!("{what} is not 0x and 64 hex digits")))
        };
        Ok(crate::backend::KeyDigests {
            params: parse(&self.params_digest, "params_digest")?,
            vk: parse(&self.vk_digest, "vk_digest")?,
        })
    }

    /// What a verifier pins with this file.
    pub fn pin(&self) -> Result<crate::pipeline::Pin, KeyFileError> {
        Ok(crate::pipeline::Pin {
            shape: self.shape,
            word_bits: Some(self.word_bits),
            digests: Some(self.digests()?),
        })
    }
}
