//! Typed settings, read once at start-up from `AUTH_*` environment variables (and an optional `.env`).
//!
//! Variables:
//! - `AUTH_DATABASE_URL`: full URL (`sqlite://path`, `postgres://…`, `postgresql://…`); overrides the two below.
//! - `AUTH_DATABASE_TYPE`: `sqlite` (default) or `postgresql`.
//! - `AUTH_POSTGRESQL_URL`: the PostgreSQL URL used when the type is `postgresql`.
//! - `AUTH_SQLITE_PATH`: the SQLite file, default `~/.auth.sqlite3`.
//! - `AUTH_DATABASE_POOL_SIZE` (10), `AUTH_DATABASE_TIMEOUT_SECONDS` (5): pool size and how long a request waits for
//!   a connection before it is answered 503.
//! - `AUTH_SERVER_HOST` (127.0.0.1), `AUTH_SERVER_PORT` (8000).
//! - `AUTH_REQUEST_TIMEOUT_SECONDS` (30): a request that takes longer is answered 408.
//! - `AUTH_SERVER_HEADER_READ_TIMEOUT_SECONDS` (10): a client must send a request's whole head (request line and
//!   headers) within this time, or its connection is closed (slowloris).
//! - `AUTH_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS` (5): an idle keep-alive connection is closed after this long without a
//!   request.
//! - `AUTH_SERVER_MAX_CONNECTIONS` (1024): connections served at once; further ones wait in the listen backlog until
//!   one closes.
//! - `AUTH_WRITE_QUEUE_PER_TENANT` (1024): RBAC writes one tenant may have waiting to commit; more are answered 503.
//! - `AUTH_DEBUG_MODE` (false), `AUTH_LOG_FORMAT` (`text` or `json`), `AUTH_LOG_LEVEL` (`info`).
//! - `AUTH_ALLOW_CORS` (true), `AUTH_CORS_ORIGINS` (`*`, or a comma-separated list of origins).
//! - `AUTH_TENANT_SECRET`: the server secret that turns client keys into tenant ids (`hex:<digits>` for raw bytes).
//!   When unset: on SQLite one is generated into the owner-only file `<database file>.secrets`; on PostgreSQL
//!   start-up is refused outside `AUTH_DEBUG_MODE` (see `service::server_secrets`).
//! - Users, access checks, tokens and sessions: see `config/users.rs`.
//!
//! Audit, model memory and per-tenant quota settings: see `config/audit.rs`.
//! - JWT (`AUTH_JWT_*`): see [`jwt`]; tenant mode (`AUTH_TENANT_MODE`): see [`tenancy`]; rate limit
//!   (`AUTH_RATE_LIMIT_PER_SECOND`): see [`limits`].
//!
//! - `AUTH_VAULT_*`, `AUTH_USER_CONFIG_SOURCE`: optional HashiCorp Vault, see [`vault`].
//!
//! Every malformed value is a [`ConfigError`] naming the variable; nothing here panics.

mod audit;
pub(crate) mod encryption;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use warden_store::{DatabaseSettings, DatabaseUrl, DatabaseUrlError};

pub use audit::{AuditSettings, ModelSettings, TenantQuotas};
pub use encryption::EncryptionSettings;
pub mod jwt;
pub mod limits;
pub mod tenancy;

pub use jwt::{JwtAlgorithm, JwtSettings};
pub use limits::RateLimit;
pub use tenancy::TenantMode;
mod users;
pub use users::UsersSettings;
pub mod vault;

pub use vault::{UserConfigSource, VaultAuth, VaultSettings};

/// A configuration value that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {reason}")]
    Invalid { var: &'static str, reason: String },
}

impl From<DatabaseUrlError> for ConfigError {
    fn from(err: DatabaseUrlError) -> Self {
        invalid(err.var, err.reason)
    }
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    pub request_timeout: Duration,
    /// Time allowed for a request's head, from the moment the connection waits for it.
    pub header_read_timeout: Duration,
    /// Time an idle keep-alive connection is kept open.
    pub keep_alive_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// RBAC writes one tenant may have waiting to commit.
    pub write_queue_per_tenant: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which origins may call Warden from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Disabled,
    Any,
    List(Vec<String>),
}

#[derive(Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub debug: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub cors: CorsOrigins,
    pub tenant_secret: Option<SecretString>,
    pub audit: AuditSettings,
    pub model: ModelSettings,
    pub encryption: EncryptionSettings,
    pub jwt: JwtSettings,
    pub tenant_mode: TenantMode,
    pub rate_limit: Option<RateLimit>,
    pub users: UsersSettings,
    /// HashiCorp Vault, when `AUTH_VAULT_ADDR` is set.
    pub vault: Option<VaultSettings>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database)
            .field("server", &self.server)
            .field("debug", &self.debug)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("cors", &self.cors)
            .field(
                "tenant_secret",
                &self.tenant_secret.as_ref().map(|_| "********"),
            )
            .field("encryption", &self.encryption)
            .field("audit", &self.audit)
            .field("model", &self.model)
            .field("jwt", &self.jwt)
            .field("tenant_mode", &self.tenant_mode)
            .field("rate_limit", &self.rate_limit)
            .field("users", &self.users)
            .field("vault", &self.vault)
            .finish()
    }
}

impl Settings {
    /// Reads the process environment (after loading `.env`, when present).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the values it leaves unset.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let url = match get("AUTH_DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse("AUTH_DATABASE_URL", &raw)?,
            None => match get("AUTH_DATABASE_TYPE")
                .unwrap_or_else(|| "sqlite".into())
                .to_ascii_lowercase()
                .as_str()
            {
                "sqlite" | "sqlite3" => DatabaseUrl::sqlite_path(
                    &get("AUTH_SQLITE_PATH").unwrap_or_else(|| "~/.auth.sqlite3".into()),
                ),
                "postgresql" | "postgres" => {
                    let raw = get("AUTH_POSTGRESQL_URL").ok_or_else(|| {
                        invalid(
                            "AUTH_POSTGRESQL_URL",
                            "required when AUTH_DATABASE_TYPE is postgresql",
                        )
                    })?;
                    let url = DatabaseUrl::parse("AUTH_POSTGRESQL_URL", &raw)?;
                    if !matches!(url, DatabaseUrl::Postgres(_)) {
                        return Err(invalid(
                            "AUTH_POSTGRESQL_URL",
                            "expected a postgres:// or postgresql:// URL",
                        ));
                    }
                    url
                }
                other => {
                    return Err(invalid(
                        "AUTH_DATABASE_TYPE",
                        format!("expected `sqlite` or `postgresql`, got `{other}`"),
                    ))
                }
            },
        };

        let database = DatabaseSettings {
            url,
            pool_size: parse_number(&get, "AUTH_DATABASE_POOL_SIZE", 10, 1, 1000)? as u32,
            acquire_timeout: Duration::from_secs(parse_number(
                &get,
                "AUTH_DATABASE_TIMEOUT_SECONDS",
                5,
                1,
                300,
            )?),
        };

        let host = match get("AUTH_SERVER_HOST") {
            Some(raw) if raw.eq_ignore_ascii_case("localhost") => IpAddr::from([127, 0, 0, 1]),
            Some(raw) => raw.parse().map_err(|_| {
                invalid("AUTH_SERVER_HOST", format!("`{raw}` is not an IP address"))
            })?,
            None => IpAddr::from([127, 0, 0, 1]),
        };
        let server = ServerSettings {
            host,
            port: parse_number(&get, "AUTH_SERVER_PORT", 8000, 0, 65535)? as u16,
            request_timeout: Duration::from_secs(parse_number(
                &get,
                "AUTH_REQUEST_TIMEOUT_SECONDS",
                30,
                1,
                3600,
            )?),
            header_read_timeout: Duration::from_secs(parse_number(
                &get,
                "AUTH_SERVER_HEADER_READ_TIMEOUT_SECONDS",
                10,
                1,
                3600,
            )?),
            keep_alive_timeout: Duration::from_secs(parse_number(
                &get,
                "AUTH_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS",
                5,
                1,
                3600,
            )?),
            max_connections: parse_number(&get, "AUTH_SERVER_MAX_CONNECTIONS", 1024, 1, 1_000_000)?
                as usize,
            write_queue_per_tenant: parse_number(
                &get,
                "AUTH_WRITE_QUEUE_PER_TENANT",
                1024,
                1,
                1_000_000,
            )? as usize,
        };

        let log_format = match get("AUTH_LOG_FORMAT")
            .unwrap_or_else(|| "text".into())
            .to_ascii_lowercase()
            .as_str()
        {
            "text" | "pretty" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "AUTH_LOG_FORMAT",
                    format!("expected `text` or `json`, got `{other}`"),
                ))
            }
        };
        let log_level = get("AUTH_LOG_LEVEL").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|_| {
            invalid(
                "AUTH_LOG_LEVEL",
                format!("`{log_level}` is not a log filter"),
            )
        })?;

        let cors = if parse_bool(&get, "AUTH_ALLOW_CORS", true)? {
            match get("AUTH_CORS_ORIGINS").as_deref() {
                None | Some("*") => CorsOrigins::Any,
                Some(list) => {
                    let origins: Vec<String> = list
                        .split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect();
                    for origin in &origins {
                        if origin == "*" {
                            return Err(invalid(
                                "AUTH_CORS_ORIGINS",
                                "`*` cannot be combined with other origins",
                            ));
                        }
                        let ok = url::Url::parse(origin)
                            .map(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                            .unwrap_or(false);
                        if !ok {
                            return Err(invalid(
                                "AUTH_CORS_ORIGINS",
                                format!("`{origin}` is not an http(s) origin"),
                            ));
                        }
                    }
                    CorsOrigins::List(origins)
                }
            }
        } else {
            CorsOrigins::Disabled
        };

        let tenant_secret = get("AUTH_TENANT_SECRET").map(SecretString::from);
        if let Some(secret) = &tenant_secret {
            if secret.expose_secret().len() < 32 {
                return Err(invalid(
                    "AUTH_TENANT_SECRET",
                    "must be at least 32 bytes long",
                ));
            }
        }

        let debug = parse_bool(&get, "AUTH_DEBUG_MODE", false)?;
        let jwt = JwtSettings::from_lookup(&get, debug)?;
        let tenant_mode = tenancy::tenant_mode(&get)?;
        let rate_limit = limits::rate_limit(&get)?;

        Ok(Self {
            database,
            server,
            debug,
            log_format,
            log_level,
            cors,
            tenant_secret,
            encryption: encryption::encryption_from(&get, debug)?,
            audit: audit::audit_from(&get)?,
            model: audit::model_from(&get)?,
            jwt,
            tenant_mode,
            rate_limit,
            users: UsersSettings::from_lookup(&get)?,
            vault: VaultSettings::from_lookup(&get)?,
        })
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(raw) => match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(var, format!("expected true or false, got `{raw}`"))),
        },
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            var,
            format!("expected a whole number from {min} to {max}, got `{raw}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    pub(super) fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_sqlite_on_localhost_8000() {
        let s = settings(&[]).unwrap();
        assert!(
            matches!(s.database.url, DatabaseUrl::Sqlite(ref p) if p.ends_with(".auth.sqlite3"))
        );
        assert_eq!(s.server.port, 8000);
        assert_eq!(s.server.host.to_string(), "127.0.0.1");
        assert_eq!(s.cors, CorsOrigins::Any);
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (var, value) in [
            ("AUTH_SERVER_PORT", "eighty"),
            ("AUTH_SERVER_PORT", "70000"),
            ("AUTH_DEBUG_MODE", "maybe"),
            ("AUTH_DATABASE_TYPE", "oracle"),
            ("AUTH_DATABASE_URL", "mysql://x"),
            ("AUTH_SERVER_HOST", "not a host"),
            ("AUTH_LOG_FORMAT", "xml"),
            ("AUTH_CORS_ORIGINS", "ftp://x.example"),
            ("AUTH_TENANT_SECRET", "short"),
            ("AUTH_TENANT_MODE", "closed"),
            ("AUTH_RATE_LIMIT_PER_SECOND", "0"),
            ("AUTH_RATE_LIMIT_PER_SECOND", "many"),
            ("AUTH_JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("AUTH_JWT_REFRESH_TOKEN_EXPIRE_DAYS", "x"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err().to_string();
            assert!(err.starts_with(var), "{err}");
        }
    }

    #[test]
    fn postgres_type_requires_its_url() {
        let err = settings(&[("AUTH_DATABASE_TYPE", "postgresql")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("AUTH_POSTGRESQL_URL"));
        let s = settings(&[
            ("AUTH_DATABASE_TYPE", "postgresql"),
            ("AUTH_POSTGRESQL_URL", "postgres://u:pw@localhost/db"),
        ])
        .unwrap();
        assert_eq!(s.database.url.backend_name(), "postgresql");
    }

    #[test]
    fn database_url_overrides_type_and_path() {
        let s = settings(&[
            ("AUTH_DATABASE_TYPE", "postgresql"),
            ("AUTH_DATABASE_URL", "sqlite:///tmp/x.db"),
        ])
        .unwrap();
        assert!(
            matches!(s.database.url, DatabaseUrl::Sqlite(ref p) if p == &PathBuf::from("/tmp/x.db"))
        );
    }

    #[test]
    fn passwords_in_the_query_string_are_masked_too() {
        for raw in [
            "postgres://warden@db/auth?password=hunter2secret&sslmode=require",
            "postgresql://warden:hunter2secret@db/auth?sslmode=require&PASSWORD=hunter2secret",
            "postgres:///auth?host=/run/pg&sslpassword=hunter2secret",
        ] {
            let url = DatabaseUrl::parse("AUTH_DATABASE_URL", raw).unwrap();
            let printed = format!("{url} {url:?}");
            assert!(!printed.contains("hunter2secret"), "{printed}");
            assert!(
                printed.to_ascii_lowercase().contains("password=********"),
                "{printed}"
            );
        }
        let url = DatabaseUrl::parse(
            "AUTH_DATABASE_URL",
            "postgres://warden@db/auth?password=hunter2secret&sslmode=require",
        )
        .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://warden@db/auth?password=********&sslmode=require"
        );
    }

    #[test]
    fn passwords_never_show_in_printed_settings() {
        let s = settings(&[
            (
                "AUTH_DATABASE_URL",
                "postgresql://warden:hunter2secret@db:5432/auth",
            ),
            (
                "AUTH_TENANT_SECRET",
                "0123456789abcdef0123456789abcdef-tenant",
            ),
        ])
        .unwrap();
        let printed = format!("{s:?} {}", s.database.url);
        assert!(!printed.contains("hunter2secret"), "{printed}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
        assert!(
            printed.contains("warden:********@db:5432/auth"),
            "{printed}"
        );
    }
}
