//! The proof file: a versioned header (magic, format version, backend, shape, params digest),
//! the public outputs and the compressed SNARK, encoded with bincode. Decoding never panics: a
//! corrupt or truncated file is a typed [`ProofFileError`].

use crate::nova::{CompressedProof, PublicOutputs};
use crate::offline::{OfflineCompressed, OfflineOutputs};
use crate::step::StepParams;
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
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Nova => "nova",
            Backend::NovaOffline => "nova-offline",
            Backend::Supernova => "supernova",
            Backend::Halo2 => "halo2",
        })
    }
}

/// Circuit shape of a backend: what the parameters are generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// Merkle step circuit.
    Merkle(StepParams),
    /// Offline step circuit with `ops_per_step` slots.
    Offline {
        /// Slots per step.
        ops_per_step: usize,
    },
    /// SuperNova opcode circuits.
    SuperNova(SnShape),
    /// Halo2 circuit over a domain of `2^k` rows.
    Halo2 {
        /// log2 of the domain size.
        k: u32,
    },
}

impl Shape {
    /// Backend this shape belongs to.
    pub fn backend(&self) -> Backend {
        match self {
            Shape::Merkle(_) => Backend::Nova,
            Shape::Offline { .. } => Backend::NovaOffline,
            Shape::SuperNova(_) => Backend::Supernova,
            Shape::Halo2 { .. } => Backend::Halo2,
        }
    }
    /// Ops per folding step.
    pub fn ops_per_step(&self) -> usize {
        match self {
            Shape::Merkle(s) => s.ops_per_step,
            Shape::Offline { ops_per_step } => *ops_per_step,
            Shape::SuperNova(_) | Shape::Halo2 { .. } => 1,
        }
    }
    /// Name used for cache files.
    pub fn cache_name(&self) -> String {
        match self {
            Shape::Merkle(s) => format!(
                "nova-a{}-r{}-k{}",
                s.tree.addr_bits, s.tree.arity, s.ops_per_step
            ),
            Shape::Offline { ops_per_step } => format!("nova-offline-k{ops_per_step}"),
            Shape::Halo2 { k } => format!("halo2-k{k}"),
            Shape::SuperNova(s) => format!(
                "supernova-a{}-r{}-s{:x}-d{}",
                s.tree.addr_bits, s.tree.arity, s.stack_base, s.stack_log_depth
            ),
        }
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
        /// Number of ops.
        op_count: u64,
        /// Word size in bits.
        word_bits: u32,
        /// KZG/SHPLONK proof transcript.
        proof: Vec<u8>,
    },
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
    /// Number of ops the proof covers.
    pub fn op_count(&self) -> u64 {
        match &self.body {
            Body::Merkle { outputs, .. } => outputs.op_count,
            Body::Offline { outputs, .. } => outputs.op_count,
            Body::SuperNova { outputs, .. } => outputs.op_count,
            Body::Halo2 { op_count, .. } => *op_count,
        }
    }
    /// Trace hash the proof is bound to (`None` for Halo2, whose public input is the trace).
    pub fn trace_hash(&self) -> Option<F> {
        match &self.body {
            Body::Merkle { outputs, .. } => Some(outputs.trace_hash),
            Body::Offline { outputs, .. } => Some(outputs.trace_hash),
            Body::SuperNova { outputs, .. } => Some(outputs.trace_hash),
            Body::Halo2 { .. } => None,
        }
    }
    /// Word size of the trace.
    pub fn word_bits(&self) -> u32 {
        match &self.body {
            Body::Merkle { outputs, .. } => outputs.word_bits,
            Body::Offline { outputs, .. } => outputs.word_bits,
            Body::SuperNova { outputs, .. } => outputs.word_bits,
            Body::Halo2 { word_bits, .. } => *word_bits,
        }
    }
    /// Claimed outputs as `key: value` pairs for display.
    pub fn output_lines(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let roots = match &self.body {
            Body::Merkle { outputs, .. } => Some((outputs.initial_root, outputs.final_root)),
            Body::SuperNova { outputs, .. } => Some((outputs.initial_root, outputs.final_root)),
            Body::Offline { .. } | Body::Halo2 { .. } => None,
        };
        if let Some((i, f)) = roots {
            v.push(("initial_root".into(), f_hex(&i)));
            v.push(("final_root".into(), f_hex(&f)));
        }
        if let Body::SuperNova { outputs, .. } = &self.body {
            v.push(("final_sp".into(), outputs.final_sp.to_string()));
        }
        v.push(("ops".into(), self.op_count().to_string()));
        if let Some(h) = self.trace_hash() {
            v.push(("trace_hash".into(), f_hex(&h)));
        }
        v.push(("word_bits".into(), self.word_bits().to_string()));
        if let Body::Offline { outputs, .. } = &self.body {
            v.push(("distinct_addrs".into(), outputs.audit_count.to_string()));
            v.push(("fingerprint".into(), f_hex(&outputs.fingerprint)));
        }
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
                let consistent = p.header.backend == p.header.shape.backend()
                    && matches!(
                        (&p.header.shape, &p.body),
                        (Shape::Merkle(_), Body::Merkle { .. })
                            | (Shape::Offline { .. }, Body::Offline { .. })
                            | (Shape::SuperNova(_), Body::SuperNova { .. })
                            | (Shape::Halo2 { .. }, Body::Halo2 { .. })
                    );
                if consistent {
                    Ok(p)
                } else {
                    Err(ProofFileError::Corrupt(
                        "backend, shape and body disagree".into(),
                    ))
                }
            }
            Err(Some(e)) => Err(ProofFileError::Corrupt(e)),
            Err(None) => Err(ProofFileError::Corrupt(PANICKED.into())),
        }
    }
}
