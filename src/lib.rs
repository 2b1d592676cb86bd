//! Warden: a standalone REST authorization service.
//!
//! Map: [`config`] reads `AUTH_*` settings · [`startup`] builds and runs the server · [`serve`] accepts connections
//! within limits · [`api`] is the HTTP layer · [`service`] decides and audits · [`telemetry`] sets up logging ·
//! [`metrics`] counts requests and decisions for `/metrics` · [`vault`] reads secrets and database credentials from
//! HashiCorp Vault (optional). Below them: `warden_store` talks SQL to SQLite or PostgreSQL, and `warden_core` holds
//! the validated values, the field cipher, the in-memory model and the pure rules.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod metrics;
pub mod serve;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod vault;
