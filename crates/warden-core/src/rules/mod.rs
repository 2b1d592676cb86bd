//! The pure decision rules: no I/O, no clock reads, no randomness of their own (callers pass them in).

pub mod access;
pub mod inheritance;
pub mod resources;
pub mod wildcard;
