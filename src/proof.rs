//! The proof file: a versioned header (magic, format version, backend, shape, params digest),
//! the public outputs and the compressed SNARK, encoded with bincode. Decoding never panics: a
//! corrupt or truncated file is a typed [`ProofFileError`].

use crate::nova::{CompressedProof, PublicOutputs};
use crate::step::StepParams;
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
    /// Nova over the Merkle step circuit.
    Nova,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Nova => "nova",
        })
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
    /// Step-circuit shape (address bits, arity, ops per step).
    pub step: StepParams,
    /// Digest of the public parameters the proof was made with.
    pub params_digest: [u8; 32],
}

/// A decoded proof file.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProofFile {
    /// Header.
    pub header: Header,
    /// Claimed public outputs.
    pub outputs: PublicOutputs,
    /// The compressed SNARK.
    pub snark: CompressedProof,
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
        let decoded = std::panic::catch_unwind(|| codec().deserialize::<ProofFile>(bytes));
        match decoded {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(ProofFileError::Corrupt(e.to_string())),
            Err(_) => Err(ProofFileError::Corrupt("undecodable content".into())),
        }
    }
}
