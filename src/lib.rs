//! foldmem: memory-consistency proofs for zkVMs with folding schemes.
//!
//! A [`machine::Machine`] (or any zkVM) emits a stream of word-level [`trace::Op`]s; the Nova
//! prover folds them into a proof that every read returned the last value written (0 if never
//! written), bound to the exact op stream by a Poseidon hash chain.
//!
//! ```
//! use foldmem::{merkle::TreeParams, nova, step::StepParams, Op};
//!
//! // a 2^16-word memory, 2 ops per folding step
//! let step = StepParams { tree: TreeParams::new(16, 8).unwrap(), ops_per_step: 2 };
//! let pp = nova::setup(step);
//! let mut prover = nova::NovaProver::new(&pp, step, 64);
//! for (i, op) in [Op::write(7, 42u64), Op::read(7, 42u64), Op::read(9, 0u64)].iter().enumerate() {
//!     prover.push(i + 1, op).unwrap(); // folds every 2 ops as they arrive
//! }
//! // an inconsistent op is refused before anything is folded
//! assert!(prover.push(4, &Op::read(7, 41u64)).is_err());
//! let proof = prover.finish().unwrap();
//! // the verifier states the initial memory: this checks the run started from the empty memory
//! nova::verify_folded(&pp, step, &proof.snark, &proof.outputs).unwrap();
//! assert_eq!(proof.outputs.op_count, 3);
//! ```
#![deny(missing_docs)]

pub mod backend;
pub mod bench;
pub mod cache;
pub mod demo;
pub mod halo2_compat;
pub mod hash;
pub mod machine;
pub mod merkle;
pub mod nova;
pub mod offline;
pub mod pipeline;
pub mod profile;
pub mod proof;
pub mod step;
pub mod stream;
pub mod supernova;
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
