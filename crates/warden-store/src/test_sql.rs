//! Raw SQL for tests only (the `test-sql` feature): a test looks at what is stored, or does what an operator or
//! another instance would, without the store growing a public backend enum. Never enabled in the server build.

use super::{with_reader, Backend, Store, StoreError};

/// The database's write lock, held from outside Warden: every write waits until it is released.
#[derive(Debug)]
pub struct HeldWriteLock(Held);

#[derive(Debug)]
enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Store {
    /// Runs one or more statements (no parameters) on the writer; returns the rows they affected.
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, StoreError> {
        let done = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::raw_sql(sql).execute(writer).await?.rows_affected()
            }
            Backend::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await?.rows_affected(),
        };
        Ok(done)
    }

    /// Runs a query returning one text column.
    pub async fn raw_strings(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            with_reader!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Takes the database's write lock (SQLite: `BEGIN IMMEDIATE` on the single writer connection; PostgreSQL: an
    /// exclusive lock on `tenant_heads`, which every write takes last) until [`HeldWriteLock::release`].
    pub async fn hold_write_lock(&self) -> Result<HeldWriteLock, StoreError> {
        let held = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let mut connection = writer.acquire().await?;
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *connection)
                    .await?;
                Held::Sqlite(connection)
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("LOCK TABLE tenant_heads IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                Held::Postgres(tx)
            }
        };
        Ok(HeldWriteLock(held))
    }
}

impl HeldWriteLock {
    /// Rolls back, letting the waiting writes go.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.0 {
            Held::Sqlite(mut connection) => {
                sqlx::query("ROLLBACK").execute(&mut *connection).await?;
            }
            Held::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}
