//! Field encryption settings.
//!
//! Variables:
//! - `AUTH_ENABLE_ENCRYPTION` (false): store user names (in memberships), permission names and role descriptions
//!   encrypted with deterministic AES-256-CTR, so they stay queryable.
//! - `AUTH_ENCRYPTION_KEY`: the key (at least 16 characters) every tenant's field keys derive from; required when
//!   encryption is on. Changing it needs `warden rotate-encryption-key`.
//! - `AUTH_NEW_ENCRYPTION_KEY`: only for `warden rotate-encryption-key`: the key to rotate to.

use secrecy::{ExposeSecret, SecretString};

use super::{invalid, parse_bool, ConfigError};

const MIN_KEY_CHARS: usize = 16;

#[derive(Clone, Default)]
pub struct EncryptionSettings {
    /// `AUTH_ENABLE_ENCRYPTION`.
    pub enabled: bool,
    /// `AUTH_ENCRYPTION_KEY`, or `encryption_key` from Vault.
    pub key: Option<SecretString>,
    /// The key `warden rotate-encryption-key` rotates to.
    pub new_key: Option<SecretString>,
}

impl std::fmt::Debug for EncryptionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionSettings")
            .field("enabled", &self.enabled)
            .field("key", &self.key.as_ref().map(|_| "********"))
            .field("new_key", &self.new_key.as_ref().map(|_| "********"))
            .finish()
    }
}

fn key(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    match get(var) {
        None => Ok(None),
        Some(raw) if raw.chars().count() < MIN_KEY_CHARS => Err(invalid(
            var,
            format!("must be at least {MIN_KEY_CHARS} characters"),
        )),
        Some(raw) => Ok(Some(SecretString::from(raw))),
    }
}

pub(super) fn encryption_from(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<EncryptionSettings, ConfigError> {
    let enabled = parse_bool(get, "AUTH_ENABLE_ENCRYPTION", false)?;
    let configured = key(get, "AUTH_ENCRYPTION_KEY")?;
    let new_key = key(get, "AUTH_NEW_ENCRYPTION_KEY")?;
    // With Vault configured the key may come from there (checked again once Vault's secrets are read).
    if enabled && configured.is_none() && get("AUTH_VAULT_ADDR").is_none() {
        return Err(invalid(
            "AUTH_ENCRYPTION_KEY",
            "required when AUTH_ENABLE_ENCRYPTION is true",
        ));
    }
    if let (Some(old), Some(new)) = (&configured, &new_key) {
        if old.expose_secret() == new.expose_secret() {
            return Err(invalid(
                "AUTH_NEW_ENCRYPTION_KEY",
                "is the same as AUTH_ENCRYPTION_KEY",
            ));
        }
    }
    Ok(EncryptionSettings {
        enabled,
        key: configured,
        new_key,
    })
}
