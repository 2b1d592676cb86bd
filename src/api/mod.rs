//! The HTTP layer: one module per resource, the envelope, extractors and `ApiError`.
//!
//! A handler parses its input, calls one service method and shapes the answer; it holds no SQL and no rules.

mod access;
mod accounts;
mod audit;
mod envelope;
mod error;
mod extract;
mod fallback;
mod guard;
mod health;
mod memberships;
mod permissions;
mod queries;
mod roles;
mod sessions;
mod tokens;
mod user_tokens;
mod users;
mod views;

use axum::Router;

pub use error::{ApiError, ApiResult};
pub use fallback::envelope_errors;

use crate::service::{
    AuditLog, RateLimiter, RbacService, SessionsService, Tenants, TokenService, UsersService,
};
use crate::store::Store;

/// What every handler can reach; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub rbac: RbacService,
    pub audit: AuditLog,
    pub tenants: Tenants,
    pub store: Store,
    pub tokens: TokenService,
    /// `None` when `AUTH_RATE_LIMIT_PER_SECOND` is unset.
    pub limiter: Option<RateLimiter>,
    pub users: UsersService,
    pub sessions: SessionsService,
    /// Vault's state for `/readyz`, when Vault is configured.
    pub vault: Option<crate::vault::VaultHealth>,
}

/// All routes, without the cross-cutting layers (see `startup`).
pub fn routes(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(roles::router())
        .merge(permissions::router())
        .merge(memberships::router())
        .merge(queries::router())
        .merge(audit::router())
        .merge(tokens::router())
        .merge(users::router())
        .merge(access::router())
        .merge(user_tokens::router())
        .merge(sessions::router())
        .fallback(fallback::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}
