//! Sessions with permission sets: `POST /api/sessions`, `GET|DELETE /api/sessions/{id}`, `…/check`, `…/ttl`,
//! `…/permissions` and `POST /api/sessions/cleanup`. (Per-user listing and log-out live under `/api/users`.)
//!
//! An unknown, expired, deleted or voided session id answers 404 `session not found`, all alike.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::accounts::{time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Tenant};
use super::{ApiResult, AppState};
use crate::domain::NameKind;
use crate::domain::TenantScope;
use crate::service::{Session, SessionInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", post(create))
        .route("/api/sessions/cleanup", post(cleanup))
        .route("/api/sessions/{id}", get(show).delete(remove))
        .route("/api/sessions/{id}/check", post(check))
        .route("/api/sessions/{id}/ttl", put(set_ttl))
        .route("/api/sessions/{id}/permissions", put(set_permissions))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    user_id: String,
    permissions: Vec<String>,
    ttl_seconds: Option<i64>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsBody {
    permissions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TtlBody {
    ttl_seconds: Option<i64>,
}

/// A session as shown: never its id, only its public `session_ref`.
#[derive(Serialize)]
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

async fn create(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    RequiredJson(body): RequiredJson<CreateBody>,
) -> ApiResult {
    let input = SessionInput {
        user: name(NameKind::User, &body.user_id)?,
        permissions: body.permissions,
        ttl_seconds: body.ttl_seconds,
        metadata: body.metadata,
    };
    let (id, session) = state.sessions.create(&tenant, input).await?;
    let mut view = serde_json::to_value(SessionView::from(session)).unwrap_or_default();
    view["session_id"] = json!(id);
    Ok(ok("session created", view))
}

async fn show(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let session = state.sessions.get(&tenant, &id).await?;
    Ok(ok("session found", SessionView::from(session)))
}

async fn check(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<PermissionsBody>,
) -> ApiResult {
    let answers = state.sessions.check(&tenant, &id, body.permissions).await?;
    Ok(ok("permissions checked", answers))
}

async fn set_ttl(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<TtlBody>,
) -> ApiResult {
    let session = state
        .sessions
        .set_ttl(&tenant, &id, body.ttl_seconds)
        .await?;
    Ok(ok("session ttl set", SessionView::from(session)))
}

async fn set_permissions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<PermissionsBody>,
) -> ApiResult {
    let session = state
        .sessions
        .set_permissions(&tenant, &id, body.permissions)
        .await?;
    Ok(ok("session permissions set", SessionView::from(session)))
}

async fn remove(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.sessions.delete(&tenant, &id).await?;
    Ok(ok("session removed", json!({ "removed": true })))
}

async fn cleanup(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
) -> ApiResult {
    let removed = state.sessions.cleanup(&tenant).await?;
    Ok(ok(
        "expired sessions removed",
        json!({ "removed": removed }),
    ))
}
