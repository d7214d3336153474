//! Constraint counts arecibo keeps private, read from the serde encoding of its types.

use super::Sc2;
use crate::engine::{E1, E2, F};
use arecibo::traits::Engine;
use serde::Deserialize;

/// Constraint count of an arecibo R1CS shape. arecibo keeps the field crate-private, but it is
/// the first field of the shape's serde encoding (a fixed-width `u64` in bincode).
pub fn r1cs_num_cons<E: Engine>(shape: &arecibo::r1cs::R1CSShape<E>) -> usize {
    let mut head = Vec::with_capacity(8);
    let _ = bincode::serialize_into(LimitedWriter(&mut head), shape);
    head.get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .unwrap_or(0)
}

/// A writer that keeps the first 8 bytes and then stops the encoder.
struct LimitedWriter<'a>(&'a mut Vec<u8>);

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() >= 8 {
            return Err(std::io::Error::other("enough"));
        }
        let n = buf.len().min(8 - self.0.len());
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Constraints of a SuperNova parameter set's secondary circuit (arecibo keeps its shape private:
/// it is read from the parameters' serde encoding, whose field order arecibo 0.1.1 fixes).
pub fn supernova_secondary_constraints<C1>(
    pp: &arecibo::supernova::PublicParams<E1, E2, C1, Sc2>,
) -> usize
where
    C1: arecibo::traits::circuit_supernova::StepCircuit<F>,
{
    type Ck<E> =
        <<E as Engine>::CE as arecibo::traits::commitment::CommitmentEngineTrait<E>>::CommitmentKey;
    #[derive(Deserialize)]
    struct AugParams {
        _limb_width: usize,
        _n_limbs: usize,
        _is_primary: bool,
    }
    #[derive(Deserialize)]
    #[serde(bound = "")]
    struct Shape<E: Engine> {
        _arity: usize,
        r1cs: arecibo::r1cs::R1CSShape<E>,
    }
    type Prefix = (
        Vec<Shape<E1>>,
        arecibo::traits::ROConstants<E1>,
        arecibo::traits::ROConstantsCircuit<E2>,
        Ck<E1>,
        AugParams,
        arecibo::traits::ROConstants<E2>,
        arecibo::traits::ROConstantsCircuit<E1>,
        Ck<E2>,
        Shape<E2>,
    );
    bincode::serialize(pp)
        .ok()
        .and_then(|bytes| bincode::deserialize::<Prefix>(&bytes).ok())
        .map(|p| r1cs_num_cons(&p.8.r1cs))
        .unwrap_or(0)
}
