//! Small key-value facts about the database itself: check values, the encryption mode and, on PostgreSQL in debug
//! mode only, generated server secrets (see `service::server_secrets`).

use super::{with_reader, with_writer, Backend, Store, StoreError};

impl Store {
    /// Reads one meta value.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT value FROM warden_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(value,)| value))
    }

    /// Stores `value` unless the key already has one, and returns the value that is stored now. Two instances
    /// starting together on one database therefore agree on a single value.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn meta_get_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        with_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO warden_meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await?;
        });
        let stored: (String,) = with_writer!(self, |pool| {
            sqlx::query_as("SELECT value FROM warden_meta WHERE key = $1")
                .bind(key)
                .fetch_one(pool)
                .await?
        });
        Ok(stored.0)
    }

    /// Deletes one meta value so that no trace of it stays in the database files: on SQLite the row is overwritten
    /// with zeros (`secure_delete`) and the write-ahead log is truncated after a checkpoint. Returns whether a value
    /// was there.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn meta_forget(&self, key: &str) -> Result<bool, StoreError> {
        let removed = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                // The writer pool has one connection: the pragma, the delete and the checkpoint run on it in order.
                let mut conn = writer.acquire().await?;
                sqlx::query("PRAGMA secure_delete = ON")
                    .execute(&mut *conn)
                    .await?;
                let removed = sqlx::query("DELETE FROM warden_meta WHERE key = $1")
                    .bind(key)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                // Back to SQLite's default: zeroing every freed cell costs I/O on ordinary deletes.
                sqlx::query("PRAGMA secure_delete = OFF")
                    .execute(&mut *conn)
                    .await?;
                if removed > 0 {
                    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(&mut *conn)
                        .await?;
                }
                removed
            }
            Backend::Postgres(pool) => sqlx::query("DELETE FROM warden_meta WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(removed > 0)
    }
}
