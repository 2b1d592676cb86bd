//! Vault integration, against an in-process stand-in Vault ([`standin`]), not a real Vault server.

// The shared harness; this suite uses part of it.
#[allow(dead_code, unused_macros)]
#[path = "../api/helpers.rs"]
mod helpers;

mod access;
mod rotation;
mod secrets;
mod standin;
mod users;
