//! foldmem: memory-consistency proofs for zkVMs with folding schemes.
//!
//! A [`machine::Machine`] (or any zkVM) emits a stream of word-level [`trace::Op`]s; the Nova
//! prover folds them into a proof that every read returned the last value written (0 if never
//! written), bound to the exact op stream by a Poseidon hash chain.
#![deny(missing_docs)]

pub mod bench;
pub mod cache;
pub mod demo;
pub mod hash;
pub mod machine;
pub mod merkle;
pub mod nova;
pub mod offline;
pub mod pipeline;
pub mod proof;
pub mod step;
pub mod trace;
pub mod word;

/// Primary engine of the folding cycle.
pub type E1 = arecibo::provider::PallasEngine;
/// Secondary engine of the folding cycle.
pub type E2 = arecibo::provider::VestaEngine;
/// Field the step circuits are written over.
pub type F = <E1 as arecibo::traits::Engine>::Scalar;

pub use trace::{Op, OpKind};
pub use word::Word;
