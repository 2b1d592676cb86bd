//! Warden: a standalone REST authorization service.
//!
//! Map: [`config`] reads `AUTH_*` settings · [`startup`] builds and runs the server · [`serve`] accepts connections within limits · [`api`] is the HTTP layer ·
//! [`service`] holds the rules · [`store`] talks SQL to SQLite or PostgreSQL · [`domain`] has the validated values
//! they pass around · [`crypto`] seals fields and hashes tokens · [`telemetry`] sets up logging · [`metrics`] counts
//! requests and decisions for `/metrics` · [`vault`] reads
//! secrets and database credentials from HashiCorp Vault (optional).
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod metrics;
pub mod serve;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod vault;
