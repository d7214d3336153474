//! The proving backends, one folder each. A backend reaches the rest of foldmem only through the
//! seam ([`crate::backend`]) and imports no sibling: shared code lives in [`crate::folding`],
//! [`crate::tree`] and [`crate::gadgets`].

pub mod halo2;
pub mod merkle;
pub mod offline;
pub mod stream;
pub mod supernova;
