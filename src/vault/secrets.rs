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
use crate::config::{DatabaseUrl, Settings};

/// The secrets read from Vault. Debug shows which are present, never their values.
///
/// `jwt_secret` and `encryption_key` are read and held here for the security settings (JWT signing, field
/// encryption) to use once those exist in [`Settings`]; [`VaultSecrets::overlay`] applies the other two.
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
    /// When the security settings exist, wire `jwt_secret` and `encryption_key` here the same way.
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
        let held = |s: &Option<SecretString>| {
            if s.is_some() {
                SecretSource::Vault
            } else {
                SecretSource::Unset
            }
        };
        for (secret, source) in [
            ("tenant_secret", tenant_source),
            ("database_url", database_source),
            ("jwt_secret", held(&self.jwt_secret)),
            ("encryption_key", held(&self.encryption_key)),
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
}
