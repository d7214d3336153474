//! The one error type of foldmem's jobs ([`Error`], with one process exit code per class) and
//! the typed errors it wraps that are not owned by a single layer: shapes out of range, proof
//! files that cannot be decoded, and proofs that do not verify.

use crate::trace::TraceError;
use std::path::PathBuf;
use thiserror::Error;

/// Any failure of a job. Each class has its own CLI exit code ([`Error::exit_code`]); the
/// message is one line.
#[derive(Debug, Error)]
pub enum Error {
    /// A trace line is malformed (exit 3), the trace is memory-inconsistent (exit 4), or it
    /// cannot be read (exit 6).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A proof file cannot be decoded (exit 5).
    #[error(transparent)]
    ProofFile(#[from] ProofFileError),
    /// The proof does not verify (exit 1).
    #[error("invalid proof: {0}")]
    Verify(#[from] VerifyError),
    /// A shape outside the supported range (exit 2).
    #[error("unsupported shape: {0}")]
    Shape(#[from] ShapeError),
    /// An input the chosen shape or backend cannot take (exit 3).
    #[error("{0}")]
    Input(String),
    /// Bad option values (exit 2, the same as a command-line usage error).
    #[error("{0}")]
    Usage(String),
    /// The proof was made for, or the keys are, other parameters than the ones pinned (exit 7).
    #[error("parameter mismatch: {0}")]
    Mismatch(String),
    /// The proof is invalid for a reason that is not a [`VerifyError`] (exit 1).
    #[error("invalid proof: {0}")]
    Invalid(String),
    /// A file could not be read or written (exit 6).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// An error about the contents of a file, prefixed with its path (the inner error's exit
    /// code).
    #[error("{}: {source}", path.display())]
    In {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<Error>,
    },
    /// A prover-side failure: a bug, or a corrupted checkpoint (exit 70).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Process exit code for this error class: 1 invalid proof, 2 usage, 3 malformed input,
    /// 4 inconsistent trace, 5 undecodable proof file, 6 I/O, 7 parameter mismatch, 70 internal
    /// (a verifier key that cannot be read back included).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Verify(VerifyError::KeyUnavailable(_)) => 70,
            Error::Verify(_) | Error::Invalid(_) => 1,
            Error::Usage(_) | Error::Shape(_) => 2,
            Error::Input(_) => 3,
            Error::Trace(TraceError::Inconsistent { .. }) => 4,
            Error::Trace(TraceError::Io { .. }) | Error::Io { .. } => 6,
            Error::Trace(_) => 3,
            Error::ProofFile(_) => 5,
            Error::Mismatch(_) => 7,
            Error::In { source, .. } => source.exit_code(),
            Error::Internal(_) => 70,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A prover-side failure.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// Name the file a trace or input error came from (other errors already say where).
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            Error::Input(_) => {}
            Error::Trace(ref t) if !matches!(t, TraceError::Io { .. }) => {}
            other => return other,
        }
        Error::In {
            path: path.into(),
            source: Box::new(self),
        }
    }
}

/// A shape outside the supported range, naming the field.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{field}: {msg}")]
pub struct ShapeError {
    /// The offending field (`addr_bits`, `arity`, `ops_per_step`, …).
    pub field: &'static str,
    /// What is wrong with it.
    pub msg: String,
}

impl ShapeError {
    /// An error about `field`.
    pub fn new(field: &'static str, msg: impl Into<String>) -> Self {
        ShapeError {
            field,
            msg: msg.into(),
        }
    }
}

/// A proof file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofFileError {
    /// Does not start with the magic bytes.
    #[error("not a foldmem proof file (bad magic)")]
    BadMagic,
    /// Written by another format version.
    #[error("unsupported proof format version {found} (this build reads {current})")]
    Version {
        /// Version found.
        found: u16,
        /// The version this build reads.
        current: u16,
    },
    /// Truncated or malformed content.
    #[error("corrupt proof file: {0}")]
    Corrupt(String),
    /// The header names a shape outside the supported range (no setup is run for it).
    #[error("proof header names an unsupported shape: {0}")]
    Shape(ShapeError),
    /// Larger than the largest proof file accepted.
    #[error("proof file too large ({0} bytes)")]
    TooLarge(u64),
}

/// A proof that does not verify, or a claim the verifier does not accept.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The folded or compressed proof does not verify against the claimed inputs.
    #[error("proof does not verify against the claimed public outputs ({0})")]
    Snark(String),
    /// The proof verifies but ends in a different state than claimed.
    #[error("proof verifies but its final state differs from the claimed {0}")]
    OutputMismatch(&'static str),
    /// The claim starts from another memory than the one the verifier expects.
    #[error("initial root is not the empty memory's root")]
    InitialRoot,
    /// The claim is not a statement the verifier accepts (before the SNARK is looked at).
    #[error("the claim is not an accepted statement: {0}")]
    Statement(&'static str),
    /// The verifier's own key could not be read back (a prover's parked key lost or changed):
    /// nothing was decided about the proof (exit 70, not 1).
    #[error("the verifier key cannot be read back, the proof was not checked: {0}")]
    KeyUnavailable(String),
}
