//! Optional HashiCorp Vault settings: off unless `AUTH_VAULT_ADDR` is set.
//!
//! Variables:
//! - `AUTH_VAULT_ADDR`: the Vault address, e.g. `https://vault.example.com:8200`; Vault is off when unset.
//! - `AUTH_VAULT_TOKEN`: authenticate with this token, or
//! - `AUTH_VAULT_ROLE_ID` + `AUTH_VAULT_SECRET_ID`: authenticate with AppRole (at `AUTH_VAULT_APPROLE_MOUNT`,
//!   default `approle`). Exactly one of the two methods must be given.
//! - `AUTH_VAULT_NAMESPACE`: sent as `X-Vault-Namespace` (Vault Enterprise / HCP).
//! - `AUTH_VAULT_MOUNT` (`secret`): the KV v2 mount holding Warden's secrets and the user configuration.
//! - `AUTH_VAULT_SECRETS_PATH` (`warden`): the KV v2 secret with `tenant_secret`, `database_url`, `jwt_secret`,
//!   `encryption_key` (each optional; environment values are the fallback).
//! - `AUTH_VAULT_DB_ROLE`: when set, PostgreSQL credentials come from `<AUTH_VAULT_DB_MOUNT>/creds/<role>`
//!   (dynamic, renewed and rotated); `AUTH_VAULT_DB_MOUNT` defaults to `database`.
//! - `AUTH_USER_CONFIG_SOURCE` (`database`): `database` or `vault`, where user configuration (status, roles,
//!   request quotas) is read from; with `vault`, from `AUTH_VAULT_USER_CONFIG_PATH/{tenant id}/{user_id}` (the
//!   path defaults to `configuration/users`, the seed's; the tenant id is the 64-hex fingerprint of the client key)
//!   on the KV v2 mount, cached per tenant and user for `AUTH_VAULT_CACHE_TTL_SECONDS` (30).
//! - `AUTH_VAULT_USER_CONFIG_LEGACY_TENANT` (unset): a tenant id whose users are read from the seed's unscoped
//!   `AUTH_VAULT_USER_CONFIG_PATH/{user_id}` instead; that tenant only, every other tenant keeps its own folder.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::{invalid, parse_number, ConfigError};

/// How Warden proves who it is to Vault. Debug never prints the token or the secret id.
#[derive(Clone)]
pub enum VaultAuth {
    Token(SecretString),
    AppRole {
        mount: String,
        role_id: String,
        secret_id: SecretString,
    },
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.debug_tuple("Token").field(&"********").finish(),
            Self::AppRole { mount, role_id, .. } => f
                .debug_struct("AppRole")
                .field("mount", mount)
                .field("role_id", role_id)
                .field("secret_id", &"********")
                .finish(),
        }
    }
}

/// Where user configuration (status, roles, request quotas) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserConfigSource {
    Database,
    Vault,
}

#[derive(Debug, Clone)]
pub struct VaultSettings {
    pub address: url::Url,
    pub auth: VaultAuth,
    pub namespace: Option<String>,
    /// The KV v2 mount.
    pub mount: String,
    /// Path, inside the KV v2 mount, of the secret holding Warden's own secrets.
    pub secrets_path: String,
    /// The database secrets engine role; `None` keeps the credentials of the database URL.
    pub db_role: Option<String>,
    pub db_mount: String,
    pub user_config_source: UserConfigSource,
    pub user_config_path: String,
    /// The one tenant (by id) whose users live at the seed's unscoped `user_config_path/{user}`.
    pub user_config_legacy_tenant: Option<String>,
    pub cache_ttl: Duration,
}

impl VaultSettings {
    /// `Ok(None)` when `AUTH_VAULT_ADDR` is unset.
    pub(super) fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let user_config_source = match get("AUTH_USER_CONFIG_SOURCE")
            .unwrap_or_else(|| "database".into())
            .to_ascii_lowercase()
            .as_str()
        {
            "database" => UserConfigSource::Database,
            "vault" => UserConfigSource::Vault,
            other => {
                return Err(invalid(
                    "AUTH_USER_CONFIG_SOURCE",
                    format!("expected `database` or `vault`, got `{other}`"),
                ))
            }
        };
        let Some(raw) = get("AUTH_VAULT_ADDR") else {
            if user_config_source == UserConfigSource::Vault {
                return Err(invalid(
                    "AUTH_USER_CONFIG_SOURCE",
                    "`vault` requires AUTH_VAULT_ADDR",
                ));
            }
            return Ok(None);
        };
        let address = url::Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| invalid("AUTH_VAULT_ADDR", format!("`{raw}` is not an http(s) URL")))?;

        let token = get("AUTH_VAULT_TOKEN");
        let role_id = get("AUTH_VAULT_ROLE_ID");
        let secret_id = get("AUTH_VAULT_SECRET_ID");
        let auth = match (token, role_id, secret_id) {
            (Some(token), None, None) => VaultAuth::Token(SecretString::from(token)),
            (None, Some(role_id), Some(secret_id)) => VaultAuth::AppRole {
                mount: path_segment(get, "AUTH_VAULT_APPROLE_MOUNT", "approle")?,
                role_id,
                secret_id: SecretString::from(secret_id),
            },
            (None, Some(_), None) => {
                return Err(invalid(
                    "AUTH_VAULT_SECRET_ID",
                    "required with AUTH_VAULT_ROLE_ID",
                ))
            }
            (None, None, Some(_)) => {
                return Err(invalid(
                    "AUTH_VAULT_ROLE_ID",
                    "required with AUTH_VAULT_SECRET_ID",
                ))
            }
            (None, None, None) => {
                return Err(invalid(
                    "AUTH_VAULT_TOKEN",
                    "AUTH_VAULT_ADDR is set: give AUTH_VAULT_TOKEN or AUTH_VAULT_ROLE_ID and AUTH_VAULT_SECRET_ID",
                ))
            }
            (Some(_), _, _) => {
                return Err(invalid(
                    "AUTH_VAULT_TOKEN",
                    "give either AUTH_VAULT_TOKEN or AppRole credentials, not both",
                ))
            }
        };

        Ok(Some(Self {
            address,
            auth,
            namespace: get("AUTH_VAULT_NAMESPACE"),
            mount: path_segment(get, "AUTH_VAULT_MOUNT", "secret")?,
            secrets_path: path_segment(get, "AUTH_VAULT_SECRETS_PATH", "warden")?,
            db_role: match get("AUTH_VAULT_DB_ROLE") {
                Some(_) => Some(path_segment(get, "AUTH_VAULT_DB_ROLE", "")?),
                None => None,
            },
            db_mount: path_segment(get, "AUTH_VAULT_DB_MOUNT", "database")?,
            user_config_source,
            user_config_path: path_segment(
                get,
                "AUTH_VAULT_USER_CONFIG_PATH",
                "configuration/users",
            )?,
            user_config_legacy_tenant: match get("AUTH_VAULT_USER_CONFIG_LEGACY_TENANT") {
                None => None,
                Some(id)
                    if id.len() == 64
                        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
                {
                    Some(id)
                }
                Some(_) => {
                    return Err(invalid(
                        "AUTH_VAULT_USER_CONFIG_LEGACY_TENANT",
                        "expected a tenant id: 64 lower-case hexadecimal characters",
                    ))
                }
            },
            cache_ttl: Duration::from_secs(parse_number(
                get,
                "AUTH_VAULT_CACHE_TTL_SECONDS",
                30,
                0,
                86_400,
            )?),
        }))
    }
}

/// A Vault path (or path prefix) without leading or trailing slashes, of `A-Z a-z 0-9 _ - . /` only, so it can
/// be put in a request path as it is.
fn path_segment(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    let raw = get(var).unwrap_or_else(|| default.to_owned());
    let path = raw.trim_matches('/');
    let ok = !path.is_empty()
        && !path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
    if !ok {
        return Err(invalid(var, format!("`{raw}` is not a Vault path")));
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vault(vars: &[(&str, &str)]) -> Result<Option<VaultSettings>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        VaultSettings::from_lookup(&|name: &str| map.get(name).cloned())
    }

    #[test]
    fn vault_is_off_without_an_address() {
        assert!(vault(&[("AUTH_VAULT_TOKEN", "t")]).unwrap().is_none());
    }

    #[test]
    fn defaults_follow_the_seed() {
        let v = vault(&[
            ("AUTH_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("AUTH_VAULT_TOKEN", "root"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(v.mount, "secret");
        assert_eq!(v.secrets_path, "warden");
        assert_eq!(v.db_mount, "database");
        assert_eq!(v.db_role, None);
        assert_eq!(v.user_config_source, UserConfigSource::Database);
        assert_eq!(v.user_config_path, "configuration/users");
        assert_eq!(v.user_config_legacy_tenant, None);
        assert_eq!(v.cache_ttl, Duration::from_secs(30));
    }

    #[test]
    fn malformed_vault_values_name_their_variable() {
        let base = [
            ("AUTH_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("AUTH_VAULT_TOKEN", "root"),
        ];
        for (var, value) in [
            ("AUTH_VAULT_ADDR", "vault:8200"),
            ("AUTH_VAULT_MOUNT", "../sys"),
            ("AUTH_VAULT_DB_ROLE", "a b"),
            ("AUTH_USER_CONFIG_SOURCE", "ldap"),
            ("AUTH_VAULT_CACHE_TTL_SECONDS", "soon"),
            ("AUTH_VAULT_SECRET_ID", "only-half-of-approle"),
        ] {
            let mut vars = base.to_vec();
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            let err = vault(&vars).unwrap_err().to_string();
            assert!(
                err.starts_with("AUTH_VAULT") || err.starts_with("AUTH_USER"),
                "{err}"
            );
            if var != "AUTH_VAULT_SECRET_ID" {
                assert!(err.starts_with(var), "{err}");
            }
        }
    }

    #[test]
    fn an_address_without_credentials_is_refused() {
        let err = vault(&[("AUTH_VAULT_ADDR", "http://127.0.0.1:8200")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("AUTH_VAULT_TOKEN"), "{err}");
    }

    #[test]
    fn user_config_from_vault_needs_vault() {
        let err = vault(&[("AUTH_USER_CONFIG_SOURCE", "vault")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("AUTH_USER_CONFIG_SOURCE"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_the_token_or_secret_id() {
        let token = vault(&[
            ("AUTH_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("AUTH_VAULT_TOKEN", "hvs.topsecrettoken"),
        ])
        .unwrap()
        .unwrap();
        let approle = vault(&[
            ("AUTH_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("AUTH_VAULT_ROLE_ID", "warden-role"),
            ("AUTH_VAULT_SECRET_ID", "s3cr3t-secret-id"),
        ])
        .unwrap()
        .unwrap();
        let printed = format!("{token:?} {approle:?} {token:#?}");
        assert!(!printed.contains("topsecrettoken"), "{printed}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("warden-role"), "{printed}");
    }
}
