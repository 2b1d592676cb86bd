//! Small key-value facts about the database itself (which secrets it was set up with).

use super::{with_reader, with_writer, Store, StoreError};

impl Store {
    /// Reads one meta value.
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
}
