//! Reads a database written by the `auth` service (3.x) that Warden replaces, for `warden import-auth`: its
//! roles (`auth_group`), permissions, memberships, the two junction tables, API keys and tenant settings, as
//! stored (sealed fields stay sealed; the service layer opens them). The source is only read: SQLite is opened
//! read-only, and nothing is written to PostgreSQL.
//!
//! On PostgreSQL `auth` keeps its tables in a schema (`auth_rbac` in its documented deployment, `public`
//! without one) and may have row-level security forced on them, which hides every row from a role that
//! neither is a superuser nor bypasses RLS; that is refused up front with a clear message rather than
//! imported as an empty database.

use std::path::PathBuf;

use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use super::{with_reader, Store, StoreError};

/// One row of `auth_group`, `auth_permission` or `auth_membership`: the id, the raw client key (`creator`),
/// the value (role name; permission or user, perhaps sealed), whether it is active, and (roles only) the
/// description, perhaps sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthRow {
    pub id: i64,
    pub creator: String,
    pub value: String,
    pub active: bool,
    pub description: Option<String>,
}

/// One row of `auth_api_key`; times are `auth`'s naive UTC date-times as text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthApiKeyRow {
    pub key_id: String,
    pub creator: String,
    pub user_name: String,
    /// Hex SHA-256 of the key, as `auth` stores it.
    pub key_hash: String,
    pub key_prefix: String,
    pub label: Option<String>,
    pub active: bool,
    pub created_at: Option<String>,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// One row of `auth_tenant_settings` (the encryption canary lives on a reserved, non-UUID creator's row).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthSettingsRow {
    pub creator: String,
    pub strict_users: bool,
    /// auth's hex SHA-256 of the tenant's outstanding recovery key, if one was issued.
    pub rotate_key_hash: Option<String>,
    pub canary: Option<String>,
}

/// Everything `warden import-auth` reads. Tables an older `auth` did not have read as empty.
#[derive(Debug, Clone, Default)]
pub struct AuthData {
    pub roles: Vec<AuthRow>,
    pub permissions: Vec<AuthRow>,
    pub memberships: Vec<AuthRow>,
    /// `(permission id, role id)`.
    pub permission_roles: Vec<(i64, i64)>,
    /// `(membership id, role id)`.
    pub membership_roles: Vec<(i64, i64)>,
    pub api_keys: Vec<AuthApiKeyRow>,
    pub settings: Vec<AuthSettingsRow>,
}

/// Why the source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuthSourceError {
    #[error(
        "`{0}` is neither a path to an SQLite file nor a sqlite:// or postgresql:// URL of an auth database"
    )]
    BadUrl(String),
    #[error("no auth database at {0}")]
    Missing(String),
    #[error("the database holds no auth tables (auth_group) in {0}")]
    NoAuthTables(String),
    #[error(
        "row-level security is forced on the auth tables and this database role neither is a superuser nor \
         has BYPASSRLS, so every row is hidden; run the import as the tables' administrator"
    )]
    RowSecurity,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AuthSourceError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// An open `auth` database.
#[derive(Debug)]
pub struct AuthSource {
    pool: SourcePool,
    /// `schema.` on PostgreSQL, empty on SQLite.
    prefix: String,
}

#[derive(Debug)]
enum SourcePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Where the source is: `auth`'s own `AUTH_DATABASE_URL` spellings (SQLAlchemy's `sqlite:////abs/path`,
/// `postgresql+psycopg://…`) or a plain path to the SQLite file.
enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

fn locate(url: &str) -> Result<Location, AuthSourceError> {
    let expand = |path: &str| -> PathBuf {
        match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => PathBuf::from(path),
        }
    };
    if let Some(rest) = url.strip_prefix("sqlite:") {
        // SQLAlchemy: `sqlite:///relative` and `sqlite:////absolute`; also `sqlite://path` as sqlx writes it.
        let path = rest
            .strip_prefix("///")
            .or_else(|| rest.strip_prefix("//"))
            .unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return Err(AuthSourceError::BadUrl(url.to_owned()));
        }
        return Ok(Location::Sqlite(expand(path)));
    }
    for scheme in ["postgresql", "postgres"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            // Drop a SQLAlchemy driver tag (`+psycopg`, `+psycopg2`).
            let rest = match rest.split_once("://") {
                Some((driver, tail)) if driver.is_empty() || driver.starts_with('+') => tail,
                _ => return Err(AuthSourceError::BadUrl(url.to_owned())),
            };
            return Ok(Location::Postgres(format!("postgres://{rest}")));
        }
    }
    if url.contains("://") {
        return Err(AuthSourceError::BadUrl(url.to_owned()));
    }
    Ok(Location::Sqlite(expand(url)))
}

/// Selects `$sql` into `Vec<$row>` from either pool.
macro_rules! fetch_all {
    ($pool:expr, $row:ty, $sql:expr) => {
        match $pool {
            SourcePool::Sqlite(pool) => sqlx::query_as::<_, $row>($sql).fetch_all(pool).await?,
            SourcePool::Postgres(pool) => sqlx::query_as::<_, $row>($sql).fetch_all(pool).await?,
        }
    };
}

impl AuthSource {
    /// Opens the source at `url` (a path to an SQLite file, or `auth`'s `AUTH_DATABASE_URL`:
    /// `sqlite:////abs/path`, `postgresql+psycopg://…`); on PostgreSQL in `schema`, else `auth_rbac` when it
    /// holds the tables, else `public`.
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Self, AuthSourceError> {
        match locate(url)? {
            Location::Sqlite(path) => {
                if !path.is_file() {
                    return Err(AuthSourceError::Missing(path.display().to_string()));
                }
                let options = SqliteConnectOptions::new().filename(&path).read_only(true);
                let pool = SqlitePool::connect_with(options).await?;
                let source = Self {
                    pool: SourcePool::Sqlite(pool),
                    prefix: String::new(),
                };
                if !source.has_table("auth_group").await? {
                    return Err(AuthSourceError::NoAuthTables(path.display().to_string()));
                }
                Ok(source)
            }
            Location::Postgres(url) => {
                let pool = PgPool::connect(&url).await?;
                let schema = match schema {
                    Some(schema) => schema.to_owned(),
                    None => {
                        let (found,): (bool,) = sqlx::query_as(
                            "SELECT to_regclass('auth_rbac.auth_group') IS NOT NULL",
                        )
                        .fetch_one(&pool)
                        .await?;
                        if found { "auth_rbac" } else { "public" }.to_owned()
                    }
                };
                if !schema
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return Err(AuthSourceError::BadUrl(format!("schema {schema}")));
                }
                let source = Self {
                    pool: SourcePool::Postgres(pool),
                    prefix: format!("\"{schema}\"."),
                };
                if !source.has_table("auth_group").await? {
                    return Err(AuthSourceError::NoAuthTables(format!("schema {schema}")));
                }
                source.refuse_hidden_rows().await?;
                Ok(source)
            }
        }
    }

    async fn has_table(&self, table: &str) -> Result<bool, AuthSourceError> {
        Ok(match &self.pool {
            SourcePool::Sqlite(pool) => {
                sqlx::query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(table)
                    .fetch_optional(pool)
                    .await?
                    .is_some()
            }
            SourcePool::Postgres(pool) => {
                let (found,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
                    .bind(format!("{}{table}", self.prefix))
                    .fetch_one(pool)
                    .await?;
                found
            }
        })
    }

    /// PostgreSQL: forced row-level security on `auth_group` hides every row unless this role bypasses it.
    async fn refuse_hidden_rows(&self) -> Result<(), AuthSourceError> {
        let SourcePool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        let (forced, bypass): (bool, bool) = sqlx::query_as(
            "SELECT COALESCE((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class \
               WHERE oid = to_regclass($1)), false), \
             (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)",
        )
        .bind(format!("{}auth_group", self.prefix))
        .fetch_one(pool)
        .await?;
        if forced && !bypass {
            return Err(AuthSourceError::RowSecurity);
        }
        Ok(())
    }

    /// Reads every table (each one query; the source is expected to fit in memory, as `auth`'s does).
    pub async fn read(&self) -> Result<AuthData, AuthSourceError> {
        let p = &self.prefix;
        let active = "CASE WHEN is_active IS NULL OR is_active THEN TRUE ELSE FALSE END";
        let mut data = AuthData {
            roles: fetch_all!(
                &self.pool,
                AuthRow,
                &format!(
                    "SELECT CAST(id AS BIGINT) AS id, creator, role AS value, {active} AS active, \
                       description FROM {p}auth_group ORDER BY id"
                )
            ),
            ..AuthData::default()
        };
        if self.has_table("auth_permission").await? {
            data.permissions = fetch_all!(
                &self.pool,
                AuthRow,
                &format!(
                    "SELECT CAST(id AS BIGINT) AS id, creator, name AS value, {active} AS active, \
                       CAST(NULL AS TEXT) AS description FROM {p}auth_permission ORDER BY id"
                )
            );
        }
        if self.has_table("auth_membership").await? {
            data.memberships = fetch_all!(
                &self.pool,
                AuthRow,
                &format!(
                    "SELECT CAST(id AS BIGINT) AS id, creator, \"user\" AS value, {active} AS active, \
                       CAST(NULL AS TEXT) AS description FROM {p}auth_membership ORDER BY id"
                )
            );
        }
        if self.has_table("permission_groups").await? {
            data.permission_roles = fetch_all!(
                &self.pool,
                (i64, i64),
                &format!(
                    "SELECT CAST(permission_id AS BIGINT), CAST(group_id AS BIGINT) \
                     FROM {p}permission_groups"
                )
            );
        }
        if self.has_table("membership_groups").await? {
            data.membership_roles = fetch_all!(
                &self.pool,
                (i64, i64),
                &format!(
                    "SELECT CAST(membership_id AS BIGINT), CAST(group_id AS BIGINT) \
                     FROM {p}membership_groups"
                )
            );
        }
        if self.has_table("auth_api_key").await? {
            data.api_keys = fetch_all!(
                &self.pool,
                AuthApiKeyRow,
                &format!(
                    "SELECT key_id, creator, \"user\" AS user_name, key_hash, key_prefix, label, \
                       {active} AS active, CAST(date_created AS TEXT) AS created_at, \
                       CAST(revoked_at AS TEXT) AS revoked_at, CAST(expires_at AS TEXT) AS expires_at, \
                       CAST(last_used_at AS TEXT) AS last_used_at FROM {p}auth_api_key ORDER BY id"
                )
            );
        }
        if self.has_table("auth_tenant_settings").await? {
            data.settings = fetch_all!(
                &self.pool,
                AuthSettingsRow,
                &format!(
                    "SELECT creator, CASE WHEN strict_users THEN TRUE ELSE FALSE END AS strict_users, \
                       rotate_key_hash, canary \
                     FROM {p}auth_tenant_settings ORDER BY id"
                )
            );
        }
        Ok(data)
    }

    pub async fn close(self) {
        match self.pool {
            SourcePool::Sqlite(pool) => pool.close().await,
            SourcePool::Postgres(pool) => pool.close().await,
        }
    }
}

impl Store {
    /// Whether this database also holds the `auth` service's tables (its `auth_group`; on PostgreSQL in schema
    /// `auth_rbac` or `public`), which Warden does not read: start-up names the import command.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn holds_auth_tables(&self) -> Result<bool, StoreError> {
        let sql = if self.is_postgres() {
            "SELECT 1 WHERE to_regclass('auth_rbac.auth_group') IS NOT NULL \
               OR to_regclass('public.auth_group') IS NOT NULL"
        } else {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'auth_group'"
        };
        let found: Option<(i32,)> = with_reader!(self, |pool| sqlx::query_as(sql)
            .fetch_optional(pool)
            .await?);
        Ok(found.is_some())
    }

    /// Whether this is an `auth` database Warden has never been set up in: `auth`'s tables where Warden's would
    /// go (their names overlap, e.g. `audit_log`), and none of Warden's. Checked before migrating, which would
    /// fail half-way on such a database.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn is_foreign_auth_database(&self) -> Result<bool, StoreError> {
        let sql = if self.is_postgres() {
            "SELECT 1 WHERE to_regclass('auth_group') IS NOT NULL AND to_regclass('warden_meta') IS NULL"
        } else {
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'auth_group') \
               AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'warden_meta')"
        };
        let found: Option<(i32,)> = with_reader!(self, |pool| sqlx::query_as(sql)
            .fetch_optional(pool)
            .await?);
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_database_urls_and_plain_paths_are_located() {
        let sqlite = |url: &str| match locate(url) {
            Ok(Location::Sqlite(path)) => path.display().to_string(),
            _ => panic!("{url} is not an SQLite location"),
        };
        assert_eq!(sqlite("sqlite:////var/lib/auth.db"), "/var/lib/auth.db");
        assert_eq!(sqlite("sqlite:///auth.db"), "auth.db");
        assert_eq!(sqlite("/tmp/auth.sqlite3"), "/tmp/auth.sqlite3");
        assert!(!sqlite("~/.auth.sqlite3").starts_with('~'));
        for url in [
            "postgresql+psycopg://u@h:5432/db",
            "postgresql://u@h/db",
            "postgres://u@h/db",
        ] {
            assert!(
                matches!(locate(url), Ok(Location::Postgres(ref u)) if u.starts_with("postgres://u@h")),
                "{url}"
            );
        }
        for bad in [
            "mysql://u@h/db",
            "sqlite://",
            "sqlite::memory:",
            "postgresqlx://h",
        ] {
            assert!(locate(bad).is_err(), "{bad}");
        }
    }
}
