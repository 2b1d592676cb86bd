//! Warden's core: the values every layer passes around and the decisions made on them, with no I/O.
//!
//! - [`domain`]: validated names, tenants and client keys, user statuses, audit entries and RBAC changes;
//! - [`crypto`]: the deterministic field cipher (byte-compatible with the seed) and keyed hashes of secrets;
//! - [`model`]: one tenant's roles, grants and members in memory, answering checks with a few hash look-ups;
//! - [`rules`]: access checks with quotas and session wildcards.
//!
//! It is also Warden's library interface: a program can build a [`model::TenantModel`] from a
//! [`model::ModelSnapshot`] (for example read from a Warden database by `warden-store`) and answer checks in-process,
//! without HTTP; see `examples/embedded_check.rs`.

pub mod crypto;
pub mod domain;
pub mod model;
pub mod rules;
