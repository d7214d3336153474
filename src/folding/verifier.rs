//! Verifier-only SuperNova parameters: what arecibo's compressed verifier reads from the public
//! parameters (their digest, the random-oracle constants, the limb parameters, the circuits'
//! count and arities) without the circuits' matrices and commitment keys, which only provers
//! need. The digest is one the verifier trusts (a `--vk` pin or the built-in table), never one
//! computed from a file.

use super::{Sb1, Sc2, SupernovaParams, S2};
use crate::codec::f_to_bytes;
use crate::engine::{E1, E2, F};
use crate::error::Error;
use arecibo::supernova::{AuxParams, NonUniformCircuit, PublicParams};
use arecibo::traits::circuit_supernova::StepCircuit as SupernovaCircuit;
use arecibo::traits::snark::{BatchedRelaxedR1CSSNARKTrait, RelaxedR1CSSNARKTrait};
use bellpepper_core::num::AllocatedNum;
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;

/// A primary circuit that passes its state through: a stand-in whose setup yields the constants
/// arecibo derives independently of the circuit (hash constants, limb parameters, the secondary
/// circuit's shape) for a given count and arity of circuits.
#[derive(Clone, Debug)]
struct PassThrough {
    arity: usize,
    index: usize,
}

impl SupernovaCircuit<F> for PassThrough {
    fn arity(&self) -> usize {
        self.arity
    }
    fn circuit_index(&self) -> usize {
        self.index
    }
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        _pc: Option<&AllocatedNum<F>>,
        z: &[AllocatedNum<F>],
    ) -> Result<(Option<AllocatedNum<F>>, Vec<AllocatedNum<F>>), SynthesisError> {
        let pc = AllocatedNum::alloc(cs.namespace(|| "pc"), || Ok(F::ZERO))?;
        Ok((Some(pc), z.to_vec()))
    }
}

struct PassThroughs(Vec<usize>);

impl NonUniformCircuit<E1, E2, PassThrough, Sc2> for PassThroughs {
    fn num_circuits(&self) -> usize {
        self.0.len()
    }
    fn primary_circuit(&self, index: usize) -> PassThrough {
        PassThrough {
            arity: self.0[index],
            index,
        }
    }
    fn secondary_circuit(&self) -> Sc2 {
        Sc2::default()
    }
}

/// Parameters for verifying compressed proofs of primary circuits `C` with these `arities` (one
/// per circuit, in index order) whose full parameters have digest `digest`. Verification with
/// them reads exactly what it reads from the full parameters: `digest`, the default hash
/// constants and limb parameters, the secondary circuit's arity (the trivial circuit's), and the
/// count and arities of the primary circuits. They cannot fold or compress.
pub fn verifier_params<C: SupernovaCircuit<F>>(
    arities: &[usize],
    digest: [u8; 32],
) -> Result<SupernovaParams<C>, Error> {
    use ff::PrimeField;
    let digest = Option::<F>::from(F::from_repr(digest))
        .ok_or_else(|| Error::Internal("trusted params digest is not a field element".into()))?;
    let pp = PublicParams::<E1, E2, PassThrough, Sc2>::setup(
        &PassThroughs(arities.to_vec()),
        &*Sb1::ck_floor(),
        &*S2::ck_floor(),
    );
    let own = pp.digest();
    let (shapes, aux) = pp.into_parts();
    // AuxParams keeps its digest private and last: replace its encoding's final 32 bytes, after
    // checking they are the stand-in's digest (so a change of layout fails here, loudly)
    let mut bytes = bincode::serialize(&aux).map_err(Error::internal)?;
    let n = bytes.len();
    if n < 32 || bytes[n - 32..] != f_to_bytes(&own) {
        return Err(Error::Internal(
            "arecibo's AuxParams layout changed: its digest is not its last field".into(),
        ));
    }
    bytes[n - 32..].copy_from_slice(&f_to_bytes(&digest));
    let aux: AuxParams<E1, E2> = bincode::deserialize(&bytes).map_err(Error::internal)?;
    let pp = SupernovaParams::<C>::from_parts_unchecked(shapes, aux);
    debug_assert_eq!(pp.digest(), digest);
    Ok(pp)
}
