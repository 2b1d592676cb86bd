//! Sessions with permission sets: `POST /api/sessions`, `GET|DELETE /api/sessions/{id}`, `…/check`, `…/ttl`,
//! `…/permissions` and `POST /api/sessions/cleanup`. (Per-user listing and log-out live under `/api/users`.)
//!
//! An unknown, expired, deleted or voided session id answers 404 `session not found`, all alike.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, Tenant};
use super::openapi::{Envelope, Failure, PermissionAnswers, RemovedCount, SessionCreated};
use super::{ApiResult, AppState};
use crate::service::{Session, SessionInput};
use warden_core::domain::NameKind;
use warden_core::domain::TenantScope;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(cleanup))
        .routes(routes!(show, remove))
        .routes(routes!(check))
        .routes(routes!(set_ttl))
        .routes(routes!(set_permissions))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    user_id: String,
    permissions: Vec<String>,
    ttl_seconds: Option<i64>,
    metadata: Option<Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PermissionsBody {
    permissions: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SessionTtlBody)]
#[serde(deny_unknown_fields)]
struct TtlBody {
    ttl_seconds: Option<i64>,
}

/// A session as shown: never its id, only its public `session_ref`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    session_ref: String,
    user_id: String,
    permissions: Vec<String>,
    metadata: Option<Value>,
    created_at: String,
    expires_at: String,
    /// Whole seconds left, rounded down.
    ttl_remaining: i64,
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        let now = chrono::Utc::now().timestamp_millis();
        Self {
            session_ref: s.session_ref,
            user_id: s.user,
            permissions: s.permissions,
            metadata: s.metadata,
            created_at: time(s.created_at),
            expires_at: time(s.expires_at),
            ttl_remaining: ((s.expires_at - now) / 1000).max(0),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/sessions",
    tag = "sessions",
    request_body = CreateBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session, with its secret `session_id`", body = Envelope<SessionCreated>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn create(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<CreateBody>,
) -> ApiResult {
    let input = SessionInput {
        user: name(NameKind::User, &body.user_id)?,
        permissions: body.permissions,
        ttl_seconds: body.ttl_seconds,
        metadata: body.metadata,
    };
    let (id, session) = state.sessions.create(&tenant, &context, input).await?;
    let mut view = serde_json::to_value(SessionView::from(session)).unwrap_or_default();
    view["session_id"] = json!(id);
    Ok(ok("session created", view))
}

#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session; 404 when unknown, expired or voided", body = Envelope<SessionView>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn show(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let session = state.sessions.get(&tenant, &context, &id).await?;
    Ok(ok("session found", SessionView::from(session)))
}

#[utoipa::path(
    post,
    path = "/api/sessions/{id}/check",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    request_body = PermissionsBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "each asked permission and whether the session grants it (wildcards apply)", body = Envelope<PermissionAnswers>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn check(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<PermissionsBody>,
) -> ApiResult {
    let answers = state
        .sessions
        .check(&tenant, &context, &id, body.permissions)
        .await?;
    Ok(ok("permissions checked", answers))
}

#[utoipa::path(
    put,
    path = "/api/sessions/{id}/ttl",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    request_body = TtlBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session, expiring that long from now", body = Envelope<SessionView>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn set_ttl(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<TtlBody>,
) -> ApiResult {
    let session = state
        .sessions
        .set_ttl(&tenant, &context, &id, body.ttl_seconds)
        .await?;
    Ok(ok("session ttl set", SessionView::from(session)))
}

#[utoipa::path(
    put,
    path = "/api/sessions/{id}/permissions",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    request_body = PermissionsBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session with its new permissions", body = Envelope<SessionView>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn set_permissions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<PermissionsBody>,
) -> ApiResult {
    let session = state
        .sessions
        .set_permissions(&tenant, &context, &id, body.permissions)
        .await?;
    Ok(ok("session permissions set", SessionView::from(session)))
}

#[utoipa::path(
    delete,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session ended", body = Envelope<RemovedCount>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn remove(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.sessions.delete(&tenant, &context, &id).await?;
    Ok(ok("session removed", json!({ "removed": true })))
}

#[utoipa::path(
    post,
    path = "/api/sessions/cleanup",
    tag = "sessions",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "expired or voided sessions of this tenant removed", body = Envelope<RemovedCount>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn cleanup(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
) -> ApiResult {
    let removed = state.sessions.cleanup(&tenant, &context).await?;
    Ok(ok(
        "expired sessions removed",
        json!({ "removed": removed }),
    ))
}
