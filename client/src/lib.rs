//! An async Rust client for Warden, the REST authorization service.
//!
//! One [`Client`] talks to one Warden server as one tenant (the client key, a UUID4, selects the tenant). It has
//! one method per endpoint, returning the typed `data` of Warden's envelope, or an [`Error`] that says whether the
//! server could not be reached, refused the request, or failed.
//!
//! The bodies it sends and the answers it reads are the server's own wire types, from the `warden-api` crate:
//! the common ones are re-exported here ([`Created`], [`User`], [`AccessRequest`], …) and all of them, with the
//! envelope, under [`api`].
//!
//! ```no_run
//! use warden_client::{Client, Error};
//!
//! # async fn run() -> Result<(), Error> {
//! let warden = Client::new("http://127.0.0.1:8000", "0b7e3f3c-2a55-4c57-9d31-6f4a9f0c1e2d")?;
//!
//! warden.create_role("editor", Some("Content editor role")).await?;
//! warden.add_permission("editor", "edit_content").await?;
//! warden.add_membership("bob@example.com", "editor").await?;
//!
//! if warden.user_has_permission("bob@example.com", "edit_content").await?.has_permission {
//!     println!("Bob can edit");
//! }
//! let editors: Vec<String> = warden
//!     .which_users_can("edit_content")
//!     .await?
//!     .into_iter()
//!     .map(|u| u.user)
//!     .collect();
//! assert_eq!(editors, ["bob@example.com"]);
//!
//! match warden.get_role_members("ghost").await {
//!     Err(Error::Refused { status: 404, error, .. }) => println!("{error}"), // role `ghost` not found
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Configure timeouts and retries with the builder:
//!
//! ```no_run
//! # fn run() -> Result<(), warden_client::Error> {
//! use std::time::Duration;
//!
//! let warden = warden_client::Client::builder("https://warden.internal:8000")
//!     .client_key(std::env::var("WARDEN_CLIENT_KEY").unwrap_or_default())
//!     .timeout(Duration::from_secs(3))
//!     .max_retries(4)
//!     .build()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Reading your own writes
//!
//! Every write of roles, grants and memberships answers the tenant's `revision` after it ([`Created::revision`],
//! [`Removed::revision`]). [`Client::at_least`] gives a client whose RBAC checks and listings are answered from
//! a model at least that new (`?min_revision=`), or refused with 409 when the server cannot get there in time:
//!
//! ```no_run
//! # async fn run(warden: warden_client::Client) -> Result<(), warden_client::Error> {
//! let granted = warden.add_permission("editor", "publish").await?;
//! let fresh = warden.at_least(granted.revision);
//! assert!(fresh.role_has_permission("editor", "publish").await?.has_permission);
//! # Ok(())
//! # }
//! ```
//!
//! # Verifying access tokens offline
//!
//! [`Client::verify_jwt`] asks Warden, which also sees revocation. A service that verifies Warden's EdDSA access
//! tokens itself fetches the tenant's key set, `GET /.well-known/jwks.json?tenant=<tid>`, and pins everything: the
//! key by `kid`, `alg: EdDSA`, `iss` (the server's `AUTH_JWT_ISSUER`), `aud` (the tenant's audience, its id by
//! default) and `tid`. `examples/verify_jwt.rs` does exactly that with `jsonwebtoken`, and
//! `tests/verify_jwt.rs` runs it against a live Warden: another tenant's token, another issuer or a tampered token
//! is refused. Offline verification cannot see revocation before `exp`.
//!
//! # Errors
//!
//! - [`Error::Transport`]: no answer (connection refused or reset, DNS, timeout).
//! - [`Error::Refused`]: a 4xx answer, with the server's `message` and `error` (``role `ghost` not found``);
//!   409 for a [`Client::at_least`] read the server could not bring up to the revision in time.
//! - [`Error::Server`]: a 5xx answer.
//! - [`Error::Decode`]: an answer that is not the expected envelope.
//! - [`Error::InvalidArgument`]: nothing was sent (a bad base URL, or the name `.` or `..`).
//!
//! # Retries
//!
//! A call is repeated, up to [`ClientBuilder::max_retries`] times (default 2) with exponential backoff and jitter,
//! only when **both** hold:
//!
//! - the failure is a transport error, a 503 (Warden's answer while its database is unreachable) or a 429 (too
//!   many requests); the wait is the backoff or the answer's `Retry-After`, whichever is longer, and an answer
//!   whose `Retry-After` asks for more than [`MAX_BACKOFF`] is returned at once. Other 5xx and every other 4xx
//!   are returned at once: a 4xx says the request is wrong, not that the server is unwell, so it neither
//!   triggers a retry nor affects later calls (there is no circuit breaker);
//! - the call is idempotent, so that running it twice leaves the same state as running it once. All of
//!   Warden's core endpoints are: the GETs and DELETEs, and also the POSTs that create a role, grant a permission
//!   or add a membership, because repeating them answers `created: false` and changes nothing. A consequence to
//!   know: if the first attempt reached the server but its answer was lost, the retried call reports
//!   `created: false` (or `removed: false`) although the change was made by this call. Endpoints added later
//!   that are not idempotent (issuing a token, say) are marked so and never retried.
//!
//! All clones of a [`Client`] share one connection pool, so connections are reused across calls.
//!
//! Names are percent-encoded into the URL path, so `alice@example.com`, `docs:read`, `a|b` and `c+d` arrive as
//! written.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accounts;
mod api_keys;
mod client;
mod client_keys;
mod error;
mod health;
mod rbac;
mod resources;
mod workflow;

pub use rbac::Expiry;
pub use workflow::WorkflowWatch;

/// Warden's wire contract, the crate the server answers with: every body, the envelope and the query types.
pub use warden_api as api;
/// The bodies and answers of the client's methods.
pub use warden_api::{
    AccessDecision, AccessRecord, AccessRequest, Activated, ApiKeyCreated, ApiKeyList, ApiKeyMeta,
    ApiKeyRevoked, ApiKeyValidity, AuditEntry, AuditPage, AuditQuery, Claims, CodeIssued, Created,
    HasPermission, Health, HealthCheck, IsMember, Migrated, NewApiKey, NewResource, NewSession,
    Order, Page, PasswordSet, Permission, PermissionAnswers, Quotas, Recovered, RecoveryKey,
    Removed, RemovedCount, RequestCounters, RequestsQuery, ResourceView, ResourceWritten, Revoked,
    Role, Rotated, SensitiveChanged, Session, SessionCreated, SessionEnded, Settings,
    SettingsChange, TextOrNumber, TokenIssued, TokenOwner, TokenPair, User, UserBody, UserName,
    UserSaved, UserStatus, Verdict, Verified,
};

pub use client::{
    Client, ClientBuilder, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT,
    MAX_BACKOFF,
};
pub use error::Error;
