//! Unsupervised anomaly detectors for cis490. The extended isolation
//! forest (Hariri et al.) is reproducible bit for bit by its TypeScript
//! twin (src/reference/eif.ts): the random numbers come from
//! cis490-stats' xoshiro128** streams and the only transcendental
//! function in tree building (ln) is computed by plain arithmetic here,
//! never by the platform's libm. Algorithm: docs/anomaly.md.

pub mod detmath;
pub mod eif;

pub use eif::{fit, EifModel, EifOptions, EifTree};
