//! Users: `PUT|GET|DELETE /api/users/{user}`, `GET /api/users`, sensitive changes, activation codes, the request
//! history, and the per-user token and session endpoints.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{optional_time, time, ApiQuery, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::openapi::{
    Activated, CodeIssued, Envelope, Failure, RemovedCount, Revoked, SensitiveChanged, TokenIssued,
    UserSaved,
};
use super::sessions::SessionView;
use super::views::Removed;
use super::{ApiResult, AppState};
use crate::service::{Page, QuotasInput, UserInput};
use warden_core::domain::NameKind;
use warden_core::domain::TenantScope;
use warden_store::{RequestRecord, UserRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, put_user, delete_user))
        .routes(routes!(sensitive_change))
        .routes(routes!(issue_activation))
        .routes(routes!(activate))
        .routes(routes!(requests))
        .routes(routes!(issue_token, revoke_tokens))
        .routes(routes!(user_sessions, delete_user_sessions))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct QuotasBody {
    requests_per_hour: Option<i64>,
    requests_per_day: Option<i64>,
    random_shift_minutes: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UserBody {
    status: String,
    enabled: Option<bool>,
    profile: Option<Value>,
    quotas: Option<QuotasBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TtlBody {
    ttl_minutes: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotasView {
    requests_per_hour: Option<i64>,
    requests_per_day: Option<i64>,
    random_shift_minutes: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserView {
    user_id: String,
    uuid: String,
    status: String,
    enabled: bool,
    profile: Value,
    quotas: QuotasView,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    /// The end of the request limit in force, if one is.
    rate_limits: Option<String>,
    created_at: String,
    updated_at: String,
    last_seen_at: Option<String>,
    activated_at: Option<String>,
    sensitive_changed_at: String,
}

fn user_view(record: UserRecord, roles: Option<Vec<String>>) -> UserView {
    let now = chrono::Utc::now().timestamp_millis();
    UserView {
        user_id: record.user_name,
        uuid: record.uuid,
        status: record.status.as_str().to_owned(),
        enabled: record.enabled,
        // Stored by us as a JSON object; an unreadable one would be a bug, shown as an empty object.
        profile: serde_json::from_str(&record.profile).unwrap_or_else(|_| json!({})),
        quotas: QuotasView {
            requests_per_hour: record.requests_per_hour,
            requests_per_day: record.requests_per_day,
            random_shift_minutes: record.random_shift_minutes,
        },
        roles,
        rate_limits: optional_time(record.rate_limited_until.filter(|&end| end > now)),
        created_at: time(record.created_at),
        updated_at: time(record.updated_at),
        last_seen_at: optional_time(record.last_seen_at),
        activated_at: optional_time(record.activated_at),
        sensitive_changed_at: time(record.sensitive_changed_at),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct RequestView {
    id: i64,
    chat_id: Option<String>,
    message_id: Option<String>,
    role_id: Option<String>,
    access: String,
    permissions: Option<String>,
    rate_limits: Option<String>,
    created_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct PageView<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

fn page<R, T>(page: Page<R>, f: impl Fn(R) -> T) -> PageView<T> {
    PageView {
        items: page.items.into_iter().map(f).collect(),
        next_cursor: page.next_cursor,
    }
}

#[utoipa::path(
    put,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    request_body = UserBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "created or replaced (a status or enabled change is a sensitive change)", body = Envelope<UserSaved>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn put_user(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    RequiredJson(body): RequiredJson<UserBody>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let input = UserInput {
        status: body.status,
        enabled: body.enabled,
        profile: body.profile,
        quotas: body.quotas.map(|q| QuotasInput {
            requests_per_hour: q.requests_per_hour,
            requests_per_day: q.requests_per_day,
            random_shift_minutes: q.random_shift_minutes,
        }),
    };
    let (created, record) = state
        .users
        .put_user(&tenant, &context, &user, input)
        .await?;
    let message = if created {
        "user created"
    } else {
        "user updated"
    };
    Ok(ok(
        message,
        json!({ "created": created, "user": user_view(record, None) }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user with `roles` from memberships; 404 when unknown", body = Envelope<UserView>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let (record, roles) = state.users.get_user(&tenant, &user).await?;
    Ok(ok("user found", user_view(record, Some(roles))))
}

#[utoipa::path(
    get,
    path = "/api/users",
    tag = "users",
    params(ListQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "users in name order", body = Envelope<PageView<UserView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult {
    let users = state
        .users
        .list_users(
            &tenant,
            query.status.as_deref(),
            query.limit,
            query.cursor.as_deref(),
        )
        .await?;
    Ok(ok("users listed", page(users, |u| user_view(u, None))))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "deleted with memberships, tokens, activation code, sessions and history", body = Envelope<Removed>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn delete_user(
    State(state): State<AppState>,
    Tenant(scope): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let (removed, revision) = state.users.delete_user(&scope.id, &context, &user).await?;
    // The user's memberships are gone: bring this instance's model up to date before answering.
    state.rbac.observed(&scope.id, revision).await;
    let message = if removed {
        "user removed"
    } else {
        "user did not exist"
    };
    Ok(ok(message, Removed { removed, revision }))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/sensitive-change",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every token and session issued so far is void", body = Envelope<SensitiveChanged>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn sensitive_change(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let at = state
        .users
        .sensitive_change(&tenant, &context, &user)
        .await?;
    Ok(ok(
        "sensitive change recorded",
        json!({ "sensitive_changed_at": time(at) }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/activation",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    request_body(content = Option<TtlBody>, content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a new one-time activation code, replacing the old one", body = Envelope<CodeIssued>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn issue_activation(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    OptionalJson(body): OptionalJson<TtlBody>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let ttl = body.and_then(|b| b.ttl_minutes);
    let (code, expires_at) = state
        .users
        .issue_activation_code(&tenant, &context, &user, ttl)
        .await?;
    Ok(ok(
        "activation code issued",
        json!({ "code": code, "expires_at": time(expires_at) }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/activate",
    tag = "users",
    params(("user" = String, Path, description = "user name")),
    request_body = CodeBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "activated; any wrong, expired or used code is the same 400", body = Envelope<Activated>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn activate(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    RequiredJson(body): RequiredJson<CodeBody>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let at = state
        .users
        .activate(&tenant, &context, &user, &body.code)
        .await?;
    Ok(ok("user activated", json!({ "activated_at": time(at) })))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}/requests",
    tag = "users",
    params(("user" = String, Path, description = "user name"), PageQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's access-check history, newest first", body = Envelope<PageView<RequestView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn requests(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let history = state
        .users
        .requests(&tenant, &user, query.limit, query.cursor.as_deref())
        .await?;
    Ok(ok(
        "requests listed",
        page(history, |r: RequestRecord| RequestView {
            id: r.id,
            chat_id: r.chat_id,
            message_id: r.message_id,
            role_id: r.role_id,
            access: r.access,
            permissions: r.permissions,
            rate_limits: optional_time(r.rate_limited_until),
            created_at: time(r.created_at),
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/tokens",
    tag = "tokens",
    params(("user" = String, Path, description = "user name")),
    request_body(content = Option<TtlBody>, content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a single-use token", body = Envelope<TokenIssued>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn issue_token(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    OptionalJson(body): OptionalJson<TtlBody>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let ttl = body.and_then(|b| b.ttl_minutes);
    let (token, expires_at) = state
        .users
        .issue_token(&tenant, &context, &user, ttl)
        .await?;
    Ok(ok(
        "token issued",
        json!({ "token": token, "expires_at": time(expires_at) }),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/tokens",
    tag = "tokens",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every unused token revoked", body = Envelope<Revoked>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn revoke_tokens(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let revoked = state.users.revoke_tokens(&tenant, &context, &user).await?;
    Ok(ok("tokens revoked", json!({ "revoked": revoked })))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}/sessions",
    tag = "sessions",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's live sessions (without ids)", body = Envelope<Vec<SessionView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn user_sessions(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let sessions = state.sessions.user_sessions(&tenant, &user).await?;
    let views: Vec<SessionView> = sessions.into_iter().map(SessionView::from).collect();
    Ok(ok("sessions listed", views))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/sessions",
    tag = "sessions",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "log out everywhere", body = Envelope<RemovedCount>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
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
    Ok(ok("sessions removed", json!({ "removed": removed })))
}
