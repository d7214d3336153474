//! foldmem: memory-consistency proofs for zkVMs with folding schemes.
//!
//! A [`machine::Machine`] (or any zkVM) emits a stream of word-level [`trace::Op`]s; a backend
//! folds them into a proof that every read returned the last value written (0 if never
//! written), bound to the exact op stream by a Poseidon hash chain.
//!
//! The layers, bottom up (`docs/architecture.md` draws them): words, traces, hashes and errors;
//! circuit gadgets and the Merkle tree; the backend seam ([`backend`]) and the key cache; shared
//! folding code ([`folding`]); the backends ([`backends`]); the registry that lists them
//! ([`registry`]); the proof file ([`proof`]) and the jobs ([`pipeline`]).
//!
//! ```
//! use foldmem::backends::merkle::{self, MerkleProver, MerkleShape};
//! use foldmem::tree::TreeParams;
//! use foldmem::Op;
//!
//! // a 2^16-word memory, 2 ops per folding step
//! let step = MerkleShape { tree: TreeParams::new(16, 8).unwrap(), ops_per_step: 2 };
//! let pp = merkle::setup(step);
//! let mut prover = MerkleProver::new(&pp, step, 64);
//! for (i, op) in [Op::write(7, 42u64), Op::read(7, 42u64), Op::read(9, 0u64)].iter().enumerate() {
//!     prover.push(i + 1, op).unwrap(); // folds every 2 ops as they arrive
//! }
//! // an inconsistent op is refused before anything is folded
//! assert!(prover.push(4, &Op::read(7, 41u64)).is_err());
//! let proof = prover.finish().unwrap();
//! // the verifier states the initial memory: this checks the run started from the empty memory
//! merkle::verify_folded(&pp, step, &proof.snark, &proof.outputs).unwrap();
//! assert_eq!(proof.outputs.op_count, 3);
//! ```
#![deny(missing_docs)]

pub mod backend;
pub mod backends;
pub mod cache;
pub mod codec;
pub mod digest;
pub mod engine;
pub mod error;
pub mod files;
pub mod folding;
pub mod gadgets;
pub mod hash;
pub mod machine;
pub mod pipeline;
pub mod profile;
pub mod proof;
pub mod registry;
pub mod trace;
pub mod tree;
pub mod word;

pub use engine::{E1, E2, F};
pub use error::Error;
pub use trace::{Op, OpKind};
pub use word::Word;
