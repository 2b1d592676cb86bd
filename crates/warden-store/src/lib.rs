//! Warden's data layer: one [`Store`] over SQLite or PostgreSQL, chosen from the database URL. All SQL lives in this
//! crate; the handle is opaque.
//!
//! Both backends run the same SQL text (`$1..$N` placeholders, `ON CONFLICT`, Unix-millisecond times); only the
//! pools differ. SQLite gets a single-connection writer pool so concurrent writes queue in-process instead of
//! failing with `SQLITE_BUSY`, and a small reader pool that WAL lets run beside it.
//!
//! Every public method runs in a `debug` span named after it; the spans record no arguments (`skip_all`), since
//! arguments carry sealed names, token hashes and secrets.

mod access_checks;
mod activation;
mod api_keys;
mod audit;
mod auth_source;
mod change_feed;
mod change_log;
mod client_keys;
mod connection;
mod credentials;
mod error;
mod import;
mod keys;
mod meta;
mod model;
mod prune;
mod rate;
mod rbac;
mod registry;
mod resources;
mod sessions;
mod settings;
mod single_use_tokens;
#[cfg(feature = "test-sql")]
mod test_sql;
mod tokens;
mod users;

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use access_checks::{AccessRequest, ExternalUser, RequestRecord};
pub use api_keys::{ApiKeyRecord, ImportedApiKey, NewApiKey};
pub use audit::{AuditChain, AuditDraft, AuditQuery};
pub use auth_source::{
    AuthApiKeyRow, AuthData, AuthRow, AuthSettingsRow, AuthSource, AuthSourceError,
};
pub use change_feed::{ChangeFeed, FeedEvent};
pub use client_keys::{KeyAlias, KeyMove, NamespaceCounts};
pub use connection::{DatabaseSettings, DatabaseUrl, DatabaseUrlError};
pub use credentials::CredentialRotator;
pub use error::StoreError;
pub use import::{ImportCounts, TenantImport};
pub use keys::{Reseal, ResealReport, RetiredKey};
pub use rbac::{changes_model, outcome_name, Applied, PendingChange, RoleWrite};
pub use resources::ResourceRecord;
pub use sessions::{NewSession, SessionRecord, SessionUpdate};
pub use settings::TenantSettingsRow;
pub use single_use_tokens::IssuedToken;
#[cfg(feature = "test-sql")]
pub use test_sql::HeldWriteLock;
pub use tokens::{NewRefreshToken, RefreshTokenRow, Rotation};
pub use users::{LoginFacts, UserGate, UserRecord, UserWrite};

/// A handle on the database, cheap to clone. It is opaque: what it can do is its methods (the change feed, pool
/// statistics, every query), never a match on the backend outside this crate.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

/// The pools behind a [`Store`].
#[derive(Clone, Debug)]
enum Backend {
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the pool that serves reads, whatever the backend.
macro_rules! with_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { reader: $pool, .. } => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that serves writes, whatever the backend.
macro_rules! with_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { writer: $pool, .. } => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

use {with_reader, with_writer};

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, which takes the database's write lock up front
/// (waiting out `busy_timeout`): a deferred transaction that reads first and writes later fails with `SQLITE_BUSY`
/// at once, without waiting, when another process (a second instance on the same file, an offline `warden`
/// command) committed in between. PostgreSQL's row locks need no such thing.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

impl Store {
    fn from_backend(backend: Backend) -> Self {
        Self { backend }
    }

    /// Whether this is PostgreSQL (some statements differ: isolation levels, `NOTIFY`, advisory locks).
    fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Opens the pools (creating the SQLite file if needed) without running migrations.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        match &settings.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Other(e.into()))?;
                }
                create_private_file(path)?;
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: a write is on disk before it is acknowledged.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options.clone())
                    .await?;
                let reader = SqlitePoolOptions::new()
                    .max_connections(settings.pool_size.clamp(1, 8))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options.read_only(true))
                    .await?;
                Ok(Self::from_backend(Backend::Sqlite { reader, writer }))
            }
            DatabaseUrl::Postgres(url) => {
                let options = PgConnectOptions::from_str(url.expose_secret())?;
                let pool = PgPoolOptions::new()
                    .max_connections(settings.pool_size)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Self::from_backend(Backend::Postgres(pool)))
            }
        }
    }

    /// Brings the schema up to date. Safe to run from several instances at once on PostgreSQL (sqlx takes an
    /// advisory lock).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(writer)
                    .await?;
            }
            Backend::Postgres(pool) => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// A cheap round trip, for readiness probes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_reader!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgresql",
        }
    }

    /// Each pool's connections: open and idle, for the `warden_db_pool_connections` gauge.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let stats = |name, pool_size: u32, idle: usize| PoolStats {
            name,
            size: pool_size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX).min(pool_size),
        };
        match &self.backend {
            Backend::Sqlite { reader, writer } => vec![
                stats("reader", reader.size(), reader.num_idle()),
                stats("writer", writer.size(), writer.num_idle()),
            ],
            Backend::Postgres(pool) => vec![stats("primary", pool.size(), pool.num_idle())],
        }
    }

    /// Closes every pool, waiting for connections in use to be returned.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// One pool's connections at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `reader` and `writer` (SQLite) or `primary` (PostgreSQL).
    pub name: &'static str,
    /// Connections open.
    pub size: u32,
    /// Of which idle (never more than `size`).
    pub idle: u32,
}

/// The current time in Unix milliseconds, the unit every table stores.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Creates the SQLite file readable by its owner only (it holds the generated secrets); SQLite gives its WAL and
/// shared-memory files the same mode. An existing file is left as the operator set it.
fn create_private_file(path: &std::path::Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(StoreError::Other(err.into())),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_sqlite_file_is_private_to_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite3");
        super::create_private_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // An existing file is left alone.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        super::create_private_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}

#[cfg(test)]
mod write_transaction_tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

    use super::BeginWrite;

    /// Two pools on one file, as two Warden processes sharing a SQLite database.
    async fn two_processes(path: &std::path::Path) -> (SqlitePool, SqlitePool) {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let open = || {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
        };
        let first = open().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&first)
            .await
            .unwrap();
        (first, open().await.unwrap())
    }

    async fn insert_elsewhere(pool: &SqlitePool) {
        let mut tx = pool.begin_write().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_write_transaction_that_reads_first_survives_another_process_committing_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = two_processes(&dir.path().join("w.sqlite3")).await;

        let mut tx = ours.begin_write().await.unwrap();
        let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        // The other process's write waits for our lock instead of slipping in between our read and our write.
        let other = tokio::spawn(async move { insert_elsewhere(&theirs).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !other.is_finished(),
            "the other writer waited for our transaction"
        );
        sqlx::query("INSERT INTO t VALUES ($1)")
            .bind(before + 1)
            .execute(&mut *tx)
            .await
            .expect("our write, decided on what we read, goes through");
        tx.commit().await.unwrap();
        other.await.unwrap();
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&ours)
            .await
            .unwrap();
        assert_eq!(count, 2);
    }

    #[tokio::test]
    async fn a_deferred_transaction_would_fail_there_which_is_what_begin_write_prevents() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = two_processes(&dir.path().join("w.sqlite3")).await;

        let mut tx = ours.begin().await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        insert_elsewhere(&theirs).await;
        let err = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *tx)
            .await
            .expect_err("a stale read snapshot cannot be upgraded to a write");
        assert!(
            err.to_string().contains("locked") || err.to_string().contains("busy"),
            "{err}"
        );
    }
}
