//! foldmem: memory-consistency proofs for zkVMs with folding schemes.
//!
//! A [`machine::Machine`] (or any zkVM) emits a stream of word-level [`trace::Op`]s; a backend
//! folds them into a proof that every read returned the last value written (0 if never
//! written), bound to the exact op stream by a Poseidon hash chain.
//!
//! The layers, bottom up (`docs/architecture.md` draws them): words, traces, hashes and errors;
//! circuit gadgets and the Merkle tree; the backend seam ([`backend`]) and the key cache; shared
//! folding code ([`folding`]); the backends ([`backends`]); the registry that lists them
//! ([`registry`]); the proof file ([`proof`]) and the jobs ([`pipeline`]). A zkVM's own circuits
//! use [`gadget`] (the memory check inside its fold) or [`zkvm`] (binding to a separate `stream`
//! proof).
//!
//! ```
//! use foldmem::backend::KeyOptions;
//! use foldmem::backends::stream::{self, StreamKeys, StreamOptions, StreamProver, StreamShape};
//! use foldmem::{pipeline, registry::Shape, Op};
//!
//! // a small stream shape: 4 op slots per step, segments of 4 ops
//! let shape = StreamShape { ops_per_step: 4, boundary_slots: 2, time_bits: 16 };
//! let keys = pipeline::keys(Shape::new(shape).unwrap(), &KeyOptions::none()).unwrap();
//! let st = keys.downcast::<StreamKeys>().unwrap();
//! let opts = StreamOptions { segment_ops: 4, ..Default::default() };
//! let mut prover = StreamProver::new(st, 64, &opts).unwrap();
//! let ops = [Op::write(7, 42u64), Op::read(7, 42u64), Op::read(9, 0u64), Op::write(9, 1u64),
//!            Op::read(7, 42u64)];
//! for (i, op) in ops.iter().enumerate() {
//!     prover.push(i + 1, op).unwrap(); // a segment is folded as soon as it is complete
//! }
//! let proof = prover.finish(true).unwrap(); // the last segment and the audit
//! let snark = st.keys.compress(&proof.snark).unwrap();
//! // the verifier builds the start state (the empty memory) itself
//! stream::verify_compressed(st, &snark, &proof.outputs).unwrap();
//! assert_eq!(proof.outputs.op_count, 5);
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
pub mod gadget;
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
pub mod zkvm;

pub use engine::{E1, E2, F};
pub use error::Error;
pub use trace::{Op, OpKind};
pub use word::Word;
