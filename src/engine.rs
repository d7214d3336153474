//! The curve cycle every folding backend runs on: Pallas as the primary engine (its scalar field
//! is the field the step circuits are written over), Vesta as the secondary.

/// Primary engine of the folding cycle.
pub type E1 = arecibo::provider::PallasEngine;
/// Secondary engine of the folding cycle.
pub type E2 = arecibo::provider::VestaEngine;
/// Field the step circuits are written over (Pallas' scalar field, Vesta's base field).
pub type F = <E1 as arecibo::traits::Engine>::Scalar;
/// Field of the secondary circuit (Vesta's scalar field).
pub type F2 = <E2 as arecibo::traits::Engine>::Scalar;
