//! Read-only questions: who can do what, and the listings around it.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant};
use super::openapi::{Envelope, Failure};
use super::views::{self, HasPermission, PermissionView, RoleView, UserView};
use super::{ApiResult, AppState};
use crate::domain::NameKind;
use crate::metrics::Check;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(has_permission))
        .routes(routes!(user_permissions))
        .routes(routes!(user_roles))
        .routes(routes!(role_permissions))
        .routes(routes!(members))
        .routes(routes!(which_roles_can))
        .routes(routes!(which_users_can))
}

#[utoipa::path(
    get,
    path = "/api/has_permission/{user}/{name}",
    tag = "checks",
    params(("user" = String, Path, description = "user name"), ("name" = String, Path, description = "permission name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether any of the user's roles grants it", body = Envelope<HasPermission>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, permission)): ApiPath<(String, String)>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let permission = name(NameKind::Permission, &permission)?;
    let has_permission = state
        .rbac
        .user_has_permission(
            &tenant,
            &context,
            &user,
            &permission,
            consistency.min_revision,
        )
        .await?;
    state
        .metrics
        .decision(Check::UserPermission, has_permission);
    Ok(ok("permission checked", HasPermission { has_permission }))
}

#[utoipa::path(
    get,
    path = "/api/user_permissions/{user}",
    tag = "checks",
    params(("user" = String, Path, description = "user name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's permissions, sorted", body = Envelope<Vec<PermissionView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn user_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let permissions = state
        .rbac
        .user_permissions(&tenant, &user, consistency.min_revision)
        .await?;
    Ok(ok(
        "user permissions listed",
        views::permissions(permissions),
    ))
}

#[utoipa::path(
    get,
    path = "/api/user_roles/{user}",
    tag = "checks",
    params(("user" = String, Path, description = "user name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's roles, sorted", body = Envelope<Vec<RoleView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn user_roles(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let roles = state
        .rbac
        .user_roles(&tenant, &user, consistency.min_revision)
        .await?;
    Ok(ok("user roles listed", views::roles(roles)))
}

#[utoipa::path(
    get,
    path = "/api/role_permissions/{role}",
    tag = "checks",
    params(("role" = String, Path, description = "role name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the role's permissions, sorted", body = Envelope<Vec<PermissionView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn role_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let permissions = state
        .rbac
        .role_permissions(&tenant, &role, consistency.min_revision)
        .await?;
    Ok(ok(
        "role permissions listed",
        views::permissions(permissions),
    ))
}

#[utoipa::path(
    get,
    path = "/api/members/{role}",
    tag = "checks",
    params(("role" = String, Path, description = "role name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the role's members, sorted", body = Envelope<Vec<UserView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn members(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let members = state
        .rbac
        .role_members(&tenant, &role, consistency.min_revision)
        .await?;
    Ok(ok("role members listed", views::users(members)))
}

#[utoipa::path(
    get,
    path = "/api/which_roles_can/{name}",
    tag = "checks",
    params(("name" = String, Path, description = "permission name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "roles granting the permission", body = Envelope<Vec<RoleView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn which_roles_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let roles = state
        .rbac
        .which_roles_can(&tenant, &permission, consistency.min_revision)
        .await?;
    Ok(ok("roles with permission listed", views::roles(roles)))
}

#[utoipa::path(
    get,
    path = "/api/which_users_can/{name}",
    tag = "checks",
    params(("name" = String, Path, description = "permission name"), ("min_revision" = Option<i64>, Query, description = "answer from a model at least this new (a `revision` from a write)")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "users holding the permission", body = Envelope<Vec<UserView>>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn which_users_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let users = state
        .rbac
        .which_users_can(&tenant, &permission, consistency.min_revision)
        .await?;
    Ok(ok("users with permission listed", views::users(users)))
}
