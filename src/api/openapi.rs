//! The OpenAPI 3.1 document, built from the handlers' `#[utoipa::path]` annotations by the same
//! [`OpenApiRouter`](utoipa_axum::router::OpenApiRouter) calls that register the routes, so a route cannot be served
//! without being documented; `GET /openapi.json` serves it and `GET /docs` renders it.
//!
//! Every schema in it comes from a `warden-api` type, the same type the handler answers with and the client reads.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The routes' tags, in the order the page shows them.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warden",
        description = "A standalone REST authorization service. Every `/api/*` call needs `Authorization: Bearer <client key>` \
            (a version-4 UUID: the caller's tenant). Every answer except `/metrics` and `/.well-known/jwks.json` is the JSON envelope \
            `{success, code, message, data | error, timestamp}`."
    ),
    modifiers(&ClientKey),
    // Referenced only by path parameters, which do not register their schemas themselves.
    components(schemas(warden_api::GrantedName)),
    tags(
        (name = "operations", description = "health, readiness and metrics (no key)"),
        (name = "roles", description = "roles, their permissions and members"),
        (name = "resources", description = "resources (`type:id`) in a tree, which memberships can be scoped to"),
        (name = "checks", description = "permission checks and reverse look-ups"),
        (name = "jwt", description = "JWT access and refresh tokens"),
        (name = "users", description = "users, activation codes and request history"),
        (name = "access", description = "access checks with quotas"),
        (name = "tokens", description = "single-use tokens"),
        (name = "sessions", description = "sessions with permission sets"),
        (name = "api keys", description = "per-user API keys"),
        (name = "client keys", description = "rotating the tenant's client key, and recovering the tenant with its recovery key"),
        (name = "audit", description = "the tenant's audit trail"),
        (name = "settings", description = "the tenant's settings (JWT audience, auto-registration, activation for logins)"),
    )
)]
pub(super) struct ApiDoc;

/// The bearer scheme every `/api` operation names.
struct ClientKey;

impl Modify for ClientKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("UUID4")
                    .description(Some("the caller's client key, a version-4 UUID"))
                    .build(),
            ),
        );
    }
}
