//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Re-type a serde value (public parameters, keys and proofs are generic over the step circuit
/// only through a marker): how a forging prover reuses the honest parameters for its own circuit
/// type, which synthesizes the same constraints with the attacker's witness.
pub fn retype<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    bincode::deserialize(&bincode::serialize(a).expect("encodes")).expect("same layout")
}
