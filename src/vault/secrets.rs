//! Warden's own secrets from a KV v2 secret, overlaid on the environment's values.
//!
//! The secret at `<AUTH_VAULT_MOUNT>/data/<AUTH_VAULT_SECRETS_PATH>` may hold, each optional and a string:
//! `tenant_secret`, `database_url`, `jwt_secret`, `encryption_key`. A key present in Vault wins over the
//! environment; a key absent from Vault leaves the environment's value (the fallback) in place.

use std::collections::HashMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{Vault, VaultError};
use crate::config::jwt::weak_secret_reason;
use crate::config::{DatabaseUrl, JwtAlgorithm, Settings};

/// The secrets read from Vault. Debug shows which are present, never their values.
///
/// [`VaultSecrets::overlay`] applies `tenant_secret`, `database_url`, `jwt_secret` (the HS256 secret) and
/// `encryption_key` (used when `AUTH_ENABLE_ENCRYPTION` is true).
#[derive(Default, Clone)]
pub struct VaultSecrets {
    pub tenant_secret: Option<SecretString>,
    pub database_url: Option<SecretString>,
    pub jwt_secret: Option<SecretString>,
    pub encryption_key: Option<SecretString>,
}

impl fmt::Debug for VaultSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<SecretString>| s.as_ref().map(|_| "********");
        f.debug_struct("VaultSecrets")
            .field("tenant_secret", &shown(&self.tenant_secret))
            .field("database_url", &shown(&self.database_url))
            .field("jwt_secret", &shown(&self.jwt_secret))
            .field("encryption_key", &shown(&self.encryption_key))
            .finish()
    }
}

/// Where one secret came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Vault,
    Environment,
    /// Not configured: generated (and, for the tenant secret, kept in the database).
    Generated,
    /// Not configured and not needed.
    Unset,
}

impl SecretSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vault => "vault",
            Self::Environment => "environment",
            Self::Generated => "generated",
            Self::Unset => "unset",
        }
    }
}

/// A secret from Vault that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("vault secret `{path}`: key `{key}` {reason}")]
    Invalid {
        path: String,
        key: &'static str,
        reason: String,
    },
}

impl VaultSecrets {
    /// Reads the secret; a secret that does not exist (404) is empty, so the environment applies.
    #[tracing::instrument(name = "vault_read_secrets", skip_all)]
    pub async fn read(vault: &Vault) -> Result<Self, SecretsError> {
        let settings = vault.settings();
        let (mount, path) = (settings.mount.as_str(), settings.secrets_path.as_str());
        let full = format!("{mount}/data/{path}");
        let data: HashMap<String, Value> = match vault_call!(vault, &full, |c| vaultrs::kv2::read(
            c, mount, path
        )) {
            Ok(data) => data,
            Err(err) if err.is_not_found() => {
                tracing::warn!(path = %full, "no secret in vault at this path; using the environment");
                HashMap::new()
            }
            Err(err) => return Err(err.into()),
        };
        let take = |key: &'static str| -> Result<Option<SecretString>, SecretsError> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(SecretString::from(s.trim().to_owned()))),
                Some(_) => Err(SecretsError::Invalid {
                    path: full.clone(),
                    key,
                    reason: "must be a string".into(),
                }),
            }
        };
        Ok(Self {
            tenant_secret: take("tenant_secret")?,
            database_url: take("database_url")?,
            jwt_secret: take("jwt_secret")?,
            encryption_key: take("encryption_key")?,
        })
    }

    /// Puts the Vault values over the environment's in `settings` (Vault wins; the environment is the fallback),
    /// validating them as the environment's would be, and logs where each secret came from (never a value).
    ///
    /// `jwt_secret` becomes the HS256 secret (`AUTH_JWT_SECRET_KEY`'s place) and is held to the same rules: outside
    /// `AUTH_DEBUG_MODE` a weak one stops start-up. `encryption_key` becomes `AUTH_ENCRYPTION_KEY`, held to its rules
    /// (entropy-bearing, at least 32 bytes, outside debug mode).
    pub fn overlay(&self, settings: &mut Settings, path: &str) -> Result<(), SecretsError> {
        let invalid = |key, reason: &str| SecretsError::Invalid {
            path: path.to_owned(),
            key,
            reason: reason.to_owned(),
        };
        let tenant_source = match &self.tenant_secret {
            Some(secret) => {
                if secret.expose_secret().len() < 32 {
                    return Err(invalid("tenant_secret", "must be at least 32 bytes long"));
                }
                settings.tenant_secret = Some(secret.clone());
                SecretSource::Vault
            }
            None if settings.tenant_secret.is_some() => SecretSource::Environment,
            None => SecretSource::Generated,
        };
        let database_source = match &self.database_url {
            Some(url) => {
                settings.database.url = DatabaseUrl::parse("database_url", url.expose_secret())
                    .map_err(|_| {
                        invalid(
                            "database_url",
                            "is not a sqlite://, postgres:// or postgresql:// URL",
                        )
                    })?;
                SecretSource::Vault
            }
            None => SecretSource::Environment,
        };
        let jwt_source = match &self.jwt_secret {
            Some(secret) => {
                if let (Some(reason), false) =
                    (weak_secret_reason(secret.expose_secret()), settings.debug)
                {
                    return Err(invalid(
                        "jwt_secret",
                        &format!("{reason} (refused outside AUTH_DEBUG_MODE)"),
                    ));
                }
                settings.jwt.secret = Some(secret.clone());
                SecretSource::Vault
            }
            None if settings.jwt.secret.is_some() => SecretSource::Environment,
            None if settings.jwt.algorithm == JwtAlgorithm::EdDsa => SecretSource::Unset,
            None => SecretSource::Generated,
        };
        let encryption_source = match &self.encryption_key {
            Some(key) => {
                if key.expose_secret().chars().count() < crate::config::encryption::MIN_KEY_CHARS {
                    return Err(invalid("encryption_key", "must be at least 16 characters"));
                }
                if let Some(reason) =
                    crate::config::encryption::weak_key_reason(key, settings.debug)
                {
                    return Err(invalid(
                        "encryption_key",
                        &format!("{reason} (refused outside AUTH_DEBUG_MODE)"),
                    ));
                }
                settings.encryption.key = Some(key.clone());
                settings.encryption.weak_key = None;
                SecretSource::Vault
            }
            None if settings.encryption.key.is_some() => SecretSource::Environment,
            None => SecretSource::Unset,
        };
        for (secret, source) in [
            ("tenant_secret", tenant_source),
            ("database_url", database_source),
            ("jwt_secret", jwt_source),
            ("encryption_key", encryption_source),
        ] {
            tracing::info!(secret, source = source.as_str(), "secret source");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secret_values() {
        let secrets = VaultSecrets {
            tenant_secret: Some(SecretString::from("tenant-secret-value-0123456789abcdef")),
            database_url: Some(SecretString::from("postgres://u:dbpassword@h/db")),
            jwt_secret: Some(SecretString::from("jwt-secret-value")),
            encryption_key: None,
        };
        let printed = format!("{secrets:?} {secrets:#?}");
        for value in ["tenant-secret-value", "dbpassword", "jwt-secret-value"] {
            assert!(!printed.contains(value), "{printed}");
        }
        assert!(printed.contains("encryption_key: None"), "{printed}");
    }

    #[test]
    fn vault_values_win_and_the_environment_is_the_fallback() {
        let mut settings = Settings::from_lookup(|name| match name {
            "AUTH_TENANT_SECRET" => Some("environment-tenant-secret-0123456789".into()),
            "AUTH_DATABASE_URL" => Some("sqlite:///tmp/env.db".into()),
            _ => None,
        })
        .unwrap();
        let from_vault = VaultSecrets {
            database_url: Some(SecretString::from("postgres://u:pw@db/warden")),
            ..VaultSecrets::default()
        };
        from_vault
            .overlay(&mut settings, "secret/data/warden")
            .unwrap();
        assert_eq!(settings.database.url.backend_name(), "postgresql");
        assert_eq!(
            settings.tenant_secret.unwrap().expose_secret(),
            "environment-tenant-secret-0123456789"
        );
    }

    #[test]
    fn a_short_tenant_secret_from_vault_is_refused_without_showing_it() {
        let mut settings = Settings::from_lookup(|_| None).unwrap();
        let from_vault = VaultSecrets {
            tenant_secret: Some(SecretString::from("tooshort")),
            ..VaultSecrets::default()
        };
        let err = from_vault
            .overlay(&mut settings, "secret/data/warden")
            .unwrap_err()
            .to_string();
        assert!(err.contains("tenant_secret"), "{err}");
        assert!(!err.contains("tooshort"), "{err}");
    }

    const VAULT_JWT: &str = "q7Vd2kLm9xPz4RtY8wNb3HcJ6fGs1AeU";
    const ENV_JWT: &str = "Zr4Tq8Lp2Wm6Xn0Yk3Vb7Hd1Js5Fg9Ce";
    const VAULT_ENCRYPTION_KEY: &str = "Hs8Kd2Qm5Vx9Lw3Nc7Rb1Tf4Yg6Jp0Za";

    #[test]
    fn the_encryption_key_from_vault_is_the_field_encryption_key() {
        // With Vault configured, encryption may be switched on without a key in the environment.
        let mut settings = Settings::from_lookup(|name| match name {
            "AUTH_ENABLE_ENCRYPTION" => Some("true".into()),
            "AUTH_VAULT_ADDR" => Some("http://127.0.0.1:8200".into()),
            "AUTH_VAULT_TOKEN" => Some("hvs.test".into()),
            _ => None,
        })
        .unwrap();
        assert!(settings.encryption.key.is_none());
        VaultSecrets {
            encryption_key: Some(SecretString::from(VAULT_ENCRYPTION_KEY)),
            ..VaultSecrets::default()
        }
        .overlay(&mut settings, "secret/data/warden")
        .unwrap();
        assert_eq!(
            settings.encryption.key.as_ref().unwrap().expose_secret(),
            VAULT_ENCRYPTION_KEY
        );
        let short = VaultSecrets {
            encryption_key: Some(SecretString::from("short")),
            ..VaultSecrets::default()
        };
        assert!(short.overlay(&mut settings, "secret/data/warden").is_err());
    }

    #[test]
    fn the_jwt_secret_from_vault_becomes_the_hs256_secret() {
        let mut settings = Settings::from_lookup(|name| {
            (name == "AUTH_JWT_SECRET_KEY").then(|| ENV_JWT.to_owned())
        })
        .unwrap();
        let from_vault = VaultSecrets {
            jwt_secret: Some(SecretString::from(VAULT_JWT)),
            ..VaultSecrets::default()
        };
        from_vault
            .overlay(&mut settings, "secret/data/warden")
            .unwrap();
        assert_eq!(settings.jwt.secret.unwrap().expose_secret(), VAULT_JWT);

        // Absent from Vault: the environment's stays.
        let mut settings = Settings::from_lookup(|name| {
            (name == "AUTH_JWT_SECRET_KEY").then(|| ENV_JWT.to_owned())
        })
        .unwrap();
        VaultSecrets::default()
            .overlay(&mut settings, "secret/data/warden")
            .unwrap();
        assert_eq!(settings.jwt.secret.unwrap().expose_secret(), ENV_JWT);
    }

    #[test]
    fn a_weak_jwt_secret_from_vault_is_refused_outside_debug_mode() {
        let weak = VaultSecrets {
            jwt_secret: Some(SecretString::from("short-jwt")),
            ..VaultSecrets::default()
        };
        let mut settings = Settings::from_lookup(|_| None).unwrap();
        let err = weak
            .overlay(&mut settings, "secret/data/warden")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("jwt_secret") && err.contains("32 bytes"),
            "{err}"
        );
        assert!(!err.contains("short-jwt"), "{err}");
        assert!(settings.jwt.secret.is_none());

        let mut debug =
            Settings::from_lookup(|name| (name == "AUTH_DEBUG_MODE").then(|| "true".into()))
                .unwrap();
        weak.overlay(&mut debug, "secret/data/warden").unwrap();
        assert_eq!(debug.jwt.secret.unwrap().expose_secret(), "short-jwt");
    }
}
