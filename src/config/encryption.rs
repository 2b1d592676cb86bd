//! Field encryption settings.
//!
//! Variables:
//! - `AUTH_ENABLE_ENCRYPTION` (false): store user names (in memberships), permission names and role descriptions
//!   encrypted with deterministic AES-256-CTR, so they stay queryable.
//! - `AUTH_ENCRYPTION_KEY`: the key every tenant's field keys derive from; required when encryption is on. Outside
//!   `AUTH_DEBUG_MODE` it must be entropy-bearing text of at least 32 bytes (the rules of `AUTH_JWT_SECRET_KEY`: no
//!   placeholder words, not too repetitive; e.g. `openssl rand -hex 32`); a weaker one is accepted only beside
//!   `AUTH_NEW_ENCRYPTION_KEY`, so `warden rotate-encryption-key` can move a database off it. Debug mode accepts 16
//!   characters. Changing it needs `warden rotate-encryption-key`.
//! - `AUTH_NEW_ENCRYPTION_KEY`: only for `warden rotate-encryption-key`: the key to rotate to (same rules).

use secrecy::{ExposeSecret, SecretString};

use super::jwt::weak_secret_reason;
use super::{invalid, parse_bool, ConfigError};

/// The least any key may have, even in debug mode.
pub(crate) const MIN_KEY_CHARS: usize = 16;

#[derive(Clone, Default)]
pub struct EncryptionSettings {
    /// `AUTH_ENABLE_ENCRYPTION`.
    pub enabled: bool,
    /// `AUTH_ENCRYPTION_KEY`, or `encryption_key` from Vault.
    pub key: Option<SecretString>,
    /// The key `warden rotate-encryption-key` rotates to.
    pub new_key: Option<SecretString>,
    /// Why `key` is too weak to serve with, when it was accepted only so that it can be rotated away from.
    pub weak_key: Option<&'static str>,
}

impl std::fmt::Debug for EncryptionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionSettings")
            .field("enabled", &self.enabled)
            .field("key", &self.key.as_ref().map(|_| "********"))
            .field("new_key", &self.new_key.as_ref().map(|_| "********"))
            .field("weak_key", &self.weak_key)
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

/// Why a key is too weak outside debug mode, if it is.
pub(crate) fn weak_key_reason(key: &SecretString, debug: bool) -> Option<&'static str> {
    if debug {
        None
    } else {
        weak_secret_reason(key.expose_secret())
    }
}

pub(super) fn encryption_from(
    get: &impl Fn(&str) -> Option<String>,
    debug: bool,
) -> Result<EncryptionSettings, ConfigError> {
    let enabled = parse_bool(get, "AUTH_ENABLE_ENCRYPTION", false)?;
    let configured = key(get, "AUTH_ENCRYPTION_KEY")?;
    let new_key = key(get, "AUTH_NEW_ENCRYPTION_KEY")?;
    if let Some(reason) = new_key.as_ref().and_then(|k| weak_key_reason(k, debug)) {
        return Err(invalid(
            "AUTH_NEW_ENCRYPTION_KEY",
            format!("{reason} (refused outside AUTH_DEBUG_MODE)"),
        ));
    }
    let weak_key = configured.as_ref().and_then(|k| weak_key_reason(k, debug));
    if let (Some(reason), None) = (weak_key, &new_key) {
        return Err(invalid(
            "AUTH_ENCRYPTION_KEY",
            format!(
                "{reason} (refused outside AUTH_DEBUG_MODE; move an existing database off it with \
                 `warden rotate-encryption-key` and a strong AUTH_NEW_ENCRYPTION_KEY)"
            ),
        ));
    }
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
        weak_key,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::settings;

    const STRONG: &str = "c4f1a9e07b3d52e8a6f0d9b1c7e2a5f3";
    const OTHER_STRONG: &str = "7e2b9d4a1f6c03e8b5d2a7f9c1e4b6d0";

    #[test]
    fn a_weak_encryption_key_is_refused_outside_debug_mode_naming_the_variable() {
        for weak in [
            "sixteen-chars-ok",
            "test-encryption-key-0001",
            "my-encryption-password-is-long-enough-0001",
            "abcabcabcabcabcabcabcabcabcabcabcabc",
        ] {
            for var in ["AUTH_ENCRYPTION_KEY", "AUTH_NEW_ENCRYPTION_KEY"] {
                let err = settings(&[("AUTH_ENABLE_ENCRYPTION", "true"), (var, weak)])
                    .unwrap_err()
                    .to_string();
                assert!(err.starts_with(var), "{err}");
                assert!(!err.contains(weak), "the key must not be echoed: {err}");
            }
            let debug = settings(&[
                ("AUTH_ENABLE_ENCRYPTION", "true"),
                ("AUTH_ENCRYPTION_KEY", weak),
                ("AUTH_DEBUG_MODE", "true"),
            ])
            .unwrap();
            assert!(debug.encryption.weak_key.is_none());
        }
        let s = settings(&[
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", STRONG),
        ])
        .unwrap();
        assert!(s.encryption.weak_key.is_none());
        assert!(!format!("{s:?}").contains(STRONG));
    }

    #[test]
    fn a_weak_current_key_is_accepted_only_to_rotate_away_from_it() {
        let s = settings(&[
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", "test-encryption-key-0001"),
            ("AUTH_NEW_ENCRYPTION_KEY", OTHER_STRONG),
        ])
        .unwrap();
        assert!(s.encryption.weak_key.is_some());
    }
}
