//! Vault integration, against an in-process stand-in Vault ([`standin`]), not a real Vault server.

/// The test kit, under the name every suite file uses.
mod helpers {
    pub use warden_testkit::*;
}

mod access;
mod rotation;
mod secrets;
mod standin;
mod users;
