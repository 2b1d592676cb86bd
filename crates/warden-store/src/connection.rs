//! Where the data lives and how many connections reach it: the store's own settings, filled in by the server's
//! configuration (or by any program that embeds the store).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A database URL that could not be used; `var` names the setting it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct DatabaseUrlError {
    pub var: &'static str,
    pub reason: String,
}

impl DatabaseUrlError {
    fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

/// Where the data lives.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// Kept secret: the URL may carry a password.
    Postgres(SecretString),
}

impl DatabaseUrl {
    /// Parses `sqlite://…`, `sqlite:…`, `postgres://…` or `postgresql://…`.
    pub fn parse(var: &'static str, raw: &str) -> Result<Self, DatabaseUrlError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw)
                .map_err(|_| DatabaseUrlError::new(var, "not a valid PostgreSQL URL"))?;
            return Ok(Self::Postgres(SecretString::from(raw.to_owned())));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(DatabaseUrlError::new(var, "the SQLite URL names no file"));
            }
            return Ok(Self::Sqlite(expand_home(path)));
        }
        Err(DatabaseUrlError::new(
            var,
            "expected a sqlite://, postgres:// or postgresql:// URL",
        ))
    }

    /// A SQLite file, with a leading `~/` expanded.
    pub fn sqlite_path(path: &str) -> Self {
        Self::Sqlite(expand_home(path))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgresql",
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// Prints the URL with any password masked, so it is safe for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(secret) => match url::Url::parse(secret.expose_secret()) {
                Ok(url) => write!(f, "{}", mask_url(url)),
                Err(_) => f.write_str("postgres://********"),
            },
        }
    }
}

/// Masks the password in a URL's user information and in any `password=` (or `sslpassword=`…) query parameter,
/// which libpq-style URLs accept too.
fn mask_url(mut url: url::Url) -> url::Url {
    const MASK: &str = "********";
    if url.password().is_some() {
        // Only fails for URLs that cannot have a password, which this one has.
        let _ = url.set_password(Some(MASK));
    }
    let secret_key = |key: &str| key.to_ascii_lowercase().contains("password");
    if url.query_pairs().any(|(key, _)| secret_key(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret_key(&key) {
                    MASK.into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Expands a leading `~/` with `$HOME`.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub acquire_timeout: Duration,
}
