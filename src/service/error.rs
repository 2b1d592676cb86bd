//! Failures with a domain meaning; the API layer maps each to a status code.

use warden_core::domain::Name;
use warden_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("role `{0}` not found")]
    RoleNotFound(Name),
    /// The new inheritance edge would make the role inherit itself (409).
    #[error(
        "role `{role}` cannot inherit `{parent}`: that would form a cycle (a role cannot inherit itself, directly or \
         through the roles it inherits)"
    )]
    InheritanceCycle { role: Name, parent: Name },
    /// The new inheritance edge would make a chain too long (409).
    #[error("role `{role}` cannot inherit `{parent}`: the chain through it would be longer than {limit} edges")]
    InheritanceTooDeep {
        role: Name,
        parent: Name,
        limit: usize,
    },
    #[error("resource `{0}` not found")]
    ResourceNotFound(String),
    /// A resource's parent would be the resource itself or below it (409).
    #[error("resource `{resource}` cannot be placed under `{parent}`: that would form a cycle")]
    ResourceCycle { resource: String, parent: String },
    /// A resource's new place would make a path too deep (409).
    #[error("resource `{resource}` cannot be placed under `{parent}`: a path would be deeper than {limit} levels")]
    ResourceTooDeep {
        resource: String,
        parent: String,
        limit: usize,
    },
    /// A resource with children cannot be deleted (409).
    #[error("resource `{0}` has children: delete or move them first")]
    ResourceHasChildren(String),
    #[error("revision `{wanted}` is not visible yet (this instance is at `{current}`)")]
    RevisionNotReached { wanted: i64, current: i64 },
    #[error("revision `{wanted}` does not exist (the tenant is at `{head}`)")]
    RevisionNotFound { wanted: i64, head: i64 },
    #[error("{what} quota of {limit} per tenant reached; remove some before adding more")]
    QuotaExceeded { what: &'static str, limit: usize },
    #[error(
        "strict_users is on and user `{0}` holds no active API key: create one with POST /api/apikeys/user/{0} \
         first, or turn strict users off with PUT /api/settings {{\"strict_users\": false}}"
    )]
    UserNotKeyBacked(Name),
    #[error("user `{0}` not found")]
    UserNotFound(Name),
    /// The client key was replaced by a rotation or recovery (401).
    #[error("client key was replaced by a key rotation or recovery; use the new key")]
    ClientKeyRetired,
    /// The requested new client key already stands for a tenant (409).
    #[error(
        "new_client_key already names a tenant that holds data; omit it to have one generated, or choose an unused key"
    )]
    ClientKeyTaken,
    /// A recovery key was issued and not used yet (409).
    #[error(
        "a rotate key was already issued for this tenant and only its hash is stored, so it cannot be shown again; \
         recover with the one you hold, or rotate the client key with POST /api/keys/rotate"
    )]
    RecoveryKeyOutstanding,
    /// The presented recovery key is malformed, unknown or spent (401; one answer for all three).
    #[error("Invalid rotate key")]
    InvalidRecoveryKey,
    #[error("user `{0}` is denied or disabled")]
    UserNotAllowed(Name),
    /// A value in the request is not acceptable (400).
    #[error("{0}")]
    Invalid(String),
    /// A token that must not be accepted; the reason never contains the token.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// Too many of the tenant's writes are already waiting to commit.
    #[error("too many writes are waiting for this tenant, try again shortly")]
    Overloaded,
    #[error("the database is unavailable, try again shortly")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => Self::Unavailable(err),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<super::model::ModelError> for ServiceError {
    fn from(err: super::model::ModelError) -> Self {
        match err {
            super::model::ModelError::Store(store) => store.into(),
            super::model::ModelError::RevisionNotReached { wanted, current } => {
                Self::RevisionNotReached { wanted, current }
            }
            super::model::ModelError::RevisionNotFound { wanted, head } => {
                Self::RevisionNotFound { wanted, head }
            }
        }
    }
}
