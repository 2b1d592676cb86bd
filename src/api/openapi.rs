//! The OpenAPI 3.1 document, built from the handlers' `#[utoipa::path]` annotations by the same
//! [`OpenApiRouter`](utoipa_axum::router::OpenApiRouter) calls that register the routes, so a route cannot be served
//! without being documented; `GET /openapi.json` serves it and `GET /docs` renders it.
//!
//! The schemas here describe the envelope and the shapes of `data` for the document only; the handlers build their
//! answers from their own types.

use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

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
    tags(
        (name = "operations", description = "health, readiness and metrics (no key)"),
        (name = "roles", description = "roles, their permissions and members"),
        (name = "checks", description = "permission checks and reverse look-ups"),
        (name = "jwt", description = "JWT access and refresh tokens"),
        (name = "users", description = "users, activation codes and request history"),
        (name = "access", description = "access checks with quotas"),
        (name = "tokens", description = "single-use tokens"),
        (name = "sessions", description = "sessions with permission sets"),
        (name = "audit", description = "the tenant's audit trail"),
        (name = "settings", description = "the tenant's settings (JWT audience)"),
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

/// A successful answer: `data` holds the result.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct Envelope<T> {
    success: bool,
    /// The HTTP status, repeated.
    code: u16,
    /// What happened, e.g. `role created`.
    message: String,
    data: T,
    /// RFC 3339 UTC with microseconds.
    timestamp: String,
}

/// One page of a listing: `data` holds the page, `next_cursor` the cursor of the next one (`null` after the last);
/// the same URL is in the `Link: <…>; rel="next"` header.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct PageEnvelope<T> {
    success: bool,
    /// The HTTP status, repeated.
    code: u16,
    message: String,
    data: T,
    /// Pass as `?cursor=` for the next page; `null` when this page is the last.
    next_cursor: Option<String>,
    /// RFC 3339 UTC with microseconds.
    timestamp: String,
}

/// An error answer: `message` is the status's reason phrase, `error` the detail.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct Failure {
    /// Always `false`.
    success: bool,
    code: u16,
    message: String,
    /// E.g. ``role `ghost` not found``.
    error: String,
    timestamp: String,
}

/// Any JSON object (free-form `data`).
#[derive(ToSchema)]
#[schema(value_type = Object)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct Object(Value);

/// `{"status": "ok", …}`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct StatusData {
    status: String,
    /// `/readyz` only: `sqlite` or `postgresql`.
    database: Option<String>,
    /// `/readyz` with Vault only: `ok`, `unreachable` or `error`.
    vault: Option<String>,
}

/// `PUT /api/users/{user}`: whether the user is new, and the user as stored.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct UserSaved {
    created: bool,
    user: super::users::UserView,
}

/// `{"sensitive_changed_at": "…"}`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct SensitiveChanged {
    sensitive_changed_at: String,
}

/// A one-time activation code or a single-use token, and when it expires (RFC 3339).
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct CodeIssued {
    code: String,
    expires_at: String,
}

/// A single-use token `<user>.<secret>` and when it expires (RFC 3339).
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct TokenIssued {
    token: String,
    expires_at: String,
}

/// `{"activated_at": "…"}`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct Activated {
    activated_at: String,
}

/// How many tokens were revoked.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct Revoked {
    revoked: u64,
}

/// How many sessions were removed (`true` for a single session).
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct RemovedCount {
    #[schema(value_type = Object)]
    removed: Value,
}

/// The owner of a valid single-use token.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct TokenOwner {
    user_id: String,
    /// `allowed` or `denied`.
    status: String,
    roles: Vec<String>,
}

/// A new session: its secret id (shown only here) and the session.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct SessionCreated {
    /// The session's secret id, for `/api/sessions/{id}`; listings never show it.
    session_id: String,
    session_ref: String,
    user_id: String,
    permissions: Vec<String>,
    metadata: Option<Object>,
    created_at: String,
    expires_at: String,
    ttl_remaining: i64,
}

/// Each asked permission and whether the session grants it, e.g. `{"read": true, "delete": false}`.
#[derive(ToSchema)]
#[schema(value_type = std::collections::BTreeMap<String, bool>)]
#[expect(dead_code, reason = "a schema for the document only")]
pub(super) struct PermissionAnswers(Value);
