//! User configuration from Vault, as the seed keeps it: a KV v2 secret with `status` (`allowed` or `denied`,
//! exactly), `roles` (a list of role names) and `requests` (quotas), read through a short-TTL cache so an access
//! check does not cost a Vault round trip each time. users-package's real data stores `roles` and `requests` as
//! JSON-encoded strings (`"roles": "[\"admin\"]"`); both that and native JSON are read.
//!
//! Users are per tenant, like everything else in Warden: tenant `T`'s user `u` is the secret
//! `{AUTH_VAULT_USER_CONFIG_PATH}/{T}/{u}` (`T` the tenant id, the 64-hex fingerprint of its client key), and the
//! cache is keyed by (tenant, user), so no tenant can read another's users. The seed's unscoped layout
//! `{AUTH_VAULT_USER_CONFIG_PATH}/{u}` is read only for the one tenant named by
//! `AUTH_VAULT_USER_CONFIG_LEGACY_TENANT`, for a deployment migrating from a single-tenant setup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use serde_json::Value;

use super::{Vault, VaultError};
use warden_core::domain::TenantId;

pub use warden_core::domain::UserStatus;

/// Request limits for one user; `random_shift_minutes` adds 0..=n random minutes to the end of a limit (the seed
/// also spells it `random_shift_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RequestQuotas {
    pub requests_per_hour: u32,
    pub requests_per_day: u32,
    #[serde(default, alias = "random_shift_time")]
    pub random_shift_minutes: u32,
}

/// One user's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConfig {
    pub status: UserStatus,
    pub roles: Vec<String>,
    /// `None` when the secret sets no `requests`: no limits.
    pub requests: Option<RequestQuotas>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserConfigError {
    #[error("user id `{0}` cannot name a vault secret")]
    InvalidUserId(String),
    /// The seed's `WrongUserConfiguration`.
    #[error("wrong configuration for user `{user_id}` in vault: {reason}")]
    Wrong { user_id: String, reason: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// The raw secret, before validation.
#[derive(Deserialize)]
struct RawUserConfig {
    status: String,
    #[serde(default, deserialize_with = "native_or_encoded")]
    roles: Vec<String>,
    #[serde(default, deserialize_with = "native_or_encoded")]
    requests: Option<RequestQuotas>,
}

/// A value given as itself or as a string holding its JSON text (users-package writes the latter).
fn native_or_encoded<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    let value = match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|err| {
            serde::de::Error::custom(format!("a JSON-encoded string that does not parse: {err}"))
        })?,
        other => other,
    };
    T::deserialize(value).map_err(serde::de::Error::custom)
}

/// Answers by tenant and user id, with when they were read (`None`: Vault has no configuration for the user).
type Cache = HashMap<(TenantId, String), (Instant, Option<UserConfig>)>;

/// Reads user configuration from Vault with a cache; cheap to clone (clones share the cache).
#[derive(Clone, Debug)]
pub struct VaultUserConfig {
    vault: Vault,
    cache: Arc<Mutex<Cache>>,
}

impl VaultUserConfig {
    pub fn new(vault: Vault) -> Self {
        Self {
            vault,
            cache: Arc::default(),
        }
    }

    /// The tenant's user's configuration; `Ok(None)` when Vault has none for them (they are unknown). Answers,
    /// including "unknown", are cached for `AUTH_VAULT_CACHE_TTL_SECONDS`; errors are not.
    #[tracing::instrument(name = "vault_user_config", skip_all)]
    pub async fn get(
        &self,
        tenant: &TenantId,
        user_id: &str,
    ) -> Result<Option<UserConfig>, UserConfigError> {
        let valid = !user_id.is_empty()
            && user_id.len() <= 128
            && user_id != "."
            && user_id != ".."
            && user_id.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'@' | b'+')
            });
        if !valid {
            return Err(UserConfigError::InvalidUserId(user_id.to_owned()));
        }
        let ttl = self.vault.settings().cache_ttl;
        let key = (tenant.clone(), user_id.to_owned());
        if let Some((read_at, config)) = self.lock().get(&key) {
            if read_at.elapsed() < ttl {
                return Ok(config.clone());
            }
        }
        let config = self.read(tenant, user_id).await?;
        if !ttl.is_zero() {
            let mut cache = self.lock();
            cache.retain(|_, (read_at, _)| read_at.elapsed() < ttl);
            cache.insert(key, (Instant::now(), config.clone()));
        }
        Ok(config)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds plain values; one left by a panicking holder is still consistent.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the tenant's user lives in the KV v2 mount (see the module doc).
    pub fn path(&self, tenant: &TenantId, user_id: &str) -> String {
        let settings = self.vault.settings();
        let prefix = &settings.user_config_path;
        if settings.user_config_legacy_tenant.as_deref() == Some(tenant.as_str()) {
            format!("{prefix}/{user_id}")
        } else {
            format!("{prefix}/{tenant}/{user_id}")
        }
    }

    async fn read(
        &self,
        tenant: &TenantId,
        user_id: &str,
    ) -> Result<Option<UserConfig>, UserConfigError> {
        let mount = self.vault.settings().mount.as_str();
        let path = self.path(tenant, user_id);
        let full = format!("{mount}/data/{path}");
        let raw: Value =
            match vault_call!(self.vault, &full, |c| vaultrs::kv2::read(c, mount, &path)) {
                Ok(raw) => raw,
                Err(err) if err.is_not_found() => return Ok(None),
                Err(err) => return Err(err.into()),
            };
        let wrong = |reason: String| UserConfigError::Wrong {
            user_id: user_id.to_owned(),
            reason,
        };
        let raw: RawUserConfig = serde_json::from_value(raw).map_err(|e| wrong(e.to_string()))?;
        let Some(status) = UserStatus::parse(&raw.status) else {
            return Err(wrong(format!(
                "status must be `allowed` or `denied`, got `{}`",
                raw.status
            )));
        };
        Ok(Some(UserConfig {
            status,
            roles: raw.roles,
            requests: raw.requests,
        }))
    }
}
