//! What can go wrong below the service layer, without HTTP notions.

/// A data-layer failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the caller relies on is not there.
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key rule refused the write.
    #[error("conflict")]
    Conflict,
    /// The database cannot be reached or is overloaded; the request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or a broken schema.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            E::RowNotFound => Self::NotFound,
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::Protocol(_) => {
                Self::Unavailable(err)
            }
            E::Database(db) => {
                if db.is_unique_violation() || db.is_foreign_key_violation() {
                    return Self::Conflict;
                }
                if is_transient(db.code().as_deref()) {
                    return Self::Unavailable(err);
                }
                Self::Other(err.into())
            }
            _ => Self::Other(err.into()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        match err {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => Self::Other(other.into()),
        }
    }
}

/// Error codes that mean "try again later" rather than "this request is wrong".
fn is_transient(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes.
    if matches!(code, "5" | "6" | "261" | "262" | "517" | "518") {
        return true;
    }
    // PostgreSQL: connection exceptions (08…), insufficient resources (53…), operator intervention (57P…),
    // serialization failures and deadlocks (40001, 40P01).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "40001"
        || code == "40P01"
}
