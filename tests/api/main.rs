//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

pub use warden_testkit::on_both_backends;

mod access;
mod api_keys;
mod audit;
mod audit_users;
mod bad_input;
mod connections;
mod consistency;
mod encryption;
mod flood;
mod inheritance;
mod jwt;
mod jwt_revocation;
mod key_rotation;
mod limits;
mod membership_expiry;
mod openapi_contract;
mod operations;
mod outage;
mod overload;
mod pagination;
mod passwords;
mod patterns_and_explanations;
mod pruning;
mod rbac;
mod registered;
mod resources;
mod seed_parity;
mod server_secrets;
mod session_bounds;
mod sessions;
mod showcase;
mod strict_users;
mod tenancy;
mod tokens;
mod user_deletion;
mod user_support;
mod users;
