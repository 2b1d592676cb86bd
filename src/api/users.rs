//! Users: `PUT|GET|DELETE /api/users/{user}`, `GET /api/users` and sensitive changes. (Activation, access
//! checks with their history, single-use tokens and a user's sessions each have their own module.)

use axum::extract::State;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{optional_time, page, time, ApiQuery, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, Tenant};
use super::{ApiError, ApiResult, AppState};
use crate::service::{QuotasInput, UserInput};
use warden_api::Name as WireName;
use warden_api::{
    Envelope, Failures, Page, Quotas, Removed, SensitiveChanged, User, UserBody, UserListQuery,
    UserSaved,
};
use warden_core::domain::{Name, NameKind, TenantScope};
use warden_store::UserRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, put_user, delete_user))
        .routes(routes!(sensitive_change))
}

fn user_view(record: UserRecord, roles: Option<Vec<String>>) -> User {
    let now = chrono::Utc::now().timestamp_millis();
    User {
        user_id: record.user_name,
        uuid: record.uuid,
        status: super::accounts::wire_status(record.status),
        enabled: record.enabled,
        // Stored by us as a JSON object; an unreadable one would be a bug, shown as an empty object.
        profile: serde_json::from_str(&record.profile).unwrap_or_else(|_| json!({})),
        quotas: Quotas {
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
        has_password: record.has_password,
        last_login_at: optional_time(record.last_login_at),
        last_login_ip: record.last_login_ip,
    }
}

#[utoipa::path(
    put,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    request_body = UserBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "created or replaced (a status or enabled change is a sensitive change)", body = Envelope<UserSaved>),
        Failures,
    )
)]
async fn put_user(
    State(state): State<AppState>,
    Tenant(scope): Tenant,
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
            random_shift_minutes: Some(q.random_shift_minutes),
        }),
    };
    let (created, record) = state
        .users
        .put_user(&scope.id, &context, &user, input)
        .await?;
    // A status change voids the user's API keys, which strict users holds in the model.
    state.rbac.refresh(&scope).await;
    let message = if created {
        "user created"
    } else {
        "user updated"
    };
    Ok(ok(
        message,
        UserSaved {
            created,
            user: user_view(record, None),
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user with `roles` from memberships; 404 when unknown", body = Envelope<User>),
        Failures,
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
    params(UserListQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "users in name order", body = Envelope<Page<User>>),
        Failures,
    )
)]
async fn list_users(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> ApiResult {
    // The cursor is the last name of the previous page: anything longer than a name is not one.
    if query
        .cursor
        .as_ref()
        .is_some_and(|c| c.len() > Name::MAX_LEN)
    {
        return Err(ApiError::bad_request(
            "`cursor` is not a cursor this listing returned",
        ));
    }
    let users = state
        .users
        .list_users(
            &tenant,
            query.status.as_deref(),
            query.limit.map(i64::from),
            query.cursor.as_deref(),
        )
        .await?;
    Ok(ok("users listed", page(users, |u| user_view(u, None))))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "deleted with memberships, tokens, activation code, sessions and history", body = Envelope<Removed>),
        Failures,
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
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every token and session issued so far is void", body = Envelope<SensitiveChanged>),
        Failures,
    )
)]
async fn sensitive_change(
    State(state): State<AppState>,
    Tenant(scope): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let at = state
        .users
        .sensitive_change(&scope.id, &context, &user)
        .await?;
    state.rbac.refresh(&scope).await;
    Ok(ok(
        "sensitive change recorded",
        SensitiveChanged {
            sensitive_changed_at: time(at),
        },
    ))
}
