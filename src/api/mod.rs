//! The HTTP layer: one module per resource, the envelope, extractors and `ApiError`.
//!
//! A handler parses its input, calls one service method and shapes the answer; it holds no SQL and no rules.

mod access_checks;
mod accounts;
mod activation;
mod api_keys;
mod audit;
mod client_keys;
mod docs;
mod envelope;
mod error;
mod extract;
mod fallback;
mod guard;
mod health;
mod inheritance;
mod memberships;
mod metrics;
mod openapi;
mod paging;
mod passwords;
mod permissions;
mod queries;
mod resources;
mod roles;
mod sessions;
mod settings;
mod single_use_tokens;
mod tokens;
mod users;
mod views;
mod workflow;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ApiResult};
pub use fallback::envelope_errors;
pub use metrics::track as track_requests;

use crate::service::{
    AuditLog, Models, RateLimiter, RbacService, SessionsService, Tenants, TokenService,
    UsersService,
};
use warden_store::Store;

/// What every handler can reach. Every request clones it (once per extractor), so it is one shared pointer: cloning
/// a struct of a dozen reference-counted services costs a dozen contended atomic operations per request, which
/// showed up as a fifth of the check path's CPU time.
#[derive(Clone, Debug)]
pub struct AppState(std::sync::Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
#[derive(Debug)]
pub struct Services {
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
    /// This server's metrics recorder (`/metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The tenant models, for the `warden_tenant_models_loaded` gauge.
    pub models: Models,
}

/// Every documented route with its OpenAPI description: each `.routes(routes!(handler))` call registers the
/// handler and its `#[utoipa::path]` together.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .merge(metrics::router())
        .merge(roles::router())
        .merge(inheritance::router())
        .merge(resources::router())
        .merge(permissions::router())
        .merge(memberships::router())
        .merge(queries::router())
        .merge(audit::router())
        .merge(tokens::router())
        .merge(settings::router())
        .merge(users::router())
        .merge(activation::router())
        .merge(access_checks::router())
        .merge(single_use_tokens::router())
        .merge(sessions::router())
        .merge(workflow::router())
        .merge(passwords::router())
        .merge(api_keys::router())
        .merge(client_keys::router())
}

/// The OpenAPI document, as `GET /openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// All routes, without the cross-cutting layers (see `startup`). `/openapi.json` and `/docs` are the only routes
/// outside the document, which they serve.
pub fn routes(state: AppState) -> Router {
    let (router, document) = documented().split_for_parts();
    router
        .merge(docs::router(&document))
        .fallback(fallback::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}
