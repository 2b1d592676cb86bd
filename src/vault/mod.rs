//! HashiCorp Vault, optional: Warden's own secrets, dynamic PostgreSQL credentials and user configuration.
//!
//! Off unless `AUTH_VAULT_ADDR` is set (see [`crate::config::vault`]). At start-up, [`VaultRuntime::start`]
//! authenticates (token or AppRole), reads Warden's secrets from KV v2 and overlays them on the settings, and,
//! with a database role, fetches PostgreSQL credentials before the store connects. Any failure there stops
//! start-up with a one-line error: Warden never runs half-configured. Afterwards, background tasks renew the
//! token and the database lease and rotate the credentials before they expire; when Vault is unreachable they keep
//! what is held, retry with backoff, and say so in `/readyz` ([`VaultHealth`]) and in the logs.
//!
//! Calls go through the `vaultrs` crate; the two it lacks in the shape needed (database credentials with their
//! lease, `sys/leases/renew`) are `rustify` endpoints run by `vaultrs`' own executor, in [`database`].

/// Runs one vaultrs call with the current token: `vault_call!(vault, "path", |client| vaultrs::kv2::read(client, …))`.
macro_rules! vault_call {
    ($vault:expr, $path:expr, |$client:ident| $call:expr) => {{
        let guard = $vault.client().await;
        let $client = &*guard;
        let outcome = $call.await;
        drop(guard);
        $vault.record($path, outcome)
    }};
}
pub(crate) use vault_call;

mod client;
pub mod database;
mod health;
mod runtime;
pub mod secrets;
pub mod users;

pub use client::{TokenLease, Vault, VaultError};
pub use health::VaultHealth;
pub use runtime::VaultRuntime;
pub use secrets::VaultSecrets;
pub use users::{RequestQuotas, UserConfig, UserConfigError, UserStatus, VaultUserConfig};

use std::time::Duration;

/// The wait before retry number `attempt` (0-based) after Vault could not be reached: 1 s, 2 s, 4 s … 30 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let waits: Vec<u64> = (0..8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
