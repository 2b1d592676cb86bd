//! The HTTP layer: one module per resource, the envelope, extractors and `ApiError`.
//!
//! A handler parses its input, calls one service method and shapes the answer; it holds no SQL and no rules.

mod envelope;
mod error;
mod extract;
mod fallback;
mod health;
mod memberships;
mod permissions;
mod queries;
mod roles;
mod views;

use axum::Router;

pub use error::{ApiError, ApiResult};
pub use fallback::envelope_errors;

use crate::service::{RbacService, Tenants};
use crate::store::Store;

/// What every handler can reach; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub rbac: RbacService,
    pub tenants: Tenants,
    pub store: Store,
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
        .fallback(fallback::not_found)
        .with_state(state)
}
