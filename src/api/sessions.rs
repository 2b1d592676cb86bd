//! Sessions with permission sets: `POST /api/sessions`, `GET|DELETE /api/sessions/{id}`, `…/check`, `…/ttl`,
//! `…/permissions`, `POST /api/sessions/cleanup`, and a user's sessions: `GET|DELETE /api/users/{user}/sessions`
//! and `DELETE /api/users/{user}/sessions/{session_ref}`.
//!
//! An unknown, expired, deleted or voided session id answers 404 `session not found`, all alike.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, Tenant};
use super::{ApiResult, AppState};
use crate::service::{Session, SessionInput};
use warden_api::Name as WireName;
use warden_api::{
    Envelope, Failures, NewSession, PermissionAnswers, RemovedCount, Session as SessionView,
    SessionCreated, SessionEnded, SessionPermissions, SessionTtl,
};
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
        .routes(routes!(user_sessions, delete_user_sessions))
        .routes(routes!(delete_session_by_ref))
}

fn session_view(s: Session) -> SessionView {
    let now = chrono::Utc::now().timestamp_millis();
    SessionView {
        session_ref: s.session_ref,
        user_id: s.user,
        permissions: s.permissions,
        metadata: s.metadata,
        created_at: time(s.created_at),
        expires_at: time(s.expires_at),
        ttl_remaining: ((s.expires_at - now) / 1000).max(0),
    }
}

#[utoipa::path(
    post,
    path = "/api/sessions",
    tag = "sessions",
    request_body = NewSession,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session, with its secret `session_id`", body = Envelope<SessionCreated>),
        Failures,
    )
)]
async fn create(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<NewSession>,
) -> ApiResult {
    let input = SessionInput {
        user: name(NameKind::User, &body.user_id)?,
        id: body.session_id,
        permissions: body.permissions,
        ttl_seconds: body.ttl_seconds,
        metadata: body.metadata,
    };
    let (id, session) = state.sessions.create(&tenant, &context, input).await?;
    Ok(ok(
        "session created",
        SessionCreated {
            session_id: id,
            session: session_view(session),
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session; 404 when unknown, expired or voided", body = Envelope<SessionView>),
        Failures,
    )
)]
async fn show(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let session = state.sessions.get(&tenant, &context, &id).await?;
    Ok(ok("session found", session_view(session)))
}

#[utoipa::path(
    post,
    path = "/api/sessions/{id}/check",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    request_body = SessionPermissions,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "each asked permission and whether the session grants it (wildcards apply)", body = Envelope<PermissionAnswers>),
        Failures,
    )
)]
async fn check(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<SessionPermissions>,
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
    request_body = SessionTtl,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session, expiring that long from now", body = Envelope<SessionView>),
        Failures,
    )
)]
async fn set_ttl(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<SessionTtl>,
) -> ApiResult {
    let session = state
        .sessions
        .set_ttl(&tenant, &context, &id, body.ttl_seconds)
        .await?;
    Ok(ok("session ttl set", session_view(session)))
}

#[utoipa::path(
    put,
    path = "/api/sessions/{id}/permissions",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    request_body = SessionPermissions,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session with its new permissions", body = Envelope<SessionView>),
        Failures,
    )
)]
async fn set_permissions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
    RequiredJson(body): RequiredJson<SessionPermissions>,
) -> ApiResult {
    let session = state
        .sessions
        .set_permissions(&tenant, &context, &id, body.permissions)
        .await?;
    Ok(ok("session permissions set", session_view(session)))
}

#[utoipa::path(
    delete,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session ended", body = Envelope<SessionEnded>),
        Failures,
    )
)]
async fn remove(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.sessions.delete(&tenant, &context, &id).await?;
    Ok(ok("session removed", SessionEnded { removed: true }))
}

#[utoipa::path(
    post,
    path = "/api/sessions/cleanup",
    tag = "sessions",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "expired or voided sessions of this tenant removed", body = Envelope<RemovedCount>),
        Failures,
    )
)]
async fn cleanup(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
) -> ApiResult {
    let removed = state.sessions.cleanup(&tenant, &context).await?;
    Ok(ok("expired sessions removed", RemovedCount { removed }))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}/sessions",
    tag = "sessions",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's live sessions (without ids)", body = Envelope<Vec<SessionView>>),
        Failures,
    )
)]
async fn user_sessions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let sessions = state.sessions.user_sessions(&tenant, &user).await?;
    let views: Vec<SessionView> = sessions.into_iter().map(session_view).collect();
    Ok(ok("sessions listed", views))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/sessions",
    tag = "sessions",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "log out everywhere; `removed` counts the sessions", body = Envelope<RemovedCount>),
        Failures,
    )
)]
async fn delete_user_sessions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let removed = state
        .sessions
        .delete_user_sessions(&tenant, &context, &user)
        .await?;
    Ok(ok("sessions removed", RemovedCount { removed }))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/sessions/{session_ref}",
    tag = "sessions",
    params(
        ("user" = WireName, Path, description = "user name"),
        ("session_ref" = String, Path, description = "the session's `session_ref`, as the user's listing shows it"),
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the session ended; 404 when the user has no live session with that ref", body = Envelope<SessionEnded>),
        Failures,
    )
)]
async fn delete_session_by_ref(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath((user, session_ref)): ApiPath<(String, String)>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    state
        .sessions
        .delete_by_ref(&tenant, &context, &user, &session_ref)
        .await?;
    Ok(ok("session removed", SessionEnded { removed: true }))
}
